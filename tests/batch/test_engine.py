"""How a batch's accounts are cut into chunks for the workers (``allocator.batch.engine.chunked``)."""

from __future__ import annotations

import math
from itertools import pairwise
from typing import Any

import pytest

from allocator.batch.engine import CHUNKS_PER_WORKER, MAX_CHUNK, MIN_CHUNK, chunked


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
