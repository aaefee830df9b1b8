"""A chunk of accounts: the unit of work the engine hands to a worker.

``rebalance_chunk`` rebalances a few accounts of one model (``account_run.rebalance_account``, on the worker
process's compiled problem). Where the worker shares the driver's files (``RunOptions.work``: in this process or on a
LocalCluster) it also writes each account's files into the batch's work folder and records the chunk in the journal
there, in that order, so the driver receives the outcomes only; otherwise the files travel back with the outcomes
and the driver writes and records them (``write_account_files``). Either way a chunk run twice (a worker killed
after writing) writes the same bytes again and records nothing twice.

``rebalance_packed`` is the same with the accounts and the outcomes pickled once as bytes: Dask pickles a task's
arguments with a pickler that asks a Python hook about every object, which for a chunk of accounts (each position's
numbers are ``Decimal``s) cost 20 times plain ``pickle`` on the driver and on the workers alike. Each outcome is
pickled alone, so that the bytes the worker records in the journal are the bytes it sends back.
"""

from __future__ import annotations

import dataclasses
import os
import pickle
import shutil
from collections.abc import Sequence
from pathlib import Path

from allocator.batch.account_run import STATE, AccountOutcome, AccountTask, BatchModel, RunOptions, rebalance_account
from allocator.batch.accounts import folder_name
from allocator.batch.collector import settle
from allocator.batch.journal import Journal, outcome_bytes

OUTPUT = "output"  # the work folder's copy of the output folder, moved into place when the batch is complete
JOURNAL = "journal.sqlite"
FILE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_CLOEXEC", 0)
FOLDER_FLAGS = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_CLOEXEC", 0)


def rebalance_chunk(model: BatchModel, tasks: list[AccountTask], options: RunOptions) -> list[AccountOutcome]:
    """Rebalance ``tasks`` on ``model`` in this process; with ``options.work`` their files are written and the
    chunk recorded there, and the outcomes come back without their files."""
    return _run_chunk(model, tasks, options)[0]


def rebalance_packed(model: BatchModel, tasks: bytes, options: RunOptions) -> bytes:
    """``rebalance_chunk`` of pickled ``tasks``: the outcomes each pickled (the bytes the journal keeps, when the
    worker records the chunk), as one pickled list (``unpack_outcomes``; see the module docstring)."""
    outcomes, packed = _run_chunk(model, pickle.loads(tasks), options)
    if options.work is not None:  # a LocalCluster's worker, which lives for this batch only
        settle(model.key)
    if packed is None:
        packed = [pickle.dumps(o, protocol=pickle.HIGHEST_PROTOCOL) for o in outcomes]
    return pickle.dumps(packed, protocol=pickle.HIGHEST_PROTOCOL)


def unpack_outcomes(data: bytes) -> list[AccountOutcome]:
    """The outcomes of ``rebalance_packed``'s bytes."""
    return [pickle.loads(one) for one in pickle.loads(data)]


def _run_chunk(model: BatchModel, tasks: list[AccountTask], options: RunOptions
               ) -> tuple[list[AccountOutcome], list[bytes] | None]:
    """The outcomes of ``tasks`` and, when this process wrote their files and recorded them (``options.work``),
    the outcomes without their files as the journal keeps them (``journal.outcome_bytes``)."""
    outcomes = [rebalance_account(model, task, options, STATE) for task in tasks]
    if options.work is None:
        return outcomes, None
    work = Path(options.work)
    write_account_files(work / OUTPUT, outcomes)
    kept = [dataclasses.replace(o, files={}) if o.files else o for o in outcomes]
    packed = [outcome_bytes(o) for o in kept]
    journal = Journal(work / JOURNAL, options.batch_key)
    try:
        journal.record(kept, packed)
    finally:
        journal.close()
    return kept, packed


def write_account_files(output: Path, outcomes: Sequence[AccountOutcome]) -> None:
    """Each outcome's files into ``output/accounts/<account>/``, the folder replaced whole if it exists (a chunk
    run again). Each folder and file is made with one system call, relative to the open folder above it: on this
    machine's disk creating a file costs the kernel 0.1 to 1 ms, and pathlib's checks and path lookups add a
    quarter of that again."""
    if not any(o.files for o in outcomes):
        return
    accounts = output / "accounts"
    accounts.mkdir(parents=True, exist_ok=True)
    parent = os.open(accounts, FOLDER_FLAGS)
    try:
        for outcome in outcomes:
            if outcome.files:
                _write_folder(parent, accounts, folder_name(outcome.account), outcome.files)
    finally:
        os.close(parent)


def _write_folder(parent: int, accounts: Path, name: str, files: dict[str, bytes]) -> None:
    """The folder ``name`` in the open folder ``parent`` (``accounts``), with ``files`` in it."""
    try:
        os.mkdir(name, dir_fd=parent)
    except FileExistsError:
        shutil.rmtree(accounts / name)
        os.mkdir(name, dir_fd=parent)
    folder = os.open(name, FOLDER_FLAGS, dir_fd=parent)
    try:
        for file, data in files.items():
            handle = os.open(file, FILE_FLAGS, 0o666, dir_fd=folder)
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(handle, view):]
            finally:
                os.close(handle)
    finally:
        os.close(folder)
