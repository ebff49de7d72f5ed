"""Speed probe: searchlib against stock Whoosh ``LanguageAnalyzer("fr")``, same run.

A small harness for the performance work (the main benchmark harness is the
``benchmarks`` package above it). Each build runs in a child process so that its peak RSS is its
own; queries run in this process against the indexes just built.

    python benchmarks/studies/perf_probe.py --corpus ../shared/eval-public/cdtn-requetes \\
        --queries ../shared/eval-public/cdtn-requetes/queries.jsonl \\
        --queries ../shared/eval-public/piaf-v1.1-passages/queries.jsonl

The stock peer indexes one Whoosh document per corpus document (``id``,
``title``, ``text``, all stored) and runs each query as an OR of its analysed
terms over ``title`` and ``text`` (no query parser: Whoosh's reads ``?`` as a
wildcard). Every timed query checks its result (a benchmark that returns
nothing proves nothing): the probe fails if a query with searchable terms
returns no hit on both engines.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
SCRATCH = HERE.parent / ".scratch"  # benchmarks/.scratch, ignored by git


def _corpus_file(corpus: str) -> Path:
    p = Path(corpus)
    return p / "corpus.jsonl" if p.is_dir() else p


def _docs(path: Path, limit: int | None) -> Iterator[Any]:
    from searchlib.corpus.loaders import load_corpus

    for n, doc in enumerate(load_corpus(path)):
        if limit is not None and n >= limit:
            return
        yield doc


def _size_mb(path: Path, limit: int | None) -> float:
    return sum(len(d.title.encode()) + len(d.text.encode()) for d in _docs(path, limit)) / 1e6


# -- builds (child processes) -------------------------------------------------


def build_searchlib(corpus: Path, out: Path, limit: int | None, opts: dict[str, Any]) -> int:
    from searchlib import Index

    with Index.create(out, overwrite=True) as ix:
        return ix.add(_docs(corpus, limit), **opts)


def stock_schema() -> Any:
    from whoosh.analysis import LanguageAnalyzer
    from whoosh.fields import ID, TEXT, Schema

    ana = LanguageAnalyzer("fr")
    return Schema(
        id=ID(stored=True, unique=True),
        title=TEXT(analyzer=ana, stored=True),
        text=TEXT(analyzer=ana, stored=True),
    )


def build_whoosh(corpus: Path, out: Path, limit: int | None, opts: dict[str, Any]) -> int:
    import whoosh.index

    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    ix = whoosh.index.create_in(str(out), stock_schema())
    w = ix.writer(**opts)
    n = 0
    for doc in _docs(corpus, limit):
        w.add_document(id=doc.id, title=doc.title, text=doc.text)
        n += 1
    w.commit()
    return n


def build_searchlib_ref(corpus: Path, out: Path, limit: int | None, opts: dict[str, Any]) -> int:
    """searchlib with the title/text analyzer run filter by filter (``fused=False``)."""
    from searchlib import FrenchAnalyzer, Index

    with Index.create(out, overwrite=True, analyzer=FrenchAnalyzer(fused=False)) as ix:
        return ix.add(_docs(corpus, limit), **opts)


BUILDERS: dict[str, Callable[[Path, Path, int | None, dict[str, Any]], int]] = {
    "searchlib": build_searchlib,
    "searchlib-ref": build_searchlib_ref,
    "whoosh": build_whoosh,
}


def searchlib_runner(path: Path, reference: bool = False) -> Callable[..., int]:
    """Top-10 collapsed search; ``reference`` runs every query through Whoosh's collectors."""
    import dataclasses

    from searchlib import Index

    ix = Index.open(path)
    if not hasattr(ix, "search_context"):  # a searchlib from before it (PYTHONPATH=...)
        return lambda q, hl=False: len(
            ix.search(q, limit=10, collapse=True, highlight_hits=hl).hits
        )
    from searchlib.engine.pipeline import Pipeline
    from searchlib.engine.request import SearchRequest

    def run(q: str, hl: bool = False) -> int:
        context = ix.search_context()
        if reference:
            context = dataclasses.replace(context, fast_path=False)
        return len(
            Pipeline(context).run(SearchRequest(q, 10, collapse=True, highlight_hits=hl)).hits
        )

    return run


def child_build(engine: str, corpus: Path, out: Path, limit: int | None, opts: str) -> None:
    t0 = time.perf_counter()
    r0 = resource.getrusage(resource.RUSAGE_SELF)
    n = BUILDERS[engine](corpus, out, limit, json.loads(opts))
    secs = time.perf_counter() - t0
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)  # procs > 1
    cpu = me.ru_utime + me.ru_stime - r0.ru_utime - r0.ru_stime + kids.ru_utime + kids.ru_stime
    rss = me.ru_maxrss / 1024
    rss_children = kids.ru_maxrss / 1024
    size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file()) / 1e6
    print(
        json.dumps(
            {
                "docs": n,
                "secs": secs,
                "cpu": cpu,
                "rss_mb": rss,
                "child_rss_mb": rss_children,
                "index_mb": size,
            }
        )
    )


def run_build(
    engine: str, corpus: Path, out: Path, limit: int | None, opts: dict[str, Any]
) -> dict[str, Any]:
    cmd = [
        sys.executable,
        __file__,
        "_build",
        engine,
        str(corpus),
        str(out),
        str(limit or 0),
        json.dumps(opts),
    ]
    res = subprocess.run(cmd, check=True, capture_output=True, text=True)
    return dict(json.loads(res.stdout.strip().splitlines()[-1]))


# -- queries ----------------------------------------------------------------------


def load_sample(path: Path, n: int, seed: int = 1) -> list[str]:
    texts = [json.loads(line)["text"] for line in path.open(encoding="utf-8") if line.strip()]
    if n and n < len(texts):
        texts = random.Random(seed).sample(texts, n)
    return texts


class StockSearcher:
    def __init__(self, path: Path) -> None:
        import whoosh.index
        from whoosh.scoring import BM25F

        self.ix = whoosh.index.open_dir(str(path))
        self.searcher = self.ix.searcher(weighting=BM25F())
        self.analyzer = self.ix.schema["text"].analyzer

    def query(self, text: str) -> int:
        from whoosh import query as wq

        terms = list(dict.fromkeys(t.text for t in self.analyzer(text)))
        if not terms:
            return -1
        q = wq.Or([wq.Term(f, t) for t in terms for f in ("title", "text")])
        return len(self.searcher.search(q, limit=10).top_n)


def time_queries(
    fn: Callable[[str], int], queries: list[str]
) -> tuple[list[float], list[float], int]:
    """Wall and CPU milliseconds per query (the machine is shared: CPU time is steadier)."""
    for q in queries[:20]:  # warm caches
        fn(q)
    times: list[float] = []
    cpu: list[float] = []
    empty = 0
    for q in queries:
        t0 = time.perf_counter()
        c0 = time.process_time()
        n = fn(q)
        cpu.append((time.process_time() - c0) * 1000)
        times.append((time.perf_counter() - t0) * 1000)
        empty += n == 0
    return times, cpu, empty


def summary(times: list[float], cpu: list[float]) -> str:
    from benchmarks.stats import percentile

    return (
        f"wall p50 {statistics.median(times):7.2f} p95 {percentile(times, 95):7.2f}  "
        f"cpu p50 {statistics.median(cpu):7.2f} p95 {percentile(cpu, 95):7.2f} ms"
    )


def main(argv: list[str] | None = None) -> int:
    from benchmarks.stats import percentile

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--corpus", required=True, help="corpus folder or JSONL file")
    ap.add_argument("--queries", action="append", default=[], help="queries.jsonl (repeatable)")
    ap.add_argument("--docs", type=int, default=0, help="index only the first N documents")
    ap.add_argument("--sample", type=int, default=500, help="queries per set (seed 1)")
    ap.add_argument("--engines", default="whoosh,searchlib")
    ap.add_argument("--opts", default="{}", help="JSON keyword options for Index.add")
    ap.add_argument(
        "--whoosh-opts", default="{}", help="JSON keyword options for stock Whoosh's writer()"
    )
    ap.add_argument("--reuse", action="store_true", help="reuse indexes already built")
    ap.add_argument("--no-highlight", action="store_true")
    ap.add_argument("--tag", default="", help="suffix for the scratch index folders")
    args = ap.parse_args(argv)

    corpus = _corpus_file(args.corpus)
    limit = args.docs or None
    engines = args.engines.split(",")
    mb = _size_mb(corpus, limit)
    print(f"corpus {corpus} ({mb:.1f} MB{f', first {limit} docs' if limit else ''})")
    builds: dict[str, dict[str, Any]] = {}
    for engine in engines:
        out = SCRATCH / f"{engine}-{corpus.parent.name}-{limit or 'all'}{args.tag}"
        if not (args.reuse and out.exists()):
            opts = json.loads(args.whoosh_opts if engine == "whoosh" else args.opts)
            b = run_build(engine, corpus, out, limit, opts)
            builds[engine] = b
            print(
                f"build {engine:14s} wall {b['secs']:6.1f} s  cpu {b['cpu']:6.1f} s "
                f"({mb / b['cpu']:5.2f} MB/cpu-s)  peak RSS "
                f"{max(b['rss_mb'], b['child_rss_mb']):5.0f} MB  index {b['index_mb']:6.1f} MB"
            )
    for engine, b in builds.items():
        if engine != "whoosh" and "whoosh" in builds:
            ratio = builds["whoosh"]["cpu"] / b["cpu"]
            print(f"build throughput {engine}/whoosh (cpu): {ratio:.2f}x")

    for qpath in args.queries:
        queries = load_sample(Path(qpath), args.sample)
        print(f"queries {qpath} ({len(queries)})")
        cpu50: dict[str, float] = {}
        cpu95: dict[str, float] = {}
        for engine in engines:
            out = (
                SCRATCH / f"{engine.split('-')[0]}-{corpus.parent.name}-{limit or 'all'}{args.tag}"
            )
            if engine == "whoosh":
                ss = StockSearcher(out)
                times, cpu, empty = time_queries(ss.query, queries)
            else:
                run = searchlib_runner(out, reference=engine.endswith("-ref"))
                times, cpu, empty = time_queries(run, queries)
                if not args.no_highlight:
                    htimes, hcpu, _ = time_queries(lambda q, run=run: run(q, True), queries)
                    extra = statistics.median(hcpu) - statistics.median(cpu)
                    print(
                        f"  {engine + '+hl':16s} {summary(htimes, hcpu)}  (highlight +{extra:.2f})"
                    )
            cpu50[engine], cpu95[engine] = statistics.median(cpu), percentile(cpu, 95)
            print(f"  {engine:16s} {summary(times, cpu)}  ({empty} empty)")
        for engine in engines:
            if engine != "whoosh" and "whoosh" in cpu50:
                print(
                    f"  cpu ratio {engine}/whoosh: p50 {cpu50[engine] / cpu50['whoosh']:.3f}  "
                    f"p95 {cpu95[engine] / cpu95['whoosh']:.3f}"
                )
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "_build":
        _, _, engine, corpus, out, limit, opts = sys.argv
        child_build(engine, Path(corpus), Path(out), int(limit) or None, opts)
        sys.exit(0)
    sys.exit(main())
