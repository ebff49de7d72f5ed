"""Benchmarks of searchlib against its peers: speed and relevance in one run.

Run ``python -m benchmarks --quick`` (CI) or ``python -m benchmarks --full``
(RESULTS.md); see ``benchmarks/README.md``. Modules: :mod:`~benchmarks.engines`
(searchlib, Whoosh, SQLite FTS5, tantivy behind one interface),
:mod:`~benchmarks.data` (corpora, query sets, samples), :mod:`~benchmarks.worker`
(one measurement in a fresh process), :mod:`~benchmarks.runner` (a whole run),
:mod:`~benchmarks.gates` (regression checks), :mod:`~benchmarks.report`
(Markdown), :mod:`~benchmarks.stats` (percentiles), :mod:`~benchmarks.scaling` (build
and latency against corpus size). Studies run by hand are in :mod:`benchmarks.studies`,
robustness tools in :mod:`benchmarks.robustness`.
"""
