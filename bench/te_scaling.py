"""Tracking error at any size: the benchmark problem (bench/synthetic.py) with and without a tracking-error limit,
each size and variant in a fresh process; seconds and peak RSS of the solve (``solve_allocation``: building the
problem, CVXPY's canonicalization and the solver) and of the whole child.

    python bench/te_scaling.py                      # 2,000, 5,000, 10,000 and 20,000 assets
    python bench/te_scaling.py --sizes 3000 20000 --json out.json

The risk model is the factor structure the returns are drawn from, held as allocate's factor form (15 factors plus
specific variances), so no estimation is timed. The tracking-error limit is 2% a year against the market-cap
benchmark (which is also the current portfolio), with the benchmark problem's caps, sector caps and turnover limit.
Without DPP for conic problems of this size (``allocator.optimize.problem.keeps_parameters``) the compile was
quadratic in n: 1.3 GB at 2,000 assets, 7.3 GB at 5,000, and a 13 GiB allocation that failed at 10,000. From 1,000
assets allocate now hands the problem to Clarabel directly (``allocator.optimize.conic``): the DPP column then
reads ``direct`` and nothing is compiled.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

HERE = Path(__file__).resolve().parent
SIZES = (2000, 5000, 10000, 20000)
TRACKING_ERROR_MAX = 0.02


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def measure(assets: int, tracking_error_max: float | None) -> dict[str, object]:
    """One solve in this process: seconds, peak RSS before and after (MB), the status and the tracking error."""
    import numpy as np

    from allocator.config.schema import SolverConfig
    from allocator.domain import RiskModel
    from allocator.optimize.constraints import tracking_error
    from allocator.optimize.problem import ProblemCache, keeps_parameters, solve_allocation
    from bench.synthetic import allocate_limits, synthetic_case

    case = synthetic_case(assets, days=60)  # the returns are not used: the risk model is the generating one
    rng = np.random.default_rng([7, assets])
    loadings = rng.standard_normal((assets, 15)) * 0.1
    risk = RiskModel(case.symbols, loadings, np.eye(15), rng.uniform(0.01, 0.09, assets), None, "factor")
    limits = replace(allocate_limits(case), tracking_error_max=tracking_error_max)
    before = _peak_rss_mb()
    started = time.perf_counter()
    cache = ProblemCache()
    allocation = solve_allocation(limits, case.mu, risk, case.gamma, SolverConfig(), cache)
    seconds = time.perf_counter() - started
    peak = _peak_rss_mb()
    # from 1,000 assets the problem goes to Clarabel directly (optimize.conic) and nothing is compiled
    dpp = keeps_parameters(cache.get(risk, limits)[0].problem) if cache.compiles else "direct"
    return {"assets": assets, "tracking_error_max": tracking_error_max, "seconds": seconds,
            "rss_before_mb": before, "peak_rss_mb": peak, "status": allocation.status, "dpp": dpp,
            "tracking_error": tracking_error(risk, allocation.weight, limits.benchmark)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    parser.add_argument("--json", type=Path, help="also write the rows here")
    parser.add_argument("--child", nargs=2, metavar=("ASSETS", "TE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        te = None if args.child[1] == "none" else float(args.child[1])
        print(json.dumps(measure(int(args.child[0]), te)))
        return
    rows = []
    print("| assets | tracking error limit | DPP | solve s | peak RSS MB (before the solve) | status |")
    print("|---:|---:|:---:|---:|---:|---|")
    for assets in args.sizes:
        for te in (None, TRACKING_ERROR_MAX):
            done = subprocess.run([sys.executable, str(Path(__file__)), "--child", str(assets), str(te or "none")],
                                  capture_output=True, text=True, cwd=HERE.parent, check=False,
                                  env={"PYTHONPATH": str(HERE.parent), "OMP_NUM_THREADS": "1",
                                       "OPENBLAS_NUM_THREADS": "1", "PATH": "/usr/bin:/bin"})
            if done.returncode != 0:
                print(f"| {assets} | {te or 'none'} | | | | failed: {done.stderr.strip().splitlines()[-1:]} |")
                continue
            row = json.loads(done.stdout.splitlines()[-1])
            rows.append(row)
            dpp = row["dpp"] if row["dpp"] == "direct" else "yes" if row["dpp"] else "no"
            print(f"| {assets:,} | {te or 'none'} | {dpp} | {row['seconds']:.2f} | "
                  f"{row['peak_rss_mb']:,.0f} ({row['rss_before_mb']:,.0f}) | {row['status']} |", flush=True)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
