"""Signals: winsorized z-scores, the macro multiplier table, and the alpha attribution."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from allocator.config.schema import MacroConfig, ReturnsConfig
from allocator.model.signals import macro_multipliers, raw_signals, signal_scores, winsorized_zscore


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=3, max_size=60))
def test_zscores_have_mean_zero_and_unit_spread(values: list[float]) -> None:
    x = np.array(values)
    z = winsorized_zscore(x, np.ones(len(x), dtype=bool), 3.0)
    assert np.all(np.abs(z) <= 3.0)
    if x.std() <= 1e-12 * max(1.0, float(np.abs(x).max())):  # no spread beyond rounding: no signal, every score 0
        assert np.all(z == 0)
        return
    assert z.std() > 0, "values with a spread get scores with a spread"
    assert np.all(np.sign(z[x > x.mean()]) == 1) and np.all(np.sign(z[x < x.mean()]) == -1)
    if np.abs(z).max() < 3.0:  # nothing was winsorized: an exact z-score
        assert abs(z.mean()) < 1e-9
        assert z.std() == pytest.approx(1.0, abs=1e-9)
    order = np.argsort(x, kind="stable")
    assert np.all(np.diff(z[order]) >= -1e-12), "the scores keep the order of the values"


def test_winsorizing_pulls_in_an_outlier() -> None:
    x = np.r_[np.zeros(30), 100.0]  # a lone outlier z-scores sqrt(30) = 5.48 whatever its size
    z = winsorized_zscore(x, np.ones(31, dtype=bool), 3.0)
    assert (x - x.mean())[-1] / x.std() == pytest.approx(np.sqrt(30))  # so the cut does act
    assert z[-1] == 3.0
    assert np.all(z[:-1] == z[0]) and z[0] < 0


def test_non_equity_and_missing_data_score_zero() -> None:
    x = np.array([1.0, 2.0, np.nan, 4.0, 100.0])
    mask = np.array([True, True, True, True, False])
    z = winsorized_zscore(x, mask, 3.0)
    assert z[2] == 0 and z[4] == 0
    assert abs(z[mask & np.isfinite(x)].mean()) < 1e-12


@pytest.mark.parametrize(
    "macro, expected",
    [
        ({"rate_path": "easing", "inflation_mom": 0.0012}, ("goldilocks", 1.0, 1.0, 1.0, 1.0)),
        ({"rate_path": "hold"}, ("hold", 0.5, 1.0, 1.0, 1.0)),
        ({"rate_path": "tightening"}, ("hawkish", -0.5, 1.0, 0.5, 1.0)),
        ({"rate_path": "easing", "inflation_mom": 0.004}, ("hawkish", -0.5, 1.0, 0.5, 1.0)),
        ({"growth": "slowing"}, ("goldilocks+slowing", 0.5, 1.0, 0.25, 1.0)),
        ({"growth": "contracting"}, ("goldilocks+contracting", 0.0, 1.0, -0.5, 1.0)),
        ({"rate_path": "tightening", "growth": "slowing"}, ("hawkish+slowing", -0.25, 1.0, 0.125, 1.0)),
    ],
)
def test_macro_multipliers_follow_the_design_table(macro: dict[str, object], expected: tuple[object, ...]) -> None:
    regime, m = macro_multipliers(MacroConfig.model_validate(macro))
    assert (regime, m["size"], m["value"], m["growth"], m["margin_expansion"]) == expected


def _fundamentals() -> pd.DataFrame:
    return pd.DataFrame(
        {"market_cap": [1e12, 3e9, 2e9, np.nan], "forward_pe": [22.5, 19.1, -5.0, np.nan],
         "eps_growth": [0.14, 0.20, 0.18, np.nan], "revenue_growth": [0.06, 0.04, 0.04, np.nan]},
        index=["SPY", "IWM", "IJR", "AGG"])


def test_raw_signals() -> None:
    raw = raw_signals(_fundamentals(), ("SPY", "IWM", "IJR", "AGG"))
    assert raw["size"][1] == pytest.approx(-np.log(3e9))
    assert raw["value"][0] == pytest.approx(1 / 22.5)
    assert np.isnan(raw["value"][2]), "a negative P/E has no value score"
    assert raw["margin_expansion"][1] == pytest.approx(0.16)


def test_scores_name_missing_data_and_rank_small_caps_high() -> None:
    scores = signal_scores(_fundamentals(), ("SPY", "IWM", "IJR", "AGG"), ("equity", "equity", "equity", "bond"),
                           ReturnsConfig())
    assert scores.z["size"][0] < scores.z["size"][1]
    assert scores.composite[3] == 0.0
    assert any("signal value: no data for IJR" in w for w in scores.warnings)
    assert abs(scores.composite[:3].mean()) < 1e-12 and scores.composite[:3].std() == pytest.approx(1.0)
