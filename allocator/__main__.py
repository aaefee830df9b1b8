"""The ``allocate`` command (and ``python -m allocator``): the command line, with Ctrl-C and SIGTERM reported.

Both signals are handled from this module's first statement, before anything else is imported: a stop at any moment
(even while the libraries load, in the first tenth of a second) ends with one ``Error:`` line and exit 130 or 143,
never a traceback; a run stopped mid-way removes its staging folder on the way out. Before this module runs, Python
itself is starting (its ``site`` import, ``runpy`` finding the module): a stop then is Python's to report.
"""

# the C module that ``signal`` wraps, imported with Python itself: ``import signal`` runs Python code (it builds its
# enums, a few milliseconds in which a Ctrl-C would still print a traceback), so the handlers are set through it
import _signal  # type: ignore[import-not-found]
import sys

_NAMES = {_signal.SIGINT: "SIGINT", _signal.SIGTERM: "SIGTERM"}


def _stopped_while_loading(signum: int, _frame: object) -> None:
    sys.stderr.write(f"Error: stopped by {_NAMES[signum]}; nothing was written\n")
    raise SystemExit(128 + signum)


_SIGNALS = (_signal.SIGINT, _signal.SIGTERM)
_KEPT = {signum: _signal.getsignal(signum) == _signal.SIG_IGN for signum in _SIGNALS}  # nohup, a background job
for _signum in _SIGNALS:
    if not _KEPT[_signum]:
        _signal.signal(_signum, _stopped_while_loading)

import signal  # noqa: E402 - after the handlers, on purpose

from allocator.errors import (  # noqa: E402 - after the handlers, on purpose
    Stopped,
    resend_swallowed_stops,
    stop_message,
    stop_on_signal,
)


def main() -> None:
    """Run the ``allocate`` command line."""
    for signum in _SIGNALS:
        if not _KEPT[signum]:  # an ignored signal stays ignored
            signal.signal(signum, stop_on_signal)
    resend_swallowed_stops()
    try:
        from allocator.cli import main as command_line

        command_line()
    except Stopped as stop:  # stopped before a command took over its reporting (while the libraries load)
        sys.stderr.write(f"Error: {stop_message(stop.signal_name)}\n")
        sys.exit(stop.code)


if __name__ == "__main__":
    main()
