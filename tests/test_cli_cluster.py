"""Every command that takes ``--index`` on an OpenSearch index (the fake cluster of
``test_opensearch_contract`` on 127.0.0.1): it works, or says in one line why not."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from test_opensearch_contract import (  # the fake cluster and its answers
    INDEX,
    FakeCluster,
    a_hit,
    cluster,
    new_index,
    search_answer,
)

from searchlib.app.cli import main
from searchlib.opensearch import BulkError, MetadataField
from searchlib.opensearch.translate import DOCUMENT_COUNT

__all__ = ["cluster"]  # the fixture, imported for pytest


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def spec(cluster: FakeCluster) -> str:
    new_index(cluster, declared=[MetadataField("source", "keyword")])
    hits = [a_hit("d1#0", 2.5, "Le préavis de démission.", ["Le \ue000préavis\ue001 de"])]
    aggs = {
        "facet_0": {"buckets": [{"key": "sp", "doc_count": 1, "documents": {"value": 1}}]},
        DOCUMENT_COUNT: {"value": 1},
    }
    cluster.on("POST", f"/{INDEX}/_search", lambda r: (200, search_answer(hits, aggregations=aggs)))
    cluster.on("POST", f"/{INDEX}/_count", lambda r: (200, {"count": 1, "_shards": {}}))
    cluster.on(
        "GET",
        f"/{INDEX}/_stats/store",
        lambda r: (200, {"_all": {"primaries": {"store": {"size_in_bytes": 10}}}}),
    )
    return f"{cluster.url}/{INDEX}"


def searches(cluster: FakeCluster) -> list[dict[str, Any]]:
    return [r.json() for r in cluster.sent("POST", f"/{INDEX}/_search")]


def test_search_on_a_cluster(spec: str, cluster: FakeCluster) -> None:
    code, out, err = run("search", "préavis", "--index", spec)
    assert code == 0 and not err
    assert "préavis" in out and "d1" in out


def test_search_json_with_a_filter_and_a_facet_on_a_cluster(
    spec: str, cluster: FakeCluster
) -> None:
    code, out, err = run(
        "search", "préavis", "--index", spec, "--filter", "source:sp", "--facet", "source", "--json"
    )
    assert code == 0, err
    data = json.loads(out)
    assert data["hits"][0]["doc_id"] == "d1" and data["facets"] == {"source": {"sp": 1}}
    body = searches(cluster)[-1]
    assert {"terms": {"fields.source": ["sp"]}} in body["query"]["bool"]["filter"]


def test_an_undeclared_filter_on_a_cluster_is_refused_as_locally(spec: str) -> None:
    code, out, err = run("search", "préavis", "--index", spec, "--filter", "author:x")
    assert code != 0 and not out
    assert err.startswith("searchlib: query error: unknown field 'author'")
    assert "Traceback" not in err


def test_stats_on_a_cluster(spec: str) -> None:
    code, out, err = run("stats", "--index", spec)
    assert code == 0, err
    assert "source" in out
    code, out, err = run("stats", "--index", spec, "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["declared_fields"] == {"source": "keyword"} and data["documents"] == 1


def test_eval_on_a_cluster(spec: str, tmp_path: Any) -> None:
    queries = tmp_path / "q.jsonl"
    queries.write_text(json.dumps({"id": "q1", "text": "préavis"}) + "\n", encoding="utf-8")
    qrels = tmp_path / "r.tsv"
    qrels.write_text("q1\td1\t1\n", encoding="utf-8")
    code, out, err = run(
        "eval", "--index", spec, "--queries", str(queries), "--qrels", str(qrels), "--json"
    )
    assert code == 0, err
    assert json.loads(out)["ndcg@10"] == 1.0, out + err


def test_get_on_a_cluster(spec: str, cluster: FakeCluster) -> None:
    code, out, err = run("get", "d1", "--index", spec, "--json")
    assert code == 0, err
    assert json.loads(out)["id"] == "d1"


@pytest.mark.parametrize(
    "argv",
    [
        ("complete", "pré"),
        ("explain", "préavis", "d1#0"),
        ("search", "préavis", "--semantic", "only"),
        ("search", "préav", "--as-you-type"),
    ],
)
def test_what_a_cluster_cannot_do_is_one_line(spec: str, argv: tuple[str, ...]) -> None:
    code, _, err = run(*argv, "--index", spec)
    assert code != 0
    assert err.count("\n") == 1 and "OpenSearch" in err and "Traceback" not in err


def test_the_repl_on_a_cluster(spec: str) -> None:
    out, err = io.StringIO(), io.StringIO()
    code = main(
        ["repl", "--index", spec],
        stdin=io.StringIO("préavis\n:stats\n:quit\n"),
        stdout=out,
        stderr=err,
    )
    assert code == 0, err.getvalue()
    assert "préavis" in out.getvalue() and "passages" in out.getvalue()


def test_analyze_uses_the_index_analyzer(tmp_path: Any) -> None:
    from searchlib import FrenchAnalyzer, Index

    unstemmed = FrenchAnalyzer(stem=False)
    Index.create(tmp_path / "ix", analyzer=unstemmed).close()
    code, out, err = run("analyze", "les chevaux", "--json", "--index", str(tmp_path / "ix"))
    assert code == 0, err
    assert json.loads(out)["terms"] == unstemmed.terms("les chevaux")
    assert unstemmed.terms("les chevaux") != FrenchAnalyzer().terms("les chevaux")


# -- export --opensearch carries the index as it is ------------------------------------------


def test_export_carries_fields_passage_size_and_ranking(tmp_path: Any) -> None:
    from searchlib import Date, Document, Index, Keyword, Ranking

    text = "\n\n".join(f"Paragraphe {n} sur le préavis de démission du salarié." for n in range(20))
    with Index.create(
        tmp_path / "ix", passage_chars=300, fields={"source": Keyword(), "day": Date()}
    ) as ix:
        ix.add([Document("d", "Préavis", text, {"source": "sp", "day": "2020-01"})])
        local_passages = len(ix.passages("d"))
    assert local_passages > 2
    code, _, err = run("export", "--index", str(tmp_path / "ix"), "--opensearch", str(tmp_path))
    assert code == 0, err
    body = json.loads((tmp_path / "index.json").read_text(encoding="utf-8"))
    assert body["mappings"]["_meta"]["searchlib"]["passage_chars"] == 300
    assert "day" in body["mappings"]["properties"]["fields"]["properties"]
    lines = (tmp_path / "bulk.ndjson").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 2 * local_passages
    # the library call takes the ranking as well (the command line: the index's)
    folder = tmp_path / "os"
    with Index.open(tmp_path / "ix") as ix:
        from searchlib.opensearch.cli import export_documents

        code = export_documents(
            ix.documents(),
            str(folder),
            io.StringIO(),
            io.StringIO(),
            fields=ix.fields,
            ranking=Ranking(k1=1.5),
            passage_chars=ix.passage_chars,
            analyzer=ix.analyzer,
        )
    assert code == 0
    body = json.loads((folder / "index.json").read_text(encoding="utf-8"))
    mapped = body["mappings"]["properties"]["fields"]["properties"]
    assert mapped["source"]["type"] == "keyword" and mapped["day"]["type"] == "date"
    assert body["mappings"]["_meta"]["searchlib"]["passage_chars"] == 300
    similarity = body["settings"]["index"]["similarity"]["searchlib_text"]
    assert similarity["k1"] == 1.5
    lines = (folder / "bulk.ndjson").read_text(encoding="utf-8").splitlines()
    sources = [json.loads(x) for x in lines[1::2]]
    assert len(sources) == local_passages
    assert sources[0]["fields"] == {"source": "sp", "day": "2020-01-01T00:00:00+00:00"}


def test_export_of_an_index_with_another_analyzer_is_refused_in_one_line(tmp_path: Any) -> None:
    from searchlib import Document, FrenchAnalyzer, Index

    with Index.create(tmp_path / "ix", analyzer=FrenchAnalyzer(stem=False)) as ix:
        ix.add([Document("d", "Titre", "Texte.")])
    code, _, err = run("export", "--index", str(tmp_path / "ix"), "--opensearch", str(tmp_path))
    assert code != 0 and err.count("\n") == 1 and "analyzer" in err


def test_a_cluster_checks_declared_values_as_the_local_index_does(cluster: FakeCluster) -> None:
    from searchlib import Date, Document, DocumentError, Index, Keyword

    index = new_index(cluster, declared=[MetadataField("day", "date")])
    local = Index.in_memory(fields={"day": Date(), "k": Keyword()})
    for value in ("1700000000000", 1700000000000, "2020-13-45"):
        doc = Document("x", "T", "Texte.", {"day": value})
        with pytest.raises(DocumentError):
            local.add([doc])
        with pytest.raises(BulkError, match="day"):
            index.add([doc])
    index.add([Document("m", "T", "Texte.", {"day": "2020-01"})])
    local.add([Document("m", "T", "Texte.", {"day": "2020-01"})])
    sent = [line for r in cluster.sent("POST", "/_bulk") for line in r.lines()]
    assert sent[-1]["fields"] == {"day": "2020-01-01T00:00:00+00:00"}


# -- one rule book: the cluster compiles with searchlib's compiler -----------------------------


def _typo_answers(cluster: FakeCluster) -> None:
    suggestion = {
        "n0": [
            {
                "text": "contrst",
                "offset": 0,
                "length": 7,
                "options": [{"text": "contrat", "score": 0.85, "freq": 40}],
            }
        ],
        "n1": [{"text": "contrst", "offset": 0, "length": 7, "options": []}],
    }
    lookup = search_answer(
        [], aggregations={"f0": {"doc_count": 0}, "f1": {"doc_count": 0}}, suggest=suggestion
    )
    answers = iter([lookup, search_answer([])])
    cluster.on("POST", f"/{INDEX}/_search", lambda r: (200, next(answers)))


def test_a_cluster_reports_corrections_as_a_local_index(cluster: FakeCluster) -> None:
    index = new_index(cluster)
    _typo_answers(cluster)
    results = index.search("contrst")
    assert [(c.word, c.terms) for c in results.corrections] == [("contrst", ("contrat",))]
    assert results.searched == "contrat"


def test_plus_word_is_never_corrected_on_a_cluster(cluster: FakeCluster) -> None:
    index = new_index(cluster)
    cluster.on("POST", f"/{INDEX}/_search", lambda r: (200, search_answer([])))
    results = index.search("+contrst")
    assert not results.corrections
    # no lookup was needed: the word is searched as typed
    (search,) = cluster.sent("POST", f"/{INDEX}/_search")
    assert '"contrst"' in json.dumps(search.json()["query"])


def test_filters_in_the_query_text_and_alone_on_a_cluster(spec: str, cluster: FakeCluster) -> None:
    code, _, err = run("search", "préavis source:sp", "--index", spec)
    assert code == 0, err
    body = searches(cluster)[-1]
    assert {"terms": {"fields.source": ["sp"]}} in body["query"]["bool"]["filter"]
    code, _, err = run("search", "source:sp", "--index", spec)
    assert code == 0, err
    body = searches(cluster)[-1]
    assert body["query"]["bool"]["must"] == [{"match_all": {}}]


def test_a_fuzzy_word_too_long_is_refused_on_a_cluster_as_locally(cluster: FakeCluster) -> None:
    from searchlib import Index, QuerySyntaxError

    word = "a" * 40 + "~"
    index = new_index(cluster)
    with pytest.raises(QuerySyntaxError, match="too long") as theirs:
        index.search(word)
    with pytest.raises(QuerySyntaxError, match="too long") as mine:
        Index.in_memory().search(word)
    assert str(theirs.value) == str(mine.value)


def test_index_declares_fields_on_a_cluster(cluster: FakeCluster, tmp_path: Any) -> None:
    corpus = tmp_path / "c.jsonl"
    corpus.write_text(
        json.dumps({"id": "a", "title": "T", "text": "Le préavis.", "source": "sp"}) + "\n",
        encoding="utf-8",
    )
    cluster.on("POST", f"/{INDEX}/_count", lambda r: (200, {"count": 1, "_shards": {}}))
    cluster.on("GET", f"/{INDEX}/_stats/store", lambda r: (200, {"_all": {}}))
    spec = f"{cluster.url}/{INDEX}"
    code, _, err = run("index", str(corpus), "--index", spec, "--field", "source:keyword")
    assert code == 0, err
    mapped = cluster.mappings[INDEX]["properties"]["fields"]["properties"]
    assert mapped["source"] == {"type": "keyword"}
    code, _, err = run("index", str(corpus), "--index", spec, "--semantic", "--overwrite")
    assert code != 0 and "vectors" in err and err.count("\n") == 1


def test_delete_and_export_on_a_cluster(spec: str, cluster: FakeCluster, tmp_path: Any) -> None:
    code, out, err = run("delete", "d1", "--index", spec)
    assert code == 0, err
    assert out.startswith("deleted 1 document") and "password" not in out
    assert cluster.sent("POST", f"/{INDEX}/_delete_by_query") or cluster.sent("POST", "/_bulk")
    code, out, err = run("export", "--index", spec, "-o", str(tmp_path / "out.jsonl"))
    assert code == 0, err
    (record,) = [json.loads(x) for x in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert record["id"] == "d1" and record["text"] == "Le préavis de démission."
    body = searches(cluster)[-1]
    assert body["sort"][0] == {"doc_id": {"order": "asc"}}


def test_index_json_on_a_cluster(cluster: FakeCluster, tmp_path: Any) -> None:
    corpus = tmp_path / "c.jsonl"
    corpus.write_text(json.dumps({"id": "a", "title": "T", "text": "Le préavis."}) + "\n")
    cluster.on("POST", f"/{INDEX}/_count", lambda r: (200, {"count": 1, "_shards": {}}))
    cluster.on("GET", f"/{INDEX}/_stats/store", lambda r: (200, {"_all": {}}))
    code, out, err = run("index", str(corpus), "--index", f"{cluster.url}/{INDEX}", "--json")
    assert code == 0, err
    assert json.loads(out)["indexed"] == 1


def test_a_cluster_search_collapses_to_documents_unless_passages_are_asked(
    spec: str, cluster: FakeCluster
) -> None:
    code, out, err = run("search", "préavis", "--index", spec, "--json")
    assert code == 0, err
    body = searches(cluster)[-1]
    assert body["collapse"] == {"field": "doc_id"} and DOCUMENT_COUNT in body["aggs"]
    assert json.loads(out)["total"] == 1  # read from the document count
    code, out, err = run("search", "préavis", "--index", spec, "--json", "--passages")
    assert code == 0, err
    body = searches(cluster)[-1]
    assert "collapse" not in body and DOCUMENT_COUNT not in body.get("aggs", {})
