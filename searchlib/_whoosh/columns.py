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

from typing import Any

import numpy as np
import numpy.typing as npt
from whoosh.columns import EmptyColumnReader
from whoosh.util.numeric import to_sortable

from searchlib._whoosh.blocks import read_postings
from searchlib._whoosh.storage import MISSING

UInt64Array = npt.NDArray[np.uint64]
Int32Array = npt.NDArray[np.int32]


def keyword_pairs(reader: Any, field: str) -> tuple[list[str], Int32Array, Int32Array]:
    """The values of a keyword field in one segment, sorted, and every
    ``(passage, value number)`` pair of it, ordered by value then passage."""
    values: list[str] = []
    docs: list[Any] = []
    ords: list[Any] = []
    if field in reader.schema:
        for number, btext in enumerate(reader.lexicon(field)):
            ids, _ = read_postings(reader, field, btext)
            values.append(bytes(btext).decode("utf-8"))
            found = np.frombuffer(ids, dtype=np.int32)
            docs.append(found)
            ords.append(np.full(len(found), number, dtype=np.int32))
    if not docs:
        return values, np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.int32)
    return values, np.concatenate(docs), np.concatenate(ords)


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


__all__ = ["from_sortable_dates", "keyword_pairs", "numeric_column", "sortable"]
