"""Config + universe + RSI rules -> the numeric limits of the problem, each family named in the config's terms.

Weights are fractions of NAV. Every per-asset family is held as a lower and an upper weight vector (``-inf`` /
``inf`` where it does not apply), so the optimizer can build one parameterized problem for any scenario and the
limits can be checked against a solution with numpy (``violations``) without CVXPY.

Families (docs/method.md, "Limits"; each a class in ``families.py``, which also holds their rows, checks and
diagnosis): ``budget``, ``cash``, ``position`` (min/max weight), ``active`` (w - b), ``rsi``, ``group`` (sector,
size bucket, asset class; absolute or relative to the benchmark), ``tracking_error`` (annualized,
sqrt((w-b)' Sigma (w-b))), ``turnover`` (one-way, net of flows, see ``turnover``) and the trading mode's
``no_sells`` (invest), ``no_buys`` and ``cash_raise`` (raise).

Flows: cash above the cash floor (a deposit, ``--cash``, or cash rows of the holdings) is an inflow the account
may invest without it counting as turnover; cash the account must raise (up to the floor, or ``--raise``) is an
outflow it may sell for without it counting. With B and S the weight bought and sold (S includes holdings outside
the universe sold whole), one-way turnover is ``max(B - inflow, S - outflow, 0)``: with no flow that is
``max(B, S) = 0.5 * (sum |w - w0| + |c - c0|)``, the usual measure, and investing a deposit pro rata costs none.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

from allocator.config.schema import Config, GroupLimit, GroupRelativeTo, TradingMode
from allocator.domain import FloatArray, RiskModel, Universe, trusted
from allocator.errors import ConfigError, UsageError
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
    horizon: float = 1.0  # years the one-time costs are spread over (``trading.horizon_years``)
    impact: FloatArray | None = None  # per asset: impact cost / NAV = impact * |w - w0|^1.5 (None: no impact)
    no_sells: bool = False  # ``trading.mode: invest``: w >= w0
    no_buys: bool = False  # ``trading.mode: raise``: w <= w0
    cash_raise: float | None = None  # ``trading.mode: raise``: c >= this (c0 + raise_value / NAV)

    @property
    def inflow(self) -> float:
        """Cash above the cash floor, fraction of NAV: invested without counting as turnover."""
        return max(self.current_cash - self.cash_lower, 0.0)

    @property
    def outflow(self) -> float:
        """Cash to raise (up to the cash floor, or to the raise target), fraction of NAV: sold for without
        counting as turnover."""
        target = max(self.cash_lower, self.cash_raise if self.cash_raise is not None else 0.0)
        return max(target - self.current_cash, 0.0)


def _per_asset(symbols: tuple[str, ...], default: float | None, overrides: Mapping[str, float | None],
               fill: float) -> FloatArray:
    values = np.full(len(symbols), fill if default is None else default)
    for i, s in enumerate(symbols):
        if overrides.get(s) is not None:
            values[i] = float(overrides[s] or 0.0)
    return values


def group_members(group: GroupLimit, universe: Universe, where: str) -> tuple[np.ndarray, str]:
    """The members of a group limit over the universe (a boolean mask) and its label in reports: every asset whose
    ``by`` attribute is ``name``, or the ``symbols`` listed (each must be in the universe)."""
    if group.symbols is not None:
        symbols = [s.upper() for s in group.symbols]
        unknown = [s for s in symbols if s not in universe.symbols]
        if unknown:
            raise ConfigError(f"{where}.symbols", f"not in the universe: {', '.join(unknown)}",
                              "list symbols of the universe only (universe.symbols, else the fundamentals' rows)")
        label = group.name or "+".join(symbols[:4]) + (f"+{len(symbols) - 4} more" if len(symbols) > 4 else "")
        return np.isin(np.array(universe.symbols), symbols), f"group {label}"
    by, name = str(group.by), str(group.name)
    labels = np.array(universe.group_labels(by))
    members = labels == name.lower()
    if not members.any():
        raise ConfigError(f"{where}.name", f"no asset has {by} {name!r}",
                          f"use one of: {', '.join(sorted(set(labels)))}")
    return members, f"{by} {name}"


@dataclass(frozen=True)
class AssetLimits:
    """The limits that the config and the model's universe alone decide, the same for every account mapped onto the
    model: each asset's position and active bounds (fractions of NAV, ``-inf`` / ``inf`` where none applies) and
    one-time cost rate (fraction of traded value: cost plus half the spread), and each group limit's members (a
    boolean mask over the universe) and label."""

    position_lower: FloatArray
    position_upper: FloatArray
    active_lower: FloatArray
    active_upper: FloatArray
    cost: FloatArray
    group_members: tuple[tuple[np.ndarray, str], ...]


def asset_limits(config: Config, universe: Universe, config_path: str) -> AssetLimits:
    """The ``constraints`` and ``trading`` settings per asset over ``universe`` (its symbols, benchmark weights and
    labels: no holdings are read); ``ConfigError`` for limits or costs of symbols outside the universe, or a group
    with no member."""
    c = config.constraints
    t = config.trading
    symbols = universe.symbols
    unknown = sorted({s.upper() for s in [*c.position_limits, *c.active_limits, *t.cost_bps_by_symbol,
                                          *t.spread_bps_by_symbol, *t.adv_by_symbol]}
                     - set(symbols) - set(universe.excluded))  # the excluded are named in the run's warnings
    if unknown:
        raise ConfigError(f"{config_path}: constraints", f"limits or costs for symbols outside the universe: "
                          f"{', '.join(unknown)}", "remove them or add them to the universe")
    pos = {s.upper(): v for s, v in c.position_limits.items()}
    act = {s.upper(): v for s, v in c.active_limits.items()}
    b = universe.benchmark_weight
    costs = {s.upper(): v for s, v in t.cost_bps_by_symbol.items()}
    spreads = {s.upper(): v for s, v in t.spread_bps_by_symbol.items()}
    return AssetLimits(
        position_lower=_per_asset(symbols, c.min_weight, {s: v.min for s, v in pos.items()}, 0.0),
        position_upper=_per_asset(symbols, c.max_weight, {s: v.max for s, v in pos.items()}, 1.0),
        active_lower=b + _per_asset(symbols, c.active_min, {s: v.min for s, v in act.items()}, -np.inf),
        active_upper=b + _per_asset(symbols, c.active_max, {s: v.max for s, v in act.items()}, np.inf),
        cost=(_per_asset(symbols, t.cost_bps, costs, 0.0) + 0.5 * _per_asset(symbols, 0.0, spreads, 0.0)) / 1e4,
        group_members=tuple(group_members(g, universe, f"{config_path}: constraints.groups[{index}]")
                            for index, g in enumerate(c.groups)))


GROUP_SUFFIX = {GroupRelativeTo.ABSOLUTE: "", GroupRelativeTo.BENCHMARK: " (active)",
                GroupRelativeTo.CURRENT: " (vs current)"}  # of a group limit's label, by what it is relative to


def build_limits(config: Config, universe: Universe, rsi: RsiLimits, config_path: str,
                 volatility: FloatArray | None = None, mode: TradingMode | None = None,
                 raise_value: float | None = None, assets: AssetLimits | None = None) -> Limits:
    """Turn the ``constraints``, ``rsi`` and ``trading`` sections into numeric limits over ``universe``.

    ``volatility`` (annualized, per asset) prices market impact (``trading.impact``; none without it); ``mode``
    and ``raise_value`` override ``trading.mode`` and ``trading.raise_value`` (``--mode``, ``--raise``); ``assets``
    is ``asset_limits`` of this config and universe when the caller has it already (``allocate batch``: once per
    model)."""
    c = config.constraints
    t = config.trading
    symbols = universe.symbols
    if assets is None:
        assets = asset_limits(config, universe, config_path)
    b = universe.benchmark_weight
    groups = []
    for index, (g, (members, label)) in enumerate(zip(c.groups, assets.group_members, strict=True)):
        relative = g.relative_to is not GroupRelativeTo.ABSOLUTE
        base = 0.0  # the weight the limit is relative to: only the one it names is added up
        if g.relative_to is GroupRelativeTo.BENCHMARK:
            base = float(b[members].sum())
        elif g.relative_to is GroupRelativeTo.CURRENT:
            base = float(universe.weight[members].sum())
        suffix = GROUP_SUFFIX[g.relative_to]
        groups.append(GroupBound(
            key=f"constraints.groups[{index}]", label=f"{label}{suffix}", members=members,
            lower=base + g.min if g.min is not None else -np.inf,
            upper=base + g.max if g.max is not None else np.inf, relative=relative, reference=base))
    forced = 0.5 * float(universe.outside_weight.sum()) if universe.outside_sold else 0.0
    mode = t.mode if mode is None else mode
    raised = (t.raise_value if raise_value is None else raise_value) / universe.nav_value
    if raised > 0 and mode is not TradingMode.RAISE:
        raise ConfigError(f"{config_path}: trading.raise_value", f"cash to raise is set but the mode is {mode.value}",
                          "trade with --mode raise (or trading.mode: raise)")
    raised_value = raised * universe.nav_value
    if mode is TradingMode.RAISE and raised <= 0:
        raise UsageError("--mode raise", "no amount to raise",
                         "say how much cash to raise with --raise AMOUNT (or trading.raise_value)")
    held_value = universe.nav_value - float(universe.cash_value)
    if mode is TradingMode.RAISE and raised_value > held_value * (1 + 1e-12):
        # named where the amount came from: the command line, or the config (a batch account's model or override)
        where = "--raise" if raise_value is not None else f"{config_path}: trading.raise_value"
        error = UsageError if raise_value is not None else ConfigError
        raise error(where, f"{raised_value:,.2f} is more than the account holds outside cash "
                           f"({held_value:,.2f} of a NAV of {universe.nav_value:,.2f})",
                    "raise at most the value of the positions")
    if mode is TradingMode.INVEST and forced > 0:
        raise ConfigError(f"{config_path}: universe.outside_holdings", "invest mode never sells, but the holdings "
                          f"outside the universe would be sold: {', '.join(universe.outside_symbols)}",
                          "set universe.outside_holdings: hold, or trade with --mode rebalance")
    if mode is TradingMode.INVEST:  # an RSI trim is a sale: invest mode makes it a no-add instead
        rsi = replace(rsi, upper=np.where(np.isfinite(rsi.upper), np.maximum(rsi.upper, universe.weight), rsi.upper))
    cash_lower, cash_upper = c.cash_min, c.cash_max
    if mode is TradingMode.RAISE:  # the cash limits apply to the cash left once the raised amount is taken out
        cash_lower, cash_upper = c.cash_min + raised, min(c.cash_max + raised, 1.0)
    impact = None
    if t.impact > 0 and volatility is not None:
        adv = {s.upper(): v for s, v in t.adv_by_symbol.items()}
        daily_volume = np.array([adv.get(s, np.nan) for s in symbols])
        known = np.isfinite(daily_volume)
        # a trade of value V = NAV * |dw| costs impact * sigma_daily * sqrt(V / ADV) * V = NAV * eta * |dw|^1.5
        eta = t.impact * volatility / np.sqrt(252.0) * np.sqrt(universe.nav_value / np.where(known, daily_volume, 1))
        impact = np.where(known, eta, 0.0)
    return trusted(Limits, {
        "symbols": symbols, "current": universe.weight, "current_cash": universe.cash_weight, "benchmark": b,
        "cost": assets.cost, "position_lower": assets.position_lower, "position_upper": assets.position_upper,
        "active_lower": assets.active_lower, "active_upper": assets.active_upper, "rsi": rsi, "groups": tuple(groups),
        "budget": 1.0 - universe.held_outside_weight, "cash_lower": cash_lower, "cash_upper": cash_upper,
        "tracking_error_max": c.tracking_error_max, "turnover_max": c.turnover_max, "turnover_forced": forced,
        "extra": (), "horizon": t.horizon_years, "impact": impact, "no_sells": mode is TradingMode.INVEST,
        "no_buys": mode is TradingMode.RAISE,
        "cash_raise": universe.cash_weight + raised if mode is TradingMode.RAISE else None,
    })


def impact_cost(limits: Limits, weight: FloatArray) -> FloatArray:
    """Each asset's market impact of moving to ``weight``, fraction of NAV (zeros without ``trading.impact``)."""
    if limits.impact is None:
        return np.zeros(len(limits.symbols))
    result: FloatArray = limits.impact * np.abs(weight - limits.current) ** 1.5
    return result


def bought_sold(limits: Limits, weight: FloatArray) -> tuple[float, float]:
    """The weight bought and the weight sold (holdings outside the universe sold whole included), fractions of
    NAV."""
    change = weight - limits.current
    return float(np.maximum(change, 0.0).sum()), float(np.maximum(-change, 0.0).sum()) + 2.0 * limits.turnover_forced


def turnover(limits: Limits, weight: FloatArray, cash: float) -> float:
    """One-way turnover net of flows of moving to ``weight`` (and ``cash``), fraction of NAV:
    ``max(bought - inflow, sold - outflow, 0)``. Without flows it is ``max(bought, sold)``, which is
    ``0.5 * (sum |w - w0| + |c - c0|)`` plus the sale of outside holdings: selling 5% into cash is 5%."""
    bought, sold = bought_sold(limits, weight)
    return max(bought - limits.inflow, sold - limits.outflow, 0.0)


def gross_turnover(limits: Limits, weight: FloatArray) -> float:
    """One-way turnover with flows counted as trading: ``max(bought, sold)``, fraction of NAV."""
    return max(bought_sold(limits, weight))


def tracking_error(risk: RiskModel, weight: FloatArray, benchmark: FloatArray) -> float:
    """Annualized tracking error ``sqrt((w - b)' Sigma (w - b))``."""
    return float(np.sqrt(max(risk.variance(weight - benchmark), 0.0)))
