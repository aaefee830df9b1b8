"""A run's trades as the order formats take them: plain records, then a ``TradeSheet`` with the run's identity.

Quantities, prices and money are written as text (``Decimal`` to string), so nothing is lost to floats and a
trade list read back (``allocator.orders.trade_sheet``) writes the same bytes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from allocator.files.cells import fixed, quantity_text
from allocator.outputs.manifest import run_id
from allocator.pipeline import RunResult
from allocator.trading.trades import TradeList

if TYPE_CHECKING:
    from allocator.orders.trade_sheet import TradeSheet


def trade_rows(trades: TradeList) -> list[dict[str, Any]]:
    """The trade list as plain records (strings for quantities and money, so nothing is lost to floats)."""
    return [{"symbol": t.symbol, "side": t.side, "quantity": quantity_text(t.quantity), "price": str(t.price),
             "notional": str(t.notional_value), "current_quantity": quantity_text(t.current_quantity),
             "target_quantity": quantity_text(t.target_quantity), "current_weight": fixed(t.current_weight),
             "target_weight": fixed(t.target_weight), "estimated_cost": str(t.estimated_cost_value),
             "break_even_alpha": fixed(t.break_even_alpha), "reason": t.reason} for t in trades.trades]


def trade_sheet(result: RunResult) -> TradeSheet:
    """The run's trade list with its run id and as-of date, as the order formats take it."""
    from allocator.orders.trade_sheet import sheet_from_records

    trades = result.trades
    return sheet_from_records(trade_rows(trades), run_id(result), result.as_of, trades.cash_before_value,
                              trades.cash_after_value)


def trades_json(result: RunResult) -> bytes:
    """``trades.json``: the trade list with each trade's order (``allocator.orders.export``, schema in ``schemas/``)."""
    from allocator.config.schema import OutputFormat
    from allocator.orders.export import render

    return render(trade_sheet(result), OutputFormat.JSON, result.config.orders)
