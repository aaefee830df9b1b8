"""Where the exact factor form of a dense estimator starts to pay: the measurement behind ``risk.factor_threshold``.

Ledoit-Wolf over T daily returns is ``(1 - s) X'X / T + s m I``: a factor model with T factors. Held densely the
problem has about n^2 / 2 nonzeros (a Cholesky factor), in factor form n T. This solves the benchmark problem
with each form over a grid of sizes, for 3 years (756) and 1 year (252) of daily returns, and reports the time from
the risk model to the weights (build, compile and solve).
"""

from __future__ import annotations

import time
from typing import Any

from synthetic import allocate_limits, synthetic_case

from allocator.config.schema import SolverConfig
from allocator.model.risk_models import ledoit_wolf_covariance
from allocator.optimize.problem import ProblemCache, solve_allocation

GRID = {756: (500, 1000, 2000, 2500), 252: (250, 500, 750, 1000)}


def formulation_time(form: str, assets: int, days: int) -> dict[str, Any]:
    case = synthetic_case(assets, days=days)
    risk = ledoit_wolf_covariance(case.returns, case.symbols, factor_form=form == "factor")
    started = time.perf_counter()
    allocation = solve_allocation(allocate_limits(case), case.mu, risk, case.gamma, SolverConfig(), ProblemCache())
    return {"form": form, "assets": assets, "days": days, "seconds": time.perf_counter() - started,
            "solver_seconds": sum(a.solve_seconds for a in allocation.attempts), "objective": allocation.objective,
            "factors": risk.factors}
