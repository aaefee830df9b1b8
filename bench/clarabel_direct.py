"""The floor: the bench problem built by hand as one conic program (scipy sparse matrices) and solved by Clarabel.

Variables ``x = [w (n), c, t (n), y (k)]``: risky weights, cash, the weight traded ``t >= |w - w0|`` and the
factor exposures ``y = E'w`` of the factor model ``Sigma = E E' + diag(d)`` (``E = B R``, ``F = R R'``). Clarabel
minimizes ``x'Px / 2 + q'x`` subject to ``A x + s = b``, ``s`` in a product of cones:

    P = gamma diag(d, 0, 0, 1),  q = (-mu, 0, kappa, 0)       i.e. maximize mu'w - kappa't - (gamma/2) w'Sigma w
    zero cone      sum(w) + c = 1,  y - E'w = 0
    nonnegative    bounds on w and c,  |w - w0| <= t,  group rows,
                   bought = (sum t + sum (w - w0)) / 2 <= turnover_max + inflow, sold likewise with outflow
    second order   || (y - E'b, sqrt(d) (w - b)) || <= tracking_error_max

About n k + 10 n nonzeros and no n-by-n matrix. ``t`` is tight at the optimum because every unit traded costs
``kappa > 0``, and a slack ``t`` only tightens the turnover rows, so the problem is exactly the bench problem.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import scipy.sparse as sp
from limits import Problem

from allocator.domain import FloatArray, RiskModel

# Clarabel's default settings stall on some bench problems (2,000 assets without the tracking-error limit:
# InsufficientProgress after 13 iterations); 50 equilibration passes instead of 10 solve it in 19. The CLI floor's
# problem without the limit (3,000 and 20,000 assets, mean returns as mu) stalls under both, and under tighter
# tolerances, presolve off, more regularization or a shorter step; Clarabel's other direct solver (faer, kept to one
# thread as BLAS is) solves it. A careful user checks the status and tries again, as allocate itself does (its
# tolerances retry), and every attempt is timed.
RETRY: tuple[dict[str, Any], ...] = ({}, {"equilibrate_max_iter": 50},
                                     {"direct_solve_method": "faer", "max_threads": 1})


def _rows(blocks: list[tuple[sp.spmatrix, FloatArray]]) -> tuple[sp.csc_matrix, FloatArray]:
    return sp.vstack([a for a, _ in blocks], format="csc"), np.concatenate([b for _, b in blocks])


def conic_program(problem: Problem, risk: RiskModel) -> tuple[Any, ...]:
    """``(P, q, A, b, cones)`` of the problem for ``clarabel.DefaultSolver``."""
    import clarabel

    n = problem.assets
    exposure = risk.exposure
    k = exposure.shape[1]
    size = 2 * n + 1 + k
    w, c, t, y = 0, n, n + 1, 2 * n + 1  # where each variable starts

    def select(rows: int, start: int, values: Any = 1.0) -> sp.csr_matrix:
        """A ``rows``-by-``size`` block with ``values`` on the diagonal starting at column ``start``."""
        data = np.broadcast_to(np.asarray(values, dtype=np.float64), (rows,))
        return sp.csr_matrix((data, (np.arange(rows), start + np.arange(rows))), shape=(rows, size))

    diagonal = np.concatenate([problem.gamma * risk.specific_variance, np.zeros(n + 1), np.full(k, problem.gamma)])
    p_matrix = sp.diags(diagonal, format="csc")
    q = np.concatenate([-problem.mu, [0.0], problem.cost, np.zeros(k)])
    exposure_rows = sp.hstack([sp.csr_matrix(-exposure.T), sp.csr_matrix((k, n + 1)), sp.eye(k)])
    zero = [(sp.hstack([sp.csr_matrix(np.ones((1, n))), sp.csr_matrix([[1.0]]), sp.csr_matrix((1, n + k))]),
             np.array([1.0])), (exposure_rows, np.zeros(k))]
    lower, upper = problem.lower, problem.upper
    has_lower, has_upper = np.isfinite(lower), np.isfinite(upper)
    nonnegative = [
        (select(n, w)[has_upper], upper[has_upper]), (-select(n, w)[has_lower], -lower[has_lower]),
        (select(1, c), np.array([problem.cash_upper])), (-select(1, c), np.array([-problem.cash_lower])),
        (select(n, w) - select(n, t), problem.current), (-select(n, w) - select(n, t), -problem.current),
    ]
    members = sp.hstack([sp.csr_matrix(problem.group_members), sp.csr_matrix((len(problem.group_labels), size - n))])
    finite_upper, finite_lower = np.isfinite(problem.group_upper), np.isfinite(problem.group_lower)
    nonnegative += [(members[finite_upper], problem.group_upper[finite_upper]),
                    (-members[finite_lower], -problem.group_lower[finite_lower])]
    if problem.turnover_max is not None:
        held = float(problem.current.sum())
        traded = sp.hstack([sp.csr_matrix((1, n + 1)), sp.csr_matrix(np.full((1, n), 0.5)), sp.csr_matrix((1, k))])
        net = sp.hstack([sp.csr_matrix(np.full((1, n), 0.5)), sp.csr_matrix((1, size - n))])
        nonnegative += [(traded + net, np.array([problem.turnover_max + problem.inflow + 0.5 * held])),
                        (traded - net, np.array([problem.turnover_max + problem.outflow - 0.5 * held]))]
    blocks = [*zero, *nonnegative]
    cones = [clarabel.ZeroConeT(1 + k), clarabel.NonnegativeConeT(sum(a.shape[0] for a, _ in nonnegative))]
    if problem.tracking_error_max is not None:
        sqrt_d = np.sqrt(risk.specific_variance)
        blocks += [(sp.csr_matrix((1, size)), np.array([problem.tracking_error_max])),
                   (-select(k, y), -(exposure.T @ problem.benchmark)),
                   (-select(n, w, sqrt_d), -sqrt_d * problem.benchmark)]
        cones.append(clarabel.SecondOrderConeT(1 + k + n))
    a_matrix, b = _rows(blocks)
    return p_matrix, q, a_matrix, b, cones


def solve_clarabel(problem: Problem, risk: RiskModel) -> dict[str, Any]:
    """Weights and stage times (build: the matrices; solve: Clarabel's set-up and solve, wall, every attempt)."""
    import clarabel

    started = time.perf_counter()
    p_matrix, q, a_matrix, b, cones = conic_program(problem, risk)
    built = time.perf_counter()
    for retry in RETRY:  # default settings first; on a stall, once more with more equilibration
        settings = clarabel.DefaultSettings()
        settings.verbose = False
        for name, value in retry.items():
            setattr(settings, name, value)
        solution = clarabel.DefaultSolver(p_matrix, q, a_matrix, b, cones, settings).solve()
        status = str(solution.status)
        if status == "Solved":
            break
    solved = time.perf_counter()
    if status != "Solved":
        raise RuntimeError(f"Clarabel: {status}")
    weights = np.asarray(solution.x[: problem.assets], dtype=np.float64)
    return {"weights": weights, "status": status, "build": built - started, "solve": solved - built}
