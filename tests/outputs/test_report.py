"""The terminal summary: the largest trades only, and where the whole list is."""

from __future__ import annotations

import importlib.util
import re
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from types import ModuleType

import pytest
from click.testing import Result

from allocator.outputs.report import TOP_TRADES, largest_trades, more_trades
from allocator.trading.trades import Trade
from tests.conftest import ROOT
from tests.helpers import read_csv


def _trade(symbol: str, side: str, notional: str) -> Trade:
    value = Decimal(notional)
    return Trade(symbol=symbol, side=side, quantity=Decimal(1), price=value, notional_value=value,  # type: ignore[arg-type]
                 current_quantity=Decimal(0), target_quantity=Decimal(1), current_weight=0.0, target_weight=0.01,
                 estimated_cost_value=Decimal(0), reason="rebalance")


def test_the_largest_trades_are_kept_in_the_lists_order() -> None:
    trades = [_trade("A", "SELL", "50"), _trade("B", "SELL", "900"), _trade("C", "SELL", "300"),
              _trade("D", "BUY", "700"), _trade("E", "BUY", "300"), _trade("F", "BUY", "10")]
    assert [t.symbol for t in largest_trades(trades, 3)] == ["B", "C", "D"]  # C before E: the first on a tie
    assert [t.symbol for t in largest_trades(trades, 10)] == ["A", "B", "C", "D", "E", "F"]
    assert largest_trades([], 3) == []


def test_the_line_under_the_table_says_where_the_rest_are() -> None:
    assert more_trades(1, "out/trades.csv") == "1 more trade in out/trades.csv"
    assert more_trades(410, None) == "410 more trades not shown; write the whole list with -o FOLDER"


def _large_universe() -> ModuleType:
    spec = importlib.util.spec_from_file_location("large_universe", ROOT / "bench" / "large_universe.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_a_run_with_many_trades_prints_the_largest_and_names_the_trade_file(
        tmp_path: Path, cli: Callable[..., Result]) -> None:
    config = _large_universe().write_universe(tmp_path / "account", 150)
    out = tmp_path / "out"
    result = cli("run", tmp_path / "account" / "holdings.csv", "-c", config, "-o", out, "--format", "json",
                 "--format", "csv")
    assert result.exit_code == 0, result.output
    trades = read_csv(out / "trades.csv")
    assert len(trades) > TOP_TRADES
    assert f"The {TOP_TRADES} largest of {len(trades)} trades by value (sells first)" in result.stdout
    assert f"{len(trades) - TOP_TRADES} more trades in {out / 'trades.json'}" in result.stdout
    shown = re.findall(r"│ (?:BUY|SELL) +│ (\S+) +│", result.stdout)
    largest = sorted(trades, key=lambda t: -Decimal(t["notional"]))[:TOP_TRADES]
    assert sorted(shown) == sorted(t["symbol"] for t in largest)
    assert shown == [t["symbol"] for t in trades if t["symbol"] in set(shown)]  # sells first, as in the file
