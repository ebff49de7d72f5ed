"""Edit-distance-1 lookups against a brute-force Levenshtein and Whoosh's own."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from searchlib import Document, Index
from searchlib.query.typos import Vocabulary


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
