"""The ``searchlib`` command line: a thin layer over the library.

``searchlib`` alone opens the REPL on the bundled seed corpus. Subcommands:
``index``, ``search``, ``repl``, ``analyze``, ``stats``, ``eval`` (see
``searchlib COMMAND --help``). Library errors become one line on stderr and an
exit code: 0 success, 1 user error (bad input, missing index...), 2 usage error.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import TextIO

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
    analysis_json,
    analysis_rows,
    format_analysis,
    format_results,
    format_stats,
    plural,
    results_html,
    stats_dict,
    use_color,
)
from searchlib.app.repl import run_repl
from searchlib.corpus.loaders import load_corpus
from searchlib.documents import Document
from searchlib.errors import CorpusWarning, IndexExistsError, QuerySyntaxError, SearchlibError
from searchlib.fields import Facet, FieldType, parse_declaration
from searchlib.index import Index, default_index

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
        "sources", nargs="+", metavar="SOURCE", help=".txt/.md files or folders, .jsonl(.gz)"
    )
    p.add_argument("--index", required=True, metavar="DIR", help="index folder to create")
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
        help="processes indexing at once, each writing a segment (default 1)",
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
    p.add_argument("--collapse", action="store_true", help="one passage per document (its best)")
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

    p = sub.add_parser(
        "stats",
        help="documents, passages, fields, size and versions of an index",
        description="Statistics of an index (default: the bundled seed corpus).",
    )
    _version(p)
    _index_option(p)
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
    return parser


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


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1: {text}")
    return value


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
    if stdin is None and sys.stdin is not None:
        # Bytes that are not UTF-8 on standard input (the REPL's lines) read
        # as U+FFFD, as bad bytes in arguments do below.
        with contextlib.suppress(AttributeError, ValueError):
            sys.stdin.reconfigure(errors="replace")  # type: ignore[union-attr]
    arguments = _dash_values([_readable(a) for a in (sys.argv[1:] if argv is None else argv)])
    parser = build_parser()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            args = parser.parse_args(arguments)
    except SystemExit as e:
        return EXIT_OK if e.code in (0, None) else EXIT_USAGE
    try:
        return _dispatch(args, stdin, out, err)
    except QuerySyntaxError as e:
        print(f"searchlib: query error: {e}", file=err)
        print(e.caret(), file=err)
        return EXIT_USER
    except (SearchlibError, OSError) as e:
        if isinstance(e, BrokenPipeError):  # `searchlib search ... | head`
            _silence(out)
            return EXIT_OK
        print(f"searchlib: {_message(e)}", file=err)
        return EXIT_USER
    except KeyboardInterrupt:
        print("searchlib: interrupted", file=err)
        return 130


def _dispatch(args: argparse.Namespace, stdin: TextIO | None, out: TextIO, err: TextIO) -> int:
    command = args.command or "repl"
    if command == "index":
        return _cmd_index(args, out, err)
    if command == "search":
        return _cmd_search(args, out)
    if command == "analyze":
        return _cmd_analyze(args, out)
    if command == "stats":
        return _cmd_stats(args, out)
    if command == "eval":
        return _cmd_eval(args, out, err)
    index_dir = getattr(args, "index", None)
    index, label = _open(index_dir)
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


def _readable(arg: str) -> str:
    """An argument with the bytes that were not UTF-8 (kept by Python as lone
    surrogates) shown as U+FFFD, so that it can be searched and printed."""
    try:
        arg.encode("utf-8")
    except UnicodeEncodeError:
        return arg.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return arg


def _message(e: BaseException) -> str:
    """An error in the command line's words (options, not Python arguments)."""
    if isinstance(e, IndexExistsError):
        return f"an index already exists at {e.path} (add --overwrite to replace it)"
    if isinstance(e, OSError) and not isinstance(e, SearchlibError) and e.strerror:
        where = f"{e.filename}: " if e.filename else ""
        return f"{where}{e.strerror.lower()}"
    return str(e)


def _open(index_dir: str | None) -> tuple[Index, str]:
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
    encoding = {"auto": "fallback", "utf-8": "strict", "replace": "replace"}[args.encoding]
    corpus = load_corpus(
        *args.sources,
        errors="skip" if args.on_error == "skip" else "strict",
        encoding_errors=encoding,  # type: ignore[arg-type]
        follow_links=args.follow_links,
    )
    try:
        docs = _counted(
            _then(
                progress.wrap(_warnings_to(err, corpus), size=_doc_bytes),
                lambda: progress.status("committing…"),
            ),
            counted,
        )
        declared = dict(args.field)
        if len(declared) != len(args.field):
            raise SearchlibError("a field is declared twice (--field)")
        if args.append:
            with Index.open(target) as index:
                if declared and declared != index.fields:
                    raise SearchlibError(
                        f"the fields of {target} are fixed at its creation: "
                        f"{_describe(index.fields)} (drop --field to add to it)"
                    )
                index.add(docs, limitmb=args.limitmb, procs=args.procs)
                stats = index.stats()
        else:
            # Built beside the target and moved into place once complete: a
            # failed build leaves the target exactly as it was.
            try:
                building = Index.build(
                    target,
                    docs,
                    overwrite=args.overwrite,
                    limitmb=args.limitmb,
                    procs=args.procs,
                    fields=declared,
                )
            except (TypeError, ValueError) as e:
                if isinstance(e, SearchlibError):
                    raise
                raise SearchlibError(f"--field: {e}") from e
            with building as index:
                stats = index.stats()
    finally:
        progress.close()
    count = counted[0]
    elapsed = progress.elapsed
    if not args.quiet:
        rate = f"{count / elapsed:,.0f} docs/s, {progress.bytes / elapsed / 1e6:.2f} MB/s"
        print(
            f"indexed {plural(count, 'document')} ({progress.bytes / 1e6:.1f} MB of text) into "
            f"{target} in {elapsed:.1f} s ({rate}); the index holds "
            f"{plural(stats.documents, 'document')}, {plural(stats.passages, 'passage')}",
            file=out,
        )
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
                print(f"searchlib: warning: {w.message}", file=err)
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


def _cmd_search(args: argparse.Namespace, out: TextIO) -> int:
    index, _ = _open(args.index)
    wanted = args.facet or None
    try:
        results = index.search(
            args.query,
            limit=args.limit,
            page=args.page,
            collapse=args.collapse,
            filter=" ".join(f"({f})" if " OR " in f else f for f in args.filter) or None,
            facets=wanted,
            sort=args.sort,
        )
    except ValueError as e:
        if isinstance(e, SearchlibError):
            raise
        raise SearchlibError(str(e)) from e  # an unknown field in --facet or --sort
    if args.format == "json":
        json.dump(results.to_dict(), out, ensure_ascii=False, indent=2)
        out.write("\n")
    elif args.format == "html":
        out.write(results_html(results))
    else:
        print(format_results(results, use_color(out), args.show_fields), file=out)
    return EXIT_OK


def _cmd_analyze(args: argparse.Namespace, out: TextIO) -> int:
    analyzer = FrenchAnalyzer()
    if args.json:
        json.dump(analysis_json(analyzer, args.text), out, ensure_ascii=False, indent=2)
        out.write("\n")
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


# -- eval -----------------------------------------------------------------------------


def _cmd_eval(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    index = Index.open(args.index)
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
        ranked = _each_query(index, progress.wrap(queries), args.limit, on_error)
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
    index: Index,
    queries: Iterable[tuple[str, str]],
    limit: int,
    on_error: Callable[[str, str, Exception], None],
) -> Iterator[tuple[str, list[tuple[str, float]]]]:
    """:func:`run_queries`, one query at a time, so that even a bug hit by one
    query (not a ``SearchlibError``) is reported and scored as empty."""
    for qid, text in queries:
        try:
            yield from run_queries(index, [(qid, text)], limit=limit, on_error=on_error)
        except Exception as e:  # noqa: BLE001 - one query must never stop the batch
            on_error(qid, text, e)
            yield qid, []
