"""Disk damage: flip random bytes in an index's files, then open and search it.

Whoosh keeps no checksums, so damage is only found when it breaks decoding.
This counts, over ``--trials`` damaged copies of a small index, how often
opening and searching gave correct results, a clear ``SearchlibError``, wrong
results without an error, another exception, or a hang (``--hang`` seconds).
Nothing here can lose data that is not damaged: the point is which errors a
caller sees. Run by hand from the repository root::

    python -m benchmarks.robustness.corrupt_index --trials 500
"""

from __future__ import annotations

import argparse
import collections
import random
import shutil
import signal
import tempfile
from pathlib import Path

from searchlib import Document, Index, SearchlibError

QUERIES = ["cour", "mot5", "pir*", "musique loi", '"cour fédérale"', "fedrale~"]


class Hang(Exception):
    pass


def answers(ix: Index) -> list[object]:
    out: list[object] = []
    for q in QUERIES:
        r = ix.search(q, limit=20)
        out.append((r.total, [(h.id, h.snippet.to_html()) for h in r.hits]))
    out.append(ix.document("d3"))
    out.append(len(ix))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--trials", type=int, default=500)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--hang", type=int, default=30)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="corrupt-"))
    src = work / "ix"
    with Index.create(src) as ix:
        text = "cour fédérale pirate musique loi " * 30
        ix.add(Document(f"d{i}", f"Titre {i}", f"{text} mot{i}") for i in range(200))
        ix.add([Document("x", "X", "autre commit")])
        expected = answers(ix)
    rng = random.Random(args.seed)
    outcomes: collections.Counter[str] = collections.Counter()

    def hang(*_: object) -> None:
        raise Hang

    signal.signal(signal.SIGALRM, hang)
    for _ in range(args.trials):
        copy = work / "copy"
        shutil.copytree(src, copy)
        victim = rng.choice([p for p in copy.iterdir() if p.suffix in (".seg", ".toc")])
        data = bytearray(victim.read_bytes())
        for _ in range(rng.choice([1, 4, 32])):
            data[rng.randrange(len(data))] = rng.randrange(256)
        victim.write_bytes(bytes(data))
        signal.alarm(args.hang)
        try:
            with Index.open(copy) as ix:
                got = answers(ix)
            outcome = "same results" if got == expected else "WRONG results, no error"
        except SearchlibError as e:
            outcome = f"{type(e).__name__} (clear error)"
        except Hang:
            outcome = "HANG"
        except Exception as e:  # noqa: BLE001  # counted: that is the measurement
            outcome = f"OTHER {type(e).__name__}"
        finally:
            signal.alarm(0)
        outcomes[f"{outcome} [{victim.suffix}]"] += 1
        shutil.rmtree(copy)
    shutil.rmtree(work)
    print(f"{args.trials} damaged copies (seed {args.seed}):")
    for outcome, n in outcomes.most_common():
        print(f"  {n:5d}  {outcome}")


if __name__ == "__main__":
    main()
