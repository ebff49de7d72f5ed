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
from typing import Any

from searchlib.documents import (
    PASSAGE_CHARS,
    Document,
    check_document,
    repeated_title,
    split_passages,
)
from searchlib.fields import Date, FieldType, convert_values, format_date

JSON = dict[str, Any]


def cluster_values(doc: Document, fields: Mapping[str, FieldType]) -> dict[str, Any]:
    """``doc``'s extra fields as the cluster indexes them: declared values
    checked and converted by :func:`searchlib.fields.convert_values` (as the
    local index does: what one refuses, the other refuses), dates written as
    ISO 8601 date-times in UTC; other fields as given.

    Raises:
        DocumentError: a declared value that does not fit its field's type.
    """
    out = dict(doc.fields) if doc.fields else {}
    for name, value in convert_values(doc.id, doc.fields, fields).items():
        if value is None:
            continue
        out[name] = format_date(value) if isinstance(fields[name], Date) else value
    return out


def passage_sources(
    doc: Document,
    *,
    passage_chars: int = PASSAGE_CHARS,
    fields: Mapping[str, FieldType] | None = None,
) -> list[tuple[str, JSON]]:
    """``(passage id, _source)`` of each passage of ``doc``.

    Raises:
        DocumentError: what searchlib's own index would refuse (an empty id,
            a lone surrogate, fields that are not JSON), or a declared field's
            value of the wrong kind.
    """
    check_document(doc)
    values = cluster_values(doc, fields) if fields else dict(doc.fields or {})
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
        if values:
            source["fields"] = values
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
