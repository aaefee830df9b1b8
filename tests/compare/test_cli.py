"""``allocate compare`` end to end: the example exits 0 and writes the tables and the chart; the files agree with
``allocate run``; a failing scenario keeps its column and sets the exit code; globs, help and light imports."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner, Result

from allocator.cli import main
from tests.conftest import EXAMPLE_HOLDINGS, ROOT
from tests.helpers import read_csv, write_config

Cli = Callable[..., Result]
SCENARIOS = ROOT / "configs" / "scenarios"
PACK = ["goldilocks", "growth_scare", "hawkish_pivot", "overbought_pullback", "profit_taking"]
FILES = ["compare.json", "compare.png", "compare_metrics.csv", "compare_trades.csv", "compare_views.csv",
         "compare_weights.csv", "manifest.json"]


@pytest.fixture(scope="module")
def compared(tmp_path_factory: pytest.TempPathFactory) -> tuple[Result, Path]:
    out = tmp_path_factory.mktemp("compare") / "out"
    configs = [str(p) for p in sorted(SCENARIOS.glob("*.yaml"))]  # what the shell makes of configs/scenarios/*.yaml
    result = CliRunner().invoke(main, ["compare", str(EXAMPLE_HOLDINGS), *configs, "-o", str(out)],
                                catch_exceptions=False)
    return result, out


def test_compare_on_the_example_exits_0_and_writes_the_tables_and_the_chart(compared: tuple[Result, Path]) -> None:
    result, out = compared
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == FILES
    assert "Error" not in result.stderr
    for title in ("Scenarios (annualized", "Target weights", "Trades by scenario"):
        assert title in result.stdout, title
    for name in ("goldilocks", "growth_scare", "hawkish_pivot", "profit_taking"):
        assert name in result.stdout
    assert "1 compiled problem served 5 solves" in result.stdout
    assert "Scenarios disagree on the direction of: XLK" in result.stdout
    assert "DISAGREE" in result.stdout


def test_metrics_csv_has_scenarios_as_columns(compared: tuple[Result, Path]) -> None:
    _, out = compared
    table = pd.read_csv(out / "compare_metrics.csv", index_col="metric", dtype=str)
    assert list(table.columns) == PACK
    for key in ("expected_return", "volatility", "sharpe", "tracking_error", "active_share", "turnover",
                "estimated_cost", "small_cap_weight", "size_bucket_small", "size_bucket_large", "trades",
                "rsi_rules_fired", "binding_constraints"):
        assert key in table.index, key
    small = table.loc["small_cap_weight"].astype(float)
    assert small["goldilocks"] == small.max()
    assert small["hawkish_pivot"] < small["goldilocks"] and small["growth_scare"] < small["goldilocks"]
    assert float(table.loc["turnover", "profit_taking"]) <= 0.10 + 1e-6
    assert table.loc["status"].tolist() == ["ok"] * 5
    assert "rsi_trim on IWM" in table.loc["rsi_rules", "overbought_pullback"]


def test_weights_csv_equals_allocate_run_for_every_scenario(compared: tuple[Result, Path], tmp_path: Path,
                                                           cli: Cli) -> None:
    _, out = compared
    table = pd.read_csv(out / "compare_weights.csv", index_col="symbol")
    assert list(table.columns) == ["size_bucket", "current_weight", "benchmark_weight", *PACK]
    for name in PACK:
        single = tmp_path / name
        result = cli("run", EXAMPLE_HOLDINGS, "-c", SCENARIOS / f"{name}.yaml", "-o", single, "-q")
        assert result.exit_code == 0, result.output
        weights = pd.read_csv(single / "weights.csv", index_col="symbol")
        assert list(weights.index) == list(table.index)
        # 1e-5: growth_scare's optimum is degenerate (a flat face), and a warm start may stop elsewhere on it
        np.testing.assert_allclose(table[name].to_numpy(), weights["target_weight"].to_numpy(), atol=1e-5, rtol=0,
                                   err_msg=name)
        np.testing.assert_allclose(table["current_weight"], weights["current_weight"], atol=1e-10, rtol=0)
        np.testing.assert_allclose(table["benchmark_weight"], weights["benchmark_weight"], atol=1e-10, rtol=0)
        trades = {t["symbol"]: t for t in read_csv(single / "trades.csv")}
        compared_trades = {t["symbol"]: t for t in read_csv(out / "compare_trades.csv")}
        for symbol, row in compared_trades.items():
            shares = float(row[name])
            if symbol in trades:
                sign = -1.0 if trades[symbol]["side"] == "SELL" else 1.0
                assert shares == sign * float(trades[symbol]["quantity"]), (name, symbol)
            else:
                assert shares == 0.0, (name, symbol)
        assert set(trades) <= set(compared_trades)


def test_trades_csv_flags_direction_disagreements(compared: tuple[Result, Path]) -> None:
    _, out = compared
    rows = read_csv(out / "compare_trades.csv")
    assert list(rows[0]) == ["symbol", "current_quantity", *PACK, "directions_disagree"]
    for row in rows:
        shares = [float(row[name]) for name in PACK]
        expected = any(s > 0 for s in shares) and any(s < 0 for s in shares)
        assert row["directions_disagree"] == ("yes" if expected else "no"), row
    flagged = {r["symbol"] for r in rows if r["directions_disagree"] == "yes"}
    assert "XLK" in flagged and "IWM" not in flagged


def test_compare_json_and_manifest(compared: tuple[Result, Path]) -> None:
    _, out = compared
    data = json.loads((out / "compare.json").read_text())
    assert data["scenario_names"] == PACK and data["failed"] == [] and data["exit_code"] == 0
    assert [s["status"] for s in data["scenarios"]] == ["ok"] * 5
    # goldilocks: the overbought IWM trimmed by 10% is all the small caps hold (its substitutes get no adds)
    assert data["scenarios"][0]["metrics"]["small_cap_weight"] == pytest.approx(0.063, abs=1e-3)
    tlt = next(t for t in data["trades"] if t["symbol"] == "TLT")  # the base adds duration, hawkish cuts it
    assert tlt["by_scenario"]["goldilocks"]["side"] == "BUY" and tlt["by_scenario"]["hawkish_pivot"]["side"] == "SELL"
    assert tlt["directions_disagree"] and "TLT" in data["directions_disagree"]
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["compiled_problems"] == {"built": 1, "reused": 4, "direct": 0}
    assert manifest["input_files_read"] == 2
    hawkish = manifest["scenarios"][PACK.index("hawkish_pivot")]
    assert [Path(p).name for p in hawkish["config_chain"]] == ["hawkish_pivot.yaml", "base.yaml"]
    assert hawkish["resolved_config"]["returns"]["macro"]["rate_path"] == "tightening"
    assert hawkish["resolved_config"]["constraints"]["turnover_max"] == 0.2  # inherited from the base
    assert hawkish["solver"]["reused_compiled_problem"] is True
    assert hawkish["inputs"]["prices"]["sha256"]


def test_the_chart_is_a_png_of_the_scenarios(compared: tuple[Result, Path]) -> None:
    from matplotlib import image

    _, out = compared
    data = (out / "compare.png").read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pixels = image.imread(out / "compare.png")
    height, width = pixels.shape[:2]
    assert width >= 1000 and height >= 600
    assert pixels.std() > 0.05, "not a blank image"


@pytest.mark.slow
def test_outputs_repeat_byte_for_byte(compared: tuple[Result, Path], tmp_path: Path, cli: Cli) -> None:
    _, out = compared
    again = tmp_path / "again"
    result = cli("compare", EXAMPLE_HOLDINGS, str(SCENARIOS / "*.yaml"), "-o", again, "-q")  # a quoted glob
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    for name in FILES:
        if name != "manifest.json":  # the manifest alone holds timings
            assert (again / name).read_bytes() == (out / name).read_bytes(), name


@pytest.mark.slow
def test_a_failing_scenario_keeps_its_column_and_sets_the_exit_code(example_copy: Path, cli: Cli) -> None:
    tight = write_config(example_copy, "extends: base.yaml\nconstraints: {turnover_max: 0.002}\n", "tight.yaml")
    typo = write_config(example_copy, "extends: base.yaml\nconstraints: {max_wieght: 0.3}\n", "typo.yaml")
    out = example_copy / "out"
    result = cli("compare", example_copy / "examples/holdings.csv", example_copy / "configs/base.yaml", tight, typo,
                 "-o", out)
    assert result.exit_code == 5, result.output
    assert "Traceback" not in result.output
    assert "tight (FAILED)" in result.stdout and "typo (FAILED)" in result.stdout
    assert f"Error: scenario tight ({tight}): {tight}: the limits cannot all hold" in result.stderr
    assert "constraints.turnover_max 0.002 is too tight" in result.stderr
    assert f"Error: scenario typo ({typo}): {typo}: invalid configuration (1 problem)" in result.stderr
    assert result.stderr.rstrip().endswith("Error: 2 of 3 scenarios failed; exit 5 is the first failure's")
    assert sorted(p.name for p in out.iterdir()) == FILES
    metrics = pd.read_csv(out / "compare_metrics.csv", index_col="metric", dtype=str, keep_default_na=False)
    assert metrics.loc["status"].tolist() == ["ok", "failed (exit 5)", "failed (exit 3)"]
    assert "turnover_max 0.002 is too tight" in metrics.loc["reason", "tight"]
    assert metrics.loc["expected_return", "tight"] == "" and metrics.loc["expected_return", "base"] != ""
    data = json.loads((out / "compare.json").read_text())
    assert data["exit_code"] == 5 and data["failed"] == ["tight", "typo"]
    assert data["scenarios"][1]["error"]["type"] == "InfeasibleError"
    assert data["scenarios"][2]["error"]["exit_code"] == 3
    reordered = cli("compare", example_copy / "examples/holdings.csv", typo, example_copy / "configs/base.yaml",
                    tight, "-q")
    assert reordered.exit_code == 3, "the first failed scenario's code"


def test_every_scenario_failing_writes_nothing(example_copy: Path, cli: Cli) -> None:
    typo = write_config(example_copy, "extends: base.yaml\nconstraints: {max_wieght: 0.3}\n", "typo.yaml")
    out = example_copy / "out"
    result = cli("compare", example_copy / "examples/holdings.csv", typo, example_copy / "configs/missing.yaml",
                 "-o", out)
    assert result.exit_code == 3
    assert result.stderr.startswith("Error: compare: every scenario failed (2); fix the scenarios listed below")
    assert "missing.yaml: config file not found" in result.stderr
    assert not out.exists()


def test_usage_errors(cli: Cli, tmp_path: Path) -> None:
    no_match = cli("compare", EXAMPLE_HOLDINGS, str(tmp_path / "*.yaml"))
    assert no_match.exit_code == 2
    assert "no config file matches this pattern" in no_match.stderr
    no_config = cli("compare", EXAMPLE_HOLDINGS)
    assert no_config.exit_code == 2
    assert "Missing argument 'CONFIGS...'" in no_config.stderr
    out = tmp_path / "exists"
    out.mkdir()
    exists = cli("compare", EXAMPLE_HOLDINGS, SCENARIOS / "goldilocks.yaml", "-o", out)
    assert exists.exit_code == 2
    assert "the output folder already exists; pass --force" in exists.stderr


def test_compare_has_help_with_an_example(cli: Cli) -> None:
    result = cli("compare", "--help")
    assert result.exit_code == 0
    assert "allocate compare examples/holdings.csv configs/scenarios/*.yaml -o out/compare" in result.stdout
    assert "exit code is then that of the first failed scenario" in " ".join(result.stdout.split())
