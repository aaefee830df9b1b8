"""Closes up to the as-of date -> the raw price signals, point in time by construction.

Each signal reads only the closes dated on or before the as-of date (the last row of ``closes``; ``docs/method.md``,
"Price signals"). With ``t`` the as-of session and ``P[t - k]`` the close ``k`` sessions before it (the last close
at or before that session: a missing day carries the close before it):
- ``momentum = P[t - 21] / P[t - 252] - 1``: the 12-1 month return, skipping the last month (short-term reversal);
- ``low_volatility = -std(r) * sqrt(252)``: minus the annualized volatility (population standard deviation) of the
  last 252 daily returns ``r``: calm assets score high;
- ``reversal = -(P[t - 252] / P[t - 1260] - 1)``: minus the 5-year return that ends a year before the date (the
  long-term reversal of De Bondt and Thaler, months 60 to 13 as in Fama and French's factor): long losers score
  high.

An asset whose history does not reach back far enough (fewer than ``SESSIONS_NEEDED[k]`` closes up to the date, or
no close that many sessions back) has no value (NaN): it scores 0 and is named in a warning.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from allocator.config.schema import PRICE_SIGNALS
from allocator.domain import FloatArray

YEAR = 252  # sessions a year
MONTH = 21  # sessions a month
MOMENTUM_FROM, MOMENTUM_TO = YEAR, MONTH
VOLATILITY_DAYS = YEAR
REVERSAL_FROM, REVERSAL_TO = 5 * YEAR, YEAR
SESSIONS_NEEDED = {"momentum": MOMENTUM_FROM + 1, "low_volatility": VOLATILITY_DAYS + 1,
                   "reversal": REVERSAL_FROM + 1}  # closes up to and including the as-of date


def period_return(closes: FloatArray, start: int, end: int) -> FloatArray:
    """``closes[-1 - end] / closes[-1 - start] - 1`` per column: the return from ``start`` to ``end`` sessions
    before the last row (NaN where either close is missing or not positive, or the history is shorter)."""
    if closes.shape[0] <= start:
        return np.full(closes.shape[1], np.nan)
    first, last = closes[-1 - start], closes[-1 - end]
    with np.errstate(divide="ignore", invalid="ignore"):
        result: FloatArray = np.where((first > 0) & (last > 0), last / first - 1.0, np.nan)
    return result


BLOCK_SYMBOLS = 1_000  # symbols whose closes are filled and scored together (memory: a block, not the universe)


def trailing_volatility(closes: FloatArray, days: int) -> FloatArray:
    """The annualized volatility (population standard deviation times sqrt(252)) of the last ``days`` daily
    returns per column; NaN where a close of the span is missing or the history is shorter."""
    if closes.shape[0] <= days:
        return np.full(closes.shape[1], np.nan)
    span = closes[-1 - days:]
    with np.errstate(divide="ignore", invalid="ignore"):
        returns = span[1:] / span[:-1] - 1.0
    usable = np.isfinite(returns).all(axis=0) & (span > 0).all(axis=0)
    result: FloatArray = np.where(usable, np.nan_to_num(returns).std(axis=0) * np.sqrt(YEAR), np.nan)
    return result


def price_signals(closes: pd.DataFrame, symbols: tuple[str, ...]) -> dict[str, FloatArray]:
    """The raw ``momentum``, ``low_volatility`` and ``reversal`` of each symbol from ``closes`` (one column a
    symbol, rows up to and including the as-of date), NaN where the history is too short."""
    tail = closes.iloc[-(REVERSAL_FROM + 1):]
    parts: dict[str, list[FloatArray]] = {k: [] for k in PRICE_SIGNALS}
    for start in range(0, max(len(symbols), 1), BLOCK_SYMBOLS):  # every step is per column: a block at a time
        values = tail.reindex(columns=list(symbols[start:start + BLOCK_SYMBOLS])).ffill().to_numpy(dtype=np.float64)
        parts["momentum"].append(period_return(values, MOMENTUM_FROM, MOMENTUM_TO))
        parts["low_volatility"].append(-trailing_volatility(values, VOLATILITY_DAYS))
        parts["reversal"].append(-period_return(values, REVERSAL_FROM, REVERSAL_TO))
    return {k: np.concatenate(parts[k]) for k in PRICE_SIGNALS}
