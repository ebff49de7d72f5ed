"""Honest evaluation of learning: K folds of topics, learned on K−1, scored on the rest.

:func:`cross_validate` deals the topics into ``k`` folds; for each, it learns
a model from the other folds' queries and judgments
(:func:`searchlib.learn.train.learn`, which cross-fits inside them too) and
scores the fold's queries with it and without it. The report gives, per
fold and overall, the mean per query of nDCG@10, MRR@10 and Recall@100 both
ways, and a sign-flip test over topics (each topic's mean difference is one
unit; see :func:`searchlib.learn.metrics.sign_flip`). Each fold's learning
keeps only the parts that help in its own inner cross-validation, as
``learn`` does (which parts each fold kept is in :attr:`FoldResult.kept`).
"""

from __future__ import annotations

import dataclasses
import random
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from searchlib.errors import SearchlibError
from searchlib.learn.judgments import Judgments
from searchlib.learn.metrics import METRICS, sign_flip
from searchlib.learn.train import LearnOptions, Progress, learn, learned_metrics, live_documents
from searchlib.searching import SearchContext

Triple = tuple[float, float, float]

MAX_FOLDS = 1000
"""Most folds a cross-validation takes (and never more than the topics)."""


class FoldsError(SearchlibError, ValueError):
    """A number of folds out of the range the judgments allow."""


@dataclass(frozen=True, slots=True)
class FoldResult:
    """One fold: its size, its means without and with the model learned on the others.

    Attributes:
        fold: 1-based number.
        queries: queries scored.
        topics: topics they form.
        unlearned: mean nDCG@10, MRR@10, Recall@100 per query, without a model.
        learned: the same with the model learned on the other folds.
        seconds: time spent learning that model.
        cpu_seconds: processor time spent learning it (all threads).
        expansion: the expansion weight and term count that model chose.
        kept: the parts that model kept (see :attr:`LearnReport.kept
            <searchlib.learn.train.LearnReport.kept>`).
    """

    fold: int
    queries: int
    topics: int
    unlearned: Triple
    learned: Triple
    seconds: float
    cpu_seconds: float = 0.0
    expansion: tuple[float, int] = (0.0, 0)
    kept: tuple[str, ...] = ()

    @property
    def delta(self) -> Triple:
        return _minus(self.learned, self.unlearned)


@dataclass
class CrossValidation:
    """K-fold scores by topic.

    Attributes:
        folds: per fold.
        unlearned: mean per query over every fold's queries, without a model.
        learned: the same, each query scored by the model of its fold.
        by_topic_unlearned: mean over topics of the per-topic mean, without.
        by_topic_learned: the same, learned.
        p_values: per metric, the sign-flip p-value of the per-topic differences.
        queries: queries scored.
        topics: topics scored.
        problems: what the judgments had wrong (see :class:`Judgments`).
    """

    folds: list[FoldResult] = field(default_factory=list)
    unlearned: Triple = (0.0, 0.0, 0.0)
    learned: Triple = (0.0, 0.0, 0.0)
    by_topic_unlearned: Triple = (0.0, 0.0, 0.0)
    by_topic_learned: Triple = (0.0, 0.0, 0.0)
    p_values: dict[str, float] = field(default_factory=dict)
    queries: int = 0
    topics: int = 0
    problems: dict[str, int] = field(default_factory=dict)
    per_query: dict[str, tuple[Triple, Triple]] = field(default_factory=dict)

    @property
    def delta(self) -> Triple:
        return _minus(self.learned, self.unlearned)

    def as_dict(self) -> dict[str, object]:
        """JSON-ready (without the per-query scores)."""
        out = dataclasses.asdict(self)
        out.pop("per_query")
        out["delta"] = self.delta
        for f in out["folds"]:
            f["delta"] = _minus(f["learned"], f["unlearned"])
        return out


def cross_validate(
    context: SearchContext,
    judgments: Judgments,
    k: int = 5,
    options: LearnOptions | None = None,
    *,
    seed: int = 0,
    samples: int = 100_000,
    progress: Progress | None = None,
) -> CrossValidation:
    """Learn on K−1 folds of topics, score the K-th, for each fold.

    Args:
        context: a search context of the index, with nothing learned in it.
        judgments: the queries, judgments and topics.
        k: folds, from 2 to :data:`MAX_FOLDS` and at most one per topic.
        options: how each fold's model is learned.
        seed: seed of the dealing of topics into folds.
        samples: random sign patterns of the sign-flip test.
        progress: called with a short status line at each step.

    Raises:
        SearchlibError: nothing usable in the judgments.
        FoldsError: ``k`` out of that range (a ``ValueError`` too).
    """
    say = progress or (lambda _: None)
    context = dataclasses.replace(context, expansion=None, reranker=None)
    usable = judgments.usable(live_documents(context).__contains__)
    groups = usable.by_topic()
    most = min(MAX_FOLDS, len(groups))
    if most < 2:
        raise FoldsError(
            f"cross-validation needs 2 topics or more; the judgments have {len(groups)}"
        )
    if not 2 <= k <= most:
        raise FoldsError(
            f"folds must be from 2 to {most} (at most one per topic: the judgments have "
            f"{len(groups)}), not {k}"
        )
    order = sorted(groups)
    random.Random(seed).shuffle(order)
    folds = [order[i::k] for i in range(k)]
    result = CrossValidation(problems={a: b for a, b in sorted(usable.problems.items()) if b})
    for number, topics in enumerate(folds, start=1):
        test = [q for t in topics for q in groups[t]]
        train = [q for t in order if t not in set(topics) for q in groups[t]]
        t0, c0 = time.perf_counter(), time.process_time()
        model, report = learn(
            context,
            usable.subset(train),
            options,
            progress=_prefixed(say, f"fold {number}/{k}: "),
        )
        seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
        say(f"fold {number}/{k}: scoring {len(test):,} queries")
        queries = {q: usable.queries[q] for q in test}
        before = learned_metrics(context, None, queries, usable.qrels)
        after = learned_metrics(context, model, queries, usable.qrels)
        for q in test:
            result.per_query[q] = (before[q], after[q])
        result.folds.append(
            FoldResult(
                number,
                len(test),
                len(topics),
                _means(before.values()),
                _means(after.values()),
                round(seconds, 1),
                round(cpu, 1),
                report.expansion,
                report.kept,
            )
        )
    scored = result.per_query
    result.queries = len(scored)
    result.topics = len(groups)
    result.unlearned = _means(v[0] for v in scored.values())
    result.learned = _means(v[1] for v in scored.values())
    topic_before = [_means(scored[q][0] for q in qs) for qs in groups.values()]
    topic_after = [_means(scored[q][1] for q in qs) for qs in groups.values()]
    result.by_topic_unlearned = _means(topic_before)
    result.by_topic_learned = _means(topic_after)
    for i, name in enumerate(METRICS):
        diffs = [a[i] - b[i] for a, b in zip(topic_after, topic_before, strict=True)]
        result.p_values[name] = sign_flip(diffs, samples=samples, seed=seed)
    return result


def _prefixed(say: Progress, prefix: str) -> Progress:
    return lambda line: say(prefix + line)


def _means(rows: Iterable[Triple]) -> Triple:
    items = list(rows)
    if not items:
        return (0.0, 0.0, 0.0)
    n = len(items)
    return (
        sum(r[0] for r in items) / n,
        sum(r[1] for r in items) / n,
        sum(r[2] for r in items) / n,
    )


def _minus(a: Triple | Sequence[float], b: Triple | Sequence[float]) -> Triple:
    return (a[0] - b[0], a[1] - b[1], a[2] - b[2])


def topic_folds(topics: Mapping[str, str], k: int, seed: int = 0) -> list[list[str]]:
    """The query ids of each fold, as :func:`cross_validate` deals them (for tools)."""
    groups: dict[str, list[str]] = {}
    for q, t in topics.items():
        groups.setdefault(t, []).append(q)
    order = sorted(groups)
    random.Random(seed).shuffle(order)
    return [[q for t in order[i::k] for q in groups[t]] for i in range(k)]
