"""The on-disk index: the only module that touches ``whoosh.index`` and ``whoosh.fields``.

An index is a folder holding Whoosh's files and ``searchlib.json``, which records
the format and analyzer versions it was written with.

Example:
    >>> import tempfile
    >>> from searchlib import Document, Index
    >>> with Index.create(tempfile.mkdtemp()) as ix:
    ...     _ = ix.add([Document("a", "Musique", "La cour fédérale a tranché.")])
    ...     ix.search("federale").hits[0].doc_id
    'a'
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

import whoosh.index
from whoosh.codec.whoosh3 import W3Codec
from whoosh.fields import ID, STORED, TEXT, Schema
from whoosh.filedb.filestore import RamStorage
from whoosh.index import LockError
from whoosh.searching import Searcher

from searchlib import __version__
from searchlib.analysis import ANALYZER_VERSION, FrenchAnalyzer
from searchlib.corpus import Document, Passage, seed_dir, seed_documents, split_passages
from searchlib.errors import (
    IndexCorruptError,
    IndexExistsError,
    IndexLockedError,
    IndexNotFoundError,
    IndexVersionError,
    SearchlibError,
)
from searchlib.ranking import Ranking, make_weighting
from searchlib.search import SearchResults
from searchlib.search import search as _search

FORMAT_VERSION = 3
"""Version of the index layout (schema and stored fields)."""

META_FILE = "searchlib.json"
INDEX_NAME = "searchlib"


def make_schema() -> Schema:
    """The schema of a searchlib index: one Whoosh document per passage."""
    analyzer = FrenchAnalyzer()
    return Schema(
        id=ID(stored=True, unique=True),
        doc_id=ID(stored=True, sortable=True),
        position=STORED(),  # read back, never searched: indexing it cost ~20% of build time
        start=STORED(),
        title=TEXT(analyzer=analyzer, stored=True, phrase=True),
        text=TEXT(analyzer=analyzer, stored=True, phrase=True),
        exact=TEXT(analyzer=FrenchAnalyzer(stem=False, fold=False), phrase=False),
        fields=STORED(),
    )


@dataclass(frozen=True, slots=True)
class IndexStats:
    """Counts and versions of an index."""

    path: str | None
    documents: int
    passages: int
    fields: tuple[str, ...]
    size_bytes: int
    analyzer_version: str
    format_version: int


class Index:
    """A searchable collection of French documents, stored in a folder.

    Use :meth:`create` or :meth:`open` (or :func:`default_index` for the
    bundled seed corpus). An ``Index`` is a context manager; :meth:`close`
    releases its searcher.
    """

    def __init__(self, whoosh_index: Any, path: Path | None) -> None:
        self._ix = whoosh_index
        self.path = path
        self._searcher: Searcher | None = None
        self._lock = threading.RLock()
        self.analyzer = FrenchAnalyzer()
        self.exact_analyzer = FrenchAnalyzer(stem=False, fold=False)
        self.ranking = Ranking()

    # -- life cycle ---------------------------------------------------------

    @classmethod
    def create(cls, path: str | Path, *, overwrite: bool = False) -> Index:
        """Create an empty index in folder ``path``.

        Raises:
            IndexExistsError: ``path`` holds an index (or other files) and
                ``overwrite`` is false.
        """
        folder = Path(path)
        if folder.exists() and not folder.is_dir():
            raise IndexExistsError(folder)
        if folder.is_dir() and any(folder.iterdir()):
            if not overwrite:
                raise IndexExistsError(folder)
            if not (folder / META_FILE).exists() and not _looks_like_whoosh(folder):
                raise SearchlibError(
                    f"refusing to overwrite {folder}: it is not empty and not a searchlib index"
                )
            shutil.rmtree(folder)
        folder.mkdir(parents=True, exist_ok=True)
        ix = whoosh.index.create_in(str(folder), make_schema(), indexname=INDEX_NAME)
        _write_meta(folder)
        return cls(ix, folder)

    @classmethod
    def open(cls, path: str | Path) -> Index:
        """Open the index in folder ``path``.

        Raises:
            IndexNotFoundError: no searchlib index there.
            IndexVersionError: written by an incompatible version.
            IndexCorruptError: the files cannot be read.
        """
        folder = Path(path)
        meta_path = folder / META_FILE
        if not folder.is_dir():
            raise IndexNotFoundError(folder)
        if not meta_path.is_file():
            raise IndexNotFoundError(folder, "no searchlib index (missing searchlib.json)")
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            raise IndexCorruptError(f"{meta_path}: unreadable ({e})") from e
        if not isinstance(meta, dict):
            raise IndexCorruptError(f"{meta_path}: not a JSON object")
        fmt, ana = meta.get("format_version"), meta.get("analyzer_version")
        if fmt != FORMAT_VERSION or ana != ANALYZER_VERSION:
            raise IndexVersionError(
                f"index at {folder} was written with format {fmt!r} and analyzer {ana!r}; "
                f"this searchlib ({__version__}) reads format {FORMAT_VERSION} and analyzer "
                f"{ANALYZER_VERSION!r}: rebuild it with `searchlib index ... --overwrite`"
            )
        try:
            ix = whoosh.index.open_dir(str(folder), indexname=INDEX_NAME)
        except whoosh.index.EmptyIndexError as e:
            raise IndexNotFoundError(folder, "no Whoosh index files") from e
        except Exception as e:  # any unpickling/IO failure means unreadable
            raise IndexCorruptError(f"index at {folder} cannot be read: {e}") from e
        return cls(ix, folder)

    @classmethod
    def in_memory(cls) -> Index:
        """A throw-away index held in memory."""
        ix = RamStorage().create_index(make_schema(), indexname=INDEX_NAME)
        return cls(ix, None)

    def close(self) -> None:
        """Release the searcher (the index can be reopened later)."""
        with self._lock:
            if self._searcher is not None:
                self._searcher.close()
                self._searcher = None

    def __enter__(self) -> Index:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        where = str(self.path) if self.path else "memory"
        return f"Index({where!r})"

    # -- writing ------------------------------------------------------------

    def add(
        self,
        documents: Iterable[Document],
        *,
        limitmb: int = 256,
        timeout: float = 0.0,
    ) -> int:
        """Add documents (replacing any with the same id) and commit.

        All of ``documents`` land in one commit: if the iterable or the
        indexing raises, nothing of this call is kept and the index stays as
        it was at its last commit.

        Args:
            documents: documents to add; an id already in the index (or
                repeated in ``documents``) replaces the earlier document.
            limitmb: memory for Whoosh's posting pool.
            timeout: seconds to wait for another writer's lock.

        Returns:
            The number of documents added.

        Raises:
            IndexLockedError: another writer holds the lock past ``timeout``.
        """
        writer = self._writer(limitmb=limitmb, timeout=timeout)
        count = 0
        try:
            existing = self._ix.doc_count_all() > 0
            seen: set[str] = set()
            for doc in documents:
                if doc.id in seen:
                    # Whoosh cannot delete from the segment being written:
                    # commit what we have, then replace as usual.
                    writer.commit()
                    writer = self._writer(limitmb=limitmb, timeout=timeout)
                    seen.clear()
                    existing = True
                seen.add(doc.id)
                if existing:
                    writer.delete_by_term("doc_id", doc.id)
                for passage in split_passages(doc.id, doc.text):
                    writer.add_document(**_fields(doc, passage))
                count += 1
        except BaseException:
            writer.cancel()
            raise
        writer.commit()
        self._refresh()
        return count

    def delete(self, doc_ids: Iterable[str], *, timeout: float = 0.0) -> int:
        """Delete documents by id and commit. Returns how many passages went."""
        writer = self._writer(timeout=timeout)
        try:
            n = sum(writer.delete_by_term("doc_id", doc_id) for doc_id in doc_ids)
        except BaseException:
            writer.cancel()
            raise
        writer.commit()
        self._refresh()
        return int(n)

    def optimize(self) -> None:
        """Merge all segments into one (faster searches after many commits)."""
        self._ix.optimize()
        self._refresh()

    def _writer(self, limitmb: int = 256, timeout: float = 0.0) -> Any:
        try:
            return self._ix.writer(limitmb=limitmb, timeout=timeout, codec=_writer_codec())
        except LockError as e:
            raise IndexLockedError(
                f"index at {self.path or 'memory'} is locked by another writer"
            ) from e

    # -- reading ------------------------------------------------------------

    def searcher(self) -> Searcher:
        """The shared Whoosh searcher, refreshed after commits (internal)."""
        with self._lock:
            if self._searcher is None:
                self._searcher = self._ix.searcher(weighting=make_weighting(self.ranking))
            else:
                fresh = self._searcher.refresh()
                if fresh is not self._searcher:
                    self._searcher = fresh
            return self._searcher

    def _refresh(self) -> None:
        with self._lock:
            if self._searcher is not None:
                self._searcher = self._searcher.refresh()

    def set_ranking(self, ranking: Ranking) -> None:
        """Use other ranking parameters for the following searches."""
        with self._lock:
            self.ranking = ranking
            self.close()

    def search(self, query: str, limit: int = 10, page: int = 1, **options: Any) -> SearchResults:
        """Ranked search; see :func:`searchlib.search.search` for the options."""
        return _search(self, query, limit=limit, page=page, **options)

    def passages(self, doc_id: str) -> list[dict[str, Any]]:
        """The stored passages of a document, in order (empty if unknown)."""
        s = self.searcher()
        found = [dict(f) for f in s.documents(doc_id=doc_id)]
        return sorted(found, key=lambda f: int(f["position"]))

    def document(self, doc_id: str) -> Document | None:
        """Rebuild a stored document from its passages, or ``None``."""
        parts = self.passages(doc_id)
        if not parts:
            return None
        first = parts[0]
        text = "".join(str(p["text"]) for p in parts)
        return Document(doc_id, str(first["title"]), text, dict(first.get("fields") or {}))

    def __len__(self) -> int:
        """Number of documents (not passages)."""
        return self.stats().documents

    def stats(self) -> IndexStats:
        """Documents, passages, fields, size on disk and versions."""
        s = self.searcher()
        reader = s.reader()
        passages = reader.doc_count()
        documents = sum(1 for _ in reader.lexicon("doc_id")) if passages else 0
        if reader.has_deletions() and passages:
            documents = len({f["doc_id"] for f in reader.all_stored_fields()})
        size = 0
        if self.path is not None:
            size = sum(p.stat().st_size for p in self.path.iterdir() if p.is_file())
        return IndexStats(
            str(self.path) if self.path else None,
            documents,
            passages,
            tuple(self._ix.schema.names()),
            size,
            ANALYZER_VERSION,
            FORMAT_VERSION,
        )


def _writer_codec() -> W3Codec:
    """Whoosh's codec without per-block field-length statistics.

    Writing a segment, Whoosh looks up each posting's field length to keep
    the shortest and longest per block of postings: 12% of a build on cdtn.
    Those only tighten the score bounds Whoosh's optimised matching uses to
    skip blocks (without them the bounds stay valid, only looser); the numpy
    fast path reads field lengths from the per-document column instead.
    The on-disk format is Whoosh's own.
    """
    codec = W3Codec()
    codec.length_stats = False
    return codec


def _fields(doc: Document, passage: Passage) -> dict[str, Any]:
    return {
        "id": passage.id,
        "doc_id": doc.id,
        "position": passage.position,
        "start": passage.start,
        "title": doc.title,
        "text": passage.text,
        "exact": f"{doc.title}\n{passage.text}",
        "fields": dict(doc.fields) if doc.fields else None,
    }


def _looks_like_whoosh(folder: Path) -> bool:
    return any(p.name.endswith(".toc") or p.suffix == ".seg" for p in folder.iterdir())


def _write_meta(folder: Path) -> None:
    meta = {
        "format_version": FORMAT_VERSION,
        "analyzer_version": ANALYZER_VERSION,
        "searchlib_version": __version__,
    }
    tmp = folder / (META_FILE + ".tmp")
    tmp.write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, folder / META_FILE)


# -- the bundled seed corpus ------------------------------------------------

_default: Index | None = None
_default_lock = threading.Lock()


def cache_dir() -> Path:
    """Where the seed index is cached: ``$SEARCHLIB_CACHE_DIR``, else the user cache."""
    env = os.environ.get("SEARCHLIB_CACHE_DIR")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "searchlib"


def _seed_key() -> str:
    h = hashlib.sha256(f"{FORMAT_VERSION}:{ANALYZER_VERSION}:{__version__}".encode())
    for path in sorted(seed_dir().rglob("*")):
        if path.is_file():
            h.update(path.name.encode())
            h.update(path.read_bytes())
    return h.hexdigest()[:16]


def default_index() -> Index:
    """The index of the bundled seed corpus, built on first use and reused.

    It is cached on disk (see :func:`cache_dir`) and rebuilt when the seeds or
    the analyzer change; where the cache cannot be written, it lives in memory.
    """
    global _default
    with _default_lock:
        if _default is None:
            _default = _open_or_build_seed_index()
        return _default


def _open_or_build_seed_index() -> Index:
    target = cache_dir() / f"seed-{_seed_key()}"
    with contextlib.suppress(SearchlibError):
        return Index.open(target)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".build-", dir=target.parent))
    except OSError:
        ix = Index.in_memory()
        ix.add(seed_documents())
        return ix
    try:
        with Index.create(tmp, overwrite=True) as ix:
            ix.add(seed_documents())
        with contextlib.suppress(OSError):  # another process built it first
            os.replace(tmp, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return Index.open(target)


def iter_seed_passages() -> Iterator[Passage]:
    """The passages the seed corpus is indexed as (for tools and tests)."""
    for doc in seed_documents():
        yield from split_passages(doc.id, doc.text)
