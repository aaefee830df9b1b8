"""A window's simple daily returns, computed from its closes when asked: whole, or a block of assets at a time.

``DailyReturns(closes)`` stands for ``closes[1:] / closes[:-1] - 1`` (days by assets, rows = days) without holding
it: the PCA risk model and the historical prior read it a block of assets at a time, so a large universe's
returns are never held beside its closes (at 20,000 assets and 756 days each is 116 MB, and the two together were
the run's peak memory). Every other estimator takes the whole matrix (``as_matrix``). Each return is the same
division and subtraction whichever way it is computed, so the two ways give the same numbers bit for bit.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from allocator.domain import FloatArray

BLOCK_BYTES = 16 << 20  # returns made a block of assets at a time: 2,774 assets at 756 days


class DailyReturns:
    """The simple daily returns of ``closes`` (days + 1 by assets; rows = days, oldest first)."""

    def __init__(self, closes: FloatArray) -> None:
        if closes.ndim != 2:
            raise ValueError("closes must be a 2-D array (days by assets)")
        self.closes = closes

    @property
    def shape(self) -> tuple[int, int]:
        """(days of returns, assets)."""
        return self.closes.shape[0] - 1, self.closes.shape[1]

    def block(self, columns: slice) -> FloatArray:
        """The returns of the assets ``columns``, as a new C-contiguous array (days by assets)."""
        values = self.closes[:, columns]
        out: FloatArray = np.divide(values[1:], values[:-1], out=np.empty((len(values) - 1, values.shape[1])))
        out -= 1.0  # in place: one array allocated, not two
        return out

    def blocks(self) -> Iterator[tuple[slice, FloatArray]]:
        """Each block of about ``BLOCK_BYTES`` of returns with the columns it holds, in order."""
        days, assets = self.shape
        width = max(1, BLOCK_BYTES // (8 * max(days, 1)))
        for start in range(0, assets, width):
            columns = slice(start, min(start + width, assets))
            yield columns, self.block(columns)

    def mean(self) -> FloatArray:
        """Each asset's mean daily return (the same sum, row after row, as ``matrix().mean(axis=0)``)."""
        mean = np.empty(self.shape[1])
        for columns, block in self.blocks():
            mean[columns] = block.mean(axis=0)
        return mean

    def matrix(self) -> FloatArray:
        """Every return at once (days by assets, C-contiguous)."""
        return self.block(slice(None))


def as_matrix(returns: FloatArray | DailyReturns) -> FloatArray:
    """The returns as one array: ``returns`` itself, or ``DailyReturns.matrix()``."""
    return returns.matrix() if isinstance(returns, DailyReturns) else returns


def column_means(returns: FloatArray | DailyReturns) -> FloatArray:
    """Each asset's mean daily return."""
    if isinstance(returns, DailyReturns):
        return returns.mean()
    mean: FloatArray = returns.mean(axis=0)
    return mean
