"""Reading declared fields, field lengths and document ids of one segment as
numpy arrays.

A declared keyword field is a Whoosh ``ID`` field: its values are its terms,
and the passages holding each are the term's postings, read a block at a
time (:func:`~searchlib._whoosh.blocks.read_postings`). A number or a date is
a Whoosh ``NUMERIC`` field with a numeric column of sortable 64-bit values
(see :func:`~searchlib._whoosh.storage.declared_field`), read here in one
piece from the segment's column file. Both are read once per segment and
cached by the fast path (:mod:`searchlib.ranking.facets`).

A passage's length in a field is a one-byte approximation in a column of its
own (Whoosh's ``_<field>_L``), and its ``doc_id`` a column of variable-length
bytes: both are read here in one piece per segment, with the values Whoosh's
readers give passage by passage (:func:`field_lengths`, :func:`doc_numbers`).

A field's terms and how many passages hold each (:func:`term_frequencies`)
are read from each segment's term table, without decoding the postings that
Whoosh keeps inline with the rarer terms.
"""

from __future__ import annotations

import heapq
from array import array
from collections.abc import Iterator
from operator import itemgetter
from typing import Any

import numpy as np
import numpy.typing as npt
from whoosh.codec.whoosh3 import LENGTHS_COLUMN, W3TermInfo, _lenfield
from whoosh.columns import EmptyColumnReader, NumericColumn, VarBytesColumn
from whoosh.util.numeric import byte_to_length, to_sortable

from searchlib._whoosh.blocks import read_postings
from searchlib._whoosh.storage import MISSING

UInt64Array = npt.NDArray[np.uint64]
Int32Array = npt.NDArray[np.int32]
FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

_LENGTH_OF_BYTE = np.array([np.nan] + [float(byte_to_length(b)) for b in range(1, 256)])
"""A length byte's length, as ``doc_field_length`` gives it: ``None`` (NaN in a
float array) for the byte 0, a passage without the field."""


def keyword_values(reader: Any, field: str, after: bytes | None = None) -> Iterator[bytes]:
    """The values (terms) of keyword field ``field`` in one segment, in order;
    with ``after``, those that follow it (a reading that goes on)."""
    if field not in reader.schema:
        return
    if after is None:
        yield from reader.lexicon(field)
        return
    for name, btext in reader.terms_from(field, after):
        if name != field:
            return
        if btext != after:
            yield btext


def term_frequencies(reader: Any, field: str, start: bytes) -> Iterator[tuple[bytes, int]]:
    """The terms of ``field`` from ``start`` on, in order, each with the number
    of passages holding it, deleted ones included (what Whoosh's
    ``reader.iter_from(field, start)`` gives with ``doc_frequency()``, for an
    index of one segment or several)."""
    streams = [_segment_term_frequencies(r, field, start) for r, _ in reader.leaf_readers()]
    if len(streams) == 1:
        yield from streams[0]
        return
    current, total = None, 0
    for text, passages in heapq.merge(*streams, key=itemgetter(0)):
        if text != current:
            if current is not None:
                yield current, total
            current, total = text, 0
        total += passages
    if current is not None:
        yield current, total


_TERM_INFO = W3TermInfo._struct
"""The fixed part that opens a term's entry in the term table (its passage
count third), followed by a pointer to its postings or the postings themselves."""


def _segment_term_frequencies(reader: Any, field: str, start: bytes) -> Iterator[tuple[bytes, int]]:
    terms = getattr(reader, "_terms", None)  # (none in an empty index's reader)
    if terms is None or field not in terms._fieldmap:
        return
    prefix = terms._keycoder(field, b"")  # the field's number: what opens its keys
    table = terms._tindex
    get, size, unpack = table.dbfile.get, _TERM_INFO.size, _TERM_INFO.unpack
    for keypos, keylen, datapos, _ in table.ranges_from(prefix + start):
        key = get(keypos, keylen)
        if not key.startswith(prefix):
            return
        yield key[len(prefix) :], unpack(get(datapos, size))[2]


def keyword_postings(reader: Any, field: str, value: bytes) -> array[int]:
    """The passages (in one segment) holding keyword ``value`` of ``field``."""
    return read_postings(reader, field, value)[0]


def numeric_column(reader: Any, field: str) -> UInt64Array:
    """The sortable value of a number or date field for each passage of one
    segment (:data:`~searchlib._whoosh.storage.MISSING` where none)."""
    count = int(reader.doc_count_all())
    out = np.full(count, MISSING, dtype=np.uint64)
    if field not in reader.schema or not count:
        return out
    column = reader.column_reader(field, translate=False)
    if isinstance(column, EmptyColumnReader):
        return out
    stored = min(int(column._count), count)
    if stored:
        raw = column._dbfile.get(column._basepos, stored * 8)
        out[:stored] = np.frombuffer(raw, dtype=">u8")
    return out


def field_lengths(reader: Any, field: str) -> FloatArray:
    """Each passage's length of ``field`` in one segment, as
    ``reader.doc_field_length(docnum, field)`` gives it (NaN for its ``None``: a
    passage without the field; 0 when the segment has no lengths of it)."""
    count = int(reader.doc_count_all())
    perdoc = getattr(reader, "_perdoc", None)
    column: Any = None
    if perdoc is not None and hasattr(perdoc, "_cached_reader"):
        column = perdoc._cached_reader(_lenfield(field), LENGTHS_COLUMN)
        if column is None:
            return np.zeros(count, dtype=np.float64)
    if type(column) is not NumericColumn.Reader or column._fixedlen != 1:
        dfl = reader.doc_field_length  # another reader: passage by passage
        return np.fromiter((dfl(d, field) for d in range(count)), np.float64, count)
    stored = min(int(column._count), count)
    found = np.zeros(count, dtype=np.uint8)  # past the stored ones: the default, 0
    if stored:
        found[:stored] = np.frombuffer(column._dbfile.get(column._basepos, stored), np.uint8)
    return _LENGTH_OF_BYTE[found]


def doc_numbers(reader: Any, field: str, numbering: dict[str, int]) -> IntArray:
    """The number of each passage's value of the ID column ``field`` in one
    segment, in ``numbering`` (values not in it yet are added, numbered in the
    order they are first met)."""
    count = int(reader.doc_count_all())
    raw = reader.column_reader(field, translate=False)
    if type(raw) is not VarBytesColumn.Reader or len(raw._lengths) != count:
        column = reader.column_reader(field)  # another reader: passage by passage
        return np.fromiter(
            (numbering.setdefault(str(column[d]), len(numbering)) for d in range(count)),
            np.int64,
            count,
        )
    lengths = raw._lengths.tolist()
    offsets = raw._offsets.tolist()
    end = max((o + n for o, n in zip(offsets, lengths, strict=True)), default=0)
    blob = raw._dbfile.get(raw._basepos, end) if end else b""
    numbers: list[int] = []
    previous: bytes | None = None
    number = 0
    # A document's passages follow each other: its id is decoded once.
    for at, size in zip(offsets, lengths, strict=True):
        value = blob[at : at + size]
        if value != previous:
            number = numbering.setdefault(value.decode("utf-8"), len(numbering))
            previous = value
        numbers.append(number)
    return np.array(numbers, dtype=np.int64)


def sortable(schema: Any, field: str, value: float | int) -> int:
    """``value`` of a number or date field as its column holds it (the same
    order: comparing these compares the values)."""
    fieldobj = schema[field]
    return int(to_sortable(fieldobj.numtype, fieldobj.bits, fieldobj.signed, value))


def from_sortable_dates(values: UInt64Array) -> npt.NDArray[np.int64]:
    """A date column's sortable values as microseconds since 1970 (signed)."""
    return (values ^ np.uint64(1 << 63)).view(np.int64)


__all__ = [
    "doc_numbers",
    "field_lengths",
    "from_sortable_dates",
    "keyword_postings",
    "keyword_values",
    "numeric_column",
    "sortable",
]
