"""``python -m benchmarks.studies.lucene tokens|relevance``: see the package docstring."""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.studies.lucene import parity
from benchmarks.studies.lucene.jar import Lucene, cache_dir, missing_java


def _shared() -> Path:
    env = os.environ.get("SEARCHLIB_SHARED")
    return Path(env) if env else Path(__file__).resolve().parents[4] / "shared"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.studies.lucene")
    parser.add_argument("what", choices=("tokens", "relevance"))
    parser.add_argument(
        "--collection",
        type=Path,
        default=None,
        help="folder with corpus.jsonl, queries.jsonl, qrels.tsv (default: cdtn-requetes "
        "in the shared data)",
    )
    parser.add_argument("--sample", type=int, default=0, help="first N documents only")
    parser.add_argument("--queries", type=int, default=0, help="first N queries only")
    parser.add_argument("--scratch", type=Path, default=None, help="work folder (kept)")
    parser.add_argument("--out", type=Path, default=None, help="write the JSON report here")
    parser.add_argument(
        "--whoosh-formula",
        action="store_true",
        help="relevance: also run Lucene with searchlib's own BM25F formula (a diagnosis)",
    )
    args = parser.parse_args(argv)
    reason = missing_java()
    if reason:
        print(f"cannot run: {reason}", file=sys.stderr)
        return 1
    collection = args.collection or _shared() / "eval-public" / "cdtn-requetes"
    lucene = Lucene.prepare(cache_dir())
    scratch = args.scratch or Path(tempfile.mkdtemp(prefix="searchlib-lucene-"))
    scratch.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    if args.what == "tokens":
        report = parity.run(
            lucene, collection, scratch, documents=args.sample, queries=args.queries
        )
    else:
        from benchmarks.studies.lucene import relevance

        report = relevance.run(
            lucene,
            collection,
            scratch,
            documents=args.sample,
            queries=args.queries,
            whoosh_formula=args.whoosh_formula,
        )
    report["lucene_version"] = lucene.version()
    report["seconds"] = round(time.perf_counter() - t0, 1)
    text = json.dumps(report, ensure_ascii=False, indent=2)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n", encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
