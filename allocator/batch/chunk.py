"""A chunk of accounts: the unit of work the engine hands to a worker.

``rebalance_chunk`` rebalances a few accounts of one model (``account_run.rebalance_account``, on the worker
process's compiled problem). Where the worker shares the driver's files (``RunOptions.work``: in this process or on a
LocalCluster) it also writes each account's files into the batch's work folder and records the chunk in the journal
there, in that order, so the driver receives the outcomes only; otherwise the files travel back with the outcomes
and the driver writes and records them (``write_account_files``). Either way a chunk run twice (a worker killed
after writing) writes the same bytes again and records nothing twice.

``rebalance_packed`` is the same with the accounts and the outcomes pickled once as bytes: Dask pickles a task's
arguments with a pickler that asks a Python hook about every object, which for a chunk of accounts (each position's
numbers are ``Decimal``s) cost 20 times plain ``pickle`` on the driver and on the workers alike.
"""

from __future__ import annotations

import dataclasses
import pickle
import shutil
from collections.abc import Sequence
from pathlib import Path

from allocator.batch.account_run import STATE, AccountOutcome, AccountTask, BatchModel, RunOptions, rebalance_account
from allocator.batch.accounts import folder_name
from allocator.batch.journal import Journal

OUTPUT = "output"  # the work folder's copy of the output folder, moved into place when the batch is complete
JOURNAL = "journal.sqlite"


def rebalance_chunk(model: BatchModel, tasks: list[AccountTask], options: RunOptions) -> list[AccountOutcome]:
    """Rebalance ``tasks`` on ``model`` in this process; with ``options.work`` their files are written and the
    chunk recorded there, and the outcomes come back without their files."""
    outcomes = [rebalance_account(model, task, options, STATE) for task in tasks]
    if options.work is None:
        return outcomes
    work = Path(options.work)
    write_account_files(work / OUTPUT, outcomes)
    journal = Journal(work / JOURNAL, options.batch_key)
    try:
        journal.record(outcomes)
    finally:
        journal.close()
    return [dataclasses.replace(o, files={}) if o.files else o for o in outcomes]


def rebalance_packed(model: BatchModel, tasks: bytes, options: RunOptions) -> bytes:
    """``rebalance_chunk`` of pickled ``tasks``, its outcomes pickled (see the module docstring)."""
    outcomes = rebalance_chunk(model, pickle.loads(tasks), options)
    return pickle.dumps(outcomes, protocol=pickle.HIGHEST_PROTOCOL)


def write_account_files(output: Path, outcomes: Sequence[AccountOutcome]) -> None:
    """Each outcome's files into ``output/accounts/<account>/``, the folder replaced whole."""
    for outcome in outcomes:
        if not outcome.files:
            continue
        folder = output / "accounts" / folder_name(outcome.account)
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
        for name, data in outcome.files.items():
            (folder / name).write_bytes(data)
