"""Render a run's output files and write them atomically.

Files: ``weights.csv``, ``trades.csv`` (or ``trades.json``), ``summary.json``, ``manifest.json``. Data files
hold no timestamps and fixed-precision numbers, so the same inputs give the same bytes. The folder is written
under a temporary name beside the target and renamed into place: a failed or interrupted run leaves no partial
output, and an existing folder is replaced only with ``force``.
"""

from __future__ import annotations

import csv
import io
import json
import os
import platform
import shutil
import tempfile
from importlib import metadata
from pathlib import Path
from typing import Any

from allocator.config import SIGNALS
from allocator.errors import OutputError
from allocator.pipeline import RunResult
from allocator.trades import TradeList

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
VERSIONED = ("allocate", "numpy", "pandas", "cvxpy", "clarabel", "osqp", "scs", "pydantic", "click")


def safe_text(value: str) -> str:
    """Text that a spreadsheet will not run as a formula (a leading ``=``, ``+``, ``-``, ``@`` gets a quote)."""
    return "'" + value if value.startswith(FORMULA_PREFIXES) else value


def _fmt(value: float, digits: int = 10) -> str:
    text = f"{value:.{digits}f}"
    return "0." + "0" * digits if text.startswith("-") and float(text) == 0 else text


def _csv(header: list[str], rows: list[list[str]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


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


def weights_csv(result: RunResult) -> bytes:
    """One row per asset (and CASH): current, benchmark, target and achieved weights with the return attribution."""
    p = result.prepared
    u = p.universe
    alloc = result.allocation
    achieved = result.trades.achieved_weight
    vol = p.risk.volatility
    from allocator.metrics import risk_contributions

    contributions = risk_contributions(p.risk, alloc.weight)
    header = ["symbol", "sector", "size_bucket", "asset_class", "current_weight", "benchmark_weight",
              "target_weight", "achieved_weight", "active_weight", "rsi", "prior",
              *[f"alpha_{k}" for k in SIGNALS], "expected_return", "volatility", "risk_contribution"]
    rows = []
    for i, symbol in enumerate(u.symbols):
        rows.append([safe_text(symbol), safe_text(u.sector[i]), u.size_bucket[i], safe_text(u.asset_class[i]),
                     _fmt(u.weight[i]), _fmt(u.benchmark_weight[i]), _fmt(alloc.weight[i]), _fmt(achieved[i]),
                     _fmt(alloc.weight[i] - u.benchmark_weight[i]), _fmt(float(p.rsi.rsi[i]), 4),
                     _fmt(p.returns.prior[i]), *[_fmt(p.returns.contributions[k][i]) for k in SIGNALS],
                     _fmt(p.returns.mu[i]), _fmt(vol[i]), _fmt(contributions[i])])
    benchmark_cash = 1.0 - float(u.benchmark_weight.sum())
    empty = [""] * (len(header) - 9)
    rows.append(["CASH", "cash", "none", "cash", _fmt(u.cash_weight), _fmt(benchmark_cash), _fmt(alloc.cash_weight),
                 _fmt(result.trades.achieved_cash_weight), _fmt(alloc.cash_weight - benchmark_cash), *empty])
    return _csv(header, rows)


TRADE_COLUMNS = ["symbol", "side", "quantity", "price", "notional", "current_quantity", "target_quantity",
                 "current_weight", "target_weight", "estimated_cost", "reason"]


def _quantity(value: Any) -> str:
    text = format(value.normalize(), "f")
    return text if "." not in text else text.rstrip("0").rstrip(".")


def trade_rows(trades: TradeList) -> list[dict[str, Any]]:
    """The trade list as plain records (strings for quantities and money, so nothing is lost to floats)."""
    return [{"symbol": t.symbol, "side": t.side, "quantity": _quantity(t.quantity), "price": str(t.price),
             "notional": str(t.notional_value), "current_quantity": _quantity(t.current_quantity),
             "target_quantity": _quantity(t.target_quantity), "current_weight": _fmt(t.current_weight),
             "target_weight": _fmt(t.target_weight), "estimated_cost": str(t.estimated_cost_value),
             "reason": t.reason} for t in trades.trades]


def trades_csv(trades: TradeList) -> bytes:
    rows = [[safe_text(str(r[c])) if c in ("symbol", "reason") else str(r[c]) for c in TRADE_COLUMNS]
            for r in trade_rows(trades)]
    return _csv(TRADE_COLUMNS, rows)


def trades_json(result: RunResult) -> bytes:
    t = result.trades
    return json_bytes({"as_of": str(result.prepared.window.as_of.date()),
                       "cash_before": str(t.cash_before_value), "cash_after": str(t.cash_after_value),
                       "trades": trade_rows(t)})


def summary_json(result: RunResult) -> bytes:
    from allocator.metrics import run_metrics

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
        "timings_seconds": {**result.timings, "build_seconds": alloc.compile_seconds},
    }


def run_files(result: RunResult, command: dict[str, Any], trade_format: str = "csv") -> dict[str, bytes]:
    """The output folder's files, name -> bytes."""
    files = {"weights.csv": weights_csv(result)}
    if trade_format == "json":
        files["trades.json"] = trades_json(result)
    else:
        files["trades.csv"] = trades_csv(result.trades)
    files["summary.json"] = summary_json(result)
    files["manifest.json"] = json_bytes(manifest(result, command))
    return files


def write_atomically(out_dir: str | Path, files: dict[str, bytes], force: bool = False) -> Path:
    """Write ``files`` into ``out_dir`` all at once: a temporary sibling folder renamed into place."""
    target = Path(os.path.abspath(out_dir))
    if target.exists() and not target.is_dir():
        raise OutputError(str(out_dir), "exists and is not a folder", "choose another output path")
    if target.exists() and not force:
        raise OutputError(str(out_dir), "the output folder already exists",
                          "pass --force to replace it, or choose another folder")
    parent = target.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.partial-", dir=parent))
    except OSError as exc:
        raise OutputError(str(out_dir), f"cannot create the output folder ({exc.strerror})",
                          "check the path and permissions") from None
    try:
        for name, data in files.items():
            with (staging / name).open("wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
        os.chmod(staging, 0o755)
        if target.exists():
            retired = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=parent))
            os.rename(target, retired / target.name)
            os.rename(staging, target)
            shutil.rmtree(retired, ignore_errors=True)
        else:
            os.rename(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target
