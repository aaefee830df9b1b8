"""The bench problem (bench/base_case.py) solved by allocate and by its peers, each timed from returns to weights.

Every method gets the same returns, the same expected returns and the same risk model: allocate's statistical
factor model (PCA, 15 factors) of the returns, ``Sigma = E E' + diag(d)``. In the factor table every method keeps
it in factor form (bench/factor_peers.py, bench/clarabel_direct.py); in the dense table the peers take the dense
n-by-n matrix their usual APIs accept (bench/dense_peers.py). The optimum is the same for all, so objectives and
weights are compared directly.

Stages (seconds): ``estimation`` (returns -> risk model, and for a dense peer the n-by-n matrix and its Cholesky
factor), ``compile`` (CVXPY canonicalization, its own ``compilation_time``), ``solve`` (the solver's own reported
time; for Clarabel called directly, its set-up and solve) and ``build`` (everything else between the risk model
and the weights).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from typing import Any

import numpy as np
from base_case import Case
from limits import Problem

from allocator.domain import FloatArray, RiskModel

FACTORS = 15
Result = dict[str, Any]


def estimate(returns: FloatArray, symbols: tuple[str, ...]) -> RiskModel:
    """allocate's factor model of the returns (what every method is given)."""
    from allocator.model.factor_models import statistical_factor_model

    return statistical_factor_model(returns, symbols, FACTORS)


@contextmanager
def cvxpy_times() -> Iterator[list[tuple[float, float]]]:
    """Record (compile, solve) seconds of every ``cvxpy.Problem.solve`` call made inside the block."""
    import cvxpy as cp

    original = cp.Problem.solve
    calls: list[tuple[float, float]] = []

    def recorded(problem: Any, *args: Any, **kwargs: Any) -> Any:
        value = original(problem, *args, **kwargs)
        stats = problem.solver_stats
        solve = float(stats.solve_time or 0.0) if stats is not None else 0.0
        calls.append((float(getattr(problem, "compilation_time", None) or 0.0), solve))
        return value

    cp.Problem.solve = recorded
    try:
        yield calls
    finally:
        cp.Problem.solve = original


def stages(estimation: float, optimize: float, calls: list[tuple[float, float]]) -> dict[str, float]:
    """The stage split of one method's run (see the module docstring)."""
    compile_seconds = sum(c for c, _ in calls)
    solve_seconds = sum(s for _, s in calls)
    return {"estimation": estimation, "build": max(optimize - compile_seconds - solve_seconds, 0.0),
            "compile": compile_seconds, "solve": solve_seconds, "total": estimation + optimize}


def timed_cvxpy(case: Case, solve: Callable[[Problem, RiskModel], FloatArray],
                prepare: Callable[[RiskModel], Any] | None = None) -> Result:
    """Estimate the risk model (and ``prepare`` what the method needs from it, counted as estimation), then run
    ``solve`` with CVXPY's compile and solve times recorded."""
    started = time.perf_counter()
    risk = estimate(case.returns, case.problem.symbols)
    prepared = prepare(risk) if prepare is not None else risk
    estimated = time.perf_counter()
    with cvxpy_times() as calls:
        weights = solve(case.problem, prepared)
    finished = time.perf_counter()
    return {"weights": np.asarray(weights, dtype=np.float64),
            "stages": stages(estimated - started, finished - estimated, calls), "status": "optimal"}


def allocate_limits(problem: Problem) -> Any:
    """The problem's limits in allocate's terms (its own families: position, active, RSI, groups, cash, tracking
    error, turnover; costs over a one-year horizon)."""
    from allocator.model.rsi import RsiLimits
    from allocator.optimize.constraints import GroupBound, Limits

    n = problem.assets
    groups = tuple(GroupBound(key=f"groups[{i}]", label=label, members=problem.group_members[i].astype(bool),
                              lower=float(problem.group_lower[i]), upper=float(problem.group_upper[i]),
                              relative=False) for i, label in enumerate(problem.group_labels))
    rsi = RsiLimits(np.full(n, 50.0), np.full(n, -np.inf), problem.rsi_upper, ())
    return Limits(
        symbols=problem.symbols, current=problem.current, current_cash=problem.current_cash,
        benchmark=problem.benchmark, cost=problem.cost, position_lower=problem.position_lower,
        position_upper=problem.position_upper, active_lower=problem.active_lower, active_upper=problem.active_upper,
        rsi=rsi, groups=groups, budget=1.0, cash_lower=problem.cash_lower, cash_upper=problem.cash_upper,
        tracking_error_max=problem.tracking_error_max, turnover_max=problem.turnover_max, turnover_forced=0.0)


def solve_allocate(case: Case) -> Result:
    from allocator.config.schema import SolverConfig
    from allocator.optimize.problem import ProblemCache, solve_allocation

    started = time.perf_counter()
    risk = estimate(case.returns, case.problem.symbols)
    estimated = time.perf_counter()
    limits, cache = allocate_limits(case.problem), ProblemCache()
    direct = cache.direct(limits, SolverConfig())  # Clarabel called directly from 1,000 assets (optimize.conic)
    with nullcontext([]) if direct else cvxpy_times() as calls:
        allocation = solve_allocation(limits, case.problem.mu, risk, case.problem.gamma, SolverConfig(), cache)
    finished = time.perf_counter()
    if direct:  # no CVXPY: the matrices are the build, Clarabel's set-up and iterations the solve
        calls = [(0.0, sum(a.solve_seconds for a in allocation.attempts))]
    return {"weights": allocation.weight, "stages": stages(estimated - started, finished - estimated, calls),
            "status": allocation.status, "solver": allocation.solver}


def solve_clarabel_direct(case: Case) -> Result:
    from clarabel_direct import solve_clarabel

    started = time.perf_counter()
    risk = estimate(case.returns, case.problem.symbols)
    estimated = time.perf_counter()
    result = solve_clarabel(case.problem, risk)
    finished = time.perf_counter()
    timing = {"estimation": estimated - started, "build": result["build"], "compile": 0.0, "solve": result["solve"],
              "total": finished - started}
    return {"weights": result["weights"], "stages": timing, "status": result["status"]}


def method(name: str) -> Callable[[Case], Result]:
    """The solve function of a method (imported on demand, so a child loads only its own peer)."""
    if name == "allocate":
        return solve_allocate
    if name == "clarabel":
        return solve_clarabel_direct
    if name in FACTOR_PEERS:
        import factor_peers

        solve: Callable[[Case], Result] = getattr(factor_peers, f"solve_{name}")
        return solve
    import dense_peers

    solve = getattr(dense_peers, f"solve_{name}")
    return solve


FACTOR_PEERS = ("cvxpy", "pyportfolioopt", "skfolio")
FACTOR_METHODS = ("allocate", *FACTOR_PEERS, "clarabel")
DENSE_METHODS = ("allocate", "pyportfolioopt_dense", "skfolio_dense")
LABELS = {"allocate": "allocate", "cvxpy": "plain CVXPY (factor form)",
          "pyportfolioopt": "PyPortfolioOpt (factor objective)", "skfolio": "skfolio (FactorModel prior)",
          "clarabel": "Clarabel called directly (floor)", "pyportfolioopt_dense": "PyPortfolioOpt (dense Sigma)",
          "skfolio_dense": "skfolio (dense Sigma)"}
# what each method cannot express of the problem (none: every peer here carries every limit)
CANNOT_EXPRESS: dict[str, str] = {}
