"""Reading declared fields of one segment as numpy arrays.

A declared keyword field is a Whoosh ``ID`` field: its values are its terms,
and the passages holding each are the term's postings, read a block at a
time (:func:`~searchlib._whoosh.blocks.read_postings`). A number or a date is
a Whoosh ``NUMERIC`` field with a numeric column of sortable 64-bit values
(see :func:`~searchlib._whoosh.storage.declared_field`), read here in one
piece from the segment's column file. Both are read once per segment and
cached by the fast path (:mod:`searchlib.ranking.facets`).
"""

from __future__ import annotations

from array import array
from collections.abc import Iterator
from typing import Any

import numpy as np
import numpy.typing as npt
from whoosh.columns import EmptyColumnReader
from whoosh.util.numeric import to_sortable

from searchlib._whoosh.blocks import read_postings
from searchlib._whoosh.storage import MISSING

UInt64Array = npt.NDArray[np.uint64]
Int32Array = npt.NDArray[np.int32]


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


def sortable(schema: Any, field: str, value: float | int) -> int:
    """``value`` of a number or date field as its column holds it (the same
    order: comparing these compares the values)."""
    fieldobj = schema[field]
    return int(to_sortable(fieldobj.numtype, fieldobj.bits, fieldobj.signed, value))


def from_sortable_dates(values: UInt64Array) -> npt.NDArray[np.int64]:
    """A date column's sortable values as microseconds since 1970 (signed)."""
    return (values ^ np.uint64(1 << 63)).view(np.int64)


__all__ = [
    "from_sortable_dates",
    "keyword_postings",
    "keyword_values",
    "numeric_column",
    "sortable",
]
