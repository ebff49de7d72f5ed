"""Corpus loaders: folders of text files and JSONL into documents.

Loaders stream: a JSONL file is read a line at a time, never whole. Every text is
NFC-normalised here, once, and stored in that form.

Supported inputs:

* folders (searched recursively) and files of ``.txt`` / ``.md``: the first
  non-empty line is the title, the rest the text; the id is the path relative
  to the folder given, without its suffix;
* ``.jsonl`` and ``.jsonl.gz``: one ``{"id", "title", "text", ...}`` object a
  line; other keys are kept as extra fields;
* ``-`` (standard input), and named sources that are not regular files (a
  pipe such as ``/dev/stdin`` or ``<(...)``, a FIFO): JSONL (gzip-compressed
  or not), read once as it comes (a ``.txt``/``.md`` name: one text document).
"""

from __future__ import annotations

import contextlib
import gzip
import json
import re
import sys
import warnings
import zlib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import IO, Any, Literal

from searchlib.documents import Document, check_document
from searchlib.errors import CorpusFormatError, CorpusWarning, DocumentError
from searchlib.fields import FieldType, check_declarations

TEXT_SUFFIXES = (".txt", ".md")
JSONL_SUFFIXES = (".jsonl", ".jsonl.gz")


ErrorMode = Literal["strict", "skip"]
"""What a loader does with a bad file or record: raise, or skip it and report it."""

EncodingMode = Literal["strict", "replace", "fallback"]
"""What a loader does with invalid UTF-8: read French Windows-1252 text as such and
report it (``fallback``, the default, as the CLI does), raise (``strict``), or
replace bad bytes with U+FFFD and report it (``replace``)."""

ENCODING_OPTIONS: dict[str, EncodingMode] = {
    "auto": "fallback",
    "utf-8": "strict",
    "replace": "replace",
}
"""The command line's ``--encoding`` words and the mode each stands for."""

_SNIFF_BYTES = 8192
_SURROGATE = re.compile(r"[\ud800-\udfff]")


@dataclass(frozen=True, slots=True)
class Problem:
    """A corpus problem a loader worked around.

    Attributes:
        path: the file.
        message: what was wrong.
        action: ``skipped`` (the file or record was left out), ``replaced``
            (bad bytes became U+FFFD), ``decoded`` (not UTF-8, read as
            Windows-1252) or ``duplicate`` (an id seen before: the last
            document with an id wins).
        line: 1-based line number, or ``None``.
        offset: byte offset in the file (for encoding errors), or ``None``.
    """

    path: str
    message: str
    action: Literal["skipped", "replaced", "decoded", "duplicate"]
    line: int | None = None
    offset: int | None = None

    def __str__(self) -> str:
        where = self.path + (f":{self.line}" if self.line is not None else "")
        where += f" (byte {self.offset})" if self.offset is not None else ""
        return f"{where}: {self.message} ({self.action})"


@dataclass(slots=True)
class LoadReport:
    """What a load met, filled in as documents stream (pass one as ``report=``).

    Without a report, each problem is issued as a
    :class:`~searchlib.errors.CorpusWarning` instead (the library never prints).

    Attributes:
        problems: every problem, in the order met.
        documents: documents yielded so far.
        files: files read (skipped ones included).
        ignored_files: files in folders left out for their suffix (silently).
    """

    problems: list[Problem] = field(default_factory=list)
    documents: int = 0
    files: int = 0
    ignored_files: int = 0

    def of(self, action: str) -> list[Problem]:
        """The problems with this action (``skipped``, ``replaced``, ``duplicate``)."""
        return [p for p in self.problems if p.action == action]


class _Context:
    """Options and reporting shared by the loaders of one call."""

    def __init__(
        self,
        errors: ErrorMode,
        encoding_errors: EncodingMode,
        report: LoadReport | None,
        fields: Mapping[str, FieldType] | None = None,
    ) -> None:
        if errors not in ("strict", "skip"):
            raise ValueError(f"errors must be 'strict' or 'skip', not {errors!r}")
        if encoding_errors not in ("strict", "replace", "fallback"):
            raise ValueError(
                "encoding_errors must be 'strict', 'replace' or 'fallback', "
                f"not {encoding_errors!r}"
            )
        self.errors = errors
        self.encoding_errors = encoding_errors
        self.report = report
        self.fields = check_declarations(fields)
        self.seen: set[str] | None = None

    def problem(self, problem: Problem) -> None:
        if self.report is not None:
            self.report.problems.append(problem)
        else:
            warnings.warn(CorpusWarning(problem), stacklevel=2)

    def skip_or_raise(self, error: CorpusFormatError) -> None:
        """Raise ``error`` in strict mode, else report it as skipped."""
        if self.errors == "strict":
            raise error
        self.problem(Problem(error.path, error.message, "skipped", error.line, error.offset))

    def emit(self, doc: Document, path: Path, line: int | None) -> Document:
        if self.seen is not None:
            if doc.id in self.seen:
                message = f"duplicate id {doc.id!r} (the last document with it wins)"
                self.problem(Problem(str(path), message, "duplicate", line))
            else:
                self.seen.add(doc.id)
        if self.report is not None:
            self.report.documents += 1
        return doc


def load_corpus(
    *sources: str | Path,
    errors: ErrorMode = "strict",
    encoding_errors: EncodingMode = "fallback",
    report: LoadReport | None = None,
    follow_links: bool = False,
    fields: Mapping[str, FieldType] | None = None,
) -> Iterator[Document]:
    """Stream the documents of files and folders, in a stable order.

    Inside a folder, only ``.txt``, ``.md``, ``.jsonl`` and ``.jsonl.gz``
    files are read (others are left out silently); binary files (a NUL byte
    in their first 8 KB) and empty files are skipped with a report. A
    document id met twice is reported; :meth:`Index.add
    <searchlib.index.Index.add>` keeps the last one.

    Args:
        sources: files and folders; ``-`` reads standard input, and a
            named source that is not a regular file (``/dev/stdin``, a
            pipe, a FIFO) is read as it comes: both as JSONL (see the
            module's documentation).
        errors: ``"strict"`` raises on the first bad file or record;
            ``"skip"`` leaves it out and reports it.
        encoding_errors: ``"fallback"`` (the default, the CLI's ``--encoding
            auto``) reads a file (or JSONL line) that is not UTF-8 as
            Windows-1252 when every byte fits and the result reads as French
            (accented letters, French punctuation), and reports it; otherwise
            it is an error as in strict mode. ``"strict"`` raises on invalid
            UTF-8 (naming the file and byte offset); ``"replace"`` replaces
            bad bytes with U+FFFD and reports it.
        report: collects problems and counts; without one, problems are
            issued as :class:`~searchlib.errors.CorpusWarning`.
        follow_links: read files reached through symbolic links that lead
            out of the folder given (by default they are skipped and
            reported: a corpus folder never reads ``/etc/...`` by accident).
        fields: the declared fields of the index the documents go to (as
            :attr:`Index.fields <searchlib.index.Index.fields>`): a record
            with a value its field cannot take (``"pages": "deux"`` for a
            number, a bad date, a list for a single keyword) is a bad record
            like any other, named by file, line and field: refused, or
            skipped with ``errors="skip"``, instead of making
            :meth:`Index.add <searchlib.index.Index.add>` refuse the batch.

    Raises:
        CorpusFormatError: a file is malformed (with file, line and byte
            offset), in strict mode.
        FileNotFoundError: a source does not exist.
        TypeError, ValueError: malformed ``fields``.
    """
    ctx = _Context(errors, encoding_errors, report, fields)
    ctx.seen = set()
    for source in sources:
        if str(source) == "-":
            stdin = getattr(sys.stdin, "buffer", None)
            if stdin is None:
                raise CorpusFormatError("<stdin>", "no standard input to read")
            yield from _stream(Path("<stdin>"), stdin, ctx)
            continue
        path = Path(source)
        if path.is_dir():
            root = path.resolve()
            for file in sorted(p for p in path.rglob("*") if p.is_file()):
                if not _loadable(file):
                    if report is not None and not file.name.startswith("."):
                        report.ignored_files += 1
                    continue
                if not follow_links and not file.resolve().is_relative_to(root):
                    message = "a symbolic link out of the folder (follow_links to read it)"
                    ctx.problem(Problem(str(file), message, "skipped"))
                    continue
                yield from _load_file(file, file.relative_to(path), ctx, in_folder=True)
        elif path.is_file():
            if not _loadable(path) and _loadable(path.resolve()):
                path = path.resolve()  # /dev/stdin < corpus.jsonl
            if not _loadable(path):
                raise CorpusFormatError(
                    path, "unsupported file type (expected .txt, .md, .jsonl or .jsonl.gz)"
                )
            yield from _load_file(path, Path(path.name), ctx, in_folder=False)
        elif path.exists():  # a pipe, a FIFO, a device: read once, as it comes
            if path.name.lower().endswith(TEXT_SUFFIXES):
                yield from _load_file(path, Path(path.name), ctx, in_folder=False, sniff=False)
            else:
                with path.open("rb") as stream:
                    yield from _stream(path, stream, ctx)
        else:
            raise FileNotFoundError(f"no such file or folder: {path}")


def _loadable(path: Path) -> bool:
    name = path.name.lower()
    return name.endswith(TEXT_SUFFIXES + JSONL_SUFFIXES) and not name.startswith(".")


def _load_file(
    path: Path, relative: Path, ctx: _Context, in_folder: bool, *, sniff: bool = True
) -> Iterator[Document]:
    if ctx.report is not None:
        ctx.report.files += 1
    try:
        nul = _sniff_nul(path) if sniff else None
    except CorpusFormatError as e:
        ctx.skip_or_raise(e)
        return
    try:
        if nul is not None:
            raise _UnwantedFile("binary file (NUL byte)", offset=nul)
        if path.name.lower().endswith(JSONL_SUFFIXES):
            yield from _jsonl(path, ctx, in_folder)
        else:
            doc = _text_file(path, _strip_suffix(relative).as_posix(), ctx)
            yield ctx.emit(doc, path, None)
    except _UnwantedFile as e:
        if in_folder:  # a stray empty or binary file does not stop a folder
            ctx.problem(Problem(str(path), e.message, "skipped", e.line, e.offset))
        else:
            ctx.skip_or_raise(e.error(path))
    except CorpusFormatError as e:  # a whole file is unreadable
        ctx.skip_or_raise(e)


def _stream(path: Path, stream: IO[bytes], ctx: _Context) -> Iterator[Document]:
    """JSONL from a stream read once (standard input, a pipe): gzip-compressed
    when it starts as gzip does, or its name ends in ``.gz``."""
    if ctx.report is not None:
        ctx.report.files += 1
    peek = getattr(stream, "peek", None)
    head = peek(2)[:2] if callable(peek) else b""
    lines: Iterable[bytes] = stream
    if head == b"\x1f\x8b" or path.name.lower().endswith(".gz"):
        lines = gzip.GzipFile(fileobj=stream, mode="rb")
    try:
        yield from _jsonl(path, ctx, in_folder=False, lines=lines)
    except _UnwantedFile as e:
        ctx.skip_or_raise(e.error(path))


def _sniff_nul(path: Path) -> int | None:
    """Offset of a NUL byte in the first 8 KB (of the decompressed data), or ``None``."""
    opener: Any = gzip.open if path.name.lower().endswith(".gz") else open
    try:
        with opener(path, "rb") as f:
            head: bytes = f.read(_SNIFF_BYTES)
    except (OSError, EOFError, zlib.error) as e:
        raise CorpusFormatError(path, f"cannot read: {e}") from e
    index = head.find(b"\x00")
    return None if index == -1 else index


def _strip_suffix(path: Path) -> Path:
    return path.with_suffix("") if path.suffix else path


class _UnwantedFile(Exception):
    """An empty or binary file: skipped in a folder, an error when named."""

    def __init__(self, message: str, line: int | None = None, offset: int | None = None) -> None:
        super().__init__(message)
        self.message, self.line, self.offset = message, line, offset

    def error(self, path: Path) -> CorpusFormatError:
        return CorpusFormatError(path, self.message, line=self.line, offset=self.offset)


def _decode(
    path: Path,
    data: bytes,
    line: int | None = None,
    base: int = 0,
    ctx: _Context | None = None,
) -> str:
    if b"\x00" in data:
        raise CorpusFormatError(
            path, "binary data (NUL byte)", line=line, offset=base + data.index(b"\x00")
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        error = CorpusFormatError(
            path, f"invalid UTF-8 ({e.reason})", line=line, offset=base + e.start
        )
        if ctx is not None and ctx.encoding_errors == "fallback":
            text = windows_1252(data)
            if text is not None:
                message = f"not UTF-8 (byte {base + e.start}): read as Windows-1252"
                ctx.problem(Problem(error.path, message, "decoded", line))
                return text
        if ctx is None or ctx.encoding_errors != "replace":
            raise error from e
        ctx.problem(Problem(error.path, error.message, "replaced", line, error.offset))
        return data.decode("utf-8", "replace")


# Characters beyond ASCII that French text written in Windows-1252 holds.
_FRENCH_8BIT = frozenset("àâäçéèêëîïôöùûüÿœæÀÂÄÇÉÈÊËÎÏÔÖÙÛÜŸŒÆ«»‘’“”…–—€°·²³§µ\u00a0")


def windows_1252(data: bytes) -> str | None:
    """``data`` read as Windows-1252 if it reads as French, else ``None``.

    Every byte must map to a character, and at least 90 % of the characters
    beyond ASCII must be ones French uses (accented letters, ligatures,
    French quotes and dashes): text in another 8-bit encoding, or binary
    data, does not pass.

    Example:
        >>> windows_1252("Le comité d’entreprise".encode("cp1252"))
        'Le comité d’entreprise'
        >>> windows_1252("Привет".encode("cp1251")) is None
        True
    """
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError:
        return None
    high = [c for c in text if ord(c) > 127]
    if not high:
        return text
    french = sum(c in _FRENCH_8BIT for c in high)
    return text if french >= 0.9 * len(high) else None


def load_text_file(
    path: str | Path,
    *,
    doc_id: str | None = None,
    encoding_errors: EncodingMode = "fallback",
    report: LoadReport | None = None,
) -> Document:
    """Read a ``.txt``/``.md`` file: first non-empty line is the title.

    Args:
        path: the file.
        doc_id: the id (default: the file name without its suffix).
        encoding_errors: as for :func:`load_corpus` (by default, French
            Windows-1252 text is read so and reported).
        report: where replacements are reported (else as warnings).

    Raises:
        CorpusFormatError: empty, binary, or neither UTF-8 nor (unless
            strict) French Windows-1252.
    """
    path = Path(path)
    ctx = _Context("strict", encoding_errors, report)
    try:
        return _text_file(path, doc_id or _strip_suffix(Path(path.name)).as_posix(), ctx)
    except _UnwantedFile as e:
        raise e.error(path) from None


def _text_file(path: Path, doc_id: str, ctx: _Context) -> Document:
    data = path.read_bytes()
    if b"\x00" in data:
        raise _UnwantedFile("binary file (NUL byte)", offset=data.index(b"\x00"))
    text = _decode(path, data, ctx=ctx)
    if data.startswith(b"\xef\xbb\xbf"):
        text = text[1:]
    if not text.strip():
        raise _UnwantedFile("empty file", line=1)
    text = text.replace("\r\n", "\n")
    lines = text.split("\n")
    first = next(i for i, line in enumerate(lines) if line.strip())
    title = lines[first].strip().lstrip("#").strip()
    body = "\n".join(lines[first + 1 :]).strip("\n")
    return Document(doc_id, title, body, {})


def load_jsonl(
    path: str | Path,
    *,
    errors: ErrorMode = "strict",
    encoding_errors: EncodingMode = "fallback",
    report: LoadReport | None = None,
    fields: Mapping[str, FieldType] | None = None,
) -> Iterator[Document]:
    """Stream documents from a ``.jsonl`` or ``.jsonl.gz`` file.

    Each line is an object with ``id`` and ``text`` (strings), optional
    ``title``; other keys become :attr:`Document.fields`. Blank lines are
    skipped, and so is a UTF-8 byte order mark. ``errors``,
    ``encoding_errors``, ``report`` and ``fields`` work as in :func:`load_corpus`.

    Raises:
        CorpusFormatError: with the file and line of the first bad record
            (in strict mode).
    """
    path = Path(path)
    ctx = _Context(errors, encoding_errors, report, fields)
    try:
        yield from _jsonl(path, ctx, in_folder=False)
    except _UnwantedFile as e:
        ctx.skip_or_raise(e.error(path))


def _jsonl(
    path: Path, ctx: _Context, in_folder: bool, lines: Iterable[bytes] | None = None
) -> Iterator[Document]:
    """The records of JSONL file ``path`` (its ``lines`` when given: a stream read once)."""
    opener: Any = gzip.open if path.name.lower().endswith(".gz") else open
    offset = 0
    seen_any = False
    lineno = 0
    try:
        with contextlib.ExitStack() as stack:
            f = lines if lines is not None else stack.enter_context(opener(path, "rb"))
            for lineno, line in enumerate(f, start=1):
                base = offset
                offset += len(line)
                bom = 3 if lineno == 1 and line.startswith(b"\xef\xbb\xbf") else 0
                raw = line[bom:]
                if not raw.strip():
                    continue
                seen_any = True
                try:
                    text = _decode(path, raw, lineno, base + bom, ctx)
                    doc = _record(path, lineno, text, ctx)
                except CorpusFormatError as e:
                    ctx.skip_or_raise(e)
                    continue
                yield ctx.emit(doc, path, lineno)
    except (OSError, EOFError, zlib.error) as e:
        if isinstance(e, FileNotFoundError) and not in_folder:
            raise
        # A truncated or corrupt .gz: the records read so far stand.
        error = CorpusFormatError(path, f"cannot read: {e}", line=lineno + 1 if lineno else None)
        ctx.skip_or_raise(error)
        return
    if not seen_any:
        raise _UnwantedFile("empty file", line=1)


def _record(path: Path, lineno: int, line: str, ctx: _Context) -> Document:
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as e:
        raise CorpusFormatError(
            path, f"malformed JSON ({e.msg}, column {e.colno})", line=lineno
        ) from e
    except RecursionError as e:  # [[[[... nested thousands deep
        raise CorpusFormatError(path, "malformed JSON (nested too deeply)", line=lineno) from e
    except ValueError as e:  # an integer of more digits than Python converts
        raise CorpusFormatError(path, f"malformed JSON ({e})", line=lineno) from e
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
    doc_id, title, text = (_no_surrogates(path, lineno, s, ctx) for s in (doc_id, title, text))
    doc = Document(doc_id.strip(), title, text, obj)
    try:
        # What the index would refuse is refused here, so skip mode skips it
        # instead of loading a record that makes Index.add refuse the batch.
        check_document(doc)
    except DocumentError as e:
        raise CorpusFormatError(path, str(e), line=lineno) from e
    for name, kind in ctx.fields.items():
        value = obj.get(name)
        try:
            kind.convert(value)
        except ValueError as e:
            shown = repr(value)
            if len(shown) > 80:
                shown = shown[:77] + "..."
            raise CorpusFormatError(
                path,
                f"document {doc.id!r}: field {name!r} ({kind.describe()}) cannot take {shown}: {e}",
                line=lineno,
            ) from None
    return doc


def _no_surrogates(path: Path, lineno: int, value: str, ctx: _Context) -> str:
    """JSON escapes can spell lone surrogates (``"\\ud800"``), which are not text."""
    found = _SURROGATE.search(value)
    if found is None:
        return value
    message = f"lone surrogate \\u{ord(found.group()):04x} in a JSON string"
    if ctx.encoding_errors == "strict":
        raise CorpusFormatError(path, message, line=lineno)
    ctx.problem(Problem(str(path), message, "replaced", lineno))
    return _SURROGATE.sub("\ufffd", value)


def seed_dir() -> Path:
    """The folder of the bundled seed corpus (inside the installed package)."""
    packaged = resources.files("searchlib") / "seeds"
    if packaged.is_dir():
        return Path(str(packaged))
    return Path(__file__).resolve().parents[2] / "seeds"


def seed_documents() -> Iterable[Document]:
    """The bundled seed corpus (a French news article)."""
    return load_corpus(seed_dir())
