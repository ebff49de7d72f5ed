"""One stat of an index's folder tells a search whether anything may have
changed since the last one (:class:`searchlib._files.FolderWatch`): a commit,
a model learned or vectors saved by another process are still seen."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from searchlib import Document, Index
from searchlib._files import FolderWatch, replace_text

SECOND = 1_000_000_000


class Clock:
    def __init__(self) -> None:
        self.now = time.time_ns()

    def __call__(self) -> int:
        return self.now


def test_a_quiet_folder_is_unchanged_until_a_file_is_replaced(tmp_path: Path) -> None:
    clock = Clock()
    watch = FolderWatch(tmp_path, clock=clock)
    clock.now += 10 * SECOND  # the folder has been quiet for ten seconds
    assert watch.may_have_changed()  # the first look knows nothing yet
    assert not watch.may_have_changed()
    assert not watch.may_have_changed()
    replace_text(tmp_path, "learned.json", "{}")
    assert watch.may_have_changed()
    assert not watch.may_have_changed()
    (tmp_path / "learned.json").unlink()
    assert watch.may_have_changed()


def test_a_folder_changed_within_the_margin_is_never_trusted(tmp_path: Path) -> None:
    # A coarse file-system clock may give a later change the same time.
    clock = Clock()
    clock.now += FolderWatch.MARGIN_NS // 2
    watch = FolderWatch(tmp_path, clock=clock)
    assert all(watch.may_have_changed() for _ in range(3))


def test_a_missing_folder_may_always_have_changed(tmp_path: Path) -> None:
    clock = Clock()
    clock.now += 10 * SECOND
    watch = FolderWatch(tmp_path / "gone", clock=clock)
    assert watch.may_have_changed() and watch.may_have_changed()
    watch = FolderWatch(tmp_path, clock=clock)
    assert watch.may_have_changed() and not watch.may_have_changed()
    watch.forget()
    assert watch.may_have_changed()


def test_an_open_index_sees_another_writers_commits(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Stamps trusted as soon as they are seen: only the folder's stamp tells the
    # reader that the other index object (another process, as it were) committed.
    monkeypatch.setattr(FolderWatch, "MARGIN_NS", -SECOND)
    path = tmp_path / "ix"
    with Index.create(path) as ix:
        ix.add([Document(id="a", title="Préavis", text="La durée du préavis de démission.")])
    with Index.open(path) as reader, Index.open(path) as writer:
        assert reader.search("préavis").total == 1
        assert reader.search("préavis").total == 1  # the folder seen quiet
        assert reader.search("rupture").total == 0
        writer.add([Document(id="b", title="Rupture", text="Le préavis après une rupture.")])
        assert reader.search("préavis").total == 2
        assert reader.search("rupture").total == 1
        writer.delete(["a"])
        assert reader.search("préavis").total == 1
        assert [h.doc_id for h in reader.search("démission")] == []


def test_readers_sharing_a_watch_each_see_a_change_once(tmp_path: Path) -> None:
    from searchlib._files import FolderReader

    clock = Clock()
    clock.now += 10 * SECOND
    watch = FolderWatch(tmp_path, clock=clock)
    searcher, vectors = FolderReader(watch), FolderReader(watch)
    assert searcher.may_have_changed() and vectors.may_have_changed()  # first looks
    assert not searcher.may_have_changed() and not vectors.may_have_changed()
    replace_text(tmp_path, "vectors.json", "{}")
    assert searcher.may_have_changed()  # this look saw the change...
    assert vectors.may_have_changed()  # ...and the other reader is told too
    assert not searcher.may_have_changed() and not vectors.may_have_changed()
    assert FolderReader(None).may_have_changed()  # no folder: always checked


def test_one_look_serves_every_reader_within_the_block(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from searchlib._files import FolderReader

    stats = _count_stats(monkeypatch, tmp_path)
    clock = Clock()
    clock.now += 10 * SECOND
    watch = FolderWatch(tmp_path, clock=clock)
    searcher, vectors = FolderReader(watch), FolderReader(watch)
    with watch.one_look():
        assert searcher.may_have_changed() and vectors.may_have_changed()
        replace_text(tmp_path, "learned.json", "{}")  # after the block's look: not seen in it
        assert not searcher.may_have_changed() and not vectors.may_have_changed()
    assert len(stats) == 1
    assert searcher.may_have_changed() and vectors.may_have_changed()  # seen at the next look
    assert len(stats) == 3


def test_a_search_looks_at_its_folder_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "ix"
    with Index.create(path) as ix:
        ix.add([Document(id="a", title="Préavis", text="La durée du préavis de démission.")])
    with Index.open(path) as ix:
        ix.search("préavis")
        stats = _count_stats(monkeypatch, path)
        assert ix.search("préavis").total == 1
        assert len(stats) == 1  # the searcher and the vectors share the search's look


def _count_stats(monkeypatch: pytest.MonkeyPatch, folder: Path) -> list[object]:
    """The ``os.stat`` calls of ``folder`` from now on."""
    stats: list[object] = []
    real_stat = os.stat

    def counting_stat(path: object, *args: object, **kwargs: object) -> object:
        if Path(str(path)) == folder:
            stats.append(path)
        return real_stat(path, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "stat", counting_stat)
    return stats
