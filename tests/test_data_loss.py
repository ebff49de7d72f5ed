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
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from searchlib import Document, Index
from searchlib.app.cli import main
from searchlib.errors import IndexExistsError, IndexingError, SearchlibError


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
