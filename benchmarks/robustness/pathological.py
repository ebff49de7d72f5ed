"""Cost of hostile input: how long each pathological case takes, and what it gives.

Measures, on a real corpus index (built once into ``benchmarks/.scratch``):
a 1 MB single-line document (indexing and searching), a 10,000-word query,
1,000 nested parentheses, short and broad prefixes (``a*``, ``co*``), fuzzy
words (``e~2``) and hundreds of frequent words. Every case checks its outcome
(hits, or the documented error) inside the timed work; each case gives its first run
(cold caches: the fast path reads a term's postings once) and the median of
``--repeat`` runs, next to a plain one-word query measured in the same run.

Run from the repository root::

    python -m benchmarks.robustness.pathological \\
        --corpus ../shared/corpora/prebuilt/fr-medium.jsonl.gz
"""

from __future__ import annotations

import argparse
import random
import resource
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from searchlib import Document, Index, SearchlibError, load_corpus
from searchlib.analysis.stopwords import FRENCH_STOP_WORDS

SCRATCH = Path("benchmarks/.scratch")


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed(fn: Callable[[], str], repeat: int) -> tuple[float, float, str]:
    """First run (cold caches), median of ``repeat`` runs, and the outcome."""
    times, outcome = [], ""
    for _ in range(repeat):
        t0 = time.perf_counter()
        outcome = fn()
        times.append(time.perf_counter() - t0)
    return times[0], statistics.median(times), outcome


def search_outcome(ix: Index, query: str, **options: object) -> Callable[[], str]:
    def run() -> str:
        try:
            r = ix.search(query, **options)  # type: ignore[arg-type]
        except SearchlibError as e:
            return f"{type(e).__name__}: {str(e)[:60]}"
        assert r.total >= len(r.hits)
        return f"{r.total} hits"

    return run


def build(corpus: Path) -> Path:
    path = SCRATCH / f"patho-{corpus.name.split('.')[0]}"
    try:
        Index.open(path).close()
    except SearchlibError:
        with Index.create(path, overwrite=True) as ix:
            ix.add(load_corpus(corpus))
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", type=Path, required=True)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    SCRATCH.mkdir(parents=True, exist_ok=True)
    ix = Index.open(build(args.corpus))
    reader = ix.searcher().reader()
    lexicon = [(reader.doc_frequency("text", t), t) for t in reader.lexicon("text")]
    vocab = [t.decode() if isinstance(t, bytes) else t for _, t in lexicon]
    frequent = [
        (t.decode() if isinstance(t, bytes) else t)
        for _, t in sorted(lexicon, reverse=True)
        if (t.decode() if isinstance(t, bytes) else t).isalpha()
        and (t.decode() if isinstance(t, bytes) else t) not in FRENCH_STOP_WORDS
    ]
    rng = random.Random(1)
    words = [w for w in vocab if w.isalpha() and len(w) > 3]
    stats = ix.stats()
    print(f"index: {stats.documents} documents, {stats.passages} passages, {len(vocab)} terms")
    rows: list[tuple[str, float, float, str, float]] = []

    def case(name: str, fn: Callable[[], str], repeat: int = args.repeat) -> None:
        before = rss_mb()
        first, seconds, outcome = timed(fn, repeat)
        rows.append((name, first, seconds, outcome, rss_mb() - before))
        print(f"{name:<48} {first:8.3f} s {seconds:8.3f} s  {outcome}", flush=True)

    case("baseline: one word (`musique`)", search_outcome(ix, "musique"))
    case(
        "question of 12 words",
        search_outcome(ix, "Quelle est la durée du préavis en cas de démission du salarié ?"),
    )
    case("10,000-word query", search_outcome(ix, " ".join(rng.choices(words, k=10_000))))
    case(
        "256 random words (the most allowed)", search_outcome(ix, " ".join(rng.sample(words, 256)))
    )
    case("64 most frequent words", search_outcome(ix, " ".join(frequent[:64])))
    case(
        "64 most frequent words, no time limit",
        search_outcome(ix, " ".join(frequent[:64]), time_limit=None),
        1,
    )
    case("1,000 nested parentheses", search_outcome(ix, "(" * 1000 + "musique" + ")" * 1000))
    case("NOT × 10,000", search_outcome(ix, "NOT " * 10_000 + "musique"))
    case("100,000 stray « quotes", search_outcome(ix, "«" * 100_000 + " musique"))
    case("`a*` (too short)", search_outcome(ix, "a*"))
    case("`co*` (broad prefix)", search_outcome(ix, "co*"))
    case("`co*`, no time limit", search_outcome(ix, "co*", time_limit=None), 1)
    case("`e~2`", search_outcome(ix, "e~2"))
    case("`anticonstitutionnellement~2`", search_outcome(ix, "anticonstitutionnellement~2"))
    fuzzy8 = " ".join(w + "~2" for w in rng.sample(words, 8))
    case("8 words `~2` (the most allowed)", search_outcome(ix, fuzzy8))
    prefixes8 = " ".join(w[:3] + "*" for w in rng.sample(words, 8))
    case("8 prefixes `abc*` (the most allowed)", search_outcome(ix, prefixes8))

    # Not a union at the top: these run through Whoosh's matchers, not the fast path.
    case("`co* AND pr*` (Whoosh path)", search_outcome(ix, "co* AND pr*"))
    case("`co* AND pr*`, no time limit", search_outcome(ix, "co* AND pr*", time_limit=None), 1)
    nested = "(co* OR de*) AND (pr* OR re*) NOT xx"
    case(f"`{nested}`", search_outcome(ix, nested))
    case("  the same, no time limit", search_outcome(ix, nested, time_limit=None), 1)
    case("64 most frequent words `-zzzz`", search_outcome(ix, " ".join(frequent[:64]) + " -zzzz"))

    big = " ".join(rng.choices(words, k=120_000)) + " aiguilleunique"
    memory = Index.in_memory()

    def index_big() -> str:
        memory.add([Document("big", "Gros", big)])
        hits = memory.search("aiguilleunique").hits
        assert hits and hits[0].doc_id == "big"
        return f"{len(big) / 1e6:.2f} MB, {len(memory.passages('big'))} passages"

    case("1 MB single-line document: index + search", index_big, 1)

    print("\n| case | first s | median s | outcome | max RSS growth MB |\n|---|---|---|---|---|")
    for name, first, seconds, outcome, grew in rows:
        print(f"| {name} | {first:.3f} | {seconds:.3f} | {outcome} | {grew:.0f} |")


if __name__ == "__main__":
    main()
