"""Small files beside an index, written so that a reader never sees half of one."""

from __future__ import annotations

import contextlib
import fcntl
import os
import secrets
import stat
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO


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
