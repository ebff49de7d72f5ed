"""The command line, driven through ``main([...])`` with captured streams."""

from __future__ import annotations

import gzip
import io
import json
import re
from pathlib import Path

import pytest

from searchlib import FrenchAnalyzer, Index, __version__, load_corpus
from searchlib.app.cli import build_parser, main
from searchlib.app.evaluate import load_qrels, load_queries, metrics, run_queries, write_trec_run
from searchlib.app.progress import Progress, format_seconds, input_size
from searchlib.engine.request import SearchRequest

DATA = Path(__file__).parent / "data" / "cli"
CORPUS = DATA / "corpus.jsonl"
ANSI = re.compile(r"\x1b\[")


def run(*argv: str, stdin: str = "") -> tuple[int, str, str]:
    """Exit code, stdout and stderr of ``searchlib ARGV``."""
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), stdin=io.StringIO(stdin), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("cli") / "ix"
    code, out, err = run("index", str(CORPUS), "--index", str(target))
    assert (code, err) == (0, "") and out.startswith("indexed 5 documents")
    return target


def subcommands() -> list[str]:
    parser = build_parser()
    action = next(a for a in parser._actions if a.dest == "command")
    return sorted(action.choices)


# -- parser, help, version, exit codes ---------------------------------------------


def test_subcommands_are_the_issue_list() -> None:
    assert subcommands() == [
        "analyze",
        "complete",
        "delete",
        "embed",
        "eval",
        "explain",
        "export",
        "get",
        "index",
        "learn",
        "ranking",
        "repl",
        "search",
        "serve",
        "stats",
    ]


@pytest.mark.parametrize("command", ["", *subcommands()])
def test_help_and_version_on_every_command(command: str) -> None:
    prefix = [command] if command else []
    code, out, err = run(*prefix, "--help")
    assert code == 0 and err == ""
    assert out.startswith(f"usage: searchlib {command}".rstrip())
    code, out, _ = run(*prefix, "--version")
    assert (code, out.strip()) == (0, f"searchlib {__version__}")


@pytest.mark.parametrize(
    "argv",
    [
        ["frobnicate"],  # unknown command
        ["search"],  # missing query
        ["search", "chat", "--limit", "0"],  # limit below 1
        ["search", "chat", "--format", "xml"],  # unknown format
        ["index", "x.jsonl", "--index", "d", "--overwrite", "--append"],  # exclusive options
        ["eval", "--index", "d"],  # missing --queries
    ],
)
def test_usage_errors_exit_2(argv: list[str]) -> None:
    code, out, err = run(*argv)
    assert code == 2
    assert out == ""
    assert "usage: searchlib" in err


# -- index --------------------------------------------------------------------------


def test_index_reports_counts_and_is_silent_off_a_terminal(tmp_path: Path) -> None:
    target = tmp_path / "ix"
    code, out, err = run("index", str(CORPUS), "--index", str(target), "--limitmb", "32")
    assert code == 0
    assert err == ""  # no progress bar: stderr is not a terminal
    assert re.match(
        r"indexed 5 documents \([\d.]+ MB of text\) into .* 5 documents, 7 passages$", out
    )
    with Index.open(target) as ix:
        assert ix.stats().documents == 5


def test_index_quiet_prints_nothing(tmp_path: Path) -> None:
    assert run("index", str(CORPUS), "--index", str(tmp_path / "ix"), "-q") == (0, "", "")


def test_index_refuses_to_overwrite_without_the_flag(index_dir: Path) -> None:
    code, out, err = run("index", str(CORPUS), "--index", str(index_dir))
    assert code == 1 and out == ""
    assert err.startswith("searchlib: an index already exists at")
    assert err.count("\n") == 1 and "Traceback" not in err


def test_index_append_updates_documents(tmp_path: Path) -> None:
    target = tmp_path / "ix"
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "note.txt").write_text("Une note\n\nLa baleine bleue.", encoding="utf-8")
    assert run("index", str(CORPUS), "--index", str(target), "-q")[0] == 0
    code, out, _ = run("index", str(tmp_path / "docs"), "--index", str(target), "--append")
    assert code == 0
    assert out.startswith("indexed 1 document (") and "holds 6 documents, 8 passages" in out
    _, out, _ = run("search", "baleine", "--index", str(target), "--json")
    assert [h["doc_id"] for h in json.loads(out)["hits"]] == ["note"]
    with Index.open(target) as ix:
        assert ix.stats().documents == 6


def test_index_bad_input_is_a_user_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "a", "title": "t", "text": "x"}\n{oops\n', encoding="utf-8")
    code, out, err = run("index", str(bad), "--index", str(tmp_path / "ix"))
    assert code == 1 and out == ""
    assert err.startswith(f"searchlib: {bad}:2")
    code, _, err = run("index", str(tmp_path / "missing"), "--index", str(tmp_path / "ix2"))
    assert code == 1 and "no such file or folder" in err


# -- search -------------------------------------------------------------------------


def test_search_text_marks_matches_without_colour(index_dir: Path) -> None:
    code, out, err = run("search", "cour federale", "--index", str(index_dir))
    assert (code, err) == (0, "")
    assert not ANSI.search(out)  # a StringIO is not a terminal
    first = out.splitlines()[0]
    assert first.startswith("  1. [La] [cour] [fédérale]") or "[cour] [fédérale]" in first
    assert "[d1#1]" in first and "score " in first
    assert "[cour] [fédérale]" in out.splitlines()[1]


def test_search_json_is_the_library_dict(index_dir: Path) -> None:
    code, out, _ = run("search", "musique OR œuvre", "--index", str(index_dir), "--json")
    assert code == 0
    data = json.loads(out)
    with Index.open(index_dir) as ix:
        expected = ix.search("musique OR œuvre").to_dict()
    assert data == expected
    assert set(data) >= {"query", "total", "hits"}
    assert set(data["hits"][0]) == {"rank", "id", "doc_id", "score", "title", "snippet", "fields"}
    assert any("<mark>" in h["snippet"] for h in data["hits"])


def test_search_format_json_equals_json_shortcut(index_dir: Path) -> None:
    a = run("search", "poisson", "--index", str(index_dir), "--json")
    b = run("search", "poisson", "--index", str(index_dir), "--format", "json")
    assert a == b


def test_search_html_escapes_and_marks(index_dir: Path) -> None:
    code, out, _ = run("search", "prix <b>", "--index", str(index_dir), "--format", "html")
    assert code == 0
    assert out.startswith("<!DOCTYPE html>")
    assert "<mark>prix</mark>" in out
    assert "&lt;b&gt;" in out and "<b>" not in out


def test_search_limit_and_page(index_dir: Path) -> None:
    query = "poisson cour musique œuvre vie"
    seen = []
    for page in (1, 2, 3):
        code, out, _ = run(
            "search",
            query,
            "--index",
            str(index_dir),
            "--json",
            "--limit",
            "2",
            "--page",
            str(page),
            "--passages",
        )
        data = json.loads(out)
        assert code == 0 and data["page"] == page and data["total"] >= 6
        assert [h["rank"] for h in data["hits"]] == [2 * page - 1, 2 * page]
        seen += [h["id"] for h in data["hits"]]
    _, out, _ = run(
        "search", query, "--index", str(index_dir), "--json", "--limit", "6", "--passages"
    )
    assert seen == [h["id"] for h in json.loads(out)["hits"]]


def test_search_hits_are_documents_unless_passages_are_asked(index_dir: Path) -> None:
    _, out, _ = run("search", "poisson sole", "--index", str(index_dir), "--json", "--passages")
    passages = json.loads(out)
    assert len(passages["hits"]) > 1 and passages["total"] == len(passages["hits"])
    _, out, _ = run("search", "poisson sole", "--index", str(index_dir), "--json")
    documents = json.loads(out)
    assert [h["doc_id"] for h in documents["hits"]] == ["d5"] and documents["total"] == 1
    assert documents["hits"][0]["id"] == passages["hits"][0]["id"]  # its best passage
    # --collapse, the old way to ask for documents, is still understood
    old_way = run("search", "poisson sole", "--index", str(index_dir), "--json", "--collapse")
    assert old_way[1] == out


def test_search_errors_are_one_line(index_dir: Path, tmp_path: Path) -> None:
    code, out, err = run("search", "chat", "--index", str(tmp_path / "nothing"))
    assert (code, out) == (1, "")
    assert err == f"searchlib: no searchlib index at {tmp_path / 'nothing'}\n"
    code, out, err = run("search", "musique AND", "--index", str(index_dir))
    assert (code, out) == (1, "")
    assert err.splitlines() == [
        "searchlib: query error: AND needs a term after it at position 8",
        "musique AND",
        "        ^",
    ]


# -- issue 16: queries starting with -, corrections, explain, get, delete, export -----------


def test_a_query_may_start_with_a_dash(index_dir: Path) -> None:
    code, out, err = run("search", "-juge", "--index", str(index_dir), "--json")
    assert (code, err) == (0, "")
    data = json.loads(out)
    assert data["query"] == "-juge" and data["total"] == 4  # every document but d1
    assert "d1" not in {h["doc_id"] for h in data["hits"]}
    assert run("search", "--index", str(index_dir), "--json", "--", "-juge") == (code, out, err)
    assert run("search", "--json", "-juge", "--index", str(index_dir)) == (code, out, err)
    # an option of another command is still a query here; a misspelt long option is an error
    assert run("search", "-q", "--index", str(index_dir))[0] == 0
    assert run("search", "x", "--limt", "3")[0] == 2


def test_search_reports_corrections_and_suggestions(index_dir: Path) -> None:
    code, out, _ = run("search", "federlae", "--index", str(index_dir))
    assert code == 0
    assert out.splitlines()[0] == (
        "results for «fédérale» (you typed «federlae»; search it as typed: +federlae)"
    )
    assert out.splitlines()[-1].startswith("1–1 of 1 result for «fédérale»")
    _, out, _ = run("search", "federlae", "--index", str(index_dir), "--json")
    data = json.loads(out)
    assert data["searched"] == "fédérale" and data["corrections"][0]["word"] == "federlae"
    code, out, _ = run("search", "federlae", "--index", str(index_dir), "--no-correct")
    assert out.splitlines() == ["no results for «federlae»", "did you mean «fédérale»?"]
    _, out, _ = run("search", "+federlae", "--index", str(index_dir), "--json")
    assert json.loads(out)["total"] == 0
    _, out, _ = run("search", "federlae", "--index", str(index_dir), "--format", "html")
    assert "Results for <q>fédérale</q>" in out


def test_search_as_you_type_and_complete(index_dir: Path) -> None:
    _, out, _ = run("search", "pêcheu", "--index", str(index_dir), "--json", "--no-correct")
    assert json.loads(out)["total"] == 0
    _, out, _ = run("search", "pêcheu", "--index", str(index_dir), "--json", "--as-you-type")
    assert {h["doc_id"] for h in json.loads(out)["hits"]} == {"d5"}
    code, out, _ = run("complete", "la pech", "--index", str(index_dir))
    assert code == 0 and out.splitlines()[:2] == ["la pêche", "la pêcheurs"]
    _, out, _ = run("complete", "pech", "--index", str(index_dir), "--json")
    assert json.loads(out)[0] == {"query": "pêche", "word": "pêche", "frequency": 1, "matches": 1}


def test_explain_a_passage_or_a_document(index_dir: Path) -> None:
    with Index.open(index_dir) as ix:
        hit = ix.search("cour federale").hits[0]
    code, out, err = run("explain", "cour federale", hit.id, "--index", str(index_dir))
    assert (code, err) == (0, "")
    assert out.splitlines()[0] == f"{hit.id}: score {hit.score:.4f}"
    _, by_doc, _ = run("explain", "cour federale", hit.doc_id, "--index", str(index_dir))
    assert by_doc == out
    _, out, _ = run("explain", "cour federale", hit.id, "--index", str(index_dir), "--json")
    data = json.loads(out)
    assert abs(data["total"] - hit.score) < 1e-9 and data["hit_id"] == hit.id
    code, out, err = run("explain", "cour", "nope", "--index", str(index_dir))
    assert (code, out, err) == (1, "", "searchlib: no passage or document «nope» in the index\n")
    assert run("explain", "-juge", hit.id, "--index", str(index_dir))[0] == 0


def test_get_a_document_as_text_or_json(index_dir: Path) -> None:
    code, out, _ = run("get", "d1", "--index", str(index_dir), "--json")
    assert code == 0
    assert json.loads(out) == {
        "id": "d1",
        "title": "La cour fédérale",
        "text": "La cour fédérale des États-Unis a jugé l’affaire. "
        "Le juge a tranché en faveur du site.",
        "source": "synthetic",
    }
    _, out, _ = run("get", "d1", "--index", str(index_dir))
    assert out.splitlines()[:3] == ["La cour fédérale", "id: d1", "source: synthetic"]
    assert out.splitlines()[4].startswith("La cour fédérale des États-Unis")
    _, out, _ = run("get", "d5#2", "--index", str(index_dir), "--json")
    assert json.loads(out)["doc_id"] == "d5" and json.loads(out)["position"] == 1
    assert run("get", "nope", "--index", str(index_dir))[0] == 1


def test_delete_documents(tmp_path: Path) -> None:
    target = tmp_path / "ix"
    assert run("index", str(CORPUS), "--index", str(target), "-q")[0] == 0
    code, out, err = run("delete", "d1", "d5", "--index", str(target))
    assert (code, err) == (0, "")
    assert out == f"deleted 2 documents (4 passages) from {target}\n"
    assert run("get", "d1", "--index", str(target))[0] == 1
    assert "5 documents" not in run("stats", "--index", str(target))[1]
    code, out, err = run("delete", "d2", "nope", "--index", str(target))
    assert code == 1 and err == f"searchlib: no document «nope» in {target}\n"
    assert out == f"deleted 1 document (1 passage) from {target}\n"


def test_export_reads_back_into_an_equal_index(index_dir: Path, tmp_path: Path) -> None:
    exported = tmp_path / "export.jsonl"
    code, out, err = run("export", "--index", str(index_dir), "-o", str(exported))
    assert (code, out, err) == (0, "", "")
    assert run("export", "--index", str(index_dir))[1] == exported.read_text(encoding="utf-8")
    copy = tmp_path / "copy"
    assert run("index", str(exported), "--index", str(copy), "-q")[0] == 0
    with Index.open(index_dir) as a, Index.open(copy) as b:
        assert list(a.documents()) == list(b.documents())
        assert len(list(a.documents())) == 5
        assert list(a.documents()) == list(load_corpus(CORPUS))
        for q in ("cour federale", "poisson OR musique", "prix de l'oeuvre"):
            ra, rb = a.search(q), b.search(q)
            assert [(h.id, h.score) for h in ra] == [(h.id, h.score) for h in rb]


HOSTILE = {
    "id": "evil\x1b[2J",
    "title": "Titre \x1b]0;pwned\x07",
    "text": "La cour \x1b]8;;http://x.example\x07fédérale\x1b]8;;\x07 \x9b31m rouge \u202e",
}


def test_control_characters_never_reach_the_terminal(tmp_path: Path) -> None:
    corpus = tmp_path / "evil.jsonl"
    corpus.write_text(json.dumps(HOSTILE) + "\n", encoding="utf-8")
    target = tmp_path / "ix"
    assert run("index", str(corpus), "--index", str(target), "-q")[0] == 0
    outputs = [
        run("search", "cour federale", "--index", str(target))[1],
        run("search", "cour \x1b[2J federale", "--index", str(target))[1],
        run("search", "cour", "--index", str(target), "--json")[1],
        run("search", "cour", "--index", str(target), "--format", "html")[1],
        run("get", HOSTILE["id"], "--index", str(target))[1],
        run("get", HOSTILE["id"], "--index", str(target), "--json")[1],
        run("explain", "cour", HOSTILE["id"], "--index", str(target))[1],
        run("export", "--index", str(target))[1],
        run("get", "nope\x1b[2J", "--index", str(target))[2],
        run("search", "\x1b[2J AND", "--index", str(target))[2],
    ]
    for out in outputs:
        assert out
        assert not re.search("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202e]", out), out
    assert "^[]0;pwned^G" in outputs[0] and "[evil^[[2J#1]" in outputs[0]
    # JSON keeps the data: the escapes are JSON's own
    assert json.loads(outputs[5])["title"] == HOSTILE["title"]
    assert json.loads(outputs[7])["text"] == HOSTILE["text"]


# -- analyze, stats ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "L’URL des États-Unis",  # elision, compound
        "jusqu'au 13ème siècle, M.P.A.A.",  # long elision, ordinal, acronym
        "Cœur fédéral à 3,5 %",  # ligature, decimal
    ],
)
def test_analyze_json_terms_are_the_analyzer_terms(text: str) -> None:
    code, out, _ = run("analyze", text, "--json")
    assert code == 0
    data = json.loads(out)
    assert data["terms"] == FrenchAnalyzer().terms(text)
    for token in data["tokens"]:
        # offsets point at the elided word in the (NFC) text; compounds and
        # acronyms are written without their hyphens and dots
        source = data["text"][token["start"] : token["end"]]
        assert re.sub(r"[-.]", "", source) == token["elision"]


def test_analyze_table_shows_every_stage() -> None:
    code, out, _ = run("analyze", "L’été des Œuvres")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == [
        "pos",
        "offsets",
        "token",
        "elision",
        "lowercase",
        "folding",
        "stem",
    ]
    assert lines[1].split() == ["0", "2-5", "L’été", "été", "été", "ete", "ete"]
    assert lines[3].split()[2:] == ["Œuvres", "Œuvres", "œuvres", "oeuvres", "oeuvr"]
    assert "(stopword)" in lines[2]


def test_stats(index_dir: Path) -> None:
    code, out, _ = run("stats", "--index", str(index_dir), "--json")
    data = json.loads(out)
    with Index.open(index_dir) as ix:
        stats = ix.stats()
    assert (data["documents"], data["passages"]) == (stats.documents, stats.passages) == (5, 7)
    assert data["analyzer_version"] == stats.analyzer_version
    code, out, _ = run("stats", "--index", str(index_dir))
    assert code == 0 and re.search(r"^passages\s+7$", out, re.M)


# -- eval -------------------------------------------------------------------------------


def test_eval_matches_the_library_and_survives_a_bad_query(index_dir: Path, tmp_path: Path) -> None:
    run_file = tmp_path / "run.txt"
    code, out, err = run(
        "eval",
        "--index",
        str(index_dir),
        "--queries",
        str(DATA / "queries.jsonl"),
        "--qrels",
        str(DATA / "qrels.tsv"),
        "--run-file",
        str(run_file),
        "--json",
    )
    assert code == 0
    # q5 is malformed: reported, scored as empty, the batch goes on
    assert err.splitlines() == [
        "searchlib: query q5 failed, scored as empty: AND needs a term after it at position 5",
        "searchlib: 1 of 6 queries failed",
    ]
    with Index.open(index_dir) as ix:
        ranked = dict(run_queries(ix, load_queries(DATA / "queries.jsonl")))
    expected = metrics(
        {q: [d for d, _ in docs] for q, docs in ranked.items()}, load_qrels(DATA / "qrels.tsv")
    )
    report = json.loads(out)
    assert {k: report[k] for k in ("ndcg@10", "mrr@10", "recall@100", "queries")} == (
        expected.as_dict()
    )
    assert (report["searched"], report["failed"]) == (6, 1)
    lines = run_file.read_text(encoding="utf-8").splitlines()
    fields = [line.split() for line in lines]
    assert all(len(f) == 6 and f[1] == "Q0" and f[5] == "searchlib" for f in fields)
    assert {f[0] for f in fields} == {"q1", "q2", "q3", "q4", "q6"}
    assert next((f[0], f[2], int(f[3])) for f in fields if f[0] == "q1") == ("q1", "d1", 1)
    assert [f[2] for f in fields if f[0] == "q1"] == [d for d, _ in ranked["q1"]]


def test_eval_survives_a_crashing_query(
    index_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_request = Index.run

    def flaky(self: Index, request: SearchRequest) -> object:
        if request.query == "boom":
            raise RecursionError("maximum recursion depth exceeded")
        return run_request(self, request)

    monkeypatch.setattr(Index, "run", flaky)
    queries = tmp_path / "q.jsonl"
    lines = [
        '{"id": "a", "text": "poisson"}',
        '{"id": "b", "text": "boom"}',
        '{"id": "c", "text": "cour"}',
    ]
    queries.write_text("\n".join(lines) + "\n", encoding="utf-8")
    code, out, err = run("eval", "--index", str(index_dir), "--queries", str(queries))
    assert code == 0
    assert err.splitlines() == [
        "searchlib: query b failed, scored as empty: internal error RecursionError: "
        "maximum recursion depth exceeded",
        "searchlib: 1 of 3 queries failed",
    ]
    assert {line.split()[0] for line in out.splitlines()} == {"a", "c"}


def test_eval_text_report(index_dir: Path) -> None:
    code, out, _ = run(
        "eval",
        "--index",
        str(index_dir),
        "--queries",
        str(DATA / "queries.jsonl"),
        "--qrels",
        str(DATA / "qrels.tsv"),
    )
    assert code == 0
    assert re.match(
        r"nDCG@10 \d\.\d{4}  MRR@10 \d\.\d{4}  Recall@100 \d\.\d{4}  \(6 judged queries of 6,", out
    )


def test_eval_without_qrels_writes_the_run_to_stdout(index_dir: Path) -> None:
    code, out, _ = run(
        "eval", "--index", str(index_dir), "--queries", str(DATA / "queries.jsonl"), "--limit", "2"
    )
    assert code == 0
    expected = io.StringIO()
    with Index.open(index_dir) as ix:
        write_trec_run(run_queries(ix, load_queries(DATA / "queries.jsonl"), limit=2), expected)
    assert out == expected.getvalue() != ""


def test_eval_missing_file_is_a_user_error(index_dir: Path, tmp_path: Path) -> None:
    code, _, err = run("eval", "--index", str(index_dir), "--queries", str(tmp_path / "q.jsonl"))
    assert code == 1 and err.startswith("searchlib: ") and err.count("\n") == 1


# -- repl through main ----------------------------------------------------------------------


def test_no_command_opens_the_repl_on_the_seed_corpus() -> None:
    code, out, err = run(stdin="cour federale\n:quit\nmusique\n")
    assert (code, err) == (0, "")
    assert "index: bundled seed corpus" in out
    assert "[cour] [fédérale]" in out
    assert "for «musique»" not in out  # nothing runs after :quit


def test_repl_subcommand_on_an_index(index_dir: Path) -> None:
    code, out, _ = run(
        "repl", "--index", str(index_dir), "--limit", "1", stdin=":passages on\npoisson\n:next\n"
    )
    assert code == 0
    assert "5 documents, 7 passages" in out
    assert "  1. " in out and "  2. " in out


# -- progress ---------------------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_progress_is_silent_for_quick_jobs_then_draws() -> None:
    clock, stream = Clock(), io.StringIO()
    progress = Progress(stream, total_bytes=1000, delay=0.5, interval=0.1, clock=clock)
    items = progress.wrap(["a" * 100] * 10, size=len)
    next(items)
    assert stream.getvalue() == ""  # under the delay
    clock.now = 2.0
    next(items)  # 200 of 1000 bytes in 2 s: 8 s to go
    line = stream.getvalue()
    assert "[####...." in line and " 20%" in line
    assert "2 docs" in line and "0.00 MB/s" in line and "ETA 0:08" in line
    progress.close()
    assert stream.getvalue().endswith("\r\x1b[2K")


def test_the_commit_is_a_phase_with_its_own_clock() -> None:
    clock, stream = Clock(), io.StringIO()
    progress = Progress(stream, total_bytes=1000, delay=0.5, clock=clock)
    clock.now = 3.0
    assert list(progress.wrap(["a" * 500] * 2, size=len)) == ["a" * 500] * 2
    progress.phase("committing")  # the reading is over: no more bar at 99%
    assert stream.getvalue().endswith("2 docs read in 0:03  committing 0:00")
    clock.now = 21.0
    assert progress.phase_line() == "2 docs read in 0:03  committing 0:18"
    progress.tick_phase()
    assert stream.getvalue().endswith("committing 0:18")
    ticker = progress._ticker
    assert ticker is not None and ticker.is_alive()  # redraws while the library commits
    progress.close()
    assert not ticker.is_alive() and stream.getvalue().endswith("\r\x1b[2K")


def test_progress_disabled_never_writes() -> None:
    clock, stream = Clock(), io.StringIO()
    progress = Progress(stream, enabled=False, clock=clock)
    clock.now = 10.0
    assert list(progress.wrap(range(3))) == [0, 1, 2]
    progress.phase("committing")
    progress.close()
    assert stream.getvalue() == "" and progress.items == 3


def test_input_size_reads_the_gzip_trailer(tmp_path: Path) -> None:
    data = ("é" * 5000).encode("utf-8")
    (tmp_path / "a.jsonl.gz").write_bytes(gzip.compress(data))
    (tmp_path / "b.txt").write_bytes(b"x" * 10)
    (tmp_path / "skip.bin").write_bytes(b"x" * 99)
    assert input_size(tmp_path) == len(data) + 10
    assert input_size(tmp_path / "b.txt", tmp_path / "nope") is None


def test_format_seconds() -> None:
    assert [format_seconds(s) for s in (0, 59.6, 3600)] == ["0:00", "1:00", "1:00:00"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["learn", "--cross-validate", "1000000"], "--cross-validate: must be from 2 to 1000"),
        (["learn", "--cross-validate", "1"], "--cross-validate: must be from 2 to 1000"),
        (["embed", "--max-tokens", "8"], "--max-tokens: must be at least 16"),
        (["index", "x.jsonl", "--semantic", "--max-tokens", "8"], "--max-tokens: must be at least"),
        (["embed", "--max-tokens", "huit"], "--max-tokens: not a whole number: 'huit'"),
    ],
)
def test_numbers_out_of_range_are_usage_errors(
    argv: list[str], message: str, tmp_path: Path
) -> None:
    code, _, err = run(*argv, "--index", str(tmp_path / "ix"))
    assert code == 2 and message in err and "Traceback" not in err
    assert not (tmp_path / "ix").exists()


# -- bad field values, streams ---------------------------------------------------------------


def _bad_pages(tmp_path: Path) -> Path:
    path = tmp_path / "c.jsonl"
    records = [
        {"id": "a", "text": "Le contrat.", "pages": 3},
        {"id": "b", "text": "Le contrat.", "pages": "deux"},
        {"id": "c", "text": "Le contrat."},
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def test_on_error_skip_skips_a_record_with_a_bad_field_value_naming_file_line_and_field(
    tmp_path: Path,
) -> None:
    corpus, target = _bad_pages(tmp_path), tmp_path / "ix"
    field = ("--field", "pages:number")
    code, _, err = run("index", str(corpus), "--index", str(target), *field, "-q")
    assert code == 1
    assert err.startswith(f"searchlib: {corpus}:2: document 'b': field 'pages' (number) cannot ")
    assert err.count("\n") == 1
    assert not target.exists()
    code, _, err = run("index", str(corpus), "--index", str(target), *field, "--on-error", "skip")
    assert code == 0
    assert err.startswith(f"searchlib: warning: {corpus}:2: document 'b': field 'pages' (number)")
    assert err.endswith("(skipped)\n") and err.count("\n") == 1
    with Index.open(target) as ix:
        assert sorted(h.doc_id for h in ix.search("contrat")) == ["a", "c"]
    # Adding to it: the index's own fields apply.
    more = tmp_path / "more.jsonl"
    more.write_text('{"id": "d", "text": "Le contrat.", "pages": [1]}\n', encoding="utf-8")
    code, _, err = run("index", str(more), "--index", str(target), "--append", "-q")
    assert code == 1 and err.startswith(f"searchlib: {more}:1: document 'd': field 'pages'")
    code, _, err = run(
        "index", str(more), "--index", str(target), "--append", "-q", "--on-error", "skip"
    )
    assert code == 0 and err.startswith(f"searchlib: warning: {more}:1: document 'd'")


def test_a_fifo_and_a_pipe_are_read_as_jsonl(tmp_path: Path) -> None:
    import os
    import threading

    lines = "".join(
        json.dumps({"id": f"d{i}", "text": f"Le contrat {i}."}) + "\n" for i in range(3)
    )
    fifo = tmp_path / "corpus"
    os.mkfifo(fifo)

    def feed() -> None:
        with fifo.open("w", encoding="utf-8") as f:
            f.write(lines)

    writer = threading.Thread(target=feed)
    writer.start()
    code, _, err = run("index", str(fifo), "--index", str(tmp_path / "a"), "-q")
    if writer.is_alive():  # not read: let the writer go
        fifo.open("rb").close()
    writer.join(timeout=60)
    assert (code, err) == (0, "")
    with Index.open(tmp_path / "a") as ix:
        assert ix.search("contrat").total == 3
    # <(zcat ...) or <(jq ...): /dev/fd/N, here gzip-compressed.
    read, write = os.pipe()

    def feed_pipe() -> None:
        os.write(write, gzip.compress(lines.encode()))
        os.close(write)

    writer = threading.Thread(target=feed_pipe)
    writer.start()
    try:
        code, _, err = run("index", f"/dev/fd/{read}", "--index", str(tmp_path / "b"), "-q")
    finally:
        writer.join(timeout=60)
        os.close(read)
    assert (code, err) == (0, "")
    with Index.open(tmp_path / "b") as ix:
        assert ix.search("contrat").total == 3


def test_index_delete_and_embed_print_json_summaries(tmp_path: Path) -> None:
    corpus = tmp_path / "c.jsonl"
    corpus.write_text(
        "".join(
            json.dumps({"id": i, "title": "T", "text": "Le préavis de démission."}) + "\n"
            for i in ("a", "b")
        ),
        encoding="utf-8",
    )
    ix = str(tmp_path / "ix")
    code, out, err = run("index", str(corpus), "--index", ix, "--json")
    assert code == 0, err
    summary = json.loads(out)
    assert summary["indexed"] == 2 and summary["documents"] == 2 and summary["vectors"] == 0
    code, out, err = run("delete", "a", "zz", "--index", ix, "--json")
    assert code == 1 and "zz" in err
    assert json.loads(out) == {"index": ix, "deleted": ["a"], "missing": ["zz"], "passages": 1}
    code, out, err = run("embed", "--index", ix, "--drop", "--json")
    assert code == 0, err
    assert json.loads(out) == {"index": ix, "dropped": False}


def test_ranking_is_saved_with_the_index_and_settable_from_the_cli(tmp_path: Path) -> None:
    from searchlib import Ranking

    ix = str(tmp_path / "ix")
    code, _, err = run("index", str(CORPUS), "--index", ix, "--quiet")
    assert code == 0, err
    code, out, err = run("ranking", "--index", ix, "k1=1.5", "default_operator=and", "--json")
    assert code == 0, err
    assert json.loads(out)["k1"] == 1.5
    with Index.open(ix) as index:  # opened again: the saved parameters
        assert index.ranking == Ranking(k1=1.5, default_operator="and")
        index.set_ranking(Ranking(title_boost=2.0))
    with Index.open(ix) as index:
        assert index.ranking == Ranking(title_boost=2.0)
        index.ranking = Ranking(b=0.9)  # this Index only
    with Index.open(ix) as index:
        assert index.ranking == Ranking(title_boost=2.0)
    code, out, err = run("ranking", "--index", ix, "k1=-1")
    assert code != 0 and "k1" in err and err.count("\n") == 1
    code, out, err = run("ranking", "--index", ix, "colour=red")
    assert code != 0 and "unknown ranking parameter 'colour'" in err
    code, out, err = run("ranking", "--index", ix, "--reset")
    assert code == 0 and "(set)" not in out


def test_errors_name_the_command_line_s_options(tmp_path: Path) -> None:
    corpus = tmp_path / "c.jsonl"
    corpus.write_text(
        json.dumps({"id": "a", "title": "T", "text": "Texte.", "tags": ["x", "y"]}) + "\n",
        encoding="utf-8",
    )
    ix = str(tmp_path / "ix")
    code, _, err = run("index", str(corpus), "--index", ix, "--field", "tags:keyword")
    assert code != 0 and "--field NAME:keyword:multiple" in err and "Keyword(" not in err
    code, _, err = run("index", str(corpus), "--index", ix, "--field", "tags:keyword:multiple")
    assert code == 0, err
    code, _, err = run("search", "texte", "--index", ix, "--filter", "juste des mots")
    assert code != 0 and "--filter holds filters only" in err and "filter=" not in err
