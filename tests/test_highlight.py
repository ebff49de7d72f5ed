"""Snippets: data with spans, rendered as HTML, ANSI and plain text."""

from __future__ import annotations

import html

from hypothesis import given, settings
from hypothesis import strategies as st

from searchlib.analysis.analyzer import FrenchAnalyzer
from searchlib.highlight import (
    ANSI_MARK,
    Fragment,
    MatchSpec,
    Snippet,
    _best_windows,
    _snap_end,
    _snap_start,
    highlight,
    highlight_all,
    match_spans,
    visible,
)

A = FrenchAnalyzer()


def marked(text: str, spec: MatchSpec) -> list[str]:
    spans, _ = match_spans(text, A, spec)
    return [text[a:b] for a, b in spans]


def test_folded_and_stemmed_matches_are_marked_as_written() -> None:
    text = "Un jugement de la cour fédérale ; les Fédérales."
    assert marked(text, MatchSpec(frozenset(A.terms("federale")))) == ["fédérale", "Fédérales"]


def test_elision_is_not_marked() -> None:
    assert marked("L’URL et l'url", MatchSpec(frozenset({"url"}))) == ["URL", "url"]


def test_compound_marked_whole_or_by_part() -> None:
    text = "depuis les États-Unis"
    assert marked(text, MatchSpec(frozenset({"etatsun"}))) == ["États-Unis"]
    assert marked(text, MatchSpec(frozenset({"unis"}))) == ["Unis"]


def test_phrase_marked_as_one_span_only_where_it_occurs() -> None:
    text = "un vide, puis un vide juridique"
    spec = MatchSpec(phrases=(("vid", "jurid"),))
    assert marked(text, spec) == ["vide juridique"]


def test_html_escapes_text() -> None:
    text = "<script>alert('x')</script> & fédérale"
    html = highlight(text, A, MatchSpec(frozenset({"federal"}))).to_html()
    assert "<script>" not in html
    assert "&lt;script&gt;" in html
    assert "&amp;" in html
    assert html.endswith("<mark>fédérale</mark>")


def test_renderers() -> None:
    s = highlight_all("la cour fédérale", A, MatchSpec(frozenset({"federal"})))
    assert s.to_text() == "la cour [fédérale]"
    assert s.to_ansi() == "la cour \x1b[1;33mfédérale\x1b[0m"
    assert s.text == "la cour fédérale"
    assert s.spans == [(8, 16)]
    assert str(s) == s.to_text()


def test_long_text_gives_fragments_around_matches() -> None:
    text = ("Rien ici. " * 40) + "La cour fédérale a jugé. " + ("Encore rien. " * 40)
    s = highlight(text, A, MatchSpec(frozenset({"federal"})), max_chars=80)
    assert len(s.fragments) == 1
    frag = s.fragments[0]
    assert "fédérale" in frag.text
    assert frag.cut_before
    assert frag.cut_after
    assert len(frag.text) <= 100
    assert s.to_html().startswith("…")
    assert text[s.spans[0][0] : s.spans[0][1]] == "fédérale"


def test_two_fragments_for_distant_terms() -> None:
    text = "La cour fédérale. " + ("Rien. " * 100) + "Le vide juridique."
    spec = MatchSpec(frozenset({"federal", "vid"}))
    s = highlight(text, A, spec, max_chars=60, max_fragments=2)
    assert [text[a:b] for a, b in s.spans] == ["fédérale", "vide"]
    assert " … " in s.to_text()


def test_no_match_gives_the_beginning() -> None:
    s = highlight("Premier mot, second mot.", A, MatchSpec(frozenset({"absent"})))
    assert s.fragments[0].text.startswith("Premier")
    assert s.spans == []


def test_empty_snippet() -> None:
    assert Snippet().to_html() == ""


def test_hits_not_highlighted_show_the_start_of_the_passage() -> None:
    from searchlib import Document, Index

    text = "  " + " ".join(f"mot{n}" for n in range(80)) + " fin.  "
    ix = Index.in_memory()
    ix.add([Document(id="d", title=" Titre du document ", text=text)])
    (hit,) = ix.search("mot3", highlight_hits=False).hits
    (fragment,) = hit.snippet.fragments
    assert fragment.start == 2 and fragment.text.startswith("mot0 mot1")
    assert len(fragment.text) <= 220 and not fragment.text.endswith(" ")  # cut at a space
    assert text[2:].startswith(fragment.text + " ")
    assert fragment.spans == () and fragment.cut_after and not fragment.cut_before
    assert hit.title_snippet.fragments[0].text == "Titre du document"
    assert hit.title_snippet == highlight(hit.title, A, MatchSpec(), max_chars=len(hit.title))
    assert hit.snippet == highlight(hit.text, A, MatchSpec(frozenset({"absent"})), max_chars=220)


# -- issue 16: control characters, runs of ellipses, whole titles ------------------------

HOSTILE = "Titre \x1b]0;pwned\x07 cour \x1b[2J fédérale \x1b]8;;http://x.example\x07lien\x1b]8;;\x07\r\x9b"


def test_control_characters_are_shown_escaped_in_every_rendering() -> None:
    spec = MatchSpec(frozenset({"federal", "pwned", "lien"}))
    s = highlight(HOSTILE, A, spec)
    for rendered in (
        s.to_text(),
        s.to_ansi().replace(ANSI_MARK[0], "").replace(ANSI_MARK[1], ""),
        html.unescape(s.to_html()),
        s.text,
        highlight_all(HOSTILE, A, spec).to_text(oneline=False),
    ):
        assert "\x1b" not in rendered and "\x07" not in rendered and "\r" not in rendered
        assert "\x9b" not in rendered
        assert "^[]0;" in rendered and "^[[2J" in rendered and "<U+009B>" in rendered
    # the only escapes to_ansi sends are its own marks
    ansi = s.to_ansi()
    assert ansi.count("\x1b") == 2 * ansi.count("\x1b[1;33m")


def test_visible_keeps_text_and_newlines_and_escapes_bidi() -> None:
    assert visible("la cour\tfédérale\n") == "la cour\tfédérale\n"
    assert visible("a\nb", newlines=False) == "a^Jb"
    assert visible("\u202eabc\x7f") == "<U+202E>abc^?"


def test_fragments_join_with_one_ellipsis() -> None:
    text = (
        ("Rien ici. " * 30)
        + "pour activité "
        + ("Encore rien. " * 30)
        + "vente ambulante "
        + ("Fin. " * 30)
    )
    s = highlight(
        text, A, MatchSpec(frozenset({"activit", "ambul"})), max_chars=40, max_fragments=2
    )
    assert len(s.fragments) == 2 and all(f.cut_before and f.cut_after for f in s.fragments)
    for rendered in (s.to_text(), s.to_html(), s.to_ansi()):
        assert "… …" not in rendered and "……" not in rendered
        assert rendered.startswith("…") and rendered.endswith("…")
        assert rendered.count("…") == 3


def test_a_blank_fragment_is_not_shown() -> None:
    s = Snippet(
        (
            Fragment("un", 0, (), False, True),
            Fragment("   ", 10, (), True, True),
            Fragment("deux", 20, (), True, False),
        )
    )
    assert s.to_text() == "un … deux"


def test_a_title_that_fits_is_shown_whole() -> None:
    title = "Les grandes heures de la musique baroque"
    s = highlight(title, A, MatchSpec(frozenset({"baroqu"})), max_chars=len(title), max_fragments=1)
    assert s.to_text() == "Les grandes heures de la musique [baroque]"
    # a short passage too
    text = "Un court passage qui parle, tout à la fin, de musique baroque."
    assert highlight(
        text, A, MatchSpec(frozenset({"baroqu"})), max_chars=220
    ).to_text() == text.replace("baroque", "[baroque]")


def _best_windows_v1(
    text: str, spans: list[tuple[int, int]], labels: list[str], max_chars: int, max_fragments: int
) -> list[tuple[int, int]]:
    """The window choice as first written: every window against every span, each round."""
    lead = max_chars // 5
    chosen: list[tuple[int, int]] = []
    covered: set[str] = set()
    remaining = list(range(len(spans)))
    while remaining and len(chosen) < max_fragments:
        best_key, best_window, best_inside = (-1, -1), (0, 0), [0]
        for i in remaining:
            a = max(0, spans[i][0] - lead)
            b = a + max_chars
            inside = [j for j in remaining if spans[j][0] >= a and spans[j][1] <= b] or [i]
            key = (len({labels[j] for j in inside} - covered), len(inside))
            if key > best_key:
                best_key, best_window, best_inside = key, (a, b), inside
        if chosen and best_key[0] == 0:
            break
        a = min(_snap_start(text, best_window[0]), spans[best_inside[0]][0])
        stripped_end = len(text.rstrip())
        b = max(_snap_end(text, min(stripped_end, best_window[1])), spans[best_inside[-1]][1])
        b = stripped_end if stripped_end - b <= 12 else b
        a = 0 if a <= 12 else a
        chosen.append((a, b))
        covered |= {labels[j] for j in best_inside}
        remaining = [j for j in remaining if j not in best_inside and not a <= spans[j][0] < b]
    return chosen


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 40), st.integers(1, 60), st.sampled_from("abcd")), max_size=30
    ),
    st.integers(10, 120),
    st.integers(1, 3),
)
def test_windows_are_those_of_the_scan_of_every_window(
    gaps: list[tuple[int, int, str]], max_chars: int, max_fragments: int
) -> None:
    # Sorted, disjoint spans (as match_spans makes them), some longer than a window.
    spans, labels, pos = [], [], 0
    for gap, length, label in gaps:
        spans.append((pos + gap, pos + gap + length))
        labels.append(label)
        pos += gap + length
    text = ("mot " * (pos // 4 + 40))[: pos + 30]
    expected = _best_windows_v1(text, spans, labels, max_chars, max_fragments)
    assert _best_windows(text, spans, labels, max_chars, max_fragments) == expected


def test_fragments_never_repeat_text() -> None:
    # The second window starts a little before its first match, which may lie
    # just past the end of the first window: the two are shown as one
    # fragment, not as two repeating the text between them.
    text = ("Rien ici. " * 10) + "Le juge " + ("x " * 26) + "fin du mandat. " + ("Encore. " * 30)
    spec = MatchSpec(frozenset({"jug", "mandat"}))
    s = highlight(text, A, spec, max_chars=80)
    for before, after in zip(s.fragments, s.fragments[1:], strict=False):
        assert after.start >= before.start + len(before.text)
    assert [text[a:b] for a, b in s.spans] == ["juge", "mandat"]
    assert s.to_text().count("fin du") == 1
