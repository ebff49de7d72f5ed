"""Statistics shared by the harness and the studies (no heavy imports: studies' child
processes may use it)."""

from __future__ import annotations

from collections.abc import Sequence


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0-100) by linear interpolation; NaN when empty.

    >>> percentile([1.0, 2.0, 3.0, 4.0], 50), percentile([5.0], 99)
    (2.5, 5.0)
    >>> percentile([4.0, 1.0, 3.0, 2.0], 0), percentile([4.0, 1.0, 3.0, 2.0], 100)
    (1.0, 4.0)
    """
    if not values:
        return float("nan")
    xs = sorted(values)
    k = (len(xs) - 1) * q / 100
    lo = int(k)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (k - lo)
