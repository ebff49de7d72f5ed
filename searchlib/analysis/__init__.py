"""French text analysis: from a stored text to the terms an index holds.

An analyzer is a Whoosh chain, a value that prints, compares and pickles::

    FrenchTokenizer | FrenchLowercaseFilter | StopFlagFilter
        | AccentFoldFilter | OrdinalFilter | FrenchStemFilter

* :mod:`~searchlib.analysis.tokenizer`: the tokenizer finds the words of the
  NFC text and splits each into tokens with offsets and positions: elided
  articles (``l'``, ``jusqu'``) come off, hyphenated compounds give their
  parts and the joined whole, dotted acronyms become plain words;
* :mod:`~searchlib.analysis.filters`: each filter is one step that changes
  only ``token.text`` (never offsets, so highlights point into the stored
  original): lowercase, stop words (flagged at query time, or dropped), fold
  accents (unidecode), spell ordinals one way, stem (a :class:`Stemmer`,
  Snowball French by default);
* :mod:`~searchlib.analysis.analyzer`: :class:`FrenchAnalyzer` builds the
  chain from its parameters (each step on or off, its word lists, its
  stemmer) and runs it *fused*: each distinct word goes through the chain
  once, its tokens are cached by the analyzer and replayed for every
  occurrence;
* :mod:`~searchlib.analysis.stopwords` and :mod:`~searchlib.analysis.lexicon`:
  French word lists.

The classes of the chain are pickled into every index's schema under the
names ``searchlib.analysis.<Class>``: those names are persisted API. A chain
in its default configuration pickles as it did before the classes took
parameters; older indexes read back with the defaults.

Example:
    >>> FrenchAnalyzer().terms("L’URL de la Cour fédérale")
    ['url', 'de', 'la', 'cour', 'federal']
    >>> FrenchAnalyzer(stop_words=frozenset()).tokens("la cour")[0].stopped
    False
"""

from searchlib.analysis.analyzer import (
    ANALYZER_VERSION,
    WORD_CACHE_SIZE,
    FrenchAnalyzer,
    StageView,
    TokenView,
)
from searchlib.analysis.filters import (
    AccentFoldFilter,
    FrenchLowercaseFilter,
    FrenchStemFilter,
    OrdinalFilter,
    SnowballStemmer,
    Stemmer,
    StopDropFilter,
    StopFlagFilter,
    normalize_ordinal,
    stem,
)
from searchlib.analysis.stopwords import FRENCH_STOP_WORDS
from searchlib.analysis.tokenizer import (
    APOSTROPHES,
    ELISIONS,
    FrenchTokenizer,
    fold,
    normalize_text,
)

__all__ = [
    "ANALYZER_VERSION",
    "APOSTROPHES",
    "ELISIONS",
    "FRENCH_STOP_WORDS",
    "PERSISTED_CLASSES",
    "WORD_CACHE_SIZE",
    "AccentFoldFilter",
    "FrenchAnalyzer",
    "FrenchLowercaseFilter",
    "FrenchStemFilter",
    "FrenchTokenizer",
    "OrdinalFilter",
    "SnowballStemmer",
    "StageView",
    "Stemmer",
    "StopDropFilter",
    "StopFlagFilter",
    "TokenView",
    "fold",
    "normalize_ordinal",
    "normalize_text",
    "stem",
]

PERSISTED_CLASSES = (
    "FrenchTokenizer",
    "FrenchLowercaseFilter",
    "StopFlagFilter",
    "StopDropFilter",
    "AccentFoldFilter",
    "OrdinalFilter",
    "FrenchStemFilter",
    "SnowballStemmer",
    "FrenchAnalyzer",
)
"""The classes of the chain that an index's schema pickles.

They keep the names they were first persisted under,
``searchlib.analysis.<Class>``, whatever module defines them, so indexes
written before the package was split open; the storage admits exactly these
(see :func:`searchlib._whoosh.storage.persisted`)."""

for _name in PERSISTED_CLASSES:
    globals()[_name].__module__ = "searchlib.analysis"
del _name
