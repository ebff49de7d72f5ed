"""Hypothesis properties: arbitrary text and bytes never crash searchlib.

The analyzer, the query parser, search with highlighting and the corpus
loaders raise nothing but ``SearchlibError`` subclasses; token offsets always
slice the source; HTML snippets are always well formed (only ``<mark>``
tags, everything else escaped). Runs are derandomized and bounded (a few
seconds each) so CI stays fast and reproducible; ``benchmarks/robustness/fuzz_long.py``
runs the same properties with many more, random examples.
"""

from __future__ import annotations

import gzip
import html
import os
import re
import tempfile
import warnings
from html.parser import HTMLParser
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from searchlib import Document, FrenchAnalyzer, Index, SearchlibError
from searchlib.analysis.analyzer import normalize_text
from searchlib.corpus.loaders import LoadReport, load_corpus
from searchlib.errors import CorpusFormatError, CorpusWarning
from searchlib.highlight import MatchSpec, Snippet, highlight
from searchlib.query.language import Group, parse

# SEARCHLIB_FUZZ_EXAMPLES (set by benchmarks/robustness/fuzz_long.py) turns the bounded,
# derandomized CI run into a long random one.
LONG_RUN = int(os.environ.get("SEARCHLIB_FUZZ_EXAMPLES", "0"))
FUZZ = settings(
    max_examples=LONG_RUN or 300,
    deadline=None,
    derandomize=not LONG_RUN,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

# Any code point, surrogates and controls included.
ANY_TEXT = st.text(st.characters(codec=None, exclude_categories=()), max_size=300)
# Words, operators and punctuation the query language and the analyzer care about.
PIECES = [
    *"a é œ ' ’ ʼ - . , ; : ! ? « » “ ” „ \" ( ) * ~ ~1 ~2 + # & < > \\ / % { } 3,5 13ème".split(),
    *"AND OR NOT title: text: titre: l' qu' jusqu' M.P.A.A. États-Unis".split(),
    *"cour fédérale federale juge pirates russes téléchargement télécha* torrentspi~".split(),
    "<script>alert(1)</script>",
    '" onmouseover="x',
    "&amp;",
    "\x00",
    "\ud800",
    "\u0301",
    "\n\n",
]
FRENCHISH = st.lists(st.sampled_from(PIECES) | ANY_TEXT.filter(lambda s: len(s) < 12)).map(
    lambda xs: " ".join(xs) if len(xs) % 2 else "".join(xs)
)
TEXT = ANY_TEXT | FRENCHISH

ANALYZER = FrenchAnalyzer()


@pytest.fixture(scope="module")
def index() -> Index:
    ix = Index.in_memory()
    ix.add(
        [
            Document.create(
                "a",
                "La cour <b>fédérale</b> & les États-Unis",
                "L’URL du site a été fermée par la cour fédérale. « Vide juridique » "
                "pour les pirates russes : <script>alert('x')</script> &amp; 3,5 M.P.A.A.\n\n"
                + "Le téléchargement illégal continue. "
                * 60,
            ),
            Document.create("b", "Œuvres", "l'œuvre d'art, 13ème siècle, jusqu'à 2007."),
        ]
    )
    return ix


class _MarkupChecker(HTMLParser):
    """Records every tag and whether ``<mark>`` tags nest and balance."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.depth = 0
        self.nested = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.nested |= self.depth > 0
        self.depth += 1

    def handle_endtag(self, tag: str) -> None:
        self.tags.append("/" + tag)
        self.depth -= 1

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag + "/")


_ENTITY = re.compile(r"&(amp|lt|gt|quot|#x27);")


def assert_well_formed(snippet: Snippet) -> None:
    """Only ``<mark>`` tags, balanced, not nested; all other text escaped."""
    out = snippet.to_html()
    checker = _MarkupChecker()
    checker.feed(out)
    checker.close()
    assert set(checker.tags) <= {"mark", "/mark"}, out
    assert checker.depth == 0 and not checker.nested, out
    bare = out.replace("<mark>", "").replace("</mark>", "")
    assert "<" not in bare and ">" not in bare, out
    assert "&" not in _ENTITY.sub("", bare), out  # every & starts an entity
    assert html.unescape(bare) == snippet.to_text(mark=("", ""))


@FUZZ
@given(TEXT)
@example("Jʼ")  # ʼ is a letter to the regex: the elision left an empty token
@example("lʼ-a")
def test_analyzer_never_raises_and_offsets_slice_the_text(text: str) -> None:
    text = normalize_text(text)
    for mode in ("index", "query"):
        for t in ANALYZER.tokens(text, mode=mode):
            assert 0 <= t.start < t.end <= len(text)
            assert text[t.start : t.end].strip() == text[t.start : t.end]
            assert t.text  # no empty term
    assert isinstance(ANALYZER.terms(text), list)
    for s in ANALYZER.stages(text):
        assert 0 <= s.start < s.end <= len(text)
        assert text[s.start : s.end] in s.surface  # a part of the word as written


@FUZZ
@given(TEXT)
def test_parser_returns_a_tree_or_a_syntax_error(query: str) -> None:
    try:
        tree = parse(query)
    except SearchlibError as e:
        assert isinstance(e, ValueError)  # QuerySyntaxError
        return
    assert isinstance(tree, Group)


@FUZZ
@given(TEXT)
def test_search_raises_only_searchlib_errors_and_snippets_are_html(index: Index, q: str) -> None:
    try:
        results = index.search(q, limit=3)
    except SearchlibError:
        return
    assert results.total >= len(results.hits)
    for hit in results.hits:
        assert_well_formed(hit.snippet)
        assert_well_formed(hit.title_snippet)
        for a, b in hit.snippet.spans:
            assert 0 <= a < b <= len(hit.text)


@FUZZ
@given(TEXT, TEXT, st.integers(1, 400), st.integers(1, 4))
@example("Jʼ", "", 1, 1)  # found by the long run: an empty span
def test_highlight_of_any_text_is_well_formed(
    text: str, query: str, max_chars: int, max_fragments: int
) -> None:
    text = normalize_text(text)
    terms = frozenset(ANALYZER.terms(query)) | frozenset(ANALYZER.terms(text)[:2])
    phrase = tuple(ANALYZER.terms(text)[1:3])
    spec = MatchSpec(terms, (phrase,) if phrase else ())
    snippet = highlight(text, ANALYZER, spec, max_chars=max_chars, max_fragments=max_fragments)
    assert_well_formed(snippet)
    for a, b in snippet.spans:
        assert 0 <= a < b <= len(text)


BYTES = st.binary(max_size=400) | TEXT.map(lambda s: s.encode("utf-8", "surrogatepass"))
JSON_LINES = st.lists(
    st.sampled_from(
        [
            b'{"id": "a", "text": "ok"}',
            b'{"id": 7, "title": "t", "text": "x", "extra": [1, {"k": null}]}',
            b'{"id": "a", "text": "doublon"}',
            b'{"id": "", "text": "x"}',
            b'{"id": "s", "text": "\\ud800"}',
            b'{"id": "n", "text": 3}',
            b"[[[[[[[[[[[[[[[[[[[[",
            b"\xef\xbb\xbf{}",
            b"caf\xe9",
            b"\x00",
            b"",
        ]
    )
    | BYTES,
    max_size=8,
).map(b"\n".join)


def _write(folder: Path, name: str, data: bytes) -> Path:
    path = folder / name
    path.write_bytes(gzip.compress(data) if name.endswith(".gz") else data)
    return path


@FUZZ
@given(
    st.sampled_from(["a.txt", "b.md", "c.jsonl", "d.jsonl.gz"]),
    BYTES | JSON_LINES,
)
def test_loaders_raise_only_corpus_errors(name: str, data: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = _write(Path(tmp), name, data)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                docs = list(load_corpus(path))
            except CorpusFormatError as e:
                assert e.path == str(path)
                return
        assert all(issubclass(w.category, CorpusWarning) for w in caught)  # duplicates
        for doc in docs:
            assert isinstance(doc.id, str) and doc.id
            assert isinstance(doc.text, str)


@pytest.mark.slow
@FUZZ
@given(st.lists(st.tuples(st.sampled_from(["txt", "md", "jsonl", "jsonl.gz", "bin"]), BYTES)))
def test_lenient_loading_never_raises_and_indexes(files: list[tuple[str, bytes]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "corpus"
        folder.mkdir()
        for n, (suffix, data) in enumerate(files):
            _write(folder, f"f{n}.{suffix}", data)
        report = LoadReport()
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # with a report, nothing is warned
            docs = list(
                load_corpus(folder, errors="skip", encoding_errors="replace", report=report)
            )
        assert report.documents == len(docs)
        ix = Index.in_memory()
        ix.add(docs)
        assert len(ix) == len({d.id for d in docs})


# -- hostile documents and crafted index files ---------------------------------------

HOSTILE_PIECES = [
    "\x1b[2J",
    "\x1b]0;pwned\x07",
    "\x1b]8;;https://exemple.fr\x1b\\lien\x1b]8;;\x1b\\",
    "\x1b[31m",
    "\r",
    "\x07",
    "\x00",
    "\u00ad",
    "\u200b",
    "\u200d",
    "\u2060",
    "(ab) ",
    "(CSE) ",
    "((((",
    "))))",
    "musique",
    "contrat de travail",
    "\n\n",
]
HOSTILE_TEXT = st.lists(
    st.sampled_from(HOSTILE_PIECES) | ANY_TEXT.filter(lambda s: len(s) < 8), max_size=60
).map("".join)
FLOOD = st.builds(
    lambda piece, n: piece * n, st.sampled_from(["(ab) ", "mot ", "é"]), st.integers(0, 3000)
)


@pytest.mark.slow
@FUZZ
@given(HOSTILE_TEXT, HOSTILE_TEXT, FLOOD, st.sampled_from(["musique", "contrat", "ab", "pwned"]))
def test_hostile_documents_index_and_search_safely(
    title: str, text: str, flood: str, query: str
) -> None:
    from searchlib.documents import TITLE_REPEAT_CHARS
    from searchlib.errors import DocumentError

    doc = Document("h", title + flood, text + flood + text)
    with Index.in_memory() as ix:
        try:
            ix.add([doc])
        except DocumentError:
            return  # refused whole (a lone surrogate or the like), nothing indexed
        for passage in ix.passages("h")[1:]:
            assert len(passage["title"]) <= TITLE_REPEAT_CHARS
        try:
            results = ix.search(query, limit=5)
        except SearchlibError:
            return
        for hit in results.hits:
            assert_well_formed(hit.snippet)
            assert_well_formed(hit.title_snippet)


def _crafted_pickles() -> st.SearchStrategy[bytes]:
    """Protocol 2 pickles that name classes an attacker would pick, built from
    the opcodes that build objects (calls, __new__, state)."""
    from test_crafted_index import CLASSES, _global, _text

    names = st.sampled_from(CLASSES)
    value = st.sampled_from(
        [_text("/tmp/victim"), _text("."), b"K\x01", b"N", b"\x88", b"}", b"]", b")"]
    )
    args = st.lists(value, max_size=4).map(lambda vs: b"(" + b"".join(vs) + b"t")
    built = st.builds(
        lambda cls, a, how, state: _global(*cls) + a + how + state,
        names,
        args,
        st.sampled_from([b"R", b"\x81"]),
        st.sampled_from([b"", b"}(" + _text("path") + _text("/tmp/victim") + b"ub"]),
    )
    return st.lists(built, min_size=1, max_size=3).map(
        lambda objs: b"\x80\x02(" + b"".join(objs) + b"l."
    )


@FUZZ
@given(st.data())
def test_crafted_tables_of_contents_raise_index_errors_and_run_nothing(
    data: st.DataObject,
) -> None:
    import json
    import pickle

    from test_crafted_index import _toc

    import searchlib
    from searchlib._whoosh.storage import make_schema
    from searchlib.errors import IndexCorruptError
    from searchlib.folder import FORMAT_VERSION, META_FILE

    crafted = data.draw(_crafted_pickles())
    where = data.draw(st.sampled_from(["schema", "segments"]))
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "ix"
        folder.mkdir()
        victim = Path(tmp) / "victim"
        victim.write_text("intact")
        meta = {"format_version": FORMAT_VERSION, "analyzer_version": searchlib.ANALYZER_VERSION}
        (folder / META_FILE).write_text(json.dumps(meta))
        if where == "schema":
            toc = _toc(crafted, pickle.dumps([], 2))
        else:  # a sound schema, so the segment list is read too
            toc = _toc(pickle.dumps(make_schema(), 2), crafted)
        (folder / "_searchlib_1.toc").write_bytes(toc)
        with pytest.raises(IndexCorruptError):
            Index.open(folder)
        assert victim.read_text() == "intact"
        assert sorted(p.name for p in Path(tmp).iterdir()) == ["ix", "victim"]
