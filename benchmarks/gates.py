"""Regression gates, judged against what the same run measured (never absolute times).

A gate compares searchlib with a peer measured in the same run, on the same
data and queries: stock Whoosh (``whoosh-std``) for build speed and
relevance, tantivy for query latency (:data:`MAX_LATENCY_RATIO`); a run also
fails when any engine failed a correctness check or crashed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

BASELINE = "searchlib"
"""The engine the gates protect."""

REFERENCE = "whoosh-std"
"""The peer it must not fall behind."""

MIN_BUILD_RATIO = 0.2
"""searchlib's build MB/s must be at least this fraction of stock Whoosh's.

A regression guard set below today's level (0.3-0.4x on fr-small: searchlib
indexes stop words, an exact-form field and one title per passage, see
RESULTS.md), not the goal: issue 7 asks for 2x and is open."""

MIN_NDCG_RATIO = 1.0
"""searchlib's nDCG@10 must be at least this fraction of stock Whoosh's, on each collection."""

LATENCY_PEER = "tantivy"
"""The peer searchlib's query latency is judged against (issue 27's yardstick)."""

MAX_LATENCY_RATIO: dict[tuple[str, str], float] = {
    ("plain", "p95"): 2.8,
    ("plain", "p99"): 4.2,
    ("highlight", "p50"): 1.2,
    ("highlight", "p95"): 1.2,
}
"""Most searchlib's query latency may be, as a multiple of tantivy's in the same run,
per mode (``plain``: ids only; ``highlight``: with snippets) and percentile.

Judged on CPU time (each query's median over the passes, in its worker
process): the machine CI runs on is shared, and wall-clock tails there are
other processes' (three quick runs on one 2-core machine shared with other
jobs once gave wall-clock p95 ratios of 3.5x to 17x for the same code, CPU-time
ones of 3.44x to 3.58x).

Without snippets, the limits are issue 27's goals (p95 2x, p99 3x tantivy)
plus a margin of 40 %, which noise between runs has not approached (the
CPU-time ratios of three quick runs in a row on one commit differed by up to
9 % at p95 and 12 % at p99; the full run's ratios are measured on a larger
index). ``python -m benchmarks --quick --only latency --engines
searchlib,tantivy`` run three times in a row (2026-12-07 17:41 UTC, commit
``6bd0bd2``, 2-core machine shared with other jobs) gave CPU-time ratios
p50 1.64x / 1.51x / 1.45x, p95 1.09x / 1.09x / 1.14x, p99 1.28x / 1.17x /
1.17x: the goals are met with room, so a run over a limit is a regression,
not noise. The did-you-mean regression of ``b7f1d14`` (p95 28.7x, p99 46.0x
in the same quick run) fails both by far, and so would the code of the
morning of 2026-12-07 (p95 3.5x, p99 8.5-10.2x in three quick runs). With
snippets, the limit is issue 27's goal (1.2x tantivy's SnippetGenerator at
p50 and p95), above every run (p50 0.51x-0.53x, p95 0.21x-0.23x on
``6bd0bd2``).
"""


@dataclass(frozen=True, slots=True)
class Gate:
    """One judged condition."""

    name: str
    ok: bool
    detail: str

    def to_json(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"name": self.name, "ok": self.ok, "detail": self.detail}


def judge(results: dict[str, Any]) -> list[Gate]:
    """Every gate that applies to ``results`` (gates whose engines did not run are left out)."""
    gates = [_checks(results)]
    build = results.get("build", {})
    if BASELINE in build and REFERENCE in build:
        ours, theirs = build[BASELINE].get("mb_per_s"), build[REFERENCE].get("mb_per_s")
        if ours is not None and theirs:
            ratio = ours / theirs
            gates.append(
                Gate(
                    f"build throughput >= {MIN_BUILD_RATIO:g} x {REFERENCE}",
                    ratio >= MIN_BUILD_RATIO,
                    f"{ours:.2f} vs {theirs:.2f} MB/s (ratio {ratio:.2f})",
                )
            )
    gates += _latency_gates(results.get("latency", {}))
    for coll, entry in results.get("relevance", {}).items():
        engines = entry["engines"]
        ours_m = engines.get(BASELINE, {}).get("metrics")
        theirs_m = engines.get(REFERENCE, {}).get("metrics")
        if ours_m and theirs_m:
            a, b = ours_m["ndcg@10"], theirs_m["ndcg@10"]
            gates.append(
                Gate(
                    f"{coll} nDCG@10 >= {MIN_NDCG_RATIO:g} x {REFERENCE}",
                    a >= MIN_NDCG_RATIO * b,
                    f"{a:.4f} vs {b:.4f}",
                )
            )
    return gates


def _latency_gates(latency: dict[str, Any]) -> list[Gate]:
    """searchlib's latency against :data:`LATENCY_PEER`'s, in CPU time when both have it."""
    out: list[Gate] = []
    ours_all, theirs_all = latency.get(BASELINE, {}), latency.get(LATENCY_PEER, {})
    for (mode, p), limit in MAX_LATENCY_RATIO.items():
        ours, theirs = ours_all.get(mode), theirs_all.get(mode)
        if not ours or not theirs or p not in ours or p not in theirs:
            continue  # not run, crashed (the checks gate says so) or no snippets
        clock = "wall clock"
        if "cpu" in ours and "cpu" in theirs:
            ours, theirs, clock = ours["cpu"], theirs["cpu"], "CPU time"
        a, b = ours[p], theirs[p]
        ratio = a / b if b > 0 else float("inf")
        what = "no snippets" if mode == "plain" else "with snippets"
        out.append(
            Gate(
                f"query {p} ({what}) <= {limit:g} x {LATENCY_PEER}",
                ratio <= limit,
                f"{a:.3f} vs {b:.3f} ms {clock} (ratio {ratio:.2f})",
            )
        )
    return out


def _checks(results: dict[str, Any]) -> Gate:
    failed: list[str] = []
    for section in ("build", "latency", "analyzer"):
        for name, res in results.get(section, {}).items():
            if res.get("errors", {}).get("count"):
                failed.append(f"{section}/{name}: {res['errors']['messages'][:1]}")
    for coll, entry in results.get("relevance", {}).items():
        for name, res in entry["engines"].items():
            if res.get("errors", {}).get("count"):
                failed.append(f"relevance {coll}/{name}: {res['errors']['messages'][:1]}")
    return Gate(
        "every engine passed its correctness checks",
        not failed,
        "; ".join(failed) if failed else "all checks passed",
    )
