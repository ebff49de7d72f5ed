"""One bounded cache for every memo in searchlib.

A cache belongs to the object whose lifetime it shares (an analyzer, a
searcher's state), never to a module. Two ways to stay bounded:

* ``evict="lru"``: past ``maxsize`` the least recently used entry goes (for
  caches whose entries cost a lot to rebuild: decoded postings, stored fields);
* ``evict="clear"``: past ``maxsize`` the whole cache starts over (for hot
  caches of cheap entries, such as the analyzer's word cache: a hit is then a
  plain ``dict`` lookup, with no bookkeeping).

Both are safe to share between threads: a lookup never sees a half-made
entry, and two threads computing the same missing entry at once both get a
correct value (the later one is kept).

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
        maxsize: most entries kept (at least 1).
        evict: ``"lru"`` drops the least recently used entry when full;
            ``"clear"`` empties the cache when full.
    """

    __slots__ = ("_data", "_lock", "evict", "maxsize")

    def __init__(self, maxsize: int, *, evict: Eviction = "lru") -> None:
        if maxsize < 1:
            raise ValueError(f"maxsize must be at least 1, not {maxsize}")
        if evict not in ("lru", "clear"):
            raise ValueError(f"evict must be 'lru' or 'clear', not {evict!r}")
        self.maxsize = maxsize
        self.evict: Eviction = evict
        self._data: OrderedDict[K, V] | dict[K, V] = OrderedDict() if evict == "lru" else {}
        self._lock = threading.Lock()

    def get(self, key: K) -> V | None:
        """The cached value, or ``None``."""
        data = self._data
        if isinstance(data, OrderedDict):
            with self._lock:
                found = data.get(key)
                if found is not None:
                    data.move_to_end(key)
                return found
        return data.get(key)

    def put(self, key: K, value: V) -> V:
        """Keep ``value`` under ``key`` (evicting as needed); returns ``value``."""
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

    def __contains__(self, key: object) -> bool:
        return key in self._data

    def __len__(self) -> int:
        return len(self._data)

    def __repr__(self) -> str:
        return f"BoundedCache({len(self)}/{self.maxsize}, evict={self.evict!r})"
