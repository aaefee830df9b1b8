"""Start-up stays light: ``--help`` loads neither cvxpy, pandas nor numpy; ``validate`` no solver; ``run`` no charts
(and with ``-q`` no table library)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import BASE_CONFIG, EXAMPLE_HOLDINGS, ROOT
from tests.helpers import write_config

PROBE = """
import json, sys
from allocator.cli import main
try:
    main(%s, standalone_mode=False)
except SystemExit:
    pass
print(json.dumps(sorted(m.split('.')[0] for m in sys.modules)), file=sys.stderr)
"""


def _modules_loaded(*args: str) -> set[str]:
    completed = subprocess.run([sys.executable, "-c", PROBE % repr(list(args))], capture_output=True, text=True,
                               cwd=ROOT, timeout=120, check=False)
    return set(json.loads(completed.stderr.strip().splitlines()[-1]))


# Only modules allocate itself imports somewhere are checked, so that asserting their absence could fail: riskfolio
# is imported by one module, allocator.backtest.riskfolio_adapter, inside the functions that call it (scikit-learn
# only through riskfolio); ``test_riskfolio_loads_only_when_the_adapter_is_called`` shows the probe sees it.
HEAVY = {"cvxpy", "pandas", "numpy", "scipy", "matplotlib", "dask", "distributed", "riskfolio"}
SOLVERS = {"cvxpy", "clarabel", "osqp", "scs"}


def test_help_imports_nothing_heavy() -> None:
    loaded = _modules_loaded("--help")
    assert not loaded & HEAVY


def test_validate_no_solve_reads_the_inputs_but_loads_no_solver() -> None:
    loaded = _modules_loaded("validate", str(EXAMPLE_HOLDINGS), "-c", str(BASE_CONFIG), "--no-solve")
    assert "pandas" in loaded  # it did read the inputs
    assert not loaded & (SOLVERS | {"matplotlib"})


@pytest.mark.slow
def test_validate_solves_as_run_does_but_draws_nothing() -> None:
    loaded = _modules_loaded("validate", str(EXAMPLE_HOLDINGS), "-c", str(BASE_CONFIG))
    assert "clarabel" in loaded  # it solved (a one-off solve, by Clarabel directly), so it fails where run would
    assert "matplotlib" not in loaded


@pytest.mark.slow
def test_run_loads_the_solver_but_not_the_chart_library() -> None:
    loaded = _modules_loaded("run", str(EXAMPLE_HOLDINGS), "-c", str(BASE_CONFIG), "-q")
    assert "clarabel" in loaded and "cvxpy" not in loaded  # a one-off solve: Clarabel called directly
    assert "matplotlib" not in loaded  # only compare draws
    assert "riskfolio" not in loaded  # only the backtest's hrp, erc and risk measures call it
    assert "rich" not in loaded  # -q prints no tables


@pytest.mark.slow
def test_a_batch_in_this_process_loads_no_dask(tmp_path: Path) -> None:
    """Dask is imported by a batch that runs on it only: a small book (or --workers 0) never loads it."""
    book = ROOT / "examples" / "batch" / "holdings"
    loaded = _modules_loaded("batch", str(book), "-c", str(BASE_CONFIG), "-o", str(tmp_path / "out"), "-q")
    assert "clarabel" in loaded and (tmp_path / "out" / "batch.csv").is_file()
    assert "cvxpy" not in loaded  # every account solved by Clarabel directly
    assert not loaded & {"dask", "distributed"}


def test_command_help_imports_nothing_heavy() -> None:
    for command in ("run", "validate", "compare", "batch", "backtest"):
        loaded = _modules_loaded(command, "--help")
        assert not loaded & HEAVY, command


@pytest.mark.slow
def test_validate_with_a_factor_risk_model_estimates_it_without_a_solver(example_copy: Path) -> None:
    """The PCA and fundamental risk models are allocate's own numpy code: validating such a config stays solver-free."""
    for model in ("pca", "fundamental"):
        config = write_config(example_copy, f"extends: base.yaml\nrisk: {{model: {model}, factors: 5}}\n")
        validated = _modules_loaded("validate", str(example_copy / "examples" / "holdings.csv"), "-c", str(config),
                                    "--no-solve")
        assert "numpy" in validated
        assert not validated & (SOLVERS | {"matplotlib"}), model


def test_stage_packages_import_nothing_heavy() -> None:
    """Each stage package's names load on first use: importing the packages loads no stage module's dependencies."""
    code = ("import json, sys\nimport allocator.config, allocator.inputs, allocator.model, allocator.optimize, "
            "allocator.orders, allocator.trading, allocator.outputs, allocator.compare, allocator.batch\n"
            "print(json.dumps(sorted(m.split('.')[0] for m in sys.modules)))")
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120,
                               check=True)
    loaded = set(json.loads(completed.stdout.strip().splitlines()[-1]))
    assert not loaded & {"cvxpy", "pandas", "numpy", "scipy", "yaml", "pydantic", "sqlite3"}


def _loaded_by(code: str) -> set[str]:
    completed = subprocess.run([sys.executable, "-c", f"import json, sys\n{code}\n"
                                "print(json.dumps(sorted(m.split('.')[0] for m in sys.modules)))"],
                               capture_output=True, text=True, cwd=ROOT, timeout=120, check=True)
    return set(json.loads(completed.stdout.strip().splitlines()[-1]))


def test_riskfolio_loads_only_when_the_adapter_is_called() -> None:
    """Importing the CLI, the backtest's metrics and strategies or the adapter itself leaves riskfolio unloaded (a
    3 s import); the adapter's first call loads it."""
    imported = _loaded_by("import allocator.cli, allocator.backtest.metrics, allocator.backtest.strategies, "
                          "allocator.backtest.riskfolio_adapter")
    assert "numpy" in imported and "riskfolio" not in imported
    called = _loaded_by("import numpy as np\nfrom allocator.backtest.riskfolio_adapter import cvar\n"
                        "cvar(np.linspace(-0.02, 0.02, 40))")
    assert "riskfolio" in called
