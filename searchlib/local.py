"""The local backend behind :class:`~searchlib.index.Index`: reading and writing a
Whoosh index in a folder (or in memory).

:class:`Reading` owns the shared searcher, the state cached with it, the lock
that serialises searches, and the side files a search reads (acronyms, the
learned model); :class:`Writing` owns the write path: adding and deleting
documents in one commit each, keeping the vectors in step, and saving the
index's configuration. ``Index`` holds one of each and delegates to them.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from whoosh.searching import Searcher

from searchlib._files import FolderReader, FolderWatch, try_lock
from searchlib._whoosh.storage import DATA_ERRORS, SegmentBatch, Store, abort, commit
from searchlib.analysis import ANALYZER_VERSION
from searchlib.documents import Document, as_documents, rebuilt
from searchlib.errors import IndexCorruptError, IndexingError
from searchlib.fields import FieldType
from searchlib.folder import FORMAT_VERSION, WRITE_LOCK, locked_error, write_meta
from searchlib.learn.stored import ModelFile
from searchlib.query.acronyms import AcronymLexicon, LexiconFile
from searchlib.ranking.fastpath import SegmentCache
from searchlib.ranking.params import Ranking, make_weighting
from searchlib.searching import SearchContext, SearcherState
from searchlib.semantic.state import SemanticIndex, live_passages, passages_of
from searchlib.semantic.store import LivePassage

FULL_SYNC = 1000
"""Past this many documents changed at once, vectors are checked against the whole index."""


class Reading:
    """The searcher of an index and everything cached with it.

    One search at a time per index: Whoosh's readers share file positions, so
    concurrent searches from threads would read garbage; :attr:`lock` orders
    them (and the commits' refreshes).

    Args:
        store: the Whoosh index.
        path: its folder (``None``: in memory), for messages and side files.
        fields: the declared fields.
        watch: the watch of ``path`` shared with the index's other readers
            (default: one of its own).
    """

    def __init__(
        self,
        store: Store,
        path: Path | None,
        fields: Mapping[str, FieldType],
        *,
        watch: FolderWatch | None = None,
    ) -> None:
        self.store = store
        self.path = path
        self.fields = dict(fields)
        self.lock = threading.RLock()
        self.ranking = Ranking()
        self.analyzer, self.exact_analyzer = store.analyzers()
        self.lexicon = LexiconFile(path)  # acronym definitions mined from the documents
        self.model_file = ModelFile(
            path, analyzer_version=ANALYZER_VERSION, format_version=FORMAT_VERSION
        )
        self.segments = SegmentCache()  # decoded segment data, shared by successive searchers
        self._searcher: Searcher | None = None
        self._state: SearcherState | None = None  # made with each searcher, dropped with it
        self._contexts: dict[bool, SearchContext | None] = {True: None, False: None}
        # One stat of the folder tells whether a commit or a learned model may
        # have come from another process (or from this one) since the last search.
        if watch is None and path is not None:
            watch = FolderWatch(path)
        self._watch = FolderReader(watch)

    def searcher(self) -> Searcher:
        """The shared Whoosh searcher, refreshed after commits (and the learned
        model read again) when the index's folder may have changed."""
        with self.lock:
            if self._searcher is None:
                self._folder_may_have_changed()  # the look the new searcher's files date from
                self._searcher = self._new_searcher()
            elif self._folder_may_have_changed():
                self.refresh()
                self.model_file.refresh()  # another process may have learned (or forgotten)
            assert self._searcher is not None
            return self._searcher

    def _folder_may_have_changed(self) -> bool:
        return self._watch.may_have_changed()

    def refresh(self) -> None:
        """A new searcher if a commit happened since the current one was made."""
        with self.lock:
            s = self._searcher
            if s is None or s.up_to_date():
                return
            # A new searcher, not Whoosh's refresh(): that one re-adds the old
            # reader's segments to the new list (after a merge, deleted and
            # merged passages come back twice), fails on an empty index, and
            # closes readers another thread may still be searching with. The
            # old searcher is left to the garbage collector.
            self._searcher = self._new_searcher()

    def _new_searcher(self) -> Searcher:
        """A new Whoosh searcher, and the state that caches what it reads."""
        self.lexicon.refresh()
        self.model_file.refresh()
        searcher = self.store.new_searcher(make_weighting(self.ranking))
        self._state = SearcherState(searcher, segments=self.segments)
        return searcher

    def close(self) -> None:
        """Release the searcher and its state (the next search makes new ones)."""
        with self.lock:
            if self._searcher is not None:
                self._searcher.close()
                self._searcher = None
                self._state = None
                self._contexts = {True: None, False: None}

    def set_ranking(self, ranking: Ranking) -> None:
        """Rank the following searches with ``ranking`` (a new searcher)."""
        with self.lock:
            self.ranking = ranking
            self.close()

    @property
    def acronyms(self) -> AcronymLexicon:
        """Acronym definitions mined from the documents."""
        return self.lexicon.lexicon

    def save_acronyms(self, mined: AcronymLexicon) -> None:
        """Merge a commit's acronym definitions into the lexicon (called with the
        write lock held, once the commit is written)."""
        with self.lock:
            self.lexicon.merge(mined)

    def context(self, *, learned: bool = True) -> SearchContext:
        """What a search needs now (see :meth:`Index.search_context
        <searchlib.index.Index.search_context>`)."""
        with self.lock:
            searcher = self.searcher()
            state = self._state
            if state is None or state.searcher is not searcher:
                state = self._state = SearcherState(searcher, segments=self.segments)
            bound = self.model_file.bound(state) if learned else None
            acronyms = self.acronyms
            last = self._contexts[learned]
            if (  # (a context holds no search's state: the last one serves while its parts stay)
                last is not None
                and last.state is state
                and last.ranking is self.ranking
                and last.acronyms is acronyms
                and last.expansion is bound
            ):
                return last
            context = SearchContext(
                state,
                self.analyzer,
                self.ranking,
                self.exact_analyzer,
                acronyms,
                declared=self.fields,
                expansion=bound,
                reranker=bound if bound is not None and bound.depth else None,
            )
            self._contexts[learned] = context
            return context

    @contextlib.contextmanager
    def learning_context(self) -> Iterator[SearchContext]:
        """A search context for learning, nothing learned in it, with a searcher
        and caches of its own that no search shares: learning runs without the
        lock, on the commit current when it started, and searches in other
        threads go on meanwhile."""
        with self.lock:
            self.lexicon.refresh()
            searcher = self.store.new_searcher(make_weighting(self.ranking))
            context = SearchContext(
                SearcherState(searcher),
                self.analyzer,
                self.ranking,
                self.exact_analyzer,
                AcronymLexicon(self.acronyms.counts),
                declared=dict(self.fields),
            )
        try:
            yield context
        finally:
            searcher.close()

    def damage_is_corruption(self) -> DamageIsCorruption:
        """Errors that only damaged index data can cause become ``IndexCorruptError``
        in the block.

        Whoosh keeps no checksums: damage is found only when it breaks decoding
        (and not always then).
        """
        return DamageIsCorruption(self.path)

    @contextlib.contextmanager
    def guarded(self) -> Iterator[None]:
        """The lock held, and damaged data reported as such."""
        with self.lock, self.damage_is_corruption():
            yield

    # -- stored data ----------------------------------------------------------

    def passages(self, doc_id: str) -> list[dict[str, Any]]:
        """The stored passages of a document, in order (empty if unknown)."""
        with self.guarded():
            found = [dict(f) for f in self.searcher().documents(doc_id=doc_id)]
        return sorted(found, key=lambda f: int(f["position"]))

    def passage(self, passage_id: str) -> dict[str, Any] | None:
        """The stored fields of one passage, or ``None``."""
        with self.guarded():
            found = self.searcher().document(id=passage_id)
        return dict(found) if found is not None else None

    def documents(self) -> Iterator[Document]:
        """Every document, rebuilt from its passages, read in one pass."""
        with self.guarded():
            reader = self.searcher().reader()
            grouped: dict[str, list[dict[str, Any]]] = {}
            for fields in reader.all_stored_fields():
                grouped.setdefault(str(fields["doc_id"]), []).append(dict(fields))
        for doc_id, parts in grouped.items():
            parts.sort(key=lambda f: int(f["position"]))
            yield rebuilt(doc_id, parts)

    def counts(self) -> tuple[int, int, tuple[str, ...]]:
        """Documents, passages and the schema's field names (lock held by the caller)."""
        reader = self.searcher().reader()
        passages = reader.doc_count()
        documents = sum(1 for _ in reader.lexicon("doc_id")) if passages else 0
        if reader.has_deletions() and passages:
            documents = len({f["doc_id"] for f in reader.all_stored_fields()})
        return documents, passages, tuple(reader.schema.names())

    def learned_summary(self) -> dict[str, Any] | None:
        """The learned model's summary, with whether searches use it (``None``: no model)."""
        self.searcher()
        return self.model_file.summary(self._state)


class Writing:
    """The write path of an index: each call one commit under the write lock.

    Args:
        reading: the index's reading half (refreshed after each commit; the
            acronyms a commit mined are merged into its lexicon).
        semantic: the index's vectors, kept in step with the passages.
        passage_chars: largest passage, in characters.
    """

    def __init__(
        self,
        reading: Reading,
        semantic: SemanticIndex,
        *,
        passage_chars: int,
    ) -> None:
        self.reading = reading
        self.store = reading.store
        self.path = reading.path
        self.fields = reading.fields
        self.semantic = semantic
        self.passage_chars = passage_chars

    def writer(self, limitmb: int = 128, timeout: float = 0.0) -> Any:
        """A Whoosh writer of the index, holding its write lock."""
        return self.store.writer(limitmb=limitmb, timeout=timeout)

    @contextlib.contextmanager
    def errors(self) -> Iterator[None]:
        """An ``OSError`` while writing becomes an ``IndexingError`` naming the index."""
        try:
            yield
        except OSError as e:
            why = e.strerror or str(e)
            where = f" ({e.filename})" if e.filename else ""
            raise IndexingError(
                f"cannot write the index at {self.path or 'memory'}: {why}{where}; "
                "nothing of this batch was kept"
            ) from e

    def add(
        self,
        documents: Document | Iterable[Document],
        *,
        limitmb: int,
        timeout: float,
        procs: int,
        embed: bool,
        mine_acronyms: bool,
    ) -> int:
        """See :meth:`Index.add <searchlib.index.Index.add>`."""
        if procs < 1:
            raise ValueError(f"procs must be at least 1, not {procs}")
        mined = AcronymLexicon()
        changed: list[str] = []
        documents = _noting_ids(as_documents(documents), changed)
        if mine_acronyms:
            documents = mined.watch(documents)
        if procs > 1 and self.path is not None:
            from searchlib._whoosh import parallel  # noqa: PLC0415 (starts processes: on demand)

            count = parallel.add(
                self.store,
                documents,
                passage_chars=self.passage_chars,
                procs=procs,
                limitmb=limitmb,
                timeout=timeout,
                under_lock=lambda: self.reading.save_acronyms(mined),
                fields=self.fields,
            )
        else:
            count = self._add_here(documents, mined, limitmb=limitmb, timeout=timeout)
        self.reading.refresh()
        if embed:
            self.sync_vectors(changed)
        return count

    def _add_here(
        self, documents: Iterable[Document], mined: AcronymLexicon, *, limitmb: int, timeout: float
    ) -> int:
        """Index ``documents`` in this process, in one commit."""
        writer = self.writer(limitmb=limitmb, timeout=timeout)
        try:
            batch = SegmentBatch(
                writer,
                replace_existing=self.store.doc_count_all() > 0,
                passage_chars=self.passage_chars,
                fields=self.fields,
            )
            # Errors of the documents' source pass as they are; errors writing
            # the index (a full disk) name the index.
            for doc in documents:
                with self.errors():
                    batch.add(doc)
        except BaseException:
            abort(writer)
            raise
        with self.errors():
            commit(writer, under_lock=lambda: self.reading.save_acronyms(mined))
        return batch.count

    def delete(self, ids: Sequence[str], *, timeout: float) -> int:
        """See :meth:`Index.delete <searchlib.index.Index.delete>`."""
        writer = self.writer(timeout=timeout)
        try:
            n = sum(writer.delete_by_term("doc_id", d) for d in ids)
        except BaseException:
            abort(writer)
            raise
        writer.commit()
        self.reading.refresh()
        if ids and self.semantic.has_vectors:
            self.semantic.forget(ids)
        return int(n)

    def optimize(self, *, timeout: float) -> None:
        """Merge all segments into one."""
        writer = self.writer(timeout=timeout)
        writer.commit(optimize=True)
        self.reading.refresh()

    def sync_vectors(self, changed: Sequence[str]) -> None:
        """After a commit that changed documents ``changed``: their vectors follow."""
        if not changed or not self.semantic.has_vectors:
            return
        if len(changed) > FULL_SYNC:
            self.semantic.sync(self.read_passages(None))
        else:
            self.semantic.sync(self.read_passages(changed), documents=changed)

    def read_passages(self, doc_ids: Sequence[str] | None) -> Iterator[LivePassage]:
        """The passages of the latest commit (only those of ``doc_ids`` unless
        ``None``), read with a searcher of their own: encoding them needs
        neither the index's lock nor its searcher, so searches go on meanwhile
        (the vectors' own writers' lock, taken first, orders the writers)."""
        searcher = self.store.new_searcher(make_weighting(self.reading.ranking))
        try:
            with self.reading.damage_is_corruption():
                if doc_ids is None:
                    yield from live_passages(searcher)
                else:
                    yield from passages_of(searcher, doc_ids)
        finally:
            searcher.close()

    def save_ranking(self, ranking: Ranking, *, timeout: float) -> None:
        """Write ``ranking`` into the index's configuration, under the write lock."""
        if self.path is None:
            return
        fd = try_lock(self.path / WRITE_LOCK, timeout=timeout)
        if fd is None:
            raise locked_error(self.path, timeout)
        try:
            with self.errors():
                write_meta(self.path, self.passage_chars, self.fields, ranking)
        finally:
            os.close(fd)


def _noting_ids(documents: Iterable[Document], ids: list[str]) -> Iterator[Document]:
    """``documents`` as they come, their ids noted in ``ids``."""
    for doc in documents:
        ids.append(doc.id)
        yield doc


class DamageIsCorruption:
    """A block where errors that only damaged index data can cause become
    ``IndexCorruptError`` (see :meth:`Reading.damage_is_corruption`)."""

    __slots__ = ("_path",)

    def __init__(self, path: Path | None) -> None:
        self._path = path

    def __enter__(self) -> None:
        return None

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: object
    ) -> None:
        if error is not None and isinstance(error, DATA_ERRORS):
            raise IndexCorruptError(
                f"index at {self._path or 'memory'} is damaged "
                f"({type(error).__name__}: {error}): rebuild it"
            ) from error
