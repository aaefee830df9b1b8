"""Explain infeasible problems: pre-solve checks, then an elastic re-solve that finds the smallest relaxation.

Pre-solve checks catch the common impossible setups with plain arithmetic, before any solver runs. The elastic
diagnosis gives every family of limits a non-negative slack (per asset or per group where the family is) and
minimizes the weighted sum of slacks, with costs from ``constraints.relaxation_cost`` (``relaxation.py`` solves
it). Each family (``families.py``) brings its own arithmetic, its own slack and its own words; this module only
walks over them. The limits with positive slack must be relaxed by that much; the limits they conflict with are
those with a non-zero dual value in the elastic solution. Everything is reported in the config's own terms and
units: a turnover limit as a turnover, an RSI trim as a fraction of the position, a group limit relative to the
benchmark when the group is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from allocator.config.schema import Config
from allocator.domain import FloatArray
from allocator.optimize.constraints import Limits
from allocator.optimize.families import AssetBounds, LimitEntry, asset_bounds, families_of, side_owners

SLACK_TOLERANCE = 1e-7
DUAL_TOLERANCE = 1e-6
MAX_CONFLICTS = 6


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


def relaxation_costs(limits: Limits, config: Config) -> dict[str, float | FloatArray]:
    """Cost per unit of slack for each elastic side (``constraints.relaxation_cost``; per group where a group
    sets its own)."""
    return {name: family.slack_cost(limits, config, side) for name, (family, side) in side_owners(limits).items()}


def limit_entry(limits: Limits, config: Config, side: str, index: int | None) -> LimitEntry:
    """The config's view of one entry of a side of a family of limits (``position_max``, ``turnover``...)."""
    family, _ = side_owners(limits)[side]
    return family.entry(limits, config, side, index)


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
    for family, side in side_owners(limits).values():
        constraint = compiled.constraints.get(side.name)
        if constraint is None or constraint.dual_value is None:
            continue
        duals = np.atleast_1d(np.asarray(constraint.dual_value, dtype=np.float64))
        for i, dual in enumerate(duals):
            index = None if side.size is None else i
            if abs(dual) <= DUAL_TOLERANCE or (side.name, index) in relaxed:
                continue
            entry = family.entry(limits, config, side.name, index)
            label = entry.label() + (f" ({entry.subject})" if entry.per_subject else "")
            subjects = [] if entry.per_subject or not entry.subject else [entry.subject]
            weight, named = held.get(label, (0.0, []))
            held[label] = (weight + abs(float(dual)), [*named, *subjects])
    ranked = sorted(held.items(), key=lambda item: -item[1][0])[:MAX_CONFLICTS]
    conflicts = tuple(f"{label} ({', '.join(named)})" if named else label for label, (_, named) in ranked)
    relaxations.sort(key=lambda r: (-r.amount, r.key, r.subject))
    return Diagnosis(relaxations=tuple(relaxations), conflicts_with=conflicts, checks=checks, slacks=slacks)


def presolve_checks(limits: Limits, config: Config) -> list[str]:
    """Conflicts found with plain arithmetic before any solver runs (empty when none): a per-asset minimum above
    a maximum (whichever per-asset families set them), then each family's own checks."""
    found: list[str] = []
    lower, upper = asset_bounds(limits)
    crossed = np.flatnonzero(lower > upper + 1e-12)
    bounds = [(family, *family.bounds(limits)) for family in families_of(limits)
              if isinstance(family, AssetBounds)] if crossed.size else []  # who set them, for the words
    for i in crossed:
        low_family = max(bounds, key=lambda b: b[1][i])[0]
        high_family = min(bounds, key=lambda b: b[2][i])[0]
        low = low_family.entry(limits, config, low_family.sides(limits)[0].name, int(i))
        high = high_family.entry(limits, config, high_family.sides(limits)[1].name, int(i))
        found.append(f"{limits.symbols[i]}: {low.label()} requires a weight of at least {lower[i]:.4f} but "
                     f"{high.label()} caps it at {upper[i]:.4f} (short by {lower[i] - upper[i]:.4f})")
    for family in families_of(limits):
        found.extend(family.presolve(limits, config))
    return found
