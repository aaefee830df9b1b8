"""The macro series file -> short rates and inflation prints by date (``returns.macro.source: series``).

A CSV of ``date``, the short rate (``returns.macro.rate_column``, default ``short_rate``: annualized, in percent,
4.5 = 4.5%, as yields are quoted) and optionally monthly inflation (``returns.macro.inflation_column``, default
``inflation_mom``: a fraction, 0.002 = 0.2% month over month). Dates are unique and increasing; an empty cell is a
day without a print (an inflation column filled once a month beside daily rates). A bad cell is named by file, row
and column.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from allocator.config.schema import MacroConfig
from allocator.errors import DataError
from allocator.files.reading import FileLimits
from allocator.inputs.market_data import (
    DATE_NAMES,
    numeric_column,
    parse_dates,
    read_csv_table,
    refuse_unsorted_dates,
)

SHORT_RATE = "short_rate"  # percent
INFLATION = "inflation_mom"  # fraction, month over month
LARGEST_RATE = 100.0  # percent: beyond it the column is not a short rate in percent
LARGEST_INFLATION = 0.05  # fraction a month, as returns.macro.inflation_mom allows


def _column(frame: pd.DataFrame, name: str) -> str | None:
    return next((c for c in frame.columns if c.strip().lower() == name.strip().lower()), None)


def _refuse_beyond(values: pd.Series, limit: float, path: Path, column: str, why: str) -> None:
    beyond = np.abs(values.to_numpy()) > limit
    if beyond.any():
        position = int(np.flatnonzero(beyond)[0])
        raise DataError(f"{path}: row {position + 2}: {column}", f"{values.iloc[position]:g} {why}",
                        "check the column's unit (docs/method.md, \"Macro from series\")")


def read_macro_series(macro: MacroConfig, limits: FileLimits) -> pd.DataFrame:
    """The series ``macro.series`` names, indexed by date, with a ``short_rate`` column (percent) and, when the file
    has the inflation column, ``inflation_mom`` (fraction); NaN where a row has no print."""
    if macro.series is None:
        raise DataError("returns.macro.series", "no macro series file is named", "set returns.macro.series: FILE")
    path = Path(macro.series)
    if not path.exists():
        raise DataError(str(path), "the macro series file named by returns.macro.series does not exist",
                        "check the path (relative to the config that names it)")
    frame = read_csv_table(path, limits, "macro series")
    date_column = next((c for c in frame.columns if c.strip().lower() in DATE_NAMES), None)
    if date_column is None:
        raise DataError(str(path), "no date column", "name the first column 'date'")
    rate_column = _column(frame, macro.rate_column)
    if rate_column is None:
        others = ", ".join(c for c in frame.columns if c != date_column) or "none"
        raise DataError(str(path), f"no short-rate column {macro.rate_column!r} (returns.macro.rate_column)",
                        f"name the column {macro.rate_column!r} or set returns.macro.rate_column to one of: {others}")
    if frame.empty:
        raise DataError(str(path), "no rows", "give at least one date with a short rate")
    dates = parse_dates(frame[date_column], path, date_column)
    refuse_unsorted_dates(dates, path, date_column)
    series = {SHORT_RATE: numeric_column(frame, rate_column, path, allow_missing=True).to_numpy()}
    _refuse_beyond(pd.Series(series[SHORT_RATE]), LARGEST_RATE, path, rate_column,
                   "is not a short rate in percent (4.5 = 4.5% a year)")
    inflation_column = _column(frame, macro.inflation_column)
    if inflation_column is not None:
        series[INFLATION] = numeric_column(frame, inflation_column, path, allow_missing=True).to_numpy()
        _refuse_beyond(pd.Series(series[INFLATION]), LARGEST_INFLATION, path, inflation_column,
                       "is not a monthly inflation fraction (0.002 = 0.2% month over month)")
    return pd.DataFrame(series, index=pd.DatetimeIndex(dates, name="date"))
