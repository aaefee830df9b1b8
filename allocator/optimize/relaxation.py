"""Elastic solves: find the smallest relaxation of conflicting limits, and optionally trade on it (``--relax``).

Phase one minimizes ``sum_f cost_f * sum(slack_f)`` over the elastic problem of ``optimize.CompiledProblem``;
the slacks it finds are the relaxation. Phase two maximizes utility with each slack capped at its phase-one value,
so ``--relax`` bends exactly the limits the diagnosis named, by no more than it said. The limits do not depend on
the objective, so neither does the diagnosis; phase two seeks the config's objective (``objectives``).
"""

from __future__ import annotations

import time

import numpy as np

from allocator.config.schema import Config, Objective
from allocator.domain import FloatArray, RiskModel
from allocator.errors import SolverError
from allocator.optimize.constraints import Limits
from allocator.optimize.diagnosis import SLACK_TOLERANCE, Diagnosis, diagnose, relaxation_costs
from allocator.optimize.families import families_of
from allocator.optimize.objectives import utility_returns
from allocator.optimize.parameter_values import set_value
from allocator.optimize.problem import Allocation, ProblemCache, solve_allocation, solve_and_check, solve_in_order

CAP_MARGIN = 1e-6


def diagnose_infeasible(limits: Limits, risk: RiskModel, config: Config, cache: ProblemCache,
                        checks: tuple[str, ...] = ()) -> Diagnosis:
    """Solve the elastic phase-one problem and report which limits must move, and by how much.

    The elastic problem comes from ``cache``; ``checks`` are the pre-solve findings, reported first.
    """
    compiled, _ = cache.get(risk, limits, elastic=True)
    compiled.set_values(limits, np.zeros(len(limits.symbols)), 1.0)
    costs = relaxation_costs(limits, config)
    for side, parameter in compiled.priority.items():
        cost = costs[side]
        set_value(parameter, np.broadcast_to(cost, parameter.shape).copy() if parameter.shape else float(cost))
    attempts, solver, _ = solve_in_order(compiled.phase_one, config.solver, lambda: None, cache.run_solver)
    if solver is None:
        if checks:
            return Diagnosis(relaxations=(), checks=checks)
        summary = "; ".join(f"{a.solver}: {a.message or a.status}" for a in attempts)
        raise SolverError("solver", f"the limits conflict, and the diagnosis could not be solved ({summary})",
                          "check the constraints section for contradictory values")
    return diagnose(compiled, limits, config, checks)


def with_margin(slack: FloatArray) -> FloatArray:
    """The diagnosed slack plus a small margin where it is positive (zero slack stays zero: limits the
    diagnosis did not name are not relaxed at all)."""
    result: FloatArray = np.where(slack > SLACK_TOLERANCE, slack + CAP_MARGIN, 0.0)
    return result


def relaxed_limits(limits: Limits, slacks: dict[str, FloatArray]) -> Limits:
    """``limits`` with each family moved by its slack (what ``--relax`` trades under)."""

    def slack(side: str, size: int) -> FloatArray:
        values = slacks.get(side)
        return np.zeros(size) if values is None else with_margin(values)

    relaxed = limits
    for family in families_of(limits):
        relaxed = family.relaxed(relaxed, slack)
    return relaxed


def solve_relaxed(limits: Limits, mu: FloatArray, risk: RiskModel, config: Config, diagnosis: Diagnosis,
                  cache: ProblemCache) -> Allocation:
    """Best meet ``optimizer.objective`` with every limit relaxed by at most the diagnosis's slack: on the elastic
    problem of ``cache`` (the one the diagnosis solved) with the slacks capped, or, for max_sharpe, whose
    homogenized problem has no slacks, on the limits moved by those caps (the same set of portfolios)."""
    objective, gamma = config.optimizer.objective, config.risk.risk_aversion
    if objective is Objective.MAX_SHARPE:
        return solve_allocation(relaxed_limits(limits, diagnosis.slacks), mu, risk, gamma, config.solver, cache,
                                objective)
    started = time.perf_counter()
    compiled, reused = cache.get(risk, limits, elastic=True)
    compiled.set_values(limits, utility_returns(objective, mu, risk, limits.benchmark, gamma), gamma)
    for family, cap in compiled.slack_cap.items():
        found = diagnosis.slacks.get(family)
        values = np.zeros(cap.shape) if found is None else with_margin(found)
        set_value(cap, values.reshape(cap.shape) if cap.shape else float(np.atleast_1d(values)[0]))
    build_seconds = time.perf_counter() - started
    return solve_and_check(compiled, compiled.problem, limits, mu, risk, gamma, config.solver, build_seconds, reused,
                           relaxed=relaxed_limits(limits, diagnosis.slacks), solve=cache.run_solver,
                           objective=objective)
