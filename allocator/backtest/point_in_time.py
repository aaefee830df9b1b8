"""Point-in-time inputs: at each date the backtest sees only what was known on it.

``MarketHistory`` holds the whole price history, the fundamentals history and the cash rate series once, and hands
each rebalance its view as of a date: closes up to that date (``prices_until``), each symbol's last fundamentals
row dated at or before it (``fundamentals_at``), the last short rate published by then (``cash_rate_on``), and
with ``returns.macro.source: series`` the macro series' rows dated on or before it (``macro_until``). A
fundamentals snapshot (no date column) would show every date what was known only when it was taken, so it is
refused unless ``backtest.static_fundamentals: true``; the look-ahead is then named in every output
(``LOOK_AHEAD_STATIC``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from allocator.config.loader import LoadedConfig
from allocator.config.schema import CashRateConfig, MacroSource, RateUnit
from allocator.errors import ConfigError, DataError
from allocator.files.reading import FileLimits
from allocator.inputs.fundamentals_history import FundamentalsHistory, read_fundamentals_history
from allocator.inputs.macro_series import read_macro_series
from allocator.inputs.market_data import (
    DATE_NAMES,
    numeric_column,
    parse_dates,
    read_csv_table,
    read_prices,
    refuse_unsorted_dates,
)

LOOK_AHEAD_STATIC = "look-ahead: static fundamentals"
RATE_DAYS = 252  # sessions a year: cash earns rate / 252 a session


@dataclass(frozen=True)
class MarketHistory:
    """Every input of a backtest, read once: daily closes (one column a symbol), fundamentals by date, the
    annualized short rate (decimal) by date, or None when cash earns nothing, and the macro series
    (``allocator.inputs.macro_series``), or None when the regime is the config's."""

    prices: pd.DataFrame
    fundamentals: FundamentalsHistory
    cash_rate: pd.Series | None = None
    macro: pd.DataFrame | None = None

    @property
    def look_ahead(self) -> tuple[str, ...]:
        """The look-aheads the inputs carry, as named in every output's header."""
        return (LOOK_AHEAD_STATIC,) if self.fundamentals.static else ()

    def prices_until(self, day: pd.Timestamp) -> pd.DataFrame:
        """The closes dated on or before ``day``."""
        end = int(self.prices.index.searchsorted(day, side="right"))
        return self.prices.iloc[:end]

    def fundamentals_at(self, day: pd.Timestamp) -> pd.DataFrame:
        """Each symbol's last fundamentals row dated on or before ``day``."""
        return self.fundamentals.as_of(day)

    def macro_until(self, day: pd.Timestamp) -> pd.DataFrame | None:
        """The macro series' rows dated on or before ``day`` (None without a series)."""
        if self.macro is None:
            return None
        return self.macro.iloc[:int(self.macro.index.searchsorted(day, side="right"))]

    def cash_rate_on(self, day: pd.Timestamp) -> float:
        """The annualized short rate (decimal) last published on or before ``day``; 0.0 without a series or
        before its first date."""
        if self.cash_rate is None:
            return 0.0
        position = int(self.cash_rate.index.searchsorted(day, side="right")) - 1
        return float(self.cash_rate.iloc[position]) if position >= 0 else 0.0


def read_cash_rate(config: CashRateConfig, limits: FileLimits) -> pd.Series:
    """The rate column of ``config.file`` by date, annualized decimal (gaps carry the last rate forward)."""
    path = Path(config.file)
    if not path.exists():
        raise DataError(str(path), "the cash rate file named by backtest.cash_rate.file does not exist",
                        "check the path (relative to the config that names it)")
    frame = read_csv_table(path, limits, "cash rate file")
    date_column = next((c for c in frame.columns if c.lower() in DATE_NAMES), None)
    if date_column is None:
        raise DataError(str(path), "no date column", "name the first column 'date'")
    column = next((c for c in frame.columns if c.lower() == config.column.lower()), None)
    if column is None:
        raise ConfigError("backtest.cash_rate.column", f"{config.column!r} is not a column of {path}",
                          f"use one of {', '.join(c for c in frame.columns if c != date_column)}")
    dates = parse_dates(frame[date_column], path, date_column)
    refuse_unsorted_dates(dates, path, date_column)
    rates = numeric_column(frame, column, path, allow_missing=True).to_numpy()
    scale = 0.01 if config.unit is RateUnit.PERCENT else 1.0
    found = pd.Series(rates * scale, index=dates, name="cash_rate").ffill()
    too_large = np.abs(found.to_numpy()) > 1.0
    if too_large.any():
        position = int(np.flatnonzero(too_large)[0])
        raise DataError(f"{path}: row {position + 2}: {column}", f"a rate of {found.iloc[position]:.4g} a year",
                        "check backtest.cash_rate.unit (percent or decimal)")
    return found.dropna()


def read_market_history(loaded: LoadedConfig) -> MarketHistory:
    """Read the prices, the fundamentals history and the cash rate the config names; a fundamentals snapshot is
    refused unless ``backtest.static_fundamentals: true``."""
    cfg = loaded.config
    limits = FileLimits.from_megabytes(cfg.data.max_file_mb, cfg.data.max_rows)
    for key, path in (("data.prices", cfg.data.prices), ("data.fundamentals", cfg.data.fundamentals)):
        if not Path(path).exists():
            raise DataError(str(path), f"the file named by {key} does not exist",
                            f"check {key} in {loaded.path} (relative to the config that names it)")
    fundamentals = read_fundamentals_history(cfg.data.fundamentals, limits, cfg.data.fundamentals_columns)
    if fundamentals.static and not cfg.backtest.static_fundamentals:
        raise DataError(str(cfg.data.fundamentals), "a fundamentals snapshot (no date column) would show every "
                        "date of the backtest what was known only when it was taken (look-ahead)",
                        "give a history of date, symbol, fields..., or set backtest.static_fundamentals: true to "
                        "accept the look-ahead (named in every output)")
    rate = read_cash_rate(cfg.backtest.cash_rate, limits) if cfg.backtest.cash_rate is not None else None
    macro = (read_macro_series(cfg.returns.macro, limits) if cfg.returns.macro.source is MacroSource.SERIES
             else None)
    return MarketHistory(prices=read_prices(cfg.data.prices, limits), fundamentals=fundamentals, cash_rate=rate,
                         macro=macro)
