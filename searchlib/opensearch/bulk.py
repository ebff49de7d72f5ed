"""Documents as OpenSearch documents: one per passage, as searchlib indexes them.

A document is cut into passages by :func:`searchlib.documents.split_passages`
(the index's ``passage_chars``); each passage is an OpenSearch document whose
``_id`` is the passage id (``doc#1``), with the document's id, title (whole
with the first passage, bounded with the others, as searchlib stores it) and
extra fields. :func:`bulk_lines` writes them as the NDJSON the bulk API reads.

Example:
    >>> from searchlib import Document
    >>> [(pid, src["position"]) for pid, src in passage_sources(Document("a", "T", "Texte."))]
    [('a#1', 0)]
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import date, datetime
from typing import Any

from searchlib.documents import (
    PASSAGE_CHARS,
    Document,
    check_document,
    repeated_title,
    split_passages,
)
from searchlib.errors import DocumentError
from searchlib.opensearch.mapping import DeclaredField

JSON = dict[str, Any]


def check_declared_values(doc: Document, declared: Mapping[str, DeclaredField]) -> None:
    """Refuse values of declared fields that the mapping would refuse.

    Raises:
        DocumentError: a list for a field that is not ``multiple``, a value of
            the wrong kind (a number field takes numbers, a keyword field
            strings, a date field ISO dates or epoch milliseconds).
    """
    for name, f in declared.items():
        if name not in doc.fields or doc.fields[name] is None:
            continue
        value = doc.fields[name]
        values = value if isinstance(value, list | tuple) else [value]
        if isinstance(value, list | tuple) and not f.multiple:
            raise DocumentError(
                f"document {doc.id!r}: field {name!r} holds a list but is declared single-valued"
            )
        for v in values:
            if not _fits(f.type, v):
                raise DocumentError(
                    f"document {doc.id!r}: field {name!r} is declared {f.type}, "
                    f"not {type(v).__name__} {v!r}"
                )


def _fits(kind: str, value: object) -> bool:
    if kind == "keyword":
        return isinstance(value, str)
    if kind == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    if kind == "date":
        if isinstance(value, int) and not isinstance(value, bool):
            return True
        if not isinstance(value, str):
            return False
        try:
            datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            try:
                date.fromisoformat(value)
            except ValueError:
                return False
        return True
    return False


def passage_sources(
    doc: Document,
    *,
    passage_chars: int = PASSAGE_CHARS,
    declared: Mapping[str, DeclaredField] | None = None,
) -> list[tuple[str, JSON]]:
    """``(passage id, _source)`` of each passage of ``doc``.

    Raises:
        DocumentError: what searchlib's own index would refuse (an empty id,
            a lone surrogate, fields that are not JSON), or a declared field's
            value of the wrong kind.
    """
    check_document(doc)
    if declared:
        check_declared_values(doc, declared)
    fields = dict(doc.fields) if doc.fields else {}
    out: list[tuple[str, JSON]] = []
    for p in split_passages(doc.id, doc.text, max_chars=passage_chars):
        title = doc.title if p.position == 0 else repeated_title(doc.title)
        source: JSON = {
            "id": p.id,
            "doc_id": doc.id,
            "position": p.position,
            "start": p.start,
            "title": title,
            "text": p.text,
        }
        if fields:
            source["fields"] = fields
        out.append((p.id, source))
    return out


def bulk_lines(sources: Iterable[tuple[str, JSON]], *, index: str | None = None) -> Iterator[str]:
    """NDJSON lines (no newline) of index actions: an action, then the source.

    Without ``index`` the action names no index: load the file with
    ``POST /<index>/_bulk``.
    """
    for passage_id, source in sources:
        action: JSON = {"_id": passage_id}
        if index is not None:
            action = {"_index": index, **action}
        yield json.dumps({"index": action}, ensure_ascii=False)
        yield json.dumps(source, ensure_ascii=False)


def unique_by_id(documents: Sequence[Document]) -> list[Document]:
    """The documents, the last of each id only (an id given twice replaces the first)."""
    last = {doc.id: n for n, doc in enumerate(documents)}
    return [doc for n, doc in enumerate(documents) if last.get(doc.id) == n]
