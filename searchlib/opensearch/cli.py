"""Command-line hooks of the OpenSearch backend, for :mod:`searchlib.app.cli` to call.

An index on a cluster is named by a URL wherever the CLI takes an index folder
(``--index https://search.example.org:9200/cdtn``): the cluster, then the index
name as the path. Credentials and TLS come from the environment, never from the
command line: ``SEARCHLIB_OPENSEARCH_USER``, ``SEARCHLIB_OPENSEARCH_PASSWORD``,
``SEARCHLIB_OPENSEARCH_CA_CERTS``, and ``SEARCHLIB_OPENSEARCH_INSECURE`` (``1``,
``true``, ``yes`` or ``on``: no certificate check, with a warning, for test
clusters only; ``0``, ``false``, ``no``, ``off`` or empty: checked; anything else
is an error). Credentials in the URL are used too, and shown nowhere: every
message names the cluster without them.

* :func:`is_cluster_spec`, :func:`open_spec`, :func:`add_cluster_options`:
  ``--index URL`` (and ``--approximate``) for ``search``, ``repl``, ``stats`` and ``eval``;
* :func:`index_documents`: ``searchlib index SOURCES --index URL``;
* :func:`add_export_parser`, :func:`cmd_export`: ``searchlib export SOURCES
  --opensearch DIR`` (the files to load into a cluster yourself).

Example:
    >>> spec = parse_spec("https://search.example.org:9200/cdtn")
    >>> spec.url, spec.index
    ('https://search.example.org:9200', 'cdtn')
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import warnings
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TextIO
from urllib.parse import unquote, urlsplit

from searchlib.analysis import FrenchAnalyzer
from searchlib.corpus.loaders import ENCODING_OPTIONS, load_corpus
from searchlib.documents import PASSAGE_CHARS, Document
from searchlib.errors import CorpusWarning, SearchlibError, SearchlibWarning
from searchlib.fields import FieldType
from searchlib.opensearch.errors import BulkError, ClusterConfigError, RefusedDocument, redact
from searchlib.opensearch.export import export
from searchlib.opensearch.index import OpenSearchIndex
from searchlib.ranking.params import Ranking

ENV_USER = "SEARCHLIB_OPENSEARCH_USER"
ENV_PASSWORD = "SEARCHLIB_OPENSEARCH_PASSWORD"
ENV_CA_CERTS = "SEARCHLIB_OPENSEARCH_CA_CERTS"
ENV_INSECURE = "SEARCHLIB_OPENSEARCH_INSECURE"

_INDEX_NAME = re.compile(r"[a-z0-9][a-z0-9_.+-]{0,254}")

TRUE_VALUES = ("1", "true", "yes", "on")
"""Values of ``SEARCHLIB_OPENSEARCH_INSECURE`` that turn certificate checks off
(any case, spaces around ignored)."""

FALSE_VALUES = ("", "0", "false", "no", "off")
"""Values that keep them on (unset too)."""


@dataclass(frozen=True, slots=True)
class ClusterSpec:
    """A cluster index named on the command line.

    Attributes:
        url: the cluster (scheme, host, port), without credentials.
        index: the index name.
        username, password: from the URL's user part, else the environment
            (the password is left out of ``repr``).
        ca_certs: CA bundle (``SEARCHLIB_OPENSEARCH_CA_CERTS``).
        verify_certs: false only when ``SEARCHLIB_OPENSEARCH_INSECURE`` is true
            (:data:`TRUE_VALUES`).
    """

    url: str
    index: str
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    ca_certs: str | None = None
    verify_certs: bool = True


def is_cluster_spec(text: str | None) -> bool:
    """Whether an ``--index`` value names a cluster index (an http(s) URL), not a folder."""
    return bool(text) and str(text).startswith(("http://", "https://"))


def parse_spec(text: str, env: Mapping[str, str] | None = None) -> ClusterSpec:
    """``https://[user[:password]@]host[:port]/index`` as a :class:`ClusterSpec`.

    Raises:
        ClusterConfigError: not an http(s) URL with an index name as its path
            (lowercase, as OpenSearch wants index names), or a
            ``SEARCHLIB_OPENSEARCH_INSECURE`` that is neither true nor false. A
            ``ValueError`` too; its message shows the URL without credentials.
    """
    env = os.environ if env is None else env
    shown = redact(text)
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as e:  # a bad port or IPv6 address
        raise ClusterConfigError(
            f"not a cluster index URL: {shown!r} ({redact(str(e))}; https://host:9200/index)"
        ) from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ClusterConfigError(f"not a cluster index URL: {shown!r} (https://host:9200/index)")
    name = parts.path.strip("/")
    if not _INDEX_NAME.fullmatch(name):
        raise ClusterConfigError(
            f"{shown!r}: the path must be the index name, lowercase letters, digits, - _ . + "
            "(https://host:9200/index)"
        )
    host = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
    url = f"{parts.scheme}://{host}" + (f":{port}" if port else "")
    username = unquote(parts.username) if parts.username else env.get(ENV_USER) or None
    password = unquote(parts.password) if parts.password else env.get(ENV_PASSWORD) or None
    return ClusterSpec(
        url,
        name,
        username,
        password,
        env.get(ENV_CA_CERTS) or None,
        not insecure(env),
    )


def insecure(env: Mapping[str, str] | None = None) -> bool:
    """Whether ``SEARCHLIB_OPENSEARCH_INSECURE`` turns certificate checks off.

    Only an explicit true value does (:data:`TRUE_VALUES`); unset or a false
    value (:data:`FALSE_VALUES`) keeps them.

    Raises:
        ClusterConfigError: any other value (a typo must not fail open).
    """
    env = os.environ if env is None else env
    value = env.get(ENV_INSECURE)
    if value is None:
        return False
    word = value.strip().lower()
    if word in TRUE_VALUES:
        return True
    if word in FALSE_VALUES:
        return False
    raise ClusterConfigError(
        f"{ENV_INSECURE}={value!r} is neither true ({', '.join(TRUE_VALUES)}: no certificate "
        f"check) nor false ({', '.join(v for v in FALSE_VALUES if v)} or empty: checked)"
    )


@contextlib.contextmanager
def warnings_as_lines(err: TextIO) -> Iterator[None]:
    """Show searchlib's warnings issued inside (an unchecked certificate...) on
    ``err``, one line each (``searchlib: warning: ...``); others as Python would."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", SearchlibWarning)
        try:
            yield
        finally:
            for w in caught:
                if isinstance(w.message, SearchlibWarning):
                    print(f"searchlib: warning: {w.message}", file=err)
                else:
                    warnings.showwarning(w.message, w.category, w.filename, w.lineno)


def add_cluster_options(parser: argparse.ArgumentParser) -> None:
    """Options of the commands that search an index (``search``, ``repl``, ``eval``)."""
    parser.add_argument(
        "--approximate",
        action="store_true",
        help="on an OpenSearch index (--index URL): run what the cluster can only "
        "approximate (prefix*) instead of refusing it",
    )


def open_spec(
    text: str, *, approximate: bool = False, err: TextIO | None = None
) -> OpenSearchIndex:
    """Open the cluster index an ``--index URL`` names (its ``path`` is the URL
    without credentials: show that, not ``text``).

    Args:
        text: the URL.
        approximate: see :class:`OpenSearchIndex`.
        err: where searchlib's warnings go, one line each (else Python shows them).
    """
    spec = parse_spec(text)
    with warnings_as_lines(err) if err is not None else contextlib.nullcontext():
        return OpenSearchIndex.open(
            spec.url,
            spec.index,
            approximate=approximate,
            username=spec.username,
            password=spec.password,
            ca_certs=spec.ca_certs,
            verify_certs=spec.verify_certs,
        )


def index_documents(
    text: str,
    documents: Iterable[Document],
    *,
    overwrite: bool = False,
    append: bool = False,
    out: TextIO,
    err: TextIO,
    quiet: bool = False,
    fields: Mapping[str, FieldType] | None = None,
    json_summary: bool = False,
) -> int:
    """``searchlib index SOURCES --index URL``: create the index with the declared
    ``fields`` (or add to it with ``append``: its fields are fixed) and load the
    documents; returns the exit code (0, or 1 when some documents were refused:
    each is printed on ``err`` with the reason).

    Raises:
        IndexExistsError: the index exists and neither ``overwrite`` nor ``append``.
        SearchlibError: the cluster's errors (the CLI prints them on one line).
    """
    spec = parse_spec(text)
    with warnings_as_lines(err):
        if append:
            index = OpenSearchIndex.open(
                spec.url,
                spec.index,
                username=spec.username,
                password=spec.password,
                ca_certs=spec.ca_certs,
                verify_certs=spec.verify_certs,
            )
            if fields and dict(fields) != index.fields:
                raise SearchlibError(
                    f"the fields of {index.path} are fixed at its creation "
                    "(drop --field to add to it)"
                )
        else:
            index = OpenSearchIndex.create(
                spec.url,
                spec.index,
                fields=fields,
                overwrite=overwrite,
                username=spec.username,
                password=spec.password,
                ca_certs=spec.ca_certs,
                verify_certs=spec.verify_certs,
            )
    with index:
        code = 0
        try:
            count = index.add(documents)
        except BulkError as e:
            count = e.indexed
            for refused in e.refused:
                print(f"searchlib: refused: {describe(refused)}", file=err)
            print(f"searchlib: {len(e.refused)} document(s) refused by {index.path}", file=err)
            code = 1
        stats = index.stats()
    if json_summary:
        summary = {
            "index": index.path,
            "indexed": count,
            "documents": stats.documents,
            "passages": stats.passages,
        }
        print(json.dumps(summary, ensure_ascii=False, indent=2), file=out)
    elif not quiet:
        print(
            f"indexed {count:,} document(s) into {index.path}; the index holds "
            f"{stats.documents:,} document(s), {stats.passages:,} passage(s)",
            file=out,
        )
    return code


def describe(refused: RefusedDocument) -> str:
    """One refused document on one line."""
    status = f"{refused.status}: " if refused.status else ""
    return f"document {refused.doc_id!r} (passage {refused.passage_id}): {status}{refused.reason}"


# -- export -------------------------------------------------------------------------------


def add_export_parser(
    sub: argparse._SubParsersAction[argparse.ArgumentParser],
) -> argparse.ArgumentParser:
    """The ``export`` subcommand (``sub`` is the CLI's subparsers object); returns its parser."""
    p = sub.add_parser(
        "export",
        help="write files to load documents into an OpenSearch cluster yourself",
        description="Write index.json (settings and mappings for PUT /<index>, with the "
        "acronyms the documents define) and bulk.ndjson (the passages, for POST "
        "/<index>/_bulk) into a folder.",
    )
    p.add_argument(
        "sources", nargs="+", metavar="SOURCE", help=".txt/.md files or folders, .jsonl(.gz)"
    )
    p.add_argument("--opensearch", required=True, metavar="DIR", help="folder to write into")
    p.add_argument(
        "--on-error",
        choices=("stop", "skip"),
        default="stop",
        help="a bad file or record stops the run (default) or is skipped with a warning",
    )
    p.add_argument(
        "--encoding",
        choices=("auto", "utf-8", "replace"),
        default="auto",
        help="as for searchlib index",
    )
    p.add_argument("--follow-links", action="store_true", help="as for searchlib index")
    return p


def cmd_export(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Run ``searchlib export``; returns the exit code (1 when documents were left out)."""

    encoding = ENCODING_OPTIONS[args.encoding]
    corpus = load_corpus(
        *args.sources,
        errors="skip" if args.on_error == "skip" else "strict",
        encoding_errors=encoding,
        follow_links=args.follow_links,
    )
    return export_documents(corpus, args.opensearch, out, err)


def export_documents(
    documents: Iterable[Document],
    folder: str,
    out: TextIO,
    err: TextIO,
    *,
    fields: Mapping[str, FieldType] | None = None,
    ranking: Ranking | None = None,
    passage_chars: int = PASSAGE_CHARS,
    analyzer: FrenchAnalyzer | None = None,
) -> int:
    """Write ``index.json`` and ``bulk.ndjson`` for ``documents`` into ``folder``
    (an index with these declared ``fields``, ``ranking``, passage size and
    ``analyzer``: see :func:`~searchlib.opensearch.export.export`), saying what
    was written (and left out) on ``out``/``err``; returns the exit code (1
    when documents were left out)."""
    import warnings  # noqa: PLC0415

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", CorpusWarning)
        report = export(
            documents,
            folder,
            fields=fields,
            ranking=ranking,
            passage_chars=passage_chars,
            analyzer=analyzer,
        )
    for w in caught:
        if isinstance(w.message, CorpusWarning):
            print(f"searchlib: warning: {w.message}", file=err)
    for refused in report.refused:
        print(f"searchlib: left out: {describe(refused)}", file=err)
    print(
        f"wrote {report.documents:,} document(s), {report.passages:,} passage(s): "
        f"{report.index_file} and {report.bulk_file}\n"
        f"load them with: curl -XPUT \"$URL/INDEX\" -H 'Content-Type: application/json' "
        f'--data-binary @{report.index_file} && curl -XPOST "$URL/INDEX/_bulk?refresh=true" '
        f"-H 'Content-Type: application/x-ndjson' --data-binary @{report.bulk_file}",
        file=out,
    )
    return 1 if report.refused else 0
