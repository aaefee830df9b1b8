"""Flows are not turnover, trading modes, and costs against a holding horizon (docs/method.md)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import numpy as np
from click.testing import Result

from allocator.config.schema import TradingMode
from allocator.optimize.constraints import gross_turnover, turnover
from allocator.pipeline import prepare, run
from allocator.terms import BUY, SELL
from allocator.trading.trades import reconcile
from tests.conftest import BASE_CONFIG, EXAMPLE_HOLDINGS
from tests.helpers import read_csv, write_config


def _nav() -> float:
    return prepare(EXAMPLE_HOLDINGS, BASE_CONFIG).universe.nav_value


def test_pro_rata_investment_of_cash_costs_no_turnover_and_a_cash_neutral_rebalance_costs_as_before() -> None:
    limits = prepare(EXAMPLE_HOLDINGS, BASE_CONFIG, cash=Decimal(500_000)).limits
    w0, c0 = limits.current, limits.current_cash
    spend = limits.inflow  # down to the cash floor
    invested = w0 + spend * w0 / w0.sum()
    assert turnover(limits, invested, c0 - spend) < 1e-12
    assert gross_turnover(limits, invested) > 0.2  # the same trades counted the old way
    rebalanced = w0.copy()
    rebalanced[0] -= 0.03
    rebalanced[1] += 0.03
    old = 0.5 * (np.abs(rebalanced - w0).sum() + 0.0)
    assert abs(turnover(limits, rebalanced, c0) - old) < 1e-12


def test_a_deposit_of_80_percent_of_nav_is_invested_under_a_5_percent_turnover_limit(
        example_copy: Path, cli: Callable[..., Result]) -> None:
    config = write_config(example_copy, "extends: base.yaml\nconstraints: {turnover_max: 0.05}\n")
    deposit = round(0.8 * _nav(), 2)
    out = example_copy / "out"
    result = cli("run", example_copy / "examples/holdings.csv", "-c", config, "--cash", str(deposit), "-o", out)
    assert result.exit_code == 0, result.stderr
    summary = json.loads((out / "summary.json").read_text())
    flows = summary["flows"]
    assert flows["deposit_value"] == deposit
    assert flows["turnover"] <= 0.05 + 1e-6
    assert flows["gross_turnover"] > 0.4  # the deposit was invested
    assert summary["target"]["turnover"] <= 0.05 + 1e-6
    trades = summary["trades"]
    nav_after = summary["nav_value"] - summary["estimated_cost_value"]
    assert trades["cash_after_value"] <= 0.05 * nav_after + 1.0  # cash ends within its limits (cash_max 5%)
    assert "Flows: mode rebalance; deposit" in result.stdout


def test_invest_mode_only_buys(example_copy: Path, cli: Callable[..., Result]) -> None:
    out = example_copy / "out"
    result = cli("run", example_copy / "examples/holdings.csv", "-c", example_copy / "configs/base.yaml",
                 "--cash", "200000", "--mode", "invest", "-o", out)
    assert result.exit_code == 0, result.stderr
    rows = read_csv(out / "trades.csv")
    assert rows and all(r["side"] == BUY for r in rows)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["flows"]["mode"] == "invest"
    assert summary["trades"]["cash_after_value"] < 0.05 * summary["nav_value"]


def test_raise_mode_only_sells_and_raises_at_least_the_amount(example_copy: Path) -> None:
    result = run(example_copy / "examples/holdings.csv", example_copy / "configs/base.yaml",
                 mode=TradingMode.RAISE, raise_value=Decimal(50_000))
    trades = result.trades
    assert trades.trades and all(t.side == SELL for t in trades.trades)
    assert trades.cash_after_value >= trades.cash_before_value + 50_000
    assert reconcile(trades) == []
    # no one-share sales of the untouched holdings: every trade clears the minimum trade value or closes a position
    minimum = result.config.trading.min_trade_value
    assert all(t.notional_value >= minimum or t.target_quantity == 0 for t in trades.trades), trades.trades
    assert not any("missed by" in w for w in trades.warnings), trades.warnings
    invest = run(example_copy / "examples/holdings.csv", example_copy / "configs/base.yaml",
                 cash=Decimal(200_000), mode=TradingMode.INVEST)
    assert all(t.side == BUY for t in invest.trades.trades) and reconcile(invest.trades) == []


def test_an_impossible_raise_exits_5_naming_it(example_copy: Path, cli: Callable[..., Result]) -> None:
    result = cli("run", example_copy / "examples/holdings.csv", "-c", example_copy / "configs/base.yaml",
                 "--raise", "1000000")
    assert result.exit_code == 5
    assert "--raise (trading.raise_value) cannot be met" in result.stderr
    more = cli("run", example_copy / "examples/holdings.csv", "-c", example_copy / "configs/base.yaml",
               "--raise", "50000000")
    assert more.exit_code == 2
    assert "Error: --raise: 50,000,000.00 is more than the account holds outside cash" in more.stderr
    nothing = cli("run", example_copy / "examples/holdings.csv", "-c", example_copy / "configs/base.yaml",
                  "--mode", "raise")
    assert nothing.exit_code == 2 and "--mode raise: no amount to raise" in nothing.stderr
    bad = cli("run", example_copy / "examples/holdings.csv", "-c", example_copy / "configs/base.yaml",
              "--mode", "invest", "--raise", "100")
    assert bad.exit_code == 2


def test_a_raise_beyond_the_holdings_set_in_the_config_names_the_config_key(example_copy: Path,
                                                                            cli: Callable[..., Result]) -> None:
    """Set in the config (as a batch model sets it), the amount is the config's: exit 3 naming the file and
    ``trading.raise_value``, not the ``--raise`` option the user never gave."""
    config = write_config(example_copy, "extends: base.yaml\ntrading:\n  mode: raise\n  raise_value: 50000000\n")
    result = cli("run", example_copy / "examples/holdings.csv", "-c", config)
    assert result.exit_code == 3, result.stderr
    assert (f"Error: {config}: trading.raise_value: 50,000,000.00 is more than the account holds outside cash"
            in result.stderr), result.stderr


def _traded(example_copy: Path, cost_bps: float, horizon: float) -> tuple[int, float]:
    config = write_config(example_copy, f"extends: base.yaml\ntrading: {{cost_bps: {cost_bps}, "
                          f"horizon_years: {horizon}}}\n", f"cost_{cost_bps}_{horizon}.yaml")
    trades = run(example_copy / "examples/holdings.csv", config).trades
    return len(trades.trades), float(trades.bought_value + trades.sold_value)


def test_costs_bind_over_a_short_horizon(example_copy: Path) -> None:
    count_3, traded_3 = _traded(example_copy, 3, 0.25)
    count_30, traded_30 = _traded(example_copy, 30, 0.25)
    assert count_30 < count_3 and traded_30 < 0.5 * traded_3
    _, traded_6 = _traded(example_copy, 6, 0.25)
    assert traded_6 < traded_3  # doubling costs over a quarter trades less
    _, traded_6_year = _traded(example_copy, 6, 1.0)
    _, traded_3_year = _traded(example_copy, 3, 1.0)
    assert traded_6_year >= traded_6  # over a year the same costs weigh four times less
    assert traded_3_year >= traded_6_year - 1.0


def test_trades_carry_their_break_even_alpha_and_old_trade_lists_still_read(
        example_copy: Path, cli: Callable[..., Result]) -> None:
    config = write_config(example_copy, "extends: base.yaml\ntrading: {cost_bps: 3, horizon_years: 0.5, "
                          "spread_bps_by_symbol: {QQQ: 4}}\n")
    out = example_copy / "out"
    assert cli("run", example_copy / "examples/holdings.csv", "-c", config, "-o", out, "--format", "csv",
               "--format", "json").exit_code == 0
    rows = read_csv(out / "trades.csv")
    for row in rows:
        expected = float(row["estimated_cost"]) / float(row["notional"]) / 0.5
        assert abs(float(row["break_even_alpha"]) - expected) < 1e-9
    qqq = [r for r in rows if r["symbol"] == "QQQ"]
    assert not qqq or abs(float(qqq[0]["break_even_alpha"]) - 2 * 5e-4) < 2e-5  # 3 bp + half of a 4 bp spread
    assert all("break_even_alpha" in t for t in json.loads((out / "trades.json").read_text())["trades"])
    # a trade list written before the column existed still exports
    text = (out / "trades.csv").read_text().splitlines()
    index = text[0].split(",").index("break_even_alpha")
    old = "\n".join(",".join(c for i, c in enumerate(line.split(",")) if i != index) for line in text) + "\n"
    (out / "trades.csv").write_text(old)  # a list written before the column, recorded by its run's manifest
    manifest = json.loads((out / "manifest.json").read_text())
    manifest["outputs"]["trades.csv"] = hashlib.sha256(old.encode()).hexdigest()
    (out / "manifest.json").write_text(json.dumps(manifest))
    exported = cli("export", out / "trades.csv", "--format", "json", "-o", example_copy / "old.json")
    assert exported.exit_code == 0, exported.stderr
    assert all("break_even_alpha" not in t for t in json.loads((example_copy / "old.json").read_text())["trades"])


def test_square_root_impact_prices_large_trades_and_warns_without_volume(example_copy: Path) -> None:
    config = write_config(example_copy, "extends: base.yaml\ntrading: {cost_bps: 3, impact: 1.0, "
                          "adv_by_symbol: {SPY: 1000000, QQQ: 1000000, IWN: 1000000, IWO: 1000000}}\n")
    result = run(example_copy / "examples/holdings.csv", config)
    assert any("adv_by_symbol" in w for w in result.warnings)
    assert result.limits.impact is not None and result.limits.impact[result.limits.symbols.index("AGG")] == 0.0
    linear = {t.symbol: t.notional_value * Decimal("0.0003") for t in result.trades.trades}
    for t in result.trades.trades:
        if t.symbol in ("SPY", "QQQ", "IWN", "IWO"):
            assert t.estimated_cost_value > linear[t.symbol] + 1
    assert reconcile(result.trades) == []
