"""Price signals: each value recomputed with pandas on seeded prices, the history each needs, point in time by
construction, and their z-scores within peer groups."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from allocator.config.schema import ReturnsConfig
from allocator.model.price_signals import SESSIONS_NEEDED, price_signals
from allocator.model.signals import reported_signals, signal_scores

SYMBOLS = ("AAA", "BBB", "CCC", "DDD")


def _closes(rows: int, seed: int = 42) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    returns = rng.normal(0.0003, [0.008, 0.012, 0.016, 0.02], size=(rows, len(SYMBOLS)))
    return pd.DataFrame(100 * np.cumprod(1 + returns, axis=0), columns=list(SYMBOLS),
                        index=pd.bdate_range("2015-01-01", periods=rows))


def test_each_signal_equals_its_pandas_recomputation() -> None:
    closes = _closes(1400)
    found = price_signals(closes, SYMBOLS)
    momentum = closes.shift(21).iloc[-1] / closes.shift(252).iloc[-1] - 1
    volatility = closes.pct_change().iloc[-252:].std(ddof=0) * np.sqrt(252)
    reversal = -(closes.shift(252).iloc[-1] / closes.shift(1260).iloc[-1] - 1)
    np.testing.assert_allclose(found["momentum"], momentum.to_numpy(), rtol=1e-12)
    np.testing.assert_allclose(found["low_volatility"], -volatility.to_numpy(), rtol=1e-10)
    np.testing.assert_allclose(found["reversal"], reversal.to_numpy(), rtol=1e-12)
    assert found["low_volatility"][0] > found["low_volatility"][3], "the calmest asset scores highest"


def test_symbols_scored_a_block_at_a_time_score_as_together(monkeypatch: pytest.MonkeyPatch) -> None:
    """Blocks of symbols (``BLOCK_SYMBOLS``, for memory) change no value beyond the last bit (numpy's sum along the
    days may group differently by width), in the order asked, a gap filled as before; a symbol without closes scores
    NaN."""
    from allocator.model import price_signals as module

    closes = _closes(1400)
    closes.iloc[700:705, 1] = np.nan
    order = ("DDD", "AAA", "ZZZ", "CCC", "BBB")
    whole = price_signals(closes, order)
    monkeypatch.setattr(module, "BLOCK_SYMBOLS", 2)
    blocked = price_signals(closes, order)
    for k in whole:
        np.testing.assert_allclose(blocked[k], whole[k], rtol=1e-15, atol=0)
        assert np.isnan(whole[k][2]) and np.isfinite(np.delete(whole[k], 2)).all()


@pytest.mark.parametrize("signal", ["momentum", "low_volatility", "reversal"])
def test_a_history_one_session_short_has_no_value(signal: str) -> None:
    needed = SESSIONS_NEEDED[signal]
    assert np.isfinite(price_signals(_closes(needed), SYMBOLS)[signal]).all()
    assert np.isnan(price_signals(_closes(needed - 1), SYMBOLS)[signal]).all()
    late = _closes(needed)
    late.iloc[:2, 1] = np.nan  # BBB starts trading two sessions in
    assert np.isnan(price_signals(late, SYMBOLS)[signal]).tolist() == [False, True, False, False]


def test_point_in_time_closes_after_the_date_never_reach_the_signals() -> None:
    closes = _closes(1400)
    t = closes.index[1300]
    before = price_signals(closes.loc[:t], SYMBOLS)
    changed = closes.copy()
    changed.loc[changed.index > t] *= 3.0
    after = price_signals(changed.loc[:t], SYMBOLS)
    for k in before:
        np.testing.assert_array_equal(before[k], after[k])


def test_price_signals_are_peer_zscored_and_weighted_zero_by_default() -> None:
    closes = _closes(400)
    fundamentals = pd.DataFrame({"market_cap": [1e9, 2e9, 3e9, 4e9], "forward_pe": [10.0, 12, 14, 16],
                                 "eps_growth": [0.1, 0.2, 0.1, 0.3], "revenue_growth": [0.05] * 4,
                                 "style": ["a", "a", "b", "b"]}, index=list(SYMBOLS))
    default = ReturnsConfig()
    scores = signal_scores(fundamentals, SYMBOLS, ("equity",) * 4, default, closes)
    assert reported_signals(scores.signal_weights) == ("size", "value", "growth", "margin_expansion", "quality")
    assert not scores.warnings
    weighted = ReturnsConfig.model_validate({"signal_weights": {"momentum": 0.5, "reversal": 0.2},
                                             "peer_group": "style"})
    scores = signal_scores(fundamentals, SYMBOLS, ("equity",) * 4, weighted, closes)
    assert "momentum" in reported_signals(scores.signal_weights)
    for members in ([0, 1], [2, 3]):  # two assets a group: z-scores are -1 and +1
        assert sorted(scores.z["momentum"][members]) == pytest.approx([-1.0, 1.0])
    assert scores.warnings == ("signal reversal: no equity asset has 1261 sessions of closes up to the as-of "
                               "date; it scores 0 everywhere",)
    assert not scores.z["reversal"].any()
    short = closes.copy()
    short.iloc[:200, 0] = np.nan
    scores = signal_scores(fundamentals, SYMBOLS, ("equity",) * 4, weighted, short)
    assert scores.warnings[0] == ("signal momentum: price history too short for AAA (it needs 253 sessions of "
                                  "closes up to the as-of date); scored 0")
    assert scores.z["momentum"][0] == 0.0
