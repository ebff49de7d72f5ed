"""The bundled seed corpus, indexed once and cached: what ``searchlib.search()``
and the command line search when no index is named."""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

from searchlib._version import __version__
from searchlib.analysis import ANALYZER_VERSION
from searchlib.corpus import seed_dir, seed_documents
from searchlib.documents import Passage, split_passages
from searchlib.errors import SearchlibError
from searchlib.folder import FORMAT_VERSION
from searchlib.index import Index
from searchlib.query.acronyms import LEXICON_VERSION

_default: Index | None = None
_default_lock = threading.Lock()


def cache_dir() -> Path:
    """Where the seed index is cached: ``$SEARCHLIB_CACHE_DIR``, else the user cache."""
    env = os.environ.get("SEARCHLIB_CACHE_DIR")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "searchlib"


def _seed_key() -> str:
    h = hashlib.sha256(
        f"{FORMAT_VERSION}:{ANALYZER_VERSION}:{__version__}:acronyms-{LEXICON_VERSION}".encode()
    )
    for path in sorted(seed_dir().rglob("*")):
        if path.is_file():
            h.update(path.name.encode())
            h.update(path.read_bytes())
    return h.hexdigest()[:16]


def default_index() -> Index:
    """The index of the bundled seed corpus, built on first use and reused.

    It is cached on disk (see :func:`cache_dir`) and rebuilt when the seeds or
    the analyzer change; where the cache cannot be written, it lives in memory.
    """
    global _default
    with _default_lock:
        if _default is None:
            _default = _open_or_build_seed_index()
        return _default


def _open_or_build_seed_index() -> Index:
    target = cache_dir() / f"seed-{_seed_key()}"
    with contextlib.suppress(SearchlibError):
        return Index.open(target)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".build-", dir=target.parent))
    except OSError:
        ix = Index.in_memory()
        ix.add(seed_documents())
        return ix
    try:
        with Index.create(tmp, overwrite=True) as ix:
            ix.add(seed_documents())
        with contextlib.suppress(OSError):  # another process built it first
            os.replace(tmp, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return Index.open(target)


def iter_seed_passages() -> Iterator[Passage]:
    """The passages the seed corpus is indexed as (for tools and tests)."""
    for doc in seed_documents():
        yield from split_passages(doc.id, doc.text)


__all__ = ["cache_dir", "default_index", "iter_seed_passages"]
