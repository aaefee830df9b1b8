"""``allocate compare --robust`` end to end: the view matrix in compare.json, compare_views.csv and the terminal; the
robust portfolio written to robust/ like a run, its trades reconciling with the holdings to the share and the cent."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from allocator.cli import main
from tests.conftest import EXAMPLE_HOLDINGS, ROOT
from tests.helpers import decimal, read_csv

SCENARIOS = ROOT / "configs" / "scenarios"
TOL = 1e-9


@pytest.fixture(scope="module")
def compared(tmp_path_factory: pytest.TempPathFactory) -> tuple[Result, Path]:
    out = tmp_path_factory.mktemp("robust") / "out"
    configs = [str(p) for p in sorted(SCENARIOS.glob("*.yaml"))]
    result = CliRunner().invoke(main, ["compare", str(EXAMPLE_HOLDINGS), *configs, "--robust", "-o", str(out)],
                                catch_exceptions=False)
    return result, out


def test_robust_writes_a_run_folder_beside_the_comparison(compared: tuple[Result, Path]) -> None:
    result, out = compared
    assert result.exit_code == 0, result.output
    assert (out / "compare_views.csv").is_file()
    assert sorted(p.name for p in (out / "robust").iterdir()) == ["manifest.json", "summary.json", "trades.csv",
                                                                   "weights.csv"]
    manifest = json.loads((out / "robust" / "manifest.json").read_text())
    assert manifest["command"]["robust"]["base"] == "goldilocks"
    assert json.loads((out / "manifest.json").read_text())["robust"]["solver"]["status"] == "optimal"


def test_the_matrix_is_in_json_csv_and_terminal(compared: tuple[Result, Path]) -> None:
    result, out = compared
    data = json.loads((out / "compare.json").read_text())
    matrix = data["view_matrix"]
    views = matrix["views"]
    assert views == data["scenario_names"]
    portfolios = {p["name"]: p for p in matrix["portfolios"]}
    assert list(portfolios) == [*views, "robust", "current", "benchmark"]
    for name in views:  # the diagonal is the scenario's own expected return in the metrics
        own = next(s for s in data["scenarios"] if s["name"] == name)["metrics"]["expected_return"]
        assert abs(portfolios[name]["by_view"][name]["expected_return"] - own) <= TOL
    rows = read_csv(out / "compare_views.csv")
    assert len(rows) == len(portfolios) * len(views)
    for row in rows:
        cell = portfolios[row["portfolio"]]["by_view"][row["view"]]
        assert abs(float(row["utility"]) - cell["utility"]) <= 1e-9
        assert (row["worst"] == "yes") == (portfolios[row["portfolio"]]["worst_case"]["view"] == row["view"])
    robust = data["robust"]
    assert robust["worst_case"] == portfolios["robust"]["worst_case"]
    assert robust["base"] == views[0]  # whose portfolio the base limits allow, so it cannot beat the robust one
    assert robust["worst_case"]["utility"] >= portfolios[views[0]]["worst_case"]["utility"] - TOL
    assert "Portfolios (rows) under every scenario's view" in result.stdout
    assert "robust (limits of goldilocks, 5 views): worst-case utility" in result.stdout


def test_robust_trades_reconcile_with_the_holdings(compared: tuple[Result, Path]) -> None:
    _, out = compared
    holdings = {r["symbol"]: decimal(r["quantity"]) for r in read_csv(EXAMPLE_HOLDINGS)}
    cash = holdings.pop("CASH")
    final = dict(holdings)
    trades = read_csv(out / "robust" / "trades.csv")
    assert trades, "the robust portfolio trades"
    for t in trades:
        quantity = Decimal(t["quantity"])
        assert quantity > 0 and Decimal(t["current_quantity"]) == holdings.get(t["symbol"], Decimal(0))
        notional = Decimal(t["notional"])
        assert notional == (quantity * Decimal(t["price"])).quantize(Decimal("0.01"))
        if t["side"] == "SELL":
            assert quantity <= holdings[t["symbol"]]
            final[t["symbol"]] -= quantity
            cash += notional
        else:
            final[t["symbol"]] = final.get(t["symbol"], Decimal(0)) + quantity
            cash -= notional
        cash -= Decimal(t["estimated_cost"])
        assert Decimal(t["target_quantity"]) == final[t["symbol"]]
    summary = json.loads((out / "robust" / "summary.json").read_text())
    assert cash >= 0
    assert cash == Decimal(str(summary["trades"]["cash_after_value"])).quantize(Decimal("0.01"))
    weights = read_csv(out / "robust" / "weights.csv")
    assert abs(sum(float(r["target_weight"]) for r in weights) - 1.0) <= 1e-9
