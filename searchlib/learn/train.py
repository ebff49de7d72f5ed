"""Learning from relevance judgments: associations, prior, reranker (cross-fitted).

:func:`learn` takes a search context of the index (with nothing learned in
it) and :class:`~searchlib.learn.judgments.Judgments`, and returns a
:class:`~searchlib.learn.model.LearnedModel` and a :class:`LearnReport`:

1. **Associations.** For a query term ``q`` and a document term ``d``: ``A``,
   over the training topics whose queries hold ``q``, the mean share of the
   topic's relevant documents that hold ``d``, scored against ``p``, the
   share of all passages that hold ``d`` (its background rate), as
   ``A × log(A / p)`` (the term's part of the divergence between the two);
   shrunk by ``n / (n + 1)`` where ``n`` is the number of such topics, so
   that a term seen in a single topic counts half. Each query term keeps
   its :data:`KEEP_ASSOCIATIONS` best document terms.
2. **Expansion.** A query gets the document terms of highest summed score
   over its terms, searched in the text, weighted in proportion to the
   score and ``weight`` per query term in all (as RM3 mixes an expansion
   into a query, see :class:`~searchlib.learn.model.Associations`). The
   weight and the number of terms are chosen by cross-validation over the training topics
   (associations learned on the other folds, nDCG@10 of the expanded
   lexical ranking); a weight of 0 (no expansion) is one of the choices.
3. **Prior.** The share of training topics a document is relevant for.
4. **Reranker** (with LightGBM installed, ``searchlib[learn]``). LightGBM's
   lambdarank over the features of :mod:`searchlib.learn.features` of the
   best ``depth`` documents of each training query, fitted on top of the
   lexical ranking (its initial score is ``scale × score / best score``).
   The features that come from the judgments (association, prior) are
   cross-fitted: a training query's candidates and features come from
   associations and a prior learned on the other folds of topics, so no
   training query sees its own judgments, as no query will at search time.

Topics are groups of queries that share their judgments (variants of one
question); folds never split a topic. Without topics each query is a topic.
"""

from __future__ import annotations

import dataclasses
import math
import random
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from searchlib.analysis import ANALYZER_VERSION
from searchlib.errors import QuerySyntaxError, SearchlibError
from searchlib.learn.features import Learned, frequent_sources
from searchlib.learn.judgments import Judgments
from searchlib.learn.metrics import per_query
from searchlib.learn.model import (
    BASE_FEATURES,
    Associations,
    LearnedModel,
    Reranker,
    feature_names,
)
from searchlib.learn.trees import Forest
from searchlib.searching import CompiledQuery, SearchContext

FloatArray = npt.NDArray[np.float64]

KEEP_ASSOCIATIONS = 40
"""Document terms kept per query term."""

DEFAULT_WEIGHTS = (0.0, 0.5, 1.0, 2.0)
"""Expansion weights tried (0: no expansion)."""

DEFAULT_TERMS = (30,)
"""Numbers of expansion terms tried."""

Progress = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class LearnOptions:
    """How to learn.

    Attributes:
        rerank: train the reranker (needs LightGBM); ``False`` learns the
            expansion and the prior only.
        depth: how many of the best documents the reranker reorders.
        folds: folds of topics for choosing the expansion and cross-fitting.
        weights: expansion weights tried.
        terms: numbers of expansion terms tried.
        trees: boosting rounds of the reranker.
        leaves: leaves per tree.
        max_depth: deepest path of a tree (the cost of a search grows with it).
        learning_rate: the boosting learning rate.
        min_leaf: fewest candidates in a leaf.
        scale: the weight of the lexical ranking the trees start from
            (``scale × score / best score``).
        seed: seed of the folds and of LightGBM.
        threads: LightGBM threads (0: LightGBM's default, one per core; on a
            machine others share, one thread wastes no time waiting for the others).
    """

    rerank: bool = True
    depth: int = 200
    folds: int = 5
    weights: tuple[float, ...] = DEFAULT_WEIGHTS
    terms: tuple[int, ...] = DEFAULT_TERMS
    trees: int = 100
    leaves: int = 15
    max_depth: int = 5
    learning_rate: float = 0.1
    min_leaf: int = 50
    scale: float = 3.0
    seed: int = 0
    threads: int = 1


@dataclass
class LearnReport:
    """What learning used, chose and left out.

    Attributes:
        queries: queries learned from (with a relevant document in the index).
        topics: topics they form.
        judgments: their judgments (of documents in the index).
        problems: what was left out, by kind (see :class:`Judgments`).
        expansion: ``(weight, terms)`` chosen, and the cross-validated
            nDCG@10 of each choice tried.
        reranker: ``None`` when trained, else why not.
        seconds: time spent learning.
    """

    queries: int = 0
    topics: int = 0
    judgments: int = 0
    problems: dict[str, int] = field(default_factory=dict)
    expansion: tuple[float, int] = (0.0, 0)
    tried: dict[str, float] = field(default_factory=dict)
    reranker: str | None = None
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def lightgbm_version() -> str | None:
    """The version of LightGBM if it is installed, else ``None``."""
    try:
        import lightgbm  # noqa: PLC0415 (an optional extra, loaded only to learn)
    except ImportError:
        return None
    return str(lightgbm.__version__)


@dataclass
class _Data:
    """The judgments prepared for learning (computed once per call)."""

    judgments: Judgments
    qids: list[str]
    topic_of: dict[str, str]
    terms: dict[str, tuple[str, ...]]  # query id -> its compiled terms
    topic_docs: dict[str, list[str]]  # topic -> relevant documents
    doc_terms: dict[str, frozenset[str]]
    background: dict[str, float]
    sources: tuple[str, ...]
    passages: int


def learn(
    context: SearchContext,
    judgments: Judgments,
    options: LearnOptions | None = None,
    *,
    format_version: int = 0,
    searchlib_version: str = "",
    progress: Progress | None = None,
) -> tuple[LearnedModel, LearnReport]:
    """Learn a model from ``judgments`` for the index of ``context``.

    Args:
        context: a search context of the index, with nothing learned in it.
        judgments: the queries, judgments and topics.
        options: how to learn (default :class:`LearnOptions`).
        format_version: the index's format version (recorded in the model).
        searchlib_version: the version of searchlib learning (recorded too).
        progress: called with a short status line at each step.

    Raises:
        SearchlibError: nothing usable in the judgments.
    """
    options = options or LearnOptions()
    say = progress or (lambda _: None)
    t0 = time.perf_counter()
    context = dataclasses.replace(context, expansion=None, reranker=None)
    report = LearnReport()
    data = _prepare(context, judgments, report, say)
    topics = sorted(set(data.topic_of.values()))
    folds = _folds(topics, options.folds, options.seed)
    fold_models = [
        _fold_model(data, [t for t in topics if t not in held], options) for held in folds
    ]
    weight, count = _choose_expansion(context, data, folds, fold_models, options, report, say)
    report.expansion = (weight, count)
    everything = _fold_model(data, topics, options)
    associations = everything.associations.with_params(weight, count)
    reranker: Reranker | None = None
    version = lightgbm_version()
    if not options.rerank:
        report.reranker = "not asked for"
    elif version is None:
        report.reranker = "LightGBM is not installed (pip install 'searchlib[learn]')"
    elif len(folds) < 2:
        report.reranker = "too few topics to cross-fit its features (at least 2)"
    else:
        say("reranker: candidates and features")
        fitted = [
            dataclasses.replace(m, associations=m.associations.with_params(weight, count))
            for m in fold_models
        ]
        x, y, groups, init = _training_rows(context, data, folds, fitted, options)
        say(f"reranker: LightGBM on {len(y):,} candidates of {len(groups):,} queries")
        forest = _fit(x, y, groups, init, feature_names(data.sources), options)
        reranker = Reranker(forest, options.depth, options.scale, f"lightgbm {version}")
    report.seconds = round(time.perf_counter() - t0, 1)
    info = {
        "learned_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "searchlib_version": searchlib_version,
        "queries": report.queries,
        "topics": report.topics,
        "judgments": report.judgments,
        "problems": dict(report.problems),
        "seconds": report.seconds,
    }
    model = LearnedModel(
        associations,
        everything.prior,
        data.sources,
        reranker,
        ANALYZER_VERSION,
        format_version,
        info,
    )
    return model, report


# -- preparing the data ---------------------------------------------------------------


def live_documents(context: SearchContext) -> set[str]:
    """The ids of the documents in the index of ``context``."""
    view = context.state.scoring
    keys = view.doc_keys()
    alive = keys if view.deleted is None else keys[~view.deleted]
    live = set(np.unique(alive).tolist())
    return {d for d, k in view.segments.key_numbers.items() if k in live}


def _prepare(
    context: SearchContext, judgments: Judgments, report: LearnReport, say: Progress
) -> _Data:
    say("reading the judgments")
    known = live_documents(context)
    usable = judgments.usable(known.__contains__)
    terms: dict[str, tuple[str, ...]] = {}
    problems = Counter(usable.problems)
    for qid, text in usable.queries.items():
        try:
            compiled = context.compile(text)
        except QuerySyntaxError:
            problems["malformed queries"] += 1
            continue
        if compiled.query is None:
            problems["queries with nothing searchable"] += 1
            continue
        terms[qid] = tuple(sorted(compiled.match.terms))
    if not terms:
        raise SearchlibError("nothing to learn from: no judged query has anything searchable")
    usable = usable.subset(terms)
    topic_of = {q: usable.topic(q) for q in terms}
    topic_docs: dict[str, list[str]] = {}
    for qid in terms:
        docs = topic_docs.setdefault(topic_of[qid], [])
        docs.extend(d for d, g in usable.qrels[qid].items() if g > 0 and d not in docs)
    relevant = sorted({d for ds in topic_docs.values() for d in ds})
    say(f"reading {len(relevant):,} relevant documents")
    doc_terms = {d: _document_terms(context, d) for d in relevant}
    passages = max(1, int(context.state.searcher.doc_count()))
    vocabulary = set().union(*doc_terms.values()) if doc_terms else set()
    background = {t: context.state.doc_frequency("text", t) / passages for t in vocabulary}
    report.queries = len(terms)
    report.topics = len(topic_docs)
    report.judgments = sum(len(usable.qrels[q]) for q in terms)
    report.problems = {k: v for k, v in sorted(problems.items()) if v}
    return _Data(
        usable,
        list(terms),
        topic_of,
        terms,
        topic_docs,
        doc_terms,
        background,
        frequent_sources(known),
        passages,
    )


def _document_terms(context: SearchContext, doc_id: str) -> frozenset[str]:
    """The index terms of a document's title and text (all its passages)."""
    found = list(context.state.searcher.documents(doc_id=doc_id))
    if not found:
        return frozenset()
    title = str(found[0].get("title") or "")
    text = " ".join(str(f.get("text") or "") for f in found)
    return frozenset(context.analyzer.terms(title + "\n" + text))


def _folds(topics: Sequence[str], k: int, seed: int) -> list[set[str]]:
    """``topics`` dealt into at most ``k`` folds, in a seeded random order."""
    order = list(topics)
    random.Random(seed).shuffle(order)
    k = max(1, min(k, len(order)))
    return [set(order[i::k]) for i in range(k)]


# -- associations and prior ----------------------------------------------------------


def _fold_model(data: _Data, topics: Sequence[str], options: LearnOptions) -> LearnedModel:
    """Associations and prior learned on ``topics`` (no reranker)."""
    table = _associations(data, topics)
    counts: Counter[str] = Counter()
    for t in topics:
        counts.update(data.topic_docs.get(t, ()))
    prior = {d: n / len(topics) for d, n in counts.items()} if topics else {}
    return LearnedModel(
        Associations(table, 0.0, 0),
        prior,
        data.sources,
        None,
        ANALYZER_VERSION,
        0,
    )


def _associations(
    data: _Data, topics: Sequence[str], keep: int = KEEP_ASSOCIATIONS
) -> dict[str, tuple[tuple[str, float], ...]]:
    """Query term -> its ``keep`` best document terms (see the module docstring)."""
    topics = [t for t in topics if data.topic_docs.get(t)]
    if not topics:
        return {}
    query_terms: dict[str, set[str]] = {t: set() for t in topics}
    chosen = set(topics)
    for qid in data.qids:
        topic = data.topic_of[qid]
        if topic in chosen:
            query_terms[topic].update(data.terms[qid])
    doc_vocab = sorted({w for t in topics for d in data.topic_docs[t] for w in data.doc_terms[d]})
    q_vocab = sorted({w for ws in query_terms.values() for w in ws})
    if not doc_vocab or not q_vocab:
        return {}
    d_index = {w: i for i, w in enumerate(doc_vocab)}
    q_index = {w: i for i, w in enumerate(q_vocab)}
    shares = np.zeros((len(topics), len(doc_vocab)), dtype=np.float64)
    holds = np.zeros((len(topics), len(q_vocab)), dtype=np.float64)
    for i, t in enumerate(topics):
        docs = data.topic_docs[t]
        for d in docs:
            cols = [d_index[w] for w in data.doc_terms[d]]
            shares[i, cols] += 1.0
        shares[i] /= len(docs)
        holds[i, [q_index[w] for w in query_terms[t]]] = 1.0
    # A term no passage holds (only in a title cut off...) counts as in one.
    floor = 1.0 / max(1, data.passages)
    background = np.array([max(data.background.get(w, 0.0), floor) for w in doc_vocab])
    topics_per_term = holds.sum(axis=0)
    names = np.array(doc_vocab, dtype=object)
    table: dict[str, tuple[tuple[str, float], ...]] = {}
    for start in range(0, len(q_vocab), 256):
        block = slice(start, start + 256)
        n = topics_per_term[block][:, None]
        mean = (holds[:, block].T @ shares) / n
        held = mean > 0
        lift = np.log(np.where(held, mean, 1.0) / background[None, :])
        score = np.where(held, mean * lift, 0.0) * (n / (n + 1.0))
        k = min(keep, score.shape[1])
        best = np.argpartition(-score, k - 1, axis=1)[:, :k]
        for row, q in enumerate(q_vocab[block]):
            cols = best[row]
            values = score[row, cols]
            order = np.lexsort((names[cols], -values))
            pairs = tuple(
                (str(names[cols[j]]), round(float(values[j]), 6)) for j in order if values[j] > 0
            )
            if pairs:
                table[q] = pairs
    return table


# -- choosing the expansion ------------------------------------------------------------


def _choose_expansion(
    context: SearchContext,
    data: _Data,
    folds: list[set[str]],
    fold_models: list[LearnedModel],
    options: LearnOptions,
    report: LearnReport,
    say: Progress,
) -> tuple[float, int]:
    """The expansion weight and term count of best cross-validated nDCG@10."""
    grid = [(w, n) for w in options.weights for n in options.terms if w > 0]
    if 0.0 in options.weights or not grid:
        grid.insert(0, (0.0, 0))
    if len(folds) < 2:
        return grid[-1] if grid[-1][0] > 0 else (0.0, 0)
    scores: dict[tuple[float, int], float] = {}
    for weight, count in grid:
        say(f"expansion: weight {weight:g}, {count} terms")
        total = 0.0
        for held, model in zip(folds, fold_models, strict=True):
            expansion = model.associations.with_params(weight, count)
            ctx = dataclasses.replace(context, expansion=expansion if weight > 0 else None)
            for qid in data.qids:
                if data.topic_of[qid] in held:
                    ranked = _ranked_ids(ctx, data.judgments.queries[qid], 100)
                    total += per_query(ranked, data.judgments.qrels[qid])[0]
        scores[(weight, count)] = total / len(data.qids)
        report.tried[f"weight {weight:g}, {count} terms"] = round(scores[(weight, count)], 4)
    return max(grid, key=lambda p: (scores[p], -p[0], -p[1]))


def _ranked_ids(context: SearchContext, text: str, limit: int) -> list[str]:
    compiled = context.compile(text)
    executed = context.execute(compiled, limit, True)
    stored = context.state.stored_fields
    return [str(stored(d)["doc_id"]) for d, _ in executed.ranked]


# -- the reranker ---------------------------------------------------------------------


def candidates(
    context: SearchContext, learned: Learned, text: str, depth: int
) -> tuple[CompiledQuery, list[tuple[int, float]], FloatArray]:
    """A query's best ``depth`` documents under ``learned``'s expansion, and their features."""
    ctx = dataclasses.replace(context, expansion=learned, reranker=None)
    compiled = ctx.compile(text)
    head = ctx.execute(compiled, depth, True).ranked
    return compiled, head, learned.features(compiled, head)


def _training_rows(
    context: SearchContext,
    data: _Data,
    folds: list[set[str]],
    fold_models: list[LearnedModel],
    options: LearnOptions,
) -> tuple[FloatArray, npt.NDArray[np.int64], list[int], FloatArray]:
    xs: list[FloatArray] = []
    ys: list[npt.NDArray[np.int64]] = []
    inits: list[FloatArray] = []
    groups: list[int] = []
    stored = context.state.stored_fields
    for held, model in zip(folds, fold_models, strict=True):
        learned = Learned(model, context.state)
        for qid in data.qids:
            if data.topic_of[qid] not in held:
                continue
            _, head, x = candidates(context, learned, data.judgments.queries[qid], options.depth)
            if not head:
                continue
            judged = data.judgments.qrels[qid]
            y = np.array([max(0, judged.get(str(stored(d)["doc_id"]), 0)) for d, _ in head])
            xs.append(x)
            ys.append(y.astype(np.int64))
            inits.append(options.scale * x[:, BASE_FEATURES.index("score_ratio")])
            groups.append(len(head))
    if not xs:
        raise SearchlibError("nothing to learn from: no judged query found any document")
    return np.vstack(xs), np.concatenate(ys), groups, np.concatenate(inits)


def _fit(
    x: FloatArray,
    y: npt.NDArray[np.int64],
    groups: list[int],
    init: FloatArray,
    names: Sequence[str],
    options: LearnOptions,
) -> Forest:
    import lightgbm  # noqa: PLC0415 (an optional extra, loaded only to learn)

    params: Mapping[str, Any] = {
        "objective": "lambdarank",
        "metric": "ndcg",
        "eval_at": [10],
        "learning_rate": options.learning_rate,
        "num_leaves": options.leaves,
        "max_depth": options.max_depth,
        "min_data_in_leaf": options.min_leaf,
        "feature_fraction": 0.9,
        "bagging_fraction": 0.8,
        "bagging_freq": 1,
        "lambdarank_truncation_level": 10,
        "seed": options.seed,
        "deterministic": True,
        "force_row_wise": True,
        # No feature is ever missing: every split then goes by value <= threshold,
        # which the numpy evaluation does for all trees at once.
        "use_missing": False,
        "num_threads": options.threads,
        "verbose": -1,
    }
    dataset = lightgbm.Dataset(
        x,
        y,
        group=groups,
        init_score=init,
        feature_name=[_lgb_name(n) for n in names],
        free_raw_data=True,
    )
    booster = lightgbm.train(dict(params), dataset, num_boost_round=options.trees)
    text = booster.model_to_string()
    forest = Forest.from_text(text)
    # LightGBM's names lose characters (``=``); the forest answers to ours.
    return Forest(forest.trees, tuple(names), _renamed(text, names))


def _lgb_name(name: str) -> str:
    return "".join(c if c.isalnum() or c == "_" else "_" for c in name) or "f"


def _renamed(text: str, names: Sequence[str]) -> str:
    """The model text with ``feature_names=`` giving ``names`` (no spaces in them)."""
    header = "feature_names=" + " ".join(n.replace(" ", "_") for n in names)
    lines = [header if s.startswith("feature_names=") else s for s in text.splitlines()]
    return "\n".join(lines) + "\n"


def learned_metrics(
    context: SearchContext,
    model: LearnedModel | None,
    queries: Mapping[str, str],
    qrels: Mapping[str, Mapping[str, int]],
    *,
    limit: int = 100,
) -> dict[str, tuple[float, float, float]]:
    """Each query's nDCG@10, MRR@10 and Recall@100 under ``model`` (``None``: unlearned)."""
    ctx = dataclasses.replace(context, expansion=None, reranker=None)
    if model is not None:
        learned = Learned(model, context.state)
        ctx = dataclasses.replace(
            ctx,
            expansion=learned,
            reranker=learned if model.reranker is not None else None,
        )
    out: dict[str, tuple[float, float, float]] = {}
    for qid, text in queries.items():
        try:
            ranked = _ranked_ids(ctx, text, limit)
        except QuerySyntaxError:
            ranked = []
        out[qid] = per_query(ranked, qrels.get(qid, {}))
    return out


def _mean(values: Sequence[float]) -> float:
    return math.fsum(values) / len(values) if values else 0.0
