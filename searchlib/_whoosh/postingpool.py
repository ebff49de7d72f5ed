"""Whoosh's posting pool, handed to the term writer grouped by term.

While indexing, Whoosh collects postings ``(field, term, docnum, weight,
value)`` in one list and, past ``limitmb``, sorts it and writes it to a
temporary "run" file, one ``pickle.dump`` per posting; at commit it merges
the runs posting by posting, and its field writer groups them by term again:
sorting the tuples is a large part of a build.

This pool keeps the postings in the order they come, as columns: document
numbers, weights, values and the number of each posting's term (terms are
numbered as they first come, in C: no Python step per posting), 28 bytes a
posting besides its value where a tuple took about 110, and no object per
posting for the garbage collector to scan. The size it counts against
``limitmb`` is still Whoosh's estimate, so it spills as often as Whoosh's.
To write a run it sorts only the distinct terms (far fewer than the postings)
and orders the postings by their term's rank with a stable numpy sort, so a
term's postings keep their order of arrival: document order, since documents
are numbered as they are added. A run is length-prefixed pickles of term
records ``(field, term, docnums, weights, values)`` (lists of int, float,
bytes and None), read back through the same restricted unpickler as every
index file (:mod:`searchlib._whoosh.safepickle`); runs are merged a term at a time,
the earlier run's postings first. A term whose postings did not come in
document order (Whoosh's own paths can add them otherwise: merging segments
adds them term by term, a spelling field adds markers numbered -1) has them
sorted as Whoosh sorts them, so the result is always Whoosh's.

:meth:`GroupedPostingPool.iter_postings` returns :class:`TermGroups`: the
term writer (:mod:`searchlib._whoosh.termwriter`) takes its records; any other reader
iterates it as Whoosh's sorted postings. Runs live only for the writer that
made them.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import operator
import pickle
import struct
from array import array
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import numpy as np
from whoosh.writing import PostingPool

from searchlib._whoosh.safepickle import restricted_loads

Posting = tuple[str, bytes, int, float, bytes | None]
"""What Whoosh's posting pool holds: field, term, document number, weight, value."""

TermRecord = tuple[str, bytes, Sequence[int], Sequence[float], Sequence[bytes | None]]
"""One term's postings: field, term, then their document numbers, weights and values."""

CHUNK = 4096
"""Postings per pickled chunk of a run (a chunk ends with a whole term). The
merge at commit holds one chunk of every run at once (up to
:data:`MAX_RUNS_OPEN` runs), about 100 bytes a posting: small enough that the
merge adds little to the writer's memory whatever the corpus size, big enough
that pickling costs next to nothing per term."""

MAX_RUNS_OPEN = 128
"""Most runs merged at once (Whoosh's ``maxfiles``); beyond that the oldest runs
are first merged into one."""

_HEADER = struct.Struct("<Q")
_KEY = operator.itemgetter(0, 1)
_FIELD = operator.itemgetter(0)
_TERM = operator.itemgetter(1)
_DOCNUM = operator.itemgetter(2)
_VALUE = operator.itemgetter(4)
_WEIGHT = operator.itemgetter(3)


class TermGroups:
    """The pool's postings in Whoosh's order, as term records (:meth:`records`)
    or, iterated, as Whoosh's ``(field, term, docnum, weight, value)`` tuples.
    Either can be read once."""

    def __init__(self, records: Iterator[TermRecord]) -> None:
        self._records = records

    def records(self) -> Iterator[TermRecord]:
        """Term records sorted by field and term, each term once."""
        return self._records

    def __iter__(self) -> Iterator[Posting]:
        for name, term, ids, weights, values in self._records:
            for docnum, weight, value in zip(ids, weights, values, strict=True):
                yield name, term, docnum, weight, value


class GroupedPostingPool(PostingPool):  # type: ignore[misc]
    """:class:`whoosh.writing.PostingPool` that hands out its postings by term."""

    def __init__(self, tempstore: Any, segment: Any, limitmb: int = 128, **kwargs: Any) -> None:
        super().__init__(tempstore, segment, limitmb=limitmb, **kwargs)
        self._reset()

    def _reset(self) -> None:
        # The postings in memory, in the order they came, as columns (their
        # document numbers, weights and values, and the number of their field and
        # term), and per field, term -> number, numbered as terms first came. A
        # posting takes 28 bytes besides its value, against about 110 as a tuple,
        # and leaves no object for the garbage collector to scan.
        self._ids = array("q")
        self._weights = array("d")
        self._values: list[bytes | None] = []
        self._term_ids = array("I")
        self._next_number = itertools.count().__next__
        self._numbers: dict[str, defaultdict[bytes, int]] = {}
        self.currentsize = 0

    @property
    def count(self) -> int:
        """Postings held in memory."""
        return len(self._ids)

    def _numbers_of(self, name: str) -> defaultdict[bytes, int]:
        numbers = self._numbers.get(name)
        if numbers is None:
            numbers = self._numbers[name] = defaultdict(self._next_number)
            self.fieldnames.add(name)
        return numbers

    def _make_room(self, size: int) -> None:
        """Count ``size`` more bytes, first spilling a run if they would not fit."""
        if self.currentsize + size > self.limit and self._ids:
            self.save()
        self.currentsize += size

    def add(self, item: Posting) -> None:
        """Add one posting (Whoosh's own paths: merging segments, other schemas)."""
        name, term, docnum, weight, value = item
        assert isinstance(term, bytes), f"tbytes={term!r}"
        assert value is None or isinstance(value, bytes), f"vbytes={value!r}"
        # Whoosh's estimate per posting (PostingPool.add): 150 bytes of Python
        # objects plus the field name, the term (counted twice) and the value.
        self._make_room(150 + len(name) + 2 * len(term) + len(value or b""))
        self._ids.append(docnum)
        self._weights.append(weight)
        self._values.append(value)
        self._term_ids.append(self._numbers_of(name)[term])

    def add_many(self, items: Sequence[Posting]) -> None:
        """Add postings (a document's, say) at once."""
        if not items:
            return
        self._make_room(  # Whoosh's estimate, as in add
            150 * len(items)
            + sum(map(len, map(_FIELD, items)))
            + 2 * sum(map(len, map(_TERM, items)))
            + sum(map(len, filter(None, map(_VALUE, items))))
        )
        self._ids.extend(map(_DOCNUM, items))
        self._weights.extend(map(_WEIGHT, items))
        self._values.extend(map(_VALUE, items))
        for name, same in itertools.groupby(items, _FIELD):
            self._term_ids.extend(map(self._numbers_of(name).__getitem__, map(_TERM, same)))

    def add_columns(
        self,
        name: str,
        docnum: int,
        terms: Sequence[bytes],
        weights: Sequence[float],
        values: Sequence[bytes | None],
    ) -> None:
        """Add one document's postings of field ``name`` given as columns (each
        term once): what :meth:`add_many` does with the same postings as tuples."""
        n = len(terms)
        if not n:
            return
        self._make_room(  # Whoosh's estimate, as in add
            (150 + len(name)) * n + 2 * sum(map(len, terms)) + sum(map(len, filter(None, values)))
        )
        # array.fromlist sizes the array once; extend grows it item by item.
        self._ids.fromlist([docnum] * n)
        self._weights.fromlist(weights if isinstance(weights, list) else list(weights))
        self._values.extend(values)
        self._term_ids.fromlist(list(map(self._numbers_of(name).__getitem__, terms)))

    def _memory_records(self) -> Iterator[TermRecord]:
        """The postings in memory as sorted term records; empties the pool."""
        id_column, weight_column, value_column = self._ids, self._weights, self._values
        term_ids, fields = self._term_ids, self._numbers
        self._reset()
        if not id_column:
            return
        keys: list[tuple[str, bytes]] = [("", b"")] * sum(map(len, fields.values()))
        for name, of_term in fields.items():
            for term, number in of_term.items():
                keys[number] = (name, term)
        del fields
        # Sort the distinct terms, then the postings by their term's rank; the
        # sort is stable, so each term's postings keep their order of arrival.
        by_key = sorted(range(len(keys)), key=keys.__getitem__)
        rank = np.empty(len(keys), dtype=np.int32)
        rank[by_key] = np.arange(len(keys), dtype=np.int32)
        numbers = np.frombuffer(term_ids, dtype=f"u{term_ids.itemsize}")
        order = np.argsort(rank[numbers], kind="stable")
        ends = np.cumsum(np.bincount(numbers, minlength=len(keys))[by_key])
        del numbers, term_ids, rank
        # The columns in that order, one at a time (memory: a column more at most).
        ids = np.frombuffer(id_column, dtype=np.int64)[order]
        del id_column
        weights = np.frombuffer(weight_column, dtype=np.float64)[order]
        del weight_column
        values = np.fromiter(value_column, dtype=object, count=len(value_column))[order]
        del value_column, order
        # Terms whose postings did not come in increasing document order.
        late = np.flatnonzero(ids[1:] <= ids[:-1]) + 1
        late = late[~np.isin(late, ends[:-1])]  # a term's first posting is not late
        unsorted = set(np.searchsorted(ends, late, side="right").tolist())
        start = 0
        for i, (k, end) in enumerate(zip(by_key, ends.tolist(), strict=True)):
            name, term = keys[k]
            record = (
                name,
                term,
                ids[start:end].tolist(),
                weights[start:end].tolist(),
                values[start:end].tolist(),
            )
            yield _sorted(record) if i in unsorted else record
            start = end

    def save(self) -> None:
        """Write the postings in memory to a new run."""
        if self._ids:
            path, f = self._new_run()
            self._write_run(f, self._memory_records())  # empties the pool
            self.runs.append(path)

    def _write_run(self, f: Any, records: Iterable[TermRecord]) -> None:
        try:
            chunk: list[TermRecord] = []
            n = 0
            for record in records:
                chunk.append(record)
                n += len(record[2])
                if n >= CHUNK:
                    _write_chunk(f, chunk)
                    chunk, n = [], 0
            if chunk:
                _write_chunk(f, chunk)
        finally:
            f.close()

    def _read_run(self, path: str) -> Iterator[TermRecord]:
        f = self._open_run(path)
        try:
            while header := f.read(_HEADER.size):
                (size,) = _HEADER.unpack(header)
                yield from restricted_loads(f.read(size))
        finally:
            f.close()
            self._remove_run(path)

    def _merged(self, sources: list[Iterator[TermRecord]]) -> Iterator[TermRecord]:
        """Term records of ``sources`` (oldest first) merged, each term's postings in
        the order of the sources (sorted when that is not document order)."""
        if len(sources) == 1:
            yield from sources[0]
            return
        # heapq.merge is stable: equal terms come out in the order of the sources.
        for _, same in itertools.groupby(heapq.merge(*sources, key=_KEY), _KEY):
            first, *rest = same
            if not rest:
                yield first
                continue
            name, term, ids, weights, values = first
            ids, weights, values = list(ids), list(weights), list(values)
            in_order = True
            for record in rest:
                in_order = in_order and record[2][0] > ids[-1]
                ids.extend(record[2])
                weights.extend(record[3])
                values.extend(record[4])
            record = name, term, ids, weights, values
            yield record if in_order else _sorted(record)

    def items(self, maxfiles: int | None = None) -> TermGroups:
        """All the postings, sorted as Whoosh sorts them, grouped by term; at most
        ``maxfiles`` runs open at once (default :data:`MAX_RUNS_OPEN`)."""
        maxfiles = MAX_RUNS_OPEN if maxfiles is None else maxfiles
        if maxfiles < 2:
            raise ValueError(f"maxfiles={maxfiles} must be >= 2")
        if not self.runs:
            return TermGroups(self._memory_records())
        runs: list[str] = self.runs
        # Merge the oldest runs into one until the rest, and the postings still
        # in memory, can be read at once.
        while len(runs) + 1 > maxfiles:
            path, f = self._new_run()
            oldest, runs[:maxfiles] = runs[:maxfiles], [path]
            self._write_run(f, self._merged([self._read_run(p) for p in oldest]))
        self.runs: list[str] = []
        # The postings in memory are the newest: merged last, as they are (not
        # written to a run and read back; they take no more memory than while
        # they were added).
        sources = [*(self._read_run(p) for p in runs), self._memory_records()]
        return TermGroups(self._merged(sources))

    def iter_postings(self) -> TermGroups:
        """What Whoosh's segment writer hands to the field writer at commit."""
        return self.items()

    def cleanup(self) -> None:
        """Remove the runs not merged (a writer cancelled or failed)."""
        runs, self.runs = self.runs, []
        for path in runs:
            with contextlib.suppress(OSError):
                self._remove_run(path)


def _sorted(record: TermRecord) -> TermRecord:
    """A term's postings in Whoosh's order (by document, weight, value)."""
    name, term, *columns = record
    ids, weights, values = zip(*sorted(zip(*columns, strict=True)), strict=True)
    return name, term, list(ids), list(weights), list(values)


def _write_chunk(f: Any, chunk: list[TermRecord]) -> None:
    data = pickle.dumps(chunk, protocol=pickle.HIGHEST_PROTOCOL)
    f.write(_HEADER.pack(len(data)))
    f.write(data)


def install(writer: Any) -> None:
    """Give a fresh Whoosh segment writer this pool (any other writer is left as is)."""
    pool: Any = getattr(writer, "pool", None)
    if type(pool) is PostingPool and not pool.current and not pool.runs:
        writer.pool = GroupedPostingPool(pool.tempstore, pool.segment, limitmb=pool.limit >> 20)
