"""Acronym expansion (``Ranking.acronym_boost``) measured on the public collections.

Builds cdtn and piaf twice each in this process, without and with acronym
mining (switched off with ``Index.add(..., mine_acronyms=False)``), to
time what mining costs (CPU seconds of ``Index.add``); keeps the mined
indexes, then scores :class:`searchlib.Ranking` with the expansion off, the
shipped defaults, and the expansion at other weights and mining thresholds the way
``benchmarks/studies/ablation.py`` does (all judged queries, top 100 documents,
passages collapsed, :func:`searchlib.app.evaluate.per_query`), with cdtn per query,
per topic and per topic fold (:func:`benchmarks.studies.ablation.topic_folds`), and
a cross-validation of the row choice by cdtn topic folds
(:func:`benchmarks.studies.ablation.cross_validate`), and query latency (p50, expansion
off against one row, interleaved)::

    nice python -m benchmarks.studies.acronyms --data ../shared/eval-public \\
        --scratch /tmp/acro-scratch --out benchmarks/out/acronyms.json
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import sys
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from benchmarks.stats import percentile
from benchmarks.studies.ablation import (
    CDTN,
    COLLECTIONS,
    PerQuery,
    cross_validate,
    summarise,
    topic_folds,
    topic_mean,
)
from searchlib import Index, Ranking, load_corpus
from searchlib.app.evaluate import load_qrels, load_queries, load_topics, per_query
from searchlib.query.acronyms import AcronymLexicon
from searchlib.query.language import Word, parse

PIAF = COLLECTIONS[1]


def _variant(boost: float, slop: int = 1, min_docs: int = 2, forms: int = 1) -> dict[str, Any]:
    return {
        "acronym_boost": boost,
        "acronym_slop": slop,
        "acronym_min_docs": min_docs,
        "acronym_max_forms": forms,
    }


OFF = "expansion off (acronym_boost 0)"

VARIANTS: dict[str, dict[str, Any]] = {
    OFF: {"acronym_boost": 0.0},
    "shipped defaults": {},
    "boost 0.25, slop 3, min 2 docs, 2 forms": _variant(0.25, 3, 2, 2),
    "boost 1.0, slop 3, min 2 docs, 2 forms": _variant(1.0, 3, 2, 2),
    "boost 2.0, slop 3, min 2 docs, 2 forms": _variant(2.0, 3, 2, 2),
    "boost 0.5, slop 3, min 1 doc, 2 forms": _variant(0.5, 3, 1, 2),
    "boost 0.5, slop 3, min 5 docs, 2 forms": _variant(0.5, 3, 5, 2),
    "boost 0.5, slop 3, min 2 docs, 1 form": _variant(0.5, 3, 2, 1),
    "boost 0.5, slop 1, min 2 docs, 1 form": _variant(0.5, 1, 2, 1),
    "boost 1.0, slop 1, min 2 docs, 1 form": _variant(1.0, 1, 2, 1),
    "boost 2.0, slop 1, min 2 docs, 1 form": _variant(2.0, 1, 2, 1),
}
"""Rows; the shipped defaults are boost 0.5, slop 3, min 2 docs, 2 forms."""


def build(data: Path, scratch: Path, repeats: int) -> dict[str, Any]:
    """Each collection without and with mining, alternated ``repeats`` times: CPU and
    wall seconds of ``add`` (medians), and the CPU seconds of mining alone."""
    out: dict[str, Any] = {}
    for name in COLLECTIONS:
        docs = list(load_corpus(data / name / "corpus.jsonl"))
        c0 = time.process_time()
        alone = AcronymLexicon()
        for _ in alone.watch(docs):
            pass
        row: dict[str, Any] = {
            "documents": len(docs),
            "mining alone cpu_s": round(time.process_time() - c0, 3),
        }
        runs: dict[str, list[tuple[float, float, int]]] = {}
        for _ in range(repeats):
            for label, mine in (("without mining", False), ("with mining", True)):
                path = scratch / f"{name}-{label.replace(' ', '-')}"
                with Index.create(path, overwrite=True) as ix:
                    c0, w0 = time.process_time(), time.perf_counter()
                    ix.add(docs, mine_acronyms=mine)
                    cpu, wall = time.process_time() - c0, time.perf_counter() - w0
                    runs.setdefault(label, []).append((cpu, wall, len(ix.acronyms)))
                print(f"[acronyms] built {name} {label}: {runs[label][-1]}", file=sys.stderr)
        for label, values in runs.items():
            row[label] = {
                "cpu_s": [round(v[0], 2) for v in values],
                "wall_s": [round(v[1], 2) for v in values],
                "median cpu_s": round(statistics.median(v[0] for v in values), 2),
                "acronyms": values[-1][2],
            }
        out[name] = row
    return out


def index_path(scratch: Path, name: str) -> Path:
    return scratch / f"{name}-with-mining"


def evaluate(ix: Index, queries: list[tuple[str, str]], qrels: Mapping[str, Any]) -> PerQuery:
    out: PerQuery = {}
    for qid, text in queries:
        if not qrels.get(qid):
            continue
        res = ix.search(text, limit=100, collapse=True, highlight_hits=False)
        out[qid] = list(per_query([h.doc_id for h in res.hits], qrels[qid]))
    return out


def expanded_queries(ix: Index, queries: list[tuple[str, str]], ranking: Ranking) -> list[str]:
    """Ids of the queries with a word the lexicon expands under ``ranking``."""
    from searchlib.query.compiler import QueryCompiler

    compiler = QueryCompiler(ix.analyzer, None, ranking, acronyms=ix.acronyms)
    found = []
    for qid, text in queries:
        words = [w for w in _words(parse(text)) if w.kind == "word"]
        if any(compiler.acronym_query(w) is not None for w in words):
            found.append(qid)
    return found


def _words(node: Any) -> Iterator[Word]:
    if isinstance(node, Word):
        yield node
    for child in getattr(node, "items", ()) or ():
        yield from _words(child)
    if hasattr(node, "item"):
        yield from _words(node.item)


def latency(
    path: Path, queries: list[tuple[str, str]], changes: Mapping[str, Any]
) -> dict[str, Any]:
    """p50/p95 ms, expansion off vs ``changes`` (two indexes, warm-up pass, then interleaved)."""
    a, b = Index.open(path), Index.open(path)
    a.set_ranking(dataclasses.replace(Ranking(), **VARIANTS[OFF]))
    b.set_ranking(dataclasses.replace(Ranking(), **changes))
    times: dict[str, list[float]] = {"off": [], "expansion": []}
    for timed in (False, True):
        for _, text in queries:
            for key, ix in (("off", a), ("expansion", b)):
                t0 = time.perf_counter()
                ix.search(text, limit=100, collapse=True, highlight_hits=False)
                if timed:
                    times[key].append((time.perf_counter() - t0) * 1000)
    a.close()
    b.close()
    out = {}
    for key, ts in times.items():
        out[key] = {
            "p50_ms": round(statistics.median(ts), 3),
            "p95_ms": round(percentile(ts, 95), 3),
        }
    return out


def run(args: argparse.Namespace) -> dict[str, Any]:
    data, scratch = Path(args.data), Path(args.scratch)
    results: dict[str, Any] = {}
    if args.build or not index_path(scratch, CDTN).exists():
        results["build"] = build(data, scratch, args.repeats)
    dump: dict[str, dict[str, PerQuery]] = {}
    results["variants"] = {}
    for name in COLLECTIONS:
        coll = data / name
        queries = load_queries(coll / "queries.jsonl")
        qrels = load_qrels(coll / "qrels.tsv")
        topics = load_topics(coll / "topics.tsv") if (coll / "topics.tsv").exists() else None
        with Index.open(index_path(scratch, name)) as ix:
            lex = ix.acronyms
            results.setdefault("lexicon", {})[name] = {
                "short forms": len(lex),
                **{
                    f"expanded at min {m} docs": sum(
                        1 for short in lex.counts if lex.expansions(short, ix.analyzer, m, 1)
                    )
                    for m in (1, 2, 5)
                },
            }
            for variant, changes in VARIANTS.items():
                t0 = time.perf_counter()
                ranking = dataclasses.replace(Ranking(), **changes)
                ix.set_ranking(ranking)
                pq = evaluate(ix, queries, qrels)
                dump.setdefault(variant, {})[name] = pq
                row = results["variants"].setdefault(variant, {"changes": changes})
                row[name] = summarise(pq, topics)
                if ranking.acronym_boost > 0:
                    judged = [(q, t) for q, t in queries if qrels.get(q)]
                    hit = expanded_queries(ix, judged, ranking)
                    row[name]["queries expanded"] = len(hit)
                    base = dump[OFF][name]
                    changed = [q for q in hit if pq[q] != base[q]]
                    row[name]["expanded: changed / better / worse nDCG@10"] = [
                        len(changed),
                        sum(pq[q][0] > base[q][0] for q in hit),
                        sum(pq[q][0] < base[q][0] for q in hit),
                    ]
                print(
                    f"[acronyms] {name} {variant}: {row[name]} ({time.perf_counter() - t0:.0f} s)",
                    file=sys.stderr,
                    flush=True,
                )
    topics = load_topics(data / CDTN / "topics.tsv")
    base = dump[OFF][CDTN]
    folds = topic_folds([topics.get(q, q) for q in base])
    results["folds"] = {}
    for variant in VARIANTS:
        ndcg = {q: v[0] for q, v in dump[variant][CDTN].items()}
        ndcg_base = {q: v[0] for q, v in base.items()}
        results["folds"][variant] = [
            {
                "topics": len(fold),
                "nDCG@10 per topic": round(topic_mean(ndcg, topics, set(fold)), 4),
                "delta": round(
                    topic_mean(ndcg, topics, set(fold)) - topic_mean(ndcg_base, topics, set(fold)),
                    4,
                ),
            }
            for fold in folds
        ]
    ndcg_all = {v: {q: x[0] for q, x in dump[v][CDTN].items()} for v in VARIANTS}
    results["cross-validation"] = cross_validate(ndcg_all, topics, folds, OFF)
    if args.latency:
        cdtn_queries = load_queries(data / CDTN / "queries.jsonl")
        results["latency cdtn"] = latency(
            index_path(scratch, CDTN), cdtn_queries, VARIANTS[args.latency]
        )
        results["latency cdtn"]["expansion row"] = args.latency
    if args.dump:
        Path(args.dump).write_text(json.dumps(dump))
    return results


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default="../shared/eval-public")
    ap.add_argument("--scratch", default="/tmp/acro-scratch")
    ap.add_argument("--out", default="benchmarks/out/acronyms.json")
    ap.add_argument("--build", action="store_true", help="rebuild even if the indexes exist")
    ap.add_argument("--repeats", type=int, default=2, help="builds per collection and state")
    ap.add_argument("--latency", default="shipped defaults", help="row timed against expansion off")
    ap.add_argument("--dump", default="", help="write per-query scores here")
    args = ap.parse_args(argv)
    results = run(args)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, indent=1, ensure_ascii=False))
    print(json.dumps(results, indent=1, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
