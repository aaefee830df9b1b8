"""Elastic solves: find the smallest relaxation of conflicting limits, and optionally trade on it (``--relax``).

Phase one minimizes ``sum_f cost_f * sum(slack_f)`` over the elastic problem of ``optimize.CompiledProblem``;
the slacks it finds are the relaxation. Phase two maximizes utility with each slack capped at its phase-one value,
so ``--relax`` bends exactly the limits the diagnosis named, by no more than it said.
"""

from __future__ import annotations

import time
from dataclasses import replace

import numpy as np

from allocator.config.schema import Config
from allocator.domain import FloatArray, RiskModel
from allocator.errors import SolverError
from allocator.optimize.constraints import GroupBound, Limits
from allocator.optimize.diagnosis import SLACK_TOLERANCE, Diagnosis, diagnose, relaxation_costs
from allocator.optimize.problem import DEFAULT_CACHE, Allocation, ProblemCache, _finish, solve_in_order

CAP_MARGIN = 1e-6


def diagnose_infeasible(limits: Limits, risk: RiskModel, config: Config, cache: ProblemCache | None = None,
                        checks: tuple[str, ...] = ()) -> Diagnosis:
    """Solve the elastic phase-one problem and report which limits must move, and by how much.

    ``checks`` are the pre-solve findings, reported first.
    """
    cache = cache if cache is not None else DEFAULT_CACHE
    compiled, _ = cache.get(risk, limits, elastic=True)
    compiled.set_values(limits, np.zeros(len(limits.symbols)), 1.0)
    costs = relaxation_costs(config.constraints.relaxation_cost)
    group_costs = [g.relaxation_cost for g in config.constraints.groups]
    for family, parameter in compiled.priority.items():
        if family.startswith("group"):
            parameter.value = np.array([costs[family] if c is None else c for c in group_costs])
        else:
            parameter.value = np.full(parameter.shape, costs[family]) if parameter.shape else costs[family]
    attempts, solver, _ = solve_in_order(compiled.phase_one, config.solver, lambda: None)
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

    def get(family: str, size: int) -> FloatArray:
        values = slacks.get(family)
        return np.zeros(size) if values is None else with_margin(values)

    n, m = len(limits.symbols), len(limits.groups)
    group_lower, group_upper = get("group_min", m), get("group_max", m)
    groups = tuple(GroupBound(g.key, g.label, g.members, g.lower - group_lower[i], g.upper + group_upper[i],
                              g.relative) for i, g in enumerate(limits.groups))
    rsi = replace(limits.rsi, lower=limits.rsi.lower - get("rsi_min", n), upper=limits.rsi.upper + get("rsi_max", n))
    return replace(
        limits,
        position_lower=limits.position_lower - get("position_min", n),
        position_upper=limits.position_upper + get("position_max", n),
        active_lower=limits.active_lower - get("active_min", n),
        active_upper=limits.active_upper + get("active_max", n),
        rsi=rsi, groups=groups,
        cash_lower=limits.cash_lower - float(get("cash_min", 1)[0]),
        cash_upper=limits.cash_upper + float(get("cash_max", 1)[0]),
        tracking_error_max=(None if limits.tracking_error_max is None
                            else limits.tracking_error_max + float(get("tracking_error", 1)[0])),
        turnover_max=None if limits.turnover_max is None else limits.turnover_max + float(get("turnover", 1)[0]),
    )


def solve_relaxed(limits: Limits, mu: FloatArray, risk: RiskModel, config: Config, diagnosis: Diagnosis,
                  cache: ProblemCache | None = None) -> Allocation:
    """Maximize utility with every limit relaxed by at most the diagnosis's slack."""
    cache = cache if cache is not None else DEFAULT_CACHE
    started = time.perf_counter()
    compiled, reused = cache.get(risk, limits, elastic=True)
    compiled.set_values(limits, mu, config.risk.risk_aversion)
    for family, cap in compiled.slack_cap.items():
        found = diagnosis.slacks.get(family)
        values = np.zeros(cap.shape) if found is None else with_margin(found)
        cap.value = values.reshape(cap.shape) if cap.shape else float(np.atleast_1d(values)[0])
    build_seconds = time.perf_counter() - started
    return _finish(compiled, compiled.problem, limits, mu, risk, config.risk.risk_aversion, config.solver,
                   build_seconds, reused, relaxed=relaxed_limits(limits, diagnosis.slacks))
