"""Indexing one batch of documents with several processes.

:meth:`Index.add(documents, procs=N) <searchlib.index.Index.add>` keeps the
index's write lock and one segment writer in the calling process, and starts
``N - 1`` helper processes (``python -c``, a fresh
interpreter that imports only searchlib: nothing of the caller's program runs
again), each with a
Whoosh segment writer of its own on the same index folder. Documents are
shared out by a hash of their id, so every copy of an id goes to the same
writer, which replaces the earlier copy as :meth:`Index.add` always does;
the caller's process checks every document and deletes the indexed copies
of their ids. The helpers receive pickled lists of documents on their
standard input and, once it closes, write their segment and send its
description back on standard output; both sides read these through the
restricted unpickler of index files (:mod:`searchlib._whoosh.safepickle`). The
helper's command line is fixed (this module's function, the index path and
a number, as Python literals), run without a shell. The caller then commits every new
segment in one table of contents, as Whoosh's own multi-process writer does
with ``multisegment=True``: one commit, all or nothing. If anything fails
before that, the helpers are stopped and nothing is committed; the files
they wrote belong to no commit and Whoosh deletes them at the next one.

Scores do not depend on how documents are split into segments (statistics
are the whole index's), and searches read every segment.
"""

from __future__ import annotations

import contextlib
import json
import pickle
import subprocess
import sys
import tempfile
import zlib
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import IO, Any

from searchlib._whoosh.safepickle import load_objects, restricted_load
from searchlib._whoosh.storage import (
    SafeSegment,
    SegmentBatch,
    Store,
    commit,
    declared_values,
    persisted,
    stock_segment,
)
from searchlib.documents import Document, check_document
from searchlib.errors import IndexCorruptError, IndexingError
from searchlib.fields import FieldType, from_json

BATCH = 64
"""Documents per message to a helper."""


def add(
    store: Store,
    documents: Iterable[Document],
    *,
    passage_chars: int,
    procs: int,
    limitmb: int,
    timeout: float,
    under_lock: Callable[[], None] | None = None,
    fields: Mapping[str, FieldType] | None = None,
) -> int:
    """``Index.add(documents)`` with ``procs`` processes (an index on disk),
    documents cut into passages of at most ``passage_chars``, with the index's
    declared ``fields``; ``under_lock`` as for :func:`searchlib._whoosh.storage.commit`."""
    fields = dict(fields or {})
    if store.folder is None:
        raise ValueError("several processes index an index on disk only")
    path = Path(store.folder)
    share = max(limitmb // procs, 16)
    writer = store.writer(limitmb=share, timeout=timeout)
    helpers: list[_Helper] = []
    results: list[tuple[int, Any]] = []
    try:
        replace = store.doc_count_all() > 0
        local = SegmentBatch(
            writer, replace_existing=replace, passage_chars=passage_chars, fields=fields
        )
        declared = json.dumps({name: kind.to_json() for name, kind in fields.items()})
        helpers = [_Helper(path, share, passage_chars, declared) for _ in range(procs - 1)]
        buffers: list[list[Document]] = [[] for _ in helpers]
        deleted: set[str] = set()  # ids whose indexed copies are deleted already
        for doc in documents:
            k = _route(doc.id, procs)
            if k == 0:
                local.add(doc)
                continue
            check_document(doc)
            if fields:
                declared_values(doc, fields)  # a bad value is refused here, not in a helper
            if replace and doc.id not in deleted:
                writer.delete_by_term("doc_id", doc.id)
                deleted.add(doc.id)
            buffer = buffers[k - 1]
            buffer.append(doc)
            if len(buffer) >= BATCH:
                helpers[k - 1].send(buffer)
                buffers[k - 1] = []
        for helper, buffer in zip(helpers, buffers, strict=True):
            if buffer:
                helper.send(buffer)
            helper.close_input()

        def helpers_segments() -> list[Any]:
            results.extend(helper.result() for helper in helpers)
            return [segment for _, segment in results if segment is not None]

        # This process writes its segment while the helpers write theirs.
        commit(writer, more_segments=helpers_segments, under_lock=under_lock)
    except BaseException:
        for helper in helpers:
            helper.stop()
        if not writer.is_closed:
            writer.cancel()
        raise
    finally:
        for helper in helpers:
            helper.cleanup()
    return local.count + sum(n for n, _ in results)


def _route(doc_id: str, procs: int) -> int:
    """Which writer gets ``doc_id``: the same for every copy, spread evenly."""
    return zlib.crc32(doc_id.encode("utf-8", "surrogatepass")) % procs


class _Helper:
    """One helper process and its pipes."""

    def __init__(self, path: Path, limitmb: int, passage_chars: int, fields: str) -> None:
        # Closed by cleanup(), once the helper is done with it.
        self.errors: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115
        # The helper imports this very searchlib, wherever it was imported from.
        root = str(Path(__file__).resolve().parents[2])
        code = (
            f"import sys; sys.path.insert(0, {root!r}); "
            "from searchlib._whoosh.parallel import _helper_main; "
            f"_helper_main({str(path)!r}, {int(limitmb)}, {int(passage_chars)}, {str(fields)!r})"
        )
        self.proc = subprocess.Popen(
            [sys.executable, "-c", code],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.errors,
        )

    def send(self, docs: list[Document]) -> None:
        assert self.proc.stdin is not None
        try:
            plain = [(d.id, d.title, d.text, dict(d.fields)) for d in docs]
            pickle.dump(plain, self.proc.stdin, protocol=pickle.HIGHEST_PROTOCOL)
        except (BrokenPipeError, OSError):
            self.proc.wait()
            raise self._failure() from None

    def close_input(self) -> None:
        assert self.proc.stdin is not None
        try:
            pickle.dump(None, self.proc.stdin)
            self.proc.stdin.close()
        except (BrokenPipeError, OSError):
            self.proc.wait()
            raise self._failure() from None

    def result(self) -> tuple[int, Any]:
        """The helper's document count and segment (``None``: it added nothing)."""
        assert self.proc.stdout is not None
        data = self.proc.stdout.read()
        if self.proc.wait() != 0 or not data:
            raise self._failure()
        # A count and a segment, read as a table of contents is.
        count, segment = load_objects(data, persisted())
        if not isinstance(count, int) or not (segment is None or isinstance(segment, SafeSegment)):
            raise IndexCorruptError("an indexing helper sent back something else than a segment")
        return count, segment

    def _failure(self) -> IndexingError:
        self.errors.seek(0)
        lines = self.errors.read().decode("utf-8", "replace").strip().splitlines()
        why = lines[-1] if lines else f"exit status {self.proc.returncode}"
        return IndexingError(f"indexing process {self.proc.pid} failed: {why}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        with contextlib.suppress(Exception):
            self.proc.wait(timeout=10)

    def cleanup(self) -> None:
        for stream in (self.proc.stdin, self.proc.stdout):
            if stream is not None:
                with contextlib.suppress(Exception):
                    stream.close()
        self.errors.close()


def _helper_main(path: str, limitmb: int, passage_chars: int, fields: str = "{}") -> None:
    """A helper: documents from stdin into a new segment, its description to stdout
    (``fields``: the declared fields, as JSON)."""
    writer = Store.open(Path(path)).helper_writer(limitmb=limitmb)
    declared = {name: from_json(name, data) for name, data in json.loads(fields).items()}
    # The caller deletes the indexed copies of the documents' ids.
    batch = SegmentBatch(
        writer, replace_existing=False, passage_chars=passage_chars, fields=declared
    )
    stdin = sys.stdin.buffer
    try:
        while (docs := restricted_load(stdin)) is not None:  # plain (id, title, text, fields)
            for doc in (Document(*plain) for plain in docs):
                batch.add(doc)
        segment = writer._finalize_segment() if writer._added else None
        if segment is None:
            writer._close_segment()
    except BaseException:
        with contextlib.suppress(Exception):
            writer._close_segment()
        raise
    stock = None if segment is None else stock_segment(segment)
    sys.stdout.buffer.write(pickle.dumps((batch.count, stock)))
    sys.stdout.buffer.flush()
