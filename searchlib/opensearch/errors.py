"""Errors of the OpenSearch backend: every one a :class:`~searchlib.errors.SearchlibError`.

A cluster's answers become errors that name what failed (the cluster, the
index, the request) in searchlib's words; the client's own exception is kept
as ``__cause__``. A URL shown anywhere (a message, ``repr``, ``path``) goes
through :func:`redact` first: the credentials of
``https://user:password@host:9200`` stay inside the client that connects.

Example:
    >>> redact("https://loader:s3cret@search.example.org:9200/cdtn")
    'https://search.example.org:9200/cdtn'
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from searchlib.errors import SearchlibError, SearchlibWarning

_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)\S*@")
"""A URL's scheme and its user part, up to the last ``@`` before a space (a
password with a raw ``@``, ``/`` or ``#`` is cut whole, never half shown)."""


def redact(text: str) -> str:
    """``text`` (a URL, or a message holding URLs) without the user part of
    any URL in it: ``scheme://user:password@host`` becomes ``scheme://host``.

    >>> redact("cannot reach http://u:p@127.0.0.1:9200 (refused)")
    'cannot reach http://127.0.0.1:9200 (refused)'
    """
    return _USERINFO.sub(r"\1", text)


class UnsupportedQueryError(SearchlibError, ValueError):
    """A query, or a part of one, that OpenSearch cannot run as searchlib would.

    Raised instead of sending a different query. ``feature`` names the part
    (``"prefix"``, ``"fuzzy"``, ``"filter"``...), for callers that want to fall
    back on something else.
    """

    def __init__(self, feature: str, message: str) -> None:
        self.feature = feature
        super().__init__(message)


class ClusterConfigError(SearchlibError, ValueError):
    """A cluster URL or connection setting that cannot be used (a URL without
    an index name, a ``SEARCHLIB_OPENSEARCH_INSECURE`` that is not yes or no)."""


class InsecureConnectionWarning(SearchlibWarning):
    """A connection to a cluster whose TLS certificate is not checked."""


class ClusterError(SearchlibError):
    """The cluster refused a request or answered something unexpected."""


class ClusterUnavailableError(ClusterError, ConnectionError):
    """The cluster cannot be reached (refused connection, timeout, TLS failure)."""


class ClusterAuthError(ClusterError, PermissionError):
    """The cluster refused the credentials (401) or the permission (403)."""


class MappingConflictError(ClusterError):
    """The index exists with settings or mappings searchlib did not write, or
    with another analyzer version than this searchlib's."""


@dataclass(frozen=True, slots=True)
class RefusedDocument:
    """A document the cluster did not take.

    Attributes:
        doc_id: the document's id.
        passage_id: the first of its passages that was refused.
        status: the HTTP status of that passage's bulk item.
        reason: the cluster's reason (type and message).
    """

    doc_id: str
    passage_id: str
    status: int
    reason: str


class BulkError(ClusterError):
    """Some documents of a bulk load were refused; the others were indexed.

    A refused document is left out whole: those of its passages the cluster
    did take are deleted again, so no document is half-indexed.

    Attributes:
        refused: the refused documents, in the order they were given.
        indexed: how many documents were indexed.
    """

    def __init__(self, index: str, refused: Sequence[RefusedDocument], indexed: int) -> None:
        self.index = index
        self.refused = tuple(refused)
        self.indexed = indexed
        first = self.refused[0] if self.refused else None
        example = f"; first: {first.doc_id!r} ({first.status}: {first.reason})" if first else ""
        super().__init__(
            f"OpenSearch index {index!r}: {len(self.refused)} document(s) refused, "
            f"{indexed} indexed{example}"
        )
