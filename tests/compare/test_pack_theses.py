"""The scenario pack holds together: each scenario does what its config's header says it expects.

A portfolio manager reads the pack side by side; a bearish scenario that shows the best expected return, or a
profit-taking stance that adds to small caps, would be a wrong model even with every other test green.
"""

from __future__ import annotations

import numpy as np
import pytest

from allocator.compare.scenarios import Comparison, compare
from allocator.optimize.constraints import turnover
from allocator.optimize.problem import ProblemCache
from allocator.pipeline import RunResult
from tests.conftest import EXAMPLE_HOLDINGS, ROOT

SCENARIOS = ROOT / "configs" / "scenarios"
SMALL_CAPS = ("IWM", "IJR", "IWN", "IWO", "VB")


@pytest.fixture(scope="module")
def pack() -> dict[str, RunResult]:
    comparison: Comparison = compare(EXAMPLE_HOLDINGS, sorted(SCENARIOS.glob("*.yaml")), cache=ProblemCache())
    results = {o.name: o.result for o in comparison.outcomes}
    assert all(r is not None for r in results.values()), [o.reason for o in comparison.outcomes]
    return {name: r for name, r in results.items() if r is not None}


def _weight(result: RunResult, symbols: tuple[str, ...], current: bool = False) -> float:
    index = [result.universe.symbols.index(s) for s in symbols]
    weights = result.universe.weight if current else result.allocation.weight
    return float(weights[index].sum())


def _bonds(result: RunResult) -> float:
    bonds = np.array(result.universe.asset_class) == "bond"
    return float(result.allocation.weight[bonds].sum())


def _benchmark_return(result: RunResult) -> float:
    return float(result.universe.benchmark_weight @ result.returns.mu)


def test_every_scenario_header_states_what_it_expects() -> None:
    for path in SCENARIOS.glob("*.yaml"):
        header = path.read_text().split("extends:")[0]
        assert "Thesis:" in header and "Expect" in header, path.name


def test_goldilocks_has_the_best_benchmark_return_and_does_not_dodge_the_rsi_rule(pack: dict[str, RunResult]
                                                                                  ) -> None:
    goldilocks = pack["goldilocks"]
    best = max(pack, key=lambda name: _benchmark_return(pack[name]))
    assert _benchmark_return(goldilocks) == pytest.approx(_benchmark_return(pack[best]), abs=1e-12)
    u, w = goldilocks.universe, goldilocks.allocation.weight
    iwm = u.symbols.index("IWM")
    assert w[iwm] < u.weight[iwm]
    held = {r.symbol for r in goldilocks.rsi.rules if r.rule in ("rsi_correlated", "rsi_no_add")}
    assert {"IJR", "IWN", "IWO", "VB"} <= held, "IWM's substitutes are overbought or held as its correlates"
    for symbol in held:
        i = u.symbols.index(symbol)
        assert w[i] <= u.weight[i] + 1e-9, symbol
    # the signals still favour small caps: without the rule, the optimizer would rotate into the substitutes
    assert goldilocks.returns.alpha[u.symbols.index("IWN")] > 0


def test_growth_scare_cuts_small_caps_and_adds_duration(pack: dict[str, RunResult]) -> None:
    scare, goldilocks = pack["growth_scare"], pack["goldilocks"]
    assert _benchmark_return(scare) < _benchmark_return(goldilocks)
    assert _weight(scare, SMALL_CAPS) < _weight(scare, SMALL_CAPS, current=True)
    assert _bonds(scare) > _bonds(goldilocks)


def test_hawkish_lowers_the_benchmark_and_cuts_small_caps_and_duration(pack: dict[str, RunResult]) -> None:
    hawkish = pack["hawkish_pivot"]
    assert _benchmark_return(hawkish) == pytest.approx(min(_benchmark_return(r) for r in pack.values()), abs=1e-12)
    assert _weight(hawkish, SMALL_CAPS) < _weight(hawkish, SMALL_CAPS, current=True)
    assert _weight(hawkish, ("TLT",)) < _weight(hawkish, ("TLT",), current=True)


def test_overbought_pullback_buys_no_overbought_fund(pack: dict[str, RunResult]) -> None:
    pullback = pack["overbought_pullback"]
    overbought = {r.symbol for r in pullback.rsi.rules if r.rule in ("rsi_trim", "rsi_no_add")}
    assert set(SMALL_CAPS) <= overbought, "the whole small-cap block is caught at RSI 65"
    for symbol in overbought:
        i = pullback.universe.symbols.index(symbol)
        assert pullback.allocation.weight[i] <= pullback.universe.weight[i] + 1e-9, symbol
    assert _weight(pullback, SMALL_CAPS) <= _weight(pullback, SMALL_CAPS, current=True) + 1e-9
    rsi = pullback.config.rsi
    for symbol in set(SMALL_CAPS) & {r.symbol for r in pullback.rsi.rules if r.rule == "rsi_trim"}:
        i = pullback.universe.symbols.index(symbol)
        w0 = pullback.universe.weight[i]
        assert (1 - rsi.max_trim) * w0 - 1e-9 <= pullback.allocation.weight[i] <= (1 - rsi.min_trim) * w0 + 1e-9


def test_profit_taking_does_not_raise_small_caps(pack: dict[str, RunResult]) -> None:
    taking = pack["profit_taking"]
    assert _weight(taking, SMALL_CAPS) <= _weight(taking, SMALL_CAPS, current=True) + 1e-6
    assert turnover(taking.limits, taking.allocation.weight, taking.allocation.cash_weight) <= 0.10 + 1e-6
