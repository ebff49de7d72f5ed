"""Run a benchmark: every measurement in a worker process, engines interleaved.

:func:`run` takes a :class:`Config` (``QUICK`` or ``FULL``, or your own) and a
list of :class:`~benchmarks.engines.EngineSpec`, and returns a JSON-ready
dict that :mod:`benchmarks.report` renders and :mod:`benchmarks.gates` judges.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import platform
import select
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks.data import (
    REPO,
    Collection,
    corpus_path,
    document_frequencies,
    latency_queries,
    load_collection,
    load_docs,
    text_bytes,
)
from benchmarks.engines import EngineSpec
from searchlib.app.evaluate import grouped_metrics, metrics

SECTIONS = ("build", "latency", "analyzer", "relevance")


@dataclass(frozen=True)
class Config:
    """What a run measures, and how much of it.

    Attributes:
        mode: a label (``quick``, ``full``...).
        corpus: corpus for build, latency and analyzer figures.
        build_repeats: builds per engine (each in a fresh process).
        latency_cdtn_queries: cdtn queries in the latency set (seeded sample).
        vocab_per_cell: latency queries per (band, word count) cell.
        repeats: timed passes over the latency queries, after one warm-up pass.
        analyzer_bytes: text the analyzers are timed on.
        analyzer_repeats: timed passes of the analyzers, after a warm-up pass.
        cdtn_queries: evaluated cdtn queries (``None``: all).
        cdtn_docs: reduce the cdtn corpus to this many documents (``None``: all).
        piaf_queries: evaluated piaf queries (``None``: all).
        seed: seed of every sample.
        jobs: relevance tasks run at once (timings of other sections are
            always taken one process at a time).
        sections: which of :data:`SECTIONS` to run.
    """

    mode: str
    corpus: str
    build_repeats: int
    latency_cdtn_queries: int
    vocab_per_cell: int
    repeats: int
    analyzer_bytes: int
    analyzer_repeats: int
    cdtn_queries: int | None
    cdtn_docs: int | None
    piaf_queries: int | None
    seed: int = 1
    jobs: int = 1
    sections: tuple[str, ...] = SECTIONS

    def replace(self, **changes: Any) -> Config:
        """A copy with some fields changed."""
        return dataclasses.replace(self, **changes)


QUICK = Config(
    mode="quick",
    corpus="fr-small",
    build_repeats=1,
    latency_cdtn_queries=60,
    vocab_per_cell=10,
    repeats=5,
    analyzer_bytes=500_000,
    analyzer_repeats=2,
    cdtn_queries=300,
    cdtn_docs=4000,
    piaf_queries=500,
    jobs=2,
)
"""For CI: fr-small, samples of the relevance sets, a reduced cdtn corpus."""

FULL = Config(
    mode="full",
    corpus="fr-medium",
    build_repeats=3,
    latency_cdtn_queries=200,
    vocab_per_cell=20,
    repeats=3,
    analyzer_bytes=3_000_000,
    analyzer_repeats=3,
    cdtn_queries=None,
    cdtn_docs=None,
    piaf_queries=None,
)
"""For RESULTS.md: fr-medium, every query of both relevance sets, the whole corpora."""


def worker_env() -> dict[str, str]:
    """The environment of a worker process: this checkout first on its path,
    string hashing seeded."""
    env = dict(os.environ, PYTHONHASHSEED="0")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    return env


class WorkerError(RuntimeError):
    """A worker process failed."""


@dataclass
class Runner:
    """Runs worker tasks in fresh processes under a scratch folder."""

    scratch: Path
    log: Callable[[str], None] = field(default=lambda msg: print(msg, file=sys.stderr))
    timeout: float = 4 * 3600

    def task(self, task: dict[str, Any]) -> dict[str, Any]:
        """Run one task in a fresh ``python -m benchmarks.worker``."""
        proc = subprocess.run(
            [sys.executable, "-m", "benchmarks.worker"],
            input=json.dumps(task),
            capture_output=True,
            text=True,
            cwd=REPO,
            env=worker_env(),
            timeout=self.timeout,
            check=False,
        )
        if proc.returncode != 0:
            tail = "\n".join(proc.stderr.strip().splitlines()[-5:])
            raise WorkerError(
                f"{task['task']} {task['engine']['name']}: exit {proc.returncode}\n{tail}"
            )
        result: dict[str, Any] = json.loads(proc.stdout)
        return result

    def safe_task(self, task: dict[str, Any]) -> dict[str, Any]:
        """:meth:`task`, a crash reported as an error result."""
        try:
            return self.task(task)
        except (WorkerError, subprocess.TimeoutExpired, ValueError) as e:
            self.log(f"  ! {e}")
            return {"errors": {"count": 1, "messages": [str(e)]}, "crashed": True}


def machine_info() -> dict[str, Any]:
    """CPU, memory, OS and library versions of this machine."""
    import sqlite3

    import whoosh

    import searchlib

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gb = None
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        mem_gb = round(kb / 1024 / 1024, 1)
    except (OSError, ValueError, IndexError):
        pass
    versions = {
        "searchlib": searchlib.__version__,
        "whoosh": whoosh.versionstring(),
        "sqlite": sqlite3.sqlite_version,
        "python": platform.python_version(),
    }
    from importlib.metadata import PackageNotFoundError, version

    for peer in ("tantivy", "bm25s"):
        try:
            versions[peer] = version(peer)
        except PackageNotFoundError:  # not installed: not benchmarked
            versions[peer] = None
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=REPO,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        commit = None
    versions["commit"] = commit
    return {
        "cpu": cpu,
        "python_loop_ns": python_loop_ns(),
        "cores": os.cpu_count(),
        "memory_gb": mem_gb,
        "os": platform.platform(),
        "load_avg": os.getloadavg(),
        "versions": versions,
    }


def python_loop_ns(n: int = 200_000, repeat: int = 5) -> float:
    """Nanoseconds per step of a plain Python loop (the fastest of ``repeat``
    runs): how fast this machine runs Python code, beside the native code of
    the peers. A ratio to a peer moves with it between machines (searchlib
    spends more of a search in Python than tantivy does)."""
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        total = 0
        for i in range(n):
            total += i
        best = min(best, time.perf_counter() - t0)
    return best / n * 1e9


def run(config: Config, specs: Sequence[EngineSpec], runner: Runner) -> dict[str, Any]:
    """Run every section of ``config`` for every engine; the results as a dict."""
    started = time.perf_counter()
    names = [s.name for s in specs]
    if len(set(names)) != len(names):
        raise ValueError(f"engine names must be unique: {names}")
    out: dict[str, Any] = {
        "meta": {
            "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "config": dataclasses.asdict(config),
            "machine": machine_info(),
        },
        "engines": [s.to_json() for s in specs],
    }
    corpus = corpus_path(config.corpus)
    needs_corpus = {"build", "latency", "analyzer"} & set(config.sections)
    if needs_corpus:
        docs = load_docs(corpus)
        out["corpus"] = {"name": config.corpus, "docs": len(docs), "bytes": text_bytes(docs)}
    if "build" in config.sections or "latency" in config.sections:
        out["build"] = run_builds(config, specs, corpus, runner)
    if "latency" in config.sections:
        df = document_frequencies(docs)
        queries = latency_queries(
            df, config.latency_cdtn_queries, config.vocab_per_cell, config.seed
        )
        out["latency_queries"] = {
            "count": len(queries),
            "cdtn": sum(1 for q in queries if q.kind == "cdtn"),
            "vocabulary": sum(1 for q in queries if q.kind != "cdtn"),
        }
        out["latency"] = run_latency(config, specs, queries, runner)
    if "analyzer" in config.sections:
        out["analyzer"] = {}
        for spec in specs:
            runner.log(f"analyzer {spec.name}")
            out["analyzer"][spec.name] = runner.safe_task(
                {
                    "task": "analyzer",
                    "engine": spec.to_json(),
                    "corpus": str(corpus),
                    "max_bytes": config.analyzer_bytes,
                    "repeats": config.analyzer_repeats,
                }
            )
    if "relevance" in config.sections:
        out["relevance"] = run_relevance(config, specs, runner)
    out["meta"]["wall_s"] = time.perf_counter() - started
    return out


def run_builds(
    config: Config, specs: Sequence[EngineSpec], corpus: Path, runner: Runner
) -> dict[str, Any]:
    """``build_repeats`` fresh-process builds per engine, interleaved; medians."""
    runs: dict[str, list[dict[str, Any]]] = {s.name: [] for s in specs}
    for rep in range(config.build_repeats):
        for spec in specs:
            runner.log(f"build {spec.name} ({rep + 1}/{config.build_repeats})")
            path = runner.scratch / "build" / spec.name
            shutil.rmtree(path, ignore_errors=True)
            runs[spec.name].append(
                runner.safe_task(
                    {
                        "task": "build",
                        "engine": spec.to_json(),
                        "corpus": str(corpus),
                        "index_dir": str(path),
                    }
                )
            )
    out: dict[str, Any] = {}
    for name, results in runs.items():
        ok = [r for r in results if not r.get("crashed")]
        summary: dict[str, Any] = {
            "runs": results,
            "index_dir": str(runner.scratch / "build" / name),
        }
        if ok:
            for key in (
                "seconds",
                "cpu_seconds",
                "docs_per_s",
                "mb_per_s",
                "peak_rss_mb",
                "rss_loaded_mb",
                "index_bytes",
            ):
                if all(key in r for r in ok):
                    summary[key] = statistics.median(r[key] for r in ok)
            summary["docs"], summary["bytes"] = ok[0]["docs"], ok[0]["bytes"]
        summary["errors"] = merge_errors(results)
        out[name] = summary
    return out


def run_latency(
    config: Config, specs: Sequence[EngineSpec], queries: Sequence[Any], runner: Runner
) -> dict[str, Any]:
    """Latency on the index each engine built last, every engine in a process
    of its own (:func:`benchmarks.worker.latency_session`), their passes
    interleaved: pass after pass, each engine in turn times one pass of a
    mode (the order reversed every other round), so that a change in the
    machine's load weighs on every engine alike."""
    out: dict[str, Any] = {}
    sessions: dict[str, _Session] = {}
    for spec in specs:
        runner.log(f"latency {spec.name}: warm-up ({len(queries)} queries)")
        task = {
            "engine": spec.to_json(),
            "index_dir": str(runner.scratch / "build" / spec.name),
            "queries": [q.to_json() for q in queries],
            "limit": 10,
        }
        try:
            sessions[spec.name] = _Session(task, runner)
        except WorkerError as e:
            runner.log(f"  ! {e}")
            out[spec.name] = _crashed(e)
    runner.log(f"latency: {config.repeats} passes per mode, engines interleaved")
    for rep in range(config.repeats):
        order = list(sessions) if rep % 2 == 0 else list(reversed(sessions))
        for mode in ("plain", "highlight"):
            for name in order:
                session = sessions.get(name)
                if session is None or mode not in session.modes:
                    continue
                try:
                    session.run(mode)
                except WorkerError as e:
                    runner.log(f"  ! {e}")
                    out[name] = _crashed(e)
                    del sessions[name]
    for name, session in sessions.items():
        try:
            out[name] = session.finish()
        except WorkerError as e:
            runner.log(f"  ! {e}")
            out[name] = _crashed(e)
    return {spec.name: out[spec.name] for spec in specs}


def _crashed(e: Exception) -> dict[str, Any]:
    return {"errors": {"count": 1, "messages": [str(e)]}, "crashed": True}


class _Session:
    """One engine's ``python -m benchmarks.worker --session`` (see
    :func:`benchmarks.worker.latency_session`): its warm-up done when made."""

    def __init__(self, task: dict[str, Any], runner: Runner) -> None:
        self.name = task["engine"]["name"]
        self.timeout = runner.timeout
        # Closed by finish() or stop(), once the worker is done with it.
        self.errors = tempfile.TemporaryFile()  # noqa: SIM115
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.worker", "--session"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.errors,
            text=True,
            cwd=REPO,
            env=worker_env(),
        )
        self.modes: list[str] = self._ask(task)["modes"]

    def run(self, mode: str) -> None:
        """One timed pass of ``mode``."""
        self._ask({"pass": mode})

    def finish(self) -> dict[str, Any]:
        """The worker's result; the worker ends."""
        result = self._ask({"finish": True})
        self.proc.wait(timeout=60)
        self._close()
        return result

    def _ask(self, message: dict[str, Any]) -> dict[str, Any]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        try:
            self.proc.stdin.write(json.dumps(message) + "\n")
            self.proc.stdin.flush()
            ready, _, _ = select.select([self.proc.stdout], [], [], self.timeout)
            line = self.proc.stdout.readline() if ready else ""
        except OSError:
            line = ""
        if not line:
            self.stop()
            raise WorkerError(f"latency {self.name}: {self._why()}")
        answer: dict[str, Any] = json.loads(line)
        return answer

    def _why(self) -> str:
        self.errors.seek(0)
        lines = self.errors.read().decode("utf-8", "replace").strip().splitlines()
        self._close()
        return "\n".join(lines[-5:]) or f"no answer (exit {self.proc.returncode})"

    def stop(self) -> None:
        """End the worker (it failed or stopped answering)."""
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=60)

    def _close(self) -> None:
        for stream in (self.proc.stdin, self.proc.stdout, self.errors):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()


def run_relevance(config: Config, specs: Sequence[EngineSpec], runner: Runner) -> dict[str, Any]:
    """Each engine on each collection; metrics computed here by searchlib.app.evaluate."""
    collections = [
        load_collection("cdtn", config.cdtn_queries, config.cdtn_docs, config.seed),
        load_collection("piaf", config.piaf_queries, None, config.seed),
    ]
    jobs = [(c, s) for c in collections for s in specs]

    def one(job: tuple[Collection, EngineSpec]) -> dict[str, Any]:
        coll, spec = job
        runner.log(f"relevance {coll.name} {spec.name} ({len(coll.queries)} queries)")
        path = runner.scratch / "relevance" / coll.name / spec.name
        shutil.rmtree(path, ignore_errors=True)
        result = runner.safe_task(
            {
                "task": "relevance",
                "engine": spec.to_json(),
                "corpus": str(coll.corpus),
                "doc_ids": coll.doc_ids,
                "queries": coll.queries,
                "index_dir": str(path),
            }
        )
        shutil.rmtree(path, ignore_errors=True)
        return result

    with ThreadPoolExecutor(max_workers=max(1, config.jobs)) as pool:
        results = list(pool.map(one, jobs))
    out: dict[str, Any] = {}
    for (coll, spec), result in zip(jobs, results, strict=True):
        entry = out.setdefault(coll.name, {"note": coll.note, "engines": {}})
        run_ = result.pop("run", None)
        if run_ is not None:
            qids = [q for q, _ in coll.queries]
            result["metrics"] = metrics(run_, coll.qrels, qids).as_dict()
            if coll.topics:
                sub = {q: run_[q] for q in qids}
                result["per_topic"] = grouped_metrics(sub, coll.qrels, coll.topics).as_dict()
        entry["engines"][spec.name] = result
    return out


def merge_errors(results: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Sum the error counts of several task results."""
    count = sum(int(r.get("errors", {}).get("count", 0)) for r in results)
    messages = [m for r in results for m in r.get("errors", {}).get("messages", [])]
    return {"count": count, "messages": messages[:20]}


def make_scratch(base: str | None) -> Path:
    """A fresh scratch folder for indexes (removed by the caller)."""
    if base:
        Path(base).mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix="searchlib-bench-", dir=base))
