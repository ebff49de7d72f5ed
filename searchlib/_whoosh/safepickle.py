"""Unpickling index files without running code from them.

Whoosh keeps the schema and the segment list (the ``.toc`` file), stored
fields, posting blocks and positions as pickles, and a pickle can call any
function it names. searchlib reads them with two unpicklers of its own, used
only by searchlib's storage objects (:mod:`searchlib._whoosh.storage`):
nothing in Whoosh's modules is replaced, so another library in the same
process that uses Whoosh gets stock Whoosh.

* :func:`restricted_loads` / :func:`restricted_load`, for data (posting
  blocks, stored fields, positions, file headers, the posting pool's runs):
  plain values only. No class at all may be named, only the builtins that
  plain data needs (:data:`DATA_GLOBALS`).
* :func:`load_objects`, for the table of contents: plain data plus an
  explicit allow-list of data classes, each with the exact attribute names
  its state may hold (and, for the objects that name files, their values
  checked too). An allowed class is built without calling it: a pickle may
  create one only the way ``pickle`` stores plain objects (``__new__``, then
  its state), never by a call (``REDUCE``), so no constructor, method or
  ``__reduce__`` hook of any class runs while an index is read.

Anything else raises :class:`~searchlib.errors.IndexCorruptError` before the
named module is even imported.

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
import io
import pickle
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import IO, Any, ClassVar

from searchlib.errors import IndexCorruptError

DATA_GLOBALS: dict[tuple[str, str], object] = {
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
"""The globals plain data may name, by ``(module, name)`` as pickles spell them.

Each builds a value of a builtin type from plain values and runs nothing else
(``copyreg._reconstructor`` is admitted for builtin types only)."""

_DATA_TYPES: frozenset[type] = frozenset(
    v for v in DATA_GLOBALS.values() if isinstance(v, type) and v is not object
)


def _refuse(module: str, name: str, what: str = "only plain data is allowed") -> IndexCorruptError:
    return IndexCorruptError(
        f"refusing to load {module}.{name} from an index file "
        f"({what}; an index folder must come from a trusted source)"
    )


class _DataUnpickler(pickle.Unpickler):
    """Admits :data:`DATA_GLOBALS` only."""

    def find_class(self, module: str, name: str) -> Any:
        found = DATA_GLOBALS.get((module, name))
        if found is None:
            raise _refuse(module, name)
        if found is copyreg._reconstructor:  # type: ignore[attr-defined]
            return _data_reconstructor
        return found

    def persistent_load(self, pid: Any) -> Any:
        raise IndexCorruptError("refusing a persistent id in an index file")


def _data_reconstructor(cls: Any, base: Any, state: Any) -> Any:
    """``copyreg._reconstructor`` for builtin types only."""
    if cls not in _DATA_TYPES or (base is not object and base not in _DATA_TYPES):
        raise IndexCorruptError("refusing to rebuild a non-data object from an index file")
    return copyreg._reconstructor(cls, base, state)  # type: ignore[attr-defined]


def restricted_loads(data: bytes) -> Any:
    """``pickle.loads`` for plain data (no class may be named).

    The bytes are handed to the unpickler through a buffered reader: it then
    reads them in bulk (it peeks ahead), not with a Python call per opcode as
    from a bare ``BytesIO``.
    """
    stream = io.BufferedReader(io.BytesIO(data), len(data) or 1)  # all of it at once
    return _DataUnpickler(stream).load()


def restricted_load(file: IO[bytes]) -> Any:
    """``pickle.load`` for plain data (no class may be named)."""
    return _DataUnpickler(file).load()


# -- objects: the table of contents ----------------------------------------------


@dataclass(frozen=True)
class Allowed:
    """A class an index file may hold, and what its state may be.

    Attributes:
        cls: the class built (it may be a subclass of the class the file names,
            as searchlib's storage reads Whoosh's segments with its own).
        attributes: the names its state may hold (a subset of them).
        check: called with the state once it is read, before it is applied;
            raises ``IndexCorruptError`` for a value that is not as expected.
        setstate: apply the state with the class's own ``__setstate__``
            (only for classes whose ``__setstate__`` was read and does nothing
            but store values); otherwise the state is stored as is.
    """

    cls: type
    attributes: frozenset[str]
    check: Callable[[dict[str, Any]], None] | None = None
    setstate: bool = False


class _ObjectUnpickler(pickle._Unpickler):
    """Plain data plus the classes of an allow-list, built without calls."""

    dispatch: ClassVar[dict[int, Any]] = dict(pickle._Unpickler.dispatch)

    stack: list[Any]

    def __init__(self, file: IO[bytes], allowed: Mapping[tuple[str, str], Allowed]) -> None:
        super().__init__(file)
        self._allowed = allowed
        self._by_class = {a.cls: a for a in allowed.values()}

    def find_class(self, module: str, name: str) -> Any:
        found = DATA_GLOBALS.get((module, name))
        if found is not None:
            return _data_reconstructor if found is copyreg._reconstructor else found  # type: ignore[attr-defined]
        allowed = self._allowed.get((module, name))
        if allowed is None:
            raise _refuse(module, name, "not a class an index holds")
        return allowed.cls

    def persistent_load(self, pid: Any) -> Any:
        raise IndexCorruptError("refusing a persistent id in an index file")

    def _callable(self, func: Any) -> None:
        if func in self._by_class:
            raise IndexCorruptError(
                f"refusing to call {func.__module__}.{func.__qualname__} from an index file "
                "(objects are rebuilt from their state, never constructed by a call)"
            )

    def load_reduce(self) -> None:
        func = self.stack[-2]
        self._callable(func)
        pickle._Unpickler.load_reduce(self)  # type: ignore[attr-defined]

    dispatch[pickle.REDUCE[0]] = load_reduce

    def load_newobj(self) -> None:
        args = self.stack[-1]
        cls = self.stack[-2]
        if cls in self._by_class:
            if args:
                raise IndexCorruptError("refusing arguments to a class in an index file")
            self.stack.pop()
            self.stack[-1] = object.__new__(cls)
            return
        if cls not in _DATA_TYPES:
            raise IndexCorruptError("refusing to build a non-data object from an index file")
        pickle._Unpickler.load_newobj(self)  # type: ignore[attr-defined]

    dispatch[pickle.NEWOBJ[0]] = load_newobj

    def _refused(self) -> None:
        raise IndexCorruptError("refusing an object opcode this format never writes")

    dispatch[pickle.NEWOBJ_EX[0]] = _refused
    dispatch[pickle.INST[0]] = _refused
    dispatch[pickle.OBJ[0]] = _refused

    def load_build(self) -> None:
        state = self.stack.pop()
        inst = self.stack[-1]
        allowed = self._by_class.get(type(inst))
        if allowed is None:
            raise IndexCorruptError(f"refusing state for a {type(inst).__name__} in an index file")
        if isinstance(state, tuple) and len(state) == 2 and state[1] is None:
            state = state[0]
        if not isinstance(state, dict):
            raise IndexCorruptError(f"{allowed.cls.__name__}: state is not a mapping")
        unexpected = [k for k in state if not isinstance(k, str) or k not in allowed.attributes]
        if unexpected:
            raise IndexCorruptError(
                f"{allowed.cls.__name__}: unexpected state {sorted(map(repr, unexpected))}"
            )
        if allowed.check is not None:
            allowed.check(state)
        if allowed.setstate:
            inst.__setstate__(state)
        else:
            inst.__dict__.update(state)

    dispatch[pickle.BUILD[0]] = load_build


def load_objects(data: bytes | IO[bytes], allowed: Mapping[tuple[str, str], Allowed]) -> Any:
    """Unpickle plain data and the classes of ``allowed`` (see :class:`Allowed`).

    Raises:
        IndexCorruptError: the pickle names anything else, calls an allowed
            class, gives it unexpected state, or is malformed.
    """
    stream = io.BytesIO(data) if isinstance(data, bytes | bytearray) else data
    try:
        return _ObjectUnpickler(stream, allowed).load()
    except IndexCorruptError:
        raise
    except Exception as e:  # truncated or garbled
        raise IndexCorruptError(f"unreadable pickle ({type(e).__name__}: {e})") from e
