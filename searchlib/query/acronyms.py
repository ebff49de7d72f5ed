"""Acronym definitions mined from the indexed text, for query expansion.

French texts define their acronyms as they go: « le contrat à durée
déterminée (CDD) », « Compte personnel de formation (CPF) ». Users then type
the acronym (``cdd``) where formal texts only ever spell the long form. While
documents are added, :func:`find_definitions` finds such definitions with the
algorithm of Schwartz & Hearst (2003, *A simple algorithm for identifying
abbreviation definitions in biomedical text*): a short form in parentheses
after its long form (or, the reverse, a long form in parentheses after its
short form), the short form's letters matched right to left in the long
form's words, the first letter at the start of a word, the long form at most
``min(len(SF) + 5, 2 * len(SF))`` words. Letters may fall anywhere in a word,
so the words they skip (``de la du des à``...) cost nothing but budget.

:class:`AcronymLexicon` counts, per short form, in how many documents each
long form defined it; :meth:`AcronymLexicon.expansions` keeps the long forms
seen in enough documents, most frequent first. No list of acronyms is written
anywhere: what an index knows is what its documents define.

Example:
    >>> find_definitions("Le contrat à durée déterminée (CDD) est écrit.")
    [('CDD', 'contrat à durée déterminée')]
    >>> find_definitions("Voir l'article 3 (voir ci-dessous) et la loi (2019).")
    []
"""

from __future__ import annotations

import json
import re
import warnings
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

from searchlib._files import file_stamp, read_json, replace_text
from searchlib.analysis.analyzer import APOSTROPHES, FrenchAnalyzer, fold, normalize_text
from searchlib.analysis.stopwords import FRENCH_STOP_WORDS
from searchlib.documents import Document
from searchlib.errors import IndexCorruptError, SearchlibWarning

LEXICON_FILE = "acronyms.json"
"""File of the acronym lexicon in an index folder."""

LEXICON_VERSION = 1

MAX_LEXICON_BYTES = 64 << 20
"""Largest :data:`LEXICON_FILE` read (a corpus of a million documents defines
a few megabytes of acronyms)."""

MAX_SHORT = 10
"""Longest short form, in characters (Schwartz & Hearst)."""

# A parenthesised group: its content has no nested parentheses.
_PAREN = re.compile(r"\(([^()\n]{1,200})\)")
# A short form: letters (2 to 10), at least two of them capitals, nothing else.
_SHORT = re.compile(r"[^\W\d_]{2,10}")
_ROMAN = re.compile(r"[IVXivx]+")
_WORDS = re.compile(r"[^\W_]+")
# Where a long form cannot reach across: the end of a clause.
_CLAUSE_END = re.compile(r"[.;:!?\n()\[\]{}«»\"]")


def _short_form(text: str) -> str | None:
    """``text`` stripped, if it can be a short form (``CDD``, ``PMEs``; not ``voir``, ``2019``)."""
    text = text.strip()
    if not _SHORT.fullmatch(text) or _ROMAN.fullmatch(text):
        return None
    if sum(c.isupper() for c in text) < 2:
        return None
    return text


def _budget(short: str) -> int:
    return min(len(short) + 5, 2 * len(short))


def _match_long(short: str, words: list[str]) -> int | None:
    """Index in ``words`` of the first word of the long form ``short`` abbreviates.

    Schwartz & Hearst's right-to-left letter match over the folded words
    (``words`` end where the short form stands); ``None`` when the letters do
    not all match, or the first letter does not start a word. French twist:
    the first letter must start a word that is not a stop word.
    """
    letters = [c for c in fold(short.lower()) if c.isalnum()]
    folded = [fold(w.lower()) for w in words]
    line = " ".join(folded)
    # Where the first letter may match: the start of a word that is not a
    # stop word (« allocation aux adultes handicapés », not « aux adultes... »).
    starts: set[int] = set()
    at = 0
    for word, raw in zip(folded, words, strict=True):
        if raw.lower() not in FRENCH_STOP_WORDS:
            starts.add(at)
        at += len(word) + 1
    at = len(line) - 1
    for n in range(len(letters) - 1, -1, -1):
        c = letters[n]
        while at >= 0 and (line[at] != c or (n == 0 and at not in starts)):
            at -= 1
        if at < 0:
            return None
        at -= 1
    return line[: at + 1].count(" ")


def _long_before(text: str, end: int, short: str) -> str | None:
    """The long form of ``short`` ending at ``end`` in ``text``, if any."""
    start = end
    while start > 0 and not _CLAUSE_END.match(text[start - 1]):
        start -= 1
        if end - start > 40 * _budget(short):
            break
    spans = [m.span() for m in _WORDS.finditer(text, start, end)]
    # Elided articles (the ``d`` of ``d'allocations``) are words of no budget.
    budget = _budget(short)
    first = len(spans)
    while first > 0 and budget > 0:
        first -= 1
        if not _elided(text, spans[first][1]):
            budget -= 1
    spans = spans[first:]
    if not spans:
        return None
    words = [text[a:b] for a, b in spans]
    found = _match_long(short, words)
    if found is None:
        return None
    return _check_long(short, text[spans[found][0] : spans[-1][1]])


def _elided(text: str, end: int) -> bool:
    return end < len(text) and text[end] in APOSTROPHES


def _long_inside(inside: str, short: str) -> str | None:
    """The long form of ``short`` as the whole of a parenthesised group, if it is one."""
    words = _WORDS.findall(inside)
    if len(words) < 2 or len(words) > _budget(short):
        return None
    first = _match_long(short, words)
    if first != 0:
        return None
    return _check_long(short, inside)


def _check_long(short: str, long: str) -> str | None:
    long = " ".join(long.split())
    words = _WORDS.findall(long)
    if len(words) < 2 or len(long) <= len(short):
        return None
    if any(fold(w.lower()) == fold(short.lower()) for w in words):
        return None
    return long


def find_definitions(text: str) -> list[tuple[str, str]]:
    """``(short form, long form)`` pairs defined in ``text``, in order.

    Both « long form (SF) » and « SF (long form) » are read; the long form is
    returned as written (spaces collapsed).

    >>> find_definitions("le comité social et économique (CSE) ; le SMIC (salaire minimum "
    ...     "interprofessionnel de croissance)")
    [('CSE', 'comité social et économique'), ('SMIC', 'salaire minimum interprofessionnel de \
croissance')]
    """
    text = normalize_text(text)
    found: list[tuple[str, str]] = []
    for m in _PAREN.finditer(text):
        inside = m.group(1)
        short = _short_form(inside)
        if short is not None:
            long = _long_before(text, m.start(), short)
            if long is not None:
                found.append((short, long))
            continue
        # The reverse: SF (long form).
        before = _WORDS.findall(text[max(0, m.start() - MAX_SHORT - 2) : m.start()])
        end = m.start()
        while end > 0 and text[end - 1].isspace():  # (no copy of the text before: linear)
            end -= 1
        if not before or not text.endswith(before[-1], 0, end):
            continue
        short = _short_form(before[-1])
        if short is not None:
            long = _long_inside(inside, short)
            if long is not None:
                found.append((short, long))
    return found


class LexiconWarning(SearchlibWarning):
    """An index's acronym lexicon was not used (unreadable or malformed):
    its searches expand no acronym while the file stays so."""


def _select(
    forms: dict[str, int], analyzer: FrenchAnalyzer, min_docs: int, max_forms: int
) -> tuple[str, ...]:
    """The long forms of one short form to search (see :meth:`AcronymLexicon.expansions`)."""
    groups: dict[tuple[str, ...], list[tuple[int, str]]] = {}
    for long, n in forms.items():
        terms = tuple(t.text for t in analyzer.tokens(long) if not t.compound)
        groups.setdefault(terms, []).append((n, long))
    # Per group: documents in all, and its most frequent spelling.
    # (ties: the first spelling in alphabetical order).
    ranked = sorted(
        (sum(n for n, _ in g), min(g, key=lambda x: (-x[0], x[1]))[1]) for g in groups.values()
    )
    ranked.sort(key=lambda x: -x[0])
    return tuple(long for n, long in ranked if n >= min_docs)[:max_forms]


def acronym_key(word: str) -> str:
    """How a short form is looked up: lowercase, folded, dots dropped (``C.D.D.`` -> ``cdd``)."""
    return fold(normalize_text(word).lower()).replace(".", "")


class AcronymLexicon:
    """Per short form, the documents each long form defined it in.

    Counts only grow: deleting or replacing a document does not take its
    definitions back (replacing counts them again).
    """

    def __init__(self, counts: Mapping[str, Mapping[str, int]] | None = None) -> None:
        self.counts: dict[str, dict[str, int]] = {k: dict(v) for k, v in (counts or {}).items()}
        self._selected: dict[tuple[int, int], dict[str, tuple[str, ...]]] = {}

    def __len__(self) -> int:
        return len(self.counts)

    def __bool__(self) -> bool:
        return bool(self.counts)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, AcronymLexicon) and self.counts == other.counts

    __hash__ = None  # type: ignore[assignment]

    def add_text(self, text: str) -> None:
        """Count the definitions of one document's text (each at most once)."""
        found = find_definitions(text)
        seen = {(acronym_key(sf), " ".join(lf.lower().split())) for sf, lf in found}
        for short, long in seen:
            forms = self.counts.setdefault(short, {})
            forms[long] = forms.get(long, 0) + 1
        if seen:
            self._selected.clear()

    def watch(self, documents: Iterable[Document]) -> Iterator[Document]:
        """Yield ``documents`` unchanged, counting each one's title and text.

        A document is counted once the consumer asks for the next one, so a
        document it refused (by raising) is not counted.
        """
        for doc in documents:
            yield doc
            self.add_text(f"{doc.title}\n{doc.text}")

    def merge(self, other: AcronymLexicon) -> None:
        """Add ``other``'s counts to these."""
        for short, forms in other.counts.items():
            mine = self.counts.setdefault(short, {})
            for long, n in forms.items():
                mine[long] = mine.get(long, 0) + n
        self._selected.clear()

    def expansions(
        self, word: str, analyzer: FrenchAnalyzer, min_docs: int = 2, max_forms: int = 1
    ) -> tuple[str, ...]:
        """The long forms ``word`` abbreviates, most documents first.

        Long forms with the same terms under ``analyzer`` (``contrats à durée
        déterminée``, ``contrat à durée déterminée``) count as one, written as
        the most frequent spelling. Only those defined in at least
        ``min_docs`` documents are kept, at most ``max_forms`` of them.

        >>> lex = AcronymLexicon({"cdd": {"contrat à durée déterminée": 3, "contrat daté": 1}})
        >>> lex.expansions("CDD", FrenchAnalyzer())
        ('contrat à durée déterminée',)
        """
        short = acronym_key(word)
        forms = self.counts.get(short)
        if not forms:
            return ()
        # Each short form's long forms are analysed the first time it is asked
        # for (a word that is no acronym costs a lookup).
        table = self._selected.setdefault((min_docs, max_forms), {})
        found = table.get(short)
        if found is None:
            found = table[short] = _select(forms, analyzer, min_docs, max_forms)
        return found

    def to_json(self) -> str:
        """The lexicon as the JSON of :data:`LEXICON_FILE`."""
        body = {"version": LEXICON_VERSION, "acronyms": self.counts}
        return json.dumps(body, ensure_ascii=False, sort_keys=True, indent=0) + "\n"

    @classmethod
    def load(cls, folder: Path) -> AcronymLexicon:
        """The lexicon saved in index folder ``folder`` (empty when there is none).

        The file is read by :func:`searchlib._files.read_json` (at most
        :data:`MAX_LEXICON_BYTES`, nested at most 32 deep) and checked: short
        forms to long forms to document counts (integers, not negative).

        Raises:
            IndexCorruptError: the file is there but cannot be read, or is
                not an acronym lexicon.
        """
        path = folder / LEXICON_FILE

        def corrupt(message: str) -> IndexCorruptError:
            return IndexCorruptError(f"{path}: not an acronym lexicon ({message})")

        try:
            data = read_json(path, max_bytes=MAX_LEXICON_BYTES, error=corrupt)
        except FileNotFoundError:
            return cls()
        if not isinstance(data, dict) or data.get("version") != LEXICON_VERSION:
            raise corrupt(f"not version {LEXICON_VERSION}")
        counts = data.get("acronyms")
        if not isinstance(counts, dict):
            raise corrupt("no acronyms object")
        for forms in counts.values():
            if not isinstance(forms, dict) or not all(_is_count(n) for n in forms.values()):
                raise corrupt("expected long forms with their document counts")
        return cls(counts)

    def save(self, folder: Path) -> None:
        """Write the lexicon into ``folder`` atomically (a temporary file, then ``os.replace``).

        The temporary file has a name of its own, so two writers saving at
        once never replace each other's half-written file (the last one wins).
        """
        replace_text(folder, LEXICON_FILE, self.to_json())


def _is_count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 1 << 63


class LexiconFile:
    """The acronym lexicon of an index (``folder``; ``None``: in memory): read
    again when another writer changed it, merged into and saved by writers.

    A file that cannot be read is ignored with a :class:`LexiconWarning`
    (searches expand no acronym until it is written again), and replaced by
    the next commit that finds definitions.
    """

    def __init__(self, folder: Path | None) -> None:
        self.folder = folder
        self.lexicon = AcronymLexicon()
        """The lexicon as last read (read-only for callers)."""
        self._stamp: tuple[int, int] | None = None

    def refresh(self) -> AcronymLexicon:
        """The lexicon, read again if another writer saved it since."""
        if self.folder is None:
            return self.lexicon
        now = file_stamp(self.folder / LEXICON_FILE)
        if now != self._stamp:
            self._stamp = now
            try:
                self.lexicon = AcronymLexicon.load(self.folder)
            except IndexCorruptError as e:
                self.lexicon = AcronymLexicon()
                warnings.warn(f"acronyms not used: {e}", LexiconWarning, stacklevel=5)
        return self.lexicon

    def merge(self, mined: AcronymLexicon) -> None:
        """Merge a commit's definitions into the saved lexicon. Called with the
        index's write lock held, once the commit is written: the file is read
        again first (another process may have saved definitions since)."""
        if not mined:
            return
        if self.folder is None:
            self.lexicon.merge(mined)
            return
        try:
            merged = AcronymLexicon.load(self.folder)
        except IndexCorruptError:  # ignored with a warning when read: replaced now
            merged = AcronymLexicon()
        merged.merge(mined)
        merged.save(self.folder)
        self.lexicon = merged
        self._stamp = file_stamp(self.folder / LEXICON_FILE)
