"""searchlib.semantic without a real model: the stand-in embedder, the vector
files, keeping vectors in step with the index, and the fusion arithmetic."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from searchlib import Document, Index, IndexCorruptError, IndexLockedError
from searchlib.semantic import (
    EmbedderMismatchError,
    HashingEmbedder,
    NoVectorsError,
    SemanticIndex,
    VectorStore,
    live_passages,
)
from searchlib.semantic.embedders import Embedder, normalized, truncate_tokens
from searchlib.semantic.fusion import fuse, ranked_order, standardise
from searchlib.semantic.state import LOCK_FILE
from searchlib.semantic.store import VECTORS_FILE, LivePassage, latest_generation, text_hash
from searchlib.semantic.text import embedding_text


class CountingEmbedder(HashingEmbedder):
    """The stand-in, remembering every text it encoded."""

    def __init__(self, dimension: int = 32, name: str = "hashing") -> None:
        super().__init__(dimension, name=name)
        self.seen: list[str] = []

    def embed_passages(self, texts):  # type: ignore[no-untyped-def]
        self.seen.extend(texts)
        return super().embed_passages(texts)


DOCS = [
    Document("a", "Congés payés", "Le salarié a droit à des congés payés chaque année."),
    Document("b", "Météo", "Il pleut demain sur la Bretagne."),
    Document("c", "Salaire", "Le salaire minimum est revalorisé chaque année."),
]


def vec(tmp_path: Path) -> Path:
    """A folder for vectors apart from the index's (the index keeps none of its own
    here: these tests drive a SemanticIndex by hand)."""
    folder = tmp_path / "vectors"
    folder.mkdir(exist_ok=True)
    return folder


def sync(ix: Index, sem: SemanticIndex, **kw: object) -> object:
    return sem.sync(live_passages(ix.searcher()), **kw)  # type: ignore[arg-type]


# -- embedders -----------------------------------------------------------------


def test_hashing_embedder_is_an_embedder_of_unit_vectors() -> None:
    e = HashingEmbedder(dimension=48)
    assert isinstance(e, Embedder)
    v = e.embed_passages(["les congés payés", "la météo", ""])
    assert v.dtype == np.float32 and v.shape == (3, 48)
    assert np.allclose(np.linalg.norm(v[:2], axis=1), 1.0)
    assert not v[2].any()  # nothing to hash: a zero vector, not NaN


def test_hashing_embedder_puts_shared_words_closer() -> None:
    e = HashingEmbedder(dimension=128)
    q, near, far = e.embed_queries(
        ["congés payés", "mes congés payés annuels", "pluie en Bretagne"]
    )
    assert float(q @ near) > float(q @ far)


def test_normalized_rejects_other_shapes_and_keeps_zero_rows() -> None:
    with pytest.raises(ValueError, match="2-d"):
        normalized(np.ones(3))
    out = normalized(np.array([[0.0, 2.0], [0.0, 0.0]], dtype=np.float64))
    assert out.dtype == np.float32 and out.tolist() == [[0.0, 1.0], [0.0, 0.0]]


def test_truncate_tokens_cuts_at_words_to_the_budget() -> None:
    def count(t: str) -> int:
        return 2 + len(t.split())  # two special tokens, one token a word

    text = " ".join(f"mot{i}" for i in range(500))
    cut = truncate_tokens(text, 20, count)
    assert count(cut) <= 20 and text.startswith(cut) and cut.split()[-1].startswith("mot")
    assert truncate_tokens("court", 20, count) == "court"
    # no spaces at all: cut by characters until it fits
    assert len(truncate_tokens("x" * 1000, 20, len)) <= 20


def test_embedding_text_joins_title_and_text() -> None:
    assert embedding_text(" Titre ", "Texte") == "Titre\nTexte"
    assert embedding_text("", "Texte") == "Texte"
    assert embedding_text("Titre", "  ") == "Titre"


# -- the vector files ------------------------------------------------------------


def _store(n: int = 3, dim: int = 8) -> VectorStore:
    e = HashingEmbedder(dimension=dim)
    live = [LivePassage(f"d{i}#1", f"d{i}", 0, "T", f"texte numéro {i}") for i in range(n)]
    return VectorStore.empty(e.identity, dim, "passages").synced(live, e)


def test_store_round_trip_memory_mapped(tmp_path: Path) -> None:
    store = _store()
    saved = store.save(tmp_path)
    assert saved.generation == 1
    assert isinstance(saved.vectors, np.memmap)
    assert saved.keys == store.keys and np.array_equal(saved.vectors, store.vectors)
    assert np.array_equal(saved.hashes, store.hashes)
    meta = json.loads((tmp_path / VECTORS_FILE).read_text())
    assert (meta["identity"], meta["dimension"], meta["count"]) == ("hashing-8", 8, 3)
    # a second save is a new generation; the old files go
    again = saved.save(tmp_path)
    assert again.generation == 2 and latest_generation(tmp_path) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "vectors-2.hashes.npy",
        "vectors-2.keys.json",
        "vectors-2.npy",
        "vectors.json",
    ]


def test_store_load_without_vectors_is_none(tmp_path: Path) -> None:
    assert VectorStore.load(tmp_path) is None


def test_store_refuses_pickled_arrays(tmp_path: Path) -> None:
    _store().save(tmp_path)
    # an object array can only be read with pickle: refused, never unpickled
    np.save(tmp_path / "vectors-1.npy", np.array([object()], dtype=object), allow_pickle=True)
    with pytest.raises(IndexCorruptError, match="unreadable"):
        VectorStore.load(tmp_path)


@pytest.mark.parametrize(
    ("damage", "match"),
    [
        (lambda d: (d / VECTORS_FILE).write_text("[1]"), "not a JSON object"),
        (lambda d: (d / VECTORS_FILE).write_text("{"), "not JSON"),
        (
            lambda d: (d / VECTORS_FILE).write_text(
                (d / VECTORS_FILE).read_text().replace('"count": 3', '"count": 4')
            ),
            "expected float32",
        ),
        (lambda d: (d / "vectors-1.keys.json").write_text('["a", 1, 2]'), "passage ids"),
        (lambda d: (d / "vectors-1.npy").unlink(), "unreadable"),
        (lambda d: np.save(d / "vectors-1.hashes.npy", np.zeros(3, np.int8)), "disagree"),
        (
            lambda d: (d / VECTORS_FILE).write_text(
                (d / VECTORS_FILE).read_text().replace('"store_version": 1', '"store_version": 9')
            ),
            "version 9",
        ),
    ],
)
def test_store_damage_is_corruption(tmp_path: Path, damage, match: str) -> None:  # type: ignore[no-untyped-def]
    _store().save(tmp_path)
    damage(tmp_path)
    with pytest.raises(IndexCorruptError, match=match):
        VectorStore.load(tmp_path)


def test_store_checks_the_embedder() -> None:
    store = _store(dim=8)
    store.check_embedder(HashingEmbedder(dimension=8))
    with pytest.raises(EmbedderMismatchError, match="hashing-8"):
        store.check_embedder(HashingEmbedder(dimension=16))
    with pytest.raises(EmbedderMismatchError):
        store.check_embedder(HashingEmbedder(dimension=8, name="other"))


def test_plan_keeps_unchanged_encodes_new_and_changed_drops_gone() -> None:
    store = _store(3)
    live = [
        LivePassage("d0#1", "d0", 0, "T", "texte numéro 0"),  # unchanged
        LivePassage("d1#1", "d1", 0, "T", "un autre texte"),  # changed
        LivePassage("d9#1", "d9", 0, "T", "nouveau"),  # new
    ]  # d2 deleted
    plan = store.plan(live)
    assert plan.keep == (0,)
    assert [p.id for p in plan.encode] == ["d1#1", "d9#1"]
    assert plan.dropped == 2
    new = store.synced(live, HashingEmbedder(dimension=8))
    assert sorted(new.keys) == ["d0#1", "d1#1", "d9#1"]
    assert int(new.hashes[new.row("d1#1")]) == text_hash("T\nun autre texte")  # type: ignore[index]
    assert np.array_equal(new.vectors[new.row("d0#1")], store.vectors[0])  # type: ignore[index]


def test_synced_without_change_is_the_same_store() -> None:
    store = _store(2)
    live = [LivePassage(f"d{i}#1", f"d{i}", 0, "T", f"texte numéro {i}") for i in range(2)]
    assert store.synced(live, HashingEmbedder(dimension=8)) is store


# -- keeping vectors in step with an index ------------------------------------------


def _vectors_by_key(sem: SemanticIndex) -> dict[str, np.ndarray]:
    store = sem.store
    assert store is not None
    return {k: np.array(store.vectors[i]) for i, k in enumerate(store.keys)}


def test_sync_follows_adds_replaces_deletes(tmp_path: Path) -> None:
    e = CountingEmbedder()
    with Index.create(tmp_path / "ix") as ix:
        ix.add(DOCS)
        sem = SemanticIndex(vec(tmp_path), embedder=e)
        report = sync(ix, sem)
        assert (report.encoded, report.total) == (3, 3)  # type: ignore[attr-defined]
        before = _vectors_by_key(sem)

        ix.add([Document("d", "Retraite", "L'âge de départ à la retraite.")])
        ix.add([Document("b", "Météo", "Grand soleil sur la Bretagne.")])  # replaced
        ix.delete(["c"])
        e.seen.clear()
        report = sync(ix, sem)
        assert sorted(e.seen) == [
            "Météo\nGrand soleil sur la Bretagne.",
            "Retraite\nL'âge de départ à la retraite.",
        ]
        assert (report.kept, report.encoded, report.dropped) == (1, 2, 2)  # type: ignore[attr-defined]
        after = _vectors_by_key(sem)
        assert sorted(after) == ["a#1", "b#1", "d#1"]
        assert np.array_equal(after["a#1"], before["a#1"])
        assert not np.array_equal(after["b#1"], before["b#1"])
        # each vector is the one of its passage's current text
        for p in live_passages(ix.searcher()):
            assert np.allclose(after[p.id], e.embed_passages([p.embedded])[0])


def test_vectors_survive_a_merge_unchanged(tmp_path: Path) -> None:
    e = CountingEmbedder()
    with Index.create(tmp_path / "ix") as ix:
        for doc in DOCS:  # one segment each
            ix.add([doc])
        sem = SemanticIndex(vec(tmp_path), embedder=e)
        sync(ix, sem)
        before = _vectors_by_key(sem)
        docnums = {p.id: n for n, p in enumerate(live_passages(ix.searcher()))}
        ix.delete(["a"])
        ix.optimize()  # one segment: document numbers shift
        e.seen.clear()
        report = sync(ix, sem)
        assert e.seen == [] and report.dropped == 1  # type: ignore[attr-defined]
        after = _vectors_by_key(sem)
        assert sorted(after) == ["b#1", "c#1"]
        for key in after:
            assert np.array_equal(after[key], before[key])
        moved = {p.id: n for n, p in enumerate(live_passages(ix.searcher()))}
        assert moved != {k: v for k, v in docnums.items() if k != "a#1"}


def test_sync_every_passage_or_the_first(tmp_path: Path) -> None:
    long = Document(
        "long", "Long", "\n\n".join(f"Paragraphe {i}. " + "mot " * 60 for i in range(6))
    )
    with Index.create(tmp_path / "ix") as ix:
        ix.add([long, DOCS[0]])
        n_passages = ix.stats().passages
        assert n_passages > 2
        every = SemanticIndex(None, embedder=HashingEmbedder())
        assert sync(ix, every, scope="passages").total == n_passages  # type: ignore[attr-defined]
        first = SemanticIndex(None, embedder=HashingEmbedder())
        sync(ix, first, scope="first")
        assert first.store is not None and sorted(first.store.keys) == ["a#1", "long#1"]
        assert first.store.key_of("long", "long#3") == "long#1"
        with pytest.raises(EmbedderMismatchError, match="scope 'first'"):
            sync(ix, first, scope="passages")
        assert sync(ix, first, scope="passages", replace=True).total == n_passages  # type: ignore[attr-defined]


def test_vectors_reload_when_another_process_saves(tmp_path: Path) -> None:
    with Index.create(tmp_path / "ix") as ix:
        ix.add(DOCS)
        reader = SemanticIndex(vec(tmp_path), embedder=HashingEmbedder())
        assert reader.store is None and not reader.has_vectors
        writer = SemanticIndex(vec(tmp_path), embedder=HashingEmbedder())
        sync(ix, writer)
        assert reader.store is not None and len(reader.store) == 3
        writer.drop()
        assert reader.store is None
        assert [p.name for p in vec(tmp_path).iterdir()] == [LOCK_FILE]


def test_sync_refuses_another_model_unless_replaced(tmp_path: Path) -> None:
    with Index.create(tmp_path / "ix") as ix:
        ix.add(DOCS)
        sync(ix, SemanticIndex(vec(tmp_path), embedder=HashingEmbedder(16)))
        other = SemanticIndex(vec(tmp_path), embedder=HashingEmbedder(32))
        with pytest.raises(EmbedderMismatchError, match="hashing-16"):
            sync(ix, other)
        with pytest.raises(EmbedderMismatchError):
            other.query_vector("congés")
        assert sync(ix, other, replace=True).total == 3  # type: ignore[attr-defined]
        assert other.query_vector("congés").shape == (32,)


def test_no_vectors_and_unknown_model_are_clear_errors(tmp_path: Path) -> None:
    with Index.create(tmp_path / "ix") as ix:
        ix.add(DOCS)
        with pytest.raises(NoVectorsError, match="searchlib embed --index"):
            SemanticIndex(vec(tmp_path)).embedder()
        sync(ix, SemanticIndex(vec(tmp_path), embedder=HashingEmbedder()))
        # vectors of a model searchlib cannot load by itself: the caller must pass it
        with pytest.raises(EmbedderMismatchError, match="hashing-64"):
            SemanticIndex(vec(tmp_path)).query_vector("congés")


def test_query_vectors_are_cached() -> None:
    e = HashingEmbedder()
    sem = SemanticIndex(None, embedder=e)
    sem._store = VectorStore.empty(e.identity, e.dimension, "passages")
    first = sem.query_vector("congés payés")
    calls = e.calls
    assert sem.query_vector("congés payés") is first and e.calls == calls


def test_a_second_writer_waits_or_is_refused(tmp_path: Path) -> None:
    import fcntl
    import os

    with Index.create(tmp_path / "ix") as ix:
        ix.add(DOCS)
        sem = SemanticIndex(vec(tmp_path), embedder=HashingEmbedder())
        fd = os.open(vec(tmp_path) / LOCK_FILE, os.O_RDWR | os.O_CREAT)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            with pytest.raises(IndexLockedError, match="being written"):
                sync(ix, sem, wait=False)
        finally:
            os.close(fd)
        assert sync(ix, sem, wait=False).total == 3  # type: ignore[attr-defined]


# -- fusion ---------------------------------------------------------------------


def test_standardise_skips_missing_and_flat() -> None:
    assert standardise(np.array([0.2, 0.4, np.nan, 0.6])).round(6).tolist() == [
        -1.224745,
        0.0,
        0.0,
        1.224745,
    ]
    assert standardise(np.array([0.5, 0.5])).tolist() == [0.0, 0.0]
    assert standardise(np.array([0.5, np.nan])).tolist() == [0.0, 0.0]


def test_fuse_is_bm25_over_max_plus_weighted_z() -> None:
    lex = [10.0, 8.0, 5.0, 1.0]
    cos = [0.1, 0.3, 0.9, np.nan]
    f = fuse(lex, cos, weight=0.3)
    z = standardise(np.array(cos))
    assert np.allclose(f.scores, np.array(lex) / 10.0 + 0.3 * z)
    assert np.allclose(f.lexical_share + f.semantic_share, f.scores)
    assert f.z[3] == 0.0 and np.isnan(f.cosines[3])
    assert ranked_order(f).tolist() == [2, 0, 1, 3]
    # weight 0: the lexical order, exactly
    assert ranked_order(fuse(lex, cos, weight=0.0)).tolist() == [0, 1, 2, 3]


def test_fuse_equal_scores_keep_lexical_order() -> None:
    f = fuse([2.0, 2.0, 2.0], [np.nan] * 3, weight=1.0)
    assert ranked_order(f).tolist() == [0, 1, 2]
    with pytest.raises(ValueError):
        fuse([1.0], [0.1, 0.2], weight=0.1)


class CutEmbedder(HashingEmbedder):
    """The stand-in with a passage cut, as the real model has."""

    def __init__(self, max_tokens: int) -> None:
        super().__init__(16)
        self.max_tokens = max_tokens


def test_sync_refuses_vectors_of_another_passage_cut_unless_replaced(tmp_path: Path) -> None:
    with Index.create(tmp_path / "ix") as ix:
        ix.add(DOCS)
        sync(ix, SemanticIndex(vec(tmp_path), embedder=CutEmbedder(128)))
        same = SemanticIndex(vec(tmp_path), embedder=CutEmbedder(128))
        assert sync(ix, same).total == 3  # type: ignore[attr-defined]
        longer = SemanticIndex(vec(tmp_path), embedder=CutEmbedder(256))
        with pytest.raises(
            EmbedderMismatchError, match="cut to 128 tokens, not 'passages' cut to 256"
        ):
            sync(ix, longer)
        report = sync(ix, longer, replace=True)
        assert report.encoded == 3  # type: ignore[attr-defined]
        assert longer.store is not None and longer.store.passage_tokens == 256
