"""searchlib serve: the JSON API, the search page without a browser, the limits,
the errors and the write token, through Starlette's test client; the command
started for real and stopped with Ctrl-C; a cluster index (the fake cluster).

The page in a real browser is tested in test_serve_browser.py.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest

pytest.importorskip("starlette", reason="needs the serve extra: pip install -e '.[serve,test]'")
pytest.importorskip("httpx2", reason="needs httpx2 (the test extra) for Starlette's test client")

from starlette.testclient import TestClient

from searchlib import Date, Document, Facet, Index, Keyword
from searchlib.app.cli import main
from searchlib.engine.request import SearchRequest
from searchlib.errors import IndexCorruptError, SearchTimeoutError
from searchlib.serve import create_app
from searchlib.serve.app import CSP
from searchlib.serve.service import Service

REPO = Path(__file__).resolve().parents[1]
TOKEN = "s3cret-token"

SUBJECTS = [
    "le licenciement pour motif économique",
    "la rupture conventionnelle du contrat",
    "le préavis de démission",
    "le licenciement pour faute grave",
    "les congés payés du salarié",
    "le licenciement d'un salarié protégé",
]


def corpus() -> list[Document]:
    """French documents, a keyword field (``source``) and a date field (``date``):
    enough hits of « licenciement » for three pages of ten."""
    docs = []
    for n in range(36):
        subject = SUBJECTS[n % len(SUBJECTS)]
        docs.append(
            Document(
                f"doc-{n:02d}",
                f"Fiche {n} : {subject}",
                f"Cette fiche explique {subject}. L'employeur doit respecter la procédure "
                f"prévue par le code du travail. Numéro {n}.\n\nUn second paragraphe sur "
                f"{subject} et ses délais.",
                {
                    "source": "code-du-travail" if n % 3 else "fiches-service-public",
                    "date": f"{2018 + n % 4}-0{1 + n % 9}-15",
                },
            )
        )
    docs.append(
        Document(
            "evil",
            'Piège <script>alert("x")</script> & "guillemets"',
            "Un licenciement <img src=x onerror=alert(1)> écrit en HTML \x1b[31m rouge.",
            {"source": "<b>source</b>", "date": "2020-05-05"},
        )
    )
    return docs


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("serve") / "fiches.index"
    with Index.create(path, fields={"source": Keyword(), "date": Date()}) as index:
        index.add(corpus())
    return path


@pytest.fixture(scope="module")
def index(index_dir: Path) -> Iterator[Index]:
    with Index.open(index_dir) as opened:
        yield opened


@pytest.fixture(scope="module")
def client(index: Index, index_dir: Path) -> TestClient:
    return TestClient(create_app(index, label=str(index_dir)))


@pytest.fixture
def writable(tmp_path: Path) -> Iterator[TestClient]:
    path = tmp_path / "w.index"
    with Index.create(path, fields={"source": Keyword()}) as index:
        index.add(corpus()[:3])
        yield TestClient(create_app(index, label=str(path), write_token=TOKEN))


def cli_json(*argv: str) -> Any:
    out, err = io.StringIO(), io.StringIO()
    assert main(list(argv), stdout=out, stderr=err) == 0, err.getvalue()
    return json.loads(out.getvalue())


def error_of(response: Any, status: int) -> str:
    """The error message of a JSON error answer, checked for what it must not hold."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert body["status"] == status and isinstance(body["error"], str)
    assert "Traceback" not in response.text and "/tmp" not in response.text
    assert str(REPO) not in response.text
    return str(body["error"])


# -- the API answers the command line's JSON -----------------------------------------------


def test_search_answers_the_json_of_the_library_and_the_command_line(
    client: TestClient, index: Index
) -> None:
    answer = client.get("/api/search", params={"q": "licenciement", "limit": 5, "page": 2})
    assert answer.status_code == 200
    expected = index.search("licenciement", limit=5, page=2, collapse=True).to_dict()
    assert answer.json() == expected  # what `searchlib search --json` prints
    assert answer.json()["total"] == 19 and len(answer.json()["hits"]) == 5


def test_search_takes_every_option_of_the_library(client: TestClient, index: Index) -> None:
    params: Any = [
        ("q", "licenciement"),
        ("filter", "source:code-du-travail"),
        ("filter", "date:>=2019-01-01"),
        ("facet", "source"),
        ("facet", "date:year"),
        ("sort", "-date"),
        ("passages", "true"),
        ("limit", "3"),
        ("semantic", "off"),
    ]
    got = client.get("/api/search", params=params).json()
    expected = index.search(
        "licenciement",
        limit=3,
        filter="source:code-du-travail date:>=2019-01-01",
        facets=[Facet("source"), Facet("date", by="year")],
        sort="-date",
        collapse=False,
        semantic="off",
    ).to_dict()
    assert got == expected
    assert set(got["facets"]) == {"source", "date"}
    assert all("#" in h["id"] for h in got["hits"])  # passages
    dates = [h["fields"]["date"] for h in got["hits"]]
    assert dates == sorted(dates, reverse=True)


def test_corrections_can_be_turned_off(client: TestClient) -> None:
    corrected = client.get("/api/search", params={"q": "licenciment"}).json()
    assert corrected["searched"] == "licenciement" and corrected["total"] > 0
    assert corrected["corrections"][0]["word"] == "licenciment"
    typed = client.get("/api/search", params={"q": "licenciment", "correct": "false"}).json()
    assert typed["corrections"] == [] and typed["total"] == 0


def test_complete_document_passage_explain_and_stats_answer_as_the_cli(
    client: TestClient, index_dir: Path
) -> None:
    where = ("--index", str(index_dir))
    complete = client.get("/api/complete", params={"q": "rupture conv"})
    assert complete.json() == cli_json("complete", "rupture conv", *where, "--json")
    assert complete.json()[0]["query"] == "rupture conventionnelle"
    document = client.get("/api/documents/doc-01")
    assert document.json() == cli_json("get", "doc-01", *where, "--json")
    passage = client.get("/api/passages/doc-01%231")  # doc-01#1
    assert passage.json() == cli_json("get", "doc-01#1", *where, "--json")
    assert passage.json()["doc_id"] == "doc-01"
    explain = client.get("/api/explain", params={"q": "licenciement", "id": "doc-00"})
    assert explain.json() == cli_json("explain", "licenciement", "doc-00", *where, "--json")
    assert explain.json()["total"] > 0
    stats = client.get("/api/stats").json()
    expected = cli_json("stats", *where, "--json")
    assert stats == expected | {"path": "fiches.index"}  # the name, never the folder
    assert stats["declared_fields"] == {"source": "keyword", "date": "date"}


def test_the_openapi_description_covers_every_api_route(client: TestClient) -> None:
    from searchlib.serve.params import SEARCH_PARAMS

    described = client.get("/openapi.json").json()
    assert described["openapi"].startswith("3.")
    paths = set(described["paths"])
    app = client.app.app  # type: ignore[attr-defined]  # inside the Guard
    routes = {
        re.sub(r"\{(\w+):path\}", r"{\1}", r.path)
        for r in app.routes
        if getattr(r, "path", "").startswith("/api")
    }
    assert routes == paths
    search = described["paths"]["/api/search"]["get"]["parameters"]
    assert [p["name"] for p in search] == list(SEARCH_PARAMS)


# -- bad requests ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"q": "x", "limit": "abc"}, "limit must be a whole number, not 'abc'"),
        ({"q": "x", "limit": "0"}, "limit must be from 1 to 100, not 0"),
        ({"q": "x", "limit": "1000"}, "limit must be from 1 to 100, not 1000"),
        ({"q": "x", "page": "0"}, "page must be at least 1, not 0"),
        ({"q": "x", "page": "2000", "limit": "10"}, "page × limit must be at most 10,000"),
        ({"q": "x", "limt": "5"}, "unknown parameter 'limt' (this endpoint takes: q, page,"),
        ({"q": "x", "passages": "maybe"}, "passages must be true or false, not 'maybe'"),
        ({"q": "x", "semantic": "yes"}, "semantic must be auto, off or only, not 'yes'"),
        ({"q": "x", "facet": "author"}, "unknown field 'author'"),
        ({"q": "x", "facet": "date:weekly"}, "facet 'date:weekly': expected NAME"),
        ({"q": "x", "sort": "author"}, "unknown field 'author'"),
        ({"q": "x", "filter": "author:x"}, "query error: unknown field 'author'"),
        ({"q": "x", "fields": "body"}, "unknown field 'body'"),
        ({"q": "x" * 2001}, "q is too long: 2,001 characters (at most 2,000)"),
    ],
)
def test_bad_parameters_are_refused_with_a_clear_message(
    client: TestClient, params: dict[str, str], message: str
) -> None:
    assert message in error_of(client.get("/api/search", params=params), 400)


def test_a_parameter_given_twice_is_refused(client: TestClient) -> None:
    answer = client.get("/api/search?q=a&q=b")
    assert error_of(answer, 400) == "parameter 'q' is given 2 times (give it once)"


def test_a_query_error_says_where_as_the_cli_does(client: TestClient, index_dir: Path) -> None:
    answer = client.get("/api/search", params={"q": "source:"})
    err = io.StringIO()
    assert main(["search", "source:", "--index", str(index_dir)], stderr=err) == 1
    cli_line = err.getvalue().splitlines()[0]
    assert cli_line == f"searchlib: {error_of(answer, 400)}"
    assert answer.json()["position"] == 0


def test_missing_documents_and_routes_are_404_in_json(client: TestClient) -> None:
    assert error_of(client.get("/api/documents/nope"), 404) == "no document «nope» in the index"
    assert error_of(client.get("/api/passages/nope%230"), 404) == "no passage «nope#0» in the index"
    assert "not found" in error_of(client.get("/api/nothing"), 404)
    error_of(client.get("/api/complete"), 400)  # q is required
    explain = client.get("/api/explain", params={"q": "x", "id": "nope"})
    assert error_of(explain, 400) == "no passage or document «nope» in the index"


def test_a_long_query_string_is_refused(client: TestClient) -> None:
    answer = client.get("/api/search?q=" + "a" * 20_000)
    assert "query string is over" in error_of(answer, 414)


def test_the_time_limit_applies_to_each_search(index: Index, index_dir: Path) -> None:
    client = TestClient(create_app(index, label=str(index_dir), time_limit=1e-9))
    answer = client.get("/api/search", params={"q": "licenciement"})
    assert "time limit" in error_of(answer, 503)


def test_errors_name_no_path_and_show_no_traceback(
    index: Index, index_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = TestClient(create_app(index, label=str(index_dir)), raise_server_exceptions=False)

    def damaged(request: object) -> None:
        raise IndexCorruptError(f"index at {index_dir} is damaged (ValueError: x): rebuild it")

    monkeypatch.setattr(index, "run", damaged)
    message = error_of(client.get("/api/search", params={"q": "x"}), 500)
    assert message == "index at fiches.index is damaged (ValueError: x): rebuild it"

    def bug(request: object) -> None:
        raise RuntimeError(f"a bug near {index_dir}")

    monkeypatch.setattr(index, "run", bug)
    page = client.get("/", params={"q": "x"})
    assert page.status_code == 500 and "internal error" in page.text
    assert str(index_dir) not in page.text and "Traceback" not in page.text
    message = error_of(client.get("/api/search", params={"q": "x"}), 500)
    assert message == "internal error (the server's log says more)"
    monkeypatch.setattr(
        index, "run", lambda request: (_ for _ in ()).throw(OSError(5, "EIO", "/x"))
    )
    assert error_of(client.get("/api/search", params={"q": "x"}), 500) == (
        "the index cannot be read: eio"
    )


# -- security headers, escaping ----------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/?q=licenciement",
        "/api/search?q=x",
        "/api/nothing",
        "/static/serve.js",
        "/document?id=doc-00",
    ],
)
def test_every_answer_has_a_strict_content_security_policy(client: TestClient, path: str) -> None:
    headers = client.get(path).headers
    assert headers["content-security-policy"] == CSP
    assert "script-src 'self'" in CSP and "unsafe-inline" not in CSP
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "no-referrer"


def test_the_page_holds_no_inline_script(client: TestClient) -> None:
    html = client.get("/", params={"q": "licenciement"}).text
    scripts = re.findall(r"<script[^>]*>(.*?)</script>", html, re.S)
    assert scripts == [""]  # one, from a file
    assert " on" not in re.sub(r'"[^"]*"', '""', html).lower().replace(" one", "")  # no onclick=


def test_document_strings_are_escaped_everywhere(client: TestClient) -> None:
    page = client.get("/", params={"q": "piège licenciement html"}).text
    assert "<script>alert" not in page and "<img src=x" not in page and "<b>source" not in page
    assert "&lt;script&gt;" in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "\x1b" not in page and "^[[31m" in page  # control characters shown, not sent
    view = client.get("/document", params={"id": "evil", "q": "licenciement"}).text
    assert "<script>alert" not in view and "<img" not in view and "&lt;b&gt;source" in view
    assert "<mark>licenciement</mark>" in view
    hit = client.get("/api/search", params={"q": "piège"}).json()["hits"][0]
    assert hit["title"] == 'Piège <script>alert("x")</script> & "guillemets"'  # data, as the CLI
    assert "<img" not in hit["snippet"] and "&lt;img" in hit["snippet"]


# -- the page without JavaScript ----------------------------------------------------------------


def test_the_page_searches_with_a_plain_form_and_shows_the_correction(client: TestClient) -> None:
    empty = client.get("/")
    assert empty.status_code == 200 and "37" in empty.text  # what the index holds
    assert '<form class="search" role="search" method="get" action="/">' in empty.text
    assert '<label for="q">' in empty.text
    page = client.get("/", params={"q": "licenciment"}).text
    assert "Résultats pour « licenciement »." in page
    assert 'href="/?q=%2Blicenciment"' in page  # search as typed: +licenciment
    assert "<mark>licenciement</mark>" in page
    assert page.count('<li class="hit">') == 10
    assert 'aria-current="page"' in page and 'rel="next" href="/?q=licenciment&amp;page=2"' in page
    typed = client.get("/", params={"q": "+licenciment"}).text
    assert "Aucun résultat pour « +licenciment »." in typed


def test_facets_filter_and_stay_in_the_links(client: TestClient) -> None:
    page = client.get("/", params={"q": "licenciement"}).text
    link = 'href="/?q=licenciement&amp;f.source=fiches-service-public"'
    assert link in page
    chosen = client.get("/", params={"q": "licenciement", "f.source": "fiches-service-public"})
    text = chosen.text
    assert 'class="chosen" aria-current="true"' in text
    assert '<input type="hidden" name="f.source" value="fiches-service-public">' in text
    assert "code-du-travail" not in re.sub(r"<aside.*</aside>", "", text, flags=re.S)
    year = client.get("/", params={"q": "licenciement", "f.date": "2019"}).text
    assert "1–6 sur 6 documents" in year
    bad = client.get("/", params={"q": "licenciement", "f.nope": "x"})
    assert bad.status_code == 400 and "no keyword or date field &#39;nope&#39;" in bad.text


def test_sort_and_passages_are_form_controls(client: TestClient) -> None:
    page = client.get("/", params={"q": "licenciement", "sort": "-date", "passages": "true"}).text
    assert '<option value="-date" selected>date (décroissant)</option>' in page
    assert 'name="passages" type="checkbox" value="true" checked' in page
    assert "1–10 sur 19 passages" in page


def test_the_document_view_marks_the_query(client: TestClient) -> None:
    page = client.get("/", params={"q": "préavis"}).text
    link = re.search(r'<h2><a href="(/document\?id=[^"]+)"', page)
    assert link is not None
    view = client.get(link.group(1).replace("&amp;", "&"))
    assert view.status_code == 200
    assert "<mark>préavis</mark>" in view.text and "← Retour aux résultats" in view.text
    assert 'href="/?q=pr%C3%A9avis"' in view.text
    missing = client.get("/document", params={"id": "nope"})
    assert missing.status_code == 404 and "no document «nope»" in missing.text


@pytest.mark.parametrize(
    ("header", "query", "expected"),
    [
        ("en-GB,en;q=0.9", {}, "Search fiches.index"),
        ("fr-FR,fr;q=0.9,en;q=0.5", {}, "Rechercher dans fiches.index"),
        ("de", {}, "Rechercher dans fiches.index"),
        ("fr", {"lang": "en"}, "Search fiches.index"),
    ],
)
def test_the_page_speaks_french_or_english(
    client: TestClient, header: str, query: dict[str, str], expected: str
) -> None:
    page = client.get("/", params=query, headers={"Accept-Language": header}).text
    assert f'<label for="q">{expected}</label>' in page
    lang = "en" if expected.startswith("Search") else "fr"
    assert f'<html lang="{lang}">' in page


# -- writing needs the token ----------------------------------------------------------------


def test_a_server_without_a_token_refuses_every_write(client: TestClient) -> None:
    doc = {"id": "n", "title": "T", "text": "x"}
    for answer in (
        client.post("/api/documents", json=doc, headers={"Authorization": f"Bearer {TOKEN}"}),
        client.delete("/api/documents/doc-00"),
        client.post("/api/documents/delete", json={"ids": ["doc-00"]}),
    ):
        assert "this server is read-only" in error_of(answer, 403)
    assert client.get("/api/documents/doc-00").status_code == 200


def test_writes_need_the_right_token(writable: TestClient) -> None:
    doc = {"id": "new", "title": "Nouveau", "text": "Le télétravail du salarié."}
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}):
        answer = writable.post("/api/documents", json=doc, headers=headers)
        assert "Authorization: Bearer TOKEN" in error_of(answer, 401)
        assert answer.headers["www-authenticate"] == "Bearer"
    assert writable.get("/api/documents/new").status_code == 404


def test_add_and_delete_with_the_token(writable: TestClient) -> None:
    auth = {"Authorization": f"Bearer {TOKEN}"}
    docs = [
        {"id": "t1", "title": "Télétravail", "text": "Le télétravail du salarié.", "source": "a"},
        {"id": "t2", "title": "Astreinte", "text": "L'astreinte du salarié.", "source": "b"},
    ]
    added = writable.post("/api/documents", json=docs, headers=auth)
    assert added.status_code == 200 and added.json()["indexed"] == 2
    assert added.json()["documents"] == 5
    found = writable.get("/api/search", params={"q": "télétravail"}).json()
    assert [h["doc_id"] for h in found["hits"]] == ["t1"]
    lines = b'{"id": "t3", "text": "Un."}\n{"id": "t4", "text": "Deux."}\n'
    assert writable.post("/api/documents", content=lines, headers=auth).json()["indexed"] == 2
    gone = writable.delete("/api/documents/t1", headers=auth)
    assert gone.json() == {"deleted": ["t1"], "missing": [], "passages": 1}
    batch = writable.post("/api/documents/delete", json={"ids": ["t2", "zz"]}, headers=auth)
    assert batch.json() == {"deleted": ["t2"], "missing": ["zz"], "passages": 1}
    assert error_of(writable.delete("/api/documents/t1", headers=auth), 404)
    assert writable.get("/api/search", params={"q": "télétravail"}).json()["total"] == 0


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b'{"id": "x"}', 'document 1: missing "text" (a string)'),
        (b'[{"id": "x", "text": "a"}, {"text": "b"}]', 'document 2: missing or empty "id"'),
        (b"[1]", "document 1: a document is a JSON object"),
        (b'{"id": "x", "text": ', "malformed JSON (Expecting value, line 1 column 20)"),
        (b"[]", "no documents in the body"),
        (b'{"id": "x", "text": "a", "source": 3}', "field 'source'"),
        (b'{"id": "x", "text": "a\\ud800"}', "lone surrogate"),
    ],
)
def test_bad_documents_are_refused_and_nothing_is_added(
    writable: TestClient, body: bytes, message: str
) -> None:
    auth = {"Authorization": f"Bearer {TOKEN}"}
    answer = writable.post("/api/documents", content=body, headers=auth)
    assert message in error_of(answer, 400)
    assert writable.get("/api/stats").json()["documents"] == 3


def test_a_body_over_the_limit_is_refused(tmp_path: Path) -> None:
    with Index.create(tmp_path / "i") as index:
        client = TestClient(create_app(index, write_token=TOKEN, max_body=1000))
        auth = {"Authorization": f"Bearer {TOKEN}"}
        doc = {"id": "big", "text": "mot " * 1000}
        answer = client.post("/api/documents", json=doc, headers=auth)
        assert error_of(answer, 413) == "the request body is over 1,000 bytes"


# -- one index, many requests at once --------------------------------------------------------


@contextlib.contextmanager
def running(app: Any) -> Iterator[str]:
    """``app`` served by uvicorn on a free port of 127.0.0.1, in a thread: its URL."""
    import uvicorn

    from searchlib.serve.server import bind, url_of

    sock = bind("127.0.0.1", 0)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        while not server.started:
            time.sleep(0.01)
        yield url_of(sock)
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


def test_concurrent_requests_share_one_index(index: Index, index_dir: Path) -> None:
    import httpx2

    queries = ["licenciement", "rupture conventionnelle", "préavis", "congés payés"] * 8
    with running(create_app(index, label=str(index_dir))) as url:
        expected = {
            q: httpx2.get(url + "api/search", params={"q": q}, timeout=60).json()
            for q in set(queries)
        }
        answers: list[tuple[str, Any]] = []

        def ask(q: str) -> None:
            answer = httpx2.get(url + "api/search", params={"q": q}, timeout=60)
            answers.append((q, answer.json()))

        threads = [threading.Thread(target=ask, args=(q,)) for q in queries]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert len(answers) == len(queries)
    assert all(answer == expected[q] for q, answer in answers)


# -- the command ----------------------------------------------------------------------------------


def test_serve_without_the_extra_says_so_in_one_line(
    index_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import searchlib

    monkeypatch.delattr(searchlib, "serve", raising=False)
    for name in [m for m in sys.modules if m.startswith("searchlib.serve")]:
        monkeypatch.delitem(sys.modules, name)
    for name in ["starlette", *(m for m in sys.modules if m.startswith("starlette."))]:
        monkeypatch.setitem(sys.modules, name, None)  # as if not installed
    err = io.StringIO()
    assert main(["serve", "--index", str(index_dir)], stderr=err) == 1
    assert err.getvalue() == (
        "searchlib: serve needs the serve extra: pip install 'searchlib[serve]' "
        "(starlette is missing)\n"
    )


def test_serve_prints_its_url_and_stops_on_ctrl_c(index_dir: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO), "SEARCHLIB_WRITE_TOKEN": TOKEN}
    process = subprocess.Popen(
        [sys.executable, "-m", "searchlib", "serve", "--index", str(index_dir), "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        found = re.fullmatch(
            rf"searchlib: serving {re.escape(str(index_dir))} \(read and write\) at "
            r"(http://127\.0\.0\.1:\d+/)\n",
            first,
        )
        assert found, first
        assert process.stdout.readline() == "searchlib: Ctrl-C stops it\n"
        import httpx2

        stats = httpx2.get(found.group(1) + "api/stats", timeout=30).json()
        assert stats["documents"] == 37
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, err
    assert out == "searchlib: stopped\n" and err == ""


def test_the_listening_socket_answers_without_nagle_delays() -> None:
    from searchlib.serve.server import bind

    sock = bind("127.0.0.1", 0)
    with sock:
        # asyncio sets TCP_NODELAY on accepted sockets only when they say they are
        # TCP: without it each kept-alive answer waited 40 ms for a delayed ACK
        assert sock.proto == socket.IPPROTO_TCP
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0


def test_the_server_runs_on_uvicorns_c_parser_and_loop_when_installed(index: Index) -> None:
    pytest.importorskip("httptools", reason="the serve extra installs httptools")
    uvloop = pytest.importorskip("uvloop", reason="the serve extra installs uvloop")
    import uvicorn.protocols.http.httptools_impl

    from searchlib.serve.server import config

    chosen = config(create_app(index))
    chosen.load()
    assert chosen.http_protocol_class is uvicorn.protocols.http.httptools_impl.HttpToolsProtocol
    factory = chosen.get_loop_factory()
    assert factory is not None
    loop = factory()
    try:
        assert isinstance(loop, uvloop.Loop)
    finally:
        loop.close()


def hold_the_turn(service: Service) -> threading.Event:
    """A long search holding the local index's turn until the event is set."""
    assert service.searches is not None
    release = threading.Event()
    service.searches.submit(release.wait, 30)
    return release


def test_searches_of_a_local_index_take_turns_in_order_and_the_wait_counts(
    index: Index,
) -> None:
    # One search at a time runs on a local index: the others queue first come,
    # first served, and the time spent queueing counts against the time limit.
    service = Service(index)
    queries = ["licenciement", "préavis", "congés", "salaire", "démission"]
    order: list[str] = []
    timed_out: list[str] = []

    async def search(query: str, seconds: float) -> None:
        try:
            await service.search(SearchRequest(query, time_limit=seconds))
        except SearchTimeoutError as e:
            timed_out.append(str(e))
        else:
            order.append(query)

    async def run() -> None:
        release = hold_the_turn(service)
        try:
            async with anyio.create_task_group() as group:
                for query in queries:
                    group.start_soon(search, query, 30.0)
                    await anyio.sleep(0.01)  # they come in this order
                await anyio.sleep(0.05)
                assert order == []  # all waiting for their turn
                release.set()
            assert order == queries
            release = hold_the_turn(service)
            async with anyio.create_task_group() as group:
                group.start_soon(search, "licenciement", 0.1)
                await anyio.sleep(0.3)  # it waits past its time limit
                release.set()
        finally:
            release.set()

    anyio.run(run)
    assert len(timed_out) == 1 and "waited longer than its time limit (0.1 s)" in timed_out[0]


def test_a_search_given_up_while_it_waits_for_its_turn_never_runs(
    index: Index, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Its client gone (the request cancelled), a search still queued is dropped:
    # the searches behind it do not wait for it.
    service = Service(index)
    ran: list[str] = []
    run = index.run

    def counted(request: SearchRequest) -> Any:
        ran.append(request.query)
        return run(request)

    monkeypatch.setattr(index, "run", counted)

    async def main() -> None:
        release = hold_the_turn(service)
        try:
            async with anyio.create_task_group() as group:
                group.start_soon(service.search, SearchRequest("licenciement"))
                await anyio.sleep(0.05)  # it waits for its turn
                group.cancel_scope.cancel()  # and its client goes away
        finally:
            release.set()
        await service.search(SearchRequest("préavis"))

    anyio.run(main)
    assert ran == ["préavis"]
