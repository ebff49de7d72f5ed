"""Corpus loading and passage splitting."""

from __future__ import annotations

import gzip
import json
import unicodedata
import warnings
from pathlib import Path

import pytest
from conftest import need_shared

from searchlib import Index
from searchlib.corpus.loaders import (
    LoadReport,
    load_corpus,
    load_jsonl,
    load_text_file,
    seed_dir,
    seed_documents,
)
from searchlib.documents import Document, split_passages
from searchlib.errors import CorpusFormatError, CorpusWarning
from searchlib.fields import Date, Keyword, Number


def write_jsonl(path: Path, records: list[object]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), "utf-8")
    return path


def test_seed_corpus_is_bundled() -> None:
    (doc,) = list(seed_documents())
    assert doc.title.startswith("Musique: le site US TorrentSpy ferme")
    assert "cour fédérale" in doc.text


def test_bundled_seeds_are_an_unchanged_copy_of_the_shared_seeds() -> None:
    shared = sorted(need_shared("seeds").iterdir())
    assert [f.name for f in shared] == sorted(f.name for f in seed_dir().iterdir())
    for f in shared:
        assert (seed_dir() / f.name).read_bytes() == f.read_bytes()


def test_text_file_title_is_first_line_and_text_is_nfc(tmp_path: Path) -> None:
    p = tmp_path / "note.txt"
    p.write_text("\n# Titre e\u0301te\u0301\n\nCorps de la note.\n", "utf-8")
    doc = load_text_file(p)
    assert doc.id == "note"
    assert doc.title == "Titre été"
    assert doc.text == "Corps de la note."
    assert unicodedata.is_normalized("NFC", doc.title)


def test_folder_ids_are_relative_paths_without_suffix(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "un.md").write_text("Un\ntexte", "utf-8")
    (tmp_path / "deux.txt").write_text("Deux\ntexte", "utf-8")
    (tmp_path / "ignore.bin").write_bytes(b"\x00\x01")
    ids = [d.id for d in load_corpus(tmp_path)]
    assert ids == ["a/un", "deux"]


def test_jsonl_and_gzip_with_extra_fields(tmp_path: Path) -> None:
    records = [{"id": "x1", "title": "Été", "text": "Texte.", "source": "test", "n": 3}]
    plain = write_jsonl(tmp_path / "c.jsonl", records)
    gz = tmp_path / "c.jsonl.gz"
    gz.write_bytes(gzip.compress(plain.read_bytes()))
    for path in (plain, gz):
        (doc,) = list(load_jsonl(path))
        assert doc == Document("x1", "Été", "Texte.", {"source": "test", "n": 3})


def test_jsonl_is_streamed(tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl"
    with path.open("w", encoding="utf-8") as f:
        f.write(json.dumps({"id": "1", "text": "ok"}) + "\n")
        f.write("{not json\n")
    docs = load_jsonl(path)
    assert next(docs).id == "1"  # the first record arrives before the bad line is read
    with pytest.raises(CorpusFormatError):
        next(docs)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("{not json", "malformed JSON"),
        ("[1, 2]", "JSON object"),
        ('{"text": "sans id"}', '"id"'),
        ('{"id": "a"}', '"text"'),
        ('{"id": "a", "text": "t", "title": 3}', '"title"'),
    ],
)
def test_malformed_jsonl_names_file_and_line(tmp_path: Path, line: str, message: str) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"id": "ok", "text": "bon"}\n\n' + line + "\n", "utf-8")
    with pytest.raises(CorpusFormatError) as info:
        list(load_jsonl(path))
    assert info.value.line == 3
    assert message in str(info.value)
    assert f"{path}:3" in str(info.value)


def test_invalid_utf8_reports_line_and_byte_offset(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    good = b'{"id": "1", "text": "ok"}\n'
    path.write_bytes(good + b'{"id": "2", "text": "caf\xe9"}\n')
    with pytest.raises(CorpusFormatError) as info:
        list(load_jsonl(path, encoding_errors="strict"))
    assert info.value.line == 2
    assert info.value.offset == len(good) + good.index(b"ok") + 3
    assert "invalid UTF-8" in str(info.value)


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("empty.txt", b"", "empty"),
        ("blank.txt", b"  \n\n", "empty"),
        ("empty.jsonl", b"\n", "empty"),
        ("binary.txt", b"abc\x00def", "binary"),
        ("latin1.txt", "Été".encode("latin-1"), "invalid UTF-8"),
    ],
)
def test_bad_files(tmp_path: Path, name: str, data: bytes, message: str) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(CorpusFormatError, match=message):
        list(load_corpus(path, encoding_errors="strict"))


def test_unsupported_and_missing_sources(tmp_path: Path) -> None:
    (tmp_path / "x.pdf").write_bytes(b"%PDF")
    with pytest.raises(CorpusFormatError, match="unsupported"):
        list(load_corpus(tmp_path / "x.pdf"))
    with pytest.raises(FileNotFoundError):
        list(load_corpus(tmp_path / "absent"))


def test_short_text_is_one_passage() -> None:
    (p,) = split_passages("d", "Un court texte.")
    assert (p.id, p.position, p.start, p.text) == ("d#1", 0, 0, "Un court texte.")


def test_seed_article_is_split_into_paragraph_passages() -> None:
    (doc,) = list(seed_documents())
    passages = split_passages(doc.id, doc.text)
    assert len(passages) >= 3
    paragraphs = [p for p in doc.text.split("\n\n") if p.strip()]
    for p in passages:  # whole paragraphs only
        assert p.text.strip() in doc.text
        assert all(
            par in p.text or par not in doc.text[p.start : p.start + len(p.text)]
            for par in paragraphs
        )
    assert "".join(p.text for p in passages) == doc.text  # contiguous slices
    for p in passages:
        assert doc.text[p.start : p.start + len(p.text)] == p.text
    headings = [p for p in passages if p.text.startswith("Allofmp3 refait surface")]
    assert headings
    assert "Un peu plus d’un mois" in headings[0].text  # a heading joins its paragraph


def test_long_paragraph_is_cut_at_sentence_ends() -> None:
    text = "Une phrase assez longue pour compter. " * 200
    passages = split_passages("d", text, max_chars=500)
    assert all(len(p.text) <= 500 for p in passages)
    assert all(p.text.rstrip().endswith(".") for p in passages)
    assert "".join(p.text for p in passages) == text


def test_short_paragraphs_are_packed() -> None:
    text = "\n".join(f"Paragraphe {i} avec quelques mots de plus pour compter." for i in range(60))
    passages = split_passages("d", text, max_chars=400)
    assert 1 < len(passages) < 60
    assert all(len(p.text) <= 400 for p in passages)
    assert "".join(p.text for p in passages) == text


def test_single_line_megabyte_document_is_split() -> None:
    text = "mot " * 250_000
    passages = split_passages("big", text)
    assert len(passages) > 100
    assert "".join(p.text for p in passages) == text


# -- declared fields -----------------------------------------------------------------


_FIELDS = {"date": Date(), "pages": Number(), "source": Keyword()}
_RECORDS = [
    {"id": "a", "text": "t", "date": "2020-01-01", "pages": 3, "source": "x"},
    {"id": "b", "text": "t", "date": "hier"},
    {"id": "c", "text": "t", "pages": "deux"},
    {"id": "d", "text": "t", "source": ["x", "y"]},
    {"id": "e", "text": "t"},
]


def test_a_value_its_declared_field_cannot_take_is_refused_with_file_line_and_field(
    tmp_path: Path,
) -> None:
    path = tmp_path / "c.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in _RECORDS), encoding="utf-8")
    with pytest.raises(CorpusFormatError) as refused:
        list(load_corpus(path, fields=_FIELDS))
    assert refused.value.line == 2
    assert str(refused.value).startswith(
        f"{path}:2: document 'b': field 'date' (date) cannot take 'hier': "
    )


def test_skip_mode_skips_a_record_with_a_bad_field_value_and_says_where(tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in _RECORDS), encoding="utf-8")
    report = LoadReport()
    docs = list(load_corpus(path, fields=_FIELDS, errors="skip", report=report))
    assert [d.id for d in docs] == ["a", "e"]
    assert [(p.line, p.action) for p in report.problems] == [
        (2, "skipped"),
        (3, "skipped"),
        (4, "skipped"),
    ]
    assert [p.message.split(":")[1].strip() for p in report.problems] == [
        "field 'date' (date) cannot take 'hier'",
        "field 'pages' (number) cannot take 'deux'",
        "field 'source' (keyword) cannot take ['x', 'y']",
    ]
    with warnings.catch_warnings(record=True) as caught:  # without a report: warnings
        warnings.simplefilter("always")
        assert len(list(load_jsonl(path, fields=_FIELDS, errors="skip"))) == 2
    assert all(isinstance(w.message, CorpusWarning) for w in caught)
    assert [str(w.message).split(": document ")[0] for w in caught] == [
        f"{path}:2",
        f"{path}:3",
        f"{path}:4",
    ]
    with Index.create(tmp_path / "ix", fields=_FIELDS) as ix:  # what the index takes
        assert ix.add(docs) == 2


def test_without_declared_fields_any_value_loads(tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in _RECORDS), encoding="utf-8")
    assert len(list(load_corpus(path))) == 5
