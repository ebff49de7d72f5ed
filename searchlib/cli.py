"""The ``searchlib`` command line: a thin layer over the library.

Library errors become one line on stderr and an exit code: 0 success,
1 user error (bad input, missing index...), 2 usage error.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from searchlib import __version__
from searchlib.corpus import load_corpus
from searchlib.errors import QuerySyntaxError, SearchlibError
from searchlib.index import Index, default_index
from searchlib.search import SearchResults

EXIT_OK, EXIT_USER, EXIT_USAGE = 0, 1, 2


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (public so the docs test can list subcommands)."""
    parser = argparse.ArgumentParser(
        prog="searchlib", description="Full-text search over French text."
    )
    parser.add_argument("--version", action="version", version=f"searchlib {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("index", help="index files, folders or JSONL into an index folder")
    p.add_argument(
        "sources", nargs="+", metavar="SOURCE", help=".txt/.md files or folders, .jsonl(.gz)"
    )
    p.add_argument("--index", required=True, metavar="DIR", help="index folder to create")
    p.add_argument("--overwrite", action="store_true", help="replace an existing index")
    p.add_argument("--append", action="store_true", help="add to an existing index")

    p = sub.add_parser("search", help="search an index (default: the bundled seed corpus)")
    p.add_argument("query", help='query text, e.g. "cour federale"')
    p.add_argument("--index", metavar="DIR", help="index folder (default: bundled seed corpus)")
    p.add_argument("--limit", type=_positive, default=10, metavar="N", help="hits per page")
    p.add_argument("--page", type=_positive, default=1, metavar="N", help="page number")
    p.add_argument("--json", action="store_true", help="print JSON")
    return parser


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1: {text}")
    return value


def main(
    argv: Sequence[str] | None = None, *, stdout: TextIO | None = None, stderr: TextIO | None = None
) -> int:
    """Run the command line; returns the exit code."""
    out = stdout or sys.stdout
    err = stderr or sys.stderr
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:
        return int(e.code or 0) if e.code in (0, None) else EXIT_USAGE
    if args.command is None:
        parser.print_help(out)
        return EXIT_OK
    try:
        if args.command == "index":
            return _cmd_index(args, out)
        return _cmd_search(args, out)
    except QuerySyntaxError as e:
        print(f"searchlib: query error: {e}", file=err)
        print(e.caret(), file=err)
        return EXIT_USER
    except (SearchlibError, OSError) as e:
        print(f"searchlib: {e}", file=err)
        return EXIT_USER
    except KeyboardInterrupt:
        print("searchlib: interrupted", file=err)
        return 130


def _cmd_index(args: argparse.Namespace, out: TextIO) -> int:
    target = Path(args.index)
    index = Index.open(target) if args.append else Index.create(target, overwrite=args.overwrite)
    with index:
        count = index.add(load_corpus(*args.sources))
        stats = index.stats()
    print(f"indexed {count} documents ({stats.passages} passages) into {target}", file=out)
    return EXIT_OK


def _cmd_search(args: argparse.Namespace, out: TextIO) -> int:
    index = Index.open(args.index) if args.index else default_index()
    results = index.search(args.query, limit=args.limit, page=args.page)
    if args.json:
        json.dump(results.to_dict(), out, ensure_ascii=False, indent=2)
        out.write("\n")
    else:
        _print_results(results, out)
    return EXIT_OK


def _print_results(results: SearchResults, out: TextIO) -> None:
    color = out.isatty()
    if not results.hits:
        print(f"no results for {results.query!r}", file=out)
        return
    print(f"{results.total} results for {results.query!r} (page {results.page})", file=out)
    for hit in results.hits:
        snippet = hit.snippet.to_ansi() if color else hit.snippet.to_text()
        print(f"{hit.rank:>3}. {hit.title}  [{hit.id}]  score {hit.score:.2f}", file=out)
        print(f"     {snippet}", file=out)
