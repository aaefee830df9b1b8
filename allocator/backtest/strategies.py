"""The strategies a backtest runs side by side, and what each decides on a date.

Every strategy sees the same point-in-time view (``point_in_time``) through ``allocator.pipeline.prepare``, so
each works on the universe, prices and costs ``allocate run`` would use on that date, and every decision ends as a
whole-lot trade list reconciled by ``allocator.trading.trades`` (cash floor, minimum trade, costs):

- ``config``: the pipeline of ``allocate run`` itself (signals, regime, RSI rules, every limit), re-solving one
  compiled problem (``ProblemCache``) with each date's parameters;
- ``no_tilt``, ``no_rsi``, ``no_regime``: the same with the signal tilt off (``returns.tilt: false``), the RSI
  rules off (``rsi.enabled: false``), or every regime multiplier at 1 and no regime views;
- ``benchmark_hold``: the benchmark bought on the first date and held; ``benchmark_rebalanced``: bought back to
  the benchmark weights on every date; constituents excluded on a date for gaps in their prices have their weight
  spread over the others pro rata (``benchmark_proxy``);
- ``hrp`` and ``erc``: riskfolio-lib's hierarchical risk parity and equal risk contribution on the window's daily
  returns (``riskfolio_adapter``);
- ``FixedWeights`` (library only): the same target weights on every date.

The weight strategies trade under the config's costs, lots and cash floor only (``baseline_config``): no position,
group, active, tracking-error, turnover or RSI limit, which are the config's rules, not theirs.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from allocator.config.loader import LoadedConfig
from allocator.config.schema import (
    Config,
    ConstraintsConfig,
    GroupRelativeTo,
    GrowthMultipliers,
    RegimeMultipliers,
    RsiConfig,
    SignalMultipliers,
    StrategyName,
    TradingMode,
)
from allocator.domain import FloatArray, Holdings, Universe
from allocator.errors import AllocatorError
from allocator.inputs.universe import COUNTED_AS_CASH, SPREAD_OVER_ITS_CLASS
from allocator.optimize.problem import ProblemCache
from allocator.pipeline import Prepared, prepare, run
from allocator.trading.trades import TradeList, build_trades, reconcile

PIPELINE = (StrategyName.CONFIG, StrategyName.NO_TILT, StrategyName.NO_RSI, StrategyName.NO_REGIME)


@dataclass(frozen=True)
class Strategy:
    """A named strategy: its kind (``StrategyName``), the config it decides under and, for ``FixedWeights``, the
    target weights by symbol (fractions of NAV)."""

    name: str
    kind: StrategyName | None
    loaded: LoadedConfig
    weights: dict[str, float] = field(default_factory=dict)

    @property
    def trades_once(self) -> bool:
        """Whether the strategy trades on its first date only (buy and hold)."""
        return self.kind is StrategyName.BENCHMARK_HOLD


def fixed_weights(name: str, loaded: LoadedConfig, weights: dict[str, float]) -> Strategy:
    """A strategy holding ``weights`` (fractions of NAV by symbol, summing to at most 1) on every date."""
    return Strategy(name=name, kind=None, loaded=_variant(loaded, baseline_config(loaded.config)), weights=weights)


def _variant(loaded: LoadedConfig, config: Config) -> LoadedConfig:
    return replace(loaded, config=config)


def ablation_config(config: Config, kind: StrategyName) -> Config:
    """``config`` with one part switched off for ``kind`` (``no_tilt``, ``no_rsi``, ``no_regime``); itself for
    ``config``."""
    returns = config.returns
    if kind is StrategyName.NO_TILT:
        return config.model_copy(update={"returns": returns.model_copy(update={"tilt": False})})
    if kind is StrategyName.NO_RSI:
        return config.model_copy(update={"rsi": config.rsi.model_copy(update={"enabled": False})})
    if kind is StrategyName.NO_REGIME:
        one = SignalMultipliers()
        macro = returns.macro.model_copy(update={
            "regime_multipliers": RegimeMultipliers(goldilocks=one, hold=one, hawkish=one),
            "growth_multipliers": GrowthMultipliers(expanding=one, steady=one, slowing=one, contracting=one)})
        views = returns.regime_views.model_copy(update={"enabled": False})
        return config.model_copy(update={"returns": returns.model_copy(update={"macro": macro,
                                                                               "regime_views": views})})
    return config


def baseline_config(config: Config) -> Config:
    """The config a weight strategy trades under: the config's data, universe, benchmark, costs, lots and cash floor;
    no other limit and no RSI rule; trading mode rebalance."""
    constraints = ConstraintsConfig(cash_min=config.constraints.cash_min)
    trading = config.trading.model_copy(update={"mode": TradingMode.REBALANCE, "raise_value": 0.0})
    return config.model_copy(update={"constraints": constraints, "rsi": RsiConfig(enabled=False),
                                     "trading": trading})


def named_strategies(loaded: LoadedConfig) -> list[Strategy]:
    """The strategies of ``backtest.strategies``, in that order, each with the config it decides under."""
    found = []
    for kind in loaded.config.backtest.strategies:
        config = (ablation_config(loaded.config, kind) if kind in PIPELINE
                  else baseline_config(loaded.config))
        found.append(Strategy(name=kind.value, kind=kind, loaded=_variant(loaded, config)))
    return found


# The kinds by the work each does over a backtest, most first (CPU seconds of each alone, monthly 2006-2026 on 20
# ETFs: docs/backtest.md, "Speed"): riskfolio-lib's HRP (a recursive bisection on frames, each date) and ERC (a
# CVXPY problem built and canonicalized each date); the pipeline (one compiled problem re-solved); weights only
# (``None``: ``FixedWeights``); one decision.
WORK_ORDER: tuple[StrategyName | None, ...] = (
    StrategyName.HRP, StrategyName.ERC, StrategyName.CONFIG, StrategyName.NO_REGIME, StrategyName.NO_TILT,
    StrategyName.NO_RSI, StrategyName.BENCHMARK_REBALANCED, None, StrategyName.BENCHMARK_HOLD)


def longest_first(strategies: list[Strategy]) -> list[int]:
    """The positions of ``strategies`` in the order to hand them to worker processes: the most work first
    (``WORK_ORDER``), so that no long strategy starts last while the other workers sit idle."""
    return sorted(range(len(strategies)), key=lambda i: WORK_ORDER.index(strategies[i].kind))


@dataclass(frozen=True)
class MarketView:
    """The inputs known on one date: the closes up to it, each symbol's latest fundamentals and the macro series'
    rows up to it (None when the regime is the config's)."""

    prices: pd.DataFrame
    fundamentals: pd.DataFrame
    macro: pd.DataFrame | None = None


@dataclass(frozen=True)
class Decision:
    """What a strategy decided on a date: the whole-lot trade list at that date's closes, the prepared inputs,
    and the relaxations the limits needed (pipeline strategies)."""

    trades: TradeList
    prepared: Prepared
    relaxations: tuple[str, ...] = ()
    spreads_excluded: bool = False  # a benchmark strategy: an excluded constituent's weight is spread, not cash

    @property
    def warnings(self) -> tuple[str, ...]:
        """What ``allocate run --as-of`` would print as warnings on that date: the inputs' and the trade list's
        (for a benchmark strategy, an excluded constituent's weight said to be spread rather than counted as cash,
        as ``benchmark_proxy`` holds it)."""
        found = self.prepared.warnings
        if self.spreads_excluded:
            found = tuple(w.replace(COUNTED_AS_CASH, SPREAD_OVER_ITS_CLASS, 1) for w in found)
        return (*found, *self.trades.warnings)


def target_weights(strategy: Strategy, prepared: Prepared) -> FloatArray:
    """A weight strategy's target weights over ``prepared``'s universe (fractions of NAV), scaled down to leave
    the cash floor."""
    universe = prepared.universe
    if strategy.kind in (StrategyName.BENCHMARK_HOLD, StrategyName.BENCHMARK_REBALANCED):
        weight = benchmark_proxy(universe)
    elif strategy.kind in (StrategyName.HRP, StrategyName.ERC):
        from allocator.backtest.riskfolio_adapter import erc_weights, hrp_weights

        model = hrp_weights if strategy.kind is StrategyName.HRP else erc_weights
        weight = model(prepared.window.daily_returns(), universe.symbols)
    else:
        weight = np.array([strategy.weights.get(s, 0.0) for s in universe.symbols], dtype=np.float64)
    room = 1.0 - prepared.config.constraints.cash_min - universe.held_outside_weight
    total = float(weight.sum())
    scaled: FloatArray = weight * (room / total) if total > room > 0 else weight
    return scaled


def benchmark_proxy(universe: Universe) -> FloatArray:
    """The benchmark's weights over ``universe`` (fractions of NAV), the weight of the constituents excluded for
    gaps in their prices spread pro rata over the constituents of their asset class, or over every constituent
    when none of the class is left: the benchmark strategies hold what of the benchmark can be bought, its mix of
    asset classes kept where it can be, rather than its missing constituents as cash."""
    weight = universe.benchmark_weight.copy()
    asset_class = np.asarray(universe.asset_class)
    unplaced = 0.0
    for label, missing in universe.excluded_benchmark.items():
        members = (asset_class == label) & (weight > 0)
        present = float(weight[members].sum())
        if present > 0:
            weight[members] *= (present + missing) / present
        else:
            unplaced += missing
    held = float(weight.sum())
    if unplaced > 0 and held > 0:
        weight *= (held + unplaced) / held
    return weight


WEIGHT_REASONS = {StrategyName.BENCHMARK_HOLD: "benchmark weight, bought once and held",
                  StrategyName.BENCHMARK_REBALANCED: "benchmark weight",
                  StrategyName.HRP: "hierarchical risk parity weight (riskfolio-lib HRP)",
                  StrategyName.ERC: "equal risk contribution weight (riskfolio-lib)"}


def weight_trades(prepared: Prepared, weight: FloatArray, reason: str = "fixed target weight") -> TradeList:
    """``weight`` rounded to whole lots within the cash floor, reconciled as ``allocate run`` reconciles; every
    trade's reason is ``reason`` (the model's tilts and views do not move a weight strategy's target)."""
    built = build_trades(prepared.universe, weight, prepared.limits, prepared.config.trading, prepared.returns,
                         prepared.scores, {}, prepared.risk)
    trade_list = replace(built, trades=tuple(replace(t, reason=reason) for t in built.trades))
    problems = reconcile(trade_list)
    if problems:
        raise AllocatorError(prepared.holdings.source, "the trade list does not reconcile: " + "; ".join(problems[:3]),
                             "this is a bug; please report it with the inputs")
    return trade_list


def first_investment_config(config: Config) -> Config:
    """``config`` without the limits that measure change to a portfolio (``turnover_max``, group limits relative
    to the current weights): for an account of nothing but cash, which has no portfolio to change yet."""
    constraints = config.constraints.model_copy(update={
        "turnover_max": None,
        "groups": [g for g in config.constraints.groups if g.relative_to is not GroupRelativeTo.CURRENT]})
    return config.model_copy(update={"constraints": constraints})


def decide(strategy: Strategy, holdings: Holdings, as_of: str, market: MarketView, cache: ProblemCache) -> Decision:
    """The strategy's trades on ``as_of`` for the account ``holdings``, from ``market`` (the closes and
    fundamentals known on that date). An account of nothing but cash is invested under
    ``first_investment_config``."""
    loaded = strategy.loaded
    if not holdings.positions:
        loaded = _variant(loaded, first_investment_config(loaded.config))
    prepared = prepare(holdings, loaded, as_of=as_of, prices=market.prices, fundamentals=market.fundamentals,
                       macro_series=market.macro)
    if strategy.kind in PIPELINE:
        result = run(holdings, loaded, cache=cache, relax=loaded.config.backtest.relax, prepared=prepared)
        return Decision(trades=result.trades, prepared=prepared, relaxations=result.relaxations)
    reason = WEIGHT_REASONS.get(strategy.kind, "fixed target weight") if strategy.kind is not None else \
        "fixed target weight"
    return Decision(trades=weight_trades(prepared, target_weights(strategy, prepared), reason), prepared=prepared,
                    spreads_excluded=strategy.kind in (StrategyName.BENCHMARK_HOLD, StrategyName.BENCHMARK_REBALANCED))
