"""Find the positions table in a holdings file and hand back its rows by field name.

A plain CSV (``symbol,quantity``) and the position exports of Schwab, Fidelity and Vanguard are all one table:
title lines may come before its header (found in the first 50 rows by its column names), totals, notes and
disclaimers after its rows, and Vanguard appends a transactions table, which ends the positions. Column names are
matched case-insensitively with punctuation ignored, and a header such as Schwab's ``Qty (Quantity)`` matches by
either of its names. ``data.holdings_columns`` names the columns of any other layout.

Refused here, with the row: a row with more filled cells than the header has columns (an unquoted ``1,000``
splits into two cells and would otherwise read as 1), and a second positions table (an export of several
accounts).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from allocator.config.schema import HoldingsColumns
from allocator.errors import DataError

# Canonical field -> header names seen in broker exports (compared after ``norm``), in order of preference.
COLUMN_ALIASES: dict[str, tuple[str, ...]] = {
    "symbol": ("symbol", "ticker", "ticker symbol", "security symbol", "instrument", "financial instrument",
               "security id"),
    "quantity": ("quantity", "shares", "qty", "share quantity", "quantity held", "shares held", "share balance",
                 "position", "units"),
    "price": ("price", "last price", "share price", "close price", "closing price", "current price",
              "market price", "mark price", "markprice", "price per share", "last close", "last"),
    "market_value": ("market value", "current value", "total value", "position value", "positionvalue",
                     "marketvalue", "value"),
    "lot_size": ("lot size", "lotsize", "round lot", "lot"),
    "cost_basis": ("cost basis", "cost basis total", "total cost basis", "cost basis value", "costbasismoney"),
    "account": ("account", "account number", "account id", "acct", "clientaccountid", "account name"),
    "security_type": ("security type", "asset type", "asset category", "investment type", "assetclass",
                      "asset class"),
    "description": ("description", "security description", "investment name", "security name", "name"),
}
TRANSACTION_HEADERS = frozenset({"trade date", "settlement date", "transaction type", "transaction description",
                                 "run date", "activity date"})
MAX_HEADER_SCAN = 50


@dataclass(frozen=True)
class Record:
    """One row of the positions table: its row number in the file and its cells by canonical field."""

    line: int
    cells: Mapping[str, str]


@dataclass(frozen=True)
class Table:
    """The positions table of a holdings file, as records, with what was left out and the header's names."""

    records: tuple[Record, ...]
    columns: Mapping[str, str]
    skipped: tuple[str, ...] = ()
    account: str | None = None
    layout: str = "table"
    notes: tuple[str, ...] = field(default=())

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickled with its records as one text, a line per record (its row number, then its cells in one order of
        field names), when they share that order (every record of ``positions_table`` does) and no cell holds a
        separator; else record by record. ``allocate batch`` sends each account's rows to a worker: pickled record
        by record (an object and a dict each) they cost the driver 0.37 ms an account of 50 rows, as rows of
        cells (a tuple and a memoized string a cell) 0.17 ms, as one text about 0.03."""
        fields = tuple(self.records[0].cells) if self.records else ()
        if not self.records or any(tuple(r.cells) != fields for r in self.records):
            return _table, (self.records, self.columns, self.skipped, self.account, self.layout, self.notes)
        text = ROW.join([CELL.join((str(r.line), *r.cells.values())) for r in self.records])
        if text.count(CELL) != len(self.records) * len(fields) or text.count(ROW) != len(self.records) - 1:
            return _table, (self.records, self.columns, self.skipped, self.account, self.layout, self.notes)
        return _table_of_text, (fields, text, self.columns, self.skipped, self.account, self.layout, self.notes)


CELL, ROW = "\x1f", "\x1e"  # the separators of a pickled ``Table``'s text (ASCII's unit and record separators)


def _table(records: tuple[Record, ...], columns: Mapping[str, str], skipped: tuple[str, ...], account: str | None,
           layout: str, notes: tuple[str, ...]) -> Table:
    return Table(records, columns, skipped, account, layout, notes)


def _table_of_text(fields: tuple[str, ...], text: str, columns: Mapping[str, str], skipped: tuple[str, ...],
                   account: str | None, layout: str, notes: tuple[str, ...]) -> Table:
    rows = [row.split(CELL) for row in text.split(ROW)]
    records = tuple([Record(int(row[0]), dict(zip(fields, row[1:], strict=True))) for row in rows])
    return Table(records, columns, skipped, account, layout, notes)


def norm(header: str) -> str:
    """A header name reduced to lower-case words: ``Today's Gain/Loss $`` -> ``today s gain loss``."""
    return re.sub(r"[^a-z0-9]+", " ", header.lower()).strip()


def header_names(cell: str) -> set[str]:
    """The names a header cell answers to: the whole, and each part of ``Qty (Quantity)``."""
    names = {norm(cell)}
    match = re.fullmatch(r"(.*?)\((.*)\)\s*", cell.strip())
    if match:
        names |= {norm(match.group(1)), norm(match.group(2))}
    return names - {""}


def find_columns(row: Sequence[str], column_map: HoldingsColumns) -> dict[str, int] | None:
    """Map canonical fields to column positions, or None when ``row`` is not a positions header.

    Every column named in ``column_map`` must be present; other fields are found by their aliases.
    """
    names = [header_names(cell) for cell in row]
    found: dict[str, int] = {}
    explicit: dict[str, str] = column_map.model_dump(exclude_none=True)
    for field_name, wanted in explicit.items():
        index = next((i for i, n in enumerate(names) if norm(wanted) in n), None)
        if index is None:
            return None
        found[field_name] = index
    for field_name, aliases in COLUMN_ALIASES.items():
        if field_name in found:
            continue
        for alias in aliases:
            index = next((i for i, n in enumerate(names) if alias in n and i not in found.values()), None)
            if index is not None:
                found[field_name] = index
                break
    if "symbol" in found and ("quantity" in found or "market_value" in found):
        return found
    return None


def _is_transactions_header(row: Sequence[str]) -> bool:
    """A header with at least two transaction columns (trade date, settlement date, transaction type, ...)."""
    return sum(bool(header_names(cell) & TRANSACTION_HEADERS) for cell in row) >= 2


def _header(rows: Sequence[tuple[int, list[str]]], column_map: HoldingsColumns, where: str
            ) -> tuple[int, dict[str, int]]:
    for position, (_, row) in enumerate(rows[:MAX_HEADER_SCAN]):
        columns = find_columns(row, column_map)
        if columns is not None:
            return position, columns
    explicit = column_map.model_dump(exclude_none=True)
    if explicit:
        seen = {norm(cell) for _, row in rows[:MAX_HEADER_SCAN] for cell in row}
        absent = [f"data.holdings_columns.{k} {v!r}" for k, v in explicit.items() if norm(v) not in seen]
        if absent:
            raise DataError(where, f"no header row has the mapped column(s) {', '.join(absent)}",
                            "check data.holdings_columns against the file's header")
    first = ", ".join(c for c in rows[0][1] if c.strip())[:120] if rows else ""
    raise DataError(where, f"no header with a symbol and a quantity column in the first {MAX_HEADER_SCAN} rows "
                    f"(first row: {first!r})",
                    "name the columns 'symbol' and 'quantity', or map them in data.holdings_columns")


# headers of files that are not holdings but look enough like them to be misread as positions
NOT_HOLDINGS = (
    ({"symbol", "side", "quantity", "target quantity", "current quantity"},
     "a trade list written by allocate (trades.csv): its quantities are trades, not positions",
     "give the account's positions; after the trades, they are the target_quantity column"),
    ({"action", "quantity", "symbol", "sectype"},
     "an Interactive Brokers basket (basket.csv): its quantities are orders, not positions",
     "give the account's positions export"),
)


# A side column says a table holds trades or orders, not positions. Its header, and the words in it: single letters
# only under a header that can only mean a side; full words under any of these headers.
SIDE_HEADERS = frozenset({"side", "action", "buy sell", "b s", "side b s", "order side", "trade side", "direction",
                          "buy or sell", "bs"})
SIDE_LIKE_HEADERS = SIDE_HEADERS | {"type", "order", "order action", "transaction", "transaction type", "trans type",
                                    "activity", "activity type", "action type", "trade type"}
SIDE_WORDS = frozenset({"buy", "sell", "sell short", "short sell", "buy to cover", "buy to open", "buy to close",
                        "sell to open", "sell to close", "bot", "sld", "bought", "sold", "purchase", "sale"})
SIDE_LETTERS = frozenset({"b", "s"})
LONG_SHORT_HEADERS = frozenset({"long short", "long or short", "l s", "position side", "long short indicator"})
OWN_TRADE_COLUMNS = ({"target quantity", "current quantity"}, {"symbol", "quantity", "target quantity"},
                     {"symbol", "notional", "target weight"})


def refuse_other_files(rows: Sequence[tuple[int, list[str]]], where: str) -> None:
    """Refuse, by name, files that would be misread as positions: the project's own trade lists and order baskets
    (their SELL quantities would become holdings), and any table whose side column says BUY or SELL (a trade list
    with some of its columns deleted, another system's orders)."""
    positions_seen = False
    for index, (line, row) in enumerate(rows[:MAX_HEADER_SCAN]):
        if _is_transactions_header(row):
            if positions_seen:  # a transactions table after the positions (Vanguard): it ends them, read nothing
                break
        elif find_columns(row, HoldingsColumns()) is not None:
            positions_seen = True
        names = {norm(cell) for cell in row if cell.strip()}
        for signature, what, fix in NOT_HOLDINGS:
            if signature <= names:
                raise DataError(f"{where}: row {line}", f"this is {what}", fix)
        if any(columns <= names for columns in OWN_TRADE_COLUMNS):  # a trade list with columns renamed or deleted
            raise DataError(f"{where}: row {line}", f"this is {NOT_HOLDINGS[0][1]}", NOT_HOLDINGS[0][2])
        shorts = [i for i, cell in enumerate(row) if norm(cell) in LONG_SHORT_HEADERS]
        for below_line, below in rows[index + 1:index + 1 + MAX_HEADER_SCAN]:
            if any(i < len(below) and norm(below[i]) in ("short", "s") for i in shorts):
                raise DataError(f"{where}: row {below_line}: {row[shorts[0]].strip()}", "a short position (the "
                                "quantity column would read it as long), in an account allocate keeps long only",
                                "close or remove short positions before rebalancing")
        sides = [(i, norm(cell) in SIDE_HEADERS) for i, cell in enumerate(row) if norm(cell) in SIDE_LIKE_HEADERS]
        for _, below in rows[index + 1:index + 1 + MAX_HEADER_SCAN]:
            if any(i < len(below) and (norm(below[i]) in SIDE_WORDS or (strict and norm(below[i]) in SIDE_LETTERS))
                   for i, strict in sides):
                raise DataError(f"{where}: row {line}", f"this is a list of trades or orders: its {row[sides[0][0]]!r} "
                                "column says BUY or SELL, and its quantities are not positions",
                                "give the account's positions export")


def positions_table(rows: Sequence[tuple[int, list[str]]], column_map: HoldingsColumns, where: str) -> Table:
    """The positions table among ``rows`` (row number, cells): its records up to the end of the table."""
    refuse_other_files(rows, where)
    start, columns = _header(rows, column_map, where)
    header = rows[start][1]
    width = len(header)
    records: list[Record] = []
    skipped: list[str] = []
    amount = columns.get("quantity", columns.get("market_value", 0))
    fields = tuple(columns.items())
    last = max(columns.values(), default=-1)
    strip = str.strip
    for line, row in rows[start + 1:]:
        cells = list(map(strip, row))
        if not any(cells):
            continue
        count = len(cells)
        maybe_header = amount >= count or not any(map(str.isdigit, cells[amount]))  # a cheap pre-check
        if maybe_header and (find_columns(row, column_map) is not None or _is_transactions_header(row)):
            if _is_transactions_header(row):
                skipped.append(f"row {line}: a transactions table starts here; it and what follows are not "
                               "positions")
                break
            raise DataError(f"{where}: row {line}", "a second positions table starts here (an export of several "
                            "accounts?)", "export one account per file")
        if count > width and any(cells[width:]):
            extra = [c for c in cells[width:] if c]
            raise DataError(f"{where}: row {line}",
                            f"{len([c for c in cells if c])} filled cells but the header has {width} columns "
                            f"({extra[0]!r} is beyond the last)",
                            'quote numbers that have thousands separators ("1,000"), or check the delimiter')
        if count > last:
            records.append(Record(line, {name: cells[i] for name, i in fields}))
        else:  # a short row: its missing cells are empty
            records.append(Record(line, {name: cells[i] if i < count else "" for name, i in fields}))
    names = {name: header[i].strip() for name, i in columns.items()}
    return Table(records=tuple(records), columns=names, skipped=tuple(skipped))
