"""Declared fields: declarations, checked values, filters in the query language,
facets, sorting, hits' fields, the command line and the REPL
(the README's examples: tests/test_readme.py)."""

from __future__ import annotations

import io
import json
import re
import shutil
from pathlib import Path

import pytest

from searchlib import Document, DocumentError, Index, QuerySyntaxError
from searchlib.app.cli import main
from searchlib.app.repl import Repl
from searchlib.fields import Date, Facet, Keyword, Match, Number, Range, parse_date

OLD_INDEX = Path(__file__).parent / "data" / "index-fr5-format3"

FIELDS = {"source": Keyword(), "date": Date(), "pages": Number(), "tags": Keyword(multiple=True)}
DOCS = [
    Document(
        "a",
        "Cour",
        "La cour fédérale a tranché.",
        {"source": "sp", "date": "2020-03-01", "pages": 12, "tags": ["x", "y"]},
    ),
    Document(
        "b",
        "Cour",
        "La cour d'appel a jugé.",
        {"source": "legi", "date": "2019-05-01", "pages": 120.5, "tags": "y"},
    ),
    Document("c", "Cour", "Une cour, une cour.", {"source": "legi", "note": "libre"}),
    Document(
        "d",
        "Vote",
        "Un vote au conseil.",
        {"source": "kali", "date": "2021-01-01T10:00:00Z", "pages": -1},
    ),
]


@pytest.fixture
def ix() -> Index:
    index = Index.in_memory(fields=FIELDS)
    index.add(DOCS)
    return index


def ids(results: object) -> list[str]:
    return [h.doc_id for h in results]  # type: ignore[attr-defined]


# -- declarations -------------------------------------------------------------------------


def test_declared_fields_are_saved_with_the_index_and_shown_by_stats(tmp_path: Path) -> None:
    with Index.create(tmp_path / "ix", fields=FIELDS) as index:
        index.add(DOCS)
    meta = json.loads((tmp_path / "ix" / "searchlib.json").read_text(encoding="utf-8"))
    assert meta["fields"] == {
        "source": {"type": "keyword"},
        "date": {"type": "date"},
        "pages": {"type": "number"},
        "tags": {"type": "keyword", "multiple": True},
    }
    with Index.open(tmp_path / "ix") as index:
        assert index.fields == FIELDS
        assert dict(index.stats().declared) == {
            "source": "keyword",
            "date": "date",
            "pages": "number",
            "tags": "keyword (multiple)",
        }
        assert ids(index.search("source:legi")) == ["b", "c"]


@pytest.mark.parametrize(
    ("fields", "error", "words"),
    [
        ({"title": Keyword()}, ValueError, "reserved"),
        ({"2x": Keyword()}, ValueError, "letters"),
        ({"Source": Keyword(), "source": Number()}, ValueError, "differ only by case"),
        ({"source": "keyword"}, TypeError, "Keyword()"),
        (["source"], TypeError, "map names"),
    ],
)
def test_malformed_declarations_are_refused(
    tmp_path: Path, fields: object, error: type[Exception], words: str
) -> None:
    with pytest.raises(error, match=re.escape(words)):
        Index.create(tmp_path / "ix", fields=fields)  # type: ignore[arg-type]
    assert not (tmp_path / "ix").exists()


@pytest.mark.parametrize(
    ("fields", "shown"),
    [
        ({"date": "hier"}, "'hier'"),
        ({"date": 2020}, "2020"),
        ({"pages": "12"}, "'12'"),
        ({"pages": True}, "True"),
        ({"pages": 2**60}, str(2**60)),
        ({"source": ["a", "b"]}, "['a', 'b']"),
        ({"source": ""}, "''"),
        ({"tags": ["a", 3]}, "['a', 3]"),
    ],
)
def test_a_value_that_does_not_fit_refuses_the_whole_batch(
    ix: Index, fields: dict[str, object], shown: str
) -> None:
    before = ix.stats().documents
    bad = Document("bad", "t", "texte", fields)
    with pytest.raises(DocumentError) as caught:
        ix.add([Document("ok", "t", "cour"), bad, Document("ok2", "t", "cour")])
    message = str(caught.value)
    name = next(iter(fields))
    assert "'bad'" in message and f"field {name!r}" in message and shown in message
    assert ix.stats().documents == before
    assert ix.document("ok") is None


def test_a_bad_value_for_a_helper_process_is_a_document_error(tmp_path: Path) -> None:
    with Index.create(tmp_path / "ix", fields=FIELDS) as index:
        docs = [Document(str(i), "t", "cour", {"pages": i}) for i in range(40)]
        docs.append(Document("bad", "t", "cour", {"pages": "beaucoup"}))
        with pytest.raises(DocumentError, match="'bad'"):
            index.add(docs, procs=2)
        assert index.stats().documents == 0
        index.add(docs[:-1], procs=2)
        assert index.search("pages:[10 TO 19]", limit=100).total == 10


def test_keyword_values_are_nfc_normalised(ix: Index) -> None:
    ix.add([Document("e", "t", "cour", {"source": "E\u0301mile"})])
    assert ids(ix.search("source:Émile")) == ["e"]
    assert ids(ix.search("source:E\u0301mile")) == ["e"]
    assert ix.search("cour", facets=["source"]).facets["source"]["Émile"] == 1


def test_undeclared_keys_stay_stored_and_returned(ix: Index) -> None:
    hit = ix.search("cour source:legi").hits[0]
    assert hit.doc_id == "c" and hit.fields == {"source": "legi", "note": "libre"}
    assert hit.to_dict()["fields"] == {"source": "legi", "note": "libre"}


def test_dates_with_an_offset_are_kept_in_utc() -> None:
    assert parse_date("2020-01-01T01:00:00+01:00")[0] == parse_date("2020-01-01")[0]
    start, end = parse_date("2020-02")
    assert (end - start) // 86_400_000_000 == 29


# -- an index written before fields existed ------------------------------------------------


def test_an_old_index_has_no_declared_field_and_says_so(tmp_path: Path) -> None:
    target = tmp_path / "old"
    shutil.copytree(OLD_INDEX, target)
    with Index.open(target) as index:
        assert index.fields == {} and index.stats().declared == ()
        with pytest.raises(
            QuerySyntaxError, match=r"unknown field 'source' \(fields: title, text\)"
        ):
            index.search("source:culture")
        assert index.search("musique").hits[0].fields == {"source": "culture", "year": 1700}


# -- the query language ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("cour source:legi", ["c", "b"]),
        ("cour -source:legi", ["a"]),
        ("cour AND source:legi", ["c", "b"]),
        ("source:(sp OR kali)", ["a", "d"]),
        ("source:(sp kali)", ["a", "d"]),
        ('source:"legi"', ["b", "c"]),
        ("date:>=2020-01-01", ["a", "d"]),
        ("date:2020", ["a"]),
        ("date:2020-03", ["a"]),
        ("date:<2020", ["b"]),
        ("date:<=2020", ["a", "b"]),
        ("date:>2020", ["d"]),
        ("date:[2019-01-01 TO 2020-12-31]", ["a", "b"]),
        ("date:{2019-05-01 TO 2021-01-01T10:00:00Z]", ["a", "d"]),
        ("pages:<100", ["a", "d"]),
        ("pages:12", ["a"]),
        ("pages:>12", ["b"]),
        ("pages:[-1 TO 12}", ["d"]),
        ("pages:[100 TO *]", ["b"]),
        ("tags:y", ["a", "b"]),
        ("tags:x -tags:y", []),
        ("-source:legi", ["a", "d"]),
        ("Source:legi", ["b", "c"]),
    ],
)
def test_filters(ix: Index, query: str, expected: list[str]) -> None:
    assert ids(ix.search(query)) == expected


def test_filters_restrict_and_never_score(ix: Index) -> None:
    plain = {h.doc_id: h.score for h in ix.search("cour")}
    filtered = ix.search("cour source:legi date:<2020")
    assert [(h.doc_id, h.score) for h in filtered] == [("b", plain["b"])]
    assert all(h.score == 0.0 for h in ix.search("source:legi"))


def test_declared_fields_leave_rankings_and_scores_unchanged(ix: Index) -> None:
    bare = Index.in_memory()
    bare.add(DOCS)
    for query in ("cour", "cour fédérale", '"cour d\'appel"', "cour AND appel", "vote -cour"):
        got = [(h.id, h.score) for h in ix.search(query, limit=20)]
        assert got == [(h.id, h.score) for h in bare.search(query, limit=20)], query


@pytest.mark.parametrize(
    ("query", "message", "position"),
    [
        (
            "cour sourc:legi",
            "unknown field 'sourc' (fields: title, text, source, date, pages, tags)",
            5,
        ),
        ("cour note:(x)", "unknown field 'note'", 5),
        ("cour OR source:legi", "restricts the whole query", 8),
        ("(cour source:legi)", "restricts the whole query", 6),
        ("pages:beaucoup", "'beaucoup' is not a number", 0),
        ("date:hier", "not an ISO 8601 date", 0),
        ("date:[2019 TO", "needs a closing", 5),
        ("date:[2019 2020]", "[LOW TO HIGH]", 0),
    ],
)
def test_filter_mistakes_raise_with_the_position(
    ix: Index, query: str, message: str, position: int
) -> None:
    with pytest.raises(QuerySyntaxError) as caught:
        ix.search(query)
    assert message in caught.value.message
    assert caught.value.position == position


def test_colons_that_are_not_fields_stay_text(ix: Index) -> None:
    ix.add([Document("isaac", "Jeu", "The Binding of Isaac:Rebirth, un jeu.")])
    assert ids(ix.search("Isaac:Rebirth")) == ["isaac"]
    assert ids(ix.search("Remarque: cour fédérale"))[:1] == ["a"]
    ix.search("http://exemple.fr 10:30")  # no error


# -- the filter argument ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("source:legi", ["c", "b"]),
        ("source:legi date:<2020", ["b"]),
        ({"source": "legi"}, ["c", "b"]),
        ({"source": ["sp", "kali"]}, ["a"]),
        ({"pages": 12}, ["a"]),
        ({"pages": "<100", "tags": "y"}, ["a"]),
        ({"date": ["2019", "2020"]}, ["a", "b"]),
        (Match("source", ("sp",)), ["a"]),
        (Range("pages", 100.0, None), ["b"]),
    ],
)
def test_the_filter_argument(ix: Index, given: object, expected: list[str]) -> None:
    assert ids(ix.search("cour", filter=given)) == expected  # type: ignore[arg-type]


def test_the_filter_argument_applies_with_the_querys_filters(ix: Index) -> None:
    assert ids(ix.search("cour source:legi", filter={"pages": ">100"})) == ["b"]


@pytest.mark.parametrize(
    ("given", "error"),
    [
        ("cour source:legi", QuerySyntaxError),
        ({"nope": "x"}, ValueError),
        ({"pages": "many"}, ValueError),
        (Match("pages", ("x",)), ValueError),
        (42, TypeError),
    ],
)
def test_a_malformed_filter_argument_raises(ix: Index, given: object, error: type) -> None:
    with pytest.raises(error):
        ix.search("cour", filter=given)  # type: ignore[arg-type]


# -- facets and sorting ------------------------------------------------------------------


def test_facets_count_every_match_not_just_the_page(ix: Index) -> None:
    results = ix.search(
        "cour OR vote",
        limit=1,
        facets=["source", "tags", Facet("date", by="month"), Facet("pages", edges=(0, 100))],
    )
    assert len(results.hits) == 1 and results.total == 4
    assert results.facets == {
        "source": {"legi": 2, "kali": 1, "sp": 1},
        "tags": {"y": 2, "x": 1},
        "date": {"2019-05": 1, "2020-03": 1, "2021-01": 1},
        "pages": {"*-0": 1, "0-100": 1, "100-*": 1},
    }
    assert results.to_dict()["facets"] == results.facets
    assert ix.search("cour", facets=[Facet("source", limit=1)]).facets == {"source": {"legi": 2}}


def test_facets_count_documents_when_collapsed() -> None:
    index = Index.in_memory(fields=FIELDS, passage_chars=100)
    long_text = "La cour a statué sur le fond du litige. " * 10
    index.add([Document("a", "t", long_text, {"source": "sp"}), Document("b", "t", "cour", {})])
    assert index.search("cour", collapse=False, facets=["source"]).facets["source"]["sp"] > 1
    collapsed = index.search("cour", facets=["source"])
    assert collapsed.total == 2 and collapsed.facets == {"source": {"sp": 1}}


@pytest.mark.parametrize(
    ("facet", "message"),
    [
        ("nope", "unknown field"),
        ("pages", "counts by ranges"),
        (Facet("source", by="year"), "counts per value"),
        (Facet("date", edges=(1,)), "by year, month or day"),
    ],
)
def test_facets_that_do_not_suit_their_field_raise(ix: Index, facet: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ix.search("cour", facets=[facet])  # type: ignore[list-item]


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("-date", ["a", "b", "c"]),
        ("date", ["b", "a", "c"]),
        ("pages", ["a", "b", "c"]),
        ("-pages", ["b", "a", "c"]),
        ("source,-date", ["b", "c", "a"]),
        (["source", "date"], ["b", "c", "a"]),
        ("-source", ["a", "c", "b"]),
        ("relevance", ["c", "a", "b"]),
    ],
)
def test_sorting(ix: Index, sort: object, expected: list[str]) -> None:
    assert ids(ix.search("cour", sort=sort)) == expected  # type: ignore[arg-type]


def test_sorted_pages_are_stable() -> None:
    index = Index.in_memory(fields=FIELDS)
    index.add([Document(f"d{i:02}", "t", "cour", {"pages": i % 4}) for i in range(30)])
    whole = [h.id for h in index.search("cour", sort="-pages", limit=30)]
    paged = [
        h.id for p in range(1, 7) for h in index.search("cour", sort="-pages", limit=5, page=p)
    ]
    assert paged == whole
    assert whole[:8] == [f"d{i:02}#1" for i in (3, 7, 11, 15, 19, 23, 27, 2)]


@pytest.mark.parametrize(("sort", "message"), [("tags", "several values"), ("nope", "unknown")])
def test_sorting_by_what_cannot_be_sorted_raises(ix: Index, sort: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ix.search("cour", sort=sort)


# -- command line and REPL -----------------------------------------------------------------


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    path = tmp_path / "docs.jsonl"
    with path.open("w", encoding="utf-8") as f:
        for d in DOCS:
            f.write(json.dumps({"id": d.id, "title": d.title, "text": d.text, **d.fields}) + "\n")
    return path


def test_cli_declares_filters_counts_and_sorts(tmp_path: Path, corpus: Path) -> None:
    target = str(tmp_path / "ix")
    args = ["--field", "source:keyword", "--field", "date:date", "--field", "pages:number"]
    assert (
        run(
            "index", str(corpus), "--index", target, "-q", *args, "--field", "tags:keyword:multiple"
        )[0]
        == 0
    )
    code, out, _ = run("stats", "--index", target, "--json")
    assert json.loads(out)["declared_fields"]["tags"] == "keyword (multiple)"
    code, out, _ = run(
        "search",
        "cour",
        "--index",
        target,
        "--filter",
        "source:legi",
        "--facet",
        "source",
        "--facet",
        "date:year",
        "--sort",
        "-date",
        "--json",
    )
    found = json.loads(out)
    assert code == 0 and [h["doc_id"] for h in found["hits"]] == ["b", "c"]
    assert found["hits"][0]["fields"]["date"] == "2019-05-01"
    assert found["facets"] == {"source": {"legi": 2}, "date": {"2019": 1}}
    code, out, _ = run(
        "search",
        "cour",
        "--index",
        target,
        "--facet",
        "pages:0,100",
        "--show-fields",
        "source,pages",
    )
    assert "     source=sp  pages=12\n" in out
    assert "pages: *-0 0 · 0-100 1 · 100-* 1" in out
    code, _, err = run("search", "cour sourc:sp", "--index", target)
    assert code == 1 and "unknown field 'sourc'" in err
    code, _, err = run("search", "cour", "--index", target, "--sort", "tags")
    assert code == 1 and "several values" in err
    code, _, err = run("index", str(corpus), "--index", target, "--append", "--field", "x:number")
    assert code == 1 and "fixed at its creation" in err


def test_cli_bad_field_declarations_are_usage_errors(tmp_path: Path, corpus: Path) -> None:
    code, _, err = run("index", str(corpus), "--index", str(tmp_path / "ix"), "--field", "x:colour")
    assert code == 2 and "NAME:TYPE" in err
    code, _, err = run(
        "index", str(corpus), "--index", str(tmp_path / "ix"), "--field", "text:date"
    )
    assert code == 1 and "reserved" in err and not (tmp_path / "ix").exists()
    code, _, err = run(
        "index", str(corpus), "--index", str(tmp_path / "ix"), "--field", "date:number"
    )
    assert code == 1 and "document 'a'" in err and "'2020-03-01'" in err


def test_repl_facets_sort_and_fields(ix: Index) -> None:
    out = io.StringIO()
    repl = Repl(ix, out=out)
    repl.run(
        [":facets source date:year", ":sort -date", ":fields date", "cour", ":facets off"],
        banner=False,
    )
    text = out.getvalue()
    assert "facets: source date:year" in text and "sorted by -date" in text
    assert "source: legi 2 · sp 1" in text and "date: 2019 1 · 2020 1" in text
    assert text.index("2020-03-01") < text.index("2019-05-01")
    assert text.rstrip().endswith("no facets")
    err = io.StringIO()
    Repl(ix, out=out, err=err).run([":sort nope", ":facets nope"], banner=False)
    assert err.getvalue().count("unknown field 'nope'") == 2


# -- the benchmark's engines -------------------------------------------------------------


@pytest.mark.parametrize("kind", ["searchlib", "tantivy", "fts5"])
def test_the_fields_benchmark_engines_agree(kind: str, tmp_path: Path) -> None:
    from benchmarks import fields as bench

    if kind == "tantivy":
        pytest.importorskip("tantivy")
    docs = [
        Document(d.id, d.title, d.text, {"source": d.fields["source"], "chars": len(d.text)})
        for d in DOCS
    ]
    engine = bench.ENGINES[kind]()
    engine.build(docs, tmp_path / kind)
    assert engine.facets("cour") == {"legi": 2, "sp": 1}
    assert engine.search("cour", source="legi") == 2
    assert engine.search("cour", source="kali") == 0
    assert engine.search("cour") == 3 and engine.search("cour", sort=True) == 3
    row = bench.measure(engine, ["cour", "vote"], "legi", "cour", repeat=1)
    assert row["facet_matches"] == 3 and row["facet_values"] == 2
    assert set(row) >= {"plain", "filtered", "sorted", "facets"}


def test_fields_survive_merges_and_deletions() -> None:
    index = Index.in_memory(fields=FIELDS)
    for part in (DOCS[:2], DOCS[2:3], DOCS[3:]):
        index.add(part)
    index.delete(["c"])
    asked = {"facets": ["source", Facet("pages", edges=(0, 100))], "sort": "-pages"}
    before = index.search("cour OR vote", **asked)  # type: ignore[arg-type]
    index.optimize()
    after = index.search("cour OR vote", **asked)  # type: ignore[arg-type]
    assert (
        after.facets
        == before.facets
        == {
            "source": {"kali": 1, "legi": 1, "sp": 1},
            "pages": {"*-0": 1, "0-100": 1, "100-*": 1},
        }
    )
    assert ids(after) == ids(before) == ["b", "a", "d"]


def test_field_types_are_exported() -> None:
    import searchlib

    assert searchlib.Keyword is Keyword and searchlib.Facet is Facet
    assert {"Keyword", "Number", "Date", "Facet"} <= set(searchlib.__all__)
