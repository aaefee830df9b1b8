"""Output folders of the example with their report pages, built once a session: the run (with the frontier), the
scenario pack's comparison and the frontier."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from allocator.cli import main
from tests.conftest import BASE_CONFIG, EXAMPLE_HOLDINGS, SCENARIOS


def _allocate(*args: str | Path) -> None:
    result = CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)
    assert result.exit_code == 0, result.output


@pytest.fixture(scope="session")
def report_folders(tmp_path_factory: pytest.TempPathFactory, example_run: Path) -> dict[str, Path]:
    """``kind -> folder`` holding ``report.html``: ``run`` (a copy of the example run, its page with the frontier
    recomputed from the manifest), ``compare`` (the scenario pack) and ``frontier``."""
    root = tmp_path_factory.mktemp("report-pages")
    run = root / "run"
    shutil.copytree(example_run, run)
    _allocate("report", run)
    _allocate("compare", EXAMPLE_HOLDINGS, *sorted(SCENARIOS.glob("*.yaml")), "-o", root / "compare", "-q")
    _allocate("report", root / "compare")
    _allocate("frontier", EXAMPLE_HOLDINGS, "-c", BASE_CONFIG, "-o", root / "frontier", "-q")
    _allocate("report", root / "frontier")
    return {"run": run, "compare": root / "compare", "frontier": root / "frontier"}
