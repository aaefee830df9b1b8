"""The comparison chart: target weights by scenario, readable at a glance (PNG, matplotlib's Agg backend).

Left panel: one row per asset held, in the benchmark or targeted by some scenario (then cash); one bar per
scenario, with the current weight as a black tick and the benchmark weight as a grey diamond. Right panel: each
portfolio's weight by size bucket (current, benchmark, then each scenario), stacked, with the small-cap weight
written on the bar, since the rotation into small caps is what the scenarios disagree on. Bottom panel (axes
labelled ``views``): the portfolio x view matrix (``allocator.compare.views``) as a heatmap of utility, each
cell written as expected return and utility, each portfolio's worst view boxed. Failed scenarios have no bars
and no view; the title names them. matplotlib is imported here only, and pyplot not at all (no global state).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from allocator.compare.tables import ComparisonTables, size_bucket_weights
from allocator.compare.views import ViewMatrix
from allocator.terms import CASH_SYMBOL as CASH

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

SHOWN_FROM = 0.0005  # assets below 0.05% everywhere are left out of the per-asset panel
BUCKET_COLORS = {"large": "#2f5f98", "mid": "#8fb3d9", "small": "#f28e2b", "none": "#9ccf8f", "cash": "#d9d9d9",
                 "outside": "#a0826d"}
BUCKET_LABELS = {"none": "bonds, gold (no size)", "outside": "outside the universe"}


def _percent(value: float, _: object = None) -> str:
    return f"{100.0 * value:.0f}%"


def _percent_1(value: float) -> str:
    return f"{100.0 * value:.1f}%"


def weights_figure(tables: ComparisonTables) -> Figure:
    """The two-panel figure of ``tables`` (see the module docstring); scenarios are the left panel's legend."""
    from matplotlib import colormaps
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter

    names = [n for n, ok in zip(tables.scenarios, tables.ok, strict=True) if ok]
    rows = [r for r in tables.weights
            if r.symbol == CASH or max([r.current, r.benchmark, *(t or 0.0 for t in r.targets)]) >= SHOWN_FROM]
    palette = colormaps["tab10" if len(names) <= 10 else "tab20"]
    top = max(6.0, 0.42 * len(rows) + 2.0)
    bottom = 0.5 * len(tables.views.rows) + 2.0
    figure = Figure(figsize=(14.0, top + bottom), dpi=100, layout="constrained")
    grid = figure.add_gridspec(2, 2, width_ratios=[2.3, 1.0], height_ratios=[top, bottom])
    assets = figure.add_subplot(grid[0, 0])
    buckets = figure.add_subplot(grid[0, 1])

    height = 0.8 / max(len(names), 1)
    positions = range(len(rows))
    for k, name in enumerate(names):
        column = tables.scenarios.index(name)
        values = [r.targets[column] or 0.0 for r in rows]
        offsets = [y - 0.4 + height * (k + 0.5) for y in positions]
        assets.barh(offsets, values, height=height, color=palette(k % palette.N), label=name)
    assets.plot([r.current for r in rows], list(positions), linestyle="none", marker="|", markersize=16,
                markeredgewidth=2.2, color="black", label="current")
    assets.plot([r.benchmark for r in rows], list(positions), linestyle="none", marker="D", markersize=6,
                markerfacecolor="white", markeredgecolor="dimgray", label="benchmark")
    assets.set_yticks(list(positions), [r.symbol for r in rows])
    assets.invert_yaxis()
    assets.xaxis.set_major_formatter(FuncFormatter(_percent))
    assets.grid(axis="x", alpha=0.3)
    assets.set_xlabel("weight (% of NAV)")
    assets.set_title("Target weight by asset")
    assets.legend(loc="best", fontsize=9, title="scenario", title_fontsize=9, framealpha=0.9)

    columns = size_bucket_weights(tables)
    labels = list(columns)
    order = [b for b in BUCKET_COLORS if any(b in c for c in columns.values())]
    bottoms = [0.0] * len(labels)
    for bucket in order:
        values = [columns[label].get(bucket, 0.0) for label in labels]
        buckets.bar(labels, values, bottom=bottoms, color=BUCKET_COLORS[bucket],
                    label=BUCKET_LABELS.get(bucket, bucket))
        if bucket == "small":
            for x, (bottom, value) in enumerate(zip(bottoms, values, strict=True)):
                buckets.text(x, bottom + value / 2.0, _percent_1(value), ha="center", va="center", fontsize=9,
                             color="black", fontweight="bold")
        bottoms = [b + v for b, v in zip(bottoms, values, strict=True)]
    buckets.yaxis.set_major_formatter(FuncFormatter(_percent))
    highest = max(1.0, *bottoms)
    buckets.set_ylim(0.0, highest * 1.14)  # headroom for the legend above the bars
    buckets.set_yticks([highest * i / 5.0 for i in range(6)])
    buckets.tick_params(axis="x", labelrotation=35)
    for tick in buckets.get_xticklabels():
        tick.set_horizontalalignment("right")
    buckets.set_title("Weight by size bucket (small caps labelled)")
    buckets.legend(loc="upper center", ncols=3, fontsize=8, frameon=False)

    views_panel(figure, figure.add_subplot(grid[1, :]), tables.views)

    title = f"Target weights by scenario, as of {tables.as_of}"
    if tables.failed:
        title += f" (failed, not shown: {', '.join(tables.failed)})"
    figure.suptitle(title, fontsize=13)
    return figure


def views_panel(figure: Figure, axes: Axes, matrix: ViewMatrix) -> None:
    """The matrix as a heatmap of utility (rows portfolios, columns views; red below 0, blue above), each cell
    labelled ``E <expected return>`` and ``U <utility>``, each row's worst view boxed."""
    import numpy as np
    from matplotlib.colors import TwoSlopeNorm
    from matplotlib.patches import Rectangle
    from matplotlib.ticker import FuncFormatter

    axes.set_label("views")
    utility = np.array([[c.utility for c in row.cells] for row in matrix.rows], dtype=np.float64)
    reach = max(float(np.abs(utility).max(initial=0.0)), 1e-6)
    image = axes.imshow(utility, cmap="RdBu", norm=TwoSlopeNorm(0.0, -reach, reach), aspect="auto")
    for i, row in enumerate(matrix.rows):
        for j, (view, cell) in enumerate(zip(matrix.views, row.cells, strict=True)):
            worst = view == row.worst_view
            axes.text(j, i, f"E {_percent_2(cell.expected_return)}\nU {_percent_2(cell.utility)}", ha="center",
                      va="center", fontsize=8, fontweight="bold" if worst else "normal",
                      color="white" if abs(cell.utility) > 0.6 * reach else "black")
            if worst:
                axes.add_patch(Rectangle((j - 0.5, i - 0.5), 1.0, 1.0, fill=False, edgecolor="black", linewidth=2))
    axes.set_xticks(range(len(matrix.views)), [f"view: {v}" for v in matrix.views])
    axes.set_yticks(range(len(matrix.rows)), [row.name for row in matrix.rows])
    axes.set_title("Every portfolio under every view: E expected return, U utility (net of risk and trading "
                   "cost; the worst view boxed)")
    colorbar = figure.colorbar(image, ax=axes, format=FuncFormatter(_percent_cb), fraction=0.03)
    colorbar.set_label("utility")


def _percent_2(value: float) -> str:
    return f"{100.0 * value:.2f}%"


def _percent_cb(value: float, _: object = None) -> str:
    return f"{100.0 * value:.1f}%"
