"""Restricted symbols of an account (the ``restricted`` column of the accounts table): never bought.

A restricted symbol the account holds is kept or sold by the model as it sees fit (``hold``, ``w <= w0``) or sold
whole (``sell``, ``w <= 0``). The restriction is a per-asset family of limits named ``restricted``, so the
optimizer, the rounding to whole lots, the numpy check of the solution and the diagnosis of an infeasible account
all see it as they see a position cap; a conflict names the accounts table.
"""

from __future__ import annotations

import dataclasses
from enum import StrEnum

import numpy as np

from allocator.config.schema import Config
from allocator.domain import FloatArray
from allocator.optimize.constraints import Limits
from allocator.optimize.diagnosis import presolve_checks
from allocator.optimize.families import FixedBounds, LimitEntry
from allocator.pipeline import Prepared


class RestrictedPolicy(StrEnum):
    """What happens to a restricted symbol the account holds: ``hold`` (never bought, may be kept or sold) or
    ``sell`` (sold whole)."""

    HOLD = "hold"
    SELL = "sell"


class RestrictedBounds(FixedBounds):
    """``w <= upper`` on the restricted symbols (``inf`` elsewhere), reported as the accounts table's rule."""

    def __init__(self, upper: FloatArray, policy: RestrictedPolicy) -> None:
        super().__init__("restricted", np.full(len(upper), -np.inf), upper)
        self.policy = policy

    def entry(self, limits: Limits, config: Config, side: str, index: int | None) -> LimitEntry:
        i = index or 0
        return LimitEntry(side, index, f"accounts table restricted ({self.policy.value}: never bought)",
                          float(self.upper[i]), limits.symbols[i], lowering=False)


def with_restrictions(prepared: Prepared, restricted: tuple[str, ...], policy: RestrictedPolicy) -> Prepared:
    """``prepared`` with ``restricted`` never bought (or sold whole with ``sell``); unchanged when the account
    holds and models none of them."""
    if not restricted:  # most accounts
        return prepared
    symbols = prepared.universe.symbols
    named = set(restricted)
    mask = np.array([s in named for s in symbols], dtype=bool)
    if not mask.any():
        return prepared
    limits = prepared.limits
    cap = np.zeros(len(symbols)) if policy is RestrictedPolicy.SELL else limits.current
    family = RestrictedBounds(np.where(mask, cap, np.inf), policy)
    limits = dataclasses.replace(limits, extra=(*limits.extra, family))
    return dataclasses.replace(prepared, limits=limits,
                               presolve_conflicts=tuple(presolve_checks(limits, prepared.config)))
