"""Terminal tables for a run: the only place numbers become percentages."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TextIO

from rich.console import Console
from rich.table import Table

from allocator.pipeline import RunResult


def pct(value: float, digits: int = 2) -> str:
    return f"{100.0 * value:.{digits}f}%"


def money_text(value: float) -> str:
    return f"{value:,.2f}"


def console(stream: TextIO) -> Console:
    return Console(file=stream, width=118, highlight=False, soft_wrap=False)


def portfolio_table(metrics: dict[str, Any]) -> Table:
    table = Table(title="Portfolio (annualized)", title_justify="left")
    table.add_column("metric")
    for name in ("current", "target", "after rounding"):
        table.add_column(name, justify="right")
    def ratio(value: float) -> str:
        return f"{value:.2f}"

    rows: list[tuple[str, str, Callable[[float], str]]] = [
        ("expected excess return", "expected_return", pct), ("volatility", "volatility", pct),
        ("Sharpe", "sharpe", ratio), ("tracking error", "tracking_error", pct),
        ("active share", "active_share", pct), ("cash", "cash_weight", pct)]
    for label, key, fmt in rows:
        table.add_row(label, *(fmt(metrics[side][key]) for side in ("current", "target", "achieved")))
    table.add_row("turnover (one-way)", "", pct(metrics["target"]["turnover"]), pct(metrics["achieved"]["turnover"]))
    return table


def exposure_table(metrics: dict[str, Any], by: str, current: dict[str, float]) -> Table:
    table = Table(title=f"Weight by {by.replace('_', ' ')}", title_justify="left")
    for column in (by.replace("_", " "), "benchmark", "current", "target"):
        table.add_column(column, justify="left" if column == by.replace("_", " ") else "right")
    bench = metrics["benchmark_exposures"][by]
    target = metrics["exposures"][by]
    for label in target:
        table.add_row(label, pct(bench.get(label, 0.0)), pct(current.get(label, 0.0)), pct(target[label]))
    return table


def trades_table(result: RunResult) -> Table:
    table = Table(title="Trades (sells first)", title_justify="left")
    for column, justify in (("side", "left"), ("symbol", "left"), ("quantity", "right"), ("price", "right"),
                            ("notional", "right"), ("weight now", "right"), ("target", "right"),
                            ("reason", "left")):
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    for t in result.trades.trades:
        table.add_row(t.side, t.symbol, f"{t.quantity.normalize():f}", f"{t.price:,.2f}",
                      money_text(float(t.notional_value)), pct(t.current_weight), pct(t.target_weight), t.reason)
    return table


def print_run(result: RunResult, metrics: dict[str, Any], stream: TextIO) -> None:
    """The run summary: portfolio statistics, size exposure, trades, RSI rules and binding limits."""
    from allocator.outputs.metrics import exposures

    out = console(stream)
    trades = metrics["trades"]
    out.print(f"[bold]allocate run[/bold]  as of {metrics['as_of']}  NAV {money_text(metrics['nav_value'])}  "
              f"regime {metrics['regime']}  solver {result.allocation.solver} ({result.allocation.status})")
    out.print(portfolio_table(metrics))
    universe = result.prepared.universe
    current = exposures(universe, universe.weight, float(universe.outside_weight.sum()))
    out.print(exposure_table(metrics, "size_bucket", current["size_bucket"]))
    out.print(trades_table(result))
    out.print(f"{trades['count']} trades: sells {money_text(trades['sold_value'])}, "
              f"buys {money_text(trades['bought_value'])}, "
              f"estimated cost {money_text(metrics['estimated_cost_value'])}; "
              f"cash {money_text(trades['cash_before_value'])} -> {money_text(trades['cash_after_value'])}")
    if metrics["rsi_rules"]:
        out.print("RSI rules fired: " + "; ".join(metrics["rsi_rules"]))
    if metrics["binding_constraints"]:
        out.print("Binding limits: " + "; ".join(metrics["binding_constraints"]))
    if metrics["relaxations"]:
        out.print("[bold]Relaxed limits:[/bold] " + "; ".join(metrics["relaxations"]))
    top = ", ".join(f"{s} {pct(v, 1)}" for s, v in metrics["top_risk_contributions"].items())
    out.print(f"Largest risk contributions: {top}")
