"""Writing a new segment's postings a term at a time, not a posting at a time.

At commit, Whoosh's field writer (``FieldWriter.add_postings``) walks the
sorted postings of the pool and makes several Python calls per posting:
order checks, ``add`` and ``add_posting`` with their type assertions, block
statistics. :func:`install` gives a fresh writer's field writer a version that
takes each term's postings as one group (the term records of
:class:`~searchlib._whoosh.postingpool.TermGroups`, or sorted postings grouped here)
and writes each term's posting blocks, term info and dictionary entry in one
call (:class:`_TermWriter`): Whoosh's format, the block data pickled with
:data:`BLOCK_PROTOCOL` (with 2, Whoosh's bytes). It applies when no
per-document lengths are asked for (searchlib's codec keeps no per-block
length statistics, see ``SafeCodec``); anything else goes through Whoosh's
method.

The term dictionary's hash writer keeps every term's ``(hash, position)``
until the segment is closed, as a tuple of two ints (about 120 bytes a term,
so it grows with every new word of the corpus). :func:`install` gives it
buckets of two arrays instead (12 bytes a term); the tables it writes are the
same.
"""

from __future__ import annotations

import hashlib
import itertools
import operator
import pickle
import struct
import types
import zlib
from array import array
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from whoosh.codec.whoosh3 import WHOOSH3_HEADER_MAGIC, W3FieldWriter, W3PostingsWriter, W3TermInfo
from whoosh.filedb.filetables import HashWriter, OrderedHashWriter, md5_hash
from whoosh.filedb.structfile import StructFile
from whoosh.system import emptybytes, pack_int, pack_long, pack_ushort
from whoosh.util.numeric import length_to_byte

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
            if type(tindex)._write_hashes is HashWriter._write_hashes:
                tindex._write_hashes = types.MethodType(_write_hashes, tindex)


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


def _write_hashes(self: Any) -> None:
    """``HashWriter._write_hashes``: the same 256 hash tables (open addressing,
    Whoosh's slots), each written in one piece rather than a write per slot."""
    dbfile = self.dbfile
    for bucket in self.buckets:
        numslots = 2 * len(bucket)
        self.directory.append((dbfile.tell(), numslots))
        hashes = [0] * numslots
        positions = [0] * numslots  # 0: an empty slot (no key starts at 0: the header)
        for hashval, position in bucket:
            slot = (hashval >> 8) % numslots
            while positions[slot]:
                slot = (slot + 1) % numslots
            hashes[slot] = hashval
            positions[slot] = position
        dbfile.write(emptybytes.join(map(_POINTER.pack, hashes, positions)))


def _add_postings(self: Any, schema: Any, lengths: Any, items: Iterable[Any]) -> None:
    """``FieldWriter.add_postings`` (sorted ``(field, term, docnum, weight, value)``,
    or the pool's :class:`~searchlib._whoosh.postingpool.TermGroups`)."""
    if lengths is not None:
        W3FieldWriter.add_postings(self, schema, lengths, items)
        return
    records = items.records() if isinstance(items, TermGroups) else _records(items)
    lastfield: str | None = None
    lastterm: bytes | None = None
    term_writer: _TermWriter | None = None
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
        if term_writer is None:
            term_writer = _TermWriter(self)
        elif term_writer.fieldid != self._fieldid:
            term_writer.start_field(self)
        term_writer.write(btext, *columns)
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


BLOCK_PROTOCOL = 4
"""The pickle protocol of a posting block's data (ids, weights, values).

Whoosh pickles it with protocol 2, where each bytes value (a posting's
positions) is a call to ``_codecs.encode`` on a latin-1 string: four times
slower to write than protocol 4, twice the size once compressed (the bytes
above 127 take two in the string), and several times slower to read back.
The block is the same tuple either way, and every reader (Whoosh's matchers,
searchlib's restricted unpickler, :mod:`searchlib._whoosh.blocks`) reads both;
the block's info and the term info stay as Whoosh writes them. With 2, the
files are Whoosh's byte for byte."""

MIN_COMPRESSED = 128
"""The shortest posting block data (pickled) that is compressed; shorter data
is stored as it is, its block info saying so (compression level 0), as
Whoosh's own writer means to do below 20 bytes (a slip makes it compress
every block). zlib costs about ten microseconds a call on such short data
(most blocks are a rare term's few postings) and saves a third of it at
most; every reader reads either. With 0, every block is compressed: the
files are Whoosh's byte for byte (with :data:`BLOCK_PROTOCOL` 2)."""

_LENGTHS = struct.Struct("!ii")
"""A term dictionary entry's key and value lengths (``filetables._lengths``)."""

_NO_LENGTH = length_to_byte(0)
"""The length byte of blocks and terms without length statistics."""


class _TermWriter:
    """What ``start_term``, ``add_posting`` for each posting and ``finish_term``
    of Whoosh's ``W3FieldWriter`` write for a term, in one call per term: the
    same posting blocks (``W3PostingsWriter._write_block``, their data pickled
    with :data:`BLOCK_PROTOCOL`), term info (``W3TermInfo.to_bytes``) and term
    dictionary entry (``OrderedHashWriter.add``), without Whoosh's calls and
    checks per posting, per block and per term. A posting writer this does not
    reproduce (inlined postings, byte ids, another class) goes through
    Whoosh's methods."""

    def __init__(self, fieldwriter: Any) -> None:
        self.fieldwriter = fieldwriter
        self.postfile = fieldwriter._postfile
        tindex = fieldwriter._tindex
        self.tindex = tindex if type(tindex) is OrderedHashWriter else None
        hashfn = getattr(tindex, "hashfn", None)
        self.hashfn: Any = md5_tail if hashfn is md5_hash else hashfn
        self.start_field(fieldwriter)

    def start_field(self, fieldwriter: Any) -> None:
        """Take the field the field writer has just started."""
        pw = fieldwriter._postwriter
        self.fieldid: int = fieldwriter._fieldid
        self.prefix = pack_ushort(self.fieldid)
        self.fixedsize: int | None = fieldwriter._format.fixed_value_size()
        self.blocklimit: int = pw._blocklimit
        self.compression: int = pw._compression
        self.bulk = (
            self.tindex is not None
            and type(pw) is W3PostingsWriter
            and pw._inlinelimit <= 1
            and not pw._byteids
            and self.blocklimit > 0
        )
        # Where the next term's postings and dictionary entry go: counted here
        # rather than asked of the files (a system call per term).
        self.postpos: int = self.postfile.tell()
        self.termpos: int = self.tindex.dbfile.tell() if self.tindex is not None else 0
        # The files' own write (Whoosh's StructFile.write only hands the bytes on).
        self.write_posts: Any = _raw_write(self.postfile)
        self.write_terms: Any = _raw_write(self.tindex.dbfile) if self.tindex is not None else None
        buckets: list[Any] = self.tindex.buckets if self.tindex is not None else []
        self.buckets: list[HashBucket] | None = (
            buckets if buckets and all(type(b) is HashBucket for b in buckets) else None
        )

    def write(
        self,
        btext: bytes,
        ids: Sequence[int],
        weights: Sequence[float],
        values: Sequence[bytes | None],
    ) -> None:
        """Write one term's postings (at least one, in document order)."""
        fw = self.fieldwriter
        if not self.bulk:
            fw.start_term(btext)
            _add_term(fw._postwriter, ids, weights, values)
            fw.finish_term()
            return
        n = len(ids)
        limit = self.blocklimit
        comp = self.compression
        fixedsize = self.fixedsize
        dumps = pickle.dumps
        parts: list[bytes] = [WHOOSH3_HEADER_MAGIC]
        total = 0.0
        maxweight: float = 0
        for start in range(0, n, limit):
            end = start + limit
            if n <= limit:  # one block (most terms): the columns as they are
                block_ids, block_weights, block_values = ids, weights, values
            else:
                block_ids = ids[start:end]
                block_weights = weights[start:end]
                block_values = values[start:end]
            count = len(block_ids)
            stored = array("f", block_weights).tolist()  # float32, as Whoosh keeps them
            total += sum(stored)
            blockmax = max(block_weights) if count > 1 else block_weights[0]
            if not blockmax > 0:
                blockmax = 0  # Whoosh's max(0, *weights)
            maxweight = max(maxweight, blockmax)
            if stored.count(1.0) == count:
                mini_weights: Any = None
            elif count == 1 or stored.count(stored[0]) == count:
                mini_weights = stored[0]
            else:
                mini_weights = tuple(stored)
            if fixedsize is None or fixedsize < 0:
                mini_values: Any = tuple(filter(None, block_values))
            elif fixedsize == 0:
                mini_values = None
            else:
                mini_values = emptybytes.join(filter(None, block_values))
            if count == 1:
                deltas: tuple[int, ...] = (block_ids[0],)
            else:
                deltas = (block_ids[0], *map(operator.sub, block_ids[1:], block_ids))
            data = dumps((deltas, mini_weights, mini_values), BLOCK_PROTOCOL)
            block_comp = comp if len(data) >= MIN_COMPRESSED else 0
            if block_comp:
                data = zlib.compress(data, block_comp)
            info = dumps((count, block_ids[-1], blockmax, block_comp, 0, _NO_LENGTH), 2)
            size = len(info) + len(data)
            parts += (pack_int(-size if end >= n else size), info, data)
        blob = emptybytes.join(parts)
        offset = self.postpos
        self.write_posts(blob)
        self.postpos += len(blob)
        terminfo = (
            _TERM_INFO.pack(0, total, n, 0, _NO_LENGTH, maxweight, ids[0], ids[-1])
            + pack_long(offset)
            + pack_int(len(blob))
        )
        # OrderedHashWriter.add(key, terminfo)
        tindex: Any = self.tindex
        key = self.prefix + btext
        if key <= tindex.lastkey:
            raise ValueError(f"Keys must increase: {tindex.lastkey!r}..{key!r}")
        pos = self.termpos
        index = tindex.index  # a GrowableArray: its array, retyped when a number overflows it
        try:
            index.array.append(pos)
        except OverflowError:
            index.append(pos)
        entry = _LENGTHS.pack(len(key), len(terminfo)) + key + terminfo
        self.write_terms(entry)
        self.termpos += len(entry)
        h = self.hashfn(key)
        buckets = self.buckets
        if buckets is not None:
            bucket = buckets[h & 255]
            bucket.hashes.append(h)
            bucket.positions.append(pos)
        else:
            tindex.buckets[h & 255].append((h, pos))
        tindex.lastkey = key


_TERM_INFO: struct.Struct = W3TermInfo._struct

_POINTER = struct.Struct("!Iq")
"""A hash table slot: the key's hash, its entry's position (``filetables._pointer``)."""


def _raw_write(f: Any) -> Any:
    """The write method of the file under a Whoosh ``StructFile``, else its own."""
    if type(f).write is StructFile.write and hasattr(f, "file"):
        return f.file.write
    return f.write


def md5_tail(key: bytes) -> int:
    """Whoosh's ``filetables.md5_hash`` (the MD5 digest's last 32 bits), without
    going through its hexadecimal form."""
    return int.from_bytes(hashlib.md5(key, usedforsecurity=False).digest()[12:], "big")
