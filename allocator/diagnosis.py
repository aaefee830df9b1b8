"""Explain infeasible problems: pre-solve checks, then an elastic re-solve that finds the smallest relaxation.

Pre-solve checks catch the common impossible setups with plain arithmetic (no solver). When the solver still
reports infeasibility, every family of limits gets a non-negative slack (per asset or per group where the family
is) and the weighted sum of slacks is minimized, with costs from ``constraints.relaxation_cost``. The families
with positive slack must be relaxed by that much; those they are held against are the limits with a non-zero
dual value in the elastic solution. Everything is reported in the config's own terms.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from allocator.config import Config, RelaxationCost
from allocator.constraints import Limits
from allocator.domain import FloatArray

COST_FAMILY = {
    "position_min": "position", "position_max": "position", "active_min": "active", "active_max": "active",
    "rsi_min": "rsi", "rsi_max": "rsi", "group_min": "groups", "group_max": "groups", "cash_min": "cash",
    "cash_max": "cash", "tracking_error": "tracking_error_max", "turnover": "turnover_max",
}
SLACK_TOLERANCE = 1e-7
MAX_CONFLICTS = 6


@dataclass(frozen=True)
class Relaxation:
    """How far one limit must move: from ``limit`` to ``needed`` (both in the config's units)."""

    family: str
    key: str
    subject: str
    limit: float
    needed: float
    amount: float

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
    """What conflicts and the smallest relaxation (weighted by ``relaxation_cost``) that resolves it."""

    relaxations: tuple[Relaxation, ...]
    held_against: tuple[str, ...] = ()
    checks: tuple[str, ...] = ()
    slacks: dict[str, FloatArray] = field(default_factory=dict)

    def lines(self) -> list[str]:
        out = list(self.checks)
        for r in self.relaxations:
            text = r.describe()
            if self.held_against:
                text += "; it conflicts with: " + "; ".join(self.held_against)
            out.append(text)
        return out

    def to_json(self) -> dict[str, Any]:
        return {"checks": list(self.checks), "relaxations": [r.to_json() for r in self.relaxations],
                "conflicts_with": list(self.held_against)}


def _join(items: tuple[str, ...] | list[str]) -> str:
    items = list(items)
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def relaxation_costs(costs: RelaxationCost) -> dict[str, float]:
    """Cost per unit of slack for each elastic family."""
    table = costs.model_dump()
    return {family: float(table[name]) for family, name in COST_FAMILY.items()}


def describe_limit(limits: Limits, config: Config, family: str, index: int | None) -> tuple[str, str, float]:
    """(config key, subject, the limit's value in config units) for one family entry."""
    c = config.constraints
    index = index or 0
    symbol = limits.symbols[index] if family.startswith(("position", "active", "rsi")) else ""
    if family in ("position_min", "position_max"):
        bound = "min" if family == "position_min" else "max"
        key = limits.position_keys[index]
        key = f"{key}.{bound}" if "position_limits" in key else f"constraints.{bound}_weight"
        value = limits.position_lower[index] if bound == "min" else limits.position_upper[index]
        return key, symbol, float(value)
    if family in ("active_min", "active_max"):
        bound = "min" if family == "active_min" else "max"
        key = (f"constraints.active_limits.{symbol}.{bound}" if symbol in {s.upper() for s in c.active_limits}
               else f"constraints.active_{bound}")
        value = (limits.active_lower if bound == "min" else limits.active_upper)[index] - limits.benchmark[index]
        return key, symbol, float(value)
    if family in ("rsi_min", "rsi_max"):
        rule = next((r for r in limits.rsi.rules if r.symbol == symbol), None)
        rsi_text = f" (RSI {rule.rsi:.1f})" if rule else ""
        if family == "rsi_max":
            key = "rsi.min_trim" if config.rsi.min_trim > 0 else "rsi.overbought (no adds)"
            return key, symbol + rsi_text, float(limits.rsi.upper[index])
        key = "rsi.no_sell_when_oversold" if rule and rule.rule == "rsi_no_sell" else "rsi.max_trim"
        return key, symbol + rsi_text, float(limits.rsi.lower[index])
    if family in ("group_min", "group_max"):
        group = limits.groups[index]
        bound = "min" if family == "group_min" else "max"
        base = float(limits.benchmark[group.members].sum()) if group.relative else 0.0
        value = (group.lower if bound == "min" else group.upper) - base
        return f"{group.key}.{bound}", group.label, float(value)
    if family in ("cash_min", "cash_max"):
        return f"constraints.{family}", "", float(limits.cash_lower if family == "cash_min" else limits.cash_upper)
    if family == "tracking_error":
        return "constraints.tracking_error_max", "", float(limits.tracking_error_max or 0.0)
    return "constraints.turnover_max", "", float(limits.turnover_max or 0.0)


def _needed(family: str, limit: float, amount: float) -> float:
    lowering = family.endswith("_min") and family not in ("cash_min",)
    if family == "cash_min":
        return limit - amount
    return limit - amount if lowering else limit + amount


def conflict_label(limits: Limits, config: Config, family: str, index: int | None) -> str:
    key, subject, value = describe_limit(limits, config, family, index)
    if family.startswith("rsi"):
        return f"the RSI rule on {subject}"
    return f"{key} {value:.4g}" + (f" ({subject})" if subject else "")


def diagnose(compiled: Any, limits: Limits, config: Config) -> Diagnosis:
    """Read the slacks and duals of a solved elastic phase-one problem into a ``Diagnosis``."""
    relaxations: list[Relaxation] = []
    slacks: dict[str, FloatArray] = {}
    positive: set[tuple[str, int | None]] = set()
    for family, variable in compiled.slacks.items():
        values = np.atleast_1d(np.asarray(variable.value, dtype=np.float64))
        slacks[family] = values
        for i, amount in enumerate(values):
            if amount > SLACK_TOLERANCE:
                index = i if variable.ndim else None
                positive.add((family, index))
                key, subject, limit = describe_limit(limits, config, family, index)
                relaxations.append(Relaxation(family, key, subject, limit, _needed(family, limit, float(amount)),
                                              float(amount)))
    held: dict[str, tuple[float, list[str]]] = {}
    for family in COST_FAMILY:
        constraint = compiled.constraints.get(family)
        if constraint is None or constraint.dual_value is None:
            continue
        duals = np.atleast_1d(np.asarray(constraint.dual_value, dtype=np.float64))
        per_entry = family.startswith(("position", "active", "rsi", "group"))
        for i, dual in enumerate(duals):
            index = i if per_entry else None
            if abs(dual) <= 1e-6 or (family, index) in positive:
                continue
            if family.startswith("rsi"):
                label, subject = "the RSI rule", describe_limit(limits, config, family, index)[1]
            elif family.startswith("group"):
                key, group_label, value = describe_limit(limits, config, family, index)
                label, subject = f"{key} {value:.4g} ({group_label})", ""
            else:
                key, subject, value = describe_limit(limits, config, family, index)
                label = f"{key} {value:.4g}"
            weight, subjects = held.get(label, (0.0, []))
            held[label] = (weight + abs(float(dual)), [*subjects, subject] if subject else subjects)
    ranked = sorted(held.items(), key=lambda item: -item[1][0])[:MAX_CONFLICTS]
    held_against = tuple(f"{label} ({', '.join(subjects)})" if subjects else label
                         for label, (_, subjects) in ranked)
    relaxations.sort(key=lambda r: -r.amount)
    return Diagnosis(relaxations=tuple(relaxations), held_against=held_against, slacks=slacks)


def presolve_checks(limits: Limits, config: Config) -> list[str]:
    """Plain-arithmetic conflicts found before any solver runs (empty when none)."""
    found: list[str] = []
    lower, upper = limits.lower, limits.upper
    symbols = limits.symbols
    families = (("position", limits.position_lower, limits.position_upper),
                ("active", limits.active_lower, limits.active_upper),
                ("rsi", limits.rsi.lower, limits.rsi.upper))
    for i in np.flatnonzero(lower > upper + 1e-12):
        low_family = max(families, key=lambda f: f[1][i])
        high_family = min(families, key=lambda f: f[2][i])
        low_key = conflict_label(limits, config, f"{low_family[0]}_min", int(i))
        high_key = conflict_label(limits, config, f"{high_family[0]}_max", int(i))
        found.append(f"{symbols[i]}: {low_key} requires a weight of at least {lower[i]:.4f} but {high_key} "
                     f"caps it at {upper[i]:.4f}")
    invest_low = limits.budget - limits.cash_upper
    invest_high = limits.budget - limits.cash_lower
    floor = float(np.sum(np.where(np.isfinite(lower), lower, 0.0)))
    cap = float(np.sum(np.where(np.isfinite(upper), upper, 10.0)))
    if floor > invest_high + 1e-9:
        found.append(f"the per-asset minimum weights add up to {floor:.4f}, more than the {invest_high:.4f} that can "
                     f"be invested after constraints.cash_min {limits.cash_lower:.4g}")
    if cap < invest_low - 1e-9:
        found.append(f"the per-asset caps add up to {cap:.4f}, less than the {invest_low:.4f} that must be invested "
                     f"under constraints.cash_max {limits.cash_upper:.4g}; raise the caps or cash_max")
    for g in limits.groups:
        member_cap = float(np.sum(np.where(np.isfinite(upper[g.members]), upper[g.members], 10.0)))
        member_floor = float(np.sum(np.where(np.isfinite(lower[g.members]), lower[g.members], 0.0)))
        if g.lower > member_cap + 1e-9:
            found.append(f"{g.key}.min ({g.label}) needs {g.lower:.4f} but its members' caps add up to "
                         f"{member_cap:.4f}")
        if g.upper < member_floor - 1e-9:
            found.append(f"{g.key}.max ({g.label}) allows {g.upper:.4f} but its members' floors add up to "
                         f"{member_floor:.4f}")
        if g.lower > invest_high + 1e-9:
            found.append(f"{g.key}.min ({g.label}) needs {g.lower:.4f}, more than the {invest_high:.4f} investable")
    for dimension, floors in _group_floors_by_dimension(limits).items():
        if floors > invest_high + 1e-9:
            found.append(f"the group minimums by {dimension} add up to {floors:.4f}, more than the "
                         f"{invest_high:.4f} investable")
    if limits.turnover_max is not None:
        distance = np.where(limits.current < lower, lower - limits.current, 0.0) + np.where(
            limits.current > upper, limits.current - upper, 0.0)
        forced = 0.5 * float(np.sum(distance[np.isfinite(distance)])) + limits.turnover_forced
        if forced > limits.turnover_max + 1e-9:
            causes = [symbols[i] for i in np.flatnonzero(distance > 1e-12)]
            what = []
            if causes:
                what.append(f"the bounds on {', '.join(causes)}")
            if limits.turnover_forced > 0:
                what.append("selling the holdings outside the universe")
            found.append(f"constraints.turnover_max {limits.turnover_max:.4g} is too tight: {_join(what)} force at "
                         f"least {forced:.4f} of turnover")
    return found


def _group_floors_by_dimension(limits: Limits) -> dict[str, float]:
    """Sum of group minimums per dimension (sector, size bucket, asset class), whose groups never overlap."""
    floors: dict[str, dict[bytes, float]] = {}
    for g in limits.groups:
        if np.isfinite(g.lower) and g.lower > 0:
            by_group = floors.setdefault(g.label.split(" ")[0], {})
            key = g.members.tobytes()
            by_group[key] = max(by_group.get(key, 0.0), g.lower)
    return {dimension: sum(values.values()) for dimension, values in floors.items()}
