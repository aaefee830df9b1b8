"""Price files read by pyarrow: the fast CSV reader gives exactly what the careful text reader gives (the same
frame, or the same error naming the same cell), and Parquet files are read and checked like CSV files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from allocator.errors import DataError
from allocator.files.reading import FileLimits
from allocator.inputs import price_files
from allocator.inputs.market_data import read_prices, read_prices_as_text
from allocator.inputs.price_files import csv_price_table
from tests.conftest import ROOT
from tests.helpers import read_csv, write_config


def _outcome(reader: object, path: Path) -> pd.DataFrame | str:
    """The frame a reader returns, or the message of the error it raises."""
    try:
        return reader(path)  # type: ignore[operator,no-any-return]
    except DataError as exc:
        return str(exc)


def _same_outcome(path: Path) -> pd.DataFrame | str:
    """Read ``path`` by ``read_prices`` (fast path first) and by the careful reader alone; assert they agree."""
    fast, careful = _outcome(read_prices, path), _outcome(read_prices_as_text, path)
    if isinstance(careful, str):
        assert fast == careful
    else:
        assert isinstance(fast, pd.DataFrame), fast
        pd.testing.assert_frame_equal(fast, careful, check_exact=True)
    return fast


def _takes_the_fast_path(path: Path) -> bool:
    return csv_price_table(path, FileLimits(), lambda names: {names[0]}) is not None


def test_the_example_and_real_price_files_read_the_same_by_both_readers(shared_data: Path) -> None:
    files = [ROOT / "examples" / "prices.csv", shared_data / "etf_prices_adjclose.csv",
             shared_data / "package_datasets" / "skfolio_sp500_dataset.csv"]
    for path in files:
        assert _takes_the_fast_path(path), path
        prices = _same_outcome(path)
        assert isinstance(prices, pd.DataFrame) and prices.shape[0] > 900
    real = read_prices(files[1])
    assert real["XLC"].iloc[:100].isna().all() and real["SPY"].notna().all()  # empty before a fund's launch


CELLS = ["-nan", "nan", "NaN", "TRUE", "Infinity", "-inf", "1e400", "1.797e308", "0x10", "١٢٣", '"1,5"', "-0", "0",
         "  ", " 1.5 ", "N/A", "--", "1.5.2", "1_000", '"2.5"', "1e-400", "+.5", "5.", "1E+2", "\t3"]


@pytest.mark.parametrize("cell", CELLS)
def test_a_cell_reads_the_same_whichever_reader_takes_it(tmp_path: Path, cell: str) -> None:
    """Cells pyarrow parses differently from the careful reader (``-nan``, ``Infinity``, ``1e400``) make the fast
    path give up; the careful reader then accepts or names them as it always did."""
    path = tmp_path / "prices.csv"
    path.write_text(f"date,A,B\n2024-01-02,1.5,2\n2024-01-03,2,{cell}\n2024-01-04,2.5,3\n")
    _same_outcome(path)


FILES = {
    "short_row": "date,A,B\n2024-01-02,1,2\n2024-01-03,2\n",
    "long_row": "date,A,B\n2024-01-02,1,2\n2024-01-03,2,3,4\n",
    "first_row_long": "date,A,B\n2024-01-02,1,2,3\n2024-01-03,2,3\n",
    "repeated_column": "date,A,a\n2024-01-02,1,2\n",
    "repeated_date": "Date,date,A\n2024-01-02,2024-01-02,2\n",
    "header_only": "date,A,B\n",
    "no_date_column": "day0,A\n1,2\n",
    "blank_lines": "date,A\n\n2024-01-02,1\n\n2024-01-03,2\n",
    "crlf": "date,A\r\n2024-01-02,1\r\n2024-01-03,2\r\n",
    "no_final_newline": "date,A\n2024-01-02,1\n2024-01-03,2",
    "quoted_newline_in_header": 'date,"A\nB"\n2024-01-02,1\n',
    "quoted_newline_in_cell": 'date,A\n2024-01-02,"1\n"\n',
    "unnamed_column": "date,,A\n2024-01-02,1,2\n",
    "not_a_ticker": "date,=HYPERLINK(1)\n2024-01-02,1\n",
    "share_classes": "date,BRK/B,brk.a\n2024-01-02,1,2\n",
    "dates_out_of_order": "date,A\n2024-01-03,1\n2024-01-02,2\n",
    "not_a_date": "date,A\n2024-01-02,1\nsoon,2\n",
    "offsets": "date,A\n2024-01-02T16:00:00-05:00,1\n2024-01-03T16:00:00+01:00,2\n",
    "negative_close": "date,A\n2024-01-02,1\n2024-01-03,-2\n",
    "long": "date,symbol,close,volume\n2024-01-02,A,1,10\n2024-01-02,B,2,n/a\n2024-01-03,A,1.5,\n",
    "long_short_row": "date,symbol,close,volume\n2024-01-02,A,1,10\n2024-01-02,B,2\n",
    "long_duplicate": "date,ticker,close\n2024-01-02,A,1\n2024-01-02,a,2\n",
    "long_out_of_order": "date,symbol,close\n2024-01-02,A,1\n2024-01-03,B,1\n2024-01-02,B,2\n2024-01-01,A,3\n",
    "long_empty_symbol": "date,symbol,close\n2024-01-02,A,1\n2024-01-02,,2\n",
    "long_without_close": "date,symbol,volume\n2024-01-02,A,1\n",
}


@pytest.mark.parametrize("name", sorted(FILES))
def test_a_file_reads_the_same_whichever_reader_takes_it(tmp_path: Path, name: str) -> None:
    path = tmp_path / "prices.csv"
    path.write_bytes(FILES[name].encode("utf-8"))
    _same_outcome(path)


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16", "cp1252"])
def test_other_encodings_are_left_to_the_careful_reader(tmp_path: Path, encoding: str) -> None:
    path = tmp_path / "prices.csv"
    path.write_bytes("date,A,B\n2024-01-02,1.5,2\n2024-01-03,2,3\n".replace("B", "É" if encoding == "cp1252" else "B")
                     .encode(encoding))
    assert _takes_the_fast_path(path) == (encoding == "utf-8-sig")
    _same_outcome(path)


def test_the_fast_reader_refuses_what_it_cannot_vouch_for(tmp_path: Path) -> None:
    path = tmp_path / "prices.csv"
    path.write_text("date,A\n2024-01-02,1\n2024-01-03,2\n")
    assert _takes_the_fast_path(path)
    assert csv_price_table(path, FileLimits(max_rows=1), lambda names: {"date"}) is None  # the careful reader says
    path.write_text("date,A\n2024-01-02,1\n2024-01-03\n")
    assert not _takes_the_fast_path(path)
    path.write_text("date,A\n2024-01-02,1\n2024-01-03,-nan\n")
    assert csv_price_table(path, FileLimits(), lambda names: {"date"}) is None  # a wide file: refused while read
    with pytest.raises(DataError, match=r"row 3: A: not a number: '-nan'"):
        read_prices(path)
    path.write_text("date,symbol,close\n2024-01-02,A,1\n2024-01-03,A,-nan\n")
    table = csv_price_table(path, FileLimits(), lambda names: {"date", "symbol"})
    assert table is not None  # a long file: read by pyarrow, refused when its closes are taken
    with pytest.raises(DataError):
        table.numbers(["close"])
    with pytest.raises(DataError, match=r"row 3: close: not a number: '-nan'"):
        read_prices(path)


@pytest.mark.parametrize("body", [
    "2024-01-02,1,2\n2024-01-03,3\n",          # a row one cell short
    "2024-01-02,1,2\n2024-01-03,3,4,5\n",      # a row one cell long
    "2024-01-02,1,2\n\n2024-01-03,3,4\n",      # a blank line (its row number would be lost)
    '2024-01-02,"1",2\n2024-01-03,3,4\n',      # a quoted cell
    "2024-01-02,1,2\n2024-01-03,nan,4\n",      # nan spelled out
    "2024-01-02,1,2\n2024-01-03,1e400,4\n",    # beyond float64
    "2024-01-02,1,2\n2024-01-03,1.797e308,4\n",  # a placeholder
    "2024-01-02,1,2\n2024-01-03,x,4\n",        # text
    "2024-01-02,1,2\n2024-01-03,3,4\r\n2024-01-04,1\r,2\n",  # a carriage return inside a row
    "2024-01-02\r,1,2\n2024-01-03,3,4\n",     # ... at the end of the date cell
    "2024-01-02,1.5,2\t\n2024-01-03,1.6,2.1\t\n",  # tabs a spreadsheet paste leaves
])
def test_the_wide_reader_leaves_any_irregular_row_to_the_careful_reader(tmp_path: Path, body: str) -> None:
    path = tmp_path / "prices.csv"
    path.write_text("date,A,B\n" + body, newline="")
    assert csv_price_table(path, FileLimits(), lambda names: {"date"}) is None


def test_a_header_with_a_tab_goes_to_the_careful_reader(tmp_path: Path) -> None:
    """Tabs and commas in one file: the careful reader chooses the separator, and both readers say the same."""
    path = tmp_path / "prices.csv"
    path.write_bytes(b"date,A,B\t\n2024-01-02,1.5,2\t\n2024-01-03,1.6,2.1\t\n")
    assert csv_price_table(path, FileLimits(), lambda names: {"date"}) is None
    with pytest.raises(DataError) as fast:
        read_prices(path)
    with pytest.raises(DataError) as careful:
        read_prices_as_text(path)
    assert str(fast.value) == str(careful.value)


@pytest.mark.parametrize("body", ["2024-01-02,1,\n2024-01-03,,4\n2024-01-04,5,6",  # empty cells, no last newline
                                  "2024-01-02,1,2\r\n2024-01-03,3,4\r\n"])     # Windows line ends
def test_the_wide_reader_gives_the_careful_readers_frame(tmp_path: Path, body: str) -> None:
    path = tmp_path / "prices.csv"
    path.write_bytes(("\ufeffdate,A,B\n" + body).encode())
    assert csv_price_table(path, FileLimits(), lambda names: {"date"}) is not None
    pd.testing.assert_frame_equal(read_prices(path), read_prices_as_text(path), check_exact=True)


def test_the_wide_reader_reads_across_its_blocks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Rows parsed a few at a time land in their own columns of the one array: blocks of about 2 rows here."""
    monkeypatch.setattr(price_files, "WIDE_BLOCK_BYTES", 40)
    rng = np.random.default_rng(5)
    closes = np.round(rng.uniform(1, 100, (23, 7)), 4)
    closes[rng.random(closes.shape) < 0.1] = np.nan
    dates = pd.bdate_range("2024-01-01", periods=23).strftime("%Y-%m-%d")
    frame = pd.DataFrame(closes, index=pd.Index(dates, name="date"), columns=[f"S{i}" for i in range(7)])
    path = tmp_path / "prices.csv"
    frame.to_csv(path)
    assert isinstance(csv_price_table(path, FileLimits(), lambda names: {"date"}), price_files.WidePriceTable)
    found = read_prices(path)
    np.testing.assert_array_equal(found.to_numpy(), closes)
    pd.testing.assert_frame_equal(found, read_prices_as_text(path), check_exact=True)


# Parquet


def _parquet(path: Path, table: pa.Table) -> Path:
    pq.write_table(table, path)
    return path


def test_a_parquet_file_reads_as_the_csv_it_was_made_from(tmp_path: Path) -> None:
    csv_path = ROOT / "examples" / "prices.csv"
    frame = pd.read_csv(csv_path)
    frame["date"] = pd.to_datetime(frame["date"])
    path = tmp_path / "prices.parquet"
    frame.to_parquet(path, index=False)
    pd.testing.assert_frame_equal(read_prices(path), read_prices(csv_path), check_exact=True)
    frame["date"] = frame["date"].dt.strftime("%Y-%m-%d")  # dates as text read like a CSV's
    frame.to_parquet(path, index=False)
    pd.testing.assert_frame_equal(read_prices(path), read_prices(csv_path), check_exact=True)


def test_a_long_parquet_file_with_zoned_timestamps_keeps_the_local_dates(tmp_path: Path) -> None:
    stamps = pd.to_datetime(["2024-01-02 16:00", "2024-01-02 16:00", "2024-01-03 16:00"]).tz_localize(
        "America/New_York")
    path = _parquet(tmp_path / "prices.PARQUET", pa.table({
        "Date": pa.array(stamps), "Ticker": ["spy", "BRK/B", "SPY"], "adj_close": [470.5, 363.0, None]}))
    prices = read_prices(path)
    assert list(prices.columns) == ["BRK.B", "SPY"]
    assert [d.isoformat() for d in prices.index.date] == ["2024-01-02", "2024-01-03"]
    assert prices.loc["2024-01-02", "SPY"] == 470.5 and np.isnan(prices.loc["2024-01-03", "SPY"])


def test_parquet_dates_integers_and_missing_closes(tmp_path: Path) -> None:
    path = _parquet(tmp_path / "prices.parquet", pa.table({
        "date": pa.array([pd.Timestamp("2024-01-02").date(), pd.Timestamp("2024-01-03").date()], pa.date32()),
        "A": pa.array([10, 11], pa.int64()), "B": [float("nan"), 2.5], "C": ["1.5", ""]}))
    prices = read_prices(path)
    np.testing.assert_array_equal(prices["A"], [10.0, 11.0])
    assert np.isnan(prices["B"].iloc[0]) and np.isnan(prices["C"].iloc[1]) and prices["C"].iloc[0] == 1.5


@pytest.mark.parametrize(("column", "message"), [
    (pa.array([1.0, float("inf")]), r"prices.parquet: row 3: B: not a number: 'inf'"),
    (pa.array([1.0, 1.797e308]), r"prices.parquet: row 3: B: 1.797e\+308 is out of range"),
    (pa.array([1.0, -2.0]), r"prices.parquet: row 3: B: close -2 is not positive"),
    (pa.array(["1.0", "abc"]), r"prices.parquet: row 3: B: not a number: 'abc'"),
    (pa.array([True, False]), r"prices.parquet: row 2: B: not a number: 'true'"),
])
def test_a_bad_parquet_cell_is_named_by_row_and_column(tmp_path: Path, column: pa.Array, message: str) -> None:
    path = _parquet(tmp_path / "prices.parquet", pa.table({"date": ["2024-01-02", "2024-01-03"], "A": [1.0, 2.0],
                                                           "B": column}))
    with pytest.raises(DataError, match=message):
        read_prices(path)


def test_parquet_dates_and_headers_are_checked(tmp_path: Path) -> None:
    path = _parquet(tmp_path / "prices.parquet", pa.table({"date": pa.array([pd.Timestamp("2024-01-02"), None]),
                                                           "A": [1.0, 2.0]}))
    with pytest.raises(DataError, match=r"row 3: date: not a date: NaT"):
        read_prices(path)
    path = _parquet(tmp_path / "prices.parquet", pa.Table.from_arrays(
        [pa.array(["2024-01-02"]), pa.array([1.0]), pa.array([2.0])], names=["date", "SPY", "spy"]))
    with pytest.raises(DataError, match=r"column SPY appears twice in the header"):
        read_prices(path)
    path = _parquet(tmp_path / "prices.parquet", pa.table({"date": pa.array([], pa.string()),
                                                           "A": pa.array([], pa.float64())}))
    with pytest.raises(DataError, match=r"header but no rows"):
        read_prices(path)
    path = _parquet(tmp_path / "prices.parquet", pa.table({"date": ["2024-01-0" + str(d) for d in range(1, 4)],
                                                           "A": [1.0, 2.0, 3.0]}))
    with pytest.raises(DataError, match=r"more than 2 rows"):
        read_prices(path, FileLimits(max_rows=2))
    with pytest.raises(DataError, match=r"above the limit"):
        read_prices(path, FileLimits(max_bytes=10))


def test_a_file_that_is_not_parquet_is_refused_by_name(tmp_path: Path) -> None:
    path = tmp_path / "prices.parquet"
    path.write_text("date,A\n2024-01-02,1\n")
    with pytest.raises(DataError, match=r"prices.parquet: cannot read the price file as Parquet"):
        read_prices(path)


def test_a_run_on_parquet_prices_writes_what_the_csv_run_writes(example_copy: Path, cli: object) -> None:
    frame = pd.read_csv(example_copy / "examples" / "prices.csv", parse_dates=["date"])
    frame.to_parquet(example_copy / "examples" / "prices.parquet", index=False)
    config = write_config(example_copy, "extends: base.yaml\ndata:\n  prices: ../examples/prices.parquet\n")
    holdings = example_copy / "examples" / "holdings.csv"
    outputs = {}
    for name, path in (("csv", example_copy / "configs" / "base.yaml"), ("parquet", config)):
        result = cli("run", holdings, "-c", path, "-o", example_copy / name, "-q")  # type: ignore[operator]
        assert result.exit_code == 0, result.output
        outputs[name] = [read_csv(example_copy / name / f) for f in ("weights.csv", "trades.csv")]
    assert outputs["parquet"] == outputs["csv"]
