"""``allocate backtest`` on the command line: errors with their exit codes, and a short run written, repeated from its
manifest byte for byte, with the look-ahead of static fundamentals named."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

from tests.helpers import write_config

QUICK = """extends: base.yaml
risk: {lookback_days: 60}
backtest: {static_fundamentals: true, every: 15, strategies: [config, benchmark_hold], workers: 1,
           bootstrap_samples: 100}
"""


def test_a_snapshot_without_static_fundamentals_exits_4_naming_the_look_ahead(
        example_copy: Path, cli: Callable[..., Result]) -> None:
    config = write_config(example_copy, "extends: base.yaml\n", "backtest.yaml")
    result = cli("backtest", "-c", config, "--start", "2025-12-01")
    assert result.exit_code == 4
    assert "look-ahead" in result.stderr and "backtest.static_fundamentals: true" in result.stderr


def test_an_error_in_a_worker_process_keeps_its_exit_code_and_message(
        example_copy: Path, cli: Callable[..., Result], tmp_path: Path) -> None:
    """Two worker processes: the first rebalance has too few closes. The worker's DataError reaches the command
    whole (it used to be lost in unpickling, and the pool broke with exit 1); nothing is written."""
    config = write_config(example_copy, QUICK.replace("workers: 1", "workers: 2"), "backtest.yaml")
    out = tmp_path / "bt"
    result = cli("backtest", "-c", config, "--start", "2010-01-04", "--end", "2023-01-31", "--initial-cash",
                 "100000", "-o", out)
    assert result.exit_code == 4, result.stderr
    assert "fewer than the 61 needed" in result.stderr and "rebalance of 2022-07-01" in result.stderr
    assert "BrokenProcessPool" not in result.stderr
    assert not out.exists()


@pytest.mark.parametrize(("options", "message"), [
    (("--every", "daily"), "--every: not a calendar: 'daily'"),
    (("--start", "12/01/2025"), "--start: not a date: '12/01/2025'"),
    (("--initial-cash", "1000", "--holdings", "examples/holdings.csv"), "both given"),
    (("--start", "2026-01-10", "--end", "2026-01-14"), "no monthly rebalance between 2026-01-10 .. 2026-01-14"),
    # a cent at least and 1e12 at most, as backtest.initial_cash: 0.001 used to pass and fail later (exit 4, "the
    # account's value is 0.00"), 1e13 to run though the config refuses it
    (("--initial-cash", "0.001"), "--initial-cash: 0.001 is outside 0.01 .. 1,000,000,000,000"),
    (("--initial-cash", "1e13"), "--initial-cash: 10,000,000,000,000 is outside 0.01 .. 1,000,000,000,000"),
    # without --start the backtest starts on the first date with 61 closes; it said "no monthly rebalance between
    # 2022-09-23 .. 1990-01-01"
    (("--end", "1990-01-01"), "--end: end 1990-01-01 is before 2022-09-23, the first date with the history"),
    (("--start", "1980-01-01", "--end", "1990-01-01"), "(the price file runs 2022-07-01 .. "),
])
def test_usage_errors_exit_2(example_copy: Path, cli: Callable[..., Result], options: tuple[str, ...],
                             message: str) -> None:
    config = write_config(example_copy, QUICK.replace("every: 15", "every: monthly"), "backtest.yaml")
    result = cli("backtest", "-c", config, *options)
    assert result.exit_code == 2, result.stderr
    assert message in result.stderr


@pytest.mark.slow
def test_a_backtest_is_written_and_repeats_from_its_manifest_byte_for_byte(
        example_copy: Path, cli: Callable[..., Result], tmp_path: Path) -> None:
    config = write_config(example_copy, QUICK, "backtest.yaml")
    out = tmp_path / "bt"
    result = cli("backtest", "-c", config, "--start", "2025-11-03", "--holdings",
                 example_copy / "examples" / "holdings.csv", "-o", out)
    assert result.exit_code == 0, result.stderr
    assert "config" in result.stdout and "benchmark_hold" in result.stdout
    assert "Warning: look-ahead: static fundamentals" in result.stderr
    for name in ("metrics.csv", "metrics.json", "returns.csv", "weights.csv", "decisions.csv", "trades.csv",
                 "rules.csv", "warnings.csv", "equity.png", "drawdowns.png", "weights.png", "manifest.json"):
        assert (out / name).is_file(), name
    for name in ("metrics.csv", "returns.csv", "trades.csv", "rules.csv", "warnings.csv"):
        assert (out / name).read_text().startswith("# look-ahead: static fundamentals\n"), name
    again = cli("backtest", "--from-manifest", out / "manifest.json", "-o", tmp_path / "again", "-q")
    assert again.exit_code == 0, again.stderr
    assert "reproduced: every output file is byte-identical" in again.stderr
    assert not list(tmp_path.glob(".*backtest-journal*")), "the journal is removed once the output is published"


@pytest.mark.slow
def test_the_shipped_backtest_config_runs_on_the_example_data(example_copy: Path, cli: Callable[..., Result],
                                                              tmp_path: Path) -> None:
    out = tmp_path / "bt"
    result = cli("backtest", "-c", example_copy / "configs" / "backtest.yaml", "--start", "2025-10-01", "--end",
                 "2026-01-16", "--initial-cash", "250000", "-o", out, "-q")
    assert result.exit_code == 0, result.stderr
    metrics = (out / "metrics.csv").read_text().splitlines()
    assert metrics[0] == "# look-ahead: static fundamentals"
    strategies = [line.split(",")[0] for line in metrics[2:]]
    assert strategies == ["config", "no_tilt", "no_rsi", "no_regime", "benchmark_hold", "benchmark_rebalanced",
                          "hrp", "erc"]


@pytest.mark.parametrize(("lookback", "needed"), [("60", 61), ("all", 31), ("756", 757)])
def test_without_a_start_the_backtest_starts_on_the_first_day_with_enough_history(
        example_copy: Path, lookback: str, needed: int) -> None:
    """The default ``backtest.start`` is the first session with ``lookback_days`` returns (30 with ``all``) for
    every fund of the universe; it was the first session of the file, whose first rebalance then failed (exit 4,
    "21 daily closes, fewer than the 253 needed")."""
    from decimal import Decimal

    import pandas as pd

    from allocator.backtest.request import BacktestRequest, resolve

    config = write_config(example_copy, QUICK.replace("lookback_days: 60", f"lookback_days: {lookback}"),
                          "backtest.yaml")
    resolved = resolve(BacktestRequest(config=Path(config), initial_cash=Decimal(100000)))
    prices = pd.read_csv(example_copy / "examples" / "prices.csv", index_col="date", parse_dates=True)
    latest_first = int(prices.notna().to_numpy().argmax(axis=0).max())
    assert resolved.settings.start == prices.index[latest_first + needed - 1].date()
    first_decision = resolved.schedule.sessions[resolved.schedule.decisions[0]]
    assert len(prices.loc[:first_decision]) - latest_first >= needed


def test_initial_cash_below_a_cent_in_the_config_exits_3(example_copy: Path, cli: Callable[..., Result]) -> None:
    config = write_config(example_copy, QUICK.replace("workers: 1", "workers: 1, initial_cash: 0.001"),
                          "backtest.yaml")
    result = cli("backtest", "-c", config)
    assert result.exit_code == 3, result.stderr
    assert "backtest.initial_cash: Input should be greater than or equal to 0.01" in result.stderr


def test_the_benchmark_alone_writes_its_charts_without_a_warning(example_copy: Path, tmp_path: Path) -> None:
    """With ``strategies: [benchmark_hold]`` the rolling excess chart had no line to label, and matplotlib's
    "No artists with labels found to put in legend" reached stderr through -q: it is not drawn now (a subprocess,
    so that pytest's own capture of warnings cannot hide one)."""
    config = write_config(example_copy, QUICK.replace("config, benchmark_hold", "benchmark_hold"), "backtest.yaml")
    out = tmp_path / "bt"
    completed = subprocess.run([sys.executable, "-m", "allocator", "backtest", "-c", str(config), "--start",
                                "2025-11-03", "-o", str(out), "-q"], capture_output=True, text=True, cwd=example_copy,
                               timeout=300, check=False)
    assert completed.returncode == 0, completed.stderr
    assert completed.stderr.splitlines() == [
        f"wrote {out}", "Warning: look-ahead: static fundamentals: the fundamentals of one date stand for every date"]
    assert (out / "equity.png").is_file() and not (out / "rolling_excess.png").exists()


def _stderr_on_a_terminal(example_copy: Path, *options: str) -> str:
    """The backtest's stderr when it is a terminal (a pseudo-terminal of 120 columns), as the user sees it."""
    import os
    import pty

    config = write_config(example_copy, QUICK, "backtest.yaml")
    leader, follower = pty.openpty()
    env = {**os.environ, "COLUMNS": "120", "TERM": "xterm"}
    process = subprocess.Popen([sys.executable, "-m", "allocator", "backtest", "-c", str(config), "--start",
                                "2025-11-03", "--initial-cash", "100000", *options], cwd=example_copy,
                               stdout=subprocess.DEVNULL, stderr=follower, env=env)
    os.close(follower)
    seen = bytearray()
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # the follower closed: the process ended
            break
        if not chunk:
            break
        seen += chunk
    os.close(leader)
    assert process.wait(timeout=120) == 0, seen.decode(errors="replace")
    return seen.decode(errors="replace")


def test_a_terminal_shows_a_progress_bar_with_rebalances_done_and_the_time_left_and_q_silences_it(
        example_copy: Path) -> None:
    shown = _stderr_on_a_terminal(example_copy)
    assert "backtest" in shown and " rebalances" in shown, shown
    assert re.search(r"\d+/\d+ rebalances", shown), shown
    assert re.search(r"-:--:--|\d:\d\d:\d\d", shown), "rich's time-remaining column"
    quiet = _stderr_on_a_terminal(example_copy, "-q")
    assert "rebalances" not in quiet, quiet
