"""Explain infeasible problems: pre-solve checks, then an elastic re-solve that finds the smallest relaxation.

Pre-solve checks catch the common impossible setups with plain arithmetic, before any solver runs. The elastic
diagnosis gives every family of limits a non-negative slack (per asset or per group where the family is) and
minimizes the weighted sum of slacks, with costs from ``constraints.relaxation_cost`` (``relaxation.py`` solves
it). The limits with positive slack must be relaxed by that much; the limits they conflict with are those with a
non-zero dual value in the elastic solution. Everything is reported in the config's own terms and units: a
turnover limit as a turnover, an RSI trim as a fraction of the position, a group limit relative to the benchmark
when the group is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from allocator.config.schema import Config, RelaxationCost
from allocator.domain import FloatArray
from allocator.optimize.constraints import Limits

COST_FAMILY = {
    "position_min": "position", "position_max": "position", "active_min": "active", "active_max": "active",
    "rsi_min": "rsi", "rsi_max": "rsi", "group_min": "groups", "group_max": "groups", "cash_min": "cash",
    "cash_max": "cash", "tracking_error": "tracking_error_max", "turnover": "turnover_max",
}
PER_ENTRY = ("position", "active", "rsi", "group")
SLACK_TOLERANCE = 1e-7
DUAL_TOLERANCE = 1e-6
MAX_CONFLICTS = 6


@dataclass(frozen=True)
class LimitEntry:
    """One limit in the config's terms: its key, its value, what it applies to, and how a slack moves it.

    ``scale`` converts a slack (in weight or volatility units) into the config's units; ``lowering`` says whether
    relaxing means lowering the value (minimums, trims) or raising it (maximums).
    """

    family: str
    index: int | None
    key: str
    value: float
    subject: str
    lowering: bool
    scale: float = 1.0

    def label(self) -> str:
        return f"{self.key} {self.value:.4g}"

    def needed(self, slack: float) -> float:
        move = slack * self.scale
        return self.value - move if self.lowering else self.value + move


@dataclass(frozen=True)
class Relaxation:
    """How far one limit must move: from ``limit`` to ``needed``, both in the config's units."""

    family: str
    key: str
    subject: str
    limit: float
    needed: float

    @property
    def amount(self) -> float:
        return abs(self.needed - self.limit)

    def describe(self) -> str:
        direction = "at least" if self.needed >= self.limit else "at most"
        subject = f" for {self.subject}" if self.subject else ""
        return (f"{self.key} {self.limit:.4g} is too tight{subject}: needs {direction} {self.needed:.4f} "
                f"(relax by {self.amount:.4f})")

    def to_json(self) -> dict[str, Any]:
        return {"family": self.family, "key": self.key, "subject": self.subject, "limit": round(self.limit, 10),
                "needed": round(self.needed, 10), "amount": round(self.amount, 10)}


@dataclass(frozen=True)
class Diagnosis:
    """What conflicts, and the smallest relaxation (weighted by ``relaxation_cost``) that resolves it."""

    relaxations: tuple[Relaxation, ...]
    conflicts_with: tuple[str, ...] = ()
    checks: tuple[str, ...] = ()
    slacks: dict[str, FloatArray] = field(default_factory=dict)

    def lines(self) -> list[str]:
        out = list(self.checks)
        for relaxation in self.relaxations:
            out.append(relaxation.describe())
        if self.conflicts_with:
            out.append("held against: " + "; ".join(self.conflicts_with))
        return out

    def to_json(self) -> dict[str, Any]:
        return {"checks": list(self.checks), "relaxations": [r.to_json() for r in self.relaxations],
                "conflicts_with": list(self.conflicts_with)}


def relaxation_costs(costs: RelaxationCost) -> dict[str, float]:
    """Cost per unit of slack for each elastic family."""
    table = costs.model_dump()
    return {family: float(table[name]) for family, name in COST_FAMILY.items()}


def _rsi_entry(limits: Limits, config: Config, family: str, i: int) -> LimitEntry:
    symbol = limits.symbols[i]
    rule = next((r for r in limits.rsi.rules if r.symbol == symbol), None)
    subject = f"{symbol}, RSI {rule.rsi:.1f}" if rule else symbol
    w0 = float(limits.current[i])
    if family == "rsi_max":
        upper = float(limits.rsi.upper[i])
        if w0 > 0 and upper < w0 - 1e-12:  # a trim: the config's min_trim, as a fraction of the position
            return LimitEntry(family, i, "rsi.min_trim", 1.0 - upper / w0, subject, lowering=True, scale=1.0 / w0)
        return LimitEntry(family, i, "rsi.overbought (no adds)", upper, subject, lowering=False)
    lower = float(limits.rsi.lower[i])
    if rule is not None and rule.rule == "rsi_no_sell":
        return LimitEntry(family, i, "rsi.no_sell_when_oversold", lower, subject, lowering=True)
    if w0 > 0:
        return LimitEntry(family, i, "rsi.max_trim", 1.0 - lower / w0, subject, lowering=False, scale=1.0 / w0)
    return LimitEntry(family, i, "rsi.max_trim", lower, subject, lowering=True)


def limit_entry(limits: Limits, config: Config, family: str, index: int | None) -> LimitEntry:
    """The config's view of one entry of a family of limits."""
    i = index or 0
    symbol = limits.symbols[i] if family.startswith(("position", "active", "rsi")) else ""
    if family in ("position_min", "position_max"):
        bound = family.removeprefix("position_")
        override = {s.upper(): v for s, v in config.constraints.position_limits.items()}.get(symbol)
        overridden = override is not None and getattr(override, bound) is not None
        key = f"constraints.position_limits.{symbol}.{bound}" if overridden else f"constraints.{bound}_weight"
        value = limits.position_lower[i] if bound == "min" else limits.position_upper[i]
        return LimitEntry(family, index, key, float(value), symbol, lowering=bound == "min")
    if family in ("active_min", "active_max"):
        bound = family.removeprefix("active_")
        active = {s.upper(): v for s, v in config.constraints.active_limits.items()}.get(symbol)
        overridden = active is not None and getattr(active, bound) is not None
        key = f"constraints.active_limits.{symbol}.{bound}" if overridden else f"constraints.active_{bound}"
        value = (limits.active_lower if bound == "min" else limits.active_upper)[i] - limits.benchmark[i]
        return LimitEntry(family, index, key, float(value), symbol, lowering=bound == "min")
    if family in ("rsi_min", "rsi_max"):
        return _rsi_entry(limits, config, family, i)
    if family in ("group_min", "group_max"):
        group = limits.groups[i]
        bound = family.removeprefix("group_")
        base = float(limits.benchmark[group.members].sum()) if group.relative else 0.0
        value = (group.lower if bound == "min" else group.upper) - base
        return LimitEntry(family, index, f"{group.key}.{bound}", float(value), group.label, lowering=bound == "min")
    if family in ("cash_min", "cash_max"):
        value = limits.cash_lower if family == "cash_min" else limits.cash_upper
        return LimitEntry(family, None, f"constraints.{family}", float(value), "", lowering=family == "cash_min")
    if family == "tracking_error":
        return LimitEntry(family, None, "constraints.tracking_error_max", float(limits.tracking_error_max or 0.0), "",
                          lowering=False)
    return LimitEntry(family, None, "constraints.turnover_max", float(limits.turnover_max or 0.0), "",
                      lowering=False)


def diagnose(compiled: Any, limits: Limits, config: Config, checks: tuple[str, ...] = ()) -> Diagnosis:
    """Read the slacks and duals of a solved elastic phase-one problem into a ``Diagnosis``."""
    relaxations: list[Relaxation] = []
    slacks: dict[str, FloatArray] = {}
    relaxed: set[tuple[str, int | None]] = set()
    for family, variable in compiled.slacks.items():
        values = np.atleast_1d(np.asarray(variable.value, dtype=np.float64))
        slacks[family] = values
        for i, amount in enumerate(values):
            if amount > SLACK_TOLERANCE:
                index = i if variable.ndim else None
                relaxed.add((family, index))
                entry = limit_entry(limits, config, family, index)
                relaxations.append(Relaxation(family, entry.key, entry.subject, entry.value,
                                              entry.needed(float(amount))))
    held: dict[str, tuple[float, list[str]]] = {}
    for family in COST_FAMILY:
        constraint = compiled.constraints.get(family)
        if constraint is None or constraint.dual_value is None:
            continue
        duals = np.atleast_1d(np.asarray(constraint.dual_value, dtype=np.float64))
        for i, dual in enumerate(duals):
            index = i if family.startswith(PER_ENTRY) else None
            if abs(dual) <= DUAL_TOLERANCE or (family, index) in relaxed:
                continue
            entry = limit_entry(limits, config, family, index)
            label = entry.label() + (f" ({entry.subject})" if family.startswith("group") else "")
            subjects = [] if family.startswith("group") or not entry.subject else [entry.subject]
            weight, named = held.get(label, (0.0, []))
            held[label] = (weight + abs(float(dual)), [*named, *subjects])
    ranked = sorted(held.items(), key=lambda item: -item[1][0])[:MAX_CONFLICTS]
    conflicts = tuple(f"{label} ({', '.join(named)})" if named else label for label, (_, named) in ranked)
    relaxations.sort(key=lambda r: (-r.amount, r.key, r.subject))
    return Diagnosis(relaxations=tuple(relaxations), conflicts_with=conflicts, checks=checks, slacks=slacks)


def _forced_turnover(limits: Limits) -> tuple[float, list[str]]:
    """The least one-way turnover the per-asset bounds, cash limits and outside sales force, and its causes."""
    lower, upper = limits.lower, limits.upper
    raise_to = np.where(limits.current < lower, lower - limits.current, 0.0)
    cut_to = np.where(limits.current > upper, limits.current - upper, 0.0)
    increases = float(np.sum(raise_to[np.isfinite(raise_to)]))
    decreases = float(np.sum(cut_to[np.isfinite(cut_to)]))
    cash_up = max(limits.cash_lower - limits.current_cash, 0.0)
    cash_down = max(limits.current_cash - limits.cash_upper, 0.0)
    outside = 2.0 * limits.turnover_forced  # the weight sold outside the universe
    causes = [limits.symbols[i] for i in np.flatnonzero((raise_to > 1e-12) | (cut_to > 1e-12))]
    forced = max(increases + cash_up, decreases + cash_down + outside)
    return forced, causes


def presolve_checks(limits: Limits, config: Config) -> list[str]:
    """Conflicts found with plain arithmetic before any solver runs (empty when none)."""
    found: list[str] = []
    lower, upper = limits.lower, limits.upper
    families = (("position", limits.position_lower, limits.position_upper),
                ("active", limits.active_lower, limits.active_upper),
                ("rsi", limits.rsi.lower, limits.rsi.upper))
    for i in np.flatnonzero(lower > upper + 1e-12):
        low = limit_entry(limits, config, f"{max(families, key=lambda f: f[1][i])[0]}_min", int(i))
        high = limit_entry(limits, config, f"{min(families, key=lambda f: f[2][i])[0]}_max", int(i))
        found.append(f"{limits.symbols[i]}: {low.label()} requires a weight of at least {lower[i]:.4f} but "
                     f"{high.label()} caps it at {upper[i]:.4f} (short by {lower[i] - upper[i]:.4f})")
    if limits.cash_lower > limits.budget + 1e-12:
        held = 1.0 - limits.budget
        found.append(f"constraints.cash_min {limits.cash_lower:.4g} cannot be reached: holdings outside the universe "
                     f"are held fixed at {held:.4f} of NAV, so cash can be at most {limits.budget:.4f}")
    invest_low = limits.budget - limits.cash_upper
    invest_high = limits.budget - limits.cash_lower
    floor = float(np.sum(np.where(np.isfinite(lower), np.maximum(lower, 0.0), 0.0)))
    cap = float(np.sum(np.where(np.isfinite(upper), upper, limits.budget)))
    if floor > invest_high + 1e-9 and invest_high >= 0:
        found.append(f"the per-asset minimum weights add up to {floor:.4f}, more than the {invest_high:.4f} that can "
                     f"be invested with constraints.cash_min {limits.cash_lower:.4g}")
    if cap < invest_low - 1e-9:
        found.append(f"the per-asset caps add up to {cap:.4f}, less than the {invest_low:.4f} that must be invested "
                     f"under constraints.cash_max {limits.cash_upper:.4g}")
    for g in limits.groups:
        member_cap = float(np.sum(np.where(np.isfinite(upper[g.members]), upper[g.members], limits.budget)))
        member_floor = float(np.sum(np.where(np.isfinite(lower[g.members]), np.maximum(lower[g.members], 0), 0)))
        if g.lower > member_cap + 1e-9:
            found.append(f"{g.key}.min ({g.label}) needs {g.lower:.4f} but its members' caps add up to "
                         f"{member_cap:.4f}")
        if g.upper < member_floor - 1e-9:
            found.append(f"{g.key}.max ({g.label}) allows {g.upper:.4f} but its members' floors add up to "
                         f"{member_floor:.4f}")
    for dimension, (floors, capacity) in _group_totals(limits).items():
        if floors > invest_high + 1e-9:
            found.append(f"the group minimums by {dimension} add up to {floors:.4f}, more than the "
                         f"{invest_high:.4f} that can be invested")
        if capacity < invest_low - 1e-9:
            found.append(f"the group maximums by {dimension} (with the caps of assets in no such group) hold at most "
                         f"{capacity:.4f}, less than the {invest_low:.4f} that must be invested")
    if limits.turnover_max is not None:
        forced, causes = _forced_turnover(limits)
        if forced > limits.turnover_max + 1e-9:
            what = []
            if causes:
                what.append(f"the limits on {', '.join(causes)}")
            if limits.turnover_forced > 0:
                what.append("selling the holdings outside the universe")
            if max(limits.cash_lower - limits.current_cash, limits.current_cash - limits.cash_upper) > 0:
                what.append("bringing cash within its limits")
            found.append(f"constraints.turnover_max {limits.turnover_max:.4g} is too tight: "
                         f"{' and '.join(what)} force at least {forced:.4f} of turnover")
    return found


def _group_totals(limits: Limits) -> dict[str, tuple[float, float]]:
    """Per group dimension (sector, size bucket, asset class): the sum of group minimums and the most the groups'
    maximums (plus the caps of assets in no limited group of that dimension) can hold."""
    upper = np.where(np.isfinite(limits.upper), limits.upper, limits.budget)
    by_dimension: dict[str, dict[bytes, tuple[float, float, np.ndarray]]] = {}
    for g in limits.groups:
        groups = by_dimension.setdefault(g.label.split(" ")[0], {})
        key = g.members.tobytes()
        low, high, members = groups.get(key, (0.0, np.inf, g.members))
        groups[key] = (max(low, g.lower if np.isfinite(g.lower) else 0.0), min(high, g.upper), members)
    totals: dict[str, tuple[float, float]] = {}
    for dimension, groups in by_dimension.items():
        covered = np.zeros(len(limits.symbols), dtype=bool)
        capacity = 0.0
        for _, high, members in groups.values():
            capacity += min(high, float(upper[members].sum()))
            covered |= members
        capacity += float(upper[~covered].sum())
        totals[dimension] = (sum(low for low, _, _ in groups.values()), capacity)
    return totals
