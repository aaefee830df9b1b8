"""YAML configuration -> validated, frozen config objects.

Field names are the YAML keys. Every key is validated and every error is reported at once with its key path;
unknown keys are errors (a typo must never be silently ignored). Weights and rates are fractions (0.05 = 5%),
returns and volatilities annualized, money in the account currency. Paths are relative to the file that names them.

A config may say ``extends: base.yaml``; the chain is resolved by ``allocator.config.loader`` before validation.
"""

from __future__ import annotations

import datetime
import re
from enum import StrEnum
from pathlib import Path
from types import UnionType
from typing import Annotated, Any, Self, Union, get_args, get_origin

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from allocator.files.cells import canonical_symbol

Fraction = Annotated[float, Field(ge=0.0, le=1.0)]
Weight = Annotated[float, Field(ge=-1.0, le=1.0)]
ActiveWeight = Annotated[float, Field(ge=-1.0, le=1.0)]
Symbol = Annotated[str, Field(min_length=1, max_length=32), AfterValidator(canonical_symbol)]

SIGNALS = ("size", "value", "growth", "margin_expansion", "quality")  # from the fundamentals
PRICE_SIGNALS = ("momentum", "low_volatility", "reversal")  # from the closes up to the as-of date
ALL_SIGNALS = SIGNALS + PRICE_SIGNALS


def numbers_only(annotation: Any) -> bool:
    """Whether a field takes numbers and nothing else (``float``, ``int | None``, ``Annotated[float, ...]``)."""
    if annotation in (int, float):
        return True
    args = [a for a in get_args(annotation) if a is not type(None)]
    if get_origin(annotation) is Annotated:
        return numbers_only(args[0])
    return get_origin(annotation) in (Union, UnionType) and bool(args) and all(numbers_only(a) for a in args)


def _number_values(annotation: Any) -> bool:
    """Whether a field is a mapping to numbers (``dict[str, float]``: costs by symbol, benchmark weights)."""
    args = [a for a in get_args(annotation) if a is not type(None)]
    if get_origin(annotation) in (Union, UnionType):
        return any(_number_values(a) for a in args)
    return get_origin(annotation) is dict and len(args) == 2 and numbers_only(args[1])


def _symbol_keyed(annotation: Any) -> bool:
    """Whether a field is a mapping keyed by symbols (limits, costs, benchmark weights by symbol)."""
    if get_origin(annotation) in (Union, UnionType):
        return any(_symbol_keyed(a) for a in get_args(annotation))
    return get_origin(annotation) is dict and get_args(annotation)[0] == Symbol


def _one_spelling(mapping: dict[Any, Any]) -> None:
    """Refuse two keys of a symbol mapping that are one security (``BRK.B`` and ``BRK/B``, ``SPY`` and ``spy``):
    pydantic would keep the last silently."""
    seen: dict[str, Any] = {}
    for key in mapping:
        if isinstance(key, str):
            canonical = canonical_symbol(key)
            if canonical in seen:
                raise ValueError(f"{seen[canonical]!s} and {key!s} are one symbol ({canonical}); give it once")
            seen[canonical] = key


def _not_a_number(value: Any) -> str | None:
    """Why a YAML value cannot stand where a number goes (a boolean, or text such as ``'5'`` or ``off``)."""
    if isinstance(value, bool):
        return (f"got the boolean {str(value).lower()}, which is not a value of this key; give a number or a word "
                "(quote it if it is meant as text)")
    if isinstance(value, str):
        if re.fullmatch(r"[-+]?(\.[0-9]+|(0|[1-9][0-9]*)(\.[0-9]*)?)([eE][-+]?[0-9]+)?", value.strip()):
            return f"got the text {value!r} where a number goes; write the number without quotes"
        return f"got the text {value!r} where a number goes; give a plain decimal number (0.05, 5, 1e6)"
    return None


class StrictModel(BaseModel):
    """Frozen model that refuses unknown keys, and booleans or text where a number is expected (pydantic would
    read ``max_weight: true`` as 1.0 and ``cost_bps: '5'`` as 5)."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_enum_values=False, allow_inf_nan=False)

    @field_validator("*", mode="before")
    @classmethod
    def _numbers_are_numbers(cls, value: Any, info: ValidationInfo) -> Any:
        if info.field_name is None:
            return value
        annotation = cls.model_fields[info.field_name].annotation
        if isinstance(value, bool) and annotation is not bool and bool not in get_args(annotation):
            raise ValueError(_not_a_number(value))
        if isinstance(value, str) and numbers_only(annotation):
            raise ValueError(_not_a_number(value))
        if isinstance(value, dict) and _symbol_keyed(annotation):
            _one_spelling(value)
        if isinstance(value, dict) and _number_values(annotation):
            for key, item in value.items():
                why = _not_a_number(item)
                if why:
                    raise ValueError(f"{key}: {why}")
        return value


# --- choices -----------------------------------------------------------------------------------------------


class GapPolicy(StrEnum):
    EXCLUDE = "exclude"
    STOP = "stop"


class SplitPolicy(StrEnum):
    REFUSE = "refuse"
    WARN = "warn"


class TradingMode(StrEnum):
    """``rebalance``: buy and sell; ``invest``: buys only (puts cash to work); ``raise``: sells only (raises cash)."""

    REBALANCE = "rebalance"
    INVEST = "invest"
    RAISE = "raise"


class OutsidePolicy(StrEnum):
    """What to do with held symbols outside the modelled universe."""

    HOLD = "hold"
    SELL = "sell"
    REFUSE = "refuse"


class PriorKind(StrEnum):
    EQUILIBRIUM = "equilibrium"
    HISTORICAL = "historical"
    NONE = "none"


class AlphaRisk(StrEnum):
    RESIDUAL = "residual"
    TOTAL = "total"


class RatePath(StrEnum):
    EASING = "easing"
    HOLD = "hold"
    TIGHTENING = "tightening"


class MacroSource(StrEnum):
    CONFIG = "config"
    SERIES = "series"


class GrowthRegime(StrEnum):
    EXPANDING = "expanding"
    STEADY = "steady"
    SLOWING = "slowing"
    CONTRACTING = "contracting"


class RiskModelKind(StrEnum):
    LEDOIT_WOLF = "ledoit_wolf"
    SAMPLE = "sample"
    EWMA = "ewma"
    PCA = "pca"
    FUNDAMENTAL = "fundamental"


class RiskFormulation(StrEnum):
    """How the optimizer holds Sigma: ``dense`` (n-by-n, Cholesky), ``factor`` (``B F B' + D``) or ``auto``."""

    AUTO = "auto"
    DENSE = "dense"
    FACTOR = "factor"


class GroupBy(StrEnum):
    SECTOR = "sector"
    SIZE_BUCKET = "size_bucket"
    ASSET_CLASS = "asset_class"


class RsiScope(StrEnum):
    """What an overbought fund's RSI rule holds: the fund, also its close substitutes, or a whole group."""

    ASSET = "asset"
    CORRELATED = "correlated"
    GROUP = "group"


class RsiTrim(StrEnum):
    """What an RSI trim cuts: the whole position, or only its overweight against the benchmark."""

    POSITION = "position"
    OVERWEIGHT = "overweight"


class GroupRelativeTo(StrEnum):
    ABSOLUTE = "absolute"
    BENCHMARK = "benchmark"
    CURRENT = "current"


class SolverName(StrEnum):
    CLARABEL = "clarabel"
    OSQP = "osqp"
    SCS = "scs"


class Objective(StrEnum):
    """What the optimizer seeks under the limits (docs/method.md, "Objectives")."""

    UTILITY = "utility"
    MIN_VARIANCE = "min_variance"
    MAX_SHARPE = "max_sharpe"
    MIN_TRACKING_ERROR = "min_tracking_error"


class OutputFormat(StrEnum):
    CSV = "csv"
    JSON = "json"
    FIX = "fix"
    BASKET = "basket"


# --- sections ----------------------------------------------------------------------------------------------


class HoldingsColumns(StrictModel):
    """Column map for holdings files: each field names the header that holds it in the file."""

    symbol: str | None = Field(None, description="header of the column with the ticker")
    quantity: str | None = Field(None, description="header of the column with the quantity held, shares")
    price: str | None = Field(
        None, description="header of the column with the price per share, account currency (else the last close)")
    lot_size: str | None = Field(None, description="header of the column with the lot size, shares")
    cost_basis: str | None = Field(None, description="header of the column with the cost basis, account currency")
    account: str | None = Field(
        None, description="header of the column with the account number (exports of several accounts)")
    market_value: str | None = Field(
        None, description="header of the column with the market value, account currency (checked against "
        "quantity x price)")
    security_type: str | None = Field(
        None, description="header of the column with the security type (cash and money-market rows count as cash)")


class FundamentalsColumns(StrictModel):
    """Column map for the fundamentals file: each field names the header that holds it in the file (matched
    without regard to case); unmapped fields are read from the column of their own name."""

    symbol: str | None = Field(None, description="header of the column with the ticker")
    market_cap: str | None = Field(None, description="header of the column with the market cap, USD")
    forward_pe: str | None = Field(None, description="header of the column with the forward P/E (value signal)")
    eps_growth: str | None = Field(
        None, description="header of the column with the expected EPS growth, fraction (growth and "
        "margin-expansion signals)")
    revenue_growth: str | None = Field(
        None, description="header of the column with the expected revenue growth, fraction (margin-expansion "
        "signal)")
    sector: str | None = Field(None, description="header of the column with the sector")
    size_bucket: str | None = Field(None, description="header of the column with the size bucket")
    asset_class: str | None = Field(None, description="header of the column with the asset class")
    benchmark_weight: str | None = Field(None, description="header of the column with the benchmark weight, "
                                         "fraction")
    roe: str | None = Field(None, description="header of the column with the return on equity, fraction")
    gross_profitability: str | None = Field(None, description="header of the column with the gross "
                                            "profitability, fraction")
    debt_to_equity: str | None = Field(None, description="header of the column with the debt-to-equity ratio")

    def mapping(self) -> dict[str, str]:
        """Field -> the header named for it, for the fields that are mapped."""
        return {name: header for name, header in self.model_dump().items() if header is not None}


class DataConfig(StrictModel):
    """Input files (paths relative to the config that names them) and how they are read."""

    prices: Path = Field(description="CSV or Parquet (.parquet) file of daily closes, wide (date,SPY,...) or long "
                                     "(date,symbol,close)")
    fundamentals: Path = Field(description="CSV of symbol, market_cap, forward_pe, sector and optional "
                               "eps_growth, revenue_growth, size_bucket, asset_class, benchmark_weight (a signal "
                               "whose column is absent is off, with a warning)")
    holdings_columns: HoldingsColumns = Field(
        HoldingsColumns(), description="map the holdings file's headers (default: the usual names and brokers' "
        "aliases)")
    fundamentals_columns: FundamentalsColumns = Field(
        FundamentalsColumns(), description="map the fundamentals file's headers (default: the names above)")
    max_fill_days: int = Field(3, ge=0, le=30, description="forward-fill price gaps of at most this many rows")
    on_gap: GapPolicy = Field(GapPolicy.EXCLUDE, description="longer gaps: exclude the asset (reported) or stop "
                              "the run")
    on_split: SplitPolicy = Field(SplitPolicy.REFUSE, description="a one-day move that looks like an unadjusted "
                                  "split (close near 1/2, 1/3, ..., 1/10 or 2x to 10x the day before): refuse the "
                                  "prices, or warn and go on")
    max_file_mb: float = Field(256.0, gt=0.0, description="refuse input files larger than this, in MiB")
    max_rows: int = Field(2_000_000, gt=0, description="refuse input tables with more rows than this")
    cash_symbols: list[Symbol] = Field(
        default_factory=list, description="held symbols counted as cash (money-market or sweep funds) besides the "
        "built-in list")
    holdings_account: str | None = Field(
        None, min_length=1, description="in an export of several accounts, the account to rebalance")


class UniverseConfig(StrictModel):
    """The modelled assets."""

    symbols: list[Symbol] | None = Field(None, min_length=1,
                                         description="default: every symbol in the fundamentals file")
    outside_holdings: OutsidePolicy = Field(
        OutsidePolicy.HOLD, description="held symbols outside the universe: hold them fixed, sell them, or refuse "
        "the run")


NO_BENCHMARK = "none"


class BenchmarkConfig(StrictModel):
    """The benchmark ``b`` of the prior, the active limits and the tracking error. ``benchmark: none`` (the same as
    ``weights: {}``) says there is none: no active or tracking-error limit may then be set."""

    weights: dict[Symbol, Fraction] | None = Field(
        None, description="benchmark weights, fractions summing to at most 1 (the rest is cash); default: the "
        "fundamentals' benchmark_weight column; {} (or benchmark: none): no benchmark"
    )

    @model_validator(mode="before")
    @classmethod
    def _none(cls, data: Any) -> Any:
        if isinstance(data, str) and data.strip().lower() == NO_BENCHMARK:
            return {"weights": {}}
        if isinstance(data, str):
            raise ValueError(f"expected a mapping such as {{weights: {{SPY: 0.6, AGG: 0.4}}}} or none, got {data!r}")
        return data

    @property
    def is_none(self) -> bool:
        """Whether the config says there is no benchmark (``benchmark: none`` or ``weights: {}``)."""
        return self.weights is not None and not self.weights

    @model_validator(mode="after")
    def _sums_to_at_most_one(self) -> Self:
        if self.weights is not None and sum(self.weights.values()) > 1.0 + 1e-9:
            raise ValueError(f"weights sum to {sum(self.weights.values()):.6g}; they must sum to at most 1")
        return self


class SignalWeights(StrictModel):
    """Weights ``c_k`` of the signals in the composite score (docs/method.md, "Composite and alpha")."""

    size: float = Field(0.35, ge=-5, le=5, description="weight of the size z-score: -log(market_cap), small caps high")
    value: float = Field(0.25, ge=-5, le=5, description="weight of the value z-score: earnings yield 1 / forward_pe")
    growth: float = Field(0.25, ge=-5, le=5, description="weight of the growth z-score: eps_growth")
    margin_expansion: float = Field(0.15, ge=-5, le=5,
                                    description="weight of the margin-expansion z-score: eps_growth - revenue_growth")
    quality: float = Field(0.0, ge=-5, le=5, description="weight of the quality z-score: roe, gross_profitability and "
                                                         "-debt_to_equity, when the fundamentals have them")
    momentum: float = Field(0.0, ge=-5, le=5, description="weight of the momentum z-score: the return from 252 to 21 "
                            "sessions before the as-of date (12-1 months)")
    low_volatility: float = Field(0.0, ge=-5, le=5, description="weight of the low-volatility z-score: minus the "
                                  "annualized volatility of the last 252 daily returns")
    reversal: float = Field(0.0, ge=-5, le=5, description="weight of the long-term reversal z-score: minus the return "
                            "from 1260 to 252 sessions before the as-of date (5 years, skipping the last)")


class SignalMultipliers(StrictModel):
    """Multipliers ``m_k`` of the signals (dimensionless; 0 switches a signal off, negative reverses it)."""

    size: float = Field(1.0, ge=-5, le=5, description="multiplier of the size signal")
    value: float = Field(1.0, ge=-5, le=5, description="multiplier of the value signal")
    growth: float = Field(1.0, ge=-5, le=5, description="multiplier of the growth signal")
    margin_expansion: float = Field(1.0, ge=-5, le=5, description="multiplier of the margin-expansion signal")
    quality: float = Field(1.0, ge=-5, le=5, description="multiplier of the quality signal")
    momentum: float = Field(1.0, ge=-5, le=5, description="multiplier of the momentum signal")
    low_volatility: float = Field(1.0, ge=-5, le=5, description="multiplier of the low-volatility signal")
    reversal: float = Field(1.0, ge=-5, le=5, description="multiplier of the reversal signal")


_REGIME_DEFAULTS: dict[str, dict[str, float]] = {
    "goldilocks": {},
    "hold": {"size": 0.5},
    "hawkish": {"size": -0.5, "growth": 0.5},
}
_GROWTH_DEFAULTS: dict[str, dict[str, float]] = {
    "expanding": {},
    "steady": {},
    "slowing": {"size": 0.5, "growth": 0.25},
    "contracting": {"size": 0.0, "growth": -0.5},
}


def _merge_defaults(data: Any, defaults: dict[str, dict[str, float]]) -> Any:
    """Fill a partial multiplier table from the defaults (docs/method.md, "Regime multipliers"), so
    ``hawkish: {size: -1}`` keeps growth 0.5."""
    if not isinstance(data, dict):
        return data
    merged: dict[str, Any] = {name: dict(values) for name, values in defaults.items()}
    for name, values in data.items():
        if isinstance(values, dict) and name in merged:
            merged[name] = {**merged[name], **values}
        else:
            merged[name] = values
    return merged


class RegimeMultipliers(StrictModel):
    """Signal multipliers ``m_k`` by rate and inflation regime."""

    goldilocks: SignalMultipliers = Field(
        SignalMultipliers(), description="easing, inflation at or under the ceiling")
    hold: SignalMultipliers = Field(SignalMultipliers(size=0.5), description="rates on hold")
    hawkish: SignalMultipliers = Field(
        SignalMultipliers(size=-0.5, growth=0.5), description="tightening, or inflation over the ceiling")

    @model_validator(mode="before")
    @classmethod
    def _fill(cls, data: Any) -> Any:
        return _merge_defaults(data, _REGIME_DEFAULTS)


class GrowthMultipliers(StrictModel):
    """Factors applied on top of the regime multipliers, by growth regime."""

    expanding: SignalMultipliers = Field(SignalMultipliers(), description="growth expanding")
    steady: SignalMultipliers = Field(SignalMultipliers(), description="growth steady")
    slowing: SignalMultipliers = Field(SignalMultipliers(size=0.5, growth=0.25), description="growth slowing")
    contracting: SignalMultipliers = Field(
        SignalMultipliers(size=0.0, growth=-0.5), description="growth contracting")

    @model_validator(mode="before")
    @classmethod
    def _fill(cls, data: Any) -> Any:
        return _merge_defaults(data, _GROWTH_DEFAULTS)


class MacroConfig(StrictModel):
    """The macro view that selects the signal multipliers: stated here (``source: config``) or derived on each date
    from a series of short rates and inflation prints (``source: series``; docs/method.md, "Macro from series")."""

    source: MacroSource = Field(MacroSource.CONFIG, description="config: rate_path and inflation_mom as given; "
                                "series: both derived point in time from the series file")
    series: Path | None = Field(None, description="with source: series, CSV of date, short rate (percent, 4.5 = "
                                "4.5%) and optionally inflation_mom (monthly, fraction); path relative to the config")
    rate_column: str = Field("short_rate", min_length=1, description="header of the series' short-rate column "
                             "(percent), e.g. a 13-week T-bill yield")
    inflation_column: str = Field("inflation_mom", min_length=1, description="header of the series' monthly "
                                  "inflation column (fraction); without it inflation_mom is used")
    rate_threshold: float = Field(0.25, gt=0.0, le=10.0, description="percentage points: a 63-session change of the "
                                  "short rate below -threshold is easing, above +threshold tightening, else hold")
    rate_path: RatePath = Field(RatePath.EASING, description="the central bank's path")
    inflation_mom: float = Field(0.0012, ge=-0.05, le=0.05, description="monthly inflation nowcast, fraction")
    inflation_ceiling: float = Field(0.003, ge=-0.05, le=0.05, description="monthly inflation ceiling")
    growth: GrowthRegime = Field(GrowthRegime.STEADY, description="the growth regime")
    regime_multipliers: RegimeMultipliers = Field(RegimeMultipliers(), description="m_k by rate and inflation regime")
    growth_multipliers: GrowthMultipliers = Field(
        GrowthMultipliers(), description="factors on the regime multipliers, by growth regime")

    @model_validator(mode="after")
    def _series_with_source(self) -> Self:
        if self.source is MacroSource.SERIES and self.series is None:
            raise ValueError("source is series but no series file is given; set series: FILE (a CSV of date, "
                             "short_rate and optionally inflation_mom)")
        if self.source is MacroSource.CONFIG and self.series is not None:
            raise ValueError("a series file is given but source is config, which does not read it; set source: "
                             "series, or drop series")
        return self


class ReturnsMethod(StrEnum):
    TILT = "tilt"
    BLACK_LITTERMAN = "black_litterman"


class ViewBy(StrEnum):
    SYMBOL = "symbol"
    SECTOR = "sector"
    SIZE_BUCKET = "size_bucket"
    ASSET_CLASS = "asset_class"


class ViewWeighting(StrEnum):
    EQUAL = "equal"
    BENCHMARK = "benchmark"


class ViewConfig(StrictModel):
    """One view of the user's: the ``long`` leg returns ``expected`` (absolute), or beats the ``short`` leg by it."""

    name: str = Field("", description="label used in reports (default: the legs)")
    by: ViewBy = Field(ViewBy.SYMBOL, description="what the names in long and short are: symbols or group labels")
    long: list[str] = Field(min_length=1, description="symbols or groups of the long leg")
    short: list[str] = Field(default_factory=list, description="symbols or groups of the short leg (relative view)")
    expected: float = Field(ge=-1.0, le=1.0, description="annualized excess return of the view, decimal")
    confidence: Fraction = Field(0.5, description="Idzorek confidence: 0 ignores the view, 1 makes it hold exactly")
    weighting: ViewWeighting = Field(ViewWeighting.EQUAL, description="how a leg spreads over its assets")


class RegimeShifts(StrictModel):
    """How far a regime view sits from equilibrium (annualized decimals): by rate path, plus the inflation and
    growth adjustments; the shifts that apply are added up, and a view whose total is 0 is not taken."""

    easing: float = Field(0.0, ge=-0.5, le=0.5, description="when rate_path is easing, annualized decimal")
    hold: float = Field(0.0, ge=-0.5, le=0.5, description="when rate_path is hold")
    tightening: float = Field(0.0, ge=-0.5, le=0.5, description="when rate_path is tightening")
    hot_inflation: float = Field(0.0, ge=-0.5, le=0.5, description="added when inflation_mom is over the ceiling")
    slowing: float = Field(0.0, ge=-0.5, le=0.5, description="added when growth is slowing")
    contracting: float = Field(0.0, ge=-0.5, le=0.5, description="added when growth is contracting")


class RegimeViewsConfig(StrictModel):
    """The macro state as views on every asset class (with ``returns.method: black_litterman``)."""

    enabled: bool = Field(True, description="false takes no regime view (the user's views still apply)")
    confidence: Fraction = Field(0.5, description="Idzorek confidence of each regime view")
    equity_premium: RegimeShifts = Field(
        RegimeShifts(easing=0.01, tightening=-0.02, hot_inflation=-0.01, slowing=-0.01, contracting=-0.03),
        description="equities (benchmark-weighted) against cash")
    small_minus_large: RegimeShifts = Field(
        RegimeShifts(easing=0.01, tightening=-0.015, hot_inflation=-0.005, slowing=-0.005, contracting=-0.015),
        description="small-cap funds against large-cap funds (equal-weighted legs)")
    duration: RegimeShifts = Field(
        RegimeShifts(easing=0.01, tightening=-0.015, hot_inflation=-0.01, slowing=0.005, contracting=0.015),
        description="bonds against cash")
    gold: RegimeShifts = Field(
        RegimeShifts(easing=0.005, tightening=-0.01, hot_inflation=0.01, contracting=0.005),
        description="commodities (gold) against cash: real rates down is good for gold")


class ReturnsConfig(StrictModel):
    """Expected returns: a prior plus the signal tilt (alpha), annualized."""

    prior: PriorKind = Field(PriorKind.EQUILIBRIUM, description="equilibrium (delta * Sigma @ b), historical "
                             "(shrunk sample mean) or none (zero)")
    market_risk_aversion: float = Field(2.5, gt=0.0, le=100.0, description="delta of pi = delta * Sigma @ b")
    historical_shrinkage: Fraction = Field(
        0.5, description="historical prior: (1 - s) * each asset's sample mean + s * the grand mean of all assets; "
        "0 keeps the sample means, the default 0.5 moves each halfway to the grand mean")
    risk_free_rate: float = Field(
        0.0, ge=-0.1, le=0.5, description="annualized decimal, subtracted from the sample means of the historical "
        "prior so that it is an excess return (the other priors are excess returns already)")
    information_coefficient: float = Field(0.05, ge=0.0, le=1.0, description="IC of alpha = IC * vol * score")
    signal_weights: SignalWeights = Field(SignalWeights(), description="weights c_k of the composite score")
    winsorize_at: float = Field(3.0, gt=0.0, le=10.0, description="z-score limit, in standard deviations")
    peer_group: str | list[str] = Field(
        "none", description="fundamentals column(s) whose values form the peer groups signals are standardized in "
                            "(e.g. [region, style]); none: every equity asset in one group")
    orthogonalize: bool = Field(False, description="Gram-Schmidt the signal z-scores in the order size, value, "
                                                   "growth, margin_expansion, quality")
    alpha_risk: AlphaRisk = Field(AlphaRisk.RESIDUAL, description="volatility that scales alpha: residual (against "
                                                                  "the benchmark) or total")
    benchmark_neutral: bool = Field(True, description="remove beta * (b'alpha) so alpha adds no benchmark exposure")
    macro: MacroConfig = Field(MacroConfig(), description="the macro regime and its signal multipliers")
    tilt: bool = Field(True, description="false leaves mu equal to the prior (no signal alpha)")
    method: ReturnsMethod = Field(ReturnsMethod.TILT, description="tilt: mu = prior + alpha; black_litterman: the "
                                                                  "posterior of prior + alpha given the views")
    tau: float = Field(0.05, gt=0.0, le=1.0, description="Black-Litterman scaling of the prior's uncertainty")
    regime_views: RegimeViewsConfig = Field(RegimeViewsConfig(), description="the macro state as views "
                                                                            "(black_litterman)")
    views: list[ViewConfig] = Field(default_factory=list, description="the user's own views (black_litterman)")
    mu_file: Path | None = Field(
        None, description="CSV of symbol, expected_return (annualized excess return, decimal) for every asset of "
        "the universe: mu is the file's, as given; the prior, the signal tilt and the views are not applied")

    @model_validator(mode="after")
    def _views_need_black_litterman(self) -> Self:
        if self.views and self.mu_file is not None:
            raise ValueError(f"{len(self.views)} view(s) given with mu_file, whose expected returns are used as "
                             "given; put the views into the file, or drop mu_file")
        if self.views and self.method is not ReturnsMethod.BLACK_LITTERMAN:
            raise ValueError(f"{len(self.views)} view(s) given but method is {self.method.value}, which takes none; "
                             "set method: black_litterman")
        return self

    @property
    def peer_group_columns(self) -> tuple[str, ...]:
        """The peer-group columns, lower case; empty for ``none``."""
        names = [self.peer_group] if isinstance(self.peer_group, str) else self.peer_group
        return tuple(n.strip().lower() for n in names if n.strip().lower() != "none")


class Lookback(StrEnum):
    """``all``: every daily return since the first date on which every asset of the universe has a close."""

    ALL = "all"


class FactorModelFiles(StrictModel):
    """A factor model of one's own, ``Sigma = B F B' + diag(d)``, annualized, as three CSV files (paths relative
    to the config)."""

    loadings: Path = Field(description="CSV of the exposures B: symbols as the first column, one column per factor")
    factor_covariance: Path = Field(description="CSV of F (annualized): factor names as the first column and the "
                                    "header, symmetric and positive semidefinite")
    specific_variance: Path = Field(description="CSV of symbol, specific_variance: d, the annualized variance of "
                                    "each asset's own return")


class RiskConfig(StrictModel):
    """The covariance model (annualized) and the risk aversion of the objective."""

    model: RiskModelKind = Field(RiskModelKind.LEDOIT_WOLF, description="covariance estimator or factor model")
    lookback_days: Annotated[int, Field(ge=30, le=10_000)] | Lookback = Field(
        756, description="daily returns used, trading days; all: every day since the first on which every asset "
        "has a close")
    ddof: int = Field(1, ge=0, le=1, description="the sample covariance divides by T - ddof: 1 (unbiased, as pandas "
                      "and PyPortfolioOpt's sample_cov) or 0 (maximum likelihood, as scikit-learn); for sample, pca "
                      "and fundamental (ledoit_wolf keeps its closed form on T, ewma its weights)")
    covariance_file: Path | None = Field(
        None, description="CSV of one's own annualized covariance, symbols as the first column and the header "
        "(checked symmetric and positive semidefinite): used instead of risk.model")
    factor_model: FactorModelFiles | None = Field(
        None, description="one's own factor model as files, used instead of risk.model")
    ewma_halflife_days: float = Field(63.0, gt=1.0, le=5_000.0, description="half-life of the ewma model, trading days")
    risk_aversion: float = Field(2.5, gt=0.0, le=1_000.0, description="gamma of the objective")
    factors: int = Field(10, ge=1, le=1_000, description="principal components of the pca model")
    formulation: RiskFormulation = Field(RiskFormulation.AUTO, description="how the optimizer holds Sigma: dense "
                                         "(n-by-n), factor (B F B' + D) or auto")
    factor_threshold: float = Field(
        3.0, gt=0.0, le=1_000.0,
        description="auto: ledoit_wolf, sample and ewma use their exact factor form (one factor per daily "
                    "return) when the assets number at least this many times the returns (bench/formulations.py)")

    @field_validator("lookback_days", mode="before")
    @classmethod
    def _days_or_all(cls, value: Any) -> Any:
        if isinstance(value, str) and value != Lookback.ALL:
            raise ValueError(f"got {value!r}; give a number of trading days (30 to 10,000) or all")
        return value

    @model_validator(mode="after")
    def _one_source(self) -> Self:
        if self.covariance_file is not None and self.factor_model is not None:
            raise ValueError("give covariance_file or factor_model, not both")
        return self


class PositionLimit(StrictModel):
    min: Fraction | None = Field(None, description="floor of this asset's weight, fraction of NAV")
    max: Fraction | None = Field(None, description="cap of this asset's weight, fraction of NAV")

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min {self.min} is above max {self.max}")
        return self


class ActiveLimit(StrictModel):
    min: ActiveWeight | None = Field(None, description="floor of this asset's w - b, fraction of NAV")
    max: ActiveWeight | None = Field(None, description="cap of this asset's w - b, fraction of NAV")

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min {self.min} is above max {self.max}")
        return self


class GroupLimit(StrictModel):
    """A limit on a group's total weight; the group is every asset whose ``by`` attribute is ``name``, or the
    ``symbols`` listed."""

    by: GroupBy | None = Field(None, description="the attribute that forms the group (or give symbols)")
    name: str | None = Field(None, min_length=1, description="the group's value of that attribute, e.g. small or "
                             "Energy; with symbols, the group's label in reports")
    symbols: list[Symbol] | None = Field(None, min_length=1, description="the members of a group defined by a "
                                         "list (instead of by), each in the universe")
    min: Weight | None = Field(None, description="floor of the group's total weight, fraction of NAV")
    max: Weight | None = Field(None, description="cap of the group's total weight, fraction of NAV")
    relative_to: GroupRelativeTo = Field(GroupRelativeTo.ABSOLUTE, description="absolute weights, or relative to "
                                         "the group's benchmark weight, or to its current weight in the account")
    relaxation_cost: float | None = Field(None, gt=0.0, le=1e6,
                                          description="overrides constraints.relaxation_cost.groups for this group")

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.by is not None and self.symbols is not None:
            raise ValueError("give by (with name) or symbols, not both")
        if self.by is None and self.symbols is None:
            raise ValueError("give by and name (e.g. {by: sector, name: energy}) or symbols (e.g. {symbols: [XLE, "
                             "XLB]})")
        if self.by is not None and self.name is None:
            raise ValueError(f"by: {self.by.value} needs name, the group's {self.by.value}")
        if self.symbols is not None:
            twice = sorted({s for s in self.symbols if self.symbols.count(s) > 1})
            if twice:
                raise ValueError(f"symbols listed twice: {', '.join(twice)}")
        if self.min is None and self.max is None:
            raise ValueError("give min, max or both")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min {self.min} is above max {self.max}")
        return self


class RelaxationCost(StrictModel):
    """Cost per unit of relaxing each family of limits, for the infeasibility diagnosis and ``--relax``.

    The cheapest limits bend first; the defaults bend turnover and tracking error before active and group
    limits, and those before cash, position and RSI rules.
    """

    turnover_max: float = Field(
        1.0, gt=0.0, le=1e6, description="cost per unit (fraction of NAV) of relaxing the turnover limit")
    tracking_error_max: float = Field(
        1.0, gt=0.0, le=1e6, description="cost per unit (fraction of NAV) of relaxing the tracking-error limit")
    active: float = Field(2.0, gt=0.0, le=1e6, description="cost per unit (fraction of NAV) of relaxing active limits")
    groups: float = Field(2.0, gt=0.0, le=1e6, description="cost per unit (fraction of NAV) of relaxing group limits")
    cash: float = Field(4.0, gt=0.0, le=1e6, description="cost per unit (fraction of NAV) of relaxing the cash limits")
    position: float = Field(
        4.0, gt=0.0, le=1e6, description="cost per unit (fraction of NAV) of relaxing position limits")
    rsi: float = Field(4.0, gt=0.0, le=1e6, description="cost per unit (fraction of NAV) of relaxing RSI trims")
    mode: float = Field(100.0, gt=0.0, le=1e6, description="cost per unit (fraction of NAV) of relaxing the trading "
                        "mode's rows (no sells, no buys, cash to raise); high, so the mode bends last")


class ConstraintsConfig(StrictModel):
    """The account's limits, weights in fractions of NAV."""

    min_weight: Fraction = Field(0.0, description="per-asset floor, fraction of NAV (accounts are long-only)")
    max_weight: Fraction = Field(1.0, description="per-asset cap, fraction of NAV")
    position_limits: dict[Symbol, PositionLimit] = Field(
        default_factory=dict, description="per-symbol {min, max} overriding min_weight / max_weight")
    active_min: ActiveWeight | None = Field(None, description="floor on w - b for every asset")
    active_max: ActiveWeight | None = Field(None, description="cap on w - b for every asset")
    active_limits: dict[Symbol, ActiveLimit] = Field(
        default_factory=dict, description="per-symbol {min, max} overriding active_min / active_max")
    groups: list[GroupLimit] = Field(default_factory=list, description="limits on the total weight of a sector, "
                                     "size bucket or asset class")
    tracking_error_max: float | None = Field(None, gt=0.0, le=2.0, description="annualized")
    turnover_max: float | None = Field(None, ge=0.0, le=2.0, description="one-way, fraction of NAV")
    cash_min: Fraction = Field(0.0, description="floor of the cash weight, fraction of NAV")
    cash_max: Fraction = Field(1.0, description="cap of the cash weight, fraction of NAV")
    relaxation_cost: RelaxationCost = Field(
        RelaxationCost(), description="cost of relaxing each family of limits (diagnosis and --relax)")

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        problems = []
        if self.min_weight > self.max_weight:
            problems.append(f"min_weight {self.min_weight} is above max_weight {self.max_weight}")
        if self.active_min is not None and self.active_max is not None and self.active_min > self.active_max:
            problems.append(f"active_min {self.active_min} is above active_max {self.active_max}")
        if self.cash_min > self.cash_max:
            problems.append(f"cash_min {self.cash_min} is above cash_max {self.cash_max}")
        if problems:
            raise ValueError("; ".join(problems))
        return self


class RsiGroup(StrictModel):
    """A group whose total weight is held when its index proxy is overbought (``rsi.scope: group``)."""

    by: GroupBy = Field(description="the attribute that forms the group")
    name: str = Field(min_length=1, description="the group's value of that attribute, e.g. small")
    proxy: Symbol = Field(description="the fund whose RSI stands for the group, e.g. IWM (must be in the universe)")


class RsiConfig(StrictModel):
    """RSI rules: trims of overbought positions (and of their substitutes or group), no sells when oversold."""

    enabled: bool = Field(True, description="apply the RSI rules")
    period: int = Field(14, ge=2, le=500, description="Wilder RSI period, trading days")
    overbought: float = Field(70.0, ge=0.0, le=100.0, description="RSI at or above which a position is trimmed")
    release: float = Field(
        65.0, ge=0.0, le=100.0, description="an overbought rule stays until RSI falls under this (hysteresis); at or "
        "above overbought, no hysteresis")
    oversold: float = Field(30.0, ge=0.0, le=100.0, description="RSI at or below which a position is oversold")
    extreme: float = Field(80.0, ge=0.0, le=100.0, description="RSI at which a graded trim reaches min_trim")
    min_trim: Fraction = Field(0.0, description="fraction of the position (or overweight) that must be sold when "
                               "overbought: the ceiling w <= (1 - min_trim) w0")
    max_trim: Fraction = Field(0.5, description="with sale_floor, the largest fraction of the position (or "
                               "overweight) that may be sold")
    sale_floor: bool = Field(False, description="also set the floor w >= (1 - max_trim) w0 on an overbought position")
    trim: RsiTrim = Field(RsiTrim.POSITION, description="position: trim the whole position; overweight: only the "
                          "part above the benchmark weight (no rule at or under it)")
    graded: bool = Field(False, description="min_trim rises linearly from 0 at overbought to min_trim at extreme")
    no_sell_when_oversold: bool = Field(False, description="oversold positions may not be sold")
    scope: RsiScope = Field(RsiScope.ASSET, description="asset: the rule holds the fund only; correlated: also no "
                            "adds to assets correlated above rsi.correlation with it; group: also no rise in the "
                            "total of rsi.groups whose proxy is overbought")
    correlation: float = Field(0.9, gt=0.0, le=1.0, description="with scope correlated, the return correlation "
                               "(from the risk model) above which an asset counts as a substitute")
    groups: list[RsiGroup] = Field(default_factory=list, description="with scope group, the groups and their index "
                                   "proxies")

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        problems = []
        if self.oversold >= self.overbought:
            problems.append(f"oversold {self.oversold} must be below overbought {self.overbought}")
        if self.graded and self.extreme <= self.overbought:
            problems.append(f"extreme {self.extreme} must be above overbought {self.overbought}")
        if self.min_trim > self.max_trim:
            problems.append(f"min_trim {self.min_trim} is above max_trim {self.max_trim}")
        if self.scope is RsiScope.GROUP and not self.groups:
            problems.append("scope group needs rsi.groups (e.g. {by: size_bucket, name: small, proxy: IWM})")
        if problems:
            raise ValueError("; ".join(problems))
        return self


class TradingConfig(StrictModel):
    """Costs, lots and the smallest trade."""

    cost_bps: float = Field(5.0, ge=0.0, le=1_000.0, description="linear cost, basis points of traded value")
    cost_bps_by_symbol: dict[Symbol, Annotated[float, Field(ge=0.0, le=1_000.0)]] = Field(
        default_factory=dict, description="per-symbol cost_bps, basis points")
    lot_size: float = Field(1.0, gt=0.0, description="default lot, shares; a holdings column overrides it")
    fractional_shares: bool = Field(False, description="allow fractional quantities and lot sizes")
    min_trade_value: float = Field(0.0, ge=0.0, description="drop smaller trades unless they close a position")
    mode: TradingMode = Field(TradingMode.REBALANCE, description="rebalance (buy and sell), invest (buys only: "
                              "spend cash down to its floor) or raise (sells only: raise raise_value); --mode wins")
    raise_value: float = Field(0.0, ge=0.0, description="cash to raise in raise mode, account currency: cash after "
                               "trading at least cash before + this; --raise wins; needs the account to trade in raise "
                               "mode (trading.mode, --mode or the accounts table's mode)")
    horizon_years: float = Field(1.0, gt=0.0, le=100.0, description="holding horizon, years: one-time costs are "
                                 "spread over it against annualized returns (objective: mu'w - cost / horizon)")
    spread_bps_by_symbol: dict[Symbol, Annotated[float, Field(ge=0.0, le=10_000.0)]] = Field(
        default_factory=dict, description="bid-ask spread per symbol, basis points; half of it is paid per trade, "
        "on top of cost_bps")
    impact: float = Field(0.0, ge=0.0, le=100.0, description="square-root market impact coefficient: a trade of "
                          "value V costs impact * daily volatility * sqrt(V / ADV) * V (0: none)")
    adv_by_symbol: dict[Symbol, Annotated[float, Field(gt=0.0)]] = Field(
        default_factory=dict, description="average daily traded value per symbol, account currency (for impact; "
        "symbols without one pay no impact)")

    @model_validator(mode="after")
    def _whole_lots(self) -> Self:
        if not self.fractional_shares and self.lot_size != int(self.lot_size):
            raise ValueError(f"lot_size {self.lot_size} is fractional; set fractional_shares: true to allow it")
        return self


class SolverConfig(StrictModel):
    """The solvers and the check every solution must pass."""

    order: list[SolverName] = Field(
        default_factory=lambda: [SolverName.CLARABEL, SolverName.OSQP, SolverName.SCS], min_length=1,
        description="solvers tried in order until one gives an accepted solution"
    )
    feasibility_tolerance: float = Field(1e-6, gt=0.0, le=1e-2, description="largest violation accepted")
    verbose: bool = Field(False, description="print the solvers' own output")


class OptimizerConfig(StrictModel):
    """The objective (docs/method.md, "Objectives"); every limit (constraints, rsi, trading mode) applies whichever
    it is."""

    objective: Objective = Field(
        Objective.UTILITY,
        description="utility: max mu'w - (gamma/2) w'Sigma w - cost / horizon; min_variance: min (gamma/2) w'Sigma w "
                    "+ cost / horizon; min_tracking_error: the same with w - b; max_sharpe: max (mu'w - cost / "
                    "horizon) / sqrt(w'Sigma w), mu being excess returns")


class OutputConfig(StrictModel):
    """What ``allocate run -o`` writes."""

    format: OutputFormat = Field(OutputFormat.CSV, description="trade list format when --format is not given")


class OrderType(StrEnum):
    MARKET = "market"
    LIMIT = "limit"


class TimeInForce(StrEnum):
    """DAY, good till cancelled, at the opening, at the close."""

    DAY = "DAY"
    GTC = "GTC"
    OPG = "OPG"
    CLS = "CLS"


class IdScheme(StrEnum):
    """``readable``: prefix + run id + symbol; ``hashed``: prefix + 16 base32 characters (for short ID limits)."""

    READABLE = "readable"
    HASHED = "hashed"


class FixDelimiter(StrEnum):
    SOH = "soh"
    PIPE = "pipe"


# Free text that goes into FIX fields and basket cells: no control characters (SOH ends a FIX field) and no '|'
# (the readable FIX delimiter).
FixText = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[^\x00-\x1f\x7f|]+$")]


class OrdersConfig(StrictModel):
    """How trades become orders for an order system (CSV basket, JSON, FIX 4.4) and ``allocate send``.

    Prices in the account currency; offsets in basis points; times of day in ``timezone``, written as UTC.
    """

    order_type: OrderType = Field(OrderType.MARKET, description="market, or limit at the last price and "
                                  "limit_offset_bps")
    limit_offset_bps: float = Field(
        0.0, ge=-1_000.0, le=1_000.0,
        description="limit = last price * (1 + offset) for buys and (1 - offset) for sells, basis points")
    tick_size: float | None = Field(
        None, gt=0.0, le=1_000.0, description="price increment; default 0.01 at or above 1, else 0.0001")
    tick_size_by_symbol: dict[Symbol, Annotated[float, Field(gt=0.0, le=1_000.0)]] = Field(
        default_factory=dict, description="per-symbol tick_size, account currency")
    time_in_force: TimeInForce = Field(TimeInForce.DAY, description="DAY, GTC, OPG (at the opening), CLS (at the "
                                       "close)")
    account: FixText | None = Field(None, description="FIX Account (1), basket Account; the fix format needs it")
    destination: FixText | None = Field(None, description="FIX ExDestination (100); basket Exchange (else SMART)")
    currency: str = Field("USD", pattern=r"^[A-Z]{3}$", description="ISO 4217 code, FIX Currency (15)")
    id_scheme: IdScheme = Field(IdScheme.READABLE, description="client order IDs: readable (prefix, run id, "
                                "symbol) or hashed (prefix + 16 base32 characters)")
    id_prefix: str = Field("AL", pattern=r"^[A-Za-z0-9]{0,8}$", description="prefix of the client order IDs")
    time_of_day: str = Field("16:00:00", description="time of the as-of date stamped on order files, HH:MM[:SS]")
    timezone: str = Field("America/New_York", min_length=1, max_length=64,
                          description="IANA time zone of time_of_day")
    sender_comp_id: FixText = Field("ALLOCATE", description="FIX SenderCompID (49) of order files")
    target_comp_id: FixText = Field("BROKER", description="FIX TargetCompID (56) of order files")
    fix_delimiter: FixDelimiter = Field(FixDelimiter.SOH, description="soh (the wire form) or pipe (readable)")
    journal: Path | None = Field(None, description="SQLite journal of the orders sent (allocate send)")
    require_approval: bool = Field(
        False, description="allocate send sends only a trade list whose SHA-256 is the one approved last with "
        "allocate approve (approval.json beside the run's manifest.json)")

    @field_validator("time_of_day", mode="before")
    @classmethod
    def _time_text(cls, value: Any) -> Any:
        if isinstance(value, int) and not isinstance(value, bool):
            raise ValueError(f"got the number {value}: YAML reads an unquoted 16:00 as a number; quote it, "
                             "e.g. '16:00'")
        if isinstance(value, str) and not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d(:[0-5]\d)?", value):
            raise ValueError(f"expected HH:MM or HH:MM:SS (24-hour), got {value!r}")
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}; use an IANA name such as 'America/New_York' or "
                             "'UTC'") from None
        return value


class RebalanceEvery(StrEnum):
    """The backtest's rebalance calendar: the last session of each week, month or quarter."""

    WEEKLY = "weekly"
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"


class FillTiming(StrEnum):
    """When a backtest's trades fill: at the close after the decision's (``next_close``) or at its own."""

    NEXT_CLOSE = "next_close"
    SAME_CLOSE = "same_close"


class StrategyName(StrEnum):
    """The strategies a backtest can run side by side (docs/backtest.md, "Strategies")."""

    CONFIG = "config"
    NO_TILT = "no_tilt"
    NO_RSI = "no_rsi"
    NO_REGIME = "no_regime"
    BENCHMARK_HOLD = "benchmark_hold"
    BENCHMARK_REBALANCED = "benchmark_rebalanced"
    HRP = "hrp"
    ERC = "erc"


class RateUnit(StrEnum):
    PERCENT = "percent"
    DECIMAL = "decimal"


class CashRateConfig(StrictModel):
    """A series of annualized short rates that cash earns in a backtest (a CSV of date and rate columns)."""

    file: Path = Field(description="CSV with a date column and the rate column (path relative to the config)")
    column: str = Field("rate", min_length=1, description="header of the rate column, e.g. ^IRX")
    unit: RateUnit = Field(RateUnit.PERCENT, description="percent (4.5 = 4.5% a year, as yields are quoted) or "
                           "decimal (0.045)")


# the starting cash a backtest accepts, account currency (backtest.initial_cash and --initial-cash): a cent at least,
# since the account is kept to the cent
INITIAL_CASH_RANGE = (0.01, 1e12)


class BacktestConfig(StrictModel):
    """``allocate backtest``: the walk-forward simulation (docs/backtest.md). CLI options win over these keys."""

    start: datetime.date | None = Field(None, description="first day of the backtest (--start); default: the "
                                        "first date with enough history")
    end: datetime.date | None = Field(None, description="last day of the backtest (--end); default: the last close")
    every: RebalanceEvery | Annotated[int, Field(ge=1, le=2520)] = Field(
        RebalanceEvery.MONTHLY, description="rebalance on the last session of each week, month or quarter, or every "
        "N sessions (--every)")
    fill: FillTiming = Field(FillTiming.NEXT_CLOSE, description="next_close: trades decided on a close fill at the "
                             "next close; same_close: at the decision's close")
    initial_cash: float = Field(1_000_000.0, ge=INITIAL_CASH_RANGE[0], le=INITIAL_CASH_RANGE[1],
                                description="starting cash, account currency, when no --holdings is given "
                                "(--initial-cash)")
    static_fundamentals: bool = Field(
        False, description="accept a fundamentals snapshot (no date column) for every date: a look-ahead, named in "
        "every output")
    strategies: list[StrategyName] = Field(
        default_factory=lambda: list(StrategyName), min_length=1,
        description="strategies run side by side: config, no_tilt, no_rsi, no_regime, benchmark_hold, "
        "benchmark_rebalanced, hrp, erc")
    relax: bool = Field(True, description="when a date's limits conflict, trade on the smallest relaxation "
                        "(counted in metrics.csv) instead of stopping the backtest")
    cash_rate: CashRateConfig | None = Field(None, description="short-rate series that cash earns (default: none)")
    bootstrap_samples: int = Field(2000, ge=100, le=100_000, description="stationary block bootstrap resamples "
                                   "for the confidence intervals of differences to the benchmark")
    bootstrap_block_days: float = Field(21.0, ge=1.0, le=1_000.0, description="mean block length of the "
                                        "bootstrap, sessions")
    seed: int = Field(42, ge=0, description="seed of the bootstrap")
    workers: int = Field(2, ge=1, le=64, description="worker processes running strategies in parallel, on a local "
                         "Dask cluster (a process pool without Dask; 1: none)")

    @field_validator("every", mode="before")
    @classmethod
    def _every(cls, value: Any) -> Any:
        if isinstance(value, str) and value.strip().isdigit():
            return int(value)
        if isinstance(value, str) and value not in set(RebalanceEvery):
            raise ValueError(f"got {value!r}; give weekly, monthly, quarterly or a number of sessions")
        return value

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.start is not None and self.end is not None and self.start >= self.end:
            raise ValueError(f"start {self.start} is not before end {self.end}")
        if len(set(self.strategies)) != len(self.strategies):
            raise ValueError("a strategy is listed twice")
        return self


class Config(StrictModel):
    """The whole run configuration (docs/configuration.md, generated from these models)."""

    data: DataConfig = Field(description="input files and how they are read")
    universe: UniverseConfig = Field(UniverseConfig(), description="the modelled assets")
    benchmark: BenchmarkConfig = Field(BenchmarkConfig(), description="the benchmark weights b")
    returns: ReturnsConfig = Field(ReturnsConfig(), description="expected returns: prior and signal tilt")
    risk: RiskConfig = Field(RiskConfig(), description="the risk model and risk aversion")
    constraints: ConstraintsConfig = Field(ConstraintsConfig(), description="the account's limits")
    rsi: RsiConfig = Field(RsiConfig(), description="RSI trim rules")
    trading: TradingConfig = Field(TradingConfig(), description="costs, lots and minimum trade")
    optimizer: OptimizerConfig = Field(OptimizerConfig(), description="the objective the limits apply to")
    solver: SolverConfig = Field(SolverConfig(), description="solvers and the feasibility check")
    output: OutputConfig = Field(OutputConfig(), description="output files")
    orders: OrdersConfig = Field(OrdersConfig(), description="how trades become orders (export, send)")
    backtest: BacktestConfig = Field(BacktestConfig(), description="allocate backtest: calendar, fills, strategies")

    @model_validator(mode="after")
    def _benchmark_none(self) -> Self:
        """With ``benchmark: none`` nothing may be measured against a benchmark."""
        if not self.benchmark.is_none:
            return self
        c = self.constraints
        relative = [name for name, value in (("active_min", c.active_min), ("active_max", c.active_max),
                                             ("active_limits", c.active_limits),
                                             ("tracking_error_max", c.tracking_error_max)) if value]
        relative += [f"groups[{i}].relative_to" for i, g in enumerate(c.groups)
                     if g.relative_to is GroupRelativeTo.BENCHMARK]
        problems = []
        if relative:
            problems.append(f"benchmark: none, but limits relative to a benchmark are set: "
                            f"{', '.join('constraints.' + name for name in relative)}; remove them (set them to "
                            "null in a config that extends one with them) or give benchmark weights")
        if self.returns.prior is PriorKind.EQUILIBRIUM and self.returns.mu_file is None:
            problems.append("benchmark: none, but returns.prior is equilibrium, the return that makes the benchmark "
                            "optimal (pi = delta * Sigma @ b, zero without one); set returns.prior to historical or "
                            "none, or give returns.mu_file")
        if self.optimizer.objective is Objective.MIN_TRACKING_ERROR:
            problems.append("benchmark: none, but optimizer.objective is min_tracking_error (tracking error is "
                            "measured against the benchmark); give benchmark weights or choose another objective")
        if problems:
            raise ValueError("; and ".join(problems))
        return self

    @model_validator(mode="after")
    def _sharpe_without_impact(self) -> Self:
        if self.optimizer.objective is Objective.MAX_SHARPE and self.trading.impact > 0:
            raise ValueError(f"optimizer.objective max_sharpe cannot price trading.impact {self.trading.impact:g} "
                             "(a cost of |trade|^1.5 does not scale with the portfolio as the Sharpe problem needs); "
                             "set trading.impact: 0 or choose another objective")
        return self
