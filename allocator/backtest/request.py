"""What ``allocate backtest`` was asked, resolved into the engine's inputs.

``BacktestRequest`` holds the command line (config, span, calendar, starting account); ``resolve`` loads the config,
applies the options over its ``backtest:`` keys (an option given wins), reads the inputs once, and returns the
strategies, the market history, the calendar, the starting account and the inputs by SHA-256 for the manifest.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd

from allocator.backtest.point_in_time import MarketHistory, read_market_history
from allocator.backtest.schedule import Schedule, rebalance_schedule
from allocator.backtest.simulation import Account
from allocator.backtest.strategies import Strategy, named_strategies
from allocator.config.loader import LoadedConfig, load_config
from allocator.config.schema import INITIAL_CASH_RANGE, BacktestConfig, RebalanceEvery
from allocator.errors import UsageError
from allocator.files.reading import FileLimits, sha256_of
from allocator.inputs.holdings import read_holdings
from allocator.inputs.lookback import MIN_RETURNS
from allocator.inputs.universe import universe_symbols
from allocator.pipeline import input_record
from allocator.trading.rounding import to_decimal


@dataclass(frozen=True)
class BacktestRequest:
    """The command: ``config`` and the options that override its ``backtest:`` keys (None: the config's)."""

    config: Path
    start: str | None = None
    end: str | None = None
    every: str | None = None
    holdings: Path | None = None
    initial_cash: Decimal | None = None

    def command(self) -> dict[str, Any]:
        """The request as ``manifest.json`` records it."""
        return {"command": "backtest", "config": str(self.config), "start": self.start, "end": self.end,
                "every": self.every, "holdings": None if self.holdings is None else str(self.holdings),
                "initial_cash": None if self.initial_cash is None else str(self.initial_cash)}


@dataclass(frozen=True)
class ResolvedBacktest:
    """Everything the engine needs, and the inputs (name -> path and SHA-256) the manifest records."""

    loaded: LoadedConfig
    strategies: list[Strategy]
    market: MarketHistory
    schedule: Schedule
    account: Account
    inputs: dict[str, dict[str, str]]

    @property
    def settings(self) -> BacktestConfig:
        return self.loaded.config.backtest


def _date(text: str | None, option: str) -> date | None:
    if text is None:
        return None
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        raise UsageError(option, f"not a date: {text!r}", "write it as YYYY-MM-DD")
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise UsageError(option, f"not a date: {text!r}", "write it as YYYY-MM-DD") from None


def _every(text: str | None) -> RebalanceEvery | int | None:
    if text is None:
        return None
    if text.isdigit() and int(text) >= 1:
        return int(text)
    try:
        return RebalanceEvery(text)
    except ValueError:
        raise UsageError("--every", f"not a calendar: {text!r}",
                         "give weekly, monthly, quarterly or a number of sessions") from None


def first_day_with_history(market: MarketHistory, loaded: LoadedConfig) -> date | None:
    """The default ``backtest.start``: the first session on which every symbol of the universe has the closes a
    run needs (``risk.lookback_days`` daily returns, at least 30 with ``all``, and the RSI period), counted from the
    latest first close among them; None when the file never has that many (the first rebalance then says so)."""
    cfg = loaded.config
    prices = market.prices
    symbols = universe_symbols(cfg, market.fundamentals_at(prices.index[-1]), str(loaded.path),
                               str(cfg.data.fundamentals))
    lookback = cfg.risk.lookback_days if isinstance(cfg.risk.lookback_days, int) else MIN_RETURNS
    needed = max(lookback + 1, cfg.rsi.period + 1)
    valid = prices.loc[:, [s for s in symbols if s in prices.columns]].notna().to_numpy()
    if valid.size == 0 or not valid.any(axis=0).all():
        return None  # a symbol without any close: the first rebalance names it
    row = int(valid.argmax(axis=0).max()) + needed - 1
    return prices.index[row].date() if row < len(prices) else None


def resolve(request: BacktestRequest) -> ResolvedBacktest:
    """Load the config, apply the options, read the inputs once (see the module docstring)."""
    if request.holdings is not None and request.initial_cash is not None:
        raise UsageError("--holdings/--initial-cash", "both given", "start from a holdings file or from cash, not both")
    low, high = (to_decimal(bound) for bound in INITIAL_CASH_RANGE)
    if request.initial_cash is not None and not low <= request.initial_cash <= high:
        raise UsageError("--initial-cash", f"{request.initial_cash:,f} is outside {low} .. {high:,.0f}",
                         "give the starting cash in the account currency, as backtest.initial_cash allows")
    loaded = load_config(request.config)
    settings = loaded.config.backtest
    updates = {key: value for key, value in (("start", _date(request.start, "--start")),
                                             ("end", _date(request.end, "--end")),
                                             ("every", _every(request.every))) if value is not None}
    settings = settings.model_copy(update=updates)
    if settings.start is not None and settings.end is not None and settings.start >= settings.end:
        raise UsageError("--start/--end", f"start {settings.start} is not before end {settings.end}",
                         "give a start before the end")
    loaded = dataclasses.replace(loaded, config=loaded.config.model_copy(update={"backtest": settings}))
    cfg = loaded.config
    market = read_market_history(loaded)
    if settings.start is None:
        settings = settings.model_copy(update={"start": first_day_with_history(market, loaded)})
        if settings.start is not None and settings.end is not None and settings.end < settings.start:
            raise UsageError("--end", f"end {settings.end} is before {settings.start}, the first date with the "
                             "history a rebalance needs (without --start the backtest starts there)",
                             f"give an end after {settings.start}")
        loaded = dataclasses.replace(loaded, config=loaded.config.model_copy(update={"backtest": settings}))
        cfg = loaded.config
    schedule = rebalance_schedule(pd.DatetimeIndex(market.prices.index), settings.start, settings.end,
                                  settings.every, settings.fill)
    if request.holdings is not None:
        limits = FileLimits.from_megabytes(cfg.data.max_file_mb, cfg.data.max_rows)
        first = schedule.sessions[schedule.decisions[0]]
        known = market.prices_until(first).notna().any()
        account = Account.of(read_holdings(request.holdings, cfg.data.holdings_columns, limits,
                                           cfg.trading.fractional_shares, cfg.data.cash_symbols,
                                           cfg.data.holdings_account),
                             set(known.index[known.to_numpy()]), first.date().isoformat())
    else:
        cash = request.initial_cash if request.initial_cash is not None else to_decimal(settings.initial_cash)
        account = Account(holding={}, cash=cash.quantize(Decimal("0.01")), lots={})
    inputs = input_record(request.holdings, loaded)
    if settings.cash_rate is not None:
        path = Path(settings.cash_rate.file)
        inputs["cash_rate"] = {"path": str(path), "sha256": sha256_of(path)}
    return ResolvedBacktest(loaded=loaded, strategies=named_strategies(loaded), market=market, schedule=schedule,
                            account=account, inputs=inputs)
