"""Relevance evaluation: TREC run files and nDCG@10, MRR@10, Recall@100.

A collection folder holds ``corpus.jsonl``, ``queries.jsonl`` (``{"id",
"text"}``) and ``qrels.tsv`` (``qid<TAB>docid<TAB>rel``), like those in
``shared/eval-public``. Searches collapse passages to documents (a document
ranks by its best passage).

Example:
    >>> m = metrics({"q": ["a", "b"]}, {"q": {"b": 1}})
    >>> round(m.ndcg10, 3), m.mrr10, m.recall100
    (0.631, 0.5, 1.0)
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from searchlib.engine.backend import Backend
from searchlib.engine.request import SearchRequest
from searchlib.errors import CorpusFormatError, SearchlibError
from searchlib.learn.metrics import per_query

Run = Mapping[str, Sequence[str]]
"""Ranked document ids per query id."""
Qrels = Mapping[str, Mapping[str, int]]
"""Relevance grade of judged documents per query id."""


@dataclass(frozen=True, slots=True)
class Metrics:
    """Mean metrics over queries that have judgments."""

    ndcg10: float
    mrr10: float
    recall100: float
    queries: int

    def as_dict(self) -> dict[str, float | int]:
        """Rounded, JSON-ready."""
        return {
            "ndcg@10": round(self.ndcg10, 4),
            "mrr@10": round(self.mrr10, 4),
            "recall@100": round(self.recall100, 4),
            "queries": self.queries,
        }


MAX_GRADE = 10
"""Highest relevance grade read from a judgments file (gains are ``2**grade - 1``)."""


def _lines(path: Path) -> Iterator[tuple[int, str]]:
    """``(line number, text)`` of a UTF-8 file; bad bytes are a format error naming the line."""
    offset = 0
    with path.open("rb") as f:
        for n, raw in enumerate(f, start=1):
            try:
                yield n, raw.decode("utf-8")
            except UnicodeDecodeError as e:
                raise CorpusFormatError(
                    path, f"invalid UTF-8 ({e.reason})", line=n, offset=offset + e.start
                ) from e
            offset += len(raw)


def load_queries(path: str | Path) -> list[tuple[str, str]]:
    """``(id, text)`` pairs from a queries JSONL file."""
    out: list[tuple[str, str]] = []
    path = Path(path)
    for n, line in _lines(path):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
            out.append((str(obj["id"]), str(obj["text"])))
        except (ValueError, KeyError, TypeError) as e:
            raise CorpusFormatError(path, f'expected {{"id", "text"}} ({e})', line=n) from e
    return out


def load_qrels(path: str | Path) -> dict[str, dict[str, int]]:
    """Judgments from a ``qid<TAB>docid<TAB>rel`` file (TREC's 4-column form also read)."""
    qrels: dict[str, dict[str, int]] = {}
    path = Path(path)
    for n, line in _lines(path):
        parts = line.split()
        if not parts:
            continue
        if len(parts) == 4:
            parts = [parts[0], parts[2], parts[3]]
        if len(parts) != 3:
            raise CorpusFormatError(path, "expected qid, docid, rel", line=n)
        try:
            grade = int(parts[2])
        except ValueError as e:
            raise CorpusFormatError(path, f"relevance is not a number: {parts[2]!r}", line=n) from e
        if not -MAX_GRADE <= grade <= MAX_GRADE:
            raise CorpusFormatError(
                path, f"relevance {grade} out of range (-{MAX_GRADE} to {MAX_GRADE})", line=n
            )
        qrels.setdefault(parts[0], {})[parts[1]] = grade
    return qrels


def metrics(run: Run, qrels: Qrels, query_ids: Iterable[str] | None = None) -> Metrics:
    """Mean metrics over ``query_ids`` (default: judged queries of the run)."""
    ids = [q for q in (query_ids if query_ids is not None else run) if qrels.get(q)]
    if not ids:
        return Metrics(0.0, 0.0, 0.0, 0)
    sums = [0.0, 0.0, 0.0]
    for q in ids:
        for i, v in enumerate(per_query(run.get(q, ()), qrels[q])):
            sums[i] += v
    n = len(ids)
    return Metrics(sums[0] / n, sums[1] / n, sums[2] / n, n)


def grouped_metrics(run: Run, qrels: Qrels, groups: Mapping[str, str]) -> Metrics:
    """Macro average: mean over groups (e.g. topics) of the per-group mean."""
    by_group: dict[str, list[str]] = {}
    for q in run:
        if qrels.get(q):
            by_group.setdefault(groups.get(q, q), []).append(q)
    if not by_group:
        return Metrics(0.0, 0.0, 0.0, 0)
    parts = [metrics(run, qrels, ids) for ids in by_group.values()]
    n = len(parts)
    return Metrics(
        sum(p.ndcg10 for p in parts) / n,
        sum(p.mrr10 for p in parts) / n,
        sum(p.recall100 for p in parts) / n,
        n,
    )


def run_queries(
    index: Backend,
    queries: Iterable[tuple[str, str]],
    *,
    limit: int = 100,
    on_error: Callable[[str, str, SearchlibError], None] | None = None,
    learned: bool = True,
) -> Iterator[tuple[str, list[tuple[str, float]]]]:
    """Search each query (documents, best passage each); yields ``(qid, [(docid, score)])``.

    A query that fails is reported to ``on_error`` and yields an empty ranking;
    it never aborts the batch. ``learned=False`` searches without what the
    index learned (see :meth:`Index.learn <searchlib.index.Index.learn>`).
    """
    for qid, text in queries:
        try:
            res = index.run(
                SearchRequest(
                    text, limit=limit, collapse=True, highlight_hits=False, learned=learned
                )
            )
            yield qid, [(h.doc_id, h.score) for h in res.hits]
        except SearchlibError as e:
            if on_error is not None:
                on_error(qid, text, e)
            yield qid, []


def write_trec_run(
    ranked: Iterable[tuple[str, Sequence[tuple[str, float]]]], out: TextIO, tag: str = "searchlib"
) -> None:
    """Write ``qid Q0 docid rank score tag`` lines."""
    for qid, docs in ranked:
        for rank, (docid, score) in enumerate(docs, start=1):
            out.write(f"{qid} Q0 {docid} {rank} {score:.6f} {tag}\n")


def load_topics(path: str | Path) -> dict[str, str]:
    """``qid -> topic`` from a ``topics.tsv`` (header, then qid, topic index, title)."""
    topics: dict[str, str] = {}
    for n, line in _lines(Path(path)):
        if n > 1:  # a header first
            parts = line.rstrip("\n").split("\t")
            if len(parts) >= 2:
                topics[parts[0]] = parts[1]
    return topics
