"""Shared fixtures: paths of the example account, the real-data folder (skipped when absent), a CLI runner, and the
example run and scenario-pack comparison computed once a session."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from click.testing import CliRunner, Result
from hypothesis import HealthCheck, settings

from allocator.cli import main

if TYPE_CHECKING:
    from allocator.compare.scenarios import Comparison
    from allocator.compare.tables import ComparisonTables

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


# Runs shared by the whole session. Their results are read, never written: a test that writes beside a run (a report,
# an edited copy) copies the files it needs into its own tmp_path first.
EVERY_FORMAT = ("csv", "json", "fix", "basket")


def _run_example(folder: Path, *extra: str) -> Path:
    out = folder / "out"
    result = CliRunner().invoke(main, ["run", str(EXAMPLE_HOLDINGS), "-c", str(BASE_CONFIG), "-o", str(out), "-q",
                                       *extra], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture(scope="session")
def example_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``allocate run examples/holdings.csv -c configs/base.yaml -o OUT``, once a session: its output folder."""
    return _run_example(tmp_path_factory.mktemp("example-run"))


@pytest.fixture(scope="session")
def example_run_every_format(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same run with every trade-list format (csv, json, fix, basket): its output folder."""
    return _run_example(tmp_path_factory.mktemp("example-run-formats"),
                        *[x for f in EVERY_FORMAT for x in ("--format", f)])


SCENARIOS = ROOT / "configs" / "scenarios"


@pytest.fixture(scope="session")
def scenario_pack() -> Comparison:
    """``compare`` of the example on the shipped scenario pack (configs/scenarios/*.yaml), once a session."""
    from allocator.compare.scenarios import compare
    from allocator.optimize.problem import ProblemCache

    return compare(EXAMPLE_HOLDINGS, sorted(SCENARIOS.glob("*.yaml")), cache=ProblemCache())


@pytest.fixture(scope="session")
def scenario_tables(scenario_pack: Comparison) -> ComparisonTables:
    """The comparison tables of the scenario pack."""
    from allocator.compare.tables import comparison_tables

    return comparison_tables(scenario_pack)
