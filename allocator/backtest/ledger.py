"""The simulated account: shares and cash in ``Decimal``, trades filled at a close, cash interest, valuation.

A decision (``strategies.decide``) is a whole-lot trade list priced at the decision's closes. ``fill`` executes
its target quantities at the fill close: each trade's notional is quantity x fill price to the cent, its cost the
config's linear rate (``trading.cost_bps`` and half the spread, as the optimizer prices it) on that notional. A
target that the cash cannot pay for at the fill price (prices rose overnight) loses lots of its largest buys until
cash is not negative. The fill is a ``TradeList`` that ``allocator.trading.trades.reconcile`` checks to the share
and the cent, as every ``allocate run`` is checked. A symbol without a close on the fill date is not traded.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

import numpy as np

from allocator.errors import AllocatorError
from allocator.terms import BUY, SELL
from allocator.trading.rounding import TargetLedger, money, to_decimal
from allocator.trading.trades import Trade, TradeList, reconcile

CENT = Decimal("0.01")


@dataclass(frozen=True)
class Order:
    """A decided target: ``symbol`` to hold ``quantity`` shares (``Decimal``) after the fill, in lots of ``lot``,
    at the cost ``cost_rate`` (fraction of notional), for ``reason``."""

    symbol: str
    quantity: Decimal
    lot: Decimal
    cost_rate: float
    reason: str


def fill(holding: dict[str, Decimal], cash: Decimal, orders: list[Order], close: dict[str, float],
         where: str) -> TradeList:
    """Execute ``orders`` against the account (``holding`` shares by symbol, ``cash``) at the closes ``close``;
    the reconciled trade list (see the module docstring). ``where`` names the strategy and date in errors."""
    tradable = [o for o in orders if math.isfinite(close.get(o.symbol, math.nan)) and close[o.symbol] > 0]
    ledger = TargetLedger(symbols=[o.symbol for o in tradable], price=[to_decimal(close[o.symbol]) for o in tradable],
                          lot=[o.lot for o in tradable], cost_rate=[to_decimal(o.cost_rate) for o in tradable],
                          current=[holding.get(o.symbol, Decimal(0)) for o in tradable], cash_before=cash)
    for i, order in enumerate(tradable):
        ledger.set(i, order.quantity)
    while ledger.cash < 0:
        buys = [i for i in range(len(tradable)) if ledger.target[i] > ledger.current[i]]
        if not buys:
            break
        largest = max(buys, key=lambda i: (ledger.target[i] - ledger.current[i]) * ledger.price[i])
        lots = max(1, math.ceil(-ledger.cash / (ledger.price[largest] * ledger.lot[largest])))
        ledger.set(largest, max(ledger.target[largest] - lots * ledger.lot[largest], ledger.current[largest]))
    nav = value(holding, cash, close)
    trades = []
    for i, order in enumerate(tradable):
        change = ledger.target[i] - ledger.current[i]
        if change == 0:
            continue
        notional = money(abs(change) * ledger.price[i])
        trades.append(Trade(symbol=order.symbol, side=BUY if change > 0 else SELL, quantity=abs(change),
                            price=ledger.price[i], notional_value=notional, current_quantity=ledger.current[i],
                            target_quantity=ledger.target[i],
                            current_weight=float(ledger.current[i]) * close[order.symbol] / nav,
                            target_weight=float(ledger.target[i]) * close[order.symbol] / nav,
                            estimated_cost_value=ledger.cost_of(i, notional), reason=order.reason))
    trades.sort(key=lambda t: (t.side != SELL, -t.notional_value, t.symbol))
    done = TradeList(trades=tuple(trades), cash_before_value=cash, cash_after_value=ledger.cash,
                     symbols=tuple(ledger.symbols), current_quantity=tuple(ledger.current),
                     final_quantity=tuple(ledger.target), prices=tuple(ledger.price),
                     achieved_weight=np.array([float(q) for q in ledger.target]), achieved_cash_weight=0.0)
    problems = reconcile(done)
    if problems:
        raise AllocatorError(where, "the fill does not reconcile: " + "; ".join(problems[:3]),
                             "this is a bug; please report it with the inputs")
    return done


def holdings_after(holding: dict[str, Decimal], filled: TradeList) -> dict[str, Decimal]:
    """The shares held after ``filled`` (closed positions dropped)."""
    after = dict(holding)
    for symbol, quantity in zip(filled.symbols, filled.final_quantity, strict=True):
        after[symbol] = quantity
    return {s: q for s, q in after.items() if q != 0}


def interest(cash: Decimal, annual_rate: float, sessions: int = 1, per_year: int = 252) -> Decimal:
    """What ``cash`` earns over ``sessions`` at ``annual_rate`` (decimal, simple, ``per_year`` sessions a year), to
    the cent; nothing on a negative balance."""
    if cash <= 0 or annual_rate == 0.0:
        return Decimal(0)
    return (cash * to_decimal(annual_rate * sessions / per_year)).quantize(CENT, rounding=ROUND_HALF_UP)


def value(holding: dict[str, Decimal], cash: Decimal, close: dict[str, float]) -> float:
    """The account's value at ``close`` (account currency): cash plus shares at their closes (the last known close
    for a symbol without one that day)."""
    return float(cash) + sum(float(q) * close[s] for s, q in holding.items())
