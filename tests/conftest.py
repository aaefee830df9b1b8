"""Shared fixtures: paths of the example account, the real-data folder (skipped when absent), a CLI runner."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from allocator.cli import main

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"
EXAMPLE_HOLDINGS = ROOT / "examples" / "holdings.csv"
BASE_CONFIG = ROOT / "configs" / "base.yaml"
TEST_DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture
def shared_data() -> Path:
    """The real market data folder beside the project; tests that need it skip with a reason when it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real market data not found at {SHARED_DATA} (a fresh clone without ../shared)")
    return SHARED_DATA


@pytest.fixture
def cli() -> Callable[..., Result]:
    """Invoke ``allocate`` in-process; returns Click's result (exit_code, stdout, stderr)."""
    runner = CliRunner()

    def invoke(*args: str | Path) -> Result:
        return runner.invoke(main, [str(a) for a in args], catch_exceptions=False)

    return invoke


@pytest.fixture
def example_copy(tmp_path: Path) -> Path:
    """A writable copy of the example account and configs (folder layout kept, so relative paths work)."""
    for folder in ("examples", "configs"):
        shutil.copytree(ROOT / folder, tmp_path / folder,
                        ignore=shutil.ignore_patterns("*.py", "__pycache__", "calibration.json"))
    return tmp_path
