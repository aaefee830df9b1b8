"""YAML configuration -> validated, frozen config objects.

Field names are the YAML keys. Every key is validated and every error is reported at once with its key path;
unknown keys are errors (a typo must never be silently ignored). Weights and rates are fractions (0.05 = 5%),
returns and volatilities annualized, money in the account currency. Paths are relative to the file that names them.

A config may say ``extends: base.yaml``; the chain is resolved by ``allocator.inheritance`` before validation.
"""

from __future__ import annotations

import re
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Fraction = Annotated[float, Field(ge=0.0, le=1.0)]
Weight = Annotated[float, Field(ge=-1.0, le=1.0)]
ActiveWeight = Annotated[float, Field(ge=-1.0, le=1.0)]
Symbol = Annotated[str, Field(min_length=1, max_length=32)]

SIGNALS = ("size", "value", "growth", "quality")


class StrictModel(BaseModel):
    """Frozen model that refuses unknown keys."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_enum_values=False, allow_inf_nan=False)


# --- choices -----------------------------------------------------------------------------------------------


class GapPolicy(StrEnum):
    EXCLUDE = "exclude"
    STOP = "stop"


class OutsidePolicy(StrEnum):
    """What to do with held symbols outside the modelled universe."""

    HOLD = "hold"
    SELL = "sell"
    REFUSE = "refuse"


class PriorKind(StrEnum):
    EQUILIBRIUM = "equilibrium"
    HISTORICAL = "historical"
    NONE = "none"


class RatePath(StrEnum):
    EASING = "easing"
    HOLD = "hold"
    TIGHTENING = "tightening"


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


class GroupRelativeTo(StrEnum):
    ABSOLUTE = "absolute"
    BENCHMARK = "benchmark"


class SolverName(StrEnum):
    CLARABEL = "clarabel"
    OSQP = "osqp"
    SCS = "scs"


class OutputFormat(StrEnum):
    CSV = "csv"
    JSON = "json"
    FIX = "fix"
    BASKET = "basket"


# --- sections ----------------------------------------------------------------------------------------------


class HoldingsColumns(StrictModel):
    """Column map for holdings files: each field names the header that holds it in the file."""

    symbol: str | None = None
    quantity: str | None = None
    price: str | None = None
    lot_size: str | None = None
    cost_basis: str | None = None
    account: str | None = None
    market_value: str | None = None
    security_type: str | None = None


class DataConfig(StrictModel):
    prices: Path
    fundamentals: Path
    holdings_columns: HoldingsColumns = HoldingsColumns()
    max_fill_days: int = Field(3, ge=0, le=30, description="forward-fill price gaps of at most this many rows")
    on_gap: GapPolicy = GapPolicy.EXCLUDE
    max_file_mb: float = Field(256.0, gt=0.0, description="refuse input files larger than this, in MiB")
    max_rows: int = Field(2_000_000, gt=0, description="refuse input tables with more rows than this")
    cash_symbols: list[Symbol] = Field(
        default_factory=list, description="held symbols counted as cash (money-market or sweep funds) besides the "
        "built-in list")
    holdings_account: str | None = Field(
        None, min_length=1, description="in an export of several accounts, the account to rebalance")


class UniverseConfig(StrictModel):
    symbols: list[Symbol] | None = Field(None, min_length=1,
                                         description="default: every symbol in the fundamentals file")
    outside_holdings: OutsidePolicy = OutsidePolicy.HOLD


class BenchmarkConfig(StrictModel):
    weights: dict[Symbol, Fraction] | None = Field(
        None, description="benchmark weights, fractions summing to at most 1 (the rest is cash)"
    )

    @model_validator(mode="after")
    def _sums_to_at_most_one(self) -> Self:
        if self.weights is not None and sum(self.weights.values()) > 1.0 + 1e-9:
            raise ValueError(f"weights sum to {sum(self.weights.values()):.6g}; they must sum to at most 1")
        return self


class SignalWeights(StrictModel):
    """Weights ``c_k`` of the signals in the composite score."""

    size: float = Field(0.35, ge=-5, le=5)
    value: float = Field(0.25, ge=-5, le=5)
    growth: float = Field(0.25, ge=-5, le=5)
    quality: float = Field(0.15, ge=-5, le=5)


class SignalMultipliers(StrictModel):
    size: float = Field(1.0, ge=-5, le=5)
    value: float = Field(1.0, ge=-5, le=5)
    growth: float = Field(1.0, ge=-5, le=5)
    quality: float = Field(1.0, ge=-5, le=5)


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
    """Fill a partial multiplier table from the default table, so ``hawkish: {size: -1}`` keeps growth 0.5."""
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

    goldilocks: SignalMultipliers = SignalMultipliers()
    hold: SignalMultipliers = SignalMultipliers(size=0.5)
    hawkish: SignalMultipliers = SignalMultipliers(size=-0.5, growth=0.5)

    @model_validator(mode="before")
    @classmethod
    def _fill(cls, data: Any) -> Any:
        return _merge_defaults(data, _REGIME_DEFAULTS)


class GrowthMultipliers(StrictModel):
    """Factors applied on top of the regime multipliers, by growth regime."""

    expanding: SignalMultipliers = SignalMultipliers()
    steady: SignalMultipliers = SignalMultipliers()
    slowing: SignalMultipliers = SignalMultipliers(size=0.5, growth=0.25)
    contracting: SignalMultipliers = SignalMultipliers(size=0.0, growth=-0.5)

    @model_validator(mode="before")
    @classmethod
    def _fill(cls, data: Any) -> Any:
        return _merge_defaults(data, _GROWTH_DEFAULTS)


class MacroConfig(StrictModel):
    rate_path: RatePath = RatePath.EASING
    inflation_mom: float = Field(0.0012, ge=-0.05, le=0.05, description="monthly inflation nowcast, fraction")
    inflation_ceiling: float = Field(0.003, ge=-0.05, le=0.05, description="monthly inflation ceiling")
    growth: GrowthRegime = GrowthRegime.STEADY
    regime_multipliers: RegimeMultipliers = RegimeMultipliers()
    growth_multipliers: GrowthMultipliers = GrowthMultipliers()


class ReturnsConfig(StrictModel):
    prior: PriorKind = PriorKind.EQUILIBRIUM
    market_risk_aversion: float = Field(2.5, gt=0.0, le=100.0, description="delta of pi = delta * Sigma @ b")
    historical_shrinkage: Fraction = Field(0.5, description="weight of the grand mean in the historical prior")
    risk_free_rate: float = Field(0.0, ge=-0.1, le=0.5, description="annualized, for the historical prior")
    information_coefficient: float = Field(0.05, ge=0.0, le=1.0)
    signal_weights: SignalWeights = SignalWeights()
    winsorize_at: float = Field(3.0, gt=0.0, le=10.0, description="z-score limit, in standard deviations")
    macro: MacroConfig = MacroConfig()
    tilt: bool = Field(True, description="false leaves mu equal to the prior (no signal alpha)")


class RiskConfig(StrictModel):
    model: RiskModelKind = RiskModelKind.LEDOIT_WOLF
    lookback_days: int = Field(756, ge=30, le=10_000, description="daily returns used, trading days")
    ewma_halflife_days: float = Field(63.0, gt=1.0, le=5_000.0)
    risk_aversion: float = Field(2.5, gt=0.0, le=1_000.0, description="gamma of the objective")
    factors: int = Field(10, ge=1, le=1_000, description="principal components of the pca model")
    formulation: RiskFormulation = RiskFormulation.AUTO
    factor_threshold: float = Field(
        3.0, gt=0.0, le=1_000.0,
        description="auto: ledoit_wolf, sample and ewma use their exact factor form (one factor per daily "
                    "return) when the assets number at least this many times the returns (bench/formulations.py)")


class PositionLimit(StrictModel):
    min: Fraction | None = None
    max: Fraction | None = None

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min {self.min} is above max {self.max}")
        return self


class ActiveLimit(StrictModel):
    min: ActiveWeight | None = None
    max: ActiveWeight | None = None

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min {self.min} is above max {self.max}")
        return self


class GroupLimit(StrictModel):
    by: GroupBy
    name: str = Field(min_length=1)
    min: Weight | None = None
    max: Weight | None = None
    relative_to: GroupRelativeTo = GroupRelativeTo.ABSOLUTE
    relaxation_cost: float | None = Field(None, gt=0.0, le=1e6,
                                          description="overrides constraints.relaxation_cost.groups for this group")

    @model_validator(mode="after")
    def _ordered(self) -> Self:
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

    turnover_max: float = Field(1.0, gt=0.0, le=1e6)
    tracking_error_max: float = Field(1.0, gt=0.0, le=1e6)
    active: float = Field(2.0, gt=0.0, le=1e6)
    groups: float = Field(2.0, gt=0.0, le=1e6)
    cash: float = Field(4.0, gt=0.0, le=1e6)
    position: float = Field(4.0, gt=0.0, le=1e6)
    rsi: float = Field(4.0, gt=0.0, le=1e6)


class ConstraintsConfig(StrictModel):
    min_weight: Fraction = Field(0.0, description="per-asset floor, fraction of NAV (accounts are long-only)")
    max_weight: Fraction = Field(1.0, description="per-asset cap, fraction of NAV")
    position_limits: dict[Symbol, PositionLimit] = Field(default_factory=dict)
    active_min: ActiveWeight | None = Field(None, description="floor on w - b for every asset")
    active_max: ActiveWeight | None = Field(None, description="cap on w - b for every asset")
    active_limits: dict[Symbol, ActiveLimit] = Field(default_factory=dict)
    groups: list[GroupLimit] = Field(default_factory=list)
    tracking_error_max: float | None = Field(None, gt=0.0, le=2.0, description="annualized")
    turnover_max: float | None = Field(None, ge=0.0, le=2.0, description="one-way, fraction of NAV")
    cash_min: Fraction = 0.0
    cash_max: Fraction = 1.0
    relaxation_cost: RelaxationCost = RelaxationCost()

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


class RsiConfig(StrictModel):
    enabled: bool = True
    period: int = Field(14, ge=2, le=500, description="Wilder RSI period, trading days")
    overbought: float = Field(70.0, ge=0.0, le=100.0)
    oversold: float = Field(30.0, ge=0.0, le=100.0)
    extreme: float = Field(80.0, ge=0.0, le=100.0, description="RSI at which a graded trim reaches min_trim")
    min_trim: Fraction = Field(0.0, description="fraction of the position that must be sold when overbought")
    max_trim: Fraction = Field(0.5, description="largest fraction of the position that may be sold")
    graded: bool = False
    no_sell_when_oversold: bool = False

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        problems = []
        if self.oversold >= self.overbought:
            problems.append(f"oversold {self.oversold} must be below overbought {self.overbought}")
        if self.graded and self.extreme <= self.overbought:
            problems.append(f"extreme {self.extreme} must be above overbought {self.overbought}")
        if self.min_trim > self.max_trim:
            problems.append(f"min_trim {self.min_trim} is above max_trim {self.max_trim}")
        if problems:
            raise ValueError("; ".join(problems))
        return self


class TradingConfig(StrictModel):
    cost_bps: float = Field(5.0, ge=0.0, le=1_000.0, description="linear cost, basis points of traded value")
    cost_bps_by_symbol: dict[Symbol, Annotated[float, Field(ge=0.0, le=1_000.0)]] = Field(default_factory=dict)
    lot_size: float = Field(1.0, gt=0.0, description="default lot, shares; a holdings column overrides it")
    fractional_shares: bool = False
    min_trade_value: float = Field(0.0, ge=0.0, description="drop smaller trades unless they close a position")

    @model_validator(mode="after")
    def _whole_lots(self) -> Self:
        if not self.fractional_shares and self.lot_size != int(self.lot_size):
            raise ValueError(f"lot_size {self.lot_size} is fractional; set fractional_shares: true to allow it")
        return self


class SolverConfig(StrictModel):
    order: list[SolverName] = Field(
        default_factory=lambda: [SolverName.CLARABEL, SolverName.OSQP, SolverName.SCS], min_length=1
    )
    feasibility_tolerance: float = Field(1e-6, gt=0.0, le=1e-2, description="largest violation accepted")
    verbose: bool = False


class OutputConfig(StrictModel):
    format: OutputFormat = OutputFormat.CSV


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

    order_type: OrderType = OrderType.MARKET
    limit_offset_bps: float = Field(
        0.0, ge=-1_000.0, le=1_000.0,
        description="limit = last price * (1 + offset) for buys and (1 - offset) for sells, basis points")
    tick_size: float | None = Field(
        None, gt=0.0, le=1_000.0, description="price increment; default 0.01 at or above 1, else 0.0001")
    tick_size_by_symbol: dict[Symbol, Annotated[float, Field(gt=0.0, le=1_000.0)]] = Field(default_factory=dict)
    time_in_force: TimeInForce = TimeInForce.DAY
    account: FixText | None = None
    destination: FixText | None = Field(None, description="FIX ExDestination (100); basket Exchange (else SMART)")
    currency: str = Field("USD", pattern=r"^[A-Z]{3}$")
    id_scheme: IdScheme = IdScheme.READABLE
    id_prefix: str = Field("AL", pattern=r"^[A-Za-z0-9]{0,8}$")
    time_of_day: str = Field("16:00:00", description="time of the as-of date stamped on order files, HH:MM[:SS]")
    timezone: str = Field("America/New_York", min_length=1, max_length=64)
    sender_comp_id: FixText = "ALLOCATE"
    target_comp_id: FixText = "BROKER"
    fix_delimiter: FixDelimiter = FixDelimiter.SOH
    journal: Path | None = Field(None, description="SQLite journal of the orders sent (allocate send)")

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


class Config(StrictModel):
    """The whole run configuration."""

    data: DataConfig
    universe: UniverseConfig = UniverseConfig()
    benchmark: BenchmarkConfig = BenchmarkConfig()
    returns: ReturnsConfig = ReturnsConfig()
    risk: RiskConfig = RiskConfig()
    constraints: ConstraintsConfig = ConstraintsConfig()
    rsi: RsiConfig = RsiConfig()
    trading: TradingConfig = TradingConfig()
    solver: SolverConfig = SolverConfig()
    output: OutputConfig = OutputConfig()
    orders: OrdersConfig = OrdersConfig()
