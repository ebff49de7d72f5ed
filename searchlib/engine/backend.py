"""What every index answers, a folder's or a cluster's: the :class:`Backend` protocol.

:class:`~searchlib.Index` (Whoosh, in a folder) and
:class:`~searchlib.opensearch.OpenSearchIndex` both satisfy it, checked by
mypy where the command line and the REPL take "an index": every command
works on either, or says in one line why a backend cannot do it
(:class:`~searchlib.opensearch.UnsupportedQueryError` on a cluster).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from searchlib.analysis import FrenchAnalyzer
from searchlib.documents import Document
from searchlib.engine.request import SearchRequest
from searchlib.fields import FieldType
from searchlib.query.suggest import Completion
from searchlib.ranking.explain import Explanation
from searchlib.ranking.params import Ranking
from searchlib.results import Hit, SearchResults


@dataclass(frozen=True, slots=True)
class IndexStats:
    """Counts and versions of an index (``path``: its folder, or ``URL/index``)."""

    path: str | None
    documents: int
    passages: int
    fields: tuple[str, ...]
    size_bytes: int
    analyzer_version: str
    format_version: int
    declared: tuple[tuple[str, str], ...] = ()
    """The declared fields: ``(name, type)`` pairs (``type`` as ``keyword``,
    ``keyword (multiple)``, ``number``, ``date``)."""
    learned: dict[str, Any] | None = None
    """What the index learned (see :meth:`LearnedModel.summary
    <searchlib.learn.model.LearnedModel.summary>`; ``used``: whether searches
    use it, ``why`` when not), ``None`` when it learned nothing."""
    vectors: dict[str, Any] | None = None
    """The semantic vectors beside the index (``model``, ``dimension``,
    ``scope``, ``passage_tokens``, ``count``), ``None`` when it has none."""


class Backend(Protocol):
    """An index the application can search, read and change."""

    @property
    def path(self) -> str | Path | None:
        """Where the index is: its folder, ``URL/index``, or ``None`` (in memory)."""
        ...

    @property
    def passage_chars(self) -> int:
        """Largest passage, in characters, that documents are cut into."""
        ...

    @property
    def analyzer(self) -> FrenchAnalyzer:
        """The analyzer queries are analysed with."""
        ...

    @property
    def ranking(self) -> Ranking:
        """The ranking parameters of searches."""
        ...

    @property
    def fields(self) -> dict[str, FieldType]:
        """The declared fields."""
        ...

    def run(self, request: SearchRequest) -> SearchResults:
        """The results of ``request`` (``search(query, **options)`` builds one:
        see :class:`~searchlib.engine.request.Searchable`, which both indexes are)."""
        ...

    def complete(self, text: str, limit: int = 10) -> list[Completion]:
        """Completions of the last word of ``text``."""
        ...

    def explain(self, query: str | SearchResults, hit: Hit) -> Explanation:
        """How ``hit``'s score adds up (``query``: the results it came from, or the query)."""
        ...

    def document(self, doc_id: str) -> Document | None:
        """A document by id, or ``None``."""
        ...

    def passages(self, doc_id: str) -> list[dict[str, Any]]:
        """A document's passages, in order (stored fields)."""
        ...

    def passage(self, passage_id: str) -> dict[str, Any] | None:
        """A passage's stored fields by id, or ``None``."""
        ...

    def hit(self, passage_id: str, score: float = 0.0) -> Hit | None:
        """A passage as a hit (for explain), or ``None``."""
        ...

    def documents(self) -> Iterator[Document]:
        """Every document."""
        ...

    def delete(self, doc_ids: Iterable[str]) -> int:
        """Delete documents by id; the number of passages deleted."""
        ...

    def stats(self) -> IndexStats:
        """Counts and versions."""
        ...

    def close(self) -> None:
        """Release what the index holds."""
        ...


__all__ = ["Backend", "IndexStats"]
