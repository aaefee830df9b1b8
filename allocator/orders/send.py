"""``allocate send``: hand a trade list's orders to a broker over FIX, once each, and report what happened.

Steps:
1. Read the orders: from ``trades.csv`` / ``trades.json`` with the ``orders:`` settings (client order IDs from the
   run id), or from an ``orders.fix`` file as written. With ``orders.require_approval`` only the trade list approved
   last (``allocator.orders.approval``) is read; anything else is refused before a session opens.
2. Plan against the journal (``allocator.orders.journal``): an order the journal does not know is sent; an order the
   broker answered is skipped (``--resend`` sends it again flagged PossResend=Y); an order in doubt (recorded but
   never answered, e.g. the sender was killed) is first asked about with an OrderStatusRequest and sent only if
   the broker answers that it does not know it. An in-doubt order the broker does not answer for is never sent
   blindly: it is reported ``UNANSWERED``. Open orders (acknowledged, partially filled) are asked about too, to
   refresh their fills.
3. Log on, ask, send (each order committed to the journal before it reaches the engine), then wait for the
   ExecutionReports until every order sent is final (``done``: filled, rejected, cancelled, expired) or merely
   answered (``acknowledged``), or until the reply timeout.

The result, one ``Outcome`` per order with its final status, filled quantity (shares) and average price (account
currency), is what the execution report holds. Nothing here prints: progress goes to a callback.
"""

from __future__ import annotations

import csv
import io
import queue
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum
from pathlib import Path

from allocator.config.schema import OrdersConfig
from allocator.errors import ConfigError, DataError
from allocator.files.cells import quantity_text, safe_text
from allocator.files.reading import read_text, sha256_of
from allocator.orders.approval import check_approved
from allocator.orders.fix_message import (
    PIPE,
    REJECTED,
    SOH,
    FixFormatError,
    Reply,
    decode,
    new_order_single_body,
    order_from_fields,
    order_status_request_body,
    utc_timestamp,
)
from allocator.orders.fix_session import FixSession, QueryFailed, SessionFile, read_session_file
from allocator.orders.ids import Order, build_orders
from allocator.orders.journal import Entry, Journal
from allocator.orders.trade_sheet import MAX_TRADE_FILE_BYTES, manifest_beside, read_trade_sheet

UNANSWERED, NOT_SENT = "UNANSWERED", "NOT_SENT"
FAILED = frozenset({REJECTED, UNANSWERED, NOT_SENT})
REPORT_COLUMNS = ("client_order_id", "symbol", "side", "quantity", "order_type", "limit_price", "time_in_force",
                  "status", "filled_quantity", "average_price", "leaves_quantity", "broker_order_id", "action", "text")

Progress = Callable[[str], None]


class WaitFor(StrEnum):
    """How long to wait after sending: until every order is final (``done``) or answered (``acknowledged``)."""

    ACKNOWLEDGED = "acknowledged"
    DONE = "done"


class Action(StrEnum):
    """What this ``send`` did with an order."""

    SENT = "sent"
    RESENT = "resent"
    SENT_AFTER_CHECK = "sent_after_check"   # was in doubt; the broker did not know it, so it was sent
    CHECKED = "checked"                     # was in doubt or open; the broker's status was asked for
    SKIPPED = "skipped"                     # answered before; not sent again
    HELD = "held"                           # in doubt and the broker did not say: not sent (never blindly)
    NOT_SENT = "not_sent"                   # the session was lost before its turn


@dataclass(frozen=True)
class SendOptions:
    reply_timeout_seconds: float = 30.0
    logon_timeout_seconds: float = 30.0
    resend: bool = False
    wait_for: WaitFor = WaitFor.DONE
    orders_per_second: float | None = None


@dataclass(frozen=True)
class OrderBatch:
    """The orders of one trade list, with the run they came from."""

    orders: tuple[Order, ...]
    run_id: str
    settings: OrdersConfig
    source: Path
    derived_from: str | None = None  # the original run of a list given new order IDs (export --new-ids)


@dataclass(frozen=True)
class Outcome:
    """One order after ``send``: status as the broker last gave it, filled shares, average price."""

    order: Order
    action: Action
    status: str
    filled_quantity: Decimal
    average_price: Decimal | None
    leaves_quantity: Decimal | None
    broker_order_id: str | None
    text: str | None

    @property
    def failed(self) -> bool:
        return self.status in FAILED


@dataclass(frozen=True)
class SendReport:
    session: str
    outcomes: tuple[Outcome, ...]

    @property
    def failed(self) -> tuple[Outcome, ...]:
        return tuple(o for o in self.outcomes if o.failed)


def load_batch(trades_path: Path, config_path: Path | None = None, manifest_path: Path | None = None) -> OrderBatch:
    """The orders of ``trades_path``: a trade list (CSV or JSON) or a FIX file of NewOrderSingle lines. With
    ``orders.require_approval`` the trade list must be the one approved (``allocator.orders.approval``)."""
    from allocator.orders.export import order_settings

    manifest = manifest_beside(trades_path, manifest_path)
    settings = order_settings(config_path, manifest)
    if trades_path.is_file():
        with trades_path.open("rb") as handle:
            head = handle.read(16)
        if head.startswith(b"8=FIX"):
            if manifest is None or sha256_of(trades_path) not in set(manifest.outputs.values()):
                raise DataError(str(trades_path), "an orders.fix file that no run's manifest records (edited, moved, "
                                "or written by export elsewhere): its orders cannot be checked against the run",
                                "send the run's trade list (trades.csv) instead: send builds the same orders from it")
            if settings.require_approval:
                check_approved(trades_path, manifest, None)
            return OrderBatch(orders=_read_fix_orders(trades_path), run_id="", settings=settings, source=trades_path)
    sheet = read_trade_sheet(trades_path, manifest)
    if settings.require_approval:
        check_approved(trades_path, manifest, sheet)
    orders = build_orders(sheet.requests(), sheet.run_id, sheet.as_of, settings)
    return OrderBatch(orders=orders, run_id=sheet.run_id, settings=settings, source=trades_path,
                      derived_from=sheet.derived_from)


def _read_fix_orders(path: Path) -> tuple[Order, ...]:
    orders: list[Order] = []
    seen: set[str] = set()
    text = read_text(path, MAX_TRADE_FILE_BYTES, "order file", expected="FIX",
                     too_large_fix="check that this is the orders.fix file allocate wrote")
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        where = f"{path}: line {number}"
        try:
            order = order_from_fields(decode(line, SOH if SOH in line else PIPE), where)
        except FixFormatError as exc:
            raise DataError(where, str(exc).removeprefix(f"{where}: "),
                            "give the orders.fix file allocate wrote, unedited") from None
        if order.client_order_id in seen:
            raise DataError(where, f"ClOrdID {order.client_order_id} appears twice", "each order needs its own ID")
        seen.add(order.client_order_id)
        orders.append(order)
    return tuple(orders)


def journal_path(batch: OrderBatch, override: Path | None) -> Path:
    if override is not None:
        return override
    if batch.settings.journal is None:
        raise ConfigError("orders.journal", "no order journal is set",
                          "set orders.journal in the config (or pass --journal): it is what stops an order being "
                          "sent twice")
    return batch.settings.journal


@dataclass
class _Plan:
    send: list[Order]
    resend: list[Order]
    query: list[Order]
    skip: list[Order]


def _plan(batch: OrderBatch, journal: Journal, resend: bool) -> _Plan:
    plan = _Plan(send=[], resend=[], query=[], skip=[])
    for order in batch.orders:
        entry = journal.get(order.client_order_id)
        if entry is not None and (changes := entry.differences(order)):
            raise DataError(f"{batch.source}: {order.symbol}",
                            f"order {order.client_order_id} was sent before with different terms "
                            f"({'; '.join(changes)})",
                            "a sent trade list must not be edited; make a new run (new order IDs) instead")
        if entry is None and batch.run_id and (earlier := journal.find(batch.run_id, order.symbol)) is not None:
            raise DataError(f"{batch.source}: {order.symbol}",
                            f"this run's {order.symbol} order was sent before as {earlier.client_order_id}, and "
                            f"now has the ID {order.client_order_id} (orders.id_scheme or id_prefix changed)",
                            "send with the order settings it was first sent with (the run's manifest)")
        if entry is None:
            plan.send.append(order)
        elif resend:
            plan.resend.append(order)
        elif not entry.terminal:  # in doubt, or open at the broker: ask
            plan.query.append(order)
        else:
            plan.skip.append(order)
    return plan


class _Conversation:
    """One logged-on session: status requests, orders, and the replies they bring."""

    def __init__(self, journal: Journal, session: FixSession, run_id: str, progress: Progress) -> None:
        self.journal = journal
        self.session = session
        self.run_id = run_id
        self.progress = progress
        self.actions: dict[str, Action] = {}
        self.unknown: set[str] = set()
        self.heard: set[str] = set()

    def _take(self, timeout: float) -> Reply | QueryFailed | None:
        try:
            item = self.session.inbox.get(timeout=timeout) if timeout > 0 else self.session.inbox.get_nowait()
        except queue.Empty:
            return None
        self.heard.add(item.client_order_id)
        if isinstance(item, QueryFailed):
            self.journal.note(item.client_order_id, "status_request_refused", item.text)
        elif item.unknown_order:
            self.unknown.add(item.client_order_id)
            self.journal.note(item.client_order_id, "unknown_to_broker", item.text)
        else:
            self.journal.apply(item)
        return item

    def _drain(self) -> None:
        while self._take(0.0) is not None:
            pass

    def _wait(self, done: Callable[[], bool], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not done() and (left := deadline - time.monotonic()) > 0:
            self._take(min(left, 0.2))

    def query(self, orders: list[Order], timeout: float) -> list[Order]:
        """Ask about ``orders``; return those in doubt that the broker says it never received."""
        if not orders:
            return []
        asked: list[Order] = []
        for order in orders:
            self.journal.note(order.client_order_id, "status_request")
            self.heard.discard(order.client_order_id)
            if self.session.send("H", order_status_request_body(order)):
                asked.append(order)
            self.actions[order.client_order_id] = Action.CHECKED
        self.progress(f"asked the broker for the status of {len(asked)} order(s) in doubt or open")
        self._wait(lambda: all(o.client_order_id in self.heard for o in asked), timeout)
        lost = []
        for order in orders:
            entry = self.journal.get(order.client_order_id)
            if entry is None or not entry.in_doubt:
                continue
            if order.client_order_id in self.unknown:
                lost.append(order)
            else:
                self.actions[order.client_order_id] = Action.HELD
        return lost

    def send(self, orders: list[tuple[Order, Action]], options: SendOptions) -> list[Order]:
        """Send each order (journal first); returns the orders handed to the engine."""
        interval = 1.0 / options.orders_per_second if options.orders_per_second else 0.0
        handed: list[Order] = []
        next_at = time.monotonic()
        for position, (order, action) in enumerate(orders):
            if not self.session.logged_on:
                self.progress("the session dropped; waiting to log on again")
                if not self.session.wait_logged_on(options.logon_timeout_seconds):
                    for rest, _ in orders[position:]:
                        self.actions[rest.client_order_id] = Action.NOT_SENT
                    self.progress(f"could not log on again; {len(orders) - position} order(s) not sent")
                    break
            if interval:
                self._wait(_never, next_at - time.monotonic())  # replies are processed while pacing
                next_at = max(next_at, time.monotonic()) + interval
            resend = action is Action.RESENT
            self.journal.record_pending(order, self.run_id)
            live = replace(order, transact_time=datetime.now(UTC))
            body = [(60, utc_timestamp(live.transact_time)) if tag == 60 else (tag, value)
                    for tag, value in new_order_single_body(live)]
            if self.session.send("D", body, poss_resend=resend):
                self.journal.mark_sent(order.client_order_id, resend)
                handed.append(order)
            self.actions[order.client_order_id] = action
            self._drain()
        return handed

    def await_replies(self, orders: list[Order], options: SendOptions) -> None:
        def settled(order: Order) -> bool:
            entry = self.journal.get(order.client_order_id)
            if entry is None or entry.in_doubt:
                return False
            return entry.terminal or options.wait_for is WaitFor.ACKNOWLEDGED

        if orders:
            self.progress(f"waiting up to {options.reply_timeout_seconds:g} s for the broker's replies")
        self._wait(lambda: all(settled(o) for o in orders), options.reply_timeout_seconds)
        self._drain()


def _never() -> bool:
    return False


def _silent(_: str) -> None:
    return None


def send_orders(batch: OrderBatch, session_path: Path, journal_file: Path, options: SendOptions,
                progress: Progress | None = None) -> SendReport:
    """Send ``batch`` over the FIX session in ``session_path``, at most once per order (see the module doc)."""
    say: Progress = progress or _silent
    session_file: SessionFile = read_session_file(session_path)
    with Journal(journal_file) as journal:
        plan = _plan(batch, journal, options.resend)
        actions: dict[str, Action] = {o.client_order_id: Action.SKIPPED for o in plan.skip}
        if plan.send or plan.resend or plan.query:
            session = FixSession(session_file)
            session.start(options.logon_timeout_seconds)
            say(f"logged on: {session_file.name} at {session_file.address}")
            try:
                talk = _Conversation(journal, session, batch.run_id, say)
                lost = talk.query(plan.query, options.reply_timeout_seconds)
                to_send = ([(o, Action.SENT_AFTER_CHECK) for o in lost] + [(o, Action.SENT) for o in plan.send]
                           + [(o, Action.RESENT) for o in plan.resend])
                order_rank = {o.client_order_id: i for i, o in enumerate(batch.orders)}
                to_send.sort(key=lambda pair: order_rank[pair[0].client_order_id])
                handed = talk.send(to_send, options)
                say(f"sent {len(handed)} order(s)" + (f", {len(lost)} after checking with the broker" if lost else "")
                    + (f", {len(plan.skip)} skipped (answered before)" if plan.skip else ""))
                talk.await_replies(handed, options)
                actions.update(talk.actions)
            finally:
                session.stop()
        elif plan.skip:
            say(f"nothing to send: all {len(plan.skip)} order(s) were answered before (--resend sends them again)")
        outcomes = tuple(_outcome(order, journal.get(order.client_order_id), actions.get(order.client_order_id,
                                                                                          Action.NOT_SENT))
                         for order in batch.orders)
    return SendReport(session=session_file.name, outcomes=outcomes)


def _outcome(order: Order, entry: Entry | None, action: Action) -> Outcome:
    if entry is None:
        return Outcome(order=order, action=Action.NOT_SENT, status=NOT_SENT, filled_quantity=Decimal(0),
                       average_price=None, leaves_quantity=None, broker_order_id=None, text=None)
    return Outcome(order=order, action=action, status=UNANSWERED if entry.in_doubt else entry.status,
                   filled_quantity=entry.filled_quantity, average_price=entry.average_price,
                   leaves_quantity=entry.leaves_quantity, broker_order_id=entry.broker_order_id, text=entry.text)


def execution_report_csv(report: SendReport) -> bytes:
    """One row per order: final status, filled quantity (shares), average price; text cells spreadsheet-safe."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(REPORT_COLUMNS)
    for o in report.outcomes:
        order = o.order
        writer.writerow([safe_text(order.client_order_id), safe_text(order.symbol), order.side,
                         quantity_text(order.quantity), order.order_type.value,
                         "" if order.limit_price is None else str(order.limit_price), order.time_in_force.value,
                         o.status, quantity_text(o.filled_quantity),
                         "" if o.average_price is None else str(o.average_price),
                         "" if o.leaves_quantity is None else quantity_text(o.leaves_quantity),
                         safe_text(o.broker_order_id or ""), o.action.value, safe_text(o.text or "")])
    return buffer.getvalue().encode("utf-8")


def report_lines(report: SendReport) -> list[str]:
    """The execution report as a terminal table: order, symbol, side, quantity, status, filled, average price."""
    lines = [f"{'order':<28} {'symbol':<10} {'side':<4} {'quantity':>10} {'status':<17} {'filled':>10} "
             f"{'avg price':>11}  action"]
    for o in report.outcomes:
        average = "" if o.average_price is None else str(o.average_price)
        lines.append(f"{o.order.client_order_id:<28} {o.order.symbol:<10} {o.order.side:<4} "
                     f"{quantity_text(o.order.quantity):>10} {o.status:<17} {quantity_text(o.filled_quantity):>10} "
                     f"{average:>11}  {o.action.value}")
    return lines
