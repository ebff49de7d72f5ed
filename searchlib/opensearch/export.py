"""Files for loading documents into OpenSearch yourself: ``searchlib export --opensearch``.

:func:`export` writes two files into a folder:

* ``index.json``, the body of ``PUT /<index>``: the settings and mappings of
  :func:`~searchlib.opensearch.mapping.index_body`, with the acronym definitions
  mined from the documents in the mapping's ``_meta``;
* ``bulk.ndjson``, the passages as bulk ``index`` actions naming no index.

Load them with::

    curl -XPUT "$URL/myindex" -H 'Content-Type: application/json' --data-binary @index.json
    curl -XPOST "$URL/myindex/_bulk?refresh=true" -H 'Content-Type: application/x-ndjson' \\
        --data-binary @bulk.ndjson

(split ``bulk.ndjson`` at an even line for clusters that limit request sizes),
then search it with :meth:`OpenSearchIndex.open <searchlib.opensearch.OpenSearchIndex.open>`.

Example:
    >>> import tempfile
    >>> from searchlib import Document
    >>> docs = [Document("cdd", "CDD", "Le contrat à durée déterminée.")]
    >>> report = export(docs, tempfile.mkdtemp())
    >>> report.documents, report.passages, report.refused
    (1, 1, ())
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from searchlib._files import atomic_output
from searchlib.analysis import FrenchAnalyzer
from searchlib.documents import PASSAGE_CHARS, Document
from searchlib.errors import DocumentError
from searchlib.fields import FieldType, is_multiple
from searchlib.opensearch.bulk import bulk_lines, passage_sources
from searchlib.opensearch.errors import RefusedDocument, UnsupportedQueryError
from searchlib.opensearch.mapping import (
    DeclaredField,
    MetadataField,
    check_declared,
    index_body,
)
from searchlib.opensearch.translate import field_types
from searchlib.query.acronyms import AcronymLexicon
from searchlib.ranking.params import Ranking

INDEX_FILE = "index.json"
BULK_FILE = "bulk.ndjson"


@dataclass(frozen=True, slots=True)
class ExportReport:
    """What :func:`export` wrote.

    Attributes:
        documents: documents written.
        passages: passages written (bulk actions).
        refused: documents left out, with the reason (what an index would refuse).
        index_file, bulk_file: the two files.
    """

    documents: int
    passages: int
    refused: tuple[RefusedDocument, ...]
    index_file: Path
    bulk_file: Path


def export(
    documents: Iterable[Document],
    folder: str | Path,
    *,
    fields: Mapping[str, FieldType] | None = None,
    declared: Iterable[DeclaredField] = (),
    ranking: Ranking | None = None,
    passage_chars: int = PASSAGE_CHARS,
    analyzer: FrenchAnalyzer | None = None,
    shards: int = 1,
    replicas: int = 1,
) -> ExportReport:
    """Write ``index.json`` and ``bulk.ndjson`` for ``documents`` into ``folder``.

    The index the files make is the one described: its declared ``fields``
    (or ``declared``, as for :meth:`OpenSearchIndex.create
    <searchlib.opensearch.OpenSearchIndex.create>`), ranking (its ``k1``,
    ``b``, ``title_b``), passage size and analyzer. A document searchlib would
    refuse is left out and reported (nothing is dropped silently); a repeated
    id is written again (the bulk API keeps the last). Both files are written
    beside their final names (with names of their own) and renamed once both
    are complete: a failed export leaves the folder as it was.

    Raises:
        UnsupportedQueryError: an ``analyzer`` other than the default one (the
            cluster's analysis chain is generated from the default chain).
    """
    if analyzer is not None and analyzer != FrenchAnalyzer():
        raise UnsupportedQueryError(
            "analyzer",
            f"the index's analyzer {analyzer!r} is not the default one, the only chain "
            "an OpenSearch index is generated with",
        )
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    if fields:
        declared = [MetadataField(n, k.kind, multiple=is_multiple(k)) for n, k in fields.items()]
    checked = check_declared(declared)
    types = field_types(checked)
    ranking = ranking or Ranking()
    mined = AcronymLexicon()
    refused: list[RefusedDocument] = []
    count = passages = 0
    bulk_path = out / BULK_FILE
    index_path = out / INDEX_FILE
    # Each file is written beside its name (a name of its own: two exports
    # at once do not mix) and moved over it once both are complete; on any
    # error neither is touched and nothing is left behind.
    with atomic_output(index_path) as index_file, atomic_output(bulk_path) as f:
        for doc in documents:
            try:
                sources = passage_sources(doc, passage_chars=passage_chars, fields=types)
            except DocumentError as e:
                refused.append(RefusedDocument(str(doc.id), f"{doc.id}#1", 0, str(e)))
                continue
            for line in bulk_lines(sources):
                f.write(line + "\n")
            passages += len(sources)
            count += 1
            mined.add_text(f"{doc.title}\n{doc.text}")
        body = index_body(
            ranking, checked, passage_chars=passage_chars, shards=shards, replicas=replicas
        )
        if mined:
            body["mappings"]["_meta"]["searchlib"]["acronyms"] = mined.counts
        index_file.write(json.dumps(body, ensure_ascii=False, indent=1) + "\n")
    return ExportReport(count, passages, tuple(refused), index_path, bulk_path)
