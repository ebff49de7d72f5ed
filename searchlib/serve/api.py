"""The JSON API: the command line's answers over HTTP.

``/api/search`` answers what ``searchlib search --json`` prints, ``/api/complete``
``complete --json``, ``/api/documents/ID`` and ``/api/passages/ID`` ``get --json``,
``/api/explain`` ``explain --json``, ``/api/stats`` ``stats --json``; adding and
deleting documents need the server's write token. ``/openapi.json`` describes it all.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from searchlib.app.cli import explain_id, json_text
from searchlib.app.render import (
    completions_list,
    document_dict,
    explanation_dict,
    passage_dict,
    quoted,
    stats_dict,
)
from searchlib.documents import Document
from searchlib.index import Index
from searchlib.opensearch import OpenSearchIndex
from searchlib.serve import openapi
from searchlib.serve.params import MAX_LIMIT, SEARCH_PARAMS, BadRequest, Params, search_request
from searchlib.serve.service import Service


def json_response(
    value: object, status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    """``value`` as the command line's JSON (compact)."""
    return Response(
        json_text(value, indent=None),
        status_code=status,
        media_type="application/json",
        headers=headers,
    )


Handler = Callable[[Service, Request], Awaitable[Any]]


def api(handler: Handler, service: Service) -> Callable[[Request], Awaitable[Response]]:
    """An endpoint answering ``handler``'s value as JSON, its errors as
    ``{"error", "status"}`` with the status they call for."""

    async def endpoint(request: Request) -> Response:
        try:
            value = await handler(service, request)
        except Exception as e:  # noqa: BLE001 - every error is answered, none escapes
            status, body = service.failure(e)
            headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
            return json_response(body, status, headers)
        if isinstance(value, Response):
            return value
        return json_response(value)

    return endpoint


# -- the API ---------------------------------------------------------------------------


async def search(service: Service, request: Request) -> Any:
    """``GET /api/search``: ``searchlib search --json``."""
    params = Params(request.query_params, SEARCH_PARAMS)
    results = await service.search(search_request(params, time_limit=service.time_limit))
    return results.to_dict()


async def complete(service: Service, request: Request) -> Any:
    """``GET /api/complete?q=rupture+conv``: ``searchlib complete --json``."""
    params = Params(request.query_params, ("q", "limit"))
    text = params.required("q")
    limit = params.integer("limit", 10, 1, MAX_LIMIT)
    return completions_list(await service.call(lambda: service.index.complete(text, limit)))


async def get_document(service: Service, request: Request) -> Any:
    """``GET /api/documents/{id}``: ``searchlib get ID --json`` of a document."""
    Params(request.query_params, ())
    doc_id = request.path_params["doc_id"]
    doc = await service.call(lambda: service.index.document(doc_id))
    if doc is None:
        raise BadRequest(f"no document {quoted(doc_id)} in the index", 404)
    return document_dict(doc)


async def get_passage(service: Service, request: Request) -> Any:
    """``GET /api/passages/{id}``: ``searchlib get ID#N --json``."""
    Params(request.query_params, ())
    passage_id = request.path_params["passage_id"]
    found = await service.call(lambda: service.index.passage(passage_id))
    if found is None:
        raise BadRequest(f"no passage {quoted(passage_id)} in the index", 404)
    return passage_dict(found)


async def explain(service: Service, request: Request) -> Any:
    """``GET /api/explain?q=...&id=...``: ``searchlib explain QUERY ID --json``."""
    params = Params(request.query_params, ("q", "id"))
    query, ident = params.required("q"), params.required("id")
    why = await service.call(lambda: explain_id(service.index, query, ident))
    return explanation_dict(why)


async def stats(service: Service, request: Request) -> Any:
    """``GET /api/stats``: ``searchlib stats --json`` (``path``: the index's name)."""
    Params(request.query_params, ())
    index = service.index
    found = await service.call(lambda: stats_dict(index.stats(), index.ranking))
    return found | {"path": service.name}


async def add_documents(service: Service, request: Request) -> Any:
    """``POST /api/documents``: add (or replace) documents, with the write token."""
    service.check_token(request)
    Params(request.query_params, ())
    docs = _documents(await _body(service, request))
    index = service.index
    if not isinstance(index, Index | OpenSearchIndex):
        raise BadRequest("this index cannot be written to", 403)
    added = await service.write(lambda: index.add(docs))
    now = await service.call(index.stats)
    return {"indexed": added, "documents": now.documents, "passages": now.passages}


async def delete_document(service: Service, request: Request) -> Any:
    """``DELETE /api/documents/{id}``: ``searchlib delete ID --json``."""
    service.check_token(request)
    Params(request.query_params, ())
    done = await _delete(service, [request.path_params["doc_id"]])
    if done["missing"]:
        raise BadRequest(f"no document {quoted(done['missing'][0])} in the index", 404)
    return done


async def delete_documents(service: Service, request: Request) -> Any:
    """``POST /api/documents/delete`` with ``{"ids": [...]}``: ``searchlib delete IDS --json``."""
    service.check_token(request)
    Params(request.query_params, ())
    body = _json(await _body(service, request))
    ids = body.get("ids") if isinstance(body, dict) else None
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        raise BadRequest('the body must be {"ids": ["id", ...]} (document ids, strings)')
    return await _delete(service, ids)


async def _delete(service: Service, ids: list[str]) -> dict[str, Any]:
    """As ``searchlib delete``: ``{"deleted", "missing", "passages"}``."""
    index = service.index
    wanted = list(dict.fromkeys(ids))

    def delete() -> dict[str, Any]:
        missing = [i for i in wanted if not index.passages(i)]
        present = [i for i in wanted if i not in missing]
        passages = index.delete(present) if present else 0
        return {"deleted": present, "missing": missing, "passages": passages}

    return await service.write(delete)


async def _body(service: Service, request: Request) -> bytes:
    """The request body, refused past ``service.max_body`` bytes."""
    too_big = BadRequest(f"the request body is over {service.max_body:,} bytes", 413)
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > service.max_body:
        raise too_big
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > service.max_body:
            raise too_big
        chunks.append(chunk)
    return b"".join(chunks)


def _json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except UnicodeDecodeError:
        raise BadRequest("the body is not UTF-8") from None
    except json.JSONDecodeError as e:
        raise BadRequest(f"malformed JSON ({e.msg}, line {e.lineno} column {e.colno})") from None
    except (RecursionError, ValueError):
        raise BadRequest("malformed JSON (nested too deeply, or a number too long)") from None


def _documents(body: bytes) -> list[Document]:
    """The documents of a body: a JSON object, an array of them, or one a line
    (JSON Lines), each ``{"id", "title", "text", ...fields}`` as in a corpus."""
    stripped = body.strip()
    if stripped.startswith(b"{") and b"\n" in stripped:
        records = [_json(line) for line in stripped.splitlines() if line.strip()]
    else:
        value = _json(stripped)
        records = value if isinstance(value, list) else [value]
    docs = []
    for n, record in enumerate(records, start=1):
        if not isinstance(record, dict):
            raise BadRequest(f"document {n}: a document is a JSON object")
        fields = dict(record)
        doc_id = fields.pop("id", None)
        if isinstance(doc_id, int) and not isinstance(doc_id, bool):
            doc_id = str(doc_id)
        if not isinstance(doc_id, str) or not doc_id.strip():
            raise BadRequest(f'document {n}: missing or empty "id"')
        text, title = fields.pop("text", None), fields.pop("title", "")
        if not isinstance(text, str):
            raise BadRequest(f'document {n}: missing "text" (a string)')
        if not isinstance(title, str):
            raise BadRequest(f'document {n}: "title" must be a string')
        docs.append(Document(doc_id.strip(), title, text, fields))
    if not docs:
        raise BadRequest("no documents in the body")
    return docs


async def openapi_description(service: Service, request: Request) -> Any:
    """``GET /openapi.json``."""
    Params(request.query_params, ())
    return openapi.description(service.name, writable=service.writable)


__all__ = ["api", "json_response"]
