"""``allocate backtest``: the pipeline of ``allocate run`` walked forward date by date, on what was known each date.

- ``schedule``: the rebalance calendar and fill dates; ``point_in_time``: each date's view of the inputs;
- ``strategies``: the config, its ablations, the benchmark and riskfolio-lib baselines, and what each decides;
- ``ledger``: fills, cash interest and valuation in exact decimals; ``simulation``: one strategy through the
  calendar; ``journal``: resumption; ``engine``: every strategy; ``parallel``: in worker processes (Dask);
- ``metrics``, ``rules`` and ``bootstrap``: performance, the RSI trims' hit rate and the signals' IC, confidence
  intervals; ``riskfolio_adapter``: riskfolio-lib behind one door;
- ``files``, ``charts`` and ``manifest``: the output folder, its PNG charts and its repeatable record.

The names below load on first use, so ``allocate --help`` stays instant.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from allocator.lazy import lazy_attributes

if TYPE_CHECKING:
    from allocator.backtest.engine import BacktestResult, run_backtest
    from allocator.backtest.strategies import Strategy, fixed_weights, named_strategies

MODULES = {"BacktestResult": "engine", "run_backtest": "engine", "Strategy": "strategies",
           "fixed_weights": "strategies", "named_strategies": "strategies"}
__all__ = ["BacktestResult", "Strategy", "fixed_weights", "named_strategies", "run_backtest"]


__getattr__ = lazy_attributes(__name__, MODULES)
