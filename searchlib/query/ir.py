"""searchlib's own query tree: what a query searches, independent of any backend.

The compiler (:mod:`searchlib.query.compiler`, the one rule book) turns a
query's syntax tree into these nodes; each backend only *emits* them: Whoosh
query objects (:func:`searchlib.searching.whoosh_query`) or OpenSearch's query DSL.

Scoring is the sum of the matching parts, each multiplied by the boosts
around it (as Whoosh and Lucene's ``bool`` queries score):

* :class:`Term`: one index term in one field.
* :class:`Phrase`: terms in order, each within ``slop`` positions of the one
  before (1: side by side); scored as the sum of its terms.
* :class:`Or`: any of its items (the sum of those that match).
* :class:`And`: all of its items.
* :class:`AndMaybe`: ``required``, scored with ``optional`` where it matches too.
* :class:`AndNot`: ``positive`` where ``negative`` does not match (scored as
  ``positive``).
* :class:`Every`: every passage (a query holding only exclusions).
* :class:`Prefix`: terms starting with a prefix, as a backend that cannot list
  its terms expands them (approximate: only the cluster emits it).

Nodes are frozen, hashable and compared by value; :func:`terms` lists the
``(field, term)`` pairs a tree searches.

Example:
    >>> q = Or((Term("title", "musiqu", 1.2), Term("text", "musiqu")))
    >>> sorted(terms(q))
    [('text', 'musiqu'), ('title', 'musiqu')]
    >>> boosted(q, 2.0).boost
    2.0
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Term:
    """One index term in one field."""

    field: str
    text: str
    boost: float = 1.0


@dataclass(frozen=True, slots=True)
class Phrase:
    """Terms in order in one field, each within ``slop`` positions of the one
    before (1: side by side); scored as the sum of its terms."""

    field: str
    words: tuple[str, ...]
    slop: int = 1
    boost: float = 1.0


@dataclass(frozen=True, slots=True)
class _Items:
    """What :class:`Or` and :class:`And` share: their fields, and their hash,
    computed once (a compiled word's tree is kept and met again at every query)."""

    items: tuple[Node, ...]
    boost: float = 1.0
    _hash: int = field(default=0, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_hash", hash((self.items, self.boost)))

    def __hash__(self) -> int:
        return self._hash

    def __reduce__(self) -> tuple[type, tuple[tuple[Node, ...], float]]:
        return type(self), (self.items, self.boost)  # (the hash of strings differs by process)


# eq=False: the base's equality (which compares the classes too) and hash are kept.
@dataclass(frozen=True, slots=True, eq=False)
class Or(_Items):
    """Any of ``items``; scored as the sum of those that match."""


@dataclass(frozen=True, slots=True, eq=False)
class And(_Items):
    """All of ``items``; scored as their sum."""


@dataclass(frozen=True, slots=True)
class AndMaybe:
    """``required``, scored with ``optional`` too where it also matches."""

    required: Node
    optional: Node
    boost: float = 1.0


@dataclass(frozen=True, slots=True)
class AndNot:
    """``positive`` where ``negative`` does not match; scored as ``positive``."""

    positive: Node
    negative: Node
    boost: float = 1.0


@dataclass(frozen=True, slots=True)
class Prefix:
    """The index terms of ``field`` starting with ``text`` (at most ``limit``,
    chosen by the backend): what a query keeps of ``prefix*`` on a backend that
    cannot list its terms (a local index expands it into :class:`Term` nodes,
    the ``limit`` most frequent)."""

    field: str
    text: str
    limit: int
    boost: float = 1.0


@dataclass(frozen=True, slots=True)
class Every:
    """Every passage."""

    boost: float = 1.0


Node = Term | Phrase | Prefix | Or | And | AndMaybe | AndNot | Every
"""A node of the query tree."""


def boosted(node: Node, boost: float) -> Node:
    """``node`` with another boost."""
    return dataclasses.replace(node, boost=boost)


def children(node: Node) -> tuple[Node, ...]:
    """The nodes directly under ``node``."""
    if isinstance(node, Or | And):
        return node.items
    if isinstance(node, AndMaybe):
        return (node.required, node.optional)
    if isinstance(node, AndNot):
        return (node.positive, node.negative)
    return ()


def walk(node: Node) -> Iterator[Node]:
    """``node`` and every node under it, depth first."""
    yield node
    for child in children(node):
        yield from walk(child)


def terms(node: Node) -> set[tuple[str, str]]:
    """The ``(field, term)`` pairs the tree searches (phrases' words included)."""
    out: set[tuple[str, str]] = set()
    for n in walk(node):
        if isinstance(n, Term):
            out.add((n.field, n.text))
        elif isinstance(n, Phrase):
            out.update((n.field, w) for w in n.words)
    return out


__all__ = [
    "And",
    "AndMaybe",
    "AndNot",
    "Every",
    "Node",
    "Or",
    "Phrase",
    "Prefix",
    "Term",
    "boosted",
    "children",
    "terms",
    "walk",
]
