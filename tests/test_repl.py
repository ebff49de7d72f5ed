"""The REPL: scripted through its loop, and once under a real pseudo-terminal."""

from __future__ import annotations

import contextlib
import io
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from searchlib import ANALYZER_VERSION, Document, Index, load_corpus
from searchlib.app.render import plural, use_color
from searchlib.app.repl import COMMANDS, PROMPT, Repl, history_path
from searchlib.highlight import ANSI_MARK, highlight_all

CORPUS = Path(__file__).parent / "data" / "cli" / "corpus.jsonl"


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("repl") / "ix"
    with Index.create(target) as ix:
        ix.add(load_corpus(CORPUS))
    return target


@pytest.fixture(scope="module")
def ix(index_dir: Path) -> Iterator[Index]:
    with Index.open(index_dir) as index:
        yield index


def session(ix: Index, *lines: str, color: bool = False, limit: int = 10) -> tuple[str, str]:
    """Output and errors of a REPL fed ``lines``."""
    out, err = io.StringIO(), io.StringIO()
    code = Repl(ix, out=out, err=err, color=color, limit=limit).run(list(lines), banner=False)
    assert code == 0
    return out.getvalue(), err.getvalue()


# -- scripted -------------------------------------------------------------------------


def test_banner_names_the_index_and_counts(ix: Index) -> None:
    out = io.StringIO()
    Repl(ix, out=out, label="test corpus").run([])
    lines = out.getvalue().splitlines()
    assert lines[1] == "index: test corpus — 5 documents, 7 passages"
    assert ":help" in lines[2]


def test_query_shows_rank_title_score_and_marked_snippet(ix: Index) -> None:
    out, err = session(ix, "cour federale")
    assert err == ""
    first, snippet = out.splitlines()[:2]
    assert re.match(r"  1\. La \[cour\] \[fédérale\]  score \d+\.\d\d  \[d1#1\]$", first)
    assert "[cour] [fédérale] des États-Unis" in snippet
    assert "\x1b[" not in out


def test_colours_when_asked(ix: Index) -> None:
    out, _ = session(ix, "cour federale", color=True)
    assert f"{ANSI_MARK[0]}fédérale{ANSI_MARK[1]}" in out
    assert "[fédérale]" not in out


def test_no_color_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.delenv("NO_COLOR", raising=False)
    assert use_color(Tty()) is True
    assert use_color(io.StringIO()) is False
    monkeypatch.setenv("NO_COLOR", "1")
    assert use_color(Tty()) is False
    monkeypatch.setenv("NO_COLOR", "")  # empty means unset (no-color.org)
    assert use_color(Tty()) is True


def test_next_prev_and_limit(ix: Index) -> None:
    query = "poisson cour musique œuvre vie"
    total = ix.search(query).total
    assert total >= 5
    out, err = session(ix, ":limit 2", query, ":next", ":prev", ":limit")
    ranks = [int(m) for m in re.findall(r"^\s+(\d+)\. ", out, re.M)]
    assert ranks == [1, 2, 3, 4, 1, 2]
    assert out.splitlines()[0] == "2 hits per page"
    assert out.splitlines()[-1] == "2 hits per page"
    assert err == ""
    out, err = session(ix, ":limit 0", ":next", "cour", ":next", ":prev")
    assert err.splitlines() == [
        "error: the limit is a number from 1 to 1000, got '0'",
        "error: no results yet: type a query first",
        "error: no more results",
        "error: already on the first page",
    ]


def test_open_marks_every_match_in_the_passage(ix: Index) -> None:
    results = ix.search("poisson")
    hit = results.hits[0]
    out, err = session(ix, "poisson", f":open {hit.rank}")
    assert err == ""
    shown = out.split(f"{hit.id} — passage {hit.position + 1} of 3 of document d5")[1]
    expected = highlight_all(hit.text, ix.analyzer, results.match).to_text(oneline=False)
    assert expected.strip() in shown
    # every occurrence, not a snippet's worth
    assert shown.count("[poisson]") == hit.text.count("poisson") >= 3


def test_open_doc_shows_the_whole_document(ix: Index) -> None:
    out, _ = session(ix, "meunière", ":open 1 doc")
    doc = ix.document("d5")
    assert doc is not None
    assert "document d5 (3 passages)" in out
    assert doc.text.replace("meunière", "[meunière]") in out


def test_open_a_rank_beyond_the_page(ix: Index) -> None:
    query = "poisson cour musique œuvre vie"
    third = ix.search(query, limit=1, page=3).hits[0]
    out, err = session(ix, ":limit 1", query, ":open 3")
    assert err == "" and f"{third.id} — passage" in out


def test_open_and_explain_need_a_valid_hit(ix: Index) -> None:
    _, err = session(ix, ":open 1", "cour", ":open 99", ":explain x")
    assert err.splitlines() == [
        "error: no results yet: type a query first",
        "error: no hit 99: the last query has 1 result",
        "error: expected a hit number, got 'x'",
    ]


def test_explain_lists_terms_per_field(ix: Index) -> None:
    hit = ix.search("cour federale").hits[0]
    out, _ = session(ix, "cour federale", ":explain 1")
    block = out.split(f"{hit.id}: score {hit.score:.4f}")[1]
    assert re.search(r"^  title  \d+\.\d{4}$", block, re.M)
    assert re.search(r"^  text  \d+\.\d{4}$", block, re.M)
    boost = re.escape(f"boost={ix.ranking.title_boost:g}")
    assert re.search(rf"^\s+\d+\.\d{{4}}  federal  tf=1 .* {boost}$", block, re.M)
    assert f"sum {hit.score:.4f}" in block


def test_analyze_stage_by_stage(ix: Index) -> None:
    out, _ = session(ix, ":analyze jusqu’aux États-Unis")
    rows = [line.split() for line in out.splitlines()]
    assert rows[0] == ["pos", "offsets", "token", "elision", "lowercase", "folding", "stem"]
    assert rows[1][:7] == ["0", "6-9", "jusqu’aux", "aux", "aux", "aux", "aux"]
    assert rows[3] == [
        "1",
        "10-20",
        "États-Unis",
        "ÉtatsUnis",
        "étatsunis",
        "etatsunis",
        "etatsun",
        "(compound)",
    ]


def test_stats_help_and_quit(ix: Index) -> None:
    out, _ = session(ix, ":stats", ":help", ":quit", "cour")
    assert re.search(r"^documents\s+5$", out, re.M)
    assert re.search(rf"^analyzer\s+{ANALYZER_VERSION}$", out, re.M)
    for command in COMMANDS:
        assert f":{command.name}" in out
    assert "for «cour»" not in out  # nothing after :quit


def test_unknown_command_gets_a_hint(ix: Index) -> None:
    _, err = session(ix, ":opne 1", ":zzz")
    assert err.splitlines() == [
        "error: unknown command :opne — did you mean :open? (:help lists the commands)",
        "error: unknown command :zzz (:help lists the commands)",
    ]


def test_bad_query_shows_the_position_and_carries_on(ix: Index) -> None:
    out, err = session(ix, "musique OR", "cour")
    assert err.splitlines() == [
        "error: query: OR needs a term after it at position 8",
        "musique OR",
        "        ^",
    ]
    assert "for «cour»" in out


def test_ctrl_c_cancels_the_line_and_ctrl_d_ends(ix: Index) -> None:
    script: list[str | type[BaseException]] = ["cour", KeyboardInterrupt, ":stats", EOFError, "x"]

    def read(prompt: str) -> str:
        assert prompt == PROMPT
        item = script.pop(0)
        if isinstance(item, str):
            return item
        raise item

    out = io.StringIO()
    assert Repl(ix, out=out).run(read, banner=False) == 0
    assert "for «cour»" in out.getvalue() and "documents" in out.getvalue()
    assert script == ["x"]


def test_ctrl_c_during_a_search_interrupts_it(ix: Index, monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    repl = Repl(ix, out=io.StringIO(), err=(err := io.StringIO()))
    monkeypatch.setattr(repl, "search", interrupted)
    assert repl.run(["slow query", ":quit"], banner=False) == 0
    assert err.getvalue() == "error: interrupted\n"


def test_a_bug_does_not_end_the_session(ix: Index, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("oops")

    repl = Repl(ix, out=(out := io.StringIO()), err=(err := io.StringIO()))
    monkeypatch.setattr(repl, "search", broken)
    assert repl.run(["chat", ":limit 3"], banner=False) == 0
    assert err.getvalue() == "error: internal error (please report it): RuntimeError: oops\n"
    assert out.getvalue() == "3 hits per page\n"


def test_history_path(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SEARCHLIB_HISTORY", str(tmp_path / "h"))
    assert history_path() == tmp_path / "h"
    monkeypatch.delenv("SEARCHLIB_HISTORY")
    monkeypatch.setenv("SEARCHLIB_CACHE_DIR", str(tmp_path / "cache"))
    assert history_path() == tmp_path / "cache" / "history"


# -- under a pseudo-terminal -------------------------------------------------------------

UP_ARROW = "\x1b[A"


@contextlib.contextmanager
def terminal(index_dir: Path, history: Path, **env: str) -> Iterator[Any]:
    """A REPL under a pseudo-terminal; on failure, the whole transcript is shown."""
    pexpect = pytest.importorskip("pexpect")
    environ = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    environ.update(TERM="xterm", SEARCHLIB_HISTORY=str(history), PYTHONIOENCODING="utf-8", **env)
    child = pexpect.spawn(
        sys.executable,
        ["-m", "searchlib", "repl", "--index", str(index_dir)],
        env=environ,
        encoding="utf-8",
        timeout=30,
        dimensions=(50, 250),
    )
    child.logfile_read = transcript = io.StringIO()
    try:
        child.expect_exact("5 documents, 7 passages")
        child.expect_exact(PROMPT)
        yield child
        child.expect(pexpect.EOF)  # the session must end by itself
        child.close()
        assert child.exitstatus == 0
    except (pexpect.ExceptionPexpect, AssertionError) as e:
        child.close(force=True)
        pytest.fail(f"{type(e).__name__}; transcript:\n{transcript.getvalue()!r}")


@pytest.mark.skipif(sys.platform == "win32", reason="needs a POSIX pseudo-terminal")
def test_under_a_terminal(index_dir: Path, tmp_path: Path) -> None:
    history = tmp_path / "history"
    with terminal(index_dir, history) as child:
        # colours on a terminal
        child.sendline("cour federale")
        child.expect_exact(f"{ANSI_MARK[0]}fédérale{ANSI_MARK[1]}")
        child.expect_exact(PROMPT)
        # :analyze
        child.sendline(":analyze L’été")
        child.expect(r"0\s+2-5\s+L’été\s+été\s+été\s+ete\s+ete")
        child.expect_exact(PROMPT)
        # :open shows the whole passage, matches marked
        child.sendline(":open 1")
        child.expect_exact(f"{ANSI_MARK[0]}fédérale{ANSI_MARK[1]} des États-Unis a jugé")
        child.expect_exact("tranché en faveur du site.")
        child.expect_exact(PROMPT)
        # Ctrl-C cancels the line being typed: a fresh prompt, nothing searched
        child.send("abandoned words")
        child.expect_exact("abandoned words")
        child.sendintr()
        child.expect_exact(PROMPT)
        child.sendline(":stats")
        child.expect(r"passages\s+7")
        child.expect_exact(PROMPT)
        assert "for «abandoned" not in child.before
        # Ctrl-D leaves cleanly (checked when the block ends)
        child.sendeof()
    saved = history.read_text(encoding="utf-8").splitlines()
    assert saved[-4:] == ["cour federale", ":analyze L’été", ":open 1", ":stats"]

    # a second session recalls the first one's lines; NO_COLOR gives plain markers
    with terminal(index_dir, history, NO_COLOR="1") as child:
        child.send(UP_ARROW * 4)
        child.expect_exact("cour federale")
        child.send("\r")
        child.expect_exact("[cour] [fédérale]")
        child.expect_exact(PROMPT)
        child.sendline(":quit")


# -- issue 16: wrapping, pager, broken pipes, plurals, corrections, escapes ---------------------


def test_snippets_are_wrapped_to_the_width_at_spaces(ix: Index) -> None:
    unwrapped, _ = session(ix, "poisson")
    out = io.StringIO()
    Repl(ix, out=out, width=50).run(["poisson"], banner=False)
    lines = out.getvalue().splitlines()
    snippet = [line for line in lines if line.startswith("     ")]
    assert len(snippet) > 3 and all(len(line) <= 50 for line in snippet)
    # the same words, cut at spaces only
    first = unwrapped.splitlines()[1].split()
    assert " ".join(lines[1:]).split()[: len(first)] == first
    # colours take no room
    out = io.StringIO()
    Repl(ix, out=out, width=50, color=True).run(["poisson"], banner=False)
    plain = re.sub(r"\x1b\[[0-9;]*m", "", out.getvalue())
    assert all(len(line) <= 50 for line in plain.splitlines() if line.startswith("     "))


def test_long_open_goes_through_the_pager(ix: Index) -> None:
    paged: list[str] = []
    out = io.StringIO()
    repl = Repl(ix, out=out, pager=paged.append, height=3, width=60)
    repl.run(["meunière", ":open 1 doc"], banner=False)
    (text,) = paged
    assert "document d5 (3 passages)" in text and "[meunière]" in text
    assert "document d5" not in out.getvalue()
    # what fits on the screen is printed
    Repl(ix, out=out, pager=paged.append, height=100).run(["cour", ":open 1"], banner=False)
    assert len(paged) == 1 and "d1#1 — passage 1 of 1" in out.getvalue()


def test_a_broken_pipe_ends_quietly(tmp_path: Path) -> None:
    target = tmp_path / "big"
    with Index.create(target) as index:
        index.add([Document("big", "Long", ("Le juge a statué sur la cour. " * 40 + "\n\n") * 115)])
    assert len(Index.open(target).document("big").text) > 138_000  # type: ignore[union-attr]
    script = (
        f"set -o pipefail; printf 'juge\\n:open 1 doc\\n' | "
        f"'{sys.executable}' -m searchlib repl --index '{target}' | head -3"
    )
    done = subprocess.run(
        ["bash", "-c", script], check=False, capture_output=True, text=True, timeout=120
    )
    assert done.stderr == ""
    assert done.returncode == 0 and len(done.stdout.splitlines()) == 3


def test_plurals(ix: Index) -> None:
    out, _ = session(ix, ":limit 1", ":limit", ":limit 2")
    assert out.splitlines() == ["1 hit per page", "1 hit per page", "2 hits per page"]


def test_corrections_are_shown_and_can_be_undone(ix: Index) -> None:
    out, err = session(ix, "federlae", ":exact", ":yes", ":yes")
    lines = out.splitlines()
    assert (
        lines[0] == "results for «fédérale» (you typed «federlae»; search it as typed: +federlae)"
    )
    assert "[fédérale]" in lines[1]
    i = lines.index("no results for «+federlae»")
    assert lines[i + 1] == "did you mean «fédérale»? (:yes searches it)"
    assert lines[i + 2].startswith("  1. ") and "[fédérale]" in lines[i + 2]
    assert err == "error: no suggestion: the last query had none\n"
    _, err = session(ix, "cour", ":exact")
    assert "no word of the last query was corrected" in err


def test_complete_shows_completions_then_results(ix: Index) -> None:
    out, err = session(ix, ":complete la pêch", ":complete", ":complete zzzz")
    lines = out.splitlines()
    assert lines[0] == "  «la pêche»  1 passage"
    assert any("[pêcheurs]" in line for line in lines)
    assert "no completion for «zzzz»" in lines
    assert err.startswith("error: usage: :complete TEXT")


def test_control_characters_in_documents_reach_the_terminal_escaped(tmp_path: Path) -> None:
    ix = Index.in_memory()
    ix.add(
        [
            Document(
                "evil\x1b[2J",
                "Titre \x1b]0;pwned\x07 cour",
                "La cour \x1b]8;;http://x.example\x07fédérale\x1b]8;;\x07 \x9b31m \r rouge",
            )
        ]
    )
    out, err = session(
        ix, "cour", ":open 1", ":explain 1", ":open 1 doc", "\x1b[2J AND", color=True
    )
    ours = re.compile(r"\x1b\[[0-9;]*m")  # the REPL's own colours
    for text in (out, err):
        assert not re.search("[\x00-\x08\x0b-\x1f\x7f-\x9f]", ours.sub("", text)), text
    assert "^[]0;pwned^G" in out and "^M" in out and "<U+009B>" in out


def test_paging_a_search_as_you_type_pages_that_search(ix: Index) -> None:
    # ":complete" searches the unfinished word as typed; :next, :prev and :open N
    # page that search, not the bare text (which finds nothing).
    assert ix.search("ju").total == 0
    typed = ix.search("ju", as_you_type=True, limit=1)
    assert typed.total >= 2
    out, err = session(ix, ":limit 1", ":complete ju", ":next", ":prev", ":open 2")
    assert "no results" not in out and err == ""
    ranks = [int(m) for m in re.findall(r"^\s+(\d+)\. ", out, re.M)]
    assert ranks[:3] == [1, 2, 1]


def test_hits_are_documents_until_passages_are_asked(ix: Index) -> None:
    documents = ix.search("poisson sole")
    passages = ix.search("poisson sole", collapse=False)
    assert documents.total < passages.total  # a document with several matching passages
    out, err = session(
        ix, "poisson sole", ":passages on", "poisson sole", ":passages", ":passages x"
    )
    first, _, rest = out.partition("hits are passages\n")
    assert f"of {plural(documents.total, 'result')}" in first
    assert f"of {plural(passages.total, 'result')}" in rest
    assert rest.endswith("hits are passages\n")  # :passages alone says which
    assert err == "error: expected on or off, got 'x'\n"
    out, _ = session(ix, ":passages on", ":passages off", "poisson sole")
    assert "hits are documents" in out and f"of {plural(documents.total, 'result')}" in out
