"""A small simulated broker for the FIX tests: a QuickFIX acceptor on 127.0.0.1 at a free port.

It validates every incoming message against QuickFIX's FIX 4.4 data dictionary (the engine rejects an invalid one
with a session Reject, which is recorded; each NewOrderSingle is also re-parsed and validated on its own), and then
acts like a broker: acknowledges and fills orders (large ones in two fills at different prices), rejects symbols it
does not know, leaves some partially filled or unfilled, ignores others, and answers OrderStatusRequests (unknown
ClOrdIDs with OrdRejReason 5). It records every order it receives, so tests can count arrivals per ClOrdID.
"""

from __future__ import annotations

import itertools
import socket
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

from allocator.orders.fix_session import fix44_dictionary, import_quickfix

fix = import_quickfix()  # keeps Ctrl-C working in the test process

SOH = "\x01"
SENDER, TARGET = "ALLOCATE", "BROKER"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def fields_of(raw: str) -> dict[int, str]:
    found: dict[int, str] = {}
    for part in raw.rstrip(SOH).split(SOH):
        tag, _, value = part.partition("=")
        found.setdefault(int(tag), value)
    return found


@dataclass
class BrokerOrder:
    client_order_id: str
    order_id: str
    symbol: str
    side: str
    quantity: Decimal
    cum_quantity: Decimal = Decimal(0)
    notional: Decimal = Decimal(0)
    status: str = "0"

    @property
    def average_price(self) -> Decimal:
        if self.cum_quantity == 0:
            return Decimal(0)
        return (self.notional / self.cum_quantity).quantize(Decimal("0.000001"), rounding=ROUND_HALF_UP)


@dataclass
class Broker:
    """Behaviour: ``prices`` are the symbols it trades (others are rejected as unknown); ``partial`` symbols are
    half filled and left working, ``ack_only`` acknowledged and left working, ``silent`` never answered."""

    prices: dict[str, Decimal]
    partial: set[str] = field(default_factory=set)
    ack_only: set[str] = field(default_factory=set)
    silent: set[str] = field(default_factory=set)
    on_order: Callable[[int, str], None] | None = None
    received: list[str] = field(default_factory=list)            # raw NewOrderSingle messages, in arrival order
    status_requests: list[str] = field(default_factory=list)
    session_rejects: list[str] = field(default_factory=list)     # rejects the engine sent (invalid messages)
    invalid: list[str] = field(default_factory=list)             # messages our own validation refused
    admin_received: list[str] = field(default_factory=list)      # Logon, Heartbeat, SequenceReset, ...
    orders: dict[str, BrokerOrder] = field(default_factory=dict)
    fills: list[tuple[str, Decimal, Decimal]] = field(default_factory=list)
    logged_on: threading.Event = field(default_factory=threading.Event)
    logged_out: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.port = free_port()
        self.dictionary_path = fix44_dictionary()
        self._dictionary = fix.DataDictionary(str(self.dictionary_path))
        self._ids = itertools.count(1)
        self._acceptor: Any = None

    # --- test view --------------------------------------------------------------------------------------------

    def arrivals(self) -> Counter[str]:
        with self.lock:
            return Counter(fields_of(raw)[11] for raw in self.received)

    def session_config(self, folder: Path, **extra: str) -> Path:
        """A sender's session file for this broker (relative store and log paths, resolved by allocate)."""
        lines = ["[DEFAULT]", "ConnectionType=initiator", "SocketConnectHost=127.0.0.1",
                 f"SocketConnectPort={self.port}", "ReconnectInterval=1", "FileStorePath=fix-store",
                 "FileLogPath=fix-log", *[f"{k}={v}" for k, v in extra.items()], "", "[SESSION]",
                 "BeginString=FIX.4.4", f"SenderCompID={SENDER}", f"TargetCompID={TARGET}", "HeartBtInt=30"]
        path = folder / "broker.cfg"
        path.write_text("\n".join(lines) + "\n")
        return path

    # --- engine -----------------------------------------------------------------------------------------------

    def start(self, log_folder: Path) -> None:
        settings = fix.SessionSettings()
        defaults = fix.Dictionary()
        for key, value in {"ConnectionType": "acceptor", "SocketAcceptAddress": "127.0.0.1",
                           "SocketAcceptPort": str(self.port), "StartTime": "00:00:00", "EndTime": "00:00:00",
                           "UseDataDictionary": "Y", "DataDictionary": str(self.dictionary_path),
                           "ValidateUserDefinedFields": "Y", "ValidateFieldsOutOfOrder": "Y",
                           "ValidateFieldsHaveValues": "Y", "AllowUnknownMsgFields": "N",
                           "FileLogPath": str(log_folder)}.items():
            defaults.setString(key, value)
        settings.set(defaults)
        session = fix.Dictionary()
        for key, value in {"BeginString": "FIX.4.4", "SenderCompID": TARGET, "TargetCompID": SENDER}.items():
            session.setString(key, value)
        settings.set(fix.SessionID("FIX.4.4", TARGET, SENDER), session)
        self._application = _Application(self)
        self._acceptor = fix.ThreadedSocketAcceptor(self._application, fix.MemoryStoreFactory(), settings,
                                            fix.FileLogFactory(settings))
        self._acceptor.start()

    def rewind_incoming(self, next_expected: int) -> None:
        """Forget the sender's messages from ``next_expected`` on (as a broker that lost them would): at the next
        logon the engine asks for them again with a ResendRequest."""
        session = fix.Session.lookupSession(fix.SessionID("FIX.4.4", TARGET, SENDER))
        session.setNextTargetMsgSeqNum(next_expected)

    def stop(self) -> None:
        if self._acceptor is not None:
            self._acceptor.stop()
            self._acceptor = None

    def _validate(self, raw: str) -> None:
        try:
            self._dictionary.validate(fix.Message(raw, self._dictionary, True))
        except Exception as exc:  # any failure is a finding
            self.invalid.append(f"{exc}: {raw}")

    def _report(self, session_id: Any, order: BrokerOrder, exec_type: str, status: str, last: tuple[Decimal,
                Decimal] | None = None, text: str | None = None, reject_reason: str | None = None) -> None:
        message = fix.Message()
        message.getHeader().setField(35, "8")
        leaves = Decimal(0) if status in ("2", "4", "8", "C") else order.quantity - order.cum_quantity
        values = [(37, order.order_id), (11, order.client_order_id), (17, f"E{next(self._ids)}"), (150, exec_type),
                  (39, status), (55, order.symbol), (54, order.side), (38, str(order.quantity)),
                  (151, str(leaves)), (14, str(order.cum_quantity)), (6, str(order.average_price))]
        if last is not None:
            values += [(32, str(last[0])), (31, str(last[1]))]
        if reject_reason is not None:
            values.append((103, reject_reason))
        if text is not None:
            values.append((58, text))
        for tag, value in values:
            message.setField(tag, value)
        fix.Session.sendToTarget(message, session_id)

    def _new_order(self, raw: str, session_id: Any) -> None:
        found = fields_of(raw)
        with self.lock:
            self.received.append(raw)
            count = len(self.received)
        self._validate(raw)
        if self.on_order is not None:
            self.on_order(count, found[11])
        symbol, quantity = found[55], Decimal(found[38])
        known = self.orders.get(found[11])
        if known is not None:  # a resend of an order we have: answer with its status, execute nothing again
            self._report(session_id, known, "I", known.status, text="duplicate ClOrdID; order status")
            return
        order = BrokerOrder(client_order_id=found[11], order_id=f"B{next(self._ids)}", symbol=symbol,
                            side=found[54], quantity=quantity)
        self.orders[order.client_order_id] = order
        if symbol in self.silent:
            return
        if symbol not in self.prices:
            order.status = "8"
            self._report(session_id, order, "8", "8", text=f"unknown symbol {symbol}", reject_reason="1")
            return
        self._report(session_id, order, "0", "0")
        if symbol in self.ack_only:
            return
        buy = found[54] == "1"
        limit = Decimal(found[44]) if found.get(44) else None

        def within_limit(price: Decimal) -> Decimal:
            if limit is None:
                return price
            return min(price, limit) if buy else max(price, limit)

        price = within_limit(self.prices[symbol])
        if symbol in self.partial:
            self._fill(session_id, order, (quantity / 2).to_integral_value(), price)
            return
        first = (quantity * Decimal("0.4")).to_integral_value() if quantity >= 200 else quantity
        self._fill(session_id, order, first, price)
        if first < quantity:  # the rest one cent worse, as a market moving against the order would
            self._fill(session_id, order, quantity - first, within_limit(price + (Decimal("0.01") if buy else
                                                                                   Decimal("-0.01"))))

    def _fill(self, session_id: Any, order: BrokerOrder, quantity: Decimal, price: Decimal) -> None:
        order.cum_quantity += quantity
        order.notional += quantity * price
        order.status = "2" if order.cum_quantity == order.quantity else "1"
        self.fills.append((order.client_order_id, quantity, price))
        self._report(session_id, order, "F", order.status, last=(quantity, price))

    def _status_request(self, raw: str, session_id: Any) -> None:
        found = fields_of(raw)
        with self.lock:
            self.status_requests.append(raw)
        self._validate(raw)
        order = self.orders.get(found[11])
        if order is None:
            unknown = BrokerOrder(client_order_id=found[11], order_id="NONE", symbol=found[55], side=found[54],
                                  quantity=Decimal(0))
            self._report(session_id, unknown, "I", "8", text="unknown order", reject_reason="5")
            return
        if order.symbol in self.silent:
            return
        self._report(session_id, order, "I", order.status)


class _Application(fix.Application):  # type: ignore[misc]
    def __init__(self, broker: Broker) -> None:
        super().__init__()
        self.broker = broker

    def onCreate(self, session_id: Any) -> None:
        return None

    def onLogon(self, session_id: Any) -> None:
        self.broker.logged_out.clear()
        self.broker.logged_on.set()

    def onLogout(self, session_id: Any) -> None:
        self.broker.logged_on.clear()
        self.broker.logged_out.set()

    def toAdmin(self, message: Any, session_id: Any) -> None:
        raw = message.toString()
        if fields_of(raw).get(35) == "3":
            self.broker.session_rejects.append(raw)

    def fromAdmin(self, message: Any, session_id: Any) -> None:
        self.broker.admin_received.append(message.toString())

    def toApp(self, message: Any, session_id: Any) -> None:
        return None

    def fromApp(self, message: Any, session_id: Any) -> None:
        raw = message.toString()
        msg_type = fields_of(raw).get(35)
        if msg_type == "D":
            self.broker._new_order(raw, session_id)
        elif msg_type == "H":
            self.broker._status_request(raw, session_id)
