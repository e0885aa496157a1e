"""make bench, part 2: what checking students' code costs, from the command line, imports included.

    python benchmarks/classroom.py            # one file of each kind, then a class of 100 (about 2 minutes)
    python benchmarks/classroom.py --quick    # a class of 20

1. One student file, `python -m frameworks.check FILE --preset ...` as a student runs it: the
   median of 3 runs, process start and imports included (tests/students/).
2. A class: 100 submissions copied from the CS224n ones in tests/students/cs224n (two that pass,
   mistakes, a crash, and one that loops until each call's 10 s limit stops it), checked with
   --report, every file in its own process, on all the cores. Left out: the submission whose loop
   swallows the call limit, which the per-file limit (--time-limit, 120 s) alone ends: each such
   file costs one core those 120 s.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STUDENTS = ROOT / "tests" / "students"
ONE = [
    ("cs224n-q2, correct", "cs224n/alice/q2_neural.py:forward_backward_prop", "cs224n-q2"),
    ("cs224n-q2, one mistake, diagnosed", "cs224n/carol/q2_neural.py:forward_backward_prop", "cs224n-q2"),
    ("cs231n-two-layer, correct (reg 0 and 0.1)", "cs231n/correct_2017.py:TwoLayerNet", "cs231n-two-layer"),
    ("cs231n-two-layer, a regularization slip", "cs231n/reg_only_in_loss.py:TwoLayerNet", "cs231n-two-layer"),
]


def cli(*args) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "frameworks.check", *args], cwd=ROOT, capture_output=True, check=False)
    return time.perf_counter() - start


def one_file(repeats: int) -> list[str]:
    lines = ["1. One student file from the command line, s (median of 3; process start and imports included)", ""]
    for label, target, preset in ONE:
        seconds = statistics.median(cli(str(STUDENTS / target), "--preset", preset) for _ in range(repeats))
        lines.append(f"   {label:<45} {seconds:6.2f} s")
    return lines


def a_class(size: int) -> list[str]:
    sources = sorted(p for p in (STUDENTS / "cs224n").iterdir() if p.is_dir() and p.name != "peggy")
    with tempfile.TemporaryDirectory() as folder:
        for i in range(size):
            shutil.copytree(sources[i % len(sources)], Path(folder) / f"student{i:03d}")
        seconds = cli(f"{folder}/*/q2_neural.py:forward_backward_prop", "--preset", "cs224n-q2",
                      "--report", f"{folder}/report")
        summary = (Path(folder) / "report" / "summary.md").read_text().splitlines()[2]
    return [f"2. A class of {size} CS224n submissions (copies of {len(sources)} in tests/students/cs224n), --report, "
            f"{os.cpu_count()} cores", "", f"   {seconds:.1f} s in all, {seconds / size:.2f} s per submission: {summary}"]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    for line in [*one_file(1 if args.quick else 3), "", *a_class(20 if args.quick else 100)]:
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
