"""The whole rebalance as one library call: ``run(holdings, config)`` -> ``RunResult``.

``prepare`` reads and validates every input and computes everything up to the optimization (signals, expected
returns, risk, RSI, limits) without importing CVXPY, so ``allocate validate`` is quick; ``run`` then solves,
rounds to trades and reconciles. Nothing here prints or writes files.
"""

from __future__ import annotations

import dataclasses
import datetime
import re
import time
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from allocator.config.loader import LoadedConfig, load_config
from allocator.config.schema import Config, GapPolicy, OutsidePolicy, SplitPolicy, TradingMode
from allocator.domain import FloatArray, Holdings, ReturnModel, RiskModel, Scores, Universe
from allocator.errors import AllocatorError, DataError, InfeasibleError, UsageError
from allocator.files.reading import FileLimits, sha256_of
from allocator.inputs.holdings import read_holdings
from allocator.inputs.market_data import PriceWindow, last_closes, price_window, read_fundamentals, read_prices
from allocator.inputs.universe import build_universe, universe_symbols
from allocator.model.expected_returns import expected_returns, with_views
from allocator.model.risk_estimation import estimate
from allocator.model.rsi import RsiLimits, latest_rsi, rsi_limits
from allocator.model.signals import signal_scores
from allocator.optimize.constraints import Limits, build_limits

if TYPE_CHECKING:
    from allocator.optimize.diagnosis import Diagnosis
    from allocator.optimize.problem import Allocation, ProblemCache, SolverAttempt
    from allocator.trading.trades import TradeList


@dataclass(frozen=True)
class Prepared:
    """Every input read and every pre-optimization stage computed."""

    loaded: LoadedConfig
    holdings: Holdings
    universe: Universe
    window: PriceWindow
    risk: RiskModel
    scores: Scores
    returns: ReturnModel
    rsi: RsiLimits
    limits: Limits
    inputs: dict[str, dict[str, str]]
    warnings: tuple[str, ...]
    presolve_conflicts: tuple[str, ...]
    deposit_value: Decimal = Decimal(0)  # ``--cash``, added to the holdings' cash

    @property
    def config(self) -> Config:
        return self.loaded.config


@dataclass(frozen=True)
class RunResult:
    """A finished rebalance: the prepared inputs, the optimal weights and the reconciled trades."""

    prepared: Prepared
    allocation: Allocation
    trades: TradeList
    limits: Limits
    timings: dict[str, float] = field(default_factory=dict)
    relaxations: tuple[str, ...] = ()

    @property
    def config(self) -> Config:
        return self.prepared.config

    @property
    def universe(self) -> Universe:
        return self.prepared.universe

    @property
    def returns(self) -> ReturnModel:
        return self.prepared.returns

    @property
    def risk(self) -> RiskModel:
        return self.prepared.risk

    @property
    def scores(self) -> Scores:
        return self.prepared.scores

    @property
    def rsi(self) -> RsiLimits:
        return self.prepared.rsi

    @property
    def as_of(self) -> datetime.date:
        """The date of the closes the run used."""
        as_of: datetime.date = self.prepared.window.as_of.date()
        return as_of

    @property
    def warnings(self) -> tuple[str, ...]:
        """Every warning of the run: the inputs' then the trades'."""
        return (*self.prepared.warnings, *self.trades.warnings)


def estimate_risk(config: Config, daily_returns: FloatArray, symbols: tuple[str, ...],
                  universe: Universe | None = None, market_cap: FloatArray | None = None,
                  config_path: str = "config") -> RiskModel:
    """The configured covariance estimator on the window's daily returns (annualized), in the formulation the
    optimizer should use (``risk.formulation``; see ``allocator.model.risk_estimation``).

    The fundamental model needs the universe's sectors and the market caps (NaN where unknown).
    """
    return estimate(config.risk, daily_returns, symbols, universe, market_cap, config_path)


def _holdings_with_cash(holdings: Holdings, cash: Decimal | None) -> Holdings:
    if cash is None:
        return holdings
    if cash < 0:
        raise UsageError("--cash", f"cash {cash} is negative", "give a non-negative amount")
    return dataclasses.replace(holdings, cash_value=holdings.cash_value + cash)


def prepare(
    holdings_path: str | Path,
    config: str | Path | LoadedConfig,
    as_of: str | None = None,
    cash: Decimal | None = None,
    prices: pd.DataFrame | None = None,
    fundamentals: pd.DataFrame | None = None,
    mode: TradingMode | None = None,
    raise_value: Decimal | None = None,
) -> Prepared:
    """Read every input, validate it, and compute signals, expected returns, risk, RSI and the limits.

    ``prices`` and ``fundamentals`` may be passed already read (``compare`` reads them once for every scenario).
    ``cash`` is a deposit (``--cash``); ``mode`` and ``raise_value`` override ``trading.mode`` and
    ``trading.raise_value`` (``--mode``, ``--raise``).
    """
    loaded = config if isinstance(config, LoadedConfig) else load_config(config)
    cfg = loaded.config
    config_path = str(loaded.path)
    file_limits = FileLimits.from_megabytes(cfg.data.max_file_mb, cfg.data.max_rows)
    holdings_path = Path(holdings_path)
    holdings = _holdings_with_cash(
        read_holdings(holdings_path, cfg.data.holdings_columns, file_limits, cfg.trading.fractional_shares,
                      cfg.data.cash_symbols, cfg.data.holdings_account), cash)
    for key, path in (("prices", cfg.data.prices), ("fundamentals", cfg.data.fundamentals)):
        if not Path(path).exists():
            raise DataError(str(path), f"the {key} file named by data.{key} does not exist",
                            f"check data.{key} in {config_path} (relative to the config that names it)")
    if prices is None:
        prices = read_prices(cfg.data.prices, file_limits)
    if fundamentals is None:
        fundamentals = read_fundamentals(cfg.data.fundamentals, file_limits)
    as_of_date = _parse_as_of(as_of)
    symbols = universe_symbols(cfg, fundamentals, config_path, str(cfg.data.fundamentals))
    rows_needed = max(cfg.risk.lookback_days, cfg.rsi.period) + 1
    window, excluded = price_window(prices, symbols, rows_needed, cfg.data.max_fill_days,
                                    cfg.data.on_gap is GapPolicy.EXCLUDE, str(cfg.data.prices), as_of_date,
                                    refuse_splits=cfg.data.on_split is SplitPolicy.REFUSE)
    warnings = [*holdings.warnings, *window.warnings]
    if as_of_date is not None and window.as_of < as_of_date:
        warnings.append(f"the prices end on {window.as_of.date()}, before the as-of date {as_of_date.date()}; "
                        f"the run uses the closes of {window.as_of.date()}")
    held = {p.symbol for p in holdings.positions}
    if excluded:
        symbols = tuple(s for s in symbols if s not in excluded)
        kept_out = sorted(held & set(excluded))
        if kept_out and cfg.universe.outside_holdings is OutsidePolicy.SELL:
            raise DataError(str(cfg.data.prices), f"{', '.join(kept_out)} held but excluded for gaps in their "
                            "prices; with universe.outside_holdings: sell they would be sold on a stale price",
                            "fill the price history, or set universe.outside_holdings: hold")
        if kept_out:
            warnings.append(f"held but excluded for gaps, held fixed outside the universe: {', '.join(kept_out)}")
    history = prices.iloc[:prices.index.searchsorted(window.as_of, side="right")]  # a view, not a copy
    last = last_closes(history)
    universe = build_universe(cfg, holdings, fundamentals, symbols, last["close"], config_path,
                              str(cfg.data.fundamentals))
    if universe.outside_symbols:
        verb = "sold" if universe.outside_sold else "held fixed"
        warnings.append(f"holdings outside the universe, {verb}: {', '.join(universe.outside_symbols)}")
    warnings.extend(price_warnings(holdings, pd.DatetimeIndex(history.index), last, universe))
    daily = window.daily_returns()
    market_cap = fundamentals.loc[list(symbols), "market_cap"].to_numpy(dtype=np.float64)
    risk = estimate_risk(cfg, daily, symbols, universe, market_cap, config_path)
    scores = signal_scores(fundamentals, symbols, universe.asset_class, cfg.returns)
    warnings.extend(scores.warnings)
    returns = expected_returns(cfg.returns, risk, universe.benchmark_weight, scores, daily, universe.asset_class)
    returns = with_views(cfg.returns, returns, risk, universe)
    reading = latest_rsi(window.closes.to_numpy(dtype=np.float64), cfg.rsi.period, cfg.rsi.overbought,
                         cfg.rsi.release)
    rsi = rsi_limits(cfg.rsi, symbols, reading.rsi, universe.weight, hot=reading.overbought,
                     benchmark=universe.benchmark_weight, risk=risk, group_labels=universe.group_labels,
                     config_path=config_path)
    if raise_value is not None and raise_value < 0:
        raise UsageError("--raise", f"amount {raise_value} is negative", "give a non-negative amount")
    limits = build_limits(cfg, universe, rsi, config_path, risk.volatility, mode,
                          None if raise_value is None else float(raise_value))
    skipped = [r.symbol for r in rsi.rules if r.rule == "rsi_trim" and limits.no_sells]
    if skipped:
        warnings.append(f"invest mode makes no sales: RSI trims of {', '.join(skipped)} not made (no adds instead)")
    if limits.impact is not None:
        no_adv = [s for s, eta in zip(symbols, limits.impact, strict=True) if eta == 0.0]
        if no_adv:
            warnings.append(f"no trading.adv_by_symbol for {', '.join(no_adv)}: no market impact on their trades")
    from allocator.optimize.diagnosis import presolve_checks

    named = {"holdings": holdings_path.absolute(), "prices": cfg.data.prices, "fundamentals": cfg.data.fundamentals,
             **{f"config[{index}]": path for index, path in enumerate(loaded.chain)}}
    inputs = {name: {"path": str(path), "sha256": sha256_of(Path(path))} for name, path in named.items()}
    return Prepared(loaded=loaded, holdings=holdings, universe=universe, window=window, risk=risk, scores=scores,
                    returns=returns, rsi=rsi, limits=limits, inputs=inputs, warnings=tuple(warnings),
                    presolve_conflicts=tuple(presolve_checks(limits, cfg)), deposit_value=cash or Decimal(0))


STALE_SESSIONS = 5  # a close older than this many sessions is named before anything is traded on it
PRICE_GAP = 0.10  # a holdings price this far (relative) from the last close is named: NAV and trades use it


def price_warnings(holdings: Holdings, dates: pd.DatetimeIndex, last: pd.DataFrame, universe: Universe
                   ) -> list[str]:
    """Prices that do not mean what they seem: a holdings ``price`` far from the last close (it sets NAV and the
    trades), and a holding outside the universe priced from a close many sessions old.

    ``dates`` are those of the price history up to the as-of date and ``last`` its ``last_closes``."""
    found: list[str] = []
    priced = [p for p in holdings.positions if p.price is not None and p.symbol in last.index]
    close = last["close"].reindex([p.symbol for p in priced]).to_numpy(dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        gap = np.array([p.price for p in priced], dtype=np.float64) / close - 1.0
    for i in np.flatnonzero(np.isfinite(close) & (close > 0) & (np.abs(gap) > PRICE_GAP)):
        position = priced[i]
        found.append(f"{position.symbol}: the holdings price {position.price:,.2f} is {gap[i]:+.0%} from the "
                     f"last close {close[i]:,.2f} on {dates[-1].date()}; NAV and the trades use the holdings price")
    with_price = {p.symbol for p in holdings.positions if p.price is not None}
    for symbol in universe.outside_symbols:
        if symbol not in last.index or symbol in with_price:
            continue
        age = int(last["sessions_old"][symbol])
        if age > STALE_SESSIONS:
            found.append(f"{symbol}: priced from its close of {dates[-age - 1].date()}, {age} sessions "
                         "before the as-of date; give its price in the holdings file")
    return found


def _parse_as_of(as_of: str | None) -> pd.Timestamp | None:
    """``--as-of`` read one way only, YYYY-MM-DD: ``12/11/2025`` (which day?), ``today`` (which clock?) and times
    are refused rather than guessed."""
    if as_of is None:
        return None
    try:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", as_of):
            raise ValueError(as_of)
        return pd.Timestamp(date.fromisoformat(as_of))
    except (ValueError, TypeError):
        raise UsageError("--as-of", f"not a date: {as_of!r}", "write it as YYYY-MM-DD") from None


def infeasible_error(prepared: Prepared, diagnosis: Diagnosis, attempts: tuple[SolverAttempt, ...] = ()
                     ) -> InfeasibleError:
    """The error for limits that cannot all hold, carrying the diagnosis (written as ``diagnosis.json``)."""
    report = {**diagnosis.to_json(), "solver_attempts": [a.__dict__ for a in attempts]}
    return InfeasibleError(str(prepared.loaded.path), "the limits cannot all hold",
                           "relax the limits named below, or run with --relax to trade on the smallest relaxation",
                           details=diagnosis.lines(), diagnosis=report)


def optimize_prepared(prepared: Prepared, cache: ProblemCache | None = None, relax: bool = False
                      ) -> tuple[Allocation, Limits, tuple[str, ...]]:
    """Solve the prepared problem; when the limits conflict, diagnose them, and with ``relax`` solve the
    smallest relaxation instead. Returns the allocation, the limits it satisfies and the relaxations made.

    Every solve goes through ``cache``, a new ``ProblemCache`` unless one is given."""
    from allocator.optimize.problem import ProblemCache, ProblemInfeasible, solve_allocation
    from allocator.optimize.relaxation import diagnose_infeasible, relaxed_limits, solve_relaxed

    cache = cache if cache is not None else ProblemCache()
    cfg = prepared.config
    attempts: tuple[SolverAttempt, ...] = ()
    if not prepared.presolve_conflicts:
        try:
            allocation = solve_allocation(prepared.limits, prepared.returns.mu, prepared.risk,
                                          cfg.risk.risk_aversion, cfg.solver, cache)
            return allocation, prepared.limits, ()
        except ProblemInfeasible as exc:
            attempts = exc.attempts
    diagnosis = diagnose_infeasible(prepared.limits, prepared.risk, cfg, cache, prepared.presolve_conflicts)
    if not relax or not diagnosis.relaxations:
        raise infeasible_error(prepared, diagnosis, attempts)
    allocation = solve_relaxed(prepared.limits, prepared.returns.mu, prepared.risk, cfg, diagnosis, cache)
    return allocation, relaxed_limits(prepared.limits, diagnosis.slacks), tuple(
        r.describe() for r in diagnosis.relaxations)


def run(
    holdings_path: str | Path,
    config: str | Path | LoadedConfig,
    as_of: str | None = None,
    cash: Decimal | None = None,
    cache: ProblemCache | None = None,
    relax: bool = False,
    prepared: Prepared | None = None,
    mode: TradingMode | None = None,
    raise_value: Decimal | None = None,
) -> RunResult:
    """Rebalance the account in ``holdings_path`` under ``config``: weights, trades and the checks they passed.

    ``cache`` keeps compiled problems for reuse by later calls (``compare`` shares one over its scenarios);
    without it each call compiles afresh."""
    from allocator.trading.trades import build_trades, reconcile

    timings: dict[str, float] = {}
    started = time.perf_counter()
    if prepared is None:
        prepared = prepare(holdings_path, config, as_of, cash, mode=mode, raise_value=raise_value)
    timings["prepare_seconds"] = time.perf_counter() - started
    started = time.perf_counter()
    try:
        allocation, limits_used, relaxations = optimize_prepared(prepared, cache, relax)
    except AllocatorError as exc:  # the warnings often explain the failure (an asset excluded for gaps, ...)
        exc.warnings = [*prepared.warnings, *exc.warnings]
        raise
    timings["optimize_seconds"] = time.perf_counter() - started
    started = time.perf_counter()
    rules = prepared.rsi.by_symbol()
    trade_list = build_trades(prepared.universe, allocation.weight, limits_used, prepared.config.trading,
                              prepared.returns, prepared.scores, rules, prepared.risk)
    problems = reconcile(trade_list)
    if problems:
        raise AllocatorError(prepared.holdings.source, "the trade list does not reconcile: " + "; ".join(problems[:3]),
                        "this is a bug; please report it with the inputs")
    timings["trades_seconds"] = time.perf_counter() - started
    return RunResult(prepared=prepared, allocation=allocation, trades=trade_list, limits=limits_used,
                     timings=timings, relaxations=relaxations)
