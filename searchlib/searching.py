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
import functools
import itertools
import numbers
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from whoosh import query as wq

from searchlib._cache import BoundedCache
from searchlib.analysis.analyzer import FrenchAnalyzer, TokenView, fold, normalize_text, stem
from searchlib.errors import QuerySyntaxError
from searchlib.highlight import MatchSpec, Snippet, highlight, leading_snippet
from searchlib.query.acronyms import AcronymLexicon
from searchlib.query.language import SEARCH_FIELDS, BoolOp, Group, Node, Not, Phrase, Word, parse
from searchlib.query.typos import Vocabulary
from searchlib.ranking import fastpath
from searchlib.ranking.fastpath import Executed, ScoringView, SegmentCache
from searchlib.ranking.params import Ranking

if TYPE_CHECKING:
    from whoosh.searching import Searcher

MAX_EXPANSION = 256
"""At most this many index terms for one ``prefix*`` or ``word~`` (the most frequent)."""

MIN_PREFIX = 2
"""Shortest prefix accepted in ``prefix*`` (after folding)."""


@dataclass(frozen=True, slots=True)
class Hit:
    """One ranked passage.

    Attributes:
        rank: 1-based rank over all pages.
        id: passage id (``doc_id#n``).
        doc_id: id of the document the passage belongs to.
        position: index of the passage in its document (0-based).
        start: offset of the passage in the document text.
        score: BM25F score.
        title: document title.
        text: the passage text as stored.
        snippet: best fragments of the text, matches marked.
        title_snippet: the title, matches marked.
        fields: extra fields given with the document.
    """

    rank: int
    id: str
    doc_id: str
    position: int
    start: int
    score: float
    title: str
    text: str
    snippet: Snippet
    title_snippet: Snippet
    fields: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready view; the snippet as HTML with ``<mark>``."""
        return {
            "rank": self.rank,
            "id": self.id,
            "doc_id": self.doc_id,
            "score": round(self.score, 6),
            "title": self.title,
            "snippet": self.snippet.to_html(),
        }


@dataclass(frozen=True, slots=True)
class SearchResults:
    """One page of results.

    Attributes:
        query: the query as given.
        total: how many passages (or documents, when collapsed) match.
        page: 1-based page number.
        limit: page size.
        hits: the hits of this page.
        match: what the query matched, for highlighting other texts.
        elapsed_ms: time spent searching and highlighting.
    """

    query: str
    total: int
    page: int
    limit: int
    hits: tuple[Hit, ...]
    match: MatchSpec = field(default_factory=MatchSpec)
    elapsed_ms: float = 0.0

    def __iter__(self) -> Iterator[Hit]:
        return iter(self.hits)

    def __len__(self) -> int:
        return len(self.hits)

    def __getitem__(self, i: int) -> Hit:
        return self.hits[i]

    @property
    def pages(self) -> int:
        """Number of pages of ``limit`` hits."""
        return -(-self.total // self.limit) if self.total else 0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready view: ``{"query", "total", "hits": [...]}``."""
        return {
            "query": self.query,
            "total": self.total,
            "page": self.page,
            "hits": [h.to_dict() for h in self.hits],
        }


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


# -- compiling the syntax tree -------------------------------------------------


@dataclass
class _Compiled:
    """A compiled node; ``query`` is ``None`` when it matches nothing by itself."""

    query: wq.Query | None
    stop_only: bool = False  # every term is a stop word (droppable in a group)
    terms: frozenset[str] = frozenset()
    phrases: tuple[tuple[str, ...], ...] = ()
    term: str | None = None  # the single term of a plain word


def _merge(
    query: wq.Query | None, parts: Sequence[_Compiled], stop_only: bool = False
) -> _Compiled:
    terms: set[str] = set()
    phrases: list[tuple[str, ...]] = []
    for p in parts:
        terms |= p.terms
        phrases.extend(p.phrases)
    return _Compiled(query, stop_only, frozenset(terms), tuple(dict.fromkeys(phrases)))


class QueryCompiler:
    """Turns a syntax tree into a Whoosh query and what to highlight.

    Args:
        analyzer: the index's analyzer (query words are analysed with it).
        state: the state of the searcher the query will run with, for the
            index's terms (typos, ``prefix*``, ``word~``); ``None`` compiles
            without looking at an index (no typo correction, no expansion).
        ranking: the ranking parameters (boosts, expansions, operator).
        fields: the fields plain words are searched in.
        query_text: the query as typed (for error messages).
        exact_analyzer: the analyzer of the ``exact`` field (for
            ``Ranking.exact_boost``).
        acronyms: the acronym lexicon of the index (for ``Ranking.acronym_boost``).
    """

    def __init__(
        self,
        analyzer: FrenchAnalyzer,
        state: SearcherState | None,
        ranking: Ranking,
        fields: Sequence[str] = SEARCH_FIELDS,
        query_text: str = "",
        exact_analyzer: FrenchAnalyzer | None = None,
        acronyms: AcronymLexicon | None = None,
    ) -> None:
        self.query_text = query_text
        self.acronyms = acronyms if acronyms and ranking.acronym_boost > 0 else None
        self.exact_analyzer = exact_analyzer if ranking.exact_boost > 0 else None
        self.analyzer = analyzer
        self.state = state
        self.ranking = ranking
        self.fields = tuple(fields)
        self.boosts = ranking.boosts()

    def compile(self, tree: Group) -> tuple[wq.Query | None, MatchSpec]:
        """The Whoosh query for ``tree`` (``None`` when nothing is searchable), and
        the terms and phrases to mark in snippets."""
        c = self._group(tree, top=True)
        return c.query, MatchSpec(c.terms, c.phrases)

    def acronym_query(self, word: Word | str) -> wq.Query | None:
        """The long forms a plain query word adds as an acronym, or ``None``.

        What compiling ``word`` adds for it (see :meth:`_acronym`): ``None``
        when the word is no acronym the lexicon defines often enough, when it
        analyses to several tokens, or when the expansion is off
        (``Ranking.acronym_boost`` 0, no lexicon).
        """
        node = Word(word, 0) if isinstance(word, str) else word
        if node.kind != "word":
            return None
        tokens = self.analyzer.tokens(normalize_text(node.text), mode="query")
        if len(tokens) != 1:
            return None
        return self._acronym(node, tokens[0], tokens[0].stopped).query

    def _node(self, node: Node) -> _Compiled:
        if isinstance(node, Word):
            return self._word(node)
        if isinstance(node, Phrase):
            return self._phrase(node.text, node.field)
        if isinstance(node, BoolOp):
            return self._bool(node)
        if isinstance(node, Group):
            return self._group(node)
        return self._group(Group((node,)))  # a lone NOT

    def _group(self, node: Group, top: bool = False) -> _Compiled:
        positives: list[Node] = [x for x in node.items if not isinstance(x, Not)]
        if self.ranking.join_ordinals:
            positives = _join_ordinals(positives)
        negatives = [x.item for x in node.items if isinstance(x, Not)]
        compiled = [self._node(x) for x in positives]
        if any(not c.stop_only and c.query is not None for c in compiled):
            compiled = [c for c in compiled if not c.stop_only]
        queries = [c.query for c in compiled if c.query is not None]
        queries.extend(self._proximity([c.term for c in compiled]))
        pos = _and(queries) if self.ranking.default_operator == "and" else _or(queries)
        stop_only = bool(compiled) and all(c.stop_only for c in compiled)
        return _merge(self._exclude(pos, negatives, top), compiled, stop_only)

    def _proximity(self, terms: Sequence[str | None]) -> list[wq.Query]:
        """Bonus queries for consecutive query words found near each other in the text."""
        boost = self.ranking.proximity_boost
        if boost <= 0 or self.ranking.default_operator == "and" or "text" not in self.fields:
            return []
        out: list[wq.Query] = []
        for a, b in itertools.pairwise(terms):
            if a and b and a != b:
                out.append(wq.Phrase("text", [a, b], slop=self.ranking.proximity_slop, boost=boost))
        return out

    def _exclude(self, pos: wq.Query | None, negatives: list[Node], top: bool) -> wq.Query | None:
        if not negatives:
            return pos
        # Excluded words are not highlighted: their terms are dropped here.
        neg = _or([self._node(n).query for n in negatives])
        if neg is None:
            return pos
        if pos is None:
            if not top:
                return None
            pos = wq.Every()
        return wq.AndNot(pos, neg)

    def _bool(self, node: BoolOp) -> _Compiled:
        positives = [x for x in node.items if not isinstance(x, Not)]
        negatives = [x.item for x in node.items if isinstance(x, Not)]
        compiled = [self._node(x) for x in positives]
        if node.op == "OR":
            return _merge(_or([c.query for c in compiled]), compiled)
        if any(c.query is None for c in compiled):
            return _Compiled(None)  # AND with an unsearchable side matches nothing
        query = self._exclude(_and([c.query for c in compiled]), negatives, False)
        return _merge(query, compiled)

    def _fields(self, field: str | None) -> tuple[str, ...]:
        return (field,) if field else self.fields

    def _term(self, text: str, field: str | None, weight: float = 1.0) -> wq.Query:
        qs = [wq.Term(f, text, boost=self.boosts.get(f, 1.0) * weight) for f in self._fields(field)]
        return qs[0] if len(qs) == 1 else wq.Or(qs)

    def _phrase_query(
        self, terms: Sequence[str], field: str | None, weight: float = 1.0, slop: int = 1
    ) -> wq.Query:
        qs = [
            wq.Phrase(f, list(terms), slop=slop, boost=self.boosts.get(f, 1.0) * weight)
            for f in self._fields(field)
        ]
        return qs[0] if len(qs) == 1 else wq.Or(qs)

    def _word(self, node: Word) -> _Compiled:
        if node.kind != "word":
            return self._expand(node)
        tokens = self.analyzer.tokens(normalize_text(node.text), mode="query")
        if not tokens:
            return _Compiled(None)
        stop_only = all(t.stopped for t in tokens)
        if len(tokens) == 1:
            term = tokens[0].text
            query = self._term(term, node.field)
            long_forms = self._acronym(node, tokens[0], stop_only)
            if long_forms.query is not None:
                stop_only = False
            if not stop_only:
                corrected = self._typo(term, node.field)
                if corrected:
                    alternatives = [self._term(t, node.field) for t in corrected]
                    alternatives.append(long_forms.query)
                    return _merge(
                        _or(alternatives),
                        [_Compiled(None, terms=frozenset(corrected)), long_forms],
                    )
            if self.exact_analyzer is not None and node.field is None:
                exact = self.exact_analyzer.tokens(normalize_text(node.text), mode="query")
                if len(exact) == 1:
                    bonus = wq.Term("exact", exact[0].text, boost=self.ranking.exact_boost)
                    query = wq.Or([query, bonus])
            if long_forms.query is not None:
                query = wq.Or([query, long_forms.query])
            found = _Compiled(query, stop_only, frozenset({term}), term=term)
            return replace(_merge(query, [found, long_forms], stop_only), term=term)
        # Several tokens from one typed word (États-Unis, a.b): the joined
        # compound, the parts as a phrase and, since people type a hyphen for
        # a space (``lieu-travail``), each part as a word of its own. An
        # inversion (``peut-il``, ``a-t-elle``) is matched by its joined form
        # only, and is a stop word when its parts are (``est-ce``).
        parts = tuple(t.text for t in tokens if not t.compound)
        joined = [t.text for t in tokens if t.compound]
        stop_only = all(t.stopped for t in tokens if not t.compound)
        alternatives = [self._term(j, node.field) for j in joined]
        phrases: tuple[tuple[str, ...], ...] = ()
        loose: frozenset[str] = frozenset()
        if len(parts) > 1 and not (joined and _inversion(node.text)):
            alternatives.append(self._phrase_query(parts, node.field))
            phrases = (parts,)
            weight = self.ranking.compound_parts
            if weight > 0 and "-" in node.text:
                loose = frozenset(t.text for t in tokens if not t.compound and not t.stopped)
                alternatives.extend(self._term(p, node.field, weight) for p in sorted(loose))
        elif len(parts) == 1:
            alternatives.append(self._term(parts[0], node.field))
        terms = frozenset(joined) | (frozenset(parts) if len(parts) == 1 else loose)
        return _Compiled(_or(alternatives), stop_only, terms, phrases)

    def _acronym(self, node: Word, token: TokenView, stop_only: bool) -> _Compiled:
        """The long forms of an acronym the documents define, each as a phrase.

        ``cdd`` (or ``CDD``, ``C.D.D.``, ``l'CDD``) -> « contrat à durée
        déterminée », weighted by ``Ranking.acronym_boost`` divided by the
        phrase's words that are no stop words (see :mod:`searchlib.query.acronyms`).
        A stop word is taken for an acronym only when typed in capitals
        (``CET``, not ``cet``).
        """
        # The word as typed, without an elided article (``l'AAH``).
        word = normalize_text(node.text)[token.start : token.end]
        if self.acronyms is None or (stop_only and not word.isupper()):
            return _Compiled(None)
        ranking = self.ranking
        forms = self.acronyms.expansions(
            word, self.analyzer, ranking.acronym_min_docs, ranking.acronym_max_forms
        )
        queries: list[wq.Query | None] = []
        phrases: list[tuple[str, ...]] = []
        terms: set[str] = set()
        for form in forms:
            tokens = [t for t in self.analyzer.tokens(normalize_text(form)) if not t.compound]
            parts = tuple(t.text for t in tokens)
            if len(parts) > 1:
                content = [i for i, t in enumerate(tokens) if not t.stopped]
                # Whoosh scores a phrase as the sum of its words' scores: per
                # word that is no stop word, so it weighs about one query word.
                weight = ranking.acronym_boost / max(1, len(content))
                searched, slop = parts, ranking.acronym_slop
                if len(content) > 1 and slop > 1:
                    # The content words only, the stop words between them
                    # counted into the slop: far fewer positions to check.
                    searched = tuple(parts[i] for i in content)
                    slop += max(b - a - 1 for a, b in itertools.pairwise(content))
                queries.append(self._phrase_query(searched, node.field, weight, slop))
                phrases.append(parts)
            elif parts:
                queries.append(self._term(parts[0], node.field, ranking.acronym_boost))
                terms.add(parts[0])
        return _Compiled(_or(queries), False, frozenset(terms), tuple(phrases))

    def _typo(self, term: str, field: str | None) -> tuple[str, ...]:
        """Index terms close to ``term`` when ``term`` itself is absent (a typo).

        Only words of at least ``Ranking.typo_min_length`` letters that match
        nothing are corrected: to the most frequent terms at edit distance 1,
        with the same first letter, looked up in the field's vocabulary (see
        :meth:`SearcherState.corrections`, cached per searcher).
        """
        ranking = self.ranking
        if ranking.typo_max_terms <= 0 or self.state is None:
            return ()
        if len(term) < ranking.typo_min_length or not term.isalpha():
            return ()
        return self.state.corrections(term, self._fields(field))[: ranking.typo_max_terms]

    def _phrase(self, text: str, field: str | None) -> _Compiled:
        tokens = self.analyzer.tokens(normalize_text(text), mode="query")
        terms = tuple(t.text for t in tokens if not t.compound)
        if not terms:
            return _Compiled(None)
        if len(terms) == 1:
            return _Compiled(self._term(terms[0], field), False, frozenset(terms))
        return _Compiled(self._phrase_query(terms, field), False, frozenset(), (terms,))

    def _expand(self, node: Word) -> _Compiled:
        """``prefix*`` and ``word~``: the most frequent matching index terms."""
        text = fold(normalize_text(node.text).lower()).strip("'’")
        if not text or self.state is None:
            return _Compiled(None)
        if node.kind == "prefix" and len(text) < MIN_PREFIX:
            raise QuerySyntaxError(
                f"prefix {node.text!r} is too short (at least {MIN_PREFIX} letters)",
                self.query_text or node.text,
                node.start if self.query_text else 0,
            )
        reader = self.state.searcher.reader()
        found: dict[str, int] = {}
        for f in self._fields(node.field):
            candidates: set[str] = set()
            if node.kind == "prefix":
                root = stem(text)
                roots = {text, root} if len(root) >= 3 else {text}
                for r in roots:
                    for i, t in enumerate(reader.expand_prefix(f, r)):
                        if i >= MAX_EXPANSION * 20:
                            break
                        candidates.add(_as_str(t))
            else:
                candidates = {
                    _as_str(t) for t in reader.terms_within(f, stem(text), node.maxdist, prefix=1)
                }
            for t in candidates:
                found[t] = found.get(t, 0) + reader.doc_frequency(f, t)
        if not found:
            return _Compiled(None)
        best = sorted(found, key=lambda t: (-found[t], t))[:MAX_EXPANSION]
        return _Compiled(_or([self._term(t, node.field) for t in best]), False, frozenset(best))


_ORDINAL_SUFFIXES = frozenset("e er ere eme emes ieme iemes".split())


def _join_ordinals(items: list[Node]) -> list[Node]:
    """``13 ème`` typed as two words is the ordinal ``13ème``."""
    out: list[Node] = []
    for item in items:
        prev = out[-1] if out else None
        if (
            isinstance(item, Word)
            and isinstance(prev, Word)
            and item.kind == prev.kind == "word"
            and item.field == prev.field
            and prev.text.isdigit()
            and fold(item.text.lower()) in _ORDINAL_SUFFIXES
        ):
            out[-1] = replace(prev, text=f"{prev.text}{item.text}")
            continue
        out.append(item)
    return out


_CLITICS = frozenset(
    """je tu il elle on nous vous ils elles ce t
    moi toi lui leur le la les y en meme memes ci""".split()
)
"""Words after a hyphen that make an inversion or a clitic (folded: ``là`` is ``la``)."""


def _inversion(text: str) -> bool:
    """Whether a hyphenated word is a verb-subject inversion or takes a clitic
    (``peut-il``, ``a-t-elle``, ``dis-moi``, ``lui-même``): its parts are no
    topic of their own, and the words in this order are the compound itself."""
    parts = fold(text.lower()).split("-")
    return any(p in _CLITICS for p in parts[1:])


def _as_str(term: str | bytes) -> str:
    return term if isinstance(term, str) else term.decode("utf-8")


def _or(queries: Sequence[wq.Query | None]) -> wq.Query | None:
    qs = [q for q in queries if q is not None]
    if not qs:
        return None
    return qs[0] if len(qs) == 1 else wq.Or(qs)


def _and(queries: Sequence[wq.Query | None]) -> wq.Query | None:
    qs = [q for q in queries if q is not None]
    if not qs:
        return None
    return qs[0] if len(qs) == 1 else wq.And(qs)


# -- running a search -----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CompiledQuery:
    """A query compiled for one searcher.

    Attributes:
        text: the query as given.
        query: the Whoosh query (``None`` when nothing is searchable).
        match: the terms and phrases to mark in snippets.
    """

    text: str
    query: wq.Query | None
    match: MatchSpec


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
        )

    def compile(self, query: str, fields: Sequence[str] | None = None) -> CompiledQuery:
        """Parse and compile ``query`` (plain words searched in ``fields``).

        Raises:
            QuerySyntaxError: the query is an explicitly malformed operator query.
        """
        tree = parse(query)
        wquery, spec = self.compiler(fields, query).compile(tree)
        return CompiledQuery(query, wquery, spec)

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
