"""One ``allocate backtest`` from request to published folder: resolve, simulate (with a progress bar and a
journal), measure, write atomically, and say whether a repeat reproduced the recorded bytes.

The journal lives beside the output folder (``journal``) and is removed once the folder is published; without
``-o`` nothing is journaled. ``allocate backtest --report`` adds the report page to the folder's files before they
are published, in the same atomic step. The progress bar (rich, on stderr, with an ETA) counts rebalances decided
over every strategy.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from allocator.backtest import journal
from allocator.backtest.engine import BacktestResult, run_backtest
from allocator.backtest.files import BacktestReport, backtest_files, backtest_report
from allocator.backtest.manifest import BacktestReplay, backtest_manifest, differing_files
from allocator.backtest.parallel import Report
from allocator.backtest.request import BacktestRequest, resolve
from allocator.errors import OutputError
from allocator.files.json_text import json_bytes
from allocator.files.manifest import MANIFEST_FILE
from allocator.outputs.publish import replaceable, write_atomically


@dataclass(frozen=True)
class BacktestOutcome:
    """A finished backtest: the result, its report, where it was written and what a repeat found."""

    result: BacktestResult
    report: BacktestReport
    written: Path | None
    reproduction: str
    look_ahead: tuple[str, ...]

    def print(self, stream: TextIO) -> None:
        """The metrics table on ``stream`` (percentages here only)."""
        from rich.console import Console
        from rich.table import Table

        shown = (("cagr", "CAGR", True), ("volatility", "vol", True), ("sharpe", "Sharpe", False),
                 ("max_drawdown", "max DD", True), ("cvar_95", "CVaR95", True), ("turnover", "turnover", True),
                 ("costs", "costs", True), ("excess_return", "excess", True),
                 ("information_ratio", "IR", False))
        table = Table(title="backtest " + " .. ".join(
            d.strftime("%Y-%m-%d") for d in self.result.schedule.sessions[[0, -1]]))
        table.add_column("strategy")
        for _, label, _ in shown:
            table.add_column(label, justify="right")
        for metric in self.report.metrics:
            cells = []
            for key, _, percent in shown:
                value = metric.values.get(key)
                cells.append("" if value is None else f"{100 * float(value):.2f}%" if percent
                             else f"{float(value):.2f}")
            table.add_row(metric.strategy, *cells)
        Console(file=stream, width=120).print(table)


def _progress_bar(total: int, names: list[str]) -> tuple[Report, object]:
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    bar = Progress(TextColumn("backtest"), BarColumn(), TextColumn("{task.completed}/{task.total} rebalances"),
                   TimeRemainingColumn(), transient=True, console=Console(stderr=True))  # stdout holds the table
    task = bar.add_task("backtest", total=total)
    done = dict.fromkeys(names, 0)

    def report(name: str, decided: int) -> None:
        done[name] = decided
        bar.update(task, completed=sum(done.values()))

    return report, bar


def run_backtest_command(request: BacktestRequest, out_dir: Path | None, force: bool, show_progress: bool = False,
                         replay: BacktestReplay | None = None, manifest_path: Path | None = None,
                         extra_files: Callable[[dict[str, bytes]], dict[str, bytes]] | None = None) -> BacktestOutcome:
    """Run the backtest ``request`` and, with ``out_dir``, publish its folder (see the module docstring);
    ``extra_files`` makes more files from the folder's (``backtest --report``: its page), published with them in
    the same step and not listed in the manifest."""
    if out_dir is not None and out_dir.exists() and not force:
        raise OutputError(str(out_dir), "the output folder already exists",
                          "pass --force to replace it, or choose another folder")
    if out_dir is not None and out_dir.exists() and not replaceable(out_dir):
        raise OutputError(str(out_dir), "the folder holds other files and no manifest.json, so it is not a "
                          "previous run's output; it is not replaced even with --force", "choose another folder")
    started = time.perf_counter()
    resolved = resolve(request)
    settings = resolved.settings
    command = {**request.command(), **({"from_manifest": str(manifest_path)} if replay is not None else {})}
    fingerprint = _fingerprint(resolved.inputs, request)
    folder = journal.journal_folder(out_dir, fingerprint) if out_dir is not None else None
    total = len(resolved.schedule.decisions) * len(resolved.strategies)
    report, bar = _progress_bar(total, [s.name for s in resolved.strategies]) if show_progress else (None, None)
    if bar is not None:
        bar.start()  # type: ignore[attr-defined]
    try:
        result = run_backtest(resolved.strategies, resolved.market, resolved.schedule, resolved.account,
                              settings.workers, folder, report)
    finally:
        if bar is not None:
            bar.stop()  # type: ignore[attr-defined]
    simulated = time.perf_counter() - started
    measured = backtest_report(result, settings.bootstrap_samples, settings.bootstrap_block_days, settings.seed)
    span = {"start": resolved.schedule.sessions[0].date().isoformat(),
            "end": resolved.schedule.sessions[-1].date().isoformat(),
            "every": str(settings.every), "fill": settings.fill.value,
            "rebalances": len(resolved.schedule.decisions)}
    files = backtest_files(result, measured, span)
    timings = {"simulate_seconds": simulated, "total_seconds": time.perf_counter() - started}
    manifest = backtest_manifest(command, resolved, files, timings, measured.look_ahead)
    written = None
    if out_dir is not None:
        paths = [entry["path"] for entry in resolved.inputs.values()]
        published = {**files, MANIFEST_FILE: json_bytes(manifest.to_json_dict())}
        if extra_files is not None:
            published.update(extra_files(published))
        written = write_atomically(out_dir, published, force=force, inputs=paths)
        if folder is not None:
            journal.clear(folder)
    reproduction = ""
    if replay is not None:
        differing = differing_files(files, replay.outputs)
        reproduction = ("reproduced: every output file is byte-identical to the recorded backtest" if not differing
                        else f"Warning: not the recorded bytes: {', '.join(differing)}")
    return BacktestOutcome(result=result, report=measured, written=written, reproduction=reproduction,
                           look_ahead=measured.look_ahead)


def _fingerprint(inputs: dict[str, dict[str, str]], request: BacktestRequest) -> str:
    import hashlib
    import json

    data = {"inputs": {name: entry["sha256"] for name, entry in sorted(inputs.items())}, **request.command()}
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:32]
