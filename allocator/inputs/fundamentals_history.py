"""Read fundamentals as a point-in-time history: a long file of ``date, symbol, fields...``.

Each row is what was known about a symbol from its date on; ``FundamentalsHistory.as_of(day)`` gives, per symbol,
its last row dated at or before ``day``, as the snapshot ``read_fundamentals`` reads (the same columns, checks and
row-numbered errors). A file without a date column is a snapshot, known only as of the day it was taken.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from allocator.config.schema import FundamentalsColumns
from allocator.errors import DataError
from allocator.files.reading import FileLimits
from allocator.inputs.column_map import mapped_columns
from allocator.inputs.market_data import DATE_NAMES, fundamentals_table, parse_dates, read_csv_table


@dataclass(frozen=True)
class FundamentalsHistory:
    """Fundamentals rows by date (``dates`` aligned with ``rows``, which is indexed by symbol, file order).

    ``static`` marks a snapshot (a file without a date column) standing for every date: a look-ahead, since a
    snapshot holds what was known when it was taken."""

    rows: pd.DataFrame
    dates: pd.DatetimeIndex
    source: str
    static: bool = False

    def as_of(self, day: pd.Timestamp) -> pd.DataFrame:
        """Each symbol's last row dated at or before ``day``; ``DataError`` when no row is that old."""
        known = np.asarray(self.dates <= day)
        if not known.any():
            raise DataError(self.source, f"no fundamentals dated on or before {day.date()}",
                            "start the backtest later, or give older rows")
        rows = self.rows.loc[known]
        order = np.argsort(self.dates[known].to_numpy(), kind="stable")
        latest = rows.iloc[order]
        return latest.loc[~latest.index.duplicated(keep="last")].sort_index(kind="stable")


def read_fundamentals_history(path: str | Path, limits: FileLimits | None = None,
                              columns: FundamentalsColumns | None = None) -> FundamentalsHistory:
    """The long fundamentals file at ``path`` (see the module docstring); a symbol on two rows of one date is
    refused with its row. A snapshot (no date column) is read as a ``static`` history dated at the first
    representable day, so that every date sees it."""
    path = Path(path)
    limits = limits or FileLimits()
    frame = read_csv_table(path, limits, "fundamentals file")
    date_column = next((c for c in frame.columns if c.strip().lower() in DATE_NAMES), None)
    if date_column is None:
        rows = fundamentals_table(mapped_columns(frame, columns.mapping() if columns else {}, path,
                                                 "data.fundamentals_columns"), path)
        return FundamentalsHistory(rows=rows, dates=pd.DatetimeIndex([pd.Timestamp(1678, 1, 1)] * len(rows)),
                                   source=str(path), static=True)
    if frame.empty:
        raise DataError(str(path), "the fundamentals file has a header but no rows", "add dated rows")
    dates = parse_dates(frame[date_column], path, date_column)
    rows = fundamentals_table(mapped_columns(frame.drop(columns=[date_column]), columns.mapping() if columns else {},
                                             path, "data.fundamentals_columns"), path, unique=False)
    twice = pd.Series(list(zip(dates, rows.index, strict=True))).duplicated().to_numpy()
    if twice.any():
        position = int(np.flatnonzero(twice)[0])
        raise DataError(f"{path}: row {position + 2}: symbol",
                        f"{rows.index[position]} has two rows dated {dates[position].date()}",
                        "keep one row per symbol and date")
    return FundamentalsHistory(rows=rows, dates=dates, source=str(path))
