"""Whoosh's posting pool, with its sorted runs written in bulk.

While indexing, Whoosh collects postings in memory and, past ``limitmb``,
sorts them and writes them to a temporary "run" file, to merge all runs at
commit. Its runs are one ``pickle.dump`` per posting and one ``pickle.load``
per posting to read them back: on a 5 MB batch of text (2.5 million
postings) that was about a third of the build. Here a run is written as
length-prefixed pickles of 1,024 postings each (tuples of str, bytes, int,
float and None), read back chunk by chunk through the same restricted
unpickler as every index file (:mod:`searchlib.safepickle`). Runs live only
for the writer that made them.
"""

from __future__ import annotations

import itertools
import pickle
import struct
from collections.abc import Iterable, Iterator
from typing import Any

from whoosh.writing import PostingPool

from searchlib.safepickle import restricted_loads

CHUNK = 1024
"""Postings per pickled chunk of a run. The merge at commit holds one chunk of
every run at once (up to 128 runs: Whoosh merges runs down to that many
first), about 200 bytes a posting: small enough that the merge adds little to
the writer's memory whatever the corpus size, big enough that pickling costs
next to nothing per posting."""

_HEADER = struct.Struct("<Q")


class ChunkedPostingPool(PostingPool):  # type: ignore[misc]
    """:class:`whoosh.writing.PostingPool` with bulk run files."""

    def add_many(self, items: list[tuple[str, bytes, int, float, bytes | None]]) -> None:
        """``add`` for a document's postings at once, with Whoosh's size estimate."""
        if not items:
            return
        size = 0
        names = self.fieldnames
        for name, term, _docnum, _weight, value in items:
            # Whoosh's estimate per posting (PostingPool.add): 150 bytes of
            # Python objects plus the field name, the term (counted twice) and the value.
            size += 150 + len(name) + 2 * len(term) + len(value or b"")
            names.add(name)
        if self.currentsize + size > self.limit and self.current:
            self.save()
        self.currentsize += size
        self.current.extend(items)

    def _write_run(self, f: Any, items: Iterable[Any]) -> None:
        # items: the sorted pool, or a merge of runs (reduce_to)
        rest = iter(items)
        try:
            while chunk := list(itertools.islice(rest, CHUNK)):
                data = pickle.dumps(chunk, protocol=pickle.HIGHEST_PROTOCOL)
                f.write(_HEADER.pack(len(data)))
                f.write(data)
        finally:
            f.close()

    def _read_run(self, path: str) -> Iterator[Any]:
        f = self._open_run(path)
        try:
            while header := f.read(_HEADER.size):
                (size,) = _HEADER.unpack(header)
                yield from restricted_loads(f.read(size))
        finally:
            f.close()
            self._remove_run(path)


def install(writer: Any) -> None:
    """Give a fresh Whoosh segment writer this pool (any other writer is left as is)."""
    pool: Any = getattr(writer, "pool", None)
    if type(pool) is PostingPool and not pool.current and not pool.runs:
        writer.pool = ChunkedPostingPool(pool.tempstore, pool.segment, limitmb=pool.limit >> 20)
