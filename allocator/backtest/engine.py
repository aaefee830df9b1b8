"""Run every strategy of a backtest, in parallel worker processes, resuming from a journal.

``run_backtest`` loads the inputs once (``point_in_time``), builds the calendar (``schedule``) and the strategies
(``strategies``), and walks each through ``simulation.simulate``: with ``backtest.workers`` above 1 on the local
Dask cluster that ``allocate batch`` uses too (``parallel``: each strategy one task, the longest first; a process
pool when Dask is not installed), else in this process. The workers report each strategy's progress back to this
process for the progress bar. With a journal folder (``journal``), each strategy resumes from its last finished
rebalance.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from allocator.backtest import journal
from allocator.backtest.journal import StrategyState
from allocator.backtest.parallel import Report, in_workers
from allocator.backtest.point_in_time import MarketHistory
from allocator.backtest.schedule import Schedule
from allocator.backtest.simulation import Account, simulate
from allocator.backtest.strategies import Strategy


@dataclass(frozen=True)
class BacktestResult:
    """Every strategy's final state (``journal.StrategyState``), in the order run, over ``schedule``."""

    strategies: tuple[Strategy, ...]
    states: tuple[StrategyState, ...]
    schedule: Schedule
    market: MarketHistory
    account: Account


def run_backtest(strategies: list[Strategy], market: MarketHistory, schedule: Schedule, account: Account,
                 workers: int = 1, journal_folder: Path | None = None, report: Report | None = None
                 ) -> BacktestResult:
    """Simulate ``strategies`` from ``account`` over ``schedule`` (see the module docstring); ``report`` is called
    after each rebalance decided, in this process."""
    starts = [account.state(s.name) for s in strategies]
    if journal_folder is not None:
        starts = [journal.load(journal_folder, start) for start in starts]
    if report is not None:
        for start in starts:
            report(start.name, start.decided)
    if workers <= 1 or len(strategies) == 1:
        states = [simulate(s, market, schedule, start, journal_folder, report)
                  for s, start in zip(strategies, starts, strict=True)]
    else:
        states = in_workers(strategies, market, schedule, starts, workers, journal_folder, report)
    return BacktestResult(strategies=tuple(strategies), states=tuple(states), schedule=schedule, market=market,
                          account=account)

