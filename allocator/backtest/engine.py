"""Run every strategy of a backtest, in parallel worker processes, resuming from a journal.

``run_backtest`` loads the inputs once (``point_in_time``), builds the calendar (``schedule``) and the strategies
(``strategies``), and walks each through ``simulation.simulate``: with ``backtest.workers`` above 1 in a
``concurrent.futures.ProcessPoolExecutor`` (each strategy in its own task, so ``allocate batch``'s executor can
take the same tasks; handed out longest first, ``strategies.longest_first``), else in this process. Workers
report each rebalance decided through a queue, for the progress bar. With a journal folder (``journal``), each
strategy resumes from its last finished rebalance.
"""

from __future__ import annotations

import multiprocessing
import queue
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from allocator.backtest import journal
from allocator.backtest.journal import StrategyState
from allocator.backtest.point_in_time import MarketHistory
from allocator.backtest.schedule import Schedule
from allocator.backtest.simulation import Account, simulate
from allocator.backtest.strategies import Strategy, longest_first

Report = Callable[[str, int], None]  # (strategy, rebalances decided so far)


@dataclass(frozen=True)
class BacktestResult:
    """Every strategy's final state (``journal.StrategyState``), in the order run, over ``schedule``."""

    strategies: tuple[Strategy, ...]
    states: tuple[StrategyState, ...]
    schedule: Schedule
    market: MarketHistory
    account: Account


_progress: Any = None  # the progress queue of a worker process (set by ``_worker_init``)


def _worker_init(progress: Any) -> None:
    global _progress
    _progress = progress


def _report_to_queue(name: str, decided: int) -> None:
    if _progress is not None:
        _progress.put((name, decided))


def _simulate_task(strategy: Strategy, market: MarketHistory, schedule: Schedule, start: StrategyState,
                   folder: Path | None) -> StrategyState:
    return simulate(strategy, market, schedule, start, folder, _report_to_queue)


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
        states = _in_workers(strategies, market, schedule, starts, workers, journal_folder, report)
    return BacktestResult(strategies=tuple(strategies), states=tuple(states), schedule=schedule, market=market,
                          account=account)


def _in_workers(strategies: list[Strategy], market: MarketHistory, schedule: Schedule, starts: list[StrategyState],
                workers: int, folder: Path | None, report: Report | None) -> list[StrategyState]:
    context = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn")
    progress = context.Queue()
    with ProcessPoolExecutor(max_workers=min(workers, len(strategies)), mp_context=context,
                             initializer=_worker_init, initargs=(progress,)) as pool:
        futures: dict[int, Future[StrategyState]] = {
            i: pool.submit(_simulate_task, strategies[i], market, schedule, starts[i], folder)
            for i in longest_first(strategies)}
        while not all(f.done() for f in futures.values()):
            try:
                name, decided = progress.get(timeout=0.2)
            except queue.Empty:
                continue
            if report is not None:
                report(name, decided)
        states = [futures[i].result() for i in range(len(strategies))]  # raises the first strategy's error
    while report is not None:
        try:
            name, decided = progress.get_nowait()
        except queue.Empty:
            break
        report(name, decided)
    return states
