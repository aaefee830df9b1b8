"""The macro regime from a series: the rate path from the 63-session change against the threshold, inflation from
the last print, only rows up to the date, and the config's values where the series cannot say."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from allocator.config.schema import MacroConfig, RatePath
from allocator.files.reading import FileLimits
from allocator.inputs.macro_series import read_macro_series
from allocator.model.macro_regime import macro_as_of, rate_path_of

SESSIONS = pd.bdate_range("2024-01-01", periods=200)
SERIES = pd.DataFrame({"short_rate": np.linspace(5.0, 4.0, 200),
                       "inflation_mom": [0.004 if d.day == 12 else np.nan for d in SESSIONS]}, index=SESSIONS)
MACRO = MacroConfig(source="series", series="macro.csv", rate_path="tightening", inflation_mom=0.001)


@pytest.mark.parametrize(("change", "path"), [(-0.26, RatePath.EASING), (-0.25, RatePath.HOLD), (0.0, RatePath.HOLD),
                                              (0.25, RatePath.HOLD), (0.2500001, RatePath.TIGHTENING),
                                              (5.14 - 4.89, RatePath.HOLD)])
def test_the_rate_path_against_a_quarter_point_threshold(change: float, path: RatePath) -> None:
    assert rate_path_of(change, 0.25) is path


def test_the_regime_is_read_from_the_series_on_the_date() -> None:
    macro, warnings = macro_as_of(SERIES, SESSIONS[:150], MACRO)
    change = SERIES["short_rate"].iloc[149] - SERIES["short_rate"].iloc[149 - 63]  # about -0.32 points
    assert change < -0.25 and macro.rate_path is RatePath.EASING and not warnings
    twelfth = SERIES["inflation_mom"].iloc[:150].dropna()
    assert macro.inflation_mom == twelfth.iloc[-1]
    loose = MACRO.model_copy(update={"rate_threshold": 0.5})
    assert macro_as_of(SERIES, SESSIONS[:150], loose)[0].rate_path is RatePath.HOLD


def test_rows_after_the_date_change_nothing() -> None:
    t = 120
    perturbed = SERIES.copy()
    perturbed.iloc[t + 1:] = [[9.0, 0.02]]
    assert macro_as_of(SERIES, SESSIONS[:t + 1], MACRO) == macro_as_of(perturbed, SESSIONS[:t + 1], MACRO)
    assert macro_as_of(perturbed, SESSIONS[:t + 3], MACRO)[0].rate_path is RatePath.TIGHTENING


def test_without_three_months_of_rates_the_config_path_stands_and_is_named() -> None:
    macro, warnings = macro_as_of(SERIES, SESSIONS[:50], MACRO)
    assert macro.rate_path is RatePath.TIGHTENING
    assert warnings == [f"macro series macro.csv: no short rate 63 sessions before {SESSIONS[49].date()} to measure "
                        "its 3-month change; rate path tightening from the config"]
    early = SERIES.assign(inflation_mom=np.nan)
    macro, warnings = macro_as_of(early, SESSIONS[:100], MACRO)
    assert macro.inflation_mom == 0.001 and "no inflation print" in warnings[0]
    stale = SERIES.iloc[:60]
    assert "the last short rate is of" in macro_as_of(stale, SESSIONS[:150], MACRO)[1][0]


def test_the_13_week_bill_gives_the_known_episodes_month_by_month(shared_data: Path) -> None:
    """Real ^IRX yields 2006-2026 at each month's last ETF session: the 2008 cuts, the 2022 hikes, the long hold
    at zero; the counts are those docs/backtest.md reports."""
    macro = MacroConfig(source="series", series=shared_data / "rates_irx_tnx.csv",
                        rate_column="IRX_13w_tbill_yield_pct")
    series = read_macro_series(macro, FileLimits.from_megabytes(200, 10_000_000))
    sessions = pd.DatetimeIndex(pd.read_csv(shared_data / "etf_prices_adjclose.csv", usecols=["Date"],
                                            parse_dates=["Date"])["Date"])
    month_ends = sessions.to_series().groupby(sessions.to_period("M")).max().loc["2006-01":]
    paths = {end.strftime("%Y-%m"): macro_as_of(series, sessions[sessions <= end], macro)[0].rate_path
             for end in month_ends}
    assert len(paths) == 247 and Counter(p.value for p in paths.values()) == {"hold": 170, "tightening": 41,
                                                                              "easing": 36}
    assert paths["2008-12"] is RatePath.EASING and paths["2020-03"] is RatePath.EASING
    assert paths["2022-06"] is RatePath.TIGHTENING and paths["2015-06"] is RatePath.HOLD
