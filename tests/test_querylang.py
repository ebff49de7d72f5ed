"""The query language: lenient parsing, explicit operator errors."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from searchlib.errors import QuerySyntaxError
from searchlib.query import language as querylang
from searchlib.query.language import BoolOp, Group, Not, Phrase, Word, parse


def words(tree: Group) -> list[str]:
    return [x.text for x in tree.items if isinstance(x, Word)]


@pytest.mark.parametrize(
    "query",
    [
        "Quelle est la durée du préavis (démission) ?",  # question with punctuation
        'il a dit "bonjour',  # stray quote
        "préavis (démission",  # unbalanced parenthesis
        "préavis) démission",
        "«vide juridique",  # unclosed French quote
        "a - b",  # lone dash
        "C++ et C#",
        "http://exemple.fr/page?x=1",  # not a field
        "???",
        "",
    ],
)
def test_lenient_queries_parse(query: str) -> None:
    assert isinstance(parse(query), Group)


def test_question_keeps_its_words() -> None:
    tree = parse("Quelle est la durée du préavis (démission) ?")
    assert words(tree)[:6] == ["Quelle", "est", "la", "durée", "du", "préavis"]


@pytest.mark.parametrize(
    ("query", "position"),
    [
        ("chat AND", 5),  # dangling operator
        ("OR chien", 0),  # operator with nothing before
        ("chat OR OR chien", 8),
        ("NOT", 0),
        ("title:", 0),  # field without a term
        ("chat AND )", 5),
    ],
)
def test_malformed_operator_queries_raise_with_position(query: str, position: int) -> None:
    with pytest.raises(QuerySyntaxError) as info:
        parse(query)
    assert info.value.position == position
    assert isinstance(info.value, ValueError)
    assert info.value.caret().splitlines()[1] == " " * position + "^"


def test_phrases_in_all_quote_styles() -> None:
    for q in ('"vide juridique"', "«vide juridique»", "“vide juridique”"):
        (node,) = parse(q).items
        assert isinstance(node, Phrase)
        assert node.text.strip() == "vide juridique"


def test_operators_are_upper_case_only() -> None:
    assert words(parse("chat et chien ou souris")) == ["chat", "et", "chien", "ou", "souris"]
    (node,) = parse("chat OR chien").items
    assert isinstance(node, BoolOp)
    assert node.op == "OR"


def test_precedence_and_binds_tighter_than_or() -> None:
    (node,) = parse("a OR b AND c").items
    assert isinstance(node, BoolOp)
    assert node.op == "OR"
    assert isinstance(node.items[1], BoolOp)
    assert node.items[1].op == "AND"


def test_negation_forms() -> None:
    tree = parse("site -juge NOT blog")
    assert isinstance(tree.items[1], Not)
    assert isinstance(tree.items[2], Not)


def test_fields_prefix_and_fuzzy() -> None:
    a, b, c, d = parse("title:musique télécharge* torrentspi~ vie~2").items
    assert a == Word("musique", 6, "title")
    assert isinstance(b, Word)
    assert (b.kind, b.text) == ("prefix", "télécharge")
    assert isinstance(c, Word)
    assert (c.kind, c.maxdist) == ("fuzzy", 1)
    assert isinstance(d, Word)
    assert (d.kind, d.maxdist) == ("fuzzy", 2)


def test_field_applies_to_a_group() -> None:
    (group,) = parse("title:(musique russe)").items
    assert isinstance(group, Group)
    assert all(isinstance(w, Word) and w.field == "title" for w in group.items)


def test_word_inner_hyphen_is_not_negation() -> None:
    assert words(parse("week-end")) == ["week-end"]


@settings(max_examples=500, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                "mot",
                "États-Unis",
                "a-t-il",
                "-mot",
                "+mot",
                "-",
                "AND",
                "OR",
                "NOT",
                "pré*",
                "mot~",
                "mot~2",
                "title:mot",
                '"',
                "«",
                "(",
                ")",
                "?",
                "l'URL",
                "\u00a0",
                "\t",
            ]
        )
        | st.text(max_size=4),
        max_size=12,
    ).map(" ".join)
)
def test_plain_query_shortcut_builds_the_parsers_tree(query: str) -> None:
    plain = querylang._plain(query)
    if plain is not None:
        assert plain == querylang._Parser(query).parse()


def test_plain_query_shortcut_takes_plain_words() -> None:
    assert querylang._plain("Quel est le 13e mois ?") is not None
    assert querylang._plain('cour "vide juridique"') is None
