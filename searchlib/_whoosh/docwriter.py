"""Adding documents to a Whoosh segment writer, with each field's postings made in one pass.

Whoosh's ``SegmentWriter.add_document`` asks each field for its postings
through the format's ``word_values``: a token object per word, then a dict of
positions and a pickle per term, then one ``pool.add`` call per posting. For
a text field whose analyzer runs fused (:meth:`FrenchAnalyzer.term_positions`)
and whose format is Whoosh's plain ``Positions`` or ``Frequency``,
:class:`DocumentAdder` makes the same postings straight from the analyzer's
cached word entries (:meth:`FrenchAnalyzer.term_counts` for ``Frequency``: no
positions) and hands them to the pool in one call. The words of a text are
found once for every field that indexes it with the same word pattern (a
passage's text for ``text`` and ``exact``, whose value is a
:class:`JoinedText` of the title and the text). Every other field
goes through Whoosh's own ``field.index``. Stored values, field lengths and
columns go through Whoosh's per-document writer as before. The segment holds
the same postings, stored fields, lengths and columns as Whoosh's own path
(the tests read both back); its posting blocks can be a little smaller, as
equal position values are shared objects that pickle once per block.
"""

from __future__ import annotations

import itertools
import operator
import pickle
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from whoosh import formats
from whoosh.analysis.tokenizers import IDTokenizer
from whoosh.system import pack_uint

from searchlib.analysis.analyzer import FrenchAnalyzer

Posting = tuple[str, bytes, int, float, bytes]
"""What Whoosh's posting pool holds: field, term, document number, weight, value."""

Columns = tuple[str, list[bytes], Sequence[float], list[bytes]]
"""A field's postings in one document: field, then its terms, weights and values."""

Postings = tuple[list[bytes], list[int], list[bytes]]
"""A field value's postings in one document: its terms, their counts and their values."""

AddColumns = Callable[[str, int, list[bytes], Sequence[float], list[bytes]], None]
"""``GroupedPostingPool.add_columns``: field, document number, terms, weights, values."""

_POSITIONS = 1
_FREQUENCY = 2
_ID = 3
_WHOOSH = 0

_NOTHING = b""


class JoinedText(str):
    """A field value made of ``parts`` joined by newlines, where no word
    spans a newline (none does for :class:`FrenchTokenizer
    <searchlib.analysis.FrenchTokenizer>`): its words are its parts' words,
    in order. A str everywhere; :class:`DocumentAdder` reads the words of
    each part once for every field of the document that indexes it.

    >>> v = JoinedText(("Titre", "Texte"))
    >>> v, v.parts
    ('Titre\\nTexte', ('Titre', 'Texte'))
    """

    parts: tuple[str, ...]

    def __new__(cls, parts: tuple[str, ...]) -> JoinedText:
        self = super().__new__(cls, "\n".join(parts))
        self.parts = parts
        return self

    def __reduce__(self) -> tuple[Any, ...]:
        return (str, (str(self),))  # pickled (sent to a helper process) as the plain text


class DocumentAdder:
    """``writer.add_document(**fields)`` for one Whoosh segment writer, faster.

    Falls back to Whoosh's own method, for every document, when the schema
    has a field this module does not reproduce (spelling words, term
    vectors).
    """

    def __init__(self, writer: Any) -> None:
        self.writer = writer
        schema = writer.schema
        self._plans: dict[str, tuple[Any, int]] = {}
        self._whoosh_only = False
        for name in schema.names():
            field = schema[name]
            if field.vector or (field.indexed and field.separate_spelling()):
                self._whoosh_only = True
            self._plans[name] = (field, _plan(field))
        # The words of texts met in this document and the one before, per
        # word pattern: two fields of the same text (or a part of it) whose
        # analyzers cut words alike find them once.
        self._words: dict[tuple[Any, str], list[str]] = {}
        self._words_before: dict[tuple[Any, str], list[str]] = {}
        pool = writer.pool
        self._add_many: Callable[[list[Posting]], None] | None = getattr(pool, "add_many", None)
        self._add_columns: AddColumns | None = getattr(pool, "add_columns", None)
        # Per fused field, its last value analysed: the value, boost, postings and length.
        self._last: dict[str, tuple[str, float, Columns, int]] = {}

    def add(self, fields: Mapping[str, Any]) -> None:
        """Add one document, as ``writer.add_document(**fields)`` would."""
        writer = self.writer
        if self._whoosh_only or self._add_many is None:
            writer.add_document(**fields)
            return
        writer._check_state()
        names = sorted(name for name in fields if not name.startswith("_"))
        writer._check_fields(writer.schema, names)
        perdoc = writer.perdocwriter
        docnum = writer.docnum
        docboost = writer._doc_boost(fields)
        postings: list[Posting] = []
        columns: list[Columns] = []
        perdoc.start_doc(docnum)
        try:
            for name in names:
                value = fields[name]
                if value is None:
                    continue
                field, plan = self._plans[name]
                length = 0
                if field.indexed:
                    boost = writer._field_boost(fields, name, docboost)
                    last = self._last.get(name)
                    if last is not None and last[0] == value and last[1] == boost:
                        # The same value as this field's in the document before
                        # (the title of a document's passages): the same postings.
                        columns.append(last[2])
                        length = last[3]
                    else:
                        found = self._fused(field, plan, value)
                        if found is None or self._add_columns is None:
                            length = _index(field, name, value, found, docnum, boost, postings)
                        else:
                            length = _columns(name, found, boost, columns)
                            if columns and columns[-1][0] == name:
                                self._last[name] = (value, boost, columns[-1], length)
                    if not field.scorable:
                        length = 0
                stored = fields.get(f"_stored_{name}", value)
                perdoc.add_field(name, field, stored if field.stored else None, length)
                column = field.column_type
                if column and stored is not None:
                    perdoc.add_column_value(name, column, field.to_column_value(stored))
        except Exception:
            perdoc.cancel_doc()
            raise
        # Only once the document is complete: a failure leaves nothing in the pool.
        if columns:
            add_columns = self._add_columns
            assert add_columns is not None
            for name, terms, weights, values in columns:
                add_columns(name, docnum, terms, weights, values)
        self._add_many(postings)
        perdoc.finish_doc()
        writer._added = True
        writer.docnum += 1
        self._words_before, self._words = self._words, {}

    def _fused(self, field: Any, plan: int, value: Any) -> Postings | None:
        """The postings of a field value its fused analyzer makes, or ``None``."""
        if not plan or not isinstance(value, str):
            return None
        if plan == _ID:  # the whole value is the one term (Whoosh's IDTokenizer)
            return [value.encode()], [1], [_NOTHING]
        analyzer: FrenchAnalyzer = field.analyzer
        pattern = analyzer.word_pattern
        if isinstance(value, JoinedText):
            words = list(
                itertools.chain.from_iterable(self._words_of(pattern, p) for p in value.parts)
            )
        else:
            words = self._words_of(pattern, value)
        if plan == _POSITIONS:
            positions = analyzer.term_positions(value, words)
            if positions is None:
                return None
            return (
                list(positions),
                list(map(len, positions.values())),
                [
                    _one_position(p[0])
                    if len(p) == 1
                    else _two_positions(p[0], p[1])
                    if len(p) == 2
                    else _encode_positions(p)
                    for p in positions.values()
                ],
            )
        found = analyzer.term_counts(value, words)
        if found is None:
            return None
        counts = list(found.values())
        return list(found), counts, list(map(_frequency, counts))

    def _words_of(self, pattern: re.Pattern[str], text: str) -> list[str]:
        key = (pattern, text)
        found = self._words.get(key)
        if found is None:
            found = self._words_before.get(key)
            if found is None:
                found = pattern.findall(text)
            self._words[key] = found
        return found


def _plan(field: Any) -> int:
    analyzer = getattr(field, "analyzer", None)
    fmt = field.format
    if (
        field.indexed
        and type(analyzer) is IDTokenizer
        and type(fmt) is formats.Existence
        and fmt.field_boost == 1.0
    ):
        return _ID
    if not field.indexed or not isinstance(analyzer, FrenchAnalyzer):
        return _WHOOSH
    if not analyzer.fused or fmt is None or fmt.field_boost != 1.0:
        return _WHOOSH
    if type(fmt) is formats.Positions:
        return _POSITIONS
    if type(fmt) is formats.Frequency:
        return _FREQUENCY
    return _WHOOSH


def _columns(name: str, found: Postings, boost: float, out: list[Columns]) -> int:
    """Append the postings of one fused field value to ``out`` as columns (the
    postings :func:`_index` makes); return the field length."""
    terms, counts, values = found
    if not terms:
        return 0
    # The counts are the weights (the pool's float column takes ints as they are).
    weights: Sequence[float] = counts if boost == 1.0 else [n * boost for n in counts]
    out.append((name, terms, weights, values))
    return sum(counts)


def _index(
    field: Any,
    name: str,
    value: Any,
    found: Postings | None,
    docnum: int,
    boost: float,
    out: list[Posting],
) -> int:
    """Append the postings of one field value to ``out`` (``found``: those of
    its fused analysis, if any); return the field length."""
    if found is None:
        length = 0
        for tbytes, freq, weight, vbytes in field.index(value):
            length += freq
            out.append((name, tbytes, docnum, weight * boost, vbytes))
        return length
    terms, counts, values = found
    out.extend(
        (name, term, docnum, float(n) * boost, v)
        for term, n, v in zip(terms, counts, values, strict=True)
    )
    return sum(counts)


def _encode_positions(positions: list[int]) -> bytes:
    """``formats.Positions.encode``: the count, then the pickled position deltas."""
    deltas = [positions[0], *map(operator.sub, positions[1:], positions)]
    count: bytes = pack_uint(len(deltas))
    return count + pickle.dumps(deltas, 2)


_ONE_POSITION: dict[int, bytes] = {}
_TWO_POSITIONS: dict[int, bytes] = {}
_FREQUENCIES: dict[int, bytes] = {}


def _one_position(pos: int) -> bytes:
    found = _ONE_POSITION.get(pos)
    if found is None:
        found = _encode_positions([pos])
        if len(_ONE_POSITION) < 1 << 16:
            _ONE_POSITION[pos] = found
    return found


def _two_positions(first: int, second: int) -> bytes:
    """``_encode_positions([first, second])``, remembered (a term twice in a
    passage is the commonest case after once, and the same pairs come back).
    Positions are word counts of one text: below 2**32."""
    key = first << 32 | second
    found = _TWO_POSITIONS.get(key)
    if found is None:
        found = _encode_positions([first, second])
        if len(_TWO_POSITIONS) < 1 << 14:
            _TWO_POSITIONS[key] = found
    return found


def _frequency(n: int) -> bytes:
    found = _FREQUENCIES.get(n)
    if found is None:
        found = pack_uint(n)
        if len(_FREQUENCIES) < 1 << 12:
            _FREQUENCIES[n] = found
    return found
