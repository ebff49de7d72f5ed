"""searchlib: full-text search over French text, in your own program.

Example:
    >>> import searchlib
    >>> hit = searchlib.search("cour federale").hits[0]
    >>> "<mark>fédérale</mark>" in hit.snippet.to_html()
    True
"""

from __future__ import annotations

from collections.abc import Sequence

from searchlib._version import __version__
from searchlib.analysis import ANALYZER_VERSION, FrenchAnalyzer, normalize_text
from searchlib.corpus import LoadReport, load_corpus, load_jsonl
from searchlib.documents import Document, Passage, split_passages
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
from searchlib.index import _DEFAULT, Index, IndexStats, _Default, default_index
from searchlib.query.suggest import Completion
from searchlib.ranking.params import Ranking
from searchlib.results import Correction, Hit, SearchResults, Suggestion


def search(
    query: str,
    limit: int = 10,
    page: int = 1,
    *,
    time_limit: float | _Default | None = _DEFAULT,
    highlight_hits: bool = True,
    collapse: bool = False,
    fields: Sequence[str] | None = None,
    snippet_chars: int = 220,
    max_fragments: int = 2,
    correct: bool = True,
    suggest: bool = True,
    as_you_type: bool = False,
) -> SearchResults:
    """Search the bundled seed corpus; the arguments are those of :meth:`Index.search`
    (the seed corpus declares no fields, has no vectors and learned nothing)."""
    return default_index().search(
        query,
        limit,
        page,
        time_limit=time_limit,
        highlight_hits=highlight_hits,
        collapse=collapse,
        fields=fields,
        snippet_chars=snippet_chars,
        max_fragments=max_fragments,
        correct=correct,
        suggest=suggest,
        as_you_type=as_you_type,
    )


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
