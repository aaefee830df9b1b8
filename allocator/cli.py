"""The ``allocate`` command line: parse, call the library, map errors to exit codes. No math here.

Exit codes (docs/cli.md, "Exit codes"): 0 success, 1 unexpected error, 2 usage, 3 configuration, 4 input
data, 5 infeasible or solver failure, 6 orders rejected or unanswered (send). Errors go to stderr as
``Error: <where>: <what>; <how to fix>``; stdout carries results only. Heavy libraries are imported inside the
commands that need them, so ``--help`` is instant.
"""

from __future__ import annotations

import functools
import os
import signal
import sys
import traceback
from collections import Counter
from collections.abc import Callable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from allocator import __version__
from allocator.errors import (
    AllocatorError,
    Stopped,
    resend_swallowed_stops,
    stop_behind,
    stop_message,
    stop_on_signal,
)

if TYPE_CHECKING:
    from allocator.backtest.files import BacktestReport
    from allocator.batch.account_run import AccountOutcome
    from allocator.config.loader import LoadedConfig
    from allocator.optimize.problem import ProblemCache
    from allocator.outputs.replay import Replay
    from allocator.outputs.summary import RunSummary
    from allocator.pipeline import Prepared, RunResult

F = TypeVar("F", bound=Callable[..., Any])


def _fail(message: str, code: int) -> None:
    click.echo(f"Error: {message}", err=True)
    sys.exit(code)


def reports_errors(command: F) -> F:
    """Turn library errors into ``Error: ...`` and their exit codes; anything else into exit 1. The command also
    takes ``--debug`` after its name (hidden; the same as ``allocate --debug COMMAND``)."""

    @functools.wraps(command)
    def wrapper(*args: Any, debug_after_command: bool = False, **kwargs: Any) -> Any:
        context = click.get_current_context()
        debug = debug_after_command or bool(context.find_root().params.get("debug"))
        try:
            return command(*args, **kwargs)
        except AllocatorError as exc:
            if debug:
                traceback.print_exc()
            click.echo(f"Error: {exc.message()}", err=True)
            for warning in exc.warnings:  # what the run found before it failed, after the error
                click.echo(f"Warning: {warning}", err=True)
            sys.exit(exc.exit_code)
        except Stopped as stop:
            _fail(stop_message(stop.signal_name), int(stop.code or 1))
        except (click.exceptions.Exit, click.ClickException, SystemExit):
            raise
        except KeyboardInterrupt:
            _fail(stop_message("SIGINT"), 130)
        except Exception as exc:  # the last line of defence: never a bare traceback
            if debug:
                traceback.print_exc()
            behind = stop_behind(exc)
            if behind is not None:  # a stop that a library wrapped in its own error
                _fail(stop_message(behind.signal_name), int(behind.code or 1))
            _fail(f"unexpected {type(exc).__name__}: {exc}; rerun as allocate --debug {context.info_name} ... "
                  "for the traceback and please report it", 1)
        return None

    option = click.option("--debug", "debug_after_command", is_flag=True, hidden=True,
                          help="Show the full traceback on errors (as allocate --debug COMMAND).")
    return option(wrapper)  # type: ignore[return-value]


def _cash(_: click.Context, __: click.Parameter, value: str | None) -> Decimal | None:
    if value is None:
        return None
    from allocator.files.cells import parse_number

    try:
        amount = parse_number(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None
    if amount is None or amount < 0:
        raise click.BadParameter(f"must be a non-negative amount, got {value!r}")
    return amount


def run_inputs(holdings: Path, configs: Any) -> list[Path]:
    """The files a run or comparison reads: the holdings, each config of each ``extends`` chain, prices and
    fundamentals (a config that does not load names only itself; its error is reported elsewhere)."""
    from allocator.config.loader import LoadedConfig, load_config

    found: list[Path] = [Path(holdings)]
    for config in configs:
        try:
            loaded = config if isinstance(config, LoadedConfig) else load_config(config)
        except AllocatorError:
            found.append(Path(config))
            continue
        found += [*loaded.chain, Path(loaded.config.data.prices), Path(loaded.config.data.fundamentals)]
    return found


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110})
@click.version_option(__version__, prog_name="allocate")
@click.option("--debug", is_flag=True, help="Show the full traceback on errors.")
def main(debug: bool) -> None:
    """Tactical portfolio allocation: tilt towards small caps when the regime supports it, solve a
    mean-variance problem under the account's limits, trim overbought positions, and write a reconciled
    trade list.

    \b
    Examples:
      allocate run examples/holdings.csv -c configs/base.yaml -o out/
      allocate validate examples/holdings.csv -c configs/base.yaml
      allocate compare examples/holdings.csv configs/scenarios/*.yaml -o out/compare
      allocate report out/
      allocate approve out/ --by "J. Smith"
      allocate backtest -c configs/backtest.yaml -o out/backtest
      allocate send out/trades.csv --fix-config broker.cfg

    Exit codes: 0 ok, 1 unexpected, 2 usage, 3 config, 4 data, 5 infeasible or solver failure, 6 orders
    rejected or unanswered (send).
    """
    signal.signal(signal.SIGTERM, stop_on_signal)
    resend_swallowed_stops()
    if hasattr(signal, "SIGPIPE"):  # a closed pipe (``| head``) ends the output quietly, as for any Unix tool
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    # pydantic scans every installed distribution's entry points for plugins when it builds its first model
    # (about 0.1 s with a data-science stack installed); the CLI uses none. A value set in the environment wins.
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")


config_option = click.option("-c", "--config", "config_path", type=click.Path(path_type=Path),
                             help="YAML config (may 'extends:' another).")
as_of_option = click.option("--as-of", help="Use prices up to this date (YYYY-MM-DD); default: the last date.")
cash_option = click.option("--cash", callback=_cash, help="Add this much cash to the account (account currency).")
format_option = click.option(
    "--format", "trade_format", type=click.Choice(["csv", "json", "fix", "basket"]), multiple=True,
    help="Trade list format; repeat for several (csv, json, FIX 4.4 orders.fix, IB basket.csv; default: output.format "
         "in the config, else csv).")
mode_option = click.option("--mode", type=click.Choice(["rebalance", "invest", "raise"]), default=None,
                           help="rebalance (buy and sell), invest (buys only: put cash to work) or raise (sells only: "
                                "raise --raise); default: trading.mode in the config.")
raise_option = click.option("--raise", "raise_value", callback=_cash, metavar="AMOUNT",
                            help="With --mode raise: cash after trading at least cash before + AMOUNT (account "
                                 "currency).")
relax_option = click.option("--relax", is_flag=True,
                            help="If the limits conflict, relax the cheapest ones (reported) and trade.")


def trading_mode(mode: str | None, raise_value: Decimal | None) -> str | None:
    """The trading mode of ``--mode`` and ``--raise`` (``--raise`` alone means ``--mode raise``)."""
    if raise_value is not None and mode is None:
        return "raise"
    if raise_value is not None and mode != "raise":
        raise click.UsageError(f"--raise needs --mode raise, not --mode {mode}")
    return mode


def run_in_memory(holdings: Path, source: Path | LoadedConfig, config_path: Path | None,
                  trade_format: tuple[str, ...], as_of: str | None, cash: Decimal | None, mode: str | None,
                  raise_value: Decimal | None, relax: bool, cache: ProblemCache | None,
                  replay: Replay | None = None, from_manifest: Path | None = None
                  ) -> tuple[RunResult, RunSummary, dict[str, bytes]]:
    """Everything ``run`` does short of writing: solve, round into trades and render every output file in memory
    (``validate`` runs this too, so it fails exactly where ``run`` would). An error raised after the solve carries
    the run's warnings, as one raised before it does. ``cache`` keeps the compiled problem after the solve (for
    ``--report``'s frontier); without it the problem is freed once solved."""
    from allocator.config.schema import TradingMode
    from allocator.outputs.run_files import run_files
    from allocator.outputs.summary import summarize
    from allocator.pipeline import run as run_pipeline

    mode = trading_mode(mode, raise_value)
    result = run_pipeline(holdings, source, as_of=as_of, cash=cash, relax=relax, cache=cache,
                          mode=None if mode is None else TradingMode(mode), raise_value=raise_value)
    fmt = replay.trade_format if replay else list(trade_format) or result.config.output.format.value
    command = {"holdings": str(holdings), "config": str(config_path), "as_of": as_of,
               "cash": None if cash is None else str(cash), "relax": relax, "format": fmt,
               **({"mode": mode} if mode is not None else {}),
               **({"raise": str(raise_value)} if raise_value is not None else {})}
    if replay:
        command = {**replay.command, "from_manifest": str(from_manifest)}
    try:
        summary = summarize(result)
        return result, summary, run_files(result, command, fmt, summary)
    except AllocatorError as exc:
        exc.warnings = [*result.warnings, *exc.warnings]
        raise


@main.command()
@click.argument("holdings", type=click.Path(path_type=Path), required=False)
@config_option
@click.option("-o", "--out", "out_dir", type=click.Path(path_type=Path),
              help="Output folder for weights.csv, trades, summary.json, manifest.json (written atomically).")
@format_option
@as_of_option
@cash_option
@mode_option
@raise_option
@click.option("--force", is_flag=True, help="Replace the output folder if it exists.")
@relax_option
@click.option("-q", "--quiet", is_flag=True,
              help="Print no summary or trade table on success (the folder written and any warnings still go to "
                   "stderr).")
@click.option("--from-manifest", "from_manifest", type=click.Path(path_type=Path),
              help="Repeat the run recorded in this manifest.json (inputs verified by SHA-256).")
@click.option("--report", "with_report", is_flag=True,
              help="Also write report.html (the page for approval, with the efficient frontier) into the output "
                   "folder, with the other files.")
@reports_errors
def run(holdings: Path | None, config_path: Path | None, out_dir: Path | None, trade_format: tuple[str, ...],
        as_of: str | None, cash: Decimal | None, mode: str | None, raise_value: Decimal | None, force: bool,
        relax: bool, quiet: bool, from_manifest: Path | None, with_report: bool) -> None:
    """Rebalance the account in HOLDINGS: target weights, a reconciled trade list and a summary.

    \b
    Examples:
      allocate run examples/holdings.csv -c configs/base.yaml -o out/
      allocate run examples/holdings.csv -c configs/base.yaml -o out/ --format csv --format fix
      allocate run examples/holdings.csv -c configs/base.yaml --cash 100000 --mode invest
      allocate run examples/holdings.csv -c configs/base.yaml --mode raise --raise 50000
      allocate run --from-manifest out/manifest.json -o out-again/
      allocate run examples/holdings.csv -c configs/base.yaml -o out/ --report
    """
    from allocator.errors import InfeasibleError
    from allocator.files.json_text import json_bytes
    from allocator.outputs.publish import write_atomically

    replay = None
    source: Path | LoadedConfig | None = config_path
    if from_manifest is not None:
        from allocator.outputs.replay import read_replay

        given = [name for name, value in (("HOLDINGS", holdings), ("-c", config_path), ("--as-of", as_of),
                                          ("--cash", cash), ("--mode", mode), ("--raise", raise_value),
                                          ("--relax", relax), ("--format", trade_format)) if value]
        if given:
            raise click.UsageError(f"--from-manifest repeats the recorded run; drop {', '.join(given)}")
        replay = read_replay(from_manifest)
        for warning in replay.warnings:
            click.echo(f"Warning: {warning}", err=True)
        holdings, source, as_of, cash, relax = (replay.holdings, replay.config, replay.as_of, replay.cash,
                                                replay.relax)
        mode, raise_value = replay.mode, replay.raise_value
    elif holdings is None:
        raise click.UsageError("give the HOLDINGS file (or --from-manifest)")
    if with_report and out_dir is None:
        raise click.UsageError("--report writes report.html into the output folder; give it with -o")
    if source is None:
        raise click.UsageError("give a config with -c/--config")
    # CVXPY is imported where a problem is first compiled (``optimize.problem``), without scipy.stats; a large
    # problem solved by Clarabel directly (``optimize.conic``) never imports it
    from allocator.optimize.problem import ProblemCache

    # the run's solve is a one-off: Clarabel called directly at every size, with --report or without (so the
    # report does not change the weights); the frontier's points of --report are solved the same way
    cache = ProblemCache(direct_from=0) if with_report else None
    try:
        result, summary, files = run_in_memory(holdings, source, config_path, trade_format, as_of, cash, mode,
                                               raise_value, relax, cache, replay, from_manifest)
    except InfeasibleError as exc:
        if out_dir is not None:  # nothing but the diagnosis is written
            write_atomically(out_dir, {"diagnosis.json": json_bytes(exc.diagnosis)}, force=force,
                             inputs=run_inputs(holdings, [source]))
        raise
    if with_report:
        from allocator.report.build import report_html
        from allocator.report.folder import PAGE_FILE, OutputFolder
        from allocator.report.frontier import efficient_frontier, risk_aversion_grid

        frontier = efficient_frontier(result.prepared, risk_aversion_grid(result.config.risk.risk_aversion), cache,
                                      target=(result.allocation, result.limits))
        files[PAGE_FILE] = report_html(OutputFolder(str(out_dir), files), frontier)
    trade_file = None  # the file with every trade, named under the terminal's table of the largest
    if out_dir is not None:
        from allocator.orders.export import FILE_NAMES

        written = write_atomically(out_dir, files, force=force,
                                   inputs=[entry["path"] for entry in result.prepared.inputs.values()])
        click.echo(f"wrote {written}", err=True)
        trade_file = next((str(written / name) for name in files if name in FILE_NAMES.values()), None)
    if replay:
        from allocator.outputs.replay import reproduction_report

        click.echo(reproduction_report(files, replay.outputs), err=True)
    if not quiet:  # the terminal tables (and rich, 0.02 s of imports) only when they are printed
        from allocator.outputs.report import print_run

        print_run(result, summary, sys.stdout, trade_file)
    echo_warnings(result.warnings, None if out_dir is None else str(written / "summary.json"))


WARNINGS_SHOWN = 10  # beyond this many, the terminal names the file that lists them all


def echo_warnings(warnings: Sequence[str], kept_in: str | None) -> None:
    """Print the warnings to stderr: every one when nothing keeps them, else the first ``WARNINGS_SHOWN`` and the
    file that holds them all (a 3,000-asset universe can raise 60 split-like warnings, one line each)."""
    shown = warnings if kept_in is None or len(warnings) <= WARNINGS_SHOWN else warnings[:WARNINGS_SHOWN]
    for warning in shown:
        click.echo(f"Warning: {warning}", err=True)
    if len(shown) < len(warnings):
        click.echo(f"Warning: {len(warnings) - len(shown)} more warnings, all {len(warnings)} in {kept_in}", err=True)


def describe_inputs(prepared: Prepared) -> None:
    """What ``validate`` read: positions, cash and NAV; the universe by asset class; the config chain; the holdings
    rows counted as cash or skipped; the RSI rules."""
    u = prepared.universe
    click.echo(f"holdings: {len(prepared.holdings.positions)} positions, cash {float(u.cash_value):,.2f}, "
               f"NAV {u.nav_value:,.2f}")
    classes = Counter(u.asset_class)
    composition = ", ".join(f"{count} {name}" for name, count in sorted(classes.items(), key=lambda kv: -kv[1]))
    click.echo(f"universe: {u.size} assets ({composition}), prices as of {prepared.window.as_of.date()}, "
               f"{prepared.window.sessions} closes")
    click.echo(f"config: {' <- '.join(str(p) for p in prepared.loaded.chain)}")
    for row in prepared.holdings.cash_rows:
        click.echo(f"holdings: counted as cash: {row}")
    for row in prepared.holdings.skipped_rows:
        click.echo(f"holdings: not a position, skipped: {row}")
    for rule in prepared.rsi.rules:
        click.echo(f"rsi: {rule.describe()}")


@main.command()
@click.argument("holdings", type=click.Path(path_type=Path))
@config_option
@format_option
@as_of_option
@cash_option
@mode_option
@raise_option
@relax_option
@click.option("--solve/--no-solve", default=True, show_default=True,
              help="Run as run does, short of writing (solve, round into trades, render every output file in "
                   "memory); --no-solve checks the inputs and the limits' arithmetic only.")
@reports_errors
def validate(holdings: Path, config_path: Path | None, trade_format: tuple[str, ...], as_of: str | None,
             cash: Decimal | None, mode: str | None, raise_value: Decimal | None, relax: bool, solve: bool) -> None:
    """Do everything `run` does with the same options, and write nothing: the same exit code, the same error and
    the same warnings, since it solves, rounds into trades and renders every output file in memory.

    \b
    Examples:
      allocate validate examples/holdings.csv -c configs/base.yaml
      allocate validate examples/holdings.csv -c configs/base.yaml --format fix --mode raise --raise 50000
      allocate validate examples/holdings.csv -c configs/base.yaml --no-solve
    """
    if config_path is None:
        raise click.UsageError("give a config with -c/--config")
    if not solve:
        from allocator.config.schema import TradingMode
        from allocator.errors import InfeasibleError
        from allocator.pipeline import prepare

        chosen = trading_mode(mode, raise_value)
        prepared = prepare(holdings, config_path, as_of=as_of, cash=cash, raise_value=raise_value,
                           mode=None if chosen is None else TradingMode(chosen))
        describe_inputs(prepared)
        for warning in prepared.warnings:
            click.echo(f"Warning: {warning}", err=True)
        if prepared.presolve_conflicts and not relax:
            raise InfeasibleError(str(config_path), "the limits cannot all hold", "relax the limits named below",
                                  details=prepared.presolve_conflicts)
        click.echo("ok: every input is valid (not solved: --no-solve)")
        return
    result, _, files = run_in_memory(holdings, config_path, config_path, trade_format, as_of, cash, mode,
                                     raise_value, relax, None)
    describe_inputs(result.prepared)
    for relaxation in result.relaxations:
        click.echo(f"relaxed: {relaxation}")
    traded = sum(before != after for before, after in zip(result.trades.current_quantity,
                                                          result.trades.final_quantity, strict=False))
    click.echo(f"ok: every input is valid and run would succeed ({result.allocation.solver}: "
               f"{result.allocation.status}; {traded} trades; {', '.join(files)} rendered, nothing written)")
    for warning in result.warnings:
        click.echo(f"Warning: {warning}", err=True)


@main.command()
@click.argument("holdings", type=click.Path(path_type=Path))
@click.argument("configs", nargs=-1, required=True)
@click.option("-o", "--out", "out_dir", type=click.Path(path_type=Path),
              help="Output folder for compare_*.csv, compare.json, compare.png and manifest.json (written "
                   "atomically).")
@as_of_option
@cash_option
@click.option("--force", is_flag=True, help="Replace the output folder if it exists.")
@click.option("--robust", is_flag=True,
              help="Also solve the portfolio with the best worst-case utility over the scenarios' views, under the "
                   "first scenario's limits; -o writes its trades to robust/.")
@click.option("-q", "--quiet", is_flag=True, help="Print nothing on success.")
@reports_errors
def compare(holdings: Path, configs: tuple[str, ...], out_dir: Path | None, as_of: str | None,
            cash: Decimal | None, force: bool, robust: bool, quiet: bool) -> None:
    """Compare scenario CONFIGS side by side on one HOLDINGS snapshot: metrics, target weights, trades, a chart.

    CONFIGS are config files or glob patterns (quoted patterns are expanded too); each is a scenario named
    after its file. Scenarios sharing a universe and risk model are solved on one compiled problem (from 1,000
    assets each by Clarabel called directly). A scenario
    that fails (bad config, bad data, infeasible limits) is reported in its column with its reason while the
    others complete and are written; the exit code is then that of the first failed scenario (3 config,
    4 data, 5 infeasible or solver), and each failure is listed on stderr. Every portfolio is also scored under
    every scenario's view (expected return, volatility, utility; worst case per portfolio). With --robust, one
    more portfolio maximizes the worst-case utility over the views under every limit of the first scenario; it
    is written to robust/ like a run (weights.csv, trades, summary.json, manifest.json).

    \b
    Examples:
      allocate compare examples/holdings.csv configs/scenarios/*.yaml -o out/compare
      allocate compare examples/holdings.csv configs/base.yaml configs/scenarios/hawkish_pivot.yaml
      allocate compare examples/holdings.csv configs/scenarios/*.yaml --robust -o out/compare
    """
    from allocator.compare.files import comparison_files
    from allocator.compare.report import print_comparison
    from allocator.compare.scenarios import compare as compare_scenarios
    from allocator.compare.tables import comparison_tables
    from allocator.errors import OutputError
    from allocator.outputs.publish import write_atomically

    if out_dir is not None and out_dir.exists() and not force:
        raise OutputError(str(out_dir), "the output folder already exists",
                          "pass --force to replace it, or choose another folder")
    comparison = compare_scenarios(holdings, configs, as_of=as_of, cash=cash, robust=robust)
    tables = comparison_tables(comparison)
    if out_dir is not None:
        command = {"holdings": str(holdings), "configs": list(configs), "as_of": as_of,
                   "cash": None if cash is None else str(cash), "robust": robust}
        written = write_atomically(out_dir, comparison_files(comparison, tables, command), force=force,
                                   inputs=run_inputs(holdings, configs))
        click.echo(f"wrote {written}", err=True)
    if not quiet:
        print_comparison(comparison, tables, sys.stdout)
    seen: dict[str, list[str]] = {}
    for outcome in comparison.succeeded:
        result = outcome.result
        for warning in result.warnings if result else ():
            seen.setdefault(warning, []).append(outcome.name)
    for warning, names in seen.items():
        click.echo(f"Warning: [{', '.join(names)}] {warning}", err=True)
    for outcome in comparison.failed:
        message = outcome.error.message() if outcome.error else "failed"
        click.echo(f"Error: scenario {outcome.name} ({outcome.spec.path}): {message}", err=True)
    if comparison.exit_code:
        click.echo(f"Error: {len(comparison.failed)} of {len(comparison.outcomes)} scenarios failed; "
                   f"exit {comparison.exit_code} is the first failure's", err=True)
        sys.exit(comparison.exit_code)


@main.command()
@click.argument("book", type=click.Path(path_type=Path))
@config_option
@click.option("--accounts", "accounts_table", type=click.Path(path_type=Path),
              help="Accounts table (CSV: account, model, cash_target, restricted, lot_size, mode, band); each row "
                   "maps an account to its model config and overrides.")
@click.option("-o", "--out", "out_dir", type=click.Path(path_type=Path), required=True,
              help="Output folder: accounts/<account>/ (the files of run), batch.csv, blocks.csv, allocations.csv, "
                   "blocks/sells|buys/ and manifest.json (published in one step).")
@click.option("--band", default="0", show_default=True,
              help="Drift band of accounts whose row gives none: 0.03 (absolute per asset), 0.25 relative, "
                   "0.10 total; an account inside its band is not traded.")
@click.option("--restricted", type=click.Choice(["hold", "sell"]), default="hold", show_default=True,
              help="A restricted symbol is never bought; hold: the account may keep it, sell: it is sold whole.")
@click.option("--workers", type=click.IntRange(min=0),
              help="Dask worker processes on this machine (default: one per core; a book of 20 accounts or fewer "
                   "runs in this process); 0: in this process.")
@click.option("--scheduler", help="Run on the Dask cluster at this address (tcp://HOST:PORT; default: "
                                  "DASK_SCHEDULER_ADDRESS when set).")
@click.option("--format", "trade_format", type=click.Choice(["csv", "json", "fix", "basket"]), multiple=True,
              help="Trade list formats of each account and block list; repeat for several (default: csv).")
@as_of_option
@click.option("--force", is_flag=True, help="Replace the output folder if it exists.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar and no summary.")
@reports_errors
def batch(book: Path, config_path: Path | None, accounts_table: Path | None, out_dir: Path, band: str,
          restricted: str, workers: int | None, scheduler: str | None, trade_format: tuple[str, ...],
          as_of: str | None, force: bool, quiet: bool) -> None:
    """Rebalance every account of BOOK (a folder of holdings files, one per account, or one holdings file with an
    account column) to its model: per-account outputs, batch.csv, block orders by symbol and side with each
    account's allocation, and a manifest.

    Each model is estimated once and its program re-solved per account (Clarabel called directly, the account's
    weights, cash and bounds refilled), on Dask workers (a local cluster, or --scheduler). A failing or infeasible
    account is reported in batch.csv (with the diagnosis of run) while the others complete; the exit code is then
    the first failed account's (3 config, 4 data, 5 infeasible). A killed batch, run again with the same command,
    resumes from its journal without redoing any account.

    \b
    Examples:
      allocate batch examples/batch/holdings -c configs/base.yaml --accounts examples/batch/accounts.csv -o out/batch
      allocate batch book.csv -c model.yaml -o out/batch --band "0.05 total" --workers 2
      allocate batch book.csv -c model.yaml -o out/batch --scheduler tcp://10.0.0.5:8786
      allocate export out/batch/blocks/buys/trades.csv --format fix -o out/batch/buys.fix
    """
    from allocator.batch.bands import parse_band
    from allocator.batch.progress import BatchProgress
    from allocator.batch.restrictions import RestrictedPolicy
    from allocator.batch.runner import BatchRequest, run_batch

    # each account is a one-off solve handed to Clarabel directly: CVXPY is imported only by an account that needs
    # it (market impact, max_sharpe, the diagnosis of infeasible limits)
    request = BatchRequest(book=book, out_dir=out_dir, config=config_path, accounts_table=accounts_table,
                           as_of=as_of, band=parse_band(band, "--band"), restricted=RestrictedPolicy(restricted),
                           formats=tuple(trade_format) or ("csv",), workers=workers, scheduler=scheduler, force=force)
    with BatchProgress(enabled=not quiet) as progress:
        result = run_batch(request, progress=progress.advance, on_start=progress.start)
    click.echo(f"wrote {result.written}", err=True)
    if not quiet:
        counts = Counter(o.status.value for o in result.outcomes)
        click.echo(f"{len(result.outcomes)} accounts: " + ", ".join(f"{counts.get(s, 0)} {s}" for s in
                   ("traded", "in_band", "infeasible", "error")) + f"; {len(result.blocks)} block orders; "
                   f"{result.rebalanced} rebalanced ({result.engine}), {result.resumed} from the journal, "
                   f"{result.seconds:.1f} s")
    for outcome in result.failed:
        click.echo("\n".join(_failure_lines(outcome, result.written)), err=True)
    if result.exit_code:
        click.echo(f"Error: {len(result.failed)} of {len(result.outcomes)} accounts failed (see batch.csv); "
                   f"exit {result.exit_code} is the first failure's", err=True)
        sys.exit(result.exit_code)


def _failure_lines(outcome: AccountOutcome, out: Path, shown: int = 3) -> list[str]:
    """A failed account's error for stderr: its message and the first ``shown`` keys or limits it names below, then
    where the rest are (``batch.csv``, and the account's ``diagnosis.json`` when infeasible)."""
    head, *details = outcome.reason.splitlines() or ["failed"]
    lines = [f"Error: account {outcome.account} ({outcome.status.value}): {head}", *details[:shown]]
    if len(details) > shown:
        where = str(out / "batch.csv")
        if outcome.status.value == "infeasible":
            from allocator.batch.accounts import folder_name

            where += f" and {out / 'accounts' / folder_name(outcome.account) / 'diagnosis.json'}"
        lines.append(f"  and {len(details) - shown} more; see {where}")
    return lines


@main.command()
@config_option
@click.option("--start", help="First day (YYYY-MM-DD); default: backtest.start, else the first session.")
@click.option("--end", help="Last day (YYYY-MM-DD); default: backtest.end, else the last close.")
@click.option("--every", help="Rebalance weekly, monthly, quarterly or every N sessions; default: backtest.every.")
@click.option("--holdings", "holdings", type=click.Path(path_type=Path),
              help="Start from the account in this holdings file.")
@click.option("--initial-cash", "initial_cash", callback=_cash, metavar="AMOUNT",
              help="Start from this much cash (default: backtest.initial_cash).")
@click.option("-o", "--out", "out_dir", type=click.Path(path_type=Path),
              help="Output folder for metrics, returns, weights, trades, rules, warnings, charts and manifest.json "
                   "(written atomically); a killed run resumes from its journal beside it.")
@click.option("--force", is_flag=True, help="Replace the output folder if it exists.")
@click.option("-q", "--quiet", is_flag=True,
              help="No progress bar, no metrics table and no rebalance warnings (warnings.csv keeps them).")
@click.option("--from-manifest", "from_manifest", type=click.Path(path_type=Path),
              help="Repeat the backtest recorded in this manifest.json (inputs verified by SHA-256) and say whether "
                   "every output file is byte-identical.")
@click.option("--report", "with_report", is_flag=True,
              help="Also write report.html (equity curves, drawdowns, weights over time, metrics with bootstrap "
                   "intervals, risk measures, rules) into the output folder, with the other files.")
@reports_errors
def backtest(config_path: Path | None, start: str | None, end: str | None, every: str | None,
             holdings: Path | None, initial_cash: Decimal | None, out_dir: Path | None, force: bool, quiet: bool,
             from_manifest: Path | None, with_report: bool) -> None:
    """Walk the pipeline of `run` forward through history, date by date, on what was known each date, beside its
    ablations (no tilt, no RSI rules, no regime), the benchmark (held, rebalanced) and riskfolio-lib's HRP and
    ERC; write metrics, daily returns, weights, trades, rules and charts.

    \b
    Examples:
      allocate backtest -c configs/backtest.yaml --start 2024-01-01 -o out/backtest
      allocate backtest -c configs/backtest.yaml --every quarterly --holdings examples/holdings.csv -o out/bt
      allocate backtest --from-manifest out/backtest/manifest.json -o out/backtest-again
      allocate backtest -c configs/backtest.yaml -o out/backtest --report
    """
    from allocator.backtest.request import BacktestRequest
    from allocator.backtest.session import run_backtest_command

    if with_report and out_dir is None:
        raise click.UsageError("--report writes report.html into the output folder; give it with -o")
    replay = None
    if from_manifest is not None:
        from allocator.backtest.manifest import read_backtest_replay

        given = [name for name, value in (("-c", config_path), ("--start", start), ("--end", end),
                                          ("--every", every), ("--holdings", holdings),
                                          ("--initial-cash", initial_cash)) if value is not None]
        if given:
            raise click.UsageError(f"--from-manifest repeats the recorded backtest; drop {', '.join(given)}")
        replay = read_backtest_replay(from_manifest)
        for warning in replay.warnings:
            click.echo(f"Warning: {warning}", err=True)
        request = replay.request
    elif config_path is None:
        raise click.UsageError("give a config with -c/--config (or --from-manifest)")
    else:
        request = BacktestRequest(config=config_path, start=start, end=end, every=every, holdings=holdings,
                                  initial_cash=initial_cash)
    show = not quiet and sys.stderr.isatty()
    outcome = run_backtest_command(request, out_dir, force, show_progress=show, replay=replay,
                                   manifest_path=from_manifest,
                                   extra_files=_report_page(str(out_dir)) if with_report else None)
    if outcome.written is not None:
        click.echo(f"wrote {outcome.written}", err=True)
    if outcome.reproduction:
        click.echo(outcome.reproduction, err=True)
    if not quiet:
        outcome.print(sys.stdout)
        _echo_rebalance_warnings(outcome.report, outcome.written)
    for line in outcome.look_ahead:
        click.echo(f"Warning: {line}: the fundamentals of one date stand for every date", err=True)


def _echo_rebalance_warnings(report: BacktestReport, written: Path | None) -> None:
    """How many warnings the rebalances raised, and each distinct one as ``allocate run`` prints its warnings."""
    if not report.warnings:
        return
    distinct = report.distinct_warnings
    kept_in = None if written is None else str(written / "warnings.csv")
    click.echo(f"{len(report.warnings)} warnings on the rebalances ({len(distinct)} distinct)"
               + (f", each with its date and strategy in {kept_in}" if kept_in else ""), err=True)
    echo_warnings(distinct, kept_in)


def _report_page(where: str) -> Callable[[dict[str, bytes]], dict[str, bytes]]:
    """The report page of an output folder's files, as one more file (``--report``)."""
    def page(files: dict[str, bytes]) -> dict[str, bytes]:
        from allocator.report.build import report_html
        from allocator.report.folder import PAGE_FILE, OutputFolder

        return {PAGE_FILE: report_html(OutputFolder(where, files))}

    return page


@main.command()
@click.argument("trades", type=click.Path(path_type=Path))
@click.option("--format", "trade_format", type=click.Choice(["csv", "json", "fix", "basket"]), required=True,
              help="csv: trade list; json: trade list with orders; fix: FIX 4.4 NewOrderSingle per line; "
                   "basket: Interactive Brokers BasketTrader CSV.")
@click.option("-o", "--out", "out_path", type=click.Path(path_type=Path),
              help="Write to this file (atomically) instead of stdout.")
@click.option("-c", "--config", "config_path", type=click.Path(path_type=Path),
              help="Take the orders: settings from this config instead of the run's manifest.json.")
@click.option("--manifest", "manifest_path", type=click.Path(path_type=Path),
              help="The run's manifest.json (default: the one beside TRADES).")
@click.option("--fix-delimiter", type=click.Choice(["soh", "pipe"]), default=None,
              help="FIX field delimiter (default: orders.fix_delimiter, else soh).")
@click.option("--force", is_flag=True, help="Replace the output file if it exists.")
@click.option("--new-ids", is_flag=True,
              help="Export a trade list that its run's manifest does not record (edited after the run, or without "
                   "its manifest) under new order IDs derived from its contents, instead of refusing it.")
@reports_errors
def export(trades: Path, trade_format: str, out_path: Path | None, config_path: Path | None,
           manifest_path: Path | None, fix_delimiter: str | None, force: bool, new_ids: bool) -> None:
    """Convert the trade list TRADES (trades.csv or trades.json of a run) to another format.

    Client order IDs and file times come from the run (its run_id and as-of date in manifest.json), so the
    same run always gives the same orders. A trade list the run's manifest does not record (by SHA-256, whatever
    the file is called) is refused: its orders would go out under the run's IDs. --new-ids exports it under new
    IDs instead.

    \b
    Examples:
      allocate export out/trades.csv --format fix -o out/orders.fix
      allocate export out/trades.csv --format basket -o out/basket.csv
      allocate export out/trades.json --format fix --fix-delimiter pipe
      allocate export edited.csv --manifest out/manifest.json --format fix --new-ids
    """
    from allocator.config.schema import FixDelimiter, OutputFormat
    from allocator.files.atomic import write_file_atomically
    from allocator.orders.export import export_trades

    exported = export_trades(trades, OutputFormat(trade_format), config_path, manifest_path,
                             FixDelimiter(fix_delimiter) if fix_delimiter else None, new_ids)
    if out_path is None:
        click.echo(exported.data, nl=False)
    else:
        click.echo(f"wrote {write_file_atomically(out_path, exported.data, force)}", err=True)
    _warn_derived(trades, exported.sheet.run_id, exported.sheet.derived_from)


def _warn_derived(trades: Path, run_id: str, derived_from: str | None) -> None:
    if derived_from is not None:
        click.echo(f"Warning: {trades}: not a trade list run {derived_from[:12]} wrote; its orders carry new order "
                   f"IDs (run id {run_id[:12]}), not that run's", err=True)


@main.command()
@click.argument("out_dir", type=click.Path(path_type=Path))
@click.option("-o", "--out", "out_path", type=click.Path(path_type=Path),
              help="Write the page here (default: OUT_DIR/report.html, rewritten each time).")
@click.option("--frontier/--no-frontier", "with_frontier", default=True, show_default=True,
              help="For a run without frontier.csv: compute the efficient frontier for the page from the run's "
                   "manifest (its inputs verified by SHA-256).")
@click.option("--force", is_flag=True, help="Replace the -o file if it exists.")
@reports_errors
def report(out_dir: Path, out_path: Path | None, with_frontier: bool, force: bool) -> None:
    """Write the report page of OUT_DIR, the output folder of `run`, `compare`, `frontier` or `backtest`: one
    self-contained HTML file (no network; charts inline) to read, print and approve.

    A run's page: headline, the trade list's SHA-256 and its approval, weights (chart and sortable table),
    exposures, risk contributions, return attribution, views, RSI rules, binding limits in the config's words,
    trades with reasons and costs, the efficient frontier, warnings and the manifest's digest. A comparison's page:
    metrics, weights and trades by scenario and every portfolio under every view. A backtest's page: metrics with
    bootstrap intervals against the benchmark, CVaR and CDaR, equity curves, drawdowns, weights over time, RSI hit
    rates and signal ICs, trades.

    \b
    Examples:
      allocate report out/
      allocate report out/compare -o committee.html --force
      allocate report out/ --no-frontier
      allocate report out/backtest
    """
    from allocator.files.atomic import write_file_atomically
    from allocator.report.build import kind_of, replayed_frontier, report_html
    from allocator.report.folder import PAGE_FILE, read_folder
    from allocator.report.frontier_files import FRONTIER_CSV

    folder = read_folder(out_dir)
    frontier, note = None, "Not computed (--no-frontier)."
    if kind_of(folder).name == "run" and with_frontier and not folder.has(FRONTIER_CSV):
        try:
            frontier = replayed_frontier(out_dir / "manifest.json")
        except AllocatorError as exc:  # the page is still worth having; it says why the frontier is missing
            note = f"Not computed: {exc.message()}"
            click.echo(f"Warning: the efficient frontier is left off the page: {exc.message()}", err=True)
    page = report_html(folder, frontier, note)
    target = out_path if out_path is not None else out_dir / PAGE_FILE
    written = write_file_atomically(target, page, force=force or out_path is None)
    click.echo(f"wrote {written} ({len(page) / 1024:,.0f} KB)", err=True)


@main.command()
@click.argument("holdings", type=click.Path(path_type=Path))
@config_option
@click.option("-o", "--out", "out_dir", type=click.Path(path_type=Path),
              help="Output folder for frontier.csv, frontier.json, frontier.png and manifest.json (written "
                   "atomically).")
@as_of_option
@cash_option
@click.option("--points", type=click.IntRange(2, 200), default=25, show_default=True,
              help="Risk aversions on the grid (log-spaced; the config's own is added).")
@click.option("--risk-aversion-range", "bounds", type=(click.FloatRange(min=0.0, min_open=True),
                                                        click.FloatRange(min=0.0, min_open=True)),
              default=(0.1, 100.0), show_default=True, help="The lowest and highest risk aversion of the grid.")
@click.option("--relax", is_flag=True, help="If the limits conflict, use their smallest relaxation (as run --relax).")
@click.option("--force", is_flag=True, help="Replace the output folder if it exists.")
@click.option("-q", "--quiet", is_flag=True, help="Print nothing on success.")
@reports_errors
def frontier(holdings: Path, config_path: Path | None, out_dir: Path | None, as_of: str | None,
             cash: Decimal | None, points: int, bounds: tuple[float, float], relax: bool, force: bool,
             quiet: bool) -> None:
    """The efficient frontier of HOLDINGS under every limit of the config: expected return (net of trading costs)
    against volatility and against tracking error for a grid of risk aversions, solved on one compiled problem
    (from 1,000 assets each point by Clarabel called directly), with the current portfolio, the benchmark and the
    target marked.

    \b
    Examples:
      allocate frontier examples/holdings.csv -c configs/base.yaml -o out/frontier
      allocate frontier examples/holdings.csv -c configs/base.yaml --points 40 --risk-aversion-range 0.5 50
    """
    from allocator.outputs.publish import write_atomically
    from allocator.pipeline import prepare
    from allocator.report.frontier import efficient_frontier, risk_aversion_grid
    from allocator.report.frontier_files import frontier_files

    if config_path is None:
        raise click.UsageError("give a config with -c/--config")
    if bounds[0] >= bounds[1]:
        raise click.UsageError(f"--risk-aversion-range: the lowest ({bounds[0]:g}) must be below the highest "
                               f"({bounds[1]:g})")
    prepared = prepare(holdings, config_path, as_of=as_of, cash=cash)
    found = efficient_frontier(prepared, risk_aversion_grid(prepared.config.risk.risk_aversion, points, bounds),
                               relax=relax)
    if out_dir is not None:
        command = {"holdings": str(holdings), "config": str(config_path), "as_of": as_of,
                   "cash": None if cash is None else str(cash), "points": points, "risk_aversion_range": list(bounds),
                   "relax": relax}
        written = write_atomically(out_dir, frontier_files(found, prepared, command), force=force,
                                   inputs=[entry["path"] for entry in prepared.inputs.values()])
        click.echo(f"wrote {written}", err=True)
    if not quiet:
        click.echo(f"frontier as of {found.as_of}: {len(found.points)} points ({found.solves_text()}; annualized; "
                   "net return = expected return - trading cost)")
        click.echo(f"{'curve':<15}{'risk aversion':>14}{'net return':>12}{'volatility':>12}{'tracking error':>16}")
        for point in (*found.points, *found.marks):
            gamma = "" if point.risk_aversion is None else f"{point.risk_aversion:.3f}"
            label = point.curve if point.portfolio == "frontier" else point.portfolio
            click.echo(f"{label:<15}{gamma:>14}{100 * point.net_return:>11.2f}%{100 * point.volatility:>11.2f}%"
                       f"{100 * point.tracking_error:>15.2f}%")
    for warning in prepared.warnings:
        click.echo(f"Warning: {warning}", err=True)


@main.command()
@click.argument("out_dir", type=click.Path(path_type=Path))
@click.option("--by", "approved_by", required=True, help="Who approves the trade list (recorded with the time).")
@click.option("--digest", "expected",
              help="The trade list's SHA-256 as reviewed on the report page (at least 12 leading hex digits): "
                   "approve only if the list still has it.")
@reports_errors
def approve(out_dir: Path, approved_by: str, expected: str | None) -> None:
    """Approve the trade list of the run in OUT_DIR: record who approved which trade list (its SHA-256) and when, in
    OUT_DIR/approval.json. With orders.require_approval: true, `send` sends only the trade list approved last.

    \b
    Examples:
      allocate approve out/ --by "J. Smith"
      allocate approve out/ --by "J. Smith" --digest 3f128aff3b11a628
    """
    from datetime import UTC, datetime

    from allocator.orders.approval import approve as record_approval

    approval, written = record_approval(out_dir, approved_by, datetime.now(UTC), expected)
    click.echo(f"approved: {approval.trade_list} ({approval.trades} trades, SHA-256 {approval.trade_list_sha256}) "
               f"by {approval.approved_by} at {approval.approved_at}")
    click.echo(f"wrote {written}", err=True)


@main.command()
@click.argument("trades", type=click.Path(path_type=Path))
@click.option("--fix-config", "session_path", type=click.Path(path_type=Path), required=True,
              help="QuickFIX session file of the broker's FIX gateway (one FIX.4.4 initiator session).")
@click.option("-c", "--config", "config_path", type=click.Path(path_type=Path),
              help="Take the orders: settings (IDs, order type, journal) from this config instead of the run's "
                   "manifest.json.")
@click.option("--manifest", "manifest_path", type=click.Path(path_type=Path),
              help="The run's manifest.json (default: the one beside TRADES).")
@click.option("--journal", "journal_override", type=click.Path(path_type=Path),
              help="SQLite order journal (default: orders.journal).")
@click.option("--report", "report_path", type=click.Path(path_type=Path),
              help="Execution report CSV (default: executions.csv beside TRADES).")
@click.option("--timeout", "reply_timeout", type=click.FloatRange(min=0.0), default=30.0, show_default=True,
              help="Seconds to wait for the broker's replies after the last order.")
@click.option("--logon-timeout", type=click.FloatRange(min=0.0), default=30.0, show_default=True,
              help="Seconds to wait for the FIX logon.")
@click.option("--wait-for", type=click.Choice(["done", "acknowledged"]), default="done", show_default=True,
              help="done: until every order is filled, rejected, cancelled or expired; acknowledged: until each "
                   "is answered.")
@click.option("--rate", "orders_per_second", type=click.FloatRange(min=0.0, min_open=True),
              help="Send at most this many orders per second (the broker's throttle).")
@click.option("--resend", is_flag=True,
              help="Send again orders the broker already answered (flagged PossResend=Y, same ClOrdID).")
@reports_errors
def send(trades: Path, session_path: Path, config_path: Path | None, manifest_path: Path | None,
         journal_override: Path | None, report_path: Path | None, reply_timeout: float, logon_timeout: float,
         wait_for: str, orders_per_second: float | None, resend: bool) -> None:
    """Send the orders of TRADES (trades.csv, trades.json or orders.fix of a run) to a broker over FIX 4.4.

    Every order is recorded in the journal before it is sent, so sending the same list again, or after an
    interruption, never sends an order twice. Writes an execution report (status, filled quantity, average price
    per order) and exits 6 if any order was rejected or left unanswered.

    \b
    Examples:
      allocate send out/trades.csv --fix-config broker.cfg
      allocate send out/orders.fix --fix-config broker.cfg --journal orders.sqlite --timeout 60
    """
    from allocator.errors import OrderError
    from allocator.files.atomic import write_file_atomically
    from allocator.orders.send import (
        SendOptions,
        WaitFor,
        execution_report_csv,
        journal_path,
        load_batch,
        report_lines,
        send_orders,
    )

    batch = load_batch(trades, config_path, manifest_path)
    _warn_derived(trades, batch.run_id, batch.derived_from)
    options = SendOptions(reply_timeout_seconds=reply_timeout, logon_timeout_seconds=logon_timeout, resend=resend,
                          wait_for=WaitFor(wait_for), orders_per_second=orders_per_second)
    try:
        report = send_orders(batch, session_path, journal_path(batch, journal_override), options,
                             progress=lambda line: click.echo(line, err=True))
    except (KeyboardInterrupt, Stopped) as stop:
        signal_name = stop.signal_name if isinstance(stop, Stopped) else "SIGINT"
        _fail(f"stopped by {signal_name}; the journal holds every order sent so far: run the same command again "
              "to finish without sending any order twice", 128 + signal.Signals[signal_name].value)
        return
    target = report_path if report_path is not None else trades.parent / "executions.csv"
    written = write_file_atomically(target, execution_report_csv(report), force=True)
    for line in report_lines(report):
        click.echo(line)
    click.echo(f"wrote {written}", err=True)
    if report.failed:
        raise OrderError(f"{report.session}", f"{len(report.failed)} of {len(report.outcomes)} order(s) were "
                         "rejected or left unanswered", f"see {target}",
                         details=[f"{o.order.client_order_id} {o.order.describe()}: {o.status}"
                                  + (f" ({o.text})" if o.text else "") for o in report.failed])


if __name__ == "__main__":  # pragma: no cover
    main()
