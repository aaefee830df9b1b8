"""A tracking-error limit at any size: the conic problem is canonicalized without DPP once its parameter tensor
would be large (``problem.keeps_parameters``), so its compile stays linear in the number of assets, and the optimum
is the one the DPP compile gives."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from allocator.config.schema import SolverConfig
from allocator.domain import RiskModel
from allocator.model.rsi import RsiLimits
from allocator.optimize import problem
from allocator.optimize.constraints import GroupBound, Limits, tracking_error
from allocator.optimize.problem import CompiledProblem, ProblemCache, keeps_parameters, solve_allocation

ROOT = Path(__file__).resolve().parents[2]
SOLVER = SolverConfig()


def factor_case(n: int, seed: int = 0) -> tuple[RiskModel, np.ndarray, Limits]:
    """A seeded 15-factor problem on ``n`` assets: long only, caps of 1.5 times the benchmark weight (at least
    2.5 / n), 11 sector caps, a 20% turnover limit, a 0.2% tracking error limit against a random benchmark (also the
    current portfolio), costs of 5 bps: the limits of ``configs/base.yaml`` in kind."""
    rng = np.random.default_rng(seed)
    symbols = tuple(f"A{i}" for i in range(n))
    risk = RiskModel(symbols, rng.standard_normal((n, 15)) * 0.1, np.eye(15), rng.uniform(0.01, 0.09, n), None,
                     "factor")
    mu = 0.04 + 0.05 * rng.standard_normal(n)
    benchmark = rng.dirichlet(np.ones(n))
    sectors = np.arange(n) % 11
    groups = tuple(GroupBound(f"g{j}", f"sector {j}", sectors == j, -np.inf,
                              float(benchmark[sectors == j].sum()) + 0.05, False) for j in range(11))
    free = np.full(n, np.inf)
    limits = Limits(symbols=symbols, current=benchmark, current_cash=0.0, benchmark=benchmark,
                    cost=np.full(n, 5e-4), position_lower=np.zeros(n),
                    position_upper=np.maximum(2.5 / n, 1.5 * benchmark),
                    active_lower=-free, active_upper=free, rsi=RsiLimits(np.full(n, 50.0), -free, free, ()),
                    groups=groups, budget=1.0, cash_lower=0.0, cash_upper=0.0, tracking_error_max=0.002,
                    turnover_max=0.2, turnover_forced=0.0)
    return risk, mu, limits


CHILD = """
import json, resource, sys
sys.path.insert(0, sys.argv[1])
from tests.optimize.test_tracking_error_scale import SOLVER, factor_case
from allocator.optimize.problem import ProblemCache, keeps_parameters, solve_allocation
from allocator.optimize.constraints import tracking_error
risk, mu, limits = factor_case(5000)
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
cache = ProblemCache(direct=sys.argv[2] == "direct")
allocation = solve_allocation(limits, mu, risk, 2.5, SOLVER, cache)
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
compiles = cache.compiles
compiled, _ = cache.get(risk, limits)
print(json.dumps({"growth": after - before, "dpp": keeps_parameters(compiled.problem), "status": allocation.status,
                  "te": tracking_error(risk, allocation.weight, limits.benchmark), "compiles": compiles}))
"""


@pytest.mark.slow
@pytest.mark.parametrize("path", ["cvxpy", "direct"])
def test_a_5000_asset_tracking_error_problem_is_solved_without_an_n_squared_array(path: str) -> None:
    """In a fresh process, solving the 5,000-asset problem with its tracking-error cone raises the peak RSS by less
    than one dense n-by-n float64 matrix (200 MB), through CVXPY (the DPP compile took 7.3 GB here) and with
    Clarabel called directly (``optimize.conic``, what ``allocate run`` does at this size)."""
    done = subprocess.run([sys.executable, "-c", CHILD, str(ROOT), path], capture_output=True, text=True,
                          check=False, cwd=ROOT, timeout=600)
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout.splitlines()[-1])
    n = 5000
    assert not found["dpp"]
    assert found["compiles"] == (1 if path == "cvxpy" else 0)
    assert found["status"] == "optimal"
    assert found["te"] == pytest.approx(0.002, abs=1e-6), "the limit binds, so the cone is really in play"
    assert found["growth"] < n * n * 8, f"peak RSS grew by {found['growth'] / 2**20:.0f} MB"


def test_small_problems_keep_dpp_and_large_conic_ones_do_not() -> None:
    risk, _, limits = factor_case(60)
    assert keeps_parameters(CompiledProblem(risk, limits).problem)
    assert keeps_parameters(CompiledProblem(risk, replace(limits, tracking_error_max=None)).problem)
    risk, _, limits = factor_case(1500)
    assert not keeps_parameters(CompiledProblem(risk, limits).problem)
    assert not keeps_parameters(CompiledProblem(risk, limits, elastic=True).phase_one)
    assert keeps_parameters(CompiledProblem(risk, replace(limits, tracking_error_max=None)).problem), \
        "a QP keeps its parameters at any size"


@pytest.mark.parametrize("n", [40, 700])
def test_the_optimum_without_dpp_is_the_dpp_optimum(n: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """The same problem canonicalized with its parameters (DPP) and with their values as constants (and then
    without the row ``gain``): the same weights to 1e-8 and the same objective to 1e-9, with the tracking-error limit
    binding. At 700 assets (over ``LARGE_VARIABLES``) Clarabel stops at 1e-9, and two formulations' weights then
    agree to about 1e-7."""
    risk, mu, limits = factor_case(n, seed=n)
    found = {}
    for cells in (10**15, 0):
        monkeypatch.setattr(problem, "DPP_CONE_CELLS", cells)
        found[cells] = solve_allocation(limits, mu, risk, 2.5, SOLVER, ProblemCache())
        assert ("gain" in CompiledProblem(risk, limits).constraints) is bool(cells), "no dense row without DPP"
    dpp, constants = found[10**15], found[0]
    assert tracking_error(risk, dpp.weight, limits.benchmark) == pytest.approx(0.002, abs=1e-7)
    np.testing.assert_allclose(constants.weight, dpp.weight, rtol=0, atol=1e-8 if n < 300 else 1e-7)
    assert abs(constants.objective - dpp.objective) <= 1e-9


def test_the_example_optimum_without_dpp_is_the_dpp_optimum(monkeypatch: pytest.MonkeyPatch) -> None:
    """``configs/base.yaml`` on the example account (tracking_error_max 0.03): both canonicalizations agree."""
    from allocator.pipeline import prepare

    prepared = prepare(ROOT / "examples" / "holdings.csv", ROOT / "configs" / "base.yaml")
    gamma = prepared.config.risk.risk_aversion
    found = []
    for cells in (10**15, 0):
        monkeypatch.setattr(problem, "DPP_CONE_CELLS", cells)
        compiled_cache = ProblemCache()
        found.append(solve_allocation(prepared.limits, prepared.returns.mu, prepared.risk, gamma,
                                      prepared.config.solver, compiled_cache))
        compiled, _ = compiled_cache.get(prepared.risk, prepared.limits)
        assert keeps_parameters(compiled.problem) is (cells > 0)
    np.testing.assert_allclose(found[1].weight, found[0].weight, rtol=0, atol=1e-8)
    assert abs(found[1].objective - found[0].objective) <= 1e-9



@pytest.mark.parametrize("direct", [True, False])
def test_the_benchmarks_2000_asset_tracking_error_problem_is_solved_by_clarabel_alone(direct: bool) -> None:
    """Large problems start at Clarabel's 1e-8 rung and retry at 1e-8 with more equilibration, through CVXPY or
    Clarabel called directly (``optimize.conic``). On the benchmark's fat-tailed 2,000-asset case
    (``bench/synthetic.py``) with a 2% tracking-error limit, the solve used to start at 1e-12, stop
    "optimal_inaccurate" at 1e-12 and at 1e-10, and fall through to SCS: 3.8 s against 0.2 s, for the same optimum
    (within the 1e-8 tolerances: 1.5e-8 apart)."""
    from bench.synthetic import allocate_limits, synthetic_case

    n = 2000
    case = synthetic_case(n, days=60)
    rng = np.random.default_rng([7, n])
    risk = RiskModel(case.symbols, rng.standard_normal((n, 15)) * 0.1, np.eye(15), rng.uniform(0.01, 0.09, n), None,
                     "factor")
    limits = replace(allocate_limits(case), tracking_error_max=0.02)
    cache = ProblemCache(direct=direct)
    allocation = solve_allocation(limits, case.mu, risk, case.gamma, SOLVER, cache)
    assert [(a.solver, a.status, a.accepted) for a in allocation.attempts] == [("clarabel", "optimal", True)]
    assert cache.compiles == (0 if direct else 1)
    assert allocation.objective == pytest.approx(0.0961992434, rel=1e-7)  # SCS's optimum, found before the fix
    assert tracking_error(risk, allocation.weight, limits.benchmark) <= 0.02 + 1e-7


@pytest.mark.parametrize("groups", [4, 10, 11])
def test_a_problem_that_keeps_its_parameters_has_none_in_its_objective_at_the_cutoff(groups: int) -> None:
    """Around the DPP cut-off (about 570 assets here) the row ``gain`` is dropped only when the problem without it
    is still compiled with constants: one variable fewer had brought some sizes under ``DPP_CONE_CELLS``, so a DPP
    problem held mu and kappa in its objective."""
    flips = 0
    for n in range(545, 595):
        risk, _, limits = factor_case(n, seed=1)
        limits = replace(limits, groups=limits.groups[:groups])
        compiled = CompiledProblem(risk, limits)
        kept = keeps_parameters(compiled.problem)
        if kept:  # DPP: the row gain holds mu and kappa, and the objective none
            assert "gain" in compiled.constraints and not compiled.problem.objective.parameters(), n
        flips += "gain" not in compiled.constraints
    assert 0 < flips < 50, "the sizes cross the cut-off"
