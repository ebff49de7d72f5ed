"""An index on an OpenSearch cluster, behind searchlib's API.

:class:`OpenSearchIndex` has :class:`searchlib.Index`'s methods (``add``,
``delete``, ``search``, ``document``, ``passages``, ``stats``) and returns the
same results, so application code does not change. It talks to the cluster
with the official ``opensearch-py`` client (``pip install "searchlib[opensearch]"``),
imported only when an index is opened.

The index is created from :func:`~searchlib.opensearch.mapping.index_body`; its
mapping's ``_meta`` records searchlib's versions, the BM25 parameters, the
declared metadata fields, the stemmer's fingerprint and the acronym
definitions mined from the documents added (merged after each ``add``; two
processes adding at once may lose each other's definitions, never documents).

Every cluster error becomes a :class:`~searchlib.errors.SearchlibError` naming
the cluster, the index and what failed: :class:`ClusterUnavailableError`,
:class:`ClusterAuthError`, :class:`MappingConflictError`, :class:`BulkError`
(which documents were refused, and why), :class:`~searchlib.errors.IndexNotFoundError`,
:class:`~searchlib.errors.IndexExistsError`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import time
import warnings
from collections.abc import Iterable, Iterator, Mapping, Sequence
from types import TracebackType
from typing import Any

from searchlib.analysis import ANALYZER_VERSION, FrenchAnalyzer
from searchlib.documents import PASSAGE_CHARS, Document, as_documents, as_ids, rebuilt
from searchlib.engine.backend import IndexStats
from searchlib.engine.request import Searchable, SearchRequest
from searchlib.errors import (
    DocumentError,
    IndexExistsError,
    IndexNotFoundError,
    IndexVersionError,
    SearchlibError,
    SearchTimeoutError,
)
from searchlib.fields import AllOf, FieldType, check_declarations, is_multiple
from searchlib.opensearch.bulk import bulk_lines, passage_sources, unique_by_id
from searchlib.opensearch.errors import (
    BulkError,
    ClusterAuthError,
    ClusterError,
    ClusterUnavailableError,
    InsecureConnectionWarning,
    MappingConflictError,
    RefusedDocument,
    UnsupportedQueryError,
    redact,
)
from searchlib.opensearch.mapping import (
    FORMAT_VERSION,
    TERMS_ANALYZER,
    DeclaredField,
    MetadataField,
    check_declared,
    declared_from_meta,
    index_body,
    stemmer_fingerprint,
)
from searchlib.opensearch.results import (
    OpenSearchResults,
    facets_from,
    hit_from,
    total_from,
)
from searchlib.opensearch.translate import (
    QueryTranslator,
    TermLookups,
    field_types,
    search_body,
)
from searchlib.query.acronyms import AcronymLexicon
from searchlib.query.language import SEARCH_FIELDS
from searchlib.query.suggest import Completion
from searchlib.ranking.explain import Explanation
from searchlib.ranking.params import Ranking
from searchlib.results import Hit, SearchResults, apply_corrections, stored_hit
from searchlib.searching import field_facets, field_sort, filter_expression, query_filters

JSON = dict[str, Any]

BATCH_DOCUMENTS = 500
"""Documents sent per bulk request."""

RETRIES = 3
"""Times a passage the cluster was too busy to take (429) is sent again."""

TYPO_CANDIDATES = 50
"""Term-suggester candidates asked for per word to correct (searchlib keeps 10)."""

FUZZY_CANDIDATES = 512
"""Term-suggester candidates asked for per ``word~`` (searchlib keeps 256)."""


DOCUMENTS_PAGE = 1000
"""Passages read per request when every document is read (``documents``)."""

ClusterIndexStats = IndexStats  # the name it had
"""The statistics of an index on a cluster (``path`` being ``URL/index``)."""


def _require_client() -> Any:
    try:
        import opensearchpy  # noqa: PLC0415 (the optional extra: imported on demand)
    except ImportError as e:
        raise SearchlibError(
            'the OpenSearch backend needs opensearch-py: pip install "searchlib[opensearch]"'
        ) from e
    return opensearchpy


def make_client(
    url: str,
    *,
    username: str | None = None,
    password: str | None = None,
    ca_certs: str | None = None,
    verify_certs: bool = True,
    client_cert: str | None = None,
    client_key: str | None = None,
    timeout: float = 30.0,
) -> Any:
    """An ``opensearchpy.OpenSearch`` client for ``url`` (``https://`` for TLS).

    Args:
        url: the cluster, e.g. ``https://search.example.org:9200`` (credentials
            in it, ``https://user:password@host``, are used and never shown).
        username, password: HTTP basic authentication.
        ca_certs: CA bundle that signs the cluster's certificate.
        verify_certs: check the cluster's certificate (keep it on outside tests).
        client_cert, client_key: a client certificate, for clusters that want one.
        timeout: seconds a request may take.

    Warns:
        InsecureConnectionWarning: ``verify_certs`` is false on an ``https://`` URL.
    """
    opensearchpy = _require_client()
    options: dict[str, Any] = {
        "hosts": [url],
        "timeout": timeout,
        "max_retries": 1,
        "retry_on_timeout": False,
    }
    if username is not None or password is not None:
        options["http_auth"] = (username or "", password or "")
    if url.startswith("https://"):
        options["use_ssl"] = True
        options["verify_certs"] = verify_certs
        # The client's own warning would come again with each request:
        # searchlib warns once, here, for this client.
        options["ssl_show_warn"] = False
        if not verify_certs:
            warnings.warn(
                f"the certificate of OpenSearch at {redact(url)} is not checked: anyone on "
                "the way can read and change what is sent (for test clusters only)",
                InsecureConnectionWarning,
                stacklevel=2,
            )
        if ca_certs:
            options["ca_certs"] = ca_certs
        if client_cert:
            options["client_cert"] = client_cert
        if client_key:
            options["client_key"] = client_key
    return opensearchpy.OpenSearch(**options)


def _reason(e: Any) -> str:
    """The cluster's error type and reason, from an ``opensearchpy.TransportError``."""
    info = getattr(e, "info", None)
    if isinstance(info, Mapping):
        error = info.get("error")
        if isinstance(error, Mapping):
            root = (error.get("root_cause") or [error])[0]
            kind = root.get("type") or error.get("type") or ""
            why = root.get("reason") or error.get("reason") or ""
            return f"{kind}: {why}" if kind else str(why)
        if error:
            return str(error)
    return str(getattr(e, "error", "") or e)


def _error_type(e: Any) -> str:
    info = getattr(e, "info", None)
    if isinstance(info, Mapping) and isinstance(info.get("error"), Mapping):
        return str(info["error"].get("type") or "")
    return str(getattr(e, "error", "") or "")


class OpenSearchIndex(Searchable[OpenSearchResults]):
    """A searchlib index on an OpenSearch cluster.

    Use :meth:`create` or :meth:`open`; an index is a context manager
    (:meth:`close` closes its client when the index made it).

    Attributes:
        name: the OpenSearch index name.
        url: the cluster (for messages).
        path: ``URL/index``.
        ranking: the ranking parameters of searches; ``k1``, ``b`` and
            ``title_b`` are the index's own (fixed when it was created).
        approximate: run ``prefix*`` as the cluster expands it (see
            :mod:`searchlib.opensearch.translate`) rather than refuse it.
    """

    def __init__(
        self,
        client: Any,
        name: str,
        meta: Mapping[str, Any],
        *,
        url: str = "",
        ranking: Ranking | None = None,
        approximate: bool = False,
        owns_client: bool = False,
    ) -> None:
        self._client = client
        self.name = name
        self.url = redact(url) if url else "the cluster"
        self.path = f"{self.url}/{name}"
        """Where the index is (``URL/index``), as ``Index.path`` names a folder."""
        self.analyzer = FrenchAnalyzer()
        """The analyzer queries are analysed with (the cluster's analyzer does the same)."""
        self._owns_client = owns_client
        self._meta: dict[str, Any] = dict(meta)
        self.declared: tuple[DeclaredField, ...] = declared_from_meta(meta)
        self.passage_chars = int(meta.get("passage_chars") or PASSAGE_CHARS)
        self.acronyms = AcronymLexicon(meta.get("acronyms") or {})
        """Acronym definitions mined from the documents (read-only for callers)."""
        self.approximate = approximate
        self.ranking = self._checked_ranking(ranking or self._index_ranking())
        self._shards = 1

    # -- life cycle -----------------------------------------------------------------

    @classmethod
    def create(
        cls,
        url: str,
        name: str,
        *,
        fields: Mapping[str, FieldType] | None = None,
        declared: Iterable[DeclaredField] = (),
        ranking: Ranking | None = None,
        passage_chars: int = PASSAGE_CHARS,
        shards: int = 1,
        replicas: int = 1,
        overwrite: bool = False,
        approximate: bool = False,
        client: Any = None,
        username: str | None = None,
        password: str | None = None,
        ca_certs: str | None = None,
        verify_certs: bool = True,
        timeout: float = 30.0,
    ) -> OpenSearchIndex:
        """Create index ``name`` on the cluster at ``url``.

        Args:
            url: the cluster.
            name: the index name (lowercase, as OpenSearch wants it).
            fields: fields to filter, facet and sort on, declared as for
                :meth:`searchlib.Index.create` (``{"source": Keyword()}``).
            declared: the same as :class:`~searchlib.opensearch.MetadataField`
                declarations (``fields`` or ``declared``, not both).
            ranking: its ``k1``, ``b`` and ``title_b`` become the fields' BM25.
            passage_chars: largest passage documents are cut into.
            shards, replicas: the index's shards (1 keeps BM25's statistics
                whole) and replicas.
            overwrite: replace an existing index that searchlib created.
            approximate: see the class attributes.
            client: an ``opensearchpy.OpenSearch`` client to use instead of one
                made from the connection options.
            username, password, ca_certs, verify_certs, timeout: see :func:`make_client`.

        Raises:
            IndexExistsError: the index exists and ``overwrite`` is false.
            MappingConflictError: it exists and searchlib did not create it.
            ClusterUnavailableError, ClusterAuthError, ClusterError: the cluster's answers.
        """
        if passage_chars < 100:
            raise ValueError(f"passage_chars must be at least 100, not {passage_chars}")
        if fields:
            if declared:
                raise ValueError("give fields or declared, not both")
            checked = check_declarations(fields)
            declared = [MetadataField(n, k.kind, is_multiple(k)) for n, k in checked.items()]
        fields_declared = check_declared(declared)
        owns = client is None
        if client is None:
            client = make_client(
                url,
                username=username,
                password=password,
                ca_certs=ca_certs,
                verify_certs=verify_certs,
                timeout=timeout,
            )
        ranking = ranking or Ranking()
        body = index_body(
            ranking, fields_declared, passage_chars=passage_chars, shards=shards, replicas=replicas
        )
        shown = redact(url)  # the credentials stay in the client
        where = f"{shown}/{name}"
        with _cluster_errors(shown, name, "create the index"):
            if client.indices.exists(index=name):
                if not overwrite:
                    raise IndexExistsError(where)
                _read_meta(client, shown, name)  # refuses an index searchlib did not create
                client.indices.delete(index=name)
            try:
                client.indices.create(index=name, body=body)
            except Exception as e:
                if _error_type(e) == "resource_already_exists_exception":
                    raise IndexExistsError(where) from e
                raise
        meta = body["mappings"]["_meta"]["searchlib"]
        index = cls(
            client, name, meta, url=url, ranking=ranking, approximate=approximate, owns_client=owns
        )
        index._shards = shards
        return index

    @classmethod
    def open(
        cls,
        url: str,
        name: str,
        *,
        ranking: Ranking | None = None,
        approximate: bool = False,
        client: Any = None,
        username: str | None = None,
        password: str | None = None,
        ca_certs: str | None = None,
        verify_certs: bool = True,
        timeout: float = 30.0,
    ) -> OpenSearchIndex:
        """Open index ``name`` that searchlib created on the cluster at ``url``.

        Raises:
            IndexNotFoundError: no such index.
            MappingConflictError: searchlib did not create it, or its analysis
                differs from this searchlib's (another stemmer release).
            IndexVersionError: created by another analyzer or format version.
            ClusterUnavailableError, ClusterAuthError, ClusterError: the cluster's answers.
        """
        owns = client is None
        if client is None:
            client = make_client(
                url,
                username=username,
                password=password,
                ca_certs=ca_certs,
                verify_certs=verify_certs,
                timeout=timeout,
            )
        meta = _searchlib_meta(client, redact(url), name)
        index = cls(
            client, name, meta, url=url, ranking=ranking, approximate=approximate, owns_client=owns
        )
        with _cluster_errors(index.url, name, "read the index settings"):
            settings = client.indices.get_settings(index=name)
        try:
            shards = next(iter(settings.values()))["settings"]["index"]["number_of_shards"]
            index._shards = int(shards)
        except (AttributeError, KeyError, StopIteration, TypeError, ValueError):
            index._shards = 1
        return index

    def drop(self) -> None:
        """Delete the whole index from the cluster (documents, settings, ``_meta``)."""
        with _cluster_errors(self.url, self.name, "delete the index"):
            self._client.indices.delete(index=self.name)

    def close(self) -> None:
        """Close the client if this index made it."""
        if self._owns_client:
            with contextlib.suppress(Exception):
                self._client.close()

    def __enter__(self) -> OpenSearchIndex:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"OpenSearchIndex({self.url!r}, {self.name!r})"

    # -- ranking ------------------------------------------------------------------------

    def _index_ranking(self) -> Ranking:
        bm25 = self._meta.get("bm25") or {}
        defaults = Ranking()
        return Ranking(
            k1=float(bm25.get("k1", defaults.k1)),
            b=float(bm25.get("b", defaults.b)),
            title_b=float(bm25.get("title_b", defaults.title_b)),
        )

    def _checked_ranking(self, ranking: Ranking) -> Ranking:
        own = self._index_ranking()
        mine = (ranking.k1, ranking.b, ranking.title_b)
        theirs = (own.k1, own.b, own.title_b)
        if mine != theirs:
            raise SearchlibError(
                f"OpenSearch index {self.name!r} scores with BM25 k1={own.k1}, b={own.b}, "
                f"title_b={own.title_b}, fixed when it was created; other values need a new "
                "index (the other ranking parameters may change freely)"
            )
        return ranking

    def set_ranking(self, ranking: Ranking) -> None:
        """Use other ranking parameters (the same ``k1``, ``b``, ``title_b``) from now on."""
        self.ranking = self._checked_ranking(ranking)

    # -- writing ------------------------------------------------------------------------

    def add(
        self, documents: Document | Iterable[Document], *, batch_size: int = BATCH_DOCUMENTS
    ) -> int:
        """Add documents, or one ``Document`` (replacing any with the same id),
        then refresh the index.

        Documents go in bulk requests of ``batch_size``. A document the cluster
        (or searchlib, before sending it) refuses is left out whole, and the
        others are indexed; once all are sent, :class:`BulkError` lists the
        refused ones with the reason of each. Acronym definitions of the
        documents indexed are merged into the index's ``_meta``.

        Returns:
            The number of documents indexed.

        Raises:
            TypeError: ``documents`` is not a ``Document`` nor an iterable of
                them, or holds something else (raised when reached: the
                batches before it are indexed).
            BulkError: some documents were refused (the others are indexed).
            ClusterUnavailableError, ClusterAuthError, ClusterError: a request
                failed as a whole; the batches sent before it are indexed.
        """
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, not {batch_size}")
        documents = as_documents(documents)
        fields = self.fields
        mined = AcronymLexicon()
        refused: list[RefusedDocument] = []
        sent_ids: set[str] = set()
        count = 0
        try:
            for given in _batches(documents, batch_size):
                prepared: list[tuple[Document, list[tuple[str, JSON]]]] = []
                for doc in unique_by_id(given):
                    try:
                        prepared.append(
                            (
                                doc,
                                passage_sources(
                                    doc, passage_chars=self.passage_chars, fields=fields
                                ),
                            )
                        )
                    except DocumentError as e:
                        refused.append(RefusedDocument(str(doc.id), f"{doc.id}#1", 0, str(e)))
                if any(doc.id in sent_ids for doc, _ in prepared):
                    self._refresh()  # earlier passages of these ids must be visible to replace
                accepted, batch_refused = self._send(prepared)
                refused.extend(batch_refused)
                self._delete_stale(accepted)
                for doc, _ in prepared:
                    sent_ids.add(doc.id)
                for doc in accepted:
                    mined.add_text(f"{doc.title}\n{doc.text}")
                count += len(accepted)
        except BaseException:
            # What was sent stays indexed: make it visible, with its definitions,
            # without hiding the error.
            with contextlib.suppress(SearchlibError):
                self._refresh()
                if mined:
                    self._save_acronyms(mined)
            raise
        self._refresh()
        if mined:
            self._save_acronyms(mined)
        if refused:
            raise BulkError(self.name, refused, count)
        return count

    def _send(
        self, prepared: Sequence[tuple[Document, list[tuple[str, JSON]]]]
    ) -> tuple[list[Document], list[RefusedDocument]]:
        """One bulk request (again for the passages refused as 429); the documents
        taken whole, and those refused (their taken passages deleted again)."""
        owner = {pid: doc for doc, sources in prepared for pid, _ in sources}
        pending = [(pid, src) for _, sources in prepared for pid, src in sources]
        failed: dict[str, tuple[str, int, str]] = {}  # doc id -> first refused passage
        taken: set[str] = set()
        for attempt in range(RETRIES + 1):
            if not pending:
                break
            if attempt:
                time.sleep(0.5 * 2 ** (attempt - 1))
            body = "\n".join(bulk_lines(pending, index=self.name)) + "\n"
            with _cluster_errors(self.url, self.name, "index documents (bulk)"):
                response = self._client.bulk(body=body)
            busy: list[tuple[str, JSON]] = []
            sources = dict(pending)
            for item in response.get("items", []):
                result = next(iter(item.values()))
                pid = str(result.get("_id"))
                status = int(result.get("status", 0))
                if status < 300 and "error" not in result:
                    taken.add(pid)
                elif status == 429 and attempt < RETRIES and pid in sources:
                    busy.append((pid, sources[pid]))
                else:
                    doc = owner.get(pid)
                    if doc is not None and doc.id not in failed:
                        failed[doc.id] = (pid, status, _item_reason(result))
            answered = {str(next(iter(i.values())).get("_id")) for i in response.get("items", [])}
            for pid, _ in pending:
                doc = owner[pid]
                if pid not in answered and doc.id not in failed:
                    failed[doc.id] = (pid, 0, "no answer for this passage in the bulk response")
            pending = busy
        accepted: list[Document] = []
        refused: list[RefusedDocument] = []
        orphans: list[str] = []
        for doc, sources_of_doc in prepared:
            if doc.id in failed:
                pid, status, why = failed[doc.id]
                refused.append(RefusedDocument(doc.id, pid, status, why))
                orphans.extend(p for p, _ in sources_of_doc if p in taken)
            else:
                accepted.append(doc)
        if orphans:
            lines = [
                f'{{"delete": {{"_index": "{self.name}", "_id": {_quote(p)}}}}}' for p in orphans
            ]
            with _cluster_errors(self.url, self.name, "delete a refused document's passages"):
                self._client.bulk(body="\n".join(lines) + "\n")
        return accepted, refused

    def _delete_stale(self, accepted: Sequence[Document]) -> None:
        """Delete passages an earlier version of these documents had beyond the new ones."""
        if not accepted:
            return
        new_ids = [
            pid
            for doc in accepted
            for pid, _ in passage_sources(doc, passage_chars=self.passage_chars)
        ]
        query = {
            "bool": {
                "filter": [{"terms": {"doc_id": [doc.id for doc in accepted]}}],
                "must_not": [{"ids": {"values": new_ids}}],
            }
        }
        with _cluster_errors(self.url, self.name, "delete the replaced passages"):
            self._client.delete_by_query(
                index=self.name, body={"query": query}, params={"conflicts": "proceed"}
            )

    def delete(self, doc_ids: str | Iterable[str]) -> int:
        """Delete documents by id, then refresh. Returns how many passages went.

        ``doc_ids``: an iterable of ids, or one id (a ``str`` is one id, as
        for :meth:`Index.delete <searchlib.index.Index.delete>`).

        Raises:
            TypeError: an id is not a string.
        """
        ids = as_ids(doc_ids)
        deleted = 0
        for start in range(0, len(ids), 1000):
            chunk = ids[start : start + 1000]
            with _cluster_errors(self.url, self.name, "delete documents"):
                response = self._client.delete_by_query(
                    index=self.name,
                    body={"query": {"terms": {"doc_id": chunk}}},
                    params={"conflicts": "proceed", "refresh": "true"},
                )
            deleted += int(response.get("deleted", 0))
        return deleted

    def _refresh(self) -> None:
        with _cluster_errors(self.url, self.name, "refresh the index"):
            self._client.indices.refresh(index=self.name)

    def _save_acronyms(self, mined: AcronymLexicon) -> None:
        """Merge definitions into the ``_meta`` (the cluster's copy read again first)."""
        meta = _searchlib_meta(self._client, self.url, self.name)
        merged = AcronymLexicon(meta.get("acronyms") or {})
        merged.merge(mined)
        meta["acronyms"] = merged.counts
        with _cluster_errors(self.url, self.name, "save the acronym definitions"):
            self._client.indices.put_mapping(index=self.name, body={"_meta": {"searchlib": meta}})
        self._meta = meta
        self.acronyms = merged

    def reload(self) -> None:
        """Read the index's ``_meta`` again (acronyms another process added)."""
        self._meta = _searchlib_meta(self._client, self.url, self.name)
        self.acronyms = AcronymLexicon(self._meta.get("acronyms") or {})

    # -- searching ----------------------------------------------------------------------

    def translator(
        self, *, fields: Sequence[str] | None = None, correct: bool = True
    ) -> QueryTranslator:
        """The query translator of this index's ranking, acronyms and mode."""
        return QueryTranslator(
            ranking=self.ranking,
            acronyms=self.acronyms,
            fields=fields or SEARCH_FIELDS,
            approximate=self.approximate,
            correct=correct,
        )

    def run(self, request: SearchRequest) -> OpenSearchResults:
        """The results of ``request`` (what :meth:`search` runs), as
        :meth:`searchlib.Index.run` gives them; filters, facets and sort keys
        are those of :mod:`searchlib.fields` on the index's declared fields.

        Raises:
            QuerySyntaxError: the query is an explicitly malformed operator query.
            UnsupportedQueryError: what OpenSearch cannot run as searchlib would
                (a part of the query, see :mod:`searchlib.opensearch.translate`;
                ``semantic="only"``, ``as_you_type``).
            ValueError: an unknown declared field, or a value that does not fit it.
            SearchTimeoutError: the search ran past its time limit.
            ClusterUnavailableError, ClusterAuthError, ClusterError: the cluster's answers.
        """
        _check_supported(request)
        t0 = time.perf_counter()
        types = self.fields
        # the query's own filters (source:sp) and those given beside it, as locally
        words, given = query_filters(request.query, types)
        beside = filter_expression(request.filter, types)
        if beside is not None:
            given = beside if given is None else AllOf((given, beside))
        facets = field_facets(request.facets, types)
        sort = field_sort(request.sort_keys, types)
        time_limit = request.seconds(None)
        translator = self.translator(fields=request.fields, correct=request.correct)
        frequencies, neighbours = translator.requests(request.query, words)
        lookups = self._lookup(frequencies, neighbours) if frequencies or neighbours else None
        translation = translator.translate(request.query, lookups or TermLookups(), words)
        if translation.query is None and not words.items and given is not None:
            # filters alone: every passage they keep, as a local index finds them
            translation = dataclasses.replace(translation, query={"match_all": {}})
        searched = apply_corrections(request.query, translation.corrections)
        if translation.query is None:
            return OpenSearchResults(
                query=request.query,
                total=0,
                page=request.page,
                limit=request.limit,
                hits=(),
                match=translation.match,
                elapsed_ms=_ms(t0),
                facets={f.field: {} for f in facets},
                approximations=translation.approximations,
                corrections=translation.corrections,
                searched=searched,
            )
        body = search_body(
            translation,
            limit=request.limit,
            page=request.page,
            collapse=request.collapse,
            highlight=request.highlight_hits,
            snippet_chars=request.snippet_chars,
            max_fragments=request.max_fragments,
            filter=given,
            facets=facets,
            sort=sort,
            types=types,
            timeout_ms=int(time_limit * 1000) if time_limit is not None else None,
        )
        params: dict[str, Any] = {}
        if self._shards > 1:
            params["search_type"] = "dfs_query_then_fetch"
        if time_limit is not None:
            params["request_timeout"] = time_limit + 5.0
        with _cluster_errors(self.url, self.name, "search"):
            response = self._client.search(index=self.name, body=body, params=params)
        with _answer_errors(self.url, self.name, "search"):
            if response.get("timed_out"):
                raise SearchTimeoutError(
                    f"search of {request.query!r} on OpenSearch index {self.name!r} "
                    f"ran past {time_limit} s"
                )
            first = request.first
            hits = tuple(
                hit_from(
                    raw,
                    first + n,
                    highlight=request.highlight_hits,
                    snippet_chars=request.snippet_chars,
                )
                for n, raw in enumerate(response["hits"]["hits"], start=1)
            )
            buckets = facets_from(response, facets)
            total = total_from(response, request.collapse)
        return OpenSearchResults(
            query=request.query,
            total=total,
            page=request.page,
            limit=request.limit,
            hits=hits,
            match=translation.match,
            elapsed_ms=_ms(t0),
            facets={name: {b.label: b.documents for b in found} for name, found in buckets.items()},
            facet_buckets=buckets,
            approximations=translation.approximations,
            corrections=translation.corrections,
            searched=searched,
        )

    @property
    def fields(self) -> dict[str, FieldType]:
        """The declared fields, as :mod:`searchlib.fields` types (as ``Index.fields``)."""
        return field_types(self.declared)

    def _lookup(
        self,
        frequencies: Iterable[tuple[str, str]],
        neighbours: Iterable[tuple[str, str, int]],
    ) -> TermLookups:
        """Document frequencies (``filter`` aggregations, exact) and neighbour terms
        (the term suggester over the index's term dictionary), in one request."""
        freq_keys = sorted(frequencies)
        near_keys = sorted(neighbours)
        aggs = {f"f{n}": {"filter": {"term": {f: t}}} for n, (f, t) in enumerate(freq_keys)}
        suggest: JSON = {}
        sizes: dict[int, int] = {}
        for n, (f, t, dist) in enumerate(near_keys):
            size = TYPO_CANDIDATES if dist == 1 else FUZZY_CANDIDATES
            sizes[n] = size
            suggest[f"n{n}"] = {
                "text": t,
                "term": {
                    "field": f,
                    "analyzer": TERMS_ANALYZER,
                    "suggest_mode": "always",
                    "sort": "frequency",
                    "max_edits": dist,
                    "prefix_length": 1,
                    "min_word_length": 1,
                    "min_doc_freq": 0,
                    "max_term_freq": 2147483647,
                    "accuracy": 0.0,
                    "size": size,
                },
            }
        body: JSON = {"size": 0, "track_total_hits": False, "query": {"match_all": {}}}
        if aggs:
            body["aggs"] = aggs
        if suggest:
            body["suggest"] = suggest
        what = "look up terms (typos, word~)"
        with _cluster_errors(self.url, self.name, what):
            response = self._client.search(index=self.name, body=body)
        found_near: dict[tuple[str, str, int], dict[str, int]] = {}
        capped: set[tuple[str, str, int]] = set()
        with _answer_errors(self.url, self.name, what):
            found_freq = {
                key: _count(response.get("aggregations", {}).get(f"f{n}", {}).get("doc_count", 0))
                for n, key in enumerate(freq_keys)
            }
            for n, key in enumerate(near_keys):
                options: dict[str, int] = {}
                entries = response.get("suggest", {}).get(f"n{n}", [])
                for entry in entries:
                    for option in entry.get("options", []):
                        options[_term(option["text"])] = _count(option.get("freq", 0))
                found_near[key] = options
                if len(options) >= sizes[n]:
                    capped.add(key)
        return TermLookups(found_freq, found_near, frozenset(capped))

    # -- reading ------------------------------------------------------------------------

    def passages(self, doc_id: str) -> list[dict[str, Any]]:
        """The stored passages of a document, in order (empty if unknown)."""
        body = {
            "query": {"term": {"doc_id": doc_id}},
            "size": 10_000,
            "sort": [{"position": {"order": "asc"}}],
        }
        with _cluster_errors(self.url, self.name, "read a document"):
            response = self._client.search(index=self.name, body=body)
        out: list[dict[str, Any]] = []
        with _answer_errors(self.url, self.name, "read a document"):
            for raw in response["hits"]["hits"]:
                source = _mapping(raw.get("_source") or {})
                source.setdefault("fields", None)
                out.append(source)
        return out

    def document(self, doc_id: str) -> Document | None:
        """Rebuild a stored document from its passages, or ``None``."""
        parts = self.passages(doc_id)
        return rebuilt(doc_id, parts) if parts else None

    def documents(self) -> Iterator[Document]:
        """Every document, rebuilt from its passages: a page of passages at a
        time, in ``doc_id`` order (``search_after``)."""
        body: JSON = {
            "query": {"match_all": {}},
            "size": DOCUMENTS_PAGE,
            "sort": [{"doc_id": {"order": "asc"}}, {"position": {"order": "asc"}}],
        }
        current: str | None = None
        parts: list[dict[str, Any]] = []
        while True:
            with _cluster_errors(self.url, self.name, "read the documents"):
                response = self._client.search(index=self.name, body=body)
            with _answer_errors(self.url, self.name, "read the documents"):
                hits = list(response["hits"]["hits"])
                for raw in hits:
                    source = _mapping(raw.get("_source") or {})
                    doc_id = str(source["doc_id"])
                    if doc_id != current and current is not None and parts:
                        yield rebuilt(current, parts)
                        parts = []
                    current = doc_id
                    parts.append(source)
                if len(hits) < DOCUMENTS_PAGE:
                    break
                body = {**body, "search_after": list(hits[-1]["sort"])}
        if current is not None and parts:
            yield rebuilt(current, parts)

    def __len__(self) -> int:
        """Number of documents (not passages)."""
        return self.stats().documents

    def stats(self) -> IndexStats:
        """Documents, passages, fields, size and versions."""
        with _cluster_errors(self.url, self.name, "count documents"):
            passages = self._client.count(index=self.name, body={"query": {"match_all": {}}})
            documents = self._client.count(
                index=self.name, body={"query": {"term": {"position": 0}}}
            )
            store = self._client.indices.stats(index=self.name, metric="store")
        try:
            size = int(store["_all"]["primaries"]["store"]["size_in_bytes"])
        except (KeyError, TypeError, ValueError):
            size = 0
        with _answer_errors(self.url, self.name, "count documents"):
            document_count = _count(documents["count"])
            passage_count = _count(passages["count"])
        return IndexStats(
            self.path,
            document_count,
            passage_count,
            ("id", "doc_id", "position", "start", "title", "text", "exact", "fields"),
            size,
            str(self._meta.get("analyzer_version", "")),
            int(self._meta.get("format_version", 0)),
            declared=tuple((name, kind.describe()) for name, kind in self.fields.items()),
        )

    # -- what a cluster index does not do ---------------------------------------------

    def complete(self, text: str, limit: int = 10) -> list[Completion]:
        """Not on a cluster.

        Raises:
            UnsupportedQueryError: always (completion reads a local index's written forms).
        """
        raise UnsupportedQueryError(
            "complete", "completion is not available on an OpenSearch index"
        )

    def explain(self, query: str | SearchResults, hit: Hit) -> Explanation:
        """Not on a cluster.

        Raises:
            UnsupportedQueryError: always (explain reads a local index's statistics).
        """
        raise UnsupportedQueryError("explain", "explain is not available on an OpenSearch index")

    def passage(self, passage_id: str) -> dict[str, Any] | None:
        """A passage's stored fields by id, or ``None``."""
        doc_id = passage_id.rpartition("#")[0] or passage_id
        return next((p for p in self.passages(doc_id) if p.get("id") == passage_id), None)

    def hit(self, passage_id: str, score: float = 0.0) -> Hit | None:
        """A passage as a hit, its snippet the start of its text, or ``None``."""
        found = self.passage(passage_id)
        return None if found is None else stored_hit(found, score)


# -- helpers ------------------------------------------------------------------------------


def _check_supported(request: SearchRequest) -> None:
    """Refuse in one line what a cluster index cannot do as a local one would."""
    if request.semantic == "only":
        raise UnsupportedQueryError(
            "semantic", "semantic search needs vectors, which an OpenSearch index does not hold"
        )
    if request.as_you_type:
        raise UnsupportedQueryError(
            "as_you_type", "search as you type is not available on an OpenSearch index"
        )


def _ms(t0: float) -> float:
    return (time.perf_counter() - t0) * 1000.0


def _count(value: object) -> int:
    """A count of a cluster's answer (a JSON integer, never negative).

    Raises:
        ValueError: anything else (``"12"``, ``1.5``, ``true``, ``null``).
    """
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValueError(f"not a count: {value!r}")
    return value


def _term(value: object) -> str:
    """A term of a cluster's suggestion (a JSON string)."""
    if not isinstance(value, str):
        raise TypeError(f"not a term: {value!r}")
    return value


def _mapping(value: object) -> dict[str, Any]:
    """A JSON object of a cluster's answer, as a dict."""
    if not isinstance(value, Mapping):
        raise TypeError(f"not a JSON object: {type(value).__name__}")
    return dict(value)


def _quote(text: str) -> str:
    import json  # noqa: PLC0415

    return json.dumps(text, ensure_ascii=False)


def _item_reason(result: Mapping[str, Any]) -> str:
    error = result.get("error")
    if isinstance(error, Mapping):
        kind = error.get("type", "")
        why = error.get("reason", "")
        cause = error.get("caused_by")
        if isinstance(cause, Mapping) and cause.get("reason"):
            why = f"{why} ({cause.get('reason')})"
        return f"{kind}: {why}" if kind else str(why)
    return str(error or f"status {result.get('status')}")


def _batches(documents: Iterable[Document], size: int) -> Iterator[list[Document]]:
    batch: list[Document] = []
    for doc in documents:
        batch.append(doc)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _read_meta(client: Any, url: str, name: str) -> dict[str, Any]:
    """The index's ``_meta.searchlib`` as it is.

    Raises:
        IndexNotFoundError: no such index.
        MappingConflictError: searchlib did not create it.
    """
    with _cluster_errors(url, name, "read the index mapping"):
        response = client.indices.get_mapping(index=name)
    try:
        mapping = next(iter(response.values()))["mappings"]
    except (StopIteration, KeyError, TypeError, AttributeError) as e:
        raise MappingConflictError(
            f"OpenSearch index {name!r} at {url}: unexpected mapping answer"
        ) from e
    meta = (mapping.get("_meta") or {}).get("searchlib")
    if not isinstance(meta, Mapping):
        raise MappingConflictError(
            f"OpenSearch index {name!r} at {url} was not created by searchlib (no _meta.searchlib "
            "in its mapping): searchlib will not read or replace it"
        )
    return dict(meta)


def _searchlib_meta(client: Any, url: str, name: str) -> dict[str, Any]:
    """The index's ``_meta.searchlib``, checked against this searchlib.

    Raises:
        IndexNotFoundError: no such index.
        MappingConflictError: searchlib did not create it, or its analysis differs.
        IndexVersionError: another analyzer or format version.
    """
    meta = _read_meta(client, url, name)
    fmt, ana = meta.get("format_version"), meta.get("analyzer_version")
    if fmt != FORMAT_VERSION or ana != ANALYZER_VERSION:
        raise IndexVersionError(
            f"OpenSearch index {name!r} at {url} was created with format {fmt!r} and analyzer "
            f"{ana!r}; this searchlib writes format {FORMAT_VERSION} and analyzer "
            f"{ANALYZER_VERSION!r}: recreate it"
        )
    stems = meta.get("stemmer")
    if stems is not None and stems != stemmer_fingerprint():
        raise MappingConflictError(
            f"OpenSearch index {name!r} at {url} was created with another Snowball release than "
            f"this searchlib's stemmer ({stems} there, {stemmer_fingerprint()} here): queries "
            "would be stemmed otherwise than the documents; recreate the index"
        )
    return meta


@contextlib.contextmanager
def _cluster_errors(url: str, name: str, what: str) -> Iterator[None]:
    """The client's exceptions as searchlib's errors, naming the cluster (its URL
    without credentials), the index and what failed."""
    try:
        yield
    except SearchlibError:
        raise
    except Exception as e:
        opensearchpy = _require_client()
        url = redact(url)
        where = f"OpenSearch index {name!r} at {url}"
        if isinstance(e, opensearchpy.ConnectionError):
            raise ClusterUnavailableError(
                f"cannot reach OpenSearch at {url} to {what}: {_connection_reason(e)}"
            ) from e
        if isinstance(e, opensearchpy.AuthenticationException):
            raise ClusterAuthError(
                f"OpenSearch at {url} refused the credentials (401) to {what}"
            ) from e
        if isinstance(e, opensearchpy.AuthorizationException):
            raise ClusterAuthError(
                f"OpenSearch at {url} does not allow these credentials to {what} on index "
                f"{name!r} (403): {redact(_reason(e))}"
            ) from e
        if isinstance(e, opensearchpy.NotFoundError):
            if _error_type(e) == "index_not_found_exception":
                raise IndexNotFoundError(f"{url}/{name}", "no OpenSearch index") from e
            raise ClusterError(f"{where}: cannot {what}: not found ({redact(_reason(e))})") from e
        if isinstance(e, opensearchpy.TransportError):
            kind = _error_type(e)
            if kind in ("mapper_parsing_exception", "illegal_argument_exception") and (
                "mapping" in what or "create" in what
            ):
                raise MappingConflictError(f"{where}: cannot {what}: {redact(_reason(e))}") from e
            status = getattr(e, "status_code", "?")
            if not isinstance(getattr(e, "info", None), Mapping):
                # not OpenSearch's JSON error body: a proxy's page, a truncated answer
                raise ClusterError(
                    f"{where}: cannot {what} ({status}): the cluster answered something "
                    f"unexpected ({_excerpt(getattr(e, 'info', None) or e.error)})"
                ) from e
            raise ClusterError(f"{where}: cannot {what} ({status}): {redact(_reason(e))}") from e
        if isinstance(e, opensearchpy.SerializationError):  # a body that is not JSON
            raise ClusterError(
                f"{where}: cannot {what}: the cluster answered something unexpected ({_excerpt(e)})"
            ) from e
        raise


@contextlib.contextmanager
def _answer_errors(url: str, name: str, what: str) -> Iterator[None]:
    """A cluster's answer that does not have the documented shape (no ``hits``,
    ``hits: null``, a score that is not a number, a page of text) as a
    :class:`ClusterError`, not as the ``KeyError`` or ``TypeError`` reading it met."""
    try:
        yield
    except SearchlibError:
        raise
    except (AttributeError, KeyError, IndexError, TypeError, ValueError) as e:
        raise ClusterError(
            f"OpenSearch index {name!r} at {redact(url)}: cannot {what}: the cluster answered "
            f"something unexpected ({type(e).__name__}: {_excerpt(e)})"
        ) from e


def _excerpt(value: object, chars: int = 120) -> str:
    """The start of ``value`` on one line, credentials of any URL in it left out."""
    text = redact(" ".join(str(value).split()))
    return text if len(text) <= chars else text[: chars - 1] + "…"


def _connection_reason(e: Any) -> str:
    info = getattr(e, "info", None)
    cause = info if isinstance(info, BaseException) else getattr(e, "__cause__", None)
    return redact(str(cause or getattr(e, "error", "") or e))
