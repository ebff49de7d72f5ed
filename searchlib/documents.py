"""Documents and passages: what goes into an index, and how it is cut.

A :class:`Document` is an id, a title, a text and extra fields; it is cut
into :class:`Passage` objects (:func:`split_passages`), the unit that is
indexed, ranked and highlighted. :func:`check_document` refuses, before any
of a batch is written, what the index could not store.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from searchlib.analysis.analyzer import normalize_text
from searchlib.errors import DocumentError


@dataclass(frozen=True, slots=True)
class Document:
    """A document to index.

    Attributes:
        id: unique id (the last document given with an id wins).
        title: title, searched with a higher weight than the text (NFC).
        text: body text (NFC: any other form given is normalised).
        fields: extra JSON-compatible values, stored and returned with hits.
    """

    id: str
    title: str
    text: str
    fields: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # The one place every document passes: id, title and text are stored
        # and tokenized in NFC, whatever form they were given in (a value that
        # is not a string is left for check_document to refuse).
        for name in ("id", "title", "text"):
            value = getattr(self, name)
            if isinstance(value, str):
                object.__setattr__(self, name, normalize_text(value))

    @classmethod
    def create(
        cls, id: str, title: str, text: str, fields: Mapping[str, Any] | None = None
    ) -> Document:
        """Build a document from any values: the id made a string, fields copied."""
        return cls(str(id), title, text, dict(fields or {}))


@dataclass(frozen=True, slots=True)
class Passage:
    """A slice of a document's text, the unit that is indexed and ranked.

    ``start`` is the offset of ``text`` in the document's text; the passages of a
    document are contiguous, so their texts concatenate back to it.
    """

    doc_id: str
    position: int
    start: int
    text: str

    @property
    def id(self) -> str:
        """``doc_id#n``, ``n`` counting passages from 1."""
        return f"{self.doc_id}#{self.position + 1}"


_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n\s*")
_LINE_BREAK = re.compile(r"\n\s*")
_SENTENCE_END = re.compile(r"[.!?…»]\s+")


TITLE_REPEAT_CHARS = 1000
"""Most characters of a title stored and indexed with each passage after the first.

The first passage holds the whole title; the others repeat it (it is
searched and shown with every passage) cut to this, at a word boundary, so
a huge title is not multiplied by the number of passages."""


def repeated_title(title: str) -> str:
    """``title`` as passages after the first repeat it (see :data:`TITLE_REPEAT_CHARS`).

    Example:
        >>> repeated_title("Code du travail")
        'Code du travail'
        >>> len(repeated_title("mot " * 1000)) <= TITLE_REPEAT_CHARS
        True
    """
    if len(title) <= TITLE_REPEAT_CHARS:
        return title
    cut = title.rfind(" ", 0, TITLE_REPEAT_CHARS - 1)
    return title[: cut if cut > TITLE_REPEAT_CHARS // 2 else TITLE_REPEAT_CHARS - 1] + "…"


PASSAGE_CHARS = 1000
"""Default largest passage, in characters (about 150 French words)."""


def rebuilt(doc_id: str, parts: Sequence[Mapping[str, Any]]) -> Document:
    """The document whose stored passages, in order, are ``parts`` (each with
    its ``title``, ``text`` and ``fields``), as both backends give it back.

    >>> rebuilt("a", [{"title": "T", "text": "Un. "}, {"title": "T", "text": "Deux."}]).text
    'Un. Deux.'
    """
    first = parts[0]
    text = "".join(str(p.get("text") or "") for p in parts)
    return Document(doc_id, str(first.get("title") or ""), text, dict(first.get("fields") or {}))


def split_passages(
    doc_id: str, text: str, *, max_chars: int = PASSAGE_CHARS, min_chars: int = 120
) -> list[Passage]:
    """Split a text into passages of whole paragraphs.

    A text of at most ``max_chars`` characters stays whole. A longer one is cut
    at paragraph breaks (blank lines, or single newlines when it has no blank
    line) and consecutive paragraphs are packed into passages of at most
    ``max_chars``; a paragraph longer than that is cut at sentence ends, and a
    piece shorter than ``min_chars`` (a heading) joins the paragraph after it.

    Example:
        >>> [(p.id, p.start) for p in split_passages("d", "Titre\\n\\n" + "Un mot. " * 300)]
        [('d#1', 0), ('d#2', 1007), ('d#3', 2007)]
    """
    if len(text) <= max_chars:
        return [Passage(doc_id, 0, 0, text)]
    breaks = _PARAGRAPH_BREAK if _PARAGRAPH_BREAK.search(text) else _LINE_BREAK
    cuts = [m.end() for m in breaks.finditer(text)]
    bounds = [0, *[c for c in cuts if 0 < c < len(text)], len(text)]
    pieces: list[tuple[int, int]] = []
    for a, b in itertools.pairwise(bounds):
        if b - a > max_chars:
            pieces.extend(_split_long(text, a, b, max_chars))
        else:
            pieces.append((a, b))
    # Headings (short pieces) join the paragraph that follows them...
    paragraphs: list[tuple[int, int]] = []
    pending: int | None = None
    for a, b in pieces:
        begin = a if pending is None else pending
        pending = begin if len(text[begin:b].strip()) < min_chars else None
        if pending is None:
            paragraphs.append((begin, b))
    if pending is not None:
        if paragraphs:
            paragraphs[-1] = (paragraphs[-1][0], len(text))
        else:
            paragraphs.append((pending, len(text)))
    # ...then consecutive paragraphs are packed up to max_chars.
    packed: list[tuple[int, int]] = []
    start, end = paragraphs[0]
    for a, b in paragraphs[1:]:
        if b - start <= max_chars:
            end = b
        else:
            packed.append((start, end))
            start, end = a, b
    packed.append((start, end))
    return [Passage(doc_id, n, a, text[a:b]) for n, (a, b) in enumerate(packed)]


def _split_long(text: str, a: int, b: int, max_chars: int) -> Iterator[tuple[int, int]]:
    """Cut ``text[a:b]`` at sentence ends (or spaces) into pieces of at most ``max_chars``."""
    while b - a > max_chars:
        window = text[a : a + max_chars]
        cut = 0
        for m in _SENTENCE_END.finditer(window):
            if m.end() > max_chars // 3:
                cut = m.end()
        if not cut:
            cut = window.rfind(" ") + 1 or max_chars
        yield a, a + cut
        a += cut
    if a < b:
        yield a, b


_MAX_FIELD_DEPTH = 64
_SURROGATE = re.compile(r"[\ud800-\udfff]")


def check_document(doc: Document) -> None:
    """Refuse what Whoosh would choke on in the middle of a batch."""
    if not isinstance(doc.id, str) or not doc.id:
        raise DocumentError(f"a document id must be a non-empty string, not {doc.id!r}")
    for name in ("id", "title", "text"):
        value = getattr(doc, name)
        if not isinstance(value, str):
            raise DocumentError(f"document {doc.id!r}: {name} must be a string")
        if _SURROGATE.search(value):
            raise DocumentError(f"document {doc.id!r}: {name} holds a lone surrogate (not text)")
    if doc.fields:
        _check_json(doc.id, doc.fields, 0)


def _check_json(doc_id: str, value: object, depth: int) -> None:
    """Extra fields are stored, and read back only as JSON-like data."""
    if depth > _MAX_FIELD_DEPTH:
        raise DocumentError(f"document {doc_id!r}: fields nested too deeply")
    if value is None or isinstance(value, bool | int | float):
        return
    if isinstance(value, str):
        if _SURROGATE.search(value):
            raise DocumentError(f"document {doc_id!r}: a field holds a lone surrogate")
        return
    if isinstance(value, list | tuple):
        for item in value:
            _check_json(doc_id, item, depth + 1)
        return
    if isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str):
                raise DocumentError(f"document {doc_id!r}: field names must be strings")
            _check_json(doc_id, item, depth + 1)
        return
    raise DocumentError(
        f"document {doc_id!r}: fields must hold JSON-like values, not {type(value).__name__}"
    )


def as_documents(documents: Document | Iterable[Document]) -> Iterator[Document]:
    """The documents of ``documents``: one :class:`Document` (a batch of one),
    or an iterable of them, read lazily as the caller iterates.

    Raises:
        TypeError: ``documents`` is neither (raised at once), or an item is
            not a ``Document`` (raised when reached).
    """
    if isinstance(documents, Document):
        return iter((documents,))
    if isinstance(documents, str | bytes | bytearray | Mapping) or not isinstance(
        documents, Iterable
    ):
        raise TypeError(
            "documents must be a Document or an iterable of Documents, "
            f"not {type(documents).__name__}"
        )
    return _only_documents(documents)


def _only_documents(documents: Iterable[object]) -> Iterator[Document]:
    for n, doc in enumerate(documents, start=1):
        if not isinstance(doc, Document):
            raise TypeError(f"documents must be Documents, not {type(doc).__name__} (item {n})")
        yield doc


def as_ids(doc_ids: str | Iterable[str]) -> list[str]:
    """Document ids, each once, in order: one id (a ``str`` is one id, never
    its characters) or an iterable of ids.

    Example:
        >>> as_ids("abc"), as_ids(["b", "a", "b"])
        (['abc'], ['b', 'a'])

    Raises:
        TypeError: ``doc_ids`` is neither, or an id is not a string.
    """
    if isinstance(doc_ids, str):
        return [doc_ids]
    if isinstance(doc_ids, bytes | bytearray) or not isinstance(doc_ids, Iterable):
        raise TypeError(
            f"doc_ids must be an id (a str) or an iterable of ids, not {type(doc_ids).__name__}"
        )
    ids = list(doc_ids)
    for doc_id in ids:
        if not isinstance(doc_id, str):
            raise TypeError(f"a document id is a str, not {type(doc_id).__name__} ({doc_id!r})")
    return list(dict.fromkeys(ids))
