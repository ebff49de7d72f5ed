"""Index settings and mappings for OpenSearch, generated from searchlib's own definitions.

Nothing here is written by hand twice: the article list is
:data:`~searchlib.analysis.ELISIONS`, the stop words
:data:`~searchlib.analysis.FRENCH_STOP_WORDS`, the ordinals and irregular
forms come from :mod:`searchlib.analysis.lexicon`, the BM25 parameters from
:class:`~searchlib.ranking.params.Ranking`.

searchlib's French chain (:class:`~searchlib.analysis.FrenchAnalyzer`) becomes a
custom analyzer of OpenSearch's built-in components, read top to bottom::

    searchlib_transliterate     Greek, Cyrillic, ª µ º, Roman numerals as unidecode
                                folds them (before the tokenizer: letters for letters)
    pattern tokenizer           the tokenizer's word pattern, in Java syntax
    searchlib_spaced_ordinal    "13 ème" -> "13ème"
    searchlib_acronym           "M.P.A.A" -> "MPAA" (only a whole dotted acronym)
    searchlib_numbers           "3,5", "1.000": marked keywords, never split
    searchlib_apostrophe        "ʼ" -> "'" (the elision filter knows ' and ’)
    searchlib_elision (twice)   searchlib's articles, any case
    searchlib_nonempty          drops what elision emptied ("lʼ")
    searchlib_compounds         word_delimiter_graph: parts of États-Unis and the
                                joined whole at the first part's position
    lowercase, asciifolding
    searchlib_ordinal_digits    "13eme", "1er", "2nd" -> "13e", "1e", "2e"
    searchlib_lexicon           stemmer_override: ordinal words and irregular
                                plurals to their final stem (marked keywords)
    searchlib_feminine          "fermee(s)" -> "ferme(s)", as searchlib does before
                                stemming folded words
    snowball French

Stop words are indexed (searchlib drops them from queries, not from the
index); the ``exact`` field's analyzer drops them, keeps accents and does not
stem, as searchlib's exact-forms field does. The few places where Lucene's
components differ from searchlib's Python (``asciifolding`` next to unidecode
for non-Latin scripts, an elision repeated more than twice) are measured in
``benchmarks/studies/lucene``.

Example:
    >>> body = index_body(Ranking(), declared=[MetadataField("year", "number")])
    >>> body["mappings"]["properties"]["text"]["analyzer"]
    'searchlib_french'
    >>> body["settings"]["index"]["similarity"]["searchlib_text"]["k1"]
    0.9
    >>> body["mappings"]["properties"]["fields"]["properties"]["year"]
    {'type': 'double'}
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from searchlib._version import __version__
from searchlib.analysis import ANALYZER_VERSION, ELISIONS, FRENCH_STOP_WORDS, fold, stem
from searchlib.analysis.lexicon import IRREGULAR_FORMS, ORDINAL_WORDS
from searchlib.analysis.tokenizer import INVISIBLE
from searchlib.documents import PASSAGE_CHARS
from searchlib.ranking.params import Ranking

FORMAT_VERSION = 1
"""Version of the document layout searchlib writes into an OpenSearch index."""

ANALYZER = "searchlib_french"
"""The analyzer of the ``title`` and ``text`` fields."""

EXACT_ANALYZER = "searchlib_exact"
"""The analyzer of the ``exact`` field (title and text, as written, without stop words)."""

TERMS_ANALYZER = "searchlib_terms"
"""Splits on spaces only: for phrases made of terms searchlib already analysed."""

FieldType = Literal["keyword", "number", "date"]
FIELD_TYPES: tuple[str, ...] = ("keyword", "number", "date")

# -- the tokenizer's pattern, in Java syntax ------------------------------------------
# The same alternatives as searchlib.analysis.analyzer._WORD, with Python's
# Unicode classes spelled as Java's: [^\W_] (str.isalnum) is [\p{L}\p{N}],
# [^\W\d_] is [\p{L}\p{Nl}\p{No}], \d is \p{Nd}.
_ALNUM = r"[\p{L}\p{N}]"
_LETTER = r"[\p{L}\p{Nl}\p{No}]"
_DIGIT = r"\p{Nd}"
_APOSTROPHES = "'’ʼ"
_CONNECT = rf"(?:[-{_APOSTROPHES}]|(?<={_DIGIT})[.,](?={_DIGIT})|\.(?={_ALNUM}))"
_SPACED_ORDINAL = (
    rf"{_DIGIT}+ (?iu:ièmes?|iemes?|èmes?|emes?|e|er|ère|ere)(?!{_ALNUM}|[-.{_APOSTROPHES}])"
)
WORD_PATTERN = rf"{_SPACED_ORDINAL}|{_ALNUM}+(?:{_CONNECT}{_ALNUM}+)*"
"""The tokenizer's word pattern (Java regular expression)."""

# A token that is a whole dotted acronym (L.L.L): each of its dots goes.
_ACRONYM_DOT = rf"(?<=^{_LETTER}(?:\.{_LETTER}){{0,255}})\.(?={_LETTER}(?:\.{_LETTER})*$)"
_NUMBER = rf"^{_DIGIT}+(?:[.,]{_DIGIT}+)+$"
_ORDINAL_DIGITS = rf"^({_DIGIT}+)(?:e|eme|ieme|er|ere|nd|nde|de|d)s?$"
# stem(): a folded word of 5 letters or more ending in -ee or -ees loses one e.
_FEMININE = r"^(?=.{5,}$)(.*e)e(s?)$"
# Snowball 3's French rules that Lucene's Snowball (an earlier release) lacks,
# written as rewrites before it: -oux after b h j l n p is -ou; -aise(s) goes
# like -ais (unless after an e), but not in the words Snowball 3 keeps whole
# (one letter then -al-, or -auv-: palais, calaise, mauvaises), which end as
# -ais and are marked keywords.
_SNOWBALL3_OUX = r"^(.*[bhjlnp])oux$"
_SNOWBALL3_KEPT = r"^(.al|.*auv)ais(?:es?)?$"
_SNOWBALL3_KEPT_MARK = r"^(?:.al|.*auv)ais$"
_SNOWBALL3_AISE = r"^(.*[^e])aises?$"


class DeclaredField(Protocol):
    """A metadata field declared for filters, facets and sorting.

    Any object with these three attributes will do (searchlib's own
    metadata-field declarations, or :class:`MetadataField`).
    """

    @property
    def name(self) -> str:
        """The key of the field in :attr:`Document.fields <searchlib.Document.fields>`."""
        ...

    @property
    def type(self) -> str:
        """``"keyword"``, ``"number"`` or ``"date"``."""
        ...

    @property
    def multiple(self) -> bool:
        """Whether a document may give a list of values."""
        ...


@dataclass(frozen=True, slots=True)
class MetadataField:
    """A plain :class:`DeclaredField`.

    Example:
        >>> MetadataField("tags", "keyword", multiple=True).multiple
        True
    """

    name: str
    type: str
    multiple: bool = False


_FIELD_NAME = re.compile(r"[^\W\d_][\w-]{0,99}")


def check_declared(declared: Iterable[DeclaredField]) -> tuple[DeclaredField, ...]:
    """The declared fields, checked: known types, usable and distinct names.

    Raises:
        ValueError: a type other than keyword, number and date; a name that is
            not a word (OpenSearch reads dots as paths), or given twice.
    """
    out: list[DeclaredField] = []
    seen: set[str] = set()
    for f in declared:
        if f.type not in FIELD_TYPES:
            raise ValueError(
                f"declared field {f.name!r}: type {f.type!r} is not one of {', '.join(FIELD_TYPES)}"
            )
        if not isinstance(f.name, str) or not _FIELD_NAME.fullmatch(f.name):
            raise ValueError(
                f"declared field name {f.name!r}: letters, digits, '_' or '-', starting with "
                "a letter"
            )
        if f.name in seen:
            raise ValueError(f"declared field {f.name!r} given twice")
        seen.add(f.name)
        out.append(f)
    return tuple(out)


def field_mapping(field: DeclaredField) -> dict[str, Any]:
    """The OpenSearch mapping of one declared field (a list is any field's right there)."""
    if field.type == "keyword":
        return {"type": "keyword"}
    if field.type == "number":
        return {"type": "double"}
    return {"type": "date", "format": "strict_date_optional_time||epoch_millis"}


def lexicon_rules() -> list[str]:
    """``stemmer_override`` rules: each ordinal word and irregular form to its final term.

    The right side is what searchlib's chain ends with for that word (the
    filter marks it a keyword, so Snowball leaves it alone).

    >>> [r for r in lexicon_rules() if r.startswith(("treizieme ", "travaux "))]
    ['travaux => travail', 'treizieme => 13e']
    """
    rules = {word: stem(number) for word, number in ORDINAL_WORDS.items()}
    rules |= {word: stem(word) for word in IRREGULAR_FORMS}
    return [f"{word} => {rules[word]}" for word in sorted(rules)]


def ordinal_rules() -> list[str]:
    """``stemmer_override`` rules of the ordinal words only (the exact field's chain)."""
    return [f"{word} => {ORDINAL_WORDS[word]}" for word in sorted(ORDINAL_WORDS)]


def snowball_generation() -> int:
    """3 when the installed Snowball French stemmer has the rules of Snowball 3
    (``bijoux`` -> ``bijou``, ``française`` -> ``franc``), else 2.

    searchlib stems with PyStemmer (or snowballstemmer), whatever release is
    installed; OpenSearch's Lucene has an earlier Snowball. With Snowball 3
    installed, the generated analyzer rewrites words the way its new rules do
    before Lucene's stemmer sees them.
    """
    return 3 if stem("bijoux") == "bijou" and stem("francaises") == "franc" else 2


STEMMER_PROBES = ("bijoux", "francaises", "palais", "mauvaise", "nia", "travaux", "fermees")
"""Words whose stems tell stemmer releases apart; an index records them (see
:func:`stemmer_fingerprint`), so that queries analysed by another release are refused."""


def stemmer_fingerprint() -> dict[str, str]:
    """The stems of :data:`STEMMER_PROBES` under the installed stemmer."""
    return {word: stem(word) for word in STEMMER_PROBES}


TRANSLITERATED = (range(0xAA, 0xBB), range(0x370, 0x500), range(0x2160, 0x2189))
"""Code points whose folding OpenSearch learns from unidecode: the Latin-1 signs
``ª µ º``, Greek, Cyrillic and Roman numerals (``asciifolding`` leaves them)."""


def transliteration_rules() -> list[str]:
    """``mapping`` character-filter rules: each letter of :data:`TRANSLITERATED` to
    what searchlib folds it to (``α`` -> ``a``, ``ж`` -> ``zh``, ``Ⅻ`` -> ``xii``).

    Only letters that fold to ASCII letters or digits are mapped, so words are cut
    where they were: the filter runs before the tokenizer.

    >>> [r for r in transliteration_rules() if r.startswith(("ж", "Ⅻ"))]
    ['ж => zh', 'Ⅻ => xii']
    """
    rules: list[str] = []
    for block in TRANSLITERATED:
        for code in block:
            c = chr(code)
            if not c.isalnum() or unicodedata.category(c) == "No":
                continue
            folded = "".join(fold(c.lower()).split())
            if folded and folded.isascii() and folded.isalnum() and folded != c.lower():
                rules.append(f"{c} => {folded}")
    return rules


def type_table() -> list[str]:
    r"""``word_delimiter_graph``'s type table: what splits a word into parts.

    Only ``-``, ``.`` and the apostrophes do, as in searchlib's tokenizer: a
    comma stays inside a part (``3,5-a`` -> ``3,5``, ``a``, ``3,5a``), and so
    do the Latin-1 letters and numbers (``ª``, ``²``, ``½``) that Lucene's
    default table for the first 256 characters would take for delimiters.

    >>> type_table()[:3]
    [', => DIGIT', '\\u00AA => ALPHA', '\\u00B2 => DIGIT']
    """
    rules = [", => DIGIT"]
    for code in range(0x80, 0x100):
        kind = unicodedata.category(chr(code))
        if kind in ("Lo", "No"):
            rules.append(f"\\u{code:04X} => {'ALPHA' if kind == 'Lo' else 'DIGIT'}")
    return rules


def analysis_settings() -> dict[str, Any]:
    """The ``analysis`` section: tokenizer, filters and the three analyzers."""

    def replace(pattern: str, replacement: str = "") -> dict[str, Any]:
        return {"type": "pattern_replace", "pattern": pattern, "replacement": replacement}

    front = [
        "searchlib_spaced_ordinal",
        "searchlib_acronym",
        "searchlib_numbers",
        "searchlib_apostrophe",
        "searchlib_elision",
        "searchlib_elision",  # l'qu'... : searchlib strips any number of articles
        "searchlib_nonempty",
        "searchlib_compounds",
        "lowercase",
    ]
    snowball3 = (
        [
            "searchlib_snowball3_oux",
            "searchlib_snowball3_kept",
            "searchlib_snowball3_kept_mark",
            "searchlib_snowball3_aise",
        ]
        if snowball_generation() >= 3
        else []
    )
    return {
        "char_filter": {
            # Characters that print as nothing do not split a word in searchlib's
            # tokenizer (a soft hyphen inside a word): removed before Lucene's.
            "searchlib_invisible": {"type": "mapping", "mappings": [f"{c} => " for c in INVISIBLE]},
            "searchlib_transliterate": {"type": "mapping", "mappings": transliteration_rules()},
        },
        "tokenizer": {
            "searchlib_words": {"type": "pattern", "pattern": WORD_PATTERN, "group": 0},
        },
        "filter": {
            "searchlib_spaced_ordinal": replace(" "),
            "searchlib_acronym": replace(_ACRONYM_DOT),
            "searchlib_numbers": {"type": "keyword_marker", "keywords_pattern": _NUMBER},
            "searchlib_apostrophe": replace("ʼ", "'"),
            "searchlib_elision": {
                "type": "elision",
                "articles": sorted(ELISIONS),
                "articles_case": True,
            },
            "searchlib_nonempty": {"type": "length", "min": 1},
            "searchlib_compounds": {
                "type": "word_delimiter_graph",
                "generate_word_parts": True,
                "generate_number_parts": True,
                "catenate_words": False,
                "catenate_numbers": False,
                "catenate_all": True,
                "split_on_case_change": False,
                "split_on_numerics": False,
                "preserve_original": False,
                "stem_english_possessive": False,
                "ignore_keywords": True,
                "type_table": type_table(),
            },
            "searchlib_ordinal_digits": replace(_ORDINAL_DIGITS, "$1e"),
            "searchlib_lexicon": {"type": "stemmer_override", "rules": lexicon_rules()},
            "searchlib_ordinal_words": {"type": "stemmer_override", "rules": ordinal_rules()},
            "searchlib_feminine": replace(_FEMININE, "$1$2"),
            "searchlib_snowball3_oux": replace(_SNOWBALL3_OUX, "$1ou"),
            "searchlib_snowball3_kept": replace(_SNOWBALL3_KEPT, "$1ais"),
            "searchlib_snowball3_kept_mark": {
                "type": "keyword_marker",
                "keywords_pattern": _SNOWBALL3_KEPT_MARK,
            },
            "searchlib_snowball3_aise": replace(_SNOWBALL3_AISE, "$1ais"),
            "searchlib_stemmer": {"type": "snowball", "language": "French"},
            "searchlib_stop": {
                "type": "stop",
                "stopwords": sorted(FRENCH_STOP_WORDS),
                "ignore_case": False,
            },
        },
        "analyzer": {
            ANALYZER: {
                "type": "custom",
                "char_filter": ["searchlib_invisible", "searchlib_transliterate"],
                "tokenizer": "searchlib_words",
                "filter": [
                    *front,
                    "asciifolding",
                    "searchlib_ordinal_digits",
                    "searchlib_lexicon",
                    "searchlib_feminine",
                    *snowball3,
                    "searchlib_stemmer",
                ],
            },
            EXACT_ANALYZER: {
                "type": "custom",
                "char_filter": ["searchlib_invisible"],
                "tokenizer": "searchlib_words",
                "filter": [
                    *front,
                    "searchlib_stop",
                    "searchlib_ordinal_digits",
                    "searchlib_ordinal_words",
                ],
            },
            TERMS_ANALYZER: {"type": "custom", "tokenizer": "whitespace", "filter": []},
        },
    }


def similarity_settings(ranking: Ranking) -> dict[str, Any]:
    """Per-field BM25 with searchlib's k1 and b (``title_b`` for the title).

    Overlapping tokens (the joined form of a compound, at its first part's
    position) count in a field's length, as they do in searchlib's.
    """

    def bm25(b: float) -> dict[str, Any]:
        return {"type": "BM25", "k1": ranking.k1, "b": b, "discount_overlaps": False}

    return {"searchlib_text": bm25(ranking.b), "searchlib_title": bm25(ranking.title_b)}


def index_settings(ranking: Ranking, *, shards: int = 1, replicas: int = 1) -> dict[str, Any]:
    """The ``settings`` of a new index (analysis and similarity cannot change later).

    One shard by default: BM25's statistics are then those of the whole
    collection, as in searchlib (with more, searches ask for
    ``dfs_query_then_fetch``).
    """
    if shards < 1 or replicas < 0:
        raise ValueError(f"shards must be at least 1 and replicas at least 0: {shards}, {replicas}")
    return {
        "index": {
            "number_of_shards": shards,
            "number_of_replicas": replicas,
            "similarity": similarity_settings(ranking),
        },
        "analysis": analysis_settings(),
    }


def searchlib_meta(
    ranking: Ranking,
    declared: Sequence[DeclaredField] = (),
    *,
    passage_chars: int = PASSAGE_CHARS,
) -> dict[str, Any]:
    """What searchlib records in the mapping's ``_meta``: versions, the BM25
    parameters the similarity was made with, passage size, declared fields."""
    return {
        "format_version": FORMAT_VERSION,
        "analyzer_version": ANALYZER_VERSION,
        "searchlib_version": __version__,
        "passage_chars": passage_chars,
        "stemmer": stemmer_fingerprint(),
        "bm25": {"k1": ranking.k1, "b": ranking.b, "title_b": ranking.title_b},
        "declared_fields": [
            {"name": f.name, "type": f.type, "multiple": bool(f.multiple)} for f in declared
        ],
    }


def index_mappings(
    ranking: Ranking,
    declared: Iterable[DeclaredField] = (),
    *,
    passage_chars: int = PASSAGE_CHARS,
) -> dict[str, Any]:
    """The ``mappings``: one OpenSearch document per passage.

    ``title`` and ``text`` are analysed by :data:`ANALYZER` and copied into
    ``exact`` (searchlib's exact-forms field holds both, with no positions);
    ``doc_id`` is a keyword to collapse on; declared metadata fields go under
    ``fields`` (other extra fields are kept in ``_source`` only).
    """
    fields = check_declared(declared)
    text_field = {
        "type": "text",
        "analyzer": ANALYZER,
        "search_analyzer": ANALYZER,
        "copy_to": ["exact"],
    }
    return {
        "dynamic": "strict",
        "_meta": {"searchlib": searchlib_meta(ranking, fields, passage_chars=passage_chars)},
        "properties": {
            "id": {"type": "keyword"},
            "doc_id": {"type": "keyword"},
            "position": {"type": "integer"},
            "start": {"type": "integer", "index": False},
            "title": {**text_field, "similarity": "searchlib_title"},
            "text": {**text_field, "similarity": "searchlib_text"},
            "exact": {
                "type": "text",
                "analyzer": EXACT_ANALYZER,
                "similarity": "searchlib_text",
                "index_options": "freqs",
            },
            "fields": {
                "type": "object",
                "dynamic": False,
                "properties": {f.name: field_mapping(f) for f in fields},
            },
        },
    }


def index_body(
    ranking: Ranking,
    declared: Iterable[DeclaredField] = (),
    *,
    passage_chars: int = PASSAGE_CHARS,
    shards: int = 1,
    replicas: int = 1,
) -> dict[str, Any]:
    """The body of ``PUT /<index>``: settings and mappings."""
    return {
        "settings": index_settings(ranking, shards=shards, replicas=replicas),
        "mappings": index_mappings(ranking, declared, passage_chars=passage_chars),
    }


def declared_from_meta(meta: Mapping[str, Any]) -> tuple[MetadataField, ...]:
    """The declared fields recorded in an index's ``_meta.searchlib``."""
    out: list[MetadataField] = []
    for raw in meta.get("declared_fields") or ():
        out.append(MetadataField(str(raw["name"]), str(raw["type"]), bool(raw.get("multiple"))))
    return tuple(out)
