"""The measurements that run in a child process of bench/run.py, each printing one JSON line.

- ``problem METHOD ASSETS VARIANT REPEAT``: a warm-up solve at 20 assets (one-time imports and first-use costs are
  not counted for anyone), then ``REPEAT`` timed solves; the fastest is kept, with the weights.
- ``memory METHOD ASSETS VARIANT``: one solve in a fresh process, no warm-up, so that the process's peak RSS
  (read by the parent from the kernel when the child ends) is that of one real run: imports, the synthetic
  case, estimation and the solve. The child reports its own peak once the method's libraries are imported and
  the case is built, before the solve.
- ``scenarios``, ``estimators ASSETS``, ``formulation FORM ASSETS DAYS``: bench/scenarios.py, bench/estimators.py,
  bench/formulations.py.
"""

from __future__ import annotations

import dataclasses
import resource
import time
from typing import Any

VARIANTS = ("base", "no_te")  # the limits of configs/base.yaml; the same without the tracking-error limit


def bench_case(assets: int, variant: str) -> Any:
    from base_case import base_case

    case = base_case(assets)
    if variant == "no_te":
        case = dataclasses.replace(case, problem=case.problem.without_tracking_error())
    return case


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def child_problem(name: str, assets: int, variant: str, repeat: int) -> dict[str, Any]:
    from methods import method

    solve = method(name)
    solve(bench_case(20, variant))  # warm-up
    case = bench_case(assets, variant)
    runs = []
    for _ in range(repeat):
        cpu = time.process_time()
        result = solve(case)
        runs.append(result | {"cpu": time.process_time() - cpu})
    best = min(runs, key=lambda r: r["stages"]["total"])
    return {"method": name, "assets": assets, "variant": variant, "repeat": repeat, "stages": best["stages"],
            "cpu_seconds": best["cpu"], "weights": [float(x) for x in best["weights"]], "status": best.get("status")}


LIBRARIES = {"allocate": ("allocator.optimize.problem",), "cvxpy": ("cvxpy",), "clarabel": ("clarabel", "scipy.sparse"),
             "pyportfolioopt": ("pypfopt",), "skfolio": ("skfolio.optimization",),
             "pyportfolioopt_dense": ("pypfopt",), "skfolio_dense": ("skfolio.optimization",)}


def child_memory(name: str, assets: int, variant: str) -> dict[str, Any]:
    import importlib

    from methods import method

    solve = method(name)
    for module in LIBRARIES[name]:
        importlib.import_module(module)
    case = bench_case(assets, variant)
    before = _peak_rss_mb()
    solve(case)
    return {"peak_before_solve_mb": before}


def child(args: list[str]) -> dict[str, Any]:
    kind = args[0]
    if kind == "problem":
        return child_problem(args[1], int(args[2]), args[3], int(args[4]))
    if kind == "memory":
        return child_memory(args[1], int(args[2]), args[3])
    if kind == "scenarios":
        from scenarios import scenario_solves

        return scenario_solves()
    if kind == "estimators":
        from estimators import estimators

        return estimators(int(args[1]))
    if kind == "formulation":
        from formulations import formulation_time

        return formulation_time(args[1], int(args[2]), int(args[3]))
    raise SystemExit(f"unknown child {kind}")
