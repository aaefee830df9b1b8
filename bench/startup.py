"""Start-up: ``allocate run`` on the example against ``python -c "import cvxpy, pandas"``.

Both are run as fresh processes, alternately, ``runs`` times each; wall time is measured around the process and
CPU time (user + system) from the kernel's accounting of the child. The comparison that matters is the minimum
wall time (the least disturbed run of each on a shared machine); medians and CPU times are shown beside it.
The ``allocate`` command is the full ``make example`` run: read and check every input, estimate, solve, round to
trades, reconcile, print the summary (to /dev/null) and write the output folder.
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def _timed(command: list[str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one run of ``command``; raises if it fails."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    completed = subprocess.run(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if completed.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed: {completed.stderr.decode()[-500:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def startup(runs: int = 9) -> dict[str, Any]:
    python = sys.executable
    allocate = str(Path(python).with_name("allocate"))
    with tempfile.TemporaryDirectory() as folder:
        commands = {
            "import": [python, "-c", "import cvxpy, pandas"],
            "run": [allocate, "run", "examples/holdings.csv", "-c", "configs/base.yaml", "-o",
                    os.path.join(folder, "out"), "--force"],
        }
        for command in commands.values():  # warm the file cache and the bytecode of both once
            _timed(command)
        samples: dict[str, list[tuple[float, float]]] = {name: [] for name in commands}
        for _ in range(runs):
            for name, command in commands.items():
                samples[name].append(_timed(command))
    out: dict[str, Any] = {"runs": runs, "command": "allocate run examples/holdings.csv -c configs/base.yaml -o OUT "
                                                    "--force"}
    for name, values in samples.items():
        walls = [w for w, _ in values]
        cpus = [c for _, c in values]
        out[name] = {"wall_min": min(walls), "wall_median": statistics.median(walls), "cpu_min": min(cpus),
                     "cpu_median": statistics.median(cpus)}
    for key in ("wall_min", "wall_median", "cpu_min", "cpu_median"):
        out[f"ratio_{key}"] = out["run"][key] / out["import"][key]
    return out
