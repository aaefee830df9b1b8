"""What ``allocate run --as-of`` warns about, ``allocate backtest`` keeps: each rebalance's warnings in warnings.csv,
counted in metrics.json, listed on stderr and on the report page; and a holdings file that prices a fund without
closes is held at that price, as ``allocate run`` holds it."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pandas as pd
from click.testing import Result

from tests.helpers import backtest_rows, write_config

CLEAN = """extends: base.yaml
data: {{on_split: warn}}
risk: {{lookback_days: 60}}
returns: {{peer_group: [style]}}
backtest: {{static_fundamentals: true, every: 15, strategies: [{strategies}], workers: 1, bootstrap_samples: 100}}
"""
START = "2025-11-03"  # rebalances on 2025-11-03, 2025-11-24, 2025-12-15 and 2026-01-05


def _backtest(folder: Path, cli: Callable[..., Result], *options: str | Path,
              strategies: str = "benchmark_rebalanced") -> Result:
    config = write_config(folder, CLEAN.format(strategies=strategies), "backtest.yaml")
    return cli("backtest", "-c", config, "--start", START, "-o", folder / "bt", *options)


def _halve(folder: Path, symbol: str, start: str) -> str:
    """``symbol``'s closes halved from the first session on or after ``start`` (an unadjusted 2-for-1 split); that
    session's date."""
    path = folder / "examples" / "prices.csv"
    prices = pd.read_csv(path, index_col="date")
    day = str(prices.index[prices.index >= start][0])
    prices.loc[prices.index >= day, symbol] = (prices.loc[prices.index >= day, symbol] / 2).round(2)
    prices.to_csv(path)
    return day


def test_a_clean_backtest_writes_warnings_csv_with_its_header_only(example_copy: Path,
                                                                   cli: Callable[..., Result]) -> None:
    result = _backtest(example_copy, cli, "--initial-cash", "1000000", strategies="benchmark_hold")
    assert result.exit_code == 0, result.stderr
    lines = (example_copy / "bt" / "warnings.csv").read_text().splitlines()
    assert [line for line in lines if not line.startswith("# look-ahead")] == ["date,strategy,warning"]
    assert json.loads((example_copy / "bt" / "metrics.json").read_text())["warnings"] == 0
    assert "warnings on the rebalances" not in result.stderr


def test_a_split_like_move_is_a_warning_of_the_first_rebalance_after_it(example_copy: Path,
                                                                        cli: Callable[..., Result]) -> None:
    """GLD halved from 2025-12-01: the rebalance of 2025-12-15 (the first after) warns as ``allocate run --as-of
    2025-12-15`` does; warnings.csv has it, metrics.json counts the rows, stderr and the report page show it, and
    the backtest repeats from its manifest byte for byte."""
    day = _halve(example_copy, "GLD", "2025-12-01")
    result = _backtest(example_copy, cli, "--initial-cash", "1000000", "--report")
    assert result.exit_code == 0, result.stderr
    rows = backtest_rows(example_copy / "bt" / "warnings.csv")
    split = [row for row in rows if row["warning"].startswith(f"GLD: the close on {day} is 0.")]
    assert split and "split" in split[0]["warning"]
    assert (split[0]["date"], split[0]["strategy"]) == ("2025-12-15", "benchmark_rebalanced")
    assert all(row["date"] >= "2025-12-15" for row in split), "no rebalance before the move names it"
    assert [row["date"] for row in rows] == sorted(row["date"] for row in rows)
    assert json.loads((example_copy / "bt" / "metrics.json").read_text())["warnings"] == len(rows)
    assert f"{len(rows)} warnings on the rebalances" in result.stderr
    assert f"Warning: {split[0]['warning']}\n" in result.stderr
    page = (example_copy / "bt" / "report.html").read_text()
    assert f"GLD: the close on {day}" in page[page.index('<section id="warnings"'):]
    again = cli("backtest", "--from-manifest", example_copy / "bt" / "manifest.json", "-o", example_copy / "again",
                "-q")
    assert again.exit_code == 0, again.stderr
    assert "reproduced: every output file is byte-identical" in again.stderr
    assert "warnings on the rebalances" not in again.stderr, "-q prints no rebalance warning"


def test_a_fund_priced_only_in_the_holdings_file_is_held_fixed_at_that_price(example_copy: Path,
                                                                             cli: Callable[..., Result]) -> None:
    """VTI, in neither the universe nor the price file, with its price in the holdings file: ``allocate run``
    holds it at that price, and so does the backtest (it exited 4 asking for the price the file gives)."""
    holdings = example_copy / "h.csv"
    holdings.write_text("symbol,quantity,price\nSPY,513,\nQQQ,100,\nVTI,10,250\n")
    result = _backtest(example_copy, cli, "--holdings", holdings)
    assert result.exit_code == 0, result.stderr
    weights = [row for row in backtest_rows(example_copy / "bt" / "weights.csv") if row["symbol"] == "VTI"]
    assert len(weights) == 4 and all(float(row["weight"]) > 0 for row in weights), "held through every rebalance"
    held = "VTI: no close in the price file; held fixed at the holdings file's price 250.00"
    rows = backtest_rows(example_copy / "bt" / "warnings.csv")
    assert [row["date"] for row in rows if row["warning"] == held] == ["2025-11-03", "2025-11-24", "2025-12-15",
                                                                       "2026-01-05"]
    assert f"Warning: {held}\n" in result.stderr
    assert not [row for row in backtest_rows(example_copy / "bt" / "trades.csv") if row["symbol"] == "VTI"]


def test_a_fund_with_neither_price_nor_closes_is_refused_naming_the_file_and_its_row(
        example_copy: Path, cli: Callable[..., Result]) -> None:
    holdings = example_copy / "h.csv"
    holdings.write_text("symbol,quantity,price\nSPY,513,\nQQQ,100,\nVTI,10,\n")
    result = _backtest(example_copy, cli, "--holdings", holdings)
    assert result.exit_code == 4, result.stderr
    assert f"Error: {holdings}: row 4: price: VTI has no price here and no close in the price file on or before " \
           f"the first rebalance, {START}; give its price in the holdings file" in result.stderr
    assert "row 0" not in result.stderr and not (example_copy / "bt").exists()
