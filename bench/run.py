"""The allocate benchmark suite: ``make bench`` (or ``python bench/run.py``); see bench/README.md.

Sections, each measured in fresh child processes (one per method and size) with BLAS pinned to one thread:
1. ``problem``: the benchmark problem (bench/synthetic.py) solved by allocate, PyPortfolioOpt, skfolio and, on
   the same problem without the turnover limit it cannot express, Riskfolio-Lib, at 20 to 3,000 assets
   (Riskfolio-Lib up to ``--riskfolio-max``, 500 by default).
2. ``scenarios``: 20 scenario solves at 500 assets on one compiled problem (bench/scenarios.py).
3. ``startup``: ``allocate run`` on the example against ``python -c "import cvxpy, pandas"`` (bench/startup.py).
4. ``estimators``: scikit-learn's Ledoit-Wolf against allocate's closed form (bench/estimators.py).
5. ``formulations``: dense against exact factor form of Ledoit-Wolf (bench/formulations.py), the measurement
   behind ``risk.factor_threshold``.
Results go to bench/results.json (everything) and bench/results.md (the tables the README quotes).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
SIZES = (20, 100, 500, 2000, 3000)
QUICK_SIZES = (20, 100, 500)
SECTIONS = ("problem", "scenarios", "startup", "estimators", "formulations")
PEERS = ("pyportfolioopt", "skfolio")


# --- children: one measurement each, JSON on stdout ------------------------------------------------------------


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def child_problem(method: str, assets: int, variant: str, repeat: int) -> dict[str, Any]:
    from methods import METHODS
    from synthetic import synthetic_case

    solve = METHODS[method]
    adjust = (lambda c: c.without_turnover()) if variant == "no_turnover" else (lambda c: c)
    solve(adjust(synthetic_case(20, seed=1)))  # warm-up: one-time imports and first-use costs, for every method
    case = adjust(synthetic_case(assets))
    rss_before = _peak_rss_mb()
    runs = []
    for _ in range(repeat):
        cpu = time.process_time()
        result = solve(case)
        runs.append(result | {"cpu": time.process_time() - cpu})
    best = min(runs, key=lambda r: r["stages"]["total"])
    out = {"method": method, "assets": assets, "variant": variant, "repeat": repeat, "stages": best["stages"],
           "cpu_seconds": best["cpu"],
           "weights": [float(x) for x in best["weights"]], "status": best.get("status"),
           "factors": best.get("factors"), "peak_rss_mb": _peak_rss_mb(), "rss_before_mb": rss_before}
    if method == "allocate":
        tracemalloc.start()
        solve(case)
        out["traced_peak_mb"] = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
        out["dense_matrix_mb"] = assets * assets * 8 / 2**20
    return out


def run_child(args: list[str], threads: int, timeout: float) -> dict[str, Any]:
    env = {**os.environ, "OPENBLAS_NUM_THREADS": str(threads), "OMP_NUM_THREADS": str(threads),
           "MKL_NUM_THREADS": str(threads), "PYTHONWARNINGS": "ignore"}
    started = time.perf_counter()
    try:
        completed = subprocess.run([sys.executable, str(Path(__file__)), "--child", *args], capture_output=True,
                                   text=True, env=env, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout:.0f} s"}
    if completed.returncode != 0:
        lines = (completed.stderr or completed.stdout).strip().splitlines()
        return {"error": lines[-1] if lines else f"exit {completed.returncode}"}
    result: dict[str, Any] = json.loads(completed.stdout.strip().splitlines()[-1])
    result["process_seconds"] = time.perf_counter() - started
    return result


def child_main(args: list[str]) -> None:
    sys.path.insert(0, str(HERE))
    kind = args[0]
    if kind == "problem":
        result = child_problem(args[1], int(args[2]), args[3], int(args[4]))
    elif kind == "scenarios":
        from scenarios import scenario_solves

        result = scenario_solves()
    elif kind == "estimators":
        from estimators import estimators

        result = estimators(int(args[1]))
    elif kind == "formulation":
        from formulations import formulation_time

        result = formulation_time(args[1], int(args[2]), int(args[3]))
    else:
        raise SystemExit(f"unknown child {kind}")
    print(json.dumps(result))


# --- the parent: run, compare, print, write ----------------------------------------------------------------------


def compare_problem(rows: list[dict[str, Any]], assets: int, variant: str) -> None:
    """Add each method's objective, its gap to allocate's, the largest weight difference and constraint violation
    (all recomputed here with numpy on allocate's risk model, the Sigma every method was given)."""
    import numpy as np
    from methods import estimate
    from synthetic import objective, synthetic_case, violation

    case = synthetic_case(assets)
    case = case.without_turnover() if variant == "no_turnover" else case
    risk = estimate(case)
    reference = next((r for r in rows if r.get("method") == "allocate" and "weights" in r), None)
    for row in rows:
        if "weights" not in row:
            continue
        weights = np.array(row["weights"])
        row["objective"] = objective(case, risk.covariance_times(weights), weights)
        row["violation"] = violation(case, weights)
        if reference is not None:
            ours = np.array(reference["weights"])
            row["objective_gap"] = abs(row["objective"] - objective(case, risk.covariance_times(ours), ours)) / abs(
                objective(case, risk.covariance_times(ours), ours))
            row["max_weight_difference"] = float(np.max(np.abs(weights - ours)))
            row["ratio"] = row["stages"]["total"] / reference["stages"]["total"]
            row["cpu_ratio"] = row["cpu_seconds"] / reference["cpu_seconds"]


def machine() -> dict[str, Any]:
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.processor()) if Path("/proc/cpuinfo").exists() else ""
    from importlib import metadata

    versions = {}
    for name in ("allocate", "cvxpy", "clarabel", "numpy", "scipy", "pandas", "scikit-learn", "pyportfolioopt",
                 "skfolio", "riskfolio-lib"):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return {"cpu": model, "cores": os.cpu_count(), "python": platform.python_version(), "versions": versions,
            "load_average_at_start": os.getloadavg()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--child", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    parser.add_argument("--sizes", type=int, nargs="+", default=None, help="asset counts (default 20 ... 3000)")
    parser.add_argument("--quick", action="store_true", help="sizes 20, 100, 500 and no formulation grid")
    parser.add_argument("--sections", nargs="+", choices=SECTIONS, default=None, help="default: all")
    parser.add_argument("--threads", type=int, default=1, help="BLAS threads in every child (default 1)")
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds per child before it is abandoned")
    parser.add_argument("--riskfolio-max", type=int, default=500,
                        help="largest size for Riskfolio-Lib (default 500: it took 618 s at 2,000 assets)")
    parser.add_argument("--out", type=Path, default=HERE / "results", help="results file stem (.json and .md)")
    args = parser.parse_args()
    if args.child:
        child_main(args.child)
        return
    sys.path.insert(0, str(HERE))
    from tables import checks, markdown, print_section

    sizes = tuple(args.sizes or (QUICK_SIZES if args.quick else SIZES))
    sections = args.sections or [s for s in SECTIONS if not (args.quick and s == "formulations")]
    results: dict[str, Any] = {"machine": machine(), "threads": args.threads, "sizes": list(sizes)}
    started = time.perf_counter()
    if "problem" in sections:
        results["problem"] = {}
        results["no_turnover"] = {}
        for assets in sizes:
            repeat = 3 if assets <= 500 else 2 if assets <= 2000 else 1
            rows = [run_child(["problem", m, str(assets), "turnover", str(repeat)], args.threads, args.timeout)
                    | {"method": m} for m in ("allocate", *PEERS)]
            compare_problem(rows, assets, "turnover")
            results["problem"][str(assets)] = rows
            print_section("problem", assets, rows)
            rows = [run_child(["problem", m, str(assets), "no_turnover", str(repeat)], args.threads, args.timeout)
                    | {"method": m} if m == "allocate" or assets <= args.riskfolio_max
                    else {"method": m, "error": f"not run above --riskfolio-max {args.riskfolio_max}"}
                    for m in ("allocate", "riskfolio")]
            compare_problem(rows, assets, "no_turnover")
            results["no_turnover"][str(assets)] = rows
            print_section("no_turnover", assets, rows)
    if "scenarios" in sections:
        results["scenarios"] = run_child(["scenarios"], args.threads, args.timeout)
        print_section("scenarios", 500, results["scenarios"])
    if "startup" in sections:
        from startup import startup

        results["startup"] = startup()
        print_section("startup", 0, results["startup"])
    if "estimators" in sections:
        results["estimators"] = [run_child(["estimators", str(n)], args.threads, args.timeout) for n in sizes]
        print_section("estimators", 0, results["estimators"])
    if "formulations" in sections:
        from formulations import GRID

        results["formulations"] = [run_child(["formulation", form, str(n), str(days)], args.threads, args.timeout)
                                   | {"form": form, "assets": n, "days": days}
                                   for days, grid in GRID.items() for n in grid for form in ("dense", "factor")]
        print_section("formulations", 0, results["formulations"])
    results["machine"]["load_average_at_end"] = os.getloadavg()
    results["seconds"] = time.perf_counter() - started
    results["checks"] = checks(results)
    print_section("checks", 0, results["checks"])
    for kind in ("problem", "no_turnover"):  # the weights were for the comparisons; the file keeps the numbers
        for rows in results.get(kind, {}).values():
            for row in rows:
                row.pop("weights", None)
    args.out.with_suffix(".json").write_text(json.dumps(results, indent=1) + "\n")
    args.out.with_suffix(".md").write_text(markdown(results))
    print(f"\nwrote {args.out.with_suffix('.md')} and {args.out.with_suffix('.json')} "
          f"({results['seconds'] / 60:.1f} min)")


if __name__ == "__main__":
    main()
