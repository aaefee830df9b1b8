"""Typed errors of the library, each carrying the CLI exit code that reports it.

The library raises these and never prints; only ``cli.py`` turns them into ``Error: <where>: <what>; <how to fix>``
on stderr and the exit code below (docs/cli.md, "Exit codes").
"""

from __future__ import annotations

import signal
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from types import FrameType
from typing import Any


class AllocatorError(Exception):
    """Base class: a failure the user can act on.

    ``where`` names the file, row and field or the config key path; ``what`` says what is wrong; ``fix`` says how
    to mend it. ``details`` holds extra lines (for example every config error at once).
    """

    exit_code = 1

    def __init__(self, where: str, what: str, fix: str = "", details: Sequence[str] = ()) -> None:
        self.where = where
        self.what = what
        self.fix = fix
        self.details = list(details)
        self.warnings: list[str] = []  # what the run had found before it failed (printed with the error)
        super().__init__(self.message())

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickled with every field, so that an error raised in a worker process (a backtest's strategies, a
        batch's accounts) reaches the parent whole, with its exit code; ``Exception`` would call ``__init__`` with
        the message alone."""
        return (_restored, (type(self), self.args, dict(self.__dict__)))

    def message(self) -> str:
        head = f"{self.where}: {self.what}" if self.where else self.what
        if self.fix:
            head += f"; {self.fix}"
        return "\n".join([head, *(f"  - {line}" for line in self.details)])


def _restored(cls: type[AllocatorError], args: tuple[Any, ...], state: dict[str, Any]) -> AllocatorError:
    error = cls.__new__(cls)
    Exception.__init__(error, *args)
    error.__dict__.update(state)
    return error


@contextmanager
def explained_by(warnings: Sequence[str]) -> Iterator[None]:
    """Attach ``warnings`` (what was found so far, read when the error happens) to an ``AllocatorError`` raised
    inside: an asset excluded for gaps often explains why a later step fails."""
    try:
        yield
    except AllocatorError as exc:
        exc.warnings = [*warnings, *exc.warnings]
        raise


class UsageError(AllocatorError):
    """A command-line argument the library cannot use (exit 2, as Click's own usage errors)."""

    exit_code = 2


class ConfigError(AllocatorError):
    """The YAML configuration is invalid (exit 3)."""

    exit_code = 3


class DataError(AllocatorError):
    """An input file (holdings, prices, fundamentals) is missing, malformed or inconsistent (exit 4)."""

    exit_code = 4


class OutputError(AllocatorError):
    """The output folder cannot be written as asked, e.g. it exists and ``--force`` was not given (exit 2)."""

    exit_code = 2


class InfeasibleError(AllocatorError):
    """The limits cannot all hold (exit 5). ``conflicts`` lists the constraint families that must be relaxed."""

    exit_code = 5

    def __init__(
        self,
        where: str,
        what: str,
        fix: str = "",
        details: Sequence[str] = (),
        diagnosis: dict[str, object] | None = None,
    ) -> None:
        self.diagnosis = diagnosis or {}
        super().__init__(where, what, fix, details)


class SolverError(AllocatorError):
    """Every solver failed or returned a solution that does not satisfy the constraints (exit 5)."""

    exit_code = 5


class OrderError(AllocatorError):
    """The order hand-off failed (exit 6): an order was rejected or left unanswered, or the FIX session could not
    log on. The execution report, when one was written, says which orders."""

    exit_code = 6


class Stopped(SystemExit):
    """The process was asked to stop by a signal: Ctrl-C (SIGINT, exit 130) or SIGTERM (exit 143).

    Raised from the signal handler ``stop_on_signal``, so ``finally`` blocks run on the way out (a run's staging
    folder is removed: nothing partial is left). A ``SystemExit`` so that Click lets it through to the code that
    reports it, from the first line of the program on.
    """

    def __init__(self, signum: int) -> None:
        super().__init__(128 + signum)
        self.signal_name = signal.Signals(signum).name


def stop_on_signal(signum: int, _frame: FrameType | None) -> None:
    """A signal handler that raises ``Stopped``."""
    raise Stopped(signum)
