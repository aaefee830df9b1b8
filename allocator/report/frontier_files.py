"""``allocate frontier -o DIR``: the frontier's files, and the frontier read back from them for the report page.

| file | content |
|---|---|
| ``frontier.csv`` | one row per portfolio: ``portfolio`` (``frontier``, ``current``, ``benchmark``, ``target``),
  ``curve`` (``volatility`` or ``tracking_error`` for frontier points), ``risk_aversion``, ``expected_return``,
  ``trading_cost`` (over the horizon), ``net_return``, ``volatility``, ``tracking_error``, ``cash_weight``:
  annualized fractions of NAV |
| ``frontier.json`` | the as-of date, the config's risk aversion, how many compiled problems served how many solves |
| ``frontier.png`` | the chart (``charts.frontier_figure``) |
| ``manifest.json`` | the command, the config chain, the inputs with SHA-256, package versions |
"""

from __future__ import annotations

from typing import Any

from allocator.files.cells import csv_bytes, fixed
from allocator.files.json_text import json_bytes
from allocator.files.manifest import MANIFEST_FILE, output_digests
from allocator.outputs.manifest import versions
from allocator.pipeline import Prepared
from allocator.report.folder import OutputFolder, number, optional_number
from allocator.report.frontier import Frontier, FrontierPoint

FRONTIER_CSV, FRONTIER_JSON = "frontier.csv", "frontier.json"
COLUMNS = ("portfolio", "curve", "risk_aversion", "expected_return", "trading_cost", "net_return", "volatility",
           "tracking_error", "cash_weight")


def frontier_csv(frontier: Frontier) -> bytes:
    rows = [[p.portfolio, p.curve, "" if p.risk_aversion is None else fixed(p.risk_aversion, 6),
             fixed(p.expected_return), fixed(p.trading_cost), fixed(p.net_return), fixed(p.volatility),
             fixed(p.tracking_error), fixed(p.cash_weight)] for p in (*frontier.points, *frontier.marks)]
    return csv_bytes(COLUMNS, rows)


def frontier_facts(frontier: Frontier) -> dict[str, Any]:
    return {"as_of": frontier.as_of, "risk_aversion": frontier.risk_aversion,
            "compiled_problems": frontier.compiled_problems, "solves": frontier.solves,
            "direct_solves": frontier.direct_solves}


def frontier_files(frontier: Frontier, prepared: Prepared, command: dict[str, Any]) -> dict[str, bytes]:
    """The output folder's files, name -> bytes (the chart needs matplotlib, loaded here)."""
    from allocator.report.charts import frontier_figure, png_bytes

    files = {FRONTIER_CSV: frontier_csv(frontier), FRONTIER_JSON: json_bytes(frontier_facts(frontier)),
             "frontier.png": png_bytes(frontier_figure(frontier))}
    manifest = {"command": command, "as_of": frontier.as_of,
                "config_chain": [str(p) for p in prepared.loaded.chain], "inputs": prepared.inputs,
                "versions": versions(), "outputs": output_digests(files)}
    return {**files, MANIFEST_FILE: json_bytes(manifest)}


def read_frontier(folder: OutputFolder) -> Frontier:
    """The frontier of ``frontier.csv`` (and ``frontier.json`` when present) in ``folder``."""
    points: list[FrontierPoint] = []
    marks: list[FrontierPoint] = []
    for n, row in enumerate(folder.rows(FRONTIER_CSV), start=2):
        where = f"{folder.where}/{FRONTIER_CSV}: row {n}"
        values = {k: number(row.get(k), f"{where}: {k}") for k in ("expected_return", "trading_cost", "volatility",
                                                                     "tracking_error", "cash_weight")}
        point = FrontierPoint(
            portfolio=row.get("portfolio", ""), curve=row.get("curve", ""),
            risk_aversion=optional_number(row.get("risk_aversion"), f"{where}: risk_aversion"),
            expected_return=values["expected_return"], trading_cost=values["trading_cost"],
            volatility=values["volatility"], tracking_error=values["tracking_error"],
            cash_weight=values["cash_weight"])
        (points if point.portfolio == "frontier" else marks).append(point)
    facts = folder.mapping(FRONTIER_JSON) if folder.has(FRONTIER_JSON) else {}
    target = next((m for m in marks if m.portfolio == "target"), None)
    gamma = facts.get("risk_aversion", target.risk_aversion if target is not None else 0.0)
    return Frontier(as_of=str(facts.get("as_of", "")), risk_aversion=float(gamma or 0.0), points=tuple(points),
                    marks=tuple(marks), compiled_problems=int(facts.get("compiled_problems", 0)),
                    solves=int(facts.get("solves", 0)), direct_solves=int(facts.get("direct_solves", 0)))
