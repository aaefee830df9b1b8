"""The hard utility problem as one conic program handed to Clarabel directly, without CVXPY: one-off solves at any
size (``allocate run``, each account of ``allocate batch``) and every solve from ``DIRECT_ASSETS`` assets
(``problem.solve_allocation`` decides, ``ProblemCache.direct``).

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
``n k + 10 n`` nonzeros and no n-by-n matrix. The problem is built per solve (6 ms at 3,000 assets, 0.6 at 60;
``P`` and ``A`` are kept for the latest risk model, ``Programs``, so that the next account of a batch refills only
``q`` and ``b``, 0.1 ms) where CVXPY would canonicalize it per solve anyway (``problem.keeps_parameters``) or
compile it for one solve, and without importing CVXPY (0.45 s of ``allocate run``'s start). Families it does not
know (market impact, a caller's own), the elastic and the homogenized problems stay with CVXPY (``supported``); so
does any solve this path does not finish.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike, NDArray

from allocator.domain import FloatArray, RiskModel
from allocator.optimize.constraints import Limits
from allocator.optimize.families import (
    CashLimits,
    CashRaise,
    Family,
    GroupLimits,
    LastOf,
    RsiGroupLimits,
    TrackingErrorLimit,
    TurnoverLimit,
    WeightBounds,
    asset_bounds,
    families_of,
    merge_bounds,
)

# from this many assets a hard utility problem is solved here wherever it is solved (below it a caller that re-solves
# one structure many times, compare, backtest and frontier, keeps CVXPY's compiled problem and refills its
# parameters); a one-off solve (``allocate run``, each account of ``allocate batch``) comes here at every size
# (``ProblemCache(direct_from=0)``): it would pay CVXPY's compile for one solve
DIRECT_ASSETS = 1_000
# Clarabel's settings below ``LARGE_VARIABLES`` variables, tried in turn, here and through CVXPY
# (``problem.SOLVER_OPTIONS`` and ``RETRY_OPTIONS``, which say why): 1e-12, then 1e-10 and 1e-9 when inaccurate
SMALL_CLARABEL: tuple[dict[str, Any], ...] = tuple(
    {"tol_gap_abs": tol, "tol_gap_rel": tol, "tol_feas": tol, "presolve_enable": False} for tol in (1e-12, 1e-10, 1e-9))
LARGE_VARIABLES = 1_000
# Clarabel's settings for large problems, tried in turn, here and through CVXPY (``problem.LARGE_OPTIONS``): its
# default tolerances (1e-8), then once more with more equilibration on a stall
LARGE_CLARABEL: tuple[dict[str, Any], ...] = tuple(
    {"tol_gap_abs": 1e-8, "tol_gap_rel": 1e-8, "tol_feas": 1e-8, "presolve_enable": False, **more}
    for more in ({}, {"equilibrate_max_iter": 50}))
LADDER = LARGE_CLARABEL  # over LARGE_VARIABLES variables
SMALL_LADDER = SMALL_CLARABEL
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


IntArray = NDArray[np.intp]
Triplet = tuple[IntArray, IntArray, FloatArray]  # the rows, columns and values of a block's nonzeros


def _diagonal(values: ArrayLike, columns: IntArray | None = None) -> Triplet:
    """A block with ``values`` on its diagonal, row ``i`` in column ``columns[i]`` (default ``i``); zeros are
    left out."""
    values = np.asarray(values, dtype=np.float64).reshape(-1)
    rows = np.flatnonzero(values)
    return rows, rows if columns is None else columns[rows], values[rows]


def _dense(matrix: ArrayLike) -> Triplet:
    """The nonzeros of a dense block."""
    matrix = np.atleast_2d(np.asarray(matrix, dtype=np.float64))
    rows, columns = np.nonzero(matrix)
    return rows, columns, matrix[rows, columns]


Part = Callable[[], Triplet]  # a block's nonzeros, made only when the matrix is (``_Rows.matrix``)


class _Rows:
    """Rows ``A x <= b`` (or ``= b``) over ``x = [w, c, t, y]``, gathered block by block: each block's right-hand
    side, a signature of its structure (its label, height and, for the masked bounds, which rows are kept) and its
    nonzeros as the row, column and value of each, made only when the matrix is (no sparse matrix is made until the
    end: scipy's per-call cost dominated the build below a few hundred assets; a program whose signature and risk
    model were seen before reuses their matrix, ``Programs``)."""

    def __init__(self, n: int, k: int) -> None:
        self.n, self.k = n, k
        self.size = 2 * n + 1 + k
        self.offsets = {"w": 0, "c": n, "t": n + 1, "y": 2 * n + 1}
        self.height = 0
        self.blocks: list[tuple[int, dict[str, Part]]] = []
        self.signature: list[tuple[str, int, bytes]] = []
        self.bounds: list[FloatArray] = []

    def add(self, bound: ArrayLike, label: str, mask: bytes = b"", **parts: Part) -> None:
        """Rows with right-hand side ``bound`` and the blocks ``parts`` on the variables named (``w``, ``c``,
        ``t``, ``y``), each block's rows counted from the first of these rows; ``label`` and ``mask`` say what
        the blocks hold, beyond the risk model's numbers (the same label, height and mask: the same blocks)."""
        bound = np.asarray(bound, dtype=np.float64).reshape(-1)
        self.blocks.append((self.height, parts))
        self.signature.append((label, len(bound), mask))
        self.bounds.append(bound)
        self.height += len(bound)

    def matrix(self) -> sp.csc_matrix:
        """``A``, columns sorted."""
        rows, columns, values = [], [], []
        for first, parts in self.blocks:
            for name, part in parts.items():
                row, column, value = part()
                rows.append(row + first)
                columns.append(column + self.offsets[name])
                values.append(value)
        return sp.csc_matrix((np.concatenate(values), (np.concatenate(rows), np.concatenate(columns))),
                             shape=(self.height, self.size))


@dataclass(frozen=True)
class _Matrices:
    """``P`` and ``A`` of one risk model and one signature of rows (``Programs``)."""

    risk: RiskModel
    p_matrix: sp.csc_matrix
    a_matrix: sp.csc_matrix


class Programs:
    """The matrices of the programs solved on the latest risk model, by structure of their rows, so that solving
    that model again with other weights, cash and bounds (the accounts of a batch) refills ``q`` and ``b`` only:
    ``P`` and ``A`` hold the risk model, the groups and which bounds are finite, nothing of an account's numbers.
    A risk model is known by identity; another one drops what the last one had (a backtest's dates, each with a
    risk model of its own, would otherwise keep matrices that can never serve again: 600 MB for 8 dates at 3,000
    assets). At most ``max_size`` structures are kept, the oldest dropped first. ``reused`` counts the programs
    whose matrices came from here."""

    def __init__(self, max_size: int = 8) -> None:
        self._items: dict[tuple[int, int, tuple[tuple[str, int, bytes], ...]], _Matrices] = {}
        self.max_size = max_size
        self.reused = 0

    def matrices(self, rows: _Rows, risk: RiskModel, p_matrix: Callable[[], sp.csc_matrix]
                 ) -> tuple[sp.csc_matrix, sp.csc_matrix]:
        key = (rows.n, rows.k, tuple(rows.signature))
        found = self._items.get(key)
        if found is not None and found.risk is risk:
            self.reused += 1
            return found.p_matrix, found.a_matrix
        if any(kept.risk is not risk for kept in self._items.values()):
            self._items.clear()
        made = _Matrices(risk, p_matrix(), rows.matrix())
        if len(self._items) >= self.max_size:
            self._items.pop(next(iter(self._items)))
        self._items[key] = made
        return made.p_matrix, made.a_matrix

    def __len__(self) -> int:
        return len(self._items)


def _within(rows: _Rows, label: str, members: FloatArray | None, lower: FloatArray, upper: FloatArray) -> None:
    """``lower <= members @ w <= upper`` where each bound is finite (``members`` None: the identity)."""
    for sign, side, bound in ((1.0, "upper", upper), (-1.0, "lower", lower)):
        kept = np.isfinite(bound)
        if not kept.any():
            continue
        mask = np.packbits(kept).tobytes()
        if members is None:
            rows.add(sign * bound[kept], f"{label} {side}", mask, w=partial(_kept_diagonal, sign, kept))
        else:
            rows.add(sign * bound[kept], f"{label} {side}", mask + members.tobytes(),
                     w=partial(_kept_dense, sign, members, kept))


def _kept_diagonal(sign: float, kept: NDArray[np.bool_]) -> Triplet:
    """``sign`` in the column of each ``kept`` asset, a row each (made only with the matrix: ``_Rows``)."""
    return _diagonal(np.full(int(kept.sum()), sign), np.flatnonzero(kept))


def _kept_dense(sign: float, members: FloatArray, kept: NDArray[np.bool_]) -> Triplet:
    """``sign`` times the ``kept`` rows of ``members`` (made only with the matrix: ``_Rows``)."""
    return _dense(sign * members[kept])


def _family_rows(family: Family, rows: _Rows, limits: Limits) -> None:
    """Add the nonnegative-cone rows of one family of the hard problem (the tracking error has its own cone)."""
    n = rows.n
    if isinstance(family, WeightBounds):  # the tightest bounds over the per-asset families, as computed before
        lower, upper = asset_bounds(limits)
        _within(rows, "bounds", None, np.asarray(lower, dtype=np.float64), np.asarray(upper, dtype=np.float64))
    elif isinstance(family, GroupLimits) and limits.groups:
        members = np.array([g.members for g in limits.groups], dtype=np.float64)
        _within(rows, "groups", members, np.array([g.lower for g in limits.groups], dtype=np.float64),
                np.array([g.upper for g in limits.groups], dtype=np.float64))
    elif isinstance(family, RsiGroupLimits):
        members = np.array([g.members for g in limits.rsi.groups], dtype=np.float64)
        upper = np.array([g.upper for g in limits.rsi.groups], dtype=np.float64)
        _within(rows, "rsi groups", members, np.full(len(upper), -np.inf), upper)
    elif isinstance(family, CashLimits):
        rows.add([limits.cash_upper, -limits.cash_lower], "cash", c=lambda: _dense([[1.0], [-1.0]]))
    elif isinstance(family, CashRaise):
        rows.add([-float(limits.cash_raise or 0.0)], "raise", c=lambda: _dense([[-1.0]]))
    elif isinstance(family, TurnoverLimit):  # 0.5 (sum t -/+ c) <= the room of bought and sold
        rows.add(TurnoverLimit.room(limits), "turnover", c=lambda: _dense([[-0.5], [0.5]]),
                 t=lambda: _dense(np.full((2, n), 0.5)))


def _scaled(risk: RiskModel) -> tuple[float, FloatArray, FloatArray]:
    """``scale``, ``E`` and ``s`` of the module docstring (read-only): the same for every account of a batch."""
    n = risk.loadings.shape[0]
    scale = float(n / max(np.sum(risk.volatility**2), 1e-300))  # as ``CompiledProblem.set_risk``
    exposure = risk.exposure * np.sqrt(scale)
    specific = np.sqrt(risk.specific_variance * scale)
    exposure.setflags(write=False)
    specific.setflags(write=False)
    return scale, exposure, specific


# ``_scaled`` of the latest risk model: 0.1 ms of each account's program at 50 assets (an n-by-k product and the
# volatilities), kept for the latest risk model only, as ``Programs`` keeps its matrices
_SCALED = LastOf(_scaled)


def conic_program(limits: Limits, mu: FloatArray, risk: RiskModel, gamma: float,
                  programs: Programs | None = None) -> ConicProgram:
    """The hard utility problem of ``limits`` under ``mu`` (annualized), ``risk`` and ``gamma`` as Clarabel's
    matrices (module docstring); with ``programs``, ``P`` and ``A`` are taken from there when the same risk model
    and structure of rows were seen before."""
    import clarabel

    n, k = risk.loadings.shape
    scale, exposure, specific = _SCALED(risk)
    factor = 2.0 * scale / gamma
    rows = _Rows(n, k)
    ones, current = np.ones(n), np.asarray(limits.current, dtype=np.float64)
    q = np.concatenate([-factor * mu, [0.0], factor * limits.cost / limits.horizon, np.zeros(k)])
    rows.add([limits.budget], "budget", w=lambda: _dense(ones[None, :]), c=lambda: _dense([[1.0]]))
    rows.add(np.zeros(k), "exposures", w=lambda: _dense(-exposure.T), y=lambda: _diagonal(np.ones(k)))
    zero = rows.height
    rows.add(current, "traded above", w=lambda: _diagonal(ones), t=lambda: _diagonal(-ones))  # t >= w - w0
    rows.add(-current, "traded below", w=lambda: _diagonal(-ones), t=lambda: _diagonal(-ones))  # t >= w0 - w
    families = merge_bounds(families_of(limits))
    for family in families:
        _family_rows(family, rows, limits)
    cones = [clarabel.ZeroConeT(zero), clarabel.NonnegativeConeT(rows.height - zero)]
    if limits.tracking_error_max is not None:  # s = b - A x in the cone: (te, y - E'b, s (w - b))
        cone_rows = 1 + k
        rows.add([limits.tracking_error_max * np.sqrt(scale)], "tracking error")
        rows.add(-(exposure.T @ limits.benchmark), "active exposures", y=lambda: _diagonal(-np.ones(k)))
        if np.any(specific > 0):
            rows.add(-specific * limits.benchmark, "active specific", w=lambda: _diagonal(-specific))
            cone_rows += n
        cones.append(clarabel.SecondOrderConeT(cone_rows))

    def p_matrix() -> sp.csc_matrix:
        return sp.diags(np.concatenate([2.0 * specific**2, np.zeros(n + 1), np.full(k, 2.0)]), format="csc")

    p, a = (p_matrix(), rows.matrix()) if programs is None else programs.matrices(rows, risk, p_matrix)
    return ConicProgram(p, q, a, np.concatenate(rows.bounds), cones, n)


@dataclass(frozen=True)
class DirectSolve:
    """Clarabel's answer: CVXPY's word for its status, the weights and cash (None unless solved), and the
    solver's seconds and iterations over every rung of the ladder tried."""

    status: str
    weight: FloatArray | None
    cash: float | None
    seconds: float
    iterations: int


def solve_direct(program: ConicProgram, verbose: bool = False, large: bool | None = None) -> DirectSolve:
    """Solve ``program`` with Clarabel, each rung of its ladder in turn (``LADDER`` for a ``large`` problem, else
    ``SMALL_LADDER``; by default large beyond ``LARGE_VARIABLES`` variables of ``program``; ``problem`` passes the
    count of CVXPY's problem, so that both paths start at the same tolerance) until one ends solved or proves the
    problem infeasible."""
    import clarabel

    seconds, iterations, status = 0.0, 0, "error"
    large = program.q.size > LARGE_VARIABLES if large is None else large
    for options in LADDER if large else SMALL_LADDER:
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
