"""An index folder: its ``searchlib.json``, and replacing it whole.

A new index (or one that replaces another) is built in a hidden folder beside
its target, ``.NAME.building-<pid>-<hex>``, locked while its builder lives, and
moved into place once complete: the target is checked again at the move, an
index is replaced only under its write lock and keeps the modes of what it
replaces, and the folders of dead builds are removed by the next build. The
meta file records the format and analyzer versions, the passage size and the
declared fields; it is read as data, with a size and depth guard.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import json
import os
import re
import shutil
import stat
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from searchlib._files import new_folder, read_json, try_lock
from searchlib._version import __version__
from searchlib._whoosh.storage import INDEX_NAME
from searchlib.analysis import ANALYZER_VERSION
from searchlib.documents import PASSAGE_CHARS
from searchlib.errors import (
    IndexCorruptError,
    IndexExistsError,
    IndexLockedError,
    IndexNotFoundError,
    IndexVersionError,
    SearchlibError,
)
from searchlib.fields import FieldType, check_declarations, from_json
from searchlib.ranking.params import Ranking
from searchlib.semantic.state import LOCK_FILE as VECTORS_LOCK

FORMAT_VERSION = 3
"""Version of the index layout (schema and stored fields)."""

META_FILE = "searchlib.json"

MAX_PASSAGE_CHARS = 1 << 30
"""Largest ``passage_chars`` (a passage of a gigabyte is a document not cut)."""

MAX_META_BYTES = 1 << 20
"""Largest ``searchlib.json`` read (searchlib writes a few hundred bytes)."""


def check_replaceable(folder: Path, overwrite: bool) -> bool:
    """Whether ``folder`` holds an index to replace (``False``: nothing there).

    Raises:
        IndexExistsError: it holds something and ``overwrite`` is false.
        SearchlibError: it holds something searchlib did not write.
    """
    if not folder.exists() and not folder.is_symlink():
        return False
    if folder.is_dir() and not folder.is_symlink() and not any(folder.iterdir()):
        return False
    if not overwrite:
        raise IndexExistsError(folder)
    if not is_searchlib_index(folder):
        raise SearchlibError(
            f"refusing to replace {folder}: it is not an index searchlib wrote "
            f"(no {META_FILE} of searchlib's in it)"
        )
    return True


def is_searchlib_index(folder: Path) -> bool:
    """Whether ``folder`` is an index folder searchlib wrote (its own marker file,
    a JSON object with a format version, in a real folder)."""
    meta = folder / META_FILE
    if folder.is_symlink() or not folder.is_dir() or meta.is_symlink() or not meta.is_file():
        return False
    try:
        found = read_meta(meta)
    except (OSError, IndexCorruptError):
        return False
    return isinstance(found.get("format_version"), int)


WRITE_LOCK = f"{INDEX_NAME}_WRITELOCK"
"""The file in an index folder whose ``flock`` every writer holds (Whoosh's write lock)."""

BUILDING = ".building-"
"""Marks a folder being built beside an index: ``.<name>.building-<pid>-<random>``."""

_BUILD_SUFFIX = re.compile(r"([0-9]+)-[0-9a-f]{12}")
"""What follows :data:`BUILDING`: the builder's pid, then the random part of
:func:`~searchlib._files.new_folder` (older versions' names have no pid)."""


def locked_error(folder: Path, timeout: float) -> IndexLockedError:
    waited = f" (waited {timeout:g} s)" if timeout else ""
    return IndexLockedError(f"index at {folder} is locked by another writer{waited}")


def move_into_place(
    staging: Path, folder: Path, *, overwrite: bool, locked: bool, timeout: float = 0.0
) -> None:
    """Put the complete index ``staging`` at ``folder``; the old index, if
    any, ends up in ``staging`` (for the caller to delete).

    What is at ``folder`` is checked again here, at the last moment: a
    missing folder (or an empty one) is taken by a rename, which fails if
    another process put something there meanwhile (then it is checked
    again); an index is replaced only with ``overwrite``, and only under its
    write lock (``locked``: the caller already holds it).

    Raises:
        IndexExistsError, SearchlibError: as :func:`check_replaceable`.
        IndexLockedError: another writer holds the lock past ``timeout``.
    """
    if locked and is_searchlib_index(folder):
        _swap(staging, folder)
        return
    for _ in range(100):
        if not check_replaceable(folder, overwrite):
            try:
                os.rename(staging, folder)  # replaces an empty folder, never a full one
            except OSError as e:
                if e.errno not in (errno.ENOTEMPTY, errno.EEXIST, errno.ENOTDIR):
                    raise
                continue  # something came there meanwhile
            return
        fd = try_lock(folder / WRITE_LOCK, timeout=timeout)
        if fd is None:
            raise locked_error(folder, timeout)
        try:
            if is_searchlib_index(folder):
                _swap(staging, folder)
                return
        finally:
            os.close(fd)
    raise SearchlibError(f"cannot move the new index into place at {folder}: it keeps changing")


def _swap(staging: Path, folder: Path) -> None:
    """Exchange the folders ``staging`` and ``folder`` (atomically where the system can)."""
    if _exchange(staging, folder):
        return
    # No atomic exchange here: a process killed between the two renames
    # leaves the old index beside the folder, in .<name>.old-*.
    old = Path(tempfile.mkdtemp(prefix=f".{folder.name}.old-", dir=folder.parent))
    os.rmdir(old)
    os.rename(folder, old)
    os.rename(staging, folder)
    os.rename(old, staging)


def _exchange(a: Path, b: Path) -> bool:
    """Swap two folders atomically (Linux ``renameat2(RENAME_EXCHANGE)``);
    ``False`` where the system cannot."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    done = renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange)
    return bool(done == 0)


def modes_of(folder: Path) -> tuple[int, int | None] | None:
    """The mode of folder ``folder`` and of its ``searchlib.json`` (``None``:
    no folder there; the second ``None``: no such file)."""
    try:
        if folder.is_symlink() or not folder.is_dir():
            return None
        mode = stat.S_IMODE(folder.stat().st_mode)
    except OSError:
        return None
    try:
        meta = stat.S_IMODE((folder / META_FILE).stat().st_mode)
    except OSError:
        meta = None
    return mode, meta


def set_modes(staging: Path, modes: tuple[int, int | None] | None) -> None:
    """Give the new index the modes of the folder it replaces (see :func:`modes_of`)."""
    if modes is None:
        return
    folder_mode, file_mode = modes
    if file_mode is not None:
        for entry in os.scandir(staging):
            if entry.is_file(follow_symlinks=False):
                os.chmod(entry.path, file_mode)
    os.chmod(staging, folder_mode)


def remove_dead_builds(folder: Path) -> list[Path]:
    """Remove the folders that builds of ``folder`` whose process died left
    beside it (``.<name>.building-<pid>-*``, after a ``kill -9`` or a power
    cut). A folder is removed only when its process is gone and nobody holds
    its ``flock`` (a live build holds it): never a live build's, nor one
    this cannot tell (another naming, a pid still in use). Returns those removed.
    """
    prefix = f".{folder.name}{BUILDING}"
    removed: list[Path] = []
    try:
        entries = [e for e in os.scandir(folder.parent) if e.name.startswith(prefix)]
    except OSError:
        return removed
    for entry in entries:
        named = _BUILD_SUFFIX.fullmatch(entry.name[len(prefix) :])
        if named is None or _alive(int(named.group(1))):
            continue
        path = Path(entry.path)
        with contextlib.suppress(OSError):
            if path.is_symlink() or not path.is_dir():
                continue
            fd = try_lock(path)
            if fd is None:
                continue
            try:
                shutil.rmtree(path)
                removed.append(path)
            finally:
                os.close(fd)
    return removed


def _alive(pid: int) -> bool:
    """Whether process ``pid`` exists (this one included)."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # someone else's process
        return True
    return True


def hide_staging(error: BaseException, staging: Path, folder: Path) -> None:
    """Name ``folder`` where ``error``'s message names the folder it was built in."""
    inner, outer = str(staging), str(folder)
    error.args = tuple(a.replace(inner, outer) if isinstance(a, str) else a for a in error.args)
    if isinstance(error, OSError):
        for name in ("filename", "filename2"):
            value = getattr(error, name, None)
            if isinstance(value, str) and inner in value:
                setattr(error, name, value.replace(inner, outer))


def check_passage_chars(passage_chars: int) -> None:
    if not isinstance(passage_chars, int) or isinstance(passage_chars, bool):
        raise TypeError(f"passage_chars must be an int, not {type(passage_chars).__name__}")
    if not 100 <= passage_chars <= MAX_PASSAGE_CHARS:
        raise ValueError(
            f"passage_chars must be from 100 to {MAX_PASSAGE_CHARS:,}, not {shown(passage_chars)}"
        )


def read_meta(meta_path: Path) -> dict[str, Any]:
    """The JSON object of ``searchlib.json`` (at most :data:`MAX_META_BYTES`,
    read by :func:`searchlib._files.read_json`).

    Raises:
        FileNotFoundError: there is none.
        IndexCorruptError: it cannot be read, or is not a JSON object.
    """

    def corrupt(message: str) -> IndexCorruptError:
        return IndexCorruptError(f"{meta_path}: {message}")

    meta = read_json(meta_path, max_bytes=MAX_META_BYTES, error=corrupt)
    if not isinstance(meta, dict):
        raise corrupt("not a JSON object")
    return meta


def read_declarations(meta_path: Path, found: object) -> dict[str, FieldType]:
    """The ``fields`` of ``searchlib.json`` (absent from indexes without any)."""
    if not isinstance(found, dict):
        raise IndexCorruptError(f"{meta_path}: malformed fields {shown(found)}")
    try:
        return check_declarations({name: from_json(name, data) for name, data in found.items()})
    except (TypeError, ValueError) as e:
        raise IndexCorruptError(f"{meta_path}: {_cut(str(e), 200)}") from None


def shown(value: object) -> str:
    """``repr(value)``, cut short (a message stays one short line)."""
    return _cut(repr(value), 60)


def _cut(text: str, most: int) -> str:
    return text if len(text) <= most else text[: most - 3] + "..."


def write_meta(
    folder: Path,
    passage_chars: int = PASSAGE_CHARS,
    fields: Mapping[str, FieldType] | None = None,
    ranking: Ranking | None = None,
) -> None:
    """Write the index's ``searchlib.json`` (beside, then renamed over it)."""
    meta: dict[str, Any] = {
        "format_version": FORMAT_VERSION,
        "analyzer_version": ANALYZER_VERSION,
        "searchlib_version": __version__,
    }
    if passage_chars != PASSAGE_CHARS:
        meta["passage_chars"] = passage_chars
    if fields:
        meta["fields"] = {name: kind.to_json() for name, kind in fields.items()}
    if ranking is not None and ranking.to_json():
        meta["ranking"] = ranking.to_json()
    tmp = folder / (META_FILE + ".tmp")
    tmp.write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, folder / META_FILE)


@contextlib.contextmanager
def building(folder: Path, *, overwrite: bool, timeout: float) -> Iterator[Path]:
    """A new index built beside ``folder`` (the folder yielded) and moved into
    place when the block ends without an error: the old index, with
    ``overwrite``, or nothing at all, stays until then, and stays whole if
    anything fails. Replacing an index holds its write lock (and its vectors'
    lock) from the start to the move; folders of dead builds are removed first.

    Raises:
        IndexExistsError: ``folder`` holds something and ``overwrite`` is false.
        IndexLockedError: another writer holds the lock of the index to
            replace past ``timeout`` seconds.
        SearchlibError: ``folder`` holds something searchlib did not write.
    """
    replace = check_replaceable(folder, overwrite)
    folder.parent.mkdir(parents=True, exist_ok=True)
    remove_dead_builds(folder)
    modes = modes_of(folder)
    with contextlib.ExitStack() as held:
        if replace:
            # The locks of the writers of its text and of its vectors
            # (that one made only by those: a failed build adds no file).
            for name in (WRITE_LOCK, VECTORS_LOCK):
                if name == VECTORS_LOCK and not (folder / name).exists():
                    continue
                fd = try_lock(folder / name, timeout=timeout)
                if fd is None:
                    raise locked_error(folder, timeout)
                held.callback(os.close, fd)
        staging = new_folder(folder.parent, f".{folder.name}{BUILDING}{os.getpid()}-")
        held.callback(shutil.rmtree, staging, ignore_errors=True)  # failed, or the old index
        mark = try_lock(staging)  # live: later builds leave it alone
        if mark is not None:
            held.callback(os.close, mark)
        try:
            yield staging
            set_modes(staging, modes)
            move_into_place(staging, folder, overwrite=overwrite, locked=replace, timeout=timeout)
        except (SearchlibError, OSError) as e:
            hide_staging(e, staging, folder)
            raise


@dataclass(frozen=True, slots=True)
class IndexMeta:
    """What an index's ``searchlib.json`` holds besides its versions."""

    passage_chars: int
    fields: dict[str, FieldType]
    ranking: Ranking


def read_index_meta(folder: Path) -> IndexMeta:
    """The passage size, declared fields and ranking of the index in ``folder``,
    its ``searchlib.json`` checked.

    Raises:
        IndexNotFoundError: no searchlib index there.
        IndexVersionError: written by an incompatible version.
        IndexCorruptError: the file cannot be read.
    """
    meta_path = folder / META_FILE
    if not folder.is_dir():
        raise IndexNotFoundError(folder)
    if not meta_path.is_file():
        raise IndexNotFoundError(folder, "no searchlib index (missing searchlib.json)")
    try:
        meta = read_meta(meta_path)
    except FileNotFoundError as e:
        raise IndexNotFoundError(folder, "no searchlib index (missing searchlib.json)") from e
    fmt, ana = meta.get("format_version"), meta.get("analyzer_version")
    if fmt != FORMAT_VERSION or ana != ANALYZER_VERSION:
        raise IndexVersionError(
            f"index at {folder} was written with format {shown(fmt)} and analyzer "
            f"{shown(ana)}; this searchlib ({__version__}) reads format {FORMAT_VERSION} "
            f"and analyzer {ANALYZER_VERSION!r}: rebuild it with "
            "`searchlib index ... --overwrite`"
        )
    passage_chars = meta.get("passage_chars", PASSAGE_CHARS)
    try:
        check_passage_chars(passage_chars)
    except (TypeError, ValueError):
        raise IndexCorruptError(
            f"{meta_path}: malformed passage_chars {shown(passage_chars)}"
        ) from None
    try:
        ranking = Ranking.from_json(meta.get("ranking", {}))
    except ValueError as e:
        raise IndexCorruptError(f"{meta_path}: {e}") from None
    declared = read_declarations(meta_path, meta.get("fields", {}))
    return IndexMeta(int(passage_chars), declared, ranking)


def folder_size(folder: Path) -> int:
    """Bytes in the files of ``folder`` (a file a writer deletes meanwhile counts nothing)."""
    size = 0
    for entry in os.scandir(folder):
        with contextlib.suppress(OSError):
            if entry.is_file():
                size += entry.stat().st_size
    return size
