"""The steps of the French chain: what each one does to a token's text.

Each filter is one step, and that step is written once:

* a *text step* (:class:`FrenchLowercaseFilter`, :class:`AccentFoldFilter`,
  :class:`OrdinalFilter`, :class:`FrenchStemFilter`) defines
  :meth:`~TextFilter.transform`, the new text of a token;
* a *stop step* (:class:`StopFlagFilter`, :class:`StopDropFilter`) defines
  :meth:`~StopFilter.is_stop`, and flags or drops the token.

:meth:`~StepFilter.step` applies either to one token (text, stop flag, mode):
the filters' Whoosh interface, the analyzer's fused paths and its debug view
(:meth:`~searchlib.analysis.FrenchAnalyzer.stages`) all go through it or
through ``transform``/``is_stop``. Filters never change offsets, so highlights
point into the stored original.

Stemming goes through a :class:`Stemmer`: anything with ``stem(word) -> str``;
:class:`SnowballStemmer` is the default.

Example:
    >>> [f.transform(w) for f, w in [(AccentFoldFilter(), "œuvrée"), (OrdinalFilter(), "13eme")]]
    ['oeuvree', '13e']
    >>> StopFlagFilter().step("les", False, "query"), StopDropFilter().step("les", False, "index")
    (('les', True), None)
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Collection, Iterator
from typing import Any, ClassVar, Protocol

import snowballstemmer
from whoosh.analysis import Filter, Token

from searchlib._cache import BoundedCache
from searchlib.analysis._configured import Configured
from searchlib.analysis.lexicon import IRREGULAR_FORMS, ORDINAL_WORDS
from searchlib.analysis.stopwords import FRENCH_STOP_WORDS
from searchlib.analysis.tokenizer import fold

STEP_CACHE_SIZE = 100_000
"""Words whose folded or stemmed form a filter keeps before its cache starts
over. The analyzer's word caches come first; these serve the words they miss."""

_ORDINAL = re.compile(r"(\d+)(?:e|eme|ieme|er|ere|nd|nde|de|d)s?")


class StepFilter(Configured, Filter):  # type: ignore[misc]
    """A filter that maps each token on its own, by :meth:`step`."""

    stage: ClassVar[str] = ""
    """The step's name in the analyzer's debug view."""

    def step(self, text: str, stopped: bool, mode: str) -> tuple[str, bool] | None:
        """The new text and stop flag of a token (``None``: the token is dropped)."""
        raise NotImplementedError

    def index_text(self) -> Callable[[str], str | None] | None:
        """What :meth:`step` does to a token's text in ``"index"`` mode, as a
        function of the text alone (``None`` from it: the token is dropped),
        or ``None`` when the step leaves every text as it is there: what the
        analyzer's index terms need, which read no stop flag.

        >>> StopDropFilter().index_text()("les"), FrenchLowercaseFilter().index_text()("Juge")
        (None, 'juge')
        """

        def text(value: str) -> str | None:
            found = self.step(value, False, "index")
            return None if found is None else found[0]

        return text

    def __call__(self, tokens: Iterator[Token]) -> Iterator[Token]:
        step = self.step
        for t in tokens:
            found = step(t.text, t.stopped, t.mode)
            if found is not None:
                t.text, t.stopped = found
                yield t


class TextFilter(StepFilter):
    """A step that changes a token's text only, the same in every mode."""

    def transform(self, text: str) -> str:
        """The new text."""
        raise NotImplementedError

    def step(self, text: str, stopped: bool, mode: str) -> tuple[str, bool] | None:
        return self.transform(text), stopped

    def index_text(self) -> Callable[[str], str | None] | None:
        return self.transform


class StopFilter(StepFilter):
    """A step that knows stop words (lowercase, checked before accent folding).

    Args:
        stop_words: the stop words (default
            :data:`~searchlib.analysis.stopwords.FRENCH_STOP_WORDS`).
    """

    stage = "stop"
    _fields = ("stop_words",)
    stop_words: frozenset[str] = FRENCH_STOP_WORDS

    def __init__(self, *, stop_words: Collection[str] = FRENCH_STOP_WORDS) -> None:
        self.stop_words = frozenset(stop_words)

    def is_stop(self, text: str) -> bool:
        """Whether ``text`` is a stop word."""
        return text in self.stop_words


class FrenchLowercaseFilter(TextFilter):
    """Lowercase token text."""

    stage = "lowercase"

    def transform(self, text: str) -> str:
        return text.lower()

    def index_text(self) -> Callable[[str], str | None] | None:
        return str.lower


class StopFlagFilter(StopFilter):
    """Flag stop words (``token.stopped``) at query time; never drops a token.

    At index time stop words are indexed like any word, so phrases and
    all-stop-word queries (``les pas``, ``l'été``) still match; the query
    builder decides whether to use flagged terms.
    """

    def step(self, text: str, stopped: bool, mode: str) -> tuple[str, bool] | None:
        return text, mode == "query" and self.is_stop(text)

    def index_text(self) -> Callable[[str], str | None] | None:
        return None  # flags only, and only at query time


class StopDropFilter(StopFilter):
    """Drop stop words, at index and query time alike.

    For a field that serves no phrase and no all-stop-word query: the exact
    forms field, whose bonus a stop word never gets (a query drops its stop
    words when it has other words).
    """

    def step(self, text: str, stopped: bool, mode: str) -> tuple[str, bool] | None:
        return None if self.is_stop(text) else (text, False)

    def index_text(self) -> Callable[[str], str | None] | None:
        stop_words = self.stop_words

        def text(value: str) -> str | None:
            return None if value in stop_words else value

        return text


class _CachedTextFilter(TextFilter):
    """A text step whose results are kept in a bounded cache of its own."""

    cache_size: int = STEP_CACHE_SIZE

    def _cache(self) -> BoundedCache[str, str]:
        cache: BoundedCache[str, str] | None = self.__dict__.get("_memo")
        if cache is None:
            cache = self.__dict__.setdefault("_memo", BoundedCache(self.cache_size, evict="clear"))
        return cache

    def clean(self) -> None:
        """Forget the cached results."""
        self.__dict__.pop("_memo", None)


class AccentFoldFilter(_CachedTextFilter):
    """Fold accents and ligatures with unidecode (:func:`fold`); ``’`` becomes ``'``."""

    stage = "fold"

    def __init__(self, *, cache_size: int = STEP_CACHE_SIZE) -> None:
        self.cache_size = cache_size

    def transform(self, text: str) -> str:
        return text if text.isascii() else self._cache().get_or_compute(text, fold)


def normalize_ordinal(text: str) -> str:
    """Spell ordinals one way: ``13eme``, ``13ème``, ``13e``, ``treizième`` -> ``13e``;
    ``1er``, ``premier`` -> ``1e`` (on lowercase, folded text).

    >>> normalize_ordinal("13eme"), normalize_ordinal("2nd"), normalize_ordinal("2007")
    ('13e', '2e', '2007')
    >>> normalize_ordinal("treizieme"), normalize_ordinal("premieres")
    ('13e', '1e')
    """
    if text[:1].isdigit():
        if text.isdigit():
            return text
        m = _ORDINAL.fullmatch(text)
        return f"{m.group(1)}e" if m else text
    return ORDINAL_WORDS.get(text, text)


class OrdinalFilter(TextFilter):
    """Spell folded ordinals one way (:func:`normalize_ordinal`)."""

    stage = "ordinal"

    def transform(self, text: str) -> str:
        return normalize_ordinal(text)

    def index_text(self) -> Callable[[str], str | None] | None:
        return normalize_ordinal


class Stemmer(Protocol):
    """What stems words: ``stem(word)`` on a lowercase (and usually folded) word."""

    def stem(self, word: str) -> str:
        """The stem of ``word``."""
        ...


class SnowballStemmer(Configured):
    """Snowball French (PyStemmer's C code when installed), fitted to folded text.

    Snowball's French rules expect accents; on folded text two gaps are
    closed first: irregular plurals (:data:`~searchlib.analysis.lexicon.IRREGULAR_FORMS`)
    and feminine past participles (``-ee(s)`` -> ``-e(s)``: ``fermee`` stems
    like ``ferme``, as ``fermée`` would).

    Each thread gets its own Snowball object (they keep state while they
    work); they are made on first use and never pickled.

    Args:
        folded_fixes: close those two gaps (``False``: plain Snowball).

    Example:
        >>> s = SnowballStemmer()
        >>> s.stem("americains"), s.stem("fermees"), s.stem("travaux")
        ('americain', 'ferm', 'travail')
        >>> SnowballStemmer(folded_fixes=False).stem("fermees")
        'ferme'
    """

    _fields = ("folded_fixes",)
    folded_fixes: bool = True

    def __init__(self, *, folded_fixes: bool = True) -> None:
        self.folded_fixes = folded_fixes

    def stem(self, word: str) -> str:
        base = word
        if self.folded_fixes:
            base = IRREGULAR_FORMS.get(word, word)
            if len(base) > 4 and base.endswith(("ee", "ees")):
                base = base[:-2] + "e" if base.endswith("ee") else base[:-3] + "es"
        local: threading.local | None = self.__dict__.get("_local")
        if local is None:
            local = self.__dict__.setdefault("_local", threading.local())
        native: Any = getattr(local, "stemmer", None)
        if native is None:
            native = local.stemmer = snowballstemmer.stemmer("french")
        result: str = native.stemWord(base)
        return result


def stem(word: str) -> str:
    """Snowball French stem of one lowercase, accent-folded word (:class:`SnowballStemmer`).

    For a one-off word: it makes a stemmer each time and caches nothing (an
    analyzer's stem filter keeps its stemmer and a cache).

    >>> stem("americains"), stem("telechargement"), stem("fermees"), stem("travaux")
    ('americain', 'telecharg', 'ferm', 'travail')
    """
    return SnowballStemmer().stem(word)


class FrenchStemFilter(_CachedTextFilter):
    """Stem token text with a :class:`Stemmer`, cached.

    Args:
        stemmer: the stemmer (default: a :class:`SnowballStemmer` of its own).
            It is pickled with the index's schema: give one that pickles, of a
            class the index reader allows (``searchlib.*``).
        cache_size: stems kept before the cache starts over.
    """

    stage = "stem"
    is_morph = True
    _fields = ("stemmer",)
    stemmer: Stemmer | None = None

    def __init__(
        self, *, stemmer: Stemmer | None = None, cache_size: int = STEP_CACHE_SIZE
    ) -> None:
        # The default stemmer given explicitly is the default: it pickles as such.
        self.stemmer = None if stemmer == SnowballStemmer() else stemmer
        self.cache_size = cache_size

    def _stem(self) -> Stemmer:
        if self.stemmer is not None:
            return self.stemmer
        own: Stemmer | None = self.__dict__.get("_own")
        if own is None:
            own = self.__dict__.setdefault("_own", SnowballStemmer())
        return own

    def transform(self, text: str) -> str:
        cache = self._cache()
        found = cache.get(text)
        return found if found is not None else cache.put(text, self._stem().stem(text))
