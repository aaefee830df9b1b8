"""The backtest engine on the example account: no look-ahead, exact reconciliation, the first rebalance equal to
``allocate run --as-of``, buy-and-hold equal to the price ratio, resumption from the journal."""

from __future__ import annotations

import dataclasses
import shutil
import sys
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from allocator import cluster
from allocator.backtest import journal, parallel
from allocator.backtest.engine import run_backtest
from allocator.backtest.journal import StrategyState
from allocator.backtest.request import BacktestRequest, ResolvedBacktest, resolve
from allocator.backtest.simulation import simulate
from allocator.backtest.strategies import longest_first, named_strategies
from allocator.config.schema import StrategyName
from allocator.errors import DataError
from allocator.pipeline import run
from allocator.trading.rounding import money
from tests.helpers import write_config

SHORT = """extends: base.yaml
risk: {{lookback_days: 60}}
backtest: {{static_fundamentals: {static}, every: 10, fill: {fill}, strategies: [{strategies}], workers: 1,
           bootstrap_samples: 100{extra}}}
"""
START, END = "2025-11-03", "2026-01-16"


def _config(folder: Path, strategies: str = "config", fill: str = "next_close", static: bool = True,
            extra: str = "", text: str = "") -> Path:
    return write_config(folder, SHORT.format(static=str(static).lower(), fill=fill, strategies=strategies,
                                             extra=extra) + text, "backtest.yaml")


def _resolved(folder: Path, **options: str) -> ResolvedBacktest:
    return resolve(BacktestRequest(config=_config(folder, **options), start=START, end=END,
                                   holdings=folder / "examples" / "holdings.csv"))


def _fundamentals_history(folder: Path, second: str) -> Path:
    """The example snapshot as a history: dated 2025-10-01, and again on ``second`` with every P/E 20% higher."""
    snapshot = pd.read_csv(folder / "examples" / "fundamentals.csv")
    later = snapshot.assign(forward_pe=snapshot["forward_pe"] * 1.2)
    history = pd.concat([snapshot.assign(date="2025-10-01"), later.assign(date=second)])
    path = folder / "examples" / "fundamentals_history.csv"
    history[["date", *snapshot.columns]].to_csv(path, index=False)
    return path


def test_a_snapshot_is_refused_without_static_fundamentals(example_copy: Path) -> None:
    with pytest.raises(DataError, match=r"look-ahead.*backtest\.static_fundamentals: true"):
        _resolved(example_copy, static=False)


@pytest.mark.slow
def test_no_look_ahead_perturbing_every_input_after_t_leaves_every_decision_up_to_t_identical(
        example_copy: Path) -> None:
    """Prices, fundamentals, rates and the macro series after t are changed; every decision made up to t (price
    signals and the regime from the series included), and every value up to t, are the same bytes."""
    _fundamentals_history(example_copy, "2025-12-20")
    rates = pd.DataFrame({"date": pd.bdate_range("2025-01-01", "2026-02-01").strftime("%Y-%m-%d"), "rate": 4.0})
    rates.to_csv(example_copy / "examples" / "rates.csv", index=False)
    macro = pd.DataFrame({"date": pd.bdate_range("2022-01-03", "2026-02-01").strftime("%Y-%m-%d"),
                          "short_rate": 4.0, "inflation_mom": 0.001})
    macro.to_csv(example_copy / "examples" / "macro.csv", index=False)
    config = write_config(example_copy, SHORT.format(
        static="false", fill="next_close", strategies="config, hrp, benchmark_rebalanced",
        extra=", cash_rate: {file: ../examples/rates.csv, column: rate}")
        + "data: {fundamentals: ../examples/fundamentals_history.csv}\n"
        + "returns: {signal_weights: {momentum: 0.3, low_volatility: 0.2},\n"
        + "          macro: {source: series, series: ../examples/macro.csv}}\n", "backtest.yaml")
    request = BacktestRequest(config=config, start=START, end=END, holdings=example_copy / "examples" / "holdings.csv")
    resolved = resolve(request)
    original = _states(resolved)
    through = int((resolved.schedule.sessions <= pd.Timestamp('2025-12-15')).sum())
    t = pd.Timestamp("2025-12-15")
    prices = example_copy / "examples" / "prices.csv"
    frame = pd.read_csv(prices)
    after = pd.to_datetime(frame["date"]) > t
    frame.loc[after, frame.columns[1:]] = frame.loc[after, frame.columns[1:]] * np.linspace(
        0.85, 1.15, len(frame.columns) - 1)  # a day's move beyond 0.815 or 1.22 could read as an unadjusted split
    frame.to_csv(prices, index=False, float_format="%.4f")
    _fundamentals_history(example_copy, "2025-12-16")  # the later rows now dated just after t
    rates.loc[pd.to_datetime(rates["date"]) > t, "rate"] = 9.0
    rates.to_csv(example_copy / "examples" / "rates.csv", index=False)
    macro.loc[pd.to_datetime(macro["date"]) > t, ["short_rate", "inflation_mom"]] = [9.0, 0.01]  # hawkish
    macro.to_csv(example_copy / "examples" / "macro.csv", index=False)
    perturbed = _states(resolve(request))
    for before, later in zip(original, perturbed, strict=True):
        day = t.strftime("%Y-%m-%d")
        assert [r for r in before.decisions if r[0] <= day] == [r for r in later.decisions if r[0] <= day]
        assert [r for r in before.trades if r[1] <= day] == [r for r in later.trades if r[1] <= day]
        assert before.nav[:through] == later.nav[:through]
        assert [r for r in before.rules if r[0] <= day] == [r for r in later.rules if r[0] <= day]
        assert [r for r in before.signals if r[0] <= day] == [r for r in later.signals if r[0] <= day]
        assert [r for r in before.warnings if r[0] <= day] == [r for r in later.warnings if r[0] <= day]
        assert {r[1] for r in before.signals} >= {"momentum", "low_volatility"} or before.name != "config"
        assert any(r[0] > day for r in before.trades), "decisions after t exist and may differ"
    assert original[0].trades != perturbed[0].trades, "the perturbation after t did change later decisions"


def _states(resolved: ResolvedBacktest) -> tuple[journal.StrategyState, ...]:
    return run_backtest(resolved.strategies, resolved.market, resolved.schedule, resolved.account).states


def test_every_rebalance_reconciles_to_the_share_and_the_cent(example_copy: Path) -> None:
    resolved = _resolved(example_copy, strategies="config, benchmark_rebalanced, erc")
    for state in _states(resolved):
        holding = dict(resolved.account.holding)
        cash = resolved.account.cash
        for _, _, symbol, side, quantity, price, notional, cost, _ in state.trades:
            q, p, value, fee = Decimal(quantity), Decimal(price), Decimal(notional), Decimal(cost)
            assert value == money(q * p), f"{state.name} {symbol}: notional is quantity x price to the cent"
            holding[symbol] = holding.get(symbol, Decimal(0)) + (q if side == "BUY" else -q)
            cash += (-value if side == "BUY" else value) - fee
            assert holding[symbol] >= 0 and cash >= 0
        assert {s: q for s, q in holding.items() if q} == {s: Decimal(q) for s, q in state.holding.items()}
        assert cash == Decimal(state.cash), f"{state.name}: cash reconciles to the cent (no cash rate here)"
        assert all(q == q.to_integral_value() for q in holding.values()), "whole shares"


def test_the_first_rebalance_is_allocate_run_as_of_that_date(example_copy: Path) -> None:
    resolved = _resolved(example_copy, fill="same_close")
    state = _states(resolved)[0]
    first = state.trades[0][0]
    decided = {(row[2], row[3], row[4]) for row in state.trades if row[0] == first}
    result = run(example_copy / "examples" / "holdings.csv", resolved.strategies[0].loaded, as_of=first)
    expected = {(t.symbol, t.side, str(t.quantity)) for t in result.trades.trades}
    assert decided == expected


def test_buy_and_hold_equals_the_price_ratio(example_copy: Path) -> None:
    text = ("benchmark: {weights: {SPY: 1.0}}\nreturns: {prior: historical}\nconstraints: {active_min: null, "
            "active_max: null, tracking_error_max: null, groups: [], cash_min: 0}\n"
            "trading: {cost_bps: 0, fractional_shares: true, lot_size: 0.000001, min_trade_value: 0}\n")
    config = _config(example_copy, strategies="benchmark_hold", fill="same_close", text=text)
    resolved = resolve(BacktestRequest(config=config, start=START, end=END, initial_cash=Decimal("1000000")))
    state = _states(resolved)[0]
    closes = resolved.market.prices["SPY"].reindex(resolved.schedule.sessions)
    fill = resolved.schedule.fills[0]
    nav = np.asarray(state.nav)
    cash = float(state.cash)
    assert len({row[1] for row in state.trades}) == 1, "bought once"
    growth = (nav[fill:] - cash) / (nav[fill] - cash)
    np.testing.assert_allclose(growth, closes.to_numpy()[fill:] / closes.iloc[fill], rtol=1e-12)
    assert cash < 1.0, "everything but the fractional-lot remainder is invested"


def test_a_killed_backtest_resumes_from_its_last_finished_rebalance(example_copy: Path, tmp_path: Path) -> None:
    resolved = _resolved(example_copy, fill="next_close")
    strategy = resolved.strategies[0]
    folder = tmp_path / "journal"
    whole = simulate(strategy, resolved.market, resolved.schedule, resolved.account.state(strategy.name), folder)
    lines = (folder / "config.jsonl").read_text().splitlines()
    assert len(lines) >= 3
    cut = tmp_path / "cut"
    cut.mkdir()
    (cut / "config.jsonl").write_text("\n".join(lines[:2]) + "\n" + lines[2][:40])  # killed while writing line 3
    resumed_from = journal.load(cut, resolved.account.state(strategy.name))
    assert 0 < resumed_from.decided < whole.decided
    resumed = simulate(strategy, resolved.market, resolved.schedule, resumed_from, cut)
    for name in (*journal.RECORDS, "holding", "cash", "decided", "failures"):
        assert getattr(resumed, name) == getattr(whole, name), name
    assert whole.warnings, "the warnings survive the resumption too"
    shutil.rmtree(folder)


def test_worker_processes_take_the_longest_strategy_first_and_give_states_in_the_strategies_order(
        example_copy: Path) -> None:
    """Handed out by their work (riskfolio's baselines, then the pipeline, then weights only); the states come back
    in the order of ``backtest.strategies``, the same as in one process."""
    resolved = _resolved(example_copy, strategies="benchmark_hold, config, benchmark_rebalanced")
    strategies = list(resolved.strategies)
    assert longest_first(strategies) == [1, 2, 0]
    config = resolved.loaded.config
    all_kinds = config.backtest.model_copy(update={"strategies": list(StrategyName)})
    every = config.model_copy(update={"backtest": all_kinds})
    named = named_strategies(dataclasses.replace(resolved.loaded, config=every))
    assert [named[i].name for i in longest_first(named)] == [
        "hrp", "erc", "config", "no_regime", "no_tilt", "no_rsi", "benchmark_rebalanced", "benchmark_hold"]
    serial = run_backtest(strategies, resolved.market, resolved.schedule, resolved.account, workers=1).states
    parallel = run_backtest(strategies, resolved.market, resolved.schedule, resolved.account, workers=2).states
    assert [s.name for s in parallel] == ["benchmark_hold", "config", "benchmark_rebalanced"]
    assert [(s.nav, s.trades, s.decisions) for s in parallel] == [(s.nav, s.trades, s.decisions) for s in serial]


def _recorder() -> tuple[dict[str, int], Callable[[str, int], None]]:
    seen: dict[str, int] = {}

    def report(name: str, decided: int) -> None:
        assert decided >= seen.get(name, 0), (name, decided)  # progress never goes back
        seen[name] = decided

    return seen, report


def test_the_strategies_run_on_the_local_dask_cluster_and_report_their_progress_back(
        example_copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The tasks run on the Dask cluster shared with ``allocate batch`` (the process pool is not used), and every
    strategy's last progress report, sent from a worker process, reaches this process."""
    resolved = _resolved(example_copy, strategies="benchmark_hold, config, benchmark_rebalanced")
    strategies = list(resolved.strategies)
    started = []
    real_cluster = cluster.LocalDask

    def recording(workers: int) -> cluster.LocalDask:
        started.append(workers)
        return real_cluster(workers)

    def no_pool(*args: object) -> None:
        raise AssertionError("the process pool is for when Dask is missing")

    monkeypatch.setattr(cluster, "LocalDask", recording)
    monkeypatch.setattr(parallel, "in_process_pool", no_pool)
    seen, report = _recorder()
    states = run_backtest(strategies, resolved.market, resolved.schedule, resolved.account, workers=2,
                          report=report).states
    assert started == [2]
    decisions = len(resolved.schedule.decisions)
    assert seen == dict.fromkeys(("benchmark_hold", "config", "benchmark_rebalanced"), decisions)
    assert [s.decided for s in states] == [decisions] * 3


def test_without_dask_the_strategies_run_in_a_process_pool_with_the_same_results(
        example_copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``distributed`` made unimportable: the process pool runs the same tasks, with every rebalance reported, and
    the states equal those of one process."""
    resolved = _resolved(example_copy, strategies="benchmark_hold, config")
    strategies = list(resolved.strategies)
    serial = run_backtest(strategies, resolved.market, resolved.schedule, resolved.account, workers=1).states
    pooled = []
    real_pool = parallel.in_process_pool

    def recording(*args: Any) -> list[StrategyState]:
        pooled.append(args[4])
        return real_pool(*args)

    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed -> ImportError
    monkeypatch.setattr(parallel, "in_process_pool", recording)
    seen, report = _recorder()
    states = run_backtest(strategies, resolved.market, resolved.schedule, resolved.account, workers=3,
                          report=report).states
    assert pooled == [2]  # no more processes than strategies
    assert seen == dict.fromkeys(("benchmark_hold", "config"), len(resolved.schedule.decisions))
    assert [(s.nav, s.trades, s.decisions, s.warnings) for s in states] == [
        (s.nav, s.trades, s.decisions, s.warnings) for s in serial]
    assert any(s.warnings for s in states), "the warnings come back from the worker processes"


def test_on_dask_a_worker_gets_its_next_strategy_only_when_it_is_free(example_copy: Path) -> None:
    """Three strategies on two workers: the third is handed out once one of the first two has ended, to a worker
    that is free (submitted all at once, Dask placed them on the workers ahead, and a free worker could wait)."""
    from distributed import get_task_stream

    resolved = _resolved(example_copy, strategies="benchmark_hold, config, benchmark_rebalanced")
    strategies = list(resolved.strategies)
    starts = [resolved.account.state(s.name) for s in strategies]
    with cluster.LocalDask(2) as local, get_task_stream(local.client) as stream:
        states = parallel.on_dask(local.client, 2, strategies, resolved.market, resolved.schedule, starts, None, None)
    assert [s.name for s in states] == ["benchmark_hold", "config", "benchmark_rebalanced"]
    spans = sorted((part["start"], part["stop"], task["worker"]) for task in stream.data
                   for part in task["startstops"] if part["action"] == "compute")
    assert len(spans) == 3
    # the strategy that started last waited for a worker to come free, and started soon after the first one did:
    # placed on a busy worker ahead of time, it would have waited for that worker's strategy instead (seconds
    # later); a slow worker start can make the second strategy the last to start, which these conditions allow
    last = max(spans)
    first_free = min(span[1] for span in spans if span is not last)
    assert last[0] >= first_free, ("handed out only once a worker was free", spans)
    assert last[0] - first_free < 1.5, ("not left waiting behind a busy worker", spans)
    assert all(span[1] <= last[0] for span in spans if span is not last and span[2] == last[2]), spans


def test_a_weight_strategys_trades_give_its_own_reason(example_copy: Path) -> None:
    """The benchmark strategies trade to benchmark weights, whatever the model's tilts and views: their trades say
    so (they carried the model's tilt and view reasons)."""
    resolved = _resolved(example_copy, strategies="benchmark_hold, benchmark_rebalanced")
    result = run_backtest(resolved.strategies, resolved.market, resolved.schedule, resolved.account)
    reasons = {state.name: {row[3] for row in state.decisions} for state in result.states}
    assert reasons == {"benchmark_hold": {"benchmark weight, bought once and held"},
                       "benchmark_rebalanced": {"benchmark weight"}}


def test_the_benchmark_strategies_spread_the_weight_of_constituents_excluded_for_gaps(example_copy: Path) -> None:
    """AGG (20%) and GLD (5%) have no closes before mid-October, so a 60-day window on the first dates excludes
    them: the benchmark strategies hold the rest of the benchmark fully invested, not a quarter of the account in
    cash; AGG's weight goes to the other bond funds (TLT 5%, IEF 10%: scaled by 35 / 15), GLD's, the only
    commodity, to every constituent pro rata (by 1 / 0.95)."""
    prices_path = example_copy / "examples" / "prices.csv"
    prices = pd.read_csv(prices_path, index_col="date")
    prices.loc[prices.index < "2025-10-15", ["AGG", "GLD"]] = np.nan
    prices.to_csv(prices_path)
    text = "trading: {cost_bps: 0, fractional_shares: true, lot_size: 0.000001, min_trade_value: 0}\n"
    config = _config(example_copy, strategies="benchmark_hold, benchmark_rebalanced", fill="same_close", text=text)
    resolved = resolve(BacktestRequest(config=config, start=START, end=END, initial_cash=Decimal("1000000")))
    benchmark = pd.read_csv(example_copy / "examples" / "fundamentals.csv", index_col="symbol")["benchmark_weight"]
    reference = benchmark.drop(["AGG", "GLD"])
    reference[["TLT", "IEF"]] *= 0.35 / 0.15
    reference /= 0.95  # sums to 1 (the example's benchmark holds no cash)
    for state in _states(resolved):
        first_fill = state.trades[0][1]  # rows: decision date, fill date, symbol, side, quantity, price, ...
        bought = pd.Series({row[2]: float(row[4]) * float(row[5]) for row in state.trades if row[1] == first_fill})
        assert "AGG" not in bought and "GLD" not in bought, state.name
        weights = bought / 1_000_000
        assert weights.sum() == pytest.approx(0.99, abs=1e-6), state.name  # cash_min 1% of configs/base.yaml
        np.testing.assert_allclose(weights.reindex(reference.index).fillna(0.0), reference * 0.99, atol=1e-6)
        said = [text for day, text in state.warnings if day == state.trades[0][0]]
        assert any("AGG's benchmark weight (20.00%) is spread over the rest of its asset class" in w for w in said)
        assert not any("counted as cash" in w for w in said), said  # what allocate run says, true of its limits


def test_a_rebalance_the_limits_forbid_is_recorded_as_no_trade_naming_the_limits_not_the_run_flag(
        example_copy: Path) -> None:
    """Caps of 1% on each of 20 funds cannot hold the account: every rebalance trades nothing and says why in
    ``rules`` (the limits that conflict, by their keys), without ``allocate run``'s "--relax", which a backtest does
    not take (it said "run with --relax" and kept only the first line)."""
    text = "constraints: {max_weight: 0.01}\n"
    resolved = resolve(BacktestRequest(config=_config(example_copy, extra=", relax: false", text=text), start=START,
                                       end=END, initial_cash=Decimal("1000000")))
    state = _states(resolved)[0]
    reasons = [row[4] for row in state.rules if row[1] == "no_trade"]
    assert len(reasons) == len(resolved.schedule.decisions) == state.failures
    assert all("--relax" not in r and "the limits cannot all hold; " in r and "constraints." in r for r in reasons)
