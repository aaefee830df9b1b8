"""Which page an output folder gets, and the page as HTML: ``report_html``.

Each kind of folder is a ``PageKind``: a test on the folder's files and a page builder. The built-in kinds are
``compare`` (``compare.json``), ``run`` (``summary.json``), ``frontier`` (``frontier.csv``) and ``backtest``
(``metrics.json`` and ``returns.csv``, ``allocator.report.backtest_page``: equity curves, drawdowns, weights over
time, metrics with bootstrap intervals, risk measures, rules). Another command's folder plugs in with ``register``:
a ``PageKind`` whose builder returns a ``Page`` of its own sections made of the same blocks
(``allocator.report.page``), and nothing else here changes.

A run's page shows the efficient frontier when it is known: from ``frontier.csv`` in the folder, from the caller
(``allocate run --report`` computes it on the run's compiled problem), or recomputed from the run's manifest
(``replayed_frontier``, its inputs verified by SHA-256).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from allocator.errors import DataError
from allocator.report.folder import FIX, OutputFolder
from allocator.report.frontier import Frontier
from allocator.report.page import Page, Section, Text


@dataclass(frozen=True)
class PageKind:
    """A kind of output folder: ``detect`` says whether a folder is one, ``build`` makes its page."""

    name: str
    detect: Callable[[OutputFolder], bool]
    build: Callable[[OutputFolder, Frontier | None, str], Page]


def _run(folder: OutputFolder, frontier: Frontier | None, note: str) -> Page:
    from allocator.report.frontier_files import FRONTIER_CSV, read_frontier
    from allocator.report.run_page import run_page

    from_file = frontier is None and folder.has(FRONTIER_CSV)
    if from_file:
        frontier = read_frontier(folder)
    if frontier is not None:
        from allocator.report.frontier_page import frontier_section

        extra: tuple[Section, ...] = (frontier_section(frontier, from_file),)
    else:
        extra = (Section("frontier", "Efficient frontier", (Text((note or "Not computed.",)),)),)
    return run_page(folder, extra)


def _compare(folder: OutputFolder, frontier: Frontier | None, note: str) -> Page:
    from allocator.report.compare_page import compare_page

    return compare_page(folder)


def _frontier(folder: OutputFolder, frontier: Frontier | None, note: str) -> Page:
    from allocator.report.frontier_page import frontier_page

    return frontier_page(folder)


def _backtest(folder: OutputFolder, frontier: Frontier | None, note: str) -> Page:
    from allocator.report.backtest_page import backtest_page

    return backtest_page(folder)


KINDS: list[PageKind] = [
    PageKind("compare", lambda folder: folder.has("compare.json"), _compare),
    PageKind("backtest", lambda folder: folder.has("metrics.json") and folder.has("returns.csv"), _backtest),
    PageKind("run", lambda folder: folder.has("summary.json") and folder.has("weights.csv"), _run),
    PageKind("frontier", lambda folder: folder.has("frontier.csv") and not folder.has("summary.json"), _frontier),
]


def register(kind: PageKind) -> None:
    """Add a kind of folder; it is tried before the built-in ones."""
    KINDS.insert(0, kind)


def kind_of(folder: OutputFolder) -> PageKind:
    """The kind of ``folder``; ``DataError`` when it is none of them."""
    for kind in KINDS:
        if kind.detect(folder):
            return kind
    raise DataError(folder.where, f"not an output folder of {', '.join(k.name for k in KINDS)} (no summary.json, "
                    "compare.json, frontier.csv or metrics.json)", FIX)


def report_page(folder: OutputFolder, frontier: Frontier | None = None, note: str = "") -> Page:
    """The page of ``folder``; ``frontier`` (a run's, computed by the caller) or ``note`` (why there is none)."""
    return kind_of(folder).build(folder, frontier, note)


def report_html(folder: OutputFolder, frontier: Frontier | None = None, note: str = "") -> bytes:
    """The page of ``folder`` as one self-contained HTML file."""
    from allocator.report.html import page_html

    return page_html(report_page(folder, frontier, note))


def replayed_frontier(manifest_path: Path, grid_points: int | None = None) -> Frontier:
    """The frontier of the run recorded in ``manifest_path``: its inputs verified by SHA-256 and prepared again
    (``allocator.outputs.replay``), then the target and the frontier solved on one compiled problem."""
    from allocator.outputs.replay import read_replay
    from allocator.pipeline import prepare
    from allocator.report.frontier import DEFAULT_POINTS, efficient_frontier, risk_aversion_grid

    replay = read_replay(manifest_path)
    from allocator.config.schema import TradingMode

    prepared = prepare(replay.holdings, replay.config, replay.as_of, replay.cash,
                       mode=None if replay.mode is None else TradingMode(replay.mode), raise_value=replay.raise_value)
    grid = risk_aversion_grid(prepared.config.risk.risk_aversion, grid_points or DEFAULT_POINTS)
    return efficient_frontier(prepared, grid, relax=replay.relax)
