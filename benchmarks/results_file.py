"""Keep ``benchmarks/RESULTS.md`` current: generated sections between markers.

Text outside ``<!-- BEGIN name -->`` / ``<!-- END name -->`` (conclusions,
notes) is kept as written; the text between them is replaced.
"""

from __future__ import annotations

import argparse
import json
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

RESULTS_MD = Path(__file__).resolve().parent / "RESULTS.md"


def replace_section(document: str, name: str, body: str) -> str:
    """``document`` with the generated section ``name`` set to ``body`` (appended if absent).

    >>> replace_section("a\\n<!-- BEGIN x -->\\nold\\n<!-- END x -->\\nb", "x", "new\\n")
    'a\\n<!-- BEGIN x -->\\nnew\\n<!-- END x -->\\nb'
    """
    begin, end = f"<!-- BEGIN {name} -->", f"<!-- END {name} -->"
    block = f"{begin}\n{body.rstrip()}\n{end}"
    pattern = re.compile(re.escape(begin) + r".*?" + re.escape(end), re.DOTALL)
    if pattern.search(document):
        return pattern.sub(lambda _m: block, document, count=1)
    return document.rstrip() + "\n\n" + block + "\n"


def update_results_md(name: str, body: str, path: Path = RESULTS_MD) -> Path:
    """Write ``body`` into section ``name`` of RESULTS.md."""
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmark results\n"
    path.write_text(replace_section(text, name, body), encoding="utf-8")
    return path


def publish(name: str, text: str, write: bool) -> None:
    """Print ``text``, a generated section; with ``write``, put it in RESULTS.md too."""
    print(text)
    if write:
        update_results_md(name, text)


def run_or_render(
    name: str,
    args: argparse.Namespace,
    run: Callable[[argparse.Namespace], dict[str, Any]],
    report: Callable[[Mapping[str, Any]], str],
) -> None:
    """A study's result: with ``args.render``, the JSON saved by an earlier run;
    otherwise ``run(args)``, saved as JSON to ``args.json``. Then :func:`publish`\\ ed
    as section ``name`` (written to RESULTS.md with ``args.write_results``)."""
    if args.render:
        result = json.loads(Path(args.render).read_text(encoding="utf-8"))
    else:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        result = run(args)
        Path(args.json).write_text(json.dumps(result, indent=1), encoding="utf-8")
    publish(name, report(result), args.write_results)
