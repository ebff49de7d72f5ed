"""What one search asks: :class:`SearchRequest`, typed and checked once.

:meth:`Index.search <searchlib.Index.search>` builds it from its keyword
arguments (:class:`SearchOptions`), or takes one already built; the command
line, the REPL, the cluster backend and the benchmarks pass it on as it is, so
no other signature lists the search options again.

Example:
    >>> request = SearchRequest("cour fédérale", limit=5, sort="-date")
    >>> request.limit, request.depth, request.sort_keys
    (5, 5, (SortKey(field='date', descending=True),))
    >>> SearchRequest("cour", page=0)
    Traceback (most recent call last):
    ...
    ValueError: page must be at least 1, not 0
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, Literal, TypedDict, TypeVar, Unpack

from searchlib._frozen import quick_init
from searchlib.fields import Facet, FilterExpr, SortKey, parse_sort
from searchlib.query.language import SEARCH_FIELDS

SemanticMode = Literal["auto", "off", "only"]
"""How a search uses an index's vectors: ``"auto"`` ranks by the hybrid score
when the index has vectors (lexically otherwise), ``"off"`` lexically,
``"only"`` by cosine alone (see :mod:`searchlib.semantic.hybrid`)."""

SEMANTIC_MODES: tuple[SemanticMode, ...] = ("auto", "off", "only")

FilterArg = str | Mapping[str, Any] | FilterExpr
"""A filter as a search takes it: filter syntax, a mapping of declared fields
to values, or a :mod:`searchlib.fields` expression."""


class IndexDefault:
    """Stands for "the index's own setting" (``time_limit``: :attr:`Index.time_limit
    <searchlib.Index.time_limit>`)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "INDEX_DEFAULT"

    def __reduce__(self) -> str:
        return "INDEX_DEFAULT"  # unpickled as the module's one instance (requests compare equal)


INDEX_DEFAULT = IndexDefault()
"""The default ``time_limit`` of a request: the index's."""


@quick_init
@dataclass(frozen=True, eq=True)
class SearchRequest:
    """One search, checked: every value has its type and range when the
    request exists, so the stages after it check nothing again.

    Attributes:
        query: the query text (see :mod:`searchlib.query.language`).
        limit: hits per page (an integer, at least 1).
        page: 1-based page (an integer, at least 1).
        time_limit: seconds the search may take (``None``: no limit; by
            default the index's :attr:`~searchlib.Index.time_limit`).
        highlight_hits: build snippets (cheaper when ``False``).
        collapse: one hit per document, its best passage (the default);
            ``False``: every matching passage is a hit, and ``total``
            counts passages.
        fields: restrict plain words to these fields (names from
            :data:`~searchlib.query.language.SEARCH_FIELDS`; ``None``: title
            and text).
        snippet_chars: approximate size of a fragment (at least 1).
        max_fragments: fragments per snippet (at least 1).
        filter: restricts the matches by declared fields, never scoring:
            filter syntax (``"source:legi-codes date:>=2020"``), a mapping of
            fields to a value or a list of values (any of them), or a
            :mod:`searchlib.fields` expression. It applies with the filters
            the query itself holds.
        facets: declared fields to count the matches by (names, or
            :class:`~searchlib.fields.Facet`).
        sort: declared fields to order by instead of the score (``"-date"``,
            ``"source,-date"``; ``-`` for descending).
        correct: read typos as the index's words (``False``: every word as
            typed; ``+word`` keeps one word as typed).
        suggest: when nothing was corrected and the query finds little, look
            for a query that finds more (``SearchResults.suggestion``).
        as_you_type: the query is being typed: its last word (no space after
            it) matches the written forms it starts.
        semantic: ``"auto"``, ``"off"`` or ``"only"`` (see :data:`SemanticMode`).
        learned: use what the index learned, if anything.

    Raises:
        TypeError: a value of the wrong type (``limit=2.5``, ``fields="title"``).
        ValueError: a count below 1, an unknown search field, an unknown
            semantic mode, a ``time_limit`` that is not a positive number of
            seconds, ``fields`` with ``semantic="only"``.
    """

    query: str
    limit: int = 10
    page: int = 1
    time_limit: float | IndexDefault | None = INDEX_DEFAULT
    highlight_hits: bool = True
    collapse: bool = True
    fields: Sequence[str] | None = None
    snippet_chars: int = 220
    max_fragments: int = 2
    filter: FilterArg | None = None
    facets: Sequence[str | Facet] | None = None
    sort: str | Sequence[str] | None = None
    correct: bool = True
    suggest: bool = True
    as_you_type: bool = False
    semantic: SemanticMode = "auto"
    learned: bool = True

    def __post_init__(self) -> None:
        if not isinstance(self.query, str):
            raise TypeError(f"query must be a string, not {type(self.query).__name__}")
        for name in _COUNTS:
            value = getattr(self, name)
            if type(value) is not int or value < 1:  # (the common case, checked first)
                self._set(name, _at_least_one(name, value))
        for name in _FLAGS:
            value = getattr(self, name)
            if value is not True and value is not False:
                raise TypeError(f"{name} must be True or False, not {value!r}")
        if self.semantic not in SEMANTIC_MODES:
            raise ValueError(f"semantic must be 'auto', 'off' or 'only', not {self.semantic!r}")
        if self.time_limit is not INDEX_DEFAULT:
            self._set("time_limit", _seconds(self.time_limit))
        if self.fields is not None:
            self._set("fields", _field_names(self.fields))
            if self.fields is not None and self.semantic == "only":
                raise ValueError("fields apply to lexical searches, not semantic='only'")
        if self.facets is not None:
            self._set("facets", _facets(self.facets))
        if self.sort is not None:
            parse_sort(self.sort)  # its errors now, not after the search ran

    def _set(self, name: str, value: object) -> None:
        object.__setattr__(self, name, value)

    @property
    def depth(self) -> int:
        """How many hits the page needs ranked: ``page * limit``."""
        return self.page * self.limit

    @property
    def first(self) -> int:
        """The 0-based rank of the page's first hit."""
        return (self.page - 1) * self.limit

    @property
    def sort_keys(self) -> tuple[SortKey, ...]:
        """:attr:`sort` as sort keys (empty: by score)."""
        return parse_sort(self.sort)

    def seconds(self, default: float | None) -> float | None:
        """The time limit, with ``default`` standing for the index's."""
        return default if isinstance(self.time_limit, IndexDefault) else self.time_limit

    def replace(self, **changes: Any) -> SearchRequest:
        """A copy with ``changes`` (checked again)."""
        return dataclasses.replace(self, **changes)


_COUNTS = ("limit", "page", "snippet_chars", "max_fragments")
_FLAGS = ("highlight_hits", "collapse", "correct", "suggest", "as_you_type", "learned")


class SearchOptions(TypedDict, total=False):
    """The keyword arguments of :meth:`Index.search <searchlib.Index.search>`
    beside the query, the limit and the page: the fields of :class:`SearchRequest`
    (a test keeps the two the same)."""

    time_limit: float | IndexDefault | None
    highlight_hits: bool
    collapse: bool
    fields: Sequence[str] | None
    snippet_chars: int
    max_fragments: int
    filter: FilterArg | None
    facets: Sequence[str | Facet] | None
    sort: str | Sequence[str] | None
    correct: bool
    suggest: bool
    as_you_type: bool
    semantic: SemanticMode
    learned: bool


def make_request(
    query: str | SearchRequest, limit: int, page: int, options: SearchOptions
) -> SearchRequest:
    """The request a search facade was called with: ``query`` itself when it is
    one (then nothing else may be given), else one built from the arguments.

    Raises:
        TypeError: a request given with other arguments, or a bad value.
        ValueError: see :class:`SearchRequest`.
    """
    if isinstance(query, SearchRequest):
        if options or limit != 10 or page != 1:
            raise TypeError("give a SearchRequest alone, or the query and its options")
        return query
    return SearchRequest(query, limit, page, **options)


R = TypeVar("R")


class Searchable(Generic[R]):
    """The one search signature of every index (a folder's, a cluster's): the
    keyword arguments of :class:`SearchOptions` make a :class:`SearchRequest`,
    which :meth:`run` answers."""

    def search(
        self,
        query: str | SearchRequest,
        limit: int = 10,
        page: int = 1,
        **options: Unpack[SearchOptions],
    ) -> R:
        """Ranked search: ``query`` (text, or a :class:`SearchRequest` given
        alone) and the options of :class:`SearchRequest`, whose attributes
        document them.

        Raises:
            TypeError: an argument of the wrong type (``limit=2.5``, ``fields="title"``).
            ValueError: a count below 1, an unknown field, or a ``time_limit``
                that is not a positive number of seconds.
            SearchTimeoutError: the search ran past its time limit.
            QuerySyntaxError: the query is an explicitly malformed operator query.
        """
        return self.run(make_request(query, limit, page, options))

    def run(self, request: SearchRequest) -> R:
        """The results of ``request``."""
        raise NotImplementedError


def _at_least_one(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, not {value!r}")
    if value < 1:
        raise ValueError(f"{name} must be at least 1, not {value}")
    return int(value)


def _seconds(value: object) -> float | IndexDefault | None:
    if value is None or isinstance(value, IndexDefault):
        return value
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"time_limit must be a number of seconds or None, not {value!r}")
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"time_limit must be a positive number of seconds, not {value!r}")
    return float(value)


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


def _facets(facets: object) -> tuple[str | Facet, ...] | None:
    """``facets`` checked for shape (names or :class:`Facet`; the index checks the names)."""
    if facets is None:
        return None
    if isinstance(facets, str | Facet):
        facets = (facets,)
    if not isinstance(facets, Sequence):
        raise TypeError(
            "facets must be a sequence of declared field names or Facet, "
            f"such as ['source'], not {facets!r}"
        )
    for f in facets:
        if not isinstance(f, str | Facet):
            raise TypeError(f"facets must hold field names or Facet, not {f!r}")
    return tuple(facets) or None


__all__ = [
    "INDEX_DEFAULT",
    "SEMANTIC_MODES",
    "FilterArg",
    "IndexDefault",
    "SearchOptions",
    "SearchRequest",
    "Searchable",
    "SemanticMode",
    "make_request",
]
