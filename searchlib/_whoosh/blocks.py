"""Reading Whoosh 2.7.5's posting blocks whole, for the numpy scoring path.

Whoosh's matchers hand out one posting at a time; these functions read a
term's postings (and positions) a block at a time (up to 128 postings), from
the block arrays Whoosh's own ``id()``/``weight()``/``value()`` read, and
decode what they can directly: a block's ids and weights without unpickling
its values, and a posting's positions from the few pickle opcodes Whoosh's
``Positions`` format writes. Anything that does not look as expected is read
the Whoosh way (through searchlib's safe matchers). Tested against Whoosh's
own matchers in ``tests/test_fastpath.py``.
"""

from __future__ import annotations

import contextlib
import itertools
import zlib
from array import array
from collections.abc import Iterable
from typing import Any

from whoosh.reading import TermNotFound

from searchlib._whoosh.safepickle import restricted_loads
from searchlib._whoosh.storage import LEAF_MATCHER, POSITIONS_FORMAT


def read_postings(reader: Any, field: str, btext: bytes) -> tuple[array[int], array[float]]:
    """Passage numbers (within the segment of ``reader``) and term frequencies
    of a term (empty when the segment lacks it)."""
    ids = array("i")
    tf = array("d")
    with contextlib.suppress(TermNotFound):  # absent from this segment
        m = reader.postings(field, btext)
        if type(m) is LEAF_MATCHER:
            # Whole blocks at a time: Whoosh 2.7.5's block arrays, as its own
            # id()/weight() read them.
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


def read_positions(reader: Any, field: str, btext: bytes) -> tuple[array[int], array[int]]:
    """The passage number and position of each occurrence of a term in the
    segment of ``reader`` (empty when the segment lacks it)."""
    docs = array("q")
    where = array("q")
    with contextlib.suppress(TermNotFound):  # absent from this segment
        m = reader.postings(field, btext)
        if type(m) is LEAF_MATCHER and type(fmt := m.format) is POSITIONS_FORMAT:
            while m.is_active():
                m._read_values()
                for doc, value in zip(_block_ids(m), m._values, strict=True):
                    held = positions_of(value) or fmt.decode_positions(value)
                    docs.extend([doc] * len(held))
                    where.extend(held)
                m._next_block()
        else:  # inlined postings, or a segment with deletions
            while m.is_active():
                held = m.value_as("positions")
                docs.extend([m.id()] * len(held))
                where.extend(held)
                m.next()
    return docs, where


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
    raw = m._postfile.get(m._dataoffset, m._nextoffset - m._dataoffset)
    raw = zlib.decompress(raw) if m._compression else bytes(raw)
    try:
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
                return None
            if raw[at - 1] == 0x28:  # MARK: the values are a tuple of more than 3
                at -= 1
            # The data tuple's first two items, then TUPLE2 and STOP.
            head = restricted_loads(raw[:at] + b"\x86.")
    except Exception:  # noqa: BLE001 - any surprise: read the block whole
        return None
    count = m._blocklength
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
