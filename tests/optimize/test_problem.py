"""Solver robustness: fallback order, every attempt recorded, and no trade on a solution that fails the check."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import Result

import allocator.optimize.problem as optimize
from allocator.config.schema import SolverName
from allocator.pipeline import prepare
from tests.helpers import write_config

NO_CONE = "extends: base.yaml\nconstraints: {tracking_error_max: null}\n"


def _crashing(*crashing: SolverName) -> optimize.SolveFn:
    """The solver seam, with the named solvers crashing and the others solving as usual."""

    def solve(problem: Any, solver: SolverName, verbose: bool) -> optimize.SolveReport:
        if solver in crashing:
            raise RuntimeError("simulated solver crash")
        return optimize.cvxpy_solve(problem, solver, verbose)

    return solve


def _every_run_solves_with(monkeypatch: pytest.MonkeyPatch, solve: optimize.SolveFn) -> None:
    """The CLI's run makes its own ``ProblemCache``: make every new cache solve through ``solve``."""
    real = optimize.ProblemCache

    class Patched(real):
        def __init__(self, max_size: int = 8, **options: Any) -> None:
            super().__init__(max_size, solve, **options)

    monkeypatch.setattr(optimize, "ProblemCache", Patched)


def test_first_solver_raises_and_the_fallback_is_recorded(cli: Callable[..., Result], example_copy: Path,
                                                         tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _every_run_solves_with(monkeypatch, _crashing(SolverName.CLARABEL))
    config = write_config(example_copy, NO_CONE)
    out = tmp_path / "out"
    result = cli("run", example_copy / "examples/holdings.csv", "-c", config, "-o", out, "-q")
    assert result.exit_code == 0, result.output
    attempts = json.loads((out / "manifest.json").read_text())["solver"]["attempts"]
    assert [(a["solver"], a["accepted"]) for a in attempts] == [("clarabel", False), ("osqp", True)]
    assert attempts[0]["status"] == "error" and "simulated solver crash" in attempts[0]["message"]


def test_a_solution_that_fails_the_numpy_check_is_never_used(cli: Callable[..., Result], example_copy: Path,
                                                            tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = optimize.violations
    calls = {"n": 0}

    def first_is_bad(*args: Any, **kwargs: Any) -> dict[str, float]:
        calls["n"] += 1
        found = real(*args, **kwargs)
        return {**found, "turnover": 0.01} if calls["n"] == 1 else found

    monkeypatch.setattr(optimize, "violations", first_is_bad)
    config = write_config(example_copy, NO_CONE)
    out = tmp_path / "out"
    assert cli("run", example_copy / "examples/holdings.csv", "-c", config, "-o", out, "-q").exit_code == 0
    attempts = json.loads((out / "manifest.json").read_text())["solver"]["attempts"]
    assert attempts[0]["solver"] == "clarabel" and not attempts[0]["accepted"]
    assert attempts[0]["message"] == "solution violates turnover by 1.00e-02 (Clarabel called directly)"
    assert attempts[1]["accepted"]


def test_every_solver_failing_writes_nothing_and_exits_5(cli: Callable[..., Result], example_copy: Path,
                                                        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _every_run_solves_with(monkeypatch, _crashing(*SolverName))
    out = tmp_path / "out"
    result = cli("run", example_copy / "examples/holdings.csv", "-c", example_copy / "configs/base.yaml", "-o", out)
    assert result.exit_code == 5
    assert "clarabel: simulated solver crash (RuntimeError)" in result.stderr
    assert not out.exists()


def test_a_solver_that_reports_a_bad_status_is_recorded_and_the_next_is_tried(example_copy: Path) -> None:
    """Through the seam, without CVXPY: a solver that returns "solver_error" is an attempt, not an answer."""
    prepared = prepare(example_copy / "examples/holdings.csv", write_config(example_copy, NO_CONE))
    calls: list[SolverName] = []

    def flaky(problem: Any, solver: SolverName, verbose: bool) -> optimize.SolveReport:
        calls.append(solver)
        if solver is SolverName.CLARABEL:
            return optimize.SolveReport("solver_error", 0.5, 7)
        return optimize.cvxpy_solve(problem, solver, verbose)

    limits, cfg = prepared.limits, prepared.config
    allocation = optimize.solve_allocation(limits, prepared.returns.mu, prepared.risk, cfg.risk.risk_aversion,
                                           cfg.solver, optimize.ProblemCache(solve=flaky))
    first, second = allocation.attempts[:2]
    assert (first.solver, first.status, first.accepted, first.message) == ("clarabel", "solver_error", False,
                                                                          "status solver_error")
    assert (first.solve_seconds, first.iterations) == (0.5, 7)
    assert (second.solver, second.accepted) == ("osqp", True) and allocation.solver == "osqp"
    assert calls == [SolverName.CLARABEL, SolverName.OSQP]


def test_parameterized_problem_equals_a_freshly_built_one(example_copy: Path) -> None:
    """One compiled problem, refilled with another scenario's parameters, gives that scenario's fresh answer."""
    base = prepare(example_copy / "examples/holdings.csv", example_copy / "configs/base.yaml")
    other = prepare(example_copy / "examples/holdings.csv", write_config(example_copy, """
extends: base.yaml
returns: {macro: {rate_path: tightening}}
constraints: {turnover_max: 0.1, active_max: 0.04, cash_min: 0.02}
rsi: {min_trim: 0.2}
"""))
    gamma = base.config.risk.risk_aversion
    shared = optimize.ProblemCache()
    first = optimize.solve_allocation(base.limits, base.returns.mu, base.risk, gamma, base.config.solver, shared)
    reused = optimize.solve_allocation(other.limits, other.returns.mu, other.risk, gamma, other.config.solver, shared)
    fresh = optimize.solve_allocation(other.limits, other.returns.mu, other.risk, gamma, other.config.solver,
                                      optimize.ProblemCache())
    assert not first.reused_problem and reused.reused_problem and not fresh.reused_problem
    assert shared.hits == 1 and shared.misses == 1
    np.testing.assert_allclose(reused.weight, fresh.weight, atol=1e-8)
    assert np.abs(reused.weight - first.weight).max() > 1e-3, "the scenarios differ"
