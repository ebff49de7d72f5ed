"""Contract tests: what :class:`OpenSearchIndex` sends through the real ``opensearch-py``
client to a small fake cluster on 127.0.0.1, checked against OpenSearch's documented
request structure, and what it makes of the documented answers (errors included).

The fake records every request and answers with the response shapes of OpenSearch's
REST API reference (index creation, mapping, bulk, delete-by-query, search with hits,
highlights, aggregations and suggestions, count, stats, error bodies).
"""

from __future__ import annotations

import json
import re
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from conftest import in_ci

from searchlib import Document, Ranking
from searchlib.errors import (
    IndexExistsError,
    IndexNotFoundError,
    IndexVersionError,
    SearchlibError,
    SearchTimeoutError,
)
from searchlib.opensearch import (
    BulkError,
    ClusterAuthError,
    ClusterError,
    ClusterUnavailableError,
    MappingConflictError,
    MetadataField,
    OpenSearchIndex,
    index_body,
)
from searchlib.opensearch.translate import DOCUMENT_COUNT, HIGHLIGHT_TAGS

if in_ci():
    import opensearchpy  # noqa: F401 (under CI the client must be installed: .ci/run installs it)
else:
    pytest.importorskip(
        "opensearchpy", reason='needs opensearch-py: pip install -e ".[opensearch]"'
    )

OPEN, CLOSE = HIGHLIGHT_TAGS
INDEX = "cdtn"

# -- the fake cluster ----------------------------------------------------------------------


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    def lines(self) -> list[Any]:
        text = self.body.decode("utf-8")
        assert text.endswith("\n"), "bulk bodies end with a newline (OpenSearch refuses others)"
        return [json.loads(x) for x in text.splitlines()]


@dataclass
class Raw:
    """An answer sent as it is (not JSON): a proxy's page, a cut-off body."""

    body: bytes
    content_type: str = "text/html; charset=UTF-8"


Answer = tuple[int, Any]


@dataclass
class FakeCluster:
    """Routes (method, path pattern) to answers; records requests."""

    url: str = ""
    requests: list[Request] = field(default_factory=list)
    routes: list[tuple[str, re.Pattern[str], Callable[[Request], Answer]]] = field(
        default_factory=list
    )
    mappings: dict[str, Any] = field(default_factory=dict)

    def on(self, method: str, path: str, answer: Callable[[Request], Answer]) -> None:
        self.routes.insert(0, (method, re.compile(path + r"$"), answer))

    def answer(self, request: Request) -> Answer:
        for method, pattern, respond in self.routes:
            if method == request.method and pattern.match(request.path):
                return respond(request)
        return 404, error_body("no_handler_found_exception", f"no route {request.path}")

    def sent(self, method: str, path: str) -> list[Request]:
        return [r for r in self.requests if r.method == method and re.fullmatch(path, r.path)]


def error_body(kind: str, reason: str, status: int = 400) -> dict[str, Any]:
    """OpenSearch's error body."""
    cause = {"type": kind, "reason": reason}
    return {"error": {"root_cause": [cause], **cause}, "status": status}


def _handler(cluster: FakeCluster) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _serve(self) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            request = Request(
                self.command,
                parts.path,
                parse_qs(parts.query),
                {k.lower(): v for k, v in self.headers.items()},
                body,
            )
            cluster.requests.append(request)
            try:
                status, payload = cluster.answer(request)
            except Exception as e:  # noqa: BLE001 - a fake's bug: a 500 that names it
                status, payload = 500, error_body("fake_cluster_error", repr(e), 500)
            content_type = "application/json; charset=UTF-8"
            if isinstance(payload, Raw):
                data, content_type = payload.body, payload.content_type
            else:
                data = b"" if payload is None else json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)

        do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _serve

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@pytest.fixture
def cluster() -> Iterator[FakeCluster]:
    fake = FakeCluster()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fake))
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    standard_routes(fake)
    yield fake
    server.shutdown()
    server.server_close()


def standard_routes(fake: FakeCluster) -> None:
    """Documented answers of an index that accepts everything."""

    def create(r: Request) -> Answer:
        name = r.path.strip("/")
        fake.mappings[name] = r.json()["mappings"]
        return 200, {"acknowledged": True, "shards_acknowledged": True, "index": name}

    def exists(r: Request) -> Answer:
        return (200, None) if r.path.strip("/") in fake.mappings else (404, None)

    def get_mapping(r: Request) -> Answer:
        name = r.path.split("/")[1]
        if name not in fake.mappings:
            return 404, error_body("index_not_found_exception", f"no such index [{name}]", 404)
        return 200, {name: {"mappings": fake.mappings[name]}}

    def put_mapping(r: Request) -> Answer:
        name = r.path.split("/")[1]
        fake.mappings[name]["_meta"] = r.json()["_meta"]
        return 200, {"acknowledged": True}

    def bulk(r: Request) -> Answer:
        items = []
        for kind, meta, _ in bulk_actions(r):
            result = "created" if kind == "index" else "deleted"
            items.append(
                {
                    kind: {
                        "_index": meta["_index"],
                        "_id": meta["_id"],
                        "status": 200,
                        "result": result,
                    }
                }
            )
        return 200, {"took": 3, "errors": False, "items": items}

    shards = {"total": 1, "successful": 1, "failed": 0}
    fake.on("PUT", r"/[^/_]+", create)
    fake.on("HEAD", r"/[^/_]+", exists)
    fake.on("GET", r"/[^/]+/_mapping", get_mapping)
    fake.on("PUT", r"/[^/]+/_mapping", put_mapping)
    fake.on(
        "GET",
        r"/[^/]+/_settings",
        lambda r: (200, {r.path.split("/")[1]: {"settings": {"index": {"number_of_shards": "1"}}}}),
    )
    fake.on("POST", r"/_bulk", bulk)
    fake.on("POST", r"/[^/]+/_refresh", lambda r: (200, {"_shards": shards}))
    fake.on(
        "POST",
        r"/[^/]+/_delete_by_query",
        lambda r: (200, {"took": 1, "timed_out": False, "total": 0, "deleted": 0, "failures": []}),
    )
    fake.on("DELETE", r"/[^/_]+", lambda r: (200, {"acknowledged": True}))


def bulk_actions(r: Request) -> list[tuple[str, dict[str, Any], Any]]:
    """A bulk body as (action, its metadata, its source or None): the documented
    format, an action line followed by a source line for index actions."""
    lines = r.lines()
    out = []
    n = 0
    while n < len(lines):
        ((kind, meta),) = lines[n].items()
        assert kind in ("index", "delete"), lines[n]
        source = lines[n + 1] if kind == "index" else None
        out.append((kind, meta, source))
        n += 2 if kind == "index" else 1
    return out


def new_index(cluster: FakeCluster, **options: Any) -> OpenSearchIndex:
    return OpenSearchIndex.create(cluster.url, INDEX, **options)


# -- the documented request structure -----------------------------------------------------

# Parameters OpenSearch documents for each analysis component searchlib uses.
COMPONENTS: dict[str, set[str]] = {
    "pattern": {"type", "pattern", "flags", "group"},
    "mapping": {"type", "mappings", "mappings_path"},
    "pattern_replace": {"type", "pattern", "replacement", "all", "flags"},
    "keyword_marker": {"type", "keywords", "keywords_path", "keywords_pattern", "ignore_case"},
    "elision": {"type", "articles", "articles_path", "articles_case"},
    "length": {"type", "min", "max"},
    "word_delimiter_graph": {
        "type",
        "adjust_offsets",
        "catenate_all",
        "catenate_numbers",
        "catenate_words",
        "generate_number_parts",
        "generate_word_parts",
        "ignore_keywords",
        "preserve_original",
        "protected_words",
        "protected_words_path",
        "split_on_case_change",
        "split_on_numerics",
        "stem_english_possessive",
        "type_table",
        "type_table_path",
    },
    "stemmer_override": {"type", "rules", "rules_path"},
    "snowball": {"type", "language"},
    "stop": {"type", "stopwords", "stopwords_path", "ignore_case", "remove_trailing"},
}
FIELD_PARAMS: dict[str, set[str]] = {
    "text": {"type", "analyzer", "search_analyzer", "similarity", "copy_to", "index_options"},
    "keyword": {"type"},
    "integer": {"type", "index"},
    "double": {"type"},
    "date": {"type", "format"},
    "object": {"type", "dynamic", "properties"},
}
REWRITES = re.compile(r"constant_score|scoring_boolean|top_terms_(boost_|blended_freqs_)?\d+")


def check_index_body(body: dict[str, Any]) -> None:
    assert set(body) == {"settings", "mappings"}
    settings = body["settings"]
    assert set(settings["index"]) == {"number_of_shards", "number_of_replicas", "similarity"}
    for sim in settings["index"]["similarity"].values():
        assert sim["type"] == "BM25" and set(sim) <= {"type", "k1", "b", "discount_overlaps"}
    analysis = settings["analysis"]
    assert set(analysis) == {"char_filter", "tokenizer", "filter", "analyzer"}
    for section in ("char_filter", "tokenizer", "filter"):
        for name, component in analysis[section].items():
            assert set(component) <= COMPONENTS[component["type"]], (name, component)
    for analyzer in analysis["analyzer"].values():
        assert set(analyzer) <= {"type", "tokenizer", "filter", "char_filter"}
    languages = {"French", "English", "German"}  # snowball's documented languages (some)
    assert analysis["filter"]["searchlib_stemmer"]["language"] in languages
    mappings = body["mappings"]
    assert set(mappings) == {"dynamic", "_meta", "properties"}

    def check_props(props: dict[str, Any]) -> None:
        for name, spec in props.items():
            assert set(spec) <= FIELD_PARAMS[spec["type"]], (name, spec)
            if spec["type"] == "object":
                check_props(spec["properties"])

    check_props(mappings["properties"])
    json.dumps(mappings["_meta"])  # plain JSON


def check_query(q: Any) -> None:
    """A query clause, as the query DSL reference describes it."""
    assert isinstance(q, dict) and len(q) == 1, q
    ((kind, spec),) = q.items()
    if kind == "bool":
        assert set(spec) <= {
            "must",
            "should",
            "filter",
            "must_not",
            "boost",
            "minimum_should_match",
        }
        for occur in ("must", "should", "filter", "must_not"):
            for clause in spec.get(occur, []):
                check_query(clause)
    elif kind in ("term", "prefix", "match_phrase", "range"):
        ((_, params),) = spec.items()
        if kind == "term" and not isinstance(params, dict):
            return  # the documented short form {"term": {"field": "value"}}
        allowed = {
            "term": {"value", "boost"},
            "prefix": {"value", "rewrite", "boost"},
            "match_phrase": {"query", "analyzer", "slop", "boost"},
            "range": {"gte", "gt", "lte", "lt"},
        }[kind]
        assert set(params) <= allowed, q
        if "rewrite" in params:
            assert REWRITES.fullmatch(params["rewrite"])
    elif kind == "terms":
        ((_, values),) = spec.items()
        assert isinstance(values, list)
    elif kind == "span_near":
        assert set(spec) <= {"clauses", "slop", "in_order"} and isinstance(spec["slop"], int)
        for clause in spec["clauses"]:
            assert set(clause) <= {"span_term", "span_near"}
            if "span_near" in clause:
                check_query(clause)
    elif kind == "ids":
        assert set(spec) == {"values"}
    else:
        assert kind in ("match_all", "match_none"), q
        assert spec == {}


def check_aggregation(agg: dict[str, Any]) -> None:
    kinds = set(agg) - {"aggs"}
    assert len(kinds) == 1, agg
    kind = kinds.pop()
    spec = agg[kind]
    if kind == "filter":
        check_query(spec)
    elif kind == "terms":
        assert set(spec) <= {"field", "size", "order", "shard_size", "min_doc_count"}
    elif kind == "date_histogram":
        assert set(spec) <= {"field", "calendar_interval", "min_doc_count", "format"}
        assert spec["calendar_interval"] in {
            "minute",
            "hour",
            "day",
            "week",
            "month",
            "quarter",
            "year",
        }
    else:
        assert kind == "cardinality" and set(spec) <= {"field", "precision_threshold"}
        assert spec["precision_threshold"] <= 40000  # the documented maximum
    for sub in agg.get("aggs", {}).values():
        check_aggregation(sub)


SUGGEST_OPTIONS = {
    "field",
    "analyzer",
    "suggest_mode",
    "sort",
    "max_edits",
    "prefix_length",
    "min_word_length",
    "min_doc_freq",
    "max_term_freq",
    "accuracy",
    "size",
    "string_distance",
    "max_inspections",
    "shard_size",
}


def check_search_body(body: dict[str, Any]) -> None:
    allowed = {
        "query",
        "from",
        "size",
        "track_total_hits",
        "_source",
        "highlight",
        "collapse",
        "aggs",
        "sort",
        "track_scores",
        "timeout",
        "suggest",
    }
    assert set(body) <= allowed, set(body) - allowed
    check_query(body["query"])
    for agg in body.get("aggs", {}).values():
        check_aggregation(agg)
    for suggestion in body.get("suggest", {}).values():
        assert set(suggestion) == {"text", "term"}
        term = suggestion["term"]
        assert set(term) <= SUGGEST_OPTIONS
        assert term["suggest_mode"] in {"missing", "popular", "always"}
        assert term["sort"] in {"score", "frequency"} and term["max_edits"] in (1, 2)
        assert 0.0 <= term["accuracy"] <= 1.0
    if "highlight" in body:
        hl = body["highlight"]
        assert set(hl) <= {"type", "pre_tags", "post_tags", "encoder", "highlight_query", "fields"}
        assert hl["type"] in {"unified", "plain", "fvh"}
        check_query(hl["highlight_query"])
        for spec in hl["fields"].values():
            assert set(spec) <= {"fragment_size", "number_of_fragments"}
    if "collapse" in body:
        assert set(body["collapse"]) == {"field"}


# -- creating and opening ------------------------------------------------------------------


def test_create_sends_the_generated_body(cluster: FakeCluster) -> None:
    declared = [MetadataField("source", "keyword")]
    index = new_index(cluster, declared=declared, ranking=Ranking(k1=1.1), replicas=0)
    (put,) = cluster.sent("PUT", f"/{INDEX}")
    assert put.headers["content-type"].startswith("application/json")
    body = put.json()
    check_index_body(body)
    assert body == index_body(Ranking(k1=1.1), declared, replicas=0)
    assert index.declared[0].name == "source"


def test_open_reads_the_meta_and_refuses_other_indexes(cluster: FakeCluster) -> None:
    new_index(cluster)
    assert OpenSearchIndex.open(cluster.url, INDEX).ranking == Ranking()
    with pytest.raises(IndexNotFoundError, match=f"no OpenSearch index at {cluster.url}/other"):
        OpenSearchIndex.open(cluster.url, "other")
    cluster.mappings["logs"] = {"properties": {"message": {"type": "text"}}}
    with pytest.raises(MappingConflictError, match="not created by searchlib"):
        OpenSearchIndex.open(cluster.url, "logs")
    with pytest.raises(MappingConflictError, match="not created by searchlib"):
        OpenSearchIndex.create(cluster.url, "logs", overwrite=True)
    assert not cluster.sent("DELETE", "/logs")  # never replaced


def test_open_refuses_another_analyzer_or_stemmer(cluster: FakeCluster) -> None:
    new_index(cluster)
    meta = cluster.mappings[INDEX]["_meta"]["searchlib"]
    meta["stemmer"] = {**meta["stemmer"], "bijoux": "bijoux"}
    with pytest.raises(MappingConflictError, match="another Snowball release"):
        OpenSearchIndex.open(cluster.url, INDEX)
    meta["analyzer_version"] = "fr-0"
    with pytest.raises(IndexVersionError, match="fr-0"):
        OpenSearchIndex.open(cluster.url, INDEX)
    new_index(cluster, overwrite=True)  # an index searchlib created may be replaced
    assert OpenSearchIndex.open(cluster.url, INDEX).name == INDEX


def test_an_existing_index_is_replaced_only_when_asked(cluster: FakeCluster) -> None:
    new_index(cluster)
    with pytest.raises(IndexExistsError):
        new_index(cluster)
    new_index(cluster, overwrite=True)
    assert len(cluster.sent("DELETE", f"/{INDEX}")) == 1
    # another client created it between the check and the creation
    cluster.on(
        "PUT",
        r"/race",
        lambda r: (
            400,
            error_body("resource_already_exists_exception", "index [race/xyz] already exists"),
        ),
    )
    with pytest.raises(IndexExistsError):
        OpenSearchIndex.create(cluster.url, "race")


def test_a_ranking_with_other_bm25_parameters_is_refused(cluster: FakeCluster) -> None:
    index = new_index(cluster)
    index.set_ranking(Ranking(title_boost=2.0))  # query-time weights change freely
    with pytest.raises(SearchlibError, match="fixed when it was created"):
        index.set_ranking(Ranking(k1=2.0))


# -- adding and deleting --------------------------------------------------------------------


def long_text(paragraphs: int) -> str:
    return "\n\n".join(
        f"Paragraphe {n}. " + "Le contrat de travail. " * 40 for n in range(paragraphs)
    )


DOCS = [
    Document("a", "Contrat", "Le contrat à durée déterminée (CDD) est écrit.", {"source": "sp"}),
    Document("b", "Long", long_text(4)),
]


def test_add_sends_bulk_lines_then_cleans_up_and_saves_acronyms(cluster: FakeCluster) -> None:
    index = new_index(cluster)
    assert index.add(DOCS) == 2
    (bulk,) = cluster.sent("POST", "/_bulk")
    actions = bulk_actions(bulk)
    assert all(kind == "index" and meta["_index"] == INDEX for kind, meta, _ in actions)
    ids = [meta["_id"] for _, meta, _ in actions]
    sources = [source for _, _, source in actions]
    assert ids[0] == "a#1" and ids[1:] == [f"b#{n}" for n in range(1, len(ids))]
    assert sources[0]["fields"] == {"source": "sp"} and sources[1]["doc_id"] == "b"
    # passages an earlier version had beyond the new ones go
    (stale,) = cluster.sent("POST", f"/{INDEX}/_delete_by_query")
    check_query(stale.json()["query"])
    assert stale.json()["query"]["bool"]["must_not"] == [{"ids": {"values": ids}}]
    assert stale.query["conflicts"] == ["proceed"]
    assert cluster.sent("POST", f"/{INDEX}/_refresh")
    (meta,) = cluster.sent("PUT", f"/{INDEX}/_mapping")
    assert set(meta.json()) == {"_meta"}
    assert meta.json()["_meta"]["searchlib"]["acronyms"] == {
        "cdd": {"contrat à durée déterminée": 1}
    }
    assert index.acronyms.counts == {"cdd": {"contrat à durée déterminée": 1}}


def refuse(passage_ids: set[str], status: int = 400) -> Callable[[Request], Answer]:
    """A bulk answer refusing some passages (a documented item error)."""

    def answer(r: Request) -> Answer:
        items = []
        for kind, meta, _ in bulk_actions(r):
            if kind == "index" and meta["_id"] in passage_ids:
                items.append(
                    {
                        "index": {
                            "_index": INDEX,
                            "_id": meta["_id"],
                            "status": status,
                            "error": {
                                "type": "mapper_parsing_exception",
                                "reason": "failed to parse field [fields.year] of type [double]",
                                "caused_by": {
                                    "type": "number_format_exception",
                                    "reason": 'For input string: "x"',
                                },
                            },
                        }
                    }
                )
            else:
                items.append({kind: {"_index": INDEX, "_id": meta["_id"], "status": 200}})
        return 200, {"took": 1, "errors": True, "items": items}

    return answer


def test_refused_documents_are_reported_and_left_out_whole(cluster: FakeCluster) -> None:
    index = new_index(cluster)
    cluster.on("POST", "/_bulk", refuse({"b#2"}))
    with pytest.raises(BulkError) as e:
        index.add([*DOCS, Document("", "no id", "x")])
    refused = {r.doc_id: r for r in e.value.refused}
    assert set(refused) == {"b", ""}
    assert refused["b"].passage_id == "b#2" and refused["b"].status == 400
    assert "mapper_parsing_exception" in refused["b"].reason
    assert "number_format_exception" not in refused[""].reason  # refused before sending
    assert e.value.indexed == 1 and "2 document(s) refused, 1 indexed" in str(e.value)
    # the passages of b the cluster took are deleted again
    deletes = [r for r in cluster.sent("POST", "/_bulk") if "delete" in r.lines()[0]]
    (delete,) = deletes
    taken = {meta["_id"] for _, meta, _ in bulk_actions(delete)}
    assert "b#1" in taken and "b#2" not in taken
    # only a's definitions count
    assert index.acronyms.counts == {"cdd": {"contrat à durée déterminée": 1}}


def test_a_failed_request_stops_the_load_and_is_not_hidden(cluster: FakeCluster) -> None:
    index = new_index(cluster)
    cluster.on(
        "POST", "/_bulk", lambda r: (503, error_body("cluster_block_exception", "busy", 503))
    )
    cluster.on("POST", f"/{INDEX}/_refresh", lambda r: (503, error_body("x", "down", 503)))
    with pytest.raises(ClusterError, match=r"cannot index documents \(bulk\) \(503\)") as e:
        index.add(DOCS)
    assert not isinstance(e.value, BulkError)


def test_busy_passages_are_sent_again(cluster: FakeCluster) -> None:
    index = new_index(cluster)
    calls = {"n": 0}
    busy = refuse({"a#1"}, status=429)

    def once_busy(r: Request) -> Answer:
        calls["n"] += 1
        return busy(r) if calls["n"] == 1 else standard_bulk(r)

    standard_bulk = next(a for m, p, a in cluster.routes if m == "POST" and p.pattern == "/_bulk$")
    cluster.on("POST", "/_bulk", once_busy)
    assert index.add(DOCS[:1]) == 1
    second = cluster.sent("POST", "/_bulk")[1]
    assert [meta["_id"] for _, meta, _ in bulk_actions(second)] == ["a#1"]


def test_delete_by_ids_counts_passages(cluster: FakeCluster) -> None:
    index = new_index(cluster)
    cluster.on(
        "POST",
        f"/{INDEX}/_delete_by_query",
        lambda r: (200, {"took": 2, "timed_out": False, "total": 3, "deleted": 3, "failures": []}),
    )
    assert index.delete(["a", "b", "a"]) == 3
    (request,) = cluster.sent("POST", f"/{INDEX}/_delete_by_query")
    assert request.json() == {"query": {"terms": {"doc_id": ["a", "b"]}}}
    assert request.query["refresh"] == ["true"]


# -- searching -------------------------------------------------------------------------------


def search_answer(hits: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    """A documented search response, with the count of matching documents that
    a collapsed search (the default) asks for beside any ``aggregations`` given."""
    sources = [hit.get("_source") for hit in hits]
    documents = len({s.get("doc_id") for s in sources if isinstance(s, dict)})
    aggregations = {DOCUMENT_COUNT: {"value": documents}, **extra.pop("aggregations", {})}
    return {
        "took": 2,
        "timed_out": False,
        "_shards": {"total": 1, "successful": 1, "skipped": 0, "failed": 0},
        "hits": {"total": {"value": len(hits), "relation": "eq"}, "max_score": 1.0, "hits": hits},
        "aggregations": aggregations,
        **extra,
    }


def a_hit(pid: str, score: float, text: str, marked: list[str]) -> dict[str, Any]:
    doc_id = pid.split("#", maxsplit=1)[0]
    return {
        "_index": INDEX,
        "_id": pid,
        "_score": score,
        "_source": {
            "id": pid,
            "doc_id": doc_id,
            "position": 0,
            "start": 0,
            "title": "Titre",
            "text": text,
        },
        "highlight": {"text": marked},
    }


def test_search_sends_a_documented_body_and_reads_hits(cluster: FakeCluster) -> None:
    index = new_index(cluster, declared=[MetadataField("source", "keyword")])
    text = "La cour fédérale a jugé."
    cluster.on(
        "POST",
        f"/{INDEX}/_search",
        lambda r: (
            200,
            search_answer(
                [a_hit("d1#1", 2.5, text, [f"La cour {OPEN}fédérale{CLOSE} a jugé."])],
                aggregations={
                    "facet_0": {
                        "buckets": [{"key": "sp", "doc_count": 3, "documents": {"value": 1}}]
                    },
                    DOCUMENT_COUNT: {"value": 1},
                },
            ),
        ),
    )
    results = index.search(
        '"cour fédérale" -juge',
        collapse=True,
        filter={"source": "sp"},
        facets=["source"],
    )
    # (a lookup of the words' frequencies may come first: absent words are reported)
    *_, request = cluster.sent("POST", f"/{INDEX}/_search")
    body = request.json()
    assert body["size"] == 10
    check_search_body(body)
    assert "search_type" not in request.query  # one shard: statistics are whole
    assert results.total == 1 and results.hits[0].doc_id == "d1" and results.hits[0].score == 2.5
    assert results.hits[0].snippet.to_html() == "La cour <mark>fédérale</mark> a jugé."
    assert results.facet_buckets["source"][0].documents == 1
    assert results.match.phrases == (("cour", "federal"),)


def test_typos_are_looked_up_first_in_one_request(cluster: FakeCluster) -> None:
    index = new_index(cluster)
    answers = iter(
        [
            search_answer(
                [],
                aggregations={"f0": {"doc_count": 0}, "f1": {"doc_count": 0}},
                suggest={
                    "n0": [
                        {
                            "text": "contrst",
                            "offset": 0,
                            "length": 7,
                            "options": [
                                {"text": "contrat", "score": 0.85, "freq": 40},
                                {"text": "cnotrst", "score": 0.7, "freq": 90},
                            ],
                        }
                    ],
                    "n1": [{"text": "contrst", "offset": 0, "length": 7, "options": []}],
                },
            ),
            search_answer([]),
        ]
    )
    cluster.on("POST", f"/{INDEX}/_search", lambda r: (200, next(answers)))
    results = index.search("contrst")
    lookup, search = cluster.sent("POST", f"/{INDEX}/_search")
    check_search_body(lookup.json())
    assert lookup.json()["size"] == 0 and len(lookup.json()["suggest"]) == 2
    check_search_body(search.json())
    assert results.match.terms == {"contrat"}  # the transposition is two edits for searchlib
    assert '"contrat"' in json.dumps(search.json()["query"])


def test_several_shards_ask_for_global_statistics(cluster: FakeCluster) -> None:
    new_index(cluster)
    cluster.on(
        "GET",
        f"/{INDEX}/_settings",
        lambda r: (200, {INDEX: {"settings": {"index": {"number_of_shards": "3"}}}}),
    )
    cluster.on("POST", f"/{INDEX}/_search", lambda r: (200, search_answer([])))
    OpenSearchIndex.open(cluster.url, INDEX).search("cour")
    assert cluster.sent("POST", f"/{INDEX}/_search")[0].query["search_type"] == [
        "dfs_query_then_fetch"
    ]


def test_a_timed_out_search_raises(cluster: FakeCluster) -> None:
    index = new_index(cluster)
    cluster.on(
        "POST", f"/{INDEX}/_search", lambda r: (200, {**search_answer([]), "timed_out": True})
    )
    with pytest.raises(SearchTimeoutError):
        index.search("cour", time_limit=0.5)
    assert cluster.sent("POST", f"/{INDEX}/_search")[0].json()["timeout"] == "500ms"


def test_documents_and_stats(cluster: FakeCluster) -> None:
    index = new_index(cluster)
    parts = [
        {
            "_id": "b#1",
            "_source": {
                "id": "b#1",
                "doc_id": "b",
                "position": 0,
                "start": 0,
                "title": "Long",
                "text": "Un. ",
                "fields": {"k": 1},
            },
        },
        {
            "_id": "b#2",
            "_source": {
                "id": "b#2",
                "doc_id": "b",
                "position": 1,
                "start": 4,
                "title": "Long",
                "text": "Deux.",
            },
        },
    ]
    cluster.on("POST", f"/{INDEX}/_search", lambda r: (200, search_answer(parts)))
    assert index.document("b") == Document("b", "Long", "Un. Deux.", {"k": 1})
    search = cluster.sent("POST", f"/{INDEX}/_search")[0].json()
    assert search["query"] == {"term": {"doc_id": "b"}}
    counts = iter([12, 5])
    cluster.on("POST", f"/{INDEX}/_count", lambda r: (200, {"count": next(counts), "_shards": {}}))
    cluster.on(
        "GET",
        f"/{INDEX}/_stats/store",
        lambda r: (200, {"_all": {"primaries": {"store": {"size_in_bytes": 2048}}}, "indices": {}}),
    )
    stats = index.stats()
    assert (stats.passages, stats.documents, stats.size_bytes) == (12, 5, 2048)
    count_bodies = [r.json() for r in cluster.sent("POST", f"/{INDEX}/_count")]
    assert count_bodies[1] == {"query": {"term": {"position": 0}}}  # one first passage a document


# -- the cluster's refusals -------------------------------------------------------------------


def test_an_unreachable_cluster_is_named() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    url = f"http://127.0.0.1:{port}"
    with pytest.raises(ClusterUnavailableError, match=f"cannot reach OpenSearch at {url}"):
        OpenSearchIndex.open(url, INDEX)


@pytest.mark.parametrize(
    ("status", "message"),
    [(401, "refused the credentials"), (403, "does not allow these credentials")],
)
def test_refused_credentials(cluster: FakeCluster, status: int, message: str) -> None:
    kind = "security_exception"
    cluster.on(
        "GET",
        r"/[^/]+/_mapping",
        lambda r: (
            status,
            error_body(kind, "no permissions for [indices:admin/mappings/get]", status),
        ),
    )
    with pytest.raises(ClusterAuthError, match=message):
        OpenSearchIndex.open(cluster.url, INDEX, username="u", password="p")
    assert cluster.requests[-1].headers["authorization"].startswith("Basic ")


def test_a_search_error_names_the_index_and_the_reason(cluster: FakeCluster) -> None:
    index = new_index(cluster)
    cluster.on(
        "POST",
        f"/{INDEX}/_search",
        lambda r: (400, error_body("search_phase_execution_exception", "all shards failed")),
    )
    with pytest.raises(
        ClusterError, match=r"cannot search \(400\): search_phase_execution_exception"
    ):
        index.search("cour")


def test_a_mapping_refused_at_creation_is_a_conflict(cluster: FakeCluster) -> None:
    cluster.on(
        "PUT",
        rf"/{INDEX}",
        lambda r: (
            400,
            error_body("mapper_parsing_exception", "Failed to parse mapping: unknown similarity"),
        ),
    )
    with pytest.raises(MappingConflictError, match="unknown similarity"):
        new_index(cluster)


# -- the command-line hooks -------------------------------------------------------------------


def test_index_command_loads_and_reports_refusals(
    cluster: FakeCluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    import io

    from searchlib.opensearch.cli import index_documents, open_spec

    monkeypatch.setenv("SEARCHLIB_OPENSEARCH_USER", "loader")
    monkeypatch.setenv("SEARCHLIB_OPENSEARCH_PASSWORD", "secret")
    counts = iter([3, 2, 3, 2])
    cluster.on("POST", f"/{INDEX}/_count", lambda r: (200, {"count": next(counts)}))
    cluster.on("GET", f"/{INDEX}/_stats/store", lambda r: (200, {"_all": {}}))
    spec = f"{cluster.url}/{INDEX}"
    out, err = io.StringIO(), io.StringIO()
    assert index_documents(spec, DOCS, out=out, err=err) == 0
    assert out.getvalue() == (
        f"indexed 2 document(s) into {spec}; the index holds 2 document(s), 3 passage(s)\n"
    )
    assert all(r.headers["authorization"].startswith("Basic ") for r in cluster.requests)
    cluster.on("POST", "/_bulk", refuse({"a#1"}))
    out, err = io.StringIO(), io.StringIO()
    assert index_documents(spec, DOCS[:1], append=True, out=out, err=err) == 1
    assert err.getvalue().startswith("searchlib: refused: document 'a' (passage a#1): 400: ")
    assert open_spec(spec).name == INDEX


# -- credentials in a cluster URL are used, never shown ----------------------------------------

SECRET = "s3cret-pw"
CLI_CORPUS = Path(__file__).parent / "data" / "cli" / "corpus.jsonl"


def with_credentials(url: str) -> str:
    return url.replace("http://", f"http://loader:{SECRET}@")


def test_credentials_in_the_url_are_used_and_never_shown(cluster: FakeCluster) -> None:
    import traceback

    url = with_credentials(cluster.url)
    index = OpenSearchIndex.create(url, INDEX)
    assert cluster.requests[-1].headers["authorization"].startswith("Basic ")  # used
    counts = iter([3, 2])
    cluster.on("POST", f"/{INDEX}/_count", lambda r: (200, {"count": next(counts)}))
    cluster.on("GET", f"/{INDEX}/_stats/store", lambda r: (200, {"_all": {}}))
    assert (index.url, index.path, index.stats().path) == (
        cluster.url,
        f"{cluster.url}/{INDEX}",
        f"{cluster.url}/{INDEX}",
    )
    assert repr(index) == f"OpenSearchIndex({cluster.url!r}, {INDEX!r})"
    # every kind of error names the cluster without the credentials, cause included
    errors: list[SearchlibError] = []

    def caught(call: Callable[[], object]) -> None:
        with pytest.raises(SearchlibError) as e:
            call()
        errors.append(e.value)

    caught(lambda: OpenSearchIndex.create(url, INDEX))  # exists
    caught(lambda: OpenSearchIndex.open(url, "other"))  # not found
    refusal = error_body("search_phase_execution_exception", "all shards failed")
    cluster.on("POST", f"/{INDEX}/_search", lambda r: (400, refusal))
    caught(lambda: index.search("cour"))  # refused
    cluster.on("POST", f"/{INDEX}/_search", lambda r: (200, {"took": 1}))
    caught(lambda: index.search("cour"))  # an unexpected answer
    cluster.on("GET", r"/[^/]+/_mapping", lambda r: (401, error_body("security", "no", 401)))
    caught(lambda: OpenSearchIndex.open(url, INDEX))  # credentials refused
    assert [type(e) for e in errors] == [
        IndexExistsError,
        IndexNotFoundError,
        ClusterError,
        ClusterError,
        ClusterAuthError,
    ]
    for e in errors:
        text = "".join(traceback.format_exception(e))
        assert cluster.url in text and SECRET not in text and "loader" not in text, text


def test_an_unreachable_cluster_is_named_without_credentials() -> None:
    import traceback

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(ClusterUnavailableError, match=f"at http://127.0.0.1:{port} ") as e:
        OpenSearchIndex.open(f"http://loader:{SECRET}@127.0.0.1:{port}", INDEX)
    assert SECRET not in "".join(traceback.format_exception(e.value))


def test_redact_leaves_out_every_user_part() -> None:
    from searchlib.opensearch.errors import redact

    cases = {
        # the plain case, and a URL inside a message
        "https://u:p@h:9200/ix": "https://h:9200/ix",
        "at http://u:p@h:9200 (refused)": "at http://h:9200 (refused)",
        # a user alone, an encoded password, a raw @ in the password (cut whole)
        "http://u@h/ix": "http://h/ix",
        "http://u:s%40c@h": "http://h",
        "http://u:p@ss@h:1/ix": "http://h:1/ix",
        # URLs without credentials, and an address that is no URL, are kept
        "https://h:9200/ix": "https://h:9200/ix",
        "write to admin@example.org": "write to admin@example.org",
        "'HTTP://U:P@H/BAD': the path": "'HTTP://H/BAD': the path",
    }
    assert {text: redact(text) for text in cases} == cases


def test_cli_shows_cluster_urls_without_credentials(
    cluster: FakeCluster, capsys: pytest.CaptureFixture[str]
) -> None:
    import io

    from searchlib.app.cli import main
    from searchlib.opensearch.cli import index_documents, parse_spec

    counts = iter([3, 2] * 4)
    cluster.on("POST", f"/{INDEX}/_count", lambda r: (200, {"count": next(counts)}))
    cluster.on("GET", f"/{INDEX}/_stats/store", lambda r: (200, {"_all": {}}))
    spec = with_credentials(f"{cluster.url}/{INDEX}")
    printed = []
    out, err = io.StringIO(), io.StringIO()
    assert index_documents(spec, DOCS, out=out, err=err) == 0
    assert f"into {cluster.url}/{INDEX};" in out.getvalue()
    printed += [out.getvalue(), err.getvalue()]
    for argv in (["stats", "--index", spec], ["repl", "--index", spec]):
        out, err = io.StringIO(), io.StringIO()
        assert main(argv, stdin=io.StringIO(""), stdout=out, stderr=err) == 0, err.getvalue()
        printed += [out.getvalue(), err.getvalue()]
    assert f"index: {cluster.url}/{INDEX} — 2 documents" in printed[-2]  # the REPL banner
    assert f"{cluster.url}/{INDEX}" in printed[-4]  # stats
    # a URL the CLI cannot use: one line, no traceback, no credentials
    for bad in ("/UPPER", "/a/b", ":port/ix"):
        out, err = io.StringIO(), io.StringIO()
        url = with_credentials(cluster.url) + bad
        assert main(["search", "cour", "--index", url], stdout=out, stderr=err) == 1
        assert err.getvalue().startswith("searchlib: ") and err.getvalue().count("\n") == 1
        printed.append(err.getvalue())
    assert "password=" not in repr(parse_spec(spec))
    printed += [repr(parse_spec(spec)), *capsys.readouterr()]
    assert not [text for text in printed if SECRET in text]


# -- SEARCHLIB_OPENSEARCH_INSECURE: only a true value turns checks off, with a warning ----------


def test_an_unchecked_certificate_warns_once_per_client() -> None:
    from searchlib.opensearch import make_client
    from searchlib.opensearch.errors import InsecureConnectionWarning

    # no request is sent: a client connects on its first request
    with pytest.warns(InsecureConnectionWarning, match="https://127.0.0.1:9 is not checked") as w:
        make_client(f"https://loader:{SECRET}@127.0.0.1:9", verify_certs=False)
    assert len(w) == 1 and SECRET not in str(w[0].message)
    make_client("http://127.0.0.1:9", verify_certs=False)  # no TLS, nothing to check: silent


def test_cli_shows_the_warning_on_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import io

    from searchlib.app.cli import main

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    url = f"https://127.0.0.1:{port}/{INDEX}"
    monkeypatch.setenv("SEARCHLIB_OPENSEARCH_INSECURE", "yes")
    out, err = io.StringIO(), io.StringIO()
    assert main(["stats", "--index", url], stdout=out, stderr=err) == 1
    assert err.getvalue().startswith("searchlib: cannot reach OpenSearch")
    warned = capsys.readouterr().err  # where Python shows warnings
    assert warned == (
        f"searchlib: warning: the certificate of OpenSearch at https://127.0.0.1:{port} is not "
        "checked: anyone on the way can read and change what is sent (for test clusters only)\n"
    )
    out, err = io.StringIO(), io.StringIO()
    assert main(["index", str(CLI_CORPUS), "--index", url], stdout=out, stderr=err) == 1
    assert err.getvalue().startswith("searchlib: warning: the certificate") and (
        err.getvalue().splitlines()[1].startswith("searchlib: cannot reach OpenSearch")
    )
    # a value that is neither true nor false stops before any connection
    monkeypatch.setenv("SEARCHLIB_OPENSEARCH_INSECURE", "disabled")
    out, err = io.StringIO(), io.StringIO()
    assert main(["stats", "--index", url], stdout=out, stderr=err) == 1
    assert err.getvalue() == (
        "searchlib: SEARCHLIB_OPENSEARCH_INSECURE='disabled' is neither true (1, true, yes, on: "
        "no certificate check) nor false (0, false, no, off or empty: checked)\n"
    )


# -- malformed answers are ClusterErrors, not KeyErrors ------------------------------------------

HTML = Raw(b"<html><body><h1>502 Bad Gateway</h1><p>nginx</p></body></html>")
UNEXPECTED = "answered something unexpected"


def hit_with(**changes: Any) -> dict[str, Any]:
    return {**a_hit("d1#1", 1.0, "La cour.", []), **changes}


MALFORMED_SEARCHES = {
    "no hits": (200, {"took": 1, "timed_out": False}),
    "hits null": (200, {"took": 1, "hits": None}),
    "hits.hits null": (200, {"took": 1, "hits": {"total": {"value": 1}, "hits": None}}),
    "hits a list": (200, {"took": 1, "hits": []}),
    "score not a number": (200, search_answer([hit_with(_score="beaucoup")])),
    "score a bool": (200, search_answer([hit_with(_score=True)])),
    "source not an object": (200, search_answer([hit_with(_source=["La cour."])])),
    "position not a number": (
        200,
        search_answer([hit_with(_source={"doc_id": "d1", "position": "x", "text": "t"})]),
    ),
    "total missing": (200, {"took": 1, "hits": {"hits": []}}),
    "a proxy's page": (200, HTML),
    "a proxy's page said to be JSON": (200, Raw(HTML.body, "application/json")),
    "plain text": (200, Raw(b"OK", "text/plain")),
    "an empty body": (200, Raw(b"", "application/json")),
    "a proxy's error page": (502, HTML),
}


@pytest.mark.parametrize("answer", MALFORMED_SEARCHES.values(), ids=MALFORMED_SEARCHES.keys())
def test_a_malformed_search_answer_is_a_cluster_error(cluster: FakeCluster, answer: Answer) -> None:
    index = new_index(cluster)
    cluster.on("POST", f"/{INDEX}/_search", lambda r: answer)
    with pytest.raises(ClusterError, match=f"cannot search.*{UNEXPECTED}") as e:
        index.search("cour")
    assert type(e.value) is ClusterError and str(e.value).count("\n") == 0
    assert f"OpenSearch index {INDEX!r} at {cluster.url}" in str(e.value)
    assert len(str(e.value)) < 400  # an excerpt of a page, not the page


MALFORMED_LOOKUPS = {
    "a count that is no number": {"aggregations": {"f0": {"doc_count": "many"}}},
    "aggregations null": {"aggregations": None},
    "an option without text": {"suggest": {"n0": [{"options": [{"freq": 3}]}]}},
    "a term that is no string": {"suggest": {"n0": [{"options": [{"text": 7, "freq": 3}]}]}},
    "a frequency that is no number": {
        "suggest": {"n0": [{"options": [{"text": "contrat", "freq": "x"}]}]}
    },
    "suggest a list": {"suggest": ["contrat"]},
}


@pytest.mark.parametrize("answer", MALFORMED_LOOKUPS.values(), ids=MALFORMED_LOOKUPS.keys())
def test_a_malformed_term_lookup_is_a_cluster_error(
    cluster: FakeCluster, answer: dict[str, Any]
) -> None:
    index = new_index(cluster)
    cluster.on("POST", f"/{INDEX}/_search", lambda r: (200, {**search_answer([]), **answer}))
    with pytest.raises(ClusterError, match=rf"cannot look up terms \(typos, word~\).*{UNEXPECTED}"):
        index.search("contrst")  # a typo: its neighbours and frequencies are looked up first


@pytest.mark.parametrize(
    "answer",
    [{"count": "12"}, {"count": None}, {"count": -1}, {"_shards": {}}, HTML],
    ids=["a string", "null", "negative", "missing", "a proxy's page"],
)
def test_a_malformed_count_is_a_cluster_error(cluster: FakeCluster, answer: Any) -> None:
    index = new_index(cluster)
    cluster.on("POST", f"/{INDEX}/_count", lambda r: (200, answer))
    cluster.on("GET", f"/{INDEX}/_stats/store", lambda r: (200, {"_all": {}}))
    with pytest.raises(ClusterError, match=f"cannot count documents.*{UNEXPECTED}"):
        index.stats()
    with pytest.raises(ClusterError, match=UNEXPECTED):
        len(index)


@pytest.mark.parametrize(
    "answer",
    [
        {"hits": None},
        {"hits": {"hits": [{"_id": "b#1", "_source": "Un."}]}},
        {"hits": {"hits": [["b#1"]]}},
        HTML,
    ],
    ids=["hits null", "source a string", "hit a list", "a proxy's page"],
)
def test_a_malformed_document_answer_is_a_cluster_error(cluster: FakeCluster, answer: Any) -> None:
    index = new_index(cluster)
    cluster.on("POST", f"/{INDEX}/_search", lambda r: (200, answer))
    with pytest.raises(ClusterError, match=f"cannot read a document.*{UNEXPECTED}"):
        index.document("b")
    with pytest.raises(ClusterError, match=UNEXPECTED):
        index.passages("b")
