"""The robust portfolio's solve time against one scenario's (``allocate compare --robust``).

Two cases, each timed as best of ``--repeat`` (wall seconds, this process, after a warm-up):

1. **the shipped pack**: ``configs/scenarios/*.yaml`` on ``examples/holdings.csv`` (20 assets, 5 views). The
   robust problem (built, compiled and solved, ``optimize.robust.solve_robust``) against one scenario solved on a
   fresh ``ProblemCache`` (built, compiled and solved) and on a warm one (parameters refilled, solved);
2. **synthetic**: the benchmark case (bench/synthetic.py, factor form) at ``--assets`` assets with ``--views``
   expected-return vectors (the case's mu, scaled and perturbed), the same comparison; once with one risk
   aversion for all views (the QP form) and once with each view's own (the conic form; see
   ``allocator.optimize.robust``). The solver that was accepted is printed: at the default 1e-12 tolerances
   Clarabel reports the conic form "inaccurate", and the solve falls through to SCS.

The robust problem has one epigraph row per view on top of the scenario's problem, and is compiled afresh each
time (``compare --robust`` solves it once), so the fair reference is the fresh scenario solve; the warm one is
shown for scale. Run: ``python bench/robust.py [--assets 500] [--views 5] [--repeat 5]``.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from allocator.config.schema import SolverConfig  # noqa: E402
from allocator.optimize.problem import ProblemCache, solve_allocation  # noqa: E402
from allocator.optimize.robust import View, solve_robust, worst_case  # noqa: E402


def best_of(repeat: int, work: Callable[[], Any]) -> tuple[float, Any]:
    work()  # warm-up: imports and first-use costs
    times, found = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        found = work()
        times.append(time.perf_counter() - started)
    return min(times), found


def pack(repeat: int) -> dict[str, Any]:
    from allocator.compare.robust import view_of
    from allocator.compare.scenarios import compare

    root = HERE.parent
    comparison = compare(root / "examples" / "holdings.csv", sorted((root / "configs" / "scenarios").glob("*.yaml")),
                         cache=ProblemCache())
    results = [(o.name, o.result) for o in comparison.succeeded if o.result is not None]
    base = results[0][1]
    views = [view_of(name, r) for name, r in results]
    gamma = float(base.config.risk.risk_aversion)
    solver = base.config.solver
    return _measure("shipped pack", len(base.limits.symbols), views, base.limits, base.risk, gamma, solver, repeat)


def synthetic(assets: int, count: int, repeat: int, own_gammas: bool) -> dict[str, Any]:
    from methods import estimate
    from synthetic import allocate_limits, synthetic_case

    case = synthetic_case(assets)
    risk = estimate(case.returns, case.symbols)
    limits = allocate_limits(case)
    rng = np.random.default_rng(11)
    views = [View(name=f"view{s}", symbols=limits.symbols,
                  mu=case.mu * rng.uniform(0.5, 1.5) + 0.02 * rng.standard_normal(assets), risk=risk,
                  gamma=float(rng.uniform(2.0, 4.0)) if own_gammas else case.gamma, limits=limits)
             for s in range(count)]
    if own_gammas:
        views[0] = dataclasses.replace(views[0], gamma=case.gamma)
    label = f"synthetic {assets}{', own gammas' if own_gammas else ''}"
    return _measure(label, assets, views, limits, risk, case.gamma, SolverConfig(), repeat)


def _measure(label: str, assets: int, views: list[View], limits: Any, risk: Any, gamma: float,
             solver: SolverConfig, repeat: int) -> dict[str, Any]:
    robust_seconds, robust = best_of(repeat, lambda: solve_robust(limits, risk, gamma, views, solver))
    fresh_seconds, _ = best_of(repeat, lambda: solve_allocation(limits, views[0].mu, risk, views[0].gamma, solver,
                                                                ProblemCache()))
    cache = ProblemCache()
    warm_seconds, _ = best_of(repeat, lambda: solve_allocation(limits, views[0].mu, risk, views[0].gamma, solver,
                                                               cache))
    singles = [solve_allocation(limits, v.mu, risk, v.gamma, solver, ProblemCache()).weight for v in views]
    best_single = max(worst_case(views, w)[0] for w in singles)
    return {"case": label, "assets": assets, "views": len(views), "robust_seconds": robust_seconds,
            "scenario_fresh_seconds": fresh_seconds, "scenario_warm_seconds": warm_seconds,
            "ratio_fresh": robust_seconds / fresh_seconds, "ratio_warm": robust_seconds / warm_seconds,
            "robust_solver": robust.allocation.solver, "robust_worst_case": robust.allocation.objective,
            "best_scenario_worst_case": best_single,
            "solver_bound_gap": abs(robust.solver_bound - robust.allocation.objective)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assets", type=int, default=500)
    parser.add_argument("--views", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    rows = [pack(args.repeat), synthetic(args.assets, args.views, args.repeat, False),
            synthetic(args.assets, args.views, args.repeat, True)]
    print(f"{'case':<26} {'views':>5} {'robust s':>9} {'fresh s':>9} {'warm s':>9} {'robust/fresh':>12} "
          f"{'robust/warm':>11} {'solver':>8} {'robust worst':>12} {'best single':>12}")
    for r in rows:
        print(f"{r['case']:<26} {r['views']:>5} {r['robust_seconds']:>9.4f} {r['scenario_fresh_seconds']:>9.4f} "
              f"{r['scenario_warm_seconds']:>9.4f} {r['ratio_fresh']:>12.2f} {r['ratio_warm']:>11.1f} "
              f"{r['robust_solver']:>8} {r['robust_worst_case']:>12.6f} {r['best_scenario_worst_case']:>12.6f}")


if __name__ == "__main__":
    main()
