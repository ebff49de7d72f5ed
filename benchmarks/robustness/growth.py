"""How the cost of hostile input grows: each case on three sizes.

The cases of the second reliability round (RELIABILITY.md): an unknown word
of thousands of letters (typo correction), ``word~2`` on long words (fuzzy
expansion), a flood of parentheses (acronym mining), a huge title (stored with
every passage), and a word repeated in an AND chain. Each prints its time on
three sizes and checks its outcome inside the timed work, so a case that
grows faster than its input shows in one run. Run from the repository root::

    python -m benchmarks.robustness.growth --corpus ../shared/corpora/prebuilt/fr-small.jsonl.gz
"""

from __future__ import annotations

import argparse
import random
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from searchlib import Document, Index, QuerySyntaxError, SearchlibError
from searchlib.query.acronyms import find_definitions


def _timed(fn: Callable[[], str]) -> tuple[float, str]:
    t0 = time.perf_counter()
    outcome = fn()
    return time.perf_counter() - t0, outcome


def _search(ix: Index, query: str, **options: float | None) -> Callable[[], str]:
    def run() -> str:
        try:
            results = ix.search(query, time_limit=options.get("time_limit", 10.0))
        except QuerySyntaxError as e:
            return f"QuerySyntaxError ({str(e)[:40]}…)"
        except SearchlibError as e:
            return type(e).__name__
        return f"{results.total} hits"

    return run


def _word(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(n))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", required=True, help="JSONL corpus to search (fr-small)")
    args = parser.parse_args()
    rng = random.Random(1)
    scratch = Path(tempfile.mkdtemp(prefix="growth-"))
    try:
        with Index.build(scratch / "ix", _load(args.corpus)) as ix:
            rows: list[tuple[str, str, float, str]] = []
            for n in (3_000, 10_000, 20_000):
                seconds, out = _timed(_search(ix, _word(rng, n)))
                rows.append(("unknown word (typo correction)", f"{n:,} letters", seconds, out))
            for n in (20, 32, 3_000):
                query = " ".join(_word(rng, n) + "~2" for _ in range(8))
                seconds, out = _timed(_search(ix, query, time_limit=2.0))
                rows.append(("eight word~2, time_limit=2", f"{n:,} letters", seconds, out))
            for n in (50, 100, 150):
                seconds, out = _timed(_search(ix, " AND ".join(["musique"] * n)))
                rows.append(("musique AND musique ...", f"{n} words", seconds, out))
            for mb in (0.25, 2, 10):
                text = "ab (cd) " * int(mb * 1e6 / 8)
                seconds, out = _timed(lambda t=text: f"{len(find_definitions(t))} definitions")
                rows.append(("acronym mining, 'ab (cd) ' repeated", f"{mb:g} MB", seconds, out))
            for kb in (50, 100, 200):
                seconds, out = _timed(lambda kb=kb: _huge_title(scratch, kb))
                rows.append(("0.6 MB document, huge title", f"{kb} KB title", seconds, out))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    print("| case | size | seconds | outcome |\n|---|---|---:|---|")
    for case, size, seconds, out in rows:
        print(f"| {case} | {size} | {seconds:.2f} | {out} |")


def _load(corpus: str) -> list[Document]:
    from searchlib import load_corpus

    return list(load_corpus(corpus))


def _huge_title(scratch: Path, kb: int) -> str:
    title = " ".join(f"m{i}" for i in range(kb * 1000 // 6))[: kb * 1000]
    text = "\n\n".join(
        f"Paragraphe {i} : le contrat de travail et la rupture conventionnelle." * 12
        for i in range(700)
    )[:600_000]
    folder = scratch / f"title-{kb}"
    with Index.create(folder) as ix:
        ix.add([Document("t", title, text)])
    size = sum(f.stat().st_size for f in folder.iterdir())
    shutil.rmtree(folder)
    return f"index {size / 1e6:.1f} MB"


if __name__ == "__main__":
    main()
