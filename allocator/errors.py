"""Typed errors of the library, each carrying the CLI exit code that reports it.

The library raises these and never prints; only ``cli.py`` turns them into ``Error: <where>: <what>; <how to fix>``
on stderr and the exit code below (docs/cli.md, "Exit codes").
"""

from __future__ import annotations

import signal
import sys
import threading
import time
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


_hook_running = False  # the unraisablehook below is running: a signal then is recorded, not raised
_held: list[int] = []  # signals recorded while the hook ran
_swallowed: list[int] = []  # stops Python swallowed and the hook is sending again; raised by ``raise_swallowed_stop``


def stop_on_signal(signum: int, _frame: FrameType | None) -> None:
    """A signal handler that raises ``Stopped``.

    With ``resend_swallowed_stops()`` installed, a signal that lands inside a callback whose exceptions Python
    cannot pass on (a weak-reference callback of the import system, a ``__del__``) is not lost.
    """
    if _hook_running:
        _held.append(signum)
        return
    if _committing:  # an output is being moved into place: raised once it is recorded (``committing``)
        _deferred.append(signum)
        return
    _swallowed.clear()
    _raised.append(signum)
    raise Stopped(signum)


_raised: list[int] = []  # every stop raised by ``stop_on_signal``, for ``stop_behind``


def stop_behind(error: BaseException) -> Stopped | None:
    """The stop behind ``error``, an exception that is not a ``Stopped``: one in its chain of causes, else, when a
    stop was raised in this process, that stop. A ``Stopped`` raised inside a library's callback can come out
    wrapped in the library's own error (pydantic's serializer: "Error calling function ...: Stopped: 143"; a class
    being created during an import: "Error calling __set_name__"), with or without the stop as its cause."""
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, Stopped):
            return seen
        seen = seen.__cause__ or seen.__context__
    return Stopped(_raised[-1]) if _raised else None


_written: list[str] = []  # outputs moved into place by this process (``committing``), for ``stop_message``
_committing: list[threading.Thread] = []  # threads inside ``committing`` now: ``stop_on_signal`` defers a stop
_deferred: list[int] = []  # stops that arrived meanwhile


@contextmanager
def committing(path: object) -> Iterator[None]:
    """The step that makes the output ``path`` visible (one rename), with Ctrl-C and SIGTERM held back until it is
    recorded: a stop that arrives during it is raised just after (in the main thread, where Python runs signal
    handlers, whichever thread the kernel delivered it to), and then says the output was written
    (``stop_message``) rather than that nothing was."""
    _committing.append(threading.current_thread())
    try:
        yield
        _written.append(str(path))
    finally:
        _committing.remove(threading.current_thread())
        if _deferred and not _committing:
            signum = _deferred[-1]
            _deferred.clear()
            if threading.current_thread() is threading.main_thread():
                raise Stopped(signum)
            signal.pthread_kill(threading.main_thread().ident or 0, signum)  # the main thread reports it


def stop_message(signal_name: str) -> str:
    """What a stop by ``signal_name`` left: nothing, or the outputs already moved into place (complete: an output is
    only ever moved into place whole)."""
    if _written:
        return f"stopped by {signal_name} after writing {', '.join(_written)}"
    return f"stopped by {signal_name}; nothing was written"


def raise_swallowed_stop() -> None:
    """Raise the ``Stopped`` that Python swallowed and that is being sent again (see ``resend_swallowed_stops``),
    if any: called just before output is moved into place, so that nothing is written after a stop."""
    if _swallowed:
        raise Stopped(_swallowed[-1])


def _send_again(signum: int) -> None:
    """Send ``signum`` to the main thread a few milliseconds from now, from a helper thread: after the
    ``unraisablehook`` has returned, so that the handler raises in the program's own code."""

    def send() -> None:
        time.sleep(0.005)
        signal.pthread_kill(threading.main_thread().ident or 0, signum)

    threading.Thread(target=send, name="allocate-resend-stop", daemon=True).start()


def resend_swallowed_stops() -> None:
    """Install an ``unraisablehook`` that does not lose a stop.

    A ``Stopped`` raised where Python can only report it ("Exception ignored in ...", e.g. inside a weak-reference
    callback while a module loads: CI saw a SIGTERM land there and the run go on to write its output) is not
    printed; its signal is sent again a moment later, so it surfaces in the program's own code. Anything else goes
    to the hook installed before (Python's default one, or a test runner's). Installing twice changes nothing.
    """
    previous = sys.unraisablehook
    if getattr(previous, "resends_stops", False):
        return

    def hook(unraisable: Any) -> None:
        global _hook_running
        if not isinstance(unraisable.exc_value, Stopped):
            previous(unraisable)
            return
        signum = signal.Signals[unraisable.exc_value.signal_name]
        _swallowed.append(signum)
        _hook_running = True
        try:
            _send_again(signum)
        finally:
            _hook_running = False
        while _held:  # arrived while the hook ran (the resent one, on a very slow machine): send again
            _send_again(_held.pop())

    hook.resends_stops = True  # type: ignore[attr-defined]
    sys.unraisablehook = hook
