"""Wilder's Relative Strength Index and the limits its rules set.

RSI (Wilder 1978): the first average gain and loss are simple means of the first ``period`` changes; later
averages are smoothed, ``avg = (avg_prev * (period - 1) + change) / period``; ``RSI = 100 - 100 / (1 + RS)`` with
``RS = avg_gain / avg_loss``. This matches the StockCharts ChartSchool worked example and TA-Lib.

The rules (docs/method.md, "RSI trims"), weights in fractions of NAV, ``w0`` the current weight, ``b`` the
benchmark weight:
- a fund is overbought when its RSI crossed ``overbought`` and has not since fallen under ``release``
  (hysteresis, read back along the RSI series);
- an overbought fund may not be added to and is trimmed: ``w <= (1 - min_trim) * w0`` (``trim: position``) or
  ``w <= b + (1 - min_trim) * (w0 - b)`` when ``w0 > b`` (``trim: overweight``; no rule at or under ``b``); when
  graded, min_trim rises linearly from 0 at ``overbought`` to ``min_trim`` at ``extreme``; with ``sale_floor``,
  also ``w >= (1 - max_trim) * w0`` (or ``b + (1 - max_trim) * (w0 - b)``);
- ``scope: correlated``: every asset whose return correlation with an overbought fund that has a rule is above
  ``correlation`` may not gain weight, ``w <= w0``;
- ``scope: group``: when a group's proxy is overbought, the group's total weight may not rise above its current
  total less the trims its overbought members must make (a trim is not bought back through another member);
- ``RSI <= oversold`` and ``no_sell_when_oversold``: ``w >= w0``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from allocator.config.schema import RsiConfig, RsiScope, RsiTrim
from allocator.domain import FloatArray, RiskModel, RsiRule
from allocator.errors import ConfigError


def wilder_rsi(closes: FloatArray, period: int = 14) -> FloatArray:
    """RSI of each column of ``closes`` (rows are days), NaN for the first ``period`` rows.

    A column with no losses over the averaging reads 100; with neither gains nor losses, 50.
    """
    closes = np.asarray(closes, dtype=np.float64)
    one_dim = closes.ndim == 1
    values = closes[:, None] if one_dim else closes
    out = np.full(values.shape, np.nan)
    if values.shape[0] > period:
        out[period:] = np.vstack(list(_wilder_blocks(values, period)))
    return out[:, 0] if one_dim else out


@dataclass(frozen=True)
class RsiReading:
    """The RSI of each asset on the last day and whether it is overbought then, hysteresis included (as
    ``overbought_with_release`` reads the whole series)."""

    rsi: FloatArray
    overbought: np.ndarray


def latest_rsi(closes: FloatArray, period: int, overbought: float, release: float) -> RsiReading:
    """``wilder_rsi`` on the last row of ``closes`` (rows are days, one column an asset) and the overbought state
    of ``overbought_with_release``, in one pass over the days that keeps a block of ``BLOCK_DAYS`` rows: memory
    grows with the assets, not with assets times days."""
    values = np.asarray(closes, dtype=np.float64)  # either memory order: a copy would double the peak
    values = values[:, None] if values.ndim == 1 else values
    last = np.full(values.shape[1], np.nan)
    hot = np.zeros(values.shape[1], dtype=bool)
    if values.shape[0] <= period:
        return RsiReading(rsi=last, overbought=hot)
    for block in _wilder_blocks(values, period):
        # the state so far as a first row: an overbought asset reads +inf (hot), any other NaN (released)
        carried = np.where(hot, np.inf, np.nan)
        hot = overbought_with_release(np.vstack([carried, block]), overbought, release)
        last = block[-1]
    return RsiReading(rsi=last, overbought=hot)


BLOCK_DAYS = 128  # RSI rows computed together: the smoothing is a loop over days, the rest one array operation
BLOCK_CELLS = 250_000  # ... and fewer rows for a wide universe, so a block stays near 2 MB an array (25 rows at 10,000)


def _wilder_blocks(values: FloatArray, period: int) -> Iterator[FloatArray]:
    """Wilder's RSI of every column (rows of ``values`` are days) for each day from row ``period`` on, in blocks
    of at most ``BLOCK_DAYS`` rows: one row of averages (gains and losses side by side) is carried from day to
    day, ``avg = (avg_prev * (period - 1) + move) / period`` in that order of operations."""
    n = values.shape[1]
    change = np.diff(values[: period + 1], axis=0)
    average = np.concatenate([np.clip(change, 0.0, None).mean(axis=0), np.clip(-change, 0.0, None).mean(axis=0)])
    yield _rsi_from(average[None, :n], average[None, n:])
    rows = max(8, min(BLOCK_DAYS, BLOCK_CELLS // max(n, 1)))
    for start in range(period + 1, values.shape[0], rows):
        stop = min(start + rows, values.shape[0])
        change = values[start:stop] - values[start - 1:stop - 1]
        averages = np.concatenate([np.clip(change, 0.0, None), np.clip(-change, 0.0, None)], axis=1)
        for row in averages:  # each row holds the day's moves and becomes the day's averages, in place
            np.add(average * (period - 1), row, out=row)
            np.divide(row, period, out=row)
            average = row
        yield _rsi_from(averages[:, :n], averages[:, n:])


def _rsi_from(avg_gain: FloatArray, avg_loss: FloatArray) -> FloatArray:
    with np.errstate(divide="ignore", invalid="ignore"):
        rsi = 100.0 - 100.0 / (1.0 + avg_gain / avg_loss)
    rsi = np.where(avg_loss == 0, np.where(avg_gain == 0, 50.0, 100.0), rsi)
    return np.asarray(rsi, dtype=np.float64)


def overbought_with_release(history: FloatArray, overbought: float, release: float) -> np.ndarray:
    """Whether each column of an RSI ``history`` (rows are days, the last the as-of date) is overbought on its
    last row: its RSI reached ``overbought`` on some day and has not fallen under ``release`` since.

    A ``release`` at or above ``overbought`` means no hysteresis (overbought is ``RSI >= overbought`` on the last
    row); a NaN (the first ``period`` rows) releases the rule like a low RSI.
    """
    values = np.asarray(history, dtype=np.float64)
    values = values[:, None] if values.ndim == 1 else values
    if values.shape[0] == 0:
        return np.zeros(values.shape[1], dtype=bool)
    with np.errstate(invalid="ignore"):
        hot = values >= overbought
        released = ~(values >= min(release, overbought))
    day = np.arange(values.shape[0])[:, None]
    last_hot = np.max(np.where(hot, day, -1), axis=0)
    last_released = np.max(np.where(released, day, -1), axis=0)
    result: np.ndarray = last_hot > last_released
    return result


@dataclass(frozen=True)
class RsiGroupCap:
    """A group frozen by ``rsi.scope: group``: its members' total weight at most ``upper`` (its current
    total less its members' required trims) while ``proxy`` is overbought. ``key`` names the config entry
    (``rsi.groups[0]``)."""

    key: str
    label: str
    members: np.ndarray
    upper: float
    proxy: str
    rsi: float


@dataclass(frozen=True)
class RsiLimits:
    """Per-asset weight bounds set by the RSI rules (``-inf``/``inf`` where no rule applies), the group caps of
    ``scope: group`` and the rules that fired."""

    rsi: FloatArray
    lower: FloatArray
    upper: FloatArray
    rules: tuple[RsiRule, ...]
    groups: tuple[RsiGroupCap, ...] = ()
    hot: np.ndarray | None = None  # overbought after hysteresis, per asset

    @property
    def overbought(self) -> np.ndarray:
        """Whether each asset is overbought (its RSI crossed ``overbought`` and has not fallen under ``release``)."""
        if self.hot is not None:
            return self.hot
        return np.zeros(len(self.rsi), dtype=bool)

    def by_symbol(self) -> dict[str, RsiRule]:
        """The rule that explains a trade in each asset: its own rule first, then a correlated rule, then the
        group rule of a group it belongs to. Computed once (each binding RSI limit of the summary asks it), so not
        to be changed."""
        return self._rules_by_symbol

    @cached_property
    def _rules_by_symbol(self) -> dict[str, RsiRule]:
        found: dict[str, RsiRule] = {}
        for rule in self.rules:
            if rule.rule == "rsi_group":
                continue
            if rule.symbol not in found or found[rule.symbol].rule == "rsi_correlated":
                found[rule.symbol] = rule
        for rule in self.rules:
            if rule.rule == "rsi_group":
                for member in rule.members:
                    found.setdefault(member, rule)
        return found


def rsi_limits(config: RsiConfig, symbols: tuple[str, ...], rsi: FloatArray, current_weight: FloatArray, *,
               history: FloatArray | None = None, hot: np.ndarray | None = None, benchmark: FloatArray | None = None,
               risk: RiskModel | None = None, group_labels: Callable[[str], Sequence[str]] | None = None,
               config_path: str = "config") -> RsiLimits:
    """The RSI bounds for each asset given its latest RSI (``rsi``) and current weight.

    ``hot`` (``latest_rsi``) or ``history`` (rows are days ending at the as-of date) gives the hysteresis; without
    either an asset is overbought when its latest RSI is. ``benchmark`` is needed by ``trim: overweight``, ``risk``
    by ``scope: correlated`` and ``group_labels`` (``Universe.group_labels``) by ``scope: group``.
    """
    n = len(symbols)
    lower = np.full(n, -np.inf)
    upper = np.full(n, np.inf)
    rules: list[RsiRule] = []
    if not config.enabled:
        return RsiLimits(rsi=rsi, lower=lower, upper=upper, rules=(), hot=np.zeros(n, dtype=bool))
    if hot is None:
        history = np.asarray(rsi, dtype=np.float64)[None, :] if history is None else history
        hot = overbought_with_release(history, config.overbought, config.release)
    hot = np.asarray(hot, dtype=bool)
    base = np.zeros(n) if benchmark is None else np.asarray(benchmark, dtype=np.float64)
    values = np.asarray(rsi, dtype=np.float64)
    candidates = hot  # the assets a rule may apply to: overbought, or oversold when that rule is on
    if config.no_sell_when_oversold:
        with np.errstate(invalid="ignore"):
            candidates = hot | (values <= config.oversold)
    for i in np.flatnonzero(np.isfinite(values) & candidates):
        symbol, value, w0 = symbols[i], float(values[i]), float(current_weight[i])
        if hot[i]:
            anchor = float(base[i]) if config.trim is RsiTrim.OVERWEIGHT else 0.0
            if w0 <= anchor + 1e-12 and config.trim is RsiTrim.OVERWEIGHT:
                continue  # at or under the benchmark: nothing to trim
            min_trim = config.min_trim
            if config.graded:
                ramp = (value - config.overbought) / (config.extreme - config.overbought)
                min_trim = config.min_trim * float(np.clip(ramp, 0.0, 1.0))
            upper[i] = anchor + (1.0 - min_trim) * (w0 - anchor)
            if config.sale_floor:
                lower[i] = anchor + (1.0 - config.max_trim) * (w0 - anchor)
            label = "rsi_trim" if min_trim > 0 and w0 > 0 else "rsi_no_add"
            held = config.overbought if value < config.overbought else None  # overbought by hysteresis
            rules.append(RsiRule(symbol, value, label, float(lower[i]) if config.sale_floor else None,
                                 float(upper[i]), held_since=held))
        elif value <= config.oversold and config.no_sell_when_oversold:
            lower[i] = w0
            rules.append(RsiRule(symbol, value, "rsi_no_sell", w0, None))
    groups: tuple[RsiGroupCap, ...] = ()
    if config.scope is RsiScope.CORRELATED:
        position = {symbol: i for i, symbol in enumerate(symbols)}
        sources = [position[r.symbol] for r in rules if r.rule in ("rsi_trim", "rsi_no_add")]
        rules.extend(_correlated(config, symbols, rsi, current_weight, hot, risk, sources, upper))
    elif config.scope is RsiScope.GROUP:
        groups = _group_caps(config, symbols, rsi, current_weight, hot, group_labels, config_path, upper)
        rules.extend(RsiRule(g.proxy, g.rsi, "rsi_group", None, g.upper, group=g.label,
                             members=tuple(s for s, m in zip(symbols, g.members, strict=True) if m))
                     for g in groups)
    return RsiLimits(rsi=rsi, lower=lower, upper=upper, rules=tuple(rules), groups=groups, hot=hot)


def correlations_with(risk: RiskModel, source: int, volatility: FloatArray | None = None) -> FloatArray:
    """The return correlation of every asset with asset ``source``, from the risk model's annualized covariance
    (one product ``Sigma @ e``, so a factor model never forms the n-by-n matrix). ``volatility`` is
    ``risk.volatility``, passed when known (it is computed otherwise)."""
    unit = np.zeros(len(risk.symbols))
    unit[source] = 1.0
    column = risk.covariance_times(unit)
    volatility = risk.volatility if volatility is None else volatility
    with np.errstate(divide="ignore", invalid="ignore"):
        result: FloatArray = np.where(volatility > 0, column / (volatility * volatility[source]), 0.0)
    return result


def _correlated(config: RsiConfig, symbols: tuple[str, ...], rsi: FloatArray, current_weight: FloatArray,
                hot: np.ndarray, risk: RiskModel | None, sources: list[int], upper: FloatArray) -> list[RsiRule]:
    """No adds to the substitutes of each overbought source; ``upper`` is tightened in place."""
    if not sources:
        return []
    if risk is None:
        raise ValueError("rsi.scope correlated needs the risk model")
    best: dict[int, tuple[float, int]] = {}
    volatility = risk.volatility
    for j in sources:
        corr = correlations_with(risk, j, volatility)
        for i in (int(k) for k in np.flatnonzero(corr > config.correlation)):
            if i == j or hot[i]:  # an overbought asset keeps its own rule
                continue
            if i not in best or corr[i] > best[i][0]:
                best[i] = (float(corr[i]), j)
    found = []
    for i in sorted(best):
        value, j = best[i]
        w0 = float(current_weight[i])
        upper[i] = min(upper[i], w0)
        found.append(RsiRule(symbols[i], float(rsi[i]), "rsi_correlated", None, w0, source=symbols[j],
                             correlation=value))
    return found


def _group_caps(config: RsiConfig, symbols: tuple[str, ...], rsi: FloatArray, current_weight: FloatArray,
                hot: np.ndarray, group_labels: Callable[[str], Sequence[str]] | None, config_path: str,
                upper: FloatArray | None = None
                ) -> tuple[RsiGroupCap, ...]:
    if group_labels is None:
        raise ValueError("rsi.scope group needs the universe's group labels")
    caps = []
    for index, g in enumerate(config.groups):
        key = f"rsi.groups[{index}]"
        proxy = g.proxy.upper()
        if proxy not in symbols:
            raise ConfigError(f"{config_path}: {key}.proxy", f"the proxy {proxy} is not in the universe",
                              "name a fund of the universe whose RSI stands for the group")
        labels = np.array([str(label).lower() for label in group_labels(g.by.value)])
        members = labels == g.name.lower()
        if not members.any():
            raise ConfigError(f"{config_path}: {key}.name", f"no asset has {g.by.value} {g.name!r}",
                              f"use one of: {', '.join(sorted(set(labels)))}")
        p = symbols.index(proxy)
        if hot[p] and np.isfinite(rsi[p]):
            # the group may not rise above its current total less the trims its own members must make, so a
            # trimmed fund's weight is not bought back through another member of the group
            trims = 0.0 if upper is None else float(np.clip(current_weight - upper, 0.0, None)[members].sum())
            caps.append(RsiGroupCap(key=key, label=f"{g.by.value} {g.name}", members=members,
                                    upper=float(current_weight[members].sum()) - trims, proxy=proxy,
                                    rsi=float(rsi[p])))
    return tuple(caps)
