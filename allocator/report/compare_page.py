"""The page of a comparison (``allocate compare -o``): scenarios side by side, and every portfolio under every view.

Read from ``compare.json`` and ``manifest.json``. Sections: headline, metrics, weights, trades, views (the
portfolio x view matrix), rules and limits, failures, manifest. Fractions of NAV are shown as percentages
(annualized where rates), money in the account currency.
"""

from __future__ import annotations

from typing import Any

from allocator.compare.views import PortfolioViews, ViewCell, ViewMatrix
from allocator.report.charts import svg_text, views_figure, weights_figure
from allocator.report.folder import OutputFolder, number
from allocator.report.page import Cell, Facts, Figure, Page, Section, Table, Text, money, percent, ratio, text

COUNTS = ("trades", "buys", "sells", "rsi_rules_fired", "binding_constraints_count")
LISTS = ("rsi_rules", "binding_constraints")
SHOWN_FROM = 0.0005  # assets under 0.05% of NAV everywhere are left off the weights chart (not the table)


def _metric(key: str, value: Any, source: str) -> Cell:
    if value is None:
        return Cell("-")
    if key in COUNTS:
        return ratio(number(value, source), source, 0)
    if key == "sharpe":
        return ratio(number(value, source), source)
    if key.endswith("_value"):
        return money(number(value, source), source)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return percent(float(value), source, 3 if key == "estimated_cost" else 2)
    return text(value)


def metrics_section(data: dict[str, Any]) -> Section:
    scenarios = data.get("scenarios") or []
    keys: list[str] = []
    for scenario in scenarios:
        for key in scenario.get("metrics") or {}:
            if key not in keys and key not in LISTS:
                keys.append(key)
    rows = tuple((text(key.replace("_", " ")), *(
        _metric(key, (s.get("metrics") or {}).get(key), f"compare.json#scenarios.{i}.metrics.{key}")
        for i, s in enumerate(scenarios))) for key in keys)
    header = tuple(f"{s.get('name')}{'' if s.get('status') == 'ok' else ' (FAILED)'}" for s in scenarios)
    return Section("metrics", "Scenarios", (Table(
        "Each scenario under its own view (annualized; % of NAV; costs and values in the account currency)",
        ("metric", *header), rows),))


def weights_section(data: dict[str, Any]) -> Section:
    names = [str(n) for n in data.get("scenario_names") or []]
    rows, shown = [], []
    for i, w in enumerate(data.get("weights") or []):
        source = f"compare.json#weights.{i}"
        targets = w.get("targets") or {}
        values = [w.get("current"), w.get("benchmark"), *(targets.get(n) for n in names)]
        rows.append((text(w.get("symbol")), text(w.get("size_bucket")), percent(w.get("current"), f"{source}.current"),
                     percent(w.get("benchmark"), f"{source}.benchmark"),
                     *(percent(targets.get(n), f"{source}.targets.{n}") for n in names)))
        if w.get("symbol") == "CASH" or max(float(v or 0.0) for v in values) >= SHOWN_FROM:
            shown.append((str(w.get("symbol")), [float(v or 0.0) for v in values]))
    labels = ["current", "benchmark", *names]
    figure = weights_figure([s for s, _ in shown], [(label, [v[k] for _, v in shown]) for k, label in
                                                     enumerate(labels)], "Target weight by scenario")
    description = "; ".join(f"{s}: " + ", ".join(f"{label} {100 * v[k]:.1f}%" for k, label in enumerate(labels))
                            for s, v in shown)
    svg = svg_text(figure, "compare-weights-chart", "Target weights by scenario (% of NAV)", description)
    return Section("weights", "Weights", (
        Figure(svg, "Current, benchmark and each scenario's target weight, by asset."),
        Table("Weights by asset (% of NAV; '-' for a failed scenario)", ("asset", "size", *labels), tuple(rows),
              sortable=True)))


def trades_section(data: dict[str, Any]) -> Section:
    names = [str(n) for n in data.get("scenario_names") or []]
    rows = []
    for trade in data.get("trades") or []:
        cells = []
        for name in names:
            cell = (trade.get("by_scenario") or {}).get(name)
            if cell is None:
                cells.append(Cell("-"))
            elif cell.get("side") in (None, "NONE"):
                cells.append(Cell(""))
            else:
                cells.append(Cell(f"{cell.get('side')} {cell.get('quantity')} "
                                  f"({100.0 * float(cell.get('weight_change') or 0.0):+.1f}%)"))
        rows.append((text(trade.get("symbol")), *cells, text("DISAGREE" if trade.get("directions_disagree") else "")))
    return Section("trades", "Trades", (Table(
        "Trades by scenario (shares; weight change in % of NAV); DISAGREE where scenarios trade an asset in "
        "opposite directions", ("asset", *names, "directions"), tuple(rows)),))


def view_matrix(data: dict[str, Any]) -> ViewMatrix:
    """The portfolio x view matrix of ``compare.json`` (``allocator.compare.views``)."""
    matrix = data.get("view_matrix") or {}
    views = tuple(str(v) for v in matrix.get("views") or [])
    rows = []
    for portfolio in matrix.get("portfolios") or []:
        by_view = portfolio.get("by_view") or {}
        cells = tuple(ViewCell(**{k: float(by_view[v][k]) for k in ("expected_return", "volatility", "cost",
                                                                     "utility")}) for v in views)
        worst = portfolio.get("worst_case") or {}
        rows.append(PortfolioViews(name=str(portfolio.get("name")), kind=str(portfolio.get("kind")), cells=cells,
                                   worst_view=str(worst.get("view")), worst_utility=float(worst.get("utility", 0.0))))
    return ViewMatrix(views=views, rows=tuple(rows))


def views_section(data: dict[str, Any]) -> Section | None:
    matrix = view_matrix(data)
    if not matrix.views:
        return None
    rows = []
    for i, row in enumerate(matrix.rows):
        source = f"compare.json#view_matrix.portfolios.{i}"
        cells = [Cell(f"{100 * c.expected_return:.2f}% / {100 * c.utility:.2f}%"
                      + (" (worst)" if view == row.worst_view else ""), c.utility)
                 for view, c in zip(matrix.views, row.cells, strict=True)]
        rows.append((text(f"{row.name} ({row.kind})"), *cells,
                     percent(row.worst_utility, f"{source}.worst_case.utility"), text(row.worst_view)))
    svg = svg_text(views_figure(matrix), "views-chart", "Every portfolio under every scenario's view",
                   "; ".join(f"{r.name}: worst case {100 * r.worst_utility:.2f}% under {r.worst_view}"
                             for r in matrix.rows))
    return Section("views", "Every portfolio under every view", (
        Table("Portfolios (rows) under each scenario's view (columns): expected return / utility, annualized; utility "
              "net of risk and trading cost", ("portfolio", *matrix.views, "worst-case utility", "worst view"),
              tuple(rows)),
        Figure(svg, "Utility of each portfolio under each view; the worst view of each portfolio boxed.")))


def rules_section(data: dict[str, Any]) -> Section:
    lines = []
    for scenario in data.get("scenarios") or []:
        metrics = scenario.get("metrics") or {}
        if scenario.get("status") != "ok":
            error = scenario.get("error") or {}
            lines.append(f"{scenario.get('name')}: FAILED (exit {scenario.get('exit_code')}): {error.get('where')}: "
                         f"{error.get('what')}; {error.get('fix')}")
            continue
        lines.append(f"{scenario.get('name')}: RSI rules: {'; '.join(metrics.get('rsi_rules') or []) or 'none'}; "
                     f"binding limits: {'; '.join(metrics.get('binding_constraints') or []) or 'none'}")
    robust = data.get("robust")
    if isinstance(robust, dict):
        worst = robust.get("worst_case") or {}
        lines.append(f"robust (limits of {robust.get('base')}): worst-case utility "
                     f"{percent(worst.get('utility')).text} under {worst.get('view')}; {robust.get('trades')} trades "
                     "(written to robust/)")
    return Section("rules", "Rules, limits and failures", (Text(tuple(lines) or ("None.",)),))


def compare_manifest_section(manifest: dict[str, Any]) -> Section:
    rows = []
    for scenario in manifest.get("scenarios") or []:
        for name, entry in (scenario.get("inputs") or {}).items():
            if isinstance(entry, dict):
                rows.append((text(scenario.get("name")), text(name), text(entry.get("path")),
                             text(entry.get("sha256"))))
    compiled = manifest.get("compiled_problems") or {}
    versions = tuple((text(k), text(v)) for k, v in (manifest.get("versions") or {}).items())
    return Section("manifest", "Manifest", (
        Facts((("compiled problems", text(compiled.get("built"))), ("reused solves", text(compiled.get("reused"))),
               ("solves by Clarabel called directly", text(compiled.get("direct", 0))),
               ("scenarios", text(len(manifest.get("scenarios") or []))))),
        Table("Each scenario's inputs by SHA-256", ("scenario", "input", "path", "SHA-256"), tuple(rows)),
        Table("Package versions", ("package", "version"), versions)))


def compare_page(folder: OutputFolder) -> Page:
    """The page of the comparison in ``folder``."""
    data = folder.mapping("compare.json")
    names = [str(n) for n in data.get("scenario_names") or []]
    failed = [str(n) for n in data.get("failed") or []]
    headline = Section("headline", "Headline", (Facts((
        ("as of", text(data.get("as_of"))),
        ("NAV (account currency)", money(number(data.get("nav_value"), "compare.json: nav_value"),
                                         "compare.json#nav_value")),
        ("holdings", text(data.get("holdings"))), ("scenarios", text(", ".join(names))),
        ("failed", text(", ".join(failed) or "none")))),))
    views = views_section(data)
    sections = [headline, metrics_section(data), weights_section(data), trades_section(data),
                *((views,) if views else ()), rules_section(data)]
    if folder.has("manifest.json"):
        sections.append(compare_manifest_section(folder.mapping("manifest.json")))
    subtitle = f"As of {data.get('as_of')}, {len(names)} scenarios" + (f", {len(failed)} failed" if failed else "")
    return Page("compare", "Scenario comparison", subtitle, tuple(sections))
