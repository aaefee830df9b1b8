"""The rebalance calendar (weekly, quarterly, every N sessions) against dates found here with ISO weeks and
calendar quarters, and cash interest from a rate series against the convention of docs/backtest.md: each session
cash earns the previous session's rate (the last published on or before it) / 252, simple, to the cent."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pandas as pd
import pytest

from allocator.backtest.engine import run_backtest
from allocator.backtest.request import BacktestRequest, resolve
from allocator.backtest.schedule import rebalance_schedule
from allocator.config.schema import FillTiming, RebalanceEvery
from tests.helpers import write_config

# business days of 2024 and early 2025 without some holidays: Good Friday (2024-03-29) ends a week and a quarter
HOLIDAYS = ["2024-01-01", "2024-03-29", "2024-07-04", "2024-12-25", "2025-01-01"]
SESSIONS = pd.bdate_range("2024-01-01", "2025-01-15").drop(pd.DatetimeIndex(HOLIDAYS))


def _last_sessions(keys: pd.Index) -> list[pd.Timestamp]:
    """The last session of each group of ``keys`` but the final, still-open group (whose last session cannot
    fill)."""
    last = pd.Series(SESSIONS, index=SESSIONS).groupby(keys).max()
    return list(last.iloc[:-1])


@pytest.mark.parametrize("fill", [FillTiming.NEXT_CLOSE, FillTiming.SAME_CLOSE])
def test_weekly_rebalances_on_the_last_session_of_each_iso_week(fill: FillTiming) -> None:
    calendar = SESSIONS.isocalendar()
    expected = _last_sessions(pd.MultiIndex.from_arrays([calendar["year"], calendar["week"]]))
    schedule = rebalance_schedule(SESSIONS, None, None, RebalanceEvery.WEEKLY, fill)
    assert list(schedule.rebalance_dates) == expected
    assert pd.Timestamp("2024-03-28") in expected  # Thursday: the Friday was Good Friday
    assert schedule.sessions[0] == expected[0]  # the backtest starts at its first rebalance
    lag = 1 if fill is FillTiming.NEXT_CLOSE else 0
    assert [schedule.sessions[f] for f in schedule.fills] == [
        SESSIONS[SESSIONS.get_loc(day) + lag] for day in expected]


def test_quarterly_rebalances_on_the_last_session_of_each_calendar_quarter() -> None:
    expected = _last_sessions(pd.Index(SESSIONS.year * 10 + (SESSIONS.month - 1) // 3 + 1))
    schedule = rebalance_schedule(SESSIONS, None, None, RebalanceEvery.QUARTERLY, FillTiming.NEXT_CLOSE)
    assert list(schedule.rebalance_dates) == expected == pd.to_datetime(
        ["2024-03-28", "2024-06-28", "2024-09-30", "2024-12-31"]).tolist()


def test_a_start_inside_a_week_begins_at_that_weeks_last_session() -> None:
    schedule = rebalance_schedule(SESSIONS, pd.Timestamp("2024-03-26").date(), pd.Timestamp("2024-04-20").date(),
                                  RebalanceEvery.WEEKLY, FillTiming.NEXT_CLOSE)
    assert list(schedule.rebalance_dates.strftime("%Y-%m-%d")) == ["2024-03-28", "2024-04-05", "2024-04-12"]
    assert schedule.sessions[0] == pd.Timestamp("2024-03-28") and schedule.sessions[-1] == pd.Timestamp("2024-04-19")


@pytest.mark.parametrize(("sessions", "fill", "expected"), [
    (45, FillTiming.NEXT_CLOSE, [0, 10, 20, 30, 40]),
    (41, FillTiming.NEXT_CLOSE, [0, 10, 20, 30]),  # session 40 is the last: its trades could not fill
    (41, FillTiming.SAME_CLOSE, [0, 10, 20, 30]),  # nor its value move after a fill on its own close
])
def test_every_n_sessions_counts_sessions_from_the_first(sessions: int, fill: FillTiming, expected: list[int]) -> None:
    span = SESSIONS[7:7 + sessions]
    schedule = rebalance_schedule(SESSIONS, span[0].date(), span[-1].date(), 10, fill)
    assert list(schedule.rebalance_dates) == [span[i] for i in expected]
    assert list(schedule.sessions) == list(span)  # holidays are not sessions: N counts closes, not days


RATES = """extends: base.yaml
risk: {lookback_days: 60}
backtest: {static_fundamentals: true, every: 10, strategies: [benchmark_hold], workers: 1, bootstrap_samples: 100,
           cash_rate: {file: ../examples/rates.csv, column: rate}}
"""


def test_cash_earns_the_previous_sessions_rate_over_252_to_the_cent(example_copy: Path) -> None:
    """A rate series in percent, rising a basis point a day, with gaps (the last rate carries) and rows on days
    that are not sessions; ``benchmark_hold`` trades once, so after its funding fill only interest moves cash."""
    days = pd.bdate_range("2025-10-01", "2026-02-01")
    rates = pd.Series([4.0 + 0.01 * i for i in range(len(days))], index=days).drop(days[[5, 6, 20, 30, 31]])
    rates.rename_axis("date").rename("rate").to_csv(example_copy / "examples" / "rates.csv")
    resolved = resolve(BacktestRequest(config=write_config(example_copy, RATES, "backtest.yaml"),
                                       start="2025-11-03", end="2025-12-31", initial_cash=Decimal(1_000_000)))
    state = run_backtest(resolved.strategies, resolved.market, resolved.schedule, resolved.account).states[0]
    sessions = resolved.schedule.sessions

    def earned(cash: Decimal, session: int) -> Decimal:
        rate = Decimal(str(rates.asof(sessions[session - 1]))) / 100
        return (cash * rate / 252).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)

    # the funding fill on the second session: the starting cash and a day's interest, less what it paid
    paid = sum(Decimal(row[6]) + Decimal(row[7]) for row in state.trades)
    assert Decimal(str(state.cash_values[1])) == Decimal(1_000_000) + earned(Decimal(1_000_000), 1) - paid
    cash = Decimal(str(state.cash_values[1]))
    assert cash > 10_000  # enough cash for a day's interest to be dollars, not cents
    for session in range(2, len(sessions)):
        cash += earned(cash, session)
        assert Decimal(str(state.cash_values[session])) == cash, sessions[session]


@pytest.mark.parametrize("second", ["2024-01-02", "2024-01-01"])
def test_a_cash_rate_file_out_of_date_order_is_refused_naming_its_row(tmp_path: Path, second: str) -> None:
    from allocator.backtest.point_in_time import read_cash_rate
    from allocator.config.schema import CashRateConfig
    from allocator.errors import DataError
    from allocator.files.reading import FileLimits

    path = tmp_path / "rates.csv"
    path.write_text(f"date,rate\n2024-01-02,5.2\n2024-01-03,5.2\n{second},5.1\n")
    with pytest.raises(DataError) as caught:
        read_cash_rate(CashRateConfig(file=path), FileLimits.from_megabytes(10, 1000))
    assert caught.value.where == f"{path}: row 4: date" and "not after the date above it" in str(caught.value)
