"""Relevance ablation: each lever of searchlib's ranking on and off, peers alongside.

Evaluates searchlib on the public French test collections (cdtn-requetes: per
query and per topic; piaf-v1.1-passages) with one lever changed at a time, the
peers of the benchmark (:data:`benchmarks.engines.PEERS`) in the same run on
the same full query sets, and cross-validates the tuned ranking parameters by
cdtn topic folds (never by query).

Run from the repository root (indexes are built once into a scratch folder)::

    python -m benchmarks.studies.ablation --data ../shared/eval-public \\
        --out benchmarks/out/ablation.json --write-results

Index-time levers (stemming, folding, elision, ordinals, passages...) need
their own index, built with other :class:`searchlib.FrenchAnalyzer` arguments
or another passage size (``Index.build(..., analyzer=..., passage_chars=...)``)
and evaluated in a subprocess. Query-time levers are :class:`searchlib.Ranking`
values.
Every searchlib row and every peer is scored the same way: top 100 documents
(passages collapsed to their document), :func:`searchlib.app.evaluate.per_query`.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import hashlib
import itertools
import json
import os
import random
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from searchlib import Index, Ranking, load_corpus
from searchlib.analysis import ANALYZER_VERSION, FrenchAnalyzer, SnowballStemmer
from searchlib.app.evaluate import load_qrels, load_queries, load_topics, per_query, run_queries
from searchlib.documents import PASSAGE_CHARS
from searchlib.index import FORMAT_VERSION
from searchlib.query.acronyms import LEXICON_VERSION

COLLECTIONS = ("cdtn-requetes", "piaf-v1.1-passages")
CDTN = COLLECTIONS[0]
SCRATCH = Path("benchmarks/.scratch")
COMMAND = (
    "python -m benchmarks.studies.ablation --data ../shared/eval-public "
    "--out benchmarks/out/ablation.json --write-results"
)

PerQuery = dict[str, list[float]]
"""qid -> (nDCG@10, MRR@10, R@100)."""

# Query-time variants: name -> changes to the shipped Ranking().
QUERY_VARIANTS: dict[str, dict[str, Any]] = {
    "shipped defaults": {},
    "acronym expansion off": {"acronym_boost": 0.0},
    "exact-form bonus off": {"exact_boost": 0.0},
    "exact-form bonus 1.0": {"exact_boost": 1.0},
    "title boost 1.0 (title weighs as text)": {"title_boost": 1.0},
    "title boost 2.0": {"title_boost": 2.0},
    "proximity bonus on (0.5)": {"proximity_boost": 0.5},
    "typo tolerance off": {"typo_max_terms": 0},
    "compound parts off (lieu-travail needs the phrase)": {"compound_parts": 0.0},
    "AND grouping (every word required)": {"default_operator": "and"},
    "k1 1.2, b 0.75 (Whoosh's defaults)": {"k1": 1.2, "b": 0.75, "title_b": 0.75},
}


# -- index-time levers: an index built with other analysis or passages ---------------


def index_variants() -> dict[str, dict[str, Any]]:
    """name -> what the variant's index is built with: ``analyzer`` (the
    :class:`FrenchAnalyzer` arguments; its exact-form field follows) and/or
    ``passage_chars``. Queries are analysed as the index was built."""
    return {
        "stop words kept in queries": {"analyzer": {"stop_words": frozenset()}},
        "no stemming": {"analyzer": {"stem": False}},
        "no accent folding": {"analyzer": {"fold": False}},
        "plain Snowball on folded text (no -ee rule, no irregular plurals)": {
            "analyzer": {"stemmer": SnowballStemmer(folded_fixes=False)}
        },
        "no elision stripping": {"analyzer": {"elisions": frozenset()}},
        # The analyzer's ordinals switch also turns off the query-side "13 ème" join.
        "no ordinal normalisation (13e, 13ème, treizième apart)": {"analyzer": {"ordinals": False}},
        "apostrophe words kept whole (prud'hommes: no parts)": {
            "analyzer": {"split_apostrophes": False}
        },
        "whole documents (no 1,000-char passages)": {"passage_chars": sys.maxsize},
    }


# -- the cross-validation grid ---------------------------------------------------------

GRID: dict[str, tuple[float, ...]] = {
    "k1": (0.6, 0.9, 1.2),
    "b": (0.3, 0.4, 0.6, 0.75),
    "title_boost": (1.0, 1.2, 1.5),
    "exact_boost": (0.0, 0.5, 1.0),
}
"""Tuned parameters and the values tried; ``title_b`` follows ``b``, as shipped."""


def grid_configs(grid: Mapping[str, Sequence[float]] = GRID) -> dict[str, dict[str, float]]:
    """Every combination of ``grid``, named ``k1=0.9 b=0.4 ...`` -> Ranking changes.

    >>> list(grid_configs({"k1": (0.9,), "b": (0.3, 0.4)}).items())[1]
    ('k1=0.9 b=0.4', {'k1': 0.9, 'b': 0.4, 'title_b': 0.4})
    """
    out: dict[str, dict[str, float]] = {}
    for values in itertools.product(*grid.values()):
        changes = dict(zip(grid, values, strict=True))
        if "b" in changes:
            changes["title_b"] = changes["b"]
        out[" ".join(f"{k}={v:g}" for k, v in zip(grid, values, strict=True))] = changes
    return out


def config_name(ranking: Ranking, grid: Mapping[str, Sequence[float]] = GRID) -> str:
    """The grid name of ``ranking``'s values (``Ranking()`` -> the shipped config)."""
    return " ".join(f"{k}={getattr(ranking, k):g}" for k in grid)


def topic_folds(topics: Sequence[str], k: int = 3, seed: int = 1) -> list[list[str]]:
    """``k`` folds of topics: sorted, shuffled with ``seed``, dealt in turn.

    >>> topic_folds(["t1", "t2", "t3", "t4", "t5"], k=2)
    [['t3', 't5', 't2'], ['t4', 't1']]
    """
    order = sorted(set(topics))
    random.Random(seed).shuffle(order)
    return [order[i::k] for i in range(k)]


def topic_mean(scores: Mapping[str, float], topics: Mapping[str, str], keep: set[str]) -> float:
    """Mean over the topics in ``keep`` of the mean score of their queries.

    >>> topic_mean({"a": 1.0, "b": 0.0, "c": 0.5}, {"a": "x", "b": "x", "c": "y"}, {"x", "y"})
    0.5
    """
    groups: dict[str, list[float]] = {}
    for qid, score in scores.items():
        topic = topics.get(qid, qid)
        if topic in keep:
            groups.setdefault(topic, []).append(score)
    if not groups:
        return 0.0
    return sum(sum(g) / len(g) for g in groups.values()) / len(groups)


def cross_validate(
    scores: Mapping[str, Mapping[str, float]],
    topics: Mapping[str, str],
    folds: Sequence[Sequence[str]],
    baseline: str,
) -> list[dict[str, Any]]:
    """For each fold: the config best on the other folds' topics, scored on this fold.

    ``scores`` is config -> qid -> per-query score (nDCG@10). Configs are
    compared by their per-topic mean on the training topics; ties go to the
    first config in ``scores``. Each fold reports the chosen config, its
    held-out score, the ``baseline`` config's held-out score, and the best
    score any config reaches on the held-out fold (what hindsight would give).
    """
    out: list[dict[str, Any]] = []
    for i, held_out in enumerate(folds):
        test = set(held_out)
        train = {t for j, fold in enumerate(folds) if j != i for t in fold}
        best = max(scores, key=lambda c: topic_mean(scores[c], topics, train))
        test_scores = {c: topic_mean(scores[c], topics, test) for c in scores}
        out.append(
            {
                "fold": i + 1,
                "topics": len(test),
                "queries": sum(1 for q in scores[baseline] if topics.get(q, q) in test),
                "chosen": best,
                "train": topic_mean(scores[best], topics, train),
                "held_out": test_scores[best],
                "baseline_held_out": test_scores[baseline],
                "oracle": max(test_scores.values()),
            }
        )
    return out


# -- evaluating searchlib in a worker process ----------------------------------------------


def build(collection: Path, tag: str, variant: Mapping[str, Any] | None = None) -> Path:
    """Index ``collection`` into the scratch folder once per variant (see
    :func:`index_variants`)."""
    versions = f"{ANALYZER_VERSION}:{FORMAT_VERSION}:{LEXICON_VERSION}"
    key = hashlib.sha256(f"{collection.resolve()}:{tag}:{versions}".encode()).hexdigest()[:12]
    path = SCRATCH / f"{collection.name}-{key}"
    if not (path / "searchlib.json").exists():
        variant = variant or {}
        analyzer = FrenchAnalyzer(**variant["analyzer"]) if "analyzer" in variant else None
        passage_chars = int(variant.get("passage_chars", PASSAGE_CHARS))
        with Index.build(
            path,
            load_corpus(collection / "corpus.jsonl"),
            overwrite=True,
            analyzer=analyzer,
            passage_chars=passage_chars,
        ):
            pass
    return path


def evaluate(index: Index, collection: Path) -> PerQuery:
    """Per-query (nDCG@10, MRR@10, R@100) for every judged query."""
    queries = load_queries(collection / "queries.jsonl")
    qrels = load_qrels(collection / "qrels.tsv")
    out: PerQuery = {}
    for qid, docs in run_queries(index, queries, limit=100):
        if qrels.get(qid):
            out[qid] = list(per_query([d for d, _ in docs], qrels[qid]))
    return out


def summarise(pq: PerQuery, topics: Mapping[str, str] | None) -> dict[str, Any]:
    """Means per query (and per topic, when ``topics``), rounded."""
    n = len(pq)
    res: dict[str, Any] = {
        "per_query": [round(sum(v[i] for v in pq.values()) / n, 4) for i in range(3)],
        "queries": n,
    }
    if topics:
        keep = {topics.get(q, q) for q in pq}
        res["per_topic"] = [
            round(topic_mean({q: v[i] for q, v in pq.items()}, topics, keep), 4) for i in range(3)
        ]
    return res


def worker(args: argparse.Namespace) -> None:
    """Evaluate rankings on one analyzer state in this process; print JSON."""
    rankings: dict[str, dict[str, Any]] = json.loads(args.rankings)
    tag = args.patch or "base"
    variant = index_variants()[args.patch] if args.patch else None
    data = Path(args.data)
    result: dict[str, dict[str, Any]] = {name: {} for name in rankings}
    dump: dict[str, dict[str, PerQuery]] = {name: {} for name in rankings}
    for coll_name in args.collections.split(","):
        coll = data / coll_name
        topics = load_topics(coll / "topics.tsv") if (coll / "topics.tsv").exists() else None
        with Index.open(build(coll, tag, variant)) as ix:
            for name, changes in rankings.items():
                ix.set_ranking(dataclasses.replace(Ranking(), **changes))
                pq = evaluate(ix, coll)
                result[name][coll_name] = summarise(pq, topics)
                dump[name][coll_name] = pq
    if args.dump:
        Path(args.dump).parent.mkdir(parents=True, exist_ok=True)
        Path(args.dump).write_text(json.dumps(dump))
    print(json.dumps(result))


def run_worker(
    data: str,
    rankings: Mapping[str, Mapping[str, Any]],
    patch: str = "",
    collections: Sequence[str] = COLLECTIONS,
    dump: str = "",
) -> dict[str, Any]:
    """:func:`worker` in a fresh process."""
    cmd = [sys.executable, "-m", "benchmarks.studies.ablation", "--worker", "--data", data]
    cmd += ["--rankings", json.dumps(rankings), "--collections", ",".join(collections)]
    cmd += ["--patch", patch, "--dump", dump]
    env = dict(os.environ, PYTHONHASHSEED="0")
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env)
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


# -- peers, through the benchmark's own relevance harness ------------------------------------


def run_peers(data: str) -> dict[str, dict[str, Any]]:
    """Each peer (and searchlib's defaults, as a check) on the full collections.

    Uses :func:`benchmarks.runner.run_relevance` with the full query sets and
    corpora: the same worker task, top 100 and metrics as ``python -m benchmarks``.
    """
    from benchmarks.engines import PEERS, EngineSpec, named_specs
    from benchmarks.runner import FULL, Runner, run_relevance

    os.environ["SEARCHLIB_SHARED"] = str(Path(data).resolve().parent)
    specs = [EngineSpec("searchlib (benchmark harness)", "searchlib"), *named_specs(PEERS)]
    config = FULL.replace(jobs=1, sections=("relevance",))
    relevance = run_relevance(config, specs, Runner(SCRATCH.resolve() / "peers"))
    names = {"cdtn": CDTN, "piaf": COLLECTIONS[1]}
    out: dict[str, dict[str, Any]] = {s.name: {} for s in specs}
    for short, entry in relevance.items():
        for name, res in entry["engines"].items():
            if res.get("crashed") or "metrics" not in res:
                out[name][names[short]] = {"error": res.get("errors")}
                continue
            m = res["metrics"]
            row: dict[str, Any] = {
                "per_query": [m["ndcg@10"], m["mrr@10"], m["recall@100"]],
                "queries": m["queries"],
                "query_ms": res.get("query_ms"),
            }
            if "per_topic" in res:
                t = res["per_topic"]
                row["per_topic"] = [t["ndcg@10"], t["mrr@10"], t["recall@100"]]
            out[name][names[short]] = row
    return out


# -- the run ------------------------------------------------------------------------------------


def run_cv(data: str) -> dict[str, Any]:
    """Per-query cdtn scores of every grid config, then :func:`cross_validate`."""
    dump = SCRATCH / "grid.json"
    configs = grid_configs()
    summaries = run_worker(data, configs, collections=(CDTN,), dump=str(dump))
    per_query: dict[str, dict[str, PerQuery]] = json.loads(dump.read_text())
    topics = load_topics(Path(data) / CDTN / "topics.tsv")
    ndcg = {c: {q: v[0] for q, v in per_query[c][CDTN].items()} for c in configs}
    folds = topic_folds([topics.get(q, q) for q in ndcg[next(iter(ndcg))]])
    baseline = config_name(Ranking())
    return {
        "grid": GRID,
        "baseline": baseline,
        "folds": cross_validate(ndcg, topics, folds, baseline),
        "configs": {c: summaries[c][CDTN] for c in configs},
    }


def run_all(args: argparse.Namespace) -> dict[str, Any]:
    """Every step, saved to ``args.out`` after each (``--resume`` skips saved ones)."""
    from benchmarks.runner import machine_info

    out_path = Path(args.out)
    results: dict[str, Any] = {}
    if args.resume and out_path.exists():
        results = json.loads(out_path.read_text())
    results.setdefault("meta", {"date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")})
    results["meta"].setdefault("machine", machine_info())
    results.setdefault("seconds", {})
    steps: list[tuple[str, Callable[[], Any]]] = [
        ("query", lambda: run_worker(args.data, QUERY_VARIANTS)),
        *(
            (f"patch:{name}", functools.partial(run_worker, args.data, {name: {}}, name))
            for name in index_variants()
        ),
        ("peers", lambda: run_peers(args.data)),
        ("cv", lambda: run_cv(args.data)),
    ]
    for step, fn in steps:
        if step in results["seconds"] or (step in {"peers", "cv"} and getattr(args, f"no_{step}")):
            continue
        t0 = time.perf_counter()
        print(f"[ablation] {step}...", file=sys.stderr, flush=True)
        value = fn()
        if step.startswith("patch:"):
            results.setdefault("patched", {}).update(value)
        else:
            results[step] = value
        results["seconds"][step] = round(time.perf_counter() - t0, 1)
        print(f"[ablation] {step}: {results['seconds'][step]} s", file=sys.stderr, flush=True)
        out_path.parent.mkdir(parents=True, exist_ok=True)
        out_path.write_text(json.dumps(results, indent=1))
    return results


# -- rendering -----------------------------------------------------------------------------------


def _cells(r: Mapping[str, Any], key: str) -> str:
    values = r.get(key)
    return " / ".join(f"{x:.4f}" for x in values) if values else "–"


def _rows(results: Mapping[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """(name, kind, {collection: summary}) in table order."""
    rows = [(n, "query", r) for n, r in results.get("query", {}).items()]
    rows += [(n, "index", r) for n, r in results.get("patched", {}).items()]
    rows += [(n, "peer", r) for n, r in results.get("peers", {}).items()]
    return rows


def ablation_table(results: Mapping[str, Any]) -> str:
    """One row per variant and peer: cdtn per query, per topic, piaf, and Δ nDCG@10."""
    from benchmarks.engines import PEERS

    base = results["query"]["shipped defaults"]
    lines = [
        "| variant | lever | cdtn per query | cdtn per topic | piaf "
        "| Δ nDCG@10 cdtn / topic / piaf |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for name, kind, r in _rows(results):
        c, p = r.get(CDTN, {}), r.get(COLLECTIONS[1], {})
        if kind == "query":
            lever = ", ".join(f"`{k}={v}`" for k, v in QUERY_VARIANTS[name].items()) or "–"
        elif kind == "index":
            lever = (
                ", ".join(
                    f"`{k}={v!r}`" for k, v in index_variants()[name].get("analyzer", {}).items()
                )
                or "`passage_chars`"
            )
        else:
            lever = "peer" if name in PEERS else "check: shipped, through the peers' harness"
        deltas = "–"
        if name != "shipped defaults" and "per_query" in c and "per_query" in p:
            d = (
                c["per_query"][0] - base[CDTN]["per_query"][0],
                c["per_topic"][0] - base[CDTN]["per_topic"][0],
                p["per_query"][0] - base[COLLECTIONS[1]]["per_query"][0],
            )
            deltas = " / ".join(f"{x:+.4f}" for x in d)
        label = f"**{name}**" if name == "shipped defaults" else name
        lines.append(
            f"| {label} | {lever} | {_cells(c, 'per_query')} | {_cells(c, 'per_topic')} "
            f"| {_cells(p, 'per_query')} | {deltas} |"
        )
    return "\n".join(lines)


def gap_table(results: Mapping[str, Any]) -> str:
    """searchlib's shipped defaults against the best peer, column by column."""
    from benchmarks.engines import PEERS

    base = results["query"]["shipped defaults"]
    peers = {p: results["peers"][p] for p in PEERS if p in results.get("peers", {})}
    columns = [
        ("cdtn nDCG@10", CDTN, "per_query", 0),
        ("cdtn MRR@10", CDTN, "per_query", 1),
        ("cdtn R@100", CDTN, "per_query", 2),
        ("cdtn per topic nDCG@10", CDTN, "per_topic", 0),
        ("piaf nDCG@10", COLLECTIONS[1], "per_query", 0),
        ("piaf MRR@10", COLLECTIONS[1], "per_query", 1),
        ("piaf R@100", COLLECTIONS[1], "per_query", 2),
    ]
    lines = [
        "| metric | searchlib | best peer | gap (searchlib − best peer) |",
        "| --- | ---: | --- | ---: |",
    ]
    for label, coll, key, i in columns:
        scored = {p: r[coll][key][i] for p, r in peers.items() if key in r.get(coll, {})}
        if not scored:
            continue
        best = max(scored, key=lambda p: scored[p])
        ours = base[coll][key][i]
        lines.append(
            f"| {label} | {ours:.4f} | {best} {scored[best]:.4f} | {ours - scored[best]:+.4f} |"
        )
    return "\n".join(lines)


def cv_table(cv: Mapping[str, Any]) -> str:
    """Per fold: config chosen on the other folds, its held-out score, the shipped one's."""
    lines = [
        "| held-out fold | topics / queries | chosen on the other two folds | train | "
        "held-out: chosen | held-out: shipped | held-out: best of grid (hindsight) |",
        "| --- | ---: | --- | ---: | ---: | ---: | ---: |",
    ]
    for f in cv["folds"]:
        lines.append(
            f"| {f['fold']} | {f['topics']} / {f['queries']} | `{f['chosen']}` | {f['train']:.4f} "
            f"| {f['held_out']:.4f} | {f['baseline_held_out']:.4f} | {f['oracle']:.4f} |"
        )
    n = len(cv["folds"])
    mean = {k: sum(f[k] for f in cv["folds"]) / n for k in ("held_out", "baseline_held_out")}
    lines.append(
        f"| mean | | | | **{mean['held_out']:.4f}** | **{mean['baseline_held_out']:.4f}** | |"
    )
    return "\n".join(lines)


def report(results: Mapping[str, Any]) -> str:
    """The markdown of the RESULTS.md section."""
    meta = results["meta"]
    machine = meta["machine"]
    seconds = results.get("seconds", {})
    wall = sum(seconds.values())
    base = results["query"]["shipped defaults"]
    parts = [
        "## Relevance ablation",
        "",
        f"- Date: {meta['date']}; commit `{machine['versions'].get('commit')}`; "
        f"wall time {wall / 60:.0f} min (query-time levers {seconds.get('query', 0):.0f} s, "
        f"index-time levers {sum(v for k, v in seconds.items() if k.startswith('patch:')):.0f} s, "
        f"peers {seconds.get('peers', 0):.0f} s, cross-validation {seconds.get('cv', 0):.0f} s), "
        f"on a {machine['cores']}-core machine shared with other jobs "
        f"(load average at start {', '.join(f'{x:.1f}' for x in machine['load_avg'])}).",
        f"- Command: `{COMMAND}` (indexes are cached in `benchmarks/.scratch/`; "
        "`--resume` continues a run from the steps saved in `--out`).",
        f"- Every row runs all {base[CDTN]['queries']:,} judged cdtn queries (per topic: mean "
        f"over topics of the per-query mean) and all {base[COLLECTIONS[1]]['queries']:,} piaf "
        "questions on the whole corpora; top 100 documents (searchlib collapses passages to "
        "their document); cells are nDCG@10 / MRR@10 / R@100; Δ is nDCG@10 minus the shipped "
        "row's. Query-time levers change one `Ranking` field; index-time levers build their "
        "own index with other analyzer arguments or passage size (see "
        "`index_variants()` in `benchmarks/studies/ablation.py`); peers are the benchmark's "
        "(`benchmarks/engines.py`, the `relevance` task of `benchmarks/worker.py`).",
        "",
        ablation_table(results),
    ]
    if "peers" in results:
        parts += ["", "searchlib's shipped defaults against the best peer:", "", gap_table(results)]
    if "cv" in results:
        cv = results["cv"]
        grid = ", ".join(
            f"{k} ∈ {{{', '.join(f'{v:g}' for v in vs)}}}" for k, vs in cv["grid"].items()
        )
        parts += [
            "",
            "### Cross-validation of the tuned parameters by cdtn topic",
            "",
            f"Grid: {grid} ({len(cv['configs'])} configurations; `title_b` = `b`). Topics are "
            "split into 3 folds (sorted topic ids shuffled with seed 1, dealt in turn; never by "
            "query). For each fold, the configuration with the best per-topic nDCG@10 on the other "
            "two folds is scored on the held-out fold (per-topic nDCG@10), next to the shipped "
            f"defaults (`{cv['baseline']}`), which were themselves chosen on all of cdtn, and the "
            "best any configuration reaches on that fold.",
            "",
            cv_table(cv),
        ]
    return "\n".join(parts) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default="../shared/eval-public")
    ap.add_argument("--out", default="benchmarks/out/ablation.json")
    ap.add_argument("--resume", action="store_true", help="keep the steps already in --out")
    ap.add_argument("--no-peers", action="store_true", help="skip the peers")
    ap.add_argument("--no-cv", action="store_true", help="skip the cross-validation")
    ap.add_argument("--render", action="store_true", help="only render --out")
    ap.add_argument("--write-results", action="store_true", help="update benchmarks/RESULTS.md")
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--rankings", default="{}", help=argparse.SUPPRESS)
    ap.add_argument("--collections", default=",".join(COLLECTIONS), help=argparse.SUPPRESS)
    ap.add_argument("--patch", default="", help=argparse.SUPPRESS)
    ap.add_argument("--dump", default="", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        worker(args)
        return 0
    results = json.loads(Path(args.out).read_text()) if args.render else run_all(args)
    from benchmarks.results_file import publish

    publish("ablation", report(results), args.write_results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
