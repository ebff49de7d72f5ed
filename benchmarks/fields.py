"""The "filters, facets, sort" table: declared fields, searchlib against tantivy and FTS5.

Run (outside CI; about 30 minutes on a loaded 2-core machine)::

    nice python -m benchmarks.fields --write-results

On each corpus every engine indexes the documents with two extra fields:
``source`` (a keyword: the record's ``source`` key on fr-medium; on cdtn the
prefix of the id, ``sp``, ``cdt``, ``mt``, ``contrib``) and ``chars`` (a
number: the length of the text, a sort key). ``fr-medium-x3`` is fr-medium
three times over (ids suffixed ``~1``, ``~2``): over 100,000 passages. Then,
in the same process, one engine after the other, it times:

* **plain / filtered**: each query of the set unfiltered, then with
  ``source:`` the most frequent source (top 10);
* **facets**: the one-word query ``de``, which matches most documents, top
  10 and the count per source over all the matches (and the same query
  alone, top 10, to see what counting adds);
* **relevance / sorted**: each query top 10 by relevance, then by ``chars``
  descending.

searchlib searches passages (``collapse=False``), its unit of indexing; the
peers index whole documents. The peers: tantivy-py (the French analyzer of
:mod:`benchmarks.engines` without its stop-word filter, so that ``de`` is
indexed as in the other two; ``source`` a raw, fast text field; filter as a
``Must`` term clause; facets by a ``terms`` aggregation; sort by
``order_by_field`` on a fast integer), SQLite FTS5
(``source`` and ``chars`` unindexed columns: ``AND source = ?``,
``GROUP BY source``, ``ORDER BY chars DESC``). Each timing is the median
of ``--repeat`` runs of the query; the table gives p50 and p95 over the
queries, and searchlib's ratios to its own baseline in the same run.
"""

from __future__ import annotations

import argparse
import itertools
import json
import shutil
import sqlite3
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from benchmarks.data import (
    collection_dir,
    corpus_path,
    document_frequencies,
    load_docs,
    vocabulary_queries,
)
from benchmarks.engines import fts5_query, tantivy_analyzer
from benchmarks.stats import percentile
from searchlib import Document, Index
from searchlib.analysis.analyzer import normalize_text
from searchlib.app.evaluate import load_queries
from searchlib.fields import Facet, Keyword, Number

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
BEGIN, END = "<!-- BEGIN fields -->", "<!-- END fields -->"


FACET_QUERY = "de"
"""A word in most documents of every corpus (a stop word, indexed by every engine here)."""


def corpus(name: str) -> list[Document]:
    """The documents of ``fr-medium``, ``fr-medium-x3`` or ``cdtn``, with
    ``source`` and ``chars``."""
    if name.endswith("-x3"):
        base = corpus(name.removesuffix("-x3"))
        return base + [
            Document(f"{d.id}~{k}", d.title, d.text, d.fields) for k in (1, 2) for d in base
        ]
    if name == "cdtn":
        docs = load_docs(collection_dir("cdtn") / "corpus.jsonl")
        source = [d.id.partition(":")[0] for d in docs]
    else:
        docs = load_docs(corpus_path(name))
        source = [str(d.fields.get("source", "none")) for d in docs]
    return [
        Document(d.id, d.title, d.text, {**d.fields, "source": s, "chars": len(d.text)})
        for d, s in zip(docs, source, strict=True)
    ]


def query_set(name: str, docs: Sequence[Document], n: int, seed: int) -> list[str]:
    """``n`` queries: cdtn's own (every k-th), or vocabulary queries of fr-medium."""
    name = name.removesuffix("-x3")
    if name == "cdtn":
        queries = [text for _, text in load_queries(collection_dir("cdtn") / "queries.jsonl")]
        step = max(1, len(queries) // n)
        return queries[::step][:n]
    per_cell = max(1, n // 9)
    return [q.text for q in vocabulary_queries(document_frequencies(docs), per_cell, seed)][:n]


# -- engines -------------------------------------------------------------------------------


class Searchlib:
    name = "searchlib"

    def build(self, docs: Sequence[Document], path: Path) -> None:
        fields = {"source": Keyword(), "chars": Number()}
        Index.build(path, docs, fields=fields).close()
        self.ix = Index.open(path)
        self.ix.time_limit = None

    def search(self, q: str, *, source: str | None = None, sort: bool = False) -> int:
        res = self.ix.search(
            q,
            highlight_hits=False,
            filter={"source": source} if source else None,
            sort="-chars" if sort else None,
        )
        return res.total

    def facets(self, q: str) -> dict[str, int]:
        res = self.ix.search(q, highlight_hits=False, facets=[Facet("source")])
        return res.facets["source"]

    def plain_total(self, q: str) -> int:
        return self.ix.search(q, highlight_hits=False).total


class Tantivy:
    name = "tantivy"

    def build(self, docs: Sequence[Document], path: Path) -> None:
        import tantivy

        self.analyzer = tantivy_analyzer(stopwords=False)
        sb = tantivy.SchemaBuilder()
        sb.add_text_field("id", stored=True, tokenizer_name="raw")
        sb.add_text_field("title", stored=True, tokenizer_name="fr")
        sb.add_text_field("text", stored=True, tokenizer_name="fr")
        sb.add_text_field("source", stored=True, tokenizer_name="raw", fast=True)
        sb.add_integer_field("chars", stored=True, fast=True)
        path.mkdir(parents=True, exist_ok=True)
        ix = tantivy.Index(sb.build(), path=str(path))
        ix.register_tokenizer("fr", self.analyzer)
        writer = ix.writer(heap_size=256_000_000, num_threads=1)
        for d in docs:
            writer.add_document(
                tantivy.Document(
                    id=d.id,
                    title=d.title,
                    text=d.text,
                    source=d.fields["source"],
                    chars=d.fields["chars"],
                )
            )
        writer.commit()
        writer.wait_merging_threads()
        self.ix = tantivy.Index.open(str(path))
        self.ix.register_tokenizer("fr", self.analyzer)
        self.searcher = self.ix.searcher()

    def _query(self, text: str, source: str | None = None) -> Any:
        import tantivy

        schema = self.ix.schema
        terms = dict.fromkeys(self.analyzer.analyze(normalize_text(text)))
        words = tantivy.Query.boolean_query(
            [
                (tantivy.Occur.Should, tantivy.Query.term_query(schema, f, t))
                for t in terms
                for f in ("title", "text")
            ]
        )
        if source is None:
            return words
        return tantivy.Query.boolean_query(
            [
                (tantivy.Occur.Must, words),
                (tantivy.Occur.Must, tantivy.Query.term_query(schema, "source", source)),
            ]
        )

    def search(self, q: str, *, source: str | None = None, sort: bool = False) -> int:
        import tantivy

        query = self._query(q, source)
        if sort:
            res = self.searcher.search(query, 10, order_by_field="chars", order=tantivy.Order.Desc)
        else:
            res = self.searcher.search(query, 10)
        _ = [self.searcher.doc(addr)["id"] for _, addr in res.hits]
        return int(res.count)

    def facets(self, q: str) -> dict[str, int]:
        query = self._query(q)
        res = self.searcher.search(query, 10)
        _ = [self.searcher.doc(addr)["id"] for _, addr in res.hits]
        agg = self.searcher.aggregate(
            query, {"source": {"terms": {"field": "source", "size": 1000}}}
        )
        return {b["key"]: int(b["doc_count"]) for b in agg["source"]["buckets"]}

    def plain_total(self, q: str) -> int:
        return int(self.searcher.search(self._query(q), 1).count)


class Fts5:
    name = "fts5"

    def build(self, docs: Sequence[Document], path: Path) -> None:
        path.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(path / "fts.db")
        self.db.execute(
            "CREATE VIRTUAL TABLE docs USING fts5(id UNINDEXED, title, text, source UNINDEXED, "
            "chars UNINDEXED, tokenize='unicode61 remove_diacritics 2')"
        )
        with self.db:
            self.db.executemany(
                "INSERT INTO docs VALUES (?, ?, ?, ?, ?)",
                ((d.id, d.title, d.text, d.fields["source"], d.fields["chars"]) for d in docs),
            )

    def search(self, q: str, *, source: str | None = None, sort: bool = False) -> int:
        match = fts5_query(q)
        order = "chars DESC" if sort else "bm25(docs)"
        where = "docs MATCH ?" + (" AND source = ?" if source else "")
        args: tuple[Any, ...] = (match, source) if source else (match,)
        rows = self.db.execute(f"SELECT id FROM docs WHERE {where} ORDER BY {order} LIMIT 10", args)
        return len(rows.fetchall())

    def facets(self, q: str) -> dict[str, int]:
        match = fts5_query(q)
        self.db.execute(
            "SELECT id FROM docs WHERE docs MATCH ? ORDER BY bm25(docs) LIMIT 10", (match,)
        ).fetchall()
        rows = self.db.execute(
            "SELECT source, count(*) FROM docs WHERE docs MATCH ? GROUP BY source", (match,)
        )
        return {str(s): int(n) for s, n in rows}

    def plain_total(self, q: str) -> int:
        (n,) = self.db.execute(
            "SELECT count(*) FROM docs WHERE docs MATCH ?", (fts5_query(q),)
        ).fetchone()
        return int(n)


ENGINES: dict[str, Callable[[], Any]] = {"searchlib": Searchlib, "tantivy": Tantivy, "fts5": Fts5}


# -- timing --------------------------------------------------------------------------------


def timed(call: Callable[[], object], repeat: int) -> float:
    """Median milliseconds of ``repeat`` calls (after one warm-up call)."""
    call()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        call()
        times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    return times[len(times) // 2]


def p50_p95(values: Sequence[float]) -> tuple[float, float]:
    return percentile(values, 50), percentile(values, 95)


def measure(
    engine: Any, queries: Sequence[str], source: str, word: str, repeat: int
) -> dict[str, Any]:
    """Every timing of one engine on one corpus."""
    out: dict[str, Any] = {}
    out["plain"] = p50_p95([timed(lambda q=q: engine.search(q), repeat) for q in queries])
    out["filtered"] = p50_p95(
        [timed(lambda q=q: engine.search(q, source=source), repeat) for q in queries]
    )
    out["sorted"] = p50_p95(
        [timed(lambda q=q: engine.search(q, sort=True), repeat) for q in queries]
    )
    facet_times = [timed(lambda: engine.facets(word), repeat * 5) for _ in range(5)]
    out["facets"] = p50_p95(facet_times)
    # The same query without counting: what the facet counts add to it.
    out["facet_query"] = p50_p95([timed(lambda: engine.search(word), repeat * 5) for _ in range(5)])
    counts = engine.facets(word)
    out["facet_matches"] = sum(counts.values())
    out["facet_values"] = len(counts)
    return out


def run(
    corpora: Sequence[str], engines: Sequence[str], n: int, repeat: int, seed: int
) -> dict[str, Any]:
    report: dict[str, Any] = {"corpora": {}}
    scratch = Path(tempfile.mkdtemp(prefix="searchlib-fields-bench-"))
    try:
        for name in corpora:
            docs = corpus(name)
            queries = query_set(name, docs, n, seed)
            sources = Counter(str(d.fields["source"]) for d in docs)
            source = sources.most_common(1)[0][0]
            word = FACET_QUERY
            entry: dict[str, Any] = {
                "documents": len(docs),
                "queries": len(queries),
                "filter": f"source:{source} ({sources[source]:,} of {len(docs):,} documents)",
                "facet_query": word,
                "engines": {},
            }
            for label in engines:
                engine = ENGINES[label]()
                t0 = time.perf_counter()
                engine.build(docs, scratch / f"{name}-{label}")
                built = time.perf_counter() - t0
                result = measure(engine, queries, source, word, repeat)
                result["build_s"] = round(built, 1)
                if label == "searchlib":
                    result["passages"] = engine.ix.stats().passages
                entry["engines"][label] = result
            report["corpora"][name] = entry
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return report


def table(report: dict[str, Any]) -> str:
    """The Markdown table of a run."""
    lines = []
    for name, entry in report["corpora"].items():
        lines.append(
            f"**{name}**: {entry['documents']:,} documents, {entry['queries']} queries; filter "
            f"{entry['filter']}; facet query `{entry['facet_query']}`."
        )
        lines.append("")
        lines.append(
            "| engine | plain p50/p95 | filtered p50/p95 | facet query alone p50/p95 "
            "| facets p50/p95 (matches, values) | sorted p50/p95 |"
        )
        lines.append("|---|---|---|---|---|---|")
        for label, r in entry["engines"].items():

            def cell(key: str, r: dict[str, Any] = r) -> str:
                return f"{r[key][0]:.2f} / {r[key][1]:.2f} ms"

            lines.append(
                f"| {label} | {cell('plain')} | {cell('filtered')} | {cell('facet_query')} "
                f"| {cell('facets')} "
                f"({r['facet_matches']:,}, {r['facet_values']}) | {cell('sorted')} |"
            )
        ours = entry["engines"].get("searchlib")
        if ours:
            notes = [
                f"filtered / plain {ours['filtered'][0] / ours['plain'][0]:.2f}× at p50, "
                f"{ours['filtered'][1] / ours['plain'][1]:.2f}× at p95",
                f"sorted / relevance {ours['sorted'][0] / ours['plain'][0]:.2f}× at p50, "
                f"{ours['sorted'][1] / ours['plain'][1]:.2f}× at p95",
            ]
            tv = entry["engines"].get("tantivy")
            if tv:
                alone = ours["facet_query"][0] / tv["facet_query"][0]
                notes.append(
                    f"facets / tantivy's aggregation {ours['facets'][0] / tv['facets'][0]:.2f}× "
                    f"at p50 (the query alone: {alone:.2f}×)"
                )
            lines.append("")
            lines.append(
                f"searchlib ({ours.get('passages', 0):,} passages): " + "; ".join(notes) + "."
            )
        lines.append("")
    return "\n".join(lines)


def write_results(report: dict[str, Any], command: str) -> None:
    """Replace the fields section of RESULTS.md (appended the first time)."""
    body = (
        f"{BEGIN}\n## Filters, facets, sort\n\nCommand: `{command}` "
        f"({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}). See the docstring of "
        "`benchmarks/fields.py` for what is timed.\n\n" + table(report) + f"\n{END}\n"
    )
    text = RESULTS.read_text(encoding="utf-8")
    if BEGIN in text and END in text:
        head, _, rest = text.partition(BEGIN)
        _, _, tail = rest.partition(END + "\n")
        text = head + body + tail
    else:
        text = text.rstrip("\n") + "\n\n" + body
    RESULTS.write_text(text, encoding="utf-8")


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.fields", description=__doc__)
    p.add_argument(
        "--corpus", action="append", choices=("fr-medium", "cdtn", "fr-medium-x3", "fr-small")
    )
    p.add_argument("--engine", action="append", choices=tuple(ENGINES))
    p.add_argument("--queries", type=int, default=100, help="queries per corpus (default 100)")
    p.add_argument("--repeat", type=int, default=5, help="timed runs per query (default 5)")
    p.add_argument("--seed", type=int, default=15)
    p.add_argument("--json", metavar="OUT", help="also write the raw figures here")
    p.add_argument("--write-results", action="store_true", help="rewrite RESULTS.md's section")
    p.add_argument("--render", metavar="JSON", help="only render a saved --json run")
    args = p.parse_args(argv)
    corpora = args.corpus or ["fr-medium", "cdtn", "fr-medium-x3"]
    engines = args.engine or list(ENGINES)
    if args.render:
        report = json.loads(Path(args.render).read_text(encoding="utf-8"))
    else:
        report = run(corpora, engines, args.queries, args.repeat, args.seed)
    print(table(report))
    if args.json and not args.render:
        Path(args.json).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    if args.write_results:
        command = (
            "nice python -m benchmarks.fields "
            + " ".join(itertools.chain.from_iterable((f"--corpus {c}",) for c in corpora))
            + " --write-results"
        )
        write_results(report, command)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
