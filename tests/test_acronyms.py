"""Acronym definitions: mining (Schwartz & Hearst), the lexicon, its file in an index."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from searchlib import (
    Document,
    DocumentError,
    FrenchAnalyzer,
    Index,
    IndexCorruptError,
    IndexLockedError,
    Ranking,
)
from searchlib.local import Reading
from searchlib.query.acronyms import LEXICON_FILE, AcronymLexicon, acronym_key, find_definitions


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # the plain case: long form, then the short form in parentheses
        (
            "Le contrat à durée déterminée (CDD) est écrit.",
            [("CDD", "contrat à durée déterminée")],
        ),
        # capitals and accents in the long form; letters skip « et »
        (
            "Le Comité Social et Économique (CSE) est consulté.",
            [("CSE", "Comité Social et Économique")],
        ),
        # the first letter starts a content word, not the stop word « aux »
        (
            "l'allocation aux adultes handicapés (AAH) est versée",
            [("AAH", "allocation aux adultes handicapés")],
        ),
        # elided articles cost no word of budget: 11 words for 6 letters
        (
            "Union de recouvrement des cotisations de sécurité sociale et "
            "d'allocations familiales (URSSAF)",
            [
                (
                    "URSSAF",
                    "Union de recouvrement des cotisations de sécurité sociale et "
                    "d'allocations familiales",
                )
            ],
        ),
        # the reverse: short form, then the long form in parentheses
        (
            "le SMIC (salaire minimum interprofessionnel de croissance) augmente",
            [("SMIC", "salaire minimum interprofessionnel de croissance")],
        ),
        # a long form stops at the end of a clause
        ("Il est déterminé. (CDD)", []),
        # not definitions: words, years, numerals, lowercase words
        ("Voir plus loin (voir ci-dessous).", []),
        ("La loi du 5 mars (2019) dispose.", []),
        ("Le livre premier (II) dispose.", []),
        ("un contrat daté (cdd)", []),
        # letters that do not match the words before
        ("la caisse nationale (ABC)", []),
        ("à durée déterminée (CDD)", []),
        # past the budget of min(|SF| + 5, 2 |SF|) = 6 words
        ("un contrat de travail écrit à durée limitée (CDD)", []),
        # a short form that is itself one of the words is no definition
        ("le régime CDD spécial (CDD)", []),
    ],
)
def test_find_definitions(text: str, expected: list[tuple[str, str]]) -> None:
    assert find_definitions(text) == expected


def test_acronym_key_folds_case_accents_and_dots() -> None:
    assert acronym_key("C.D.D.") == acronym_key("CDD") == acronym_key("cdd") == "cdd"
    assert acronym_key("ÉTÉ") == "ete"


def test_lexicon_counts_documents_and_selects() -> None:
    lex = AcronymLexicon()
    # The same definition twice in one document counts once.
    lex.add_text("Le contrat à durée déterminée (CDD). Un contrat à durée déterminée (CDD).")
    lex.add_text("Les contrats à durée déterminée (CDD) sont écrits.")
    lex.add_text("Un Contrat de Travail à Durée Déterminée (CDD).")
    assert lex.counts["cdd"] == {
        "contrat à durée déterminée": 1,
        "contrats à durée déterminée": 1,
        "contrat de travail à durée déterminée": 1,
    }
    analyzer = FrenchAnalyzer()
    # Singular and plural analyse alike: one long form seen in 2 documents.
    assert lex.expansions("cdd", analyzer, min_docs=2) == ("contrat à durée déterminée",)
    assert lex.expansions("CDD", analyzer, min_docs=3) == ()
    assert lex.expansions("cdd", analyzer, min_docs=1, max_forms=2) == (
        "contrat à durée déterminée",
        "contrat de travail à durée déterminée",
    )
    assert lex.expansions("cdi", analyzer, min_docs=1) == ()


class _CountingAnalyzer(FrenchAnalyzer):
    """An analyzer that counts the texts it analyses."""

    def __init__(self) -> None:
        super().__init__()
        self.analysed: list[str] = []

    def tokens(self, text: str, *args: Any, **kwargs: Any) -> Any:
        self.analysed.append(text)
        return super().tokens(text, *args, **kwargs)


def test_only_the_acronym_asked_for_is_analysed() -> None:
    lex = AcronymLexicon(
        {
            "cdd": {"contrat à durée déterminée": 3, "contrats à durée déterminée": 2},
            "cdi": {"contrat à durée indéterminée": 2},
            "smic": {"salaire minimum": 1},
        }
    )
    analyzer = _CountingAnalyzer()
    # a word that is no acronym of the lexicon analyses nothing
    assert lex.expansions("bonjour", analyzer) == ()
    assert analyzer.analysed == []
    # an acronym: its own long forms, once (then kept)
    assert lex.expansions("CDI", analyzer) == ("contrat à durée indéterminée",)
    assert lex.expansions("cdi", analyzer) == ("contrat à durée indéterminée",)
    assert analyzer.analysed == ["contrat à durée indéterminée"]
    # the others' selections are what they would have been (counts summed by terms)
    assert lex.expansions("cdd", analyzer, max_forms=2) == ("contrat à durée déterminée",)
    assert lex.expansions("smic", analyzer) == ()  # defined in one document only
    assert lex.expansions("smic", analyzer, min_docs=1) == ("salaire minimum",)
    # a merge forgets what was selected
    lex.merge(AcronymLexicon({"smic": {"salaire minimum": 1}}))
    assert lex.expansions("smic", analyzer) == ("salaire minimum",)


def test_lexicon_file_round_trip(tmp_path: Path) -> None:
    lex = AcronymLexicon({"cpf": {"compte personnel de formation": 4}})
    lex.save(tmp_path)
    assert AcronymLexicon.load(tmp_path) == lex
    assert [p.name for p in tmp_path.iterdir()] == [LEXICON_FILE]  # no temporary file left
    assert AcronymLexicon.load(tmp_path / "elsewhere") == AcronymLexicon()
    (tmp_path / LEXICON_FILE).write_text('{"version": 1, "acronyms": [1]}')
    with pytest.raises(IndexCorruptError):
        AcronymLexicon.load(tmp_path)


CDD = "Le contrat à durée déterminée (CDD) est un contrat écrit."


def test_index_persists_definitions_across_commits_and_reopen(tmp_path: Path) -> None:
    path = tmp_path / "ix"
    with Index.create(path) as ix:
        ix.add([Document("a", "Contrats", CDD)])
        ix.add([Document("b", "Durée", "Le contrat à durée déterminée (CDD) prend fin.")])
        ix.add([Document("c", "Sans", "Aucune définition ici.")])
        assert ix.acronyms.counts == {"cdd": {"contrat à durée déterminée": 2}}
    on_disk = json.loads((path / LEXICON_FILE).read_text(encoding="utf-8"))
    assert on_disk["acronyms"] == {"cdd": {"contrat à durée déterminée": 2}}
    with Index.open(path) as ix:
        assert ix.acronyms.counts == {"cdd": {"contrat à durée déterminée": 2}}
        ix.add([Document("d", "Formation", "Le compte personnel de formation (CPF).")])
    with Index.open(path) as ix:
        assert set(ix.acronyms.counts) == {"cdd", "cpf"}


def test_another_writer_definitions_are_seen(tmp_path: Path) -> None:
    path = tmp_path / "ix"
    with Index.create(path) as reader_ix, Index.open(path) as writer_ix:
        reader_ix.search("contrat")
        writer_ix.add([Document("a", "Contrats", CDD)])
        reader_ix.search("contrat")  # a new searcher reads the new lexicon too
        assert reader_ix.acronyms.counts == {"cdd": {"contrat à durée déterminée": 1}}


def test_refused_batch_counts_nothing(tmp_path: Path) -> None:
    with Index.create(tmp_path / "ix") as ix:
        with pytest.raises(DocumentError):
            ix.add([Document("a", "Contrats", CDD), Document("", "x", CDD)])
        assert not ix.acronyms
        assert not (tmp_path / "ix" / LEXICON_FILE).exists()


def test_index_without_lexicon_file_has_no_expansion(tmp_path: Path) -> None:
    path = tmp_path / "ix"
    with Index.create(path) as ix:
        ix.add([Document("a", "Contrats", CDD), Document("b", "Durée", CDD)])
    (path / LEXICON_FILE).unlink()  # as an index written before the file existed
    with Index.open(path) as ix:
        ix.set_ranking(Ranking(acronym_boost=1.0, acronym_min_docs=1))
        assert not ix.acronyms
        assert ix.search("cdd").match.phrases == ()


def test_in_memory_index_keeps_its_lexicon() -> None:
    ix = Index.in_memory()
    ix.add([Document("a", "Contrats", CDD)])
    assert ix.acronyms.counts == {"cdd": {"contrat à durée déterminée": 1}}


def test_parallel_add_mines_in_the_main_process(tmp_path: Path) -> None:
    docs = [Document(f"d{i}", "Contrats", CDD) for i in range(40)]
    with Index.create(tmp_path / "seq") as seq, Index.create(tmp_path / "par") as par:
        seq.add(docs)
        par.add(docs, procs=2)
        assert par.acronyms == seq.acronyms
        assert par.acronyms.counts == {"cdd": {"contrat à durée déterminée": 40}}
    with Index.open(tmp_path / "par") as ix:
        assert ix.acronyms.counts == {"cdd": {"contrat à durée déterminée": 40}}


@pytest.mark.parametrize("procs", [1, 2])
def test_the_lexicon_is_saved_under_the_write_lock(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, procs: int
) -> None:
    path = tmp_path / "ix"
    seen: list[str] = []
    original = Reading.save_acronyms

    def saving(self: Reading, mined: Any) -> None:
        other = Index.open(path)
        try:
            other._writing.writer(timeout=0.0).cancel()
            seen.append("unlocked")
        except IndexLockedError:
            seen.append("locked")
        finally:
            other.close()
        original(self, mined)

    monkeypatch.setattr(Reading, "save_acronyms", saving)
    docs = [
        Document(f"d{i}", "CDD", "Le contrat à durée déterminée (CDD) est signé.") for i in range(6)
    ]
    with Index.create(path) as ix:
        ix.add(docs, procs=procs)
    assert seen == ["locked"]
    with Index.open(path) as ix:
        assert ix.search("cdd").total == 6


def test_a_flood_of_parentheses_still_reads_the_definitions_around_it() -> None:
    # "ab (cd) " repeated made mining quadratic (the text before each
    # parenthesis was copied); the definitions around the flood still count.
    text = "le comité social et économique (CSE) " + "ab (cd) " * 20_000 + "le SMIC (salaire "
    text += "minimum interprofessionnel de croissance)"
    assert find_definitions(text) == [
        ("CSE", "comité social et économique"),
        ("SMIC", "salaire minimum interprofessionnel de croissance"),
    ]


def test_mining_can_be_switched_off_per_add() -> None:
    from searchlib import Document, Index

    docs = [
        Document(f"d{n}", "Contrat", "Le contrat à durée déterminée (CDD) est signé.")
        for n in range(3)
    ]
    with Index.in_memory() as ix:
        ix.add(docs, mine_acronyms=False)
        assert len(ix.acronyms) == 0
        ix.add(docs)
        assert "cdd" in ix.acronyms.counts
