"""What a worker of ``allocate batch`` imports as it starts (Dask's ``preload``, ``engine.PRELOAD``): the modules a
chunk of accounts runs through, so that the first chunk does not wait for them (about 1 s of imports: numpy,
pandas, scipy's sparse matrices, Clarabel, the pipeline and the output files)."""

from __future__ import annotations

import clarabel

import allocator.batch.chunk
import allocator.optimize.conic
import allocator.optimize.problem
import allocator.outputs.run_files
import allocator.outputs.summary
import allocator.trading.trades

__all__ = ["allocator", "clarabel"]
