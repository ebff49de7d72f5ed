"""Nothing already indexed (nor anything else) is lost by a careless command.

``--overwrite`` replaces only folders searchlib wrote, and only once the new
index is complete; a failed build leaves nothing behind; a write that fails
(a full disk: here a file-size limit) names the index, keeps the old index
as it was and leaves no temporary files.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from searchlib import Document, Index
from searchlib.app.cli import main
from searchlib.errors import (
    IndexCorruptError,
    IndexExistsError,
    IndexingError,
    IndexLockedError,
    SearchlibError,
)
from searchlib.semantic import HashingEmbedder


def _run(*argv: str) -> tuple[int, str, str]:
    import io

    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def _jsonl(path: Path, docs: list[dict[str, object]], bad_line: str | None = None) -> Path:
    lines = [json.dumps(d, ensure_ascii=False) for d in docs]
    if bad_line is not None:
        lines.insert(len(lines) // 2, bad_line)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _docs(n: int, word: str = "contrat") -> list[dict[str, object]]:
    return [
        {"id": f"d{i}", "title": f"Titre {i}", "text": f"Le {word} numéro {i}."} for i in range(n)
    ]


def _tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def test_overwrite_refuses_a_latex_folder_and_keeps_every_file(tmp_path: Path) -> None:
    thesis = tmp_path / "these"
    (thesis / "chapters").mkdir(parents=True)
    (thesis / "these.tex").write_text("\\documentclass{book}")
    (thesis / "these.toc").write_text("\\contentsline{chapter}{Introduction}{1}")
    (thesis / "chapters" / "intro.tex").write_text("Intro")
    (thesis / "x.seg").write_bytes(b"not whoosh")
    before = _tree(thesis)
    corpus = _jsonl(tmp_path / "c.jsonl", _docs(3))
    code, _, err = _run("index", str(corpus), "--index", str(thesis), "--overwrite", "-q")
    assert code == 1
    assert "not an index searchlib wrote" in err
    assert _tree(thesis) == before
    with pytest.raises(SearchlibError, match="not an index searchlib wrote"):
        Index.create(thesis, overwrite=True)
    assert _tree(thesis) == before


def test_a_failed_overwrite_keeps_the_old_index_exactly(tmp_path: Path) -> None:
    target = tmp_path / "my.index"
    good = _jsonl(tmp_path / "good.jsonl", _docs(20))
    assert _run("index", str(good), "--index", str(target), "-q")[0] == 0
    before = _tree(target)
    bad = _jsonl(tmp_path / "bad.jsonl", _docs(30, "bail"), bad_line="{not json")
    code, _, err = _run("index", str(bad), "--index", str(target), "--overwrite", "-q")
    assert code == 1 and "bad.jsonl" in err
    assert _tree(target) == before
    with Index.open(target) as ix:
        assert len(ix) == 20
        assert ix.search("contrat").total == 20
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.jsonl", "good.jsonl", "my.index"]


def test_a_successful_overwrite_replaces_the_index(tmp_path: Path) -> None:
    target = tmp_path / "my.index"
    assert (
        _run("index", str(_jsonl(tmp_path / "a.jsonl", _docs(5))), "--index", str(target))[0] == 0
    )
    corpus = _jsonl(tmp_path / "b.jsonl", _docs(7, "bail"))
    assert _run("index", str(corpus), "--index", str(target), "--overwrite", "-q")[0] == 0
    with Index.open(target) as ix:
        assert len(ix) == 7 and ix.search("bail").total == 7 and ix.search("contrat").total == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.jsonl", "b.jsonl", "my.index"]


def test_a_failed_first_build_leaves_nothing_and_the_cli_speaks_cli(tmp_path: Path) -> None:
    target = tmp_path / "my.index"
    bad = _jsonl(tmp_path / "bad.jsonl", _docs(10), bad_line="[1, 2]")
    code, _, _ = _run("index", str(bad), "--index", str(target), "-q")
    assert code == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.jsonl"]
    good = _jsonl(tmp_path / "good.jsonl", _docs(2))
    assert _run("index", str(good), "--index", str(target), "-q")[0] == 0
    code, _, err = _run("index", str(good), "--index", str(target), "-q")
    assert code == 1
    assert "--overwrite" in err and "overwrite=True" not in err


def test_build_refuses_an_existing_index_without_overwrite(tmp_path: Path) -> None:
    target = tmp_path / "ix"
    Index.build(target, [Document("a", "A", "texte")]).close()
    with pytest.raises(IndexExistsError):
        Index.build(target, [Document("b", "B", "texte")])
    with Index.open(target) as ix:
        assert [d for d in ("a", "b") if ix.document(d)] == ["a"]


# -- a write that fails half-way ---------------------------------------------------------

_LIMITED = """
import resource, signal, sys
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG
limit = int(sys.argv[1])
resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
from searchlib.app.cli import main
sys.exit(main(sys.argv[2:]))
"""


def _limited(limit: int, *argv: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    return subprocess.run(
        [sys.executable, "-c", _LIMITED, str(limit), *argv],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=120,
    )


@pytest.mark.skipif(not hasattr(signal, "SIGXFSZ"), reason="needs RLIMIT_FSIZE")
def test_a_full_disk_names_the_index_keeps_the_old_one_and_leaves_no_temporary_files(
    tmp_path: Path,
) -> None:
    assert resource.RLIMIT_FSIZE  # POSIX
    target = tmp_path / "my.index"
    small = _jsonl(tmp_path / "small.jsonl", _docs(20))
    assert _run("index", str(small), "--index", str(target), "-q")[0] == 0
    before = _tree(target)
    words = " ".join(f"mot{i}x{j}" for i in range(300) for j in range(3))
    big = _jsonl(
        tmp_path / "big.jsonl",
        [{"id": f"b{i}", "title": "Gros", "text": f"{words} {i}"} for i in range(400)],
    )
    # Appending: the write fails, the index stays as it was.
    done = _limited(200_000, "index", str(big), "--index", str(target), "--append", "-q")
    assert done.returncode == 1, done.stderr
    assert done.stderr.startswith(f"searchlib: cannot write the index at {target}: ")
    assert "Traceback" not in done.stderr
    assert _tree(target) == before
    # Overwriting: the same, and no half-built folder is left beside it.
    done = _limited(200_000, "index", str(big), "--index", str(target), "--overwrite", "-q")
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    assert _tree(target) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["big.jsonl", "my.index", "small.jsonl"]
    # And the index still takes writes.
    with Index.open(target) as ix:
        ix.add([Document("new", "Nouveau", "Un contrat de plus.")])
        assert ix.search("contrat").total == 21


def test_write_errors_become_indexing_errors_naming_the_index(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with Index.create(tmp_path / "ix") as ix:
        ix.add([Document("a", "A", "texte")])
        from searchlib._whoosh import docwriter

        def full(*_: object, **__: object) -> None:
            raise OSError(28, "No space left on device", "segment.pst")

        monkeypatch.setattr(docwriter.DocumentAdder, "add", full)
        with pytest.raises(IndexingError, match=r"No space left on device \(segment\.pst\)"):
            ix.add([Document("b", "B", "texte")])
        monkeypatch.undo()
        assert not (tmp_path / "ix" / "searchlib.tmp").exists()
        ix.add([Document("c", "C", "texte")])
        assert {h.doc_id for h in ix.search("texte")} == {"a", "c"}


def test_every_index_file_gets_the_same_permissions(tmp_path: Path) -> None:
    # acronyms.json used to be written 0600: other users could not open the index.
    with Index.create(tmp_path / "ix") as ix:
        ix.add([Document("a", "Sigles", "Le comité social et économique (CSE) est consulté.")])
    modes = {p.name: p.stat().st_mode & 0o777 for p in (tmp_path / "ix").iterdir() if p.is_file()}
    assert "acronyms.json" in modes
    expected = modes["searchlib.json"]
    assert {name: mode for name, mode in modes.items() if name != "searchlib_WRITELOCK"} == {
        name: expected for name in modes if name != "searchlib_WRITELOCK"
    }


# -- one id, one document ------------------------------------------------------------------


def test_delete_takes_a_string_as_one_id_never_as_its_characters(tmp_path: Path) -> None:
    with Index.create(tmp_path / "ix") as ix:
        ix.add([Document(i, i, f"texte {i}") for i in ("a", "b", "c", "abc")])
        assert ix.delete("abc") == 1
        assert sorted(h.doc_id for h in ix.search("texte")) == ["a", "b", "c"]
        assert ix.delete(["a", "b", "a"]) == 2  # an iterable of ids, each once
        assert [h.doc_id for h in ix.search("texte")] == ["c"]


@pytest.mark.parametrize("ids", [b"abc", 7, [1], ["c", None]])
def test_delete_refuses_ids_that_are_not_strings_and_deletes_nothing(
    tmp_path: Path, ids: object
) -> None:
    with Index.create(tmp_path / "ix") as ix:
        ix.add([Document("c", "C", "texte")])
        with pytest.raises(TypeError, match="str"):
            ix.delete(ids)  # type: ignore[arg-type]
        assert len(ix) == 1
        ix.delete("c")  # the lock was not kept
        assert len(ix) == 0


def test_add_takes_one_document(tmp_path: Path) -> None:
    with Index.create(tmp_path / "ix") as ix:
        assert ix.add(Document("a", "Un", "Le contrat de travail.")) == 1
        assert [h.doc_id for h in ix.search("contrat")] == ["a"]


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ("texte", "a Document or an iterable of Documents, not str"),
        (None, "not NoneType"),
        ({"id": "a", "text": "t"}, "not dict"),
        ([Document("a", "A", "t"), {"id": "b", "text": "t"}], r"not dict \(item 2\)"),
    ],
)
def test_add_refuses_what_is_not_documents_and_keeps_nothing(
    tmp_path: Path, given: object, message: str
) -> None:
    with Index.create(tmp_path / "ix") as ix:
        with pytest.raises(TypeError, match=message):
            ix.add(given)  # type: ignore[arg-type]
        assert len(ix) == 0
        assert ix.add(Document("b", "B", "texte")) == 1  # the lock was not kept


class _Cluster:
    """Just enough of an OpenSearch client for ``add`` and ``delete``."""

    def __init__(self) -> None:
        self.deleted: list[list[str]] = []
        self.indexed: list[str] = []
        self.indices = self

    def bulk(self, body: str) -> dict[str, object]:
        actions = [json.loads(line) for line in body.splitlines()[::2]]
        ids = [str(next(iter(a.values()))["_id"]) for a in actions]
        self.indexed.extend(ids)
        return {"items": [{"index": {"_id": i, "status": 201}} for i in ids]}

    def delete_by_query(self, **request: Any) -> dict[str, object]:
        terms = request["body"]["query"].get("terms")
        if terms is not None:
            self.deleted.append(list(terms["doc_id"]))
        return {"deleted": 0}

    def refresh(self, **_: object) -> None:
        pass


def test_the_opensearch_index_takes_one_id_and_one_document_the_same_way() -> None:
    from searchlib.opensearch import OpenSearchIndex
    from searchlib.opensearch.mapping import index_body
    from searchlib.ranking.params import Ranking

    client = _Cluster()
    meta = index_body(Ranking(), ())["mappings"]["_meta"]["searchlib"]
    index = OpenSearchIndex(client, "ix", meta)
    index.delete("abc")
    index.delete(["a", "b", "a"])
    assert client.deleted == [["abc"], ["a", "b"]]
    with pytest.raises(TypeError, match="str"):
        index.delete(b"abc")  # type: ignore[arg-type]
    assert index.add(Document("a", "Un", "Le texte.")) == 1
    assert client.indexed == ["a#1"]
    with pytest.raises(TypeError, match="not str"):
        index.add("texte")  # type: ignore[arg-type]
    assert client.indexed == ["a#1"]


# -- two writers of one folder -------------------------------------------------------------


def _gated(docs: list[Document], barrier: threading.Barrier) -> Iterator[Document]:
    """``docs``, then wait for the other build to be as far."""
    yield from docs
    barrier.wait(timeout=60)


def test_two_builds_of_one_new_folder_one_wins_the_other_is_refused(tmp_path: Path) -> None:
    # Both pass the "nothing there" check before either is complete: the
    # move into place checks again, and the second one is refused.
    target = tmp_path / "ix"
    barrier = threading.Barrier(2)
    outcome: dict[str, object] = {}

    def build(word: str) -> None:
        docs = [Document(f"{word}{i}", "Titre", f"Le {word} numéro {i}.") for i in range(5)]
        try:
            Index.build(target, _gated(docs, barrier)).close()
            outcome[word] = "built"
        except IndexExistsError as e:
            outcome[word] = e

    threads = [threading.Thread(target=build, args=(w,)) for w in ("contrat", "bail")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    built = [w for w, o in outcome.items() if o == "built"]
    refused = [w for w, o in outcome.items() if isinstance(o, IndexExistsError)]
    assert len(built) == 1 and len(refused) == 1, outcome
    with Index.open(target) as ix:
        assert ix.search(built[0]).total == 5 and ix.search(refused[0]).total == 0
    assert [p.name for p in tmp_path.iterdir()] == ["ix"]


def _blocking(docs: list[Document], started: threading.Event, release: threading.Event) -> Any:
    """``docs``, then hold on (the writer holds its lock meanwhile) until ``release``."""
    yield from docs
    started.set()
    release.wait(timeout=60)


def test_an_overwrite_is_refused_while_an_append_writes_and_nothing_is_lost(
    tmp_path: Path,
) -> None:
    target = tmp_path / "ix"
    assert (
        _run("index", str(_jsonl(tmp_path / "a.jsonl", _docs(5))), "--index", str(target))[0] == 0
    )
    started, release, added = threading.Event(), threading.Event(), []

    def append() -> None:
        with Index.open(target) as ix:
            new = [Document("new", "Nouveau", "Un contrat de plus.")]
            added.append(ix.add(_blocking(new, started, release)))

    writer = threading.Thread(target=append)
    writer.start()
    try:
        assert started.wait(timeout=60)
        other = _jsonl(tmp_path / "b.jsonl", _docs(7, "bail"))
        code, _, err = _run("index", str(other), "--index", str(target), "--overwrite", "-q")
    finally:
        release.set()
        writer.join(timeout=60)
    assert code == 1
    assert err == f"searchlib: index at {target} is locked by another writer\n"
    assert added == [1]
    with Index.open(target) as ix:
        assert len(ix) == 6 and ix.search("contrat").total == 6
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.jsonl", "b.jsonl", "ix"]


def test_an_append_is_refused_while_an_overwrite_builds_and_nothing_is_lost(
    tmp_path: Path,
) -> None:
    # The overwrite holds the old index's write lock from its start: an
    # append meanwhile would be swapped away with the old index.
    target = tmp_path / "ix"
    assert (
        _run("index", str(_jsonl(tmp_path / "a.jsonl", _docs(5))), "--index", str(target))[0] == 0
    )
    started, release = threading.Event(), threading.Event()
    new = [Document(f"b{i}", "Bail", f"Le bail {i}.") for i in range(7)]
    builder = threading.Thread(
        target=lambda: Index.build(target, _blocking(new, started, release), overwrite=True).close()
    )
    builder.start()
    try:
        assert started.wait(timeout=60)
        extra = _jsonl(tmp_path / "c.jsonl", [{"id": "c", "text": "Un contrat de plus."}])
        code, _, err = _run("index", str(extra), "--index", str(target), "--append", "-q")
        assert code == 1
        assert err == f"searchlib: index at {target} is locked by another writer\n"
        with Index.open(target) as ix, pytest.raises(IndexLockedError):
            ix.add([Document("c", "C", "Un contrat de plus.")])
    finally:
        release.set()
        builder.join(timeout=60)
    with Index.open(target) as ix:
        assert len(ix) == 7 and ix.search("bail").total == 7
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.jsonl", "c.jsonl", "ix"]


def test_an_overwrite_is_refused_while_the_vectors_are_being_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import fcntl

    target = tmp_path / "ix"
    _semantic(monkeypatch, HashingEmbedder(dimension=16))
    corpus = _jsonl(tmp_path / "a.jsonl", _docs(5))
    assert _run("index", str(corpus), "--index", str(target), "--semantic", "-q")[0] == 0
    before = _tree(target)
    embedding = os.open(target / "vectors.lock", os.O_RDWR)  # as `searchlib embed` holds it
    try:
        fcntl.flock(embedding, fcntl.LOCK_EX)
        code, _, err = _run("index", str(corpus), "--index", str(target), "--overwrite", "-q")
    finally:
        os.close(embedding)
    assert (code, err) == (1, f"searchlib: index at {target} is locked by another writer\n")
    assert _tree(target) == before


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}


RACED = 500  # documents of each build: long enough for the two to overlap


@pytest.mark.slow
def test_two_processes_building_one_folder_one_wins_and_the_other_says_so(
    tmp_path: Path,
) -> None:
    # The reproduction: two `searchlib index` runs at once, both used
    # to exit 0 with one run's documents lost (3 of 3 tries).
    corpora = [
        _jsonl(tmp_path / f"{word}.jsonl", _docs(RACED, word)) for word in ("contrat", "bail")
    ]
    for attempt in range(3):
        target = tmp_path / f"ix{attempt}"
        runs = [
            subprocess.Popen(
                [sys.executable, "-m", "searchlib", "index", str(c), "--index", str(target), "-q"],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
                env=_env(),
                cwd=tmp_path,
            )
            for c in corpora
        ]
        errors = [run.communicate(timeout=300)[1] for run in runs]
        codes = [run.returncode for run in runs]
        assert sorted(codes) == [0, 1], errors
        winner = ("contrat", "bail")[codes.index(0)]
        assert errors[codes.index(1)] == (
            f"searchlib: an index already exists at {target} (add --overwrite to replace it)\n"
        )
        with Index.open(target) as ix:
            assert len(ix) == RACED and ix.search(winner).total == RACED
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


# -- vectors: encoded before the move into place ---------------------------------------------


class _FailingEmbedder(HashingEmbedder):
    """A model that fails at its second batch."""

    def embed_passages(self, texts: Sequence[str]) -> Any:
        if self.calls >= 1:
            raise SearchlibError("the model failed")
        return super().embed_passages(texts)


def _semantic(monkeypatch: pytest.MonkeyPatch, model: HashingEmbedder) -> None:
    from searchlib.app import cli

    monkeypatch.setattr(cli, "_embedder", lambda args: model)


def test_a_semantic_build_encodes_before_the_index_is_in_place(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "ix"
    _semantic(monkeypatch, HashingEmbedder(dimension=16))
    corpus = _jsonl(tmp_path / "a.jsonl", _docs(40))
    code, out, err = _run(
        "index", str(corpus), "--index", str(target), "--semantic", "--batch", "8"
    )
    assert (code, err) == (0, "")
    indexed, encoded = out.splitlines()
    assert indexed.startswith("indexed 40 documents")
    assert (
        encoded.startswith("encoded 40 passages in ") and "(hashing-16, scope passages)" in encoded
    )
    with Index.open(target, embedder=HashingEmbedder(dimension=16)) as ix:
        vectors = ix.stats().vectors
        assert vectors is not None and vectors["count"] == 40
        assert ix.search("contrat").total == 40


def test_a_failed_semantic_overwrite_keeps_the_old_index_and_its_vectors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "ix"
    _semantic(monkeypatch, HashingEmbedder(dimension=16))
    good = _jsonl(tmp_path / "a.jsonl", _docs(20))
    assert _run("index", str(good), "--index", str(target), "--semantic", "-q")[0] == 0
    before = _tree(target)
    _semantic(monkeypatch, _FailingEmbedder(dimension=16))
    other = _jsonl(tmp_path / "b.jsonl", _docs(30, "bail"))
    code, _, err = _run(
        "index", str(other), "--index", str(target), "--overwrite", "--semantic", "--batch", "8"
    )
    assert (code, err) == (1, "searchlib: the model failed\n")
    assert _tree(target) == before
    with Index.open(target, embedder=HashingEmbedder(dimension=16)) as ix:
        assert ix.semantic.has_vectors and len(ix) == 20
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.jsonl", "b.jsonl", "ix"]


def test_a_failed_first_semantic_build_leaves_nothing_and_a_rerun_builds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "ix"
    corpus = _jsonl(tmp_path / "a.jsonl", _docs(20))
    _semantic(monkeypatch, _FailingEmbedder(dimension=16))
    code, _, err = _run("index", str(corpus), "--index", str(target), "--semantic", "--batch", "8")
    assert (code, err) == (1, "searchlib: the model failed\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.jsonl"]
    _semantic(monkeypatch, HashingEmbedder(dimension=16))
    assert _run("index", str(corpus), "--index", str(target), "--semantic", "-q") == (0, "", "")
    with Index.open(target, embedder=HashingEmbedder(dimension=16)) as ix:
        vectors = ix.stats().vectors
        assert vectors is not None and vectors["count"] == 20


_KILLED_WHILE_ENCODING = """
import os, signal, sys
from searchlib.app import cli
from searchlib.semantic import HashingEmbedder

class Killed(HashingEmbedder):
    def embed_passages(self, texts):
        os.kill(os.getpid(), signal.SIGKILL)

cli._embedder = lambda args: Killed(dimension=16)
sys.exit(cli.main(sys.argv[1:]))
"""


def test_a_semantic_overwrite_killed_while_encoding_keeps_the_old_index_and_the_next_build_cleans(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "ix"
    _semantic(monkeypatch, HashingEmbedder(dimension=16))
    good = _jsonl(tmp_path / "a.jsonl", _docs(20))
    assert _run("index", str(good), "--index", str(target), "--semantic", "-q")[0] == 0
    before = _tree(target)
    other = _jsonl(tmp_path / "b.jsonl", _docs(30, "bail"))
    argv = ["index", str(other), "--index", str(target), "--overwrite", "--semantic", "-q"]
    killed = subprocess.run(
        [sys.executable, "-c", _KILLED_WHILE_ENCODING, *argv],
        capture_output=True,
        text=True,
        env=_env(),
        cwd=tmp_path,
        check=False,
        timeout=120,
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert _tree(target) == before
    assert len([p for p in tmp_path.iterdir() if p.name.startswith(".ix.building-")]) == 1
    # The next build removes what the dead one left.
    assert (
        _run("index", str(other), "--index", str(target), "--overwrite", "--semantic", "-q")[0] == 0
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.jsonl", "b.jsonl", "ix"]
    with Index.open(target, embedder=HashingEmbedder(dimension=16)) as ix:
        assert len(ix) == 30 and ix.semantic.store is not None and len(ix.semantic.store) == 30


# -- what dead builds leave, and what messages show ---------------------------------------------


def _dead_pid() -> int:
    done = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    return int(done.stdout)


def test_a_build_removes_the_folders_of_dead_builds_and_only_those(tmp_path: Path) -> None:
    dead = _dead_pid()
    stale = tmp_path / f".ix.building-{dead}-0a1b2c3d4e5f"
    stale.mkdir()
    (stale / "searchlib_abc.seg").write_bytes(b"half a segment")
    sleeper = subprocess.Popen(
        [sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE
    )
    try:
        kept = [
            tmp_path / f".ix.building-{sleeper.pid}-0a1b2c3d4e5f",  # its builder lives
            tmp_path / f".ix.building-{dead}-777777777777",  # locked: a builder elsewhere
            tmp_path / ".ix.building-k2j3h4x_",  # no pid: cannot tell
            tmp_path / f".other.building-{dead}-0a1b2c3d4e5f",  # another index's
        ]
        for folder in kept:
            folder.mkdir()
        import fcntl

        held = os.open(kept[1], os.O_RDONLY)
        fcntl.flock(held, fcntl.LOCK_EX)
        try:
            Index.build(tmp_path / "ix", [Document("a", "A", "texte")]).close()
        finally:
            os.close(held)
        assert not stale.exists()
        assert all(folder.is_dir() for folder in kept)
    finally:
        assert sleeper.stdin is not None
        sleeper.stdin.close()
        sleeper.wait(timeout=60)


def test_a_live_build_in_another_process_is_left_alone_and_its_refusal_is_one_line(
    tmp_path: Path,
) -> None:
    # Also: `searchlib index -` reads standard input (it used to say "no such file").
    target = tmp_path / "ix"
    with subprocess.Popen(
        [sys.executable, "-m", "searchlib", "index", "-", "--index", str(target), "-q"],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=_env(),
        cwd=tmp_path,
    ) as run:
        assert run.stdin is not None and run.stderr is not None
        try:
            for doc in _docs(3):
                run.stdin.write(json.dumps(doc).encode("utf-8") + b"\n")
            run.stdin.flush()
            building = tmp_path / "none"
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and run.poll() is None:
                found = [p for p in tmp_path.iterdir() if p.name.startswith(".ix.building-")]
                if found:
                    (building,) = found
                    break
                time.sleep(0.05)
            assert building.is_dir(), "no building folder"
            Index.build(target, [Document("mine", "A moi", "Le mien.")]).close()
            assert building.is_dir()  # its builder lives: left alone
        finally:
            run.stdin.close()
        assert run.wait(timeout=60) == 1
        assert run.stderr.read().decode() == (
            f"searchlib: an index already exists at {target} (add --overwrite to replace it)\n"
        )
    with Index.open(target) as ix:
        assert [d.id for d in ix.documents()] == ["mine"]
    assert [p.name for p in tmp_path.iterdir()] == ["ix"]


def test_standard_input_is_read(tmp_path: Path) -> None:
    target = tmp_path / "ix"
    lines = "".join(json.dumps(d) + "\n" for d in _docs(4))
    for source in ("-", "/dev/stdin"):
        shutil.rmtree(target, ignore_errors=True)
        done = subprocess.run(
            [sys.executable, "-m", "searchlib", "index", source, "--index", str(target), "-q"],
            input=lines,
            capture_output=True,
            text=True,
            env=_env(),
            cwd=tmp_path,
            check=False,
            timeout=120,
        )
        assert (done.returncode, done.stderr) == (0, ""), source
        with Index.open(target) as ix:
            assert ix.search("contrat").total == 4


@pytest.mark.skipif(not hasattr(signal, "SIGXFSZ"), reason="needs RLIMIT_FSIZE")
def test_a_full_disk_during_a_first_build_names_the_index_not_its_building_folder(
    tmp_path: Path,
) -> None:
    target = tmp_path / "my.index"
    words = " ".join(f"mot{i}x{j}" for i in range(300) for j in range(3))
    big = _jsonl(
        tmp_path / "big.jsonl",
        [{"id": f"b{i}", "title": "Gros", "text": f"{words} {i}"} for i in range(400)],
    )
    done = _limited(200_000, "index", str(big), "--index", str(target), "-q")
    assert done.returncode == 1, done.stderr
    assert done.stderr.startswith(f"searchlib: cannot write the index at {target}: ")
    assert ".building-" not in done.stderr and done.stderr.count("\n") == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["big.jsonl"]


# -- modes -------------------------------------------------------------------------------------


def _modes(folder: Path) -> dict[str, int]:
    found = {".": folder.stat().st_mode & 0o777}
    found.update({p.name: p.stat().st_mode & 0o777 for p in folder.iterdir() if p.is_file()})
    return found


def test_a_new_index_gets_the_umask_and_an_overwrite_keeps_the_modes_it_replaces(
    tmp_path: Path,
) -> None:
    target = tmp_path / "ix"
    corpus = _jsonl(tmp_path / "a.jsonl", _docs(3))
    umask = os.umask(0o022)
    try:
        assert _run("index", str(corpus), "--index", str(target), "-q")[0] == 0
        modes = _modes(target)
        assert modes["."] == 0o755 and modes["searchlib.json"] == 0o644
        # A private umask (a cron job, a service) does not lock the readers out.
        os.umask(0o077)
        assert _run("index", str(corpus), "--index", str(target), "--overwrite", "-q")[0] == 0
        after = _modes(target)
        assert after["."] == 0o755
        assert {mode for name, mode in after.items() if name != "."} == {0o644}
    finally:
        os.umask(umask)


# -- export ------------------------------------------------------------------------------------


def test_export_refuses_to_write_inside_the_index_and_keeps_it(tmp_path: Path) -> None:
    target = tmp_path / "ix"
    assert (
        _run("index", str(_jsonl(tmp_path / "a.jsonl", _docs(3))), "--index", str(target))[0] == 0
    )
    before = _tree(target)
    for option, output in (
        ("-o", target / "searchlib.json"),
        ("-o", target / "export.jsonl"),
        ("--opensearch", target),
        ("--opensearch", target / "os"),
    ):
        code, out, err = _run("export", "--index", str(target), option, str(output))
        assert (code, out) == (1, ""), (option, output)
        assert err.startswith("searchlib: ") and "refusing to write inside the index" in err
        assert err.count("\n") == 1
        assert _tree(target) == before
    with Index.open(target) as ix:
        assert ix.search("contrat").total == 3


def test_a_failed_export_keeps_the_old_output_and_leaves_no_partial_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "ix"
    assert (
        _run("index", str(_jsonl(tmp_path / "a.jsonl", _docs(3))), "--index", str(target))[0] == 0
    )
    output = tmp_path / "out.jsonl"
    output.write_text("old\n", encoding="utf-8")

    def damaged(self: Index) -> Iterator[Document]:
        yield Document("d0", "Titre", "Le contrat.")
        raise IndexCorruptError(f"index at {self.path} is damaged: rebuild it")

    monkeypatch.setattr(Index, "documents", damaged)
    code, _, err = _run("export", "--index", str(target), "-o", str(output))
    assert (code, err) == (1, f"searchlib: index at {target} is damaged: rebuild it\n")
    assert output.read_text(encoding="utf-8") == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.jsonl", "ix", "out.jsonl"]
    monkeypatch.undo()
    assert _run("export", "--index", str(target), "-o", str(output)) == (0, "", "")
    assert len(output.read_text(encoding="utf-8").splitlines()) == 3


# -- deleting needs no model -------------------------------------------------------------------


def test_delete_needs_no_model_and_drops_the_vectors_of_the_documents_deleted(
    tmp_path: Path,
) -> None:
    target = tmp_path / "ix"
    model = HashingEmbedder(dimension=16, name="custom")
    with Index.create(target, embedder=model) as ix:
        ix.add(Document(d["id"], str(d["title"]), str(d["text"])) for d in _docs(3))
    code, out, err = _run("delete", "d1", "--index", str(target))
    assert (code, err) == (0, "")
    assert out == f"deleted 1 document (1 passage) from {target}\n"
    with Index.open(target, embedder=model) as ix:
        store = ix.semantic.store
        assert store is not None and sorted(store.keys) == ["d0#1", "d2#1"]
        assert sorted(h.doc_id for h in ix.search("contrat")) == ["d0", "d2"]  # hybrid
    with Index.open(target) as ix:  # the API, without the model
        assert ix.delete("d2") == 1
        store = ix.semantic.store
        assert store is not None and list(store.keys) == ["d0#1"]


def test_create_with_overwrite_is_refused_while_a_writer_adds_and_nothing_is_lost(
    tmp_path: Path,
) -> None:
    # It used to delete the folder under the writer's feet.
    target = tmp_path / "ix"
    with Index.create(target) as ix:
        ix.add(Document(f"d{i}", "Titre", f"Le contrat {i}.") for i in range(3))
    started, release, added = threading.Event(), threading.Event(), []

    def append() -> None:
        with Index.open(target) as ix:
            new = [Document("new", "Nouveau", "Un contrat de plus.")]
            added.append(ix.add(_blocking(new, started, release)))

    writer = threading.Thread(target=append)
    writer.start()
    try:
        assert started.wait(timeout=60)
        with pytest.raises(IndexLockedError, match="locked by another writer"):
            Index.create(target, overwrite=True)
    finally:
        release.set()
        writer.join(timeout=60)
    assert added == [1]
    with Index.open(target) as ix:
        assert ix.search("contrat").total == 4
    with Index.create(target, overwrite=True) as ix:  # once the writer is done
        assert len(ix) == 0
    assert [p.name for p in tmp_path.iterdir()] == ["ix"]
