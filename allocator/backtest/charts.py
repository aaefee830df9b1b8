"""The backtest's charts: equity curves (log scale), drawdowns, one strategy's weights over time, and the rolling
12-month excess return over the benchmark. Each is a figure (``equity_figure``...), written as PNG bytes into the
output folder (``equity_png``...) and drawn as inline SVG on the report page (``allocator.report.backtest_page``), so
the page and the folder show the same chart. pyplot is never used (no global state); the look-ahead of the inputs,
if any, is in every title."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from allocator.outputs.png import chart_png
from allocator.terms import CASH_SYMBOL

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

YEAR = 252


def _figure(title: str, look_ahead: tuple[str, ...]) -> tuple[Figure, Axes]:
    from matplotlib.figure import Figure

    figure = Figure(figsize=(11.0, 5.5), dpi=100, layout="constrained")
    axes = figure.add_subplot()
    axes.set_title(title + (f" ({'; '.join(look_ahead)})" if look_ahead else ""))
    axes.grid(True, alpha=0.3)
    return figure, axes


def _percent(value: float, _: object = None) -> str:
    return f"{100.0 * value:.0f}%"


def equity_figure(values: pd.DataFrame, look_ahead: tuple[str, ...]) -> Figure:
    """Each strategy's value (one column each), scaled to 1 at the start, on a log scale."""
    from matplotlib.ticker import FuncFormatter

    figure, axes = _figure("Value of 1 invested (log scale)", look_ahead)
    for name in values.columns:
        axes.plot(values.index, values[name] / values[name].iloc[0], label=name, linewidth=1.2)
    axes.set_yscale("log")
    plain = FuncFormatter(lambda value, _: f"{value:.3g}")  # 1.03, not 1.03 x 10^0
    axes.yaxis.set_major_formatter(plain)
    axes.yaxis.set_minor_formatter(plain)
    axes.legend(loc="upper left", fontsize=8)
    return figure


def equity_png(values: pd.DataFrame, look_ahead: tuple[str, ...]) -> bytes:
    """``equity_figure`` as PNG bytes."""
    return chart_png(equity_figure(values, look_ahead))


def drawdown_figure(values: pd.DataFrame, look_ahead: tuple[str, ...]) -> Figure:
    """Each strategy's fall from its running peak."""
    from matplotlib.ticker import FuncFormatter

    figure, axes = _figure("Drawdown from the running peak", look_ahead)
    for name in values.columns:
        axes.plot(values.index, values[name] / values[name].cummax() - 1.0, label=name, linewidth=1.0)
    axes.yaxis.set_major_formatter(FuncFormatter(_percent))
    axes.legend(loc="lower left", fontsize=8)
    return figure


def drawdown_png(values: pd.DataFrame, look_ahead: tuple[str, ...]) -> bytes:
    """``drawdown_figure`` as PNG bytes."""
    return chart_png(drawdown_figure(values, look_ahead))


def weights_over_time(rows: Iterable[Sequence[Any]]) -> pd.DataFrame:
    """Weights (fractions of NAV) from ``(date, symbol, weight)`` rows: one row a rebalance's fill date, one column
    a symbol (cash last), zero where a symbol was not held."""
    weights = pd.DataFrame(list(rows), columns=["date", "symbol", "weight"]).pivot(
        index="date", columns="symbol", values="weight").fillna(0.0)
    if CASH_SYMBOL in weights.columns:
        weights = weights[[c for c in weights.columns if c != CASH_SYMBOL] + [CASH_SYMBOL]]
    weights.index = pd.DatetimeIndex(weights.index)
    return weights


def weights_figure(weights: pd.DataFrame, strategy: str, look_ahead: tuple[str, ...]) -> Figure:
    """``strategy``'s weights after each rebalance (rows are fill dates, columns symbols, cash last), stacked."""
    from matplotlib import colormaps
    from matplotlib.ticker import FuncFormatter

    figure, axes = _figure(f"Weights of {strategy} after each rebalance", look_ahead)
    palette = colormaps["tab20"]
    axes.stackplot(weights.index, weights.to_numpy().T, labels=list(weights.columns),
                   colors=[palette(i % 20) for i in range(weights.shape[1])], step="post")
    axes.set_ylim(0.0, 1.0)
    axes.yaxis.set_major_formatter(FuncFormatter(_percent))
    axes.legend(loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=7)
    return figure


def weights_png(weights: pd.DataFrame, strategy: str, look_ahead: tuple[str, ...]) -> bytes:
    """``weights_figure`` as PNG bytes."""
    return chart_png(weights_figure(weights, strategy, look_ahead))


def rolling_excess_png(values: pd.DataFrame, benchmark: str, look_ahead: tuple[str, ...]) -> bytes:
    """Each strategy's return over the last 12 months (252 sessions) minus the benchmark's."""
    from matplotlib.ticker import FuncFormatter

    figure, axes = _figure(f"Rolling 12-month return minus {benchmark}'s", look_ahead)
    growth = values / values.shift(YEAR) - 1.0
    for name in values.columns:
        if name != benchmark:
            axes.plot(values.index, growth[name] - growth[benchmark], label=name, linewidth=1.0)
    axes.axhline(0.0, color="black", linewidth=0.8)
    axes.yaxis.set_major_formatter(FuncFormatter(_percent))
    axes.legend(loc="upper left", fontsize=8)
    if not np.isfinite(growth.to_numpy()).any():
        axes.text(0.5, 0.5, "shorter than 12 months", transform=axes.transAxes, ha="center")
    return chart_png(figure)
