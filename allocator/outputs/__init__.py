"""Outputs of a run: its summary, its files and the terminal report; and repeating a run from its manifest.

- ``summary``: ``summarize`` -> ``RunSummary`` (computed once per run), ``summary_json``;
- ``metrics``: the portfolio statistics behind it (``PortfolioStats``, ``Exposures``, ``risk_contributions``);
- ``run_files``: ``run_files`` (name -> bytes of the output folder), ``weights_csv``;
- ``trade_rows``: ``trade_sheet``, the run's trades as the order formats take them;
- ``manifest``: ``manifest_of``, ``run_id``, ``versions`` (the ``Manifest`` record and its reader:
  ``allocator.files.manifest``);
- ``publish``: ``write_atomically`` (the output folder in one step);
- ``replay``: ``read_replay`` and ``reproduction_report`` for ``allocate run --from-manifest``;
- ``report``: ``print_run``, the terminal tables.

The names below load on first use (most of this package needs NumPy), so ``allocate --help`` stays instant.
The function ``run_files`` is not among them: its module has its name, and once imported the module would stand in
its place here. Import it from ``allocator.outputs.run_files``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from allocator.lazy import lazy_attributes

if TYPE_CHECKING:
    from allocator.outputs.manifest import manifest_of, run_id
    from allocator.outputs.publish import write_atomically
    from allocator.outputs.replay import read_replay, reproduction_report
    from allocator.outputs.report import print_run
    from allocator.outputs.summary import RunSummary, summarize, summary_json
    from allocator.outputs.trade_rows import trade_sheet

MODULES = {"manifest_of": "manifest", "run_id": "manifest",
           "write_atomically": "publish", "read_replay": "replay", "reproduction_report": "replay",
           "print_run": "report", "RunSummary": "summary", "summarize": "summary",
           "summary_json": "summary", "trade_sheet": "trade_rows"}
__all__ = ["RunSummary", "manifest_of", "print_run", "read_replay",
           "reproduction_report", "run_id", "summarize", "summary_json", "trade_sheet",
           "write_atomically"]


__getattr__ = lazy_attributes(__name__, MODULES)
