"""Drift bands: an account trades only when its weights have drifted outside its band around the model's target.

The target is the model's optimal portfolio for the account (its limits, cash floor and restrictions); drift is
measured over the modelled assets (cash and holdings outside the universe are not assets of the model), in one of
three ways, each a fraction of NAV or of the target:

- ``absolute`` per asset (``0.03``): the largest ``|w - t|``;
- ``relative`` per asset (``0.25 relative``): the largest ``|w - t| / t``, with ``|w - t|`` for an asset whose
  target is zero;
- ``total`` (``0.10 total``): ``sum |w - t|`` over the assets.

An account whose drift is at most its band is ``in_band`` and left untouched. A band of 0 trades every account
whose target differs from its holdings.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from allocator.domain import FloatArray
from allocator.errors import DataError


class BandMeasure(StrEnum):
    ABSOLUTE = "absolute"
    RELATIVE = "relative"
    TOTAL = "total"


@dataclass(frozen=True)
class DriftBand:
    """A band of ``width`` (fraction of NAV, or of the target for ``relative``) in ``measure``."""

    width: float
    measure: BandMeasure = BandMeasure.ABSOLUTE

    def drift(self, weight: FloatArray, target: FloatArray) -> float:
        """The drift of ``weight`` from ``target`` (fractions of NAV, one per asset) in this band's measure."""
        gap = np.abs(np.asarray(weight, dtype=np.float64) - np.asarray(target, dtype=np.float64))
        if not gap.size:
            return 0.0
        if self.measure is BandMeasure.TOTAL:
            return float(gap.sum())
        if self.measure is BandMeasure.RELATIVE:
            gap = np.where(target > 0, gap / np.where(target > 0, target, 1.0), gap)
        return float(gap.max())

    def holds(self, drift: float) -> bool:
        """Whether a drift is inside the band (the account is left untouched); a drift under 1e-9 always is."""
        return drift <= self.width + 1e-12 or drift < 1e-9

    def describe(self) -> str:
        return f"{self.width:g} {self.measure.value}"


def parse_band(text: str, where: str) -> DriftBand:
    """``0.03`` (absolute), ``0.25 relative`` or ``0.10 total``; ``DataError`` at ``where`` otherwise."""
    parts = text.strip().lower().split()
    fix = "write the band as a width and a measure: 0.03, 0.03 absolute, 0.25 relative or 0.10 total"
    if not parts or len(parts) > 2:
        raise DataError(where, f"not a band: {text!r}", fix)
    try:
        width = float(parts[0].rstrip("%")) / (100.0 if parts[0].endswith("%") else 1.0)
    except ValueError:
        raise DataError(where, f"not a band width: {parts[0]!r}", fix) from None
    if not np.isfinite(width) or width < 0:
        raise DataError(where, f"the band width must be a non-negative number, got {parts[0]!r}", fix)
    measure = parts[1] if len(parts) == 2 else BandMeasure.ABSOLUTE.value
    if measure not in {m.value for m in BandMeasure}:
        raise DataError(where, f"unknown band measure {measure!r}", "use absolute, relative or total")
    return DriftBand(width, BandMeasure(measure))
