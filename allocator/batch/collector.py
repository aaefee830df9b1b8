"""Python's cycle collector during a batch: kept off the large heap a batch holds from start to end.

A batch keeps a large heap alive for its whole run: on the driver the book's rows, the models and Dask's state;
on a worker the imported libraries, the scattered models and their compiled problems. Meanwhile it makes millions
of small objects that die young (cells, positions, trades, outcomes), and every few thousand of them survive long
enough to start one of the collector's full passes, which walk the whole heap. On the 1,500-account book these full
passes cost the driver about 1 s (six of them) and each of two workers 0.6 s (three or four): 0.8 ms of the
driver's CPU and 0.8 ms of a worker's per account. So:

- ``paused()``: no collection while a bulk of objects that all stay alive is made (the book's rows, read on the
  driver: half the time of reading them was the collector's);
- ``run_batch`` freezes the objects alive when the batch starts running (``gc.freeze``): they are left out of
  every collection until it ends (``gc.unfreeze``), so a full pass walks only what the batch made since;
- ``settle(key)``: on a worker process of a LocalCluster (which lives for one batch), the same once a model's
  first chunk has run there, its data and compiled problem then being alive for the rest of the batch.

Objects are still freed by reference counting as soon as they are unused; only cycles wait for a collection, and a
frozen cycle waits for ``gc.unfreeze`` (or the end of the worker process).
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

_settled: set[str] = set()  # models whose first chunk this process has run (``settle``)


@contextmanager
def paused() -> Iterator[None]:
    """No collection inside the block; the collector is enabled again after it if it was before."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def settle(key: str) -> None:
    """Freeze the objects alive now, the first time this process has run a chunk of the model ``key``."""
    if key not in _settled:
        _settled.add(key)
        gc.freeze()
