"""The OpenAPI 3.1 description of the JSON API (``/openapi.json``).

Written out by hand, next to the handlers it describes; a test checks that
every route of the application is described and every parameter described is
one the handler takes.
"""

from __future__ import annotations

from typing import Any

from searchlib._version import __version__
from searchlib.serve.params import MAX_DEPTH, MAX_LIMIT, MAX_QUERY_CHARS


def _param(
    name: str,
    description: str,
    schema: dict[str, Any],
    *,
    where: str = "query",
    required: bool = False,
    repeat: bool = False,
) -> dict[str, Any]:
    if repeat:
        schema = {"type": "array", "items": schema}
    out: dict[str, Any] = {"name": name, "in": where, "description": description, "schema": schema}
    if required or where == "path":
        out["required"] = True
    if repeat:
        out["style"], out["explode"] = "form", True
    return out


STRING = {"type": "string", "maxLength": MAX_QUERY_CHARS}
BOOLEAN = {"type": "boolean"}
Q = _param("q", "the query, in searchlib's query language", STRING)

SEARCH = [
    Q,
    _param("page", "1-based page", {"type": "integer", "minimum": 1, "default": 1}),
    _param(
        "limit",
        f"hits per page (page × limit at most {MAX_DEPTH:,})",
        {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": 10},
    ),
    _param(
        "filter",
        "restrict by declared fields, as in queries: source:legi-codes, date:>=2020-01-01 "
        "(repeat: all apply)",
        STRING,
        repeat=True,
    ),
    _param(
        "facet",
        "count the matches per value of a declared field: NAME, NAME:year|month|day, "
        "NAME:EDGE,EDGE,... (repeatable)",
        STRING,
        repeat=True,
    ),
    _param("sort", "order by declared fields: -date, source,-date", STRING),
    _param("passages", "one hit per passage (default: one per document)", BOOLEAN),
    _param("correct", "read typos as the index's words (default true)", BOOLEAN),
    _param(
        "semantic",
        "on an index with vectors: auto (hybrid), off (lexical), only (cosine)",
        {"type": "string", "enum": ["auto", "off", "only"], "default": "auto"},
    ),
    _param("as_you_type", "the last word matches the words it starts", BOOLEAN),
    _param("fields", "search plain words in these fields only (comma-separated)", STRING),
]

JSON_OBJECT: dict[str, Any] = {"type": "object"}
ERROR = {
    "description": "an error, in the command line's words",
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "required": ["error", "status"],
                "properties": {
                    "error": {"type": "string"},
                    "status": {"type": "integer"},
                    "position": {
                        "type": "integer",
                        "description": "a query error's 0-based position in q",
                    },
                },
            }
        }
    },
}


def _answer(description: str, schema: dict[str, Any] = JSON_OBJECT) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _get(summary: str, parameters: list[dict[str, Any]], answer: str) -> dict[str, Any]:
    return {
        "summary": summary,
        "parameters": parameters,
        "responses": {"200": _answer(answer), "400": ERROR, "404": ERROR, "503": ERROR},
    }


def _write(
    summary: str, parameters: list[dict[str, Any]], body: dict[str, Any] | None
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "summary": summary,
        "parameters": parameters,
        "security": [{"writeToken": []}],
        "responses": {
            "200": _answer("what was done"),
            "400": ERROR,
            "401": ERROR,
            "403": ERROR,
            "413": ERROR,
        },
    }
    if body is not None:
        out["requestBody"] = {"required": True, "content": {"application/json": {"schema": body}}}
    return out


DOCUMENT = {
    "type": "object",
    "required": ["id", "text"],
    "properties": {
        "id": {"type": "string"},
        "title": {"type": "string"},
        "text": {"type": "string"},
    },
    "additionalProperties": True,
}


def description(name: str, *, writable: bool) -> dict[str, Any]:
    """The OpenAPI description of the server of index ``name``."""
    doc_id = _param("doc_id", "a document id", {"type": "string"}, where="path")
    mode = "adding and deleting documents with the write token" if writable else "read-only"
    return {
        "openapi": "3.1.0",
        "info": {
            "title": f"searchlib: {name}",
            "version": __version__,
            "description": "Full-text search over French text: the JSON of the searchlib "
            f'command line ({mode}). Errors: {{"error", "status"}}.',
        },
        "paths": {
            "/api/search": {
                "get": _get(
                    "ranked search (searchlib search --json)",
                    SEARCH,
                    "query, total, page, hits, searched, corrections, suggestion, unknown, facets",
                )
            },
            "/api/complete": {
                "get": _get(
                    "completions of the last word (searchlib complete --json)",
                    [
                        {**Q, "required": True},
                        _param(
                            "limit",
                            "completions",
                            {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": 10},
                        ),
                    ],
                    "[{query, word, frequency, matches}]",
                )
            },
            "/api/documents/{doc_id}": {
                "get": _get(
                    "a document (searchlib get ID --json)", [doc_id], "id, title, text, fields"
                ),
                "delete": _write("delete a document", [doc_id], None),
            },
            "/api/passages/{passage_id}": {
                "get": _get(
                    "a passage (searchlib get DOC#N --json)",
                    [_param("passage_id", "a passage id, doc#n", {"type": "string"}, where="path")],
                    "id, doc_id, position, start, title, text, fields",
                )
            },
            "/api/explain": {
                "get": _get(
                    "why a passage (or a document's best) scores what it does",
                    [
                        {**Q, "required": True},
                        _param("id", "a passage or document id", {"type": "string"}, required=True),
                    ],
                    "hit_id, score, contributions, query, semantic, total",
                )
            },
            "/api/stats": {
                "get": _get(
                    "documents, passages, fields, size, versions (searchlib stats --json)",
                    [],
                    "stats",
                )
            },
            "/api/documents": {
                "post": _write(
                    "add or replace documents: one, an array, or one a line (JSON Lines)",
                    [],
                    {"oneOf": [DOCUMENT, {"type": "array", "items": DOCUMENT}]},
                )
            },
            "/api/documents/delete": {
                "post": _write(
                    "delete documents by id (searchlib delete --json)",
                    [],
                    {
                        "type": "object",
                        "required": ["ids"],
                        "properties": {"ids": {"type": "array", "items": {"type": "string"}}},
                    },
                )
            },
        },
        "components": {"securitySchemes": {"writeToken": {"type": "http", "scheme": "bearer"}}},
    }


__all__ = ["SEARCH", "description"]
