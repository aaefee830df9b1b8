"""Map an account onto the modelled universe: current weights, benchmark weights, trade prices and groups.

NAV = cash + sum(quantity * price) over every holding, inside the universe or not. Prices are the holdings
file's own where it gives them, else the last close on or before the as-of date.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

import numpy as np
import pandas as pd

from allocator.config.schema import Config, OutsidePolicy, ViewBy
from allocator.domain import FloatArray, Holdings, Universe, trusted_replace
from allocator.errors import ConfigError, DataError
from allocator.files.cells import canonical_symbol


def universe_symbols(config: Config, fundamentals: pd.DataFrame, config_path: str, fundamentals_path: str
                     ) -> tuple[str, ...]:
    """The universe: ``universe.symbols`` if given (each must be in the fundamentals), else every fundamentals row."""
    if config.universe.symbols is None:
        return tuple(str(s) for s in fundamentals.index)
    wanted = tuple(s.upper() for s in config.universe.symbols)
    duplicates = sorted({s for s in wanted if wanted.count(s) > 1})
    if duplicates:
        raise ConfigError(f"{config_path}: universe.symbols", f"listed twice: {', '.join(duplicates)}",
                          "list each symbol once")
    missing = [s for s in wanted if s not in fundamentals.index]
    if missing:
        raise DataError(fundamentals_path, f"no fundamentals row for universe symbols {', '.join(missing)}",
                        "add their rows or remove them from universe.symbols")
    return wanted


# how ``excluded_references`` says what becomes of an excluded constituent's benchmark weight (``allocate
# backtest``'s benchmark strategies spread it instead, and say so: ``strategies.Decision``)
COUNTED_AS_CASH = "is counted as cash"
SPREAD_OVER_ITS_CLASS = "is spread over the rest of its asset class by the benchmark strategies"


def excluded_references(config: Config, fundamentals: pd.DataFrame, excluded: Sequence[str], config_path: str
                        ) -> list[str]:
    """What the config and the fundamentals say about symbols ``excluded`` for gaps in their prices, as warnings
    (a per-symbol limit or cost that no longer applies; a benchmark weight now counted as cash). A weight in
    ``benchmark.weights`` is refused instead: the config names the benchmark the run must measure against."""
    out = set(excluded)
    named = sorted(out & {k.upper() for k in (config.benchmark.weights or {})})
    if named:
        raise ConfigError(f"{config_path}: benchmark.weights", f"{', '.join(named)} weighted in the benchmark but "
                          "excluded for gaps in their prices (data.on_gap: exclude; see the warnings)",
                          "fill their price history, or take them out of benchmark.weights")
    needed = [(f"returns.views[{i}].{side}", symbol) for i, view in enumerate(config.returns.views)
              if view.by is ViewBy.SYMBOL for side in ("long", "short") for symbol in getattr(view, side)]
    needed += [(f"rsi.groups[{i}].proxy", group.proxy) for i, group in enumerate(config.rsi.groups)]
    needed += [(f"constraints.groups[{i}].symbols", symbol) for i, group in enumerate(config.constraints.groups)
               for symbol in (group.symbols or ())]
    for key, symbol in needed:
        if canonical_symbol(symbol) in out:
            raise ConfigError(f"{config_path}: {key}", f"{canonical_symbol(symbol)} is excluded for gaps in its "
                              "prices (data.on_gap: exclude; see the warnings)",
                              "fill its price history, or name another symbol")
    warnings = []
    if config.benchmark.weights is None and "benchmark_weight" in fundamentals.columns:
        column = pd.to_numeric(fundamentals.loc[sorted(out), "benchmark_weight"], errors="coerce").fillna(0.0)
        for symbol, weight in column[column > 0].items():
            warnings.append(f"{symbol}'s benchmark weight ({weight:.2%}) {COUNTED_AS_CASH}: {symbol} is excluded "
                            "for gaps in its prices")
    c, t = config.constraints, config.trading
    for key, mapping in (("constraints.position_limits", c.position_limits),
                         ("constraints.active_limits", c.active_limits),
                         ("trading.cost_bps_by_symbol", t.cost_bps_by_symbol),
                         ("trading.spread_bps_by_symbol", t.spread_bps_by_symbol),
                         ("trading.adv_by_symbol", t.adv_by_symbol)):
        for symbol in sorted(out & {k.upper() for k in mapping}):
            warnings.append(f"{key}.{symbol} does not apply: {symbol} is excluded for gaps in its prices")
    return warnings


def benchmark_gaps(config: Config, fundamentals: pd.DataFrame, symbols: tuple[str, ...]) -> list[str]:
    """A warning naming the universe's symbols whose ``benchmark_weight`` cell is empty while others are filled:
    read as 0 (their benchmark weight becomes cash), which is right only if the benchmark does not hold them."""
    if config.benchmark.weights is not None or "benchmark_weight" not in fundamentals.columns:
        return []
    column = pd.to_numeric(fundamentals.loc[list(symbols), "benchmark_weight"], errors="coerce")
    empty = [str(s) for s, v in column.items() if pd.isna(v)]
    if not empty or len(empty) == len(symbols):
        return []
    return [f"benchmark_weight is empty for {', '.join(empty)}: read as 0 (not in the benchmark); give 0 where "
            "that is meant, or the weight"]


def _benchmark(config: Config, symbols: tuple[str, ...], fundamentals: pd.DataFrame, config_path: str,
               fundamentals_path: str) -> np.ndarray:
    if config.benchmark.weights is not None:
        weights = {k.upper(): v for k, v in config.benchmark.weights.items()}
        unknown = sorted(set(weights) - set(symbols))
        if unknown:
            raise ConfigError(f"{config_path}: benchmark.weights", f"symbols outside the universe: "
                              f"{', '.join(unknown)}", "add them to the universe or drop them from the benchmark")
        return np.array([weights.get(s, 0.0) for s in symbols], dtype=np.float64)
    column = fundamentals.loc[list(symbols), "benchmark_weight"].to_numpy(dtype=np.float64)
    if not np.isfinite(column).any() or np.nansum(column) <= 0:
        raise DataError(fundamentals_path, "no benchmark weights (benchmark_weight column empty, absent or all "
                        "zero)", "add a benchmark_weight column, set benchmark.weights in the config, or say "
                        "benchmark: none for an account without one")
    column = np.nan_to_num(column, nan=0.0).astype(np.float64)
    total = float(column.sum())
    if total > 1.0 + 1e-6:
        raise DataError(f"{fundamentals_path}: benchmark_weight", f"weights sum to {total:.6f}, above 1",
                        "benchmark weights are fractions summing to at most 1 (the rest is cash)")
    return np.asarray(column, dtype=np.float64)


def build_universe(
    config: Config,
    holdings: Holdings,
    fundamentals: pd.DataFrame,
    symbols: tuple[str, ...],
    last_close: pd.Series,
    config_path: str,
    fundamentals_path: str,
    excluded: tuple[str, ...] = (),
    model: Universe | None = None,
    closes: FloatArray | None = None,
) -> Universe:
    """Combine holdings, fundamentals and last closes into the ``Universe`` the optimizer works on.

    ``model`` is the ``model_universe`` of these arguments and ``closes`` the last closes of ``symbols`` (from
    ``last_close``) when the caller has them already (``allocate batch`` maps many accounts onto one)."""
    held = {p.symbol: p for p in holdings.positions}
    index = {s: i for i, s in enumerate(symbols)}
    n = len(symbols)
    quantity = np.zeros(n)
    price = (last_close.reindex(list(symbols)).to_numpy(dtype=np.float64) if closes is None else closes).copy()
    lot = np.full(n, float(config.trading.lot_size))
    for symbol, position in held.items():
        i = index.get(symbol)
        if i is not None:
            quantity[i] = position.quantity
            if position.price is not None:
                price[i] = position.price
            if position.lot_size is not None:
                lot[i] = position.lot_size
    outside = [p for p in holdings.positions if p.symbol not in index and p.quantity > 0]
    policy = config.universe.outside_holdings
    if outside and policy is OutsidePolicy.REFUSE:
        raise DataError(holdings.source, f"held symbols outside the universe: "
                        f"{', '.join(p.symbol for p in outside)}",
                        "add them to the universe or set universe.outside_holdings to hold or sell")
    outside_price = []
    for p in outside:
        value = p.price if p.price is not None else last_close.get(p.symbol, np.nan)
        if value is None or not np.isfinite(value):
            raise DataError(f"{holdings.source}: row {p.row}: price",
                            f"{p.symbol} is outside the universe and has no price (none in the file or history)",
                            "give its price in the holdings file or add its closes to the price file")
        outside_price.append(float(value))
    if not np.isfinite(price).all():
        bad = [symbols[i] for i in np.flatnonzero(~np.isfinite(price))]
        raise DataError(holdings.source, f"no price for {', '.join(bad)}", "add a price column or closes")
    outside_quantity = np.array([p.quantity for p in outside], dtype=np.float64)
    outside_prices = np.array(outside_price, dtype=np.float64)
    nav = float(holdings.cash_value) + float(quantity @ price) + float(outside_quantity @ outside_prices)
    if not nav > 0:
        raise DataError(holdings.source, f"the account's value is {nav:.2f}", "there is nothing to allocate")
    if model is None:
        model = model_universe(config, fundamentals, symbols, config_path, fundamentals_path, excluded)
    return trusted_replace(model, {
        "quantity": quantity,
        "price": price,
        "lot_size": lot,
        "weight": quantity * price / nav,
        "cash_value": holdings.cash_value,
        "nav_value": nav,
        "outside_symbols": tuple(p.symbol for p in outside),
        "outside_quantity": outside_quantity,
        "outside_price": outside_prices,
        "outside_sold": policy is OutsidePolicy.SELL,
    })


def model_universe(config: Config, fundamentals: pd.DataFrame, symbols: tuple[str, ...], config_path: str,
                   fundamentals_path: str, excluded: tuple[str, ...] = ()) -> Universe:
    """The universe with no account mapped onto it: its symbols, benchmark weights, sectors, size buckets and asset
    classes, which are all the model (risk, expected returns, views) reads; no holdings, all cash (NAV 1)."""
    n = len(symbols)
    info = fundamentals.loc[list(symbols)]
    return Universe(
        symbols=symbols,
        quantity=np.zeros(n),
        price=np.ones(n),
        lot_size=np.full(n, float(config.trading.lot_size)),
        weight=np.zeros(n),
        benchmark_weight=_benchmark(config, symbols, fundamentals, config_path, fundamentals_path),
        sector=tuple(str(x) for x in info["sector"]),
        size_bucket=tuple(str(x) for x in info["size_bucket"]),
        asset_class=tuple(str(x) for x in info["asset_class"]),
        cash_value=Decimal(1),
        nav_value=1.0,
        excluded=excluded,
        excluded_benchmark=_excluded_benchmark(config, fundamentals, excluded),
    )


def _excluded_benchmark(config: Config, fundamentals: pd.DataFrame, excluded: tuple[str, ...]) -> dict[str, float]:
    """The benchmark weight of the symbols ``excluded`` for gaps by asset class (their ``benchmark_weight`` cells; a
    weight in ``benchmark.weights`` is refused for them by ``excluded_references``)."""
    if not excluded or config.benchmark.weights is not None or "benchmark_weight" not in fundamentals.columns:
        return {}
    info = fundamentals.loc[[s for s in excluded if s in fundamentals.index]]
    weight = pd.to_numeric(info["benchmark_weight"], errors="coerce").fillna(0.0)
    held = weight > 0
    by_class = weight[held].groupby(info.loc[held, "asset_class"].astype(str).to_numpy(), sort=True).sum()
    return {str(k): float(v) for k, v in by_class.items()}
