"""Config + universe + RSI rules -> the numeric limits of the problem, each family named in the config's terms.

Weights are fractions of NAV. Every per-asset family is held as a lower and an upper weight vector (``-inf`` /
``inf`` where it does not apply), so the optimizer can build one parameterized problem for any scenario and the
limits can be checked against a solution with numpy (``violations``) without CVXPY.

Families (docs/method.md, "Limits"; each a class in ``families.py``, which also holds their rows, checks and
diagnosis): ``budget``, ``cash``, ``position`` (min/max weight), ``active`` (w - b), ``rsi``, ``group`` (sector,
size bucket, asset class; absolute or relative to the benchmark), ``tracking_error`` (annualized,
sqrt((w-b)' Sigma (w-b))) and ``turnover`` (one-way, 0.5 * sum |w - w0|, plus the sale of holdings outside the
universe when they are sold; cash counts as a holding, so selling 5% into cash is 5%).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from allocator.config.schema import Config, GroupRelativeTo
from allocator.domain import FloatArray, RiskModel, Universe
from allocator.errors import ConfigError
from allocator.model.rsi import RsiLimits

if TYPE_CHECKING:
    from allocator.optimize.families import Family


@dataclass(frozen=True)
class GroupBound:
    """A group limit: ``lower <= sum of members' weights <= upper`` in absolute weights; a limit given relative to
    the benchmark's or the current weight of the group has that ``reference`` added back (fractions of NAV)."""

    key: str
    label: str
    members: np.ndarray
    lower: float
    upper: float
    relative: bool
    reference: float = 0.0


@dataclass(frozen=True)
class Limits:
    """The limits of one allocation problem (weights are fractions of NAV, costs fractions of traded value)."""

    symbols: tuple[str, ...]
    current: FloatArray
    current_cash: float
    benchmark: FloatArray
    cost: FloatArray
    position_lower: FloatArray
    position_upper: FloatArray
    active_lower: FloatArray
    active_upper: FloatArray
    rsi: RsiLimits
    groups: tuple[GroupBound, ...]
    budget: float
    cash_lower: float
    cash_upper: float
    tracking_error_max: float | None
    turnover_max: float | None
    turnover_forced: float
    extra: tuple[Family, ...] = ()  # families beyond the built-in ones (``families.Family``), with their values

    @property
    def lower(self) -> FloatArray:
        """The tightest lower bound on each weight over every per-asset family."""
        return self._bounds()[0]

    @property
    def upper(self) -> FloatArray:
        """The tightest upper bound on each weight over every per-asset family."""
        return self._bounds()[1]

    def _bounds(self) -> tuple[FloatArray, FloatArray]:
        from allocator.optimize.families import AssetBounds, WeightBounds, families_of

        return WeightBounds(tuple(f for f in families_of(self) if isinstance(f, AssetBounds))).bounds(self)


def _per_asset(symbols: tuple[str, ...], default: float | None, overrides: Mapping[str, float | None],
               fill: float) -> FloatArray:
    values = np.full(len(symbols), fill if default is None else default)
    for i, s in enumerate(symbols):
        if overrides.get(s) is not None:
            values[i] = float(overrides[s] or 0.0)
    return values


def build_limits(config: Config, universe: Universe, rsi: RsiLimits, config_path: str) -> Limits:
    """Turn the ``constraints``, ``rsi`` and ``trading`` sections into numeric limits over ``universe``."""
    c = config.constraints
    symbols = universe.symbols
    unknown = sorted({s.upper() for s in [*c.position_limits, *c.active_limits, *config.trading.cost_bps_by_symbol]}
                     - set(symbols))
    if unknown:
        raise ConfigError(f"{config_path}: constraints", f"limits or costs for symbols outside the universe: "
                          f"{', '.join(unknown)}", "remove them or add them to the universe")
    pos = {s.upper(): v for s, v in c.position_limits.items()}
    act = {s.upper(): v for s, v in c.active_limits.items()}
    position_lower = _per_asset(symbols, c.min_weight, {s: v.min for s, v in pos.items()}, 0.0)
    position_upper = _per_asset(symbols, c.max_weight, {s: v.max for s, v in pos.items()}, 1.0)
    b = universe.benchmark_weight
    active_lower = b + _per_asset(symbols, c.active_min, {s: v.min for s, v in act.items()}, -np.inf)
    active_upper = b + _per_asset(symbols, c.active_max, {s: v.max for s, v in act.items()}, np.inf)
    costs = {s.upper(): v for s, v in config.trading.cost_bps_by_symbol.items()}
    cost = _per_asset(symbols, config.trading.cost_bps, costs, 0.0) / 1e4
    groups = []
    for index, g in enumerate(c.groups):
        labels = np.array(universe.group_labels(g.by.value))
        members = labels == g.name.lower()
        key = f"constraints.groups[{index}]"
        if not members.any():
            known = ", ".join(sorted(set(labels)))
            raise ConfigError(f"{config_path}: {key}.name", f"no asset has {g.by.value} {g.name!r}",
                              f"use one of: {known}")
        relative = g.relative_to is not GroupRelativeTo.ABSOLUTE
        base = {GroupRelativeTo.ABSOLUTE: 0.0, GroupRelativeTo.BENCHMARK: float(b[members].sum()),
                GroupRelativeTo.CURRENT: float(universe.weight[members].sum())}[g.relative_to]
        suffix = {GroupRelativeTo.ABSOLUTE: "", GroupRelativeTo.BENCHMARK: " (active)",
                  GroupRelativeTo.CURRENT: " (vs current)"}[g.relative_to]
        groups.append(GroupBound(
            key=key, label=f"{g.by.value} {g.name}{suffix}", members=members,
            lower=base + g.min if g.min is not None else -np.inf,
            upper=base + g.max if g.max is not None else np.inf, relative=relative, reference=base))
    forced = 0.5 * float(universe.outside_weight.sum()) if universe.outside_sold else 0.0
    return Limits(
        symbols=symbols, current=universe.weight, current_cash=universe.cash_weight, benchmark=b, cost=cost,
        position_lower=position_lower, position_upper=position_upper,
        active_lower=active_lower, active_upper=active_upper, rsi=rsi, groups=tuple(groups),
        budget=1.0 - universe.held_outside_weight, cash_lower=c.cash_min, cash_upper=c.cash_max,
        tracking_error_max=c.tracking_error_max, turnover_max=c.turnover_max, turnover_forced=forced,
    )


def turnover(limits: Limits, weight: FloatArray, cash: float) -> float:
    """One-way turnover of moving to ``weight`` and ``cash``: half the summed absolute weight changes, cash and
    sold outside holdings included, fraction of NAV (selling 5% into cash is 5% turnover)."""
    changes = float(np.abs(weight - limits.current).sum()) + abs(cash - limits.current_cash)
    return 0.5 * changes + limits.turnover_forced


def tracking_error(risk: RiskModel, weight: FloatArray, benchmark: FloatArray) -> float:
    """Annualized tracking error ``sqrt((w - b)' Sigma (w - b))``."""
    return float(np.sqrt(max(risk.variance(weight - benchmark), 0.0)))


def violations(limits: Limits, risk: RiskModel, weight: FloatArray, cash: float) -> dict[str, float]:
    """The largest violation of each family by a solution, recomputed with numpy (0 when it holds), keyed by the
    family's name (``budget`` first)."""
    from allocator.optimize.families import families_of

    out = {"budget": abs(float(weight.sum()) + cash - limits.budget)}
    for family in families_of(limits):
        out[family.name] = family.violation(limits, risk, weight, cash)
    return out


def binding_constraints(limits: Limits, risk: RiskModel, weight: FloatArray, cash: float,
                        tolerance: float = 1e-6) -> list[str]:
    """Human-readable list of the limits a solution sits on (within ``tolerance``)."""
    from allocator.optimize.families import families_of

    return [found for family in families_of(limits) for found in family.binding(limits, risk, weight, cash, tolerance)]
