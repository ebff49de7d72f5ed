"""The ``searchlib`` command line: a thin layer over the library.

``searchlib`` alone opens the REPL on the bundled seed corpus. Subcommands:
``index``, ``search``, ``repl``, ``analyze``, ``stats``, ``eval``, ``learn`` (see
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
    learned_rows,
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
from searchlib.learn import MODEL_FILE, CrossValidation, LearnOptions, LearnReport

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
    _off_option(p)

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
    _off_option(p)
    _learn_parser(sub)
    return parser


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
        "of the best candidates. The model is saved in the index folder (learned.json, "
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
        type=_at_least_two,
        metavar="K",
        help="learn on K-1 folds of topics and score the K-th, for each fold; report the "
        "scores next to the unlearned ranking, per fold, with a sign-flip test over topics",
    )
    p.add_argument(
        "--no-rerank",
        action="store_true",
        help="learn the expansion and prior only (no reranker, no LightGBM needed)",
    )
    p.add_argument("--seed", type=int, default=0, metavar="N", help="seed of the folds (default 0)")
    p.add_argument(
        "--forget",
        action="store_true",
        help="delete what the index learned (searches go back to the lexical ranking)",
    )
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress line")


def _at_least_two(text: str) -> int:
    value = _positive(text)
    if value < 2:
        raise argparse.ArgumentTypeError(f"must be at least 2: {text}")
    return value


def _version(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--version", action="version", version=f"searchlib {__version__}")


def _index_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--index", metavar="DIR", help="index folder (default: the bundled seed corpus)"
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
    if command == "search":
        return _cmd_search(args, out)
    if command == "analyze":
        return _cmd_analyze(args, out)
    if command == "stats":
        return _cmd_stats(args, out)
    if command == "eval":
        return _cmd_eval(args, out, err)
    if command == "learn":
        return _cmd_learn(args, out, err)
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
        if args.append:
            with Index.open(target) as index:
                index.add(docs, limitmb=args.limitmb, procs=args.procs)
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
        learned=not args.off,
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
        ranked = _each_query(
            index, progress.wrap(queries), args.limit, on_error, learned=not args.off
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
    index: Index,
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
    options = LearnOptions(rerank=not args.no_rerank, seed=args.seed)
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
    if report.reranker is not None:
        lines.append(f"no reranker: {report.reranker}")
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
