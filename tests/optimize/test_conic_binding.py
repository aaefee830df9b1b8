"""Clarabel called directly (``optimize.conic``) against CVXPY's compiled problem where each rarely binding row
binds: a budget below 1 (holdings outside the universe kept) with a forced outside sale and a horizon other than one
year, a binding raise target, one-sided and relative group bounds with short positions allowed, and a dense risk
model (k = n, no specific risk). Each case asserts that its row binds, so a sign error in it cannot pass unnoticed.

Both paths are solved at Clarabel's 1e-12 tolerances here (``conic.LADDER`` is 1e-8 for the sizes it serves, where a
flat optimum moved a weight by 1e-5 against CVXPY's 1e-12 solve): at equal tolerances the weights still differ by up
to 1e-6 (a gap of 1e-12 leaves weak-curvature directions undetermined to about its square root), but the objectives
agree to 1e-7 relative (a violation of 1e-8 is worth that much), which ``_agree`` asserts."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from allocator.domain import RiskModel
from allocator.model.risk_models import square_root
from allocator.optimize import conic
from allocator.optimize.constraints import GroupBound, Limits, turnover
from tests.optimize.test_conic import N, _both, _case

FREE = np.full(N, np.inf)
TIGHT = ({"tol_gap_abs": 1e-12, "tol_gap_rel": 1e-12, "tol_feas": 1e-12, "presolve_enable": False},)


@pytest.fixture(autouse=True)
def _tight(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(conic, "LADDER", TIGHT + conic.LADDER)


def _agree(direct: object, compiled: object) -> None:
    np.testing.assert_allclose(direct.weight, compiled.weight, rtol=0, atol=2e-6)  # type: ignore[attr-defined]
    assert direct.cash_weight == pytest.approx(compiled.cash_weight, abs=2e-6)  # type: ignore[attr-defined]
    assert direct.objective == pytest.approx(compiled.objective, rel=1e-7, abs=1e-12)  # type: ignore[attr-defined]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_every_family_at_equal_tolerances(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    risk, mu, limits = _case(seed)
    _agree(*_both(limits, mu, risk, monkeypatch))


def _loose(limits: Limits) -> Limits:
    """``limits`` with only caps of 20%, cash bounds and costs: room for one row at a time to bind."""
    return replace(limits, position_upper=np.full(N, 0.2), active_lower=-FREE, active_upper=FREE,
                   rsi=replace(limits.rsi, upper=FREE), groups=(), tracking_error_max=None, turnover_max=None)


def test_a_budget_below_one_a_forced_outside_sale_a_long_horizon_and_binding_turnover(
        monkeypatch: pytest.MonkeyPatch) -> None:
    risk, mu, limits = _case(11)
    rng = np.random.default_rng(11)
    current = limits.current * (0.85 / limits.current.sum())  # 10% of NAV held outside the universe
    limits = replace(_loose(limits), current=current, current_cash=0.05, budget=0.9, turnover_forced=0.02,
                     turnover_max=0.12, horizon=2.5, cost=rng.uniform(0.0005, 0.01, N))
    direct, compiled = _both(limits, mu, risk, monkeypatch)
    _agree(direct, compiled)
    assert direct.weight.sum() + direct.cash_weight == pytest.approx(0.9, abs=1e-9)  # type: ignore[attr-defined]
    assert turnover(limits, direct.weight, direct.cash_weight) == pytest.approx(0.12, abs=1e-6)  # type: ignore


def test_a_binding_raise_target(monkeypatch: pytest.MonkeyPatch) -> None:
    risk, mu, limits = _case(12)
    raising = replace(_loose(limits), no_buys=True, cash_raise=0.30, cash_lower=0.25, cash_upper=0.6)
    direct, compiled = _both(raising, np.abs(mu) + 0.05, risk, monkeypatch)  # every asset worth holding
    _agree(direct, compiled)
    assert direct.cash_weight == pytest.approx(0.30, abs=1e-6)  # type: ignore[attr-defined]


def test_one_sided_and_relative_groups_with_shorts(monkeypatch: pytest.MonkeyPatch) -> None:
    risk, mu, limits = _case(13)
    shorts = replace(_loose(limits), position_lower=np.full(N, -0.02))
    sectors = np.arange(N) % 4
    free, _ = _both(shorts, mu, risk, monkeypatch)
    total = [float(free.weight[sectors == j].sum()) for j in range(3)]  # type: ignore[attr-defined]
    reference = float(limits.benchmark[sectors == 2].sum())
    groups = (GroupBound("groups[0]", "sector 0", sectors == 0, -np.inf, total[0] - 0.03, False),
              GroupBound("groups[1]", "sector 1", sectors == 1, total[1] + 0.03, np.inf, False),
              GroupBound("groups[2]", "sector 2", sectors == 2, total[2] - 0.5, total[2] - 0.03, True, reference))
    direct, compiled = _both(replace(shorts, groups=groups), mu, risk, monkeypatch)
    _agree(direct, compiled)
    weight = direct.weight  # type: ignore[attr-defined]
    found = [float(weight[sectors == j].sum()) for j in range(3)]
    assert found == pytest.approx([total[0] - 0.03, total[1] + 0.03, total[2] - 0.03], abs=1e-6)
    assert weight.min() < -0.01  # short positions taken


def test_a_dense_risk_model_without_specific_risk(monkeypatch: pytest.MonkeyPatch) -> None:
    risk, mu, limits = _case(14)
    covariance = risk.exposure @ risk.exposure.T + np.diag(risk.specific_variance)
    dense = RiskModel(risk.symbols, square_root(covariance), np.eye(N), np.zeros(N), covariance, "sample")
    limits = _loose(limits)
    free, _ = _both(limits, mu, dense, monkeypatch)
    limit = 0.7 * float(np.sqrt(dense.variance(free.weight - limits.benchmark)))  # type: ignore[attr-defined]
    direct, compiled = _both(replace(limits, tracking_error_max=limit), mu, dense, monkeypatch)
    _agree(direct, compiled)
    te = np.sqrt(dense.variance(direct.weight - limits.benchmark))  # type: ignore[attr-defined]
    assert te == pytest.approx(limit, rel=1e-5)
