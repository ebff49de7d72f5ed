"""Search results: frozen values that outlive the searcher that made them.

A :class:`SearchResults` is one page of :class:`Hit` objects, each with its
snippets (:class:`~searchlib.highlight.Snippet`: fragments and the ranges to
mark, rendered by ``to_html()``, ``to_ansi()`` or ``to_text()``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from searchlib.highlight import MatchSpec, Snippet


@dataclass(frozen=True, slots=True)
class Hit:
    """One ranked passage.

    Attributes:
        rank: 1-based rank over all pages.
        id: passage id (``doc_id#n``).
        doc_id: id of the document the passage belongs to.
        position: index of the passage in its document (0-based).
        start: offset of the passage in the document text.
        score: BM25F score.
        title: document title.
        text: the passage text as stored.
        snippet: best fragments of the text, matches marked.
        title_snippet: the title, matches marked.
        fields: extra fields given with the document.
    """

    rank: int
    id: str
    doc_id: str
    position: int
    start: int
    score: float
    title: str
    text: str
    snippet: Snippet
    title_snippet: Snippet
    fields: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready view; the snippet as HTML with ``<mark>``, the document's
        extra fields (declared or not) under ``fields``."""
        return {
            "rank": self.rank,
            "id": self.id,
            "doc_id": self.doc_id,
            "score": round(self.score, 6),
            "title": self.title,
            "snippet": self.snippet.to_html(),
            "fields": self.fields,
        }


@dataclass(frozen=True, slots=True)
class SearchResults:
    """One page of results.

    Attributes:
        query: the query as given.
        total: how many passages (or documents, when collapsed) match.
        page: 1-based page number.
        limit: page size.
        hits: the hits of this page.
        match: what the query matched, for highlighting other texts.
        elapsed_ms: time spent searching and highlighting.
        facets: counts per value of declared fields over all the matches,
            when asked: ``{"source": {"legi-codes": 334, ...}}`` (passages,
            or documents when collapsed).
    """

    query: str
    total: int
    page: int
    limit: int
    hits: tuple[Hit, ...]
    match: MatchSpec = field(default_factory=MatchSpec)
    elapsed_ms: float = 0.0
    facets: dict[str, dict[str, int]] = field(default_factory=dict)

    def __iter__(self) -> Iterator[Hit]:
        return iter(self.hits)

    def __len__(self) -> int:
        return len(self.hits)

    def __getitem__(self, i: int) -> Hit:
        return self.hits[i]

    @property
    def pages(self) -> int:
        """Number of pages of ``limit`` hits."""
        return -(-self.total // self.limit) if self.total else 0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready view: ``{"query", "total", "page", "hits": [...]}``, and
        ``"facets"`` when asked."""
        out: dict[str, Any] = {
            "query": self.query,
            "total": self.total,
            "page": self.page,
            "hits": [h.to_dict() for h in self.hits],
        }
        if self.facets:
            out["facets"] = self.facets
        return out
