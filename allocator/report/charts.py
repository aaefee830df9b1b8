"""Charts of the report page as inline SVG (matplotlib's SVG backend; no pyplot, so no global state).

Every chart carries a ``<title>`` and a ``<desc>`` (its text alternative, read by screen readers) and
``role="img"``; its element ids are prefixed with the chart's name so several charts live in one page; text stays
text (``svg.fonttype: none``) and no date is written, so the same data gives the same bytes. The frontier's figure
is also written as ``frontier.png`` (``png_bytes``). Weights are fractions of NAV, drawn as percentages.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING
from xml.sax.saxutils import escape

from allocator.compare.chart import views_panel
from allocator.compare.views import ViewMatrix
from allocator.outputs.png import chart_png

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from allocator.report.frontier import Frontier

SERIES_COLORS = ("#7f7f7f", "#bcbddc", "#2f5f98", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948")
MARK_STYLES = {"current": ("o", "#222222"), "benchmark": ("D", "#7f7f7f"), "target": ("*", "#e15759")}
CURVE_LABELS = {"volatility": "volatility", "tracking_error": "tracking error"}


def _percent(value: float, _: object = None) -> str:
    return f"{100.0 * value:.0f}%"


def _percent_1(value: float, _: object = None) -> str:
    return f"{100.0 * value:.1f}%"


def svg_text(figure: Figure, name: str, title: str, description: str) -> str:
    """``figure`` as an inline ``<svg>`` element with ``title`` and ``description``; ids prefixed with ``name``."""
    import matplotlib
    from matplotlib.backends.backend_svg import FigureCanvasSVG

    FigureCanvasSVG(figure)
    buffer = io.StringIO()
    with matplotlib.rc_context({"svg.hashsalt": "allocate", "svg.fonttype": "none"}):
        figure.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    svg = buffer.getvalue()
    svg = svg[svg.index("<svg"):]  # no XML prolog or DOCTYPE inside HTML
    svg = re.sub(r'\bid="', f'id="{name}-', svg)
    svg = svg.replace("url(#", f"url(#{name}-").replace('href="#', f'href="#{name}-')
    svg = re.sub(r"<metadata>.*?</metadata>", "", svg, flags=re.S)
    head_end = svg.index(">") + 1
    head = svg[:head_end].replace("<svg ", f'<svg role="img" aria-labelledby="{name}-title {name}-desc" ', 1)
    return (f'{head}<title id="{name}-title">{escape(title)}</title><desc id="{name}-desc">{escape(description)}'
            f"</desc>{svg[head_end:]}")


def png_bytes(figure: Figure) -> bytes:
    """``figure`` as PNG bytes (no timestamp or software tag, so the bytes repeat)."""
    return chart_png(figure)


def weights_figure(labels: Sequence[str], series: Sequence[tuple[str, Sequence[float]]], title: str) -> Figure:
    """Grouped horizontal bars: one row per label, one bar per series (fractions of NAV, shown as %)."""
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter

    figure = Figure(figsize=(8.0, max(3.0, 0.34 * len(labels) * max(1.0, len(series) / 3.0) + 1.4)), dpi=100,
                    layout="constrained")
    axes = figure.add_subplot()
    height = 0.82 / max(len(series), 1)
    for k, (name, values) in enumerate(series):
        offsets = [y - 0.41 + height * (k + 0.5) for y in range(len(labels))]
        axes.barh(offsets, list(values), height=height, color=SERIES_COLORS[k % len(SERIES_COLORS)], label=name)
    axes.set_yticks(range(len(labels)), list(labels))
    axes.invert_yaxis()
    axes.xaxis.set_major_formatter(FuncFormatter(_percent))
    axes.grid(axis="x", alpha=0.3)
    axes.set_xlabel("weight (% of NAV)")
    axes.set_title(title, loc="left", fontsize=11)
    axes.legend(loc="lower right", fontsize=8, framealpha=0.9)
    return figure


def bars_figure(labels: Sequence[str], values: Sequence[float], title: str, xlabel: str) -> Figure:
    """One horizontal bar per label (fractions, shown as %), largest first as given."""
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter

    figure = Figure(figsize=(8.0, max(2.5, 0.26 * len(labels) + 1.2)), dpi=100, layout="constrained")
    axes = figure.add_subplot()
    axes.barh(range(len(labels)), list(values), color=SERIES_COLORS[2])
    axes.set_yticks(range(len(labels)), list(labels))
    axes.invert_yaxis()
    axes.xaxis.set_major_formatter(FuncFormatter(_percent_1))
    axes.grid(axis="x", alpha=0.3)
    axes.set_xlabel(xlabel)
    axes.set_title(title, loc="left", fontsize=11)
    return figure


def frontier_figure(frontier: Frontier) -> Figure:
    """Expected excess return net of costs against volatility (left) and tracking error (right): the frontier's
    points joined by rising risk aversion, the current portfolio, the benchmark and the target marked."""
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter

    curves = frontier.curves
    figure = Figure(figsize=(5.0 * len(curves) + 0.5, 4.4), dpi=100, layout="constrained")
    for k, curve in enumerate(curves):
        axes = figure.add_subplot(1, len(curves), k + 1)
        points = frontier.curve(curve)
        axes.plot([p.risk(curve) for p in points], [p.net_return for p in points], marker=".", color="#2f5f98",
                  label=f"frontier ({len(points)} risk aversions)")
        for mark in frontier.marks:
            style, color = MARK_STYLES.get(mark.portfolio, ("s", "black"))
            axes.plot([mark.risk(curve)], [mark.net_return], linestyle="none", marker=style, color=color,
                      markersize=12 if style == "*" else 7, label=mark.portfolio)
        axes.xaxis.set_major_formatter(FuncFormatter(_percent_1))
        axes.yaxis.set_major_formatter(FuncFormatter(_percent_1))
        axes.grid(alpha=0.3)
        axes.set_xlabel(f"{CURVE_LABELS[curve]} (annualized)")
        axes.set_ylabel("expected excess return net of costs")
        axes.set_title(f"Return against {CURVE_LABELS[curve]}, under every limit", loc="left", fontsize=10)
        axes.legend(loc="lower right", fontsize=8, framealpha=0.9)
    figure.suptitle(f"Efficient frontier as of {frontier.as_of} (target: risk aversion {frontier.risk_aversion:g})",
                    fontsize=11)
    return figure


def views_figure(matrix: ViewMatrix) -> Figure:
    """The portfolio x view matrix as a heatmap of utility (``allocator.compare.chart.views_panel``)."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(10.0, 0.5 * len(matrix.rows) + 2.0), dpi=100, layout="constrained")
    views_panel(figure, figure.add_subplot(), matrix)
    return figure
