"""``validate`` runs what ``run`` runs, short of writing: the same exit code, Error line and warnings, with the same
options (--format, --mode, --raise, --relax); ``--no-solve`` stays the light path (tests/test_imports.py)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

from tests.helpers import write_config

Cli = Callable[..., Result]


def _lines(stderr: str, prefix: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith(prefix)]


def _both(cli: Cli, out: Path, holdings: Path, config: Path, *options: str) -> tuple[Result, Result]:
    """``run`` (writing to ``out``) and ``validate`` with the same options."""
    ran = cli("run", holdings, "-c", config, "-o", out, "-q", *options)
    checked = cli("validate", holdings, "-c", config, *options)
    return ran, checked


def test_a_fix_file_without_an_account_fails_validate_as_it_fails_run(cli: Cli, example_copy: Path,
                                                                      tmp_path: Path) -> None:
    config = write_config(example_copy, "extends: base.yaml\noutput:\n  format: fix\norders:\n  account: null\n")
    ran, checked = _both(cli, tmp_path / "out", example_copy / "examples" / "holdings.csv", config)
    error = ("Error: orders.account: the fix format writes tag 1 Account, and no account is set; set orders.account "
             "to the broker account the orders are for")
    assert ran.exit_code == checked.exit_code == 3
    assert _lines(ran.stderr, "Error: ") == _lines(checked.stderr, "Error: ") == [error]
    warnings = _lines(ran.stderr, "Warning: ")
    assert "Warning: buys cut to keep cash at its floor: TLT -4" in warnings  # printed on failure too
    assert _lines(checked.stderr, "Warning: ") == warnings
    assert not (tmp_path / "out").exists() and "ok:" not in checked.stdout
    plain = cli("run", example_copy / "examples" / "holdings.csv", "-c", config, "-q")  # without -o as well
    assert plain.exit_code == 3 and _lines(plain.stderr, "Error: ") == [error]


def test_validate_prints_every_warning_of_the_run_and_says_what_it_rendered(cli: Cli, example_copy: Path,
                                                                            tmp_path: Path) -> None:
    out = tmp_path / "out"
    ran, checked = _both(cli, out, example_copy / "examples" / "holdings.csv", example_copy / "configs" / "base.yaml",
                         "--format", "csv", "--format", "fix")
    assert ran.exit_code == checked.exit_code == 0
    assert _lines(checked.stderr, "Warning: ") == _lines(ran.stderr, "Warning: ")
    assert "Warning: buys cut to keep cash at its floor: TLT -4" in checked.stderr  # a warning of the rounding
    assert sorted(p.name for p in out.iterdir()) == ["manifest.json", "orders.fix", "summary.json", "trades.csv",
                                                     "weights.csv"]
    assert checked.stdout.splitlines()[-1] == (
        "ok: every input is valid and run would succeed (clarabel: optimal; 10 trades; weights.csv, trades.csv, "
        "orders.fix, summary.json, manifest.json rendered, nothing written)")


@pytest.mark.parametrize("options", [("--mode", "invest", "--cash", "100000"), ("--mode", "raise", "--raise", "50000"),
                                     ("--raise", "50000"), ("--mode", "invest", "--raise", "50000")])
def test_validate_takes_runs_trading_options(options: tuple[str, ...], cli: Cli, example_copy: Path,
                                            tmp_path: Path) -> None:
    ran, checked = _both(cli, tmp_path / "out", example_copy / "examples" / "holdings.csv",
                         example_copy / "configs" / "base.yaml", *options)
    assert checked.exit_code == ran.exit_code
    assert _lines(checked.stderr, "Warning: ") == _lines(ran.stderr, "Warning: ")
    assert _lines(checked.stderr, "Error: ") == _lines(ran.stderr, "Error: ")
    if "invest" in options and "--raise" in options:
        assert ran.exit_code == 2 and "Error: --raise needs --mode raise, not --mode invest" in checked.stderr
    else:
        assert ran.exit_code == 0 and "ok: every input is valid and run would succeed" in checked.stdout


def test_validate_relax_solves_the_relaxation_run_relax_trades_on(cli: Cli, example_copy: Path,
                                                                  tmp_path: Path) -> None:
    config = write_config(example_copy, "extends: base.yaml\nconstraints:\n  max_weight: 0.04\n")
    holdings = example_copy / "examples" / "holdings.csv"
    strict = cli("validate", holdings, "-c", config)
    assert strict.exit_code == 5 and "the limits cannot all hold" in strict.stderr
    ran, checked = _both(cli, tmp_path / "out", holdings, config, "--relax")
    assert ran.exit_code == checked.exit_code == 0, ran.stderr
    relaxed = _lines(checked.stdout, "relaxed: ")
    assert any("constraints.max_weight 0.04 is too tight" in line for line in relaxed), checked.stdout
    assert _lines(checked.stderr, "Warning: ") == _lines(ran.stderr, "Warning: ")
    assert "cash limits are missed by" in checked.stderr  # a warning of the rounding after the relaxed solve
    light = ("validate", holdings, "-c", config, "--no-solve")  # the conflicts show before a solve; run can relax them
    assert cli(*light).exit_code == 5
    assert cli(*light, "--relax").stdout.splitlines()[-1] == "ok: every input is valid (not solved: --no-solve)"
