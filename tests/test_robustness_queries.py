"""Hostile queries: deep nesting, huge queries, broad expansions, time limits.

No timing is asserted here (see ``benchmarks/robustness/pathological.py`` and
RELIABILITY.md for the measured costs): each case must finish with a result or
a clear ``SearchlibError``, where without the bounds it would recurse past
Python's limit or run for minutes.
"""

from __future__ import annotations

import threading

import pytest
from whoosh import query as wq

from searchlib import Document, Index, QuerySyntaxError
from searchlib._whoosh.limits import time_limit
from searchlib.errors import SearchTimeoutError
from searchlib.query.language import (
    MAX_DEPTH,
    MAX_EXPANDED_WORDS,
    MAX_WORDS,
    Group,
    Not,
    Word,
    parse,
)


@pytest.fixture(scope="module")
def index() -> Index:
    ix = Index.in_memory()
    ix.add(
        Document(f"d{i}", f"Titre {i}", f"télécharger téléchargement mot{i} commun partout")
        for i in range(300)
    )
    return ix


def test_a_thousand_nested_parentheses_are_a_syntax_error_not_a_crash(index: Index) -> None:
    query = "(" * 1000 + "commun" + ")" * 1000
    with pytest.raises(QuerySyntaxError, match="nested too deeply") as info:
        index.search(query)
    assert info.value.position == MAX_DEPTH  # the first "(" past the limit
    unbalanced = "(" * 100_000  # a pasted smiley storm
    with pytest.raises(QuerySyntaxError):
        parse(unbalanced)


def test_nesting_up_to_the_limit_is_searched(index: Index) -> None:
    query = "(" * MAX_DEPTH + "commun" + ")" * MAX_DEPTH
    assert index.search(query).total == 300
    assert index.search("title:" + "(" * MAX_DEPTH + "titre" + ")" * MAX_DEPTH).total == 300


def test_long_not_chains_are_flat() -> None:
    assert parse("NOT " * 10_000 + "x") == Group((Word("x", 40_000),))
    assert parse("NOT " * 9_999 + "x") == Group((Not(Word("x", 39_996)),))


def test_double_negation_cancels(index: Index) -> None:
    assert index.search("NOT NOT commun").total == 300


def test_too_many_words_is_a_syntax_error(index: Index) -> None:
    words = " ".join(f"mot{i}" for i in range(10_000))
    with pytest.raises(QuerySyntaxError, match="too long") as info:
        index.search(words)
    assert info.value.position == words.index(f"mot{MAX_WORDS}")
    phrase = '"' + " ".join(["commun"] * (MAX_WORDS + 1)) + '"'
    with pytest.raises(QuerySyntaxError, match="too long"):
        index.search(phrase)
    assert index.search(" ".join(f"mot{i}" for i in range(MAX_WORDS))).total == 256


def test_expansions_are_bounded(index: Index) -> None:
    with pytest.raises(QuerySyntaxError, match="too short"):
        index.search("t*")
    too_many = " ".join(["télé*"] * MAX_EXPANDED_WORDS + ["commun~"])
    with pytest.raises(QuerySyntaxError, match="prefix"):
        index.search(too_many)
    assert index.search(" ".join(["télé*"] * MAX_EXPANDED_WORDS)).total == 300
    assert index.search("mo~2").total > 0


def test_stray_quotes_parse_in_linear_time() -> None:
    # Each stray opening quote used to scan to the end of the query: 10^10 steps.
    assert parse("«" * 100_000 + " fin").items == (Word("fin", 100_001),)


def test_lone_surrogates_in_queries_are_read_as_replacement_characters(index: Index) -> None:
    for query in ["\ud800", "com\udfffmun", "té\ud800*", "commun\ud800~", 'title:"\udc00"']:
        index.search(query)  # no UnicodeEncodeError from Whoosh


def test_time_limit_stops_a_search_with_a_clear_error(index: Index) -> None:
    with pytest.raises(SearchTimeoutError, match="time limit") as info:
        index.search("commun", time_limit=1e-9)
    assert isinstance(info.value, TimeoutError)
    assert index.search("commun", time_limit=None).total == 300  # no limit
    assert index.search("commun").total == 300  # the default limit is generous


def test_time_limit_covers_counting_and_collapsing(index: Index) -> None:
    with pytest.raises(SearchTimeoutError):
        index.search("commun OR partout", collapse=True, time_limit=1e-9)
    searcher = index.searcher()
    with time_limit(1e-9), pytest.raises(SearchTimeoutError):
        list(searcher.docs_for_query(wq.Every()))  # behind len(results)
    assert len(list(searcher.docs_for_query(wq.Every()))) == 300  # no deadline outside


def test_time_limit_is_per_index_and_per_thread(index: Index) -> None:
    index.time_limit = 1e-9
    try:
        with pytest.raises(SearchTimeoutError):
            index.search("commun")
    finally:
        index.time_limit = 10.0
    seen: list[int] = []
    with time_limit(1e-9):  # this thread's deadline does not leak into another
        worker = threading.Thread(target=lambda: seen.append(index.search("commun").total))
        worker.start()
        worker.join()
    assert seen == [300]


def test_bad_time_limit_is_refused(index: Index) -> None:
    with pytest.raises(ValueError, match="time_limit"):
        index.search("commun", time_limit=0)


def test_huge_words_are_not_corrected_nor_fuzzily_expanded(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A 20,000-letter unknown word took 25 s in typo correction, past the
    # time limit; eight 3,000-letter word~2 ran 29 s and then returned.
    from searchlib.query.typos import Vocabulary

    looked: list[int] = []
    within_one = Vocabulary.within_one

    def spy(self: Vocabulary, word: str) -> list[str]:
        looked.append(len(word))
        return within_one(self, word)

    monkeypatch.setattr(Vocabulary, "within_one", spy)
    with Index.in_memory() as ix:
        ix.add([Document("a", "Titre", "Le contrat de travail.")])
        assert ix.search("x" * 20_000, time_limit=None).total == 0
        assert looked == []  # never looked for corrections of it
        assert ix.search("contrst").total == 1  # a real typo is still corrected
        assert looked and max(looked) == len("contrst")
        assert ix.search("contrat~1").total == 1
        with pytest.raises(QuerySyntaxError, match="too long for fuzzy matching"):
            ix.search("a" * 3000 + "~2")
