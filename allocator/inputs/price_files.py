"""Price files read by pyarrow: a plain UTF-8 CSV on the fast path, and Parquet files.

``read_prices`` (``allocator.inputs.market_data``) validates a ``PriceTable`` whichever reader made it. The fast
CSV reader parses every close in C (pyarrow's reader, which refuses a row with too few or too many cells) and
gives up, returning None or raising ``DataError``, on anything that is not plain: another encoding, a repeated or
multi-line header, a cell that is not a decimal number or empty, ``nan`` or ``inf`` spelled out, more rows than
``data.max_rows``. The careful reader then reads the file again as text and names the offending file, row and
column; so the fast path changes how long a good file takes, never what a bad file is told.

A wide file (the date first, then one column of closes per symbol) is parsed a block of rows at a time into one
preallocated float64 array (``WidePriceTable``): pyarrow's columnar reader keeps a small buffer per column and
block, which for 20,000 columns cost three times the closes' own size in memory (and kept it); each block here is
rewritten as one column of cells and parsed in one piece, so the peak is the closes plus a block.

A Parquet file (``.parquet``) holds typed columns: dates as a date or timestamp column (a time zone's local
date is kept) or as text, closes as numbers (a null or NaN is no close) or as text read like a CSV cell. Rows in
its messages are numbered as in the CSV file it would be written as (the header is row 1).
"""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO, Protocol

import numpy as np
import pandas as pd

from allocator.errors import DataError
from allocator.files.cells import LARGEST
from allocator.files.reading import FileLimits, check_file

PARQUET_SUFFIXES = (".parquet", ".pq")
BLOCK_BYTES = 32 << 20  # parsed a block at a time: larger blocks cost memory, smaller ones time (20,000 columns)
WIDE_BLOCK_BYTES = 4 << 20  # rows of a wide file parsed together: about 30 rows of 20,000 closes
LARGEST_CLOSE = float(LARGEST)  # a cell beyond this is a placeholder (1.797e308, a feed's 'unset'), not a number


class PriceTable(Protocol):
    """The columns of a price file as read, before any validation; rows are numbered from 0."""

    @property
    def columns(self) -> tuple[str, ...]:
        """The header, each name trimmed."""

    @property
    def rows(self) -> int:
        """The number of data rows."""

    def column(self, name: str) -> pd.Series:
        """The cells of one column as text (a Parquet date column: as datetimes)."""

    def numbers(self, names: list[str]) -> np.ndarray | None:
        """The columns as one float64 array (rows x names, NaN for an empty cell) when every cell is a finite
        number within ``LARGEST_CLOSE`` or empty; None to have each column parsed from its text instead."""


def is_parquet(path: Path) -> bool:
    return path.suffix.lower() in PARQUET_SUFFIXES


def plain_closes(values: np.ndarray) -> bool:
    """Whether every number of ``values`` (NaN for no value) is finite and within ``LARGEST_CLOSE``: two passes
    that skip NaN and make no copy."""
    return bool(np.fmax.reduce(values, axis=None, initial=-np.inf) <= LARGEST_CLOSE
                and np.fmin.reduce(values, axis=None, initial=np.inf) >= -LARGEST_CLOSE)


def repeated_name(names: list[str]) -> str | None:
    """The first name (trimmed, upper case, in sorted order) that the header gives twice, or None."""
    counts = Counter(name.strip().upper() for name in names)
    repeated = sorted(name for name, count in counts.items() if count > 1)
    return repeated[0] if repeated else None


class ArrowPriceTable:
    """A price file read by pyarrow. ``nan_is_missing``: a NaN number is an empty cell (Parquet); in a CSV file a
    spelled-out ``nan`` is left to the careful reader."""

    def __init__(self, table: Any, columns: tuple[str, ...], nan_is_missing: bool) -> None:
        self._table = table
        self._columns = columns
        self._index = {name: i for i, name in enumerate(columns)}
        self._nan_is_missing = nan_is_missing

    @property
    def columns(self) -> tuple[str, ...]:
        return self._columns

    @property
    def rows(self) -> int:
        return int(self._table.num_rows)

    def _array(self, name: str) -> Any:
        return self._table.column(self._index[name])

    def column(self, name: str) -> pd.Series:
        import pyarrow as pa

        array = self._array(name)
        if pa.types.is_timestamp(array.type) or pa.types.is_date(array.type):
            return pd.Series(array.to_pandas(date_as_object=False))
        text = array.cast(pa.string()).fill_null("")
        return pd.Series(text.to_numpy(zero_copy_only=False), dtype=object)

    def numbers(self, names: list[str]) -> np.ndarray | None:
        values = self._plain(names)
        if values is None and not self._nan_is_missing:  # a CSV cell to name: the careful reader reads the file
            raise DataError("price file", "a close is not a plain number", "read the file as text to name it")
        return values

    def release(self) -> None:
        """Let go of the table and give pyarrow's freed memory back to the system (its allocator keeps it)."""
        import pyarrow as pa

        self._table = None
        pa.default_memory_pool().release_unused()

    def _plain(self, names: list[str]) -> np.ndarray | None:
        import pyarrow as pa

        values = np.empty((len(names), self.rows))  # a column a row: each filled in one contiguous copy
        nulls = 0
        for j, name in enumerate(names):
            array = self._array(name)
            if not (pa.types.is_floating(array.type) or pa.types.is_integer(array.type)
                    or pa.types.is_decimal(array.type) or pa.types.is_null(array.type)):
                return None
            nulls += array.null_count
            start = 0
            for chunk in (array if pa.types.is_float64(array.type) else array.cast(pa.float64())).chunks:
                values[j, start:start + len(chunk)] = chunk.to_numpy(zero_copy_only=False)  # a view unless nulls
                start += len(chunk)
        if not plain_closes(values):
            return None
        if not self._nan_is_missing and np.count_nonzero(values != values) != nulls:
            return None  # a cell spelled nan (or -nan): the careful reader tells which are missing
        return values.T


def _header(path: Path) -> list[str] | None:
    """The header of a plain UTF-8 CSV file, or None (another encoding, a header over several lines, no header)."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            line = handle.readline()
    except UnicodeDecodeError:
        return None
    header = next(csv.reader([line]), [])
    if not header or not line.endswith("\n") or any("\n" in name or "\r" in name for name in header):
        return None
    return header


class WidePriceTable:
    """A wide price file read as its dates (text) and one float64 array of closes, columns by symbol."""

    def __init__(self, columns: tuple[str, ...], dates: list[str], closes: np.ndarray) -> None:
        self._columns = columns
        self._dates = dates
        self._closes: np.ndarray | None = closes  # symbols x rows: each symbol's closes contiguous

    @property
    def columns(self) -> tuple[str, ...]:
        return self._columns

    @property
    def rows(self) -> int:
        return len(self._dates)

    def column(self, name: str) -> pd.Series:
        if name != self._columns[0]:
            raise KeyError(name)
        return pd.Series(self._dates, dtype=object)

    def numbers(self, names: list[str]) -> np.ndarray | None:
        if self._closes is None or list(names) != list(self._columns[1:]):
            raise DataError("price file", "the closes were read once", "read the file again")
        closes, self._closes = self._closes, None  # handed over, not copied: the caller owns them
        return closes.T

    def release(self) -> None:
        self._closes = None


def _wide_rows(handle: BinaryIO, rows: int, symbols: int) -> tuple[list[str], np.ndarray] | None:
    """The dates and closes (symbols x rows) of the data rows of a wide file (``handle`` after the header), or
    None when a row is not plain: another cell count, a quote, a carriage return inside the row (pyarrow would end
    the row there), a tab (the careful reader may take tabs for the separator), a blank line, a cell pyarrow does
    not read as a
    number, ``nan`` spelled out, a close beyond ``LARGEST_CLOSE``."""
    import pyarrow as pa
    import pyarrow.csv as pcsv

    read_options = pcsv.ReadOptions(column_names=["close"], block_size=4 * WIDE_BLOCK_BYTES, use_threads=False)
    parse_options = pcsv.ParseOptions(ignore_empty_lines=False, quote_char=False, newlines_in_values=False)
    convert_options = pcsv.ConvertOptions(column_types={"close": pa.float64()}, null_values=[""],
                                          strings_can_be_null=False)
    closes = np.empty((symbols, rows))
    dates: list[str] = []
    while len(dates) < rows:
        cells: list[bytes] = []
        for line in handle.readlines(WIDE_BLOCK_BYTES):
            row = line.rstrip(b"\r\n")
            date, comma, rest = row.partition(b",")
            if not comma or rest.count(b",") != symbols - 1 or b'"' in row or b"\r" in row or b"\t" in row:
                return None
            dates.append(date.decode("utf-8"))
            cells.append(rest)
        if not cells or len(dates) > rows:
            return None
        block = b"\n".join(cells).replace(b",", b"\n") + b"\n"  # one cell a line
        del cells
        try:
            column = pcsv.read_csv(pa.py_buffer(block), read_options=read_options, parse_options=parse_options,
                                   convert_options=convert_options, memory_pool=pa.system_memory_pool()).column(0)
        except (pa.ArrowInvalid, OSError):
            return None
        del block
        values = column.to_numpy().reshape(-1, symbols)  # NaN where a cell is empty
        if np.count_nonzero(values != values) != column.null_count or not plain_closes(values):
            return None  # a cell spelled nan (the careful reader tells which are missing), or a placeholder
        closes[:, len(dates) - len(values):len(dates)] = values.T
    return dates, closes


def wide_price_table(path: Path, header: list[str], limits: FileLimits) -> WidePriceTable | None:
    """A plain UTF-8 wide price file (``header``: the date, then the symbols) read a block of rows at a time into
    one array, or None when the file needs the careful reader."""
    with path.open("rb") as handle:
        rows = sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 24), b""))
        handle.seek(-1, 2)
        rows += handle.read(1) != b"\n"  # a last row without its newline
        handle.seek(0)
        handle.readline()
        rows -= 1  # the header
        if rows <= 0 or rows > limits.max_rows:
            return None
        try:
            read = _wide_rows(handle, rows, len(header) - 1)
        except UnicodeDecodeError:
            return None
    if read is None:
        return None
    dates, closes = read
    return WidePriceTable(tuple(name.strip() for name in header), dates, closes)


def csv_price_table(path: Path, limits: FileLimits, text_columns: Callable[[list[str]], set[str]]
                    ) -> ArrowPriceTable | WidePriceTable | None:
    """A plain UTF-8 price CSV read in C, the columns that ``text_columns`` picks from the header (trimmed) as text
    and every other as float64; None when the file needs the careful reader. The caller has checked its size."""
    import pyarrow as pa
    import pyarrow.csv as pcsv

    with path.open("rb") as handle:
        if handle.read(2) in (b"\xff\xfe", b"\xfe\xff"):  # UTF-16: the careful reader decodes it
            return None
    header = _header(path)
    if header is None or repeated_name(header) is not None:
        return None
    names = [name.strip() for name in header]
    text = text_columns(names)
    if any("\t" in name for name in header):
        return None  # the careful reader decides whether tabs or commas separate the cells
    if text == {names[0]} and len(names) > 1:  # the date first, then closes: the wide reader
        return wide_price_table(path, header, limits)
    try:
        table = pcsv.read_csv(
            path,
            read_options=pcsv.ReadOptions(column_names=[f"c{i}" for i in range(len(names))], skip_rows=1,
                                          block_size=BLOCK_BYTES, use_threads=False),
            parse_options=pcsv.ParseOptions(newlines_in_values=False),
            convert_options=pcsv.ConvertOptions(
                column_types={f"c{i}": pa.string() if name in text else pa.float64() for i, name in enumerate(names)},
                null_values=[""], strings_can_be_null=False, quoted_strings_can_be_null=True))
    except (pa.ArrowInvalid, OSError):  # a row of another length, a cell that is not a number, bytes not UTF-8
        return None
    if table.num_rows == 0 or table.num_rows > limits.max_rows:
        return None
    return ArrowPriceTable(table, tuple(names), nan_is_missing=False)


def parquet_price_table(path: Path, limits: FileLimits) -> ArrowPriceTable:
    """A Parquet price file's columns, after checking its size, its row count and its header."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    check_file(path, limits.max_bytes, "price file", expected="Parquet")
    try:
        source = pq.ParquetFile(path)
        names = [str(name) for name in source.schema_arrow.names]
        repeated = repeated_name(names)
        if repeated is not None:
            raise DataError(str(path), f"column {repeated} appears twice in the header", "keep one column per name")
        if source.metadata.num_rows > limits.max_rows:
            raise DataError(str(path), f"more than {limits.max_rows:,} rows", "raise data.max_rows if genuine")
        table = source.read()
    except (pa.ArrowException, OSError) as exc:
        raise DataError(str(path), f"cannot read the price file as Parquet ({exc})",
                        "write it with pandas.DataFrame.to_parquet or pyarrow, or give a CSV file") from None
    return ArrowPriceTable(table, tuple(name.strip() for name in names), nan_is_missing=True)
