"""The optimizer, RSI and Ledoit-Wolf against other people's work on the same inputs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.covariance import LedoitWolf

from allocator.model.risk_models import ledoit_wolf_covariance
from allocator.model.rsi import latest_rsi, wilder_rsi
from allocator.pipeline import run
from tests.helpers import write_config

PLAIN = """
extends: base.yaml
returns: {tilt: false, method: tilt}
risk: {risk_aversion: %(gamma)s}
constraints:
  max_weight: %(cap)s
  active_min: null
  active_max: null
  groups: []
  tracking_error_max: null
  turnover_max: null
  cash_min: 0.0
  cash_max: 0.0
rsi: {enabled: false}
trading: {cost_bps: 0}
"""


def test_weights_equal_pyportfolioopt_max_quadratic_utility(example_copy: Path) -> None:
    from pypfopt import EfficientFrontier

    gamma, cap = 4.0, 0.25
    config = write_config(example_copy, PLAIN % {"gamma": gamma, "cap": cap})
    result = run(example_copy / "examples" / "holdings.csv", config)
    mu = result.returns.mu
    sigma = result.risk.dense()
    # PyPortfolioOpt maximizes w'mu - (risk_aversion / 2) w' Sigma w: its risk_aversion is our gamma
    frontier = EfficientFrontier(pd.Series(mu), pd.DataFrame(sigma), weight_bounds=(0.0, cap), solver="CLARABEL")
    frontier.max_quadratic_utility(risk_aversion=gamma)
    theirs = np.array(list(frontier.clean_weights(cutoff=0, rounding=None).values()))
    ours = result.allocation.weight
    assert np.max(np.abs(ours - theirs)) < 1e-4
    objective = lambda w: mu @ w - 0.5 * gamma * w @ sigma @ w  # noqa: E731
    assert objective(ours) == pytest.approx(objective(theirs), rel=1e-6, abs=1e-9)
    assert result.allocation.cash_weight == pytest.approx(0.0, abs=1e-8)


def test_equilibrium_prior_with_gamma_equal_delta_returns_the_benchmark(example_copy: Path) -> None:
    """Reverse optimization: with mu = delta * Sigma @ b, gamma = delta and no binding limits, w = b exactly.

    The zero-weight assets sit on their floor with a zero multiplier (a degenerate optimum, where interior-point
    methods converge slowly), so the tolerance is 1e-5 rather than the 1e-6 of the non-degenerate checks.
    """
    config = write_config(example_copy, PLAIN % {"gamma": 2.5, "cap": 1.0})
    result = run(example_copy / "examples" / "holdings.csv", config)
    np.testing.assert_allclose(result.allocation.weight, result.universe.benchmark_weight, atol=1e-5)


def test_closed_form_budget_only_solution(example_copy: Path) -> None:
    """With only the budget binding, w = Sigma^-1 (mu - lambda 1) / gamma, lambda fixing sum(w) = 1."""
    text = PLAIN % {"gamma": 5.0, "cap": 1.0} + """
universe: {symbols: [SPY, AGG, GLD, EFA], outside_holdings: sell}
benchmark: {weights: {SPY: 0.4, AGG: 0.3, GLD: 0.1, EFA: 0.2}}
"""
    config = write_config(example_copy, text)
    result = run(example_copy / "examples" / "holdings.csv", config)
    sigma = result.risk.dense()
    mu = result.returns.mu
    inverse_mu = np.linalg.solve(sigma, mu)
    inverse_one = np.linalg.solve(sigma, np.ones(len(mu)))
    lam = (inverse_mu.sum() - 5.0) / inverse_one.sum()
    closed = (inverse_mu - lam * inverse_one) / 5.0
    assert (closed > 0.01).all(), "the inputs were chosen so that no bound binds"
    np.testing.assert_allclose(result.allocation.weight, closed, atol=1e-6)


@pytest.mark.slow
def test_ledoit_wolf_equals_scikit_learn(shared_data: Path) -> None:
    prices = pd.read_csv(shared_data / "etf_prices_adjclose.csv", index_col="Date")
    prices = prices[["SPY", "IWM", "EFA", "AGG", "GLD", "TLT", "XLK", "XLE"]].dropna().iloc[-757:]
    returns = prices.pct_change().dropna().to_numpy()
    ours = ledoit_wolf_covariance(returns, tuple(prices.columns))
    reference = LedoitWolf().fit(returns)
    assert ours.shrinkage == pytest.approx(reference.shrinkage_, abs=1e-12)
    np.testing.assert_allclose(ours.dense(), reference.covariance_ * 252, rtol=0, atol=1e-10)


@pytest.mark.parametrize("t, n", [(50, 10), (30, 80), (756, 20)])
def test_ledoit_wolf_equals_scikit_learn_on_random_data(t: int, n: int) -> None:
    """Both branches of the Gram-matrix shortcut (more days than assets, and fewer)."""
    rng = np.random.default_rng(42)
    returns = rng.standard_t(5, size=(t, n)) * 0.01 + rng.normal(0, 0.002, size=n)
    ours = ledoit_wolf_covariance(returns, tuple(f"A{i}" for i in range(n)))
    reference = LedoitWolf().fit(returns)
    assert ours.shrinkage == pytest.approx(reference.shrinkage_, abs=1e-12)
    np.testing.assert_allclose(ours.dense(), reference.covariance_ * 252, rtol=0, atol=1e-10)


def test_rsi_matches_the_stockcharts_published_example(shared_data: Path) -> None:
    table = pd.read_csv(shared_data / "rsi_reference.csv")
    ours = wilder_rsi(table["close_4dp"].to_numpy(), 14)
    published = table["rsi_published_stockcharts"].to_numpy()
    rows = np.isfinite(published)
    assert rows.sum() >= 15
    assert np.all(np.isnan(ours[:14]))
    np.testing.assert_allclose(ours[rows], published[rows], atol=0.01)
    assert latest_rsi(table["close_4dp"].to_numpy(), 14, 70.0, 65.0).rsi[0] == ours[-1]


def test_rsi_stays_in_range_and_handles_flat_and_one_way_series() -> None:
    rng = np.random.default_rng(42)
    closes = 100 * np.exp(np.cumsum(rng.normal(0, 0.02, size=(400, 5)), axis=0))
    values = wilder_rsi(closes, 14)[14:]
    assert np.all((values >= 0) & (values <= 100))
    assert wilder_rsi(np.linspace(1, 2, 30), 14)[-1] == 100.0
    assert wilder_rsi(np.linspace(2, 1, 30), 14)[-1] == 0.0
    assert wilder_rsi(np.full(30, 5.0), 14)[-1] == 50.0
