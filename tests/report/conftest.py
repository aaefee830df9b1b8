"""Output folders of the example with their report pages, built once a session: the run (with the frontier), the
scenario pack's comparison, the frontier and a short backtest."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from allocator.cli import main
from tests.conftest import BASE_CONFIG, EXAMPLE_HOLDINGS, ROOT, SCENARIOS
from tests.helpers import write_config

# Three strategies over ten weeks of the example's prices, rebalanced every 15 sessions (4 rebalances)
BACKTEST = """extends: base.yaml
risk: {lookback_days: 60}
backtest: {static_fundamentals: true, every: 15, strategies: [config, no_rsi, benchmark_hold], workers: 1,
           bootstrap_samples: 100}
"""


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


@pytest.fixture(scope="session")
def backtest_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A short backtest of the example account (``BACKTEST``, from 2025-11-03) written with ``--report``."""
    root = tmp_path_factory.mktemp("report-backtest")
    for name in ("examples", "configs"):
        shutil.copytree(ROOT / name, root / name, ignore=shutil.ignore_patterns("*.py", "__pycache__",
                                                                               "calibration.json"))
    config = write_config(root, BACKTEST, "backtest.yaml")
    _allocate("backtest", "-c", config, "--start", "2025-11-03", "--holdings", root / "examples" / "holdings.csv",
              "-o", root / "backtest", "-q", "--report")
    return root / "backtest"
