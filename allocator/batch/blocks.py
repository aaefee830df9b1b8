"""Block orders: every account's trades aggregated by symbol and side, and fills allocated back to the accounts.

A trading desk sends one order per symbol and side for the whole book (a block) and allocates what is filled to the
accounts behind it. ``blocks_of`` builds the blocks from the accounts' trades (``Leg``); the block's quantity is the
sum of its accounts' quantities, exactly (shares, ``Decimal``). ``allocate_fill`` splits a fill of a block back
onto its accounts:

1. each account gets its pro-rata share ``fill * q_i / Q`` rounded down to whole lots of its own lot size;
2. the lots left are handed out one at a time to the account furthest below its pro-rata share (ties: the larger
   order, then the account name), never more than an account ordered;
3. shares left that make no whole lot of any account that still has room (a fill that is not a multiple of the
   lot) go, as one odd lot, to the account furthest below its share that has room for them.

So the allocations sum to the fill exactly, no account gets more than it ordered, and a complete fill gives each
account its own order.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal
from functools import cached_property
from typing import Any, NamedTuple

from allocator.errors import UsageError
from allocator.files.cells import csv_bytes, quantity_text, safe_text
from allocator.terms import BUY, SELL


class Leg(NamedTuple):
    """One account's trade in a block: shares, prices and money as ``Decimal`` (account currency); ``lot`` is the
    account's lot in that symbol, ``nav_value`` the account's NAV before trading.

    A named tuple, not a frozen dataclass: the driver of a batch makes about 20 an account as the outcomes arrive,
    and a frozen dataclass of twelve fields took 3.0 us to make, a named tuple 0.5."""

    account: str
    symbol: str
    side: str
    quantity: Decimal
    price: Decimal
    notional: Decimal
    cost: Decimal
    current_quantity: Decimal
    target_quantity: Decimal
    lot: Decimal
    nav_value: Decimal
    break_even_alpha: float

    def to_json(self) -> dict[str, Any]:
        return {k: (str(v) if isinstance(v, Decimal) else v) for k, v in self._asdict().items()}

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickled with its eight ``Decimal``s as one string (``str`` of a ``Decimal`` gives back the same
        coefficient and exponent): the legs of a chunk's outcomes, about 20 a traded account, travel from the workers
        to the driver, and pickled this way the outcomes of 1,500 accounts are half the bytes (2.5 MB), pickle in
        108 ms instead of 401 on the workers and unpickle in 173 instead of 294 on the driver."""
        numbers = " ".join(map(str, self[3:11]))
        return _unpickle_leg, (self.account, self.symbol, self.side, numbers, self.break_even_alpha)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Leg:
        values: dict[str, Any] = {k: Decimal(v) if k in LEG_NUMBERS else v for k, v in data.items()}
        return cls(**values)


# a ``Leg``'s numbers, ``leg[3:11]`` (one slice of the tuple: 0.1 us, where reading the eight by name took 0.6)
LEG_NUMBERS = ("quantity", "price", "notional", "cost", "current_quantity", "target_quantity", "lot", "nav_value")
FIELD, LINE = "\x1f", "\n"  # the separators of ``pack_legs``: no symbol or number holds them (else not packed)


def _unpickle_leg(account: str, symbol: str, side: str, numbers: str, break_even_alpha: float) -> Leg:
    quantity, price, notional, cost, current, target, lot, nav = map(Decimal, numbers.split(" "))
    return Leg(account, symbol, side, quantity, price, notional, cost, current, target, lot, nav, break_even_alpha)


def pack_legs(account: str, legs: Sequence[Leg]) -> str | tuple[Leg, ...]:
    """One account's legs as one line each (symbol, side, the eight numbers and the alpha's ``repr``, which gives
    back the same float), for pickling its outcome: on the driver, unpickling the outcomes of a batch leg by leg
    (about 20 an account) took 0.27 ms an account, 0.1 ms of it the pickle machinery and a function call per leg.
    The legs themselves when a symbol or side holds a separator, or a leg is another account's."""
    lines = []
    for leg in legs:
        if leg.account != account or FIELD in leg.symbol or LINE in leg.symbol or FIELD in leg.side:
            return tuple(legs)
        lines.append(FIELD.join((leg.symbol, leg.side, *map(str, leg[3:11]), repr(leg.break_even_alpha))))
    return LINE.join(lines)


def unpack_legs(account: str, packed: str | tuple[Leg, ...]) -> tuple[Leg, ...]:
    """The legs of ``pack_legs``."""
    if not isinstance(packed, str):
        return packed
    if not packed:
        return ()
    legs = []
    for line in packed.split(LINE):
        symbol, side, quantity, price, notional, cost, current, target, lot, nav, alpha = line.split(FIELD)
        legs.append(Leg(account, symbol, side, Decimal(quantity), Decimal(price), Decimal(notional), Decimal(cost),
                        Decimal(current), Decimal(target), Decimal(lot), Decimal(nav), float(alpha)))
    return tuple(legs)


@dataclass(frozen=True)
class Block:
    """One order of the book: a symbol and side, the sum of its legs' quantities, notionals and costs (each summed
    once: the batch's files read them for every leg of the block)."""

    symbol: str
    side: str
    legs: tuple[Leg, ...]

    @cached_property
    def quantity(self) -> Decimal:
        return sum((leg.quantity for leg in self.legs), Decimal(0))

    @cached_property
    def notional(self) -> Decimal:
        return sum((leg.notional for leg in self.legs), Decimal(0))

    @cached_property
    def cost(self) -> Decimal:
        return sum((leg.cost for leg in self.legs), Decimal(0))

    @cached_property
    def average_price(self) -> Decimal:
        """Notional over quantity, to 1/10,000 of the currency unit (the accounts may price a symbol alike or not)."""
        return (self.notional / self.quantity).quantize(Decimal("0.0001"))


def blocks_of(legs: Iterable[Leg]) -> tuple[Block, ...]:
    """The legs grouped by symbol and side: sells first, then buys, each by symbol; legs by account."""
    groups: dict[tuple[str, str], list[Leg]] = {}
    for leg in legs:
        groups.setdefault((leg.side, leg.symbol), []).append(leg)
    order: dict[str, int] = {SELL: 0, BUY: 1}
    return tuple(Block(symbol=symbol, side=side, legs=tuple(sorted(found, key=lambda g: g.account)))
                 for (side, symbol), found in sorted(groups.items(), key=lambda kv: (order[kv[0][0]], kv[0][1])))


def blocks_csv(blocks: Sequence[Block]) -> bytes:
    """``blocks.csv``: one row per block (symbol, side, quantity, accounts, average price, notional, cost)."""
    rows = [[safe_text(b.symbol), b.side, quantity_text(b.quantity), str(len(b.legs)), str(b.average_price),
             str(b.notional), str(b.cost)] for b in blocks]
    return csv_bytes(["symbol", "side", "quantity", "accounts", "average_price", "notional", "estimated_cost"], rows)


def allocations_csv(blocks: Sequence[Block]) -> bytes:
    """``allocations.csv``: each account's part of each block (its quantity, price, lot and share of the block)."""
    rows = []
    accounts: dict[str, str] = {}  # an account's cell and a lot's, made once for the whole file
    lots: dict[Decimal, str] = {}
    # a quantity's cell by its ``str``, which fixes the Decimal and so its text: most legs are a few lots, and
    # ``quantity_text`` of one with a decimal point (``10.0``) took 1 us, ``str`` and a look-up 0.1
    quantities: dict[str, str] = {}
    for block in blocks:
        total, symbol, side = block.quantity, safe_text(block.symbol), block.side
        for leg in block.legs:
            account = accounts.get(leg.account)
            if account is None:
                account = accounts[leg.account] = safe_text(leg.account)
            lot = lots.get(leg.lot)
            if lot is None:
                lot = lots[leg.lot] = quantity_text(leg.lot)
            key = str(leg.quantity)
            quantity = quantities.get(key)
            if quantity is None:
                quantity = quantities[key] = quantity_text(leg.quantity)
            rows.append([symbol, side, account, quantity, str(leg.price), lot, f"{leg.quantity / total:.10f}"])
    return csv_bytes(["symbol", "side", "account", "quantity", "price", "lot_size", "share"], rows)


def block_trade_records(blocks: Sequence[Block]) -> list[dict[str, Any]]:
    """The blocks as a trade list's records (``orders.trade_sheet.TRADE_COLUMNS``), for ``export`` and ``send``:
    current and target quantities are the accounts' sums, weights are over the accounts' summed NAV."""
    records = []
    for block in blocks:
        nav = current = target = current_value = target_value = Decimal(0)
        for leg in block.legs:  # one pass for the sums (exact: Decimal, in the legs' order)
            nav += leg.nav_value
            current += leg.current_quantity
            target += leg.target_quantity
            current_value += leg.current_quantity * leg.price
            target_value += leg.target_quantity * leg.price
        price = block.average_price
        alpha = sum(leg.break_even_alpha * float(leg.notional) for leg in block.legs) / float(block.notional)
        records.append({
            "symbol": block.symbol, "side": block.side, "quantity": quantity_text(block.quantity),
            "price": str(price), "notional": str(block.notional), "current_quantity": quantity_text(current),
            "target_quantity": quantity_text(target),
            "current_weight": f"{current_value / nav:.10f}", "target_weight": f"{target_value / nav:.10f}",
            "estimated_cost": str(block.cost), "break_even_alpha": f"{alpha:.10f}",
            "reason": f"block of {len(block.legs)} accounts"})
    return records


def allocate_fill(filled: Decimal, orders: Sequence[tuple[str, Decimal, Decimal]]) -> dict[str, Decimal]:
    """Split ``filled`` shares of a block over its ``orders`` (account, quantity ordered, lot), pro rata in whole
    lots with the remainder rule of the module docstring. Raises ``UsageError`` for a fill outside [0, ordered] or
    an account with more than one order."""
    counts = Counter(account for account, _, _ in orders)
    twice = sorted(a for a, n in counts.items() if n > 1)
    if twice:
        raise UsageError("fill", f"account {twice[0]!r} has {counts[twice[0]]} orders in the block"
                         + (f" (and {len(twice) - 1} more accounts)" if len(twice) > 1 else ""),
                         "give each account one order (add up its quantities)")
    total = sum((q for _, q, _ in orders), Decimal(0))
    if filled < 0 or filled > total:
        raise UsageError("fill", f"{filled} shares filled of a block of {total}", "give a fill between 0 and the "
                         "block's quantity")
    if total == 0:
        return {account: Decimal(0) for account, _, _ in orders}
    share = {account: filled * quantity / total for account, quantity, _ in orders}
    given = {account: ((share[account] / lot).to_integral_value(ROUND_FLOOR) * lot) for account, _, lot in orders}
    ordered = {account: quantity for account, quantity, _ in orders}
    lots = {account: lot for account, _, lot in orders}
    left = filled - sum(given.values(), Decimal(0))

    def shortfall_order(account: str) -> tuple[Decimal, Decimal, str]:
        return (given[account] - share[account], -ordered[account], account)

    while left > 0:
        fits = [a for a in given if lots[a] <= left and given[a] + lots[a] <= ordered[a]]
        if not fits:
            room = [a for a in given if given[a] + left <= ordered[a]]
            if not room:  # cannot happen while filled <= total; kept so the loop always ends
                room = [a for a in given if given[a] < ordered[a]]
            account = min(room, key=shortfall_order)
            step = min(left, ordered[account] - given[account])
        else:
            account = min(fits, key=shortfall_order)
            step = lots[account]
        given[account] += step
        left -= step
    return given
