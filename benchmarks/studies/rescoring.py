"""Relevance levers that rescore searchlib's ranking, measured and not shipped.

The ablation (:mod:`benchmarks.studies.ablation`) switches searchlib's own levers on
and off. This script measures what a ranking could gain from outside them,
on the same collections and with the same scoring (top 100 documents,
:func:`searchlib.app.evaluate.per_query`, cdtn per query and per topic):

* **whole-document scores**: searchlib ranks a document by its best 1,000-character
  passage; here the score of the document indexed whole is mixed in,
  ``(1 - λ) · passage + λ · document`` (cdtn only: piaf's passages are its
  documents).
* **pseudo-relevance feedback** (RM3-style): the ten terms that weigh most in the
  top 10 documents (term frequency in each document × the document's share of
  the top-10 scores × idf; stop words, numbers and terms under 3 letters left
  out) are searched as a query of their own, and its scores, scaled to the
  best one, mixed in as above.
* **coordination**: each score multiplied by (share of the query's words the
  document holds) ^ γ, Lucene's classic ``coord``.
* **fusion with tantivy** (a ceiling check, not a lever a library could ship):
  reciprocal-rank fusion, k = 60, of searchlib's and tantivy's rankings.

Every run retrieves 1,000 documents per query, then the top 100 are scored.
Run from the repository root (indexes come from the ablation's scratch folder)::

    python -m benchmarks.studies.rescoring --data ../shared/eval-public --write-results
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks.studies import ablation
from searchlib import FrenchAnalyzer, Index
from searchlib.app.evaluate import load_qrels, load_queries, load_topics, per_query, run_queries

Run = dict[str, list[tuple[str, float]]]
"""qid -> ranked (docid, score)."""

DEPTH = 1000
FEEDBACK_DOCS = 10
FEEDBACK_TERMS = 10
WHOLE = "whole documents (no 1,000-char passages)"
COMMAND = "python -m benchmarks.studies.rescoring --data ../shared/eval-public --write-results"


def searchlib_run(index_path: Path, queries: list[tuple[str, str]]) -> Run:
    """searchlib's top :data:`DEPTH` documents for each query."""
    with Index.open(index_path) as ix:
        return {qid: docs for qid, docs in run_queries(ix, queries, limit=DEPTH)}


def tantivy_run(collection: Path, queries: list[tuple[str, str]]) -> Run | None:
    """The benchmark's tantivy peer, ranks as scores (None when tantivy is missing)."""
    from benchmarks.data import load_docs
    from benchmarks.engines import make_engine, named_specs

    try:
        engine = make_engine(named_specs(["tantivy"])[0])
    except ImportError:
        return None
    folder = Path(tempfile.mkdtemp(prefix="rescoring-tantivy-"))
    try:
        engine.build(load_docs(collection / "corpus.jsonl"), folder)
        engine.open(folder)
        run = {
            qid: [
                (r.doc_id, float(DEPTH - i))
                for i, r in enumerate(engine.search(text, DEPTH, False))
            ]
            for qid, text in queries
        }
        engine.close()
        return run
    finally:
        shutil.rmtree(folder, ignore_errors=True)


class Bags:
    """Each document's content terms (title and text, as indexed) and their counts."""

    def __init__(self, collection: Path) -> None:
        analyzer = FrenchAnalyzer()
        self.counts: dict[str, Counter[str]] = {}
        self.surface: dict[str, Counter[str]] = {}
        self.df: Counter[str] = Counter()
        with (collection / "corpus.jsonl").open(encoding="utf-8") as f:
            for line in f:
                doc = json.loads(line)
                bag: Counter[str] = Counter()
                text = f"{doc.get('title') or ''}\n{doc['text']}"
                for tok in analyzer.tokens(text, mode="index"):
                    if tok.stopped or tok.compound:
                        continue
                    bag[tok.text] += 1
                    self.surface.setdefault(tok.text, Counter())[tok.surface.lower()] += 1
                self.counts[doc["id"]] = bag
                self.df.update(bag.keys())

    def spelling(self, term: str) -> str:
        """The most frequent written form of ``term``."""
        return self.surface[term].most_common(1)[0][0]


def feedback_queries(run: Run, queries: Mapping[str, str], bags: Bags) -> list[tuple[str, str]]:
    """One expansion query per query: the top terms of its top documents."""
    analyzer = FrenchAnalyzer()
    n_docs = len(bags.counts)
    out = []
    for qid, text in queries.items():
        top = run.get(qid, [])[:FEEDBACK_DOCS]
        total = sum(score for _, score in top)
        if not top or total <= 0:
            continue
        asked = {t.text for t in analyzer.tokens(text)}
        weight: Counter[str] = Counter()
        for doc, score in top:
            bag = bags.counts[doc]
            length = sum(bag.values()) or 1
            for term, tf in bag.items():
                if len(term) < 3 or term.isdigit() or term in asked:
                    continue
                weight[term] += score / total * tf / length * math.log(n_docs / bags.df[term])
        terms = [t for t, _ in weight.most_common(FEEDBACK_TERMS)]
        if terms:
            out.append((qid, " ".join(bags.spelling(t) for t in terms)))
    return out


def mix(base: Run, other: Run, lam: float, scale: bool) -> Run:
    """``(1 - lam) · base + lam · other`` per document (a document missing from one
    run takes that run's lowest score); ``scale`` divides each run by its best score."""
    out: Run = {}
    for qid, docs in base.items():
        a, b = dict(docs), dict(other.get(qid, []))
        if scale:
            top_a, top_b = max(a.values(), default=1.0) or 1.0, max(b.values(), default=1.0) or 1.0
            a = {d: s / top_a for d, s in a.items()}
            b = {d: s / top_b for d, s in b.items()}
        low_a, low_b = min(a.values(), default=0.0), min(b.values(), default=0.0)
        mixed = {
            d: (1 - lam) * a.get(d, low_a) + lam * b.get(d, low_b) for d in a.keys() | b.keys()
        }
        out[qid] = sorted(mixed.items(), key=lambda kv: (-kv[1], kv[0]))
    return out


def coordinated(run: Run, queries: Mapping[str, str], bags: Bags, gamma: float) -> Run:
    """Scores multiplied by (share of the query's content words in the document) ^ gamma."""
    analyzer = FrenchAnalyzer()
    out: Run = {}
    for qid, docs in run.items():
        asked = {t.text for t in analyzer.tokens(queries[qid]) if not t.stopped and not t.compound}
        rescored = []
        for doc, score in docs:
            share = len(asked & bags.counts[doc].keys()) / len(asked) if asked else 1.0
            rescored.append((doc, score * max(share, 0.05) ** gamma))
        out[qid] = sorted(rescored, key=lambda kv: (-kv[1], kv[0]))
    return out


def fused(runs: list[Run], k: int = 60) -> Run:
    """Reciprocal-rank fusion of ``runs``."""
    out: Run = {}
    for qid in runs[0]:
        scores: Counter[str] = Counter()
        for run in runs:
            for rank, (doc, _) in enumerate(run.get(qid, [])):
                scores[doc] += 1 / (k + rank + 1)
        out[qid] = sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))
    return out


class Collection:
    """A test collection's queries and judgments, and the rows measured on it."""

    def __init__(self, path: Path, log: Callable[[str], None]) -> None:
        self.path = path
        self.queries = load_queries(path / "queries.jsonl")
        self.qrels = load_qrels(path / "qrels.tsv")
        topics = path / "topics.tsv"
        self.topics = load_topics(topics) if topics.exists() else None
        self.rows: dict[str, dict[str, Any]] = {}
        self.log = log

    def row(self, name: str, run: Run) -> None:
        """Score ``run`` (top 100 of each judged query) as the row ``name``."""
        pq = {
            qid: list(per_query([d for d, _ in run.get(qid, [])[:100]], self.qrels[qid]))
            for qid, _ in self.queries
            if self.qrels.get(qid)
        }
        self.rows[name] = ablation.summarise(pq, self.topics)
        self.log(f"{self.path.name}: {name}: {self.rows[name]}")


def query_time_rows(coll: Collection) -> Run:
    """The rows that need no index of their own; returns the shipped run."""
    queries, by_id, row = coll.queries, dict(coll.queries), coll.row
    index_path = ablation.build(coll.path, "base")
    base = searchlib_run(index_path, queries)
    row("shipped defaults", base)
    bags = Bags(coll.path)
    feedback = feedback_queries(base, by_id, bags)
    expansion = searchlib_run(index_path, feedback)
    for lam in (0.1, 0.2):
        row(f"pseudo-relevance feedback, λ {lam}", mix(base, expansion, lam, scale=True))
    for gamma in (0.25, 1.0):
        row(f"coordination, γ {gamma}", coordinated(base, by_id, bags, gamma))
    tantivy = tantivy_run(coll.path, queries)
    if tantivy is not None:
        row("tantivy alone", tantivy)
        row("fusion with tantivy (RRF, k 60)", fused([base, tantivy]))
    return base


def whole_document_rows(coll: Collection, base: Run) -> None:
    """The rows mixing in the scores of an index of whole documents. Call last: the
    patch that builds that index changes how this process indexes."""
    ablation.PATCHED_VARIANTS[WHOLE][0]()
    whole = searchlib_run(ablation.build(coll.path, WHOLE), coll.queries)
    for lam in (0.3, 0.5):
        coll.row(f"whole-document score mixed in, λ {lam}", mix(base, whole, lam, scale=False))


def report(results: Mapping[str, Any]) -> str:
    """The RESULTS.md section."""
    cdtn, piaf = (
        results["collections"].get(ablation.CDTN, {}),
        results["collections"].get(ablation.COLLECTIONS[1], {}),
    )
    names = list(dict.fromkeys([*cdtn, *piaf]))

    def cells(r: Mapping[str, Any] | None, key: str) -> str:
        return " / ".join(f"{v:.4f}" for v in r[key]) if r else "–"

    def delta(r: Mapping[str, Any] | None, base: Mapping[str, Any] | None, key: str) -> str:
        return f"{r[key][0] - base[key][0]:+.4f}" if r and base else "–"

    lines = [
        "## Rescoring levers (not shipped)",
        "",
        f"- Date: {results['date']}; wall time {results['seconds'] / 60:.0f} min.",
        f"- Command: `{COMMAND}` (see the docstring of `benchmarks/studies/rescoring.py` "
        "for each lever).",
        "- Cells are nDCG@10 / MRR@10 / R@100 over all judged queries (top 100 documents of a "
        f"top-{DEPTH} run); Δ is nDCG@10 minus the shipped row's.",
        "",
        "| lever | cdtn per query | cdtn per topic | piaf | Δ nDCG@10 cdtn / topic / piaf |",
        "| --- | --- | --- | --- | --- |",
    ]
    b_c, b_p = cdtn.get("shipped defaults"), piaf.get("shipped defaults")
    for name in names:
        c, p = cdtn.get(name), piaf.get(name)
        scores = f"{cells(c, 'per_query')} | {cells(c, 'per_topic')} | {cells(p, 'per_query')}"
        deltas = " / ".join(
            [delta(c, b_c, "per_query"), delta(c, b_c, "per_topic"), delta(p, b_p, "per_query")]
        )
        lines.append(f"| {name} | {scores} | {deltas} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default="../shared/eval-public")
    ap.add_argument("--out", default="benchmarks/out/rescoring.json")
    ap.add_argument("--render", action="store_true", help="only render --out")
    ap.add_argument("--write-results", action="store_true", help="update benchmarks/RESULTS.md")
    args = ap.parse_args(argv)
    if args.render:
        results = json.loads(Path(args.out).read_text())
    else:
        start = time.time()
        date = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
        colls = [
            Collection(Path(args.data) / name, lambda s: print(s, file=sys.stderr, flush=True))
            for name in ablation.COLLECTIONS
        ]
        bases = [query_time_rows(coll) for coll in colls]
        # cdtn only: piaf's passages are its documents.
        whole_document_rows(colls[0], bases[0])
        results = {
            "date": date,
            "seconds": time.time() - start,
            "collections": {coll.path.name: coll.rows for coll in colls},
        }
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(results, ensure_ascii=False, indent=1))
    from benchmarks.results_file import publish

    publish("rescoring", report(results), args.write_results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
