"""Where a batch's accounts are rebalanced: in this process, or on dask.distributed workers.

The work is a list of chunks, each a few accounts of one model (``chunk.rebalance_chunk``). Every model is
estimated once, on the driver, and broadcast to the workers (``Client.scatter(..., broadcast=True)``); each worker
process keeps one compiled problem per model and universe (``account_run.WorkerState``) and re-solves it for each
account. Results come back as chunks finish, in any order; the batch's files do not depend on that order.

- ``InProcess``: the chunks one after another in this process (a handful of accounts, or ``--workers 0``).
- ``DaskEngine``: a ``distributed.LocalCluster`` of ``workers`` single-threaded processes (default: one per core;
  started by ``allocator.cluster``, as for ``allocate backtest``: no dashboard, Dask's profiler off), or the running
  cluster at ``scheduler`` (``tcp://HOST:PORT``; Dask's own ``DASK_SCHEDULER_ADDRESS`` is read too; it keeps its own
  settings). A worker that dies has its chunks run again elsewhere by the scheduler; the driver takes each chunk's
  result once.

Where the workers share the driver's files (``shared_files``: in this process and on a LocalCluster) they write
their accounts' files and journal rows into the batch's work folder themselves and send back only the outcomes
(``allocator.batch.chunk``); on a cluster at an address the files come back with the outcomes. A chunk's accounts
and its outcomes travel pickled once as bytes (``chunk.rebalance_packed``), not through Dask's own pickler.

Dask is an optional dependency (``pip install allocate[batch]``), imported here and in ``allocator.cluster`` only.
"""

from __future__ import annotations

import math
import os
import pickle
import sys
from collections.abc import Iterator, Sequence
from typing import Any, Protocol

from allocator.batch.account_run import AccountOutcome, AccountTask, BatchModel, RunOptions
from allocator.batch.chunk import rebalance_chunk, rebalance_packed, unpack_outcomes
from allocator.cluster import LocalDask
from allocator.errors import UsageError

SMALL_BOOK = 20  # this many accounts or fewer are rebalanced in this process unless --workers or --scheduler
MAX_CHUNK = 50  # accounts per task: enough to amortize a task's overhead, few enough to balance the workers
CHUNKS_PER_WORKER = 4
RESUBMISSIONS = 3  # times a chunk cancelled by the scheduler (its worker and model lost) is submitted again
# the last chunks shrink (``chunked``) down to this many accounts, so that the workers finish together: with chunks of
# 50 to the end, one worker still had up to a whole chunk to run (0.7 s at 14 ms an account) while the other sat idle
MIN_CHUNK = 8

# imported by each LocalCluster worker as it starts, not at the first chunk: on the cluster's start, which
# ``EngineStart`` overlaps with the driver's plan (about 1 s a worker process on this machine, alike on 1 or 2)
PRELOAD = ("allocator.batch.preload",)

Work = Sequence[tuple[str, list[AccountTask]]]  # (model name, accounts of that model) per chunk


class Engine(Protocol):
    """Runs chunks of accounts and yields each chunk's outcomes as it finishes. ``shared_files``: the workers see
    the driver's files, so they write their accounts' files into the work folder themselves."""

    workers: int
    description: str
    shared_files: bool

    def run(self, models: dict[str, BatchModel], work: Work, options: RunOptions) -> Iterator[list[AccountOutcome]]:
        ...

    def close(self) -> None:
        ...


class InProcess:
    """Every chunk in this process, one after another."""

    workers = 1
    description = "in process"
    shared_files = True

    def run(self, models: dict[str, BatchModel], work: Work, options: RunOptions) -> Iterator[list[AccountOutcome]]:
        for name, tasks in work:
            yield rebalance_chunk(models[name], tasks, options)

    def close(self) -> None:
        return None


class DaskEngine:
    """Chunks on dask.distributed workers: a ``LocalCluster`` of ``workers`` processes, or the cluster at
    ``scheduler``."""

    def __init__(self, workers: int | None = None, scheduler: str | None = None) -> None:
        try:
            from distributed import Client
        except ImportError:
            raise UsageError("--workers", "Dask is not installed", "pip install 'allocate[batch]' (dask[distributed]), "
                             "or rebalance in this process with --workers 0") from None
        self.local: LocalDask | None = None
        if scheduler is not None:
            try:
                self.client: Any = Client(scheduler, timeout="10s")
            except (OSError, TimeoutError, ValueError) as exc:
                raise UsageError("--scheduler", f"cannot connect to the Dask scheduler at {scheduler} ({exc})",
                                 "check the address (tcp://HOST:PORT) and that the scheduler is running") from None
            self.description = f"Dask cluster at {scheduler}"
            self.shared_files = False  # workers may be on other machines
        else:
            count = workers or os.cpu_count() or 1
            self.local = LocalDask(count, preload=PRELOAD)
            self.client = self.local.client
            self.description = f"local Dask cluster of {count} processes"
            self.shared_files = True
        self.workers = max(len(self.client.scheduler_info().get("workers", {})), 1)

    def run(self, models: dict[str, BatchModel], work: Work, options: RunOptions) -> Iterator[list[AccountOutcome]]:
        """Each chunk's outcomes as they come. A chunk whose task the scheduler cancels is submitted again, with its
        model scattered again: a killed worker can take the only copy of a scattered model with it (a broadcast
        still under way), and the scheduler then forgets the chunks that needed it ("already forgotten"); the
        journal and the order of outcomes make a chunk done twice impossible, as it is done once here."""
        from concurrent.futures import CancelledError

        from distributed import as_completed

        scattered = {name: self._scatter(model) for name, model in models.items()}
        chunks: dict[str, tuple[str, bytes, Any]] = {}  # task key -> (model name, pickled accounts, future)

        def submit(name: str, tasks: bytes) -> Any:
            future = self.client.submit(rebalance_packed, scattered[name], tasks, options, pure=False)
            chunks[future.key] = (name, tasks, future)
            return future

        pending = as_completed([submit(name, pickle.dumps(tasks, protocol=pickle.HIGHEST_PROTOCOL))
                                for name, tasks in work])
        tries: dict[str, int] = {}
        try:
            for future in pending:
                name, tasks, _ = chunks.pop(future.key)
                try:
                    outcomes = unpack_outcomes(future.result())
                except CancelledError:
                    attempt = tries.get(future.key, 0) + 1
                    if attempt > RESUBMISSIONS:
                        raise
                    scattered[name] = self._scatter(models[name])
                    again = submit(name, tasks)
                    tries[again.key] = attempt
                    pending.add(again)
                    continue
                yield outcomes
        finally:
            for _, _, future in chunks.values():
                future.cancel()

    def _scatter(self, model: BatchModel) -> Any:
        return self.client.scatter(model, broadcast=True, hash=False)

    def close(self) -> None:
        if self.local is not None:
            self.local.close()
        else:
            self.client.close()


def scheduler_address(given: str | None) -> str | None:
    """The scheduler to use: ``--scheduler``, else Dask's configuration (``DASK_SCHEDULER_ADDRESS``), else None."""
    if given:
        return given
    found = os.environ.get("DASK_SCHEDULER_ADDRESS")
    if found:
        return found
    if "dask" in sys.modules:  # Dask's own configuration, when something loaded it already
        import dask

        address = dask.config.get("scheduler-address", None)
        return str(address) if address else None
    return None


def uses_dask(accounts: int, workers: int | None, scheduler: str | None) -> bool:
    """Whether ``engine_for`` gives Dask: unless ``workers == 0`` or a small book without a scheduler."""
    if workers == 0:
        return False
    return not (scheduler_address(scheduler) is None and workers is None and accounts <= SMALL_BOOK)


def engine_for(accounts: int, workers: int | None, scheduler: str | None) -> Engine:
    """In this process with ``workers == 0`` or for a small book without a scheduler, else Dask (local, or the
    cluster at ``scheduler`` or ``DASK_SCHEDULER_ADDRESS``)."""
    if not uses_dask(accounts, workers, scheduler):
        return InProcess()
    return DaskEngine(workers, scheduler_address(scheduler))


class BatchEngine:
    """The engine of one batch, started as soon as the book's size is known (``on_book``, called by
    ``runner.plan_batch`` before it estimates the models) in a thread of its own while the driver plans: a
    LocalCluster's processes start and import what a chunk needs (``PRELOAD``) on the other cores meanwhile, where
    they used to start after the plan, one after the other (2 to 3 s on this machine).

    ``take(accounts)`` gives the engine ``engine_for`` gives for the accounts left to rebalance (None for none),
    waiting for the one started when it is that engine: an engine started for the whole book and not wanted (the
    journal or failed models leave 20 accounts or fewer, or none) is closed, and its failure to start (Dask missing,
    a scheduler out of reach) is then not the batch's. Leaving the ``with`` block closes an engine started and not
    taken; one still starting when the block is left (a failed plan, a stop) closes itself once started, so a
    second stop during the wait leaves no cluster behind."""

    def __init__(self, workers: int | None, scheduler: str | None) -> None:
        import threading

        self.workers = workers
        self.scheduler = scheduler
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._engine: DaskEngine | None = None
        self._error: BaseException | None = None
        self._abandoned = False

    def on_book(self, accounts: int) -> None:
        if self._thread is None and uses_dask(accounts, self.workers, self.scheduler):
            import threading

            self._thread = threading.Thread(target=self._start, name="allocate-engine-start", daemon=True)
            self._thread.start()

    def _start(self) -> None:
        try:
            engine = DaskEngine(self.workers, scheduler_address(self.scheduler))
        except BaseException as exc:  # raised by ``take``, in the thread that waits for the engine
            self._error = exc
            return
        with self._lock:
            if not self._abandoned:
                self._engine = engine
                return
        engine.close()  # the batch ended while it started

    def take(self, accounts: int) -> Engine | None:
        if self._thread is None:
            return engine_for(accounts, self.workers, self.scheduler) if accounts else None
        self._thread.join()
        self._thread, engine, error = None, self._engine, self._error
        self._engine = self._error = None
        if not accounts or not uses_dask(accounts, self.workers, self.scheduler):
            if engine is not None:
                engine.close()
            return InProcess() if accounts else None
        if error is not None:
            raise error
        assert engine is not None
        return engine

    def __enter__(self) -> BatchEngine:
        return self

    def __exit__(self, *exc: object) -> None:
        with self._lock:
            self._abandoned = True  # an engine that starts from now on closes itself
            engine, self._engine = self._engine, None
        if engine is not None:
            engine.close()
        if self._thread is not None:
            self._thread.join()
            self._thread = None


def chunked(tasks: dict[str, list[AccountTask]], workers: int) -> list[tuple[str, list[AccountTask]]]:
    """The accounts of each model cut into chunks, in order: each chunk is the accounts left over
    ``workers * CHUNKS_PER_WORKER`` (guided self-scheduling), at most ``MAX_CHUNK`` and at least ``MIN_CHUNK`` (or
    the first chunk's size, for a small book). The chunks shrink towards the end of the book, so every worker stays
    busy to the end and none is left with a large chunk when the others are done."""
    left = sum(len(t) for t in tasks.values())
    share = max(workers, 1) * CHUNKS_PER_WORKER
    smallest = min(MIN_CHUNK, max(1, math.ceil(left / share)))
    chunks: list[tuple[str, list[AccountTask]]] = []
    for name, found in tasks.items():
        start = 0
        while start < len(found):
            size = max(smallest, min(MAX_CHUNK, math.ceil(left / share)))
            chunks.append((name, found[start:start + size]))
            left -= len(chunks[-1][1])
            start += size
    return chunks
