"""Shared fixtures: a seed-corpus index per session, a cache folder per session, and
the location of the shared data (corpora, evaluation sets) some tests read.

The shared data is not part of the repository: it is ``$SEARCHLIB_SHARED`` or, without
that variable, ``../shared`` beside the repository. A test that needs a file of it calls
``need_shared(path)``: when the file is missing, the test is skipped, with the path in the
reason, so that ``pytest`` passes on a fresh clone; under ``CI`` (any value but ``""``,
``0`` or ``false``) it fails instead, so that CI runs every test or says why it could not.

Nothing is downloaded unless asked: a test that would fetch something (the Lucene jar,
140 MB) first checks ``downloads_allowed()``, true only with ``SEARCHLIB_TEST_DOWNLOADS``
set to ``1``, ``true``, ``yes`` or ``on``; without it the test skips (fails under CI) and
says so.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from searchlib import Index, load_corpus
from searchlib.corpus.loaders import seed_dir

REPO = Path(__file__).resolve().parents[1]


def shared_dir() -> Path:
    """The shared data folder: ``$SEARCHLIB_SHARED``, else ``../shared`` beside the repo."""
    env = os.environ.get("SEARCHLIB_SHARED")
    return Path(env) if env else REPO.parent / "shared"


def in_ci() -> bool:
    """Whether the ``CI`` environment variable is set to a true value."""
    return os.environ.get("CI", "").strip().lower() not in {"", "0", "false", "no"}


def downloads_allowed() -> bool:
    """Whether tests may download what they need (``SEARCHLIB_TEST_DOWNLOADS`` is true)."""
    value = os.environ.get("SEARCHLIB_TEST_DOWNLOADS", "")
    return value.strip().lower() in {"1", "true", "yes", "on"}


def need_shared(path: str | Path) -> Path:
    """``path`` (relative to the shared folder, or absolute) if it exists.

    Otherwise skip the calling test (fail it under CI) with a reason naming the path.
    """
    full = shared_dir() / path
    if not full.exists():
        reason = f"missing shared data {full} (set SEARCHLIB_SHARED, or put shared/ beside"
        reason += " the repository)"
        if in_ci():
            pytest.fail(f"{reason}; under CI every shared-data test must run", pytrace=False)
        pytest.skip(reason)
    return full


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
