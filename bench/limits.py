"""The numbers of one bench problem (``Problem``), built from a config's limits (``problem_limits``), and the
objective and constraint checks every method's weights are measured with (``utility``, ``violation``).

Limits (from the config's ``constraints``, ``rsi`` and ``trading`` sections): position bounds
(``min_weight``/``max_weight``), active bounds around the benchmark, the RSI trim (an overbought asset, RSI above
``rsi.overbought`` on the last day, is capped at ``(1 - rsi.min_trim) w0``), the group limits (absolute, relative
to the benchmark or to the current weights), cash between ``cash_min`` and ``cash_max``, the tracking error
(annualized, ``sqrt((w - b)' Sigma (w - b))``), one-way turnover net of flows and the linear cost ``cost_bps``.

Objective (every method): maximize ``mu'w - kappa'|w - w0| - (gamma/2) w'Sigma w`` over the risky weights ``w``
and the cash ``c = 1 - sum(w)``, which earns nothing and carries no risk; ``gamma`` is ``risk.risk_aversion``.
Kept light (numpy only) so that the CLI floor (bench/cli_floor.py) imports nothing it does not need.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from allocator.domain import FloatArray, RiskModel


@dataclass(frozen=True)
class Problem:
    """The numbers of one bench problem. Weights are fractions of NAV, ``mu`` annualized, ``cost`` a fraction of
    traded value; per-asset bounds are ``-inf``/``inf`` where a family does not apply."""

    symbols: tuple[str, ...]
    mu: FloatArray
    gamma: float
    benchmark: FloatArray
    current: FloatArray
    current_cash: float
    cost: FloatArray
    position_lower: FloatArray
    position_upper: FloatArray
    active_lower: FloatArray  # absolute: b + active_min
    active_upper: FloatArray
    rsi_upper: FloatArray
    group_labels: tuple[str, ...]
    group_members: FloatArray  # groups x assets, 0/1
    group_lower: FloatArray  # absolute (relative limits resolved)
    group_upper: FloatArray
    cash_lower: float
    cash_upper: float
    tracking_error_max: float | None
    turnover_max: float | None

    @property
    def assets(self) -> int:
        return len(self.symbols)

    @property
    def lower(self) -> FloatArray:
        """Every per-asset floor merged (position, active)."""
        result: FloatArray = np.maximum(self.position_lower, self.active_lower)
        return result

    @property
    def upper(self) -> FloatArray:
        """Every per-asset cap merged (position, active, RSI trim)."""
        result: FloatArray = np.minimum(np.minimum(self.position_upper, self.active_upper), self.rsi_upper)
        return result

    @property
    def inflow(self) -> float:
        """Cash above the floor, invested without counting as turnover."""
        return max(self.current_cash - self.cash_lower, 0.0)

    @property
    def outflow(self) -> float:
        """Cash to raise up to the floor, sold for without counting as turnover."""
        return max(self.cash_lower - self.current_cash, 0.0)

    def without_tracking_error(self) -> Problem:
        return replace(self, tracking_error_max=None)


def problem_limits(settings: dict[str, Any], symbols: tuple[str, ...], labels: dict[str, tuple[str, ...]],
                   mu: FloatArray, benchmark: FloatArray, current: FloatArray, current_cash: float,
                   rsi: FloatArray) -> Problem:
    """The problem of ``settings`` (a config's YAML) over assets with these ``labels`` (by group key: sector,
    size_bucket, asset_class), benchmark and current weights; ``rsi`` is each asset's RSI on the last day."""
    n = len(symbols)
    constraints = settings.get("constraints") or {}
    rsi_settings = settings.get("rsi") or {}
    trading = settings.get("trading") or {}
    infinite = np.full(n, np.inf)
    position_lower = np.full(n, float(constraints.get("min_weight") or 0.0))
    position_upper = np.full(n, float(constraints.get("max_weight", 1.0)))
    active_lower = benchmark + constraints["active_min"] if constraints.get("active_min") is not None else -infinite
    active_upper = benchmark + constraints["active_max"] if constraints.get("active_max") is not None else infinite
    overbought = rsi > float(rsi_settings.get("overbought", 70.0))
    rsi_upper = np.where(overbought, (1.0 - float(rsi_settings.get("min_trim", 0.0))) * current, np.inf)
    names, members, lower, upper = [], [], [], []
    for group in constraints.get("groups") or []:
        member = np.array(labels[group["by"]]) == str(group["name"]).lower()
        base = {"absolute": 0.0, "benchmark": float(benchmark[member].sum()),
                "current": float(current[member].sum())}[group.get("relative_to", "absolute")]
        names.append(f"{group['by']} {group['name']}" + ("" if base == 0.0 else f" ({group['relative_to']})"))
        members.append(member.astype(np.float64))
        lower.append(base + group["min"] if group.get("min") is not None else -np.inf)
        upper.append(base + group["max"] if group.get("max") is not None else np.inf)
    cost = np.full(n, float(trading.get("cost_bps", 0.0)) / 1e4)
    return Problem(
        symbols=symbols, mu=mu, gamma=float((settings.get("risk") or {}).get("risk_aversion", 2.5)),
        benchmark=benchmark, current=current, current_cash=current_cash, cost=cost,
        position_lower=position_lower, position_upper=position_upper, active_lower=active_lower,
        active_upper=active_upper, rsi_upper=rsi_upper, group_labels=tuple(names),
        group_members=np.array(members).reshape(len(members), n), group_lower=np.array(lower),
        group_upper=np.array(upper), cash_lower=float(constraints.get("cash_min", 0.0)),
        cash_upper=float(constraints.get("cash_max", 1.0)),
        tracking_error_max=constraints.get("tracking_error_max"), turnover_max=constraints.get("turnover_max"))


def utility(problem: Problem, risk: RiskModel, weights: FloatArray) -> float:
    """``mu'w - kappa'|w - w0| - (gamma/2) w'Sigma w`` (annualized), Sigma held by ``risk``."""
    return float(problem.mu @ weights - problem.cost @ np.abs(weights - problem.current)
                 - 0.5 * problem.gamma * risk.variance(weights))


def violation(problem: Problem, risk: RiskModel, weights: FloatArray) -> float:
    """The largest violation of the problem's limits by ``weights`` (0 when every one holds)."""
    cash = 1.0 - float(weights.sum())
    change = weights - problem.current
    checks = [float(np.max(problem.lower - weights)), float(np.max(weights - problem.upper)),
              problem.cash_lower - cash, cash - problem.cash_upper]
    if len(problem.group_labels):
        totals = problem.group_members @ weights
        checks += [float(np.max(problem.group_lower - totals)), float(np.max(totals - problem.group_upper))]
    if problem.tracking_error_max is not None:
        checks.append(np.sqrt(risk.variance(weights - problem.benchmark)) - problem.tracking_error_max)
    if problem.turnover_max is not None:
        bought, sold = float(np.clip(change, 0, None).sum()), float(np.clip(-change, 0, None).sum())
        checks.append(max(bought - problem.inflow, sold - problem.outflow) - problem.turnover_max)
    return max(0.0, *checks)
