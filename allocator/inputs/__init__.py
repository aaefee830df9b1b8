"""Inputs: the account's holdings, the price histories and the fundamentals, read, checked and mapped onto the
modelled universe.

- ``holdings``: ``read_holdings`` -> ``Holdings`` (quantities in shares, cash in the account currency), from a
  plain CSV, a broker's position export (``holdings_table``) or an Interactive Brokers Activity Statement
  (``ibkr_statement``);
- ``market_data``: ``read_prices`` (daily closes, CSV or Parquet; ``price_files`` reads them with pyarrow),
  ``read_fundamentals`` and ``price_window`` -> ``PriceWindow`` (the closes up to the as-of date, short gaps filled);
- ``universe``: ``build_universe`` -> ``Universe`` (current and benchmark weights as fractions of NAV, trade
  prices, groups) and ``universe_symbols``.

The names below load on first use (this package needs NumPy and pandas), so ``allocate --help`` stays instant.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from allocator.lazy import lazy_attributes

if TYPE_CHECKING:
    from allocator.inputs.holdings import read_holdings
    from allocator.inputs.market_data import PriceWindow, price_window, read_fundamentals, read_prices
    from allocator.inputs.universe import build_universe, universe_symbols

MODULES = {"read_holdings": "holdings", "PriceWindow": "market_data", "price_window": "market_data",
           "read_fundamentals": "market_data", "read_prices": "market_data", "build_universe": "universe",
           "universe_symbols": "universe"}
__all__ = ["PriceWindow", "build_universe", "price_window", "read_fundamentals", "read_holdings", "read_prices",
           "universe_symbols"]


__getattr__ = lazy_attributes(__name__, MODULES)
