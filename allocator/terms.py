"""The words every stage shares: trade sides, the cash symbol, size buckets. Imports nothing (order tools load it)."""

from __future__ import annotations

from enum import StrEnum

CASH_SYMBOL = "CASH"
SIZE_BUCKETS = ("large", "mid", "small", "none")
# the asset classes a fundamentals file may name; signals score only equity, the regime views name bond and commodity
ASSET_CLASSES = ("equity", "bond", "commodity", "real_estate", "cash", "alternative", "multi_asset")


class Side(StrEnum):
    """The side of a trade or order, as written in trade lists."""

    BUY = "BUY"
    SELL = "SELL"


BUY, SELL = Side.BUY, Side.SELL
