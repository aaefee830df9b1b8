"""Short rates and inflation prints -> the macro regime on a date (``returns.macro.source: series``).

Point in time by construction: on the as-of date ``t`` (the last price session) only the series' rows dated on or
before ``t`` are read (``docs/method.md``, "Macro from series"):
- the **rate path** from the change of the short rate over ``RATE_CHANGE_SESSIONS`` (63) price sessions, about three
  months: ``change = r(t) - r(t - 63)`` in percentage points, each ``r`` the last print at or before its session;
  ``change < -rate_threshold`` is ``easing``, ``change > +rate_threshold`` ``tightening``, anything between
  (inclusive) ``hold``;
- **inflation** (``inflation_mom``, monthly fraction): the last print at or before ``t``.
Where the series cannot say (no print 63 sessions back, or no inflation column or print yet) the config's
``rate_path`` or ``inflation_mom`` stands, and a warning says so.
"""

from __future__ import annotations

import pandas as pd

from allocator.config.schema import MacroConfig, RatePath

RATE_CHANGE_SESSIONS = 63  # price sessions: three months
STALE_DAYS = 31  # calendar days: a last short rate older than this is named


def last_print(column: pd.Series, day: pd.Timestamp) -> tuple[pd.Timestamp, float] | None:
    """The last non-empty value of ``column`` dated on or before ``day``, with its date; None when there is none."""
    known = column.iloc[:int(column.index.searchsorted(day, side="right"))].dropna()
    if known.empty:
        return None
    return pd.Timestamp(known.index[-1]), float(known.iloc[-1])


def rate_path_of(change: float, threshold: float) -> RatePath:
    """``easing`` below ``-threshold`` (percentage points), ``tightening`` above ``+threshold``, else ``hold``.
    The change is rounded to 1e-9 first, so a quoted 0.25 point move is exactly at a 0.25 threshold (hold)."""
    change = round(change, 9)
    if change < -threshold:
        return RatePath.EASING
    if change > threshold:
        return RatePath.TIGHTENING
    return RatePath.HOLD


def macro_as_of(series: pd.DataFrame, sessions: pd.DatetimeIndex, macro: MacroConfig
                ) -> tuple[MacroConfig, list[str]]:
    """``macro`` with ``rate_path`` and ``inflation_mom`` read from ``series`` (``short_rate`` in percent, optional
    ``inflation_mom``, indexed by date) on the last of ``sessions`` (the price sessions up to the as-of date), and
    the warnings of what the series could not give."""
    day = pd.Timestamp(sessions[-1])
    where = f"macro series {macro.series.name if macro.series is not None else ''}".strip()
    warnings: list[str] = []
    updates: dict[str, object] = {}
    now = last_print(series["short_rate"], day)
    then = (last_print(series["short_rate"], pd.Timestamp(sessions[-1 - RATE_CHANGE_SESSIONS]))
            if len(sessions) > RATE_CHANGE_SESSIONS else None)
    if now is None or then is None:
        warnings.append(f"{where}: no short rate {RATE_CHANGE_SESSIONS} sessions before {day.date()} to measure "
                        f"its 3-month change; rate path {macro.rate_path.value} from the config")
    else:
        updates["rate_path"] = rate_path_of(now[1] - then[1], macro.rate_threshold)
        if (day - now[0]).days > STALE_DAYS:
            warnings.append(f"{where}: the last short rate is of {now[0].date()}, {(day - now[0]).days} days before "
                            f"{day.date()}; the rate path is read from it")
    inflation = last_print(series["inflation_mom"], day) if "inflation_mom" in series.columns else None
    if inflation is not None:
        updates["inflation_mom"] = inflation[1]
    elif "inflation_mom" in series.columns:
        warnings.append(f"{where}: no inflation print on or before {day.date()}; inflation_mom "
                        f"{macro.inflation_mom:g} from the config")
    return macro.model_copy(update=updates), warnings
