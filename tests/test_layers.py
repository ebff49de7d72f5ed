"""The package's layers, as a newcomer reads them, are kept by tools.

import-linter checks the layers contract in pyproject.toml (``lint-imports``,
run by .ci/run; run here too). Whoosh's storage internals are imported by
searchlib._whoosh only: the rest of searchlib uses Whoosh's public API
(analysis chains, queries, scoring, searchers, their errors).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parents[1]

PUBLIC_WHOOSH = {
    "whoosh.analysis",  # the chain's base classes
    "whoosh.query",  # query trees
    "whoosh.scoring",  # BM25F
    "whoosh.searching",  # the Searcher type
    "whoosh.reading",  # TermNotFound
    "whoosh.index",  # EmptyIndexError
}


def test_only_the_private_subpackage_imports_whoosh_internals() -> None:
    graph = grimp.build_graph("searchlib", include_external_packages=True)
    offending = []
    for module in sorted(graph.modules):
        if not module.startswith("searchlib") or module.startswith("searchlib._whoosh"):
            continue
        for imported in graph.find_modules_directly_imported_by(module):
            if imported.startswith("whoosh") and imported not in PUBLIC_WHOOSH | {"whoosh"}:
                offending.append((module, imported))
    # grimp records external packages by their top name; read the lines too.
    for path in (ROOT / "searchlib").rglob("*.py"):
        if "_whoosh" in path.parts:
            continue
        for line in path.read_text("utf-8").splitlines():
            words = line.split()
            if (
                len(words) >= 2
                and words[0] in ("from", "import")
                and words[1].startswith("whoosh.")
                and words[1] not in PUBLIC_WHOOSH
            ):
                offending.append((str(path.relative_to(ROOT)), words[1]))
    assert offending == []


@pytest.mark.skipif(shutil.which("lint-imports") is None, reason="import-linter not installed")
def test_the_layers_contract_is_kept() -> None:
    done = subprocess.run(
        ["lint-imports", "--no-cache"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout[-3000:]
    assert "BROKEN" not in done.stdout
