"""The search context: per-searcher state, explicit arguments, ranking, seams."""

from __future__ import annotations

import dataclasses
import importlib
import weakref
from collections.abc import Sized
from typing import Any

import pytest

import searchlib
from searchlib import Document, Index, Ranking
from searchlib._cache import BoundedCache
from searchlib.engine.pipeline import Pipeline
from searchlib.engine.request import SearchRequest
from searchlib.query.compiler import QueryCompiler
from searchlib.query.language import Word, parse
from searchlib.searching import SearchContext, SearcherState

SEARCH_MODULES = [
    "searchlib.searching",
    "searchlib.highlight",
    "searchlib.query.acronyms",
    "searchlib.query.language",
    "searchlib.query.typos",
    "searchlib.ranking.explain",
    "searchlib.ranking.fastpath",
    "searchlib.ranking.params",
]

DOCS = [
    Document("cdd1", "Contrats", "Le contrat à durée déterminée (CDD) est écrit. " * 3),
    Document("cdd2", "Embauche", "Un contrat à durée déterminée (CDD) a un terme."),
    Document("mois", "Primes", "Le 13ème mois est une prime. Le mois suivant aussi."),
    Document("conge", "Congés payés", "Le congé payé se prend en été. Le congé parental aussi."),
    Document("paie", "Paie", "La fiche de paie mentionne le congé."),
    Document(
        "long",
        "Guide",
        "\n\n".join(
            f"Paragraphe {i} sur le congé et ses règles, " + "du texte " * 40 for i in range(8)
        ),
    ),
]


@pytest.fixture
def ix() -> Index:
    index = Index.in_memory()
    index.add(DOCS)
    return index


def _ranked(results: searchlib.SearchResults) -> list[tuple[str, float]]:
    return [(h.id, h.score) for h in results]


# -- the per-searcher state ------------------------------------------------------------


def test_one_state_per_searcher_replaced_after_a_commit(ix: Index) -> None:
    first = ix.search_context().state
    ix.search("conge payé")
    assert ix.search_context().state is first and first.searcher is ix.searcher()
    assert len(first.stored) > 0 and len(first.doc_frequencies) > 0
    ix.add([Document("autre", "Autre", "un congé de plus")])
    second = ix.search_context().state
    assert second is not first and second.searcher is ix.searcher()
    assert len(second.stored) == 0  # nothing carried over from the old searcher
    assert second.segments is first.segments  # decoded segments are shared
    assert ix.search("conge", collapse=False).total == first.doc_frequency("text", "cong") + 1


def test_the_context_serves_until_one_of_its_parts_changes(ix: Index) -> None:
    first = ix.search_context()
    assert ix.search_context() is first  # nothing changed: the same context
    assert ix.search_context(learned=False) is not first  # (one without what was learned)
    ix.ranking = Ranking(k1=0.9)
    second = ix.search_context()
    assert second is not first and second.ranking == Ranking(k1=0.9)
    ix.add([Document("autre", "Autre", "un congé de plus")])
    third = ix.search_context()
    assert third is not second and third.state.searcher is ix.searcher()
    assert ix.search("autre").total == 1


def test_the_scored_parts_of_compiled_words_are_kept_and_unchanged(ix: Index) -> None:
    from searchlib.searching import fast_leaves

    context = ix.search_context()
    queries = ["congé payé", "CDD", "13 ème mois", '"congé payé" paie', "contrat -paie", "cong*"]
    for query in queries * 2:  # (the second time, from what was kept)
        compiled = context.compile(query)
        assert compiled.tree is not None
        fresh = fast_leaves(compiled.tree, once=compiled.expansion_tree)
        kept = fast_leaves(compiled.tree, once=compiled.expansion_tree, memo=context.state.leaves)
        assert kept == fresh, query
    assert len(context.state.leaves) > 0
    before = _ranked(ix.search("congé payé CDD"))
    assert _ranked(ix.search("congé payé CDD")) == before


def test_the_state_goes_with_its_searcher(ix: Index) -> None:
    ix.search("conge")
    state = weakref.ref(ix.search_context().state)
    ix.close()  # the index keeps no reference to the old searcher's caches
    assert state() is None
    assert ix.search("conge", collapse=True).total == 3  # and opens a new one


def test_searches_cache_nothing_at_module_level(ix: Index) -> None:
    def sizes() -> dict[tuple[str, str], int]:
        out = {}
        for name in SEARCH_MODULES:
            for key, value in vars(importlib.import_module(name)).items():
                assert not isinstance(value, weakref.WeakKeyDictionary | BoundedCache), key
                if isinstance(value, Sized) and not isinstance(value, str | bytes | tuple):
                    out[(name, key)] = len(value)
        return out

    before = sizes()
    for query in ["congé", "congee", "cong*", "conge~", '"congé payé"', "CDD", "13 ème", "a -b"]:
        ix.search(query, collapse=True)
        ix.search(query, limit=1, page=2, highlight_hits=False)
    assert sizes() == before


# -- the ranking -----------------------------------------------------------------------


def test_assigning_the_ranking_changes_scores(ix: Index) -> None:
    before = _ranked(ix.search("congé payé paie"))
    ix.ranking = Ranking(k1=3.0)
    assert ix.ranking == Ranking(k1=3.0)
    after = _ranked(ix.search("congé payé paie"))
    assert [s for _, s in after] != [s for _, s in before]
    other = Index.in_memory()
    other.add(DOCS)
    other.set_ranking(Ranking(k1=3.0))  # the alias does the same
    assert _ranked(other.search("congé payé paie")) == after
    ix.ranking = Ranking()
    assert _ranked(ix.search("congé payé paie")) == before


def test_the_ranking_must_be_a_ranking(ix: Index) -> None:
    with pytest.raises(TypeError, match="Ranking"):
        ix.ranking = {"k1": 3.0}  # type: ignore[assignment]


def test_ordinal_joining_can_be_turned_off(ix: Index) -> None:
    joined = ix.search_context().compile("13 ème mois").match
    assert joined.terms == ix.search_context().compile("13ème mois").match.terms
    ix.ranking = Ranking(join_ordinals=False)
    apart = ix.search_context().compile("13 ème mois").match
    assert apart.terms != joined.terms
    assert ix.search_context().compile("13").match.terms <= apart.terms


# -- arguments -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "error", "message"),
    [
        ({"limit": 2.5}, TypeError, "limit must be an integer, not 2.5"),
        ({"limit": True}, TypeError, "limit must be an integer"),
        ({"limit": 0}, ValueError, "limit must be at least 1"),
        ({"page": "2"}, TypeError, "page must be an integer"),
        ({"page": -1}, ValueError, "page must be at least 1"),
        ({"fields": "title"}, TypeError, r"sequence of field names such as \('title',\)"),
        ({"fields": {"title"}}, TypeError, "sequence"),
        ({"fields": ["titre"]}, ValueError, "unknown field 'titre'"),
        ({"fields": [1]}, TypeError, "field names"),
        ({"collapse": "yes"}, TypeError, "collapse must be True or False"),
        ({"highlight_hits": 1}, TypeError, "highlight_hits must be True or False"),
        ({"snippet_chars": 0}, ValueError, "snippet_chars must be at least 1"),
        ({"max_fragments": 1.0}, TypeError, "max_fragments must be an integer"),
        ({"time_limit": "5"}, TypeError, "time_limit must be a number"),
        ({"time_limit": 0}, ValueError, "time_limit"),
    ],
)
def test_bad_arguments_are_named_in_the_error(
    ix: Index, options: dict[str, Any], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        ix.search("conge", **options)


def test_an_unknown_keyword_is_refused(ix: Index) -> None:
    with pytest.raises(TypeError, match="colapse"):
        ix.search("conge", colapse=True)  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="colapse"):
        searchlib.search("cour", colapse=True)  # type: ignore[call-arg]


def test_the_query_must_be_text(ix: Index) -> None:
    with pytest.raises(TypeError, match="query must be a string"):
        ix.search(b"conge")  # type: ignore[arg-type]


def test_options_reach_the_search(ix: Index) -> None:
    everything = ix.search("congé", limit=10, collapse=False)
    assert len({h.doc_id for h in everything}) < len(everything.hits)  # passages of one doc
    collapsed = ix.search("congé")
    assert len({h.doc_id for h in collapsed}) == len(collapsed.hits)
    ix.ranking = Ranking(exact_boost=0)  # (the exact-form bonus searches title and text)
    assert {h.doc_id for h in ix.search("congé", fields=("title",))} == {"conge"}
    assert ix.search("guide", fields=["text"]).total == 0
    assert ix.search("guide", fields=["title", "text"], collapse=False).total == 4
    short = ix.search("congé", snippet_chars=20, max_fragments=1).hits[0].snippet
    assert len(short.fragments) == 1 and len(short.text) < 60
    plain = ix.search("congé", highlight_hits=False).hits[0].snippet
    assert "<mark>" not in plain.to_html()


def test_module_level_search_takes_the_same_options() -> None:
    results = searchlib.search("cour federale", limit=3, collapse=True, highlight_hits=False)
    assert len({h.doc_id for h in results}) == len(results.hits) <= 3
    assert all("<mark>" not in h.snippet.to_html() for h in results)
    titles = searchlib.search("musique", fields=["title"], time_limit=None)
    assert titles.total > 0


# -- the seams: the pieces of a search, the reference path, acronyms ------------------


def test_compile_execute_materialise_make_a_search(ix: Index) -> None:
    context = ix.search_context()
    for query in ["congé payé", "CDD", '"contrat à durée"', "paie AND congé", "zzz"]:
        expected = ix.search(query, limit=2, page=2, collapse=False)
        compiled = context.compile(query)
        executed = context.execute(compiled, limit=4, collapse=False)
        results = context.materialise(compiled, executed, page=2, limit=2)
        assert results.hits == expected.hits and results.total == expected.total
        assert results.match == expected.match
        again = Pipeline(context).run(SearchRequest(query, 2, 2, collapse=False))
        assert again == dataclasses.replace(expected, elapsed_ms=again.elapsed_ms)


def test_the_reference_path_ranks_alike(ix: Index) -> None:
    fast = ix.search_context()
    reference = dataclasses.replace(fast, fast_path=False)
    for query in ["congé payé", "CDD contrat", '"congé payé" paie', "mois prime"]:
        for collapse in (True, False):
            a = Pipeline(fast).run(SearchRequest(query, 10, collapse=collapse))
            b = Pipeline(reference).run(SearchRequest(query, 10, collapse=collapse))
            assert [h.id for h in a] == [h.id for h in b]
            assert [h.score for h in a] == pytest.approx([h.score for h in b], rel=1e-9)


def test_acronym_expansion_is_reachable(ix: Index) -> None:
    ix.ranking = Ranking(acronym_min_docs=2)
    compiler = ix.search_context().compiler()
    assert compiler.acronym_query("cdd") is not None
    assert compiler.acronym_query(Word("CDD", 0)) is not None
    assert compiler.acronym_query("contrat") is None
    assert compiler.acronym_query(Word("cdd", 0, kind="prefix")) is None
    # Without a searcher, as a tool over a lexicon would use it.
    bare = QueryCompiler(ix.analyzer, None, ix.ranking, acronyms=ix.acronyms)
    assert bare.acronym_query("cdd") == compiler.acronym_query("cdd")
    # What it gives is what compiling the word adds.
    query, _ = compiler.compile(parse("cdd"))
    assert repr(compiler.acronym_query("cdd")) in repr(query)
    off = ix.search_context().compiler()
    ix.ranking = Ranking(acronym_boost=0)
    assert off.acronym_query("cdd") is not None  # a compiler keeps its ranking
    assert ix.search_context().compiler().acronym_query("cdd") is None


def test_a_context_made_by_hand(ix: Index) -> None:
    state = SearcherState(ix.searcher())  # its own segment cache
    context = SearchContext(state, ix.analyzer, ix.ranking, ix.exact_analyzer, ix.acronyms)
    assert _ranked(Pipeline(context).run(SearchRequest("congé payé"))) == _ranked(
        ix.search("congé payé")
    )


def test_module_level_search_corrects_suggests_and_completes_as_the_index_does() -> None:
    corrected = searchlib.search("musiqeu")
    assert [c.replacement for c in corrected.corrections] == ["musique"]
    assert corrected.total > 0
    as_typed = searchlib.search("musiqeu", correct=False)
    assert as_typed.total == 0 and not as_typed.corrections
    assert as_typed.suggestion is not None and as_typed.suggestion.query == "musique"
    assert searchlib.search("musiqeu", correct=False, suggest=False).suggestion is None
    assert searchlib.search("musi").total == 0
    assert searchlib.search("musi", as_you_type=True).total == corrected.total


def test_the_search_options_are_the_request_fields() -> None:
    from typing import get_type_hints

    from searchlib.engine.request import SearchOptions

    fields = {f.name for f in dataclasses.fields(SearchRequest)}
    assert set(get_type_hints(SearchOptions)) == fields - {"query", "limit", "page"}


def test_a_request_is_checked_once_and_runs_as_given(ix: Index) -> None:
    request = SearchRequest("congé", limit=2, page=2, collapse=True)
    a, b = ix.search(request), ix.search("congé", limit=2, page=2, collapse=True)
    assert a == dataclasses.replace(b, elapsed_ms=a.elapsed_ms)
    with pytest.raises(TypeError, match="alone"):
        ix.search(request, limit=3)
    with pytest.raises(ValueError, match="semantic"):
        SearchRequest("congé", semantic="maybe")  # type: ignore[arg-type]
    stages = [s.name for s in ix.search(request).trace.stages]
    assert stages[:2] == ["plan", "retrieve"] and "page" in stages


def test_hits_not_highlighted_share_the_start_of_their_passage(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # An ids-only search pays for no snippet it already made: the start of a
    # passage is the same for every search, kept with its stored fields.
    from searchlib import searching

    made: list[str] = []
    real = searching.leading_snippet

    def counting(text: str, max_chars: int = 220) -> Any:
        made.append(text)
        return real(text, max_chars)

    monkeypatch.setattr(searching, "leading_snippet", counting)
    ix = Index.in_memory()
    ix.add([Document(f"d{i}", f"Titre {i}", f"Le congé payé numéro {i}.") for i in range(3)])
    first = ix.search("congé", highlight_hits=False)
    assert len(made) == 2 * len(first.hits) == 6  # a text and a title per hit
    again = ix.search("congé payé", highlight_hits=False)
    assert len(made) == 6
    assert [h.snippet for h in again] == [h.snippet for h in first]
    assert first.hits[0].snippet.text.startswith("Le congé payé")
    assert ix.search("congé", highlight_hits=False, snippet_chars=5).hits[0].snippet != (
        first.hits[0].snippet
    )


# -- plain words compiled once per searcher -------------------------------------------


def _compile(
    context: SearchContext, text: str, fields: tuple[str, ...] | None, correct: bool, kept: bool
) -> tuple[Any, ...]:
    """What compiling ``text`` gives, with the context's compiler (``kept``:
    the words the searcher keeps) or with one made afresh that keeps none."""
    if kept:
        compiler = context.compiler(fields, text, correct=correct)
    else:
        compiler = QueryCompiler(
            context.analyzer,
            SearcherState(context.state.searcher),
            context.ranking,
            fields or ("title", "text"),
            text,
            context.exact_analyzer,
            context.acronyms,
            correct,
            lexicon=context.lexicon,
        )
    node, spec = compiler.compile(parse(text))
    return node, spec, compiler.corrections, compiler.unknown


@pytest.mark.parametrize("correct", [True, False])
def test_plain_words_compiled_again_from_the_searchers_cache_give_the_same_queries(
    ix: Index, correct: bool
) -> None:
    # Words met again at other offsets, typed +word, unknown (reported at
    # their new offset), misspelt (read by the query's other words: never
    # kept), in other fields and with other settings: the same compiled
    # query, corrections and unknown words as compiling each afresh.
    context = ix.search_context()
    queries = [
        "congé payé",
        "le congé zorglub",
        "zorglub congé",
        "+congé contrat",
        "contrat +congé",
        "conge parental",
        "congé parantal",
        "parantal",
        "CDD paie",
        "title:congé paie",
        "paie title:congé",
        "l'CDD",
        "congé payé",
    ]
    for text in queries:
        for fields in (None, ("text",)):
            expected = _compile(context, text, fields, correct, kept=False)
            assert _compile(context, text, fields, correct, kept=True) == expected, text
    assert context.compile("le congé zorglub").unknown[0].start == 9


def test_compiled_words_are_kept_per_searcher_and_settings(ix: Index) -> None:
    context = ix.search_context()
    context.compile("congé payé")
    words = context.state.compiled_words(
        (("title", "text"), True, context.ranking),
        (context.analyzer, context.exact_analyzer, context.acronyms, context.lexicon),
    )
    assert words.get(("congé", None, False)) is not None
    assert words.get(("parantal", None, False)) is None
    other = dataclasses.replace(context, ranking=Ranking(title_boost=3.0))
    assert other.compile("congé").query != context.compile("congé").query
