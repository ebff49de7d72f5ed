"""The French analyzer: table tests per behaviour, and properties."""

from __future__ import annotations

import pickle
import re
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from unidecode import unidecode

from searchlib.analysis.analyzer import FrenchAnalyzer, fold, normalize_text
from searchlib.analysis.tokenizer import FrenchTokenizer

A = FrenchAnalyzer()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("l'URL", ["url"]),  # straight apostrophe
        ("L’URL", ["url"]),  # typographic apostrophe, capital article
        ("lʼURL", ["url"]),  # modifier letter apostrophe
        ("d’édition", ["edit"]),
        ("qu’il", ["il"]),
        ("jusqu'au", ["au"]),
        ("lorsqu’elle", ["elle"]),
        ("puisqu'on", ["on"]),
        ("quoiqu'il", ["il"]),
        ("n'est", ["est"]),
        ("s'il", ["il"]),
        ("c'est", ["est"]),
        ("j'ai", ["ai"]),
        ("m'a t'a", ["a", "a"]),
        ("ç'a été", ["a", "ete"]),  # colloquial elision of ça
        # not an elision: parts and the joined whole, like a hyphenated compound,
        # so "prudhommes" and "prud' hommes" find it too
        ("aujourd'hui", ["aujourd", "aujourdhui", "hui"]),
        ("prud’hommes", ["prud", "prudhomm", "homm"]),
        ("presqu'île", ["presqu", "presquil", "ile"]),
        ("quelqu’un", ["quelqu", "quelquun", "un"]),
        ("d'aujourd'hui", ["aujourd", "aujourdhui", "hui"]),  # elision, then a compound
    ],
)
def test_elision(text: str, expected: list[str]) -> None:
    assert A.terms(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # parts, plus the joined whole at the first part's position
        ("États-Unis", ["etat", "etatsun", "unis"]),
        ("porte-monnaie", ["port", "portemonnai", "monnai"]),
        ("week-end", ["week", "weekend", "end"]),
        ("c'est-à-dire", ["est", "estadir", "a", "dir"]),
    ],
)
def test_hyphenated_compounds(text: str, expected: list[str]) -> None:
    assert A.terms(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("13e mois", ["13e", "mois"]),
        ("13ème mois", ["13e", "mois"]),
        ("13 ème mois", ["13e", "mois"]),  # typed with a space: one word
        ("13 EME mois", ["13e", "mois"]),
        ("treizième mois", ["13e", "mois"]),
        ("Treizièmes mois", ["13e", "mois"]),
        ("1er janvier", ["1e", "janvi"]),
        ("premier janvier", ["1e", "janvi"]),
        ("1ère fois", ["1e", "fois"]),
        ("dix-septième", ["dix", "17e", "7e"]),  # the joined compound is the ordinal
        ("13 mois", ["13", "mois"]),  # a cardinal stays a number
        ("2 e-mails", ["2", "e", "email", "mail"]),  # "2 e" before a hyphen is no ordinal
    ],
)
def test_ordinals(text: str, expected: list[str]) -> None:
    assert A.terms(text) == expected


def test_spaced_ordinal_offsets_cover_both_words() -> None:
    (tok, _) = A.tokens("13 ème mois")
    assert (tok.text, tok.start, tok.end) == ("13e", 0, 6)


def test_compound_whole_matches_joined_spelling() -> None:
    assert A.terms("weekend")[0] in A.terms("week-end")
    assert A.terms("Etats Unis") == [t for t in A.terms("États-Unis") if t != "etatsun"]


@pytest.mark.parametrize(
    ("text", "plain"),
    [
        ("M.P.A.A.", "MPAA"),  # dotted acronym with final dot
        ("U.S.A", "USA"),  # without final dot
        ("S.N.C.F.", "SNCF"),
    ],
)
def test_dotted_acronyms_equal_plain_form(text: str, plain: str) -> None:
    assert A.terms(text) == A.terms(plain)
    assert len(A.terms(text)) == 1


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("3,5", ["3,5"]),  # decimal comma stays one term
        ("1.000.000", ["1.000.000"]),  # grouped thousands
        ("16 août 2007", ["16", "aout", "2007"]),  # date parts searchable
        ("13ème", ["13e"]),  # ordinals spelled one way
        ("13eme", ["13e"]),
        ("13e", ["13e"]),
        ("1er", ["1e"]),
        ("2nd", ["2e"]),
        ("L1234-5", ["l1234", "l12345", "5"]),  # article numbers: parts and whole
    ],
)
def test_numbers(text: str, expected: list[str]) -> None:
    assert A.terms(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("œuvre", ["oeuvr"]),  # ligature œ -> oe
        ("Œuvre", ["oeuvr"]),
        ("cœur", ["coeur"]),
        ("ex æquo", ["ex", "aequo"]),  # æ -> ae
        ("fédérale", ["federal"]),  # accents folded before stemming
        ("FÉDÉRALE", ["federal"]),  # case
        ("Noël", ["noel"]),  # diaeresis
        ("garçon", ["garcon"]),  # cedilla
    ],
)
def test_folding(text: str, expected: list[str]) -> None:
    assert A.terms(text) == expected


@pytest.mark.parametrize(
    ("forms", "note"),
    [
        (["pirate", "pirates"], "plural"),
        (["américain", "américains", "américaine", "americaines"], "gender, number, accents"),
        (["télécharger", "téléchargement", "telechargements"], "derivation"),
        (["fermer", "ferme", "fermé", "fermée"], "conjugation"),
    ],
)
def test_stemming_conflates_forms(forms: list[str], note: str) -> None:
    assert len({A.terms(f)[0] for f in forms}) == 1, note


def test_stop_words_are_flagged_only_at_query_time() -> None:
    index_terms = A.terms("les pas de la vie")
    assert index_terms == ["le", "pas", "de", "la", "vi"]  # stop words are indexed
    stopped = {t.text: t.stopped for t in A.tokens("les pas de la vie", mode="query")}
    assert stopped == {"le": True, "pas": False, "de": True, "la": True, "vi": False}


@pytest.mark.parametrize("homograph", ["été", "pas", "or", "car", "fin", "son", "avions"])
def test_homographs_are_not_stop_words(homograph: str) -> None:
    assert not A.tokens(homograph)[0].stopped


def test_stop_check_happens_before_folding() -> None:
    assert A.tokens("mais")[0].stopped
    assert not A.tokens("maïs")[0].stopped  # corn is not the conjunction


def test_offsets_point_into_the_original() -> None:
    text = "L’URL de la cour fédérale des États-Unis, l'œuvre."
    spans = {t.text: text[t.start : t.end] for t in A.tokens(text)}
    assert spans["url"] == "URL"  # not "L’URL"
    assert spans["federal"] == "fédérale"
    assert spans["etatsun"] == "États-Unis"
    assert spans["etat"] == "États"
    assert spans["oeuvr"] == "œuvre"


def test_stages_show_each_step() -> None:
    (stage,) = A.stages("L’Œuvres")
    assert (stage.surface, stage.elided, stage.lowercase, stage.folded, stage.stem) == (
        "L’Œuvres",
        "Œuvres",
        "œuvres",
        "oeuvres",
        "oeuvr",
    )
    assert (stage.start, stage.end) == (2, 8)


def test_nfc_normalisation_joins_decomposed_accents() -> None:
    decomposed = unicodedata.normalize("NFD", "fédérale")
    assert A.terms(decomposed) == ["federal"]
    assert normalize_text(decomposed) == "fédérale"


def test_analyzer_survives_pickling() -> None:
    again = pickle.loads(pickle.dumps(A))
    assert again == A
    assert again.terms("Les États-Unis") == A.terms("Les États-Unis")


def test_unstemmed_analyzer() -> None:
    assert FrenchAnalyzer(stem=False).terms("Les pirates américains") == [
        "les",
        "pirates",
        "americains",
    ]


def test_fold_keeps_unfoldable_text() -> None:
    assert fold("😀") == "😀"
    assert fold("Straße") == "strasse"


# -- properties -----------------------------------------------------------------

FRENCH_LETTERS = "abcdefghijklmnopqrstuvwxyzàâäçéèêëîïôöùûüÿœæ"
french_words = st.text(alphabet=FRENCH_LETTERS + FRENCH_LETTERS.upper(), min_size=1, max_size=12)
french_text = st.lists(
    st.tuples(french_words, st.sampled_from([" ", ", ", ". ", "-", "'", "’", "\n"])), max_size=12
).map(lambda parts: "".join(w + sep for w, sep in parts))


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_never_raises_on_any_string(text: str) -> None:
    A.terms(text)
    A.stages(text)


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_offsets_slice_back_to_the_word(text: str) -> None:
    text = normalize_text(text)
    for t in A.tokens(text):
        assert 0 <= t.start < t.end <= len(text)
        piece = text[t.start : t.end]
        assert piece.strip() == piece  # no surrounding space
        assert piece in t.surface  # inside the raw word as written


@settings(max_examples=300, deadline=None)
@given(french_text)
def test_accented_and_unaccented_spellings_give_the_same_terms(text: str) -> None:
    # unidecode turns œ into oe and æ into ae, as the analyzer does
    assert A.terms(text) == A.terms(unidecode(text))


# The word pattern as first written (a group per character): the tokenizer's
# faster pattern (possessive runs) must find exactly the same words.
_INVISIBLE = "\u00ad\u200b\u200c\u200d\u2060\ufeff"
_ALNUM_V1 = rf"(?:[^\W_](?:[{_INVISIBLE}]+(?=[^\W_]))?)"
_CONNECT_V1 = rf"(?:[-'’ʼ]|(?<=\d)[.,](?=\d)|\.(?={_ALNUM_V1}))"
_BODY_V1 = rf"{_ALNUM_V1}+(?:{_CONNECT_V1}{_ALNUM_V1}+)*"
_ORDINAL_V1 = rf"\d+ (?i:ièmes?|iemes?|èmes?|emes?|e|er|ère|ere)(?!{_ALNUM_V1}|[-.'’ʼ])"
_WORDS_V1 = {
    True: re.compile(rf"{_ORDINAL_V1}|{_BODY_V1}"),
    False: re.compile(_BODY_V1),
}


@settings(max_examples=500, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [*"aéÆ_1 9\n-.,'’ʼ«»", "\u00ad", "\u200b", "\ufeff", " ème", " e", "er", "ÈRE", "M."]
        ),
        max_size=40,
    ).map("".join)
)
def test_word_pattern_finds_the_words_of_its_first_version(text: str) -> None:
    for ordinals in (True, False):
        pattern = FrenchAnalyzer(ordinals=ordinals).tokenizer.pattern
        expected = [(m.group(), m.start()) for m in _WORDS_V1[ordinals].finditer(text)]
        assert [(m.group(), m.start()) for m in pattern.finditer(text)] == expected


@settings(max_examples=300, deadline=None)
@given(
    st.text(alphabet=st.sampled_from([*"aéÉœ1²ʼ'’-.,  \u00ad_", "ǅ", "Ⅻ", "٣"]), max_size=8),
    st.booleans(),
    st.booleans(),
)
def test_a_plain_word_splits_as_any_word(word: str, acronyms: bool, compounds: bool) -> None:
    # split() takes a short cut for an alphanumeric word: the tokens the full
    # walk (elision, acronyms, numbers, compounds) gives it.
    tokenizer = FrenchTokenizer(acronyms=acronyms, compounds=compounds)
    if word.isalnum():
        assert tokenizer.split(word) == tokenizer._split(word)
    for raw in tokenizer.words(word):
        if raw.isalnum():
            assert tokenizer.split(raw) == tokenizer._split(raw)
