"""Render a comparison's output files (written atomically by ``outputs.publish.write_atomically``).

| file | content |
|---|---|
| ``compare_metrics.csv`` | one row per metric, one column per scenario (fractions, not percentages) |
| ``compare_weights.csv`` | one row per asset and CASH: size bucket, current, benchmark and each scenario's target |
| ``compare_trades.csv`` | one row per asset traded in some scenario: current shares, each scenario's signed trade in
  shares (buys positive, sells negative, 0 for no trade, empty for a failed scenario), and whether the scenarios
  disagree on the direction |
| ``compare_views.csv`` | one row per portfolio and view: expected return, volatility, trading cost and utility of
  the portfolio under the view, and ``worst`` (yes on the view where the portfolio's utility is smallest) |
| ``compare.json`` | all of the above with each trade's side, notional, weight change and reason, each scenario's
  status and, for a failed one, its exit code, error and diagnosis; the view matrix and each portfolio's worst
  case; with ``--robust`` the robust portfolio's base scenario, worst case and utility under each view |
| ``compare.png`` | the target weights by scenario and the view matrix (``chart``) |
| ``manifest.json`` | the command; each scenario's config chain, resolved config, inputs with SHA-256 and solver
  attempts; how many compiled problems served how many solves; package versions; timings; ``outputs``, the SHA-256
  of every other file written |
| ``robust/`` | with ``--robust``: the robust portfolio written as a run of the base scenario's config
  (``weights.csv``, the trade files, ``summary.json``, ``manifest.json``; ``outputs.run_files``) |

Data files hold no timestamps and fixed-precision numbers: the same inputs give the same bytes.
"""

from __future__ import annotations

from typing import Any

from allocator.compare.robust import RobustOutcome
from allocator.compare.scenarios import Comparison, ScenarioOutcome
from allocator.compare.tables import ComparisonTables, MetricRow, TradeCell, benchmarks_differ
from allocator.compare.views import ViewMatrix
from allocator.errors import InfeasibleError
from allocator.files.cells import csv_bytes, fixed, quantity_text, safe_text
from allocator.files.json_text import json_bytes
from allocator.files.manifest import MANIFEST_FILE, output_digests
from allocator.outputs.manifest import versions


def _cell(kind: str, value: Any) -> str:
    if value is None:
        return ""
    if kind in ("fraction", "ratio"):
        return fixed(float(value))
    if kind == "money":
        return f"{float(value):.2f}"
    if kind == "count":
        return str(int(value))
    if kind == "list":
        return safe_text("; ".join(value))
    return safe_text(str(value))


def metrics_csv(tables: ComparisonTables) -> bytes:
    rows = [[row.key, *(_cell(row.kind, v) for v in row.values)] for row in tables.metrics]
    return csv_bytes(["metric", *map(safe_text, tables.scenarios)], rows)


def weights_csv(tables: ComparisonTables) -> bytes:
    per_scenario = benchmarks_differ(tables)
    header = ["symbol", "size_bucket", "current_weight", "benchmark_weight", *map(safe_text, tables.scenarios)]
    if per_scenario:
        header += [f"benchmark_weight:{safe_text(name)}" for name in tables.scenarios]
    rows = []
    for row in tables.weights:
        cells = [safe_text(row.symbol), row.size_bucket, fixed(row.current), fixed(row.benchmark),
                 *("" if t is None else fixed(t) for t in row.targets)]
        if per_scenario:
            cells += ["" if b is None else fixed(b) for b in row.benchmarks]
        rows.append(cells)
    return csv_bytes(header, rows)


def trades_csv(tables: ComparisonTables) -> bytes:
    header = ["symbol", "current_quantity", *map(safe_text, tables.scenarios), "directions_disagree"]
    rows = [[safe_text(row.symbol), quantity_text(row.current_quantity),
             *("" if c is None else quantity_text(c.signed_quantity) for c in row.cells),
             "yes" if row.disagree else "no"] for row in tables.trades]
    return csv_bytes(header, rows)


def views_csv(matrix: ViewMatrix) -> bytes:
    header = ["portfolio", "kind", "view", "expected_return", "volatility", "cost", "utility", "worst"]
    rows = [[safe_text(row.name), row.kind, safe_text(view), fixed(cell.expected_return), fixed(cell.volatility),
             fixed(cell.cost), fixed(cell.utility), "yes" if view == row.worst_view else "no"]
            for row in matrix.rows for view, cell in zip(matrix.views, row.cells, strict=True)]
    return csv_bytes(header, rows)


def views_json(matrix: ViewMatrix) -> dict[str, Any]:
    portfolios = [{"name": row.name, "kind": row.kind,
                   "by_view": {view: {"expected_return": c.expected_return, "volatility": c.volatility,
                                      "cost": c.cost, "utility": c.utility}
                               for view, c in zip(matrix.views, row.cells, strict=True)},
                   "worst_case": {"view": row.worst_view, "utility": row.worst_utility}} for row in matrix.rows]
    return {"views": list(matrix.views), "portfolios": portfolios}


def robust_json(robust: RobustOutcome | None) -> dict[str, Any] | None:
    if robust is None:
        return None
    alloc = robust.result.allocation
    return {"base": robust.base, "views": list(robust.views), "folder": "robust",
            "worst_case": {"view": robust.worst_view, "utility": robust.worst_utility},
            "utility_by_view": dict(robust.utilities), "cash_weight": alloc.cash_weight,
            "trades": len(robust.result.trades.trades)}


def _metric_json(row: MetricRow, value: Any) -> Any:
    return float(value) if row.kind in ("fraction", "ratio", "money") and value is not None else value


def _trade_json(cell: TradeCell | None) -> dict[str, Any] | None:
    if cell is None:
        return None
    return {"side": cell.side or "NONE", "quantity": quantity_text(cell.quantity), "notional": str(cell.notional_value),
            "weight_change": cell.weight_change, "reason": cell.reason}


def _error_json(outcome: ScenarioOutcome) -> dict[str, Any] | None:
    error = outcome.error
    if error is None:
        return None
    found: dict[str, Any] = {"exit_code": error.exit_code, "type": type(error).__name__, "where": error.where,
                             "what": error.what, "fix": error.fix, "details": list(error.details)}
    if isinstance(error, InfeasibleError) and error.diagnosis:
        found["diagnosis"] = error.diagnosis
    return found


def comparison_json(comparison: Comparison, tables: ComparisonTables) -> bytes:
    scenarios = []
    for index, outcome in enumerate(comparison.outcomes):
        metrics = {row.key: _metric_json(row, row.values[index]) for row in tables.metrics}
        scenarios.append({"name": outcome.name, "config": str(outcome.spec.path),
                          "status": "ok" if outcome.ok else "failed", "exit_code": outcome.exit_code,
                          "error": _error_json(outcome), "metrics": None if not outcome.ok else metrics})
    weights = [{"symbol": row.symbol, "size_bucket": row.size_bucket, "current": row.current,
                "benchmark": row.benchmark, "targets": dict(zip(tables.scenarios, row.targets, strict=True))}
               for row in tables.weights]
    trades = [{"symbol": row.symbol, "current_quantity": quantity_text(row.current_quantity),
               "by_scenario": {n: _trade_json(c) for n, c in zip(tables.scenarios, row.cells, strict=True)},
               "directions_disagree": row.disagree} for row in tables.trades]
    return json_bytes({"as_of": tables.as_of, "nav_value": round(tables.nav_value, 2),
                       "holdings": str(comparison.holdings_path), "scenario_names": list(tables.scenarios),
                       "failed": list(tables.failed), "exit_code": comparison.exit_code, "scenarios": scenarios,
                       "weights": weights, "trades": trades, "directions_disagree": list(tables.disagreements),
                       "view_matrix": views_json(tables.views), "robust": robust_json(comparison.robust)})


def comparison_manifest(comparison: Comparison, command: dict[str, Any]) -> dict[str, Any]:
    """Everything needed to repeat and audit the comparison (this file alone holds timings)."""
    scenarios = []
    for outcome in comparison.outcomes:
        loaded = outcome.loaded
        entry: dict[str, Any] = {
            "name": outcome.name, "config": str(outcome.spec.path), "status": "ok" if outcome.ok else "failed",
            "config_chain": [str(p) for p in loaded.chain] if loaded else [],
            "resolved_config": loaded.resolved() if loaded else None,
            "notes": list(loaded.notes) if loaded else []}
        if outcome.result is not None:
            alloc = outcome.result.allocation
            entry["inputs"] = outcome.result.prepared.inputs
            entry["as_of"] = outcome.result.as_of.isoformat()
            entry["solver"] = {"status": alloc.status, "solver": alloc.solver,
                               "attempts": [a.__dict__ for a in alloc.attempts],
                               "reused_compiled_problem": alloc.reused_problem}
        entry["timings_seconds"] = outcome.timings
        scenarios.append(entry)
    robust = comparison.robust
    found: dict[str, Any] | None = None
    if robust is not None:
        alloc = robust.result.allocation
        found = {"base": robust.base, "views": list(robust.views),
                 "solver": {"status": alloc.status, "solver": alloc.solver,
                            "attempts": [a.__dict__ for a in alloc.attempts]},
                 "timings_seconds": {"build_and_solve_seconds": robust.solve_seconds,
                                     "trades_seconds": robust.trades_seconds}}
    return {"command": command, "scenarios": scenarios, "robust": found,
            "compiled_problems": {"built": comparison.compiled_problems, "reused": comparison.reused_solves,
                                  "direct": comparison.direct_solves},
            "input_files_read": comparison.input_files_read,
            "versions": versions(), "timings_seconds": comparison.timings}


def comparison_files(comparison: Comparison, tables: ComparisonTables, command: dict[str, Any]) -> dict[str, bytes]:
    """The output folder's files, name -> bytes (the chart needs matplotlib, loaded here)."""
    from allocator.compare.chart import weights_figure
    from allocator.outputs.png import chart_png

    files = {"compare_metrics.csv": metrics_csv(tables), "compare_weights.csv": weights_csv(tables),
             "compare_trades.csv": trades_csv(tables), "compare_views.csv": views_csv(tables.views),
             "compare.json": comparison_json(comparison, tables), "compare.png": chart_png(weights_figure(tables))}
    if comparison.robust is not None:
        files.update(robust_files(comparison.robust, command))
    manifest = {**comparison_manifest(comparison, command), "outputs": output_digests(files)}
    return {**files, MANIFEST_FILE: json_bytes(manifest)}


def robust_files(robust: RobustOutcome, command: dict[str, Any]) -> dict[str, bytes]:
    """``robust/``: the robust portfolio's run files (trade formats of the base config's ``output.format``)."""
    from allocator.outputs.run_files import run_files

    result = robust.result
    record = {**command, "robust": {"base": robust.base, "views": list(robust.views)}}
    found = run_files(result, record, result.config.output.format.value)
    return {f"robust/{name}": data for name, data in found.items()}
