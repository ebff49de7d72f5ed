"""French words, to tell a word from a typo.

A query word that is a French word is never read as another (see
:mod:`searchlib.query.typos`): ``préavis`` is no typo of « preuve », nor
``salaire`` of « salarié », even in an index that does not hold them; such a
word is searched as typed, and reported when no passage holds it.

The words are those of two Python packages' French word lists (their code
is MIT-licensed; where their data comes from, and under which licences, see
``data/README.md``):

- pyspellchecker's (word frequencies from OpenSubtitles, cleaned): about
  132,000 forms, the everyday and legal words and their inflections
  (``préavis``, ``salariées``, ``licenciements``);
- simplemma's (form -> lemma, from lemmatization lists and Wiktionary): about
  234,000 forms, the rarer words and tenses (``contractuel``, ``dirigeâmes``),
  and the lemma of each (``regardent``: ``regarder``).

Together, 244,000 forms, kept folded (lower case, accents off: a query
typed without accents is the same word). searchlib ships them as data,
:data:`WORDS_FILE` (660 kB; the two packages are not needed to search): one
word a line, sorted, each followed by its lemmas other than itself; its
header names the two packages, their versions and licences (their licence
texts lie beside it). It is read once per process, when a query first holds
a word the index lacks (about 30 ms), and kept as one string of 4.6 MB
looked up by bisection. ``python -m searchlib.query._build_words`` makes it
again from the installed packages (see :mod:`searchlib.query._build_words`).

No list holds every word: French makes new ones from old ones. A word the
list lacks but explains (:meth:`FrenchWords.derivation`), a listed word after
a French prefix (``paratexte``: « texte ») or the base of a listed lemma with
a French suffix (``accordage``: « accord »; ``trinitaire``: « trinité »), is
probably French too: typo correction reads it only as a form one edit away,
never two (see :func:`searchlib.query.typos.readings`).

Example:
    >>> words = french_words()
    >>> "preavis" in words, "salaire" in words, "licenciment" in words
    (True, True, False)
    >>> "contrat" in FrenchWords(["Contrat", "préavis"]), "preavis" in FrenchWords(["préavis"])
    (True, True)
    >>> "accordage" in words, words.derivation("accordage")
    (False, 'accord')
"""

from __future__ import annotations

import functools
import threading
import zlib
from bisect import bisect_right
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

from searchlib.analysis.analyzer import fold
from searchlib.errors import SearchlibError

WORDS_FILE = Path(__file__).resolve().parent / "data" / "french_words.txt.gz"
"""The French words searchlib ships (gzip-compressed UTF-8 text, see :func:`read_words`)."""

FORMAT = "# searchlib French words, format 1"
"""The first line of a French word list file."""

_ABOUT = (
    "# One French word a line, folded (lower case, accents off), sorted; a word with\n"
    "# lemmas other than itself is followed by a tab and those lemmas, space-separated.\n"
    "# Made from the sources below by `python -m searchlib.query._build_words`.\n"
)

PREFIXES = frozenset(
    "anti archi auto bi bio co contre cyber de dis eco euro ex exa extra geo giga hyper hypo "
    "in infra inter intra kilo macro mal mega meta micro mini mono multi nano neo non para "
    "poly post pre pro proto pseudo re retro semi socio sous sub super supra sur tele tera "
    "trans tri ultra vice".split()
)
"""French prefixes (folded): a listed word after one is a French word
(``paratexte``, ``precommande``, ``transgenre``; see :meth:`FrenchWords.derivation`)."""

SUFFIXES = frozenset(
    "able ables abilite abilites age ages aire aires ance ances ateur ateurs atrice "
    "atrices ation ations elle elles ement ements ence ences erie eries ette ettes eur eurs "
    "euse euses eux ible ibles ien iens ienne iennes ier iere ieres iers ification "
    "ifications ifier ile iles ionnel ionnelle ionnelles ionnels ique iques isation "
    "isations ise iser ises isme ismes iste istes ite ites ition itions ive ives logie "
    "logies logue logues oide oides oir oire oires ose oses ure ures "
    "ant ants ent ez ons".split()
)
"""French suffixes (folded): derivational ones, with their plural and feminine
(``accordage``, ``trinitaire``, ``frictionnel``), and the endings of a verb
made from a word (``candidatent``: « candidat »). The base of a listed lemma
with one of them is a French word (see :meth:`FrenchWords.derivation`)."""

LEMMA_ENDINGS = ("", "e", "er", "ir", "re", "if", "al", "el", "ie", "ion", *sorted(SUFFIXES))
"""How a lemma a derived word comes from may end after their common base
(``accord``, ``teill-er``, ``trinit-e``, ``afflict-ion``)."""

MIN_BASE = 5
"""Letters of a derived word's base (what it shares with the listed word it
derives from), and of the listed word after a prefix, at least."""

_BUCKET = 4096
"""Characters of the word list searched after a bisection: one line in a few
hundred is indexed (indexing the 244,000 words takes a millisecond)."""


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
        forms: set[str] = set()
        for word in words:
            if word.isalpha():
                forms.add(folded(word))
        lemma_of: dict[str, set[str]] = {}  # form -> its lemmas other than itself
        for form, lemma in lemmas:
            if not (form.isalpha() and lemma.isalpha()):
                continue
            f, m = folded(form), folded(lemma)
            forms.add(f)
            forms.add(m)
            if f != m:
                lemma_of.setdefault(f, set()).add(m)
        lines = [f"{f}\t{' '.join(sorted(lemma_of[f]))}" if f in lemma_of else f for f in forms]
        lines.sort()  # by form: a tab sorts before any letter
        self._set_text("".join(f"\n{line}" for line in lines) + "\n", len(lines))

    def _set_text(self, text: str, count: int) -> None:
        """Keep ``text``, the lines (each after a newline, the last followed
        by one), and index one line in :data:`_BUCKET` characters."""
        starts: list[int] = []  # where each indexed line starts
        firsts: list[str] = []  # its word
        pos = 1
        while pos < len(text):
            line = text[pos : text.find("\n", pos)]
            starts.append(pos)
            firsts.append(line.partition("\t")[0])
            end = text.find("\n", pos + _BUCKET)  # the end of the line holding that character
            if end < 0:
                break
            pos = end + 1
        starts.append(len(text))
        self._text = text
        self._starts = starts
        self._firsts = firsts
        self._count = count

    def _end(self, word: str) -> int:
        """Where ``word``'s line goes on after the word (a tab or a newline),
        or -1 when it is no word."""
        if not word or "\n" in word or "\t" in word:
            return -1
        b = bisect_right(self._firsts, word) - 1
        if b < 0:
            return -1
        # The first line of the bucket that starts with the word is the word's, if any:
        # the lines are sorted, and the word sorts before the longer words it starts.
        text = self._text
        i = text.find(f"\n{word}", self._starts[b] - 1, self._starts[b + 1])
        if i < 0:
            return -1
        end = i + 1 + len(word)
        return end if text[end] in "\t\n" else -1

    def __contains__(self, word: object) -> bool:
        """Whether ``word`` (lower case, folded) is one of the words."""
        return isinstance(word, str) and self._end(word) >= 0

    def __len__(self) -> int:
        return self._count

    def __iter__(self) -> Iterator[str]:
        """The words, sorted."""
        return (line.partition("\t")[0] for line in self._text.split("\n") if line)

    def lemmas(self, word: str) -> frozenset[str]:
        """The lemmas of ``word`` (folded), itself among them; none when it is no word.

        >>> FrenchWords([], [("Regardent", "regarder")]).lemmas("regardent") == {
        ...     "regardent",
        ...     "regarder",
        ... }
        True
        """
        end = self._end(word)
        if end < 0:
            return frozenset()
        text = self._text
        if text[end] == "\n":
            return frozenset((word,))
        return frozenset((word, *text[end + 1 : text.find("\n", end)].split(" ")))

    def derivation(self, word: str) -> str | None:
        """The listed word ``word`` (folded) derives from, when the list lacks it:
        a listed word after a French prefix (:data:`PREFIXES`), or a listed
        lemma (a word the list gives no other lemma) whose base
        (:data:`MIN_BASE` letters or more) ``word`` ends with a French suffix
        (:data:`SUFFIXES`): ``accordage``, « accord »; ``relanceur``,
        « relancer », not « relança ». ``None`` when the list holds ``word`` or
        explains it neither way.

        >>> words = FrenchWords(["texte", "accord", "trinite"])
        >>> [words.derivation(w) for w in ("paratexte", "accordage", "trinitaire", "accordxe")]
        ['texte', 'accord', 'trinite', None]
        """
        if not word.isalpha() or word in self:
            return None
        for i in range(2, len(word) - MIN_BASE + 1):
            if word[:i] in PREFIXES and word[i:] in self:
                return word[i:]
        for i in range(MIN_BASE, len(word)):
            if word[i:] not in SUFFIXES:
                continue
            base = word[:i]
            for ending in LEMMA_ENDINGS:
                lemma = base + ending
                if lemma != word and self.lemmas(lemma) == {lemma}:
                    return lemma
        return None

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


def format_words(words: FrenchWords, sources: Sequence[str]) -> str:
    """The text of a French word list file (see :func:`read_words`): a header
    naming the ``sources`` (one line each), then the words.

    >>> text = format_words(FrenchWords(["préavis"], [("regardent", "regarder")]), ["a list"])
    >>> print(text.split("\\n# source")[0])
    # searchlib French words, format 1
    # One French word a line, folded (lower case, accents off), sorted; a word with
    # lemmas other than itself is followed by a tab and those lemmas, space-separated.
    # Made from the sources below by `python -m searchlib.query._build_words`.
    >>> text.splitlines()[4:]
    ['# source: a list', '# words: 3', 'preavis', 'regardent\\tregarder', 'regarder']
    """
    if any("\n" in s for s in sources):
        raise ValueError("a source is one line")
    head = "".join(f"# source: {s}\n" for s in sources)
    return f"{FORMAT}\n{_ABOUT}{head}# words: {len(words)}{words._text}"


def write_words(path: Path, words: FrenchWords, sources: Sequence[str]) -> None:
    """Write ``words`` to ``path`` as :func:`read_words` reads them (gzip, the
    same bytes for the same words and sources)."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)  # 31: gzip, no name, no time
    data = format_words(words, sources).encode("utf-8")
    path.write_bytes(packer.compress(data) + packer.flush())


def read_words(path: Path) -> FrenchWords:
    """The French words of ``path``, a file :func:`write_words` wrote.

    The file is data: gzip-compressed UTF-8 text (its checksum guards the
    bytes), a header of ``#`` lines (the format, the sources, the number of
    words), then one word a line, sorted, each followed by a tab and its
    lemmas when it has some other than itself.

    Raises:
        SearchlibError: the file is missing, unreadable, or no French word
            list (the message names the file, and the line when it can).
    """
    try:
        raw = path.read_bytes()
    except FileNotFoundError as e:
        raise SearchlibError(
            f"{path}: searchlib's French word list is missing (reinstall searchlib)"
        ) from e
    except OSError as e:
        raise SearchlibError(f"{path}: cannot read the French word list ({e.strerror})") from e
    try:
        unpacker = zlib.decompressobj(31)
        data = unpacker.decompress(raw)
        if not unpacker.eof or unpacker.unused_data:
            raise zlib.error("truncated" if not unpacker.eof else "data after the end")
        text = data.decode("utf-8")
    except (zlib.error, UnicodeDecodeError) as e:
        raise SearchlibError(
            f"{path}: corrupt French word list, not gzip-compressed UTF-8 text ({e})"
        ) from e
    del raw, data

    def corrupt(pos: int, what: str) -> SearchlibError:
        line = text.count("\n", 0, pos) + 1
        return SearchlibError(f"{path}, line {line}: corrupt French word list ({what})")

    if not text.startswith(f"{FORMAT}\n"):
        raise corrupt(0, f"the first line is not {FORMAT!r}")
    count = None
    pos = 0  # the start of the header line read
    while text.startswith("#", pos):
        end = text.find("\n", pos)
        if end < 0:
            raise corrupt(pos, "no words after the header")
        if text.startswith("# words: ", pos):
            number = text[pos + len("# words: ") : end]
            if not number.isdigit():
                raise corrupt(pos, "the number of words is no number")
            count = int(number)
        pos = end + 1
    if count is None:
        raise corrupt(pos, "the header gives no number of words")
    body = text[pos - 1 :]  # each line after a newline
    lines = body.count("\n") - 1
    if lines != count or not body.endswith("\n"):
        raise corrupt(pos, f"{lines:,} words where the header says {count:,}")
    blank = body.find("\n\n")
    if blank >= 0:
        raise corrupt(pos + blank, "a blank line")
    words = FrenchWords.__new__(FrenchWords)
    words._set_text(body, count)
    for previous, first, start in zip(
        ["", *words._firsts], words._firsts, words._starts, strict=False
    ):
        if not first or " " in first or first <= previous:
            raise corrupt(pos + start - 1, f"{first!r} is no word sorted after the one before")
    return words


NO_WORDS = FrenchWords(())
"""No words: typos are then corrected from the index alone."""

_lock = threading.Lock()


@functools.cache
def _load() -> FrenchWords:
    return read_words(WORDS_FILE)


def french_words() -> FrenchWords:
    """The French words of pyspellchecker's and simplemma's lists (read once per process).

    Raises:
        SearchlibError: :data:`WORDS_FILE` is missing or corrupt.
    """
    with _lock:
        return _load()
