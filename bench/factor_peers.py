"""The peers given the factor model in factor form, each written as a skilled user of it would.

``Sigma = E E' + diag(d)`` (``E`` n-by-k, from methods.estimate). The variance is ``||E'w||^2 + ||sqrt(d) w||^2``
and the tracking error ``||(E'(w - b), sqrt(d) (w - b))||``: no n-by-n matrix anywhere.

- plain CVXPY: one parameter-free problem with the exposures ``y = E'w`` and the weight traded ``t >= |w - w0|``
  as variables, solved by Clarabel (default tolerances; solved again with more equilibration when the status is
  not optimal, as bench/clarabel_direct.py does).
- PyPortfolioOpt: ``BaseConvexOptimizer`` (``EfficientFrontier`` insists on a dense covariance) with the utility
  as a custom convex objective, the per-asset bounds as its ``weight_bounds`` and the other limits through
  ``add_constraint``; ``weights_sum_to_one=False`` so that cash can range between its floor and cap.
- skfolio: ``MeanRisk`` maximizing utility with the variance, given the factor model as a ``FactorModel`` in its
  prior (skfolio then writes the variance as a second-order cone over ``(E'w, sqrt(d) w)``, its factor route),
  per-asset bounds, a budget range for cash, its transaction costs, group rows as ``left_inequality`` and the
  turnover and tracking error through ``add_constraints``. Its ``ReturnDistribution`` requires the dense
  covariance as well, so that matrix is formed (and counted) in its estimation stage.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import cvxpy as cp
import numpy as np
from base_case import Case
from clarabel_direct import RETRY
from limits import Problem
from methods import Result, timed_cvxpy

from allocator.domain import FloatArray, RiskModel


def group_rows(problem: Problem) -> tuple[FloatArray, FloatArray]:
    """The group limits as ``A w <= u`` (finite bounds only)."""
    upper, lower = np.isfinite(problem.group_upper), np.isfinite(problem.group_lower)
    matrix = np.vstack([problem.group_members[upper], -problem.group_members[lower]])
    return matrix, np.concatenate([problem.group_upper[upper], -problem.group_lower[lower]])


Root = Callable[[cp.Expression], cp.Expression]


def factor_root(risk: RiskModel) -> Root:
    """``a -> (E'a, sqrt(d) a)``, whose norm is ``sqrt(a' Sigma a)`` in factor form."""
    exposure, sqrt_d = risk.exposure, np.sqrt(risk.specific_variance)
    return lambda a: cp.hstack([exposure.T @ a, cp.multiply(sqrt_d, a)])


def turnover_and_tracking(problem: Problem, root: Root) -> list[Callable[[cp.Expression], cp.Constraint]]:
    """One-way turnover (bought and sold, net of flows) and the tracking error ``||root(w - b)||``, each a function
    of the weights, as a user of a CVXPY-based library adds them."""
    out: list[Callable[[cp.Expression], cp.Constraint]] = []
    turnover, current = problem.turnover_max, problem.current
    if turnover is not None:
        out += [lambda w: cp.sum(cp.pos(w - current)) <= turnover + problem.inflow,
                lambda w: cp.sum(cp.neg(w - current)) <= turnover + problem.outflow]
    limit, benchmark = problem.tracking_error_max, problem.benchmark
    if limit is not None:
        out.append(lambda w: cp.norm(root(w - benchmark)) <= limit)
    return out


def cvxpy_weights(problem: Problem, risk: RiskModel) -> FloatArray:
    n, exposure = problem.assets, risk.exposure
    sqrt_d = np.sqrt(risk.specific_variance)
    w, cash, traded, y = cp.Variable(n), cp.Variable(), cp.Variable(n), cp.Variable(exposure.shape[1])
    rows, bounds = group_rows(problem)
    change = w - problem.current
    constraints = [y == exposure.T @ w, cp.sum(w) + cash == 1, w >= problem.lower, w <= problem.upper,
                   cash >= problem.cash_lower, cash <= problem.cash_upper, traded >= change, traded >= -change,
                   rows @ w <= bounds]
    if problem.turnover_max is not None:
        net = cp.sum(change)
        constraints += [0.5 * (cp.sum(traded) + net) <= problem.turnover_max + problem.inflow,
                        0.5 * (cp.sum(traded) - net) <= problem.turnover_max + problem.outflow]
    if problem.tracking_error_max is not None:
        active = cp.hstack([y - exposure.T @ problem.benchmark, cp.multiply(sqrt_d, w - problem.benchmark)])
        constraints.append(cp.SOC(cp.Constant(problem.tracking_error_max), active))
    variance = cp.sum_squares(y) + cp.sum_squares(cp.multiply(sqrt_d, w))
    objective = cp.Maximize(problem.mu @ w - problem.cost @ traded - 0.5 * problem.gamma * variance)
    program = cp.Problem(objective, constraints)
    for attempt, retry in enumerate(RETRY):  # as bench/clarabel_direct.py: on a stall, once more with more
        try:                                 # equilibration (CVXPY raises on some stalls, returns inaccurate on others)
            program.solve(solver=cp.CLARABEL, **retry)
        except cp.error.SolverError:
            if attempt == len(RETRY) - 1:
                raise
            continue
        if program.status == cp.OPTIMAL:
            break
    return np.asarray(w.value)


def pyportfolioopt_weights(problem: Problem, risk: RiskModel) -> FloatArray:
    from pypfopt.base_optimizer import BaseConvexOptimizer

    exposure, sqrt_d = risk.exposure, np.sqrt(risk.specific_variance)
    optimizer = BaseConvexOptimizer(problem.assets, list(problem.symbols), weight_bounds=(problem.lower,
                                    problem.upper), solver="CLARABEL")
    rows, bounds = group_rows(problem)
    optimizer.add_constraint(lambda w: rows @ w <= bounds)
    optimizer.add_constraint(lambda w: cp.sum(w) >= 1.0 - problem.cash_upper)
    optimizer.add_constraint(lambda w: cp.sum(w) <= 1.0 - problem.cash_lower)
    for constraint in turnover_and_tracking(problem, factor_root(risk)):
        optimizer.add_constraint(constraint)

    def negative_utility(w: cp.Variable) -> cp.Expression:  # PyPortfolioOpt minimizes
        variance = cp.sum_squares(exposure.T @ w) + cp.sum_squares(cp.multiply(sqrt_d, w))
        return 0.5 * problem.gamma * variance - problem.mu @ w + problem.cost @ cp.abs(w - problem.current)

    weights = optimizer.convex_objective(negative_utility, weights_sum_to_one=False)
    return np.array([weights[s] for s in problem.symbols], dtype=np.float64)


def skfolio_prior(mu: FloatArray, covariance: FloatArray, risk: RiskModel | None) -> Any:
    """A skfolio prior handing over the given ``mu`` and covariance, and the factor model when there is one."""
    from skfolio.prior import BasePrior, ReturnDistribution
    from skfolio.prior import FactorModel as SkfolioFactorModel

    class GivenPrior(BasePrior):  # type: ignore[misc]
        def __init__(self, mu: FloatArray | None = None, covariance: FloatArray | None = None,
                     risk: RiskModel | None = None) -> None:
            self.mu = mu
            self.covariance = covariance
            self.risk = risk

        def fit(self, X: Any, y: Any = None, **_: Any) -> GivenPrior:
            factor_model = None
            if self.risk is not None:
                k = self.risk.factors
                factor_model = SkfolioFactorModel(
                    observations=np.arange(len(X)), asset_names=np.array(self.risk.symbols),
                    factor_names=np.array([f"pc{i}" for i in range(k)]), factor_families=None,
                    loading_matrix=self.risk.exposure, exposures=None, factor_covariance=np.eye(k),
                    factor_mu=np.zeros(k), factor_returns=None, idio_covariance=self.risk.specific_variance,
                    idio_mu=None, idio_returns=None, idio_variances=None)
            self.return_distribution_ = ReturnDistribution(mu=self.mu, covariance=self.covariance,
                                                           returns=np.asarray(X), factor_model=factor_model)
            return self

    return GivenPrior(mu, covariance, risk)


def skfolio_weights(problem: Problem, returns: FloatArray, prior: Any,
                    extra: Any) -> FloatArray:
    """skfolio's ``MeanRisk`` on the problem with this prior; ``extra(w)`` gives the constraints added by hand."""
    from skfolio.measures import RiskMeasure
    from skfolio.optimization import MeanRisk, ObjectiveFunction

    rows, bounds = group_rows(problem)
    model = MeanRisk(
        objective_function=ObjectiveFunction.MAXIMIZE_UTILITY, risk_measure=RiskMeasure.VARIANCE,
        risk_aversion=problem.gamma / 2.0,  # skfolio maximizes mu'w - risk_aversion * w'Sigma w - costs
        prior_estimator=prior, min_weights=problem.lower, max_weights=problem.upper,
        budget=None, min_budget=1.0 - problem.cash_upper, max_budget=1.0 - problem.cash_lower,
        transaction_costs=problem.cost, previous_weights=problem.current,
        left_inequality=rows, right_inequality=bounds, add_constraints=extra, solver="CLARABEL")
    model.fit(returns)
    return np.asarray(model.weights_, dtype=np.float64)


def solve_cvxpy(case: Case) -> Result:
    return timed_cvxpy(case, cvxpy_weights)


def solve_pyportfolioopt(case: Case) -> Result:
    return timed_cvxpy(case, pyportfolioopt_weights)


def solve_skfolio(case: Case) -> Result:
    def with_dense(risk: RiskModel) -> tuple[RiskModel, FloatArray]:
        return risk, risk.dense()

    def weights(problem: Problem, prepared: tuple[RiskModel, FloatArray]) -> FloatArray:
        risk, covariance = prepared
        limits = turnover_and_tracking(problem, factor_root(risk))
        return skfolio_weights(problem, case.returns, skfolio_prior(problem.mu, covariance, risk),
                               lambda w: [constraint(w) for constraint in limits])

    return timed_cvxpy(case, weights, with_dense)  # type: ignore[arg-type]
