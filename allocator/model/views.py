"""Views on every asset class: the macro regime's and the user's, blended with ``prior + alpha`` by Black-Litterman.

With ``returns.method: black_litterman`` (``docs/method.md``, "Views"), the tilted prior ``m = pi + alpha`` is the
prior mean and the views pull it: ``mu = m + tau Sigma P' (tau P Sigma P' + Omega)^-1 (Q - P m)``, with Idzorek
confidences setting ``Omega`` (``allocator.model.black_litterman``). Returns are annualized decimals.

The regime's views (``returns.regime_views``) are stated against equilibrium: a view's target is the equilibrium
value of its portfolio, ``P pi``, plus the shifts of the regime that apply (rate path, hot inflation, growth). A
view whose shifts add to 0 is not taken (the regime has no opinion there), nor one whose assets the universe lacks:
- ``equity_premium``: the equity assets, benchmark-weighted (equal-weighted without a benchmark weight among them);
- ``small_minus_large``: small-cap funds against large-cap funds, equal-weighted legs;
- ``duration``: the bond assets, benchmark-weighted, against cash;
- ``gold``: the commodity assets against cash.
The user's views (``returns.views``) name symbols or groups (sector, size bucket, asset class) with an expected
return and a confidence.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from allocator.config.schema import (
    GrowthRegime,
    MacroConfig,
    RatePath,
    RegimeShifts,
    ReturnsConfig,
    ViewBy,
    ViewConfig,
    ViewWeighting,
)
from allocator.domain import FloatArray, RiskModel, Universe
from allocator.errors import ConfigError
from allocator.model.black_litterman import posterior_returns


@dataclass(frozen=True)
class AppliedView:
    """One view as the posterior used it: its portfolio ``pick`` (n, fractions), target ``expected``, Idzorek
    ``confidence``, and the portfolio's return under the prior (``prior_value``) and the posterior
    (``posterior_value``), annualized decimals."""

    name: str
    source: str  # "regime" or "config"
    pick: FloatArray
    expected: float
    confidence: float
    prior_value: float = 0.0
    posterior_value: float = 0.0


def regime_shift(shifts: RegimeShifts, macro: MacroConfig) -> float:
    """The total shift of a regime view from equilibrium: rate path, plus hot inflation, plus growth."""
    total = {RatePath.EASING: shifts.easing, RatePath.HOLD: shifts.hold,
             RatePath.TIGHTENING: shifts.tightening}[macro.rate_path]
    if macro.inflation_mom > macro.inflation_ceiling:
        total += shifts.hot_inflation
    if macro.growth is GrowthRegime.SLOWING:
        total += shifts.slowing
    elif macro.growth is GrowthRegime.CONTRACTING:
        total += shifts.contracting
    return float(total)


def _leg(members: np.ndarray, weights: FloatArray | None) -> FloatArray | None:
    """Weights of a leg over the members (summing to 1): by ``weights`` when they are positive there, else equal."""
    if not members.any():
        return None
    if weights is not None and float(weights[members].sum()) > 0:
        leg = np.where(members, weights, 0.0)
    else:
        leg = members.astype(np.float64)
    result: FloatArray = leg / leg.sum()
    return result


def regime_views(config: ReturnsConfig, universe: Universe, pi: FloatArray) -> list[AppliedView]:
    """The macro regime's views over the universe (see the module docstring)."""
    settings = config.regime_views
    if not settings.enabled or settings.confidence == 0:
        return []
    asset_class = np.array(universe.asset_class)
    bucket = np.array(universe.size_bucket)
    b = universe.benchmark_weight
    equity = asset_class == "equity"
    small, large = _leg(equity & (bucket == "small"), None), _leg(equity & (bucket == "large"), None)
    picks: dict[str, FloatArray | None] = {
        "equity_premium": _leg(equity, b),
        "small_minus_large": None if small is None or large is None else small - large,
        "duration": _leg(asset_class == "bond", b),
        "gold": _leg(asset_class == "commodity", b),
    }
    views = []
    for name, pick in picks.items():
        shift = regime_shift(getattr(settings, name), config.macro)
        if pick is None or shift == 0:
            continue
        views.append(AppliedView(name=name, source="regime", pick=pick, expected=float(pick @ pi) + shift,
                                 confidence=settings.confidence))
    return views


def _config_leg(names: Sequence[str], view: ViewConfig, universe: Universe, where: str) -> FloatArray:
    symbols = np.array(universe.symbols)
    labels = symbols if view.by is ViewBy.SYMBOL else np.array(universe.group_labels(view.by.value))
    known = set(labels.tolist())
    unknown = [name for name in names if name not in known]
    if unknown:
        choices = ", ".join(sorted(known)) if len(known) <= 30 else f"{len(known)} {view.by.value} values"
        raise ConfigError(where, f"unknown {view.by.value} {', '.join(map(repr, unknown))}", f"use one of: {choices}")
    members = np.isin(labels, list(names))
    weights = universe.benchmark_weight if view.weighting is ViewWeighting.BENCHMARK else None
    leg = _leg(members, weights)
    if leg is None:
        raise ConfigError(where, "the leg holds no assets", "name symbols or groups of the universe")
    return leg


def config_views(config: ReturnsConfig, universe: Universe) -> list[AppliedView]:
    """The user's views (``returns.views``) over the universe."""
    views = []
    for k, view in enumerate(config.views):
        where = f"returns.views[{k}]"
        pick = _config_leg(view.long, view, universe, where)
        if view.short:
            pick = pick - _config_leg(view.short, view, universe, where)
        if not np.any(np.abs(pick) > 1e-12):
            raise ConfigError(where, "the long and short legs cancel out", "make the legs name different assets")
        label = view.name or ("+".join(view.long) + (" - " + "+".join(view.short) if view.short else ""))
        if view.confidence > 0:
            views.append(AppliedView(name=label, source="config", pick=pick, expected=view.expected,
                                     confidence=view.confidence))
    return views


def blend_views(prior_mean: FloatArray, risk: RiskModel, views: Sequence[AppliedView], tau: float
                ) -> tuple[FloatArray, tuple[AppliedView, ...]]:
    """The posterior mean given the views (Idzorek confidences), and the views with their prior and posterior
    values. No n-by-n matrix is formed: ``Sigma P'`` comes from the risk model's factor form."""
    if not views:
        return prior_mean.copy(), ()
    pick = np.vstack([v.pick for v in views])
    sigma_pick_t = np.column_stack([risk.covariance_times(row) for row in pick])
    spread = np.einsum("ij,ji->i", pick, sigma_pick_t)  # p_k Sigma p_k'
    confidence = np.array([v.confidence for v in views])
    omega = tau * spread * (1.0 - confidence) / confidence
    certain = confidence >= 1.0
    if certain.sum() and np.linalg.matrix_rank(pick[certain]) < certain.sum():
        raise ConfigError("returns.views", "views held with confidence 1 contradict or repeat each other",
                          "lower the confidence of one of them")
    expected = np.array([v.expected for v in views])
    mu = posterior_returns(prior_mean, sigma_pick_t, pick, expected, omega, tau)
    applied = tuple(AppliedView(name=v.name, source=v.source, pick=v.pick, expected=v.expected,
                                confidence=v.confidence, prior_value=float(v.pick @ prior_mean),
                                posterior_value=float(v.pick @ mu)) for v in views)
    return mu, applied
