"""The allocate benchmark suite: ``make bench`` (or ``python bench/run.py``); see bench/README.md.

Sections, each measured in fresh child processes (one per method, size and measurement) with BLAS pinned to one
thread:
1. ``problem``: the bench problem (the limits of configs/base.yaml on a synthetic universe, bench/base_case.py)
   with every method in factor form: allocate, plain CVXPY, PyPortfolioOpt, skfolio and Clarabel called directly
   (the floor), with and without the tracking-error limit, at 20 to 10,000 assets.
2. ``dense``: the same problem with the peers given the dense n-by-n covariance (up to ``--dense-max``).
3. ``cli``: ``allocate run`` through the CLI on generated files at 3,000 and 20,000 assets, with and without the
   tracking-error limit, against its floor (bench/cli_section.py, bench/cli_floor.py).
4. ``scenarios``: 20 scenario solves at 500 assets on one compiled problem (bench/scenarios.py).
5. ``startup``: ``allocate run`` on the example against ``python -c "import cvxpy, pandas"`` (bench/startup.py).
6. ``estimators``: scikit-learn's Ledoit-Wolf against allocate's closed form (bench/estimators.py).
7. ``formulations``: dense against exact factor form of Ledoit-Wolf (bench/formulations.py).
Memory is the peak RSS of a fresh process per measurement (bench/process.py). Results go to bench/results.json
(everything) and bench/results.md (the tables the README quotes).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SIZES = (20, 100, 500, 2000, 3000, 10000)
QUICK_SIZES = (20, 200)
CLI_SIZES = (3000, 20000)
QUICK_CLI_SIZES = (300,)
SECTIONS = ("problem", "dense", "cli", "scenarios", "startup", "estimators", "formulations")
QUICK_SECTIONS = ("problem", "dense", "cli", "scenarios")


def child_environment(threads: int) -> dict[str, str]:
    """The children's environment: BLAS on ``threads`` threads, this checkout's allocator first on the path, and
    bytecode cached as an installed package has it (without ``PYTHONDONTWRITEBYTECODE``, which some shells set:
    each run would recompile allocator's source, 0.03 to 0.1 s, where the floor's own code is a few files)."""
    path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)
    inherited = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    return {**inherited, "OPENBLAS_NUM_THREADS": str(threads), "OMP_NUM_THREADS": str(threads),
            "MKL_NUM_THREADS": str(threads), "PYTHONWARNINGS": "ignore", "PYTHONPATH": path}


def run_child(args: list[str], options: argparse.Namespace) -> dict[str, Any]:
    """One child measurement: its JSON result, with the process's wall, CPU and peak RSS, or its error."""
    from process import measure

    measured = measure([sys.executable, str(Path(__file__)), "--child", *args], child_environment(options.threads),
                       timeout=options.timeout, memory_limit_gb=options.memory_limit)
    process = {"process_seconds": measured.wall, "process_cpu_seconds": measured.cpu,
               "peak_rss_mb": measured.peak_rss_mb}
    error = measured.error()
    if error is not None:
        return {"error": error} | process
    result: dict[str, Any] = json.loads(measured.stdout.strip().splitlines()[-1])
    return result | process


def repeats(assets: int, quick: bool, dense: bool = False) -> int:
    """Timed solves per child, the fastest kept. The factor-form methods are cheap to repeat (under 2 s a solve at
    10,000 assets), so they get enough runs that a noisy neighbour on a shared machine does not decide a ratio; the
    dense peers take minutes at 2,000 and keep fewer."""
    if quick:
        return 1
    if dense:
        return 1 if assets > 2000 else 2 if assets > 500 else 3
    return 5 if assets <= 3000 else 3


def measure_methods(methods: tuple[str, ...], assets: int, variant: str, options: argparse.Namespace,
                    memory: bool, dense: bool = False) -> list[dict[str, Any]]:
    """Each method's timing child and (with ``memory``) its memory child."""
    rows = []
    for name in methods:
        timing = ["problem", name, str(assets), variant, str(repeats(assets, options.quick, dense))]
        row = run_child(timing, options) | {"method": name}
        if memory:
            cold = run_child(["memory", name, str(assets), variant], options)
            row["memory"] = {"peak_rss_mb": cold["peak_rss_mb"], "error": cold.get("error"),
                             "peak_before_solve_mb": cold.get("peak_before_solve_mb")}
        rows.append(row)
    return rows


def compare(rows: list[dict[str, Any]], assets: int, variant: str) -> None:
    """Add each method's objective, violation, and its gaps and time ratios to the reference (allocate, or
    Clarabel called directly when allocate failed); all recomputed here with numpy on the common risk model."""
    import numpy as np
    from children import bench_case
    from limits import utility, violation
    from methods import estimate

    case = bench_case(assets, variant)
    risk = estimate(case.returns, case.problem.symbols)
    solved = [r for r in rows if "weights" in r]
    reference = next((r for name in ("allocate", "clarabel") for r in solved if r["method"] == name), None)
    timing = next((r for r in solved if r["method"] == "allocate"), None)
    for row in solved:
        weights = np.array(row["weights"])
        row["objective"] = utility(case.problem, risk, weights)
        row["violation"] = violation(case.problem, risk, weights)
        if reference is not None:
            ours = np.array(reference["weights"])
            row["reference"] = reference["method"]
            row["objective_gap"] = abs(row["objective"] - utility(case.problem, risk, ours)) / abs(
                utility(case.problem, risk, ours))
            row["max_weight_difference"] = float(np.max(np.abs(weights - ours)))
        if timing is not None:
            row["ratio"] = row["stages"]["total"] / timing["stages"]["total"]
            row["cpu_ratio"] = row["cpu_seconds"] / timing["cpu_seconds"]


def machine() -> dict[str, Any]:
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.processor()) if Path("/proc/cpuinfo").exists() else ""
    from importlib import metadata

    versions = {}
    for name in ("allocate", "cvxpy", "clarabel", "numpy", "scipy", "pandas", "scikit-learn", "pyportfolioopt",
                 "skfolio"):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return {"cpu": model, "cores": os.cpu_count(), "python": platform.python_version(), "versions": versions,
            "load_average_at_start": os.getloadavg()}


def problem_sections(results: dict[str, Any], sizes: tuple[int, ...], options: argparse.Namespace,
                     sections: list[str]) -> None:
    from children import VARIANTS
    from methods import DENSE_METHODS, FACTOR_METHODS
    from tables import print_section

    memory_sizes = sizes[-1:] if options.quick else sizes
    if "problem" in sections:
        results["problem"] = {variant: {} for variant in VARIANTS}
        for assets in sizes:
            for variant in VARIANTS if not options.quick else VARIANTS[:1]:
                rows = measure_methods(FACTOR_METHODS, assets, variant, options, assets in memory_sizes)
                compare(rows, assets, variant)
                results["problem"][variant][str(assets)] = rows
                print_section(f"problem_{variant}", assets, rows)
    if "dense" in sections:
        results["dense"] = {}
        for assets in (s for s in sizes if s <= options.dense_max):
            ours = [dict(r) for r in results.get("problem", {}).get("base", {}).get(str(assets), [])
                    if r["method"] == "allocate"]
            peers = tuple(m for m in DENSE_METHODS if m != "allocate" or not ours)
            rows = ours + measure_methods(peers, assets, "base", options, assets in memory_sizes, dense=True)
            compare(rows, assets, "base")
            results["dense"][str(assets)] = rows
            print_section("dense", assets, rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--child", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    parser.add_argument("--sizes", type=int, nargs="+", default=None,
                        help="asset counts of the problem and dense sections (default 20 ... 10000)")
    parser.add_argument("--cli-sizes", type=int, nargs="+", default=None,
                        help="asset counts of the cli section (default 3000 20000)")
    parser.add_argument("--quick", action="store_true",
                        help="20 and 200 assets, one run each, the CLI at 300, no variant without tracking error, no "
                             "startup, estimators or formulations (about a minute; what make test runs)")
    parser.add_argument("--sections", nargs="+", choices=SECTIONS, default=None, help="default: all")
    parser.add_argument("--threads", type=int, default=1, help="BLAS threads in every child (default 1)")
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds per child before it is abandoned")
    parser.add_argument("--memory-limit", type=float, default=8.0,
                        help="address-space limit of every child, GB (default 8; a child over it fails)")
    parser.add_argument("--dense-max", type=int, default=2000,
                        help="largest size of the dense section (default 2000: skfolio took 175 s at 3,000)")
    parser.add_argument("--out", type=Path, default=HERE / "results", help="results file stem (.json and .md)")
    options = parser.parse_args()
    sys.path.insert(0, str(HERE))
    if options.child:
        from children import child

        print(json.dumps(child(options.child)))
        return
    from tables import checks, markdown, print_section

    sizes = tuple(options.sizes or (QUICK_SIZES if options.quick else SIZES))
    cli_sizes = tuple(options.cli_sizes or (QUICK_CLI_SIZES if options.quick else CLI_SIZES))
    sections = options.sections or list(QUICK_SECTIONS if options.quick else SECTIONS)
    results: dict[str, Any] = {"machine": machine(), "threads": options.threads, "sizes": list(sizes),
                               "quick": options.quick}
    started = time.perf_counter()
    problem_sections(results, sizes, options, sections)
    if "cli" in sections:
        from cli_section import cli_runs

        results["cli"] = {}
        work = Path(tempfile.mkdtemp(prefix="allocate-bench-"))
        try:
            for assets in cli_sizes:
                results["cli"][str(assets)] = cli_runs(assets, work / str(assets), child_environment(options.threads),
                                                       1 if options.quick or assets > 5000 else 2, options.timeout,
                                                       options.memory_limit)
                print_section("cli", assets, results["cli"][str(assets)])
                shutil.rmtree(work / str(assets), ignore_errors=True)
        finally:
            shutil.rmtree(work, ignore_errors=True)
    if "scenarios" in sections:
        results["scenarios"] = run_child(["scenarios"], options)
        print_section("scenarios", 500, results["scenarios"])
    if "startup" in sections:
        from startup import startup

        results["startup"] = startup()
        print_section("startup", 0, results["startup"])
    if "estimators" in sections:
        results["estimators"] = [run_child(["estimators", str(n)], options) for n in sizes if n <= 3000]
        print_section("estimators", 0, results["estimators"])
    if "formulations" in sections:
        from formulations import GRID

        results["formulations"] = [run_child(["formulation", form, str(n), str(days)], options)
                                   | {"form": form, "assets": n, "days": days}
                                   for days, grid in GRID.items() for n in grid for form in ("dense", "factor")]
        print_section("formulations", 0, results["formulations"])
    results["machine"]["load_average_at_end"] = os.getloadavg()
    results["seconds"] = time.perf_counter() - started
    results["checks"] = checks(results)
    print_section("checks", 0, results["checks"])
    for table in [*results.get("problem", {}).values(), results.get("dense", {})]:
        for rows in table.values():  # the weights were for the comparisons; the file keeps the numbers
            for row in rows:
                row.pop("weights", None)
    options.out.parent.mkdir(parents=True, exist_ok=True)
    options.out.with_suffix(".json").write_text(json.dumps(results, indent=1) + "\n")
    options.out.with_suffix(".md").write_text(markdown(results))
    print(f"\nwrote {options.out.with_suffix('.md')} and {options.out.with_suffix('.json')} "
          f"({results['seconds'] / 60:.1f} min)")


if __name__ == "__main__":
    main()
