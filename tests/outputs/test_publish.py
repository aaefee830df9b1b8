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


def _journal_in(folder: Path) -> Path:
    """An order journal in ``folder`` holding one order, as ``send`` leaves it (configs/base.yaml puts it in out/)."""
    from datetime import date
    from decimal import Decimal

    from allocator.config.schema import OrdersConfig
    from allocator.orders.ids import OrderRequest, build_orders
    from allocator.orders.journal import Journal

    path = folder / "orders.sqlite"
    order = build_orders([OrderRequest("SPY", "SELL", Decimal(152), Decimal("694.17"))], "a" * 64,
                         date(2026, 1, 16), OrdersConfig(account="U1"))[0]
    with Journal(path) as journal:
        journal.record_pending(order, "a" * 64)
    return path


@pytest.mark.parametrize("command", ["run", "compare", "from-manifest"])
def test_force_refuses_a_folder_holding_an_order_journal_or_a_user_file(command: str, tmp_path: Path,
                                                                       cli: Callable[..., Result]) -> None:
    out = tmp_path / "out"
    recorded = tmp_path / "recorded"
    assert cli("run", EXAMPLE_HOLDINGS, "-c", BASE_CONFIG, "-o", recorded, "-q").exit_code == 0
    args = {"run": ["run", EXAMPLE_HOLDINGS, "-c", BASE_CONFIG, "-q"],
            "compare": ["compare", EXAMPLE_HOLDINGS, BASE_CONFIG, "-q"],
            "from-manifest": ["run", "--from-manifest", recorded / "manifest.json", "-q"]}[command]
    assert cli(*args, "-o", out).exit_code == 0
    journal = _journal_in(out)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    result = cli(*args, "-o", out, "--force")
    assert result.exit_code == 2, result.output
    assert result.stderr == (f"Error: {out}: holds files that are not outputs of allocate: orders.sqlite, "
                             "orders.sqlite.lock (orders.sqlite: an order journal, without which orders could be "
                             "sent twice); --force replaces only a folder of allocate's own outputs, and nothing was "
                             "touched; move those files out of the folder, or choose another folder\n")
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before, "nothing was touched"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []

    for path in out.glob(f"{journal.name}*"):
        path.unlink()
    (out / "notes.txt").write_text("why we hold SPY")
    (out / "report.html").write_text("<html></html>")  # report's page is regenerated: it may be replaced
    result = cli(*args, "-o", out, "--force")
    assert result.exit_code == 2
    assert f"Error: {out}: holds files that are not outputs of allocate: notes.txt; --force" in result.stderr
    (out / "notes.txt").unlink()
    for record in ("executions.csv", "approval.json"):  # records of what happened to the orders: kept
        (out / record).write_text("kept")
        result = cli(*args, "-o", out, "--force")
        assert result.exit_code == 2 and f"holds files that are not outputs of allocate: {record} ({record}: " in (
            result.stderr)
        (out / record).unlink()
    assert cli(*args, "-o", out, "--force").exit_code == 0
    assert not (out / "report.html").exists()


def test_every_output_folder_records_its_files(tmp_path: Path, cli: Callable[..., Result]) -> None:
    """--force tells allocate's files from others by the manifest's outputs: run, compare (robust/ too) and frontier
    record every file they write but the manifest itself."""
    import json

    from allocator.orders.approval import APPROVAL_FILE
    from allocator.orders.export import FILE_NAMES
    from allocator.outputs.publish import TOOL_FILES
    from allocator.report.folder import PAGE_FILE

    assert {PAGE_FILE, "manifest.json", "diagnosis.json", *FILE_NAMES.values()} == TOOL_FILES
    assert APPROVAL_FILE not in TOOL_FILES and "executions.csv" not in TOOL_FILES  # records: never replaced
    compare = tmp_path / "compare"
    assert cli("compare", EXAMPLE_HOLDINGS, BASE_CONFIG, "--robust", "-o", compare, "-q").exit_code == 0
    frontier = tmp_path / "frontier"
    assert cli("frontier", EXAMPLE_HOLDINGS, "-c", BASE_CONFIG, "--points", "3", "-o", frontier, "-q").exit_code == 0
    for folder in (compare, frontier):
        written = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
        recorded = json.loads((folder / "manifest.json").read_text())["outputs"]
        assert sorted([*recorded, "manifest.json"]) == written
    assert "robust/trades.csv" in json.loads((compare / "manifest.json").read_text())["outputs"]


def test_a_folder_of_earlier_runs_is_not_an_output_force_may_replace(example_run: Path, tmp_path: Path) -> None:
    """A run's manifest counts for its own folder; a folder of run folders without a manifest of its own (a
    mistyped ``-o``) is refused whole."""
    from allocator.outputs.publish import foreign_files

    shutil.copytree(example_run, tmp_path / "runs" / "monday")
    assert "monday/weights.csv" in foreign_files(tmp_path / "runs")
    assert foreign_files(tmp_path / "runs" / "monday") == []
