"""The query language: a lenient parser from text to a small syntax tree.

Plain words (accents and case optional), ``"phrases"`` (also ``«…»`` and
``“…”``), ``AND`` / ``OR`` / ``NOT`` (upper case only, so French *et*, *ou*
stay words), ``-word``, ``field:term``, ``prefix*``, ``word~`` / ``word~2``,
and parentheses.

An index's declared fields (:mod:`searchlib.fields`) are filters:
``source:legi-codes``, ``source:(legi-codes OR kali-conventions)``,
``-source:sp``, ``date:>=2020-01-01``, ``date:2020`` (the whole year),
``date:[2019-01-01 TO 2020-12-31]`` (``{``/``}`` for exclusive ends, ``*``
for none), ``pages:<100``. They restrict what the words match and never
score; side by side with the words (or joined by ``AND``) they all apply,
and inside ``field:( ... )`` values side by side mean any of them.
:func:`split_filters` takes them out of the tree. A word followed by a colon
and a value is a field when its name is written in lower case or names a
field: an unknown one raises :class:`~searchlib.errors.QuerySyntaxError`
naming the known fields (``Isaac:Rebirth`` stays text).

People type questions, so the parser is forgiving: punctuation, stray quotes
and unbalanced parentheses are read as plain text. Only an explicitly
malformed operator query (``chat AND``, ``OR chien``, ``title:`` with nothing
after it) raises :class:`~searchlib.errors.QuerySyntaxError`, with the position.

Hostile queries have bounded cost: parsing is linear in the query length, and
a query may hold at most :data:`MAX_WORDS` words, :data:`MAX_EXPANDED_WORDS`
``prefix*`` / ``word~`` words and :data:`MAX_DEPTH` levels of parentheses;
beyond that it raises :class:`~searchlib.errors.QuerySyntaxError`. ``NOT NOT
x`` is ``x``. Lone surrogates (not text) are read as U+FFFD.

Example:
    >>> parse("Quelle est la durée du préavis (démission) ?")  # doctest: +ELLIPSIS
    Group(items=(Word(text='Quelle', ...), ...))
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from searchlib._frozen import quick_init
from searchlib.analysis.analyzer import normalize_text
from searchlib.errors import QuerySyntaxError
from searchlib.fields import (
    FIELD_NAME,
    AllOf,
    AnyOf,
    Date,
    Exclude,
    FieldType,
    FilterExpr,
    Keyword,
    Match,
    Range,
    parse_date,
    to_number,
)

SEARCH_FIELDS = ("title", "text")
"""Fields a query may name with ``field:``."""

MAX_WORDS = 256
"""Most words a query may hold (plain, prefix, fuzzy and inside phrases)."""

MAX_EXPANDED_WORDS = 8
"""Most ``prefix*`` and ``word~`` words in one query (each expands to many terms)."""

MAX_DEPTH = 32
"""Deepest nesting of parentheses in a query."""

_QUOTES = {'"': '"', "«": "»", "“": "”", "„": "“"}
_SURROGATE = re.compile(r"[\ud800-\udfff]")
_SPECIAL = set('"()«»“”„')
_OPERATORS = {"AND", "OR", "NOT"}


@quick_init
@dataclass(frozen=True, slots=True)
class Word:
    """A word as typed; ``kind`` is ``word``, ``prefix`` (``abc*``) or ``fuzzy`` (``abc~``)."""

    text: str
    start: int
    field: str | None = None
    kind: Literal["word", "prefix", "fuzzy"] = "word"
    maxdist: int = 0


@dataclass(frozen=True, slots=True)
class Phrase:
    """Words that must appear next to each other, in order."""

    text: str
    start: int
    field: str | None = None


@dataclass(frozen=True, slots=True)
class Not:
    """Documents matching ``item`` are excluded."""

    item: Node


@dataclass(frozen=True, slots=True)
class BoolOp:
    """Explicit ``AND`` / ``OR`` between items."""

    op: Literal["AND", "OR"]
    items: tuple[Node, ...]


@quick_init
@dataclass(frozen=True, slots=True)
class Group:
    """Items side by side, combined with the default grouping."""

    items: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Filter:
    """``field:value`` on a declared field: ``text`` is the value as typed
    (``legi-codes``, ``>=2020``, ``[1 TO 9]``), ``start`` where the field's
    name (or, inside ``field:( ... )``, the value) starts; it restricts, never scores."""

    field: str
    text: str
    start: int


Node = Word | Phrase | Not | BoolOp | Group | Filter


@quick_init
@dataclass(frozen=True, slots=True)
class _Tok:
    kind: str  # WORD PHRASE LPAREN RPAREN AND OR NOT NEG FIELD
    text: str
    start: int
    field: str | None = None


def _lex(query: str, filters: Mapping[str, FieldType]) -> list[_Tok]:
    toks: list[_Tok] = []
    declared = {name.lower(): name for name in filters}
    i, n = 0, len(query)
    # Where each closing quote is last seen: a stray opening quote is known
    # without scanning the rest of the query again (no quadratic cost).
    last_close = {c: query.rfind(close) for c, close in _QUOTES.items()}
    while i < n:
        c = query[i]
        if c.isspace():
            i += 1
            continue
        if c in _QUOTES:
            close = query.find(_QUOTES[c], i + 1) if last_close[c] > i else -1
            if close == -1:  # stray quote: read as a space
                i += 1
                continue
            toks.append(_Tok("PHRASE", query[i + 1 : close], i))
            i = close + 1
            continue
        if c == "(":
            toks.append(_Tok("LPAREN", c, i))
            i += 1
            continue
        if c == ")":
            toks.append(_Tok("RPAREN", c, i))
            i += 1
            continue
        if c in "-+" and i + 1 < n and not query[i + 1].isspace() and query[i + 1] not in "-+)":
            if c == "-":
                toks.append(_Tok("NEG", c, i))
            i += 1
            continue
        j = i
        while j < n and not query[j].isspace() and query[j] not in _SPECIAL:
            j += 1
        word = query[i:j]
        if word in _OPERATORS:
            toks.append(_Tok(word, word, i))
        else:
            head, sep, rest = word.partition(":")
            after = i + len(head) + 1
            if sep and head.lower() in SEARCH_FIELDS:
                toks.append(_Tok("FIELD", head.lower(), i))
                if rest:
                    toks.append(_Tok("WORD", rest, i + len(head) + 1))
            elif sep and head.lower() in declared:
                toks.append(_Tok("FIELD", declared[head.lower()], i))
                if rest[:1] in ("[", "{"):  # a range: up to its closing bracket
                    close = min(
                        (c for c in (query.find("]", after), query.find("}", after)) if c >= 0),
                        default=-1,
                    )
                    if close < 0:
                        raise QuerySyntaxError(f"{rest[0]} needs a closing ] or }}", query, after)
                    toks.append(_Tok("RANGE", query[after : close + 1], after))
                    j = close + 1
                elif rest:
                    toks.append(_Tok("WORD", rest, after))
            elif sep and _looks_like_field(head, rest, query[j : j + 1]):
                known = ", ".join([*SEARCH_FIELDS, *filters])
                raise QuerySyntaxError(f"unknown field {head!r} (fields: {known})", query, i)
            else:
                toks.append(_Tok("WORD", word, i))
        i = max(j, i + 1)
    return toks


def _looks_like_field(head: str, rest: str, following: str) -> bool:
    """Whether ``head:rest`` (then ``following``) is meant as a field: a name
    in lower case with a value (``sourc:sp``, ``note:(a)``), not a URL."""
    if not FIELD_NAME.fullmatch(head) or head != head.lower():
        return False
    if rest:
        return not rest.startswith("//")
    return following == "(" or following in _QUOTES


class _Parser:
    def __init__(self, query: str, filters: Mapping[str, FieldType] | None = None) -> None:
        self.query = query
        self.filters = filters or {}
        self.toks = _lex(query, self.filters)
        self.i = 0
        self.depth = 0
        self.filter_field: str | None = None  # inside field:( ... ) of a declared field
        self._check_size()

    def _check_size(self) -> None:
        words = expanded = 0
        for tok in self.toks:
            if tok.kind == "WORD":
                words += 1
                node = _word(tok.text, tok.start, None)
                expanded += node.kind != "word"
                if expanded > MAX_EXPANDED_WORDS:
                    raise self.error(
                        f"too many prefix* or word~ terms (at most {MAX_EXPANDED_WORDS})",
                        tok.start,
                    )
            elif tok.kind == "PHRASE":
                words += len(tok.text.split())
            elif tok.kind == "RANGE":
                words += 1
            if words > MAX_WORDS:
                raise self.error(f"query too long (at most {MAX_WORDS} words)", tok.start)

    def peek(self) -> _Tok | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def error(self, message: str, position: int) -> QuerySyntaxError:
        return QuerySyntaxError(message, self.query, position)

    def parse(self) -> Group:
        items: list[Node] = []
        while self.peek() is not None:
            tok = self.peek()
            if tok is not None and tok.kind == "RPAREN":  # unbalanced: ignore
                self.i += 1
                continue
            items.append(self.parse_or())
        return Group(tuple(items))

    def parse_or(self) -> Node:
        left = self.parse_and()
        items = [left]
        while (tok := self.peek()) is not None and tok.kind == "OR":
            self.i += 1
            items.append(self.parse_and(after=tok))
        return items[0] if len(items) == 1 else BoolOp("OR", tuple(items))

    def parse_and(self, after: _Tok | None = None) -> Node:
        items = [self.parse_unary(after)]
        while (tok := self.peek()) is not None and tok.kind == "AND":
            self.i += 1
            items.append(self.parse_unary(after=tok))
        return items[0] if len(items) == 1 else BoolOp("AND", tuple(items))

    def parse_unary(self, after: _Tok | None = None) -> Node:
        negations = 0
        while (tok := self.peek()) is not None and tok.kind in ("NOT", "NEG"):
            self.i += 1
            negations += 1
            after = tok  # a loop, not recursion: NOT NOT ... NOT x is flat
        if tok is None or tok.kind == "RPAREN":
            if after is not None:
                raise self.error(f"{after.text} needs a term after it", after.start)
            raise self.error("a term is missing", len(self.query))
        if tok.kind in ("AND", "OR"):
            raise self.error(f"{tok.kind} needs a term before it", tok.start)
        atom = self.parse_atom(None)
        return Not(atom) if negations % 2 else atom

    def parse_atom(self, field: str | None) -> Node:
        tok = self.peek()
        if tok is None:
            raise self.error("a term is missing", len(self.query))
        self.i += 1
        if tok.kind == "FIELD":
            nxt = self.peek()
            if nxt is None or nxt.kind not in ("WORD", "PHRASE", "LPAREN", "RANGE"):
                raise self.error(f"{tok.text}: needs a term after it", tok.start)
            if tok.text in self.filters:
                if nxt.kind != "LPAREN":  # a value right after the name: point at the name
                    self.i += 1
                    return Filter(tok.text, nxt.text, tok.start)
                return self.parse_filter(tok.text)
            return self.parse_atom(tok.text)
        if self.filter_field is not None and tok.kind in ("WORD", "PHRASE", "RANGE"):
            return Filter(self.filter_field, tok.text, tok.start)
        if tok.kind == "PHRASE":
            return Phrase(tok.text, tok.start, field)
        if tok.kind == "LPAREN":
            if self.depth >= MAX_DEPTH:
                raise self.error(f"parentheses nested too deeply (at most {MAX_DEPTH})", tok.start)
            self.depth += 1
            items: list[Node] = []
            while (nxt := self.peek()) is not None and nxt.kind != "RPAREN":
                items.append(self.parse_or())
            if nxt is not None:
                self.i += 1  # a missing ")" is forgiven
            self.depth -= 1
            group = Group(tuple(items))
            return _with_field(group, field) if field else group
        if tok.kind in ("AND", "OR", "NOT", "NEG", "RPAREN"):
            raise self.error(f"unexpected {tok.text}", tok.start)
        return _word(tok.text, tok.start, field)

    def parse_filter(self, field: str) -> Node:
        """The value after ``field:`` of a declared field (a word, a phrase, a
        range or a group of them)."""
        outer = self.filter_field
        self.filter_field = field
        try:
            return self.parse_atom(None)
        finally:
            self.filter_field = outer


def _word(text: str, start: int, field: str | None) -> Word:
    if text.endswith("*") and len(text.rstrip("*")) > 0:
        return Word(text.rstrip("*"), start, field, "prefix")
    head, sep, dist = text.rpartition("~")
    if sep and head and (dist == "" or dist in ("1", "2")):
        return Word(head, start, field, "fuzzy", int(dist or 1))
    return Word(text, start, field)


def _with_field(node: Node, field: str) -> Node:
    if isinstance(node, Filter):
        return node
    if isinstance(node, Word):
        return Word(node.text, node.start, node.field or field, node.kind, node.maxdist)
    if isinstance(node, Phrase):
        return Phrase(node.text, node.start, node.field or field)
    if isinstance(node, Not):
        return Not(_with_field(node.item, field))
    if isinstance(node, BoolOp):
        return BoolOp(node.op, tuple(_with_field(x, field) for x in node.items))
    return Group(tuple(_with_field(x, field) for x in node.items))


def parse(query: str, filters: Mapping[str, FieldType] | None = None) -> Group:
    """Parse a query string into a syntax tree.

    Args:
        query: the query text.
        filters: the index's declared fields: ``name:value`` on one of them
            is a :class:`Filter` (see :func:`split_filters`).

    Raises:
        QuerySyntaxError: for an explicitly malformed operator query, an
            unknown field, or one past the limits (:data:`MAX_WORDS`,
            :data:`MAX_EXPANDED_WORDS`, :data:`MAX_DEPTH`).
    """
    query = _SURROGATE.sub("\ufffd", query)
    plain = _plain(query)
    return plain if plain is not None else _Parser(query, filters or {}).parse()


# -- filters --------------------------------------------------------------------------


def split_filters(
    tree: Group, query: str, filters: Mapping[str, FieldType]
) -> tuple[Group, FilterExpr | None]:
    """The words of ``tree`` and its filters, as one expression (``None``: none).

    Filters side by side with the words (or joined to them by ``AND``) all
    apply; a filter inside ``OR`` or parentheses beside words has no meaning
    as a restriction and raises.

    Raises:
        QuerySyntaxError: a misplaced filter, or a value that does not fit
            its field (with its position).

    Example:
        >>> from searchlib.fields import Keyword
        >>> q, declared = "licenciement source:legi-codes", {"source": Keyword()}
        >>> words, found = split_filters(parse(q, declared), q, declared)
        >>> [w.text for w in words.items], found
        (['licenciement'], Match(field='source', values=('legi-codes',)))
    """
    words: list[Node] = []
    found: list[FilterExpr] = []
    _split(tree.items, words, found, query, filters)
    expr = None if not found else found[0] if len(found) == 1 else AllOf(tuple(found))
    return Group(tuple(words)), expr


def _split(
    items: tuple[Node, ...],
    words: list[Node],
    found: list[FilterExpr],
    query: str,
    filters: Mapping[str, FieldType],
) -> None:
    for item in items:
        first = _first_filter(item)
        if first is None:
            words.append(item)
        elif _only_filters(item):
            found.append(_expression(item, query, filters))
        elif isinstance(item, BoolOp) and item.op == "AND":
            inner: list[Node] = []
            _split(item.items, inner, found, query, filters)
            words.append(inner[0] if len(inner) == 1 else BoolOp("AND", tuple(inner)))
        else:
            raise QuerySyntaxError(
                f"the filter {first.field}:{first.text} restricts the whole query: put it "
                "beside the words (or after AND), not inside OR or parentheses with words",
                query,
                first.start,
            )


def _first_filter(node: Node) -> Filter | None:
    if isinstance(node, Filter):
        return node
    if isinstance(node, Not):
        return _first_filter(node.item)
    if isinstance(node, BoolOp | Group):
        for item in node.items:
            if (found := _first_filter(item)) is not None:
                return found
    return None


def _only_filters(node: Node) -> bool:
    if isinstance(node, Filter):
        return True
    if isinstance(node, Not):
        return _only_filters(node.item)
    if isinstance(node, BoolOp | Group):
        return bool(node.items) and all(_only_filters(x) for x in node.items)
    return False


def _expression(node: Node, query: str, filters: Mapping[str, FieldType]) -> FilterExpr:
    """A tree of filters as an expression (values converted to their field's type;
    values side by side in parentheses: any of them)."""
    if isinstance(node, Filter):
        return filter_value(node, query, filters[node.field])
    if isinstance(node, Not):
        return Exclude(_expression(node.item, query, filters))
    if isinstance(node, BoolOp | Group):
        items = tuple(_expression(x, query, filters) for x in node.items)
        if len(items) == 1:
            return items[0]
        if isinstance(node, BoolOp) and node.op == "AND":
            return AllOf(items)
        return AnyOf(items)
    raise AssertionError(f"not a filter: {node!r}")  # pragma: no cover


_COMPARISON = re.compile(r"(>=|<=|>|<)?(.*)", re.S)
_RANGE = re.compile(r"([\[{])\s*(\S+)\s+TO\s+(\S+)\s*([\]}])", re.S)


def filter_value(node: Filter, query: str, kind: FieldType) -> FilterExpr:
    """One ``field:value`` as an expression: a keyword value, or a range of
    numbers or dates (``5``, ``>=5``, ``<5``, ``[1 TO 5]``, ``{1 TO *]``...).

    Raises:
        QuerySyntaxError: the value does not fit the field's type.
    """
    text = node.text.strip()
    try:
        if isinstance(kind, Keyword):
            if not text:
                raise ValueError("an empty value")
            return Match(node.field, (normalize_text(text),))
        if text[:1] in ("[", "{"):
            m = _RANGE.fullmatch(text)
            if m is None:
                raise ValueError("a range is written [LOW TO HIGH] (* for no bound)")
            low = None if m[2] == "*" else _bound(m[2], kind, "from" if m[1] == "[" else "after")
            high = None if m[3] == "*" else _bound(m[3], kind, "upto" if m[4] == "]" else "before")
        else:
            op, value = _COMPARISON.fullmatch(text).groups()  # type: ignore[union-attr]
            value = value.strip()
            sides = {">=": ("from", None), ">": ("after", None), "<": (None, "before")}
            low_side, high_side = sides.get(op, (None, "upto") if op else ("from", "upto"))
            low = None if low_side is None else _bound(value, kind, low_side)
            high = None if high_side is None else _bound(value, kind, high_side)
        return Range(
            node.field,
            None if low is None else low[0],
            None if high is None else high[0],
            True if low is None else low[1],
            True if high is None else high[1],
        )
    except ValueError as e:
        raise QuerySyntaxError(
            f"{node.field}:{node.text}: {e} ({node.field} is a {kind.describe()} field)",
            query,
            node.start,
        ) from None


def _bound(text: str, kind: FieldType, side: str) -> tuple[float | int, bool]:
    """A range's bound and whether it is inclusive: ``from`` / ``after`` a value
    (low bounds), ``upto`` / ``before`` it (high bounds). A date is the
    interval it names (``2020``: the year), in microseconds: ``after`` it is
    from its end on, ``upto`` it is before its end."""
    if isinstance(kind, Date):
        start, end = parse_date(text)
        return {"from": (start, True), "after": (end, True), "upto": (end, False)}.get(
            side, (start, False)
        )
    try:
        number = to_number(float(text))
    except (ValueError, OverflowError):
        raise ValueError(f"{text!r} is not a number") from None
    return number, side in ("from", "upto")


_TOKEN = re.compile(r"\S+")


def _plain(query: str) -> Group | None:
    """The tree of a query of plain words, or ``None`` when it has any syntax.

    Most queries are words side by side; this gives the very tree the parser
    builds for them (a ``Group`` of words), without its tokens and recursion.
    Quotes, parentheses, fields, operators, signs and queries near the limits
    go to the parser.
    """
    if not _SPECIAL.isdisjoint(query) or ":" in query:
        return None
    words: list[Word] = []
    expanded = 0
    for m in _TOKEN.finditer(query):
        text = m.group()
        if text in _OPERATORS or text[0] in "-+" or len(words) >= MAX_WORDS:
            return None
        word = _word(text, m.start(), None)
        expanded += word.kind != "word"
        if expanded > MAX_EXPANDED_WORDS:
            return None
        words.append(word)
    return Group(tuple(words))
