"""The on-disk index: the only module that touches ``whoosh.index`` and ``whoosh.fields``.

An index is a folder holding Whoosh's files and ``searchlib.json``, which records
the format and analyzer versions it was written with, and ``acronyms.json``,
the acronym definitions its documents gave (see :mod:`searchlib.query.acronyms`;
written after each commit that found some). An index without that file (one
written before it existed) reads as defining no acronym: its searches simply
get no acronym expansion, and adding documents starts the file.

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
import pickle
import re
import shutil
import struct
import tempfile
import threading
import time
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

import whoosh.index
from whoosh.codec.whoosh3 import W3Codec
from whoosh.fields import ID, STORED, TEXT, Schema
from whoosh.filedb.filestore import FileStorage, RamStorage
from whoosh.index import LockError
from whoosh.searching import Searcher

from searchlib import __version__
from searchlib._whoosh import limits, postingpool, termwriter, viewfile
from searchlib._whoosh.docwriter import DocumentAdder
from searchlib._whoosh.limits import LimitedSearcher
from searchlib._whoosh.safepickle import check_toc
from searchlib._whoosh.safepickle import install as _install_safe_unpickling
from searchlib.analysis.analyzer import ANALYZER_VERSION, FrenchAnalyzer
from searchlib.corpus.loaders import Document, Passage, seed_dir, seed_documents, split_passages
from searchlib.errors import (
    DocumentError,
    IndexCorruptError,
    IndexExistsError,
    IndexLockedError,
    IndexNotFoundError,
    IndexVersionError,
    SearchlibError,
)
from searchlib.query.acronyms import LEXICON_FILE, LEXICON_VERSION, AcronymLexicon
from searchlib.ranking.fastpath import SegmentCache
from searchlib.ranking.params import Ranking, make_weighting
from searchlib.searching import SearchContext, SearcherState, SearchResults
from searchlib.searching import search as _search

_install_safe_unpickling()  # index files are read through a restricted unpickler
viewfile.install()  # compound segment files are read in place, not copied

FORMAT_VERSION = 3
"""Version of the index layout (schema and stored fields)."""

META_FILE = "searchlib.json"
INDEX_NAME = "searchlib"


class _Default:
    """Marks an argument left out (``None`` means something else)."""


_DEFAULT = _Default()


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
        exact=TEXT(
            analyzer=FrenchAnalyzer(stem=False, fold=False, drop_stop_words=True), phrase=False
        ),
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
        self._state: SearcherState | None = None  # made with each searcher, dropped with it
        self._segments = SegmentCache()  # decoded segment data, shared by successive searchers
        self._lock = threading.RLock()
        self.analyzer = FrenchAnalyzer()
        self.exact_analyzer = FrenchAnalyzer(stem=False, fold=False, drop_stop_words=True)
        self._ranking = Ranking()
        self.acronyms = AcronymLexicon()
        """Acronym definitions mined from the documents (read-only for callers)."""
        self._acronyms_stamp: tuple[int, int] | None = None
        self.time_limit: float | None = limits.DEFAULT_TIME_LIMIT
        """Seconds a search may take before ``SearchTimeoutError`` (``None``: no limit)."""

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
        for attempt in range(_OPEN_RETRIES):
            generation = _latest_generation(folder)
            storage = _OpeningStorage(str(folder))
            try:
                check_toc(folder, INDEX_NAME)
                index = cls(storage.open_index(INDEX_NAME), folder)
                index.searcher()  # reads the segments: corrupt files fail here, not later
                storage.opened = None
                return index
            except BaseException as e:
                storage.close_opened()  # Whoosh leaves them open when it fails
                if isinstance(e, whoosh.index.EmptyIndexError):
                    raise IndexNotFoundError(folder, "no Whoosh index files") from e
                if isinstance(e, SearchlibError) or not isinstance(e, Exception):
                    raise  # e.g. the restricted unpickler refused an object
                # A file vanishing under us is a race with a writer in another
                # process (it committed and deleted the old files) only if the
                # index moved on; then try again.
                raced = isinstance(e, FileNotFoundError) and (
                    _latest_generation(folder) != generation
                )
                if not raced or attempt + 1 == _OPEN_RETRIES:
                    raise IndexCorruptError(f"index at {folder} cannot be read: {e}") from e
                time.sleep(0.01)
        raise AssertionError("unreachable")  # pragma: no cover

    @classmethod
    def in_memory(cls) -> Index:
        """A throw-away index held in memory."""
        ix = _RamStorage().create_index(make_schema(), indexname=INDEX_NAME)
        return cls(ix, None)

    def close(self) -> None:
        """Release the searcher (the index can be reopened later)."""
        with self._lock:
            if self._searcher is not None:
                self._searcher.close()
                self._searcher = None
                self._state = None

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
        limitmb: int = 128,
        timeout: float = 0.0,
        procs: int = 1,
    ) -> int:
        """Add documents (replacing any with the same id) and commit.

        All of ``documents`` land in one commit: if the iterable or the
        indexing raises (or the process dies), nothing of this call is kept
        and the index stays as it was at its last commit. The acronym
        definitions the documents give are counted on the way and merged
        into ``acronyms.json`` once the commit is written, before the write
        lock is released (a process killed between the two keeps the
        documents without their definitions).

        Args:
            documents: documents to add; an id already in the index (or
                repeated in ``documents``) replaces the earlier document.
            limitmb: memory for the posting pool, counted as Whoosh counts
                its own (:mod:`searchlib._whoosh.postingpool` holds the same postings
                in less); shared out between the processes when ``procs`` > 1.
            timeout: seconds to wait for another writer's lock.
            procs: processes that index at once (an index on disk only; see
                :mod:`searchlib._whoosh.parallel`). Each writes a segment of its own:
                the commit holds up to ``procs`` new segments.

        Returns:
            The number of documents added (repeated ids counted each time).

        Raises:
            IndexLockedError: another writer holds the lock past ``timeout``.
            DocumentError: a document has an empty id, a lone surrogate, or
                extra fields that are not JSON-like values.
            IndexingError: a helper process failed (``procs`` > 1).
        """
        if procs < 1:
            raise ValueError(f"procs must be at least 1, not {procs}")
        mined = AcronymLexicon()
        documents = mined.watch(documents)
        if procs > 1 and self.path is not None:
            from searchlib._whoosh import parallel  # noqa: PLC0415 (it imports this module)

            count = parallel.add(
                self,
                documents,
                procs=procs,
                limitmb=limitmb,
                timeout=timeout,
                under_lock=lambda: self._save_acronyms(mined),
            )
            self._refresh()
            return count
        writer = self._writer(limitmb=limitmb, timeout=timeout)
        try:
            batch = SegmentBatch(writer, replace_existing=self._ix.doc_count_all() > 0)
            for doc in documents:
                batch.add(doc)
        except BaseException:
            writer.cancel()
            raise
        commit(writer, under_lock=lambda: self._save_acronyms(mined))
        self._refresh()
        return batch.count

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

    def optimize(self, *, timeout: float = 0.0) -> None:
        """Merge all segments into one (faster searches after many commits)."""
        writer = self._writer(timeout=timeout)
        writer.commit(optimize=True)
        self._refresh()

    def _writer(self, limitmb: int = 128, timeout: float = 0.0) -> Any:
        try:
            writer = self._ix.writer(limitmb=limitmb, timeout=timeout, codec=_writer_codec())
        except LockError as e:
            waited = f" (waited {timeout:g} s)" if timeout else ""
            raise IndexLockedError(
                f"index at {self.path or 'memory'} is locked by another writer{waited}"
            ) from e
        postingpool.install(writer)
        termwriter.install(writer)
        if self.path is not None:
            _remove_stale_toc_files(self.path)
        return writer

    # -- reading ------------------------------------------------------------

    def searcher(self) -> Searcher:
        """The shared Whoosh searcher, refreshed after commits (internal)."""
        with self._lock:
            if self._searcher is None:
                self._searcher = self._new_searcher()
            else:
                self._refresh()
            assert self._searcher is not None
            return self._searcher

    def _refresh(self) -> None:
        with self._lock:
            s = self._searcher
            if s is None or s.up_to_date():
                return
            # A new searcher, not Whoosh's refresh(): that one re-adds the old
            # reader's segments to the new list (after a merge, deleted and
            # merged passages come back twice), fails on an empty index, and
            # closes readers another thread may still be searching with. The
            # old searcher is left to the garbage collector.
            self._searcher = self._new_searcher()

    def _save_acronyms(self, mined: AcronymLexicon) -> None:
        """Merge a commit's acronym definitions into the lexicon.

        Called with the write lock held, once the commit's table of contents
        is written: the file is read again first (another process may have
        saved definitions since this index was opened) and no other writer
        can save it meanwhile.
        """
        if not mined:
            return
        with self._lock:
            if self.path is None:
                self.acronyms.merge(mined)
                return
            merged = AcronymLexicon.load(self.path)  # another process may have added some
            merged.merge(mined)
            merged.save(self.path)
            self.acronyms = merged
            self._acronyms_stamp = _stamp(self.path / LEXICON_FILE)

    def _load_acronyms(self) -> None:
        """Read the lexicon again if another writer changed it."""
        if self.path is None:
            return
        stamp = _stamp(self.path / LEXICON_FILE)
        if stamp != self._acronyms_stamp:
            self.acronyms = AcronymLexicon.load(self.path)
            self._acronyms_stamp = stamp

    def _new_searcher(self) -> Searcher:
        """A new Whoosh searcher, and the state that caches what it reads."""
        self._load_acronyms()
        weighting = make_weighting(self._ranking)
        searcher = LimitedSearcher(self._ix.reader(), weighting=weighting, fromindex=self._ix)
        self._state = SearcherState(searcher, segments=self._segments)
        return searcher

    @property
    def ranking(self) -> Ranking:
        """The ranking parameters; assigning new ones applies them to the following
        searches (the searcher and what it cached are replaced)."""
        return self._ranking

    @ranking.setter
    def ranking(self, ranking: Ranking) -> None:
        if not isinstance(ranking, Ranking):
            raise TypeError(f"ranking must be a Ranking, not {type(ranking).__name__}")
        with self._lock:
            self._ranking = ranking
            self.close()

    def set_ranking(self, ranking: Ranking) -> None:
        """Use other ranking parameters for the following searches (``ix.ranking = ranking``)."""
        self.ranking = ranking

    def search_context(self) -> SearchContext:
        """What a search of this index needs now: the current searcher's state
        (refreshed after commits), the analyzers, the ranking and the acronym
        lexicon (see :func:`searchlib.searching.search`).

        :meth:`search` adds a time limit, one search at a time per index, and
        damaged data reported as :class:`IndexCorruptError`; a caller using a
        context directly takes care of those.
        """
        with self._lock:
            searcher = self.searcher()
            state = self._state
            if state is None or state.searcher is not searcher:
                state = self._state = SearcherState(searcher, segments=self._segments)
            return SearchContext(
                state, self.analyzer, self._ranking, self.exact_analyzer, self.acronyms
            )

    def search(
        self,
        query: str,
        limit: int = 10,
        page: int = 1,
        *,
        time_limit: float | _Default | None = _DEFAULT,
        highlight_hits: bool = True,
        collapse: bool = False,
        fields: Sequence[str] | None = None,
        snippet_chars: int = 220,
        max_fragments: int = 2,
    ) -> SearchResults:
        """Ranked search.

        Args:
            query: the query text (see :mod:`searchlib.query.language`).
            limit: hits per page (an integer, at least 1).
            page: 1-based page (an integer, at least 1).
            time_limit: seconds the search may take (default
                :attr:`time_limit`, ``None`` for no limit).
            highlight_hits: build snippets (cheaper when ``False``).
            collapse: at most one passage per document (the best one).
            fields: restrict plain words to these fields, a sequence of names
                such as ``("title",)`` (default: title and text).
            snippet_chars: approximate size of a fragment (at least 1).
            max_fragments: fragments per snippet (at least 1).

        Raises:
            SearchTimeoutError: the search ran past ``time_limit``.
            QuerySyntaxError: the query is an explicitly malformed operator query.
            TypeError: an argument of the wrong type (``limit=2.5``, ``fields="title"``).
            ValueError: a count below 1, an unknown field, or a ``time_limit``
                that is not a positive number of seconds.
        """
        seconds = self.time_limit if isinstance(time_limit, _Default) else time_limit
        if seconds is not None and (
            isinstance(seconds, bool) or not isinstance(seconds, int | float)
        ):
            raise TypeError(f"time_limit must be a number of seconds or None, not {seconds!r}")
        # One search at a time per Index: Whoosh's readers share file positions,
        # so concurrent searches from threads read garbage. (Whoosh runs in
        # Python under the GIL: serialising costs threads next to nothing.)
        with self._lock, limits.time_limit(seconds), self._damage_is_corruption():
            return _search(
                self.search_context(),
                query,
                limit,
                page,
                highlight_hits=highlight_hits,
                collapse=collapse,
                fields=fields,
                snippet_chars=snippet_chars,
                max_fragments=max_fragments,
            )

    @contextlib.contextmanager
    def _damage_is_corruption(self) -> Iterator[None]:
        """Errors that only damaged index data can cause become ``IndexCorruptError``.

        Whoosh keeps no checksums: damage is found only when it breaks decoding
        (and not always then).
        """
        try:
            yield
        except _DATA_ERRORS as e:
            raise IndexCorruptError(
                f"index at {self.path or 'memory'} is damaged ({type(e).__name__}: {e}): rebuild it"
            ) from e

    def passages(self, doc_id: str) -> list[dict[str, Any]]:
        """The stored passages of a document, in order (empty if unknown)."""
        with self._lock, self._damage_is_corruption():
            found = [dict(f) for f in self.searcher().documents(doc_id=doc_id)]
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
        with self._lock, self._damage_is_corruption():
            reader = self.searcher().reader()
            passages = reader.doc_count()
            documents = sum(1 for _ in reader.lexicon("doc_id")) if passages else 0
            if reader.has_deletions() and passages:
                documents = len({f["doc_id"] for f in reader.all_stored_fields()})
            names = tuple(reader.schema.names())
        size = 0
        if self.path is not None:
            for entry in os.scandir(self.path):
                with contextlib.suppress(OSError):  # a writer may be deleting files
                    if entry.is_file():
                        size += entry.stat().st_size
        return IndexStats(
            str(self.path) if self.path else None,
            documents,
            passages,
            names,
            size,
            ANALYZER_VERSION,
            FORMAT_VERSION,
        )


class SegmentBatch:
    """The documents of one :meth:`Index.add` going into one Whoosh segment writer."""

    def __init__(self, writer: Any, *, replace_existing: bool) -> None:
        self.writer = writer
        self.adder = DocumentAdder(writer)
        self.replace_existing = replace_existing
        self.count = 0
        # Documents of this batch, by id: their Whoosh document numbers in
        # the segment being written (passages of a document are contiguous).
        self.pending: dict[str, range] = {}

    def add(self, doc: Document) -> None:
        """Check and add one document; an id seen before replaces the earlier one."""
        _check_document(doc)
        writer = self.writer
        earlier = self.pending.get(doc.id)
        if earlier is not None:
            # Whoosh cannot delete from the segment being written through
            # its API, but the segment records deletions: mark the earlier
            # copy deleted, in this same commit.
            for docnum in earlier:
                writer.newsegment.delete_document(docnum)
        elif self.replace_existing:
            writer.delete_by_term("doc_id", doc.id)
        first = writer.docnum
        for passage in split_passages(doc.id, doc.text):
            self.adder.add(_fields(doc, passage))
        self.pending[doc.id] = range(first, writer.docnum)
        self.count += 1


def commit(
    writer: Any,
    *,
    more_segments: Callable[[], Iterable[Any]] = tuple,
    under_lock: Callable[[], None] | None = None,
) -> None:
    """``writer.commit()``, Whoosh's own sequence with its default merge policy, and two hooks.

    ``more_segments`` is called once this writer's own segment is written: the
    segments it returns (written by other processes, see :mod:`searchlib._whoosh.parallel`)
    join the same commit. ``under_lock`` runs once the new table of contents
    is written, before the write lock is released; if it raises, the commit
    stands and the error is raised.
    """
    writer._check_state()
    final = list(writer._merge_segments(None, None, None))
    if writer._added:
        final.append(writer._finalize_segment())
    else:
        writer._close_segment()
    final.extend(more_segments())
    writer._commit_toc(final)
    try:
        if under_lock is not None:
            under_lock()
    finally:
        writer._finish()


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


_OPEN_RETRIES = 20
_DATA_ERRORS = (zlib.error, pickle.UnpicklingError, struct.error, EOFError, UnicodeDecodeError)
_MAX_FIELD_DEPTH = 64
_STALE_TOC = re.compile(rf"^_{INDEX_NAME}_[0-9]+\.toc\.[0-9.]+$")
_SURROGATE = re.compile(r"[\ud800-\udfff]")


class _OpeningStorage(FileStorage):  # type: ignore[misc]
    """A folder storage that remembers the files opened while an index opens,
    so they can be closed if opening fails (Whoosh leaves them open)."""

    def __init__(self, folder: str) -> None:
        super().__init__(folder)
        self.opened: list[Any] | None = []

    def open_file(self, name: str, **kwargs: Any) -> Any:
        f = super().open_file(name, **kwargs)
        if self.opened is not None:
            self.opened.append(f)
        return f

    def close_opened(self) -> None:
        for f in self.opened or ():
            with contextlib.suppress(Exception):
                f.close()
        self.opened = None


def _latest_generation(folder: Path) -> int:
    try:
        return int(whoosh.index.TOC._latest_generation(FileStorage(str(folder)), INDEX_NAME))
    except OSError:
        return -1


class _RamStorage(RamStorage):  # type: ignore[misc]
    """Whoosh's memory storage, with a private temporary folder per writer.

    Whoosh's own gives every writer of every process the same folder
    (``$TMPDIR/searchlib.tmp``), and the first writer to finish deletes it.
    """

    def temp_storage(self, name: str | None = None) -> FileStorage:
        return FileStorage(tempfile.mkdtemp(prefix="searchlib-")).create()


def _check_document(doc: Document) -> None:
    """Refuse what Whoosh would choke on in the middle of a batch."""
    if not isinstance(doc.id, str) or not doc.id:
        raise DocumentError(f"a document id must be a non-empty string, not {doc.id!r}")
    for name in ("id", "title", "text"):
        value = getattr(doc, name)
        if not isinstance(value, str):
            raise DocumentError(f"document {doc.id!r}: {name} must be a string")
        if _SURROGATE.search(value):
            raise DocumentError(f"document {doc.id!r}: {name} holds a lone surrogate (not text)")
    if doc.fields:
        _check_json(doc.id, doc.fields, 0)


def _check_json(doc_id: str, value: object, depth: int) -> None:
    """Extra fields are stored, and read back only as JSON-like data."""
    if depth > _MAX_FIELD_DEPTH:
        raise DocumentError(f"document {doc_id!r}: fields nested too deeply")
    if value is None or isinstance(value, bool | int | float):
        return
    if isinstance(value, str):
        if _SURROGATE.search(value):
            raise DocumentError(f"document {doc_id!r}: a field holds a lone surrogate")
        return
    if isinstance(value, list | tuple):
        for item in value:
            _check_json(doc_id, item, depth + 1)
        return
    if isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str):
                raise DocumentError(f"document {doc_id!r}: field names must be strings")
            _check_json(doc_id, item, depth + 1)
        return
    raise DocumentError(
        f"document {doc_id!r}: fields must hold JSON-like values, not {type(value).__name__}"
    )


def _remove_stale_toc_files(folder: Path) -> None:
    """Delete TOC files a killed writer left half-written (``_searchlib_N.toc.<time>``).

    Only called with the write lock held: no other writer can be writing one.
    """
    with contextlib.suppress(OSError):
        for entry in os.scandir(folder):
            if _STALE_TOC.match(entry.name):
                with contextlib.suppress(OSError):
                    os.remove(entry.path)


def _stamp(path: Path) -> tuple[int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_mtime_ns, st.st_size


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
    h = hashlib.sha256(
        f"{FORMAT_VERSION}:{ANALYZER_VERSION}:{__version__}:acronyms-{LEXICON_VERSION}".encode()
    )
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
