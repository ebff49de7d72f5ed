"""The OpenSearch backend: searchlib's API on a cluster, for when one machine is not enough.

``pip install "searchlib[opensearch]"`` adds the official ``opensearch-py`` client;
importing this package does not import it (an index imports it when opened).

* :mod:`~searchlib.opensearch.mapping`: index settings and mappings generated from
  searchlib's analysis chain, word lists and BM25 parameters;
* :mod:`~searchlib.opensearch.translate`: searchlib's query language to the query DSL;
* :mod:`~searchlib.opensearch.index`: :class:`OpenSearchIndex`, ``add``, ``delete``,
  ``search``, ``document``, ``stats`` on a cluster, returning searchlib's results;
* :mod:`~searchlib.opensearch.export`: ``index.json`` and ``bulk.ndjson`` to load yourself;
* :mod:`~searchlib.opensearch.cli`: the command-line hooks.

Example:
    >>> from searchlib.opensearch import QueryTranslator
    >>> QueryTranslator().translate("title:musique").query
    {'term': {'title': {'value': 'musiqu', 'boost': 1.2}}}
"""

from searchlib.opensearch.errors import (
    BulkError,
    ClusterAuthError,
    ClusterError,
    ClusterUnavailableError,
    MappingConflictError,
    RefusedDocument,
    UnsupportedQueryError,
)
from searchlib.opensearch.export import ExportReport, export
from searchlib.opensearch.index import ClusterIndexStats, OpenSearchIndex, make_client
from searchlib.opensearch.mapping import DeclaredField, MetadataField, index_body
from searchlib.opensearch.results import FacetBucket, OpenSearchResults
from searchlib.opensearch.translate import (
    QueryTranslator,
    TermLookups,
    TermSource,
    Translation,
)

__all__ = [
    "BulkError",
    "ClusterAuthError",
    "ClusterError",
    "ClusterIndexStats",
    "ClusterUnavailableError",
    "DeclaredField",
    "ExportReport",
    "FacetBucket",
    "MappingConflictError",
    "MetadataField",
    "OpenSearchIndex",
    "OpenSearchResults",
    "QueryTranslator",
    "RefusedDocument",
    "TermLookups",
    "TermSource",
    "Translation",
    "UnsupportedQueryError",
    "export",
    "index_body",
    "make_client",
]
