"""Compare scenarios: several configs on one holdings snapshot, solved side by side, as tables, files and a chart.

- ``scenarios``: ``compare`` -> ``Comparison`` (each scenario's ``RunResult`` or its failure);
- ``tables``: ``comparison_tables`` -> ``ComparisonTables`` (metrics, weights, trades; scenarios as columns);
- ``files``: ``comparison_files`` (name -> bytes of the output folder); ``chart``: the weights chart (PNG);
- ``report``: ``print_comparison``, the terminal tables.

The names below load on first use (this package needs NumPy and pandas), so ``allocate --help`` stays instant.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from allocator.lazy import lazy_attributes

if TYPE_CHECKING:
    from allocator.compare.files import comparison_files
    from allocator.compare.report import print_comparison
    from allocator.compare.scenarios import Comparison, compare
    from allocator.compare.tables import ComparisonTables, comparison_tables

MODULES = {"Comparison": "scenarios", "compare": "scenarios", "ComparisonTables": "tables",
           "comparison_tables": "tables", "comparison_files": "files", "print_comparison": "report"}
__all__ = ["Comparison", "ComparisonTables", "compare", "comparison_files", "comparison_tables",
           "print_comparison"]


__getattr__ = lazy_attributes(__name__, MODULES)
