"""The peers given the dense n-by-n covariance, as their usual APIs take it (the second table).

Their estimation stage is the same PCA plus forming ``Sigma`` and its Cholesky factor ``L``; the tracking error is
``||L'(w - b)||``.

- PyPortfolioOpt: ``EfficientFrontier.max_quadratic_utility`` (``risk_aversion`` is gamma). It fixes the weights'
  sum at 1, so cash is one more asset with no return and no risk, bounded by the cash floor and cap; the linear
  cost through ``add_objective``, the other limits through ``add_constraint``.
- skfolio: ``MeanRisk`` as in bench/factor_peers.py with a prior that holds only the dense covariance (skfolio then
  takes its Cholesky factor for the variance cone).
"""

from __future__ import annotations

from typing import Any

import cvxpy as cp
import numpy as np
from base_case import Case
from factor_peers import group_rows, skfolio_prior, skfolio_weights, turnover_and_tracking
from limits import Problem
from methods import Result, timed_cvxpy

from allocator.domain import FloatArray, RiskModel


def dense_and_cholesky(risk: RiskModel) -> tuple[FloatArray, FloatArray]:
    sigma = risk.dense()
    return sigma, np.linalg.cholesky(sigma)


def pyportfolioopt_dense_weights(problem: Problem, prepared: tuple[FloatArray, FloatArray]) -> FloatArray:
    import pandas as pd
    from pypfopt import EfficientFrontier

    sigma, cholesky = prepared
    n = problem.assets
    names = [*problem.symbols, "CASH"]
    with_cash = np.zeros((n + 1, n + 1))
    with_cash[:n, :n] = sigma
    frontier = EfficientFrontier(pd.Series([*problem.mu, 0.0], index=names),
                                 pd.DataFrame(with_cash, index=names, columns=names),
                                 weight_bounds=(np.append(problem.lower, problem.cash_lower),
                                                np.append(problem.upper, problem.cash_upper)), solver="CLARABEL")
    rows, bounds = group_rows(problem)
    frontier.add_constraint(lambda w: rows @ w[:n] <= bounds)
    for constraint in turnover_and_tracking(problem, lambda a: cholesky.T @ a):
        frontier.add_constraint(lambda w, limit=constraint: limit(w[:n]))
    frontier.add_objective(lambda w: problem.cost @ cp.abs(w[:n] - problem.current))
    weights = frontier.max_quadratic_utility(risk_aversion=problem.gamma)
    return np.array([weights[s] for s in problem.symbols], dtype=np.float64)


def solve_pyportfolioopt_dense(case: Case) -> Result:
    return timed_cvxpy(case, pyportfolioopt_dense_weights, dense_and_cholesky)  # type: ignore[arg-type]


def solve_skfolio_dense(case: Case) -> Result:
    def weights(problem: Problem, prepared: Any) -> FloatArray:
        sigma, cholesky = prepared
        return skfolio_weights(problem, case.returns, skfolio_prior(problem.mu, sigma, None),
                               lambda w: [c(w) for c in turnover_and_tracking(problem, lambda a: cholesky.T @ a)])

    return timed_cvxpy(case, weights, dense_and_cholesky)
