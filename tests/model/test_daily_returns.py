"""``DailyReturns``: the returns of a window's closes made a block of assets at a time are the whole matrix's, bit for
bit, and every model that reads them gives what it gives on the matrix."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import allocator.model.daily_returns as daily_returns
import allocator.model.factor_models as factor_models
from allocator.config.schema import RiskConfig
from allocator.inputs.market_data import PriceWindow
from allocator.model.daily_returns import DailyReturns
from allocator.model.expected_returns import historical_returns
from allocator.model.risk_estimation import estimate


def _closes(days: int = 60, assets: int = 23) -> np.ndarray:
    rng = np.random.default_rng(42)
    return 50.0 * np.cumprod(1.0 + rng.normal(0.0004, 0.012, size=(days + 1, assets)), axis=0)


@pytest.mark.parametrize("layout", [np.ascontiguousarray, np.asfortranarray])
def test_blocks_are_the_windows_daily_returns_bit_for_bit(layout: object, monkeypatch: pytest.MonkeyPatch) -> None:
    closes = layout(_closes())  # type: ignore[operator]
    monkeypatch.setattr(daily_returns, "BLOCK_BYTES", 8 * 60 * 5)  # blocks of 5 assets, the last one of 3
    returns = DailyReturns(closes)
    whole = PriceWindow(closes=pd.DataFrame(closes), as_of=pd.Timestamp("2024-01-02")).daily_returns()
    assert returns.shape == whole.shape == (60, 23)
    assert [c.stop - c.start for c, _ in returns.blocks()] == [5, 5, 5, 5, 3]
    assert np.array_equal(np.hstack([block for _, block in returns.blocks()]), whole)
    assert np.array_equal(returns.matrix(), whole) and returns.matrix().flags.c_contiguous
    assert np.array_equal(returns.mean(), whole.mean(axis=0))  # the same sums, row after row


def test_models_read_daily_returns_as_they_read_the_matrix(monkeypatch: pytest.MonkeyPatch) -> None:
    returns = DailyReturns(np.asfortranarray(_closes(40, 90)))  # the fast reader's layout
    whole = returns.matrix()
    monkeypatch.setattr(daily_returns, "BLOCK_BYTES", 8 * 40 * 7)
    monkeypatch.setattr(factor_models, "BLOCK_BYTES", 8 * 40 * 7)
    symbols = tuple(f"S{i}" for i in range(90))
    lazy = estimate(RiskConfig.model_validate({"model": "pca", "factors": 4}), returns, symbols)
    eager = estimate(RiskConfig.model_validate({"model": "pca", "factors": 4}), whole, symbols)
    assert np.array_equal(lazy.loadings, eager.loadings)
    assert np.array_equal(lazy.specific_variance, eager.specific_variance)
    shrunk = estimate(RiskConfig.model_validate({}), returns, symbols)  # Ledoit-Wolf: the whole matrix
    assert np.array_equal(shrunk.loadings, estimate(RiskConfig.model_validate({}), whole, symbols).loadings)
    assert np.array_equal(historical_returns(returns, 0.02, 0.5), historical_returns(whole, 0.02, 0.5))


def test_a_window_cut_to_its_last_row_still_counts_its_sessions() -> None:
    closes = pd.DataFrame(_closes(10, 3), index=pd.bdate_range("2024-01-01", periods=11))
    window = PriceWindow(closes=closes, as_of=pd.Timestamp(closes.index[-1]))
    cut = window.last_row()
    assert window.sessions == cut.sessions == 11 and len(cut.closes) == 1 and cut.as_of == window.as_of
    assert np.array_equal(cut.closes.to_numpy(), closes.to_numpy()[-1:])
    assert not np.shares_memory(cut.closes.to_numpy(), closes.to_numpy())  # the window's closes can be freed
    with pytest.raises(ValueError, match="cut to their last row"):
        cut.daily_returns()
