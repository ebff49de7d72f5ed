"""Learning from judgments (``searchlib learn``) measured on the public collections.

* cdtn: K-fold cross-validation by topic (:meth:`searchlib.Index.cross_validate`:
  each fold's model learned on the other folds' queries and judgments, scored
  on the fold's queries, with and without it), per-fold deltas and the
  sign-flip p-values over topics; then a model learned on every public cdtn
  query (the one the held-out topics are scored with), its learning time
  (wall and processor seconds), and query latency with and without it
  (top 100 documents, passages collapsed, no highlighting, as ``searchlib eval``
  searches; one warm-up pass, then passes alternating the two, a query's time
  its median). The ranking with ``learned=False`` is checked to be the ranking
  of the index before it learned, hit for hit and score for score.
* piaf: no repeated topics, so each question is its own topic: learned on one
  half of the questions, scored on the other (2 folds, both halves reported).
* cdtn, a small judgment set: learned on the queries of a few topics drawn at
  random (29 by default, about 500 queries, as the issue where a reranker
  learned on such a set made search worse), scored on every other topic's
  queries: unlearned, learned (only the parts that help in cross-validation
  are kept), and learned with the reranker and its prior forced
  (``force=("prior",)``, as learning kept them before it checked its parts;
  the expansion as cross-validation decides). ``--small-only`` runs only
  this part.

::

    nice python -m benchmarks.studies.learning --data ../shared/eval-public \\
        --scratch benchmarks/.scratch/learning --out benchmarks/out/learning.json --write-results
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import shutil
import statistics
import time
from pathlib import Path
from typing import Any

from benchmarks.results_file import publish
from benchmarks.stats import percentile
from searchlib import Index, load_corpus
from searchlib.learn import Judgments, LearnOptions, lightgbm_version
from searchlib.learn.metrics import per_query

SECTION = "learning"


def _build(corpus: Path, target: Path, reuse: bool) -> Path:
    if reuse and target.is_dir():
        return target
    Index.build(target, load_corpus(corpus), overwrite=True).close()
    return target


def _fresh_copy(source: Path, target: Path) -> Path:
    """A copy of the index ``source`` without a learned model."""
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(source, target)
    (target / "learned.json").unlink(missing_ok=True)
    return target


def _queries(path: Path) -> list[tuple[str, str]]:
    out = []
    with path.open(encoding="utf-8") as f:
        for line in f:
            if line.strip():
                obj = json.loads(line)
                out.append((str(obj["id"]), str(obj["text"])))
    return out


def _latency(ix: Index, texts: list[str], passes: int) -> dict[str, dict[str, float]]:
    """p50 / p95 (ms) of each way of searching, passes alternating the two."""
    ways = {"unlearned": False, "learned": True}
    for text in texts:  # warm-up: postings, impacts, document arrays
        for learned in ways.values():
            ix.search(text, limit=100, collapse=True, highlight_hits=False, learned=learned)
    times: dict[str, list[list[float]]] = {w: [[] for _ in texts] for w in ways}
    for n in range(passes):
        order = list(ways.items()) if n % 2 == 0 else list(reversed(ways.items()))
        for i, text in enumerate(texts):
            for name, learned in order:
                t0 = time.perf_counter()
                ix.search(text, limit=100, collapse=True, highlight_hits=False, learned=learned)
                times[name][i].append((time.perf_counter() - t0) * 1000)
    out = {}
    for name, each_query in times.items():
        medians = [statistics.median(t) for t in each_query]
        out[name] = {"p50": percentile(medians, 50), "p95": percentile(medians, 95)}
    return out


def _same_rankings(a: Index, b: Index, texts: list[str]) -> int:
    """How many of ``texts`` rank differently on ``a`` without its model and on ``b``."""
    differ = 0
    for text in texts:
        x = a.search(text, limit=100, collapse=True, highlight_hits=False, learned=False)
        y = b.search(text, limit=100, collapse=True, highlight_hits=False)
        if [(h.id, h.score) for h in x] != [(h.id, h.score) for h in y]:
            differ += 1
    return differ


def _ndcg(ix: Index, queries: dict[str, str], qrels: Any, *, learned: bool) -> float:
    """Mean nDCG@10 of ``queries`` (top 100 documents, as ``searchlib eval`` searches)."""
    total = 0.0
    for qid, text in queries.items():
        hits = ix.search(text, limit=100, collapse=True, highlight_hits=False, learned=learned)
        total += per_query([h.doc_id for h in hits], qrels[qid])[0]
    return total / len(queries)


def small_set(
    cdtn: Path, cdtn_dir: Path, scratch: Path, *, topics: int, seed: int, say: Any
) -> dict[str, Any]:
    """Learn on the queries of ``topics`` random topics, score every other topic's."""
    files = (cdtn_dir / "queries.jsonl", cdtn_dir / "qrels.tsv", cdtn_dir / "topics.tsv")
    judgments = Judgments.from_files(*files)
    groups = judgments.by_topic()
    order = sorted(groups)
    random.Random(seed).shuffle(order)
    train = [q for t in order[:topics] for q in groups[t]]
    test = {q: judgments.queries[q] for t in order[topics:] for q in groups[t]}
    part = judgments.subset(train)
    out: dict[str, Any] = {
        "topics": topics,
        "seed": seed,
        "train_queries": len(train),
        "test_topics": len(order) - topics,
        "test_queries": len(test),
    }
    for name, options in (("selected", LearnOptions()), ("forced", LearnOptions(force=("prior",)))):
        with Index.open(_fresh_copy(cdtn, scratch / f"cdtn-small-{name}.index")) as ix:
            say(f"small set: learning ({name})")
            t0, c0 = time.perf_counter(), time.process_time()
            report = ix.learn(part.queries, part.qrels, topics=part.topics, options=options)
            out[name] = {
                "report": report.as_dict(),
                "wall_seconds": round(time.perf_counter() - t0, 1),
                "cpu_seconds": round(time.process_time() - c0, 1),
            }
            say(f"small set: scoring {len(test):,} held-out queries ({name})")
            if name == "selected":
                out["unlearned_ndcg"] = _ndcg(ix, test, judgments.qrels, learned=False)
            out[name]["ndcg"] = _ndcg(ix, test, judgments.qrels, learned=True)
    return out


def run(data: Path, scratch: Path, *, folds: int, passes: int, reuse: bool) -> dict[str, Any]:
    scratch.mkdir(parents=True, exist_ok=True)
    cdtn_dir, piaf_dir = data / "cdtn-requetes", data / "piaf-v1.1-passages"
    say = _say()
    say("building the cdtn index")
    cdtn = _build(cdtn_dir / "corpus.jsonl", scratch / "cdtn.index", reuse)
    files = (cdtn_dir / "queries.jsonl", cdtn_dir / "qrels.tsv")
    topics = cdtn_dir / "topics.tsv"
    result: dict[str, Any] = {
        "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "machine": f"{platform.node()} ({platform.processor() or platform.machine()})",
        "lightgbm": lightgbm_version(),
        "options": LearnOptions().__repr__(),
    }
    with Index.open(_fresh_copy(cdtn, scratch / "cdtn-cv.index")) as ix:
        t0, c0 = time.perf_counter(), time.process_time()
        cv = ix.cross_validate(*files, topics=topics, folds=folds, progress=say)
        result["cdtn_cv"] = cv.as_dict()
        result["cdtn_cv"]["seconds"] = round(time.perf_counter() - t0, 1)
        result["cdtn_cv"]["cpu_seconds"] = round(time.process_time() - c0, 1)
    learned_path = _fresh_copy(cdtn, scratch / "cdtn-learned.index")
    with Index.open(learned_path) as ix, Index.open(cdtn) as plain:
        t0, c0 = time.perf_counter(), time.process_time()
        report = ix.learn(*files, topics=topics, progress=say)
        result["cdtn_learn"] = {
            **report.as_dict(),
            "wall_seconds": round(time.perf_counter() - t0, 1),
            "cpu_seconds": round(time.process_time() - c0, 1),
            "model_bytes": (learned_path / "learned.json").stat().st_size,
            "model": str(learned_path / "learned.json"),
        }
        texts = [t for _, t in _queries(files[0])]
        say("checking rankings without the model")
        result["cdtn_unlearned_differ"] = _same_rankings(ix, plain, texts)
        say("latency")
        result["cdtn_latency"] = _latency(ix, texts, passes)
    say("building the piaf index")
    piaf = _build(piaf_dir / "corpus.jsonl", scratch / "piaf.index", reuse)
    with Index.open(_fresh_copy(piaf, scratch / "piaf-cv.index")) as ix:
        pv = ix.cross_validate(
            piaf_dir / "queries.jsonl", piaf_dir / "qrels.tsv", folds=2, progress=say
        )
        result["piaf_halves"] = pv.as_dict()
    result["cdtn_small"] = small_set(cdtn, cdtn_dir, scratch, topics=SMALL_TOPICS, seed=0, say=say)
    return result


SMALL_TOPICS = 29
"""Topics of the small judgment set (as in the issue: 491 queries of 29 topics)."""


def _say() -> Any:
    start = time.perf_counter()

    def say(line: str) -> None:
        print(f"[{time.perf_counter() - start:7.1f} s] {line}", flush=True)

    return say


def _cells(before: list[float], after: list[float]) -> str:
    return " | ".join(
        f"{b:.4f} → {a:.4f} ({a - b:+.4f})" for b, a in zip(before, after, strict=True)
    )


def _cv_table(cv: dict[str, Any], label: str) -> list[str]:
    lines = [
        f"| {label} fold | topics | queries | nDCG@10 | MRR@10 | R@100 | learning s (CPU s) |",
        "|---|---|---|---|---|---|---|",
    ]
    for f in cv["folds"]:
        lines.append(
            f"| {f['fold']} | {f['topics']} | {f['queries']} | "
            f"{_cells(f['unlearned'], f['learned'])} | {f['seconds']} ({f['cpu_seconds']}) |"
        )
    lines.append(
        f"| all | {cv['topics']} | {cv['queries']} | {_cells(cv['unlearned'], cv['learned'])} | |"
    )
    topics = _cells(cv["by_topic_unlearned"], cv["by_topic_learned"])
    lines.append(f"| mean of topic means | | | {topics} | |")
    return lines


def render(result: dict[str, Any], command: str) -> str:
    cv, learn, lat = result["cdtn_cv"], result["cdtn_learn"], result["cdtn_latency"]
    k = len(cv["folds"])
    up = [sum(1 for f in cv["folds"] if f["delta"][i] > 0) for i in range(3)]
    p = cv["p_values"]
    ratio50 = lat["learned"]["p50"] / lat["unlearned"]["p50"]
    ratio95 = lat["learned"]["p95"] / lat["unlearned"]["p95"]
    piaf = result["piaf_halves"]
    when = result.get("when", "?")
    lines = [
        f"### Learning from judgments (`searchlib learn`), run of {when}",
        "",
        f"`{command}` on {result['machine']}, LightGBM {result['lightgbm']}; defaults "
        f"`{result['options']}`.",
        "",
        f"**cdtn, {k}-fold cross-validation by topic** (each fold's model learned on the other "
        f"folds' queries and judgments, with its own inner folds for the expansion and the "
        f"cross-fitted features; scored on the fold's queries; cells: unlearned → learned (Δ)):",
        "",
        *_cv_table(cv, "cdtn"),
        "",
        f"Folds up: nDCG@10 {up[0]}/{k}, MRR@10 {up[1]}/{k}, R@100 {up[2]}/{k}. Sign-flip test "
        f"over the {cv['topics']} topics (per-topic mean differences, 100,000 random sign "
        f"patterns, two-sided): nDCG@10 p = {p['ndcg@10']:.2g}, MRR@10 p = {p['mrr@10']:.2g}, "
        f"R@100 p = {p['recall@100']:.2g}. The whole cross-validation took "
        f"{cv['seconds']} s ({cv['cpu_seconds']} CPU s).",
        "",
        f"**Learning on every public cdtn query** ({learn['queries']} queries, {learn['topics']} "
        f"topics, {learn['judgments']} judgments): {learn['wall_seconds']} s wall, "
        f"{learn['cpu_seconds']} CPU s; expansion chosen: weight {learn['expansion'][0]}, "
        f"{learn['expansion'][1]} terms (inner cross-validated nDCG@10: "
        + ", ".join(f"{a} {b}" for a, b in learn["tried"].items())
        + f"); parts kept: {', '.join(learn.get('kept', [])) or 'none'}"
        + f"; model file {learn['model_bytes'] / 1e6:.1f} MB. This is the model the "
        "held-out topics are to be scored with.",
        "",
        f"**Query latency on cdtn** (all {cv['queries']} public queries, top 100 documents, "
        "collapsed, no highlighting; median of "
        f"alternating passes per query): unlearned p50 {lat['unlearned']['p50']:.2f} ms, p95 "
        f"{lat['unlearned']['p95']:.2f} ms; learned p50 {lat['learned']['p50']:.2f} ms, p95 "
        f"{lat['learned']['p95']:.2f} ms: {ratio50:.2f}× at p50, {ratio95:.2f}× at p95. "
        f"Rankings with `learned=False` that differ from the index's before it learned: "
        f"{result['cdtn_unlearned_differ']} of {cv['queries']}.",
        "",
        "**piaf** (no repeated topics: each question its own topic; learned on one half of the "
        "questions, scored on the other; an index that learned nothing ranks exactly as before):",
        "",
        *_cv_table(piaf, "piaf half"),
        "",
        f"Sign-flip p over the {piaf['topics']} questions: nDCG@10 "
        f"{piaf['p_values']['ndcg@10']:.2g}, MRR@10 {piaf['p_values']['mrr@10']:.2g}, R@100 "
        f"{piaf['p_values']['recall@100']:.2g}.",
    ]
    if "cdtn_small" in result:
        lines += ["", *render_small(result["cdtn_small"])]
    return "\n".join(lines) + "\n"


def _verdict(part: dict[str, Any]) -> str:
    if part["gain"] is None or part["p_value"] is None:
        return str(part["status"])
    return f"{part['status']} ({part['gain']:+.4f}, p = {part['p_value']:.2g})"


def render_small(small: dict[str, Any]) -> list[str]:
    """The small judgment set's lines."""
    base = small["unlearned_ndcg"]
    rows = []
    for name, label in (
        ("selected", "learned, the parts that help only"),
        ("forced", "learned, reranker and prior forced"),
    ):
        r = small[name]
        parts = r["report"]["parts"]
        verdicts = "; ".join(f"{p} {_verdict(v)}" for p, v in parts.items())
        rows.append(
            f"| {label} | {r['ndcg']:.4f} ({r['ndcg'] - base:+.4f}) | {verdicts} | "
            f"{r['wall_seconds']} ({r['cpu_seconds']}) |"
        )
    return [
        f"**cdtn, a small judgment set**: learned on the {small['train_queries']} queries of "
        f"{small['topics']} topics drawn at random (seed {small['seed']}), scored on the "
        f"{small['test_queries']} queries of the other {small['test_topics']} topics "
        "(nDCG@10, top 100 documents; the verdicts are the inner cross-validation's, "
        "mean held-out gain per query and one-sided sign-flip p over topics):",
        "",
        "| ranking | held-out nDCG@10 (Δ) | parts | learning s (CPU s) |",
        "|---|---|---|---|",
        f"| unlearned | {base:.4f} | | |",
        *rows,
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/eval-public"))
    parser.add_argument("--scratch", type=Path, default=Path("benchmarks/.scratch/learning"))
    parser.add_argument("--out", type=Path, default=Path("benchmarks/out/learning.json"))
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--passes", type=int, default=3, help="timed latency passes")
    parser.add_argument("--reuse", action="store_true", help="reuse the scratch indexes")
    parser.add_argument("--write-results", action="store_true", help="update RESULTS.md")
    parser.add_argument("--render", type=Path, help="only render a saved JSON result")
    parser.add_argument(
        "--small-only", action="store_true", help="only the small judgment set (print it)"
    )
    parser.add_argument("--small-topics", type=int, default=SMALL_TOPICS)
    parser.add_argument("--small-seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.small_only:
        args.scratch.mkdir(parents=True, exist_ok=True)
        say = _say()
        cdtn_dir = args.data / "cdtn-requetes"
        cdtn = _build(cdtn_dir / "corpus.jsonl", args.scratch / "cdtn.index", args.reuse)
        small = small_set(
            cdtn, cdtn_dir, args.scratch, topics=args.small_topics, seed=args.small_seed, say=say
        )
        print(json.dumps(small, indent=2))
        print("\n".join(render_small(small)))
        return 0
    command = "nice python -m benchmarks.studies.learning --write-results"
    if args.render:
        result = json.loads(args.render.read_text(encoding="utf-8"))
    else:
        result = run(
            args.data, args.scratch, folds=args.folds, passes=args.passes, reuse=args.reuse
        )
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=2), encoding="utf-8")
    publish(SECTION, render(result, command), args.write_results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
