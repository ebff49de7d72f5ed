"""An embedder that remembers: vectors cached on disk by text, across runs.

Encoding a whole corpus with a real model takes an hour on this machine; the
study encodes each text once (``warm``) and every later run reads the vectors
back. The cache keeps, per side (passages, queries), two append-only files in
a folder outside the repository (``/tmp`` by default): ``<name>.keys`` (one
hex key a line) and ``<name>.f32`` (the rows, raw float32), so a run killed
half-way keeps what it had encoded; passages go to ``vectors.*``, queries to
``vectors-queries.*``, so that one process may warm passages while another
warms queries. A key hashes the model identity, the side and the text as
the model reads it (a passage cut to the embedder's ``max_tokens``), so that
raising the cut encodes again only the passages it lengthens.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from searchlib.semantic.embedders import Embedder, Vectors

DEFAULT_DIR = Path(os.environ.get("SEARCHLIB_SEMANTIC_CACHE", "/tmp/searchlib-semantic-cache"))


def text_key(identity: str, side: str, text: str) -> str:
    """The cache key of ``text`` (as the model reads it, already cut) on ``side``."""
    h = hashlib.blake2b(f"{identity}|{side}|cut|{text}".encode(), digest_size=16)
    return h.hexdigest()


class _Shelf:
    """One side's append-only pair of files."""

    def __init__(self, folder: Path, name: str, dimension: int) -> None:
        self.keys_path = folder / f"{name}.keys"
        self.rows_path = folder / f"{name}.f32"
        self.dimension = dimension
        self.rows: dict[str, np.ndarray] = {}
        if self.keys_path.exists() and self.rows_path.exists():
            keys = self.keys_path.read_text().split()
            rows = np.fromfile(self.rows_path, dtype=np.float32)
            n = min(len(keys), rows.size // dimension)
            rows = rows[: n * dimension].reshape(n, dimension)
            self.rows = {k: rows[i] for i, k in enumerate(keys[:n])}

    def append(self, keys: Sequence[str], vectors: np.ndarray) -> None:
        with self.rows_path.open("ab") as f:
            np.ascontiguousarray(vectors, dtype=np.float32).tofile(f)
        with self.keys_path.open("a") as f:
            f.write("".join(k + "\n" for k in keys))
        for k, v in zip(keys, vectors, strict=True):
            self.rows[k] = v


class CachedEmbedder:
    """``inner`` with a disk cache (same identity and dimension as ``inner``)."""

    def __init__(self, inner: Embedder, folder: Path = DEFAULT_DIR, *, name: str = "vectors"):
        self.inner = inner
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self._shelves = {
            "passage": _Shelf(folder, name, inner.dimension),
            "query": _Shelf(folder, f"{name}-queries", inner.dimension),
        }
        self._lock = threading.Lock()
        self._keys: dict[tuple[str, str], str] = {}  # (side, text) -> key: cutting counts tokens
        self.hits = 0
        self.misses = 0

    @property
    def identity(self) -> str:
        return self.inner.identity

    @property
    def dimension(self) -> int:
        return self.inner.dimension

    @property
    def max_tokens(self) -> int | None:
        """The inner embedder's passage cut (recorded with the vectors)."""
        cut = getattr(self.inner, "max_tokens", None)
        return cut if isinstance(cut, int) else None

    def _key(self, side: str, text: str) -> str:
        found = self._keys.get((side, text))
        if found is None:
            read = text
            if side == "passage":
                # The text as the model reads it: a text that fits under two
                # cuts has one vector for both.
                truncate = getattr(self.inner, "truncate", None)
                if truncate is not None:
                    read = truncate(text)
            found = self._keys[(side, text)] = text_key(self.identity, side, read)
        return found

    def cached(self, side: str, texts: Sequence[str]) -> int:
        """How many of ``texts`` are in the cache."""
        rows = self._shelves[side].rows
        return sum(self._key(side, t) in rows for t in texts)

    def embed_queries(self, texts: Sequence[str]) -> Vectors:
        return self._embed("query", texts)

    def embed_passages(self, texts: Sequence[str]) -> Vectors:
        return self._embed("passage", texts)

    def _embed(self, side: str, texts: Sequence[str]) -> Vectors:
        shelf = self._shelves[side]
        keys = [self._key(side, t) for t in texts]
        missing = [i for i, k in enumerate(keys) if k not in shelf.rows]
        self.hits += len(keys) - len(missing)
        self.misses += len(missing)
        if missing:
            fresh = [texts[i] for i in missing]
            vecs = (
                self.inner.embed_queries(fresh)
                if side == "query"
                else self.inner.embed_passages(fresh)
            )
            with self._lock:
                shelf.append([keys[i] for i in missing], vecs)
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for i, k in enumerate(keys):
            out[i] = shelf.rows[k]
        return out
