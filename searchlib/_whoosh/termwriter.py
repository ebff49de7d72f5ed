"""Writing a new segment's postings a term at a time, not a posting at a time.

At commit, Whoosh's field writer (``FieldWriter.add_postings``) walks the
sorted postings of the pool and makes several Python calls per posting:
order checks, ``add`` and ``add_posting`` with their type assertions, block
statistics. :func:`install` gives a fresh writer's field writer a version that
takes each term's postings as one group (the term records of
:class:`~searchlib._whoosh.postingpool.TermGroups`, or sorted postings grouped here),
fills the block buffers of Whoosh's
own postings writer with them in bulk and lets Whoosh encode and write each
block (``W3PostingsWriter._write_block``): the bytes written are Whoosh's.
It applies when no per-document lengths are asked for (searchlib's codec
keeps no per-block length statistics, see ``index._writer_codec``); anything
else goes through Whoosh's method.

The term dictionary's hash writer keeps every term's ``(hash, position)``
until the segment is closed, as a tuple of two ints (about 120 bytes a term,
so it grows with every new word of the corpus). :func:`install` gives it
buckets of two arrays instead (12 bytes a term); the tables it writes are the
same.
"""

from __future__ import annotations

import itertools
import operator
import types
from array import array
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from whoosh.codec.whoosh3 import W3FieldWriter
from whoosh.filedb.filetables import HashWriter
from whoosh.system import emptybytes

from searchlib._whoosh.postingpool import TermGroups, TermRecord

_TERM = operator.itemgetter(0, 1)


def install(writer: Any) -> None:
    """Give a fresh Whoosh segment writer's field writer the bulk ``add_postings``."""
    fieldwriter: Any = getattr(writer, "fieldwriter", None)
    if type(fieldwriter) is W3FieldWriter:
        fieldwriter.add_postings = types.MethodType(_add_postings, fieldwriter)
        tindex: Any = getattr(fieldwriter, "_tindex", None)
        buckets = tindex.buckets if isinstance(tindex, HashWriter) else None
        if buckets is not None and len(buckets) == 256 and not any(buckets):  # nothing added yet
            tindex.buckets = [HashBucket() for _ in range(256)]


class HashBucket:
    """A bucket of Whoosh's ``HashWriter``: ``(hash, position)`` entries kept in
    two arrays, appended and read back as the writer does with its list of tuples."""

    __slots__ = ("hashes", "positions")

    def __init__(self) -> None:
        self.hashes = array("I")  # the writer's hashes are 32-bit
        self.positions = array("q")

    def append(self, entry: tuple[int, int]) -> None:
        self.hashes.append(entry[0])
        self.positions.append(entry[1])

    def __len__(self) -> int:
        return len(self.hashes)

    def __iter__(self) -> Iterator[tuple[int, int]]:
        return zip(self.hashes, self.positions, strict=True)


def _add_postings(self: Any, schema: Any, lengths: Any, items: Iterable[Any]) -> None:
    """``FieldWriter.add_postings`` (sorted ``(field, term, docnum, weight, value)``,
    or the pool's :class:`~searchlib._whoosh.postingpool.TermGroups`)."""
    if lengths is not None:
        W3FieldWriter.add_postings(self, schema, lengths, items)
        return
    records = items.records() if isinstance(items, TermGroups) else _records(items)
    lastfield: str | None = None
    lastterm: bytes | None = None
    for fieldname, btext, ids, weights, values in records:
        if fieldname != lastfield:
            if lastfield is not None and fieldname < lastfield:
                raise ValueError(f"postings out of order: field {lastfield!r} .. {fieldname!r}")
            if lastfield is not None:
                self.finish_field()
            self.start_field(fieldname, schema[fieldname])
            lastfield = fieldname
            lastterm = None
        elif lastterm is not None and btext <= lastterm:
            raise ValueError(f"postings out of order: term {lastterm!r} .. {btext!r}")
        lastterm = btext
        columns = (
            (ids, weights, values) if -1 not in ids else _without_markers(ids, weights, values)
        )
        if not columns[0]:
            continue
        self.start_term(btext)
        _add_term(self._postwriter, *columns)
        self.finish_term()
    if lastfield is not None:
        self.finish_field()


def _without_markers(
    ids: Sequence[int], weights: Sequence[float], values: Sequence[bytes | None]
) -> tuple[Sequence[int], Sequence[float], Sequence[bytes | None]]:
    """The columns without the postings numbered -1."""
    kept = [p for p in zip(ids, weights, values, strict=True) if p[0] != -1]
    return [p[0] for p in kept], [p[1] for p in kept], [p[2] for p in kept]


def _records(items: Iterable[Any]) -> Iterator[TermRecord]:
    """Sorted postings as term records."""
    for (fieldname, btext), group in itertools.groupby(items, _TERM):
        _, _, ids, weights, values = zip(*group, strict=True)
        yield fieldname, btext, ids, weights, values


def _add_term(
    pw: Any, ids: Sequence[int], weights: Sequence[float], values: Sequence[bytes | None]
) -> None:
    """What ``add_posting`` per posting, then ``finish_postings``, would write."""
    n = len(ids)
    if n < pw._inlinelimit:  # Whoosh inlines tiny posting lists
        for docnum, weight, value in zip(ids, weights, values, strict=True):
            pw.add_posting(docnum, weight, value or emptybytes, 0)
        return
    limit = pw._blocklimit
    for start in range(0, n, limit):
        end = start + limit
        block_weights = weights[start:end]
        pw._ids = array("I", ids[start:end])
        pw._weights = array("f", block_weights)
        pw._values = [v for v in values[start:end] if v]
        pw._maxweight = max(0, *block_weights)
        pw._minlength = None
        pw._maxlength = 0
        if end < n:
            pw._write_block()
    # finish_postings writes the buffered last block and sets the extent.
