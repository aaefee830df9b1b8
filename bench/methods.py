"""The benchmark problem solved by allocate and by its peers, each timed from returns in to weights out.

Every method gets the same returns and the same covariance: allocate's statistical factor model (PCA, 15
factors) of the returns. allocate keeps it in factor form (``Sigma = B B' + D``, ``y = B'w``); the peers take a
dense n-by-n matrix, so their estimation stage is the same PCA plus forming that matrix. The optimum is the same
for all, so objectives and weights can be compared directly.

Stages (seconds): ``estimation`` (returns -> Sigma), ``compile`` (CVXPY canonicalization, its own
``compilation_time``), ``solve`` (the solver's own reported time) and ``build`` (everything else between Sigma
and the weights: building the model and the CVXPY problem, and reading the solution back).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
from synthetic import Case

from allocator.domain import FloatArray, RiskModel

FACTORS = 15
Result = dict[str, Any]


def estimate(case: Case) -> RiskModel:
    """allocate's factor model of the case's returns (what every method is given)."""
    from allocator.model.factor_models import statistical_factor_model

    return statistical_factor_model(case.returns, case.symbols, FACTORS)


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


def _stages(estimation: float, optimize: float, calls: list[tuple[float, float]]) -> dict[str, float]:
    compile_seconds = sum(c for c, _ in calls)
    solve_seconds = sum(s for _, s in calls)
    return {"estimation": estimation, "build": max(optimize - compile_seconds - solve_seconds, 0.0),
            "compile": compile_seconds, "solve": solve_seconds, "total": estimation + optimize}


def solve_allocate(case: Case) -> Result:
    from synthetic import allocate_limits

    from allocator.config.schema import SolverConfig
    from allocator.optimize.problem import ProblemCache, solve_allocation

    started = time.perf_counter()
    risk = estimate(case)
    estimated = time.perf_counter()
    with cvxpy_times() as calls:
        allocation = solve_allocation(allocate_limits(case), case.mu, risk, case.gamma, SolverConfig(),
                                      ProblemCache())
    finished = time.perf_counter()
    return {"weights": allocation.weight, "stages": _stages(estimated - started, finished - estimated, calls),
            "status": allocation.status, "solver": allocation.solver, "factors": risk.factors}


def _dense_sigma(case: Case) -> tuple[float, FloatArray]:
    started = time.perf_counter()
    sigma = estimate(case).dense()
    return time.perf_counter() - started, sigma


def solve_pyportfolioopt(case: Case) -> Result:
    import cvxpy as cp
    import pandas as pd
    from pypfopt import EfficientFrontier

    estimation, sigma = _dense_sigma(case)
    started = time.perf_counter()
    with cvxpy_times() as calls:
        frontier = EfficientFrontier(pd.Series(case.mu, index=case.symbols),
                                     pd.DataFrame(sigma, index=case.symbols, columns=case.symbols),
                                     weight_bounds=(0.0, case.max_weight), solver="CLARABEL")
        frontier.add_sector_constraints(dict(zip(case.symbols, case.sector, strict=True)), {}, case.sector_caps)
        if case.turnover_max is not None:
            current, room = case.current, case.turnover_max
            frontier.add_constraint(lambda w: 0.5 * cp.norm1(w - current) <= room)
        # PyPortfolioOpt maximizes w'mu - (risk_aversion / 2) w'Sigma w: its risk_aversion is gamma
        frontier.max_quadratic_utility(risk_aversion=case.gamma)
        weights = np.array(list(frontier.clean_weights(cutoff=0.0, rounding=None).values()), dtype=np.float64)
    finished = time.perf_counter()
    return {"weights": weights, "stages": _stages(estimation, finished - started, calls), "status": "optimal"}


def solve_skfolio(case: Case) -> Result:
    import cvxpy as cp
    from skfolio.measures import RiskMeasure
    from skfolio.optimization import MeanRisk, ObjectiveFunction
    from skfolio.prior import BasePrior
    from skfolio.prior._model import ReturnDistribution

    class GivenPrior(BasePrior):  # type: ignore[misc]
        """The given mu and covariance, as skfolio's prior."""

        def __init__(self, mu: FloatArray | None = None, covariance: FloatArray | None = None) -> None:
            self.mu = mu
            self.covariance = covariance

        def fit(self, X: Any, y: Any = None, **_: Any) -> GivenPrior:
            self.return_distribution_ = ReturnDistribution(mu=self.mu, covariance=self.covariance,
                                                           returns=np.asarray(X))
            return self

    estimation, sigma = _dense_sigma(case)
    names, _ = case.sector_members()
    current, room = case.current, case.turnover_max
    started = time.perf_counter()
    with cvxpy_times() as calls:
        model = MeanRisk(
            objective_function=ObjectiveFunction.MAXIMIZE_UTILITY,
            risk_measure=RiskMeasure.VARIANCE,
            risk_aversion=case.gamma / 2.0,  # skfolio maximizes mu'w - risk_aversion * w'Sigma w
            prior_estimator=GivenPrior(case.mu, sigma),
            min_weights=0.0, max_weights=case.max_weight,
            groups=[list(case.sector)],
            linear_constraints=[f"{name} <= {case.sector_caps[name]!r}" for name in names],
            add_constraints=None if room is None else (lambda w: 0.5 * cp.norm1(w - current) <= room),
            solver="CLARABEL",
        )
        model.fit(case.returns)
        weights = np.asarray(model.weights_, dtype=np.float64)
    finished = time.perf_counter()
    return {"weights": weights, "stages": _stages(estimation, finished - started, calls), "status": "optimal"}


def solve_riskfolio(case: Case) -> Result:
    """Riskfolio-Lib's ``Portfolio.optimization``. Its ``turnover`` bounds each asset's |w - w0|, not their sum,
    so it cannot express the one-way turnover limit: it is run on the case without one."""
    import pandas as pd
    import riskfolio as rp

    if case.turnover_max is not None:
        raise ValueError("Riskfolio-Lib cannot express a one-way (total) turnover limit")
    estimation, sigma = _dense_sigma(case)
    names, members = case.sector_members()
    started = time.perf_counter()
    with cvxpy_times() as calls:
        port = rp.Portfolio(returns=pd.DataFrame(case.returns, columns=list(case.symbols)), upperlng=case.max_weight)
        port.mu = pd.DataFrame([case.mu], columns=list(case.symbols))
        port.cov = pd.DataFrame(sigma, index=list(case.symbols), columns=list(case.symbols))
        port.ainequality = members  # A w <= B
        port.binequality = np.array([[case.sector_caps[name]] for name in names])
        port.solvers = ["CLARABEL"]
        # Riskfolio's utility is mu'w - l * w'Sigma w for the MV risk measure
        frame = port.optimization(model="Classic", rm="MV", obj="Utility", l=case.gamma / 2.0, hist=False)
        if frame is None:
            raise RuntimeError("Riskfolio-Lib returned no portfolio")
        weights = frame.to_numpy(dtype=np.float64).ravel()
    finished = time.perf_counter()
    return {"weights": weights, "stages": _stages(estimation, finished - started, calls), "status": "optimal"}


METHODS: dict[str, Callable[[Case], Result]] = {
    "allocate": solve_allocate,
    "pyportfolioopt": solve_pyportfolioopt,
    "skfolio": solve_skfolio,
    "riskfolio": solve_riskfolio,
}
LABELS = {"allocate": "allocate (factor form)", "pyportfolioopt": "PyPortfolioOpt", "skfolio": "skfolio",
          "riskfolio": "Riskfolio-Lib"}
