"""Corpora: folders of ``.txt``/``.md`` files and JSONL files, read as documents.

:mod:`~searchlib.corpus.loaders` streams documents from files and folders
(NFC-normalised, with a report of what was skipped) and holds the bundled
seed corpus.
"""

from searchlib.corpus.loaders import (
    JSONL_SUFFIXES,
    TEXT_SUFFIXES,
    LoadReport,
    Problem,
    load_corpus,
    load_jsonl,
    load_text_file,
    seed_dir,
    seed_documents,
)

__all__ = [
    "JSONL_SUFFIXES",
    "TEXT_SUFFIXES",
    "LoadReport",
    "Problem",
    "load_corpus",
    "load_jsonl",
    "load_text_file",
    "seed_dir",
    "seed_documents",
]
