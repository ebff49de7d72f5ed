"""Ranked search: query text -> Whoosh query -> materialised results.

Ranking is Whoosh's BM25F (each field scored with its own length
normalisation, title weighted above text). Results are frozen dataclasses
that outlive the searcher.

A search runs in three steps, each a method of :class:`SearchContext` (what
one search needs: a :class:`SearcherState`, the analyzers, the ranking and
the acronym lexicon): :meth:`~SearchContext.compile` (query text to Whoosh
query), :meth:`~SearchContext.execute` (ranked passage numbers) and
:meth:`~SearchContext.materialise` (hits with snippets). :func:`search`
checks its arguments and runs the three. Everything cached along the way
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
import dataclasses
import functools
import numbers
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
from whoosh import query as wq

from searchlib._cache import BoundedCache
from searchlib._whoosh.limits import check as check_deadline
from searchlib.analysis.analyzer import FrenchAnalyzer
from searchlib.highlight import MatchSpec, highlight, leading_snippet
from searchlib.query.acronyms import AcronymLexicon
from searchlib.query.compiler import QueryCompiler
from searchlib.query.language import SEARCH_FIELDS, parse
from searchlib.query.suggest import Completion, complete, suggest
from searchlib.query.typos import Respelling, SurfaceVocabulary, Vocabulary, respellings
from searchlib.ranking import fastpath
from searchlib.ranking.fastpath import Executed, ScoringView, SegmentCache
from searchlib.ranking.params import Ranking
from searchlib.results import Correction, Hit, SearchResults, Suggestion, apply_corrections

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

WRITTEN_CACHE = 10_000
"""Forms whose written spelling (from the stored texts) is kept, per searcher."""

WRITTEN_SAMPLE = 12
"""Passages read to find how the documents write a form."""

COMPLETION_CACHE = 512
"""Two-letter starts whose written forms are kept sorted by frequency, per searcher."""


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
        self.written_forms: BoundedCache[str, str] = BoundedCache(WRITTEN_CACHE, evict="clear")
        self.completion_lists: BoundedCache[str, list[tuple[str, int]]] = BoundedCache(
            COMPLETION_CACHE
        )
        self._surfaces: SurfaceVocabulary | None = None
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
                check_deadline()
                for t in self.vocabulary(f).within_one(term):
                    # cached: the corrections are looked up again when scored
                    counts[t] = counts.get(t, 0) + self.doc_frequency(f, t)
        best = tuple(sorted(counts, key=lambda t: (-counts[t], t))[:TYPO_KEEP])
        return self.typo_corrections.put(key, best)

    def surfaces(self) -> SurfaceVocabulary:
        """The written forms of the index (its ``exact`` field), read once per searcher."""
        with self._lock:
            if self._surfaces is None:
                self._surfaces = SurfaceVocabulary.of_field(self.searcher, "exact")
            return self._surfaces

    def surface_frequency(self, folded: str) -> int:
        """Passages holding a written form that folds to ``folded`` (0 when none)."""
        forms = self.surfaces().forms(folded)
        return sum(self.doc_frequency("exact", f) for f in forms)

    def respellings(self, word: str, ratio: float) -> list[Respelling]:
        """Written forms to read a rare typed word (folded) as (see
        :func:`searchlib.query.typos.respellings`)."""
        return respellings(self.surfaces(), word, self.surface_frequency, ratio=ratio)

    def written(self, folded: str) -> str:
        """How the documents write the form ``folded`` (``pandemie`` -> ``pandémie``,
        ``prudhomme`` -> ``prud'homme``, ``etatsunis`` -> ``États-Unis``).

        The most frequent accented variant in the ``exact`` field, then, in a
        few passages holding it, the text it was read from (apostrophes,
        hyphens, capitals); the lower-case spelling whenever the documents use
        it. ``folded`` itself when the index has no such form.
        """
        found = self.written_forms.get(folded)
        if found is None:
            found = self.written_forms.put(folded, self._written(folded))
        return found

    def _written(self, folded: str) -> str:
        forms = self.surfaces().forms(folded)
        if not forms:
            return folded
        form = max(forms, key=lambda f: (self.doc_frequency("exact", f), f))
        schema = self.searcher.schema
        if "exact" not in schema:
            return form
        analyzer = schema["exact"].analyzer
        reader = self.searcher.reader()
        counts: dict[str, int] = {}
        try:
            matcher = reader.postings("exact", form)
        except KeyError:  # not in this searcher's segments
            return form
        seen = 0
        for docnum in matcher.all_ids():
            if reader.is_deleted(docnum):
                continue
            stored = self.stored_fields(docnum)
            text = f"{stored.get('title') or ''}\n{stored.get('text') or ''}"
            for tok in analyzer.matching_tokens(text, {form}, mode="index"):
                if tok.text == form:
                    piece = text[tok.start : tok.end]
                    counts[piece] = counts.get(piece, 0) + 1
            seen += 1
            if seen >= WRITTEN_SAMPLE:
                break
        if not counts:
            return form
        # The spelling met most (case aside), in lower case when the documents
        # write it so anywhere (a capital opening a sentence or a title is no
        # spelling); else as written (États-Unis).
        groups: dict[str, int] = {}
        for piece, n in counts.items():
            groups[piece.lower()] = groups.get(piece.lower(), 0) + n
        best = max(groups, key=lambda g: (groups[g], g))
        variants = {p: n for p, n in counts.items() if p.lower() == best}
        if best in variants:
            return best
        return max(variants, key=lambda p: (variants[p], p))

    def completions(self, prefix: str, limit: int) -> list[tuple[str, int]]:
        """The ``limit`` most frequent written forms (folded) that start with
        ``prefix`` (folded, at least 2 letters), with their frequencies.

        The forms of each two-letter start are counted once per searcher,
        then kept sorted by frequency.
        """
        if len(prefix) < 2 or limit < 1:
            return []
        ranked = self.completion_lists.get_or_compute(prefix[:2], self._ranked_forms)
        out: list[tuple[str, int]] = []
        for form, frequency in ranked:
            if form.startswith(prefix):
                out.append((form, frequency))
                if len(out) >= limit:
                    break
        return out

    def _ranked_forms(self, start: str) -> list[tuple[str, int]]:
        forms = self.surfaces().with_prefix(start)
        counted = [(f, self.surface_frequency(f)) for f in forms]
        counted.sort(key=lambda x: (-x[1], x[0]))
        return counted

    def matching(self, groups: Sequence[Sequence[str]], fields: Sequence[str]) -> int:
        """Passages holding, for each group, one of its terms in one of ``fields``."""
        return len(self._holding(groups, fields))

    def co_occurrences(
        self, groups: Sequence[Sequence[str]], terms: Sequence[str], fields: Sequence[str]
    ) -> list[int]:
        """For each of ``terms``, the passages holding it (in one of ``fields``)
        and, for each group, one of its terms."""
        view = self.scoring
        mask = np.zeros(view.doc_count, dtype=np.bool_)
        mask[self._holding(groups, fields)] = True
        counts = []
        for term in terms:
            ids = self._ids(term, fields)
            counts.append(len(np.unique(ids[mask[ids]])))
        return counts

    def _ids(self, term: str, fields: Sequence[str]) -> npt.NDArray[np.int64]:
        view = self.scoring
        parts = [view.impacts(f, term)[0] for f in fields if f in view.schema]
        return np.concatenate(parts).astype(np.int64) if parts else np.zeros(0, dtype=np.int64)

    def _holding(
        self, groups: Sequence[Sequence[str]], fields: Sequence[str]
    ) -> npt.NDArray[np.int64]:
        """Live passages holding, for each group, one of its terms in one of ``fields``."""
        view = self.scoring
        found: npt.NDArray[np.int64] | None = None
        for terms in groups:
            parts = [self._ids(t, fields) for t in terms]
            ids = np.unique(np.concatenate(parts)) if parts else np.zeros(0, dtype=np.int64)
            found = ids if found is None else np.intersect1d(found, ids, assume_unique=True)
            if not len(found):
                break
        if found is None:
            return np.zeros(0, dtype=np.int64)
        if view.deleted is not None:
            found = found[~view.deleted[found]]
        return found

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
        corrections: the words read as others (typos).
    """

    text: str
    query: wq.Query | None
    match: MatchSpec
    corrections: tuple[Correction, ...] = ()


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
    """

    state: SearcherState
    analyzer: FrenchAnalyzer
    ranking: Ranking
    exact_analyzer: FrenchAnalyzer | None = None
    acronyms: AcronymLexicon | None = None
    fast_path: bool = True

    def compiler(
        self,
        fields: Sequence[str] | None = None,
        query_text: str = "",
        *,
        correct: bool = True,
        as_you_type: bool = False,
    ) -> QueryCompiler:
        """A compiler for this context (plain words searched in ``fields``,
        default title and text; typos corrected unless ``correct`` is false;
        the last word a prefix when ``as_you_type``)."""
        return QueryCompiler(
            self.analyzer,
            self.state,
            self.ranking,
            tuple(fields) if fields else SEARCH_FIELDS,
            query_text,
            self.exact_analyzer,
            self.acronyms,
            correct,
            as_you_type,
        )

    def compile(
        self,
        query: str,
        fields: Sequence[str] | None = None,
        *,
        correct: bool = True,
        as_you_type: bool = False,
    ) -> CompiledQuery:
        """Parse and compile ``query`` (plain words searched in ``fields``; typos
        corrected unless ``correct`` is false; the unfinished last word read
        as the written forms it starts when ``as_you_type``).

        Raises:
            QuerySyntaxError: the query is an explicitly malformed operator query.
        """
        tree = parse(query)
        compiler = self.compiler(fields, query, correct=correct, as_you_type=as_you_type)
        wquery, spec = compiler.compile(tree)
        return CompiledQuery(query, wquery, spec, tuple(compiler.corrections))

    def suggest(self, query: str, fields: Sequence[str] | None = None) -> Suggestion | None:
        """A query finding more than ``query`` (see :func:`searchlib.query.suggest.suggest`)."""
        return suggest(query, self.state, self.analyzer, fields=tuple(fields or SEARCH_FIELDS))

    def complete(
        self, text: str, limit: int = 10, fields: Sequence[str] | None = None
    ) -> list[Completion]:
        """Completions of the last word of ``text`` (see
        :func:`searchlib.query.suggest.complete`)."""
        return complete(
            text, self.state, self.analyzer, limit=limit, fields=tuple(fields or SEARCH_FIELDS)
        )

    def execute(self, compiled: CompiledQuery, limit: int, collapse: bool) -> Executed:
        """The best ``limit`` passages (``(docnum, score)``) and how many match."""
        if compiled.query is None:
            return Executed([], 0)
        return self.state.execute(compiled.query, limit, collapse, fast=self.fast_path)

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
            compiled.text,
            executed.total,
            page,
            limit,
            tuple(hits),
            compiled.match,
            _ms(t0),
            compiled.corrections,
            apply_corrections(compiled.text, compiled.corrections),
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
    correct: bool = True,
    suggest: bool = True,
    as_you_type: bool = False,
) -> SearchResults:
    """Search with ``context``: compile, execute, materialise (and suggest).

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
        correct: read typos as the index's words (``False``: every word as
            typed; ``+word`` keeps one word as typed); what was read as what
            is in ``SearchResults.corrections``.
        suggest: when nothing was corrected and the query finds little, look
            for a query that finds more (``SearchResults.suggestion``).
        as_you_type: the query is being typed: its last word (no space after
            it) matches the written forms it starts.

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
    _flag("correct", correct)
    _flag("suggest", suggest)
    _flag("as_you_type", as_you_type)
    names = _field_names(fields)
    t0 = time.perf_counter()
    compiled = context.compile(query, names, correct=correct, as_you_type=as_you_type)
    executed = context.execute(compiled, page * limit, collapse)
    results = context.materialise(
        compiled,
        executed,
        page=page,
        limit=limit,
        highlight_hits=highlight_hits,
        snippet_chars=snippet_chars,
        max_fragments=max_fragments,
        started=t0,
    )
    if suggest and not compiled.corrections and not as_you_type:
        found = context.suggest(query, names)
        if found is not None:
            results = dataclasses.replace(results, suggestion=found, elapsed_ms=_ms(t0))
    return results


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
