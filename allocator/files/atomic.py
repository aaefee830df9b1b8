"""Write one file atomically: a temporary sibling, flushed to disk, renamed into place.

A reader never sees a half-written file, and a failed or interrupted write leaves the old file (or none).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from allocator.errors import OutputError, committing, raise_swallowed_stop


def write_file_atomically(path: str | Path, data: bytes, force: bool = False) -> Path:
    """Write ``data`` to ``path``; an existing file is replaced only with ``force``."""
    target = Path(os.path.abspath(path))
    if target.is_dir():
        raise OutputError(str(path), "is a folder", "give a file name")
    if target.exists() and not force:
        raise OutputError(str(path), "the file already exists", "pass --force to replace it, or choose another name")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, staging = tempfile.mkstemp(prefix=f".{target.name}.partial-", dir=target.parent)
    except OSError as exc:
        raise OutputError(str(path), f"cannot write there ({exc.strerror})", "check the path and permissions") from None
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(staging, 0o644)
        raise_swallowed_stop()
        with committing(target):
            os.replace(staging, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(staging)
        raise
    return target
