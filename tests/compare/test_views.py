"""Every portfolio under every view, and the robust portfolio: the matrix's diagonal is each scenario's own numbers,
off the diagonal a portfolio is scored under another view, the worst case is the smallest utility, and the robust
portfolio's worst case is at least that of every scenario portfolio and every mix of them that its limits allow."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from allocator.compare.robust import view_of
from allocator.compare.scenarios import Comparison, compare
from allocator.compare.tables import ComparisonTables, comparison_tables
from allocator.compare.views import ViewMatrix
from allocator.optimize.families import violations
from allocator.optimize.problem import ProblemCache, solve_allocation
from allocator.optimize.robust import View, solve_robust, worst_case
from allocator.outputs.summary import summarize
from allocator.pipeline import RunResult
from tests.conftest import EXAMPLE_HOLDINGS, ROOT

SCENARIOS = ROOT / "configs" / "scenarios"
TOL = 1e-9


@pytest.fixture(scope="module")
def pack() -> Comparison:
    return compare(EXAMPLE_HOLDINGS, sorted(SCENARIOS.glob("*.yaml")), cache=ProblemCache(), robust=True)


@pytest.fixture(scope="module")
def tables(pack: Comparison) -> ComparisonTables:
    return comparison_tables(pack)


@pytest.fixture(scope="module")
def matrix(tables: ComparisonTables) -> ViewMatrix:
    return tables.views


def _results(pack: Comparison) -> list[tuple[str, RunResult]]:
    return [(o.name, o.result) for o in pack.succeeded if o.result is not None]


def test_rows_are_every_portfolio_and_columns_every_view(pack: Comparison, matrix: ViewMatrix) -> None:
    names = [name for name, _ in _results(pack)]
    assert list(matrix.views) == names and len(names) >= 2
    assert [r.name for r in matrix.rows] == [*names, "robust", "current", "benchmark"]
    assert [r.kind for r in matrix.rows] == ["scenario"] * len(names) + ["robust", "current", "benchmark"]
    assert all(len(r.cells) == len(names) for r in matrix.rows)


def test_the_diagonal_is_each_scenario_s_own_expected_return_and_objective(pack: Comparison,
                                                                           matrix: ViewMatrix) -> None:
    for name, result in _results(pack):
        cell = matrix.cell(name, name)
        summary = summarize(result)
        assert abs(cell.expected_return - summary.target.expected_return) <= TOL, name
        assert abs(cell.volatility - summary.target.volatility) <= TOL, name
        assert abs(cell.utility - result.allocation.objective) <= TOL, name


def test_off_the_diagonal_a_portfolio_is_scored_under_the_other_view(pack: Comparison, matrix: ViewMatrix) -> None:
    results = dict(_results(pack))
    differs = 0
    for portfolio, own in results.items():
        w = own.allocation.weight
        for view_name, other in results.items():
            cell = matrix.cell(portfolio, view_name)
            variance = other.risk.variance(w)
            gamma = other.config.risk.risk_aversion
            cost = float(other.limits.cost @ np.abs(w - other.limits.current))
            assert abs(cell.expected_return - float(other.returns.mu @ w)) <= TOL
            assert abs(cell.utility - (float(other.returns.mu @ w) - 0.5 * gamma * variance - cost)) <= TOL
            assert abs(cell.cost - cost) <= TOL
            differs += abs(cell.expected_return - matrix.cell(portfolio, portfolio).expected_return) > 1e-6
        # a scenario's own portfolio is the best there is under its own view (among portfolios its limits allow)
    assert differs > 0, "the views disagree somewhere, so some off-diagonal cell differs from the diagonal"
    for row in matrix.rows:
        if row.kind == "current":
            assert all(abs(c.cost) <= TOL for c in row.cells), "holding on costs nothing"


def test_worst_case_is_the_smallest_utility_and_names_its_view(matrix: ViewMatrix) -> None:
    for row in matrix.rows:
        utilities = [c.utility for c in row.cells]
        assert row.worst_utility == min(utilities)
        assert matrix.views[utilities.index(min(utilities))] == row.worst_view


def test_robust_worst_case_is_at_least_every_scenario_portfolio_s(pack: Comparison, matrix: ViewMatrix) -> None:
    assert pack.robust is not None
    base = _results(pack)[0][1]
    robust = matrix.row("robust")
    assert abs(robust.worst_utility - pack.robust.worst_utility) <= TOL
    robust_weight = pack.robust.result.allocation.weight
    found = violations(base.limits, base.risk, robust_weight, pack.robust.result.allocation.cash_weight)
    assert max(found.values(), default=0.0) <= base.config.solver.feasibility_tolerance, "the base limits hold"
    compared = 0
    for name, result in _results(pack):
        alloc = result.allocation
        feasible = max(violations(base.limits, base.risk, alloc.weight, alloc.cash_weight).values(), default=0.0)
        if feasible > base.config.solver.feasibility_tolerance:
            continue  # a portfolio the base limits forbid may do better; the robust one is held to them
        compared += 1
        assert robust.worst_utility >= matrix.row(name).worst_utility - TOL, name
    assert compared >= 2, "the base scenario and at least one other are feasible under the base limits"


def test_robust_beats_every_mix_of_the_scenario_portfolios(pack: Comparison) -> None:
    """Mixes of portfolios that satisfy the (convex) base limits satisfy them too, so none may beat the robust
    portfolio's worst case."""
    assert pack.robust is not None
    results = _results(pack)
    views = [view_of(name, result) for name, result in results]
    best = pack.robust.worst_utility
    weights = [r.allocation.weight for _, r in results]
    for i in range(len(weights)):
        for j in range(i + 1, len(weights)):
            for share in np.linspace(0.0, 1.0, 11):
                mix = share * weights[i] + (1.0 - share) * weights[j]
                assert worst_case(views, mix)[0] <= best + 1e-8, (i, j, share)


def _opposed_views(result: RunResult, risk_scale: float = 1.0) -> list[View]:
    """Two views that disagree: the scenario's own and one with every expected return reversed (with
    ``risk_scale`` != 1, the second view also has its own, riskier, risk model)."""
    own = view_of("own", result)
    risk = result.risk
    if risk_scale != 1.0:
        risk = dataclasses.replace(risk, factor_sqrt=risk.factor_sqrt * risk_scale,
                                   specific_variance=risk.specific_variance * risk_scale**2, covariance=None)
    return [own, dataclasses.replace(own, name="reversed", mu=-result.returns.mu, risk=risk)]


@pytest.mark.parametrize("risk_scale", [1.0, 1.5])
def test_robust_hedges_two_opposed_views(pack: Comparison, risk_scale: float) -> None:
    base = _results(pack)[0][1]
    views = _opposed_views(base, risk_scale)
    gamma = base.config.risk.risk_aversion
    robust = solve_robust(base.limits, base.risk, gamma, views, base.config.solver)
    worst, _ = worst_case(views, robust.allocation.weight)
    assert abs(worst - robust.allocation.objective) <= TOL
    assert abs(robust.solver_bound - worst) <= 1e-8, "the epigraph rows are the utilities numpy recomputes"
    assert robust.utilities == {v.name: v.utility(robust.allocation.weight) for v in views}
    singles, margins = [], []
    for view in views:
        single = solve_allocation(base.limits, view.mu, view.risk, gamma, base.config.solver, ProblemCache())
        singles.append(single.weight)
        margins.append(worst - worst_case(views, single.weight)[0])
    assert min(margins) >= -TOL, "at least as good as each view's own optimum"
    assert max(margins) > 1e-3, "and far better than the optimum of the view that ignores the other"
    for share in np.linspace(0.0, 1.0, 21):
        mix = share * singles[0] + (1.0 - share) * singles[1]
        assert worst >= worst_case(views, mix)[0] - TOL, share


def test_robust_needs_views_on_the_base_assets(pack: Comparison) -> None:
    base = _results(pack)[0][1]
    view = view_of("other", base)
    shorter = dataclasses.replace(view, symbols=view.symbols[:-1])
    with pytest.raises(ValueError, match="other assets"):
        solve_robust(base.limits, base.risk, 2.5, [view, shorter], base.config.solver)


def test_the_chart_draws_the_matrix(tables: ComparisonTables) -> None:
    from allocator.compare.chart import weights_figure

    figure = weights_figure(tables)
    panel = next(a for a in figure.axes if a.get_label() == "views")
    matrix = tables.views
    assert [t.get_text() for t in panel.get_yticklabels()] == [r.name for r in matrix.rows]
    assert [t.get_text() for t in panel.get_xticklabels()] == [f"view: {v}" for v in matrix.views]
    drawn = np.asarray(panel.get_images()[0].get_array())
    np.testing.assert_allclose(drawn, [[c.utility for c in r.cells] for r in matrix.rows], atol=0.0)
    texts = [t.get_text() for t in panel.texts]
    assert len(texts) == len(matrix.rows) * len(matrix.views)
    first = matrix.rows[0].cells[0]
    assert texts[0] == f"E {100 * first.expected_return:.2f}%\nU {100 * first.utility:.2f}%"
    boxed = [p for p in panel.patches if not p.get_fill()]
    assert len(boxed) == len(matrix.rows), "one worst view boxed per portfolio"


def test_the_hawkish_view_lowers_every_portfolio_s_expected_return(matrix: ViewMatrix) -> None:
    """The pack's thesis through the matrix: under the hawkish view every portfolio, the current one and the
    benchmark included, expects less than under goldilocks, and less than under the growth scare too."""
    for row in matrix.rows:
        hawkish = matrix.cell(row.name, "hawkish_pivot").expected_return
        assert hawkish < matrix.cell(row.name, "goldilocks").expected_return - 0.005, row.name
        scare = matrix.cell(row.name, "growth_scare").expected_return
        assert scare < matrix.cell(row.name, "goldilocks").expected_return, row.name
    assert {row.worst_view for row in matrix.rows} == {"hawkish_pivot"}
