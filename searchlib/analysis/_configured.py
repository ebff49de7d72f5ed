"""Configuration of the analysis classes: compared, printed and pickled by value.

The classes of the chain are pickled into every index's schema. An object in
its default configuration pickles as a bare class reference (as before these
classes had parameters), and anything it does not say comes from class
attributes: an analyzer unpickled from an older index gets the defaults of
parameters added since. Caches and other runtime state are never pickled.
"""

from __future__ import annotations

from typing import Any, ClassVar


class Configured:
    """A value defined by the fields named in ``_fields``, whose defaults are
    class attributes of the same name.

    Example:
        >>> class Elision(Configured):
        ...     _fields = ("articles",)
        ...     articles: frozenset[str] = frozenset({"l", "d"})
        >>> Elision(), Elision() == Elision()
        (Elision(), True)
    """

    _fields: ClassVar[tuple[str, ...]] = ()

    def config(self) -> dict[str, Any]:
        """Every field and its value."""
        return {name: getattr(self, name) for name in self._fields}

    def changed(self) -> dict[str, Any]:
        """The fields whose value is not the class default."""
        cls = type(self)
        return {k: v for k, v in self.config().items() if v != getattr(cls, k)}

    def __getstate__(self) -> dict[str, Any] | None:
        # None pickles no state at all: a default object reads back as a bare
        # class reference, exactly as the classes without parameters did.
        return self.changed() or None

    def __setstate__(self, state: dict[str, Any] | None) -> None:
        for name, value in (state or {}).items():
            if name in self._fields:  # fields a later version dropped are ignored
                setattr(self, name, value)

    def __eq__(self, other: object) -> bool:
        return (
            type(other) is type(self)
            and isinstance(other, Configured)
            and (other.config() == self.config())
        )

    def __hash__(self) -> int:
        return hash((type(self), tuple(self.config().values())))

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.changed().items())
        return f"{type(self).__name__}({args})"
