"""Every portfolio under every view: the comparison's portfolio x view matrix.

A scenario's metrics are measured under its own view. Here each portfolio (every successful scenario's target,
the robust portfolio with ``--robust``, then the current portfolio and the benchmark) is scored under every
successful scenario's view (``allocator.optimize.robust.View``: its ``mu``, risk model, risk aversion ``gamma``
and trading costs):

- **expected return** ``mu_v'w`` and **volatility** ``sqrt(w'Sigma_v w)`` (annualized, fractions of NAV);
- **utility** ``mu_v'w - (gamma_v/2) w'Sigma_v w - kappa_v'|w - w0|``: the objective a run of view ``v``'s config
  maximizes (``problem.utility``), so the diagonal is each scenario's own optimum, and the trading cost of moving
  the account there (``cost``, 0 for the current portfolio) is counted as every run counts it.

A portfolio's **worst case** is its smallest utility over the views and the view that gives it; the robust
portfolio maximizes that worst case under the base scenario's limits. Weights are matched to a view's assets by
symbol (an asset a view does not model counts 0 there; holdings outside the universe are not scored, as in the
metrics). Plain data: the files, the terminal and the chart render it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from allocator.compare.robust import ROBUST, RobustOutcome, view_of
from allocator.compare.scenarios import Comparison
from allocator.domain import FloatArray
from allocator.optimize.robust import View

CURRENT = "current"
BENCHMARK = "benchmark"


@dataclass(frozen=True)
class ViewCell:
    """One portfolio under one view (annualized fractions of NAV)."""

    expected_return: float
    volatility: float
    cost: float
    utility: float


@dataclass(frozen=True)
class PortfolioViews:
    """One portfolio's row: ``kind`` is ``scenario``, ``robust``, ``current`` or ``benchmark``; ``cells`` follow
    ``ViewMatrix.views``."""

    name: str
    kind: str
    cells: tuple[ViewCell, ...]
    worst_view: str
    worst_utility: float


@dataclass(frozen=True)
class ViewMatrix:
    """Rows: portfolios; columns: the successful scenarios' views, in the order given."""

    views: tuple[str, ...]
    rows: tuple[PortfolioViews, ...]

    def row(self, name: str) -> PortfolioViews:
        return next(r for r in self.rows if r.name == name)

    def cell(self, portfolio: str, view: str) -> ViewCell:
        return self.row(portfolio).cells[self.views.index(view)]


def aligned(symbols: tuple[str, ...], weight: FloatArray, view: View) -> FloatArray:
    """``weight`` (over ``symbols``) over the view's assets: matched by symbol, 0 where it holds none."""
    if symbols == view.symbols:
        return weight
    position = {s: i for i, s in enumerate(symbols)}
    return np.array([weight[position[s]] if s in position else 0.0 for s in view.symbols], dtype=np.float64)


def score(view: View, symbols: tuple[str, ...], weight: FloatArray) -> ViewCell:
    """``weight`` (over ``symbols``) under ``view``."""
    w = aligned(symbols, weight, view)
    expected = float(view.mu @ w)
    variance = view.risk.variance(w)
    utility = view.utility(w)
    return ViewCell(expected_return=expected, volatility=float(np.sqrt(max(variance, 0.0))),
                    cost=expected - 0.5 * view.gamma * variance - utility, utility=utility)


def _row(name: str, kind: str, views: list[View], symbols: tuple[str, ...], weight: FloatArray) -> PortfolioViews:
    cells = tuple(score(view, symbols, weight) for view in views)
    worst = min(range(len(cells)), key=lambda i: cells[i].utility)
    return PortfolioViews(name, kind, cells, views[worst].name, cells[worst].utility)


def view_matrix(comparison: Comparison, robust: RobustOutcome | None = None) -> ViewMatrix:
    """The matrix of ``comparison`` (robust row from ``robust``, else from ``comparison.robust``)."""
    robust = robust if robust is not None else comparison.robust
    scenarios = [(o.name, o.result) for o in comparison.succeeded if o.result is not None]
    views = [view_of(name, result) for name, result in scenarios]
    rows = [_row(name, "scenario", views, r.universe.symbols, r.allocation.weight) for name, r in scenarios]
    if robust is not None:
        r = robust.result
        rows.append(_row(ROBUST, "robust", views, r.universe.symbols, r.allocation.weight))
    base = scenarios[0][1].universe
    rows.append(_row(CURRENT, "current", views, base.symbols, base.weight))
    rows.append(_row(BENCHMARK, "benchmark", views, base.symbols, base.benchmark_weight))
    return ViewMatrix(views=tuple(v.name for v in views), rows=tuple(rows))
