"""Price files: the vectorized fast path reads exactly what the per-cell parser reads, and falls back to it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from allocator.errors import DataError
from allocator.files.reading import FileLimits
from allocator.inputs.market_data import PriceWindow, numeric_column, read_csv_table, read_prices
from tests.conftest import ROOT


def _per_cell(path: Path) -> pd.DataFrame:
    """The reference: every column through ``numeric_column`` (the careful parser that names a bad cell)."""
    frame = read_csv_table(path, FileLimits(), "price file")
    columns = [c for c in frame.columns if c != "date"]
    return pd.DataFrame({c.upper(): numeric_column(frame, c, path, allow_missing=True).to_numpy() for c in columns})


def test_fast_path_reads_the_example_bit_for_bit() -> None:
    path = ROOT / "examples" / "prices.csv"
    fast = read_prices(path)
    reference = _per_cell(path)
    assert list(fast.columns) == list(reference.columns)
    assert np.array_equal(fast.to_numpy(), reference.to_numpy(), equal_nan=True)


def test_fast_path_handles_gaps_signs_and_exponents(tmp_path: Path) -> None:
    path = tmp_path / "prices.csv"
    path.write_text("date,A,B\n2024-01-02,1.5,\n2024-01-03,+2,3e2\n2024-01-04,.25,1E-1\n")
    prices = read_prices(path)
    np.testing.assert_array_equal(prices["A"].to_numpy(), [1.5, 2.0, 0.25])
    assert np.isnan(prices["B"].iloc[0])
    np.testing.assert_array_equal(prices["B"].to_numpy()[1:], [300.0, 0.1])


def test_cells_the_fast_path_refuses_are_parsed_cell_by_cell(tmp_path: Path) -> None:
    path = tmp_path / "prices.csv"
    path.write_text("date,A,B\n2024-01-02, 1.5,n/a\n2024-01-03,2,--\n2024-01-04,3,4\n")
    prices = read_prices(path)
    np.testing.assert_array_equal(prices["A"].to_numpy(), [1.5, 2.0, 3.0])
    assert prices["B"].isna().sum() == 2


@pytest.mark.parametrize("cell", ["abc", "inf", "1e", "1_000"])
def test_a_bad_cell_is_named_whichever_path_reads_it(tmp_path: Path, cell: str) -> None:
    """``1_000`` and ``inf`` are floats to Python's ``float()`` but not prices: the fast path must not take them."""
    path = tmp_path / "prices.csv"
    path.write_text(f"date,A,B\n2024-01-02,1.5,2\n2024-01-03,2,{cell}\n")
    with pytest.raises(DataError, match=r"row 3: B: not a number"):
        read_prices(path)


@pytest.mark.parametrize(("value", "hint"), [("Equities", "did you mean 'equity'? "),
                                              ("Bonds", "did you mean 'bond'? "), ("crypto", "")])
def test_an_unknown_asset_class_is_refused_with_a_suggestion(value: str, hint: str, tmp_path: Path) -> None:
    """A typo in asset_class would turn every signal off for the fund, silently: it is refused instead."""
    from allocator.inputs.market_data import read_fundamentals

    text = (ROOT / "examples" / "fundamentals.csv").read_text().replace(",equity,0.30,", f",{value},0.30,", 1)
    path = tmp_path / "fundamentals.csv"
    path.write_text(text)
    with pytest.raises(DataError) as caught:
        read_fundamentals(path)
    assert f"row 2: asset_class: unknown asset class '{value.lower()}'; {hint}use one of equity" in str(caught.value)


def test_validate_prints_the_universe_by_asset_class(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from allocator.cli import main

    result = CliRunner().invoke(main, ["validate", str(ROOT / "examples" / "holdings.csv"), "-c",
                                       str(ROOT / "configs" / "base.yaml")])
    assert result.exit_code == 0, result.output
    assert "universe: 20 assets (16 equity, 3 bond, 1 commodity), prices as of 2026-01-16" in result.stdout
    assert "ok: every input is valid" in result.stdout


@pytest.mark.parametrize(("factor", "words"), [(2, "an unadjusted 2-for-1 split"),
                                               (1 / 3, "an unadjusted 1-for-3 split"),
                                               (10, "an unadjusted 10-for-1 split")])
def test_an_unadjusted_split_is_refused_or_named(factor: float, words: str, tmp_path: Path) -> None:
    """An unadjusted split read as a crash inflates volatility, expected return and RSI and reverses trades."""
    from click.testing import CliRunner

    from allocator.cli import main

    prices = pd.read_csv(ROOT / "examples" / "prices.csv")
    cut = len(prices) - 30
    prices.loc[cut:, "IWM"] = (prices.loc[cut:, "IWM"] / factor).round(2)
    prices.to_csv(tmp_path / "prices.csv", index=False)
    config = tmp_path / "split.yaml"
    base = ROOT / "configs" / "base.yaml"
    config.write_text(f"extends: {base}\ndata: {{prices: {tmp_path / 'prices.csv'}}}\n")
    holdings = str(ROOT / "examples" / "holdings.csv")
    refused = CliRunner().invoke(main, ["validate", holdings, "-c", str(config)])
    assert refused.exit_code == 4
    day = prices.loc[cut, "date"]
    assert f"prices.csv: IWM: the close on {day} is" in refused.stderr and words in refused.stderr
    assert "give split-adjusted closes, or set data.on_split: warn if the move is real" in refused.stderr
    config.write_text(f"extends: {base}\ndata: {{prices: {tmp_path / 'prices.csv'}, on_split: warn}}\n")
    warned = CliRunner().invoke(main, ["validate", holdings, "-c", str(config)])
    assert warned.exit_code == 0 and f"IWM: the close on {day} is" in warned.stderr


def test_real_closes_have_no_split_like_move(shared_data: Path) -> None:
    """33 years of 50 ETFs' adjusted closes, crashes of 2008 and 2020 included: nothing would be refused as a
    split or as an implausible move; three real days of -20% and +23% look like a 5-for-4 split or its reverse, and
    they are only named."""
    from allocator.inputs.market_data import implausible_moves, split_like_moves

    closes = pd.read_csv(shared_data / "etf_prices_adjclose.csv", index_col=0, parse_dates=True)
    found = split_like_moves(closes)
    assert all(move.ambiguous for move in found)
    assert {(move.symbol, move.day) for move in found} == {("VNQ", "2008-12-01"), ("XLE", "2020-03-09"),
                                                          ("EEM", "2008-10-13")}
    assert implausible_moves(closes) == []


@pytest.mark.parametrize(("factor", "label", "refused"), [(2 / 3, "3-for-2", True), (0.75, "4-for-3", True),
                                                          (1.5, "2-for-3", True), (0.8, "5-for-4", False),
                                                          (0.6, "", False), (0.475, "", False),
                                                          (1e-6, None, True), (1e12, None, True)])
def test_fractional_splits_and_implausible_moves(factor: float, label: str | None, refused: bool,
                                                 tmp_path: Path) -> None:
    """IWM's closes from 50 sessions before the end multiplied by ``factor``: 3-for-2 and 4-for-3 splits are refused
    like whole ones, a 5-for-4 (a real -20% day looks the same) is named, and a move beyond 60 times is no price."""
    from click.testing import CliRunner

    from allocator.cli import main

    prices = pd.read_csv(ROOT / "examples" / "prices.csv")
    prices.loc[prices.index[-50:], "IWM"] = prices["IWM"].iloc[-50:] * factor
    prices.to_csv(tmp_path / "prices.csv", index=False, float_format="%.10g")
    config = tmp_path / "config.yaml"
    config.write_text(f"extends: {ROOT / 'configs' / 'base.yaml'}\ndata: {{prices: {tmp_path / 'prices.csv'}}}\n")
    result = CliRunner().invoke(main, ["validate", str(ROOT / "examples" / "holdings.csv"), "-c", str(config),
                                       "--no-solve"])
    day = prices["date"].iloc[-50]
    if label is None:
        assert result.exit_code == 4 and f"IWM: the close on {day} is" in result.stderr
        assert "not a move a fund makes in a day" in result.stderr
    elif not label:  # no split's ratio (a -40% day, a 2-for-1 split with a -5% day on top): named, never silent
        assert result.exit_code == 0, result.output
        assert f"Warning: IWM: the close on {day} is" in result.stderr
        assert "a move beyond any real fund's day (a split with the day's move on top?)" in result.stderr
    elif refused:
        assert result.exit_code == 4, result.output
        assert f"as an unadjusted {label} split would make it" in result.stderr
    else:
        assert result.exit_code == 0, result.output
        assert f"Warning: IWM: the close on {day} is 0.798 times the day before, as an unadjusted 5-for-4 split " \
               "would make it, or a real move of that size" in result.stderr


@pytest.mark.parametrize("name", ["symbol", "Ticker", "SYM"])
def test_long_prices_with_a_ticker_column_read_like_the_wide_file(name: str, tmp_path: Path) -> None:
    wide = pd.read_csv(ROOT / "examples" / "prices.csv")
    path = tmp_path / "long.csv"
    wide.melt(id_vars="date", var_name=name, value_name="close").to_csv(path, index=False)
    read = read_prices(path)
    expected = read_prices(ROOT / "examples" / "prices.csv")
    pd.testing.assert_frame_equal(read[expected.columns], expected, check_freq=False)


@pytest.mark.parametrize("encoding", ["utf-16", "cp1252", "utf-8-sig"])
def test_prices_fundamentals_and_holdings_read_in_the_common_encodings(encoding: str, tmp_path: Path) -> None:
    """What spreadsheets save (UTF-16 with its mark, Windows-1252, UTF-8 with a mark) reads like UTF-8."""
    from allocator.inputs.holdings import read_holdings
    from allocator.inputs.market_data import read_fundamentals

    examples = ROOT / "examples"
    for name in ("prices.csv", "fundamentals.csv", "holdings.csv"):
        text = (examples / name).read_text()
        if name == "fundamentals.csv":
            text = text.replace("SPDR S&P 500 ETF Trust", "SPDR S&P 500 ETF Trust \u00ae")  # a non-ASCII byte
        (tmp_path / name).write_bytes(text.encode(encoding))
    pd.testing.assert_frame_equal(read_prices(tmp_path / "prices.csv"), read_prices(examples / "prices.csv"))
    pd.testing.assert_frame_equal(read_fundamentals(tmp_path / "fundamentals.csv"),
                                  read_fundamentals(examples / "fundamentals.csv"))
    assert read_holdings(tmp_path / "holdings.csv").positions == read_holdings(examples / "holdings.csv").positions


@pytest.mark.parametrize(("file", "column", "cell", "words"), [
    ("prices.csv", "SPY", "1e400", "1e400 is out of range"),
    ("prices.csv", "SPY", "1e308", "1e308 is out of range"),
    ("fundamentals.csv", "eps_growth", "1.797e308", "1.797e308 is out of range"),
])
def test_numbers_at_the_edge_of_floating_point_are_refused_by_validate_and_run(
        file: str, column: str, cell: str, words: str, tmp_path: Path) -> None:
    """validate and run agree: a value beyond 1e15 (a feed's 'unset' placeholder, an overflow) is refused with
    the file, row and column, never an 'unexpected' exit nor a signal zeroed for every asset."""
    from click.testing import CliRunner

    from allocator.cli import main

    frame = pd.read_csv(ROOT / "examples" / file, dtype=str, keep_default_na=False)
    frame.loc[0, column] = cell
    frame.to_csv(tmp_path / file, index=False)
    config = tmp_path / "edge.yaml"
    key = "prices" if file == "prices.csv" else "fundamentals"
    config.write_text(f"extends: {ROOT / 'configs' / 'base.yaml'}\ndata: {{{key}: {tmp_path / file}}}\n")
    for command in ("validate", "run"):
        result = CliRunner().invoke(main, [command, str(ROOT / "examples" / "holdings.csv"), "-c", str(config)])
        assert result.exit_code == 4, (command, result.output)
        assert f"{tmp_path / file}: row 2: {column}: {words}" in result.stderr, (command, result.stderr)


def test_daily_returns_are_laid_out_by_rows_whatever_the_layout_of_the_closes() -> None:
    """The risk estimators sum along the rows of the returns: a column-major array changes the last bits of the
    covariance, and with a tracking-error limit the weights in the tenth decimal. The fast reader's frames are
    column-major."""
    values = 100.0 + np.random.default_rng(42).random((50, 30))
    returns = [PriceWindow(closes=pd.DataFrame(layout(values)), as_of=pd.Timestamp("2024-01-02")).daily_returns()
               for layout in (np.ascontiguousarray, np.asfortranarray)]
    assert all(r.flags.c_contiguous for r in returns)
    assert np.array_equal(returns[0], returns[1])
    assert np.array_equal(returns[0], values[1:] / values[:-1] - 1.0)


def test_moves_checked_a_block_of_symbols_at_a_time_come_in_row_order(monkeypatch: pytest.MonkeyPatch) -> None:
    """The day-on-day checks run over blocks of columns (memory) yet report as one pass over the matrix would:
    by date, then by column, so the first refused move is the earliest one."""
    import allocator.inputs.market_data as market_data

    rng = np.random.default_rng(42)
    values = 100.0 * np.cumprod(1.0 + rng.normal(0.0, 0.01, size=(30, 7)), axis=0)
    values[20:, 0] /= 2.0  # a 2-for-1 split, in the first block
    values[5:, 6] *= 3.0  # a 1-for-3 reverse split, in the last block, earlier
    values[12:, 3] *= 1e5  # implausible
    values[12:, 1] *= 1e-4  # and on the same day, in an earlier column
    values[8:10, 5] = np.nan  # a gap: no ratio across it
    closes = pd.DataFrame(values, index=pd.bdate_range("2025-01-01", periods=30), columns=[f"S{i}" for i in range(7)])
    whole_splits = market_data.split_like_moves(closes)
    whole_implausible = market_data.implausible_moves(closes)
    monkeypatch.setattr(market_data, "CHECK_BLOCK", 2)
    assert market_data.split_like_moves(closes) == whole_splits
    assert market_data.implausible_moves(closes) == whole_implausible
    assert [(m.symbol, m.label) for m in whole_splits] == [("S6", "1-for-3"), ("S1", ""), ("S3", ""),
                                                           ("S0", "2-for-1")]
    assert [(symbol, day) for symbol, day, _, _ in whole_implausible] == [("S1", "2025-01-17"), ("S3", "2025-01-17")]
