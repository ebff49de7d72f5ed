"""One-off studies, run by hand (not by CI); each writes its own section of RESULTS.md.

:mod:`~benchmarks.studies.ablation` (what each relevance lever contributes, with the
peers, cross-validated by topic), :mod:`~benchmarks.studies.rescoring` (levers that
rescore or fuse runs), :mod:`~benchmarks.studies.acronyms` (acronym expansion: cost and
relevance), :mod:`~benchmarks.studies.perf_probe` (build and query speed against stock
Whoosh). ``ABLATION.md`` beside them is the step-by-step history of the tuning.
"""
