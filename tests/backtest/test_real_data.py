"""The real-data backtest of docs/backtest.md: monthly from 2006 on the example universe's 20 ETFs (real adjusted
closes), every strategy, the example's fundamentals as a static snapshot (named look-ahead). Skips without the real
data. Slow: about 240 rebalances for each of eight strategies."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

from allocator.backtest.request import BacktestRequest
from allocator.backtest.session import run_backtest_command
from tests.conftest import ROOT

sys.path.insert(0, str(ROOT / "scripts"))
from backtest_real_data import real_data_config


@pytest.mark.slow
def test_monthly_2006_to_2026_every_strategy(shared_data: Path, tmp_path: Path) -> None:
    config = real_data_config(tmp_path, shared_data / "etf_prices_adjclose.csv")
    outcome = run_backtest_command(BacktestRequest(config=config), tmp_path / "out", force=False)
    metrics = json.loads((tmp_path / "out" / "metrics.json").read_text())
    assert metrics["look_ahead"] == ["look-ahead: static fundamentals"]
    assert metrics["start"] < "2006-03-01" and metrics["end"] >= "2026-07-01"
    assert metrics["rebalances"] >= 240
    assert set(metrics["strategies"]) == {"config", "no_tilt", "no_rsi", "no_regime", "benchmark_hold",
                                          "benchmark_rebalanced", "hrp", "erc"}
    for name, values in metrics["strategies"].items():
        assert np.isfinite(values["cagr"]) and 0.0 < values["volatility"] < 0.5, name
        assert values["failed_rebalances"] <= values["rebalances"] // 10, name
    assert metrics["benchmark"] == "benchmark_rebalanced", "a fixed-weight benchmark is measured rebalanced"
    held = next(s for s in outcome.result.states if s.name == "benchmark_hold")
    assert held.cash_values[5] / held.nav[5] < 0.02, "AGG, EEM and GLD excluded on the first date are not cash"
    closes = outcome.result.market.prices.ffill().iloc[-1]
    final = float(held.cash) + sum(float(q) * closes[s] for s, q in held.holding.items())
    assert final == pytest.approx(held.nav[-1], rel=1e-12), "buy and hold is worth its shares at the last closes"
