"""The French analysis chain.

An analyzer is a Whoosh chain ``Tokenizer | Filter | ...``: the tokenizer cuts
the stored (NFC) text into words and records their offsets; filters only change
``token.text``, never offsets, so highlights always point into the original.

* :class:`FrenchTokenizer` knows French word shapes: elided articles
  (``l'``, ``qu'``, ``jusqu'``... with ``'``, ``’`` or ``ʼ``) are split off and
  not indexed; hyphenated compounds give their parts *and* the joined whole;
  dotted acronyms (``M.P.A.A.``) become plain (``MPAA``); decimals (``3,5``)
  stay whole.
* :class:`FrenchLowercaseFilter`, :class:`StopFlagFilter`,
  :class:`AccentFoldFilter` (unidecode), :class:`OrdinalFilter`,
  :class:`FrenchStemFilter` (Snowball, PyStemmer when installed).

Example:
    >>> FrenchAnalyzer().terms("L’URL de la Cour fédérale des États-Unis")
    ['url', 'de', 'la', 'cour', 'federal', 'de', 'etat', 'etatsun', 'unis']
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from typing import Any

import snowballstemmer
from unidecode import unidecode
from whoosh.analysis import CompositeAnalyzer, Filter, Token, Tokenizer

from searchlib.analysis.lexicon import IRREGULAR_FORMS, ORDINAL_WORDS
from searchlib.analysis.stopwords import FRENCH_STOP_WORDS

ANALYZER_VERSION = "fr-5"
"""Changes whenever the terms produced for some text change (indexes must be rebuilt)."""

ELISIONS: frozenset[str] = frozenset("l m t qu n s j d c ç jusqu quoiqu lorsqu puisqu".split())
"""Articles and pronouns elided before a vowel (``l'``, ``jusqu'``...), lowercase."""

APOSTROPHES = "'’ʼ"

_LETTER = r"[^\W\d_]"
_ALNUM = r"[^\W_]"
# Connectors that keep a word whole: apostrophes and hyphens between letters or
# digits, a dot or comma between digits (3,5), a dot before a letter (M.P.A.A).
_CONNECT = rf"(?:[-{APOSTROPHES}]|(?<=\d)[.,](?=\d)|\.(?={_ALNUM}))"
# An ordinal typed with a space (``13 ème``) is one word.
_SPACED_ORDINAL = rf"\d+ (?i:ièmes?|iemes?|èmes?|emes?|e|er|ère|ere)(?!{_ALNUM}|[-.{APOSTROPHES}])"
_WORD = re.compile(rf"{_SPACED_ORDINAL}|{_ALNUM}+(?:{_CONNECT}{_ALNUM}+)*")
_ACRONYM = re.compile(rf"(?:{_LETTER}\.)+{_LETTER}\.?")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)+")
_SPLIT_PARTS = re.compile(f"[-.{APOSTROPHES}]")
_APOS = re.compile(f"[{APOSTROPHES}]")
_ORDINAL = re.compile(r"(\d+)(?:e|eme|ieme|er|ere|nd|nde|de|d)s?")


def normalize_text(text: str) -> str:
    """Return ``text`` in Unicode NFC, the form searchlib stores and tokenizes.

    >>> normalize_text("fe\u0301de\u0301rale") == "fédérale"
    True
    """
    return unicodedata.normalize("NFC", text)


class FrenchTokenizer(Tokenizer):  # type: ignore[misc]
    """Cut text into French words, with offsets into the text.

    Tokens carry, besides Whoosh's ``text``/``pos``/``startchar``/``endchar``:
    ``surface`` (the raw word as written, elision included) and ``compound``
    (``True`` for the joined form of a hyphenated compound, which shares the
    position of its first part).
    """

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self)

    def __hash__(self) -> int:
        return hash(type(self))

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
        t = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        t.compound = False
        pos = start_pos
        if not tokenize:
            t.original = t.text = t.surface = value
            t.boost = 1.0
            t.pos = pos
            t.startchar, t.endchar = start_char, start_char + len(value)
            yield t
            return
        for match in _WORD.finditer(value):
            raw = match.group()
            start = match.start()
            end = match.end()
            t.surface = raw
            t.boost = 1.0
            t.stopped = False
            if " " in raw or _ACRONYM.fullmatch(raw) or _NUMBER.fullmatch(raw):
                t.text = raw.replace(".", "") if raw[0].isalpha() else raw.replace(" ", "")
                t.compound = False
                t.pos = pos
                t.startchar, t.endchar = start_char + start, start_char + end
                pos += 1
                yield t
                continue
            # Elision: drop leading articles (l', qu', jusqu'...).
            segments = _APOS.split(raw)
            skip = 0
            i = 0
            # Folded, so "QÙ'A" is elided like "QU'A" (and "ç'" like "c'").
            while i < len(segments) - 1 and fold(segments[i].lower()) in ELISIONS:
                skip += len(segments[i]) + 1
                i += 1
            word = raw[skip:]
            # ʼ (U+02BC) is a letter to the regex: "jʼ" alone, or "lʼ-a",
            # leaves nothing, or a separator, after the elision.
            lead = len(word) - len(word.lstrip("-."))
            word = word[lead:]
            start += skip + lead
            if not word:
                continue
            # Parts with their offsets; ʼ counts as a letter to the regex, so
            # a part can be empty ("ʼ" alone, "aʼ").
            parts: list[tuple[str, int]] = []
            offset = start
            for part in _SPLIT_PARTS.split(word):
                if part:
                    parts.append((part, offset))
                offset += len(part) + 1
            if len(parts) == 1:
                t.text, at = parts[0]
                t.compound = False
                t.pos = pos
                t.startchar = start_char + at
                t.endchar = t.startchar + len(t.text)
                pos += 1
                yield t
                continue
            first_pos = pos
            for n, (part, at) in enumerate(parts):
                t.text = part
                t.compound = False
                t.pos = pos
                t.startchar = start_char + at
                t.endchar = t.startchar + len(part)
                pos += 1
                yield t
                if n == 0:
                    t.text = "".join(p for p, _ in parts)
                    t.compound = True
                    t.pos = first_pos
                    t.startchar, t.endchar = start_char + start, start_char + end
                    yield t


class _StatelessFilter(Filter):  # type: ignore[misc]
    """A filter with no configuration: equal to any instance of its class."""

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self)

    def __hash__(self) -> int:
        return hash(type(self))


class _StepFilter(_StatelessFilter):
    """A filter that maps each token on its own: its ``step`` takes the token's
    text, stop flag and mode, and gives the new text and flag (``None``: drop
    the token). The fused analyzer applies the steps of a chain directly."""

    @staticmethod
    def step(text: str, stopped: bool, mode: str) -> tuple[str, bool] | None:
        raise NotImplementedError

    def __call__(self, tokens: Iterator[Token]) -> Iterator[Token]:
        step = self.step
        for t in tokens:
            found = step(t.text, t.stopped, t.mode)
            if found is not None:
                t.text, t.stopped = found
                yield t


class FrenchLowercaseFilter(_StepFilter):
    """Lowercase token text."""

    @staticmethod
    def step(text: str, stopped: bool, mode: str) -> tuple[str, bool] | None:
        return text.lower(), stopped


class StopFlagFilter(_StepFilter):
    """Flag French stop words (``token.stopped``) at query time; never drops a token.

    At index time stop words are indexed like any word, so phrases and
    all-stop-word queries (``les pas``, ``l'été``) still match; the query
    builder decides whether to use flagged terms.
    """

    @staticmethod
    def step(text: str, stopped: bool, mode: str) -> tuple[str, bool] | None:
        return text, mode == "query" and text in FRENCH_STOP_WORDS


class StopDropFilter(_StepFilter):
    """Drop French stop words, at index and query time alike.

    For a field that serves no phrase and no all-stop-word query: the exact
    forms field, whose bonus a stop word never gets (a query drops its stop
    words when it has other words).
    """

    @staticmethod
    def step(text: str, stopped: bool, mode: str) -> tuple[str, bool] | None:
        return None if text in FRENCH_STOP_WORDS else (text, False)


_FOLD_CACHE: dict[str, str] = {}
_STEM_CACHE: dict[str, str] = {}
_CACHE_LIMIT = 100_000
"""Words kept by :func:`fold` and :func:`stem` before their caches start over.
The word caches below come first; these serve the words they miss."""


def fold(text: str) -> str:
    """Fold accents and ligatures to ASCII with unidecode (``œuvre`` -> ``oeuvre``).

    >>> fold("Œuvre fédérale")
    'oeuvre federale'
    """
    if text.isascii():
        return text
    folded = _FOLD_CACHE.get(text)
    if folded is None:
        raw = unidecode(text)
        # unidecode may return upper case (Æ -> AE) or spaces (CJK); keep a
        # single lowercase term, and the original when nothing is left.
        folded = "".join(raw.lower().split()) if " " not in text else raw.lower()
        if not folded.strip():
            folded = text
        if len(_FOLD_CACHE) > _CACHE_LIMIT:
            _FOLD_CACHE.clear()
        _FOLD_CACHE[text] = folded
    return folded


class AccentFoldFilter(_StepFilter):
    """Fold accents and ligatures with unidecode; ``’`` becomes ``'``."""

    @staticmethod
    def step(text: str, stopped: bool, mode: str) -> tuple[str, bool] | None:
        return (text if text.isascii() else fold(text)), stopped


def normalize_ordinal(text: str) -> str:
    """Spell ordinals one way: ``13eme``, ``13ème``, ``13e``, ``treizième`` -> ``13e``;
    ``1er``, ``premier`` -> ``1e`` (on lowercase, folded text).

    >>> normalize_ordinal("13eme"), normalize_ordinal("2nd"), normalize_ordinal("2007")
    ('13e', '2e', '2007')
    >>> normalize_ordinal("treizieme"), normalize_ordinal("premieres")
    ('13e', '1e')
    """
    if text[:1].isdigit():
        m = _ORDINAL.fullmatch(text)
        return f"{m.group(1)}e" if m else text
    return ORDINAL_WORDS.get(text, text)


class OrdinalFilter(_StepFilter):
    """Normalise folded ordinals (``13eme``, ``treizieme`` -> ``13e``)."""

    @staticmethod
    def step(text: str, stopped: bool, mode: str) -> tuple[str, bool] | None:
        if text[:1].isdigit():
            return (text if text.isdigit() else normalize_ordinal(text)), stopped
        return ORDINAL_WORDS.get(text, text), stopped


_local = threading.local()


def stem(word: str) -> str:
    """Snowball French stem of a lowercase, accent-folded word, cached.

    Snowball's French rules expect accents; on folded text two gaps are
    closed first: irregular plurals (:data:`~searchlib.analysis.lexicon.IRREGULAR_FORMS`)
    and feminine past participles (``-ee(s)`` -> ``-e(s)``: ``fermee`` stems
    like ``ferme``, as ``fermée`` would).

    >>> stem("americains"), stem("telechargement"), stem("fermees"), stem("travaux")
    ('americain', 'telecharg', 'ferm', 'travail')
    """
    result = _STEM_CACHE.get(word)
    if result is None:
        stemmer = getattr(_local, "stemmer", None)
        if stemmer is None:
            stemmer = _local.stemmer = snowballstemmer.stemmer("french")
        base = IRREGULAR_FORMS.get(word, word)
        if len(base) > 4 and base.endswith(("ee", "ees")):
            base = base[:-2] + "e" if base.endswith("ee") else base[:-3] + "es"
        result = stemmer.stemWord(base)
        if len(_STEM_CACHE) > _CACHE_LIMIT:
            _STEM_CACHE.clear()
        _STEM_CACHE[word] = result
    return result


class FrenchStemFilter(_StepFilter):
    """Snowball French stemming (PyStemmer's C code when installed), cached."""

    is_morph = True

    @staticmethod
    def step(text: str, stopped: bool, mode: str) -> tuple[str, bool] | None:
        return stem(text), stopped


class FrenchAnalyzer(CompositeAnalyzer):  # type: ignore[misc]
    """The French chain, top to bottom.

    ``FrenchTokenizer | FrenchLowercaseFilter | StopFlagFilter |
    AccentFoldFilter | OrdinalFilter | FrenchStemFilter``

    Args:
        stem: apply Snowball stemming (``False`` gives whole words).
        fold: fold accents and ligatures (``False`` keeps the exact accented
            spelling, lowercased: the "exact form" used to rank a match as
            written above a match through folding or stemming).
        drop_stop_words: leave stop words out (:class:`StopDropFilter`)
            instead of flagging them at query time (:class:`StopFlagFilter`).

    Example:
        >>> FrenchAnalyzer().terms("Les pirates américains")
        ['le', 'pirat', 'americain']
        >>> FrenchAnalyzer(stem=False, fold=False).terms("Les pirates américains")
        ['les', 'pirates', 'américains']
    """

    def __init__(self, stem: bool = True, fold: bool = True, drop_stop_words: bool = False) -> None:
        stops = StopDropFilter() if drop_stop_words else StopFlagFilter()
        items: list[Any] = [FrenchTokenizer(), FrenchLowercaseFilter(), stops]
        if fold:
            items.append(AccentFoldFilter())
        items.append(OrdinalFilter())
        if stem:
            items.append(FrenchStemFilter())
        super().__init__(*items)

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
        no_morph: bool = False,
        **kwargs: Any,
    ) -> Iterator[Token]:
        """Tokens of ``value``, as the chain makes them (Whoosh's analyzer protocol).

        The French chain runs *fused*: each distinct word (a tokenizer match)
        is put through the chain once, and its tokens are cached and replayed
        with the offsets and positions of each occurrence. Any other chain
        (extra or custom filters) runs as a plain Whoosh chain.
        """
        chain = self._fused_chain(no_morph)
        if chain is None or not tokenize:
            return super().__call__(  # type: ignore[no-any-return]
                value,
                no_morph=no_morph,
                positions=positions,
                chars=chars,
                keeporiginal=keeporiginal,
                removestops=removestops,
                start_pos=start_pos,
                start_char=start_char,
                tokenize=tokenize,
                mode=mode,
                **kwargs,
            )
        token = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        cache = self._word_cache(chain, mode)
        return self._fused(value, cache, no_morph, token, start_pos, start_char)

    def _fused_chain(self, no_morph: bool = False) -> tuple[type[_StepFilter], ...] | None:
        """The chain's filter types when it can run fused (``None`` otherwise).

        It can when it is the French tokenizer followed by filters of this
        module only: each changes a token's text as a function of that text
        and the mode, so a word's tokens depend on the word and the mode alone.
        """
        chains: dict[bool, tuple[type[_StepFilter], ...] | None] | None
        chains = self.__dict__.get("_chains")
        if chains is None:
            chains = self.__dict__["_chains"] = {}
        if no_morph in chains:
            return chains[no_morph]
        items = self.items
        found: tuple[type[_StepFilter], ...] | None = None
        if type(items[0]) is FrenchTokenizer:
            chain: list[type[_StepFilter]] = []
            for item in items[1:]:
                kind = type(item)
                if kind not in _FUSABLE_FILTERS:
                    break
                assert issubclass(kind, _StepFilter)
                if not (no_morph and getattr(item, "is_morph", False)):
                    chain.append(kind)
            else:
                found = tuple(chain)
        chains[no_morph] = found
        return found

    def __getstate__(self) -> dict[str, Any]:
        """Pickled (in an index's schema) without the cached chain types."""
        return {k: v for k, v in self.__dict__.items() if k != "_chains"}

    def _word_cache(self, chain: tuple[type, ...], mode: str) -> dict[str, _WordTokens]:
        key = (chain, mode)
        cache = _WORD_CACHE.get(key)
        if cache is None:
            cache = _WORD_CACHE[key] = {}
        return cache

    def _fused(
        self,
        value: str,
        cache: dict[str, _WordTokens],
        no_morph: bool,
        t: Token,
        pos: int,
        start_char: int,
    ) -> Iterator[Token]:
        t.compound = False
        for match in _WORD.finditer(value):
            raw = match.group()
            found = cache.get(raw)
            if found is None:
                found = self._analyse_word(raw, t.mode, no_morph, cache)
            width, entries = found
            base = start_char + match.start()
            t.surface = raw
            t.boost = 1.0
            for text, stopped, compound, a, b, p in entries:
                t.text = text
                t.stopped = stopped
                t.compound = compound
                t.pos = pos + p
                t.startchar = base + a
                t.endchar = base + b
                yield t
            pos += width

    def _analyse_word(
        self, raw: str, mode: str, no_morph: bool, cache: dict[str, _WordTokens] | None
    ) -> _WordTokens:
        """One word through the chain: its tokens relative to the word (kept in
        ``cache`` unless it is ``None``).

        The word's tokens from the tokenizer, then each filter's ``step`` in
        the chain's order, as the chain's generators would apply them.
        """
        steps = [kind.step for kind in self._fused_chain(no_morph) or ()]
        tokens = [
            (t.text, bool(t.compound), t.startchar, t.endchar, t.pos)
            for t in _TOKENIZER(raw, positions=True, chars=True, mode=mode)
        ]
        entries: list[tuple[str, bool, bool, int, int, int]] = []
        for surface, compound, a, b, p in tokens:
            text, stopped = surface, False
            for step in steps:
                out = step(text, stopped, mode)
                if out is None:
                    break  # a dropped token
                text, stopped = out
            else:
                entries.append((text, stopped, compound, a, b, p))
        # Positions the word takes: its tokenizer's, whatever filters dropped.
        width = max((tok[4] for tok in tokens), default=-1) + 1
        found = (width, tuple(entries))
        if cache is not None:
            if len(cache) >= _WORD_CACHE_LIMIT:
                cache.clear()
            cache[raw] = found
        return found

    def terms(self, text: str) -> list[str]:
        """The index terms of ``text``, in order (stop words included)."""
        return [t.text for t in self(normalize_text(text), mode="index")]

    def tokens(self, text: str, mode: str = "query") -> list[TokenView]:
        """Tokens of ``text`` as plain values with offsets into ``text``.

        ``text`` must already be NFC (see :func:`normalize_text`) for the
        offsets to point into what the caller holds. Short texts (query
        words) are cached on the fused chain.
        """
        chain = self._fused_chain() if len(text) <= _TOKENS_CACHE_CHARS else None
        key = (chain, mode, text)
        if chain is not None:
            cached = _TOKENS_CACHE.get(key)
            if cached is not None:
                return list(cached)
        found = [
            TokenView(
                t.text,
                t.pos,
                t.startchar,
                t.endchar,
                t.surface,
                bool(t.stopped),
                bool(t.compound),
            )
            for t in self(text, positions=True, chars=True, mode=mode)
        ]
        if chain is not None:
            if len(_TOKENS_CACHE) >= _WORD_CACHE_LIMIT:
                _TOKENS_CACHE.clear()
            _TOKENS_CACHE[key] = tuple(found)
        return found

    def matching_tokens(
        self, text: str, terms: Collection[str], mode: str = "index"
    ) -> list[TokenView]:
        """The tokens of :meth:`tokens` whose term is in ``terms``, in order.

        What highlighting needs: on the fused chain no token object is built
        for the other words.
        """
        chain = self._fused_chain()
        if chain is None:
            return [t for t in self.tokens(text, mode) if t.text in terms]
        cache = self._word_cache(chain, mode)
        out: list[TokenView] = []
        pos = 0
        for match in _WORD.finditer(text):
            raw = match.group()
            found = cache.get(raw)
            if found is None:
                found = self._analyse_word(raw, mode, False, cache)
            width, entries = found
            for term, stopped, compound, a, b, p in entries:
                if term in terms:
                    base = match.start()
                    out.append(TokenView(term, pos + p, base + a, base + b, raw, stopped, compound))
            pos += width
        return out

    def term_positions(self, text: str) -> dict[bytes, list[int]] | None:
        """Each index term of ``text`` (UTF-8, as Whoosh stores it) and its positions.

        What indexing a field needs, without a token object per word: the
        same terms and positions as ``self(text, mode="index")``. ``None``
        when the chain cannot run fused (see ``__call__``).
        """
        chain = self._fused_chain()
        if chain is None:
            return None
        cache = _INDEX_TERMS_CACHE.get(chain)
        if cache is None:
            cache = _INDEX_TERMS_CACHE[chain] = {}
        words = self._word_cache(chain, "index")
        out: dict[bytes, list[int]] = {}
        pos = 0
        for raw in _WORD.findall(text):  # the pattern has no groups: whole matches
            found = cache.get(raw)
            if found is None:
                # Not kept in the word cache too: indexing needs only this one.
                width, entries = words.get(raw) or self._analyse_word(raw, "index", False, None)
                found = (width, tuple((e[0].encode(), e[5]) for e in entries))
                if len(cache) >= _WORD_CACHE_LIMIT:
                    cache.clear()
                cache[raw] = found
            width, terms = found
            for term, p in terms:
                at = out.get(term)
                if at is None:
                    out[term] = [pos + p]
                else:
                    at.append(pos + p)
            pos += width
        return out

    def stages(self, text: str) -> list[StageView]:
        """Each token through each step: surface, elision, lowercase, fold, stem."""
        out: list[StageView] = []
        for t in FrenchTokenizer()(text, positions=True, chars=True):
            elided = t.text
            lower = elided.lower()
            folded = normalize_ordinal(fold(lower) if self._folds else lower)
            stemmed = stem(folded) if self._stems else folded
            out.append(
                StageView(
                    surface=t.surface,
                    elided=elided,
                    lowercase=lower,
                    folded=folded,
                    stem=stemmed,
                    stopword=lower in FRENCH_STOP_WORDS,
                    compound=bool(t.compound),
                    pos=t.pos,
                    start=t.startchar,
                    end=t.endchar,
                )
            )
        return out

    @property
    def _stems(self) -> bool:
        return any(isinstance(f, FrenchStemFilter) for f in self.items)

    @property
    def _folds(self) -> bool:
        return any(isinstance(f, AccentFoldFilter) for f in self.items)


_TOKENIZER = FrenchTokenizer()

_WordTokens = tuple[int, tuple[tuple[str, bool, bool, int, int, int], ...]]
"""Positions a word takes, and its tokens: text, stopped, compound, start, end, position."""

_WORD_CACHE: dict[tuple[tuple[type, ...], str], dict[str, _WordTokens]] = {}
"""(chain, mode) -> surface word -> its tokens."""

_IndexTerms = tuple[int, tuple[tuple[bytes, int], ...]]
"""Positions a word takes, and its index terms (UTF-8) with positions relative to the word."""

_INDEX_TERMS_CACHE: dict[tuple[type, ...], dict[str, _IndexTerms]] = {}
"""chain -> surface word -> its index terms (see ``term_positions``)."""

_TOKENS_CACHE: dict[tuple[tuple[type, ...] | None, str, str], tuple[TokenView, ...]] = {}
"""(chain, mode, text) -> the tokens of a short text (a query word), see ``tokens``."""

_TOKENS_CACHE_CHARS = 64
"""Longest text whose tokens are cached."""

_WORD_CACHE_LIMIT = 50_000
"""Words kept per chain and mode (about 350 bytes each) before that cache starts
over. Indexing fills these caches with a corpus's vocabulary, so this bound is
what keeps the writer's memory flat in corpus size (at 200,000, the caches held
180 MB after indexing the 31 MB fr-medium corpus); the frequent words that make
most of the hits are back within a few documents of a clear."""

_FUSABLE_FILTERS: frozenset[type[_StepFilter]] = frozenset(
    {
        FrenchLowercaseFilter,
        StopFlagFilter,
        StopDropFilter,
        AccentFoldFilter,
        OrdinalFilter,
        FrenchStemFilter,
    }
)
"""Filters whose output depends on the token text and mode only."""


@dataclass(frozen=True, slots=True)
class TokenView:
    """One analysed token: its term, position and offsets into the source text."""

    text: str
    pos: int
    start: int
    end: int
    surface: str
    stopped: bool
    compound: bool


@dataclass(frozen=True, slots=True)
class StageView:
    """One token as each step of the chain leaves it (for ``analyze`` tools)."""

    surface: str
    elided: str
    lowercase: str
    folded: str
    stem: str
    stopword: bool
    compound: bool
    pos: int
    start: int
    end: int


PERSISTED_CLASSES = (
    "FrenchTokenizer",
    "FrenchLowercaseFilter",
    "StopFlagFilter",
    "StopDropFilter",
    "AccentFoldFilter",
    "OrdinalFilter",
    "FrenchStemFilter",
    "FrenchAnalyzer",
)
"""The classes of the chain that an index's schema pickles.

They keep the names they were first persisted under,
``searchlib.analysis.<Class>`` (the package re-exports them), so indexes
written before this module moved open; the storage admits exactly these."""

for _name in PERSISTED_CLASSES:
    globals()[_name].__module__ = "searchlib.analysis"
del _name
