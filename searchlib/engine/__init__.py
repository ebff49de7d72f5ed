"""The search engine between the :class:`~searchlib.Index` facade and its backends.

* :mod:`searchlib.engine.request`: :class:`~searchlib.engine.request.SearchRequest`,
  what one search asks, typed and checked once; every surface (the API, the
  command line, the REPL, the cluster backend, the benchmarks) passes it as it is.
* :mod:`searchlib.engine.pipeline`: the stages a search runs through on a local
  index (plan, retrieve, rerank, rescore, page, suggest), with a
  :class:`~searchlib.engine.pipeline.Trace` of what each did and what it cost.

This package imports nothing itself: the two modules sit at different layers
(the request below the searching code, the pipeline above it and the semantic
and learned parts it plugs in).
"""
