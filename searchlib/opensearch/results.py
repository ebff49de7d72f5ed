"""OpenSearch's answers as searchlib's results: :class:`~searchlib.searching.SearchResults`,
:class:`~searchlib.searching.Hit` and :class:`~searchlib.highlight.Snippet`.

The cluster marks matches with two private-use characters
(:data:`~searchlib.opensearch.translate.HIGHLIGHT_TAGS`); each fragment is found
again in the stored passage, so a :class:`~searchlib.highlight.Fragment` has its
offset and its marked spans, as searchlib's own snippets do.

Example:
    >>> s = snippet_from_fragments("La cour fédérale a jugé.", ["La cour \\ue000fédérale\\ue001 a"])
    >>> s.to_html(), s.spans
    ('La cour <mark>fédérale</mark> a…', [(8, 16)])
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from searchlib.fields import Facet
from searchlib.highlight import Fragment, Snippet, leading_snippet
from searchlib.opensearch.translate import DOCUMENT_COUNT, HIGHLIGHT_TAGS
from searchlib.results import Hit, SearchResults

JSON = dict[str, Any]


@dataclass(frozen=True, slots=True)
class FacetBucket:
    """One value (or period) of a facet and how many matching documents have it."""

    key: str | float
    label: str
    documents: int


@dataclass(frozen=True, slots=True)
class OpenSearchResults(SearchResults):
    """:class:`~searchlib.searching.SearchResults`, with what only a cluster gives.

    Attributes:
        facet_buckets: per facet asked for (in order, keyed by field name), its
            buckets with their labels (``facets`` has the same counts as the local
            index gives them: value -> documents).
        approximations: what this search ran approximately (see
            :class:`~searchlib.opensearch.translate.QueryTranslator`'s ``approximate``).
    """

    facet_buckets: Mapping[str, tuple[FacetBucket, ...]] = field(default_factory=dict)
    approximations: tuple[str, ...] = ()


def _parse_marked(marked: str) -> tuple[str, list[tuple[int, int]]]:
    """A fragment without its marks, and the marked spans in it."""
    open_tag, close_tag = HIGHLIGHT_TAGS
    plain: list[str] = []
    spans: list[tuple[int, int]] = []
    start: int | None = None
    size = 0
    for ch in marked:
        if ch == open_tag:
            start = size
        elif ch == close_tag:
            if start is not None and size > start:
                if spans and spans[-1][1] >= start:
                    spans[-1] = (spans[-1][0], size)
                else:
                    spans.append((start, size))
            start = None
        else:
            plain.append(ch)
            size += 1
    return "".join(plain), spans


def snippet_from_fragments(text: str, fragments: Sequence[str]) -> Snippet:
    """A snippet of ``text`` from the cluster's marked fragments of it.

    A fragment that cannot be found in ``text`` (a cluster that rewrote it) is
    left out; with none left, the snippet is the start of the text.
    """
    out: list[Fragment] = []
    stripped_end = len(text.rstrip())
    cursor = 0
    for marked in fragments:
        plain, spans = _parse_marked(marked)
        if not plain:
            continue
        at = text.find(plain, cursor)
        if at < 0:
            at = text.find(plain)
        if at < 0:
            continue
        end = at + len(plain)
        cursor = end
        out.append(Fragment(plain, at, tuple(spans), at > 0, end < stripped_end))
    if not out:
        return leading_snippet(text)
    return Snippet(tuple(sorted(out, key=lambda f: f.start)))


def hit_from(
    raw: Mapping[str, Any],
    rank: int,
    *,
    highlight: bool,
    snippet_chars: int,
) -> Hit:
    """One hit of a search response.

    Raises:
        ValueError, TypeError, AttributeError: ``raw`` is not a hit as OpenSearch
            documents it (a ``_score`` that is not a number, a ``_source`` that is
            not an object); the index turns them into a ``ClusterError``.
    """
    source = raw.get("_source") or {}
    text = str(source.get("text") or "")
    title = str(source.get("title") or "")
    marks = raw.get("highlight") or {}
    if highlight and marks.get("text"):
        snippet = snippet_from_fragments(text, marks["text"])
    else:
        snippet = leading_snippet(text, snippet_chars)
    if highlight and marks.get("title"):
        title_snippet = snippet_from_fragments(title, marks["title"])
    else:
        title_snippet = leading_snippet(title, max(len(title), 1))
    score = raw.get("_score")
    if score is not None and not _is_number(score):
        raise ValueError(f"hit {raw.get('_id')!r}: _score is not a number: {score!r}")
    return Hit(
        rank=rank,
        id=str(source.get("id") or raw.get("_id")),
        doc_id=str(source.get("doc_id")),
        position=int(source.get("position") or 0),
        start=int(source.get("start") or 0),
        score=float(score) if score is not None else 0.0,
        title=title,
        text=text,
        snippet=snippet,
        title_snippet=title_snippet,
        fields=dict(source.get("fields") or {}),
    )


def _is_number(value: object) -> bool:
    """A finite JSON number (not ``true``, not ``"1.5"``)."""
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def total_from(response: Mapping[str, Any], collapse: bool) -> int:
    """Matching passages, or documents when collapsed."""
    if collapse:
        return int(response["aggregations"][DOCUMENT_COUNT]["value"])
    total = response["hits"]["total"]
    return int(total["value"] if isinstance(total, Mapping) else total)


def facets_from(
    response: Mapping[str, Any], facets: Sequence[Facet]
) -> dict[str, tuple[FacetBucket, ...]]:
    """The buckets of each facet asked for."""
    out: dict[str, tuple[FacetBucket, ...]] = {}
    aggregations = response.get("aggregations") or {}
    for n, facet in enumerate(facets):
        buckets = aggregations.get(f"facet_{n}", {}).get("buckets", [])
        out[facet.field] = tuple(
            FacetBucket(
                key=b["key"],
                label=str(b.get("key_as_string", b["key"])),
                documents=int(b["documents"]["value"]),
            )
            for b in buckets
        )
    return out
