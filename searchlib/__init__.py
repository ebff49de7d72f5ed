"""searchlib: full-text search over French text, in your own program.

Example:
    >>> import searchlib
    >>> hit = searchlib.search("cour federale").hits[0]
    >>> "<mark>fédérale</mark>" in hit.snippet.to_html()
    True
"""

from __future__ import annotations

from typing import Unpack

from searchlib._version import __version__
from searchlib.analysis import ANALYZER_VERSION, FrenchAnalyzer, normalize_text
from searchlib.corpus import LoadReport, load_corpus, load_jsonl
from searchlib.documents import Document, Passage, split_passages
from searchlib.engine.backend import IndexStats
from searchlib.engine.request import SearchOptions, SearchRequest, make_request
from searchlib.errors import (
    CorpusFormatError,
    CorpusWarning,
    DocumentError,
    IndexCorruptError,
    IndexExistsError,
    IndexingError,
    IndexLockedError,
    IndexNotFoundError,
    IndexVersionError,
    QuerySyntaxError,
    SearchlibError,
    SearchlibWarning,
    SearchTimeoutError,
)
from searchlib.fields import Date, Facet, Keyword, Number
from searchlib.highlight import Fragment, MatchSpec, Snippet
from searchlib.index import Index
from searchlib.query.suggest import Completion
from searchlib.ranking.params import Ranking
from searchlib.results import Correction, Hit, SearchResults, Suggestion
from searchlib.seed import default_index


def search(
    query: str | SearchRequest,
    limit: int = 10,
    page: int = 1,
    **options: Unpack[SearchOptions],
) -> SearchResults:
    """Search the bundled seed corpus, as :meth:`Index.search` does (the seed
    corpus declares no fields, has no vectors and learned nothing)."""
    return default_index().run(make_request(query, limit, page, options))


__all__ = [
    "ANALYZER_VERSION",
    "Completion",
    "CorpusFormatError",
    "CorpusWarning",
    "Correction",
    "Date",
    "Document",
    "DocumentError",
    "Facet",
    "Fragment",
    "FrenchAnalyzer",
    "Hit",
    "Index",
    "IndexCorruptError",
    "IndexExistsError",
    "IndexLockedError",
    "IndexNotFoundError",
    "IndexStats",
    "IndexVersionError",
    "IndexingError",
    "Keyword",
    "LoadReport",
    "MatchSpec",
    "Number",
    "Passage",
    "QuerySyntaxError",
    "Ranking",
    "SearchRequest",
    "SearchResults",
    "SearchTimeoutError",
    "SearchlibError",
    "SearchlibWarning",
    "Snippet",
    "Suggestion",
    "__version__",
    "default_index",
    "load_corpus",
    "load_jsonl",
    "normalize_text",
    "search",
    "split_passages",
]
