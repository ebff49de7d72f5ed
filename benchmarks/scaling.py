"""Build time, index size, peak memory and query latency against corpus size.

``python -m benchmarks.scaling [--corpora fr-small,fr-medium,fr-large] [--engines ...]
[--write-results]``: a manual run, not part of CI. ``fr-large`` (200 MB) is not
stored in shared/: build it first with ``bash ../shared/corpora/build_corpora.sh
/tmp/fr-corpora`` (see :func:`benchmarks.data.corpus_path`; 2 minutes). Nor is
``fr-medium3x``, three times fr-medium's text (92 MB, 32,833 documents): the same
stratified sample of fr-large with a 90 MB budget, so it holds every fr-medium
document and no document twice::

    python3 ../shared/corpora/build_corpora.py --work /tmp/fr-corpora-work \
        --out /tmp/fr-3x --medium-mb 90      # after build_corpora.sh (its downloads)
    mv /tmp/fr-3x/fr-medium.jsonl /tmp/fr-corpora/fr-medium3x.jsonl

Prints a Markdown table (with each engine's growth: its latency on each corpus
divided by its latency on the first), writes ``benchmarks/out/scaling-latest.json`` and, with
``--write-results``, the table into RESULTS.md and the plot into
``benchmarks/scaling.svg``. The plot is plain SVG written here: no plotting
library is needed.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shlex
import shutil
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks.data import (
    corpus_path,
    document_frequencies,
    latency_queries,
    load_docs,
    text_bytes,
)
from benchmarks.engines import PEERS, named_specs
from benchmarks.report import fmt, ratio, table
from benchmarks.results_file import update_results_md
from benchmarks.runner import Runner, machine_info, make_scratch

HERE = Path(__file__).resolve().parent
PLOT = HERE / "scaling.svg"

CDTN_QUERIES = 50
VOCAB_PER_CELL = 5
REPEATS = 2
BASELINE = "searchlib"


def corpus_file(name: str) -> Path:
    """A corpus by name (those of :func:`benchmarks.data.corpus_path`, and
    ``fr-medium3x`` in ``$FR_CORPORA_DIR``, default ``/tmp/fr-corpora``) or by path."""
    if name == "fr-medium3x":
        return Path(os.environ.get("FR_CORPORA_DIR", "/tmp/fr-corpora")) / "fr-medium3x.jsonl"
    return corpus_path(name)


def run_scaling(
    corpora: Sequence[str],
    names: Sequence[str],
    runner: Runner,
    seed: int = 1,
    on_row: Callable[[dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    """One build and one latency run per engine and corpus, smallest corpus first.

    ``on_row`` receives the results so far after each (corpus, engine) pair.
    """
    specs = named_specs(names)
    rows: list[dict[str, Any]] = []
    meta = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine_info(),
        "queries": f"{CDTN_QUERIES} cdtn + {9 * VOCAB_PER_CELL} vocabulary queries, "
        f"one warm-up pass, median of {REPEATS}",
    }
    for n, corpus in enumerate(corpora):
        path = corpus_file(corpus)
        docs = load_docs(path)
        size = text_bytes(docs)
        queries = latency_queries(document_frequencies(docs), CDTN_QUERIES, VOCAB_PER_CELL, seed)
        del docs
        for spec in specs:
            index_dir = runner.scratch / f"{n}-{path.name}" / spec.name
            runner.log(f"scaling {corpus} build {spec.name}")
            build = runner.safe_task(
                {
                    "task": "build",
                    "engine": spec.to_json(),
                    "corpus": str(path),
                    "index_dir": str(index_dir),
                }
            )
            latency: dict[str, Any] = {}
            if not build.get("crashed"):
                runner.log(f"scaling {corpus} latency {spec.name} ({len(queries)} queries)")
                latency = runner.safe_task(
                    {
                        "task": "latency",
                        "engine": spec.to_json(),
                        "index_dir": str(index_dir),
                        "queries": [q.to_json() for q in queries],
                        "repeats": REPEATS,
                        "limit": 10,
                    }
                )
            shutil.rmtree(index_dir, ignore_errors=True)
            rows.append(
                {
                    "corpus": corpus,
                    "engine": spec.name,
                    "bytes": size,
                    "build": build,
                    "latency": latency,
                }
            )
            if on_row is not None:
                on_row({"meta": meta, "rows": rows})
    return {"meta": meta, "rows": rows}


def render(results: dict[str, Any]) -> str:
    """The scaling table, then searchlib's ratios to each peer on each corpus."""
    meta = results["meta"]
    m = meta["machine"]
    v = m.get("versions", {})
    load_end = meta.get("load_avg_end")
    lines = [
        "## Scaling with corpus size",
        "",
        f"- Date: {meta['date']}"
        + (f"; wall time {fmt(meta['wall_s'] / 60, 0)} min" if meta.get("wall_s") else "")
        + (f"; command: `{meta['command']}`" if meta.get("command") else ""),
        f"- searchlib {v.get('searchlib', '?')}"
        + (f" at commit `{v['commit']}`" if v.get("commit") else "")
        + (
            f"; Whoosh {v['whoosh']}, SQLite {v['sqlite']}, tantivy {v.get('tantivy') or '–'}"
            if "whoosh" in v
            else ""
        ),
        f"- Machine: {m['cpu']}, {m['cores']} cores, shared with other jobs; load average at "
        f"start {', '.join(f'{x:.1f}' for x in m['load_avg'])}"
        + (f", at end {', '.join(f'{x:.1f}' for x in load_end)}" if load_end else "")
        + ". Absolute times are noisy: read the ratios within this run.",
        f"- One build per engine and corpus, in a fresh process; latency over {meta['queries']} "
        "(top 10, ms). Plot: `benchmarks/scaling.svg`.",
        "- Peak RSS is the building process's, corpus included: it holds the whole corpus in "
        "memory before the build (RSS before build).",
        "",
    ]
    rows = []
    for r in results["rows"]:
        b, lat = r["build"], r["latency"]
        if b.get("crashed"):
            rows.append(
                [r["corpus"], "", fmt(r["bytes"] / 1e6, 1), r["engine"], "not run", *[""] * 8]
            )
            continue
        rows.append(
            [
                r["corpus"],
                f"{b.get('docs', 0):,}",
                fmt(r["bytes"] / 1e6, 1),
                r["engine"],
                fmt(b.get("seconds"), 1),
                fmt(b.get("mb_per_s"), 2),
                fmt(b.get("peak_rss_mb"), 0),
                fmt(b.get("rss_loaded_mb"), 0),
                fmt((b.get("index_bytes") or math.nan) / 1e6, 1),
                fmt(lat.get("plain", {}).get("p50"), 2),
                fmt(lat.get("plain", {}).get("p95"), 2),
                fmt(lat.get("highlight", {}).get("p50"), 2),
                fmt(lat.get("highlight", {}).get("p95"), 2),
                str(b.get("errors", {}).get("count", 0) + lat.get("errors", {}).get("count", 0)),
            ]
        )
    header = [
        "corpus",
        "docs",
        "MB",
        "engine",
        "build s",
        "MB/s",
        "peak RSS MB",
        "RSS before build MB",
        "index MB",
        "p50",
        "p95",
        "p50 hl",
        "p95 hl",
        "failed checks",
    ]
    text = "\n".join(lines) + "\n" + table(header, rows, "lrrlrrrrrrrrrr") + "\n"
    ratios = ratio_table(results)
    growth = growth_table(results)
    return text + ("\n" + ratios if ratios else "") + ("\n" + growth if growth else "")


def growth_table(results: dict[str, Any]) -> str:
    """Each engine's query latency on each corpus ÷ its latency on the first corpus."""
    rows_of: dict[str, list[dict[str, Any]]] = {}
    for r in results["rows"]:
        if not r["build"].get("crashed") and r["latency"].get("plain"):
            rows_of.setdefault(r["engine"], []).append(r)
    rows = []
    for engine, runs in rows_of.items():
        first = runs[0]
        for r in runs[1:]:
            cells = []
            for q in ("p50", "p95"):
                cells.append(ratio(r["latency"]["plain"].get(q), first["latency"]["plain"].get(q)))
            size = r["bytes"] / first["bytes"]
            rows.append([engine, f"{r['corpus']} ÷ {first['corpus']}", f"{size:.1f}×", *cells])
    if not rows:
        return ""
    return (
        "Growth with the corpus (no snippets): each engine's latency on a corpus ÷ its "
        "latency on the first.\n\n"
        + table(["engine", "corpora", "text", "p50", "p95"], rows, "llrrr")
        + "\n"
    )


def ratio_table(results: dict[str, Any]) -> str:
    """searchlib ÷ each peer on the same corpus (above 1: searchlib's figure is higher)."""
    by = {(r["corpus"], r["engine"]): r for r in results["rows"]}
    figures: tuple[tuple[str, Callable[[dict[str, Any]], float | None]], ...] = (
        ("build MB/s", lambda r: r["build"].get("mb_per_s")),
        ("peak RSS", lambda r: r["build"].get("peak_rss_mb")),
        ("index size", lambda r: r["build"].get("index_bytes")),
        ("p50", lambda r: r["latency"].get("plain", {}).get("p50")),
        ("p95", lambda r: r["latency"].get("plain", {}).get("p95")),
        ("p50 hl", lambda r: r["latency"].get("highlight", {}).get("p50")),
        ("p95 hl", lambda r: r["latency"].get("highlight", {}).get("p95")),
    )
    rows = []
    for (corpus, engine), peer in by.items():
        ours = by.get((corpus, BASELINE))
        if engine == BASELINE or ours is None or ours["build"].get("crashed"):
            continue
        if peer["build"].get("crashed"):
            rows.append([corpus, f"{BASELINE} ÷ {engine}", *["not run"] * len(figures)])
            continue
        rows.append(
            [corpus, f"{BASELINE} ÷ {engine}", *[ratio(get(ours), get(peer)) for _, get in figures]]
        )
    if not rows:
        return ""
    header = ["corpus", "", *[name for name, _ in figures]]
    return (
        "Ratios on the same corpus, searchlib ÷ engine: above 1 means searchlib's figure is "
        "higher (better for MB/s, worse for memory, size and times).\n\n"
        + table(header, rows, "ll" + "r" * len(figures))
        + "\n"
    )


# -- SVG plot ------------------------------------------------------------------------

COLORS = {
    "searchlib": "#d62728",
    "whoosh-std": "#1f77b4",
    "whoosh-fr": "#2ca02c",
    "fts5": "#9467bd",
    "tantivy": "#ff7f0e",
}
PANELS: tuple[tuple[str, Callable[[dict[str, Any]], float | None]], ...] = (
    ("build time (s)", lambda r: r["build"].get("seconds")),
    ("index size (MB)", lambda r: (r["build"].get("index_bytes") or 0) / 1e6 or None),
    ("peak RSS (MB)", lambda r: r["build"].get("peak_rss_mb")),
    ("query p50, top 10 (ms)", lambda r: r["latency"].get("plain", {}).get("p50")),
)


def _log_ticks(lo: float, hi: float) -> list[float]:
    """Powers of ten (with 2 and 5 between when the span is short) covering [lo, hi]."""
    ticks: list[float] = []
    for e in range(math.floor(math.log10(lo)), math.ceil(math.log10(hi)) + 1):
        steps = (1, 2, 5) if math.log10(hi / lo) < 3 else (1,)
        ticks += [m * 10**e for m in steps if lo <= m * 10**e <= hi]
    return ticks or [lo, hi]


def _num(x: float) -> str:
    return f"{x:g}" if x >= 1 else f"{x:.2g}"


def svg_plot(results: dict[str, Any]) -> str:
    """Four log-log panels against corpus size, one line per engine."""
    rows = results["rows"]
    engines = list(dict.fromkeys(r["engine"] for r in rows))
    w, h, pad_l, pad_b, pad_t, pad_r = 330, 250, 58, 40, 28, 12
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{2 * w}" height="{2 * h + 40}" '
        f'font-family="sans-serif" font-size="11">',
        f'<rect width="{2 * w}" height="{2 * h + 40}" fill="white"/>',
    ]
    xs = [r["bytes"] / 1e6 for r in rows]
    x_lo, x_hi = min(xs) / 1.3, max(xs) * 1.3
    for i, (title, get) in enumerate(PANELS):
        ox, oy = (i % 2) * w, (i // 2) * h
        ys = [v for r in rows if (v := get(r))]
        if not ys:
            continue
        y_lo, y_hi = min(ys) / 1.5, max(ys) * 1.5
        pw, ph = w - pad_l - pad_r, h - pad_t - pad_b

        def px(x: float, ox: int = ox, pw: int = pw) -> float:
            return ox + pad_l + pw * math.log(x / x_lo) / math.log(x_hi / x_lo)

        def py(y: float, oy: int = oy, ph: int = ph, lo: float = y_lo, hi: float = y_hi) -> float:
            return oy + pad_t + ph * (1 - math.log(y / lo) / math.log(hi / lo))

        out.append(f'<text x="{ox + pad_l}" y="{oy + 18}" font-weight="bold">{title}</text>')
        out.append(
            f'<rect x="{ox + pad_l}" y="{oy + pad_t}" width="{pw}" height="{ph}" '
            'fill="none" stroke="#999"/>'
        )
        for t in _log_ticks(y_lo, y_hi):
            y = py(t)
            out.append(
                f'<line x1="{ox + pad_l}" x2="{ox + pad_l + pw}" y1="{y:.1f}" y2="{y:.1f}" '
                'stroke="#eee"/>'
            )
            out.append(
                f'<text x="{ox + pad_l - 4}" y="{y + 4:.1f}" text-anchor="end">{_num(t)}</text>'
            )
        for x in sorted(set(xs)):
            out.append(
                f'<text x="{px(x):.1f}" y="{oy + pad_t + ph + 14}" text-anchor="middle">'
                f"{x:.3g} MB</text>"
            )
        for name in engines:
            pts = [
                (px(r["bytes"] / 1e6), py(v)) for r in rows if r["engine"] == name and (v := get(r))
            ]
            color = COLORS.get(name, "#555")
            if len(pts) > 1:
                d = " ".join(f"{x:.1f},{y:.1f}" for x, y in pts)
                out.append(
                    f'<polyline points="{d}" fill="none" stroke="{color}" stroke-width="2"/>'
                )
            out += [f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{color}"/>' for x, y in pts]
    for j, name in enumerate(engines):
        x = 20 + j * (2 * w - 40) / max(len(engines), 1)
        out.append(
            f'<rect x="{x:.0f}" y="{2 * h + 14}" width="14" height="4" '
            f'fill="{COLORS.get(name, "#555")}"/>'
        )
        out.append(f'<text x="{x + 18:.0f}" y="{2 * h + 20}">{name}</text>')
    out.append(
        f'<text x="{w}" y="{2 * h + 36}" text-anchor="middle" fill="#555">'
        f"corpus size (MB of text), log scales; {results['meta']['date']}</text>"
    )
    out.append("</svg>")
    return "\n".join(out) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the scaling benchmark."""
    p = argparse.ArgumentParser(prog="python -m benchmarks.scaling", description=__doc__)
    p.add_argument("--corpora", default="fr-small,fr-medium,fr-large")
    p.add_argument("--engines", default=",".join(["searchlib", *PEERS]))
    p.add_argument("--scratch", help="parent folder for the temporary indexes")
    p.add_argument(
        "--from-json",
        type=Path,
        nargs="+",
        help="render saved runs (their rows joined, in order) instead of running",
    )
    p.add_argument("--out", type=Path, default=HERE / "out" / "scaling-latest.json")
    p.add_argument("--write-results", action="store_true", help="update RESULTS.md and the plot")
    args = p.parse_args(argv)
    if args.from_json:
        saved = [json.loads(f.read_text(encoding="utf-8")) for f in args.from_json]
        results = {"meta": saved[0]["meta"], "rows": [r for x in saved for r in x["rows"]]}
    else:
        corpora = [c.strip() for c in args.corpora.split(",") if c.strip()]
        names = [e.strip() for e in args.engines.split(",") if e.strip()]
        try:
            named_specs(names)
        except ValueError as e:
            p.error(str(e))
        missing = [c for c in corpora if not corpus_file(c).is_file()]
        if missing:
            print(
                f"error: corpus not found: {', '.join(map(str, map(corpus_file, missing)))}",
                file=sys.stderr,
            )
            return 1
        args.out.parent.mkdir(parents=True, exist_ok=True)

        def save(partial: dict[str, Any]) -> None:  # after each row: a long run keeps its data
            args.out.write_text(json.dumps(partial, indent=1) + "\n", encoding="utf-8")

        command = shlex.join(
            ["python", "-m", "benchmarks.scaling", *(sys.argv[1:] if argv is None else argv)]
        )
        scratch = make_scratch(args.scratch)
        start = time.monotonic()
        try:
            results = run_scaling(corpora, names, Runner(scratch), on_row=save)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        results["meta"].update(
            command=command,
            wall_s=round(time.monotonic() - start, 1),
            load_avg_end=os.getloadavg(),
        )
        save(results)
    text = render(results)
    print(text, end="")
    if args.write_results:
        update_results_md("scaling", text)
        PLOT.write_text(svg_plot(results), encoding="utf-8")
        print(f"RESULTS.md and {PLOT.name} updated", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
