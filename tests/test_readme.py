"""Every code block of README.md runs, in order, in one scratch folder, and shows what
it really prints.

- ```` ```python ```` blocks with ``>>>`` prompts are doctests; blocks without are run as
  scripts. All share one namespace, as a reader's session would (``ix`` made in the
  quick start is there later).
- ```` ```console ```` blocks are shell sessions: each ``$ `` line is a command, the lines
  up to the next one what it prints (compared with times, rates and sizes left out;
  ``...`` matches anything, as in doctests). ``searchlib ...`` runs through
  :func:`searchlib.app.cli.main`; other commands through ``bash`` (with ``searchlib`` in
  it meaning this checkout's). A session that starts with a bare ``$ searchlib`` and
  shows ``searchlib>`` prompts is a REPL session: the lines typed are played to the REPL
  on the bundled seed corpus, and the whole transcript must match.
- A block preceded by ``<!-- needs: NAME... -->`` runs only when each NAME (a module to
  import, or ``$VARIABLE`` to be set) is there, and is skipped saying which is missing.
- A block preceded by ``<!-- not run: REASON -->`` is not run. Any other block this file
  cannot run fails the test.

Also: the README's links to files and to its own headings lead somewhere, and every
subcommand of the command line is in its command table.
"""

from __future__ import annotations

import contextlib
import doctest
import importlib.util
import io
import os
import re
import shlex
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from searchlib.app.cli import build_parser, main

REPO = Path(__file__).resolve().parents[1]
README = REPO / "README.md"
REPL_WIDTH = 88  # the terminal width the README's REPL session was recorded at
PROMPT = "searchlib> "

FENCE = re.compile(r"^```(?P<lang>[\w-]*)\n(?P<body>.*?)^```$", re.S | re.M)
MARK = re.compile(r"<!--\s*(?P<kind>not run|needs):\s*(?P<what>[^\n]*?)\s*-->")  # one line


@dataclass
class Block:
    """A fenced code block of the README."""

    line: int
    lang: str
    body: str
    not_run: str | None = None  # the reason given
    needs: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return f"line{self.line}-{self.lang or 'plain'}"


def readme_blocks(text: str) -> list[Block]:
    blocks = []
    for match in FENCE.finditer(text):
        before = text[: match.start()].rstrip("\n")
        mark = MARK.fullmatch(before[before.rfind("\n") + 1 :].strip())  # the line before
        line = text.count("\n", 0, match.start()) + 1
        block = Block(line, match.group("lang"), match.group("body"))
        if mark and mark.group("kind") == "not run":
            block.not_run = mark.group("what")
        elif mark:
            block.needs = mark.group("what").split()
        blocks.append(block)
    return blocks


BLOCKS = readme_blocks(README.read_text(encoding="utf-8"))


# -- running blocks ------------------------------------------------------------------


def missing(needs: list[str]) -> list[str]:
    absent = []
    for need in needs:
        if need.startswith("$"):
            if not os.environ.get(need[1:]):
                absent.append(f"{need} (not set)")
        elif importlib.util.find_spec(need) is None:
            absent.append(f"{need} (not installed)")
    return absent


VARIABLE = re.compile(
    r"\b\d[\d,.]*\s?(ms|s|docs/s|MB/s|passages/s|KiB|MiB|MB|kB|bytes)\b"  # times, rates, sizes
)


def normalise(text: str) -> str:
    return VARIABLE.sub(r"N \1", text.rstrip("\n")) + "\n"


def same_output(want: str, got: str) -> bool:
    checker = doctest.OutputChecker()
    return checker.check_output(normalise(want), normalise(got), doctest.ELLIPSIS)


def parse_session(body: str) -> list[tuple[str, str]]:
    """``(command, shown output)`` pairs of a console block."""
    session: list[tuple[str, list[str]]] = []
    for line in body.splitlines():
        if line.startswith("$ "):
            session.append((line[2:], []))
        elif session:
            session[-1][1].append(line)
        elif line.strip():
            raise AssertionError(f"output before any command: {line!r}")
    return [(command, "\n".join(out)) for command, out in session]


def run_command(command: str) -> tuple[int, str]:
    """Exit code and output (stdout, then stderr) of a shell command line."""
    words = shlex.split(command, comments=True)
    plain = words and words[0] == "searchlib" and not re.search(r"[|<>;&]", command)
    if plain:
        out, err = io.StringIO(), io.StringIO()
        code = main(words[1:], stdin=io.StringIO(""), stdout=out, stderr=err)
        return code, out.getvalue() + err.getvalue()
    here = f'searchlib() {{ "{sys.executable}" -m searchlib "$@"; }}\n'
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO), *sys.path]))
    done = subprocess.run(
        ["bash", "-c", here + command], capture_output=True, text=True, env=env, check=False
    )
    return done.returncode, done.stdout + done.stderr


def run_repl(session: str) -> None:
    from searchlib import default_index
    from searchlib.app.repl import Repl

    typed = [line[len(PROMPT) :] for line in session.splitlines() if line.startswith(PROMPT)]
    assert typed, "a REPL session without anything typed"
    out = io.StringIO()
    pending = iter(typed)

    def read(prompt: str) -> str:
        line = next(pending, None)
        if line is None:
            raise EOFError
        out.write(prompt + line + "\n")
        return line

    Repl(default_index(), out=out, label="bundled seed corpus", width=REPL_WIDTH).run(read)
    real = "$ searchlib\n" + out.getvalue()
    assert normalise(real) == normalise(session), f"the REPL shows instead:\n{real}"


def is_repl(block: Block) -> bool:
    return block.body.startswith("$ searchlib\n") and f"\n{PROMPT}" in block.body


def run_console(block: Block) -> None:
    if is_repl(block):
        run_repl(block.body)
        return
    for command, shown in parse_session(block.body):
        code, got = run_command(command)
        if shown.strip():
            assert same_output(shown, got), f"$ {command}\nshown:\n{shown}\nprinted:\n{got}"
        else:
            assert code == 0, f"$ {command} failed ({code}):\n{got}"


def run_python(block: Block, namespace: dict[str, Any]) -> None:
    if re.search(r"^\s*>>> ", block.body, re.M):
        parser = doctest.DocTestParser()
        test = parser.get_doctest(block.body, namespace, block.name, str(README), block.line)
        out = io.StringIO()
        runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
        runner.run(test, out=out.write, clear_globs=False)
        namespace.update(test.globs)  # the test ran on a copy
        assert runner.failures == 0, out.getvalue()
    else:
        exec(compile(block.body, f"{README}:{block.line}", "exec"), namespace)


class Reader:
    """Runs the README's blocks in order, in one folder and one namespace."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.namespace: dict[str, Any] = {"__name__": "__readme__"}
        self.done = 0

    def run_through(self, index: int) -> None:
        while self.done <= index:
            block = BLOCKS[self.done]
            self.done += 1
            self.run(block, last=self.done - 1 == index)

    def run(self, block: Block, *, last: bool) -> None:
        if block.not_run is not None:
            if last:
                pytest.skip(f"marked in the README: not run: {block.not_run}")
            return
        absent = missing(block.needs)
        if absent:
            if last:
                pytest.skip("needs " + ", ".join(absent))
            return
        with contextlib.chdir(self.folder):
            if block.lang == "python":
                run_python(block, self.namespace)
            elif block.lang == "console":
                run_console(block)
            else:
                pytest.fail(
                    f"README line {block.line}: a ```{block.lang} block this test cannot run;"
                    " make it python or console, or mark it <!-- not run: REASON -->"
                )


@pytest.fixture(scope="module")
def reader(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Reader]:
    yield Reader(tmp_path_factory.mktemp("readme"))


@pytest.mark.parametrize("number", range(len(BLOCKS)), ids=[b.name for b in BLOCKS])
def test_the_readme_block_runs(reader: Reader, number: int) -> None:
    reader.run_through(number)


# -- the rest of the README ----------------------------------------------------------


def slug(heading: str) -> str:
    """GitHub's anchor for a heading."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def test_the_readme_links_lead_somewhere() -> None:
    text = README.read_text(encoding="utf-8")
    outside = FENCE.sub("", text)
    anchors = {slug(h) for h in re.findall(r"^#+ (.*)$", outside, re.M)}
    links = re.findall(r"\]\(([^)\s]+)\)", outside)
    assert links
    for link in links:
        if re.match(r"https?://", link):
            continue
        if link.startswith("#"):
            assert link[1:] in anchors, f"no heading for {link}"
        else:
            assert (REPO / link.split("#")[0]).exists(), f"no file {link}"


def test_every_subcommand_is_in_the_readme() -> None:
    text = README.read_text(encoding="utf-8")
    action = next(a for a in build_parser()._actions if a.dest == "command")
    for command in action.choices:
        assert re.search(rf"^\| `searchlib {command}\b", text, re.M), command


def test_every_block_is_run_or_says_why_not() -> None:
    assert BLOCKS, "no code blocks found in the README"
    for block in BLOCKS:
        if block.not_run is not None:
            assert block.not_run, f"README line {block.line}: not run, without a reason"
        else:
            assert block.lang in {"python", "console"}, f"README line {block.line}"


def test_the_readme_is_for_users() -> None:
    text = README.read_text(encoding="utf-8")
    assert len(text.splitlines()) < 450
    assert "## Contents" in text
    assert "Python 3.11" in text
