"""Read the positions and cash of an Interactive Brokers Activity Statement (CSV).

The statement is many tables in one file: every row starts with its section name and its kind (``Header``,
``Data``, ``SubTotal``, ``Total``, ``Notes``), e.g. ``Open Positions,Data,Summary,Stocks,USD,SPY,513,...``. The
positions are the ``Open Positions`` section's ``Summary`` rows (``Lot`` rows are tax lots of the same position);
cash is the ``Cash Report`` section's ``Ending Cash`` in the base currency summary (the net asset value's ``Cash``
row when there is no cash report). The account and its base currency come from ``Account Information``.

Refused, with the row: positions that are not stocks or funds (options, futures, bonds: the allocator models long
holdings of shares), positions in a currency other than the base currency, and a statement without positions or
cash.
"""

from __future__ import annotations

from collections.abc import Sequence

from allocator.errors import DataError
from allocator.inputs.holdings_table import Record, Table, norm

KINDS = frozenset({"header", "data", "subtotal", "total", "notes", "metainfo"})
POSITION_CATEGORIES = frozenset({"stocks", "mutual funds", "etfs", "funds"})
FIELDS = {"symbol": "symbol", "quantity": "quantity", "close price": "price", "value": "market_value",
          "cost basis": "cost_basis"}


def is_activity_statement(rows: Sequence[tuple[int, list[str]]]) -> bool:
    """Whether ``rows`` look like an IBKR statement: the first rows are ``<Section>,Header|Data,...``."""
    head = [row for _, row in rows[:5] if any(c.strip() for c in row)]
    return len(head) >= 2 and all(len(r) >= 3 and r[1].strip().lower() in KINDS for r in head)


def _sections(rows: Sequence[tuple[int, list[str]]], name: str) -> list[tuple[int, dict[str, str]]]:
    """The ``Data`` rows of section ``name`` as (row number, header name -> cell), each under its latest header."""
    out: list[tuple[int, dict[str, str]]] = []
    header: list[str] = []
    for line, row in rows:
        if len(row) < 2 or row[0].strip() != name:
            continue
        kind = row[1].strip().lower()
        if kind == "header":
            header = [norm(c) for c in row[2:]]
        elif kind == "data" and header:
            out.append((line, {h: (row[2 + i].strip() if 2 + i < len(row) else "") for i, h in enumerate(header)}))
    return out


def _field(rows: Sequence[tuple[int, list[str]]], section: str, name: str) -> str | None:
    for _, cells in _sections(rows, section):
        if norm(cells.get("field name", "")) == norm(name):
            return cells.get("field value", "").strip() or None
    return None


def _cash(rows: Sequence[tuple[int, list[str]]], where: str) -> Record:
    for line, cells in _sections(rows, "Cash Report"):
        if norm(cells.get("currency summary", "")) == "ending cash" and \
                norm(cells.get("currency", "")) == "base currency summary":
            return Record(line, {"symbol": "CASH", "quantity": cells.get("total", "")})
    for line, cells in _sections(rows, "Net Asset Value"):
        if norm(cells.get("asset class", "")) == "cash":
            return Record(line, {"symbol": "CASH", "quantity": cells.get("current total", "")})
    raise DataError(where, "the statement has no cash (no 'Ending Cash' in the Cash Report section and no 'Cash' "
                    "row in Net Asset Value)", "export the Activity Statement with its Cash Report section")


def activity_statement_table(rows: Sequence[tuple[int, list[str]]], where: str) -> Table:
    """The positions and cash of an Activity Statement as the records of one positions table."""
    base = (_field(rows, "Account Information", "Base Currency") or "USD").upper()
    account = _field(rows, "Account Information", "Account")
    positions = _sections(rows, "Open Positions")
    if not positions and not any(r[:2] == ["Open Positions", "Header"] for _, r in rows):
        raise DataError(where, "the statement has no Open Positions section",
                        "export the Activity Statement with its Open Positions section")
    records: list[Record] = []
    skipped: list[str] = []
    for line, cells in positions:
        symbol = cells.get("symbol", "")
        category = cells.get("asset category", "")
        if norm(cells.get("datadiscriminator", "summary")) == "lot":
            continue
        if norm(category) == "forex":
            skipped.append(f"row {line}: forex balance {symbol} (cash is read from the Cash Report)")
            continue
        if norm(category) not in POSITION_CATEGORIES:
            raise DataError(f"{where}: row {line}: Asset Category",
                            f"{symbol or 'a position'} is {category or 'of no asset category'}; only stocks and "
                            "funds can be rebalanced", "close or remove that position before rebalancing")
        currency = cells.get("currency", base).upper()
        if currency != base:
            raise DataError(f"{where}: row {line}: Currency", f"{symbol} is held in {currency}, not the base "
                            f"currency {base}", "rebalance positions of one currency at a time")
        mult = cells.get("mult", "1") or "1"
        if mult.replace(",", "") not in ("1", "1.0"):
            raise DataError(f"{where}: row {line}: Mult", f"{symbol} has a multiplier of {mult}",
                            "only shares (multiplier 1) can be rebalanced")
        records.append(Record(line, {target: cells.get(source, "") for source, target in FIELDS.items()}))
    records.append(_cash(rows, where))
    columns = {"symbol": "Symbol", "quantity": "Quantity", "price": "Close Price", "market_value": "Value",
               "cost_basis": "Cost Basis"}
    return Table(records=tuple(records), columns=columns, skipped=tuple(skipped), account=account,
                 layout="IBKR activity statement")
