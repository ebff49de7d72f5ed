"""The analyzer's output is frozen: ``fr-5`` terms, positions and offsets do not move.

``tests/data/analysis-fr5.json`` holds what the analyzer of main at 7fbdd38
made of a varied text set (edge cases, seeded random French-ish strings, the
seed corpus, fr-small excerpts), written by ``tests/data/make_analysis_fixture.py``.
Any change of terms needs a new ``ANALYZER_VERSION`` (indexes must be rebuilt)
and a regenerated fixture.
"""

from __future__ import annotations

import gzip
import hashlib
import importlib.util
import json
import unicodedata
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from conftest import need_shared, shared_dir

from searchlib.analysis import ANALYZER_VERSION, FrenchAnalyzer

FIXTURE = Path(__file__).parent / "data" / "analysis-fr5.json"
FR_SMALL = shared_dir() / "corpora" / "prebuilt" / "fr-small.jsonl.gz"
EXACT: dict[str, bool] = {"stem": False, "fold": False, "drop_stop_words": True}


@cache
def frozen() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(FIXTURE.read_text(encoding="utf-8"))
    return data


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def token_rows(analyzer: FrenchAnalyzer, text: str, mode: str) -> list[list[Any]]:
    return [
        [t.text, t.pos, t.start, t.end, t.surface, int(t.stopped), int(t.compound)]
        for t in analyzer.tokens(text, mode=mode)
    ]


def grouped(rows: list[list[Any]]) -> dict[bytes, list[int]]:
    """Index-mode tokens as ``term_positions`` gives them: term -> positions."""
    out: dict[bytes, list[int]] = {}
    for row in rows:
        out.setdefault(row[0].encode(), []).append(row[1])
    return out


def test_fixture_is_for_this_analyzer_version() -> None:
    assert frozen()["analyzer"] == ANALYZER_VERSION
    assert len(frozen()["texts"]) >= 200


def test_default_analyzer_tokens_terms_and_positions_are_frozen() -> None:
    data = frozen()
    expected = data["analyzers"]["default"]
    analyzer = FrenchAnalyzer()
    for i, text in enumerate(data["texts"]):
        rows = expected["index"][i]
        assert token_rows(analyzer, nfc(text), "index") == rows, text
        assert analyzer.terms(text) == [r[0] for r in rows], text
        assert analyzer.term_positions(nfc(text)) == grouped(rows), text
        query = token_rows(analyzer, nfc(text), "query")
        assert "".join(str(r[5]) for r in query) == expected["query_stopped"][i], text
        assert [r[:5] + r[6:] for r in query] == [r[:5] + r[6:] for r in rows], text


def test_matching_tokens_are_frozen() -> None:
    data = frozen()
    analyzer = FrenchAnalyzer()
    for text, rows in zip(data["texts"], data["analyzers"]["default"]["index"], strict=True):
        wanted = {r[0] for r in rows[::3]}
        found = [
            [t.text, t.pos, t.start, t.end, t.surface, int(t.stopped), int(t.compound)]
            for t in analyzer.matching_tokens(nfc(text), wanted)
        ]
        assert found == [r for r in rows if r[0] in wanted], text


def test_stages_are_frozen() -> None:
    data = frozen()
    analyzer = FrenchAnalyzer()
    for text, rows in zip(data["texts"], data["analyzers"]["default"]["stages"], strict=False):
        found = [
            [
                *(s.surface, s.elided, s.lowercase, s.folded, s.stem),
                *(int(s.stopword), int(s.compound), s.pos, s.start, s.end),
            ]
            for s in analyzer.stages(nfc(text))
        ]
        assert found == rows, text


def test_exact_form_analyzer_is_frozen() -> None:
    data = frozen()
    analyzer = FrenchAnalyzer(**EXACT)
    for text, rows in zip(data["texts"], data["analyzers"]["exact"]["index"], strict=True):
        found = token_rows(analyzer, nfc(text), "index")
        assert [r[:2] for r in found] == rows, text
        # Dropping stop words drops them in both modes, with nothing flagged.
        assert token_rows(analyzer, nfc(text), "query") == found, text
        assert analyzer.term_positions(nfc(text)) == grouped(rows), text


@pytest.mark.parametrize(
    ("name", "kwargs"), [("unstemmed", {"stem": False}), ("unfolded", {"fold": False})]
)
def test_unstemmed_and_unfolded_analyzers_are_frozen(name: str, kwargs: dict[str, bool]) -> None:
    data = frozen()
    analyzer = FrenchAnalyzer(**kwargs)
    for text, terms in zip(data["texts"], data["analyzers"][name]["terms"], strict=True):
        assert analyzer.terms(text) == terms, text


def test_no_morph_skips_stemming_only() -> None:
    data = frozen()
    analyzer = FrenchAnalyzer()
    for text, terms in zip(data["texts"], data["analyzers"]["unstemmed"]["terms"], strict=True):
        assert [t.text for t in analyzer(nfc(text), mode="index", no_morph=True)] == terms


def test_corpus_term_positions_are_frozen() -> None:
    need_shared(FR_SMALL)
    refs = {r["line"]: r for r in frozen()["corpus"]}
    default, exact = FrenchAnalyzer(), FrenchAnalyzer(**EXACT)
    with gzip.open(FR_SMALL, "rt", encoding="utf-8") as f:
        for line_no, line in enumerate(f):
            ref = refs.pop(line_no, None)
            if ref is None:
                continue
            text = nfc(json.loads(line)["text"])[: ref["chars"]]
            assert hashlib.sha256(text.encode()).hexdigest()[:16] == ref["sha256"]
            for name, analyzer in (("default", default), ("exact", exact)):
                found = analyzer.term_positions(text)
                assert found is not None
                assert {k.decode(): v for k, v in found.items()} == ref[name]
    assert not refs, "fr-small is shorter than when the fixture was written"


def _fixture_script() -> Any:
    path = Path(__file__).parent / "data" / "make_analysis_fixture.py"
    spec = importlib.util.spec_from_file_location("make_analysis_fixture", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("lever", sorted(frozen()["levers"]))
def test_each_ablation_lever_is_a_constructor_argument(lever: str) -> None:
    # The fixture holds what the patch of benchmarks/ablation.py gave at
    # 7fbdd38; the same analysis now comes from constructor arguments.
    script = _fixture_script()
    expected = frozen()["levers"][lever]
    texts = frozen()["texts"][: len(next(iter(expected.values())))]
    assert script.lever_output(lever, texts) == expected
    # and on these texts the lever changes the analysis
    assert script.lever_output(lever, texts, kwargs={}) != expected
