"""A trade list as written to and read from files: ``TradeSheet``, the common input of every order format.

``allocate run`` makes one from its reconciled ``TradeList``; ``allocate export`` and ``allocate send`` read one
back from ``trades.csv`` or ``trades.json``. Numbers are ``Decimal`` parsed from the text written (quantities in
shares, money in the account currency, weights as fractions of NAV), so a sheet read back writes the same bytes.

A sheet carries the run's identity: ``run_id`` (see ``allocator.orders.ids``) and the as-of date. ``trades.json``
holds both; ``trades.csv`` does not, so they come from the run's ``manifest.json`` (beside the trade list unless
another is named). A list read back keeps the run's id only when the manifest records it
(``allocator.orders.provenance``): an edited list is refused, or given new order IDs when asked. ``trades_csv`` is
the CSV form of a sheet (the bytes of ``trades.csv``), by which a list is recognized whatever its file's format.
This module imports nothing heavy: ``export`` and ``send`` start instantly.
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import io
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from allocator.errors import DataError
from allocator.files.cells import csv_cell, quantity_text, safe_text, unquote
from allocator.files.manifest import MANIFEST_FILE, Manifest, as_of_date, read_manifest
from allocator.files.reading import MIB, read_text, sha256_of
from allocator.orders.ids import RUN_ID_PATTERN, OrderRequest
from allocator.orders.provenance import Carried, trade_list_identity, unidentified
from allocator.terms import BUY, SELL, Side

TRADE_COLUMNS = ("symbol", "side", "quantity", "price", "notional", "current_quantity", "target_quantity",
                 "current_weight", "target_weight", "estimated_cost", "break_even_alpha", "reason")
OPTIONAL_COLUMNS = ("break_even_alpha",)  # added later: trade lists written before lack it, and still read
REQUIRED_COLUMNS = tuple(c for c in TRADE_COLUMNS if c not in OPTIONAL_COLUMNS)
NUMBER_COLUMNS = ("quantity", "price", "notional", "current_quantity", "target_quantity", "current_weight",
                  "target_weight", "estimated_cost")
MAX_TRADE_FILE_BYTES = 64 * MIB
CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class TradeRow:
    """One trade of the list: shares, prices and money exactly as written."""

    symbol: str
    side: Side
    quantity: Decimal
    price: Decimal
    notional: Decimal
    current_quantity: Decimal
    target_quantity: Decimal
    current_weight: Decimal
    target_weight: Decimal
    estimated_cost: Decimal
    reason: str
    break_even_alpha: Decimal | None = None  # annualized return that repays the cost over the horizon (None: older)


def trusted_row(fields: dict[str, Any]) -> TradeRow:
    """``TradeRow(**fields)`` for values already checked, every field given (by name): the same object, made
    without the frozen dataclass's ``__init__``, which sets each of the 12 fields through ``object.__setattr__``
    (7.1 us a row, against 1.1 us here; ``allocate batch`` makes one per trade of every account)."""
    row = object.__new__(TradeRow)
    row.__dict__.update(fields)
    return row


ROW_FIELDS = tuple(f.name for f in dataclasses.fields(TradeRow))


def trusted_rows(columns: Sequence[Sequence[Any]]) -> tuple[TradeRow, ...]:
    """``trusted_row`` of each row of ``columns`` (one column per field, in the order of ``ROW_FIELDS``), without a
    dict of its own for each."""
    rows = []
    for values in zip(*columns, strict=True):
        row = object.__new__(TradeRow)
        row.__dict__.update(zip(ROW_FIELDS, values, strict=True))
        rows.append(row)
    return tuple(rows)


@dataclass(frozen=True)
class TradeSheet:
    """A run's trades with its identity (``run_id``, ``as_of``); cash is known when the run or a JSON file gave it.
    ``derived_from`` is the original run id of a list given new order IDs (``allocator.orders.provenance``)."""

    run_id: str
    as_of: date
    rows: tuple[TradeRow, ...]
    cash_before: Decimal | None = None
    cash_after: Decimal | None = None
    derived_from: str | None = None

    def requests(self) -> tuple[OrderRequest, ...]:
        return tuple(OrderRequest(symbol=r.symbol, side=r.side, quantity=r.quantity, last_price=r.price)
                     for r in self.rows)


def sheet_from_records(records: list[dict[str, Any]], run_id: str, as_of: date, cash_before: Decimal | None = None,
                       cash_after: Decimal | None = None) -> TradeSheet:
    """A sheet from trade records keyed by ``TRADE_COLUMNS`` (text as written to ``trades.csv``)."""
    rows = tuple(_row(record, f"trade {i + 1}") for i, record in enumerate(records))
    return TradeSheet(run_id=run_id, as_of=as_of, rows=rows, cash_before=cash_before, cash_after=cash_after)


def manifest_beside(trades_path: Path, manifest_path: Path | None) -> Manifest | None:
    """The manifest named, else ``manifest.json`` beside the trade list, else None."""
    if manifest_path is not None:
        return read_manifest(manifest_path)
    candidate = trades_path.parent / MANIFEST_FILE
    return read_manifest(candidate) if candidate.is_file() else None


def read_trade_sheet(path: Path, manifest: Manifest | None, new_ids: bool = False) -> TradeSheet:
    """Read ``trades.csv`` or ``trades.json`` (by content: JSON starts with ``{``) under the run id its orders may
    take: the run's own for a list the run's manifest records, else refused (``DataError``), or with ``new_ids`` a
    derived one (see ``allocator.orders.provenance``)."""
    text = read_text(path, MAX_TRADE_FILE_BYTES, "trade list", too_large_fix="check that this is a trade list")
    file_sha256 = sha256_of(path)
    carried = None
    if text.lstrip().startswith("{"):
        sheet, carried = _sheet_from_json(path, text, manifest)
    elif manifest is None:
        raise unidentified(str(path))
    else:
        sheet = _sheet_from_csv(path, text, manifest)
    csv_sha256 = hashlib.sha256(trades_csv(sheet)).hexdigest()
    identity = trade_list_identity(str(path), file_sha256, csv_sha256, sheet.as_of, carried, manifest, new_ids)
    return dataclasses.replace(sheet, run_id=identity.run_id, derived_from=identity.derived_from)


def _decimal_text(value: Decimal) -> str:
    return format(value, "f")


def trade_record(row: TradeRow) -> dict[str, str]:
    """A trade as text keyed by ``TRADE_COLUMNS`` (``break_even_alpha`` left out when unknown)."""
    return {"symbol": row.symbol, "side": row.side, "quantity": quantity_text(row.quantity),
            "price": _decimal_text(row.price), "notional": _decimal_text(row.notional),
            "current_quantity": quantity_text(row.current_quantity),
            "target_quantity": quantity_text(row.target_quantity),
            "current_weight": _decimal_text(row.current_weight), "target_weight": _decimal_text(row.target_weight),
            "estimated_cost": _decimal_text(row.estimated_cost),
            **({} if row.break_even_alpha is None else {"break_even_alpha": _decimal_text(row.break_even_alpha)}),
            "reason": row.reason}


def trades_csv(sheet: TradeSheet) -> bytes:
    """``trades.csv``: the trade list; symbol and reason are spreadsheet-safe."""
    rows = sheet.rows
    numbers = [[quantity_text(r.quantity) for r in rows], [format(r.price, "f") for r in rows],
               [format(r.notional, "f") for r in rows], [quantity_text(r.current_quantity) for r in rows],
               [quantity_text(r.target_quantity) for r in rows], [format(r.current_weight, "f") for r in rows],
               [format(r.target_weight, "f") for r in rows], [format(r.estimated_cost, "f") for r in rows],
               ["" if r.break_even_alpha is None else format(r.break_even_alpha, "f") for r in rows]]
    return trades_csv_of([r.symbol for r in rows], [r.side for r in rows], numbers, [r.reason for r in rows])


def trades_csv_of(symbols: Sequence[str], sides: Sequence[str], numbers: Sequence[Sequence[str]],
                  reasons: Sequence[str]) -> bytes:
    """The bytes of ``trades.csv`` from its columns: ``numbers`` are the texts of the columns from quantity to
    break_even_alpha, in the order of ``TRADE_COLUMNS`` (``trade_record``'s cells).

    They are those of ``csv_bytes``: numbers never need quotes, and the text cells are quoted one by one
    (``csv_cell``), since most reasons hold a comma and would otherwise send the whole file through ``csv.writer``."""
    lines = map(",".join, zip(map(_text_cell, symbols), map(csv_cell, sides), *numbers, map(_text_cell, reasons),
                              strict=True))
    return "\n".join([",".join(TRADE_COLUMNS), *lines, ""]).encode("utf-8")


def _text_cell(text: str) -> str:
    return csv_cell(safe_text(text))


def _sheet_from_csv(path: Path, text: str, manifest: Manifest) -> TradeSheet:
    where = str(path)
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = reader.fieldnames or []
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise DataError(where, f"not a trade list: missing columns {', '.join(missing)}",
                        f"give a trades.csv written by allocate (columns: {', '.join(REQUIRED_COLUMNS)})")
    rows = tuple(_row({c: unquote(record.get(c) or "") for c in TRADE_COLUMNS}, f"{where}: row {n}")
                 for n, record in enumerate(reader, start=2))
    _unique(rows, where)
    return TradeSheet(run_id=manifest.run_id, as_of=manifest.as_of, rows=rows)


def _sheet_from_json(path: Path, text: str, manifest: Manifest | None) -> tuple[TradeSheet, Carried]:
    where = str(path)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DataError(f"{where}:{exc.lineno}:{exc.colno}", f"invalid JSON: {exc.msg}", "fix the JSON") from None
    if not isinstance(data, dict) or not isinstance(data.get("trades"), list):
        raise DataError(where, "not a trade list (expected an object with a 'trades' array)",
                        "give a trades.json written by allocate")
    run_id = data.get("run_id", manifest.run_id if manifest else None)
    if not isinstance(run_id, str) or not RUN_ID_PATTERN.fullmatch(run_id):
        raise DataError(f"{where}: run_id", "missing or not a SHA-256 hex digest",
                        "give a trades.json written by allocate, or its run's manifest with --manifest")
    as_of = as_of_date(data.get("as_of"), f"{where}: as_of")
    derived_from = data.get("derived_from")
    if derived_from is not None and (not isinstance(derived_from, str) or not RUN_ID_PATTERN.fullmatch(derived_from)):
        raise DataError(f"{where}: derived_from", "not a SHA-256 hex digest", "give a trades.json written by allocate")
    rows = []
    for i, record in enumerate(data["trades"]):
        if not isinstance(record, dict):
            raise DataError(f"{where}: trades[{i}]", "expected an object", "give a trades.json written by allocate")
        rows.append(_row({c: record.get(c) for c in TRADE_COLUMNS}, f"{where}: trades[{i}]"))
    _unique(tuple(rows), where)
    cash = [_optional_decimal(data.get(k), f"{where}: {k}") for k in ("cash_before", "cash_after")]
    sheet = TradeSheet(run_id=run_id, as_of=as_of, rows=tuple(rows), cash_before=cash[0], cash_after=cash[1])
    return sheet, Carried(run_id=run_id, as_of=as_of, derived_from=derived_from)


def _row(record: dict[str, Any], where: str) -> TradeRow:
    symbol = _text(record.get("symbol"), f"{where}: symbol", required=True)
    side = _text(record.get("side"), f"{where}: side", required=True).upper()
    if side not in (BUY, SELL):
        raise DataError(f"{where}: side", f"expected BUY or SELL, got {side!r}", "fix the side")
    numbers = {c: _decimal(record.get(c), f"{where}: {c}") for c in NUMBER_COLUMNS}
    alpha = record.get("break_even_alpha")
    break_even = None if alpha is None or alpha == "" else _decimal(alpha, f"{where}: break_even_alpha")
    for column in ("quantity", "price"):
        if numbers[column] <= 0:
            raise DataError(f"{where}: {column}", f"must be positive, got {numbers[column]}", f"fix the {column}")
    for column in ("notional", "current_quantity", "target_quantity", "estimated_cost"):
        if numbers[column] < 0:
            raise DataError(f"{where}: {column}", f"must not be negative, got {numbers[column]}",
                            f"fix the {column}")
    if break_even is not None and break_even < 0:
        raise DataError(f"{where}: break_even_alpha", f"must not be negative, got {break_even}",
                        "fix the break_even_alpha")
    return TradeRow(symbol=symbol, side=Side(side), reason=_text(record.get("reason"), f"{where}: reason"),
                    break_even_alpha=break_even, **numbers)


def _text(value: Any, where: str, required: bool = False) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise DataError(where, f"expected text, got {value!r}", "write it as a string")
    if required and not value.strip():
        raise DataError(where, "empty", "fill it in or delete the row")
    if CONTROL.search(value):
        raise DataError(where, f"holds a control character: {value!r}", "remove it")
    return value


def _decimal(value: Any, where: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise DataError(where, f"expected a decimal number as text, got {value!r}", "write e.g. \"100\"")
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise DataError(where, f"not a number: {value!r}", "give a plain decimal number") from None
    if not number.is_finite():
        raise DataError(where, f"not a finite number: {value!r}", "give a plain decimal number")
    return number


def _optional_decimal(value: Any, where: str) -> Decimal | None:
    return None if value is None else _decimal(value, where)


def _unique(rows: tuple[TradeRow, ...], where: str) -> None:
    seen: set[str] = set()
    for row in rows:
        if row.symbol in seen:
            raise DataError(where, f"symbol {row.symbol} appears twice",
                            "a trade list holds one trade per symbol (each becomes one order with its own ID)")
        seen.add(row.symbol)
