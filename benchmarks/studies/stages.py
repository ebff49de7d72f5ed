"""Where a search's time goes, stage by stage (``SearchResults.trace``).

Runs public queries through an index's default search (and variants: without
snippets, documents or passages) and reports, per stage of
:mod:`searchlib.engine.pipeline`, how often it ran and its time (median, p95,
p99 over the queries, each the median of ``--repeat`` runs), beside the whole
search's. Every timed search checks that it returned what it was asked for.

    python -m benchmarks.studies.stages --index /tmp/cdtn.index \\
        --queries ../shared/eval-public/cdtn-requetes/queries.jsonl --write-results
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from benchmarks.results_file import run_or_render
from searchlib import Index
from searchlib.app.evaluate import load_queries
from searchlib.engine.request import SearchRequest

STAGES = ("plan", "retrieve", "rerank", "rescore", "page", "suggest")

VARIANTS: dict[str, dict[str, Any]] = {
    "default (top 10, snippets)": {},
    "no snippets": {"highlight_hits": False},
    "documents, no snippets": {"highlight_hits": False, "collapse": True},
}


def _quantile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def measure(ix: Index, queries: Sequence[str], options: Mapping[str, Any], repeat: int) -> Any:
    """Per query, the median over ``repeat`` runs of each stage and of the whole search."""
    per_stage: dict[str, list[float]] = {s: [] for s in STAGES}
    ran: dict[str, int] = dict.fromkeys(STAGES, 0)
    total: list[float] = []
    for text in queries:
        request = SearchRequest(text, limit=10, time_limit=None, **options)
        runs: list[tuple[float, dict[str, float]]] = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            results = ix.run(request)
            wall = (time.perf_counter() - t0) * 1000
            if len(results.hits) > min(10, results.total):
                raise AssertionError(f"{text!r}: more hits than asked for")
            runs.append((wall, {s.name: s.ms for s in results.trace.stages}))
        total.append(statistics.median(w for w, _ in runs))
        for stage in STAGES:
            times = [r[stage] for _, r in runs if stage in r]
            if times:
                ran[stage] += 1
                per_stage[stage].append(statistics.median(times))
    out: dict[str, Any] = {"queries": len(queries), "search": _summary(total)}
    for stage in STAGES:
        if per_stage[stage]:
            out[stage] = {"ran": ran[stage], **_summary(per_stage[stage])}
    return out


def _summary(values: Sequence[float]) -> dict[str, float]:
    return {
        "p50": round(_quantile(values, 0.50), 3),
        "p95": round(_quantile(values, 0.95), 3),
        "p99": round(_quantile(values, 0.99), 3),
        "mean": round(statistics.fmean(values), 3),
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    queries = [text for _, text in load_queries(args.queries)][: args.sample]
    with Index.open(args.index) as ix:
        for text in queries[:50]:  # warm-up: caches, decoded segments
            ix.run(SearchRequest(text, time_limit=None))
        result: dict[str, Any] = {
            "index": str(args.index),
            "documents": len(ix),
            "repeat": args.repeat,
            "command": " ".join(sys.argv),
        }
        for name, options in VARIANTS.items():
            result[name] = measure(ix, queries, options, args.repeat)
            print(f"[stages] {name}: {result[name]['search']}", file=sys.stderr)
    return result


def report(result: Mapping[str, Any]) -> str:
    lines = [
        "### Pipeline stages: where a search's time goes",
        "",
        f"`{result['command']}`: {result[next(iter(VARIANTS))]['queries']} queries on "
        f"{result['documents']:,} documents, each the median of {result['repeat']} runs; "
        "ms per stage over the queries where it ran (`ran`), and the whole search.",
        "",
        "| variant | stage | ran | p50 | p95 | p99 | mean |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name in VARIANTS:
        entry = result[name]
        for stage in (*STAGES, "search"):
            if stage not in entry:
                continue
            row = entry[stage]
            ran = row.get("ran", entry["queries"])
            lines.append(
                f"| {name} | {stage} | {ran} | {row['p50']:.3f} | {row['p95']:.3f} | "
                f"{row['p99']:.3f} | {row['mean']:.3f} |"
            )
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--index", type=Path, required=True, help="an index folder (e.g. cdtn's)")
    p.add_argument("--queries", type=Path, required=True, help="queries JSONL")
    p.add_argument("--sample", type=int, default=1000, help="queries (the first N)")
    p.add_argument("--repeat", type=int, default=3, help="runs per query (the median is kept)")
    p.add_argument("--json", default="benchmarks/out/stages.json", help="where the run is saved")
    p.add_argument("--render", help="render a saved run instead of running")
    p.add_argument("--write-results", action="store_true", help="update benchmarks/RESULTS.md")
    run_or_render("stages", p.parse_args(argv), run, report)


if __name__ == "__main__":
    main()
