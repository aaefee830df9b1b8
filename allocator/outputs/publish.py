"""Publish a run's output folder: all files at once, and an existing folder replaced only when it is safe.

The folder is written under a temporary name beside the target and renamed into place (``allocator.files.staging``):
a failed or interrupted run leaves no partial output, and an existing folder is replaced only with ``force`` and
only when it is empty or a previous run's output (it holds a ``manifest.json``).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from allocator.errors import OutputError
from allocator.files.manifest import MANIFEST_FILE


def replaceable(folder: Path) -> bool:
    """Whether ``--force`` may replace ``folder``: it is empty or holds a previous run's ``manifest.json`` (so a
    mistyped ``-o ~`` can never wipe a folder of other files)."""
    try:
        return not any(folder.iterdir()) or (folder / MANIFEST_FILE).is_file()
    except OSError:
        return False


def write_atomically(out_dir: str | Path, files: dict[str, bytes], force: bool = False,
                     inputs: Iterable[str | Path] = ()) -> Path:
    """Write ``files`` into ``out_dir`` all at once; see ``allocator.files.staging`` for how. ``inputs`` are the
    files the run read: a folder holding one of them is never replaced (``--force`` would delete it)."""
    from allocator.files.staging import publish

    target = Path(os.path.abspath(out_dir))
    if target.exists() and not target.is_dir():
        raise OutputError(str(out_dir), "exists and is not a folder", "choose another output path")
    if target.is_dir():
        inside = sorted({str(path) for path in inputs if _within(Path(path), target)})
        if inside:
            raise OutputError(str(out_dir), f"holds this run's input {', '.join(inside)}; replacing the folder would "
                              "delete it", "write to another folder, or move the inputs out of this one")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(str(out_dir), f"cannot create the output folder ({exc.strerror})",
                          "check the path and permissions") from None
    return publish(target, files, force, replaceable)


def _within(path: Path, folder: Path) -> bool:
    """Whether ``path`` (resolved, links followed) lies inside ``folder``."""
    try:
        path.resolve().relative_to(folder.resolve())
    except (ValueError, OSError):
        return False
    return True
