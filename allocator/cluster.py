"""The local Dask cluster on which ``allocate batch`` and ``allocate backtest`` run their worker processes.

``LocalDask(workers)`` starts a ``distributed.LocalCluster`` of ``workers`` single-threaded processes (Dask's own
start method, spawn: each worker imports what its tasks need) and a client on it, with the scheduler's web server
on a free port (``:0``: no clash with another cluster on 8787; no dashboard, which needs bokeh, not a dependency),
Dask's logs silenced below errors, Dask's statistical profiler off (it samples every worker's stack 100 times a
second for the dashboard: 5% of a worker's CPU time) and its periodic housekeeping slowed (``HOUSEKEEPING``).

Dask is an optional dependency (``pip install allocate[batch]``), imported on ``LocalDask(...)`` only:
``ImportError`` when it is missing, each command deciding what to do then.
"""

from __future__ import annotations

import logging
from types import TracebackType
from typing import Any

PROFILER = "distributed.worker.profile.enabled"
# Dask's periodic housekeeping, slowed to what a batch of short tasks needs: measured idle on a LocalCluster of 2
# processes, the driver (client, scheduler and nannies) used 3.9% of a core and the two workers 4.7% between them,
# 0.8% and 0.7% with these (at 10,000 accounts a minute, about 0.2 ms of the driver's CPU an account). The event
# loop's health check (20 ms by default) and the system monitor (0.5 s) only feed warnings and the dashboard; the
# nanny's look at its worker's memory (0.1 s) still runs every second; the active memory manager (every 2 s) would
# only look for replicas to drop, and the models are broadcast to every worker on purpose.
HOUSEKEEPING = {
    "distributed.admin.tick.interval": "1s",
    "distributed.admin.system-monitor.interval": "5s",
    "distributed.worker.memory.monitor-interval": "1s",
    "distributed.scheduler.active-memory-manager.start": False,
}


class LocalDask:
    """A ``LocalCluster`` of ``workers`` single-threaded processes and its ``client`` (see the module docstring),
    each process importing the modules ``preload`` as it starts (after those of Dask's own
    ``distributed.worker.preload``, which an explicit list would otherwise replace); ``close()`` (or leaving a
    ``with`` block) stops both."""

    def __init__(self, workers: int, preload: tuple[str, ...] = ()) -> None:
        import dask
        from distributed import Client, LocalCluster

        with dask.config.set({PROFILER: False, **HOUSEKEEPING}):  # read by each worker process as it starts
            self.cluster: Any = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                             dashboard_address=":0", silence_logs=logging.ERROR,
                                             preload=[*dask.config.get("distributed.worker.preload", []),
                                                      *preload] if preload else [])
        try:
            self.client: Any = Client(self.cluster)
        except BaseException:
            self.cluster.close()
            raise
        self.workers = workers

    def close(self) -> None:
        self.client.close()
        self.cluster.close()

    def __enter__(self) -> LocalDask:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.close()
