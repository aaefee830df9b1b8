"""Terminal tables for a run: the only place numbers become percentages."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TextIO

from rich.console import Console
from rich.table import Table

from allocator.outputs.metrics import PortfolioStats
from allocator.outputs.summary import MODEL_RETURNS, RunSummary
from allocator.pipeline import RunResult
from allocator.trading.trades import Trade


def pct(value: float, digits: int = 2) -> str:
    return f"{100.0 * value:.{digits}f}%"


def money_text(value: float) -> str:
    return f"{value:,.2f}"


def ratio(value: float) -> str:
    return f"{value:.2f}"


OBJECTIVE_WORDS: dict[str, tuple[str, Callable[[float], str]]] = {
    "min_variance": ("(gamma/2) variance + costs over the horizon, minimized", lambda v: pct(v, 4)),
    "min_tracking_error": ("(gamma/2) tracking error squared + costs over the horizon, minimized",
                           lambda v: pct(v, 4)),
    "max_sharpe": ("Sharpe ratio net of costs over the horizon, maximized", ratio),
}


def console(stream: TextIO) -> Console:
    return Console(file=stream, width=118, highlight=False, soft_wrap=False)


def portfolio_table(summary: RunSummary) -> Table:
    table = Table(title="Portfolio (annualized)", title_justify="left")
    table.add_column("metric")
    for name in ("current", "target", "after rounding"):
        table.add_column(name, justify="right")
    rows: list[tuple[str, Callable[[PortfolioStats], float], Callable[[float], str]]] = [
        ("expected excess return", lambda s: s.expected_return, pct), ("volatility", lambda s: s.volatility, pct),
        ("Sharpe", lambda s: s.sharpe, ratio), ("tracking error", lambda s: s.tracking_error, pct),
        ("active share", lambda s: s.active_share, pct), ("cash", lambda s: s.cash_weight, pct)]
    if summary.benchmark == "none":  # nothing to be active against
        rows = [row for row in rows if row[0] not in ("tracking error", "active share")]
    for label, get, fmt in rows:
        table.add_row(label, *(fmt(get(side)) for side in (summary.current, summary.target, summary.achieved)))
    table.add_row("turnover (one-way, net of flows)", "", pct(summary.target.turnover or 0.0),
                  pct(summary.achieved.turnover or 0.0))
    return table


def exposure_table(summary: RunSummary, by: str) -> Table:
    table = Table(title=f"Weight by {by.replace('_', ' ')}", title_justify="left")
    benchmark = summary.benchmark != "none"
    for column in (by.replace("_", " "), *(("benchmark",) if benchmark else ()), "current", "target"):
        table.add_column(column, justify="left" if column == by.replace("_", " ") else "right")
    bench = summary.benchmark_exposures.by(by)
    target = summary.exposures.by(by)
    current = summary.current_exposures.by(by)
    for label in target:
        table.add_row(label, *((pct(bench.get(label, 0.0)),) if benchmark else ()), pct(current.get(label, 0.0)),
                      pct(target[label]))
    return table


TOP_TRADES = 20  # trades shown in the terminal; the trade file holds them all


def largest_trades(trades: Sequence[Trade], count: int = TOP_TRADES) -> list[Trade]:
    """The ``count`` trades largest by notional value (the first in the list on a tie), in the list's order (sells
    first)."""
    if len(trades) <= count:
        return list(trades)
    largest = sorted(range(len(trades)), key=lambda i: -trades[i].notional_value)[:count]
    return [trades[i] for i in sorted(largest)]


def trades_table(result: RunResult, count: int = TOP_TRADES) -> Table:
    """The ``count`` largest trades (all of them when there are no more)."""
    trades = result.trades.trades
    shown = largest_trades(trades, count)
    title = ("Trades (sells first)" if len(shown) == len(trades)
             else f"The {len(shown)} largest of {len(trades)} trades by value (sells first)")
    table = Table(title=title, title_justify="left")
    for column, justify in (("side", "left"), ("symbol", "left"), ("quantity", "right"), ("price", "right"),
                            ("notional", "right"), ("weight now", "right"), ("target", "right"),
                            ("reason", "left")):
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    for t in shown:
        table.add_row(t.side, t.symbol, f"{t.quantity.normalize():f}", f"{t.price:,.2f}",
                      money_text(float(t.notional_value)), pct(t.current_weight), pct(t.target_weight), t.reason)
    return table


def model_sources(summary: RunSummary) -> list[str]:
    """Lines naming the user's own expected returns or risk model, when the run used them."""
    lines = []
    if summary.expected_returns != MODEL_RETURNS:
        lines.append(f"Expected returns from {summary.expected_returns}, as given (the prior, the signal tilt and the "
                     "views are not applied)")
    if summary.risk_model.startswith("risk."):
        lines.append(f"Risk model from {summary.risk_model}")
    return lines


def more_trades(count: int, trade_file: str | None) -> str:
    """The line under a trades table that leaves ``count`` trades out: where the whole list is."""
    where = f"in {trade_file}" if trade_file else "not shown; write the whole list with -o FOLDER"
    return f"{count} more trade{'s' if count != 1 else ''} {where}"


def print_run(result: RunResult, summary: RunSummary, stream: TextIO, trade_file: str | None = None) -> None:
    """The run summary: portfolio statistics, size exposure, the largest trades, RSI rules and binding limits.

    ``trade_file`` is the written file with every trade (``out/trades.csv``), named when the table leaves some out.
    """
    out = console(stream)
    trades = summary.trades
    benchmark = "  benchmark none" if summary.benchmark == "none" else ""
    out.print(f"[bold]allocate run[/bold]  as of {summary.as_of}  NAV {money_text(summary.nav_value)}  "
              f"regime {summary.regime}{benchmark}  objective {result.allocation.objective_name}  "
              f"solver {result.allocation.solver} ({result.allocation.status})")
    for line in model_sources(summary):
        out.print(line)
    out.print(portfolio_table(summary))
    out.print(exposure_table(summary, "size_bucket"))
    out.print(trades_table(result))
    if trades.count > TOP_TRADES:
        out.print(more_trades(trades.count - TOP_TRADES, trade_file))
    out.print(f"{trades.count} trades: sells {money_text(trades.sold_value)}, "
              f"buys {money_text(trades.bought_value)}, "
              f"estimated cost {money_text(summary.estimated_cost_value)}; "
              f"cash {money_text(trades.cash_before_value)} -> {money_text(trades.cash_after_value)}")
    flows = summary.flows
    if flows is not None and (flows.mode != "rebalance" or flows.inflow_value or flows.outflow_value):
        parts = [f"mode {flows.mode}"]
        if flows.deposit_value:
            parts.append(f"deposit {money_text(flows.deposit_value)}")
        if flows.raise_value:
            parts.append(f"to raise {money_text(flows.raise_value)}")
        parts.append(f"cash to invest {money_text(flows.inflow_value)}, to raise {money_text(flows.outflow_value)} "
                     f"(not turnover); turnover net of flows {pct(flows.turnover)}, gross {pct(flows.gross_turnover)}")
        out.print("Flows: " + "; ".join(parts))
    goal = summary.objective
    if goal is not None and goal.name != "utility":
        words, fmt = OBJECTIVE_WORDS[goal.name]
        out.print(f"Objective {goal.name} ({words}): current {fmt(goal.current)} -> target {fmt(goal.target)}")
    elif summary.utility is not None:
        u = summary.utility
        out.print(f"Utility (expected return - risk - costs over the horizon): current {pct(u['current'])} -> "
                  f"target {pct(u['target'])}, a gain of {pct(u['gain'])} a year for the trades")
    if result.returns.views:
        out.print("Views (prior -> posterior, target, confidence): " + "; ".join(
            f"{v.name} {pct(v.prior_value)} -> {pct(v.posterior_value)} ({pct(v.expected)}, {v.confidence:.0%})"
            for v in result.returns.views))
    if summary.expected_returns == MODEL_RETURNS:
        out.print(f"Signal conviction {result.scores.conviction:.2f} (1 = every signal at full weight)")
    if summary.rsi_rules:
        out.print("RSI rules fired: " + "; ".join(summary.rsi_rules))
    if summary.binding_constraints:
        out.print("Binding limits: " + "; ".join(summary.binding_constraints))
    if summary.relaxations:
        out.print("[bold]Relaxed limits:[/bold] " + "; ".join(summary.relaxations))
    top = ", ".join(f"{s} {pct(v, 1)}" for s, v in summary.top_risk_contributions.items())
    out.print(f"Largest risk contributions: {top}")
