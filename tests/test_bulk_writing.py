"""The bulk document and term writers give Whoosh's own index content."""

from __future__ import annotations

import gzip
import itertools
import json
import os
import pickle
import types
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
import whoosh.index
from conftest import need_shared, shared_dir
from hypothesis import given, settings
from hypothesis import strategies as st
from whoosh.analysis import StandardAnalyzer
from whoosh.fields import ID, STORED, TEXT, Schema
from whoosh.filedb.filestore import RamStorage
from whoosh.filedb.filetables import md5_hash

from searchlib import Document, Index
from searchlib._whoosh import docwriter, postingpool, termwriter
from searchlib._whoosh.docwriter import DocumentAdder
from searchlib._whoosh.postingpool import GroupedPostingPool
from searchlib.analysis.analyzer import FrenchAnalyzer, normalize_text
from searchlib.corpus.loaders import seed_documents
from searchlib.local import Writing

SHARED = shared_dir()
FR_SMALL = SHARED / "corpora" / "prebuilt" / "fr-small.jsonl.gz"

TRICKY = [
    Document(
        "tricky",
        "L’État et l'URL",
        "Les États-Unis d’Amérique, l'URL, M.P.A.A., 3,5 % au 13 ème siècle, le 1er mai. "
        "Prud'hommes et prud’hommes : le conseil des prud'hommes. Peut-il venir ? "
        "œuvre, cœur, Ærø. De la, de la, de la ! jusqu'à lorsqu'il",
        {"lang": "fr"},
    ),
    Document("empty", "", ""),
    Document("stops", "le la les", "de du des à au aux " * 5),
    Document(" Été/2024 ✓ ", "ids are terms as they are", "x"),
]


def _documents() -> list[Document]:
    need_shared(FR_SMALL)
    docs = [*seed_documents(), *TRICKY]
    with gzip.open(FR_SMALL, "rt", encoding="utf-8") as f:
        for i, line in enumerate(itertools.islice(f, 0, 600, 6)):  # 100 documents of every kind
            obj = json.loads(line)
            title, text = obj.get("title", ""), obj["text"]
            docs.append(Document(f"fr{i}", normalize_text(title), normalize_text(text)))
    return docs


def _whoosh_add(self: DocumentAdder, fields: Any) -> None:
    self.writer.add_document(**fields)


def _content(ix: Index) -> dict[str, Any]:
    """Everything an index holds, read back through Whoosh."""
    reader = ix.searcher().reader()
    postings = []
    for field, term in reader.all_terms():
        m = reader.postings(field, term)
        rows = []
        while m.is_active():
            rows.append((m.id(), m.weight(), m.value()))
            m.next()
        postings.append((field, term, reader.doc_frequency(field, term), rows))
    n = reader.doc_count_all()
    fields = ("title", "text", "exact")
    return {
        "postings": postings,
        "stored": [reader.stored_fields(i) for i in range(n)],
        "lengths": [[reader.doc_field_length(i, f) for f in fields] for i in range(n)],
        "totals": [reader.field_length(f) for f in fields],
        "doc_id column": list(reader.column_reader("doc_id")),
    }


def _build(
    docs: list[Document], *, bulk_docs: bool, bulk_terms: bool, limitmb: int = 256
) -> dict[str, Any]:
    with pytest.MonkeyPatch.context() as mp:
        if not bulk_docs:
            mp.setattr(DocumentAdder, "add", _whoosh_add)
        if not bulk_terms:
            mp.setattr(termwriter, "install", lambda writer: None)
        ix = Index.in_memory()
        ix.add(docs, limitmb=limitmb)
        return _content(ix)


@pytest.fixture(scope="module")
def corpus() -> list[Document]:
    return _documents()


@pytest.fixture(scope="module")
def reference(corpus: list[Document]) -> dict[str, Any]:
    return _build(corpus, bulk_docs=False, bulk_terms=False)


@pytest.mark.slow
def test_bulk_writers_store_what_whoosh_stores(
    corpus: list[Document], reference: dict[str, Any]
) -> None:
    assert len(reference["stored"]) > len(corpus)  # long documents made several passages
    assert _build(corpus, bulk_docs=True, bulk_terms=True) == reference
    assert _build(corpus, bulk_docs=True, bulk_terms=False) == reference
    assert _build(corpus, bulk_docs=False, bulk_terms=True) == reference


@pytest.fixture
def pool_saves(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The number of postings the posting pools write to each run they spill."""
    saves: list[int] = []
    original = GroupedPostingPool.save

    def counting(self: GroupedPostingPool) -> None:
        saves.append(self.count)
        original(self)

    monkeypatch.setattr(GroupedPostingPool, "save", counting)
    return saves


def test_bulk_writers_with_a_spilling_pool(
    corpus: list[Document], reference: dict[str, Any], pool_saves: list[int]
) -> None:
    assert _build(corpus, bulk_docs=True, bulk_terms=True, limitmb=1) == reference
    assert len([s for s in pool_saves if s]) > 1  # the pool did spill runs


def _segment_files(
    folder: Path, docs: list[Document], *, stock: bool, limitmb: int = 128, max_runs: int = 128
) -> dict[str, bytes]:
    """The segment files of an index of ``docs``, its postings written by Whoosh's
    posting pool and field writer (``stock``) or by searchlib's, its posting
    blocks pickled with protocol 2 as Whoosh pickles them. Documents go
    through Whoosh's add_document either way: the document adder makes the same
    postings but shares equal position values, which pickle shorter."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(DocumentAdder, "add", _whoosh_add)
        if stock:
            mp.setattr(postingpool, "install", lambda writer: None)
            mp.setattr(termwriter, "install", lambda writer: None)
        mp.setattr(postingpool, "MAX_RUNS_OPEN", max_runs)
        mp.setattr(termwriter, "BLOCK_PROTOCOL", 2)  # Whoosh's pickles of the block data
        mp.setattr(termwriter, "MIN_COMPRESSED", 0)  # and every block compressed, as Whoosh does
        original = Writing.writer

        def loose(self: Writing, *args: Any, **kwargs: Any) -> Any:
            writer = original(self, *args, **kwargs)
            writer.compound = False  # one file per part, to compare them
            return writer

        mp.setattr(Writing, "writer", loose)
        with Index.create(folder) as ix:
            ix.add(docs, limitmb=limitmb)
    # Segment files are named <index>_<random segment id>.<part>.
    return {
        name.split(".", 1)[1]: (folder / name).read_bytes()
        for name in os.listdir(folder)
        if name.endswith((".pst", ".trm", ".col"))
    }


@pytest.mark.parametrize(
    ("limitmb", "max_runs"),
    [(128, 128), (1, 128), (1, 2)],
    ids=["in memory", "spilled runs", "runs merged in steps"],
)
def test_writers_write_whooshs_bytes(
    tmp_path: Path,
    corpus: list[Document],
    limitmb: int,
    max_runs: int,
    pool_saves: list[int],
) -> None:
    whoosh = _segment_files(tmp_path / "whoosh", corpus, stock=True, limitmb=limitmb)
    ours = _segment_files(
        tmp_path / "searchlib", corpus, stock=False, limitmb=limitmb, max_runs=max_runs
    )
    assert {"pst", "trm"} <= set(whoosh)
    assert ours == whoosh  # the term dictionary's hash tables included
    assert (len(pool_saves) > 1) == (limitmb == 1)  # the pool spilled runs, or did not


def test_term_dictionary_keeps_its_hashes_in_arrays() -> None:
    ix = Index.in_memory()
    writer = ix._writing.writer()
    try:
        buckets = writer.fieldwriter._tindex.buckets
        assert len(buckets) == 256
        assert all(type(b) is termwriter.HashBucket for b in buckets)
        buckets[7].append((0xFFFFFFFF, 2**40))
        buckets[7].append((3, 5))
        assert list(buckets[7]) == [(0xFFFFFFFF, 2**40), (3, 5)] and len(buckets[7]) == 2
    finally:
        writer.cancel()


def test_term_writer_refuses_postings_out_of_order() -> None:
    ix = Index.in_memory()
    writer = ix._writing.writer()
    try:
        items = [("text", b"b", 0, 1.0, b""), ("text", b"a", 0, 1.0, b"")]
        with pytest.raises(ValueError, match="out of order"):
            writer.fieldwriter.add_postings(writer.schema, None, iter(items))
    finally:
        writer.cancel()


def test_other_schemas_go_through_whoosh() -> None:
    # A field whose analyzer is not the French chain, a custom stored value,
    # a boost: the adder writes what Whoosh's add_document writes.
    schema = Schema(
        key=ID(stored=True),
        body=TEXT(analyzer=StandardAnalyzer(), stored=True),
        french=TEXT(analyzer=FrenchAnalyzer()),
        extra=STORED(),
    )
    docs = [
        {"key": "a", "body": "The quick brown fox", "french": "Les œuvres d'art", "extra": 1},
        {"key": "b", "body": "jumps", "french": "l'art", "_french_boost": 2.0, "_stored_key": "B"},
        {"key": "c", "body": None, "french": "art et œuvre"},
    ]

    def build(bulk: bool) -> list[Any]:
        ix = RamStorage().create_index(schema)
        writer = ix.writer()
        adder = DocumentAdder(writer)
        for d in docs:
            adder.add(d) if bulk else writer.add_document(**d)
        writer.commit()
        with ix.searcher() as s:
            r = s.reader()
            terms = [(f, t, list(r.postings(f, t).items_as("weight"))) for f, t in r.all_terms()]
            return [terms, [r.stored_fields(i) for i in range(3)], r.field_length("french")]

    assert build(True) == build(False)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [*"aeéèçœÆlLdqu'’ʼ-.,0123456789 \n«»?!", "jusqu", "Ème", "e\u0301", "de ", "la "]
        ),
        max_size=60,
    ).map("".join)
)
def test_term_positions_are_the_index_tokens(text: str) -> None:
    text = normalize_text(text)
    exact = FrenchAnalyzer(stem=False, fold=False, drop_stop_words=True)
    for analyzer in (FrenchAnalyzer(), exact):
        expected: dict[bytes, list[int]] = defaultdict(list)
        for t in analyzer(text, positions=True, mode="index"):
            expected[t.text.encode()].append(t.pos)
        assert analyzer.term_positions(text) == dict(expected)
        counts = {term: len(positions) for term, positions in expected.items()}
        assert analyzer.term_counts(text) == counts
        # Given the words (as another field of the same text found them): the same.
        words = analyzer.tokenizer.words(text)
        assert analyzer.term_positions(text, words) == dict(expected)
        assert analyzer.term_counts(text, words) == counts


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.sampled_from(["L’État", "13", "ème", "de la", "prud'hommes", "1er", ""]), max_size=6
    )
)
def test_joined_text_has_its_parts_words(parts: list[str]) -> None:
    joined = docwriter.JoinedText(tuple(parts))
    words = FrenchAnalyzer().tokenizer.words
    assert joined == "\n".join(parts)
    assert words(joined) == [w for part in parts for w in words(part)]


def test_joined_text_goes_to_other_processes_as_plain_text() -> None:
    joined = docwriter.JoinedText(("Titre", "Texte"))
    copy = pickle.loads(pickle.dumps(joined))
    assert type(copy) is str
    assert copy == "Titre\nTexte"


def test_position_values_decode_as_whoosh_encodes() -> None:
    from whoosh.formats import Positions

    fmt = Positions()
    for positions in ([0], [7], [3, 4, 90], list(range(0, 3000, 7))):
        encoded = (
            docwriter._one_position(positions[0])
            if len(positions) == 1
            else docwriter._encode_positions(positions)
        )
        assert encoded == fmt.encode(positions)
        assert fmt.decode_positions(encoded) == positions


_POSTINGS = st.lists(
    st.tuples(
        st.sampled_from(["exact", "text", "title"]),
        st.sampled_from([b"a", b"b", b"chat", b"\xc3\xa9t\xc3\xa9", b"z"]),
        st.integers(-1, 40),
        st.sampled_from([1.0, 2.0, 0.5]),
        st.sampled_from([b"", b"\x01", b"\x02\x00"]),
    ).map(lambda p: p if p[0] != "exact" else (*p[:4], None)),  # a field without values
    max_size=300,
)


@settings(max_examples=150, deadline=None)
@given(
    postings=_POSTINGS,
    in_documents=st.booleans(),
    limit=st.sampled_from([400, 3000, 1 << 30]),
    maxfiles=st.sampled_from([2, 3, 128]),
)
def test_grouped_pool_gives_whooshs_order(
    postings: list[Any], in_documents: bool, limit: int, maxfiles: int
) -> None:
    # Whatever order postings come in (documents in order, as the document adder
    # gives them, or anyhow, as Whoosh's own paths may), spilled or not, merged
    # in steps or at once: the pool yields what Whoosh's pool yields, sorted()
    # (the terms in order, each term's postings by document, weight and value).
    if in_documents:
        postings = sorted(postings, key=lambda p: p[2])
    pool = GroupedPostingPool(RamStorage().temp_storage(), None)
    pool.limit = limit
    if in_documents:
        for _, same in itertools.groupby(postings, key=lambda p: p[2]):
            pool.add_many(list(same))
    else:
        for posting in postings:
            pool.add(posting)
    if limit == 400 and len(postings) >= 10:  # 150 bytes and more a posting
        assert len(pool.runs) > 1
    if limit == 1 << 30:
        assert not pool.runs
    out = pool.items(maxfiles=maxfiles)
    records = list(out.records())
    keys = [(name, term) for name, term, *_ in records]
    assert keys == sorted(set(keys))  # each term once, in order
    flat = [(n, t, d, w, v) for n, t, *cols in records for d, w, v in zip(*cols, strict=True)]
    assert flat == sorted(postings)
    pool.cleanup()


def _stock_postings(folder: Path) -> list[Any]:
    """Every posting of an index folder, read by stock Whoosh (its own classes,
    ``pickle.loads``)."""
    with whoosh.index.open_dir(str(folder), indexname="searchlib").reader() as reader:
        out = []
        for field, term in reader.all_terms():
            m = reader.postings(field, term)
            while m.is_active():
                out.append((field, term, m.id(), m.weight(), m.value()))
                m.next()
        return out


def test_blocks_in_protocol_4_hold_what_protocol_2_holds(
    tmp_path: Path, corpus: list[Document]
) -> None:
    def build(folder: Path) -> dict[str, Any]:
        with Index.create(folder) as ix:
            ix.add(corpus)
        with Index.open(folder) as ix:
            return _content(ix)

    ours = build(tmp_path / "p4")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(termwriter, "BLOCK_PROTOCOL", 2)
        whooshs = build(tmp_path / "p2")
    assert ours == whooshs
    assert _stock_postings(tmp_path / "p4") == _stock_postings(tmp_path / "p2")

    def size(folder: Path) -> int:
        return sum(f.stat().st_size for f in folder.glob("*.seg"))

    assert size(tmp_path / "p4") < 0.9 * size(tmp_path / "p2")  # positions: about half


def test_short_blocks_stored_uncompressed_hold_what_compressed_ones_hold(
    tmp_path: Path, corpus: list[Document], monkeypatch: pytest.MonkeyPatch
) -> None:
    levels: list[int] = []
    original = termwriter.zlib.compress

    def compress(data: bytes, level: int) -> bytes:
        levels.append(len(data))
        return original(data, level)

    # The term writer's zlib only (Whoosh compresses stored fields, of any length).
    monkeypatch.setattr(termwriter, "zlib", types.SimpleNamespace(compress=compress))

    def build(folder: Path, shortest: int) -> dict[str, Any]:
        levels.clear()
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(termwriter, "MIN_COMPRESSED", shortest)
            with Index.create(folder) as ix:
                ix.add(corpus)
        assert all(n >= shortest for n in levels)
        with Index.open(folder) as ix:
            return _content(ix)

    ours = build(tmp_path / "short", termwriter.MIN_COMPRESSED)
    compressed = len(levels)
    whooshs = build(tmp_path / "all", 0)
    assert compressed < len(levels) / 2  # most blocks are a rare term's, short
    assert ours == whooshs
    assert _stock_postings(tmp_path / "short") == _stock_postings(tmp_path / "all")

    def size(folder: Path) -> int:
        return sum(f.stat().st_size for f in folder.glob("*.seg"))

    assert size(tmp_path / "short") <= 1.03 * size(tmp_path / "all")  # short blocks: a few bytes


def test_postings_in_memory_are_merged_without_a_run_of_their_own(
    corpus: list[Document], reference: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    events: list[str] = []
    save, items = GroupedPostingPool.save, GroupedPostingPool.items

    def saving(self: GroupedPostingPool) -> None:
        events.append(f"save {self.count}")
        save(self)

    def merging(self: GroupedPostingPool, maxfiles: int | None = None) -> Any:
        events.append(f"merge {self.count}")
        return items(self, maxfiles)

    monkeypatch.setattr(GroupedPostingPool, "save", saving)
    monkeypatch.setattr(GroupedPostingPool, "items", merging)
    assert _build(corpus, bulk_docs=True, bulk_terms=True, limitmb=1) == reference
    assert events[-1].startswith("merge") and events[-1] != "merge 0"  # postings left in memory
    assert all(e.startswith("save") for e in events[:-1]) and len(events) > 2  # runs spilled


@given(st.binary(max_size=64))
def test_term_hash_is_whooshs(key: bytes) -> None:
    # The term writer hashes dictionary keys as Whoosh's md5_hash does, from the digest.
    assert termwriter.md5_tail(key) == md5_hash(key)
