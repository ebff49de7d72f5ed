"""Time limits on searches.

Whoosh scores every matching posting in Python: a broad query on a large
index (``co*``, hundreds of frequent words) can run for minutes. A search
started through :meth:`Index.search <searchlib.index.Index.search>` carries a
deadline (``time_limit`` seconds, :data:`DEFAULT_TIME_LIMIT` unless the index
or the call says otherwise); the searcher checks it while it walks the
postings and raises :class:`~searchlib.errors.SearchTimeoutError` once it has
passed. The deadline lives in a :class:`~contextvars.ContextVar`, so threads
and tasks each have their own. Waiting counts too: a search waits for a lock
with :func:`holding`, at most until its deadline.

Example:
    >>> with time_limit(5.0):
    ...     remaining() is not None and remaining() <= 5.0
    True
    >>> remaining() is None
    True
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextvars import ContextVar
from typing import Any, Protocol

from whoosh.collectors import WrappingCollector
from whoosh.searching import Searcher

from searchlib.errors import SearchTimeoutError

DEFAULT_TIME_LIMIT = 10.0
"""Seconds a search may take before it raises ``SearchTimeoutError``."""

_CHECK_EVERY = 64  # matches between two looks at the clock

_deadline: ContextVar[tuple[float, float] | None] = ContextVar("searchlib_deadline", default=None)


class time_limit:
    """Give the searches run inside the block ``seconds`` in all (``None``: no limit)."""

    __slots__ = ("_seconds", "_token")

    def __init__(self, seconds: float | None) -> None:
        if seconds is not None and not seconds > 0:
            raise ValueError(f"time_limit must be a positive number of seconds, not {seconds!r}")
        self._seconds = seconds

    def __enter__(self) -> None:
        seconds = self._seconds
        value = None if seconds is None else (time.monotonic() + seconds, seconds)
        self._token = _deadline.set(value)

    def __exit__(self, *exc: object) -> None:
        _deadline.reset(self._token)


def remaining() -> float | None:
    """Seconds left before the current deadline (``None`` when there is none)."""
    value = _deadline.get()
    return None if value is None else value[0] - time.monotonic()


def check() -> None:
    """Raise ``SearchTimeoutError`` if the current deadline has passed."""
    value = _deadline.get()
    if value is not None and time.monotonic() > value[0]:
        raise _timeout(value[1])


class Lock(Protocol):
    """A lock (``threading.Lock`` or ``RLock``): what :func:`holding` waits for."""

    def acquire(self, blocking: bool = ..., timeout: float = ...) -> bool: ...

    def release(self) -> None: ...


class holding:
    """Hold ``lock`` for the block, waiting for it at most until the current
    deadline (for ever when there is none).

    Raises:
        SearchTimeoutError: the deadline passed before the lock was free.

    Example:
        >>> import threading
        >>> lock = threading.Lock()
        >>> with time_limit(5.0), holding(lock):
        ...     lock.locked()
        True
    """

    __slots__ = ("_lock",)

    def __init__(self, lock: Lock) -> None:
        self._lock = lock

    def __enter__(self) -> None:
        lock = self._lock
        value = _deadline.get()
        if value is None:
            lock.acquire()
        elif not lock.acquire(timeout=max(0.0, value[0] - time.monotonic())):
            raise SearchTimeoutError(
                f"the search waited longer than its time limit ({value[1]:g} s) for another "
                "operation on the index to finish: try again, or raise time_limit"
            )

    def __exit__(self, *exc: object) -> None:
        self._lock.release()


def _timeout(seconds: float) -> SearchTimeoutError:
    return SearchTimeoutError(
        f"the search took longer than its time limit ({seconds:g} s): make the query "
        "more specific or shorter, or raise time_limit"
    )


class _DeadlineCollector(WrappingCollector):  # type: ignore[misc]
    """Passes matches to the wrapped collector until the deadline passes."""

    def __init__(self, child: Any, deadline: float, seconds: float) -> None:
        super().__init__(child)
        self.deadline = deadline
        self.seconds = seconds

    def collect_matches(self) -> None:
        child = self.child
        deadline = self.deadline
        for n, sub_docnum in enumerate(child.matches()):
            if n % _CHECK_EVERY == 0 and time.monotonic() > deadline:
                raise _timeout(self.seconds)
            child.collect(sub_docnum)


class LimitedSearcher(Searcher):  # type: ignore[misc]
    """A Whoosh searcher that honours the deadline of :func:`time_limit`.

    Both ways Whoosh walks postings are covered: collecting the top hits
    (:meth:`search_with_collector`) and counting every match
    (:meth:`docs_for_query`, behind ``len(results)``).
    """

    def search_with_collector(self, q: Any, collector: Any, context: Any = None) -> Any:
        """Run ``q`` into ``collector``, stopping at the deadline."""
        value = _deadline.get()
        if value is not None:
            check()
            collector = _DeadlineCollector(collector, *value)
        return super().search_with_collector(q, collector, context)

    def docs_for_query(self, q: Any, for_deletion: bool = False) -> Iterator[int]:
        """The document numbers matching ``q``, stopping at the deadline."""
        value = _deadline.get()
        docs = super().docs_for_query(q, for_deletion)
        if value is None:
            yield from docs
            return
        deadline, seconds = value
        for n, docnum in enumerate(docs):
            if n % (_CHECK_EVERY * 16) == 0 and time.monotonic() > deadline:
                raise _timeout(seconds)
            yield docnum
