"""Read a holdings file: a plain CSV or a broker's position export.

Accepted: one row per position with a symbol and a quantity (shares); optional price, lot size, cost basis and
account. Cash is a row whose symbol is ``CASH`` (quantity = amount), a broker's cash or money-market sweep row,
or ``--cash``. Broker exports are recognised by their column names (Symbol/Ticker, Quantity/Shares/Qty,
Price/Last Price, ...); header lines before the table, totals and disclaimer footers, money strings such as
``$1,234.56`` and ``(12.50)``, a UTF-8 byte-order mark and Windows line endings are all handled. A column map in
the config (``data.holdings_columns``) covers any other layout.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Iterator, Sequence
from decimal import Decimal, InvalidOperation
from pathlib import Path

from allocator.config import HoldingsColumns
from allocator.domain import CASH_SYMBOL, Holdings, Position
from allocator.errors import DataError
from allocator.limits import FileLimits, read_text_limited

# Canonical field -> header names seen in broker exports (compared case-insensitively, punctuation ignored).
COLUMN_ALIASES: dict[str, tuple[str, ...]] = {
    "symbol": ("symbol", "ticker", "ticker symbol", "instrument", "financial instrument", "security id"),
    "quantity": ("quantity", "shares", "qty", "position", "share quantity", "quantity held", "units"),
    "price": ("price", "last price", "last", "share price", "close price", "current price", "mark price",
              "price per share", "last close"),
    "lot_size": ("lot size", "lot", "round lot", "lotsize", "lot_size"),
    "cost_basis": ("cost basis", "cost basis total", "total cost basis", "cost basis value", "cost_basis"),
    "account": ("account", "account number", "account name", "acct", "account id"),
    "market_value": ("market value", "current value", "total value", "value", "marketvalue", "market_value"),
    "description": ("description", "security description", "name", "investment name", "security name"),
}

# Rows that are cash or a cash sweep: their value is added to cash, not held as a position.
CASH_PATTERNS = re.compile(
    r"^(cash|cash & cash investments|cash and cash investments|cash & sweep|money market|core position|"
    r"pending activity|usd|cash balance|settlement fund|total cash)$|\*\*$",
    re.IGNORECASE,
)
FOOTER_PATTERNS = re.compile(
    r"^(account total|total|totals|grand total|subtotal|positions total|the data and information|"
    r"brokerage services|investment products|securities|date downloaded|disclaimer)",
    re.IGNORECASE,
)
MISSING = {"", "--", "-", "n/a", "na", "nan", "none", "null"}
MAX_HEADER_SCAN = 50


def _norm(header: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", header.lower()).strip()


def parse_number(text: str) -> Decimal | None:
    """Parse a broker number: ``$1,234.56``, ``1,000``, ``(12.50)`` (negative), ``-3.5%``; None if missing.

    Raises ``ValueError`` for text that is not a number.
    """
    raw = text.strip().replace("\u00a0", "").replace(" ", "")
    if raw.lower() in MISSING:
        return None
    negative = raw.startswith("(") and raw.endswith(")")
    if negative:
        raw = raw[1:-1]
    raw = raw.replace("$", "").replace(",", "").replace("USD", "").rstrip("%")
    if raw.startswith("+"):
        raw = raw[1:]
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise ValueError(f"not a number: {text!r}") from None
    if not value.is_finite():
        raise ValueError(f"not a finite number: {text!r}")
    return -value if negative else value


def _find_columns(
    header: Sequence[str], column_map: HoldingsColumns
) -> dict[str, int] | None:
    """Map canonical fields to column positions, or None when this row is not the table's header."""
    normalized = [_norm(h) for h in header]
    found: dict[str, int] = {}
    explicit = column_map.model_dump(exclude_none=True)
    for field_name, column in explicit.items():
        target = _norm(column)
        if target in normalized:
            found[field_name] = normalized.index(target)
    for field_name, aliases in COLUMN_ALIASES.items():
        if field_name in found or field_name in explicit:
            continue
        for alias in aliases:
            if _norm(alias) in normalized:
                found[field_name] = normalized.index(_norm(alias))
                break
    if "symbol" in found and ("quantity" in found or "market_value" in found):
        return found
    return None


def _rows(text: str) -> Iterator[list[str]]:
    yield from csv.reader(io.StringIO(text, newline=""))


def read_holdings(
    path: str | Path,
    column_map: HoldingsColumns | None = None,
    limits: FileLimits | None = None,
    allow_fractional: bool = True,
) -> Holdings:
    """Read positions and cash from ``path``.

    Refused with a ``DataError`` naming the file, row and field: an empty file, a table without symbol and
    quantity columns, duplicate symbols, non-numeric, missing or non-finite quantities and prices, non-positive
    prices, negative quantities (the account is long-only), and fractional quantities when not allowed.
    """
    path = Path(path)
    column_map = column_map or HoldingsColumns()
    text = read_text_limited(path, limits or FileLimits(), "holdings file")
    where = str(path)
    if not text.strip():
        raise DataError(where, "the holdings file is empty", "give a header row and one row per position")
    rows = list(_rows(text))
    columns: dict[str, int] | None = None
    header_index = 0
    for index, row in enumerate(rows[:MAX_HEADER_SCAN]):
        columns = _find_columns(row, column_map)
        if columns is not None:
            header_index = index
            break
    if columns is None:
        first = ", ".join(c for c in rows[0] if c) if rows else ""
        raise DataError(where, f"no header with a symbol and a quantity column (first row: {first!r})",
                        "name the columns 'symbol' and 'quantity', or map them in data.holdings_columns")
    if limits is not None and len(rows) - header_index - 1 > limits.max_rows:
        raise DataError(where, f"{len(rows) - header_index - 1:,} rows, above the limit of {limits.max_rows:,}",
                        "raise data.max_rows if the file is genuine")

    header = rows[header_index]
    positions: list[Position] = []
    seen: dict[str, int] = {}
    skipped: list[str] = []
    cash = Decimal(0)

    def cell(row: list[str], field_name: str) -> str:
        position = columns.get(field_name) if columns else None
        return row[position].strip() if position is not None and position < len(row) else ""

    def number(row: list[str], field_name: str, line: int) -> Decimal | None:
        try:
            return parse_number(cell(row, field_name))
        except ValueError as exc:
            column = header[columns[field_name]] if columns else field_name
            raise DataError(f"{where}: row {line}: {column}", str(exc), "give a plain decimal number") from None

    for offset, row in enumerate(rows[header_index + 1:], start=header_index + 2):
        if not any(c.strip() for c in row):
            continue
        symbol = cell(row, "symbol")
        if FOOTER_PATTERNS.match(symbol) or (not symbol and len([c for c in row if c.strip()]) <= 1):
            skipped.append(f"row {offset}: {','.join(c for c in row if c.strip())[:60]}")
            continue
        if CASH_PATTERNS.search(symbol) or symbol.upper() == CASH_SYMBOL:
            amount = number(row, "quantity", offset)
            if amount is None:
                amount = number(row, "market_value", offset) if "market_value" in columns else None
            if amount is None:
                raise DataError(f"{where}: row {offset}: quantity", f"cash row {symbol!r} has no amount",
                                "give the cash amount in the quantity column")
            cash += amount
            continue
        if not symbol:
            raise DataError(f"{where}: row {offset}: symbol", "empty symbol", "give a ticker or delete the row")
        if "quantity" not in columns:
            raise DataError(f"{where}: row {offset}: quantity", "the file has no quantity column",
                            "name it 'quantity' or map it in data.holdings_columns")
        quantity = number(row, "quantity", offset)
        if quantity is None:
            raise DataError(f"{where}: row {offset}: quantity", f"missing quantity for {symbol}",
                            "give the number of shares held")
        if quantity < 0:
            raise DataError(f"{where}: row {offset}: quantity",
                            f"negative quantity {quantity} for {symbol} in a long-only account",
                            "short positions are not supported; check the export")
        if not allow_fractional and quantity != quantity.to_integral_value():
            raise DataError(f"{where}: row {offset}: quantity", f"fractional quantity {quantity} for {symbol}",
                            "set trading.fractional_shares: true to allow it")
        price = number(row, "price", offset) if "price" in columns else None
        if price is not None and price <= 0:
            raise DataError(f"{where}: row {offset}: price", f"price {price} for {symbol} is not positive",
                            "give a positive price or leave it empty to use the last close")
        lot = number(row, "lot_size", offset) if "lot_size" in columns else None
        if lot is not None and lot <= 0:
            raise DataError(f"{where}: row {offset}: lot_size", f"lot size {lot} for {symbol} is not positive",
                            "give a positive lot size")
        basis = number(row, "cost_basis", offset) if "cost_basis" in columns else None
        key = symbol.upper()
        if key in seen:
            raise DataError(f"{where}: row {offset}: symbol",
                            f"duplicate symbol {symbol} (also on row {seen[key]})",
                            "merge the rows into one position")
        seen[key] = offset
        positions.append(Position(
            symbol=key,
            quantity=float(quantity),
            price=float(price) if price is not None else None,
            lot_size=float(lot) if lot is not None else None,
            cost_basis_value=float(basis) if basis is not None else None,
            account=cell(row, "account") or None,
            row=offset,
        ))
    if not positions and cash == 0:
        raise DataError(where, "no positions and no cash found", "check that the file is a holdings export")
    if cash < 0:
        raise DataError(where, f"cash is negative ({cash})", "settle the debit balance before rebalancing")
    if not all(math.isfinite(p.quantity) for p in positions):
        raise DataError(where, "a quantity is not finite", "check the export")
    return Holdings(positions=tuple(positions), cash_value=cash, source=where, skipped_rows=tuple(skipped))
