"""Did-you-mean and completion, from the index's own vocabulary.

:func:`suggest` proposes a query that finds more than the one typed: each
plain word whose written form is rare or absent in the index (see
:data:`SUGGEST_RARE`) gets the closest, more frequent written forms as
options (within the edits its length allows, see
:func:`searchlib.query.typos.max_edits`), and the combination whose words
occur together in the most passages wins: the suggestion as a whole must
find more passages holding all its words than the query does. It is
written as the documents write it: accents, apostrophes and hyphens
restored (``etats unis pendemie`` -> « États-Unis pandémie »).

:func:`complete` gives the likeliest completions of the last, unfinished
word of a query being typed (``rupture conv`` -> « rupture conventionnelle »):
written forms of the index starting with it (folded: ``eco`` finds
« économique »), those found with the query's other words first, then the
most frequent.

Both read the index through an :class:`~searchlib.query.compiler.IndexTerms`
(a searcher's state): written forms, their frequencies, and how many
passages hold several words at once.
"""

from __future__ import annotations

import heapq
import itertools
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol

from searchlib.analysis.analyzer import FrenchAnalyzer, fold, normalize_text
from searchlib.analysis.filters import (
    FrenchLowercaseFilter,
    OrdinalFilter,
    StopDropFilter,
    StopFlagFilter,
)
from searchlib.analysis.tokenizer import APOSTROPHES, INVISIBLE, FrenchTokenizer
from searchlib.query.compiler import MAX_CORRECTED, IndexTerms
from searchlib.query.language import SEARCH_FIELDS, BoolOp, Group, Node, Word, parse
from searchlib.query.typos import max_edits
from searchlib.results import Suggestion

SUGGEST_RARE = 3
"""A query word whose written form is in fewer passages than this gets options."""

MAX_OPTIONS = 3
"""Options tried per word (besides the word as typed)."""

MAX_COMBINATIONS = 64
"""Combinations of options whose matches are counted, at most."""

ENOUGH = 10
"""A query whose words occur together in fewer passages finds little: only
then is a suggestion looked for (and made when it finds more)."""

MIN_COMPLETION = 2
"""Shortest unfinished word (letters, folded) that is completed."""

_WORDLIKE = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")

CONTEXT_WORDS = 3
"""Words before the last one (the nearest) that completions are weighed with."""

CO_OCCURRENCE_CANDIDATES = 24
"""Completions (the most frequent) ranked by how often they occur with the other words."""


@dataclass(frozen=True, slots=True)
class Completion:
    """A completion of the query being typed.

    Attributes:
        query: the whole query, its last word completed.
        word: the completed word, as the documents write it.
        frequency: passages holding the word.
        matches: passages holding it and every other word of the query (its
            frequency when the query has no other word).
    """

    query: str
    word: str
    frequency: int
    matches: int


@dataclass
class _Slot:
    start: int
    end: int
    typed: str  # as typed
    folded: str  # lower case, folded
    options: list[tuple[str, str, int]]  # (folded form, index term, edits); [0] is the word itself


def _plain_words(node: Node) -> Iterator[Word]:
    """The plain words of a query (not negated, not in phrases), in order."""
    if isinstance(node, Word):
        if node.kind == "word":
            yield node
    elif isinstance(node, Group | BoolOp):
        for item in node.items:
            yield from _plain_words(item)


def _slots(query: str, analyzer: FrenchAnalyzer, state: IndexTerms) -> list[_Slot]:
    slots = []
    for node in _plain_words(parse(query)):
        text = normalize_text(node.text)
        if len(text) != len(node.text):
            continue
        tokens = [t for t in analyzer.tokens(text, mode="query") if not t.compound]
        if len(tokens) != 1 or tokens[0].stopped:
            continue
        tok = tokens[0]
        typed = text[tok.start : tok.end]
        folded = fold(typed.lower())
        slots.append(
            _Slot(
                node.start + tok.start, node.start + tok.end, typed, folded, [(folded, tok.text, 0)]
            )
        )
    return slots


def _stem(analyzer: FrenchAnalyzer, form: str) -> str | None:
    tokens = [t for t in analyzer.tokens(form, mode="query") if not t.compound]
    return tokens[0].text if len(tokens) == 1 else None


def _add_options(slot: _Slot, analyzer: FrenchAnalyzer, state: IndexTerms) -> None:
    if len(slot.folded) > MAX_CORRECTED:
        return
    own = state.surface_frequency(slot.folded)
    edits = max_edits(slot.folded)
    if own >= SUGGEST_RARE or edits == 0 or not slot.folded.isalpha():
        return
    found = []
    for form, distance in state.surfaces().within(slot.folded, edits):
        f = state.surface_frequency(form)
        term = _stem(analyzer, form)
        if f > own and term is not None and term != slot.options[0][1]:
            found.append((distance, -f, form, term))
    found.sort()
    terms = {slot.options[0][1]}
    for distance, _, form, term in found:
        if term not in terms:
            terms.add(term)
            slot.options.append((form, term, distance))
        if len(slot.options) > MAX_OPTIONS:
            break


def suggest(
    query: str,
    state: IndexTerms,
    analyzer: FrenchAnalyzer,
    *,
    fields: Sequence[str] = SEARCH_FIELDS,
) -> Suggestion | None:
    """A query that finds more than ``query``, written as the documents write it.

    ``None`` when none of its words is rare in the index, when the query's
    plain words already occur together in :data:`ENOUGH` passages (checked
    before any respelling is looked for: a query that finds enough costs
    nothing more), or when no combination of respellings finds more passages
    holding all the words.

    Args:
        query: the query as typed.
        state: the index's terms (a searcher's state).
        analyzer: the index's analyzer.
        fields: the fields plain words are searched in.
    """
    slots = _slots(query, analyzer, state)
    if not any(state.surface_frequency(s.folded) < SUGGEST_RARE for s in slots):
        return None  # no rare word: nothing to respell (and nothing is looked up)
    fields = tuple(fields)
    if state.matching([[s.options[0][1]] for s in slots], fields) >= ENOUGH:
        return None  # the words occur together often enough: the results are not poor
    for slot in slots:
        _add_options(slot, analyzer, state)
    if not any(len(s.options) > 1 for s in slots):
        return None

    def score(combination: tuple[int, ...]) -> tuple[int, int]:
        """Passages holding all the words; how many words the index knows
        (their term found, and their written form)."""
        chosen = [s.options[i] for s, i in zip(slots, combination, strict=True)]
        terms = [term for _, term, _ in chosen]
        known = sum(1 for t in terms if any(state.doc_frequency(f, t) for f in fields))
        known += sum(1 for form, _, _ in chosen if form in state.surfaces())
        return state.matching([[t] for t in terms], fields), known

    typed = score(tuple(0 for _ in slots))
    best: tuple[int, int, int, tuple[int, ...]] | None = None
    choices = [range(len(s.options)) for s in slots]
    for combination in itertools.islice(itertools.product(*choices), MAX_COMBINATIONS):
        if not any(combination):
            continue
        found, known = score(combination)
        edits = sum(s.options[i][2] for s, i in zip(slots, combination, strict=True))
        key = (found, known, -edits, tuple(-i for i in combination))
        if best is None or key > best:
            best = key
    if best is None or not _finds_more(typed, (best[0], best[1])):
        return None
    combination = tuple(-i for i in best[3])
    forms = [s.options[i][0] for s, i in zip(slots, combination, strict=True)]
    return _written(query, slots, forms, combination, best[0], state)


def _finds_more(typed: tuple[int, int], suggested: tuple[int, int]) -> bool:
    """Whether a suggestion finds more: passages holding all its words (at
    least 3 times as many as the query's, or some where the query has none
    or few), or as many but more of its words in the index.

    >>> _finds_more((0, 1), (0, 2)), _finds_more((40, 2), (60, 2)), _finds_more((40, 2), (130, 2))
    (True, False, True)
    """
    typed_found, typed_known = typed
    found, known = suggested
    if found >= 3 * typed_found + 1:
        return True
    return typed_found < ENOUGH and (found, known) > (typed_found, typed_known)


def _written(
    query: str,
    slots: list[_Slot],
    forms: list[str],
    combination: tuple[int, ...],
    matches: int,
    state: IndexTerms,
) -> Suggestion:
    """The suggestion's text: each word as the documents write it, two
    neighbours the documents write as one (États-Unis) joined."""
    out: list[str] = []
    changed: list[tuple[int, int]] = []
    pos = 0
    i = 0
    length = 0
    while i < len(slots):
        slot, form = slots[i], forms[i]
        end, was_changed = slot.end, combination[i] > 0
        written = state.written(form) if form in state.surfaces() else slot.typed
        if i + 1 < len(slots) and not query[slot.end : slots[i + 1].start].strip():
            joined = form + forms[i + 1]
            f = state.surface_frequency(joined)
            if f and 4 * f >= min(
                state.surface_frequency(form), state.surface_frequency(forms[i + 1])
            ):
                written = state.written(joined)
                end = slots[i + 1].end
                was_changed = was_changed or combination[i + 1] > 0
                i += 1
        before = query[pos : slot.start]
        if was_changed and before.endswith("+"):
            before = before[:-1]  # +word kept a typo as typed: not the suggestion
        out.append(before)
        length += len(before)
        if was_changed:
            changed.append((length, length + len(written)))
        out.append(written)
        length += len(written)
        pos = end
        i += 1
    out.append(query[pos:])
    return Suggestion("".join(out), matches, tuple(changed))


def complete(
    text: str,
    state: IndexTerms,
    analyzer: FrenchAnalyzer,
    *,
    limit: int = 10,
    fields: Sequence[str] = SEARCH_FIELDS,
) -> list[Completion]:
    """The likeliest completions of the last word of ``text`` (a query being typed).

    The written forms of the index that start with the last word (folded, at
    least :data:`MIN_COMPLETION` letters; nothing when ``text`` ends with a
    space: the word is finished), the :data:`CO_OCCURRENCE_CANDIDATES` most
    frequent ranked by how many passages hold them with the query's
    :data:`CONTEXT_WORDS` plain words before the last, then by frequency;
    accents as the documents write them.

    Args:
        text: the query as typed so far.
        state: the index's terms (a searcher's state).
        analyzer: the index's analyzer.
        limit: completions wanted.
        fields: the fields plain words are searched in.
    """
    last = last_word(text)
    if last is None:
        return []
    start, word = last
    prefix = fold(normalize_text(word).lower())
    if len(prefix) < MIN_COMPLETION or limit < 1:
        return []
    candidates = state.completions(prefix, max(limit, CO_OCCURRENCE_CANDIDATES))
    if not candidates:
        return []
    fields = tuple(fields)
    others = []
    for slot in _slots(text[:start], analyzer, state)[-CONTEXT_WORDS:]:
        own = slot.options[0][1]
        if any(state.doc_frequency(f, own) for f in fields):  # words found nowhere: ignored
            others.append([own])
    # One completion per index term: its most frequent form (conventionnelle,
    # not conventionnelles too) that is a word as the documents write it.
    by_term: dict[str, list[tuple[str, int]]] = {}
    for form, frequency in candidates:
        if form == prefix or not _WORDLIKE.fullmatch(form):
            continue  # typed already; or no word (licenciement.la)
        term = _stem(analyzer, form) or form
        by_term.setdefault(term, []).append((form, frequency))
    terms = list(by_term)
    counts = state.co_occurrences(others, terms, fields) if others else None
    out = []
    for matches, frequency, form in _best_words(by_term, counts, state, limit):
        written = state.written(form)
        if not any(c in written for c in "-'’"):
            written = written.lower()  # a capital opening a sentence is no spelling
        out.append(Completion(text[:start] + written, written, frequency, matches))
    return out


# Filters that give a term of letters only from a word's own letters,
# lowercased: an ordinal filter gives a word as it is or a number (``13e``).
_LOWERCASE_ONLY = (FrenchLowercaseFilter, StopDropFilter, StopFlagFilter, OrdinalFilter)
# What a word may hold between two letters that its terms leave out: the
# hyphens, dots and apostrophes that join its parts, invisible characters.
_JOINERS = f"-.{APOSTROPHES}{INVISIBLE}"


def count_written(text: str, term: str, analyzer: FrenchAnalyzer, counts: dict[str, int]) -> None:
    """Add to ``counts`` each piece of ``text`` that ``analyzer`` (an index's
    ``exact`` analyzer) reads as ``term``, once per time it does.

    The same counts as ``text[t.start:t.end]`` for each of
    ``analyzer.matching_tokens(text, {term})``, without analysing every word
    of ``text``: for a chain that only lowercases words (drops stop words,
    spells ordinals as numbers) and a term of letters, a word that gives the
    term holds its letters in order (case folded), with at most hyphens,
    dots, apostrophes or invisible characters between them. Only the pieces
    between blanks that do are analysed, each alone (a text cut at its
    blanks gives the same words piece by piece, see
    :attr:`FrenchTokenizer.across_blanks`; when such a piece may end a word
    begun before its blank, the whole text is read).

    >>> counts = {}
    >>> count_written("Le Prud’homme et les prud’hommes, prud'homme.", "prudhomme",
    ...               FrenchAnalyzer().exact_form(), counts)
    >>> counts
    {'Prud’homme': 1, "prud'homme": 1}
    """
    pieces = _candidate_pieces(text, term, analyzer)
    if pieces is None:
        pieces = [text]
    for piece in pieces:
        for tok in analyzer.matching_tokens(piece, {term}, mode="index"):
            written = piece[tok.start : tok.end]
            counts[written] = counts.get(written, 0) + 1


def _candidate_pieces(text: str, term: str, analyzer: FrenchAnalyzer) -> list[str] | None:
    """The pieces of ``text`` between blanks that may give ``term`` (see
    :func:`count_written`), ``None`` when the whole text must be read."""
    items = analyzer.items
    tokenizer = items[0] if items else None
    if (
        not term.isalpha()
        or not isinstance(tokenizer, FrenchTokenizer)
        or not all(isinstance(item, _LOWERCASE_ONLY) for item in items[1:])
    ):
        return None
    candidates = _pieces_writing(text, term)
    across = tokenizer.across_blanks
    if across is not None and any(across.match(p) for p in candidates):
        return None
    return candidates


def _pieces_writing(text: str, term: str) -> list[str]:
    """The pieces of ``text`` between blanks that hold the letters of ``term``
    (lower case), with at most :data:`_JOINERS` between them."""
    # Lowercasing maps each character alone, but for the final sigma: read as σ.
    low = text.lower().replace("ς", "σ")
    wanted = term.replace("ς", "σ")
    at = _occurrences(low, wanted)
    if len(low) != len(text) or len(_occurrences(_without_joiners(low), wanted)) != len(at):
        # Offsets moved (İ), or the letters stand apart somewhere: piece by piece.
        pieces = text.split()
        lines = _without_joiners("\n".join(pieces).lower().replace("ς", "σ"))
        found = {lines.count("\n", 0, i) for i in _occurrences(lines, wanted)}
        return [pieces[i] for i in sorted(found)]
    out: list[str] = []
    end = 0
    for i in at:
        if i < end:
            continue  # in the piece already taken
        start, end = i, i + len(wanted)
        while start and not text[start - 1].isspace():
            start -= 1
        while end < len(text) and not text[end].isspace():
            end += 1
        out.append(text[start:end])
    return out


def _occurrences(text: str, part: str) -> list[int]:
    """Where ``part`` starts in ``text``, overlaps included."""
    found = []
    at = text.find(part)
    while at >= 0:
        found.append(at)
        at = text.find(part, at + 1)
    return found


def _without_joiners(text: str) -> str:
    for c in _JOINERS:
        if c in text:
            text = text.replace(c, "")
    return text


class WrittenForms(Protocol):
    """What :func:`_best_words` asks of the index (an :class:`IndexTerms` has it)."""

    def written(self, folded: str) -> str:
        """How the documents write the form ``folded``."""
        ...


def _best_words(
    by_term: dict[str, list[tuple[str, int]]],
    counts: Sequence[int] | None,
    state: WrittenForms,
    limit: int,
) -> Iterator[tuple[int, int, str]]:
    """``(matches, frequency, form)`` of the best ``limit`` terms, best first:
    by matches (else frequency), then frequency, then form; each term by its
    first form (most frequent) that the documents write as a word.

    How a form is written costs a look into passages: it is looked up only
    for the terms that come up, best first. A term whose form is refused
    comes back with its next form, ranked no better than before, so the terms
    come out in the order a full sort of the accepted forms gives.
    """
    heap = []
    for i, (term, forms) in enumerate(by_term.items()):
        form, frequency = forms[0]
        matches = counts[i] if counts is not None else frequency
        heap.append((-matches, -frequency, form, term, 0, matches))
    heapq.heapify(heap)
    found = 0
    while heap and found < limit:
        _, _, form, term, at, matches = heapq.heappop(heap)
        forms = by_term[term]
        frequency = forms[at][1]
        if _WORDLIKE.fullmatch(state.written(form)):
            found += 1
            yield matches, frequency, form
        elif at + 1 < len(forms):  # words glued by punctuation (licenciement.L'employeur)
            form, frequency = forms[at + 1]
            if counts is None:
                matches = frequency
            heapq.heappush(heap, (-matches, -frequency, form, term, at + 1, matches))


class StartForms:
    """The written forms (folded) of an index that start with two letters, read
    from its sorted term dictionary instead of from all its forms.

    What :meth:`SurfaceVocabulary.with_prefix <searchlib.query.typos.SurfaceVocabulary.with_prefix>`
    and :meth:`~searchlib.query.typos.SurfaceVocabulary.forms` give for forms
    of that start, with their passage counts, read in three stretches of the
    dictionary (its terms are lower case): the terms that start with the two
    letters; those that start with the first and then a letter beyond ASCII
    (``cé``, folded ``ce``); those that start with a letter beyond ASCII
    (``é``, ``œ``). A term that starts with two ASCII characters folds to a
    form that starts with them.

    Args:
        start: two letters, folded (ASCII, lower case).
        terms_from: the dictionary's terms from a given one on, in order,
            each with the passages holding it.
        accented: :func:`accented_forms` of the same dictionary, if read
            already (the same for every start).

    Example:
        >>> terms = ["cafe", "ceder", "cote", "cèdre", "céder", "écrit", "œuvre"]
        >>> def terms_from(at):
        ...     return ((t, 1) for t in sorted(terms, key=str.encode) if t.encode() >= at.encode())
        >>> starts = StartForms("ce", terms_from)
        >>> starts.ranked(), starts.forms("ceder")
        ([('ceder', 2), ('cedre', 1)], ['ceder', 'céder'])
    """

    def __init__(
        self,
        start: str,
        terms_from: Callable[[str], Iterable[tuple[str, int]]],
        accented: Sequence[tuple[str, str, int]] | None = None,
    ) -> None:
        if len(start) != 2 or not start.isascii():
            raise ValueError(f"a start is two ASCII letters, not {start!r}")
        self.start = start
        self.by_fold: dict[str, list[str]] = {}
        self.frequency: dict[str, int] = {}
        for at, keep in ((start, start), (start[0] + "\x80", start[0])):
            for text, passages in terms_from(at):
                if not text.startswith(keep):
                    break
                self._add(text, fold(text), passages)
        for text, folded, passages in accented or accented_forms(terms_from):
            self._add(text, folded, passages)

    def _add(self, text: str, folded: str, passages: int) -> None:
        if folded.startswith(self.start):
            self.by_fold.setdefault(folded, []).append(text)
            self.frequency[folded] = self.frequency.get(folded, 0) + passages

    def ranked(self) -> list[tuple[str, int]]:
        """The folded forms with their passage counts, most frequent first (then by form)."""
        return sorted(self.frequency.items(), key=lambda x: (-x[1], x[0]))

    def forms(self, folded: str) -> list[str]:
        """The written forms that fold to ``folded`` (one of this start's), ``[]`` when none."""
        return self.by_fold.get(folded, [])


def accented_forms(
    terms_from: Callable[[str], Iterable[tuple[str, int]]],
) -> list[tuple[str, str, int]]:
    """The terms of a dictionary that start with a letter beyond ASCII, each
    with its folded form and the passages holding it (see :class:`StartForms`)."""
    return [(text, fold(text), passages) for text, passages in terms_from("\x80")]


def last_word(text: str) -> tuple[int, str] | None:
    """Offset and text of the unfinished last word of ``text`` (``None`` when
    ``text`` ends with a space, a quote or an operator's parenthesis).

    >>> last_word("rupture conv"), last_word("rupture "), last_word("l'indemn")
    ((8, 'conv'), None, (2, 'indemn'))
    """
    if not text or not text[-1].isalnum():
        return None
    i = len(text)
    while i > 0 and (text[i - 1].isalnum() or text[i - 1] in "-"):
        i -= 1
    word = text[i:].lstrip("-")
    return (len(text) - len(word), word) if word else None
