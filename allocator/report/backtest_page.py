"""The page of a backtest (``allocate backtest -o``): would the config's rules have paid, after costs, out of sample.

Read from the folder's ``metrics.json`` (every metric, the bootstrap intervals, CVaR and CDaR as the backtest
measured them with riskfolio-lib: nothing is recomputed here), ``returns.csv`` (the equity curves and drawdowns,
compounded from the daily returns), ``weights.csv``, ``trades.csv``, ``rules.csv``, ``warnings.csv`` and
``manifest.json``. The charts are the backtest's own figures (``allocator.backtest.charts``) drawn as inline SVG.
Sections, in order: headline, metrics, differences to the benchmark, risk measures, equity curves, drawdowns,
weights over time, rules, trades, warnings (the rebalances' among them), manifest. Returns and risk are fractions
shown as percentages (annualized where rates); money is in the account currency.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

import numpy as np
import pandas as pd

from allocator.backtest import charts as backtest_charts
from allocator.backtest.rules import HORIZONS
from allocator.report.charts import svg_text
from allocator.report.folder import OutputFolder, number, optional_number
from allocator.report.page import Cell, Facts, Figure, Page, Section, Table, Text, money, percent, ratio, text
from allocator.report.run_page import manifest_section

PERFORMANCE = (("CAGR", "cagr", "pct"), ("volatility", "volatility", "pct"), ("Sharpe", "sharpe", "ratio"),
               ("Sortino", "sortino", "ratio"), ("max drawdown", "max_drawdown", "pct"),
               ("turnover", "turnover", "pct"), ("costs", "costs", "pct"), ("tracking error", "tracking_error", "pct"),
               ("IR", "information_ratio", "ratio"))
REBALANCES = (("rebalances", "rebalances"), ("failed (no trade)", "failed_rebalances"),
              ("relaxed", "relaxed_rebalances"))
RISK = (("volatility", "volatility"), ("max drawdown", "max_drawdown"), ("CVaR 95%", "cvar_95"),
        ("CDaR 95%", "cdar_95"))
DIFFERENCES = (("excess return", "excess_return", "pct"), ("Sharpe difference", "sharpe_difference", "ratio"))
PREFERRED = "config"  # the strategy whose weights over time are drawn, when it ran


def _cell(value: Any, source: str, kind: str) -> Cell:
    found = optional_number(value, source.replace("#", ": "))
    where = source if found is not None else ""
    if kind == "ratio":
        return ratio(found, where)
    if kind == "count":
        return ratio(found, where, 0)
    return percent(found, where)


def _strategies(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    strategies = data.get("strategies")
    return {str(k): v for k, v in strategies.items() if isinstance(v, dict)} if isinstance(strategies, dict) else {}


def _every(every: Any) -> str:
    return f"every {every} sessions" if str(every).isdigit() else str(every)


def headline_section(data: dict[str, Any], manifest: dict[str, Any], sessions: int) -> Section:
    command = manifest.get("command") or {}
    account = (f"holdings {command['holdings']}" if command.get("holdings") else
               f"cash {command['initial_cash']}" if command.get("initial_cash") else "backtest.initial_cash")
    facts = Facts((
        ("period", text(f"{data.get('start')} .. {data.get('end')}")),
        ("sessions", ratio(float(sessions), "", 0)),
        ("rebalance", text(_every(data.get("every")))),
        ("rebalances", _cell(data.get("rebalances"), "metrics.json#rebalances", "count")),
        ("fills", text(data.get("fill"))),
        ("strategies", text(", ".join(_strategies(data)))),
        ("benchmark", text(data.get("benchmark") or "none")),
        ("starting account", text(account))))
    look = [str(line) for line in data.get("look_ahead") or []]
    blocks: tuple[Facts | Text, ...] = (facts,)
    if look:
        blocks += (Text(tuple(f"{line.capitalize()}: the fundamentals of one date stand for every date, so the "
                              "signals' results are not out of sample." for line in look), emphasis=True),)
    return Section("headline", "Headline", blocks)


def metrics_section(data: dict[str, Any]) -> Section:
    strategies = _strategies(data)
    rows = tuple((text(name), *(_cell(values.get(key), f"metrics.json#strategies.{name}.{key}", kind)
                                for _, key, kind in PERFORMANCE)) for name, values in strategies.items())
    counts = tuple((text(name), *(_cell(values.get(key), f"metrics.json#strategies.{name}.{key}", "count")
                                  for _, key in REBALANCES)) for name, values in strategies.items())
    return Section("metrics", "Metrics", (
        Table("Each strategy from its daily returns (annualized; 252 sessions a year; turnover one side and costs "
              "over the average value, a year; tracking error and information ratio (IR) against the benchmark)",
              ("strategy", *(label for label, _, _ in PERFORMANCE)), rows, sortable=True),
        Table("Rebalances decided, those that traded nothing, and those that needed a relaxation of the limits",
              ("strategy", *(label for label, _ in REBALANCES)), counts)))


def _interval(low: float | None, high: float | None) -> str:
    if low is None or high is None:
        return ""
    return "above zero" if low > 0 else "below zero" if high < 0 else "contains zero"


def differences_section(data: dict[str, Any]) -> Section:
    benchmark = data.get("benchmark")
    rows = []
    for name, values in _strategies(data).items():
        if name == benchmark or values.get("excess_return") is None:
            continue
        for label, key, kind in DIFFERENCES:
            source = f"metrics.json#strategies.{name}.{key}"
            low, high = (optional_number(values.get(f"{key}_ci_{end}"), f"{source}_ci_{end}")
                         for end in ("low", "high"))
            rows.append((text(name), text(label), _cell(values.get(key), source, kind),
                         _cell(low, f"{source}_ci_low", kind), _cell(high, f"{source}_ci_high", kind),
                         text(_interval(low, high))))
    if not rows:
        return Section("differences", "Differences to the benchmark", (Text(("No benchmark strategy ran.",)),))
    return Section("differences", "Differences to the benchmark", (
        Table(f"Against {benchmark}: annualized excess return and Sharpe ratio difference, with 95% confidence "
              "intervals from a stationary block bootstrap of the paired daily returns",
              ("strategy", "difference", "estimate", "2.5%", "97.5%", "interval"), tuple(rows)),
        Text(("An interval that contains zero is no evidence either way.",))))


def risk_section(data: dict[str, Any]) -> Section:
    rows = tuple((text(name), *(_cell(values.get(key), f"metrics.json#strategies.{name}.{key}", "pct")
                                for _, key in RISK)) for name, values in _strategies(data).items())
    return Section("risk", "Risk measures", (
        Table("Risk of each strategy (volatility annualized; CVaR 95%: the average daily loss beyond the 95% value at "
              "risk; CDaR 95%: the average drawdown beyond its 95% quantile; riskfolio-lib's CVaR_Hist and CDaR_Rel)",
              ("strategy", *(label for label, _ in RISK)), rows, sortable=True),))


def values_frame(folder: OutputFolder, start: str) -> pd.DataFrame:
    """The value of 1 invested in each strategy per session, compounded from ``returns.csv`` (1 on ``start``)."""
    rows = folder.rows("returns.csv")
    names = [k for k in (rows[0] if rows else {}) if k != "date"]
    returns = pd.DataFrame([[number(r[n], f"{folder.where}/returns.csv: {r['date']}: {n}") for n in names]
                            for r in rows], columns=names, index=[r["date"] for r in rows])
    values = pd.concat([pd.DataFrame([[1.0] * len(names)], columns=names, index=[start]), (1.0 + returns).cumprod()])
    values.index = pd.DatetimeIndex(values.index)
    return values


def equity_section(values: pd.DataFrame, look: tuple[str, ...]) -> Section:
    end = values.index[-1].strftime("%Y-%m-%d")
    finals = values.iloc[-1]
    svg = svg_text(backtest_charts.equity_figure(values, look), "equity-chart", "Value of 1 invested (log scale)",
                   "; ".join(f"{name}: {finals[name]:.4f} on {end}" for name in values.columns))
    rows = tuple((text(name), ratio(float(finals[name]), "", 4), percent(float(finals[name]) - 1.0))
                 for name in values.columns)
    return Section("equity", "Equity curves", (
        Figure(svg, "Each strategy's value, 1 at the start, compounded from its daily returns (returns.csv)."),
        Table(f"Value of 1 invested on {values.index[0]:%Y-%m-%d}, on {end}", ("strategy", "value", "total return"),
              rows)))


def drawdowns_section(values: pd.DataFrame, data: dict[str, Any], look: tuple[str, ...]) -> Section:
    drawdowns = values / values.cummax() - 1.0
    strategies = _strategies(data)
    rows = []
    days = [f"{day:%Y-%m-%d}" for day in values.index]
    for name in values.columns:
        value = values[name].to_numpy()
        trough = int(np.argmin(drawdowns[name].to_numpy()))
        peak = int(np.argmax(value[:trough + 1]))
        recovered = np.flatnonzero(value[trough:] >= value[peak])
        rows.append((text(name), _cell((strategies.get(name) or {}).get("max_drawdown"),
                                       f"metrics.json#strategies.{name}.max_drawdown", "pct"),
                     text(days[peak]), text(days[trough]),
                     text(days[trough + recovered[0]] if len(recovered) else "not yet")))
    deepest = "; ".join(f"{name}: deepest {100 * -drawdowns[name].min():.2f}% on {drawdowns[name].idxmin():%Y-%m-%d}"
                        for name in values.columns)
    svg = svg_text(backtest_charts.drawdown_figure(values, look), "drawdown-chart", "Drawdown from the running peak",
                   deepest)
    return Section("drawdowns", "Drawdowns", (
        Figure(svg, "Each strategy's fall from its running peak, session by session."),
        Table("The largest drawdown of each strategy (% of the peak value): its peak, trough and recovery",
              ("strategy", "max drawdown", "peak", "trough", "recovered"), tuple(rows))))


def weights_section(folder: OutputFolder, look: tuple[str, ...]) -> Section:
    rows = folder.rows("weights.csv")
    names = list(dict.fromkeys(r["strategy"] for r in rows))
    if not names:
        return Section("weights", "Weights over time", (Text(("No rebalance was filled.",)),))
    name = PREFERRED if PREFERRED in names else names[0]
    own = [(i, r) for i, r in enumerate(rows) if r["strategy"] == name]
    where = f"{folder.where}/weights.csv"
    weights = backtest_charts.weights_over_time(
        (r["date"], r["symbol"], number(r["weight"], f"{where}: row {i + 1}: weight")) for i, r in own)
    first, last = own[0][1]["date"], own[-1][1]["date"]
    row_of = {(r["date"], r["symbol"]): i for i, r in own}
    table = []
    for symbol in weights.columns:
        column = weights[symbol]
        table.append((text(symbol), *(percent(float(column.loc[day]), f"weights.csv#{row_of[(day, symbol)]}.weight"
                                              if (day, symbol) in row_of else "") for day in (first, last)),
                      percent(float(column.mean())), percent(float(column.min())), percent(float(column.max()))))
    svg = svg_text(backtest_charts.weights_figure(weights, name, look), "weights-chart",
                   f"Weights of {name} after each rebalance",
                   f"{len(weights)} rebalances from {first} to {last}; on {last}: " + ", ".join(
                       f"{s} {100 * weights[s].iloc[-1]:.1f}%" for s in weights.columns if weights[s].iloc[-1] > 0))
    return Section("weights", "Weights over time", (
        Figure(svg, f"The weights of {name} after each rebalance's fills, stacked (cash last)."),
        Table(f"Weights of {name} (% of NAV) after the first ({first}) and last ({last}) rebalance, and over all "
              f"{len(weights)} rebalances", ("asset", "first", "last", "average", "lowest", "highest"),
              tuple(table), sortable=True)))


def rules_section(folder: OutputFolder, data: dict[str, Any]) -> Section:
    rules = data.get("rules") or {}
    trims = rules.get("rsi_trims") or {}
    trim_rows = tuple((text(name), _cell(values.get("trims"), f"metrics.json#rules.rsi_trims.{name}.trims", "count"),
                       *(cell for h in HORIZONS for cell in (
                           _cell(values.get(f"hit_rate_{h}"), f"metrics.json#rules.rsi_trims.{name}.hit_rate_{h}",
                                 "pct"),
                           _cell(values.get(f"trims_scored_{h}"),
                                 f"metrics.json#rules.rsi_trims.{name}.trims_scored_{h}", "count"))))
                      for name, values in trims.items())
    ics = rules.get("signal_ic") or {}
    ic_rows = tuple((text(signal), *(_cell(values.get(key), f"metrics.json#rules.signal_ic.{signal}.{key}", kind)
                                     for key, kind in (("mean_ic", "ratio"), ("t_stat", "ratio"), ("dates", "count"))))
                    for signal, values in ics.items())
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for row in folder.rows("rules.csv"):
        if row["kind"] != "signal_ic":
            counts[row["strategy"]][row["kind"]] += 1
    kinds = sorted({kind for found in counts.values() for kind in found})
    fired = tuple((text(name), *(ratio(float(found[kind]), "", 0) for kind in kinds)) for name, found in counts.items())
    return Section("rules", "Rules: RSI hit rates and signal ICs", (
        Table("RSI trims: a hit is a trimmed fund that did worse than what was kept over the horizon (sessions); "
              "scored: trims with the whole horizon of prices after them",
              ("strategy", "trims", *(f"{label} {h}" for h in HORIZONS for label in ("hit rate", "scored"))),
              trim_rows),
        Table("Signal information coefficients: the Spearman rank correlation of each signal's z-scores with the "
              "equity funds' return to the next rebalance, averaged over the config's rebalances",
              ("signal", "mean IC", "t-statistic", "dates"), ic_rows),
        Table("Rules that fired (rules.csv), by strategy and kind", ("strategy", *kinds), fired) if kinds else
        Text(("No rule fired.",))))


def trades_section(folder: OutputFolder) -> Section:
    totals: dict[str, dict[str, float]] = defaultdict(lambda: dict.fromkeys(("fills", "buys", "sells", "notional",
                                                                             "cost"), 0.0))
    where = f"{folder.where}/trades.csv"
    for i, row in enumerate(folder.rows("trades.csv")):
        found = totals[row["strategy"]]
        found["fills"] += 1
        found["buys" if row["side"] == "BUY" else "sells"] += 1
        found["notional"] += number(row["notional"], f"{where}: row {i + 1}: notional")
        found["cost"] += number(row["cost"], f"{where}: row {i + 1}: cost")
    rows = tuple((text(name), *(ratio(found[k], "", 0) for k in ("fills", "buys", "sells")),
                  money(found["notional"]), money(found["cost"]),
                  ratio(found["cost"] / found["notional"] * 1e4 if found["notional"] else None, "", 1))
                 for name, found in totals.items())
    return Section("trades", "Trades", (Table(
        "Every fill (trades.csv) by strategy: counts, traded value and costs paid (account currency), and the cost in "
        "basis points of the traded value", ("strategy", "fills", "buys", "sells", "traded value", "costs",
                                             "cost (bp)"), rows) if rows else Text(("No trade was filled.",)),))


WARNINGS_SHOWN = 20  # distinct rebalance warnings listed on the page; warnings.csv holds them all


def rebalance_warnings(folder: OutputFolder) -> list[str]:
    """Each distinct warning of ``warnings.csv`` once, in the order first raised, with the decisions that raised it
    (rebalance dates times strategies) and its first and last date; beyond ``WARNINGS_SHOWN``, how many more."""
    if not folder.has("warnings.csv"):  # a folder written before warnings.csv was
        return []
    dates: dict[str, list[str]] = defaultdict(list)
    for row in folder.rows("warnings.csv"):
        dates[row["warning"]].append(row["date"])
    lines = [f"Warning: {text} ({len(days)} decisions, {days[0]} .. {days[-1]})"
             for text, days in list(dates.items())[:WARNINGS_SHOWN]]
    if len(dates) > WARNINGS_SHOWN:
        lines.append(f"{len(dates) - WARNINGS_SHOWN} more distinct warnings in warnings.csv")
    return lines


def warnings_section(folder: OutputFolder, data: dict[str, Any], manifest: dict[str, Any]) -> Section:
    lines = [str(line) for line in data.get("look_ahead") or []]
    for name, values in _strategies(data).items():
        for key, what in (("failed_rebalances", "rebalances traded nothing (no_trade)"),
                          ("relaxed_rebalances", "rebalances needed a relaxation of the limits")):
            if values.get(key):
                lines.append(f"{name}: {values[key]} {what}")
    lines += [f"{row['date']} {row['strategy']}: no trade: {row['detail']}" for row in folder.rows("rules.csv")
              if row["kind"] == "no_trade"]
    lines += rebalance_warnings(folder)
    lines += [f"Config note: {note}" for note in manifest.get("notes") or [] if not str(note).startswith("look-ahead")]
    return Section("warnings", "Warnings", (Text(tuple(lines) or ("None.",), emphasis=bool(lines)),))


def backtest_page(folder: OutputFolder) -> Page:
    """The page of the backtest in ``folder``."""
    data = folder.mapping("metrics.json")
    manifest = folder.mapping("manifest.json") if folder.has("manifest.json") else {}
    look = tuple(str(line) for line in data.get("look_ahead") or [])
    values = values_frame(folder, str(data.get("start")))
    sections = [headline_section(data, manifest, len(values)), metrics_section(data), differences_section(data),
                risk_section(data), equity_section(values, look), drawdowns_section(values, data, look),
                weights_section(folder, look), rules_section(folder, data), trades_section(folder),
                warnings_section(folder, data, manifest)]
    if manifest:
        sections.append(manifest_section(manifest))
    subtitle = (f"{data.get('start')} .. {data.get('end')}, {_every(data.get('every'))}, {len(_strategies(data))} "
                f"strategies" + "".join(f"; {line}" for line in look))
    return Page("backtest", "Backtest", subtitle, tuple(sections))
