"""A term's postings and positions decoded a term at a time are what Whoosh's
own matchers read, posting by posting, in every segment of an index."""

from __future__ import annotations

import itertools
import random
import struct
from array import array
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from whoosh.formats import Positions

from searchlib import Document, Index
from searchlib._whoosh import blocks, termwriter
from searchlib.corpus.loaders import seed_documents


def _synthetic() -> Iterator[Document]:
    """Words laid out to reach every way a block is stored: dense ones (deltas
    below 256, one block after another), sparse ones (deltas of 256 and more,
    first ids past 65535 never, but past 255 often), frequencies all 1 (no
    weights stored), all the same (one weight) or mixed, positions far apart
    (two-byte deltas) and many in one passage."""
    rng = random.Random(7)
    for i in range(1500):
        words = ["commun"]  # every passage: frequency 1 everywhere
        if i % 3 == 0:
            words += ["dense"] * (1 + i % 4)  # mixed frequencies
        if i % 2 == 0:
            words += ["paire", "paire"]  # always twice: one weight per block
        if i % 300 == 7:
            words += ["rare"] * (1 + i % 2)
        if i % 5 == 0:
            words += [f"mot{rng.randrange(40)}" for _ in range(rng.randrange(5, 120))]
            words += ["loin"]  # far from its first occurrence
        if i % 11 == 0:
            words += ["loin"]
        if i % 5 == 1 and i < 650:  # 130 passages: a last block of 2
            words += ["queue"]
        rng.shuffle(words)
        yield Document(f"s{i}", f"Titre {i % 17}", " ".join(words))


def _build(ix: Index) -> Index:
    docs = [*seed_documents(), *_synthetic()]
    # Three commits (three segments), then deletions (a segment read through
    # Whoosh's deletion filter) and a replacement.
    ix.add(docs[:700])
    ix.add(docs[700:1300])
    ix.add(docs[1300:])
    ix.delete([d.id for d in docs[1310:1400:9]])
    ix.add([docs[1350]])
    return ix


@pytest.fixture(
    scope="module",
    params=[
        # searchlib's writer (protocol 4, short blocks stored uncompressed)
        (termwriter.BLOCK_PROTOCOL, termwriter.MIN_COMPRESSED),
        # Whoosh's bytes: protocol 2, every block compressed
        (2, 0),
        (2, termwriter.MIN_COMPRESSED),
    ],
    ids=["searchlib", "whoosh", "protocol-2-short-plain"],
)
def index(request: pytest.FixtureRequest) -> Index:
    protocol, shortest = request.param
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(termwriter, "BLOCK_PROTOCOL", protocol)
        mp.setattr(termwriter, "MIN_COMPRESSED", shortest)
        return _build(Index.in_memory())


def _matcher_postings(leaf: Any, field: str, btext: bytes) -> tuple[list[Any], ...]:
    """Ids, weights and positions as Whoosh's matcher hands them out, one at a time."""
    ids: list[int] = []
    weights: list[float] = []
    docs: list[int] = []
    where: list[int] = []
    m = leaf.postings(field, btext)
    while m.is_active():
        ids.append(m.id())
        weights.append(m.weight())
        if field in ("text", "title"):
            held = m.value_as("positions")
            docs += [m.id()] * len(held)
            where += held
        m.next()
    return ids, weights, docs, where


def test_term_decoders_read_what_whooshs_matchers_read(index: Index) -> None:
    reader = index.searcher().reader()
    leaves = list(reader.leaf_readers())
    assert len(leaves) >= 3 and any(leaf.has_deletions() for leaf, _ in leaves)
    laid = unpickled = blocks_read = filtered = 0
    for leaf, _ in leaves:
        for field, btext in leaf.all_terms():
            ids, weights, docs, where = _matcher_postings(leaf, field, btext)
            got_ids, got_tf = blocks.read_postings(leaf, field, btext)
            assert (got_ids.typecode, got_tf.typecode) == ("i", "d")
            assert list(got_ids) == ids, (field, btext)
            assert list(got_tf) == weights, (field, btext)
            if field in ("text", "title"):
                got_docs, got_where = blocks.read_positions(leaf, field, btext)
                assert (got_docs.typecode, got_where.typecode) == ("q", "q")
                assert list(got_docs) == docs and list(got_where) == where, (field, btext)
            # How the blocks were read (the ways this test must cover).
            m, deleted = blocks._unfiltered(leaf.postings(field, btext))
            found = blocks._term_blocks(m) if m is not None else None
            if deleted is not None and found is not None:
                in_blocks = sum(count for count, _, _ in found)
                filtered += in_blocks > len(ids)
            for count, comp, data in found or ():
                raw = blocks.zlib.decompress(data) if comp else data
                blocks_read += 1
                if blocks._laid_head(raw, count) is None:
                    unpickled += 1
                else:
                    laid += 1
    assert laid > 100 and unpickled > 100 and blocks_read == laid + unpickled
    assert filtered > 20  # terms of deleted passages, read whole then filtered


def test_terms_of_many_blocks_mixing_both_readings(index: Index) -> None:
    # A term whose blocks are read some where they lie, some by the
    # unpickler (its last block of 1 to 3 postings, ids far apart...), is
    # read as Whoosh reads it.
    reader = index.searcher().reader()
    mixed = 0
    for leaf, _ in reader.leaf_readers():
        for field, btext in leaf.all_terms():
            m = leaf.postings(field, btext)
            if type(m) is not blocks.LEAF_MATCHER:
                continue
            found = blocks._term_blocks(m)
            assert found is not None
            heads = blocks._heads(found)
            assert heads is not None
            if len({head[1] is None for head in heads}) < 2:
                continue
            mixed += 1
            ids, weights, _, _ = _matcher_postings(leaf, field, btext)
            assert blocks.read_postings(leaf, field, btext) == (
                array("i", ids),
                array("d", weights),
            )
    assert mixed >= 1


def _value(positions: list[int]) -> bytes:
    return bytes(Positions().encode(positions))


position_lists = st.lists(
    st.one_of(st.integers(0, 300), st.integers(0, 2**31 - 1)), min_size=1, max_size=40
).map(sorted)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.one_of(
            position_lists.map(_value),
            position_lists.map(lambda p: _value(p)[:-1]),  # stored without its STOP
            st.lists(st.integers(0, 255), min_size=1001, max_size=1300).map(
                lambda p: _value(sorted(p))  # more than one MARK
            ),
            position_lists.map(lambda p: _value(p)[:4] + _value(p)[4:].replace(b"]", b")")),
            st.just(_value([3, 9])[:-3] + b"e."),  # miscounted
        ),
        max_size=30,
    )
)
def test_positions_of_many_values_decoded_at_once_as_one_by_one(values: list[bytes]) -> None:
    owners = array("q", range(100, 100 + len(values)))
    fmt = blocks.POSITIONS_FORMAT()
    expected_docs: list[int] = []
    expected_where: list[int] = []
    for owner, value in zip(owners, values, strict=True):
        try:
            held = blocks.positions_of(value) or fmt.decode_positions(value)
        except Exception:  # noqa: BLE001 - not a value at all: the decoder must fail too
            with pytest.raises(Exception):  # noqa: B017
                blocks._decode_positions(owners, values, fmt)
            return
        expected_docs += [owner] * len(held)
        expected_where += held
    docs, where = blocks._decode_positions(owners, values, fmt)
    assert docs.tolist() == expected_docs
    assert where.tolist() == expected_where


def test_a_block_laid_out_otherwise_is_left_to_the_unpickler() -> None:
    import pickle

    def head(ids: tuple[int, ...], weights: Any, protocol: int) -> Any:
        values = tuple(_value([i]) for i in range(len(ids)))
        return blocks._laid_head(pickle.dumps((ids, weights, values), protocol), len(ids))

    for protocol in (2, 4):
        ids = (300, *itertools.repeat(3, 9))
        assert head(ids, None, protocol) == (
            bytes([44, *[3] * 9]),  # 300 = 1 * 256 + 44
            bytes([1, *[0] * 9]),
            [],
            blocks._ONE * 10,
        )
        laid = head((70000, 1, 300, 3), (1.5, 2.0, 1.0, 3.0), protocol)
        assert laid is not None
        assert laid[:3] == (bytes([0, 1, 44, 3]), bytes([0, 0, 1, 0]), [(0, 70000)])
        assert struct.unpack(">xdxdxdxd", laid[3]) == (1.5, 2.0, 1.0, 3.0)
        assert head((1, 2, 3), None, protocol) is None  # no MARK for 3 items
        assert head((1, 2, 3, 4), (1.0, 2.0, 1, 3.0), protocol) is None  # an int weight
        assert head((1, 2, 3, 4), "x", protocol) is None
        many_runs = tuple(300 if i % 2 else 1 for i in range(2 * blocks._MOST_RUNS + 2))
        assert head(many_runs, None, protocol) is None


@settings(max_examples=300, deadline=None)
@given(
    deltas=st.lists(
        st.one_of(st.integers(0, 255), st.integers(256, 65535), st.integers(65536, 2**31 - 1)),
        min_size=1,
        max_size=130,
    ),
    weights=st.one_of(
        st.none(),
        st.floats(0.5, 1000.0),
        st.lists(st.floats(0.5, 1000.0), min_size=130, max_size=130),
    ),
    protocol=st.sampled_from([2, 4]),
)
def test_block_heads_read_where_they_lie_as_the_unpickler_reads_them(
    deltas: list[int], weights: Any, protocol: int
) -> None:
    import pickle

    count = len(deltas)
    stored_weights = tuple(weights[:count]) if isinstance(weights, list) else weights
    values = tuple(_value([i]) for i in range(count))
    raw = pickle.dumps((tuple(deltas), stored_weights, values), protocol)
    laid = blocks._laid_head(raw, count)
    if laid is None:
        return  # read by the unpickler
    low, high, others, opcodes = laid
    read = [lo | hi << 8 for lo, hi in zip(low, high, strict=True)]
    for i, value in others:
        read[i] = value
    assert read == deltas
    expected = list(blocks._weights_of(stored_weights, count))
    assert list(blocks._binfloat_struct(count).unpack(opcodes)) == expected
    assert blocks._binfloats(opcodes).tolist() == expected
