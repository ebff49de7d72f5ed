"""The on-disk index: create, open, add, update, delete, versions, the seed index."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from searchlib import (
    Document,
    FrenchAnalyzer,
    Index,
    IndexExistsError,
    IndexNotFoundError,
    IndexVersionError,
    SearchlibError,
)
from searchlib.folder import META_FILE
from searchlib.seed import cache_dir, default_index


def docs(*pairs: tuple[str, str]) -> list[Document]:
    return [Document(i, f"Titre {i}", t) for i, t in pairs]


def test_create_add_reopen(tmp_path: Path) -> None:
    path = tmp_path / "ix"
    with Index.create(path) as ix:
        assert ix.add(docs(("a", "La cour fédérale."), ("b", "Le vide juridique."))) == 2
    with Index.open(path) as ix:
        assert len(ix) == 2
        assert [h.doc_id for h in ix.search("juridique")] == ["b"]
        stats = ix.stats()
        assert (stats.documents, stats.passages) == (2, 2)
        assert stats.size_bytes > 0
        assert "text" in stats.fields


def test_add_replaces_same_id(empty_index: Index) -> None:
    empty_index.add(docs(("a", "ancien texte")))
    empty_index.add(docs(("a", "nouveau texte")))
    assert len(empty_index) == 1
    assert empty_index.search("ancien").total == 0
    assert empty_index.search("nouveau").hits[0].doc_id == "a"


def test_duplicate_ids_in_one_batch_last_wins(empty_index: Index) -> None:
    empty_index.add(docs(("a", "premier"), ("b", "autre"), ("a", "second")))
    assert len(empty_index) == 2
    assert empty_index.search("premier").total == 0
    assert empty_index.search("second").hits[0].doc_id == "a"


def test_delete(empty_index: Index) -> None:
    empty_index.add(docs(("a", "un"), ("b", "deux")))
    assert empty_index.delete(["a"]) == 1
    assert len(empty_index) == 1
    assert empty_index.document("a") is None


def test_failed_batch_keeps_last_commit(empty_index: Index) -> None:
    empty_index.add(docs(("a", "déjà là")))

    def broken() -> object:
        yield Document("b", "B", "nouveau")
        raise ValueError("the source broke")

    with pytest.raises(ValueError, match="source broke"):
        empty_index.add(broken())  # type: ignore[arg-type]
    assert len(empty_index) == 1
    assert empty_index.search("nouveau").total == 0
    assert empty_index.add(docs(("c", "ensuite"))) == 1  # a new writer proceeds


def test_document_roundtrip_through_passages(empty_index: Index) -> None:
    text = "\n\n".join(
        f"Paragraphe numéro {i} avec assez de mots pour compter. " * 8 for i in range(6)
    )
    empty_index.add([Document("long", "Long", text, {"source": "test"})])
    assert len(empty_index.passages("long")) > 1
    doc = empty_index.document("long")
    assert doc is not None
    assert doc.text == text
    assert doc.fields == {"source": "test"}


def test_create_refuses_existing(tmp_path: Path) -> None:
    Index.create(tmp_path / "ix").close()
    with pytest.raises(IndexExistsError):
        Index.create(tmp_path / "ix")
    Index.create(tmp_path / "ix", overwrite=True).close()
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "precious.txt").write_text("x")
    with pytest.raises(SearchlibError, match="not an index searchlib wrote"):
        Index.create(tmp_path / "other", overwrite=True)
    assert (tmp_path / "other" / "precious.txt").exists()


def test_open_missing(tmp_path: Path) -> None:
    with pytest.raises(IndexNotFoundError):
        Index.open(tmp_path / "absent")
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError):  # IndexNotFoundError is a FileNotFoundError
        Index.open(tmp_path / "empty")


def test_incompatible_version_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "ix"
    Index.create(path).close()
    meta = json.loads((path / META_FILE).read_text())
    meta["analyzer_version"] = "fr-0"
    (path / META_FILE).write_text(json.dumps(meta))
    with pytest.raises(IndexVersionError, match="rebuild"):
        Index.open(path)


def test_in_memory_index() -> None:
    ix = Index.in_memory()
    ix.add(docs(("m", "mémoire vive")))
    assert ix.search("memoire").hits[0].doc_id == "m"


def test_default_index_is_cached_on_disk() -> None:
    ix = default_index()
    assert ix.path is not None
    assert ix.path.parent == cache_dir()
    assert ix.stats().documents == 1
    assert default_index() is ix


def test_an_index_keeps_the_analyzer_it_was_built_with(tmp_path: Path) -> None:
    analyzer = FrenchAnalyzer(stem=False, elisions=frozenset())
    with Index.create(tmp_path / "ix", analyzer=analyzer) as ix:
        ix.add([Document("a", "Titre", "L'été des pirates.")])
    with Index.open(tmp_path / "ix") as ix:
        assert ix.analyzer == analyzer
        assert ix.exact_analyzer == analyzer.exact_form()
        assert ix.search("pirates").total == 1
        # Queries are analysed as the index was: no stemming, no elision.
        assert ix.search_context().compile("pirates").match.terms == {"pirates"}
        assert "lete" in ix.search_context().compile("l'été").match.terms
