"""Relevance on Lucene: a collection indexed from the exported files, the queries
translated to the query DSL, next to searchlib's own run.

1. :func:`searchlib.opensearch.export` writes ``index.json`` (settings, mappings, the
   mined acronyms) and ``bulk.ndjson``; ``LuceneParity index`` indexes the bulk file
   with the analyzers and per-field BM25 of ``index.json``.
2. ``LuceneParity vocab`` lists the index's terms: a :class:`VocabularySource` answers
   the translator's typo and ``word~`` look-ups from them (as a cluster's term
   suggester would, without its candidate cap).
3. Each query is translated by :class:`searchlib.opensearch.QueryTranslator` and run by
   ``LuceneParity search`` (passages collapsed on ``doc_id``, top 100 documents).
4. searchlib indexes the same documents and runs the same queries
   (:func:`searchlib.app.evaluate.run_queries`); both runs are scored with
   :func:`searchlib.app.evaluate.metrics` and compared rank by rank.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from searchlib import Document, Index, load_jsonl
from searchlib.app.evaluate import (
    grouped_metrics,
    load_qrels,
    load_queries,
    load_topics,
    metrics,
    run_queries,
    write_trec_run,
)
from searchlib.opensearch import QueryTranslator, TermLookups, export
from searchlib.opensearch.translate import levenshtein
from searchlib.query.acronyms import AcronymLexicon
from searchlib.query.typos import Vocabulary

Run = dict[str, list[tuple[str, float]]]


class VocabularySource:
    """A :class:`~searchlib.opensearch.TermSource` over a term list with document
    frequencies (``LuceneParity vocab``'s output)."""

    def __init__(self, frequencies: Mapping[tuple[str, str], int]) -> None:
        self.frequencies = dict(frequencies)
        by_field: dict[str, list[str]] = defaultdict(list)
        for f, t in self.frequencies:
            by_field[f].append(t)
        self.vocabularies = {f: Vocabulary(terms) for f, terms in by_field.items()}
        self.by_initial: dict[tuple[str, str], list[str]] = defaultdict(list)
        for f, terms in by_field.items():
            for t in terms:
                self.by_initial[(f, t[:1])].append(t)

    @classmethod
    def read(cls, path: Path) -> VocabularySource:
        found: dict[tuple[str, str], int] = {}
        with path.open(encoding="utf-8") as f:
            for line in f:
                field, term, df = line.rstrip("\n").split("\t")
                found[(field, term)] = int(df)
        return cls(found)

    def lookup(
        self,
        frequencies: Collection[tuple[str, str]],
        neighbours: Collection[tuple[str, str, int]],
    ) -> TermLookups:
        freq = {key: self.frequencies.get(key, 0) for key in frequencies}
        near: dict[tuple[str, str, int], dict[str, int]] = {}
        for f, t, dist in neighbours:
            if dist == 1 and f in self.vocabularies:
                terms: Iterable[str] = self.vocabularies[f].within_one(t)
            else:
                same_initial = self.by_initial.get((f, t[:1]), ())
                terms = (c for c in same_initial if levenshtein(c, t, dist) <= dist)
            near[(f, t, dist)] = {c: self.frequencies[(f, c)] for c in terms if c != t}
        return TermLookups(freq, near)


def sample(
    collection: Path, *, documents: int = 0, queries: int = 0
) -> tuple[list[Document], list[tuple[str, str]], dict[str, dict[str, int]]]:
    """The documents, queries and judgments of a collection; with ``queries``, the
    first ones only, and with ``documents``, the documents judged for them plus the
    first documents of the corpus up to that many."""
    qrels = load_qrels(collection / "qrels.tsv")
    found_queries = load_queries(collection / "queries.jsonl")
    if queries:
        found_queries = found_queries[:queries]
    judged = {d for qid, _ in found_queries for d in qrels.get(qid, {})}
    docs: list[Document] = []
    for doc in load_jsonl(collection / "corpus.jsonl"):
        if not documents or doc.id in judged or len(docs) < documents:
            docs.append(doc)
    return docs, found_queries, qrels


def overlap_at(a: Sequence[str], b: Sequence[str], k: int = 10) -> float | None:
    """Share of the top ``k`` of two rankings held by both (``None``: both empty)."""
    top_a, top_b = a[:k], b[:k]
    size = max(len(top_a), len(top_b))
    if size == 0:
        return None
    return len(set(top_a) & set(top_b)) / size


def _lucene_run(
    lucene: Any, body: Path, index_dir: Path, jobs: Path, out: Path, *extra: Path
) -> Run:
    lucene.run("search", body, index_dir, jobs, out, *extra)
    found: Run = {}
    with out.open(encoding="utf-8") as f:
        for line in f:
            qid, doc_id, score = line.rstrip("\n").split("\t")
            found.setdefault(qid, []).append((doc_id, float(score)))
    return found


def whoosh_lengths(path: Path) -> Path:
    """Whoosh's 256 quantised field lengths, for ``LuceneParity``'s Whoosh formula."""
    from whoosh.util.numeric import byte_to_length

    path.write_text(json.dumps({"lengths": [byte_to_length(b) for b in range(256)]}))
    return path


def run(
    lucene: Any,
    collection: Path,
    scratch: Path,
    *,
    documents: int = 0,
    queries: int = 0,
    whoosh_formula: bool = False,
) -> dict[str, Any]:
    """Both engines over a collection; metrics and agreement as JSON. With
    ``whoosh_formula``, Lucene also runs with searchlib's own BM25F formula (a
    diagnosis: what is left then comes from the translation and the analysis)."""
    docs, found_queries, qrels = sample(collection, documents=documents, queries=queries)
    files = export(docs, scratch / "export")
    lucene_dir = scratch / "lucene-index"
    lucene.run("index", files.index_file, files.bulk_file, lucene_dir)
    vocab_file = scratch / "vocab.tsv"
    lucene.run("vocab", lucene_dir, vocab_file)
    source = VocabularySource.read(vocab_file)
    body = json.loads(files.index_file.read_text(encoding="utf-8"))
    acronyms = AcronymLexicon(body["mappings"]["_meta"]["searchlib"].get("acronyms") or {})
    translator = QueryTranslator(acronyms=acronyms, approximate=True)
    jobs = scratch / "queries.jsonl"
    approximated = 0
    with jobs.open("w", encoding="utf-8") as f:
        for qid, text in found_queries:
            translation = translator.translate(text, source.lookup(*translator.requests(text)))
            approximated += bool(translation.approximations)
            job = {"qid": qid, "query": translation.query, "size": 100}
            f.write(json.dumps(job, ensure_ascii=False) + "\n")
    runs: dict[str, Run] = {
        "lucene": _lucene_run(
            lucene, files.index_file, lucene_dir, jobs, scratch / "lucene-run.tsv"
        )
    }
    if whoosh_formula:
        table = whoosh_lengths(scratch / "whoosh-lengths.json")
        whoosh_dir = scratch / "lucene-index-whoosh-bm25"
        lucene.run("index", files.index_file, files.bulk_file, whoosh_dir, table)
        runs["lucene_whoosh_bm25"] = _lucene_run(
            lucene, files.index_file, whoosh_dir, jobs, scratch / "lucene-whoosh-run.tsv", table
        )
    index_dir = scratch / "searchlib-index"
    with Index.build(index_dir, docs, overwrite=True) as ix:
        searchlib_run: Run = dict(run_queries(ix, found_queries, limit=100))
    for name, found in {"searchlib": searchlib_run, **runs}.items():
        with (scratch / f"{name}.trec").open("w", encoding="utf-8") as out:
            write_trec_run(((q, found.get(q, [])) for q, _ in found_queries), out, tag=name)
    topics_file = collection / "topics.tsv"
    topics = load_topics(topics_file) if topics_file.is_file() else None
    return report(found_queries, qrels, searchlib_run, runs, topics) | {
        "documents": len(docs),
        "queries_approximated": approximated,
    }


def report(
    queries: Sequence[tuple[str, str]],
    qrels: Mapping[str, Mapping[str, int]],
    searchlib_run: Mapping[str, Sequence[tuple[str, float]]],
    runs: Mapping[str, Mapping[str, Sequence[tuple[str, float]]]],
    topics: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Metrics of each run (per query, and per topic with ``topics``) and how far
    each agrees with searchlib's."""
    ids = [q for q, _ in queries]
    mine = {q: [d for d, _ in searchlib_run.get(q, ())] for q in ids}

    def scores(ranked: Mapping[str, list[str]]) -> dict[str, Any]:
        out: dict[str, Any] = metrics(ranked, qrels).as_dict()
        if topics is not None:
            out["by_topic"] = grouped_metrics(ranked, qrels, topics).as_dict()
        out["empty_runs"] = sum(1 for q in ids if not ranked[q])
        return out

    out: dict[str, Any] = {"queries": len(ids), "searchlib": scores(mine)}
    for name, found in runs.items():
        theirs = {q: [d for d, _ in found.get(q, ())] for q in ids}
        overlaps = [o for q in ids if (o := overlap_at(mine[q], theirs[q])) is not None]
        shown = [q for q in ids if mine[q] or theirs[q]]
        out[name] = scores(theirs) | {
            "top10_overlap": round(sum(overlaps) / len(overlaps), 4) if overlaps else None,
            "same_top1": round(sum(mine[q][:1] == theirs[q][:1] for q in shown) / len(shown), 4)
            if shown
            else None,
            "same_top10": round(sum(mine[q][:10] == theirs[q][:10] for q in shown) / len(shown), 4)
            if shown
            else None,
            "same_top10_set": round(
                sum(set(mine[q][:10]) == set(theirs[q][:10]) for q in shown) / len(shown), 4
            )
            if shown
            else None,
        }
    return out
