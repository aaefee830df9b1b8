"""The local Dask cluster on which ``allocate batch`` and ``allocate backtest`` run their worker processes.

``LocalDask(workers)`` starts a ``distributed.LocalCluster`` of ``workers`` single-threaded processes (Dask's own
start method, spawn: each worker imports what its tasks need) and a client on it, with the scheduler's web server
on a free port (``:0``: no clash with another cluster on 8787; no dashboard, which needs bokeh, not a dependency),
Dask's logs silenced below errors and Dask's statistical profiler off (it samples every worker's stack 100 times a
second for the dashboard: 5% of a worker's CPU time).

Dask is an optional dependency (``pip install allocate[batch]``), imported on ``LocalDask(...)`` only:
``ImportError`` when it is missing, each command deciding what to do then.
"""

from __future__ import annotations

import logging
from types import TracebackType
from typing import Any

PROFILER = "distributed.worker.profile.enabled"


class LocalDask:
    """A ``LocalCluster`` of ``workers`` single-threaded processes and its ``client`` (see the module docstring);
    ``close()`` (or leaving a ``with`` block) stops both."""

    def __init__(self, workers: int) -> None:
        import dask
        from distributed import Client, LocalCluster

        with dask.config.set({PROFILER: False}):  # read by each worker process as it starts
            self.cluster: Any = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                             dashboard_address=":0", silence_logs=logging.ERROR)
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
