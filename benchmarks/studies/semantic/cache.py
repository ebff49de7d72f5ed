"""An embedder that remembers: vectors cached on disk by text, across runs.

Encoding a whole corpus with a real model takes an hour on this machine; the
study encodes each text once (``warm``) and every later run reads the vectors
back. The cache is two append-only files per name in a folder outside the
repository (``/tmp`` by default): ``<name>.keys`` (one hex key a line) and
``<name>.f32`` (the rows, raw float32), so a run killed half-way keeps what it
had encoded. A key hashes the model identity, the side (query or passage), the
passage truncation and the text.
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


class CachedEmbedder:
    """``inner`` with a disk cache (same identity and dimension as ``inner``)."""

    def __init__(self, inner: Embedder, folder: Path = DEFAULT_DIR, *, name: str = "vectors"):
        self.inner = inner
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self._keys_path = folder / f"{name}.keys"
        self._rows_path = folder / f"{name}.f32"
        self._lock = threading.Lock()
        self._rows: dict[str, np.ndarray] = {}
        self.hits = 0
        self.misses = 0
        self._load()

    @property
    def identity(self) -> str:
        return self.inner.identity

    @property
    def dimension(self) -> int:
        return self.inner.dimension

    def _load(self) -> None:
        if not self._keys_path.exists() or not self._rows_path.exists():
            return
        keys = self._keys_path.read_text().split()
        rows = np.fromfile(self._rows_path, dtype=np.float32)
        n = min(len(keys), rows.size // self.dimension)
        rows = rows[: n * self.dimension].reshape(n, self.dimension)
        # A run killed between the two appends: drop the unmatched tail.
        with self._rows_path.open("r+b") as f:
            f.truncate(n * self.dimension * 4)
        self._keys_path.write_text("".join(k + "\n" for k in keys[:n]))
        self._rows = {k: rows[i] for i, k in enumerate(keys[:n])}

    def _key(self, side: str, text: str) -> str:
        cut = getattr(self.inner, "max_tokens", None)
        h = hashlib.blake2b(f"{self.identity}|{side}|{cut}|{text}".encode(), digest_size=16)
        return h.hexdigest()

    def __len__(self) -> int:
        return len(self._rows)

    def cached(self, side: str, texts: Sequence[str]) -> int:
        """How many of ``texts`` are in the cache."""
        return sum(self._key(side, t) in self._rows for t in texts)

    def embed_queries(self, texts: Sequence[str]) -> Vectors:
        return self._embed("query", texts)

    def embed_passages(self, texts: Sequence[str]) -> Vectors:
        return self._embed("passage", texts)

    def _embed(self, side: str, texts: Sequence[str]) -> Vectors:
        keys = [self._key(side, t) for t in texts]
        missing = [i for i, k in enumerate(keys) if k not in self._rows]
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
                with self._rows_path.open("ab") as f:
                    np.ascontiguousarray(vecs, dtype=np.float32).tofile(f)
                with self._keys_path.open("a") as f:
                    f.write("".join(keys[i] + "\n" for i in missing))
                for j, i in enumerate(missing):
                    self._rows[keys[i]] = vecs[j]
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for i, k in enumerate(keys):
            out[i] = self._rows[k]
        return out
