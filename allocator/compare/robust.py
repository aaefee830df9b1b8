"""``allocate compare --robust``: one portfolio that does best in the worst of the scenarios' views.

The base scenario is the first one that succeeded (the first CONFIG given, normally): the robust portfolio obeys
every limit of its config and trades its account exactly as ``allocate run`` would (lots, minimum trade,
reconciliation). Its objective is the worst utility over every successful scenario's view
(``allocator.optimize.robust``); the result is a ``RunResult`` like any run's, written to ``robust/`` as
``weights.csv``, ``trades.csv``, ``summary.json`` and ``manifest.json``. That summary measures expected return
and Sharpe under the base scenario's view (as a run of the base config would); the portfolio under every view is
in the comparison's view matrix (``allocator.compare.views``).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

from allocator.config.schema import Objective
from allocator.errors import AllocatorError, ConfigError, InfeasibleError, UsageError
from allocator.optimize.robust import View
from allocator.pipeline import RunResult

ROBUST = "robust"


@dataclass(frozen=True)
class RobustOutcome:
    """The robust portfolio as a run of the base scenario (``result``), its worst utility over ``views`` and the
    view that gives it, its utility under each view (by name), and the seconds to build and solve it."""

    base: str
    views: tuple[str, ...]
    result: RunResult
    worst_view: str
    worst_utility: float
    utilities: dict[str, float]
    solve_seconds: float
    trades_seconds: float


def view_of(name: str, result: RunResult) -> View:
    """A scenario's view: its expected returns, risk model, risk aversion and limits (costs, current weights)."""
    return View(name=name, symbols=result.universe.symbols, mu=result.returns.mu, risk=result.risk,
                gamma=float(result.config.risk.risk_aversion), limits=result.limits)


def robust_outcome(scenarios: Sequence[tuple[str, RunResult]]) -> RobustOutcome:
    """Solve the robust portfolio over the successful ``scenarios`` (name, result), the first being the base."""
    from allocator.optimize.problem import ProblemInfeasible
    from allocator.optimize.robust import solve_robust
    from allocator.trading.trades import build_trades, reconcile

    if not scenarios:
        raise UsageError("--robust", "no scenario succeeded", "fix the scenarios first")
    base_name, base = scenarios[0]
    others = [name for name, r in scenarios if r.universe.symbols != base.universe.symbols]
    if others:
        raise UsageError("--robust", f"{', '.join(others)} model other assets than the base scenario {base_name}",
                         "give --robust scenarios with the same universe")
    others = [f"{name} ({r.config.optimizer.objective.value})" for name, r in scenarios
              if r.config.optimizer.objective is not Objective.UTILITY]
    if others:
        raise ConfigError("optimizer.objective", f"--robust maximizes the worst utility over the scenarios' views, "
                          f"but {', '.join(others)} seek another objective",
                          "compare those scenarios without --robust, or set optimizer.objective: utility")
    views = [view_of(name, result) for name, result in scenarios]
    prepared = base.prepared
    try:
        solved = solve_robust(base.limits, base.risk, float(base.config.risk.risk_aversion), views,
                              base.config.solver)
    except ProblemInfeasible:
        raise InfeasibleError("--robust", f"the limits of the base scenario {base_name} cannot all hold",
                              "relax them, or put a feasible scenario first") from None
    started = time.perf_counter()
    rules = {r.symbol: r for r in prepared.rsi.rules}
    trades = build_trades(prepared.universe, solved.allocation.weight, base.limits, prepared.config.trading,
                          prepared.returns, prepared.scores, rules, prepared.risk)
    problems = reconcile(trades)
    if problems:
        raise AllocatorError("--robust", "the robust trade list does not reconcile: " + "; ".join(problems[:3]),
                             "this is a bug; please report it with the inputs")
    trades_seconds = time.perf_counter() - started
    result = RunResult(prepared=prepared, allocation=solved.allocation, trades=trades, limits=base.limits,
                       timings={"optimize_seconds": solved.seconds, "trades_seconds": trades_seconds})
    return RobustOutcome(base=base_name, views=tuple(v.name for v in views), result=result,
                         worst_view=solved.worst_view, worst_utility=solved.allocation.objective,
                         utilities=solved.utilities, solve_seconds=solved.seconds, trades_seconds=trades_seconds)
