"""Highlighting: snippets as data (text + spans), rendered on demand.

The stored text is analysed again with offsets; every token whose term the
query matched is marked where it stands in the original, accented text, so
``federale`` marks ``fédérale`` and ``url`` marks ``URL`` in ``L’URL`` (not
the ``L’``). Phrase matches are marked as one span.

Documents may hold control characters (an ANSI or OSC escape sequence, a
carriage return, a bidirectional override): every rendering shows them
visibly escaped (:func:`visible`: ``^[`` for ESC, ``<U+202E>``...), as
``less`` and ``git`` do, so that printing a snippet never drives the
terminal.

Example:
    >>> from searchlib.analysis.analyzer import FrenchAnalyzer
    >>> spec = MatchSpec(terms=frozenset({"federal"}))
    >>> highlight("Un jugement de la cour fédérale.", FrenchAnalyzer(), spec).to_html()
    'Un jugement de la cour <mark>fédérale</mark>.'
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from searchlib._frozen import quick_init
from searchlib.analysis.analyzer import FrenchAnalyzer, Matched

ANSI_MARK = ("\x1b[1;33m", "\x1b[0m")
_SLACK = 12  # characters a fragment may grow by to reach the start or end of the text
ELLIPSIS = "…"


def _visible_table() -> dict[int, str]:
    table: dict[int, str] = {}
    for code in range(0x20):
        if chr(code) not in "\t\n":
            table[code] = "^" + chr(code + 0x40)  # caret notation: ESC is ^[, BEL ^G, CR ^M
    table[0x7F] = "^?"
    invisible = [
        *range(0x80, 0xA0),  # C1 controls (0x9B is a one-byte CSI)
        0x061C,  # Arabic letter mark
        0x200E,  # left-to-right and right-to-left marks
        0x200F,
        *range(0x202A, 0x202F),  # bidirectional embeddings and overrides
        *range(0x2066, 0x206A),  # bidirectional isolates
        0x2028,  # line and paragraph separators
        0x2029,
    ]
    for code in invisible:
        table[code] = f"<U+{code:04X}>"
    return table


_VISIBLE = _visible_table()
_SHOWN = re.compile("[" + "".join(re.escape(chr(c)) for c in sorted(_VISIBLE)) + "]")
"""Finds a character :func:`visible` shows otherwise (most texts hold none)."""


def visible(text: str, *, newlines: bool = True) -> str:
    """``text`` with its control characters shown, never interpreted by a terminal.

    C0 controls in caret notation (``\\x1b`` -> ``^[``, ``\\r`` -> ``^M``), DEL as
    ``^?``, C1 controls and the invisible bidirectional and line-separator
    characters as ``<U+XXXX>``. Tabs are kept, and line feeds too unless
    ``newlines`` is false (then ``^J``).

    >>> visible("\\x1b]0;pwned\\x07 et \\x1b[2J")
    '^[]0;pwned^G et ^[[2J'
    """
    out = text.translate(_VISIBLE) if _SHOWN.search(text) else text
    return out if newlines else out.replace("\n", "^J")


@quick_init
@dataclass(frozen=True, slots=True)
class MatchSpec:
    """What a query matched: single terms and term sequences (phrases)."""

    terms: frozenset[str] = frozenset()
    phrases: tuple[tuple[str, ...], ...] = ()

    def __bool__(self) -> bool:
        return bool(self.terms or self.phrases)


@dataclass(frozen=True, slots=True)
class Fragment:
    """A piece of the source text with marked spans.

    Attributes:
        text: the piece, exactly as stored.
        start: offset of ``text`` in the source.
        spans: ``(start, end)`` pairs relative to ``text``, sorted, disjoint.
        cut_before / cut_after: whether the source goes on before / after.
    """

    text: str
    start: int
    spans: tuple[tuple[int, int], ...]
    cut_before: bool = False
    cut_after: bool = False

    def _render(self, mark: tuple[str, str], escape: bool, oneline: bool) -> str:
        """The text with ``mark`` around each span, control characters made
        visible (and HTML-escaped when ``escape``), no ellipsis."""
        text = self.text.replace("\n", " ") if oneline else self.text
        esc = _html_visible if escape else visible
        out: list[str] = []
        pos = 0
        for a, b in self.spans:
            out.append(esc(text[pos:a]))
            out.append(mark[0] + esc(text[a:b]) + mark[1])
            pos = b
        out.append(esc(text[pos:]))
        return "".join(out)


def _html_visible(s: str) -> str:
    return html.escape(visible(s))


@dataclass(frozen=True, slots=True)
class Snippet:
    """The best fragments of a text for a query, as data."""

    fragments: tuple[Fragment, ...] = field(default_factory=tuple)

    @property
    def text(self) -> str:
        """Fragments as plain text, joined with an ellipsis, no markers."""
        return self.to_text(mark=("", ""))

    @property
    def spans(self) -> list[tuple[int, int]]:
        """Marked spans as offsets into the *source* text."""
        return [(f.start + a, f.start + b) for f in self.fragments for a, b in f.spans]

    def _join(self, mark: tuple[str, str], escape: bool, oneline: bool) -> str:
        """The fragments rendered, one ellipsis wherever text is left out:
        before the first, between two (never a run of them), after the last."""
        shown = [f for f in self.fragments if f.text.strip()]
        out: list[str] = []
        for i, f in enumerate(shown):
            body = f._render(mark, escape, oneline).strip()
            if i == 0:
                out.append(ELLIPSIS + body if f.cut_before else body)
                continue
            prev = shown[i - 1]
            gap = f.start > prev.start + len(prev.text) or prev.cut_after or f.cut_before
            out.append(f" {ELLIPSIS} {body}" if gap else f" {body}")
        if shown and shown[-1].cut_after:
            out.append(ELLIPSIS)
        return "".join(out)

    def to_html(self, *, oneline: bool = True) -> str:
        """HTML: text escaped (control characters shown, see :func:`visible`),
        matches in ``<mark>``."""
        return self._join(("<mark>", "</mark>"), True, oneline)

    def to_ansi(self, *, oneline: bool = True, mark: tuple[str, str] = ANSI_MARK) -> str:
        """Terminal text with matches in bold yellow (ANSI escapes); the text's
        own control characters are shown, not sent (see :func:`visible`)."""
        return self._join(mark, False, oneline)

    def to_text(self, *, oneline: bool = True, mark: tuple[str, str] = ("[", "]")) -> str:
        """Plain text with matches between ``mark`` strings (``[`` ``]`` by
        default); control characters shown, not sent (see :func:`visible`)."""
        return self._join(mark, False, oneline)

    def __str__(self) -> str:
        return self.to_text()


def match_spans(
    text: str, analyzer: FrenchAnalyzer, spec: MatchSpec
) -> tuple[list[tuple[int, int]], list[str]]:
    """Spans of ``text`` matched by ``spec``, merged and sorted, and the term of each."""
    if not spec or not text:
        return [], []
    # Only tokens whose term the query matched can be marked (phrases included).
    wanted = spec.terms.union(*spec.phrases) if spec.phrases else spec.terms
    tokens = analyzer.matches(text, wanted, mode="index")
    terms = spec.terms
    found: list[tuple[int, int, str]] = [(t[2], t[3], t[0]) for t in tokens if t[0] in terms]
    if spec.phrases:
        found.extend(_phrase_spans(tokens, spec.phrases))
    found.sort()
    spans: list[tuple[int, int]] = []
    labels: list[str] = []
    for a, b, term in found:
        if spans and a < spans[-1][1]:
            spans[-1] = (spans[-1][0], max(b, spans[-1][1]))
        else:
            spans.append((a, b))
            labels.append(term)
    return spans, labels


def _phrase_spans(
    tokens: Sequence[Matched], phrases: Sequence[tuple[str, ...]]
) -> list[tuple[int, int, str]]:
    """Where each phrase occurs: a token of its first word (no compound's
    whole), then one of each next word at the next positions."""
    at: dict[tuple[int, str], int] = {}  # (position, term) -> end of its first token
    firsts: dict[str, list[tuple[int, int, int]]] = {}
    for term, pos, start, end, _, _, compound in tokens:
        if not compound:
            at.setdefault((pos, term), end)
            firsts.setdefault(term, []).append((pos, start, end))
    out: list[tuple[int, int, str]] = []
    for phrase in phrases:
        if not phrase:
            continue
        rest = phrase[1:]
        for pos, start, first_end in firsts.get(phrase[0], ()):
            end = first_end
            for k, term in enumerate(rest, start=1):
                found = at.get((pos + k, term))
                if found is None:
                    break
                end = found
            else:
                out.append((start, end, " ".join(phrase)))
    return out


def highlight(
    text: str,
    analyzer: FrenchAnalyzer,
    spec: MatchSpec,
    *,
    max_chars: int = 220,
    max_fragments: int = 2,
) -> Snippet:
    """The best fragments of ``text`` (at most ``max_fragments`` of about ``max_chars``).

    A text that fits in ``max_chars`` (a title, a short passage) is shown whole.
    """
    spans, labels = match_spans(text, analyzer, spec)
    if not spans:
        return leading_snippet(text, max_chars)
    stripped_end = len(text.rstrip())
    start = len(text) - len(text.lstrip())
    if stripped_end - start <= max_chars:
        inside = tuple((s - start, e - start) for s, e in spans)
        return Snippet((Fragment(text[start:stripped_end], start, inside),))
    windows: list[tuple[int, int]] = []
    for a, b in sorted(_best_windows(text, spans, labels, max_chars, max_fragments)):
        if windows and a <= windows[-1][1]:  # windows that meet are shown as one
            windows[-1] = (windows[-1][0], max(b, windows[-1][1]))
        else:
            windows.append((a, b))
    fragments = []
    for a, b in windows:
        inside = tuple((s - a, e - a) for s, e in spans if s >= a and e <= b)
        fragments.append(Fragment(text[a:b], a, inside, a > 0, b < stripped_end))
    return Snippet(tuple(fragments))


def leading_snippet(text: str, max_chars: int = 220) -> Snippet:
    """The start of ``text`` (about ``max_chars``), nothing marked: what
    :func:`highlight` gives when nothing matched."""
    stripped_end = len(text.rstrip())
    start = len(text) - len(text.lstrip())
    # All of it when it fits (trailing blanks are no reason to drop a last word).
    end = stripped_end if start + max_chars >= stripped_end else _snap_end(text, start + max_chars)
    # Only blanks come before ``start``: nothing is cut there.
    return Snippet((Fragment(text[start:end], start, (), False, end < stripped_end),))


def highlight_all(text: str, analyzer: FrenchAnalyzer, spec: MatchSpec) -> Snippet:
    """The whole ``text`` as one fragment with every match marked."""
    spans, _ = match_spans(text, analyzer, spec)
    return Snippet((Fragment(text, 0, tuple(spans)),))


def _best_windows(
    text: str,
    spans: list[tuple[int, int]],
    labels: list[str],
    max_chars: int,
    max_fragments: int,
) -> list[tuple[int, int]]:
    """Greedily pick windows that show the most distinct matched terms.

    Each round tries a window starting a little before each remaining span
    and keeps the first that shows the most terms not shown yet (then the
    most spans). The spans are sorted and disjoint, so the spans inside a
    window are a run of the remaining ones whose ends move forward with the
    window: one pass with two pointers per round (see :func:`_round`).
    """
    lead = max_chars // 5
    chosen: list[tuple[int, int]] = []
    covered: set[str] = set()
    remaining = list(range(len(spans)))
    stripped_end = len(text.rstrip())
    while remaining and len(chosen) < max_fragments:
        best_key, best_window, best_inside = _round(
            spans, labels, remaining, covered, lead, max_chars
        )
        if chosen and best_key[0] == 0:
            break
        a = min(_snap_start(text, best_window[0]), spans[best_inside[0]][0])
        last_end = spans[best_inside[-1]][1]  # spans are sorted and disjoint
        b = max(_snap_end(text, min(stripped_end, best_window[1])), last_end)
        if stripped_end - b <= _SLACK:  # do not cut off a last word or a full stop
            b = stripped_end
        if a <= _SLACK:
            a = 0
        chosen.append((a, b))
        covered.update(labels[j] for j in best_inside)
        shown = set(best_inside)
        remaining = [j for j in remaining if j not in shown and not a <= spans[j][0] < b]
    return chosen


def _round(
    spans: list[tuple[int, int]],
    labels: list[str],
    remaining: list[int],
    covered: set[str],
    lead: int,
    max_chars: int,
) -> tuple[tuple[int, int], tuple[int, int], list[int]]:
    """The best window of one round: its key (terms not yet covered, spans),
    its bounds and the spans inside it (the remaining spans that start and
    end within it, or only the one it was placed for).

    For the window placed before the ``k``-th remaining span, the spans
    inside are ``remaining[lo:hi]``: ``lo`` the first starting at or after
    the window's start, ``hi`` the first ending past its end; both only grow
    with ``k``, and a count per term keeps the number of terms not yet
    covered in the run.
    """
    n = len(remaining)
    starts = [spans[j][0] for j in remaining]
    ends = [spans[j][1] for j in remaining]
    # a span's term, or None once covered (it then counts for nothing)
    terms = [None if labels[j] in covered else labels[j] for j in remaining]
    counts: dict[str, int] = {}
    fresh = 0  # distinct terms of remaining[bottom:top] not covered
    lo = hi = bottom = top = 0  # the run counted is remaining[bottom:top]
    best_key: tuple[int, int] = (-1, -1)
    best_window = (0, 0)
    best_run = (0, 0)
    for k, first in enumerate(starts):
        a = first - lead if first > lead else 0
        b = a + max_chars
        while hi < n and ends[hi] <= b:
            hi += 1
        while lo < n and starts[lo] < a:
            lo += 1
        end = hi if hi > lo else lo
        while top < end:  # the run grows to remaining[..:end]
            term = terms[top]
            if term is not None:
                seen = counts.get(term, 0)
                counts[term] = seen + 1
                fresh += seen == 0
            top += 1
        while bottom < lo:  # and loses what starts before the window
            term = terms[bottom]
            if term is not None:
                counts[term] -= 1
                fresh -= counts[term] == 0
            bottom += 1
        if hi > lo:
            key = (fresh, hi - lo)
            run = (lo, hi)
        else:  # no span fits: the window shows the one it was placed for
            key = (int(terms[k] is not None), 1)
            run = (k, k + 1)
        if key > best_key:
            best_key, best_window, best_run = key, (a, b), run
    return best_key, best_window, remaining[best_run[0] : best_run[1]]


def _snap_start(text: str, a: int) -> int:
    if a <= 0:
        return 0
    space = text.rfind(" ", max(0, a - 20), a + 1)
    return space + 1 if space != -1 else a


def _snap_end(text: str, b: int) -> int:
    if b >= len(text):
        return len(text)
    space = text.rfind(" ", max(0, b - 20), b)
    return space if space > 0 else b
