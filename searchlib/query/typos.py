"""Index terms and written forms close to a word, found in memory.

Whoosh's ``reader.terms_within`` walks a Levenshtein automaton over its
on-disk term dictionary in Python, for every word.
Here a field's terms are read once into a set (:meth:`Vocabulary.of_field`;
:class:`searchlib.searching.SearcherState` keeps it for the searcher's
lifetime), and the
candidates one edit away (a letter deleted, replaced or inserted, the first
letter kept, as ``terms_within(field, word, 1, prefix=1)``) are looked up in
it: a few set lookups per candidate.

Example:
    >>> v = Vocabulary(["contrat", "contrats", "cantrat", "travail"])
    >>> v.within_one("contrst")
    ['contrat']
    >>> v.within_one("kontrat")  # the first letter is kept
    []

:class:`SurfaceVocabulary` does the same for the forms as written (the
``exact`` field: lower case, accents kept, unstemmed), looked up by their
folded form, within the edits a word's length allows (:func:`max_edits`:
none under 5 letters, 1 from 5, 2 from 9, as Meilisearch does), a
transposition counting as one edit:

    >>> sv = SurfaceVocabulary(["licenciement", "licence", "économique"])
    >>> sv.within("licenciment", 1), sv.forms("economique")
    ([('licenciement', 1)], ['économique'])

Edits are counted on these written forms, never on stems: ``préavis`` and
« preuve » are three edits apart, though their stems ``preav`` and ``preuv``
are one. And a word of the French language (:mod:`searchlib.query.french_words`)
is never read as another word, even where the index lacks it (:func:`readings`):
it is searched as typed, and reported when no passage holds it. A word the
French list lacks but explains (``accordage``: « accord » + -age) is read only
one edit away: « accordée », two edits away, is another word.
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import numpy as np

from searchlib.analysis.analyzer import fold

if TYPE_CHECKING:
    from whoosh.searching import Searcher


class Vocabulary:
    """The terms of one field, and the letters they use."""

    def __init__(self, terms: Iterable[str]) -> None:
        self.terms = frozenset(terms)
        self.alphabet = "".join(sorted(set("".join(self.terms))))

    @classmethod
    def of_field(cls, searcher: Searcher, field: str) -> Vocabulary:
        """The terms of ``field`` as ``searcher`` sees them (none for a field not in the schema)."""
        raw = searcher.reader().lexicon(field) if field in searcher.schema else ()
        return cls(t if isinstance(t, str) else t.decode("utf-8") for t in raw)

    def within_one(self, word: str) -> list[str]:
        """Terms at Levenshtein distance exactly 1 from ``word`` with its first letter, sorted."""
        terms = self.terms
        found: set[str] = set()
        n = len(word)
        for i in range(1, n + 1):
            head, tail = word[:i], word[i:]
            for c in self.alphabet:
                if (cand := head + c + tail) in terms:  # insertion
                    found.add(cand)
            if i < n:
                rest = word[i + 1 :]
                if (cand := head + rest) in terms:  # deletion
                    found.add(cand)
                for c in self.alphabet:
                    if c != word[i] and (cand := head + c + rest) in terms:  # replacement
                        found.add(cand)
        found.discard(word)
        return sorted(found)


ONE_EDIT_FROM = 5
"""Shortest word (letters, folded) corrected with one edit."""

TWO_EDITS_FROM = 9
"""Shortest word (letters, folded) corrected with up to two edits."""

RARE_BELOW = 1
"""A written form found in this many passages or more is never rewritten: at 1,
only forms the index does not hold at all are (at 5, the clean cdtn queries
lose « pensant », « debout », « parte »... to more frequent neighbours; see
benchmarks/RESULTS.md)."""


LARGE_INDEX = 10_000
"""Passages from which an index is large (see :func:`absent_readings`)."""

ATTESTED = 3.0
"""In a large index, a reading found in this many passages (this many times
as many as the typed form, plus one) is preferred (see :func:`absent_readings`)."""


def absent_readings(
    respell: Callable[[float], list[Respelling]], passages: int
) -> list[Respelling]:
    """The readings of a typed word whose stem no passage holds, in an index of
    ``passages`` passages; ``respell(ratio)`` gives the forms within the
    word's edits found in ``ratio`` times as many passages as it, plus one
    (see :func:`respellings`).

    In a small index, any of them. In a large one (:data:`LARGE_INDEX`),
    first those found in :data:`ATTESTED` passages or more, even one edit of
    the first letter away (``rpime`` is read as « prime », not as « rime »
    found in one passage; ``jolde`` as « solde », not « Jolie »); only when
    there is none, a rarer one, one edit away (``niqag`` as « niqab »). Half
    the forms of a large index found in one or two passages are no French
    word (names, slips of the documents: « licenciement1 », « celle-ci.En »),
    one in eight of those found in three or more.

    >>> near = {1.0: [Respelling("rime", 1, 1)], ATTESTED: [Respelling("prime", 2, 50)]}
    >>> [absent_readings(near.__getitem__, n)[0].folded for n in (500, 40_000)]
    ['rime', 'prime']
    """
    if passages < LARGE_INDEX:
        return respell(1.0)
    return respell(ATTESTED) or [r for r in respell(1.0) if r.edits == 1]


def max_edits(word: str) -> int:
    """Edits a typed word of this length may be corrected by (0, 1 or 2).

    >>> max_edits("cong"), max_edits("conges"), max_edits("licenciment")
    (0, 1, 2)
    """
    n = len(word)
    return 0 if n < ONE_EDIT_FROM else 1 if n < TWO_EDITS_FROM else 2


def edit_distance(a: str, b: str, limit: int) -> int:
    """Optimal-string-alignment distance (a transposition of neighbours counts
    one), or ``limit + 1`` when it is above ``limit``.

    A common start and end are set aside first: an alignment that does not
    match their letters to each other can be changed into one that does, at
    no more cost (true of transpositions too: ``xy`` -> ``yx`` with ``x``
    first in both means ``x = y``). Of the rest, only the cells at most
    ``limit`` from the diagonal are computed (the others are above it), and
    the count stops at the first row that is all above it.

    >>> edit_distance("licenciement", "licenciemnet", 2), edit_distance("abc", "xyz", 1)
    (1, 2)
    """
    n, m = len(a), len(b)
    if abs(n - m) > limit:
        return limit + 1
    start = 0
    while start < n and start < m and a[start] == b[start]:
        start += 1
    while n > start and m > start and a[n - 1] == b[m - 1]:
        n -= 1
        m -= 1
    a, b = a[start:n], b[start:m]
    n, m = n - start, m - start
    over = limit + 1
    prev2: list[int] = []
    prev = list(range(over)) + [over] * (m + 1 - over) if m >= over else list(range(m + 1))
    for i in range(1, n + 1):
        cur = [over] * (m + 1)
        if i <= limit:
            cur[0] = i
        ca = a[i - 1]
        lo, hi = max(1, i - limit), min(m, i + limit)
        for j in range(lo, hi + 1):
            cb = b[j - 1]
            v = prev[j - 1] + (ca != cb)
            if prev[j] < v:  # prev[j] + 1 <= v
                v = prev[j] + 1
            if cur[j - 1] < v:
                v = cur[j - 1] + 1
            if j > 1 and i > 1 and ca == b[j - 2] and a[i - 2] == cb and prev2[j - 2] < v:
                v = prev2[j - 2] + 1
            cur[j] = v
        if cur[0] > limit and min(cur[lo : hi + 1]) > limit:
            return over
        prev2, prev = prev, cur
    return min(prev[m], over)


class SurfaceVocabulary:
    """The written forms of an index (its ``exact`` field), by folded form.

    Args:
        forms: the forms as the ``exact`` field holds them (lower case,
            accents kept, unstemmed).
    """

    def __init__(self, forms: Iterable[str]) -> None:
        by_fold: dict[str, list[str]] = {}
        for form in forms:
            by_fold.setdefault(fold(form), []).append(form)
        self.by_fold = by_fold
        self.alphabet = "".join(sorted(set("".join(by_fold))))
        self.ordered = sorted(by_fold)
        self._counts: LetterCounts | None = None

    @classmethod
    def of_field(cls, searcher: Searcher, field: str = "exact") -> SurfaceVocabulary:
        """The forms of ``field`` (none for a field not in the schema)."""
        raw = searcher.reader().lexicon(field) if field in searcher.schema else ()
        return cls(t if isinstance(t, str) else t.decode("utf-8") for t in raw)

    def __contains__(self, folded: object) -> bool:
        return folded in self.by_fold

    def __len__(self) -> int:
        return len(self.by_fold)

    def forms(self, folded: str) -> list[str]:
        """The written forms that fold to ``folded`` (``[]`` when none)."""
        return self.by_fold.get(folded, [])

    def with_prefix(self, prefix: str) -> list[str]:
        """The folded forms that start with ``prefix``, in alphabetical order."""
        lo = bisect.bisect_left(self.ordered, prefix)
        hi = bisect.bisect_left(self.ordered, prefix + "\U0010ffff")
        return self.ordered[lo:hi]

    def within(self, word: str, edits: int) -> list[tuple[str, int]]:
        """Folded forms at 1 to ``edits`` (at most 2) edits from ``word``, with
        their distance; sorted by distance, then form. The first letter is
        kept, except that at 2 edits one edit of the first letter alone
        counts as two (as Meilisearch counts it).

        One edit away, each form the word gives by an edit is looked up; two
        edits away, the forms of its first letter with the letters to be
        (:class:`LetterCounts`) have their edits counted (:func:`edit_distance`).
        """
        if edits <= 0 or not word:
            return []
        found: dict[str, int] = {}
        if edits == 1:
            found = dict.fromkeys(self._one_edit(word), 1)
        else:
            if self._counts is None:
                self._counts = LetterCounts(self.by_fold, self.alphabet)
            rest = word[1:]
            for form in self._counts.near(word, 2):
                distance = edit_distance(rest, form[1:], 2)
                if 0 < distance <= 2:
                    found[form] = distance
            for cand in self.first_letter(word):  # counts two, as Meilisearch counts it
                found.setdefault(cand, 2)
        found.pop(word, None)
        return sorted(found.items(), key=lambda kv: (kv[1], kv[0]))

    def _one_edit(self, word: str) -> set[str]:
        forms = self.by_fold
        found: set[str] = set()
        n = len(word)
        for i in range(1, n + 1):
            head, tail = word[:i], word[i:]
            for c in self.alphabet:
                if (cand := head + c + tail) in forms:  # insertion
                    found.add(cand)
            if i < n:
                rest = word[i + 1 :]
                if (cand := head + rest) in forms:  # deletion
                    found.add(cand)
                for c in self.alphabet:
                    if c != word[i] and (cand := head + c + rest) in forms:  # replacement
                        found.add(cand)
                swapped = head + word[i + 1] + word[i] + word[i + 2 :] if i + 1 < n else word
                if swapped != word and swapped in forms:  # transposition
                    found.add(swapped)
        return found

    def first_letter(self, word: str) -> set[str]:
        """Forms one edit away at the first letter (deleted, replaced, one
        inserted before it, or swapped with the second)."""
        forms = self.by_fold
        candidates = {word[1:]}
        candidates.update(c + word[1:] for c in self.alphabet)
        candidates.update(c + word for c in self.alphabet)
        if len(word) > 1:
            candidates.add(word[1] + word[0] + word[2:])
        candidates.discard(word)
        return {c for c in candidates if c in forms}


BAG_SLOTS = 64
"""Letters told apart by :class:`LetterCounts` (beyond, some share a count)."""


class LetterCounts:
    """Forms grouped by first letter and length, with how many times each holds
    each letter: what :meth:`SurfaceVocabulary.within` reads to find the few
    forms that may be close to a word before counting their edits.

    An edit changes a form's letters by at most one letter removed and one
    added (a transposition by none): a form within ``k`` edits of a word has
    at most ``k`` letters the word lacks, and lacks at most ``k`` of the
    word's (counted with repetition), the "bag distance" (Bartolini et al.,
    2002). Counting the letters of the forms of the word's first letter and
    length (give or take ``k``) is a few numpy operations; the edits are then
    counted for the one form in a hundred that passes.

    Args:
        forms: folded forms (the empty one is left out).
        alphabet: their letters; past :data:`BAG_SLOTS`, several share a
            count (the bound holds, looser).

    Example:
        >>> forms = ["contrat", "contrats", "contact", "cantrat", "travail"]
        >>> counts = LetterCounts(forms, "acilnorstv")
        >>> counts.near("contrst", 1)  # contrats has the letters, but is two edits away
        ['contrat', 'contrats']
    """

    def __init__(self, forms: Iterable[str], alphabet: str) -> None:
        given = [f for f in forms if f]
        lengths = np.fromiter(map(len, given), dtype=np.int64, count=len(given))
        text = "".join(given).encode("utf-32-le", errors="surrogatepass")
        codes = np.frombuffer(text, dtype=np.uint32)
        ends = np.cumsum(lengths)
        firsts = codes[ends - lengths]
        order = np.lexsort((lengths, firsts))
        self.forms = [given[i] for i in order.tolist()]
        self.lengths = lengths[order]
        firsts = firsts[order]
        bounds = np.append(np.flatnonzero(np.diff(firsts, prepend=-1)), len(firsts)).tolist()
        self.starts = {chr(int(firsts[lo])): (lo, hi) for lo, hi in itertools.pairwise(bounds)}
        self.slots = {c: i % BAG_SLOTS for i, c in enumerate(sorted(set(alphabet)))}
        # The slot of each character (BAG_SLOTS: none, a letter no form holds)
        table = np.full(int(codes.max(initial=0)) + 1, BAG_SLOTS, dtype=np.uint8)
        for c, slot in self.slots.items():
            if ord(c) < len(table):
                table[ord(c)] = slot
        # Counted a block of forms at a time: (form, slot) cells, the unknown slot last.
        counts = np.zeros((len(given), BAG_SLOTS), dtype=np.uint8)
        width = BAG_SLOTS + 1
        block = 4096
        for lo in range(0, len(given), block):
            hi = min(lo + block, len(given))
            start, end = int(ends[lo] - lengths[lo]), int(ends[hi - 1])
            rows = np.repeat(np.arange(hi - lo, dtype=np.int64), lengths[lo:hi])
            cells = rows * width + table[codes[start:end]]
            part = np.bincount(cells, minlength=(hi - lo) * width).reshape(hi - lo, width)
            counts[lo:hi] = np.minimum(part[:, :BAG_SLOTS], 255)
        self.counts = counts[order]

    def near(self, word: str, edits: int) -> list[str]:
        """The forms of ``word``'s first letter whose letters allow them to be
        within ``edits`` edits of it (a few more than are: count them)."""
        if not word or word[0] not in self.starts:
            return []
        lo, hi = self.starts[word[0]]
        n = len(word)
        lengths = self.lengths[lo:hi]
        a = lo + int(np.searchsorted(lengths, n - edits, side="left"))
        b = lo + int(np.searchsorted(lengths, n + edits, side="right"))
        if a >= b:
            return []
        own = np.zeros(BAG_SLOTS, dtype=np.int16)
        for c in word:
            slot = self.slots.get(c)
            if slot is not None:  # else a letter no form holds: missing from all
                own[slot] += 1
        extra = np.maximum(self.counts[a:b].astype(np.int16) - own, 0).sum(axis=1)
        # extra - missing = len(form) - len(word), letters no form holds included
        missing = extra - (self.lengths[a:b] - n)
        keep = np.flatnonzero((extra <= edits) & (missing <= edits))
        forms = self.forms
        return [forms[a + int(i)] for i in keep]


@dataclass(frozen=True, slots=True)
class Respelling:
    """A written form close to a typed word.

    Attributes:
        folded: the form, folded.
        edits: its edit distance to the typed word (folded).
        frequency: passages holding it (any accented variant).
    """

    folded: str
    edits: int
    frequency: int


def respellings(
    vocabulary: SurfaceVocabulary,
    word: str,
    frequency: Callable[[str], int],
    *,
    ratio: float,
    rare_below: int = RARE_BELOW,
) -> list[Respelling]:
    """Written forms to read a rare or absent typed word as.

    ``word`` (folded) is rewritten only when it is found in fewer than
    ``rare_below`` passages; then the forms within :func:`max_edits` of it,
    first letter kept, found in at least ``ratio`` times as many passages as
    ``word`` (plus one), fewest edits first, then most frequent. When there
    is none, and the word has 5 letters or more, forms one edit away at the
    first letter, counted as two edits (Meilisearch's count).

    Args:
        vocabulary: the index's written forms.
        word: the typed word, lower case and folded.
        frequency: passages holding a folded form.
        ratio: how much more frequent a form must be (0: none is).
        rare_below: a word found in this many passages is never rewritten.
    """
    edits = max_edits(word)
    if ratio <= 0 or edits == 0 or not word.isalpha():
        return []
    own = frequency(word) if word in vocabulary else 0
    if own >= rare_below:
        return []
    found = []
    for form, distance in vocabulary.within(word, edits):
        f = frequency(form)
        if f >= ratio * (own + 1):
            found.append(Respelling(form, distance, f))
    if not found:
        # Last resort: one edit at the first letter, which counts two
        # (rpise -> prise, éseau -> réseau).
        for form in vocabulary.first_letter(word):
            f = frequency(form)
            if f >= ratio * (own + 1):
                found.append(Respelling(form, 2, f))
    found.sort(key=lambda r: (r.edits, -r.frequency, r.folded))
    return found


class Lexicon(Protocol):
    """The words of a language (lower case, folded), and which are forms of one
    word (see :class:`searchlib.query.french_words.FrenchWords`)."""

    def __contains__(self, word: object) -> bool:
        """Whether ``word`` is a word of the language."""

    def same_word(self, a: str, b: str) -> bool:
        """Whether ``a`` and ``b`` are forms of one word (``regardent``, ``regarde``)."""

    def derivation(self, word: str) -> str | None:
        """The word of the language ``word`` (folded) derives from when it is
        none itself (``paratexte``: « texte »), or ``None``."""


def readings(word: str, found: Iterable[Respelling], lexicon: Lexicon) -> list[Respelling]:
    """What a typed word (lower case, folded) may be read as, among ``found``:
    when it is a word of ``lexicon``, only forms of that word itself
    (``regardent`` as « regarde », an inflection the documents happen to
    write), never another word (``préavis`` is not read as « preuve », nor
    ``salaire`` as « salarié »); when the lexicon lacks it but explains it
    (:meth:`Lexicon.derivation`: ``accordage``, accord + -age), only forms one
    edit away (a typo of a long word may look derived: ``gestionaires`` is
    still read as « gestionnaires », never ``accordage`` as « accordée »);
    else any of them (a typo).

    >>> from searchlib.query.french_words import FrenchWords
    >>> lemmas = [("regardent", "regarder"), ("regarde", "regarder")]
    >>> words = FrenchWords(["preuve", "preavis"], lemmas)
    >>> near = [Respelling("preuve", 2, 30), Respelling("regarde", 1, 5)]
    >>> [r.folded for r in readings("preavis", near, words)]
    []
    >>> [r.folded for r in readings("regardent", near, words)]
    ['regarde']
    >>> [r.folded for r in readings("preauve", near, words)]  # no French word: a typo
    ['preuve', 'regarde']
    >>> derived = [Respelling("accordee", 2, 30), Respelling("accords", 1, 5)]
    >>> [r.folded for r in readings("accordage", derived, FrenchWords(["accord"]))]
    ['accords']
    """
    found = list(found)
    if not found:
        return []
    if word in lexicon:
        return [r for r in found if lexicon.same_word(word, r.folded)]
    if lexicon.derivation(word) is not None:
        return [r for r in found if r.edits == 1]
    return found
