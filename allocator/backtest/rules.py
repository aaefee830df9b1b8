"""Did the rules pay: the RSI trims' hit rate and each signal's information coefficient, per date.

**RSI trims.** For each ``rsi_trim`` a strategy's decision made, the forward return of the trimmed fund over 21 and
63 sessions from the decision's close, against the forward return of what was kept (the strategy's other holdings
after that rebalance, at their weights then). A trim is a hit when the trimmed fund did worse than what was kept;
the hit rate is the share of hits among trims with a full horizon of prices after them.

**Signal IC.** On each rebalance of the ``config`` strategy, each signal's z-scores over the equity assets against
their return to the next rebalance (to the last session after the last): the Spearman rank correlation (ties at
their average rank). Its mean over dates and the t-statistic mean / (standard deviation / sqrt(dates)) say whether
the signal ranked the funds better than chance, out of sample.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import numpy as np
import pandas as pd

from allocator.backtest.journal import StrategyState
from allocator.terms import CASH_SYMBOL

HORIZONS = (21, 63)


@dataclass(frozen=True)
class TrimOutcome:
    """One RSI trim and how the trimmed fund did over each horizon against what was kept (None: too close to the
    end for the horizon)."""

    strategy: str
    date: str
    symbol: str
    rsi: float
    trimmed: dict[int, float | None]
    kept: dict[int, float | None]

    def hit(self, horizon: int) -> bool | None:
        trimmed, kept = self.trimmed[horizon], self.kept[horizon]
        return None if trimmed is None or kept is None else trimmed < kept


@dataclass(frozen=True)
class SignalIc:
    """A signal's rank IC on one date over ``assets`` equity assets (None when the z-scores or returns do not
    vary)."""

    date: str
    signal: str
    ic: float | None
    assets: int


def _forward(closes: pd.DataFrame, position: int, horizon: int, symbol: str) -> float | None:
    if position + horizon >= len(closes) or symbol not in closes.columns:
        return None
    start, end = closes[symbol].iloc[position], closes[symbol].iloc[position + horizon]
    return float(end / start - 1.0) if np.isfinite(start) and np.isfinite(end) and start > 0 else None


def trim_outcomes(state: StrategyState, closes: pd.DataFrame) -> list[TrimOutcome]:
    """The outcome of every ``rsi_trim`` in ``state`` (``closes``: the backtest's sessions, gaps carried)."""
    index = {d.strftime("%Y-%m-%d"): i for i, d in enumerate(closes.index)}
    weights_by_date: dict[str, dict[str, float]] = defaultdict(dict)
    for day, symbol, weight in state.weights:
        if symbol != CASH_SYMBOL:
            weights_by_date[day][symbol] = weight
    fill_dates = sorted(weights_by_date)
    found = []
    for day, rule, symbol, rsi, _ in state.rules:
        if rule != "rsi_trim" or day not in index:
            continue
        position = index[day]
        after = next((d for d in fill_dates if d >= day), None)
        kept = {s: w for s, w in (weights_by_date[after] if after else {}).items() if s != symbol and w > 0}
        trimmed_returns: dict[int, float | None] = {}
        kept_returns: dict[int, float | None] = {}
        for horizon in HORIZONS:
            trimmed_returns[horizon] = _forward(closes, position, horizon, symbol)
            parts = [(w, _forward(closes, position, horizon, s)) for s, w in kept.items()]
            usable = [(w, r) for w, r in parts if r is not None]
            total = sum(w for w, _ in usable)
            kept_returns[horizon] = (sum(w * r for w, r in usable) / total
                                     if usable and total > 0 and len(usable) == len(parts) else None)
        found.append(TrimOutcome(state.name, day, symbol, float(rsi), trimmed_returns, kept_returns))
    return found


def hit_rate(outcomes: list[TrimOutcome], horizon: int) -> tuple[float | None, int]:
    """The share of trims that were hits over ``horizon`` sessions, and how many trims had the full horizon."""
    hits = [o.hit(horizon) for o in outcomes]
    scored = [h for h in hits if h is not None]
    return (sum(scored) / len(scored) if scored else None), len(scored)


def _ranks(values: np.ndarray) -> np.ndarray:
    ranked: np.ndarray = pd.Series(values).rank(method="average").to_numpy()
    return ranked


def signal_ics(state: StrategyState, closes: pd.DataFrame, rebalance_dates: list[str]) -> list[SignalIc]:
    """Each signal's rank IC on each rebalance date of ``state`` (see the module docstring)."""
    index = {d.strftime("%Y-%m-%d"): i for i, d in enumerate(closes.index)}
    following = dict(zip(rebalance_dates, [*rebalance_dates[1:], closes.index[-1].strftime("%Y-%m-%d")],
                         strict=True))
    grouped: dict[tuple[str, str], list[tuple[str, float]]] = defaultdict(list)
    for day, signal, symbol, z in state.signals:
        grouped[(day, signal)].append((symbol, z))
    found = []
    for (day, signal), pairs in grouped.items():
        start, end = index[day], index[following.get(day, day)]
        if end <= start:
            continue
        z = np.array([p[1] for p in pairs])
        forward = np.array([closes[s].iloc[end] / closes[s].iloc[start] - 1.0 for s, _ in pairs])
        usable = np.isfinite(forward)
        z, forward = z[usable], forward[usable]
        if len(z) < 3 or np.ptp(z) == 0 or np.ptp(forward) == 0:
            found.append(SignalIc(day, signal, None, len(z)))
            continue
        found.append(SignalIc(day, signal, float(np.corrcoef(_ranks(z), _ranks(forward))[0, 1]), len(z)))
    return found


def ic_summary(ics: list[SignalIc]) -> dict[str, dict[str, float | int | None]]:
    """Per signal: the mean IC over dates, its t-statistic and the number of dates with an IC."""
    by_signal: dict[str, list[float]] = defaultdict(list)
    for item in ics:
        if item.ic is not None:
            by_signal[item.signal].append(item.ic)
    summary: dict[str, dict[str, float | int | None]] = {}
    for signal, values in sorted(by_signal.items()):
        array = np.array(values)
        spread = float(array.std(ddof=1)) if len(array) > 1 else 0.0
        summary[signal] = {"mean_ic": float(array.mean()), "dates": len(array),
                           "t_stat": float(array.mean() / (spread / np.sqrt(len(array)))) if spread > 0 else None}
    return summary
