"""A run's summary, computed once: ``summarize(result)`` -> ``RunSummary``, rendered to ``summary.json`` and to
the terminal report, and read by ``compare`` for its metrics table.

Every number is a fraction (of NAV, annualized where a rate) or money in the account currency; see
``allocator.outputs.metrics`` for the conventions. ``RunSummary.to_json_dict`` gives the keys of ``summary.json``
in their fixed order, so the file's bytes do not change with this model.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np

from allocator.files.json_text import json_bytes
from allocator.optimize.constraints import gross_turnover, turnover
from allocator.optimize.families import binding_constraints, binding_limits
from allocator.outputs.metrics import Exposures, PortfolioStats, exposures, portfolio_stats, risk_contributions
from allocator.outputs.model_parts import benchmark_exposures, model_summary_parts
from allocator.pipeline import RunResult
from allocator.terms import BUY, SELL
from allocator.trading.trades import TradeList

TOP_RISK_CONTRIBUTIONS = 5
MODEL_RETURNS = "prior + signal tilt + views"  # ``expected_returns`` of a run whose mu is the model's


@dataclass(frozen=True)
class TradesSummary:
    """The trade list in numbers: counts, money bought and sold, cash before and after (account currency)."""

    count: int
    buys: int
    sells: int
    bought_value: float
    sold_value: float
    cash_before_value: float
    cash_after_value: float

    def to_json_dict(self) -> dict[str, Any]:
        return {"count": self.count, "buys": self.buys, "sells": self.sells, "bought_value": self.bought_value,
                "sold_value": self.sold_value, "cash_before_value": self.cash_before_value,
                "cash_after_value": self.cash_after_value}


@dataclass(frozen=True)
class FlowsSummary:
    """Cash flowing in or out and the turnover they leave (``constraints.turnover``): the trading mode, the deposit
    (``--cash``) and the cash to raise (``--raise``), the cash above the floor invested and the cash raised without
    counting as turnover (account currency), and the target's one-way turnover net of flows and gross (fractions of
    NAV)."""

    mode: str
    deposit_value: float
    raise_value: float
    inflow_value: float
    outflow_value: float
    turnover: float
    gross_turnover: float

    def to_json_dict(self) -> dict[str, Any]:
        return {"mode": self.mode, "deposit_value": self.deposit_value, "raise_value": self.raise_value,
                "inflow_value": self.inflow_value, "outflow_value": self.outflow_value,
                "turnover": self.turnover, "gross_turnover": self.gross_turnover}


@dataclass(frozen=True)
class ObjectiveSummary:
    """The objective sought (``optimizer.objective``) and its value for the current portfolio and the target:
    annualized fractions of NAV (utility, maximized; min_variance and min_tracking_error, (gamma/2) times the
    variance or squared tracking error plus costs over the horizon, minimized), or a ratio (max_sharpe)."""

    name: str
    current: float
    target: float

    def to_json_dict(self) -> dict[str, Any]:
        return {"name": self.name, "current": self.current, "target": self.target}


@dataclass(frozen=True)
class RoundingGap:
    """How far rounding to whole lots moved the weights from the target (fractions of NAV)."""

    max_abs_weight_gap: float
    sum_abs_weight_gap: float

    def to_json_dict(self) -> dict[str, Any]:
        return {"max_abs_weight_gap": self.max_abs_weight_gap, "sum_abs_weight_gap": self.sum_abs_weight_gap}


@dataclass(frozen=True)
class RunSummary:
    """The summary of a run: current, target and achieved (after rounding) portfolios side by side, the trades,
    exposures, RSI rules fired, limits the target sits on and the warnings.

    ``current_exposures`` (the account as held) is shown in the terminal report but not written to
    ``summary.json``.
    """

    as_of: str
    nav_value: float
    regime: str
    target: PortfolioStats
    achieved: PortfolioStats
    current: PortfolioStats
    estimated_cost_value: float
    estimated_cost: float
    rounding: RoundingGap
    exposures: Exposures
    benchmark_exposures: Exposures
    current_exposures: Exposures
    rsi_rules: tuple[str, ...]
    binding_constraints: tuple[str, ...]
    top_risk_contributions: dict[str, float]
    trades: TradesSummary
    relaxations: tuple[str, ...]
    warnings: tuple[str, ...]
    flows: FlowsSummary | None = None
    utility: dict[str, float] | None = None  # current / target: mu'w - (gamma/2) w'Sigma w - costs / horizon
    benchmark: str = ""  # where b came from: benchmark.weights, the fundamentals' benchmark_weight, or none
    expected_returns: str = MODEL_RETURNS  # where mu came from: the model, or returns.mu_file
    risk_model: str = ""  # risk.model's estimator, or risk.covariance_file / risk.factor_model
    objective: ObjectiveSummary | None = None
    binding_limits: tuple[dict[str, Any], ...] = ()  # the same limits in the config's words: key, subject, value

    def to_json_dict(self) -> dict[str, Any]:
        """The summary's part of ``summary.json``, keys in the file's order."""
        return {
            "as_of": self.as_of,
            "nav_value": self.nav_value,
            "regime": self.regime,
            "benchmark": self.benchmark,
            "expected_returns": self.expected_returns,
            "risk_model": self.risk_model,
            **({"objective": self.objective.to_json_dict()} if self.objective is not None else {}),
            "target": self.target.to_json_dict(),
            "achieved": self.achieved.to_json_dict(),
            "current": self.current.to_json_dict(),
            "estimated_cost_value": self.estimated_cost_value,
            "estimated_cost": self.estimated_cost,
            "rounding": self.rounding.to_json_dict(),
            "exposures": self.exposures.to_json_dict(),
            "benchmark_exposures": self.benchmark_exposures.to_json_dict(),
            "rsi_rules": list(self.rsi_rules),
            "binding_constraints": list(self.binding_constraints),
            "binding_limits": [dict(entry) for entry in self.binding_limits],
            "top_risk_contributions": dict(self.top_risk_contributions),
            "trades": self.trades.to_json_dict(),
            **({"flows": self.flows.to_json_dict()} if self.flows is not None else {}),
            **({"utility": dict(self.utility)} if self.utility is not None else {}),
            "relaxations": list(self.relaxations),
            "warnings": list(self.warnings),
        }


def summarize(result: RunResult) -> RunSummary:
    """The summary of ``result``; compute it once per run and pass it to the files and the report.

    What two parts of the summary share is computed once: the target's turnover (its statistics and its flows),
    the cost of the trades, and the current and target utility (the objective's values when it is ``utility``)."""
    alloc = result.allocation
    trades = result.trades
    universe = result.universe
    mu, risk, b = result.returns.mu, result.risk, universe.benchmark_weight
    nav = universe.nav_value
    contributions = risk_contributions(risk, alloc.weight)
    top = np.argsort(-contributions, kind="stable")[:TOP_RISK_CONTRIBUTIONS]
    gap = trades.achieved_weight - alloc.weight
    target_turnover = turnover(result.limits, alloc.weight, alloc.cash_weight)
    traded, cost = trades_and_cost(trades)
    cost_value = float(cost)
    utility = utility_gain(result)
    return RunSummary(
        as_of=result.as_of.isoformat(),
        nav_value=round(nav, 2),
        regime=result.scores.regime,
        target=portfolio_stats(mu, risk, alloc.weight, alloc.cash_weight, b, target_turnover),
        achieved=portfolio_stats(mu, risk, trades.achieved_weight, trades.achieved_cash_weight, b,
                                 turnover(result.limits, trades.achieved_weight, trades.achieved_cash_weight)),
        current=portfolio_stats(mu, risk, universe.weight, universe.cash_weight, b),
        estimated_cost_value=cost_value,
        estimated_cost=cost_value / nav,
        rounding=RoundingGap(max_abs_weight_gap=float(np.abs(gap).max(initial=0.0)),
                             sum_abs_weight_gap=float(np.abs(gap).sum())),
        exposures=exposures(universe, alloc.weight, universe.held_outside_weight),
        benchmark_exposures=benchmark_exposures(universe)[0],
        current_exposures=exposures(universe, universe.weight, float(universe.outside_weight.sum())),
        rsi_rules=tuple(r.describe() for r in result.rsi.rules),
        binding_constraints=tuple(binding_constraints(result.limits, risk, alloc.weight, alloc.cash_weight)),
        top_risk_contributions={universe.symbols[i]: float(contributions[i]) for i in top},
        trades=traded,
        relaxations=tuple(result.relaxations),
        warnings=result.warnings,
        flows=flows_summary(result, target_turnover),
        utility=utility,
        benchmark=benchmark_source(result),
        expected_returns=result.returns.source or MODEL_RETURNS,
        risk_model=result.risk.source or result.risk.method,
        objective=objective_summary(result, utility),
        binding_limits=tuple({"key": e.key, "subject": e.subject, "value": e.value} for e in binding_limits(
            result.limits, result.config, risk, alloc.weight, alloc.cash_weight)),
    )


def trades_and_cost(trades: TradeList) -> tuple[TradesSummary, Decimal]:
    """The trade list in numbers (``TradesSummary``) and the trades' total estimated cost
    (``TradeList.total_cost_value``), in one pass over the trades: each sum adds the values of the list's own
    properties in their order, from ``Decimal(0)``."""
    buys = sells = 0
    bought = sold = cost = Decimal(0)
    for t in trades.trades:
        if t.side == BUY:
            buys += 1
            bought += t.notional_value
        elif t.side == SELL:
            sells += 1
            sold += t.notional_value
        cost += t.estimated_cost_value
    return TradesSummary(count=len(trades.trades), buys=buys, sells=sells, bought_value=float(bought),
                         sold_value=float(sold), cash_before_value=float(trades.cash_before_value),
                         cash_after_value=float(trades.cash_after_value)), cost


def benchmark_source(result: RunResult) -> str:
    """``none``, ``benchmark.weights`` or ``fundamentals benchmark_weight``: where the benchmark came from."""
    benchmark = result.config.benchmark
    if benchmark.is_none:
        return "none"
    return "benchmark.weights" if benchmark.weights is not None else "fundamentals benchmark_weight"


def utility_gain(result: RunResult) -> dict[str, float]:
    """The objective the optimizer maximizes, annualized: ``mu'w - (gamma/2) w'Sigma w - costs / horizon`` for the
    current portfolio (no trades, no costs) and the target, and the gain that pays for the trades."""
    from allocator.optimize.problem import utility

    gamma = result.config.risk.risk_aversion
    limits, universe = result.limits, result.universe
    current = utility(result.returns.mu, result.risk, limits, universe.weight, gamma)
    target = utility(result.returns.mu, result.risk, limits, result.allocation.weight, gamma)
    return {"current": current, "target": target, "gain": target - current}


def objective_summary(result: RunResult, utility: dict[str, float] | None = None) -> ObjectiveSummary:
    """The objective the run sought (``optimizer.objective``) and its value for the current portfolio and the
    target (``optimize.objectives.objective_value``); ``utility`` is the run's ``utility_gain`` when the caller has
    it, the same values when the objective is ``utility``."""
    from allocator.config.schema import Objective
    from allocator.optimize.objectives import objective_value

    objective = result.config.optimizer.objective
    if utility is not None and objective is Objective.UTILITY:
        return ObjectiveSummary(name=objective.value, current=utility["current"], target=utility["target"])
    gamma = result.config.risk.risk_aversion
    values = [objective_value(objective, result.returns.mu, result.risk, result.limits, weight, gamma)
              for weight in (result.universe.weight, result.allocation.weight)]
    return ObjectiveSummary(name=objective.value, current=values[0], target=values[1])


def flows_summary(result: RunResult, target_turnover: float | None = None) -> FlowsSummary:
    """The run's flows and its turnover net of them (``FlowsSummary``); ``target_turnover`` is the target's
    ``constraints.turnover`` when the caller has it."""
    limits, nav = result.limits, result.universe.nav_value
    alloc = result.allocation
    mode = "invest" if limits.no_sells else "raise" if limits.no_buys or limits.cash_raise is not None else "rebalance"
    raised = 0.0 if limits.cash_raise is None else (limits.cash_raise - limits.current_cash) * nav
    return FlowsSummary(mode=mode, deposit_value=float(result.prepared.deposit_value), raise_value=round(raised, 2),
                        inflow_value=round(limits.inflow * nav, 2), outflow_value=round(limits.outflow * nav, 2),
                        turnover=turnover(limits, alloc.weight, alloc.cash_weight) if target_turnover is None
                        else target_turnover,
                        gross_turnover=gross_turnover(limits, alloc.weight))


def summary_json(result: RunResult, summary: RunSummary | None = None) -> bytes:
    """``summary.json``: the run's summary, then the signal multipliers, conviction and views, each asset's return
    attribution and the signal scores (``model_summary_parts``, written once per model; ``summary`` is computed
    here when not given)."""
    summary = summary if summary is not None else summarize(result)
    data = summary.to_json_dict()
    benchmark, written = benchmark_exposures(result.universe)
    if summary.benchmark_exposures is benchmark:  # as summarize found them: their text was written with them
        data["benchmark_exposures"] = written
    return json_bytes({**data, **model_summary_parts(result.returns, result.scores, result.universe.symbols)})
