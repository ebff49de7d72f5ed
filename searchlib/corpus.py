"""Documents, corpus loaders and passage splitting.

Loaders stream: a 200 MB JSONL file never sits in memory. Every text is
NFC-normalised here, once, and stored in that form.

Supported inputs:

* folders (searched recursively) and files of ``.txt`` / ``.md``: the first
  non-empty line is the title, the rest the text; the id is the path relative
  to the folder given, without its suffix;
* ``.jsonl`` and ``.jsonl.gz``: one ``{"id", "title", "text", ...}`` object a
  line; other keys are kept as extra fields.
"""

from __future__ import annotations

import gzip
import itertools
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from searchlib.analysis import normalize_text
from searchlib.errors import CorpusFormatError

TEXT_SUFFIXES = (".txt", ".md")
JSONL_SUFFIXES = (".jsonl", ".jsonl.gz")


@dataclass(frozen=True, slots=True)
class Document:
    """A document to index.

    Attributes:
        id: unique id (the last document given with an id wins).
        title: title, searched with a higher weight than the text.
        text: body text, NFC.
        fields: extra JSON-compatible values, stored and returned with hits.
    """

    id: str
    title: str
    text: str
    fields: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def create(
        cls, id: str, title: str, text: str, fields: Mapping[str, Any] | None = None
    ) -> Document:
        """Build a document, NFC-normalising title and text."""
        return cls(str(id), normalize_text(title), normalize_text(text), dict(fields or {}))


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


PASSAGE_CHARS = 1000
"""Default largest passage, in characters (about 150 French words)."""


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


def load_corpus(*sources: str | Path) -> Iterator[Document]:
    """Stream the documents of files and folders, in a stable order.

    Raises:
        CorpusFormatError: a file is malformed (with file, line and byte offset).
        FileNotFoundError: a source does not exist.
    """
    for source in sources:
        path = Path(source)
        if path.is_dir():
            files = sorted(p for p in path.rglob("*") if p.is_file() and _loadable(p))
            for file in files:
                yield from _load_file(file, file.relative_to(path))
        elif path.is_file():
            if not _loadable(path):
                raise CorpusFormatError(
                    path, "unsupported file type (expected .txt, .md, .jsonl or .jsonl.gz)"
                )
            yield from _load_file(path, Path(path.name))
        else:
            raise FileNotFoundError(f"no such file or folder: {path}")


def _loadable(path: Path) -> bool:
    name = path.name.lower()
    return name.endswith(TEXT_SUFFIXES + JSONL_SUFFIXES) and not name.startswith(".")


def _load_file(path: Path, relative: Path) -> Iterator[Document]:
    name = path.name.lower()
    if name.endswith(JSONL_SUFFIXES):
        yield from load_jsonl(path)
    else:
        yield load_text_file(path, doc_id=_strip_suffix(relative).as_posix())


def _strip_suffix(path: Path) -> Path:
    return path.with_suffix("") if path.suffix else path


def _decode(path: Path, data: bytes, line: int | None = None, base: int = 0) -> str:
    if b"\x00" in data:
        raise CorpusFormatError(
            path, "binary data (NUL byte)", line=line, offset=base + data.index(b"\x00")
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise CorpusFormatError(
            path, f"invalid UTF-8 ({e.reason})", line=line, offset=base + e.start
        ) from e


def load_text_file(path: str | Path, *, doc_id: str | None = None) -> Document:
    """Read a ``.txt``/``.md`` file: first non-empty line is the title.

    Raises:
        CorpusFormatError: empty, binary or not UTF-8.
    """
    path = Path(path)
    data = path.read_bytes()
    text = _decode(path, data)
    if data.startswith(b"\xef\xbb\xbf"):
        text = text[1:]
    if not text.strip():
        raise CorpusFormatError(path, "empty file", line=1)
    text = normalize_text(text.replace("\r\n", "\n"))
    lines = text.split("\n")
    first = next(i for i, line in enumerate(lines) if line.strip())
    title = lines[first].strip().lstrip("#").strip()
    body = "\n".join(lines[first + 1 :]).strip("\n")
    return Document(doc_id or _strip_suffix(Path(path.name)).as_posix(), title, body, {})


def load_jsonl(path: str | Path) -> Iterator[Document]:
    """Stream documents from a ``.jsonl`` or ``.jsonl.gz`` file.

    Each line is an object with ``id`` and ``text`` (strings), optional
    ``title``; other keys become :attr:`Document.fields`. Blank lines are skipped.

    Raises:
        CorpusFormatError: with the file and line of the first bad record.
    """
    path = Path(path)
    opener: Any = gzip.open if path.name.lower().endswith(".gz") else open
    offset = 0
    seen_any = False
    try:
        with opener(path, "rb") as f:
            for lineno, raw in enumerate(f, start=1):
                line = _decode(path, raw, lineno, offset)
                offset += len(raw)
                if not line.strip():
                    continue
                seen_any = True
                yield _record(path, lineno, line)
    except (OSError, EOFError) as e:
        if isinstance(e, FileNotFoundError):
            raise
        raise CorpusFormatError(path, f"cannot read: {e}") from e
    if not seen_any:
        raise CorpusFormatError(path, "empty file", line=1)


def _record(path: Path, lineno: int, line: str) -> Document:
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as e:
        raise CorpusFormatError(
            path, f"malformed JSON ({e.msg}, column {e.colno})", line=lineno
        ) from e
    if not isinstance(obj, dict):
        raise CorpusFormatError(path, "a record must be a JSON object", line=lineno)
    doc_id = obj.pop("id", None)
    if isinstance(doc_id, int) and not isinstance(doc_id, bool):
        doc_id = str(doc_id)
    if not isinstance(doc_id, str) or not doc_id.strip():
        raise CorpusFormatError(path, 'missing or empty "id"', line=lineno)
    text = obj.pop("text", None)
    if not isinstance(text, str):
        raise CorpusFormatError(path, 'missing "text" (a string)', line=lineno)
    title = obj.pop("title", "")
    if not isinstance(title, str):
        raise CorpusFormatError(path, '"title" must be a string', line=lineno)
    return Document(doc_id.strip(), normalize_text(title), normalize_text(text), obj)


def seed_dir() -> Path:
    """The folder of the bundled seed corpus (inside the installed package)."""
    packaged = resources.files("searchlib") / "seeds"
    if packaged.is_dir():
        return Path(str(packaged))
    return Path(__file__).resolve().parent.parent / "seeds"


def seed_documents() -> Iterable[Document]:
    """The bundled seed corpus (a French news article)."""
    return load_corpus(seed_dir())
