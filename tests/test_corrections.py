"""Issue 16: corrections reported, typos by word length, did-you-mean, as-you-type.
Then: French words are never read as others (edits counted on written forms, a
lexicon of French words), and a word no passage holds is reported."""

from __future__ import annotations

import dataclasses
import json
import random
from collections.abc import Sequence
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from searchlib import Completion, Correction, Document, Index, Ranking, Suggestion
from searchlib.engine.pipeline import Pipeline
from searchlib.engine.request import SearchRequest
from searchlib.query.french_words import NO_WORDS
from searchlib.query.typos import SurfaceVocabulary, edit_distance, max_edits
from searchlib.results import UnknownWord


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
    # an edit of the first letter counts two: only when nothing else is close
    assert [c.replacement for c in ix.search("mandémie").corrections] == ["pandémie"]
    ix.add([Document(str(i), "T", "mandat") for i in range(12)])
    assert [c.replacement for c in ix.search("landat").corrections] == ["mandat"]
    assert [c.replacement for c in ix.search("mandar").corrections] == ["mandat"]
    ix.add([Document(f"b{i}", "T", "bandit") for i in range(11)])
    # mandat is as close and as frequent, but its edit is at the first letter
    # (by the index alone: bandat is also « bandât », a French word, kept as typed)
    bare = dataclasses.replace(ix.search_context(), lexicon=NO_WORDS)
    assert [c.replacement for c in Pipeline(bare).run(SearchRequest("bandat")).corrections] == [
        "bandit"
    ]
    assert ix.search("bandat").corrections == ()


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


# -- French words are never read as others ---------------------------------------------------


@pytest.fixture(scope="module")
def notes() -> Index:
    """Labour-law notes: « preuve », « salarié », « licenciement », never
    « préavis » nor « salaire »."""
    index = Index.in_memory()
    texts = [
        ("Charge de la preuve", "La preuve du harcèlement est partagée avec l'employeur."),
        ("Preuve libre", "En matière prud'homale, la preuve est libre : courriels, témoignages."),
        ("Le salarié protégé", "Le salarié protégé ne peut être licencié sans autorisation."),
        ("Salariés à temps partiel", "Les salariés à temps partiel ont les mêmes droits."),
        ("Télétravail", "Le salarié en télétravail a les mêmes droits."),
        ("Licenciement économique", "Le licenciement économique impose un reclassement."),
    ]
    # licenciment stems as licencié does: read as « licenciement » only if it is
    # ten times as frequent (Ranking.typo_rare_ratio)
    texts += [("Licenciement", f"Le licenciement {i} suit un entretien.") for i in range(10)]
    index.add([Document(f"n{i}", title, text) for i, (title, text) in enumerate(texts)])
    return index


def test_preavis_is_never_answered_as_preuve(notes: Index) -> None:
    # « préavis » and « preuve » stem as preav and preuv, one edit apart; the
    # written forms are three edits apart, and préavis is a French word.
    assert [t.text for t in notes.analyzer.tokens("préavis preuve")] == ["preav", "preuv"]
    for typed in ("préavis", "preavis", "Préavis"):
        results = notes.search(typed)
        assert results.corrections == ()
        assert results.searched == typed
        assert results.total == 0  # no passage holds it: nothing else is searched
        assert results.unknown == (UnknownWord(typed, 0),)


def test_salaire_is_not_rewritten_to_salarie(notes: Index) -> None:
    # salaire and salarié are one edit apart (two letters swapped), and
    # « salarié » is in the notes: salaire is a French word all the same.
    results = notes.search("salaire")
    assert results.corrections == ()
    assert results.total == 0
    assert results.unknown == (UnknownWord("salaire", 0),)


def test_an_absent_french_word_is_reported_with_a_did_you_mean(notes: Index) -> None:
    results = notes.search("salaire")
    assert results.suggestion is not None and results.suggestion.query == "salarié"
    d = results.to_dict()
    assert d["unknown"] == [{"word": "salaire", "start": 0}]
    assert d["suggestion"]["query"] == "salarié"
    # Among other words: they are searched, the absent one is reported.
    results = notes.search("préavis licenciement")
    assert results.corrections == ()
    assert results.unknown == (UnknownWord("préavis", 0),)
    assert results.unknown[0].end == len("préavis")
    assert results.total == 11  # the passages of licenciement
    assert {h.doc_id for h in notes.search("préavis licenciement", limit=20)} == {
        f"n{i}" for i in range(5, 16)
    }
    assert notes.search("licenciement").unknown == ()


def test_a_real_typo_is_still_corrected(notes: Index) -> None:
    results = notes.search("licenciment economique")
    assert [(c.word, c.replacement) for c in results.corrections] == [
        ("licenciment", "licenciement")
    ]
    assert results.unknown == ()
    assert results.hits[0].doc_id == "n5"  # licenciement économique


def test_a_french_word_is_read_only_as_a_form_of_itself(notes: Index) -> None:
    # Snowball keeps -ent: licencient stems as licencient, which no note holds;
    # « licencié », two edits away, is a form of the same verb (« licenciement »,
    # as close, is another word).
    (c,) = notes.search("licencient").corrections
    assert (c.word, c.replacement) == ("licencient", "licencié")
    assert notes.search("licencient").unknown == ()


def test_edits_are_counted_on_written_forms(notes: Index) -> None:
    # Without the French words, the index alone decides: préavis is three
    # written edits from « preuve » and stays as typed; salaire, one edit from
    # « salarié » (a swap), is read as it.
    context = dataclasses.replace(notes.search_context(), lexicon=NO_WORDS)
    assert Pipeline(context).run(SearchRequest("préavis")).corrections == ()
    (c,) = Pipeline(context).run(SearchRequest("salaire")).corrections
    assert (c.word, c.replacement) == ("salaire", "salarié")
    assert Pipeline(context).run(SearchRequest("salaire")).unknown == ()


def test_a_word_kept_as_typed_and_found_nowhere_is_reported(notes: Index) -> None:
    assert notes.search("+pendemie").unknown == (UnknownWord("pendemie", 1),)
    assert notes.search("pendemie", correct=False).unknown == (UnknownWord("pendemie", 0),)
    # licenciment stems as licencié does: as typed, it finds the licenciés
    assert notes.search("+licenciment").unknown == ()
    assert notes.search("le salarié").unknown == ()  # stop words are not reported


def test_completions_are_words_not_tokens_glued_by_punctuation() -> None:
    ix = Index.in_memory()
    text = "Le licenciement.L'employeur doit motiver le licenciement. Licenciements économiques."
    ix.add([Document("a", "T", text)])
    words = [c.word for c in ix.complete("licen")]
    assert "licenciement" in words
    assert all("." not in w for w in words)


class _Written:
    """How forms are written, counting the look-ups (they read passages)."""

    def __init__(self, glued: set[str]) -> None:
        self.glued = glued
        self.asked: list[str] = []

    def written(self, folded: str) -> str:
        self.asked.append(folded)
        return f"{folded}.L'autre" if folded in self.glued else folded


def test_completions_look_up_how_only_the_words_shown_are_written() -> None:
    from searchlib.query.suggest import _best_words

    by_term = {
        "licenci": [("licenciement", 50), ("licencie", 20)],  # the first is glued
        "licenc": [("licence", 40)],
        "licit": [("licite", 30)],
        "lich": [("lichen", 1)],
    }
    state = _Written({"licenciement"})
    best = list(_best_words(by_term, None, state, 2))
    # licenciement is refused: licence (40), then licite (30) beats licencié (20)
    assert best == [(40, 40, "licence"), (30, 30, "licite")]
    assert state.asked == ["licenciement", "licence", "licite"]  # never lichen nor licencie
    counts = [5, 1, 1, 9]  # found with the query's other words: lichen first
    best = list(_best_words(by_term, counts, _Written({"licenciement"}), 3))
    assert best == [(9, 1, "lichen"), (5, 20, "licencie"), (1, 40, "licence")]


def test_completions_read_only_the_forms_of_their_start() -> None:
    # Forms folded to the typed start from three stretches of the dictionary:
    # the start itself (cede), its first letter then an accent (cèdre), an
    # accent or ligature first (école, œuvre: « oe »).
    words = "céder ceder cèdre Cèdres cédé école écrit écrits œuvre oeuvre États-Unis ça cahier"
    docs = [Document(f"d{i}", "Titre", f"{words} numéro {i}.") for i in range(3)]
    fresh, read = Index.in_memory(), Index.in_memory()
    fresh.add(docs)
    read.add(docs)
    read.search_context().state.surfaces()  # every form read: the reference
    prefixes = ["ce", "ced", "cèd", "ec", "écr", "oe", "œu", "et", "eta", "ca", "ça", "ze"]
    for prefix in prefixes:
        assert fresh.complete(prefix) == read.complete(prefix), prefix
    assert [c.word for c in fresh.complete("oeu")] == ["œuvre"]
    assert fresh.search_context().state._surfaces is None  # not all the index's forms


def test_a_derived_french_word_is_not_read_as_another_two_edits_away() -> None:
    # « accordage » (accord + -age) and « relanceur » (relancer + -eur) are French words
    # the shipped list lacks: derived from words it holds, they are no typos of
    # « accordée » and « relance », two edits away.
    index = Index.in_memory()
    texts = [
        "La prime accordée au salarié.",
        "La relance de l'employeur.",
        "Une relance par courrier recommandé.",
        "L'accordéon du salarié.",
        "Les gestionnaires de paie.",
    ]
    index.add([Document(f"d{i}", "", text) for i, text in enumerate(texts)])
    for word in ("accordage", "relanceur"):
        results = index.search(word)
        assert results.corrections == ()
        assert results.unknown == (UnknownWord(word, 0),)
    # A typo is read one edit away all the same, even when it looks derived
    # (gestion + -aires).
    for typo, meant in (("acordée", "accordée"), ("gestionaires", "gestionnaires")):
        (c,) = index.search(typo).corrections
        assert c.replacement == meant


def test_how_a_form_is_written_is_read_from_the_pieces_that_can_give_it() -> None:
    from searchlib.analysis.analyzer import FrenchAnalyzer
    from searchlib.query.suggest import count_written

    exact = FrenchAnalyzer().exact_form()
    texts = [
        "Le Prud’homme et les prud’hommes, (prud'homme) PRUD-HOMME prudʼhomme.",
        "Les États-Unis, les etats-unis ; l'état unis ÉTATS\u00adUNIS.",
        "Le C.D.D. et le CDD, le cdd-type ; l’employeur, L'EMPLOYEUR, jusqu’à l'employeur.",
        "Au 13 ème étage, la ème ligne ; le premier et la première, Premier.",
        "Le licenciement.L'employeur doit motiver le licenciement. Licenciements.",
        "ΟΔΟΣ-ΑΣ et οδος, İstanbul ; con\u00adtrat, CONTRAT, co-n-trat.",
    ]
    terms = [
        "prudhomme", "prud", "homme", "étatsunis", "états", "unis", "cdd", "employeur",
        "ème", "étage", "premier", "première", "licenciement", "absent",
        "οδος", "ας", "οδοσας", "istanbul", "i̇stanbul", "contrat", "co", "trat",
    ]  # fmt: skip
    for text in texts:
        for term in terms:
            expected: dict[str, int] = {}
            for tok in exact.matching_tokens(text, {term}, mode="index"):
                piece = text[tok.start : tok.end]
                expected[piece] = expected.get(piece, 0) + 1
            counts: dict[str, int] = {}
            count_written(text, term, exact, counts)
            assert counts == expected, (text, term)


# -- co-occurrences (completions ranked with the query's other words, typo readings) --------

_WORDS = "contrat travail rupture salaire prime congé préavis licenciement".split()


@pytest.fixture(scope="module")
def segmented() -> Index:
    """Passages over a few words, added in three batches (segments), some deleted."""
    rng = random.Random(7)
    index = Index.in_memory()
    for batch in range(3):
        docs = []
        for i in range(40):
            title = " ".join(rng.sample(_WORDS, 1))
            text = " ".join(rng.choices(_WORDS, k=rng.randint(1, 5)))
            docs.append(Document(f"d{batch}-{i}", title, text))
        index.add(docs)
    index.delete([f"d1-{i}" for i in range(0, 40, 3)])
    return index


def _holding(state: Any, term: str, fields: Sequence[str]) -> set[int]:
    """Live passages holding ``term`` in one of ``fields``, read from Whoosh's postings."""
    reader = state.searcher.reader()
    found: set[int] = set()
    for f in fields:
        if f in state.searcher.schema and state.searcher.doc_frequency(f, term):
            found.update(d for d in reader.postings(f, term).all_ids() if not reader.is_deleted(d))
    return found


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.lists(st.sampled_from(_WORDS), max_size=3), max_size=3),
    st.lists(st.sampled_from([*_WORDS, "absent", "123"]), max_size=6),
    st.sampled_from([("title", "text"), ("text",), ("title",), ("text", "nofield")]),
)
def test_co_occurrences_count_the_passages_holding_a_term_and_each_group(
    segmented: Index, words: list[list[str]], typed: list[str], fields: tuple[str, ...]
) -> None:
    state = segmented.search_context().state
    analyzer = state.searcher.schema["text"].analyzer

    def term(word: str) -> str:
        return str(next(iter(analyzer(word))).text)

    groups = [[term(w) for w in group] for group in words]
    terms = [term(w) for w in typed]
    expected = []
    for t in terms:
        found = _holding(state, t, fields)
        for group in groups:
            found &= set().union(*(_holding(state, g, fields) for g in group))
        expected.append(len(found) if groups else 0)
    assert state.co_occurrences(groups, terms, fields) == expected
    assert state.co_occurrences(groups, terms, fields) == expected  # the groups' mask kept


def _seed_index() -> Index:
    from searchlib.corpus.loaders import seed_documents

    ix = Index.in_memory()
    ix.add(list(seed_documents()) + _docs())
    return ix


def test_written_forms_count_the_same_before_every_form_is_read() -> None:
    # A word's written forms are counted from its start's forms until every
    # form of the index is read (the first searches read no more); then from
    # all of them: the same counts either way.
    before = _seed_index().search_context().state
    after = _seed_index().search_context().state
    every = after.surfaces()
    folded = sorted(f for f in every.ordered if len(f) >= 2 and f[:2].isascii())
    assert len(folded) > 200 and {"etats", "economique"} <= set(folded)  # (from É, é)
    counted = {f: before.surface_frequency(f) for f in folded}
    counted["zzzz"] = before.surface_frequency("zzzz")
    assert before._surfaces is None  # never read them all
    assert counted == {f: after.surface_frequency(f) for f in [*folded, "zzzz"]}
    assert counted["zzzz"] == 0 and all(n > 0 for f, n in counted.items() if f != "zzzz")


def test_whether_written_forms_are_known_without_reading_them() -> None:
    state = _seed_index().search_context().state
    assert state.has_surfaces() and state._surfaces is None
    assert state.has_surfaces() == bool(state.surfaces())
    empty = Index.in_memory().search_context().state
    assert not empty.has_surfaces() and not empty.surfaces()
