"""The French analyzer: a chain built from its parameters, run fused.

:class:`FrenchAnalyzer` is a Whoosh chain (``Tokenizer | Filter | ...``, see
:mod:`~searchlib.analysis.tokenizer` and :mod:`~searchlib.analysis.filters`)
whose parameters say which steps it has and how each is set. It runs the
chain *fused*: each distinct word goes through the tokenizer's
:meth:`~searchlib.analysis.FrenchTokenizer.split` and the filters' steps once,
its tokens are cached, and every occurrence replays them at its offsets and
positions. All its outputs come from that one walk over the words:

* ``analyzer(text, ...)``: Whoosh token objects (the analyzer protocol);
* :meth:`FrenchAnalyzer.tokens` / :meth:`FrenchAnalyzer.matching_tokens`:
  plain :class:`TokenView` values (queries, highlighting);
* :meth:`FrenchAnalyzer.term_positions`: each term's UTF-8 bytes and positions
  (what indexing a field needs, with no token object);
* :meth:`FrenchAnalyzer.term_counts`: each term's UTF-8 bytes and count (a
  field without positions);
* :meth:`FrenchAnalyzer.stages`: each token through each step (debug view).

Caches belong to the analyzer (bounded, thread-safe); nothing is kept at
module level.

Example:
    >>> FrenchAnalyzer().terms("L’URL de la Cour fédérale des États-Unis")
    ['url', 'de', 'la', 'cour', 'federal', 'de', 'etat', 'etatsun', 'unis']
    >>> FrenchAnalyzer(compounds=False, stem=False).terms("les États-Unis")
    ['les', 'etats', 'unis']
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass
from itertools import accumulate, chain, compress, count
from operator import itemgetter, methodcaller, not_
from typing import Any, TypeVar

from whoosh.analysis import CompositeAnalyzer, Token

from searchlib._cache import BoundedCache
from searchlib.analysis.filters import (
    AccentFoldFilter,
    FrenchLowercaseFilter,
    FrenchStemFilter,
    OrdinalFilter,
    Stemmer,
    StepFilter,
    StopDropFilter,
    StopFilter,
    StopFlagFilter,
    TextFilter,
    stem,
)
from searchlib.analysis.stopwords import FRENCH_STOP_WORDS
from searchlib.analysis.tokenizer import (
    APOSTROPHES,
    ELISIONS,
    FrenchTokenizer,
    fold,
    normalize_text,
    word_positions,
)

__all__ = [
    "ANALYZER_VERSION",
    "APOSTROPHES",
    "ELISIONS",
    "TOKENS_CACHE_CHARS",
    "WORD_CACHE_SIZE",
    "FrenchAnalyzer",
    "Matched",
    "StageView",
    "TokenView",
    "fold",
    "normalize_text",
    "stem",
]

ANALYZER_VERSION = "fr-5"
"""Changes whenever the terms produced for some text change (indexes must be rebuilt)."""

WORD_CACHE_SIZE = 50_000
"""Words an analyzer keeps per cache before that cache starts over. Indexing
fills these caches with a corpus's vocabulary, so this bound is what keeps the
writer's memory flat in corpus size; the frequent words that make most of the
hits are back within a few documents of a clear."""

TOKENS_CACHE_CHARS = 64
"""Longest text whose tokens :meth:`FrenchAnalyzer.tokens` caches (query words)."""

Step = Callable[[str, bool, str], "tuple[str, bool] | None"]

Entry = tuple[str, bool, bool, int, int, int]
"""One token of a word: text, stopped, compound, start, end and position (relative to the word)."""

Matched = tuple[str, int, int, int, str, bool, bool]
"""A token as :meth:`FrenchAnalyzer.matches` gives it: :class:`TokenView`'s fields
(text, position, start, end, surface, stopped, compound), in order."""

_Word = tuple[int, tuple[Entry, ...]]
"""Positions a word takes, and its tokens."""

_IndexTerms = tuple[int, tuple[tuple[bytes, int], ...], tuple[bytes, ...], bytes | None]
"""Positions a word takes, its index terms (UTF-8) with positions relative to
the word, these terms alone (what counting needs), and its one term when the
word is one token (one position, one term, at the word's position)."""

_FUSABLE: frozenset[type[StepFilter]] = frozenset(
    {
        FrenchLowercaseFilter,
        StopFlagFilter,
        StopDropFilter,
        AccentFoldFilter,
        OrdinalFilter,
        FrenchStemFilter,
    }
)
"""Filters whose output depends on the token text, their configuration and the mode only."""

_GROUP = methodcaller("group")
_TERMS = itemgetter(2)
_SINGLE = itemgetter(3)

V = TypeVar("V", bound=tuple[Any, ...])


class _WordTable(BoundedCache[str, V]):
    """Word -> its analysis (a non-empty tuple), computed on a miss.

    Two generations of at most half of ``maxsize`` words each: when the
    current mapping is full, it becomes the older one (the one before is
    dropped) and a new one starts; a word missing from the current mapping is
    taken from the older one, if there, before it is computed. The frequent
    words stay across a start-over (a plain start-over recomputes each of
    them), and at most ``maxsize`` words are held, as before.
    """

    __slots__ = ("_compute", "_older")

    def __init__(self, maxsize: int, compute: Callable[[str], V]) -> None:
        super().__init__(max(1, maxsize // 2), evict="clear")
        self._compute = compute
        self._older: dict[str, V] = {}

    def put(self, key: str, value: V) -> V:
        """Keep ``value`` under ``key``, the current mapping becoming the older one when full."""
        with self._lock:
            data = self._data
            if key not in data and len(data) >= self.maxsize:
                # New dicts, never emptied: a reader holding either stays consistent.
                self._older = data
                self._data = data = {}
            data[key] = value
        return value

    def clear(self) -> None:
        """Forget every word, of both generations."""
        with self._lock:
            self._older = {}
            self._data = {}

    def many(self, words: list[str]) -> list[V]:
        """The analysis of each of ``words``, in order.

        Hits are looked up in one pass over the current mapping, a plain
        dict (replaced, never emptied, so the one a reader holds stays
        whole); misses are taken from the older mapping or computed, and kept.
        """
        found: list[V | None] = list(map(self._data.get, words))
        if not all(found):  # a miss (every analysis is a non-empty tuple)
            # The misses found in C: a Python step per miss, not per word.
            compute = self._compute
            for i in list(compress(count(), map(not_, found))):
                word = words[i]
                value = self._data.get(word)  # met earlier in these words
                if value is None:
                    value = self._older.get(word)
                    value = self.put(word, compute(word) if value is None else value)
                found[i] = value
        return found  # type: ignore[return-value]  # no None is left


class _Pieces:
    """The pieces of text between blanks met so far (one mode), and the terms
    their words give: what :meth:`FrenchAnalyzer.matching_tokens` reads to
    find, with set operations only, the pieces of a text holding a word that
    gives one of a few terms.

    A piece is put in :attr:`by_term` under each of its terms, and in
    :attr:`width`, before it is put in :attr:`known`: a reader never sees a
    known piece without them. Replaced by a new one, never emptied, when it
    holds too many pieces.

    Attributes:
        known: the pieces met.
        by_term: each term, and the pieces holding a word that gives it.
        width: each piece, and the positions its words take.
        words: each piece holding a word that gives a term, and its words:
            each as written, where it starts in the piece, and its tokens.
        across: the pieces that may end a word begun before the blank
            (see :attr:`FrenchTokenizer.across_blanks`).
    """

    __slots__ = ("across", "by_term", "known", "width", "words")

    def __init__(self) -> None:
        self.known: set[str] = set()
        self.by_term: dict[str, set[str]] = {}
        self.width: dict[str, int] = {}
        self.words: dict[str, tuple[tuple[str, int, _Word], ...]] = {}
        self.across: set[str] = set()


class _Plan:
    """How one analyzer runs, and what it remembers: made on first use, never pickled.

    The chain (``items``) is read once, here: change it before first use.
    """

    def __init__(self, analyzer: FrenchAnalyzer, size: int) -> None:
        self.size = size
        self.chains = {no_morph: _fused_steps(analyzer, no_morph) for no_morph in (False, True)}
        self.fused = self.chains[False] is not None
        # What the filters do to a token's text in "index" mode (see StepFilter.index_text).
        self.index_steps = tuple(
            f
            for f in (item.index_text() for item in analyzer.items[1:] if self.fused)
            if f is not None
        )
        # The fused paths run the chain's tokenizer (there is one when fused).
        first = analyzer.items[0]
        tokenizer = first if isinstance(first, FrenchTokenizer) else FrenchTokenizer()
        self.findall = tokenizer.pattern.findall
        self.finditer = tokenizer.pattern.finditer
        self.across = tokenizer.across_blanks
        self.split = tokenizer.split
        self.words: dict[tuple[str, bool], _WordTable[_Word]] = {}
        self.index_terms: _WordTable[_IndexTerms] = _WordTable(size, analyzer._encode)
        self.views: BoundedCache[tuple[str, str], tuple[TokenView, ...]] = BoundedCache(
            size, evict="clear"
        )
        self.pieces: dict[str, _Pieces] = {}
        # a piece standing between blanks, for pieces found inside other words
        # (a compiled pattern weighs a kilobyte or two: a few are kept)
        self.alone: BoundedCache[str, re.Pattern[str]] = BoundedCache(1024, evict="clear")


def _fused_steps(analyzer: FrenchAnalyzer, no_morph: bool) -> tuple[Step, ...] | None:
    """The steps of the chain's filters, in order, when the chain can run fused."""
    items = analyzer.items
    if not analyzer._run_fused or type(items[0]) is not FrenchTokenizer:
        return None
    steps: list[Step] = []
    for item in items[1:]:
        if type(item) not in _FUSABLE:
            return None
        if not (no_morph and item.is_morph):
            steps.append(item.step)
    return tuple(steps)


class FrenchAnalyzer(CompositeAnalyzer):  # type: ignore[misc]
    """The French chain, configured by its parameters.

    ``FrenchTokenizer | FrenchLowercaseFilter | StopFlagFilter |
    AccentFoldFilter | OrdinalFilter | FrenchStemFilter``

    Args:
        stem: stem words (``False`` gives whole words).
        fold: fold accents and ligatures (``False`` keeps the exact accented
            spelling, lowercased: the "exact form" used to rank a match as
            written above a match through folding or stemming).
        drop_stop_words: leave stop words out (:class:`StopDropFilter`)
            instead of flagging them at query time (:class:`StopFlagFilter`).
        stop_words: lowercase stop words, checked before folding (an empty
            set: no stop words).
        elisions: lowercase, folded articles elided before an apostrophe
            (an empty set: no elision).
        stemmer: the :class:`Stemmer` to use when ``stem`` is true (default:
            Snowball French fitted to folded text, :class:`SnowballStemmer`).
        ordinals: spell ordinals one way (``13ème``, ``13 ème``, ``treizième``
            -> ``13e``); ``False`` keeps each as written.
        compounds: a compound (``États-Unis``, ``aujourd'hui``) gives its
            joined whole besides its parts; ``False``: the parts only.
        acronyms: a dotted acronym (``M.P.A.A.``) is one word (``mpaa``);
            ``False`` cuts it at the dots like a compound.
        split_apostrophes: a word with an apostrophe that is no elision
            (``prud'hommes``) is a compound; ``False`` keeps it whole.
        fused: run the chain fused (``False`` runs it filter by filter, as
            Whoosh runs any chain: same tokens, slower; for measurements).
        cache_size: words kept per cache before it starts over (the fold and
            stem steps keep twice as many forms).

    The analysis parameters are pickled with an index's schema (an index
    reopens with the analysis it was built with); ``fused`` and
    ``cache_size`` are not.

    Example:
        >>> FrenchAnalyzer().terms("Les pirates américains")
        ['le', 'pirat', 'americain']
        >>> FrenchAnalyzer(stem=False, fold=False).terms("Les pirates américains")
        ['les', 'pirates', 'américains']
        >>> FrenchAnalyzer(elisions=frozenset(), ordinals=False).terms("l’été du 13 ème")
        ['l', 'let', 'ete', 'du', '13', 'eme']
    """

    _run_fused: bool = True
    _cache_size: int = WORD_CACHE_SIZE

    def __init__(
        self,
        *,
        stem: bool = True,
        fold: bool = True,
        drop_stop_words: bool = False,
        stop_words: Collection[str] = FRENCH_STOP_WORDS,
        elisions: Collection[str] = ELISIONS,
        stemmer: Stemmer | None = None,
        ordinals: bool = True,
        compounds: bool = True,
        acronyms: bool = True,
        split_apostrophes: bool = True,
        fused: bool = True,
        cache_size: int = WORD_CACHE_SIZE,
    ) -> None:
        if stemmer is not None and not stem:
            raise ValueError("a stemmer was given with stem=False")
        if cache_size < 1:
            raise ValueError(f"cache_size must be at least 1, not {cache_size}")
        tokenizer = FrenchTokenizer(
            elisions=elisions,
            compounds=compounds,
            acronyms=acronyms,
            ordinals=ordinals,
            split_apostrophes=split_apostrophes,
        )
        stops = (StopDropFilter if drop_stop_words else StopFlagFilter)(stop_words=stop_words)
        items: list[Any] = [tokenizer, FrenchLowercaseFilter(), stops]
        if fold:
            items.append(AccentFoldFilter(cache_size=2 * cache_size))
        if ordinals:
            items.append(OrdinalFilter())
        if stem:
            items.append(FrenchStemFilter(stemmer=stemmer, cache_size=2 * cache_size))
        super().__init__(*items)
        if not fused:
            self._run_fused = False
        if cache_size != WORD_CACHE_SIZE:
            self._cache_size = cache_size

    # -- configuration ---------------------------------------------------------------

    @property
    def tokenizer(self) -> FrenchTokenizer:
        """The chain's tokenizer."""
        first = self.items[0]
        if not isinstance(first, FrenchTokenizer):
            raise TypeError(f"the chain starts with {first!r}, not a FrenchTokenizer")
        return first

    def exact_form(self) -> FrenchAnalyzer:
        """The analyzer of the exact-form field that goes with this one: the
        same words (tokenizer) and stop words, lowercased only (no folding, no
        stemming), stop words dropped.

        Example:
            >>> FrenchAnalyzer().exact_form() == FrenchAnalyzer(
            ...     stem=False, fold=False, drop_stop_words=True)
            True
        """
        words = self.tokenizer
        stops = next((i for i in self.items if hasattr(i, "stop_words")), None)
        return FrenchAnalyzer(
            stem=False,
            fold=False,
            drop_stop_words=True,
            stop_words=stops.stop_words if stops is not None else frozenset(),
            elisions=words.elisions,
            ordinals=words.ordinals,
            compounds=words.compounds,
            acronyms=words.acronyms,
            split_apostrophes=words.split_apostrophes,
        )

    @property
    def ordinals(self) -> bool:
        """Whether the chain spells ordinals one way (``13 ème`` is then one word too)."""
        return any(isinstance(item, OrdinalFilter) for item in self.items)

    @property
    def fused(self) -> bool:
        """Whether the chain runs fused (and :meth:`term_positions` answers).

        It does, unless built with ``fused=False``, when it is a
        :class:`FrenchTokenizer` followed by the filters of this package only:
        a word's tokens then depend on the word and the mode alone.
        """
        return self._plan().fused

    def __getstate__(self) -> dict[str, Any]:
        """Pickled (in an index's schema) as its chain: no cache, no runtime setting."""
        return {"items": self.items}

    def clean(self) -> None:
        """Forget every cached word (Whoosh's ``clean`` protocol)."""
        self.__dict__.pop("_plan_", None)
        super().clean()

    def _plan(self) -> _Plan:
        plan: _Plan | None = self.__dict__.get("_plan_")
        if plan is None:
            plan = self.__dict__.setdefault("_plan_", _Plan(self, self._cache_size))
        return plan

    # -- one word through the chain, cached ----------------------------------------------

    def _analyse_word(self, raw: str, mode: str, no_morph: bool) -> _Word:
        """One word's tokens: the tokenizer's split, then each filter's step in
        the chain's order, as the chain's generators would apply them."""
        plan = self._plan()
        steps = plan.chains[no_morph] or ()
        width, parts = plan.split(raw)
        entries: list[Entry] = []
        for surface, compound, a, b, p in parts:
            text, stopped = surface, False
            for step in steps:
                out = step(text, stopped, mode)
                if out is None:
                    break  # a dropped token
                text, stopped = out
            else:
                entries.append((text, stopped, compound, a, b, p))
        # Positions the word takes: its tokenizer's, whatever filters dropped.
        return width, tuple(entries)

    def _words(self, mode: str, no_morph: bool = False) -> _WordTable[_Word]:
        plan = self._plan()
        table = plan.words.get((mode, no_morph))
        if table is None:
            table = _WordTable(plan.size, lambda raw: self._analyse_word(raw, mode, no_morph))
            table = plan.words.setdefault((mode, no_morph), table)
        return table

    def _encode(self, raw: str) -> _IndexTerms:
        # Not kept in the word cache too: indexing needs only this table (and
        # a writer's word cache is empty, so it is not looked in first).
        # _analyse_word(raw, "index", False)'s texts, without its stop flags
        # (a stop step changes no text at index time; one drops, or does not).
        plan = self._plan()
        width, parts = plan.split(raw)
        pairs: list[tuple[bytes, int]] = []
        for part in parts:
            text = part[0]
            for step in plan.index_steps:
                found = step(text)
                if found is None:
                    break
                text = found
            else:
                pairs.append((text.encode(), part[4]))
        single = pairs[0][0] if width == 1 and len(pairs) == 1 and pairs[0][1] == 0 else None
        return width, tuple(pairs), tuple(term for term, _ in pairs), single

    # -- outputs ---------------------------------------------------------------------------

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

        Fused when it can be (see :attr:`fused`); otherwise, and for
        ``tokenize=False``, the plain Whoosh chain.
        """
        if not tokenize or self._plan().chains[no_morph] is None:
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
        return self._fused(value, token, no_morph, start_pos, start_char)

    def _fused(
        self, value: str, t: Token, no_morph: bool, start_pos: int, start_char: int
    ) -> Iterator[Token]:
        matches = list(self._plan().finditer(value))
        raws: list[str] = list(map(_GROUP, matches))
        words = self._words(t.mode, no_morph).many(raws)
        t.compound = False
        t.boost = 1.0
        for match, raw, (_, entries), pos in zip(
            matches, raws, words, word_positions(words, start_pos), strict=False
        ):
            base = start_char + match.start()
            t.surface = raw
            for text, stopped, compound, a, b, p in entries:
                t.text = text
                t.stopped = stopped
                t.compound = compound
                t.pos = pos + p
                t.startchar = base + a
                t.endchar = base + b
                yield t

    def _views(self, text: str, mode: str) -> list[TokenView]:
        """The fused tokens of ``text`` as views."""
        plan = self._plan()
        matches = list(plan.finditer(text))
        raws: list[str] = list(map(_GROUP, matches))
        table = plan.words.get((mode, False)) or self._words(mode)
        words = table.many(raws)
        out: list[TokenView] = []
        for match, raw, (_, entries), pos in zip(
            matches, raws, words, word_positions(words), strict=False
        ):
            base = match.start()
            for term, stopped, compound, a, b, p in entries:
                out.append(TokenView(term, pos + p, base + a, base + b, raw, stopped, compound))
        return out

    def _pieces(self, pieces: set[str], mode: str) -> _Pieces:
        """The pieces of text met so far and their terms, ``pieces`` among them."""
        plan = self._plan()
        found = plan.pieces.get(mode)
        if found is None:
            found = plan.pieces.setdefault(mode, _Pieces())
        new = pieces - found.known
        if not new:
            return found
        if len(found.known) + len(new) > plan.size:  # start over, with these pieces
            found = plan.pieces[mode] = _Pieces()
            new = pieces
        table = self._words(mode)
        by_term, width, across = found.by_term, found.width, plan.across
        for piece in new:
            matches = list(plan.finditer(piece))
            words = table.many(list(map(_GROUP, matches)))
            width[piece] = sum(w for w, _ in words)
            if any(entries for _, entries in words):
                found.words[piece] = tuple(
                    (m.group(), m.start(), w) for m, w in zip(matches, words, strict=True)
                )
            for _, entries in words:
                for entry in entries:
                    holding = by_term.get(entry[0])
                    if holding is None:
                        holding = by_term.setdefault(entry[0], set())
                    holding.add(piece)
            if across is not None and across.match(piece):
                found.across.add(piece)
        found.known |= new  # after their terms and widths: see _Pieces
        return found

    def _matching(self, text: str, mode: str, wanted: Collection[str]) -> list[Matched]:
        """The tokens of :meth:`_views` whose term is in ``wanted``, in order, as tuples.

        The same tokens, found with set operations: the text is cut at its
        blanks (no word holds one, see :attr:`FrenchTokenizer.across_blanks`),
        and the distinct pieces holding a word that gives one of ``wanted``
        are looked up (see :class:`_Pieces`); only their occurrences are
        walked in Python, not every word of the text.
        """
        plan = self._plan()
        pieces = text.split()
        distinct = set(pieces)
        index = self._pieces(distinct, mode)
        if index.across and not distinct.isdisjoint(index.across):  # 13 ème: word by word
            return [_matched(t) for t in self._views(text, mode) if t.text in wanted]
        hits: set[str] = set()
        for term in wanted:
            holding = index.by_term.get(term)
            if holding:
                hits |= distinct.intersection(holding)
        if not hits:
            return []
        at = list(compress(count(), map(hits.__contains__, pieces)))  # the pieces to show
        positions = list(accumulate(map(index.width.__getitem__, pieces[: at[-1]]), initial=0))
        find, size, words = text.find, len(text), index.words
        out: list[Matched] = []
        start = end = 0
        for i in at:
            piece = pieces[i]
            # The first occurrence after the last piece shown that stands
            # between blanks: an earlier one would be a piece shown before it.
            start = find(piece, end)
            if (start and not text[start - 1].isspace()) or (
                start + len(piece) < size and not text[start + len(piece)].isspace()
            ):  # inside a longer piece ("de" in "demande"): let re look
                found = plan.alone.get_or_compute(piece, _alone).search(text, end)
                if found is None:  # cannot be: the piece is one of the text's
                    raise RuntimeError(f"{piece!r} not found between blanks after {end}")
                start = found.start()
            end = start + len(piece)
            pos = positions[i]
            for raw, at_piece, (width, entries) in words[piece]:
                base = start + at_piece
                for term, stopped, compound, a, b, p in entries:
                    if term in wanted:
                        out.append((term, pos + p, base + a, base + b, raw, stopped, compound))
                pos += width
        return out

    def terms(self, text: str) -> list[str]:
        """The index terms of ``text``, in order (stop words included).

        >>> FrenchAnalyzer().terms("Les salariés du 13ème")
        ['le', 'salari', 'du', '13e']
        """
        return [t.text for t in self(normalize_text(text), mode="index")]

    def tokens(self, text: str, mode: str = "query") -> list[TokenView]:
        """Tokens of ``text`` as plain values with offsets into ``text``.

        ``text`` must already be NFC (see :func:`normalize_text`) for the
        offsets to point into what the caller holds. Short texts (query
        words) are cached.

        >>> [(t.text, t.start, t.end, t.stopped) for t in FrenchAnalyzer().tokens("l’été")]
        [('ete', 2, 5, False)]
        """
        plan = self._plan()
        if not plan.fused:
            return [
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
        if len(text) > TOKENS_CACHE_CHARS:
            return self._views(text, mode)
        views = plan.views
        found = views.get((mode, text))
        if found is None:
            found = views.put((mode, text), tuple(self._views(text, mode)))
        return list(found)

    def matching_tokens(
        self, text: str, terms: Collection[str], mode: str = "index"
    ) -> list[TokenView]:
        """The tokens of :meth:`tokens` whose term is in ``terms``, in order.

        No view is built for the other tokens (see :meth:`matches`).

        >>> [(t.text, t.start) for t in FrenchAnalyzer().matching_tokens("Le juge juge", {"jug"})]
        [('jug', 3), ('jug', 8)]
        """
        if not self._plan().fused:
            return [t for t in self.tokens(text, mode) if t.text in terms]
        return [TokenView(*m) for m in self._matching(text, mode, terms)]

    def matches(self, text: str, terms: Collection[str], mode: str = "index") -> list[Matched]:
        """The tokens of :meth:`matching_tokens` as plain tuples, in the order
        of :class:`TokenView`'s fields: what highlighting reads, with no
        object made per token.

        >>> FrenchAnalyzer().matches("Le juge juge", {"jug"})
        [('jug', 1, 3, 7, 'juge', False, False), ('jug', 2, 8, 12, 'juge', False, False)]
        """
        if not self._plan().fused:
            return [_matched(t) for t in self.tokens(text, mode) if t.text in terms]
        return self._matching(text, mode, terms)

    def term_positions(
        self, text: str, words: list[str] | None = None
    ) -> dict[bytes, list[int]] | None:
        """Each index term of ``text`` (UTF-8, as Whoosh stores it) and its positions.

        What indexing a field needs, without a token object per word: the
        same terms and positions as ``self(text, mode="index")``. ``None``
        when the chain does not run fused (see :attr:`fused`). ``words``:
        the words of ``text`` as :meth:`FrenchTokenizer.words
        <searchlib.analysis.FrenchTokenizer.words>` of this analyzer's
        tokenizer finds them, from a caller that has them already (another
        field of the same text).

        >>> FrenchAnalyzer().term_positions("Le juge, les juges")
        {b'le': [0, 2], b'jug': [1, 3]}
        """
        plan = self._plan()
        if not plan.fused:
            return None
        found = plan.index_terms.many(plan.findall(text) if words is None else words)
        singles = list(map(_SINGLE, found))
        # Runs of words of one token each (word n of a run is at position n
        # plus the shift the words before the run make), then each other word.
        others = list(compress(count(), map(not_, singles)))
        out: dict[bytes, list[int]] = {}
        first = shift = 0
        for end in [*others, len(singles)]:
            for pos, term in enumerate(singles[first:end], first + shift):
                at = out.get(term)
                if at is None:
                    out[term] = [pos]
                else:
                    at.append(pos)
            if end == len(singles):
                break
            width, pairs, _, _ = found[end]
            for term, p in pairs:
                at = out.get(term)
                if at is None:
                    out[term] = [end + shift + p]
                else:
                    at.append(end + shift + p)
            shift += width - 1
            first = end + 1
        return out

    def term_counts(self, text: str, words: list[str] | None = None) -> dict[bytes, int] | None:
        """Each index term of ``text`` (UTF-8) and how many times it occurs:
        :meth:`term_positions` without the positions (what a field without
        phrases indexes), counted with no Python step per word. ``words`` as
        for :meth:`term_positions`.

        >>> FrenchAnalyzer().term_counts("Le juge, les juges")
        {b'le': 2, b'jug': 2}
        """
        plan = self._plan()
        if not plan.fused:
            return None
        found = plan.index_terms.many(plan.findall(text) if words is None else words)
        return Counter(chain.from_iterable(map(_TERMS, found)))

    @property
    def word_pattern(self) -> re.Pattern[str]:
        """What the tokenizer finds as one word (see :meth:`FrenchTokenizer.words
        <searchlib.analysis.FrenchTokenizer.words>`): two analyzers with the same
        pattern cut a text into the same words."""
        return self.tokenizer.pattern

    def stages(self, text: str) -> list[StageView]:
        """Each token of ``text`` through each step of the chain (the debug view).

        Every token the tokenizer makes is shown, stop words included (the
        ``stopword`` flag says whether a stop step knows it).

        >>> (s,) = FrenchAnalyzer().stages("L’Œuvres")
        >>> s.elided, s.lowercase, s.folded, s.stem, s.steps[-1]
        ('Œuvres', 'œuvres', 'oeuvres', 'oeuvr', ('stem', 'oeuvr'))
        """
        tokenizer = self.tokenizer
        filters = [f for f in self.items[1:] if isinstance(f, (TextFilter, StopFilter))]
        matches = tokenizer.matches(text)
        out: list[StageView] = []
        splits = [tokenizer.split(m.group()) for m in matches]
        for match, (_, parts), pos in zip(matches, splits, word_positions(splits), strict=False):
            for elided, compound, a, b, p in parts:
                current, stopword = elided, False
                folded: str | None = None
                steps: list[tuple[str, str]] = []
                for f in filters:
                    if isinstance(f, StopFilter):
                        stopword = stopword or f.is_stop(current)
                        continue
                    if isinstance(f, FrenchStemFilter) and folded is None:
                        folded = current
                    current = f.transform(current)
                    steps.append((f.stage, current))
                out.append(
                    StageView(
                        surface=match.group(),
                        elided=elided,
                        lowercase=next((s for k, s in steps if k == "lowercase"), elided),
                        folded=current if folded is None else folded,
                        stem=current,
                        stopword=stopword,
                        compound=compound,
                        pos=pos + p,
                        start=match.start() + a,
                        end=match.start() + b,
                        steps=tuple(steps),
                    )
                )
        return out


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


def _alone(piece: str) -> re.Pattern[str]:
    """``piece`` between blanks (or the ends of the text)."""
    return re.compile(rf"(?<!\S){re.escape(piece)}(?!\S)")


def _matched(t: TokenView) -> Matched:
    return (t.text, t.pos, t.start, t.end, t.surface, t.stopped, t.compound)


@dataclass(frozen=True, slots=True)
class StageView:
    """One token as each step of the chain leaves it (for ``analyze`` tools).

    ``folded`` is the text before stemming (after folding and ordinals),
    ``stem`` the term indexed; ``steps`` lists every text step with its
    output, in the chain's order.
    """

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
    steps: tuple[tuple[str, str], ...] = ()
