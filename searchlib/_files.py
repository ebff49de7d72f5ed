"""Small files beside an index: written so that a reader never sees half of
one, read as plain data that cannot crash, hang or exhaust the reader.

Every side file of an index (``searchlib.json``, ``acronyms.json``,
``learned.json``, ``vectors.json``, the vectors' keys) is read by
:func:`read_json`: a regular file only, opened without blocking, at most a
given size, nested at most :data:`MAX_DEPTH` deep, numbers finite; any
problem is the caller's own format error, one line, never Python's.
"""

from __future__ import annotations

import contextlib
import contextvars
import fcntl
import itertools
import json
import os
import re
import secrets
import stat
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TextIO

import numpy as np


def replace_text(folder: Path, filename: str, text: str) -> None:
    """Write ``text`` (UTF-8) to ``folder / filename`` atomically.

    The text goes to a temporary file of its own in ``folder`` (so two writers
    saving at once never replace each other's half-written file: the last
    one wins), given the mode of the index's ``searchlib.json`` (``mkstemp``
    makes it private, 0600: whoever can read the index can read this too),
    then moved over ``filename`` with :func:`os.replace`. On any error the
    temporary file is removed and ``filename`` is as it was.
    """
    fd, name = tempfile.mkstemp(prefix=filename + ".", suffix=".tmp", dir=folder)
    try:
        with contextlib.suppress(OSError):
            os.chmod(fd, stat.S_IMODE(os.stat(folder / "searchlib.json").st_mode))
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(name, folder / filename)
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(name)
        raise


MAX_DEPTH = 32
"""Deepest nesting of arrays and objects in a side file (the files searchlib
writes nest at most 5 deep)."""

_ESCAPE = re.compile(rb"\\.", re.DOTALL)
_NOT_STRUCTURE = bytes(sorted(set(range(256)) - set(b'"[]{}')))


def read_bytes(path: Path, *, max_bytes: int, error: Callable[[str], Exception]) -> bytes:
    """The bytes of the side file ``path``, at most ``max_bytes`` of them.

    The file is opened without blocking and must be a regular file (a
    FIFO, a device or a folder put in its place never blocks nor streams
    without end); a file growing past ``max_bytes`` while read is refused too.

    Raises:
        FileNotFoundError: there is no such file (the caller decides what that means).
        Exception: ``error(message)`` for anything else: unreadable, not a
            regular file, too large.
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise
    except OSError as e:
        raise error(f"unreadable ({e.strerror or e})") from e
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise error("not a regular file")
        if info.st_size > max_bytes:
            raise error(f"larger than {_size(max_bytes)} ({info.st_size:,} bytes)")
        chunks: list[bytes] = []
        size = 0
        while True:
            chunk = os.read(fd, min(1 << 20, max_bytes + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
            if size > max_bytes:
                raise error(f"larger than {_size(max_bytes)}")
    except OSError as e:
        raise error(f"unreadable ({e.strerror or e})") from e
    finally:
        os.close(fd)
    return b"".join(chunks)


def parse_json(
    data: bytes | str,
    *,
    max_bytes: int,
    error: Callable[[str], Exception],
    max_depth: int = MAX_DEPTH,
) -> Any:
    """``data`` (UTF-8 JSON) as Python values, plain data only.

    Before :func:`json.loads` runs, the size and the nesting depth are
    checked (``"[" * 100000`` would exhaust the parser's recursion).
    ``NaN`` and ``Infinity`` are refused; other numbers are read as Python
    reads them (an integer of up to 4,300 digits, ``1e999`` as infinity):
    the caller checks each against its range.

    Raises:
        Exception: ``error(message)`` for any problem, never another exception.

    Example:
        >>> parse_json('{"a": [1, 2.5, "x"]}', max_bytes=100, error=ValueError)
        {'a': [1, 2.5, 'x']}
        >>> parse_json("[" * 100000, max_bytes=10**6, error=ValueError)
        Traceback (most recent call last):
        ValueError: nested deeper than 32
    """
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
    if len(raw) > max_bytes:
        raise error(f"larger than {_size(max_bytes)} ({len(raw):,} bytes)")
    depth = nesting_depth(raw)
    if depth > max_depth:
        raise error(f"nested deeper than {max_depth}")
    try:
        text = raw.decode("utf-8")
        return json.loads(text, parse_constant=_constant)
    except UnicodeDecodeError as e:
        raise error(f"not UTF-8 (byte {e.start})") from None
    except (ValueError, RecursionError) as e:
        raise error(f"not JSON ({e})") from None


def read_json(
    path: Path,
    *,
    max_bytes: int,
    error: Callable[[str], Exception],
    max_depth: int = MAX_DEPTH,
) -> Any:
    """:func:`parse_json` of the side file ``path`` (read by :func:`read_bytes`).

    Raises:
        FileNotFoundError: there is no such file.
        Exception: ``error(message)`` for anything else.
    """
    raw = read_bytes(path, max_bytes=max_bytes, error=error)
    return parse_json(raw, max_bytes=max_bytes, error=error, max_depth=max_depth)


def nesting_depth(raw: bytes) -> int:
    """How deep the arrays and objects of JSON text ``raw`` nest (exact for
    valid JSON: brackets inside strings do not count).

    >>> nesting_depth(b'{"a": [[1], "]]][\\"["], "b": {}}')
    3
    """
    if b"\\" in raw:
        raw = _ESCAPE.sub(b"", raw)  # an escaped quote does not end a string
    kept = raw.translate(None, _NOT_STRUCTURE)
    if not kept:
        return 0
    codes = np.frombuffer(kept, dtype=np.uint8)
    quote = codes == ord('"')
    outside = (np.cumsum(quote) % 2 == 0) & ~quote  # an even number of quotes before
    opens = (codes == ord("[")) | (codes == ord("{"))
    closes = (codes == ord("]")) | (codes == ord("}"))
    steps = (opens.astype(np.int64) - closes.astype(np.int64)) * outside
    return max(0, int(np.cumsum(steps).max()))


def _constant(text: str) -> float:
    raise ValueError(f"{text} is not a number JSON allows")


def _size(n: int) -> str:
    if n >= 1 << 20 and not n % (1 << 20):
        return f"{n >> 20} MiB"
    if n >= 1 << 10 and not n % (1 << 10):
        return f"{n >> 10} KiB"
    return f"{n:,} bytes"


@contextlib.contextmanager
def atomic_output(path: Path, *, encoding: str = "utf-8") -> Iterator[TextIO]:
    """A text file to write ``path`` through: written beside it, then moved
    over it once the block ends without error.

    Until the move, ``path`` is as it was (or absent): a reader never sees
    half of the file, and a failed run leaves nothing (the file beside is
    removed on any error). The new file has the mode of the file it
    replaces, else the mode new files get (``0666`` less the umask).
    """
    try:
        fd, name = new_file(path.parent, f".{path.name}.", ".part")
    except OSError as e:
        raise _naming(e, path) from None
    try:
        with contextlib.suppress(OSError):
            os.chmod(fd, stat.S_IMODE(os.stat(path).st_mode))
        with os.fdopen(fd, "w", encoding=encoding) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(name, path)
    except BaseException as e:
        with contextlib.suppress(OSError):
            os.remove(name)
        if isinstance(e, OSError) and e.filename == name:
            raise _naming(e, path) from None
        raise


def _naming(error: OSError, path: Path) -> OSError:
    """``error`` naming ``path`` (not the file written beside it)."""
    return type(error)(error.errno, error.strerror, str(path))


def new_file(folder: Path, prefix: str, suffix: str = "") -> tuple[int, str]:
    """A new empty file of a name of its own in ``folder`` (``prefix``, random
    hex, ``suffix``), open for writing, with the mode the umask gives
    (:func:`tempfile.mkstemp` would make it private). Returns its descriptor
    and path."""
    for _ in range(100):
        name = os.path.join(folder, f"{prefix}{secrets.token_hex(6)}{suffix}")
        try:
            return os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666), name
        except FileExistsError:
            continue
    raise FileExistsError(f"no free file name in {folder}")  # pragma: no cover


def new_folder(parent: Path, prefix: str) -> Path:
    """A new empty folder of a name of its own in ``parent`` (``prefix`` and
    random hex), with the mode the umask gives (:func:`tempfile.mkdtemp`
    would make it private, 0700)."""
    for _ in range(100):
        path = parent / f"{prefix}{secrets.token_hex(6)}"
        try:
            path.mkdir(0o777)
        except FileExistsError:
            continue
        return path
    raise FileExistsError(f"no free folder name in {parent}")  # pragma: no cover


def try_lock(path: Path, *, timeout: float = 0.0) -> int | None:
    """An exclusive ``flock`` on ``path``: a file (created if missing) or a
    folder. Returns the descriptor holding it (close it to release), or
    ``None`` when another holder keeps it past ``timeout`` seconds.

    The kernel drops the lock with the process that held it: a killed
    holder leaves nothing locked. (Whoosh's write lock is such a lock, on
    the index's ``searchlib_WRITELOCK``.)
    """
    deadline = time.monotonic() + timeout
    while True:
        if path.is_dir():
            fd = os.open(path, os.O_RDONLY)
        else:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
        except BaseException:
            os.close(fd)
            raise
        else:
            return fd
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        time.sleep(min(0.1, left))


def file_stamp(path: Path) -> tuple[int, int] | None:
    """When and how big ``path`` last was (``None``: no such file): what tells a
    reader that another process wrote it since."""
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_mtime_ns, st.st_size


class FolderWatch:
    """Whether anything in a folder may have changed since the last look, in
    one ``stat`` of the folder.

    An index's files are replaced by renames, never written in place, and a
    rename changes the folder's modification time: a folder whose stamp
    (inode, modification and change times) is the one seen at the last look
    holds the same files. A stamp is trusted only once the folder has been
    quiet for :attr:`MARGIN_NS` (file systems whose clocks tick coarsely give
    changes made within one tick the same time); until then, and whenever the
    folder cannot be read, every look answers that something may have changed.

    Several readers of one folder (an index's searcher and its vectors) share
    a watch through :class:`FolderReader`, and a search takes one look for
    all of them with :meth:`one_look`.

    Args:
        folder: the folder watched.
        clock: the current time in nanoseconds since the epoch (a seam for tests).
    """

    MARGIN_NS = 2_000_000_000

    def __init__(self, folder: Path, *, clock: Callable[[], int] = time.time_ns) -> None:
        self.folder = folder
        self._clock = clock
        self._quiet: tuple[int, int, int] | None = None
        self._counter = itertools.count(1)  # (next() is atomic: looks from several threads)
        self._changes = 0

    def may_have_changed(self) -> bool:
        """``False`` only when the folder is certainly as it was at the last look
        (the caller then skips its own checks); ``True`` otherwise. (A reader
        sharing the watch asks its :class:`FolderReader` instead.)"""
        before = self._changes
        return self._look() != before

    def look(self) -> int:
        """How many looks so far could not rule out a change, this one
        included: a reader holding another count than at its last look must
        check its files. Within :meth:`one_look`, that block's count (no new ``stat``)."""
        held = _HELD_LOOK.get()
        if held is not None and held[0] is self:
            return held[1]
        return self._look()

    def _look(self) -> int:
        try:
            st = os.stat(self.folder)
        except OSError:
            self._quiet = None
            return self._changed()
        stamp = (st.st_ino, st.st_mtime_ns, st.st_ctime_ns)
        if stamp == self._quiet:
            return self._changes
        quiet = self._clock() - max(st.st_mtime_ns, st.st_ctime_ns) > self.MARGIN_NS
        self._quiet = stamp if quiet else None
        return self._changed()

    def _changed(self) -> int:
        self._changes = changes = next(self._counter)
        return changes

    def one_look(self) -> OneLook:
        """One look for every reader of the folder within the block, in this
        thread or task only (a search: its vectors and its searcher see the
        folder as it was when the search began)."""
        return OneLook(self)

    def forget(self) -> None:
        """The next look answers that something may have changed."""
        self._quiet = None


_HELD_LOOK: contextvars.ContextVar[tuple[FolderWatch, int] | None] = contextvars.ContextVar(
    "searchlib_held_look", default=None
)
"""The look of the :meth:`FolderWatch.one_look` block running in this thread or task."""


class OneLook:
    """The block of :meth:`FolderWatch.one_look` (a class: entered at every search)."""

    __slots__ = ("_token", "_watch")

    def __init__(self, watch: FolderWatch) -> None:
        self._watch = watch

    def __enter__(self) -> None:
        self._token = _HELD_LOOK.set((self._watch, self._watch._look()))

    def __exit__(self, *exc: object) -> None:
        _HELD_LOOK.reset(self._token)


class FolderReader:
    """One reader of a folder watched by a :class:`FolderWatch` that other
    readers may share: whether the folder may have changed since this
    reader's last look.

    Args:
        watch: the folder's watch (``None``: an index without a folder; every
            look then answers that something may have changed).
    """

    __slots__ = ("_seen", "watch")

    def __init__(self, watch: FolderWatch | None) -> None:
        self.watch = watch
        self._seen = -1

    def may_have_changed(self) -> bool:
        """``False`` only when the folder is certainly as it was at this
        reader's last look; ``True`` otherwise."""
        if self.watch is None:
            return True
        seen = self.watch.look()
        changed = seen != self._seen
        self._seen = seen
        return changed
