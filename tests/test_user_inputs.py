"""What users bring, through the CLI: groups over a list of symbols, ``benchmark: none``, a fundamentals column map
with the growth columns optional, and ``risk.lookback_days: all``. (Own expected returns and risk models:
tests/inputs/test_model_files.py.)"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import Result

from tests.helpers import write_config

TOL = 1e-6


def _run(cli: Callable[..., Result], folder: Path, config: Path, name: str = "out") -> Result:
    return cli("run", folder / "examples" / "holdings.csv", "-c", config, "-o", folder / name, "--force")


def _weights(out: Path) -> pd.DataFrame:
    return pd.read_csv(out / "weights.csv").set_index("symbol")


def _summary(out: Path) -> dict[str, object]:
    data: dict[str, object] = json.loads((out / "summary.json").read_text())
    return data


# --- constraints.groups[].symbols ------------------------------------------------------------------------------


def test_a_group_of_listed_symbols_is_held_to_its_limit(example_copy: Path, cli: Callable[..., Result]) -> None:
    sectors = ["XLK", "XLF", "XLE", "XLV", "XLI"]
    free = _run(cli, example_copy, write_config(example_copy, "extends: base.yaml\n", "free.yaml"), "free")
    assert free.exit_code == 0, free.output
    held = _weights(example_copy / "free").loc[sectors, "target_weight"].sum()
    cap = round(held / 2, 4)  # half of what the unconstrained run holds: the limit binds
    config = write_config(example_copy, "extends: base.yaml\nconstraints:\n  groups:\n"
                          f"    - {{symbols: [xlk, XLF, XLE, XLV, XLI], max: {cap}, name: sector funds}}\n")
    result = _run(cli, example_copy, config)
    assert result.exit_code == 0, result.output
    assert held > 0.01
    assert _weights(example_copy / "out").loc[sectors, "target_weight"].sum() == pytest.approx(cap, abs=TOL)
    assert any("group sector funds" in line for line in _summary(example_copy / "out")["binding_constraints"])


def test_a_listed_symbol_outside_the_universe_is_refused_naming_the_group(
        example_copy: Path, cli: Callable[..., Result]) -> None:
    config = write_config(example_copy, "extends: base.yaml\nconstraints:\n  groups:\n"
                          "    - {by: sector, name: technology, max: 0.08}\n"
                          "    - {symbols: [XLK, ZZZZ], max: 0.1}\n")
    result = _run(cli, example_copy, config)
    assert result.exit_code == 3
    assert "test.yaml: constraints.groups[1].symbols: not in the universe: ZZZZ; list symbols of the universe " \
           "only" in result.stderr
    assert not (example_copy / "out").exists()


@pytest.mark.parametrize("group, message", [
    ("{by: sector, name: technology, symbols: [XLK], max: 0.1}", "give by (with name) or symbols, not both"),
    ("{max: 0.1}", "give by and name (e.g. {by: sector, name: energy}) or symbols"),
    ("{by: sector, max: 0.1}", "by: sector needs name, the group's sector"),
    ("{symbols: [XLK, XLK], max: 0.1}", "symbols listed twice: XLK"),
])
def test_a_group_is_defined_one_way(example_copy: Path, cli: Callable[..., Result], group: str, message: str) -> None:
    config = write_config(example_copy, f"extends: base.yaml\nconstraints: {{groups: [{group}]}}\n")
    result = _run(cli, example_copy, config)
    assert result.exit_code == 3
    assert f"constraints.groups[0]: {message}" in result.stderr


# --- benchmark: none -------------------------------------------------------------------------------------------

NO_BENCHMARK = """extends: base.yaml
benchmark: none
returns: {prior: historical}
constraints: {active_min: null, active_max: null, tracking_error_max: null}
"""


def test_benchmark_none_runs_without_one_and_says_so(example_copy: Path, cli: Callable[..., Result]) -> None:
    result = _run(cli, example_copy, write_config(example_copy, NO_BENCHMARK))
    assert result.exit_code == 0, result.output
    assert "regime goldilocks  benchmark none  objective utility" in result.stdout
    assert "tracking error" not in result.stdout and "active share" not in result.stdout
    assert "┃ size bucket ┃ current ┃ target ┃" in result.stdout
    assert _summary(example_copy / "out")["benchmark"] == "none"
    table = _weights(example_copy / "out")
    assert (table.drop(index="CASH")["benchmark_weight"] == 0).all()
    assert table.loc["CASH", "benchmark_weight"] == 1.0


def test_benchmark_weights_empty_is_the_same_as_none(example_copy: Path, cli: Callable[..., Result]) -> None:
    none = _run(cli, example_copy, write_config(example_copy, NO_BENCHMARK, "none.yaml"), "none")
    empty = _run(cli, example_copy, write_config(example_copy, NO_BENCHMARK.replace(
        "benchmark: none", "benchmark: {weights: {}}"), "empty.yaml"), "empty")
    assert none.exit_code == 0 and empty.exit_code == 0, none.output + empty.output
    for name in ("weights.csv", "trades.csv", "summary.json"):
        assert (example_copy / "none" / name).read_bytes() == (example_copy / "empty" / name).read_bytes(), name


def test_benchmark_none_refuses_every_limit_measured_against_a_benchmark(
        example_copy: Path, cli: Callable[..., Result]) -> None:
    config = write_config(example_copy, "extends: base.yaml\nbenchmark: none\nconstraints:\n  groups:\n"
                          "    - {by: size_bucket, name: small, max: 0.05, relative_to: benchmark}\n")
    result = _run(cli, example_copy, config)
    assert result.exit_code == 3
    assert ("benchmark: none, but limits relative to a benchmark are set: constraints.active_min, "
            "constraints.active_max, constraints.tracking_error_max, constraints.groups[0].relative_to; remove them "
            "(set them to null in a config that extends one with them) or give benchmark weights") in result.stderr
    assert "benchmark: none, but returns.prior is equilibrium" in result.stderr


def test_a_zero_benchmark_column_points_to_benchmark_none(example_copy: Path, cli: Callable[..., Result]) -> None:
    path = example_copy / "examples" / "fundamentals.csv"
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    frame["benchmark_weight"] = "0"
    frame.to_csv(path, index=False)
    result = _run(cli, example_copy, write_config(example_copy, "extends: base.yaml\n"))
    assert result.exit_code == 4
    assert "fundamentals.csv: no benchmark weights (benchmark_weight column empty, absent or all zero); add a " \
           "benchmark_weight column, set benchmark.weights in the config, or say benchmark: none" in result.stderr


# --- data.fundamentals_columns ---------------------------------------------------------------------------------

HEADERS = {"symbol": "Ticker", "market_cap": "Mkt Cap (USD)", "forward_pe": "PE FY1", "sector": "GICS Sector",
           "benchmark_weight": "Index Wt"}


def test_a_column_map_reads_another_layout_and_absent_growth_columns_turn_their_signals_off(
        example_copy: Path, cli: Callable[..., Result]) -> None:
    examples = example_copy / "examples"
    frame = pd.read_csv(examples / "fundamentals.csv", dtype=str, keep_default_na=False)
    frame = frame.drop(columns=["eps_growth", "revenue_growth"])
    frame.to_csv(examples / "plain.csv", index=False)
    frame.rename(columns=HEADERS).to_csv(examples / "vendor.csv", index=False)
    column_map = ", ".join(f"{k}: '{v}'" for k, v in HEADERS.items())
    plain = write_config(example_copy, "extends: base.yaml\ndata: {fundamentals: ../examples/plain.csv}\n",
                         "plain.yaml")
    vendor = write_config(example_copy, "extends: base.yaml\ndata: {fundamentals: ../examples/vendor.csv, "
                          f"fundamentals_columns: {{{column_map}}}}}\n", "vendor.yaml")
    first, second = _run(cli, example_copy, plain, "plain"), _run(cli, example_copy, vendor, "vendor")
    assert first.exit_code == 0 and second.exit_code == 0, first.output + second.output
    for name in ("weights.csv", "trades.csv"):
        assert (example_copy / "plain" / name).read_bytes() == (example_copy / "vendor" / name).read_bytes(), name
    assert "Warning: signal growth is off (scores 0): the fundamentals have no eps_growth column" in second.stderr
    assert ("Warning: signal margin_expansion is off (scores 0): the fundamentals have no eps_growth or "
            "revenue_growth column") in second.stderr
    table = _weights(example_copy / "vendor").drop(index="CASH")
    assert (table["alpha_growth"] == 0).all() and (table["alpha_margin_expansion"] == 0).all()
    assert (table["alpha_size"] != 0).any()


@pytest.mark.parametrize("column_map, message", [
    ("{market_cap: MktCap}", "fundamentals.csv: no column 'MktCap', which data.fundamentals_columns.market_cap "
                             "names (columns: symbol, name, market_cap"),
    ("{market_cap: forward_pe}", "fundamentals.csv: data.fundamentals_columns.market_cap maps 'forward_pe' to "
                                 "market_cap, but the file also has a column 'market_cap'"),
    ("{market_cap: name, sector: NAME}", "fundamentals.csv: column 'NAME' is mapped to both market_cap and sector"),
])
def test_a_column_map_that_does_not_fit_the_file_is_refused(example_copy: Path, cli: Callable[..., Result],
                                                            column_map: str, message: str) -> None:
    config = write_config(example_copy, f"extends: base.yaml\ndata: {{fundamentals_columns: {column_map}}}\n")
    result = _run(cli, example_copy, config)
    assert result.exit_code == 4
    assert message in result.stderr


# --- risk.lookback_days: all -----------------------------------------------------------------------------------


def _observations(out: Path) -> int:
    manifest = json.loads((out / "manifest.json").read_text())
    return int(manifest["risk_model"]["observations"])


def test_lookback_all_uses_every_close_since_the_last_fund_starts(example_copy: Path,
                                                                  cli: Callable[..., Result]) -> None:
    prices = example_copy / "examples" / "prices.csv"
    closes = pd.read_csv(prices, index_col="date")
    config = write_config(example_copy, "extends: base.yaml\nrisk: {lookback_days: all}\n")
    result = _run(cli, example_copy, config)
    assert result.exit_code == 0, result.output
    assert _observations(example_copy / "out") == len(closes) - 1
    late = closes.copy()
    late.iloc[:300, late.columns.get_loc("GLD")] = np.nan  # GLD starts 300 sessions late
    late.to_csv(prices)
    result = _run(cli, example_copy, config, "late")
    assert result.exit_code == 0, result.output
    assert _observations(example_copy / "late") == len(closes) - 300 - 1
    assert not any("GLD excluded" in line for line in result.stderr.splitlines())


def test_lookback_all_refuses_a_common_history_too_short(example_copy: Path, cli: Callable[..., Result]) -> None:
    prices = example_copy / "examples" / "prices.csv"
    closes = pd.read_csv(prices, index_col="date")
    closes.iloc[:-20, closes.columns.get_loc("GLD")] = np.nan
    closes.to_csv(prices)
    result = _run(cli, example_copy, write_config(example_copy, "extends: base.yaml\nrisk: {lookback_days: all}\n"))
    assert result.exit_code == 4
    assert (f"prices.csv: risk.lookback_days: all gives 19 daily returns: every asset has a close only since "
            f"{closes.index[-20]}, when GLD starts; give a longer history (at least 31 closes)") in result.stderr
