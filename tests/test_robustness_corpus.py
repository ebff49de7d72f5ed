"""Bad corpus input: every problem is raised with its place, or skipped and reported."""

from __future__ import annotations

import gzip
import io
import json
from pathlib import Path

import pytest

from searchlib import Document, Index
from searchlib.app.cli import main
from searchlib.corpus.loaders import LoadReport, Problem, load_corpus, load_jsonl, load_text_file
from searchlib.errors import CorpusFormatError, CorpusWarning, DocumentError, SearchlibWarning

GOOD = b'{"id": "1", "text": "premier"}\n'


def jsonl(*records: object) -> bytes:
    return b"".join(json.dumps(r, ensure_ascii=False).encode() + b"\n" for r in records)


# -- invalid UTF-8 ------------------------------------------------------------------


def test_invalid_utf8_in_text_file_names_file_and_byte(tmp_path: Path) -> None:
    path = tmp_path / "latin1.txt"
    path.write_bytes("Titre\nUn café fermé.".encode("latin-1"))
    with pytest.raises(CorpusFormatError) as info:
        list(load_corpus(path, encoding_errors="strict"))
    assert info.value.path == str(path)
    assert info.value.offset == len("Titre\nUn caf")  # the byte of é
    assert "(byte 12)" in str(info.value)


def test_the_library_reads_encodings_as_the_cli_does(tmp_path: Path) -> None:
    # One rule: French text in Windows-1252 is read so, with a warning naming the
    # file and byte, by default in the library as with the CLI's --encoding auto.
    path = tmp_path / "cp1252.txt"
    path.write_bytes("Titre\nLe comité d’entreprise.".encode("cp1252"))
    with pytest.warns(
        CorpusWarning, match=r"cp1252.txt: not UTF-8 \(byte 14\): read as Windows-1252"
    ):
        (doc,) = load_corpus(path)
    assert doc.text == "Le comité d’entreprise."
    out, err = io.StringIO(), io.StringIO()
    assert main(["index", str(path), "--index", str(tmp_path / "ix")], stdout=out, stderr=err) == 0
    assert "not UTF-8 (byte 14): read as Windows-1252" in err.getvalue()
    with Index.open(tmp_path / "ix") as ix:
        assert ix.document("cp1252") == doc
    other = tmp_path / "cp1251.txt"  # not French in Windows-1252: an error in both
    other.write_bytes("Titre\nПривет мир".encode("cp1251"))
    with pytest.raises(CorpusFormatError, match="invalid UTF-8"):
        list(load_corpus(other))


def test_invalid_utf8_replaced_on_request_and_reported(tmp_path: Path) -> None:
    path = tmp_path / "latin1.txt"
    path.write_bytes("Titre\nUn café fermé.".encode("latin-1"))
    report = LoadReport()
    (doc,) = load_corpus(path, encoding_errors="replace", report=report)
    assert doc.text == "Un caf\ufffd ferm\ufffd."
    (problem,) = report.problems
    assert (problem.action, problem.offset, problem.path) == ("replaced", 12, str(path))
    assert "invalid UTF-8" in problem.message


def test_invalid_utf8_in_jsonl_replaced_with_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl"
    path.write_bytes(GOOD + b'{"id": "2", "text": "caf\xe9"}\n')
    with pytest.warns(CorpusWarning, match=r"c\.jsonl:2 \(byte 55\): invalid UTF-8") as record:
        docs = list(load_jsonl(path, encoding_errors="replace"))
    assert [d.text for d in docs] == ["premier", "caf\ufffd"]
    assert isinstance(record[0].message, SearchlibWarning)
    problem = record[0].message.problem  # type: ignore[union-attr]
    assert isinstance(problem, Problem) and problem.line == 2


def test_lone_surrogate_escape_in_jsonl(tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl"
    path.write_bytes(b'{"id": "s", "text": "a \\ud800 b"}\n')
    with pytest.raises(CorpusFormatError, match="lone surrogate"):
        list(load_jsonl(path, encoding_errors="strict"))
    report = LoadReport()
    (doc,) = load_jsonl(path, encoding_errors="replace", report=report)
    assert doc.text == "a \ufffd b"
    assert report.of("replaced")


def test_byte_order_mark_is_skipped(tmp_path: Path) -> None:
    path = tmp_path / "bom.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + GOOD)
    assert [d.id for d in load_jsonl(path)] == ["1"]
    text = tmp_path / "bom.txt"
    text.write_bytes(b"\xef\xbb\xbfTitre\ncorps")
    assert load_text_file(text).title == "Titre"


# -- binary and empty files in folders -------------------------------------------------


def test_binary_and_empty_files_in_a_folder_are_skipped_with_warnings(tmp_path: Path) -> None:
    (tmp_path / "bon.txt").write_text("Bon\ntexte", "utf-8")
    (tmp_path / "image.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    (tmp_path / "vide.md").write_bytes(b"")
    (tmp_path / "blanc.jsonl").write_bytes(b"\n \n")
    (tmp_path / "gros.jsonl.gz").write_bytes(gzip.compress(b"\x00" * 100))
    (tmp_path / "photo.jpg").write_bytes(b"\xff\xd8\xff")  # not a corpus suffix: silent
    with pytest.warns(CorpusWarning) as record:
        docs = list(load_corpus(tmp_path))
    assert [d.id for d in docs] == ["bon"]
    messages = sorted(str(w.message) for w in record)
    assert len(messages) == 4
    assert any("image.txt (byte 8): binary file (NUL byte) (skipped)" in m for m in messages)
    assert any("gros.jsonl.gz (byte 0): binary" in m for m in messages)
    assert any("vide.md:1: empty file (skipped)" in m for m in messages)
    assert any("blanc.jsonl:1: empty file" in m for m in messages)


def test_report_collects_instead_of_warning(tmp_path: Path) -> None:
    (tmp_path / "bon.txt").write_text("Bon\ntexte", "utf-8")
    (tmp_path / "vide.txt").write_bytes(b"")
    (tmp_path / "notes.pdf").write_bytes(b"%PDF")
    report = LoadReport()
    docs = list(load_corpus(tmp_path, report=report))  # pytest turns warnings into errors
    assert len(docs) == report.documents == 1
    assert report.files == 2 and report.ignored_files == 1
    assert [p.action for p in report.problems] == ["skipped"]


def test_named_empty_or_binary_file_is_an_error_unless_skipping(tmp_path: Path) -> None:
    path = tmp_path / "vide.txt"
    path.write_bytes(b"")
    with pytest.raises(CorpusFormatError, match="empty"):
        list(load_corpus(path))
    report = LoadReport()
    assert list(load_corpus(path, errors="skip", report=report)) == []
    assert report.of("skipped")[0].message == "empty file"


# -- malformed JSONL --------------------------------------------------------------


BAD_LINES = [
    b"{not json",
    b"[1, 2]",
    b'{"text": "sans id"}',
    b'{"id": "x"}',
    b'{"id": true, "text": "x"}',
    b"[" * 100_000,  # nested deeper than the JSON parser can recurse
    b'{"id": "x", "text": "a\x00b"}',
]


def test_malformed_lines_are_skipped_and_reported_with_their_line(tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl"
    path.write_bytes(GOOD + b"\n".join(BAD_LINES) + b"\n" + jsonl({"id": "9", "text": "fin"}))
    with pytest.raises(CorpusFormatError) as info:
        list(load_jsonl(path))
    assert info.value.line == 2
    report = LoadReport()
    docs = list(load_jsonl(path, errors="skip", report=report))
    assert [d.id for d in docs] == ["1", "9"]
    assert [p.line for p in report.of("skipped")] == list(range(2, 2 + len(BAD_LINES)))
    assert all(p.path == str(path) for p in report.problems)


def test_truncated_gzip_keeps_the_records_read(tmp_path: Path) -> None:
    data = gzip.compress(jsonl(*({"id": str(i), "text": "mot " * 50} for i in range(200))))
    path = tmp_path / "c.jsonl.gz"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(CorpusFormatError, match="cannot read"):
        list(load_jsonl(path))
    report = LoadReport()
    docs = list(load_jsonl(path, errors="skip", report=report))
    assert 0 < len(docs) < 200
    assert [d.id for d in docs] == [str(i) for i in range(len(docs))]
    assert report.of("skipped")[0].line == len(docs) + 1


def test_corrupt_gzip_in_a_folder_is_skipped_on_request(tmp_path: Path) -> None:
    (tmp_path / "a.jsonl.gz").write_bytes(b"\x1f\x8b not really gzip")
    (tmp_path / "b.txt").write_text("B\ntexte", "utf-8")
    with pytest.raises(CorpusFormatError, match="cannot read"):
        list(load_corpus(tmp_path))
    report = LoadReport()
    assert [d.id for d in load_corpus(tmp_path, errors="skip", report=report)] == ["b"]


def test_unknown_modes_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="errors"):
        list(load_corpus(tmp_path, errors="ignore"))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="encoding_errors"):
        list(load_corpus(tmp_path, encoding_errors="latin-1"))  # type: ignore[arg-type]


# -- duplicate ids ------------------------------------------------------------------


def test_duplicate_ids_are_reported_and_the_last_wins(tmp_path: Path) -> None:
    (tmp_path / "a.jsonl").write_bytes(
        jsonl({"id": "x", "text": "ancien"}, {"id": "y", "text": "autre"})
    )
    (tmp_path / "b.jsonl").write_bytes(jsonl({"id": "x", "text": "nouveau"}))
    (tmp_path / "x.txt").write_text("X\nfichier texte", "utf-8")  # id "x" again
    report = LoadReport()
    ix = Index.in_memory()
    ix.add(load_corpus(tmp_path, report=report))
    dups = report.of("duplicate")
    assert [(Path(p.path).name, p.line) for p in dups] == [("b.jsonl", 1), ("x.txt", None)]
    assert "'x'" in dups[0].message
    assert len(ix) == 2
    assert ix.document("x") == Document("x", "X", "fichier texte", {})
    assert ix.search("ancien").total == 0 and ix.search("nouveau").total == 0


# -- enormous documents -------------------------------------------------------------


def test_megabyte_single_line_document_is_split_and_searchable(tmp_path: Path) -> None:
    words = [f"mot{i % 5000}" for i in range(120_000)]
    words[100_000] = "aiguille"
    text = " ".join(words)  # about 1 MB, no newline
    assert len(text) > 900_000
    path = tmp_path / "big.jsonl"
    path.write_text(json.dumps({"id": "big", "title": "Gros", "text": text}) + "\n", "utf-8")
    ix = Index.in_memory()
    ix.add(load_corpus(path))
    assert len(ix.passages("big")) > 500
    (hit,) = ix.search("aiguille").hits
    assert hit.doc_id == "big" and "<mark>aiguille</mark>" in hit.snippet.to_html()
    assert ix.document("big") == Document("big", "Gros", text, {})


def test_megabyte_word_without_spaces_is_cut_and_indexed() -> None:
    ix = Index.in_memory()
    ix.add([Document("w", "W", "x" * 1_000_000)])
    assert len(ix.passages("w")) >= 600
    assert ix.search("aiguille").total == 0


# -- documents refused at Index.add ----------------------------------------------------


@pytest.mark.parametrize(
    "doc",
    [
        Document("", "t", "x"),
        Document("a\ud800", "t", "x"),
        Document("a", "t", "lone \udc00 surrogate"),
        Document("a", "t", "x", {"when": object()}),
        Document("a", "t", "x", {1: "non-string key"}),  # type: ignore[dict-item]
        Document("a", "t", 3),  # type: ignore[arg-type]
    ],
)
def test_bad_documents_are_refused_and_the_batch_is_not_kept(doc: Document) -> None:
    ix = Index.in_memory()
    ix.add([Document("kept", "K", "déjà là")])
    with pytest.raises(DocumentError):
        ix.add([Document("new", "N", "nouveau"), doc])
    assert len(ix) == 1
    assert ix.search("nouveau").total == 0
