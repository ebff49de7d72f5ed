"""Score explanations: the per-term shares add up to the score Whoosh gave."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

import pytest

from searchlib import Document, Index, Ranking, load_corpus

CORPUS = Path(__file__).parent / "data" / "cli" / "corpus.jsonl"


@pytest.fixture(scope="module")
def ix(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Index]:
    # Two commits, so the index has two segments (scores use global statistics).
    docs = list(load_corpus(CORPUS))
    with Index.create(tmp_path_factory.mktemp("explain") / "ix") as index:
        index.add(docs[:3])
        index.add(docs[3:])
        yield index


QUERIES = [
    "cour federale",  # plain words, both fields
    "poisson poisson",  # a repeated word scores twice
    '"vide juridique"',  # phrase: the sum of its words
    "États-Unis",  # compound: joined term OR the parts as a phrase
    "chef-d'œuvre oeuvre",  # compound with elision, and a ligature
    "title:musique OR text:poisson",  # fields
    "télécharg*",  # prefix expansion
    "poison~",  # typo tolerance
    "cuisine AND sole",  # AND
    "poisson -meunière",  # exclusion (scores as its positive side)
    "(cour OR site) juge",  # grouping
    "Quelle est la durée de conservation des données ?",  # a question as typed
]


@pytest.mark.parametrize("query", QUERIES)
def test_shares_sum_to_the_hit_score(ix: Index, query: str) -> None:
    results = ix.search(query, limit=20)
    assert results.hits, query
    for hit in results.hits:
        why = ix.explain(query, hit)
        assert why.score == hit.score
        assert math.isclose(why.total, hit.score, rel_tol=1e-9, abs_tol=1e-12), hit.id
        assert all(c.score > 0 for c in why.contributions)


@pytest.mark.parametrize("query", QUERIES)
def test_shares_sum_with_exact_form_and_proximity_bonuses(ix: Index, query: str) -> None:
    ix.set_ranking(Ranking(exact_boost=0.5, proximity_boost=0.3, proximity_slop=4))
    try:
        for hit in ix.search(query, limit=20).hits:
            why = ix.explain(query, hit)
            assert math.isclose(why.total, hit.score, rel_tol=1e-9, abs_tol=1e-12), hit.id
    finally:
        ix.set_ranking(Ranking())


def test_bonuses_are_named(ix: Index) -> None:
    ix.set_ranking(Ranking(exact_boost=0.5, proximity_boost=0.3, proximity_slop=4))
    try:
        hit = ix.search("poisson frais").hits[0]
        why = ix.explain("poisson frais", hit)
    finally:
        ix.set_ranking(Ranking())
    kinds = {(c.field, c.kind) for c in why.contributions}
    assert ("exact", "term") in kinds  # the words as typed
    near = [c for c in why.contributions if c.kind == "near"]
    assert {c.term for c in near} == {"poisson", "frais"}
    assert all(c.phrase == ("poisson", "frais") and c.boost == 0.3 for c in near)


def test_title_boost_and_ranking_parameters_are_applied(ix: Index) -> None:
    ix.set_ranking(Ranking(k1=2.0, b=0.5, title_b=0.2, title_boost=3.0))
    try:
        hit = ix.search("musique").hits[0]
        why = ix.explain("musique", hit)
        by_field = why.by_field()
        (title,) = by_field["title"]
        assert (title.boost, title.b, title.k1) == (3.0, 0.2, 2.0)
        (text,) = by_field["text"]
        assert (text.boost, text.b) == (1.0, 0.5)
        assert math.isclose(why.total, hit.score, rel_tol=1e-9)
    finally:
        ix.set_ranking(Ranking())


def test_term_statistics(ix: Index) -> None:
    hit = ix.search("poisson").hits[0]
    why = ix.explain("poisson", hit)
    share = why.by_field()["text"][0]
    assert share.term == "poisson" and share.phrase is None
    # tf counts the stemmed term in this passage
    assert share.tf == ix.analyzer.terms(hit.text).count("poisson")
    assert share.idf > 0 and share.field_length > 0 and share.avg_field_length > 0


def test_phrase_words_are_listed_with_their_phrase(ix: Index) -> None:
    hit = ix.search('"vide juridique"').hits[0]
    why = ix.explain('"vide juridique"', hit)
    assert {(c.term, c.phrase) for c in why.contributions} == {
        ("vid", ("vid", "jurid")),
        ("jurid", ("vid", "jurid")),
    }


def test_pure_negation_is_one_constant_share(ix: Index) -> None:
    hit = ix.search("NOT poisson").hits[0]
    why = ix.explain("NOT poisson", hit)
    assert [c.field for c in why.contributions] == ["*"]
    assert math.isclose(why.total, hit.score)


def test_shares_sum_with_acronym_long_forms() -> None:
    ix = Index.in_memory()
    long_form = "Le contrat à durée déterminée (CDD) est écrit."
    ix.add(
        [
            Document("a", "Contrats", long_form),
            Document("b", "Fin", long_form),
            Document("c", "Code", "Le contrat de travail à durée déterminée prend fin."),
        ]
    )
    results = ix.search("cdd rupture", limit=10)
    assert {h.doc_id for h in results} == {"a", "b", "c"}  # c only by its long form
    for hit in results:
        why = ix.explain("cdd rupture", hit)
        assert math.isclose(why.total, hit.score, rel_tol=1e-9, abs_tol=1e-12), hit.id
    phrase = ("contrat", "dur", "determin")  # searched: the content words, stop words in the slop
    assert any(c.phrase == phrase for c in ix.explain("cdd", results[0]).contributions)


def test_explaining_results_reads_their_search(ix: Index, monkeypatch: pytest.MonkeyPatch) -> None:
    results = ix.search("poisson OR cour OR musique", limit=2, page=2)
    assert results.hits
    expected = [ix.explain(results.query, h).total for h in results]

    def no_search(*args: object, **kwargs: object) -> object:
        raise AssertionError("explain searched again")

    monkeypatch.setattr(Index, "run", no_search)
    for hit, total in zip(results, expected, strict=True):
        why = ix.explain(results, hit)
        assert math.isclose(why.total, hit.score, rel_tol=1e-6)
        assert math.isclose(why.total, total, rel_tol=1e-9)
    with pytest.raises(TypeError, match="alone"):
        ix.explain(results, results.hits[0], collapse=True)
