"""Vectorised BM25F for OR-of-terms queries (numpy), Whoosh's scores exactly.

Most searches are a plain OR of terms over a few fields: Whoosh's
pure-Python union matchers visit every matching passage one by one, and an
exact total or a collapse by document visits them all again. Here the same
query is scored with numpy over whole posting lists:

* each term's postings (passage numbers and term frequencies) are read once
  from Whoosh through its public matcher API and cached per *segment* in a
  :class:`SegmentCache` that the searchers of one index share (a segment
  never changes once written; later deletions are masked at search time,
  and segments replaced by a merge are dropped from the cache);
* per-field length arrays (Whoosh's byte-quantised lengths, as its scorer
  sees them) are cached per segment too;
* what depends on the searcher (its deletions, each term's scores, the
  length norms) is cached in a :class:`ScoringView` that lives as long as
  the searcher (see :class:`searchlib.searching.SearcherState`);
* the BM25F parameters, IDF and average lengths are taken from the
  searcher's own weighting (:meth:`BM25F.scorer`), so a change of
  :class:`~searchlib.ranking.params.Ranking` is followed without any constant here;
* a phrase inside the union (``"..."``, the parts of ``est-ce``, proximity
  bonuses) is scored as Whoosh scores it, the sum of its words' scores where
  the words stand in order within its slop, checked on word positions that
  are cached like postings; any other subquery of the union is scored by its
  own Whoosh matcher.

A query that is not a union at the top (AND, NOT), a coordination bonus or
another weighting model returns ``None`` from :func:`execute_fast` and runs
through Whoosh: :func:`execute` is the one entry point the search module
calls. Whoosh stays the store of record.

Example:
    >>> from whoosh import query as wq
    >>> from searchlib import Document, Index
    >>> ix = Index.in_memory()
    >>> _ = ix.add([Document("a", "Cour", "La cour fédérale."), Document("b", "Vote", "Un vote.")])
    >>> q = wq.Or([wq.Term("title", "cour"), wq.Term("text", "cour")])
    >>> view = SegmentCache().view(ix.searcher())
    >>> fast = execute_fast(view, q, limit=10, collapse=True)
    >>> slow = execute_whoosh(ix.searcher(), q, limit=10, collapse=True)
    >>> fast.total == slow.total and fast.ranked == slow.ranked
    True
"""

from __future__ import annotations

import contextlib
import math
import threading
from array import array
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np
import numpy.typing as npt
from whoosh import query as wq
from whoosh.scoring import BM25F

from searchlib._cache import BoundedCache
from searchlib._frozen import quick_init
from searchlib._whoosh import blocks, columns
from searchlib._whoosh.limits import check as check_deadline

if TYPE_CHECKING:
    from whoosh.searching import Searcher

COLLAPSE_FIELD = "doc_id"
"""Stored column whose value groups passages into documents."""

CACHE_POSTINGS = 8_000_000
"""Most postings kept, for each of: postings read from segments (about 12
bytes each) and word positions for phrases (8 bytes), per :class:`SegmentCache`;
score impacts (16 bytes), per :class:`ScoringView`."""

CACHE_PHRASES = 1_000_000
"""Most passages kept for phrases found in place (16 bytes each), per :class:`ScoringView`."""

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
Int32Array = npt.NDArray[np.int32]


@quick_init
@dataclass(frozen=True, slots=True)
class Executed:
    """What running a query gives: ``(docnum, score)`` best first, and the total.

    ``total`` counts matching passages, or matching documents when collapsed;
    ``exact`` is false when it is an upper bound (phrase candidates that could
    not rank were not checked, or Whoosh estimated it).
    """

    ranked: list[tuple[int, float]]
    total: int
    exact: bool = True
    facets: dict[str, dict[str, int]] = dataclass_field(default_factory=dict)
    """Counts per declared field value, when asked (see :mod:`searchlib.ranking.facets`)."""


def execute(
    view: ScoringView, query: wq.Query, limit: int, collapse: bool, *, fast: bool = True
) -> Executed:
    """Run ``query``: the numpy path when it applies, else Whoosh.

    Args:
        view: the cached arrays of the searcher to run it with.
        query: the compiled Whoosh query.
        limit: how many hits to rank (from the first).
        collapse: at most one passage (the best) per ``doc_id``.
        fast: ``False`` runs every query through Whoosh (the reference path).
    """
    found = execute_fast(view, query, limit, collapse) if fast else None
    return found if found is not None else execute_whoosh(view.searcher, query, limit, collapse)


def execute_whoosh(
    searcher: Searcher, query: wq.Query, limit: int, collapse: bool, *, optimize: bool = True
) -> Executed:
    """The Whoosh path (any query).

    Collapsed, passages are fetched in growing batches until ``limit``
    distinct documents are seen (the first ``limit`` distinct documents of
    the passage ranking are exactly the top documents; Whoosh's own
    collapsing collector can drop some). Totals are exact when every match
    was fetched, else Whoosh's count of passages (an upper bound when
    collapsed; with ``optimize``, Whoosh's block-quality skipping, an estimate).
    """
    if not collapse:
        results = searcher.search(query, limit=limit, terms=False, optimize=optimize)
        return Executed([(int(d), float(s)) for d, s in results.items()], len(results))
    doc_ids = searcher.reader().column_reader(COLLAPSE_FIELD)
    fetch = max(limit * 2, 20)
    while True:
        results = searcher.search(query, limit=fetch, terms=False, optimize=optimize)
        items = list(results.items())
        ranked: list[tuple[int, float]] = []
        seen: set[str] = set()
        for docnum, score in items:
            doc_id = doc_ids[docnum]
            if doc_id not in seen:
                seen.add(doc_id)
                ranked.append((int(docnum), float(score)))
        if len(items) < fetch:
            return Executed(ranked[:limit], len(ranked))
        if len(ranked) >= limit:
            return Executed(ranked[:limit], int(results.estimated_length()), exact=False)
        fetch *= 4


def execute_leaves(
    view: ScoringView,
    leaves: Sequence[Leaf] | None,
    query: Callable[[], wq.Query],
    limit: int,
    collapse: bool,
) -> Executed:
    """:func:`execute` for a query given as its scored parts (what
    :func:`leaves` gives of it; ``None``: not a union), and a way to make its
    Whoosh query, called only when Whoosh must run it."""
    found = None if leaves is None else _execute_fast(view, leaves, limit, collapse)
    return found if found is not None else execute_whoosh(view.searcher, query(), limit, collapse)


def execute_fast(view: ScoringView, query: wq.Query, limit: int, collapse: bool) -> Executed | None:
    """Score ``query`` with numpy, or ``None`` when it is not an OR of terms
    under BM25F (then use :func:`execute_whoosh`)."""
    found = leaves(query)
    return None if found is None else _execute_fast(view, found, limit, collapse)


def _execute_fast(
    view: ScoringView, leaves: Sequence[Leaf], limit: int, collapse: bool
) -> Executed | None:
    with view.segments.lock:
        parts = _postings(view, leaves)
        if parts is None:
            return None
        sparse = _sparse_scores(view, parts)
        if sparse is not None:  # a selective query: nothing as long as the index
            ids, values = sparse
            if not collapse:
                ranked = _top(np.arange(len(ids)), values, limit)
                return Executed([(int(ids[i]), score) for i, score in ranked], len(ids))
            keys = view.doc_keys().take(ids)  # (take: a plain gather, faster than indexing)
            ranked, total = _top_documents(None, values, keys, limit, view.keys_grouped())
            return Executed([(int(ids[i]), score) for i, score in ranked], total)
        if collapse and limit > _FEW_RUNS and parts[3] and parts[0]:
            # A reranker's depth, every match scoring above 0: documents from
            # their best scores (the matching passages are never listed).
            scores = _positive_scores(view, parts)
            keys = view.doc_keys()
            size = len(view.segments.key_numbers)
            return Executed(*_best_documents(scores, keys, size, limit, view.keys_grouped()))
        scores, hits = _dense_hits(view, parts)
        if not collapse:
            return Executed(_top(hits, scores, limit), len(hits))
        ranked, total = _top_documents(hits, scores, view.doc_keys(), limit, view.keys_grouped())
        return Executed(ranked, total)


def match_fast(
    view: ScoringView, query: wq.Query
) -> tuple[FloatArray, npt.NDArray[np.bool_]] | None:
    """Every passage's score for ``query`` and whether it matches (deleted
    passages do not), or ``None`` when the query is not an OR of terms under
    BM25F. The caller holds ``view.segments.lock``."""
    found = leaves(query)
    parts = None if found is None else _postings(view, found)
    return None if parts is None else _dense_scores(view, parts)


_Postings = tuple[list[IntArray], list[FloatArray], list[tuple[IntArray, FloatArray]], bool]
"""A query's postings: each term's passages and score contributions, its
phrases' (passages holding the phrase, and their scores), and whether every
contribution is known to be above 0 (terms and phrases with a positive boost:
BM25F's idf and term part are)."""

SPARSE_SHARE = 8
"""A query's postings are summed passage by passage when the index has at least
this many times as many passages as they hold (else over an array of them all)."""


def _postings(view: ScoringView, leaves: Sequence[Leaf]) -> _Postings | None:
    """The postings of a union's terms and phrases, boosted, or ``None`` when
    the weighting is not BM25F."""
    searcher = view.searcher
    if type(searcher.weighting) is not BM25F:
        return None
    check_deadline()  # (and again for each term whose postings are read the first time)
    every_ids: list[IntArray] = []
    every_score: list[FloatArray] = []
    phrases: list[tuple[IntArray, FloatArray]] = []
    positive = True
    try:
        for leaf in leaves:
            if len(leaf) == 2:
                check_deadline()  # a phrase reads positions, any other part runs Whoosh
                if type(leaf[0]) is wq.Phrase:
                    ids, summed = view.phrase(leaf[0])
                    boost = leaf[0].boost * leaf[1]
                    phrases.append((ids, summed * boost))
                    positive = positive and boost > 0
                    continue
                ids, contrib = _whoosh_scores(searcher, leaf[0])
                boost = leaf[1]
                positive = False
            elif type(leaf) is OneOff:  # boosted as below: its weight does not recur
                ids, contrib = view.impacts(leaf.field, leaf.text)
                boost = leaf.boost
                positive = positive and boost > 0
            else:  # boosted and kept so: a word's boosts recur
                field, text, weight = leaf
                ids, contrib = view.impacts(field, text, weight)
                boost = 1.0
                positive = positive and weight > 0
            if len(ids):
                every_ids.append(ids)
                every_score.append(contrib * boost if boost != 1.0 else contrib)
    except _Unsupported:
        return None
    return every_ids, every_score, phrases, positive


def _sparse_scores(view: ScoringView, parts: _Postings) -> tuple[IntArray, FloatArray] | None:
    """The live passages holding a posting or a phrase, in order, and their
    scores, or ``None`` when the query is not selective (then
    :func:`_dense_scores`). Each passage's contributions are added in the order
    :func:`_dense_scores` adds them (the terms' in the order of the parts, then
    each phrase's): the same sums, to the bit."""
    every_ids, every_score, phrases, _ = parts
    held = sum(map(len, every_ids))
    if phrases:
        held += sum(len(ids) for ids, _ in phrases)
    if held * SPARSE_SHARE > view.doc_count:
        return None
    if not held:
        return _EMPTY
    phrased = [p for p in phrases if len(p[0])]
    ids = np.concatenate(every_ids) if len(every_ids) > 1 else (every_ids or [_EMPTY[0]])[0]
    scores: FloatArray
    if phrased:
        every = np.concatenate([ids, *(p[0] for p in phrased)])
        passages, where = np.unique(every, return_inverse=True)
        scores = _phrase_sums(ids, every_score, passages, where[: len(ids)])
    elif len(every_ids) == 1:  # one term: its passages, each once, in order
        passages, scores = ids, every_score[0]  # (cached: read, never written)
    else:
        passages, scores = _grouped_sums(ids, np.concatenate(every_score))
    if view.deleted is not None:  # (phrases hold live passages only)
        live = ~view.deleted[passages]
        passages, scores = passages[live], scores[live]
    for found, contrib in phrased:
        scores[np.searchsorted(passages, found)] += contrib
    return passages.astype(np.int64, copy=False), scores


def _phrase_sums(
    ids: IntArray, every_score: list[FloatArray], passages: IntArray, where: IntArray
) -> FloatArray:
    """The terms' sums over ``passages`` (``where``: each posting's passage)."""
    if not len(ids):
        return np.zeros(len(passages), dtype=np.float64)
    weights = np.concatenate(every_score) if len(every_score) > 1 else every_score[0]
    return np.asarray(
        np.bincount(where, weights=weights, minlength=len(passages)), dtype=np.float64
    )


def _grouped_sums(ids: IntArray, weights: FloatArray) -> tuple[IntArray, FloatArray]:
    """The distinct ``ids``, in order, and the sum of each one's ``weights``,
    added in their order in ``weights`` (a stable sort keeps it): what
    ``np.unique(ids, return_inverse=True)`` and a ``bincount`` give, cheaper."""
    order = np.argsort(ids, kind="stable")
    ordered = ids.take(order)
    first = np.empty(len(ordered), dtype=np.bool_)
    first[:1] = True
    np.not_equal(ordered[1:], ordered[:-1], out=first[1:])
    group = np.cumsum(first) - 1
    sums = np.asarray(np.bincount(group, weights=weights.take(order)), dtype=np.float64)
    return ordered[first], sums


def _summed(every_ids: list[IntArray], every_score: list[FloatArray], size: int) -> FloatArray:
    """Every passage's sum of the parts' scores, each passage's contributions
    added in the order of the parts: one ``bincount`` of the parts joined, or,
    for many postings (a learned expansion's), ``np.add.at`` part after part
    (no joined copy; the same sums)."""
    if not every_ids:
        return np.zeros(size, dtype=np.float64)
    if sum(map(len, every_ids)) > _ADD_AT_FROM:
        scores = np.zeros(size, dtype=np.float64)
        for ids, contrib in zip(every_ids, every_score, strict=True):
            np.add.at(scores, ids, contrib)
        return scores
    ids = np.concatenate(every_ids) if len(every_ids) > 1 else every_ids[0]
    weights = np.concatenate(every_score) if len(every_score) > 1 else every_score[0]
    return np.asarray(np.bincount(ids, weights=weights, minlength=size), dtype=np.float64)


_ADD_AT_FROM = 32_768
"""Postings past which :func:`_summed` adds part after part."""


def _dense_hits(view: ScoringView, parts: _Postings) -> tuple[FloatArray, IntArray]:
    """Every passage's score, and the matching passages (deleted ones do not), in order."""
    every_ids, _, _, positive = parts
    if not positive or not every_ids:
        every, matched = _dense_scores(view, parts)
        return every, np.flatnonzero(matched)
    # Every contribution is above 0: the passages scoring above 0 are the matches.
    scores = _positive_scores(view, parts)
    return scores, np.flatnonzero(scores > 0)  # (a bool array: 8 times fewer bytes to scan)


def _positive_scores(view: ScoringView, parts: _Postings) -> FloatArray:
    """Every passage's score when every contribution is above 0 (``parts``
    says so, and holds terms): above 0 where a live passage matches, 0 elsewhere."""
    every_ids, every_score, phrases, _ = parts
    scores = _summed(every_ids, every_score, view.doc_count)
    for found, contrib in phrases:
        if len(found):
            scores[found] += contrib
    if view.deleted is not None:
        scores[view.deleted] = 0.0
    return scores


def _dense_scores(view: ScoringView, parts: _Postings) -> tuple[FloatArray, npt.NDArray[np.bool_]]:
    """Every passage's score and whether it matches (deleted passages do not)."""
    every_ids, every_score, phrases, _ = parts
    matched = np.zeros(view.doc_count, dtype=np.bool_)
    scores = _summed(every_ids, every_score, view.doc_count)
    for ids in every_ids:
        matched[ids] = True
    if view.deleted is not None:
        matched &= ~view.deleted
    for ids, contrib in phrases:
        if len(ids):
            scores[ids] += contrib
            matched[ids] = True
    return scores, matched


def match_whoosh(
    searcher: Searcher, query: wq.Query, doc_count: int
) -> tuple[FloatArray, npt.NDArray[np.bool_]]:
    """What :func:`match_fast` gives, for any query, through Whoosh's matchers
    (deleted passages included: the caller masks them)."""
    ids, found = _whoosh_scores(searcher, query)
    scores = np.zeros(doc_count, dtype=np.float64)
    matched = np.zeros(doc_count, dtype=np.bool_)
    scores[ids] = found
    matched[ids] = True
    return scores, matched


# -- phrases ------------------------------------------------------------------------


def _phrase_candidates(view: ScoringView, phrase: wq.Phrase) -> tuple[IntArray, FloatArray]:
    """Live passages holding every word of a phrase, and the phrase's score in
    each if the words turn out to be in place (Whoosh scores a phrase as the
    sum of its words' scores, before its boost)."""
    words = [view.impacts(phrase.fieldname, w) for w in phrase.words]
    if not words or any(not len(ids) for ids, _ in words):
        return _EMPTY
    # The rarest word's passages, kept where each other word also stands
    # (looked up in each other word's sorted passages).
    rarest, *others = sorted((ids for ids, _ in words), key=len)
    ids = rarest
    for other in others:  # a lookup per passage kept: nothing as long as the index
        ids = ids[members(ids, other)]
    if view.deleted is not None:
        ids = ids[~view.deleted[ids]]
    parts = [impacts[np.searchsorted(wids, ids)] for wids, impacts in words]
    return ids, _tree_sum(parts)


def _tree_sum(parts: list[FloatArray]) -> FloatArray:
    """Sum in the order of Whoosh's binary tree of intersection matchers."""
    if len(parts) == 1:
        return parts[0]
    half = len(parts) // 2
    return _tree_sum(parts[:half]) + _tree_sum(parts[half:])


def _phrase_docs(view: ScoringView, phrase: wq.Phrase, docs: IntArray) -> npt.NDArray[np.bool_]:
    """Whether each of ``docs`` (holding every word) has the words in place.

    Whoosh's ``SpanNear2`` test (ordered, ``mindist=1``, ``slop``) on cached
    word positions: the next word must stand 1 to ``slop`` positions after
    where the previous one was found, so it is enough to follow the set of
    reachable ``(passage, position)`` keys from word to word. Keys are sorted,
    so one lookup per word finds each key's nearest reachable key before it
    (the only one that can be close enough).
    """
    if not len(docs):
        return np.zeros(0, dtype=np.bool_)
    inside: npt.NDArray[np.bool_] | None = None
    if len(docs) * SPARSE_SHARE > view.doc_count:  # many: a table of every passage
        inside = np.zeros(view.doc_count, dtype=np.bool_)
        inside[docs] = True
    field = phrase.fieldname
    slop = max(phrase.slop, 1)
    reached: IntArray | None = None
    for word in phrase.words:
        keys = view.positions(field, view.field_bytes(field, word))
        keys = keys[inside[keys >> 32] if inside is not None else members(keys >> 32, docs)]
        if reached is not None:
            before = np.searchsorted(reached, keys)  # reached[before - 1] < key
            nearest = reached[np.maximum(before - 1, 0)]
            keys = keys[(before > 0) & (keys - nearest <= slop)]
        reached = keys
        if not len(reached):
            return np.zeros(len(docs), dtype=np.bool_)
    if reached is None:
        return np.zeros(len(docs), dtype=np.bool_)
    return members(docs, reached >> 32)  # (keys are sorted: so are their passages)


def members(values: IntArray, table: IntArray) -> npt.NDArray[np.bool_]:
    """Whether each of ``values`` is in ``table`` (sorted).

    >>> members(np.array([1, 4, 9]), np.array([2, 4, 8]))
    array([False,  True, False])
    """
    if not len(table):
        return np.zeros(len(values), dtype=np.bool_)
    return np.asarray(table.take(table.searchsorted(values), mode="clip") == values)


class _Unsupported(Exception):
    """A term the numpy path cannot score like Whoosh does."""


_EMPTY: tuple[IntArray, FloatArray] = (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64))


# -- query shape ------------------------------------------------------------------


class OneOff(NamedTuple):
    """A term weighted for one query only (a learned expansion's term, whose
    weight differs with every query): its boosted scores are not kept."""

    field: str
    text: str
    boost: float


Leaf = tuple[str, str, float] | tuple[wq.Query, float] | OneOff
"""``(field, text, boost)`` for a term (its boosted scores kept: a word's
boosts recur), :class:`OneOff` for a term weighted for one query,
``(query, boost)`` for any other part of an OR."""


def leaves(query: wq.Query, boost: float = 1.0, top: bool = True) -> list[Leaf] | None:
    """The scored parts of an OR tree, else ``None`` (the query is not a union).

    Terms and phrases are scored here; any other subquery of an OR (an
    AND...) by its own Whoosh matcher, which visits only its matches, added
    as Whoosh's union adds it. A top-level query that is not a union (an AND,
    a NOT...) is left to Whoosh entirely.
    """
    if type(query) is wq.Term:
        return [(query.fieldname, query.text, boost * query.boost)]
    if type(query) is wq.Or and not query.scale and not query.minmatch:
        out: list[Leaf] = []
        for sub in query.subqueries:
            found = leaves(sub, boost * query.boost, top=False)
            if found is None:
                return None
            out.extend(found)
        return out
    if top or query is wq.NullQuery or isinstance(query, wq.Every | wq.Not):
        return None
    return [(query, boost)]


def _whoosh_scores(searcher: Searcher, query: wq.Query) -> tuple[IntArray, FloatArray]:
    """Every match of ``query`` with its Whoosh score, segment by segment."""
    ids = array("q")
    scores = array("d")
    context = searcher.context()
    for sub, offset in searcher.leaf_searchers():
        m = query.matcher(sub, context)
        while m.is_active():
            ids.append(offset + m.id())
            scores.append(m.score())
            m.next()
    return np.frombuffer(ids, dtype=np.int64), np.frombuffer(scores, dtype=np.float64)


# -- ranking ----------------------------------------------------------------------


_BLOCK = 64
"""Block size of :func:`_top`'s first cut (a block's best score bounds its others)."""


def _top(hits: IntArray, scores: FloatArray, limit: int) -> list[tuple[int, float]]:
    """The best ``limit`` of ``hits``: score descending, then docnum ascending (Whoosh's order)."""
    values = scores.take(hits)
    blocks = len(values) // _BLOCK
    if blocks > 4 * limit:
        # A first cut, cheap on long lists: the limit-th best of the blocks'
        # maxima is at most the limit-th best score (each of those blocks
        # holds a score at least as high), so nothing of the best is lost.
        maxima = values[: blocks * _BLOCK].reshape(blocks, _BLOCK).max(axis=1)
        floor = np.partition(maxima, blocks - limit)[blocks - limit]
        keep = values >= floor
        hits, values = hits[keep], values[keep]
    if len(hits) > limit:
        kth = np.partition(values, len(values) - limit)[len(values) - limit]
        keep = values >= kth  # ties at the boundary are all kept, then cut
        hits, values = hits[keep], values[keep]
    order = np.lexsort((hits, -values))[:limit]
    return [(int(hits[i]), float(values[i])) for i in order]


def _top_documents(
    hits: IntArray | None, scores: FloatArray, keys: IntArray, limit: int, grouped: bool
) -> tuple[list[tuple[int, float]], int]:
    """The best passage of each of the best ``limit`` documents among ``hits``
    (sorted; ``None``: every passage of ``scores`` and ``keys``), ranked (what
    :func:`_top` gives of :func:`_collapse`'s passages), and how many documents match.

    With ``grouped`` keys (see :func:`_collapse`), documents are counted by
    their runs, and the best documents found by walking the best passages in
    ranking order: each document first met there is met at its best passage
    (the first one on a tie), in the order of the documents' ranking. A few
    times ``limit`` passages usually hold ``limit`` documents; else more are
    walked. Nothing is computed per document for the documents that cannot rank.
    """
    if hits is None and (not grouped or not len(scores)):
        hits = np.arange(len(scores))
    if hits is not None and (not grouped or not len(hits)):
        chosen, total = _collapse(hits, scores, keys, limit, grouped)
        return _top(chosen, scores, limit), total
    # (every passage: the keys and scores as they are, not copied through an index)
    hit_keys = keys if hits is None else keys.take(hits)
    total = _runs(hit_keys)
    values = scores if hits is None else scores.take(hits)
    take = 4 * max(limit, 1)
    wanted = min(limit, total)
    while True:
        # Every passage scoring at least the take-th best: a prefix of the
        # ranking of passages (ties at its end all kept).
        keep = _best(values, take) if 2 * take < len(values) else np.arange(len(values))
        order = keep[np.lexsort((keep if hits is None else hits[keep], -values[keep]))]
        at = np.asarray(_first_of_each(order, hit_keys[order], wanted), dtype=np.int64)
        if len(at) == wanted or len(keep) == len(values):
            found = at if hits is None else hits[at]
            return list(zip(found.tolist(), values[at].tolist(), strict=True)), total
        take *= 4


def _best_documents(
    scores: FloatArray, keys: IntArray, size: int, limit: int, grouped: bool = False
) -> tuple[list[tuple[int, float]], int]:
    """What :func:`_top_documents` gives when every passage's score is above 0
    where it matches, 0 elsewhere (``keys`` below ``size``), found from the
    documents' best scores: for many documents (a reranker's depth), cheaper
    than ranking their passages. The documents ranking above the ``limit``-th
    best one's score, or at it, are those of the passages that score at least
    that much; each one's first passage at its best score stands for it.

    With ``grouped`` keys (see :func:`_collapse`), no array of every
    document's best score is made: documents are counted by their runs of
    matching passages, and the best ones found among the passages above a
    threshold (see :func:`_grouped_best_documents`)."""
    if grouped:
        return _grouped_best_documents(scores, keys, limit)
    best = np.zeros(size, dtype=np.float64)
    np.maximum.at(best, keys, scores)
    total = int(np.count_nonzero(best > 0))  # (a bool array counts faster)
    if total > limit:
        kth = np.partition(best, size - limit)[size - limit]
        found = np.flatnonzero(scores >= kth)
    else:
        found = np.flatnonzero(scores)
    found_keys = keys[found]
    at_best = scores[found] == best[found_keys]
    _, first = np.unique(found_keys[at_best], return_index=True)
    chosen = found[at_best][first]
    return _ranked(chosen, scores[chosen], limit), total


_SAMPLED = 8
""":func:`_grouped_best_documents` guesses its threshold from about this many
passages per document asked for, evenly spaced."""


def _grouped_best_documents(
    scores: FloatArray, keys: IntArray, limit: int
) -> tuple[list[tuple[int, float]], int]:
    """:func:`_best_documents` with grouped keys.

    The passages scoring at least a threshold ``t`` hold every document whose
    best score is ``t`` or more, each with its best passage; when they hold
    ``limit`` documents or more, the ``limit``-th best document scores ``t``
    or more, so they hold the best ``limit`` documents, and these are found
    from them alone. ``t`` is guessed from a sample of the scores so that
    about four times ``limit`` passages score that much; a guess holding too
    few documents is lowered, and at worst every matching passage is used:
    the guess changes the work, never the result."""
    matching = np.flatnonzero(scores > 0)
    total = _runs(keys.take(matching))
    found = matching
    if total > limit:
        sample = scores[:: max(1, len(scores) // (_SAMPLED * limit))]
        wanted = 4 * limit
        while (above := -(-wanted * len(sample) // len(scores))) < len(sample):
            t = np.partition(sample, len(sample) - above)[len(sample) - above]
            if t <= 0:
                break
            candidates = np.flatnonzero(scores >= t)
            if _runs(keys.take(candidates)) >= limit:
                found = candidates
                break
            wanted *= 4
    found_keys = keys.take(found)
    values = scores[found]
    new_run = np.empty(len(found), dtype=np.bool_)
    new_run[:1] = True
    np.not_equal(found_keys[1:], found_keys[:-1], out=new_run[1:])
    best = np.maximum.reduceat(values, np.flatnonzero(new_run)) if len(found) else values
    at = _first_best(values, np.cumsum(new_run) - 1, best)
    return _ranked(found[at], values[at], limit), total


def _runs(keys: IntArray) -> int:
    """How many runs of equal values ``keys`` has."""
    return int(np.count_nonzero(keys[1:] != keys[:-1])) + 1 if len(keys) else 0


def _ranked(chosen: IntArray, values: FloatArray, limit: int) -> list[tuple[int, float]]:
    """The best ``limit`` of passages ``chosen`` scoring ``values``: score
    descending, then passage ascending."""
    order = np.lexsort((chosen, -values))[:limit]
    return list(zip(chosen[order].tolist(), values[order].tolist(), strict=True))


def _first_of_each(order: IntArray, keys: IntArray, wanted: int) -> IntArray | list[int]:
    """The first of ``order`` for each of the first ``wanted`` distinct ``keys``
    (its key), in their order: a document's first passage in the ranking is its best.
    A page's worth is walked in Python; a reranker's depth, with ``np.unique``."""
    if wanted > _FEW_RUNS:
        _, first = np.unique(keys, return_index=True)
        return order[np.sort(first)[:wanted]]
    seen: set[int] = set()
    at: list[int] = []
    for i, key in zip(order.tolist(), keys.tolist(), strict=True):
        if key not in seen:
            seen.add(key)
            at.append(i)
            if len(at) == wanted:
                break
    return at


def _best(values: FloatArray, take: int) -> IntArray:
    """Where the values at least as high as the ``take``-th highest are (``take`` < their count)."""
    where: IntArray | None = None
    blocks = len(values) // _BLOCK
    if blocks > 4 * take:  # the first cut of :func:`_top`
        maxima = values[: blocks * _BLOCK].reshape(blocks, _BLOCK).max(axis=1)
        floor = np.partition(maxima, blocks - take)[blocks - take]
        where = np.flatnonzero(values >= floor)
        if len(where) <= take:
            return where
        values = values.take(where)
    kth = np.partition(values, len(values) - take)[len(values) - take]
    found = np.flatnonzero(values >= kth)
    return found if where is None else where[found]


_FEW_RUNS = 32
"""Up to this many documents to resolve, :func:`_collapse` looks into each one's
run of passages in turn; past it (a page of 100), vectorised over every run."""


def _collapse(
    hits: IntArray, scores: FloatArray, keys: IntArray, limit: int, grouped: bool
) -> tuple[IntArray, int]:
    """The best passage of each document among ``hits`` (the first one on a tie),
    and how many documents match.

    With ``grouped`` (each document's passages are numbered side by side, as
    :meth:`Index.add` writes them), only the documents that can be among the
    best ``limit`` are resolved to a passage: ties at the boundary are kept,
    for :func:`_top` to cut as it would cut the full list.
    """
    if not len(hits):
        return hits, 0
    hit_keys = keys.take(hits)
    if grouped:
        values = scores.take(hits)
        new_run = np.empty(len(hits), dtype=np.bool_)
        new_run[0] = True
        np.not_equal(hit_keys[1:], hit_keys[:-1], out=new_run[1:])
        starts = np.flatnonzero(new_run)
        best = np.maximum.reduceat(values, starts)
        total = len(starts)
        chosen = None
        if total > limit:
            kth = np.partition(best, total - limit)[total - limit]
            chosen = np.flatnonzero(best >= kth)
        if chosen is None:  # every run
            return hits[_first_best(values, np.cumsum(new_run) - 1, best)], total
        ends = np.append(starts[1:], len(hits))
        if len(chosen) <= _FEW_RUNS:
            runs = zip(starts[chosen].tolist(), ends[chosen].tolist(), strict=True)
            first = [s + int(np.argmax(values[s:e])) for s, e in runs]
            return hits[np.asarray(first, dtype=np.int64)], total
        # Only the passages of the chosen runs: each run's start, then one by one.
        counts = ends[chosen] - starts[chosen]
        where = np.repeat(starts[chosen] - (np.cumsum(counts) - counts), counts)
        where += np.arange(len(where))
        runs_of = np.repeat(np.arange(len(chosen)), counts)
        return hits[where[_first_best(values[where], runs_of, best[chosen])]], total
    best = np.full(int(keys.max()) + 1, -np.inf)
    np.maximum.at(best, hit_keys, scores[hits])
    winners = hits[scores[hits] == best[hit_keys]]
    _, first_seen = np.unique(keys[winners], return_index=True)
    return winners[first_seen], len(first_seen)


def _first_best(values: FloatArray, runs: IntArray, best: FloatArray) -> IntArray:
    """Where each run's first value at the run's best is: ``runs`` numbers each
    value's run (0, 1, ... in order, every run present), ``best`` each run's best."""
    at_best = np.flatnonzero(values == best[runs])
    return np.asarray(at_best[np.diff(runs[at_best], prepend=-1) != 0])


# -- cached index data ------------------------------------------------------------


class _Segment:
    """What is cached from one immutable Whoosh segment."""

    def __init__(self, reader: Any) -> None:
        self.reader = reader
        self.doc_count = int(reader.doc_count_all())
        self.lengths: dict[str, FloatArray] = {}
        self.keys: IntArray | None = None

    def field_lengths(self, field: str) -> FloatArray:
        found = self.lengths.get(field)
        if found is None:
            found = self.lengths[field] = columns.field_lengths(self.reader, field)
        return found

    def doc_keys(self, numbering: dict[str, int]) -> IntArray:
        """The number of each passage's ``doc_id`` in ``numbering`` (extended as needed)."""
        if self.keys is None:
            self.keys = columns.doc_numbers(self.reader, COLLAPSE_FIELD, numbering)
        return self.keys


SegmentKey = tuple[str, str, bytes]
"""``(segment id, field, term bytes)``."""


def _postings_cost(value: tuple[Int32Array, FloatArray]) -> int:
    return len(value[0])


def _positions_cost(value: IntArray) -> int:
    return len(value)


class SegmentCache:
    """What is read from the segments of one index, shared by its successive searchers.

    A segment never changes once written, so its decoded postings, word
    positions, field lengths and ``doc_id`` keys stay valid for every searcher
    that holds it; segments that a newer searcher no longer holds (merged
    away) are dropped when that searcher's view is made.

    Args:
        max_postings: most postings kept decoded, and most word positions
            (each least recently used first).
    """

    def __init__(self, max_postings: int = CACHE_POSTINGS) -> None:
        self.lock = threading.Lock()
        """Held while a query is scored: a Whoosh reader must not be read by two threads."""
        self.segments: dict[str, _Segment] = {}
        self.postings: BoundedCache[SegmentKey, tuple[Int32Array, FloatArray]] = BoundedCache(
            max_postings, cost=_postings_cost
        )
        self.positions: BoundedCache[SegmentKey, IntArray] = BoundedCache(
            max_postings, cost=_positions_cost
        )
        self.key_numbers: dict[str, int] = {}
        self.columns: BoundedCache[tuple[str, str, str], Any] = BoundedCache(256)
        """Declared fields read from segments, by ``(kind, segment id, field)``
        (see :mod:`searchlib.ranking.facets`)."""

    def view(
        self,
        searcher: Searcher,
        doc_frequency: Callable[[str, str], int] | None = None,
        *,
        max_impacts: int = CACHE_POSTINGS,
    ) -> ScoringView:
        """The arrays of ``searcher``'s segments, for scoring with it.

        Args:
            searcher: a Whoosh searcher of this cache's index.
            doc_frequency: ``(field, text) -> int``, a cached
                ``searcher.doc_frequency`` (default: uncached).
            max_impacts: most term scores the view keeps (postings, least
                recently used first).
        """
        with self.lock:
            leaves: list[tuple[str, _Segment, int]] = []
            for reader, offset in searcher.reader().leaf_readers():
                if reader.segment() is None:  # an empty index reads as an EmptyReader
                    continue
                segid = reader.segment().segment_id()
                seg = self.segments.get(segid)
                if seg is None:
                    seg = self.segments[segid] = _Segment(reader)
                else:
                    seg.reader = reader
                leaves.append((segid, seg, offset))
            live = {segid for segid, _, _ in leaves}
            for gone in set(self.segments) - live:
                del self.segments[gone]
            self.postings.prune(lambda key: key[0] in live)
            self.positions.prune(lambda key: key[0] in live)
            self.columns.prune(lambda key: key[1] in live)
            if doc_frequency is None:
                doc_frequency = lambda field, text: int(searcher.doc_frequency(field, text))  # noqa: E731
            return ScoringView(self, searcher, leaves, doc_frequency, max_impacts)

    def segment_positions(self, segid: str, seg: _Segment, field: str, btext: bytes) -> IntArray:
        """``passage << 32 | position`` of the term's occurrences in one segment."""
        key = (segid, field, btext)
        found = self.positions.get(key)
        if found is not None:
            return found
        docs, where = blocks.read_positions(seg.reader, field, btext)
        found = (np.frombuffer(docs, dtype=np.int64) << 32) | np.frombuffer(where, dtype=np.int64)
        return self.positions.put(key, found)

    def segment_postings(
        self, segid: str, seg: _Segment, field: str, btext: bytes
    ) -> tuple[Int32Array, FloatArray]:
        """Passage numbers (within the segment) and term frequencies of a term."""
        key = (segid, field, btext)
        found = self.postings.get(key)
        if found is not None:
            return found
        ids, tf = blocks.read_postings(seg.reader, field, btext)
        found = (np.frombuffer(ids, dtype=np.int32), np.frombuffer(tf, dtype=np.float64))
        return self.postings.put(key, found)


PhraseKey = tuple[str, tuple[str, ...], int]
"""``(field, words, slop)`` of a phrase."""


def _impacts_cost(value: tuple[IntArray, FloatArray]) -> int:
    return len(value[0])


class ScoringView:
    """Whole-index arrays for one searcher (global passage numbers).

    Made by :meth:`SegmentCache.view`; lives as long as its searcher.
    """

    def __init__(
        self,
        segments: SegmentCache,
        searcher: Searcher,
        leaves: list[tuple[str, _Segment, int]],
        doc_frequency: Callable[[str, str], int],
        max_impacts: int = CACHE_POSTINGS,
    ) -> None:
        self.segments = segments
        self.searcher = searcher
        self.leaves = leaves
        self.doc_frequency = doc_frequency
        self.schema = searcher.schema
        self.doc_count = int(searcher.doc_count_all())
        self._norms: BoundedCache[tuple[str, float, float, float], FloatArray] = BoundedCache(64)
        self._avgfl: BoundedCache[str, float] = BoundedCache(64)
        self._impacts: BoundedCache[tuple[str, str, float], tuple[IntArray, FloatArray]] = (
            BoundedCache(max_impacts, cost=_impacts_cost)
        )
        self._phrases: BoundedCache[PhraseKey, tuple[IntArray, FloatArray]] = BoundedCache(
            CACHE_PHRASES, cost=_impacts_cost
        )
        self._keys: IntArray | None = None
        self._grouped: bool | None = None
        self.field_data: BoundedCache[tuple[str, ...], Any] = BoundedCache(64)
        """Declared fields over the whole index (see :mod:`searchlib.ranking.facets`)."""
        self.deleted: npt.NDArray[np.bool_] | None = None
        reader = searcher.reader()
        if reader.has_deletions():
            self.deleted = np.ones(self.doc_count, dtype=np.bool_)
            for leaf, offset in reader.leaf_readers():
                alive = np.fromiter(leaf.all_doc_ids(), dtype=np.int64)
                self.deleted[alive + offset] = False

    def postings(self, field: str, btext: bytes) -> tuple[IntArray, FloatArray]:
        """Passages holding the term (global numbers) and its frequency in each."""
        parts = [
            self.segments.segment_postings(segid, seg, field, btext)
            for segid, seg, _ in self.leaves
        ]
        if len(parts) == 1:
            return parts[0][0].astype(np.int64) + self.leaves[0][2], parts[0][1]
        ids = np.concatenate(
            [p[0].astype(np.int64) + off for p, (_, _, off) in zip(parts, self.leaves, strict=True)]
        )
        tf = np.concatenate([p[1] for p in parts])
        return ids, tf

    def impacts(self, field: str, text: str, boost: float = 1.0) -> tuple[IntArray, FloatArray]:
        """Passages holding the term and its BM25F score in each, times ``boost``.

        Raises:
            _Unsupported: the weighting does not score this field with BM25F.
        """
        key = (field, text, boost)
        found = self._impacts.get(key)
        if found is not None:
            return found
        if boost != 1.0:
            ids, scores = self.impacts(field, text)
            return self._impacts.put(key, (ids, scores * boost) if len(ids) else _EMPTY)
        check_deadline()  # reading a term's postings the first time is Python
        found = _EMPTY
        searcher = self.searcher
        schema = searcher.schema
        btext: bytes | None = None
        if field in schema:
            with contextlib.suppress(ValueError):
                btext = schema[field].to_bytes(text)
        if btext is not None and (df := self.doc_frequency(field, text)):
            if not schema[field].scorable:
                raise _Unsupported(field)
            # What BM25F.scorer() would give (a BM25FScorer), without building
            # one: B, K1, the average length and WeightingModel.idf().
            weighting = searcher.weighting
            k1 = weighting.K1
            b = weighting._field_B.get(field, weighting.B)
            idf = math.log(self.doc_count / (df + 1)) + 1
            ids, tf = self.postings(field, btext)
            if len(ids):
                norm = self.norms(field, k1, b, self.average_length(field))[ids]
                # bm25() in whoosh.scoring, operation for operation.
                found = (ids, idf * ((tf * (k1 + 1)) / (tf + norm)))
        return self._impacts.put(key, found)

    def phrase(self, phrase: wq.Phrase) -> tuple[IntArray, FloatArray]:
        """Live passages where the phrase's words stand in place, and the sum
        of its words' scores in each (before boosts); kept for the searcher's
        lifetime, as Lucene's query cache keeps frequent clauses (an acronym's
        long form comes back with every query that writes the acronym).

        Raises:
            _Unsupported: the weighting does not score this field with BM25F.
        """
        key = (phrase.fieldname, tuple(phrase.words), phrase.slop)
        found = self._phrases.get(key)
        if found is None:
            ids, summed = _phrase_candidates(self, phrase)
            if len(ids):
                in_place = _phrase_docs(self, phrase, ids)
                ids, summed = ids[in_place], summed[in_place]
            found = self._phrases.put(key, (ids, summed))
        return found

    def average_length(self, field: str) -> float:
        """The searcher's average length of ``field`` (1 when none), as BM25FScorer takes it."""
        return self._avgfl.get_or_compute(
            field, lambda f: float(self.searcher.avg_field_length(f) or 1)
        )

    def field_bytes(self, field: str, text: str) -> bytes:
        return bytes(self.schema[field].to_bytes(text))

    def positions(self, field: str, btext: bytes) -> IntArray:
        """``passage << 32 | position`` of every occurrence of the term, sorted."""
        parts = []
        for segid, seg, off in self.leaves:
            found = self.segments.segment_positions(segid, seg, field, btext)
            parts.append(found + (off << 32) if off else found)  # no copy for the first
        return np.concatenate(parts) if len(parts) > 1 else parts[0]

    def norms(self, field: str, k1: float, b: float, avgfl: float) -> FloatArray:
        """``K1 * ((1 - B) + B * fl / avgfl)`` for every passage (Whoosh's bm25 denominator)."""

        def compute(key: tuple[str, float, float, float]) -> FloatArray:
            fl = np.concatenate([seg.field_lengths(field) for _, seg, _ in self.leaves])
            return k1 * ((1 - b) + b * fl / avgfl)

        return self._norms.get_or_compute((field, k1, b, avgfl), compute)

    def doc_keys(self) -> IntArray:
        """A small integer per distinct ``doc_id``, for every passage."""
        if self._keys is None:
            numbering = self.segments.key_numbers
            parts = [seg.doc_keys(numbering) for _, seg, _ in self.leaves]
            self._keys = np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)
        return self._keys

    def keys_grouped(self) -> bool:
        """Whether every document's passages are numbered side by side (one run
        of equal keys per document), which lets :func:`_collapse` work on runs."""
        if self._grouped is None:
            keys = self.doc_keys()
            run_keys = np.sort(keys[np.flatnonzero(np.diff(keys, prepend=-1))])
            # No key twice among the runs' (a sort: np.unique's first call
            # imports numpy.ma, 10-17 ms of a newly opened index's first search).
            self._grouped = not np.any(run_keys[1:] == run_keys[:-1])
        return self._grouped
