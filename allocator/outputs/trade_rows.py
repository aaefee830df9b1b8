"""A run's trades as the order formats take them: plain records, then a ``TradeSheet`` with the run's identity.

Quantities, prices and money are written as text (``Decimal`` to string), so nothing is lost to floats and a
trade list read back (``allocator.orders.trade_sheet``) writes the same bytes.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from allocator.files.cells import fixed, fixed_column, quantity_text
from allocator.orders.trade_sheet import CONTROL, TradeRow, TradeSheet, sheet_from_records, trusted_row
from allocator.outputs.manifest import run_id
from allocator.pipeline import RunResult
from allocator.terms import BUY, SELL
from allocator.trading.trades import Trade, TradeList


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
    the text round trip; a trade that reading would refuse goes through ``sheet_from_records`` for its error."""
    trades = result.trades
    identity = run_id(result) if identity is None else identity
    listed = trades.trades
    weights = [fixed_column([getattr(t, name) for t in listed]) for name in FIXED_FIELDS]  # a format per column
    rows = []
    for t, *texts in zip(listed, *weights, strict=True):
        row = _checked_row(t, *texts)
        if row is None:
            return sheet_from_records(trade_rows(trades), identity, result.as_of, trades.cash_before_value,
                                      trades.cash_after_value)
        rows.append(row)
    return TradeSheet(run_id=identity, as_of=result.as_of, rows=tuple(rows), cash_before=trades.cash_before_value,
                      cash_after=trades.cash_after_value)


FIXED_FIELDS = ("current_weight", "target_weight", "break_even_alpha")  # the float fields, written by ``fixed``


def _checked_row(t: Trade, current_weight: str, target_weight: str, alpha_text: str) -> TradeRow | None:
    """The ``TradeRow`` of ``t`` (its float fields already ``fixed``), or None when reading it back would refuse it.

    The row is made by ``trusted_row``, as the checks here are those of reading (the frozen dataclass's own
    ``__init__`` was about half the time of a row)."""
    quantity, current, target = (Decimal(quantity_text(t.quantity)), Decimal(quantity_text(t.current_quantity)),
                                 Decimal(quantity_text(t.target_quantity)))
    weights = Decimal(current_weight), Decimal(target_weight)
    alpha = Decimal(alpha_text)
    if not (all(map(Decimal.is_finite, (quantity, current, target, alpha, *weights, t.price, t.notional_value,
                                        t.estimated_cost_value)))
            and quantity > 0 and t.price > 0 and t.notional_value >= 0 and current >= 0 and target >= 0
            and t.estimated_cost_value >= 0 and alpha >= 0 and t.symbol.strip() and t.side in (BUY, SELL)
            and not CONTROL.search(t.symbol) and not CONTROL.search(t.reason)):
        return None
    return trusted_row({"symbol": t.symbol, "side": t.side, "quantity": quantity, "price": t.price,
                        "notional": t.notional_value, "current_quantity": current, "target_quantity": target,
                        "current_weight": weights[0], "target_weight": weights[1],
                        "estimated_cost": t.estimated_cost_value, "reason": t.reason, "break_even_alpha": alpha})


def trades_json(result: RunResult) -> bytes:
    """``trades.json``: the trade list with each trade's order (``allocator.orders.export``, schema in ``schemas/``)."""
    from allocator.config.schema import OutputFormat
    from allocator.orders.export import render

    return render(trade_sheet(result), OutputFormat.JSON, result.config.orders)
