"""The query tree and its two emitters: every node type matches the same terms
whether emitted for Whoosh or for OpenSearch (a property over random trees)."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from searchlib.opensearch.translate import dsl
from searchlib.query import ir
from searchlib.searching import whoosh_query

FIELDS = st.sampled_from(["title", "text", "exact"])
WORDS = st.sampled_from(["cour", "feder", "jug", "contrat", "dur", "determin", "13e"])
BOOSTS = st.sampled_from([1.0, 0.5, 1.2, 2.0])

LEAVES = st.one_of(
    st.builds(ir.Term, FIELDS, WORDS, BOOSTS),
    st.builds(
        ir.Phrase,
        FIELDS,
        st.lists(WORDS, min_size=2, max_size=4).map(tuple),
        st.integers(1, 4),
        BOOSTS,
    ),
)


def _trees(children: st.SearchStrategy[ir.Node]) -> st.SearchStrategy[ir.Node]:
    items = st.lists(children, min_size=1, max_size=3).map(tuple)
    return st.one_of(
        st.builds(ir.Or, items, BOOSTS),
        st.builds(ir.And, items, BOOSTS),
        st.builds(ir.AndMaybe, children, children),
        st.builds(ir.AndNot, children, children),
    )


TREES = st.recursive(LEAVES, _trees, max_leaves=8)


def _dsl_terms(query: Any) -> set[tuple[str, str]]:
    """The (field, term) pairs an OpenSearch query searches."""
    out: set[tuple[str, str]] = set()
    if isinstance(query, dict):
        for key, value in query.items():
            if key in ("term", "span_term"):
                ((f, spec),) = value.items()
                out.add((f, spec["value"] if isinstance(spec, dict) else spec))
            elif key == "match_phrase":
                ((f, spec),) = value.items()
                out.update((f, w) for w in spec["query"].split(" "))
            else:
                out |= _dsl_terms(value)
    elif isinstance(query, list):
        for v in query:
            out |= _dsl_terms(v)
    return out


def _whoosh_terms(node: ir.Node) -> set[tuple[str, str]]:
    return {(f, t if isinstance(t, str) else t.decode()) for f, t in whoosh_query(node).all_terms()}


@settings(max_examples=300, deadline=None)
@given(TREES)
def test_both_emitters_search_the_tree_s_terms(tree: ir.Node) -> None:
    assert _whoosh_terms(tree) == ir.terms(tree) == _dsl_terms(dsl(tree))


def test_every_node_type_is_emitted() -> None:
    t = ir.Term("text", "cour")
    nodes: list[ir.Node] = [
        t,
        ir.Phrase("text", ("cour", "feder")),
        ir.Or((t,)),
        ir.And((t,)),
        ir.AndMaybe(t, t),
        ir.AndNot(t, ir.Term("text", "jug")),
        ir.Every(),
    ]
    for node in nodes:
        assert whoosh_query(node) is not None and dsl(node)
    assert dsl(ir.Prefix("text", "cong", 256)) == {
        "prefix": {"text": {"value": "cong", "rewrite": "top_terms_256", "boost": 1.0}}
    }
    assert dsl(ir.Or((t,), boost=2.0))["bool"]["boost"] == 2.0
