"""Searching with vectors: hybrid reranking, pure semantic search, the semantic share.

* :func:`cosine_rescorer`: the lexical search ranks its best ``candidates``
  passages (or documents, collapsed) as usual; they are rescored with
  :func:`~searchlib.semantic.fusion.fuse` (``bm25 / max + weight *
  z(cosine)``) and the page is cut from that order. Hits are highlighted with
  the query's lexical matches, as always; their score is the fused score. The
  total is the lexical total.
* :func:`semantic_search`: the passages nearest the query by cosine alone,
  over every vector (for exploration: no lexical match is needed). Hits are
  highlighted with whatever lexical matches they have; their score is the
  cosine.
* :func:`semantic_share`: how much of a hybrid hit's score the cosine gave.

Each takes the :class:`~searchlib.searching.SearchContext` of the index (its
searcher state, analyzers and ranking) and its
:class:`~searchlib.semantic.state.SemanticIndex`.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from searchlib.errors import QuerySyntaxError
from searchlib.fields import FilterExpr
from searchlib.highlight import MatchSpec
from searchlib.ranking.fastpath import Executed
from searchlib.ranking.params import Ranking
from searchlib.results import SearchResults
from searchlib.searching import CompiledQuery, SearchContext
from searchlib.semantic.fusion import Fused, fuse, ranked_order
from searchlib.semantic.state import NoVectorsError, SemanticIndex
from searchlib.semantic.store import VectorStore

DEFAULT_CANDIDATES = Ranking().semantic_candidates
"""Lexical candidates rescored by default (:attr:`Ranking.semantic_candidates`)."""

DEFAULT_WEIGHT = Ranking().semantic_weight
"""Default weight of ``z(cosine)`` against ``bm25 / max`` (see :mod:`searchlib.semantic.fusion`):
:attr:`Ranking.semantic_weight <searchlib.ranking.params.Ranking.semantic_weight>`."""


@dataclass(frozen=True, slots=True)
class SemanticShare:
    """The parts of one hybrid hit's score.

    Attributes:
        hit_id: the passage id.
        lexical: its lexical (BM25F) score.
        lexical_max: the best lexical score among the candidates.
        lexical_share: ``lexical / lexical_max``.
        cosine: cosine of the query and the passage's vector (``None``: no vector).
        z: the cosine standardised over the candidates (0 without a vector).
        weight: the semantic weight.
        semantic_share: ``weight * z``.
        candidates: how many lexical candidates were rescored.
    """

    hit_id: str
    lexical: float
    lexical_max: float
    lexical_share: float
    cosine: float | None
    z: float
    weight: float
    semantic_share: float
    candidates: int

    @property
    def score(self) -> float:
        """The hybrid score: ``lexical_share + semantic_share``."""
        return self.lexical_share + self.semantic_share


def _rows(
    context: SearchContext,
    semantic: SemanticIndex,
    store: VectorStore,
    ranked: Sequence[tuple[int, float]],
) -> NDArray[np.int64]:
    def key_of(docnum: int) -> str:
        stored = context.state.stored_fields(docnum)
        return store.key_of(str(stored["doc_id"]), str(stored["id"]))

    return semantic.rows(store, context.state.searcher, [d for d, _ in ranked], key_of)


def _cosines(
    store: VectorStore, rows: NDArray[np.int64], query: NDArray[np.float32]
) -> NDArray[np.float64]:
    out = np.full(len(rows), np.nan, dtype=np.float64)
    known = rows >= 0
    if known.any():
        out[known] = np.asarray(store.vectors[rows[known]], dtype=np.float32) @ query
    return out


def _fused(
    context: SearchContext,
    semantic: SemanticIndex,
    store: VectorStore,
    compiled: CompiledQuery,
    executed: Executed,
    weight: float,
    query: NDArray[np.float32] | None = None,
) -> tuple[Executed, Fused]:
    """``executed``'s hits rescored with the cosine (``query``: the query's
    vector, encoded here when ``None``), best first (total and facets kept)."""
    if query is None:
        query = semantic.query_vector(compiled.text, store)
    rows = _rows(context, semantic, store, executed.ranked)
    fused = fuse([s for _, s in executed.ranked], _cosines(store, rows, query), weight=weight)
    order = ranked_order(fused)
    ranked = [(executed.ranked[i][0], float(fused.scores[i])) for i in order]
    return dataclasses.replace(executed, ranked=ranked), fused


@dataclass(frozen=True, slots=True)
class CosineRescorer:
    """The hybrid part of a search (a :class:`~searchlib.searching.Rescorer`):
    the best ``candidates`` lexical hits rescored with
    :func:`~searchlib.semantic.fusion.fuse`."""

    context: SearchContext
    semantic: SemanticIndex
    store: VectorStore
    weight: float
    candidates: int
    query: NDArray[np.float32] | None = None
    """The query's vector (``None``: encoded when rescoring)."""

    def __call__(self, compiled: CompiledQuery, executed: Executed) -> Executed:
        return _fused(
            self.context, self.semantic, self.store, compiled, executed, self.weight, self.query
        )[0]


def _rescore(
    context: SearchContext,
    semantic: SemanticIndex,
    store: VectorStore | None,
    compiled: CompiledQuery,
    *,
    depth: int,
    collapse: bool,
    weight: float,
    query: NDArray[np.float32] | None = None,
) -> tuple[Executed, Fused | None]:
    """The lexical ranking of ``depth`` candidates (restricted by the query's
    filters), rescored (``None``: nothing to fuse)."""
    request = context.field_request(compiled, None, None)
    executed = context.execute(compiled, depth, collapse, request=request)
    if store is None or not executed.ranked or weight == 0:
        return executed, None
    return _fused(context, semantic, store, compiled, executed, weight, query)


@dataclass(frozen=True, slots=True)
class QueryVector:
    """An index's vectors as read once, and a query's vector made by their model.

    Attributes:
        store: the vectors (``None``: the index has none).
        vector: the query's unit vector (``None`` without vectors).
    """

    store: VectorStore | None
    vector: NDArray[np.float32] | None


def query_vector(semantic: SemanticIndex, query: str) -> QueryVector:
    """The index's vectors and ``query``'s vector (encoded within the current
    deadline: see :meth:`SemanticIndex.query_vector
    <searchlib.semantic.state.SemanticIndex.query_vector>`).

    Raises:
        EmbedderMismatchError: the vectors were made by another model than
            the index's embedder.
        SearchTimeoutError: the deadline passed.
    """
    store = semantic.store
    if store is None:
        return QueryVector(None, None)
    return QueryVector(store, semantic.query_vector(query, store))


def cosine_rescorer(
    context: SearchContext,
    semantic: SemanticIndex,
    *,
    weight: float = DEFAULT_WEIGHT,
    candidates: int = DEFAULT_CANDIDATES,
    vectors: QueryVector | None = None,
) -> CosineRescorer | None:
    """The hybrid part of a search with ``context``, to hand to
    :func:`searchlib.searching.search` (``rescore=``): its best ``candidates``
    hits (at least a page's) rescored with the cosine; filters restrict the
    candidates, facets count every match, corrections and as-you-type apply
    to the lexical part, a ``sort`` by declared fields is not rescored.
    ``None`` (the lexical results unchanged) without vectors or with a
    ``weight`` of 0.

    ``vectors``: the index's vectors and the query's, read and encoded
    beforehand (:func:`query_vector`: e.g. without holding the index's lock);
    default: read now, the query encoded when rescoring.
    """
    store = semantic.store if vectors is None else vectors.store
    if store is None or weight == 0:
        return None
    query = None if vectors is None else vectors.vector
    return CosineRescorer(context, semantic, store, weight, candidates, query)


def semantic_search(
    context: SearchContext,
    semantic: SemanticIndex,
    query: str,
    limit: int = 10,
    page: int = 1,
    *,
    highlight_hits: bool = True,
    collapse: bool = False,
    snippet_chars: int = 220,
    max_fragments: int = 2,
    vectors: QueryVector | None = None,
) -> SearchResults:
    """The passages whose vectors are nearest the query's (cosine), over
    the whole index. With ``collapse`` (or vectors of scope ``first``) at
    most one passage per document. The query is read as plain text: operators
    only matter for highlighting. ``vectors`` as for :func:`cosine_rescorer`.

    Raises:
        NoVectorsError: the index has no vectors.
        EmbedderMismatchError: they were made by another model.
    """
    t0 = time.perf_counter()
    store = semantic.store if vectors is None else vectors.store
    if store is None:
        raise NoVectorsError(semantic._no_vectors())
    try:
        compiled = context.compile(query)
    except QuerySyntaxError:
        compiled = CompiledQuery(query, None, MatchSpec())
    given = None if vectors is None else vectors.vector
    qvec = semantic.query_vector(query, store) if given is None else given
    want = page * limit
    ranked: list[tuple[int, float]] = []
    if len(store):
        sims = np.asarray(store.vectors @ qvec, dtype=np.float64)
        searcher = context.state.searcher
        seen: set[str] = set()
        for i in _best_first(sims, want):
            docnum = searcher.document_number(id=store.keys[i])
            if docnum is None:  # deleted since the vectors were made
                continue
            if collapse:
                doc_id = str(context.state.stored_fields(docnum)["doc_id"])
                if doc_id in seen:
                    continue
                seen.add(doc_id)
            ranked.append((docnum, float(sims[i])))
            if len(ranked) >= want:
                break
    total = len(store)
    return context.materialise(
        compiled,
        Executed(ranked, total, exact=False),
        page=page,
        limit=limit,
        highlight_hits=highlight_hits,
        snippet_chars=snippet_chars,
        max_fragments=max_fragments,
        started=t0,
    )


def _best_first(scores: NDArray[np.float64], want: int) -> Iterator[int]:
    """Indexes of ``scores``, highest first (ties by index): the best few sorted
    first, the rest only if the caller reads past them."""
    head = min(len(scores), 4 * want + 32)
    if head < len(scores):
        part = np.argpartition(-scores, head - 1)[:head]
        # ties at the cut: sort the head by (score, index) as the full sort would
        order = part[np.lexsort((part, -scores[part]))]
        cut = scores[order[-1]]
        if np.count_nonzero(scores == cut) == np.count_nonzero(scores[part] == cut):
            yield from (int(i) for i in order)
            done = {int(i) for i in order}
            rest = np.argsort(-scores, kind="stable")
            yield from (int(i) for i in rest if int(i) not in done)
            return
    yield from (int(i) for i in np.argsort(-scores, kind="stable"))


def semantic_share(
    context: SearchContext,
    semantic: SemanticIndex,
    query: str,
    hit_id: str,
    *,
    weight: float = DEFAULT_WEIGHT,
    candidates: int = DEFAULT_CANDIDATES,
    collapse: bool = False,
    fields: Sequence[str] | None = None,
    depth: int | None = None,
    filter: str | Mapping[str, Any] | FilterExpr | None = None,
    vectors: QueryVector | None = None,
) -> SemanticShare | None:
    """The lexical and semantic parts of hit ``hit_id``'s hybrid score for
    ``query`` (as a search with :func:`cosine_rescorer` ranked it with the same arguments;
    ``depth``: the number of candidates it rescored, when a deep page made it
    more than ``candidates``; ``filter`` as given to the search; ``vectors``
    as for :func:`cosine_rescorer`). ``None`` when the hit is not among the
    candidates or the index has no vectors.
    """
    compiled = context.compile(query, fields, filter=filter)
    executed, fused = _rescore(
        context,
        semantic,
        semantic.store if vectors is None else vectors.store,
        compiled,
        depth=depth or candidates,
        collapse=collapse,
        weight=weight,
        query=None if vectors is None else vectors.vector,
    )
    if fused is None:
        return None
    lexical_order = ranked_order(fused)  # executed.ranked is in fused order
    for pos, (docnum, _) in enumerate(executed.ranked):
        if str(context.state.stored_fields(docnum)["id"]) != hit_id:
            continue
        i = int(lexical_order[pos])
        cosine = float(fused.cosines[i])
        return SemanticShare(
            hit_id,
            float(fused.lexical[i]),
            float(fused.lexical.max()),
            float(fused.lexical_share[i]),
            None if np.isnan(cosine) else cosine,
            float(fused.z[i]),
            weight,
            float(fused.semantic_share[i]),
            len(executed.ranked),
        )
    return None


__all__ = [
    "DEFAULT_CANDIDATES",
    "DEFAULT_WEIGHT",
    "CosineRescorer",
    "NoVectorsError",
    "QueryVector",
    "SemanticShare",
    "cosine_rescorer",
    "query_vector",
    "semantic_search",
    "semantic_share",
]
