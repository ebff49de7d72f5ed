"""Exceptions raised by searchlib.

Every error the library raises on purpose is a :class:`SearchlibError`; where a
builtin fits, the error is also that builtin (``IndexNotFoundError`` is a
``FileNotFoundError``, ``QuerySyntaxError`` a ``ValueError``), so callers can
catch either.
"""

from __future__ import annotations

from pathlib import Path


class SearchlibError(Exception):
    """Base class of every error raised by searchlib."""


class IndexNotFoundError(SearchlibError, FileNotFoundError):
    """No searchlib index exists at the given path."""

    def __init__(self, path: str | Path, reason: str = "no searchlib index") -> None:
        self.path = str(path)
        super().__init__(f"{reason} at {self.path}")

    def __str__(self) -> str:
        return str(self.args[0])


class IndexExistsError(SearchlibError, FileExistsError):
    """An index already exists where a new one was to be created."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        super().__init__(
            f"an index already exists at {self.path} (pass overwrite=True to replace it)"
        )

    def __str__(self) -> str:
        return str(self.args[0])


class IndexVersionError(SearchlibError):
    """The index was written by an incompatible analyzer or format version."""


class IndexLockedError(SearchlibError):
    """Another writer holds the index lock (past the caller's timeout)."""


class IndexCorruptError(SearchlibError):
    """The index files cannot be read, or hold objects searchlib refuses to load."""


class IndexingError(SearchlibError):
    """A helper process of a multi-process :meth:`Index.add <searchlib.index.Index.add>` failed."""


class DocumentError(SearchlibError, ValueError):
    """A document given to :meth:`Index.add <searchlib.index.Index.add>` cannot be indexed."""


class SearchTimeoutError(SearchlibError, TimeoutError):
    """A search ran past its ``time_limit`` (see :meth:`searchlib.index.Index.search`)."""


class QuerySyntaxError(SearchlibError, ValueError):
    """An explicitly malformed operator query.

    Attributes:
        query: the query text.
        position: 0-based character offset of the problem in ``query``.
    """

    def __init__(self, message: str, query: str, position: int) -> None:
        self.query = query
        self.position = position
        self.message = message
        super().__init__(f"{message} at position {position}")

    def caret(self) -> str:
        """The query with a ``^`` under the faulty position, on two lines."""
        return f"{self.query}\n{' ' * self.position}^"


class CorpusFormatError(SearchlibError, ValueError):
    """A corpus file is malformed.

    Attributes:
        path: the file.
        line: 1-based line number, or ``None`` when not line-based.
        offset: byte offset in the file (for encoding errors), or ``None``.
    """

    def __init__(
        self,
        path: str | Path,
        message: str,
        *,
        line: int | None = None,
        offset: int | None = None,
    ) -> None:
        self.path = str(path)
        self.line = line
        self.offset = offset
        self.message = message
        where = self.path
        if line is not None:
            where += f":{line}"
        if offset is not None:
            where += f" (byte {offset})"
        super().__init__(f"{where}: {message}")


class SearchlibWarning(UserWarning):
    """Base class of the warnings searchlib issues (the library never prints)."""


class CorpusWarning(SearchlibWarning):
    """A corpus problem that was worked around: a file or record skipped, bad
    bytes replaced, a duplicate id (the last document wins).

    Attributes:
        problem: the :class:`~searchlib.corpus.loaders.Problem` reported.
    """

    def __init__(self, problem: object) -> None:
        self.problem = problem
        super().__init__(str(problem))
