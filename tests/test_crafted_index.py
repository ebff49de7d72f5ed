"""Crafted index files: opening one constructs data, never runs behaviour.

For every class importable from searchlib and from the Whoosh modules an
index's table of contents may name, a TOC is crafted that builds it with a
victim file's path, a folder and a number as arguments, three ways (a call,
``__new__`` with arguments, ``__new__`` then state naming the victim), in the
schema and in the segment list. Opening each must raise
``IndexCorruptError``, leave the victim file and the folders as they were,
and start no process.
"""

from __future__ import annotations

import importlib
import inspect
import json
import os
import pkgutil
import struct
from collections.abc import Iterator
from pathlib import Path

import pytest
import whoosh

import searchlib
from searchlib import Index
from searchlib.errors import IndexCorruptError
from searchlib.folder import FORMAT_VERSION, META_FILE

# The Whoosh modules whose classes searchlib's index files hold or that hold
# storage behaviour (files, folders, writers, processes).
WHOOSH_MODULES = [
    "whoosh.analysis",
    "whoosh.analysis.tokenizers",
    "whoosh.analysis.filters",
    "whoosh.analysis.analyzers",
    "whoosh.codec.base",
    "whoosh.codec.whoosh3",
    "whoosh.columns",
    "whoosh.fields",
    "whoosh.filedb.compound",
    "whoosh.filedb.filestore",
    "whoosh.filedb.filetables",
    "whoosh.filedb.structfile",
    "whoosh.formats",
    "whoosh.idsets",
    "whoosh.index",
    "whoosh.multiproc",
    "whoosh.reading",
    "whoosh.searching",
    "whoosh.writing",
]


def _searchlib_modules() -> Iterator[str]:
    yield "searchlib"
    for info in pkgutil.walk_packages(searchlib.__path__, "searchlib."):
        if not info.name.endswith("__main__"):
            yield info.name


def _classes() -> list[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    for name in [*_searchlib_modules(), *WHOOSH_MODULES]:
        module = importlib.import_module(name)
        for attr, obj in vars(module).items():
            if inspect.isclass(obj) and obj.__module__.startswith(("searchlib", "whoosh")):
                found.add((name, attr))
    return sorted(found)


CLASSES = _classes()


def _text(s: str) -> bytes:
    data = s.encode()
    return b"X" + struct.pack("<I", len(data)) + data


def _global(module: str, name: str) -> bytes:
    return b"c" + module.encode() + b"\n" + name.encode() + b"\n"


# Argument lists a constructor of files, folders, writers or processes takes.
SHAPES = ["p", "pn", "pnn", "d", "pd", "pdn"]


def _args(shape: str, victim: Path, folder: Path) -> bytes:
    parts = {"p": _text(str(victim)), "d": _text(str(folder)), "n": b"K\x01"}
    return b"(" + b"".join(parts[c] for c in shape) + b"t"


def _crafted(how: str, module: str, name: str, victim: Path, folder: Path, shape: str) -> bytes:
    """A protocol 2 pickle building ``module.name`` ``how``."""
    cls = _global(module, name)
    if how == "call":
        body = cls + _args(shape, victim, folder) + b"R"
    elif how == "new":
        body = cls + _args(shape, victim, folder) + b"\x81"
    else:  # "state": __new__ without arguments, then state naming the files
        state = (
            b"}("
            + _text("path")
            + _text(str(victim))
            + _text("folder")
            + _text(str(folder))
            + _text("_file")
            + _text(str(victim))
            + b"u"
        )
        body = cls + b")\x81" + state + b"b"
    return b"\x80\x02" + body + b"."


def _varint(n: int) -> bytes:
    return bytes([n])


def _toc(schema: bytes, segments: bytes) -> bytes:
    out = _varint(4) + _varint(8) + _varint(8)  # sizes of int, long, float
    out += struct.pack(">i", -12345) + struct.pack(">i", -111)  # mark, TOC version
    out += _varint(2) + _varint(7) + _varint(5)  # Whoosh release
    out += _varint(len(schema)) if len(schema) < 128 else _long_varint(len(schema))
    out += schema + struct.pack(">i", 1) + struct.pack(">i", 0) + segments
    return out


def _long_varint(n: int) -> bytes:
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def _children() -> set[str]:
    found: set[str] = set()
    for task in Path(f"/proc/{os.getpid()}/task").iterdir():
        with (task / "children").open() as f:
            found.update(f.read().split())
    return found


@pytest.fixture(scope="module")
def empty_schema_pickle(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    import pickle

    return pickle.dumps([], 2)


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="needs /proc to see processes")
@pytest.mark.parametrize("where", ["schema", "segments"])
@pytest.mark.parametrize("how", ["call", "new", "state"])
def test_no_class_runs_when_a_crafted_index_is_opened(
    tmp_path: Path, how: str, where: str, empty_schema_pickle: bytes
) -> None:
    assert len(CLASSES) > 300  # every module above was read
    victim = tmp_path / "victim.trm"
    victim.write_bytes(b"ne pas toucher, 39 octets en tout ici.\n")
    outside = tmp_path / "outside"
    outside.mkdir()
    before = (victim.read_bytes(), victim.stat().st_mtime_ns)
    children = _children()
    whoosh_toc_version = -111
    assert whoosh_toc_version == whoosh.index._CURRENT_TOC_VERSION
    refused = 0
    shapes = SHAPES if how != "state" else SHAPES[:1]
    cases = [(m, c, s) for m, c in CLASSES for s in shapes]
    for n, (module, name, shape) in enumerate(cases):
        folder = tmp_path / f"ix{n}"
        folder.mkdir()
        meta = {"format_version": FORMAT_VERSION, "analyzer_version": searchlib.ANALYZER_VERSION}
        (folder / META_FILE).write_text(json.dumps(meta))
        crafted = _crafted(how, module, name, victim, outside, shape)
        if where == "schema":
            toc = _toc(crafted, empty_schema_pickle)
        else:
            import pickle

            from searchlib._whoosh.storage import make_schema

            toc = _toc(pickle.dumps(make_schema(), 2), b"\x80\x02]" + crafted[2:-1] + b"a.")
        (folder / "_searchlib_1.toc").write_bytes(toc)
        listing = sorted(p.name for p in folder.iterdir())
        with pytest.raises(IndexCorruptError):
            Index.open(folder)
        refused += 1
        case = (module, name, shape)
        assert (victim.read_bytes(), victim.stat().st_mtime_ns) == before, case
        assert sorted(p.name for p in folder.iterdir()) == listing, case
        assert not any(outside.iterdir()), case
        assert _children() == children, case
    assert refused == len(cases)
