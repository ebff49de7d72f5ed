"""The index under faults: failed batches, damaged files, leftovers of a crash."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from searchlib import Document, Index
from searchlib._whoosh.storage import _SafeRamStorage as _RamStorage
from searchlib.errors import IndexCorruptError, IndexNotFoundError
from searchlib.folder import META_FILE


def words(n: int, tag: str) -> str:
    return " ".join(f"{tag}{i % 97} commun" for i in range(n))


def test_a_failed_batch_with_duplicates_commits_nothing(empty_index: Index) -> None:
    empty_index.add([Document("a", "A", "déjà là")])

    def broken() -> Iterator[Document]:
        yield Document("b", "B", "premier")
        yield Document("b", "B", "second")  # used to commit the batch so far
        yield Document("a", "A", "remplacé")
        raise OSError("disk gone")

    with pytest.raises(OSError, match="disk gone"):
        empty_index.add(broken())
    assert len(empty_index) == 1
    assert empty_index.document("a") == Document("a", "A", "déjà là", {})
    assert empty_index.search("premier OR second OR remplace").total == 0


def test_an_interrupted_batch_commits_nothing(empty_index: Index) -> None:
    def interrupted() -> Iterator[Document]:
        yield Document("a", "A", "un")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        empty_index.add(interrupted())
    assert len(empty_index) == 0
    assert empty_index.add([Document("b", "B", "deux")]) == 1  # the lock was released


def test_one_index_object_stays_exact_through_merges(empty_index: Index) -> None:
    # Whoosh's Searcher.refresh() re-added merged segments: passages came back.
    for k in range(12):
        empty_index.add(
            [Document(f"d{k}", "T", words(50, f"k{k}x")), Document("same", "S", f"v{k}")]
        )
        stats = empty_index.stats()
        assert (stats.documents, stats.passages) == (k + 2, k + 2)
        assert [h.doc_id for h in empty_index.search("v0 OR v1 OR v2 OR v11")] == (
            ["same"] if k in (0, 1, 2, 11) else []
        )
    empty_index.optimize()
    assert empty_index.stats().passages == 13
    assert len(empty_index.search("commun", limit=50).hits) == 12


def test_an_empty_index_can_be_searched_then_filled() -> None:
    for ix in (Index.in_memory(),):
        assert ix.search("rien").total == 0
        assert ix.search("toujours rien").total == 0  # Whoosh failed refreshing empty readers
        ix.add([Document("a", "A", "enfin quelque chose")])
        assert ix.search("chose").total == 1


def test_posting_pool_spilled_to_disk_is_read_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # limitmb=1 makes the pool write sorted runs to temporary files (pickled
    # term records, searchlib._whoosh.postingpool) and merge them at commit: the index must
    # hold exactly the postings of one built in memory without spilling.
    from searchlib._whoosh.postingpool import GroupedPostingPool

    runs: list[int] = []
    original = GroupedPostingPool._read_run

    def counting(self: GroupedPostingPool, path: str) -> object:
        runs.append(1)
        return original(self, path)

    monkeypatch.setattr(GroupedPostingPool, "_read_run", counting)
    docs = [Document(f"d{i}", "T", words(300, f"w{i}x")) for i in range(30)]
    with Index.create(tmp_path / "ix") as ix:
        ix.add(docs, limitmb=1)
        assert len(ix) == 30
        assert ix.search("w5x3").hits[0].doc_id == "d5"
        spilled = _all_postings(ix)
    assert len(runs) > 1  # the pool did spill
    whole = Index.in_memory()
    whole.add(docs)
    assert _all_postings(whole) == spilled
    memory = Index.in_memory()  # runs in memory storage too
    memory.add(docs, limitmb=1)
    assert _all_postings(memory) == spilled


def _all_postings(ix: Index) -> list[tuple[str, bytes, list[tuple[int, float, bytes]]]]:
    reader = ix.searcher().reader()
    out = []
    for field in ("text", "exact", "title"):
        for term in reader.lexicon(field):
            m = reader.postings(field, term)
            rows = []
            while m.is_active():
                rows.append((m.id(), m.weight(), m.value()))
                m.next()
            out.append((field, term, rows))
    return out


def test_in_memory_writers_get_private_temporary_folders() -> None:
    # Whoosh's RamStorage used one $TMPDIR/searchlib.tmp for every writer of
    # every process, and the first writer to finish deleted it.
    a, b = _RamStorage().temp_storage("searchlib.tmp"), _RamStorage().temp_storage("searchlib.tmp")
    try:
        assert a.folder != b.folder
    finally:
        a.destroy()
        b.destroy()


def test_half_written_toc_left_by_a_crash_is_removed(tmp_path: Path) -> None:
    path = tmp_path / "ix"
    with Index.create(path) as ix:
        ix.add([Document("a", "A", "un")])
    stale = path / "_searchlib_7.toc.1764370000.123456"
    stale.write_bytes(b"half a TOC")
    with Index.open(path) as ix:
        assert len(ix) == 1  # readers ignore it
        ix.add([Document("b", "B", "deux")])  # the next writer, holding the lock, removes it
        assert len(ix) == 2
    assert not stale.exists()


def damage(path: Path, how: str) -> None:
    if how == "truncated toc":
        toc = max(path.glob("_searchlib_*.toc"))
        toc.write_bytes(toc.read_bytes()[:40])
    elif how == "garbage toc":
        toc = max(path.glob("_searchlib_*.toc"))
        toc.write_bytes(b"\x00" * 200)
    elif how == "missing segment":
        next(path.glob("*.seg")).unlink()
    elif how == "truncated segment":
        seg = next(path.glob("*.seg"))
        seg.write_bytes(seg.read_bytes()[:100])
    elif how == "bad meta":
        (path / META_FILE).write_text("{not json")
    elif how == "meta not an object":
        (path / META_FILE).write_text(json.dumps([1, 2]))


@pytest.mark.parametrize(
    "how",
    [
        "truncated toc",
        "garbage toc",
        "missing segment",
        "truncated segment",
        "bad meta",
        "meta not an object",
    ],
)
def test_damaged_index_files_give_a_clear_error(tmp_path: Path, how: str) -> None:
    path = tmp_path / "ix"
    with Index.create(path) as ix:
        ix.add([Document("a", "A", words(300, "m"))])
    damage(path, how)
    with pytest.raises(IndexCorruptError):
        Index.open(path)


def test_missing_toc_is_not_an_index(tmp_path: Path) -> None:
    path = tmp_path / "ix"
    Index.create(path).close()
    for toc in path.glob("_searchlib_*.toc"):
        toc.unlink()
    with pytest.raises(IndexNotFoundError):
        Index.open(path)


def test_in_memory_indexes_leave_no_temporary_folders(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Each in-memory index used to leave an empty searchlib-* folder in $TMPDIR
    # (the per-document writer asked for a temporary folder of its own).
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setattr(tempfile, "tempdir", None)  # read TMPDIR again
    for _ in range(3):
        with Index.in_memory() as ix:
            ix.add([Document("a", "Titre", "texte")])
            ix.add([Document("b", "Titre", "texte")])
            assert ix.search("texte").total == 2
    assert list(tmp_path.iterdir()) == []
