"""Read and validate price histories and the fundamentals snapshot.

Prices are daily closes in a CSV or Parquet file, wide (``date`` then one column per symbol) or long
(``date,symbol,close``; the symbol column may be called ``ticker``, ``sym`` or ``security``). Dates must
be unique and increasing; closes positive and finite. Empty cells are gaps: a fund's history may start late,
and short gaps are forward-filled (``data.max_fill_days``) when the window for a run is cut.
"""

from __future__ import annotations

import csv
import difflib
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from allocator.config.schema import FundamentalsColumns
from allocator.errors import DataError
from allocator.files.cells import canonical_symbol, is_ticker
from allocator.files.reading import (
    SEPARATOR_NAMES,
    FileLimits,
    check_file,
    csv_separator,
    mixed_separator,
    text_encoding,
)
from allocator.inputs.column_map import mapped_columns
from allocator.inputs.price_files import (
    LARGEST_CLOSE,
    PriceTable,
    csv_price_table,
    is_parquet,
    parquet_price_table,
    plain_closes,
)
from allocator.terms import ASSET_CLASSES, SIZE_BUCKETS

SYMBOL_NAMES = ("symbol", "ticker", "sym", "security")  # the symbol column of a long price file
DATE_NAMES = ("date", "datetime", "timestamp", "time", "day")
CLOSE_NAMES = ("adj_close", "adjclose", "adj close", "adjusted_close", "close", "price")
FUNDAMENTAL_NUMBERS = ("market_cap", "forward_pe", "benchmark_weight")
# optional: read only when present (a signal without its column is off; allocator.model.signals says so)
OPTIONAL_NUMBERS = ("eps_growth", "revenue_growth", "roe", "gross_profitability", "debt_to_equity")
FUNDAMENTAL_REQUIRED = ("market_cap", "forward_pe", "sector")
MIN_PE = 0.1  # no fund trades at a tenth of a year's earnings


@dataclass(frozen=True)
class PriceWindow:
    """Closes for a run: the last ``lookback + 1`` rows up to the as-of date, gaps filled, one column a symbol.

    ``last_row()`` keeps only the last row of ``closes`` once the model has read them; ``sessions`` still counts
    the window's rows."""

    closes: pd.DataFrame
    as_of: pd.Timestamp
    warnings: tuple[str, ...] = ()
    rows: int | None = None  # the window's rows when ``closes`` was cut to its last (``last_row``)

    @property
    def sessions(self) -> int:
        """The closes (rows) of the window."""
        return len(self.closes) if self.rows is None else self.rows

    def last_row(self) -> PriceWindow:
        """This window with a copy of its last row of closes alone: a run holds no more once its model is computed,
        and a large universe's closes are its largest array (116 MB at 20,000 symbols, held through the solve)."""
        return replace(self, closes=self.closes.iloc[-1:].copy(), rows=self.sessions)

    def daily_returns(self) -> np.ndarray:
        if self.rows is not None:
            raise ValueError("the window's closes were cut to their last row (PriceWindow.last_row)")
        values = self.closes.to_numpy(dtype=np.float64)
        out: np.ndarray = np.divide(values[1:], values[:-1], out=np.empty((len(values) - 1, values.shape[1])))
        out -= 1.0  # in place: one array of returns is allocated, not two; rows contiguous whatever the layout
        return out


def read_csv_table(path: Path, limits: FileLimits, what: str) -> pd.DataFrame:
    """The table of a CSV file, every cell as text: UTF-8, UTF-16 (by its byte-order mark) or Windows-1252 (what
    spreadsheets on Windows save, tried when the bytes are not UTF-8)."""
    check_file(path, limits.max_bytes, what)
    encoding = text_encoding(path)
    separator = _separator(path, encoding)
    try:
        frame = _pandas_table(path, encoding, separator, limits, what)
    except UnicodeError:
        if encoding != "utf-8-sig":
            raise DataError(str(path), f"the {what} is not UTF-16 text although it starts like it",
                            "export it as CSV in UTF-8") from None
        encoding = "cp1252"
        separator = _separator(path, encoding)
        try:
            frame = _pandas_table(path, encoding, separator, limits, what)
        except UnicodeError as exc:
            raise DataError(str(path), f"the {what} is not text in UTF-8, UTF-16 or Windows-1252 ({exc})",
                            "export it as CSV in UTF-8") from None
    if len(frame) > limits.max_rows:
        raise DataError(str(path), f"more than {limits.max_rows:,} rows", "raise data.max_rows if genuine")
    header = _check_row_lengths(path, encoding, separator)
    counts = Counter(c.strip().upper() for c in header)
    duplicated = sorted(name for name, count in counts.items() if count > 1)
    if duplicated:
        raise DataError(str(path), f"column {duplicated[0]} appears twice in the header",
                        "keep one column per name")
    frame.columns = [str(c).strip() for c in header] if len(header) == frame.shape[1] else [
        str(c).strip() for c in frame.columns]
    return frame


def _separator(path: Path, encoding: str) -> str:
    """The column separator of the CSV file at ``path`` (``csv_separator`` on its first 64 KiB); a header written
    with another separator than the rows is refused (it would read as one column)."""
    with path.open(encoding=encoding, newline="", errors="replace") as handle:
        head = handle.read(1 << 16)
    separator = csv_separator(head)
    other = mixed_separator(head, separator)
    if other:
        raise DataError(f"{path}: row 1", f"the header is separated by {SEPARATOR_NAMES[other]} but the rows by "
                        f"{SEPARATOR_NAMES[separator]}", "use one separator throughout the file")
    return separator


def _pandas_table(path: Path, encoding: str, separator: str, limits: FileLimits, what: str) -> pd.DataFrame:
    """pandas' C reader on ``path`` in ``encoding``; raises ``UnicodeError`` for bytes the encoding cannot read."""
    try:
        return pd.read_csv(path, encoding=encoding, sep=separator, dtype=str, keep_default_na=False,
                           skipinitialspace=True, nrows=limits.max_rows + 1)
    except pd.errors.EmptyDataError:
        raise DataError(str(path), f"the {what} is empty", "give a header row and data rows") from None
    except pd.errors.ParserError as exc:
        raise DataError(str(path), f"cannot parse the {what} as CSV: {str(exc).strip()}",
                        "check the delimiter and quoting") from None


def _check_row_lengths(path: Path, encoding: str = "utf-8-sig", separator: str = ",") -> list[str]:
    """The header row as written, after checking that no row is shorter than it.

    pandas reads the missing cells of a truncated row as empty (no close), and renames a repeated column ``SPY``
    to ``SPY.1``: both would hide a damaged file.
    """
    with path.open(encoding=encoding, newline="", errors="replace") as handle:
        reader = csv.reader(handle, delimiter=separator)
        try:
            header = next(reader, [])
            for number, row in enumerate(reader, start=2):
                if row and len(row) < len(header):
                    raise DataError(f"{path}: row {number}", f"{len(row)} cells but the header has {len(header)} "
                                    "columns (a truncated row?)",
                                    "give every column of the row, leaving a cell empty for no value")
        except csv.Error as exc:
            raise DataError(f"{path}: row {reader.line_num}", f"cannot read the row as CSV ({exc})",
                            "check the quoting and the delimiter") from None
    return header


_PLAIN_CHARACTERS = frozenset("0123456789.+-eE")


LARGEST_NUMBER = LARGEST_CLOSE  # 1e15: no close, market cap (USD), P/E or growth rate a run can use is this large


def _plain_numbers(frame: pd.DataFrame, columns: list[str]) -> np.ndarray | None:
    """The columns as one float array (NaN for empty cells) when every cell is a plain decimal or empty; else None.

    The fast path for a large price file: one vectorized conversion instead of a parse per column. Anything else
    (spaces, ``n/a``, ``inf``, text) returns None so that ``numeric_column`` names the offending cell.
    """
    text = frame[columns].to_numpy(dtype=object).ravel()
    present = text != ""
    numbers = text[present]
    if not set("".join(numbers)) <= _PLAIN_CHARACTERS:
        return None
    out = np.full(text.shape, np.nan)
    try:
        out[present] = numbers.astype(np.float64)
    except ValueError:
        return None
    if not plain_closes(out):  # 1e400 reads as inf: let numeric_column name it
        return None
    return out.reshape(len(frame), len(columns))


def numeric_column(frame: pd.DataFrame, column: str, path: Path, allow_missing: bool) -> pd.Series:
    """Parse one text column to floats, naming the first bad row (file line numbers, header = 1)."""
    text = frame[column].astype(str).str.strip()
    missing = text.str.lower().isin(["", "nan", "na", "n/a", "null", "none", "--"])
    values = pd.to_numeric(text.where(~missing, None), errors="coerce").astype(np.float64)
    spelled_infinite = text.str.lower().str.lstrip("+-").isin(["inf", "infinity"])
    bad = (~missing) & (values.isna() | spelled_infinite)  # 1e400 parses as infinite: out of range, below
    if bad.any():
        position = int(np.flatnonzero(bad.to_numpy())[0])
        cell = str(text.iloc[position])
        comma = " (a decimal comma?)" if re.fullmatch(r"[+-]?\d*,\d+", cell) else ""
        raise DataError(f"{path}: row {position + 2}: {column}", f"not a number: {cell!r}{comma}",
                        "give a plain decimal number with a decimal point, or leave the cell empty")
    huge = (~missing) & (values.abs() > LARGEST_NUMBER)
    if huge.any():
        position = int(np.flatnonzero(huge.to_numpy())[0])
        raise DataError(f"{path}: row {position + 2}: {column}", f"{text.iloc[position]} is out of range (beyond "
                        f"{LARGEST_NUMBER:.0e}; a placeholder such as 1.797e308, a data feed's 'unset'?)",
                        "leave the cell empty for missing data, or give the real value")
    if not allow_missing and missing.any():
        position = int(np.flatnonzero(missing.to_numpy())[0])
        raise DataError(f"{path}: row {position + 2}: {column}", "missing value", "fill in the value")
    return values


class TextPriceTable:
    """A price file read as text by ``read_csv_table``: the careful reader, which names the file, row and column of a
    bad cell."""

    def __init__(self, frame: pd.DataFrame) -> None:
        self.frame = frame

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(str(c) for c in self.frame.columns)

    @property
    def rows(self) -> int:
        return len(self.frame)

    def column(self, name: str) -> pd.Series:
        return self.frame[name]

    def numbers(self, names: list[str]) -> np.ndarray | None:
        return _plain_numbers(self.frame, names)


def read_prices(path: str | Path, limits: FileLimits | None = None) -> pd.DataFrame:
    """Daily closes indexed by date (increasing), one float column per symbol, NaN where there is no close.

    A CSV file is read in C (``allocator.inputs.price_files``) and, only when that finds something wrong, again
    as text by the careful reader, whose error names the file, row and column; a ``.parquet`` file through pyarrow.
    """
    path = Path(path)
    limits = limits or FileLimits()
    if is_parquet(path):
        table = parquet_price_table(path, limits)
        try:
            return _prices(table, path)
        finally:
            table.release()
    check_file(path, limits.max_bytes, "price file")
    fast = csv_price_table(path, limits, _text_columns)
    if fast is not None:
        try:
            return _prices(fast, path)
        except DataError:
            pass  # the careful reader below finds the problem again and names its cell
        finally:
            fast.release()
    return read_prices_as_text(path, limits)


def read_prices_as_text(path: str | Path, limits: FileLimits | None = None) -> pd.DataFrame:
    """``read_prices`` of a CSV file by the careful reader alone: every cell read as text (UTF-8, UTF-16 or
    Windows-1252), so that an error names the file, row and column of the cell. ``read_prices`` gives the same."""
    path = Path(path)
    return _prices(TextPriceTable(read_csv_table(path, limits or FileLimits(), "price file")), path)


def _text_columns(names: list[str]) -> set[str]:
    """The columns of a price file kept as text: the date (wide layout), or all but the close (long layout)."""
    lower = {name.lower(): name for name in names}
    if any(n in lower for n in SYMBOL_NAMES):
        close = next((lower[n] for n in CLOSE_NAMES if n in lower), None)
        return {name for name in names if name != close}
    return {lower[n] for n in DATE_NAMES if n in lower}


def _prices(table: PriceTable, path: Path) -> pd.DataFrame:
    lower = {c.lower(): c for c in table.columns}
    date_col = next((lower[n] for n in DATE_NAMES if n in lower), None)
    if date_col is None:
        raise DataError(str(path), f"no date column (columns: {', '.join(table.columns[:8])})",
                        "name the first column 'date'")
    if table.rows == 0:
        raise DataError(str(path), "the price file has a header but no rows", "add daily closes")
    sym_col = next((lower[n] for n in SYMBOL_NAMES if n in lower), None)
    if sym_col is not None:
        close_col = next((lower[n] for n in CLOSE_NAMES if n in lower), None)
        if close_col is None:
            raise DataError(str(path), "long price file without a close column",
                            "give columns date,symbol,close (or adj_close)")
        frame = _long_to_wide(table, path, date_col, sym_col, close_col)
    else:
        frame = _wide(table, path, date_col)
    if frame.shape[1] == 0:
        raise DataError(str(path), "no symbol columns", "give one column of closes per symbol after 'date'")
    return frame


ISO_DATE_TIME = r"\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?"


def _numbers(table: PriceTable, columns: list[str], path: Path) -> np.ndarray:
    """The columns as floats (rows x columns, NaN where empty); a bad cell is named by ``numeric_column``."""
    values = table.numbers(columns)
    if values is None:  # something other than plain decimals and empty cells: parse each column for its error
        values = np.empty((table.rows, len(columns)))
        for j, c in enumerate(columns):
            values[:, j] = numeric_column(pd.DataFrame({c: table.column(c)}), c, path, allow_missing=True)
    return values


def parse_dates(text: pd.Series, path: Path, column: str) -> pd.DatetimeIndex:
    """ISO dates, YYYY-MM-DD (a time or a UTC offset may follow; the local calendar date is kept) and nothing else,
    or datetimes as a Parquet file holds them. Each distinct text is parsed once (a long price file repeats every
    date per symbol)."""
    if pd.api.types.is_datetime64_any_dtype(text.dtype):
        dates = text
    else:
        codes, distinct = pd.factorize(text.astype(str).str.strip())
        unlike = ~pd.Series(distinct, dtype=object).str.fullmatch(ISO_DATE_TIME).to_numpy(dtype=bool)
        if unlike.any():  # pandas' own ISO reader would also take today, now and 20250901
            position = int(np.flatnonzero(unlike[codes])[0])
            raise DataError(f"{path}: row {position + 2}: {column}", f"not a date: {text.iloc[position]!r}",
                            "write dates as YYYY-MM-DD")
        dates = pd.Series(_iso_dates(pd.Series(distinct, dtype=object)).to_numpy()[codes])
    if getattr(dates.dt, "tz", None) is not None:
        dates = dates.dt.tz_localize(None)
    if dates.isna().any():
        position = int(np.flatnonzero(dates.isna().to_numpy())[0])
        raise DataError(f"{path}: row {position + 2}: {column}", f"not a date: {text.iloc[position]!r}",
                        "write dates as YYYY-MM-DD")
    return pd.DatetimeIndex(dates).normalize()


def refuse_unsorted_dates(dates: pd.DatetimeIndex, path: Path, column: str) -> None:
    """Refuse a series file whose dates are not unique and increasing, naming the first row out of order."""
    repeated = dates.duplicated() | (dates.to_series().diff() < pd.Timedelta(0)).to_numpy()
    if repeated.any():
        position = int(np.flatnonzero(repeated)[0])
        raise DataError(f"{path}: row {position + 2}: {column}",
                        f"{dates[position].date()} is not after the date above it", "sort the file by date, once each")


def _iso_dates(cleaned: pd.Series) -> pd.Series:
    """Timestamps of ISO texts (NaT where not a date), each in its own offset's local time, without a zone."""
    try:
        dates = pd.to_datetime(cleaned, errors="coerce", format="ISO8601")
    except (ValueError, TypeError):  # offsets that differ from row to row
        dates = pd.Series([pd.to_datetime(v, errors="coerce", format="ISO8601") for v in cleaned], dtype=object)
        dates = pd.to_datetime(pd.Series([d.tz_localize(None) if isinstance(d, pd.Timestamp) and d.tzinfo else d
                                          for d in dates]), errors="coerce")
    if getattr(dates.dt, "tz", None) is not None:
        dates = dates.dt.tz_localize(None)
    return dates


def _check_order(dates: pd.DatetimeIndex, path: Path, column: str) -> None:
    values = dates.to_numpy()
    steps = values[1:] - values[:-1]
    if len(steps) and (steps <= np.timedelta64(0, "ns")).any():
        position = int(np.flatnonzero(steps <= np.timedelta64(0, "ns"))[0]) + 1
        kind = "duplicated" if steps[position - 1] == np.timedelta64(0, "ns") else "out of order"
        raise DataError(f"{path}: row {position + 2}: {column}",
                        f"date {dates[position].date()} is {kind} (previous row {dates[position - 1].date()})",
                        "dates must be unique and increasing")


def _check_closes(frame: pd.DataFrame, path: Path, line_of: np.ndarray) -> None:
    values = frame.to_numpy(dtype=np.float64)
    bad = np.isfinite(values) & (values <= 0)
    if bad.any():
        row, col = (int(i[0]) for i in np.nonzero(bad))
        raise DataError(f"{path}: row {int(line_of[row])}: {frame.columns[col]}",
                        f"close {values[row, col]:g} is not positive", "prices must be positive")


def _wide(table: PriceTable, path: Path, date_col: str) -> pd.DataFrame:
    dates = parse_dates(table.column(date_col), path, date_col)
    _check_order(dates, path, date_col)
    columns = [c for c in table.columns if c != date_col]
    seen: set[str] = set()
    for c in columns:
        if not c or c.lower().startswith("unnamed"):
            raise DataError(str(path), "a price column has no symbol in the header", "name every column")
        if not is_ticker(c):
            raise DataError(str(path), f"column {c!r} is not a ticker",
                            "name each column after 'date' by its symbol (letters, digits and . - / ^)")
        if canonical_symbol(c) in seen:
            raise DataError(str(path), f"symbol {c} appears in two columns (as {canonical_symbol(c)})",
                            "keep one column per symbol")
        seen.add(canonical_symbol(c))
    # the closes are the frame's block as they are (no copy: a price matrix of 20,000 symbols is 116 MB)
    wide = pd.DataFrame(_numbers(table, columns, path), index=dates, columns=[canonical_symbol(c) for c in columns],
                        copy=False)
    wide.index.name = "date"
    _check_closes(wide, path, np.arange(len(wide)) + 2)
    return wide


def canonical_symbols(text: pd.Series) -> pd.Series:
    """``canonical_symbol`` of each cell, computed once per distinct spelling."""
    codes, distinct = pd.factorize(text.astype(str))
    spelled = np.array([canonical_symbol(str(s)) for s in distinct] or [""], dtype=object)
    return pd.Series(spelled[codes], index=text.index, dtype=object)


def _check_symbols(symbols: pd.Series, path: Path, column: str) -> None:
    """Every symbol is a ticker (not empty, not a formula or a sentence); each distinct symbol checked once."""
    codes, distinct = pd.factorize(symbols.astype(str))
    bad = ~np.array([is_ticker(str(s)) for s in distinct] or [True], dtype=bool)[codes]
    if bad.any():
        position = int(np.flatnonzero(bad)[0])
        value = symbols.iloc[position]
        raise DataError(f"{path}: row {position + 2}: {column}",
                        f"{value!r} is not a ticker" if value else "empty symbol",
                        "give the symbol of every row (letters, digits and . - / ^)")


def _long_to_wide(table: PriceTable, path: Path, date_col: str, sym_col: str, close_col: str) -> pd.DataFrame:
    dates = parse_dates(table.column(date_col), path, date_col)
    symbols = canonical_symbols(table.column(sym_col))
    _check_symbols(symbols, path, sym_col)
    closes = _numbers(table, [close_col], path)[:, 0]
    long = pd.DataFrame({"date": dates, "symbol": symbols.to_numpy(), "close": closes,
                         "line": np.arange(table.rows) + 2})
    duplicated = long.duplicated(["date", "symbol"])
    if duplicated.any():
        position = int(np.flatnonzero(duplicated.to_numpy())[0])
        raise DataError(f"{path}: row {position + 2}: {date_col}",
                        f"duplicate close for {long['symbol'].iloc[position]} on "
                        f"{long['date'].iloc[position].date()}", "keep one close per symbol and date")
    # each symbol's rows in file order, symbols in order of first appearance: the first step back in time
    codes = pd.factorize(long["symbol"])[0]
    order = np.argsort(codes, kind="stable")
    day = long["date"].to_numpy()[order]
    back = (codes[order][1:] == codes[order][:-1]) & (day[1:] < day[:-1])
    if back.any():
        row = int(order[int(np.flatnonzero(back)[0]) + 1])
        raise DataError(f"{path}: row {row + 2}: {date_col}",
                        f"dates of {long['symbol'].iloc[row]} are out of order", "sort by date")
    bad_close = np.isfinite(long["close"].to_numpy()) & (long["close"].to_numpy() <= 0)
    if bad_close.any():
        position = int(np.flatnonzero(bad_close)[0])
        raise DataError(f"{path}: row {position + 2}: {close_col}",
                        f"close {long['close'].iloc[position]:g} is not positive", "prices must be positive")
    wide = long.pivot(index="date", columns="symbol", values="close").sort_index()
    wide.columns = [str(c) for c in wide.columns]
    wide.index.name = "date"
    return wide.astype(np.float64)


def price_window(
    prices: pd.DataFrame,
    symbols: tuple[str, ...],
    rows_needed: int,
    max_fill_days: int,
    exclude_gaps: bool,
    source: str,
    as_of: pd.Timestamp | None = None,
    refuse_splits: bool = True,
) -> tuple[PriceWindow, tuple[str, ...]]:
    """Cut the last ``rows_needed`` closes up to ``as_of`` for ``symbols``; fill short gaps.

    A one-day move that looks like an unadjusted split (``split_like_moves``) is refused (``refuse_splits``) or
    named in a warning: read as a crash it would inflate volatility, expected return and RSI and reverse trades.

    Returns the window and the symbols excluded for gaps (only when ``exclude_gaps``). Raises ``DataError`` for a
    missing symbol, a history shorter than needed, unfillable gaps (when not excluding) and constant prices.
    """
    missing = [s for s in symbols if s not in prices.columns]
    if missing:
        raise DataError(source, f"no prices for {', '.join(missing)}",
                        "add their closes to the price file or remove them from the universe")
    rows = prices if as_of is None else prices.iloc[:prices.index.searchsorted(as_of, side="right")]
    if as_of is not None and rows.empty:
        raise DataError(source, f"no prices on or before the as-of date {as_of.date()}", "check --as-of")
    if len(rows) < rows_needed:
        raise DataError(source, f"{len(rows)} daily closes, fewer than the {rows_needed} needed "
                        f"(lookback plus one, and at least the RSI period plus one)",
                        "give a longer price history, or shorten risk.lookback_days (or rsi.period)")
    window = rows.iloc[-rows_needed:]
    if list(window.columns) != list(symbols):  # the universe's columns in its order (a copy; else a view)
        window = window.loc[:, list(symbols)]
    gaps = window.isna().to_numpy()
    filled = window.ffill(limit=max_fill_days) if max_fill_days > 0 and gaps.any() else window
    warnings: list[str] = []
    excluded: list[str] = []
    gappy = (filled.isna().to_numpy() if filled is not window else gaps).any(axis=0)
    for symbol in (symbols[i] for i in np.flatnonzero(gappy)):
        column = filled[symbol].isna().to_numpy()
        first = window.index[int(np.flatnonzero(column)[0])].date()
        count = (f"{int(window[symbol].isna().sum())} missing closes in the window, {int(column.sum())} of them "
                 f"beyond the {max_fill_days}-day fill limit (the first on {first})")
        if not exclude_gaps:
            raise DataError(f"{source}: {symbol}", count,
                            "fill the history, raise data.max_fill_days, or set data.on_gap: exclude")
        excluded.append(symbol)
        warnings.append(f"{symbol} excluded: {count}")
    kept = [s for s in symbols if s not in excluded] if excluded else list(symbols)
    filled = filled.loc[:, kept] if excluded else filled
    values = filled.to_numpy(dtype=np.float64)
    if len(values) > 1:
        flat = np.all(values == values[0], axis=0)
        if flat.any():
            names = [kept[i] for i in np.flatnonzero(flat)]
            raise DataError(f"{source}: {', '.join(names)}", "constant prices over the window (zero variance)",
                            "check the price feed; a fund whose price never moves cannot be modelled")
    for symbol, day, close, before in implausible_moves(filled):
        raise DataError(f"{source}: {symbol}", f"the close on {day} is {close:.6g} against {before:.6g} the day "
                        "before: not a move a fund makes in a day (a bad print, a placeholder, a decimal point "
                        "lost?)", "correct the close in the price file")
    for move in split_like_moves(filled):
        what = (f"the close on {move.day} is {move.ratio:.3f} times the day before, as an unadjusted {move.label} "
                "split would make it")
        if not move.label:  # beyond any real fund's day, but no split's ratio: a split with a real move on top?
            warnings.append(f"{move.symbol}: the close on {move.day} is {move.ratio:.3f} times the day before, a "
                            "move beyond any real fund's day (a split with the day's move on top?); check it "
                            "(split-adjusted closes are needed)")
        elif move.ambiguous:
            warnings.append(f"{move.symbol}: {what}, or a real move of that size; check it (split-adjusted closes "
                            "are needed)")
        elif refuse_splits:
            raise DataError(f"{source}: {move.symbol}", what,
                            "give split-adjusted closes, or set data.on_split: warn if the move is real")
        else:
            warnings.append(f"{move.symbol}: {what}; kept as a real move (data.on_split: warn)")
    warnings.extend(stale_closes(window, filled))
    return PriceWindow(closes=filled, as_of=pd.Timestamp(filled.index[-1]), warnings=tuple(warnings)), tuple(
        excluded)


FROZEN_SESSIONS = 10  # a close unchanged this many sessions running at the end of the window is named


def stale_closes(window: pd.DataFrame, filled: pd.DataFrame) -> list[str]:
    """Closes the run would trade on that are older than they look: a symbol with no close on the last sessions
    of the window (its last close carried forward), and one whose close has not changed for ``FROZEN_SESSIONS``
    sessions or more (a frozen feed?)."""
    found: list[str] = []
    raw = window.loc[:, list(filled.columns)].to_numpy(dtype=np.float64)
    values = filled.to_numpy(dtype=np.float64)
    if len(values) < 2:
        return found
    trailing = np.argmax(~np.isnan(raw[::-1]), axis=0)
    names = [str(c) for c in filled.columns]
    for j in (int(k) for k in np.flatnonzero(trailing > 0)):
        last = pd.Timestamp(filled.index[len(values) - 1 - int(trailing[j])]).date()
        found.append(f"{names[j]}: no close on the last {int(trailing[j])} session(s) of the prices; its "
                     f"close of {last} is carried forward and traded on")
    same = values[::-1] == values[-1]
    unchanged = np.where(same.all(axis=0), len(values), np.argmin(same, axis=0))
    for j in (int(k) for k in np.flatnonzero(unchanged >= FROZEN_SESSIONS)):
        found.append(f"{names[j]}: the close has not changed for {int(unchanged[j])} sessions (a frozen "
                     "feed?); check the price file")
    return found


def last_closes(prices: pd.DataFrame) -> pd.DataFrame:
    """Each symbol's last close in ``prices`` (at least one row): ``close`` (NaN when it has none) and
    ``sessions_old``, the rows between it and the last row (-1 when none); ``close`` is ``prices.ffill().iloc[-1]``
    without filling every row."""
    values = prices.to_numpy(dtype=np.float64)
    valid = ~np.isnan(values)
    age = np.argmax(valid[::-1], axis=0)
    found = valid.any(axis=0)
    close = values[len(values) - 1 - age, np.arange(values.shape[1])]
    return pd.DataFrame({"close": np.where(found, close, np.nan), "sessions_old": np.where(found, age, -1)},
                        index=prices.columns)




@dataclass(frozen=True)
class SplitLike:
    """A one-day move of ``ratio`` (close over the close before) that an unadjusted ``label`` split would make, or
    (``label`` empty) an extreme move that no split explains. ``ambiguous``: it may be real (XLE fell 20% on
    2020-03-09), so it is named, never refused."""

    symbol: str
    day: str
    ratio: float
    label: str
    ambiguous: bool


# An a-for-b split turns a close into b/a of it; the reverse b-for-a into a/b; each is checked within 3% (the day's
# own move comes on top). No fund in 33 years of 50 real ETFs moved -25% or more, or +23%, in a day, so 3-for-2 and
# 4-for-3 are refused like whole splits; three real days of -20% and +23% look like a 5-for-4 or its reverse, which
# is only named.
SPLITS = ((*((k, 1) for k in (2, 3, 4, 5, 8, 10, 15, 20, 25, 50)), (3, 2), (4, 3)))
AMBIGUOUS_SPLITS = ((5, 4),)
EXTREME_MOVE = (0.75, 1.30)  # real funds' worst and best days were 0.80 and 1.23 times the day before (33 years)
IMPLAUSIBLE_MOVE = 60.0  # a close this many times, or this fraction of, the day before is not a price


CHECK_BLOCK = 1_000  # symbols whose day-on-day ratios are checked together: 6 MB at 757 rows, not 116 MB at 20,000


def _flagged_moves(values: np.ndarray, flagged: Callable[[np.ndarray, np.ndarray], np.ndarray]
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The row, column and ratio (a close over the close the day before) of each one-day move of ``values``
    (rows = days, one column a symbol) that ``flagged(ratio, closes)`` marks, in the order ``np.nonzero`` gives
    over the whole matrix (by row, then column); ``row`` numbers the ratio, so its close is on row ``row + 1``.

    The ratios are computed a block of ``CHECK_BLOCK`` columns at a time: the whole matrix of them and the masks
    over it took 1.2 times the closes' size again at 20,000 symbols (then the run's peak memory)."""
    rows, columns, ratios = [np.empty(0, dtype=np.intp)], [np.empty(0, dtype=np.intp)], [np.empty(0)]
    for start in range(0, values.shape[1], CHECK_BLOCK):
        block = values[:, start:start + CHECK_BLOCK]
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            ratio = block[1:] / block[:-1]
            row, column = np.nonzero(flagged(ratio, block))
        rows.append(row)
        columns.append(column + start)
        ratios.append(ratio[row, column])
    row, column = np.concatenate(rows), np.concatenate(columns)
    order = np.lexsort((column, row))
    return row[order], column[order], np.concatenate(ratios)[order]


def split_like_moves(closes: pd.DataFrame, tolerance: float = 0.03) -> list[SplitLike]:
    """One-day moves that an unadjusted split would make (``SPLITS``, ``AMBIGUOUS_SPLITS``). A fund does not halve
    or double in a day; an unadjusted split does."""
    values = closes.to_numpy(dtype=np.float64)
    found: list[SplitLike] = []
    if len(values) < 2:
        return found
    moves = _flagged_moves(values, lambda ratio, _: np.isfinite(ratio) & ((ratio < 0.815) | (ratio > 1.22)))
    for row, column, r in zip(*(part.tolist() for part in moves), strict=True):
        symbol, day = str(closes.columns[column]), str(closes.index[row + 1].date())
        for (a, b), ambiguous in [*((split, False) for split in SPLITS), *((s, True) for s in AMBIGUOUS_SPLITS)]:
            forward, reverse = b / a, a / b
            if abs(r / forward - 1) <= tolerance or abs(r / reverse - 1) <= tolerance:
                label = f"{a}-for-{b}" if r < 1 else f"{b}-for-{a}"
                found.append(SplitLike(symbol, day, r, label, ambiguous))
                break
        else:
            if r < EXTREME_MOVE[0] or r > EXTREME_MOVE[1]:  # no split's ratio, yet beyond any real fund's day
                found.append(SplitLike(symbol, day, r, "", True))
    return found


def implausible_moves(closes: pd.DataFrame) -> list[tuple[str, str, float, float]]:
    """One-day moves beyond ``IMPLAUSIBLE_MOVE`` times either way (a close of 0.0001 or 1e14 among closes near
    100): (symbol, date, close, the close the day before)."""
    values = closes.to_numpy(dtype=np.float64)
    if len(values) < 2:
        return []

    def implausible(ratio: np.ndarray, block: np.ndarray) -> np.ndarray:
        known = np.isfinite(block[1:]) & np.isfinite(block[:-1])
        extreme = (ratio > IMPLAUSIBLE_MOVE) | (ratio < 1 / IMPLAUSIBLE_MOVE) | ~np.isfinite(ratio)
        flagged: np.ndarray = known & extreme
        return flagged

    rows, columns, _ = _flagged_moves(values, implausible)
    return [(str(closes.columns[c]), str(closes.index[r + 1].date()), float(values[r + 1, c]), float(values[r, c]))
            for r, c in zip(rows.tolist(), columns.tolist(), strict=True)]


def read_fundamentals(path: str | Path, limits: FileLimits | None = None,
                      columns: FundamentalsColumns | None = None) -> pd.DataFrame:
    """The fundamentals snapshot indexed by symbol (upper case).

    Numbers: ``market_cap`` (USD), ``forward_pe``, optional ``eps_growth`` and ``revenue_growth`` (fractions; left
    out when absent) and ``benchmark_weight`` (fraction); empty cells are missing data. ``columns`` maps other
    headers onto these names (``data.fundamentals_columns``). Text: ``sector``, ``size_bucket`` (large, mid,
    small, none; derived from market cap when absent), ``asset_class`` (default equity).
    """
    path = Path(path)
    frame = read_csv_table(path, limits or FileLimits(), "fundamentals file")
    return fundamentals_table(mapped_columns(frame, columns.mapping() if columns else {}, path,
                                             "data.fundamentals_columns"), path)


def fundamentals_table(frame: pd.DataFrame, path: Path, unique: bool = True) -> pd.DataFrame:
    """The rows of a fundamentals table (every cell text, headers already mapped) checked and typed as
    ``read_fundamentals`` returns them, indexed by symbol; errors name ``path`` and the row (file line numbers,
    header = 1). ``unique`` refuses a symbol on two rows (a snapshot); a history (``allocator.inputs.
    fundamentals_history``) has one row per symbol and date instead."""
    frame = frame.copy()
    frame.columns = [c.lower() for c in frame.columns]
    if "symbol" not in frame.columns:
        raise DataError(str(path), "no 'symbol' column", "name the first column 'symbol'")
    absent = [c for c in FUNDAMENTAL_REQUIRED if c not in frame.columns]
    if absent:
        raise DataError(str(path), f"missing columns: {', '.join(absent)}",
                        f"give columns symbol, {', '.join(FUNDAMENTAL_REQUIRED)}")
    if frame.empty:
        raise DataError(str(path), "the fundamentals file has a header but no rows", "add one row per symbol")
    symbols = frame["symbol"].astype(str).map(canonical_symbol)
    _check_symbols(symbols, path, "symbol")
    duplicated = symbols.duplicated()
    if unique and duplicated.any():
        position = int(np.flatnonzero(duplicated.to_numpy())[0])
        raise DataError(f"{path}: row {position + 2}: symbol", f"duplicate symbol {symbols.iloc[position]}",
                        "keep one row per symbol")
    out = pd.DataFrame(index=pd.Index(symbols.to_numpy(), name="symbol"))
    for column in FUNDAMENTAL_NUMBERS:
        if column in frame.columns:
            out[column] = numeric_column(frame, column, path, allow_missing=True).to_numpy()
        else:
            out[column] = np.nan
    for column in OPTIONAL_NUMBERS:
        if column in frame.columns:
            out[column] = numeric_column(frame, column, path, allow_missing=True).to_numpy()
    for column in frame.columns:  # text columns that may form peer groups (region, style, ...)
        if column not in out.columns and column not in ("symbol", "sector", "asset_class", "size_bucket", "name"):
            out[column] = frame[column].astype(str).str.strip().str.lower().replace({"": "unknown",
                                                                                    "nan": "unknown"}).to_numpy()
    for column, lowest in (("market_cap", 0.0), ("benchmark_weight", -1e-12)):
        values = out[column].to_numpy()
        bad = np.isfinite(values) & (values <= lowest) if column == "market_cap" else values < lowest
        if bad.any():
            position = int(np.flatnonzero(bad)[0])
            raise DataError(f"{path}: row {position + 2}: {column}", f"{values[position]:g} is out of range",
                            "market caps must be positive and benchmark weights not negative")
    pe = out["forward_pe"].to_numpy()
    tiny = np.isfinite(pe) & (np.abs(pe) < MIN_PE) & (pe != 0)
    if tiny.any():  # 1e-300 (an 'unset' value, a unit slip) would blow the value signal up to 1e300
        position = int(np.flatnonzero(tiny)[0])
        raise DataError(f"{path}: row {position + 2}: forward_pe", f"{pe[position]:g} is not a price-to-earnings "
                        f"ratio (below {MIN_PE:g} in size)", "give the P/E, or leave the cell empty for no data")
    out["sector"] = frame["sector"].astype(str).str.strip().str.lower().replace("", "unknown").to_numpy()
    asset_class = (frame["asset_class"].astype(str).str.strip().str.lower() if "asset_class" in frame.columns
                   else pd.Series(["equity"] * len(frame)))
    out["asset_class"] = asset_class.replace("", "equity").to_numpy()
    unknown_class = ~out["asset_class"].isin(ASSET_CLASSES).to_numpy()
    if unknown_class.any():  # a typo (Equities) would turn every signal off for the asset, silently
        position = int(np.flatnonzero(unknown_class)[0])
        value = str(out["asset_class"].iloc[position])
        close = difflib.get_close_matches(value, ASSET_CLASSES, n=1, cutoff=0.5)
        hint = f"did you mean {close[0]!r}? " if close else ""
        raise DataError(f"{path}: row {position + 2}: asset_class", f"unknown asset class {value!r}",
                        f"{hint}use one of {', '.join(ASSET_CLASSES)}")
    if "size_bucket" in frame.columns:
        buckets = frame["size_bucket"].astype(str).str.strip().str.lower().replace("", "none")
        unknown = ~buckets.isin(SIZE_BUCKETS)
        if unknown.any():
            position = int(np.flatnonzero(unknown.to_numpy())[0])
            raise DataError(f"{path}: row {position + 2}: size_bucket", f"unknown bucket {buckets.iloc[position]!r}",
                            f"use one of {', '.join(SIZE_BUCKETS)}")
        out["size_bucket"] = buckets.to_numpy()
    else:
        out["size_bucket"] = [_bucket(cap, cls) for cap, cls in zip(out["market_cap"], out["asset_class"],
                                                                    strict=True)]
    return out


def _bucket(market_cap: float, asset_class: str) -> str:
    """Size bucket from a weighted-average market cap (USD): large >= 20bn, mid >= 5bn, else small."""
    if asset_class != "equity" or not np.isfinite(market_cap):
        return "none"
    return "large" if market_cap >= 2e10 else "mid" if market_cap >= 5e9 else "small"
