"""Check a batch's output against its book as a desk would (``bench/batch.py --book``, tests/batch/test_book.py).

Reads only files: the book (``holdings.csv`` with an account column, ``accounts.csv``) and the output folder of
``allocate batch``. It checks that

- ``batch.csv`` has one row per account of the table, in the table's order, with a known status;
- an ``in_band`` account has no folder, no trades, no allocation, a drift at most its band and equal before and
  after;
- a ``traded`` account's trade list starts from the book's quantities, and each trade reconciles to the share
  (current + bought - sold = target) and the cent (notional = quantity x price; cash before - bought + sold - costs
  = cash after, cash before = the book's cash); its trade count and cost agree with ``batch.csv``;
- an ``infeasible`` account has its ``diagnosis.json`` and no trades;
- ``blocks.csv`` holds, per symbol and side, the sum of the accounts' trades and the number of accounts;
  ``allocations.csv`` gives each account exactly its trade; ``blocks/sells|buys/trades.csv`` list the blocks.

``check_book`` returns the status counts and every failure found (an empty list: the output reconciles).
"""

from __future__ import annotations

import csv
import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

CENT = Decimal("0.01")
STATUSES = ("traded", "in_band", "infeasible", "error")
CASH = "CASH"


@dataclass
class BookCheck:
    """What ``check_book`` found: accounts by status, trades and blocks checked, and the failures (text)."""

    statuses: Counter[str] = field(default_factory=Counter)
    trades: int = 0
    blocks: int = 0
    failures: list[str] = field(default_factory=list)

    def summary(self) -> str:
        counts = ", ".join(f"{s} {self.statuses[s]:,}" for s in STATUSES)
        verdict = "all reconcile" if not self.failures else f"{len(self.failures)} FAILURES"
        return (f"{sum(self.statuses.values()):,} accounts ({counts}); {self.trades:,} trades and {self.blocks} "
                f"blocks checked: {verdict}")


def rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def book_positions(book: Path) -> dict[str, dict[str, Decimal]]:
    """Each account's quantities by symbol (cash under ``CASH``) from the book's ``holdings.csv``."""
    held: dict[str, dict[str, Decimal]] = defaultdict(dict)
    for row in rows(book / "holdings.csv"):
        held[row["account"]][row["symbol"]] = Decimal(row["quantity"])
    return held


def check_book(book: Path, out: Path) -> BookCheck:
    """Check the output folder ``out`` of ``allocate batch`` on the book in ``book`` (see the module docstring)."""
    found = BookCheck()
    held = book_positions(book)
    table = [r["account"] for r in rows(book / "accounts.csv")]
    batch = rows(out / "batch.csv")
    if [r["account"] for r in batch] != table:
        found.failures.append("batch.csv: the accounts differ from the accounts table's (or their order)")
    legs: dict[tuple[str, str], dict[str, Decimal]] = defaultdict(dict)
    for row in batch:
        found.statuses[row["status"]] += 1
        account = row["account"]
        folder = out / "accounts" / account
        if row["status"] == "in_band":
            _check_in_band(row, folder, found)
        elif row["status"] == "traded":
            for trade in _check_traded(row, folder, held.get(account, {}), found):
                legs[trade["symbol"], trade["side"]][account] = Decimal(trade["quantity"])
        elif row["status"] == "infeasible":
            if not (folder / "diagnosis.json").is_file() or (folder / "trades.csv").exists():
                found.failures.append(f"{account}: infeasible without its diagnosis.json alone")
        elif row["status"] != "error":
            found.failures.append(f"{account}: unknown status {row['status']!r}")
    _check_blocks(out, legs, found)
    return found


def _check_in_band(row: dict[str, str], folder: Path, found: BookCheck) -> None:
    account = row["account"]
    width = float(row["band"].split()[0])
    if folder.exists():
        found.failures.append(f"{account}: in band but has files in {folder}")
    if row["trades"] != "0" or Decimal(row["cost"]) != 0 or row["drift_before"] != row["drift_after"]:
        found.failures.append(f"{account}: in band but trades {row['trades']}, cost {row['cost']}, drift "
                              f"{row['drift_before']} -> {row['drift_after']}")
    if float(row["drift_before"]) > width + 1e-8:
        found.failures.append(f"{account}: in band with drift {row['drift_before']} over its band {row['band']}")


def _check_traded(row: dict[str, str], folder: Path, held: dict[str, Decimal], found: BookCheck
                  ) -> list[dict[str, str]]:
    account = row["account"]
    missing = [n for n in ("weights.csv", "trades.csv", "summary.json", "manifest.json") if not (folder / n).is_file()]
    if missing:
        found.failures.append(f"{account}: traded without {', '.join(missing)}")
        return []
    trades = rows(folder / "trades.csv")
    found.trades += len(trades)
    bought = sold = costs = Decimal(0)
    for t in trades:
        quantity, price, notional = Decimal(t["quantity"]), Decimal(t["price"]), Decimal(t["notional"])
        current, target = Decimal(t["current_quantity"]), Decimal(t["target_quantity"])
        sign = 1 if t["side"] == "BUY" else -1
        where = f"{account} {t['symbol']} {t['side']}"
        if current != held.get(t["symbol"], Decimal(0)):
            found.failures.append(f"{where}: current quantity {current}, the book holds {held.get(t['symbol'], 0)}")
        if quantity <= 0 or current + sign * quantity != target:
            found.failures.append(f"{where}: {current} {'+' if sign > 0 else '-'} {quantity} != target {target}")
        if notional != (quantity * price).quantize(CENT):
            found.failures.append(f"{where}: notional {notional} != {quantity} x {price}")
        bought += notional if sign > 0 else 0
        sold += notional if sign < 0 else 0
        costs += Decimal(t["estimated_cost"])
    cash = json.loads((folder / "summary.json").read_text())["trades"]
    before, after = Decimal(str(cash["cash_before_value"])), Decimal(str(cash["cash_after_value"]))
    if before != held.get(CASH, Decimal(0)):
        found.failures.append(f"{account}: cash before {before}, the book holds {held.get(CASH, 0)}")
    if (Decimal(str(cash["bought_value"])), Decimal(str(cash["sold_value"]))) != (bought, sold):
        found.failures.append(f"{account}: summary bought/sold {cash['bought_value']}/{cash['sold_value']} != the "
                              f"trade list's {bought}/{sold}")
    if (before - bought + sold - costs).quantize(CENT) != after.quantize(CENT):
        found.failures.append(f"{account}: cash {before} - {bought} + {sold} - {costs} != {after}")
    if int(row["trades"]) != len(trades) or Decimal(row["cost"]) != costs:
        found.failures.append(f"{account}: batch.csv says {row['trades']} trades costing {row['cost']}, the trade "
                              f"list {len(trades)} costing {costs}")
    return trades


def _check_blocks(out: Path, legs: dict[tuple[str, str], dict[str, Decimal]], found: BookCheck) -> None:
    blocks = {(b["symbol"], b["side"]): b for b in rows(out / "blocks.csv")}
    found.blocks = len(blocks)
    if set(blocks) != set(legs):
        found.failures.append(f"blocks.csv: blocks {sorted(set(blocks) ^ set(legs))} differ from the accounts' "
                              "trades")
    for key in set(blocks) & set(legs):
        quantity, accounts = Decimal(blocks[key]["quantity"]), int(blocks[key]["accounts"])
        if quantity != sum(legs[key].values()) or accounts != len(legs[key]):
            found.failures.append(f"blocks.csv {key}: {quantity} over {accounts} accounts, the accounts' trades "
                                  f"sum to {sum(legs[key].values())} over {len(legs[key])}")
    allocated: dict[tuple[str, str], dict[str, Decimal]] = defaultdict(dict)
    for a in rows(out / "allocations.csv"):
        allocated[a["symbol"], a["side"]][a["account"]] = Decimal(a["quantity"])
    if allocated != legs:
        found.failures.append("allocations.csv: the allocations are not each account's trades")
    for side, folder in (("SELL", "sells"), ("BUY", "buys")):
        path = out / "blocks" / folder / "trades.csv"
        listed = {r["symbol"]: Decimal(r["quantity"]) for r in rows(path)} if path.exists() else {}
        if listed != {s: Decimal(b["quantity"]) for (s, d), b in blocks.items() if d == side}:
            found.failures.append(f"blocks/{folder}/trades.csv: not the {side} blocks of blocks.csv")
