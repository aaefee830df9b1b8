"""Build (once) and solve the mean-variance problem of docs/method.md ("The optimization problem").

Variables: ``w`` (target weights of the risky assets, fractions of NAV), ``c`` (cash weight), ``traded``
(``>= |w - w0|``, the weight each asset trades) and ``y = R'B'w`` (factor exposures). With
``Sigma = B F B' + diag(d)`` and ``F = R R'``:

    maximize    gain - (gamma/2) (||y||^2 + ||sqrt(d) * w||^2),   gain = mu'w - kappa'traded
    subject to  sum(w) + c = budget,  cash_min <= c <= cash_max
                per-asset bounds (position, active, RSI), group bounds,
                sqrt((w-b)' Sigma (w-b)) <= tracking_error_max,  0.5 * sum(traded) <= turnover room

With a factor model (k factors, k much smaller than n) the problem has O(n k) nonzeros and no n-by-n matrix is
formed; with a dense covariance ``B`` is its Cholesky factor (k = n). The parametric linear part sits in the
constraint that defines ``gain``, so the objective holds no parameter: CVXPY then extracts the quadratic
objective without the dense (variables x parameters) coefficient matrix it builds otherwise, which at 3,000 assets
cost 0.4 s and a 2 GB allocation per compile.

The objective is divided by gamma/2 so that ``gamma`` enters only through the parameters ``2 mu / gamma`` and
``2 kappa / gamma``. Everything a run or scenario changes (mu, costs, w0, b, every bound) is a ``cp.Parameter``,
so the problem satisfies DPP and is canonicalized once per universe and risk model; later solves only refill
parameters (``ProblemCache``) and warm-start the solver where it can: Clarabel keeps its solver object and takes
the new data in place (Clarabel allows that only when its presolve removed nothing, so presolve is off; with
finite bounds it would have nothing to remove anyway), OSQP starts from the previous solution. Solvers are tried
in order (Clarabel, then OSQP, then SCS), each attempt recorded, and a solution is accepted only after every
constraint is recomputed with numpy.
"""

from __future__ import annotations

import hashlib
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import cvxpy as cp
import numpy as np

from allocator.config.schema import SolverConfig, SolverName
from allocator.domain import FloatArray, RiskModel
from allocator.errors import SolverError
from allocator.optimize.constraints import Limits, violations

INERT = 10.0  # a bound of 10x NAV stands for "no limit" (parameters must be finite)

SOLVER_OPTIONS: dict[SolverName, dict[str, Any]] = {
    SolverName.CLARABEL: {"tol_gap_abs": 1e-12, "tol_gap_rel": 1e-12, "tol_feas": 1e-12, "presolve_enable": False},
    SolverName.OSQP: {"eps_abs": 1e-9, "eps_rel": 1e-9, "max_iter": 200_000, "polish": True},
    SolverName.SCS: {"eps_abs": 1e-9, "eps_rel": 1e-9, "max_iters": 200_000},
}
CVXPY_NAMES = {SolverName.CLARABEL: "CLARABEL", SolverName.OSQP: "OSQP", SolverName.SCS: "SCS"}
INFEASIBLE = {cp.INFEASIBLE, cp.INFEASIBLE_INACCURATE}


@dataclass(frozen=True)
class SolverAttempt:
    """One solver's try: its status, the solver's own solve time (seconds) and why it was not accepted."""

    solver: str
    status: str
    solve_seconds: float
    iterations: int | None
    accepted: bool
    message: str = ""


@dataclass(frozen=True)
class Allocation:
    """Optimal target weights (fractions of NAV) and how they were found."""

    symbols: tuple[str, ...]
    weight: FloatArray
    cash_weight: float
    objective: float
    status: str
    solver: str
    attempts: tuple[SolverAttempt, ...]
    compile_seconds: float
    violations: dict[str, float] = field(default_factory=dict)
    reused_problem: bool = False


def _finite(values: FloatArray, inert: float) -> FloatArray:
    return np.where(np.isfinite(values), values, inert)


def structure_key(risk: RiskModel, limits: Limits) -> str:
    """A key that is equal for problems that one compiled CVXPY problem can serve."""
    digest = hashlib.sha1()
    for array in (risk.loadings, risk.factor_sqrt, risk.specific_variance):
        digest.update(np.ascontiguousarray(array).tobytes())
    for g in limits.groups:
        digest.update(g.members.tobytes())
    digest.update(repr((limits.symbols, limits.tracking_error_max is not None,
                        limits.turnover_max is not None)).encode())
    return digest.hexdigest()


FAMILIES = ("position_min", "position_max", "active_min", "active_max", "rsi_min", "rsi_max", "group_min",
            "group_max", "cash_min", "cash_max", "tracking_error", "turnover")


class CompiledProblem:
    """The parameterized problem for one universe, risk model and set of constraint families.

    With ``elastic`` each family of limits gets a non-negative slack (one per asset or group where the family is
    per asset or group) and two objectives share the constraints: ``phase_one`` minimizes the weighted slack
    (the smallest relaxation that makes the limits hold), ``problem`` maximizes utility with each slack capped
    by the parameter ``slack_cap`` (``--relax``).
    """

    def __init__(self, risk: RiskModel, limits: Limits, elastic: bool = False) -> None:
        n, k = risk.loadings.shape
        m = len(limits.groups)
        self.elastic = elastic
        self.has_tracking_error = limits.tracking_error_max is not None
        self.has_turnover = limits.turnover_max is not None
        self.w = cp.Variable(n, name="w")
        self.c = cp.Variable(name="cash")
        self.traded = cp.Variable(n, name="traded")
        self.cash_traded = cp.Variable(name="cash_traded")
        self.y = cp.Variable(k, name="y")
        self.gain = cp.Variable(name="gain")
        p = self.params = {
            "mu": cp.Parameter(n, name="mu"),
            "kappa": cp.Parameter(n, nonneg=True, name="kappa"),
            "w0": cp.Parameter(n, name="w0"), "c0": cp.Parameter(name="c0"),
            "b": cp.Parameter(n, name="b"),
            "Bb": cp.Parameter(k, name="Bb"),
            "budget": cp.Parameter(), "cash_lower": cp.Parameter(), "cash_upper": cp.Parameter(),
        }
        # the per-asset families: separate (each with its slack) when elastic, else one lower and one upper bound
        # per asset (their tightest), which holds the same set of weights with a third of the rows
        bound_families = ("position", "active", "rsi") if elastic else ("weight",)
        for family in bound_families:
            p[f"{family}_lower"] = cp.Parameter(n, name=f"{family}_lower")
            p[f"{family}_upper"] = cp.Parameter(n, name=f"{family}_upper")
        sizes = {"group_min": m, "group_max": m, "cash_min": 0, "cash_max": 0, "tracking_error": 0,
                 "turnover": 0}
        self.slacks: dict[str, Any] = {}
        if elastic:
            for family in FAMILIES:
                size = sizes.get(family, n)
                shape: tuple[int, ...] = (size,) if size else ()
                if family in ("group_min", "group_max") and not m:
                    continue
                self.slacks[family] = cp.Variable(shape, nonneg=True, name=f"slack_{family}")
            self.priority = {f: cp.Parameter(v.shape, nonneg=True, name=f"priority_{f}")
                             for f, v in self.slacks.items()}
            self.slack_cap = {f: cp.Parameter(v.shape, nonneg=True, name=f"cap_{f}") for f, v in self.slacks.items()}

        def slack(family: str) -> Any:
            return self.slacks[family] if elastic else 0.0

        # scale the objective so an average asset's variance is 1: solver tolerances then mean the same thing
        # for any universe (the optimum is unchanged; mu, costs and the tracking-error limit are scaled alike)
        self.scale = float(n / max(np.sum(risk.volatility**2), 1e-300))
        exposure = risk.exposure * np.sqrt(self.scale)
        specific = np.sqrt(risk.specific_variance * self.scale)
        w, c = self.w, self.c
        risk_terms = [cp.sum_squares(self.y)]
        if np.any(specific > 0):
            risk_terms.append(cp.sum_squares(cp.multiply(specific, w)))
        trade = self.traded  # at least |w - w0|; exactly that wherever costs or the turnover limit bite
        cons: dict[str, Any] = {
            "budget": cp.sum(w) + c == p["budget"],
            "exposure": self.y == exposure.T @ w,
            "gain": self.gain == p["mu"] @ w - p["kappa"] @ trade,
            "bought": trade >= w - p["w0"],
            "sold": trade >= p["w0"] - w,
            "cash_bought": self.cash_traded >= c - p["c0"],
            "cash_sold": self.cash_traded >= p["c0"] - c,
            "cash_min": c >= p["cash_lower"] - slack("cash_min"),
            "cash_max": c <= p["cash_upper"] + slack("cash_max"),
        }
        for family in bound_families:
            cons[f"{family}_min"] = w >= p[f"{family}_lower"] - slack(f"{family}_min")
            cons[f"{family}_max"] = w <= p[f"{family}_upper"] + slack(f"{family}_max")
        if m:
            members = np.array([g.members for g in limits.groups], dtype=np.float64)
            p["group_lower"] = cp.Parameter(m)
            p["group_upper"] = cp.Parameter(m)
            cons["group_min"] = members @ w >= p["group_lower"] - slack("group_min")
            cons["group_max"] = members @ w <= p["group_upper"] + slack("group_max")
        if self.has_tracking_error:
            p["te"] = cp.Parameter(nonneg=True)
            active_terms = [self.y - p["Bb"]]
            if np.any(specific > 0):
                active_terms.append(cp.multiply(specific, w - p["b"]))
            # the slack is in volatility units; the norm is in the objective's scaled units
            cons["tracking_error"] = (cp.norm(cp.hstack(active_terms), 2)
                                      <= p["te"] + float(np.sqrt(self.scale)) * slack("tracking_error"))
        if self.has_turnover:
            p["turnover"] = cp.Parameter()
            cons["turnover"] = (0.5 * (cp.sum(trade) + self.cash_traded)
                                <= p["turnover"] + slack("turnover"))
        if elastic:  # an account cannot hold negative shares or negative cash, however the limits are relaxed
            cons["long_only"] = w >= 0
            cons["cash_floor"] = c >= 0
        self.constraints = cons
        utility = self.gain - cp.sum(risk_terms)
        if elastic:
            capped = [v <= self.slack_cap[f] for f, v in self.slacks.items()]
            self.problem = cp.Problem(cp.Maximize(utility), [*cons.values(), *capped])
            weighted = cp.sum([cp.sum(cp.multiply(self.priority[f], v)) for f, v in self.slacks.items()])
            self.phase_one = cp.Problem(cp.Minimize(weighted), list(cons.values()))
        else:
            self.problem = cp.Problem(cp.Maximize(utility), list(cons.values()))
        self.solves = 0
        self.exposure = exposure

    def set_values(self, limits: Limits, mu: FloatArray, gamma: float) -> None:
        """Fill every parameter for one solve; ``gamma`` is folded into ``mu`` and the costs."""
        p = self.params
        p["mu"].value = 2.0 * self.scale * mu / gamma
        p["kappa"].value = 2.0 * self.scale * limits.cost / gamma
        p["w0"].value = limits.current
        p["c0"].value = limits.current_cash
        p["b"].value = limits.benchmark
        p["Bb"].value = self.exposure.T @ limits.benchmark
        if self.elastic:
            p["position_lower"].value = _finite(limits.position_lower, -INERT)
            p["position_upper"].value = _finite(limits.position_upper, INERT)
            p["active_lower"].value = _finite(limits.active_lower, -INERT)
            p["active_upper"].value = _finite(limits.active_upper, INERT)
            p["rsi_lower"].value = _finite(limits.rsi.lower, -INERT)
            p["rsi_upper"].value = _finite(limits.rsi.upper, INERT)
        else:
            p["weight_lower"].value = _finite(limits.lower, -INERT)
            p["weight_upper"].value = _finite(limits.upper, INERT)
        p["budget"].value = limits.budget
        p["cash_lower"].value = limits.cash_lower
        p["cash_upper"].value = limits.cash_upper
        if "group_lower" in p:
            p["group_lower"].value = _finite(np.array([g.lower for g in limits.groups]), -INERT)
            p["group_upper"].value = _finite(np.array([g.upper for g in limits.groups]), INERT)
        if "te" in p:
            p["te"].value = float(limits.tracking_error_max or 0.0) * np.sqrt(self.scale)
        if "turnover" in p:
            p["turnover"].value = float(limits.turnover_max or 0.0) - limits.turnover_forced


class ProblemCache:
    """Compiled problems by structure, so repeated runs and scenarios canonicalize once."""

    def __init__(self, max_size: int = 8) -> None:
        self._items: dict[str, CompiledProblem] = {}
        self.max_size = max_size
        self.hits = 0
        self.misses = 0

    def get(self, risk: RiskModel, limits: Limits, elastic: bool = False) -> tuple[CompiledProblem, bool]:
        key = structure_key(risk, limits) + (":elastic" if elastic else "")
        if key in self._items:
            self.hits += 1
            return self._items[key], True
        self.misses += 1
        if len(self._items) >= self.max_size:
            self._items.pop(next(iter(self._items)))
        compiled = CompiledProblem(risk, limits, elastic)
        self._items[key] = compiled
        return compiled, False


DEFAULT_CACHE = ProblemCache()


def utility(mu: FloatArray, risk: RiskModel, limits: Limits, weight: FloatArray, gamma: float) -> float:
    """``mu'w - (gamma/2) w'Sigma w - kappa'|w - w0|``, annualized, recomputed with numpy."""
    return float(mu @ weight - 0.5 * gamma * risk.variance(weight)
                 - limits.cost @ np.abs(weight - limits.current))


def _attempt(problem: cp.Problem, solver: SolverName, verbose: bool) -> tuple[str, float, int | None, str]:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # an inaccurate status is recorded in the attempt instead
            problem.solve(solver=CVXPY_NAMES[solver], verbose=verbose, warm_start=True, **SOLVER_OPTIONS[solver])
    except Exception as exc:  # a solver that crashes is a failed attempt, and the next solver is tried
        text = (str(exc).splitlines() or [""])[0][:200]
        return "error", 0.0, None, f"{text} ({type(exc).__name__})" if text else type(exc).__name__
    stats = problem.solver_stats
    seconds = float(stats.solve_time) if stats is not None and stats.solve_time is not None else 0.0
    iterations = int(stats.num_iters) if stats is not None and stats.num_iters is not None else None
    return str(problem.status), seconds, iterations, ""


def solve_in_order(
    problem: cp.Problem, solver_config: SolverConfig, check: Callable[[], str | None]
) -> tuple[list[SolverAttempt], str | None, bool]:
    """Try each solver of ``solver.order`` until one returns an optimal solution that ``check`` accepts.

    ``check`` returns None for an acceptable solution, else why not. Returns the attempts, the accepted solver's
    name (None if none) and whether a solver proved the problem infeasible.
    """
    attempts: list[SolverAttempt] = []
    infeasible = False
    for solver in solver_config.order:
        status, seconds, iterations, message = _attempt(problem, solver, solver_config.verbose)
        if status in INFEASIBLE:
            attempts.append(SolverAttempt(solver.value, status, seconds, iterations, False, "reported infeasible"))
            infeasible = True
            if status == cp.INFEASIBLE:
                break
            continue
        if status != cp.OPTIMAL:
            attempts.append(SolverAttempt(solver.value, status, seconds, iterations, False,
                                          message or f"status {status}"))
            continue
        problem_found = check()
        if problem_found is not None:
            attempts.append(SolverAttempt(solver.value, status, seconds, iterations, False, problem_found))
            continue
        attempts.append(SolverAttempt(solver.value, status, seconds, iterations, True))
        return attempts, solver.value, False
    return attempts, None, infeasible


def solve_allocation(
    limits: Limits,
    mu: FloatArray,
    risk: RiskModel,
    gamma: float,
    solver_config: SolverConfig,
    cache: ProblemCache | None = None,
) -> Allocation:
    """Solve for the target weights; raise ``ProblemInfeasible`` or ``SolverError`` when there is none."""
    cache = cache if cache is not None else DEFAULT_CACHE
    started = time.perf_counter()
    compiled, reused = cache.get(risk, limits)
    compiled.set_values(limits, mu, gamma)
    build_seconds = time.perf_counter() - started
    return _finish(compiled, compiled.problem, limits, mu, risk, gamma, solver_config, build_seconds, reused)


def _finish(compiled: CompiledProblem, problem: cp.Problem, limits: Limits, mu: FloatArray, risk: RiskModel,
            gamma: float, solver_config: SolverConfig, build_seconds: float, reused: bool,
            relaxed: Limits | None = None) -> Allocation:
    """Solve ``problem``, check the solution against ``relaxed`` (or ``limits``) and package it."""
    solution: dict[str, Any] = {}
    tolerance = solver_config.feasibility_tolerance
    checked = relaxed if relaxed is not None else limits

    def check() -> str | None:
        if compiled.w.value is None:
            return "no solution values"
        weight = _clean(np.asarray(compiled.w.value, dtype=np.float64))
        cash = float(limits.budget - weight.sum())
        found = violations(checked, risk, weight, cash)
        worst = max(found.values(), default=0.0)
        if worst > tolerance:
            family = max(found, key=lambda name: found[name])
            return f"solution violates {family} by {worst:.2e}"
        solution.update(weight=weight, cash=cash, violations=found)
        return None

    attempts, solver, infeasible = solve_in_order(problem, solver_config, check)
    if solver is None:
        if infeasible:
            raise ProblemInfeasible(tuple(attempts))
        summary = "; ".join(f"{a.solver}: {a.message or a.status}" for a in attempts)
        raise SolverError("solver", f"no solver returned an acceptable solution ({summary})",
                          "check the inputs for extreme values, or change solver.order")
    compiled.solves += 1
    weight = solution["weight"]
    return Allocation(symbols=limits.symbols, weight=weight, cash_weight=solution["cash"],
                      objective=utility(mu, risk, limits, weight, gamma), status=str(problem.status),
                      solver=solver, attempts=tuple(attempts), compile_seconds=build_seconds,
                      violations=solution["violations"], reused_problem=reused)


class ProblemInfeasible(Exception):
    """Raised by ``solve_allocation`` when the solver proves the limits cannot all hold; diagnosed by the caller."""

    def __init__(self, attempts: tuple[SolverAttempt, ...]) -> None:
        self.attempts = attempts
        super().__init__("infeasible")


def _clean(weight: FloatArray) -> FloatArray:
    """Round solver noise below 1e-10 to zero so outputs are stable and free of negative zeros."""
    cleaned: FloatArray = np.where(np.abs(weight) < 1e-10, 0.0, weight)
    return cleaned
