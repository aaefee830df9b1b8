"""``allocate send`` against a simulated broker (a QuickFIX acceptor that validates every message against the FIX 4.4
data dictionary): every order arrives once and valid; fills and rejections reach the execution report and the
exit code; sending again, resending, and resuming after the sender is killed half-way never send an order twice."""

from __future__ import annotations

import csv
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest

pytest.importorskip("quickfix", reason="the quickfix package (allocate[fix], installed by make test) is missing")

from click.testing import CliRunner

from allocator.cli import main
from allocator.orders.journal import Journal
from allocator.orders.send import load_batch
from tests.conftest import BASE_CONFIG, ROOT
from tests.helpers import read_csv
from tests.orders.fix_broker import Broker, fields_of, free_port

# slow, and on one xdist worker: every test starts a simulated broker and allocate send in processes of their own
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("fix")]


@pytest.fixture
def run_dir(example_run_every_format: Path, tmp_path: Path) -> Path:
    """A private copy of the run's trade list, order file and manifest (reports are written beside them)."""
    folder = tmp_path / "run"
    folder.mkdir()
    for name in ("trades.csv", "orders.fix", "manifest.json"):
        shutil.copy(example_run_every_format / name, folder / name)
    return folder


@pytest.fixture
def trades(run_dir: Path) -> list[dict[str, str]]:
    return read_csv(run_dir / "trades.csv")


@pytest.fixture
def client_ids(run_dir: Path) -> dict[str, str]:
    batch = load_batch(run_dir / "trades.csv")
    return {o.symbol: o.client_order_id for o in batch.orders}


@pytest.fixture
def brokers(tmp_path: Path) -> Iterator[list[Broker]]:
    started: list[Broker] = []
    yield started
    for broker in started:
        broker.stop()


def start_broker(brokers: list[Broker], trades: list[dict[str, str]], tmp_path: Path, unknown: tuple[str, ...] = (),
                 **behaviour: set[str]) -> Broker:
    prices = {t["symbol"]: Decimal(t["price"]) for t in trades if t["symbol"] not in unknown}
    broker = Broker(prices=prices, **behaviour)
    broker.start(tmp_path / f"broker-log-{len(brokers)}")
    brokers.append(broker)
    return broker


def send_command(run_dir: Path, broker_port_or_broker: Broker | int, *extra: str | Path,
                 trades_file: str = "trades.csv") -> list[str]:
    if isinstance(broker_port_or_broker, Broker):
        session = broker_port_or_broker.session_config(run_dir)
    else:
        session = Broker.session_config(_PortOnly(broker_port_or_broker), run_dir)  # type: ignore[arg-type]
    return [sys.executable, "-m", "allocator", "send", str(run_dir / trades_file), "--fix-config", str(session),
            "--journal", str(run_dir / "journal.sqlite"), "--timeout", "20", "--logon-timeout", "20",
            *[str(x) for x in extra]]


class _PortOnly:
    def __init__(self, port: int) -> None:
        self.port = port


def send(run_dir: Path, broker: Broker | int, *extra: str | Path, trades_file: str = "trades.csv",
         timeout: float = 90) -> subprocess.CompletedProcess[str]:
    return subprocess.run(send_command(run_dir, broker, *extra, trades_file=trades_file), capture_output=True,
                          text=True, timeout=timeout, cwd=ROOT, check=False)


def report(run_dir: Path) -> dict[str, dict[str, str]]:
    return {row["symbol"]: row for row in read_csv(run_dir / "executions.csv")}


def rejected_symbol(trades: list[dict[str, str]]) -> str:
    """The buy the test broker rejects as an unknown symbol: the list's first buy."""
    return next(t["symbol"] for t in trades if t["side"] == "BUY")


def large_symbol(trades: list[dict[str, str]]) -> str:
    """A buy of at least 200 shares (the test broker fills those in two prices), other than the rejected one and
    TLT (which a test keeps acknowledged only)."""
    skip = {rejected_symbol(trades), "TLT"}
    return next(t["symbol"] for t in trades if t["side"] == "BUY" and int(t["quantity"]) >= 200
                and t["symbol"] not in skip)


def average(fills: list[tuple[Decimal, Decimal]]) -> Decimal:
    total = sum((q for q, _ in fills), Decimal(0))
    return (sum((q * p for q, p in fills), Decimal(0)) / total).quantize(Decimal("0.000001"), ROUND_HALF_UP)


def test_every_order_arrives_once_valid_and_the_report_has_the_fills_and_the_rejection(
        run_dir: Path, trades: list[dict[str, str]], client_ids: dict[str, str], brokers: list[Broker],
        tmp_path: Path) -> None:
    unknown = rejected_symbol(trades)
    broker = start_broker(brokers, trades, tmp_path, unknown=(unknown,))
    ijr = next(t for t in trades if t["symbol"] == unknown)
    assert ijr["side"] == "BUY"
    result = send(run_dir, broker)
    assert result.returncode == 6, result.stderr
    assert result.stderr.splitlines()[-2:] == [
        f"Error: FIX.4.4:ALLOCATE->BROKER: 1 of {len(trades)} order(s) were rejected or left unanswered; see "
        f"{run_dir / 'executions.csv'}",
        f"  - {client_ids[unknown]} BUY {ijr['quantity']} {unknown} market DAY: REJECTED (unknown symbol {unknown})"]
    assert broker.arrivals() == {client_ids[t["symbol"]]: 1 for t in trades}
    assert broker.session_rejects == [] and broker.invalid == []
    for raw in broker.received:
        fields = fields_of(raw)
        trade = next(t for t in trades if t["symbol"] == fields[55])
        assert (fields[49], fields[56], fields[1], fields[21], fields[40], fields[59], fields[15]) == (
            "ALLOCATE", "BROKER", "U1234567", "1", "1", "0", "USD")
        assert fields[54] == ("1" if trade["side"] == "BUY" else "2") and fields[38] == trade["quantity"]
        assert 97 not in fields and 43 not in fields
    rows = report(run_dir)
    assert [r["symbol"] for r in read_csv(run_dir / "executions.csv")] == [t["symbol"] for t in trades]
    for trade in trades:
        row = rows[trade["symbol"]]
        assert row["client_order_id"] == client_ids[trade["symbol"]] and row["action"] == "sent"
        if trade["symbol"] == unknown:
            assert (row["status"], row["filled_quantity"], row["average_price"], row["text"]) == (
                "REJECTED", "0", "", f"unknown symbol {unknown}")
            continue
        fills = [(q, p) for c, q, p in broker.fills if c == row["client_order_id"]]
        assert row["status"] == "FILLED" and Decimal(row["filled_quantity"]) == Decimal(trade["quantity"])
        assert sum(q for q, _ in fills) == Decimal(trade["quantity"])
        assert Decimal(row["average_price"]) == average(fills)
        assert row["leaves_quantity"] == "0" and row["broker_order_id"].startswith("B")
    large = large_symbol(trades)
    assert len({p for c, _, p in broker.fills if c == client_ids[large]}) == 2  # large orders fill in two prices


def test_sending_the_same_list_twice_sends_each_order_once(run_dir: Path, trades: list[dict[str, str]],
                                                           client_ids: dict[str, str], brokers: list[Broker],
                                                           tmp_path: Path) -> None:
    broker = start_broker(brokers, trades, tmp_path)
    first = send(run_dir, broker)
    assert first.returncode == 0, first.stderr
    second = send(run_dir, broker)
    assert second.returncode == 0, second.stderr
    assert (f"nothing to send: all {len(trades)} order(s) were answered before (--resend sends them again)"
            in second.stderr)
    assert {r["action"] for r in report(run_dir).values()} == {"skipped"}
    assert {r["status"] for r in report(run_dir).values()} == {"FILLED"}
    third = send(run_dir, broker, trades_file="orders.fix")  # the order file carries the same IDs
    assert third.returncode == 0, third.stderr
    assert broker.arrivals() == {client_ids[t["symbol"]]: 1 for t in trades}


def test_a_sender_killed_half_way_resumes_without_sending_any_order_twice(
        run_dir: Path, trades: list[dict[str, str]], client_ids: dict[str, str], brokers: list[Broker],
        tmp_path: Path) -> None:
    half = len(trades) // 2 + 1  # past the middle of the list
    broker = start_broker(brokers, trades, tmp_path)
    sender = subprocess.Popen(send_command(run_dir, broker, "--rate", "20"), stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True, cwd=ROOT)

    def kill_at_half(count: int, _: str) -> None:
        if count == half:  # the order has arrived; the sender dies before the broker's reply can reach it
            os.kill(sender.pid, signal.SIGKILL)

    broker.on_order = kill_at_half
    sender.communicate(timeout=90)
    assert sender.returncode == -signal.SIGKILL
    first = broker.arrivals()
    assert half <= len(first) < len(trades) and set(first.values()) == {1}
    killed_at = fields_of(broker.received[half - 1])[11]
    with Journal(run_dir / "journal.sqlite") as journal:
        entry = journal.get(killed_at)
        assert entry is not None and entry.in_doubt  # sent, but its acknowledgement was never recorded
    broker.on_order = None
    assert broker.logged_out.wait(10)

    resumed = send(run_dir, broker)
    assert resumed.returncode == 0, resumed.stderr
    assert broker.arrivals() == {client_ids[t["symbol"]]: 1 for t in trades}
    assert killed_at in {fields_of(raw)[11] for raw in broker.status_requests}
    rows = {r["client_order_id"]: r for r in read_csv(run_dir / "executions.csv")}
    assert rows[killed_at]["action"] == "checked" and rows[killed_at]["status"] == "FILLED"
    assert {r["status"] for r in rows.values()} == {"FILLED"}
    not_reached = [client_ids[t["symbol"]] for t in trades if client_ids[t["symbol"]] not in first]
    assert {rows[c]["action"] for c in not_reached} == {"sent"}
    assert broker.session_rejects == [] and broker.invalid == []


def test_an_order_recorded_but_never_sent_is_sent_once_after_asking_the_broker(
        run_dir: Path, trades: list[dict[str, str]], client_ids: dict[str, str], brokers: list[Broker],
        tmp_path: Path) -> None:
    batch = load_batch(run_dir / "trades.csv")
    with Journal(run_dir / "journal.sqlite") as journal:  # a sender killed between recording and sending
        journal.record_pending(batch.orders[0], batch.run_id)
    broker = start_broker(brokers, trades, tmp_path)
    result = send(run_dir, broker)
    assert result.returncode == 0, result.stderr
    first = batch.orders[0].client_order_id
    assert [fields_of(raw)[11] for raw in broker.status_requests] == [first]
    assert broker.arrivals() == {client_ids[t["symbol"]]: 1 for t in trades}
    rows = {r["client_order_id"]: r for r in read_csv(run_dir / "executions.csv")}
    assert (rows[first]["action"], rows[first]["status"]) == ("sent_after_check", "FILLED")


def test_resend_sends_again_flagged_poss_resend(run_dir: Path, trades: list[dict[str, str]],
                                                client_ids: dict[str, str], brokers: list[Broker],
                                                tmp_path: Path) -> None:
    broker = start_broker(brokers, trades, tmp_path)
    assert send(run_dir, broker).returncode == 0
    again = send(run_dir, broker, "--resend")
    assert again.returncode == 0, again.stderr
    assert broker.arrivals() == {client_ids[t["symbol"]]: 2 for t in trades}
    second_half = [fields_of(raw) for raw in broker.received[len(trades):]]
    assert {f[97] for f in second_half} == {"Y"}
    assert {(r["action"], r["status"]) for r in report(run_dir).values()} == {("resent", "FILLED")}


def test_partially_filled_and_working_orders_are_reported_as_they_stand(
        run_dir: Path, trades: list[dict[str, str]], client_ids: dict[str, str], brokers: list[Broker],
        tmp_path: Path) -> None:
    large = large_symbol(trades)
    broker = start_broker(brokers, trades, tmp_path, partial={large}, ack_only={"TLT"})
    result = send(run_dir, broker, "--timeout", "1")
    assert result.returncode == 0, result.stderr  # working orders are neither rejected nor unanswered
    rows = report(run_dir)
    ordered = int(next(t["quantity"] for t in trades if t["symbol"] == large))
    filled = int(rows[large]["filled_quantity"])
    assert rows[large]["status"] == "PARTIALLY_FILLED" and 0 < filled < ordered
    assert filled + int(rows[large]["leaves_quantity"]) == ordered
    assert (rows["TLT"]["status"], rows["TLT"]["filled_quantity"]) == ("ACKNOWLEDGED", "0")
    assert rows["SPY"]["status"] == "FILLED"
    # sending again asks about the open orders (to refresh their fills) and sends nothing
    again = send(run_dir, broker, "--timeout", "5")
    assert again.returncode == 0, again.stderr
    assert sorted(fields_of(raw)[11] for raw in broker.status_requests) == sorted([client_ids[large],
                                                                                  client_ids["TLT"]])
    assert broker.arrivals() == {client_ids[t["symbol"]]: 1 for t in trades}
    rows = report(run_dir)
    assert (rows[large]["action"], rows[large]["status"]) == ("checked", "PARTIALLY_FILLED")
    assert rows["SPY"]["action"] == "skipped"


def test_unanswered_orders_fail_and_are_never_resent_blindly(run_dir: Path, trades: list[dict[str, str]],
                                                             client_ids: dict[str, str], brokers: list[Broker],
                                                             tmp_path: Path) -> None:
    broker = start_broker(brokers, trades, tmp_path, silent={"QQQ"})
    result = send(run_dir, broker, "--timeout", "1")
    assert result.returncode == 6
    qqq = next(t for t in trades if t["symbol"] == "QQQ")
    assert f"  - {client_ids['QQQ']} {qqq['side']} {qqq['quantity']} QQQ market DAY: UNANSWERED" in result.stderr
    assert report(run_dir)["QQQ"]["status"] == "UNANSWERED"
    again = send(run_dir, broker, "--timeout", "1")
    assert again.returncode == 6
    assert (report(run_dir)["QQQ"]["action"], report(run_dir)["QQQ"]["status"]) == ("held", "UNANSWERED")
    assert broker.arrivals()[client_ids["QQQ"]] == 1
    assert [fields_of(raw)[11] for raw in broker.status_requests] == [client_ids["QQQ"]]


def test_wait_for_acknowledged_stops_once_every_order_is_answered(run_dir: Path, trades: list[dict[str, str]],
                                                                  brokers: list[Broker], tmp_path: Path) -> None:
    broker = start_broker(brokers, trades, tmp_path, ack_only={t["symbol"] for t in trades})
    # with --wait-for done this would wait the full 600 s and hit the 60 s test timeout
    result = send(run_dir, broker, "--wait-for", "acknowledged", "--timeout", "600", timeout=60)
    assert result.returncode == 0, result.stderr
    assert {r["status"] for r in report(run_dir).values()} == {"ACKNOWLEDGED"}


def test_limit_orders_reach_the_broker_with_their_prices(run_dir: Path, trades: list[dict[str, str]],
                                                         brokers: list[Broker], tmp_path: Path) -> None:
    config = tmp_path / "limit.yaml"
    config.write_text(f"extends: {BASE_CONFIG}\norders: {{order_type: limit, limit_offset_bps: 10, "
                      "time_in_force: CLS}\n")
    broker = start_broker(brokers, trades, tmp_path)
    broker.prices = {s: p * Decimal("1.01") for s, p in broker.prices.items()}  # the market moved up 1%
    result = send(run_dir, broker, "-c", config)
    assert result.returncode == 0, result.stderr
    rows = report(run_dir)
    for raw in broker.received:
        fields = fields_of(raw)
        assert (fields[40], fields[59]) == ("2", "7")
        row = rows[fields[55]]
        assert row["limit_price"] == fields[44] and row["order_type"] == "limit"
        if fields[54] == "1":  # buys fill at their limit, never above it
            assert Decimal(row["average_price"]) == Decimal(fields[44])
        else:
            assert Decimal(row["average_price"]) >= Decimal(fields[44])
    assert broker.session_rejects == [] and broker.invalid == []


def test_no_logon_is_an_error_and_records_no_order(run_dir: Path) -> None:
    result = send(run_dir, free_port(), "--logon-timeout", "1")
    assert result.returncode == 6
    assert "could not log on to 127.0.0.1:" in result.stderr and "within 1 s" in result.stderr
    assert "no order was sent" in result.stderr
    with sqlite3.connect(run_dir / "journal.sqlite") as db:
        assert db.execute("SELECT COUNT(*) FROM orders").fetchone() == (0,)


def test_an_edited_trade_list_is_refused_after_it_was_sent(run_dir: Path, trades: list[dict[str, str]],
                                                           brokers: list[Broker], tmp_path: Path) -> None:
    broker = start_broker(brokers, trades, tmp_path)
    assert send(run_dir, broker).returncode == 0
    path = run_dir / "trades.csv"
    sold = int(next(t["quantity"] for t in trades if t["symbol"] == "SPY"))
    original = path.read_text()
    path.write_text(original.replace(f"SPY,SELL,{sold},", f"SPY,SELL,{sold - 3},"))
    result = send(run_dir, broker)
    assert result.returncode == 4
    assert "edited after the run, or not its trade list" in result.stderr  # refused before the journal is opened
    # under another name too: the manifest records no SHA-256 of it, whatever it is called
    path.write_text(original)
    renamed = run_dir / "edited.csv"
    renamed.write_text(original.replace(f"SPY,SELL,{sold},", f"SPY,SELL,{sold - 3},"))
    result = subprocess.run(send_command(run_dir, broker, trades_file=renamed.name), capture_output=True, text=True,
                            timeout=120, cwd=ROOT, check=False)
    assert result.returncode == 4
    assert result.stderr.startswith(f"Error: {renamed}: edited after the run, or not its trade list: no SHA-256 of "
                                    f"it is among the outputs {run_dir / 'manifest.json'} records (its orders would "
                                    "go out under the run's order IDs)")
    assert sum(broker.arrivals().values()) == len(trades)


def test_session_file_and_journal_settings_are_checked(run_dir: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    two = tmp_path / "two.cfg"
    two.write_text("[DEFAULT]\nSocketConnectHost=127.0.0.1\nSocketConnectPort=9000\n[SESSION]\nBeginString=FIX.4.4\n"
                   "SenderCompID=A\nTargetCompID=B\n[SESSION]\nBeginString=FIX.4.2\nSenderCompID=A\nTargetCompID=C\n")
    result = runner.invoke(main, ["send", str(run_dir / "trades.csv"), "--fix-config", str(two), "--journal",
                                  str(tmp_path / "j.sqlite")])
    assert result.exit_code == 3
    assert result.stderr == (f"Error: {two}: defines 2 [SESSION] sections; allocate send uses exactly one; keep the "
                             "broker's order session only\n")
    bad = tmp_path / "bad.cfg"
    bad.write_text("[SESSION]\nBeginString=FIX.4.2\nConnectionType=acceptor\nSenderCompID=A\nTargetCompID=B\n"
                   "SocketConnectHost=h\nSocketConnectPort=x\n")
    result = runner.invoke(main, ["send", str(run_dir / "trades.csv"), "--fix-config", str(bad), "--journal",
                                  str(tmp_path / "j.sqlite")])
    assert result.exit_code == 3
    assert result.stderr.splitlines() == [
        f"Error: {bad}: not a usable FIX 4.4 initiator session; fix the keys below",
        "  - BeginString: 'FIX.4.2'; allocate sends FIX.4.4 orders",
        "  - ConnectionType: 'acceptor'; allocate send connects as the initiator",
        "  - SocketConnectPort: 'x' is not a port number"]
    no_journal = tmp_path / "no_journal.yaml"
    no_journal.write_text(f"extends: {BASE_CONFIG}\norders: {{journal: null}}\n")
    result = runner.invoke(main, ["send", str(run_dir / "trades.csv"), "--fix-config", str(two), "-c",
                                  str(no_journal)])
    assert result.exit_code == 3
    assert result.stderr.startswith("Error: orders.journal: no order journal is set; set orders.journal")


def test_send_has_help_with_examples() -> None:
    result = CliRunner().invoke(main, ["send", "--help"])
    assert result.exit_code == 0 and "allocate send out/trades.csv --fix-config broker.cfg" in result.output


def test_the_report_is_spreadsheet_safe(run_dir: Path) -> None:
    from datetime import UTC, datetime

    from allocator.config.schema import OrderType, TimeInForce
    from allocator.orders.ids import Order
    from allocator.orders.send import Action, Outcome, SendReport, execution_report_csv

    order = Order(client_order_id="X1", symbol="=CMD()", side="BUY", quantity=Decimal(1),
                  order_type=OrderType.MARKET, limit_price=None, time_in_force=TimeInForce.DAY, account=None,
                  destination=None, currency="USD", transact_time=datetime(2026, 1, 16, tzinfo=UTC))
    outcome = Outcome(order=order, action=Action.SENT, status="REJECTED", filled_quantity=Decimal(0),
                      average_price=None, leaves_quantity=None, broker_order_id="@B1", text="+unknown")
    rows = list(csv.reader(execution_report_csv(SendReport("S", (outcome,))).decode().splitlines()))
    assert rows[1][1] == "'=CMD()" and rows[1][11] == "'@B1" and rows[1][13] == "'+unknown"


def test_the_readme_session_file_is_read_as_documented(tmp_path: Path) -> None:
    from allocator.orders.fix_session import fix44_dictionary, read_session_file

    text = (ROOT / "docs" / "orders.md").read_text()
    block = text[text.index("```ini\n") + len("```ini\n"):]
    session = tmp_path / "broker.cfg"
    session.write_text(block[:block.index("```")])
    parsed = read_session_file(session)
    assert (parsed.name, parsed.address) == ("FIX.4.4:YOURFIRM->BROKER", "fix-uat.broker.example:9878")
    assert parsed.get("FileStorePath") == str(tmp_path / "fix" / "store")
    assert parsed.get("DataDictionary") == str(fix44_dictionary())
    assert parsed.get("HeartBtInt") == "30" and parsed.get("ConnectionType") == "initiator"


def test_an_interrupted_sender_logs_out_says_how_to_resume_and_resumes_once(
        run_dir: Path, trades: list[dict[str, str]], client_ids: dict[str, str], brokers: list[Broker],
        tmp_path: Path) -> None:
    broker = start_broker(brokers, trades, tmp_path)
    sender = subprocess.Popen(send_command(run_dir, broker, "--rate", "20"), stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True, cwd=ROOT)
    broker.on_order = lambda count, _: os.kill(sender.pid, signal.SIGINT) if count == 4 else None
    _, stderr = sender.communicate(timeout=90)
    assert sender.returncode == 130
    assert stderr.splitlines()[-1] == ("Error: stopped by SIGINT; the journal holds every order sent so far: run the "
                                       "same command again to finish without sending any order twice")
    assert broker.logged_out.wait(10)
    broker.on_order = None
    assert 4 <= sum(broker.arrivals().values()) < len(trades)
    resumed = send(run_dir, broker)
    assert resumed.returncode == 0, resumed.stderr
    assert broker.arrivals() == {client_ids[t["symbol"]]: 1 for t in trades}


def test_orders_the_fix_engine_would_replay_from_its_store_are_suppressed(
        run_dir: Path, trades: list[dict[str, str]], client_ids: dict[str, str], brokers: list[Broker],
        tmp_path: Path) -> None:
    broker = start_broker(brokers, trades, tmp_path, ack_only={"TLT"})
    assert send(run_dir, broker, "--timeout", "1").returncode == 0
    assert broker.logged_out.wait(10)
    broker.rewind_incoming(2)  # the broker lost every message after the first logon, orders included
    again = send(run_dir, broker, "--timeout", "10")  # TLT is open, so this logs on and asks about it
    assert again.returncode == 0, again.stderr
    gap_fills = [fields_of(raw) for raw in broker.admin_received if fields_of(raw).get(35) == "4"]
    assert gap_fills and all(f.get(123) == "Y" for f in gap_fills)
    assert broker.arrivals() == {client_ids[t["symbol"]]: 1 for t in trades}  # no order replayed by the engine
    assert [fields_of(raw)[11] for raw in broker.status_requests] == [client_ids["TLT"]]


def test_changing_the_id_scheme_after_sending_cannot_send_a_run_twice(
        run_dir: Path, trades: list[dict[str, str]], client_ids: dict[str, str], brokers: list[Broker],
        tmp_path: Path) -> None:
    broker = start_broker(brokers, trades, tmp_path)
    assert send(run_dir, broker).returncode == 0
    hashed = tmp_path / "hashed.yaml"
    hashed.write_text(f"extends: {BASE_CONFIG}\norders: {{id_scheme: hashed}}\n")
    result = send(run_dir, broker, "-c", hashed)
    assert result.returncode == 4
    assert f"this run's SPY order was sent before as {client_ids['SPY']}, and now has the ID AL" in result.stderr
    assert "(orders.id_scheme or id_prefix changed)" in result.stderr
    assert sum(broker.arrivals().values()) == len(trades)
