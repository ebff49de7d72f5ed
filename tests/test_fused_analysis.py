"""The fused French chain gives exactly the tokens of the plain Whoosh chain."""

from __future__ import annotations

import gc
import gzip
import itertools
import json
import tracemalloc
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from conftest import need_shared, shared_dir
from hypothesis import given, settings
from hypothesis import strategies as st
from whoosh import formats
from whoosh.analysis import CompositeAnalyzer

from searchlib._whoosh import docwriter
from searchlib.analysis import (
    AccentFoldFilter,
    FrenchAnalyzer,
    FrenchLowercaseFilter,
    FrenchStemFilter,
    OrdinalFilter,
    StopDropFilter,
    StopFlagFilter,
    normalize_text,
)
from searchlib.analysis.analyzer import _WordTable
from searchlib.corpus.loaders import seed_documents

SHARED = shared_dir()
FR_SMALL = SHARED / "corpora" / "prebuilt" / "fr-small.jsonl.gz"


def _tokens(gen: Any) -> list[tuple[Any, ...]]:
    return [
        (
            t.text,
            t.pos,
            t.startchar,
            t.endchar,
            t.surface,
            bool(t.stopped),
            bool(t.compound),
            t.boost,
        )
        for t in gen
    ]


def _reference(analyzer: FrenchAnalyzer, text: str, **kwargs: Any) -> list[tuple[Any, ...]]:
    """The chain run filter by filter, as Whoosh runs any composite analyzer."""
    return _tokens(CompositeAnalyzer.__call__(analyzer, text, **kwargs))


def _texts() -> list[str]:
    need_shared(FR_SMALL)
    texts = [t for d in seed_documents() for t in (d.title, d.text)]
    with gzip.open(FR_SMALL, "rt", encoding="utf-8") as f:
        for line in itertools.islice(f, 0, 2000, 20):  # 100 documents of every kind
            obj = json.loads(line)
            texts += [normalize_text(obj.get("title", "")), normalize_text(obj["text"])[:20_000]]
    return texts


@pytest.mark.parametrize(("stem", "fold"), [(True, True), (False, True), (False, False)])
@pytest.mark.parametrize("mode", ["index", "query"])
def test_fused_matches_chain_on_real_text(stem: bool, fold: bool, mode: str) -> None:
    analyzer = FrenchAnalyzer(stem=stem, fold=fold)
    for text in _texts():
        kwargs = {"positions": True, "chars": True, "mode": mode}
        assert _tokens(analyzer(text, **kwargs)) == _reference(analyzer, text, **kwargs)


def test_fused_keeps_start_offsets_and_no_morph() -> None:
    analyzer = FrenchAnalyzer()
    text = "Les États-Unis d’Amérique, l'URL M.P.A.A. et 3,5 % au 13ème siècle"
    kwargs = {"positions": True, "chars": True, "start_pos": 7, "start_char": 100}
    assert _tokens(analyzer(text, **kwargs)) == _reference(analyzer, text, **kwargs)
    assert _tokens(analyzer(text, no_morph=True)) == _reference(analyzer, text, no_morph=True)
    # no_morph skips stemming: "siècle" stays whole.
    assert "siecle" in [t[0] for t in _tokens(analyzer(text, no_morph=True))]


def test_chains_of_french_filters_are_fused_others_not() -> None:
    from whoosh.analysis import LowercaseFilter

    assert FrenchAnalyzer().fused
    assert FrenchAnalyzer(stem=False, fold=False).fused
    assert not FrenchAnalyzer(fused=False).fused
    twice = FrenchAnalyzer()
    twice.items.append(FrenchStemFilter())  # stemmed twice: still only French filters
    other = FrenchAnalyzer()
    other.items.append(LowercaseFilter())  # a filter the fused path does not know
    assert twice.fused
    assert not other.fused
    text = "Les pirates américains téléchargent des œuvres"
    plain = FrenchAnalyzer(fused=False)
    assert plain.term_positions(text) is None
    for analyzer in (twice, other, FrenchAnalyzer(stem=False, fold=False), plain):
        for mode in ("index", "query"):
            kwargs = {"positions": True, "chars": True, "mode": mode}
            assert _tokens(analyzer(text, **kwargs)) == _reference(analyzer, text, **kwargs)


def test_stop_flags_follow_the_mode() -> None:
    analyzer = FrenchAnalyzer()
    # Same words, index then query mode: the word cache must not mix them up.
    assert not any(t.stopped for t in analyzer.tokens("les chats de la voisine", mode="index"))
    assert [t.stopped for t in analyzer.tokens("les chats de la voisine", mode="query")] == [
        True,
        False,
        True,
        True,
        False,
    ]


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.sampled_from([*"aeéèçœÆlLdqu'’ʼ-.,0123456789 \n«»?!", "jusqu", "Ème", "e\u0301"]),
        max_size=40,
    ).map("".join)
)
def test_fused_matches_chain_on_random_text(text: str) -> None:
    analyzer = FrenchAnalyzer()
    text = normalize_text(text)
    kwargs = {"positions": True, "chars": True, "mode": "index"}
    assert _tokens(analyzer(text, **kwargs)) == _reference(analyzer, text, **kwargs)


def test_matching_tokens_are_the_tokens_with_those_terms() -> None:
    analyzer = FrenchAnalyzer()
    for text in _texts()[:60]:
        tokens = analyzer.tokens(text, mode="index")
        terms = {t.text for t in tokens[::7]} | {"etatsun", "absent"}
        expected = [t for t in tokens if t.text in terms]
        assert analyzer.matching_tokens(text, terms) == expected
        custom = FrenchAnalyzer()
        custom.items.append(FrenchStemFilter())  # not fused: the plain route
        assert custom.matching_tokens(text, terms) == [
            t for t in custom.tokens(text, mode="index") if t.text in terms
        ]


def test_dropping_stop_words_keeps_positions_and_fuses() -> None:
    dropping = FrenchAnalyzer(stem=False, fold=False, drop_stop_words=True)
    assert dropping.fused
    text = "Le contrat de travail et les congés"
    fused = [(t.text, t.pos) for t in dropping.tokens(text)]
    assert fused == [("contrat", 1), ("travail", 3), ("congés", 6)]
    plain = super(FrenchAnalyzer, dropping).__call__(text, positions=True, mode="index")
    assert [(t.text, t.pos) for t in plain] == fused


def test_word_caches_stay_bounded_and_indexing_fills_one() -> None:
    # Indexing meets a corpus's whole vocabulary: the caches must start over at
    # their bound (the writer's memory stays flat), and still give the same terms.
    analyzer = FrenchAnalyzer(cache_size=50)
    text = " ".join(f"fédéral{n}es travaillèrent{n}" for n in range(400))
    for _ in range(2):  # the second pass reads what the first left cached
        found = analyzer.term_positions(text)
        assert found is not None
        expected: dict[bytes, list[int]] = {}
        for t in analyzer(text, mode="index"):
            expected.setdefault(t.text.encode(), []).append(t.pos)
        assert found == expected
    state = analyzer._plan()
    assert 0 < len(state.index_terms) <= 50
    # term_positions kept its words in its own cache only; the plain call above
    # used the word cache, which is bounded the same way.
    assert all(0 < len(c) <= 50 for c in state.words.values())
    fold_step, stem_step = analyzer.items[3], analyzer.items[5]
    assert isinstance(fold_step, AccentFoldFilter) and isinstance(stem_step, FrenchStemFilter)
    assert 0 < len(fold_step._cache()) <= 100 and 0 < len(stem_step._cache()) <= 100


def test_indexing_terms_do_not_fill_the_word_cache() -> None:
    analyzer = FrenchAnalyzer()
    assert analyzer.term_positions("Les salariés travaillaient") is not None
    state = analyzer._plan()
    assert sum(len(c) for c in state.words.values()) == 0
    assert len(state.index_terms) == 3


@pytest.mark.slow
def test_memory_stays_flat_while_indexing_new_words() -> None:
    # A writer's analyzer meets new words for as long as the corpus lasts: past
    # its caches' bounds, what it holds must stop growing.
    analyzer = FrenchAnalyzer(cache_size=200)

    def index(first: int, count: int) -> None:
        for n in range(first, first + count, 100):
            text = " ".join(f"Étudiées{k} l'œuvre-{k} fédérales{k}" for k in range(n, n + 100))
            assert analyzer.term_positions(text)
            analyzer.tokens(text, mode="index")

    tracemalloc.start()
    try:
        index(0, 2_000)  # past every bound of the analyzer's own caches
        gc.collect()
        before = tracemalloc.get_traced_memory()[0]
        index(2_000, 4_000)
        gc.collect()
        after = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    # Unbounded, 4,000 more numbers (five words each, their forms in several
    # caches) hold over 12 MB more. Bounded, the growth is at most what the
    # caches hold when full: the analyzer's (a few hundred words each) and
    # PyStemmer's own (10,000 stems, about 2 MB).
    assert after - before < 4_000_000


def test_analyzers_do_not_share_caches() -> None:
    one, two = FrenchAnalyzer(), FrenchAnalyzer()
    one.tokens("Les salariés", mode="index")
    assert two._plan().words == {}
    one.clean()
    assert one._plan().words == {}
    assert one.terms("Les salariés") == two.terms("Les salariés")


def test_threads_sharing_an_analyzer_get_the_same_tokens() -> None:
    texts = [t for t in _texts()[:40] if t]
    expected = [FrenchAnalyzer().tokens(t, mode="index") for t in texts]
    shared = FrenchAnalyzer(cache_size=64)  # small: caches start over while threads read

    def run(offset: int) -> bool:
        order = texts[offset:] + texts[:offset]
        wanted = expected[offset:] + expected[:offset]
        for _ in range(3):
            for text, tokens in zip(order, wanted, strict=True):
                if shared.tokens(text, mode="index") != tokens:
                    return False
                found = shared.term_positions(text)
                if found != {k: v for k, v in _grouped(tokens).items()}:
                    return False
        return True

    with ThreadPoolExecutor(max_workers=4) as pool:
        assert all(pool.map(run, range(0, 40, 10)))


def _grouped(tokens: list[Any]) -> dict[bytes, list[int]]:
    out: dict[bytes, list[int]] = {}
    for t in tokens:
        out.setdefault(t.text.encode(), []).append(t.pos)
    return out


_MATCHING = (FrenchAnalyzer(), FrenchAnalyzer(cache_size=3))


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                *"aeéèlLdqu'’ʼ-.,0123 \n\t\xa0\x1c",
                *("juge", "jugé", "États-Unis", "M.P.A.", "13 ème", "1 er", " e ", "ère"),
                *("\u200b", "\u2028"),
            ]
        ),
        max_size=60,
    ).map("".join),
    st.sets(st.sampled_from(["jug", "etat", "etatsun", "unis", "13e", "mpa", "l", "d", "a"])),
)
def test_matching_tokens_are_the_tokens_with_those_terms_on_random_text(
    text: str, terms: set[str]
) -> None:
    # matching_tokens finds the pieces between blanks holding a word that
    # gives a term with set operations over the pieces met so far (word by
    # word when a spaced ordinal may join two pieces); a tiny cache makes
    # that memory start over often.
    text = normalize_text(text)
    for analyzer in _MATCHING:
        expected = [t for t in analyzer.tokens(text, mode="index") if t.text in terms]
        assert analyzer.matching_tokens(text, terms) == expected
        assert analyzer.matching_tokens(text + " " + text, terms)[: len(expected)] == expected


def test_matching_tokens_start_over_when_they_met_too_many_words() -> None:
    analyzer = FrenchAnalyzer(cache_size=4)
    words = "le juge et la cour fédérale des États-Unis jugent".split()
    for i in range(len(words)):
        text = " ".join(words[i:] + words[:i])
        expected = [t for t in analyzer.tokens(text, mode="index") if t.text in {"jug", "etat"}]
        assert analyzer.matching_tokens(text, {"jug", "etat"}) == expected
        assert {t.surface for t in expected} == {"juge", "États-Unis"}


def test_matching_tokens_find_short_pieces_inside_longer_ones() -> None:
    # "a" and "de" first occur inside longer words: their own offsets are found.
    analyzer = FrenchAnalyzer(stem=False)
    text = "la demande a été faite\tde\u00a0bonne foi, a-t-il dit (a)"
    found = [(t[0], t[2]) for t in analyzer.matches(text, {"a", "de"})]
    at = text.index
    assert found == [
        ("a", at(" a ") + 1),
        ("de", at("\tde") + 1),
        ("a", at("a-t")),
        ("a", at("(a") + 1),
    ]
    tokens = analyzer.tokens(text, "index")
    assert found == [(t.text, t.start) for t in tokens if t.text in {"a", "de"}]


def _term_positions(tokens: list[tuple[Any, ...]]) -> dict[bytes, list[int]]:
    """Index-mode tokens as term -> positions, terms in the order they first come."""
    out: dict[bytes, list[int]] = {}
    for t in tokens:
        out.setdefault(t[0].encode(), []).append(t[1])
    return out


def _analyzers() -> list[FrenchAnalyzer]:
    base = [
        FrenchAnalyzer(),
        FrenchAnalyzer(stem=False),
        FrenchAnalyzer(compounds=False, acronyms=False, split_apostrophes=False),
        FrenchAnalyzer(drop_stop_words=True, ordinals=False),
    ]
    return [*base, *(a.exact_form() for a in base[:2])]


@pytest.mark.parametrize("analyzer", _analyzers())
def test_index_terms_are_the_chains_on_real_text(analyzer: FrenchAnalyzer) -> None:
    for text in _texts():
        expected = _term_positions(_reference(analyzer, text, positions=True, mode="index"))
        found = analyzer.term_positions(text)
        # The same terms, in the same order (a passage's runs of one-token
        # words and its other words), with the same positions.
        assert found is not None and list(found.items()) == list(expected.items())
        assert analyzer.term_counts(text) == {t: len(p) for t, p in expected.items()}


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [*"aeéèçœlLdq'’ʼ-.,019 \n", "jusqu", "Ème", "États-Unis", "M.P.A.", "\u00ad", "les"]
        ),
        max_size=40,
    ).map("".join)
)
def test_index_terms_are_the_chains_on_random_text(text: str) -> None:
    # Words of no token (ʼ), of several (compounds) and of one, in any order.
    text = normalize_text(text)
    for analyzer in (FrenchAnalyzer(), FrenchAnalyzer(drop_stop_words=True)):
        expected = _term_positions(_reference(analyzer, text, positions=True, mode="index"))
        found = analyzer.term_positions(text)
        assert found is not None and list(found.items()) == list(expected.items())


@pytest.mark.parametrize(
    ("item", "word", "expected"),
    [
        (FrenchLowercaseFilter(), "ÉTATS", "états"),  # lowercased
        (StopFlagFilter(), "les", None),  # flags only at query time: no text step
        (StopDropFilter(), "les", None),  # a stop word is dropped
        (StopDropFilter(), "juge", "juge"),
        (AccentFoldFilter(), "œuvrée", "oeuvree"),
        (OrdinalFilter(), "treizieme", "13e"),
        (FrenchStemFilter(), "americains", "americain"),
    ],
)
def test_index_text_is_the_step_at_index_time(item: Any, word: str, expected: str | None) -> None:
    step = item.index_text()
    if isinstance(item, StopFlagFilter):
        assert step is None and item.step(word, False, "index") == (word, False)
        return
    assert step(word) == expected
    found = item.step(word, False, "index")
    assert (None if found is None else found[0]) == expected


@given(st.lists(st.integers(0, 2**32 - 1), min_size=2, max_size=2, unique=True))
@settings(max_examples=300, deadline=None)
def test_remembered_pairs_of_positions_are_whooshs_encoding(pair: list[int]) -> None:
    first, second = sorted(pair)
    expected = formats.Positions().encode([first, second])
    assert docwriter._two_positions(first, second) == expected
    assert docwriter._two_positions(first, second) == expected  # remembered


def test_word_table_takes_words_from_the_generation_before() -> None:
    calls: list[str] = []

    def analyse(word: str) -> tuple[str]:
        calls.append(word)
        return (word,)

    table: _WordTable[tuple[str]] = _WordTable(4, analyse)  # two generations of two words
    assert table.many(["a", "b"]) == [("a",), ("b",)]
    assert table.many(["c"]) == [("c",)]  # a start-over: a and b are the older generation
    assert table.many(["a", "c", "a"]) == [("a",), ("c",), ("a",)]
    assert calls == ["a", "b", "c"]  # a was taken from the older generation
    assert len(table) <= 2
    table.many(["d", "e", "f"])  # two more start-overs: a is gone
    assert table.many(["a"]) == [("a",)] and calls[-1] == "a"
    table.clear()
    assert table.many(["f"]) == [("f",)] and calls[-1] == "f"
