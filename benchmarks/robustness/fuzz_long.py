"""The long fuzzing run: the Hypothesis properties of the test suite, with many
random examples (the suite runs them derandomized and bounded).

Each round runs the properties of ``tests/test_robustness_fuzz.py`` (text,
queries, corpora) and of ``tests/test_side_files.py`` (any JSON, any learned
model, any tree numbers: a side file loads or is refused in one clear error)
with a fresh random seed and ``--examples`` examples per property, until
``--minutes`` have passed. A
failure stops the run and shows Hypothesis's minimal failing example (rerun it
with the printed seed). Run by hand from the repository root::

    python -m benchmarks.robustness.fuzz_long --minutes 30 --examples 5000
"""

from __future__ import annotations

import argparse
import os
import random
import re
import subprocess
import sys
import time

TESTS = [
    "tests/test_robustness_fuzz.py",
    "tests/test_side_files.py::test_parse_json_raises_only_the_given_error",
    "tests/test_side_files.py::test_a_model_of_any_shape_loads_or_is_a_format_error",
    "tests/test_side_files.py::test_a_forest_of_any_numbers_loads_or_is_a_format_error",
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--examples", type=int, default=5000, help="per property and round")
    args = parser.parse_args()
    env = dict(os.environ, SEARCHLIB_FUZZ_EXAMPLES=str(args.examples))
    end = time.monotonic() + args.minutes * 60
    rounds = examples = 0
    started = time.monotonic()
    while time.monotonic() < end:
        seed = random.SystemRandom().randrange(2**32)
        cmd = [sys.executable, "-m", "pytest", "-q", *TESTS, "-p", "no:cacheprovider"]
        cmd += ["--hypothesis-show-statistics", f"--hypothesis-seed={seed}"]
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
        passing = sum(int(n) for n in re.findall(r"- (\d+) passing", proc.stdout))
        rounds += 1
        examples += passing
        print(f"round {rounds}: seed {seed}, {passing} passing examples, exit {proc.returncode}")
        if proc.returncode != 0:
            print(proc.stdout[-6000:], proc.stderr[-2000:], sep="\n")
            print(f"FAILED with --hypothesis-seed={seed}")
            return 1
    minutes = (time.monotonic() - started) / 60
    print(f"{rounds} rounds, {examples} examples in {minutes:.1f} min: no failure")
    return 0


if __name__ == "__main__":
    sys.exit(main())
