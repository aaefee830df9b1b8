"""Target weights + holdings + prices -> a whole-lot trade list that reconciles to the share and the cent.

Quantities come from ``rounding.py`` (whole lots within the per-asset, cash, turnover and minimum-trade limits;
holdings outside the universe kept or sold whole as configured). What rounding could not keep is reported as a
warning. Money is ``Decimal``: for every symbol current + traded = final, and cash before - buys + sells - costs =
cash after, to the cent, never negative (``reconcile`` checks it before anything is written).

Every trade carries a ``reason`` (``allocator.trading.reasons``) and its break-even alpha: the annualized return
it must earn over ``trading.horizon_years`` to repay its estimated cost (cost / notional / horizon). Sells are
listed before buys.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal
from functools import cached_property

import numpy as np

from allocator.config.schema import TradingConfig
from allocator.domain import FloatArray, ReturnModel, RiskModel, RsiRule, Scores, Universe
from allocator.optimize.constraints import Limits, impact_cost
from allocator.optimize.families import violations
from allocator.terms import BUY, SELL, Side
from allocator.trading.reasons import EXIT_UNIVERSE, signal_reasons, trade_reason
from allocator.trading.rounding import (
    ZERO,
    LotLimits,
    TargetLedger,
    drop_small,
    fund_buys,
    money,
    raise_cash,
    round_up,
    rounding_choices,
    share_bounds,
    spend_excess,
    to_decimal,
)


@dataclass(frozen=True)
class Trade:
    """One order: ``quantity`` shares (positive) at ``price``; money in the account currency."""

    symbol: str
    side: Side
    quantity: Decimal
    price: Decimal
    notional_value: Decimal
    current_quantity: Decimal
    target_quantity: Decimal
    current_weight: float
    target_weight: float
    estimated_cost_value: Decimal
    reason: str
    break_even_alpha: float = 0.0  # the annualized return that repays the cost over the horizon


@dataclass(frozen=True)
class TradeList:
    """The trades of one rebalance with the account before and after them."""

    trades: tuple[Trade, ...]
    cash_before_value: Decimal
    cash_after_value: Decimal
    symbols: tuple[str, ...]
    current_quantity: tuple[Decimal, ...]
    final_quantity: tuple[Decimal, ...]
    prices: tuple[Decimal, ...]
    achieved_weight: FloatArray
    achieved_cash_weight: float
    warnings: tuple[str, ...] = ()

    # the sums, each made once: a run reads them four times (trades, reconcile, summary, the batch's row)
    @cached_property
    def total_cost_value(self) -> Decimal:
        return sum((t.estimated_cost_value for t in self.trades), Decimal(0))

    @cached_property
    def bought_value(self) -> Decimal:
        return sum((t.notional_value for t in self.trades if t.side == BUY), Decimal(0))

    @cached_property
    def sold_value(self) -> Decimal:
        return sum((t.notional_value for t in self.trades if t.side == SELL), Decimal(0))


def build_trades(
    universe: Universe,
    target_weight: FloatArray,
    limits: Limits,
    trading: TradingConfig,
    returns: ReturnModel,
    scores: Scores,
    rsi_rules: dict[str, RsiRule],
    risk: RiskModel,
) -> TradeList:
    """Round ``target_weight`` to whole lots within the limits (``allocator.trading.rounding``); derive the trades."""
    nav = universe.nav_value
    n = universe.size
    outside = len(universe.outside_symbols)
    ledger = TargetLedger(symbols=list(universe.symbols) + list(universe.outside_symbols),
                price=_model_decimals(universe.price, universe.outside_price),
                lot=_model_decimals(universe.lot_size, [float(trading.lot_size)] * outside),
                cost_rate=_model_decimals(limits.cost, [float(trading.cost_bps) / 1e4] * outside),
                current=_decimals(universe.quantity, universe.outside_quantity),
                cash_before=universe.cash_value, impact=_impact_per_value(limits, universe.nav_value, outside))
    for j in range(outside):
        if universe.outside_sold:
            ledger.set(n + j, Decimal(0))
    expected_costs = float(limits.cost @ np.abs(target_weight - universe.weight)
                           + impact_cost(limits, target_weight).sum()) * nav
    nav_after = nav - expected_costs
    bounds = share_bounds(limits, universe.price, universe.quantity, nav_after)
    choices = rounding_choices(target_weight * nav_after / universe.price, universe.quantity, universe.lot_size, bounds)
    base = [ledger.on_grid(i, quantity) for i, quantity in enumerate(choices.base)]
    for i, quantity in enumerate(base):
        ledger.set(i, quantity)
    minimum = Decimal(str(trading.min_trade_value))
    warnings: list[str] = []
    drop_small(ledger, choices, minimum, n)
    fund_buys(ledger, limits.cash_lower, np.concatenate((bounds.lower, np.zeros(outside))), warnings)
    raise_to = None
    if limits.cash_raise is not None:
        raise_to = universe.cash_value + money(to_decimal((limits.cash_raise - limits.current_cash) * nav))
    lot_limits = LotLimits(cash_min=to_decimal(limits.cash_lower), cash_max=to_decimal(limits.cash_upper),
                           turnover_max=limits.turnover_max, inflow=limits.inflow, outflow=limits.outflow,
                           nav_before=nav, minimum=minimum, upper=bounds.upper, lower=bounds.lower, raise_to=raise_to)
    round_up(ledger, choices, base, lot_limits, n)
    spend_excess(ledger, lot_limits, target_weight, n)
    raise_cash(ledger, lot_limits, target_weight, n, warnings)
    trade_list = _trade_list(ledger, universe, target_weight, returns, scores, rsi_rules, warnings, limits.horizon)
    # a weight held at its bound moves by the costs' share of NAV (they lower the NAV it is a fraction of)
    costs = float(trade_list.total_cost_value) / nav if nav > 0 else 0.0
    breaches = rounding_breaches(limits, risk, trade_list, tolerance=max(1e-6, 1.5 * costs))
    return replace(trade_list, warnings=(*trade_list.warnings, *breaches)) if breaches else trade_list


def rounding_breaches(limits: Limits, risk: RiskModel, trade_list: TradeList, tolerance: float = 1e-6) -> list[str]:
    """The limits the whole-lot quantities miss (the optimizer's weights kept them), one line per family."""
    found = violations(limits, risk, trade_list.achieved_weight, trade_list.achieved_cash_weight)
    found.pop("budget", None)  # the budget holds by construction: cash is what the trades leave
    return [f"after rounding to whole lots, the {family} limits are missed by {amount:.6f} (fraction of NAV; "
            "lots too large for the limits)" for family, amount in found.items() if amount > tolerance]


def _decimals(*columns: FloatArray | list[float]) -> list[Decimal]:
    """The columns' values, one after the other, as ``to_decimal`` reads them (``tolist``: Python floats convert
    faster than NumPy scalars)."""
    return [to_decimal(x) for column in columns for x in np.asarray(column).tolist()]


# ``_model_decimals``' results by the column's bytes: prices, lots and cost rates are the model's, the same for every
# account of a batch on it (150 conversions an account, about 20 us; a look-up of a column's 400 bytes, under 1 us)
_COLUMNS: dict[bytes, tuple[Decimal, ...]] = {}
COLUMNS_KEPT = 256  # columns; the memo is emptied when full


def _model_decimals(column: FloatArray, *rest: FloatArray | list[float]) -> list[Decimal]:
    """``_decimals(column, *rest)``, ``column`` (float64) looked up by its bytes, which fix every value exactly (0.0
    and -0.0 too)."""
    values = np.asarray(column, dtype=np.float64)
    key = values.tobytes()
    found = _COLUMNS.get(key)
    if found is None:
        found = tuple(_decimals(values))
        if len(_COLUMNS) >= COLUMNS_KEPT:
            _COLUMNS.clear()
        _COLUMNS[key] = found
    return [*found, *_decimals(*rest)]


def _impact_per_value(limits: Limits, nav: float, outside: int) -> list[float]:
    """Per asset, ``k`` with impact cost ``k * V ** 1.5`` for a trade of value V (account currency; ``Limits.impact``
    is per fraction of NAV: cost / NAV = eta * (V / NAV) ** 1.5, so k = eta / sqrt(NAV))."""
    if limits.impact is None:
        return []
    return [float(eta) / float(np.sqrt(nav)) for eta in limits.impact] + [0.0] * outside


def _trade_list(ledger: TargetLedger, universe: Universe, target_weight: FloatArray, returns: ReturnModel,
                scores: Scores, rsi_rules: dict[str, RsiRule], warnings: list[str], horizon: float = 1.0
                ) -> TradeList:
    nav = universe.nav_value
    cash_after = ledger.cash
    cash_rising = cash_after > universe.cash_value
    n = universe.size
    signals = signal_reasons(returns, scores)
    weights = target_weight.tolist()
    trades = []
    for i, (symbol, current, target, price) in enumerate(zip(ledger.symbols, ledger.current, ledger.target,
                                                             ledger.price, strict=True)):
        if target == current:
            continue
        change = target - current
        side = BUY if change > 0 else SELL
        _, notional, cost = ledger.trade_of(i)  # money(abs(change) * price) and its cost_of, as set kept them
        inside = i < n
        reason = trade_reason(i, side, universe, signals, rsi_rules, cash_rising) if inside else EXIT_UNIVERSE
        # by position (``Trade``'s fields in order): by keyword, a Trade took twice as long to make
        trades.append(Trade(symbol, side, abs(change), price, notional, current, target,
                            float(current * price) / nav, weights[i] if inside else 0.0, cost, reason,
                            float(cost / notional) / horizon if notional else 0.0))
    trades.sort(key=lambda t: (t.side != SELL, -t.notional_value, t.symbol))
    nav_after = float(ledger.nav)
    achieved = np.array([float(q * p) / nav_after for q, p in zip(ledger.target[:n], ledger.price[:n], strict=True)])
    return TradeList(
        trades=tuple(trades), cash_before_value=universe.cash_value, cash_after_value=cash_after,
        symbols=tuple(ledger.symbols), current_quantity=tuple(ledger.current), final_quantity=tuple(ledger.target),
        prices=tuple(ledger.price), achieved_weight=achieved, achieved_cash_weight=float(cash_after) / nav_after,
        warnings=tuple(warnings))


def reconcile(trade_list: TradeList) -> list[str]:
    """Every way the trade list fails to reconcile (empty when it does): quantities to the share, cash to the cent,
    no negative cash, no sell larger than the position."""
    problems = []
    by_symbol = {t.symbol: t for t in trade_list.trades}
    for symbol, before, after in zip(trade_list.symbols, trade_list.current_quantity, trade_list.final_quantity,
                                     strict=True):
        trade = by_symbol.get(symbol)
        change = ZERO if trade is None else (trade.quantity if trade.side == BUY else -trade.quantity)
        if before + change != after:
            problems.append(f"{symbol}: {before} + {change} != {after}")
        if trade is not None and trade.side == SELL and trade.quantity > before:
            problems.append(f"{symbol}: sells {trade.quantity}, more than the {before} held")
        if after < 0:
            problems.append(f"{symbol}: final quantity {after} is negative")
    expected = (trade_list.cash_before_value - trade_list.bought_value + trade_list.sold_value
                - trade_list.total_cost_value)
    if expected != trade_list.cash_after_value:
        problems.append(f"cash: {trade_list.cash_before_value} - buys + sells - costs = {expected}, "
                        f"not {trade_list.cash_after_value}")
    if trade_list.cash_after_value < 0:
        problems.append(f"cash after trading is negative ({trade_list.cash_after_value})")
    return problems
