"""Constraint families as objects: each family of limits owns everything the optimizer does with it.

A family (``PositionLimits``, ``ActiveLimits``, ``RsiTrimLimits``, ``GroupLimits``, ``RsiGroupLimits``,
``CashLimits``, ``TrackingErrorLimit``, ``TurnoverLimit``, and the trading mode's ``NoSells``, ``NoBuys``,
``CashRaise``) knows

* its config keys and words: ``entry`` names one of its limits as the config does (``constraints.turnover_max``,
  ``rsi.min_trim`` as a fraction of the position, a group limit relative to the benchmark when the group is);
* its CVXPY rows, hard or elastic: ``build`` returns the rows, each side of the family (``turnover``,
  ``position_min``...) with the slack ``model.slack(side)`` added, which is 0 in the hard problem;
* its CVXPY parameters: ``build`` creates them through ``model.parameter`` and ``fill`` sets their values, so one
  compiled (DPP) problem is re-solved with new values; every constant of a row goes through ``model.homogenize``,
  so that the rows also serve the homogenized max-Sharpe problem (``objectives``);
* its numpy check: ``violation`` (how far a weight vector breaks it, fractions of NAV or annualized volatility)
  and ``binding`` (the limits a solution sits on: by default the ``binding_words`` of its ``binding_sides``);
* its pre-solve arithmetic: ``presolve`` (conflicts plain sums can prove before a solver runs);
* its relaxation: ``slack_cost`` (``constraints.relaxation_cost``) and ``relaxed`` (the limits moved by a slack).

The built-in families read the fields of ``Limits``; a family that is not built in carries its own values and is
added with ``Limits(extra=(MyLimit(...),))``: the problem, the checks, the diagnosis and ``--relax`` then treat
it like the built-in ones. Weights are fractions of NAV; the tracking error is annualized volatility. The model
follows cvxportfolio's constraint classes (an object per rule that compiles itself to CVXPY), and its
``SoftConstraint`` for the elastic side. Nothing here imports CVXPY at module level.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, Protocol

import numpy as np

from allocator.config.schema import Config, RsiTrim
from allocator.domain import FloatArray, RiskModel
from allocator.optimize.constraints import GroupBound, Limits, tracking_error, turnover
from allocator.optimize.parameter_values import set_value

INERT = 10.0  # a bound of 10x NAV stands for "no limit" (parameters must be finite)

Slack = Callable[[str, int], FloatArray]  # (side, size) -> how far that side moves (zeros when it does not)
Sides = list[tuple[str, int | None]]  # the sides a solution sits on, each with its entry (``binding_sides``)


def finite(values: FloatArray, inert: float) -> FloatArray:
    """``values`` with infinite bounds replaced by ``inert`` (CVXPY parameters must be finite)."""
    return np.where(np.isfinite(values), values, inert)


class Model(Protocol):
    """What a family sees of the problem being built (``problem.CompiledProblem``).

    ``w`` (n risky weights), ``c`` (cash weight), ``traded`` (>= |w - w0| per asset) and ``y`` (factor
    exposures, in the objective's scaled units) are CVXPY variables; ``scale`` is the factor the objective's
    variance is multiplied by and ``specific`` the scaled specific volatilities (the current risk model's values);
    ``root_scale`` is what rows hold of ``sqrt(scale)`` (a parameter or a constant); ``has_specific`` says whether
    there is specific risk, and then ``z`` is the variable of the scaled specific exposures ``specific * w``.
    """

    w: Any
    c: Any
    traded: Any
    y: Any
    scale: float
    specific: FloatArray
    z: Any
    root_scale: Any
    has_specific: bool
    elastic: bool
    params: dict[str, Any]

    def parameter(self, name: str, size: int | tuple[int, ...] | None = None, nonneg: bool = False) -> Any:
        """A new CVXPY parameter (a vector of ``size``, a matrix of that shape, or a scalar), kept in
        ``params[name]``."""
        ...

    def slack(self, side: str) -> Any:
        """The elastic slack of ``side`` (non-negative, its family's units), or 0.0 in the hard problem."""
        ...

    def homogenize(self, constant: Any) -> Any:
        """A row's constant (a bound, a benchmark weight, a limit): itself, or times the scale variable ``k`` in
        the homogenized max-Sharpe problem, where ``w`` stands for ``k`` times the weights (``objectives``)."""
        ...


@dataclass(frozen=True)
class Side:
    """One direction of a family (``position_min``, ``turnover``): a row named like it and, when elastic, a
    non-negative slack of ``size`` entries (``None``: a scalar)."""

    name: str
    size: int | None = None


@dataclass(frozen=True)
class LimitEntry:
    """One limit in the config's terms: its key, its value, what it applies to, and how a slack moves it.

    ``scale`` converts a slack (in weight or volatility units) into the config's units; ``lowering`` says whether
    relaxing means lowering the value (minimums, trims) or raising it (maximums). ``per_subject`` says the limit
    is one per subject (a group's own limit), so conflicts name it with its subject rather than list subjects.
    """

    family: str
    index: int | None
    key: str
    value: float
    subject: str
    lowering: bool
    scale: float = 1.0
    per_subject: bool = False

    def label(self) -> str:
        return f"{self.key} {self.value:.4g}"

    def needed(self, slack: float) -> float:
        move = slack * self.scale
        return self.value - move if self.lowering else self.value + move


class Family:
    """A family of limits; subclasses override what applies to them. ``name`` keys ``violations``."""

    name: str = ""
    cost_key: str = ""  # the key of ``constraints.relaxation_cost`` that prices its slack

    def present(self, limits: Limits) -> bool:
        """Whether the limits configure this family at all (a problem without it has no rows for it)."""
        return True

    def structure(self, limits: Limits) -> bytes:
        """What, besides being present, decides the compiled problem's shape (for the cache key)."""
        return b""

    def sides(self, limits: Limits) -> tuple[Side, ...]:
        """The directions that get a slack in the elastic problem; each has a row of the same name."""
        return ()

    def build(self, model: Model, limits: Limits) -> dict[str, Any]:
        """Create the parameters and return the rows, by name."""
        return {}

    def fill(self, model: Model, limits: Limits) -> None:
        """Set the parameters ``build`` created to the values of ``limits``."""

    def violation(self, limits: Limits, risk: RiskModel, weight: FloatArray, cash: float) -> float:
        """The largest violation by ``weight`` and ``cash`` (0 when every limit holds)."""
        return 0.0

    def binding(self, limits: Limits, risk: RiskModel, weight: FloatArray, cash: float,
                tolerance: float) -> list[str]:
        """Human-readable list of the limits of this family a solution sits on. By default, the
        ``binding_words`` of its ``binding_sides`` (none for a family without words)."""
        if type(self).binding_words is Family.binding_words:
            return []
        return self.binding_words(limits, self.binding_sides(limits, risk, weight, cash, tolerance))

    def binding_words(self, limits: Limits, sides: Sides) -> list[str]:
        """The ``binding`` lines of ``sides`` (this family's ``binding_sides`` of a solution), for a family whose
        binding limits are its sides; a family that says them otherwise overrides ``binding`` instead."""
        return []

    def binding_sides(self, limits: Limits, risk: RiskModel, weight: FloatArray, cash: float,
                      tolerance: float) -> list[tuple[str, int | None]]:
        """The sides and entries (for ``entry``) of the limits a solution sits on. By default, a family of one
        scalar side gives that side whenever ``binding`` reports it."""
        sides = self.sides(limits)
        if _one_scalar(sides) and self.binding(limits, risk, weight, cash, tolerance):
            return [(sides[0].name, None)]
        return []

    def entry(self, limits: Limits, config: Config, side: str, index: int | None) -> LimitEntry:
        """The config's view of entry ``index`` (None for a scalar side) of ``side``."""
        raise NotImplementedError(f"{type(self).__name__} has no side {side!r}")

    def slack_cost(self, limits: Limits, config: Config, side: Side) -> float | FloatArray:
        """The cost per unit of slack of ``side`` in the diagnosis (``constraints.relaxation_cost``)."""
        return float(config.constraints.relaxation_cost.model_dump()[self.cost_key])

    def presolve(self, limits: Limits, config: Config) -> list[str]:
        """Conflicts found with plain arithmetic before any solver runs (empty when none)."""
        return []

    def relaxed(self, limits: Limits, slack: Slack) -> Limits:
        """``limits`` with this family moved by ``slack`` (what ``--relax`` trades under)."""
        return limits


def _one_scalar(sides: tuple[Side, ...]) -> bool:
    """Whether a family has one side, a scalar one (the default ``binding_sides`` names it when it binds)."""
    return len(sides) == 1 and sides[0].size is None


def _over(values: FloatArray, upper: FloatArray) -> float:
    gap = values - upper
    return float(gap[np.isfinite(gap)].max(initial=0.0))


class AssetBounds(Family):
    """A family that bounds each asset's weight: ``lower <= w <= upper`` (``-inf``/``inf`` where it does not
    apply). In the hard problem all such families share one lower and one upper row per asset (their tightest),
    which holds the same set of weights with a fraction of the rows; elastic, each keeps its own rows and slack."""

    skip_zero_floor = False  # ``binding`` does not report a floor of 0 (the long-only floor binds trivially)

    def bounds(self, limits: Limits) -> tuple[FloatArray, FloatArray]:
        raise NotImplementedError

    def sides(self, limits: Limits) -> tuple[Side, ...]:
        n = len(limits.symbols)
        return Side(f"{self.name}_min", n), Side(f"{self.name}_max", n)

    def build(self, model: Model, limits: Limits) -> dict[str, Any]:
        n = len(limits.symbols)
        lower = model.parameter(f"{self.name}_lower", n)
        upper = model.parameter(f"{self.name}_upper", n)
        return {f"{self.name}_min": model.w >= model.homogenize(lower) - model.slack(f"{self.name}_min"),
                f"{self.name}_max": model.w <= model.homogenize(upper) + model.slack(f"{self.name}_max")}

    def fill(self, model: Model, limits: Limits) -> None:
        lower, upper = self.bounds(limits)
        set_value(model.params[f"{self.name}_lower"], finite(lower, -INERT))
        set_value(model.params[f"{self.name}_upper"], finite(upper, INERT))

    def checked_bounds(self, limits: Limits) -> tuple[FloatArray, FloatArray]:
        """The bounds ``violation`` checks a weight against: ``bounds``, unless a family allows some slack."""
        return self.bounds(limits)

    def violation(self, limits: Limits, risk: RiskModel, weight: FloatArray, cash: float) -> float:
        lower, upper = self.checked_bounds(limits)
        return max(_over(lower, weight), _over(weight, upper))

    def binding_sides(self, limits: Limits, risk: RiskModel, weight: FloatArray, cash: float,
                      tolerance: float) -> list[tuple[str, int | None]]:
        lower, upper = self.bounds(limits)
        weight = np.asarray(weight, dtype=np.float64)
        at_max = np.isfinite(upper) & (weight >= upper - tolerance)
        at_min = np.isfinite(lower) & (weight <= lower + tolerance)  # where both, the maximum is named
        if self.skip_zero_floor:
            at_min &= lower != 0.0
        top, bottom = f"{self.name}_max", f"{self.name}_min"
        return [(top if at_max[i] else bottom, i) for i in np.flatnonzero(at_max | at_min).tolist()]

    def binding_words(self, limits: Limits, sides: Sides) -> list[str]:
        lower, upper = self.bounds(limits)
        found = []
        for side, i in sides:
            index = i or 0
            bound = side.rsplit("_", 1)[1]
            value = upper[index] if bound == "max" else lower[index]
            found.append(f"{self.name} {bound} {limits.symbols[index]} ({value:.4f})")
        return found

    def moved(self, limits: Limits, lower: FloatArray, upper: FloatArray) -> Limits:
        """``limits`` with this family's bounds replaced."""
        raise NotImplementedError

    def relaxed(self, limits: Limits, slack: Slack) -> Limits:
        n = len(limits.symbols)
        lower, upper = self.bounds(limits)
        return self.moved(limits, lower - slack(f"{self.name}_min", n), upper + slack(f"{self.name}_max", n))


def _override(table: dict[str, Any], symbol: str, bound: str) -> bool:
    found = {s.upper(): v for s, v in table.items()}.get(symbol)
    return found is not None and getattr(found, bound) is not None


class PositionLimits(AssetBounds):
    """``constraints.min_weight`` / ``max_weight`` and ``position_limits`` per symbol (fractions of NAV)."""

    name = "position"
    cost_key = "position"
    skip_zero_floor = True

    def bounds(self, limits: Limits) -> tuple[FloatArray, FloatArray]:
        return limits.position_lower, limits.position_upper

    def moved(self, limits: Limits, lower: FloatArray, upper: FloatArray) -> Limits:
        return replace(limits, position_lower=lower, position_upper=upper)

    def entry(self, limits: Limits, config: Config, side: str, index: int | None) -> LimitEntry:
        i = index or 0
        symbol = limits.symbols[i]
        bound = side.removeprefix("position_")
        overridden = _override(config.constraints.position_limits, symbol, bound)
        key = f"constraints.position_limits.{symbol}.{bound}" if overridden else f"constraints.{bound}_weight"
        value = limits.position_lower[i] if bound == "min" else limits.position_upper[i]
        return LimitEntry(side, index, key, float(value), symbol, lowering=bound == "min")


class ActiveLimits(AssetBounds):
    """``constraints.active_min`` / ``active_max`` and ``active_limits`` per symbol: bounds on ``w - b``."""

    name = "active"
    cost_key = "active"

    def bounds(self, limits: Limits) -> tuple[FloatArray, FloatArray]:
        return limits.active_lower, limits.active_upper

    def moved(self, limits: Limits, lower: FloatArray, upper: FloatArray) -> Limits:
        return replace(limits, active_lower=lower, active_upper=upper)

    def entry(self, limits: Limits, config: Config, side: str, index: int | None) -> LimitEntry:
        i = index or 0
        symbol = limits.symbols[i]
        bound = side.removeprefix("active_")
        overridden = _override(config.constraints.active_limits, symbol, bound)
        key = f"constraints.active_limits.{symbol}.{bound}" if overridden else f"constraints.active_{bound}"
        value = (limits.active_lower if bound == "min" else limits.active_upper)[i] - limits.benchmark[i]
        return LimitEntry(side, index, key, float(value), symbol, lowering=bound == "min")


class RsiTrimLimits(AssetBounds):
    """The RSI rules' per-asset bounds: the ceiling on an overbought position (``rsi.min_trim``, a fraction of the
    position or of its overweight; no adds), its optional sale floor (``rsi.sale_floor``, ``rsi.max_trim``), no
    adds to its substitutes (``rsi.scope: correlated``), no sales when oversold."""

    name = "rsi"
    cost_key = "rsi"

    def bounds(self, limits: Limits) -> tuple[FloatArray, FloatArray]:
        return limits.rsi.lower, limits.rsi.upper

    def moved(self, limits: Limits, lower: FloatArray, upper: FloatArray) -> Limits:
        return replace(limits, rsi=replace(limits.rsi, lower=lower, upper=upper))

    def checked_bounds(self, limits: Limits) -> tuple[FloatArray, FloatArray]:
        """As for any per-asset bound, except that a bare no-add (``w <= w0``) is checked to 1% of the position:
        after trading, a position left alone weighs more by the share of NAV the costs took (the rounding holds
        its shares exactly)."""
        lower, upper = self.bounds(limits)
        bare = np.isfinite(upper) & (np.abs(upper - limits.current) <= 1e-12)
        return lower, np.where(bare, upper * 1.01, upper)

    def entry(self, limits: Limits, config: Config, side: str, index: int | None) -> LimitEntry:
        i = index or 0
        symbol = limits.symbols[i]
        rule = limits.rsi.by_symbol().get(symbol)
        rule = rule if rule is not None and rule.symbol == symbol else None
        if rule is not None and rule.rule == "rsi_correlated":
            subject = f"{symbol}, corr {rule.correlation or 0.0:.2f} with {rule.source}"
            return LimitEntry(side, i, "rsi.correlation (no adds)", float(limits.rsi.upper[i]), subject,
                              lowering=False)
        subject = f"{symbol}, RSI {rule.rsi:.1f}" if rule else symbol
        w0 = float(limits.current[i])
        anchor = float(limits.benchmark[i]) if config.rsi.trim is RsiTrim.OVERWEIGHT else 0.0
        trimmed = w0 - anchor  # what a trim is a fraction of: the position, or its overweight
        if side == "rsi_max":
            upper = float(limits.rsi.upper[i])
            if trimmed > 0 and upper < w0 - 1e-12:  # a trim: the config's min_trim
                return LimitEntry(side, i, "rsi.min_trim", 1.0 - (upper - anchor) / trimmed, subject, lowering=True,
                                  scale=1.0 / trimmed)
            return LimitEntry(side, i, "rsi.overbought (no adds)", upper, subject, lowering=False)
        lower = float(limits.rsi.lower[i])
        if rule is not None and rule.rule == "rsi_no_sell":
            return LimitEntry(side, i, "rsi.no_sell_when_oversold", lower, subject, lowering=True)
        if trimmed > 0:
            return LimitEntry(side, i, "rsi.max_trim", 1.0 - (lower - anchor) / trimmed, subject, lowering=False,
                              scale=1.0 / trimmed)
        return LimitEntry(side, i, "rsi.max_trim", lower, subject, lowering=True)


class RsiGroupLimits(Family):
    """``rsi.scope: group``: while a group's proxy (``rsi.groups``) is overbought, the total weight of the group
    may not rise above its current total (fractions of NAV)."""

    name = "rsi_group"
    cost_key = "rsi"

    def present(self, limits: Limits) -> bool:
        return bool(limits.rsi.groups)

    def structure(self, limits: Limits) -> bytes:
        return b"".join(g.members.tobytes() for g in limits.rsi.groups)

    def sides(self, limits: Limits) -> tuple[Side, ...]:
        return (Side("rsi_group_max", len(limits.rsi.groups)),)

    def build(self, model: Model, limits: Limits) -> dict[str, Any]:
        members = np.array([g.members for g in limits.rsi.groups], dtype=np.float64)
        upper = model.parameter("rsi_group_upper", len(limits.rsi.groups))
        return {"rsi_group_max": members @ model.w <= model.homogenize(upper) + model.slack("rsi_group_max")}

    def fill(self, model: Model, limits: Limits) -> None:
        set_value(model.params["rsi_group_upper"], np.array([g.upper for g in limits.rsi.groups],
                                                             dtype=np.float64))

    def violation(self, limits: Limits, risk: RiskModel, weight: FloatArray, cash: float) -> float:
        return max((max(float(weight[g.members].sum()) - g.upper, 0.0) for g in limits.rsi.groups), default=0.0)

    def binding_sides(self, limits: Limits, risk: RiskModel, weight: FloatArray, cash: float,
                      tolerance: float) -> list[tuple[str, int | None]]:
        return [("rsi_group_max", k) for k, g in enumerate(limits.rsi.groups)
                if float(weight[g.members].sum()) >= g.upper - tolerance]

    def binding_words(self, limits: Limits, sides: Sides) -> list[str]:
        groups = [limits.rsi.groups[k or 0] for _, k in sides]
        return [f"rsi_group max {g.label} via {g.proxy} ({g.upper:.4f})" for g in groups]

    def entry(self, limits: Limits, config: Config, side: str, index: int | None) -> LimitEntry:
        group = limits.rsi.groups[index or 0]
        return LimitEntry(side, index, f"{group.key} (no rise while {group.proxy} is overbought)", group.upper,
                          f"{group.label}, {group.proxy} RSI {group.rsi:.1f}", lowering=False, per_subject=True)

    def presolve(self, limits: Limits, config: Config) -> list[str]:
        floor = asset_capacity(limits)[0]
        found = []
        for g in limits.rsi.groups:
            floors = float(floor[g.members].sum())
            if g.upper < floors - 1e-9:
                found.append(f"{g.key} holds {g.label} at {g.upper:.4f} while {g.proxy} is overbought but its "
                             f"members' floors add up to {floors:.4f}")
        return found

    def relaxed(self, limits: Limits, slack: Slack) -> Limits:
        move = slack("rsi_group_max", len(limits.rsi.groups))
        groups = tuple(replace(g, upper=g.upper + float(move[k])) for k, g in enumerate(limits.rsi.groups))
        return replace(limits, rsi=replace(limits.rsi, groups=groups))


class WeightBounds(AssetBounds):
    """The tightest of several ``AssetBounds`` families, as one lower and one upper row per asset (the hard
    problem's form: rows ``weight_min`` and ``weight_max``)."""

    name = "weight"

    def __init__(self, parts: tuple[AssetBounds, ...]) -> None:
        self.parts = parts

    def bounds(self, limits: Limits) -> tuple[FloatArray, FloatArray]:
        # pair by pair, in order: what ``np.maximum.reduce`` of the stacked rows computes, without stacking them
        lower, upper = self.parts[0].bounds(limits)
        if len(self.parts) == 1:
            return lower.copy(), upper.copy()
        for part in self.parts[1:]:
            low, high = part.bounds(limits)
            lower, upper = np.maximum(lower, low), np.minimum(upper, high)
        return lower, upper


def merge_bounds(families: tuple[Family, ...]) -> tuple[Family, ...]:
    """``families`` with every ``AssetBounds`` family replaced by one ``WeightBounds``, where the first was."""
    parts = tuple(f for f in families if isinstance(f, AssetBounds))
    if not parts:
        return families
    merged: list[Family] = []
    for family in families:
        if family is parts[0]:
            merged.append(WeightBounds(parts))
        elif not isinstance(family, AssetBounds):
            merged.append(family)
    return tuple(merged)


class GroupLimits(Family):
    """``constraints.groups``: ``min <= sum of members' weights <= max`` per group (sector, size bucket, asset
    class), absolute or relative to the benchmark's weight in the group."""

    name = "group"
    cost_key = "groups"

    def structure(self, limits: Limits) -> bytes:
        return b"".join(g.members.tobytes() for g in limits.groups)

    def sides(self, limits: Limits) -> tuple[Side, ...]:
        m = len(limits.groups)
        return (Side("group_min", m), Side("group_max", m)) if m else ()

    def build(self, model: Model, limits: Limits) -> dict[str, Any]:
        m = len(limits.groups)
        if not m:
            return {}
        members = np.array([g.members for g in limits.groups], dtype=np.float64)
        lower, upper = model.parameter("group_lower", m), model.parameter("group_upper", m)
        return {"group_min": members @ model.w >= model.homogenize(lower) - model.slack("group_min"),
                "group_max": members @ model.w <= model.homogenize(upper) + model.slack("group_max")}

    def fill(self, model: Model, limits: Limits) -> None:
        if limits.groups:
            set_value(model.params["group_lower"], finite(np.array([g.lower for g in limits.groups]), -INERT))
            set_value(model.params["group_upper"], finite(np.array([g.upper for g in limits.groups]), INERT))

    def violation(self, limits: Limits, risk: RiskModel, weight: FloatArray, cash: float) -> float:
        totals = [float(weight[g.members].sum()) for g in limits.groups]
        return max((max(g.lower - total, total - g.upper, 0.0) for g, total in zip(limits.groups, totals, strict=True)),
                   default=0.0)

    def binding_sides(self, limits: Limits, risk: RiskModel, weight: FloatArray, cash: float,
                      tolerance: float) -> list[tuple[str, int | None]]:
        found: list[tuple[str, int | None]] = []
        for k, g in enumerate(limits.groups):
            total = float(weight[g.members].sum())
            if np.isfinite(g.upper) and total >= g.upper - tolerance:
                found.append(("group_max", k))
            elif np.isfinite(g.lower) and total <= g.lower + tolerance:
                found.append(("group_min", k))
        return found

    def binding_words(self, limits: Limits, sides: Sides) -> list[str]:
        found = []
        for side, k in sides:
            g = limits.groups[k or 0]
            bound = side.removeprefix("group_")
            found.append(f"group {bound} {g.label} ({g.upper if bound == 'max' else g.lower:.4f})")
        return found

    def entry(self, limits: Limits, config: Config, side: str, index: int | None) -> LimitEntry:
        group = limits.groups[index or 0]
        bound = side.removeprefix("group_")
        base = group.reference
        value = (group.lower if bound == "min" else group.upper) - base
        return LimitEntry(side, index, f"{group.key}.{bound}", float(value), group.label, lowering=bound == "min",
                          per_subject=True)

    def slack_cost(self, limits: Limits, config: Config, side: Side) -> float | FloatArray:
        default = super().slack_cost(limits, config, side)
        return np.array([default if g.relaxation_cost is None else g.relaxation_cost
                         for g in config.constraints.groups], dtype=np.float64)

    def presolve(self, limits: Limits, config: Config) -> list[str]:
        found: list[str] = []
        floor, cap = asset_capacity(limits)
        for g in limits.groups:
            member_cap = float(cap[g.members].sum())
            member_floor = float(floor[g.members].sum())
            if g.lower > member_cap + 1e-9:
                found.append(f"{g.key}.min ({g.label}) needs {g.lower:.4f} but its members' caps add up to "
                             f"{member_cap:.4f}")
            if g.upper < member_floor - 1e-9:
                found.append(f"{g.key}.max ({g.label}) allows {g.upper:.4f} but its members' floors add up to "
                             f"{member_floor:.4f}")
        invest_low, invest_high = limits.budget - limits.cash_upper, limits.budget - limits.cash_lower
        for dimension, (floors, capacity) in _group_totals(limits).items():
            if floors > invest_high + 1e-9:
                found.append(f"the group minimums by {dimension} add up to {floors:.4f}, more than the "
                             f"{invest_high:.4f} that can be invested")
            if capacity < invest_low - 1e-9:
                found.append(f"the group maximums by {dimension} (with the caps of assets in no such group) hold at "
                             f"most {capacity:.4f}, less than the {invest_low:.4f} that must be invested")
        return found

    def relaxed(self, limits: Limits, slack: Slack) -> Limits:
        m = len(limits.groups)
        lower, upper = slack("group_min", m), slack("group_max", m)
        return replace(limits, groups=tuple(
            GroupBound(g.key, g.label, g.members, g.lower - lower[i], g.upper + upper[i], g.relative, g.reference)
            for i, g in enumerate(limits.groups)))


def _group_totals(limits: Limits) -> dict[str, tuple[float, float]]:
    """Per group dimension (sector, size bucket, asset class): the sum of group minimums and the most the groups'
    maximums (plus the caps of assets in no limited group of that dimension) can hold."""
    upper = asset_capacity(limits)[1]
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


class CashLimits(Family):
    """``constraints.cash_min`` / ``cash_max``: bounds on the cash weight (fractions of NAV)."""

    name = "cash"
    cost_key = "cash"

    def sides(self, limits: Limits) -> tuple[Side, ...]:
        return Side("cash_min"), Side("cash_max")

    def build(self, model: Model, limits: Limits) -> dict[str, Any]:
        lower, upper = model.parameter("cash_lower"), model.parameter("cash_upper")
        return {"cash_min": model.c >= model.homogenize(lower) - model.slack("cash_min"),
                "cash_max": model.c <= model.homogenize(upper) + model.slack("cash_max")}

    def fill(self, model: Model, limits: Limits) -> None:
        set_value(model.params["cash_lower"], limits.cash_lower)
        set_value(model.params["cash_upper"], limits.cash_upper)

    def violation(self, limits: Limits, risk: RiskModel, weight: FloatArray, cash: float) -> float:
        return max(limits.cash_lower - cash, cash - limits.cash_upper, 0.0)

    def binding_sides(self, limits: Limits, risk: RiskModel, weight: FloatArray, cash: float,
                      tolerance: float) -> list[tuple[str, int | None]]:
        found: list[tuple[str, int | None]] = []
        if cash <= limits.cash_lower + tolerance and limits.cash_lower > 0:
            found.append(("cash_min", None))
        if cash >= limits.cash_upper - tolerance and limits.cash_upper < 1:
            found.append(("cash_max", None))
        return found

    def binding_words(self, limits: Limits, sides: Sides) -> list[str]:
        return [f"{side} ({limits.cash_lower if side == 'cash_min' else limits.cash_upper:.4f})" for side, _ in sides]

    def entry(self, limits: Limits, config: Config, side: str, index: int | None) -> LimitEntry:
        value = limits.cash_lower if side == "cash_min" else limits.cash_upper
        return LimitEntry(side, None, f"constraints.{side}", float(value), "", lowering=side == "cash_min")

    def presolve(self, limits: Limits, config: Config) -> list[str]:
        found: list[str] = []
        if limits.cash_lower > limits.budget + 1e-12:
            held = 1.0 - limits.budget
            found.append(f"constraints.cash_min {limits.cash_lower:.4g} cannot be reached: holdings outside the "
                         f"universe are held fixed at {held:.4f} of NAV, so cash can be at most {limits.budget:.4f}")
        floors, caps = asset_capacity(limits)
        invest_low, invest_high = limits.budget - limits.cash_upper, limits.budget - limits.cash_lower
        floor = float(floors.sum())
        cap = float(caps.sum())
        if floor > invest_high + 1e-9 and invest_high >= 0:
            found.append(f"the per-asset minimum weights add up to {floor:.4f}, more than the {invest_high:.4f} that "
                         f"can be invested with constraints.cash_min {limits.cash_lower:.4g}")
        if cap < invest_low - 1e-9:
            found.append(f"the per-asset caps add up to {cap:.4f}, less than the {invest_low:.4f} that must be "
                         f"invested under constraints.cash_max {limits.cash_upper:.4g}")
        return found

    def relaxed(self, limits: Limits, slack: Slack) -> Limits:
        return replace(limits, cash_lower=limits.cash_lower - float(slack("cash_min", 1)[0]),
                       cash_upper=limits.cash_upper + float(slack("cash_max", 1)[0]))


class TrackingErrorLimit(Family):
    """``constraints.tracking_error_max``: ``sqrt((w - b)' Sigma (w - b))`` at most this (annualized)."""

    name = "tracking_error"
    cost_key = "tracking_error_max"

    def present(self, limits: Limits) -> bool:
        return limits.tracking_error_max is not None

    def sides(self, limits: Limits) -> tuple[Side, ...]:
        return (Side("tracking_error"),)

    def build(self, model: Model, limits: Limits) -> dict[str, Any]:
        import cvxpy as cp

        te = model.parameter("tracking_error_max", nonneg=True)
        active_terms = [model.y - model.homogenize(model.params["Bb"])]
        if model.has_specific:  # specific volatility times (w - b): z less its product with b, one parameter (DPP)
            specific_b = model.parameter("specific_benchmark", len(limits.symbols))
            active_terms.append(model.z - model.homogenize(specific_b))
        limit = model.homogenize(te)
        if model.elastic:  # the slack is in volatility units; the norm is in the objective's scaled units
            limit = limit + model.root_scale * model.slack("tracking_error")
        return {"tracking_error": cp.norm(cp.hstack(active_terms), 2) <= limit}

    def fill(self, model: Model, limits: Limits) -> None:
        set_value(model.params["tracking_error_max"],
                  float(limits.tracking_error_max or 0.0) * np.sqrt(model.scale))
        if model.has_specific:
            set_value(model.params["specific_benchmark"], model.specific * limits.benchmark)

    def violation(self, limits: Limits, risk: RiskModel, weight: FloatArray, cash: float) -> float:
        return max(tracking_error(risk, weight, limits.benchmark) - float(limits.tracking_error_max or 0.0), 0.0)

    def binding(self, limits: Limits, risk: RiskModel, weight: FloatArray, cash: float,
                tolerance: float) -> list[str]:
        limit = float(limits.tracking_error_max or 0.0)
        if tracking_error(risk, weight, limits.benchmark) >= limit - 1e-5:
            return [f"tracking_error_max ({limit:.4f})"]
        return []

    def entry(self, limits: Limits, config: Config, side: str, index: int | None) -> LimitEntry:
        return LimitEntry(side, None, "constraints.tracking_error_max", float(limits.tracking_error_max or 0.0), "",
                          lowering=False)

    def relaxed(self, limits: Limits, slack: Slack) -> Limits:
        return replace(limits, tracking_error_max=float(limits.tracking_error_max or 0.0)
                       + float(slack("tracking_error", 1)[0]))


class TurnoverLimit(Family):
    """``constraints.turnover_max``: one-way turnover net of flows, ``max(B - inflow, S - outflow)``, at most this
    (fraction of NAV; B and S the weight bought and sold, S with the forced sale of holdings outside the universe;
    ``Limits.inflow`` / ``outflow`` the cash the account invests or raises, see ``constraints``). Two rows, one
    slack: ``B <= turnover_max + inflow`` and ``S <= turnover_max + outflow``, with ``B`` and ``S`` read from
    ``traded`` and the cash (``B + S = sum traded``, ``B - S = sum (w - w0) = budget - c - sum w0``)."""

    name = "turnover"
    cost_key = "turnover_max"

    def present(self, limits: Limits) -> bool:
        return limits.turnover_max is not None

    def sides(self, limits: Limits) -> tuple[Side, ...]:
        return (Side("turnover"),)

    def build(self, model: Model, limits: Limits) -> dict[str, Any]:
        import cvxpy as cp

        # sum(w - w0) = budget - c - sum(w0): the rows hold sum(traded) and c, the constants go into the room
        room = model.parameter("turnover_room", 2)
        total = cp.sum(model.traded)
        bought_sold = cp.hstack([0.5 * (total - model.c), 0.5 * (total + model.c)])
        return {"turnover": bought_sold <= model.homogenize(room) + model.slack("turnover")}

    def fill(self, model: Model, limits: Limits) -> None:
        set_value(model.params["turnover_room"], self.room(limits))

    @staticmethod
    def room(limits: Limits) -> FloatArray:
        """The bounds on ``0.5 (sum(traded) - c)`` (bought) and ``0.5 (sum(traded) + c)`` (sold): the limit plus
        the flow, with the constants of ``sum(w - w0)`` moved over (fractions of NAV)."""
        limit = float(limits.turnover_max or 0.0)
        net = 0.5 * (limits.budget - float(limits.current.sum()))  # half of sum(w - w0) + c
        return np.array([limit + limits.inflow - net, limit + limits.outflow - 2.0 * limits.turnover_forced + net])

    def violation(self, limits: Limits, risk: RiskModel, weight: FloatArray, cash: float) -> float:
        return max(turnover(limits, weight, cash) - float(limits.turnover_max or 0.0), 0.0)

    def binding(self, limits: Limits, risk: RiskModel, weight: FloatArray, cash: float,
                tolerance: float) -> list[str]:
        limit = float(limits.turnover_max or 0.0)
        return [f"turnover_max ({limit:.4f})"] if turnover(limits, weight, cash) >= limit - 1e-5 else []

    def entry(self, limits: Limits, config: Config, side: str, index: int | None) -> LimitEntry:
        return LimitEntry(side, None, "constraints.turnover_max", float(limits.turnover_max or 0.0), "",
                          lowering=False)

    def presolve(self, limits: Limits, config: Config) -> list[str]:
        limit = float(limits.turnover_max or 0.0)
        forced, raise_to, cut_to = forced_turnover(limits)
        if forced <= limit + 1e-9:
            return []
        causes = [limits.symbols[i] for i in ((raise_to > 1e-12) | (cut_to > 1e-12)).nonzero()[0]]
        what = []
        if causes:
            what.append(f"the limits on {', '.join(causes)}")
        if limits.turnover_forced > 0:
            what.append("selling the holdings outside the universe")
        if max(limits.cash_lower - limits.current_cash, limits.current_cash - limits.cash_upper) > 0:
            what.append("bringing cash within its limits")
        return [f"constraints.turnover_max {limit:.4g} is too tight: {' and '.join(what)} force at least "
                f"{forced:.4f} of turnover (net of flows)"]

    def relaxed(self, limits: Limits, slack: Slack) -> Limits:
        return replace(limits, turnover_max=float(limits.turnover_max or 0.0) + float(slack("turnover", 1)[0]))


def forced_turnover(limits: Limits) -> tuple[float, FloatArray, FloatArray]:
    """The least one-way turnover (net of flows) the per-asset bounds, cash limits and outside sales force, and
    what forces it: the weight each asset must rise by and fall by (its causes, named only when the check fails).
    With S - B = c - c0: cash that must rise forces sells, cash that must fall forces buys."""
    lower, upper = asset_bounds(limits)
    raise_to = np.where(limits.current < lower, lower - limits.current, 0.0)
    cut_to = np.where(limits.current > upper, limits.current - upper, 0.0)
    increases = float(raise_to[np.isfinite(raise_to)].sum())
    decreases = float(cut_to[np.isfinite(cut_to)].sum()) + 2.0 * limits.turnover_forced  # outside sales too
    cash_up = max(limits.cash_lower - limits.current_cash, 0.0)
    cash_down = max(limits.current_cash - limits.cash_upper, 0.0)
    bought = max(increases, decreases + cash_down)
    sold = max(decreases, increases + cash_up)
    return max(bought - limits.inflow, sold - limits.outflow, 0.0), raise_to, cut_to


class ModeBounds(AssetBounds):
    """The trading mode's per-asset rows: ``no_sells`` (invest: ``w >= w0``) or ``no_buys`` (raise: ``w <= w0``).
    Rounding keeps them in shares (``rounding.share_bounds``)."""

    cost_key = "mode"
    mode = ""

    def entry(self, limits: Limits, config: Config, side: str, index: int | None) -> LimitEntry:
        i = index or 0
        lower, upper = self.bounds(limits)
        minimum = side.endswith("_min")
        value = float(lower[i] if minimum else upper[i])
        return LimitEntry(side, index, f"trading.mode {self.mode} ({self.name.replace('_', ' ')})", value,
                          limits.symbols[i], lowering=minimum)

    def binding_sides(self, limits: Limits, risk: RiskModel, weight: FloatArray, cash: float,
                      tolerance: float) -> list[tuple[str, int | None]]:
        side = self.sides(limits)[1 if self.mode == "raise" else 0].name  # invest: w >= w0; raise: w <= w0
        held = np.isclose(weight, limits.current, rtol=0.0, atol=tolerance)
        return [(side, int(i)) for i in np.flatnonzero(held)]

    def binding_words(self, limits: Limits, sides: Sides) -> list[str]:
        held = len(sides)
        return [f"{self.name.replace('_', ' ')} ({self.mode}): {held} assets kept"] if held else []

    def slack_cost(self, limits: Limits, config: Config, side: Side) -> float | FloatArray:
        return float(config.constraints.relaxation_cost.mode)


class NoSells(ModeBounds):
    """``trading.mode: invest``: buys only, ``w >= w0``."""

    name = "no_sells"
    mode = "invest"

    def present(self, limits: Limits) -> bool:
        return limits.no_sells

    def bounds(self, limits: Limits) -> tuple[FloatArray, FloatArray]:
        return limits.current.copy(), np.full(len(limits.symbols), np.inf)

    def moved(self, limits: Limits, lower: FloatArray, upper: FloatArray) -> Limits:
        # a relaxed no-sell row lets the asset be sold by the slack: held as an extra family with those bounds
        return replace(limits, no_sells=False, extra=(*limits.extra, FixedBounds(self.name, lower, upper)))


class NoBuys(ModeBounds):
    """``trading.mode: raise``: sells only, ``w <= w0``."""

    name = "no_buys"
    mode = "raise"

    def present(self, limits: Limits) -> bool:
        return limits.no_buys

    def bounds(self, limits: Limits) -> tuple[FloatArray, FloatArray]:
        return np.full(len(limits.symbols), -np.inf), limits.current.copy()

    def moved(self, limits: Limits, lower: FloatArray, upper: FloatArray) -> Limits:
        return replace(limits, no_buys=False, extra=(*limits.extra, FixedBounds(self.name, lower, upper)))


class FixedBounds(AssetBounds):
    """Per-asset bounds carried by value (a mode's rows once ``--relax`` moved them)."""

    cost_key = "mode"

    def __init__(self, name: str, lower: FloatArray, upper: FloatArray) -> None:
        self.name, self.lower, self.upper = name, lower, upper

    def structure(self, limits: Limits) -> bytes:
        return self.name.encode()

    def bounds(self, limits: Limits) -> tuple[FloatArray, FloatArray]:
        return self.lower, self.upper

    def moved(self, limits: Limits, lower: FloatArray, upper: FloatArray) -> Limits:
        return replace(limits, extra=tuple(FixedBounds(self.name, lower, upper) if f is self else f
                                           for f in limits.extra))

    def entry(self, limits: Limits, config: Config, side: str, index: int | None) -> LimitEntry:
        i = index or 0
        minimum = side.endswith("_min")
        value = float((self.lower if minimum else self.upper)[i])
        return LimitEntry(side, index, f"trading.mode ({self.name.replace('_', ' ')}, relaxed by --relax)", value,
                          limits.symbols[i], lowering=minimum)


class CashRaise(Family):
    """``trading.mode: raise`` with ``--raise AMOUNT``: cash after trading at least cash before + AMOUNT
    (``c >= Limits.cash_raise``, fraction of NAV)."""

    name = "cash_raise"
    cost_key = "mode"

    def present(self, limits: Limits) -> bool:
        return limits.cash_raise is not None

    def sides(self, limits: Limits) -> tuple[Side, ...]:
        return (Side("cash_raise"),)

    def build(self, model: Model, limits: Limits) -> dict[str, Any]:
        target = model.parameter("cash_raise")
        return {"cash_raise": model.c >= model.homogenize(target) - model.slack("cash_raise")}

    def fill(self, model: Model, limits: Limits) -> None:
        set_value(model.params["cash_raise"], float(limits.cash_raise or 0.0))

    def violation(self, limits: Limits, risk: RiskModel, weight: FloatArray, cash: float) -> float:
        return max(float(limits.cash_raise or 0.0) - cash, 0.0)

    def binding(self, limits: Limits, risk: RiskModel, weight: FloatArray, cash: float,
                tolerance: float) -> list[str]:
        target = float(limits.cash_raise or 0.0)
        return [f"cash_raise ({target:.4f})"] if cash <= target + tolerance else []

    def entry(self, limits: Limits, config: Config, side: str, index: int | None) -> LimitEntry:
        raised = float(limits.cash_raise or 0.0) - limits.current_cash
        return LimitEntry(side, None, "--raise (trading.raise_value), fraction of NAV", raised, "", lowering=True)

    def presolve(self, limits: Limits, config: Config) -> list[str]:
        target = float(limits.cash_raise or 0.0)
        sellable = float(np.maximum(limits.current - np.maximum(asset_bounds(limits)[0], 0.0), 0.0).sum())
        reachable = limits.current_cash + sellable
        if target <= reachable + 1e-9:
            return []
        return [f"--raise (trading.raise_value) cannot be met: it needs cash of {target:.4f} of NAV, but selling all "
                f"the limits allow leaves at most {reachable:.4f}"]

    def relaxed(self, limits: Limits, slack: Slack) -> Limits:
        return replace(limits, cash_raise=float(limits.cash_raise or 0.0) - float(slack("cash_raise", 1)[0]))


FAMILIES: tuple[Family, ...] = (PositionLimits(), ActiveLimits(), RsiTrimLimits(), GroupLimits(), RsiGroupLimits(),
                                CashLimits(), TrackingErrorLimit(), TurnoverLimit(), NoSells(), NoBuys(), CashRaise())


class LastOf:
    """A function of one object, kept for the last object it was given, by identity (the object is kept with the
    value, so its identity cannot be reused while kept; only the last, so that a backtest's many risk models are not
    held). For frozen objects whose arrays are never written to (``Limits``, ``RiskModel``): each account's problem
    reads its families and their tightest bounds about ten times (the pre-solve checks, the conic program, the
    numpy check, the rounding), and one computation serves them all."""

    def __init__(self, compute: Callable[[Any], Any]) -> None:
        self.compute = compute
        self.last: tuple[Any, Any] = (None, None)

    def __call__(self, key: Any) -> Any:
        kept, value = self.last  # one read: another thread may replace it meanwhile
        if kept is not key:
            value = self.compute(key)
            self.last = (key, value)
        return value


def _families_of(limits: Limits) -> tuple[Family, ...]:
    return tuple(f for f in (*FAMILIES, *limits.extra) if f.present(limits))


_FAMILIES_OF = LastOf(_families_of)


def families_of(limits: Limits) -> tuple[Family, ...]:
    """The families present in ``limits``: the built-in ones, then ``limits.extra``, in that order."""
    found: tuple[Family, ...] = _FAMILIES_OF(limits)
    return found


def side_owners(limits: Limits) -> dict[str, tuple[Family, Side]]:
    """Each elastic side of ``limits`` and the family it belongs to."""
    return {side.name: (family, side) for family in families_of(limits) for side in family.sides(limits)}


def _asset_bounds(limits: Limits) -> tuple[FloatArray, FloatArray]:
    lower, upper = WeightBounds(tuple(f for f in families_of(limits) if isinstance(f, AssetBounds))).bounds(limits)
    lower.setflags(write=False)  # shared by every caller about these limits (``LastOf``)
    upper.setflags(write=False)
    return lower, upper


_ASSET_BOUNDS = LastOf(_asset_bounds)


def asset_bounds(limits: Limits) -> tuple[FloatArray, FloatArray]:
    """The tightest lower and upper bound on each weight over every per-asset family (fractions of NAV; read-only
    arrays, computed once per ``Limits``)."""
    bounds: tuple[FloatArray, FloatArray] = _ASSET_BOUNDS(limits)
    return bounds


def _asset_capacity(limits: Limits) -> tuple[FloatArray, FloatArray]:
    lower, upper = asset_bounds(limits)
    floors = np.where(np.isfinite(lower), np.maximum(lower, 0.0), 0.0)
    caps = np.where(np.isfinite(upper), upper, limits.budget)
    floors.setflags(write=False)  # shared by every caller about these limits (``LastOf``)
    caps.setflags(write=False)
    return floors, caps


_ASSET_CAPACITY = LastOf(_asset_capacity)


def asset_capacity(limits: Limits) -> tuple[FloatArray, FloatArray]:
    """What the per-asset bounds (``asset_bounds``) let each weight hold at least and at most, as the pre-solve
    checks add them up: the floor (a minimum, 0 where none or negative) and the cap (a maximum, the budget where
    none); fractions of NAV, read-only arrays computed once per ``Limits`` (the group and cash checks share them)."""
    capacity: tuple[FloatArray, FloatArray] = _ASSET_CAPACITY(limits)
    return capacity


def _rows(pairs: list[tuple[FloatArray, FloatArray]], n: int) -> tuple[FloatArray, FloatArray]:
    """The lower and the upper bounds of several per-asset families (``pairs``), a row each (``n`` assets)."""
    lower = np.array([low for low, _ in pairs], dtype=np.float64).reshape(len(pairs), n)
    upper = np.array([high for _, high in pairs], dtype=np.float64).reshape(len(pairs), n)
    return lower, upper


def _checked_rows(limits: Limits) -> tuple[tuple[int, ...], FloatArray, FloatArray]:
    """The per-asset families that ``AssetBounds.violation`` checks (by ``id``) and their ``checked_bounds``, a row
    each (read-only)."""
    checked = [f for f in families_of(limits) if isinstance(f, AssetBounds)
               and type(f).violation is AssetBounds.violation]
    lower, upper = _rows([f.checked_bounds(limits) for f in checked], len(limits.symbols))
    lower.setflags(write=False)  # shared by every caller about these limits (``LastOf``)
    upper.setflags(write=False)
    return tuple(id(f) for f in checked), lower, upper


_CHECKED_ROWS = LastOf(_checked_rows)


def _over_rows(values: FloatArray, upper: FloatArray) -> FloatArray:
    """``_over`` of each row (one row of ``values`` or ``upper`` serves them all): a finite gap, else 0."""
    gap = values - upper
    over: FloatArray = np.where(np.isfinite(gap), gap, 0.0).max(axis=-1, initial=0.0)
    return over


def violations(limits: Limits, risk: RiskModel, weight: FloatArray, cash: float) -> dict[str, float]:
    """The largest violation of each family by a solution, recomputed with numpy (0 when it holds), keyed by the
    family's name (``budget`` first). The per-asset families are checked all at once, a row each: what each one's
    ``violation`` gives (a finite gap's maximum is the same with the other gaps read as 0)."""
    out = {"budget": abs(float(weight.sum()) + cash - limits.budget)}
    checked, lower, upper = _CHECKED_ROWS(limits)
    found = dict(zip(checked, np.maximum(_over_rows(lower, weight), _over_rows(weight, upper)).tolist(), strict=True))
    for family in families_of(limits):
        over = found.get(id(family))
        out[family.name] = over if over is not None else family.violation(limits, risk, weight, cash)
    return out


def _solution(weight: FloatArray, cash: float, tolerance: float) -> tuple[Any, ...] | None:
    """What tells one solution from another besides its limits and risk model, exactly: the weights' dtype, shape
    and bytes, and the cash and tolerance (type and bits); None for values that are not arrays and floats."""
    if not (isinstance(weight, np.ndarray) and isinstance(cash, float) and isinstance(tolerance, float)):
        return None
    return weight.dtype.str, weight.shape, weight.tobytes(), type(cash), cash.hex(), type(tolerance), tolerance.hex()


class LastBinding:
    """What ``binding_constraints`` found of the last solution it was asked about, for ``binding_limits`` of the same
    solution (``summarize`` asks both, one after the other): by family, its ``binding_sides`` (a family whose
    ``binding`` is its sides' ``binding_words``) or its ``binding`` (any other). The same solution: the same
    limits and risk model (objects, kept with the answers, as the families are) and ``_solution``."""

    def __init__(self) -> None:
        self.last: tuple[tuple[Any, ...] | None, dict[int, tuple[Family, Sides | None, list[str]]]] = (None, {})

    def keep(self, limits: Limits, risk: RiskModel, weight: FloatArray, cash: float, tolerance: float,
             answers: dict[int, tuple[Family, Sides | None, list[str]]]) -> None:
        solution = _solution(weight, cash, tolerance)
        self.last = ((limits, risk, solution), answers) if solution is not None else (None, {})

    def answers(self, limits: Limits, risk: RiskModel, weight: FloatArray, cash: float,
                tolerance: float) -> dict[int, tuple[Family, Sides | None, list[str]]]:
        """The answers kept for this solution (empty for another)."""
        kept, answers = self.last  # one read: another thread may replace it meanwhile
        if kept is None or kept[0] is not limits or kept[1] is not risk:
            return {}
        return answers if kept[2] == _solution(weight, cash, tolerance) else {}


_LAST_BINDING = LastBinding()


def _says_sides(family: Family) -> bool:
    """Whether ``family.binding`` is the default: the ``binding_words`` of its ``binding_sides``."""
    kind = type(family)
    return kind.binding is Family.binding and kind.binding_words is not Family.binding_words


def _bound_sides(families: list[AssetBounds], limits: Limits, weight: FloatArray, tolerance: float
                 ) -> dict[int, Sides]:
    """``AssetBounds.binding_sides`` of each of ``families`` (by ``id``), all at once: a row of bounds each."""
    n = len(limits.symbols)
    lower, upper = _rows([family.bounds(limits) for family in families], n)
    weight = np.asarray(weight, dtype=np.float64)
    at_max = np.isfinite(upper) & (weight >= upper - tolerance)
    at_min = np.isfinite(lower) & (weight <= lower + tolerance)
    for row, family in enumerate(families):
        if family.skip_zero_floor:
            at_min[row] &= lower[row] != 0.0
    found: dict[int, Sides] = {id(family): [] for family in families}
    for hit in np.flatnonzero(at_max | at_min).tolist():
        row, i = divmod(hit, n)
        family = families[row]
        found[id(family)].append((f"{family.name}_max" if at_max[row, i] else f"{family.name}_min", i))
    return found


def binding_constraints(limits: Limits, risk: RiskModel, weight: FloatArray, cash: float,
                        tolerance: float = 1e-6) -> list[str]:
    """Human-readable list of the limits a solution sits on (within ``tolerance``). The per-asset families'
    sides are found all at once (``_bound_sides``)."""
    found: list[str] = []
    answers: dict[int, tuple[Family, Sides | None, list[str]]] = {}
    families = families_of(limits)
    bounded = _bound_sides([f for f in families if isinstance(f, AssetBounds) and _says_sides(f)
                            and type(f).binding_sides is AssetBounds.binding_sides], limits, weight, tolerance)
    for family in families:
        sides = bounded.get(id(family))
        if sides is None and _says_sides(family):
            sides = family.binding_sides(limits, risk, weight, cash, tolerance)
        words = family.binding_words(limits, sides) if sides is not None else family.binding(
            limits, risk, weight, cash, tolerance)
        answers[id(family)] = (family, sides, words)
        found.extend(words)
    _LAST_BINDING.keep(limits, risk, weight, cash, tolerance, answers)
    return found


def binding_limits(limits: Limits, config: Config, risk: RiskModel, weight: FloatArray, cash: float,
                   tolerance: float = 1e-6) -> list[LimitEntry]:
    """The limits a solution sits on in the config's words (``LimitEntry``: key, value in the config's units,
    subject), one per asset or group; a family that names no side (``binding_sides``) is left out. What
    ``binding_constraints`` just found of the same solution is not computed again (``LastBinding``)."""
    answers = _LAST_BINDING.answers(limits, risk, weight, cash, tolerance)
    found: list[LimitEntry] = []
    for family in families_of(limits):
        kept = answers.get(id(family))
        if kept is not None and kept[0] is family and kept[1] is not None:
            sides = kept[1]
        elif kept is not None and kept[0] is family and type(family).binding_sides is Family.binding_sides:
            scalar = family.sides(limits)  # the default ``binding_sides``, of the words found
            sides = [(scalar[0].name, None)] if _one_scalar(scalar) and kept[2] else []
        else:
            sides = family.binding_sides(limits, risk, weight, cash, tolerance)
        found.extend(family.entry(limits, config, side, index) for side, index in sides)
    return found
