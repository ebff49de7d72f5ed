"""The engines under test: searchlib (and its variants) and the peers.

Every engine answers the same four calls on the same data, so one harness
times and scores them all:

* ``build(docs, path)``: index ``docs`` into the empty folder ``path`` and commit;
* ``open(path)``: open that index for searching;
* ``search(query, limit, highlight)``: the top ``limit`` documents for a query
  typed by a user, with an HTML snippet of the title and the text when
  ``highlight`` is true;
* ``count_tokens(text)``: run the engine's analyzer over ``text``.

Peers take the query as the OR of its analysed terms, over ``title`` and
``text``, each with its library's default scoring:

* ``whoosh-std``: Whoosh 2.7 ``StandardAnalyzer`` (English stop words, no
  stemming, accents kept), BM25F defaults (K1 1.2, B 0.75). The query is
  analysed with the field analyzer and turned into ``Or(Term(title, t),
  Term(text, t), ...)``: Whoosh's ``QueryParser`` is not used, because it reads
  ``?`` as a wildcard and ``AND``/``OR``/``NOT`` as operators.
* ``whoosh-fr``: the same with ``LanguageAnalyzer("fr")`` (Snowball French stop
  words and pure-Python Snowball stemming, accents kept).
* ``fts5``: SQLite FTS5, ``tokenize='unicode61 remove_diacritics 2'``, ranked by
  ``bm25()`` with equal column weights; the query is each ``\\w+`` token
  double-quoted (so FTS syntax never breaks) joined by ``OR``; snippets by
  ``snippet()`` (text, 32 tokens) and ``highlight()`` (title).
* ``tantivy``: tantivy-py, analyzer ``simple`` tokenizer, ``remove_long(40)``,
  ``lowercase``, ``stopword("french")``, ``ascii_fold``, ``stemmer("french")``
  (stop words are removed before folding because tantivy's list is accented);
  BM25; the query is a ``BooleanQuery`` of ``Should`` term queries over the
  analysed terms; snippets by ``SnippetGenerator`` (220 characters). The writer
  uses one thread, like every other engine here.
* ``bm25s``: bm25s (pure Python + NumPy) with its own French stop words and
  PyStemmer's French Snowball stemmer, as in the reference notes: tokenizer
  ``(?u)\\b\\w\\w+\\b`` on lowercased text (accents kept, one-letter tokens
  such as the ``l`` of ``l'URL`` dropped), Lucene BM25 with bm25s's defaults
  (k1 1.5, b 0.75). bm25s has one field: title and text are indexed together.
  The query goes through the same ``bm25s.tokenize`` and ``BM25.retrieve``
  (a repeated query term counts twice, as in bm25s); documents with a zero
  score (no query term) are not returned. It makes no snippets: ``highlight``
  is ignored and the latency task skips its highlighting mode (reported as
  ``–``), see :attr:`Bm25sEngine.highlights`.
* ``searchlib``: :meth:`searchlib.Index.search` with ``collapse=True`` (one hit
  per document, as the peers give), its own query language and ranking. A
  variant is searchlib with other :class:`searchlib.Ranking` values, other
  search options, or an engine made by a factory (see :func:`make_engine`).
"""

from __future__ import annotations

import dataclasses
import importlib
import json
import re
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from searchlib import Document, Index, QuerySyntaxError, Ranking
from searchlib.analysis.analyzer import FrenchAnalyzer, normalize_text

SNIPPET_CHARS = 220
"""Target size of a text snippet, the same for every engine (searchlib's default)."""


@dataclass(frozen=True, slots=True)
class Result:
    """One hit as the harness sees it."""

    doc_id: str
    snippet: str = ""


@dataclass(frozen=True, slots=True)
class EngineSpec:
    """What to run in a worker process: a kind of engine and its options.

    Attributes:
        name: label in tables (unique within a run).
        kind: ``searchlib``, ``whoosh-std``, ``whoosh-fr``, ``fts5``, ``tantivy`` or
            ``bm25s``.
        options: for ``searchlib``: ``ranking`` (keyword arguments of
            :class:`searchlib.Ranking`), ``search`` (keyword arguments of
            :meth:`searchlib.Index.search`), ``add`` (of :meth:`searchlib.Index.add`)
            or ``factory`` (``"module:callable"``
            returning an :class:`Engine`, called with the spec).
    """

    name: str
    kind: str
    options: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """JSON-ready form (sent to worker processes)."""
        return {"name": self.name, "kind": self.kind, "options": self.options}

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> EngineSpec:
        """Inverse of :meth:`to_json`."""
        return cls(str(obj["name"]), str(obj["kind"]), dict(obj.get("options") or {}))


class Engine(Protocol):
    """What the harness needs from an engine."""

    def build(self, docs: Sequence[Document], path: Path) -> int:
        """Index ``docs`` into folder ``path`` and commit; return the number indexed."""
        ...

    def open(self, path: Path) -> None:
        """Open the index in ``path`` for searching."""
        ...

    def search(self, query: str, limit: int, highlight: bool) -> list[Result]:
        """Top ``limit`` documents for ``query``."""
        ...

    def count_tokens(self, text: str) -> int:
        """Number of index terms the analyzer makes of ``text``."""
        ...

    def close(self) -> None:
        """Release the index."""
        ...


def folder_size(path: Path) -> int:
    """Bytes of all files under ``path``."""
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


# -- searchlib -----------------------------------------------------------------


class SearchlibEngine:
    """searchlib itself, with optional ranking and search options."""

    def __init__(
        self,
        ranking: Ranking | None = None,
        search: dict[str, Any] | None = None,
        add: dict[str, Any] | None = None,
    ):
        self.ranking = ranking or Ranking()
        self.add_options = dict(add or {})
        self.options = dict(search or {})
        self.options.setdefault("collapse", True)
        self.ix: Index | None = None
        self.analyzer = FrenchAnalyzer()

    def build(self, docs: Sequence[Document], path: Path) -> int:
        with Index.create(path, overwrite=True) as ix:
            return ix.add(docs, **self.add_options)

    def open(self, path: Path) -> None:
        self.ix = Index.open(path)
        self.ix.ranking = self.ranking  # for this run only: the index folder is not written

    def index(self) -> Index:
        """The open index."""
        if self.ix is None:
            raise RuntimeError("open() the engine first")
        return self.ix

    def search(self, query: str, limit: int, highlight: bool) -> list[Result]:
        try:
            res = self.index().search(query, limit=limit, highlight_hits=highlight, **self.options)
        except QuerySyntaxError:
            return []  # as app.evaluate.run_queries does: no ranking for a malformed query
        if not highlight:
            return [Result(h.doc_id) for h in res.hits]
        return [
            Result(h.doc_id, h.title_snippet.to_html() + "\n" + h.snippet.to_html())
            for h in res.hits
        ]

    def count_tokens(self, text: str) -> int:
        return sum(1 for _ in self.analyzer(text, positions=True, chars=True, mode="index"))

    def close(self) -> None:
        if self.ix is not None:
            self.ix.close()


# -- Whoosh with stock analyzers --------------------------------------------------


class WhooshEngine:
    """Whoosh 2.7 with a stock analyzer, title and text fields, BM25F defaults."""

    def __init__(self, language: str | None):
        from whoosh.analysis import LanguageAnalyzer, StandardAnalyzer

        self.analyzer = LanguageAnalyzer(language) if language else StandardAnalyzer()
        self.ix: Any = None
        self.searcher: Any = None

    def build(self, docs: Sequence[Document], path: Path) -> int:
        import whoosh.index
        from whoosh.fields import ID, TEXT, Schema

        schema = Schema(
            id=ID(stored=True),
            title=TEXT(analyzer=self.analyzer, stored=True),
            text=TEXT(analyzer=self.analyzer, stored=True),
        )
        path.mkdir(parents=True, exist_ok=True)
        ix = whoosh.index.create_in(str(path), schema)
        writer = ix.writer(limitmb=128)  # the same pool size searchlib uses
        count = 0
        try:
            for doc in docs:
                writer.add_document(id=doc.id, title=doc.title, text=doc.text)
                count += 1
        except BaseException:
            writer.cancel()
            raise
        writer.commit()
        return count

    def open(self, path: Path) -> None:
        import whoosh.index

        self.ix = whoosh.index.open_dir(str(path))
        self.searcher = self.ix.searcher()  # BM25F(B=0.75, K1=1.2)

    def query(self, text: str) -> Any:
        """OR of the analysed terms over title and text (``None`` if no term)."""
        from whoosh import query as wq

        terms = dict.fromkeys(t.text for t in self.analyzer(normalize_text(text), mode="query"))
        if not terms:
            return None
        return wq.Or([wq.Term(f, t) for t in terms for f in ("title", "text")])

    def search(self, query: str, limit: int, highlight: bool) -> list[Result]:
        q = self.query(query)
        if q is None:
            return []
        results = self.searcher.search(q, limit=limit, terms=highlight)
        if not highlight:
            return [Result(hit["id"]) for hit in results]
        results.fragmenter.maxchars = SNIPPET_CHARS
        out = []
        for hit in results:
            title = hit.highlights("title", top=1) or hit["title"]
            out.append(Result(hit["id"], title + "\n" + hit.highlights("text", top=2)))
        return out

    def count_tokens(self, text: str) -> int:
        return sum(1 for _ in self.analyzer(text, positions=True, chars=True))

    def close(self) -> None:
        if self.searcher is not None:
            self.searcher.close()


# -- SQLite FTS5 ---------------------------------------------------------------------

_FTS_TOKEN = re.compile(r"\w+")


def fts5_query(text: str) -> str:
    """Each word double-quoted, joined by OR: FTS5 syntax cannot break.

    >>> fts5_query('Quel "préavis" ? l’URL')
    '"Quel" OR "préavis" OR "l" OR "URL"'
    """
    return " OR ".join(f'"{w}"' for w in dict.fromkeys(_FTS_TOKEN.findall(text)))


class Fts5Engine:
    """SQLite FTS5 with ``unicode61 remove_diacritics 2`` and ``bm25()``."""

    def __init__(self) -> None:
        self.db: sqlite3.Connection | None = None

    def build(self, docs: Sequence[Document], path: Path) -> int:
        path.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(path / "fts.db")
        try:
            db.execute(
                "CREATE VIRTUAL TABLE docs USING fts5(id UNINDEXED, title, text, "
                "tokenize='unicode61 remove_diacritics 2')"
            )
            with db:
                db.executemany(
                    "INSERT INTO docs (id, title, text) VALUES (?, ?, ?)",
                    ((d.id, d.title, d.text) for d in docs),
                )
            (count,) = db.execute("SELECT count(*) FROM docs").fetchone()
        finally:
            db.close()
        return int(count)

    def open(self, path: Path) -> None:
        self.db = sqlite3.connect(path / "fts.db")

    def search(self, query: str, limit: int, highlight: bool) -> list[Result]:
        if self.db is None:
            raise RuntimeError("open() the engine first")
        match = fts5_query(query)
        if not match:
            return []
        if not highlight:
            rows = self.db.execute(
                "SELECT id FROM docs WHERE docs MATCH ? ORDER BY bm25(docs) LIMIT ?",
                (match, limit),
            )
            return [Result(r[0]) for r in rows]
        rows = self.db.execute(
            "SELECT id, highlight(docs, 1, '<mark>', '</mark>'), "
            "snippet(docs, 2, '<mark>', '</mark>', '…', 32) "
            "FROM docs WHERE docs MATCH ? ORDER BY bm25(docs) LIMIT ?",
            (match, limit),
        )
        return [Result(r[0], r[1] + "\n" + r[2]) for r in rows]

    def count_tokens(self, text: str) -> int:
        raise NotImplementedError("FTS5's tokenizer cannot be called from Python")

    def close(self) -> None:
        if self.db is not None:
            self.db.close()


# -- tantivy ---------------------------------------------------------------------------


def tantivy_analyzer(stopwords: bool = True) -> Any:
    """tantivy-py's French chain (see the module docstring)."""
    import tantivy

    builder = (
        tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
        .filter(tantivy.Filter.remove_long(40))
        .filter(tantivy.Filter.lowercase())
    )
    if stopwords:
        builder = builder.filter(tantivy.Filter.stopword("french"))
    return (
        builder.filter(tantivy.Filter.ascii_fold()).filter(tantivy.Filter.stemmer("french")).build()
    )


class TantivyEngine:
    """tantivy-py with a French analyzer, title and text fields, BM25."""

    def __init__(self, stopwords: bool = True) -> None:
        self.analyzer = tantivy_analyzer(stopwords)
        self.ix: Any = None
        self.searcher: Any = None

    def _schema(self) -> Any:
        import tantivy

        sb = tantivy.SchemaBuilder()
        sb.add_text_field("id", stored=True, tokenizer_name="raw")
        sb.add_text_field("title", stored=True, tokenizer_name="fr")
        sb.add_text_field("text", stored=True, tokenizer_name="fr")
        return sb.build()

    def build(self, docs: Sequence[Document], path: Path) -> int:
        import tantivy

        path.mkdir(parents=True, exist_ok=True)
        ix = tantivy.Index(self._schema(), path=str(path))
        ix.register_tokenizer("fr", self.analyzer)
        writer = ix.writer(heap_size=256_000_000, num_threads=1)
        count = 0
        for doc in docs:
            writer.add_document(tantivy.Document(id=doc.id, title=doc.title, text=doc.text))
            count += 1
        writer.commit()
        writer.wait_merging_threads()
        return count

    def open(self, path: Path) -> None:
        import tantivy

        self.ix = tantivy.Index.open(str(path))
        self.ix.register_tokenizer("fr", self.analyzer)
        self.searcher = self.ix.searcher()

    def query(self, text: str) -> Any:
        """Should-clauses of the analysed terms over title and text (``None`` if none)."""
        import tantivy

        terms = dict.fromkeys(self.analyzer.analyze(normalize_text(text)))
        if not terms:
            return None
        schema = self.ix.schema
        return tantivy.Query.boolean_query(
            [
                (tantivy.Occur.Should, tantivy.Query.term_query(schema, f, t))
                for t in terms
                for f in ("title", "text")
            ]
        )

    def search(self, query: str, limit: int, highlight: bool) -> list[Result]:
        import tantivy

        q = self.query(query)
        if q is None:
            return []
        hits = self.searcher.search(q, limit).hits
        docs = [self.searcher.doc(addr) for _score, addr in hits]
        if not highlight:
            return [Result(d["id"][0]) for d in docs]
        schema = self.ix.schema
        text_gen = tantivy.SnippetGenerator.create(self.searcher, q, schema, "text")
        text_gen.set_max_num_chars(SNIPPET_CHARS)
        title_gen = tantivy.SnippetGenerator.create(self.searcher, q, schema, "title")
        title_gen.set_max_num_chars(1000)
        return [
            Result(
                d["id"][0],
                (title_gen.snippet_from_doc(d).to_html() or d["title"][0])
                + "\n"
                + text_gen.snippet_from_doc(d).to_html(),
            )
            for d in docs
        ]

    def count_tokens(self, text: str) -> int:
        return len(self.analyzer.analyze(text))

    def close(self) -> None:
        self.searcher = None


# -- bm25s ---------------------------------------------------------------------------------

BM25S_TOKEN_PATTERN = r"(?u)\b\w\w+\b"
"""bm25s's default tokenizer (scikit-learn's): runs of two or more word characters."""


class Bm25sEngine:
    """bm25s with its French stop words and PyStemmer's French stemmer, Lucene BM25.

    The index is bm25s's own ``save`` format, with the document ids in
    ``ids.json`` beside it (row ``i`` of the bm25s matrix is ``ids[i]``).
    """

    highlights = False
    """bm25s makes no snippets: ``search(..., highlight=True)`` returns none."""

    def __init__(self) -> None:
        import bm25s
        import Stemmer

        self.stemmer = Stemmer.Stemmer("french")
        self.stopwords = bm25s.stopwords.STOPWORDS_FRENCH
        self.retriever: Any = None
        self.ids: list[str] = []

    def _tokenize(self, texts: list[str], return_ids: bool) -> Any:
        """bm25s's analysis of each text: lowercase, split, stop words, stems."""
        import bm25s

        return bm25s.tokenize(
            texts,
            lower=True,
            token_pattern=BM25S_TOKEN_PATTERN,
            stopwords=self.stopwords,
            stemmer=self.stemmer,
            return_ids=return_ids,
            show_progress=False,
        )

    def terms(self, texts: list[str]) -> list[list[str]]:
        """bm25s's terms of each text."""
        tokens: list[list[str]] = self._tokenize(texts, return_ids=False)
        return tokens

    def build(self, docs: Sequence[Document], path: Path) -> int:
        import bm25s

        tokens = self._tokenize([f"{d.title}\n{d.text}" for d in docs], return_ids=True)
        retriever = bm25s.BM25()  # method "lucene", k1 1.5, b 0.75
        retriever.index(tokens, show_progress=False)
        path.mkdir(parents=True, exist_ok=True)
        retriever.save(str(path), show_progress=False)
        (path / "ids.json").write_text(json.dumps([d.id for d in docs]), encoding="utf-8")
        return int(retriever.scores["num_docs"])

    def open(self, path: Path) -> None:
        import bm25s

        self.retriever = bm25s.BM25.load(str(path), show_progress=False)
        self.ids = json.loads((path / "ids.json").read_text(encoding="utf-8"))

    def search(self, query: str, limit: int, highlight: bool) -> list[Result]:
        if self.retriever is None:
            raise RuntimeError("open() the engine first")
        terms = self.terms([normalize_text(query)])[0]
        k = min(limit, len(self.ids))
        if not terms or k == 0:
            return []
        found, scores = self.retriever.retrieve([terms], k=k, show_progress=False)
        return [
            Result(self.ids[int(i)])
            for i, score in zip(found[0], scores[0], strict=True)
            if score > 0
        ]

    def count_tokens(self, text: str) -> int:
        return len(self.terms([text])[0])

    def close(self) -> None:
        self.retriever = None


# -- making engines from specs -----------------------------------------------------

PEERS: tuple[str, ...] = ("whoosh-std", "whoosh-fr", "fts5", "tantivy", "bm25s")
"""Peer kinds, in table order."""


def default_specs() -> list[EngineSpec]:
    """searchlib with its defaults, then every peer."""
    return [EngineSpec("searchlib", "searchlib"), *(EngineSpec(p, p) for p in PEERS)]


def named_specs(names: Sequence[str]) -> list[EngineSpec]:
    """The default specs of the engines named (``searchlib`` or a peer), in that order.

    >>> [s.kind for s in named_specs(["tantivy", "searchlib"])]
    ['tantivy', 'searchlib']

    Raises:
        ValueError: a name that is neither searchlib nor a peer.
    """
    known = {s.name: s for s in default_specs()}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ValueError(f"unknown engine(s) {unknown}; known: {', '.join(known)}")
    return [known[n] for n in names]


def make_engine(spec: EngineSpec) -> Engine:
    """The engine a spec describes.

    Raises:
        ValueError: unknown kind or option.
    """
    opts = spec.options
    if spec.kind == "searchlib":
        if "factory" in opts:
            module, _, attr = str(opts["factory"]).partition(":")
            factory: Callable[[EngineSpec], Engine] = getattr(importlib.import_module(module), attr)
            return factory(spec)
        ranking = Ranking(**opts.get("ranking", {}))
        return SearchlibEngine(ranking, opts.get("search"), opts.get("add"))
    if spec.kind == "whoosh-std":
        return WhooshEngine(None)
    if spec.kind == "whoosh-fr":
        return WhooshEngine("fr")
    if spec.kind == "fts5":
        return Fts5Engine()
    if spec.kind == "tantivy":
        return TantivyEngine(stopwords=bool(opts.get("stopwords", True)))
    if spec.kind == "bm25s":
        return Bm25sEngine()
    raise ValueError(f"unknown engine kind {spec.kind!r}")


ADD_OPTIONS = frozenset({"procs", "limitmb"})
"""Variant keys that are :meth:`searchlib.Index.add` options."""


def parse_variant(text: str) -> EngineSpec:
    """A searchlib variant from the command line.

    ``NAME:key=value,...`` sets :class:`searchlib.Ranking` fields (numbers or
    words), :meth:`searchlib.Index.add` options (``procs``, ``limitmb``) and,
    for other keys, :meth:`searchlib.Index.search` options;
    ``NAME=module:callable`` names a factory returning an :class:`Engine`.

    >>> parse_variant("k09:k1=0.9,b=0.4").options
    {'ranking': {'k1': 0.9, 'b': 0.4}}
    >>> parse_variant("two:procs=2").options
    {'add': {'procs': 2}}
    >>> parse_variant("mine=mypkg.bench:make").options
    {'factory': 'mypkg.bench:make'}
    """
    if "=" in text and (":" not in text or text.index("=") < text.index(":")):
        name, _, factory = text.partition("=")
        return EngineSpec(name.strip(), "searchlib", {"factory": factory.strip()})
    name, _, rest = text.partition(":")
    ranking_fields = {f.name for f in dataclasses.fields(Ranking)}
    ranking: dict[str, Any] = {}
    search: dict[str, Any] = {}
    add: dict[str, Any] = {}
    for item in filter(None, (s.strip() for s in rest.split(","))):
        key, sep, raw = item.partition("=")
        if not sep:
            raise ValueError(f"variant {text!r}: expected key=value, got {item!r}")
        value = _parse_value(raw.strip())
        key = key.strip()
        target = ranking if key in ranking_fields else add if key in ADD_OPTIONS else search
        target[key] = value
    options: dict[str, Any] = {}
    if ranking:
        options["ranking"] = ranking
    if search:
        options["search"] = search
    if add:
        options["add"] = add
    return EngineSpec(name.strip(), "searchlib", options)


def _parse_value(raw: str) -> Any:
    lowered = raw.lower()
    if lowered in {"true", "false"}:
        return lowered == "true"
    for cast in (int, float):
        try:
            return cast(raw)
        except ValueError:
            pass
    return raw


def variant_spec(name: str, ranking: Ranking | None = None, **search: Any) -> EngineSpec:
    """A searchlib variant from Python: ``variant_spec("k09", Ranking(k1=0.9))``."""
    options: dict[str, Any] = {}
    if ranking is not None:
        options["ranking"] = dataclasses.asdict(ranking)
    if search:
        options["search"] = search
    return EngineSpec(name, "searchlib", options)
