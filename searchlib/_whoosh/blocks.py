"""Reading Whoosh 2.7.5's posting blocks a term at a time, for the numpy scoring path.

Whoosh's matchers hand out one posting at a time; these functions read all
of a term's blocks (up to 128 postings each) from its extent in one piece,
then convert them together, as Lucene and tantivy decode whole blocks:

* postings (:func:`read_postings`): a block's ids and weights are read where
  they lie in its pickle, runs of one- and two-byte ids and the weights'
  floats sliced out of the bytes (the opcodes checked where the layout puts
  them), only as much of a compressed block inflated as they can take (a
  positional field's block is mostly its values); then one numpy pass
  turns the deltas of every block into ids;
* positions (:func:`read_positions`): every block's values first, then all
  values decoded at once with numpy (:func:`_decode_positions`), a value
  laid out as Whoosh's ``Positions`` format nearly always writes it read at
  known places, any other one by :func:`positions_of` (a few pickle opcodes)
  or Whoosh's decoder.

Anything that does not look as expected is read the Whoosh way (through
searchlib's safe matchers and its plain-data unpickler): the arrays are
what Whoosh's matchers read. Tested against them in ``tests/test_blocks.py``
and ``tests/test_fastpath.py``.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import re
import struct
import zlib
from array import array
from collections.abc import Iterable
from typing import Any

import numpy as np
import numpy.typing as npt
from whoosh.matching.wrappers import FilterMatcher
from whoosh.reading import TermNotFound
from whoosh.system import _INT_SIZE

from searchlib._whoosh.safepickle import restricted_loads
from searchlib._whoosh.storage import LEAF_MATCHER, POSITIONS_FORMAT


def read_postings(reader: Any, field: str, btext: bytes) -> tuple[array[int], array[float]]:
    """Passage numbers (within the segment of ``reader``) and term frequencies
    of a term (empty when the segment lacks it)."""
    ids = array("i")
    tf = array("d")
    with contextlib.suppress(TermNotFound):  # absent from this segment
        m = reader.postings(field, btext)
        leaf, deleted = _unfiltered(m)
        if leaf is not None and not leaf._byteids:
            found = _bulk_postings(leaf)
            if found is not None:
                return found if deleted is None else _without(deleted, *found)
        if type(m) is LEAF_MATCHER:
            # Block by block through the matcher: Whoosh 2.7.5's block
            # arrays, as its own id()/weight() read them.
            while m.is_active():
                head = _block_head(m)
                if head is None:
                    ids.extend(_block_ids(m))
                    tf.extend(_block_weights(m))
                else:
                    ids.extend(itertools.accumulate(head[0]))
                    tf.extend(_weights_of(head[1], m._blocklength))
                m._next_block()
        else:  # inlined postings, or a segment with deletions
            while m.is_active():
                ids.append(m.id())
                tf.append(m.weight())
                m.next()
    return ids, tf


def _unfiltered(m: Any) -> tuple[Any, frozenset[int] | set[int] | None]:
    """The W3 matcher of a term's blocks (``None`` if it has none) and the
    passages Whoosh's matcher leaves out (deleted ones, ``None`` if none):
    a segment with deletions wraps its matchers in a ``FilterMatcher``."""
    if type(m) is LEAF_MATCHER:
        return m, None
    if (
        type(m) is FilterMatcher
        and type(m.child) is LEAF_MATCHER
        and m._exclude
        and m.boost == 1.0
        and isinstance(m._ids, (set, frozenset))
    ):
        return m.child, m._ids
    return None, None


def _left_out(deleted: frozenset[int] | set[int], ids: npt.NDArray[Any]) -> npt.NDArray[np.bool_]:
    """Which of ``ids`` are in ``deleted``."""
    return np.isin(ids, np.fromiter(deleted, dtype=np.int64, count=len(deleted)))


def _without(
    deleted: frozenset[int] | set[int], ids: array[int], tf: array[float]
) -> tuple[array[int], array[float]]:
    """The postings whose passages are not in ``deleted`` (as Whoosh's filter gives them)."""
    held = np.frombuffer(ids, dtype=np.int32) if len(ids) else np.zeros(0, dtype=np.int32)
    kept = ~_left_out(deleted, held)
    if kept.all():
        return ids, tf
    out_ids = array("i")
    out_tf = array("d")
    out_ids.frombytes(held[kept].tobytes())
    out_tf.frombytes(np.frombuffer(tf, dtype=np.float64)[kept].tobytes())
    return out_ids, out_tf


_INFO = re.compile(
    rb"\x80\x02\((?:K(.)|M(..))(?:K.|M..|J....)(?:G.{8}|K.|M..|J....)K(.)K.K.tq\x00\.", re.DOTALL
)
"""A block's info as Whoosh pickles it (protocol 2): ``(count, last id, most
weight, compression, shortest, longest)``, the count and compression captured."""


def _term_blocks(m: Any) -> list[tuple[int, int, bytes]] | None:
    """``(count, compression, data)`` of each posting block of a W3 matcher's
    term, read from the term's extent in one piece (what ``_goto`` reads a block
    at a time), or ``None`` when a block's info is not as Whoosh writes it or
    the blocks do not end within the extent (then the matcher reads them)."""
    length = m._length  # a 1-tuple as Whoosh's W3TermInfo.from_bytes reads it
    if type(length) is tuple and len(length) == 1:
        length = length[0]
    if type(length) is not int:
        return None
    buf = bytes(m._postfile.get(m._startoffset, length))
    out: list[tuple[int, int, bytes]] = []
    pos = _INT_SIZE  # after the header tag the matcher has checked
    while pos + _INT_SIZE <= length:
        size = int.from_bytes(buf[pos : pos + _INT_SIZE], "big", signed=True)
        info = _INFO.match(buf, pos + _INT_SIZE)
        end = pos + _INT_SIZE + abs(size)
        if info is None or info.end() > end or end > length:
            return None
        count = info[1][0] if info[1] is not None else int.from_bytes(info[2], "little")
        if not count:  # the matcher stops at an empty block
            return None
        out.append((count, info[3][0], buf[info.end() : end]))
        if size < 0:  # the last block
            return out
        pos = end
    return None


def _bulk_postings(m: Any) -> tuple[array[int], array[float]] | None:
    """A W3 matcher's ids and weights, all its term's blocks read before any
    is converted, or ``None`` when they are not as expected (then the caller
    reads them block by block)."""
    found = _term_blocks(m)
    if found is None:
        return None
    heads = _heads(found)
    if heads is None:
        return None
    ids = array("i")
    tf = array("d")
    if len(found) == 1:  # most terms: converted as they are (numpy costs more)
        count, small, stored_ids, weights = heads[0]
        if small is None:  # as the unpickler read it
            ids.extend(itertools.accumulate(stored_ids))
            tf.extend(_weights_of(weights, count))
        else:
            deltas = [lo | hi << 8 for lo, hi in zip(*small, strict=True)]
            for i, value in stored_ids:
                deltas[i] = value
            ids.extend(itertools.accumulate(deltas))
            tf.extend(_binfloat_struct(count).unpack(weights))
        return ids, tf
    converted = _converted(heads)
    if converted is None:
        return None
    ids.frombytes(converted[0].tobytes())
    tf.frombytes(converted[1].tobytes())
    return ids, tf


@functools.lru_cache(maxsize=16)
def _binfloat_struct(count: int) -> struct.Struct:
    """``count`` ``BINFLOAT`` opcodes (``G`` then a big-endian double)."""
    return struct.Struct(">" + "xd" * count)


Head = tuple[int, tuple[bytes, bytes] | None, Any, Any]
"""A block's count, then its ids' deltas (their low and high bytes), the
deltas past 65535 (``(index, delta)`` pairs) and its weights (``BINFLOAT``
opcodes), as :func:`_laid_head` reads them; or ``None``, its ids' deltas and
its weights as stored (as the unpickler reads them)."""


def _heads(found: list[tuple[int, int, bytes]]) -> list[Head] | None:
    """The heads of a term's blocks (see :data:`Head`), or ``None`` when one
    is not as expected."""
    heads: list[Head] = []
    for count, comp, data in found:
        rest = zlib.decompressobj() if comp else None
        raw = rest.decompress(data, _HEAD_BYTES * count + 64) if rest is not None else data
        head = _laid_head(raw, count)
        if head is None:
            if rest is not None:
                raw += rest.decompress(rest.unconsumed_tail) + rest.flush()
            read = _unpickled_head(raw, count)
            if read is None:
                return None
            heads.append((count, None, *read))
        else:
            heads.append((count, head[:2], head[2], head[3]))
    return heads


def _converted(heads: list[Head]) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.float64]] | None:
    """The ids and weights of a term's blocks, converted all at once."""
    counts = [head[0] for head in heads]
    n = sum(counts)
    held = np.array(counts, dtype=np.int64)
    starts = np.cumsum(held) - held
    laid = [head[1] for head in heads if head[1] is not None]
    if len(laid) == len(heads):  # every block laid out as expected
        deltas = np.frombuffer(b"".join([lo for lo, _ in laid]), np.uint8).astype(np.int64)
        deltas |= np.frombuffer(b"".join([hi for _, hi in laid]), np.uint8).astype(np.int64) << 8
        where: list[int] = []
        large: list[int] = []
        for start, (_, _, others, _) in zip(starts.tolist(), heads, strict=True):
            for i, value in others:
                where.append(start + i)
                large.append(value)
        deltas[where] = large
        tf = _binfloats(b"".join([head[3] for head in heads]))
    else:  # some blocks as the unpickler read them
        id_parts: list[npt.NDArray[np.int64]] = []
        tf_parts: list[npt.NDArray[np.float64]] = []
        for count, small, stored_ids, weights in heads:
            if small is None:
                id_parts.append(np.frombuffer(array("q", stored_ids), dtype=np.int64))
                tf_parts.append(np.frombuffer(array("d", _weights_of(weights, count)), np.float64))
            else:
                block = np.frombuffer(small[0], np.uint8).astype(np.int64)
                block |= np.frombuffer(small[1], np.uint8).astype(np.int64) << 8
                for i, value in stored_ids:
                    block[i] = value
                id_parts.append(block)
                tf_parts.append(_binfloats(weights))
        deltas = np.concatenate(id_parts)
        tf = np.concatenate(tf_parts)
    if len(deltas) != n or len(tf) != n:
        return None
    # Each block's deltas summed from its first id (stored whole).
    summed = np.cumsum(deltas)
    ids = summed - np.repeat(summed[starts] - deltas[starts], held)
    if n and (ids.min() < -(2**31) or ids.max() >= 2**31):
        return None  # as the matcher reads them (which fails)
    return ids.astype(np.int32), tf


def _binfloats(opcodes: bytes) -> npt.NDArray[np.float64]:
    """The values of consecutive ``BINFLOAT`` opcodes (``G`` and a big-endian double)."""
    laid = np.frombuffer(opcodes, dtype=np.uint8).reshape(-1, 9)[:, 1:]
    return np.ascontiguousarray(laid).view(">f8").ravel().astype(np.float64)


_OP_SIZE = {0x4B: 2, 0x4D: 3, 0x4A: 5}
"""The bytes of pickle's ``BININT1``, ``BININT2`` and ``BININT`` opcodes, argument included."""

_ONE = b"G" + struct.pack(">d", 1.0)


_MOST_RUNS = 32
"""Most runs of ids (of deltas below 256, below 65536 or larger) in a block
that :func:`_laid_head` reads one after another (beyond, the unpickler reads
the block faster)."""


def _laid_head(raw: bytes, count: int) -> tuple[bytes, bytes, list[tuple[int, int]], bytes] | None:
    """A block's ids' deltas (their low and high bytes, one each a posting, and
    the deltas past 65535 as ``(index, delta)``) and weights (``count``
    ``BINFLOAT`` opcodes), read where they lie when the block is pickled as
    nearly always: the ids a tuple of ints in runs of ``BININT1`` and
    ``BININT2``, the weights ``None``, one float or a tuple of floats. The
    opcodes are checked where the layout puts them, so a block laid out
    otherwise gives ``None`` (then the unpickler reads it)."""
    if count < 4:  # a tuple of 1 to 3 items is pickled without a MARK
        return None
    if raw[:2] == b"\x80\x02":  # Whoosh's protocol: tuples memoized with BINPUT 0, 1
        at, memo_ids = 2, b"tq\x00"
    elif raw[:3] == b"\x80\x04\x95":  # searchlib's: a FRAME, tuples memoized with MEMOIZE
        at, memo_ids = 11, b"t\x94"
    else:
        return None
    if raw[at : at + 1] != b"(":
        return None
    at += 1
    low: list[bytes] = []
    high: list[bytes] = []
    others: list[tuple[int, int]] = []
    i = 0
    for _ in range(_MOST_RUNS):
        # A run of the same opcode from here: every 2nd (K) or 3rd (M) byte.
        op = raw[at : at + 1]
        if op == b"K":
            ops = raw[at : at + 2 * (count - i) : 2]
            run = len(ops) - len(ops.lstrip(b"K"))
            low.append(raw[at + 1 : at + 2 * run : 2])
            high.append(bytes(run))
            at += 2 * run
        elif op == b"M":
            ops = raw[at : at + 3 * (count - i) : 3]
            run = len(ops) - len(ops.lstrip(b"M"))
            low.append(raw[at + 1 : at + 3 * run : 3])
            high.append(raw[at + 2 : at + 3 * run : 3])
            at += 3 * run
        elif op == b"J" and len(raw) >= at + 5:
            run = 1
            others.append((i, int.from_bytes(raw[at + 1 : at + 5], "little", signed=True)))
            low.append(b"\0")
            high.append(b"\0")
            at += 5
        else:
            return None
        i += run
        if i == count:
            break
    else:
        return None
    if raw[at : at + len(memo_ids)] != memo_ids:
        return None
    at += len(memo_ids)
    kind = raw[at : at + 1]
    if kind == b"N":  # all 1.0
        weights = _ONE * count
    elif kind == b"G" and len(raw) >= at + 9:  # all the same, float32 as Whoosh reads it
        (stored,) = struct.unpack(">d", raw[at + 1 : at + 9])
        weights = (b"G" + struct.pack(">d", array("f", [stored])[0])) * count
    elif kind == b"(":
        weights = raw[at + 1 : at + 1 + 9 * count]
        if weights[::9] != b"G" * count or raw[at + 1 + 9 * count : at + 2 + 9 * count] != b"t":
            return None
    else:
        return None
    return b"".join(low), b"".join(high), others, weights


def _unpickled_head(raw: bytes, count: int) -> tuple[Any, Any] | None:
    """A whole block's ids (deltas) and weights as stored, by the unpickler
    (as the matcher reads them), or ``None`` when not a block of ``count``."""
    try:
        data = restricted_loads(raw)
    except Exception:  # noqa: BLE001 - the matcher's reading will say what is wrong
        return None
    if type(data) is not tuple or len(data) != 3 or type(data[0]) is not tuple:
        return None
    if len(data[0]) != count:
        return None
    return data[0], data[1]


def read_positions(reader: Any, field: str, btext: bytes) -> tuple[array[int], array[int]]:
    """The passage number and position of each occurrence of a term in the
    segment of ``reader`` (empty when the segment lacks it)."""
    docs = array("q")
    where = array("q")
    with contextlib.suppress(TermNotFound):  # absent from this segment
        m = reader.postings(field, btext)
        leaf, deleted = _unfiltered(m)
        if leaf is not None and type(fmt := leaf.format) is POSITIONS_FORMAT:
            # Every block's values first, then all of them decoded at once.
            owners = array("q")  # the passage of each value
            values: list[bytes] = []
            found = _term_blocks(leaf) if leaf._fixedsize is None or leaf._fixedsize < 0 else None
            if found is not None:
                for count, comp, data in found:
                    block = restricted_loads(zlib.decompress(data) if comp else data)
                    if type(block) is not tuple or len(block) != 3 or len(block[0]) != count:
                        found = None  # not as expected: as the matcher reads it
                        break
                    owners.extend(itertools.accumulate(block[0]))
                    values.extend(block[2])
                    if len(owners) != len(values):
                        raise ValueError("a posting block holds fewer values than postings")
            if found is None:
                del owners[:], values[:]
                m = reader.postings(field, btext)
                m = m.child if deleted is not None else m  # (from its first block)
                m.reset()
                while m.is_active():
                    m._read_values()
                    owners.extend(_block_ids(m))
                    values.extend(m._values)
                    if len(owners) != len(values):
                        raise ValueError("a posting block holds fewer values than postings")
                    m._next_block()
            if deleted is not None and owners:
                kept = ~_left_out(deleted, np.frombuffer(owners, dtype=np.int64))
                if not kept.all():
                    owners = array("q", np.frombuffer(owners, dtype=np.int64)[kept].tobytes())
                    values = list(itertools.compress(values, kept.tolist()))
            held_docs, held_where = _decode_positions(owners, values, fmt)
            docs.frombytes(held_docs.tobytes())
            where.frombytes(held_where.tobytes())
        else:  # inlined postings, or a segment with deletions
            while m.is_active():
                held = m.value_as("positions")
                docs.extend([m.id()] * len(held))
                where.extend(held)
                m.next()
    return docs, where


_MAX_MARKED = 1000
"""Most items pickle writes between one MARK and its APPENDS (``pickle._BATCHSIZE``)."""


def _decode_positions(
    owners: array[int], values: list[bytes], fmt: Any
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Each occurrence's passage (its value's owner) and position, the values
    of Whoosh's ``Positions`` format decoded all at once.

    A value is a 4-byte count then ``pickle.dumps(deltas, 2)``; nearly always
    each delta is one ``BININT1`` (the words of a passage are fewer than 256
    apart), so the value is laid out exactly as its count says: its opcodes
    sit at known places and are checked there, all values at a time, and its
    deltas are every other byte. A value laid out otherwise is decoded alone,
    as :func:`positions_of` (or Whoosh) decodes it. The result is what
    decoding each value with :func:`positions_of` gives, in order.
    """
    n = len(values)
    owner = np.frombuffer(owners, dtype=np.int64) if n else np.zeros(0, dtype=np.int64)
    lens = np.fromiter(map(len, values), dtype=np.int64, count=n)
    buf = np.frombuffer(b"".join(values), dtype=np.uint8)
    starts = np.cumsum(lens) - lens
    good = lens >= 12  # the shortest laid-out value (one position, no STOP)
    at = np.where(good, starts, 0)  # where nothing can be read: any index
    if len(buf) < 12:
        good[:] = False
        at = np.zeros(n, dtype=np.int64)
        buf = np.zeros(12, dtype=np.uint8)
    count = np.zeros(n, dtype=np.int64)
    for i in range(4):  # big-endian
        count = count << 8 | buf[at + i]
    for i, byte in enumerate(_PICKLED_LIST):
        good &= buf[at + 4 + i] == byte
    single = count == 1
    marked = ~single
    good &= (count >= 1) & (count <= _MAX_MARKED)
    # Laid out: the list's items from `first` (after a MARK when more than
    # one), two bytes each, then APPEND or APPENDS, then maybe STOP.
    laid = np.where(single, 12, 11 + 2 * count)
    last = np.where(good, starts + lens - 1, 0)
    good &= (lens == laid) | ((lens == laid + 1) & (buf[last] == 0x2E))
    first = at + 9 + marked
    good &= ~marked | (buf[np.where(good, at + 9, 0)] == 0x28)
    close = np.where(good, first + 2 * count, 0)
    good &= buf[close] == np.where(single, 0x61, 0x65)
    # Every item's opcode must be BININT1.
    held = np.where(good, count, 0)
    total = int(held.sum())
    before = np.cumsum(held) - held
    item = np.arange(total, dtype=np.int64) - np.repeat(before, held)
    ops = np.repeat(first, held) + 2 * item
    odd = buf[ops] != 0x4B
    if odd.any():
        good[np.repeat(np.arange(n), held)[odd]] = False
        keep = np.repeat(good, held)
        ops, item = ops[keep], item[keep]
        held = np.where(good, count, 0)
        before = np.cumsum(held) - held
    summed = np.cumsum(buf[ops + 1], dtype=np.int64)
    # Each value's own sums: less what the values before it added.
    prior = np.concatenate((np.zeros(1, dtype=np.int64), summed))[before]
    laid_positions = summed - np.repeat(prior, held)
    if good.all():
        return np.repeat(owner, held), laid_positions
    # Values decoded alone, put in their places.
    alone = {
        int(i): positions_of(values[i]) or fmt.decode_positions(values[i])
        for i in np.flatnonzero(~good)
    }
    sizes = held.copy()
    for i, found in alone.items():
        sizes[i] = len(found)
    out = np.empty(int(sizes.sum()), dtype=np.int64)
    dest = np.cumsum(sizes) - sizes
    out[np.repeat(dest, held) + item] = laid_positions
    for i, found in alone.items():
        out[dest[i] : dest[i] + len(found)] = found
    return np.repeat(owner, sizes), out


def _block_ids(m: Any) -> Iterable[int]:
    """The document numbers of a W3 matcher's current block (``_read_ids``, in C)."""
    if m._data is None:
        m._read_data()
    return itertools.accumulate(m._data[0])  # stored as deltas


def _block_weights(m: Any) -> Iterable[float]:
    """The weights of a W3 matcher's current block, as ``_read_weights`` gives them.

    Stored as ``None`` (all 1.0), one float (all the same) or a tuple of the
    block's float32 values, already Python floats.
    """
    if m._data is None:
        m._read_data()
    return _weights_of(m._data[1], m._blocklength)


def _weights_of(stored: Any, count: int) -> Iterable[float]:
    """A block's ``count`` weights from how the block stores them."""
    if stored is None:
        return [1.0] * count
    if isinstance(stored, float):
        return [float(array("f", [stored])[0])] * count
    return stored  # type: ignore[no-any-return]


_VALUES_START = b"c_codecs\nencode\n"
"""How a block's pickled values begin (protocol 2 pickles bytes as a call to
``_codecs.encode``): after its ids and weights, which never hold these bytes
(every 1 to 9 bytes there is a K, M, J or G opcode)."""


def _block_head(m: Any) -> tuple[tuple[int, ...], Any] | None:
    """A W3 matcher's current block's ids (as stored, deltas) and weights (as
    stored), unpickled without its values, or ``None`` when the block does not
    look as expected (then read it whole).

    The values of a positional field are the positions, one bytes object per
    posting: in Whoosh's protocol-2 blocks, unpickling them (a call to
    ``_codecs.encode`` each) is most of the cost of reading a block, and
    scoring does not need them. A protocol-4 block (searchlib's term writer)
    is read whole: its values are plain bytes objects, and reading them costs
    about what finding where they start would.
    """
    count = m._blocklength
    raw = m._postfile.get(m._dataoffset, m._nextoffset - m._dataoffset)
    rest = None
    if m._compression:
        # Only as much as the head can take (most of a positional field's
        # block is its values): the rest is inflated only when wanted.
        rest = zlib.decompressobj()
        raw = rest.decompress(raw, _HEAD_BYTES * count + 64)
        if rest.eof:
            rest = None
    else:
        raw = bytes(raw)
    try:
        if rest is not None and raw[:2] == _PROTOCOL_4:
            raw += rest.decompress(rest.unconsumed_tail) + rest.flush()
        if raw[:2] == _PROTOCOL_4:
            # Bytes values are plain bytes objects there, read as fast as the
            # rest: the whole block costs about what its head would.
            data = restricted_loads(raw)
            if type(data) is not tuple or len(data) != 3:
                return None
            head = data[:2]
        else:
            at = raw.find(_VALUES_START)
            if at <= 0:
                return None  # no values there (or not as expected): read it whole
            if raw[at - 1] == 0x28:  # MARK: the values are a tuple of more than 3
                at -= 1
            # The data tuple's first two items, then TUPLE2 and STOP.
            head = restricted_loads(raw[:at] + b"\x86.")
    except Exception:  # noqa: BLE001 - any surprise: read the block whole
        return None
    if type(head) is not tuple or len(head) != 2:
        return None
    ids, weights = head
    if type(ids) is not tuple or len(ids) != count:
        return None
    if weights is None or type(weights) is float:
        return head
    if type(weights) is tuple and len(weights) == count:
        return head
    return None


_HEAD_BYTES = 14
"""Most bytes a posting's id and weight take in a pickled block (``BININT``
and ``BINFLOAT``, 5 and 9): the head of ``count`` postings lies within the
first ``14 * count + 64`` bytes."""

_PROTOCOL_4 = b"\x80\x04"
"""How a block pickled with protocol 4 begins (searchlib's term writer,
:data:`searchlib._whoosh.termwriter.BLOCK_PROTOCOL`; Whoosh writes protocol 2)."""

_PICKLED_LIST = b"\x80\x02]q\x00"
"""How ``pickle.dumps(a_list, 2)`` starts: protocol 2, an empty list, memo 0."""

_LIST_OPCODES = frozenset(b"(ae.")
"""MARK, APPEND, APPENDS and STOP: the opcodes around the ints of a pickled list."""


def positions_of(value: bytes) -> list[int] | None:
    """The positions in a posting value of Whoosh's ``Positions`` format, read directly.

    The value is the count, then the position deltas as ``pickle.dumps(list, 2)``
    writes a list of ints (``formats.Positions.encode``). Reading those few
    opcodes here costs a fraction of unpickling each posting through the
    restricted unpickler (a phrase over frequent words reads tens of thousands).
    Anything else gives ``None``: the caller decodes it the Whoosh way.
    """
    if value[4:9] != _PICKLED_LIST:
        return None
    out: list[int] = []
    append = out.append
    at = 0
    i, end = 9, len(value)
    while i < end:
        op = value[i]
        if op == 0x4B:  # BININT1
            at += value[i + 1]
            i += 2
        elif op == 0x4D:  # BININT2
            at += value[i + 1] | value[i + 2] << 8
            i += 3
        elif op == 0x4A:  # BININT (signed)
            at += int.from_bytes(value[i + 1 : i + 5], "little", signed=True)
            i += 5
        elif op in _LIST_OPCODES:
            i += 1
            continue
        else:
            return None
        append(at)
    if len(out) != int.from_bytes(value[:4], "big"):
        return None
    return out
