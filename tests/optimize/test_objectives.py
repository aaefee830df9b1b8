"""The objectives (``optimizer.objective``): each against PyPortfolioOpt on the same mu and Sigma, max Sharpe under
every limit against the utility frontier of the same limits, and the refusals."""

from __future__ import annotations

from dataclasses import replace

import cvxpy as cp
import numpy as np
import pytest
from pypfopt import EfficientFrontier

from allocator.config.schema import Objective, SolverConfig
from allocator.domain import RiskModel
from allocator.optimize.constraints import Limits, tracking_error, turnover
from allocator.optimize.objectives import objective_value
from allocator.optimize.problem import ProblemCache, ProblemInfeasible, solve_allocation
from tests.optimize.test_tracking_error_scale import factor_case

SOLVER = SolverConfig()
GAMMA = 2.5
# the peer at Clarabel's default tolerances (1e-8) leaves weights 3e-6 from its own optimum (summing to 1 - 2e-8);
# at allocate's tolerances both agree to 1e-9
TIGHT = {"tol_gap_abs": 1e-12, "tol_gap_rel": 1e-12, "tol_feas": 1e-12}


def _long_only(limits: Limits, cap: float) -> Limits:
    """``limits`` reduced to PyPortfolioOpt's: fully invested (no cash), ``0 <= w <= cap``, no costs."""
    n = len(limits.symbols)
    return replace(limits, cost=np.zeros(n), groups=(), tracking_error_max=None, turnover_max=None,
                   position_upper=np.full(n, cap))


def _pyportfolioopt(objective: Objective, mu: np.ndarray, risk: RiskModel, cap: float) -> np.ndarray:
    frontier = EfficientFrontier(mu, risk.dense(), weight_bounds=(0, cap), solver="CLARABEL", solver_options=TIGHT)
    if objective is Objective.UTILITY:
        frontier.max_quadratic_utility(risk_aversion=GAMMA)
    elif objective is Objective.MIN_VARIANCE:
        frontier.min_volatility()
    else:
        frontier.max_sharpe(risk_free_rate=0.0)
    return np.array(list(frontier.clean_weights(rounding=None).values()))


@pytest.mark.parametrize("cap", [1.0, 0.15])
@pytest.mark.parametrize("objective", [Objective.UTILITY, Objective.MIN_VARIANCE, Objective.MAX_SHARPE])
def test_each_objective_gives_pyportfolioopts_weights(objective: Objective, cap: float) -> None:
    """``max_quadratic_utility``, ``min_volatility`` and ``max_sharpe`` (risk-free rate 0: mu is an excess
    return) on the same mu and dense Sigma, long only, fully invested: the same weights within 1e-6."""
    risk, mu, limits = factor_case(30, seed=3)
    allocation = solve_allocation(_long_only(limits, cap), mu, risk, GAMMA, SOLVER, ProblemCache(), objective)
    assert allocation.objective_name == objective.value
    np.testing.assert_allclose(allocation.weight, _pyportfolioopt(objective, mu, risk, cap), rtol=0, atol=1e-6)


def test_min_tracking_error_gives_the_peer_problems_weights() -> None:
    """PyPortfolioOpt's ``convex_objective`` minimizing ``(w - b)' Sigma (w - b)`` with a sector cap, against
    min_tracking_error under the same limits."""
    risk, mu, limits = factor_case(30, seed=4)
    group = limits.groups[0]
    limits = replace(_long_only(limits, 0.2), groups=(replace(group, upper=0.5 * float(limits.benchmark[
        group.members].sum())),))
    allocation = solve_allocation(limits, mu, risk, GAMMA, SOLVER, ProblemCache(), Objective.MIN_TRACKING_ERROR)
    frontier = EfficientFrontier(mu, risk.dense(), weight_bounds=(0, 0.2), solver="CLARABEL", solver_options=TIGHT)
    frontier.add_constraint(lambda w: group.members.astype(float) @ w <= limits.groups[0].upper)
    b, sigma = limits.benchmark, risk.dense()
    frontier.convex_objective(lambda w: cp.quad_form(w - b, sigma, assume_PSD=True))
    peer = np.array(list(frontier.clean_weights(rounding=None).values()))
    np.testing.assert_allclose(allocation.weight, peer, rtol=0, atol=1e-6)
    assert tracking_error(risk, allocation.weight, b) == pytest.approx(tracking_error(risk, peer, b), abs=1e-8)


def test_max_sharpe_under_every_limit_beats_the_utility_frontier_of_those_limits() -> None:
    """Caps, sector caps, binding tracking-error and turnover limits, and costs: the homogenized solution holds every
    limit, and no portfolio on the utility frontier of the same limits (gamma from 0.1 to 100) has a higher Sharpe
    ratio net of costs; the best of them comes within 1e-3."""
    risk, mu, limits = factor_case(60, seed=6)
    limits = replace(limits, tracking_error_max=0.01, turnover_max=0.1)
    sharpe = solve_allocation(limits, mu, risk, GAMMA, SOLVER, ProblemCache(), Objective.MAX_SHARPE)
    assert max(sharpe.violations.values()) <= 1e-7
    assert tracking_error(risk, sharpe.weight, limits.benchmark) == pytest.approx(0.01, abs=1e-8), "binding"
    assert turnover(limits, sharpe.weight, sharpe.cash_weight) == pytest.approx(0.1, abs=1e-8), "binding"
    assert sharpe.objective == pytest.approx(objective_value(Objective.MAX_SHARPE, mu, risk, limits, sharpe.weight,
                                                             GAMMA), abs=1e-12)
    cache = ProblemCache()
    frontier = [solve_allocation(limits, mu, risk, gamma, SOLVER, cache).weight for gamma in np.geomspace(0.1, 100, 60)]
    ratios = [objective_value(Objective.MAX_SHARPE, mu, risk, limits, w, GAMMA) for w in frontier]
    assert max(ratios) <= sharpe.objective + 1e-9
    assert max(ratios) >= sharpe.objective - 1e-3


def test_max_sharpe_is_homogeneous_in_mu_and_min_variance_ignores_it() -> None:
    """Scaling mu leaves the max-Sharpe weights unchanged; min_variance without costs gives the same weights for
    any mu and gamma."""
    risk, mu, limits = factor_case(40, seed=8)
    limits = replace(limits, cost=np.zeros(40))
    first = solve_allocation(limits, mu, risk, GAMMA, SOLVER, ProblemCache(), Objective.MAX_SHARPE)
    scaled = solve_allocation(limits, 3.0 * mu, risk, 7.0, SOLVER, ProblemCache(), Objective.MAX_SHARPE)
    np.testing.assert_allclose(scaled.weight, first.weight, rtol=0, atol=1e-7)
    low = solve_allocation(limits, mu, risk, 1.0, SOLVER, ProblemCache(), Objective.MIN_VARIANCE)
    high = solve_allocation(limits, -mu, risk, 50.0, SOLVER, ProblemCache(), Objective.MIN_VARIANCE)
    np.testing.assert_allclose(high.weight, low.weight, rtol=0, atol=1e-7)


def test_max_sharpe_without_a_positive_excess_return_is_infeasible() -> None:
    risk, mu, limits = factor_case(20, seed=9)
    with pytest.raises(ProblemInfeasible):
        solve_allocation(limits, -np.abs(mu), risk, GAMMA, SOLVER, ProblemCache(), Objective.MAX_SHARPE)
