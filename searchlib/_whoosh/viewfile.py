"""Read Whoosh's compound segment files in place, without a copy.

Whoosh opens each part of a compound segment file (postings, terms...)
as a ``BufferFile`` over the memory-mapped segment, and ``BufferFile`` wraps
it in ``io.BytesIO``, which copies the part into memory: opening an index
costs about as much RAM as the index takes on disk. :class:`ViewFile` reads
the mapped bytes where they are; :func:`install` makes ``BufferFile`` use it
(process-wide, like :mod:`searchlib._whoosh.safepickle`).

Example:
    >>> f = ViewFile(memoryview(b"ligne 1\\nligne 2"))
    >>> f.readline(), f.tell(), f.read(3), f.seek(-1, 2), f.read()
    (b'ligne 1\\n', 8, b'lig', 14, b'2')
"""

from __future__ import annotations

import io
from typing import Any

from whoosh.filedb import structfile

PEEK = 512
"""Most bytes ``ViewFile.peek`` returns: a few postings-block headers' worth."""


class ViewFile:
    """A read-only file over a buffer (a ``memoryview`` of an mmap), no copy made."""

    def __init__(self, buf: Any) -> None:
        self._buf = memoryview(buf).cast("B")
        self._pos = 0
        self.closed = False

    def read(self, size: int | None = -1) -> bytes:
        start = self._pos
        end = len(self._buf) if size is None or size < 0 else min(start + size, len(self._buf))
        self._pos = max(end, start)
        return bytes(self._buf[start:end])

    def peek(self, size: int = 0) -> bytes:
        """Bytes from the position on, without moving it: at most ``PEEK`` of them.

        The pickle module prefetches through ``peek`` when a file has it
        (then reads what it used): a block header of Whoosh's postings costs
        two calls instead of one ``read`` per pickle opcode.
        """
        start = self._pos
        return bytes(self._buf[start : start + min(max(size, 1), PEEK)])

    def readinto(self, b: Any) -> int:
        data = self.read(len(b))
        b[: len(data)] = data
        return len(data)

    def readline(self, size: int | None = -1) -> bytes:
        buf = self._buf
        start = self._pos
        limit = len(buf) if size is None or size < 0 else min(start + size, len(buf))
        end = start
        while end < limit:  # lines are short (pickle opcodes); this is rare
            end += 1
            if buf[end - 1] == 0x0A:
                break
        self._pos = end
        return bytes(buf[start:end])

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_CUR:
            offset += self._pos
        elif whence == io.SEEK_END:
            offset += len(self._buf)
        if offset < 0:
            raise ValueError(f"negative seek position {offset}")
        self._pos = offset
        return offset

    def tell(self) -> int:
        return self._pos

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def writable(self) -> bool:
        return False

    def write(self, data: Any) -> int:
        raise io.UnsupportedOperation("write")

    def truncate(self, size: int | None = None) -> int:
        raise io.UnsupportedOperation("truncate")

    def flush(self) -> None:
        pass

    def close(self) -> None:
        self.closed = True


def install() -> None:
    """Make Whoosh's ``BufferFile`` read its buffer through :class:`ViewFile`."""
    cls = structfile.BufferFile
    if getattr(cls.__init__, "_searchlib_view", False):
        return
    original = cls.__init__

    def __init__(self: Any, buf: Any, name: str | None = None, onclose: Any = None) -> None:
        original(self, b"", name=name, onclose=onclose)
        self._buf = buf
        self.file = ViewFile(buf)

    __init__._searchlib_view = True  # type: ignore[attr-defined]
    cls.__init__ = __init__
