"""CVXPY imported without scipy.stats and scipy.optimize: it still works, both are real when imported later, and
the stand-ins never outlive the import. Each check runs in a fresh interpreter (the test process has scipy.stats
loaded)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import BASE_CONFIG, EXAMPLE_HOLDINGS, ROOT


def _probe(code: str) -> dict[str, object]:
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120,
                               check=False)
    assert completed.returncode == 0, completed.stderr
    result: dict[str, object] = json.loads(completed.stdout.strip().splitlines()[-1])
    return result


@pytest.mark.slow
def test_cvxpy_works_without_scipy_stats_until_entropy_is_used() -> None:
    result = _probe("""
import json, sys
from allocator.optimize.cvxpy_import import import_cvxpy
cp = import_cvxpy()
out = {"stats_after_import": "scipy.stats" in sys.modules, "optimize_after_import": "scipy.optimize" in sys.modules}
x = cp.Variable(2)
cp.Problem(cp.Minimize(cp.sum_squares(x - 1)), [cp.sum(x) == 1]).solve(solver="CLARABEL")
out["solution"] = [round(float(v), 8) for v in x.value]
out["stats_after_solve"] = "scipy.stats" in sys.modules
out["entropy"] = float(sys.modules["cvxpy.atoms.quantum_rel_entr"].entropy([0.2, 0.8]))
import scipy, scipy.stats
out["real"] = type(scipy.stats).__name__ == "module" and hasattr(scipy.stats, "norm")
out["reference"] = float(scipy.stats.entropy([0.2, 0.8]))
print(json.dumps(out))
""")
    assert result["stats_after_import"] is False and result["optimize_after_import"] is False
    assert result["solution"] == [0.5, 0.5]
    assert result["stats_after_solve"] is False
    assert result["real"] is True
    assert result["entropy"] == result["reference"]


@pytest.mark.slow
def test_any_other_name_loads_the_real_module() -> None:
    result = _probe("""
import json, sys
from allocator.optimize.cvxpy_import import DeferredModule
import scipy
stand_in = DeferredModule("scipy.stats")
sys.modules["scipy.stats"] = stand_in
norm = stand_in.norm
print(json.dumps({"cdf": float(norm.cdf(0.0)), "replaced": sys.modules["scipy.stats"] is not stand_in}))
""")
    assert result == {"cdf": 0.5, "replaced": True}


@pytest.mark.slow
def test_nothing_is_deferred_when_scipy_stats_is_already_imported() -> None:
    result = _probe("""
import json, sys
import scipy.stats
before = sys.modules["scipy.stats"]
from allocator.optimize.cvxpy_import import import_cvxpy
import_cvxpy()
print(json.dumps({"same": sys.modules["scipy.stats"] is before}))
""")
    assert result == {"same": True}


@pytest.mark.slow
@pytest.mark.parametrize(("command", "cvxpy"), [("run", False), ("frontier", True)])
def test_allocate_run_does_not_import_scipy_stats(command: str, cvxpy: bool) -> None:
    """``run`` is a one-off solve, handed to Clarabel directly: no CVXPY at all. ``frontier`` re-solves one
    compiled problem (below 1,000 assets), so it imports CVXPY, but without scipy.stats and scipy.optimize."""
    result = _probe(f"""
import json, sys
from allocator.cli import main
try:
    main([{command!r}, {str(EXAMPLE_HOLDINGS)!r}, "-c", {str(BASE_CONFIG)!r}, "-q"], standalone_mode=False)
except SystemExit:
    pass
print(json.dumps({{"cvxpy": "cvxpy" in sys.modules, "stats": "scipy.stats" in sys.modules,
                  "optimize": "scipy.optimize" in sys.modules}}))
""")
    assert result == {"cvxpy": cvxpy, "stats": False, "optimize": False}


@pytest.mark.slow
def test_cvxpy_lists_and_runs_its_scipy_solver_with_scipy_optimize_deferred() -> None:
    """CVXPY imports scipy.optimize at its own import only to see that its SCIPY solver is installed: it is still
    listed, and a solve with it loads the real scipy.optimize (the linprog answer is checked)."""
    result = _probe("""
import json, sys
from allocator.optimize.cvxpy_import import import_cvxpy
cp = import_cvxpy()
from cvxpy.reductions.solvers.defines import INSTALLED_SOLVERS  # found when CVXPY was imported
out = {"listed": "SCIPY" in INSTALLED_SOLVERS, "loaded": "scipy.optimize" in sys.modules}
x = cp.Variable(2)
problem = cp.Problem(cp.Minimize(x[0] + 2 * x[1]), [x >= 0, cp.sum(x) == 1])
problem.solve(solver="SCIPY")
out["solution"] = [round(float(v), 8) for v in x.value]
out["real"] = hasattr(sys.modules["scipy.optimize"], "linprog")
print(json.dumps(out))
""")
    assert result == {"listed": True, "loaded": False, "solution": [1.0, 0.0], "real": True}
