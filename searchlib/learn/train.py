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
5. **Selection.** A part is kept only where cross-validation by topic shows
   it helps (see :func:`helps`): each held-out fold is ranked without the
   part and with it, learned on the other folds, and the part is kept when
   its mean nDCG@10 gain per held-out query is positive, it loses in fewer
   than half the folds, and a one-sided sign-flip test over topics gives
   p < :data:`MAX_P_VALUE`. The parts are added one at a time, each
   against what is already kept: the expansion (the weight each fold
   would have chosen on the others' scores, against none); the reranker
   without the prior, against the ranking kept so far; the prior (a
   feature of the reranker only) against the reranker without it, or the
   reranker with the prior against no reranker when the reranker alone did
   not help. The searches and features of steps 2 and 4 serve the selection
   too: only the reranker's trees are fitted again, twice per fold. A part
   left out changes nothing in a search; ``LearnOptions.force`` keeps one
   anyway. Judgments of fewer topics than folds cannot be cross-validated:
   nothing is kept unless forced. Each part's verdict, with its fold gains,
   is in :attr:`LearnReport.parts`.

   The selection is nested only in part, to cost no more searches: a
   fold's queries are never ranked by trees fitted on their own judgments,
   but the other folds' features (association, prior) and scores (that
   choose a fold's expansion weight) come from associations and priors
   learned with that fold among their topics. A fully nested selection
   would search every query K times more.

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
from enum import Enum
from typing import Any

import numpy as np
import numpy.typing as npt

from searchlib.analysis import ANALYZER_VERSION
from searchlib.errors import QuerySyntaxError, SearchlibError
from searchlib.learn.features import Learned, frequent_sources
from searchlib.learn.judgments import Judgments
from searchlib.learn.metrics import per_query, sign_flip
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

PARTS = ("expansion", "prior", "reranker")
"""The learned parts, each kept or left out by cross-validation (see :func:`learn`)."""


@dataclass(frozen=True, slots=True)
class LearnOptions:
    """How to learn.

    Attributes:
        rerank: train the reranker (needs LightGBM); ``False`` learns the
            expansion and the prior only.
        depth: how many of the best documents the reranker reorders.
        folds: folds of topics for choosing the expansion, cross-fitting,
            and keeping only the parts that help.
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
        force: parts (of :data:`PARTS`) kept whatever cross-validation shows;
            the prior is a feature of the reranker, so forcing it forces the
            reranker too.

    Raises:
        ValueError: ``force`` names something that is not a part.
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
    force: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        unknown = [p for p in self.force if p not in PARTS]
        if unknown:
            raise ValueError(
                f"cannot force {', '.join(map(repr, unknown))}: the parts are {', '.join(PARTS)}"
            )


class PartStatus(Enum):
    """What became of a learned part."""

    KEPT = "kept"
    """Cross-validation shows it helps."""
    FORCED = "forced"
    """Kept because :attr:`LearnOptions.force` asked, though cross-validation
    did not show it helps (or could not tell)."""
    LEFT_OUT = "left out"
    """Learned, but it did not help in cross-validation (or could not be
    cross-validated): searches are as without it."""
    NOT_LEARNED = "not learned"
    """Not asked for, or not possible (LightGBM missing, too few topics)."""


@dataclass(frozen=True, slots=True)
class PartReport:
    """One part's verdict.

    Attributes:
        status: kept, forced, left out or not learned.
        why: the reason, in words.
        fold_gains: the held-out nDCG@10 gain of the part in each fold
            (mean per query of the fold), empty when not cross-validated.
        gain: the mean gain per held-out query over all folds, ``None``
            when not cross-validated.
        p_value: the one-sided p-value of that gain, by a sign-flip test
            over topics (each topic's mean gain one unit), ``None`` when not
            cross-validated.
    """

    status: PartStatus
    why: str
    fold_gains: tuple[float, ...] = ()
    gain: float | None = None
    p_value: float | None = None

    @property
    def kept(self) -> bool:
        """Whether the saved model uses the part."""
        return self.status in (PartStatus.KEPT, PartStatus.FORCED)

    def as_dict(self) -> dict[str, Any]:
        return {
            "status": self.status.value,
            "kept": self.kept,
            "why": self.why,
            "fold_gains": [round(g, 6) for g in self.fold_gains],
            "gain": None if self.gain is None else round(self.gain, 6),
            "p_value": self.p_value,
        }


_UNDECIDED = PartReport(PartStatus.NOT_LEARNED, "nothing learned yet")


@dataclass
class LearnReport:
    """What learning used, chose, kept and left out.

    Attributes:
        queries: queries learned from (with a relevant document in the index).
        topics: topics they form.
        judgments: their judgments (of documents in the index).
        problems: what was left out, by kind (see :class:`Judgments`).
        expansion: ``(weight, terms)`` of the saved expansion (``(0.0, 0)``:
            none, the expansion is left out).
        tried: the cross-validated nDCG@10 of each expansion tried.
        parts: each part of :data:`PARTS` and its verdict (see :class:`PartReport`).
        folds: folds of topics the parts were cross-validated in (0: none).
        seconds: time spent learning.
    """

    queries: int = 0
    topics: int = 0
    judgments: int = 0
    problems: dict[str, int] = field(default_factory=dict)
    expansion: tuple[float, int] = (0.0, 0)
    tried: dict[str, float] = field(default_factory=dict)
    parts: dict[str, PartReport] = field(default_factory=dict)
    folds: int = 0
    seconds: float = 0.0

    @property
    def reranker(self) -> PartReport:
        """The reranker's verdict (kept only when its status says so)."""
        return self.parts.get("reranker", _UNDECIDED)

    @property
    def kept(self) -> tuple[str, ...]:
        """The parts the saved model uses, in :data:`PARTS` order."""
        return tuple(p for p in PARTS if p in self.parts and self.parts[p].kept)

    def as_dict(self) -> dict[str, Any]:
        out = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "parts"}
        out["problems"] = dict(self.problems)
        out["tried"] = dict(self.tried)
        out["parts"] = {name: part.as_dict() for name, part in self.parts.items()}
        out["kept"] = list(self.kept)
        return out


def lightgbm_version() -> str | None:
    """The version of LightGBM if it is installed, else ``None``."""
    try:
        import lightgbm  # noqa: PLC0415 (an optional extra, loaded only to learn)
    except ImportError:
        return None
    return str(lightgbm.__version__)


MAX_P_VALUE = 0.05
"""A part is kept only if its gain is this significant (one-sided, over topics)."""


def helps(fold_gains: Sequence[float], gain: float, p_value: float) -> bool:
    """The rule a part is kept by: its held-out nDCG@10 gets better on
    average (``gain``, per query, over all folds, is positive), it gets
    worse in fewer than half the folds, and the gain is significant: a
    one-sided sign-flip test over topics gives ``p_value`` below
    :data:`MAX_P_VALUE`.

    >>> helps([0.02, 0.01, -0.01, 0.03, 0.0], 0.01, 0.01)
    True
    >>> helps([0.05, -0.01, -0.02], 0.004, 0.01), helps([0.008, 0.16, -0.15], 0.001, 0.4)
    (False, False)
    """
    losses = sum(1 for g in fold_gains if g < 0)
    return gain > 0 and 2 * losses < len(fold_gains) and p_value < MAX_P_VALUE


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


@dataclass
class _Selection:
    """What the selection needs to know besides the data."""

    folds: list[set[str]]
    fold_models: list[LearnedModel]
    possible: bool  # enough topics to cross-validate
    too_few: str  # why not, when not
    forced: frozenset[str]
    seed: int  # of the sign-flip tests


def learn(
    context: SearchContext,
    judgments: Judgments,
    options: LearnOptions | None = None,
    *,
    format_version: int = 0,
    searchlib_version: str = "",
    progress: Progress | None = None,
) -> tuple[LearnedModel, LearnReport]:
    """Learn a model from ``judgments`` for the index of ``context``, keeping
    only the parts that help in cross-validation by topic (see the module
    docstring; :attr:`LearnReport.parts` says what was kept and why).

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
    possible = options.folds >= 2 and len(topics) >= options.folds
    forced = set(options.force) | ({"reranker"} if "prior" in options.force else set())
    selection = _Selection(
        folds,
        [_fold_model(data, [t for t in topics if t not in held], options) for held in folds],
        possible,
        ""
        if possible
        else f"{len(topics)} topic{'' if len(topics) == 1 else 's'} cannot be cross-validated "
        f"in {options.folds} folds (at least {max(2, options.folds)} needed): nothing is kept "
        "unless forced",
        frozenset(forced),
        options.seed,
    )
    report.folds = len(folds) if possible else 0
    weight, count = _select_expansion(context, data, selection, options, report, say)
    report.expansion = (weight, count)
    everything = _fold_model(data, topics, options)
    associations = everything.associations.with_params(weight, count)
    reranker = _select_reranker(context, data, selection, (weight, count), options, report, say)
    report.parts = {name: report.parts[name] for name in PARTS}
    report.seconds = round(time.perf_counter() - t0, 1)
    info = {
        "learned_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "searchlib_version": searchlib_version,
        "queries": report.queries,
        "topics": report.topics,
        "judgments": report.judgments,
        "problems": dict(report.problems),
        "parts": {name: part.status.value for name, part in report.parts.items()},
        "seconds": report.seconds,
    }
    # The prior is saved even when left out: it is how a search checks that
    # the model belongs to the index's documents. Left out, the reranker's
    # trees never read it (they were fitted with the column at 0), and without
    # a reranker nothing does.
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

Grid = tuple[float, int]


def _select_expansion(
    context: SearchContext,
    data: _Data,
    selection: _Selection,
    options: LearnOptions,
    report: LearnReport,
    say: Progress,
) -> Grid:
    """The expansion weight and term count of best cross-validated nDCG@10, or
    ``(0.0, 0)`` when the expansion is left out (its verdict goes in ``report``)."""
    grid = [(w, n) for w in options.weights for n in options.terms if w > 0]
    choices: list[Grid] = [(0.0, 0)] if 0.0 in options.weights or not grid else []
    choices.extend(grid)
    forced = "expansion" in selection.forced
    if len(selection.folds) < 2:  # a single topic: nothing to score on
        if forced and grid:
            report.parts["expansion"] = PartReport(
                PartStatus.FORCED, f"kept as asked (force): {selection.too_few}"
            )
            return grid[-1]
        report.parts["expansion"] = PartReport(PartStatus.LEFT_OUT, selection.too_few)
        return (0.0, 0)
    scores = _expansion_scores(context, data, selection, [(0.0, 0), *grid], say)
    for choice in choices:
        report.tried[f"weight {choice[0]:g}, {choice[1]} terms"] = round(
            _mean(list(scores[choice].values())), 4
        )
    best = _best(choices, scores, data.qids)
    best_expanding = _best(grid, scores, data.qids) if grid else (0.0, 0)
    if not selection.possible:
        if forced and best_expanding[0] > 0:
            report.parts["expansion"] = PartReport(
                PartStatus.FORCED, f"kept as asked (force): {selection.too_few}"
            )
            return best_expanding
        report.parts["expansion"] = PartReport(PartStatus.LEFT_OUT, selection.too_few)
        return (0.0, 0)
    # Each fold's gain: the choice the other folds' scores make, against no expansion.
    gains: dict[str, float] = {}
    for held in selection.folds:
        others = [q for q in data.qids if data.topic_of[q] not in held]
        choice = _best(choices, scores, others)
        for q in data.qids:
            if data.topic_of[q] in held:
                gains[q] = scores[choice][q] - scores[(0.0, 0)][q]
    found = _gains(gains, data, selection)
    if best[0] > 0 and helps(*found):
        status, why, kept = PartStatus.KEPT, _helped(*found), best
    else:
        why = (
            _did_not_help(*found)
            if best[0] > 0
            else "no weight ranked better than none in cross-validation"
        )
        status, kept = PartStatus.LEFT_OUT, (0.0, 0)
        if forced and best_expanding[0] > 0:
            status, why, kept = (
                PartStatus.FORCED,
                f"kept as asked (force), though {why}",
                best_expanding,
            )
    report.parts["expansion"] = PartReport(status, why, *found)
    return kept


def _expansion_scores(
    context: SearchContext,
    data: _Data,
    selection: _Selection,
    grid: Sequence[Grid],
    say: Progress,
) -> dict[Grid, dict[str, float]]:
    """Each query's nDCG@10 under each expansion of ``grid``, its associations
    learned on the other folds."""
    scores: dict[Grid, dict[str, float]] = {}
    for weight, count in dict.fromkeys(grid):
        say(f"expansion: weight {weight:g}, {count} terms")
        found = scores[(weight, count)] = {}
        for held, model in zip(selection.folds, selection.fold_models, strict=True):
            expansion = model.associations.with_params(weight, count)
            ctx = dataclasses.replace(context, expansion=expansion if weight > 0 else None)
            for qid in data.qids:
                if data.topic_of[qid] in held:
                    ranked = _ranked_ids(ctx, data.judgments.queries[qid], 100)
                    found[qid] = per_query(ranked, data.judgments.qrels[qid])[0]
    return scores


def _best(
    choices: Sequence[Grid], scores: Mapping[Grid, Mapping[str, float]], qids: Sequence[str]
) -> Grid:
    """The choice of best mean over ``qids`` (ties: the smaller weight, fewer terms)."""
    return max(choices, key=lambda c: (_mean([scores[c][q] for q in qids]), -c[0], -c[1]))


Gains = tuple[tuple[float, ...], float, float]
"""A part's held-out gains: per fold, over all queries, and its one-sided p-value."""


def _gains(gains: Mapping[str, float], data: _Data, selection: _Selection) -> Gains:
    """Per-query gains (a query missing: 0) as the mean of each fold, the mean
    over all queries, and the one-sided sign-flip p-value of the per-topic means."""
    fold_gains = tuple(
        _mean([gains.get(q, 0.0) for q in data.qids if data.topic_of[q] in held])
        for held in selection.folds
    )
    mean = _mean([gains.get(q, 0.0) for q in data.qids])
    by_topic: dict[str, list[float]] = {}
    for q in data.qids:
        by_topic.setdefault(data.topic_of[q], []).append(gains.get(q, 0.0))
    p = sign_flip([_mean(v) for v in by_topic.values()], samples=20_000, seed=selection.seed)
    # The test is two-sided and its distribution symmetric: half of it on the side of the mean.
    return fold_gains, mean, min(1.0, p / 2) if mean > 0 else 1.0


def _helped(fold_gains: Sequence[float], gain: float, p_value: float) -> str:
    up = sum(1 for g in fold_gains if g > 0)
    return (
        f"held-out nDCG@10 {gain:+.4f} per query in cross-validation, up in {up} of "
        f"{len(fold_gains)} folds, p = {p_value:.2g}"
    )


def _did_not_help(fold_gains: Sequence[float], gain: float, p_value: float) -> str:
    down = sum(1 for g in fold_gains if g < 0)
    return (
        f"it did not help: held-out nDCG@10 {gain:+.4f} per query in cross-validation, down in "
        f"{down} of {len(fold_gains)} folds, p = {p_value:.2g}"
    )


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


@dataclass
class _Rows:
    """The training queries' candidates and features, cross-fitted (one group per query)."""

    x: FloatArray
    y: npt.NDArray[np.int64]
    init: FloatArray
    groups: list[int]  # candidates per query
    qids: list[str]  # the query of each group
    fold: npt.NDArray[np.int64]  # the fold of each candidate
    docnums: npt.NDArray[np.int64]  # each candidate's passage number (ties of the reranking)
    doc_ids: list[str]  # each candidate's document id


def _training_rows(
    context: SearchContext,
    data: _Data,
    folds: list[set[str]],
    fold_models: list[LearnedModel],
    options: LearnOptions,
) -> _Rows:
    xs: list[FloatArray] = []
    ys: list[npt.NDArray[np.int64]] = []
    inits: list[FloatArray] = []
    groups: list[int] = []
    qids: list[str] = []
    fold_of: list[int] = []
    docnums: list[int] = []
    doc_ids: list[str] = []
    stored = context.state.stored_fields
    for number, (held, model) in enumerate(zip(folds, fold_models, strict=True)):
        learned = Learned(model, context.state)
        for qid in data.qids:
            if data.topic_of[qid] not in held:
                continue
            _, head, x = candidates(context, learned, data.judgments.queries[qid], options.depth)
            if not head:
                continue
            judged = data.judgments.qrels[qid]
            ids = [str(stored(d)["doc_id"]) for d, _ in head]
            y = np.array([max(0, judged.get(d, 0)) for d in ids])
            xs.append(x)
            ys.append(y.astype(np.int64))
            inits.append(options.scale * x[:, BASE_FEATURES.index("score_ratio")])
            groups.append(len(head))
            qids.append(qid)
            fold_of.extend([number] * len(head))
            docnums.extend(d for d, _ in head)
            doc_ids.extend(ids)
    if not xs:
        raise SearchlibError("nothing to learn from: no judged query found any document")
    return _Rows(
        np.vstack(xs),
        np.concatenate(ys),
        np.concatenate(inits),
        groups,
        qids,
        np.array(fold_of, dtype=np.int64),
        np.array(docnums, dtype=np.int64),
        doc_ids,
    )


def _select_reranker(
    context: SearchContext,
    data: _Data,
    selection: _Selection,
    expansion: Grid,
    options: LearnOptions,
    report: LearnReport,
    say: Progress,
) -> Reranker | None:
    """The reranker if it is kept, with or without the prior as the selection
    decides (the verdicts of both go in ``report``)."""
    version = lightgbm_version()
    forced = "reranker" in selection.forced
    why_not = ""
    if not options.rerank:
        why_not = "not asked for"
    elif version is None:
        why_not = "LightGBM is not installed (pip install 'searchlib[learn]')"
    elif len(selection.folds) < 2:
        why_not = "too few topics to cross-fit its features (at least 2)"
    if why_not:
        report.parts["reranker"] = PartReport(PartStatus.NOT_LEARNED, why_not)
        report.parts["prior"] = PartReport(
            PartStatus.NOT_LEARNED, f"only the reranker uses it, and it was not learned ({why_not})"
        )
        return None
    if not selection.possible and not forced:
        report.parts["reranker"] = PartReport(PartStatus.LEFT_OUT, selection.too_few)
        report.parts["prior"] = PartReport(PartStatus.LEFT_OUT, selection.too_few)
        return None
    say("reranker: candidates and features")
    weight, count = expansion
    fitted = [
        dataclasses.replace(m, associations=m.associations.with_params(weight, count))
        for m in selection.fold_models
    ]
    rows = _training_rows(context, data, selection.folds, fitted, options)
    names = feature_names(data.sources)
    if selection.possible:
        reranker_part, prior_part = _cross_validated_reranker(
            data, selection, rows, names, options, say
        )
    else:
        reranker_part = PartReport(PartStatus.FORCED, f"kept as asked (force): {selection.too_few}")
        prior_part = PartReport(PartStatus.LEFT_OUT, selection.too_few)
        if "prior" in selection.forced:
            prior_part = PartReport(PartStatus.FORCED, reranker_part.why)
    report.parts["reranker"] = reranker_part
    report.parts["prior"] = prior_part
    if not reranker_part.kept:
        return None
    if not prior_part.kept:
        rows.x[:, BASE_FEATURES.index("prior")] = 0.0
    say(f"reranker: LightGBM on {len(rows.y):,} candidates of {len(rows.groups):,} queries")
    forest = _fit(rows.x, rows.y, rows.groups, rows.init, names, options)
    return Reranker(forest, options.depth, options.scale, f"lightgbm {version}")


def _cross_validated_reranker(
    data: _Data,
    selection: _Selection,
    rows: _Rows,
    names: Sequence[str],
    options: LearnOptions,
    say: Progress,
) -> tuple[PartReport, PartReport]:
    """The verdicts on the reranker and the prior (see the module docstring).

    In each fold, two rerankers are fitted on the other folds' candidates,
    one with the prior and one with its column at 0, and the fold's queries
    are ranked by each and by the lexical order of their candidates.
    """
    column = BASE_FEATURES.index("prior")
    saved = rows.x[:, column].copy()
    qrels = data.judgments.qrels
    base = _head_ndcg(rows, qrels, None, options.scale)
    with_prior: dict[str, float] = {}
    without: dict[str, float] = {}
    for scored, label in ((with_prior, "with"), (without, "without")):
        if scored is without:
            rows.x[:, column] = 0.0
        for number in range(len(selection.folds)):
            say(f"selection: reranker {label} the prior, fold {number + 1}/{len(selection.folds)}")
            scored.update(_held_out_ndcg(rows, qrels, number, names, options))
    rows.x[:, column] = saved
    alone = _gains({q: without[q] - base[q] for q in base}, data, selection)
    both = _gains({q: with_prior[q] - base[q] for q in base}, data, selection)
    added = _gains({q: with_prior[q] - without[q] for q in base}, data, selection)
    forced = selection.forced
    if helps(*alone):
        reranker = PartReport(PartStatus.KEPT, _helped(*alone) + " (without the prior)", *alone)
        prior = (
            PartReport(PartStatus.KEPT, _helped(*added) + " over the reranker without it", *added)
            if helps(*added)
            else PartReport(
                PartStatus.LEFT_OUT, _did_not_help(*added) + " over the reranker without it", *added
            )
        )
    elif helps(*both):
        reranker = PartReport(PartStatus.KEPT, _helped(*both) + " (with the prior)", *both)
        prior = PartReport(
            PartStatus.KEPT,
            f"the reranker helps only with it (without it: {_did_not_help(*alone)}); "
            + _helped(*added)
            + " over the reranker without it",
            *added,
        )
    else:
        gains = max(alone, both, key=lambda g: g[1])
        reranker = PartReport(
            PartStatus.LEFT_OUT,
            f"{_did_not_help(*gains)} ({'with' if gains is both else 'without'} the prior)",
            *gains,
        )
        prior = PartReport(
            PartStatus.LEFT_OUT, "only the reranker uses it, and the reranker is left out", *added
        )
        if "reranker" in forced:
            reranker = dataclasses.replace(
                reranker,
                status=PartStatus.FORCED,
                why="kept as asked (force), though " + reranker.why,
            )
            if helps(*added):
                prior = PartReport(
                    PartStatus.KEPT, _helped(*added) + " over the reranker without it", *added
                )
            else:
                prior = PartReport(
                    PartStatus.LEFT_OUT,
                    _did_not_help(*added) + " over the reranker without it",
                    *added,
                )
    if "prior" in forced and not prior.kept:
        prior = dataclasses.replace(
            prior, status=PartStatus.FORCED, why="kept as asked (force), though " + prior.why
        )
    return reranker, prior


def _held_out_ndcg(
    rows: _Rows,
    qrels: Mapping[str, Mapping[str, int]],
    number: int,
    names: Sequence[str],
    options: LearnOptions,
) -> dict[str, float]:
    """nDCG@10 of fold ``number``'s queries reranked by trees fitted on the other folds."""
    train = rows.fold != number
    test = ~train
    group_fold = rows.fold[np.cumsum(rows.groups) - 1]
    if not test.any():
        return {}
    if not train.any():
        return _head_ndcg(rows, qrels, None, options.scale, group_fold == number)
    groups = [n for n, f in zip(rows.groups, group_fold, strict=True) if f != number]
    forest = _fit(rows.x[train], rows.y[train], groups, rows.init[train], names, options)
    shares = np.zeros(len(rows.y), dtype=np.float64)
    shares[test] = forest.predict(rows.x[test])
    return _head_ndcg(rows, qrels, shares, options.scale, group_fold == number)


def _head_ndcg(
    rows: _Rows,
    qrels: Mapping[str, Mapping[str, int]],
    trees: FloatArray | None,
    scale: float,
    chosen: npt.NDArray[np.bool_] | None = None,
) -> dict[str, float]:
    """Each chosen query's nDCG@10 when its candidates are ranked as a search
    ranks them: in lexical order (``trees`` ``None``), or reranked by the
    trees' output ``trees`` (see :meth:`Learned.rerank
    <searchlib.learn.features.Learned.rerank>`)."""
    out: dict[str, float] = {}
    score = rows.x[:, BASE_FEATURES.index("score")]
    start = 0
    for i, (qid, n) in enumerate(zip(rows.qids, rows.groups, strict=True)):
        end = start + n
        if chosen is None or chosen[i]:
            ids = rows.doc_ids[start:end]
            if trees is not None:
                lexical = score[start:end]
                best = lexical[0] if lexical[0] > 0 else 1.0
                scores = lexical + (best / scale) * trees[start:end]
                order = np.lexsort((rows.docnums[start:end], -scores))[:10]
                ids = [ids[j] for j in order]
            out[qid] = per_query(ids[:10], qrels[qid])[0]
        start = end
    return out


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
