"""One bounded cache for every memo in searchlib.

A cache belongs to the object whose lifetime it shares (an analyzer, a
searcher's state), never to a module. Two ways to stay bounded:

* ``evict="lru"``: past ``maxsize`` the least recently used entry goes (for
  caches whose entries cost a lot to rebuild: decoded postings, stored fields);
* ``evict="clear"``: past ``maxsize`` the whole cache starts over (for hot
  caches of cheap entries, such as the analyzer's word cache: a hit is then a
  plain ``dict`` lookup, with no bookkeeping).

With ``cost``, ``maxsize`` bounds the sum of the entries' costs instead of
their number (for caches of arrays of very different sizes, such as posting
lists: the cost of an entry is its length). The entry just put is kept even
when it alone costs more than ``maxsize``.

Both are safe to share between threads: a lookup never sees a half-made
entry, and two threads computing the same missing entry at once both get a
correct value (the later one is kept). Writes hold a lock; a lookup takes
none: it is a single ``dict`` (or ``OrderedDict``) call, atomic under the GIL
for keys made of builtin values (strings, numbers, bytes, tuples of them),
which are the only keys searchlib uses.

Example:
    >>> cache: BoundedCache[str, int] = BoundedCache(2)
    >>> cache.get_or_compute("a", len), cache.get_or_compute("bb", len)
    (1, 2)
    >>> cache.get_or_compute("ccc", len)
    3
    >>> "a" in cache, len(cache)
    (False, 2)
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, Literal, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

Eviction = Literal["lru", "clear"]


class BoundedCache(Generic[K, V]):
    """A mapping of at most ``maxsize`` entries.

    Args:
        maxsize: most entries kept (at least 1); with ``cost``, the most
            total cost kept.
        evict: ``"lru"`` drops the least recently used entry when full;
            ``"clear"`` empties the cache when full.
        cost: the cost of a value (at least 0); ``maxsize`` then bounds the
            total cost. ``None``: every entry costs 1.
    """

    __slots__ = ("_cost", "_data", "_lock", "_total", "evict", "maxsize")

    def __init__(
        self, maxsize: int, *, evict: Eviction = "lru", cost: Callable[[V], int] | None = None
    ) -> None:
        if maxsize < 1:
            raise ValueError(f"maxsize must be at least 1, not {maxsize}")
        if evict not in ("lru", "clear"):
            raise ValueError(f"evict must be 'lru' or 'clear', not {evict!r}")
        self.maxsize = maxsize
        self.evict: Eviction = evict
        self._data: OrderedDict[K, V] | dict[K, V] = OrderedDict() if evict == "lru" else {}
        self._lock = threading.Lock()
        self._cost = cost
        self._total = 0

    def get(self, key: K) -> V | None:
        """The cached value, or ``None``."""
        data = self._data
        found = data.get(key)
        if found is not None and isinstance(data, OrderedDict):  # (the lru kind's)
            try:  # noqa: SIM105 (contextlib.suppress costs more than the lookup)
                data.move_to_end(key)
            except KeyError:  # dropped by another thread meanwhile: still a valid value
                pass
        return found

    def put(self, key: K, value: V) -> V:
        """Keep ``value`` under ``key`` (evicting as needed); returns ``value``."""
        if self._cost is not None:
            return self._put_costed(key, value, self._cost)
        with self._lock:
            data = self._data
            if key not in data and len(data) >= self.maxsize:
                if isinstance(data, OrderedDict):
                    data.popitem(last=False)
                else:
                    # A new dict, not clear(): readers holding the old one
                    # (through get()) keep a consistent mapping.
                    self._data = data = {}
            data[key] = value
        return value

    def _put_costed(self, key: K, value: V, cost: Callable[[V], int]) -> V:
        weight = cost(value)
        with self._lock:
            data = self._data
            old = data.pop(key, None)
            if old is not None:
                self._total -= cost(old)
            if isinstance(data, OrderedDict):
                data[key] = value
                self._total += weight
                while self._total > self.maxsize and len(data) > 1:
                    _, dropped = data.popitem(last=False)
                    self._total -= cost(dropped)
            else:
                if data and self._total + weight > self.maxsize:
                    self._data = data = {}
                    self._total = 0
                data[key] = value
                self._total += weight
        return value

    def get_or_compute(self, key: K, compute: Callable[[K], V]) -> V:
        """The cached value, or ``compute(key)`` cached and returned."""
        found = self.get(key)
        if found is not None:
            return found
        return self.put(key, compute(key))

    def clear(self) -> None:
        """Forget every entry."""
        with self._lock:
            self._data = OrderedDict() if self.evict == "lru" else {}
            self._total = 0

    def prune(self, keep: Callable[[K], bool]) -> None:
        """Forget the entries whose key ``keep`` refuses."""
        with self._lock:
            data = self._data
            for key in [k for k in data if not keep(k)]:
                value = data.pop(key)
                if self._cost is not None:
                    self._total -= self._cost(value)

    @property
    def total_cost(self) -> int:
        """The sum of the entries' costs (their number, without ``cost``)."""
        return self._total if self._cost is not None else len(self._data)

    def __contains__(self, key: object) -> bool:
        return key in self._data

    def __len__(self) -> int:
        return len(self._data)

    def __repr__(self) -> str:
        return f"BoundedCache({len(self)}/{self.maxsize}, evict={self.evict!r})"
