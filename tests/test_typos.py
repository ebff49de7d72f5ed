"""Edit-distance-1 lookups against a brute-force Levenshtein and Whoosh's own; forms
within two edits against reading every form; the French words that typo correction
never rewrites."""

from __future__ import annotations

from collections.abc import Iterable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from searchlib import Document, Index
from searchlib.analysis.analyzer import fold
from searchlib.query.french_words import NO_WORDS, FrenchWords, french_words
from searchlib.query.typos import (
    LARGE_INDEX,
    LetterCounts,
    Respelling,
    SurfaceVocabulary,
    Vocabulary,
    absent_readings,
    edit_distance,
    readings,
    respellings,
)


def _distance(a: str, b: str) -> int:
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, start=1):
        cur = [i]
        for j, cb in enumerate(b, start=1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


WORDS = st.text(alphabet="abcé1", min_size=1, max_size=6)


@settings(max_examples=300, deadline=None)
@given(st.lists(WORDS, max_size=40), WORDS)
def test_within_one_is_distance_one_keeping_the_first_letter(terms: list[str], word: str) -> None:
    expected = sorted({t for t in terms if t[0] == word[0] and _distance(t, word) == 1})
    assert Vocabulary(terms).within_one(word) == expected


def _osa(a: str, b: str) -> int:
    """Optimal-string-alignment distance, the whole table (the reference)."""
    d = [[i + j if i * j == 0 else 0 for j in range(len(b) + 1)] for i in range(len(a) + 1)]
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            d[i][j] = min(
                d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] != b[j - 1])
            )
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
    return d[-1][-1]


def _within(forms: Iterable[str], word: str, edits: int) -> list[tuple[str, int]]:
    """What SurfaceVocabulary.within gives, by reading every form."""
    found: dict[str, int] = {}
    for form in forms:
        if form and form != word and form[0] == word[0]:
            distance = _osa(word[1:], form[1:])
            if distance <= edits:
                found[form] = distance
    if edits >= 2:
        for form in forms:
            first = {word[1:], word[1:2] + word[:1] + word[2:]}
            if form != word and (form in first or form[1:] in (word, word[1:])):
                found.setdefault(form, 2)  # one edit of the first letter
    return sorted(found.items(), key=lambda kv: (kv[1], kv[0]))


@st.composite
def _near_forms(draw: st.DrawFn) -> tuple[list[str], str]:
    """A word, and forms of which many are a few edits from it."""
    letters = "abcé-"
    word = draw(st.text(alphabet=letters, min_size=1, max_size=13))
    forms = draw(st.lists(st.text(alphabet=letters, min_size=1, max_size=14), max_size=10))
    for _ in range(draw(st.integers(0, 30))):
        form = list(word)
        for _ in range(draw(st.integers(1, 3))):
            at = draw(st.integers(0, len(form)))
            edit = draw(st.sampled_from(["insert", "delete", "replace", "swap"]))
            letter = draw(st.sampled_from(letters))
            if edit == "insert":
                form.insert(at, letter)
            elif at < len(form) and edit == "delete":
                del form[at]
            elif at < len(form) and edit == "replace":
                form[at] = letter
            elif at + 1 < len(form):
                form[at], form[at + 1] = form[at + 1], form[at]
        forms.append("".join(form))
    return forms, word


@settings(max_examples=1500, deadline=None)
@given(_near_forms(), st.integers(1, 2))
def test_within_finds_what_reading_every_form_finds(
    near: tuple[list[str], str], edits: int
) -> None:
    forms, word = near
    vocabulary = SurfaceVocabulary(forms)
    word = fold(word)
    # the same forms, distances and order; one and two edits, short and long words
    assert vocabulary.within(word, edits) == _within(vocabulary.by_fold, word, edits)


@settings(max_examples=1000, deadline=None)
@given(
    st.text(alphabet="abcd", max_size=12), st.text(alphabet="abcd", max_size=12), st.integers(0, 3)
)
def test_edit_distance_is_the_whole_tables_up_to_the_limit(a: str, b: str, limit: int) -> None:
    assert edit_distance(a, b, limit) == min(_osa(a, b), limit + 1)


def test_letter_counts_keep_the_forms_with_the_letters_of_a_word() -> None:
    forms = ["contrat", "contrats", "cantrat", "contrôle", "travail", "c", "cé", "c\U0001f600"]
    counts = LetterCounts(forms, "".join(sorted(set("".join(forms)))))
    assert counts.near("contrst", 1) == ["contrat", "contrats"]  # the letters of one edit
    assert sorted(counts.near("contrst", 2)) == ["cantrat", "contrat", "contrats"]
    assert counts.near("c\U0001f601", 1) == ["c", "cé", "c\U0001f600"]  # a letter no form has
    assert counts.near("zut", 2) == [] and LetterCounts([], "").near("zut", 2) == []
    # past 64 letters some share a count: more forms pass, none is lost
    many = [chr(0x4E00 + i) * 2 for i in range(200)]
    counts = LetterCounts(many, "".join(sorted(set("".join(many)))))
    assert counts.near(many[3][0] + "x", 1) == [many[3]]


def test_same_answers_as_whoosh_terms_within() -> None:
    ix = Index.in_memory()
    ix.add(
        [
            Document(
                "a", "Contrats", "Le contrat de travail, les contrats, le contrôle, la contrainte."
            ),
            Document("b", "Congés", "Les congés payés et le congé parental."),
        ]
    )
    state = ix.search_context().state
    reader = state.searcher.reader()
    for word in ["contrst", "contrat", "conges", "travil", "kontrat", "cong", "parentl"]:
        whoosh = sorted(
            t.decode() if isinstance(t, bytes) else t
            for t in reader.terms_within("text", word, 1, prefix=1)
        )
        assert state.vocabulary("text").within_one(word) == [t for t in whoosh if t != word]
    assert state.vocabulary("text") is state.vocabulary("text")  # read once per searcher


def test_unknown_field_has_an_empty_vocabulary() -> None:
    ix = Index.in_memory()
    assert Vocabulary.of_field(ix.searcher(), "nope").within_one("mot") == []


def test_corrections_are_the_most_frequent_terms_one_edit_away() -> None:
    ix = Index.in_memory()
    ix.add(
        [
            Document("a", "Un", "parole"),
            Document("b", "Deux", "parole"),
            Document("c", "Trois", "paroi"),
            Document("d", "Quatre", "parade"),
        ]
    )
    state = ix.search_context().state
    assert sorted(state.vocabulary("text").terms) == ["parad", "paroi", "parol"]
    # "parol" is in two passages, "paroi" in one (alphabetically it would come first);
    # "parad" is two edits away.
    assert state.corrections("parox", ("text",)) == ("parol", "paroi")
    assert state.corrections("parol", ("text",)) == ()  # in the index: no typo
    assert (("text",), "parox") in state.typo_corrections


# -- French words -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "word",
    [
        "préavis",  # stems as preav, one edit from preuv (preuve)
        "salaire",  # one swap from salarie (salarié)
        "salariées",  # an inflection
        "licenciements",
        "ancienneté",
        "indemnités",
        "harcèlement",
        "reclassement",
        "démission",
    ],
)
def test_labour_law_words_are_french_words(word: str) -> None:
    assert fold(word) in french_words()


@pytest.mark.parametrize("typo", ["licenciment", "salarire", "indemnitée", "anciennetée"])
def test_typos_are_no_french_words(typo: str) -> None:
    assert fold(typo) not in french_words()


def test_a_french_word_is_read_only_as_a_form_of_itself() -> None:
    words = french_words()
    near = [Respelling("preuve", 2, 30), Respelling("salarie", 1, 20), Respelling("regarde", 1, 5)]
    assert readings("preavis", near, words) == []  # préavis is no typo of preuve
    assert readings("salaire", near, words) == []  # nor salaire of salarié
    # regardent (regarder) may be read as regarde, an inflection of the same verb
    assert [r.folded for r in readings("regardent", near, words)] == ["regarde"]
    assert readings("licenciment", near, words) == near  # no French word: any reading
    assert readings("preavis", near, NO_WORDS) == near  # the index alone decides
    assert words.same_word("salarie", "salariees") and not words.same_word("salaire", "salarie")


def test_french_words_are_looked_up_folded() -> None:
    words = FrenchWords(["Préavis", "Œuvre", "abat-jour", "aujourd'hui", "13e"])
    assert sorted(words) == ["oeuvre", "preavis"]  # one word of letters each
    assert "preavis" in words and "préavis" not in words  # looked up folded
    assert len(words) == 2 and len(NO_WORDS) == 0
    # a form and its lemma are words too, and forms of one word
    words = FrenchWords(["contrat"], [("Regardées", "regarder"), ("regarde", "regarder")])
    assert sorted(words) == ["contrat", "regarde", "regardees", "regarder"]
    assert words.same_word("regardees", "regarde") and words.same_word("regarder", "regarde")
    assert not words.same_word("contrat", "regarde") and not words.same_word("zzz", "zzz")
    assert french_words() is french_words()  # read once
    assert len(french_words()) > 100_000


# A French word the list lacks, explained by the list: a listed word after a French
# prefix, or the base of a listed lemma with a French suffix.
DERIVED = FrenchWords(
    "texte commande accord trinite sinistre gestion code friction candidat".split(),
    [("relanca", "relancer"), ("creusas", "creuser")],
)


@pytest.mark.parametrize(
    ("word", "source"),
    [
        ("paratexte", "texte"),  # para- + a listed word
        ("precommande", "commande"),  # pré- + a listed word
        ("anticode", None),  # anti- + code: too short a word after the prefix
        ("accordage", "accord"),  # accord + -age
        ("trinitaire", "trinite"),  # trinit(é) + -aire
        ("sinistrose", "sinistre"),  # sinistr(e) + -ose
        ("frictionnel", "friction"),  # frict(ion) + -ionnel
        ("candidatent", "candidat"),  # a verb made from candidat: -ent
        ("relanceur", "relancer"),  # relanc(er) + -eur: a lemma of the list
        ("creusasage", None),  # creusas + -age: creusas is listed, but no lemma
        ("accordxe", None),  # no French suffix
        ("texte", None),  # listed: derived from nothing
        ("gestionaires", "gestion"),  # a typo may look derived (read one edit away still)
    ],
)
def test_derivation_explains_a_word_the_list_lacks(word: str, source: str | None) -> None:
    assert DERIVED.derivation(word) == source


def test_a_derived_word_is_read_only_at_one_edit() -> None:
    near = [Respelling("accordee", 2, 30), Respelling("accords", 1, 5)]
    # accordage (accord + -age) is French: « accordée », two edits away, is another word
    assert [r.folded for r in readings("accordage", near, DERIVED)] == ["accords"]
    # a typo the list cannot explain is read as anything close
    assert readings("acordxe", near, DERIVED) == near
    # a typo that looks derived is still read one edit away (gestionnaires)
    typo = [Respelling("gestionnaires", 1, 40)]
    assert readings("gestionaires", typo, DERIVED) == typo
    assert readings("accordage", near, NO_WORDS) == near  # the index alone decides


def test_written_forms_not_stems_are_one_edit_apart() -> None:
    # The stems are one edit apart, the written words three.
    assert edit_distance("preav", "preuv", 2) == 1
    assert edit_distance("preavis", "preuve", 2) == 3
    assert edit_distance("salaire", "salarie", 2) == 1  # a swap


def test_in_a_large_index_readings_found_in_a_few_passages_come_first() -> None:
    # « rime » is one edit from rpime but in one passage; « prime », in fifty,
    # is one edit at the first letter (which counts two); « niqab » is the only
    # reading of niqag, in two passages.
    vocabulary = SurfaceVocabulary(["rime", "prime", "primes", "niqab"])
    passages = {"rime": 1, "prime": 50, "primes": 20, "niqab": 2}.__getitem__

    def read(word: str, size: int) -> list[str]:
        def respell(ratio: float) -> list[Respelling]:
            return respellings(vocabulary, word, passages, ratio=ratio)

        return [r.folded for r in absent_readings(respell, size)]

    assert read("rpime", LARGE_INDEX - 1) == ["rime"]  # a small index: any reading
    assert read("rpime", LARGE_INDEX) == ["prime"]
    assert read("niqag", LARGE_INDEX) == ["niqab"]  # none more frequent: the rare one
    vocabulary = SurfaceVocabulary(["licenciement"])
    passages = {"licenciement": 2}.__getitem__
    assert read("licencimnet", LARGE_INDEX - 1) == ["licenciement"]
    assert read("licencimnet", LARGE_INDEX) == []  # rare and two edits away: too far
