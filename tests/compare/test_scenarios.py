"""Scenarios: the pack encodes its theses, one compiled problem serves them all with the answer of a fresh run,
failures stay in their column, and scenario files are found, named and read once."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from allocator.compare.scenarios import Comparison, ScenarioOutcome, ScenariosFailed, compare, scenario_specs
from allocator.compare.tables import ComparisonTables, comparison_tables
from allocator.config.loader import load_config
from allocator.errors import ConfigError, DataError, InfeasibleError, UsageError
from allocator.optimize.problem import ProblemCache
from allocator.pipeline import RunResult, run
from tests.conftest import BASE_CONFIG, EXAMPLE_HOLDINGS, SCENARIOS
from tests.helpers import write_config

PACK = ("goldilocks", "growth_scare", "hawkish_pivot", "overbought_pullback", "profit_taking")


@pytest.fixture
def pack(scenario_pack: Comparison) -> Comparison:
    """The scenario pack compared on the example (tests/conftest.py, shared by the session)."""
    return scenario_pack


@pytest.fixture
def tables(scenario_tables: ComparisonTables) -> ComparisonTables:
    return scenario_tables


def _outcome(comparison: Comparison, name: str) -> ScenarioOutcome:
    return next(o for o in comparison.outcomes if o.name == name)


def _small_cap_weight(outcome: ScenarioOutcome) -> float:
    """Recomputed from the weights and the fundamentals' size buckets, independently of the metrics module."""
    result = outcome.result
    assert result is not None, outcome.reason
    buckets = np.array(result.universe.size_bucket)
    return float(result.allocation.weight[buckets == "small"].sum())


def test_the_pack_holds_five_scenarios_that_all_succeed(pack: Comparison) -> None:
    assert pack.names == PACK
    assert [o.ok for o in pack.outcomes] == [True] * 5, [o.reason for o in pack.outcomes]
    assert pack.exit_code == 0
    for outcome in pack.outcomes:
        header = outcome.spec.path.read_text().splitlines()[0]
        assert header.startswith(f"# {outcome.name}: "), "each scenario documents its thesis in a comment header"
        assert outcome.loaded is not None and outcome.loaded.chain[-1] == BASE_CONFIG


def test_goldilocks_is_the_base_view(pack: Comparison) -> None:
    goldilocks = _outcome(pack, "goldilocks")
    assert goldilocks.result is not None
    base = run(EXAMPLE_HOLDINGS, BASE_CONFIG, cache=ProblemCache())
    macro = goldilocks.result.config.returns.macro
    assert (macro.rate_path.value, macro.inflation_mom, macro.growth.value) == ("easing", 0.0012, "steady")
    assert goldilocks.result.scores.regime == "goldilocks"
    np.testing.assert_allclose(goldilocks.result.allocation.weight, base.allocation.weight, atol=1e-8)


def test_small_cap_weight_is_highest_under_goldilocks_and_lower_when_hawkish_or_growth_scares(
        pack: Comparison) -> None:
    small = {o.name: _small_cap_weight(o) for o in pack.outcomes}
    assert small["goldilocks"] >= max(small.values()) - 1e-9, small
    # the overbought IWM holds the small caps near its trimmed weight (rsi.scope correlated); the hawkish and
    # growth-scare views sell it out
    assert small["hawkish_pivot"] < small["goldilocks"] - 0.05, small
    assert small["growth_scare"] < small["goldilocks"] - 0.05, small
    # and the regimes are the ones the theses name
    regimes = {o.name: o.result.scores.regime for o in pack.outcomes if o.result}
    assert regimes["hawkish_pivot"] == "hawkish"
    assert regimes["growth_scare"].endswith("contracting")


def test_profit_taking_turnover_stays_within_its_tighter_limit(pack: Comparison) -> None:
    outcome = _outcome(pack, "profit_taking")
    result = outcome.result
    assert result is not None
    limit = result.config.constraints.turnover_max
    base_limit = load_config(BASE_CONFIG).config.constraints.turnover_max
    assert limit is not None and base_limit is not None and limit < base_limit
    assert result.config.constraints.active_max is not None
    assert result.config.constraints.active_max < (load_config(BASE_CONFIG).config.constraints.active_max or 1.0)
    u = result.universe
    w = result.allocation.weight
    # one-way turnover net of flows: the cash above the floor is invested without counting as turnover
    inflow = max(u.cash_weight - result.config.constraints.cash_min, 0.0)

    def net_turnover(weight: np.ndarray) -> float:
        return max(np.maximum(weight - u.weight, 0).sum() - inflow, np.maximum(u.weight - weight, 0).sum(), 0.0)

    assert net_turnover(w) <= limit + 1e-6
    assert np.all(w - u.benchmark_weight <= result.config.constraints.active_max + 1e-6)
    # after rounding to whole shares the turnover moves by at most one share per traded asset
    one_share = float(sum(t.price for t in result.trades.trades)) / u.nav_value
    assert net_turnover(result.trades.achieved_weight) <= limit + one_share


def test_overbought_pullback_trims_the_overbought_fund_by_at_least_its_minimum_trim(pack: Comparison) -> None:
    result = _outcome(pack, "overbought_pullback").result
    assert result is not None
    rsi, base_rsi = result.config.rsi, load_config(BASE_CONFIG).config.rsi
    assert rsi.overbought < base_rsi.overbought and rsi.min_trim > base_rsi.min_trim
    fired = {r.symbol: r for r in result.rsi.rules if r.rule != "rsi_correlated"}
    assert set(fired) == {"IWM", "IJR", "IWN", "IWO", "VB"}, "the small-cap block rallied together"
    assert all(r.rsi >= rsi.overbought for r in fired.values())
    u = result.universe
    i = u.symbols.index("IWM")
    assert result.allocation.weight[i] <= (1.0 - rsi.min_trim) * u.weight[i] + 1e-9
    trade = next(t for t in result.trades.trades if t.symbol == "IWM")
    assert trade.side == "SELL" and trade.reason.startswith("rsi_trim(RSI 71.")
    # whole shares: the sale is the minimum trim rounded to the nearest share
    assert float(trade.quantity) >= math.floor(rsi.min_trim * float(trade.current_quantity) + 0.5)


@pytest.mark.slow
def test_every_scenario_equals_a_fresh_run_with_its_config(pack: Comparison) -> None:
    for outcome in pack.outcomes:
        shared = outcome.result
        assert shared is not None
        fresh = run(EXAMPLE_HOLDINGS, outcome.spec.path, cache=ProblemCache())
        assert not fresh.allocation.reused_problem
        # the same optimum: objective to 1e-8; weights to 1e-5, since a warm start may stop elsewhere on a flat
        # face of a degenerate optimum (growth_scare moves weight between funds at no change in utility)
        def utility(result: RunResult) -> float:
            w = result.allocation.weight
            return float(result.returns.mu @ w - 0.5 * result.config.risk.risk_aversion * result.risk.variance(w))

        assert utility(shared) == pytest.approx(utility(fresh), abs=1e-8), outcome.name
        np.testing.assert_allclose(shared.allocation.weight, fresh.allocation.weight, atol=1e-5, rtol=0,
                                   err_msg=outcome.name)
        assert abs(shared.allocation.cash_weight - fresh.allocation.cash_weight) <= 1e-5
        assert [(t.symbol, t.side, t.quantity) for t in shared.trades.trades] == [
            (t.symbol, t.side, t.quantity) for t in fresh.trades.trades], outcome.name


def test_one_compiled_problem_serves_every_scenario() -> None:
    cache = ProblemCache()
    comparison = compare(EXAMPLE_HOLDINGS, sorted(SCENARIOS.glob("*.yaml")), cache=cache)
    assert (cache.compiles, cache.solves) == (1, 5), "the five scenarios are solved on one compiled problem"
    assert (comparison.compiled_problems, comparison.reused_solves) == (1, 4)
    assert (cache.misses, cache.hits) == (1, 4)
    reused = [o.result.allocation.reused_problem for o in comparison.outcomes if o.result]
    assert reused == [False, True, True, True, True]
    assert comparison.input_files_read == 2  # prices and fundamentals, once each
    fresh = ProblemCache()
    run(EXAMPLE_HOLDINGS, SCENARIOS / "hawkish_pivot.yaml", cache=fresh)
    assert (fresh.compiles, fresh.solves) == (1, 1), "a fresh cache compiles again (the counters count)"
    assert (cache.compiles, cache.solves) == (1, 5)


def test_a_different_structure_gets_its_own_compiled_problem(example_copy: Path) -> None:
    no_turnover = write_config(example_copy, "extends: base.yaml\nconstraints: {turnover_max: null}\n", "free.yaml")
    comparison = compare(example_copy / "examples/holdings.csv",
                         [example_copy / "configs/base.yaml", no_turnover, example_copy / "configs/base.yaml"],
                         cache=ProblemCache())
    assert comparison.names == ("base", "free")  # the same file twice counts once
    assert (comparison.compiled_problems, comparison.reused_solves) == (2, 0)
    free = comparison.outcomes[1].result
    assert free is not None
    fresh = run(example_copy / "examples/holdings.csv", no_turnover, cache=ProblemCache())
    np.testing.assert_allclose(free.allocation.weight, fresh.allocation.weight, atol=1e-8, rtol=0)


def test_a_failing_scenario_is_reported_while_the_others_complete(example_copy: Path) -> None:
    configs = example_copy / "configs"
    typo = write_config(example_copy, "extends: base.yaml\nconstraints: {max_wieght: 0.3}\n", "typo.yaml")
    tight = write_config(example_copy, """extends: base.yaml
rsi: {scope: asset, release: 70}
constraints:
  tracking_error_max: 0.002
  groups: [{by: size_bucket, name: small, min: 0.15}]
""", "tight.yaml")
    orphan = write_config(example_copy, "extends: gone.yaml\n", "orphan.yaml")
    comparison = compare(example_copy / "examples/holdings.csv", [configs / "base.yaml", tight, typo, orphan],
                         cache=ProblemCache())
    assert [o.ok for o in comparison.outcomes] == [True, False, False, False]
    assert isinstance(comparison.outcomes[1].error, InfeasibleError)
    assert isinstance(comparison.outcomes[2].error, ConfigError)
    assert isinstance(comparison.outcomes[3].error, ConfigError)
    assert comparison.exit_code == 5, "the first failure's exit code"
    assert "tracking_error_max 0.002 is too tight" in comparison.outcomes[1].reason
    assert "max_wieght: unknown key; did you mean 'max_weight'?" in comparison.outcomes[2].reason
    orphan_error = comparison.outcomes[3].error
    assert orphan_error is not None and orphan_error.where.endswith("gone.yaml")
    assert "extended by" in orphan_error.what and "orphan.yaml" in orphan_error.what
    tables = comparison_tables(comparison)
    assert tables.metric("status").values == ("ok", "failed (exit 5)", "failed (exit 3)", "failed (exit 3)")
    assert tables.metric("reason").values[0] is None
    assert tables.metric("expected_return").values[1:] == (None, None, None)
    assert tables.metric("expected_return").values[0] is not None
    assert all(row.targets[1:] == (None, None, None) for row in tables.weights)


def test_when_every_scenario_fails_the_error_lists_them_all(example_copy: Path) -> None:
    typo = write_config(example_copy, "extends: base.yaml\nrisk: {modle: sample}\n", "typo.yaml")
    broken = write_config(example_copy, "extends: base.yaml\ndata: {prices: nowhere.csv}\n", "broken.yaml")
    with pytest.raises(ScenariosFailed) as caught:
        compare(example_copy / "examples/holdings.csv", [typo, broken])
    assert caught.value.exit_code == 3
    assert len(caught.value.details) == 2
    assert caught.value.details[0].startswith("typo (") and "risk.modle: unknown key" in caught.value.details[0]
    assert caught.value.details[1].startswith("broken (")
    assert "nowhere.csv: price file not found" in caught.value.details[1]
    with pytest.raises(ScenariosFailed) as data_first:
        compare(example_copy / "examples/holdings.csv", [broken, typo])
    assert data_first.value.exit_code == DataError.exit_code


def test_a_bad_as_of_is_the_command_s_error_not_each_scenario_s() -> None:
    with pytest.raises(UsageError, match="--as-of: not a date"):
        compare(EXAMPLE_HOLDINGS, [SCENARIOS / "goldilocks.yaml"], as_of="someday")


def test_globs_expand_sorted_and_names_are_unique(tmp_path: Path) -> None:
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "view.yaml").write_text("data: {}\n")
    (tmp_path / "a" / "calm.yaml").write_text("data: {}\n")
    specs = scenario_specs([str(tmp_path / "*" / "*.yaml")])
    assert [s.name for s in specs] == ["calm", "a/view", "b/view"]
    assert [s.path for s in specs] == [tmp_path / "a/calm.yaml", tmp_path / "a/view.yaml", tmp_path / "b/view.yaml"]
    literal = scenario_specs([tmp_path / "a" / "calm.yaml", str(tmp_path / "a" / "*.yaml")])
    assert [s.name for s in literal] == ["calm", "view"]
    with pytest.raises(UsageError, match=r"\*.yml: no config file matches this pattern"):
        scenario_specs([str(tmp_path / "*.yml")])


def test_a_missing_config_file_fails_its_scenario_only(tmp_path: Path) -> None:
    comparison = compare(EXAMPLE_HOLDINGS, [SCENARIOS / "goldilocks.yaml", tmp_path / "absent.yaml"],
                         cache=ProblemCache())
    assert comparison.outcomes[0].ok and not comparison.outcomes[1].ok
    assert comparison.outcomes[1].reason == "config file not found"
    assert comparison.exit_code == 3


def test_weights_table_holds_current_benchmark_and_each_target(pack: Comparison, tables: ComparisonTables) -> None:
    assert tables.scenarios == PACK
    first = pack.outcomes[0].result
    assert first is not None
    u = first.universe
    assert [r.symbol for r in tables.weights] == [*u.symbols, "CASH"]
    for column, outcome in enumerate(pack.outcomes):
        result = outcome.result
        assert result is not None
        targets = np.array([r.targets[column] for r in tables.weights])
        np.testing.assert_array_equal(targets[:-1], result.allocation.weight)
        assert abs(targets.sum() - 1.0) < 1e-9
    np.testing.assert_array_equal([r.current for r in tables.weights[:-1]], u.weight)
    np.testing.assert_array_equal([r.benchmark for r in tables.weights[:-1]], u.benchmark_weight)
    assert tables.weight("CASH").current == pytest.approx(u.cash_weight)


def test_trade_comparison_flags_assets_on_which_scenarios_disagree(pack: Comparison,
                                                                    tables: ComparisonTables) -> None:
    traded = {t.symbol for o in pack.outcomes if o.result for t in o.result.trades.trades}
    assert {r.symbol for r in tables.trades} == traded
    for row in tables.trades:
        sides = set()
        for outcome, cell in zip(pack.outcomes, row.cells, strict=True):
            assert outcome.result is not None and cell is not None
            trade = next((t for t in outcome.result.trades.trades if t.symbol == row.symbol), None)
            assert cell.side == ("" if trade is None else trade.side)
            if trade is not None:
                assert cell.quantity == trade.quantity
                sides.add(trade.side)
        assert row.disagree == ({"BUY", "SELL"} <= sides), row.symbol
    # the base view adds duration that the hawkish pivot sells; everyone trims overbought IWM
    tlt = next(r for r in tables.trades if r.symbol == "TLT")
    assert tlt.cells[PACK.index("goldilocks")].side == "BUY"  # type: ignore[union-attr]
    assert tlt.cells[PACK.index("hawkish_pivot")].side == "SELL"  # type: ignore[union-attr]
    assert tlt.disagree and "TLT" in tables.disagreements
    iwm = next(r for r in tables.trades if r.symbol == "IWM")
    assert {c.side for c in iwm.cells if c} == {"SELL"} and not iwm.disagree


def test_metrics_table_rows(pack: Comparison, tables: ComparisonTables) -> None:
    for key in ("expected_return", "volatility", "sharpe", "tracking_error", "active_share", "turnover",
                "estimated_cost", "small_cap_weight", "size_bucket_large", "size_bucket_mid", "size_bucket_small",
                "size_bucket_none", "trades", "rsi_rules_fired", "binding_constraints"):
        assert len(tables.metric(key).values) == 5, key
    for column, outcome in enumerate(pack.outcomes):
        result = outcome.result
        assert result is not None
        w = result.allocation.weight
        assert tables.metric("expected_return").values[column] == pytest.approx(float(result.returns.mu @ w))
        assert tables.metric("volatility").values[column] == pytest.approx(
            float(np.sqrt(w @ result.risk.dense() @ w)))
        assert tables.metric("trades").values[column] == len(result.trades.trades)
        assert tables.metric("small_cap_weight").values[column] == pytest.approx(_small_cap_weight(outcome))
        assert tables.metric("rsi_rules_fired").values[column] == len(result.rsi.rules) >= 1
        assert tables.metric("estimated_cost_value").values[column] == pytest.approx(
            float(result.trades.total_cost_value))
    assert "turnover_max (0.1000)" in tables.metric("binding_constraints").values[PACK.index("profit_taking")]


def test_scenarios_with_different_universes_and_benchmarks(example_copy: Path) -> None:
    from allocator.compare.files import weights_csv
    from allocator.compare.tables import benchmarks_differ

    narrow = write_config(example_copy, """extends: base.yaml
universe: {symbols: [SPY, QQQ, IJH, IWM, IWN, EFA, EEM, AGG, TLT, IEF, GLD, XLK], outside_holdings: hold}
benchmark: {weights: {SPY: 0.3, AGG: 0.3, IWM: 0.1, EFA: 0.1, IEF: 0.1, EEM: 0.1}}
""", "narrow.yaml")
    comparison = compare(example_copy / "examples/holdings.csv", [example_copy / "configs/base.yaml", narrow],
                         cache=ProblemCache())
    assert [o.ok for o in comparison.outcomes] == [True, True]
    assert comparison.compiled_problems == 2, "another universe needs its own compiled problem"
    tables = comparison_tables(comparison)
    xlv = tables.weight("XLV")  # held, outside the narrow universe: kept as it is there
    assert xlv.targets[1] == pytest.approx(xlv.current) and xlv.current > 0
    assert tables.weight("IWO").targets[1] == 0.0  # not in the narrow universe, not held
    assert tables.weight("IWM").benchmarks == (0.05, 0.1)
    assert benchmarks_differ(tables)
    header = weights_csv(tables).decode().splitlines()[0]
    assert header.endswith("base,narrow,benchmark_weight:base,benchmark_weight:narrow")
    total = sum(t for t in (row.targets[1] for row in tables.weights) if t is not None)
    assert total == pytest.approx(1.0, abs=1e-9)
