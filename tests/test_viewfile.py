"""ViewFile reads a buffer in place and behaves like io.BytesIO for every read Whoosh makes."""

from __future__ import annotations

import io
import mmap
import pickle
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from whoosh.filedb.structfile import BufferFile

from searchlib import Document, Index
from searchlib._whoosh.storage import _SafeBufferFile  # the files an index is read through
from searchlib._whoosh.viewfile import ViewFile

OPS = st.lists(
    st.one_of(
        st.tuples(st.just("read"), st.integers(-1, 40)),
        st.tuples(st.just("readline"), st.integers(-1, 40)),
        st.tuples(st.just("seek"), st.integers(0, 60)),
        st.tuples(st.just("seek_cur"), st.integers(-5, 20)),
        st.tuples(st.just("seek_end"), st.integers(-30, 0)),
    ),
    max_size=25,
)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=50), OPS)
def test_reads_like_bytesio(data: bytes, ops: list[tuple[str, int]]) -> None:
    view, ref = ViewFile(memoryview(data)), io.BytesIO(data)
    for op, n in ops:
        if op == "read":
            assert view.read(n) == ref.read(n)
        elif op == "readline":
            assert view.readline(n) == ref.readline(n)
        elif op == "seek":
            assert view.seek(n) == ref.seek(n)
        elif op == "seek_cur" and ref.tell() + n >= 0:
            assert view.seek(n, io.SEEK_CUR) == ref.seek(n, io.SEEK_CUR)
        elif op == "seek_end" and len(data) + n >= 0:
            assert view.seek(n, io.SEEK_END) == ref.seek(n, io.SEEK_END)
        assert view.tell() == ref.tell()


def test_pickles_load_from_it() -> None:
    data = pickle.dumps({"a": [1, 2.5, b"x"], "b": "é"}) + pickle.dumps(("t", None), protocol=0)
    f = ViewFile(memoryview(data))
    assert pickle.load(f) == {"a": [1, 2.5, b"x"], "b": "é"}
    assert pickle.load(f) == ("t", None)


def test_pickles_load_through_peek_and_leave_the_position_after_each() -> None:
    objects = [(3, 1, 2.5, 3, 0, 0), ("x" * 2000, list(range(300))), None, b"\x00" * 700]
    data = b"".join(pickle.dumps(o, protocol=p) for o in objects for p in (2, 5))
    f = ViewFile(memoryview(data))
    peeks: list[int] = []
    peek = f.peek

    def counting(size: int = 0) -> bytes:
        peeks.append(size)
        return peek(size)

    f.peek = counting  # type: ignore[method-assign]
    ref = io.BytesIO(data)
    for o in objects:
        for _ in (2, 5):
            assert pickle.load(f) == o
            pickle.load(ref)
            assert f.tell() == ref.tell()
    assert peeks  # the unpickler did prefetch
    assert f.peek(10) == b"" and f.tell() == len(data)
    f.seek(1)
    assert f.peek() == data[1:2] and f.peek(10_000) == data[1 : 1 + 512] and f.tell() == 1


def test_searchlib_buffer_files_share_the_mapped_segment(tmp_path: Path) -> None:
    path = tmp_path / "ix"
    with Index.create(path) as ix:
        ix.add([Document("a", "Titre", "Le contrat de travail à durée déterminée.")])
    with Index.open(path) as ix:
        assert [h.doc_id for h in ix.search("contrat")] == ["a"]
    (seg,) = path.glob("*.seg")
    with seg.open("rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
        buf = _SafeBufferFile(memoryview(mapped)[:16])
        assert isinstance(buf.file, ViewFile)
        assert buf.read(16) == mapped[:16]
        buf.file = None  # drop the view before the map closes
        del buf


def test_opening_an_index_copies_no_part_of_its_segment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The parts of a compound segment are views of its memory map: Whoosh's
    ``BufferFile`` (whose ``BytesIO`` copies the whole part, reading every page
    of the segment at each opening) is never made."""
    path = tmp_path / "ix"
    with Index.create(path) as ix:
        ix.add([Document("a", "Titre", "Le contrat de travail à durée déterminée.")])
    copies: list[int] = []
    original = BufferFile.__init__

    def counting(self: BufferFile, buf: Any, *args: Any, **kwargs: Any) -> None:
        copies.append(len(buf))
        original(self, buf, *args, **kwargs)

    monkeypatch.setattr(BufferFile, "__init__", counting)
    with Index.open(path) as ix:
        assert [h.doc_id for h in ix.search("contrat")] == ["a"]
        assert ix.document("a") is not None
    assert copies == []
