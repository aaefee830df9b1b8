"""One strategy walked forward through the calendar: decide on a close, fill, drift, earn interest, record.

At each session, in this order: cash earns the previous session's short rate; a fill due that session executes at
its close (``ledger.fill``); a rebalance due that session decides on the closes known then (``strategies.decide``)
and, with ``fill: same_close``, fills at once; the account is valued at the close. Between rebalances the shares
stay as they are, so weights drift with prices. A date whose limits cannot hold even relaxed (or whose solver
fails) trades nothing and is recorded in ``rules`` as ``no_trade``.

Rows recorded (``journal.StrategyState``), dates as YYYY-MM-DD: per session ``nav`` (account value after the
session's fill), ``cash_values``, ``costs`` and ``traded`` (money); ``decisions`` as [decision date, symbol,
target shares, reason] (what was decided on the closes of that date); ``weights`` as [fill date, symbol, weight at the
fill close] with cash as ``CASH``; ``trades`` as [decision date, fill date, symbol, side, quantity, price, notional,
cost, reason] (exact decimals as text); ``rules`` as [date, rule, symbol, value, detail] (RSI rules with the RSI,
relaxations, failed dates); ``signals`` (``config`` only) as [date, signal, symbol, z-score] over the equity assets;
``warnings`` as [decision date, warning], each distinct warning of the decision once (what ``allocate run --as-of``
prints: split-like moves, holdings outside the universe, assets excluded for gaps; those of a failed date too).

A held symbol without a close on the first rebalance (a fund outside the universe and the price file) is valued,
decided and filled at the holdings file's price (``Account.prices``), held fixed, until the price file has a close
for it; each decision says so in a warning.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd

from allocator.backtest import journal
from allocator.backtest.journal import StrategyState
from allocator.backtest.ledger import Order, fill, holdings_after, interest, value
from allocator.backtest.point_in_time import RATE_DAYS, MarketHistory
from allocator.backtest.schedule import Schedule
from allocator.backtest.strategies import Decision, MarketView, Strategy, decide
from allocator.config.schema import StrategyName
from allocator.domain import Holdings, Position
from allocator.errors import AllocatorError, DataError, InfeasibleError, SolverError
from allocator.optimize.problem import ProblemCache
from allocator.terms import CASH_SYMBOL
from allocator.trading.rounding import to_decimal

Progress = Callable[[str, int], None]  # (strategy, rebalances decided so far)


@dataclass(frozen=True)
class Account:
    """The account a backtest starts from: shares by symbol (``Decimal``), lot sizes given for some, cash, and the
    holdings file's price (``Decimal``) of each held symbol without a close on the first rebalance."""

    holding: dict[str, Decimal]
    cash: Decimal
    lots: dict[str, Decimal]
    prices: dict[str, Decimal] = field(default_factory=dict)

    @classmethod
    def of(cls, holdings: Holdings, closed: Collection[str], first_day: str) -> Account:
        """The account of a holdings file. Each date values it at the closes; the file's prices are kept only for
        the symbols without a close on or before the first rebalance ``first_day`` (``closed``: the symbols with
        one), which are valued at that price, held fixed, while the price file has no close for them (a fund
        outside the universe and the price file, as ``allocate run`` holds it). A held symbol with neither price
        nor close is a ``DataError`` naming its row of the file."""
        held = [p for p in holdings.positions if p.quantity]
        for p in held:
            if p.price is None and p.symbol not in closed:
                raise DataError(f"{holdings.source}: row {p.row}: price",
                                f"{p.symbol} has no price here and no close in the price file on or before the "
                                f"first rebalance, {first_day}",
                                "give its price in the holdings file or add its closes to the price file")
        return cls(holding={p.symbol: to_decimal(p.quantity) for p in held}, cash=holdings.cash_value,
                   lots={p.symbol: to_decimal(p.lot_size) for p in holdings.positions if p.lot_size is not None},
                   prices={p.symbol: to_decimal(p.price) for p in held
                           if p.price is not None and p.symbol not in closed})

    def state(self, name: str) -> StrategyState:
        return StrategyState(name=name, holding={s: str(q) for s, q in self.holding.items()}, cash=str(self.cash),
                             lots={s: str(q) for s, q in self.lots.items()},
                             prices={s: str(p) for s, p in self.prices.items()})


def fixed_prices(state: StrategyState, close: dict[str, float]) -> dict[str, float]:
    """The holdings file's price of each symbol of ``state.prices`` that has no close yet in ``close`` (the
    session's closes, the last carried forward): the price it is valued, decided and filled at that session."""
    return {s: float(Decimal(p)) for s, p in state.prices.items() if not math.isfinite(close.get(s, math.nan))}


def _holdings(state: StrategyState, day: str, fixed: dict[str, float]) -> Holdings:
    lots = state.lots
    positions = tuple(Position(symbol=s, quantity=float(Decimal(q)), price=fixed.get(s),
                               lot_size=float(Decimal(lots[s])) if s in lots else None)
                      for s, q in state.holding.items())
    return Holdings(positions=positions, cash_value=Decimal(state.cash), source=f"backtest {state.name} on {day}")


def orders_of(decision: Decision) -> list[Order]:
    """The decision's targets that differ from the holding, as orders with their lot, cost rate and reason."""
    prepared = decision.prepared
    universe = prepared.universe
    trading = prepared.config.trading
    reasons = {t.symbol: t.reason for t in decision.trades.trades}
    index = {s: i for i, s in enumerate(universe.symbols)}
    orders = []
    for symbol, before, after in zip(decision.trades.symbols, decision.trades.current_quantity,
                                     decision.trades.final_quantity, strict=True):
        if before == after:
            continue
        i = index.get(symbol)
        lot = to_decimal(universe.lot_size[i]) if i is not None else to_decimal(trading.lot_size)
        rate = float(prepared.limits.cost[i]) if i is not None else trading.cost_bps / 1e4
        orders.append(Order(symbol=symbol, quantity=after, lot=lot, cost_rate=rate, reason=reasons.get(symbol, "")))
    return orders


def _record_decision(state: StrategyState, strategy: Strategy, day: str, decision: Decision) -> None:
    prepared = decision.prepared
    for rule in prepared.rsi.rules:
        state.rules.append([day, rule.rule, rule.symbol, float(rule.rsi), rule.describe()])
    for text in decision.relaxations:
        state.rules.append([day, "relaxation", "", 0.0, text])
    if strategy.kind is StrategyName.CONFIG:
        equity = [i for i, c in enumerate(prepared.universe.asset_class) if c == "equity"]
        for signal, z in prepared.scores.z.items():
            state.signals.extend([day, signal, prepared.universe.symbols[i], float(z[i])] for i in equity)


def _no_trade_reason(exc: AllocatorError) -> str:
    """Why a rebalance traded nothing, for ``rules.csv``: what failed and the limits it names, without the fix
    ``allocate run`` suggests (its ``--relax`` is ``backtest.relax`` here); 300 characters at most."""
    reason = "; ".join([f"{exc.where}: {exc.what}" if exc.where else exc.what, *exc.details])
    return reason if len(reason) <= 300 else reason[:297] + "..."


def _record_warnings(state: StrategyState, day: str, warnings: Sequence[str], fixed: dict[str, float],
                     holding: dict[str, Decimal]) -> None:
    """The decision's warnings, each once, and a line for each holding valued at the holdings file's price."""
    held_fixed = [f"{s}: no close in the price file; held fixed at the holdings file's price {fixed[s]:,.2f}"
                  for s in sorted(fixed) if s in holding]
    state.warnings.extend([day, text] for text in dict.fromkeys((*warnings, *held_fixed)))


def simulate(strategy: Strategy, market: MarketHistory, schedule: Schedule, start: StrategyState,
             journal_folder: Path | None = None, progress: Progress | None = None) -> StrategyState:
    """Walk ``strategy`` through ``schedule`` from ``start`` (a fresh account, or a journaled state to resume);
    the final state. With ``journal_folder``, progress is journaled after every fill."""
    state = start
    sessions = schedule.sessions
    days = [d.strftime("%Y-%m-%d") for d in sessions]
    closes = market.prices.ffill().reindex(sessions)
    columns = list(closes.columns)
    rows = closes.to_numpy(dtype=np.float64)
    decision_at = dict(zip(schedule.decisions, range(len(schedule.decisions)), strict=True))
    cache = ProblemCache()
    pending: tuple[int, list[Order], str] | None = None
    holding = {s: Decimal(q) for s, q in state.holding.items()}
    cash = Decimal(state.cash)
    for s in range(state.next_session, len(sessions)):
        close = dict(zip(columns, rows[s].tolist(), strict=True))
        fixed = fixed_prices(state, close) if state.prices else {}
        close.update(fixed)
        day = days[s]
        if s > 0:
            cash += interest(cash, market.cash_rate_on(sessions[s - 1]), per_year=RATE_DAYS)
        filled_today = False
        costs = traded = 0.0
        k = decision_at.get(s)
        due = pending is not None and pending[0] == s
        if k is not None and k >= state.decided and not (strategy.trades_once and k > 0):
            state.holding, state.cash = {a: str(q) for a, q in holding.items()}, str(cash)
            try:
                decision = decide(strategy, _holdings(state, day, fixed), day,
                                  MarketView(market.prices_until(sessions[s]), market.fundamentals_at(sessions[s]),
                                             market.macro_until(sessions[s])),
                                  cache)
            except (InfeasibleError, SolverError) as exc:
                state.failures += 1
                state.rules.append([day, "no_trade", "", 0.0, _no_trade_reason(exc)])
                _record_warnings(state, day, exc.warnings, fixed, holding)
            except AllocatorError as exc:
                exc.details.append(f"backtest strategy {strategy.name}, rebalance of {day}")
                raise
            else:
                _record_decision(state, strategy, day, decision)
                _record_warnings(state, day, decision.warnings, fixed, holding)
                orders = orders_of(decision)
                state.decisions.extend([day, o.symbol, str(o.quantity), o.reason] for o in orders)
                pending = (schedule.fills[k], orders, day)
                due = pending[0] == s
        if k is not None and k >= state.decided:
            state.decided = k + 1
            if progress is not None:
                progress(strategy.name, state.decided)
        if due and pending is not None:
            _, orders, decided_on = pending
            done = fill(holding, cash, orders, close, f"backtest {strategy.name} on {day}")
            holding, cash = holdings_after(holding, done), done.cash_after_value
            costs = float(done.total_cost_value)
            traded = float(done.bought_value + done.sold_value)
            for t in done.trades:
                state.trades.append([decided_on, day, t.symbol, t.side, str(t.quantity), str(t.price),
                                     str(t.notional_value), str(t.estimated_cost_value), t.reason])
            pending, filled_today = None, True
        nav = value(holding, cash, close)
        state.nav.append(nav)
        state.cash_values.append(float(cash))
        state.costs.append(costs)
        state.traded.append(traded)
        if filled_today:
            state.weights.extend([day, a, float(q) * close[a] / nav] for a, q in sorted(holding.items()))
            state.weights.append([day, CASH_SYMBOL, float(cash) / nav])
        state.next_session = s + 1
        if filled_today and journal_folder is not None:
            state.holding, state.cash = {a: str(q) for a, q in holding.items()}, str(cash)
            journal.save(journal_folder, state)
    state.holding, state.cash = {a: str(q) for a, q in holding.items()}, str(cash)
    return state


def daily_returns(state: StrategyState) -> pd.Series:
    """The strategy's daily returns (decimal), from the session after its first to the last."""
    nav = np.asarray(state.nav, dtype=np.float64)
    return pd.Series(nav[1:] / nav[:-1] - 1.0)

