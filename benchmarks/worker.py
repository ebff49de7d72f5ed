"""One measurement in a fresh process: ``python -m benchmarks.worker < task.json``.

A task is a JSON object with ``task`` (``build``, ``latency``, ``analyzer`` or
``relevance``) and ``engine`` (an :class:`~benchmarks.engines.EngineSpec`);
the result is one JSON object on stdout. Each build runs in its own process so
that its peak RSS is its own. Every task checks what it measured and lists
what went wrong in ``"errors"``: a broken engine cannot look fast.
"""

from __future__ import annotations

import gc
import json
import resource
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from benchmarks.engines import Engine, EngineSpec, SearchlibEngine, folder_size, make_engine
from benchmarks.stats import percentile
from searchlib import Document

MAX_ERRORS = 20
"""Errors kept per task (the count is always complete)."""


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far, in MB (Linux: ru_maxrss is KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def summarize(ms: list[float]) -> dict[str, float]:
    """p50 / p95 / p99 / mean of latencies in milliseconds."""
    return {
        "p50": percentile(ms, 50),
        "p95": percentile(ms, 95),
        "p99": percentile(ms, 99),
        "mean": statistics.fmean(ms) if ms else float("nan"),
    }


class Errors:
    """Counts failed checks and keeps the first few messages."""

    def __init__(self) -> None:
        self.count = 0
        self.messages: list[str] = []

    def add(self, message: str) -> None:
        """Record one failed check."""
        self.count += 1
        if len(self.messages) < MAX_ERRORS:
            self.messages.append(message)

    def to_json(self) -> dict[str, Any]:
        """``{"count", "messages"}``."""
        return {"count": self.count, "messages": self.messages}


# -- tasks ------------------------------------------------------------------------------------


def cpu_seconds() -> float:
    """CPU time (user + system) of this process and of its children that ended."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _checked_build(engine: Engine, docs: list[Document], path: Path) -> tuple[float, float, Errors]:
    """Seconds and CPU seconds (helper processes included) ``engine`` takes to
    index ``docs`` into ``path``; an error if any went missing."""
    t0, c0 = time.perf_counter(), cpu_seconds()
    count = engine.build(docs, path)
    seconds, cpu = time.perf_counter() - t0, cpu_seconds() - c0
    errors = Errors()
    if count != len(docs):
        errors.add(f"indexed {count} documents, expected {len(docs)}")
    return seconds, cpu, errors


def task_build(engine: Engine, task: dict[str, Any]) -> dict[str, Any]:
    """Time indexing a corpus; peak RSS, index size; check the document count."""
    from benchmarks.data import load_docs, text_bytes

    docs = load_docs(Path(task["corpus"]))
    size = text_bytes(docs)
    path = Path(task["index_dir"])
    gc.collect()
    rss_loaded = peak_rss_mb()
    seconds, cpu, errors = _checked_build(engine, docs, path)
    return {
        "docs": len(docs),
        "bytes": size,
        "seconds": seconds,
        "cpu_seconds": cpu,
        "docs_per_s": len(docs) / seconds,
        "mb_per_s": size / 1e6 / seconds,
        "rss_loaded_mb": rss_loaded,
        "peak_rss_mb": peak_rss_mb(),
        "index_bytes": folder_size(path),
        "errors": errors.to_json(),
    }


def _timed_pass(
    engine: Engine, queries: list[dict[str, Any]], highlight: bool, limit: int
) -> tuple[list[float], list[float], list[list[str]], list[int]]:
    """One pass over the queries: milliseconds (wall clock, then this process's
    CPU time), ranked ids, marked snippets per query."""
    times: list[float] = []
    cpu: list[float] = []
    ids: list[list[str]] = []
    marked: list[int] = []
    clock, cpu_clock = time.perf_counter, time.process_time
    for q in queries:
        c0, t0 = cpu_clock(), clock()
        hits = engine.search(q["text"], limit, highlight)
        t1, c1 = clock(), cpu_clock()
        times.append((t1 - t0) * 1000)
        cpu.append((c1 - c0) * 1000)
        ids.append([h.doc_id for h in hits])
        marked.append(sum(1 for h in hits if "<mark>" in h.snippet or "<b" in h.snippet))
    return times, cpu, ids, marked


class LatencySession:
    """Query latency with and without highlighting, checked against a warm-up pass.

    Made with the task (``index_dir``, ``queries``, ``limit``), it opens the
    engine and runs one warm-up pass per mode; each :meth:`timed` call is one
    timed pass of a mode; :meth:`result` closes the engine and summarises.
    Each query's figure is its median over the passes, in wall-clock time
    (``p50``...) and in this process's CPU time (``cpu``: what the gates
    judge, as other processes on a shared machine do not count in it). An
    engine whose ``highlights`` attribute is false makes no snippets (bm25s):
    only its plain mode is timed, and the result says ``"highlight":
    {"skipped": ...}``. The result also lists when each timed pass began
    (``passes``: mode and Unix time), which shows how passes were interleaved.
    """

    def __init__(self, engine: Engine, task: dict[str, Any]) -> None:
        self.engine = engine
        engine.open(Path(task["index_dir"]))
        self.queries: list[dict[str, Any]] = task["queries"]
        self.limit = int(task.get("limit", 10))
        self.modes = {"plain": False, "highlight": True}
        if not getattr(engine, "highlights", True):
            del self.modes["highlight"]
        self.errors = Errors()
        self.expected: dict[str, list[list[str]]] = {}
        for mode, highlight in self.modes.items():
            _, _, self.expected[mode], marked = _timed_pass(
                engine, self.queries, highlight, self.limit
            )  # warm-up
            _check_warm_up(
                mode,
                self.queries,
                self.expected[mode],
                marked if highlight else None,
                self.limit,
                self.errors,
            )
        self.runs: dict[str, list[list[float]]] = {mode: [] for mode in self.modes}
        self.cpu_runs: dict[str, list[list[float]]] = {mode: [] for mode in self.modes}
        self.passes: list[tuple[str, float]] = []

    def timed(self, mode: str) -> None:
        """One timed pass of ``mode`` (``plain`` or ``highlight``), checked
        against the warm-up pass."""
        self.passes.append((mode, time.time()))
        times, cpu, ids_now, _ = _timed_pass(
            self.engine, self.queries, self.modes[mode], self.limit
        )
        self.runs[mode].append(times)
        self.cpu_runs[mode].append(cpu)
        for q, a, b in zip(self.queries, self.expected[mode], ids_now, strict=True):
            if a != b:
                self.errors.add(f"{mode}: results changed between passes for {q['text']!r}")

    def result(self) -> dict[str, Any]:
        """The engine closed; per mode, the summaries of the timed passes."""
        self.engine.close()
        out: dict[str, Any] = {"queries": len(self.queries)}
        for mode in self.modes:
            if not self.runs[mode]:
                continue
            per_query = [statistics.median(ts) for ts in zip(*self.runs[mode], strict=True)]
            per_query_cpu = [statistics.median(ts) for ts in zip(*self.cpu_runs[mode], strict=True)]
            by_kind: dict[str, list[float]] = {}
            for q, ms in zip(self.queries, per_query, strict=True):
                by_kind.setdefault(q["kind"], []).append(ms)
            out[mode] = summarize(per_query) | {
                "cpu": summarize(per_query_cpu),
                "by_kind": {k: percentile(v, 50) for k, v in sorted(by_kind.items())},
                "answered": sum(1 for ids in self.expected[mode] if ids),
            }
        if "highlight" not in self.modes:
            out["highlight"] = {"skipped": "the engine makes no snippets"}
        out["passes"] = [list(p) for p in self.passes]
        out["errors"] = self.errors.to_json()
        return out


def task_latency(engine: Engine, task: dict[str, Any]) -> dict[str, Any]:
    """A :class:`LatencySession` of ``repeats`` passes per mode, the two modes
    alternating pass by pass (a change in machine load between passes weighs
    on both alike). :func:`latency_session` interleaves engines the same way."""
    session = LatencySession(engine, task)
    for _ in range(int(task.get("repeats", 3))):
        for mode in session.modes:
            session.timed(mode)
    return session.result()


def latency_session(lines: IO[str], out: IO[str]) -> None:
    """A :class:`LatencySession` driven line by line (``python -m
    benchmarks.worker --session``), so that a coordinator can interleave the
    passes of several engines, each in its own process: the first line is the
    task (as for ``latency``), answered with ``{"modes": [...]}`` once the
    warm-up passes are done; then each ``{"pass": mode}`` is answered with
    ``{"done": mode}``, and ``{"finish": true}`` with the result."""
    task = json.loads(lines.readline())
    session = LatencySession(make_engine(EngineSpec.from_json(task["engine"])), task)
    _reply(out, {"modes": list(session.modes)})
    for line in lines:
        order = json.loads(line)
        if order.get("finish"):
            _reply(out, session.result())
            return
        session.timed(order["pass"])
        _reply(out, {"done": order["pass"]})


def _reply(out: IO[str], message: dict[str, Any]) -> None:
    out.write(json.dumps(message) + "\n")
    out.flush()


def _check_warm_up(
    mode: str,
    queries: list[dict[str, Any]],
    ranked: list[list[str]],
    marked: list[int] | None,
    limit: int,
    errors: Errors,
) -> None:
    """Hits where the corpus guarantees some, no duplicates, marks in snippets."""
    for q, ids in zip(queries, ranked, strict=True):
        if q["expect_hits"] and not ids:
            errors.add(f"{mode}: no hit for {q['text']!r} (its words are in the corpus)")
        if len(ids) > limit or len(set(ids)) != len(ids):
            errors.add(f"{mode}: {len(ids)} hits, duplicates or over the limit for {q['text']!r}")
    if marked is not None:
        answered = sum(1 for ids in ranked if ids)
        with_marks = sum(1 for m in marked if m)
        if with_marks < 0.9 * answered:
            errors.add(f"only {with_marks} of {answered} answered queries have a marked snippet")


def task_analyzer(engine: Engine, task: dict[str, Any]) -> dict[str, Any]:
    """Analyzer throughput over the first ``max_bytes`` of a corpus."""
    from benchmarks.data import load_docs

    texts: list[str] = []
    size = 0
    for d in load_docs(Path(task["corpus"])):
        for t in (d.title, d.text):
            texts.append(t)
            size += len(t.encode())
        if size >= int(task["max_bytes"]):
            break
    errors = Errors()
    try:
        expected = sum(engine.count_tokens(t) for t in texts)  # warm-up
    except NotImplementedError as e:
        return {"skipped": str(e), "errors": errors.to_json()}
    seconds: list[float] = []
    for _ in range(int(task.get("repeats", 3))):
        t0 = time.perf_counter()
        tokens = sum(engine.count_tokens(t) for t in texts)
        seconds.append(time.perf_counter() - t0)
        if tokens != expected or tokens == 0:
            errors.add(f"{tokens} tokens, {expected} in the warm-up pass")
    best = statistics.median(seconds)
    return {
        "bytes": size,
        "tokens": expected,
        "seconds": best,
        "tokens_per_s": expected / best,
        "mb_per_s": size / 1e6 / best,
        "errors": errors.to_json(),
    }


def task_relevance(engine: Engine, task: dict[str, Any]) -> dict[str, Any]:
    """Index a collection (or its reduced corpus) and run its queries, top 100."""
    from benchmarks.data import load_docs, text_bytes

    docs = load_docs(Path(task["corpus"]))
    if task.get("doc_ids") is not None:
        keep = set(task["doc_ids"])
        docs = [d for d in docs if d.id in keep]
    path = Path(task["index_dir"])
    build_s, _, errors = _checked_build(engine, docs, path)
    engine.open(path)
    queries: list[tuple[str, str]] = [(q[0], q[1]) for q in task["queries"]]
    run: dict[str, list[str]] = {}
    times: list[float] = []
    search = _ranked_search(engine, errors)
    for qid, text in queries:
        t1 = time.perf_counter()
        run[qid] = search(qid, text)
        times.append((time.perf_counter() - t1) * 1000)
    engine.close()
    if queries and sum(1 for ids in run.values() if ids) < 0.5 * len(queries):
        errors.add("fewer than half of the queries found anything")
    return {
        "docs": len(docs),
        "bytes": text_bytes(docs),
        "build_s": build_s,
        "query_ms": summarize(times),
        "run": run,
        "errors": errors.to_json(),
    }


def _ranked_search(engine: Engine, errors: Errors) -> Callable[[str, str], list[str]]:
    """Top-100 document ids for a query; searchlib goes through searchlib.app.evaluate."""
    if isinstance(engine, SearchlibEngine) and set(engine.options) <= {"collapse"}:
        from searchlib.app.evaluate import run_queries

        index = engine.index()

        def via_evaluate(qid: str, text: str) -> list[str]:
            def report(qid: str, text: str, e: Exception) -> None:
                errors.add(f"query {qid} {text!r} failed: {e}")

            for _, ranked in run_queries(index, [(qid, text)], limit=100, on_error=report):
                return [d for d, _score in ranked]
            return []

        return via_evaluate

    def via_engine(qid: str, text: str) -> list[str]:
        return [h.doc_id for h in engine.search(text, 100, False)]

    return via_engine


TASKS: dict[str, Callable[[Engine, dict[str, Any]], dict[str, Any]]] = {
    "build": task_build,
    "latency": task_latency,
    "analyzer": task_analyzer,
    "relevance": task_relevance,
}


def main() -> int:
    """Read a task on stdin, write its result on stdout (``--session``: see
    :func:`latency_session`)."""
    if sys.argv[1:] == ["--session"]:
        latency_session(sys.stdin, sys.stdout)
        return 0
    task = json.load(sys.stdin)
    engine = make_engine(EngineSpec.from_json(task["engine"]))
    result = TASKS[task["task"]](engine, task)
    json.dump(result, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
