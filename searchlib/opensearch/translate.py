"""searchlib's query language translated to OpenSearch's query DSL.

There is one rule book: searchlib's own compiler
(:class:`~searchlib.query.compiler.QueryCompiler`) turns the query into
searchlib's query tree (:mod:`searchlib.query.ir`), analysing every word in
Python with searchlib's :class:`~searchlib.analysis.FrenchAnalyzer`, and
:func:`dsl` emits the tree: the cluster receives *terms*, never text to analyse
again, so a query means on OpenSearch exactly the terms it means in searchlib.

* a term is a ``term`` query; a phrase keeps its words in order
  (``match_phrase`` of the analysed terms, or nested ordered ``span_near`` for a
  looser slop) as a filter, and scores as the sum of its words, as searchlib's
  phrases do; any-of, all-of and exclusions are ``bool`` queries;
* what the compiler reads of the index's terms (:class:`ClusterTerms`) comes
  from the cluster in one request (a :class:`TermSource`: the term suggester
  and exact document frequencies): typo correction and ``word~`` apply
  searchlib's rule to its candidates, and the corrections are reported as a
  local search reports them; the acronym definitions mined from the documents
  travel with the index (see :mod:`searchlib.opensearch.index`);
* the index's written forms are not on the cluster: no respelling of rare
  words, no search as you type;
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
from dataclasses import dataclass, field
from typing import Any, Protocol

from searchlib.analysis import FrenchAnalyzer
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
from searchlib.query import ir
from searchlib.query.acronyms import AcronymLexicon
from searchlib.query.compiler import MAX_EXPANSION, QueryCompiler
from searchlib.query.language import SEARCH_FIELDS, Group, parse
from searchlib.query.typos import Respelling, SurfaceVocabulary
from searchlib.ranking.params import Ranking
from searchlib.results import Correction

JSON = dict[str, Any]

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
        corrections: the query words read as others (typos), as a local search reports them.
    """

    query: JSON | None
    match: MatchSpec
    highlight: JSON | None = None
    approximations: tuple[str, ...] = ()
    corrections: tuple[Correction, ...] = ()


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


# -- the query tree as DSL ----------------------------------------------------------------


def dsl(node: ir.Node) -> JSON:
    """The OpenSearch query of a query tree (:mod:`searchlib.query.ir`): boolean
    queries sum their matching clauses, as searchlib's do; a phrase filters by
    position and scores as the sum of its terms.

    Example:
        >>> dsl(ir.Or((ir.Term("title", "musiqu", 1.2), ir.Term("text", "musiqu"))))
        {'bool': {'should': [{'term': {'title': {'value': 'musiqu', 'boost': 1.2}}}, \
{'term': {'text': {'value': 'musiqu', 'boost': 1.0}}}]}}
    """
    out: JSON
    if isinstance(node, ir.Term):
        return term_query(node.field, node.text, node.boost)
    if isinstance(node, ir.Phrase):
        return {
            "bool": {
                "filter": [phrase_constraint(node.field, node.words, node.slop)],
                "must": [term_query(node.field, w, node.boost) for w in node.words],
            }
        }
    if isinstance(node, ir.Prefix):
        rewrite = f"top_terms_{node.limit}"
        return {
            "prefix": {node.field: {"value": node.text, "rewrite": rewrite, "boost": node.boost}}
        }
    if isinstance(node, ir.Every):
        out = {"match_all": {}}
    elif isinstance(node, ir.Or):
        out = {"bool": {"should": [dsl(x) for x in node.items]}}
    elif isinstance(node, ir.And):
        out = {"bool": {"must": [dsl(x) for x in node.items]}}
    elif isinstance(node, ir.AndMaybe):
        out = {"bool": {"must": [dsl(node.required)], "should": [dsl(node.optional)]}}
    else:
        out = {"bool": {"must": [dsl(node.positive)], "must_not": [dsl(node.negative)]}}
    if node.boost != 1.0:
        next(iter(out.values()))["boost"] = node.boost
    return out


# -- the index's terms, as the cluster tells them -----------------------------------------


class ClusterTerms:
    """What the compiler reads of an index (its
    :class:`~searchlib.query.compiler.IndexTerms`), from what the cluster
    answered (:class:`TermLookups`), noting what it was asked for: compiling a
    query once without answers lists the lookups to make in one request, and
    once with them gives the query.

    The written forms of the index are not on the cluster: no respelling and
    no completion (searches as you type are refused); ``prefix*`` is kept as
    the cluster's prefix query when ``approximate``, refused otherwise.
    """

    def __init__(self, lookups: TermLookups | None, *, approximate: bool = False) -> None:
        self.lookups = lookups
        self.approximate = approximate
        self.want_frequencies: set[tuple[str, str]] = set()
        self.want_neighbours: set[tuple[str, str, int]] = set()
        self.approximations: list[str] = []

    def passage_count(self) -> int:
        return 0  # not asked: without written forms no typo is read on them

    def known_frequency(self, field: str, text: str) -> int | None:
        """The frequency when it was looked up for a typo rule (no request of its own)."""
        if self.lookups is None or (field, text) not in self.lookups.frequencies:
            return None
        return self.lookups.frequencies[(field, text)]

    def doc_frequency(self, field: str, text: str) -> int:
        self.want_frequencies.add((field, text))
        return self.lookups.frequencies.get((field, text), 0) if self.lookups else 0

    def corrections(self, term: str, fields: Sequence[str]) -> tuple[str, ...]:
        """The cluster's terms one edit from ``term`` (its first letter kept),
        most frequent first, when ``term`` is in none of ``fields``."""
        for f in fields:
            self.want_frequencies.add((f, term))
            self.want_neighbours.add((f, term, 1))
        lookups = self.lookups
        if lookups is None or any(lookups.frequencies.get((f, term), 0) for f in fields):
            return ()
        found: dict[str, int] = {}
        for f in fields:
            self._capped(f, term, 1, "typo correction")
            for t, df in lookups.neighbours.get((f, term, 1), {}).items():
                if df > 0 and t[:1] == term[:1] and levenshtein(t, term, 1) == 1:
                    found[t] = found.get(t, 0) + df
        return tuple(sorted(found, key=lambda t: (-found[t], t))[:TYPO_KEEP])

    def fuzzy_terms(self, field: str, center: str, maxdist: int) -> dict[str, int]:
        self.want_frequencies.add((field, center))
        self.want_neighbours.add((field, center, maxdist))
        lookups = self.lookups
        if lookups is None:
            return {}
        self._capped(field, center, maxdist, f"{center}~{maxdist}")
        found: dict[str, int] = {}
        own = lookups.frequencies.get((field, center), 0)
        if own:
            found[center] = own
        for t, df in lookups.neighbours.get((field, center, maxdist), {}).items():
            if t == center or df <= 0 or t[:1] != center[:1]:
                continue
            if levenshtein(t, center, maxdist) <= maxdist:
                found[t] = df
        return found

    def prefix_terms(self, field: str, roots: Sequence[str]) -> None:
        """Not listed: the cluster expands a prefix itself (approximately).

        Raises:
            UnsupportedQueryError: unless ``approximate``.
        """
        message = (
            f"prefix {'/'.join(roots)}*: OpenSearch keeps at most {MAX_EXPANSION} of the "
            f"matching terms per field, chosen in its own order; searchlib keeps the "
            f"{MAX_EXPANSION} most frequent"
        )
        if not self.approximate:
            raise UnsupportedQueryError(
                "prefix", f"{message} (pass approximate=True, or --approximate, to run it so)"
            )
        self.approximations.append(message)

    def surfaces(self) -> SurfaceVocabulary:
        return SurfaceVocabulary(())

    def has_surfaces(self) -> bool:
        return False

    def surface_frequency(self, folded: str) -> int:
        return 0

    def respellings(self, word: str, ratio: float) -> list[Respelling]:
        return []

    def written(self, folded: str) -> str:
        return folded

    def completions(self, prefix: str, limit: int) -> list[tuple[str, int]]:
        return []

    def matching(self, groups: Sequence[Sequence[str]], fields: Sequence[str]) -> int:
        return 0

    def co_occurrences(
        self, groups: Sequence[Sequence[str]], terms: Sequence[str], fields: Sequence[str]
    ) -> list[int]:
        return [0] * len(terms)

    def _capped(self, f: str, term: str, maxdist: int, what: str) -> None:
        if self.lookups is not None and (f, term, maxdist) in self.lookups.capped:
            message = f"{what} of {term!r} in {f}: the cluster's candidates may be incomplete"
            if not self.approximate:
                raise UnsupportedQueryError("expansion", message)
            self.approximations.append(message)


class QueryTranslator:
    """Translates query text to OpenSearch's query DSL: searchlib's compiler
    (:class:`~searchlib.query.compiler.QueryCompiler`, the one rule book) makes
    the query tree, over the cluster's terms (:class:`ClusterTerms`), and
    :func:`dsl` emits it.

    Args:
        ranking: searchlib's ranking parameters (weights of fields, exact forms,
            compounds, acronyms, typo correction, default operator).
        acronyms: the definitions mined from the index's documents.
        fields: the fields plain words search (``title`` and ``text``).
        approximate: run ``prefix*`` as the cluster expands it (see the module
            docstring) instead of refusing it.
        correct: read typos as the index's words (``False``: every word as typed).
    """

    def __init__(
        self,
        *,
        ranking: Ranking | None = None,
        acronyms: AcronymLexicon | None = None,
        fields: Sequence[str] = SEARCH_FIELDS,
        approximate: bool = False,
        correct: bool = True,
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
        self.correct = correct

    def _compile(
        self, query: str, terms: ClusterTerms, tree: Group | None = None
    ) -> tuple[QueryCompiler, ir.Node | None, MatchSpec]:
        compiler = QueryCompiler(
            self.analyzer,
            terms,
            self.ranking,
            self.fields,
            query,
            self.exact_analyzer,
            self.acronyms,
            correct=self.correct,
        )
        node, spec = compiler.compile(parse(query) if tree is None else tree)
        return compiler, node, spec

    def requests(
        self, query: str, tree: Group | None = None
    ) -> tuple[set[tuple[str, str]], set[tuple[str, str, int]]]:
        """What :meth:`translate` will need to know of the index's terms for ``query``
        (or its parsed ``tree``): ``(field, term)`` frequencies and ``(field, term,
        maxdist)`` neighbours."""
        terms = ClusterTerms(None, approximate=self.approximate)
        self._compile(query, terms, tree)
        return terms.want_frequencies, terms.want_neighbours

    def translate(
        self, query: str, lookups: TermLookups | None = None, tree: Group | None = None
    ) -> Translation:
        """The query DSL of ``query`` (or of its parsed ``tree``, its filters taken out).

        Args:
            query: query text (searchlib's query language).
            lookups: answers to :meth:`requests` (``None``: no typo correction and
                no ``word~`` expansion, as searchlib without a searcher).
            tree: the query parsed (default: ``query`` parsed without declared fields).

        Raises:
            QuerySyntaxError: malformed query (as searchlib).
            UnsupportedQueryError: ``prefix*`` without ``approximate``, or a
                query past the cluster's clause limit.
        """
        terms = ClusterTerms(lookups, approximate=self.approximate)
        compiler, node, match = self._compile(query, terms, tree)
        if node is None:
            return Translation(None, match, None, tuple(dict.fromkeys(terms.approximations)), ())
        body = dsl(node)
        if _clauses(body) > MAX_CLAUSES:
            raise UnsupportedQueryError(
                "size",
                f"the query makes {_clauses(body)} term clauses; OpenSearch refuses more "
                f"than {MAX_CLAUSES} (indices.query.bool.max_clause_count)",
            )
        prefixes = [(n.field, n.text) for n in ir.walk(node) if isinstance(n, ir.Prefix)]
        return Translation(
            body,
            match,
            self.highlight_query(match, prefixes),
            tuple(dict.fromkeys(terms.approximations)),
            tuple(compiler.corrections),
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
