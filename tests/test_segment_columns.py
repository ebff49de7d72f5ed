"""A segment's field lengths and document ids read in one piece are what
Whoosh's readers give passage by passage."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from searchlib import Document, Index
from searchlib._whoosh import columns


def _documents(start: int, count: int) -> list[Document]:
    docs = []
    for i in range(start, start + count):
        # an empty title now and then, texts of every length (long ones cut
        # into several passages), ids of several lengths and accents
        title = "" if i % 4 == 0 else f"Titre {i} " + "mot " * (i % 7)
        text = " ".join(f"mot{j % 13} salaire" for j in range(1 + (i * 37) % 400))
        docs.append(Document(f"doc-é{i}" + "x" * (i % 5), title, text))
    return docs


def _segment_readers(ix: Index) -> list[Any]:
    view = ix.search_context().state.scoring
    return [seg.reader for _, seg, _ in view.leaves]


def _one_by_one_lengths(reader: Any, field: str) -> Any:
    count = reader.doc_count_all()
    dfl = reader.doc_field_length
    return np.fromiter((dfl(d, field) for d in range(count)), np.float64, count)


def _one_by_one_numbers(reader: Any, numbering: dict[str, int]) -> Any:
    column = reader.column_reader("doc_id")
    count = reader.doc_count_all()
    return np.array(
        [numbering.setdefault(str(column[d]), len(numbering)) for d in range(count)],
        dtype=np.int64,
    )


@pytest.fixture(params=["disk", "memory"])
def index(request: pytest.FixtureRequest, tmp_path: Path) -> Index:
    ix = Index.create(tmp_path / "ix") if request.param == "disk" else Index.in_memory()
    ix.add(_documents(0, 120))
    ix.add(_documents(120, 60))  # a second segment
    ix.add(_documents(10, 5))  # copies replace (deleted passages in the first segment)
    return ix


def test_field_lengths_are_whooshs(index: Index) -> None:
    readers = _segment_readers(index)
    assert len(readers) >= 2
    for reader in readers:
        for field in ("title", "text", "exact", "no_such_field"):
            found = columns.field_lengths(reader, field)
            expected = _one_by_one_lengths(reader, field)
            assert found.dtype == np.float64
            assert np.array_equal(found, expected, equal_nan=True), field
        # empty titles are passages without the field: what Whoosh gives (None)
        assert np.isnan(columns.field_lengths(reader, "title")).any()


def test_document_numbers_are_whooshs_in_the_order_met(index: Index) -> None:
    found: dict[str, int] = {}
    expected: dict[str, int] = {}
    for reader in _segment_readers(index):  # one numbering shared by the segments
        numbers = columns.doc_numbers(reader, "doc_id", found)
        assert np.array_equal(numbers, _one_by_one_numbers(reader, expected))
        assert list(found.items()) == list(expected.items())
    assert len(found) == 180  # every id, each once (copies of an id share its number)


class _OtherReader:
    """A reader that is not a Whoosh segment reader: read passage by passage."""

    def __init__(self, lengths: list[int | None], ids: list[str]) -> None:
        self.lengths = lengths
        self.ids = ids

    def doc_count_all(self) -> int:
        return len(self.ids)

    def doc_field_length(self, docnum: int, field: str) -> int | None:
        return self.lengths[docnum]

    def column_reader(self, field: str, translate: bool = True) -> list[str]:
        return self.ids


def test_other_readers_are_read_passage_by_passage() -> None:
    reader = _OtherReader([3, None, 5], ["b", "a", "b"])
    lengths = columns.field_lengths(reader, "text")
    assert np.array_equal(lengths, [3.0, np.nan, 5.0], equal_nan=True)
    numbering: dict[str, int] = {"a": 0}
    assert columns.doc_numbers(reader, "doc_id", numbering).tolist() == [1, 0, 1]
    assert numbering == {"a": 0, "b": 1}


def _iter_from(reader: Any, field: str, start: str) -> list[tuple[bytes, int]]:
    if field not in reader.schema:
        return []
    out = []
    for (name, text), info in reader.iter_from(field, start):
        if name != field:
            break
        out.append((text, int(info.doc_frequency())))
    return out


@pytest.mark.parametrize("start", ["", "mot1", "sal", "titre", "zz", "é", "\x80"])
def test_term_frequencies_are_whooshs(index: Index, start: str) -> None:
    index.add([Document("accents", "Été à Noël", "œuvre été éléments élément mot1")])
    searcher = index.search_context().state.searcher
    whole = searcher.reader()
    readers = [whole, *(r for r, _ in whole.leaf_readers())]
    assert len(readers) >= 4  # the index, and three segments: their counts are summed
    for reader in readers:
        for field in ("exact", "text", "title", "doc_id", "no_such_field"):
            found = list(columns.term_frequencies(reader, field, start.encode()))
            assert found == _iter_from(reader, field, start), (field, start)
    # a term in several segments: its counts summed
    assert dict(columns.term_frequencies(whole, "text", b"mot1"))[b"mot1"] > max(
        dict(columns.term_frequencies(r, "text", b"mot1")).get(b"mot1", 0)
        for r, _ in whole.leaf_readers()
    )


def test_term_frequencies_of_an_empty_index() -> None:
    reader = Index.in_memory().search_context().state.searcher.reader()
    assert list(columns.term_frequencies(reader, "exact", b"")) == _iter_from(reader, "exact", "")
    assert list(columns.term_frequencies(reader, "exact", b"")) == []
