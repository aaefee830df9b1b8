"""The report: one self-contained web page per output folder (run, comparison, frontier), and the efficient
frontier under the account's own limits.

- ``folder``: ``OutputFolder`` (a folder's files by name) and ``read_folder``;
- ``page``: the page as data (``Page``, ``Section``, ``Table``, ``Figure``...); the number formats;
- ``run_page``, ``compare_page``, ``frontier_page``: a page per kind of folder; ``trade_list``: a run's trades,
  their digest and approval (``allocator.orders.approval``);
- ``charts``: inline SVG charts; ``html``: ``page_html``, the page as one HTML file;
- ``build``: ``report_html`` and ``register`` (another kind of folder, such as a backtest's, plugs in there);
- ``frontier``: ``efficient_frontier`` -> ``Frontier``; ``frontier_files``: its CSV, JSON and PNG.

The names below load on first use (this package needs NumPy and matplotlib), so ``allocate --help`` stays instant.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from allocator.lazy import lazy_attributes

if TYPE_CHECKING:
    from allocator.report.build import PageKind, register, report_html
    from allocator.report.folder import OutputFolder, read_folder
    from allocator.report.frontier import Frontier, efficient_frontier

MODULES = {"PageKind": "build", "register": "build", "report_html": "build", "OutputFolder": "folder",
           "read_folder": "folder", "Frontier": "frontier", "efficient_frontier": "frontier"}
__all__ = ["Frontier", "OutputFolder", "PageKind", "efficient_frontier", "read_folder", "register", "report_html"]


__getattr__ = lazy_attributes(__name__, MODULES)
