"""A run's trades as the order formats take them: plain records, then a ``TradeSheet`` with the run's identity.

Quantities, prices and money are written as text (``Decimal`` to string), so nothing is lost to floats and a
trade list read back (``allocator.orders.trade_sheet``) writes the same bytes.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from decimal import Decimal
from operator import attrgetter
from typing import Any

from allocator.files.cells import fixed, fixed_column, quantity_text
from allocator.orders.trade_sheet import (
    CONTROL,
    TradeRow,
    TradeSheet,
    sheet_from_records,
    trade_line,
    trades_csv,
    trades_csv_of,
    trusted_row,
)
from allocator.outputs.manifest import run_id
from allocator.pipeline import RunResult
from allocator.terms import BUY, SELL
from allocator.trading.trades import Trade, TradeList

TradeLine = tuple[str, str, tuple[str, ...], str]  # ``trade_line``'s arguments


def trade_rows(trades: TradeList) -> list[dict[str, Any]]:
    """The trade list as plain records (strings for quantities and money, so nothing is lost to floats)."""
    return [{"symbol": t.symbol, "side": t.side, "quantity": quantity_text(t.quantity), "price": str(t.price),
             "notional": str(t.notional_value), "current_quantity": quantity_text(t.current_quantity),
             "target_quantity": quantity_text(t.target_quantity), "current_weight": fixed(t.current_weight),
             "target_weight": fixed(t.target_weight), "estimated_cost": str(t.estimated_cost_value),
             "break_even_alpha": fixed(t.break_even_alpha), "reason": t.reason} for t in trades.trades]


def trade_sheet(result: RunResult, identity: str | None = None) -> TradeSheet:
    """The run's trade list with its run id (``identity`` when the caller has it) and as-of date, as the order
    formats take it.

    Each row holds what ``sheet_from_records`` reads back from ``trade_rows`` (the ``Decimal`` of each text; price,
    notional and cost are their own ``Decimal``, which ``str`` then ``Decimal`` gives back exactly), made without
    the text round trip; a list that reading would refuse goes through ``sheet_from_records`` for its error."""
    return sheet_and_csv(result, identity, csv=False)[0]


def sheet_and_csv(result: RunResult, identity: str | None = None, csv: bool = True) -> tuple[TradeSheet, bytes]:
    """``trade_sheet(result, identity)`` and, with ``csv``, its ``trades.csv`` (the bytes of ``trades_csv``) written
    from the texts the sheet's numbers are read from: ``quantity_text`` and ``format(..., "f")`` of those numbers
    give the same texts back (b"" without ``csv``)."""
    trades = result.trades
    identity = run_id(result) if identity is None else identity
    written = _checked_rows(trades.trades)
    if written is None:
        sheet = sheet_from_records(trade_rows(trades), identity, result.as_of, trades.cash_before_value,
                                   trades.cash_after_value)
        return sheet, trades_csv(sheet) if csv else b""
    rows, lines = written
    sheet = TradeSheet(run_id=identity, as_of=result.as_of, rows=rows, cash_before=trades.cash_before_value,
                       cash_after=trades.cash_after_value)
    return sheet, trades_csv_of([trade_line(*line) for line in lines]) if csv else b""


TRADE_FIELDS = attrgetter("symbol", "side", "quantity", "price", "notional_value", "current_quantity",
                          "target_quantity", "current_weight", "target_weight", "estimated_cost_value", "reason",
                          "break_even_alpha")  # a Trade's fields in the order of ``TradeRow``'s
ROW_FIELDS = tuple(field.name for field in dataclasses.fields(TradeRow))


def _checked_rows(listed: tuple[Trade, ...]) -> tuple[tuple[TradeRow, ...], Iterator[TradeLine]] | None:
    """The ``TradeRow`` of each trade and the texts of its ``trades.csv`` line (``trade_line``'s arguments), or
    None when reading any of them back would refuse it.

    The checks are those of reading, made a column at a time (a list is refused whichever row fails); the rows are
    made by ``trusted_row`` (the frozen dataclass's own ``__init__`` was about half the time of a row)."""
    if not listed:
        return (), iter(())
    (symbols, sides, quantities, prices, notionals, currents, targets, current_weights, target_weights, costs,
     reasons, alphas) = zip(*map(TRADE_FIELDS, listed), strict=True)
    quantity_texts = [list(map(quantity_text, column)) for column in (quantities, currents, targets)]
    n = len(listed)
    weights = fixed_column((*current_weights, *target_weights, *alphas))  # one format for the three columns
    weight_texts = weights[:n], weights[n:2 * n], weights[2 * n:]
    quantity, current, target, current_weight, target_weight, alpha = (
        list(map(Decimal, texts)) for texts in (*quantity_texts, *weight_texts))
    numbers = (quantity, current, target, current_weight, target_weight, alpha, prices, notionals, costs)
    if not (all(all(map(Decimal.is_finite, column)) for column in numbers)
            and min(quantity) > 0 and min(prices) > 0 and min(notionals) >= 0 and min(current) >= 0
            and min(target) >= 0 and min(costs) >= 0 and min(alpha) >= 0 and all(map(str.strip, symbols))
            and all(side in (BUY, SELL) for side in sides) and not CONTROL.search("".join(symbols + reasons))):
        return None
    rows = tuple(trusted_row(dict(zip(ROW_FIELDS, values, strict=True))) for values in zip(
        symbols, sides, quantity, prices, notionals, current, target, current_weight, target_weight, costs, reasons,
        alpha, strict=True))
    price_texts, notional_texts, cost_texts = ([format(value, "f") for value in column]
                                               for column in (prices, notionals, costs))
    numbers_texts = zip(quantity_texts[0], price_texts, notional_texts, quantity_texts[1], quantity_texts[2],
                        *weight_texts[:2], cost_texts, weight_texts[2], strict=True)
    return rows, zip(symbols, sides, numbers_texts, reasons, strict=True)


def trades_json(result: RunResult) -> bytes:
    """``trades.json``: the trade list with each trade's order (``allocator.orders.export``, schema in ``schemas/``)."""
    from allocator.config.schema import OutputFormat
    from allocator.orders.export import render

    return render(trade_sheet(result), OutputFormat.JSON, result.config.orders)
