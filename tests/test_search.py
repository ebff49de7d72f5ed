"""Ranked search over the seed corpus and small synthetic indexes."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import pytest

import searchlib
from searchlib import Document, Index, QuerySyntaxError, Ranking


def first_text(ix: Index, query: str) -> str:
    results = ix.search(query)
    assert results.hits, f"no result for {query!r}"
    return results.hits[0].text


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        # each query finds the paragraph holding the expected words first
        ("federale", "la cour fédérale"),
        ("cour federale", "la cour fédérale"),
        ("etats unis", "depuis les États-Unis"),
        ("Etats-Unis", "depuis les États-Unis"),
        ("vie privee", "la vie privée de l’utilisateur"),
        ("l'URL", "l’URL"),
        ("l’url", "l’URL"),
        ("telechargement", "le service de téléchargement"),
        ("aout 2007", "16 août 2007"),
        ('"vide juridique"', "un vide juridique dans la législation"),
        ("maisons d edition", "maisons d’édition"),
        ("pirates americains", "américains utilisant le site"),
    ],
)
def test_seed_queries_find_the_right_paragraph(
    seed_index: Index, query: str, expected: str
) -> None:
    assert expected.lower() in first_text(seed_index, query).lower()


def test_cour_federale_marks_the_accented_word(seed_index: Index) -> None:
    hit = seed_index.search("cour federale").hits[0]
    html = hit.snippet.to_html()
    assert "<mark>fédérale</mark>" in html
    assert "<mark>cour</mark>" in html


def test_url_marks_the_word_not_the_article(seed_index: Index) -> None:
    hit = seed_index.search("l'URL").hits[0]
    assert "<mark>URL</mark>" in hit.snippet.to_html()
    assert "<mark>L’URL</mark>" not in hit.snippet.to_html()
    assert "<mark>l’URL</mark>" not in hit.snippet.to_html()


def test_phrase_is_marked_as_a_phrase(seed_index: Index) -> None:
    hit = seed_index.search('"vide juridique"').hits[0]
    assert "<mark>vide juridique</mark>" in hit.snippet.to_html()


def test_module_level_search_uses_bundled_seeds() -> None:
    results = searchlib.search("cour federale")
    assert "<mark>fédérale</mark>" in results.hits[0].snippet.to_html()


def test_phrase_requires_adjacency(seed_index: Index) -> None:
    assert seed_index.search('"juridique vide"').total == 0
    assert seed_index.search('"vide juridique"', collapse=False).total == 2  # passages
    assert seed_index.search('"vide juridique"').total == 1  # in one document


def test_phrase_with_elision() -> None:
    ix = Index.in_memory()
    ix.add(
        [
            Document("1", "Art", "Le prix de l’œuvre est fixé."),
            Document("2", "X", "Le prix, de l'or."),
        ]
    )
    assert [h.doc_id for h in ix.search('"prix de l\'oeuvre"')] == ["1"]


def test_boolean_operators(seed_index: Index) -> None:
    both = {h.id for h in seed_index.search("pirates AND americains", limit=50, collapse=False)}
    pirates = {h.id for h in seed_index.search("pirates", limit=50, collapse=False)}
    american = {h.id for h in seed_index.search("americains", limit=50, collapse=False)}
    either = {h.id for h in seed_index.search("pirates OR americains", limit=50, collapse=False)}
    assert both == pirates & american
    assert either == pirates | american
    without = {h.id for h in seed_index.search("americains -pirates", limit=50, collapse=False)}
    assert without == american - pirates
    not_ = seed_index.search("americains NOT pirates", limit=50, collapse=False)
    assert {h.id for h in not_} == without


def test_default_grouping_is_or_ranked_by_coverage(seed_index: Index) -> None:
    results = seed_index.search("cour federale absentissime")
    assert results.total >= 1  # one absent word does not empty the result
    assert "cour fédérale" in results.hits[0].text


def test_field_restriction(seed_index: Index) -> None:
    assert seed_index.search("title:musique", collapse=False).total == len(
        seed_index.passages(seed_index.search("musique").hits[0].doc_id)
    )
    assert seed_index.search("text:musique").total == 1
    assert seed_index.search("title:musique").total == 1  # one document


def test_prefix_and_fuzzy(seed_index: Index) -> None:
    assert "téléchargement" in first_text(seed_index, "telecharg*")
    assert "TorrentSpy" in first_text(seed_index, "torrentspi~")
    with pytest.raises(QuerySyntaxError) as info:
        seed_index.search("cour t*")
    assert info.value.position == 5


def test_stop_words_never_empty_a_query(seed_index: Index) -> None:
    assert seed_index.search("les pas").total > 0
    assert seed_index.search("l'été").total > 0
    assert seed_index.search("le la les").total > 0
    marked = seed_index.search("les pas").hits[0].snippet.to_html()
    assert "<mark>pas</mark>" in marked
    assert "<mark>les</mark>" not in marked.lower()  # dropped stop words are not marked


def test_questions_are_searched_not_rejected(seed_index: Index) -> None:
    results = seed_index.search("Quelle est la décision de la justice russe ?")
    assert results.total > 0
    assert "justice russe" in results.hits[0].text


@pytest.mark.parametrize("query", ["", "   ", "?!", "()", '"'])
def test_empty_queries_give_no_results(seed_index: Index, query: str) -> None:
    results = seed_index.search(query)
    assert (results.total, results.hits) == (0, ())


def test_malformed_operator_query_raises(seed_index: Index) -> None:
    with pytest.raises(QuerySyntaxError):
        seed_index.search("cour AND")


def test_paging() -> None:
    ix = Index.in_memory()
    ix.add(Document(str(i), f"Doc {i}", "site " * (i % 7 + 1) + "mot " * i) for i in range(25))
    everything = ix.search("site", limit=100)
    page2 = ix.search("site", limit=2, page=2)
    assert everything.total == page2.total == 25
    assert [h.id for h in page2] == [h.id for h in everything.hits[2:4]]
    assert [h.rank for h in page2] == [3, 4]
    assert page2.pages == 13
    with pytest.raises(ValueError):
        ix.search("site", limit=0)


def test_results_are_frozen_and_outlive_the_index(tmp_path: object) -> None:
    ix = Index.in_memory()
    ix.add([Document("a", "Titre", "La cour fédérale a jugé.")])
    results = ix.search("federale")
    ix.close()
    hit = results.hits[0]
    assert hit.title == "Titre"
    assert "fédérale" in hit.snippet.text
    with pytest.raises(dataclasses.FrozenInstanceError):
        hit.score = 0.0  # type: ignore[misc]
    assert results.to_dict()["hits"][0]["snippet"] == hit.snippet.to_html()


@pytest.mark.parametrize("highlight_hits", [True, False])
def test_a_hit_carries_its_passages_stored_values(highlight_hits: bool) -> None:
    # each attribute of a hit is the one stored for its passage (a later
    # passage of a document: its position and its start are not 0)
    text = "Le premier paragraphe parle de salaire minimum. " * 8
    text += "\n\nLe second paragraphe traite de la rupture conventionnelle."
    ix = Index.in_memory(passage_chars=220)
    ix.add([Document("d", "Un titre", text, fields={"k": "v"})])
    results = ix.search("rupture conventionnelle", highlight_hits=highlight_hits, collapse=False)
    hit = results.hits[0]
    stored = {p["id"]: p for p in ix.passages("d")}[hit.id]
    assert (hit.rank, hit.doc_id) == (1, "d")
    assert (hit.position, hit.start) == (stored["position"], stored["start"])
    assert 0 < hit.position < hit.start  # a later passage, far into the text
    assert text[hit.start :].startswith(hit.text) and "Le second" in hit.text
    assert hit.title == "Un titre" and hit.title_snippet.text == "Un titre"
    assert hit.score > 0 and isinstance(hit.score, float)
    if highlight_hits:
        assert "rupture" in hit.snippet.text
    else:  # the start of the passage
        assert hit.text.startswith(hit.snippet.text[:40])
    assert hit.fields == {"k": "v"}


@pytest.mark.parametrize("highlight_hits", [True, False])
def test_a_hits_fields_are_its_own(highlight_hits: bool) -> None:
    # hits of one passage share its cached stored fields: changing one hit's
    # fields (nested values included) changes no other hit, now or later
    ix = Index.in_memory()
    ix.add(
        [
            Document("a", "Titre", "La cour a jugé.", fields={"tags": ["x"], "n": 1}),
            Document("b", "Titre", "La cour a dit.", fields={"source": "legi"}),
        ]
    )
    first = ix.search("cour", highlight_hits=highlight_hits)
    for hit in first.hits:
        hit.fields["n"] = 2
        if "tags" in hit.fields:
            hit.fields["tags"].append("y")
    again = {h.doc_id: h.fields for h in ix.search("cour", highlight_hits=highlight_hits).hits}
    assert again == {"a": {"tags": ["x"], "n": 1}, "b": {"source": "legi"}}


def test_title_is_weighted_above_text() -> None:
    ix = Index.in_memory()
    ix.add(
        [
            Document("in-text", "Autre sujet", "Le contrat de travail est signé."),
            Document("in-title", "Le contrat", "Il est signé par les deux parties."),
        ]
    )
    assert ix.search("contrat").hits[0].doc_id == "in-title"
    ix.set_ranking(Ranking(title_boost=0.1))
    assert ix.search("contrat").hits[0].doc_id == "in-text"


def test_hits_are_documents_unless_passages_are_asked() -> None:
    ix = Index.in_memory()
    long_text = "\n\n".join(
        "La cour fédérale statue encore une fois sur ce point. " * 5 for _ in range(8)
    )
    ix.add([Document("long", "Long", long_text), Document("court", "Court", "La cour fédérale.")])
    passages = ix.search("federale", limit=20, collapse=False)
    assert len(passages.hits) > 2 and passages.total == len(passages.hits)
    collapsed = ix.search("federale", limit=20)
    assert sorted(h.doc_id for h in collapsed) == ["court", "long"]
    assert collapsed.total == 2
    best = {h.doc_id: h.id for h in reversed(passages.hits)}  # each document's first
    assert {h.doc_id: h.id for h in collapsed} == best


def test_and_default_operator() -> None:
    ix = Index.in_memory()
    ix.add([Document("1", "", "cour fédérale"), Document("2", "", "cour suprême")])
    assert ix.search("cour federale").total == 2
    ix.set_ranking(Ranking(default_operator="and"))
    assert [h.doc_id for h in ix.search("cour federale")] == ["1"]


def test_typo_tolerance_for_words_found_nowhere(seed_index: Index) -> None:
    results = seed_index.search("piratres")  # a stray letter
    assert results.total > 0
    assert "<mark>pirates</mark>" in results.hits[0].snippet.to_html()
    assert seed_index.search("pirates").match.terms == {"pirat"}


def test_typo_tolerance_can_be_turned_off() -> None:
    ix = Index.in_memory()
    ix.add([Document("1", "", "La pandémie de grippe.")])
    assert ix.search("pendemie").total == 1
    ix.set_ranking(Ranking(typo_max_terms=0))
    assert ix.search("pendemie").total == 0


@pytest.mark.parametrize(
    ("query", "first"),
    [("pêche", "peche"), ("péché", "peche-sin"), ("côte", "cote"), ("côté", "side")],
)
def test_exact_accented_form_ranks_above_folding_collisions(query: str, first: str) -> None:
    ix = Index.in_memory()
    ix.add(
        [
            Document("peche", "", "La pêche en mer est ouverte."),
            Document("peche-sin", "", "Le péché en mer est avoué."),
            Document("cote", "", "La côte est belle ici."),
            Document("side", "", "Le côté est beau ici."),
        ]
    )
    results = ix.search(query)
    assert results.total == 2  # both spellings are found...
    assert results.hits[0].doc_id == first  # ...the one written as typed first


def _ids(ix: Index, query: str) -> list[str]:
    return [h.doc_id for h in ix.search(query, limit=10)]


def test_hyphen_typed_for_a_space_still_finds_the_words() -> None:
    ix = Index.in_memory()
    ix.add(
        [
            Document("lieu", "Mutation", "Le changement du lieu de travail du salarié."),
            Document("other", "Autre", "Un texte sans rapport."),
        ]
    )
    assert _ids(ix, "lieu-travail") == ["lieu"]  # no phrase "lieu travail" anywhere
    hit = ix.search("lieu-travail").hits[0]
    marked = {frag.text[a:b] for frag in hit.snippet.fragments for a, b in frag.spans}
    assert marked >= {"lieu", "travail"}
    ix.set_ranking(Ranking(compound_parts=0))
    assert _ids(ix, "lieu-travail") == []


def test_the_compound_itself_still_ranks_first() -> None:
    ix = Index.in_memory()
    ix.add(
        [
            Document("parts", "A", "Le week prochain, en fin de semaine, rien. La fin. Le end."),
            Document("whole", "B", "Un week-end à la mer."),
        ]
    )
    assert _ids(ix, "week-end")[0] == "whole"


@pytest.mark.parametrize("query", ["peut-il", "puis-je", "dis-moi"])
def test_inversions_are_not_loosened_into_words(query: str) -> None:
    # "peut-il" is a verb and its subject: "peut" alone is no topic
    ix = Index.in_memory()
    ix.add([Document("a", "A", "Il peut venir. Je puis le dire. Dis ce que tu veux, moi.")])
    assert _ids(ix, query) == []


@pytest.mark.parametrize("query", ["13 ème mois", "13eme mois", "treizième mois", "13e mois"])
def test_ordinals_match_in_every_spelling(query: str) -> None:
    ix = Index.in_memory()
    ix.add(
        [
            Document("prime", "Primes", "Le versement d'un treizième mois est prévu."),
            Document("autre", "Durée", "Un contrat de 13 mois."),
        ]
    )
    assert _ids(ix, query)[0] == "prime"


def test_apostrophe_words_match_with_or_without_the_apostrophe() -> None:
    ix = Index.in_memory()
    ix.add([Document("cph", "Litiges", "Saisir le conseil de prud’hommes.")])
    for query in ("prud'hommes", "prudhommes", "prud' hommes", "Prud’hommes"):
        assert _ids(ix, query) == ["cph"], query


# -- acronyms defined by the documents ------------------------------------------------

_ACRONYM_DOCS = [
    Document("def1", "Contrats courts", "Le contrat à durée déterminée (CDD) est écrit."),
    Document("def2", "Fin", "Le contrat à durée déterminée (CDD) prend fin à son terme."),
    Document("cet1", "Épargne", "Le compte épargne-temps (CET) garde des jours de congé."),
    Document("cet2", "Jours", "Le compte épargne-temps (CET) est ouvert par accord."),
    Document("plain", "Renouvellement", "Un contrat à durée déterminée peut être renouvelé."),
    Document("other", "Employeur", "Cet employeur a signé un contrat de prestation."),
    Document("code", "Article", "Le contrat de travail à durée déterminée est écrit."),
]


@pytest.fixture(scope="module")
def acronym_index() -> Index:
    ix = Index.in_memory()
    ix.add(_ACRONYM_DOCS)
    return ix


def _acronym_ids(ix: Index, query: str, ranking: Ranking) -> list[str]:
    ix.set_ranking(ranking)
    return [h.doc_id for h in ix.search(query, limit=20)]


def test_acronym_finds_documents_that_only_spell_the_long_form(acronym_index: Index) -> None:
    assert "plain" not in _acronym_ids(acronym_index, "cdd", Ranking(acronym_boost=0.0))
    assert "plain" in _acronym_ids(acronym_index, "cdd", Ranking())  # on by default
    found = _acronym_ids(acronym_index, "cdd", Ranking(acronym_boost=1.0, acronym_slop=1))
    assert "plain" in found
    assert set(found[:2]) == {"def1", "def2"}  # the acronym and the long form
    # Typed in capitals, with dots, after an elided article: the same acronym.
    for typed in ("CDD", "C.D.D.", "l'CDD", "d’CDD"):
        assert "plain" in _acronym_ids(acronym_index, typed, Ranking(acronym_boost=1.0)), typed
    # The long form is a phrase: « contrat ... prestation » is no match.
    assert "other" not in found
    # A slop lets words stand between the long form's words.
    assert "code" not in found
    assert "code" in _acronym_ids(acronym_index, "cdd", Ranking(acronym_boost=1.0, acronym_slop=3))


def test_acronym_expansion_needs_enough_defining_documents(acronym_index: Index) -> None:
    assert "plain" in _acronym_ids(acronym_index, "cdd", Ranking(acronym_min_docs=2))
    assert "plain" not in _acronym_ids(acronym_index, "cdd", Ranking(acronym_min_docs=3))


def test_a_stop_word_is_an_acronym_only_in_capitals(acronym_index: Index) -> None:
    ranking = Ranking(acronym_boost=1.0)
    off = Ranking(acronym_boost=0.0)
    assert _acronym_ids(acronym_index, "cet", ranking) == _acronym_ids(acronym_index, "cet", off)
    acronym_index.set_ranking(ranking)
    assert acronym_index.search("CET").match.phrases == (("compt", "epargn", "temp"),)
    assert acronym_index.search("cet").match.phrases == ()


def test_acronym_long_form_is_highlighted(acronym_index: Index) -> None:
    acronym_index.set_ranking(Ranking(acronym_boost=1.0))
    results = acronym_index.search("cdd")
    plain = next(h for h in results if h.doc_id == "plain")
    assert plain.snippet.to_html() == (
        "Un <mark>contrat à durée déterminée</mark> peut être renouvelé."
    )


def test_restricting_words_to_the_title_restricts_them(tmp_path: Path) -> None:
    # The exact-form bonus searches title and text together: with
    # fields=["title"] it matched passages whose text alone held the word.
    with Index.create(tmp_path / "ix") as ix:
        ix.add(
            [
                Document("t", "La musique baroque", "Un concert."),
                Document("x", "Un concert", "La musique de chambre."),
            ]
        )
        assert [h.doc_id for h in ix.search("musique", fields=["title"])] == ["t"]
        assert [h.doc_id for h in ix.search("musique", fields=["text"])] == ["x"]
        assert {h.doc_id for h in ix.search("musique")} == {"t", "x"}


def test_a_word_repeated_in_an_and_chain_is_scored_once_per_copy() -> None:
    # `mot AND mot AND ...` grew quadratically in Whoosh's matcher tree; equal
    # operands now become one with their boosts added: same hits, same score.
    with Index.in_memory() as ix:
        ix.add([Document(str(i), "T", f"la musique numéro {i}") for i in range(50)])
        one = ix.search("musique", time_limit=None)
        many = ix.search(" AND ".join(["musique"] * 200), time_limit=None)
        assert many.total == one.total == 50
        assert math.isclose(many.hits[0].score, 200 * one.hits[0].score, rel_tol=1e-9)
        compiled = ix.search_context().compile(" AND ".join(["musique"] * 200))
        assert str(compiled.query).count("musique") == str(
            ix.search_context().compile("musique").query
        ).count("musique")
