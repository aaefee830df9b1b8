"""The backtest's output folder as name -> bytes: tables, charts and the figures the report prints.

``metrics.csv`` and ``metrics.json`` (per strategy, ``metrics``; the RSI hit rates and signal ICs, ``rules``),
``returns.csv`` (daily returns, one column a strategy), ``weights.csv`` (each strategy's weights after each
rebalance), ``decisions.csv`` (the target shares decided on each rebalance's closes), ``trades.csv`` (every fill),
``rules.csv`` (every rule that fired, with the forward returns of RSI trims, and every signal's IC per date),
``warnings.csv`` (what ``allocate run --as-of`` would have printed as warnings on each rebalance, per strategy;
their count in ``metrics.json``) and the charts (``charts``). When the inputs carry a look-ahead (static
fundamentals), each CSV starts with the line ``# look-ahead: ...``, ``metrics.json`` lists it under ``look_ahead``
and each chart's title names it. Files are built from exact records, so a repeated run writes the same bytes.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from allocator.backtest import charts
from allocator.backtest.engine import BacktestResult
from allocator.backtest.metrics import BENCHMARKS, StrategyMetrics, strategy_metrics
from allocator.backtest.rules import HORIZONS, SignalIc, TrimOutcome, hit_rate, ic_summary, signal_ics, trim_outcomes
from allocator.files.json_text import json_bytes


@dataclass(frozen=True)
class BacktestReport:
    """What a finished backtest measured: metrics per strategy, RSI trim outcomes, signal ICs, the benchmark's
    name, the look-aheads of its inputs and the warnings of its decisions as [date, strategy, warning] rows, in
    date order (``warning_rows``)."""

    metrics: list[StrategyMetrics]
    trims: list[TrimOutcome]
    ics: list[SignalIc]
    benchmark: str | None
    look_ahead: tuple[str, ...]
    warnings: list[list[str]] = field(default_factory=list)

    @property
    def distinct_warnings(self) -> list[str]:
        """Each warning once, in the order first raised."""
        return list(dict.fromkeys(row[2] for row in self.warnings))

    def rules_summary(self) -> dict[str, Any]:
        strategies = sorted({t.strategy for t in self.trims})
        trims = {}
        for name in strategies:
            own = [t for t in self.trims if t.strategy == name]
            trims[name] = {f"hit_rate_{h}": hit_rate(own, h)[0] for h in HORIZONS} | {
                f"trims_scored_{h}": hit_rate(own, h)[1] for h in HORIZONS} | {"trims": len(own)}
        return {"rsi_trims": trims, "signal_ic": ic_summary(self.ics)}


def _number(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return format(value, ".12g")
    return str(value)


def _csv(header: Sequence[str], rows: Iterable[Sequence[Any]], look_ahead: tuple[str, ...]) -> bytes:
    buffer = io.StringIO()
    for line in look_ahead:
        buffer.write(f"# {line}\n")
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows([_number(v) for v in row] for row in rows)
    return buffer.getvalue().encode("utf-8")


def backtest_report(result: BacktestResult, samples: int, block: float, seed: int) -> BacktestReport:
    """Measure ``result`` (metrics, RSI trims, signal ICs); ``samples``, ``block`` and ``seed`` set the bootstrap."""
    market = result.market
    sessions = result.schedule.sessions
    rates = [market.cash_rate_on(day) for day in sessions[:-1]]
    metrics = strategy_metrics(result.states, np.asarray(rates, dtype=np.float64), block, samples, seed)
    closes = market.prices.ffill().reindex(sessions)
    trims = [t for state in result.states for t in trim_outcomes(state, closes)]
    dates = [d.strftime("%Y-%m-%d") for d in result.schedule.rebalance_dates]
    config = next((s for s in result.states if s.name == "config"), None)
    ics = signal_ics(config, closes, dates) if config is not None else []
    names = [s.name for s in result.states]
    benchmark = next((n for n in BENCHMARKS if n in names), None)
    return BacktestReport(metrics=metrics, trims=trims, ics=ics, benchmark=benchmark, look_ahead=market.look_ahead,
                          warnings=warning_rows(result))


def warning_rows(result: BacktestResult) -> list[list[str]]:
    """Each strategy's warnings as [date, strategy, warning], one row per distinct warning per date and strategy
    (``simulation`` records each once), in date order and, on a date, in the order the strategies ran."""
    rows = [[day, state.name, text] for state in result.states for day, text in state.warnings]
    return sorted(rows, key=lambda row: row[0])


def values_frame(result: BacktestResult) -> pd.DataFrame:
    """Each strategy's account value per session (columns in the order run)."""
    return pd.DataFrame({s.name: s.nav for s in result.states}, index=result.schedule.sessions)


def backtest_files(result: BacktestResult, report: BacktestReport, span: dict[str, Any]) -> dict[str, bytes]:
    """Every file of the output folder but the manifest (see the module docstring); ``span`` describes the run
    (dates, calendar, fills) for ``metrics.json``."""
    look = report.look_ahead
    names = [m.strategy for m in report.metrics]
    keys = list(report.metrics[0].values) if report.metrics else []
    values = values_frame(result)
    days = [d.strftime("%Y-%m-%d") for d in values.index]
    daily = values.pct_change().iloc[1:]
    files = {
        "metrics.csv": _csv(["strategy", *keys], [[m.strategy, *m.values.values()] for m in report.metrics], look),
        "metrics.json": json_bytes({"look_ahead": list(look), **span, "benchmark": report.benchmark,
                                    "strategies": {m.strategy: m.values for m in report.metrics},
                                    "rules": report.rules_summary(), "warnings": len(report.warnings)}),
        "returns.csv": _csv(["date", *names], [[d, *row] for d, row in zip(days[1:], daily.to_numpy().tolist(),
                                                                              strict=True)], look),
        "weights.csv": _csv(["date", "strategy", "symbol", "weight"],
                            [[row[0], s.name, *row[1:]] for s in result.states for row in s.weights], look),
        "decisions.csv": _csv(["strategy", "decision_date", "symbol", "target_quantity", "reason"],
                              [[s.name, *row] for s in result.states for row in s.decisions], look),
        "trades.csv": _csv(["strategy", "decision_date", "fill_date", "symbol", "side", "quantity", "price",
                            "notional", "cost", "reason"],
                           [[s.name, *row] for s in result.states for row in s.trades], look),
        "rules.csv": _csv(["date", "strategy", "kind", "symbol", "value", *[f"forward_{h}{part}" for h in HORIZONS
                                                                           for part in ("", "_kept")], "detail"],
                          _rule_rows(result, report), look),
        "warnings.csv": _csv(["date", "strategy", "warning"], report.warnings, look),
    }
    if report.benchmark is not None and len(values.columns) > 1:  # the benchmark alone has nothing to compare
        files["rolling_excess.png"] = charts.rolling_excess_png(values, report.benchmark, look)
    files["equity.png"] = charts.equity_png(values, look)
    files["drawdowns.png"] = charts.drawdown_png(values, look)
    first = result.states[0]
    weights = charts.weights_over_time(first.weights)
    if len(weights):
        files["weights.png"] = charts.weights_png(weights, first.name, look)
    return files


def _rule_rows(result: BacktestResult, report: BacktestReport) -> list[list[Any]]:
    outcome = {(t.strategy, t.date, t.symbol): t for t in report.trims}
    rows: list[list[Any]] = []
    for state in result.states:
        for day, rule, symbol, value, detail in state.rules:
            trim = outcome.get((state.name, day, symbol)) if rule == "rsi_trim" else None
            forward = [x for h in HORIZONS for x in ((trim.trimmed[h], trim.kept[h]) if trim else (None, None))]
            rows.append([day, state.name, rule, symbol, value, *forward, detail])
    rows.extend([ic.date, "config", "signal_ic", ic.signal, ic.ic, *[None] * (2 * len(HORIZONS)),
                 f"{ic.assets} equity assets"] for ic in report.ics)
    return rows
