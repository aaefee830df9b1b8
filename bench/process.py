"""One measurement in a fresh process: wall time, CPU time and peak resident memory of that process alone.

The process is started with ``subprocess.Popen`` and reaped with ``os.wait4``, which returns the kernel's resource
accounting of that one child: CPU time (user + system) and ``ru_maxrss``, the peak resident set size, which sees
everything the process touched (numpy, the solvers' native memory, CVXPY's C++ core), unlike ``tracemalloc``.
An address-space limit (``RLIMIT_AS``) keeps a runaway measurement from taking the shared machine's memory: it
ends with a MemoryError, reported as such.
"""

from __future__ import annotations

import os
import resource
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Measured:
    """Wall and CPU seconds, peak RSS (MB) and the output of one process."""

    wall: float
    cpu: float
    peak_rss_mb: float
    returncode: int
    stdout: str
    stderr: str
    timed_out: bool

    def error(self) -> str | None:
        """Why the process failed (its last line of output), or None."""
        if self.timed_out:
            return "timed out"
        if self.returncode == 0:
            return None
        lines = (self.stderr or self.stdout).strip().splitlines()
        memory = any("MemoryError" in line or "Unable to allocate" in line for line in lines)
        last = lines[-1] if lines else f"exit {self.returncode}"
        return f"out of memory ({last[:120]})" if memory and "memory" not in last.lower() else last[:200]


def measure(command: list[str], env: dict[str, str] | None = None, cwd: Path | None = None,
            timeout: float = 900.0, memory_limit_gb: float | None = None) -> Measured:
    """Run ``command`` to its end in a fresh process and return what it cost."""
    limit = None if memory_limit_gb is None else int(memory_limit_gb * 2**30)

    def limit_memory() -> None:
        if limit is not None:
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        child = subprocess.Popen(command, stdout=out, stderr=err, env=env, cwd=cwd, preexec_fn=limit_memory)
        killed = threading.Event()

        def kill() -> None:
            killed.set()
            child.kill()

        timer = threading.Timer(timeout, kill)
        timer.start()
        try:
            _, status, usage = os.wait4(child.pid, 0)
        finally:
            timer.cancel()
        wall = time.perf_counter() - started
        child.returncode = os.waitstatus_to_exitcode(status)  # reaped here, so Popen must not wait for it again
        out.seek(0)
        err.seek(0)
        return Measured(wall=wall, cpu=usage.ru_utime + usage.ru_stime, peak_rss_mb=usage.ru_maxrss / 1024.0,
                        returncode=child.returncode, stdout=out.read(), stderr=err.read(),
                        timed_out=killed.is_set())
