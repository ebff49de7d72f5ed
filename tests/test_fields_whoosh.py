"""Filters, facets and sorting on the vectorised path answer as Whoosh's own
machinery does (``filter=``, ``groupedby=``, ``sortedby=``), over random
documents, field values, queries and requests (Hypothesis).

The index is built in two commits with replaced documents, so that passage
numbers span segments and some passages are deleted.
"""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from whoosh import query as wq
from whoosh import sorting

from searchlib import Document, Index
from searchlib.fields import (
    AllOf,
    AnyOf,
    Date,
    Exclude,
    Facet,
    FilterExpr,
    Keyword,
    Match,
    Number,
    Range,
    SortKey,
    parse_date,
)
from searchlib.ranking.facets import FieldRequest, execute_fields, whoosh_filter

DECLARED = {
    "source": Keyword(),
    "tags": Keyword(multiple=True),
    "date": Date(),
    "pages": Number(),
}
WORDS = ["cour", "travail", "congé", "salaire", "contrat", "préavis"]
SOURCES = ["legi", "kali", "sp", "Émile"]
TAGS = ["a", "b", "c"]
DATES = ["1969-12-31", "2019-05-01", "2019-12-31T23:59:59", "2020-01-01", "2020-02-29", "2021"]
PAGES = [-3.5, 0, 1, 10, 99.5, 100, 2**53]

documents = st.lists(
    st.fixed_dictionaries(
        {
            "id": st.integers(0, 25).map(str),
            "words": st.lists(st.sampled_from(WORDS), min_size=1, max_size=4),
            "source": st.none() | st.sampled_from(SOURCES),
            "tags": st.none() | st.lists(st.sampled_from(TAGS), max_size=3),
            "date": st.none() | st.sampled_from(DATES),
            "pages": st.none() | st.sampled_from(PAGES),
        }
    ),
    min_size=1,
    max_size=30,
)


def _document(spec: dict[str, Any]) -> Document:
    fields = {k: spec[k] for k in ("source", "tags", "date", "pages") if spec[k] is not None}
    return Document(spec["id"], "titre", " ".join(spec["words"]), fields)


def _build(specs: list[dict[str, Any]]) -> Index:
    ix = Index.in_memory(fields=DECLARED)
    half = len(specs) // 2
    ix.add([_document(s) for s in specs[:half]])
    ix.add([_document(s) for s in specs[half:]])  # a second segment; repeated ids replace
    return ix


def _bounds() -> st.SearchStrategy[FilterExpr]:
    dates = st.sampled_from(DATES).map(lambda d: parse_date(d)[0])
    numbers = st.sampled_from([*PAGES, 50.0, -100.0])
    return st.one_of(
        st.builds(
            lambda lo, hi, a, b: Range("date", lo, hi, a, b),
            st.none() | dates,
            st.none() | dates,
            st.booleans(),
            st.booleans(),
        ),
        st.builds(
            lambda lo, hi, a, b: Range("pages", lo, hi, a, b),
            st.none() | numbers,
            st.none() | numbers,
            st.booleans(),
            st.booleans(),
        ),
    )


leaf_filters = st.one_of(
    st.builds(lambda v: Match("source", tuple(v)), st.lists(st.sampled_from(SOURCES), min_size=1)),
    st.builds(lambda v: Match("tags", tuple(v)), st.lists(st.sampled_from(TAGS), min_size=1)),
    _bounds(),
)
filters = st.recursive(
    leaf_filters,
    lambda inner: st.one_of(
        st.builds(lambda xs: AnyOf(tuple(xs)), st.lists(inner, min_size=1, max_size=3)),
        st.builds(lambda xs: AllOf(tuple(xs)), st.lists(inner, min_size=1, max_size=3)),
        st.builds(Exclude, inner),
    ),
    max_leaves=5,
)
queries = st.one_of(
    st.none(),  # filters alone
    st.lists(st.sampled_from(WORDS), min_size=1, max_size=3).map(
        lambda ws: wq.Or([wq.Term("text", w.replace("é", "e")) for w in ws])
    ),  # the fast path
    st.lists(st.sampled_from(WORDS), min_size=2, max_size=2).map(
        lambda ws: wq.And([wq.Term("text", w.replace("é", "e")) for w in ws])
    ),  # Whoosh's matchers
)
sort_keys = st.lists(
    st.builds(SortKey, st.sampled_from(["source", "date", "pages"]), st.booleans()),
    min_size=1,
    max_size=2,
    unique_by=lambda k: k.field,
)

SETTINGS = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _whoosh(ix: Index, query: wq.Query | None, expr: FilterExpr | None, **kwargs: Any) -> Any:
    searcher = ix.searcher()
    wfilter = None if expr is None else whoosh_filter(searcher.schema, expr)
    return searcher.search(
        query if query is not None else wq.Every(), filter=wfilter, limit=None, **kwargs
    )


def _ours(ix: Index, query: wq.Query | None, request: FieldRequest, limit: int = 1000) -> Any:
    view = ix.search_context().state.scoring
    return execute_fields(view, query, request, limit, collapse=False)


@SETTINGS
@given(documents, queries, st.none() | filters)
def test_filters_keep_what_whoosh_filter_keeps_ranked_alike(
    specs: list[dict[str, Any]], query: wq.Query | None, expr: FilterExpr | None
) -> None:
    ix = _build(specs)
    ours = _ours(ix, query, FieldRequest(DECLARED, expr))
    theirs = _whoosh(ix, query, expr)
    assert ours.total == len(theirs)
    if query is None:  # every passage scores alike: in passage order
        assert [d for d, _ in ours.ranked] == sorted(theirs.docs())
    else:
        assert ours.ranked == [(d, s) for d, s in theirs.items()]


def _year(micros: int) -> str:
    return f"{(dt.datetime(1970, 1, 1) + dt.timedelta(microseconds=micros)).year:04d}"


@SETTINGS
@given(documents, queries, st.none() | filters, st.sampled_from([(0, 10), (-1, 99.5, 100), (1,)]))
def test_facets_count_what_whoosh_groups(
    specs: list[dict[str, Any]],
    query: wq.Query | None,
    expr: FilterExpr | None,
    edges: tuple[float, ...],
) -> None:
    ix = _build(specs)
    facets = (Facet("source"), Facet("tags"), Facet("date"), Facet("pages", edges=edges))
    ours = _ours(ix, query, FieldRequest(DECLARED, expr, facets)).facets
    ranges = [None, *sorted(set(map(float, edges))), None]
    buckets = {
        f"{i}": wq.NumericRange("pages", lo, hi, endexcl=True)
        for i, (lo, hi) in enumerate(itertools.pairwise(ranges))
    }
    groups = {
        "source": sorting.FieldFacet("source"),
        "tags": sorting.FieldFacet("tags", allow_overlap=True),
        "date": sorting.FieldFacet("date"),
        "pages": sorting.QueryFacet(buckets),
    }
    theirs = _whoosh(ix, query, expr, groupedby=groups)
    assert ours["source"] == _counts(theirs.groups("source"))
    assert ours["tags"] == _counts(theirs.groups("tags"))
    years: dict[str, int] = {}
    for docnum in theirs.docs():  # the dates given, as stored with the documents
        given = (ix.searcher().stored_fields(docnum).get("fields") or {}).get("date")
        if given is not None:
            year = _year(parse_date(given)[0])
            years[year] = years.get(year, 0) + 1
    assert ours["date"] == dict(sorted(years.items()))
    pages = {k: len(v) for k, v in theirs.groups("pages").items() if k is not None}
    assert list(ours["pages"].values()) == [pages.get(str(i), 0) for i in range(len(buckets))]


def _counts(groups: dict[Any, list[int]]) -> dict[str, int]:
    counts = {k: len(v) for k, v in groups.items() if k is not None and v}
    return {k: counts[k] for k in sorted(counts, key=lambda k: (-counts[k], k))}


@SETTINGS
@given(documents, queries, st.none() | filters, sort_keys, st.integers(1, 12))
def test_sorting_orders_as_whoosh_sortedby(
    specs: list[dict[str, Any]],
    query: wq.Query | None,
    expr: FilterExpr | None,
    keys: list[SortKey],
    limit: int,
) -> None:
    ix = _build(specs)
    ours = _ours(ix, query, FieldRequest(DECLARED, expr, (), tuple(keys)), limit)
    facets: list[Any] = []
    for key in keys:
        # Passages without a value last, whichever the direction.
        facets.append(sorting.QueryFacet({"0": wq.Every(key.field)}, other="1"))
        facets.append(sorting.FieldFacet(key.field, reverse=key.descending))
    facets += [sorting.ScoreFacet(), sorting.FieldFacet("doc_id")]
    theirs = _whoosh(ix, query, expr, sortedby=sorting.MultiFacet(facets))
    assert [d for d, _ in ours.ranked] == [d for d, _ in theirs.items()][:limit]


@SETTINGS
@given(documents, st.none() | filters)
def test_filters_and_facets_count_documents_when_collapsed(
    specs: list[dict[str, Any]], expr: FilterExpr | None
) -> None:
    ix = Index.in_memory(fields=DECLARED, passage_chars=100)
    # Long texts: several passages per document.
    docs = [_document(s) for s in specs]
    docs = [Document(d.id, d.title, (d.text + ". ") * 12, d.fields) for d in docs]
    ix.add(docs)
    query = wq.Or([wq.Term("text", w) for w in ("cour", "travail", "conge")])
    view = ix.search_context().state.scoring
    request = FieldRequest(DECLARED, expr, (Facet("source"),))
    ours = execute_fields(view, query, request, 1000, collapse=True)
    theirs = _whoosh(ix, query, expr, groupedby={"source": sorting.FieldFacet("source")})
    doc_ids = ix.searcher().reader().column_reader("doc_id")
    best: dict[str, tuple[float, int]] = {}
    for docnum, score in theirs.items():
        best.setdefault(doc_ids[docnum], (score, docnum))
    assert ours.total == len(best)
    assert [d for d, _ in ours.ranked] == [d for _, d in best.values()]
    counted = {k: len({doc_ids[d] for d in v}) for k, v in theirs.groups("source").items() if k}
    assert ours.facets["source"] == {
        k: counted[k] for k in sorted(counted, key=lambda k: (-counted[k], k))
    }


def test_the_reference_sees_what_it_should() -> None:
    # The comparisons above are not vacuous: filters keep some and drop some.
    specs = [
        {
            "id": "1",
            "words": ["cour"],
            "source": "sp",
            "tags": ["a"],
            "date": "2020-01-01",
            "pages": 10,
        },
        {"id": "2", "words": ["cour"], "source": "legi", "tags": None, "date": None, "pages": None},
    ]
    ix = _build(specs)
    kept = _ours(ix, None, FieldRequest(DECLARED, Range("pages", 5.0, None))).ranked
    assert [d for d, _ in kept] == sorted(_whoosh(ix, None, Range("pages", 5.0, None)).docs())
    assert len(kept) == 1
    assert np.asarray(kept).size == 2
