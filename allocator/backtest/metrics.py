"""Performance of each strategy from its daily account values, and its differences to the benchmark.

Conventions: daily simple returns; 252 sessions a year; annualized decimals. ``cagr`` = (final / first value)^(252 /
days) - 1; ``volatility`` = the standard deviation of daily returns (ddof 1) x sqrt(252); ``sharpe`` = mean daily
excess return over cash (the cash rate series, zero without one) x 252 / volatility; ``sortino`` the same over the
downside deviation (root mean square of negative excess returns x sqrt(252)); ``max_drawdown`` the largest fall
from a peak of the value (positive fraction); ``cvar_95`` and ``cdar_95`` riskfolio-lib's historical CVaR of daily
returns and CDaR of the compounded value (``riskfolio_adapter``); ``turnover`` the traded value over the average
value, a year (one side: half of bought plus sold); ``costs`` the costs paid over the average value, a year;
``tracking_error`` the volatility of the daily difference to the benchmark strategy, ``information_ratio`` its
annualized mean over the tracking error. The benchmark is ``benchmark_rebalanced`` when it ran, else
``benchmark_hold``: the benchmark weights are a fixed mix, which a rebalanced portfolio holds, and the config's
tracking-error limit is measured against them on every date.

Confidence intervals (95%, ``bootstrap``) of the differences to the benchmark: annualized excess return and Sharpe
ratio difference, on resamples of the paired daily returns.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from allocator.backtest.bootstrap import confidence_interval
from allocator.backtest.journal import StrategyState
from allocator.backtest.riskfolio_adapter import cdar, cvar
from allocator.domain import FloatArray

YEAR = 252
BENCHMARKS = ("benchmark_rebalanced", "benchmark_hold")


def max_drawdown(daily_returns: FloatArray) -> float:
    """The largest fall of the compounded value from its running peak (positive fraction of the peak)."""
    value = np.cumprod(np.r_[1.0, 1.0 + daily_returns])
    return float(np.max(1.0 - value / np.maximum.accumulate(value)))


def sharpe(excess: FloatArray) -> FloatArray:
    """Annualized Sharpe ratio of daily excess returns, per row (rows are resamples; a vector is one)."""
    excess = np.atleast_2d(excess)
    spread = excess.std(axis=1, ddof=1)
    ratio: FloatArray = np.where(spread > 0, excess.mean(axis=1) / np.where(spread > 0, spread, 1.0), 0.0)
    annual: FloatArray = ratio * np.sqrt(YEAR)
    return annual


@dataclass(frozen=True)
class StrategyMetrics:
    """One strategy's row of ``metrics.csv`` (see the module docstring for each figure)."""

    strategy: str
    values: dict[str, float | int | None]


def _daily(state: StrategyState) -> FloatArray:
    nav = np.asarray(state.nav, dtype=np.float64)
    returns: FloatArray = nav[1:] / nav[:-1] - 1.0
    return returns


def strategy_metrics(states: tuple[StrategyState, ...], cash_rate: FloatArray, block: float, samples: int,
                     seed: int) -> list[StrategyMetrics]:
    """The metrics of every strategy; ``cash_rate`` is the annualized rate (decimal) of each session after the
    first (zeros without a series)."""
    benchmark = next((s for name in BENCHMARKS for s in states if s.name == name), None)
    base = _daily(benchmark) if benchmark is not None else None
    rf = np.asarray(cash_rate, dtype=np.float64) / YEAR
    rows = []
    for state in states:
        r = _daily(state)
        excess = r - rf
        days = len(r)
        nav = np.asarray(state.nav)
        average = float(nav.mean())
        years = days / YEAR
        downside = np.sqrt(np.mean(np.minimum(excess, 0.0) ** 2)) * np.sqrt(YEAR)
        vol = float(r.std(ddof=1) * np.sqrt(YEAR))
        values: dict[str, float | int | None] = {
            "cagr": float((nav[-1] / nav[0]) ** (YEAR / days) - 1.0),
            "volatility": vol,
            "sharpe": float(sharpe(excess)[0]),
            "sortino": float(excess.mean() * YEAR / downside) if downside > 0 else None,
            "max_drawdown": max_drawdown(r),
            "cvar_95": cvar(r),
            "cdar_95": cdar(r),
            "turnover": float(np.sum(state.traded) / 2.0 / average / years),
            "costs": float(np.sum(state.costs) / average / years),
            "rebalances": state.decided,
            "failed_rebalances": state.failures,
            "relaxed_rebalances": len({row[0] for row in state.rules if row[1] == "relaxation"}),
        }
        values.update(_relative(r, base, rf, state is benchmark, block, samples, seed))
        rows.append(StrategyMetrics(strategy=state.name, values=values))
    return rows


def _relative(r: FloatArray, base: FloatArray | None, rf: FloatArray, is_benchmark: bool, block: float,
              samples: int, seed: int) -> dict[str, float | int | None]:
    names = ("tracking_error", "information_ratio", "excess_return", "excess_return_ci_low", "excess_return_ci_high",
             "sharpe_difference", "sharpe_difference_ci_low", "sharpe_difference_ci_high")
    if base is None or is_benchmark:
        return dict.fromkeys(names)
    active = r - base
    te = float(active.std(ddof=1) * np.sqrt(YEAR))
    paired = np.column_stack([r - rf, base - rf])

    def excess_return(sample: FloatArray) -> FloatArray:
        result: FloatArray = (sample[..., 0] - sample[..., 1]).mean(axis=-1) * YEAR
        return result

    def sharpe_difference(sample: FloatArray) -> FloatArray:
        result: FloatArray = sharpe(sample[..., 0]) - sharpe(sample[..., 1])
        return result

    low, high = confidence_interval(paired, excess_return, block, samples, seed)
    s_low, s_high = confidence_interval(paired, sharpe_difference, block, samples, seed)
    return {"tracking_error": te, "information_ratio": float(active.mean() * YEAR / te) if te > 0 else None,
            "excess_return": float(active.mean() * YEAR), "excess_return_ci_low": low, "excess_return_ci_high": high,
            "sharpe_difference": float(sharpe(paired[:, 0])[0] - sharpe(paired[:, 1])[0]),
            "sharpe_difference_ci_low": s_low, "sharpe_difference_ci_high": s_high}
