"""The numpy fast path ranks and scores exactly like Whoosh's reference path."""

from __future__ import annotations

import itertools
import json
import pickle
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from conftest import need_shared, shared_dir
from hypothesis import given, settings
from hypothesis import strategies as st
from whoosh import query as wq

from searchlib import Document, Index, Ranking
from searchlib._whoosh import blocks
from searchlib.corpus.loaders import load_corpus, seed_documents
from searchlib.ranking import fastpath
from searchlib.ranking.fastpath import (
    Executed,
    ScoringView,
    SegmentCache,
    execute,
    execute_fast,
    execute_whoosh,
)

SHARED = shared_dir()
CDTN = SHARED / "eval-public" / "cdtn-requetes"
PIAF = SHARED / "eval-public" / "piaf-v1.1-passages"


def _need(path: Path) -> Path:
    return need_shared(path)


def _queries(path: Path, n: int) -> list[str]:
    with _need(path).open(encoding="utf-8") as f:
        return [json.loads(line)["text"] for line in itertools.islice(f, 0, n * 25, 25)]


def _docs() -> Iterator[Document]:
    yield from seed_documents()
    yield from itertools.islice(load_corpus(_need(CDTN / "corpus.jsonl")), 0, 1200, 15)
    yield from itertools.islice(load_corpus(_need(PIAF / "corpus.jsonl")), 0, 600, 6)


@pytest.fixture(scope="module")
def index() -> Index:
    ix = Index.in_memory()
    docs = list(_docs())
    # Three commits (three segments), then deletions and a replacement:
    # global numbering, deleted passages and per-segment caches all count.
    ix.add(docs[: len(docs) // 3])
    ix.add(docs[len(docs) // 3 : 2 * len(docs) // 3])
    ix.search("travail")  # fill the caches before the index changes again
    ix.add(docs[2 * len(docs) // 3 :])
    ix.delete([d.id for d in docs[1:40:7]])
    ix.add([docs[50]])
    return ix


def _compiled(ix: Index, text: str) -> wq.Query | None:
    return ix.search_context().compile(text).query


def _view(ix: Index) -> ScoringView:
    """The fast path's arrays for the index's current searcher."""
    return ix.search_context().state.scoring


def _reference(ix: Index, query: wq.Query, limit: int, collapse: bool) -> Executed:
    """Every match scored by Whoosh, ranked, collapsed and counted by hand.

    Whoosh's own collapsing collector is not a reference: past the first few
    hits it can drop documents that belong in the top ``limit`` (a passage
    evicted from its heap is still counted as its document's best), and its
    totals are estimates.
    """
    s = ix.searcher()
    items = sorted(s.search(query, limit=None, optimize=False).items(), key=lambda x: (-x[1], x[0]))
    if collapse:
        seen: set[str] = set()
        kept = []
        for docnum, score in items:
            key = s.stored_fields(docnum)["doc_id"]
            if key not in seen:
                seen.add(key)
                kept.append((docnum, score))
        items = kept
    return Executed(items[:limit], len(items))


def _same(fast: Executed, slow: Executed) -> None:
    assert [d for d, _ in fast.ranked] == [d for d, _ in slow.ranked], slow
    for (_, a), (_, b) in zip(fast.ranked, slow.ranked, strict=True):
        assert a == pytest.approx(b, rel=1e-9)


def _check(ix: Index, texts: list[str]) -> int:
    checked = 0
    for text in texts:
        query = _compiled(ix, text)
        if query is None:
            continue
        for collapse, limit in [(True, 10), (False, 10), (True, 100)]:
            fast = execute_fast(_view(ix), query, limit, collapse)
            assert fast is not None, text  # OR queries (phrases inside included)
            slow = _reference(ix, query, limit, collapse)
            _same(fast, slow)
            if fast.exact:
                assert fast.total == slow.total, text
            else:  # phrase candidates that could not rank were left unchecked
                assert fast.total >= slow.total, text
            if not collapse:  # Whoosh's own collector agrees where it is exact
                _same(fast, execute_whoosh(ix.searcher(), query, limit, collapse))
            checked += 1
    return checked


@pytest.mark.slow
def test_same_top_k_scores_and_totals_on_real_queries(index: Index) -> None:
    texts = _queries(CDTN / "queries.jsonl", 40) + _queries(PIAF / "queries.jsonl", 40)
    texts += ["Qu'est-ce que le préavis ?", "États-Unis", "title:travail", "congé OR salaire"]
    assert _check(index, texts) > 200


@pytest.mark.slow
def test_documents_numbered_side_by_side_collapse_by_runs() -> None:
    # Deletions keep each document's passages side by side; the fixture above
    # (a document replaced in a later segment) is collapsed the general way.
    ix = Index.in_memory()
    docs = list(_docs())
    ix.add(docs[: len(docs) // 2])
    ix.add(docs[len(docs) // 2 :])
    ix.delete([d.id for d in docs[1:60:7]])
    assert _view(ix).keys_grouped()
    texts = _queries(CDTN / "queries.jsonl", 25) + _queries(PIAF / "queries.jsonl", 25)
    assert _check(ix, texts) > 120


def test_replaced_documents_are_not_collapsed_by_runs(index: Index) -> None:
    assert not _view(index).keys_grouped()


@settings(max_examples=400, deadline=None)
@given(
    st.lists(st.lists(st.integers(0, 4), min_size=1, max_size=5), min_size=1, max_size=90),
    st.integers(1, 60),  # a few documents resolved one by one, or many at once
    st.data(),
)
def test_collapse_by_runs_agrees_with_the_general_collapse(
    documents: list[list[int]], limit: int, data: st.DataObject
) -> None:
    # Few distinct scores, so ties inside a document and at the cut are common.
    keys = np.repeat(np.arange(len(documents)), [len(d) for d in documents])
    scores = np.array([float(s) for d in documents for s in d])
    picked = data.draw(st.sets(st.integers(0, len(keys) - 1), min_size=1))
    hits = np.array(sorted(picked), dtype=np.int64)
    by_runs, total = fastpath._collapse(hits, scores, keys, limit, grouped=True)
    general, expected_total = fastpath._collapse(hits, scores, keys, limit, grouped=False)
    assert total == expected_total == len(set(keys[hits].tolist()))
    assert fastpath._top(by_runs, scores, limit) == fastpath._top(general, scores, limit)


def test_follows_ranking_changes(index: Index) -> None:
    before = index.ranking
    try:
        index.set_ranking(Ranking(k1=0.9, b=0.4, title_b=0.9, title_boost=2.5))
        assert _check(index, _queries(CDTN / "queries.jsonl", 15)) > 30
        # Exact-form terms and proximity phrases (slop) inside the union.
        index.set_ranking(Ranking(exact_boost=0.5, proximity_boost=0.3))
        assert _check(index, _queries(PIAF / "queries.jsonl", 15)) > 30
    finally:
        index.set_ranking(before)


@pytest.mark.slow
def test_acronym_expansion_agrees_with_whoosh(index: Index) -> None:
    # Long forms as phrases (side by side, and with a slop) inside the union,
    # for the acronyms the fixture's own documents define.
    before = index.ranking
    acronyms = sorted(index.acronyms.counts)
    assert len(acronyms) > 20
    try:
        for ranking in (
            Ranking(acronym_boost=1.0, acronym_min_docs=1, acronym_max_forms=2),
            Ranking(acronym_boost=0.5, acronym_min_docs=1, acronym_slop=3),
        ):
            index.set_ranking(ranking)
            texts = [f"{a} {w}" for a, w in zip(acronyms, itertools.cycle(["", "droit"]))]
            texts += [a.upper() for a in acronyms[:10]]
            texts += _queries(CDTN / "queries.jsonl", 15)
            expanded = [t for t in texts if index.search(t, limit=1).match.phrases]
            assert len(expanded) > 20
            # ... and the compiled queries checked below hold the long forms.
            assert sum("Phrase" in repr(_compiled(index, t)) for t in expanded) == len(expanded)
            assert _check(index, texts) > 3 * len(acronyms)
    finally:
        index.set_ranking(before)


def test_other_queries_go_to_whoosh(index: Index) -> None:
    s = index.searcher()
    view = _view(index)
    for text in ["contrat AND travail", "contrat -travail", "NOT travail", "title:contrat AND cdi"]:
        query = _compiled(index, text)
        assert query is not None
        assert execute_fast(view, query, 10, True) is None
        assert execute(view, query, 10, False) == execute_whoosh(s, query, 10, False)
        # Segments are written without per-block length statistics: Whoosh's
        # block skipping must still rank like a full scan.
        _same(execute_whoosh(s, query, 10, False), _reference(index, query, 10, False))
    scaled = wq.Or([wq.Term("text", "contrat"), wq.Term("text", "travail")], scale=0.9)
    assert execute_fast(view, scaled, 10, False) is None


def test_phrases_inside_a_union_are_scored_by_whoosh(index: Index) -> None:
    # A quoted phrase compiles to OR(title phrase, text phrase); each phrase's
    # own Whoosh matcher scores it and the union is added up here.
    texts = ['"sécurité sociale"', '"délai de préavis"', '"contrat travail" salaire', "est-ce"]
    assert _check(index, texts) == 12
    query = _compiled(index, '"sécurité sociale"')
    assert query is not None
    found = execute_fast(_view(index), query, 10, False)
    assert found is not None
    assert found.total > 0


def test_inverted_questions(index: Index) -> None:
    # Hyphenated inversions (est-ce, a-t-il) compile to phrases of stop
    # words with many candidate passages (holding every word).
    texts = ["Qu'est-ce que le préavis ?", "est-ce obligatoire", "y a-t-il un délai ?"]
    texts += [t for t in _queries(PIAF / "queries.jsonl", 80) if "-" in t][:10]
    assert _check(index, texts) >= 30


@pytest.mark.parametrize(
    ("words", "slop"),
    [(["contrat", "de"], 1), (["de", "travail"], 2), (["le", "de"], 3), (["de", "la", "de"], 2)],
)
def test_phrase_positions_agree_with_whoosh(index: Index, words: list[str], slop: int) -> None:
    s = index.searcher()
    query = wq.Phrase("text", words, slop=slop)
    expected = {d for d, _ in s.search(query, limit=None).items()}
    assert expected  # the test means something
    view = _view(index)
    docs, _ = view.impacts("text", words[0])
    found = fastpath._phrase_docs(view, query, docs)
    assert {int(d) for d in docs[found]} == expected


def test_search_pages_agree_with_reference(index: Index) -> None:
    query = _compiled(index, "contrat de travail salarié")
    assert query is not None
    whole = execute_whoosh(index.searcher(), query, 30, False).ranked
    page2 = index.search(
        "contrat de travail salarié", limit=10, page=2, highlight_hits=False, collapse=False
    )
    assert [h.rank for h in page2] == list(range(11, 21))
    assert [h.score for h in page2] == pytest.approx([s for _, s in whole[10:20]], rel=1e-9)


def test_doc_frequency_is_cached_per_searcher_and_follows_commits() -> None:
    ix = Index.in_memory()
    ix.add([Document("a", "Congé", "le congé payé"), Document("b", "Paie", "la paie du congé")])
    state = ix.search_context().state
    searcher = state.searcher
    terms = [("text", "cong"), ("title", "cong"), ("text", "absent"), ("exact", "congé")]
    for field, term in terms:
        assert state.doc_frequency(field, term) == searcher.doc_frequency(field, term)
    assert state.doc_frequency("text", "cong") == 2
    assert ("text", "cong") in state.doc_frequencies
    ix.add([Document("c", "Autre", "un congé de plus")])  # a new searcher, a new state
    fresh = ix.search_context().state
    assert fresh is not state and fresh.searcher is ix.searcher()
    assert fresh.doc_frequency("text", "cong") == 3
    assert fresh.doc_frequency("text", "absent") == 0


def test_decoded_segments_outlive_searchers_until_merged_away() -> None:
    ix = Index.in_memory()
    ix.add([Document("a", "Congé", "le congé payé"), Document("b", "Paie", "la paie du congé")])
    ix.search("conge")
    segments = ix.search_context().state.segments
    held = {key: value for key, value in segments.postings._data.items() if key[1] == "text"}
    assert held  # the first segment's postings of "cong"
    ix.add([Document("c", "Autre", "un congé de plus")])  # a second segment
    ix.search("conge")
    assert ix.search_context().state.segments is segments
    for key, value in held.items():
        assert segments.postings.get(key) is value  # read once, reused
    ix.optimize()  # one new segment: the old ones are gone from the cache
    assert ix.search("conge").total == 3
    assert not any(key in segments.postings for key in held)
    live = {key[0] for key in segments.postings._data}
    assert len(live) == 1 and set(segments.segments) == live


def test_postings_are_bounded_by_count_of_postings() -> None:
    ix = Index.in_memory()
    ix.add([Document(str(i), "Titre", f"mot{i % 7} commun texte") for i in range(60)])
    cache = SegmentCache(max_postings=70)
    view = cache.view(ix.searcher())
    view.impacts("text", "commun")  # 60 postings
    view.impacts("text", "text")  # 60 more: the first term goes
    assert cache.postings.total_cost == 60 and len(cache.postings) == 1


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(0, 2**31 - 1), min_size=1, max_size=1200))
def test_positions_read_directly_as_whoosh_decodes_them(positions: list[int]) -> None:
    from whoosh.formats import Positions

    positions.sort()
    value = Positions().encode(positions)
    assert blocks.positions_of(value) == Positions().decode_positions(value) == positions
    assert blocks.positions_of(value[:-1]) == positions  # stored without its STOP too
    # Anything but a pickled list of ints is left to Whoosh.
    assert blocks.positions_of(value[:4] + pickle.dumps(tuple(positions), 2)) is None
    assert blocks.positions_of(value[:4] + pickle.dumps([str(p) for p in positions], 2)) is None
    miscounted = (len(positions) + 1).to_bytes(4, "big") + value[4:]
    assert blocks.positions_of(miscounted) is None


def test_block_ids_and_weights_read_without_values_as_whoosh_reads_them(index: Index) -> None:
    # Every block of every term: the head (ids and weights, the values left
    # unread) gives what Whoosh's matcher reads.
    from whoosh.codec.whoosh3 import W3LeafMatcher

    reader = index.searcher().reader()
    read_by_head = 0
    for leaf, _ in reader.leaf_readers():
        for field, btext in leaf.all_terms():
            if field not in ("text", "title", "exact"):
                continue
            m = leaf.postings(field, btext)
            if not isinstance(m, W3LeafMatcher):
                continue
            while m.is_active():
                head = blocks._block_head(m)
                ids, weights = list(blocks._block_ids(m)), list(blocks._block_weights(m))
                m._read_ids()
                m._read_weights()
                assert ids == list(m._ids) and weights == list(m._weights)
                if head is not None:  # ids stored as deltas, weights as stored
                    assert list(itertools.accumulate(head[0])) == ids
                    assert list(blocks._weights_of(head[1], m._blocklength)) == weights
                    read_by_head += 1
                m._next_block()
    assert read_by_head > 1000


@settings(max_examples=60, deadline=None)
@given(
    n=st.one_of(st.integers(0, 300), st.integers(2_000, 40_000)),
    levels=st.sampled_from([1, 3, 40, 1_000, 10**9]),
    limit=st.integers(1, 120),
    seed=st.integers(0, 2**32 - 1),
)
def test_top_is_the_full_sort_cut_on_long_lists_with_ties(
    n: int, levels: int, limit: int, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    scores = rng.integers(0, levels, size=n + 7).astype(np.float64) / 7.0
    hits = np.sort(rng.choice(n + 7, size=n, replace=False)).astype(np.int64)
    full = sorted(((float(scores[h]), int(h)) for h in hits), key=lambda p: (-p[0], p[1]))
    assert fastpath._top(hits, scores, limit) == [(h, s) for s, h in full[:limit]]


_WORDS = ["contrat", "durée", "travail", "de", "la", "fin"]


@settings(max_examples=40, deadline=None)
@given(
    texts=st.lists(
        st.lists(st.sampled_from(_WORDS), min_size=1, max_size=12).map(" ".join),
        min_size=3,
        max_size=12,
    ),
    words=st.lists(st.sampled_from(_WORDS), min_size=2, max_size=4),
    slop=st.integers(1, 4),
)
def test_phrases_over_random_text_agree_with_whoosh(
    texts: list[str], words: list[str], slop: int
) -> None:
    # Repeated and frequent words, several segments and a deleted passage:
    # the candidates (every word present) and the position test (each word
    # 1 to slop positions after the previous one) give Whoosh's matches.
    ix = Index.in_memory()
    docs = [Document(f"d{n}", "", text) for n, text in enumerate(texts)]
    half = len(docs) // 2
    ix.add(docs[:half])
    ix.add(docs[half:])
    ix.delete([docs[0].id])
    terms = [t for w in words for t in ix.analyzer.terms(w)]
    for boost in (1.0, 2.5):  # the second time, the phrase's passages are remembered
        phrase = wq.Phrase("text", terms, slop=slop, boost=boost)
        query = wq.Or([phrase, wq.Term("text", terms[0])])
        fast = execute_fast(_view(ix), query, 100, False)
        assert fast is not None
        _same(fast, _reference(ix, query, 100, False))
        assert fast.total == _reference(ix, query, 100, False).total


@pytest.mark.parametrize("limit", [33, 100, 150, 400])
def test_collapse_of_many_documents_by_runs_agrees_with_the_general_collapse(limit: int) -> None:
    # Pages past _FEW_RUNS documents resolve only the passages of the chosen
    # documents' runs, all at once; ties inside documents and at the cut.
    rng = np.random.default_rng(limit)
    keys = np.repeat(np.arange(300), rng.integers(1, 6, 300))
    scores = rng.integers(0, 5, len(keys)).astype(np.float64)
    hits = np.flatnonzero(rng.random(len(keys)) < 0.8)
    by_runs, total = fastpath._collapse(hits, scores, keys, limit, grouped=True)
    general, expected_total = fastpath._collapse(hits, scores, keys, limit, grouped=False)
    assert total == expected_total
    assert fastpath._top(by_runs, scores, limit) == fastpath._top(general, scores, limit)


def test_selective_queries_are_summed_passage_by_passage_to_the_same_scores(
    index: Index, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A query whose postings are few next to the index is scored without an
    # array as long as the index: the same hits, scores (to the bit) and totals.
    texts = ["licenciement", "préavis démission", "cour fédérale", "zzz", "mutuelle santé"]
    texts += _queries(CDTN / "queries.jsonl", 40)
    view = _view(index)
    compared = sparse = dense_chosen = 0
    for text in texts:
        query = _compiled(index, text)
        if query is None:
            continue
        found = fastpath.leaves(query)
        parts = None if found is None else fastpath._postings(view, found)
        if parts is not None:
            chosen = fastpath._sparse_scores(view, parts) is not None
            sparse += chosen
            dense_chosen += not chosen
        for collapse, limit in [(True, 10), (False, 10), (True, 100)]:
            monkeypatch.setattr(fastpath, "SPARSE_SHARE", 0)  # always passage by passage
            by_passage = execute_fast(view, query, limit, collapse)
            monkeypatch.setattr(fastpath, "SPARSE_SHARE", 10**9)  # always over every passage
            dense = execute_fast(view, query, limit, collapse)
            monkeypatch.setattr(fastpath, "_ADD_AT_FROM", 0)  # every part added in place
            in_place = execute_fast(view, query, limit, collapse)
            monkeypatch.undo()
            assert by_passage == dense == in_place, text
            compared += by_passage is not None
    assert compared > 100 and sparse and dense_chosen  # the default chose each way


@settings(max_examples=80, deadline=None)
@given(
    documents=st.one_of(st.integers(1, 60), st.integers(2_000, 12_000)),
    per_document=st.integers(1, 8),
    levels=st.sampled_from([1, 3, 40, 10**9]),
    share=st.sampled_from([0.02, 0.3, 1.0]),
    limit=st.integers(1, 120),
    seed=st.integers(0, 2**32 - 1),
)
def test_best_documents_by_walking_passages_agree_with_the_general_collapse(
    documents: int, per_document: int, levels: int, share: float, limit: int, seed: int
) -> None:
    # The best passages walked in ranking order until enough documents are
    # met: the same documents, passages (the first on a tie), order and total
    # as collapsing every document first, with ties inside documents, across
    # documents and at the cut, and documents with one passage or many.
    rng = np.random.default_rng(seed)
    keys = np.repeat(np.arange(documents), rng.integers(1, per_document + 1, documents))
    scores = rng.integers(0, levels, len(keys)).astype(np.float64) / 7.0
    hits = np.flatnonzero(rng.random(len(keys)) < share)
    general, total = fastpath._collapse(hits, scores, keys, limit, grouped=False)
    expected = (fastpath._top(general, scores, limit), total)
    assert fastpath._top_documents(hits, scores, keys, limit, grouped=True) == expected
    # The same when given only the matching passages' scores and keys (hits=None).
    for grouped in (True, False):
        ranked, found = fastpath._top_documents(None, scores[hits], keys[hits], limit, grouped)
        assert ([(int(hits[i]), score) for i, score in ranked], found) == expected


@pytest.mark.parametrize("grouped", [True, False])
@pytest.mark.parametrize("limit", [33, 100, 200, 400])
def test_best_documents_of_a_reranker_depth_agree_with_ranking_their_passages(
    limit: int, grouped: bool
) -> None:
    # A dense query whose every match scores above 0: the documents are found
    # from their best scores (ties inside documents, at the cut, across them).
    rng = np.random.default_rng(limit + grouped)
    keys = np.repeat(np.arange(300), rng.integers(1, 6, 300))
    if not grouped:
        keys = rng.permutation(keys)
    scores = rng.integers(0, 5, len(keys)).astype(np.float64)
    scores[rng.random(len(keys)) < 0.3] = 0.0
    hits = np.flatnonzero(scores > 0)
    expected = fastpath._top_documents(hits, scores, keys, limit, grouped)
    assert fastpath._best_documents(scores, keys, 310, limit, grouped) == expected


@settings(max_examples=100, deadline=None)
@given(
    documents=st.integers(1, 3_000),
    per_document=st.integers(1, 12),
    crowded=st.integers(0, 60),
    levels=st.sampled_from([2, 5, 40, 10**9]),
    share=st.sampled_from([0.01, 0.3, 1.0]),
    limit=st.integers(1, 200),
    seed=st.integers(0, 2**32 - 1),
)
def test_best_documents_above_a_guessed_threshold_agree_with_every_documents_best(
    documents: int,
    per_document: int,
    crowded: int,
    levels: int,
    share: float,
    limit: int,
    seed: int,
) -> None:
    # Grouped keys: the documents found among the passages above a threshold
    # guessed from a sample are those found from every document's best score,
    # with ties at the cut, and when the best passages crowd into a few
    # documents (``crowded`` documents of 40 passages scoring above all
    # others: a guess then holds too few documents and is lowered).
    rng = np.random.default_rng(seed)
    counts = rng.integers(1, per_document + 1, documents)
    counts[:crowded] = 40
    keys = np.repeat(np.arange(documents), counts)
    scores = rng.integers(1, levels + 1, len(keys)).astype(np.float64) / 7.0
    scores[keys < crowded] += levels
    scores[rng.random(len(keys)) >= share] = 0.0
    expected = fastpath._best_documents(scores, keys, documents, limit, grouped=False)
    assert fastpath._best_documents(scores, keys, documents, limit, grouped=True) == expected
