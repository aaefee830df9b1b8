"""Start-up stays light: ``--help`` loads neither cvxpy, pandas nor riskfolio; ``validate`` no solver."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

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


def test_help_imports_nothing_heavy() -> None:
    loaded = _modules_loaded("--help")
    assert not loaded & {"cvxpy", "pandas", "riskfolio", "numpy", "scipy", "matplotlib", "sklearn"}


def test_validate_loads_no_solver_and_no_riskfolio() -> None:
    loaded = _modules_loaded("validate", str(EXAMPLE_HOLDINGS), "-c", str(BASE_CONFIG))
    assert "pandas" in loaded  # it did read the inputs
    assert not loaded & {"cvxpy", "riskfolio", "clarabel", "osqp", "scs", "matplotlib", "sklearn"}


def test_run_does_not_load_riskfolio() -> None:
    loaded = _modules_loaded("run", str(EXAMPLE_HOLDINGS), "-c", str(BASE_CONFIG), "-q")
    assert "cvxpy" in loaded
    assert not loaded & {"riskfolio", "matplotlib", "sklearn"}


def test_command_help_imports_nothing_heavy() -> None:
    for command in ("run", "validate"):
        loaded = _modules_loaded(command, "--help")
        assert not loaded & {"cvxpy", "pandas", "riskfolio", "numpy", "scipy", "matplotlib", "sklearn"}, command


def test_factor_models_load_neither_riskfolio_nor_scikit_learn(example_copy: Path) -> None:
    """The PCA and fundamental risk models are allocate's own: validate stays solver-free, run riskfolio-free."""
    for model in ("pca", "fundamental"):
        config = write_config(example_copy, f"extends: base.yaml\nrisk: {{model: {model}, factors: 5}}\n")
        holdings = str(example_copy / "examples" / "holdings.csv")
        validated = _modules_loaded("validate", holdings, "-c", str(config))
        assert "numpy" in validated
        assert not validated & {"cvxpy", "riskfolio", "clarabel", "sklearn", "matplotlib"}, model
        ran = _modules_loaded("run", holdings, "-c", str(config), "-q")
        assert "cvxpy" in ran
        assert not ran & {"riskfolio", "sklearn", "matplotlib"}, model


def test_stage_packages_import_nothing_heavy() -> None:
    """Each stage package's names load on first use: importing the packages loads no stage module's dependencies."""
    code = ("import json, sys\nimport allocator.config, allocator.inputs, allocator.model, allocator.optimize, "
            "allocator.orders, allocator.trading, allocator.outputs, allocator.compare\n"
            "print(json.dumps(sorted(m.split('.')[0] for m in sys.modules)))")
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120,
                               check=True)
    loaded = set(json.loads(completed.stdout.strip().splitlines()[-1]))
    assert not loaded & {"cvxpy", "pandas", "numpy", "scipy", "yaml", "pydantic", "sqlite3"}
