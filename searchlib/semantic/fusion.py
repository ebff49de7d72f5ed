"""Hybrid scoring: the lexical ranking's top candidates rescored with the cosine.

Linear fusion over the ``n`` best lexical candidates of a query::

    score = bm25 / max(bm25) + weight * z(cosine)

``bm25 / max(bm25)`` puts the best lexical candidate at 1; ``z(cosine)`` is
the cosine of the query and passage vectors standardised over the candidates
(minus their mean, over their standard deviation), so the weight means the
same thing whatever the model's cosine range. A candidate without a vector
(added since the vectors were made) gets ``z = 0``: the semantic part neither
lifts nor sinks it. With fewer than two candidates with vectors, or cosines
all equal, every ``z`` is 0 and the lexical order stands.

Example:
    >>> f = fuse([4.0, 2.0, 1.0], [0.70, 0.90, float("nan")], weight=0.5)
    >>> f.scores.round(3).tolist()
    [0.5, 1.0, 0.25]
    >>> ranked_order(f).tolist()
    [1, 0, 2]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray


@dataclass(frozen=True, slots=True)
class Fused:
    """Fused scores of candidates, and their parts (arrays in candidate order).

    Attributes:
        scores: ``lexical_share + semantic_share``.
        lexical: the lexical scores as ranked.
        lexical_share: ``lexical / max(lexical)``.
        cosines: cosine of query and passage (NaN: no vector).
        z: the cosines standardised over the candidates (0: no vector).
        semantic_share: ``weight * z``.
        weight: the semantic weight.
    """

    scores: NDArray[np.float64]
    lexical: NDArray[np.float64]
    lexical_share: NDArray[np.float64]
    cosines: NDArray[np.float64]
    z: NDArray[np.float64]
    semantic_share: NDArray[np.float64]
    weight: float


def standardise(cosines: NDArray[np.float64]) -> NDArray[np.float64]:
    """Cosines minus their mean over their (population) standard deviation,
    NaN (no vector) counted out and given 0.

    Example:
        >>> standardise(np.array([1.0, 3.0, np.nan])).tolist()
        [-1.0, 1.0, 0.0]
    """
    z = np.zeros(len(cosines), dtype=np.float64)
    known = ~np.isnan(cosines)
    if int(known.sum()) < 2:
        return z
    values = cosines[known]
    std = float(values.std())
    if std <= 1e-12:
        return z
    z[known] = (values - float(values.mean())) / std
    return z


def fuse(
    lexical: Sequence[float] | NDArray[Any],
    cosines: Sequence[float] | NDArray[Any],
    *,
    weight: float,
) -> Fused:
    """Fuse the lexical scores of candidates with their cosines (see the module)."""
    lex = np.asarray(lexical, dtype=np.float64)
    cos = np.asarray(cosines, dtype=np.float64)
    if lex.shape != cos.shape or lex.ndim != 1:
        raise ValueError(f"{lex.shape} lexical scores and {cos.shape} cosines")
    top = float(lex.max()) if len(lex) else 0.0
    lexical_share = lex / top if top > 0 else np.zeros_like(lex)
    z = standardise(cos)
    semantic_share = weight * z
    return Fused(lexical_share + semantic_share, lex, lexical_share, cos, z, semantic_share, weight)


def ranked_order(fused: Fused) -> NDArray[np.intp]:
    """Candidate indexes best first; equal scores keep the lexical order."""
    return np.argsort(-fused.scores, kind="stable")
