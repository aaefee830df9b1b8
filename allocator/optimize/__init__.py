"""Optimize: the limits of the account and the model's returns and risk -> target weights (fractions of NAV).

- ``constraints``: ``build_limits`` -> ``Limits`` (every limit as numbers: weights as fractions of NAV, tracking
  error as annualized volatility, turnover one-way), ``tracking_error`` and ``turnover``; ``families`` holds each
  family of limits as an object, and the numpy checks ``violations`` and ``binding_constraints``;
- ``problem``: ``solve_allocation`` -> ``Allocation`` on a ``ProblemCache`` (compiled CVXPY problems reused
  across solves; ``SolverAttempt`` records each solver tried), raising ``ProblemInfeasible`` when the limits
  conflict;
- ``diagnosis``: ``presolve_checks`` and ``Diagnosis``, which limits conflict and by how much to relax them;
  ``relaxation``: ``diagnose_infeasible``, ``relaxed_limits`` and ``solve_relaxed`` (``--relax``);
- ``objectives``: ``objective_value`` and ``utility_returns``, the objectives of ``optimizer.objective``
  (``solve_allocation(..., objective)``);
- ``cvxpy_import``: ``import_cvxpy``, CVXPY without its scipy.stats import (the CLI's start-up).

The names below load on first use (this package needs NumPy, and ``problem`` CVXPY), so ``allocate --help`` and
``allocate validate`` stay solver-free.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from allocator.lazy import lazy_attributes

if TYPE_CHECKING:
    from allocator.optimize.constraints import Limits, build_limits, tracking_error, turnover
    from allocator.optimize.cvxpy_import import import_cvxpy
    from allocator.optimize.diagnosis import Diagnosis, presolve_checks
    from allocator.optimize.families import binding_constraints, violations
    from allocator.optimize.objectives import objective_value, utility_returns
    from allocator.optimize.problem import (
        Allocation,
        ProblemCache,
        ProblemInfeasible,
        SolverAttempt,
        solve_allocation,
    )
    from allocator.optimize.relaxation import diagnose_infeasible, relaxed_limits, solve_relaxed

MODULES = {"Limits": "constraints", "binding_constraints": "families", "build_limits": "constraints",
           "tracking_error": "constraints", "turnover": "constraints", "violations": "families",
           "import_cvxpy": "cvxpy_import", "Diagnosis": "diagnosis", "presolve_checks": "diagnosis",
           "Allocation": "problem", "ProblemCache": "problem", "ProblemInfeasible": "problem",
           "SolverAttempt": "problem", "solve_allocation": "problem", "diagnose_infeasible": "relaxation",
           "relaxed_limits": "relaxation", "solve_relaxed": "relaxation", "objective_value": "objectives",
           "utility_returns": "objectives"}
__all__ = ["Allocation", "Diagnosis", "Limits", "ProblemCache", "ProblemInfeasible", "SolverAttempt",
           "binding_constraints", "build_limits", "diagnose_infeasible", "import_cvxpy", "objective_value",
           "presolve_checks", "relaxed_limits", "solve_allocation", "solve_relaxed", "tracking_error", "turnover",
           "utility_returns", "violations"]


__getattr__ = lazy_attributes(__name__, MODULES)
