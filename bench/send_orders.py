"""Throughput of ``allocate send`` against the simulated broker of the tests (a QuickFIX acceptor on 127.0.0.1).

Usage: python bench/send_orders.py [N ...]   (default 100 1000 orders)

For each N: a synthetic trade list of N symbols (trades.json), one ``allocate send`` in a subprocess with a fresh
journal, timed from start to exit; then a second ``send`` of the same list (nothing sent, every order skipped).
Reports orders per second for the send phase (from the sender's own progress lines) and the wall time of each run.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.orders.fix_broker import Broker  # noqa: E402


def trade_list(folder: Path, n: int) -> Path:
    trades = [{"symbol": f"S{i:05d}", "side": "BUY" if i % 2 else "SELL", "quantity": str(100 + i % 300),
               "price": f"{20 + i % 500}.25", "notional": "0.00", "current_quantity": "0", "target_quantity": "0",
               "current_weight": "0", "target_weight": "0", "estimated_cost": "0.00", "reason": "rebalance"}
              for i in range(n)]
    path = folder / "trades.json"
    path.write_text(json.dumps({"schema": "allocate.trades/1", "run_id": "f" * 64, "as_of": "2026-01-16",
                                "trades": trades}))
    return path


def timed_send(trades: Path, session: Path, journal: Path) -> tuple[float, list[tuple[float, str]]]:
    started = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-m", "allocator", "send", str(trades), "--fix-config", str(session),
                                "--journal", str(journal), "--timeout", "120"], stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True, cwd=ROOT)
    assert process.stderr is not None
    lines = [(time.perf_counter() - started, line.rstrip()) for line in process.stderr]
    process.wait()
    if process.returncode != 0:
        raise SystemExit(f"send failed ({process.returncode}): {lines}")
    return time.perf_counter() - started, lines


def main(sizes: list[int]) -> None:
    for n in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            trades = trade_list(folder, n)
            broker = Broker(prices={f"S{i:05d}": Decimal(20 + i % 500) for i in range(n)})
            broker.start(folder / "broker-log")
            try:
                session = broker.session_config(folder)
                wall, lines = timed_send(trades, session, folder / "journal.sqlite")
                logon = next(t for t, line in lines if line.startswith("logged on"))
                sent = next(t for t, line in lines if line.startswith("sent "))
                again, _ = timed_send(trades, session, folder / "journal.sqlite")
                assert sum(broker.arrivals().values()) == n and set(broker.arrivals().values()) == {1}
            finally:
                broker.stop()
        print(f"{n:6d} orders: wall {wall:6.2f} s (logon at {logon:.2f} s), send phase {sent - logon:6.2f} s = "
              f"{n / (sent - logon):7.0f} orders/s; resend of the same list (all skipped): {again:.2f} s")


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [100, 1000])
