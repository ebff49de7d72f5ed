"""One search, stage by stage, on a local index.

Every search of an :class:`~searchlib.Index` runs these stages once, in order;
a stage with nothing to do is skipped and costs nothing:

1. **plan**: the query compiled (typos, acronyms, respelling, prefixes, the
   learned expansion) and what it asks of declared fields (filters, facets, sort).
2. **retrieve**: the best ``depth`` passages (or documents, collapsed), with the
   total and facet counts: lexically (BM25F), or by cosine alone for
   ``semantic="only"`` — which then honours filters, facets, sort, paging and
   the total like any search.
3. **rerank**: the learned ranking reorders the best candidates (inside
   retrieve, which ranks at least its depth).
4. **rescore**: the hybrid part fuses the cosine into the best candidates of a
   ranking by score.
5. **page**: the page cut, hits materialised with their snippets.
6. **suggest**: when nothing was corrected and the query's words occur
   together in few passages, a query that finds more ("did you mean").

The results carry a :class:`~searchlib.results.Trace`: each stage, what it did
and what it cost (``SearchResults.trace``).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from searchlib._frozen import quick_init
from searchlib.engine.request import SearchOptions, SearchRequest
from searchlib.errors import QuerySyntaxError, SearchlibError
from searchlib.highlight import MatchSpec
from searchlib.learn import Learned
from searchlib.ranking.explain import Explanation, learned_shares
from searchlib.ranking.explain import explain as explain_hit
from searchlib.ranking.facets import FieldRequest
from searchlib.ranking.params import Ranking
from searchlib.results import Hit, SearchResults, Stage, Trace
from searchlib.searching import CompiledQuery, Reranker, SearchContext, results_of
from searchlib.semantic.fusion import Fused
from searchlib.semantic.hybrid import (
    CosineRescorer,
    cosine_rescorer,
    semantic_candidates,
    share_of,
)
from searchlib.semantic.state import SemanticIndex


@dataclass(frozen=True, slots=True)
class FusedCandidates:
    """The hybrid part of a search: the fusion of its candidates (see
    :func:`searchlib.semantic.fusion.fuse`), whose rows follow ``docnums``, the
    candidates' passage numbers in their lexical order."""

    parts: Fused
    docnums: tuple[int, ...]


@quick_init
@dataclass(frozen=True, slots=True)
class Kept:
    """What a search keeps for :meth:`Index.explain <searchlib.Index.explain>` to
    read (``SearchResults.trace.kept``): the request, the compiled query, the
    candidates the reranker reordered (in their lexical order) and the fusion.
    """

    request: SearchRequest
    compiled: CompiledQuery
    reranker: Reranker | None = None
    head: tuple[tuple[int, float], ...] = ()
    fused: FusedCandidates | None = None

    def explain(self, context: SearchContext, hit: Hit) -> Explanation:
        """How ``hit``'s score adds up in this search: each term's BM25 share
        (statistics read with ``context``'s searcher), the learned expansion's
        terms and the reranker's share split among its features, and the
        lexical and semantic parts of a hybrid score.

        Raises:
            SearchlibError: the hit's passage is no longer in the index.
        """
        compiled = self.compiled
        docnum = context.state.searcher.document_number(id=hit.id)
        share = None
        if self.fused is not None and docnum is not None:
            share = share_of(self.fused.parts, self.fused.docnums, docnum, hit.id)
        why = explain_hit(
            context.state.searcher,
            compiled.query,
            hit,
            expansion=compiled.expansion,
            semantic=share,
        )
        bound = self.reranker
        if not isinstance(bound, Learned) or bound.model.reranker is None:
            return why
        at = next((i for i, (d, _) in enumerate(self.head) if d == docnum), None)
        if at is None:
            return why
        row = bound.features(compiled, self.head)[at]
        base, shares = bound.model.reranker.forest.contributions(row)
        return why.with_learned(learned_shares(bound.names, base, shares, bound.unit(self.head)))

    @staticmethod
    def of(results: SearchResults) -> Kept | None:
        """What the search that made ``results`` kept (``None``: results made otherwise)."""
        kept = results.trace.kept
        return kept if isinstance(kept, Kept) else None

    @staticmethod
    def find(
        run: Callable[[SearchRequest], SearchResults],
        query: str | SearchResults,
        hit: Hit,
        options: SearchOptions,
    ) -> Kept:
        """What the search that found ``hit`` did: read from ``query``'s trace,
        or the search run once by ``run`` (as far as the hit's rank; when
        ``options`` do not say whether hits were documents or passages, as
        documents first, the default, then as passages).

        Raises:
            TypeError: options given with results.
            SearchlibError: the search kept nothing to explain.
        """
        if isinstance(query, SearchResults):
            if options:
                raise TypeError("give the results alone, or the query text and its options")
            kept = Kept.of(query)
            if kept is not None:
                return kept
            query = query.query
        tries: tuple[SearchOptions, ...] = (options,)
        if "collapse" not in options:
            tries = ({**options, "collapse": True}, {**options, "collapse": False})
        first: Kept | None = None
        for given in tries:
            request = SearchRequest(query, 1, max(1, hit.rank), **given)
            results = run(request.replace(highlight_hits=False, suggest=False))
            kept = Kept.of(results)
            if kept is None:
                break
            if any(h.id == hit.id for h in results.hits):
                return kept
            first = first or kept
        if first is None:
            raise SearchlibError(f"cannot explain hit {hit.id!r}: its search kept nothing")
        return first


@quick_init
@dataclass(frozen=True, slots=True)
class Pipeline:
    """The stages of a search on one searcher.

    Attributes:
        context: the searcher's state, analyzers, ranking, acronyms and learned parts.
        semantic: the index's vectors (``None``: none, every search lexical).
        ranking: the ranking parameters (the hybrid weight and candidates).
    """

    context: SearchContext
    semantic: SemanticIndex | None = None
    ranking: Ranking = dataclasses.field(default_factory=Ranking)

    def run(self, request: SearchRequest) -> SearchResults:
        """The page of results ``request`` asks for, with its trace.

        Raises:
            QuerySyntaxError: an explicitly malformed operator query.
            ValueError: an unknown field in a filter, facet or sort key.
            NoVectorsError: ``semantic="only"`` on an index without vectors.
        """
        clock = time.perf_counter
        t0 = clock()
        stages: list[Stage] = []
        context = self.context
        only = request.semantic == "only"
        compiled = self._compile(request, only)
        fields = context.field_request(compiled, request.facets, request.sort)
        t1 = clock()
        notes: tuple[tuple[str, Any], ...] = (
            ("corrections", len(compiled.corrections)),
            ("filtered", compiled.filter is not None),
        )
        stages.append(Stage("plan", (t1 - t0) * 1000, notes))
        rescore = None if only else self._rescorer(request, fields)
        depth = request.depth if rescore is None else max(request.depth, rescore.candidates)
        head: tuple[tuple[int, float], ...] = ()
        if only:
            if self.semantic is None:  # (checked by _compile)
                raise ValueError("semantic='only' needs an index with vectors")
            executed = semantic_candidates(
                context, self.semantic, compiled, fields, depth, request.collapse
            )
        else:  # ranked, and reranked when a learned reranker applies
            executed, head = context.execute_reranked(
                compiled, depth, request.collapse, request=fields
            )
        t2 = clock()
        notes = (
            ("depth", depth),
            ("by", "cosine" if only else "bm25f"),
            ("reranked", len(head)),
            ("ranked", len(executed.ranked)),
            ("total", executed.total),
        )
        stages.append(Stage("retrieve", (t2 - t1) * 1000, notes))
        fused = None
        if rescore is not None and executed.ranked:
            lexical = tuple(d for d, _ in executed.ranked)
            executed, parts = rescore.fused(compiled, executed)
            fused = FusedCandidates(parts, lexical)
            t3 = clock()
            stages.append(Stage("rescore", (t3 - t2) * 1000, (("candidates", len(lexical)),)))
            t2 = t3
        hits = context.page_hits(
            compiled,
            executed,
            page=request.page,
            limit=request.limit,
            highlight_hits=request.highlight_hits,
            snippet_chars=request.snippet_chars,
            max_fragments=request.max_fragments,
        )
        t3 = clock()
        notes = (("first", request.first), ("limit", request.limit))
        stages.append(Stage("page", (t3 - t2) * 1000, notes))
        suggestion = None
        # A suggestion respells the query's words; a query with filters on
        # declared fields gets none (the suggester reads plain queries).
        if (
            request.suggest
            and not only
            and not compiled.corrections
            and not request.as_you_type
            and compiled.filter is None
        ):
            suggestion = context.suggest(request.query, request.fields)
            t4 = clock()
            found = (("found", suggestion is not None),)
            stages.append(Stage("suggest", (t4 - t3) * 1000, found))
        kept = Kept(request, compiled, context.reranker if head else None, head, fused)
        return results_of(
            compiled,
            executed,
            request.page,
            request.limit,
            hits,
            (clock() - t0) * 1000,
            suggestion=suggestion,
            trace=Trace(tuple(stages), kept),
        )

    def _compile(self, request: SearchRequest, only: bool) -> CompiledQuery:
        context = self.context
        if not only:
            return context.compile(
                request.query,
                request.fields,
                filter=request.filter,
                correct=request.correct,
                as_you_type=request.as_you_type,
            )
        if self.semantic is None:
            raise ValueError("semantic='only' needs an index with vectors")
        self.semantic.check_vectors()
        # The query is read as plain text for its vector; its words matter only
        # for highlighting, its filters (and filter=) restrict the matches.
        try:
            compiled = context.compile(request.query, filter=request.filter, correct=False)
        except QuerySyntaxError:
            compiled = CompiledQuery(
                request.query,
                None,
                MatchSpec(),
                filter=context.filter_expression(request.filter),
            )
        return compiled

    def _rescorer(
        self, request: SearchRequest, fields: FieldRequest | None
    ) -> CosineRescorer | None:
        if request.semantic != "auto" or self.semantic is None:
            return None
        if fields is not None and fields.sort:
            return None  # a ranking by declared fields is not rescored
        return cosine_rescorer(
            self.context,
            self.semantic,
            weight=self.ranking.semantic_weight,
            candidates=self.ranking.semantic_candidates,
        )


__all__ = ["FusedCandidates", "Kept", "Pipeline"]
