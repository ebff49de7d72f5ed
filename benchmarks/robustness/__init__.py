"""Robustness tools, run by hand (not by CI); their findings are in RELIABILITY.md.

:mod:`~benchmarks.robustness.corrupt_index` (damaged index files),
:mod:`~benchmarks.robustness.fuzz_long` (long property-test rounds),
:mod:`~benchmarks.robustness.pathological` (costly queries on a real index).
"""
