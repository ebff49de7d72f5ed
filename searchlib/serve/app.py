"""The ASGI application: the routes, the security headers, the URL length limit.

See :mod:`searchlib.serve.api` for the JSON API and :mod:`searchlib.serve.page`
for the search page.
"""

from __future__ import annotations

from pathlib import Path

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from searchlib.engine.backend import Backend
from searchlib.serve import api, page
from searchlib.serve.api import Handler, json_response
from searchlib.serve.service import MAX_BODY, THREADS, Service

MAX_QUERY_STRING = 16 * 1024
"""Longest query string of a URL, in bytes."""

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
SECURITY_HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
]


class Guard:
    """Every response gets the security headers (a strict Content-Security-Policy:
    scripts and styles from this server's files only, none inline); a query
    string longer than :data:`MAX_QUERY_STRING` is refused before routing."""

    def __init__(self, app: ASGIApp, service: Service) -> None:
        self.app = app
        self.service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_guarded(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *SECURITY_HEADERS]
            await send(message)

        length = len(scope.get("query_string", b""))
        if length > MAX_QUERY_STRING:
            message = f"the query string is over {MAX_QUERY_STRING:,} bytes"
            response = json_response({"error": message, "status": 414}, 414)
            await response(scope, receive, send_guarded)
            return
        await self.app(scope, receive, send_guarded)


def create_app(
    index: Backend,
    *,
    label: str | None = None,
    write_token: str | None = None,
    time_limit: float | None = None,
    threads: int = THREADS,
    max_body: int = MAX_BODY,
) -> ASGIApp:
    """The ASGI application serving ``index`` (see :class:`Service` for the arguments).

    Example:
        >>> from starlette.testclient import TestClient
        >>> from searchlib import default_index
        >>> client = TestClient(create_app(default_index()))
        >>> hit = client.get("/api/search", params={"q": "cour federale"}).json()["hits"][0]
        >>> "<mark>fédérale</mark>" in hit["snippet"]
        True
    """
    service = Service(
        index,
        label=label,
        write_token=write_token,
        time_limit=time_limit,
        threads=threads,
        max_body=max_body,
    )

    def route(path: str, handler: Handler, methods: tuple[str, ...] = ("GET",)) -> Route:
        return Route(path, api.api(handler, service), methods=list(methods))

    async def not_found(request: Request, exc: Exception) -> Response:
        status = exc.status_code if isinstance(exc, HTTPException) else 500
        detail = exc.detail if isinstance(exc, HTTPException) else "internal error"
        return json_response({"error": str(detail).lower(), "status": status}, status)

    routes = [
        Route("/", page.search_page(service)),
        Route("/document", page.document_page(service)),
        Mount("/static", StaticFiles(directory=Path(__file__).parent / "static"), name="static"),
        route("/openapi.json", api.openapi_description),
        route("/api/search", api.search),
        route("/api/complete", api.complete),
        route("/api/explain", api.explain),
        route("/api/stats", api.stats),
        route("/api/documents", api.add_documents, ("POST",)),
        route("/api/documents/delete", api.delete_documents, ("POST",)),
        route("/api/documents/{doc_id:path}", api.get_document),
        route("/api/documents/{doc_id:path}", api.delete_document, ("DELETE",)),
        route("/api/passages/{passage_id:path}", api.get_passage),
    ]
    app = Starlette(routes=routes, exception_handlers={HTTPException: not_found})
    return Guard(app, service)


__all__ = ["CSP", "MAX_QUERY_STRING", "SECURITY_HEADERS", "Guard", "create_app"]
