"""This checkout's query latency against another version's, in one run.

Two worker processes open the same index, one importing this checkout's
searchlib and one another checkout's (``--other``: a folder holding a
``searchlib`` package, for example a ``git worktree`` of an earlier commit);
the driver sends them the same queries alternately, query by query and in
alternating order, so that both meet the same machine. Each worker times its
own ``Index.search(query, limit=10, highlight_hits=...)`` in CPU time (the
machine is shared: wall time counts the other jobs) and returns the hit
ids, which must agree between the two (a faster wrong answer proves nothing).

With several ``--index`` (the same documents' samples of growing size, for
example), the queries run without snippets on each in turn, query by query,
and the report adds each version's growth: its latency on each index divided
by its latency on the first (``--index`` given smallest first).

    git worktree add --detach /tmp/old b7f1d14
    python -m benchmarks.studies.versions --other /tmp/old --index /tmp/cdtn.index \\
        --queries ../shared/eval-public/cdtn-requetes/queries.jsonl --write-results
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO, Any

from benchmarks.results_file import run_or_render
from searchlib.app.evaluate import load_queries

HERE = Path(__file__).resolve().parents[2]

WORKER = r"""
import json, sys, time
from searchlib import Index
ix = Index.open(sys.argv[1])
for line in sys.stdin:
    task = json.loads(line)
    t0 = time.process_time()
    res = ix.search(task["q"], limit=10, highlight_hits=task["hl"], time_limit=None)
    ms = (time.process_time() - t0) * 1000
    print(json.dumps({"ms": ms, "ids": [h.id for h in res.hits]}), flush=True)
"""


class Worker:
    """One searchlib version in a process of its own."""

    def __init__(self, code: Path, index: Path) -> None:
        env = dict(os.environ, PYTHONPATH=str(code))
        self.process = subprocess.Popen(
            [sys.executable, "-c", WORKER, str(index)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
            cwd=code,
        )

    def search(self, query: str, highlight: bool) -> tuple[float, list[str]]:
        stdin: IO[str] | None = self.process.stdin
        stdout: IO[str] | None = self.process.stdout
        if stdin is None or stdout is None:
            raise RuntimeError("the worker has no pipes")
        stdin.write(json.dumps({"q": query, "hl": highlight}) + "\n")
        stdin.flush()
        answer = json.loads(stdout.readline())
        return float(answer["ms"]), list(answer["ids"])

    def close(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        self.process.wait(timeout=30)


def _quantile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def run(args: argparse.Namespace) -> dict[str, Any]:
    if len(args.index) > 1:
        return run_growth(args)
    queries = [text for _, text in load_queries(args.queries)][: args.sample]
    index = args.index[0]
    sides = {"this": Worker(HERE, index), "other": Worker(Path(args.other), index)}
    result: dict[str, Any] = {
        "command": " ".join(sys.argv),
        "queries": len(queries),
        "repeat": args.repeat,
    }
    try:
        for highlight in (False, True):
            for worker in sides.values():  # warm-up
                for q in queries[:50]:
                    worker.search(q, highlight)
            times: dict[str, list[float]] = {name: [] for name in sides}
            differ = 0
            for n, q in enumerate(queries):
                runs: dict[str, list[float]] = {name: [] for name in sides}
                ids: dict[str, list[str]] = {}
                order = list(sides) if n % 2 == 0 else list(reversed(sides))
                for _ in range(args.repeat):
                    for name in order:
                        ms, ids[name] = sides[name].search(q, highlight)
                        runs[name].append(ms)
                differ += ids["this"] != ids["other"]
                for name in sides:
                    times[name].append(statistics.median(runs[name]))
            entry: dict[str, Any] = {"different rankings": differ}
            for name, values in times.items():
                entry[name] = _summary(values)
            result["snippets" if highlight else "no snippets"] = entry
            print(f"[versions] highlight={highlight}: {entry}", file=sys.stderr)
    finally:
        for worker in sides.values():
            worker.close()
    return result


def _summary(values: Sequence[float]) -> dict[str, float]:
    return {q: round(_quantile(values, float(q[1:]) / 100), 3) for q in ("p50", "p95", "p99")}


def run_growth(args: argparse.Namespace) -> dict[str, Any]:
    """Both versions on each index, without snippets: per query, each index in
    turn, the two versions alternated on each (in alternating order)."""
    queries = [text for _, text in load_queries(args.queries)][: args.sample]
    names = [str(ix) for ix in args.index]
    sides = {
        (ix, name): Worker(code, Path(ix))
        for ix in names
        for name, code in (("this", HERE), ("other", Path(args.other)))
    }
    try:
        for worker in sides.values():  # warm-up
            for q in queries[:50]:
                worker.search(q, False)
        times: dict[tuple[str, str], list[float]] = {key: [] for key in sides}
        differ = dict.fromkeys(names, 0)
        for n, q in enumerate(queries):
            for ix in names:
                order = ["this", "other"] if n % 2 == 0 else ["other", "this"]
                runs: dict[str, list[float]] = {name: [] for name in order}
                ids: dict[str, list[str]] = {}
                for _ in range(args.repeat):
                    for name in order:
                        ms, ids[name] = sides[ix, name].search(q, False)
                        runs[name].append(ms)
                differ[ix] += ids["this"] != ids["other"]
                for name in order:
                    times[ix, name].append(statistics.median(runs[name]))
    finally:
        for worker in sides.values():
            worker.close()
    growth = {
        ix: {
            "different rankings": differ[ix],
            **{name: _summary(times[ix, name]) for name in ("this", "other")},
        }
        for ix in names
    }
    print(f"[versions] growth: {growth}", file=sys.stderr)
    return {
        "command": " ".join(sys.argv),
        "queries": len(queries),
        "repeat": args.repeat,
        "growth": growth,
    }


def report(result: Mapping[str, Any]) -> str:
    if "growth" in result:
        return report_growth(result)
    lines = [
        "### This version against an earlier one (query latency, one run)",
        "",
        f"`{result['command']}`: {result['queries']} queries, top 10, each the median of "
        f"{result['repeat']} runs, the two versions alternated query by query; ms of CPU time.",
        "",
        "| | this p50 | other p50 | ratio | this p95 | other p95 | ratio | this p99 "
        "| other p99 | ratio | rankings differing |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for variant in ("no snippets", "snippets"):
        e = result[variant]
        cells = []
        for q in ("p50", "p95", "p99"):
            a, b = e["this"][q], e["other"][q]
            cells.append(f"{a:.3f} | {b:.3f} | {a / b:.2f}×")
        lines.append(f"| {variant} | {' | '.join(cells)} | {e['different rankings']} |")
    return "\n".join(lines) + "\n"


def report_growth(result: Mapping[str, Any]) -> str:
    growth = result["growth"]
    first = next(iter(growth))
    lines = [
        "### This version against an earlier one, on indexes of growing size (no snippets)",
        "",
        f"`{result['command']}`: {result['queries']} queries, top 10, each the median of "
        f"{result['repeat']} runs, the two versions alternated query by query on each index "
        "in turn; ms of CPU time; growth: the version's p50 (p95) on the index ÷ its own "
        "on the first.",
        "",
        "| index | this p50 | other p50 | ratio | this p95 | other p95 | ratio | this p99 "
        "| other p99 | ratio | growth this p50 (p95) | growth other p50 (p95) "
        "| rankings differing |",
        "| --- " + "| ---: " * 12 + "|",
    ]
    for ix, e in growth.items():
        cells = []
        for q in ("p50", "p95", "p99"):
            a, b = e["this"][q], e["other"][q]
            cells.append(f"{a:.3f} | {b:.3f} | {a / b:.2f}×")
        grown = [
            f"{e[v]['p50'] / growth[first][v]['p50']:.2f}× "
            f"({e[v]['p95'] / growth[first][v]['p95']:.2f}×)"
            for v in ("this", "other")
        ]
        lines.append(
            f"| {Path(ix).name} | {' | '.join(cells)} | {' | '.join(grown)} "
            f"| {e['different rankings']} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--other", required=True, help="a checkout of the other version")
    p.add_argument(
        "--index",
        type=Path,
        action="append",
        required=True,
        help="an index both versions open (several: growth, smallest first)",
    )
    p.add_argument("--queries", type=Path, required=True, help="queries JSONL")
    p.add_argument("--sample", type=int, default=1000, help="queries (the first N)")
    p.add_argument("--repeat", type=int, default=3, help="runs per query and version")
    p.add_argument("--json", default="benchmarks/out/versions.json", help="where the run is saved")
    p.add_argument("--render", help="render a saved run instead of running")
    p.add_argument("--write-results", action="store_true", help="update benchmarks/RESULTS.md")
    run_or_render("versions", p.parse_args(argv), run, report)


if __name__ == "__main__":
    main()
