"""Which tests take more than THRESHOLD seconds, and does the ``slow`` marker say so? (Not a test: timings vary.)

Runs the whole suite serially with ``--durations=0`` (setup + call + teardown per test), then lists the tests over the
threshold that are not marked slow, and the marked ones that now run well under it. ``make check`` skips the marked
ones, so a test that grew slow makes the fast loop slower until it is marked.

    .venv/bin/python scripts/slow_tests.py [--threshold 2.0] [pytest arguments, e.g. tests/model]

The numbers depend on the machine and its load; run it on an otherwise idle one. A module- or session-scoped
fixture (the example run, the scenario pack) is timed with the first test that uses it: such a test is not slow.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from collections import defaultdict

LINE = re.compile(r"^(\d+\.\d+)s (setup|call|teardown)\s+(.+)$")  # ids may hold spaces


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threshold", type=float, default=2.0, help="seconds (default 2.0)")
    options, rest = parser.parse_known_args()
    pytest = [sys.executable, "-m", "pytest", "-p", "no:xdist", "-p", "no:cacheprovider", "-q"]
    marked = subprocess.run([*pytest, "--collect-only", "-m", "slow", *rest], capture_output=True, text=True,
                            check=False).stdout
    slow = {line.strip() for line in marked.splitlines() if "::" in line}
    run = subprocess.run([*pytest, "--durations=0", "--durations-min=0", *rest], capture_output=True, text=True,
                         check=False)
    seconds: dict[str, float] = defaultdict(float)
    for line in run.stdout.splitlines():
        match = LINE.match(line.strip())
        if match:
            seconds[match.group(3)] += float(match.group(1))
    if not seconds:
        print(run.stdout[-3000:], run.stderr[-3000:], sep="\n")
        return 2
    over = sorted((t, s) for t, s in seconds.items() if s > options.threshold and t not in slow)
    under = sorted((t, s) for t, s in seconds.items() if t in slow and s < options.threshold / 2)
    print(f"{len(seconds)} tests, {sum(seconds.values()):.1f} s serially; "
          f"{sum(s for t, s in seconds.items() if t not in slow):.1f} s in the tests not marked slow")
    for test, value in over:
        print(f"NOT MARKED  {value:6.2f} s  {test}")
    for test, value in under:
        print(f"marked slow {value:6.2f} s  {test}")
    print(run.stdout.strip().splitlines()[-1] if run.stdout.strip() else "")
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
