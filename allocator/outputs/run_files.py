"""Render a run's output files and write them atomically.

Files: ``weights.csv``, ``trades.csv`` (or ``trades.json``), ``summary.json``, ``manifest.json``. Data files
hold no timestamps and fixed-precision numbers, so the same inputs give the same bytes. The folder is written
under a temporary name beside the target and renamed into place (``allocator.files.staging``): a failed or interrupted
run leaves no partial output, and an existing folder is replaced only with ``force`` and only when it is empty or a
previous run's output. ``manifest.json`` also records the SHA-256 of every data file, so a repeated run
(``allocate run --from-manifest``) can show that it wrote the same bytes.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

from allocator.config.schema import SIGNALS
from allocator.errors import OutputError
from allocator.files.spreadsheet import csv_bytes, fixed, quantity_text, safe_text
from allocator.pipeline import RunResult
from allocator.trading.trades import TradeList

if TYPE_CHECKING:
    from allocator.orders.trade_sheet import TradeSheet

VERSIONED = ("allocate", "numpy", "pandas", "cvxpy", "clarabel", "osqp", "scs", "pydantic", "click")


def _rounded(value: Any, digits: int = 10) -> Any:
    if isinstance(value, float):
        rounded = round(value, digits)
        return 0.0 if rounded == 0 else rounded
    if isinstance(value, dict):
        return {str(k): _rounded(v, digits) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_rounded(v, digits) for v in value]
    return value


def json_bytes(data: Any) -> bytes:
    return (json.dumps(_rounded(data), indent=2, sort_keys=False, ensure_ascii=False) + "\n").encode("utf-8")


OUTSIDE = "outside_universe"


def weights_csv(result: RunResult) -> bytes:
    """One row per asset, per holding outside the universe (sector and asset class ``outside_universe``) and for
    CASH: current, benchmark, target and achieved weights, with the return attribution of modelled assets."""
    p = result.prepared
    u = p.universe
    alloc = result.allocation
    achieved = result.trades.achieved_weight
    vol = p.risk.volatility
    from allocator.outputs.metrics import risk_contributions

    contributions = risk_contributions(p.risk, alloc.weight)
    header = ["symbol", "sector", "size_bucket", "asset_class", "current_weight", "benchmark_weight",
              "target_weight", "achieved_weight", "active_weight", "rsi", "prior",
              *[f"alpha_{k}" for k in SIGNALS], "expected_return", "volatility", "risk_contribution"]
    rows = []
    for i, symbol in enumerate(u.symbols):
        rows.append([safe_text(symbol), safe_text(u.sector[i]), u.size_bucket[i], safe_text(u.asset_class[i]),
                     fixed(u.weight[i]), fixed(u.benchmark_weight[i]), fixed(alloc.weight[i]), fixed(achieved[i]),
                     fixed(alloc.weight[i] - u.benchmark_weight[i]), fixed(float(p.rsi.rsi[i]), 4),
                     fixed(p.returns.prior[i]), *[fixed(p.returns.contributions[k][i]) for k in SIGNALS],
                     fixed(p.returns.mu[i]), fixed(vol[i]), fixed(contributions[i])])
    empty = [""] * (len(header) - 9)
    trades = result.trades
    nav_after = float(trades.cash_after_value) + sum(float(q * price) for q, price in zip(
        trades.final_quantity, trades.prices, strict=True))
    for j, symbol in enumerate(u.outside_symbols):  # held fixed or sold whole; not modelled, but part of NAV
        final = trades.final_quantity[u.size + j]
        target = 0.0 if u.outside_sold else float(u.outside_weight[j])
        rows.append([safe_text(symbol), OUTSIDE, "none", OUTSIDE, fixed(u.outside_weight[j]), fixed(0.0),
                     fixed(target), fixed(float(final * trades.prices[u.size + j]) / nav_after), fixed(target),
                     *empty])
    benchmark_cash = 1.0 - float(u.benchmark_weight.sum())
    rows.append(["CASH", "cash", "none", "cash", fixed(u.cash_weight), fixed(benchmark_cash), fixed(alloc.cash_weight),
                 fixed(result.trades.achieved_cash_weight), fixed(alloc.cash_weight - benchmark_cash), *empty])
    return csv_bytes(header, rows)


def trade_rows(trades: TradeList) -> list[dict[str, Any]]:
    """The trade list as plain records (strings for quantities and money, so nothing is lost to floats)."""
    return [{"symbol": t.symbol, "side": t.side, "quantity": quantity_text(t.quantity), "price": str(t.price),
             "notional": str(t.notional_value), "current_quantity": quantity_text(t.current_quantity),
             "target_quantity": quantity_text(t.target_quantity), "current_weight": fixed(t.current_weight),
             "target_weight": fixed(t.target_weight), "estimated_cost": str(t.estimated_cost_value),
             "reason": t.reason} for t in trades.trades]


def trades_json(result: RunResult) -> bytes:
    """``trades.json``: the trade list with each trade's order (``allocator.orders.export``, schema in ``schemas/``)."""
    from allocator.config.schema import OutputFormat
    from allocator.orders.export import render

    return render(trade_sheet(result), OutputFormat.JSON, result.config.orders)


def run_id(result: RunResult) -> str:
    """The run's identity for client order IDs: SHA-256 of its inputs' hashes, as-of date, cash and relaxations."""
    from allocator.orders.ids import run_fingerprint

    p = result.prepared
    return run_fingerprint(p.inputs, str(p.window.as_of.date()), str(p.universe.cash_value), result.relaxations)


def trade_sheet(result: RunResult) -> TradeSheet:
    """The run's trade list with its run id and as-of date, as the order formats take it."""
    from allocator.orders.trade_sheet import sheet_from_records

    trades = result.trades
    return sheet_from_records(trade_rows(trades), run_id(result), result.prepared.window.as_of.date(),
                              trades.cash_before_value, trades.cash_after_value)


def summary_json(result: RunResult) -> bytes:
    from allocator.outputs.metrics import run_metrics

    p = result.prepared
    attribution = {
        symbol: {"prior": float(p.returns.prior[i]),
                 **{k: float(p.returns.contributions[k][i]) for k in SIGNALS},
                 "expected_return": float(p.returns.mu[i])}
        for i, symbol in enumerate(p.universe.symbols)}
    scores = {k: dict(zip(p.universe.symbols, map(float, p.scores.z[k]), strict=True)) for k in SIGNALS}
    return json_bytes({**run_metrics(result), "signal_multipliers": p.scores.multipliers,
                       "attribution": attribution, "scores": scores})


def versions() -> dict[str, str]:
    found = {"python": platform.python_version()}
    for name in VERSIONED:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "not installed"
    return found


def manifest(result: RunResult, command: dict[str, Any]) -> dict[str, Any]:
    """Everything needed to repeat and audit the run (this file alone holds timings)."""
    p = result.prepared
    alloc = result.allocation
    return {
        "command": command,
        "as_of": str(p.window.as_of.date()),
        "run_id": run_id(result),
        "config_chain": [str(x) for x in p.loaded.chain],
        "resolved_config": p.loaded.resolved(),
        "inputs": p.inputs,
        "versions": versions(),
        "solver": {"status": alloc.status, "solver": alloc.solver,
                   "attempts": [a.__dict__ for a in alloc.attempts],
                   "reused_compiled_problem": alloc.reused_problem},
        "relaxations": list(result.relaxations),
        "risk_model": {"model": p.risk.method, "factors": p.risk.factors,
                       "formulation": "dense" if p.risk.covariance is not None else "factor",
                       "observations": p.risk.observations},
        "notes": list(p.loaded.notes),
        "holdings_rows": {"skipped": list(p.holdings.skipped_rows), "cash": list(p.holdings.cash_rows)},
        "timings_seconds": {**result.timings, "build_seconds": alloc.compile_seconds},
    }


def run_files(result: RunResult, command: dict[str, Any], trade_format: str | Sequence[str] = "csv"
              ) -> dict[str, bytes]:
    """The output folder's files, name -> bytes; one trade file per format (csv, json, fix, basket)."""
    from allocator.config.schema import OutputFormat
    from allocator.orders.export import trade_files

    formats = [trade_format] if isinstance(trade_format, str) else list(trade_format)
    files = {"weights.csv": weights_csv(result)}
    files.update(trade_files(trade_sheet(result), [OutputFormat(f) for f in formats], result.config.orders))
    files["summary.json"] = summary_json(result)
    record = manifest(result, command)
    record["outputs"] = {name: hashlib.sha256(data).hexdigest() for name, data in files.items()}
    files["manifest.json"] = json_bytes(record)
    return files


def replaceable(folder: Path) -> bool:
    """Whether ``--force`` may replace ``folder``: it is empty or holds a previous run's ``manifest.json`` (so a
    mistyped ``-o ~`` can never wipe a folder of other files)."""
    try:
        return not any(folder.iterdir()) or (folder / "manifest.json").is_file()
    except OSError:
        return False


def write_atomically(out_dir: str | Path, files: dict[str, bytes], force: bool = False) -> Path:
    """Write ``files`` into ``out_dir`` all at once; see ``allocator.files.staging`` for how."""
    from allocator.files.staging import publish

    target = Path(os.path.abspath(out_dir))
    if target.exists() and not target.is_dir():
        raise OutputError(str(out_dir), "exists and is not a folder", "choose another output path")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(str(out_dir), f"cannot create the output folder ({exc.strerror})",
                          "check the path and permissions") from None
    return publish(target, files, force, replaceable)
