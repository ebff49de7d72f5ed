"""searchlib's Whoosh storage: the schema, safe reading, writers and commits.

Everything here knows Whoosh 2.7.5's internals; nothing outside
:mod:`searchlib._whoosh` does. The :class:`Store` is the Whoosh side of an
:class:`~searchlib.index.Index`: it opens and creates Whoosh indexes, hands
out searchers and segment writers, and commits.

Reading is safe without touching Whoosh's modules. Every file an index is
read from is opened through searchlib's own storage classes, and the table of
contents is parsed by searchlib (:func:`read_toc`), so:

* the TOC's schema and segments go through :func:`~searchlib._whoosh.safepickle.load_objects`
  with the allow-list :data:`PERSISTED`, which builds Whoosh's segment, codec
  and formats as searchlib's subclasses below: these read postings, term
  infos, stored fields and positions through the plain-data unpickler;
* files hand out :class:`_SafeStructFile` / :class:`_SafeBufferFile`, whose
  ``read_pickle`` is the plain-data unpickler, and compound segment files are
  read in place from their memory map (:class:`~searchlib._whoosh.viewfile.ViewFile`);
* the subclasses pickle themselves under Whoosh's own names, so the files
  written are Whoosh's format, as before.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import re
import shutil
import struct
import tempfile
import time
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import whoosh.index
from whoosh import formats
from whoosh.analysis.tokenizers import IDTokenizer
from whoosh.codec.whoosh3 import (
    STORED_COLUMN,
    W3Codec,
    W3FieldCursor,
    W3LeafMatcher,
    W3PerDocReader,
    W3Segment,
    W3TermInfo,
    W3TermsReader,
)
from whoosh.columns import NumericColumn, VarBytesColumn
from whoosh.fields import ID, NUMERIC, STORED, TEXT, Schema
from whoosh.filedb.compound import CompoundStorage
from whoosh.filedb.filestore import FileStorage, RamStorage
from whoosh.filedb.structfile import BufferFile, StructFile
from whoosh.index import FileIndex, LockError
from whoosh.searching import Searcher
from whoosh.system import _INT_SIZE, emptybytes
from whoosh.writing import SegmentWriter

from searchlib import analysis
from searchlib._whoosh import postingpool, termwriter
from searchlib._whoosh.docwriter import DocumentAdder, JoinedText
from searchlib._whoosh.limits import LimitedSearcher
from searchlib._whoosh.safepickle import Allowed, load_objects, restricted_load, restricted_loads
from searchlib._whoosh.viewfile import ViewFile
from searchlib.documents import (
    PASSAGE_CHARS,
    Document,
    Passage,
    check_document,
    repeated_title,
    split_passages,
)
from searchlib.errors import IndexCorruptError, IndexLockedError, SearchlibError
from searchlib.fields import Date, FieldType, Keyword, Number, convert_values

INDEX_NAME = "searchlib"
"""The Whoosh index name inside an index folder (files ``_searchlib_N.toc``...)."""

TOC_RETRIES = 50
"""Times the latest table of contents is looked for again when a commit of
another process replaced it while it was being opened."""

DATA_ERRORS = (zlib.error, pickle.UnpicklingError, struct.error, EOFError, UnicodeDecodeError)
"""Errors that only damaged index data can cause while reading."""


MISSING = 2**64 - 1
"""The column value of a passage without a value of a declared number or date
field (no real value maps to it: numbers are finite, dates end in 9999)."""


def declared_field(kind: FieldType) -> Any:
    """The Whoosh field of a declared field: a keyword is an ``ID`` (one term
    per value, not stored: the document's fields are), a number a float
    ``NUMERIC``, a date a signed 64-bit ``NUMERIC`` of microseconds; numbers
    and dates have a column of their sortable values (:data:`MISSING` where none)."""
    if isinstance(kind, Keyword):
        return ID()
    column = NumericColumn("Q", default=MISSING)
    if isinstance(kind, Number):
        return NUMERIC(float, sortable=column)
    if isinstance(kind, Date):
        return NUMERIC(int, 64, signed=True, shift_step=8, sortable=column)
    raise TypeError(f"not a field type: {kind!r}")


def make_schema(
    analyzer: analysis.FrenchAnalyzer | None = None,
    fields: Mapping[str, FieldType] | None = None,
) -> Schema:
    """The schema of a searchlib index: one Whoosh document per passage, its
    title and text analysed by ``analyzer`` (default: :class:`FrenchAnalyzer()
    <searchlib.analysis.FrenchAnalyzer>`), the exact form by its
    :meth:`~searchlib.analysis.FrenchAnalyzer.exact_form`; and one Whoosh
    field per declared field (see :func:`declared_field`)."""
    schema = _base_schema(analyzer)
    for name, kind in (fields or {}).items():
        schema.add(name, declared_field(kind))
    return schema


def _base_schema(analyzer: analysis.FrenchAnalyzer | None) -> Schema:
    analyzer = analyzer or analysis.FrenchAnalyzer()
    return Schema(
        id=ID(stored=True, unique=True),
        doc_id=ID(stored=True, sortable=True),
        position=STORED(),  # read back, never searched
        start=STORED(),
        title=TEXT(analyzer=analyzer, stored=True, phrase=True),
        text=TEXT(analyzer=analyzer, stored=True, phrase=True),
        exact=TEXT(analyzer=analyzer.exact_form(), phrase=False),
        fields=STORED(),
    )


def passage_fields(
    doc: Document, passage: Passage, values: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The Whoosh fields of one passage of ``doc`` (the whole title with the
    first passage, a bounded one with the others: see :func:`repeated_title`),
    with the values of its declared fields (see :func:`declared_values`)."""
    title = doc.title if passage.position == 0 else repeated_title(doc.title)
    found = {
        "id": passage.id,
        "doc_id": doc.id,
        "position": passage.position,
        "start": passage.start,
        "title": title,
        "text": passage.text,
        "exact": JoinedText((title, passage.text)),
        "fields": dict(doc.fields) if doc.fields else None,
    }
    if values:
        found.update(values)
    return found


def declared_values(doc: Document, fields: Mapping[str, FieldType]) -> dict[str, Any]:
    """What each declared field indexes for ``doc`` (see
    :func:`searchlib.fields.convert_values`).

    Raises:
        DocumentError: a value does not fit its field's type.
    """
    return convert_values(doc.id, doc.fields, fields)


# -- reading safely: files ---------------------------------------------------------


class _SafeStructFile(StructFile):  # type: ignore[misc]
    """A Whoosh file whose pickles are read as plain data."""

    def read_pickle(self) -> Any:
        return restricted_load(self.file)

    def subset(self, offset: int, length: int, name: str | None = None) -> StructFile:
        from whoosh.filedb.compound import SubFile  # noqa: PLC0415 (Whoosh's own late import)

        return _SafeStructFile(SubFile(self.file, offset, length), name=name or self._name)


class _SafeBufferFile(BufferFile):  # type: ignore[misc]
    """A Whoosh file over a buffer, read in place (no copy) and as plain data."""

    def __init__(self, buf: Any, name: str | None = None, onclose: Any = None) -> None:
        self._buf = buf
        self._name = name
        self.file: Any = ViewFile(buf)
        self.onclose = onclose
        self.is_real = False
        self.is_closed = False

    def read_pickle(self) -> Any:
        return restricted_load(self.file)

    def subset(self, position: int, length: int, name: str | None = None) -> BufferFile:
        return _SafeBufferFile(self.get(position, length), name=name or self._name)


class _SafeCompoundStorage(CompoundStorage):  # type: ignore[misc]
    """A compound segment file whose parts are safe files."""

    def open_file(self, name: str, *args: Any, **kwargs: Any) -> StructFile:
        source = getattr(self, "_source", None)
        if source is not None and not self.is_closed:
            # A view of the memory map, read in place. (Whoosh's own method makes
            # a BufferFile, whose BytesIO copies the whole part: every page of the
            # segment read, and a copy of it allocated, at each opening.)
            offset, length = self.range(name)
            return _SafeBufferFile(memoryview(source)[offset : offset + length], name=name)
        f = super().open_file(name, *args, **kwargs)
        if isinstance(f, BufferFile):
            return _SafeBufferFile(f._buf, name=name)
        return _SafeStructFile(f.file, name=name)


# -- reading safely: Whoosh's persisted objects ---------------------------------------


class _SafeTermInfo(W3TermInfo):  # type: ignore[misc]
    @classmethod
    def from_bytes(cls, s: bytes) -> W3TermInfo:
        st = cls._struct
        if not s[:1] or not s[0]:  # postings elsewhere: no pickle in the bytes
            return W3TermInfo.from_bytes(s)
        # Inlined postings follow the fixed part as a pickle: decode the fixed
        # part through Whoosh as if they were not inlined (flags cleared, a
        # zero pointer), then read the postings as plain data.
        info = W3TermInfo.from_bytes(b"\x00" + s[1 : st.size] + _ZERO_POINTER)
        info._offset = info._length = None
        info._inlined = restricted_loads(s[st.size :])
        return info


_ZERO_POINTER = bytes(struct.calcsize("!qi"))


class _SafeFieldCursor(W3FieldCursor):  # type: ignore[misc]
    def term_info(self) -> W3TermInfo | None:
        if self._pos is None:
            return None
        return _SafeTermInfo.from_bytes(self._tindex.dbfile.get(self._datapos, self._datalen))


class _SafeTermsReader(W3TermsReader):  # type: ignore[misc]
    def cursor(self, fieldname: str, fieldobj: Any) -> W3FieldCursor:
        return _SafeFieldCursor(self._tindex, fieldname, self._keycoder, self._keydecoder, fieldobj)

    def items(self) -> Iterator[tuple[Any, W3TermInfo]]:
        decode = self._keydecoder
        return ((decode(k), _SafeTermInfo.from_bytes(v)) for k, v in self._tindex.items())

    def items_from(self, fieldname: str, prefix: bytes) -> Iterator[tuple[Any, W3TermInfo]]:
        decode = self._keydecoder
        start = self._keycoder(fieldname, prefix)
        return ((decode(k), _SafeTermInfo.from_bytes(v)) for k, v in self._tindex.items_from(start))

    def term_info(self, fieldname: str, tbytes: bytes) -> W3TermInfo:
        key = self._keycoder(fieldname, tbytes)
        try:
            return _SafeTermInfo.from_bytes(self._tindex[key])
        except KeyError:
            from whoosh.reading import TermNotFound  # noqa: PLC0415

            raise TermNotFound(f"No term {fieldname}:{tbytes!r}") from None


class _SafeLeafMatcher(W3LeafMatcher):  # type: ignore[misc]
    def _read_data(self) -> None:
        datalen = self._nextoffset - self._dataoffset
        b = self._postfile.get(self._dataoffset, datalen)
        if self._compression:
            b = zlib.decompress(b)
        self._data = restricted_loads(b)


class _SafePerDocReader(W3PerDocReader):  # type: ignore[misc]
    def stored_fields(self, docnum: int) -> dict[str, Any]:
        reader = self._readers.get("_stored")
        if reader is None:
            if not self.has_column("_stored"):
                return {}
            # The stored-fields column is a pickle column over compressed
            # bytes: read the bytes, unpickle them as plain data here.
            colfile, offset, length = self._get_column_file("_stored")
            self._colfiles["_stored"] = (colfile, offset, length)
            reader = STORED_COLUMN._child.reader(colfile, offset, length, self._doccount)
            self._readers["_stored"] = reader
        v = reader[docnum]
        return restricted_loads(v) if v else {}

    def vector(self, docnum: int, fieldname: str, format_: Any) -> Any:
        if self._vpostfile is None:
            self._prep_vectors()
        offset, length = self._vector_extent(docnum, fieldname)
        if not offset:
            raise SearchlibError(f"field {fieldname!r} has no vector in document {docnum}")
        return _SafeLeafMatcher(self._vpostfile, offset, length, safe_format(format_), byteids=True)


class SafeCodec(W3Codec):  # type: ignore[misc]
    """Whoosh's codec, reading through the classes above; writes without
    per-block field-length statistics (the fast path reads field lengths from
    the per-document column; Whoosh's own bounds only get looser)."""

    def __init__(self) -> None:
        super().__init__()
        self.length_stats = False

    def per_document_reader(self, storage: Any, segment: Any) -> W3PerDocReader:
        return _SafePerDocReader(storage, segment)

    def terms_reader(self, storage: Any, segment: Any) -> W3TermsReader:
        tiname = segment.make_filename(self.TERMS_EXT)
        tilen = storage.file_length(tiname)
        tifile = storage.open_file(tiname)
        postfile = segment.open_file(storage, self.POSTS_EXT)
        return _SafeTermsReader(self, tifile, tilen, postfile)

    def postings_reader(
        self, dbfile: Any, terminfo: Any, format_: Any, term: Any = None, scorer: Any = None
    ) -> Any:
        format_ = safe_format(format_)
        if terminfo.is_inlined():
            return super().postings_reader(dbfile, terminfo, format_, term=term, scorer=scorer)
        offset, length = terminfo.extent()
        return _SafeLeafMatcher(dbfile, offset, length, format_, term=term, scorer=scorer)

    def new_segment(self, storage: Any, indexname: str) -> W3Segment:
        return SafeSegment(self, indexname)


class SafeSegment(W3Segment):  # type: ignore[misc]
    """Whoosh's segment, opening its compound file as safe files."""

    def open_compound_file(self, storage: Any) -> CompoundStorage:
        name = self.make_filename(self.COMPOUND_EXT)
        return _SafeCompoundStorage(storage.open_file(name), use_mmap=storage.supports_mmap)


def _safe_decoders(stock: type) -> dict[str, Any]:
    """Methods decoding a format's pickled value lists as plain data."""

    def read_codes(valuestring: bytes, skip: int) -> Any:
        if not valuestring.endswith(b"."):
            valuestring += b"."
        return restricted_loads(valuestring[skip:])

    def decode_positions(self: Any, valuestring: bytes) -> list[int]:
        position, out = 0, []
        for code in read_codes(valuestring, _INT_SIZE):
            position += code
            out.append(position)
        return out

    def decode_characters(self: Any, valuestring: bytes) -> list[tuple[int, int, int]]:
        position = endchar = 0
        out = []
        for code in read_codes(valuestring, _INT_SIZE):
            position = code[0] + position
            startchar = code[1] + endchar
            endchar = code[2] + startchar
            out.append((position, startchar, endchar))
        return out

    def decode_position_boosts(self: Any, valuestring: bytes) -> list[tuple[int, float]]:
        position, out = 0, []
        for code in read_codes(valuestring, _INT_SIZE + 4):
            position = code[0] + position
            out.append((position, code[1]))
        return out

    methods: dict[str, Any] = {}
    if issubclass(stock, formats.Positions):
        methods["decode_positions"] = decode_positions
    if issubclass(stock, formats.Characters):
        methods["decode_characters"] = decode_characters
    if issubclass(stock, formats.PositionBoosts):
        methods["decode_position_boosts"] = decode_position_boosts
    return methods


_SAFE_FORMATS: dict[type, type] = {
    stock: type(f"Safe{stock.__name__}", (stock,), _safe_decoders(stock))
    for stock in (
        formats.Existence,
        formats.Frequency,
        formats.Positions,
        formats.Characters,
        formats.PositionBoosts,
        formats.CharacterBoosts,
    )
}


def safe_format(format_: Any) -> Any:
    """The same format (sharing its attributes), decoding values as plain data.

    The schema keeps Whoosh's own format objects (they are pickled into every
    table of contents); the matchers that decode postings get this view.
    """
    safe = _SAFE_FORMATS.get(type(format_))
    if safe is None:
        if type(format_) in _SAFE_FORMATS.values():
            return format_
        raise IndexCorruptError(f"unsupported posting format {type(format_).__name__}")
    view: Any = object.__new__(safe)
    view.__dict__ = format_.__dict__
    return view


LEAF_MATCHER = _SafeLeafMatcher
"""The matcher class of a posting list stored in blocks (searchlib's, over Whoosh's)."""

POSITIONS_FORMAT: Any = _SAFE_FORMATS[formats.Positions]
"""The format class matchers of a field with positions carry."""


def stock_segment(segment: W3Segment) -> W3Segment:
    """A copy of ``segment`` as Whoosh's own classes, for pickling: the files
    searchlib writes name Whoosh's classes, as Whoosh writes them."""
    if type(segment) is W3Segment:
        return segment
    out = W3Segment.__new__(W3Segment)
    out.__dict__.update(segment.__dict__)
    codec = W3Codec.__new__(W3Codec)
    codec.__dict__.update(segment._codec.__dict__)
    out._codec = codec
    return out


class _SafeSegmentWriter(SegmentWriter):  # type: ignore[misc]
    """Whoosh's segment writer, writing segments under Whoosh's class names."""

    def _commit_toc(self, segments: list[Any]) -> None:
        super()._commit_toc([stock_segment(s) for s in segments])


# -- the allow-list of the table of contents ------------------------------------------

_SEGMENT_ID = re.compile(r"[0-9a-z]{1,64}")


def _check_segment(state: dict[str, Any]) -> None:
    """A segment names files: its index name and id must be what searchlib writes."""
    if state.get("indexname") != INDEX_NAME:
        raise IndexCorruptError(f"segment of another index: {state.get('indexname')!r}")
    segid = state.get("segid")
    if not isinstance(segid, str) or not _SEGMENT_ID.fullmatch(segid):
        raise IndexCorruptError(f"malformed segment id {segid!r}")
    count = state.get("_doccount", 0)
    if not isinstance(count, int) or count < 0:
        raise IndexCorruptError(f"segment {segid}: malformed document count {count!r}")
    deleted = state.get("_deleted")
    if deleted is not None and not (
        isinstance(deleted, set) and all(isinstance(n, int) and n >= 0 for n in deleted)
    ):
        raise IndexCorruptError(f"segment {segid}: malformed deletions")
    if not isinstance(state.get("compound", False), bool):
        raise IndexCorruptError(f"segment {segid}: malformed compound flag")
    if not isinstance(state.get("_codec"), SafeCodec):
        raise IndexCorruptError(f"segment {segid}: missing codec")


def _check_codec(state: dict[str, Any]) -> None:
    for name, value in state.items():
        if name == "length_stats":
            if not isinstance(value, bool):
                raise IndexCorruptError("codec: malformed length_stats")
        elif not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 1 << 20:
            raise IndexCorruptError(f"codec: malformed {name}")


_NUMERIC_KEYS = frozenset(
    "bits decimal_places default max_value min_value numtype shift_step signed "
    "sortable_typecode".split()
)


def _check_numeric(state: dict[str, Any]) -> None:
    """A declared number or date field, as :func:`declared_field` makes them."""
    number = state.get("numtype") is float and state.get("bits") == 64
    date = state.get("numtype") is int and state.get("bits") == 64 and state.get("signed")
    if not (number or date) or state.get("sortable_typecode") != "Q":
        raise IndexCorruptError("malformed NUMERIC field")
    if state.get("decimal_places") != 0 or state.get("shift_step") not in (4, 8):
        raise IndexCorruptError("malformed NUMERIC field")
    for key in ("min_value", "max_value", "default"):
        if not isinstance(state.get(key), int | float) or isinstance(state.get(key), bool):
            raise IndexCorruptError(f"malformed NUMERIC field ({key})")


def _check_numeric_column(state: dict[str, Any]) -> None:
    if state.get("_typecode") != "Q" or state.get("_default") != MISSING:
        raise IndexCorruptError("malformed numeric column")


def _state_keys(*objects: Any) -> frozenset[str]:
    keys: set[str] = set()
    for obj in objects:
        state = obj.__getstate__() if hasattr(obj, "__getstate__") else vars(obj)
        keys.update(state if isinstance(state, dict) else vars(obj))
    return frozenset(keys)


def _persisted() -> dict[tuple[str, str], Allowed]:
    """What a searchlib TOC may hold: the schema's classes and the segments'."""
    field_keys = frozenset(
        "analyzer column_type format multitoken_query scorable spelling spelling_prefix "
        "stored unique vector".split()
    )
    allowed: dict[tuple[str, str], Allowed] = {
        ("whoosh.fields", "Schema"): Allowed(
            Schema, frozenset({"_fields", "_dyn_fields", "_subfields"}), setstate=True
        ),
        ("whoosh.fields", "ID"): Allowed(ID, field_keys),
        ("whoosh.fields", "STORED"): Allowed(STORED, field_keys),
        ("whoosh.fields", "TEXT"): Allowed(TEXT, field_keys),
        ("whoosh.columns", "VarBytesColumn"): Allowed(
            VarBytesColumn, frozenset({"allow_offsets", "write_offsets_cutoff"})
        ),
        # declared number and date fields (see declared_field)
        ("whoosh.fields", "NUMERIC"): Allowed(
            NUMERIC, field_keys | _NUMERIC_KEYS, check=_check_numeric, setstate=True
        ),
        ("whoosh.columns", "NumericColumn"): Allowed(
            NumericColumn, frozenset({"_typecode", "_default"}), check=_check_numeric_column
        ),
        ("whoosh.analysis.tokenizers", "IDTokenizer"): Allowed(IDTokenizer, frozenset()),
        ("whoosh.codec.whoosh3", "W3Segment"): Allowed(
            SafeSegment,
            frozenset("_codec _deleted _doccount _fieldlengths compound indexname segid".split()),
            check=_check_segment,
        ),
        ("whoosh.codec.whoosh3", "W3Codec"): Allowed(
            SafeCodec,
            frozenset({"_blocklimit", "_compression", "_inlinelimit", "length_stats"}),
            check=_check_codec,
        ),
    }
    for stock in _SAFE_FORMATS:
        allowed["whoosh.formats", stock.__name__] = Allowed(
            stock, frozenset({"field_boost", "options"})
        )
    # searchlib's analysis chain, persisted as searchlib.analysis.<Class>: its
    # state holds its configuration fields (and, for the analyzer, its chain),
    # applied by its own __setstate__, which only sets those fields.
    for name in analysis.PERSISTED_CLASSES:
        cls = getattr(analysis, name)
        fields = frozenset(getattr(cls, "_fields", ()))
        allowed["searchlib.analysis", name] = Allowed(
            cls, fields | _state_keys(cls()), setstate=bool(fields)
        )
    return allowed


_PERSISTED: dict[tuple[str, str], Allowed] | None = None


def persisted() -> dict[tuple[str, str], Allowed]:
    """The allow-list of a TOC (built once, on first use)."""
    global _PERSISTED  # a constant computed once: the classes' own attribute names
    if _PERSISTED is None:
        _PERSISTED = _persisted()
    return _PERSISTED


def read_toc(storage: Any, indexname: str, gen: int | None = None) -> whoosh.index.TOC:
    """Read a TOC through the allow-list, closing the file whatever happens.

    Raises:
        IndexCorruptError: the TOC names a refused object or is malformed.
        whoosh.index.EmptyIndexError: there is no TOC.
        FileNotFoundError: a writer just replaced the TOC (try again).
    """
    TOC = whoosh.index.TOC
    if gen is None:
        gen = TOC._latest_generation(storage, indexname)
        if gen < 0:
            raise whoosh.index.EmptyIndexError(f"no index {indexname!r} in {storage!r}")
    name = TOC._filename(indexname, gen)
    try:
        stream = storage.open_file(name)
    except NameError as e:  # RamStorage's "no such file"
        raise FileNotFoundError(name) from e
    try:
        for _ in range(3):  # sizes of int, long and float
            stream.read_varint()
        if stream.read_int() != -12345:
            raise IndexCorruptError(f"{name}: not a Whoosh TOC (byte order mark)")
        version = stream.read_int()
        if version != whoosh.index._CURRENT_TOC_VERSION:
            raise IndexCorruptError(f"{name}: unsupported Whoosh TOC version {version}")
        release = (stream.read_varint(), stream.read_varint(), stream.read_varint())
        allowed = persisted()
        schema = load_objects(stream.read_string(), allowed)
        if not isinstance(schema, Schema):
            raise IndexCorruptError(f"{name}: the schema is not a schema")
        if stream.read_int() != gen:
            raise IndexCorruptError(f"{name}: generation mismatch")
        stream.read_int()  # unused
        segments = load_objects(stream.file, allowed)
        if not isinstance(segments, list) or not all(isinstance(s, SafeSegment) for s in segments):
            raise IndexCorruptError(f"{name}: the segment list is malformed")
    except SearchlibError:
        raise
    except Exception as e:  # truncated or garbled
        raise IndexCorruptError(f"{name}: unreadable TOC ({type(e).__name__}: {e})") from e
    finally:
        stream.close()
    return TOC(schema, segments, gen, version=version, release=release)


class _SafeFileIndex(FileIndex):  # type: ignore[misc]
    """Whoosh's index over a storage, its TOC read by :func:`read_toc`."""

    def __init__(self, storage: Any, indexname: str) -> None:
        self.storage = storage
        self._schema = None
        self.indexname = indexname
        self._read_toc()

    def _read_toc(self) -> whoosh.index.TOC:
        # Whoosh reads the latest TOC for everything (the schema, the
        # segments, a reader): a commit in another process may replace it
        # (and delete it) between finding and opening it. Whoosh deletes a
        # TOC only once a newer one is written: read that one.
        for attempt in range(TOC_RETRIES):
            try:
                return read_toc(self.storage, self.indexname)
            except FileNotFoundError:
                if attempt + 1 == TOC_RETRIES:
                    raise
                time.sleep(0.001)
        raise AssertionError("unreachable")  # pragma: no cover

    def writer(self, procs: int = 1, **kwargs: Any) -> SegmentWriter:
        if procs != 1:
            raise ValueError("searchlib writes with its own processes (Index.add(procs=...))")
        return _SafeSegmentWriter(self, **kwargs)


class _SafeFileStorage(FileStorage):  # type: ignore[misc]
    """A folder storage handing out safe files; remembers the files opened
    while an index opens, so they can be closed if opening fails (Whoosh
    leaves them open)."""

    def __init__(self, folder: str) -> None:
        super().__init__(folder)
        self.opened: list[Any] | None = None

    def open_file(self, name: str, **kwargs: Any) -> StructFile:
        f = _SafeStructFile(open(self._fpath(name), "rb"), name=name, **kwargs)  # noqa: SIM115
        if self.opened is not None:
            self.opened.append(f)
        return f

    def close_opened(self) -> None:
        for f in self.opened or ():
            with contextlib.suppress(Exception):
                f.close()
        self.opened = None


class _SafeRamStorage(RamStorage):  # type: ignore[misc]
    """Whoosh's memory storage handing out safe files, with a private
    temporary folder per writer (Whoosh's own gives every writer of every
    process the same ``$TMPDIR/searchlib.tmp``, and the first to finish
    deletes it)."""

    def open_file(self, name: str, **kwargs: Any) -> StructFile:
        if name not in self.files:
            raise NameError(name)
        return _SafeBufferFile(memoryview(self.files[name]), name=name, **kwargs)

    def temp_storage(self, name: str | None = None) -> FileStorage:
        # One folder per name while it exists: a writer and its per-document
        # writer ask for the same name, and the writer deletes it when done.
        temps: dict[str | None, FileStorage] = self.__dict__.setdefault("_temps", {})
        found = temps.get(name)
        if found is None or not os.path.isdir(found.folder):
            found = temps[name] = FileStorage(tempfile.mkdtemp(prefix="searchlib-")).create()
        return found


# -- the store -------------------------------------------------------------------------


class Store:
    """The Whoosh index behind an :class:`~searchlib.index.Index`.

    Attributes:
        ix: the Whoosh index (opened through searchlib's safe storage).
        folder: its folder, or ``None`` in memory.
    """

    def __init__(self, ix: FileIndex, folder: Path | None) -> None:
        self.ix = ix
        self.folder = folder

    @classmethod
    def create(
        cls,
        folder: Path,
        *,
        analyzer: analysis.FrenchAnalyzer | None = None,
        fields: Mapping[str, FieldType] | None = None,
    ) -> Store:
        """A new, empty index in an existing empty ``folder``, with the
        Whoosh fields of the declared ``fields``."""
        storage = _SafeFileStorage(str(folder))
        whoosh.index.TOC.create(storage, make_schema(analyzer, fields), INDEX_NAME)
        return cls(_SafeFileIndex(storage, INDEX_NAME), folder)

    @classmethod
    def in_memory(
        cls,
        *,
        analyzer: analysis.FrenchAnalyzer | None = None,
        fields: Mapping[str, FieldType] | None = None,
    ) -> Store:
        """A new, empty index held in memory (``analyzer`` and ``fields`` as for
        :meth:`create`)."""
        storage = _SafeRamStorage()
        whoosh.index.TOC.create(storage, make_schema(analyzer, fields), INDEX_NAME)
        return cls(_SafeFileIndex(storage, INDEX_NAME), None)

    @classmethod
    def open(cls, folder: Path, *, retries: int = 20) -> Store:
        """Open the index in ``folder``, reading its segments once.

        A file vanishing while it opens is a race with a writer of another
        process (it committed and deleted the old files) only if the index
        moved on meanwhile; then it tries again, up to ``retries`` times.

        Raises:
            IndexCorruptError: the files cannot be read.
            whoosh.index.EmptyIndexError: no Whoosh index files.
        """
        for attempt in range(retries):
            generation = latest_generation(folder)
            storage = _SafeFileStorage(str(folder))
            storage.opened = []
            try:
                store = cls(_SafeFileIndex(storage, INDEX_NAME), folder)
                store.ix.reader().close()  # reads the segments: damage fails here
                storage.opened = None
                return store
            except BaseException as e:
                storage.close_opened()  # Whoosh leaves them open when it fails
                if isinstance(e, SearchlibError | whoosh.index.EmptyIndexError):
                    raise
                if not isinstance(e, Exception):
                    raise
                raced = isinstance(e, FileNotFoundError) and latest_generation(folder) != generation
                if not raced or attempt + 1 == retries:
                    raise IndexCorruptError(f"index at {folder} cannot be read: {e}") from e
                time.sleep(0.01)
        raise AssertionError("unreachable")  # pragma: no cover

    def analyzers(self) -> tuple[analysis.FrenchAnalyzer, analysis.FrenchAnalyzer]:
        """The analyzers the index was built with: of its text, of its exact form."""
        schema = self.ix.schema
        return schema["text"].analyzer, schema["exact"].analyzer

    def new_searcher(self, weighting: Any, *, retries: int = 50) -> Searcher:
        """A searcher over the current commit (searches may be time-limited).

        A commit in another process may replace the latest TOC, or merge away
        its segments, between finding and reading them: that
        ``FileNotFoundError`` is retried on the newer commit (as :meth:`open`
        does) when there is one."""
        for attempt in range(retries):
            generation = latest_generation(self.folder) if self.folder is not None else None
            try:
                reader = self.ix.reader()
            except FileNotFoundError:
                if (
                    self.folder is None
                    or attempt + 1 == retries
                    or latest_generation(self.folder) == generation
                ):
                    raise
                time.sleep(0.01)
                continue
            return LimitedSearcher(reader, weighting=weighting, fromindex=self.ix)
        raise AssertionError("unreachable")  # pragma: no cover

    def doc_count_all(self) -> int:
        """Passages in the index, deleted ones included."""
        return int(self.ix.doc_count_all())

    def writer(self, *, limitmb: int = 128, timeout: float = 0.0) -> SegmentWriter:
        """A segment writer holding the write lock, with searchlib's posting pool
        and term writer.

        Raises:
            IndexLockedError: another writer holds the lock past ``timeout``.
        """
        try:
            writer = self.ix.writer(limitmb=limitmb, timeout=timeout, codec=SafeCodec())
        except LockError as e:
            waited = f" (waited {timeout:g} s)" if timeout else ""
            raise IndexLockedError(
                f"index at {self.folder or 'memory'} is locked by another writer{waited}"
            ) from e
        postingpool.install(writer)
        termwriter.install(writer)
        if self.folder is not None:
            remove_stale_toc_files(self.folder)
        return writer

    def helper_writer(self, *, limitmb: int) -> SegmentWriter:
        """A segment writer without the lock, for a helper process writing a
        segment that the lock holder commits (:mod:`searchlib._whoosh.parallel`)."""
        writer = _SafeSegmentWriter(self.ix, _lk=False, limitmb=limitmb, codec=SafeCodec())
        postingpool.install(writer)
        termwriter.install(writer)
        return writer

    def segment_count(self) -> int:
        """Segments of the current commit."""
        return len(self.ix._segments())


class SegmentBatch:
    """The documents of one :meth:`Index.add` going into one Whoosh segment writer."""

    def __init__(
        self,
        writer: Any,
        *,
        replace_existing: bool,
        passage_chars: int = PASSAGE_CHARS,
        fields: Mapping[str, FieldType] | None = None,
    ) -> None:
        self.writer = writer
        self.passage_chars = passage_chars
        self.fields = dict(fields or {})
        self.adder = DocumentAdder(writer)
        self.replace_existing = replace_existing
        self.count = 0
        # Documents of this batch, by id: their Whoosh document numbers in
        # the segment being written (passages of a document are contiguous).
        self.pending: dict[str, range] = {}

    def add(self, doc: Document) -> None:
        """Check one document, cut it into passages and add them; an id seen
        before replaces the earlier one."""
        check_document(doc)
        values = declared_values(doc, self.fields) if self.fields else None
        writer = self.writer
        earlier = self.pending.get(doc.id)
        if earlier is not None:
            # Whoosh cannot delete from the segment being written through
            # its API, but the segment records deletions: mark the earlier
            # copy deleted, in this same commit.
            for docnum in earlier:
                writer.newsegment.delete_document(docnum)
        elif self.replace_existing:
            writer.delete_by_term("doc_id", doc.id)
        first = writer.docnum
        for passage in split_passages(doc.id, doc.text, max_chars=self.passage_chars):
            self.adder.add(passage_fields(doc, passage, values))
        self.pending[doc.id] = range(first, writer.docnum)
        self.count += 1


def commit(
    writer: Any,
    *,
    more_segments: Callable[[], Iterable[Any]] = tuple,
    under_lock: Callable[[], None] | None = None,
) -> None:
    """``writer.commit()``, Whoosh's own sequence with its default merge policy, and two hooks.

    ``more_segments`` is called once this writer's own segment is written: the
    segments it returns (written by other processes, see :mod:`searchlib._whoosh.parallel`)
    join the same commit. ``under_lock`` runs once the new table of contents
    is written, before the write lock is released; if it raises, the commit
    stands and the error is raised.
    """
    writer._check_state()
    try:
        final = list(writer._merge_segments(None, None, None))
        if writer._added:
            final.append(writer._finalize_segment())
        else:
            writer._close_segment()
        final.extend(more_segments())
        writer._commit_toc(final)
    except BaseException:
        abort(writer)
        raise
    try:
        if under_lock is not None:
            under_lock()
    finally:
        writer._finish()


def abort(writer: Any) -> None:
    """Give up a writer whatever state it is in: nothing it wrote is kept.

    Its segment's files and its temporary files are deleted (they belong to
    no commit) and the write lock is released; errors doing so (a full disk)
    are not raised over the error that made the caller give up.
    """
    if writer.is_closed:
        return
    with contextlib.suppress(Exception):
        writer._close_segment()
    segment = getattr(writer, "newsegment", None)
    with contextlib.suppress(Exception):
        if segment is not None:
            prefix = f"{segment.indexname}_{segment.segid}"
            for name in list(writer.storage.list()):
                if name.startswith(prefix):
                    writer.storage.delete_file(name)
    with contextlib.suppress(Exception):
        writer._finish()
    temp = getattr(writer, "_tempstorage", None)
    if temp is not None and getattr(temp, "folder", None):
        shutil.rmtree(temp.folder, ignore_errors=True)
    lock = getattr(writer, "writelock", None)
    if lock is not None:
        with contextlib.suppress(Exception):
            lock.release()
    writer.is_closed = True


def latest_generation(folder: Path) -> int:
    """The newest TOC generation in ``folder`` (-1: none)."""
    try:
        return int(whoosh.index.TOC._latest_generation(FileStorage(str(folder)), INDEX_NAME))
    except OSError:
        return -1


_STALE_TOC = re.compile(rf"^_{INDEX_NAME}_[0-9]+\.toc\.[0-9.]+$")


def remove_stale_toc_files(folder: Path) -> None:
    """Delete TOC files a killed writer left half-written (``_searchlib_N.toc.<time>``).

    Only called with the write lock held: no other writer can be writing one.
    """
    with contextlib.suppress(OSError):
        for entry in os.scandir(folder):
            if _STALE_TOC.match(entry.name):
                with contextlib.suppress(OSError):
                    os.remove(entry.path)


def looks_like_whoosh(folder: Path) -> bool:
    """Whether ``folder`` holds Whoosh files."""
    return any(p.name.endswith(".toc") or p.suffix == ".seg" for p in folder.iterdir())


__all__ = [
    "DATA_ERRORS",
    "INDEX_NAME",
    "MISSING",
    "SafeCodec",
    "SafeSegment",
    "SegmentBatch",
    "Store",
    "commit",
    "declared_field",
    "declared_values",
    "emptybytes",
    "latest_generation",
    "looks_like_whoosh",
    "make_schema",
    "passage_fields",
    "persisted",
    "read_toc",
    "remove_stale_toc_files",
]
