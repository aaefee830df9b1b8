"""The trade list on a run's page: each trade with its reason and cost, and the list's digest and approval.

The digest is the one ``allocate approve`` records and ``allocate send`` checks (``allocator.orders.approval``):
the SHA-256 of ``trades.csv`` as written. Quantities are shares, prices and money the account currency, weights
fractions of NAV shown as percentages, the break-even alpha annualized.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from allocator.orders.approval import APPROVAL_FILE, TRADE_LISTS, Approvals, approvals_from_text, trade_list_digest
from allocator.orders.trade_sheet import TradeSheet, sheet_from_records
from allocator.report.folder import OutputFolder, number
from allocator.report.page import Cell, Facts, Section, Table, Text, money, percent, ratio, text

DIGEST_SHOWN = 16  # leading hex digits quoted in the command to approve (``approve --digest`` needs 12)


def trade_records(folder: OutputFolder) -> tuple[str, list[dict[str, Any]]]:
    """The trade list's file name and its records (text cells, as written) from ``trades.csv`` or
    ``trades.json``; ``("", [])`` when the run wrote neither (``--format fix`` only)."""
    if folder.has("trades.csv"):
        return "trades.csv", folder.rows("trades.csv")
    if folder.has("trades.json"):
        trades = folder.mapping("trades.json").get("trades")
        return "trades.json", [t for t in trades if isinstance(t, dict)] if isinstance(trades, list) else []
    return "", []


def _sheet(folder: OutputFolder, manifest: dict[str, Any]) -> TradeSheet | None:
    name, records = trade_records(folder)
    if not name:
        return None
    return sheet_from_records(records, str(manifest.get("run_id", "")), date.fromisoformat(str(manifest["as_of"])))


def _approvals(folder: OutputFolder) -> Approvals | None:
    if not folder.has(APPROVAL_FILE):
        return None
    return approvals_from_text(folder.files[APPROVAL_FILE].decode("utf-8", errors="replace"),
                               f"{folder.where}/{APPROVAL_FILE}")


def approval_section(folder: OutputFolder, manifest: dict[str, Any]) -> Section:
    """The trade list's SHA-256, its approval (who, when, and whether it still matches), and how to approve."""
    sheet = _sheet(folder, manifest)
    if sheet is None:
        return Section("approval", "Approval", (Text((f"No trade list ({' or '.join(TRADE_LISTS)}) in the folder: "
                                                      "nothing to approve.",)),))
    digest = trade_list_digest(sheet)
    record = _approvals(folder)
    latest = record.latest if record is not None and record.run_id == sheet.run_id else None
    if latest is None:
        status = "not approved"
    elif latest.trade_list_sha256 == digest:
        status = f"approved by {latest.approved_by} at {latest.approved_at}"
    else:
        status = f"NOT approved: {latest.approved_by} approved another trade list ({latest.trade_list_sha256[:16]}...)"
    facts = Facts((("trade list SHA-256", Cell(digest)), ("trades", ratio(len(sheet.rows), digits=0)),
                   ("approval", text(status))))
    how = Text((f"To approve this trade list: allocate approve OUT_DIR --by NAME --digest {digest[:DIGEST_SHOWN]} "
                "(recorded in approval.json; with orders.require_approval, allocate send sends only the list "
                "approved last).",), emphasis=latest is None or latest.trade_list_sha256 != digest)
    return Section("approval", "Approval", (facts, how))


def trades_section(folder: OutputFolder, summary: dict[str, Any]) -> Section:
    """Each trade (sells first) with its reason and estimated cost, and the totals of ``summary.json``."""
    name, records = trade_records(folder)
    rows = []
    for n, record in enumerate(records, start=1):
        where = f"{name}: trade {n}"
        symbol = str(record.get("symbol", ""))
        source = f"{name}#{symbol}"
        rows.append((text(symbol), text(record.get("side")),
                     ratio(number(record.get("quantity"), where), f"{source}.quantity", digits=0),
                     money(number(record.get("price"), where), f"{source}.price"),
                     money(number(record.get("notional"), where), f"{source}.notional"),
                     percent(number(record.get("current_weight"), where), f"{source}.current_weight"),
                     percent(number(record.get("target_weight"), where), f"{source}.target_weight"),
                     money(number(record.get("estimated_cost"), where), f"{source}.estimated_cost"),
                     percent(number(record.get("break_even_alpha"), where), f"{source}.break_even_alpha", 3)
                     if record.get("break_even_alpha") not in (None, "") else Cell("-"),
                     text(record.get("reason"))))
    totals = summary.get("trades") or {}
    facts = Facts((
        ("trades", ratio(totals.get("count"), "summary.json#trades.count", 0)),
        ("sold (account currency)", money(totals.get("sold_value"), "summary.json#trades.sold_value")),
        ("bought", money(totals.get("bought_value"), "summary.json#trades.bought_value")),
        ("estimated cost", money(summary.get("estimated_cost_value"), "summary.json#estimated_cost_value")),
        ("cash before", money(totals.get("cash_before_value"), "summary.json#trades.cash_before_value")),
        ("cash after", money(totals.get("cash_after_value"), "summary.json#trades.cash_after_value"))))
    table = Table("Trades, sells first (quantity in shares; price, notional and cost in the account currency; "
                  "weights % of NAV; break-even alpha: the annualized return that repays the cost)",
                  ("asset", "side", "quantity", "price", "notional", "weight now", "target weight", "estimated cost",
                   "break-even alpha", "reason"), tuple(rows), sortable=True)
    return Section("trades", "Trades", (facts, table) if rows else (facts, Text(("No trades.",))))
