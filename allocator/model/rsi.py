"""Wilder's Relative Strength Index and the trim limits it triggers.

RSI (Wilder 1978): the first average gain and loss are simple means of the first ``period`` changes; later
averages are smoothed, ``avg = (avg_prev * (period - 1) + change) / period``; ``RSI = 100 - 100 / (1 + RS)`` with
``RS = avg_gain / avg_loss``. This matches the StockCharts ChartSchool worked example and TA-Lib.

Trim limits, weights in fractions of NAV, ``w0`` the current weight:
- ``RSI >= overbought``: no adds (``w <= w0``) and the trim window
  ``(1 - max_trim) * w0 <= w <= (1 - min_trim) * w0``; when graded, min_trim rises linearly from 0 at
  ``overbought`` to ``min_trim`` at ``extreme``.
- ``RSI <= oversold`` and ``no_sell_when_oversold``: ``w >= w0``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from allocator.config.schema import RsiConfig
from allocator.domain import FloatArray, RsiRule


def wilder_rsi(closes: FloatArray, period: int = 14) -> FloatArray:
    """RSI of each column of ``closes`` (rows are days), NaN for the first ``period`` rows.

    A column with no losses over the averaging reads 100; with neither gains nor losses, 50.
    """
    closes = np.asarray(closes, dtype=np.float64)
    one_dim = closes.ndim == 1
    values = closes[:, None] if one_dim else closes
    t = values.shape[0]
    out = np.full(values.shape, np.nan)
    if t <= period:
        return out[:, 0] if one_dim else out
    change = np.diff(values, axis=0)
    gain = np.clip(change, 0.0, None)
    loss = np.clip(-change, 0.0, None)
    avg_gain = np.empty((t - period, values.shape[1]))
    avg_loss = np.empty_like(avg_gain)
    avg_gain[0] = gain[:period].mean(axis=0)
    avg_loss[0] = loss[:period].mean(axis=0)
    for row, i in enumerate(range(period, t - 1)):  # the recursion only; RSI itself is computed in one go below
        avg_gain[row + 1] = (avg_gain[row] * (period - 1) + gain[i]) / period
        avg_loss[row + 1] = (avg_loss[row] * (period - 1) + loss[i]) / period
    out[period:] = _rsi_from(avg_gain, avg_loss)
    return out[:, 0] if one_dim else out


def _rsi_from(avg_gain: FloatArray, avg_loss: FloatArray) -> FloatArray:
    with np.errstate(divide="ignore", invalid="ignore"):
        rsi = 100.0 - 100.0 / (1.0 + avg_gain / avg_loss)
    rsi = np.where(avg_loss == 0, np.where(avg_gain == 0, 50.0, 100.0), rsi)
    return np.asarray(rsi, dtype=np.float64)


@dataclass(frozen=True)
class RsiLimits:
    """Per-asset weight bounds set by the RSI rules; ``-inf``/``inf`` where no rule applies."""

    rsi: FloatArray
    lower: FloatArray
    upper: FloatArray
    rules: tuple[RsiRule, ...]

    @property
    def overbought(self) -> FloatArray:
        return np.isfinite(self.upper)


def rsi_limits(config: RsiConfig, symbols: tuple[str, ...], rsi: FloatArray, current_weight: FloatArray
               ) -> RsiLimits:
    """The trim and no-sell bounds for each asset given its latest RSI and current weight."""
    n = len(symbols)
    lower = np.full(n, -np.inf)
    upper = np.full(n, np.inf)
    rules: list[RsiRule] = []
    if not config.enabled:
        return RsiLimits(rsi=rsi, lower=lower, upper=upper, rules=())
    for i, symbol in enumerate(symbols):
        value, w0 = float(rsi[i]), float(current_weight[i])
        if not np.isfinite(value):
            continue
        if value >= config.overbought:
            min_trim = config.min_trim
            if config.graded:
                ramp = (value - config.overbought) / (config.extreme - config.overbought)
                min_trim = config.min_trim * float(np.clip(ramp, 0.0, 1.0))
            upper[i] = (1.0 - min_trim) * w0
            lower[i] = (1.0 - config.max_trim) * w0
            label = "rsi_trim" if min_trim > 0 else "rsi_no_add"
            rules.append(RsiRule(symbol, value, label, lower[i], upper[i]))
        elif value <= config.oversold and config.no_sell_when_oversold:
            lower[i] = w0
            rules.append(RsiRule(symbol, value, "rsi_no_sell", w0, None))
    return RsiLimits(rsi=rsi, lower=lower, upper=upper, rules=tuple(rules))
