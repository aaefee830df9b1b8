"""The efficient frontier under the account's limits: every point satisfies every limit (numpy check), no portfolio
within the limits lies above it (the target included), both curves come from one compiled problem; the command's
files and errors."""

from __future__ import annotations

import csv
import itertools
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from click.testing import Result

from allocator.optimize.families import violations
from allocator.optimize.problem import ProblemCache
from allocator.pipeline import Prepared, prepare
from allocator.report.frontier import CURVES, Frontier, efficient_frontier, risk_aversion_grid
from tests.conftest import BASE_CONFIG, EXAMPLE_HOLDINGS
from tests.helpers import write_config

TOL = 1e-6


@pytest.fixture(scope="module")
def prepared() -> Prepared:
    return prepare(EXAMPLE_HOLDINGS, BASE_CONFIG)


@pytest.fixture(scope="module")
def frontier(prepared: Prepared) -> Frontier:
    return efficient_frontier(prepared, risk_aversion_grid(prepared.config.risk.risk_aversion, 15), ProblemCache())


def test_every_point_satisfies_every_limit_of_the_config(prepared: Prepared, frontier: Frontier) -> None:
    assert len(frontier.points) == 2 * 16  # 15 log-spaced risk aversions and the config's 2.5, on both curves
    for point in frontier.points:
        assert point.weight is not None
        found = violations(prepared.limits, prepared.risk, point.weight, point.cash_weight)
        assert max(found.values()) <= prepared.config.solver.feasibility_tolerance, (point.curve, found)
        # the point's numbers, recomputed with numpy
        w, mu = point.weight, prepared.returns.mu
        assert point.expected_return == pytest.approx(float(mu @ w), abs=1e-12)
        assert point.volatility == pytest.approx(float(np.sqrt(prepared.risk.variance(w))), abs=1e-12)


def test_the_target_lies_on_or_below_the_frontier_at_its_risk(frontier: Frontier) -> None:
    target = frontier.mark("target")
    assert target is not None
    for curve in CURVES:
        ceiling = frontier.ceiling(curve, target.risk(curve))
        assert target.net_return <= ceiling + TOL, curve
    # the target maximizes the utility at the config's risk aversion, a point of the volatility curve: it is on it
    assert frontier.ceiling("volatility", target.volatility) == pytest.approx(target.net_return, abs=TOL)


def test_along_each_curve_more_risk_aversion_means_less_risk_and_return(frontier: Frontier) -> None:
    for curve in CURVES:
        points = frontier.curve(curve)
        risks = [p.risk(curve) for p in points]
        returns = [p.net_return for p in points]
        assert all(a >= b - TOL for a, b in itertools.pairwise(risks)), curve
        assert all(a >= b - TOL for a, b in itertools.pairwise(returns)), curve
        assert risks[0] > risks[-1] + 0.005, f"{curve}: the grid spans a range of risk"


def test_both_curves_and_the_target_share_one_compiled_problem(frontier: Frontier) -> None:
    assert frontier.compiled_problems == 1
    assert frontier.solves == len(frontier.points) + 1  # every point, and the target


def test_a_feasible_portfolio_off_the_frontier_lies_below_it(prepared: Prepared, frontier: Frontier) -> None:
    """Mixes of frontier points are feasible (the limits are convex); none rises above the frontier."""
    points = frontier.curve("volatility")
    limits, risk, mu = prepared.limits, prepared.risk, prepared.returns.mu
    from allocator.optimize.objectives import trading_cost

    for a, b in zip(points[::3], points[1::3], strict=False):
        assert a.weight is not None and b.weight is not None
        mix = 0.5 * (a.weight + b.weight)
        assert max(violations(limits, risk, mix, 0.5 * (a.cash_weight + b.cash_weight)).values()) <= 1e-6
        net = float(mu @ mix) - trading_cost(limits, mix)
        assert net <= frontier.ceiling("volatility", float(np.sqrt(risk.variance(mix)))) + TOL


def test_frontier_writes_its_files_and_the_page_reads_them(tmp_path: Path, cli: Callable[..., Result]) -> None:
    out = tmp_path / "frontier"
    result = cli("frontier", EXAMPLE_HOLDINGS, "-c", BASE_CONFIG, "-o", out, "--points", "6")
    assert result.exit_code == 0, result.stderr
    assert sorted(p.name for p in out.iterdir()) == ["frontier.csv", "frontier.json", "frontier.png", "manifest.json"]
    rows = list(csv.DictReader((out / "frontier.csv").open()))
    assert [r["portfolio"] for r in rows[-3:]] == ["current", "benchmark", "target"]
    assert {r["curve"] for r in rows[:-3]} == set(CURVES) and len(rows) == 2 * 7 + 3
    assert (out / "frontier.png").read_bytes().startswith(b"\x89PNG")
    assert "frontier as of 2026-01-16: 14 points (1 compiled problem served" in result.stdout
    page = cli("report", out)
    assert page.exit_code == 0, page.stderr
    assert 'data-kind="frontier"' in (out / "report.html").read_text()


def test_frontier_refuses_a_backwards_range_and_reports_infeasible_limits(example_copy: Path,
                                                                          cli: Callable[..., Result]) -> None:
    backwards = cli("frontier", EXAMPLE_HOLDINGS, "-c", BASE_CONFIG, "--risk-aversion-range", "5", "1")
    assert backwards.exit_code == 2
    assert "--risk-aversion-range: the lowest (5) must be below the highest (1)" in backwards.stderr
    config = write_config(example_copy, "extends: base.yaml\nconstraints: {cash_min: 0.5, cash_max: 0.05}\n")
    conflict = cli("frontier", example_copy / "examples/holdings.csv", "-c", config)
    assert conflict.exit_code in (3, 5), conflict.stderr
    assert conflict.stderr.startswith("Error: ")
