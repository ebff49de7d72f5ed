"""Messy real input: other encodings, links, odd Unicode forms, huge values.

Each test here failed on the code before the fix it covers (issue 17,
reliability round two).
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import unicodedata
import warnings
from pathlib import Path

import pytest

from searchlib import Document, Index, LoadReport, load_corpus
from searchlib.app.cli import main
from searchlib.documents import TITLE_REPEAT_CHARS
from searchlib.errors import CorpusWarning


def _run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


# -- encodings ------------------------------------------------------------------------


def _folder_with_one_windows_file(tmp_path: Path) -> Path:
    docs = tmp_path / "docs"
    docs.mkdir()
    for i in range(5):
        (docs / f"utf8-{i}.txt").write_text(f"Titre {i}\nLe salarié numéro {i}.", "utf-8")
    (docs / "windows.txt").write_bytes(
        "Congés payés\nL’employeur accorde les congés.".encode("cp1252")
    )
    return docs


def test_a_windows_1252_file_is_read_as_such_and_reported(tmp_path: Path) -> None:
    docs = _folder_with_one_windows_file(tmp_path)
    report = LoadReport()
    found = {d.id: d for d in load_corpus(docs, encoding_errors="fallback", report=report)}
    assert found["windows"].title == "Congés payés"
    assert found["windows"].text == "L’employeur accorde les congés."
    (problem,) = report.problems
    assert problem.action == "decoded" and problem.path.endswith("windows.txt")


def test_the_cli_indexes_a_folder_with_a_windows_file_and_says_so_on_one_line(
    tmp_path: Path,
) -> None:
    docs = _folder_with_one_windows_file(tmp_path)
    code, _, err = _run("index", str(docs), "--index", str(tmp_path / "ix"))
    assert code == 0, err
    warning_lines = [line for line in err.splitlines() if "warning" in line]
    assert len(warning_lines) == 1
    assert warning_lines[0].startswith("searchlib: warning: ")
    assert "windows.txt" in warning_lines[0] and "Windows-1252" in warning_lines[0]
    assert "warnings.warn" not in err and ".py:" not in err  # not Python's format
    with Index.open(tmp_path / "ix") as ix:
        assert ix.search("conges").hits[0].doc_id == "windows"
    code, _, err = _run("index", str(docs), "--index", str(tmp_path / "ix2"), "--encoding", "utf-8")
    assert code == 1 and "invalid UTF-8" in err and "windows.txt" in err


def test_bytes_that_do_not_read_as_french_are_not_guessed(tmp_path: Path) -> None:
    bad = tmp_path / "russe.txt"
    bad.write_bytes("Привет\nмир и труд".encode("cp1251"))
    with pytest.raises(Exception, match="invalid UTF-8"):
        list(load_corpus(bad, encoding_errors="fallback"))


def test_on_error_skip_indexes_the_rest(tmp_path: Path) -> None:
    corpus = tmp_path / "c.jsonl"
    corpus.write_text('{"id": "a", "text": "contrat"}\n{oops\n{"id": "b", "text": "contrat"}\n')
    code, _, err = _run("index", str(corpus), "--index", str(tmp_path / "ix"), "--on-error", "skip")
    assert code == 0
    assert err.count("searchlib: warning: ") == 1 and "c.jsonl:2" in err
    with Index.open(tmp_path / "ix") as ix:
        assert len(ix) == 2


# -- symbolic links -----------------------------------------------------------------------


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symbolic links")
def test_links_out_of_the_folder_are_not_followed_unless_asked(tmp_path: Path) -> None:
    outside = tmp_path / "secret.txt"
    outside.write_text("Secret\nmot de passe")
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text("Titre\ntexte")
    (docs / "lien.txt").symlink_to(outside)
    (docs / "inside.txt").symlink_to(docs / "a.txt")  # a link inside the folder is fine
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ids = sorted(d.id for d in load_corpus(docs))
    assert ids == ["a", "inside"]
    (w,) = [w for w in caught if issubclass(w.category, CorpusWarning)]
    assert "lien.txt" in str(w.message) and "symbolic link" in str(w.message)
    assert sorted(d.id for d in load_corpus(docs, follow_links=True)) == ["a", "inside", "lien"]


# -- Unicode forms -------------------------------------------------------------------------


def test_nfd_text_given_to_the_constructor_is_found(tmp_path: Path) -> None:
    nfd = unicodedata.normalize("NFD", "La cour fédérale de Montréal")
    doc = Document("a", unicodedata.normalize("NFD", "Fédération"), nfd)
    assert doc.text == unicodedata.normalize("NFC", nfd)
    with Index.in_memory() as ix:
        ix.add([doc])
        hit = ix.search("federale montreal").hits[0]
        assert "<mark>fédérale</mark>" in hit.snippet.to_html()
        assert ix.search("federation").total == 1


# -- huge values ------------------------------------------------------------------------------


def test_a_huge_number_in_jsonl_is_a_clear_error_and_skip_mode_skips_it(tmp_path: Path) -> None:
    corpus = tmp_path / "c.jsonl"
    corpus.write_text(
        '{"id": "a", "text": "un"}\n'
        '{"id": "b", "text": "deux", "n": ' + "9" * 5000 + "}\n"
        '{"id": "c", "text": "trois"}\n'
    )
    code, _, err = _run("index", str(corpus), "--index", str(tmp_path / "ix"))
    assert code == 1 and "c.jsonl:2" in err and "Traceback" not in err
    report = LoadReport()
    assert [d.id for d in load_corpus(corpus, errors="skip", report=report)] == ["a", "c"]


def test_skip_mode_never_loads_what_the_index_refuses(tmp_path: Path) -> None:
    deep: object = "x"
    for _ in range(100):
        deep = [deep]
    corpus = tmp_path / "c.jsonl"
    corpus.write_text(
        json.dumps({"id": "a", "text": "un"})
        + "\n"
        + json.dumps({"id": "b", "text": "deux", "fields": deep})
        + "\n"
    )
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 2000))
    report = LoadReport()
    docs = list(load_corpus(corpus, errors="skip", report=report))
    assert [d.id for d in docs] == ["a"]
    assert "nested too deeply" in report.problems[0].message
    with Index.in_memory() as ix:
        assert ix.add(docs) == 1


@pytest.mark.slow
def test_a_huge_title_is_stored_whole_once_and_bounded_with_other_passages() -> None:
    title = " ".join(f"mot{i}" for i in range(40_000))  # about 300 KB
    text = "\n\n".join(f"Paragraphe {i} sur le contrat de travail. " * 10 for i in range(60))
    with Index.in_memory() as ix:
        ix.add([Document("t", title, text)])
        passages = ix.passages("t")
        assert len(passages) > 10
        assert passages[0]["title"] == title
        assert all(len(p["title"]) <= TITLE_REPEAT_CHARS for p in passages[1:])
        assert ix.document("t") == Document("t", title, text)
        assert ix.search("mot39999").hits[0].doc_id == "t"  # the whole title is searchable
        # its head is, with every passage
        assert ix.search("mot5", collapse=False).total == len(passages)


# -- bytes that are not UTF-8 on the command line -------------------------------------------


def _cli(*args: str | bytes, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, "PYTHONIOENCODING": "utf-8", "LC_ALL": "C.UTF-8"}
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[1])
    return subprocess.run(
        [sys.executable, "-m", "searchlib", *args],
        input=stdin,
        capture_output=True,
        env=env,
        check=False,
        timeout=120,
    )


@pytest.fixture(scope="module")
def small_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cli") / "ix"
    with Index.create(path) as ix:
        ix.add([Document("a", "Musique", "La musique baroque.")])
    return path


def test_invalid_utf8_in_an_argument_is_searched_and_printed(small_index: Path) -> None:
    done = _cli("search", b"musique \xff", "--index", str(small_index), "--json")
    assert done.returncode == 0, done.stderr
    results = json.loads(done.stdout)
    assert results["query"] == "musique \ufffd" and results["hits"][0]["doc_id"] == "a"


def test_invalid_utf8_on_the_repl_input_is_read(small_index: Path) -> None:
    done = _cli("repl", "--index", str(small_index), stdin=b"musique \xff\n")
    assert done.returncode == 0, done.stderr
    assert b"Traceback" not in done.stderr and "musique \ufffd".encode() in done.stdout


def test_eval_names_the_bad_line_of_its_files(tmp_path: Path, small_index: Path) -> None:
    queries = tmp_path / "q.jsonl"
    queries.write_bytes(b'{"id": "q1", "text": "musique"}\n{"id": "q2", "text": "\xff"}\n')
    qrels = tmp_path / "r.tsv"
    qrels.write_text("q1\ta\t1\n")
    code, _, err = _run("eval", "--index", str(small_index), "--queries", str(queries))
    assert code == 1 and "q.jsonl:2" in err and "invalid UTF-8" in err
    queries.write_text('{"id": "q1", "text": "musique"}\n')
    qrels.write_text("q1\ta\t1\nq1\tb\t2000\n")
    code, _, err = _run(
        "eval", "--index", str(small_index), "--queries", str(queries), "--qrels", str(qrels)
    )
    assert code == 1 and "r.tsv:2" in err and "out of range" in err


@pytest.mark.parametrize("invisible", ["\u00ad", "\u200b", "\u200c", "\u200d", "\u2060", "\ufeff"])
def test_invisible_characters_inside_a_word_do_not_split_it(invisible: str) -> None:
    text = f"La mu{invisible}sique baroque."
    with Index.in_memory() as ix:
        ix.add([Document("a", "Titre", text)])
        hit = ix.search("musique").hits[0]
        # The mark covers the word as stored, invisible character included.
        assert hit.snippet.to_html() == f"La <mark>mu{invisible}sique</mark> baroque."
    analyzer = Index.in_memory().analyzer
    (token,) = [t for t in analyzer.tokens(text, mode="index") if t.text.startswith("musiq")]
    assert text[token.start : token.end] == f"mu{invisible}sique"
