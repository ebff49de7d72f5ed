"""Query parameters read once, checked, and turned into a :class:`SearchRequest`.

Every endpoint names the parameters it takes: an unknown one (``limt=5``) or
a single one given twice is refused with a message naming it, as a mistyped
command-line option is. Values are checked here or by
:class:`~searchlib.engine.request.SearchRequest`, whose message is passed on.

Example:
    >>> from starlette.datastructures import QueryParams
    >>> params = Params(QueryParams("q=cour&limit=5&passages=true"), SEARCH_PARAMS)
    >>> request = search_request(params)
    >>> request.query, request.limit, request.collapse
    ('cour', 5, False)
    >>> Params(QueryParams("limt=5"), ("q", "limit"))
    Traceback (most recent call last):
    ...
    searchlib.serve.params.BadRequest: unknown parameter 'limt' (this endpoint takes: q, limit)
"""

from __future__ import annotations

from collections.abc import Sequence

from starlette.datastructures import QueryParams

from searchlib.engine.request import (
    INDEX_DEFAULT,
    SEMANTIC_MODES,
    IndexDefault,
    SearchRequest,
    SemanticMode,
)
from searchlib.fields import Facet, FilterExpr

MAX_QUERY_CHARS = 2000
"""Longest query (``q``), in characters."""
MAX_LIMIT = 100
"""Most hits (or completions) one request may ask for."""
MAX_DEPTH = 10_000
"""Deepest hit a request may reach (``page × limit``), as Elasticsearch's
``max_result_window``: deeper pages cost a ranking of that many hits."""

SEARCH_PARAMS = (
    "q",
    "page",
    "limit",
    "filter",
    "facet",
    "sort",
    "passages",
    "correct",
    "semantic",
    "as_you_type",
    "fields",
)
"""What ``/api/search`` takes (``filter`` and ``facet`` may repeat)."""

REPEATABLE = frozenset({"filter", "facet"})

_TRUE = frozenset({"true", "1", "yes", "on"})
_FALSE = frozenset({"false", "0", "no", "off"})


class BadRequest(Exception):
    """A request the server refuses, with the message and status to answer."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


class Params:
    """The query parameters of one request, checked against those it may take."""

    def __init__(
        self, query: QueryParams, allowed: Sequence[str], *, prefixes: Sequence[str] = ()
    ) -> None:
        self.query = query
        for key in query:
            prefixed = any(key.startswith(p) for p in prefixes)
            if key not in allowed and not prefixed:
                takes = ", ".join(allowed) or "no parameters"
                raise BadRequest(f"unknown parameter {key!r} (this endpoint takes: {takes})")
            if key not in REPEATABLE and not prefixed:
                count = len(query.getlist(key))
                if count > 1:
                    raise BadRequest(f"parameter {key!r} is given {count} times (give it once)")

    def text(self, name: str, default: str = "", *, max_chars: int = MAX_QUERY_CHARS) -> str:
        """Parameter ``name`` (``default`` when absent), at most ``max_chars`` long."""
        value = self.query.get(name, default)
        if len(value) > max_chars:
            raise BadRequest(
                f"{name} is too long: {len(value):,} characters (at most {max_chars:,})"
            )
        return value

    def required(self, name: str) -> str:
        """Parameter ``name``, which must be given."""
        if name not in self.query:
            raise BadRequest(f"missing parameter {name!r}")
        return self.text(name)

    def texts(self, name: str) -> list[str]:
        """Every value of a repeatable parameter."""
        values = self.query.getlist(name)
        for value in values:
            if len(value) > MAX_QUERY_CHARS:
                raise BadRequest(
                    f"{name} is too long: {len(value):,} characters (at most {MAX_QUERY_CHARS:,})"
                )
        return values

    def integer(self, name: str, default: int, low: int, high: int | None = None) -> int:
        """A whole number from ``low`` to ``high`` (no bound: ``None``)."""
        raw = self.query.get(name)
        if raw is None:
            return default
        try:
            value = int(raw.strip())
        except ValueError:
            raise BadRequest(f"{name} must be a whole number, not {raw[:40]!r}") from None
        if value < low or (high is not None and value > high):
            allowed = f"from {low} to {high:,}" if high is not None else f"at least {low}"
            raise BadRequest(f"{name} must be {allowed}, not {value}")
        return value

    def boolean(self, name: str, default: bool) -> bool:
        """``true``/``false`` (also ``1``/``0``, ``yes``/``no``, ``on``/``off``)."""
        raw = self.query.get(name)
        if raw is None:
            return default
        word = raw.strip().lower()
        if word in _TRUE:
            return True
        if word in _FALSE:
            return False
        raise BadRequest(f"{name} must be true or false, not {raw[:40]!r}")

    def semantic(self) -> SemanticMode:
        """The ``semantic`` mode: ``auto`` (default), ``off`` or ``only``."""
        raw = self.query.get("semantic", "auto")
        for mode in SEMANTIC_MODES:
            if raw == mode:
                return mode
        raise BadRequest(f"semantic must be auto, off or only, not {raw[:40]!r}")


def search_request(
    params: Params,
    *,
    limit: int | None = None,
    filter: FilterExpr | None = None,
    facets: Sequence[Facet] = (),
    time_limit: float | IndexDefault | None = INDEX_DEFAULT,
) -> SearchRequest:
    """The search ``params`` ask for (those of :data:`SEARCH_PARAMS` given),
    documents by default (``passages=true``: passages); ``filter`` and
    ``facets`` beside the parameters', the page size ``limit`` when the caller
    fixes it.

    Raises:
        BadRequest: a value out of range or malformed (the message says which).
    """
    query = params.text("q")
    size = limit if limit is not None else params.integer("limit", 10, 1, MAX_LIMIT)
    page = params.integer("page", 1, 1)
    if page * size > MAX_DEPTH:
        raise BadRequest(
            f"page {page} of {size} hits is too deep: page × limit must be at most {MAX_DEPTH:,}"
        )
    # As the command line joins its --filter options: all of them apply.
    written = " ".join(f"({f})" if " OR " in f else f for f in params.texts("filter"))
    counted = list(facets)
    for spec in params.texts("facet"):
        try:
            counted.append(Facet.parse(spec))
        except (TypeError, ValueError) as e:
            raise BadRequest(str(e)) from None
    fields = params.text("fields")
    try:
        return SearchRequest(
            query,
            limit=size,
            page=page,
            time_limit=time_limit,
            collapse=not params.boolean("passages", False),
            fields=tuple(f.strip() for f in fields.split(",") if f.strip()) or None,
            filter=_both(written, filter),
            facets=counted or None,
            sort=params.text("sort") or None,
            correct=params.boolean("correct", True),
            as_you_type=params.boolean("as_you_type", False),
            semantic=params.semantic(),
        )
    except (TypeError, ValueError) as e:
        raise BadRequest(str(e)) from None


def _both(written: str, expr: FilterExpr | None) -> str | FilterExpr | None:
    """The written filters, or the expression; never both (the page sends no
    ``filter`` parameter, the API no expression)."""
    if written and expr is not None:
        raise BadRequest("give filters as filter=EXPR or as facet choices, not both")
    return written or expr


__all__ = [
    "MAX_DEPTH",
    "MAX_LIMIT",
    "MAX_QUERY_CHARS",
    "SEARCH_PARAMS",
    "BadRequest",
    "Params",
    "search_request",
]
