"""Render a run's output files: ``weights.csv``, the trade files, ``summary.json`` and ``manifest.json``.

Data files hold no timestamps and fixed-precision numbers, so the same inputs give the same bytes.
``manifest.json`` also records the SHA-256 of every data file, so a repeated run (``allocate run
--from-manifest``) can show that it wrote the same bytes. Writing the folder is ``allocator.outputs.publish``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from allocator.domain import FloatArray
from allocator.files.cells import csv_cell, fixed, safe_text
from allocator.files.json_text import json_bytes
from allocator.files.manifest import MANIFEST_FILE, output_digests
from allocator.model.signals import reported_signals
from allocator.outputs.manifest import manifest_of
from allocator.outputs.metrics import risk_contributions
from allocator.outputs.model_parts import model_weight_rows, resolved_config
from allocator.outputs.summary import RunSummary, summary_json
from allocator.outputs.trade_rows import trade_files_of
from allocator.pipeline import RunResult

OUTSIDE = "outside_universe"


def weights_csv(result: RunResult) -> bytes:
    """One row per asset, per holding outside the universe (sector and asset class ``outside_universe``) and for
    CASH: current, benchmark, target and achieved weights, with the return attribution of modelled assets.

    The bytes of ``csv_bytes`` for these cells (numbers written by ``fixed``): the assets' rows are the model's
    (``model_weight_rows``) with the account's numbers written into them by one format (a value a negative zero
    once made 0.0, as ``fixed`` writes it)."""
    u = result.universe
    alloc = result.allocation
    trades = result.trades
    contributions = risk_contributions(result.risk, alloc.weight)
    signals = tuple(reported_signals(result.scores.signal_weights))
    form = model_weight_rows(u, result.returns, result.risk, result.rsi.rsi, signals)
    header = ["symbol", "sector", "size_bucket", "asset_class", "current_weight", "benchmark_weight",
              "target_weight", "achieved_weight", "active_weight", "rsi", "prior",
              *[f"alpha_{k}" for k in signals], "views", "expected_return", "volatility", "risk_contribution",
              "beta", "alpha_volatility"]
    account = np.column_stack([np.asarray(column, dtype=np.float64).reshape(u.size) for column in (
        u.weight, alloc.weight, trades.achieved_weight, alloc.weight - u.benchmark_weight, contributions)])
    rows: list[Sequence[str]] = []
    if u.outside_symbols:  # held fixed or sold whole; not modelled, but part of NAV
        empty = [""] * (len(header) - 9)
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
    lines = [",".join(map(csv_cell, line)) + "\n" for line in (header, *rows)]
    return (lines[0] + form % tuple(unsigned_zeros(account).ravel().tolist()) + "".join(lines[1:])).encode("utf-8")


def unsigned_zeros(values: FloatArray, digits: int = 10) -> FloatArray:
    """``values`` with those that ``"%.<digits>f"`` writes as a negative zero (``-0.0``, and negatives that round to
    zero) made 0.0: a format of them writes the text of ``fixed``."""
    unsigned: FloatArray = values + 0.0  # -0.0 + 0.0 is 0.0; every other value stays itself
    tiny = (unsigned < 0) & (unsigned > -(10.0 ** -digits))
    if tiny.any():  # round rounds as the format does (correctly, from the binary value)
        unsigned[tiny] = [0.0 if round(value, digits) == 0 else value for value in unsigned[tiny].tolist()]
    return unsigned


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
    data = manifest.to_json_dict()
    data["resolved_config"] = resolved_config(result.prepared.loaded)[1]  # written once per model and config
    data["outputs"] = output_digests(files)  # last, where the manifest's own outputs go (without a copy of it)
    files[MANIFEST_FILE] = json_bytes(data)
    return files
