"""One test per error class through the CLI: exit code, the message on stderr, no traceback, nothing written."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

from allocator.errors import (
    AllocatorError,
    ConfigError,
    DataError,
    InfeasibleError,
    OrderError,
    OutputError,
    SolverError,
    UsageError,
)
from tests.helpers import write_config

Cli = Callable[..., Result]


def _error(result: Result, code: int, *fragments: str) -> str:
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    assert result.stderr.startswith("Error: "), result.stderr
    for fragment in fragments:
        assert fragment in result.stderr, (fragment, result.stderr)
    return result.stderr


def test_exit_codes_follow_the_design() -> None:
    assert [c.exit_code for c in (AllocatorError, UsageError, ConfigError, DataError, InfeasibleError,
                                  SolverError, OutputError, OrderError)] == [1, 2, 3, 4, 5, 5, 2, 6]


def test_order_error_unusable_journal(cli: Cli, example_copy: Path, tmp_path: Path) -> None:
    pytest.importorskip("quickfix", reason="send reads the quickfix data dictionary before the journal")
    out = tmp_path / "run"
    assert cli("run", example_copy / "examples/holdings.csv", "-c", example_copy / "configs/base.yaml", "-o", out,
               "-q").exit_code == 0
    journal = tmp_path / "journal.sqlite"
    journal.write_text("this is not a database")
    session = tmp_path / "session.cfg"
    session.write_text("[DEFAULT]\nConnectionType=initiator\nSocketConnectHost=127.0.0.1\nSocketConnectPort=9\n"
                       "[SESSION]\nBeginString=FIX.4.4\nSenderCompID=ALLOCATE\nTargetCompID=BROKER\n")
    result = cli("send", out / "trades.csv", "--fix-config", session, "--journal", journal)
    _error(result, 6, "not a usable order journal")


def test_usage_error_bad_as_of(cli: Cli, example_copy: Path) -> None:
    result = cli("run", example_copy / "examples/holdings.csv", "-c", example_copy / "configs/base.yaml",
                 "--as-of", "someday")
    _error(result, 2, "--as-of: not a date: 'someday'; write it as YYYY-MM-DD")


@pytest.mark.parametrize("text", ["12/11/2025", "today", "now", "2025-12-11T00:00+01:00", "2025-02-30", "20251211"])
def test_as_of_is_read_one_way_only(text: str, cli: Cli, example_copy: Path) -> None:
    """A date that could be read two ways (or as the wall clock) is refused, never guessed."""
    result = cli("validate", example_copy / "examples/holdings.csv", "-c", example_copy / "configs/base.yaml",
                 "--as-of", text)
    _error(result, 2, f"--as-of: not a date: {text!r}; write it as YYYY-MM-DD")


def test_usage_error_missing_config(cli: Cli, example_copy: Path) -> None:
    result = cli("run", example_copy / "examples/holdings.csv")
    assert result.exit_code == 2
    assert "give a config with -c/--config" in result.stderr


def test_usage_error_negative_cash(cli: Cli, example_copy: Path) -> None:
    result = cli("run", example_copy / "examples/holdings.csv", "-c", example_copy / "configs/base.yaml",
                 "--cash", "-5")
    assert result.exit_code == 2
    assert "must be a non-negative amount" in result.stderr


def test_config_error_lists_every_problem_with_key_paths(cli: Cli, example_copy: Path, tmp_path: Path) -> None:
    config = write_config(example_copy, """
extends: base.yaml
constraints:
  max_wieght: 0.3
  turnover_max: -1
rsi:
  overbought: 120
  oversold: 80
""")
    out = tmp_path / "out"
    result = cli("run", example_copy / "examples/holdings.csv", "-c", config, "-o", out)
    message = _error(result, 3, "invalid configuration (3 problems)",
                     "constraints.max_wieght: unknown key; did you mean 'max_weight'?",
                     "constraints.turnover_max: Input should be greater than or equal to 0 (got -1)",
                     "rsi.overbought: Input should be less than or equal to 100 (got 120)")
    assert str(config) in message
    assert not out.exists()


def test_config_error_yaml_syntax_names_the_line(cli: Cli, example_copy: Path) -> None:
    config = write_config(example_copy, "data:\n  prices: [unclosed\n")
    result = cli("run", example_copy / "examples/holdings.csv", "-c", config)
    _error(result, 3, f"{config}:3:", "YAML syntax error")


def test_data_error_names_file_row_and_field(cli: Cli, example_copy: Path, tmp_path: Path) -> None:
    holdings = tmp_path / "holdings.csv"
    holdings.write_text("symbol,quantity\nSPY,10\nAGG,abc\n")
    out = tmp_path / "out"
    result = cli("run", holdings, "-c", example_copy / "configs/base.yaml", "-o", out)
    _error(result, 4, f"{holdings}: row 3: quantity: not a number: 'abc'")
    assert not out.exists()


def test_data_error_duplicate_symbol(cli: Cli, example_copy: Path, tmp_path: Path) -> None:
    holdings = tmp_path / "holdings.csv"
    holdings.write_text("symbol,quantity\nSPY,10\nAGG,5\nspy,3\n")
    result = cli("run", holdings, "-c", example_copy / "configs/base.yaml")
    _error(result, 4, "row 4: symbol: duplicate symbol spy (also on row 2)")


def test_output_error_existing_folder_needs_force(cli: Cli, example_copy: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("previous run")
    (out / "manifest.json").write_text('{"outputs": {"keep.txt": ""}}')  # a previous output: it lists keep.txt
    args = ("run", example_copy / "examples/holdings.csv", "-c", example_copy / "configs/base.yaml", "-o", out, "-q")
    _error(cli(*args), 2, "the output folder already exists; pass --force")
    assert (out / "keep.txt").read_text() == "previous run"
    assert cli(*args, "--force").exit_code == 0
    assert not (out / "keep.txt").exists() and (out / "trades.csv").exists()


def test_infeasible_error_names_the_conflicting_limits(cli: Cli, example_copy: Path, tmp_path: Path) -> None:
    config = write_config(example_copy, """
extends: base.yaml
constraints:
  max_weight: 0.04
""")
    out = tmp_path / "out"
    result = cli("run", example_copy / "examples/holdings.csv", "-c", config, "-o", out)
    _error(result, 5, "the limits cannot all hold", "constraints.max_weight")
    assert [p.name for p in out.iterdir()] == ["diagnosis.json"], "nothing but the diagnosis is written"


def test_solver_error_when_no_solver_can_take_the_problem(cli: Cli, example_copy: Path) -> None:
    # OSQP cannot handle the tracking-error cone of the base config
    config = write_config(example_copy, "extends: base.yaml\nsolver: {order: [osqp]}\n")
    result = cli("run", example_copy / "examples/holdings.csv", "-c", config)
    _error(result, 5, "solver: no solver returned an acceptable solution", "osqp:")


def test_unexpected_error_is_one_line_and_exit_1(cli: Cli, example_copy: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    import allocator.pipeline

    def broken(*_: object, **__: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(allocator.pipeline, "run", broken)
    result = cli("run", example_copy / "examples/holdings.csv", "-c", example_copy / "configs/base.yaml")
    _error(result, 1, "unexpected RuntimeError: boom; rerun as allocate --debug run ... for the traceback")
    # the hint's form and --debug after the command both give the traceback
    for debug in (["--debug", "run"], ["run", "--debug"]):
        again = cli(*debug, example_copy / "examples/holdings.csv", "-c", example_copy / "configs/base.yaml")
        assert again.exit_code == 1
        assert "Traceback" in again.stderr and "RuntimeError: boom" in again.stderr


def test_every_command_has_help(cli: Cli) -> None:
    from allocator.cli import main

    for name in main.commands:
        result = cli(name, "--help")
        assert result.exit_code == 0
        assert "Example" in result.output, name


def test_a_held_fund_with_price_gaps_is_never_sold_on_a_stale_price(cli: Cli, example_copy: Path) -> None:
    prices = example_copy / "examples" / "prices.csv"
    lines = prices.read_text().splitlines()
    header = lines[0].split(",")
    column = header.index("EFA")
    for row in range(len(lines) - 30, len(lines) - 20):  # ten missing closes inside the window
        cells = lines[row].split(",")
        cells[column] = ""
        lines[row] = ",".join(cells)
    prices.write_text("\n".join(lines) + "\n")
    sell = write_config(example_copy, "extends: base.yaml\nuniverse: {outside_holdings: sell}\n", "sell.yaml")
    result = cli("run", example_copy / "examples/holdings.csv", "-c", sell)
    _error(result, 4, "EFA held but excluded for gaps in their prices", "outside_holdings: hold")
    hold = cli("run", example_copy / "examples/holdings.csv", "-c", example_copy / "configs/base.yaml", "-q")
    assert hold.exit_code == 0, hold.output
    assert "held but excluded for gaps, held fixed outside the universe: EFA" in hold.stderr


def test_an_empty_universe_is_a_config_error(cli: Cli, example_copy: Path) -> None:
    config = write_config(example_copy, "extends: base.yaml\nuniverse: {symbols: []}\n")
    _error(cli("run", example_copy / "examples/holdings.csv", "-c", config), 3,
           "universe.symbols: List should have at least 1 item")


@pytest.mark.slow
def test_a_closed_pipe_ends_quietly(example_copy: Path) -> None:
    import subprocess
    import sys

    command = [sys.executable, "-m", "allocator", "run", str(example_copy / "examples/holdings.csv"), "-c",
               str(example_copy / "configs/base.yaml")]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stdout is not None and process.stderr is not None
    process.stdout.readline()
    process.stdout.close()  # like `| head -1`
    stderr = process.stderr.read().decode()
    process.wait(timeout=60)
    assert "Traceback" not in stderr and "Error" not in stderr
    assert process.returncode in (0, -13), (process.returncode, stderr)  # done, or ended by SIGPIPE like head


def test_warnings_are_printed_when_the_run_fails_too(cli: Cli, example_copy: Path) -> None:
    """What the run found before it failed often explains the failure: it is printed after the error."""
    config = write_config(example_copy, "extends: base.yaml\nconstraints: {turnover_max: 0.0001}\n", "tight.yaml")
    result = cli("run", example_copy / "examples/holdings.csv", "-c", config)
    assert result.exit_code == 5
    lines = result.stderr.splitlines()
    assert lines[0].startswith("Error: ")
    assert ("Warning: peer groups with one member score 0 on every signal: developed/broad (EFA), emerging/broad "
            "(EEM)") in lines


@pytest.mark.parametrize("error", [
    DataError("prices.csv: row 3: SPY", "close -1 is not positive", "prices must be positive", ["a detail"]),
    InfeasibleError("constraints", "the limits conflict", "relax one", ["turnover"], {"conflicts": ["turnover"]}),
    ConfigError("constraints.max_weight", "must be at most 1"),
    UsageError("--start", "not a date"),
])
def test_errors_cross_process_boundaries_whole(error: AllocatorError) -> None:
    """Pickled (a backtest's or a batch's worker process hands its error to the command) with every field, the
    warnings found before it and its exit code."""
    import pickle

    error.warnings = ["an asset was excluded for gaps"]
    found = pickle.loads(pickle.dumps(error))
    assert type(found) is type(error) and found.exit_code == error.exit_code
    assert str(found) == str(error) and found.message() == error.message()
    assert found.__dict__ == error.__dict__
