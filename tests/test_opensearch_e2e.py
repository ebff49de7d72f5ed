"""End to end on a real OpenSearch cluster: runs when ``SEARCHLIB_OPENSEARCH_URL`` is set.

Environment: ``SEARCHLIB_OPENSEARCH_URL`` (e.g. ``https://localhost:9200``), and as
needed ``SEARCHLIB_OPENSEARCH_USER``, ``SEARCHLIB_OPENSEARCH_PASSWORD``,
``SEARCHLIB_OPENSEARCH_CA_CERTS``, ``SEARCHLIB_OPENSEARCH_INSECURE=1`` (no certificate
check, for a local test cluster). Each test run works in indexes of its own
(``searchlib-test-<random>``) and deletes them.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from searchlib import Document, FrenchAnalyzer, Index, load_jsonl
from searchlib.fields import Facet
from searchlib.opensearch import (
    BulkError,
    ClusterAuthError,
    MetadataField,
    OpenSearchIndex,
    make_client,
)
from searchlib.opensearch.cli import insecure
from searchlib.opensearch.mapping import ANALYZER, EXACT_ANALYZER

URL = os.environ.get("SEARCHLIB_OPENSEARCH_URL", "")
pytestmark = [
    pytest.mark.skipif(
        not URL, reason="no cluster: set SEARCHLIB_OPENSEARCH_URL to run the end-to-end tests"
    ),
    # a test cluster without a certificate to check (SEARCHLIB_OPENSEARCH_INSECURE=1)
    pytest.mark.filterwarnings("ignore::searchlib.opensearch.errors.InsecureConnectionWarning"),
]
CORPUS = Path(__file__).parent / "data" / "cli" / "corpus.jsonl"
DECLARED = [
    MetadataField("source", "keyword"),
    MetadataField("year", "number"),
    MetadataField("published", "date"),
    MetadataField("tags", "keyword", multiple=True),
]


def connection() -> dict[str, Any]:
    return {
        "username": os.environ.get("SEARCHLIB_OPENSEARCH_USER"),
        "password": os.environ.get("SEARCHLIB_OPENSEARCH_PASSWORD"),
        "ca_certs": os.environ.get("SEARCHLIB_OPENSEARCH_CA_CERTS"),
        "verify_certs": not insecure(),  # as the CLI reads SEARCHLIB_OPENSEARCH_INSECURE
    }


def documents() -> list[Document]:
    docs = []
    for n, doc in enumerate(load_jsonl(CORPUS)):
        fields = {
            "source": "synthetic" if n % 2 else "seed",
            "year": 2018 + n,
            "published": f"{2018 + n}-03-01",
            "tags": ["a", "b"] if n % 2 else ["a"],
        }
        docs.append(Document(doc.id, doc.title, doc.text, fields))
    docs.append(Document("cdd1", "CDD", "Le contrat à durée déterminée (CDD) est écrit."))
    docs.append(Document("cdd2", "Fin", "Un contrat à durée déterminée (CDD) prend fin."))
    return docs


@pytest.fixture(scope="module")
def cluster_index() -> Iterator[OpenSearchIndex]:
    name = f"searchlib-test-{uuid.uuid4().hex[:10]}"
    index = OpenSearchIndex.create(URL, name, declared=DECLARED, replicas=0, **connection())
    try:
        index.add(documents())
        yield index
    finally:
        index.drop()
        index.close()


@pytest.fixture(scope="module")
def local_index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Index]:
    with Index.create(tmp_path_factory.mktemp("e2e") / "ix") as ix:
        ix.add(documents())
        yield ix


def test_the_cluster_analyses_as_searchlib() -> None:
    client = make_client(URL, **connection())
    name = f"searchlib-test-{uuid.uuid4().hex[:10]}"
    OpenSearchIndex.create(URL, name, client=client, replicas=0)
    try:
        texts = [
            "L’URL de la Cour fédérale des États-Unis",
            "13 ème mois, 13eme, treizième, 1er ; M.P.A.A. ; l'O.N.U ; 3,5 % ; 1.000.000",
            "Les travaux des époux françaises ; aujourd'hui ; lʼécole ; Москва ; α-β",
        ]
        for analyzer, local in (
            (ANALYZER, FrenchAnalyzer()),
            (EXACT_ANALYZER, FrenchAnalyzer(stem=False, fold=False, drop_stop_words=True)),
        ):
            for text in texts:
                found = client.indices.analyze(
                    index=name, body={"analyzer": analyzer, "text": text}
                )
                theirs = sorted((t["position"], t["token"]) for t in found["tokens"])
                mine = sorted((t.pos, t.text) for t in local.tokens(text, mode="index"))
                assert theirs == mine, (analyzer, text)
    finally:
        client.indices.delete(index=name)


@pytest.mark.parametrize(
    "query",
    ["cour fédérale", '"vide juridique"', "États-Unis -juge", "CDD", "telechargr", "oeuvre d'art"],
)
def test_the_same_documents_match(
    cluster_index: OpenSearchIndex, local_index: Index, query: str
) -> None:
    theirs = cluster_index.search(query, limit=20)
    mine = local_index.search(query, limit=20)
    assert theirs.total == mine.total
    assert {h.id for h in theirs} == {h.id for h in mine}
    assert theirs.match == mine.match
    for hit in theirs:
        for a, b in hit.snippet.spans:
            assert hit.text[a:b]  # marks point into the stored text


def test_filters_facets_and_sorting(cluster_index: OpenSearchIndex) -> None:
    results = cluster_index.search(
        "la OR le",
        collapse=True,
        limit=50,
        filter="year:>=2019 tags:b",
        facets=["source", Facet("published", by="year")],
        sort="-year",
    )
    years = [h.fields["year"] for h in results]
    assert years == sorted(years, reverse=True) and all(y >= 2019 for y in years)
    assert all("b" in h.fields["tags"] for h in results)
    assert results.total == len(results.hits)
    assert sum(b.documents for b in results.facet_buckets["source"]) == results.total


def test_documents_round_trip_and_delete(cluster_index: OpenSearchIndex) -> None:
    doc = Document("long", "Long", "\n\n".join("Paragraphe. " + "mot " * 80 for _ in range(8)))
    cluster_index.add([doc])
    assert cluster_index.document("long") == doc
    shorter = Document("long", "Court", "Un seul paragraphe.")
    cluster_index.add([shorter])  # replaces every passage of the longer version
    assert cluster_index.passages("long") == [
        {
            "id": "long#1",
            "doc_id": "long",
            "position": 0,
            "start": 0,
            "title": "Court",
            "text": "Un seul paragraphe.",
            "fields": None,
        }
    ]
    assert cluster_index.delete(["long"]) == 1
    assert cluster_index.document("long") is None
    stats = cluster_index.stats()
    assert stats.documents == len(documents())


def test_a_refused_document_is_reported(cluster_index: OpenSearchIndex) -> None:
    immense = "x" * 40_000  # one term past Lucene's 32,766 bytes: the cluster refuses it
    docs = [
        Document("ok", "Bon", "Un texte."),
        Document("bad", "Mauvais", "y", {"source": immense}),
    ]
    with pytest.raises(BulkError) as e:
        cluster_index.add(docs)
    assert [r.doc_id for r in e.value.refused] == ["bad"]
    assert cluster_index.document("ok") is not None and cluster_index.document("bad") is None
    cluster_index.delete(["ok"])


def test_wrong_credentials_are_refused() -> None:
    options = {**connection(), "username": "searchlib-nobody", "password": "wrong"}
    if connection()["username"] is None:
        pytest.skip("the cluster has no authentication (SEARCHLIB_OPENSEARCH_USER unset)")
    with pytest.raises(ClusterAuthError):
        OpenSearchIndex.open(URL, "searchlib-test-none", **options)
