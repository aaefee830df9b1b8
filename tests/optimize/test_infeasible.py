"""Infeasible limits: each conflict is named with the smallest relaxation, checked against a bisection.

Every case overrides configs/base.yaml on the example account. The "true minimum" is found independently: the
named limit is bisected (with every other limit as configured) for the loosest value at which the problem is
still infeasible, to 1e-6, and the diagnosis must agree within 1e-4.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
from click.testing import Result

from allocator.config.loader import load_config
from allocator.errors import InfeasibleError, SolverError
from allocator.inputs.market_data import read_fundamentals, read_prices
from allocator.optimize.problem import ProblemCache
from allocator.pipeline import optimize_prepared, prepare
from tests.helpers import write_config

NO_GROUPS = """
  active_min: null
  active_max: null
  tracking_error_max: null
  turnover_max: null
"""
# The cases are about other families: the RSI rule holds the overbought fund only (the base's correlated scope
# would also cap its substitutes at their current weights and change the sums the messages name).
ASSET_RSI = "rsi: {scope: asset, release: 70}\n"  # IWM alone is overbought: no correlates, no hysteresis
LOOSE = """
  active_min: null
  active_max: null
  groups: []
  tracking_error_max: null
  turnover_max: null
"""


def _asset_rsi(text: str) -> str:
    return text if "rsi:" in text else ASSET_RSI + text


@dataclass(frozen=True)
class Case:
    """An infeasible config, the families its message must name, and how to bisect the relaxed limit."""

    name: str
    overrides: str
    names: tuple[str, ...]
    relaxed_key: str
    template: str  # the overrides with {x} in place of the relaxed limit's value
    looser: str  # "up" when a larger value is looser (a maximum), "down" for a minimum
    bracket: tuple[float, float]
    presolve: bool


CASES = [
    Case("position caps cannot reach the invested budget",
         "constraints:\n  max_weight: 0.04\n  relaxation_cost: {position: 10}\n" + LOOSE,
         ("the per-asset caps add up to 0.8000", "constraints.cash_max"), "constraints.cash_max",
         "constraints:\n  max_weight: 0.04\n  cash_max: {x}\n" + LOOSE, "up", (0.05, 0.6), True),
    Case("group minimums exceed the budget",
         "constraints:\n  groups:\n    - {by: asset_class, name: bond, min: 1.0}\n" + NO_GROUPS,
         ("the group minimums by asset_class add up to 1.0000, more than the 0.9900",
          "constraints.groups[0].min 1 is too tight for asset_class bond"), "constraints.groups[0].min",
         "constraints:\n  groups:\n    - {by: asset_class, name: bond, min: {x}}\n" + NO_GROUPS,
         "down", (0.5, 1.0), True),
    Case("group maximums cannot hold the budget",
         "constraints:\n  groups:\n    - {by: asset_class, name: equity, max: 0.5}\n"
         "    - {by: asset_class, name: bond, max: 0.3}\n    - {by: asset_class, name: commodity, max: 0.1}\n"
         "  active_min: null\n  active_max: null\n  tracking_error_max: null\n  turnover_max: null\n"
         "  relaxation_cost: {groups: 10}\n",
         ("the group maximums by asset_class", "constraints.cash_max"), "constraints.cash_max",
         "constraints:\n  groups:\n    - {by: asset_class, name: equity, max: 0.5}\n"
         "    - {by: asset_class, name: bond, max: 0.3}\n    - {by: asset_class, name: commodity, max: 0.1}\n"
         "  active_min: null\n  active_max: null\n  tracking_error_max: null\n  turnover_max: null\n"
         "  cash_max: {x}\n", "up", (0.05, 0.5), True),
    Case("a minimum above a maximum",
         "constraints:\n  position_limits: {XLE: {min: 0.05}}\n  active_max: 0.03\n",
         ("XLE: constraints.position_limits.XLE.min 0.05 requires a weight of at least 0.0500",
          "constraints.active_max 0.03 is too tight for XLE"), "constraints.active_max",
         "constraints:\n  position_limits: {XLE: {min: 0.05}}\n  active_max: {x}\n", "up", (0.03, 0.2), True),
    Case("active limits no long-only portfolio can meet",
         "constraints:\n  active_limits: {XLE: {max: -0.02}}\n",
         ("XLE: constraints.min_weight 0 requires a weight of at least 0.0000",
          "constraints.active_limits.XLE.max -0.02 is too tight for XLE"), "constraints.active_limits.XLE.max",
         "constraints:\n  active_limits: {XLE: {max: {x}}}\n", "up", (-0.02, 0.05), True),
    Case("turnover too tight for the RSI trim",
         "constraints: {turnover_max: 0.005}\n",
         ("the limits on IWM force at least 0.0070 of turnover", "constraints.turnover_max 0.005 is too tight"),
         "constraints.turnover_max", "constraints: {turnover_max: {x}}\n", "up", (0.0, 0.2), True),
    Case("turnover too tight to sell the holdings outside the universe",
         "universe:\n  symbols: [SPY, QQQ, IJH, VO, IWM, IJR, IWN, IWO, VB, XLK, XLF, XLE, XLV, XLI, EFA, EEM, AGG, "
         "TLT, IEF]\n  outside_holdings: sell\nconstraints: {turnover_max: 0.02}\n",
         ("selling the holdings outside the universe", "constraints.turnover_max 0.02 is too tight"),
         "constraints.turnover_max",
         "universe:\n  symbols: [SPY, QQQ, IJH, VO, IWM, IJR, IWN, IWO, VB, XLK, XLF, XLE, XLV, XLI, EFA, EEM, AGG, "
         "TLT, IEF]\n  outside_holdings: sell\nconstraints: {turnover_max: {x}}\n", "up", (0.0, 0.5), True),
    Case("cash floor the holdings cannot reach",
         "universe:\n  symbols: [QQQ, IJH, VO, IWM, IJR, IWN, IWO, VB, XLK, XLF, XLE, XLV, XLI, EFA, EEM, AGG, TLT, "
         "IEF, GLD]\nbenchmark: {weights: {AGG: 0.5, EFA: 0.5}}\nrsi: {enabled: false}\n"
         "constraints:\n  cash_min: 0.75\n  cash_max: 0.8\n" + LOOSE,
         ("constraints.cash_min 0.75 cannot be reached", "constraints.cash_min 0.75 is too tight"),
         "constraints.cash_min",
         "universe:\n  symbols: [QQQ, IJH, VO, IWM, IJR, IWN, IWO, VB, XLK, XLF, XLE, XLV, XLI, EFA, EEM, AGG, TLT, "
         "IEF, GLD]\nbenchmark: {weights: {AGG: 0.5, EFA: 0.5}}\nrsi: {enabled: false}\n"
         "constraints:\n  cash_min: {x}\n  cash_max: 0.8\n" + LOOSE, "down", (0.5, 0.75), True),
    Case("tracking error against active limits",
         "constraints:\n  active_limits: {IWN: {min: 0.06}}\n  tracking_error_max: 0.001\n  turnover_max: null\n",
         ("constraints.tracking_error_max 0.001 is too tight", "held against:",
          "constraints.active_limits.IWN.min 0.06 (IWN)"), "constraints.tracking_error_max",
         "constraints:\n  active_limits: {IWN: {min: 0.06}}\n  tracking_error_max: {x}\n  turnover_max: null\n",
         "up", (0.001, 0.2), False),
    Case("RSI trim and a bond floor against turnover",
         "constraints:\n  turnover_max: 0.02\n  groups:\n    - {by: asset_class, name: bond, min: 0.40}\n",
         ("constraints.turnover_max 0.02 is too tight", "constraints.groups[0].min 0.4 (asset_class bond)"),
         "constraints.turnover_max",
         "constraints:\n  turnover_max: {x}\n  groups:\n    - {by: asset_class, name: bond, min: 0.40}\n",
         "up", (0.0, 0.6), False),
    Case("group bounds against position caps",
         "constraints:\n  position_limits: {IJH: {max: 0.05}, VO: {max: 0.05}, IWM: {max: 0.05}, IJR: {max: 0.05}, "
         "IWN: {max: 0.05}, IWO: {max: 0.05}, VB: {max: 0.05}}\n"
         "  groups:\n    - {by: asset_class, name: equity, min: 0.70}\n"
         "    - {by: size_bucket, name: large, max: 0.30, relaxation_cost: 10}\n" + NO_GROUPS,
         ("constraints.groups[0].min 0.7 is too tight for asset_class equity",
          "constraints.groups[1].max 0.3 (size_bucket large)"), "constraints.groups[0].min",
         "constraints:\n  position_limits: {IJH: {max: 0.05}, VO: {max: 0.05}, IWM: {max: 0.05}, IJR: {max: 0.05}, "
         "IWN: {max: 0.05}, IWO: {max: 0.05}, VB: {max: 0.05}}\n"
         "  groups:\n    - {by: asset_class, name: equity, min: {x}}\n"
         "    - {by: size_bucket, name: large, max: 0.30}\n" + NO_GROUPS,
         "down", (0.3, 0.7), False),
    Case("cash floor against the budget",
         "constraints:\n  cash_min: 0.30\n  cash_max: 0.5\n  active_min: -0.05\n  active_max: null\n"
         "  groups:\n    - {by: size_bucket, name: small, min: 0.25}\n  tracking_error_max: null\n"
         "  turnover_max: null\n  relaxation_cost: {cash: 0.5}\n",
         ("constraints.cash_min 0.3 is too tight: needs at most", "constraints.groups[0].min 0.25 (size_bucket small)"),
         "constraints.cash_min",
         "constraints:\n  cash_min: {x}\n  cash_max: 0.5\n  active_min: -0.05\n  active_max: null\n"
         "  groups:\n    - {by: size_bucket, name: small, min: 0.25}\n  tracking_error_max: null\n"
         "  turnover_max: null\n", "down", (0.0, 0.3), False),
]


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, pd.DataFrame, pd.DataFrame]:
    import shutil

    from tests.conftest import ROOT

    folder = tmp_path_factory.mktemp("account")
    for name in ("examples", "configs"):
        shutil.copytree(ROOT / name, folder / name)
    base = load_config(folder / "configs" / "base.yaml").config
    return folder, read_prices(base.data.prices), read_fundamentals(base.data.fundamentals)


def _feasible(folder: Path, prices: pd.DataFrame, fundamentals: pd.DataFrame, text: str, cache: ProblemCache
              ) -> bool:
    config = write_config(folder, "extends: base.yaml\n" + _asset_rsi(text), "bisect.yaml")
    prepared = prepare(folder / "examples" / "holdings.csv", config, prices=prices, fundamentals=fundamentals)
    try:
        optimize_prepared(prepared, cache)
    except InfeasibleError:
        return False
    except SolverError:  # within the bisection's 1e-6 of the threshold a solver may fail on the knife edge
        return False
    return True


def true_minimum(case: Case, folder: Path, prices: pd.DataFrame, fundamentals: pd.DataFrame) -> float:
    """The loosest infeasible / tightest feasible value of the relaxed limit, by bisection to 1e-6."""
    cache = ProblemCache()
    tight, loose = case.bracket if case.looser == "up" else case.bracket[::-1]
    check = lambda x: _feasible(folder, prices, fundamentals, case.template.replace("{x}", f"{x:.9f}"), cache)  # noqa: E731
    assert not check(tight) and check(loose), f"{case.name}: the bracket does not straddle the threshold"
    while abs(loose - tight) > 1e-6:
        middle = (tight + loose) / 2
        if check(middle):
            loose = middle
        else:
            tight = middle
    return (tight + loose) / 2


@pytest.mark.slow
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_conflict_is_named_with_its_smallest_relaxation(case: Case, inputs: tuple[Path, pd.DataFrame, pd.DataFrame],
                                                        cli: Callable[..., Result], tmp_path: Path) -> None:
    folder, prices, fundamentals = inputs
    config = write_config(folder, "extends: base.yaml\n" + _asset_rsi(case.overrides), "case.yaml")
    prepared = prepare(folder / "examples" / "holdings.csv", config, prices=prices, fundamentals=fundamentals)
    assert bool(prepared.presolve_conflicts) == case.presolve, prepared.presolve_conflicts
    out = tmp_path / "out"
    result = cli("run", folder / "examples" / "holdings.csv", "-c", config, "-o", out)
    assert result.exit_code == 5, result.output
    assert "Traceback" not in result.output
    message = result.stderr
    assert message.startswith(f"Error: {config}: the limits cannot all hold")
    for fragment in case.names:
        assert fragment in message, (fragment, message)
    assert sorted(p.name for p in out.iterdir()) == ["diagnosis.json"], "only the diagnosis is written"
    diagnosis = json.loads((out / "diagnosis.json").read_text())
    relaxed = [r for r in diagnosis["relaxations"] if r["key"] == case.relaxed_key]
    assert len(relaxed) == 1, diagnosis["relaxations"]
    expected = true_minimum(case, folder, prices, fundamentals)
    assert relaxed[0]["needed"] == pytest.approx(expected, abs=1e-4)
    assert f"{case.relaxed_key} " in message and f"{relaxed[0]['needed']:.4f}" in message


@pytest.mark.slow
def test_relax_trades_on_the_relaxation_the_diagnosis_named(inputs: tuple[Path, pd.DataFrame, pd.DataFrame],
                                                            cli: Callable[..., Result], tmp_path: Path) -> None:
    folder = inputs[0]
    case = next(c for c in CASES if c.name == "RSI trim and a bond floor against turnover")
    config = write_config(folder, "extends: base.yaml\n" + _asset_rsi(case.overrides), "relax.yaml")
    diagnosed = cli("run", folder / "examples" / "holdings.csv", "-c", config, "-o", tmp_path / "diag")
    named = json.loads((tmp_path / "diag" / "diagnosis.json").read_text())["relaxations"]
    assert diagnosed.exit_code == 5
    out = tmp_path / "relaxed"
    result = cli("run", folder / "examples" / "holdings.csv", "-c", config, "-o", out, "--relax")
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "summary.json").read_text())
    manifest = json.loads((out / "manifest.json").read_text())
    described = [line for line in diagnosed.stderr.splitlines() if "is too tight: needs" in line]
    assert summary["relaxations"] == manifest["relaxations"] == [line.removeprefix("  - ") for line in described]
    turnover = summary["target"]["turnover"]
    needed = next(r["needed"] for r in named if r["key"] == "constraints.turnover_max")
    assert turnover == pytest.approx(needed, abs=1e-5), "the relaxed limit binds at the diagnosed value"
    weights = pd.read_csv(out / "weights.csv").set_index("symbol")
    bonds = weights.loc[["AGG", "TLT", "IEF"], "target_weight"].sum()
    assert bonds >= 0.40 - 1e-6, "limits the diagnosis did not name still hold"
    assert "Relaxed limits:" in result.stdout
