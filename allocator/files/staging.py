"""Publish a folder of files all at once: written in a hidden staging folder, then renamed into place.

Readers see either no output folder, the previous one, or the complete new one, never a partial one:

1. stale staging folders of the same target, left by runs that were killed (their process is gone, or they are
   over an hour old), are removed first; a previous output that a killed ``--force`` run had moved aside is put
   back;
2. the files are written to ``.<name>.partial-<pid>-<random>`` beside the target (same filesystem, so the rename is
   atomic) and flushed to disk;
3. the staging folder is renamed to the target: without ``force`` with ``RENAME_NOREPLACE`` on Linux (a folder
   that appears meanwhile is never overwritten); with ``force`` the two folders are swapped in one step with
   ``RENAME_EXCHANGE`` and the old one is removed (elsewhere, the old folder is first moved aside to
   ``.<name>.old-<pid>-<random>``, the step that item 1 undoes if the run dies in between);
4. the parent folder is flushed so the rename survives a power cut.

An exception or a signal turned into ``SystemExit`` (SIGTERM, Ctrl-C) removes the staging folder on the way out;
SIGKILL cannot be caught, so item 1 clears what it leaves on the next run, and the hidden name keeps it from ever
being taken for an output.
"""

from __future__ import annotations

import ctypes
import errno
import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from allocator.errors import OutputError, committing, raise_swallowed_stop

RENAME_NOREPLACE = 1
RENAME_EXCHANGE = 2
AT_FDCWD = -100
STALE_SECONDS = 3600.0  # writing an output takes milliseconds; a staging folder this old belongs to no live run


def staging_folders(target: Path) -> list[Path]:
    """The hidden staging and moved-aside folders of ``target`` that exist now."""
    pattern = re.compile(rf"\.{re.escape(target.name)}\.(partial|old)-\d+-.+")
    try:
        return sorted(p for p in target.parent.iterdir() if pattern.fullmatch(p.name))
    except OSError:
        return []


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # a process of another user
        return True
    return True


def clean_stale(target: Path) -> list[str]:
    """Remove the staging folders of ``target`` left by dead runs; restore a previous output moved aside.

    Returns what was done, one line each.
    """
    done: list[str] = []
    for folder in staging_folders(target):
        kind, pid = folder.name[len(target.name) + 2:].split("-", 2)[:2]
        try:
            age = time.time() - folder.stat().st_mtime
        except OSError:
            continue
        if _alive(int(pid)) and age < STALE_SECONDS:
            continue
        kept = folder / target.name
        if kind == "old" and kept.is_dir() and not target.exists():
            os.rename(kept, target)
            done.append(f"restored {target} from an interrupted run")
        _remove(folder)
        done.append(f"removed {folder.name} left by an interrupted run")
    return done


def _remove(path: Path) -> None:
    """Remove a folder, or the link when ``path`` is a symbolic link (a replaced ``-o`` that was a link)."""
    if path.is_symlink():
        path.unlink(missing_ok=True)
    else:
        shutil.rmtree(path, ignore_errors=True)


def renameat2(source: Path, target: Path, flags: int) -> bool:
    """``renameat2(2)`` with ``flags``; False where the system call is unavailable (not Linux, old kernel or
    filesystem), so the caller falls back to ``os.rename``."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        call = libc.renameat2
    except (OSError, AttributeError, TypeError):
        return False
    result = call(AT_FDCWD, os.fsencode(source), AT_FDCWD, os.fsencode(target), flags)
    if result == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP):
        return False
    raise OSError(code, os.strerror(code), str(target))


def _fsync_folder(folder: Path) -> None:
    try:
        handle = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(handle)
    except OSError:
        pass
    finally:
        os.close(handle)


def write_files(staging: Path, files: dict[str, bytes]) -> None:
    """Write ``files`` (name -> bytes; a name may hold a subfolder, ``robust/trades.csv``) into the folder
    ``staging``, each file and folder synced to disk, the folder's mode set as the umask allows."""
    folders = {staging}
    for name, data in files.items():
        path = staging / name
        if path.parent != staging:
            path.parent.mkdir(parents=True, exist_ok=True)
            folders.add(path.parent)
        with path.open("wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(staging, 0o777 & ~umask)
    for folder in sorted(folders, key=lambda f: len(f.parts), reverse=True):
        _fsync_folder(folder)


def _swap(staging: Path, target: Path) -> Path:
    """Put ``staging`` in place of the existing ``target``; returns the folder that now holds the old output, for
    the caller to remove once the swap is recorded (``move_into_place``: a large old output takes a while to
    delete, and stops are held back only for the renames)."""
    if renameat2(staging, target, RENAME_EXCHANGE):
        return staging  # now holds the previous output
    aside = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-{os.getpid()}-", dir=target.parent))
    os.rename(target, aside / target.name)
    try:
        os.rename(staging, target)
    except BaseException:
        os.rename(aside / target.name, target)  # put the previous output back
        raise
    return aside


def publish(target: Path, files: dict[str, bytes], force: bool, check_replaceable: Callable[[Path], None]) -> Path:
    """Write ``files`` as the folder ``target`` (absolute; its parent exists) in one step.

    Raises ``OutputError`` when ``target`` exists and ``force`` is not given; ``check_replaceable(target)`` raises
    when an existing ``target`` may not be replaced even with ``force``. Either way nothing is touched.
    """
    clean_stale(target)
    replacing = replacing_existing(target, force, check_replaceable)
    try:
        staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.partial-{os.getpid()}-", dir=target.parent))
    except OSError as exc:
        raise OutputError(str(target), f"cannot create the output folder ({exc.strerror})",
                          "check the path and permissions") from None
    try:
        try:
            write_files(staging, files)
        except OSError as exc:
            raise OutputError(str(target), f"cannot write the output folder ({exc.strerror})",
                              "check the free space and permissions") from None
        return move_into_place(staging, target, replacing)
    finally:
        _remove(staging)  # gone already when renamed into place


def replacing_existing(target: Path, force: bool, check_replaceable: Callable[[Path], None]) -> bool:
    """Whether ``target`` exists (and will be replaced): ``OutputError`` when it exists and ``force`` is not
    given; ``check_replaceable(target)`` raises when it may not be replaced even with ``force``."""
    if not target.exists():
        return False
    if not force:
        raise OutputError(str(target), "the output folder already exists",
                          "pass --force to replace it, or choose another folder")
    check_replaceable(target)
    return True


def move_into_place(staging: Path, target: Path, replacing: bool) -> Path:
    """Rename the complete folder ``staging`` (beside ``target``: same filesystem) to ``target`` in one step:
    swapped with the existing ``target`` when ``replacing`` (``replacing_existing`` said so), else never over a
    folder that appeared meanwhile (``allocate batch`` fills its staging folder account by account, then moves it
    into place here)."""
    raise_swallowed_stop()
    old: Path | None = None
    try:
        with committing(target):
            if replacing:
                old = _swap(staging, target)
            elif not renameat2(staging, target, RENAME_NOREPLACE):
                os.rename(staging, target)
    except FileExistsError:
        raise OutputError(str(target), "the output folder appeared while this run was writing",
                          "pass --force to replace it, or choose another folder") from None
    except OSError as exc:
        if exc.errno in (errno.EEXIST, errno.ENOTEMPTY):
            raise OutputError(str(target), "the output folder appeared while this run was writing",
                              "pass --force to replace it, or choose another folder") from None
        raise OutputError(str(target), f"cannot write the output folder ({exc.strerror})",
                          "check the free space and permissions") from None
    finally:
        if old is not None:
            _remove(old)
    _fsync_folder(target.parent)
    return target
