"""The strategies of a backtest in parallel worker processes: on the local Dask cluster of ``allocate batch``, or
in a process pool when Dask is not installed.

``in_workers`` starts the cluster (``allocator.cluster.LocalDask``, one single-threaded process per worker asked,
no more than the strategies) and hands out the strategies as tasks, longest first (``strategies.longest_first``),
one per worker at a time: the next is submitted when a task ends, to the worker it freed, so that no long
strategy waits behind another while a worker sits idle (all submitted at once, Dask placed them on the workers
ahead and a worker could sit idle for seconds). The market history is sent to each worker once. Workers report
their progress (strategy, rebalances decided) through a ``distributed.Queue``: at most every ``PROGRESS_SECONDS``
and once at the end of each strategy, so the progress bar costs no more than a few messages a second. An error in a
worker reaches the caller as itself (``AllocatorError`` pickles with every field), the first in the strategies'
order once every task has ended, as in one process.

Without Dask (``pip install allocate[batch]`` adds it) the same tasks run in a ``concurrent.futures`` process pool
(forked where the platform allows, else spawned), reporting every rebalance through a multiprocessing queue.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import queue
import time
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path
from typing import Any

from allocator.backtest.journal import StrategyState
from allocator.backtest.point_in_time import MarketHistory
from allocator.backtest.schedule import Schedule
from allocator.backtest.simulation import simulate
from allocator.backtest.strategies import Strategy, longest_first

Report = Callable[[str, int], None]  # (strategy, rebalances decided so far)
PROGRESS_SECONDS = 0.2  # a worker on Dask reports its progress at most this often (and at its strategy's end)
WAIT_SECONDS = 0.2  # the driver shows the progress received at least this often


def in_workers(strategies: list[Strategy], market: MarketHistory, schedule: Schedule, starts: list[StrategyState],
               workers: int, folder: Path | None, report: Report | None) -> list[StrategyState]:
    """Each strategy simulated from its start in ``starts`` on ``workers`` processes (see the module docstring); the
    final states in the order of ``strategies``. ``report`` is called in this process."""
    from allocator.cluster import LocalDask

    count = min(workers, len(strategies))
    try:
        cluster = LocalDask(count)
    except ImportError:
        return in_process_pool(strategies, market, schedule, starts, count, folder, report)
    with cluster:
        return on_dask(cluster.client, count, strategies, market, schedule, starts, folder, report)


def _simulate_on_dask(strategy: Strategy, market: MarketHistory, schedule: Schedule, start: StrategyState,
                      folder: Path | None, progress_queue: str | None) -> StrategyState:
    if progress_queue is None:
        return simulate(strategy, market, schedule, start, folder)
    from distributed import Queue

    progress = Queue(progress_queue)
    last = time.monotonic()

    def report(name: str, decided: int) -> None:
        nonlocal last
        if time.monotonic() - last >= PROGRESS_SECONDS:
            progress.put((name, decided))
            last = time.monotonic()

    state = simulate(strategy, market, schedule, start, folder, report)
    progress.put((state.name, state.decided))  # before the task ends, so the driver finds it once the task is done
    return state


def on_dask(client: Any, workers: int, strategies: list[Strategy], market: MarketHistory, schedule: Schedule,
            starts: list[StrategyState], folder: Path | None, report: Report | None) -> list[StrategyState]:
    """``in_workers`` on the Dask cluster of ``client``, ``workers`` tasks at a time."""
    from distributed import Queue, wait

    progress = Queue(f"backtest-progress-{uuid.uuid4().hex}", client=client) if report is not None else None
    shared = client.scatter(market, broadcast=True, hash=False)
    waiting = longest_first(strategies)
    running: dict[Any, int] = {}
    finished: dict[int, Any] = {}

    def submit_next() -> None:
        i = waiting.pop(0)
        running[client.submit(_simulate_on_dask, strategies[i], shared, schedule, starts[i], folder,
                              progress.name if progress is not None else None, pure=False)] = i

    def show_progress() -> None:
        if progress is not None and report is not None:
            for name, decided in progress.get(batch=True):
                report(name, decided)

    try:
        while waiting and len(running) < workers:
            submit_next()
        while running:
            with contextlib.suppress(TimeoutError):
                wait(list(running), timeout=WAIT_SECONDS, return_when="FIRST_COMPLETED")
            show_progress()
            for future in [f for f in running if f.done()]:
                finished[running.pop(future)] = future
                if waiting:
                    submit_next()
        show_progress()
        return [finished[i].result() for i in range(len(strategies))]  # raises the first strategy's error
    finally:
        for future in running:
            future.cancel()


_progress: Any = None  # the progress queue of a pool's worker process (set by ``_worker_init``)


def _worker_init(progress: Any) -> None:
    global _progress
    _progress = progress


def _report_to_queue(name: str, decided: int) -> None:
    if _progress is not None:
        _progress.put((name, decided))


def _simulate_in_pool(strategy: Strategy, market: MarketHistory, schedule: Schedule, start: StrategyState,
                      folder: Path | None) -> StrategyState:
    return simulate(strategy, market, schedule, start, folder, _report_to_queue)


def in_process_pool(strategies: list[Strategy], market: MarketHistory, schedule: Schedule,
                    starts: list[StrategyState], workers: int, folder: Path | None,
                    report: Report | None) -> list[StrategyState]:
    """``in_workers`` in a ``concurrent.futures`` process pool of ``workers`` processes (Dask not installed)."""
    context = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn")
    progress = context.Queue()
    with ProcessPoolExecutor(max_workers=workers, mp_context=context,
                             initializer=_worker_init, initargs=(progress,)) as pool:
        futures: dict[int, Future[StrategyState]] = {
            i: pool.submit(_simulate_in_pool, strategies[i], market, schedule, starts[i], folder)
            for i in longest_first(strategies)}
        while not all(f.done() for f in futures.values()):
            try:
                name, decided = progress.get(timeout=WAIT_SECONDS)
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
