"""The hard utility problem as one conic program handed to Clarabel directly, without CVXPY (one-off solves of
large universes: ``solve_allocation`` uses it from ``DIRECT_ASSETS`` assets).

It is the problem ``problem.CompiledProblem`` builds through CVXPY, written out as matrices: with the risk model
scaled as there (``scale`` makes an average asset's variance 1; ``E`` the scaled factor exposures, ``s`` the
scaled specific volatilities), ``x = [w (n), c, t (n), y (k)]`` and Clarabel's form ``min x'Px/2 + q'x`` subject
to ``A x + s = b``, ``s`` in a product of cones:

    P = 2 diag(s^2, 0, 0, 1),  q = (-m, 0, kappa_m, 0)      m = 2 scale mu / gamma, kappa_m = 2 scale kappa / (gamma H)
    zero cone       sum(w) + c = budget,  y - E'w = 0
    nonnegative     the tightest per-asset bounds on w, |w - w0| <= t, group and RSI-group rows, cash bounds, the
                    raise's cash floor, bought and sold net of flows <= turnover_max (``families.TurnoverLimit``)
    second order    || (y - E'b, s (w - b)) || <= tracking_error_max sqrt(scale)

which is ``mu'w - (gamma/2) w'Sigma w - kappa'|w - w0| / H`` maximized, divided by gamma/2 and scaled. About
``n k + 10 n`` nonzeros and no n-by-n matrix. The problem is built per solve (a few milliseconds at 3,000 assets)
where CVXPY would canonicalize it per solve anyway (``problem.keeps_parameters``), and without importing CVXPY
(0.45 s of ``allocate run``'s start). Families it does not know (market impact, a caller's own), the elastic and
the homogenized problems stay with CVXPY (``supported``); so does any solve this path does not finish.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike

from allocator.domain import FloatArray, RiskModel
from allocator.optimize.constraints import Limits
from allocator.optimize.families import (
    CashLimits,
    CashRaise,
    Family,
    GroupLimits,
    RsiGroupLimits,
    TrackingErrorLimit,
    TurnoverLimit,
    WeightBounds,
    families_of,
    merge_bounds,
)

# from this many assets a hard utility problem is solved here (below it CVXPY's compiled problem is kept and
# re-solved by refilling its parameters, and a solve through it costs milliseconds)
DIRECT_ASSETS = 1_000
# Clarabel's settings for large problems, tried in turn, here and through CVXPY (``problem.LARGE_OPTIONS``): its
# default tolerances (1e-8), then once more with more equilibration on a stall
LARGE_CLARABEL: tuple[dict[str, Any], ...] = tuple(
    {"tol_gap_abs": 1e-8, "tol_gap_rel": 1e-8, "tol_feas": 1e-8, "presolve_enable": False, **more}
    for more in ({}, {"equilibrate_max_iter": 50}))
LADDER = LARGE_CLARABEL
# Clarabel's statuses in CVXPY's words (``problem.solve_in_order`` reads these)
STATUSES = {"Solved": "optimal", "AlmostSolved": "optimal_inaccurate", "PrimalInfeasible": "infeasible",
            "AlmostPrimalInfeasible": "infeasible_inaccurate", "DualInfeasible": "unbounded",
            "AlmostDualInfeasible": "unbounded_inaccurate"}
_ROWS = (WeightBounds, GroupLimits, RsiGroupLimits, CashLimits, CashRaise, TurnoverLimit, TrackingErrorLimit)


def supported(limits: Limits) -> bool:
    """Whether every family of ``limits`` has rows here (no market impact, no family a caller added beyond the
    per-asset bounds)."""
    if limits.impact is not None:
        return False
    return all(type(family) in _ROWS for family in merge_bounds(families_of(limits)))


@dataclass(frozen=True)
class ConicProgram:
    """``(P, q, A, b, cones)`` for ``clarabel.DefaultSolver``, and where ``w`` and ``c`` sit in ``x``."""

    p_matrix: sp.csc_matrix
    q: FloatArray
    a_matrix: sp.csc_matrix
    b: FloatArray
    cones: list[Any]
    assets: int


class _Rows:
    """Rows ``A x <= b`` (or ``= b``) over ``x = [w, c, t, y]``, gathered block by block."""

    def __init__(self, n: int, k: int) -> None:
        self.n, self.k = n, k
        self.size = 2 * n + 1 + k
        self.blocks: list[sp.csr_matrix] = []
        self.bounds: list[FloatArray] = []

    def add(self, matrix: sp.spmatrix, bound: ArrayLike) -> None:
        self.blocks.append(sp.csr_matrix(matrix))
        self.bounds.append(np.asarray(bound, dtype=np.float64).reshape(-1))

    def columns(self, w: Any = None, c: Any = None, t: Any = None, y: Any = None, rows: int = 1) -> sp.csr_matrix:
        """A ``rows``-high block with the given coefficients on ``w``, ``c``, ``t`` and ``y`` (each a sparse or
        dense matrix of that many rows, or None)."""
        n, k = self.n, self.k
        parts = [(w, n), (c, 1), (t, n), (y, k)]
        return sp.hstack([sp.csr_matrix((rows, width)) if part is None else sp.csr_matrix(part)
                          for part, width in parts], format="csr")

    def count(self) -> int:
        return sum(block.shape[0] for block in self.blocks)


def _within(rows: _Rows, members: sp.spmatrix, lower: FloatArray, upper: FloatArray) -> None:
    """``lower <= members @ w <= upper`` where each bound is finite."""
    members = sp.csr_matrix(members)
    has_upper, has_lower = np.isfinite(upper), np.isfinite(lower)
    if has_upper.any():
        rows.add(rows.columns(w=members[has_upper], rows=int(has_upper.sum())), upper[has_upper])
    if has_lower.any():
        rows.add(rows.columns(w=-members[has_lower], rows=int(has_lower.sum())), -lower[has_lower])


def _family_rows(family: Family, rows: _Rows, limits: Limits) -> None:
    """Add the nonnegative-cone rows of one family of the hard problem (the tracking error has its own cone)."""
    n = rows.n
    if isinstance(family, WeightBounds):
        lower, upper = family.bounds(limits)
        _within(rows, sp.identity(n, format="csr"), lower, upper)
    elif isinstance(family, GroupLimits) and limits.groups:
        members = np.array([g.members for g in limits.groups], dtype=np.float64)
        _within(rows, members, np.array([g.lower for g in limits.groups], dtype=np.float64),
                np.array([g.upper for g in limits.groups], dtype=np.float64))
    elif isinstance(family, RsiGroupLimits):
        members = np.array([g.members for g in limits.rsi.groups], dtype=np.float64)
        upper = np.array([g.upper for g in limits.rsi.groups], dtype=np.float64)
        _within(rows, members, np.full(len(upper), -np.inf), upper)
    elif isinstance(family, CashLimits):
        rows.add(rows.columns(c=[[1.0], [-1.0]], rows=2), [limits.cash_upper, -limits.cash_lower])
    elif isinstance(family, CashRaise):
        rows.add(rows.columns(c=[[-1.0]]), [-float(limits.cash_raise or 0.0)])
    elif isinstance(family, TurnoverLimit):  # 0.5 (sum t -/+ c) <= the room of bought and sold
        half = np.full((2, n), 0.5)
        rows.add(rows.columns(c=[[-0.5], [0.5]], t=half, rows=2), TurnoverLimit.room(limits))


def conic_program(limits: Limits, mu: FloatArray, risk: RiskModel, gamma: float) -> ConicProgram:
    """The hard utility problem of ``limits`` under ``mu`` (annualized), ``risk`` and ``gamma`` as Clarabel's
    matrices (module docstring)."""
    import clarabel

    n, k = risk.loadings.shape
    scale = float(n / max(np.sum(risk.volatility**2), 1e-300))  # as ``CompiledProblem.set_risk``
    exposure = risk.exposure * np.sqrt(scale)
    specific = np.sqrt(risk.specific_variance * scale)
    factor = 2.0 * scale / gamma
    rows = _Rows(n, k)
    eye = sp.identity(n, format="csr")
    diagonal = np.concatenate([2.0 * specific**2, np.zeros(n + 1), np.full(k, 2.0)])
    q = np.concatenate([-factor * mu, [0.0], factor * limits.cost / limits.horizon, np.zeros(k)])
    rows.add(rows.columns(w=np.ones((1, n)), c=[[1.0]]), [limits.budget])
    rows.add(rows.columns(w=-exposure.T, y=sp.identity(k), rows=k), np.zeros(k))
    zero = rows.count()
    rows.add(rows.columns(w=eye, t=-eye, rows=n), limits.current)  # t >= w - w0
    rows.add(rows.columns(w=-eye, t=-eye, rows=n), -limits.current)  # t >= w0 - w
    families = merge_bounds(families_of(limits))
    for family in families:
        _family_rows(family, rows, limits)
    cones = [clarabel.ZeroConeT(zero), clarabel.NonnegativeConeT(rows.count() - zero)]
    if limits.tracking_error_max is not None:  # s = b - A x in the cone: (te, y - E'b, s (w - b))
        cone_rows = 1 + k
        rows.add(sp.csr_matrix((1, rows.size)), [limits.tracking_error_max * np.sqrt(scale)])
        rows.add(rows.columns(y=-sp.identity(k), rows=k), -(exposure.T @ limits.benchmark))
        if np.any(specific > 0):
            rows.add(rows.columns(w=-sp.diags(specific), rows=n), -specific * limits.benchmark)
            cone_rows += n
        cones.append(clarabel.SecondOrderConeT(cone_rows))
    a_matrix = sp.vstack(rows.blocks, format="csc")
    return ConicProgram(sp.diags(diagonal, format="csc"), q, a_matrix, np.concatenate(rows.bounds), cones, n)


@dataclass(frozen=True)
class DirectSolve:
    """Clarabel's answer: CVXPY's word for its status, the weights and cash (None unless solved), and the
    solver's seconds and iterations over every rung of ``LADDER`` tried."""

    status: str
    weight: FloatArray | None
    cash: float | None
    seconds: float
    iterations: int


def solve_direct(program: ConicProgram, verbose: bool = False) -> DirectSolve:
    """Solve ``program`` with Clarabel, each rung of ``LADDER`` in turn until one ends solved or proves the
    problem infeasible."""
    import clarabel

    seconds, iterations, status = 0.0, 0, "error"
    for options in LADDER:
        settings = clarabel.DefaultSettings()
        settings.verbose = verbose
        for name, value in options.items():
            setattr(settings, name, value)
        started = time.perf_counter()
        solution = clarabel.DefaultSolver(program.p_matrix, program.q, program.a_matrix, program.b, program.cones,
                                          settings).solve()
        seconds += time.perf_counter() - started
        iterations += int(solution.iterations)
        status = STATUSES.get(str(solution.status), str(solution.status))
        if status == "optimal":
            x = np.asarray(solution.x, dtype=np.float64)
            return DirectSolve(status, x[: program.assets], float(x[program.assets]), seconds, iterations)
        if status.startswith(("infeasible", "unbounded")):  # another rung would only say it again
            break
    return DirectSolve(status, None, None, seconds, iterations)
