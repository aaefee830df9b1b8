"""Price files: the vectorized fast path reads exactly what the per-cell parser reads, and falls back to it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from allocator.errors import DataError
from allocator.files.reading import FileLimits
from allocator.inputs.market_data import numeric_column, read_csv_table, read_prices
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
