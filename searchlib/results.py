"""Search results: frozen values that outlive the searcher that made them.

A :class:`SearchResults` is one page of :class:`Hit` objects, each with its
snippets (:class:`~searchlib.highlight.Snippet`: fragments and the ranges to
mark, rendered by ``to_html()``, ``to_ansi()`` or ``to_text()``). It says
which query words were read as others (:class:`Correction`) and, when the
query finds little, a query that finds more (:class:`Suggestion`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from searchlib._frozen import quick_init
from searchlib.highlight import MatchSpec, Snippet, leading_snippet


@quick_init
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


def stored_hit(stored: Mapping[str, Any], score: float = 0.0, rank: int = 1) -> Hit:
    """A :class:`Hit` for one stored passage (``id``, ``doc_id``, ``position``,
    ``start``, ``title``, ``text``, ``fields``), the start of its text as
    snippet: a passage shown or explained without a search."""
    title, text = str(stored.get("title") or ""), str(stored.get("text") or "")
    return Hit(
        rank=rank,
        id=str(stored["id"]),
        doc_id=str(stored.get("doc_id") or ""),
        position=int(stored.get("position") or 0),
        start=int(stored.get("start") or 0),
        score=score,
        title=title,
        text=text,
        snippet=leading_snippet(text),
        title_snippet=leading_snippet(title, max(len(title), 1)),
        fields=dict(stored.get("fields") or {}),
    )


@dataclass(frozen=True, slots=True)
class Correction:
    """A query word that was searched as another (a typo).

    Attributes:
        word: the word as typed.
        start: its offset in the query.
        replacement: what it was read as, written as the index's documents
            write it (``pendemie`` -> ``pandémie``).
        terms: the index terms searched instead (the first is ``replacement``'s).
        kept: whether the typed word was searched too (it is in a few passages).
    """

    word: str
    start: int
    replacement: str
    terms: tuple[str, ...]
    kept: bool = False

    @property
    def end(self) -> int:
        """Offset in the query just past the word."""
        return self.start + len(self.word)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready view."""
        return {
            "word": self.word,
            "start": self.start,
            "replacement": self.replacement,
            "terms": list(self.terms),
            "kept": self.kept,
        }


@dataclass(frozen=True, slots=True)
class UnknownWord:
    """A query word searched as typed that no passage holds (a French word the
    index lacks, ``préavis``, or a word too far from any of its words).

    Attributes:
        word: the word as typed.
        start: its offset in the query.
    """

    word: str
    start: int

    @property
    def end(self) -> int:
        """Offset in the query just past the word."""
        return self.start + len(self.word)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready view."""
        return {"word": self.word, "start": self.start}


def apply_corrections(query: str, corrections: tuple[Correction, ...]) -> str:
    """``query`` with each corrected word replaced by its replacement.

    >>> apply_corrections("la pendemie", (Correction("pendemie", 3, "pandémie", ("pandem",)),))
    'la pandémie'
    """
    out, pos = [], 0
    for c in sorted(corrections, key=lambda c: c.start):
        if c.start < pos or query[c.start : c.end] != c.word:
            continue  # overlapping or not where it says: left as typed
        out.append(query[pos : c.start])
        out.append(c.replacement)
        pos = c.end
    out.append(query[pos:])
    return "".join(out)


def exact_query(query: str, corrections: tuple[Correction, ...]) -> str:
    """``query`` with a ``+`` before each corrected word: it searches them as typed.

    >>> exact_query("la pendemie", (Correction("pendemie", 3, "pandémie", ("pandem",)),))
    'la +pendemie'
    """
    out, pos = [], 0
    for c in sorted(corrections, key=lambda c: c.start):
        if c.start < pos:
            continue
        out.append(query[pos : c.start])
        out.append("+")
        pos = c.start
    out.append(query[pos:])
    return "".join(out)


@dataclass(frozen=True, slots=True)
class Suggestion:
    """A query that finds more than the one typed ("did you mean").

    Attributes:
        query: the suggested query, written as the index's documents write
            its words (accents, apostrophes, hyphens).
        matches: passages holding all its words (the typed query's are fewer).
        changed: ``(start, end)`` spans of ``query`` that differ from what was typed.
    """

    query: str
    matches: int
    changed: tuple[tuple[int, int], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready view."""
        return {
            "query": self.query,
            "matches": self.matches,
            "changed": [list(span) for span in self.changed],
        }


@quick_init
@dataclass(frozen=True, slots=True)
class Stage:
    """What one stage of a search did (see :mod:`searchlib.engine.pipeline`).

    Attributes:
        name: ``plan``, ``retrieve``, ``rerank``, ``rescore``, ``page``, ``suggest``.
        ms: the time it took.
        detail: what it did, in a few numbers or words (depth asked, hits
            ranked, candidates rescored, ...).
    """

    name: str
    ms: float
    detail: tuple[tuple[str, Any], ...] = ()

    def get(self, key: str, default: Any = None) -> Any:
        """One value of :attr:`detail`."""
        return next((v for k, v in self.detail if k == key), default)


@quick_init
@dataclass(frozen=True, slots=True)
class Trace:
    """The stages a search ran, in order, and what each did and cost.

    Attributes:
        stages: the stages, in order.
        kept: what the search kept for explaining its hits (see
            :class:`searchlib.engine.pipeline.Kept`); ``None`` for results
            made otherwise.
    """

    stages: tuple[Stage, ...] = ()
    kept: object = field(default=None, compare=False, repr=False)

    def stage(self, name: str) -> Stage | None:
        """The stage called ``name``, if it ran."""
        return next((s for s in self.stages if s.name == name), None)

    def to_dict(self) -> list[dict[str, Any]]:
        """JSON-ready view: one object per stage."""
        return [{"stage": s.name, "ms": round(s.ms, 3), **dict(s.detail)} for s in self.stages]


@quick_init
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
        corrections: the query words searched as others (typos), in query order.
        searched: the query actually run, corrected words replaced by what
            they were read as (the query itself when nothing was corrected).
        suggestion: a query that finds more, when this one finds little
            (``None`` otherwise, or when the search did not ask).
        unknown: the query words searched as typed that no passage holds
            (``préavis`` in an index without it: never read as « preuve »), in
            query order.
        trace: the stages the search ran and what each did (see
            :mod:`searchlib.engine.pipeline`); not part of equality.
    """

    query: str
    total: int
    page: int
    limit: int
    hits: tuple[Hit, ...]
    match: MatchSpec = field(default_factory=MatchSpec)
    elapsed_ms: float = 0.0
    facets: dict[str, dict[str, int]] = field(default_factory=dict)
    corrections: tuple[Correction, ...] = ()
    searched: str = ""
    suggestion: Suggestion | None = None
    unknown: tuple[UnknownWord, ...] = ()
    trace: Trace = field(default_factory=Trace, compare=False, repr=False)

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

    @property
    def exact_query(self) -> str:
        """The query that searches the corrected words as typed (``+word``)."""
        return exact_query(self.query, self.corrections)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready view: ``{"query", "total", "page", "hits": [...], "searched",
        "corrections": [...], "suggestion", "unknown": [...]}`` (``searched`` is
        the query as run; ``suggestion`` is ``null`` or ``{"query", "matches",
        "changed"}``; ``unknown`` the words no passage holds, ``{"word",
        "start"}``), and ``"facets"`` when asked."""
        out: dict[str, Any] = {
            "query": self.query,
            "total": self.total,
            "page": self.page,
            "hits": [h.to_dict() for h in self.hits],
            "searched": self.searched or self.query,
            "corrections": [c.to_dict() for c in self.corrections],
            "suggestion": self.suggestion.to_dict() if self.suggestion else None,
            "unknown": [u.to_dict() for u in self.unknown],
        }
        if self.facets:
            out["facets"] = self.facets
        return out
