"""Restricted unpickling of Whoosh index files.

Whoosh keeps the schema and the segment list (the ``.toc`` file), stored
fields and posting blocks as pickles, and unpickling can run any code the
file names. searchlib therefore installs, in the Whoosh modules that read
index files, an unpickler that only admits:

* classes defined in Whoosh's data modules (:data:`ALLOWED_PREFIXES`) and
  in searchlib, except :data:`DENIED_CLASSES`,
* functions of Whoosh's language modules (``whoosh.lang.*``: stemmers, pure
  code over a word), which stock Whoosh analyzers pickle,
* a fixed set of globals that plain data needs (:data:`ALLOWED_GLOBALS`,
  with ``re._compile`` for stock Whoosh tokenizers' patterns).

Anything else raises :class:`~searchlib.errors.IndexCorruptError` before the
module is even imported, so a crafted index cannot run code when it is opened
or searched. Whoosh's loader for its pre-2.0 TOC format (an unrestricted
unpickler) is switched off as well. The hardening applies to the whole
process, once :mod:`searchlib.index` is imported.

This is defence in depth, not a sandbox: an index folder should still come
from a trusted source (a crafted one can make searches fail or lie).

Example:
    >>> import pickle
    >>> restricted_loads(pickle.dumps({"id": "a", "n": [1, 2.5, None]}))
    {'id': 'a', 'n': [1, 2.5, None]}
    >>> import shutil
    >>> restricted_loads(pickle.dumps(shutil.rmtree))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    searchlib.errors.IndexCorruptError: refusing to load shutil.rmtree from an index file ...
"""

from __future__ import annotations

import array
import codecs
import collections
import copyreg
import importlib
import io
import os
import pickle
import re
import types
from pathlib import Path
from typing import IO, Any

import whoosh.codec.whoosh3
import whoosh.columns
import whoosh.compat
import whoosh.filedb.structfile
import whoosh.formats
import whoosh.index
from whoosh.filedb.structfile import StructFile

from searchlib.errors import IndexCorruptError, SearchlibError

ALLOWED_PREFIXES = (
    "whoosh.analysis.",
    "whoosh.codec.whoosh3",
    "whoosh.columns",
    "whoosh.fields",
    "whoosh.formats",
    "whoosh.idsets",
    "searchlib.",
)
"""Modules whose classes an index file may name (a prefix ending in ``.`` covers a package)."""

DENIED_CLASSES = frozenset(
    {
        # They import a module named by their pickled state when read.
        ("whoosh.columns", "CompressedBytesColumn"),
        ("whoosh.columns", "CompressedBlockColumn"),
    }
)
"""Classes of the allowed modules that an index file still may not name."""

ALLOWED_GLOBALS: dict[tuple[str, str], object] = {
    # Whoosh's stock tokenizers pickle their compiled patterns as re._compile
    # calls: compiling a regular expression runs no other code, and refusing it
    # would break plain Whoosh indexes opened in the same process.
    ("re", "_compile"): re._compile,  # type: ignore[attr-defined]
    ("builtins", "object"): object,
    ("builtins", "bool"): bool,
    ("builtins", "int"): int,
    ("builtins", "float"): float,
    ("builtins", "complex"): complex,
    ("builtins", "str"): str,
    ("builtins", "bytes"): bytes,
    ("builtins", "bytearray"): bytearray,
    ("builtins", "list"): list,
    ("builtins", "tuple"): tuple,
    ("builtins", "dict"): dict,
    ("builtins", "set"): set,
    ("builtins", "frozenset"): frozenset,
    ("__builtin__", "object"): object,
    ("__builtin__", "bool"): bool,
    ("__builtin__", "int"): int,
    ("__builtin__", "long"): int,
    ("__builtin__", "float"): float,
    ("__builtin__", "unicode"): str,
    ("__builtin__", "str"): str,
    ("__builtin__", "bytes"): bytes,  # protocol 2 spells b"" this way
    ("__builtin__", "bytearray"): bytearray,
    ("__builtin__", "complex"): complex,
    ("__builtin__", "list"): list,
    ("__builtin__", "tuple"): tuple,
    ("__builtin__", "dict"): dict,
    ("__builtin__", "set"): set,
    ("__builtin__", "frozenset"): frozenset,
    ("collections", "defaultdict"): collections.defaultdict,
    ("collections", "OrderedDict"): collections.OrderedDict,
    ("array", "array"): array.array,
    ("array", "_array_reconstructor"): getattr(array, "_array_reconstructor", array.array),
    ("copyreg", "_reconstructor"): copyreg._reconstructor,  # type: ignore[attr-defined]
    ("copy_reg", "_reconstructor"): copyreg._reconstructor,  # type: ignore[attr-defined]
    ("_codecs", "encode"): codecs.encode,  # protocol 2 spells bytes this way
}
"""Builtins an index file may name, by ``(module, name)`` as the pickle spells them."""


class RestrictedUnpickler(pickle.Unpickler):
    """An unpickler that admits only :data:`ALLOWED_GLOBALS` and the classes of
    :data:`ALLOWED_PREFIXES`; anything else raises ``IndexCorruptError``."""

    def find_class(self, module: str, name: str) -> Any:
        """Resolve a global named by the pickle, or refuse it."""
        allowed = ALLOWED_GLOBALS.get((module, name))
        if allowed is not None:
            return allowed
        if "." not in name and _allowed_module(module) and (module, name) not in DENIED_CLASSES:
            obj = getattr(importlib.import_module(module), name, None)
            if isinstance(obj, type) and _allowed_module(obj.__module__):
                return obj
        if "." not in name and module.startswith(_STEMMER_MODULES):
            # Stock Whoosh analyzers pickle their stemming function (pure code
            # over a word, from Whoosh's language modules).
            obj = getattr(importlib.import_module(module), name, None)
            if isinstance(obj, types.FunctionType) and obj.__module__ == module:
                return obj
        raise IndexCorruptError(
            f"refusing to load {module}.{name} from an index file "
            "(only Whoosh and searchlib classes are allowed; "
            "an index folder must come from a trusted source)"
        )

    def persistent_load(self, pid: Any) -> Any:
        """Index files hold no persistent ids."""
        raise IndexCorruptError("refusing a persistent id in an index file")


_STEMMER_MODULES = ("whoosh.lang.",)


def _allowed_module(module: str) -> bool:
    return any(module == p.rstrip(".") or module.startswith(p) for p in ALLOWED_PREFIXES)


def restricted_loads(data: bytes, **_: Any) -> Any:
    """``pickle.loads`` through :class:`RestrictedUnpickler`."""
    return RestrictedUnpickler(io.BytesIO(data)).load()


def restricted_load(file: IO[bytes], **_: Any) -> Any:
    """``pickle.load`` through :class:`RestrictedUnpickler`."""
    return RestrictedUnpickler(file).load()


def check_toc(folder: str | Path, indexname: str) -> None:
    """Read the newest TOC of the index in ``folder`` through the restricted
    unpickler, closing the file whatever happens (Whoosh's own reader leaves it
    open when it raises).

    Raises:
        IndexCorruptError: the TOC names a refused object or is malformed.
        whoosh.index.EmptyIndexError: there is no TOC.
        FileNotFoundError: a writer just replaced the TOC (try again).
    """
    pattern = re.compile(rf"^_{re.escape(indexname)}_([0-9]+)\.toc$")
    generations = [int(m.group(1)) for n in os.listdir(folder) if (m := pattern.match(n))]
    if not generations:
        raise whoosh.index.EmptyIndexError(f"no TOC file in {folder}")
    path = Path(folder) / f"_{indexname}_{max(generations)}.toc"
    with path.open("rb") as raw:
        stream = StructFile(raw)
        try:
            for _ in range(3):  # sizes of int, long and float
                stream.read_varint()
            if stream.read_int() != -12345:
                raise IndexCorruptError(f"{path}: not a Whoosh TOC (byte order mark)")
            version = stream.read_int()
            if version != whoosh.index._CURRENT_TOC_VERSION:
                raise IndexCorruptError(f"{path}: unsupported Whoosh TOC version {version}")
            for _ in range(3):  # Whoosh release
                stream.read_varint()
            restricted_loads(stream.read_string())  # the schema
            stream.read_int()  # generation
            stream.read_int()  # unused
            restricted_load(raw)  # the segments
        except SearchlibError:
            raise
        except Exception as e:  # truncated or garbled
            raise IndexCorruptError(f"{path}: unreadable TOC ({type(e).__name__}: {e})") from e


_installed = False


def install() -> None:
    """Route every unpickling in Whoosh's index readers through the restricted
    unpickler (idempotent; done on import of :mod:`searchlib.index`)."""
    global _installed
    if _installed:
        return
    shim = types.ModuleType("pickle", "pickle for whoosh.index, loads restricted")
    shim.__dict__.update(pickle.__dict__)
    shim.__dict__.update(loads=restricted_loads, load=restricted_load)
    whoosh.index.pickle = shim  # the TOC: schema and segments
    whoosh.index.toc_loaders = {}  # the pre-2.0 TOC loader unpickles without limits
    whoosh.filedb.structfile.load_pickle = restricted_load  # read_pickle()
    for module in (whoosh.codec.whoosh3, whoosh.columns, whoosh.formats, whoosh.compat):
        module.loads = restricted_loads  # posting blocks, stored fields, positions
    whoosh.compat.load = restricted_load
    _installed = True
