"""Declared fields: typed metadata that searches filter, count and sort by.

An index may declare fields when it is created (``Index.create(path,
fields={"source": Keyword(), "date": Date()})``): each names a key of the
documents' extra fields and gives its type.

* :class:`Keyword`: an exact string value (NFC), or several with
  ``multiple=True`` (a list); filtered by equality, counted per value.
* :class:`Number`: an int or a float (kept as a float: ints up to 2**53 exactly).
* :class:`Date`: an ISO 8601 date or date-time (``2020-03-01``,
  ``2020-03-01T12:30:00+01:00``; a date-time without offset is taken as UTC),
  kept as microseconds since 1970-01-01 UTC.

A value that does not fit its type is refused (``DocumentError``); a key
that is not declared is stored and returned as before. This module also
defines what a search asks of declared fields, independent of any index:
filters (:class:`Match`, :class:`Range`, :class:`AnyOf`, :class:`AllOf`,
:class:`Exclude`), facets (:class:`Facet`) and sort keys (:class:`SortKey`).

Example:
    >>> Keyword(multiple=True).convert(["b", "a", "b"])
    ('b', 'a')
    >>> Date().convert("1970-01-02")
    (86400000000,)
    >>> parse_declaration("tags:keyword:multiple")
    ('tags', Keyword(multiple=True))
    >>> parse_sort("-date,source")
    (SortKey(field='date', descending=True), SortKey(field='source', descending=False))
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from searchlib.analysis.analyzer import normalize_text
from searchlib.errors import DocumentError

RESERVED = frozenset({"id", "doc_id", "position", "start", "title", "text", "exact", "fields"})
"""Names a declared field cannot take (the index's own fields)."""

FIELD_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
"""What a declared field's name looks like (as typed in ``name:value``)."""

MAX_KEYWORD_CHARS = 1000
"""Longest keyword value, in characters."""

MAX_SAFE_INT = 2**53
"""Largest int a :class:`Number` keeps exactly (it is kept as a float)."""

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


class FieldType:
    """A declared field's type (see :class:`Keyword`, :class:`Number`, :class:`Date`)."""

    __slots__ = ()
    kind: ClassVar[str] = ""

    def convert(self, value: object) -> tuple[Any, ...]:
        """The values to index for ``value`` (empty: none).

        Raises:
            ValueError: ``value`` does not fit the type (the message says why).
        """
        raise NotImplementedError

    def to_json(self) -> dict[str, Any]:
        """The declaration as saved in ``searchlib.json``."""
        out: dict[str, Any] = {"type": self.kind}
        if is_multiple(self):
            out["multiple"] = True
        return out

    def describe(self) -> str:
        """``keyword``, ``keyword (multiple)``, ``number``, ``date``."""
        return f"{self.kind} (multiple)" if is_multiple(self) else self.kind


def is_multiple(kind: FieldType) -> bool:
    """Whether a document may hold several values of a field of this type."""
    return isinstance(kind, Keyword) and kind.multiple


@dataclass(frozen=True, slots=True)
class Keyword(FieldType):
    """An exact string value (or several, with ``multiple``), NFC-normalised.

    Example:
        >>> Keyword().convert("Cafe\\u0301") == ("Café",)
        True
    """

    multiple: bool = False
    kind: ClassVar[str] = "keyword"

    def convert(self, value: object) -> tuple[Any, ...]:
        if value is None:
            return ()
        if isinstance(value, list | tuple):
            if not self.multiple:
                raise ValueError("one value expected (declare it Keyword(multiple=True))")
            return tuple(dict.fromkeys(_keyword(v) for v in value if v is not None))
        return (_keyword(value),)


def _keyword(value: object) -> str:
    if not isinstance(value, str):
        raise ValueError(f"a keyword is a string, not {type(value).__name__}")
    text = normalize_text(value)
    if not text:
        raise ValueError("a keyword cannot be empty")
    if len(text) > MAX_KEYWORD_CHARS:
        raise ValueError(f"a keyword has at most {MAX_KEYWORD_CHARS} characters")
    return text


@dataclass(frozen=True, slots=True)
class Number(FieldType):
    """An int or a float (JSON numbers; kept as a float).

    Example:
        >>> Number().convert(12), Number().convert(None)
        ((12.0,), ())
    """

    kind: ClassVar[str] = "number"

    def convert(self, value: object) -> tuple[Any, ...]:
        if value is None:
            return ()
        return (to_number(value),)


def to_number(value: object) -> float:
    """``value`` as a :class:`Number` keeps it.

    Raises:
        ValueError: not an int or a finite float, or an int past 2**53.
    """
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"a number is an int or a float, not {type(value).__name__}")
    if isinstance(value, int) and abs(value) > MAX_SAFE_INT:
        raise ValueError(f"an int is kept exactly up to 2**53 ({MAX_SAFE_INT:,})")
    number = float(value)
    if not math.isfinite(number):
        raise ValueError("a number must be finite")
    return number + 0.0  # -0.0 is 0.0


@dataclass(frozen=True, slots=True)
class Date(FieldType):
    """An ISO 8601 date or date-time (UTC when it gives no offset).

    Example:
        >>> Date().convert("2020-01-01T01:00:00+01:00") == Date().convert("2020-01-01")
        True
    """

    kind: ClassVar[str] = "date"

    def convert(self, value: object) -> tuple[Any, ...]:
        if value is None:
            return ()
        if not isinstance(value, str):
            raise ValueError(f"a date is an ISO 8601 string, not {type(value).__name__}")
        return (parse_date(value)[0],)


_YEAR = re.compile(r"[0-9]{4}")
_MONTH = re.compile(r"([0-9]{4})-([0-9]{2})")


def parse_date(text: str) -> tuple[int, int]:
    """The interval an ISO 8601 date denotes, in microseconds since 1970 (UTC):
    ``[start, end)``. A year (``2020``) or a month (``2020-03``) is the whole
    of it, a day the whole day, a date-time one microsecond.

    Raises:
        ValueError: not an ISO 8601 date.

    Example:
        >>> a, b = parse_date("2020")
        >>> (b - a) // 86_400_000_000
        366
    """
    text = text.strip()
    try:
        if _YEAR.fullmatch(text):
            start = dt.datetime(int(text), 1, 1, tzinfo=dt.UTC)
            end = _next(start, 12)
        elif m := _MONTH.fullmatch(text):
            start = dt.datetime(int(m[1]), int(m[2]), 1, tzinfo=dt.UTC)
            end = _next(start, 1)
        elif len(text) == 10:
            day = dt.date.fromisoformat(text)
            start = dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)
            end = _micros(start) + 86_400_000_000
        else:
            start = dt.datetime.fromisoformat(text)
            if start.tzinfo is None:
                start = start.replace(tzinfo=dt.UTC)
            end = _micros(start) + 1
    except (ValueError, OverflowError) as e:
        raise ValueError(f"not an ISO 8601 date ({e})") from None
    return _micros(start), end


def _next(start: dt.datetime, months: int) -> int:
    """Microseconds at the start of the month ``months`` after ``start``'s."""
    month = start.month - 1 + months
    year = start.year + month // 12
    if year > dt.MAXYEAR:  # past 9999-12: one microsecond past its last
        return _micros(dt.datetime.max.replace(tzinfo=dt.UTC)) + 1
    return _micros(start.replace(year=year, month=month % 12 + 1))


def _micros(moment: dt.datetime) -> int:
    delta = moment - EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def format_date(micros: int) -> str:
    """Microseconds since 1970 (UTC) as ISO 8601 (``2020-03-01T00:00:00+00:00``)."""
    return (EPOCH + dt.timedelta(microseconds=micros)).isoformat()


def convert_values(
    doc_id: str, values: Mapping[str, Any] | None, fields: Mapping[str, FieldType]
) -> dict[str, Any]:
    """What each declared field holds for document ``doc_id`` whose extra
    fields are ``values``: a keyword's value (a list when multiple), a
    number's float, a date's microseconds; ``None`` when it has none. Every
    backend checks a document's values with it, so what one accepts, the
    other accepts.

    Raises:
        DocumentError: a value does not fit its field's type (naming the
            document, the field and the value).

    Example:
        >>> convert_values("a", {"date": "2020-01"}, {"date": Date()})
        {'date': 1577836800000000}
    """
    out: dict[str, Any] = {}
    for name, kind in fields.items():
        value = values.get(name) if values else None
        try:
            converted = kind.convert(value)
        except ValueError as e:
            shown = repr(value)
            if len(shown) > 80:
                shown = shown[:77] + "..."
            raise DocumentError(
                f"document {doc_id!r}: field {name!r} ({kind.describe()}) cannot take {shown}: {e}"
            ) from None
        if not converted:
            out[name] = None
        elif isinstance(kind, Keyword):
            out[name] = list(converted) if kind.multiple else converted[0]
        else:
            out[name] = converted[0]
    return out


TYPES: dict[str, type[FieldType]] = {"keyword": Keyword, "number": Number, "date": Date}


def from_json(name: str, data: object) -> FieldType:
    """A declaration read back from ``searchlib.json``.

    Raises:
        ValueError: a malformed declaration.
    """
    if not isinstance(data, Mapping) or data.get("type") not in TYPES:
        raise ValueError(f"field {name!r}: malformed declaration {data!r}")
    if data["type"] == "keyword":
        multiple = data.get("multiple", False)
        if not isinstance(multiple, bool):
            raise ValueError(f"field {name!r}: malformed declaration {data!r}")
        return Keyword(multiple=multiple)
    return TYPES[str(data["type"])]()


def check_declarations(fields: object) -> dict[str, FieldType]:
    """``fields`` as given to ``Index.create``, checked: names to types.

    Raises:
        TypeError: not a mapping of names to field types.
        ValueError: a name that is reserved, malformed, or given twice
            (names are compared without case, as queries type them).
    """
    if fields is None:
        return {}
    if not isinstance(fields, Mapping):
        raise TypeError(f"fields must map names to field types, not {type(fields).__name__}")
    out: dict[str, FieldType] = {}
    seen: dict[str, str] = {}
    for name, given in fields.items():
        if not isinstance(name, str) or not FIELD_NAME.fullmatch(name):
            raise ValueError(
                f"field name {name!r}: letters, digits and _ only, starting with a letter"
            )
        if name.lower() in RESERVED:
            raise ValueError(f"field name {name!r} is reserved ({', '.join(sorted(RESERVED))})")
        if name.lower() in seen:
            raise ValueError(f"fields {seen[name.lower()]!r} and {name!r} differ only by case")
        kind = given() if isinstance(given, type) and issubclass(given, FieldType) else given
        if not isinstance(kind, Keyword | Number | Date):
            raise TypeError(
                f"field {name!r}: the type must be Keyword(), Number() or Date(), not {kind!r}"
            )
        seen[name.lower()] = name
        out[name] = kind
    return out


def parse_declaration(text: str) -> tuple[str, FieldType]:
    """``name:type`` as the command line takes it: ``source:keyword``,
    ``tags:keyword:multiple``, ``pages:number``, ``date:date``.

    Raises:
        ValueError: not of that form.
    """
    name, _, rest = text.partition(":")
    kind, _, option = rest.partition(":")
    cls = TYPES.get(kind.strip().lower())
    if not name or cls is None:
        raise ValueError(f"expected NAME:TYPE with TYPE one of {', '.join(TYPES)}, not {text!r}")
    if option:
        if cls is not Keyword or option.strip().lower() != "multiple":
            raise ValueError(f"only keyword fields take an option (:multiple), not {text!r}")
        return name, Keyword(multiple=True)
    return name, cls()


# -- what searches ask ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Match:
    """Passages whose keyword ``field`` holds any of ``values``."""

    field: str
    values: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Range:
    """Passages whose number or date ``field`` lies between ``low`` and ``high``
    (``None``: unbounded), converted values (floats, or microseconds for dates)."""

    field: str
    low: float | int | None
    high: float | int | None
    low_inclusive: bool = True
    high_inclusive: bool = True


@dataclass(frozen=True, slots=True)
class AnyOf:
    """Passages matching any of ``items``."""

    items: tuple[FilterExpr, ...]


@dataclass(frozen=True, slots=True)
class AllOf:
    """Passages matching all of ``items``."""

    items: tuple[FilterExpr, ...]


@dataclass(frozen=True, slots=True)
class Exclude:
    """Passages not matching ``item``."""

    item: FilterExpr


FilterExpr = Match | Range | AnyOf | AllOf | Exclude
"""A filter: restricts what a search matches, never scores."""


def filter_fields(expr: FilterExpr) -> set[str]:
    """The fields a filter reads."""
    if isinstance(expr, Match | Range):
        return {expr.field}
    if isinstance(expr, Exclude):
        return filter_fields(expr.item)
    return set().union(*(filter_fields(x) for x in expr.items))


DateBucket = Literal["year", "month", "day"]


@dataclass(frozen=True, slots=True)
class Facet:
    """Counts per value of a declared field over all the matches of a search.

    Keywords count per value (most frequent first, then by value); dates per
    ``by`` (``year`` by default, ``month`` or ``day``), in time order;
    numbers per range between the ``edges`` given (``[e0, e1)``, ...), with
    open ranges below the first and from the last, named ``*-e0``,
    ``e0-e1``, ..., ``en-*``. ``limit`` keeps the most frequent keyword values.

    Example:
        >>> Facet.parse("pages:10,100")
        Facet(field='pages', by=None, edges=(10.0, 100.0), limit=None)
    """

    field: str
    by: DateBucket | None = None
    edges: tuple[float, ...] | None = None
    limit: int | None = None

    def __post_init__(self) -> None:
        if self.by is not None and self.by not in ("year", "month", "day"):
            raise ValueError(f"facet {self.field}: by is year, month or day, not {self.by!r}")
        if self.edges is not None:
            if isinstance(self.edges, str) or not isinstance(self.edges, Sequence):
                raise TypeError(f"facet {self.field}: edges are a sequence of numbers")
            edges = tuple(sorted({to_number(e) for e in self.edges}))
            if not edges:
                raise ValueError(f"facet {self.field}: give at least one edge")
            object.__setattr__(self, "edges", edges)
        if self.limit is not None and (
            isinstance(self.limit, bool) or not isinstance(self.limit, int) or self.limit < 1
        ):
            raise ValueError(f"facet {self.field}: limit must be an int of at least 1")

    @classmethod
    def parse(cls, text: str) -> Facet:
        """``source``, ``date:month``, ``pages:10,100`` (as the command line takes them).

        Raises:
            ValueError: malformed.
        """
        name, sep, spec = text.partition(":")
        if not sep:
            return cls(name)
        spec = spec.strip()
        if spec in ("year", "month", "day"):
            return cls(name, by=spec)  # type: ignore[arg-type]
        try:
            edges = tuple(to_number(float(e)) for e in spec.split(","))
        except ValueError:
            raise ValueError(
                f"facet {text!r}: expected NAME, NAME:year|month|day or NAME:EDGE,EDGE,..."
            ) from None
        return cls(name, edges=edges)


@dataclass(frozen=True, slots=True)
class SortKey:
    """Order by a declared field, ascending unless ``descending``."""

    field: str
    descending: bool = False


def parse_sort(sort: str | Sequence[str] | None) -> tuple[SortKey, ...]:
    """``"-date,source"`` or ``["-date", "source"]`` as sort keys (``-``:
    descending); ``None``, ``""`` or ``"relevance"``: none (by score).

    Raises:
        TypeError: neither a string nor a sequence of strings.
        ValueError: an empty key.
    """
    if sort is None:
        return ()
    parts: list[str]
    if isinstance(sort, str):
        parts = sort.split(",")
    elif isinstance(sort, Sequence) and all(isinstance(s, str) for s in sort):
        parts = [p for s in sort for p in s.split(",")]
    else:
        raise TypeError(f"sort must be a string or a sequence of strings, not {sort!r}")
    keys: list[SortKey] = []
    for part in (p.strip() for p in parts):
        if part in ("", "relevance", "score", "-score") and len(parts) == 1:
            return ()
        descending = part.startswith("-")
        name = part.lstrip("+-").strip()
        if not name:
            raise ValueError(f"empty sort key in {sort!r}")
        keys.append(SortKey(name, descending))
    return tuple(keys)


def number_label(value: float) -> str:
    """``10.0`` -> ``10``, ``2.5`` -> ``2.5`` (facet range names)."""
    return str(int(value)) if value.is_integer() and abs(value) < 1e16 else repr(value)


__all__ = [
    "FIELD_NAME",
    "RESERVED",
    "AllOf",
    "AnyOf",
    "Date",
    "Exclude",
    "Facet",
    "FieldType",
    "FilterExpr",
    "Keyword",
    "Match",
    "Number",
    "Range",
    "SortKey",
    "check_declarations",
    "convert_values",
    "filter_fields",
    "format_date",
    "from_json",
    "is_multiple",
    "number_label",
    "parse_date",
    "parse_declaration",
    "parse_sort",
    "to_number",
]
