"""The ``allocate`` command (and ``python -m allocator``): the command line, with Ctrl-C and SIGTERM reported.

Both signals are turned into ``Stopped`` before anything else is imported, so a stop at any moment (even while the
libraries load, in the first tenth of a second) ends with one ``Error:`` line and exit 130 or 143, never a
traceback; a run stopped mid-way removes its staging folder on the way out.
"""

from __future__ import annotations

import signal
import sys

from allocator.errors import Stopped, stop_on_signal


def main() -> None:
    """Run the ``allocate`` command line."""
    for signum in (signal.SIGINT, signal.SIGTERM):
        if signal.getsignal(signum) is not signal.SIG_IGN:  # an ignored signal (nohup, a background job) stays so
            signal.signal(signum, stop_on_signal)
    try:
        from allocator.cli import main as command_line

        command_line()
    except Stopped as stop:  # stopped before a command took over its reporting (while the libraries load)
        sys.stderr.write(f"Error: stopped by {stop.signal_name}; nothing was written\n")
        sys.exit(stop.code)


if __name__ == "__main__":
    main()
