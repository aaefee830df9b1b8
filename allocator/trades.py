"""Target weights + holdings + prices -> a lot-rounded trade list that reconciles to the share and the cent.

Steps (DESIGN section 6), money in ``Decimal`` so cash reconciles exactly:
1. target quantity = weight * NAV / price, rounded to the nearest lot; holdings outside the universe are kept
   or sold whole as configured;
2. trades worth less than ``trading.min_trade_value`` are dropped unless they close a position;
3. cash after trading (cash + sells - buys - costs) must stay at or above ``cash_min`` of NAV and never below
   zero: the largest buys are cut lot by lot until it does (and, if costs alone overdraw cash, lots of the largest
   positions are sold as ``cash_raise``);
4. cash above ``cash_max`` is spent on single lots of the assets furthest below target whose limits allow it.

Every trade carries a ``reason``: ``exit_universe``, ``rsi_trim(RSI 71.2)``, ``tilt(size +0.8, value +0.4)``,
``cash_raise`` or ``rebalance``. Sells are listed before buys.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

import numpy as np

from allocator.config import SIGNALS, TradingConfig
from allocator.constraints import Limits
from allocator.domain import FloatArray, ReturnModel, Scores, Universe

CENT = Decimal("0.01")
BUY, SELL = "BUY", "SELL"


@dataclass(frozen=True)
class Trade:
    """One order: ``quantity`` shares (positive) at ``price``; money in the account currency."""

    symbol: str
    side: str
    quantity: Decimal
    price: Decimal
    notional_value: Decimal
    current_quantity: Decimal
    target_quantity: Decimal
    current_weight: float
    target_weight: float
    estimated_cost_value: Decimal
    reason: str


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

    @property
    def total_cost_value(self) -> Decimal:
        return sum((t.estimated_cost_value for t in self.trades), Decimal(0))

    @property
    def bought_value(self) -> Decimal:
        return sum((t.notional_value for t in self.trades if t.side == BUY), Decimal(0))

    @property
    def sold_value(self) -> Decimal:
        return sum((t.notional_value for t in self.trades if t.side == SELL), Decimal(0))


def money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def to_decimal(value: float) -> Decimal:
    """The shortest decimal that reads back as ``value`` (so 101.37 stays 101.37)."""
    return Decimal(repr(float(value)))


def _round_to_lot(shares: float, lot: float) -> float:
    return float(math.floor(shares / lot + 0.5) * lot) if lot > 0 else shares


@dataclass
class _Book:
    """Mutable working state while the trade list is built (quantities and cash in Decimal)."""

    symbols: list[str]
    price: list[Decimal]
    lot: list[Decimal]
    cost_rate: list[Decimal]
    current: list[Decimal]
    target: list[Decimal]
    cash: Decimal
    no_add: list[bool]
    no_sell: list[bool]

    def cash_after(self) -> Decimal:
        cash = self.cash
        for i in range(len(self.symbols)):
            change = self.target[i] - self.current[i]
            if change:
                notional = money(abs(change) * self.price[i])
                cash += -notional if change > 0 else notional
                cash -= money(notional * self.cost_rate[i])
        return cash

    def nav_after(self) -> Decimal:
        return self.cash_after() + sum((money(q * p) for q, p in zip(self.target, self.price, strict=True)),
                                       Decimal(0))


def build_trades(
    universe: Universe,
    target_weight: FloatArray,
    limits: Limits,
    trading: TradingConfig,
    returns: ReturnModel,
    scores: Scores,
    rsi_fired: dict[str, float],
) -> TradeList:
    """Round ``target_weight`` to lots and derive the reconciled trade list."""
    nav = universe.nav_value
    symbols = list(universe.symbols) + list(universe.outside_symbols)
    prices = list(universe.price) + list(universe.outside_price)
    lots = list(universe.lot_size) + [float(trading.lot_size)] * len(universe.outside_symbols)
    current = list(universe.quantity) + list(universe.outside_quantity)
    n = universe.size
    outside = len(universe.outside_symbols)
    no_add = [bool(np.isfinite(limits.rsi.upper[i])) for i in range(n)] + [False] * outside
    no_sell = [bool(np.isfinite(limits.rsi.lower[i]) and not np.isfinite(limits.rsi.upper[i])) for i in range(n)
               ] + [False] * outside
    targets: list[float] = []
    for i in range(n):
        wanted = target_weight[i] * nav / prices[i]
        targets.append(_rounded_target(wanted, current[i], lots[i], no_add[i], no_sell[i]))
    for j in range(outside):
        targets.append(0.0 if universe.outside_sold else float(universe.outside_quantity[j]))
    cost = list(limits.cost) + [float(trading.cost_bps) / 1e4] * outside
    book = _Book(symbols=symbols, price=[to_decimal(p) for p in prices], lot=[to_decimal(x) for x in lots],
                 cost_rate=[to_decimal(c) for c in cost], current=[to_decimal(q) for q in current],
                 target=[to_decimal(q) for q in targets], cash=universe.cash_value, no_add=no_add,
                 no_sell=no_sell)
    warnings: list[str] = []
    _drop_small(book, Decimal(str(trading.min_trade_value)))
    _fund_buys(book, limits.cash_lower, warnings)
    upper = np.concatenate([limits.upper, np.full(len(universe.outside_symbols), 0.0)])
    _spend_excess(book, limits.cash_upper, target_weight, upper, n)
    return _trade_list(book, universe, target_weight, returns, scores, rsi_fired, warnings)


def _rounded_target(wanted: float, current: float, lot: float, no_add: bool, no_sell: bool) -> float:
    """``wanted`` shares rounded to the lot, never rounded across the current holding (a sell that rounding would
    turn into a buy, or the reverse, is no trade), and never above it when adds are barred (RSI overbought) nor
    below it when sells are (RSI oversold with ``no_sell_when_oversold``)."""
    rounded = _round_to_lot(wanted, lot)
    near = 1e-9 * max(1.0, abs(current))  # the optimizer's own tolerance, in shares
    if (rounded > current and wanted <= current + near) or (rounded < current and wanted >= current - near):
        rounded = current
    if no_add:
        rounded = min(rounded, current)
    if no_sell:
        rounded = max(rounded, current)
    return rounded


def _drop_small(book: _Book, minimum: Decimal) -> None:
    if minimum <= 0:
        return
    for i in range(len(book.symbols)):
        change = book.target[i] - book.current[i]
        if change and book.target[i] != 0 and abs(change) * book.price[i] < minimum:
            book.target[i] = book.current[i]


def _fund_buys(book: _Book, cash_min: float, warnings: list[str]) -> None:
    """Cut the largest buys, lot by lot, until cash after trading meets its floor; never let it go negative."""
    def floor() -> Decimal:
        return max(Decimal(0), money(book.nav_after() * to_decimal(cash_min)))

    cut: dict[str, Decimal] = {}
    while (deficit := floor() - book.cash_after()) > 0:
        buys = [i for i in range(len(book.symbols)) if book.target[i] > book.current[i]]
        if not buys:
            break
        i = max(buys, key=lambda k: ((book.target[k] - book.current[k]) * book.price[k], book.symbols[k]))
        lot_value = book.lot[i] * book.price[i] * (1 + book.cost_rate[i])
        lots_needed = max(1, math.ceil(deficit / lot_value))
        lots_held = int((book.target[i] - book.current[i]) / book.lot[i])
        step = min(lots_needed, max(lots_held, 1)) * book.lot[i]
        book.target[i] = max(book.current[i], book.target[i] - step)
        cut[book.symbols[i]] = cut.get(book.symbols[i], Decimal(0)) + step
    if cut:
        warnings.append("buys cut to keep cash at its floor: " +
                        ", ".join(f"{s} -{q.normalize():f}" for s, q in sorted(cut.items())))
    while book.cash_after() < 0:
        held = [i for i in range(len(book.symbols)) if book.target[i] >= book.lot[i]]
        free = [i for i in held if not (book.no_sell[i] and book.target[i] - book.lot[i] < book.current[i])]
        held = free or held  # an oversold no-sell position is sold only when nothing else can raise the cash
        if not held:
            break
        i = max(held, key=lambda k: (book.target[k] * book.price[k], book.symbols[k]))
        book.target[i] -= book.lot[i]
        warnings.append(f"sold one more lot of {book.symbols[i]} to keep cash from going negative")
    if book.cash_after() < floor():
        warnings.append(f"cash after trading {book.cash_after()} is below its floor {floor()} (rounding and costs)")


def _spend_excess(book: _Book, cash_max: float, target_weight: FloatArray, upper: FloatArray, n: int) -> None:
    """Buy single lots of the assets furthest below target while cash stays above ``cash_max`` of NAV."""
    if cash_max >= 1.0:
        return
    cap = to_decimal(cash_max)
    for _ in range(10 * n + 100):
        nav = book.nav_after()
        excess = book.cash_after() - money(nav * cap)
        if excess <= 0:
            return
        best, best_gap = -1, 0.0
        for i in range(n):
            lot_value = book.lot[i] * book.price[i] * (1 + book.cost_rate[i])
            if lot_value > book.cash_after():
                continue
            if book.no_add[i] and book.target[i] + book.lot[i] > book.current[i]:
                continue
            weight = float((book.target[i] + book.lot[i]) * book.price[i] / nav)
            gap = float(target_weight[i]) - float(book.target[i] * book.price[i] / nav)
            if weight <= upper[i] + 1e-9 and gap > best_gap:
                best, best_gap = i, gap
        if best < 0:
            return
        book.target[best] += book.lot[best]


def _reason(i: int, side: str, universe: Universe, returns: ReturnModel, scores: Scores,
            rsi_fired: dict[str, float], cash_rising: bool) -> str:
    symbol = universe.symbols[i]
    if symbol in rsi_fired and side == SELL:
        return f"rsi_trim(RSI {rsi_fired[symbol]:.1f})"
    alpha = returns.alpha[i]
    if abs(alpha) > 1e-4 and (alpha > 0) == (side == BUY):
        parts = {k: scores.signal_weights[k] * scores.multipliers[k] * scores.z[k][i] / scores.composite_scale
                 for k in SIGNALS} if scores.composite_scale > 0 else {}
        top = sorted(((k, v) for k, v in parts.items() if abs(v) >= 0.05 and (v > 0) == (alpha > 0)),
                     key=lambda kv: -abs(kv[1]))[:3]
        if top:
            return "tilt(" + ", ".join(f"{k} {v:+.1f}" for k, v in top) + ")"
    if side == SELL and cash_rising:
        return "cash_raise"
    return "rebalance"


def _trade_list(book: _Book, universe: Universe, target_weight: FloatArray, returns: ReturnModel, scores: Scores,
                rsi_fired: dict[str, float], warnings: list[str]) -> TradeList:
    nav = universe.nav_value
    cash_after = book.cash_after()
    cash_rising = cash_after > universe.cash_value
    n = universe.size
    trades = []
    for i, symbol in enumerate(book.symbols):
        change = book.target[i] - book.current[i]
        if change == 0:
            continue
        side = BUY if change > 0 else SELL
        notional = money(abs(change) * book.price[i])
        inside = i < n
        reason = _reason(i, side, universe, returns, scores, rsi_fired, cash_rising) if inside else "exit_universe"
        trades.append(Trade(
            symbol=symbol, side=side, quantity=abs(change), price=book.price[i], notional_value=notional,
            current_quantity=book.current[i], target_quantity=book.target[i],
            current_weight=float(book.current[i] * book.price[i]) / nav,
            target_weight=float(target_weight[i]) if inside else 0.0,
            estimated_cost_value=money(notional * book.cost_rate[i]), reason=reason))
    trades.sort(key=lambda t: (t.side != SELL, -t.notional_value, t.symbol))
    nav_after = float(book.nav_after())
    achieved = np.array([float(book.target[i] * book.price[i]) / nav_after for i in range(n)])
    return TradeList(
        trades=tuple(trades), cash_before_value=universe.cash_value, cash_after_value=cash_after,
        symbols=tuple(book.symbols), current_quantity=tuple(book.current), final_quantity=tuple(book.target),
        prices=tuple(book.price), achieved_weight=achieved, achieved_cash_weight=float(cash_after) / nav_after,
        warnings=tuple(warnings))


def reconcile(trade_list: TradeList) -> list[str]:
    """Every way the trade list fails to reconcile (empty when it does): quantities to the share, cash to the cent,
    no negative cash, no sell larger than the position."""
    problems = []
    by_symbol = {t.symbol: t for t in trade_list.trades}
    for symbol, before, after in zip(trade_list.symbols, trade_list.current_quantity, trade_list.final_quantity,
                                     strict=True):
        trade = by_symbol.get(symbol)
        change = Decimal(0) if trade is None else (trade.quantity if trade.side == BUY else -trade.quantity)
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
