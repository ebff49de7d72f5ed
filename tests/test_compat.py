"""Indexes written by earlier releases still open and answer as they did.

``tests/data/index-fr5-format3`` was written by main at 7fbdd38 (format 3,
analyzer fr-5), before the package was split into subpackages; its schema
pickles the analysis classes as ``searchlib.analysis.<Class>``.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from searchlib import Document, Index

FIXTURE = Path(__file__).parent / "data" / "index-fr5-format3"

# What that index answered when it was written (scores rounded to 4 places).
EXPECTED = {
    "federale": [("cour", 3.0474)],
    "licenciement": [("travail", 2.0506)],
    "CSE": [("travail", 2.0506)],
    "musique baroque": [("musique", 8.2379)],
}


@pytest.fixture
def old_index(tmp_path: Path) -> Path:
    target = tmp_path / "old.index"
    shutil.copytree(FIXTURE, target)
    return target


@pytest.mark.parametrize(("query", "expected"), sorted(EXPECTED.items()))
def test_an_index_written_before_the_split_opens_and_ranks_as_it_did(
    old_index: Path, query: str, expected: list[tuple[str, float]]
) -> None:
    with Index.open(old_index) as ix:
        got = [(h.doc_id, round(h.score, 4)) for h in ix.search(query)]
    assert got == expected


def test_an_old_index_keeps_its_stored_fields_and_takes_new_documents(old_index: Path) -> None:
    with Index.open(old_index) as ix:
        doc = ix.document("musique")
        assert doc is not None and doc.fields == {"source": "culture", "year": 1700}
        ix.add([Document("neuf", "Nouveau", "Une décision de la cour fédérale.")])
        assert {h.doc_id for h in ix.search("cour federale")} == {"cour", "musique", "neuf"}


def _toc_names(folder: Path) -> set[str]:
    toc = max(folder.glob("*.toc"), key=lambda p: p.stat().st_mtime_ns).read_bytes()
    return {m.decode() for m in re.findall(rb"searchlib[\w.]*\n\w+", toc)}


def test_new_indexes_persist_the_analysis_classes_under_the_same_names(
    tmp_path: Path, old_index: Path
) -> None:
    with Index.create(tmp_path / "new.index") as ix:
        ix.add([Document("a", "Titre", "Texte.")])
    new = _toc_names(tmp_path / "new.index")
    assert new == _toc_names(old_index)
    assert all(name.startswith("searchlib.analysis\n") for name in new)
