"""Markdown tables from a results dict (as written to ``benchmarks/out/*.json``).

``python -m benchmarks.report FILE.json [--write-results]`` prints the tables of
a saved run (and puts them into RESULTS.md).
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from benchmarks.gates import BASELINE, Gate

ENGINE_NOTES = {
    "searchlib": "searchlib defaults; `Index.search(collapse=True)` (documents, not passages)",
    "whoosh-std": "Whoosh 2.7 `StandardAnalyzer`, BM25F defaults, OR of analysed terms",
    "whoosh-fr": 'Whoosh 2.7 `LanguageAnalyzer("fr")`, BM25F defaults, OR of analysed terms',
    "fts5": "SQLite FTS5 `unicode61 remove_diacritics 2`, `bm25()`, OR of quoted tokens",
    "tantivy": "tantivy-py simple | remove_long(40) | lowercase | stopword(french) | "
    "ascii_fold | stemmer(french), BM25, OR of analysed terms",
    "bm25s": "bm25s `\\b\\w\\w+\\b` | lowercase | bm25s French stop words | PyStemmer "
    "french; title and text in one field; Lucene BM25 (k1 1.5, b 0.75); no snippets "
    "(highlight columns `–`)",
}


def fmt(value: float | None, digits: int = 2) -> str:
    """A number for a table; ``–`` when missing.

    >>> fmt(1234.5, 0), fmt(0.12345, 3), fmt(None)
    ('1,234', '0.123', '–')
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{value:,.{digits}f}"


def ratio(ours: float | None, theirs: float | None) -> str:
    """``ours / theirs`` as ``0.46×``; ``–`` when either is missing or zero."""
    if ours is None or theirs is None or not theirs or math.isnan(ours) or math.isnan(theirs):
        return "–"
    r = ours / theirs
    return f"{r:.2f}×" if r < 100 else f"{r:.0f}×"


def table(header: Sequence[str], rows: Sequence[Sequence[str]], align: str = "") -> str:
    """A Markdown table; the first column left-aligned, the others right-aligned."""
    aligns = align or "l" + "r" * (len(header) - 1)
    sep = ["---" if a == "l" else "---:" for a in aligns]
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join(sep) + " |"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def _get(d: dict[str, Any] | None, *keys: str) -> Any:
    for k in keys:
        if not isinstance(d, dict):
            return None
        d = d.get(k)
    return d


def render(results: dict[str, Any], gates: Sequence[Gate] = (), command: str = "") -> str:
    """The whole report."""
    meta = results["meta"]
    names = [e["name"] for e in results["engines"]]
    machine = meta["machine"]
    v = machine["versions"]
    parts = [
        f"## searchlib benchmark, {meta['config']['mode']} mode",
        "",
        f"- Date: {meta['date']}; wall time {fmt(meta.get('wall_s'), 0)} s"
        + (f"; command: `{command}`" if command else ""),
        f"- Machine: {machine['cpu']}, {machine['cores']} cores, {machine['memory_gb']} GB RAM, "
        + (
            f"{machine['python_loop_ns']:.1f} ns per step of a Python loop, "
            if machine.get("python_loop_ns")
            else ""
        )
        + f"load average at start {', '.join(f'{x:.1f}' for x in machine['load_avg'])}; "
        f"Python {v['python']}, searchlib {v['searchlib']}"
        + (f" (commit {v['commit']})" if v.get("commit") else "")
        + f", Whoosh {v['whoosh']}, "
        f"SQLite {v['sqlite']}, tantivy {v.get('tantivy') or '–'}"
        + (f", bm25s {v['bm25s']}" if v.get("bm25s") else ""),
        "- Engines: "
        + "; ".join(f"**{n}**: {ENGINE_NOTES.get(n, 'searchlib variant')}" for n in names),
        "- Ratios are searchlib ÷ engine: above 1 means searchlib's figure is higher "
        "(better for throughput and scores, worse for times, memory and size).",
    ]
    if "build" in results:
        parts += ["", build_table(results, names)]
    if "latency" in results:
        parts += ["", latency_table(results, names)]
    if "analyzer" in results:
        parts += ["", analyzer_table(results, names)]
    if "relevance" in results:
        parts += ["", relevance_tables(results, names)]
    if BASELINE in names and len(names) > 1:
        parts += ["", ratio_tables(results, names)]
    if gates:
        parts += ["", "### Gates", ""]
        parts += [f"- {'PASS' if g.ok else 'FAIL'}: {g.name} ({g.detail})" for g in gates]
    return "\n".join(parts) + "\n"


def build_table(results: dict[str, Any], names: Sequence[str]) -> str:
    """Index build figures."""
    corpus = results.get("corpus", {})
    runs = max((len(b.get("runs", [])) for b in results["build"].values()), default=0)
    rows = []
    for n in names:
        b = results["build"].get(n, {})
        rows.append(
            [
                n,
                fmt(b.get("seconds"), 1),
                fmt(b.get("cpu_seconds"), 1),
                fmt(b.get("docs_per_s"), 0),
                fmt(b.get("mb_per_s"), 2),
                fmt(b.get("peak_rss_mb"), 0),
                fmt(b.get("rss_loaded_mb"), 0),
                fmt((b.get("index_bytes") or math.nan) / 1e6, 1),
            ]
        )
    head = (
        f"### Index build: {corpus.get('name')} ({corpus.get('docs', 0):,} documents, "
        f"{corpus.get('bytes', 0) / 1e6:.1f} MB of text); "
        f"median of {runs} build(s), each in a fresh process\n\n"
    )
    return head + table(
        [
            "engine",
            "build s",
            "CPU s",
            "docs/s",
            "MB/s",
            "peak RSS MB",
            "RSS before build MB",
            "index MB",
        ],
        rows,
    )


def latency_table(results: dict[str, Any], names: Sequence[str]) -> str:
    """Query latency figures, overall and by kind of query."""
    lq = results.get("latency_queries", {})
    cfg = results["meta"]["config"]
    rows = []
    for n in names:
        lat = results["latency"].get(n, {})
        row = [n]
        for mode in ("plain", "highlight"):
            row += [fmt(_get(lat, mode, p), 2) for p in ("p50", "p95", "p99")]
        rows.append(row)
    head = (
        f"### Query latency, top 10, ms ({lq.get('count', 0)} queries: {lq.get('cdtn', 0)} cdtn "
        f"queries and {lq.get('vocabulary', 0)} one- to three-word queries from frequent, middle "
        f"and rare words; one warm-up pass, median of {cfg['repeats']} passes per query, the "
        "engines' passes interleaved)\n\n"
    )
    main = table(["engine", "p50", "p95", "p99", "p50 hl", "p95 hl", "p99 hl"], rows)
    kinds: list[str] = []
    for n in names:
        for k in _get(results["latency"].get(n), "plain", "by_kind") or {}:
            if k not in kinds:
                kinds.append(k)
    kind_rows = [
        [n, *(fmt(_get(results["latency"].get(n), "plain", "by_kind", k), 2) for k in kinds)]
        for n in names
    ]
    by_kind = "p50 ms by kind of query, without highlighting:\n\n" + table(
        ["engine", *kinds], kind_rows
    )
    return head + main + "\n\n" + by_kind


def analyzer_table(results: dict[str, Any], names: Sequence[str]) -> str:
    """Analyzer throughput."""
    rows = []
    size = 0
    for n in names:
        a = results["analyzer"].get(n, {})
        size = max(size, a.get("bytes", 0))
        if "skipped" in a:
            rows.append([n, "–", "–", "–"])
            continue
        rows.append(
            [n, fmt(a.get("tokens"), 0), fmt(a.get("tokens_per_s"), 0), fmt(a.get("mb_per_s"), 2)]
        )
    head = (
        f"### Analyzer throughput ({size / 1e6:.1f} MB of text, positions and offsets on; "
        "FTS5's tokenizer cannot be called alone)\n\n"
    )
    return head + table(["engine", "terms", "terms/s", "MB/s"], rows)


def relevance_tables(results: dict[str, Any], names: Sequence[str]) -> str:
    """Relevance per collection."""
    out = []
    for coll, entry in results["relevance"].items():
        rows = []
        topics = any("per_topic" in entry["engines"].get(n, {}) for n in names)
        for n in names:
            r = entry["engines"].get(n, {})
            m = r.get("metrics") or {}
            row = [
                n,
                fmt(m.get("ndcg@10"), 4),
                fmt(m.get("mrr@10"), 4),
                fmt(m.get("recall@100"), 4),
            ]
            if topics:
                t = r.get("per_topic") or {}
                row += [
                    fmt(t.get("ndcg@10"), 4),
                    fmt(t.get("mrr@10"), 4),
                    fmt(t.get("recall@100"), 4),
                ]
            row += [
                fmt(r.get("build_s"), 1),
                fmt(_get(r, "query_ms", "p50"), 2),
                fmt(_get(r, "query_ms", "p95"), 2),
            ]
            rows.append(row)
        header = ["engine", "nDCG@10", "MRR@10", "R@100"]
        if topics:
            header += ["topic nDCG@10", "topic MRR@10", "topic R@100"]
        header += ["build s", "query p50 ms", "query p95 ms"]
        out.append(
            f"### Relevance: {coll} ({entry['note']}; top 100; mean per query"
            + (", then mean per topic" if topics else "")
            + ")\n\n"
            + table(header, rows)
        )
    return "\n\n".join(out)


def ratio_tables(results: dict[str, Any], names: Sequence[str]) -> str:
    """searchlib ÷ each other engine, for every figure."""
    others = [n for n in names if n != BASELINE]

    def pick(section: str, *keys: str) -> Callable[[str], Any]:
        return lambda n: _get(results.get(section), n, *keys)

    speed: list[tuple[str, Callable[[str], Any]]] = []
    if "build" in results:
        speed += [
            ("build MB/s", pick("build", "mb_per_s")),
            ("build CPU s", pick("build", "cpu_seconds")),
            ("peak RSS", pick("build", "peak_rss_mb")),
            ("index size", pick("build", "index_bytes")),
        ]
    if "latency" in results:
        speed += [(f"{p}", pick("latency", "plain", p)) for p in ("p50", "p95", "p99")]
        speed += [(f"{p} hl", pick("latency", "highlight", p)) for p in ("p50", "p95", "p99")]
        # CPU time: what the latency gates judge (see benchmarks.gates)
        speed += [(f"{p} CPU", pick("latency", "plain", "cpu", p)) for p in ("p50", "p95", "p99")]
        speed += [
            (f"{p} hl CPU", pick("latency", "highlight", "cpu", p)) for p in ("p50", "p95", "p99")
        ]
    if "analyzer" in results:
        speed += [
            ("analyzer terms/s", pick("analyzer", "tokens_per_s")),
            ("analyzer MB/s", pick("analyzer", "mb_per_s")),
        ]
    rel: list[tuple[str, Callable[[str], Any]]] = []
    for coll in results.get("relevance", {}):
        for metric in ("ndcg@10", "mrr@10", "recall@100"):
            rel.append((f"{coll} {metric}", _rel(results, coll, "metrics", metric)))
        if coll == "cdtn":
            rel.append(("cdtn topic nDCG@10", _rel(results, coll, "per_topic", "ndcg@10")))
        rel.append((f"{coll} query p50", _rel(results, coll, "query_ms", "p50")))
    parts = []
    for title, cols in (("speed", speed), ("relevance", rel)):
        if not cols:
            continue
        rows = [
            [f"searchlib ÷ {o}", *(ratio(get(BASELINE), get(o)) for _, get in cols)] for o in others
        ]
        parts.append(f"### Ratios, {title}\n\n" + table(["", *(c for c, _ in cols)], rows))
    return "\n\n".join(parts)


def _rel(results: dict[str, Any], coll: str, *keys: str) -> Callable[[str], Any]:
    return lambda n: _get(results["relevance"][coll]["engines"].get(n), *keys)


def main(argv: Sequence[str] | None = None) -> int:
    """Print the report of a saved results file (``--write-results``: into RESULTS.md too)."""
    import argparse

    from benchmarks.gates import judge
    from benchmarks.results_file import update_results_md

    p = argparse.ArgumentParser(prog="python -m benchmarks.report", description=__doc__)
    p.add_argument("results", type=Path, help="a JSON file written by python -m benchmarks")
    p.add_argument("--write-results", action="store_true", help="update benchmarks/RESULTS.md")
    args = p.parse_args(argv)
    results = json.loads(args.results.read_text(encoding="utf-8"))
    text = render(results, judge(results), results["meta"].get("command", ""))
    print(text, end="")
    if args.write_results:
        print(f"{update_results_md('benchmark', text)} updated", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
