"""Indexing with several processes gives the index one process gives."""

from __future__ import annotations

import io
import itertools
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import need_shared, shared_dir

from searchlib import Document, DocumentError, Index, IndexingError
from searchlib._whoosh import parallel
from searchlib.app.cli import main as cli_main
from searchlib.corpus.loaders import load_corpus, seed_documents

SHARED = shared_dir()
CDTN = SHARED / "eval-public" / "cdtn-requetes" / "corpus.jsonl"
QUERIES = ["contrat à durée déterminée", "licenciement économique", "congé maternité", "TorrentSpy"]

pytestmark = pytest.mark.slow  # processes: the slowest module of the suite


def _docs() -> list[Document]:
    need_shared(CDTN)
    return [*seed_documents(), *itertools.islice(load_corpus(CDTN), 0, 3000, 10)]


def _results(ix: Index) -> list[list[tuple[str, str, float]]]:
    out = []
    for q in QUERIES:
        hits = ix.search(q, limit=20, highlight_hits=False).hits
        out.append([(h.doc_id, h.id, round(h.score, 9)) for h in hits])
    return out


def _segments(path: Path) -> int:
    with Index.open(path) as ix:
        return len(ix._reading.store.ix._segments())


@pytest.fixture(scope="module")
def docs() -> list[Document]:
    return _docs()


@pytest.fixture(scope="module")
def one_process(docs: list[Document], tmp_path_factory: pytest.TempPathFactory) -> Any:
    path = tmp_path_factory.mktemp("one") / "ix"
    with Index.create(path) as ix:
        ix.add(docs)
        return ix.stats(), _results(ix)


def test_two_processes_index_what_one_does(
    docs: list[Document], one_process: Any, tmp_path: Path
) -> None:
    stats, results = one_process
    with Index.create(tmp_path / "ix") as ix:
        assert ix.add(docs, procs=2) == len(docs)
        assert (ix.stats().documents, ix.stats().passages) == (stats.documents, stats.passages)
        assert _results(ix) == results  # same hits, same scores
        assert all(results)
    assert _segments(tmp_path / "ix") == 2


def test_replacing_documents_across_processes(docs: list[Document], tmp_path: Path) -> None:
    path = tmp_path / "ix"
    with Index.create(path) as ix:
        ix.add(docs[:200], procs=3)
        changed = [Document(d.id, d.title, "remplacé zygomatique " + d.text) for d in docs[:60]]
        # Each id twice in the batch: the later copy wins, wherever it is indexed.
        twice = [Document(d.id, d.title, "brouillon") for d in changed] + changed
        assert ix.add(twice, procs=3) == 120
        assert len(ix) == 200
        assert ix.search("zygomatique", limit=100).total == 60
        assert ix.search("brouillon").total == 0
        found = {h.doc_id for h in ix.search("zygomatique", limit=100, collapse=True).hits}
        assert found == {d.id for d in changed}


def test_a_bad_document_commits_nothing(docs: list[Document], tmp_path: Path) -> None:
    path = tmp_path / "ix"
    with Index.create(path) as ix:
        ix.add(docs[:20])
        bad = [*docs[20:120], Document("", "vide", "sans identifiant"), *docs[120:150]]
        with pytest.raises(DocumentError):
            ix.add(bad, procs=2)
        assert len(ix) == 20
        ix.add(docs[20:40], procs=2)  # the index is still writable
        assert len(ix) == 40
    assert not any(p.name.endswith(".tmp") for p in path.iterdir())


def test_a_failing_iterable_commits_nothing(docs: list[Document], tmp_path: Path) -> None:
    def broken() -> Iterator[Document]:
        yield from docs[:300]
        raise OSError("disk gone")

    with Index.create(tmp_path / "ix") as ix:
        ix.add(docs[:10])
        with pytest.raises(OSError, match="disk gone"):
            ix.add(broken(), procs=2)
        assert len(ix) == 10


def test_a_dead_helper_is_an_indexing_error(
    docs: list[Document], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(parallel, "BATCH", 1)
    sent: list[int] = []
    original = parallel._Helper.send

    def dying(self: parallel._Helper, batch: list[Document]) -> None:
        sent.append(1)
        if len(sent) == 5:
            self.proc.kill()
            self.proc.wait()
        original(self, batch)

    monkeypatch.setattr(parallel._Helper, "send", dying)
    _failed_add_keeps_nothing(
        tmp_path / "ix", docs, lambda: monkeypatch.setattr(parallel._Helper, "send", original)
    )


def _failed_add_keeps_nothing(path: Path, docs: list[Document], mend: Callable[[], None]) -> None:
    """A two-process add fails (as arranged by the caller), then works once mended."""
    with Index.create(path) as ix:
        ix.add(docs[:10])
        with pytest.raises(IndexingError, match="indexing process"):
            ix.add(docs[10:400], procs=2)
        assert len(ix) == 10
        mend()
        ix.add(docs[10:30], procs=2)
        assert len(ix) == 30
    # Files of the failed attempt belong to no commit: Whoosh removed them.
    with Index.open(path) as ix:
        live = {s.segment_id() for s in ix._reading.store.ix._segments()}
    on_disk = {p.name.split(".")[0] for p in path.glob("searchlib_*.seg")}
    assert on_disk == live


def test_procs_in_memory_and_bad_values() -> None:
    ix = Index.in_memory()
    assert ix.add(list(seed_documents()), procs=4) == len(list(seed_documents()))
    assert ix.search("TorrentSpy").total > 0
    with pytest.raises(ValueError, match="procs"):
        ix.add([], procs=0)


def test_cli_procs(tmp_path: Path) -> None:
    corpus = Path(__file__).parent / "data" / "cli" / "corpus.jsonl"
    target = tmp_path / "ix"
    out, err = io.StringIO(), io.StringIO()
    argv = ["index", str(corpus), "--index", str(target), "--procs", "2"]
    assert cli_main(argv, stdin=io.StringIO(""), stdout=out, stderr=err) == 0
    assert "indexed 5 documents" in out.getvalue()
    with Index.open(target) as ix:
        assert len(ix) == 5
    assert cli_main([*argv[:4], "--procs", "0"], stdin=io.StringIO(""), stdout=out, stderr=err) == 2


def test_a_helper_dying_at_the_end_commits_nothing(
    docs: list[Document], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The caller has written its own segment by the time it reads the helper's.
    original = parallel._Helper.close_input

    def dying(self: parallel._Helper) -> None:
        original(self)
        self.proc.kill()

    monkeypatch.setattr(parallel._Helper, "close_input", dying)
    _failed_add_keeps_nothing(
        tmp_path / "ix",
        docs,
        lambda: monkeypatch.setattr(parallel._Helper, "close_input", original),
    )
