"""The search page (``/``) and the document view (``/document``), rendered on the server.

A plain form sent with GET: everything works without JavaScript; the one
script (``static/serve.js``, served as a file: the Content-Security-Policy
allows no inline script) adds completion as you type. The templates escape
every string (Jinja2's autoescaping); the snippets' HTML, which
:meth:`Snippet.to_html <searchlib.highlight.Snippet.to_html>` escapes itself
around its ``<mark>`` tags, is the only HTML passed through as it is.

The page's state lives in its URL: ``q``, ``page``, ``sort``, ``passages``,
``lang`` and one ``f.FIELD=VALUE`` per facet value chosen (values of one
field: any of them; of several fields: all).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from searchlib.app.render import quoted
from searchlib.engine.request import SearchRequest
from searchlib.fields import (
    AllOf,
    AnyOf,
    Date,
    Facet,
    FieldType,
    FilterExpr,
    Keyword,
    Match,
    Number,
    Range,
)
from searchlib.highlight import MatchSpec, Snippet, highlight_all
from searchlib.results import SearchResults
from searchlib.serve.i18n import TEXTS, number, pick_language
from searchlib.serve.params import MAX_DEPTH, BadRequest, Params, search_request
from searchlib.serve.service import Service

PAGE_SIZE = 10
CHOICE = "f."
"""Prefix of a facet choice's parameter: ``f.source=legi-codes``."""
PAGE_PARAMS = ("q", "page", "sort", "passages", "lang")

TEMPLATES = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


@dataclass(frozen=True)
class State:
    """What the page shows, as its URL says it."""

    q: str = ""
    page: int = 1
    sort: str = ""
    passages: bool = False
    chosen: dict[str, tuple[str, ...]] = field(default_factory=dict)
    lang: str | None = None
    """The language asked in the URL (kept in its links), ``None``: the browser's."""

    def query(self, **changes: Any) -> list[tuple[str, str]]:
        """The URL parameters of this state with ``changes``."""
        s = replace(self, **changes)
        pairs = [("q", s.q)]
        if s.page != 1:
            pairs.append(("page", str(s.page)))
        if s.sort:
            pairs.append(("sort", s.sort))
        if s.passages:
            pairs.append(("passages", "true"))
        for name, values in s.chosen.items():
            pairs.extend((CHOICE + name, v) for v in values)
        if s.lang:
            pairs.append(("lang", s.lang))
        return pairs

    def url(self, **changes: Any) -> str:
        """``/?...``: the search page of this state with ``changes``."""
        return "/?" + urlencode(self.query(**changes))

    def toggled(self, name: str, value: str) -> str:
        """The search page with facet value ``value`` of ``name`` chosen, or no
        longer chosen, back on page 1."""
        chosen = dict(self.chosen)
        values = chosen.get(name, ())
        values = tuple(v for v in values if v != value) if value in values else (*values, value)
        if values:
            chosen[name] = values
        else:
            chosen.pop(name, None)
        return self.url(chosen=chosen, page=1)

    def document(self, doc_id: str) -> str:
        """The document view of ``doc_id``, its way back to this page in its URL."""
        return "/document?" + urlencode([("id", doc_id), *self.query()])


def read_state(params: Params, fields: Mapping[str, FieldType]) -> State:
    """The page's state from its URL parameters (a choice of an undeclared
    field, or of a number field, is refused)."""
    chosen: dict[str, tuple[str, ...]] = {}
    for key in params.query:
        if not key.startswith(CHOICE):
            continue
        name = key[len(CHOICE) :]
        if not isinstance(fields.get(name), Keyword | Date):
            raise BadRequest(f"{key}: no keyword or date field {name!r} is declared")
        chosen[name] = tuple(dict.fromkeys(params.texts(key)))
    asked = params.query.get("lang")
    return State(
        q=params.text("q"),
        page=params.integer("page", 1, 1, MAX_DEPTH // PAGE_SIZE),
        sort=params.text("sort", max_chars=200),
        passages=params.boolean("passages", False),
        chosen=chosen,
        lang=asked if asked in TEXTS else None,
    )


def choice_filter(
    chosen: Mapping[str, tuple[str, ...]], fields: Mapping[str, FieldType]
) -> FilterExpr | None:
    """The filter of the facet values chosen: any value of a field, all fields."""
    items: list[FilterExpr] = []
    for name, values in chosen.items():
        if isinstance(fields[name], Date):
            items.extend(_years(name, values))
        else:
            items.append(Match(name, values))
    if not items:
        return None
    return items[0] if len(items) == 1 else AllOf(tuple(items))


def _years(name: str, values: tuple[str, ...]) -> list[FilterExpr]:
    """A date field's chosen years (``2020``) as ranges: any of them."""
    ranges: list[FilterExpr] = []
    for value in values:
        if not (value.isdigit() and 1 <= int(value) <= 9998):
            raise BadRequest(f"{CHOICE}{name}: a year (such as 2020), not {value[:20]!r}")
        year = int(value)
        low = Date().convert(f"{year:04d}-01-01")[0]
        high = Date().convert(f"{year + 1:04d}-01-01")[0]
        ranges.append(Range(name, low, high, True, False))
    return [AnyOf(tuple(ranges))] if ranges else []


def page_facets(fields: Mapping[str, FieldType]) -> list[Facet]:
    """The facets the page counts: keyword fields by value, date fields by year."""
    out = []
    for name, kind in fields.items():
        if isinstance(kind, Keyword):
            out.append(Facet(name, limit=20))
        elif isinstance(kind, Date):
            out.append(Facet(name, by="year"))
    return out


def sort_options(
    fields: Mapping[str, FieldType], texts: Mapping[str, str]
) -> list[tuple[str, str]]:
    """``(value, label)`` of the sort menu: relevance, then each declared field both ways."""
    options = [("", texts["relevance"])]
    for name, kind in fields.items():
        if isinstance(kind, Keyword | Number | Date):
            options.append((name, texts["ascending"].format(field=name)))
            options.append((f"-{name}", texts["descending"].format(field=name)))
    return options


def page_numbers(current: int, last: int) -> list[int | None]:
    """Page links to show: the first, the last, two either side of ``current``
    (``None``: a gap).

    >>> page_numbers(7, 20)
    [1, None, 5, 6, 7, 8, 9, None, 20]
    """
    shown = sorted({1, last, *range(max(1, current - 2), min(last, current + 2) + 1)})
    out: list[int | None] = []
    for n in shown:
        if out and n - (out[-1] or 0) > 1:
            out.append(None)
        out.append(n)
    return out


def _html(snippet: Snippet, *, oneline: bool = True) -> Markup:
    # Snippet.to_html escapes the text itself: only its <mark> tags are markup.
    return Markup(snippet.to_html(oneline=oneline))


def render(template: str, status: int = 200, **values: Any) -> HTMLResponse:
    return HTMLResponse(TEMPLATES.get_template(template).render(**values), status_code=status)


def search_page(service: Service) -> Callable[[Request], Awaitable[Response]]:
    """``GET /``: the search form, and the results of ``q`` when given."""

    async def endpoint(request: Request) -> Response:
        lang = pick_language(
            request.query_params.get("lang"), request.headers.get("accept-language")
        )
        texts = TEXTS[lang]
        fields = service.index.fields
        state = State()
        values: dict[str, Any] = {"results": None, "error": None, "holds": None}
        status = 200
        try:
            params = Params(request.query_params, PAGE_PARAMS, prefixes=(CHOICE,))
            state = read_state(params, fields)
            if state.q.strip() or state.chosen:
                search = search_request(
                    params,
                    limit=PAGE_SIZE,
                    filter=choice_filter(state.chosen, fields),
                    facets=page_facets(fields),
                    time_limit=service.time_limit,
                )
                values["results"] = await service.search(search)
            else:
                stats = await service.call(service.index.stats)
                values["holds"] = texts["index_holds"].format(
                    name=service.name,
                    documents=number(stats.documents, lang),
                    passages=number(stats.passages, lang),
                )
        except Exception as e:  # noqa: BLE001 - shown in the page, as the API answers it
            status, body = service.failure(e)
            values["error"] = body["error"]
        return render(
            "search.html",
            status,
            lang=lang,
            t=texts,
            name=service.name,
            state=state,
            sorts=sort_options(fields, texts),
            number=lambda n: number(n, lang),
            html=_html,
            shown=_shown,
            view=_view(values["results"], state, fields) if values["results"] is not None else None,
            **values,
        )

    return endpoint


def _view(results: SearchResults, state: State, fields: Mapping[str, FieldType]) -> dict[str, Any]:
    """What the template shows of ``results``: pages, facets with their links."""
    facets = []
    for name, counts in results.facets.items():
        chosen = state.chosen.get(name, ())
        values = [
            {
                "value": value,
                "count": count,
                "chosen": value in chosen,
                "url": state.toggled(name, value),
            }
            for value, count in counts.items()
        ]
        for value in chosen:  # a choice the matches no longer count
            if value not in counts:
                values.append(
                    {"value": value, "count": 0, "chosen": True, "url": state.toggled(name, value)}
                )
        if values:
            facets.append({"name": name, "values": values})
    first = results.hits[0].rank if results.hits else 0
    last = results.hits[-1].rank if results.hits else 0
    return {
        "facets": facets,
        "first": first,
        "last": last,
        "pages": page_numbers(results.page, min(results.pages, MAX_DEPTH // PAGE_SIZE)),
        "last_page": min(results.pages, MAX_DEPTH // PAGE_SIZE),
        "declared": [n for n in fields],
    }


def document_page(service: Service) -> Callable[[Request], Awaitable[Response]]:
    """``GET /document?id=...``: a document, the words of ``q`` marked."""

    async def endpoint(request: Request) -> Response:
        lang = pick_language(
            request.query_params.get("lang"), request.headers.get("accept-language")
        )
        texts = TEXTS[lang]
        index = service.index
        state = State()
        values: dict[str, Any] = {"doc": None, "error": None}
        status = 200
        try:
            params = Params(request.query_params, ("id", *PAGE_PARAMS), prefixes=(CHOICE,))
            doc_id = params.required("id")
            state = read_state(params, index.fields)
            doc = await service.call(lambda: index.document(doc_id))
            if doc is None:
                raise BadRequest(f"no document {quoted(doc_id)} in the index", 404)
            match = MatchSpec()
            if state.q.strip():
                found = await service.search(
                    SearchRequest(
                        state.q,
                        limit=1,
                        highlight_hits=False,
                        suggest=False,
                        time_limit=service.time_limit,
                    )
                )
                match = found.match
            analyzer = index.analyzer
            values["doc"] = {
                "id": doc.id,
                "title": _html(highlight_all(doc.title, analyzer, match)) if doc.title else None,
                "text": _html(highlight_all(doc.text, analyzer, match), oneline=False),
                "fields": [(k, _shown(v)) for k, v in doc.fields.items()],
            }
        except Exception as e:  # noqa: BLE001 - shown in the page, as the API answers it
            status, body = service.failure(e)
            values["error"] = body["error"]
        return render(
            "document.html",
            status,
            lang=lang,
            t=texts,
            name=service.name,
            state=state,
            **values,
        )

    return endpoint


def _shown(value: object) -> str:
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return str(value)


__all__ = ["State", "document_page", "page_numbers", "search_page"]
