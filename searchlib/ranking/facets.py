"""Filters, facets and sorting by declared fields, vectorised (numpy).

A search that filters, counts or sorts by declared fields (see
:mod:`searchlib.fields`) runs here. The query's matches and scores come from
the fast path (:func:`~searchlib.ranking.fastpath.match_fast`, the very
arrays plain searches rank) or, for queries it does not take, from Whoosh's
matchers; then everything is whole-array work:

* a filter is a boolean mask over the index's passages: a keyword value is
  its term's postings, a range compares the field's column of sortable
  64-bit values (order-preserving, so bounds compare exactly);
* a facet counts with ``np.bincount``: keyword values over ``(passage,
  value)`` pairs read from the field's postings, dates over year, month or
  day numbers computed once per searcher, numbers over the ranges the edges
  make;
* a sort orders by ``np.lexsort`` over the field keys, then the score
  (descending), the document id and the passage number, after keeping only
  the passages whose first key can reach the page.

Each field's arrays are read once per segment (:mod:`searchlib._whoosh.columns`,
cached in the index's :class:`~searchlib.ranking.fastpath.SegmentCache`) and
joined once per searcher (cached in its :class:`~searchlib.ranking.fastpath.ScoringView`);
a keyword field's join is kept in the segment cache too, for the next
searchers over the same segments (a commit that only deleted). Reading a
keyword field is Python work per value (a field of 300,000 values takes
seconds): it checks the search's deadline as it goes, and what it read before
the deadline is kept, so the next search goes on from there.
:func:`whoosh_filter` gives the same filter as a Whoosh query: the reference
the tests compare with (Whoosh's ``filter=``, ``groupedby=`` and ``sortedby=``).

Example:
    >>> from searchlib import Document, Index
    >>> from searchlib.fields import Keyword, Match
    >>> ix = Index.in_memory(fields={"source": Keyword()})
    >>> _ = ix.add([Document("a", "", "cour", {"source": "x"}), Document("b", "", "cour")])
    >>> request = FieldRequest(ix.fields, Match("source", ("x",)), (Facet("source"),), ())
    >>> executed = execute_fields(ix.search_context().state.scoring, None, request, 10, False)
    >>> executed.ranked, executed.facets
    ([(0, 0.0)], {'source': {'x': 1}})
"""

from __future__ import annotations

import itertools
from array import array
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from whoosh import query as wq

from searchlib._whoosh import columns, limits
from searchlib._whoosh.storage import MISSING
from searchlib.fields import (
    AnyOf,
    Date,
    Exclude,
    Facet,
    FieldType,
    FilterExpr,
    Keyword,
    Match,
    Number,
    Range,
    SortKey,
    is_multiple,
    number_label,
)
from searchlib.ranking.fastpath import (
    Executed,
    ScoringView,
    _collapse,
    _top,
    _top_documents,
    match_fast,
    match_whoosh,
)

BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]
Int32Array = npt.NDArray[np.int32]
UInt64Array = npt.NDArray[np.uint64]
FloatArray = npt.NDArray[np.float64]

_MISSING = np.uint64(MISSING)
_CHECK_TERMS = 256
"""Values of a keyword field read between two looks at the deadline."""
_BUCKETS = {"year": "datetime64[Y]", "month": "datetime64[M]", "day": "datetime64[D]"}


@dataclass(frozen=True, slots=True)
class FieldRequest:
    """What a search asks of declared fields.

    Attributes:
        kinds: the index's declared fields, names to types.
        filter: what the matches must satisfy (``None``: nothing).
        facets: the counts to make over all the matches.
        sort: the order (empty: by score).
    """

    kinds: Mapping[str, FieldType]
    filter: FilterExpr | None = None
    facets: tuple[Facet, ...] = ()
    sort: tuple[SortKey, ...] = ()


Facets = dict[str, dict[str, int]]
"""Counts per facet: field name to ``{value: count}``, in display order."""


def execute_fields(
    view: ScoringView,
    query: wq.Query | None,
    request: FieldRequest,
    limit: int,
    collapse: bool,
    *,
    fast: bool = True,
    scored: tuple[FloatArray, BoolArray] | None = None,
) -> Executed:
    """Run ``query`` (``None``: every passage, scored 0) restricted by the
    request's filter: the best ``limit`` passages in the request's order,
    how many match, and the facet counts over all of them (over documents
    when ``collapse``: each counted once, by its best passage) in ``facets``.

    Relevance order is the plain search's: score descending, then passage
    number, among the passages the filter keeps.

    ``scored``: the score of every passage and which ones match, computed
    elsewhere (the cosines of a semantic search), instead of ``query``'s.
    """
    with view.segments.lock:
        if scored is not None:
            keep = scored[1].copy()
            if view.deleted is not None:
                keep[view.deleted] = False
            found: tuple[FloatArray, BoolArray] | None = (scored[0], keep)
        else:
            found = match_fast(view, query) if fast and query is not None else None
        if found is None:
            if query is None:
                scores = np.zeros(view.doc_count, dtype=np.float64)
                matched = np.ones(view.doc_count, dtype=np.bool_)
            else:
                scores, matched = match_whoosh(view.searcher, query, view.doc_count)
            if view.deleted is not None:
                matched &= ~view.deleted
        else:
            scores, matched = found
        if request.filter is not None:
            matched &= filter_mask(view, request.kinds, request.filter)
        hits = np.flatnonzero(matched)
        if collapse and not request.sort and view.keys_grouped():
            # Each document's passages hold its declared values (one add
            # wrote them all, side by side): its first matching passage
            # counts for it as its best would. Only the documents that can
            # make the page are resolved to their best passage.
            keys = view.doc_keys()
            firsts = _first_of_runs(hits, keys)
            facets = {f.field: facet_counts(view, request.kinds, f, firsts) for f in request.facets}
            ranked, total = _top_documents(hits, scores, keys, limit, True)
            return Executed(ranked, total, facets=facets)
        if collapse:
            # Every matching document's best passage: the documents to count and sort.
            grouped = view.keys_grouped()
            hits, total = _collapse(hits, scores, view.doc_keys(), len(hits), grouped)
            if not grouped:  # by runs, the best passages come in passage order already
                hits = np.sort(hits)
        else:
            total = len(hits)
        facets = {f.field: facet_counts(view, request.kinds, f, hits) for f in request.facets}
        if request.sort:
            ranked = sorted_top(view, request.kinds, request.sort, hits, scores, limit)
        else:
            ranked = _top(hits, scores, limit)
        return Executed(ranked, total, facets=facets)


def _first_of_runs(hits: IntArray, keys: IntArray) -> IntArray:
    """The first of ``hits`` (sorted) of each run of passages of one document."""
    if not len(hits):
        return hits
    hit_keys = keys[hits]
    new_run = np.empty(len(hits), dtype=np.bool_)
    new_run[0] = True
    np.not_equal(hit_keys[1:], hit_keys[:-1], out=new_run[1:])
    return hits[new_run]


# -- per-field arrays ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class KeywordColumn:
    """A keyword field over the whole index: its values (sorted) and every
    ``(passage, value number)`` pair."""

    values: list[str]
    docs: IntArray
    ords: IntArray


def keyword_column(view: ScoringView, field: str) -> KeywordColumn:
    """The keyword field ``field`` over ``view``'s passages (cached per
    searcher, and for the next searchers over the same segments).

    Raises:
        SearchTimeoutError: the search's deadline passed while reading it
            (what was read is kept for the next search).
    """

    def join(key: tuple[str, ...]) -> KeywordColumn:
        cache = view.segments.columns
        joined = _joined_key(view, field)
        found: KeywordColumn | None = cache.get(joined)
        if found is not None:
            return found
        parts = [
            (_segment_keywords(view, segid, seg, field), offset)
            for segid, seg, offset in view.leaves
        ]
        limits.check()
        if len(parts) == 1:  # one segment: its values are sorted already
            (vs, d, o), offset = parts[0]
            column = KeywordColumn(vs, d.astype(np.int64) + offset, o.astype(np.int64))
            return _keep_join(view, joined, column)
        values = sorted({v for (vs, _, _), _ in parts for v in vs})
        number = {v: i for i, v in enumerate(values)}
        docs, ords = [], []
        for (vs, d, o), offset in parts:
            remap = np.fromiter((number[v] for v in vs), dtype=np.int64, count=len(vs))
            docs.append(d.astype(np.int64) + offset)
            ords.append(remap[o] if len(vs) else o.astype(np.int64))
        if docs:
            column = KeywordColumn(values, np.concatenate(docs), np.concatenate(ords))
        else:
            column = KeywordColumn(values, np.zeros(0, np.int64), np.zeros(0, np.int64))
        return _keep_join(view, joined, column)

    found: KeywordColumn = view.field_data.get_or_compute(("keyword", field), join)
    return found


def _joined_key(view: ScoringView, field: str) -> tuple[str, str, str]:
    """The segment cache's key of a keyword field joined over ``view``'s
    segments: its kind names them all (with their offsets), its segment is
    the first (the cache drops what a segment gone held)."""
    signature = " ".join(f"{segid}@{offset}" for segid, _, offset in view.leaves)
    first = view.leaves[0][0] if view.leaves else ""
    return (f"keyword-joined {signature}", first, field)


def _keep_join(
    view: ScoringView, key: tuple[str, str, str], column: KeywordColumn
) -> KeywordColumn:
    """Keep ``column`` under ``key`` for the next searchers over the same
    segments (a commit that only deleted), in place of the field's earlier join."""
    cache = view.segments.columns
    field = key[2]
    cache.prune(lambda k: k[2] != field or not k[0].startswith("keyword-joined "))
    found: KeywordColumn = cache.put(key, column)
    return found


class _KeywordReading:
    """A keyword field of one segment being read: its values so far (in
    order), their passages, and the last value read."""

    __slots__ = ("docs", "last", "ords", "values")

    def __init__(self) -> None:
        self.values: list[str] = []
        self.docs = array("i")
        self.ords = array("i")
        self.last: bytes | None = None

    def add(self, btext: bytes, ids: array[int]) -> None:
        number = len(self.values)
        self.values.append(btext.decode("utf-8"))
        self.docs.extend(ids)
        if len(ids) == 1:
            self.ords.append(number)
        else:
            self.ords.extend(itertools.repeat(number, len(ids)))
        self.last = btext

    def done(self) -> tuple[list[str], Int32Array, Int32Array]:
        return self.values, np.array(self.docs, dtype=np.int32), np.array(self.ords, np.int32)


def _segment_keywords(
    view: ScoringView, segid: str, seg: Any, field: str
) -> tuple[list[str], Int32Array, Int32Array]:
    """A keyword field in one segment: its values, sorted, and every ``(passage, value
    number)`` pair (see :func:`~searchlib._whoosh.columns.keyword_values`),
    read once per segment; the deadline is checked every :data:`_CHECK_TERMS`
    values, and a reading the deadline stopped goes on at the next call."""
    cache = view.segments.columns
    found: tuple[list[str], Int32Array, Int32Array] | None = cache.get(("keyword", segid, field))
    if found is not None:
        return found
    reading: _KeywordReading | None = cache.get(("keyword-reading", segid, field))
    if reading is None:  # kept in the cache as it grows: a timeout leaves it there
        reading = cache.put(("keyword-reading", segid, field), _KeywordReading())
    for n, btext in enumerate(columns.keyword_values(seg.reader, field, reading.last)):
        if n and n % _CHECK_TERMS == 0:
            limits.check()
        reading.add(btext, columns.keyword_postings(seg.reader, field, btext))
    found = reading.done()
    cache.prune(lambda k: k != ("keyword-reading", segid, field))
    cache.put(("keyword", segid, field), found)
    return found


def _value_numbers(view: ScoringView, field: str) -> npt.NDArray[np.int32]:
    """A single-valued keyword field's value number for every passage (the
    number of values where none; cached per searcher)."""

    def compute(_: tuple[str, ...]) -> npt.NDArray[np.int32]:
        column = keyword_column(view, field)
        out = np.full(view.doc_count, len(column.values), dtype=np.int32)
        out[column.docs] = column.ords
        return out

    found: npt.NDArray[np.int32] = view.field_data.get_or_compute(("numbers", field), compute)
    return found


def numeric_column(view: ScoringView, field: str) -> UInt64Array:
    """The sortable values of number or date field ``field`` for every passage
    (``MISSING`` where none; cached per searcher)."""

    def join(key: tuple[str, ...]) -> UInt64Array:
        parts = []
        for segid, seg, _ in view.leaves:
            part = view.segments.columns.get(("numeric", segid, field))
            if part is None:
                part = view.segments.columns.put(
                    ("numeric", segid, field), columns.numeric_column(seg.reader, field)
                )
            parts.append(part)
        return np.concatenate(parts) if parts else np.zeros(0, dtype=np.uint64)

    found: UInt64Array = view.field_data.get_or_compute(("numeric", field), join)
    return found


def _doc_ranks(view: ScoringView) -> IntArray:
    """The rank of each passage's document id in id order (ties within a
    document are broken by passage number)."""

    def compute(key: tuple[str, ...]) -> IntArray:
        keys = view.doc_keys()
        numbering = view.segments.key_numbers
        rank = np.zeros(len(numbering), dtype=np.int64)
        for i, name in enumerate(sorted(numbering)):
            rank[numbering[name]] = i
        return rank[keys] if len(keys) else keys

    found: IntArray = view.field_data.get_or_compute(("doc_ranks",), compute)
    return found


# -- filters -----------------------------------------------------------------------


def filter_mask(view: ScoringView, kinds: Mapping[str, FieldType], expr: FilterExpr) -> BoolArray:
    """Which passages satisfy ``expr`` (deleted ones included: the caller masks them)."""
    if isinstance(expr, Match):

        def compute(key: tuple[str, ...]) -> BoolArray:
            found = np.zeros(view.doc_count, dtype=np.bool_)
            for value in key[2:]:
                ids, _ = view.postings(expr.field, value.encode("utf-8"))
                found[ids] = True
            return found

        # Cached per searcher (a filter is often asked again, page after page);
        # callers combine masks into new arrays, never in place.
        mask: BoolArray = view.field_data.get_or_compute(
            ("match", expr.field, *sorted(set(expr.values))), compute
        )
        return mask
    if isinstance(expr, Range):
        values = numeric_column(view, expr.field)
        mask = np.asarray(values != _MISSING)
        schema = view.searcher.schema
        if expr.low is not None:
            low = np.uint64(columns.sortable(schema, expr.field, expr.low))
            mask &= values >= low if expr.low_inclusive else values > low
        if expr.high is not None:
            high = np.uint64(columns.sortable(schema, expr.field, expr.high))
            mask &= values <= high if expr.high_inclusive else values < high
        return np.asarray(mask)
    if isinstance(expr, Exclude):
        return ~filter_mask(view, kinds, expr.item)
    masks = [filter_mask(view, kinds, item) for item in expr.items]
    if isinstance(expr, AnyOf):
        return np.logical_or.reduce(masks) if masks else np.zeros(view.doc_count, np.bool_)
    return np.logical_and.reduce(masks) if masks else np.ones(view.doc_count, np.bool_)


def whoosh_filter(schema: Any, expr: FilterExpr) -> wq.Query:
    """``expr`` as a Whoosh query (for Whoosh's own ``filter=``)."""
    if isinstance(expr, Match):
        terms = [wq.Term(expr.field, v) for v in expr.values]
        return terms[0] if len(terms) == 1 else wq.Or(terms)
    if isinstance(expr, Range):
        low, high = expr.low, expr.high
        return wq.NumericRange(
            expr.field,
            low,
            high,
            startexcl=not expr.low_inclusive,
            endexcl=not expr.high_inclusive,
        )
    if isinstance(expr, Exclude):
        return wq.Not(whoosh_filter(schema, expr.item))
    parts = [whoosh_filter(schema, item) for item in expr.items]
    return wq.Or(parts) if isinstance(expr, AnyOf) else wq.And(parts)


# -- facets ------------------------------------------------------------------------


def facet_counts(
    view: ScoringView, kinds: Mapping[str, FieldType], facet: Facet, hits: IntArray
) -> dict[str, int]:
    """Counts per value of ``facet``'s field among ``hits`` (sorted passage numbers).

    Raises:
        ValueError: the field is not declared, or the facet does not suit its type.
    """
    kind = _kind(kinds, facet.field)
    if isinstance(kind, Keyword):
        if facet.by is not None or facet.edges is not None:
            raise ValueError(f"facet {facet.field}: a keyword field counts per value")
        column = keyword_column(view, facet.field)
        size = len(column.values)
        if kind.multiple:
            selected = np.zeros(view.doc_count, dtype=np.bool_)
            selected[hits] = True
            counts = np.bincount(column.ords[selected[column.docs]], minlength=size)
        else:  # one value (or none: counted apart, then dropped) per passage
            counts = np.bincount(_value_numbers(view, facet.field)[hits], minlength=size + 1)
            counts = counts[:size]
        order = np.lexsort((np.arange(len(counts)), -counts))
        order = order[counts[order] > 0]
        if facet.limit is not None:
            order = order[: facet.limit]
        return {column.values[i]: int(counts[i]) for i in order}
    values = numeric_column(view, facet.field)[hits]
    values = values[values != _MISSING]
    if isinstance(kind, Date):
        if facet.edges is not None:
            raise ValueError(f"facet {facet.field}: a date field counts by year, month or day")
        by = facet.by or "year"
        stamps = columns.from_sortable_dates(values).astype("datetime64[us]").astype(_BUCKETS[by])
        buckets, counts = np.unique(stamps, return_counts=True)
        names = np.datetime_as_string(buckets)
        return {str(b): int(c) for b, c in zip(names, counts, strict=True)}
    if facet.edges is None or facet.by is not None:
        raise ValueError(f"facet {facet.field}: a number field counts by ranges (give edges)")
    edges = sorted(set(facet.edges))
    schema = view.searcher.schema
    bounds = np.asarray([columns.sortable(schema, facet.field, e) for e in edges], np.uint64)
    counts = np.bincount(np.searchsorted(bounds, values, side="right"), minlength=len(edges) + 1)
    labels = ["*", *(number_label(e) for e in edges), "*"]
    return {f"{labels[i]}-{labels[i + 1]}": int(counts[i]) for i in range(len(edges) + 1)}


def _kind(kinds: Mapping[str, FieldType], field: str) -> FieldType:
    kind = kinds.get(field)
    if kind is None:
        known = ", ".join(kinds) or "none"
        raise ValueError(f"unknown field {field!r} (declared fields: {known})")
    return kind


# -- sorting -------------------------------------------------------------------------


def sort_key(view: ScoringView, kinds: Mapping[str, FieldType], key: SortKey) -> UInt64Array:
    """One unsigned key per passage, ascending in the wanted order, passages
    without a value last (:data:`MISSING`).

    Raises:
        ValueError: the field is not declared, or holds several values per document.
    """
    kind = _kind(kinds, key.field)
    if is_multiple(kind):
        raise ValueError(f"cannot sort by {key.field}: a document may hold several values")
    if isinstance(kind, Keyword):

        def compute(_: tuple[str, ...]) -> UInt64Array:
            column = keyword_column(view, key.field)
            out = np.full(view.doc_count, _MISSING, dtype=np.uint64)
            ords = column.ords.astype(np.uint64)
            if key.descending:
                ords = np.uint64(max(len(column.values) - 1, 0)) - ords
            out[column.docs] = ords
            return out

        found: UInt64Array = view.field_data.get_or_compute(
            ("sort", key.field, str(key.descending)), compute
        )
        return found
    assert isinstance(kind, Number | Date)
    values = numeric_column(view, key.field)
    if not key.descending:
        return values

    def reverse(_: tuple[str, ...]) -> UInt64Array:
        return np.where(values == _MISSING, _MISSING, ~values)

    found = view.field_data.get_or_compute(("sort", key.field, "True"), reverse)
    return found


def sorted_top(
    view: ScoringView,
    kinds: Mapping[str, FieldType],
    sort: tuple[SortKey, ...],
    hits: IntArray,
    scores: FloatArray,
    limit: int,
) -> list[tuple[int, float]]:
    """The first ``limit`` of ``hits`` by ``sort``, then score (descending),
    document id and passage number."""
    keys = [sort_key(view, kinds, k)[hits] for k in sort]
    if len(hits) > limit:
        first = keys[0]
        kth = np.partition(first, limit - 1)[limit - 1]
        keep = first <= kth  # ties at the boundary are all kept, then ordered
        hits = hits[keep]
        keys = [k[keep] for k in keys]
    ranks = _doc_ranks(view)[hits]
    order = np.lexsort((hits, ranks, -scores[hits], *reversed(keys)))[:limit]
    return [(int(hits[i]), float(scores[hits[i]])) for i in order]


__all__ = [
    "FieldRequest",
    "KeywordColumn",
    "execute_fields",
    "facet_counts",
    "filter_mask",
    "keyword_column",
    "numeric_column",
    "sort_key",
    "sorted_top",
    "whoosh_filter",
]
