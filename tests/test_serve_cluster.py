"""searchlib serve over a cluster index (the fake cluster of test_opensearch_contract
on 127.0.0.1): the same API and page, the cluster's limits said in one line."""

from __future__ import annotations

from typing import Any

import pytest

pytest.importorskip("starlette", reason="needs the serve extra: pip install -e '.[serve,test]'")
pytest.importorskip("httpx2", reason="needs httpx2 (the test extra) for Starlette's test client")

from starlette.testclient import TestClient
from test_opensearch_contract import (
    INDEX,
    FakeCluster,
    a_hit,
    cluster,
    new_index,
    search_answer,
)

from searchlib.opensearch import MetadataField
from searchlib.opensearch.translate import DOCUMENT_COUNT
from searchlib.serve import create_app

__all__ = ["cluster"]  # the fixture, imported for pytest


@pytest.fixture
def client(cluster: FakeCluster) -> TestClient:
    index = new_index(cluster, declared=[MetadataField("source", "keyword")])
    hits = [a_hit("d1#0", 2.5, "Le préavis de démission.", ["Le \ue000préavis\ue001 de"])]
    aggs = {
        "facet_0": {"buckets": [{"key": "sp", "doc_count": 1, "documents": {"value": 1}}]},
        DOCUMENT_COUNT: {"value": 1},
    }
    cluster.on("POST", f"/{INDEX}/_search", lambda r: (200, search_answer(hits, aggregations=aggs)))
    return TestClient(create_app(index, label=f"{cluster.url}/{INDEX}"))


def searches(cluster: FakeCluster) -> list[dict[str, Any]]:
    return [r.json() for r in cluster.sent("POST", f"/{INDEX}/_search")]


def test_the_api_searches_a_cluster_with_a_time_limit(
    client: TestClient, cluster: FakeCluster
) -> None:
    got = client.get("/api/search", params={"q": "préavis", "facet": "source"})
    assert got.status_code == 200, got.text
    body = got.json()
    assert body["hits"][0]["doc_id"] == "d1" and body["facets"] == {"source": {"sp": 1}}
    assert "<mark>préavis</mark>" in body["hits"][0]["snippet"]
    assert searches(cluster)[-1]["timeout"] == "10000ms"  # the server's limit, sent


def test_the_page_searches_a_cluster(client: TestClient) -> None:
    page = client.get("/", params={"q": "préavis"})
    assert page.status_code == 200 and "<mark>préavis</mark>" in page.text
    assert 'href="/?q=pr%C3%A9avis&amp;f.source=sp"' in page.text  # a facet to click


def test_what_a_cluster_cannot_do_is_said_in_one_line(
    client: TestClient, cluster: FakeCluster
) -> None:
    explain = client.get("/api/explain", params={"q": "préavis", "id": "d1#0"})
    assert explain.status_code == 400
    assert explain.json()["error"] == "explain is not available on an OpenSearch index"
    assert cluster.url not in explain.text
