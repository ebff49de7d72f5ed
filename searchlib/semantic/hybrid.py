"""Searching with vectors: hybrid reranking, pure semantic search, the semantic share.

* :func:`cosine_rescorer`: the lexical search ranks its best ``candidates``
  passages (or documents, collapsed) as usual; they are rescored with
  :func:`~searchlib.semantic.fusion.fuse` (``bm25 / max + weight *
  z(cosine)``) and the page is cut from that order. Hits are highlighted with
  the query's lexical matches, as always; their score is the fused score. The
  total is the lexical total.
* :func:`semantic_candidates`: the passages nearest the query by cosine
  alone, over every vector (for exploration: no lexical match is needed),
  filtered, counted and sorted as lexical matches are. Hits are highlighted
  with whatever lexical matches they have; their score is the cosine.
* :func:`share_of`: how much of a hybrid hit's score the cosine gave, read from
  the fusion the search made.

Each takes the :class:`~searchlib.searching.SearchContext` of the index (its
searcher state, analyzers and ranking) and its
:class:`~searchlib.semantic.state.SemanticIndex`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from searchlib.ranking.facets import FieldRequest, execute_fields
from searchlib.ranking.fastpath import Executed
from searchlib.ranking.params import Ranking
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
) -> tuple[Executed, Fused]:
    """``executed``'s hits rescored with the cosine, best first (total and facets kept)."""
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

    def __call__(self, compiled: CompiledQuery, executed: Executed) -> Executed:
        return self.fused(compiled, executed)[0]

    def fused(self, compiled: CompiledQuery, executed: Executed) -> tuple[Executed, Fused]:
        """``executed`` rescored, and the fusion's parts (rows in ``executed``'s order)."""
        return _fused(self.context, self.semantic, self.store, compiled, executed, self.weight)


def cosine_rescorer(
    context: SearchContext,
    semantic: SemanticIndex,
    *,
    weight: float = DEFAULT_WEIGHT,
    candidates: int = DEFAULT_CANDIDATES,
) -> CosineRescorer | None:
    """The hybrid part of a search with ``context``, to hand to
    :func:`searchlib.searching.search` (``rescore=``): its best ``candidates``
    hits (at least a page's) rescored with the cosine; filters restrict the
    candidates, facets count every match, corrections and as-you-type apply
    to the lexical part, a ``sort`` by declared fields is not rescored.
    ``None`` (the lexical results unchanged) without vectors or with a
    ``weight`` of 0."""
    store = semantic.store
    if store is None or weight == 0:
        return None
    return CosineRescorer(context, semantic, store, weight, candidates)


def semantic_candidates(
    context: SearchContext,
    semantic: SemanticIndex,
    compiled: CompiledQuery,
    fields: FieldRequest | None,
    depth: int,
    collapse: bool,
) -> Executed:
    """The passages nearest the query by cosine: every passage with a vector
    matches, scored by its cosine, as a lexical query's matches are by BM25F;
    the query's filters (``fields``) restrict them, facets count them, a sort
    orders them, and ``total`` counts them (documents when ``collapse``). The
    query is read as plain text for its vector.

    Raises:
        NoVectorsError: the index has no vectors.
        EmbedderMismatchError: they were made by another model.
    """
    store = semantic.check_vectors()
    view = context.state.scoring
    scores = np.zeros(view.doc_count, dtype=np.float64)
    matched = np.zeros(view.doc_count, dtype=np.bool_)
    if len(store):
        qvec = semantic.query_vector(compiled.text, store)
        docnums = semantic.docnums(store, context.state.searcher)
        live = docnums >= 0
        sims = np.asarray(store.vectors @ qvec, dtype=np.float64)
        scores[docnums[live]] = sims[live]
        matched[docnums[live]] = True
    request = fields if fields is not None else FieldRequest(context.declared)
    return execute_fields(view, None, request, depth, collapse, scored=(scores, matched))


def share_of(
    fused: Fused, docnums: Sequence[int], docnum: int, hit_id: str
) -> SemanticShare | None:
    """The lexical and semantic parts of hit ``hit_id``'s hybrid score, read from
    the fusion a search made (``fused``, whose rows follow the candidates
    ``docnums``); ``None`` when passage ``docnum`` was not among them."""
    try:
        i = list(docnums).index(docnum)
    except ValueError:
        return None
    cosine = float(fused.cosines[i])
    return SemanticShare(
        hit_id,
        float(fused.lexical[i]),
        float(fused.lexical.max()),
        float(fused.lexical_share[i]),
        None if np.isnan(cosine) else cosine,
        float(fused.z[i]),
        fused.weight,
        float(fused.semantic_share[i]),
        len(docnums),
    )


__all__ = [
    "DEFAULT_CANDIDATES",
    "DEFAULT_WEIGHT",
    "CosineRescorer",
    "NoVectorsError",
    "SemanticShare",
    "cosine_rescorer",
    "semantic_candidates",
    "share_of",
]
