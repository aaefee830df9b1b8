"""The efficient frontier under the account's own limits: the optimal portfolios for a grid of risk aversions.

With ``f(w) = mu'w - cost(w) / H`` the expected excess return net of the trading cost spread over the horizon
(annualized, fractions of NAV), each point of the volatility curve maximizes ``f(w) - (gamma/2) w'Sigma w`` and each
point of the tracking-error curve ``f(w) - (gamma/2) (w - b)'Sigma (w - b)``, over the same feasible set: every limit
of the config (position, active, RSI, group, cash, tracking-error and turnover limits, the trading mode). The
second is the utility problem with ``mu + gamma Sigma b`` for ``mu`` (``optimize.objectives``), so both curves are
solved on the one compiled problem of the run, refilling its parameters (``ProblemCache``).

Because each point is optimal for its ``gamma``, no feasible portfolio ``w`` lies above the frontier:
``f(w) <= f(p) + (gamma_p / 2) (risk(w)^2 - risk(p)^2)`` for every point ``p`` of a curve (``Frontier.ceiling``);
the target, being feasible, lies on or below it. The current portfolio and the benchmark are marked too, though they
need not satisfy the limits (the current one may hold an overbought fund above its RSI ceiling).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from allocator.config.schema import Objective
from allocator.domain import FloatArray
from allocator.errors import SolverError
from allocator.optimize.constraints import Limits, tracking_error
from allocator.optimize.objectives import trading_cost
from allocator.optimize.problem import Allocation, ProblemCache, ProblemInfeasible, solve_allocation
from allocator.pipeline import Prepared, optimize_prepared

VOLATILITY, TRACKING_ERROR = "volatility", "tracking_error"
CURVES = (VOLATILITY, TRACKING_ERROR)
MARKS = ("current", "benchmark", "target")
DEFAULT_POINTS = 25
DEFAULT_RANGE = (0.1, 100.0)  # risk aversions, log-spaced between these (the config's own is added)


@dataclass(frozen=True)
class FrontierPoint:
    """One portfolio of the frontier (``portfolio`` ``frontier``, on ``curve``) or a marked one (``current``,
    ``benchmark``, ``target``; ``curve`` empty): annualized fractions of NAV. ``weight`` (risky assets) is kept
    when computed, None when read back from ``frontier.csv``."""

    portfolio: str
    curve: str
    risk_aversion: float | None
    expected_return: float
    trading_cost: float
    volatility: float
    tracking_error: float
    cash_weight: float
    weight: FloatArray | None = field(default=None, compare=False, repr=False)

    @property
    def net_return(self) -> float:
        """Expected excess return net of the trading cost over the horizon (annualized)."""
        return self.expected_return - self.trading_cost

    def risk(self, curve: str) -> float:
        """Its volatility or tracking error, the x axis of ``curve``."""
        return self.volatility if curve == VOLATILITY else self.tracking_error


@dataclass(frozen=True)
class Frontier:
    """The frontier's points (each curve by rising risk aversion) and the marked portfolios; how many problems
    were compiled for them and how many solves they took."""

    as_of: str
    risk_aversion: float
    points: tuple[FrontierPoint, ...]
    marks: tuple[FrontierPoint, ...]
    compiled_problems: int = 0
    solves: int = 0
    direct_solves: int = 0  # of ``solves``, those handed to Clarabel directly (``optimize.conic``)

    def solves_text(self) -> str:
        """How the points were solved (``optimize.problem.solves_text``)."""
        from allocator.optimize.problem import solves_text

        return solves_text(self.compiled_problems, self.solves, self.direct_solves)

    def curve(self, name: str) -> tuple[FrontierPoint, ...]:
        return tuple(p for p in self.points if p.curve == name)

    @property
    def curves(self) -> tuple[str, ...]:
        return tuple(c for c in CURVES if self.curve(c))

    def mark(self, name: str) -> FrontierPoint | None:
        return next((m for m in self.marks if m.portfolio == name), None)

    def ceiling(self, curve: str, risk: float) -> float:
        """The highest net return any feasible portfolio can have at ``risk`` (volatility or tracking error):
        ``min over points p of f(p) + (gamma_p / 2) (risk^2 - risk(p)^2)``, exact at each point."""
        return min(p.net_return + 0.5 * float(p.risk_aversion or 0.0) * (risk**2 - p.risk(curve) ** 2)
                   for p in self.curve(curve))


def risk_aversion_grid(config_value: float, points: int = DEFAULT_POINTS,
                       bounds: tuple[float, float] = DEFAULT_RANGE) -> tuple[float, ...]:
    """``points`` risk aversions log-spaced over ``bounds``, with ``config_value`` (``risk.risk_aversion``) added."""
    low, high = bounds
    grid = {float(g) for g in np.geomspace(low, high, points)} if points > 1 else {float(low)}
    return tuple(sorted({round(g, 10) for g in grid} | {float(config_value)}))


def _point(prepared: Prepared, limits: Limits, portfolio: str, curve: str, gamma: float | None, weight: FloatArray,
           cash: float) -> FrontierPoint:
    mu, risk = prepared.returns.mu, prepared.risk
    return FrontierPoint(portfolio=portfolio, curve=curve, risk_aversion=gamma, expected_return=float(mu @ weight),
                         trading_cost=trading_cost(limits, weight),
                         volatility=float(np.sqrt(max(risk.variance(weight), 0.0))),
                         tracking_error=tracking_error(risk, weight, limits.benchmark), cash_weight=cash,
                         weight=weight)


def efficient_frontier(prepared: Prepared, grid: Sequence[float], cache: ProblemCache | None = None,
                       target: tuple[Allocation, Limits] | None = None, relax: bool = False) -> Frontier:
    """The frontier of ``prepared`` over the risk aversions ``grid``, with the current portfolio, the benchmark and
    the target marked. ``target`` is a run's allocation and the limits it satisfies (relaxed with ``--relax``);
    without it the target is solved here (``relax`` as for a run), raising as a run does when the limits cannot
    all hold. Every point is solved under the target's limits, on ``cache``'s compiled problem."""
    cache = cache if cache is not None else ProblemCache()
    if target is None:
        allocation, limits, _ = optimize_prepared(prepared, cache, relax)
    else:
        allocation, limits = target
    cfg = prepared.config
    mu, risk = prepared.returns.mu, prepared.risk
    curves = CURVES if cfg.benchmark.is_none is False else (VOLATILITY,)
    points = []
    for curve in curves:
        for gamma in grid:
            tilt = mu if curve == VOLATILITY else mu + gamma * risk.covariance_times(limits.benchmark)
            try:
                found = solve_allocation(limits, tilt, risk, gamma, cfg.solver, cache, Objective.UTILITY)
            except ProblemInfeasible:
                raise SolverError("frontier", f"the solver found no portfolio for risk aversion {gamma:g} under "
                                  "the limits the target satisfies", "narrow the range of risk aversions") from None
            points.append(_point(prepared, limits, "frontier", curve, gamma, found.weight, found.cash_weight))
    universe = prepared.universe
    b = limits.benchmark
    marks = (_point(prepared, limits, "current", "", None, universe.weight, universe.cash_weight),
             _point(prepared, limits, "benchmark", "", None, b, 1.0 - float(b.sum())),
             _point(prepared, limits, "target", "", cfg.risk.risk_aversion, allocation.weight,
                    allocation.cash_weight))
    return Frontier(as_of=prepared.window.as_of.date().isoformat(), risk_aversion=cfg.risk.risk_aversion,
                    points=tuple(points), marks=marks, compiled_problems=cache.compiles, solves=cache.solves,
                    direct_solves=cache.direct_solves)
