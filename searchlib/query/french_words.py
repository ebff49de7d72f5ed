"""French words, to tell a word from a typo.

A query word that is a French word is never read as another (see
:mod:`searchlib.query.typos`): ``préavis`` is no typo of « preuve », nor
``salaire`` of « salarié », even in an index that does not hold them; such a
word is searched as typed, and reported when no passage holds it.

The words are those of two French word lists, both MIT-licensed and
installed with searchlib (nothing is downloaded):

- pyspellchecker's (word frequencies from OpenSubtitles, cleaned against a
  French dictionary): about 132,000 forms, the everyday and legal words and
  their inflections (``préavis``, ``salariées``, ``licenciements``);
- simplemma's (the inflected forms of Wiktionary's French lemmas): about
  234,000 forms, the rarer words and tenses (``surjectif``, ``dirigeâmes``).

Together, 244,000 forms, kept folded (lower case, accents off: a query
typed without accents is the same word), read once per process when a
query first holds a word the index lacks.

Example:
    >>> words = french_words()
    >>> "preavis" in words, "salaire" in words, "licenciment" in words
    (True, True, False)
    >>> "contrat" in FrenchWords(["Contrat", "préavis"]), "preavis" in FrenchWords(["préavis"])
    (True, True)
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterable, Iterator

from searchlib.analysis.analyzer import fold


class FrenchWords:
    """A set of words, looked up folded (lower case, accents off), and the
    lemmas of some (``regardent`` and ``regarde``: ``regarder``).

    Args:
        words: the words, as written (``préavis``); only words of letters
            alone are kept (``abat-jour`` and ``aujourd'hui`` are several
            query words, never corrected as one).
        lemmas: ``(form, lemma)`` pairs, as written (``("regardent",
            "regarder")``); their forms are words too.
    """

    def __init__(self, words: Iterable[str], lemmas: Iterable[tuple[str, str]] = ()) -> None:
        folded = _Folder()
        forms: dict[str, str] = {}  # each folded form once (lemmas share the forms' strings)
        for word in words:
            if word.isalpha():
                f = folded(word)
                forms.setdefault(f, f)
        lemma_of: dict[str, str] = {}  # form -> its lemmas other than itself, space-separated
        for form, lemma in lemmas:
            if not (form.isalpha() and lemma.isalpha()):
                continue
            f, m = folded(form), folded(lemma)
            f, m = forms.setdefault(f, f), forms.setdefault(m, m)
            if f != m:
                known = lemma_of.get(f)
                if known is None:
                    lemma_of[f] = m
                elif m not in known.split():
                    lemma_of[f] = f"{known} {m}"
        self._words = frozenset(forms)
        self._lemmas = lemma_of

    def __contains__(self, word: object) -> bool:
        """Whether ``word`` (lower case, folded) is one of the words."""
        return word in self._words

    def __len__(self) -> int:
        return len(self._words)

    def __iter__(self) -> Iterator[str]:
        return iter(self._words)

    def lemmas(self, word: str) -> frozenset[str]:
        """The lemmas of ``word`` (folded), itself among them; none when it is no word.

        >>> FrenchWords([], [("Regardent", "regarder")]).lemmas("regardent") == {
        ...     "regardent",
        ...     "regarder",
        ... }
        True
        """
        if word not in self._words:
            return frozenset()
        others = self._lemmas.get(word)
        return frozenset((word, *others.split())) if others else frozenset((word,))

    def same_word(self, a: str, b: str) -> bool:
        """Whether two words (folded) are forms of one: a lemma in common.

        >>> words = FrenchWords([], [("regardent", "regarder"), ("regarde", "regarder")])
        >>> words.same_word("regardent", "regarde"), words.same_word("regarde", "cogne")
        (True, False)
        """
        return bool(self.lemmas(a) & self.lemmas(b))


class _Folder:
    """Folds words as :func:`~searchlib.analysis.analyzer.fold` does (lower
    case first), fast: each letter is folded once (French words use a few
    dozen; folding 400,000 words one by one takes seconds)."""

    def __init__(self) -> None:
        self.table: dict[int, str] = {}

    def __call__(self, word: str) -> str:
        word = word.lower()
        if word.isascii():
            return word
        table = self.table
        for c in word:
            if ord(c) not in table:
                table[ord(c)] = fold(c)
        return word.translate(table)


NO_WORDS = FrenchWords(())
"""No words: typos are then corrected from the index alone."""

_lock = threading.Lock()


@functools.cache
def _load() -> FrenchWords:
    # Imported when first needed: importing simplemma takes 60 ms.
    from simplemma.strategies.dictionaries import DefaultDictionaryFactory  # noqa: PLC0415
    from spellchecker import SpellChecker  # noqa: PLC0415

    words = SpellChecker(language="fr", distance=1).word_frequency.dictionary
    # Inflected forms to their lemmas (every lemma is a form too).
    lemmas = DefaultDictionaryFactory(cache_max_size=0).get_dictionary("fr")
    return FrenchWords(words, lemmas.items())


def french_words() -> FrenchWords:
    """The French words of pyspellchecker's and simplemma's lists (read once per process)."""
    with _lock:
        return _load()
