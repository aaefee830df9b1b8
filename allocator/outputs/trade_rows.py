"""A run's trades as the order formats take them: plain records, then a ``TradeSheet`` with the run's identity.

Quantities, prices and money are written as text (``Decimal`` to string), so nothing is lost to floats and a
trade list read back (``allocator.orders.trade_sheet``) writes the same bytes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal
from operator import attrgetter
from typing import TYPE_CHECKING, Any

from allocator.files.cells import fixed, fixed_column, quantity_text
from allocator.orders.trade_sheet import (
    CONTROL,
    ROW_FIELDS,
    TradeSheet,
    sheet_from_records,
    trades_csv_of,
    trusted_rows,
)
from allocator.outputs.manifest import run_id
from allocator.pipeline import RunResult
from allocator.terms import BUY, SELL
from allocator.trading.trades import Trade, TradeList

if TYPE_CHECKING:
    from allocator.config.schema import OutputFormat

RowColumns = Sequence[Sequence[Any]]  # trusted_rows' argument
CsvColumns = tuple[Sequence[str], Sequence[str], Sequence[Sequence[str]], Sequence[str]]  # trades_csv_of's arguments


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
    identity = run_id(result) if identity is None else identity
    checked = _checked_columns(result.trades.trades)
    return _read_back(result, identity) if checked is None else _sheet(result, identity, checked[0])


def trade_files_of(result: RunResult, identity: str, formats: Iterable[OutputFormat]) -> dict[str, bytes]:
    """``trade_files(trade_sheet(result, identity), formats, result.config.orders)``, file name -> bytes.

    ``trades.csv`` is written from the texts the sheet's numbers are read from (``quantity_text`` and
    ``format(..., "f")`` of those numbers give the same texts back), and the sheet is made only for another format
    (``allocate batch`` writes ``trades.csv`` alone)."""
    from allocator.config.schema import OutputFormat
    from allocator.orders.export import FILE_NAMES, render, trade_files

    checked = _checked_columns(result.trades.trades)
    if checked is None:
        return trade_files(_read_back(result, identity), formats, result.config.orders)
    row_columns, csv_columns = checked
    sheet = None
    files = {}
    for trade_format in dict.fromkeys(formats):
        if trade_format is OutputFormat.CSV:
            files[FILE_NAMES[trade_format]] = trades_csv_of(*csv_columns)
        else:
            sheet = sheet or _sheet(result, identity, row_columns)
            files[FILE_NAMES[trade_format]] = render(sheet, trade_format, result.config.orders)
    return files


def _sheet(result: RunResult, identity: str, row_columns: Sequence[Sequence[Any]]) -> TradeSheet:
    trades = result.trades
    return TradeSheet(run_id=identity, as_of=result.as_of, rows=trusted_rows(row_columns),
                      cash_before=trades.cash_before_value, cash_after=trades.cash_after_value)


def _read_back(result: RunResult, identity: str) -> TradeSheet:
    """The sheet of the trade records read back (``sheet_from_records``), which refuses what reading refuses."""
    trades = result.trades
    return sheet_from_records(trade_rows(trades), identity, result.as_of, trades.cash_before_value,
                              trades.cash_after_value)


TRADE_FIELDS = attrgetter("symbol", "side", "quantity", "price", "notional_value", "current_quantity",
                          "target_quantity", "current_weight", "target_weight", "estimated_cost_value", "reason",
                          "break_even_alpha")  # a Trade's fields in the order of ``TradeRow``'s


def _checked_columns(listed: tuple[Trade, ...]) -> tuple[RowColumns, CsvColumns] | None:
    """The columns of the ``TradeRow`` of each trade (``trusted_rows``' argument) and those of ``trades.csv``
    (``trades_csv_of``'s arguments), or None when reading any of them back would refuse it.

    The checks are those of reading, made a column at a time (a list is refused whichever row fails); the rows are
    made by ``trusted_rows`` (the frozen dataclass's own ``__init__`` was about half the time of a row)."""
    if not listed:
        return [()] * len(ROW_FIELDS), ((), (), [()] * 9, ())
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
    rows = (symbols, sides, quantity, prices, notionals, current, target, current_weight, target_weight, costs, reasons,
            alpha)
    price_texts, notional_texts, cost_texts = ([format(value, "f") for value in column]
                                               for column in (prices, notionals, costs))
    numbers_texts = [quantity_texts[0], price_texts, notional_texts, quantity_texts[1], quantity_texts[2],
                     *weight_texts[:2], cost_texts, weight_texts[2]]
    return rows, (symbols, sides, numbers_texts, reasons)


def trades_json(result: RunResult) -> bytes:
    """``trades.json``: the trade list with each trade's order (``allocator.orders.export``, schema in ``schemas/``)."""
    from allocator.config.schema import OutputFormat
    from allocator.orders.export import render

    return render(trade_sheet(result), OutputFormat.JSON, result.config.orders)
