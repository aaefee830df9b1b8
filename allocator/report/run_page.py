"""The page of a run (``allocate run -o``): what a committee reads before it approves the trade list.

Read from the folder's ``summary.json``, ``weights.csv``, the trade list, ``manifest.json`` and, when present,
``approval.json``; the frontier section is added by the caller (``allocator.report.build``). Sections, in order:
headline, approval, weights, exposures, risk, attribution, views, RSI, binding limits, trades, (frontier),
warnings, manifest. Weights, returns and risk are fractions of NAV shown as percentages (annualized where rates);
money is in the account currency.
"""

from __future__ import annotations

import re
from typing import Any

from allocator.report.charts import bars_figure, svg_text, weights_figure
from allocator.report.folder import OutputFolder, number, optional_number
from allocator.report.page import Cell, Facts, Figure, Page, Section, Table, Text, money, percent, ratio, text
from allocator.report.page import number as number_cell
from allocator.report.trade_list import approval_section, trades_section

SHOWN_FROM = 0.0005  # assets under 0.05% of NAV in every column are left off the weights chart (not the table)
RULE = re.compile(r"^(\w+) on (\S+) ")
STATS = (("expected excess return", "expected_return", "pct"), ("volatility", "volatility", "pct"),
         ("Sharpe ratio", "sharpe", "ratio"), ("tracking error", "tracking_error", "pct"),
         ("active share", "active_share", "pct"), ("cash", "cash_weight", "pct"),
         ("turnover (one-way, net of flows)", "turnover", "pct"))
PORTFOLIOS = (("current", "current"), ("target", "target"), ("after rounding", "achieved"))
WEIGHT_COLUMNS = (("current", "current_weight"), ("benchmark", "benchmark_weight"), ("target", "target_weight"),
                  ("after rounding", "achieved_weight"))
GROUPINGS = (("size_bucket", "size bucket"), ("sector", "sector"), ("asset_class", "asset class"))


def _get(data: dict[str, Any], path: str) -> Any:
    """The value at the dotted ``path`` (list entries by index: ``views.0.prior``), None when absent."""
    found: Any = data
    for part in path.split("."):
        if isinstance(found, list) and part.isdigit() and int(part) < len(found):
            found = found[int(part)]
        else:
            found = found.get(part) if isinstance(found, dict) else None
    return found


def _stat(summary: dict[str, Any], path: str, kind: str) -> Cell:
    value = optional_number(_get(summary, path), f"summary.json: {path}")
    source = f"summary.json#{path}" if value is not None else ""
    return ratio(value, source) if kind == "ratio" else percent(value, source)


def headline_section(summary: dict[str, Any], manifest: dict[str, Any]) -> Section:
    solver = manifest.get("solver") or {}
    objective = summary.get("objective") or {}
    views = summary.get("views") or []
    facts = Facts((
        ("as of", text(summary.get("as_of"))),
        ("NAV (account currency)", money(number(summary.get("nav_value"), "summary.json: nav_value"),
                                         "summary.json#nav_value")),
        ("regime", text(summary.get("regime"))),
        ("views", text(", ".join(str(v.get("name")) for v in views) or "none")),
        ("objective", text(objective.get("name", "utility"))),
        ("solver status", text(f"{solver.get('solver', '?')}: {solver.get('status', '?')}")),
        ("benchmark", text(summary.get("benchmark"))),
        ("expected returns", text(summary.get("expected_returns"))),
        ("risk model", text(summary.get("risk_model"))),
    ))
    show = [s for s in STATS if summary.get("benchmark") != "none" or s[1] not in ("tracking_error", "active_share")]
    rows = [(text(label), *(_stat(summary, f"{key}.{name}", kind) if not (name == "turnover" and key == "current")
                            else Cell("-") for _, key in PORTFOLIOS)) for label, name, kind in show]
    table = Table("The portfolio before and after (annualized; % of NAV)",
                  ("metric", *(label for label, _ in PORTFOLIOS)), tuple(rows))
    blocks: list[Any] = [facts, table]
    utility = summary.get("utility")
    if isinstance(utility, dict) and objective.get("name", "utility") == "utility":
        blocks.append(Text((f"Utility (expected return - risk - costs over the horizon): current "
                            f"{percent(utility.get('current')).text} -> target {percent(utility.get('target')).text}, "
                            f"a gain of {percent(utility.get('gain')).text} a year for the trades.",)))
    return Section("headline", "Headline", tuple(blocks))


def weights_section(weights: list[dict[str, str]]) -> Section:
    rows, shown = [], []
    for n, row in enumerate(weights, start=2):
        symbol = row.get("symbol", "")
        values = [number(row.get(column), f"weights.csv: row {n}: {column}") for _, column in WEIGHT_COLUMNS]
        rows.append((text(symbol), text(row.get("sector")), text(row.get("size_bucket")),
                     *(percent(v, f"weights.csv#{symbol}.{c}") for v, (_, c) in zip(values, WEIGHT_COLUMNS,
                                                                                   strict=True)),
                     percent(values[2] - values[1])))
        if symbol == "CASH" or max(values) >= SHOWN_FROM:
            shown.append((symbol, values))
    figure = weights_figure([s for s, _ in shown], [(label, [v[k] for _, v in shown])
                                                     for k, (label, _) in enumerate(WEIGHT_COLUMNS)],
                            "Weights: current, benchmark, target and after rounding to whole shares")
    description = "; ".join(f"{s}: " + ", ".join(f"{label} {100 * v[k]:.2f}%" for k, (label, _) in
                                                 enumerate(WEIGHT_COLUMNS)) for s, v in shown)
    svg = svg_text(figure, "weights-chart", "Weights by asset (% of NAV)", description)
    table = Table("Weights by asset (% of NAV; active = target - benchmark). Click a column to sort.",
                  ("asset", "sector", "size", *(label for label, _ in WEIGHT_COLUMNS), "active"), tuple(rows),
                  sortable=True)
    return Section("weights", "Weights", (Figure(svg, f"{len(shown)} assets held, in the benchmark or targeted, "
                                                      "and cash."), table))


def exposures_section(summary: dict[str, Any], weights: list[dict[str, str]]) -> Section:
    tables = []
    for grouping, label in GROUPINGS:
        current: dict[str, float] = {}
        for n, row in enumerate(weights, start=2):
            if row.get("symbol") == "CASH":
                continue
            group = row.get(grouping, "")
            current[group] = current.get(group, 0.0) + number(row.get("current_weight"), f"weights.csv: row {n}")
        target = _get(summary, f"exposures.{grouping}") or {}
        benchmark = _get(summary, f"benchmark_exposures.{grouping}") or {}
        labels = sorted(set(target) | set(benchmark) | set(current))
        rows = tuple((text(name), _stat(summary, f"benchmark_exposures.{grouping}.{name}", "pct")
                      if name in benchmark else percent(0.0), percent(current.get(name, 0.0)),
                      _stat(summary, f"exposures.{grouping}.{name}", "pct") if name in target else percent(0.0))
                     for name in labels)
        tables.append(Table(f"Weight by {label} (% of NAV)", (label, "benchmark", "current", "target"), rows))
    return Section("exposures", "Exposures", tuple(tables))


def risk_section(summary: dict[str, Any], weights: list[dict[str, str]]) -> Section:
    rows, chart = [], []
    for n, row in enumerate(weights, start=2):
        contribution = optional_number(row.get("risk_contribution"), f"weights.csv: row {n}: risk_contribution")
        if contribution is None:
            continue
        symbol = row.get("symbol", "")
        rows.append((text(symbol), percent(number(row.get("target_weight"), "weights.csv"),
                                           f"weights.csv#{symbol}.target_weight"),
                     percent(optional_number(row.get("volatility"), "weights.csv"), f"weights.csv#{symbol}.volatility"),
                     percent(contribution, f"weights.csv#{symbol}.risk_contribution")))
        if abs(contribution) >= SHOWN_FROM:
            chart.append((symbol, contribution))
    chart.sort(key=lambda item: -item[1])
    top = summary.get("top_risk_contributions") or {}
    facts = Facts(tuple((str(symbol), _stat(summary, f"top_risk_contributions.{symbol}", "pct")) for symbol in top))
    figure = bars_figure([s for s, _ in chart], [v for _, v in chart], "Share of the target's variance by asset",
                         "risk contribution (% of the portfolio's variance)")
    svg = svg_text(figure, "risk-chart", "Risk contributions of the target",
                   "; ".join(f"{s} {100 * v:.1f}%" for s, v in chart))
    table = Table("Risk contributions of the target (w_i (Sigma w)_i / w' Sigma w, summing to 100%; volatility "
                  "annualized)", ("asset", "target weight", "volatility", "risk contribution"), tuple(rows),
                  sortable=True)
    figure_block = Figure(svg, "Assets with a contribution of 0.05% or more.")
    lead = Text(("The largest contributions to the target's risk:",))
    return Section("risk", "Risk contributions", (lead, facts, figure_block, table))


def attribution_section(summary: dict[str, Any]) -> Section:
    attribution = summary.get("attribution") or {}
    signals = list(summary.get("signal_multipliers") or {})
    parts = ["prior", *signals, "views", "expected_return"]
    rows = tuple((text(symbol), *(_stat(summary, f"attribution.{symbol}.{part}", "pct") for part in parts))
                 for symbol in attribution)
    table = Table("Expected excess return per asset and where it comes from (annualized, %): the prior, each "
                  "signal's alpha, the views; they add up to the expected return",
                  ("asset", *(p.replace("_", " ") for p in parts)), rows, sortable=True)
    conviction = summary.get("conviction")
    blocks: list[Any] = [table]
    if conviction is not None:
        blocks.insert(0, Text((f"Signal conviction {ratio(conviction).text} (1 = every signal at full weight); "
                               f"regime {summary.get('regime')}.",)))
    return Section("attribution", "Return attribution", tuple(blocks))


def views_section(summary: dict[str, Any]) -> Section | None:
    views = summary.get("views") or []
    if not views:
        return None
    rows = tuple((text(v.get("name")), text(v.get("source")), _stat(summary, f"views.{i}.prior", "pct"),
                  _stat(summary, f"views.{i}.expected", "pct"), percent(v.get("confidence"), digits=0),
                  _stat(summary, f"views.{i}.posterior", "pct")) for i, v in enumerate(views))
    return Section("views", "Views", (Table(
        "Views (Black-Litterman): the prior's expected value, the view, its confidence and the posterior "
        "(annualized, %)", ("view", "source", "prior", "view", "confidence", "posterior"), rows),))


def rsi_section(summary: dict[str, Any], weights: list[dict[str, str]]) -> Section:
    rules = [str(r) for r in summary.get("rsi_rules") or []]
    fired: dict[str, list[str]] = {}
    for rule in rules:
        match = RULE.match(rule)
        if match:
            fired.setdefault(match.group(2), []).append(match.group(1))
    rows = []
    for n, row in enumerate(weights, start=2):
        value = optional_number(row.get("rsi"), f"weights.csv: row {n}: rsi")
        if value is None:
            continue
        symbol = row.get("symbol", "")
        rows.append((text(symbol), ratio(value, f"weights.csv#{symbol}.rsi", digits=1),
                     text(", ".join(fired.get(symbol, [])) or "-")))
    rows.sort(key=lambda r: -(r[1].value or 0.0))
    blocks: list[Any] = [Text(tuple(rules) if rules else ("No RSI rule fired.",))]
    blocks.append(Table("RSI (Wilder, 0 to 100) per asset, highest first, and the rules that fired",
                        ("asset", "RSI", "rules fired"), tuple(rows), sortable=True))
    return Section("rsi", "RSI rules", tuple(blocks))


def limits_section(summary: dict[str, Any]) -> Section:
    texts = [str(t) for t in summary.get("binding_constraints") or []]
    entries = summary.get("binding_limits")
    if isinstance(entries, list) and len(entries) == len(texts):
        rows = tuple((text(e.get("key")), text(e.get("subject") or "the portfolio"),
                      number_cell(number(e.get("value"), "summary.json: binding_limits"),
                                  f"summary.json#binding_limits.{i}.value"),
                      text(t)) for i, (e, t) in enumerate(zip(entries, texts, strict=True)))
        table = Table("The limits the target sits on, as the config sets them (value in the config's units), and as "
                      "the solver sees them (a weight bound, fraction of NAV)",
                      ("config key", "applies to", "value", "as solved"), rows)
        return Section("limits", "Binding limits", (table,) if rows else (Text(("No limit binds.",)),))
    return Section("limits", "Binding limits", (Text(tuple(texts) or ("No limit binds.",)),))


def warnings_section(summary: dict[str, Any], manifest: dict[str, Any]) -> Section:
    lines = [f"Warning: {w}" for w in summary.get("warnings") or []]
    lines += [f"Relaxed limit: {r}" for r in summary.get("relaxations") or []]
    lines += [f"Config note: {n}" for n in manifest.get("notes") or []]
    rows = manifest.get("holdings_rows") or {}
    lines += [f"Holdings row counted as cash: {r}" for r in rows.get("cash") or []]
    lines += [f"Holdings row skipped: {r}" for r in rows.get("skipped") or []]
    return Section("warnings", "Warnings", (Text(tuple(lines) or ("None.",), emphasis=bool(lines)),))


def manifest_section(manifest: dict[str, Any], title: str = "Manifest") -> Section:
    """The run's identity and inputs: run id, config chain, each input's SHA-256, package versions, outputs."""
    facts = Facts((("run id", Cell(str(manifest.get("run_id", "-")))), ("as of", text(manifest.get("as_of"))),
                   ("config chain", text(" <- ".join(manifest.get("config_chain") or []))),
                   ("command", text(" ".join(f"{k}={v}" for k, v in (manifest.get("command") or {}).items()
                                             if v not in (None, False, []))))))
    inputs = tuple((text(name), text(entry.get("path")), text(entry.get("sha256")))
                   for name, entry in (manifest.get("inputs") or {}).items() if isinstance(entry, dict))
    outputs = tuple((text(name), text("-"), text(digest)) for name, digest in (manifest.get("outputs") or {}).items())
    versions = tuple((text(name), text(version)) for name, version in (manifest.get("versions") or {}).items())
    return Section("manifest", title, (
        facts, Table("Inputs and outputs by SHA-256", ("file", "path", "SHA-256"), inputs + outputs),
        Table("Package versions", ("package", "version"), versions)))


def run_page(folder: OutputFolder, extra: tuple[Section, ...] = ()) -> Page:
    """The page of the run in ``folder``; ``extra`` sections (the frontier) go before the warnings."""
    summary = folder.mapping("summary.json")
    manifest = folder.mapping("manifest.json")
    weights = folder.rows("weights.csv")
    views = views_section(summary)
    sections = [headline_section(summary, manifest), approval_section(folder, manifest),
                weights_section(weights), exposures_section(summary, weights), risk_section(summary, weights),
                attribution_section(summary), *((views,) if views else ()), rsi_section(summary, weights),
                limits_section(summary), trades_section(folder, summary), *extra,
                warnings_section(summary, manifest), manifest_section(manifest)]
    subtitle = (f"As of {summary.get('as_of')}, NAV {money(summary.get('nav_value')).text}, regime "
                f"{summary.get('regime')}; run {str(manifest.get('run_id', ''))[:12]}")
    return Page("run", "Rebalance for approval", subtitle, tuple(sections))
