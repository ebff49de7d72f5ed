"""searchlib's query language translated to OpenSearch's query DSL.

The translation follows searchlib's own compiler rule by rule, on the syntax tree
of :func:`searchlib.query.language.parse`, and analyses every word in Python with
searchlib's :class:`~searchlib.analysis.FrenchAnalyzer`: the cluster receives
*terms*, never text to analyse again, so a query means on OpenSearch exactly the
terms it means in searchlib.

* a word is a ``term`` query on ``title`` (weighted ``Ranking.title_boost``) and
  ``text``, plus its exact form on ``exact`` (``Ranking.exact_boost``); stop words
  are dropped when the query has other words; a hyphenated word gives its joined
  form, its parts as a phrase and each part (``Ranking.compound_parts``);
* a phrase keeps its words in order (``match_phrase`` of the analysed terms, or
  nested ordered ``span_near`` for a looser slop) as a filter, and scores as the
  sum of its words, as searchlib's phrases do;
* ``AND``, ``OR``, ``NOT``, ``-word``, groups and ``field:`` map to ``bool``
  queries; side-by-side words combine with ``Ranking.default_operator``;
* acronyms are expanded client-side from the definitions mined from the indexed
  documents (carried over with the index, see :mod:`searchlib.opensearch.index`);
* typo correction and ``word~`` take their candidates from the cluster's term
  dictionary (a :class:`TermSource`: the term suggester and exact document
  frequencies) and apply searchlib's rule to them;
* ``prefix*`` is expanded by the cluster, which keeps at most 256 terms of its
  choosing per field: searchlib keeps the 256 most frequent. That is the one
  approximation: refused with :class:`UnsupportedQueryError` unless
  ``approximate=True``.

Example:
    >>> t = QueryTranslator()
    >>> q = t.translate("musique").query
    >>> [c["term"] for c in q["bool"]["should"][0]["bool"]["should"]]
    [{'title': {'value': 'musiqu', 'boost': 1.2}}, {'text': {'value': 'musiqu', 'boost': 1.0}}]
    >>> q["bool"]["should"][1]
    {'term': {'exact': {'value': 'musique', 'boost': 0.5}}}
"""

from __future__ import annotations

import itertools
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from searchlib.analysis import FrenchAnalyzer, TokenView, fold, normalize_text, stem
from searchlib.errors import QuerySyntaxError
from searchlib.fields import (
    AllOf,
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
    number_label,
)
from searchlib.highlight import MatchSpec
from searchlib.opensearch.errors import UnsupportedQueryError
from searchlib.opensearch.mapping import TERMS_ANALYZER, DeclaredField
from searchlib.query.acronyms import AcronymLexicon
from searchlib.query.compiler import MAX_EXPANSION, MIN_PREFIX
from searchlib.query.language import SEARCH_FIELDS, BoolOp, Group, Node, Not, Phrase, Word, parse
from searchlib.ranking.params import Ranking

JSON = dict[str, Any]
Scalar = str | int | float | bool

TYPO_KEEP = 10
"""Corrections kept per word before ``Ranking.typo_max_terms`` (as searchlib keeps them)."""

MAX_CLAUSES = 1024
"""OpenSearch's default ``indices.query.bool.max_clause_count``: a query with more
term clauses is refused by the cluster, so it is refused here first."""


# -- what the cluster must tell about its terms -------------------------------------


@dataclass(frozen=True, slots=True)
class TermLookups:
    """Answers about the index's terms.

    Attributes:
        frequencies: ``(field, term)`` -> how many passages hold the term there.
        neighbours: ``(field, term, maxdist)`` -> index terms of that field within
            ``maxdist`` edits of ``term`` (its first letter kept), with their
            document frequencies.
        capped: the neighbour requests whose answer may miss terms (the source
            returned as many as it could).
    """

    frequencies: Mapping[tuple[str, str], int] = field(default_factory=dict)
    neighbours: Mapping[tuple[str, str, int], Mapping[str, int]] = field(default_factory=dict)
    capped: frozenset[tuple[str, str, int]] = frozenset()


class TermSource(Protocol):
    """Looks terms up in an index, all at once (one request to a cluster)."""

    def lookup(
        self,
        frequencies: Collection[tuple[str, str]],
        neighbours: Collection[tuple[str, str, int]],
    ) -> TermLookups:
        """Document frequencies of ``(field, term)`` pairs, and the neighbours of
        ``(field, term, maxdist)`` triples (see :class:`TermLookups`)."""
        ...


# -- filters, facets, sorting: searchlib.fields' vocabulary as DSL -----------------------


def field_types(declared: Iterable[DeclaredField]) -> dict[str, FieldType]:
    """The declared fields of a cluster index as :mod:`searchlib.fields` types
    (the one vocabulary both backends check values with)."""
    out: dict[str, FieldType] = {}
    for f in declared:
        if f.type == "keyword":
            out[f.name] = Keyword(multiple=f.multiple)
        elif f.type == "number":
            out[f.name] = Number()
        else:
            out[f.name] = Date()
    return out


def _bound(kind: FieldType, value: float | int) -> float | int:
    """A converted range bound as the cluster reads it: dates in epoch milliseconds."""
    return int(value) // 1000 if isinstance(kind, Date) else value


def filter_dsl(expr: FilterExpr, types: Mapping[str, FieldType]) -> JSON:
    """The OpenSearch filter of a :mod:`searchlib.fields` expression (values
    already converted: dates as microseconds, sent as epoch milliseconds).

    Example:
        >>> filter_dsl(Range("year", 2019.0, None), {"year": Number()})
        {'range': {'fields.year': {'gte': 2019.0}}}
    """
    if isinstance(expr, Match):
        return {"terms": {f"fields.{expr.field}": list(expr.values)}}
    if isinstance(expr, Range):
        kind = types[expr.field]
        bounds: JSON = {}
        if expr.low is not None:
            bounds["gte" if expr.low_inclusive else "gt"] = _bound(kind, expr.low)
        if expr.high is not None:
            bounds["lte" if expr.high_inclusive else "lt"] = _bound(kind, expr.high)
        return {"range": {f"fields.{expr.field}": bounds}}
    if isinstance(expr, Exclude):
        return {"bool": {"must_not": [filter_dsl(expr.item, types)]}}
    if isinstance(expr, AllOf):
        return {"bool": {"filter": [filter_dsl(x, types) for x in expr.items]}}
    return {
        "bool": {"should": [filter_dsl(x, types) for x in expr.items], "minimum_should_match": 1}
    }


_DATE_FORMATS = {"year": "yyyy", "month": "yyyy-MM", "day": "yyyy-MM-dd"}

MAX_KEYWORD_BUCKETS = 1000
"""Values a keyword facet counts on a cluster when the facet sets no ``limit``."""


def facet_aggregation(facet: Facet, types: Mapping[str, FieldType]) -> JSON:
    """The aggregation of one facet, as the local index counts it (keywords
    per value, most frequent first; dates per year, month or day; numbers per
    range between the facet's edges), over documents."""
    kind = types[facet.field]
    documents = {"documents": {"cardinality": {"field": "doc_id", "precision_threshold": 40000}}}
    path = f"fields.{facet.field}"
    if isinstance(kind, Date):
        by = facet.by or "year"
        return {
            "date_histogram": {
                "field": path,
                "calendar_interval": by,
                "format": _DATE_FORMATS[by],
                "min_doc_count": 1,
            },
            "aggs": documents,
        }
    if isinstance(kind, Number):
        edges = facet.edges or ()
        ranges: list[JSON] = [{"key": f"*-{number_label(edges[0])}", "to": edges[0]}]
        for low, high in itertools.pairwise(edges):
            ranges.append(
                {"key": f"{number_label(low)}-{number_label(high)}", "from": low, "to": high}
            )
        ranges.append({"key": f"{number_label(edges[-1])}-*", "from": edges[-1]})
        return {"range": {"field": path, "ranges": ranges}, "aggs": documents}
    return {
        "terms": {
            "field": path,
            "size": facet.limit or MAX_KEYWORD_BUCKETS,
            "order": [{"documents": "desc"}, {"_key": "asc"}],
        },
        "aggs": documents,
    }


# -- the translation ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Translation:
    """A translated query.

    Attributes:
        query: the query DSL (``None``: nothing searchable, no hit).
        match: terms and phrases to mark in snippets (as searchlib's ``SearchResults.match``).
        highlight: the query whose matches the cluster marks (terms, phrases and
            prefixes of ``match``), or ``None``.
        approximations: what this query runs approximately (with ``approximate=True``).
    """

    query: JSON | None
    match: MatchSpec
    highlight: JSON | None = None
    approximations: tuple[str, ...] = ()


@dataclass
class _Part:
    """A translated node; ``query`` is ``None`` when it matches nothing by itself."""

    query: JSON | None
    stop_only: bool = False
    terms: frozenset[str] = frozenset()
    phrases: tuple[tuple[str, ...], ...] = ()
    term: str | None = None
    prefixes: tuple[tuple[str, str], ...] = ()  # (field, prefix) expanded by the cluster


def _merge(query: JSON | None, parts: Sequence[_Part], stop_only: bool = False) -> _Part:
    terms: set[str] = set()
    phrases: list[tuple[str, ...]] = []
    prefixes: list[tuple[str, str]] = []
    for p in parts:
        terms |= p.terms
        phrases.extend(p.phrases)
        prefixes.extend(p.prefixes)
    return _Part(
        query,
        stop_only,
        frozenset(terms),
        tuple(dict.fromkeys(phrases)),
        prefixes=tuple(dict.fromkeys(prefixes)),
    )


def _or(queries: Iterable[JSON | None]) -> JSON | None:
    qs = [q for q in queries if q is not None]
    if not qs:
        return None
    return qs[0] if len(qs) == 1 else {"bool": {"should": qs}}


def _and(queries: Iterable[JSON | None]) -> JSON | None:
    qs = [q for q in queries if q is not None]
    if not qs:
        return None
    return qs[0] if len(qs) == 1 else {"bool": {"must": qs}}


def term_query(field_name: str, term: str, boost: float = 1.0) -> JSON:
    """``{"term": ...}`` on an analysed term."""
    return {"term": {field_name: {"value": term, "boost": boost}}}


def phrase_constraint(field_name: str, terms: Sequence[str], slop: int = 1) -> JSON:
    """Where ``terms`` stand in order, each within ``slop`` positions of the one
    before (searchlib's and Whoosh's slop: 1 is side by side).

    Side by side: ``match_phrase`` of the terms, split on spaces only. Looser:
    ordered ``span_near`` pairs nested from the left, so that each gap is bounded
    (Lucene's own slop bounds the sum of the gaps).
    """
    if slop <= 1 and not any(" " in t or not t for t in terms):
        return {
            "match_phrase": {field_name: {"query": " ".join(terms), "analyzer": TERMS_ANALYZER}}
        }
    span: JSON = {"span_term": {field_name: terms[0]}}
    for t in terms[1:]:
        nxt = {"span_term": {field_name: t}}
        span = {"span_near": {"clauses": [span, nxt], "slop": max(0, slop - 1), "in_order": True}}
    return span


def levenshtein(a: str, b: str, limit: int) -> int:
    """Edit distance of ``a`` and ``b`` (insertions, deletions, replacements), or
    ``limit + 1`` as soon as it is known to exceed ``limit``.

    >>> levenshtein("contrat", "contrst", 2), levenshtein("ab", "ba", 1)
    (1, 2)
    """
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, start=1):
        current = [i]
        for j, cb in enumerate(b, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        if min(current) > limit:
            return limit + 1
        previous = current
    return previous[-1]


_ORDINAL_SUFFIXES = frozenset("e er ere eme emes ieme iemes".split())

_CLITICS = frozenset(
    """je tu il elle on nous vous ils elles ce t
    moi toi lui leur le la les y en meme memes ci""".split()
)


def _join_ordinals(items: list[Node]) -> list[Node]:
    """``13 ème`` typed as two words is the ordinal ``13ème`` (as in searchlib)."""
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


def _inversion(text: str) -> bool:
    """A hyphenated verb-subject inversion or clitic (``peut-il``, ``dis-moi``)."""
    parts = fold(text.lower()).split("-")
    return any(p in _CLITICS for p in parts[1:])


class QueryTranslator:
    """Translates query text to OpenSearch's query DSL, the way searchlib compiles it.

    Args:
        ranking: searchlib's ranking parameters (weights of fields, exact forms,
            compounds, acronyms, typo correction, default operator).
        acronyms: the definitions mined from the index's documents.
        fields: the fields plain words search (``title`` and ``text``).
        approximate: run ``prefix*`` as the cluster expands it (see the module
            docstring) instead of refusing it.
    """

    def __init__(
        self,
        *,
        ranking: Ranking | None = None,
        acronyms: AcronymLexicon | None = None,
        fields: Sequence[str] = SEARCH_FIELDS,
        approximate: bool = False,
    ) -> None:
        for f in fields:
            if f not in SEARCH_FIELDS:
                raise ValueError(f"unknown field {f!r} (fields: {', '.join(SEARCH_FIELDS)})")
        self.ranking = ranking or Ranking()
        self.analyzer = FrenchAnalyzer()
        self.exact_analyzer = FrenchAnalyzer(stem=False, fold=False, drop_stop_words=True)
        self.acronyms = acronyms
        self.fields = tuple(fields)
        self.approximate = approximate

    def requests(self, query: str) -> tuple[set[tuple[str, str]], set[tuple[str, str, int]]]:
        """What :meth:`translate` will need to know of the index's terms for ``query``:
        ``(field, term)`` frequencies and ``(field, term, maxdist)`` neighbours."""
        run = _Run(self, query, None)
        run.group(parse(query), top=True)
        return run.want_frequencies, run.want_neighbours

    def translate(self, query: str, lookups: TermLookups | None = None) -> Translation:
        """The query DSL of ``query``.

        Args:
            query: query text (searchlib's query language).
            lookups: answers to :meth:`requests` (``None``: no typo correction and
                no ``word~`` expansion, as searchlib without a searcher).

        Raises:
            QuerySyntaxError: malformed query (as searchlib).
            UnsupportedQueryError: ``prefix*`` without ``approximate``, or a
                query past the cluster's clause limit.
        """
        run = _Run(self, query, lookups)
        part = run.group(parse(query), top=True)
        match = MatchSpec(part.terms, part.phrases)
        if part.query is not None and _clauses(part.query) > MAX_CLAUSES:
            raise UnsupportedQueryError(
                "size",
                f"the query makes {_clauses(part.query)} term clauses; OpenSearch refuses more "
                f"than {MAX_CLAUSES} (indices.query.bool.max_clause_count)",
            )
        return Translation(
            part.query,
            match,
            self.highlight_query(match, part.prefixes) if part.query is not None else None,
            tuple(dict.fromkeys(run.approximations)),
        )

    def highlight_query(self, match: MatchSpec, prefixes: Sequence[tuple[str, str]] = ()) -> JSON:
        """What snippets mark: ``match``'s terms anywhere, its phrases where whole,
        on both fields (searchlib highlights title and text alike)."""
        clauses: list[JSON] = []
        for f in SEARCH_FIELDS:
            clauses.extend(term_query(f, t) for t in sorted(match.terms))
            clauses.extend(phrase_constraint(f, p) for p in match.phrases if len(p) > 1)
            clauses.extend(term_query(f, p[0]) for p in match.phrases if len(p) == 1)
            clauses.extend({"prefix": {f: {"value": v}}} for pf, v in prefixes if pf == f)
        return {"bool": {"should": clauses}} if clauses else {"match_none": {}}


def _clauses(query: Any) -> int:
    """Term-level clauses in a query (what ``max_clause_count`` counts, roughly)."""
    if isinstance(query, dict):
        if len(query) == 1 and next(iter(query)) in ("term", "span_term", "prefix"):
            return 1
        return sum(_clauses(v) for v in query.values())
    if isinstance(query, list):
        return sum(_clauses(v) for v in query)
    return 0


class _Run:
    """One translation: the translator's settings, the lookups, what was asked for."""

    def __init__(self, owner: QueryTranslator, text: str, lookups: TermLookups | None) -> None:
        self.t = owner
        self.text = text
        self.lookups = lookups
        self.ranking = owner.ranking
        self.boosts = owner.ranking.boosts()
        r = owner.ranking
        self.acronyms = owner.acronyms if owner.acronyms and r.acronym_boost > 0 else None
        self.exact = owner.exact_analyzer if r.exact_boost > 0 else None
        self.want_frequencies: set[tuple[str, str]] = set()
        self.want_neighbours: set[tuple[str, str, int]] = set()
        self.approximations: list[str] = []

    # -- tree ---------------------------------------------------------------------------

    def node(self, node: Node) -> _Part:
        if isinstance(node, Word):
            return self.word(node)
        if isinstance(node, Phrase):
            return self.phrase(node.text, node.field)
        if isinstance(node, BoolOp):
            return self.boolean(node)
        if isinstance(node, Group):
            return self.group(node)
        return self.group(Group((node,)))  # a lone NOT

    def group(self, node: Group, top: bool = False) -> _Part:
        positives = _join_ordinals([x for x in node.items if not isinstance(x, Not)])
        negatives = [x.item for x in node.items if isinstance(x, Not)]
        parts = [self.node(x) for x in positives]
        if any(not p.stop_only and p.query is not None for p in parts):
            parts = [p for p in parts if not p.stop_only]
        queries = [p.query for p in parts if p.query is not None]
        queries.extend(self.proximity([p.term for p in parts]))
        pos = _and(queries) if self.ranking.default_operator == "and" else _or(queries)
        stop_only = bool(parts) and all(p.stop_only for p in parts)
        return _merge(self.exclude(pos, negatives, top), parts, stop_only)

    def proximity(self, terms: Sequence[str | None]) -> list[JSON]:
        r = self.ranking
        if r.proximity_boost <= 0 or r.default_operator == "and" or "text" not in self.t.fields:
            return []
        out: list[JSON] = []
        for a, b in itertools.pairwise(terms):
            if a and b and a != b:
                out.append(self.phrase_in("text", (a, b), r.proximity_boost, r.proximity_slop))
        return out

    def exclude(self, pos: JSON | None, negatives: list[Node], top: bool) -> JSON | None:
        if not negatives:
            return pos
        neg = _or([self.node(n).query for n in negatives])
        if neg is None:
            return pos
        if pos is None:
            if not top:
                return None
            pos = {"match_all": {}}
        return {"bool": {"must": [pos], "must_not": [neg]}}

    def boolean(self, node: BoolOp) -> _Part:
        positives = [x for x in node.items if not isinstance(x, Not)]
        negatives = [x.item for x in node.items if isinstance(x, Not)]
        parts = [self.node(x) for x in positives]
        if node.op == "OR":
            return _merge(_or([p.query for p in parts]), parts)
        if any(p.query is None for p in parts):
            return _Part(None)  # AND with an unsearchable side matches nothing
        return _merge(self.exclude(_and([p.query for p in parts]), negatives, False), parts)

    # -- terms --------------------------------------------------------------------------

    def fields(self, field_name: str | None) -> tuple[str, ...]:
        return (field_name,) if field_name else self.t.fields

    def term(self, text: str, field_name: str | None, weight: float = 1.0) -> JSON:
        qs = [
            term_query(f, text, self.boosts.get(f, 1.0) * weight) for f in self.fields(field_name)
        ]
        return qs[0] if len(qs) == 1 else {"bool": {"should": qs}}

    def phrase_in(self, f: str, terms: Sequence[str], weight: float, slop: int) -> JSON:
        """The phrase on one field: its place as a filter, its score as the sum of
        its terms' (searchlib scores a phrase so)."""
        boost = self.boosts.get(f, 1.0) * weight
        return {
            "bool": {
                "filter": [phrase_constraint(f, terms, slop)],
                "must": [term_query(f, t, boost) for t in terms],
            }
        }

    def phrase_query(
        self, terms: Sequence[str], field_name: str | None, weight: float = 1.0, slop: int = 1
    ) -> JSON:
        qs = [self.phrase_in(f, terms, weight, slop) for f in self.fields(field_name)]
        return qs[0] if len(qs) == 1 else {"bool": {"should": qs}}

    def word(self, node: Word) -> _Part:
        if node.kind != "word":
            return self.expand(node)
        tokens = self.t.analyzer.tokens(normalize_text(node.text), mode="query")
        if not tokens:
            return _Part(None)
        stop_only = all(t.stopped for t in tokens)
        if len(tokens) == 1:
            term = tokens[0].text
            query = self.term(term, node.field)
            long_forms = self.acronym(node, tokens[0], stop_only)
            if long_forms.query is not None:
                stop_only = False
            if not stop_only:
                corrected = self.typo(term, node.field)
                if corrected:
                    options = [self.term(t, node.field) for t in corrected]
                    return _merge(
                        _or([*options, long_forms.query]),
                        [_Part(None, terms=frozenset(corrected)), long_forms],
                    )
            if self.exact is not None and node.field is None:
                exact = self.exact.tokens(normalize_text(node.text), mode="query")
                if len(exact) == 1:
                    bonus = term_query("exact", exact[0].text, self.ranking.exact_boost)
                    query = {"bool": {"should": [query, bonus]}}
            if long_forms.query is not None:
                query = {"bool": {"should": [query, long_forms.query]}}
            found = _Part(query, stop_only, frozenset({term}), term=term)
            return replace(_merge(query, [found, long_forms], stop_only), term=term)
        # Several tokens from one typed word (États-Unis): the joined compound,
        # the parts as a phrase and each part (an inversion by its joined form only).
        parts = tuple(t.text for t in tokens if not t.compound)
        joined = [t.text for t in tokens if t.compound]
        stop_only = all(t.stopped for t in tokens if not t.compound)
        alternatives: list[JSON | None] = [self.term(j, node.field) for j in joined]
        phrases: tuple[tuple[str, ...], ...] = ()
        loose: frozenset[str] = frozenset()
        if len(parts) > 1 and not (joined and _inversion(node.text)):
            alternatives.append(self.phrase_query(parts, node.field))
            phrases = (parts,)
            weight = self.ranking.compound_parts
            if weight > 0 and "-" in node.text:
                loose = frozenset(t.text for t in tokens if not t.compound and not t.stopped)
                alternatives.extend(self.term(p, node.field, weight) for p in sorted(loose))
        elif len(parts) == 1:
            alternatives.append(self.term(parts[0], node.field))
        terms = frozenset(joined) | (frozenset(parts) if len(parts) == 1 else loose)
        return _Part(_or(alternatives), stop_only, terms, phrases)

    def acronym(self, node: Word, token: TokenView, stop_only: bool) -> _Part:
        """The long forms the indexed documents define for an acronym, as phrases."""
        word = normalize_text(node.text)[token.start : token.end]
        if self.acronyms is None or (stop_only and not word.isupper()):
            return _Part(None)
        r = self.ranking
        forms = self.acronyms.expansions(
            word, self.t.analyzer, r.acronym_min_docs, r.acronym_max_forms
        )
        queries: list[JSON | None] = []
        phrases: list[tuple[str, ...]] = []
        terms: set[str] = set()
        for form in forms:
            tokens = [t for t in self.t.analyzer.tokens(normalize_text(form)) if not t.compound]
            parts = tuple(t.text for t in tokens)
            if len(parts) > 1:
                content = [i for i, t in enumerate(tokens) if not t.stopped]
                weight = r.acronym_boost / max(1, len(content))
                searched, slop = parts, r.acronym_slop
                if len(content) > 1 and slop > 1:
                    searched = tuple(parts[i] for i in content)
                    slop += max(b - a - 1 for a, b in itertools.pairwise(content))
                queries.append(self.phrase_query(searched, node.field, weight, slop))
                phrases.append(parts)
            elif parts:
                queries.append(self.term(parts[0], node.field, r.acronym_boost))
                terms.add(parts[0])
        return _Part(_or(queries), False, frozenset(terms), tuple(phrases))

    def typo(self, term: str, field_name: str | None) -> list[str]:
        """searchlib's typo rule on the cluster's terms: a word of at least
        ``typo_min_length`` letters in no passage is replaced by the most frequent
        terms one edit away, with its first letter."""
        r = self.ranking
        if r.typo_max_terms <= 0 or len(term) < r.typo_min_length or not term.isalpha():
            return []
        fields = self.fields(field_name)
        for f in fields:
            self.want_frequencies.add((f, term))
            self.want_neighbours.add((f, term, 1))
        if self.lookups is None:
            return []
        if any(self.lookups.frequencies.get((f, term), 0) for f in fields):
            return []
        found: dict[str, int] = {}
        for f in fields:
            self.note_capped(f, term, 1, "typo correction")
            for t, df in self.lookups.neighbours.get((f, term, 1), {}).items():
                if df > 0 and t[:1] == term[:1] and levenshtein(t, term, 1) == 1:
                    found[t] = found.get(t, 0) + df
        return sorted(found, key=lambda t: (-found[t], t))[:TYPO_KEEP][: r.typo_max_terms]

    def note_capped(self, f: str, term: str, maxdist: int, what: str) -> None:
        if self.lookups is not None and (f, term, maxdist) in self.lookups.capped:
            message = f"{what} of {term!r} in {f}: the cluster's candidates may be incomplete"
            if not self.t.approximate:
                raise UnsupportedQueryError("expansion", message)
            self.approximations.append(message)

    def phrase(self, text: str, field_name: str | None) -> _Part:
        tokens = self.t.analyzer.tokens(normalize_text(text), mode="query")
        terms = tuple(t.text for t in tokens if not t.compound)
        if not terms:
            return _Part(None)
        if len(terms) == 1:
            return _Part(self.term(terms[0], field_name), False, frozenset(terms))
        return _Part(self.phrase_query(terms, field_name), False, frozenset(), (terms,))

    def expand(self, node: Word) -> _Part:
        """``prefix*`` (expanded by the cluster) and ``word~`` (from its term dictionary)."""
        text = fold(normalize_text(node.text).lower()).strip("'’")
        if not text:
            return _Part(None)
        if node.kind == "prefix":
            if len(text) < MIN_PREFIX:
                raise QuerySyntaxError(
                    f"prefix {node.text!r} is too short (at least {MIN_PREFIX} letters)",
                    self.text or node.text,
                    node.start if self.text else 0,
                )
            return self.prefix(node, text)
        center = stem(text)
        found: dict[str, int] = {}
        for f in self.fields(node.field):
            self.want_frequencies.add((f, center))
            self.want_neighbours.add((f, center, node.maxdist))
            if self.lookups is None:
                continue
            self.note_capped(f, center, node.maxdist, f"{node.text}~{node.maxdist}")
            own = self.lookups.frequencies.get((f, center), 0)
            if own:
                found[center] = found.get(center, 0) + own
            for t, df in self.lookups.neighbours.get((f, center, node.maxdist), {}).items():
                if t == center or df <= 0 or t[:1] != center[:1]:
                    continue
                if levenshtein(t, center, node.maxdist) <= node.maxdist:
                    found[t] = found.get(t, 0) + df
        if not found:
            return _Part(None)
        best = sorted(found, key=lambda t: (-found[t], t))[:MAX_EXPANSION]
        return _Part(_or([self.term(t, node.field) for t in best]), False, frozenset(best))

    def prefix(self, node: Word, text: str) -> _Part:
        message = (
            f"prefix {node.text}*: OpenSearch keeps at most {MAX_EXPANSION} of the matching terms "
            f"per field, chosen in its own order; searchlib keeps the {MAX_EXPANSION} most frequent"
        )
        if not self.t.approximate:
            raise UnsupportedQueryError(
                "prefix", f"{message} (pass approximate=True, or --approximate, to run it so)"
            )
        self.approximations.append(message)
        root = stem(text)
        roots = {text, root} if len(root) >= 3 else {text}
        # A root that is a prefix of another covers it.
        kept = sorted(r for r in roots if not any(o != r and r.startswith(o) for o in roots))
        queries: list[JSON] = []
        prefixes: list[tuple[str, str]] = []
        for f in self.fields(node.field):
            for r in kept:
                queries.append(
                    {
                        "prefix": {
                            f: {
                                "value": r,
                                "rewrite": f"top_terms_{MAX_EXPANSION}",
                                "boost": self.boosts.get(f, 1.0),
                            }
                        }
                    }
                )
                prefixes.append((f, r))
        return _Part(_or(queries), prefixes=tuple(prefixes))


# -- the search request -------------------------------------------------------------------

HIGHLIGHT_TAGS = ("\ue000", "\ue001")
"""Marks around highlighted words in the cluster's fragments (private-use
characters, which no stored text holds in practice)."""

MAX_WINDOW = 10_000
"""OpenSearch's default ``index.max_result_window``: ``from + size`` past it is refused."""

DOCUMENT_COUNT = "searchlib_documents"
"""The aggregation that counts matching documents when passages are collapsed."""


def search_body(
    translation: Translation,
    *,
    limit: int = 10,
    page: int = 1,
    collapse: bool = False,
    highlight: bool = True,
    snippet_chars: int = 220,
    max_fragments: int = 2,
    filter: FilterExpr | None = None,
    facets: Sequence[Facet] = (),
    sort: Sequence[SortKey] = (),
    types: Mapping[str, FieldType] | None = None,
    timeout_ms: int | None = None,
) -> JSON:
    """The body of ``POST /<index>/_search`` for a translated query.

    Raises:
        ValueError: ``limit`` or ``page`` below 1.
        UnsupportedQueryError: a page past the cluster's result window.

    ``filter``, ``facets`` and ``sort`` are checked against the declared
    fields (``types``) by :class:`~searchlib.fields` and the caller.
    """
    if limit < 1 or page < 1:
        raise ValueError("limit and page must be at least 1")
    if page * limit > MAX_WINDOW:
        raise UnsupportedQueryError(
            "page", f"OpenSearch pages through the first {MAX_WINDOW:,} hits only (page × limit)"
        )
    if translation.query is None:
        raise ValueError("nothing to search: the translation has no query")
    types = types or {}
    query = translation.query
    if filter is not None:
        query = {"bool": {"must": [query], "filter": [filter_dsl(filter, types)]}}
    body: JSON = {
        "query": query,
        "from": (page - 1) * limit,
        "size": limit,
        "track_total_hits": True,
        "_source": ["id", "doc_id", "position", "start", "title", "text", "fields"],
    }
    if timeout_ms is not None:
        body["timeout"] = f"{max(1, timeout_ms)}ms"
    if collapse:
        body["collapse"] = {"field": "doc_id"}
    aggs: JSON = {}
    for n, facet in enumerate(facets):
        aggs[f"facet_{n}"] = facet_aggregation(facet, types)
    if collapse:
        aggs[DOCUMENT_COUNT] = {"cardinality": {"field": "doc_id", "precision_threshold": 40000}}
    if aggs:
        body["aggs"] = aggs
    if sort:
        keys: list[JSON | str] = []
        for key in sort:
            order = "desc" if key.descending else "asc"
            keys.append({f"fields.{key.field}": {"order": order, "missing": "_last"}})
        keys.extend([{"_score": {"order": "desc"}}, {"id": {"order": "asc"}}])
        body["sort"] = keys
        body["track_scores"] = True
    if highlight and translation.highlight is not None:
        body["highlight"] = {
            "type": "unified",
            "pre_tags": [HIGHLIGHT_TAGS[0]],
            "post_tags": [HIGHLIGHT_TAGS[1]],
            "encoder": "default",
            "highlight_query": translation.highlight,
            "fields": {
                "text": {"fragment_size": snippet_chars, "number_of_fragments": max_fragments},
                "title": {"number_of_fragments": 0},
            },
        }
    return body
