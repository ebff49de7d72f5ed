"""A one-line progress bar for the CLI (documents/s, MB/s, ETA).

The library never prints: the CLI wraps the iterable it hands to the library
(``Index.add``, ``run_queries``) in :meth:`Progress.wrap`, which counts items
and bytes as they stream by and redraws a status line on a terminal. Nothing
is drawn before ``delay`` seconds, so quick jobs stay silent.
"""

from __future__ import annotations

import struct
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TextIO, TypeVar

from searchlib.corpus.loaders import JSONL_SUFFIXES, TEXT_SUFFIXES

T = TypeVar("T")

BAR_WIDTH = 24


class Progress:
    """Counts items and bytes of a stream and draws a status line on ``stream``.

    Args:
        stream: where to draw (normally stderr); nothing is drawn unless
            ``enabled``.
        unit: what is counted (``"docs"``, ``"queries"``).
        total_items: the number of items expected, when known.
        total_bytes: the number of bytes expected, when known (for the ETA).
        enabled: draw at all (the caller checks that ``stream`` is a terminal).
        delay: seconds before the first draw.
        interval: seconds between redraws.
        clock: the time source (for tests).
    """

    def __init__(
        self,
        stream: TextIO,
        *,
        unit: str = "docs",
        total_items: int | None = None,
        total_bytes: int | None = None,
        enabled: bool = True,
        delay: float = 0.5,
        interval: float = 0.1,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.stream = stream
        self.unit = unit
        self.total_items = total_items
        self.total_bytes = total_bytes or None
        self.enabled = enabled
        self.delay = delay
        self.interval = interval
        self.clock = clock
        self.items = 0
        self.bytes = 0
        self.started = clock()
        self._last_draw = 0.0
        self._drawn = False
        self._phase: tuple[str, float, float] | None = None  # text, items' end, phase start
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None

    @property
    def elapsed(self) -> float:
        """Seconds since the start."""
        return self.clock() - self.started

    def wrap(self, items: Iterable[T], size: Callable[[T], int] | None = None) -> Iterator[T]:
        """Yield ``items``, counting each (and its ``size`` in bytes) as it passes."""
        for item in items:
            self.items += 1
            if size is not None:
                self.bytes += size(item)
            self.tick()
            yield item

    def tick(self) -> None:
        """Redraw when due."""
        if not self.enabled:
            return
        now = self.clock()
        if now - self.started < self.delay or now - self._last_draw < self.interval:
            return
        self._last_draw = now
        self.draw(self.line())

    def fraction(self) -> float | None:
        """How much is done, from items or bytes, when the total is known."""
        if self.total_items:
            return min(self.items / self.total_items, 1.0)
        if self.total_bytes:
            # Text bytes undercount the files a little (JSON keys, markup): never claim 100%.
            return min(self.bytes / self.total_bytes, 0.99)
        return None

    def line(self) -> str:
        """The status line: bar, counts, rates and the time left (when known)."""
        elapsed = max(self.elapsed, 1e-9)
        parts = []
        done = self.fraction()
        if done is not None:
            filled = int(done * BAR_WIDTH)
            parts.append(f"[{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {done * 100:3.0f}%")
        count = f"{self.items:,} {self.unit}"
        if self.total_items:
            count = f"{self.items:,}/{self.total_items:,} {self.unit}"
        parts.append(count)
        parts.append(f"{self.items / elapsed:,.0f} {self.unit}/s")
        if self.bytes:
            parts.append(f"{self.bytes / elapsed / 1e6:.2f} MB/s")
        if done:
            parts.append(f"ETA {format_seconds(elapsed * (1 - done) / done)}")
        else:
            parts.append(f"{format_seconds(elapsed)} elapsed")
        return "  ".join(parts)

    def draw(self, text: str) -> None:
        """Replace the status line with ``text`` (when enabled)."""
        if not self.enabled:
            return
        self.stream.write("\r\x1b[2K" + text)
        self.stream.flush()
        self._drawn = True

    def phase(self, text: str) -> None:
        """Enter a phase that has no items to count (``committing``): the line
        says the items are all read and how long the phase has run, redrawn
        every second by a thread until :meth:`close`, since the caller is busy
        in the library meanwhile."""
        now = self.clock()
        self._phase = (text, now, now)
        if not self.enabled or self._ticker is not None:
            return
        self.tick_phase()
        self._ticker = threading.Thread(target=self._run_phase, name="progress", daemon=True)
        self._ticker.start()

    def phase_line(self) -> str:
        """The status line of the current phase (see :meth:`phase`)."""
        if self._phase is None:
            return self.line()
        text, read_end, start = self._phase
        read = f"{self.items:,} {self.unit} read in {format_seconds(read_end - self.started)}"
        return f"{read}  {text} {format_seconds(self.clock() - start)}"

    def tick_phase(self) -> None:
        """Redraw the phase's line, once the bar's delay has passed."""
        if self.enabled and self.clock() - self.started >= self.delay:
            self.draw(self.phase_line())

    def _run_phase(self) -> None:
        while not self._stop.wait(1.0):
            self.tick_phase()

    def close(self) -> None:
        """Stop a phase's redrawing and erase the status line."""
        self._stop.set()
        if self._ticker is not None:
            self._ticker.join()
            self._ticker = None
        if self._drawn:
            self.stream.write("\r\x1b[2K")
            self.stream.flush()
            self._drawn = False


def format_seconds(seconds: float) -> str:
    """``75`` -> ``1:15``; ``3725`` -> ``1:02:05``.

    >>> format_seconds(75), format_seconds(3725)
    ('1:15', '1:02:05')
    """
    s = round(max(seconds, 0.0))
    h, rest = divmod(s, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def input_size(*sources: str | Path) -> int | None:
    """Bytes of text the corpus sources hold (gzip: their uncompressed size), or ``None``."""
    total = 0
    for source in sources:
        path = Path(source)
        try:
            if path.is_dir():
                files = [p for p in path.rglob("*") if p.is_file() and _loadable(p)]
            elif path.is_file():
                files = [path]
            else:
                return None
            total += sum(_uncompressed_size(p) for p in files)
        except OSError:
            return None
    return total


def _loadable(path: Path) -> bool:
    name = path.name.lower()
    return name.endswith(TEXT_SUFFIXES + JSONL_SUFFIXES) and not name.startswith(".")


def _uncompressed_size(path: Path) -> int:
    size = path.stat().st_size
    if not path.name.lower().endswith(".gz") or size < 18:
        return size
    # gzip's trailer holds the uncompressed size modulo 2**32; good enough for an ETA
    # unless the member is over 4 GB or there are several members.
    with path.open("rb") as f:
        if f.read(2) != b"\x1f\x8b":
            return size
        f.seek(-4, 2)
        (isize,) = struct.unpack("<I", f.read(4))
    return int(isize) if isize >= size else size
