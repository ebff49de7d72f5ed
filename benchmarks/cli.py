"""Command line: ``python -m benchmarks [--quick | --full] [options]``.

Prints the Markdown report on stdout (progress on stderr), writes the results
as JSON under ``benchmarks/out/``, and exits 1 when a gate fails (see
:mod:`benchmarks.gates`). ``--write-results`` also puts the report into
``benchmarks/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import json
import shlex
import shutil
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from benchmarks.engines import PEERS, EngineSpec, default_specs, named_specs, parse_variant
from benchmarks.gates import judge
from benchmarks.report import render
from benchmarks.results_file import update_results_md
from benchmarks.runner import FULL, QUICK, SECTIONS, Runner, make_scratch, run

OUT = Path(__file__).resolve().parent / "out"


def parser() -> argparse.ArgumentParser:
    """The argument parser."""
    p = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Speed and relevance of searchlib and its peers, measured in one run.",
    )
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true", help="the CI run (default)")
    mode.add_argument(
        "--full", action="store_true", help="the RESULTS.md run (fr-medium, all queries)"
    )
    p.add_argument(
        "--corpus",
        help="corpus for build/latency/analyzer: fr-small, fr-medium, fr-large or a path",
    )
    p.add_argument(
        "--engines",
        help=f"comma-separated engines to run (default: searchlib,{','.join(PEERS)})",
    )
    p.add_argument(
        "--variant",
        action="append",
        default=[],
        metavar="SPEC",
        help="add a searchlib variant: NAME:k1=0.9,b=0.4 (Ranking fields, other keys are "
        "Index.search options) or NAME=module:factory; repeatable",
    )
    p.add_argument("--only", help=f"comma-separated sections: {','.join(SECTIONS)}")
    p.add_argument("--jobs", type=int, help="relevance tasks run at once")
    p.add_argument("--seed", type=int, help="seed of every sample (default 1)")
    p.add_argument("--out", type=Path, default=OUT, help="folder for the JSON results")
    p.add_argument(
        "--scratch", help="parent folder for the temporary indexes (default: system temp)"
    )
    p.add_argument("--no-gate", action="store_true", help="exit 0 even when a gate fails")
    p.add_argument("--write-results", action="store_true", help="update benchmarks/RESULTS.md")
    return p


def specs_from(args: argparse.Namespace) -> list[EngineSpec]:
    """The engines to run, in table order."""
    specs = default_specs()
    if args.engines:
        specs = named_specs([e.strip() for e in args.engines.split(",") if e.strip()])
    return specs + [parse_variant(v) for v in args.variant]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; 0 when every gate passes, 1 otherwise, 2 on bad usage."""
    args = parser().parse_args(argv)
    config = FULL if args.full else QUICK
    changes: dict[str, object] = {}
    if args.corpus:
        changes["corpus"] = args.corpus
    if args.jobs:
        changes["jobs"] = args.jobs
    if args.seed is not None:
        changes["seed"] = args.seed
    if args.only:
        sections = tuple(s.strip() for s in args.only.split(",") if s.strip())
        bad = [s for s in sections if s not in SECTIONS]
        if bad:
            print(f"error: unknown section(s) {bad}; known: {', '.join(SECTIONS)}", file=sys.stderr)
            return 2
        changes["sections"] = sections
    config = config.replace(**changes)
    try:
        specs = specs_from(args)
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    command = shlex.join(["python", "-m", "benchmarks", *(sys.argv[1:] if argv is None else argv)])
    scratch = make_scratch(args.scratch)
    try:
        results = run(config, specs, Runner(scratch))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    gates = judge(results)
    results["meta"]["command"] = command
    results["gates"] = [g.to_json() for g in gates]
    report = render(results, gates, command)
    print(report, end="", flush=True)
    args.out.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    for name in (f"{config.mode}-{stamp}.json", f"latest-{config.mode}.json"):
        (args.out / name).write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    print(f"results written to {args.out / f'latest-{config.mode}.json'}", file=sys.stderr)
    if args.write_results:
        path = update_results_md("benchmark", report)
        print(f"{path} updated", file=sys.stderr)
    failed = [g for g in gates if not g.ok]
    if failed and not args.no_gate:
        for g in failed:
            print(f"GATE FAILED: {g.name}: {g.detail}", file=sys.stderr)
        return 1
    return 0
