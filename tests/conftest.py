"""Shared fixtures: a seed-corpus index per session, a cache folder per session."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from searchlib import Index, load_corpus
from searchlib.corpus.loaders import seed_dir


@pytest.fixture(scope="session", autouse=True)
def _isolated_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Keep the seed-index cache of the test run away from the user's."""
    mp = pytest.MonkeyPatch()
    mp.setenv("SEARCHLIB_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
    yield
    mp.undo()


@pytest.fixture(scope="session")
def seed_index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Index]:
    """An on-disk index of the bundled seed corpus."""
    path = tmp_path_factory.mktemp("seed") / "index"
    with Index.create(path) as ix:
        ix.add(load_corpus(seed_dir()))
        yield ix


@pytest.fixture
def empty_index(tmp_path: Path) -> Iterator[Index]:
    """A fresh on-disk index."""
    with Index.create(tmp_path / "index") as ix:
        yield ix
