"""Fundamentals -> cross-sectional signal scores, and the macro regime's multipliers.

Raw signals (``docs/method.md``, "Signals"), per asset:
- ``size = -log(market_cap)``: small caps score high;
- ``value = 1 / forward_pe`` (earnings yield): cheaper scores high; a missing or non-positive P/E has no score;
- ``growth = eps_growth``;
- ``margin_expansion = eps_growth - revenue_growth``: earnings outgrowing sales;
- ``quality``: the mean of the standardized ``roe``, ``gross_profitability`` and ``-debt_to_equity`` an asset has
  (no score when the fundamentals carry none of the three).
- ``momentum``, ``low_volatility``, ``reversal``: from the closes up to the as-of date (``price_signals``); an asset
  whose history is too short has no score.

Each is standardized within **peer groups** of the equity assets (``returns.peer_group``: fundamentals columns whose
values form the groups, e.g. ``[region, style]``; ``none`` puts every equity asset in one group): z-scored (mean 0,
population standard deviation 1), then winsorized at ``+/- limit``. A peer group whose funds all sit in one size
bucket (the large-cap sector funds) is not scored on size. Assets without data score 0 (and are named in a
warning); non-equity assets score 0. With ``returns.orthogonalize`` the z-scores are orthogonalized in the order of
``ALL_SIGNALS`` (Gram-Schmidt over the equity assets, each residual rescaled to unit spread).

The composite keeps its conviction: ``s = sum_k c_k * m_k * z_k / scale_ref`` with ``scale_ref`` the spread of
``sum_k c_k * z_k`` (every multiplier at 1). A regime that weakens or cancels the signals therefore lowers the spread
of ``s``; ``conviction = spread(sum_k c_k * m_k * z_k) / scale_ref`` is reported.
"""

from __future__ import annotations

import difflib

import numpy as np
import pandas as pd

from allocator.config.schema import (
    ALL_SIGNALS,
    PRICE_SIGNALS,
    SIGNALS,
    GrowthRegime,
    MacroConfig,
    RatePath,
    ReturnsConfig,
)
from allocator.domain import FloatArray, Scores
from allocator.errors import ConfigError
from allocator.model.price_signals import SESSIONS_NEEDED, price_signals

QUALITY_PARTS = (("roe", 1.0), ("gross_profitability", 1.0), ("debt_to_equity", -1.0))


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


def peer_zscore(values: FloatArray, groups: tuple[np.ndarray, ...], limit: float) -> FloatArray:
    """``winsorized_zscore`` within each peer group (boolean masks that do not overlap); 0 outside every group."""
    out = np.zeros(len(values))
    for members in groups:
        out += winsorized_zscore(values, members, limit)
    return out


def peer_groups(fundamentals: pd.DataFrame, symbols: tuple[str, ...], equity: np.ndarray,
                columns: tuple[str, ...]) -> dict[str, np.ndarray]:
    """The equity assets split by the values of ``columns`` (one group of all equity assets when there are none),
    as group label -> boolean mask over ``symbols``."""
    if not columns:
        return {"all": equity.copy()}
    absent = [c for c in columns if c not in fundamentals.columns]
    if absent:
        raise ConfigError("returns.peer_group", f"no column {', '.join(map(repr, absent))} in the fundamentals file",
                          f"add the column, or use one of {', '.join(sorted(map(str, fundamentals.columns)))} "
                          "or none")
    info = fundamentals.loc[list(symbols), list(columns)].fillna("").astype(str)
    cells = (info.iloc[:, k].to_numpy(dtype=object) for k in range(len(columns)))  # Python str, not row tuples
    labels = np.array(["/".join(row) for row in zip(*cells, strict=True)], dtype=object)
    return {str(label): equity & (labels == label) for label in sorted(set(labels[equity]))}


def lonely_hint(fundamentals: pd.DataFrame, symbols: tuple[str, ...], equity: np.ndarray,
                columns: tuple[str, ...], symbol: str) -> str:
    """Why ``symbol`` may be alone in its peer group: an empty peer column, or a value close to one other assets
    use (``usa`` beside ``us``), as ``: region 'usa', did you mean 'us'?``; empty when nothing looks wrong."""
    hints = []
    for column in columns:
        value: object = fundamentals.loc[symbol, column]
        text = "" if value is None or (isinstance(value, float) and np.isnan(value)) else str(value).strip()
        others = {str(v).strip() for s, v, e in zip(symbols, fundamentals.loc[list(symbols), column], equity,
                                                     strict=True) if e and s != symbol and not pd.isna(v)}
        if not text:
            hints.append(f"{column} empty")
        elif text not in others:
            close = difflib.get_close_matches(text, sorted(others), n=1, cutoff=0.6)
            if close:
                hints.append(f"{column} {text!r}, did you mean {close[0]!r}?")
    return ": " + "; ".join(hints) if hints else ""


def raw_signals(fundamentals: pd.DataFrame, symbols: tuple[str, ...]) -> dict[str, FloatArray]:
    """The raw signals of each symbol that need no standardization, NaN where the data is missing or unusable
    (``quality`` is built from standardized parts in ``signal_scores``)."""
    info = fundamentals.loc[list(symbols)]

    def column(name: str) -> FloatArray:  # NaN (no data) where the file has no such column
        values: FloatArray = (info[name].to_numpy(dtype=np.float64) if name in info.columns
                              else np.full(len(symbols), np.nan))
        return values

    market_cap, pe, eps, revenue = (column(name) for name in ("market_cap", "forward_pe", "eps_growth",
                                                                "revenue_growth"))
    with np.errstate(divide="ignore", invalid="ignore"):
        size = np.where(market_cap > 0, -np.log(market_cap), np.nan)
        value = np.where(pe > 0, 1.0 / pe, np.nan)
    return {"size": size, "value": value, "growth": eps, "margin_expansion": eps - revenue}


def quality_raw(fundamentals: pd.DataFrame, symbols: tuple[str, ...], groups: tuple[np.ndarray, ...],
                limit: float) -> FloatArray:
    """Mean of the peer z-scores of ``roe``, ``gross_profitability`` and ``-debt_to_equity`` that an asset has;
    NaN where it has none."""
    total = np.zeros(len(symbols))
    count = np.zeros(len(symbols))
    for column, sign in QUALITY_PARTS:
        if column not in fundamentals.columns:
            continue
        values = sign * fundamentals.loc[list(symbols), column].to_numpy(dtype=np.float64)
        present = np.isfinite(values)
        total += np.where(present, peer_zscore(values, groups, limit), 0.0)
        count += present
    with np.errstate(invalid="ignore"):
        return np.where(count > 0, total / np.maximum(count, 1), np.nan)


def orthogonalized(z: dict[str, FloatArray], equity: np.ndarray) -> dict[str, FloatArray]:
    """Gram-Schmidt over the equity assets in the order of ``ALL_SIGNALS``: each score less its projection on the
    earlier ones, rescaled to unit spread (a score the earlier ones explain entirely becomes 0)."""
    basis: list[FloatArray] = []
    out: dict[str, FloatArray] = {}
    for k in ALL_SIGNALS:
        v = np.where(equity, z[k], 0.0)
        for u in basis:
            v = v - (v @ u) * u
        norm = float(np.linalg.norm(v))
        if norm <= 1e-9 * max(1.0, float(np.linalg.norm(z[k]))):
            out[k] = np.zeros(len(v))
            continue
        basis.append(v / norm)
        spread = float(v[equity].std())
        out[k] = v / spread if spread > 0 else np.zeros(len(v))
    return out


def _one_size_bucket(fundamentals: pd.DataFrame, symbols: tuple[str, ...], groups: tuple[np.ndarray, ...]
                     ) -> np.ndarray:
    """The members of peer groups whose funds all sit in one size bucket: their size scores mean nothing (a
    large-cap sector fund is not a small cap for being the smallest sector), so they are not scored on size."""
    if "size_bucket" not in fundamentals.columns:
        return np.zeros(len(symbols), dtype=bool)
    buckets = fundamentals.loc[list(symbols), "size_bucket"].astype(str).to_numpy()
    out = np.zeros(len(symbols), dtype=bool)
    for members in groups:
        if members.any() and len(set(buckets[members])) == 1:
            out |= members
    return out


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
    return label, {k: float(getattr(base, k)) * float(getattr(growth, k)) for k in ALL_SIGNALS}


def _spread(values: FloatArray, equity: np.ndarray) -> float:
    return float(values[equity].std()) if equity.sum() >= 2 else 0.0


SIGNAL_COLUMNS = {"value": ("forward_pe",), "growth": ("eps_growth",),
                  "margin_expansion": ("eps_growth", "revenue_growth")}  # the optional columns each signal needs


def signals_without_columns(fundamentals: pd.DataFrame) -> dict[str, tuple[str, ...]]:
    """The signals the fundamentals cannot score for want of a column, with the columns they lack (quality needs
    any one of its parts)."""
    off = {k: tuple(c for c in columns if c not in fundamentals.columns) for k, columns in SIGNAL_COLUMNS.items()}
    found = {k: columns for k, columns in off.items() if columns}
    if not any(column in fundamentals.columns for column, _ in QUALITY_PARTS):
        found["quality"] = tuple(column for column, _ in QUALITY_PARTS)
    return found


def reported_signals(weights: dict[str, float]) -> tuple[str, ...]:
    """The signals the outputs list: every fundamental signal, and the price signals that carry a weight (so a run
    that does not use them writes what it wrote before they existed)."""
    return SIGNALS + tuple(k for k in PRICE_SIGNALS if weights.get(k, 0.0) != 0)


def price_history_warnings(raw: dict[str, FloatArray], symbols: tuple[str, ...], equity: np.ndarray,
                           weights: dict[str, float]) -> list[str]:
    """The weighted price signals some equity assets cannot be scored on for want of history, naming them."""
    warnings = []
    for k in PRICE_SIGNALS:
        short = [symbols[i] for i in np.flatnonzero(equity & ~np.isfinite(raw[k]))]
        if not short or weights[k] == 0:
            continue
        needed = SESSIONS_NEEDED[k]
        if len(short) < int(equity.sum()):
            warnings.append(f"signal {k}: price history too short for {', '.join(short)} (it needs {needed} "
                            "sessions of closes up to the as-of date); scored 0")
        else:
            warnings.append(f"signal {k}: no equity asset has {needed} sessions of closes up to the as-of date; "
                            "it scores 0 everywhere")
    return warnings


def signal_scores(fundamentals: pd.DataFrame, symbols: tuple[str, ...], asset_class: tuple[str, ...],
                  returns_config: ReturnsConfig, closes: pd.DataFrame | None = None) -> Scores:
    """Winsorized peer z-scores of each signal and the composite at its reference scale, over the equity assets.

    ``closes`` (one column a symbol, rows up to the as-of date) feed the price signals; without them those score
    0."""
    equity = np.array([c == "equity" for c in asset_class])
    groups = peer_groups(fundamentals, symbols, equity, returns_config.peer_group_columns)
    masks = tuple(groups.values())
    limit = returns_config.winsorize_at
    raw = raw_signals(fundamentals, symbols)
    raw["quality"] = quality_raw(fundamentals, symbols, masks, limit)
    raw.update(price_signals(closes, symbols) if closes is not None else
               {k: np.full(len(symbols), np.nan) for k in PRICE_SIGNALS})
    weights = returns_config.signal_weights.model_dump()
    z = {k: peer_zscore(raw[k], masks, limit) for k in ALL_SIGNALS}
    z["size"] = np.where(_one_size_bucket(fundamentals, symbols, masks), 0.0, z["size"])
    if returns_config.orthogonalize:
        z = orthogonalized(z, equity)
    warnings = []
    off = signals_without_columns(fundamentals)
    for k, columns in off.items():
        if weights[k] != 0:
            warnings.append(f"signal {k} is off (scores 0): the fundamentals have no {' or '.join(columns)} column")
    for k in SIGNALS:
        if k in off:
            continue
        missing = [symbols[i] for i in np.flatnonzero(equity & ~np.isfinite(raw[k]))]
        if missing and weights[k] != 0 and len(missing) < int(equity.sum()):
            warnings.append(f"signal {k}: no data for {', '.join(missing)}; scored 0")
        elif missing and weights[k] != 0:
            warnings.append(f"signal {k}: no equity asset has the data it needs; it scores 0 everywhere")
    warnings.extend(price_history_warnings(raw, symbols, equity, weights))
    lonely = [(label, symbols[int(np.argmax(members))]) for label, members in groups.items() if members.sum() == 1]
    if lonely and returns_config.peer_group_columns:
        columns = returns_config.peer_group_columns
        named = [f"{label} ({symbol}{lonely_hint(fundamentals, symbols, equity, columns, symbol)})"
                 for label, symbol in lonely]
        warnings.append(f"peer groups with one member score 0 on every signal: {', '.join(named)}")
    regime, multipliers = macro_multipliers(returns_config.macro)
    reference = sum((weights[k] * z[k] for k in ALL_SIGNALS), np.zeros(len(symbols)))
    combined = sum((weights[k] * multipliers[k] * z[k] for k in ALL_SIGNALS), np.zeros(len(symbols)))
    scale = _spread(reference, equity)
    if scale > 0:
        composite = np.where(equity, (combined - combined[equity].mean()) / scale, 0.0)
        conviction = _spread(combined, equity) / scale
    else:
        composite, conviction = np.zeros(len(symbols)), 0.0
    return Scores(symbols=symbols, z=z, signal_weights=weights, multipliers=multipliers, composite=composite,
                  composite_scale=scale, regime=regime, conviction=conviction,
                  peer_group={s: label for label, members in groups.items() for s, m in zip(symbols, members,
                                                                                            strict=True) if m},
                  warnings=tuple(warnings))
