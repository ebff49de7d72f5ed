"""The relevance metrics learning is judged by, and a sign-flip test between two rankings.

:func:`per_query` is the definition of ``searchlib eval`` (nDCG@10 with gains
``2**grade - 1``, MRR@10, Recall@100; negative grades count as not relevant),
restated here because the evaluation tools sit above the index and learning
below it (a test checks the two agree).

Example:
    >>> [round(v, 3) for v in per_query(["a", "b"], {"b": 1})]
    [0.631, 0.5, 1.0]
    >>> sign_flip([0.1, 0.2, 0.15, 0.05], samples=2000, seed=1)  # 4 topics, all up: 2/16
    0.125
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np

METRICS = ("ndcg@10", "mrr@10", "recall@100")


def per_query(ranked: Sequence[str], judged: Mapping[str, int]) -> tuple[float, float, float]:
    """nDCG@10, MRR@10 and Recall@100 of one ranking of document ids (negative
    grades, TREC's "spam", count as not relevant)."""
    dcg = sum(
        (2 ** max(judged.get(d, 0), 0) - 1) / math.log2(r + 2) for r, d in enumerate(ranked[:10])
    )
    ideal = sorted((max(g, 0) for g in judged.values()), reverse=True)[:10]
    idcg = sum((2**g - 1) / math.log2(r + 2) for r, g in enumerate(ideal))
    ndcg = dcg / idcg if idcg > 0 else 0.0
    mrr = next((1 / (r + 1) for r, d in enumerate(ranked[:10]) if judged.get(d, 0) > 0), 0.0)
    relevant = sum(1 for g in judged.values() if g > 0)
    hits = sum(1 for d in ranked[:100] if judged.get(d, 0) > 0)
    recall = hits / relevant if relevant else 0.0
    return ndcg, mrr, recall


def sign_flip(differences: Sequence[float], *, samples: int = 100_000, seed: int = 0) -> float:
    """Two-sided p-value of a paired sign-flip (randomisation) test of a mean difference.

    Under the null hypothesis each unit's difference (one per topic) is as
    likely to have either sign. Every sign pattern is enumerated when there
    are at most 2**16 of them; otherwise ``samples`` random patterns are
    drawn, and the p-value counts the observed pattern too, so it is never 0.
    """
    d = np.asarray(differences, dtype=np.float64)
    if not len(d) or not np.any(d):
        return 1.0
    observed = abs(float(d.mean()))
    tolerance = 1e-12 * max(1.0, observed)
    if len(d) <= 16:
        patterns = ((np.arange(1 << len(d))[:, None] >> np.arange(len(d))) & 1) * 2 - 1
        means = np.abs((patterns * d).mean(axis=1))
        return float(np.mean(means >= observed - tolerance))
    rng = np.random.default_rng(seed)
    extreme = 0
    done = 0
    while done < samples:
        n = min(10_000, samples - done)
        signs = rng.integers(0, 2, size=(n, len(d)), dtype=np.int8) * 2 - 1
        extreme += int(np.count_nonzero(np.abs(signs @ d) / len(d) >= observed - tolerance))
        done += n
    return (extreme + 1) / (samples + 1)
