"""What every request shares: the index, its name, the write token, the limits.

One :class:`Service` per server: one ``Index`` (or cluster index) for all
requests, searches of a local index run one after another in a thread of
their own, the other work in a bounded pool of threads (a search blocks),
and errors answered in the command line's words (``{"error": ..., "status":
...}``) with no path of the server's files and no traceback.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import anyio
import anyio.to_thread
from starlette.requests import Request

from searchlib.app.cli import error_message
from searchlib.engine.backend import Backend
from searchlib.engine.request import INDEX_DEFAULT, IndexDefault, SearchRequest
from searchlib.errors import (
    IndexCorruptError,
    IndexingError,
    IndexLockedError,
    IndexVersionError,
    QuerySyntaxError,
    SearchlibError,
    SearchTimeoutError,
)
from searchlib.index import Index
from searchlib.opensearch import BulkError, ClusterError
from searchlib.results import SearchResults
from searchlib.serve.params import BadRequest

MAX_BODY = 10 * 1024 * 1024
"""Largest request body (documents to add), in bytes."""
CLUSTER_SECONDS = 10.0
"""Time limit of a search on a cluster index (a local index has its own, 10 s by default)."""
THREADS = 8
"""Requests that run on the index at once (a local index runs one search at a
time anyway; a cluster answers several)."""

log = logging.getLogger("searchlib.serve")

T = TypeVar("T")


class Service:
    """What the requests share: the index, its name, the write token, the limits.

    Args:
        index: the index to serve (a folder's or a cluster's).
        label: how the command line names it (a folder, a URL): only its last
            part is ever shown.
        write_token: the token that allows adding and deleting documents
            (``None``: read-only).
        time_limit: seconds a search may take (``None``: the index's own
            limit, :data:`CLUSTER_SECONDS` on a cluster).
        threads: requests that run on the index at once.
        max_body: largest request body, in bytes.
    """

    def __init__(
        self,
        index: Backend,
        *,
        label: str | None = None,
        write_token: str | None = None,
        time_limit: float | None = None,
        threads: int = THREADS,
        max_body: int = MAX_BODY,
    ) -> None:
        self.index = index
        where = label or str(index.path or "memory")
        self.name = where.rstrip("/").rsplit("/", 1)[-1] or where
        self._token = write_token.encode("utf-8") if write_token else None
        self.time_limit: float | IndexDefault | None = time_limit
        if time_limit is None:
            self.time_limit = INDEX_DEFAULT if isinstance(index, Index) else CLUSTER_SECONDS
        self.limiter = anyio.CapacityLimiter(threads)
        # A local index runs one search at a time (under its lock, which is not
        # fair): its searches queue for a thread of their own instead, first
        # come, first served, each started as soon as the last one ends (not
        # once the event loop gets round to handing it over). A cluster's
        # searches run side by side, in the pool.
        self.searches: ThreadPoolExecutor | None = None
        if isinstance(index, Index):
            self.searches = ThreadPoolExecutor(1, thread_name_prefix="searchlib-search")
        self.max_body = max_body
        self._writing = threading.Lock()  # one write at a time (taken in the pool's thread)
        # What an error message must not show: where the index lives.
        hidden = {where, str(index.path or "")}
        for text in list(hidden):
            with contextlib.suppress(OSError, ValueError):
                hidden.add(os.path.realpath(text))
        self._hidden = sorted((h for h in hidden if len(h) > 1), key=len, reverse=True)

    @property
    def writable(self) -> bool:
        """Whether a write token was given."""
        return self._token is not None

    async def call(self, work: Callable[[], T]) -> T:
        """``work()`` in a thread of the pool (the event loop goes on meanwhile)."""
        return await anyio.to_thread.run_sync(work, limiter=self.limiter)

    async def write(self, work: Callable[[], T]) -> T:
        """``work()`` in a thread of the pool, alone among writes."""

        def alone() -> T:
            with self._writing:
                return work()

        return await self.call(alone)

    async def search(self, request: SearchRequest) -> SearchResults:
        """The results of ``request`` (searches of a local index in turn, in the
        order they came; the wait for its turn counts against its time limit,
        and one given up while it waits, its client gone, never runs)."""
        if self.searches is None:  # a cluster: no turn to wait for
            return await anyio.to_thread.run_sync(self.index.run, request, limiter=self.limiter)
        started = time.monotonic()
        seconds = request.seconds(getattr(self.index, "time_limit", None))

        def run() -> SearchResults:
            if seconds is None:
                return self.index.run(request)
            left = seconds - (time.monotonic() - started)
            if left <= 0:
                raise SearchTimeoutError(
                    f"the search waited longer than its time limit ({seconds:g} s) for "
                    "other searches to finish: try again"
                )
            return self.index.run(request.replace(time_limit=left))

        return await asyncio.get_running_loop().run_in_executor(self.searches, run)

    def check_token(self, request: Request) -> None:
        """Let a write request through only with the server's token.

        Raises:
            BadRequest: 403 on a read-only server, 401 without the right token.
        """
        if self._token is None:
            raise BadRequest(
                "this server is read-only: start it with --write-token TOKEN (or "
                "SEARCHLIB_WRITE_TOKEN) to add or delete documents",
                403,
            )
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(
            given.strip().encode("utf-8", "replace"), self._token
        ):
            raise BadRequest("a write needs the header 'Authorization: Bearer TOKEN'", 401)

    def failure(self, e: BaseException) -> tuple[int, dict[str, Any]]:
        """The status and JSON body of an error: the command line's one line,
        with no path of the server's and no traceback."""
        if isinstance(e, BadRequest):
            return e.status, {"error": self.hide(e.message), "status": e.status}
        status = _status(e)
        if isinstance(e, OSError) and not isinstance(e, SearchlibError):
            why = (e.strerror or type(e).__name__).lower()
            message = f"the index cannot be read: {why}"
        elif isinstance(e, SearchlibError | ValueError):
            message = error_message(e)
        else:
            log.error("internal error", exc_info=e)
            message = "internal error (the server's log says more)"
        body: dict[str, Any] = {"error": self.hide(message), "status": status}
        if isinstance(e, QuerySyntaxError):
            body["position"] = e.position
        return status, body

    def hide(self, message: str) -> str:
        """``message`` with the index's location replaced by its name."""
        for text in self._hidden:
            message = message.replace(text, self.name)
        return message


def _status(e: BaseException) -> int:
    if isinstance(e, SearchTimeoutError):
        return 503
    if isinstance(e, IndexLockedError):
        return 409
    if isinstance(e, BulkError):
        return 400  # the cluster refused some documents (each with its reason)
    if isinstance(e, ClusterError):
        return 502
    if isinstance(e, IndexCorruptError | IndexVersionError | IndexingError):
        return 500
    if isinstance(e, SearchlibError | ValueError):
        return 400
    return 500


__all__ = ["CLUSTER_SECONDS", "MAX_BODY", "THREADS", "Service"]
