"""Portfolio statistics of a run: return, risk, activity and exposures, all fractions (no percentages here).

``allocator.outputs.summary`` gathers them into a run's ``RunSummary``. Conventions: returns, volatility and
tracking error annualized; Sharpe = expected excess return / volatility; active share = 0.5 * (sum |w - b| +
|cash - benchmark cash|); turnover one-way (see ``constraints.turnover``);
risk contribution of asset i = w_i (Sigma w)_i / (w' Sigma w), summing to 1.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd

from allocator.domain import FloatArray, RiskModel, Universe
from allocator.optimize.constraints import tracking_error


@dataclass(frozen=True)
class PortfolioStats:
    """One portfolio's statistics (fractions, annualized); ``turnover`` is None for the current portfolio."""

    expected_return: float
    volatility: float
    sharpe: float
    tracking_error: float
    active_share: float
    cash_weight: float
    turnover: float | None = None

    def to_json_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"expected_return": self.expected_return, "volatility": self.volatility,
                                "sharpe": self.sharpe, "tracking_error": self.tracking_error,
                                "active_share": self.active_share}
        if self.turnover is not None:
            data["turnover"] = self.turnover
        data["cash_weight"] = self.cash_weight
        return data


def portfolio_stats(mu: FloatArray, risk: RiskModel, weight: FloatArray, cash: float, benchmark: FloatArray,
                    turnover: float | None = None) -> PortfolioStats:
    """Expected return, volatility, Sharpe, tracking error and active share of ``weight`` (plus ``cash``)."""
    expected = float(mu @ weight)
    volatility = float(np.sqrt(max(risk.variance(weight), 0.0)))
    benchmark_cash = 1.0 - float(benchmark.sum())
    return PortfolioStats(
        expected_return=expected,
        volatility=volatility,
        sharpe=expected / volatility if volatility > 0 else 0.0,
        tracking_error=tracking_error(risk, weight, benchmark),
        active_share=0.5 * (float(np.abs(weight - benchmark).sum()) + abs(cash - benchmark_cash)),
        cash_weight=cash,
        turnover=turnover,
    )


def risk_contributions(risk: RiskModel, weight: FloatArray) -> FloatArray:
    variance = risk.variance(weight)
    if variance <= 0:
        return np.zeros(len(weight))
    result: FloatArray = weight * risk.covariance_times(weight) / variance
    return result


@dataclass(frozen=True)
class Exposures:
    """Weight by size bucket, sector and asset class: label -> fraction of NAV, sorted by label."""

    size_bucket: dict[str, float]
    sector: dict[str, float]
    asset_class: dict[str, float]

    def by(self, grouping: str) -> dict[str, float]:
        """The weights of one grouping (``size_bucket``, ``sector`` or ``asset_class``)."""
        found: dict[str, float] = getattr(self, grouping)
        return found

    def to_json_dict(self) -> dict[str, dict[str, float]]:
        return {by: self.by(by) for by in GROUPINGS}


GROUPINGS = ("size_bucket", "sector", "asset_class")


@lru_cache(maxsize=64)
def _factorized(labels: tuple[str, ...]) -> tuple[Any, tuple[Any, ...]]:
    """Each asset's label as the index of its label among ``names`` (in order of appearance), for ``np.bincount``:
    the same labels for every account of a model (and nine times an account), so factorized once."""
    index, names = pd.factorize(np.asarray(labels, dtype=object), use_na_sentinel=False)
    index.flags.writeable = False
    return index, tuple(names.tolist())


def exposures(universe: Universe, weight: FloatArray, outside: float = 0.0) -> Exposures:
    """Weight by size bucket, sector and asset class (sorted by label); ``outside`` is the weight of holdings
    outside the universe, shown as its own label so the exposures add up with cash to the whole account."""
    out: dict[str, dict[str, float]] = {}
    weight = np.asarray(weight, dtype=np.float64)
    for by in GROUPINGS:
        labels = universe.group_labels(by)
        if len(labels) != len(weight):
            raise ValueError(f"{len(labels)} {by} labels for {len(weight)} weights")
        index, names = _factorized(tuple(labels))
        # bincount adds each label's weights in the order of the assets, as a running sum from 0.0 would
        sums: list[float] = np.bincount(index, weights=weight, minlength=len(names)).tolist()
        totals = dict(zip(names, sums, strict=True))
        if outside > 0:
            totals["outside_universe"] = outside
        out[by] = dict(sorted(totals.items()))
    return Exposures(**out)
