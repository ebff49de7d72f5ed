"""Issue 16: corrections reported, typos by word length, did-you-mean, as-you-type."""

from __future__ import annotations

import json

import pytest

from searchlib import Completion, Correction, Document, Index, Ranking, Suggestion
from searchlib.query.typos import SurfaceVocabulary, edit_distance, max_edits


def _docs() -> list[Document]:
    docs = []
    for i in range(12):
        docs.append(
            Document(
                f"lic{i}",
                "Licenciement économique",
                f"Le licenciement pour motif économique numéro {i} suit une procédure.",
            )
        )
    for i in range(3):
        docs.append(
            Document(f"licence{i}", "Licence", f"La licence de débit de boissons {i} est exigée.")
        )
    for i in range(4):
        docs.append(
            Document(
                f"rc{i}",
                "Rupture conventionnelle",
                f"La rupture conventionnelle du contrat {i} est homologuée.",
            )
        )
    for i in range(6):
        docs.append(Document(f"conv{i}", "Convention collective", f"La convention collective {i}."))
    docs += [
        Document("covid", "Pandémie", "Pendant la pandémie, le télétravail est recommandé."),
        Document("covid2", "Crise", "La pandémie a changé le travail aux États-Unis."),
        Document("usa", "Voyage", "Les États-Unis demandent un visa. Aux États-Unis, on roule."),
        Document("cph", "Conseil", "Le conseil de prud'hommes juge les litiges du travail."),
        Document("cph2", "Saisir", "Saisir le conseil de prud'hommes : le prud'homme écoute."),
        Document("cph3", "Juge", "Un prud'homme est un juge élu ; le prud'homme siège."),
    ]
    return docs


@pytest.fixture(scope="module")
def ix() -> Index:
    index = Index.in_memory()
    index.add(_docs())
    return index


# -- corrections reported ------------------------------------------------------------------


def test_a_rare_word_whose_stem_exists_is_corrected_and_reported(ix: Index) -> None:
    # licenciment stems to "licenc", the stem of licence: found, so never
    # corrected before; the written form "licenciment" is nowhere, and
    # « licenciement » is one edit away and frequent.
    results = ix.search("licenciment economique")
    assert results.corrections == (
        Correction("licenciment", 0, "licenciement", ("licenci",), False),
    )
    assert results.searched == "licenciement economique"
    assert results.hits[0].doc_id.startswith("lic")
    assert not any(h.doc_id.startswith("licence") for h in results.hits)
    assert results.exact_query == "+licenciment economique"


def test_a_word_found_nowhere_is_reported_with_its_accents(ix: Index) -> None:
    results = ix.search("la pendemie")
    (c,) = results.corrections
    assert (c.word, c.start, c.end, c.replacement) == ("pendemie", 3, 11, "pandémie")
    assert results.searched == "la pandémie"
    assert {h.doc_id for h in results.hits} == {"covid", "covid2"}


def test_json_carries_the_corrections_and_the_query_run(ix: Index) -> None:
    d = json.loads(json.dumps(ix.search("pendemie").to_dict()))
    assert d["searched"] == "pandémie"
    assert d["corrections"] == [
        {
            "word": "pendemie",
            "start": 0,
            "replacement": "pandémie",
            "terms": ["pandem"],
            "kept": False,
        }
    ]
    assert d["suggestion"] is None
    plain = ix.search("pandémie").to_dict()
    assert (plain["searched"], plain["corrections"]) == ("pandémie", [])


def test_search_exactly_as_typed(ix: Index) -> None:
    assert ix.search("pendemie", correct=False).total == 0
    assert ix.search("+pendemie").total == 0  # one word kept as typed
    assert ix.search("+pendemie").corrections == ()
    both = ix.search("+pendemie licenciment")
    assert [c.word for c in both.corrections] == ["licenciment"]


def test_words_in_the_index_are_never_rewritten() -> None:
    ix = Index.in_memory()
    ix.add([*_docs(), Document("typo", "Une", "Un licenciment mal écrit.")])
    results = ix.search("licenciment")
    assert results.corrections == ()
    assert {h.doc_id for h in results.hits} >= {"typo"}


def test_edits_allowed_by_word_length() -> None:
    assert [max_edits("x" * n) for n in (3, 4, 5, 8, 9, 14)] == [0, 0, 1, 1, 2, 2]
    words = ["licenciement"] * 12 + ["pandémie"] * 12 + ["travail"] * 12
    ix = Index.in_memory()
    ix.add([Document(str(i), "T", w) for i, w in enumerate(words)])
    # two edits in a word of 9 letters or more; one below; the first letter kept
    assert [c.replacement for c in ix.search("licencimnet").corrections] == ["licenciement"]
    assert ix.search("licenciement").corrections == ()
    assert [c.replacement for c in ix.search("travial").corrections] == ["travail"]
    assert ix.search("trvial").corrections == ()  # two edits in 6 letters
    assert ix.search("pnadmie").corrections == ()  # two edits in 7 letters
    assert ix.search("mandémie").corrections == ()  # first letter


def test_tolerance_can_be_turned_off(ix: Index) -> None:
    ix.set_ranking(Ranking(typo_rare_ratio=0))
    try:
        # the stem of licence is found: nothing is corrected
        assert ix.search("licenciment").corrections == ()
        assert ix.search("pendemie").corrections != ()  # found nowhere: still corrected
    finally:
        ix.set_ranking(Ranking())
    ix.set_ranking(Ranking(typo_max_terms=0))
    try:
        assert ix.search("licenciment").corrections == ()
        assert ix.search("pendemie").corrections == ()
    finally:
        ix.set_ranking(Ranking())


def test_edit_distance_counts_a_transposition_once() -> None:
    assert edit_distance("licenciement", "licenciemnet", 2) == 1
    assert edit_distance("travail", "travial", 2) == 1
    assert edit_distance("abcdef", "abc", 2) == 3  # above the limit
    vocabulary = SurfaceVocabulary(["licenciement", "licence", "Économique".lower()])
    assert vocabulary.within("licencimnet", 2) == [("licenciement", 2)]
    assert vocabulary.forms("economique") == ["économique"]


# -- did you mean ---------------------------------------------------------------------------


def test_did_you_mean_is_written_as_the_documents_write_it(ix: Index) -> None:
    s = ix.search("etats unis pendemie", correct=False).suggestion
    assert s is not None and s.query == "États-Unis pandémie"
    assert s.query[s.changed[0][0] : s.changed[0][1]] == "pandémie"
    s = ix.suggest("prudhome licenciment")
    assert s is not None and s.query == "prud'homme licenciement"


def test_did_you_mean_finds_more_than_the_query(ix: Index) -> None:
    s = ix.search("licenciment economique", correct=False).suggestion
    assert s is not None and s.query == "licenciement économique" and s.matches == 12
    ix.set_ranking(Ranking(default_operator="and"))  # passages holding every word
    try:
        assert ix.search("licenciment economique", correct=False).total == 0
        assert ix.search(s.query, correct=False).total == 12
    finally:
        ix.set_ranking(Ranking())


def test_no_suggestion_for_a_query_that_finds_enough(ix: Index) -> None:
    assert ix.search("rupture conventionnelle").suggestion is None
    assert ix.suggest("licenciement economique") is None
    # corrected: the correction is reported instead
    assert ix.search("pendemie").suggestion is None


def test_suggestion_in_json(ix: Index) -> None:
    d = ix.search("pendemie", correct=False).to_dict()
    assert d["suggestion"] == {"query": "pandémie", "matches": 2, "changed": [[0, 8]]}
    assert Suggestion("a", 1).to_dict()["changed"] == []


# -- as you type ----------------------------------------------------------------------------


def test_complete_the_last_word_with_the_query_in_mind(ix: Index) -> None:
    found = ix.complete("rupture conv", limit=3)
    assert all(isinstance(c, Completion) for c in found)
    # « convention » is more frequent, « conventionnelle » goes with « rupture »
    assert [c.query for c in found[:2]] == ["rupture conventionnelle", "rupture convention"]
    assert (found[0].frequency, found[0].matches) == (4, 4)
    assert [c.word for c in ix.complete("conv", limit=2)] == ["convention", "conventionnelle"]


def test_complete_restores_accents_and_apostrophes(ix: Index) -> None:
    assert ix.complete("eco")[0].word == "économique"
    (found,) = ix.complete("conseil de prud")  # prud'homme and prud'hommes: one term
    assert found.query in ("conseil de prud'homme", "conseil de prud'hommes")


def test_nothing_to_complete(ix: Index) -> None:
    assert ix.complete("rupture ") == []  # the word is finished
    assert ix.complete("c") == []  # too short
    assert ix.complete("") == []
    assert ix.complete("zzz") == []
    with pytest.raises(TypeError):
        ix.complete(None)  # type: ignore[arg-type]


def test_as_you_type_the_last_word_is_a_prefix_of_written_forms(ix: Index) -> None:
    plain = ix.search("rupture conv")
    typing = ix.search("rupture conv", as_you_type=True)
    assert not any(h.doc_id.startswith("conv") for h in plain.hits)
    assert {h.doc_id[:2] for h in typing.hits[:4]} == {"rc"}  # both words
    assert {"conv0", "conv1"} <= {h.doc_id for h in ix.search("conv", as_you_type=True, limit=20)}
    # a finished word (a space after it) is searched as typed
    assert ix.search("rupture conv ", as_you_type=True).total == plain.total
