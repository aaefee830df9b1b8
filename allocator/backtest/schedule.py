"""The rebalance calendar: which closes a backtest decides on, and when the trades fill.

Sessions are the dates of the price file. ``weekly``, ``monthly`` and ``quarterly`` rebalance on the last session of
each calendar week, month or quarter; a number N rebalances every N sessions from the first. The backtest runs
from its first rebalance (the first scheduled session on or after ``start``) to the last session on or before
``end``. A decision on a close fills at that close (``same_close``) or at the next session's (``next_close``), so a
rebalance on the last session, which could not fill, is not scheduled.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd

from allocator.config.schema import FillTiming, RebalanceEvery
from allocator.errors import UsageError

PERIODS = {RebalanceEvery.WEEKLY: "W", RebalanceEvery.MONTHLY: "M", RebalanceEvery.QUARTERLY: "Q"}


@dataclass(frozen=True)
class Schedule:
    """The sessions of the backtest (``sessions``, the first a rebalance) and, for each rebalance, the position in
    ``sessions`` of its decision and of its fill."""

    sessions: pd.DatetimeIndex
    decisions: tuple[int, ...]
    fills: tuple[int, ...]

    @property
    def rebalance_dates(self) -> pd.DatetimeIndex:
        return self.sessions[list(self.decisions)]


def rebalance_schedule(all_sessions: pd.DatetimeIndex, start: date | None, end: date | None,
                       every: RebalanceEvery | int, fill: FillTiming) -> Schedule:
    """The schedule of ``every`` over ``all_sessions`` between ``start`` and ``end`` (see the module docstring);
    ``UsageError`` when the span holds no rebalance that can fill."""
    first = pd.Timestamp(start) if start is not None else all_sessions[0]
    last = pd.Timestamp(end) if end is not None else all_sessions[-1]
    sessions = all_sessions[(all_sessions >= first) & (all_sessions <= last)]
    if isinstance(every, RebalanceEvery):
        periods = sessions.to_period(PERIODS[every])
        is_last = periods[1:] != periods[:-1]
        chosen = [i for i, flag in enumerate(is_last) if flag]
    else:
        chosen = list(range(0, len(sessions), every))
    lag = 1 if fill is FillTiming.NEXT_CLOSE else 0
    chosen = [i for i in chosen if i + lag < len(sessions) and i + 1 < len(sessions)]
    if not chosen:
        span = f"{first.date()} .. {last.date()}"
        held = (f"{len(sessions)} sessions in the price file" if len(sessions) else
                f"the price file runs {all_sessions[0].date()} .. {all_sessions[-1].date()}")
        raise UsageError("--start/--end", f"no {every} rebalance between {span} that can fill before the end "
                         f"({held})", "widen the span or rebalance more often")
    sessions = sessions[chosen[0]:]
    decisions = tuple(i - chosen[0] for i in chosen)
    return Schedule(sessions=sessions, decisions=decisions, fills=tuple(i + lag for i in decisions))
