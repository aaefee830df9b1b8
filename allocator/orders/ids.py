"""Trades -> orders: client order IDs, limit prices on the tick, time in force and the file timestamp.

An ``Order`` is what an order system needs and nothing more: who (account, destination), what (symbol, side,
quantity in shares), how (market or limit at a price in the account currency, time in force) and its identity.

Identity. Every run has a ``run_id``: the SHA-256 of the reproducible part of its manifest (the SHA-256 of every
input file, the as-of date, the cash and any relaxation applied; no paths, timings or versions). A client order ID
(FIX ClOrdID) is derived from the run id and the symbol, so the same run gives the same IDs and a different run
gives different ones; a trade list holds one trade per symbol, so the IDs of a run are unique. Schemes:

- ``readable``: ``{prefix}{run_id[:12]}-{SYMBOL}``; a symbol with characters outside ``A-Z a-z 0-9 .`` is
  written with those replaced by ``_`` and a 6-character hash of the symbol appended (``-`` never appears in a
  clean symbol, so the two forms cannot collide);
- ``hashed``: ``{prefix}`` + 16 base32 characters of SHA-256(run_id, symbol), for brokers that cap the length.

Limit prices: the last price times ``1 + offset`` for buys and ``1 - offset`` for sells (offset in basis points),
rounded to the tick towards the passive side (buys down, sells up), so the limit never exceeds what the offset
allows. The tick is ``orders.tick_size_by_symbol``, else ``orders.tick_size``, else 0.01 at or above 1 and
0.0001 below (the US sub-penny rule).

Times: order files are stamped with the run's as-of date at ``orders.time_of_day`` in ``orders.timezone``, written
in UTC, never the wall clock, so the same run writes the same bytes.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from zoneinfo import ZoneInfo

from allocator.config.schema import IdScheme, OrdersConfig, OrderType, TimeInForce
from allocator.errors import ConfigError
from allocator.files.cells import quantity_text
from allocator.files.manifest import RUN_ID_PATTERN as RUN_ID_PATTERN
from allocator.terms import BUY, Side

CLEAN_SYMBOL = re.compile(r"[A-Za-z0-9.]+")
PENNY, SUB_PENNY = Decimal("0.01"), Decimal("0.0001")


@dataclass(frozen=True)
class Order:
    """One order: ``quantity`` shares (positive), ``limit_price`` in the account currency for limit orders."""

    client_order_id: str
    symbol: str
    side: Side
    quantity: Decimal
    order_type: OrderType
    limit_price: Decimal | None
    time_in_force: TimeInForce
    account: str | None
    destination: str | None
    currency: str
    transact_time: datetime

    def describe(self) -> str:
        price = f" limit {self.limit_price}" if self.limit_price is not None else " market"
        return f"{self.side} {quantity_text(self.quantity)} {self.symbol}{price} {self.time_in_force.value}"


@dataclass(frozen=True)
class OrderRequest:
    """A trade as an order system sees it before the order settings apply: symbol, side, shares, last price."""

    symbol: str
    side: Side
    quantity: Decimal
    last_price: Decimal


def run_fingerprint(inputs: Mapping[str, Mapping[str, str]], as_of: str, cash_value: str,
                    relaxations: Sequence[str], trading: Mapping[str, str] | None = None) -> str:
    """The run id: SHA-256 of the run's reproducible manifest data (input hashes, as-of date, cash, relaxations,
    and the trading mode and cash to raise when the command line set them: ``trading``, left out when empty so
    the ids of earlier runs stay as they were)."""
    data: dict[str, object] = {"as_of": as_of, "cash": cash_value,
                               "inputs": {name: entry["sha256"] for name, entry in sorted(inputs.items())},
                               "relaxations": list(relaxations)}
    if trading:
        data["trading"] = dict(trading)
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def client_order_id(run_id: str, symbol: str, settings: OrdersConfig) -> str:
    """The FIX ClOrdID of ``symbol``'s order in run ``run_id`` (see the module docstring for the schemes)."""
    if settings.id_scheme is IdScheme.HASHED:
        digest = hashlib.sha256(f"{run_id}\x00{symbol}".encode()).digest()
        return settings.id_prefix + base64.b32encode(digest).decode("ascii")[:16]
    if CLEAN_SYMBOL.fullmatch(symbol):
        return f"{settings.id_prefix}{run_id[:12]}-{symbol}"
    cleaned = re.sub(r"[^A-Za-z0-9.]", "_", symbol)[:12]
    tag = hashlib.sha256(symbol.encode("utf-8")).hexdigest()[:6]
    return f"{settings.id_prefix}{run_id[:12]}-{cleaned}-{tag}"


def tick_size(symbol: str, price: Decimal, settings: OrdersConfig) -> Decimal:
    """The price increment for ``symbol`` at ``price`` (account currency)."""
    if symbol in settings.tick_size_by_symbol:
        return Decimal(repr(settings.tick_size_by_symbol[symbol]))
    if settings.tick_size is not None:
        return Decimal(repr(settings.tick_size))
    return PENNY if price >= 1 else SUB_PENNY


def limit_price(symbol: str, side: str, last_price: Decimal, settings: OrdersConfig) -> Decimal:
    """Last price plus (buys) or minus (sells) the offset, on the tick, rounded towards the passive side."""
    offset = Decimal(repr(settings.limit_offset_bps)) / Decimal(10_000)
    raw = last_price * (1 + offset) if side == BUY else last_price * (1 - offset)
    tick = tick_size(symbol, raw, settings)
    steps = (raw / tick).to_integral_value(rounding=ROUND_FLOOR if side == BUY else ROUND_CEILING)
    if steps <= 0:
        raise ConfigError(f"{symbol}: limit price", f"{last_price} {'+' if side == BUY else '-'} "
                        f"{settings.limit_offset_bps:g} bp rounds to zero on the {tick} tick",
                        "give the symbol a finer orders.tick_size_by_symbol, or send market orders")
    price = steps * tick
    exponent = tick.as_tuple().exponent
    return price.quantize(tick) if isinstance(exponent, int) and exponent < 0 else price


def file_time(as_of: date, settings: OrdersConfig) -> datetime:
    """The timestamp of order files: the as-of date at ``time_of_day`` in ``timezone``, in UTC (seconds)."""
    local = datetime.combine(as_of, time.fromisoformat(settings.time_of_day), tzinfo=ZoneInfo(settings.timezone))
    return local.astimezone(UTC)


def build_orders(requests: Sequence[OrderRequest], run_id: str, as_of: date, settings: OrdersConfig
                 ) -> tuple[Order, ...]:
    """One order per trade, in the trade list's order (sells first), stamped with the as-of time."""
    stamp = file_time(as_of, settings)
    limit = settings.order_type is OrderType.LIMIT
    return tuple(
        Order(client_order_id=client_order_id(run_id, r.symbol, settings), symbol=r.symbol, side=r.side,
              quantity=r.quantity, order_type=settings.order_type,
              limit_price=limit_price(r.symbol, r.side, r.last_price, settings) if limit else None,
              time_in_force=settings.time_in_force, account=settings.account, destination=settings.destination,
              currency=settings.currency, transact_time=stamp)
        for r in requests)
