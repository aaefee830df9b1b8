"""The whole rebalance as one library call: ``run(holdings, config)`` -> ``RunResult``.

``prepare`` reads and validates every input and computes everything up to the optimization (signals, expected
returns, risk, RSI, limits) without importing CVXPY, so ``allocate validate`` is quick; ``run`` then solves,
rounds to trades and reconciles. Nothing here prints or writes files.
"""

from __future__ import annotations

import dataclasses
import datetime
import functools
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
from allocator.config.schema import (
    Config,
    GapPolicy,
    MacroSource,
    Objective,
    OutsidePolicy,
    RiskFormulation,
    SplitPolicy,
    TradingMode,
)
from allocator.domain import FloatArray, Holdings, ReturnModel, RiskModel, Scores, Universe, trusted
from allocator.errors import AllocatorError, DataError, InfeasibleError, UsageError, explained_by
from allocator.files.reading import FileLimits, sha256_of
from allocator.identity_cache import IdentityCache
from allocator.inputs.holdings import read_holdings
from allocator.inputs.lookback import lookback_rows
from allocator.inputs.market_data import PriceWindow, last_closes, price_window, read_fundamentals, read_prices
from allocator.inputs.universe import (
    benchmark_gaps,
    build_universe,
    excluded_references,
    model_universe,
    universe_symbols,
)
from allocator.model.daily_returns import DailyReturns
from allocator.model.expected_returns import expected_returns, given_returns, with_views
from allocator.model.factor_models import given_factor_model
from allocator.model.macro_regime import macro_as_of
from allocator.model.risk_estimation import estimate
from allocator.model.risk_models import dense_form, given_covariance
from allocator.model.rsi import RsiLimits, RsiReading, latest_rsi, rsi_limits
from allocator.model.signals import signal_scores
from allocator.optimize.constraints import Limits, asset_limits, build_limits
from allocator.optimize.diagnosis import presolve_checks
from allocator.optimize.families import LastOf

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


def estimate_risk(config: Config, daily_returns: FloatArray | DailyReturns, symbols: tuple[str, ...],
                  universe: Universe | None = None, market_cap: FloatArray | None = None,
                  config_path: str = "config") -> RiskModel:
    """The configured covariance estimator on the window's daily returns (annualized), in the formulation the
    optimizer should use (``risk.formulation``; see ``allocator.model.risk_estimation``).

    The fundamental model needs the universe's sectors and the market caps (NaN where unknown).
    """
    return estimate(config.risk, daily_returns, symbols, universe, market_cap, config_path)


def input_files(config: Config) -> dict[str, Path]:
    """The data files a config names, by config key: prices, fundamentals and any expected returns, covariance or
    factor model of the user's own."""
    files = {"data.prices": config.data.prices, "data.fundamentals": config.data.fundamentals}
    if config.returns.mu_file is not None:
        files["returns.mu_file"] = config.returns.mu_file
    if config.returns.macro.source is MacroSource.SERIES and config.returns.macro.series is not None:
        files["returns.macro.series"] = config.returns.macro.series
    if config.risk.covariance_file is not None:
        files["risk.covariance_file"] = config.risk.covariance_file
    factors = config.risk.factor_model
    if factors is not None:
        files.update({f"risk.factor_model.{name}": path for name, path in (
            ("loadings", factors.loadings), ("factor_covariance", factors.factor_covariance),
            ("specific_variance", factors.specific_variance))})
    return files


def given_risk(config: Config, symbols: tuple[str, ...], limits: FileLimits) -> tuple[RiskModel | None, list[str]]:
    """The risk model of ``risk.covariance_file`` or ``risk.factor_model`` (None when the config gives neither),
    and the warnings of reading it. A factor model is held in factor form unless ``risk.formulation: dense``."""
    if config.risk.covariance_file is not None:
        from allocator.inputs.model_files import read_covariance  # imported for the user's own model only

        path = config.risk.covariance_file
        matrix, found = read_covariance(path, symbols, limits)
        return given_covariance(symbols, matrix, f"risk.covariance_file ({path.name})"), list(found)
    files = config.risk.factor_model
    if files is None:
        return None, []
    from allocator.inputs.model_files import read_factor_model

    model = read_factor_model(files.loadings, files.factor_covariance, files.specific_variance, symbols, limits)
    risk = given_factor_model(symbols, model.loadings, model.factor_covariance, model.specific_variance,
                              f"risk.factor_model ({files.loadings.name}, {len(model.factors)} factors)")
    return (dense_form(risk) if config.risk.formulation is RiskFormulation.DENSE else risk), list(model.warnings)


def _holdings_with_cash(holdings: Holdings, cash: Decimal | None) -> Holdings:
    if cash is None:
        return holdings
    if cash < 0:
        raise UsageError("--cash", f"cash {cash} is negative", "give a non-negative amount")
    return dataclasses.replace(holdings, cash_value=holdings.cash_value + cash)


@dataclass(frozen=True)
class MarketModel:
    """What a config computes before any account is mapped onto it: the price window, the model universe, the
    risk model, the signal scores, the expected returns and the latest RSI (``prepare_model``).

    ``allocate batch`` computes it once per model and maps every account onto it (``prepare_account``).
    ``window_warnings``, ``reference_warnings`` and ``model_warnings`` are the warnings of the window (and as-of
    date), of the symbols excluded for gaps, and of the model's inputs; ``inputs`` the SHA-256 of every file read
    but the holdings.
    """

    loaded: LoadedConfig
    window: PriceWindow
    symbols: tuple[str, ...]
    excluded: tuple[str, ...]
    closes: pd.DataFrame  # the price file's rows up to the as-of date (a view)
    last: pd.DataFrame  # ``last_closes(closes)``: each symbol's last close and how many sessions old it is
    fundamentals: pd.DataFrame
    universe: Universe  # ``model_universe``: no holdings
    risk: RiskModel
    scores: Scores
    returns: ReturnModel
    rsi: RsiReading  # the latest RSI and overbought state (with the release hysteresis) of each asset
    inputs: dict[str, dict[str, str]]
    window_warnings: tuple[str, ...]
    reference_warnings: tuple[str, ...]
    model_warnings: tuple[str, ...]

    @property
    def config(self) -> Config:
        return self.loaded.config

    @functools.cached_property
    def last_close(self) -> pd.Series:
        """Each symbol's last close, by symbol (``last["close"]``, taken once rather than once per account: a
        column of a DataFrame costs pandas some 50 microseconds to fetch)."""
        close: pd.Series = self.last["close"]
        return close

    @functools.cached_property
    def symbol_closes(self) -> FloatArray:
        """The last close of each of ``symbols``, in their order (read once, not once per account)."""
        closes: FloatArray = self.last_close.reindex(list(self.symbols)).to_numpy(dtype=np.float64)
        return closes


def prepare_model(
    config: str | Path | LoadedConfig,
    as_of: str | None = None,
    prices: pd.DataFrame | None = None,
    fundamentals: pd.DataFrame | None = None,
    record_inputs: bool = True,
    macro_series: pd.DataFrame | None = None,
) -> MarketModel:
    """Read the config's data files and compute everything that does not depend on an account: the price window,
    the risk model, the signal scores, the expected returns and the RSI history.

    ``macro_series`` is the series of ``returns.macro.series`` already read (``backtest`` reads it once); with
    ``returns.macro.source: series`` it is read from the file when not given."""
    loaded = config if isinstance(config, LoadedConfig) else load_config(config)
    cfg = loaded.config
    config_path = str(loaded.path)
    file_limits = FileLimits.from_megabytes(cfg.data.max_file_mb, cfg.data.max_rows)
    for key, path in input_files(cfg).items():
        if not Path(path).exists():
            what = key.rsplit(".", 1)[-1].replace("_file", "").replace("_", " ")
            raise DataError(str(path), f"the {what} file named by {key} does not exist",
                            f"check {key} in {config_path} (relative to the config that names it)")
    if prices is None:
        prices = read_prices(cfg.data.prices, file_limits)
    if fundamentals is None:
        fundamentals = read_fundamentals(cfg.data.fundamentals, file_limits, cfg.data.fundamentals_columns)
    as_of_date = _parse_as_of(as_of)
    symbols = universe_symbols(cfg, fundamentals, config_path, str(cfg.data.fundamentals))
    rows_needed = max(lookback_rows(prices, symbols, cfg.risk.lookback_days, as_of_date, str(cfg.data.prices)),
                      cfg.rsi.period + 1)
    window, excluded = price_window(prices, symbols, rows_needed, cfg.data.max_fill_days,
                                    cfg.data.on_gap is GapPolicy.EXCLUDE, str(cfg.data.prices), as_of_date,
                                    refuse_splits=cfg.data.on_split is SplitPolicy.REFUSE)
    window_warnings = list(window.warnings)
    if as_of_date is not None and window.as_of < as_of_date:
        window_warnings.append(f"the prices end on {window.as_of.date()}, before the as-of date {as_of_date.date()}; "
                               f"the run uses the closes of {window.as_of.date()}")
    if cfg.returns.macro.source is MacroSource.SERIES and macro_series is None:
        from allocator.inputs.macro_series import read_macro_series

        macro_series = read_macro_series(cfg.returns.macro, file_limits)
    with explained_by(window_warnings):  # an exclusion for gaps often explains what fails after it
        return _model_after_window(loaded, prices, fundamentals, symbols, window, tuple(excluded), window_warnings,
                                   file_limits, record_inputs, macro_series)


def _model_after_window(loaded: LoadedConfig, prices: pd.DataFrame, fundamentals: pd.DataFrame,
                        symbols: tuple[str, ...], window: PriceWindow, excluded: tuple[str, ...],
                        window_warnings: list[str], file_limits: FileLimits, record_inputs: bool,
                        macro_series: pd.DataFrame | None = None) -> MarketModel:
    cfg = loaded.config
    config_path = str(loaded.path)
    references: list[str] = []
    if excluded:
        symbols = tuple(s for s in symbols if s not in excluded)
        references = excluded_references(cfg, fundamentals, excluded, config_path)
    references.extend(benchmark_gaps(cfg, fundamentals, symbols))
    closes = prices.iloc[:prices.index.searchsorted(window.as_of, side="right")]  # a view, not a copy
    reference = model_universe(cfg, fundamentals, symbols, config_path, str(cfg.data.fundamentals), tuple(excluded))
    daily = DailyReturns(window.closes.to_numpy(dtype=np.float64))  # made from the closes when read (memory)
    market_cap = fundamentals.loc[list(symbols), "market_cap"].to_numpy(dtype=np.float64)
    risk, warnings = given_risk(cfg, symbols, file_limits)
    if risk is None:
        risk = estimate_risk(cfg, daily, symbols, reference, market_cap, config_path)
    returns_config = cfg.returns
    if macro_series is not None and returns_config.macro.source is MacroSource.SERIES:
        macro, macro_warnings = macro_as_of(macro_series, pd.DatetimeIndex(closes.index), returns_config.macro)
        returns_config = returns_config.model_copy(update={"macro": macro})
        warnings.extend(macro_warnings)
    scores = signal_scores(fundamentals, symbols, reference.asset_class, returns_config, closes)
    if cfg.returns.mu_file is not None:
        from allocator.inputs.model_files import read_expected_returns

        mu, mu_warnings = read_expected_returns(cfg.returns.mu_file, symbols, file_limits)
        warnings.extend(mu_warnings)
        returns = given_returns(mu, symbols, f"returns.mu_file ({cfg.returns.mu_file.name})")
    else:
        warnings.extend(scores.warnings)
        returns = expected_returns(returns_config, risk, reference.benchmark_weight, scores, daily,
                                   reference.asset_class)
        returns = with_views(returns_config, returns, risk, reference)
    return MarketModel(
        loaded=loaded, window=window, symbols=symbols, excluded=tuple(excluded), closes=closes,
        last=last_closes(closes), fundamentals=fundamentals, universe=reference, risk=risk, scores=scores,
        returns=returns, rsi=latest_rsi(window.closes.to_numpy(dtype=np.float64), cfg.rsi.period, cfg.rsi.overbought,
                                        cfg.rsi.release),
        inputs=input_record(None, loaded) if record_inputs else {},
        window_warnings=tuple(window_warnings), reference_warnings=tuple(references),
        model_warnings=tuple(warnings))


# each asset's bounds and costs, by the account's loaded config and the model's universe: once per model (and
# account config) and process in ``allocate batch``
ASSET_LIMITS = IdentityCache()


def _volatility(risk: RiskModel) -> FloatArray:
    """``risk.volatility`` (annualized), read-only: kept for every account, none may write to it."""
    values = risk.volatility
    values.setflags(write=False)
    return values


# the latest risk model's asset volatilities, which ``RiskModel.volatility`` computes at each reading (only the
# latest: a backtest's risk models, one a date, are not held)
VOLATILITY = LastOf(_volatility)


def prepare_account(
    model: MarketModel,
    holdings: Holdings,
    holdings_input: dict[str, dict[str, str]],
    mode: TradingMode | None = None,
    raise_value: Decimal | None = None,
    deposit_value: Decimal = Decimal(0),
    config: LoadedConfig | None = None,
) -> Prepared:
    """Map the account ``holdings`` onto ``model``: its universe, RSI limits and limits.

    ``holdings_input`` names the holdings in the manifest's inputs (``{"holdings": {"path", "sha256"}}``, with
    more entries where one file holds several accounts). ``config`` replaces the model's config for this account
    (``allocate batch``'s per-account cash floor and lot size; the model's data, risk and returns settings are
    the ones ``model`` was computed with)."""
    loaded = config if config is not None else model.loaded
    warnings = [*holdings.warnings, *model.window_warnings]
    with explained_by(warnings):  # read when an error happens: everything found up to it
        return _account(model, holdings, holdings_input, mode, raise_value, deposit_value, loaded, warnings)


def _account(model: MarketModel, holdings: Holdings, holdings_input: dict[str, dict[str, str]],
             mode: TradingMode | None, raise_value: Decimal | None, deposit_value: Decimal, loaded: LoadedConfig,
             warnings: list[str]) -> Prepared:
    cfg = loaded.config
    config_path = str(loaded.path)
    symbols = model.symbols
    if model.excluded:
        kept_out = sorted({p.symbol for p in holdings.positions} & set(model.excluded))
        if kept_out and cfg.universe.outside_holdings is OutsidePolicy.SELL:
            raise DataError(str(cfg.data.prices), f"{', '.join(kept_out)} held but excluded for gaps in their "
                            "prices; with universe.outside_holdings: sell they would be sold on a stale price",
                            "fill the price history, or set universe.outside_holdings: hold")
        if kept_out:
            warnings.append(f"held but excluded for gaps, held fixed outside the universe: {', '.join(kept_out)}")
    warnings.extend(model.reference_warnings)
    universe = build_universe(cfg, holdings, model.fundamentals, symbols, model.last_close, config_path,
                              str(cfg.data.fundamentals), model.excluded,
                              model=model.universe, closes=model.symbol_closes)
    if universe.outside_symbols:
        verb = "sold" if universe.outside_sold else "held fixed"
        warnings.append(f"holdings outside the universe, {verb}: {', '.join(universe.outside_symbols)}")
    warnings.extend(price_warnings(holdings, model.closes.index, model.last, universe))
    warnings.extend(model.model_warnings)
    risk = model.risk
    rsi = rsi_limits(cfg.rsi, symbols, model.rsi.rsi, universe.weight, hot=model.rsi.overbought,
                     benchmark=universe.benchmark_weight, risk=risk, group_labels=universe.group_labels,
                     config_path=config_path)
    if raise_value is not None and raise_value < 0:
        raise UsageError("--raise", f"amount {raise_value} is negative", "give a non-negative amount")
    assets = ASSET_LIMITS.value((loaded, model.universe), lambda: asset_limits(cfg, model.universe, config_path))
    volatility = VOLATILITY(risk)
    limits = build_limits(cfg, universe, rsi, config_path, volatility, mode,
                          None if raise_value is None else float(raise_value), assets)
    skipped = [r.symbol for r in rsi.rules if r.rule == "rsi_trim" and limits.no_sells]
    if skipped:
        warnings.append(f"invest mode makes no sales: RSI trims of {', '.join(skipped)} not made (no adds instead)")
    if limits.impact is not None:
        no_adv = [s for s, eta in zip(symbols, limits.impact, strict=True) if eta == 0.0]
        if no_adv:
            warnings.append(f"no trading.adv_by_symbol for {', '.join(no_adv)}: no market impact on their trades")
    return trusted(Prepared, {"loaded": loaded, "holdings": holdings, "universe": universe, "window": model.window,
                              "risk": risk, "scores": model.scores, "returns": model.returns, "rsi": rsi,
                              "limits": limits, "inputs": {**holdings_input, **model.inputs},
                              "warnings": tuple(warnings), "presolve_conflicts": tuple(presolve_checks(limits, cfg)),
                              "deposit_value": deposit_value})


def prepare(
    holdings_path: str | Path | Holdings,
    config: str | Path | LoadedConfig,
    as_of: str | None = None,
    cash: Decimal | None = None,
    prices: pd.DataFrame | None = None,
    fundamentals: pd.DataFrame | None = None,
    mode: TradingMode | None = None,
    raise_value: Decimal | None = None,
    macro_series: pd.DataFrame | None = None,
) -> Prepared:
    """Read every input, validate it, and compute signals, expected returns, risk, RSI and the limits:
    ``prepare_model`` then ``prepare_account``.

    ``prices`` and ``fundamentals`` may be passed already read (``compare`` reads them once for every scenario).
    ``holdings_path`` may be ``Holdings`` already held (``backtest`` passes the simulated account at each
    rebalance): then no input file is hashed and ``Prepared.inputs`` is empty (the caller records its inputs).
    ``cash`` is a deposit (``--cash``); ``mode`` and ``raise_value`` override ``trading.mode`` and
    ``trading.raise_value`` (``--mode``, ``--raise``); ``macro_series`` is the macro series already read (the
    backtest passes the rows known on the date).
    """
    loaded = config if isinstance(config, LoadedConfig) else load_config(config)
    cfg = loaded.config
    file_limits = FileLimits.from_megabytes(cfg.data.max_file_mb, cfg.data.max_rows)
    given = isinstance(holdings_path, Holdings)
    account = holdings_path if isinstance(holdings_path, Holdings) else read_holdings(
        Path(holdings_path), cfg.data.holdings_columns, file_limits, cfg.trading.fractional_shares,
        cfg.data.cash_symbols, cfg.data.holdings_account)
    holdings = _holdings_with_cash(account, cash)
    model = prepare_model(loaded, as_of, prices, fundamentals, record_inputs=not given, macro_series=macro_series)
    if isinstance(holdings_path, Holdings):
        holdings_input: dict[str, dict[str, str]] = {}
    else:
        path = Path(holdings_path).absolute()
        holdings_input = {"holdings": {"path": str(path), "sha256": sha256_of(path)}}
    return prepare_account(model, holdings, holdings_input, mode, raise_value, cash or Decimal(0))


def input_record(holdings_path: Path | None, loaded: LoadedConfig) -> dict[str, dict[str, str]]:
    """Every file a run reads (the holdings, when from a file; the data files; each config of the ``extends``
    chain) by name, with its path and SHA-256, as the manifest records them."""
    named = {**({"holdings": holdings_path.absolute()} if holdings_path is not None else {}),
             **model_input_files(loaded)}
    return {name: {"path": str(path), "sha256": sha256_of(Path(path))} for name, path in named.items()}


def model_input_files(loaded: LoadedConfig) -> dict[str, Path]:
    """The files a config reads, by the name the manifest gives them: the data files and each config of the
    ``extends`` chain."""
    return {**{key.rsplit(".", 1)[-1]: Path(path) for key, path in input_files(loaded.config).items()},
            **{f"config[{index}]": Path(path) for index, path in enumerate(loaded.chain)}}


STALE_SESSIONS = 5  # a close older than this many sessions is named before anything is traded on it
PRICE_GAP = 0.10  # a holdings price this far (relative) from the last close is named: NAV and trades use it


def price_warnings(holdings: Holdings, dates: pd.Index, last: pd.DataFrame, universe: Universe) -> list[str]:
    """Prices that do not mean what they seem: a holdings ``price`` far from the last close (it sets NAV and the
    trades), and a holding outside the universe priced from a close many sessions old.

    ``dates`` are those of the price history up to the as-of date and ``last`` its ``last_closes``."""
    found: list[str] = []
    priced = [p for p in holdings.positions if p.price is not None and p.symbol in last.index]
    if not priced and not universe.outside_symbols:  # most accounts of a batch: nothing to look up
        return found
    dates = pd.DatetimeIndex(dates)
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

    Every solve goes through ``cache``; without one, a new ``ProblemCache`` for a one-off solve (Clarabel called
    directly at every size, ``optimize.conic``)."""
    from allocator.optimize.problem import ProblemCache, ProblemInfeasible, solve_allocation
    from allocator.optimize.relaxation import diagnose_infeasible, relaxed_limits, solve_relaxed

    cache = cache if cache is not None else ProblemCache(direct_from=0)
    cfg = prepared.config
    attempts: tuple[SolverAttempt, ...] = ()
    if not prepared.presolve_conflicts:
        try:
            allocation = solve_allocation(prepared.limits, prepared.returns.mu, prepared.risk,
                                          cfg.risk.risk_aversion, cfg.solver, cache, cfg.optimizer.objective)
            return allocation, prepared.limits, ()
        except ProblemInfeasible as exc:
            attempts = exc.attempts
    diagnosis = diagnose_infeasible(prepared.limits, prepared.risk, cfg, cache, prepared.presolve_conflicts)
    if not diagnosis.relaxations and not diagnosis.checks and cfg.optimizer.objective is Objective.MAX_SHARPE:
        what = ("optimizer.objective max_sharpe: no portfolio within the limits has a positive expected excess "
                "return net of costs, so none has a positive Sharpe ratio")
        report = {**diagnosis.to_json(), "objective": what, "solver_attempts": [a.__dict__ for a in attempts]}
        raise InfeasibleError(str(prepared.loaded.path), what, "the limits can all hold; choose another objective "
                              "(e.g. min_variance), or check the expected returns", diagnosis=report)
    if not relax or not diagnosis.relaxations:
        raise infeasible_error(prepared, diagnosis, attempts)
    allocation = solve_relaxed(prepared.limits, prepared.returns.mu, prepared.risk, cfg, diagnosis, cache)
    return allocation, relaxed_limits(prepared.limits, diagnosis.slacks), tuple(
        r.describe() for r in diagnosis.relaxations)


def run(
    holdings_path: str | Path | Holdings,
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
    if prepared is None:  # the model is computed: the closes are not held through the solve (memory)
        prepared = prepare(holdings_path, config, as_of, cash, mode=mode, raise_value=raise_value)
        prepared = dataclasses.replace(prepared, window=prepared.window.last_row())
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
