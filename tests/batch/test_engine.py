"""How a batch's accounts are cut into chunks for the workers (``allocator.batch.engine.chunked``), and its engine
started while the driver plans (``BatchEngine``)."""

from __future__ import annotations

import math
from itertools import pairwise
from typing import Any, ClassVar

import pytest

from allocator.batch import engine as engine_module
from allocator.batch.engine import (
    CHUNKS_PER_WORKER,
    MAX_CHUNK,
    MIN_CHUNK,
    SMALL_BOOK,
    BatchEngine,
    InProcess,
    chunked,
)
from allocator.errors import UsageError


def tasks(**counts: int) -> dict[str, list[Any]]:
    return {name: [f"{name}{i}" for i in range(count)] for name, count in counts.items()}


@pytest.mark.parametrize("workers", [1, 2, 8])
def test_chunks_hold_every_account_once_in_order_and_shrink_towards_the_end(workers: int) -> None:
    given = tasks(balanced=700, growth=800)
    chunks = chunked(given, workers)  # type: ignore[arg-type]
    assert [(name, a) for name, chunk in chunks for a in chunk] == [(n, a) for n, found in given.items() for a in found]
    sizes = [len(chunk) for _, chunk in chunks]
    assert sizes[0] == max(sizes) == min(MAX_CHUNK, math.ceil(1500 / (workers * CHUNKS_PER_WORKER)))
    for name in given:  # each model's chunks shrink, but its last one holds whatever accounts are left
        own = [len(chunk) for found, chunk in chunks if found == name][:-1]
        assert all(later <= earlier for earlier, later in pairwise(own))
    assert sizes[-2] == MIN_CHUNK  # the workers' last chunks are small, so they finish together


def test_a_small_book_is_cut_into_chunks_of_one_account_for_two_workers() -> None:
    assert [len(c) for _, c in chunked(tasks(a=2, b=2), 2)] == [1, 1, 1, 1]  # type: ignore[arg-type]
    assert [len(c) for _, c in chunked(tasks(a=30), 2)] == [4, 4, 4, 4, 4, 4, 4, 2]  # type: ignore[arg-type]


class FakeDask:
    """Stands in for ``DaskEngine``: records its start (after ``delay`` seconds, in the starting thread) and close."""

    started: ClassVar[list[FakeDask]] = []
    delay = 0.0
    error: Exception | None = None

    def __init__(self, workers: int | None, scheduler: str | None) -> None:
        import time

        time.sleep(FakeDask.delay)
        if FakeDask.error is not None:
            raise FakeDask.error
        self.workers, self.scheduler, self.closed = workers, scheduler, False
        FakeDask.started.append(self)

    def close(self) -> None:
        self.closed = True


@pytest.fixture
def fake_dask(monkeypatch: pytest.MonkeyPatch) -> type[FakeDask]:
    monkeypatch.setattr(engine_module, "DaskEngine", FakeDask)
    monkeypatch.delenv("DASK_SCHEDULER_ADDRESS", raising=False)
    FakeDask.started, FakeDask.delay, FakeDask.error = [], 0.2, None
    return FakeDask


def test_the_engine_starts_when_the_book_is_read_and_is_taken_once_started(fake_dask: type[FakeDask]) -> None:
    with BatchEngine(2, None) as starting:
        starting.on_book(500)  # returns at once: the engine starts in a thread while the plan goes on
        assert fake_dask.started == []
        taken = starting.take(480)  # waits for it
        assert fake_dask.started == [taken] and taken.workers == 2  # type: ignore[union-attr]
    assert not taken.closed  # type: ignore[union-attr]  # the caller closes what it took


def test_an_engine_started_and_not_taken_is_closed(fake_dask: type[FakeDask]) -> None:
    with pytest.raises(RuntimeError, match="the plan failed"), BatchEngine(None, None) as starting:
        starting.on_book(500)
        raise RuntimeError("the plan failed")
    assert [e.closed for e in fake_dask.started] == [True]
    with BatchEngine(None, None) as starting:  # nothing left to rebalance (a resumed batch)
        starting.on_book(500)
        assert starting.take(0) is None
    assert [e.closed for e in fake_dask.started] == [True, True]


def test_the_engine_is_chosen_by_the_accounts_left_not_the_book(fake_dask: type[FakeDask]) -> None:
    with BatchEngine(None, None) as starting:  # the journal or failed models leave a small book: in this process
        starting.on_book(500)
        assert isinstance(starting.take(SMALL_BOOK), InProcess)
    assert [e.closed for e in fake_dask.started] == [True]
    fake_dask.error = UsageError("--workers", "Dask is not installed", "install it")
    for left, expected in ((0, None), (SMALL_BOOK, InProcess)):  # a start that failed is not the batch's failure
        with BatchEngine(None, None) as starting:
            starting.on_book(500)
            found = starting.take(left)
            assert found is None if expected is None else isinstance(found, expected)


def test_an_engine_still_starting_when_the_batch_ends_closes_itself(fake_dask: type[FakeDask]) -> None:
    starting = BatchEngine(None, None)
    starting.on_book(500)
    starting._abandoned = True  # as ``__exit__`` leaves it when a second stop interrupts its wait for the start
    assert starting._thread is not None
    starting._thread.join()
    assert [e.closed for e in fake_dask.started] == [True] and starting._engine is None


def test_a_small_book_or_no_workers_start_no_cluster_and_a_failed_start_is_raised_by_take(
        fake_dask: type[FakeDask]) -> None:
    for workers, accounts in ((None, SMALL_BOOK), (0, 500)):
        with BatchEngine(workers, None) as starting:
            starting.on_book(accounts)
            assert isinstance(starting.take(accounts), InProcess)
    assert fake_dask.started == []
    fake_dask.error = UsageError("--scheduler", "cannot connect", "check it")
    with BatchEngine(None, "tcp://127.0.0.1:9") as starting:
        starting.on_book(3)  # a scheduler given: Dask whatever the book's size
        with pytest.raises(UsageError, match="cannot connect"):
            starting.take(3)
