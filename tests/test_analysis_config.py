"""The analyzer is configured by its parameters: each one, its pickling, its properties."""

from __future__ import annotations

import pickle
import shutil
import threading
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import whoosh.index
from hypothesis import given, settings
from hypothesis import strategies as st
from unidecode import unidecode
from whoosh.analysis import CompositeAnalyzer
from whoosh.fields import ID, TEXT, Schema

import searchlib.analysis
from searchlib._cache import BoundedCache
from searchlib._whoosh.safepickle import load_objects
from searchlib._whoosh.storage import INDEX_NAME, persisted
from searchlib.analysis import (
    FRENCH_STOP_WORDS,
    AccentFoldFilter,
    FrenchAnalyzer,
    FrenchLowercaseFilter,
    FrenchStemFilter,
    FrenchTokenizer,
    OrdinalFilter,
    SnowballStemmer,
    StopDropFilter,
    StopFlagFilter,
    normalize_text,
)

OLD_INDEX = Path(__file__).parent / "data" / "index-fr5-format3"


# -- each parameter ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "text", "expected"),
    [
        ({}, "États-Unis", ["etat", "etatsun", "unis"]),
        ({"compounds": False}, "États-Unis", ["etat", "unis"]),
        ({"compounds": False}, "aujourd'hui", ["aujourd", "hui"]),
        ({"stem": False}, "M.P.A.A.", ["mpaa"]),
        ({"stem": False, "acronyms": False}, "M.P.A.A.", ["m", "mpaa", "p", "a", "a"]),
        ({"acronyms": False, "compounds": False}, "M.P.A.A.", ["m", "p", "a", "a"]),
        ({}, "prud’hommes", ["prud", "prudhomm", "homm"]),
        ({"split_apostrophes": False}, "prud’hommes", ["prud'homm"]),
        ({"split_apostrophes": False}, "l’été", ["ete"]),  # elision still applies
        ({"elisions": frozenset()}, "l’été", ["l", "let", "ete"]),
        ({"elisions": {"l"}}, "l’été d’hiver", ["ete", "d", "dhiv", "hiv"]),
        ({"ordinals": False}, "13ème treizième", ["13em", "treiziem"]),
        ({"ordinals": False}, "13 ème", ["13", "eme"]),
        ({"stem": False}, "fédérales", ["federales"]),
        ({"fold": False}, "Fédérales", ["fédéral"]),
        ({"stop_words": {"cour"}, "drop_stop_words": True}, "la cour", ["la"]),
        ({"drop_stop_words": True}, "la cour", ["cour"]),
        ({"stemmer": SnowballStemmer(folded_fixes=False)}, "fermées travaux", ["ferme", "traval"]),
    ],
)
def test_each_parameter_changes_its_step(
    kwargs: dict[str, Any], text: str, expected: list[str]
) -> None:
    assert FrenchAnalyzer(**kwargs).terms(text) == expected


def test_stop_words_flag_at_query_time_by_the_given_list() -> None:
    analyzer = FrenchAnalyzer(stop_words={"cour"})
    assert [(t.text, t.stopped) for t in analyzer.tokens("la cour")] == [
        ("la", False),
        ("cour", True),
    ]
    assert not any(t.stopped for t in FrenchAnalyzer(stop_words=()).tokens("la cour"))


class Reverse:
    """A stemmer of the Stemmer protocol: the word backwards."""

    def stem(self, word: str) -> str:
        return word[::-1]

    def __eq__(self, other: object) -> bool:
        return type(other) is Reverse

    def __hash__(self) -> int:
        return 1


def test_any_stemmer_of_the_protocol_is_used_and_cached() -> None:
    analyzer = FrenchAnalyzer(stemmer=Reverse())
    assert analyzer.terms("Les États") == ["sel", "state"]
    assert analyzer == FrenchAnalyzer(stemmer=Reverse())
    assert analyzer != FrenchAnalyzer()
    assert pickle.loads(pickle.dumps(analyzer)).terms("Les États") == ["sel", "state"]


def test_contradictory_or_impossible_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="stem=False"):
        FrenchAnalyzer(stem=False, stemmer=Reverse())
    with pytest.raises(ValueError, match="cache_size"):
        FrenchAnalyzer(cache_size=0)


def test_the_chain_follows_the_parameters() -> None:
    kinds = [type(item) for item in FrenchAnalyzer().items]
    assert kinds == [
        FrenchTokenizer,
        FrenchLowercaseFilter,
        StopFlagFilter,
        AccentFoldFilter,
        OrdinalFilter,
        FrenchStemFilter,
    ]
    lean = FrenchAnalyzer(stem=False, fold=False, ordinals=False, drop_stop_words=True)
    assert [type(item) for item in lean.items] == [
        FrenchTokenizer,
        FrenchLowercaseFilter,
        StopDropFilter,
    ]
    assert FrenchAnalyzer().ordinals and not FrenchAnalyzer(ordinals=False).ordinals


def test_the_plain_chain_gives_the_fused_tokens() -> None:
    text = "Les États-Unis d’Amérique, l'URL M.P.A.A. et 3,5 % au 13 ème siècle"
    for kwargs in ({}, {"compounds": False, "acronyms": False}, {"ordinals": False}):
        fused, plain = FrenchAnalyzer(**kwargs), FrenchAnalyzer(fused=False, **kwargs)
        assert fused.fused and not plain.fused
        assert fused == plain  # running fused is no part of the analysis
        for mode in ("index", "query"):
            assert fused.tokens(text, mode) == plain.tokens(text, mode)
        assert fused.matching_tokens(text, {"etat"}) == plain.matching_tokens(text, {"etat"})


# -- values: equality, repr, pickling -----------------------------------------------------


def test_equality_and_repr_say_the_configuration() -> None:
    assert FrenchAnalyzer() == FrenchAnalyzer(cache_size=10, fused=False)
    assert FrenchAnalyzer(stop_words=FRENCH_STOP_WORDS) == FrenchAnalyzer()
    assert FrenchAnalyzer(stemmer=SnowballStemmer()) == FrenchAnalyzer()
    assert FrenchAnalyzer(compounds=False) != FrenchAnalyzer()
    assert FrenchAnalyzer(stop_words={"x"}) != FrenchAnalyzer()
    assert repr(FrenchAnalyzer()) == (
        "FrenchAnalyzer(FrenchTokenizer(), FrenchLowercaseFilter(), StopFlagFilter(), "
        "AccentFoldFilter(), OrdinalFilter(), FrenchStemFilter())"
    )
    assert "FrenchTokenizer(compounds=False, ordinals=False)" in repr(
        FrenchAnalyzer(compounds=False, ordinals=False)
    )
    assert hash(FrenchTokenizer(acronyms=False)) == hash(FrenchTokenizer(acronyms=False))


def test_default_parts_pickle_no_state_as_before_they_had_parameters() -> None:
    analyzer = FrenchAnalyzer()
    analyzer.terms("Les États-Unis")  # caches filled: never pickled
    for item in analyzer.items:
        assert item.__getstate__() is None
    assert analyzer.__getstate__() == {"items": analyzer.items}
    data = pickle.dumps(analyzer, protocol=2)
    assert b"stop_words" not in data and b"_plan_" not in data and b"_memo" not in data
    assert load_objects(data, persisted()) == analyzer


def test_a_configured_analyzer_pickles_its_configuration_only() -> None:
    analyzer = FrenchAnalyzer(
        stop_words={"le"},
        elisions={"l"},
        stemmer=SnowballStemmer(folded_fixes=False),
        compounds=False,
        acronyms=False,
        split_apostrophes=False,
        ordinals=False,
        drop_stop_words=True,
        cache_size=7,
        fused=False,
    )
    text = "Le prud’hommes l’a dit des États-Unis le 13 ème: fermées M.P.A.A."
    terms = analyzer.terms(text)
    again = load_objects(pickle.dumps(analyzer, protocol=2), persisted())
    assert again == analyzer
    assert again.terms(text) == terms != FrenchAnalyzer().terms(text)
    # runtime settings are not the analysis: they come back as defaults
    assert again.fused and again._plan().size == 50_000


def test_an_analyzer_is_copied_without_its_caches() -> None:
    import copy

    analyzer = FrenchAnalyzer(compounds=False)
    analyzer.terms("Les États-Unis")
    twin = copy.deepcopy(analyzer)
    assert twin == analyzer and "_plan_" not in twin.__dict__
    assert twin.terms("Les États-Unis") == analyzer.terms("Les États-Unis")


@pytest.fixture
def old_index(tmp_path: Path) -> Path:
    target = tmp_path / "old.index"
    shutil.copytree(OLD_INDEX, target)
    return target


def test_analyzers_of_an_index_written_before_read_back_with_the_defaults(
    old_index: Path,
) -> None:
    schema = whoosh.index.open_dir(str(old_index), indexname=INDEX_NAME).schema
    analyzers = {name: schema[name].analyzer for name in schema.names()}
    assert analyzers["text"] == FrenchAnalyzer()
    assert analyzers["exact"] == FrenchAnalyzer(stem=False, fold=False, drop_stop_words=True)
    old = analyzers["text"]
    tokenizer = old.items[0]
    assert "elisions" not in tokenizer.__dict__  # read back with no state: class defaults
    assert tokenizer.compounds and tokenizer.acronyms and tokenizer.split_apostrophes
    text = "L’URL de la Cour fédérale des États-Unis, le 13 ème M.P.A.A."
    assert old.terms(text) == FrenchAnalyzer().terms(text)
    assert old.term_positions(text) == FrenchAnalyzer().term_positions(text)
    assert old.fused


def test_an_index_built_with_a_configured_analyzer_reopens_with_it(tmp_path: Path) -> None:
    analyzer = FrenchAnalyzer(stem=False, ordinals=False, stop_words={"x"}, compounds=False)
    schema = Schema(id=ID(stored=True), text=TEXT(analyzer=analyzer))
    ix = whoosh.index.create_in(str(tmp_path), schema)
    with ix.writer() as w:
        w.add_document(id="a", text="Les États-Unis au 13 ème siècle")
    again = whoosh.index.open_dir(str(tmp_path))
    reopened = again.schema["text"].analyzer
    assert reopened == analyzer
    with again.searcher() as s:
        terms = {t.decode() for t in s.reader().lexicon("text")}
    assert terms == set(analyzer.terms("Les États-Unis au 13 ème siècle"))
    assert "etatsun" not in terms and "13" in terms


# -- state: owned by objects ------------------------------------------------------------


def _analysis_modules() -> list[ModuleType]:
    package = searchlib.analysis
    names = ("analyzer", "filters", "tokenizer", "lexicon", "stopwords", "_configured")
    return [package, *(getattr(package, n) for n in names)]


def test_no_module_of_the_analysis_keeps_mutable_state() -> None:
    data_tables = {"IRREGULAR_FORMS", "ORDINAL_WORDS"}  # word lists, never written
    for module in _analysis_modules():
        for name, value in vars(module).items():
            if name.startswith("__") or isinstance(value, ModuleType | type):
                continue
            assert not isinstance(value, BoundedCache | threading.local), (module, name)
            if isinstance(value, dict | list | set | bytearray):
                assert name in data_tables, f"{module.__name__}.{name} is mutable state"


# -- properties, over configurations ----------------------------------------------------

configs = st.fixed_dictionaries(
    {},
    optional={
        "stem": st.booleans(),
        "fold": st.booleans(),
        "drop_stop_words": st.booleans(),
        "stop_words": st.sampled_from([frozenset(), frozenset({"la", "été"}), FRENCH_STOP_WORDS]),
        "elisions": st.sampled_from([frozenset(), frozenset({"l", "qu"})]),
        "ordinals": st.booleans(),
        "compounds": st.booleans(),
        "acronyms": st.booleans(),
        "split_apostrophes": st.booleans(),
    },
)
tricky = st.lists(
    st.sampled_from(
        [*"aeéèçœÆlLdqu'’ʼ-.,0123456789 \n«»?!", "jusqu", "Ème", "e\u0301", "M.", "13 ème"]
    ),
    max_size=30,
).map("".join)
FRENCH_LETTERS = "abcdefghijklmnopqrstuvwxyzàâäçéèêëîïôöùûüÿœæ"
french_words = st.text(alphabet=FRENCH_LETTERS + FRENCH_LETTERS.upper(), min_size=1, max_size=12)
french_text = st.lists(
    st.tuples(french_words, st.sampled_from([" ", ", ", ". ", "-", "'", "’", "\n"])), max_size=12
).map(lambda parts: "".join(w + sep for w, sep in parts))


def _plain(analyzer: FrenchAnalyzer, text: str, mode: str) -> list[tuple[Any, ...]]:
    return [
        (t.text, t.pos, t.startchar, t.endchar, t.surface, bool(t.stopped), bool(t.compound))
        for t in CompositeAnalyzer.__call__(analyzer, text, positions=True, chars=True, mode=mode)
    ]


@settings(max_examples=200, deadline=None)
@given(configs, st.one_of(tricky, st.text()))
def test_any_configuration_never_raises_and_fuses_exactly(
    kwargs: dict[str, Any], text: str
) -> None:
    analyzer = FrenchAnalyzer(**kwargs)
    text = normalize_text(text)
    for mode in ("index", "query"):
        fused = [
            (t.text, t.pos, t.start, t.end, t.surface, t.stopped, t.compound)
            for t in analyzer.tokens(text, mode)
        ]
        assert fused == _plain(analyzer, text, mode)
    found = analyzer.term_positions(text)
    assert found is not None
    assert sum(map(len, found.values())) == len(analyzer.terms(text))
    assert len(analyzer.stages(text)) >= len(analyzer.tokens(text, "index"))


@settings(max_examples=200, deadline=None)
@given(configs, st.text())
def test_offsets_slice_back_into_the_source(kwargs: dict[str, Any], text: str) -> None:
    analyzer = FrenchAnalyzer(**kwargs)
    text = normalize_text(text)
    for t in analyzer.tokens(text, mode="index"):
        assert 0 <= t.start < t.end <= len(text)
        piece = text[t.start : t.end]
        assert piece.strip() == piece
        assert piece in t.surface
    for s in analyzer.stages(text):
        assert text[s.start : s.end] in s.surface


@settings(max_examples=200, deadline=None)
@given(configs, st.one_of(tricky, french_text))
def test_the_debug_view_shows_the_indexed_terms(kwargs: dict[str, Any], text: str) -> None:
    analyzer = FrenchAnalyzer(**{**kwargs, "drop_stop_words": False})
    text = normalize_text(text)
    stages = analyzer.stages(text)
    tokens = analyzer.tokens(text, mode="index")
    assert [(s.stem, s.pos, s.start, s.end) for s in stages] == [
        (t.text, t.pos, t.start, t.end) for t in tokens
    ]
    assert [s.stopword for s in stages] == [t.stopped for t in analyzer.tokens(text, "query")]


def test_stages_follow_the_configured_chain() -> None:
    (stage,) = FrenchAnalyzer(fold=False).stages("L’Œuvres")
    assert stage.steps == (("lowercase", "œuvres"), ("ordinal", "œuvres"), ("stem", "œuvr"))
    assert (stage.folded, stage.stem) == ("œuvres", "œuvr")
    (stage,) = FrenchAnalyzer(stem=False, ordinals=False).stages("Treizièmes")
    assert [k for k, _ in stage.steps] == ["lowercase", "fold"]
    assert stage.folded == stage.stem == "treiziemes"
    dropping = FrenchAnalyzer(drop_stop_words=True)
    assert [(s.stem, s.stopword) for s in dropping.stages("la cour")] == [
        ("la", True),
        ("cour", False),
    ]


@settings(max_examples=200, deadline=None)
@given(configs, french_text)
def test_folding_analyzers_give_accented_and_plain_spellings_the_same_terms(
    kwargs: dict[str, Any], text: str
) -> None:
    # Promised when accents are folded and no stop word is dropped (stop
    # words are checked before folding: "ça" is one, "ca" is not).
    kwargs = {**kwargs, "fold": True, "drop_stop_words": False}
    analyzer = FrenchAnalyzer(**kwargs)
    assert analyzer.terms(text) == analyzer.terms(unidecode(text))
