"""Several processes (and threads) on one index.

Readers in other processes keep searching while a writer commits and see the
old or the new state, never an error; a second writer gets
``IndexLockedError`` at once or after the timeout it asked for, and proceeds
when the first one is done; a writer killed while holding the lock does not
block the next one.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Iterator
from multiprocessing.synchronize import Event
from pathlib import Path
from typing import Any

import pytest

from searchlib import Document, Index, IndexLockedError

BATCH = 7  # documents per commit, each with the word "commun"
COMMITS = int(os.environ.get("SEARCHLIB_STRESS_COMMITS", "12"))
SPAWN = multiprocessing.get_context("spawn")


def batch(k: int) -> list[Document]:
    text = "commun " + " ".join(f"mot{k}x{j}" for j in range(40))
    return [Document(f"c{k}-{j}", f"Lot {k}", f"{text} numéro {j}.") for j in range(BATCH)]


def reader(path: str, reopen: bool, started: Event, stop: Event, out: Any) -> None:
    """Search until told to stop; report the totals seen and any error."""
    totals: set[int] = set()
    errors: list[str] = []
    searches = 0
    ix = Index.open(path)
    try:
        while not stop.is_set() or searches < 3:
            try:
                if reopen:  # opening races with commits too
                    ix.close()
                    ix = Index.open(path)
                totals.add(ix.search("commun", limit=3).total)
                assert ix.document("c0-0") is not None
            except Exception as e:  # noqa: BLE001  # reported: the test asserts there are none
                errors.append(f"{type(e).__name__}: {e}")
            searches += 1
            if searches == 3:
                started.set()
        # One last search after the writer finished sees the final state.
        totals.add(ix.search("commun", limit=3).total)
    finally:
        ix.close()
        out.put((sorted(totals), errors, searches))


def test_readers_in_other_processes_never_fail_during_commits(tmp_path: Path) -> None:
    path = tmp_path / "ix"
    with Index.create(path) as ix:
        ix.add(batch(0))
    stop = SPAWN.Event()
    out = SPAWN.Queue()
    procs = []
    for reopen in (False, True):
        started = SPAWN.Event()
        p = SPAWN.Process(target=reader, args=(str(path), reopen, started, stop, out))
        p.start()
        procs.append((p, started))
    for _, started in procs:
        assert started.wait(120), "a reader did not start"
    with Index.open(path) as ix:
        for k in range(1, COMMITS):
            ix.add(batch(k))
            if k % 4 == 0:
                ix.delete([f"c{k}-0"])
                ix.add([batch(k)[0]])  # back, so every state is a multiple of BATCH
            if k == COMMITS // 2:
                ix.optimize()  # a merge deletes the segment files readers may hold
    stop.set()
    results = [out.get(timeout=120) for _ in procs]
    for p, _ in procs:
        p.join(60)
        assert p.exitcode == 0
    valid = {BATCH * (k + 1) for k in range(COMMITS)} | {
        BATCH * (k + 1) - 1 for k in range(COMMITS)
    }
    for totals, errors, searches in results:
        print(f"reader: {searches} searches, totals seen {totals}")
        assert errors == []
        assert set(totals) <= valid
        assert BATCH * COMMITS in totals  # the final state, after the writer finished
        assert searches >= 3


def hold_lock(path: str, holding: Event, release: Event) -> None:
    """Start a batch and keep the write lock until told to let go."""

    def docs() -> Iterator[Document]:
        yield Document("child", "Enfant", "écrit par l'autre processus")
        holding.set()
        release.wait(120)

    with Index.open(path) as ix:
        ix.add(docs())


def test_second_writer_gets_a_clear_error_or_waits(tmp_path: Path) -> None:
    path = tmp_path / "ix"
    Index.create(path).close()
    holding, release = SPAWN.Event(), SPAWN.Event()
    child = SPAWN.Process(target=hold_lock, args=(str(path), holding, release))
    child.start()
    try:
        assert holding.wait(120)
        with Index.open(path) as ix:
            with pytest.raises(IndexLockedError, match="locked by another writer"):
                ix.add([Document("me", "Moi", "premier essai")])
            with pytest.raises(IndexLockedError, match=r"waited 0\.2 s"):
                ix.add([Document("me", "Moi", "deuxième essai")], timeout=0.2)
            with pytest.raises(IndexLockedError):
                ix.delete(["child"])
            with pytest.raises(IndexLockedError):
                ix.optimize()
            threading.Timer(0.3, release.set).start()
            assert ix.add([Document("me", "Moi", "troisième essai")], timeout=60) == 1
            assert {h.doc_id for h in ix.search("essai OR processus")} == {"me", "child"}
    finally:
        release.set()
        child.join(60)
    assert child.exitcode == 0


def test_a_killed_writer_does_not_leave_a_stale_lock(tmp_path: Path) -> None:
    path = tmp_path / "ix"
    with Index.create(path) as ix:
        ix.add([Document("old", "Ancien", "déjà là")])
    holding, release = SPAWN.Event(), SPAWN.Event()
    child = SPAWN.Process(target=hold_lock, args=(str(path), holding, release))
    child.start()
    assert holding.wait(120)
    assert child.pid is not None
    os.kill(child.pid, signal.SIGKILL)
    child.join(60)
    assert child.exitcode == -signal.SIGKILL
    assert (
        path / "searchlib_WRITELOCK"
    ).exists()  # the file stays; the flock went with the process
    with Index.open(path) as ix:
        assert ix.add([Document("new", "Nouveau", "après le crash")]) == 1  # no wait
        assert {h.doc_id for h in ix.search("deja OR crash")} == {"old", "new"}
        assert ix.document("child") is None


def test_two_index_objects_in_one_process_share_the_lock(tmp_path: Path) -> None:
    path = tmp_path / "ix"
    Index.create(path).close()
    first, second = Index.open(path), Index.open(path)
    entered = threading.Event()

    def docs() -> Iterator[Document]:
        yield Document("a", "A", "un")
        with pytest.raises(IndexLockedError):
            second.add([Document("b", "B", "deux")])
        entered.set()

    first.add(docs())
    assert entered.is_set()
    assert second.add([Document("b", "B", "deux")]) == 1
    assert len(second) == 2 and len(first) == 2  # both see the last commit


def test_threads_search_while_another_thread_commits(tmp_path: Path) -> None:
    path = tmp_path / "ix"
    ix = Index.create(path)
    ix.add(batch(0))
    stop = threading.Event()
    errors: list[BaseException] = []
    totals: set[int] = set()

    def search() -> None:
        while not stop.is_set():
            try:
                totals.add(ix.search("commun", limit=3).total)
            except BaseException as e:  # noqa: BLE001  # collected for the assertion below
                errors.append(e)
                return

    threads = [threading.Thread(target=search) for _ in range(3)]
    for t in threads:
        t.start()
    for k in range(1, COMMITS):
        ix.add(batch(k))
        if k == COMMITS // 2:
            ix.optimize()
    stop.set()
    for t in threads:
        t.join()
    ix.close()
    assert errors == []
    assert totals <= {BATCH * (k + 1) for k in range(COMMITS)}


# -- a long run: writers committing and saving vectors, readers never failing --------

STRESS_SECONDS = float(os.environ.get("SEARCHLIB_STRESS_SECONDS", "40"))
"""How long the writers of the stress test write (the test ends soon after)."""

STRESS_WORDS = "commun salaire congé météo soleil pluie musique cour juge réseau".split()


def stress_batch(writer: int, k: int) -> list[Document]:
    words = STRESS_WORDS[k % len(STRESS_WORDS)], STRESS_WORDS[(k * 3 + writer) % len(STRESS_WORDS)]
    return [
        Document(
            f"w{writer}-{k}-{j}",
            f"Lot {k} de {writer}",
            f"commun {words[0]} {words[1]} " + " ".join(f"mot{k}x{j}x{i}" for i in range(30)),
        )
        for j in range(BATCH)
    ]


def stress_writer(path: str, writer: int, seconds: float, out: Any) -> None:
    """Commit for ``seconds``: additions (encoded as they land), replacements,
    deletions, merges and full vector syncs; report the count and any error."""
    from searchlib.semantic import HashingEmbedder

    end = time.monotonic() + seconds
    commits, errors = 0, []
    ix = Index.open(path, embedder=HashingEmbedder(64))
    k = 0
    try:
        while time.monotonic() < end:
            k += 1
            try:
                if k % 5 == 0:
                    ix.delete([f"w{writer}-{k - 3}-{j}" for j in range(3)], timeout=60)
                elif k % 13 == 0:
                    ix.optimize(timeout=60)
                elif k % 7 == 0:
                    ix.embed()
                else:
                    ix.add(stress_batch(writer, k) + stress_batch(writer, k - 2)[:2], timeout=60)
                commits += 1
            except Exception as e:  # noqa: BLE001  # reported: the test asserts there are none
                errors.append(f"{type(e).__name__}: {e}")
    finally:
        ix.close()
        out.put(("writer", commits, errors))


def stress_reader(path: str, reopen: bool, started: Event, stop: Event, out: Any) -> None:
    """Search (hybrid, by vectors alone, lexically), reopening the index each
    time when ``reopen``, until told to stop; report the counts and any error."""
    from searchlib.semantic import HashingEmbedder

    def fresh() -> Index:
        return Index.open(path, embedder=HashingEmbedder(64))

    searches, opens, errors = 0, 1, []
    ix = fresh()
    try:
        while not stop.is_set() or searches < 30:
            try:
                if reopen:
                    ix.close()
                    ix = fresh()
                    opens += 1
                word = STRESS_WORDS[searches % len(STRESS_WORDS)]
                for semantic in ("auto", "only", "off"):
                    found = ix.search(f"commun {word}", semantic=semantic, time_limit=60)
                    assert found.total > 0 and found.hits
                    searches += 1
                assert ix.document("c0-0") is not None
                if searches % 10 == 0:
                    ix.stats()
            except Exception as e:  # noqa: BLE001  # reported: the test asserts there are none
                errors.append(f"{type(e).__name__}: {e}")
            if searches >= 30:
                started.set()
    finally:
        ix.close()
        out.put(("reader", searches, opens, errors))


@pytest.mark.slow
def test_readers_never_fail_while_writers_commit_and_save_vectors(tmp_path: Path) -> None:
    """Two writers commit (and save vectors) for STRESS_SECONDS while two
    readers search, one reopening the index each time: no reader ever fails,
    and no writer either (SQLite's and Lucene's promise)."""
    from searchlib.semantic import HashingEmbedder

    path = tmp_path / "ix"
    with Index.create(path, embedder=HashingEmbedder(64)) as ix:
        ix.add(batch(0))
    stop = SPAWN.Event()
    out = SPAWN.Queue()
    readers = []
    for reopen in (False, True):
        started = SPAWN.Event()
        p = SPAWN.Process(target=stress_reader, args=(str(path), reopen, started, stop, out))
        p.start()
        readers.append((p, started))
    for _, started in readers:
        assert started.wait(120), "a reader did not start"
    writers = [
        SPAWN.Process(target=stress_writer, args=(str(path), w, STRESS_SECONDS, out))
        for w in (1, 2)
    ]
    for p in writers:
        p.start()
    reports = [out.get(timeout=STRESS_SECONDS + 300) for _ in writers]
    stop.set()
    reports += [out.get(timeout=120) for _ in readers]
    for p in [*writers, *(r for r, _ in readers)]:
        p.join(60)
        assert p.exitcode == 0
    for report in reports:
        print(*report[:-1], f"{len(report[-1])} errors", report[-1][:3])
    assert all(report[-1] == [] for report in reports)
    assert all(report[1] >= 5 for report in reports if report[0] == "writer")
    assert all(report[1] >= 30 for report in reports if report[0] == "reader")
    with Index.open(path, embedder=HashingEmbedder(64)) as ix:  # the vectors follow the text
        report = ix.embed()
        assert report.encoded == 0 and report.dropped == 0
