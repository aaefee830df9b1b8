"""Build (once) and solve the mean-variance problem (docs/method.md, "The optimization problem").

Variables: ``w`` (target weights of the risky assets, fractions of NAV), ``c`` (cash weight), ``traded``
(``>= |w - w0|``, the weight each asset trades), ``y = R'B'w`` (factor exposures) and ``z = sqrt(d) * w``
(specific exposures, when there is specific risk). With ``Sigma = B F B' + diag(d)`` and ``F = R R'``:

    maximize    gain - impact - (gamma/2) (||y||^2 + ||z||^2),   gain = mu'w - (kappa / H)'traded
    subject to  sum(w) + c = budget,  cash_min <= c <= cash_max
                per-asset bounds (position, active, RSI, the trading mode's no sells / no buys), group bounds,
                sqrt((w-b)' Sigma (w-b)) <= tracking_error_max,
                bought <= turnover_max + inflow,  sold <= turnover_max + outflow  (turnover net of flows)
                impact >= (eta / H)' traded^1.5  (only with trading.impact)

``kappa`` is the one-time cost per unit traded (cost_bps plus half the spread) and ``H`` the holding horizon in
years (``trading.horizon_years``): a one-time cost is spread over the horizon to weigh against annualized returns.
``eta`` prices square-root market impact (cost / NAV = eta |w - w0|^1.5, a power cone).

With a factor model (k factors, k much smaller than n) the problem has O(n k) nonzeros and no n-by-n matrix is
formed; with a dense covariance ``B`` is its Cholesky factor (k = n). The rows, parameters and slacks of each family
of limits come from its object in ``families.py``; this module holds the variables, the objective and the budget.
With ``homogeneous`` the same rows form the max-Sharpe problem of ``objectives`` (``w`` then stands for ``k w``).
The parametric linear part sits in the constraint that defines ``gain``, so the objective holds no parameter: CVXPY
then extracts the quadratic objective without the dense (variables x parameters) coefficient matrix it builds
otherwise, which at 3,000 assets cost 0.4 s and a 2 GB allocation per compile.

The objective is divided by gamma/2 so that ``gamma`` enters only through the parameters ``2 mu / gamma`` and ``2
kappa / gamma``. Everything a run or scenario changes (mu, costs, w0, b, every bound; the risk model too up to
``RISK_PARAMETER_CELLS`` loadings) is a ``cp.Parameter``, so the problem satisfies DPP and is canonicalized once per
number of assets and factors and set of limit families (once per risk model beyond that size; a conic problem beyond
a few hundred assets excepted: ``keeps_parameters``); later solves only refill parameters (``ProblemCache``) and
warm-start the solver where it can: Clarabel keeps its solver object and takes the new data in place (Clarabel
allows that only when its presolve removed nothing, so presolve is off; with finite bounds it would have nothing to
remove anyway), OSQP starts from the previous solution. Solvers are tried in order (Clarabel, then OSQP, then SCS),
each attempt recorded, and a solution is accepted only after every constraint is recomputed with numpy. Every solve
goes through one seam, a ``SolveFn`` (``cvxpy_solve`` by default, ``ProblemCache(solve=...)`` to inject another,
e.g. a failing solver in a test).
"""

from __future__ import annotations

import hashlib
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy import sparse

from allocator.config.schema import Objective, SolverConfig, SolverName
from allocator.domain import FloatArray, RiskModel
from allocator.errors import SolverError
from allocator.optimize.conic import (
    DIRECT_ASSETS,
    LARGE_CLARABEL,
    LARGE_VARIABLES,
    SMALL_CLARABEL,
    Programs,
    conic_program,
    solve_direct,
    supported,
)
from allocator.optimize.constraints import Limits
from allocator.optimize.families import Family, families_of, merge_bounds, violations
from allocator.optimize.objectives import objective_value, utility_returns
from allocator.optimize.parameter_values import set_value

if TYPE_CHECKING:
    import cvxpy


class _DeferredCvxpy:
    """``cvxpy``, imported (through ``import_cvxpy``) at the first use of one of its names: a large problem solved
    by ``conic`` never needs it, and ``allocate run`` then starts without its 0.45 s import."""

    def __getattr__(self, name: str) -> Any:
        from allocator.optimize.cvxpy_import import import_cvxpy

        return getattr(import_cvxpy(), name)


cp: Any = _DeferredCvxpy()

SOLVER_OPTIONS: dict[SolverName, dict[str, Any]] = {
    SolverName.CLARABEL: SMALL_CLARABEL[0],
    SolverName.OSQP: {"eps_abs": 1e-9, "eps_rel": 1e-9, "max_iter": 200_000, "polish": True},
    SolverName.SCS: {"eps_abs": 1e-9, "eps_rel": 1e-9, "max_iters": 200_000},
}
# Clarabel's 1e-12 tolerances are met on nearly every small problem; on a few ill-conditioned ones it stops at
# "optimal_inaccurate", and one more solve at looser tolerances is accurate where a switch to another solver would
# set up another solver (with DPP the canonicalization is reused; compiled with constants, each rung canonicalizes
# again, 0.4 s at 20,000 assets): 1e-10, then 1e-9 (still below SCS's and OSQP's 1e-9 residuals, the next solvers
# tried). Any problem of more than ``LARGE_VARIABLES`` variables (about 330 assets, with or without a
# tracking-error limit) is solved at Clarabel's own default, 1e-8 (the tolerance every peer in bench/ uses), and
# retried once at 1e-8 with more equilibration: with a tracking-error cone at 2,000 to 20,000 assets the 1e-12 and
# 1e-10 solves are inaccurate as often as not, each failed rung costs a whole solve (10,000 assets: 3.3 s at 1e-10
# for nothing), 1e-9 takes 2 to 5 more iterations than 1e-8 (33 against 31 at 10,000 assets, 26 against 24 at
# 2,000), and SCS took 200 s at 20,000 assets once they had all failed. Weights within 1e-8 of NAV are far finer
# than a whole share of any fund in a 20,000-asset book.
RETRY_OPTIONS: dict[SolverName, tuple[dict[str, Any], ...]] = {SolverName.CLARABEL: SMALL_CLARABEL[1:]}
LARGE_OPTIONS: dict[SolverName, tuple[dict[str, Any], ...]] = {SolverName.CLARABEL: LARGE_CLARABEL}
# up to this many loadings (assets x factors) the risk model is held as parameters, so one compiled problem serves
# every date of a backtest (and every risk model of a comparison) on the same assets; beyond it the risk model is
# compiled in as constants: its parameters would push a conic problem past ``DPP_CONE_CELLS``, and each new risk
# model is then canonicalized afresh (the problem is cached by the risk model's values)
RISK_PARAMETER_CELLS = 2_500
# above this many (variables + 1) x (parameters + 1) cells a conic problem is canonicalized without DPP
# (``keeps_parameters``): about 80 MB of CVXPY workspace, reached near 570 assets with a tracking-error limit; from
# there one canonicalization per solve (0.08 s at 800 assets) costs less than the DPP compile (0.32 s, 170 MB)
DPP_CONE_CELLS = 4_000_000
CVXPY_NAMES = {SolverName.CLARABEL: "CLARABEL", SolverName.OSQP: "OSQP", SolverName.SCS: "SCS"}
OPTIMAL, OPTIMAL_INACCURATE = "optimal", "optimal_inaccurate"  # CVXPY's statuses (cvxpy.settings)
INFEASIBLE = {"infeasible", "infeasible_inaccurate"}


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
    objective_name: str = Objective.UTILITY.value  # which objective ``objective`` is the value of (``objectives``)


def compiled_variables(risk: RiskModel) -> int:
    """How many scalar variables ``CompiledProblem`` has for the hard utility problem over ``risk``, within one:
    ``w``, cash, the weight traded, ``y`` and, with the risk model as parameters and specific risk, ``z`` (the
    objective's ``gain`` is left out: CVXPY's problem drops it when compiled with constants). ``conic.solve_direct``
    weighs it against ``LARGE_VARIABLES``, as ``cvxpy_solve`` weighs the compiled problem's own count."""
    n, k = risk.loadings.shape
    specific = bool(np.any(risk.specific_variance > 0)) and risk_as_parameters(risk)
    return int(2 * n + 1 + k + (n if specific else 0))


def risk_as_parameters(risk: RiskModel) -> bool:
    """Whether a problem over ``risk`` holds it as parameters (at most ``RISK_PARAMETER_CELLS`` loadings) rather
    than as constants."""
    n, k = risk.loadings.shape
    return bool(n * k <= RISK_PARAMETER_CELLS)


def structure_key(risk: RiskModel, limits: Limits) -> str:
    """A key that is equal for problems that one compiled CVXPY problem can serve: the number of assets and factors,
    whether there is specific risk, the constraint families and their shapes, market impact; and the risk model's
    values where it is compiled in as constants (``risk_as_parameters``)."""
    digest = hashlib.sha1()
    n, k = risk.loadings.shape
    digest.update(f"{n}x{k}".encode())
    if risk_as_parameters(risk):
        digest.update(b"specific" if np.any(risk.specific_variance > 0) else b"no specific")
    else:
        for array in (risk.loadings, risk.factor_sqrt, risk.specific_variance):
            digest.update(np.ascontiguousarray(array).tobytes())
    for family in families_of(limits):
        digest.update(type(family).__qualname__.encode())
        digest.update(family.structure(limits))
    digest.update(b"impact" if limits.impact is not None else b"")
    return digest.hexdigest()


class CompiledProblem:
    """The parameterized problem for one number of assets and factors and one set of constraint families.

    The risk model enters scaled (``set_risk``): as the parameters ``exposure`` (n-by-k), ``specific`` (n) and
    ``root_scale`` where ``risk_as_parameters`` says so, so a new risk model only refills them; else as constants,
    and the problem serves that risk model only.

    With ``elastic`` each side of each family (``families.Side``) gets a non-negative slack (one per asset or group
    where the family is per asset or group) and two objectives share the constraints: ``phase_one`` minimizes the
    weighted slack (the smallest relaxation that makes the limits hold), ``problem`` maximizes utility with each
    slack capped by the parameter ``slack_cap`` (``--relax``). Hard, the per-asset families share one lower and one
    upper row per asset (``families.merge_bounds``). ``solves`` counts accepted solutions.
    """

    def __init__(self, risk: RiskModel, limits: Limits, elastic: bool = False, homogeneous: bool = False) -> None:
        n, k = risk.loadings.shape
        if homogeneous and (elastic or limits.impact is not None):
            raise ValueError("the homogenized (max Sharpe) problem has neither slacks nor market impact")
        self.elastic = elastic
        self.homogeneous = homogeneous
        # k >= 0 of the homogenized problem, by which every row's constant is multiplied (``homogenize``)
        self.unit: Any = cp.Variable(nonneg=True, name="homogenizing_scale") if homogeneous else 1.0
        families = families_of(limits)
        self.families: tuple[Family, ...] = families if elastic else merge_bounds(families)
        self.w = cp.Variable(n, name="w")
        self.c = cp.Variable(name="cash")
        self.traded = cp.Variable(n, name="traded")
        self.y = cp.Variable(k, name="y")
        self.gain = cp.Variable(name="gain")
        self.params: dict[str, Any] = {}
        p = self.params
        for name, size in (("mu", n), ("w0", n), ("c0", None), ("b", n), ("Bb", k), ("budget", None)):
            self.parameter(name, size)
        self.parameter("kappa", n, nonneg=True)
        self.slacks: dict[str, Any] = {}
        if elastic:
            for family in families:
                for side in family.sides(limits):
                    shape: tuple[int, ...] = () if side.size is None else (side.size,)
                    self.slacks[side.name] = cp.Variable(shape, nonneg=True, name=f"slack_{side.name}")
            self.priority = {f: cp.Parameter(v.shape, nonneg=True, name=f"priority_{f}")
                             for f, v in self.slacks.items()}
            self.slack_cap = {f: cp.Parameter(v.shape, nonneg=True, name=f"cap_{f}") for f, v in self.slacks.items()}

        self.risk_parameters = risk_as_parameters(risk)
        self.has_specific = bool(np.any(risk.specific_variance > 0))
        if self.risk_parameters:
            self.parameter("exposure", (n, k))
            self.parameter("specific", n, nonneg=True)
            self.parameter("root_scale", nonneg=True)
        self.set_risk(risk)
        # what the rows hold: the parameters, or this risk model's scaled values as constants
        exposure = p["exposure"] if self.risk_parameters else self.exposure
        specific = p["specific"] if self.risk_parameters else self.specific
        self.root_scale: Any = p["root_scale"] if self.risk_parameters else float(np.sqrt(self.scale))
        w, c = self.w, self.c
        risk_terms = [cp.sum_squares(self.y)]
        rows: dict[str, Any] = {"exposure": self.y == exposure.T @ w}
        # ``z = sqrt(d) * w`` (scaled): with the risk model as parameters, a variable of its own so that the
        # objective holds no parameter; with constants, an expression, and the specific variance a diagonal quadratic
        # form on ``w`` (no n more variables and n more equality rows in every KKT factorization)
        self.z: Any = None
        if self.has_specific and self.risk_parameters:
            self.z = cp.Variable(n, name="z")
            risk_terms.append(cp.sum_squares(self.z))
            rows["specific_exposure"] = self.z == cp.multiply(specific, w)
        elif self.has_specific:
            self.z = cp.multiply(specific, w)
            risk_terms.append(cp.quad_form(w, sparse.diags(specific**2), assume_PSD=True))
        trade = self.traded  # at least |w - w0|; exactly that wherever costs or the turnover limit bite
        w0 = self.homogenize(p["w0"])
        cons: dict[str, Any] = {
            "budget": cp.sum(w) + c == self.homogenize(p["budget"]),
            **rows,
            # homogenized, the net excess return is normalized to 1 and ``gain`` is fixed
            "gain": self.gain == p["mu"] @ w - p["kappa"] @ trade,
            "bought": trade >= w - w0,
            "sold": trade >= w0 - w,
        }
        if homogeneous:
            cons["normalization"] = self.gain == 1.0
        for family in self.families:
            for name, row in family.build(self, limits).items():
                if name in cons:
                    raise ValueError(f"{type(family).__name__} names a row {name!r} that already exists")
                cons[name] = row
        self.impact: Any = 0.0
        if limits.impact is not None:  # square-root impact: |trade|^1.5 per asset, a power cone
            self.impact = cp.Variable(name="impact")
            eta = self.parameter("eta", n, nonneg=True)
            cons["impact"] = self.impact >= eta @ cp.power(trade, 1.5)
        if elastic:  # an account cannot hold negative shares or negative cash, however the limits are relaxed
            cons["long_only"] = w >= 0
            cons["cash_floor"] = c >= 0
        self.constraints = cons
        self.utility_risk = cp.sum(risk_terms)  # the risk term, (gamma/2) w'Sigma w scaled (``optimize.robust``)
        utility = self.gain - self.impact - self.utility_risk
        if homogeneous:
            self.problem = cp.Problem(cp.Minimize(self.utility_risk), list(cons.values()))
        elif elastic:
            capped = [v <= self.slack_cap[f] for f, v in self.slacks.items()]
            self.problem = cp.Problem(cp.Maximize(utility), [*cons.values(), *capped])
            weighted = cp.sum([cp.sum(cp.multiply(self.priority[f], v)) for f, v in self.slacks.items()])
            self.phase_one = cp.Problem(cp.Minimize(weighted), list(cons.values()))
        else:
            self.problem = cp.Problem(cp.Maximize(utility), list(cons.values()))
            if not keeps_parameters(self.problem):
                # canonicalized with constants at each solve: mu and kappa may sit in the objective, and the row
                # ``gain`` (there to keep parameters out of a DPP objective) would only put a dense row in every KKT
                # factorization (10,000 assets with a tracking-error limit: 65 ms an iteration with it, 45 without).
                # Dropped only when the problem without it is still compiled with constants: one variable fewer can
                # bring it under ``DPP_CONE_CELLS``, and a DPP objective must hold no parameter.
                net = p["mu"] @ w - p["kappa"] @ trade
                rest = [row for name, row in cons.items() if name != "gain"]
                lean = cp.Problem(cp.Maximize(net - self.impact - self.utility_risk), rest)
                if not keeps_parameters(lean):
                    del cons["gain"]
                    self.problem = lean
        self.solves = 0

    def set_risk(self, risk: RiskModel) -> None:
        """Take ``risk`` (of the problem's shape) scaled so an average asset's variance is 1: solver tolerances then
        mean the same thing for any universe (the optimum is unchanged; ``set_values`` scales mu, the costs and the
        tracking-error limit alike). ``scale`` is that factor, ``exposure`` and ``specific`` the scaled factor
        exposures (n-by-k) and specific volatilities; held as parameters they are refilled, as constants they must
        be this problem's own risk model (``structure_key`` keeps them so)."""
        n = risk.loadings.shape[0]
        self.scale = float(n / max(np.sum(risk.volatility**2), 1e-300))
        self.exposure: FloatArray = risk.exposure * np.sqrt(self.scale)
        self.specific: FloatArray = np.sqrt(risk.specific_variance * self.scale)
        if self.risk_parameters:
            set_value(self.params["exposure"], self.exposure)
            set_value(self.params["specific"], self.specific)
            set_value(self.params["root_scale"], float(np.sqrt(self.scale)))

    def parameter(self, name: str, size: int | tuple[int, ...] | None = None, nonneg: bool = False) -> Any:
        """A new parameter (a vector of ``size``, a matrix of that shape, or a scalar), kept in ``params[name]``
        (``families.Model``)."""
        if name in self.params:
            raise ValueError(f"parameter {name!r} already exists")
        shape: tuple[int, ...] = () if size is None else size if isinstance(size, tuple) else (size,)
        self.params[name] = cp.Parameter(shape, nonneg=nonneg, name=name)
        return self.params[name]

    def slack(self, side: str) -> Any:
        """The slack of ``side`` in the elastic problem, 0.0 in the hard one (``families.Model``)."""
        return self.slacks[side] if self.elastic else 0.0

    def homogenize(self, constant: Any) -> Any:
        """A row's constant as the problem holds it: itself, or times the scale ``k`` in the homogenized problem
        (``families.Model``)."""
        return constant * self.unit if self.homogeneous else constant

    def weight(self) -> FloatArray | None:
        """The solution's weights of the risky assets (fractions of NAV; ``y / k`` when homogenized), None before
        a solve."""
        if self.w.value is None:
            return None
        weight = np.asarray(self.w.value, dtype=np.float64)
        if not self.homogeneous:
            return weight
        scale = float(self.unit.value) if self.unit.value is not None else 0.0
        return weight / scale if scale > 1e-12 else None

    def set_values(self, limits: Limits, mu: FloatArray, gamma: float) -> None:
        """Fill every parameter for one solve; ``gamma`` is folded into ``mu`` and the costs (homogenized, ``mu``
        and the costs are held as they are, and ``gamma`` plays no part)."""
        p = self.params
        factor = 1.0 if self.homogeneous else 2.0 * self.scale / gamma
        set_value(p["mu"], factor * mu)
        set_value(p["kappa"], factor * limits.cost / limits.horizon)
        if limits.impact is not None:
            set_value(p["eta"], 2.0 * self.scale * limits.impact / (gamma * limits.horizon))
        set_value(p["w0"], limits.current)
        set_value(p["c0"], limits.current_cash)
        set_value(p["b"], limits.benchmark)
        set_value(p["Bb"], self.exposure.T @ limits.benchmark)
        set_value(p["budget"], limits.budget)
        # the same families, in the same order (the structure key says so), with this run's values
        families = families_of(limits)
        for family in families if self.elastic else merge_bounds(families):
            family.fill(self, limits)


def utility(mu: FloatArray, risk: RiskModel, limits: Limits, weight: FloatArray, gamma: float) -> float:
    """``mu'w - (gamma/2) w'Sigma w - (kappa'|w - w0| + impact) / horizon``, annualized, recomputed with numpy."""
    return objective_value(Objective.UTILITY, mu, risk, limits, weight, gamma)


@dataclass(frozen=True)
class SolveReport:
    """What one solver run returned: CVXPY's status, the solver's own time (seconds) and its iteration count.

    The solution itself is left in the problem's variables, as CVXPY leaves it."""

    status: str
    solve_seconds: float = 0.0
    iterations: int | None = None


SolveFn = Callable[["cvxpy.Problem", SolverName, bool], SolveReport]
"""The solver seam: solve ``problem`` with one solver (``verbose`` or not) and report; may raise."""


def keeps_parameters(problem: cvxpy.Problem) -> bool:
    """Whether CVXPY should canonicalize ``problem`` once with its parameters kept (DPP), so that re-solves only
    refill them; otherwise each solve canonicalizes it with the parameters' current values as constants.

    A QP (no cone besides the linear ones) is always kept. A problem with a second-order or power cone (the
    tracking-error limit, market impact, the robust problem's variance rows) is kept only while its parameter
    tensor is small: CVXPY rearranges the rows of a cone through a sparse product whose workspace has one entry
    per (variable + 1) x (parameter + 1) pair, which with n assets is O(n^2) (1.3 GB and 2.6 s at 2,000 assets,
    a 13 GiB allocation at 10,000). Without the parameters the canonicalization is linear in n (about 0.4 s at
    20,000 assets), cheaper than the DPP compile from a few hundred assets up.
    """
    if problem.is_qp():
        return True
    variables = sum(v.size for v in problem.variables())
    parameters = sum(p.size for p in problem.parameters())
    return bool((variables + 1) * (parameters + 1) <= DPP_CONE_CELLS)


def cvxpy_solve(problem: cvxpy.Problem, solver: SolverName, verbose: bool, warm: bool = True) -> SolveReport:
    """Solve through CVXPY with ``SOLVER_OPTIONS`` and warm starts (the default ``SolveFn``), canonicalized with
    or without its parameters as ``keeps_parameters`` says. ``warm``: Clarabel takes the new data into the solver
    of the previous solve (OSQP starts from its solution); otherwise each solve sets up a solver of its own."""
    seconds, iterations = 0.0, 0
    ignore_dpp = not keeps_parameters(problem)
    ladder = (SOLVER_OPTIONS[solver], *RETRY_OPTIONS.get(solver, ()))
    if solver in LARGE_OPTIONS and sum(v.size for v in problem.variables()) > LARGE_VARIABLES:
        ladder = LARGE_OPTIONS[solver]
    for options in ladder:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # an inaccurate status is recorded in the attempt instead
            problem.solve(solver=CVXPY_NAMES[solver], verbose=verbose, warm_start=warm, ignore_dpp=ignore_dpp,
                          **options)
        stats = problem.solver_stats
        seconds += float(stats.solve_time) if stats is not None and stats.solve_time is not None else 0.0
        iterations += int(stats.num_iters) if stats is not None and stats.num_iters is not None else 0
        if problem.status != OPTIMAL_INACCURATE:
            break
    return SolveReport(str(problem.status), seconds, iterations or None)


def fresh_cvxpy_solve(problem: cvxpy.Problem, solver: SolverName, verbose: bool) -> SolveReport:
    """``cvxpy_solve`` with a solver set up for this solve alone (CVXPY's canonicalization is still reused): the
    result depends on this problem's data only, not on what the process solved before. A warm Clarabel solver
    updated with new data can stop at a slightly different point (1e-10 in a weight) than a new one, so a batch
    whose accounts reach its worker processes in any order would not write the same bytes as one process."""
    return cvxpy_solve(problem, solver, verbose, warm=False)


def _attempt(problem: cvxpy.Problem, solver: SolverName, verbose: bool, solve: SolveFn
             ) -> tuple[str, float, int | None, str]:
    try:
        report = solve(problem, solver, verbose)
    except Exception as exc:  # a solver that crashes is a failed attempt, and the next solver is tried
        text = (str(exc).splitlines() or [""])[0][:200]
        return "error", 0.0, None, f"{text} ({type(exc).__name__})" if text else type(exc).__name__
    return report.status, report.solve_seconds, report.iterations, ""


class ProblemCache:
    """Compiled problems by structure, so repeated runs and scenarios canonicalize once; ``solve`` is how their
    problems are solved (the solver seam).

    There is no process-wide cache: ``pipeline.run`` makes one per call unless it is given one, and
    ``compare.compare`` shares one over its scenarios. Counters: ``compiles`` (problems built, each canonicalized
    by CVXPY on its first solve), ``solves`` (solver runs through ``run_solver``, failed ones and phase one
    included), ``hits`` and ``misses`` (lookups that found a compiled problem, or did not), ``direct_solves``
    (problems handed to Clarabel directly, ``conic``; also counted in ``solves``). ``programs`` keeps the matrices
    of the programs handed to Clarabel directly, so that solving the same risk model and structure again (a batch's
    accounts) refills only their weights, cash and bounds (``conic.Programs``).
    """

    def __init__(self, max_size: int = 8, solve: SolveFn = cvxpy_solve, direct: bool = True,
                 direct_from: int | None = None) -> None:
        self._items: dict[str, CompiledProblem] = {}
        self.solve = solve
        self.allow_direct = direct
        self.direct_from = direct_from
        self.programs = Programs(max_size)
        self.max_size = max_size
        self.hits = 0
        self.misses = 0
        self.compiles = 0
        self.solves = 0
        self.direct_solves = 0

    def get(self, risk: RiskModel, limits: Limits, elastic: bool = False, homogeneous: bool = False
            ) -> tuple[CompiledProblem, bool]:
        """The compiled problem for this structure, holding ``risk``, and whether it was reused (built and kept when
        new); ``homogeneous`` asks for the max-Sharpe problem (``objectives``)."""
        key = structure_key(risk, limits) + (":elastic" if elastic else "") + (":homogeneous" if homogeneous else "")
        if key in self._items:
            self.hits += 1
            found = self._items[key]
            found.set_risk(risk)
            return found, True
        self.misses += 1
        if len(self._items) >= self.max_size:
            self._items.pop(next(iter(self._items)))
        compiled = CompiledProblem(risk, limits, elastic, homogeneous)
        self.compiles += 1
        self._items[key] = compiled
        return compiled, False

    def direct(self, limits: Limits, solver_config: SolverConfig) -> bool:
        """Whether a hard problem over ``limits`` is solved by ``conic`` rather than compiled here: from
        ``direct_from`` assets (default ``DIRECT_ASSETS``; 0 for a one-off solve), with Clarabel first in
        ``solver.order``, families ``conic`` has rows for, and CVXPY's own solve as the seam (a cache given
        another ``solve``, or ``direct=False``, keeps every solve through CVXPY). ``conic`` sets up a solver for
        each solve, as ``fresh_cvxpy_solve`` does."""
        clarabel_first = bool(solver_config.order) and solver_config.order[0] is SolverName.CLARABEL
        return (self.allow_direct and self.solve in (cvxpy_solve, fresh_cvxpy_solve)
                and len(limits.symbols) >= (DIRECT_ASSETS if self.direct_from is None else self.direct_from)
                and clarabel_first and supported(limits))

    def run_solver(self, problem: cvxpy.Problem, solver: SolverName, verbose: bool) -> SolveReport:
        """Solve through ``solve`` and count the run (a ``SolveFn``)."""
        self.solves += 1
        return self.solve(problem, solver, verbose)


def solve_in_order(
    problem: cvxpy.Problem, solver_config: SolverConfig, check: Callable[[], str | None], solve: SolveFn = cvxpy_solve
) -> tuple[list[SolverAttempt], str | None, bool]:
    """Try each solver of ``solver.order`` until one returns an optimal solution that ``check`` accepts.

    ``check`` returns None for an acceptable solution, else why not. Returns the attempts, the accepted solver's
    name (None if none) and whether a solver proved the problem infeasible.
    """
    attempts: list[SolverAttempt] = []
    infeasible = False
    for solver in solver_config.order:
        status, seconds, iterations, message = _attempt(problem, solver, solver_config.verbose, solve)
        if status in INFEASIBLE:
            attempts.append(SolverAttempt(solver.value, status, seconds, iterations, False, "reported infeasible"))
            infeasible = True
            if status == "infeasible":
                break
            continue
        if status != OPTIMAL:
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
    cache: ProblemCache,
    objective: Objective = Objective.UTILITY,
) -> Allocation:
    """Solve for the target weights that best meet ``objective`` (``objectives``) on a problem from ``cache``;
    raise ``ProblemInfeasible`` or ``SolverError`` when there is none."""
    started = time.perf_counter()
    sharpe = objective is Objective.MAX_SHARPE
    direct: tuple[SolverAttempt, ...] = ()
    if not sharpe and cache.direct(limits, solver_config):
        cache.solves += 1
        cache.direct_solves += 1
        found = _solve_direct(limits, mu, risk, gamma, solver_config, objective, cache.programs)
        if isinstance(found, Allocation):
            return found
        direct = found
        started = time.perf_counter()
    compiled, reused = cache.get(risk, limits, homogeneous=sharpe)
    compiled.set_values(limits, mu if sharpe else utility_returns(objective, mu, risk, limits.benchmark, gamma), gamma)
    build_seconds = time.perf_counter() - started
    allocation = solve_and_check(compiled, compiled.problem, limits, mu, risk, gamma, solver_config, build_seconds,
                                 reused, solve=cache.run_solver, objective=objective)
    return replace(allocation, attempts=(*direct, *allocation.attempts)) if direct else allocation


def _solve_direct(limits: Limits, mu: FloatArray, risk: RiskModel, gamma: float, solver_config: SolverConfig,
                  objective: Objective, programs: Programs) -> Allocation | tuple[SolverAttempt, ...]:
    """``solve_allocation`` through ``conic`` (Clarabel without CVXPY): the allocation when Clarabel's solution
    passes the same numpy check, ``ProblemInfeasible`` when Clarabel proves the limits cannot hold, else the failed
    attempt (the caller then solves through CVXPY)."""
    started = time.perf_counter()
    program = conic_program(limits, utility_returns(objective, mu, risk, limits.benchmark, gamma), risk, gamma,
                            programs)
    build_seconds = time.perf_counter() - started
    name = SolverName.CLARABEL.value
    try:
        found = solve_direct(program, solver_config.verbose, compiled_variables(risk) > LARGE_VARIABLES)
    except Exception as exc:  # as ``_attempt``: a crash is a failed attempt, and CVXPY's path is tried
        text = (str(exc).splitlines() or [""])[0][:200]
        return (SolverAttempt(name, "error", 0.0, None, False,
                              f"{text or type(exc).__name__} ({type(exc).__name__}, Clarabel called directly)"),)
    if found.status in INFEASIBLE:
        attempt = SolverAttempt(name, found.status, found.seconds, found.iterations, False, "reported infeasible")
        if found.status == "infeasible":
            raise ProblemInfeasible((attempt,))
        return (attempt,)
    if found.weight is None:
        return (SolverAttempt(name, found.status, found.seconds, found.iterations, False,
                              f"status {found.status} (Clarabel called directly)"),)
    weight = _clean(found.weight)
    cash = float(limits.budget - weight.sum())
    checked = violations(limits, risk, weight, cash)
    worst = max(checked.values(), default=0.0)
    if worst > solver_config.feasibility_tolerance:
        family = max(checked, key=lambda key: checked[key])
        return (SolverAttempt(name, found.status, found.seconds, found.iterations, False,
                              f"solution violates {family} by {worst:.2e} (Clarabel called directly)"),)
    attempt = SolverAttempt(name, found.status, found.seconds, found.iterations, True)
    return Allocation(symbols=limits.symbols, weight=weight, cash_weight=cash,
                      objective=objective_value(objective, mu, risk, limits, weight, gamma), status=found.status,
                      solver=name, attempts=(attempt,), compile_seconds=build_seconds, violations=checked,
                      objective_name=objective.value)


def solve_compiled(compiled: CompiledProblem, problem: cvxpy.Problem, limits: Limits, mu: FloatArray, risk: RiskModel,
                   gamma: float, solver_config: SolverConfig, build_seconds: float = 0.0,
                   solve: SolveFn = cvxpy_solve) -> Allocation:
    """Solve another ``problem`` over ``compiled``'s variables and rows (e.g. ``optimize.robust``'s epigraph),
    checked against ``limits`` and packaged as ``solve_allocation`` does (``objective`` is ``utility`` under
    ``mu`` and ``gamma``)."""
    return solve_and_check(compiled, problem, limits, mu, risk, gamma, solver_config, build_seconds, False,
                           solve=solve)


def solve_and_check(compiled: CompiledProblem, problem: cvxpy.Problem, limits: Limits, mu: FloatArray,
                    risk: RiskModel, gamma: float, solver_config: SolverConfig, build_seconds: float, reused: bool,
                    relaxed: Limits | None = None, solve: SolveFn = cvxpy_solve,
                    objective: Objective = Objective.UTILITY) -> Allocation:
    """Solve ``problem`` (one of ``compiled``'s, its parameters already set) with each solver of
    ``solver_config.order`` until one's solution passes the numpy check against ``relaxed`` (or ``limits``), and
    package it as an ``Allocation`` whose objective is the value of ``objective`` under ``mu``, ``risk`` and
    ``gamma`` (``objectives.objective_value``).

    ``build_seconds`` and ``reused`` describe how ``compiled`` was found; ``solve`` is the solver seam. Raises
    ``ProblemInfeasible`` when a solver proves the problem infeasible, ``SolverError`` when no solver gives an
    acceptable solution. Shared by ``solve_allocation`` and the ``--relax`` solve (``relaxation.solve_relaxed``).
    """
    solution: dict[str, Any] = {}
    tolerance = solver_config.feasibility_tolerance
    checked = relaxed if relaxed is not None else limits

    def check() -> str | None:
        found_weight = compiled.weight()
        if found_weight is None:
            return "no solution values"
        weight = _clean(found_weight)
        cash = float(limits.budget - weight.sum())
        found = violations(checked, risk, weight, cash)
        worst = max(found.values(), default=0.0)
        if worst > tolerance:
            family = max(found, key=lambda name: found[name])
            return f"solution violates {family} by {worst:.2e}"
        solution.update(weight=weight, cash=cash, violations=found)
        return None

    attempts, solver, infeasible = solve_in_order(problem, solver_config, check, solve)
    if solver is None:
        if infeasible:
            raise ProblemInfeasible(tuple(attempts))
        summary = "; ".join(f"{a.solver}: {a.message or a.status}" for a in attempts)
        raise SolverError("solver", f"no solver returned an acceptable solution ({summary})",
                          "check the inputs for extreme values, or change solver.order")
    compiled.solves += 1
    weight = solution["weight"]
    return Allocation(symbols=limits.symbols, weight=weight, cash_weight=solution["cash"],
                      objective=objective_value(objective, mu, risk, limits, weight, gamma),
                      status=str(problem.status), solver=solver, attempts=tuple(attempts),
                      compile_seconds=build_seconds, violations=solution["violations"], reused_problem=reused,
                      objective_name=objective.value)


class ProblemInfeasible(Exception):
    """Raised by ``solve_allocation`` when the solver proves the limits cannot all hold; diagnosed by the caller."""

    def __init__(self, attempts: tuple[SolverAttempt, ...]) -> None:
        self.attempts = attempts
        super().__init__("infeasible")


def solves_text(compiled: int, solves: int, direct: int) -> str:
    """How ``solves`` solves were made, for the terminal and the reports: on ``compiled`` compiled problems, and
    ``direct`` of them by Clarabel called directly (``conic``)."""
    plural = "" if compiled == 1 else "s"
    through = solves - direct
    text = f"{compiled} compiled problem{plural} served {through} solve{'' if through == 1 else 's'}"
    if not direct:
        return text
    by_clarabel = f"{direct} solve{'' if direct == 1 else 's'} by Clarabel called directly"
    return f"{by_clarabel}, {text}" if compiled else by_clarabel


def _clean(weight: FloatArray) -> FloatArray:
    """Round solver noise below 1e-10 to zero so outputs are stable and free of negative zeros."""
    cleaned: FloatArray = np.where(np.abs(weight) < 1e-10, 0.0, weight)
    return cleaned
