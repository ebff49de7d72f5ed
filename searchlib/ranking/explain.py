"""Why a hit scored what it did: matched terms per field and their BM25F share.

A searchlib query compiles to a tree of Whoosh ``Term`` and ``Phrase`` queries
joined by ``Or`` / ``And`` / ``AndNot``, each possibly boosted. Whoosh scores a
passage as the sum, over the leaves that match it, of the leaf's boost times
the BM25 score of each of its terms in that field (a phrase scores as the sum
of its words). :func:`explain` walks the same tree for one passage (the index
method :meth:`Index.explain <searchlib.index.Index.explain>` compiles the query first) and
recomputes each share with the searcher's own weighting (the index's
:class:`~searchlib.ranking.params.Ranking`), so the shares add up to the hit's score.

What an index learned (see :mod:`searchlib.learn`) shows too: the terms a
query was expanded with are shares of kind ``expansion``, and what a learned
reranker added to the lexical score is split among the reranker's features
(:func:`learned_shares`, kind ``learned``), so that the shares still add up.

Example:
    >>> import tempfile
    >>> from searchlib import Document, Index
    >>> ix = Index.create(tempfile.mkdtemp())
    >>> _ = ix.add([Document("a", "Cour fédérale", "La cour fédérale a tranché.")])
    >>> results = ix.search("cour federale")
    >>> why = ix.explain(results.query, results.hits[0])
    >>> sorted({f"{c.field}:{c.term}" for c in why.contributions})
    ['exact:cour', 'text:cour', 'text:federal', 'title:cour', 'title:federal']
    >>> abs(why.total - results.hits[0].score) < 1e-9
    True
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from whoosh import query as wq
from whoosh.scoring import bm25

from searchlib.errors import SearchlibError
from searchlib.results import Hit


@dataclass(frozen=True, slots=True)
class Contribution:
    """One term's share of a passage's score.

    Attributes:
        field: the field the term matched in (``exact``: the form as typed,
            when the ranking's ``exact_boost`` is on).
        term: the index term.
        kind: ``term``; ``phrase`` (a word of a phrase); ``near`` (a word of a
            proximity bonus pair, when the ranking's ``proximity_boost`` is on);
            ``expansion`` (a term a learned model added to the query);
            ``learned`` (a learned reranker's share for one of its features,
            ``term`` naming the feature, or ``base`` for the trees' starting
            values: no BM25 figures); ``other`` (a whole query of another kind,
            e.g. everything but ``NOT x``).
        phrase: the phrase (or pair) this term was scored for, else ``None``.
        tf: occurrences of the term in the field of this passage.
        field_length: length of the field in this passage (Whoosh's stored,
            approximate length).
        avg_field_length: mean length of the field over the index.
        idf: inverse document frequency, as Whoosh computes it.
        boost: product of the query boosts above the term (the title weight).
        b: the length normalisation used for this field.
        k1: term-frequency saturation.
        score: ``boost * BM25(tf, field_length)``.
    """

    field: str
    term: str
    kind: str
    phrase: tuple[str, ...] | None
    tf: float
    field_length: int
    avg_field_length: float
    idf: float
    boost: float
    b: float
    k1: float
    score: float


@dataclass(frozen=True, slots=True)
class Explanation:
    """The score of one hit, term by term.

    Attributes:
        hit_id: the passage id.
        score: the score the search gave the hit.
        contributions: the shares, in query order.
        query: the Whoosh query the text compiled to (as text).
        semantic: on an index with vectors, the hybrid score's parts (a
            :class:`~searchlib.semantic.hybrid.SemanticShare`: the lexical
            score, its share, the cosine and its share); then ``score`` is
            the hybrid score and :attr:`total` its lexical part.
    """

    hit_id: str
    score: float
    contributions: tuple[Contribution, ...]
    query: str
    semantic: Any = None  # a searchlib.semantic.hybrid.SemanticShare (a layer above)

    @property
    def total(self) -> float:
        """Sum of the shares (equals :attr:`score` up to float rounding)."""
        return sum(c.score for c in self.contributions)

    def by_field(self) -> dict[str, list[Contribution]]:
        """Shares grouped by field, fields in schema order of first match."""
        out: dict[str, list[Contribution]] = {}
        for c in self.contributions:
            out.setdefault(c.field, []).append(c)
        return out

    @property
    def learned(self) -> float:
        """The learned part of the score: expansion terms and reranker shares."""
        return sum(c.score for c in self.contributions if c.kind in ("expansion", "learned"))

    def with_learned(self, shares: Sequence[Contribution]) -> Explanation:
        """This explanation with a learned reranker's ``shares`` added."""
        return replace(self, contributions=(*self.contributions, *shares))


LEARNED_FIELD = "learned"
"""The ``field`` of a learned reranker's shares."""


def learned_shares(
    features: Sequence[str], base: float, shares: Iterable[float], unit: float
) -> list[Contribution]:
    """A learned reranker's share of a score, per feature.

    Args:
        features: the reranker's feature names.
        base: its trees' starting values, summed (the part of its output no
            feature explains).
        shares: per feature, the part of its output that the feature's
            splits gave along the paths the candidate took (Saabas' method;
            ``base + sum(shares)`` is the output).
        unit: score per unit of output (the reranker's output times ``unit``
            is what it added to the lexical score).

    Returns:
        One contribution of kind ``learned`` for ``base`` and for each
        feature with a share, largest first.
    """
    out = [_learned("base", base * unit)] if base else []
    ranked = sorted(
        (
            (name, float(value) * unit)
            for name, value in zip(features, shares, strict=True)
            if value
        ),
        key=lambda kv: (-abs(kv[1]), kv[0]),
    )
    out.extend(_learned(name, value) for name, value in ranked)
    return out


def _learned(name: str, score: float) -> Contribution:
    return Contribution(
        LEARNED_FIELD, name, "learned", None, 0.0, 0, 0.0, 0.0, 1.0, 0.0, 0.0, float(score)
    )


def explain(
    searcher: Any,
    query: wq.Query | None,
    hit: Hit,
    *,
    expansion: wq.Query | None = None,
    semantic: Any = None,
) -> Explanation:
    """Explain the score of ``hit`` under the compiled ``query``.

    :meth:`Index.explain <searchlib.index.Index.explain>` calls this with the
    query its search compiled (read from the search's trace).

    Args:
        searcher: the Whoosh searcher of the index the hit came from.
        query: the compiled query (``None``: nothing was searchable).
        hit: a hit of that search.
        expansion: the part of ``query`` that searches the terms a learned
            model added (its terms' shares are of kind ``expansion``).
        semantic: the hybrid score's parts when the search was hybrid (see
            :func:`searchlib.semantic.hybrid.share_of`, read from the search's trace).

    Raises:
        SearchlibError: the hit's passage is no longer in the index.
    """
    docnum = searcher.document_number(id=hit.id)
    if docnum is None:
        raise SearchlibError(f"passage {hit.id} is not in the index any more")
    found: list[Contribution] = []
    if query is not None:
        _walk(query, 1.0, _Context(searcher, docnum, expansion), found)
    return Explanation(hit.id, hit.score, tuple(found), str(query), semantic)


@dataclass
class _Context:
    searcher: Any
    docnum: int
    expansion: wq.Query | None = None
    inside: bool = False  # walking the expansion


def _walk(q: wq.Query, boost: float, ctx: _Context, out: list[Contribution]) -> bool:
    """Append the shares of ``q`` for the passage; returns whether ``q`` matches it.

    Mirrors Whoosh's matchers: ``Or`` and ``And`` sum their matching children,
    ``AndNot`` scores as its positive side, and every boost multiplies the
    score of what it wraps.
    """
    if q is ctx.expansion and not ctx.inside:
        ctx.inside = True
        try:
            return _walk(q, boost, ctx, out)
        finally:
            ctx.inside = False
    boost *= q.boost
    if isinstance(q, wq.Term):
        kind = "expansion" if ctx.inside else "term"
        share = _term_share(q.fieldname, q.text, kind, None, boost, ctx)
        if share is None:
            return False
        out.append(share)
        return True
    if isinstance(q, wq.Phrase):
        if not _matches(q, ctx):
            return False
        words = tuple(q.words)
        kind = "phrase" if q.slop <= 1 else "near"
        for word in words:
            share = _term_share(q.fieldname, word, kind, words, boost, ctx)
            if share is not None:
                out.append(share)
        return True
    if isinstance(q, wq.AndNot):
        if not _matches(q, ctx):
            return False
        _walk(q.a, boost, ctx, out)
        return True
    if isinstance(q, wq.Or):
        mark = len(out)
        matched = [_walk(sub, boost, ctx, out) for sub in q.subqueries]
        if not any(matched):
            del out[mark:]
        return any(matched)
    if isinstance(q, wq.And):
        mark = len(out)
        if not all([_walk(sub, boost, ctx, out) for sub in q.subqueries]):
            del out[mark:]
            return False
        return True
    # Anything else (Every, after a lone NOT): its whole score, as Whoosh gives it.
    m = q.matcher(ctx.searcher)
    if not _at(m, ctx.docnum):
        return False
    out.append(
        Contribution("*", str(q), "other", None, 1.0, 0, 0.0, 0.0, boost, 0.0, 0.0, m.score())
    )
    return True


def _term_share(
    field: str,
    text: str,
    kind: str,
    phrase: tuple[str, ...] | None,
    boost: float,
    ctx: _Context,
) -> Contribution | None:
    searcher = ctx.searcher
    btext = searcher.schema[field].to_bytes(text)
    if (field, btext) not in searcher.reader():
        return None
    postings = searcher.postings(field, btext)
    if not _at(postings, ctx.docnum):
        return None
    tf = postings.weight()
    scorer = searcher.weighting.scorer(searcher, field, btext)
    length = searcher.doc_field_length(ctx.docnum, field, 1)
    score = bm25(scorer.idf, tf, length, scorer.avgfl, scorer.B, scorer.K1) * boost
    return Contribution(
        field,
        text,
        kind,
        phrase,
        tf,
        int(length),
        float(scorer.avgfl),
        float(scorer.idf),
        boost,
        float(scorer.B),
        float(scorer.K1),
        float(score),
    )


def _matches(q: wq.Query, ctx: _Context) -> bool:
    return _at(q.matcher(ctx.searcher), ctx.docnum)


def _at(matcher: Any, docnum: int) -> bool:
    """Move ``matcher`` to ``docnum``; whether it matches there."""
    if not matcher.is_active():
        return False
    if matcher.id() < docnum:
        matcher.skip_to(docnum)
    return bool(matcher.is_active() and matcher.id() == docnum)
