"""``optimizer.objective`` through the CLI on the example account (configs/base.yaml with every limit): the run
says which objective it sought, the objective does what it says against the utility run, and the combinations it
cannot serve are refused by name."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

from tests.helpers import write_config


def _run(cli: Callable[..., Result], folder: Path, objective: str, out: Path, extra: str = "", *flags: str
         ) -> Result:
    config = write_config(folder, f"extends: base.yaml\noptimizer:\n  objective: {objective}\n{extra}",
                          f"{objective}.yaml")
    return cli("run", folder / "examples" / "holdings.csv", "-c", config, "-o", out, *flags)


def test_each_objective_runs_and_names_itself(cli: Callable[..., Result], example_copy: Path, example_run: Path,
                                              tmp_path: Path) -> None:
    """Each objective against the utility run of the same limits: max_sharpe has the highest Sharpe ratio,
    min_variance the lowest volatility, min_tracking_error the lowest tracking error; the terminal and
    summary.json name the objective and give its value."""
    utility = json.loads((example_run / "summary.json").read_text())
    assert utility["objective"]["name"] == "utility"
    found = {}
    for objective in ("max_sharpe", "min_variance", "min_tracking_error"):
        result = _run(cli, example_copy, objective, tmp_path / objective)
        assert result.exit_code == 0, result.output
        assert f"objective {objective}" in result.stdout
        assert f"Objective {objective} (" in result.stdout
        found[objective] = json.loads((tmp_path / objective / "summary.json").read_text())
        assert found[objective]["objective"]["name"] == objective
        assert found[objective]["binding_constraints"], "the limits still bind"
    target = {name: summary["target"] for name, summary in found.items()}
    assert target["max_sharpe"]["sharpe"] >= utility["target"]["sharpe"] - 1e-6
    assert found["max_sharpe"]["objective"]["target"] >= found["max_sharpe"]["objective"]["current"]
    assert target["min_variance"]["volatility"] <= utility["target"]["volatility"] + 1e-9
    assert target["min_tracking_error"]["tracking_error"] <= utility["target"]["tracking_error"] + 1e-9
    for summary in found.values():  # tracking_error_max 0.03, turnover_max 0.20 of configs/base.yaml
        assert summary["target"]["tracking_error"] <= 0.03 + 1e-6
        assert summary["target"]["turnover"] <= 0.20 + 1e-6


def test_relax_serves_max_sharpe(cli: Callable[..., Result], example_copy: Path, tmp_path: Path) -> None:
    """Position caps that cannot hold the invested budget: the diagnosis names the same relaxation as for utility
    (the limits do not depend on the objective), and --relax trades on it seeking the Sharpe ratio."""
    tight = "constraints:\n  max_weight: 0.04\n"
    failed = _run(cli, example_copy, "max_sharpe", tmp_path / "failed", tight)
    assert failed.exit_code == 5
    assert "constraints.cash_max 0.05 is too tight" in failed.stderr
    relaxed = _run(cli, example_copy, "max_sharpe", tmp_path / "relaxed", tight, "--relax")
    assert relaxed.exit_code == 0, relaxed.output
    summary = json.loads((tmp_path / "relaxed" / "summary.json").read_text())
    assert summary["objective"]["name"] == "max_sharpe"
    assert any(line.startswith("constraints.cash_max 0.05 is too tight") for line in summary["relaxations"])


def test_max_sharpe_without_a_positive_excess_return_is_refused(cli: Callable[..., Result], example_copy: Path,
                                                                  tmp_path: Path) -> None:
    """mu = 0 (no prior, no tilt, no views): no portfolio has a positive Sharpe ratio; exit 5, no trades."""
    result = _run(cli, example_copy, "max_sharpe", tmp_path / "out",
                  "returns:\n  prior: none\n  tilt: false\n  method: tilt\n")
    assert result.exit_code == 5
    assert "optimizer.objective max_sharpe: no portfolio within the limits has a positive expected excess return" \
        in result.stderr
    assert not (tmp_path / "out" / "trades.csv").exists()
    diagnosis = json.loads((tmp_path / "out" / "diagnosis.json").read_text())
    assert diagnosis["relaxations"] == [] and "max_sharpe" in diagnosis["objective"]


def test_max_sharpe_with_market_impact_is_a_config_error(cli: Callable[..., Result], example_copy: Path) -> None:
    config = write_config(example_copy, "extends: base.yaml\noptimizer:\n  objective: max_sharpe\n"
                          "trading:\n  impact: 0.1\n")
    result = cli("validate", example_copy / "examples" / "holdings.csv", "-c", config)
    assert result.exit_code == 3
    assert "optimizer.objective max_sharpe cannot price trading.impact 0.1" in result.stderr


def test_an_unknown_objective_lists_the_choices(cli: Callable[..., Result], example_copy: Path) -> None:
    config = write_config(example_copy, "extends: base.yaml\noptimizer:\n  objective: max_return\n")
    result = cli("validate", example_copy / "examples" / "holdings.csv", "-c", config)
    assert result.exit_code == 3
    assert "optimizer.objective" in result.stderr
    assert "'utility', 'min_variance', 'max_sharpe' or 'min_tracking_error'" in result.stderr


@pytest.mark.slow
def test_compare_serves_objectives_and_robust_refuses_them(cli: Callable[..., Result], example_copy: Path,
                                                           tmp_path: Path) -> None:
    """A scenario seeking max_sharpe beside the utility base: compare solves both; --robust, which maximizes the
    worst utility, refuses it by name (exit 3)."""
    sharpe = write_config(example_copy, "extends: base.yaml\noptimizer:\n  objective: max_sharpe\n", "sharpe.yaml")
    base = example_copy / "configs" / "base.yaml"
    holdings = example_copy / "examples" / "holdings.csv"
    compared = cli("compare", holdings, base, sharpe, "-o", tmp_path / "compare")
    assert compared.exit_code == 0, compared.output
    robust = cli("compare", holdings, base, sharpe, "--robust", "-o", tmp_path / "robust")
    assert robust.exit_code == 3
    assert "--robust maximizes the worst utility over the scenarios' views, but sharpe (max_sharpe)" in robust.stderr
