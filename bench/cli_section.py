"""``allocate run`` through the CLI on generated universes, against its floor measured in the same bench.

For each size: the universe's files (bench/universe_files.py), then, each in a fresh process measured by
bench/process.py (wall, CPU, peak RSS): the imports' baseline (``python -c "import ..."``, the libraries a run
loads), the floor (bench/cli_floor.py) and ``python -m allocator run HOLDINGS -c CONFIG -o OUT --force``, with and
without the tracking-error limit. Runs alternate floor, run; the best wall time of ``repeat`` is kept for each
(CPU and peak RSS from that same run).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from process import Measured, measure

HERE = Path(__file__).resolve().parent
IMPORTS = "import cvxpy, clarabel, numpy, pandas, scipy.sparse, pydantic, rich, yaml"
CONFIG = {"te": "config.yaml", "no_te": "config_no_te.yaml"}


def _record(m: Measured) -> dict[str, Any]:
    out: dict[str, Any] = {"wall": m.wall, "cpu": m.cpu, "peak_rss_mb": m.peak_rss_mb}
    error = m.error()
    if error is not None:
        out["error"] = error
    return out


def _best(runs: list[dict[str, Any]]) -> dict[str, Any]:
    good = [r for r in runs if "error" not in r]
    return min(good, key=lambda r: r["wall"]) if good else runs[-1]


def cli_runs(assets: int, folder: Path, env: dict[str, str], repeat: int, timeout: float,
             memory_limit_gb: float) -> dict[str, Any]:
    """Write the universe of ``assets`` assets into ``folder`` and measure the baseline, floor and runs."""
    from base_case import base_case
    from universe_files import write_universe

    write_universe(base_case(assets), folder)
    python = sys.executable
    result: dict[str, Any] = {"assets": assets, "price_rows": sum(1 for _ in (folder / "prices.csv").open()) - 1}
    result["price_matrix_mb"] = result["price_rows"] * assets * 8 / 2**20
    result["imports"] = _best([_record(measure([python, "-c", IMPORTS], env, timeout=timeout)) for _ in range(repeat)])
    for variant, config in CONFIG.items():
        floors, runs = [], []
        for _ in range(repeat):
            floor = measure([python, str(HERE / "cli_floor.py"), str(folder), config], env, timeout=timeout,
                            memory_limit_gb=memory_limit_gb)
            record = _record(floor)
            if "error" not in record:
                record["stages"] = json.loads(floor.stdout.strip().splitlines()[-1])
            floors.append(record)
            runs.append(_record(measure(
                [python, "-m", "allocator", "run", str(folder / "holdings.csv"), "-c", str(folder / config), "-o",
                 str(folder / f"out-{variant}"), "--force"], env, timeout=timeout,
                memory_limit_gb=memory_limit_gb)))
        result[variant] = {"floor": _best(floors), "run": _best(runs)}
    return result
