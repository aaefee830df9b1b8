"""The order journal: a local SQLite file that records every order before it is sent and every reply after.

This is what keeps ``allocate send`` from ever sending an order twice. The rules:

1. An order is written to the journal (status ``PENDING``) and committed to disk (fsync) *before* it is handed to
   the FIX engine, and marked ``SENT`` after. A process killed at any point, or a machine that loses power, leaves
   the order either absent (never sent) or ``PENDING``/``SENT`` ("in doubt": it may or may not have reached the
   broker). Other writes (replies, the ``SENT`` mark) are committed without waiting for the disk: losing one to a
   power cut only leaves an order in doubt, which the next ``send`` resolves by asking the broker.
2. Every ExecutionReport updates the order (keyed by ClOrdID) with the broker's status, cumulative filled quantity
   and average price; reports are recorded once each (by ExecID), so a report delivered twice changes nothing.
3. A later ``send`` of the same trade list sends nothing the broker has answered; it asks the broker for the
   status of in-doubt orders (OrderStatusRequest) and sends only those the broker reports as unknown.

Statuses: ``PENDING``, ``SENT`` (ours), then the broker's FIX OrdStatus by name (``ACKNOWLEDGED`` for New,
``PARTIALLY_FILLED``, ``FILLED``, ``REJECTED``, ``CANCELED``, ...). Quantities in shares, prices in the account
currency, stored as decimal text. One ``send`` at a time may use a journal (an exclusive lock beside it).
"""

from __future__ import annotations

import fcntl
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from allocator.errors import OrderError
from allocator.files.cells import quantity_text
from allocator.orders.fix_message import REJECTED, TERMINAL, Reply
from allocator.orders.ids import Order

PENDING, SENT = "PENDING", "SENT"
IN_DOUBT = (PENDING, SENT)

SCHEMA = """
CREATE TABLE IF NOT EXISTS orders (
    client_order_id TEXT PRIMARY KEY,
    run_id TEXT NOT NULL,
    symbol TEXT NOT NULL,
    side TEXT NOT NULL,
    quantity TEXT NOT NULL,
    order_type TEXT NOT NULL,
    limit_price TEXT,
    time_in_force TEXT NOT NULL,
    account TEXT,
    status TEXT NOT NULL,
    filled_quantity TEXT NOT NULL DEFAULT '0',
    average_price TEXT,
    leaves_quantity TEXT,
    broker_order_id TEXT,
    text TEXT,
    send_count INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS orders_by_run ON orders (run_id, symbol);
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    client_order_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    exec_id TEXT,
    status TEXT,
    cum_quantity TEXT,
    average_price TEXT,
    text TEXT,
    at TEXT NOT NULL,
    UNIQUE (client_order_id, exec_id)
);
"""


@dataclass(frozen=True)
class Entry:
    """One order as the journal knows it."""

    client_order_id: str
    run_id: str
    symbol: str
    side: str
    quantity: Decimal
    order_type: str
    limit_price: Decimal | None
    time_in_force: str
    account: str | None
    status: str
    filled_quantity: Decimal
    average_price: Decimal | None
    leaves_quantity: Decimal | None
    broker_order_id: str | None
    text: str | None
    send_count: int

    @property
    def in_doubt(self) -> bool:
        return self.status in IN_DOUBT

    @property
    def terminal(self) -> bool:
        return self.status in TERMINAL

    def differences(self, order: Order) -> list[str]:
        """How ``order`` differs from what was recorded under the same ClOrdID (empty when it is the same order)."""
        recorded = {"symbol": self.symbol, "side": self.side, "quantity": self.quantity,
                    "order_type": self.order_type, "limit_price": self.limit_price,
                    "time_in_force": self.time_in_force, "account": self.account}
        given = {"symbol": order.symbol, "side": order.side, "quantity": order.quantity,
                 "order_type": order.order_type.value, "limit_price": order.limit_price,
                 "time_in_force": order.time_in_force.value, "account": order.account}
        return [f"{k} {recorded[k]} -> {given[k]}" for k in recorded if recorded[k] != given[k]]


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _dec(text: str | None) -> Decimal | None:
    return None if text is None else Decimal(text)


class Journal:
    """The SQLite journal at ``path`` (created if absent), locked for this process until ``close``."""

    def __init__(self, path: Path) -> None:
        self.path = path
        where = str(path)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._lock = open(f"{path}.lock", "a+b")  # noqa: SIM115 - held open for the journal's lifetime
        except OSError as exc:
            raise OrderError(where, f"cannot create the journal ({exc.strerror})",
                             "check orders.journal / --journal and the folder's permissions") from None
        try:
            fcntl.flock(self._lock.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            self._lock.close()
            raise OrderError(where, "another allocate send is using this journal",
                             "wait for it to finish (two senders could send an order twice)") from None
        try:
            self._db = sqlite3.connect(path, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(SCHEMA)
        except sqlite3.DatabaseError as exc:
            self._release()
            raise OrderError(where, f"not a usable order journal ({exc})",
                             "point orders.journal / --journal at the journal file, or a new path") from None

    def close(self) -> None:
        self._db.close()
        self._release()

    def _release(self) -> None:
        fcntl.flock(self._lock.fileno(), fcntl.LOCK_UN)
        self._lock.close()

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def get(self, client_order_id: str) -> Entry | None:
        return self._entry("client_order_id = ?", (client_order_id,))

    def find(self, run_id: str, symbol: str) -> Entry | None:
        """The order recorded for ``symbol`` in run ``run_id``, whatever its ClOrdID."""
        return self._entry("run_id = ? AND symbol = ? ORDER BY created_at LIMIT 1", (run_id, symbol))

    def _entry(self, where: str, values: tuple[str, ...]) -> Entry | None:
        row = self._db.execute(
            "SELECT client_order_id, run_id, symbol, side, quantity, order_type, limit_price, time_in_force, "
            "account, status, filled_quantity, average_price, leaves_quantity, broker_order_id, text, send_count "
            f"FROM orders WHERE {where}", values).fetchone()
        if row is None:
            return None
        return Entry(client_order_id=row[0], run_id=row[1], symbol=row[2], side=row[3], quantity=Decimal(row[4]),
                     order_type=row[5], limit_price=_dec(row[6]), time_in_force=row[7], account=row[8],
                     status=row[9], filled_quantity=Decimal(row[10]), average_price=_dec(row[11]),
                     leaves_quantity=_dec(row[12]), broker_order_id=row[13], text=row[14], send_count=row[15])

    def _event(self, client_order_id: str, kind: str, exec_id: str | None = None, status: str | None = None,
               cum_quantity: Decimal | None = None, average_price: Decimal | None = None,
               text: str | None = None) -> bool:
        """Append an event; False when a report with this ExecID was already recorded."""
        cursor = self._db.execute(
            "INSERT OR IGNORE INTO events (client_order_id, kind, exec_id, status, cum_quantity, average_price, "
            "text, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (client_order_id, kind, exec_id, status, None if cum_quantity is None else str(cum_quantity),
             None if average_price is None else str(average_price), text, _now()))
        return cursor.rowcount == 1

    def record_pending(self, order: Order, run_id: str) -> None:
        """Record ``order`` as about to be sent (committed before it reaches the FIX engine)."""
        now = _now()
        self._db.execute("PRAGMA synchronous=FULL")  # on disk before the order can leave: survives a power cut
        with self._db:
            self._db.execute("BEGIN IMMEDIATE")
            entry = self.get(order.client_order_id)
            if entry is None:
                self._db.execute(
                    "INSERT INTO orders (client_order_id, run_id, symbol, side, quantity, order_type, limit_price, "
                    "time_in_force, account, status, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
                    "?, ?)",
                    (order.client_order_id, run_id, order.symbol, order.side, quantity_text(order.quantity),
                     order.order_type.value, None if order.limit_price is None else str(order.limit_price),
                     order.time_in_force.value, order.account, PENDING, now, now))
            elif entry.in_doubt:
                self._db.execute("UPDATE orders SET status = ?, updated_at = ? WHERE client_order_id = ?",
                                 (PENDING, now, order.client_order_id))
            self._event(order.client_order_id, "pending")
        self._db.execute("PRAGMA synchronous=NORMAL")

    def mark_sent(self, client_order_id: str, resend: bool) -> None:
        """The FIX engine took the order (a resend leaves an answered order's status as the broker gave it)."""
        with self._db:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.execute("UPDATE orders SET send_count = send_count + 1, updated_at = ?, "
                             "status = CASE WHEN status = ? THEN ? ELSE status END WHERE client_order_id = ?",
                             (_now(), PENDING, SENT, client_order_id))
            self._event(client_order_id, "resent" if resend else "sent")

    def note(self, client_order_id: str, kind: str, text: str | None = None) -> None:
        """Record an event that changes no status (a status request sent, an unknown-order answer)."""
        with self._db:
            self._db.execute("BEGIN IMMEDIATE")
            self._event(client_order_id, kind, text=text)

    def apply(self, reply: Reply) -> Entry | None:
        """Record a broker reply and update the order; None when the ClOrdID is not in the journal.

        A report seen before (same ExecID) changes nothing. Filled quantity never decreases; a final status is not
        replaced by a stale working one; a reject of a resent duplicate does not undo an accepted order.
        """
        with self._db:
            self._db.execute("BEGIN IMMEDIATE")
            entry = self.get(reply.client_order_id)
            if entry is None:
                return None
            fresh = self._event(reply.client_order_id, "reply", reply.exec_id, reply.status, reply.cum_quantity,
                                reply.average_price, reply.text)
            if not fresh or reply.unknown_order:
                return entry
            status = entry.status
            answered_before = not entry.in_doubt and entry.status != REJECTED
            if reply.status == REJECTED and answered_before:
                pass
            elif not (entry.terminal and reply.status not in TERMINAL):
                status = reply.status
            filled = entry.filled_quantity
            average = entry.average_price
            if reply.cum_quantity is not None and reply.cum_quantity >= filled:
                filled = reply.cum_quantity
                average = reply.average_price if reply.cum_quantity > 0 else average
            leaves = reply.leaves_quantity if reply.leaves_quantity is not None else entry.leaves_quantity
            self._db.execute(
                "UPDATE orders SET status = ?, filled_quantity = ?, average_price = ?, leaves_quantity = ?, "
                "broker_order_id = COALESCE(?, broker_order_id), text = COALESCE(?, text), updated_at = ? "
                "WHERE client_order_id = ?",
                (status, quantity_text(filled), None if average is None else str(average),
                 None if leaves is None else quantity_text(leaves), reply.broker_order_id, reply.text, _now(),
                 reply.client_order_id))
        return self.get(reply.client_order_id)

