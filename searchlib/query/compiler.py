"""Compiling a parsed query into searchlib's query tree and what to highlight.

:class:`QueryCompiler` walks the syntax tree of :mod:`searchlib.query.language`:
each word is analysed as the index analyses text, and becomes its stemmed
term in ``title`` and ``text`` (title boosted), with the exact form as typed
as a bonus; ``prefix*`` and ``word~`` expand over the index's terms, typos are
corrected from its vocabulary, acronyms expand to the long forms the
documents defined, and phrases and proximity pairs are scored as the ranking
asks. The index's terms come through an :class:`IndexTerms` (a searcher's
state, see :class:`searchlib.searching.SearcherState`). A :class:`TermExpansion`
(what an index learned from relevance judgments, see :mod:`searchlib.learn`)
adds weighted index terms to the whole query, as acronyms add long forms to
a word.

The compiler is the one rule book: it makes a tree of :mod:`searchlib.query.ir`
nodes, which each backend emits in its own terms (Whoosh query objects,
:func:`searchlib.searching.whoosh_query`).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Protocol

from searchlib._cache import BoundedCache
from searchlib._whoosh.limits import check as check_deadline
from searchlib.analysis.analyzer import FrenchAnalyzer, TokenView, fold, normalize_text, stem
from searchlib.errors import QuerySyntaxError
from searchlib.highlight import MatchSpec
from searchlib.query import ir
from searchlib.query.acronyms import AcronymLexicon
from searchlib.query.french_words import french_words
from searchlib.query.language import (
    SEARCH_FIELDS,
    BoolOp,
    Filter,
    Group,
    Node,
    Not,
    Phrase,
    Word,
)
from searchlib.query.typos import (
    RARE_BELOW,
    Lexicon,
    Respelling,
    SurfaceVocabulary,
    absent_readings,
    readings,
)
from searchlib.ranking.params import Ranking
from searchlib.results import Correction, UnknownWord


class IndexTerms(Protocol):
    """What the compiler reads of an index, whatever its backend: term
    frequencies and the terms near or after others (a local searcher's state,
    :class:`searchlib.searching.SearcherState`, or what a cluster answered,
    :class:`searchlib.opensearch.translate.ClusterTerms`)."""

    def prefix_terms(self, field: str, roots: Sequence[str]) -> dict[str, int] | None:
        """The index terms of ``field`` starting with one of ``roots`` (at most
        :data:`MAX_EXPANSION` times 20 per root, in term order) and their
        frequencies; ``None`` when the backend cannot list them (then the
        query keeps the prefixes themselves, see :class:`searchlib.query.ir.Prefix`)."""

    def fuzzy_terms(self, field: str, center: str, maxdist: int) -> dict[str, int]:
        """The index terms of ``field`` within ``maxdist`` edits of ``center``
        with its first letter (``center`` included), and their frequencies."""

    def passage_count(self) -> int:
        """Passages in the index."""

    def known_frequency(self, field: str, text: str) -> int | None:
        """:meth:`doc_frequency` when it is at hand without asking the index
        again (a cluster's: when looked up for another rule), else ``None``."""

    def doc_frequency(self, field: str, text: str) -> int:
        """Passages holding ``text`` in ``field``."""

    def corrections(self, term: str, fields: Sequence[str]) -> Sequence[str]:
        """Index terms within one edit of ``term``, most frequent first."""

    def surfaces(self) -> SurfaceVocabulary:
        """The index's written forms (its ``exact`` field)."""

    def has_surfaces(self) -> bool:
        """Whether the index's written forms are known (:meth:`surfaces` holds
        some), without reading them all."""

    def surface_frequency(self, folded: str) -> int:
        """Passages holding a written form that folds to ``folded``."""

    def respellings(self, word: str, ratio: float) -> Sequence[Respelling]:
        """Written forms to read a rare typed word (folded) as."""

    def written(self, folded: str) -> str:
        """How the documents write the form ``folded``."""

    def completions(self, prefix: str, limit: int) -> Sequence[tuple[str, int]]:
        """The most frequent written forms (folded) starting with ``prefix``, with
        their frequencies."""

    def matching(self, groups: Sequence[Sequence[str]], fields: Sequence[str]) -> int:
        """Passages holding, for each group, one of its terms in one of ``fields``."""

    def co_occurrences(
        self, groups: Sequence[Sequence[str]], terms: Sequence[str], fields: Sequence[str]
    ) -> list[int]:
        """For each of ``terms``, the passages holding it and what :meth:`matching` counts."""


class TermExpansion(Protocol):
    """Index terms to add to a query, with their weights (learned associations)."""

    def expand(self, terms: Sequence[str]) -> Sequence[tuple[str, float]]:
        """Terms to search besides the query's own ``terms`` (analysed, as
        highlighted), each with its weight relative to one query word."""


EXPANSION_FIELD = "text"
"""The field that learned expansion terms are searched in."""

MAX_EXPANSION = 256
"""At most this many index terms for one ``prefix*`` or ``word~`` (the most frequent)."""

MAX_CORRECTED = 32
"""Longest word (in letters) that typo correction and ``word~`` look at: no
French word is longer, and the cost of looking grows with the length."""

MIN_PREFIX = 2
"""Shortest prefix accepted in ``prefix*`` (after folding)."""

CANDIDATES = 8
"""Written forms (the closest, then most frequent) a typo's reading is chosen among."""

AS_YOU_TYPE_FORMS = 24
"""Written forms (the most frequent) an unfinished last word is read as, as you type."""


# -- compiling the syntax tree -------------------------------------------------


@dataclass
class _Compiled:
    """A compiled node; ``query`` is ``None`` when it matches nothing by itself."""

    query: ir.Node | None
    stop_only: bool = False  # every term is a stop word (droppable in a group)
    terms: frozenset[str] = frozenset()
    phrases: tuple[tuple[str, ...], ...] = ()
    term: str | None = None  # the single term of a plain word


@dataclass(frozen=True, slots=True)
class CompiledWord:
    """What compiling a plain query word gave, as :class:`QueryCompiler` keeps
    it for the searcher's later queries (see its ``words`` argument): the
    compiled word, and the word it notes as unknown with its offset from the
    typed word's start (``None``: none noted). A word read as another (a typo)
    is not kept: its reading weighs the query's other words."""

    compiled: _Compiled
    unknown: tuple[str, int] | None = None


WordKey = tuple[str, str | None, bool]
"""A plain word as typed, the field it names, and whether it was typed ``+word``."""


def _merge(query: ir.Node | None, parts: Sequence[_Compiled], stop_only: bool = False) -> _Compiled:
    terms: set[str] = set()
    phrases: list[tuple[str, ...]] = []
    for p in parts:
        terms |= p.terms
        phrases.extend(p.phrases)
    return _Compiled(query, stop_only, frozenset(terms), tuple(dict.fromkeys(phrases)))


class QueryCompiler:
    """Turns a syntax tree into a query tree (:mod:`searchlib.query.ir`) and what to highlight.

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
        correct: correct typos (``False``: every word as typed; a word
            typed ``+word`` is never corrected either way).
        as_you_type: the query is being typed: its last word, unless a
            space follows it, matches the index's written forms it starts
            (``conv`` -> « convention », « conversion »: their stems are searched).
        expansion: learned terms to add to the whole query (``None``: none).
        lexicon: words never read as other words, though the index lacks
            them (``None``: the French words of
            :func:`~searchlib.query.french_words.french_words`, read when
            first needed; :data:`~searchlib.query.french_words.NO_WORDS`:
            the index alone decides).

    After :meth:`compile`, :attr:`corrections` lists the words that were
    read as others, :attr:`unknown` the words searched as typed that no
    passage holds, :attr:`expanded` the terms :attr:`expansion` added, with
    their weights, and :attr:`expansion_query` the part of the query that
    searches them (``None`` when there is none), for explanations.
    """

    def __init__(
        self,
        analyzer: FrenchAnalyzer,
        state: IndexTerms | None,
        ranking: Ranking,
        fields: Sequence[str] = SEARCH_FIELDS,
        query_text: str = "",
        exact_analyzer: FrenchAnalyzer | None = None,
        acronyms: AcronymLexicon | None = None,
        correct: bool = True,
        as_you_type: bool = False,
        expansion: TermExpansion | None = None,
        lexicon: Lexicon | None = None,
        words: BoundedCache[WordKey, CompiledWord] | None = None,
    ) -> None:
        self.correct = correct
        self._words = words
        self._tree: Node | None = None
        self.as_you_type = as_you_type
        self._context: list[tuple[int, str]] | None = None
        self.corrections: list[Correction] = []
        self.unknown: list[UnknownWord] = []
        self._lexicon = lexicon
        self.query_text = query_text
        self.expansion = expansion
        self.expanded: tuple[tuple[str, float], ...] = ()
        self.expansion_query: ir.Node | None = None
        self.acronyms = acronyms if acronyms and ranking.acronym_boost > 0 else None
        self.fields = tuple(fields)
        # The exact form of a passage is its title and text together: its bonus
        # applies only to searches of both (else it would match a passage by
        # the field the search left out).
        both = {"title", "text"} <= set(self.fields)
        self.exact_analyzer = exact_analyzer if ranking.exact_boost > 0 and both else None
        self.analyzer = analyzer
        self.state = state
        self.ranking = ranking
        self.boosts = ranking.boosts()

    def compile(self, tree: Group) -> tuple[ir.Node | None, MatchSpec]:
        """The query tree for ``tree`` (``None`` when nothing is searchable), and
        the terms and phrases to mark in snippets."""
        self._tree, self._context = tree, None  # (read when a typo's readings are weighed)
        c = self._group(tree, top=True)
        return c.query, MatchSpec(c.terms, c.phrases)

    def context(self) -> list[tuple[int, str]]:
        """The plain words of the query being compiled: what :meth:`_plain_terms` gives."""
        if self._context is None:
            self._context = [] if self._tree is None else self._plain_terms(self._tree)
        return self._context

    def _plain_terms(self, node: Node) -> list[tuple[int, str]]:
        """The plain words of a query (not negated), each one index term: their
        offsets and terms (what a typo's candidates are weighed against)."""
        if isinstance(node, Word):
            if node.kind != "word":
                return []
            tokens = [t for t in self.analyzer.tokens(normalize_text(node.text)) if not t.compound]
            if len(tokens) == 1 and not tokens[0].stopped:
                return [(node.start, tokens[0].text)]
            return []
        if isinstance(node, Group | BoolOp):
            return [pair for item in node.items for pair in self._plain_terms(item)]
        return []

    def acronym_query(self, word: Word | str) -> ir.Node | None:
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
        if isinstance(node, Filter):  # split_filters takes them out of the tree first
            raise QuerySyntaxError(
                f"the filter {node.field}:{node.text} cannot stand here",
                self.query_text or node.text,
                node.start if self.query_text else 0,
            )
        return self._group(Group((node,)))  # a lone NOT

    def _group(self, node: Group, top: bool = False) -> _Compiled:
        positives: list[Node] = [x for x in node.items if not isinstance(x, Not)]
        if (  # "13 ème": one ordinal (a number must stand before a word)
            self.ranking.join_ordinals
            and any(isinstance(x, Word) and x.text.isdigit() for x in positives[:-1])
            and self.analyzer.ordinals
        ):
            positives = _join_ordinals(positives)
        negatives = [x.item for x in node.items if isinstance(x, Not)]
        compiled = [self._node(x) for x in positives]
        if any(not c.stop_only and c.query is not None for c in compiled):
            compiled = [c for c in compiled if not c.stop_only]
        queries = [c.query for c in compiled if c.query is not None]
        queries.extend(self._proximity([c.term for c in compiled]))
        pos = _and(queries) if self.ranking.default_operator == "and" else _or(queries)
        if top and pos is not None and self.expansion is not None:
            pos = self._learned(pos, compiled, self.expansion)
        stop_only = bool(compiled) and all(c.stop_only for c in compiled)
        return _merge(self._exclude(pos, negatives, top), compiled, stop_only)

    def _learned(
        self, pos: ir.Node, compiled: Sequence[_Compiled], expansion: TermExpansion
    ) -> ir.Node:
        """``pos`` with the terms :attr:`expansion` adds for the query's terms.

        Each added term is searched in the text with its weight, as an
        optional part: ORed into the query, or ranking without being required
        when words are ANDed. (In the text only: in the title as well, an
        expanded query cost more and ranked no better on the labour-law
        collection.) A query that does not search the text is not expanded.
        """
        if EXPANSION_FIELD not in self.fields:
            return pos
        words = sorted({t for c in compiled for t in c.terms})
        expanded = tuple((t, w) for t, w in expansion.expand(words) if w > 0)
        if not expanded:
            return pos
        # What self._term(t, EXPANSION_FIELD, w) gives (one field: one term), made directly.
        boost = self.boosts.get(EXPANSION_FIELD, 1.0)
        learned = ir.Or(tuple([ir.Term(EXPANSION_FIELD, t, boost * w) for t, w in expanded]))
        self.expanded = expanded
        self.expansion_query = learned
        if self.ranking.default_operator == "and":
            return ir.AndMaybe(pos, learned)
        return ir.Or((pos, learned))

    def _proximity(self, terms: Sequence[str | None]) -> list[ir.Node]:
        """Bonus queries for consecutive query words found near each other in the text."""
        boost = self.ranking.proximity_boost
        if boost <= 0 or self.ranking.default_operator == "and" or "text" not in self.fields:
            return []
        out: list[ir.Node] = []
        for a, b in itertools.pairwise(terms):
            if a and b and a != b:
                out.append(ir.Phrase("text", (a, b), self.ranking.proximity_slop, boost))
        return out

    def _exclude(self, pos: ir.Node | None, negatives: list[Node], top: bool) -> ir.Node | None:
        if not negatives:
            return pos
        # Excluded words are not highlighted: their terms are dropped here.
        neg = _or([self._node(n).query for n in negatives])
        if neg is None:
            return pos
        if pos is None:
            if not top:
                return None
            pos = ir.Every()
        return ir.AndNot(pos, neg)

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

    def _term(self, text: str, field: str | None, weight: float = 1.0) -> ir.Node:
        qs = [ir.Term(f, text, self.boosts.get(f, 1.0) * weight) for f in self._fields(field)]
        return qs[0] if len(qs) == 1 else ir.Or(tuple(qs))

    def _phrase_query(
        self, terms: Sequence[str], field: str | None, weight: float = 1.0, slop: int = 1
    ) -> ir.Node:
        qs = [
            ir.Phrase(f, tuple(terms), slop, self.boosts.get(f, 1.0) * weight)
            for f in self._fields(field)
        ]
        return qs[0] if len(qs) == 1 else ir.Or(tuple(qs))

    def _word(self, node: Word) -> _Compiled:
        if node.kind != "word":
            return self._expand(node)
        if self.as_you_type and node.start + len(node.text) == len(self.query_text):
            typing = self._typing(node)
            return typing if typing is not None else self._plain_word(node)
        if self._words is None:
            return self._plain_word(node)
        # A plain word compiles the same in every query of the searcher (the
        # same settings: see SearchContext.compiler), unless read as another.
        start = node.start
        key = (node.text, node.field, start > 0 and self.query_text[start - 1 : start] == "+")
        kept = self._words.get(key)
        if kept is not None:
            if kept.unknown is not None:
                word, at = kept.unknown
                self.unknown.append(UnknownWord(word, start + at))
            return kept.compiled
        corrected, unknown = len(self.corrections), len(self.unknown)
        found = self._plain_word(node)
        if len(self.corrections) == corrected:
            noted = None
            if len(self.unknown) > unknown:
                noted = (self.unknown[-1].word, self.unknown[-1].start - start)
            self._words.put(key, CompiledWord(found, noted))
        return found

    def _plain_word(self, node: Word) -> _Compiled:
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
            if not stop_only and self._may_correct(node):
                respelt = self._respell(node, tokens[0], term)
                if respelt is not None:
                    return self._respelt(node, tokens[0], term, respelt, long_forms)
                corrected = self._stem_typo(node, tokens[0], term)
                if corrected:
                    self._record(node, tokens[0], corrected, corrected[0], False)
                    alternatives: list[ir.Node | None] = [
                        self._term(t, node.field) for t in corrected
                    ]
                    alternatives.append(long_forms.query)
                    return _merge(
                        _or(alternatives),
                        [_Compiled(None, terms=frozenset(corrected)), long_forms],
                    )
            if not stop_only and long_forms.query is None:
                self._unknown(node, tokens[0], term)
            if self.exact_analyzer is not None and node.field is None:
                exact = self.exact_analyzer.tokens(normalize_text(node.text), mode="query")
                if len(exact) == 1:
                    bonus = ir.Term("exact", exact[0].text, self.ranking.exact_boost)
                    query = ir.Or((query, bonus))
            if long_forms.query is not None:
                query = ir.Or((query, long_forms.query))
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
        queries: list[ir.Node | None] = []
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

    def _typing(self, node: Word) -> _Compiled | None:
        """The unfinished last word: the stems of the :data:`AS_YOU_TYPE_FORMS`
        most frequent written forms it starts (``None`` when it is no single
        word of 2 letters or more, or starts none)."""
        text = normalize_text(node.text)
        tokens = [t for t in self.analyzer.tokens(text, mode="query") if not t.compound]
        if self.state is None or len(tokens) != 1 or not text[-1:].isalnum():
            return None
        prefix = fold(text[tokens[0].start : tokens[0].end].lower())
        if len(prefix) < MIN_PREFIX:
            return None
        terms: list[str] = []
        for form, _ in self.state.completions(prefix, AS_YOU_TYPE_FORMS):
            term = self._stem(form)
            if term is not None and term not in terms:
                terms.append(term)
        if not terms:
            return None
        query = _or([self._term(t, node.field) for t in terms])
        return _Compiled(query, False, frozenset(terms))

    def _may_correct(self, node: Word) -> bool:
        """Whether typos may be corrected in ``node``: correction is on, and the
        word was not typed ``+word``."""
        if not self.correct or self.state is None:
            return False
        start = node.start
        return not (start > 0 and self.query_text[start - 1 : start] == "+")

    def _typed(self, node: Word, token: TokenView) -> tuple[str, int]:
        """The word of ``token`` as typed, and its offset in the query."""
        text = normalize_text(node.text)
        if len(text) != len(node.text):  # not NFC: offsets would not match
            return node.text, node.start
        return text[token.start : token.end], node.start + token.start

    def _record(
        self, node: Word, token: TokenView, terms: Sequence[str], replacement: str, kept: bool
    ) -> None:
        word, start = self._typed(node, token)
        self.corrections.append(Correction(word, start, replacement, tuple(terms), kept))

    @property
    def lexicon(self) -> Lexicon:
        """The words never read as others (see the ``lexicon`` argument)."""
        if self._lexicon is None:
            self._lexicon = french_words()
        return self._lexicon

    def _stem_typo(self, node: Word, token: TokenView, term: str) -> tuple[str, ...]:
        """Where the index's written forms are not known (a cluster's index):
        the index terms one edit from ``term`` when no passage holds it (see
        :meth:`IndexTerms.corrections`), unless the word as typed is French (a
        French word is never read as another). Empty where written forms are
        known: :meth:`_respell` reads typos on them."""
        ranking = self.ranking
        if self.state is None or self.state.has_surfaces() or ranking.typo_max_terms <= 0:
            return ()
        if not ranking.typo_min_length <= len(term) <= MAX_CORRECTED or not term.isalpha():
            return ()
        if fold(self._typed(node, token)[0].lower()) in self.lexicon:
            return ()
        found = self.state.corrections(term, self._fields(node.field))
        return tuple(found[: ranking.typo_max_terms])

    def _unknown(self, node: Word, token: TokenView, term: str) -> None:
        """Note a word searched as typed that no passage holds (in the fields
        searched), as far as the index's frequencies are at hand (see
        :meth:`IndexTerms.known_frequency`)."""
        if self.state is None:
            return
        found = [self.state.known_frequency(f, term) for f in self._fields(node.field)]
        if all(n == 0 for n in found):
            word, start = self._typed(node, token)
            self.unknown.append(UnknownWord(word, start))

    def _stem(self, form: str) -> str | None:
        """The index term of a written form (``None`` unless it is one term)."""
        tokens = [t for t in self.analyzer.tokens(form, mode="query") if not t.compound]
        return tokens[0].text if len(tokens) == 1 else None

    def _respell(
        self, node: Word, token: TokenView, term: str
    ) -> tuple[tuple[str, ...], str, bool] | None:
        """A rare typed word read as a much more frequent written form close to it.

        See :func:`searchlib.query.typos.respellings` (``Ranking.typo_rare_ratio``):
        the index terms of those forms whose stem differs from ``term``
        (at most ``Ranking.typo_max_terms``), the first one's written form,
        and whether the typed word is in the index at all (then it is searched too).
        Edits are counted on the written forms (folded), never on stems; a
        word of :attr:`lexicon` (a French word) is never read as another word,
        only, when no passage holds its stem, as a form of itself (see
        :func:`searchlib.query.typos.readings`).
        """
        ranking = self.ranking
        if self.state is None or ranking.typo_max_terms <= 0:
            return None
        if not term.isalpha():  # a number, an ordinal (quatorzième is 14e)
            return None
        if not self.state.has_surfaces():  # no written forms to read it as (a cluster's index)
            return None
        typed = fold(self._typed(node, token)[0].lower())
        if not ranking.typo_min_length <= len(typed) <= MAX_CORRECTED:
            return None
        # A form the documents write is never rewritten.
        if not typed.isalpha() or self.state.surface_frequency(typed) >= RARE_BELOW:
            return None
        # A word whose stem is found nowhere is read as a form close to it
        # (absent_readings); else only as a much more frequent one
        # (typo_rare_ratio; 0: never).
        found_anywhere = any(self.state.doc_frequency(f, term) for f in self._fields(node.field))
        if found_anywhere and ranking.typo_rare_ratio <= 0:
            return None
        # A French word is searched as typed when its stem is found (the
        # French words are read on the first query holding a word the index lacks).
        if found_anywhere and typed in self.lexicon:
            return None
        state = self.state
        ratio = ranking.typo_rare_ratio
        if found_anywhere:
            close = list(state.respellings(typed, ratio))
        else:
            close = absent_readings(
                lambda r: list(state.respellings(typed, r)), state.passage_count()
            )
        found = readings(typed, close, self.lexicon)
        if found and found_anywhere:
            # The stem is found: weaker evidence of a typo. One edit only
            # (méprisants is not read as méritants), and no respelling when a
            # form of the word's own stem, about as frequent, is as close
            # (voilée is near voile: an inflection the documents do not
            # happen to write, not read as volée).
            found = [r for r in found if r.edits == 1]
            near = self.state.surfaces().within(typed, 1) if found else []
            for form, _ in near:
                if self._stem(form) == term and (
                    ratio * self.state.surface_frequency(form) >= found[0].frequency
                ):
                    return None
        # Each candidate stem once (its most frequent form), the closest first;
        # among as close ones, those found most with the query's other words.
        stems: dict[str, tuple[int, int, str]] = {}
        for r in found[:CANDIDATES]:
            t = self._stem(r.folded)
            if t is not None and t != term and t not in stems:
                stems[t] = (r.edits, r.frequency, r.folded)
        if not stems:
            return None
        together = self._together(node, list(stems))
        order = sorted(stems, key=lambda t: (stems[t][0], -together.get(t, 0), -stems[t][1], t))
        terms = tuple(order[: ranking.typo_max_terms])
        kept = self.state.surface_frequency(typed) > 0
        return terms, self.state.written(stems[terms[0]][2]), kept

    def _together(self, node: Word, candidates: list[str]) -> dict[str, int]:
        """Passages holding each candidate term and the query's other plain
        words (those the index holds); empty when the query has no other word."""
        assert self.state is not None
        fields = self._fields(node.field)
        others = [
            [t]
            for start, t in self.context()
            if start != node.start and any(self.state.doc_frequency(f, t) for f in fields)
        ]
        if not others or len(candidates) < 2:
            return {}
        counts = self.state.co_occurrences(others, candidates, fields)
        return dict(zip(candidates, counts, strict=True))

    def _respelt(
        self,
        node: Word,
        token: TokenView,
        term: str,
        respelt: tuple[tuple[str, ...], str, bool],
        long_forms: _Compiled,
    ) -> _Compiled:
        terms, written, kept = respelt
        self._record(node, token, terms, written, kept)
        alternatives: list[ir.Node | None] = [self._term(t, node.field) for t in terms]
        found = _Compiled(None, terms=frozenset(terms))
        if kept:  # the typed word is in a few passages: they are found too
            alternatives.insert(0, self._term(term, node.field))
            found = _Compiled(None, terms=frozenset({term, *terms}))
        alternatives.append(long_forms.query)
        return _merge(_or(alternatives), [found, long_forms])

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
        if node.kind == "fuzzy" and len(text) > MAX_CORRECTED:
            shown = node.text if len(node.text) <= 24 else node.text[:20] + "…"
            raise QuerySyntaxError(
                f"{shown}~: too long for fuzzy matching (at most {MAX_CORRECTED} letters)",
                self.query_text or node.text,
                node.start if self.query_text else 0,
            )
        if node.kind == "prefix" and len(text) < MIN_PREFIX:
            raise QuerySyntaxError(
                f"prefix {node.text!r} is too short (at least {MIN_PREFIX} letters)",
                self.query_text or node.text,
                node.start if self.query_text else 0,
            )
        found: dict[str, int] = {}
        prefixes: list[ir.Node] = []
        for f in self._fields(node.field):
            if node.kind == "prefix":
                root = stem(text)
                roots = sorted({text, root} if len(root) >= 3 else {text})
                listed = self.state.prefix_terms(f, roots)
                if listed is None:  # a root that is a prefix of another covers it
                    kept = [r for r in roots if not any(o != r and r.startswith(o) for o in roots)]
                    boost = self.boosts.get(f, 1.0)
                    prefixes.extend(ir.Prefix(f, r, MAX_EXPANSION, boost) for r in kept)
                    continue
            else:
                listed = self.state.fuzzy_terms(f, stem(text), node.maxdist)
            check_deadline()
            for t, df in listed.items():
                found[t] = found.get(t, 0) + df
        if prefixes:
            return _Compiled(_or(prefixes))
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


def _or(queries: Sequence[ir.Node | None]) -> ir.Node | None:
    qs = _distinct(queries)
    if not qs:
        return None
    return qs[0] if len(qs) == 1 else ir.Or(tuple(qs))


def _and(queries: Sequence[ir.Node | None]) -> ir.Node | None:
    qs = _distinct(queries)
    if not qs:
        return None
    return qs[0] if len(qs) == 1 else ir.And(tuple(qs))


def _distinct(queries: Sequence[ir.Node | None]) -> list[ir.Node]:
    """The queries, each once: ``k`` equal ones become one with ``k`` times the
    boost, which matches the same passages and scores the same (a sum of ``k``
    equal shares), without ``k`` matchers (``mot AND mot AND ...`` grew
    quadratically in Whoosh's matcher tree)."""
    counts: dict[ir.Node, int] = {}
    for q in queries:
        if q is not None:
            counts[q] = counts.get(q, 0) + 1
    if len(counts) == sum(counts.values()):
        return list(counts)
    return [q if k == 1 else ir.boosted(q, q.boost * k) for q, k in counts.items()]
