"""Terminal tables for ``allocate compare``: metrics, weights and trades with the scenarios as columns, then every
portfolio under every view (and, with ``--robust``, the robust portfolio's worst case against each scenario's).

Numbers become percentages here (and in ``report``) only. A failed scenario keeps its column, marked FAILED,
with its reason underneath.
"""

from __future__ import annotations

from typing import Any, TextIO

from rich.markup import escape
from rich.table import Table

from allocator.compare.scenarios import Comparison
from allocator.compare.tables import ComparisonTables, MetricRow, TradeCell, benchmarks_differ
from allocator.compare.views import ViewMatrix
from allocator.optimize.problem import solves_text
from allocator.outputs.report import console, money_text, pct
from allocator.terms import CASH_SYMBOL as CASH

SHOWN_FROM = 0.00005  # weight rows below 0.005% everywhere are left off the terminal (they are in the files)


def _header(tables: ComparisonTables) -> list[str]:
    return [escape(name) if ok else f"{escape(name)} (FAILED)"
            for name, ok in zip(tables.scenarios, tables.ok, strict=True)]


def _cell(row: MetricRow, value: Any) -> str:
    if value is None:
        return "-"
    if row.kind == "fraction":
        return pct(float(value), 3 if row.key == "estimated_cost" else 2)
    if row.kind == "ratio":
        return f"{float(value):.2f}"
    if row.kind == "money":
        return money_text(float(value))
    if row.kind == "count":
        return str(int(value))
    return escape(str(value))


def metrics_table(tables: ComparisonTables) -> Table:
    table = Table(title="Scenarios (annualized; each under its own view)", title_justify="left")
    table.add_column("metric")
    for name in _header(tables):
        table.add_column(name, justify="right", overflow="fold")
    for row in tables.metrics:
        if row.kind == "list":
            continue  # listed under the table
        style = "bold red" if row.key == "reason" else None
        table.add_row(row.label, *(_cell(row, v) for v in row.values), style=style)
    return table


def weights_table(tables: ComparisonTables) -> Table:
    table = Table(title="Target weights", title_justify="left")
    for column in ("asset", "size", "current", "benchmark", *_header(tables)):
        table.add_column(column, justify="left" if column in ("asset", "size") else "right", overflow="fold")
    for row in tables.weights:
        values = [row.current, row.benchmark, *(t or 0.0 for t in row.targets)]
        if row.symbol != CASH and max(values) < SHOWN_FROM:
            continue
        table.add_row(row.symbol, row.size_bucket, pct(row.current), pct(row.benchmark),
                      *("-" if t is None else pct(t) for t in row.targets),
                      end_section=row.symbol != CASH and row is tables.weights[-2])
    return table


def _trade(cell: TradeCell | None) -> str:
    if cell is None:
        return "-"
    if not cell.side:
        return ""
    quantity = f"{cell.quantity.normalize():f}"
    return f"{cell.side} {quantity} ({cell.weight_change * 100:+.1f}%)"


def trades_table(tables: ComparisonTables) -> Table:
    table = Table(title="Trades by scenario (shares; weight change in % of NAV)", title_justify="left")
    table.add_column("asset")
    for name in _header(tables):
        table.add_column(name, justify="right", overflow="fold")
    table.add_column("directions", justify="left")
    for row in tables.trades:
        flag = "[bold red]DISAGREE[/bold red]" if row.disagree else ""
        table.add_row(row.symbol, *(_trade(c) for c in row.cells), flag)
    return table


def views_table(matrix: ViewMatrix) -> Table:
    """Rows portfolios, columns views; a cell is the expected return / utility under that view (the worst view's
    cell in bold), then each portfolio's worst case."""
    table = Table(title="Portfolios (rows) under every scenario's view (columns): expected return / utility, "
                  "annualized; utility net of risk and trading cost, the worst view in bold", title_justify="left")
    table.add_column("portfolio", overflow="fold")
    for view in matrix.views:
        table.add_column(escape(view), justify="right", overflow="fold")
    table.add_column("worst case", justify="right", overflow="fold")
    last_scenario = max((i for i, r in enumerate(matrix.rows) if r.kind == "scenario"), default=-1)
    for index, row in enumerate(matrix.rows):
        cells = []
        for view, cell in zip(matrix.views, row.cells, strict=True):
            text = f"{pct(cell.expected_return)} / {pct(cell.utility)}"
            cells.append(f"[bold]{text}[/bold]" if view == row.worst_view else text)
        name = escape(row.name) if row.kind == "scenario" else f"[italic]{escape(row.name)}[/italic]"
        table.add_row(name, *cells, f"{pct(row.worst_utility)} {escape(row.worst_view)}",
                      end_section=index == last_scenario)
    return table


def print_comparison(comparison: Comparison, tables: ComparisonTables, stream: TextIO) -> None:
    """The comparison on the terminal: the three tables, then each scenario's RSI rules and binding limits
    (failures are in their columns; the CLI writes their full messages to stderr)."""
    out = console(stream)
    built, direct = comparison.compiled_problems, comparison.direct_solves
    shared = solves_text(built, built + comparison.reused_solves + direct, direct)
    failed = f", {len(tables.failed)} failed" if tables.failed else ""
    out.print(f"[bold]allocate compare[/bold]  as of {tables.as_of}  NAV {money_text(tables.nav_value)}  "
              f"{len(tables.scenarios)} scenarios{failed}  ({shared})")
    out.print(metrics_table(tables))
    out.print(weights_table(tables))
    if benchmarks_differ(tables):
        first = next(name for name, ok in zip(tables.scenarios, tables.ok, strict=True) if ok)
        out.print(f"The scenarios' benchmarks differ; the benchmark column is {escape(first)}'s "
                  "(compare_weights.csv has each one).")
    out.print(trades_table(tables))
    if tables.disagreements:
        out.print("Scenarios disagree on the direction of: " + ", ".join(tables.disagreements))
    out.print(views_table(tables.views))
    robust = comparison.robust
    if robust is not None:
        scenario_rows = [r for r in tables.views.rows if r.kind == "scenario"]
        best = max(scenario_rows, key=lambda r: r.worst_utility)
        out.print(f"[bold]robust[/bold] (limits of {escape(robust.base)}, {len(robust.views)} views): worst-case "
                  f"utility {pct(robust.worst_utility)} under {escape(robust.worst_view)}; best scenario worst case "
                  f"{pct(best.worst_utility)} ({escape(best.name)}); {len(robust.result.trades.trades)} trades "
                  "(written to robust/ with -o)", soft_wrap=True)
    rules = tables.metric("rsi_rules")
    binding = tables.metric("binding_constraints")
    for index, name in enumerate(tables.scenarios):
        if rules.values[index] is None:
            continue
        out.print(f"[bold]{escape(name)}[/bold]: RSI rules: {escape('; '.join(rules.values[index]) or 'none')}; "
                  f"binding limits: {escape('; '.join(binding.values[index]) or 'none')}", soft_wrap=True)
