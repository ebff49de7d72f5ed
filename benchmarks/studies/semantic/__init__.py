"""The semantic study (issue 20): encoding speed, query latency and relevance of
hybrid lexical + embedding ranking on cdtn and piaf. See ``python -m
benchmarks.studies.semantic --help``."""
