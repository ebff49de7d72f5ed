"""The interactive REPL: type a query, see highlighted results; ``:help`` for commands.

The loop takes its input and output streams as arguments, so scripts and tests
drive it with text (``Repl(index, out=...).run(lines)``); on a terminal,
:func:`run_repl` adds readline line editing, tab completion of commands and a
persistent history.
"""

from __future__ import annotations

import contextlib
import difflib
import os
import shlex
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from searchlib._version import __version__
from searchlib.app.render import (
    BOLD,
    DIM,
    RED,
    analysis_rows,
    format_analysis,
    format_explanation,
    format_results,
    format_stats,
    marked,
    plural,
    quoted,
    style,
    terminal_width,
)
from searchlib.engine.backend import Backend
from searchlib.engine.request import SearchRequest
from searchlib.errors import QuerySyntaxError, SearchlibError
from searchlib.fields import Facet, number_label, parse_sort
from searchlib.highlight import highlight_all, visible
from searchlib.results import Hit, SearchResults
from searchlib.seed import cache_dir

PROMPT = "searchlib> "
MAX_LIMIT = 1000
HISTORY_LENGTH = 1000


@dataclass(frozen=True, slots=True)
class Command:
    """A REPL command: its arguments and what it does (for ``:help``)."""

    name: str
    args: str
    help: str


COMMANDS = (
    Command("help", "", "this help"),
    Command("next", "", "next page of results"),
    Command("prev", "", "previous page of results"),
    Command(
        "open", "N [doc]", "the whole passage of hit N (or its whole document), matches marked"
    ),
    Command(
        "analyze", "TEXT", "the analyzer stage by stage: token, elision, lowercase, folding, stem"
    ),
    Command("explain", "N", "why hit N scored: matched terms per field and their BM25F shares"),
    Command("yes", "", "search the suggestion of the last query (did you mean …?)"),
    Command("exact", "", "search the last query as typed, no word corrected"),
    Command("complete", "TEXT", "completions of TEXT's last word, then its results as you type"),
    Command("stats", "", "documents, passages, fields, index size, analyzer version"),
    Command("limit", "[N]", "show or set the number of hits per page"),
    Command(
        "facets",
        "[SPEC ...|off]",
        "count matches per declared field: source, date:month, pages:10,100",
    ),
    Command("sort", "[KEYS|relevance]", "order by declared fields: -date, source,-date"),
    Command("fields", "[NAMES|*|off]", "show these fields of each hit (comma-separated)"),
    Command("passages", "[on|off]", "hits are passages, or documents (off: the default)"),
    Command("quit", "", "leave (also Ctrl-D)"),
)
ALIASES = {
    "q": "quit",
    "exit": "quit",
    "h": "help",
    "?": "help",
    "n": "next",
    "p": "prev",
    "y": "yes",
    "c": "complete",
}

QUERY_HELP = """\
Queries: words (accents and case optional), "a phrase" or «une phrase»,
AND / OR / NOT (upper case), -word, title:word, text:"a phrase",
prefix* (2+ letters), typo~ or typo~2, (grouping). Questions work as typed.
Declared fields filter: source:sp, -source:sp, date:>=2020, pages:[10 TO 99].
Typos are corrected and shown; +word keeps a word as typed. Tab completes words."""


def history_path() -> Path:
    """``$SEARCHLIB_HISTORY``, else ``history`` in the cache folder."""
    env = os.environ.get("SEARCHLIB_HISTORY")
    return Path(env) if env else cache_dir() / "history"


class Repl:
    """The command loop over one index.

    Args:
        index: the index to search.
        out: where results go.
        err: where errors go (default: ``out``).
        color: use terminal colours.
        limit: hits per page.
        label: how the banner names the index (default: its path).
        width: columns to wrap snippets to (``None``: no wrapping).
        pager: shows a long text (``:open``) a screen at a time (``None``:
            printed as it is).
        height: lines of the screen (longer ``:open`` output goes to ``pager``).
    """

    def __init__(
        self,
        index: Backend,
        *,
        out: TextIO,
        err: TextIO | None = None,
        color: bool = False,
        limit: int = 10,
        label: str | None = None,
        width: int | None = None,
        pager: Callable[[str], None] | None = None,
        height: int = 24,
    ) -> None:
        self.index = index
        self.width = width
        self.pager = pager
        self.height = height
        self.out = out
        self.err = err or out
        self.color = color
        self.limit = limit
        self.label = label or str(index.path or "in-memory index")
        self.results: SearchResults | None = None
        self.request: SearchRequest | None = None  # the last search, paged as it is
        self.facets: list[Facet] = []
        self.sort: str | None = None
        self.show_fields: list[str] = []
        self.passages = False  # hits are documents (their best passage) unless asked
        self._handlers: dict[str, Callable[[str], bool | None]] = {
            "help": self.cmd_help,
            "next": self.cmd_next,
            "prev": self.cmd_prev,
            "open": self.cmd_open,
            "analyze": self.cmd_analyze,
            "explain": self.cmd_explain,
            "yes": self.cmd_yes,
            "exact": self.cmd_exact,
            "complete": self.cmd_complete,
            "stats": self.cmd_stats,
            "limit": self.cmd_limit,
            "facets": self.cmd_facets,
            "sort": self.cmd_sort,
            "fields": self.cmd_fields,
            "passages": self.cmd_passages,
            "quit": self.cmd_quit,
        }

    # -- the loop -----------------------------------------------------------------

    def banner(self) -> str:
        """Which index, how many documents and passages, how to get help."""
        stats = self.index.stats()
        return (
            f"{style(f'searchlib {__version__}', BOLD, self.color)} — French full-text search\n"
            f"index: {self.label} — {plural(stats.documents, 'document')}, "
            f"{plural(stats.passages, 'passage')}\n"
            "Type a query, :help for commands, :quit or Ctrl-D to leave."
        )

    def run(self, read: Callable[[str], str] | Iterable[str], *, banner: bool = True) -> int:
        """Read lines until ``:quit`` or end of input; returns the exit code (0).

        Args:
            read: a function called with the prompt that returns a line, raises
                ``EOFError`` at the end and ``KeyboardInterrupt`` on Ctrl-C
                (like :func:`input`), or simply the lines to run.
            banner: print the banner first.
        """
        prompted = callable(read)  # a prompt was shown: end its line on Ctrl-D
        reader = read if callable(read) else _line_reader(read)
        if banner:
            self.print(self.banner())
        while True:
            try:
                line = reader(PROMPT)
            except EOFError:
                if prompted:
                    self.print()
                return 0
            except KeyboardInterrupt:  # Ctrl-C cancels the line being typed
                self.print()
                continue
            try:
                if not self.handle(line):
                    return 0
            except BrokenPipeError:
                raise  # the reader went away (`searchlib | head`): the caller ends quietly
            except KeyboardInterrupt:
                self.error("interrupted")
            except Exception as e:  # noqa: BLE001 - a bug must not end the session
                self.error(f"internal error (please report it): {type(e).__name__}: {e}")

    def handle(self, line: str) -> bool:
        """Run one line (a query or a ``:command``); ``False`` means quit."""
        line = line.strip()
        if not line:
            return True
        if not line.startswith(":"):
            self.search(line, page=1)
            return True
        name, _, arg = line[1:].partition(" ")
        name = ALIASES.get(name.lower(), name.lower())
        handler = self._handlers.get(name)
        if handler is None:
            self.unknown(name)
            return True
        try:
            return handler(arg.strip()) is not False
        except QuerySyntaxError as e:
            self.query_error(e)
        except BrokenPipeError:
            raise
        except (SearchlibError, OSError, ValueError) as e:
            self.error(str(e))
        return True

    def print(self, text: str = "") -> None:
        """Write a line of output."""
        print(text, file=self.out, flush=True)

    def error(self, text: str) -> None:
        """Write an error line (control characters shown, never sent)."""
        line = visible(f"error: {text}", newlines=False)
        print(style(line, RED, self.color), file=self.err, flush=True)

    def query_error(self, e: QuerySyntaxError) -> None:
        """The message, then the query with a caret under the position."""
        self.error(f"query: {e}")
        print(visible(e.caret()), file=self.err, flush=True)

    def unknown(self, name: str) -> None:
        """Name the closest command, and :help."""
        names = [c.name for c in COMMANDS]
        close = difflib.get_close_matches(name, names, n=1)
        hint = f" — did you mean :{close[0]}?" if close else ""
        self.error(f"unknown command :{name}{hint} (:help lists the commands)")

    # -- searching ----------------------------------------------------------------

    def search(self, query: str, page: int, *, as_you_type: bool = False) -> None:
        """Run ``query`` and show one page of hits (what was corrected first,
        a suggestion last)."""
        try:
            request = SearchRequest(
                query,
                limit=self.limit,
                page=page,
                facets=self.facets or None,
                sort=self.sort,
                as_you_type=as_you_type,
                collapse=not self.passages,
            )
        except ValueError as e:
            self.error(str(e))
            return
        self.show(request)

    def show(self, request: SearchRequest) -> None:
        """Run ``request`` and show its page of hits."""
        try:
            results = self.index.run(request)
        except QuerySyntaxError as e:
            self.query_error(e)
            return
        except (SearchlibError, ValueError) as e:
            self.error(str(e))
            return
        self.request = request
        self.results = results
        how = style(" (:yes searches it)", DIM, self.color)
        self.print(
            format_results(
                results,
                self.color,
                self.width,
                suggestion_how=how,
                show_fields=self.show_fields,
            )
        )
        if results.page < results.pages:
            self.print(style(":next for more", DIM, self.color))

    def hit(self, arg: str) -> Hit | None:
        """Hit number ``arg`` (a rank as shown) of the last query, or ``None`` with a message."""
        if self.results is None:
            self.error("no results yet: type a query first")
            return None
        try:
            rank = int(arg)
        except ValueError:
            self.error(f"expected a hit number, got {arg!r}")
            return None
        for hit in self.results.hits:
            if hit.rank == rank:
                return hit
        if 1 <= rank <= self.results.total and self.request is not None:
            found = self.index.run(
                self.request.replace(limit=1, page=rank, suggest=False, facets=None)
            )
            if found.hits:
                return found.hits[0]
        self.error(f"no hit {rank}: the last query has {plural(self.results.total, 'result')}")
        return None

    def page(self, page: int) -> None:
        """Page ``page`` of the last search, asked as it was."""
        if self.request is not None:
            self.show(self.request.replace(page=page))

    # -- commands -------------------------------------------------------------------

    def cmd_help(self, arg: str) -> None:
        """``:help``."""
        width = max(len(f":{c.name} {c.args}".rstrip()) for c in COMMANDS)
        self.print("Commands:")
        for c in COMMANDS:
            self.print(f"  {f':{c.name} {c.args}'.rstrip().ljust(width)}  {c.help}")
        self.print(QUERY_HELP)

    def cmd_next(self, arg: str) -> None:
        """``:next``."""
        if self.results is None:
            self.error("no results yet: type a query first")
        elif self.results.page >= self.results.pages:
            self.error("no more results")
        else:
            self.page(self.results.page + 1)

    def cmd_prev(self, arg: str) -> None:
        """``:prev``."""
        if self.results is None:
            self.error("no results yet: type a query first")
        elif self.results.page <= 1:
            self.error("already on the first page")
        else:
            self.page(self.results.page - 1)

    def cmd_open(self, arg: str) -> None:
        """``:open N [doc]``: the passage (or document) of hit N, every match marked."""
        number, _, what = arg.partition(" ")
        hit = self.hit(number)
        if hit is None or self.results is None:
            return
        spec = self.results.match
        analyzer = self.index.analyzer
        title = marked(highlight_all(hit.title, analyzer, spec), self.color)
        count = len(self.index.passages(hit.doc_id))
        if what.strip().lower() in ("doc", "document", "all"):
            doc = self.index.document(hit.doc_id)
            if doc is None:
                self.error(f"document {hit.doc_id} is not in the index any more")
                return
            text, where = doc.text, f"document {hit.doc_id} ({plural(count, 'passage')})"
        else:
            text = hit.text
            where = f"{hit.id} — passage {hit.position + 1} of {count} of document {hit.doc_id}"
            if count > 1:
                where += f" (:open {hit.rank} doc for all of it)"
        body = marked(highlight_all(text, analyzer, spec), self.color, oneline=False)
        where = visible(where, newlines=False)
        shown = "\n".join([style(title, BOLD, self.color), style(where, DIM, self.color), body])
        if self.pager is not None and shown.count("\n") + 2 > self.height:
            self.pager(shown + "\n")
        else:
            self.print(shown)

    def cmd_analyze(self, arg: str) -> None:
        """``:analyze TEXT``."""
        if not arg:
            self.error("usage: :analyze TEXT")
            return
        self.print(format_analysis(analysis_rows(self.index.analyzer, arg), self.color))

    def cmd_explain(self, arg: str) -> None:
        """``:explain N``."""
        hit = self.hit(arg)
        if hit is None or self.results is None:
            return
        why = self.index.explain(self.results, hit)
        self.print(format_explanation(why, self.color))

    def cmd_yes(self, arg: str) -> None:
        """``:yes``: search the last query's suggestion."""
        if self.results is None or self.results.suggestion is None:
            self.error("no suggestion: the last query had none")
            return
        self.search(self.results.suggestion.query, 1)

    def cmd_exact(self, arg: str) -> None:
        """``:exact``: the last query again, its corrected words as typed."""
        if self.results is None or not self.results.corrections:
            self.error("nothing to search as typed: no word of the last query was corrected")
            return
        self.search(self.results.exact_query, 1)

    def cmd_complete(self, arg: str) -> None:
        """``:complete TEXT``: completions of the last word, then results as you type."""
        if not arg:
            self.error("usage: :complete TEXT (e.g. :complete rupture conv)")
            return
        found = self.index.complete(arg, limit=5)
        if not found:
            self.print(f"no completion for {quoted(arg)}")
        for c in found:
            detail = plural(c.frequency, "passage")
            if c.matches != c.frequency:
                detail += f", {c.matches:,} with the other words"
            self.print(f"  {quoted(c.query)}  {style(detail, DIM, self.color)}")
        self.search(arg, 1, as_you_type=True)

    def cmd_stats(self, arg: str) -> None:
        """``:stats``."""
        self.print(format_stats(self.index.stats(), self.index.ranking))

    def cmd_limit(self, arg: str) -> None:
        """``:limit [N]``."""
        if not arg:
            self.print(f"{plural(self.limit, 'hit')} per page")
            return
        try:
            value = int(arg)
        except ValueError:
            value = 0
        if not 1 <= value <= MAX_LIMIT:
            self.error(f"the limit is a number from 1 to {MAX_LIMIT}, got {arg!r}")
            return
        self.limit = value
        self.print(f"{plural(value, 'hit')} per page")

    def cmd_facets(self, arg: str) -> None:
        """``:facets [SPEC ...|off]``."""
        if arg.lower() in ("off", "none"):
            self.facets = []
        elif arg:
            facets = [Facet.parse(spec) for spec in arg.split()]
            declared = self.index.fields
            unknown = [f.field for f in facets if f.field not in declared]
            if unknown:
                known = ", ".join(declared) or "none"
                self.error(f"unknown field {unknown[0]!r} (declared fields: {known})")
                return
            self.facets = facets
        shown = " ".join(_facet_spec(f) for f in self.facets)
        self.print(f"facets: {shown}" if shown else "no facets")

    def cmd_sort(self, arg: str) -> None:
        """``:sort [KEYS|relevance]``."""
        if arg:
            keys = parse_sort(arg)
            declared = self.index.fields
            unknown = [k.field for k in keys if k.field not in declared]
            if unknown:
                known = ", ".join(declared) or "none"
                self.error(f"unknown field {unknown[0]!r} (declared fields: {known})")
                return
            self.sort = arg if keys else None
        self.print(f"sorted by {self.sort}" if self.sort else "sorted by relevance")

    def cmd_fields(self, arg: str) -> None:
        """``:fields [NAMES|*|off]``."""
        if arg.lower() in ("off", "none"):
            self.show_fields = []
        elif arg:
            self.show_fields = [n.strip() for n in arg.split(",") if n.strip()]
        shown = ", ".join(self.show_fields)
        self.print(f"showing fields: {shown}" if shown else "showing no fields")

    def cmd_passages(self, arg: str) -> None:
        """``:passages [on|off]``."""
        value = arg.lower()
        if value in ("on", "yes", "true"):
            self.passages = True
        elif value in ("off", "no", "false"):
            self.passages = False
        elif value:
            self.error(f"expected on or off, got {arg!r}")
            return
        self.print(
            "hits are passages" if self.passages else "hits are documents (their best passage)"
        )

    def cmd_quit(self, arg: str) -> bool:
        """``:quit``."""
        return False


def _facet_spec(facet: Facet) -> str:
    if facet.by:
        return f"{facet.field}:{facet.by}"
    if facet.edges:
        return f"{facet.field}:{','.join(number_label(e) for e in facet.edges)}"
    return facet.field


def _line_reader(lines: Iterable[str]) -> Callable[[str], str]:
    it = iter(lines)

    def read(prompt: str) -> str:
        try:
            return next(it)
        except StopIteration:
            raise EOFError from None

    return read


def run_repl(
    index: Backend,
    *,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
    color: bool = False,
    limit: int = 10,
    label: str | None = None,
) -> int:
    """Run the REPL on ``index``: with readline on a terminal, else line by line.

    On a terminal (the process's own stdin and stdout), lines are read with
    :func:`input` and readline: line editing, tab completion of commands,
    and a history kept in :func:`history_path` across sessions.
    """
    stdin = stdin or sys.stdin
    stdout = stdout or sys.stdout
    interactive = stdin is sys.stdin and stdout is sys.stdout and stdin.isatty()
    width = terminal_width(stdout)
    command = pager_command() if interactive else None
    repl = Repl(
        index,
        out=stdout,
        err=stderr,
        color=color,
        limit=limit,
        label=label,
        width=width,
        pager=(lambda text: run_pager(text, command, stdout)) if command else None,
        height=shutil.get_terminal_size().lines,
    )
    if not interactive:
        return repl.run(stdin)
    history = _History(history_path(), lambda line: [c.query for c in index.complete(line)])
    try:
        return repl.run(input)
    finally:
        history.save()


def pager_command() -> list[str] | None:
    """``$PAGER`` (split as a shell would; empty: none), else ``less -R`` when
    installed, else ``None``."""
    env = os.environ.get("PAGER")
    if env is not None:
        return shlex.split(env) or None
    less = shutil.which("less")
    return [less, "-R"] if less else None


def run_pager(text: str, command: Sequence[str], out: TextIO) -> None:
    """Show ``text`` through the pager ``command``; printed to ``out`` when the
    pager cannot start. Quitting the pager early is no error."""
    try:
        proc = subprocess.Popen(list(command), stdin=subprocess.PIPE)
    except OSError:
        print(text, end="", file=out, flush=True)
        return
    assert proc.stdin is not None
    with contextlib.suppress(BrokenPipeError):
        proc.stdin.write(text.encode("utf-8", "replace"))
    with contextlib.suppress(BrokenPipeError):
        proc.stdin.close()
    proc.wait()


class _History:
    """readline set-up: history file, length and completion (if readline exists):
    of commands after ``:``, else of the last word of the line from the index."""

    def __init__(self, path: Path, words: Callable[[str], list[str]] | None = None) -> None:
        self.path = path
        try:
            import readline  # noqa: PLC0415 - optional, and changes input() when imported
        except ImportError:  # pragma: no cover - Windows without pyreadline
            self.readline = None
            return
        self.readline = readline
        readline.set_history_length(HISTORY_LENGTH)
        if path.is_file():
            with contextlib.suppress(OSError):
                readline.read_history_file(str(path))
        names = [f":{c.name}" for c in COMMANDS]
        found: list[str] = []

        def complete(text: str, state: int) -> str | None:
            if state == 0:
                found.clear()
                if text.startswith(":"):
                    found.extend(w for w in names if w.startswith(text))
                elif words is not None:
                    line = readline.get_line_buffer()[: readline.get_endidx()]
                    start = readline.get_begidx()
                    with contextlib.suppress(Exception):  # never break line editing
                        found.extend(q[start:] for q in words(line) if len(q) > start)
            return found[state] if state < len(found) else None

        readline.set_completer_delims(" \t\n")
        readline.set_completer(complete)
        readline.parse_and_bind("tab: complete")

    def save(self) -> None:
        if self.readline is None:
            return
        with contextlib.suppress(OSError):  # a read-only home must not break leaving
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.readline.write_history_file(str(self.path))
