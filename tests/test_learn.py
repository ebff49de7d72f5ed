"""Learning from relevance judgments (searchlib.learn, Index.learn, searchlib learn).

The judgments are synthetic and small: 30 topics whose queries use a lay word
(``plimouthXY``) that only one of the topic's three relevant documents holds,
while all three hold the topic's technical word (``zorbaliqueXY``) — the gap
between the words of questions and of the texts that learning bridges.
"""

from __future__ import annotations

import dataclasses
import io
import json
import math
import random
import shutil
import threading
from pathlib import Path

import numpy as np
import pytest
from conftest import in_ci

from searchlib import Document, Index, SearchlibError
from searchlib.app.cli import main
from searchlib.app.evaluate import per_query as eval_per_query
from searchlib.app.render import format_explanation
from searchlib.learn import (
    MODEL_FILE,
    PARTS,
    Associations,
    Judgments,
    LearnedModel,
    LearnOptions,
    ModelFormatError,
    ModelMismatchWarning,
    PartStatus,
    train,
)
from searchlib.learn.features import _Holders, feature_names, frequent_sources, source_of
from searchlib.learn.metrics import per_query, sign_flip
from searchlib.learn.trees import Forest, ForestFormatError, summed_rows

try:
    import lightgbm
except ImportError:  # the learn extra is not installed: the reranker's tests skip (not in CI)
    lightgbm = None

needs_lightgbm = pytest.mark.skipif(
    lightgbm is None and not in_ci(),
    reason="LightGBM (pip install 'searchlib[learn]') is not installed",
)

FILLER = (
    "le la les un une des et de du pour avec dans sur contrat travail salarié employeur "
    "durée période accord"
).split()

OPTIONS = LearnOptions(min_leaf=5, trees=30)
FORCED = LearnOptions(min_leaf=5, trees=30, force=PARTS)
"""Every part kept: a topic's lay word is in no other topic, so cross-validation
by topic cannot show the expansion helps; the tests of what a model does use it."""


def _word(stem: str, i: int) -> str:
    return f"{stem}{chr(97 + i % 26)}{chr(97 + i // 26)}"


def corpus(topics: int = 30, noise: int = 100, seed: int = 1) -> list[Document]:
    rng = random.Random(seed)
    docs = []
    for i in range(topics):
        tech, lay = _word("zorbalique", i), _word("plimouth", i)
        for k in range(3):
            words = [tech] * 3 + rng.sample(FILLER, 8) + ([lay] if k == 0 else [])
            rng.shuffle(words)
            docs.append(Document(f"src{k % 2}:t{i}d{k}", f"Titre {tech}", " ".join(words)))
    for n in range(noise):
        docs.append(Document(f"noise:{n}", "Bruit", " ".join(rng.sample(FILLER, 10))))
    return docs


def judgments(topics: int = 30) -> tuple[list[tuple[str, str]], list[tuple[str, str, int]], dict]:
    queries, qrels, groups = [], [], {}
    for i in range(topics):
        lay = _word("plimouth", i)
        for v, text in enumerate((f"{lay} contrat", lay)):
            qid = f"q{i}v{v}"
            queries.append((qid, text))
            groups[qid] = f"t{i}"
            qrels.extend((qid, f"src{k % 2}:t{i}d{k}", 1) for k in range(3))
    return queries, qrels, groups


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An index of the synthetic corpus, never learned on (copied by tests that learn)."""
    path = tmp_path_factory.mktemp("learn") / "ix"
    Index.build(path, corpus()).close()
    return path


@pytest.fixture(scope="module")
def learned_path(built: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of ``built`` that learned from the synthetic judgments (every part kept)."""
    path = tmp_path_factory.mktemp("learned") / "ix"
    shutil.copytree(built, path)
    queries, qrels, topics = judgments()
    with Index.open(path) as ix:
        ix.learn(queries, qrels, topics=topics, options=FORCED)
    return path


def _ranking(ix: Index, query: str, **kw: object) -> list[tuple[str, float]]:
    return [(h.id, h.score) for h in ix.search(query, limit=20, collapse=True, **kw)]  # type: ignore[arg-type]


# -- the model at work ---------------------------------------------------------------


@needs_lightgbm
def test_learning_finds_what_the_words_of_the_query_do_not(built: Path, learned_path: Path) -> None:
    # Two of each topic's relevant documents lack the lay word: the lexical
    # ranking cannot find them; the association lay word -> technical word can.
    with Index.open(built) as plain, Index.open(learned_path) as learned:
        before = {h.doc_id for h in plain.search("plimouthea", limit=5, collapse=True)}
        after = {h.doc_id for h in learned.search("plimouthea", limit=5, collapse=True)}
    relevant = {"src0:t4d0", "src1:t4d1", "src0:t4d2"}
    assert before & relevant == {"src0:t4d0"}
    assert relevant <= after


def test_without_the_model_searches_are_exactly_as_before(built: Path, learned_path: Path) -> None:
    with Index.open(built) as plain, Index.open(learned_path) as learned:
        for query in ("plimouthea contrat", "zorbaliquebb", "travail accord", "le", "-contrat"):
            assert _ranking(learned, query, learned=False) == _ranking(plain, query)
            page = learned.search(query, limit=3, page=2, learned=False)
            assert [(h.id, h.score) for h in page] == [
                (h.id, h.score) for h in plain.search(query, limit=3, page=2)
            ]


@needs_lightgbm
def test_a_fresh_open_uses_the_saved_model(learned_path: Path) -> None:
    with Index.open(learned_path) as a, Index.open(learned_path) as b:
        assert _ranking(a, "plimouthea") == _ranking(b, "plimouthea")
        assert a.learned is not None and a.learned.reranker is not None
        assert _ranking(a, "plimouthea") != _ranking(a, "plimouthea", learned=False)


@needs_lightgbm
def test_reranked_pages_follow_one_ranking(learned_path: Path) -> None:
    with Index.open(learned_path) as ix:
        whole = [h.id for h in ix.search("plimouthea contrat", limit=30)]
        pages = [h.id for p in (1, 2, 3) for h in ix.search("plimouthea contrat", limit=10, page=p)]
    assert pages == whole


@needs_lightgbm
def test_explain_adds_up_with_expansion_and_learned_shares(learned_path: Path) -> None:
    with Index.open(learned_path) as ix:
        for collapse in (True, False):
            results = ix.search("plimouthea contrat", limit=5, collapse=collapse)
            for hit in results:
                why = ix.explain(results.query, hit)
                kinds = {c.kind for c in why.contributions}
                if ":t4d" in hit.doc_id:  # the topic's documents hold its technical word
                    assert "expansion" in kinds
                assert "learned" in kinds
                assert why.total == pytest.approx(hit.score, rel=1e-9, abs=1e-9)
                # read from the search's trace, the same explanation
                assert ix.explain(results, hit).total == pytest.approx(why.total, rel=1e-12)
            assert any(":t4d" in hit.doc_id for hit in results)
        plain = ix.search("plimouthea contrat", limit=1, learned=False)
        why = ix.explain(plain.query, plain.hits[0], learned=False)
        assert not {c.kind for c in why.contributions} & {"expansion", "learned"}
        assert why.total == pytest.approx(plain.hits[0].score)


@needs_lightgbm
@needs_lightgbm
def test_explanation_renders_the_learned_shares(learned_path: Path) -> None:
    with Index.open(learned_path) as ix:
        results = ix.search("plimouthea contrat", limit=1, collapse=True)
        text = format_explanation(ix.explain(results.query, results.hits[0]), color=False)
    assert "(learned expansion)" in text
    assert "\n  learned  " in text  # the reranker's subtotal, then a line per feature
    assert "prior" in text and "base" in text


def test_added_documents_get_their_features(learned_path: Path, tmp_path: Path) -> None:
    path = tmp_path / "ix"
    shutil.copytree(learned_path, path)
    with Index.open(path) as ix:
        ix.add([Document("new:1", "Nouveau", "zorbaliqueea " * 3 + "accord durée")])
        found = [h.doc_id for h in ix.search("plimouthea", limit=10, collapse=True)]
        assert "new:1" in found  # through the expansion: it lacks the query's word
        stats = ix.stats().learned
        assert stats is not None and stats["used"]
        bound = ix.search_context().reranker
        assert bound is not None
        row = bound.features(  # type: ignore[attr-defined]
            ix.search_context().compile("plimouthea"),
            [(ix.searcher().document_number(id="new:1#1"), 1.0)],
        )[0]
        names = list(bound.names)  # type: ignore[attr-defined]
        assert row[names.index("log_doc_length")] > 0
        assert row[names.index("prior")] == 0  # judged for no topic
        assert row[names.index("source=other")] == 1  # "new" is not a source it learned


def test_learning_again_replaces_the_model(learned_path: Path, tmp_path: Path) -> None:
    path = tmp_path / "ix"
    shutil.copytree(learned_path, path)
    queries, qrels, topics = judgments()
    with Index.open(path) as ix:
        first = ix.learned
        ix.learn(queries[:20], qrels, topics=topics, options=OPTIONS)
        assert ix.learned is not first
        assert ix.learned is not None and ix.learned.info["queries"] == 20
    with Index.open(path) as ix:
        assert ix.learned is not None and ix.learned.info["queries"] == 20


def test_another_index_object_sees_a_new_model(built: Path, tmp_path: Path) -> None:
    # As another process would: the file changes under an open index.
    path = tmp_path / "ix"
    shutil.copytree(built, path)
    queries, qrels, topics = judgments()
    with Index.open(path) as reader, Index.open(path) as learner:
        before = _ranking(reader, "plimouthea")
        learner.learn(queries, qrels, topics=topics, options=OPTIONS)
        assert _ranking(reader, "plimouthea") == _ranking(learner, "plimouthea") != before
        learner.forget()
        assert _ranking(reader, "plimouthea") == before


def test_forget_goes_back_to_the_lexical_ranking(
    built: Path, learned_path: Path, tmp_path: Path
) -> None:
    path = tmp_path / "ix"
    shutil.copytree(learned_path, path)
    with Index.open(path) as ix, Index.open(built) as plain:
        assert ix.forget()
        assert not (path / MODEL_FILE).exists()
        assert ix.stats().learned is None
        assert _ranking(ix, "plimouthea") == _ranking(plain, "plimouthea")
        assert not ix.forget()


def test_in_memory_index_learns_in_memory() -> None:
    ix = Index.in_memory()
    ix.add(corpus())
    queries, qrels, topics = judgments()
    before = _ranking(ix, "plimouthea")
    report = ix.learn(queries, qrels, topics=topics, options=OPTIONS)
    assert report.queries == 60 and report.topics == 30
    assert _ranking(ix, "plimouthea") != before
    assert _ranking(ix, "plimouthea", learned=False) == before


def test_learning_without_lightgbm(
    built: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(train, "lightgbm_version", lambda: None)
    path = tmp_path / "ix"
    shutil.copytree(built, path)
    queries, qrels, topics = judgments()
    with Index.open(path) as ix:
        report = ix.learn(queries, qrels, topics=topics, options=OPTIONS)
        assert report.reranker.status is PartStatus.NOT_LEARNED
        assert "not installed" in report.reranker.why
        assert ix.learned is not None and ix.learned.reranker is None
        assert ix.stats().learned["reranker"] is None  # type: ignore[index]


def test_learning_without_a_reranker(built: Path, tmp_path: Path) -> None:
    path = tmp_path / "ix"
    shutil.copytree(built, path)
    queries, qrels, topics = judgments()
    with Index.open(path) as ix:
        report = ix.learn(
            queries,
            qrels,
            topics=topics,
            options=LearnOptions(rerank=False, weights=(0.8,), force=("expansion",)),
        )
        assert report.reranker.status is PartStatus.NOT_LEARNED
        assert report.reranker.why == "not asked for"
        assert ix.learned is not None and ix.learned.reranker is None
        assert ix.search_context().reranker is None
        found = {h.doc_id for h in ix.search("plimouthea", limit=5, collapse=True)}
        assert {"src1:t4d1", "src0:t4d2"} <= found


# -- bad input -----------------------------------------------------------------------


def test_bad_judgments_are_counted_not_fatal(built: Path, tmp_path: Path) -> None:
    path = tmp_path / "ix"
    shutil.copytree(built, path)
    queries, qrels, topics = judgments()
    queries = [*queries, queries[0], ("q-alone", "plimouthea"), ("q0v0", "autre texte")]
    qrels = [
        *qrels,
        qrels[0],  # duplicated
        ("q0v0", "src0:t0d0", 2),  # conflicting grade
        ("q1v0", "src0:t1d0", 11),  # out of range
        ("q1v0", "missing:doc", 1),  # unknown document
        ("nobody", "src0:t0d0", 1),  # unknown query
    ]
    with Index.open(path) as ix:
        report = ix.learn(queries, qrels, topics=topics, options=OPTIONS)
    assert report.problems == {
        "duplicated query lines": 1,
        "conflicting query lines": 1,
        "duplicated judgment lines": 1,
        "conflicting judgment lines": 1,
        "grades out of range": 1,
        "judgments of unknown documents": 1,
        "judgments of unknown queries": 1,
        "queries with no judgment": 1,
    }
    assert report.queries == 60


def test_nothing_usable_is_an_error(built: Path) -> None:
    with Index.open(built) as ix:
        with pytest.raises(SearchlibError, match="nothing to learn"):
            ix.learn([("q", "plimouthea")], [("q", "missing:doc", 1)], options=OPTIONS)
        with pytest.raises(SearchlibError, match="nothing to learn"):
            ix.learn([("q", "plimouthea")], [], options=OPTIONS)
        assert ix.learned is None


def test_files_are_read_leniently(tmp_path: Path) -> None:
    (tmp_path / "q.jsonl").write_text(
        '{"id": "a", "text": "congé"}\nnot json\n{"id": "b"}\n{"id": 7, "text": "préavis"}\n\n',
        encoding="utf-8",
    )
    (tmp_path / "r.tsv").write_bytes(
        b"a\td1\t1\na d2 x\na\td3\nb\tQ0\td4\t1\n7\td5\t1\nb\xff\td6\t1\n"
    )
    (tmp_path / "t.tsv").write_text("qid\ttopic\na\t2\n7\t1\nbad\na\t1\n", encoding="utf-8")
    j = Judgments.from_files(tmp_path / "q.jsonl", tmp_path / "r.tsv", tmp_path / "t.tsv")
    assert j.queries == {"a": "congé", "7": "préavis"}
    assert j.qrels == {"a": {"d1": 1}, "7": {"d5": 1}}
    assert j.topics == {"a": "1", "7": "1"}
    assert j.problems == {
        "malformed query lines": 2,
        "malformed judgment lines": 2,
        "judgments of unknown queries": 2,  # b (no text) and the line with a bad byte
        "malformed topic lines": 1,
        "queries in several topics (the last one kept)": 1,
    }


def test_model_of_another_analyzer_is_ignored_with_a_warning(
    built: Path, learned_path: Path, tmp_path: Path
) -> None:
    path = tmp_path / "ix"
    shutil.copytree(learned_path, path)
    body = json.loads((path / MODEL_FILE).read_text(encoding="utf-8"))
    body["analyzer_version"] = "fr-0"
    (path / MODEL_FILE).write_text(json.dumps(body), encoding="utf-8")
    with pytest.warns(ModelMismatchWarning, match="analyzer"):
        ix = Index.open(path)
    with ix, Index.open(built) as plain:
        assert _ranking(ix, "plimouthea") == _ranking(plain, "plimouthea")
        stats = ix.stats().learned
        assert stats is not None and not stats["used"] and "analyzer" in stats["why"]


@pytest.mark.parametrize(
    "text",
    [
        "not json",
        "[]",
        '{"format": "searchlib-learned", "version": 99}',
        '{"format": "searchlib-learned", "version": 1}',
    ],
)
def test_unreadable_model_is_ignored_with_a_warning(built: Path, tmp_path: Path, text: str) -> None:
    path = tmp_path / "ix"
    shutil.copytree(built, path)
    (path / MODEL_FILE).write_text(text, encoding="utf-8")
    with pytest.warns(ModelMismatchWarning, match="learned model not used"):
        ix = Index.open(path)
    with ix, Index.open(built) as plain:
        assert _ranking(ix, "plimouthea contrat") == _ranking(plain, "plimouthea contrat")


def test_model_of_another_corpus_is_ignored_with_a_warning(
    learned_path: Path, tmp_path: Path
) -> None:
    other = tmp_path / "other"
    Index.build(other, corpus(topics=5, noise=10, seed=2)[15:]).close()  # none of the judged
    with Index.open(other) as plain:
        before = _ranking(plain, "plimouthea")
    shutil.copy(learned_path / MODEL_FILE, other / MODEL_FILE)
    with Index.open(other) as ix, pytest.warns(ModelMismatchWarning, match="other documents"):
        assert _ranking(ix, "plimouthea") == before


@needs_lightgbm
def test_a_tampered_reranker_is_refused() -> None:
    ix = Index.in_memory()
    ix.add(corpus())
    queries, qrels, topics = judgments()
    ix.learn(queries, qrels, topics=topics, options=OPTIONS)
    assert ix.learned is not None
    body = json.loads(ix.learned.to_json())
    body["reranker"]["model"] = body["reranker"]["model"].replace(
        "split_feature=", "split_feature=99 ", 1
    )
    with pytest.raises(ModelFormatError):
        LearnedModel.from_json(json.dumps(body))
    body = json.loads(ix.learned.to_json())
    body["reranker"]["features"] = ["x"]
    with pytest.raises(ModelFormatError, match="features"):
        LearnedModel.from_json(json.dumps(body))


@needs_lightgbm
def test_model_round_trips_through_json(learned_path: Path) -> None:
    text = (learned_path / MODEL_FILE).read_text(encoding="utf-8")
    model = LearnedModel.from_json(text)
    assert model.to_json() == text
    assert model.reranker is not None
    assert model.reranker.forest.feature_names == feature_names(model.sources)
    # Features are never missing (an empty passage has length 0, not NaN): the
    # trees evaluate all at once.
    assert not model.reranker.forest.missing_rules


# -- pieces ----------------------------------------------------------------------------


@needs_lightgbm
def test_forest_predicts_as_lightgbm() -> None:
    rng = np.random.default_rng(0)
    for nan_in_training in (False, True):
        x = rng.normal(size=(2000, 6))
        x[:, 3] = rng.integers(0, 3, 2000)
        if nan_in_training:
            x[rng.random(2000) < 0.1, 1] = np.nan
        y = (np.nan_to_num(x[:, 0]) + x[:, 2] > 0.5).astype(int) + (x[:, 0] > 1)
        booster = lightgbm.train(
            {
                "objective": "lambdarank",
                "verbose": -1,
                "num_leaves": 15,
                "min_data_in_leaf": 5,
                "num_threads": 1,
            },
            lightgbm.Dataset(x, y, group=[20] * 100),
            40,
        )
        forest = Forest.from_text(booster.model_to_string())
        test = rng.normal(size=(300, 6))
        test[:20, 1] = np.nan
        test[20:40, 2] = 0.0
        assert np.array_equal(forest.predict(test), booster.predict(test))
        for row in test[:5]:
            base, shares = forest.contributions(row)
            assert base + shares.sum() == pytest.approx(booster.predict(row[None, :])[0])


@pytest.mark.parametrize(
    "text",
    [
        "",
        "nonsense",
        "tree\nmax_feature_idx=1\n\nend of trees\n",  # no tree
        "tree\nmax_feature_idx=0\n\nTree=0\nnum_leaves=2\nnum_cat=1\n",  # categorical
        "tree\nmax_feature_idx=0\n\nTree=0\nnum_leaves=2\nsplit_feature=0\nthreshold=1\n"
        "decision_type=0\nleft_child=0\nright_child=-1\nleaf_value=1 2\ninternal_value=0\n",
        "tree\nmax_feature_idx=0\n\nTree=0\nnum_leaves=2\nsplit_feature=3\nthreshold=1\n"
        "decision_type=0\nleft_child=-1\nright_child=-2\nleaf_value=1 2\ninternal_value=0\n",
        "tree\nmax_feature_idx=0\n\nTree=0\nnum_leaves=2\nsplit_feature=0\nthreshold=x\n"
        "decision_type=0\nleft_child=-1\nright_child=-2\nleaf_value=1 2\ninternal_value=0\n",
    ],
)
def test_forest_refuses_what_it_cannot_evaluate(text: str) -> None:
    with pytest.raises(ForestFormatError):
        Forest.from_text(text)


def test_metrics_of_one_ranking() -> None:
    # 3 judged relevant (grades 3, 1, 1), one "spam" (-1) counted as not relevant
    judged = {"a": 3, "b": 1, "c": 1, "s": -1}
    ndcg, mrr, recall = per_query(["x", "a", "s", "b"], judged)
    dcg = 7 / math.log2(3) + 1 / math.log2(5)
    ideal = 7 + 1 / math.log2(3) + 1 / math.log2(4)
    assert ndcg == pytest.approx(dcg / ideal)
    assert mrr == 0.5 and recall == pytest.approx(2 / 3)
    assert per_query([], judged) == (0.0, 0.0, 0.0)
    assert per_query(["a"], {"s": -1}) == (0.0, 0.0, 0.0)
    assert eval_per_query is per_query  # searchlib eval scores with the same function


def test_sign_flip() -> None:
    assert sign_flip([1.0, 2.0, 3.0]) == pytest.approx(2 / 8)  # all 3 up: 2 patterns of 8
    assert sign_flip([1.0, -1.0]) == 1.0
    assert sign_flip([0.0, 0.0]) == 1.0
    assert sign_flip([0.1] * 40, samples=2000) == pytest.approx(1 / 2001)
    balanced = [0.1, -0.1] * 20
    assert sign_flip(balanced, samples=2000) == 1.0


def test_associations_expand_by_summed_score() -> None:
    a = Associations({"x": (("a", 2.0), ("b", 1.0)), "y": (("b", 2.0), ("c", 0.5))}, 0.5, 2)
    assert a.expand(["x", "y", "x"]) == [("b", 0.6), ("a", 0.4)]  # mass 0.5 × 2 query terms
    assert a.expand(["z"]) == []
    assert a.with_params(0.0, 2).expand(["x"]) == []


def test_sources() -> None:
    assert source_of("cdt:L1") == "cdt" and source_of("a/b:c") == "a/b" and source_of("x") == ""
    ids = ["cdt:1"] * 90 + ["sp:1"] * 9 + ["rare:1"] + ["plain"] * 5
    assert frequent_sources(ids, min_share=0.05) == ("cdt", "sp")


# -- command line ------------------------------------------------------------------------


def _files(tmp_path: Path) -> tuple[Path, Path, Path]:
    queries, qrels, topics = judgments()
    q = tmp_path / "q.jsonl"
    q.write_text("".join(json.dumps({"id": i, "text": t}) + "\n" for i, t in queries), "utf-8")
    r = tmp_path / "r.tsv"
    r.write_text(
        "".join(f"{a}\t{b}\t{c}\n" for a, b, c in qrels) + "q0v0\tsrc0:t0d0\t42\n", "utf-8"
    )
    t = tmp_path / "t.tsv"
    t.write_text("qid\ttopic\n" + "".join(f"{a}\t{b}\n" for a, b in topics.items()), "utf-8")
    return q, r, t


def _run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


@needs_lightgbm
def test_cli_learn_stats_search_eval(built: Path, tmp_path: Path) -> None:
    path = tmp_path / "ix"
    shutil.copytree(built, path)
    q, r, t = _files(tmp_path)
    code, out, err = _run(
        "learn", "--index", str(path), "--queries", str(q), "--qrels", str(r), "--topics", str(t)
    )
    assert code == 0, err
    assert "learned from 60 queries (30 topics, 180 judgments)" in out
    assert out.count("left out: 1 grades out of range") == 1
    assert (path / MODEL_FILE).is_file()
    code, out, _ = _run("stats", "--index", str(path))
    assert code == 0 and "reranker" in out and "60 queries" in out
    code, out, _ = _run("stats", "--index", str(path), "--json")
    assert json.loads(out)["learned"]["used"] is True
    code, learned_run, _ = _run(
        "eval", "--index", str(path), "--queries", str(q), "--run-file", "-"
    )
    code, off_run, _ = _run(
        "eval", "--index", str(path), "--queries", str(q), "--run-file", "-", "--off"
    )
    code, plain_run, _ = _run("eval", "--index", str(built), "--queries", str(q), "--run-file", "-")
    assert off_run == plain_run != learned_run
    code, on, _ = _run("search", "plimouthea", "--index", str(path), "--json")
    code, off, _ = _run("search", "plimouthea", "--index", str(path), "--json", "--off")
    assert json.loads(on)["hits"] != json.loads(off)["hits"]
    code, out, _ = _run("learn", "--index", str(path), "--forget")
    assert code == 0 and "forgot" in out and not (path / MODEL_FILE).exists()


@pytest.mark.slow
def test_cli_cross_validate(built: Path, tmp_path: Path) -> None:
    path = tmp_path / "ix"
    shutil.copytree(built, path)
    q, r, t = _files(tmp_path)
    args = ["learn", "--index", str(path), "--queries", str(q), "--qrels", str(r)]
    code, out, err = _run(*args, "--topics", str(t), "--cross-validate", "3")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].startswith("cross-validation by topic, 3 folds")
    assert [line.split()[0] for line in lines[2:6]] == ["1", "2", "3", "all"]
    assert "sign-flip test over 30 topics" in out
    assert not (path / MODEL_FILE).exists()  # nothing saved
    code, out, _ = _run(*args, "--topics", str(t), "--cross-validate", "3", "--json")
    report = json.loads(out)
    assert len(report["folds"]) == 3 and report["topics"] == 30 and report["queries"] == 60
    code, _, err = _run(*args, "--cross-validate", "1")
    assert code == 2
    code, _, err = _run("learn", "--index", str(path))
    assert code == 2 and "--queries" in err


@needs_lightgbm
def test_hybrid_search_fuses_the_cosine_over_the_learned_ranking(
    learned_path: Path, tmp_path: Path
) -> None:
    from searchlib.semantic import HashingEmbedder
    from searchlib.semantic.fusion import fuse, ranked_order

    path = tmp_path / "ix"
    shutil.copytree(learned_path, path)
    ix = Index.open(path, embedder=HashingEmbedder(64))
    ix.embed()
    query = _word("plimouth", 3) + " contrat"
    context = ix.search_context()
    compiled = context.compile(query)
    depth = max(100, ix.ranking.semantic_candidates)
    reranked = context.execute(compiled, depth, True).ranked
    assert reranked != ix.search_context(learned=False).execute(compiled, depth, True).ranked
    store = ix.semantic.store
    assert store is not None
    q = ix.semantic.query_vector(compiled.text)  # the unit vector the search uses
    rows = []
    for docnum, _ in reranked:
        stored = context.state.stored_fields(docnum)
        rows.append(store.row(store.key_of(str(stored["doc_id"]), str(stored["id"]))))
    cosines = np.asarray(store.vectors[rows], dtype=np.float32) @ q  # as one product, as searched
    fused = fuse([s for _, s in reranked], cosines, weight=ix.ranking.semantic_weight)
    want = [context.state.stored_fields(reranked[i][0])["id"] for i in ranked_order(fused)][:100]
    hits = ix.search(query, limit=100, collapse=True, highlight_hits=False)
    assert [h.id for h in hits] == want
    # the explanation: BM25, expansion and reranker shares make the learned
    # ranking's score, whose share the semantic part is fused with
    top = hits.hits[0]
    why = ix.explain(query, top, collapse=True)
    assert why.semantic is not None
    assert any(c.kind == "learned" for c in why.contributions)
    assert why.total == pytest.approx(why.semantic.lexical, rel=1e-6)
    assert why.semantic.score == pytest.approx(top.score, rel=1e-6)


def test_more_folds_than_topics_is_an_error_naming_the_range(built: Path, tmp_path: Path) -> None:
    from searchlib.learn.crossval import FoldsError

    queries, qrels, topics = judgments(topics=4)
    with Index.open(built) as ix, pytest.raises(FoldsError, match="folds must be from 2 to 4"):
        ix.cross_validate(queries, qrels, topics=topics, folds=5)
    # in the command line: one line, no traceback
    q, r, t = _files(tmp_path)
    code, out, err = _run(
        "learn",
        "--index",
        str(built),
        "--queries",
        str(q),
        "--qrels",
        str(r),
        "--topics",
        str(t),
        "--cross-validate",
        "31",
        "--no-rerank",
    )
    assert (code, out) == (1, "")
    assert err == (
        "searchlib: folds must be from 2 to 30 (at most one per topic: the judgments have 30), "
        "not 31\n"
    )


# -- keeping only what helps in cross-validation ------------------------------------------


def noisy(topics: int = 30, seed: int = 2) -> tuple[list[Document], list, list, dict]:
    """A set a reranker can only overfit: each topic's word is in 8 documents,
    3 of them hold it three times; a document is judged relevant at random
    (0.7 for those 3, 0.2 for the others), so the lexical ranking is the best
    there is, and the sources, lengths and titles are noise."""
    rng = random.Random(seed)
    docs, queries, qrels, groups = [], [], [], {}
    for i in range(topics):
        word = _word("quorvex", i)
        ids = []
        for k in range(8):
            words = [word] * (3 if k < 3 else 1) + rng.sample(FILLER, rng.randint(4, 14))
            rng.shuffle(words)
            ids.append(f"s{rng.randint(0, 3)}:t{i}d{k}")
            docs.append(Document(ids[-1], f"Titre {rng.choice(FILLER)}", " ".join(words)))
        relevant = [d for k, d in enumerate(ids) if rng.random() < (0.7 if k < 3 else 0.2)]
        for v, text in enumerate((word, f"le {word}")):
            qid = f"q{i}v{v}"
            queries.append((qid, text))
            groups[qid] = f"t{i}"
            qrels.extend((qid, d, 1) for d in relevant or ids[:1])
    return docs, queries, qrels, groups


def hubs(topics: int = 30, seed: int = 1) -> tuple[list[Document], list, list, dict]:
    """A set where only the prior tells: three "hub" documents are relevant for
    every topic, three others of the same length and words for none; each
    topic's own relevant document is one of five alike."""
    rng = random.Random(seed)
    words = [_word("vembrique", i) for i in range(topics)]
    docs = []
    for i, word in enumerate(words):
        for k in range(5):
            text = [word, word, *rng.sample(FILLER, 8)]
            rng.shuffle(text)
            docs.append(Document(f"a:t{i}d{k}", f"Titre {rng.choice(FILLER)}", " ".join(text)))
    for name in ("hub", "other"):
        for k in range(3):
            text = [*words, *rng.sample(words, len(words) // 2)]  # all of the same length
            rng.shuffle(text)
            docs.append(Document(f"a:{name}{k}", "Titre commun", " ".join(text)))
    rng.shuffle(docs)
    queries, qrels, groups = [], [], {}
    for i, word in enumerate(words):
        for v, text in enumerate((word, f"le {word}")):
            qid = f"q{i}v{v}"
            queries.append((qid, text))
            groups[qid] = f"t{i}"
            qrels.extend((qid, d, 1) for d in (f"a:t{i}d0", "a:hub0", "a:hub1", "a:hub2"))
    return docs, queries, qrels, groups


OVERFIT = LearnOptions(min_leaf=1, trees=100, leaves=31, learning_rate=0.3)
"""A reranker as eager to fit the noise as can be."""


def _same_as_unlearned(ix: Index, queries: list[tuple[str, str]]) -> bool:
    return all(
        [(h.id, h.score) for h in ix.search(text, limit=20)]
        == [(h.id, h.score) for h in ix.search(text, limit=20, learned=False)]
        for _, text in queries
    )


def _reads_prior(model: LearnedModel | None) -> bool:
    assert model is not None and model.reranker is not None
    column = model.reranker.forest.feature_names.index("prior")
    return any(column in tree.feature for tree in model.reranker.forest.trees)


@needs_lightgbm
def test_a_reranker_that_only_overfits_is_left_out() -> None:
    docs, queries, qrels, topics = noisy()
    ix = Index.in_memory()
    ix.add(docs)
    report = ix.learn(queries, qrels, topics=topics, options=OVERFIT)
    reranker = report.reranker
    assert reranker.status is PartStatus.LEFT_OUT and not reranker.kept
    assert reranker.gain is not None and reranker.gain < 0  # it made the held-out folds worse
    assert len(reranker.fold_gains) == report.folds == 5
    assert "did not help" in reranker.why
    assert report.kept == ()
    assert {p.status for p in report.parts.values()} == {PartStatus.LEFT_OUT}
    assert ix.learned is not None and ix.learned.reranker is None
    assert ix.learned.associations.weight == 0
    assert ix.learned.info["parts"] == dict.fromkeys(PARTS, "left out")
    assert ix.search_context().reranker is None
    assert _same_as_unlearned(ix, queries)  # a part left out changes nothing


@needs_lightgbm
def test_a_part_left_out_can_be_forced() -> None:
    docs, queries, qrels, topics = noisy()
    ix = Index.in_memory()
    ix.add(docs)
    forced = dataclasses.replace(OVERFIT, force=("reranker",))
    report = ix.learn(queries, qrels, topics=topics, options=forced)
    assert report.reranker.status is PartStatus.FORCED and report.reranker.kept
    assert report.reranker.why.startswith("kept as asked (force), though it did not help")
    assert report.kept == ("reranker",)
    assert ix.learned is not None and ix.learned.reranker is not None
    assert not _same_as_unlearned(ix, queries)


@needs_lightgbm
def test_a_prior_that_helps_is_kept() -> None:
    docs, queries, qrels, topics = hubs()
    ix = Index.in_memory()
    ix.add(docs)
    hub_ids = {"a:hub0", "a:hub1", "a:hub2"}
    before = [h.doc_id for h in ix.search(queries[0][1], limit=3, collapse=True)]
    report = ix.learn(queries, qrels, topics=topics, options=OPTIONS)
    prior = report.parts["prior"]
    assert prior.status is PartStatus.KEPT and report.reranker.status is PartStatus.KEPT
    assert prior.gain is not None and prior.gain > 0.05
    assert prior.p_value is not None and prior.p_value < 0.05
    assert all(g > 0 for g in prior.fold_gains)  # over the reranker without it, in every fold
    assert _reads_prior(ix.learned)
    assert not set(before) & hub_ids
    after = [h.doc_id for h in ix.search(queries[0][1], limit=3, collapse=True)]
    assert set(after) == hub_ids


@needs_lightgbm
def test_a_prior_left_out_is_never_read_by_the_trees() -> None:
    ix = Index.in_memory()
    ix.add(corpus())
    queries, qrels, topics = judgments()
    options = dataclasses.replace(OPTIONS, seed=1)
    report = ix.learn(queries, qrels, topics=topics, options=options)
    assert report.reranker.status is PartStatus.KEPT
    assert report.parts["prior"].status is PartStatus.LEFT_OUT
    assert not _reads_prior(ix.learned)
    assert ix.learned is not None and ix.learned.prior  # saved: it tells the model's corpus
    options = dataclasses.replace(options, force=("prior",))
    report = ix.learn(queries, qrels, topics=topics, options=options)
    assert report.parts["prior"].status is PartStatus.FORCED
    assert _reads_prior(ix.learned)


def test_too_few_topics_to_cross_validate_keep_nothing_unless_forced() -> None:
    ix = Index.in_memory()
    ix.add(corpus())
    queries, qrels, topics = judgments(topics=3)
    report = ix.learn(queries, qrels, topics=topics, options=OPTIONS)
    assert report.topics == 3 and report.folds == 0 and report.kept == ()
    for part in report.parts.values():
        assert not part.kept
        if part.status is PartStatus.LEFT_OUT:
            assert "3 topics cannot be cross-validated in 5 folds" in part.why
    assert report.parts["expansion"].status is PartStatus.LEFT_OUT
    assert _same_as_unlearned(ix, queries)
    forced = dataclasses.replace(OPTIONS, rerank=False, force=("expansion",))
    report = ix.learn(queries, qrels, topics=topics, options=forced)
    assert report.parts["expansion"].status is PartStatus.FORCED
    assert report.expansion[0] > 0 and report.kept == ("expansion",)
    assert not _same_as_unlearned(ix, queries)


def test_only_parts_can_be_forced() -> None:
    with pytest.raises(ValueError, match="cannot force 'rerank'"):
        LearnOptions(force=("rerank",))


def test_the_report_says_what_was_kept(built: Path, tmp_path: Path) -> None:
    path = tmp_path / "ix"
    shutil.copytree(built, path)
    queries, qrels, topics = judgments()
    with Index.open(path) as ix:
        report = ix.learn(queries, qrels, topics=topics, options=OPTIONS)
    body = report.as_dict()
    assert set(body["parts"]) == set(PARTS)
    for name, part in body["parts"].items():
        assert part["status"] in {s.value for s in PartStatus}
        assert part["kept"] == (name in body["kept"])
    json.dumps(body)  # JSON-ready
    assert report.reranker is report.parts["reranker"]  # never None, whatever happened
    with Index.open(path) as ix:  # read back from learned.json
        assert ix.learned is not None
        assert ix.learned.info["parts"] == {n: p["status"] for n, p in body["parts"].items()}


def test_searches_go_on_while_the_index_learns(built: Path, tmp_path: Path) -> None:
    path = tmp_path / "ix"
    shutil.copytree(built, path)
    queries, qrels, topics = judgments()
    with Index.open(path) as ix:
        before = _ranking(ix, "plimouthea")
        found: list[list[tuple[str, float]]] = []

        def progress(step: str) -> None:
            # A search from another thread while learning runs: it must not wait for it.
            if found or not step.startswith("expansion"):
                return
            other = threading.Thread(target=lambda: found.append(_ranking(ix, "plimouthea")))
            other.start()
            other.join(timeout=120)
            assert not other.is_alive(), "a search waited for learning to finish"

        ix.learn(queries, qrels, topics=topics, options=FORCED, progress=progress)
        assert found == [before]  # the model in use until learning ended: none
        assert _ranking(ix, "plimouthea") != before  # then the new one, at once


@pytest.mark.slow
@needs_lightgbm
def test_cli_learn_says_what_it_kept_and_forces(tmp_path: Path) -> None:
    docs, queries, qrels, topics = noisy()
    path = tmp_path / "ix"
    Index.build(path, docs).close()
    q = tmp_path / "q.jsonl"
    q.write_text("".join(json.dumps({"id": i, "text": t}) + "\n" for i, t in queries), "utf-8")
    r = tmp_path / "r.tsv"
    r.write_text("".join(f"{a}\t{b}\t{c}\n" for a, b, c in qrels), "utf-8")
    t = tmp_path / "t.tsv"
    t.write_text("qid\ttopic\n" + "".join(f"{a}\t{b}\n" for a, b in topics.items()), "utf-8")
    args = ["learn", "--index", str(path), "--queries", str(q), "--qrels", str(r)]
    code, out, err = _run(*args, "--topics", str(t))
    assert code == 0, err
    assert "reranker: left out: it did not help: held-out nDCG@10 -" in out
    assert "kept: nothing: searches rank as they did unlearned" in out
    code, out, err = _run(*args, "--topics", str(t), "--force", "reranker", "--json")
    assert code == 0, err
    body = json.loads(out)
    assert body["kept"] == ["reranker"] and body["parts"]["reranker"]["status"] == "forced"
    code, out, _ = _run(*args, "--topics", str(t), "--force")
    assert code == 0 and "kept: expansion, prior, reranker" in out
    code, _, err = _run(*args, "--force", "trees")
    assert code == 2 and "invalid choice: 'trees'" in err
    code, out, _ = _run(*args, "--topics", str(t), "--cross-validate", "3")
    assert code == 0 and "parts kept: fold 1: none; fold 2: none; fold 3: none" in out


def test_stats_shows_the_parts_left_out() -> None:
    from searchlib.app.render import learned_rows

    learned = {
        "used": True,
        "prior_documents": 12,
        "reranker": None,
        "expansion": {"weight": 0},
        "parts": {"expansion": "left out", "prior": "left out", "reranker": "left out"},
    }
    rows = dict(learned_rows(learned))
    assert rows["prior"].startswith("left out") and "12 judged documents" in rows["prior"]
    assert rows["reranker"] == "none (left out)"


# -- features, as the reranker reads them ------------------------------------------------


def _features_one_by_one(
    bound: object, compiled: object, head: list[tuple[int, float]]
) -> np.ndarray:
    """The features of ``head`` as the module docstring defines them, a candidate and
    a term at a time (sums in Python floats, term after term)."""
    view = bound.state.scoring  # type: ignore[attr-defined]
    names = list(bound.names)  # type: ignore[attr-defined]
    terms = sorted(compiled.match.terms)  # type: ignore[attr-defined]
    associated = bound._associated(terms)  # type: ignore[attr-defined]
    arrays = bound.documents()  # type: ignore[attr-defined]

    def impact(field: str, term: str, doc: int) -> float | None:
        ids, values = view.impacts(field, term)
        at = int(np.searchsorted(ids, doc))
        return float(values[at]) if at < len(ids) and ids[at] == doc else None

    x = np.zeros((len(head), len(names)))
    for i, (doc, score) in enumerate(head):
        text = title = association = 0.0
        found = in_title = 0
        for t in terms:
            a, b = impact("text", t, doc), impact("title", t, doc)
            text += a or 0.0
            title += b or 0.0
            found += a is not None or b is not None
            in_title += b is not None
        for t, w in associated:
            if impact("text", t, doc) is not None:
                association += w
        key = view.doc_keys()[doc]
        row = {
            "score": score,
            "rank": i + 1,
            "score_ratio": score / head[0][1] if head[0][1] > 0 else 0.0,
            "bm25_text": text,
            "bm25_title": title,
            "coverage": found / len(terms) if terms else 0.0,
            "title_coverage": in_title / len(terms) if terms else 0.0,
            "association": association,
            "log_doc_length": arrays.log_length[key],
            "log_title_length": arrays.log_title[key],
            "prior": arrays.prior[key],
            "query_terms": len(terms),
        }
        for name, value in row.items():
            x[i, names.index(name)] = value
        x[i, len(row) + arrays.source[key]] = 1.0
    return x


@needs_lightgbm
@pytest.mark.parametrize(
    "query", ["plimouthea contrat", "plimouthbb", "bruit zorbaliqueea accord", "zz"]
)
def test_features_are_the_sums_term_after_term(learned_path: Path, query: str) -> None:
    with Index.open(learned_path) as ix:
        context = ix.search_context()
        bound = context.reranker
        assert bound is not None
        compiled = context.compile(query)
        plain = dataclasses.replace(context, reranker=None)
        head = plain.execute(compiled, 60, True).ranked if compiled.query is not None else []
        for candidates in (head, head[:1], head[:2], head[::-1]):
            expected = _features_one_by_one(bound, compiled, list(candidates))
            got = bound.features(compiled, candidates)  # type: ignore[attr-defined]
            assert got.tobytes() == expected.tobytes()  # to the bit


def test_summed_rows_adds_rows_in_order() -> None:
    rng = np.random.default_rng(3)
    for columns in (1, 2, 7):
        rows = rng.normal(size=(40, columns)) * 10.0 ** rng.integers(-8, 9, size=(40, 1))
        expected = np.zeros(columns)
        for row in rows:
            expected += row
        assert summed_rows(rows).tobytes() == expected.tobytes()


@needs_lightgbm
@pytest.mark.parametrize("leaves", [2, 15, 31, 40, 100])
def test_forest_of_any_width_predicts_as_lightgbm(leaves: int) -> None:
    # Up to 16 leaves the masks are 16 bits, then 32 and 64; wider trees are walked.
    rng = np.random.default_rng(leaves)
    x = rng.normal(size=(3000, 5))
    x[:, 4] = rng.integers(0, 4, 3000)  # few distinct values: thresholds between them
    y = (x[:, 0] + x[:, 1] * x[:, 2] > 0.3).astype(int) + (x[:, 4] > 1)
    booster = lightgbm.train(
        {
            "objective": "lambdarank",
            "verbose": -1,
            "num_leaves": leaves,
            "min_data_in_leaf": 2,
            "num_threads": 1,
        },
        lightgbm.Dataset(x, y, group=[30] * 100),
        20,
    )
    forest = Forest.from_text(booster.model_to_string())
    test = rng.normal(size=(400, 5))
    test[:, 4] = rng.integers(0, 4, 400)
    test[:50, 3] = np.inf
    test[50:60, 2] = -np.inf
    test[60:80] = x[:20]  # values equal to thresholds (LightGBM's lie between values seen)
    for rows in (test, test[:1], test[:2]):
        assert np.array_equal(forest.predict(rows), booster.predict(rows))


def test_best_associations_are_summed_term_after_term() -> None:
    rng = random.Random(5)
    words = [f"w{i:02d}" for i in range(40)]
    scores = [0.0, 0.1, 0.2, 0.3, 1e-17, 1.0 / 3, 2.5, 1e6]  # ties, and sums that round
    table = {
        q: tuple((rng.choice(words), rng.choice(scores)) for _ in range(rng.randint(0, 30)))
        for q in words[:20]
    }
    associations = Associations(table, 1.0, 30)
    for _ in range(200):
        terms = rng.sample(words[:25], rng.randint(0, 6))  # some absent from the table
        summed: dict[str, float] = {}
        for t in terms:
            for d, s in table.get(t, ()):
                summed[d] = summed.get(d, 0.0) + s
        expected = sorted((-s, d) for d, s in summed.items() if s > 0)
        for most in (1, 7, 30):
            assert associations.best(terms, most) == [(d, -s) for s, d in expected[:most]]


def test_forest_of_one_leaf_trees_predicts_their_sum() -> None:
    lines = ["tree", "version=v4", "num_class=1", "max_feature_idx=1", "feature_names=a b", ""]
    for i, value in enumerate((0.5, -0.25, 0.125)):
        lines += [f"Tree={i}", "num_leaves=1", "num_cat=0", f"leaf_value={value}", ""]
    forest = Forest.from_text("\n".join([*lines, "end of trees"]))
    assert forest.predict(np.zeros((3, 2))).tolist() == [0.375] * 3
    assert forest.predict(np.zeros((0, 2))).shape == (0,)


@needs_lightgbm
def test_association_bits_stay_right_as_their_table_grows_and_starts_over(
    learned_path: Path,
) -> None:
    with Index.open(learned_path) as ix:
        bound = ix.search_context().reranker
        assert bound is not None
        view = bound.state.scoring  # type: ignore[attr-defined]
        vocabulary = bound.model.associations._indexed()[0]  # type: ignore[attr-defined]
        assert len(vocabulary) > 60
        rng = random.Random(7)
        for most_bytes in (1, 1 << 20):  # room for 30 terms only (starts over), for all of them
            holders = _Holders(view.doc_count, most_bytes)
            kept = []
            for _ in range(40):
                terms = rng.sample(vocabulary, min(len(vocabulary), rng.randint(1, 30)))
                table, rows = holders.rows(terms, view)
                kept.append((terms, table, rows))
            for terms, table, rows in kept:  # tables handed out earlier are still right
                for term, row in zip(terms, rows.tolist(), strict=True):
                    expected = np.zeros(view.doc_count, dtype=np.bool_)
                    expected[view.impacts("text", term)[0]] = True
                    bits = np.unpackbits(table[row])[: view.doc_count].astype(np.bool_)
                    assert np.array_equal(bits, expected), term


def test_best_associations_are_not_changed_by_their_callers() -> None:
    associations = Associations({"a": (("x", 1.0), ("y", 2.0))}, 1.0, 2)
    first = associations.best(["a"], 2)
    first.append(("z", 9.0))
    assert associations.best(["a"], 2) == [("y", 2.0), ("x", 1.0)]
    assert associations.best(["a"], 1) == [("y", 2.0)]


@needs_lightgbm
def test_learned_searches_from_threads_rank_as_one_at_a_time(
    learned_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Threads share the last association lookup and the associated terms' bit
    # table (made small here: it starts over again and again).
    monkeypatch.setattr("searchlib.learn.features.HOLDERS_BYTES", 1)
    queries = ["plimouthea contrat", "plimouthbb", "bruit zorbaliqueea accord", "contrat", "zz"]
    with Index.open(learned_path) as ix:
        expected = {q: _ranking(ix, q) for q in queries}
        assert any(expected.values())
    with Index.open(learned_path) as ix:
        found: list[tuple[str, list[tuple[str, float]]]] = []

        def run(seed: int) -> None:
            order = queries * 10
            random.Random(seed).shuffle(order)
            found.extend((q, _ranking(ix, q)) for q in order)

        threads = [threading.Thread(target=run, args=(seed,)) for seed in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=300)
        assert len(found) == 4 * 10 * len(queries)
        assert all(ranking == expected[q] for q, ranking in found)
