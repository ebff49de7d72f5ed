"""Ranked search: query text -> Whoosh query -> materialised results.

Ranking is Whoosh's BM25F (each field scored with its own length
normalisation, title weighted above text). Results are frozen dataclasses
that outlive the searcher.

A search runs in three steps, each a method of :class:`SearchContext` (what
one search needs: a :class:`SearcherState`, the analyzers, the ranking and
the acronym lexicon): :meth:`~SearchContext.compile` (query text to Whoosh
query), :meth:`~SearchContext.execute` (ranked passage numbers) and
:meth:`~SearchContext.materialise` (hits with snippets). :func:`search`
checks its arguments and runs the three. A context may carry what an index
learned from relevance judgments (see :mod:`searchlib.learn`): a
:class:`~searchlib.query.compiler.TermExpansion` the compiler adds to each
query, and a :class:`Reranker` that reorders the best passages after
:meth:`~SearchContext.execute`. Everything cached along the way
belongs to the :class:`SearcherState` of one Whoosh searcher, and goes
with it.

Example:
    >>> from searchlib import Document, Index
    >>> ix = Index.in_memory()
    >>> _ = ix.add([Document("a", "Cour", "La cour fédérale a tranché.")])
    >>> context = ix.search_context()
    >>> compiled = context.compile("federale")
    >>> executed = context.execute(compiled, limit=10, collapse=False)
    >>> context.materialise(compiled, executed, page=1, limit=10).hits[0].doc_id
    'a'
"""

from __future__ import annotations

import copy
import functools
import numbers
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from whoosh import query as wq

from searchlib._cache import BoundedCache
from searchlib.analysis.analyzer import FrenchAnalyzer
from searchlib.highlight import MatchSpec, highlight, leading_snippet
from searchlib.query.acronyms import AcronymLexicon
from searchlib.query.compiler import QueryCompiler, TermExpansion
from searchlib.query.language import SEARCH_FIELDS, parse
from searchlib.query.typos import Vocabulary
from searchlib.ranking import fastpath
from searchlib.ranking.fastpath import Executed, ScoringView, SegmentCache
from searchlib.ranking.params import Ranking
from searchlib.results import Hit, SearchResults

if TYPE_CHECKING:
    from whoosh.searching import Searcher

# -- what is cached for one searcher ---------------------------------------------

STORED_CACHE = 4096
"""Passages whose stored fields are kept decoded, per searcher (a searcher sees
one fixed set of segments, so a passage number always means the same passage)."""

TYPO_CACHE = 50_000
"""Query words whose typo corrections are kept, per searcher (then it starts over)."""

TYPO_KEEP = 10
"""Corrections kept per query word (the most frequent)."""

DOC_FREQUENCY_CACHE = 200_000
"""Terms whose document frequency is kept, per searcher (then it starts over)."""


class SearcherState:
    """Everything cached for the lifetime of one Whoosh searcher.

    An :class:`~searchlib.Index` makes one with each searcher (after a commit
    or a change of ranking) and drops it with that searcher. It holds the
    searcher's decoded stored fields, field vocabularies and typo corrections,
    document frequencies and the fast path's :class:`~searchlib.ranking.fastpath.ScoringView`
    (term scores, deletions, length norms), each in a
    :class:`~searchlib._cache.BoundedCache`. Postings decoded from segments
    live in a :class:`~searchlib.ranking.fastpath.SegmentCache`, which the
    successive states of one index share (a segment never changes).

    Args:
        searcher: the Whoosh searcher (its weighting scores the searches).
        segments: the index's segment cache (default: one of this state's own).

    Example:
        >>> from searchlib import Document, Index
        >>> ix = Index.in_memory()
        >>> _ = ix.add([Document("a", "Congé", "le congé payé")])
        >>> state = SearcherState(ix.searcher())
        >>> state.doc_frequency("text", "cong"), state.corrections("cong", ("text",))
        (1, ())
        >>> state.corrections("conh", ("text",))  # no term "conh": "cong" is one edit away
        ('cong',)
    """

    def __init__(self, searcher: Searcher, *, segments: SegmentCache | None = None) -> None:
        self.searcher = searcher
        self.segments = segments if segments is not None else SegmentCache()
        self.stored: BoundedCache[int, dict[str, Any]] = BoundedCache(STORED_CACHE)
        self.vocabularies: BoundedCache[str, Vocabulary] = BoundedCache(16)
        self.typo_corrections: BoundedCache[tuple[tuple[str, ...], str], tuple[str, ...]] = (
            BoundedCache(TYPO_CACHE, evict="clear")
        )
        self.doc_frequencies: BoundedCache[tuple[str, str], int] = BoundedCache(
            DOC_FREQUENCY_CACHE, evict="clear"
        )
        self._scoring: ScoringView | None = None
        self._lock = threading.Lock()

    @property
    def scoring(self) -> ScoringView:
        """The fast path's arrays for this searcher (made on first use)."""
        with self._lock:
            if self._scoring is None:
                # Not the bound method: the view would hold the state in a cycle.
                lookup = functools.partial(_doc_frequency, self.searcher, self.doc_frequencies)
                self._scoring = self.segments.view(self.searcher, lookup)
            return self._scoring

    def stored_fields(self, docnum: int) -> dict[str, Any]:
        """``searcher.stored_fields(docnum)``, the most recent ones cached (Whoosh
        decompresses and unpickles them at every call). Callers must not mutate it."""
        found = self.stored.get(docnum)
        if found is None:
            found = self.stored.put(docnum, dict(self.searcher.stored_fields(docnum)))
        return found

    def doc_frequency(self, field: str, text: str) -> int:
        """``searcher.doc_frequency(field, text)``, cached.

        A new query word is looked up while compiling the query (is it a
        typo?) and again while scoring it (its idf): one term-table lookup
        instead of two.
        """
        return _doc_frequency(self.searcher, self.doc_frequencies, field, text)

    def vocabulary(self, field: str) -> Vocabulary:
        """The terms of ``field`` (read once per searcher, see :mod:`searchlib.query.typos`)."""
        return self.vocabularies.get_or_compute(
            field, lambda f: Vocabulary.of_field(self.searcher, f)
        )

    def corrections(self, term: str, fields: Sequence[str]) -> tuple[str, ...]:
        """Index terms one edit away from ``term`` when ``term`` is in none of ``fields``.

        The terms at edit distance 1 with the same first letter, most
        frequent first (summed over ``fields``, then alphabetical), at most
        :data:`TYPO_KEEP`; none when ``term`` itself is in a field.
        """
        key = (tuple(fields), term)
        found = self.typo_corrections.get(key)
        if found is not None:
            return found
        counts: dict[str, int] = {}
        if not any(self.doc_frequency(f, term) for f in fields):
            for f in fields:
                for t in self.vocabulary(f).within_one(term):
                    # cached: the corrections are looked up again when scored
                    counts[t] = counts.get(t, 0) + self.doc_frequency(f, t)
        best = tuple(sorted(counts, key=lambda t: (-counts[t], t))[:TYPO_KEEP])
        return self.typo_corrections.put(key, best)

    def execute(
        self, query: wq.Query, limit: int, collapse: bool, *, fast: bool = True
    ) -> Executed:
        """Rank the passages ``query`` matches (see :func:`searchlib.ranking.fastpath.execute`).

        Args:
            query: a compiled Whoosh query.
            limit: how many hits to rank (from the first).
            collapse: at most one passage (the best) per document.
            fast: ``False`` runs the query through Whoosh's collectors even
                when the numpy path applies (same ranking; a reference).
        """
        if not fast:
            return fastpath.execute_whoosh(self.searcher, query, limit, collapse)
        return fastpath.execute(self.scoring, query, limit, collapse)


def _doc_frequency(
    searcher: Searcher, cache: BoundedCache[tuple[str, str], int], field: str, text: str
) -> int:
    key = (field, text)
    found = cache.get(key)
    if found is None:
        found = cache.put(key, int(searcher.doc_frequency(field, text)))
    return found


# -- running a search -----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CompiledQuery:
    """A query compiled for one searcher.

    Attributes:
        text: the query as given.
        query: the Whoosh query (``None`` when nothing is searchable).
        match: the terms and phrases to mark in snippets.
        expanded: the learned terms the query was expanded with, and their
            weights (see :class:`~searchlib.query.compiler.TermExpansion`).
        expansion: the part of :attr:`query` that searches them (``None``:
            no expansion).
    """

    text: str
    query: wq.Query | None
    match: MatchSpec
    expanded: tuple[tuple[str, float], ...] = ()
    expansion: wq.Query | None = None


class Reranker(Protocol):
    """Reorders the best passages of a search (a learned ranking, see
    :mod:`searchlib.learn`)."""

    @property
    def depth(self) -> int:
        """How many of the best passages (or documents) it reorders."""

    def rerank(
        self, context: SearchContext, compiled: CompiledQuery, executed: Executed, collapse: bool
    ) -> Executed:
        """``executed`` with its first :attr:`depth` hits reordered and rescored
        (the others follow, as they were)."""


@dataclass(frozen=True, slots=True)
class SearchContext:
    """What one search needs, given explicitly: made by :meth:`Index.search_context
    <searchlib.index.Index.search_context>`, or by hand.

    Attributes:
        state: the state of the Whoosh searcher to search with (its weighting
            must be the one ``ranking`` makes, as the index makes it).
        analyzer: the index's analyzer.
        ranking: the ranking parameters.
        exact_analyzer: the analyzer of the index's ``exact`` field.
        acronyms: the acronym lexicon of the index.
        fast_path: score OR-of-terms queries with numpy (see
            :mod:`searchlib.ranking.fastpath`); ``False`` runs every query
            through Whoosh's collectors (the same ranking; a reference).
        expansion: learned terms added to every query (``None``: none).
        reranker: reorders the best hits after :meth:`execute` (``None``: none).
    """

    state: SearcherState
    analyzer: FrenchAnalyzer
    ranking: Ranking
    exact_analyzer: FrenchAnalyzer | None = None
    acronyms: AcronymLexicon | None = None
    fast_path: bool = True
    expansion: TermExpansion | None = None
    reranker: Reranker | None = None

    def compiler(self, fields: Sequence[str] | None = None, query_text: str = "") -> QueryCompiler:
        """A compiler for this context (plain words searched in ``fields``,
        default title and text)."""
        return QueryCompiler(
            self.analyzer,
            self.state,
            self.ranking,
            tuple(fields) if fields else SEARCH_FIELDS,
            query_text,
            self.exact_analyzer,
            self.acronyms,
            self.expansion,
        )

    def compile(self, query: str, fields: Sequence[str] | None = None) -> CompiledQuery:
        """Parse and compile ``query`` (plain words searched in ``fields``).

        Raises:
            QuerySyntaxError: the query is an explicitly malformed operator query.
        """
        tree = parse(query)
        compiler = self.compiler(fields, query)
        wquery, spec = compiler.compile(tree)
        return CompiledQuery(query, wquery, spec, compiler.expanded, compiler.expansion_query)

    def execute(self, compiled: CompiledQuery, limit: int, collapse: bool) -> Executed:
        """The best ``limit`` passages (``(docnum, score)``) and how many match.

        With a :attr:`reranker`, at least its depth is ranked first, and
        reordered by it.
        """
        if compiled.query is None:
            return Executed([], 0)
        if self.reranker is None:
            return self.state.execute(compiled.query, limit, collapse, fast=self.fast_path)
        depth = max(limit, self.reranker.depth)
        found = self.state.execute(compiled.query, depth, collapse, fast=self.fast_path)
        found = self.reranker.rerank(self, compiled, found, collapse)
        return Executed(found.ranked[:limit], found.total, found.exact)

    def materialise(
        self,
        compiled: CompiledQuery,
        executed: Executed,
        *,
        page: int,
        limit: int,
        highlight_hits: bool = True,
        snippet_chars: int = 220,
        max_fragments: int = 2,
        started: float | None = None,
    ) -> SearchResults:
        """Page ``page`` of ``limit`` hits of ``executed``, with their stored fields and snippets.

        Args:
            compiled: the compiled query.
            executed: its ranking (at least ``page * limit`` hits asked for).
            page: 1-based page.
            limit: hits per page.
            highlight_hits: build snippets (cheaper when ``False``).
            snippet_chars: approximate size of a fragment.
            max_fragments: fragments per snippet.
            started: ``time.perf_counter()`` when the search started
                (``elapsed_ms`` counts from there; default: from this call).
        """
        t0 = time.perf_counter() if started is None else started
        first = (page - 1) * limit
        hits = []
        ranked = executed.ranked[first : first + limit]
        for rank, (docnum, score) in enumerate(ranked, start=first + 1):
            stored = self.state.stored_fields(docnum)
            hits.append(
                _hit(
                    rank,
                    score,
                    stored,
                    self.analyzer,
                    compiled.match,
                    highlight_hits,
                    snippet_chars,
                    max_fragments,
                )
            )
        return SearchResults(
            compiled.text, executed.total, page, limit, tuple(hits), compiled.match, _ms(t0)
        )


def search(
    context: SearchContext,
    query: str,
    limit: int = 10,
    page: int = 1,
    *,
    highlight_hits: bool = True,
    collapse: bool = False,
    fields: Sequence[str] | None = None,
    snippet_chars: int = 220,
    max_fragments: int = 2,
) -> SearchResults:
    """Search with ``context``: compile, execute, materialise.

    Args:
        context: the searcher's state, analyzers, ranking and acronyms.
        query: query text (see :mod:`searchlib.query.language`).
        limit: hits per page (an integer, at least 1).
        page: 1-based page (an integer, at least 1).
        highlight_hits: build snippets (cheaper when ``False``).
        collapse: at most one passage per document (the best one).
        fields: restrict plain words to these fields, a sequence of names
            such as ``("title",)`` (default: title and text).
        snippet_chars: approximate size of a fragment (at least 1).
        max_fragments: fragments per snippet (at least 1).

    Raises:
        QuerySyntaxError: the query is an explicitly malformed operator query.
        TypeError: an argument of the wrong type (``limit=2.5``, ``fields="title"``).
        ValueError: ``limit``, ``page``, ``snippet_chars`` or ``max_fragments``
            below 1, or an unknown field.
    """
    if not isinstance(query, str):
        raise TypeError(f"query must be a string, not {type(query).__name__}")
    limit = _at_least_one("limit", limit)
    page = _at_least_one("page", page)
    snippet_chars = _at_least_one("snippet_chars", snippet_chars)
    max_fragments = _at_least_one("max_fragments", max_fragments)
    _flag("highlight_hits", highlight_hits)
    _flag("collapse", collapse)
    names = _field_names(fields)
    t0 = time.perf_counter()
    compiled = context.compile(query, names)
    executed = context.execute(compiled, page * limit, collapse)
    return context.materialise(
        compiled,
        executed,
        page=page,
        limit=limit,
        highlight_hits=highlight_hits,
        snippet_chars=snippet_chars,
        max_fragments=max_fragments,
        started=t0,
    )


def _at_least_one(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, not {value!r}")
    if value < 1:
        raise ValueError(f"{name} must be at least 1, not {value}")
    return int(value)


def _flag(name: str, value: object) -> None:
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be True or False, not {value!r}")


def _field_names(fields: object) -> tuple[str, ...] | None:
    """``fields`` checked: ``None`` (the default fields) or names from :data:`SEARCH_FIELDS`."""
    if fields is None:
        return None
    known = ", ".join(SEARCH_FIELDS)
    if isinstance(fields, str):
        raise TypeError(
            f"fields must be a sequence of field names such as ({fields!r},), "
            f"not the string {fields!r} (fields: {known})"
        )
    if not isinstance(fields, Sequence):  # a set has no order, and the order counts
        raise TypeError(
            f"fields must be a sequence (list, tuple) of field names, not {type(fields).__name__}"
        )
    names = tuple(fields)
    for f in names:
        if not isinstance(f, str):
            raise TypeError(f"fields must hold field names (strings), not {f!r}")
        if f not in SEARCH_FIELDS:
            raise ValueError(f"unknown field {f!r} (fields: {known})")
    return names or None


def _hit(
    rank: int,
    score: float,
    stored: dict[str, Any],
    analyzer: FrenchAnalyzer,
    spec: MatchSpec,
    do_highlight: bool,
    snippet_chars: int,
    max_fragments: int,
) -> Hit:
    text = str(stored.get("text") or "")
    title = str(stored.get("title") or "")
    if do_highlight:
        snippet = highlight(
            text, analyzer, spec, max_chars=snippet_chars, max_fragments=max_fragments
        )
        title_snippet = highlight(
            title, analyzer, spec, max_chars=max(len(title), 1), max_fragments=1
        )
    else:
        snippet = leading_snippet(text, snippet_chars)
        title_snippet = leading_snippet(title, max(len(title), 1))
    return Hit(
        rank=rank,
        id=str(stored["id"]),
        doc_id=str(stored["doc_id"]),
        position=int(stored.get("position") or 0),
        start=int(stored.get("start") or 0),
        score=float(score),
        title=title,
        text=text,
        snippet=snippet,
        title_snippet=title_snippet,
        # stored values are cached and shared: the hit gets its own copy
        fields=copy.deepcopy(extra) if (extra := stored.get("fields")) else {},
    )


def _ms(t0: float) -> float:
    return (time.perf_counter() - t0) * 1000.0
