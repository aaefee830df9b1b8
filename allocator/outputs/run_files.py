"""Render a run's output files: ``weights.csv``, the trade files, ``summary.json`` and ``manifest.json``.

Data files hold no timestamps and fixed-precision numbers, so the same inputs give the same bytes.
``manifest.json`` also records the SHA-256 of every data file, so a repeated run (``allocate run
--from-manifest``) can show that it wrote the same bytes. Writing the folder is ``allocator.outputs.publish``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from allocator.files.cells import csv_bytes, fixed, fixed_column, safe_text
from allocator.files.json_text import json_bytes
from allocator.files.manifest import MANIFEST_FILE, output_digests
from allocator.model.signals import reported_signals
from allocator.outputs.manifest import manifest_of
from allocator.outputs.metrics import risk_contributions
from allocator.outputs.model_parts import float_list, model_weight_columns, resolved_config
from allocator.outputs.summary import RunSummary, summary_json
from allocator.outputs.trade_rows import trade_files_of
from allocator.pipeline import RunResult

OUTSIDE = "outside_universe"


def weights_csv(result: RunResult) -> bytes:
    """One row per asset, per holding outside the universe (sector and asset class ``outside_universe``) and for
    CASH: current, benchmark, target and achieved weights, with the return attribution of modelled assets."""
    u = result.universe
    alloc = result.allocation
    achieved = result.trades.achieved_weight
    contributions = risk_contributions(result.risk, alloc.weight)
    signals = tuple(reported_signals(result.scores.signal_weights))
    model = model_weight_columns(u, result.returns, result.risk, result.rsi.rsi, signals)
    header = ["symbol", "sector", "size_bucket", "asset_class", "current_weight", "benchmark_weight",
              "target_weight", "achieved_weight", "active_weight", "rsi", "prior",
              *[f"alpha_{k}" for k in signals], "views", "expected_return", "volatility", "risk_contribution",
              "beta", "alpha_volatility"]
    account = {"current_weight": u.weight, "target_weight": alloc.weight, "achieved_weight": achieved,
               "active_weight": alloc.weight - u.benchmark_weight, "risk_contribution": contributions}
    columns = [model[name] if name in model else fixed_column(float_list(account[name])) for name in header]
    rows: list[Sequence[str]] = list(zip(*columns, strict=True))
    if u.outside_symbols:  # held fixed or sold whole; not modelled, but part of NAV
        empty = [""] * (len(header) - 9)
        trades = result.trades
        nav_after = float(trades.cash_after_value) + sum(float(q * price) for q, price in zip(
            trades.final_quantity, trades.prices, strict=True))
        for j, symbol in enumerate(u.outside_symbols):
            final = trades.final_quantity[u.size + j]
            target = 0.0 if u.outside_sold else float(u.outside_weight[j])
            rows.append([safe_text(symbol), OUTSIDE, "none", OUTSIDE, fixed(u.outside_weight[j]), fixed(0.0),
                         fixed(target), fixed(float(final * trades.prices[u.size + j]) / nav_after), fixed(target),
                         *empty])
    benchmark_cash = 1.0 - float(u.benchmark_weight.sum())
    rows.append(["CASH", "cash", "none", "cash", fixed(u.cash_weight), fixed(benchmark_cash), fixed(alloc.cash_weight),
                 fixed(result.trades.achieved_cash_weight), fixed(alloc.cash_weight - benchmark_cash),
                 *[""] * (len(header) - 9)])
    return csv_bytes(header, rows)


def run_files(result: RunResult, command: dict[str, Any], trade_format: str | Sequence[str] = "csv",
              summary: RunSummary | None = None) -> dict[str, bytes]:
    """The output folder's files, name -> bytes; one trade file per format (csv, json, fix, basket).

    ``summary`` is the run's ``summarize(result)`` when the caller has it already (it is computed here otherwise).
    """
    from allocator.config.schema import OutputFormat

    formats = [trade_format] if isinstance(trade_format, str) else list(trade_format)
    manifest = manifest_of(result, command)
    files = {"weights.csv": weights_csv(result)}
    files.update(trade_files_of(result, manifest.run_id, [OutputFormat(f) for f in formats]))
    files["summary.json"] = summary_json(result, summary)
    record = dataclasses.replace(manifest, outputs=output_digests(files))
    data = record.to_json_dict()
    data["resolved_config"] = resolved_config(result.prepared.loaded)[1]  # written once per model and config
    files[MANIFEST_FILE] = json_bytes(data)
    return files
