"""The optimizer: factor and dense formulations agree, the compiled (DPP) problem equals one built afresh, and the
factor path forms no n-by-n matrix."""

from __future__ import annotations

import tracemalloc

import cvxpy as cp
import numpy as np
import pandas as pd
import pytest

from allocator.config.schema import SolverConfig
from allocator.domain import RiskModel
from allocator.model.factor_models import statistical_factor_model
from allocator.model.risk_models import dense_form
from allocator.model.rsi import RsiLimits
from allocator.optimize.constraints import GroupBound, Limits
from allocator.optimize.families import asset_bounds, violations
from allocator.optimize.problem import CompiledProblem, ProblemCache, solve_allocation

SOLVER = SolverConfig()


def _case(n: int, t: int = 500, seed: int = 42) -> tuple[RiskModel, np.ndarray, np.ndarray]:
    """A PCA risk model (4 factors) of seeded factor-structured returns, expected returns and current weights."""
    rng = np.random.default_rng(seed)
    returns = rng.standard_normal((t, 4)) @ rng.standard_normal((4, n)) * 0.008 + rng.standard_normal((t, n)) * 0.015
    risk = statistical_factor_model(returns, tuple(f"A{i}" for i in range(n)), 4)
    mu = 0.05 + 0.06 * rng.standard_normal(n)
    return risk, mu, rng.dirichlet(np.ones(n))


def _limits(risk: RiskModel, current: np.ndarray, cap: float = 0.08, turnover: float | None = None,
            sector_cap: float = 0.5, tracking_error: float | None = None, benchmark: np.ndarray | None = None
            ) -> Limits:
    n = len(risk.symbols)
    sectors = np.arange(n) % 3
    groups = tuple(GroupBound(f"g{j}", f"sector {j}", sectors == j, -np.inf, sector_cap, False) for j in range(3))
    free = np.full(n, np.inf)
    b = current if benchmark is None else benchmark
    return Limits(symbols=risk.symbols, current=current, current_cash=0.0, benchmark=b, cost=np.zeros(n),
                  position_lower=np.zeros(n), position_upper=np.full(n, cap),
                  active_lower=-free, active_upper=free, rsi=RsiLimits(np.full(n, 50.0), -free, free, ()),
                  groups=groups, budget=1.0, cash_lower=0.0, cash_upper=0.0, tracking_error_max=tracking_error,
                  turnover_max=turnover, turnover_forced=0.0)


def _strictly_complementary(compiled: CompiledProblem, weight: np.ndarray, limits: Limits) -> bool:
    """Every per-asset bound is either slack by 1e-4 or held with a multiplier above 1e-4 (a non-degenerate
    optimum, where an interior-point method is accurate to well below 1e-6)."""
    lower = np.asarray(compiled.constraints["weight_min"].dual_value)
    upper = np.asarray(compiled.constraints["weight_max"].dual_value)
    at_lower = weight <= asset_bounds(limits)[0] + 1e-4
    at_upper = weight >= asset_bounds(limits)[1] - 1e-4
    return bool(np.all(lower[at_lower] > 1e-4) and np.all(upper[at_upper] > 1e-4))


def test_factor_formulation_gives_the_dense_weights() -> None:
    risk, mu, current = _case(40)
    limits = _limits(risk, current)
    factor = solve_allocation(limits, mu, risk, 4.0, SOLVER, ProblemCache())
    cache = ProblemCache()
    dense = solve_allocation(limits, mu, dense_form(risk), 4.0, SOLVER, cache)
    compiled, _ = cache.get(dense_form(risk), limits)
    assert _strictly_complementary(compiled, dense.weight, limits), "the case must be non-degenerate"
    binding = (dense.weight >= asset_bounds(limits)[1] - 1e-6) | (dense.weight <= 1e-6)
    assert 5 <= binding.sum() <= 35, "some bounds bind and some assets are interior"
    np.testing.assert_allclose(factor.weight, dense.weight, rtol=0, atol=1e-6)
    assert factor.objective == pytest.approx(dense.objective, rel=1e-9)


def test_factor_and_dense_formulations_agree_under_a_binding_tracking_error_limit() -> None:
    risk, mu, current = _case(30, seed=7)
    benchmark = np.full(30, 1 / 30)
    limits = _limits(risk, current, cap=0.15, tracking_error=0.02, benchmark=benchmark)
    factor = solve_allocation(limits, mu, risk, 2.0, SOLVER, ProblemCache())
    dense = solve_allocation(limits, mu, dense_form(risk), 2.0, SOLVER, ProblemCache())
    assert np.sqrt(risk.variance(factor.weight - benchmark)) == pytest.approx(0.02, rel=1e-6)  # it binds
    np.testing.assert_allclose(factor.weight, dense.weight, rtol=0, atol=1e-6)


def test_factor_formulation_matches_pyportfolioopt_given_the_dense_matrix() -> None:
    """A peer that only takes a dense matrix reaches the same optimum (max weight, sector caps, turnover)."""
    from pypfopt import EfficientFrontier

    risk, mu, current = _case(60, seed=11)
    limits = _limits(risk, current, cap=0.06, turnover=0.25, sector_cap=0.4)
    ours = solve_allocation(limits, mu, risk, 3.0, SOLVER, ProblemCache())
    sigma = risk.dense()
    frontier = EfficientFrontier(pd.Series(mu), pd.DataFrame(sigma), weight_bounds=(0.0, 0.06), solver="CLARABEL")
    frontier.add_sector_constraints({i: f"s{i % 3}" for i in range(60)}, {}, {f"s{j}": 0.4 for j in range(3)})
    frontier.add_constraint(lambda w: 0.5 * cp.norm1(w - current) <= 0.25)
    frontier.max_quadratic_utility(risk_aversion=3.0)
    theirs = np.array(list(frontier.clean_weights(cutoff=0, rounding=None).values()))
    assert 0.5 * np.abs(ours.weight - current).sum() == pytest.approx(0.25, abs=1e-7)  # turnover binds
    objective = lambda w: mu @ w - 1.5 * w @ sigma @ w  # noqa: E731
    assert objective(ours.weight) == pytest.approx(objective(theirs), rel=1e-7)
    np.testing.assert_allclose(ours.weight, theirs, atol=1e-4)


def _scenario(risk: RiskModel, current: np.ndarray, mu: np.ndarray, seed: int) -> tuple[Limits, np.ndarray, float]:
    rng = np.random.default_rng(seed)
    limits = _limits(risk, current, cap=float(rng.uniform(0.06, 0.1)), turnover=float(rng.uniform(0.2, 0.5)),
                     sector_cap=float(rng.uniform(0.36, 0.5)))
    return limits, mu * rng.uniform(0.5, 1.5) + 0.02 * rng.standard_normal(len(mu)), float(rng.uniform(2, 5))


def test_one_compiled_problem_gives_the_weights_of_problems_built_afresh(monkeypatch: pytest.MonkeyPatch) -> None:
    """Scenarios solved one after another on one compiled problem: new parameters, and the Clarabel solver of the
    first solve updated in place (warm start) rather than set up again."""
    import clarabel

    risk, mu, current = _case(50, seed=5)
    scenarios = [_scenario(risk, current, mu, seed) for seed in range(4)]
    fresh = [solve_allocation(*s[:2], risk, s[2], SOLVER, ProblemCache()) for s in scenarios]
    setups = []
    original = clarabel.DefaultSolver

    def counted(*args: object) -> object:
        setups.append(1)
        return original(*args)

    monkeypatch.setattr(clarabel, "DefaultSolver", counted)
    cache = ProblemCache()
    for index, (limits, scenario_mu, gamma) in enumerate(scenarios):
        reused = solve_allocation(limits, scenario_mu, risk, gamma, SOLVER, cache)
        assert reused.reused_problem is (index > 0)
        np.testing.assert_allclose(reused.weight, fresh[index].weight, rtol=0, atol=1e-8)
        assert max(violations(limits, risk, reused.weight, reused.cash_weight).values()) <= 1e-6
    assert cache.misses == 1 and cache.hits == 3
    assert len(setups) == 1, "the solver is set up once and updated in place for the later scenarios"


def test_the_problem_is_dpp_and_its_objective_holds_no_parameter() -> None:
    """DPP: canonicalized once. A parameter-free objective: CVXPY extracts it without a dense coefficient matrix."""
    risk, _, current = _case(20)
    for elastic in (False, True):
        compiled = CompiledProblem(risk, _limits(risk, current, turnover=0.3, tracking_error=0.05), elastic)
        assert compiled.problem.is_dpp()
        assert not compiled.problem.objective.parameters()
        if elastic:
            assert compiled.phase_one.is_dpp()


@pytest.mark.parametrize("direct", [False, True])
def test_the_factor_path_forms_no_n_by_n_matrix(direct: bool) -> None:
    """2,000 assets: everything numpy and CVXPY allocate while estimating and solving stays below the size of one
    dense covariance matrix (32 MB), through CVXPY and with Clarabel called directly (``optimize.conic``)."""
    n, t = 2000, 200
    rng = np.random.default_rng(0)
    returns = rng.standard_normal((t, 5)) @ rng.standard_normal((5, n)) * 0.01 + rng.standard_normal((t, n)) * 0.02
    symbols = tuple(f"A{i}" for i in range(n))
    current = np.full(n, 1 / n)
    tracemalloc.start()
    try:
        risk = statistical_factor_model(returns, symbols, 10)
        allocation = solve_allocation(_limits(risk, current, cap=0.01, turnover=0.3, sector_cap=0.4),
                                      0.05 + 0.02 * rng.standard_normal(n), risk, 2.5, SOLVER,
                                      ProblemCache(direct=direct))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert allocation.status == "optimal"
    assert peak < n * n * 8, f"peak {peak / 2**20:.1f} MB"
