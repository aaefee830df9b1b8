"""Fundamentals -> cross-sectional signal scores, and the macro regime's multipliers.

Raw signals, per asset:
- ``size = -log(market_cap)``: small caps score high;
- ``value = 1 / forward_pe`` (earnings yield): cheaper scores high; a missing or non-positive P/E has no score;
- ``growth = eps_growth``;
- ``quality = eps_growth - revenue_growth``: earnings outgrowing sales means margins expand.

Each is standardized across the equity assets of the universe: z-scored (mean 0, population standard deviation 1),
then winsorized at ``+/- limit``. Assets without data score 0 (and are named in a
warning); non-equity assets score 0. The composite ``s = sum_k c_k * m_k * z_k`` is re-standardized the same way.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from allocator.config.schema import SIGNALS, GrowthRegime, MacroConfig, RatePath, ReturnsConfig
from allocator.domain import FloatArray, Scores


def winsorized_zscore(values: FloatArray, mask: np.ndarray, limit: float) -> FloatArray:
    """Z-scores of ``values`` over the assets in ``mask`` with finite values, winsorized at ``+/- limit``; 0 elsewhere.

    The scored values are standardized (mean 0, population standard deviation 1), then scores beyond ``limit`` are
    set to it, so no score exceeds the limit (a lone outlier among n values scores sqrt(n - 1) before the cut,
    whatever its size). Fewer than two distinct values, or a spread below 1e-12 (rounding noise, not a signal): 0.
    """
    scored = mask & np.isfinite(values)
    out = np.zeros(len(values))
    x = values[scored]
    if x.size < 2 or np.ptp(x) == 0:
        return out
    std = x.std()
    if std <= 1e-12 * max(1.0, float(np.abs(x).max())):  # no spread beyond rounding noise (or subnormal)
        return out
    out[scored] = np.clip((x - x.mean()) / std, -limit, limit)
    return out


def raw_signals(fundamentals: pd.DataFrame, symbols: tuple[str, ...]) -> dict[str, FloatArray]:
    """The four raw signals of each symbol, NaN where the data is missing or unusable."""
    info = fundamentals.loc[list(symbols)]
    market_cap = info["market_cap"].to_numpy(dtype=np.float64)
    pe = info["forward_pe"].to_numpy(dtype=np.float64)
    eps = info["eps_growth"].to_numpy(dtype=np.float64)
    revenue = info["revenue_growth"].to_numpy(dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        size = np.where(market_cap > 0, -np.log(market_cap), np.nan)
        value = np.where(pe > 0, 1.0 / pe, np.nan)
    return {"size": size, "value": value, "growth": eps, "quality": eps - revenue}


def regime_name(macro: MacroConfig) -> str:
    """``goldilocks``, ``hold`` or ``hawkish`` (tightening, or inflation above the ceiling)."""
    if macro.rate_path is RatePath.TIGHTENING or macro.inflation_mom > macro.inflation_ceiling:
        return "hawkish"
    if macro.rate_path is RatePath.HOLD:
        return "hold"
    return "goldilocks"


def macro_multipliers(macro: MacroConfig) -> tuple[str, dict[str, float]]:
    """The regime's name and its multiplier ``m_k`` for each signal (regime table times growth factors)."""
    regime = regime_name(macro)
    base = getattr(macro.regime_multipliers, regime)
    growth = getattr(macro.growth_multipliers, GrowthRegime(macro.growth).value)
    label = regime if macro.growth in (GrowthRegime.STEADY, GrowthRegime.EXPANDING) else (
        f"{regime}+{macro.growth.value}")
    return label, {k: float(getattr(base, k)) * float(getattr(growth, k)) for k in SIGNALS}


def signal_scores(fundamentals: pd.DataFrame, symbols: tuple[str, ...], asset_class: tuple[str, ...],
                  returns_config: ReturnsConfig) -> Scores:
    """Winsorized z-scores of each signal and the re-standardized composite, over the equity assets."""
    equity = np.array([c == "equity" for c in asset_class])
    raw = raw_signals(fundamentals, symbols)
    limit = returns_config.winsorize_at
    z = {k: winsorized_zscore(raw[k], equity, limit) for k in SIGNALS}
    warnings = []
    for k in SIGNALS:
        missing = [symbols[i] for i in np.flatnonzero(equity & ~np.isfinite(raw[k]))]
        if missing:
            warnings.append(f"signal {k}: no data for {', '.join(missing)}; scored 0")
    regime, multipliers = macro_multipliers(returns_config.macro)
    weights = returns_config.signal_weights.model_dump()
    combined = sum((weights[k] * multipliers[k] * z[k] for k in SIGNALS), np.zeros(len(symbols)))
    scale = float(combined[equity].std()) if equity.sum() >= 2 else 0.0
    composite = (combined - combined[equity].mean()) / scale if scale > 0 else np.zeros(len(symbols))
    composite[~equity] = 0.0
    return Scores(symbols=symbols, z=z, signal_weights=weights, multipliers=multipliers, composite=composite,
                  composite_scale=scale, regime=regime, warnings=tuple(warnings))
