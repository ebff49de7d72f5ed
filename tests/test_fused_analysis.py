"""The fused French chain gives exactly the tokens of the plain Whoosh chain."""

from __future__ import annotations

import gzip
import itertools
import json
from typing import Any

import pytest
from conftest import need_shared, shared_dir
from hypothesis import given, settings
from hypothesis import strategies as st
from whoosh.analysis import CompositeAnalyzer

from searchlib.analysis.analyzer import FrenchAnalyzer, FrenchStemFilter, normalize_text
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

    assert FrenchAnalyzer()._fused_chain() is not None
    assert FrenchAnalyzer(stem=False, fold=False)._fused_chain() is not None
    twice = FrenchAnalyzer()
    twice.items.append(FrenchStemFilter())  # stemmed twice: still only French filters
    other = FrenchAnalyzer()
    other.items.append(LowercaseFilter())  # a filter the fused path does not know
    assert twice._fused_chain() is not None
    assert other._fused_chain() is None
    text = "Les pirates américains téléchargent des œuvres"
    for analyzer in (twice, other, FrenchAnalyzer(stem=False, fold=False)):
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
    assert dropping._fused_chain() is not None
    text = "Le contrat de travail et les congés"
    fused = [(t.text, t.pos) for t in dropping.tokens(text)]
    assert fused == [("contrat", 1), ("travail", 3), ("congés", 6)]
    plain = super(FrenchAnalyzer, dropping).__call__(text, positions=True, mode="index")
    assert [(t.text, t.pos) for t in plain] == fused


def test_word_caches_stay_bounded_and_indexing_fills_one(monkeypatch: pytest.MonkeyPatch) -> None:
    # Indexing meets a corpus's whole vocabulary: the caches must start over at
    # their bound (the writer's memory stays flat), and still give the same terms.
    from searchlib.analysis import analyzer as analysis

    monkeypatch.setattr(analysis, "_WORD_CACHE_LIMIT", 50)
    monkeypatch.setattr(analysis, "_CACHE_LIMIT", 40)
    monkeypatch.setattr(analysis, "_WORD_CACHE", {})
    monkeypatch.setattr(analysis, "_INDEX_TERMS_CACHE", {})
    monkeypatch.setattr(analysis, "_FOLD_CACHE", {})
    monkeypatch.setattr(analysis, "_STEM_CACHE", {})
    analyzer = FrenchAnalyzer()
    text = " ".join(f"fédéral{n}es travaillèrent{n}" for n in range(400))
    for _ in range(2):  # the second pass reads what the first left cached
        found = analyzer.term_positions(text)
        assert found is not None
        expected: dict[bytes, list[int]] = {}
        for t in analyzer(text, mode="index"):
            expected.setdefault(t.text.encode(), []).append(t.pos)
        assert found == expected
    (index_terms,) = analysis._INDEX_TERMS_CACHE.values()
    assert 0 < len(index_terms) <= 50
    # term_positions kept its words in its own cache only; the plain call above
    # used the word cache, which is bounded the same way.
    assert all(0 < len(c) <= 50 for c in analysis._WORD_CACHE.values())
    assert 0 < len(analysis._FOLD_CACHE) <= 41 and 0 < len(analysis._STEM_CACHE) <= 41


def test_indexing_terms_do_not_fill_the_word_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    from searchlib.analysis import analyzer as analysis

    monkeypatch.setattr(analysis, "_WORD_CACHE", {})
    monkeypatch.setattr(analysis, "_INDEX_TERMS_CACHE", {})
    analyzer = FrenchAnalyzer()
    assert analyzer.term_positions("Les salariés travaillaient") is not None
    assert sum(len(c) for c in analysis._WORD_CACHE.values()) == 0
    assert sum(len(c) for c in analysis._INDEX_TERMS_CACHE.values()) == 3
