"""The order journal: recorded before sending, replies applied once each, never regressing, one sender at a time."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from allocator.config.schema import OrderType, TimeInForce
from allocator.errors import OrderError
from allocator.orders.fix_message import Reply
from allocator.orders.ids import Order
from allocator.orders.journal import PENDING, SENT, Journal

RUN = "e" * 64


def order(symbol: str = "SPY", quantity: str = "153", **changes: object) -> Order:
    values: dict[str, object] = dict(client_order_id=f"AL-{symbol}", symbol=symbol, side="SELL",
                                     quantity=Decimal(quantity), order_type=OrderType.MARKET, limit_price=None,
                                     time_in_force=TimeInForce.DAY, account="U1", destination=None, currency="USD",
                                     transact_time=datetime(2026, 1, 16, 21, tzinfo=UTC))
    values.update(changes)
    return Order(**values)  # type: ignore[arg-type]


def reply(status: str, exec_id: str, cum: str = "0", average: str | None = None, **changes: object) -> Reply:
    values: dict[str, object] = dict(client_order_id="AL-SPY", exec_id=exec_id, status=status,
                                     cum_quantity=Decimal(cum), average_price=None if average is None else
                                     Decimal(average), leaves_quantity=Decimal(153) - Decimal(cum),
                                     broker_order_id="B1")
    values.update(changes)
    return Reply(**values)  # type: ignore[arg-type]


def test_an_order_is_in_doubt_from_recording_until_the_broker_answers(tmp_path: Path) -> None:
    with Journal(tmp_path / "j.sqlite") as journal:
        assert journal.get("AL-SPY") is None
        journal.record_pending(order(), RUN)
        entry = journal.get("AL-SPY")
        assert entry is not None and entry.status == PENDING and entry.in_doubt and entry.send_count == 0
        journal.mark_sent("AL-SPY", resend=False)
        entry = journal.get("AL-SPY")
        assert entry is not None and entry.status == SENT and entry.in_doubt and entry.send_count == 1
        journal.apply(reply("ACKNOWLEDGED", "E1"))
        entry = journal.get("AL-SPY")
        assert entry is not None and entry.status == "ACKNOWLEDGED" and not entry.in_doubt and not entry.terminal


def test_fills_accumulate_and_a_report_seen_twice_changes_nothing(tmp_path: Path) -> None:
    with Journal(tmp_path / "j.sqlite") as journal:
        journal.record_pending(order(), RUN)
        journal.mark_sent("AL-SPY", resend=False)
        journal.apply(reply("ACKNOWLEDGED", "E1"))
        journal.apply(reply("PARTIALLY_FILLED", "E2", cum="61", average="694.17"))
        journal.apply(reply("FILLED", "E3", cum="153", average="694.176"))
        journal.apply(reply("PARTIALLY_FILLED", "E2", cum="61", average="694.17"))  # resent duplicate (PossDup)
        entry = journal.get("AL-SPY")
        assert entry is not None
        assert (entry.status, entry.filled_quantity, entry.average_price, entry.leaves_quantity) == (
            "FILLED", Decimal(153), Decimal("694.176"), Decimal(0))
        # a late, stale working report does not undo a final status or shrink the fills
        journal.apply(reply("ACKNOWLEDGED", "E4"))
        entry = journal.get("AL-SPY")
        assert entry is not None and entry.status == "FILLED" and entry.filled_quantity == 153
        # the reject of a resent duplicate does not undo an accepted order
        journal.apply(reply("REJECTED", "E5", text="duplicate ClOrdID"))
        entry = journal.get("AL-SPY")
        assert entry is not None and entry.status == "FILLED"


def test_a_reject_is_final_and_an_unknown_order_answer_changes_no_status(tmp_path: Path) -> None:
    with Journal(tmp_path / "j.sqlite") as journal:
        journal.record_pending(order(), RUN)
        journal.mark_sent("AL-SPY", resend=False)
        journal.apply(reply("REJECTED", None, text="unknown symbol", broker_order_id=None))  # type: ignore[arg-type]
        entry = journal.get("AL-SPY")
        assert entry is not None and entry.status == "REJECTED" and entry.terminal and entry.text == "unknown symbol"
        journal.record_pending(order("IWM", client_order_id="AL-IWM"), RUN)
        journal.apply(Reply(client_order_id="AL-IWM", exec_id="E9", status="REJECTED", unknown_order=True))
        entry = journal.get("AL-IWM")
        assert entry is not None and entry.status == PENDING
        assert journal.apply(Reply(client_order_id="NOT-OURS", exec_id="E10", status="FILLED")) is None


def test_a_resend_leaves_the_answered_status_and_counts_the_send(tmp_path: Path) -> None:
    with Journal(tmp_path / "j.sqlite") as journal:
        journal.record_pending(order(), RUN)
        journal.mark_sent("AL-SPY", resend=False)
        journal.apply(reply("FILLED", "E1", cum="153", average="694.17"))
        journal.record_pending(order(), RUN)
        journal.mark_sent("AL-SPY", resend=True)
        entry = journal.get("AL-SPY")
        assert entry is not None and entry.status == "FILLED" and entry.send_count == 2


def test_the_journal_survives_the_process_and_records_every_event(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite"
    with Journal(path) as journal:
        journal.record_pending(order(), RUN)
    # a process that dies between recording and sending: the next one finds the order in doubt
    with Journal(path) as journal:
        entry = journal.get("AL-SPY")
        assert entry is not None and entry.in_doubt
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT kind FROM events").fetchall() == [("pending",)]
        assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)


def test_differences_name_every_changed_term(tmp_path: Path) -> None:
    with Journal(tmp_path / "j.sqlite") as journal:
        journal.record_pending(order(), RUN)
        entry = journal.get("AL-SPY")
        assert entry is not None
        assert entry.differences(order()) == []
        assert entry.differences(order(quantity="150", side="BUY")) == ["side SELL -> BUY", "quantity 153 -> 150"]
        assert entry.differences(order(order_type=OrderType.LIMIT, limit_price=Decimal("690"))) == [
            "order_type market -> limit", "limit_price None -> 690"]


def test_only_one_sender_may_use_a_journal(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite"
    with Journal(path):
        other = subprocess.run([sys.executable, "-c", "from pathlib import Path; from allocator.orders.journal import "
                                f"Journal; Journal(Path({str(path)!r}))"], capture_output=True, text=True, check=False)
        assert other.returncode != 0 and "another allocate send is using this journal" in other.stderr
    Journal(path).close()  # free again once the first one closed


def test_a_file_that_is_not_a_journal_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("not a database, " * 100)
    with pytest.raises(OrderError, match="not a usable order journal"):
        Journal(path)
