"""French text analysis: from a stored text to the terms an index holds.

An analyzer is a Whoosh chain, a value that prints and compares::

    FrenchTokenizer | FrenchLowercaseFilter | StopFlagFilter
        | AccentFoldFilter | OrdinalFilter | FrenchStemFilter

* the tokenizer cuts the NFC text into words and records their offsets and
  positions: elided articles (``l'``, ``jusqu'``) come off, hyphenated compounds
  give their parts and the joined whole, dotted acronyms become plain words;
* each filter changes only ``token.text`` (never offsets, so highlights point
  into the stored original): lowercase, mark stop words, fold accents
  (unidecode), spell ordinals one way, stem (Snowball French);
* :class:`FrenchAnalyzer` builds the chain from its parameters and runs it
  *fused*: each distinct word goes through the chain once and its tokens are
  replayed for every occurrence.

Modules: :mod:`~searchlib.analysis.analyzer` (tokenizer, filters, analyzer),
:mod:`~searchlib.analysis.stopwords` and :mod:`~searchlib.analysis.lexicon`
(French word lists).

The classes of the chain are pickled into every index's schema under the
names ``searchlib.analysis.<Class>``: those names are persisted API.

Example:
    >>> FrenchAnalyzer().terms("L’URL de la Cour fédérale")
    ['url', 'de', 'la', 'cour', 'federal']
"""

from searchlib.analysis.analyzer import (
    ANALYZER_VERSION,
    APOSTROPHES,
    ELISIONS,
    PERSISTED_CLASSES,
    AccentFoldFilter,
    FrenchAnalyzer,
    FrenchLowercaseFilter,
    FrenchStemFilter,
    FrenchTokenizer,
    OrdinalFilter,
    StageView,
    StopDropFilter,
    StopFlagFilter,
    TokenView,
    fold,
    normalize_text,
    stem,
)
from searchlib.analysis.stopwords import FRENCH_STOP_WORDS

__all__ = [
    "ANALYZER_VERSION",
    "APOSTROPHES",
    "ELISIONS",
    "FRENCH_STOP_WORDS",
    "PERSISTED_CLASSES",
    "AccentFoldFilter",
    "FrenchAnalyzer",
    "FrenchLowercaseFilter",
    "FrenchStemFilter",
    "FrenchTokenizer",
    "OrdinalFilter",
    "StageView",
    "StopDropFilter",
    "StopFlagFilter",
    "TokenView",
    "fold",
    "normalize_text",
    "stem",
]
