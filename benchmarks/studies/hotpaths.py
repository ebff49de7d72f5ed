"""What acronym expansion, the learned reranker, facets and ``complete()`` cost, this
checkout against another version, in one run (issue 27, items 3, 4 and 7).

Two worker processes, one importing this checkout's searchlib and one another
checkout's (``--other``, for example a ``git worktree`` of ``main``), get the
same tasks alternately, in alternating order; each times its own work in CPU
seconds (the machine is shared) and returns what it found, which must agree
between the two (a faster wrong answer proves nothing). Reported per case:
p50 / p95 / p99 in ms (each task the median of ``--repeat`` runs) and, for a
feature, what it adds to the same search without it (the median over the
queries of the difference).

* ``acronyms``: the queries of ``--queries`` with a word the index defines as
  an acronym, top 10 without snippets, expansion on (the index's ranking)
  and off (``acronym_boost`` 0, set on the ``Index`` object only);
* ``learned``: a sample of the queries on an index with a learned model
  (``--learned-index``), top 10 without snippets, ``learned=True`` and ``False``;
* ``facets``: ``de`` (most passages) and a sample of the queries on an index
  with a keyword field ``source`` (``--fields-index``, as ``benchmarks/fields.py``
  builds it), top 10 and the counts per source, and the same search without them;
* ``first``: each of ``--first-sample`` queries as the first search of a newly
  opened index (top 10, no snippets; the index's files in the system's cache);
* ``complete``: on a newly opened index, the first call (``complete("co")``),
  then each prefix typed once (cold: its two-letter start may be new), then
  again (warm).

::

    git worktree add --detach /tmp/main main
    python -m benchmarks.studies.hotpaths --other /tmp/main --index /tmp/cdtn.index \\
        --learned-index /tmp/cdtn-learned.index --fields-index /tmp/cdtn-fields.index \\
        --queries ../shared/eval-public/cdtn-requetes/queries.jsonl
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO, Any

from benchmarks.studies.acronyms import expanded_queries
from benchmarks.studies.typos import completion_prefixes
from searchlib import Index
from searchlib.app.evaluate import load_queries

HERE = Path(__file__).resolve().parents[2]

WORKER = r"""
import dataclasses, json, sys, time
from searchlib import Index
from searchlib.fields import Facet
indexes = {}
def index(path, acronyms=True):
    key = (path, acronyms)
    if key not in indexes:
        ix = indexes[key] = Index.open(path)
        if not acronyms:
            ix.ranking = dataclasses.replace(ix.ranking, acronym_boost=0.0)  # not saved
    return indexes[key]
for line in sys.stdin:
    task = json.loads(line)
    op = task["op"]
    if op == "fresh":  # the next task opens the index anew
        old = indexes.pop((task["index"], True), None)
        if old is not None:
            old.close()
        print(json.dumps({"ms": 0.0, "found": None}), flush=True)
        continue
    ix = index(task["index"], task.get("acronyms", True))
    t0 = time.process_time()
    if op == "search":
        learned = task.get("learned", True)
        facets = [Facet(f) for f in task.get("facets", ())]
        res = ix.search(task["q"], limit=10, highlight_hits=False, learned=learned, facets=facets)
        found = [[h.id for h in res.hits], res.total, res.facets]
    else:
        found = [[c.query, c.frequency, c.matches] for c in ix.complete(task["q"])]
    ms = (time.process_time() - t0) * 1000
    print(json.dumps({"ms": ms, "found": found}), flush=True)
"""


class Worker:
    """One searchlib version in a process of its own."""

    def __init__(self, code: Path) -> None:
        env = dict(os.environ, PYTHONPATH=str(code))
        self.process = subprocess.Popen(
            [sys.executable, "-c", WORKER], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            text=True, env=env, cwd=code,
        )  # fmt: skip

    def run(self, task: dict[str, Any]) -> tuple[float, Any]:
        stdin: IO[str] | None = self.process.stdin
        stdout: IO[str] | None = self.process.stdout
        if stdin is None or stdout is None:
            raise RuntimeError("the worker has no pipes")
        stdin.write(json.dumps(task) + "\n")
        stdin.flush()
        answer = json.loads(stdout.readline())
        return float(answer["ms"]), answer["found"]

    def close(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        self.process.wait(timeout=60)


def _quantile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _summary(values: Sequence[float]) -> dict[str, float]:
    return {f"p{int(q * 100)}": round(_quantile(values, q), 3) for q in (0.5, 0.95, 0.99)}


def timed(
    sides: dict[str, Worker], tasks: Sequence[dict[str, Any]], repeat: int
) -> dict[str, list[float]]:
    """Each task's CPU ms per side (median of ``repeat`` runs, sides alternated);
    raises when the two sides find different things."""
    times: dict[str, list[float]] = {name: [] for name in sides}
    for n, task in enumerate(tasks):
        order = list(sides) if n % 2 == 0 else list(reversed(sides))
        runs: dict[str, list[float]] = {name: [] for name in sides}
        found: dict[str, Any] = {}
        for _ in range(repeat):
            for name in order:
                ms, found[name] = sides[name].run(task)
                runs[name].append(ms)
        if len({json.dumps(f) for f in found.values()}) != 1:
            raise AssertionError(f"the versions disagree on {task}: {found}")
        for name in sides:
            times[name].append(statistics.median(runs[name]))
    return times


def _feature(
    sides: dict[str, Worker],
    tasks: Sequence[dict[str, Any]],
    switch: Callable[[dict[str, Any]], dict[str, Any]],
    repeat: int,
) -> dict[str, Any]:
    """A feature's searches on each side, with it and without it (``switch``)."""
    warm = [*tasks[:20], *(switch(t) for t in tasks[:20])]
    timed(sides, warm, 1)
    on = timed(sides, tasks, repeat)
    off = timed(sides, [switch(t) for t in tasks], repeat)
    out: dict[str, Any] = {"queries": len(tasks)}
    for name in sides:
        added = [a - b for a, b in zip(on[name], off[name], strict=True)]
        out[name] = {
            "on": _summary(on[name]),
            "off": _summary(off[name]),
            "added p50": round(statistics.median(added), 3),
        }
    return out


def run(args: argparse.Namespace) -> dict[str, Any]:
    queries = [text for _, text in load_queries(args.queries)]
    sides = {"this": Worker(HERE), "other": Worker(Path(args.other))}
    result: dict[str, Any] = {"command": " ".join(sys.argv), "repeat": args.repeat}
    index = str(args.index)
    try:
        if "acronyms" in args.cases:
            with Index.open(args.index) as ix:
                pairs = [(str(i), q) for i, q in enumerate(queries)]
                hit = set(expanded_queries(ix, pairs, ix.ranking))
            chosen = [q for i, q in enumerate(queries) if str(i) in hit][: args.sample]
            tasks = [{"op": "search", "index": index, "q": q} for q in chosen]
            result["acronyms"] = _feature(
                sides, tasks, lambda t: {**t, "acronyms": False}, args.repeat
            )
            print(f"[hotpaths] acronyms: {result['acronyms']}", file=sys.stderr)
        if "learned" in args.cases and args.learned_index:
            step = max(1, len(queries) // args.sample)
            learned = str(args.learned_index)
            tasks = [{"op": "search", "index": learned, "q": q} for q in queries[::step]]
            result["learned"] = _feature(
                sides, tasks[: args.sample], lambda t: {**t, "learned": False}, args.repeat
            )
            print(f"[hotpaths] learned: {result['learned']}", file=sys.stderr)
        if "facets" in args.cases and args.fields_index:
            step = max(1, len(queries) // args.sample)
            fields = str(args.fields_index)
            tasks = [
                {"op": "search", "index": fields, "q": q, "facets": ["source"]}
                for q in ["de", *queries[::step]][: args.sample]
            ]
            result["facets"] = _feature(sides, tasks, lambda t: {**t, "facets": []}, args.repeat)
            print(f"[hotpaths] facets: {result['facets']}", file=sys.stderr)
        if "first" in args.cases:
            # Each query the first search of a newly opened index (its files in
            # the system's cache): what a one-shot ``searchlib search`` pays.
            step = max(1, len(queries) // args.first_sample)
            firsts: dict[str, list[float]] = {name: [] for name in sides}
            for q in queries[::step][: args.first_sample]:
                for worker in sides.values():
                    worker.run({"op": "fresh", "index": index})
                for name, ms in timed(sides, [{"op": "search", "index": index, "q": q}], 1).items():
                    firsts[name].extend(ms)
            result["first"] = {
                "queries": len(firsts["this"]),
                **{name: _summary(firsts[name]) for name in sides},
            }
            print(f"[hotpaths] first: {result['first']}", file=sys.stderr)
        if "complete" in args.cases:
            prefixes = completion_prefixes(list(load_queries(args.queries)))[: args.sample]
            fresh = str(args.complete_index or args.index)
            for worker in sides.values():
                worker.run({"op": "fresh", "index": fresh})
            first = timed(sides, [{"op": "complete", "index": fresh, "q": "co"}], 1)
            tasks = [{"op": "complete", "index": fresh, "q": p} for p in prefixes]
            cold = timed(sides, tasks, 1)
            warm = timed(sides, tasks, args.repeat)
            result["complete"] = {
                "prefixes": len(prefixes),
                **{
                    name: {
                        "first call": round(first[name][0], 3),
                        "cold": _summary(cold[name]),
                        "warm": _summary(warm[name]),
                    }
                    for name in sides
                },
            }
            print(f"[hotpaths] complete: {result['complete']}", file=sys.stderr)
    finally:
        for worker in sides.values():
            worker.close()
    return result


def main(argv: Sequence[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--other", required=True, help="a checkout of the other version")
    p.add_argument("--index", type=Path, required=True, help="an index both versions open")
    p.add_argument("--learned-index", type=Path, help="an index with a learned model")
    p.add_argument(
        "--fields-index", type=Path, help="an index with a keyword field 'source' (facets)"
    )
    p.add_argument("--complete-index", type=Path, help="index for complete() (default --index)")
    p.add_argument("--queries", type=Path, required=True, help="queries JSONL")
    p.add_argument("--sample", type=int, default=300, help="queries (prefixes) per case")
    p.add_argument("--repeat", type=int, default=3, help="runs per task and version")
    p.add_argument(
        "--first-sample", type=int, default=30, help="queries searched first on a fresh index"
    )
    p.add_argument(
        "--cases",
        nargs="+",
        default=["acronyms", "learned", "facets", "complete", "first"],
        help="what to time",
    )
    p.add_argument("--json", default="benchmarks/out/hotpaths.json", help="where the run is saved")
    args = p.parse_args(argv)
    result = run(args)
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(result, indent=1, ensure_ascii=False), encoding="utf-8")
    print(json.dumps(result, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
