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
import dataclasses
import functools
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import numpy.typing as npt
from whoosh import query as wq

from searchlib._cache import BoundedCache
from searchlib._frozen import quick_init
from searchlib._whoosh.columns import term_frequencies
from searchlib._whoosh.limits import check as check_deadline
from searchlib.analysis.analyzer import FrenchAnalyzer
from searchlib.engine.request import FilterArg
from searchlib.errors import QuerySyntaxError
from searchlib.fields import (
    AllOf,
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
    filter_fields,
    is_multiple,
    parse_sort,
)
from searchlib.highlight import MatchSpec, Snippet, highlight, leading_snippet
from searchlib.query import ir
from searchlib.query.acronyms import AcronymLexicon
from searchlib.query.compiler import (
    MAX_EXPANSION,
    CompiledWord,
    QueryCompiler,
    TermExpansion,
    WordKey,
)
from searchlib.query.language import (
    SEARCH_FIELDS,
    Filter,
    Group,
    filter_value,
    parse,
    split_filters,
)
from searchlib.query.suggest import (
    Completion,
    StartForms,
    accented_forms,
    complete,
    count_written,
    suggest,
)
from searchlib.query.typos import (
    Lexicon,
    Respelling,
    SurfaceVocabulary,
    Vocabulary,
    respellings,
)
from searchlib.ranking import fastpath
from searchlib.ranking.facets import FieldRequest, execute_fields
from searchlib.ranking.fastpath import Executed, ScoringView, SegmentCache
from searchlib.ranking.params import Ranking
from searchlib.results import (
    Correction,
    Hit,
    SearchResults,
    Suggestion,
    Trace,
    UnknownWord,
    apply_corrections,
)

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

CONTEXT_CACHE = 16
"""Masks of the passages holding a query's other words (for completions), per searcher."""

SUGGESTION_CACHE = 1024
"""Did-you-mean answers (or their absence) kept per searcher."""

COMPLETION_CACHE = 512
"""Two-letter starts whose written forms are kept sorted by frequency, per searcher."""

WORD_CACHE = 20_000
"""Plain query words kept compiled, per searcher and compiler settings."""

LEAVES_CACHE = 20_000
"""Compiled words (query tree nodes) whose scored parts are kept, per searcher."""

WORD_SETTINGS = 8
"""Compiler settings (fields, ranking, analyzers...) words are kept for, per searcher."""


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
        # what a hit shows of a passage (one lookup per hit of a page)
        self.shown: BoundedCache[int, Shown] = BoundedCache(STORED_CACHE)
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
        self.start_forms: BoundedCache[str, StartForms] = BoundedCache(COMPLETION_CACHE)
        self._accented: list[tuple[str, str, int]] | None = None
        # what the words typed before the last one match: the same at each keystroke
        self.context_masks: BoundedCache[
            tuple[tuple[tuple[str, ...], ...], tuple[str, ...]], npt.NDArray[np.bool_]
        ] = BoundedCache(CONTEXT_CACHE)
        # did-you-mean per (query, fields): a query searched again costs nothing
        self.suggestions: BoundedCache[tuple[str, tuple[str, ...]], tuple[Suggestion | None]] = (
            BoundedCache(SUGGESTION_CACHE)
        )
        # plain query words compiled, per compiler settings (see compiled_words)
        self._words: BoundedCache[tuple[Any, ...], tuple[tuple[object, ...], WordCache]] = (
            BoundedCache(WORD_SETTINGS)
        )
        # the scored parts of the compiled words' nodes (see fast_leaves)
        self.leaves: LeavesCache = BoundedCache(LEAVES_CACHE, evict="clear")
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

    def compiled_words(self, settings: tuple[Any, ...], parts: tuple[object, ...]) -> WordCache:
        """The plain words compiled with this searcher and ``settings`` (hashable
        values) and ``parts`` (objects told apart by identity: the analyzers,
        the acronym lexicon...), for :class:`QueryCompiler` to keep and reuse.
        The entry holds ``parts``: none can be collected and its identity reused."""
        key = (*settings, *map(id, parts))
        found = self._words.get(key)
        if found is None:
            found = self._words.put(key, (parts, BoundedCache(WORD_CACHE)))
        return found[1]

    def stored_fields(self, docnum: int) -> dict[str, Any]:
        """``searcher.stored_fields(docnum)``, the most recent ones cached (Whoosh
        decompresses and unpickles them at every call). Callers must not mutate it."""
        found = self.stored.get(docnum)
        if found is None:
            found = self.stored.put(docnum, dict(self.searcher.stored_fields(docnum)))
        return found

    def shown_fields(self, docnum: int) -> Shown:
        """What a hit shows of passage ``docnum`` (its stored fields, typed),
        cached as :meth:`stored_fields`."""
        found = self.shown.get(docnum)
        if found is None:
            found = self.shown.put(docnum, Shown(self.stored_fields(docnum)))
        return found

    def passage_count(self) -> int:
        """Passages in the index."""
        return int(self.searcher.doc_count())

    def known_frequency(self, field: str, text: str) -> int:
        """:meth:`doc_frequency` (a local index always has it at hand)."""
        return self.doc_frequency(field, text)

    def prefix_terms(self, field: str, roots: Sequence[str]) -> dict[str, int]:
        """The terms of ``field`` starting with one of ``roots`` (at most
        :data:`~searchlib.query.compiler.MAX_EXPANSION` times 20 per root, in
        term order), and their frequencies."""
        reader = self.searcher.reader()
        found: set[str] = set()
        for root in roots:
            for i, t in enumerate(reader.expand_prefix(field, root)):
                if i >= MAX_EXPANSION * 20:
                    break
                if i % 256 == 0:
                    check_deadline()
                found.add(_as_str(t))
        return {t: reader.doc_frequency(field, t) for t in found}

    def fuzzy_terms(self, field: str, center: str, maxdist: int) -> dict[str, int]:
        """The terms of ``field`` within ``maxdist`` edits of ``center`` with its
        first letter, and their frequencies."""
        reader = self.searcher.reader()
        found = {_as_str(t) for t in reader.terms_within(field, center, maxdist, prefix=1)}
        return {t: reader.doc_frequency(field, t) for t in found}

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

    def has_surfaces(self) -> bool:
        """Whether the index has written forms (its ``exact`` field holds a
        term): what ``bool(surfaces())`` gives, from the first term alone while
        the forms have not all been read."""
        if self._surfaces is not None:
            return bool(self._surfaces)
        if "exact" not in self.searcher.schema:
            return False
        return next(iter(self.searcher.reader().lexicon("exact")), None) is not None

    def surface_frequency(self, folded: str) -> int:
        """Passages holding a written form that folds to ``folded`` (0 when none)."""
        forms = self._forms(folded)  # (only the forms of its start, while they suffice)
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
        forms = self._forms(folded)
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
            count_written(text, form, analyzer, counts)
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
        if self._surfaces is None and len(start) == 2 and start.isascii():
            return self._start(start).ranked()  # not every form of the index read for it
        forms = self.surfaces().with_prefix(start)
        counted = [(f, self.surface_frequency(f)) for f in forms]
        counted.sort(key=lambda x: (-x[1], x[0]))
        return counted

    def _forms(self, folded: str) -> list[str]:
        """``surfaces().forms(folded)``, from the dictionary's forms of its start
        while the index's forms have not all been read."""
        if self._surfaces is None and len(folded) >= 2 and folded[:2].isascii():
            return self._start(folded[:2]).forms(folded)
        return self.surfaces().forms(folded)

    def _start(self, start: str) -> StartForms:
        def read(at: str) -> Iterator[tuple[str, int]]:
            if "exact" in self.searcher.schema:
                reader = self.searcher.reader()
                for text, passages in term_frequencies(reader, "exact", at.encode("utf-8")):
                    yield text.decode("utf-8"), passages

        if self._accented is None:  # read once: the same for every start
            self._accented = accented_forms(read)
        accented = self._accented
        return self.start_forms.get_or_compute(start, lambda s: StartForms(s, read, accented))

    def matching(self, groups: Sequence[Sequence[str]], fields: Sequence[str]) -> int:
        """Passages holding, for each group, one of its terms in one of ``fields``."""
        return len(self._holding(groups, fields))

    def co_occurrences(
        self, groups: Sequence[Sequence[str]], terms: Sequence[str], fields: Sequence[str]
    ) -> list[int]:
        """For each of ``terms``, the passages holding it (in one of ``fields``)
        and, for each group, one of its terms.

        Read from the passage numbers of each term (the fast path's postings,
        decoded once per segment), never scored: which passages hold the
        groups is one mask, kept per groups and fields; a term's count is how
        many of its passages the mask holds.
        """
        key = (tuple(tuple(g) for g in groups), tuple(fields))
        mask = self.context_masks.get(key)
        if mask is None:
            mask = self.context_masks.put(key, self._context_mask(groups, fields))
        return [
            self._distinct([ids[mask[ids]] for ids in self._passages(term, fields)])
            for term in terms
        ]

    def _context_mask(
        self, groups: Sequence[Sequence[str]], fields: Sequence[str]
    ) -> npt.NDArray[np.bool_]:
        """Which passages are live and hold, for each group, one of its terms
        in one of ``fields`` (none when there is no group)."""
        view = self.scoring
        if not groups:
            return np.zeros(view.doc_count, dtype=np.bool_)
        mask = np.ones(view.doc_count, dtype=np.bool_) if view.deleted is None else ~view.deleted
        for terms in groups:
            held = np.zeros(view.doc_count, dtype=np.bool_)
            for term in terms:
                for ids in self._passages(term, fields):
                    held[ids] = True
            mask &= held
        return mask

    def _passages(self, term: str, fields: Sequence[str]) -> list[npt.NDArray[np.int64]]:
        """The passages holding ``term``, for each of ``fields`` that has it."""
        view = self.scoring
        found = []
        for f in fields:
            if f not in view.schema:
                continue
            try:
                btext = view.schema[f].to_bytes(term)
            except ValueError:  # no term of this field
                continue
            if self.doc_frequency(f, term):
                found.append(view.postings(f, btext)[0])
        return found

    @staticmethod
    def _distinct(parts: Sequence[npt.NDArray[np.int64]]) -> int:
        """Passages in ``parts`` (each in order, none twice), counted once: a
        passage may hold a term in several fields."""
        if len(parts) == 2 and len(parts[0]) and len(parts[1]):
            a, b = parts
            at = np.searchsorted(b, a).clip(max=len(b) - 1)
            return len(a) + len(b) - int(np.count_nonzero(b[at] == a))
        if len(parts) > 1:
            return len(np.unique(np.concatenate(parts)))
        return sum(map(len, parts))

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

    def execute_compiled(
        self, compiled: CompiledQuery, limit: int, collapse: bool, *, fast: bool = True
    ) -> Executed:
        """:meth:`execute` for a compiled query: the numpy path reads its tree,
        and its Whoosh query is made only if Whoosh runs it."""
        if not fast:
            return fastpath.execute_whoosh(self.searcher, _whoosh(compiled), limit, collapse)
        tree = compiled.tree
        leaves = (
            None
            if tree is None
            else fast_leaves(tree, once=compiled.expansion_tree, memo=self.leaves)
        )
        return fastpath.execute_leaves(
            self.scoring, leaves, lambda: _whoosh(compiled), limit, collapse
        )


def _whoosh(compiled: CompiledQuery) -> wq.Query:
    query = compiled.query
    if query is None:
        raise ValueError("nothing to search")  # (callers check compiled.tree first)
    return query


def _doc_frequency(
    searcher: Searcher, cache: BoundedCache[tuple[str, str], int], field: str, text: str
) -> int:
    key = (field, text)
    found = cache.get(key)
    if found is None:
        found = cache.put(key, int(searcher.doc_frequency(field, text)))
    return found


# -- running a search -----------------------------------------------------------

LeavesCache = BoundedCache[tuple["ir.Node", float], tuple["list[fastpath.Leaf] | None"]]
"""Scored parts of query tree nodes (see :func:`fast_leaves`)."""

WordCache = BoundedCache[WordKey, CompiledWord]
"""Plain query words compiled (see :meth:`SearcherState.compiled_words`)."""


@quick_init
@dataclass(frozen=True)
class CompiledQuery:
    """A query compiled for one searcher.

    Attributes:
        text: the query as given.
        tree: the query tree (:mod:`searchlib.query.ir`; ``None`` when
            nothing is searchable).
        match: the terms and phrases to mark in snippets.
        filter: what the matches must satisfy: the query's filters and
            those given beside it (``None``: nothing).
        words: whether the query holds words (without any, a filter alone
            matches every passage it keeps).
        corrections: the words read as others (typos).
        unknown: the words searched as typed that no passage holds.
        expanded: the learned terms the query was expanded with, and their
            weights (see :class:`~searchlib.query.compiler.TermExpansion`).
        expansion_tree: the part of :attr:`tree` that searches them
            (``None``: no expansion).

    The Whoosh objects (:attr:`query`, :attr:`expansion`) are made when
    first read: the numpy path ranks from the tree (:attr:`leaves`), and
    only Whoosh's own paths (operators it alone runs, facets, explanations)
    need them.
    """

    text: str
    tree: ir.Node | None
    match: MatchSpec
    filter: FilterExpr | None = None
    words: bool = True
    corrections: tuple[Correction, ...] = ()
    expanded: tuple[tuple[str, float], ...] = ()
    expansion_tree: ir.Node | None = None
    unknown: tuple[UnknownWord, ...] = ()

    @functools.cached_property
    def _emitted(self) -> tuple[wq.Query | None, wq.Query | None]:
        # the expansion is found inside the query by identity: one Whoosh object for both
        memo: dict[int, wq.Query] = {}
        tree, learned = self.tree, self.expansion_tree
        return (
            None if tree is None else whoosh_query(tree, memo),
            None if learned is None else whoosh_query(learned, memo),
        )

    @property
    def query(self) -> wq.Query | None:
        """The Whoosh query (``None`` when nothing is searchable)."""
        return self._emitted[0]

    @property
    def expansion(self) -> wq.Query | None:
        """The part of :attr:`query` that searches the learned terms (``None``: none)."""
        return self._emitted[1]


def fast_leaves(
    node: ir.Node,
    boost: float = 1.0,
    top: bool = True,
    *,
    once: ir.Node | None = None,
    memo: LeavesCache | None = None,
) -> list[fastpath.Leaf] | None:
    """The scored parts of an OR tree, as :func:`searchlib.ranking.fastpath.leaves`
    gives them for its Whoosh query: terms as ``(field, text, boost)`` (those
    under ``once``, a learned expansion weighted for this query only, as
    :class:`~searchlib.ranking.fastpath.OneOff`), any other part of an OR as its
    Whoosh query (an AND, a phrase...), ``None`` when the tree is not a union.
    With ``memo``, the parts of the ORs within the top one (a query's compiled
    words: the same nodes from search to search) are kept there and read back.

    >>> fast_leaves(ir.Or((ir.Term("title", "cour", 1.5), ir.Term("text", "cour")), boost=2.0))
    [('title', 'cour', 3.0), ('text', 'cour', 2.0)]
    """
    if isinstance(node, ir.Term):
        return [(node.field, node.text, boost * node.boost)]
    if node is once:  # weighted for this query only (a learned expansion)
        if isinstance(node, ir.Or):  # of terms: as below, without a call per term
            terms = [t for t in node.items if isinstance(t, ir.Term)]
            if len(terms) == len(node.items):
                inner = boost * node.boost
                return [fastpath.OneOff(t.field, t.text, inner * t.boost) for t in terms]
        found = fast_leaves(node, boost, top)
        if found is None:
            return None
        return [fastpath.OneOff(*leaf) if len(leaf) == 3 else leaf for leaf in found]
    if isinstance(node, ir.Or):
        if memo is not None and not top:
            key = (node, boost)
            kept = memo.get(key)
            if kept is None:
                kept = memo.put(key, (fast_leaves(node, boost, top, once=once),))
            return kept[0]
        out: list[fastpath.Leaf] = []
        inner = boost * node.boost
        for sub in node.items:
            found = fast_leaves(sub, inner, top=False, once=once, memo=memo if top else None)
            if found is None:
                return None
            out.extend(found)
        return out
    if top or isinstance(node, ir.Every):
        return None
    return [(whoosh_query(node), boost)]


class Rescorer(Protocol):
    """Rescores the best candidates of a ranking by score (the hybrid search's
    cosine, see :mod:`searchlib.semantic.hybrid`): given the compiled query
    and what :meth:`SearchContext.execute` ranked, the same hits in a new
    order with new scores (total and facets kept)."""

    @property
    def candidates(self) -> int:
        """How many of the best hits to hand it (at least the page's)."""
        ...

    def __call__(self, compiled: CompiledQuery, executed: Executed) -> Executed: ...


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
        declared: the index's declared fields (see :mod:`searchlib.fields`).
        expansion: learned terms added to every query (``None``: none).
        reranker: reorders the best hits after :meth:`execute` (``None``: none).
        lexicon: words typo correction never reads as other words (``None``:
            the French words of :func:`~searchlib.query.french_words.french_words`;
            :data:`~searchlib.query.french_words.NO_WORDS`: the index alone decides).
    """

    state: SearcherState
    analyzer: FrenchAnalyzer
    ranking: Ranking
    exact_analyzer: FrenchAnalyzer | None = None
    acronyms: AcronymLexicon | None = None
    fast_path: bool = True
    declared: Mapping[str, FieldType] = field(default_factory=dict)
    expansion: TermExpansion | None = None
    reranker: Reranker | None = None
    lexicon: Lexicon | None = None

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
        searched = tuple(fields) if fields else SEARCH_FIELDS
        parts = (self.analyzer, self.exact_analyzer, self.acronyms, self.lexicon)
        return QueryCompiler(
            self.analyzer,
            self.state,
            self.ranking,
            searched,
            query_text,
            self.exact_analyzer,
            self.acronyms,
            correct,
            as_you_type,
            self.expansion,
            self.lexicon,
            words=self.state.compiled_words((searched, correct, self.ranking), parts),
        )

    def compile(
        self,
        query: str,
        fields: Sequence[str] | None = None,
        *,
        filter: str | Mapping[str, Any] | FilterExpr | None = None,
        correct: bool = True,
        as_you_type: bool = False,
    ) -> CompiledQuery:
        """Parse and compile ``query`` (plain words searched in ``fields``; its
        filters, and ``filter``, restrict the matches; typos corrected unless
        ``correct`` is false; the unfinished last word read as the written
        forms it starts when ``as_you_type``).

        Raises:
            QuerySyntaxError: the query is an explicitly malformed operator
                query, names an unknown field, or misplaces a filter.
            ValueError, TypeError: a malformed ``filter``.
        """
        words, found = query_filters(query, self.declared)
        given = self.filter_expression(filter)
        if given is not None:
            found = given if found is None else AllOf((found, given))
        compiler = self.compiler(fields, query, correct=correct, as_you_type=as_you_type)
        node, spec = compiler.compile(words)
        return CompiledQuery(
            query,
            node,
            spec,
            filter=found,
            words=bool(words.items),
            corrections=tuple(compiler.corrections),
            expanded=compiler.expanded,
            expansion_tree=compiler.expansion_query,
            unknown=tuple(compiler.unknown),
        )

    def suggest(self, query: str, fields: Sequence[str] | None = None) -> Suggestion | None:
        """A query finding more than ``query`` (see :func:`searchlib.query.suggest.suggest`),
        remembered for as long as the searcher."""
        names = tuple(fields or SEARCH_FIELDS)
        found = self.state.suggestions.get((query, names))
        if found is None:
            found = self.state.suggestions.put(
                (query, names), (suggest(query, self.state, self.analyzer, fields=names),)
            )
        return found[0]

    def complete(
        self, text: str, limit: int = 10, fields: Sequence[str] | None = None
    ) -> list[Completion]:
        """Completions of the last word of ``text`` (see
        :func:`searchlib.query.suggest.complete`)."""
        return complete(
            text, self.state, self.analyzer, limit=limit, fields=tuple(fields or SEARCH_FIELDS)
        )

    def filter_expression(self, filter: FilterArg | None) -> FilterExpr | None:
        """``filter`` as given to a search, as an expression (see :func:`filter_expression`)."""
        return filter_expression(filter, self.declared)

    def field_request(
        self,
        compiled: CompiledQuery,
        facets: Sequence[str | Facet] | None = None,
        sort: str | Sequence[str] | None = None,
    ) -> FieldRequest | None:
        """What a search asks of declared fields (``None``: nothing, a plain search).

        Raises:
            ValueError: a facet or sort key naming an unknown field, or not
                suiting the field's type.
            TypeError: malformed ``facets`` or ``sort``.
        """
        wanted = field_facets(facets, self.declared)
        keys = field_sort(parse_sort(sort), self.declared)
        if compiled.filter is None and not wanted and not keys:
            return None
        return FieldRequest(self.declared, compiled.filter, wanted, keys)

    def execute(
        self,
        compiled: CompiledQuery,
        limit: int,
        collapse: bool,
        *,
        request: FieldRequest | None = None,
    ) -> Executed:
        """The best ``limit`` passages (``(docnum, score)``) and how many match;
        with a ``request``, filtered, counted and ordered by declared fields
        (see :func:`searchlib.ranking.facets.execute_fields`).

        With a :attr:`reranker`, a ranking by score ranks at least the
        reranker's depth first, and reorders it with the reranker (a
        ranking by declared fields is left as it is).
        """
        return self.execute_reranked(compiled, limit, collapse, request=request)[0]

    def execute_reranked(
        self,
        compiled: CompiledQuery,
        limit: int,
        collapse: bool,
        *,
        request: FieldRequest | None = None,
    ) -> tuple[Executed, tuple[tuple[int, float], ...]]:
        """:meth:`execute`, and the candidates the reranker reordered, in their
        order before it (empty: no reranking)."""
        reranker = self.reranker
        if reranker is not None and (compiled.tree is None or (request and request.sort)):
            reranker = None
        depth = limit if reranker is None else max(limit, reranker.depth)
        if request is None:
            if compiled.tree is None:
                return Executed([], 0), ()
            found = self.state.execute_compiled(compiled, depth, collapse, fast=self.fast_path)
        elif compiled.tree is None and (compiled.words or request.filter is None):
            return Executed([], 0, facets={f.field: {} for f in request.facets}), ()
        else:
            found = execute_fields(
                self.state.scoring, compiled.query, request, depth, collapse, fast=self.fast_path
            )
        if reranker is None or not found.ranked:
            return found, ()
        head = tuple(found.ranked[: reranker.depth])
        found = reranker.rerank(self, compiled, found, collapse)
        return dataclasses.replace(found, ranked=found.ranked[:limit]), head

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
        hits = self.page_hits(
            compiled,
            executed,
            page=page,
            limit=limit,
            highlight_hits=highlight_hits,
            snippet_chars=snippet_chars,
            max_fragments=max_fragments,
        )
        return results_of(compiled, executed, page, limit, hits, _ms(t0))

    def page_hits(
        self,
        compiled: CompiledQuery,
        executed: Executed,
        *,
        page: int,
        limit: int,
        highlight_hits: bool = True,
        snippet_chars: int = 220,
        max_fragments: int = 2,
    ) -> tuple[Hit, ...]:
        """The hits of page ``page`` of ``executed`` (see :meth:`materialise`)."""
        first = (page - 1) * limit
        hits = []
        ranked = executed.ranked[first : first + limit]
        shown_fields = self.state.shown_fields
        for rank, (docnum, score) in enumerate(ranked, start=first + 1):
            shown = shown_fields(docnum)
            if highlight_hits:
                snippets = _snippets(
                    shown, self.analyzer, compiled.match, snippet_chars, max_fragments
                )
            else:  # the same for every search: kept with the stored fields
                snippets = shown.leading_snippets(snippet_chars)
            hits.append(_hit(rank, score, shown, snippets))
        return tuple(hits)


def results_of(
    compiled: CompiledQuery,
    executed: Executed,
    page: int,
    limit: int,
    hits: tuple[Hit, ...],
    elapsed_ms: float,
    *,
    suggestion: Suggestion | None = None,
    trace: Trace | None = None,
) -> SearchResults:
    """The results of a search: its page of ``hits``, and what the query was read as."""
    corrections = compiled.corrections
    return SearchResults(
        compiled.text,
        executed.total,
        page,
        limit,
        hits,
        compiled.match,
        elapsed_ms,
        facets=executed.facets,
        corrections=corrections,
        searched=apply_corrections(compiled.text, corrections) if corrections else compiled.text,
        suggestion=suggestion,
        unknown=compiled.unknown,
        trace=Trace() if trace is None else trace,
    )


def whoosh_query(node: ir.Node, memo: dict[int, wq.Query] | None = None) -> wq.Query:
    """The Whoosh query of a query tree (:mod:`searchlib.query.ir`): the same
    node object gives the same Whoosh object within one ``memo`` (explanations
    find the learned expansion inside the whole query by identity).

    >>> whoosh_query(ir.Or((ir.Term("title", "musiqu", 1.2), ir.Term("text", "musiqu"))))
    Or([Term('title', 'musiqu', boost=1.2), Term('text', 'musiqu')])
    """
    if memo is not None:
        found = memo.get(id(node))
        if found is not None:
            return found
    q: wq.Query
    if isinstance(node, ir.Term):
        q = wq.Term(node.field, node.text, boost=node.boost)
    elif isinstance(node, ir.Or):
        q = wq.Or([whoosh_query(x, memo) for x in node.items], boost=node.boost)
    elif isinstance(node, ir.Phrase):
        q = wq.Phrase(node.field, list(node.words), slop=node.slop, boost=node.boost)
    elif isinstance(node, ir.And):
        q = wq.And([whoosh_query(x, memo) for x in node.items], boost=node.boost)
    elif isinstance(node, ir.AndMaybe):
        q = wq.AndMaybe(whoosh_query(node.required, memo), whoosh_query(node.optional, memo))
        q.boost = node.boost
    elif isinstance(node, ir.AndNot):
        q = wq.AndNot(whoosh_query(node.positive, memo), whoosh_query(node.negative, memo))
        q.boost = node.boost
    elif isinstance(node, ir.Every):
        q = wq.Every(boost=node.boost)
    else:  # a local index lists a prefix's terms: the compiler never keeps one
        raise TypeError(f"no Whoosh query for {node!r}")
    if memo is not None:
        memo[id(node)] = q
    return q


def query_filters(query: str, declared: Mapping[str, FieldType]) -> tuple[Group, FilterExpr | None]:
    """``query`` parsed, its filters on the ``declared`` fields (``source:sp``)
    taken out: the words to search, and what the matches must satisfy. Both
    backends read a query with it.

    Raises:
        QuerySyntaxError: a malformed query, an unknown field, a misplaced filter.
    """
    tree = parse(query, declared) if declared else parse(query)
    return split_filters(tree, query, declared) if declared else (tree, None)


def filter_expression(
    filter: FilterArg | None, declared: Mapping[str, FieldType]
) -> FilterExpr | None:
    """``filter`` as given to a search, as an expression over the ``declared``
    fields: filter syntax (``"source:sp date:>=2020"``, no words), a mapping of
    declared fields to a value or a list of values (any of them; for a number
    or date, a value may be written as in the syntax: ``">=2020"``), or an
    expression. Both backends read filters with it.

    Raises:
        QuerySyntaxError: malformed filter syntax.
        ValueError: an unknown field, or a value that does not fit it.
        TypeError: something else than the above.
    """
    if filter is None:
        return None
    if isinstance(filter, str):
        words, found = split_filters(parse(filter, declared), filter, declared)
        if words.items:
            raise QuerySyntaxError("filter= holds filters only (field:value), not words", filter, 0)
        return found
    if isinstance(filter, Mapping):
        parts: list[FilterExpr] = []
        for name, value in filter.items():
            kind = _declared(declared, name)
            values = list(value) if isinstance(value, list | tuple) else [value]
            if isinstance(kind, Keyword):
                parts.append(Match(name, tuple(_keyword_value(name, v) for v in values)))
                continue
            ranges = [_range_value(name, kind, v) for v in values]
            parts.append(ranges[0] if len(ranges) == 1 else AnyOf(tuple(ranges)))
        if not parts:
            return None
        return parts[0] if len(parts) == 1 else AllOf(tuple(parts))
    if isinstance(filter, Match | Range | AnyOf | AllOf | Exclude):
        for name in filter_fields(filter):
            _declared(declared, name)
        _check_expression(declared, filter)
        return filter
    raise TypeError(
        "filter must be filter syntax (a string), a mapping of fields to values or "
        f"a searchlib.fields expression, not {type(filter).__name__}"
    )


def field_facets(
    facets: Sequence[str | Facet] | None, declared: Mapping[str, FieldType]
) -> tuple[Facet, ...]:
    """``facets`` as :class:`~searchlib.fields.Facet`, checked against the ``declared`` fields.

    Raises:
        ValueError: an unknown field, or a facet not suiting its type.
        TypeError: malformed ``facets``.
    """
    wanted = _facets(facets)
    for facet in wanted:
        _check_facet(declared, facet)
    return wanted


def field_sort(keys: tuple[SortKey, ...], declared: Mapping[str, FieldType]) -> tuple[SortKey, ...]:
    """Sort ``keys`` checked against the ``declared`` fields.

    Raises:
        ValueError: an unknown field, or one a document may hold several values of.
    """
    for key in keys:
        kind = _declared(declared, key.field)
        if is_multiple(kind):
            raise ValueError(f"cannot sort by {key.field}: a document may hold several values")
    return keys


def _declared(declared: Mapping[str, FieldType], name: object) -> FieldType:
    kind = declared.get(name) if isinstance(name, str) else None
    if kind is None:
        known = ", ".join(declared) or "none"
        raise ValueError(f"unknown field {name!r} (declared fields: {known})")
    return kind


def _keyword_value(name: str, value: object) -> str:
    try:
        converted = Keyword().convert(value)
    except ValueError as e:
        raise ValueError(f"filter {name}: {e}") from None
    if not converted:
        raise ValueError(f"filter {name}: no value")
    return str(converted[0])


def _range_value(name: str, kind: FieldType, value: object) -> FilterExpr:
    """A number or date filter value: as in the syntax (a string), or a number."""
    if isinstance(kind, Number) and isinstance(value, int | float) and not isinstance(value, bool):
        text = repr(float(value))
    elif isinstance(value, str):
        text = value
    else:
        raise ValueError(f"filter {name}: {value!r} is not a {kind.describe()} value")
    try:
        return filter_value(Filter(name, text, 0), text, kind)
    except QuerySyntaxError as e:
        raise ValueError(f"filter {name}: {e.message}") from None


def _check_expression(declared: Mapping[str, FieldType], expr: FilterExpr) -> None:
    if isinstance(expr, Match):
        if not isinstance(declared[expr.field], Keyword):
            raise ValueError(f"filter {expr.field}: Match needs a keyword field")
    elif isinstance(expr, Range):
        if not isinstance(declared[expr.field], Number | Date):
            raise ValueError(f"filter {expr.field}: Range needs a number or date field")
    elif isinstance(expr, Exclude):
        _check_expression(declared, expr.item)
    else:
        for item in expr.items:
            _check_expression(declared, item)


def _facets(facets: object) -> tuple[Facet, ...]:
    if facets is None:
        return ()
    if isinstance(facets, str | Facet):
        facets = [facets]
    if not isinstance(facets, Sequence):
        raise TypeError(f"facets must be a list of field names or Facet, not {facets!r}")
    out: list[Facet] = []
    for f in facets:
        if isinstance(f, str):
            out.append(Facet(f))
        elif isinstance(f, Facet):
            out.append(f)
        else:
            raise TypeError(f"a facet is a field name or a Facet, not {f!r}")
    return tuple(out)


def _check_facet(declared: Mapping[str, FieldType], facet: Facet) -> None:
    kind = _declared(declared, facet.field)
    if isinstance(kind, Keyword) and (facet.by is not None or facet.edges is not None):
        raise ValueError(f"facet {facet.field}: a keyword field counts per value")
    if isinstance(kind, Date) and facet.edges is not None:
        raise ValueError(f"facet {facet.field}: a date field counts by year, month or day")
    if isinstance(kind, Number) and (facet.by is not None or not facet.edges):
        raise ValueError(
            f"facet {facet.field}: a number field counts by ranges: give their edges "
            f'(Facet("{facet.field}", edges=(10, 100)), or {facet.field}:10,100)'
        )
    if facet.limit is not None and (isinstance(facet.limit, bool) or facet.limit < 1):
        raise ValueError(f"facet {facet.field}: limit must be at least 1")


def _snippets(
    shown: Shown,
    analyzer: FrenchAnalyzer,
    spec: MatchSpec,
    snippet_chars: int,
    max_fragments: int,
) -> tuple[Snippet, Snippet]:
    """A passage's best fragments and its title, matches marked."""
    text, title = shown.text, shown.title
    return (
        highlight(text, analyzer, spec, max_chars=snippet_chars, max_fragments=max_fragments),
        highlight(title, analyzer, spec, max_chars=max(len(title), 1), max_fragments=1),
    )


class Shown:
    """What a hit shows of a stored passage: its fields typed, and the start
    of its text and its title, nothing marked, per snippet size (the
    snippets of a hit not highlighted: frozen, so the results showing the
    same passage share them)."""

    __slots__ = ("_leads", "doc_id", "fields", "flat", "id", "position", "start", "text", "title")

    def __init__(self, stored: Mapping[str, Any]) -> None:
        self.id = str(stored["id"])
        self.doc_id = str(stored["doc_id"])
        self.position = int(stored.get("position") or 0)
        self.start = int(stored.get("start") or 0)
        self.title = str(stored.get("title") or "")
        self.text = str(stored.get("text") or "")
        self.fields: Mapping[str, Any] = stored.get("fields") or {}
        # no list or mapping inside: a copy of the mapping shares nothing mutable
        self.flat = all(type(v) in _IMMUTABLE for v in self.fields.values())
        self._leads: dict[int, tuple[Snippet, Snippet]] = {}

    def leading_snippets(self, chars: int) -> tuple[Snippet, Snippet]:
        """The start of the text (about ``chars``) and the whole title."""
        found = self._leads.get(chars)
        if found is None:
            title = self.title
            found = (leading_snippet(self.text, chars), leading_snippet(title, max(len(title), 1)))
            if len(self._leads) < 4:  # (a few sizes: one per caller, usually)
                self._leads[chars] = found
        return found


def _hit(rank: int, score: float, shown: Shown, snippets: tuple[Snippet, Snippet]) -> Hit:
    # Positional (rank, id, doc_id, position, start, score, title, text,
    # snippet, title_snippet, fields): a frozen dataclass takes them faster.
    # Stored values are cached and shared: the hit gets its own copy (a flat
    # mapping, the usual case, without deepcopy).
    return Hit(
        rank,
        shown.id,
        shown.doc_id,
        shown.position,
        shown.start,
        float(score),
        shown.title,
        shown.text,
        snippets[0],
        snippets[1],
        dict(shown.fields) if shown.flat else copy.deepcopy(dict(shown.fields)),
    )


_IMMUTABLE = frozenset({str, int, float, bool, type(None)})


def _as_str(term: str | bytes) -> str:
    return term if isinstance(term, str) else term.decode("utf-8")


def _ms(t0: float) -> float:
    return (time.perf_counter() - t0) * 1000.0
