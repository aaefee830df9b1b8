"""``returns.macro.source: series`` and the price signals through ``allocate run``: each option, and each bad file
named by file, row and column (exit 4) or bad config key (exit 3)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import Result

from tests.helpers import write_config

DATES = pd.bdate_range("2022-06-01", "2026-01-30")


def _series(folder: Path, rise: float = 1.0, columns: tuple[str, str] = ("short_rate", "inflation_mom"),
            inflation: float = 0.001) -> Path:
    """A rate flat at 4% that rises by ``rise`` points over its last 60 sessions; inflation printed on the 12th."""
    rate = np.full(len(DATES), 4.0)
    rate[-60:] += np.linspace(0.0, rise, 60)
    frame = pd.DataFrame({"date": DATES.strftime("%Y-%m-%d"), columns[0]: rate.round(4),
                          columns[1]: [inflation if d.day == 12 else None for d in DATES]})
    path = folder / "examples" / "macro.csv"
    frame.to_csv(path, index=False)
    return path


def _run(cli: Callable[..., Result], folder: Path, text: str) -> Result:
    config = write_config(folder, "extends: base.yaml\n" + text)
    return cli("run", folder / "examples" / "holdings.csv", "-c", config, "-o", folder / "out")


def test_a_rising_short_rate_makes_the_regime_hawkish(example_copy: Path, cli: Callable[..., Result]) -> None:
    _series(example_copy)
    result = _run(cli, example_copy, "returns: {macro: {source: series, series: ../examples/macro.csv}}\n")
    assert result.exit_code == 0, result.stderr
    assert "regime hawkish" in result.stdout  # base.yaml says easing; the series says tightening
    manifest = json.loads((example_copy / "out" / "manifest.json").read_text())
    assert manifest["inputs"]["series"]["path"].endswith("macro.csv")


def test_named_columns_and_a_wider_threshold_hold(example_copy: Path, cli: Callable[..., Result]) -> None:
    _series(example_copy, columns=("irx", "cpi_mom"))
    result = _run(cli, example_copy, "returns: {macro: {source: series, series: ../examples/macro.csv, "
                                     "rate_column: irx, inflation_column: cpi_mom, rate_threshold: 2.0}}\n")
    assert result.exit_code == 0, result.stderr
    assert "regime hold" in result.stdout


def test_hot_inflation_from_the_series_is_hawkish_on_flat_rates(example_copy: Path,
                                                                cli: Callable[..., Result]) -> None:
    _series(example_copy, rise=0.0, inflation=0.006)
    result = _run(cli, example_copy, "returns: {macro: {source: series, series: ../examples/macro.csv}}\n")
    assert result.exit_code == 0, result.stderr
    assert "regime hawkish" in result.stdout


def test_weighted_price_signals_are_written_and_a_short_history_named(example_copy: Path,
                                                                      cli: Callable[..., Result]) -> None:
    result = _run(cli, example_copy, "returns: {signal_weights: {momentum: 0.3, low_volatility: 0.2, "
                                     "reversal: 0.1}}\n")
    assert result.exit_code == 0, result.stderr
    assert ("signal reversal: no equity asset has 1261 sessions of closes up to the as-of date; it scores 0 "
            "everywhere") in result.stderr
    header = (example_copy / "out" / "weights.csv").read_text().splitlines()[0]
    assert "alpha_quality,alpha_momentum,alpha_low_volatility,alpha_reversal,views" in header
    summary = json.loads((example_copy / "out" / "summary.json").read_text())
    momentum = summary["scores"]["momentum"]
    assert momentum["SPY"] != 0 and momentum["TLT"] == 0  # equity assets only
    assert summary["signal_multipliers"]["momentum"] == 1


@pytest.mark.parametrize(("edit", "where", "what"), [
    (lambda f: f.assign(short_rate=f["short_rate"].astype(object).where(f.index != 3, "4,5")),
     "macro.csv: row 5: short_rate", "not a number: '4,5' (a decimal comma?)"),
    (lambda f: f.assign(date=f["date"].where(f.index != 1, "03/06/2022")), "macro.csv: row 3: date",
     "not a date: '03/06/2022'"),
    (lambda f: f.iloc[[0, 2, 1, *range(3, len(f))]], "macro.csv: row 4: date", "is not after the date above it"),
    (lambda f: f.rename(columns={"short_rate": "rate"}), "macro.csv",
     "no short-rate column 'short_rate' (returns.macro.rate_column)"),
    (lambda f: f.assign(short_rate=f["short_rate"].where(f.index != 6, 450.0)), "macro.csv: row 8: short_rate",
     "450 is not a short rate in percent"),
    (lambda f: f.assign(inflation_mom=f["inflation_mom"].where(f.index != 7, 0.5)),
     "macro.csv: row 9: inflation_mom", "0.5 is not a monthly inflation fraction"),
])
def test_a_bad_series_file_exits_4_naming_file_row_and_column(
        example_copy: Path, cli: Callable[..., Result], edit: Callable[[pd.DataFrame], pd.DataFrame], where: str,
        what: str) -> None:
    path = _series(example_copy)
    edit(pd.read_csv(path, dtype={"inflation_mom": float})).to_csv(path, index=False)
    result = _run(cli, example_copy, "returns: {macro: {source: series, series: ../examples/macro.csv}}\n")
    assert result.exit_code == 4, result.stderr
    line = next(line for line in result.stderr.splitlines() if line.startswith("Error:"))
    assert where in line and what in line, line
    assert not (example_copy / "out").exists(), "no partial output"


def test_a_missing_series_file_exits_4(example_copy: Path, cli: Callable[..., Result]) -> None:
    result = _run(cli, example_copy, "returns: {macro: {source: series, series: ../examples/none.csv}}\n")
    assert result.exit_code == 4
    assert "none.csv: the series file named by returns.macro.series does not exist" in result.stderr


@pytest.mark.parametrize(("macro", "message"), [
    ("{source: series}", "source is series but no series file is given"),
    ("{series: ../examples/macro.csv}", "a series file is given but source is config"),
    ("{source: fred}", "returns.macro.source"),
])
def test_a_bad_macro_source_exits_3(example_copy: Path, cli: Callable[..., Result], macro: str,
                                    message: str) -> None:
    _series(example_copy)
    result = _run(cli, example_copy, f"returns: {{macro: {macro}}}\n")
    assert result.exit_code == 3, result.stderr
    assert message in result.stderr
