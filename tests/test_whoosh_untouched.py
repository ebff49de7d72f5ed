"""Importing and using searchlib changes nothing in Whoosh's modules.

searchlib reads its own indexes through its own storage classes: a stock
Whoosh index, opened in the same process by plain Whoosh, gets stock
behaviour (its own unpickler, Whoosh's own buffer files)."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
from pathlib import Path

import whoosh.codec.whoosh3
import whoosh.columns
import whoosh.compat
import whoosh.filedb.structfile
import whoosh.formats
import whoosh.index
from whoosh.fields import TEXT, Schema
from whoosh.qparser import QueryParser

from searchlib import Document, Index

# What the library could be tempted to replace, as Whoosh defines it.
WATCHED = {
    (whoosh.index, "pickle"),
    (whoosh.index, "toc_loaders"),
    (whoosh.filedb.structfile, "load_pickle"),
    (whoosh.compat, "loads"),
    (whoosh.compat, "load"),
    (whoosh.codec.whoosh3, "loads"),
    (whoosh.columns, "loads"),
    (whoosh.formats, "loads"),
}


def _snapshot() -> dict[tuple[str, str], object]:
    out: dict[tuple[str, str], object] = {}
    for module, name in WATCHED:
        out[module.__name__, name] = getattr(module, name)
    out["BufferFile", "__init__"] = whoosh.filedb.structfile.BufferFile.__init__
    return out


def test_stock_whoosh_index_gets_stock_behaviour_next_to_searchlib(tmp_path: Path) -> None:
    before = _snapshot()
    # searchlib at work: create, add, search, reopen.
    with Index.create(tmp_path / "sl") as ix:
        ix.add([Document("a", "Titre", "La cour fédérale a tranché.")])
        assert ix.search("federale").hits
    with Index.open(tmp_path / "sl") as ix:
        assert ix.search("cour").hits
    assert _snapshot() == before
    assert whoosh.index.pickle is pickle
    assert whoosh.compat.loads is pickle.loads
    # A stock Whoosh index in the same process: stored values that searchlib's
    # restricted unpickler would refuse (a class) still round-trip in Whoosh.
    stock = tmp_path / "stock"
    stock.mkdir()
    wix = whoosh.index.create_in(str(stock), Schema(body=TEXT(stored=True)))
    with wix.writer() as w:
        w.add_document(body="la musique baroque")
    with wix.writer() as w:
        w.add_document(body="musique de chambre")  # a second segment
    wix = whoosh.index.open_dir(str(stock))
    with wix.searcher() as s:
        hits = s.search(QueryParser("body", wix.schema).parse("musique"))
        assert sorted(h["body"] for h in hits) == ["la musique baroque", "musique de chambre"]


def test_importing_searchlib_patches_nothing(tmp_path: Path) -> None:
    # A fresh interpreter: Whoosh's module attributes are identical before
    # and after `import searchlib` (and after opening a searchlib index).
    code = """
import sys, whoosh.index, whoosh.compat, whoosh.codec.whoosh3, whoosh.columns, whoosh.formats
import whoosh.filedb.structfile as sf
def snap():
    mods = [whoosh.index, whoosh.compat, whoosh.codec.whoosh3, whoosh.columns, whoosh.formats, sf]
    return {(m.__name__, k): id(v) for m in mods for k, v in vars(m).items()} | {
        ("BufferFile", k): id(v) for k, v in vars(sf.BufferFile).items()}
before = snap()
import searchlib
ix = searchlib.Index.create(sys.argv[1])
ix.add([searchlib.Document("a", "T", "texte")])
ix.search("texte")
after = snap()
changed = sorted(k for k in before if before[k] != after.get(k))
print(changed)
sys.exit(1 if changed else 0)
"""
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    done = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "ix")],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
