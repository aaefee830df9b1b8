"""Reproducible runs: the same inputs give the same bytes, and a manifest repeats its run exactly."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

from allocator.outputs.replay import differences
from tests.conftest import ROOT

Cli = Callable[..., Result]
DATA_FILES = ("weights.csv", "trades.csv", "summary.json")


@pytest.fixture
def recorded(example_copy: Path, cli: Cli) -> Path:
    """The output folder of a run on a copy of the example, with paths given relative to the copy."""
    os.chdir(example_copy)
    try:
        result = cli("run", "examples/holdings.csv", "-c", "configs/base.yaml", "-o", "first", "-q")
    finally:
        os.chdir(ROOT)
    assert result.exit_code == 0, result.output
    return example_copy / "first"


def test_from_manifest_repeats_the_run_byte_for_byte_from_another_folder(recorded: Path, cli: Cli,
                                                                         tmp_path: Path) -> None:
    again = tmp_path / "elsewhere" / "again"
    result = cli("run", "--from-manifest", recorded / "manifest.json", "-o", again, "-q")
    assert result.exit_code == 0, result.output
    assert "reproduced: the data files are byte-identical to the recorded run" in result.stderr
    for name in DATA_FILES:
        assert (again / name).read_bytes() == (recorded / name).read_bytes(), name
    first = json.loads((recorded / "manifest.json").read_text())
    second = json.loads((again / "manifest.json").read_text())
    assert second["inputs"] == first["inputs"]
    assert second["outputs"] == first["outputs"]
    assert second["command"] == {**first["command"], "from_manifest": str(recorded / "manifest.json")}
    # the repeat's own manifest repeats it again
    assert cli("run", "--from-manifest", again / "manifest.json", "-q").exit_code == 0


def test_the_manifest_records_inputs_by_absolute_path_and_outputs_by_digest(recorded: Path) -> None:
    import hashlib

    manifest = json.loads((recorded / "manifest.json").read_text())
    assert manifest["command"]["holdings"] == "examples/holdings.csv"
    assert manifest["inputs"]["holdings"]["path"] == str(recorded.parent / "examples" / "holdings.csv")
    assert set(manifest["inputs"]) == {"holdings", "prices", "fundamentals", "config[0]"}
    for name in DATA_FILES:
        assert manifest["outputs"][name] == hashlib.sha256((recorded / name).read_bytes()).hexdigest()
    assert manifest["holdings_rows"] == {"skipped": [], "cash": ["row 14: CASH 30136.04"]}
    assert any("points outside the config's folder" in note for note in manifest["notes"])


def test_a_changed_input_stops_the_repeat(recorded: Path, cli: Cli) -> None:
    prices = recorded.parent / "examples" / "prices.csv"
    prices.write_text(prices.read_text().replace("2026-01-16,694.17", "2026-01-16,694.18"))
    result = cli("run", "--from-manifest", recorded / "manifest.json", "-o", recorded.parent / "again")
    assert result.exit_code == 4
    assert result.stderr.startswith(f"Error: {prices}: the prices input changed since the recorded run (sha256 ")
    assert "restore the file as it was, or run without --from-manifest" in result.stderr
    assert not (recorded.parent / "again").exists()


def test_a_missing_input_stops_the_repeat(recorded: Path, cli: Cli) -> None:
    (recorded.parent / "examples" / "holdings.csv").unlink()
    result = cli("run", "--from-manifest", recorded / "manifest.json")
    assert result.exit_code == 4
    assert "the recorded input holdings is gone" in result.stderr


def test_other_versions_and_other_bytes_are_reported(recorded: Path, cli: Cli) -> None:
    manifest = json.loads((recorded / "manifest.json").read_text())
    manifest["versions"]["cvxpy"] = "0.0.1"
    manifest["outputs"]["trades.csv"] = "0" * 64
    edited = recorded.parent / "edited.json"
    edited.write_text(json.dumps(manifest))
    result = cli("run", "--from-manifest", edited, "-q")
    assert result.exit_code == 0
    assert "Warning: recorded with cvxpy 0.0.1, now " in result.stderr
    assert "Warning: not the recorded bytes: trades.csv differ from the recorded run" in result.stderr


@pytest.mark.parametrize(("extra", "message"), [
    (["examples/holdings.csv"], "drop HOLDINGS"),
    (["-c", "configs/base.yaml", "--cash", "5"], "drop -c, --cash"),
    (["--relax", "--format", "json"], "drop --relax, --format"),
])
def test_from_manifest_takes_no_other_inputs(recorded: Path, cli: Cli, extra: list[str], message: str) -> None:
    result = cli("run", "--from-manifest", recorded / "manifest.json", *extra)
    assert result.exit_code == 2
    assert f"--from-manifest repeats the recorded run; {message}" in result.stderr


@pytest.mark.parametrize(("content", "message"), [
    (None, "manifest not found"),
    ("not json", "not a JSON manifest"),
    ('{"command": {}}', "not a manifest of allocate run (no inputs, config_chain, resolved_config)"),
    ('[1, 2]', "not a manifest of allocate run"),
])
def test_not_a_manifest_is_a_data_error(tmp_path: Path, cli: Cli, content: str | None, message: str) -> None:
    path = tmp_path / "manifest.json"
    if content is not None:
        path.write_text(content)
    result = cli("run", "--from-manifest", path)
    assert result.exit_code == 4
    assert message in result.stderr and "Traceback" not in result.output


def test_configdifferences_are_named_by_key() -> None:
    changed, added = differences({"rsi": {"period": 14, "old": 1}, "x": [1]},
                                  {"rsi": {"period": 10, "new": 2}, "x": [1]})
    assert changed == ["rsi.period: recorded 14, now 10", "rsi.old: recorded 1, no longer a key"]
    assert added == ["rsi.new"]


@pytest.mark.slow
def test_two_fresh_processes_write_the_same_bytes(tmp_path: Path) -> None:
    """Separate interpreters with different hash seeds (set and dict orders, memory layout) agree byte for byte."""
    outs = []
    for seed in ("1", "2"):
        out = tmp_path / f"run{seed}"
        env = {**os.environ, "PYTHONHASHSEED": seed}
        completed = subprocess.run([sys.executable, "-m", "allocator", "run", "examples/holdings.csv", "-c",
                                    "configs/base.yaml", "-o", str(out), "-q"], cwd=ROOT, env=env,
                                   capture_output=True, text=True, timeout=300, check=False)
        assert completed.returncode == 0, completed.stderr
        outs.append(out)
    for name in DATA_FILES:
        assert (outs[0] / name).read_bytes() == (outs[1] / name).read_bytes(), name
