"""The ``allocate`` command line: parse, call the library, map errors to exit codes. No math here.

Exit codes (DESIGN section 8): 0 success, 1 unexpected error, 2 usage, 3 configuration, 4 input data,
5 infeasible or solver failure. Errors go to stderr as ``Error: <where>: <what>; <how to fix>``; stdout carries
results only. Heavy libraries are imported inside the commands that need them, so ``--help`` is instant.
"""

from __future__ import annotations

import functools
import os
import signal
import sys
import traceback
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, TypeVar

import click

from allocator import __version__
from allocator.errors import AllocatorError

F = TypeVar("F", bound=Callable[..., Any])


def _fail(message: str, code: int) -> None:
    click.echo(f"Error: {message}", err=True)
    sys.exit(code)


def reports_errors(command: F) -> F:
    """Turn library errors into ``Error: ...`` and their exit codes; anything else into exit 1."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        debug = bool(click.get_current_context().find_root().params.get("debug"))
        try:
            return command(*args, **kwargs)
        except AllocatorError as exc:
            if debug:
                traceback.print_exc()
            _fail(exc.message(), exc.exit_code)
        except (click.exceptions.Exit, click.ClickException, SystemExit):
            raise
        except KeyboardInterrupt:
            _fail("interrupted; nothing was written", 130)
        except Exception as exc:  # the last line of defence: never a bare traceback
            if debug:
                traceback.print_exc()
            _fail(f"unexpected {type(exc).__name__}: {exc}; rerun with --debug for the traceback and please "
                  "report it", 1)
        return None

    return wrapper  # type: ignore[return-value]


def _cash(_: click.Context, __: click.Parameter, value: str | None) -> Decimal | None:
    if value is None:
        return None
    try:
        amount = Decimal(value.replace(",", "").replace("$", ""))
    except InvalidOperation:
        raise click.BadParameter(f"not an amount: {value!r}") from None
    if not amount.is_finite() or amount < 0:
        raise click.BadParameter(f"must be a non-negative amount, got {value!r}")
    return amount


def _terminate(signum: int, _: Any) -> None:
    raise SystemExit(128 + signum)


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

    Exit codes: 0 ok, 1 unexpected, 2 usage, 3 config, 4 data, 5 infeasible or solver failure.
    """
    signal.signal(signal.SIGTERM, _terminate)
    # pydantic scans every installed distribution's entry points for plugins when it builds its first model
    # (about 0.1 s with a data-science stack installed); the CLI uses none. A value set in the environment wins.
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")


config_option = click.option("-c", "--config", "config_path", type=click.Path(path_type=Path),
                             help="YAML config (may 'extends:' another).")
as_of_option = click.option("--as-of", help="Use prices up to this date (YYYY-MM-DD); default: the last date.")
cash_option = click.option("--cash", callback=_cash, help="Add this much cash to the account (account currency).")


@main.command()
@click.argument("holdings", type=click.Path(path_type=Path))
@config_option
@click.option("-o", "--out", "out_dir", type=click.Path(path_type=Path),
              help="Output folder for weights.csv, trades, summary.json, manifest.json (written atomically).")
@click.option("--format", "trade_format", type=click.Choice(["csv", "json"]), default=None,
              help="Trade list format (default: output.format in the config, else csv).")
@as_of_option
@cash_option
@click.option("--force", is_flag=True, help="Replace the output folder if it exists.")
@click.option("--relax", is_flag=True, help="If the limits conflict, relax the cheapest ones (reported) and trade.")
@click.option("-q", "--quiet", is_flag=True, help="Print nothing on success.")
@reports_errors
def run(holdings: Path, config_path: Path | None, out_dir: Path | None, trade_format: str | None,
        as_of: str | None, cash: Decimal | None, force: bool, relax: bool, quiet: bool) -> None:
    """Rebalance the account in HOLDINGS: target weights, a reconciled trade list and a summary.

    \b
    Example:
      allocate run examples/holdings.csv -c configs/base.yaml -o out/
    """
    from allocator.cvxpy_import import import_cvxpy
    from allocator.metrics import run_metrics
    from allocator.outputs import run_files, write_atomically
    from allocator.pipeline import run as run_pipeline
    from allocator.report import print_run

    if config_path is None:
        raise click.UsageError("give a config with -c/--config")
    import_cvxpy()  # without scipy.stats, which CVXPY imports for one function (0.45 s)
    result = run_pipeline(holdings, config_path, as_of=as_of, cash=cash, relax=relax)
    fmt = trade_format or result.config.output.format.value
    command = {"holdings": str(holdings), "config": str(config_path), "as_of": as_of,
               "cash": None if cash is None else str(cash), "relax": relax, "format": fmt}
    if out_dir is not None:
        written = write_atomically(out_dir, run_files(result, command, fmt), force=force)
        click.echo(f"wrote {written}", err=True)
    if not quiet:
        print_run(result, run_metrics(result), sys.stdout)
    for warning in [*result.prepared.warnings, *result.trades.warnings]:
        click.echo(f"Warning: {warning}", err=True)


@main.command()
@click.argument("holdings", type=click.Path(path_type=Path))
@config_option
@as_of_option
@cash_option
@reports_errors
def validate(holdings: Path, config_path: Path | None, as_of: str | None, cash: Decimal | None) -> None:
    """Check every input and the limits without solving (does not load the optimizer).

    \b
    Example:
      allocate validate examples/holdings.csv -c configs/base.yaml
    """
    from allocator.errors import InfeasibleError
    from allocator.pipeline import prepare

    if config_path is None:
        raise click.UsageError("give a config with -c/--config")
    prepared = prepare(holdings, config_path, as_of=as_of, cash=cash)
    u = prepared.universe
    click.echo(f"holdings: {len(prepared.holdings.positions)} positions, cash {float(u.cash_value):,.2f}, "
               f"NAV {u.nav_value:,.2f}")
    click.echo(f"universe: {u.size} assets, prices as of {prepared.window.as_of.date()}, "
               f"{len(prepared.window.closes)} closes")
    click.echo(f"config: {' <- '.join(str(p) for p in prepared.loaded.chain)}")
    for rule in prepared.rsi.rules:
        click.echo(f"rsi: {rule.describe()}")
    for warning in prepared.warnings:
        click.echo(f"Warning: {warning}", err=True)
    if prepared.presolve_conflicts:
        raise InfeasibleError(str(config_path), "the limits cannot all hold", "relax the limits named below",
                              details=prepared.presolve_conflicts)
    click.echo("ok: every input is valid")


if __name__ == "__main__":  # pragma: no cover
    main()
