"""Trade list -> the files an order system takes: ``csv``, ``basket``, ``json`` and ``fix``.

- ``csv`` (``trades.csv``): the trade list, one row per trade (docs/orders.md, "Formats").
- ``basket`` (``basket.csv``): an Interactive Brokers BasketTrader file: ``Action, Quantity, Symbol, SecType,
  Exchange, Currency, TimeInForce, OrderType, LmtPrice, Account``. IB has no at-the-close time in force, so CLS
  orders are written as ``MOC`` / ``LOC`` with ``DAY``; OPG orders as ``MKT`` / ``LMT`` with ``OPG``.
- ``json`` (``trades.json``): the trade list with each trade's order, as described by the JSON Schema shipped in
  ``allocator/schemas/trades.schema.json`` (``derived_from``: the original run of a list given new order IDs).
  Numbers are strings so no digit is lost to floating point.
- ``fix`` (``orders.fix``): one FIX 4.4 NewOrderSingle per line, complete with the standard header (SenderCompID,
  TargetCompID from ``orders:``, MsgSeqNum from 1, SendingTime) and trailer; see ``allocator.orders.fix_message``.

Text cells of the CSV files are spreadsheet-safe (``allocator.files.cells``). Every file is a pure function of the
trade list, its run id and as-of date and the order settings: the same run writes the same bytes.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from allocator.config.schema import FixDelimiter, OrdersConfig, OrderType, OutputFormat, TimeInForce
from allocator.errors import ConfigError, DataError
from allocator.files.cells import csv_bytes, quantity_text, safe_text
from allocator.files.manifest import Manifest
from allocator.orders.ids import Order, build_orders
from allocator.orders.trade_sheet import TradeSheet, manifest_beside, read_trade_sheet, trade_record, trades_csv

FILE_NAMES = {OutputFormat.CSV: "trades.csv", OutputFormat.JSON: "trades.json", OutputFormat.FIX: "orders.fix",
              OutputFormat.BASKET: "basket.csv"}
SCHEMA_NAME = "allocate.trades/1"
BASKET_COLUMNS = ("Action", "Quantity", "Symbol", "SecType", "Exchange", "Currency", "TimeInForce", "OrderType",
                  "LmtPrice", "Account")
IB_TIME_IN_FORCE = {TimeInForce.DAY: "DAY", TimeInForce.GTC: "GTC", TimeInForce.OPG: "OPG", TimeInForce.CLS: "DAY"}


def _text(value: Decimal) -> str:
    return format(value, "f")


def _ib_order_type(order: Order) -> str:
    limit = order.order_type is OrderType.LIMIT
    if order.time_in_force is TimeInForce.CLS:
        return "LOC" if limit else "MOC"
    return "LMT" if limit else "MKT"


def basket_csv(orders: Sequence[Order]) -> bytes:
    """An Interactive Brokers BasketTrader CSV; every text cell is spreadsheet-safe."""
    rows = [[order.side, quantity_text(order.quantity), safe_text(order.symbol), "STK",
             safe_text(order.destination or "SMART"), order.currency, IB_TIME_IN_FORCE[order.time_in_force],
             _ib_order_type(order), "" if order.limit_price is None else _text(order.limit_price),
             safe_text(order.account or "")] for order in orders]
    return csv_bytes(BASKET_COLUMNS, rows)


def _order_json(order: Order) -> dict[str, Any]:
    return {"client_order_id": order.client_order_id, "order_type": order.order_type.value,
            "limit_price": None if order.limit_price is None else _text(order.limit_price),
            "time_in_force": order.time_in_force.value, "account": order.account, "destination": order.destination,
            "currency": order.currency, "transact_time": order.transact_time.strftime("%Y-%m-%dT%H:%M:%SZ")}


def trades_json(sheet: TradeSheet, orders: Sequence[Order]) -> bytes:
    """``trades.json``: the trade list, each trade with its order (schema ``allocate.trades/1``)."""
    document: dict[str, Any] = {"schema": SCHEMA_NAME, "run_id": sheet.run_id, "as_of": sheet.as_of.isoformat()}
    if sheet.derived_from is not None:
        document["derived_from"] = sheet.derived_from
    if sheet.cash_before is not None:
        document["cash_before"] = _text(sheet.cash_before)
    if sheet.cash_after is not None:
        document["cash_after"] = _text(sheet.cash_after)
    document["trades"] = [{**trade_record(row), "order": _order_json(order)}
                          for row, order in zip(sheet.rows, orders, strict=True)]
    return (json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def orders_fix(orders: Sequence[Order], settings: OrdersConfig, delimiter: FixDelimiter | None = None) -> bytes:
    """One FIX 4.4 NewOrderSingle per line, MsgSeqNum from 1, SendingTime = TransactTime = the file time."""
    from allocator.orders.fix_message import PIPE, SOH, FixFormatError, encode, new_order_single_body, utc_timestamp

    if orders and settings.account is None:
        raise ConfigError("orders.account", "the fix format writes tag 1 Account, and no account is set",
                          "set orders.account to the broker account the orders are for")
    sep = PIPE if (delimiter or settings.fix_delimiter) is FixDelimiter.PIPE else SOH
    lines = []
    for number, order in enumerate(orders, start=1):
        header = [(49, settings.sender_comp_id), (56, settings.target_comp_id), (34, str(number)),
                  (52, utc_timestamp(order.transact_time))]
        try:
            lines.append(encode("D", header, new_order_single_body(order), sep) + "\n")
        except FixFormatError as exc:
            hint = "set orders.fix_delimiter: soh" if sep == PIPE else "remove control characters"
            raise DataError(f"order {order.client_order_id} ({order.symbol})", str(exc), hint) from None
    return "".join(lines).encode("utf-8")


def render(sheet: TradeSheet, trade_format: OutputFormat, settings: OrdersConfig,
           delimiter: FixDelimiter | None = None) -> bytes:
    """The bytes of ``sheet`` in ``trade_format``."""
    if trade_format is OutputFormat.CSV:
        return trades_csv(sheet)
    orders = build_orders(sheet.requests(), sheet.run_id, sheet.as_of, settings)
    if trade_format is OutputFormat.BASKET:
        return basket_csv(orders)
    if trade_format is OutputFormat.JSON:
        return trades_json(sheet, orders)
    return orders_fix(orders, settings, delimiter)


def trade_files(sheet: TradeSheet, formats: Iterable[OutputFormat], settings: OrdersConfig) -> dict[str, bytes]:
    """File name -> bytes for each format asked for (``trades.csv``, ``trades.json``, ``orders.fix``, ...)."""
    return {FILE_NAMES[f]: render(sheet, f, settings) for f in dict.fromkeys(formats)}


def order_settings(config_path: Path | None, manifest: Manifest | None) -> OrdersConfig:
    """The ``orders:`` settings: from ``config_path`` when given, else the run's manifest, else the defaults.

    ``require_approval`` is the stricter of the two: a run recorded as needing approval keeps needing it whatever
    config is given with ``-c``."""
    recorded = _recorded_settings(manifest)
    if config_path is None:
        return recorded or OrdersConfig()
    from allocator.config.loader import load_config

    given = load_config(config_path).config.orders
    if recorded is not None and recorded.require_approval and not given.require_approval:
        return given.model_copy(update={"require_approval": True})
    return given


def _recorded_settings(manifest: Manifest | None) -> OrdersConfig | None:
    if manifest is None or manifest.orders is None:
        return None
    try:
        return OrdersConfig.model_validate(manifest.orders)
    except ValidationError as exc:
        problems = [f"orders.{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()]
        raise ConfigError(f"{manifest.path}: resolved_config.orders", "invalid order settings",
                          "give the config with -c/--config", details=problems) from None


@dataclass(frozen=True)
class Exported:
    """An exported trade list: the bytes, and the sheet they were made from (its run id and ``derived_from``)."""

    data: bytes
    sheet: TradeSheet


def export_trades(trades_path: Path, trade_format: OutputFormat, config_path: Path | None = None,
                  manifest_path: Path | None = None, delimiter: FixDelimiter | None = None,
                  new_ids: bool = False) -> Exported:
    """Convert an existing trade list (``trades.csv`` or ``trades.json``) to ``trade_format``.

    The run id and as-of date come from a JSON trade list itself, else from the run's manifest (beside the file
    or ``manifest_path``); the order settings from ``config_path``, else the manifest's resolved config. A list
    the manifest does not record is refused, or with ``new_ids`` given new order IDs
    (``allocator.orders.provenance``).
    """
    manifest = manifest_beside(trades_path, manifest_path)
    sheet = read_trade_sheet(trades_path, manifest, new_ids)
    return Exported(render(sheet, trade_format, order_settings(config_path, manifest), delimiter), sheet)
