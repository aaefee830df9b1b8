"""The robust portfolio: the one that maximizes the worst utility over several views, under one set of limits.

A view is what a scenario believes: expected returns ``mu_s``, a risk model ``Sigma_s``, a risk aversion
``gamma_s`` and trading costs ``kappa_s`` (from the scenario's config). Its utility of target weights ``w`` is the
objective a run maximizes, ``U_s(w) = mu_s'w - (gamma_s/2) w'Sigma_s w - kappa_s'|w - w0|`` (annualized, fractions
of NAV; ``problem.utility``). The robust problem adds an epigraph variable ``t`` to the base problem's variables
and every family of limits of the base scenario (``problem.CompiledProblem``, unchanged):

    maximize    t
    subject to  t <= mu_s'w - kappa_s'traded - (gamma_s/2) v_r(s)       for each view s
                v_r >= w'Sigma_r w                                       for each distinct risk model r
                every limit of the base scenario (budget, bounds, groups, tracking error, turnover, ...)

When every view has the base risk model and risk aversion (the usual pack: views differ in ``mu``), the risk term
is common and the problem stays a QP: ``t`` bounds the linear parts only and the objective is ``t`` minus the base
problem's risk term. Otherwise each distinct risk model's variance is a conic (second-order cone) row.
All of it is scaled as the base problem is (by ``2 * scale / gamma_base``), and ``mu_s``, ``kappa_s`` and
``gamma_s / gamma_base`` are ``cp.Parameter``s: one compiled problem serves any views of the same count and risk
models. ``traded >= |w - w0|`` is tight wherever a view's cost row binds, so the solution's worst utility
recomputed with numpy is ``t`` (up to the solver's tolerance). Views that share the base risk model share its
factor exposures ``y``; another risk model gets its own.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from allocator.config.schema import SolverConfig
from allocator.domain import FloatArray, RiskModel
from allocator.errors import ConfigError
from allocator.optimize.constraints import Limits
from allocator.optimize.parameter_values import set_value
from allocator.optimize.problem import Allocation, CompiledProblem, SolveFn, cp, cvxpy_solve, solve_compiled, utility

# ``cp`` imports CVXPY at its first use: ``View`` is read by reports that solve nothing (``allocate run --report``)


@dataclass(frozen=True)
class View:
    """One scenario's view: its expected returns, risk model and risk aversion over ``symbols``, and its limits
    (whose ``cost`` and ``current`` weights price the trades)."""

    name: str
    symbols: tuple[str, ...]
    mu: FloatArray
    risk: RiskModel
    gamma: float
    limits: Limits

    def utility(self, weight: FloatArray) -> float:
        """``U(w)`` under this view: the objective a run with this view maximizes (``problem.utility``)."""
        return utility(self.mu, self.risk, self.limits, weight, self.gamma)


def worst_case(views: Sequence[View], weight: FloatArray) -> tuple[float, str]:
    """The smallest utility of ``weight`` over ``views`` (all on the same symbols) and the view giving it."""
    values = [(view.utility(weight), view.name) for view in views]
    return min(values, key=lambda item: item[0])


def _same_risk(a: RiskModel, b: RiskModel) -> bool:
    return a is b or all(np.array_equal(x, y) for x, y in ((a.loadings, b.loadings), (a.factor_sqrt, b.factor_sqrt),
                                                            (a.specific_variance, b.specific_variance)))


class RobustProblem:
    """The epigraph problem over ``views`` with the limits' families (see the module docstring)."""

    def __init__(self, risk: RiskModel, limits: Limits, risks: Sequence[RiskModel], shared_risk: bool = False
                 ) -> None:
        self.base = CompiledProblem(risk, limits)
        base = self.base
        n = len(limits.symbols)
        self.t = cp.Variable(name="worst_utility")
        self.mu = [cp.Parameter(n, name=f"mu_{s}") for s in range(len(risks))]
        self.kappa = [cp.Parameter(n, nonneg=True, name=f"kappa_{s}") for s in range(len(risks))]
        self.aversion = [cp.Parameter(nonneg=True, name=f"aversion_{s}") for s in range(len(risks))]
        self.shared_risk = shared_risk
        if shared_risk:  # one risk term for all: a QP, t bounds the linear part only
            self.risk_terms = base.utility_risk
            linear = [self.t <= m @ base.w - k @ base.traded for m, k in zip(self.mu, self.kappa, strict=True)]
            self.problem = cp.Problem(cp.Maximize(self.t - self.risk_terms), [*base.constraints.values(), *linear])
            return
        distinct: list[RiskModel] = []
        self.risk_of: list[int] = []
        for view_risk in risks:
            found = next((j for j, r in enumerate(distinct) if _same_risk(r, view_risk)), None)
            if found is None:
                distinct.append(view_risk)
                found = len(distinct) - 1
            self.risk_of.append(found)
        rows: list[Any] = []
        variances = []
        for j, view_risk in enumerate(distinct):
            if view_risk.loadings.shape[0] != n:
                raise ValueError("every view's risk model must cover the base scenario's assets")
            if _same_risk(view_risk, risk):
                y, specific = base.y, base.specific
            else:
                y = cp.Variable(view_risk.loadings.shape[1], name=f"y_{j}")
                rows.append(y == (view_risk.exposure * np.sqrt(base.scale)).T @ base.w)
                specific = np.sqrt(view_risk.specific_variance * base.scale)
            variance = cp.Variable(name=f"variance_{j}")
            terms = [cp.sum_squares(y)]
            if np.any(specific > 0):
                terms.append(cp.sum_squares(cp.multiply(specific, base.w)))
            rows.append(variance >= cp.sum(terms))
            variances.append(variance)
        for s, j in enumerate(self.risk_of):
            rows.append(self.t <= self.mu[s] @ base.w - self.kappa[s] @ base.traded
                        - self.aversion[s] * variances[j])
        self.problem = cp.Problem(cp.Maximize(self.t), [*base.constraints.values(), *rows])

    def set_values(self, limits: Limits, views: Sequence[View], gamma: float) -> None:
        """Fill the base problem's parameters (``limits``, the first view's mu, ``gamma``) and each view's row."""
        impact = [v.name for v in views if v.limits.impact is not None]
        if impact:
            raise ConfigError("trading.impact", "the robust portfolio does not price market impact "
                              f"({', '.join(impact)})",
                              "leave trading.impact out of the scenarios compared with --robust")
        base = self.base
        base.set_values(limits, views[0].mu, gamma)
        factor = 2.0 * base.scale / gamma
        for s, view in enumerate(views):
            set_value(self.mu[s], factor * view.mu)
            set_value(self.kappa[s], factor * view.limits.cost / view.limits.horizon)  # one-time cost over the horizon
            set_value(self.aversion[s], view.gamma / gamma)


@dataclass(frozen=True)
class RobustAllocation:
    """The robust solution: ``allocation.objective`` is its worst utility over the views (recomputed with numpy),
    ``worst_view`` names the view that gives it, ``utilities`` its utility under each view (by name) and
    ``solver_bound`` the epigraph variable ``t`` as the solver left it, in the same units (equal to the worst
    utility up to the solver's tolerance)."""

    allocation: Allocation
    worst_view: str
    utilities: dict[str, float]
    seconds: float
    solver_bound: float


def solve_robust(limits: Limits, risk: RiskModel, gamma: float, views: Sequence[View], solver_config: SolverConfig,
                 solve: SolveFn = cvxpy_solve) -> RobustAllocation:
    """Maximize the worst utility over ``views`` (each on ``limits.symbols``) under ``limits``; ``risk`` and
    ``gamma`` are the base scenario's. Raises ``ProblemInfeasible`` or ``SolverError`` as ``solve_allocation``."""
    for view in views:
        if view.symbols != limits.symbols:
            raise ValueError(f"view {view.name!r} is on other assets than the base scenario")
    started = time.perf_counter()
    shared = all(_same_risk(v.risk, risk) and v.gamma == gamma for v in views)
    robust = RobustProblem(risk, limits, [v.risk for v in views], shared_risk=shared)
    robust.set_values(limits, views, gamma)
    build_seconds = time.perf_counter() - started
    allocation = solve_compiled(robust.base, robust.problem, limits, views[0].mu, risk, gamma, solver_config,
                                build_seconds, solve=solve)
    worst, name = worst_case(views, allocation.weight)
    utilities = {view.name: view.utility(allocation.weight) for view in views}
    bound = float(robust.problem.value) * gamma / (2.0 * robust.base.scale)
    return RobustAllocation(dataclasses.replace(allocation, objective=worst), name, utilities,
                            time.perf_counter() - started, bound)
