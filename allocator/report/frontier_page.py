"""The frontier on a page: a section of a run's page, or the whole page of an ``allocate frontier -o`` folder.

Returns are expected excess returns net of the trading cost over the horizon, risks volatility or tracking error;
all annualized fractions of NAV shown as percentages (``allocator.report.frontier`` defines them).
"""

from __future__ import annotations

from allocator.report.charts import CURVE_LABELS, frontier_figure, svg_text
from allocator.report.folder import OutputFolder
from allocator.report.frontier import Frontier, FrontierPoint
from allocator.report.frontier_files import FRONTIER_CSV, read_frontier
from allocator.report.page import Cell, Facts, Figure, Page, Section, Table, Text, percent, ratio, text
from allocator.report.run_page import manifest_section


def _row(point: FrontierPoint, index: int, from_file: bool) -> tuple[Cell, ...]:
    source = f"{FRONTIER_CSV}#{index}" if from_file else ""
    return (text(point.portfolio if point.portfolio != "frontier" else CURVE_LABELS.get(point.curve, point.curve)),
            ratio(point.risk_aversion, source and f"{source}.risk_aversion", 3) if point.risk_aversion is not None
            else Cell("-"),
            percent(point.expected_return, source and f"{source}.expected_return"),
            percent(point.trading_cost, source and f"{source}.trading_cost", 3),
            percent(point.net_return, source and f"{source}.net_return"),
            percent(point.volatility, source and f"{source}.volatility"),
            percent(point.tracking_error, source and f"{source}.tracking_error"),
            percent(point.cash_weight, source and f"{source}.cash_weight"))


def frontier_section(frontier: Frontier, from_file: bool = False) -> Section:
    """The chart, how far the target sits below the frontier at its risk, and every point in a table
    (``from_file``: the frontier was read from the folder's ``frontier.csv``, which its cells then cite)."""
    lines = []
    target = frontier.mark("target")
    for curve in frontier.curves:
        if target is not None:
            gap = frontier.ceiling(curve, target.risk(curve)) - target.net_return
            lines.append(f"At its {CURVE_LABELS[curve]} of {percent(target.risk(curve)).text}, the target's net return "
                         f"is {percent(max(gap, 0.0)).text} below the frontier's highest.")
    description = "; ".join(f"{m.portfolio}: net return {percent(m.net_return).text}, volatility "
                            f"{percent(m.volatility).text}, tracking error {percent(m.tracking_error).text}"
                            for m in frontier.marks)
    svg = svg_text(frontier_figure(frontier), "frontier-chart", "Efficient frontier under the account's limits",
                   f"{len(frontier.points)} optimal portfolios over a grid of risk aversions. {description}")
    rows = tuple(_row(p, i, from_file) for i, p in enumerate((*frontier.points, *frontier.marks)))
    said = frontier.solves_text()
    solved = (f"{said[:1].upper()}{said[1:]}; each point holds every limit of the config."
              if frontier.solves else "")
    return Section("frontier", "Efficient frontier", (
        Text(("Each point is the best portfolio for one risk aversion under every limit of the config: expected "
              "excess return net of trading costs over the horizon against volatility (and, maximizing return less "
              "tracking-error risk, against tracking error). No portfolio within the limits lies above it. "
              + solved,)),
        Figure(svg, "The frontier (blue) with the current portfolio, the benchmark and the target marked."),
        *((Text(tuple(lines)),) if lines else ()),
        Table("Frontier points and marked portfolios (annualized; % of NAV)",
              ("portfolio", "risk aversion", "expected return", "trading cost", "net return", "volatility",
               "tracking error", "cash"), rows, sortable=True)))


def frontier_page(folder: OutputFolder) -> Page:
    """The page of an ``allocate frontier -o`` folder."""
    frontier = read_frontier(folder)
    facts = Facts((("as of", text(frontier.as_of)), ("target's risk aversion", ratio(frontier.risk_aversion)),
                   ("frontier points", ratio(len(frontier.points), digits=0))))
    sections = [Section("headline", "Headline", (facts,)), frontier_section(frontier, from_file=True)]
    if folder.has("manifest.json"):
        sections.append(manifest_section(folder.mapping("manifest.json")))
    return Page("frontier", "Efficient frontier", f"As of {frontier.as_of}, under every limit of the config",
                tuple(sections))
