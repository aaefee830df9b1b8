"""The backtest's metrics and rule measures on small hand-made accounts, each against a formula written here with
the standard library, pandas or scipy (not allocate's helpers): Sortino, tracking error, information ratio, turnover,
costs, the RSI trims' hit rate over 21 and 63 sessions, and the signals' rank IC per date with its mean and
t-statistic."""

from __future__ import annotations

import itertools
import math
import statistics

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from allocator.backtest.journal import StrategyState
from allocator.backtest.metrics import strategy_metrics
from allocator.backtest.rules import hit_rate, ic_summary, signal_ics, trim_outcomes

NAV = [100.0, 101.0, 99.5, 100.2, 102.0, 101.1, 101.9, 103.0, 102.2, 104.0, 105.1]
BENCHMARK_NAV = [100.0, 100.5, 100.1, 100.9, 101.3, 100.8, 101.6, 102.1, 101.9, 102.8, 103.2]
RATES = [0.02, 0.02, 0.03, 0.03, 0.03, 0.0, 0.0, 0.05, 0.05, 0.05]  # annualized, each session after the first
TRADED = [0.0, 50.0, 0.0, 0.0, 20.0, 0.0, 0.0, 0.0, 30.0, 0.0, 0.0]
COSTS = [0.0, 0.05, 0.0, 0.0, 0.02, 0.0, 0.0, 0.0, 0.03, 0.0, 0.0]


def _returns(nav: list[float]) -> list[float]:
    return [b / a - 1.0 for a, b in itertools.pairwise(nav)]


@pytest.fixture(scope="module")
def metrics() -> dict[str, dict[str, float | int | None]]:
    states = (StrategyState("config", {}, "0", nav=NAV, traded=TRADED, costs=COSTS),
              StrategyState("benchmark_hold", {}, "0", nav=BENCHMARK_NAV, traded=[0.0] * 11, costs=[0.0] * 11))
    rows = strategy_metrics(states, np.array(RATES), block=5.0, samples=50, seed=42)
    return {row.strategy: row.values for row in rows}


def test_sortino_is_the_mean_excess_over_the_root_mean_square_of_the_negative_excess(
        metrics: dict[str, dict[str, float | int | None]]) -> None:
    excess = [r - rate / 252 for r, rate in zip(_returns(NAV), RATES, strict=True)]
    downside = math.sqrt(sum(min(x, 0.0) ** 2 for x in excess) / len(excess)) * math.sqrt(252)
    assert metrics["config"]["sortino"] == pytest.approx(statistics.fmean(excess) * 252 / downside, rel=1e-12)


def test_sortino_is_none_without_a_session_below_cash() -> None:
    rising = [100.0 * 1.01 ** k for k in range(6)]
    rows = strategy_metrics((StrategyState("config", {}, "0", nav=rising, traded=[0.0] * 6, costs=[0.0] * 6),),
                            np.zeros(5), block=5.0, samples=10, seed=42)
    assert rows[0].values["sortino"] is None


def test_tracking_error_and_information_ratio_against_the_benchmark(
        metrics: dict[str, dict[str, float | int | None]]) -> None:
    active = [a - b for a, b in zip(_returns(NAV), _returns(BENCHMARK_NAV), strict=True)]
    tracking_error = statistics.stdev(active) * math.sqrt(252)
    assert metrics["config"]["tracking_error"] == pytest.approx(tracking_error, rel=1e-12)
    assert metrics["config"]["information_ratio"] == pytest.approx(
        statistics.fmean(active) * 252 / tracking_error, rel=1e-12)
    assert metrics["benchmark_hold"]["tracking_error"] is None  # the benchmark against itself


def test_turnover_and_costs_are_yearly_fractions_of_the_average_value(
        metrics: dict[str, dict[str, float | int | None]]) -> None:
    years = (len(NAV) - 1) / 252
    average = statistics.fmean(NAV)
    assert metrics["config"]["turnover"] == pytest.approx(sum(TRADED) / 2 / average / years, rel=1e-12)
    assert metrics["config"]["costs"] == pytest.approx(sum(COSTS) / average / years, rel=1e-12)
    assert metrics["benchmark_hold"]["turnover"] == 0.0


SESSIONS = pd.bdate_range("2024-01-01", periods=80)


def _closes() -> pd.DataFrame:
    """Three funds on 80 sessions: A falls after day 5 while B and C rise; from day 30 A rises fastest."""
    days = np.arange(80)
    return pd.DataFrame({"A": 50.0 * np.exp(np.where(days < 30, -0.002, 0.004) * days + 0.01 * np.sin(days)),
                         "B": 20.0 * np.exp(0.001 * days + 0.005 * np.cos(days)),
                         "C": 80.0 * np.exp(0.0015 * days)}, index=SESSIONS)


def _day(position: int) -> str:
    return SESSIONS[position].strftime("%Y-%m-%d")


def test_a_trims_forward_returns_and_hit_rate_over_21_and_63_sessions() -> None:
    """Trims of A on sessions 5 and 30 (filled the next session, B and C kept at 0.6 and 0.3); the forward returns
    are pandas' ``shift(-h) / close - 1`` from the decision's close, what was kept their weighted mean."""
    closes = _closes()
    weights = [[_day(p), s, w] for p in (6, 31) for s, w in (("A", 0.1), ("B", 0.6), ("C", 0.3), ("CASH", 0.0))]
    state = StrategyState("config", {}, "0", weights=weights,
                          rules=[[_day(5), "rsi_trim", "A", 78.0, ""], [_day(30), "rsi_trim", "A", 81.0, ""],
                                 [_day(30), "rsi_floor", "B", 25.0, ""]])
    outcomes = trim_outcomes(state, closes)
    assert [(o.date, o.symbol, o.rsi) for o in outcomes] == [(_day(5), "A", 78.0), (_day(30), "A", 81.0)]
    hits = {}
    for horizon in (21, 63):
        forward = closes.shift(-horizon) / closes - 1.0
        for outcome, position in zip(outcomes, (5, 30), strict=True):
            trimmed = forward["A"].iloc[position]
            kept = (0.6 * forward["B"].iloc[position] + 0.3 * forward["C"].iloc[position]) / 0.9
            if np.isnan(trimmed):  # 30 + 63 is past the last of the 80 sessions
                assert outcome.trimmed[horizon] is None and outcome.kept[horizon] is None and horizon == 63
                continue
            assert outcome.trimmed[horizon] == pytest.approx(trimmed, rel=1e-12)
            assert outcome.kept[horizon] == pytest.approx(kept, rel=1e-12)
            hits.setdefault(horizon, []).append(trimmed < kept)
    assert hits == {21: [True, False], 63: [False]}  # A falls for 25 sessions after day 5, then rises fastest
    assert [o.hit(21) for o in outcomes] == hits[21] and [o.hit(63) for o in outcomes] == [False, None]
    assert hit_rate(outcomes, 21) == (0.5, 2)
    assert hit_rate(outcomes, 63) == (0.0, 1)


def test_signal_ic_is_the_spearman_correlation_with_the_return_to_the_next_rebalance() -> None:
    """Five funds, three rebalances (the last one's return runs to the last session); z-scores with a tie."""
    rng = np.random.default_rng(42)
    closes = pd.DataFrame(100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.01, size=(80, 5)), axis=0)),
                          index=SESSIONS, columns=list("ABCDE"))
    dates = [_day(10), _day(30), _day(50)]
    z = {dates[0]: [1.0, 0.5, 0.5, -0.2, -1.8], dates[1]: [-0.3, 1.2, 0.1, 0.9, -1.9],
         dates[2]: [0.7, -0.7, 1.5, -1.0, -0.5]}
    signals = [[day, "value", symbol, score] for day, scores in z.items()
               for symbol, score in zip("ABCDE", scores, strict=True)]
    signals += [[dates[0], "size", s, 0.0] for s in "ABCDE"]  # scores that do not vary: no IC
    ics = signal_ics(StrategyState("config", {}, "0", signals=signals), closes, dates)
    ends = {dates[0]: 30, dates[1]: 50, dates[2]: 79}
    expected = []
    for day, scores in z.items():
        forward = closes.iloc[ends[day]] / closes.loc[day] - 1.0
        expected.append(stats.spearmanr(scores, forward.to_numpy()).statistic)
    value = [ic for ic in ics if ic.signal == "value"]
    assert [ic.date for ic in value] == dates and all(ic.assets == 5 for ic in value)
    np.testing.assert_allclose([ic.ic for ic in value], expected, rtol=1e-12)
    assert [(ic.signal, ic.ic) for ic in ics if ic.signal == "size"] == [("size", None)]
    summary = ic_summary(ics)
    assert list(summary) == ["value"]
    assert summary["value"]["dates"] == 3
    assert summary["value"]["mean_ic"] == pytest.approx(np.mean(expected), rel=1e-12)
    assert summary["value"]["t_stat"] == pytest.approx(stats.ttest_1samp(expected, 0.0).statistic, rel=1e-12)
