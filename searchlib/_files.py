"""Small files beside an index, written so that a reader never sees half of one."""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from pathlib import Path


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
