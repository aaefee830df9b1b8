"""End to end through the CLI on the shipped example: every limit holds, trades reconcile, RSI trims, bytes repeat."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from click.testing import Result
from sklearn.covariance import LedoitWolf

from allocator.config.schema import SIGNALS
from allocator.model.rsi import wilder_rsi
from tests.conftest import BASE_CONFIG, EXAMPLE_HOLDINGS, ROOT
from tests.helpers import decimal, read_csv

TOL = 1e-6


# example_run (tests/conftest.py): the output folder of the example run, shared by the session.


def test_writes_the_four_files(example_run: Path) -> None:
    assert sorted(p.name for p in example_run.iterdir()) == ["manifest.json", "summary.json", "trades.csv",
                                                             "weights.csv"]


def _weights(out: Path) -> pd.DataFrame:
    return pd.read_csv(out / "weights.csv").set_index("symbol")


def test_every_limit_of_the_config_holds_recomputed_with_numpy(example_run: Path) -> None:
    config = yaml.safe_load(BASE_CONFIG.read_text())
    limits = config["constraints"]
    table = _weights(example_run)
    cash = float(table.loc["CASH", "target_weight"])
    assets = table.drop(index="CASH")
    w = assets["target_weight"].to_numpy()
    b = assets["benchmark_weight"].to_numpy()
    w0 = assets["current_weight"].to_numpy()
    cash0 = float(table.loc["CASH", "current_weight"])
    assert abs(w.sum() + cash - 1.0) < TOL
    assert limits["cash_min"] - TOL <= cash <= limits["cash_max"] + TOL
    assert np.all(w >= -TOL)
    assert np.all(w <= limits["max_weight"] + TOL)
    assert np.all(w - b >= limits["active_min"] - TOL)
    assert np.all(w - b <= limits["active_max"] + TOL)
    fundamentals = pd.read_csv(ROOT / "examples" / "fundamentals.csv").set_index("symbol").loc[assets.index]
    for group in limits["groups"]:
        members = (fundamentals[group["by"]] == group["name"]).to_numpy()
        total = w[members].sum()
        reference = {"absolute": 0.0, "benchmark": b[members].sum(), "current": w0[members].sum()}[
            group.get("relative_to", "absolute")]
        assert total <= reference + group.get("max", 1.0) + TOL, group
        assert total >= reference + group.get("min", -1.0) - TOL, group
    # one-way turnover net of flows: cash above the floor is invested without counting (docs/method.md)
    inflow, outflow = max(cash0 - limits["cash_min"], 0.0), max(limits["cash_min"] - cash0, 0.0)
    bought, sold = np.maximum(w - w0, 0).sum(), np.maximum(w0 - w, 0).sum()
    assert max(bought - inflow, sold - outflow, 0.0) <= limits["turnover_max"] + TOL
    # tracking error with an independent covariance: scikit-learn's Ledoit-Wolf on the same window
    prices = pd.read_csv(ROOT / "examples" / "prices.csv", index_col="date")[list(assets.index)]
    returns = prices.iloc[-(config["risk"]["lookback_days"] + 1):].pct_change().dropna().to_numpy()
    sigma = LedoitWolf().fit(returns).covariance_ * 252
    active = w - b
    assert np.sqrt(active @ sigma @ active) <= limits["tracking_error_max"] + TOL


def test_rsi_rule_fires_for_the_overbought_fund_and_its_bound_holds(example_run: Path) -> None:
    config = yaml.safe_load(BASE_CONFIG.read_text())["rsi"]
    prices = pd.read_csv(ROOT / "examples" / "prices.csv", index_col="date")
    table = _weights(example_run).drop(index="CASH")
    rsi = {s: wilder_rsi(prices[s].to_numpy(), 14)[-1] for s in table.index}
    overbought = [s for s, v in rsi.items() if v >= config["overbought"]]
    assert overbought == ["IWM"]
    w0 = table.loc["IWM", "current_weight"]
    w = table.loc["IWM", "target_weight"]
    assert w <= (1 - config["min_trim"]) * w0 + TOL
    assert w >= (1 - config["max_trim"]) * w0 - TOL
    trades = {t["symbol"]: t for t in read_csv(example_run / "trades.csv")}
    assert trades["IWM"]["side"] == "SELL"
    assert trades["IWM"]["reason"].startswith("rsi_trim(RSI 71.")
    summary = (example_run / "summary.json").read_text()
    assert "rsi_trim on IWM" in summary


def test_holdings_plus_trades_reconcile_to_the_share_and_the_cent(example_run: Path) -> None:
    holdings = {r["symbol"]: decimal(r["quantity"]) for r in read_csv(EXAMPLE_HOLDINGS)}
    cash_before = holdings.pop("CASH")
    trades = read_csv(example_run / "trades.csv")
    final = dict(holdings)
    cash = cash_before
    sides = [t["side"] for t in trades]
    assert sides == sorted(sides, key=lambda s: s != "SELL"), "sells are listed before buys"
    for t in trades:
        quantity = Decimal(t["quantity"])
        assert quantity == quantity.to_integral_value() and quantity > 0
        assert Decimal(t["current_quantity"]) == holdings.get(t["symbol"], Decimal(0))
        notional = Decimal(t["notional"])
        assert notional == (quantity * Decimal(t["price"])).quantize(Decimal("0.01"))
        if t["side"] == "SELL":
            assert quantity <= holdings[t["symbol"]], "no sell larger than the position"
            final[t["symbol"]] = final[t["symbol"]] - quantity
            cash += notional
        else:
            final[t["symbol"]] = final.get(t["symbol"], Decimal(0)) + quantity
            cash -= notional
        cash -= Decimal(t["estimated_cost"])
        assert Decimal(t["target_quantity"]) == final[t["symbol"]]
        assert t["reason"]
    summary = pd.read_json(example_run / "summary.json", typ="series")
    assert cash >= 0
    assert cash == Decimal(str(summary["trades"]["cash_after_value"])).quantize(Decimal("0.01"))
    # the achieved weights in weights.csv are those of the final quantities
    prices = {t["symbol"]: Decimal(t["price"]) for t in trades}
    table = _weights(example_run)
    closes = pd.read_csv(ROOT / "examples" / "prices.csv", index_col="date").iloc[-1]
    values = {s: float(q * prices.get(s, Decimal(str(closes[s])))) for s, q in final.items()}
    nav_after = sum(values.values()) + float(cash)
    for symbol, value in values.items():
        assert abs(table.loc[symbol, "achieved_weight"] - value / nav_after) < 1e-9


def test_two_runs_give_byte_identical_data_files(example_run: Path, tmp_path: Path,
                                                 cli: Callable[..., Result]) -> None:
    second = tmp_path / "again"
    result = cli("run", EXAMPLE_HOLDINGS, "-c", BASE_CONFIG, "-o", second, "-q")
    assert result.exit_code == 0, result.output
    for name in ("weights.csv", "trades.csv", "summary.json"):
        assert (second / name).read_bytes() == (example_run / name).read_bytes(), name


def test_summary_reports_what_the_design_asks(example_run: Path) -> None:
    import json

    summary = json.loads((example_run / "summary.json").read_text())
    for key in ("expected_return", "volatility", "sharpe", "tracking_error", "active_share", "turnover"):
        assert key in summary["target"], key
    assert set(summary["exposures"]) == {"size_bucket", "sector", "asset_class"}
    assert summary["binding_constraints"]
    assert len(summary["top_risk_contributions"]) == 5
    attribution = summary["attribution"]["IWN"]
    parts = attribution["prior"] + attribution["views"] + sum(attribution[k] for k in SIGNALS)
    assert abs(parts - attribution["expected_return"]) < 1e-9
    manifest = json.loads((example_run / "manifest.json").read_text())
    assert manifest["inputs"]["holdings"]["sha256"] and manifest["inputs"]["prices"]["sha256"]
    assert manifest["solver"]["status"] == "optimal" and manifest["solver"]["attempts"][0]["solver"] == "clarabel"
    assert manifest["resolved_config"]["constraints"]["turnover_max"] == 0.2
    assert manifest["versions"]["cvxpy"]


def test_small_caps_stay_overweighted_but_no_substitute_of_the_overbought_fund_is_bought(example_run: Path) -> None:
    table = _weights(example_run).drop(index="CASH")
    fundamentals = pd.read_csv(ROOT / "examples" / "fundamentals.csv").set_index("symbol").loc[table.index]
    small = (fundamentals["size_bucket"] == "small").to_numpy()
    target, benchmark = table["target_weight"].to_numpy(), table["benchmark_weight"].to_numpy()
    assert target[small].sum() > benchmark[small].sum() + 0.01
    # rsi.scope correlated: the funds that move with the overbought IWM get no adds, so the tilt waits
    current = table["current_weight"].to_numpy()
    substitutes = [s for s in ("IJR", "IWN", "IWO", "VB", "IJH", "VO") if s in table.index]
    rows = [table.index.get_loc(s) for s in substitutes]
    assert np.all(target[rows] <= current[rows] + 1e-9)
    trades = {row["symbol"]: row for row in read_csv(example_run / "trades.csv")}
    assert not any(trades[s]["side"] == "BUY" for s in substitutes if s in trades)
