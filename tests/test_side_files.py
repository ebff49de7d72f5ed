"""Hostile side files: every small file beside an index is plain data.

``searchlib.json``, ``acronyms.json``, ``learned.json``, ``vectors.json`` and
the vectors' keys are read with a size cap, a nesting cap and finite numbers
(:mod:`searchlib._files`). A malformed ``learned.json`` or ``acronyms.json``
is ignored with a warning and the index searches without it (``learn
--forget`` removes the model whatever it holds); malformed vectors are an
``IndexCorruptError``, as other damage to them (``embed --drop`` removes
them); a malformed ``searchlib.json`` is an ``IndexCorruptError``. Never a
``RecursionError``, an ``OverflowError``, a ``ZeroDivisionError``, a hang or
memory exhausted; ``stats`` shows their strings with control characters made
visible; ``--json`` output stays strict JSON.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import re
import shutil
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from searchlib import Document, Index, SearchlibError
from searchlib._files import parse_json
from searchlib._whoosh.limits import time_limit
from searchlib.analysis import ANALYZER_VERSION
from searchlib.app.cli import main
from searchlib.app.render import format_stats
from searchlib.engine.backend import IndexStats
from searchlib.errors import IndexCorruptError, SearchlibWarning, SearchTimeoutError
from searchlib.folder import FORMAT_VERSION, META_FILE, is_searchlib_index
from searchlib.learn import MODEL_FILE, LearnedModel, ModelFormatError, ModelMismatchWarning
from searchlib.learn.model import feature_names
from searchlib.learn.trees import Forest, ForestFormatError
from searchlib.query.acronyms import LEXICON_FILE, AcronymLexicon
from searchlib.semantic import HashingEmbedder, VectorStore
from searchlib.semantic.store import VECTORS_FILE

LONG_RUN = int(os.environ.get("SEARCHLIB_FUZZ_EXAMPLES", "0"))
FUZZ = settings(
    max_examples=LONG_RUN or 150,
    deadline=None,
    derandomize=not LONG_RUN,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

DOCS = [
    Document(
        f"d{i}",
        f"Titre {i}",
        f"Le contrat de travail à durée déterminée (CDD) numéro {i} et la période d'essai.",
    )
    for i in range(12)
]
QUERY = "contrat travail"
NAMES = feature_names(())


def _forest_text(names: tuple[str, ...] = NAMES, leaf: str = "-0.5 0.5") -> str:
    return "\n".join(
        [
            "tree",
            "version=v4",
            "num_class=1",
            "num_tree_per_iteration=1",
            f"max_feature_idx={len(names) - 1}",
            "feature_names=" + " ".join(names),
            "",
            "Tree=0",
            "num_leaves=2",
            "num_cat=0",
            f"split_feature={names.index('coverage') if 'coverage' in names else 0}",
            "threshold=0.5",
            "decision_type=2",
            "left_child=-1",
            "right_child=-2",
            f"leaf_value={leaf}",
            "internal_value=0",
            "shrinkage=1",
            "",
            "end of trees",
            "",
        ]
    )


def _chain_text(leaves: int = 4096, one_leaf_trees: int = 9999) -> str:
    """The hostile model of the issue: one chain of ``leaves`` leaves, then
    ``one_leaf_trees`` trees of one leaf (0.7 MB)."""
    inner = leaves - 1
    lines = [
        "tree",
        "version=v4",
        "num_class=1",
        f"max_feature_idx={len(NAMES) - 1}",
        "feature_names=" + " ".join(NAMES),
        "",
        "Tree=0",
        f"num_leaves={leaves}",
        "num_cat=0",
        "split_feature=" + " ".join(["0"] * inner),
        "threshold=" + " ".join(str(i) for i in range(inner)),
        "decision_type=" + " ".join(["2"] * inner),
        "left_child=" + " ".join(str(~i) for i in range(inner)),
        "right_child=" + " ".join([*(str(i + 1) for i in range(inner - 1)), str(~inner)]),
        "leaf_value=" + " ".join(["0.1"] * leaves),
        "internal_value=" + " ".join(["0"] * inner),
        "shrinkage=1",
        "",
    ]
    for t in range(1, one_leaf_trees + 1):
        lines += [f"Tree={t}", "num_leaves=1", "num_cat=0", "leaf_value=0", "shrinkage=1", ""]
    lines.append("end of trees")
    return "\n".join(lines) + "\n"


def _body() -> dict[str, Any]:
    """A valid model, with a reranker, as the JSON of ``learned.json``."""
    model = {
        "format": "searchlib-learned",
        "version": 1,
        "analyzer_version": ANALYZER_VERSION,
        "format_version": FORMAT_VERSION,
        "info": {
            "learned_at": "2026-01-01T00:00:00Z",
            "searchlib_version": "0",
            "queries": 3,
            "topics": 2,
            "judgments": 5,
            "problems": {"grades out of range": 1},
            "seconds": 0.5,
        },
        "expansion": {
            "weight": 0.5,
            "terms": 5,
            "associations": {"contrat": [["essai", 0.5], ["period", 0.25]]},
        },
        "prior": {},
        "sources": [],
        "reranker": {
            "library": "lightgbm 4.7.0",
            "depth": 50,
            "scale": 3.0,
            "features": list(NAMES),
            "model": _forest_text(),
        },
    }
    LearnedModel.from_json(json.dumps(model))  # valid
    return model


def _with(change: Callable[[dict[str, Any]], object]) -> str:
    body = _body()
    change(body)
    return json.dumps(body)


def _set(path: str, value: object) -> Callable[[dict[str, Any]], None]:
    """Replace what the dotted ``path`` (keys, and list positions) names by ``value``."""

    def change(body: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node: Any = body
        for p in parents:
            node = node[int(p)] if isinstance(node, list) else node[p]
        if isinstance(node, list):
            node[int(last)] = value
        else:
            node[last] = value

    return change


def _paths(node: object, prefix: str = "") -> list[str]:
    """Every dotted path into ``node``."""
    items: list[tuple[str, object]] = []
    if isinstance(node, dict):
        items = [(str(k), v) for k, v in node.items()]
    elif isinstance(node, list):
        items = [(str(i), v) for i, v in enumerate(node)]
    out: list[str] = []
    for key, value in items:
        path = f"{prefix}.{key}" if prefix else key
        out += [path, *_paths(value, path)]
    return out


def _model_text(replace: tuple[str, str]) -> Callable[[dict[str, Any]], None]:
    def change(body: dict[str, Any]) -> None:
        body["reranker"]["model"] = body["reranker"]["model"].replace(*replace)

    return change


def _two_features(body: dict[str, Any]) -> None:
    body["reranker"]["features"] = ["score", "coverage"]
    body["reranker"]["model"] = _forest_text(("score", "coverage"))


def _huge_feature_count(body: dict[str, Any]) -> None:
    text = body["reranker"]["model"]
    lines = [
        "max_feature_idx=4000000000" if s.startswith("max_feature_idx") else s
        for s in text.splitlines()
        if not s.startswith("feature_names")
    ]
    body["reranker"]["model"] = "\n".join(lines)


def _chain(body: dict[str, Any]) -> None:
    body["reranker"]["model"] = _chain_text()


def _huge() -> str:
    return '{"format": "searchlib-learned", "pad": "' + "x" * (65 << 20) + '"}'


# Each: how to make a learned.json that must be ignored with a warning, and
# a word of the warning.
HOSTILE_MODELS: dict[str, tuple[Callable[[], str], str]] = {
    "deep nesting": (lambda: "[" * 100_000, "nested deeper"),
    "larger than the cap": (_huge, "larger"),
    "NaN prior": (lambda: _with(_set("prior", {"d1": math.nan})), "NaN"),
    "401 digits": (
        lambda: '{"format": "searchlib-learned", "version": 1' + "0" * 400 + "}",
        "version",
    ),
    "401-digit weight": (lambda: _with(_set("expansion.weight", 10**400)), "weight"),
    "5000 digits": (
        lambda: _with(_set("expansion.terms", 10**400)).replace("0" * 400, "0" * 5000),
        "digits",
    ),
    "1e999": (
        lambda: _with(_set("reranker.scale", 10**400)).replace("1" + "0" * 400, "1e999"),
        "scale",
    ),
    "association pair of one": (
        lambda: _with(_set("expansion.associations", {"contrat": [["x"]]})),
        "association",
    ),
    "association pair as a string": (
        lambda: _with(_set("expansion.associations", {"contrat": ["ab"]})),
        "association",
    ),
    "negative terms": (lambda: _with(_set("expansion.terms", -3)), "terms"),
    "prior above 1": (lambda: _with(_set("prior", {"d1": 7.0})), "prior"),
    "scale 0": (lambda: _with(_set("reranker.scale", 0)), "scale"),
    "scale -1": (lambda: _with(_set("reranker.scale", -1)), "scale"),
    "depth of a billion": (lambda: _with(_set("reranker.depth", 10**9)), "depth"),
    "a reranker over 2 features": (lambda: _with(_two_features), "features"),
    "sources that are no sources": (lambda: _with(_set("sources", ["a b", "a b"])), "source"),
    "infinite leaves": (
        lambda: _with(_model_text(("leaf_value=-0.5 0.5", "leaf_value=-inf inf"))),
        "leaf_value",
    ),
    "huge leaves": (
        lambda: _with(_model_text(("leaf_value=-0.5 0.5", "leaf_value=1e300 0"))),
        "leaf_value",
    ),
    "401-digit split feature": (
        lambda: _with(_model_text(("split_feature=5", "split_feature=" + "9" * 401))),
        "split_feature",
    ),
    "4 billion features": (lambda: _with(_huge_feature_count), "features"),
    "a 4096-leaf chain and 9999 trees": (lambda: _with(_chain), "too large"),
    "info of another shape": (
        lambda: _with(_set("info", {"queries": "many", "problems": [1]})),
        "info",
    ),
}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("side") / "ix"
    Index.build(path, DOCS).close()
    return path


@pytest.fixture(scope="module")
def with_vectors(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("side-vectors") / "ix"
    with Index.create(path, embedder=HashingEmbedder(16)) as ix:
        ix.add(DOCS)
    return path


@pytest.fixture
def ix_path(built: Path, tmp_path: Path) -> Path:
    path = tmp_path / "ix"
    shutil.copytree(built, path)
    return path


def _ranking(ix: Index, **kw: Any) -> list[tuple[str, float]]:
    return [(h.id, h.score) for h in ix.search(QUERY, limit=20, **kw)]


def _run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def _strict_json(text: str) -> Any:
    def refuse(constant: str) -> None:
        raise AssertionError(f"{constant} in JSON output")

    return json.loads(text, parse_constant=refuse)


def _pipe(path: Path) -> None:
    """Make ``path`` a named pipe with a writer that comes after a while, if
    a reader waits then (reading it unfixed blocks until the writer comes:
    the test fails instead of hanging)."""
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
    os.mkfifo(path)

    def writer() -> None:
        time.sleep(20)
        with contextlib.suppress(OSError):  # ENXIO: no reader waits
            fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK)
            os.write(fd, b"x")
            os.close(fd)

    threading.Thread(target=writer, daemon=True).start()


# -- learned.json ---------------------------------------------------------------------


def test_the_valid_model_is_used(ix_path: Path, built: Path) -> None:
    (ix_path / MODEL_FILE).write_text(json.dumps(_body()), encoding="utf-8")
    with Index.open(ix_path) as ix, Index.open(built) as plain:
        stats = ix.stats().learned
        assert stats is not None and stats["used"], stats
        assert _ranking(ix) != _ranking(plain)


@pytest.mark.parametrize("name", HOSTILE_MODELS)
def test_a_hostile_model_is_ignored_with_a_warning(ix_path: Path, built: Path, name: str) -> None:
    make, why = HOSTILE_MODELS[name]
    (ix_path / MODEL_FILE).write_text(make(), encoding="utf-8")
    with pytest.warns(ModelMismatchWarning, match="learned model not used") as caught:
        ix = Index.open(ix_path)
    message = str(caught[0].message)
    assert why in message and "\n" not in message and len(message) < 400, message
    with ix, Index.open(built) as plain:
        assert _ranking(ix) == _ranking(plain)
        stats = ix.stats().learned
        assert stats is not None and not stats["used"] and why in stats["why"]
        assert ix.forget()
        assert not (ix_path / MODEL_FILE).exists()


@pytest.mark.parametrize("name", HOSTILE_MODELS)
def test_the_cli_searches_shows_and_forgets_a_hostile_model(ix_path: Path, name: str) -> None:
    (ix_path / MODEL_FILE).write_text(HOSTILE_MODELS[name][0](), encoding="utf-8")
    code, out, err = _run("search", QUERY, "--index", str(ix_path), "--json")
    assert code == 0, err
    assert _strict_json(out)["hits"]
    # the warning in the command line's words, one line
    assert err.startswith("searchlib: warning: ") and err.count("\n") == 1, err
    code, out, err = _run("stats", "--index", str(ix_path))
    assert code == 0 and re.search(r"^learned +not used: ", out, re.MULTILINE), err
    code, out, err = _run("stats", "--index", str(ix_path), "--json")
    assert code == 0 and not _strict_json(out)["learned"]["used"], err
    code, out, err = _run("learn", "--index", str(ix_path), "--forget")
    assert code == 0 and "forgot" in out, err
    assert not (ix_path / MODEL_FILE).exists()


def test_a_model_that_is_not_a_file_is_ignored(ix_path: Path) -> None:
    (ix_path / MODEL_FILE).mkdir()
    with pytest.warns(ModelMismatchWarning, match="not a regular file"):
        Index.open(ix_path).close()


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_a_model_that_is_a_pipe_never_blocks(ix_path: Path) -> None:
    fifo = ix_path / MODEL_FILE
    _pipe(fifo)
    with pytest.warns(ModelMismatchWarning, match="not a regular file"):
        ix = Index.open(ix_path)
    with ix:
        assert ix.search(QUERY).hits
        assert ix.forget() and not fifo.exists()


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
@pytest.mark.parametrize("name", [LEXICON_FILE, META_FILE])
def test_other_side_files_that_are_pipes_never_block(ix_path: Path, name: str) -> None:
    _pipe(ix_path / name)
    if name == META_FILE:
        with pytest.raises(SearchlibError, match=re.escape(META_FILE)):
            Index.open(ix_path)
        assert not is_searchlib_index(ix_path)
        return
    with pytest.warns(SearchlibWarning, match="not a regular file"), Index.open(ix_path) as ix:
        assert ix.search(QUERY).hits


def test_model_numbers_are_finite_and_in_range() -> None:
    with pytest.raises(ModelFormatError, match="scale"):
        LearnedModel.from_json(_with(_set("reranker.scale", 1e-300)))
    with pytest.raises(ModelFormatError, match="Infinity"):
        LearnedModel.from_json(_with(_set("reranker.scale", math.inf)))
    model = LearnedModel.from_json(_with(_set("reranker.scale", 2)))
    assert model.reranker is not None and model.reranker.scale == 2.0


def test_the_reranker_runs_under_the_search_deadline() -> None:
    forest = Forest.from_text(_forest_text())
    x = np.zeros((3, len(NAMES)))
    assert forest.predict(x).tolist() == [-0.5, -0.5, -0.5]
    with time_limit(1e-9), pytest.raises(SearchTimeoutError):
        forest.predict(x)


@pytest.mark.parametrize(
    ("old", "new", "match"),
    [
        (f"max_feature_idx={len(NAMES) - 1}", "max_feature_idx=" + "9" * 401, "max_feature_idx"),
        (f"max_feature_idx={len(NAMES) - 1}", "max_feature_idx=-1", "max_feature_idx"),
        ("threshold=0.5", "threshold=nan", "threshold"),
        ("internal_value=0", "internal_value=inf", "internal_value"),
        ("num_leaves=2", "num_leaves=" + "9" * 401, "leaves"),
    ],
)
def test_forest_numbers_are_checked(old: str, new: str, match: str) -> None:
    with pytest.raises(ForestFormatError, match=match):
        Forest.from_text(_forest_text().replace(old, new))


def test_forest_size_is_bounded() -> None:
    with pytest.raises(ForestFormatError, match="too large"):
        Forest.from_text(_chain_text())
    assert len(Forest.from_text(_chain_text(4096, 10)).trees) == 11  # deep, but few trees


def test_forest_features_are_the_ones_asked_for() -> None:
    with pytest.raises(ForestFormatError, match="features"):
        Forest.from_text(_forest_text(), features=NAMES[:-1])
    assert Forest.from_text(_forest_text(), features=NAMES).feature_names == NAMES


# -- acronyms.json --------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "[" * 100_000,
        '{"version": 1, "acronyms": {"cdd": {"contrat": "x"}}}',
        '{"version": 1, "acronyms": {"cdd": {"contrat": 1' + "0" * 400 + "}}}",
        '{"version": 1, "acronyms": {"cdd": {"contrat": -4}}}',
        '{"version": 1, "acronyms": {"cdd": ["contrat"]}}',
        "\xff",
    ],
)
def test_a_hostile_lexicon_is_ignored_with_a_warning(ix_path: Path, text: str) -> None:
    (ix_path / LEXICON_FILE).write_text(text, encoding="utf-8")
    with pytest.raises(IndexCorruptError, match=LEXICON_FILE):
        AcronymLexicon.load(ix_path)
    with pytest.warns(SearchlibWarning, match="acronyms not used") as caught:
        ix = Index.open(ix_path)
    assert "\n" not in str(caught[0].message)
    with ix:
        assert not ix.acronyms
        assert ix.search(QUERY).hits
        # the next commit that finds definitions writes the lexicon anew
        definition = "Le contrat à durée déterminée (CDD) est signé."
        ix.add([Document(f"cdd{n}", "CDD", definition) for n in range(3)])
        assert "cdd" in AcronymLexicon.load(ix_path).counts


# -- searchlib.json -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (lambda meta: "[" * 100_000, "nested deeper"),
        (lambda meta: {**meta, "fields": {"f": [[[[0]]]] * 50_000}}, "malformed"),
        (lambda meta: {**meta, "passage_chars": 10**400}, "passage_chars"),
        (lambda meta: {**meta, "passage_chars": 3}, "passage_chars"),
        (lambda meta: {**meta, "pad": "x" * (2 << 20)}, "larger"),
    ],
)
def test_a_hostile_meta_file_is_one_clear_error(
    ix_path: Path, change: Callable[[dict[str, Any]], object], match: str
) -> None:
    meta = json.loads((ix_path / META_FILE).read_text(encoding="utf-8"))
    new = change(meta)
    (ix_path / META_FILE).write_text(new if isinstance(new, str) else json.dumps(new))
    with pytest.raises(IndexCorruptError, match=match) as caught:
        Index.open(ix_path)
    assert "\n" not in str(caught.value) and len(str(caught.value)) < 400
    assert is_searchlib_index(ix_path) in (True, False)


# -- vectors.json and the keys ------------------------------------------------------


def _vectors_copy(with_vectors: Path, tmp_path: Path) -> Path:
    path = tmp_path / "ix"
    shutil.copytree(with_vectors, path)
    return path


def _file(path: Path, kind: str) -> Path:
    """The vector file of ``kind`` (``keys.json``, ``hashes.npy``) of the current generation."""
    generation = json.loads((path / VECTORS_FILE).read_text(encoding="utf-8"))["generation"]
    return path / f"vectors-{generation}.{kind}"


def _meta(path: Path, **changes: object) -> None:
    meta = json.loads((path / VECTORS_FILE).read_text(encoding="utf-8"))
    meta.update(changes)
    (path / VECTORS_FILE).write_text(json.dumps(meta), encoding="utf-8")


@pytest.mark.parametrize(
    ("damage", "match"),
    [
        (lambda p: (p / VECTORS_FILE).write_text("[" * 10_000), "nested deeper"),
        (lambda p: _file(p, "keys.json").write_text("[" * 10_000), "nested deeper"),
        (lambda p: _meta(p, passage_tokens=0), "passage_tokens"),
        (lambda p: _meta(p, passage_tokens=15), "passage_tokens"),
        (lambda p: _meta(p, passage_tokens=10**12), "passage_tokens"),
        (lambda p: _meta(p, passage_tokens=True), "passage_tokens"),
        (lambda p: _meta(p, dimension=10**9), "dimension"),
        (lambda p: _meta(p, generation=10**30), "generation"),
        (lambda p: _meta(p, dimension=10**400), "dimension"),
        (lambda p: _meta(p, count=1.5), "count"),
        (lambda p: _meta(p, identity="\x1b]0;x\x07"), "identity"),
        (lambda p: _meta(p, identity="m" * 1000), "identity"),
        (lambda p: _meta(p, count=10**15), "count"),
        (lambda p: _file(p, "keys.json").write_text('["' + "k" * (3 << 20) + '"]'), "larger"),
        (
            lambda p: np.save(_file(p, "hashes.npy"), np.zeros((1, 12), np.uint64)),
            "disagree",
        ),
        (lambda p: _pipe(_file(p, "npy")), "not a regular file"),
        (lambda p: _pipe(p / VECTORS_FILE), "not a regular file"),
        (lambda p: _pipe(_file(p, "keys.json")), "not a regular file"),
    ],
)
def test_hostile_vectors_are_one_clear_error(
    with_vectors: Path, tmp_path: Path, damage: Callable[[Path], object], match: str
) -> None:
    path = _vectors_copy(with_vectors, tmp_path)
    damage(path)
    with pytest.raises(IndexCorruptError, match=match) as caught:
        VectorStore.load(path)
    assert "\n" not in str(caught.value) and len(str(caught.value)) < 400
    with Index.open(path, embedder=HashingEmbedder(16)) as ix:
        with pytest.raises(IndexCorruptError, match=match):
            ix.search(QUERY)
        assert ix.search(QUERY, semantic="off").hits
        assert ix.semantic.drop()
        assert ix.search(QUERY).hits
    assert not (path / VECTORS_FILE).exists()


def test_the_cli_drops_hostile_vectors(with_vectors: Path, tmp_path: Path) -> None:
    path = _vectors_copy(with_vectors, tmp_path)
    (path / VECTORS_FILE).write_text("[" * 10_000)
    code, _, err = _run("search", QUERY, "--index", str(path))
    assert code == 1 and err.count("\n") == 1 and "nested deeper" in err, err
    code, _out, err = _run("embed", "--index", str(path), "--drop")
    assert code == 0, err
    assert not (path / VECTORS_FILE).exists()


# -- stats ----------------------------------------------------------------------------


def test_stats_shows_side_file_strings_with_visible_controls(ix_path: Path) -> None:
    body = _body()
    body["info"]["learned_at"] = "\x1b[2J\x1b]0;pwned\x07"
    body["reranker"]["library"] = "lightgbm \x9b31m"
    (ix_path / MODEL_FILE).write_text(json.dumps(body), encoding="utf-8")
    code, out, err = _run("stats", "--index", str(ix_path))
    assert code == 0, err
    assert "\x1b" not in out and "\x07" not in out and "\x9b" not in out
    assert "^[[2J" in out
    stats = IndexStats(
        None,
        1,
        1,
        ("text",),
        0,
        ANALYZER_VERSION,
        FORMAT_VERSION,
        vectors={
            "model": "m\x1b[31m",
            "dimension": 4,
            "scope": "passages\r",
            "passage_tokens": None,
            "count": 1,
        },
    )
    text = format_stats(stats)
    assert "\x1b" not in text and "\r" not in text and "m^[[31m" in text


# -- fuzzing --------------------------------------------------------------------------

JSON_PIECES = st.sampled_from(
    [*'[]{}",:0-1.e', "true", "null", "NaN", "Infinity", "1e999", "9" * 30, '"\\"', "\\u0000"]
)
JSONISH = st.one_of(
    st.lists(JSON_PIECES, max_size=200).map("".join),
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
        lambda inner: (
            st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4)
        ),
        max_leaves=30,
    ).map(json.dumps),
)


@FUZZ
@given(text=JSONISH)
def test_parse_json_raises_only_the_given_error(text: str) -> None:
    with contextlib.suppress(ModelFormatError):
        parse_json(text, max_bytes=1 << 20, error=ModelFormatError)


ANY_VALUE = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=20,
)


@FUZZ
@given(path=st.sampled_from(_paths(_body())), value=ANY_VALUE)
def test_a_model_of_any_shape_loads_or_is_a_format_error(path: str, value: object) -> None:
    text = _with(_set(path, value))
    try:
        model = LearnedModel.from_json(text)
    except ModelFormatError:
        return
    # What loads is usable: its numbers finite, its reranker over its features.
    _strict_json(model.to_json())
    if model.reranker is not None:
        names = feature_names(model.sources)
        out = model.reranker.forest.predict(np.zeros((2, len(names))))
        assert np.isfinite(out).all()
    model.associations.expand(["contrat", "essai"])


@example(key="leaf_value", value="1e400 0")  # was evaluated to inf
@FUZZ
@given(
    key=st.sampled_from(
        [
            "num_leaves",
            "split_feature",
            "threshold",
            "decision_type",
            "left_child",
            "right_child",
            "leaf_value",
            "internal_value",
            "max_feature_idx",
            "Tree",
        ]
    ),
    value=st.lists(
        st.sampled_from(["0", "1", "-1", "-2", "2", "3", "nan", "inf", "1e400", "9" * 30, "x", ""]),
        max_size=6,
    ).map(" ".join),
)
def test_a_forest_of_any_numbers_loads_or_is_a_format_error(key: str, value: str) -> None:
    lines = [
        f"{key}={value}" if s.startswith(key + "=") else s for s in _forest_text().splitlines()
    ]
    try:
        forest = Forest.from_text("\n".join(lines))
    except ForestFormatError:
        return
    out = forest.predict(np.zeros((2, forest.n_features)))
    assert np.isfinite(out).all()
