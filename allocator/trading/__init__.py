"""Trading: the optimizer's target weights -> a whole-lot trade list that reconciles to the share and the cent.

- ``trades``: ``build_trades`` (the stage's entry), ``TradeList`` and ``Trade`` (what ``outputs`` and ``orders``
  read), ``reconcile`` and ``rounding_breaches``;
- ``rounding``: whole lots within the limits (``TargetLedger``, ``ShareBounds``, ``RoundingChoices``,
  ``LotLimits``);
- ``reasons``: ``trade_reason``, the ``reason`` tag of each trade, and ``signal_reasons``, the part of it the model
  alone decides (kept per model).

The names below load on first use (this package needs NumPy), so importing ``allocator.trading`` stays light.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from allocator.lazy import lazy_attributes

if TYPE_CHECKING:
    from allocator.trading.trades import Trade, TradeList, build_trades, reconcile

__all__ = ["Trade", "TradeList", "build_trades", "reconcile"]


MODULES = {name: "trades" for name in __all__}
__getattr__ = lazy_attributes(__name__, MODULES)
