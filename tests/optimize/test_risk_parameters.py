"""The risk model as parameters: one compiled problem serves every risk model of the same shape (a backtest's dates)
and gives the weights of the problem with the risk model compiled in as constants."""

from __future__ import annotations

import numpy as np
import pytest
from cvxpy.reductions.dcp2cone.dcp2cone import Dcp2Cone

from allocator.config.schema import Objective, SolverConfig
from allocator.domain import RiskModel
from allocator.model.factor_models import statistical_factor_model
from allocator.model.risk_models import dense_form
from allocator.model.rsi import RsiLimits
from allocator.optimize import problem
from allocator.optimize.constraints import GroupBound, Limits
from allocator.optimize.problem import Allocation, ProblemCache, solve_allocation, structure_key

SOLVER = SolverConfig()
N = 20


def _risk(seed: int, n: int = N) -> RiskModel:
    """A 4-factor PCA risk model of seeded returns: one per 'date'."""
    rng = np.random.default_rng(seed)
    factors = rng.standard_normal((300, 4)) @ rng.standard_normal((4, n)) * 0.008
    returns = factors + rng.standard_normal((300, n)) * 0.015
    return statistical_factor_model(returns, tuple(f"A{i}" for i in range(n)), 4)


def _limits(n: int, seed: int, tracking_error: float | None) -> tuple[Limits, np.ndarray]:
    rng = np.random.default_rng(seed)
    current = rng.dirichlet(np.ones(n))
    sectors = np.arange(n) % 3
    groups = tuple(GroupBound(f"g{j}", f"sector {j}", sectors == j, -np.inf, 0.5, False) for j in range(3))
    free = np.full(n, np.inf)
    limits = Limits(symbols=tuple(f"A{i}" for i in range(n)), current=current, current_cash=0.0,
                    benchmark=np.full(n, 1 / n), cost=np.full(n, 0.001), position_lower=np.zeros(n),
                    position_upper=np.full(n, 0.15), active_lower=-free, active_upper=free,
                    rsi=RsiLimits(np.full(n, 50.0), -free, free, ()), groups=groups, budget=1.0, cash_lower=0.0,
                    cash_upper=0.0, tracking_error_max=tracking_error, turnover_max=0.4, turnover_forced=0.0)
    return limits, 0.05 + 0.06 * rng.standard_normal(n)


def _as_constants(monkeypatch: pytest.MonkeyPatch, limits: Limits, mu: np.ndarray, risk: RiskModel,
                  objective: Objective) -> Allocation:
    """The allocation of a problem built afresh with the risk model compiled in as constants."""
    with monkeypatch.context() as patch:
        patch.setattr(problem, "RISK_PARAMETER_CELLS", 0)
        return solve_allocation(limits, mu, risk, 3.0, SOLVER, ProblemCache(), objective)


@pytest.mark.parametrize("form", ["factor", "dense"])
@pytest.mark.parametrize("objective", [Objective.UTILITY, Objective.MAX_SHARPE])
@pytest.mark.parametrize("tracking_error", [None, 0.03])
def test_dates_with_their_own_risk_models_share_one_compiled_problem(
        monkeypatch: pytest.MonkeyPatch, form: str, objective: Objective, tracking_error: float | None) -> None:
    canonicalized: list[int] = []
    original = Dcp2Cone.apply

    def counted(self: Dcp2Cone, *args: object) -> object:
        canonicalized.append(date)
        return original(self, *args)

    cache = ProblemCache()
    allowed = {0}  # the dates that may canonicalize: the first, one that falls back to another solver, and the next
    for date in range(4):
        risk = _risk(100 + date)
        risk = dense_form(risk) if form == "dense" else risk
        limits, mu = _limits(N, date, tracking_error)
        expected = _as_constants(monkeypatch, limits, mu, risk, objective)
        with monkeypatch.context() as patch:
            patch.setattr(Dcp2Cone, "apply", counted)
            found = solve_allocation(limits, mu, risk, 3.0, SOLVER, cache, objective)
        assert found.reused_problem is (date > 0)
        if len(found.attempts) > 1:  # a fallback solver is canonicalized for; CVXPY keeps the last solver's only
            allowed.update({date, date + 1})
        # the same optimum to the solvers' tolerances (the test_formulation standard for two formulations): the
        # utility is flat to 1e-15 along directions where the weights differ by 1e-8 (the dense form of date 0), and
        # the homogenized max-Sharpe problem with a tracking-error limit is ill-conditioned enough that Clarabel
        # stops at optimal_inaccurate on some dates, with either formulation, and SCS (1e-9) finishes
        assert found.objective == pytest.approx(expected.objective, rel=1e-9)
        np.testing.assert_allclose(found.weight, expected.weight, rtol=0, atol=1e-6)
    assert cache.compiles == 1 and cache.hits == 3
    assert canonicalized and set(canonicalized) <= allowed, "later dates only refill the parameters"


def test_the_structure_key_holds_shapes_below_the_limit_and_values_above_it(monkeypatch: pytest.MonkeyPatch) -> None:
    limits, _ = _limits(N, 0, 0.03)
    one, other = _risk(1), _risk(2)
    assert structure_key(one, limits) == structure_key(other, limits)
    assert structure_key(one, limits) != structure_key(dense_form(one), limits)  # 20 factors, no specific risk
    monkeypatch.setattr(problem, "RISK_PARAMETER_CELLS", 10)
    assert structure_key(one, limits) != structure_key(other, limits)
    assert structure_key(one, limits) == structure_key(_risk(1), limits)
