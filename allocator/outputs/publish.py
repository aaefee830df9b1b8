"""Publish an output folder: all files at once, and an existing folder replaced only when it holds nothing else.

The folder is written under a temporary name beside the target and renamed into place (``allocator.files.staging``):
a failed or interrupted run leaves no partial output. ``--force`` replaces an existing folder only when every file in
it is an output of allocate (``foreign_files``): a file its ``manifest.json`` lists in ``outputs`` (or the manifest
of the file's own subfolder does: a batch's accounts), or one that a command writes beside them (``TOOL_FILES``).
Anything else (an order journal, a copied input, a user's notes, a mistyped ``-o ~``) makes it refuse, naming the
files, before anything is touched.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path

from allocator.errors import OutputError
from allocator.files.manifest import MANIFEST_FILE, MAX_MANIFEST_BYTES

# The files a command may write into an output folder beside those its manifest lists: the manifest itself, run's
# diagnosis.json (limits that cannot hold; no manifest then), report.html (run --report, report) and the trade
# formats of export -o (trades.csv, trades.json, orders.fix, basket.csv). approval.json (approve) and
# executions.csv (send) are records, kept: a folder holding one is not replaced.
TOOL_FILES = frozenset({MANIFEST_FILE, "diagnosis.json", "report.html", "trades.csv", "trades.json", "orders.fix",
                        "basket.csv"})
# Records of what happened to a run's orders: never deleted by --force, whoever wrote them.
RECORDS = {"executions.csv": "the broker's execution record of orders sent", "approval.json": "who approved which "
           "trade list"}
SQLITE_HEADER = b"SQLite format 3\x00"
SHOWN = 10  # foreign files named in the message, at most


def recorded_outputs(folder: Path) -> frozenset[str]:
    """The files ``folder``'s ``manifest.json`` lists in ``outputs`` (none when it has no readable manifest)."""
    path = folder / MANIFEST_FILE
    try:
        if not path.is_file() or path.stat().st_size > MAX_MANIFEST_BYTES:
            return frozenset()
        data = json.loads(path.read_bytes())
    except (OSError, ValueError, RecursionError):
        return frozenset()
    outputs = data.get("outputs") if isinstance(data, dict) else None
    return frozenset(str(name) for name in outputs) if isinstance(outputs, dict) else frozenset()


def foreign_files(folder: Path) -> list[str]:
    """The files in ``folder`` (relative, subfolders included) that allocate did not write there: neither listed in
    its manifest's ``outputs``, nor (when it has such a manifest) in those of the manifest of their own subfolder (a
    run's files inside a batch's ``accounts/<account>/``), nor one of ``TOOL_FILES``. Empty for a folder ``--force``
    may replace: a folder holding earlier runs' folders and no manifest of its own is not one."""
    recorded = recorded_outputs(folder)
    found = []
    try:
        for root, folders, names in os.walk(folder):
            # a subfolder's own manifest counts inside an output of allocate only (a batch's accounts)
            here = recorded_outputs(Path(root)) if recorded and Path(root) != folder else frozenset()
            for name in [*names, *(f for f in folders if (Path(root) / f).is_symlink())]:
                relative = (Path(root) / name).relative_to(folder).as_posix()
                if relative not in recorded and name not in here and name not in TOOL_FILES:
                    found.append(relative)
    except OSError as exc:
        return [f"(unreadable: {exc.strerror})"]
    return sorted(found)


def check_replaceable(folder: Path) -> None:
    """Raise ``OutputError`` naming the files when ``folder`` holds any that allocate did not write (an order
    journal is named as one: without it an order could be sent twice)."""
    foreign = foreign_files(folder)
    if not foreign:
        return
    shown = ", ".join(foreign[:SHOWN]) + (f" and {len(foreign) - SHOWN} more" if len(foreign) > SHOWN else "")
    journals = [name for name in foreign if _is_sqlite(folder / name)]
    notes = [f"{name}: an order journal, without which orders could be sent twice" for name in journals]
    notes += [f"{name}: {RECORDS[name]}" for name in foreign if name in RECORDS]
    note = f" ({'; '.join(notes)})" if notes else ""
    raise OutputError(str(folder), f"holds files that are not outputs of allocate: {shown}{note}; --force replaces "
                      "only a folder of allocate's own outputs, and nothing was touched",
                      "move those files out of the folder, or choose another folder")


def replaceable(folder: Path) -> bool:
    """Whether ``--force`` may replace ``folder`` (``check_replaceable`` would not raise)."""
    return not foreign_files(folder)


def _is_sqlite(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            return handle.read(len(SQLITE_HEADER)) == SQLITE_HEADER
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
    return publish(target, files, force, check_replaceable)


def _within(path: Path, folder: Path) -> bool:
    """Whether ``path`` (resolved, links followed) lies inside ``folder``."""
    try:
        path.resolve().relative_to(folder.resolve())
    except (ValueError, OSError):
        return False
    return True
