"""Read a holdings file: a plain CSV or a broker's position export.

Accepted: one row per position with a symbol and a quantity (shares); optional price, lot size, cost basis,
market value and account. Cash is a row whose symbol is ``CASH`` (quantity = amount), a broker's cash,
money-market or sweep row (Schwab's ``Cash & Cash Investments``, Fidelity's ``SPAXX**``, Vanguard's ``VMFXX``, a
security type of ``Cash and Money Market``, any symbol in ``data.cash_symbols``), or ``--cash``. Layouts: a plain
table, the position exports of Schwab, Fidelity and Vanguard (``allocator.inputs.holdings_table``) and the Interactive
Brokers Activity Statement (``allocator.inputs.ibkr_statement``); money strings, totals and disclaimer footers, a UTF-8
byte-order mark and Windows line endings are handled, and ``data.holdings_columns`` maps any other layout.

Nothing is dropped silently: every row left out (totals, notes, a transactions table) is listed in
``Holdings.skipped_rows`` and every row counted as cash in ``Holdings.cash_rows``; a row the reader cannot
account for is an error naming the file, the row and the field.
"""

from __future__ import annotations

import csv
import io
import itertools
import re
from collections.abc import Iterable
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from allocator.config.schema import HoldingsColumns
from allocator.domain import Holdings, Position, trusted
from allocator.errors import DataError
from allocator.files.cells import FORMULA_PREFIXES, SIMPLE_NUMBER, canonical_symbol, is_ticker, parse_number
from allocator.files.reading import SEPARATOR_NAMES, FileLimits, csv_separator, mixed_separator, read_text
from allocator.inputs.holdings_table import MAX_HEADER_SCAN, Record, Table, positions_table
from allocator.inputs.ibkr_statement import activity_statement_table, is_activity_statement
from allocator.terms import CASH_SYMBOL

# Rows that are cash or a cash sweep: their value is added to cash, not held as a position.
CASH_PATTERNS = re.compile(
    r"^(cash|cash & cash investments|cash and cash investments|cash & sweep|cash and sweep|money market|"
    r"core position|pending activity|cash balance|settlement fund|sweep)$|\*\*$",
    re.IGNORECASE,
)
CASH_TYPES = re.compile(r"^(cash|cash and money market|cash & money market|money market( funds?)?|sweep)$",
                        re.IGNORECASE)
# Money-market funds that brokers use as the account's core or sweep position.
SWEEP_FUNDS = frozenset({"SPAXX", "FDRXX", "FZFXX", "SPRXX", "FCASH", "CORE", "VMFXX", "VMRXX", "SWVXX",
                         "SNVXX", "SNOXX", "SNSXX", "SNAXX", "SWGXX"})
FOOTER_PATTERNS = re.compile(
    r"^(account total|total|totals|grand total|subtotal|positions total|the data and information|"
    r"brokerage services|investment products|date downloaded|disclaimer)",
    re.IGNORECASE,
)
CSV_FIELD_LIMIT = 131_072


def _rows(text: str, where: str, max_rows: int, separator: str) -> list[tuple[int, list[str]]]:
    """The CSV rows of ``text`` as (row number, cells); more than ``max_rows`` of data (beyond room for title
    lines and footers) is refused before it is all read."""
    limit = max_rows + 2 * MAX_HEADER_SCAN
    try:  # in one call (a book of accounts is tens of thousands of rows); a row that is no CSV is named below
        rows = list(enumerate(itertools.islice(csv.reader(io.StringIO(text, newline=""), delimiter=separator),
                                               limit + 1), start=1))
    except csv.Error:
        return _rows_one_by_one(text, where, max_rows, separator)
    if len(rows) > limit:
        raise DataError(where, f"more than {max_rows:,} rows", "raise data.max_rows if the file is genuine")
    return rows


def _rows_one_by_one(text: str, where: str, max_rows: int, separator: str) -> list[tuple[int, list[str]]]:
    """``_rows``, row by row, so that a row that is not CSV is named by its number."""
    rows: list[tuple[int, list[str]]] = []
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=separator)
    try:
        for number, row in enumerate(reader, start=1):
            if number > max_rows + 2 * MAX_HEADER_SCAN:
                raise DataError(where, f"more than {max_rows:,} rows", "raise data.max_rows if the file is genuine")
            rows.append((number, row))
    except csv.Error as exc:
        raise DataError(f"{where}: row {len(rows) + 1}", f"cannot read the row as CSV ({exc})",
                        f"check the quoting; a cell longer than {CSV_FIELD_LIMIT:,} characters is not a holding"
                        ) from None
    return rows


def read_holdings(
    path: str | Path,
    column_map: HoldingsColumns | None = None,
    limits: FileLimits | None = None,
    allow_fractional: bool = True,
    cash_symbols: Iterable[str] = (),
    account: str | None = None,
) -> Holdings:
    """Read positions and cash from ``path``.

    Refused with a ``DataError`` naming the file, row and field: an empty file, a table without symbol and
    quantity columns, duplicate symbols, non-numeric, missing or non-finite quantities and prices, non-positive
    prices, negative quantities (the account is long-only), fractional quantities when not allowed, a symbol that
    is not a ticker, positions of several accounts (unless ``account`` picks one) and negative cash.
    """
    path = Path(path)
    limits = limits or FileLimits()
    text = read_text(path, limits.max_bytes, "holdings file", windows_1252=True)
    return holdings_from_text(text, str(path), column_map, limits, allow_fractional, cash_symbols, account)


def _table(text: str, where: str, column_map: HoldingsColumns | None, limits: FileLimits) -> tuple[Table, _Reader]:
    """The positions table of a holdings file's text and the reader of its cells."""
    if not text.strip():
        raise DataError(where, "the holdings file is empty", "give a header row and one row per position")
    separator = csv_separator(text)
    rows = _rows(text, where, limits.max_rows, separator)
    if is_activity_statement(rows):
        table = activity_statement_table(rows, where)
    else:
        try:
            table = positions_table(rows, column_map or HoldingsColumns(), where)
        except DataError:  # no header found: a header written with another separator than its rows says why
            other = mixed_separator(text, separator)
            if other:
                raise DataError(where, f"the header is separated by {SEPARATOR_NAMES[other]} but the rows by "
                                f"{SEPARATOR_NAMES[separator]}", "use one separator throughout the file") from None
            raise
    if len(table.records) > limits.max_rows:
        raise DataError(where, f"more than {limits.max_rows:,} rows", "raise data.max_rows if the file is genuine")
    return table, _Reader(where, dict(table.columns), separator)


def holdings_from_text(
    text: str,
    where: str,
    column_map: HoldingsColumns | None = None,
    limits: FileLimits | None = None,
    allow_fractional: bool = True,
    cash_symbols: Iterable[str] = (),
    account: str | None = None,
) -> Holdings:
    """``read_holdings`` of a file's text already read (``where`` names the file in errors)."""
    table, reader = _table(text, where, column_map, limits or FileLimits())
    return _holdings(table, reader, allow_fractional, {s.upper() for s in cash_symbols} | SWEEP_FUNDS, account)


@dataclass(frozen=True)
class AccountRows:
    """One account's rows of a file of several accounts (its own rows and the rows without an account), split
    but not yet read into numbers: ``holdings()`` reads them as ``read_holdings(..., account=name)`` would.

    ``allocate batch`` splits its book on the driver and reads each account's rows where the account is
    rebalanced, so the reading is spread over the workers. ``split``: the rows are the account's own and the
    rows without an account alone (``account_rows`` made them so), so no row is looked at for another account."""

    account: str | None
    table: Table
    reader: _Reader
    allow_fractional: bool
    cash_symbols: frozenset[str]
    split: bool = False

    def holdings(self) -> Holdings:
        """The account's ``Holdings``; ``DataError`` naming the file, row and field for a bad row."""
        return _holdings(self.table, self.reader, self.allow_fractional, self.cash_symbols, self.account, self.split)


def account_rows(
    text: str,
    where: str,
    column_map: HoldingsColumns | None = None,
    limits: FileLimits | None = None,
    allow_fractional: bool = True,
    cash_symbols: Iterable[str] = (),
) -> dict[str, AccountRows]:
    """Every account of a file of several (an ``account`` column, any layout ``read_holdings`` takes), by name, as
    rows to read (``AccountRows``); rows without an account belong to every account. A file without an account
    column is one account, named ``""``; ``DataError`` for a file that is no positions table at all."""
    limits = limits or FileLimits()
    table, reader = _table(text, where, column_map, limits)
    cash = frozenset({s.upper() for s in cash_symbols} | SWEEP_FUNDS)
    if table.account is not None or "account" not in table.columns:
        name = table.account.strip() if table.account is not None else ""
        return {name: AccountRows(None, table, reader, allow_fractional, cash)}
    groups: dict[str, list[Record]] = {}
    shared: list[Record] = []
    for record in table.records:
        name = record.cells.get("account", "").strip()
        if name:
            groups.setdefault(name.upper(), []).append(record)
        else:
            shared.append(record)
    found: dict[str, AccountRows] = {}
    for records in groups.values():
        name = records[0].cells.get("account", "").strip()
        mine = tuple(sorted([*records, *shared], key=lambda r: r.line)) if shared else tuple(records)
        own = Table(records=mine, columns=table.columns,
                    skipped=table.skipped, layout=table.layout, notes=table.notes)
        found[name] = AccountRows(name, own, reader, allow_fractional, cash, split=True)
    return found


class _Reader:
    """Turns one record's cells into numbers, naming the file, row and column on error."""

    def __init__(self, where: str, columns: dict[str, str], separator: str = ",") -> None:
        self.where = where
        self.columns = columns
        self.separator = separator

    def number(self, record: Record, name: str) -> Decimal | None:
        cell = record.cells.get(name, "")
        if not cell:  # an empty or absent column: most cells of a plain file
            return None
        if self.separator != "," and "," in cell:  # 1,234 is 1234 in one locale and 1.234 in another
            raise DataError(f"{self.where}: row {record.line}: {self.columns.get(name, name)}",
                            f"{cell.strip()!r} has a comma in a file separated by {SEPARATOR_NAMES[self.separator]}, "
                            "where the comma may be the decimal mark", "give numbers with a decimal point and no "
                            "thousands separators (or save the file as comma-separated CSV)")
        if cell.strip().endswith("%"):
            raise DataError(f"{self.where}: row {record.line}: {self.columns.get(name, name)}",
                            f"a percentage where {name.replace('_', ' ')} goes: {cell.strip()!r}",
                            "give shares, prices and money as plain numbers")
        try:
            return parse_number(cell)
        except ValueError as exc:
            raise DataError(f"{self.where}: row {record.line}: {self.columns.get(name, name)}", str(exc),
                            "give a plain decimal number") from None

    def informative_number(self, record: Record, name: str, warnings: list[str]) -> Decimal | None:
        """A number the run only reports or cross-checks (cost basis, a position's market value): text that is
        not one (``Unavailable``) is named in a warning and read as no value, instead of refusing the file."""
        try:
            return self.number(record, name)
        except DataError:
            cell = record.cells.get(name, "").strip()
            warnings.append(f"holdings row {record.line}: {self.columns.get(name, name)} {cell[:40]!r} is not a "
                            "number; read as no value (the run does not use it for trading)")
            return None

    def error(self, record: Record, name: str, what: str, fix: str) -> DataError:
        return DataError(f"{self.where}: row {record.line}: {self.columns.get(name, name)}", what, fix)


def _accounts(table: Table, records: list[Record], where: str, account: str | None, split: bool = False
              ) -> tuple[list[Record], list[str]]:
    """The ``records`` (rows that hold something) of the account to rebalance; refuse a file of several accounts
    unless ``account`` picks one. ``split``: ``records`` are ``account``'s own and rows without an account alone
    (``AccountRows.split``)."""
    if table.account is not None:  # one account per file (IBKR statement)
        if account is not None and account.strip().upper() != table.account.strip().upper():
            raise DataError(where, f"the statement is for account {table.account}, not {account}",
                            "check data.holdings_account")
        return records, []
    if "account" not in table.columns:
        if account is not None:
            raise DataError(where, "data.holdings_account is set but the file has no account column",
                            "remove data.holdings_account, or map the column in data.holdings_columns.account")
        return records, []
    if account is None:
        seen = _account_names(records)
        if len(seen) > 1:
            raise DataError(where, f"positions of {len(seen)} accounts ({', '.join(seen[:5])})",
                            "set data.holdings_account to the account to rebalance, or export one account")
        return records, []
    wanted = account.strip().upper()
    kept: list[Record] = []
    others: list[Record] = []
    if split:  # each row is the account's own or has no account: one of its own is found (mostly the first)
        kept, found = records, any(r.cells.get("account", "").strip() for r in records)
    else:
        found = False
        for r in records:  # one pass: an account of a book is read as many times as the book has accounts
            name = r.cells.get("account", "").strip().upper()
            if name == wanted:
                found = True
                kept.append(r)
            elif not name:
                kept.append(r)
            else:
                others.append(r)
    if not found:
        raise DataError(where, f"no rows for account {account!r} (accounts in the file: "
                        f"{', '.join(_account_names(records)) or 'none'})", "check data.holdings_account")
    lines = {r.line for r in kept} if others else set()
    return kept, [f"row {r.line}: account {r.cells.get('account')}" for r in others if r.line not in lines]


def _account_names(records: list[Record]) -> list[str]:
    """The account names of ``records`` (as written, trimmed), sorted."""
    return sorted({r.cells.get("account", "").strip() for r in records} - {""})


@dataclass(frozen=True)
class _Symbol:
    """What a symbol cell (trimmed) says by itself: a footer or total, a cash row by its name, its upper case, a
    ticker, and its ``canonical_symbol``."""

    footer: bool
    cash: bool
    upper: str
    ticker: bool
    key: str


# ``_symbol`` of each symbol cell seen: the accounts of a book repeat the same few hundred symbols, and the
# patterns cost 2 us a row where the look-ups cost 0.4 (emptied when full: a file of unique symbols is bounded)
_SYMBOLS: dict[str, _Symbol] = {}
_SYMBOLS_KEPT = 50_000


def _symbol(symbol: str) -> _Symbol:
    """``_Symbol`` of a trimmed symbol cell, kept in ``_SYMBOLS``."""
    found = _SYMBOLS.get(symbol)
    if found is None:
        upper = symbol.upper()
        found = _Symbol(footer=bool(FOOTER_PATTERNS.match(symbol)),
                        cash=bool(CASH_PATTERNS.search(symbol)) or upper == CASH_SYMBOL, upper=upper,
                        ticker=bool(symbol) and is_ticker(symbol), key=canonical_symbol(symbol))
        if len(_SYMBOLS) >= _SYMBOLS_KEPT:
            _SYMBOLS.clear()
        _SYMBOLS[symbol] = found
    return found


def _holdings(table: Table, reader: _Reader, allow_fractional: bool, cash_symbols: AbstractSet[str],
              account: str | None, split: bool = False) -> Holdings:
    where = reader.where
    skipped = list(table.skipped)
    held: list[Record] = []
    formulas: list[str] = []
    # each held record's symbol cell (trimmed), its ``_Symbol`` and whether the row is cash, by id (each record is
    # held in ``held``): the second pass reads them instead of the cells
    seen_rows: dict[int, tuple[str, _Symbol, bool]] = {}
    for record in table.records:
        cells = record.cells
        symbol = cells.get("symbol", "").strip()
        facts = _symbol(symbol)
        kind = cells.get("security_type")  # an empty type is no cash type: the pattern is not run on it
        if facts.footer:
            skipped.append(f"row {record.line}: {symbol[:60]}")
        elif facts.cash or facts.upper in cash_symbols or (kind and CASH_TYPES.match(kind.strip())):  # a cash row
            held.append(record)
            seen_rows[id(record)] = (symbol, facts, True)
        elif facts.ticker:
            held.append(record)
            seen_rows[id(record)] = (symbol, facts, False)
        elif symbol.startswith(FORMULA_PREFIXES):  # a formula, not a description: kept, named, written inert
            held.append(record)
            seen_rows[id(record)] = (symbol, facts, False)
            formulas.append(f"holdings row {record.line}: symbol {symbol!r} looks like a spreadsheet formula; "
                            "it is kept as written and every CSV output starts it with ' so it cannot run")
        elif not any(_has_value(cells.get(k, "")) for k in ("quantity", "market_value")):
            skipped.append(f"row {record.line}: {' '.join(v for v in cells.values() if v)[:60]}")
        else:
            raise reader.error(record, "symbol", f"{symbol!r} is not a ticker" if symbol else "empty symbol",
                               "give the ticker of the position (letters, digits and . - / ^), or delete the row")
    held, other_accounts = _accounts(table, held, where, account, split)
    skipped += other_accounts
    positions: list[Position] = []
    seen: dict[str, int] = {}
    cash_rows: list[str] = []
    warnings: list[str] = formulas
    cash = Decimal(0)
    for record in held:
        symbol, facts, is_cash = seen_rows[id(record)]
        if is_cash:
            quantity = reader.number(record, "quantity")
            price = reader.number(record, "price")
            value = reader.number(record, "market_value")
            if value is None and price is not None and quantity is not None and price != 1:
                raise reader.error(record, "price", f"cash row {symbol!r} has a price of {price}; a cash or "
                                   "money-market row is worth its quantity (price 1)",
                                   "give the cash amount in the quantity column with an empty price or 1, or a "
                                   "market value")
            amount = value if value is not None else quantity
            if amount is None:
                raise reader.error(record, "quantity", f"cash row {symbol!r} has no amount",
                                   "give the cash amount in the quantity column")
            cash += amount
            cash_rows.append(f"row {record.line}: {symbol} {amount}")
            continue
        key = facts.key
        if key in seen:
            raise reader.error(record, "symbol", f"duplicate symbol {symbol} (also on row {seen[key]})",
                               "merge the rows into one position")
        positions.append(_position(record, symbol, key, reader, allow_fractional, warnings))
        seen[key] = record.line
    if not positions and cash == 0:
        raise DataError(where, "no positions and no cash found", "check that the file is a holdings export")
    if cash < 0:
        raise DataError(where, f"cash is negative ({cash})", "settle the debit balance before rebalancing")
    return Holdings(positions=tuple(positions), cash_value=cash, source=where, skipped_rows=tuple(skipped),
                    cash_rows=tuple(cash_rows), warnings=tuple(warnings))


def _has_value(cell: str) -> bool:
    """Whether a cell holds anything but nothing (empty, ``--``, ``N/A``)."""
    try:
        return parse_number(cell) is not None
    except ValueError:
        return True


# (value, as a float, whether whole) of each plain quantity cell seen (digits with an optional decimal point, as
# ``parse_number`` reads them without its steps): the accounts of a book repeat the same quantities, and reading,
# converting and checking one costs 0.7 us a row where the look-up costs 0.05 (emptied when full)
_PLAIN_QUANTITIES: dict[str, tuple[Decimal, float, bool]] = {}
_PLAIN_QUANTITIES_KEPT = 50_000


def _plain_quantity(cell: str) -> tuple[Decimal, float, bool] | None:
    """The quantity of a plain cell (``_PLAIN_QUANTITIES``), or None for any other cell (read by ``_Reader``)."""
    found = _PLAIN_QUANTITIES.get(cell)
    if found is None and cell and SIMPLE_NUMBER.fullmatch(cell):
        value = Decimal(cell)
        found = (value, float(value), value == value.to_integral_value())
        if len(_PLAIN_QUANTITIES) >= _PLAIN_QUANTITIES_KEPT:
            _PLAIN_QUANTITIES.clear()
        _PLAIN_QUANTITIES[cell] = found
    return found


def _position(record: Record, symbol: str, key: str, reader: _Reader, allow_fractional: bool, warnings: list[str]
              ) -> Position:
    """The position of ``record`` (``symbol`` as written, ``key`` its ``canonical_symbol``).

    A cell that is empty or absent reads as no value (``_Reader.number``), so it is looked at only when it holds
    something: most rows of a plain file give a symbol and a quantity alone."""
    cells = record.cells
    plain = _plain_quantity(cells.get("quantity", ""))
    if plain is not None:  # a plain quantity is never missing nor negative
        quantity, shares, whole = plain
    else:
        number = reader.number(record, "quantity")
        if number is None:
            raise reader.error(record, "quantity", f"missing quantity for {symbol}", "give the number of shares held")
        if number < 0:
            raise reader.error(record, "quantity", f"negative quantity {number} for {symbol} in a long-only account",
                               "short positions are not supported; check the export")
        quantity, shares, whole = number, float(number), number == number.to_integral_value()
    if not allow_fractional and not whole:
        raise reader.error(record, "quantity", f"fractional quantity {quantity} for {symbol}",
                           "set trading.fractional_shares: true to allow it")
    price = reader.number(record, "price") if cells.get("price") else None
    if price is not None and price <= 0:
        raise reader.error(record, "price", f"price {price} for {symbol} is not positive",
                           "give a positive price or leave it empty to use the last close")
    lot = reader.number(record, "lot_size") if cells.get("lot_size") else None
    if lot is not None and lot <= 0:
        raise reader.error(record, "lot_size", f"lot size {lot} for {symbol} is not positive",
                           "give a positive lot size")
    if lot is not None and not allow_fractional and lot != lot.to_integral_value():
        raise reader.error(record, "lot_size", f"fractional lot size {lot} for {symbol}",
                           "set trading.fractional_shares: true to trade fractions of a share")
    basis = reader.informative_number(record, "cost_basis", warnings) if cells.get("cost_basis") else None
    value = reader.informative_number(record, "market_value", warnings) if cells.get("market_value") else None
    if price is not None and value is not None and abs(quantity * price - value) > Decimal("0.005") * abs(value) + 1:
        warnings.append(f"holdings row {record.line}: {symbol}: quantity x price = {quantity * price:,.2f} "
                        f"but the market value is {value:,.2f}; check that the columns were read right")
    return trusted(Position, {"symbol": key, "quantity": shares, "price": float(price) if price is not None else None,
                              "lot_size": float(lot) if lot is not None else None,
                              "cost_basis_value": float(basis) if basis is not None else None,
                              "account": cells.get("account") or None, "row": record.line})
