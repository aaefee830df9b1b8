"""The batch journal: a SQLite file recording each finished account, so a killed batch resumes where it stopped.

One row per (batch, account), the account as key: an account is recorded once, after its files are written to
the batch's work folder, in the same transaction for a whole chunk of accounts (by the worker that rebalanced the
chunk when it shares the driver's files, several of them writing in turn; else by the driver). A batch run again
with the same inputs (``batch_key``) takes the recorded accounts as done (their outcome read back, their files
already in the work folder) and rebalances only the others, so no account is redone and none appears twice. The
file lives in the work folder and is removed with it once the output is published.

Each outcome is kept pickled (``outcome_bytes``, without its files): the same bytes travel from a worker to the
driver (``allocator.batch.chunk``), so an outcome is encoded once, in half the time its JSON took. The journal is
the batch's own file in its own work folder, read back only by the same batch (same inputs, same ``batch_key``);
the table is ``outcomes``, so a work folder left by a version that kept JSON in ``accounts`` is not misread.
"""

from __future__ import annotations

import dataclasses
import pickle
import sqlite3
from collections.abc import Sequence
from pathlib import Path

from allocator.batch.account_run import AccountOutcome
from allocator.errors import OutputError

BUSY_SECONDS = 120.0  # how long a writer waits for another's transaction (workers record their chunks concurrently)
SCHEMA = """
CREATE TABLE IF NOT EXISTS outcomes (
    batch_key TEXT NOT NULL,
    account TEXT NOT NULL,
    status TEXT NOT NULL,
    outcome BLOB NOT NULL,
    PRIMARY KEY (batch_key, account)
)
"""


def outcome_bytes(outcome: AccountOutcome) -> bytes:
    """``outcome`` pickled without its files (they are on disk), as the journal keeps it."""
    kept = dataclasses.replace(outcome, files={}) if outcome.files else outcome
    return pickle.dumps(kept, protocol=pickle.HIGHEST_PROTOCOL)


class Journal:
    """The accounts finished by the batch ``batch_key``, in the SQLite file at ``path``."""

    def __init__(self, path: Path, batch_key: str) -> None:
        self.path = path
        self.batch_key = batch_key
        try:
            self.connection = sqlite3.connect(path, isolation_level=None, timeout=BUSY_SECONDS)
            self.connection.execute("PRAGMA journal_mode=WAL")
            self.connection.execute("PRAGMA synchronous=NORMAL")
            self.connection.execute(SCHEMA)
        except sqlite3.Error as exc:
            raise OutputError(str(path), f"cannot open the batch journal ({exc})",
                              "check the folder's permissions and free space") from None

    def finished(self) -> dict[str, AccountOutcome]:
        """The outcomes recorded for this batch, by account."""
        rows = self.connection.execute("SELECT account, outcome FROM outcomes WHERE batch_key = ?",
                                       (self.batch_key,)).fetchall()
        return {account: pickle.loads(data) for account, data in rows}

    def record(self, outcomes: Sequence[AccountOutcome], packed: Sequence[bytes] | None = None) -> int:
        """Record ``outcomes`` in one transaction; an account already recorded is kept as it was (never twice).
        ``packed``: their ``outcome_bytes`` when the caller has them already. Returns how many were new."""
        data = packed if packed is not None else [outcome_bytes(o) for o in outcomes]
        rows = [(self.batch_key, o.account, o.status.value, d) for o, d in zip(outcomes, data, strict=True)]
        with self.connection:
            self.connection.execute("BEGIN IMMEDIATE")
            before = self.connection.total_changes
            self.connection.executemany("INSERT OR IGNORE INTO outcomes VALUES (?, ?, ?, ?)", rows)
            return self.connection.total_changes - before

    def close(self) -> None:
        self.connection.close()
