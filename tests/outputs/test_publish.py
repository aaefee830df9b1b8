"""--force never deletes a file the run reads: a folder holding an input is refused before anything is touched."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

from tests.conftest import BASE_CONFIG, EXAMPLE_HOLDINGS, ROOT


def _folder_with_inputs(tmp_path: Path, cli: Callable[..., Result], which: str) -> tuple[Path, Path, Path]:
    """A previous run's output folder into which the user copied an input (``which``): the holdings, the config,
    the config it extends, the prices or the fundamentals."""
    out = tmp_path / "out"
    assert cli("run", EXAMPLE_HOLDINGS, "-c", BASE_CONFIG, "-o", out, "-q").exit_code == 0
    holdings, config = EXAMPLE_HOLDINGS, BASE_CONFIG
    if which == "holdings":
        holdings = out / "holdings.csv"
        shutil.copy(EXAMPLE_HOLDINGS, holdings)
    if which in ("config", "base", "prices", "fundamentals"):
        text = BASE_CONFIG.read_text().replace("../examples/", f"{ROOT / 'examples'}/")
        if which in ("prices", "fundamentals"):
            shutil.copy(ROOT / "examples" / f"{which}.csv", out / f"{which}.csv")
            text = text.replace(f"{ROOT / 'examples'}/{which}.csv", str(out / f"{which}.csv"))
        config = out / "config.yaml" if which in ("config", "base") else tmp_path / "config.yaml"
        config.write_text(text)
        if which == "base":  # the folder holds the config that the given one extends
            config = tmp_path / "child.yaml"
            config.write_text(f"extends: {out / 'config.yaml'}\n")
    return out, holdings, config


@pytest.mark.parametrize("which", ["holdings", "config", "base", "prices", "fundamentals"])
@pytest.mark.parametrize("command", ["run", "compare"])
def test_force_refuses_a_folder_that_holds_an_input(which: str, command: str, tmp_path: Path,
                                                   cli: Callable[..., Result]) -> None:
    out, holdings, config = _folder_with_inputs(tmp_path, cli, which)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    args = ["run", holdings, "-c", config] if command == "run" else ["compare", holdings, config]
    result = cli(*args, "-o", out, "--force")
    assert result.exit_code == 2, result.output
    assert f"Error: {out}: holds this run's input" in result.stderr and "replacing the folder would delete it" in (
        result.stderr)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before, "nothing was touched"


def test_an_infeasible_run_does_not_replace_a_folder_holding_its_config(tmp_path: Path,
                                                                      cli: Callable[..., Result]) -> None:
    out, holdings, tight = _folder_with_inputs(tmp_path, cli, "config")
    tight.write_text(tight.read_text().replace("turnover_max: 0.20", "turnover_max: 0.0001"))
    elsewhere = cli("run", holdings, "-c", tight, "-o", tmp_path / "elsewhere")
    assert elsewhere.exit_code == 5, "the limits conflict: only diagnosis.json would be written"
    result = cli("run", holdings, "-c", tight, "-o", out, "--force")
    assert result.exit_code == 2, result.output
    assert "holds this run's input" in result.stderr
    assert tight.is_file() and (out / "manifest.json").is_file()


def test_from_manifest_with_force_refuses_a_folder_that_holds_a_recorded_input(tmp_path: Path,
                                                                               cli: Callable[..., Result]) -> None:
    out, holdings, config = _folder_with_inputs(tmp_path, cli, "holdings")
    recorded = tmp_path / "recorded"
    assert cli("run", holdings, "-c", config, "-o", recorded, "-q").exit_code == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    result = cli("run", "--from-manifest", recorded / "manifest.json", "-o", out, "--force")
    assert result.exit_code == 2, result.output
    assert "holds this run's input" in result.stderr
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before, "nothing was touched"
