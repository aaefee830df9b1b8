"""Clarabel called directly (``optimize.conic``) solves the problem CVXPY's compiled problem solves: the same weights
and objective under every family it has rows for, the same infeasibility, and CVXPY keeps what it has none for."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace

import numpy as np
import pytest

from allocator.config.schema import Objective, SolverConfig, SolverName
from allocator.domain import RiskModel
from allocator.model.factor_models import statistical_factor_model
from allocator.model.rsi import RsiGroupCap, RsiLimits
from allocator.optimize import conic
from allocator.optimize import problem as problem_module
from allocator.optimize.conic import DIRECT_ASSETS, ConicProgram, Programs, conic_program, supported
from allocator.optimize.constraints import GroupBound, Limits
from allocator.optimize.families import FixedBounds
from allocator.optimize.problem import ProblemCache, ProblemInfeasible, solve_allocation, solves_text

SOLVER = SolverConfig()
TIGHT = {"tol_gap_abs": 1e-12, "tol_gap_rel": 1e-12, "tol_feas": 1e-12, "presolve_enable": False}
N = 60


def _case(seed: int, specific: bool = True) -> tuple[RiskModel, np.ndarray, Limits]:
    """A 60-asset PCA risk model (5 factors), expected returns, and limits of every kind ``conic`` has rows for:
    position caps, active bounds, an RSI trim, sector groups, cash bounds, costs, turnover and tracking error."""
    rng = np.random.default_rng(seed)
    returns = rng.standard_normal((400, 5)) @ rng.standard_normal((5, N)) * 0.008 + rng.standard_normal((400, N)) * 0.01
    risk = statistical_factor_model(returns, tuple(f"A{i:02d}" for i in range(N)), 5)
    if not specific:
        risk = replace(risk, specific_variance=np.zeros(N))
    mu = 0.04 + 0.05 * rng.standard_normal(N)
    benchmark = rng.dirichlet(np.ones(N)) * 0.97
    current = rng.dirichlet(np.ones(N)) * 0.95
    sectors = np.arange(N) % 4
    groups = tuple(GroupBound(f"groups[{j}]", f"sector {j}", sectors == j, 0.1, 0.35, False) for j in range(4))
    rsi_upper = np.full(N, np.inf)
    rsi_upper[:5] = current[:5] * 0.5  # overbought: trimmed to half
    free = np.full(N, np.inf)
    limits = Limits(symbols=risk.symbols, current=current, current_cash=0.05, benchmark=benchmark,
                    cost=np.full(N, 0.002), position_lower=np.zeros(N), position_upper=np.full(N, 0.06),
                    active_lower=np.full(N, -0.03), active_upper=np.full(N, 0.03),
                    rsi=RsiLimits(np.full(N, 50.0), -free, rsi_upper, ()), groups=groups, budget=1.0,
                    cash_lower=0.01, cash_upper=0.05, tracking_error_max=0.03, turnover_max=0.3, turnover_forced=0.0)
    return risk, mu, limits


def _both(limits: Limits, mu: np.ndarray, risk: RiskModel, monkeypatch: pytest.MonkeyPatch,
          objective: Objective = Objective.UTILITY) -> tuple[object, object]:
    """The allocation through ``conic`` (from one asset up) and through CVXPY's compiled problem, both at Clarabel's
    1e-12 tolerances (CVXPY's for this size; ``conic`` starts at 1e-8 for the sizes it serves)."""
    monkeypatch.setattr(problem_module, "DIRECT_ASSETS", 1)
    monkeypatch.setattr(conic, "LADDER", (TIGHT, *conic.LADDER))
    direct_cache = ProblemCache()
    direct = solve_allocation(limits, mu, risk, 3.0, SOLVER, direct_cache, objective)
    assert direct_cache.compiles == 0 and direct.attempts[-1].accepted
    assert (direct_cache.solves, direct_cache.direct_solves) == (1, 1)
    cvxpy_cache = ProblemCache(direct=False)
    compiled = solve_allocation(limits, mu, risk, 3.0, SOLVER, cvxpy_cache, objective)
    assert cvxpy_cache.compiles == 1
    return direct, compiled


def _agree(direct: object, compiled: object) -> None:
    np.testing.assert_allclose(direct.weight, compiled.weight, rtol=0, atol=2e-6)  # type: ignore[attr-defined]
    assert direct.cash_weight == pytest.approx(compiled.cash_weight, abs=2e-6)  # type: ignore[attr-defined]
    assert direct.objective == pytest.approx(compiled.objective, rel=1e-6, abs=1e-9)  # type: ignore[attr-defined]
    assert max(direct.violations.values()) <= SOLVER.feasibility_tolerance  # type: ignore[attr-defined]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_every_family_gives_the_weights_of_the_compiled_problem(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    risk, mu, limits = _case(seed)
    direct, compiled = _both(limits, mu, risk, monkeypatch)
    _agree(direct, compiled)
    te = np.sqrt(risk.variance(direct.weight - limits.benchmark))  # type: ignore[attr-defined]
    assert te <= 0.03 + 1e-7


def test_a_binding_tracking_error_without_specific_risk(monkeypatch: pytest.MonkeyPatch) -> None:
    risk, mu, limits = _case(4, specific=False)
    limits = replace(limits, tracking_error_max=0.005)
    direct, compiled = _both(limits, mu, risk, monkeypatch)
    _agree(direct, compiled)
    te = np.sqrt(risk.variance(direct.weight - limits.benchmark))  # type: ignore[attr-defined]
    assert te == pytest.approx(0.005, rel=1e-5)  # it binds


def test_invest_mode_with_a_deposit_and_raise_mode_with_a_cash_target(monkeypatch: pytest.MonkeyPatch) -> None:
    risk, mu, limits = _case(5)
    scaled = limits.current * 0.8  # 25% cash: a deposit to invest, which the turnover limit does not count
    free = np.full(N, np.inf)
    invest = replace(limits, current=scaled, current_cash=1.0 - scaled.sum(), no_sells=True, turnover_max=0.05,
                     rsi=replace(limits.rsi, upper=free), tracking_error_max=None, position_upper=np.full(N, 0.2),
                     active_lower=-free, active_upper=free, groups=())
    direct, compiled = _both(invest, mu, risk, monkeypatch)
    _agree(direct, compiled)
    assert np.all(direct.weight >= invest.current - 1e-8)  # type: ignore[attr-defined]
    raising = replace(limits, no_buys=True, cash_raise=0.12, cash_upper=0.2, tracking_error_max=None,
                      active_lower=-free, active_upper=free, groups=())
    direct, compiled = _both(raising, mu, risk, monkeypatch)
    _agree(direct, compiled)
    assert direct.cash_weight >= 0.12 - 1e-8  # type: ignore[attr-defined]


def test_rsi_group_caps_and_a_restricted_list(monkeypatch: pytest.MonkeyPatch) -> None:
    risk, mu, limits = _case(6)
    members = np.arange(N) % 4 == 1
    cap = RsiGroupCap("rsi.groups[0]", "sector 1", members, 0.12, "XLK", 78.0)
    restricted = np.where(np.arange(N) < 8, limits.current, np.inf)  # never bought
    limits = replace(limits, rsi=replace(limits.rsi, groups=(cap,)),
                     extra=(FixedBounds("restricted", np.full(N, -np.inf), restricted),))
    assert supported(limits)
    direct, compiled = _both(limits, mu, risk, monkeypatch)
    _agree(direct, compiled)
    assert direct.weight[members].sum() <= 0.12 + 1e-8  # type: ignore[attr-defined]


@pytest.mark.parametrize("objective", [Objective.MIN_VARIANCE, Objective.MIN_TRACKING_ERROR])
def test_the_other_utility_objectives(objective: Objective, monkeypatch: pytest.MonkeyPatch) -> None:
    risk, mu, limits = _case(7)
    direct, compiled = _both(limits, mu, risk, monkeypatch, objective)
    _agree(direct, compiled)


def test_infeasible_limits_are_reported_infeasible_by_both(monkeypatch: pytest.MonkeyPatch) -> None:
    risk, mu, limits = _case(8)
    limits = replace(limits, groups=tuple(replace(g, lower=0.3) for g in limits.groups))  # 4 x 0.3 > 0.99
    monkeypatch.setattr(problem_module, "DIRECT_ASSETS", 1)
    for cache in (ProblemCache(), ProblemCache(direct=False)):
        with pytest.raises(ProblemInfeasible) as raised:
            solve_allocation(limits, mu, risk, 3.0, SOLVER, cache)
        assert raised.value.attempts[0].status == "infeasible"
    assert cache.compiles == 1


def _same_program(found: ConicProgram, expected: ConicProgram) -> None:
    for mine, theirs in ((found.a_matrix, expected.a_matrix), (found.p_matrix, expected.p_matrix)):
        assert mine.shape == theirs.shape
        for part in ("indptr", "indices", "data"):
            np.testing.assert_array_equal(getattr(mine, part), getattr(theirs, part))
    np.testing.assert_array_equal(found.b, expected.b)
    np.testing.assert_array_equal(found.q, expected.q)
    assert [str(c) for c in found.cones] == [str(c) for c in expected.cones]


def test_programs_reuse_the_matrices_of_one_risk_model_and_structure_only() -> None:
    """Another account on the same model (other weights, cash and bounds, the same finite bounds) refills ``b`` and
    ``q`` on the matrices kept; another set of finite bounds, upper bounds where there were lower ones, or another
    risk model of the same shape each get matrices of their own, equal to those built afresh."""
    risk, mu, limits = _case(21)
    programs = Programs()
    first = conic_program(limits, mu, risk, 3.0, programs)
    rng = np.random.default_rng(21)
    other = replace(limits, current=rng.dirichlet(np.ones(N)) * 0.9, current_cash=0.1, cash_lower=0.02,
                    position_upper=np.full(N, 0.07), turnover_max=0.2)
    again = conic_program(other, mu, risk, 3.0, programs)
    assert programs.reused == 1 and again.a_matrix is first.a_matrix and again.p_matrix is first.p_matrix
    _same_program(again, conic_program(other, mu, risk, 3.0))
    free = np.full(N, np.inf)
    loose = replace(limits, position_lower=-free, position_upper=free, active_lower=-free, active_upper=free,
                    rsi=replace(limits.rsi, upper=free), groups=())
    capped = np.where(np.arange(N) < 7, 0.05, np.inf)
    upper, lower = replace(loose, position_upper=capped), replace(loose, position_lower=-capped)
    other_risk = replace(risk, specific_variance=risk.specific_variance * 1.5)
    for case, model in ((upper, risk), (lower, risk), (limits, other_risk)):
        reused = programs.reused
        found = conic_program(case, mu, model, 3.0, programs)
        assert programs.reused == reused
        _same_program(found, conic_program(case, mu, model, 3.0))


def test_cvxpy_keeps_what_conic_has_no_rows_for(monkeypatch: pytest.MonkeyPatch) -> None:
    """Market impact (a power cone), max Sharpe (the homogenized problem), another solver first, or a size below
    ``DIRECT_ASSETS`` are compiled through CVXPY."""
    risk, mu, limits = _case(9)
    big = replace(limits, symbols=tuple(f"S{i}" for i in range(DIRECT_ASSETS)))
    assert ProblemCache().direct(big, SOLVER)
    assert not ProblemCache().direct(replace(big, symbols=big.symbols[1:]), SOLVER)
    assert not ProblemCache().direct(big, SolverConfig(order=[SolverName.OSQP, SolverName.CLARABEL]))
    assert not ProblemCache(direct=False).direct(big, SOLVER)
    monkeypatch.setattr(problem_module, "DIRECT_ASSETS", 1)
    impact = replace(limits, impact=np.full(N, 0.01))
    assert not supported(impact)
    for case, objective in ((impact, Objective.UTILITY), (limits, Objective.MAX_SHARPE)):
        cache = ProblemCache()
        solve_allocation(case, mu, risk, 3.0, SOLVER, cache, objective)
        assert cache.compiles == 1


def test_a_clarabel_crash_is_a_failed_attempt_and_cvxpy_solves(monkeypatch: pytest.MonkeyPatch) -> None:
    risk, mu, limits = _case(10)
    monkeypatch.setattr(problem_module, "DIRECT_ASSETS", 1)

    def crash(*args: object, **kwargs: object) -> None:
        raise RuntimeError("a panic in the solver\nbacktrace")

    monkeypatch.setattr(problem_module, "solve_direct", crash)
    cache = ProblemCache()
    found = solve_allocation(limits, mu, risk, 3.0, SOLVER, cache)
    first, last = found.attempts[0], found.attempts[-1]
    assert (first.status, first.accepted) == ("error", False)
    assert first.message == "a panic in the solver (RuntimeError, Clarabel called directly)"
    assert last.accepted and cache.compiles == 1
    assert (cache.solves, cache.direct_solves) == (2, 1)


def test_how_the_solves_were_made_is_said_in_words() -> None:
    assert solves_text(1, 5, 0) == "1 compiled problem served 5 solves"
    assert solves_text(0, 1, 1) == "1 solve by Clarabel called directly"
    assert solves_text(1, 4, 3) == "3 solves by Clarabel called directly, 1 compiled problem served 1 solve"


def test_a_large_solve_imports_no_cvxpy() -> None:
    """At ``DIRECT_ASSETS`` assets and more a solve never imports CVXPY (``allocate run`` starts 0.45 s sooner)."""
    code = """
import sys
from dataclasses import replace
import numpy as np
from allocator.config.schema import SolverConfig
from allocator.domain import RiskModel
from allocator.model.rsi import RsiLimits
from allocator.optimize.constraints import Limits
from allocator.optimize.problem import ProblemCache, solve_allocation
n = 1000
rng = np.random.default_rng(0)
risk = RiskModel(tuple(f"S{i}" for i in range(n)), rng.standard_normal((n, 3)) * 0.1, np.eye(3),
                 np.full(n, 0.04), None, "factor")
free = np.full(n, np.inf)
b = np.full(n, 0.99 / n)
limits = Limits(tuple(risk.symbols), b, 0.01, b, np.zeros(n), np.zeros(n), np.full(n, 0.01), -free, free,
                RsiLimits(np.full(n, 50.0), -free, free, ()), (), 1.0, 0.0, 0.05, 0.02, None, 0.0)
allocation = solve_allocation(limits, rng.normal(0.05, 0.02, n), risk, 3.0, SolverConfig(), ProblemCache())
assert allocation.attempts[-1].accepted
print("cvxpy" in sys.modules)
"""
    found = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert found.stdout.strip() == "False"


@pytest.mark.parametrize("objective", [Objective.UTILITY, Objective.MIN_VARIANCE])
def test_clarabel_called_directly_gives_pyportfolioopts_weights(objective: Objective,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """An independent cross-check of the direct path: on a dense covariance, fully invested and long only with caps
    of 20%, it gives PyPortfolioOpt's ``max_quadratic_utility`` and ``min_volatility`` weights."""
    from pypfopt import EfficientFrontier

    from allocator.model.risk_models import dense_form

    pca, mu, _ = _case(11)
    risk = dense_form(pca)
    covariance = risk.dense()
    n, gamma = len(risk.symbols), 3.0
    free = np.full(n, np.inf)
    limits = Limits(symbols=risk.symbols, current=np.full(n, 1 / n), current_cash=0.0, benchmark=np.full(n, 1 / n),
                    cost=np.zeros(n), position_lower=np.zeros(n), position_upper=np.full(n, 0.2),
                    active_lower=-free, active_upper=free, rsi=RsiLimits(np.full(n, 50.0), -free, free, ()),
                    groups=(), budget=1.0, cash_lower=0.0, cash_upper=0.0, tracking_error_max=None,
                    turnover_max=None, turnover_forced=0.0)
    monkeypatch.setattr(problem_module, "DIRECT_ASSETS", 1)
    monkeypatch.setattr(conic, "LADDER", (TIGHT, *conic.LADDER))
    cache = ProblemCache()
    found = solve_allocation(limits, mu, risk, gamma, SOLVER, cache, objective)
    assert cache.direct_solves == 1 and cache.compiles == 0
    frontier = EfficientFrontier(mu, covariance, weight_bounds=(0.0, 0.2))
    if objective is Objective.UTILITY:
        frontier.max_quadratic_utility(risk_aversion=gamma)
    else:
        frontier.min_volatility()
    theirs = np.array([frontier.weights[i] for i in range(n)])
    np.testing.assert_allclose(found.weight, theirs, rtol=0, atol=1e-5)
    ours = mu @ found.weight - 0.5 * gamma * found.weight @ covariance @ found.weight
    if objective is Objective.UTILITY:  # ours is at least as good: PyPortfolioOpt solves to Clarabel's defaults
        assert ours >= mu @ theirs - 0.5 * gamma * theirs @ covariance @ theirs - 1e-9


def test_a_cache_that_never_sees_a_risk_model_twice_keeps_no_matrices_of_past_models() -> None:
    """A backtest shares one ``ProblemCache`` over its dates, each with a new risk model: from ``DIRECT_ASSETS``
    assets every date is a direct solve, and the matrices of past dates (each holding its risk model) could never
    serve again (a reviewer measured 600 MB kept for 8 dates at 3,000 assets before ``Programs`` dropped them)."""
    cache = ProblemCache()
    for seed in (31, 32, 33):
        risk, mu, limits = _case(seed)
        conic_program(limits, mu, risk, 3.0, cache.programs)
        conic_program(replace(limits, tracking_error_max=None), mu, risk, 3.0, cache.programs)
        assert len(cache.programs) == 2  # this date's two structures, none of the dates before


@pytest.mark.parametrize("assets", [60, 340, 480])
def test_the_direct_path_starts_at_the_tolerance_cvxpy_gives_the_same_problem(assets: int) -> None:
    """Both paths weigh ``LARGE_VARIABLES`` against the variables of CVXPY's problem (``z``, the specific
    exposures, included where the risk model is held as parameters), not the direct program's ``2n + 1 + k``: from
    about 330 to 500 assets the direct path started at 1e-12 where CVXPY starts at 1e-8 (2 to 5 times the solve)."""
    rng = np.random.default_rng(assets)
    returns = rng.standard_normal((600, 5)) @ rng.standard_normal((5, assets)) * 0.008
    risk = statistical_factor_model(returns + rng.standard_normal((600, assets)) * 0.01,
                                    tuple(f"A{i}" for i in range(assets)), 5)
    free = np.full(assets, np.inf)
    limits = Limits(symbols=risk.symbols, current=np.full(assets, 0.9 / assets), current_cash=0.1,
                    benchmark=np.full(assets, 1.0 / assets), cost=np.full(assets, 0.002),
                    position_lower=np.zeros(assets), position_upper=np.full(assets, 0.05), active_lower=-free,
                    active_upper=free, rsi=RsiLimits(np.full(assets, 50.0), -free, free, ()), groups=(), budget=1.0,
                    cash_lower=0.01, cash_upper=0.05, tracking_error_max=0.02, turnover_max=0.3, turnover_forced=0.0)
    compiled, _ = ProblemCache(direct=False).get(risk, limits)
    variables = sum(v.size for v in compiled.problem.variables())
    assert variables - 1 <= problem_module.compiled_variables(risk) <= variables  # ``gain``, where it is kept
    seen: list[bool] = []
    real = conic.solve_direct

    def spy(program: ConicProgram, verbose: bool = False, large: bool | None = None) -> object:
        seen.append(bool(large))
        return real(program, verbose, large)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(problem_module, "solve_direct", spy)
        solve_allocation(limits, np.zeros(assets), risk, 3.0, SOLVER, ProblemCache(direct_from=0))
    assert seen == [variables > problem_module.LARGE_VARIABLES]
