"""A learned model bound to one searcher: query expansion, candidate features, reranking.

:class:`Learned` is what a search uses of a :class:`~searchlib.learn.model.LearnedModel`:
the :class:`~searchlib.query.compiler.TermExpansion` the compiler adds to each
query and the :class:`~searchlib.searching.Reranker` that reorders the best
candidates. It is made for one searcher: what it knows of documents (their
length, their title's length, their source, their prior) is read from that
searcher's index, so documents added after learning get their features too
(a new document has no prior: it was judged for no topic).

The features of a candidate (a passage, the best of its document when
searches collapse) are, in :data:`FEATURES` order:

* ``score``, ``rank``, ``score_ratio``: its lexical score (query expanded),
  its rank, and its score over the best one's;
* ``bm25_text``, ``bm25_title``: the BM25 scores of the query's own terms in
  the passage's text and title (no boost, no expansion);
* ``coverage``, ``title_coverage``: the share of the query's terms found in
  the passage, in its title;
* ``association``: the summed scores of the query's :data:`ASSOCIATED_TERMS`
  best-associated document terms that the passage's text holds (whether or
  not the query is expanded with them);
* ``log_doc_length``, ``log_title_length``: the document's length in words
  (all its passages), its title's, as ``log(1 + n)``;
* ``prior``: the share of training topics the document was relevant for;
* ``query_terms``: how many terms the query has;
* ``source=<prefix>``: one column per frequent id prefix, and ``source=other``.
"""

from __future__ import annotations

import dataclasses
import itertools
import threading
from collections import Counter
from collections.abc import Iterable, Sequence

import numpy as np
import numpy.typing as npt

from searchlib.learn.model import BASE_FEATURES, MAX_SOURCES, LearnedModel, feature_names
from searchlib.learn.trees import summed_rows
from searchlib.ranking.fastpath import Executed, ScoringView
from searchlib.searching import CompiledQuery, SearchContext, SearcherState

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

_COLUMN = {name: i for i, name in enumerate(BASE_FEATURES)}

ASSOCIATED_TERMS = 30
"""Associated document terms the ``association`` feature looks for."""

HOLDERS_BYTES = 32 << 20
"""Bytes of the bit tables (one bit per passage) that say which passages hold
an associated term, kept per searcher: about 6,000 terms of an index of 40,000
passages, 250 of one of a million. Associated terms recur from query to
query: reading a passage's bit costs less than a binary search in the term's
posting list. Full, the cache starts over (a table is rebuilt from
the term's cached postings in microseconds; a lookup then is a plain ``dict``
one)."""


def source_of(doc_id: str) -> str:
    """A document's source: its id up to the first ``:`` (else ``/``), or ``""``.

    >>> source_of("cdt:L1234-5"), source_of("docs/a.txt"), source_of("a001p02")
    ('cdt', 'docs', '')
    """
    for sep in (":", "/"):
        head, found, _ = doc_id.partition(sep)
        if found:
            return head
    return ""


def frequent_sources(doc_ids: Iterable[str], *, min_share: float = 0.01) -> tuple[str, ...]:
    """The id prefixes of at least ``min_share`` of ``doc_ids`` (most frequent
    first, at most :data:`MAX_SOURCES`, not the empty prefix)."""
    counts = Counter(source_of(d) for d in doc_ids)
    total = sum(counts.values())
    counts.pop("", None)
    best = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return tuple(s for s, n in best[:MAX_SOURCES] if total and n / total >= min_share)


class Learned:
    """A :class:`LearnedModel` bound to one searcher's state.

    Args:
        model: the learned model.
        state: the searcher state it serves (its index gives the documents'
            lengths, sources and keys).

    Attributes:
        depth: how many of the best candidates the reranker reorders (0: no reranker).
    """

    def __init__(self, model: LearnedModel, state: SearcherState) -> None:
        self.model = model
        self.state = state
        self.names = feature_names(model.sources)
        self.depth = model.reranker.depth if model.reranker is not None else 0
        self._lock = threading.Lock()
        self._docs: _DocArrays | None = None
        self._holders = _Holders(state.scoring.doc_count, HOLDERS_BYTES)

    # -- TermExpansion -------------------------------------------------------------

    def expand(self, terms: Sequence[str]) -> list[tuple[str, float]]:
        """See :meth:`Associations.expand <searchlib.learn.model.Associations.expand>`."""
        return self.model.associations.expand(terms)

    # -- Reranker ----------------------------------------------------------------

    def rerank(
        self, context: SearchContext, compiled: CompiledQuery, executed: Executed, collapse: bool
    ) -> Executed:
        """The first :attr:`depth` hits rescored: lexical score plus the
        reranker's share (see :meth:`shares`), best first; the rest follow."""
        if self.model.reranker is None or not executed.ranked:
            return executed
        docs, lexical = _columns(executed.ranked[: self.depth])
        scores = self._scores(compiled, docs, lexical)
        order = np.lexsort((docs, -scores))
        ranked = list(zip(docs[order].tolist(), scores[order].tolist(), strict=True))
        ranked.extend(executed.ranked[self.depth :])
        return dataclasses.replace(executed, ranked=ranked)

    def scores(self, compiled: CompiledQuery, head: Sequence[tuple[int, float]]) -> FloatArray:
        """Each candidate's lexical score plus the learned share (see :meth:`shares`)."""
        return self._scores(compiled, *_columns(head))

    def _scores(self, compiled: CompiledQuery, docs: IntArray, lexical: FloatArray) -> FloatArray:
        return np.asarray(lexical + self._shares(compiled, docs, lexical), dtype=np.float64)

    def shares(self, compiled: CompiledQuery, head: Sequence[tuple[int, float]]) -> FloatArray:
        """What the reranker adds to each candidate's lexical score: its trees'
        output times ``best score / scale`` (so the order is the trees' order on
        top of the lexical one, as they were trained)."""
        return self._shares(compiled, *_columns(head))

    def _shares(self, compiled: CompiledQuery, docs: IntArray, lexical: FloatArray) -> FloatArray:
        reranker = self.model.reranker
        if reranker is None or not len(docs):
            return np.zeros(len(docs), dtype=np.float64)
        x = self._features(compiled, docs, lexical)
        unit = self._unit(float(lexical[0]))
        return np.asarray(unit * reranker.forest.predict(x), dtype=np.float64)

    def unit(self, head: Sequence[tuple[int, float]]) -> float:
        """Score per unit of the trees' output for this list of candidates."""
        return self._unit(head[0][1] if head else 0.0)

    def _unit(self, best: float) -> float:
        reranker = self.model.reranker
        scale = reranker.scale if reranker is not None else 1.0
        return (best if best > 0 else 1.0) / scale

    # -- features ----------------------------------------------------------------

    def features(self, compiled: CompiledQuery, head: Sequence[tuple[int, float]]) -> FloatArray:
        """The feature matrix of candidates ``head`` (``(docnum, score)``, best first)."""
        return self._features(compiled, *_columns(head))

    def _features(self, compiled: CompiledQuery, docs: IntArray, score: FloatArray) -> FloatArray:
        n = len(docs)
        x = np.zeros((n, len(self.names)), dtype=np.float64)
        if not n:
            return x
        x[:, _COLUMN["score"]] = score
        x[:, _COLUMN["rank"]] = np.arange(1, n + 1)
        x[:, _COLUMN["score_ratio"]] = score / score[0] if score[0] > 0 else 0.0
        view = self.state.scoring
        terms = sorted(compiled.match.terms)
        associated = self._associated(terms)
        # Looked up in posting lists in passage order (a sorted search runs
        # several times faster), then put back in rank order.
        order = np.argsort(docs, kind="stable")
        ordered = docs[order]
        # The query's terms in the text, then in the title: whether each
        # candidate holds them, and their impact there (anything where not).
        q = len(terms)
        lists = [view.impacts("text", t) for t in terms] + [view.impacts("title", t) for t in terms]
        hit = np.zeros((2 * q, n), dtype=np.bool_)
        impact = np.zeros((2 * q, n), dtype=np.float64)
        for row, (ids, values) in enumerate(lists):
            if len(ids):
                at = ids.searchsorted(ordered)
                np.equal(ids.take(at, mode="clip"), ordered, out=hit[row])
                values.take(at, mode="clip", out=impact[row])
        block = np.zeros((5, n), dtype=np.float64)  # bm25_text ... association
        if terms:
            block[0] = summed_rows(np.where(hit[:q], impact[:q], 0.0))
            block[1] = summed_rows(np.where(hit[q:], impact[q:], 0.0))
            block[2] = (hit[:q] | hit[q : 2 * q]).sum(axis=0) / q
            block[3] = hit[q : 2 * q].sum(axis=0) / q
        if associated:
            # The associated terms' bits of each candidate, read byte by byte.
            table, rows = self._holders.rows([t for t, _ in associated], self.state.scoring)
            held = table.take((rows * table.shape[1])[:, None] + (ordered >> 3))
            held >>= (7 - (ordered & 7)).astype(np.uint8)
            weights = np.array([w for _, w in associated], dtype=np.float64)
            block[4] = summed_rows(np.where(held & 1, weights[:, None], 0.0))
        x[order, _COLUMN["bm25_text"] : _COLUMN["association"] + 1] = block.T
        arrays = self.documents()
        keys = view.doc_keys()[docs]
        x[:, _COLUMN["log_doc_length"] : _COLUMN["prior"] + 1] = arrays.columns[keys]
        x[:, _COLUMN["query_terms"]] = len(terms)
        x[np.arange(n), len(BASE_FEATURES) + arrays.source[keys]] = 1.0
        return x

    def _associated(self, terms: Sequence[str]) -> list[tuple[str, float]]:
        """The query's best-associated document terms with their summed scores."""
        return self.model.associations.best(terms, ASSOCIATED_TERMS)

    # -- documents ---------------------------------------------------------------

    def documents(self) -> _DocArrays:
        """Per document key: lengths, prior and source (read once per searcher)."""
        with self._lock:
            if self._docs is None:
                self._docs = _DocArrays(self.model, self.state)
            return self._docs

    def coverage(self) -> tuple[int, int]:
        """``(found, judged)``: how many documents of the prior are in the index."""
        arrays = self.documents()
        return arrays.prior_found, len(self.model.prior)


class _Holders:
    """For each associated term met, one bit per passage (``np.packbits``
    order): whether its text holds the term; a row each, of one table, so
    that the bits of all the terms of a query are read at once.

    The term numbers and the table are replaced together. A row numbered is
    never written again: rows are added past the numbered ones, and starting
    over (past ``most_bytes``) or growing makes a new table. So a table and
    numbers read together stay right while other threads add terms.
    """

    def __init__(self, passages: int, most_bytes: int) -> None:
        self.width = max((passages + 7) // 8, 1)
        self.most = max(most_bytes // self.width, ASSOCIATED_TERMS)
        self.known: tuple[dict[str, int], npt.NDArray[np.uint8]] = (
            {},
            np.zeros((0, self.width), dtype=np.uint8),
        )
        self.lock = threading.Lock()

    def rows(
        self, terms: Sequence[str], view: ScoringView
    ) -> tuple[npt.NDArray[np.uint8], IntArray]:
        """A table, and the row of each of ``terms`` in it."""
        numbers, table = self.known
        try:
            return table, np.array([numbers[t] for t in terms], dtype=np.int64)
        except KeyError:
            pass
        with self.lock:
            numbers, table = self._added(terms, view)
        return table, np.array([numbers[t] for t in terms], dtype=np.int64)

    def _added(
        self, terms: Sequence[str], view: ScoringView
    ) -> tuple[dict[str, int], npt.NDArray[np.uint8]]:
        numbers, table = self.known
        missing = list(dict.fromkeys(t for t in terms if t not in numbers))
        if len(numbers) + len(missing) > self.most:  # full: start over
            numbers, table = {}, np.zeros((0, self.width), dtype=np.uint8)
            missing = list(dict.fromkeys(terms))
        used = len(numbers)
        if used + len(missing) > len(table):
            grown = np.zeros(
                (min(max(2 * len(table), used + len(missing), 64), self.most), self.width),
                dtype=np.uint8,
            )
            grown[:used] = table[:used]
            table = grown
        numbers = dict(numbers)
        for i, term in enumerate(missing):
            holds = np.zeros(self.width * 8, dtype=np.bool_)
            holds[view.impacts("text", term)[0]] = True
            table[used + i] = np.packbits(holds)
            numbers[term] = used + i
        self.known = (numbers, table)
        return self.known


class _DocArrays:
    """Document-level arrays of one searcher, indexed by the fast path's document keys."""

    def __init__(self, model: LearnedModel, state: SearcherState) -> None:
        view = state.scoring
        keys = view.doc_keys()
        alive = np.ones(len(keys), dtype=np.bool_) if view.deleted is None else ~view.deleted
        numbering = view.segments.key_numbers
        size = max(len(numbering), int(keys.max()) + 1 if len(keys) else 0)
        # Whoosh's field lengths per passage (norms with k1 = b = average = 1;
        # a passage without the field has no length: NaN there, 0 here).
        text = _lengths(view, "text", len(keys))
        title = _lengths(view, "title", len(keys))
        length = np.bincount(keys[alive], weights=text[alive], minlength=size)
        longest_title = np.zeros(size, dtype=np.float64)
        np.maximum.at(longest_title, keys[alive], title[alive])
        self.log_length = np.log1p(length)
        self.log_title = np.log1p(longest_title)
        self.live = np.zeros(size, dtype=np.bool_)
        self.live[keys[alive]] = True
        position = {s: i for i, s in enumerate(model.sources)}
        other = len(model.sources)
        self.source = np.full(size, other, dtype=np.int64)
        for doc_id, number in numbering.items():
            self.source[number] = position.get(source_of(doc_id), other)
        self.prior = np.zeros(size, dtype=np.float64)
        found = 0
        for doc_id, p in model.prior.items():
            key = numbering.get(doc_id)
            if key is not None and self.live[key]:
                self.prior[key] = p
                found += 1
        self.prior_found = found
        self.columns = np.stack([self.log_length, self.log_title, self.prior], axis=1)
        """``log_doc_length``, ``log_title_length`` and ``prior`` side by side."""


def _lengths(view: ScoringView, field: str, passages: int) -> FloatArray:
    """Whoosh's length of ``field`` in each passage (0 where it has none)."""
    if field not in view.schema:
        return np.zeros(passages, dtype=np.float64)
    return np.nan_to_num(view.norms(field, 1.0, 1.0, 1.0), nan=0.0)


def _columns(head: Sequence[tuple[int, float]]) -> tuple[IntArray, FloatArray]:
    """The passage numbers and the scores of ``(docnum, score)`` pairs, as arrays."""
    pairs = np.fromiter(itertools.chain.from_iterable(head), np.float64, 2 * len(head))
    # Passage numbers are far below 2**53: exact as floats.
    return pairs[0::2].astype(np.int64), pairs[1::2]
