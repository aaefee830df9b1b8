"""The backtest against peers: cvxportfolio's MarketSimulator on the same data and policy, riskfolio-lib's CVaR and
CDaR against a numpy formula, the adapter's HRP and ERC against riskfolio-lib called as its documentation shows,
and the seeded bootstrap."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from allocator.backtest.bootstrap import confidence_interval
from allocator.backtest.engine import run_backtest
from allocator.backtest.metrics import max_drawdown
from allocator.backtest.request import BacktestRequest, ResolvedBacktest, resolve
from allocator.backtest.riskfolio_adapter import cdar, cvar, erc_weights, hrp_weights
from allocator.backtest.strategies import fixed_weights
from tests.conftest import ROOT

SYMBOLS = ("AAA", "BBB", "CCC", "DDD")
CONFIG = """data: {{prices: prices.csv, fundamentals: fundamentals.csv}}
benchmark: {{weights: {{AAA: 0.25, BBB: 0.25, CCC: 0.25, DDD: 0.25}}}}
risk: {{lookback_days: 30}}
rsi: {{enabled: false}}
trading: {{cost_bps: {cost_bps}, fractional_shares: true, lot_size: 0.000001, min_trade_value: 0}}
backtest: {{static_fundamentals: true, every: 20, fill: same_close, workers: 1, strategies: [benchmark_rebalanced]}}
"""


def _project(folder: Path, cost_bps: float) -> ResolvedBacktest:
    rng = np.random.default_rng(42)
    days = pd.bdate_range("2024-01-01", periods=160)
    closes = 50.0 * np.exp(np.cumsum(rng.normal(0.0003, 0.012, (len(days), len(SYMBOLS))), axis=0))
    frame = pd.DataFrame(closes, index=days.strftime("%Y-%m-%d"), columns=list(SYMBOLS))
    frame.index.name = "date"
    frame.to_csv(folder / "prices.csv", float_format="%.6f")
    pd.DataFrame({"symbol": SYMBOLS, "market_cap": [1e11, 5e10, 1e10, 2e9], "forward_pe": [20, 18, 15, 12],
                  "sector": "broad_market", "asset_class": "equity"}).to_csv(folder / "fundamentals.csv", index=False)
    config = folder / "config.yaml"
    config.write_text(CONFIG.format(cost_bps=cost_bps))
    return resolve(BacktestRequest(config=config, start="2024-03-01", initial_cash=Decimal("1000000000")))


def _mean_variance(prices: pd.DataFrame) -> dict[str, float]:
    """The plain mean-variance policy with fixed inputs: max mu'w - (gamma/2) w'Sigma w, long only, fully
    invested, on the first 40 days' sample mean and covariance (annualized), gamma 50."""
    import cvxpy as cp

    daily = prices.iloc[:41].pct_change().dropna().to_numpy()
    mu, sigma = daily.mean(axis=0) * 252, np.cov(daily.T) * 252
    w = cp.Variable(len(SYMBOLS))
    cp.Problem(cp.Maximize(mu @ w - 25.0 * cp.quad_form(w, cp.psd_wrap(sigma))), [w >= 0, cp.sum(w) == 1]).solve(
        solver="CLARABEL")
    weights = np.clip(np.asarray(w.value), 0.0, None)
    return dict(zip(SYMBOLS, (weights / weights.sum()).tolist(), strict=True))


def _both(folder: Path, cost_bps: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Daily returns of allocate's backtest and of cvxportfolio's MarketSimulator, and the rebalance flags."""
    import cvxportfolio as cvx

    resolved = _project(folder, cost_bps)
    weights = _mean_variance(resolved.market.prices)
    assert sum(w > 0.01 for w in weights.values()) >= 2, "a mean-variance portfolio, not a corner"
    strategy = fixed_weights("mean_variance", resolved.loaded, weights)
    state = run_backtest([strategy], resolved.market, resolved.schedule, resolved.account).states[0]
    ours = np.diff(state.nav) / np.asarray(state.nav[:-1])

    sessions = resolved.schedule.sessions
    closes = resolved.market.prices.reindex(sessions)
    returns = (closes.shift(-1) / closes - 1.0).iloc[:-1]  # r_t: from the close of t to the close of t + 1
    returns["cash"] = 0.0
    returns.index = returns.index.tz_localize("UTC")
    data = cvx.UserProvidedMarketData(returns=returns, volumes=None, prices=None, cash_key="cash",
                                      min_history=pd.Timedelta(0))
    costs = [cvx.TransactionCost(a=cost_bps / 1e4, b=None)] if cost_bps else []
    simulator = cvx.MarketSimulator(market_data=data, costs=costs)
    rebalances = sessions[list(resolved.schedule.decisions)].tz_localize("UTC")
    policy = cvx.PeriodicRebalance(pd.Series({**weights, "cash": 0.0}), rebalances)
    result = simulator.backtest(policy, start_time=returns.index[0], end_time=returns.index[-1],
                                initial_value=float(resolved.account.cash))
    value = result.v.to_numpy()
    theirs = value[1:] / value[:-1] - 1.0
    traded = np.isin(sessions[:-1], sessions[list(resolved.schedule.decisions)])
    n = min(len(ours), len(theirs))
    return ours[:n], theirs[:n], traded[:n]


@pytest.mark.slow
def test_fractional_trades_without_costs_give_cvxportfolios_daily_returns(tmp_path: Path) -> None:
    """Same prices, same fixed mean-variance target, fractional trades at the close, no costs: the daily returns
    agree within 1e-8 (what is left is allocate's cent rounding of each trade's cash on a NAV of 1e9, about 1e-11,
    and its 1e-6-share lots)."""
    ours, theirs, _ = _both(tmp_path, 0.0)
    assert len(ours) > 100
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-8)


@pytest.mark.slow
def test_linear_costs_differ_from_cvxportfolios_by_the_cost_conventions_only(tmp_path: Path) -> None:
    """With 10 bp linear costs both pay 10 bp of each trade's value, but book it differently, and the test states
    by how much that may show:

    - when: allocate charges the costs at the fill's close (that session's value is net of them), cvxportfolio in
      the period after the trade; so on the sessions around a rebalance the daily returns differ by up to the cost
      rate times the traded fraction of NAV (the first rebalance trades 100% from cash: 1e-3; measured 1.0e-3);
    - how: cvxportfolio trades to the target weights of the value before costs and takes the costs from cash, which
      goes negative by them (a leverage of about 10 bp of NAV until the next rebalance); allocate buys the target
      weights of the value net of the expected costs. Between rebalances a day's returns then differ by at most
      that leverage times the day's largest asset move (1e-3 x 5% = 5e-5; measured 4.9e-5);
    - over the whole backtest the values differ by the first day's costs (one period apart) plus these: under
      1.1e-3 (measured 1.02e-3), against 1e-8 without costs."""
    ours, theirs, traded = _both(tmp_path, 10.0)
    around = traded | np.r_[False, traded[:-1]]
    gap = np.abs(ours - theirs)
    assert gap[~around].max() < 1e-4
    assert gap[around].max() < 1e-3 * 1.0 + 1e-4
    value_gap = np.abs(np.cumprod(1.0 + ours) / np.cumprod(1.0 + theirs) - 1.0)
    assert value_gap.max() < 1.1e-3
    assert gap.max() > 1e-8, "the conventions do differ"


@pytest.mark.slow  # riskfolio-lib takes over 3 s to import
def test_riskfolio_cvar_and_cdar_match_a_numpy_formula() -> None:
    """CVaR 95%: the mean loss of the worst 5% of days (the quantile day counted whole at ceil(0.05 T) days, as
    riskfolio-lib counts it); CDaR 95%: the same of the daily drawdowns of the compounded value."""
    returns = np.random.default_rng(7).normal(0.0003, 0.01, 1000)
    tail = int(np.ceil(0.05 * len(returns)))
    assert cvar(returns) == pytest.approx(-np.sort(returns)[:tail].mean(), rel=1e-12)
    value = np.cumprod(np.r_[1.0, 1.0 + returns])
    drawdowns = 1.0 - value / np.maximum.accumulate(value)
    assert cdar(returns) == pytest.approx(np.sort(drawdowns[1:])[::-1][:tail].mean(), rel=1e-9)
    assert max_drawdown(returns) == pytest.approx(drawdowns.max(), rel=1e-12)


@pytest.mark.slow  # riskfolio-lib takes over 3 s to import
def test_hrp_and_erc_are_riskfolio_called_on_symbol_labelled_returns() -> None:
    """The adapter hands riskfolio frames labelled by position (fast); the weights are the very numbers riskfolio
    gives on the documented call (returns labelled by symbol, ``assets_stats`` then ``rp_optimization``), and ERC's
    risk contributions w_i (Sigma w)_i / w'Sigma w are equal (to Clarabel's tolerance in riskfolio's problem)."""
    import riskfolio as rp

    closes = pd.read_csv(ROOT / "examples" / "prices.csv", index_col="date").iloc[-757:]
    frame = closes.pct_change().iloc[1:]
    returns, symbols = frame.to_numpy(), list(frame.columns)
    order = symbols[::-1]  # not alphabetical: the adapter maps riskfolio's weights back by position
    hrp = rp.HCPortfolio(returns=frame[order]).optimization(model="HRP", codependence="pearson", rm="MV", rf=0,
                                                            linkage="single", leaf_order=True)
    plain = rp.Portfolio(returns=frame[order])
    plain.assets_stats(method_mu="hist", method_cov="hist")
    erc = plain.rp_optimization(model="Classic", rm="MV", rf=0, b=None, hist=True)
    reordered = list(reversed(range(len(symbols))))
    ours_hrp = hrp_weights(returns[:, reordered], tuple(order))
    ours_erc = erc_weights(returns[:, reordered], tuple(order))
    np.testing.assert_allclose(ours_hrp, hrp["weights"].reindex(order).to_numpy(), rtol=0, atol=1e-15)
    np.testing.assert_allclose(ours_erc, erc["weights"].reindex(order).to_numpy(), rtol=0, atol=1e-15)
    sigma = np.cov(returns[:, reordered], rowvar=False)
    contributions = ours_erc * (sigma @ ours_erc) / (ours_erc @ sigma @ ours_erc)
    assert np.abs(contributions - 1.0 / len(symbols)).max() < 1e-5


def test_the_bootstrap_is_seeded_and_covers_the_mean() -> None:
    series = np.random.default_rng(3).normal(0.001, 0.01, (500, 2))

    def mean(sample: np.ndarray) -> np.ndarray:
        result: np.ndarray = sample[..., 0].mean(axis=-1)
        return result

    first = confidence_interval(series, mean, 10.0, 400, seed=42)
    assert first == confidence_interval(series, mean, 10.0, 400, seed=42), "the same seed, the same interval"
    assert first != confidence_interval(series, mean, 10.0, 400, seed=43)
    low, high = first
    assert low < series[:, 0].mean() < high
    assert high - low == pytest.approx(2 * 1.96 * 0.01 / np.sqrt(500), rel=0.35), "about the normal interval"
