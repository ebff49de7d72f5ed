"""A faster ``__init__`` for the frozen dataclasses every search makes.

A frozen dataclass's generated ``__init__`` sets each field with
``object.__setattr__(self, name, value)`` (the class's own ``__setattr__``
refuses), a call that finds the attribute by its name again for every field.
A search makes a few dozen such objects (its request, the query's words, the
trace's stages, ten hits, the results). :func:`quick_init` gives such a class
an ``__init__`` with the same parameters, defaults, default factories and
``__post_init__`` that sets each slot through its descriptor (or, without
slots, writes the instance's ``__dict__``): what ``object.__setattr__`` ends
up doing, without the lookups. Everything else the dataclass made (equality,
hash, ``repr``, pickling, :func:`dataclasses.replace`) is left as it is.
"""

from __future__ import annotations

import dataclasses
import keyword
import types
from typing import Any, TypeVar

T = TypeVar("T")


class _Factory:
    """Marks a parameter left out whose default comes from a factory."""

    def __repr__(self) -> str:
        return "<factory>"


_FACTORY = _Factory()


def quick_init(cls: type[T]) -> type[T]:
    """``cls``, a frozen dataclass whose every field is an ``__init__``
    parameter (positional or keyword), with the ``__init__`` described above.

    Raises:
        TypeError: ``cls`` is not such a class (not frozen, a field left out
            of ``__init__`` or keyword-only, an ``InitVar``).
    """
    params = getattr(cls, "__dataclass_params__", None)
    if params is None or not params.frozen or not params.init:
        raise TypeError(f"quick_init: {cls.__name__} is not a frozen dataclass with an __init__")
    fields = dataclasses.fields(cls)  # type: ignore[arg-type]
    generated = cls.__init__
    code = generated.__code__
    if list(code.co_varnames[1 : code.co_argcount + code.co_kwonlyargcount]) != [
        f.name for f in fields
    ]:
        raise TypeError(
            f"quick_init: {cls.__name__}'s __init__ takes other parameters than its fields"
        )
    namespace: dict[str, Any] = {"_FACTORY": _FACTORY}
    parameters: list[str] = []
    body: list[str] = []
    for f in fields:
        if not f.name.isidentifier() or keyword.iskeyword(f.name):  # (the source is made of them)
            raise TypeError(f"quick_init: {cls.__name__} has a field named {f.name!r}")
        if not f.init or f.kw_only:
            raise TypeError(f"quick_init: {cls.__name__}.{f.name} is not a positional parameter")
        value = f.name
        if f.default is not dataclasses.MISSING:
            namespace[f"default_{f.name}"] = f.default
            parameters.append(f"{f.name}=default_{f.name}")
        elif f.default_factory is not dataclasses.MISSING:
            namespace[f"factory_{f.name}"] = f.default_factory
            parameters.append(f"{f.name}=_FACTORY")
            value = f"factory_{f.name}() if {f.name} is _FACTORY else {f.name}"
        else:
            parameters.append(f.name)
        slot = _slot(cls, f.name)
        if slot is not None:
            namespace[f"set_{f.name}"] = slot.__set__
            body.append(f"set_{f.name}(self, {value})")
        else:  # an instance attribute
            if not body or body[0] != "d = self.__dict__":
                body.insert(0, "d = self.__dict__")
            body.append(f"d[{f.name!r}] = {value}")
    if hasattr(cls, "__post_init__"):
        body.append("self.__post_init__()")
    source = f"def __init__(self, {', '.join(parameters)}):\n    " + "\n    ".join(body or ["pass"])
    exec(source, namespace)
    init = namespace["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__module__ = cls.__module__
    init.__annotations__ = dict(generated.__annotations__)
    init.__doc__ = generated.__doc__
    cls.__init__ = init  # type: ignore[method-assign]
    return cls


def _slot(cls: type, name: str) -> types.MemberDescriptorType | None:
    """The descriptor of slot ``name`` of ``cls`` (``None``: no such slot)."""
    for base in cls.__mro__:
        if name in base.__dict__:
            found = base.__dict__[name]
            return found if isinstance(found, types.MemberDescriptorType) else None
    return None
