"""French words: where they are in a text, and the tokens each one gives.

:class:`FrenchTokenizer` does two things, each written once:

* :meth:`FrenchTokenizer.matches` / :meth:`FrenchTokenizer.words` find the
  words of a text (one regular expression);
* :meth:`FrenchTokenizer.split` turns one word into its tokens, with offsets
  and positions relative to the word: elided articles (``l'``, ``jusqu'``)
  come off, hyphenated compounds give their parts and the joined whole,
  dotted acronyms (``M.P.A.A.``) become plain (``MPAA``), decimals stay whole.

:func:`word_positions` gives the position of each word's first token: the
tokenizer's Whoosh interface and the analyzer's fused paths all walk a text
that way.

Example:
    >>> tokenizer = FrenchTokenizer()
    >>> tokenizer.words("L’URL des États-Unis")
    ['L’URL', 'des', 'États-Unis']
    >>> tokenizer.split("États-Unis")
    (2, (('États', False, 0, 5, 0), ('ÉtatsUnis', True, 0, 10, 0), ('Unis', False, 6, 10, 1)))
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection, Iterator
from itertools import accumulate
from operator import itemgetter
from typing import Any, TypeVar

from unidecode import unidecode
from whoosh.analysis import Token, Tokenizer

from searchlib.analysis._configured import Configured

ELISIONS: frozenset[str] = frozenset("l m t qu n s j d c ç jusqu quoiqu lorsqu puisqu".split())
"""Articles and pronouns elided before a vowel (``l'``, ``jusqu'``...), lowercase."""

APOSTROPHES = "'’ʼ"

INVISIBLE = "\u00ad\u200b\u200c\u200d\u2060\ufeff"
"""Characters that print as nothing (soft hyphen, zero-width space and
joiners, word joiner, BOM): inside a word they do not split it, and its
tokens leave them out (their offsets still cover them)."""

_LETTER = r"[^\W\d_]"
_ALNUM = r"[^\W_]"
# A run of letters and digits, invisible characters allowed between two of
# them; possessive (``++``, ``*+``): nothing after it could match a shorter
# run, and Python's ``re`` runs it about twice as fast as a group per character.
_RUN = rf"{_ALNUM}++(?:[{INVISIBLE}]++{_ALNUM}++)*+"
# Connectors that keep a word whole: apostrophes and hyphens between letters or
# digits, a dot or comma between digits (3,5), a dot before a letter (M.P.A.A).
_CONNECT = rf"(?:[-{APOSTROPHES}]|(?<=\d)[.,](?=\d)|\.(?={_ALNUM}))"
_WORD_BODY = rf"{_RUN}(?:{_CONNECT}{_RUN})*+"
# An ordinal typed with a space (``13 ème``) is one word.
_ORDINAL_SUFFIX = rf"(?i:ièmes?|iemes?|èmes?|emes?|e|er|ère|ere)(?!{_ALNUM}|[-.{APOSTROPHES}])"
_SPACED_ORDINAL = rf"\d+ {_ORDINAL_SUFFIX}"
_AFTER_SPACE = re.compile(_ORDINAL_SUFFIX)
_WORD = re.compile(rf"{_SPACED_ORDINAL}|{_WORD_BODY}")
_WORD_NO_SPACED_ORDINAL = re.compile(_WORD_BODY)
_ACRONYM = re.compile(rf"(?:{_LETTER}\.)+{_LETTER}\.?")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)+")
_PARTS = re.compile(f"[-.{APOSTROPHES}]")
_PARTS_NOT_APOSTROPHES = re.compile(r"[-.]")
_APOS = re.compile(f"[{APOSTROPHES}]")

_HAS_INVISIBLE = re.compile(f"[{INVISIBLE}]")

Part = tuple[str, bool, int, int, int]
"""One token of a word: text, compound (the joined whole of a compound), start
and end offsets and position, all three relative to the word."""

WordSplit = tuple[int, tuple[Part, ...]]
"""The positions a word takes, and its tokens."""

W = TypeVar("W", bound=tuple[int, *tuple[Any, ...]])

_WIDTH = itemgetter(0)


def normalize_text(text: str) -> str:
    """Return ``text`` in Unicode NFC, the form searchlib stores and tokenizes.

    >>> normalize_text("fe\u0301de\u0301rale") == "fédérale"
    True
    """
    return unicodedata.normalize("NFC", text)


def fold(text: str) -> str:
    """Fold accents and ligatures to ASCII with unidecode (``œuvre`` -> ``oeuvre``).

    Lowercase, and one word stays one word (unidecode may give capitals or
    spaces); text that folds to nothing is kept as it is.

    >>> fold("Œuvre fédérale"), fold("Æ"), fold("😀")
    ('oeuvre federale', 'ae', '😀')
    """
    if text.isascii():
        return text
    raw = unidecode(text)
    folded = "".join(raw.lower().split()) if " " not in text else raw.lower()
    return folded if folded.strip() else text


def word_positions(words: list[W], start_pos: int = 0) -> Iterator[int]:
    """The position of each analysed word's first token (a word's width comes first).

    Zipped with the words, this is the walk over a text: a word takes as many
    positions as its tokenizer split gave it, whatever filters drop. It
    yields one position more than there are words (where a next word would go).

    >>> list(word_positions([(1, "l'URL"), (2, "États-Unis"), (0, "ʼ"), (1, "vote")], start_pos=7))
    [7, 8, 10, 10, 11]
    """
    return accumulate(map(_WIDTH, words), initial=start_pos)


class FrenchTokenizer(Configured, Tokenizer):  # type: ignore[misc]
    """Cut text into French words, with offsets into the text.

    Tokens carry, besides Whoosh's ``text``/``pos``/``startchar``/``endchar``:
    ``surface`` (the raw word as written, elision included) and ``compound``
    (``True`` for the joined form of a hyphenated compound, which shares the
    position of its first part).

    Args:
        elisions: lowercase, accent-folded words that come off the front of
            a word before an apostrophe (``l'``, ``qu'``); the rest of the word
            is the token. An apostrophe after any other word joins a compound.
        compounds: a word of several parts (``États-Unis``, ``aujourd'hui``)
            also gives its parts joined (``ÉtatsUnis``) at the first part's
            position; ``False`` gives the parts only.
        acronyms: dotted acronyms (``M.P.A.A.``) are one plain word (``MPAA``);
            ``False`` cuts them at the dots like any compound.
        ordinals: an ordinal typed with a space (``13 ème``) is one word.
        split_apostrophes: a word with an apostrophe that is no elision
            (``prud'hommes``) is a compound; ``False`` keeps it whole.

    Example:
        >>> [t.text for t in FrenchTokenizer()("L’URL du 13 ème M.P.A.A.")]
        ['URL', 'du', '13ème', 'MPAA']
        >>> [t.text for t in FrenchTokenizer(elisions=frozenset())("l’URL")]
        ['l', 'lURL', 'URL']
    """

    _fields = ("elisions", "compounds", "acronyms", "ordinals", "split_apostrophes")
    elisions: frozenset[str] = ELISIONS
    compounds: bool = True
    acronyms: bool = True
    ordinals: bool = True
    split_apostrophes: bool = True

    def __init__(
        self,
        *,
        elisions: Collection[str] = ELISIONS,
        compounds: bool = True,
        acronyms: bool = True,
        ordinals: bool = True,
        split_apostrophes: bool = True,
    ) -> None:
        self.elisions = frozenset(elisions)
        self.compounds = compounds
        self.acronyms = acronyms
        self.ordinals = ordinals
        self.split_apostrophes = split_apostrophes

    @property
    def pattern(self) -> re.Pattern[str]:
        """The regular expression of a word (a match is a word as written)."""
        return _WORD if self.ordinals else _WORD_NO_SPACED_ORDINAL

    @property
    def across_blanks(self) -> re.Pattern[str] | None:
        """What starts a piece of text between blanks that may end a word begun
        before the blank (the ``ème`` of ``13 ème``); ``None`` when no word
        holds a blank.

        No other word holds a blank (a character for which ``str.isspace``
        is true), and none is cut by one: a text cut at its blanks
        (``str.split()``) gives the same words piece by piece, unless one of
        its pieces starts with this.

        >>> FrenchTokenizer().words("le 13 ème"), FrenchTokenizer().words("13")
        (['le', '13 ème'], ['13'])
        """
        return _AFTER_SPACE if self.ordinals else None

    def words(self, text: str) -> list[str]:
        """The words of ``text``, as written, in order."""
        return self.pattern.findall(text)  # the pattern has no groups: whole matches

    def matches(self, text: str) -> list[re.Match[str]]:
        """The words of ``text`` with their offsets."""
        return list(self.pattern.finditer(text))

    def split(self, raw: str) -> WordSplit:
        """The tokens of one word (a match of :attr:`pattern`), relative to it.

        >>> width, parts = FrenchTokenizer().split("jusqu’aujourd’hui")
        >>> width, parts[1]
        (2, ('aujourdhui', True, 7, 17, 0))
        >>> [(text, position) for text, _, _, _, position in parts]
        [('aujourd', 0), ('aujourdhui', 0), ('hui', 1)]
        """
        if raw.isalnum() and "ʼ" not in raw:
            # Most words: nothing to elide or cut (no blank, dot, comma, hyphen,
            # apostrophe or invisible character: none is alphanumeric but ʼ),
            # the word is its one token, whatever the configuration.
            return 1, ((raw, False, 0, len(raw), 0),)
        if _HAS_INVISIBLE.search(raw):
            return _without_invisible(raw, self._split)
        return self._split(raw)

    def _split(self, raw: str) -> WordSplit:
        if " " in raw or (self.acronyms and _ACRONYM.fullmatch(raw)) or _NUMBER.fullmatch(raw):
            text = raw.replace(".", "") if raw[0].isalpha() else raw.replace(" ", "")
            return 1, ((text, False, 0, len(raw), 0),)
        # Elision: drop leading articles (l', qu', jusqu'...), folded so that
        # "QÙ'A" is elided like "QU'A" (and "ç'" like "c'").
        segments = _APOS.split(raw)
        skip = 0
        i = 0
        while i < len(segments) - 1 and fold(segments[i].lower()) in self.elisions:
            skip += len(segments[i]) + 1
            i += 1
        word = raw[skip:]
        # ʼ (U+02BC) is a letter to the regex: "jʼ" alone, or "lʼ-a",
        # leaves nothing, or a separator, after the elision.
        lead = len(word) - len(word.lstrip("-."))
        word = word[lead:]
        start = skip + lead
        if not word:
            return 0, ()
        # Parts with their offsets; ʼ counts as a letter to the regex, so a
        # part can be empty ("ʼ" alone, "aʼ").
        parts: list[tuple[str, int]] = []
        offset = start
        for part in (_PARTS if self.split_apostrophes else _PARTS_NOT_APOSTROPHES).split(word):
            if part:
                parts.append((part, offset))
            offset += len(part) + 1
        if len(parts) == 1:
            text, at = parts[0]
            return 1, ((text, False, at, at + len(text), 0),)
        out: list[Part] = []
        for n, (part, at) in enumerate(parts):
            out.append((part, False, at, at + len(part), n))
            if n == 0 and self.compounds:
                out.append(("".join(p for p, _ in parts), True, start, len(raw), 0))
        return len(parts), tuple(out)

    def __call__(
        self,
        value: str,
        positions: bool = False,
        chars: bool = False,
        keeporiginal: bool = False,
        removestops: bool = True,
        start_pos: int = 0,
        start_char: int = 0,
        tokenize: bool = True,
        mode: str = "",
        **kwargs: Any,
    ) -> Iterator[Token]:
        """Tokens of ``value`` (Whoosh's tokenizer protocol; one token object, reused)."""
        t = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        t.compound = False
        t.boost = 1.0
        if not tokenize:
            t.original = t.text = t.surface = value
            t.pos = start_pos
            t.startchar, t.endchar = start_char, start_char + len(value)
            yield t
            return
        matches = self.matches(value)
        raws = [m.group() for m in matches]
        splits = list(map(self.split, raws))
        for match, raw, (_, parts), pos in zip(
            matches, raws, splits, word_positions(splits, start_pos), strict=False
        ):
            base = start_char + match.start()
            t.surface = raw
            t.stopped = False
            for text, compound, a, b, p in parts:
                t.text = text
                t.compound = compound
                t.pos = pos + p
                t.startchar = base + a
                t.endchar = base + b
                yield t


def _without_invisible(raw: str, split: Any) -> WordSplit:
    """``split`` of ``raw`` without its invisible characters, offsets mapped
    back into ``raw`` (a token's span covers the characters it leaves out)."""
    at = [i for i, c in enumerate(raw) if c not in INVISIBLE]
    width, parts = split("".join(raw[i] for i in at))
    at.append(len(raw))
    return width, tuple(
        (text, compound, at[a], at[b - 1] + 1 if b else 0, p) for text, compound, a, b, p in parts
    )
