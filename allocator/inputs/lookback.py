"""How many closes a run's price window holds: ``risk.lookback_days`` daily returns plus one, or, with
``lookback_days: all``, every close since the first date on which every asset of the universe has one (the longest
history the covariance can be estimated on without gaps), up to the as-of date."""

from __future__ import annotations

import numpy as np
import pandas as pd

from allocator.config.schema import Lookback
from allocator.errors import DataError

MIN_RETURNS = 30  # the least ``risk.lookback_days`` accepts, and so the least ``all`` may give


def lookback_rows(prices: pd.DataFrame, symbols: tuple[str, ...], lookback: int | Lookback,
                  as_of: pd.Timestamp | None, source: str) -> int:
    """The closes the window needs for ``lookback`` daily returns: ``lookback + 1``, or for ``all`` the closes from
    the latest first close among ``symbols`` to ``as_of`` (symbols without prices are left to ``price_window`` to
    name)."""
    if not isinstance(lookback, Lookback):
        return lookback + 1
    frame = prices.loc[:, [s for s in symbols if s in prices.columns]]
    if as_of is not None:
        frame = frame.loc[frame.index <= as_of]
    valid = frame.notna().to_numpy()
    if not valid.any():
        return MIN_RETURNS + 1  # no closes at all: price_window says so
    first = np.where(valid.any(axis=0), valid.argmax(axis=0), -1)  # each symbol's first close (-1: none, left to
    latest = int(np.argmax(first))                                   # price_window's gap rules)
    symbol, rows = frame.columns[latest], len(frame) - int(first[latest])
    if rows < MIN_RETURNS + 1:
        raise DataError(source, f"risk.lookback_days: all gives {rows - 1} daily returns: every asset has a close "
                        f"only since {frame.index[int(first[latest])].date()}, when {symbol} starts",
                        f"give a longer history (at least {MIN_RETURNS + 1} closes), or leave {symbol} out of the "
                        "universe")
    return rows
