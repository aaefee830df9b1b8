"""Rebalance a book of accounts to a few models: ``allocate batch``.

- ``accounts``: the book (a folder of holdings files, or one file of several accounts) and the accounts table;
- ``bands``: drift bands (``DriftBand``): an account trades only outside its band;
- ``account_run``: one account on its model (``rebalance_account``), what a worker runs;
- ``engine``: where the accounts run: in this process, or on dask.distributed workers;
- ``journal``: the SQLite journal that lets a killed batch resume;
- ``blocks``: block orders by symbol and side, and ``allocate_fill`` for partial fills;
- ``batch_files``: ``batch.csv``, the block files and the manifest; ``runner``: ``run_batch``, the whole.

The names below load on first use, so ``allocate --help`` stays instant and Dask is imported only by a batch that
uses it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from allocator.lazy import lazy_attributes

if TYPE_CHECKING:
    from allocator.batch.bands import DriftBand, parse_band
    from allocator.batch.blocks import allocate_fill, blocks_of
    from allocator.batch.runner import BatchRequest, BatchResult, run_batch

MODULES = {"DriftBand": "bands", "parse_band": "bands", "allocate_fill": "blocks", "blocks_of": "blocks",
           "BatchRequest": "runner", "BatchResult": "runner", "run_batch": "runner"}
__all__ = ["BatchRequest", "BatchResult", "DriftBand", "allocate_fill", "blocks_of", "parse_band", "run_batch"]


__getattr__ = lazy_attributes(__name__, MODULES)
