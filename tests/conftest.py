"""Shared fixtures: paths of the example account, the real-data folder (skipped when absent), a CLI runner."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from hypothesis import HealthCheck, settings

from allocator.cli import main

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"
EXAMPLE_HOLDINGS = ROOT / "examples" / "holdings.csv"
BASE_CONFIG = ROOT / "configs" / "base.yaml"
TEST_DATA = Path(__file__).resolve().parent / "data"

# Hypothesis profiles (README "Tests"): ``ci`` (the default) is derandomized, so every run tries the same examples;
# ``thorough`` tries ten times as many, freshly drawn; ``dev`` is quick. Choose with ALLOCATE_HYPOTHESIS_PROFILE.
# Tests that set max_examples themselves scale it by ``example_scale()``.
_SLOW_OK = [HealthCheck.too_slow, HealthCheck.data_too_large]
settings.register_profile("ci", derandomize=True, deadline=None, database=None, print_blob=True,
                          suppress_health_check=_SLOW_OK)
settings.register_profile("thorough", max_examples=1000, deadline=None, print_blob=True,
                          suppress_health_check=_SLOW_OK)
settings.register_profile("dev", max_examples=20, deadline=None, suppress_health_check=_SLOW_OK)
HYPOTHESIS_PROFILE = os.environ.get("ALLOCATE_HYPOTHESIS_PROFILE", "ci")
settings.load_profile(HYPOTHESIS_PROFILE)


def example_scale() -> float:
    """How many more (or fewer) examples than the CI count the chosen profile asks for."""
    return {"ci": 1.0, "thorough": 10.0, "dev": 0.1}.get(HYPOTHESIS_PROFILE, 1.0)


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
