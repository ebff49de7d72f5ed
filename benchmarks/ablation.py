"""Relevance ablation: each lever of searchlib's ranking on and off.

Evaluates searchlib on the public French test collections (cdtn-requetes:
per query and per topic; piaf-v1.1-passages) with one lever changed at a time,
and cross-validates the tuned parameters by topic folds (never by query).

Run from the repository root (indexes are built once into a scratch folder)::

    python -m benchmarks.ablation --data ../shared/eval-public --out benchmarks/out/ablation.json

Index-time levers (stemming, folding, the fold-aware stemming rules, elision)
need their own index; they are built and evaluated in a subprocess in which
the lever is switched off by patching the analysis module, so the library
itself carries no switches for them.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from searchlib import Index, Ranking, analysis, load_corpus
from searchlib.evaluate import load_qrels, load_queries, load_topics, per_query, run_queries

COLLECTIONS = ("cdtn-requetes", "piaf-v1.1-passages")
SCRATCH = Path("benchmarks/.scratch")

# Query-time variants: name -> changes to the shipped Ranking().
QUERY_VARIANTS: dict[str, dict[str, Any]] = {
    "shipped defaults": {},
    "title boost 1.0": {"title_boost": 1.0},
    "title boost 2.0": {"title_boost": 2.0},
    "exact-form bonus off": {"exact_boost": 0.0},
    "exact-form bonus 0.5": {"exact_boost": 0.5},
    "proximity bonus off": {"proximity_boost": 0.0},
    "proximity bonus 0.5": {"proximity_boost": 0.5},
    "AND grouping": {"default_operator": "and"},
    "k1 0.9 b 0.4": {"k1": 0.9, "b": 0.4, "title_b": 0.4},
}


def _no_stop_words() -> None:
    analysis.FRENCH_STOP_WORDS = frozenset()  # type: ignore[misc]


def _no_stemming() -> None:
    analysis.FrenchStemFilter.__call__ = lambda self, tokens: tokens  # type: ignore[method-assign]


def _no_folding() -> None:
    analysis.AccentFoldFilter.__call__ = lambda self, tokens: tokens  # type: ignore[method-assign]


def _plain_snowball() -> None:
    import snowballstemmer

    stemmer = snowballstemmer.stemmer("french")
    analysis._STEM_CACHE.clear()
    analysis.stem = stemmer.stemWord


def _no_elision() -> None:
    analysis.ELISIONS = frozenset()  # type: ignore[misc]


# Variants needing a patched analyzer: name -> (patch, needs its own index).
PATCHED_VARIANTS: dict[str, tuple[Callable[[], None], bool]] = {
    "stop words kept in queries": (_no_stop_words, False),
    "no stemming": (_no_stemming, True),
    "no accent folding": (_no_folding, True),
    "plain Snowball on folded text (no -ee rule, no irregular plurals)": (_plain_snowball, True),
    "no elision stripping": (_no_elision, True),
}


def build(collection: Path, tag: str) -> Path:
    """Index ``collection`` into the scratch folder once per analyzer state."""
    key = hashlib.sha256(
        f"{collection.resolve()}:{tag}:{analysis.ANALYZER_VERSION}".encode()
    ).hexdigest()[:12]
    path = SCRATCH / f"{collection.name}-{key}"
    if not (path / "searchlib.json").exists():
        with Index.create(path, overwrite=True) as ix:
            ix.add(load_corpus(collection / "corpus.jsonl"))
    return path


def evaluate(index: Index, collection: Path) -> dict[str, list[float]]:
    """Per-query (nDCG@10, MRR@10, R@100) for every judged query."""
    queries = load_queries(collection / "queries.jsonl")
    qrels = load_qrels(collection / "qrels.tsv")
    out: dict[str, list[float]] = {}
    for qid, docs in run_queries(index, queries, limit=100):
        if qrels.get(qid):
            out[qid] = list(per_query([d for d, _ in docs], qrels[qid]))
    return out


def summarise(pq: dict[str, list[float]], topics: dict[str, str] | None) -> dict[str, Any]:
    n = len(pq)
    res: dict[str, Any] = {
        "per_query": [round(sum(v[i] for v in pq.values()) / n, 4) for i in range(3)],
        "queries": n,
    }
    if topics:
        groups: dict[str, list[list[float]]] = {}
        for q, v in pq.items():
            groups.setdefault(topics.get(q, q), []).append(v)
        means = [[sum(x[i] for x in g) / len(g) for i in range(3)] for g in groups.values()]
        res["per_topic"] = [round(sum(m[i] for m in means) / len(means), 4) for i in range(3)]
    return res


def worker(args: argparse.Namespace) -> None:
    """Evaluate one variant in this process; print JSON."""
    ranking = dataclasses.replace(Ranking(), **json.loads(args.ranking))
    tag = "base"
    if args.patch:
        patch, own_index = PATCHED_VARIANTS[args.patch]
        patch()
        tag = args.patch if own_index else "base"
    data = Path(args.data)
    result: dict[str, Any] = {}
    for name in COLLECTIONS:
        coll = data / name
        with Index.open(build(coll, tag)) as ix:
            ix.set_ranking(ranking)
            pq = evaluate(ix, coll)
        topics = load_topics(coll / "topics.tsv") if (coll / "topics.tsv").exists() else None
        result[name] = summarise(pq, topics)
        if args.dump:
            Path(args.dump).mkdir(parents=True, exist_ok=True)
            (Path(args.dump) / f"{name}.json").write_text(json.dumps(pq))
    print(json.dumps(result))


def run_variant(data: str, ranking: dict[str, Any], patch: str = "") -> dict[str, Any]:
    cmd = [
        sys.executable,
        "-m",
        "benchmarks.ablation",
        "--worker",
        "--data",
        data,
        "--ranking",
        json.dumps(ranking),
    ]
    if patch:
        cmd += ["--patch", patch]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=os.environ.copy())
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default="../shared/eval-public")
    ap.add_argument("--out", default="benchmarks/out/ablation.json")
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--ranking", default="{}", help=argparse.SUPPRESS)
    ap.add_argument("--patch", default="", help=argparse.SUPPRESS)
    ap.add_argument("--dump", default="", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        worker(args)
        return 0
    rows: list[tuple[str, dict[str, Any]]] = []
    t0 = time.perf_counter()
    for name, changes in QUERY_VARIANTS.items():
        rows.append((name, run_variant(args.data, changes)))
        print(f"{name}: {json.dumps(rows[-1][1])}", file=sys.stderr, flush=True)
    for name in PATCHED_VARIANTS:
        rows.append((name, run_variant(args.data, {}, name)))
        print(f"{name}: {json.dumps(rows[-1][1])}", file=sys.stderr, flush=True)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(dict(rows), indent=1))
    print(table(rows))
    print(f"\n({time.perf_counter() - t0:.0f} s)")
    return 0


def table(rows: list[tuple[str, dict[str, Any]]]) -> str:
    head = (
        "| variant | cdtn nDCG@10 / MRR@10 / R@100 (per query) | cdtn (per topic) "
        "| piaf nDCG@10 / MRR@10 / R@100 |\n|---|---|---|---|"
    )
    lines = [head]
    for name, r in rows:
        c, p = r["cdtn-requetes"], r["piaf-v1.1-passages"]
        fmt = " / ".join
        lines.append(
            f"| {name} | {fmt(f'{x:.3f}' for x in c['per_query'])} "
            f"| {fmt(f'{x:.3f}' for x in c['per_topic'])} "
            f"| {fmt(f'{x:.3f}' for x in p['per_query'])} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
