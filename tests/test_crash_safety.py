"""SIGKILL a writing process at random moments: nothing committed is ever lost.

A worker process (``crash_worker.py``) commits a deterministic workload
(adds with updates and same-batch duplicates, deletes, optimizes) and is
killed with SIGKILL after a random delay, many times over, on the same index.
After each kill the index must open, hold exactly the documents of the last
commit the worker finished (or of the one it was finishing, which is atomic:
all of it or none of it), and accept a new writer at once: Whoosh's write
lock is an ``flock`` the kernel releases when the process dies, so the lock
file left behind is not a stale lock.

``SEARCHLIB_CRASH_KILLS`` sets the number of kills (default 10, a few seconds
per kill on CI); RELIABILITY.md reports a longer run.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from crash_worker import expected_state  # tests/ is on sys.path under pytest

from searchlib import Document, Index

KILLS = int(os.environ.get("SEARCHLIB_CRASH_KILLS", "10"))
WORKER = Path(__file__).parent / "crash_worker.py"

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")


def index_state(ix: Index) -> dict[str, str]:
    """Texts by document id, rebuilt from the stored passages."""
    parts: dict[str, list[tuple[int, str]]] = {}
    for stored in ix.searcher().reader().all_stored_fields():
        parts.setdefault(stored["doc_id"], []).append((stored["position"], stored["text"]))
    return {doc_id: "".join(t for _, t in sorted(ps)) for doc_id, ps in parts.items()}


def last_event(log: Path) -> tuple[str, int]:
    lines = log.read_text().splitlines() if log.exists() else []
    if not lines:
        return "none", -1
    word, number = lines[-1].split()
    return word, int(number)


def wait_until_started(proc: subprocess.Popen[bytes], log: Path, size: int) -> None:
    """Wait for the worker's first log line (it has imported and opened the index)."""
    deadline = time.monotonic() + 60  # a guard against a hung worker, not a measurement
    while not log.exists() or log.stat().st_size == size:
        if proc.poll() is not None:
            raise AssertionError(f"worker exited early with {proc.returncode}")
        if time.monotonic() > deadline:
            raise AssertionError("worker did not start")
        time.sleep(0.01)


@pytest.mark.slow
def test_sigkill_at_random_moments_loses_nothing(tmp_path: Path) -> None:
    path = tmp_path / "ix"
    log = tmp_path / "log"
    Index.create(path).close()
    rng = random.Random(20261129)
    committed = -1  # the last batch the index is known to hold
    phases: Counter[str] = Counter()
    for _ in range(KILLS):
        size = log.stat().st_size if log.exists() else 0
        proc = subprocess.Popen(
            [sys.executable, str(WORKER), str(path), str(log), str(committed + 1)],
            stderr=subprocess.PIPE,
        )
        wait_until_started(proc, log, size)
        time.sleep(rng.uniform(0.0, 1.0))
        proc.send_signal(signal.SIGKILL)
        _, err = proc.communicate()
        assert proc.returncode == -signal.SIGKILL, err.decode()
        phase, k = last_event(log)
        phases[phase] += 1
        last_done = k if phase == "done" else k - 1
        with Index.open(path) as ix:
            state = index_state(ix)
            if phase == "commit" and state == expected_state(k):
                committed = k  # killed after Whoosh's commit, before "done" was logged
            else:
                assert state == expected_state(last_done), f"killed at {phase} {k}"
                committed = last_done
            # A new writer proceeds at once: no stale lock, no leftovers in the way.
            ix.add([Document("sonde", "Sonde", "écriture après le crash")])
            assert ix.delete(["sonde"]) == 1
            assert index_state(ix) == expected_state(committed)
            assert ix.search("sonde").total == 0
        leftovers = [p.name for p in path.iterdir() if ".toc." in p.name]
        assert leftovers == []
    assert committed > 0  # the worker got some work done between kills
    print(f"{KILLS} kills, phases {dict(phases)}, last batch committed {committed}")
