"""The query language: a lenient parser from text to a small syntax tree.

Plain words (accents and case optional), ``"phrases"`` (also ``«…»`` and
``“…”``), ``AND`` / ``OR`` / ``NOT`` (upper case only, so French *et*, *ou*
stay words), ``-word``, ``field:term``, ``prefix*``, ``word~`` / ``word~2``,
and parentheses.

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
from dataclasses import dataclass
from typing import Literal

from searchlib.errors import QuerySyntaxError

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


@dataclass(frozen=True, slots=True)
class Group:
    """Items side by side, combined with the default grouping."""

    items: tuple[Node, ...]


Node = Word | Phrase | Not | BoolOp | Group


@dataclass(frozen=True, slots=True)
class _Tok:
    kind: str  # WORD PHRASE LPAREN RPAREN AND OR NOT NEG FIELD
    text: str
    start: int
    field: str | None = None


def _lex(query: str) -> list[_Tok]:
    toks: list[_Tok] = []
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
            if sep and head.lower() in SEARCH_FIELDS:
                toks.append(_Tok("FIELD", head.lower(), i))
                if rest:
                    toks.append(_Tok("WORD", rest, i + len(head) + 1))
            else:
                toks.append(_Tok("WORD", word, i))
        i = max(j, i + 1)
    return toks


class _Parser:
    def __init__(self, query: str) -> None:
        self.query = query
        self.toks = _lex(query)
        self.i = 0
        self.depth = 0
        self._check_size()

    def _check_size(self) -> None:
        words = expanded = 0
        for tok in self.toks:
            if tok.kind == "WORD":
                words += 1
                node = _word(tok, None)
                expanded += node.kind != "word"
                if expanded > MAX_EXPANDED_WORDS:
                    raise self.error(
                        f"too many prefix* or word~ terms (at most {MAX_EXPANDED_WORDS})",
                        tok.start,
                    )
            elif tok.kind == "PHRASE":
                words += len(tok.text.split())
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
            if nxt is None or nxt.kind not in ("WORD", "PHRASE", "LPAREN"):
                raise self.error(f"{tok.text}: needs a term after it", tok.start)
            return self.parse_atom(tok.text)
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
        return _word(tok, field)


def _word(tok: _Tok, field: str | None) -> Word:
    text = tok.text
    if text.endswith("*") and len(text.rstrip("*")) > 0:
        return Word(text.rstrip("*"), tok.start, field, "prefix")
    head, sep, dist = text.rpartition("~")
    if sep and head and (dist == "" or dist in ("1", "2")):
        return Word(head, tok.start, field, "fuzzy", int(dist or 1))
    return Word(text, tok.start, field)


def _with_field(node: Node, field: str) -> Node:
    if isinstance(node, Word):
        return Word(node.text, node.start, node.field or field, node.kind, node.maxdist)
    if isinstance(node, Phrase):
        return Phrase(node.text, node.start, node.field or field)
    if isinstance(node, Not):
        return Not(_with_field(node.item, field))
    if isinstance(node, BoolOp):
        return BoolOp(node.op, tuple(_with_field(x, field) for x in node.items))
    return Group(tuple(_with_field(x, field) for x in node.items))


def parse(query: str) -> Group:
    """Parse a query string into a syntax tree.

    Raises:
        QuerySyntaxError: for an explicitly malformed operator query, or one
            past the limits (:data:`MAX_WORDS`, :data:`MAX_EXPANDED_WORDS`,
            :data:`MAX_DEPTH`).
    """
    query = _SURROGATE.sub("\ufffd", query)
    plain = _plain(query)
    return plain if plain is not None else _Parser(query).parse()


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
        word = _word(_Tok("WORD", text, m.start()), None)
        expanded += word.kind != "word"
        if expanded > MAX_EXPANDED_WORDS:
            return None
        words.append(word)
    return Group(tuple(words))
