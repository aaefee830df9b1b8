"""allocate: tactical portfolio allocation with a small-cap tilt, RSI trims and reconciled trade lists.

The public API is ``allocator.run`` (one rebalance) and ``allocator.prepare`` (every input validated, nothing
solved). This module imports nothing heavy: the pipeline loads when first used.
"""

from __future__ import annotations

__version__ = "0.1.0"

TYPE_CHECKING = False  # typing is not imported: the command starts from here, so this module stays minimal
if TYPE_CHECKING:
    from typing import Any

    from allocator.pipeline import prepare, run

__all__ = ["__version__", "prepare", "run"]


def __getattr__(name: str) -> Any:
    if name in ("run", "prepare"):
        from allocator import pipeline

        return getattr(pipeline, name)
    raise AttributeError(f"module 'allocator' has no attribute {name!r}")
