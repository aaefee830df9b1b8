"""Portfolio statistics of a run: return, risk, activity and exposures, all fractions (no percentages here).

Conventions: returns, volatility and tracking error annualized; Sharpe = expected excess return / volatility;
active share = 0.5 * (sum |w - b| + |cash - benchmark cash|); turnover one-way (see ``constraints.turnover``);
risk contribution of asset i = w_i (Sigma w)_i / (w' Sigma w), summing to 1.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from allocator.domain import FloatArray, RiskModel, Universe
from allocator.optimize.constraints import binding_constraints, tracking_error, turnover
from allocator.pipeline import RunResult


def portfolio_stats(mu: FloatArray, risk: RiskModel, weight: FloatArray, cash: float, benchmark: FloatArray
                    ) -> dict[str, float]:
    """Expected return, volatility, Sharpe, tracking error and active share of ``weight`` (plus ``cash``)."""
    expected = float(mu @ weight)
    volatility = float(np.sqrt(max(risk.variance(weight), 0.0)))
    benchmark_cash = 1.0 - float(benchmark.sum())
    return {
        "expected_return": expected,
        "volatility": volatility,
        "sharpe": expected / volatility if volatility > 0 else 0.0,
        "tracking_error": tracking_error(risk, weight, benchmark),
        "active_share": 0.5 * (float(np.abs(weight - benchmark).sum()) + abs(cash - benchmark_cash)),
    }


def risk_contributions(risk: RiskModel, weight: FloatArray) -> FloatArray:
    variance = risk.variance(weight)
    if variance <= 0:
        return np.zeros(len(weight))
    result: FloatArray = weight * risk.covariance_times(weight) / variance
    return result


def exposures(universe: Universe, weight: FloatArray, outside: float = 0.0) -> dict[str, dict[str, float]]:
    """Weight by size bucket, sector and asset class (sorted by label); ``outside`` is the weight of holdings
    outside the universe, shown as its own label so the exposures add up with cash to the whole account."""
    out: dict[str, dict[str, float]] = {}
    for by in ("size_bucket", "sector", "asset_class"):
        labels = universe.group_labels(by)
        totals: dict[str, float] = {}
        for label, w in zip(labels, weight, strict=True):
            totals[label] = totals.get(label, 0.0) + float(w)
        if outside > 0:
            totals["outside_universe"] = outside
        out[by] = dict(sorted(totals.items()))
    return out


def run_metrics(result: RunResult) -> dict[str, Any]:
    """The summary of a run: target, achieved (after rounding) and current portfolios side by side."""
    p = result.prepared
    alloc = result.allocation
    trades = result.trades
    mu, risk, b = p.returns.mu, p.risk, p.universe.benchmark_weight
    nav = p.universe.nav_value
    target = portfolio_stats(mu, risk, alloc.weight, alloc.cash_weight, b)
    target["turnover"] = turnover(result.limits, alloc.weight, alloc.cash_weight)
    target["cash_weight"] = alloc.cash_weight
    achieved = portfolio_stats(mu, risk, trades.achieved_weight, trades.achieved_cash_weight, b)
    achieved["turnover"] = turnover(result.limits, trades.achieved_weight, trades.achieved_cash_weight)
    achieved["cash_weight"] = trades.achieved_cash_weight
    current = portfolio_stats(mu, risk, p.universe.weight, p.universe.cash_weight, b)
    current["cash_weight"] = p.universe.cash_weight
    contributions = risk_contributions(risk, alloc.weight)
    top = np.argsort(-contributions, kind="stable")[:5]
    gap = trades.achieved_weight - alloc.weight
    return {
        "as_of": str(p.window.as_of.date()),
        "nav_value": round(nav, 2),
        "regime": p.scores.regime,
        "target": target,
        "achieved": achieved,
        "current": current,
        "estimated_cost_value": float(trades.total_cost_value),
        "estimated_cost": float(trades.total_cost_value) / nav,
        "rounding": {"max_abs_weight_gap": float(np.abs(gap).max(initial=0.0)),
                     "sum_abs_weight_gap": float(np.abs(gap).sum())},
        "exposures": exposures(p.universe, alloc.weight, p.universe.held_outside_weight),
        "benchmark_exposures": exposures(p.universe, b),
        "rsi_rules": [r.describe() for r in p.rsi.rules],
        "binding_constraints": binding_constraints(result.limits, risk, alloc.weight, alloc.cash_weight),
        "top_risk_contributions": {p.universe.symbols[i]: float(contributions[i]) for i in top},
        "trades": {"count": len(trades.trades), "buys": sum(t.side == "BUY" for t in trades.trades),
                   "sells": sum(t.side == "SELL" for t in trades.trades),
                   "bought_value": float(trades.bought_value), "sold_value": float(trades.sold_value),
                   "cash_before_value": float(trades.cash_before_value),
                   "cash_after_value": float(trades.cash_after_value)},
        "relaxations": list(result.relaxations),
        "warnings": [*p.warnings, *trades.warnings],
    }
