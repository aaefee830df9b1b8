"""Orders: a run's trade list -> the files an order system takes, and the orders sent to a broker over FIX.

- ``trade_sheet``: ``TradeSheet``, the trade list as written and read back (quantities in shares, money in the
  account currency, ``Decimal`` throughout), and ``sheet_from_records``;
- ``ids``: ``Order`` and its client order ID, derived from the run's ``run_id`` (``run_fingerprint``,
  ``RUN_ID_PATTERN``);
- ``export``: ``export_trades`` (``allocate export``), ``trade_files`` and ``render`` (csv, json, fix, basket);
- ``fix_message``: FIX 4.4 encoding and parsing; ``fix_session``: the QuickFIX session (the ``fix`` extra);
- ``send``: ``send_orders`` (``allocate send``) with ``SendOptions``, ``WaitFor``, ``load_batch``,
  ``journal_path``, ``report_lines`` and ``execution_report_csv``; ``journal``: the SQLite order journal that
  keeps an order from being sent twice.

The names below load on first use: ``allocate export`` then never loads the FIX session and the journal, and
``allocator.outputs.manifest``, which this package's modules import, may import ``ids`` without a cycle.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from allocator.lazy import lazy_attributes

if TYPE_CHECKING:
    from allocator.orders.export import export_trades, render, trade_files
    from allocator.orders.ids import RUN_ID_PATTERN, run_fingerprint
    from allocator.orders.send import (
        SendOptions,
        WaitFor,
        execution_report_csv,
        journal_path,
        load_batch,
        report_lines,
        send_orders,
    )
    from allocator.orders.trade_sheet import TradeSheet, sheet_from_records

MODULES = {"export_trades": "export", "render": "export", "trade_files": "export", "RUN_ID_PATTERN": "ids",
           "run_fingerprint": "ids", "SendOptions": "send", "WaitFor": "send", "execution_report_csv": "send",
           "journal_path": "send", "load_batch": "send", "report_lines": "send", "send_orders": "send",
           "TradeSheet": "trade_sheet", "sheet_from_records": "trade_sheet"}
__all__ = ["RUN_ID_PATTERN", "SendOptions", "TradeSheet", "WaitFor", "execution_report_csv", "export_trades",
           "journal_path", "load_batch", "render", "report_lines", "run_fingerprint", "send_orders",
           "sheet_from_records", "trade_files"]


__getattr__ = lazy_attributes(__name__, MODULES)
