"""Resumption: each strategy's progress journaled after every filled rebalance, so a killed backtest restarts from
its last finished rebalance and ends with the same bytes as an uninterrupted one.

The journal is a folder beside the output folder, ``.<OUT>.backtest-journal/<fingerprint>/``, one JSON-lines file a
strategy. Each line holds the account after a fill (shares and cash as exact decimals, the position in the
calendar) and the rows recorded since the previous line; floats are written as Python's shortest repr, so they read
back exactly. A line cut short by the kill is ignored. The fingerprint covers the inputs' SHA-256, the resolved
config and the command, so a changed input starts afresh; the folder is removed once the output is published.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

RECORDS = ("nav", "cash_values", "costs", "traded", "weights", "decisions", "trades", "rules", "signals", "warnings")


@dataclass
class StrategyState:
    """One strategy's account and records, all JSON-able (see ``simulation`` for the row layouts).

    ``decided`` counts the rebalances decided, ``next_session`` is the position in the calendar to value next;
    ``holding`` maps symbol to shares and ``cash`` is money, both exact decimal text; ``prices`` the holdings file's
    price of the symbols valued at it while they have no close (``simulation.Account``), exact decimal text."""

    name: str
    holding: dict[str, str]
    cash: str
    lots: dict[str, str] = field(default_factory=dict)
    prices: dict[str, str] = field(default_factory=dict)
    decided: int = 0
    next_session: int = 0
    failures: int = 0
    nav: list[float] = field(default_factory=list)
    cash_values: list[float] = field(default_factory=list)
    costs: list[float] = field(default_factory=list)
    traded: list[float] = field(default_factory=list)
    weights: list[list[Any]] = field(default_factory=list)
    decisions: list[list[Any]] = field(default_factory=list)
    trades: list[list[Any]] = field(default_factory=list)
    rules: list[list[Any]] = field(default_factory=list)
    signals: list[list[Any]] = field(default_factory=list)
    warnings: list[list[Any]] = field(default_factory=list)
    written: dict[str, int] = field(default_factory=dict)  # rows of each record already in the journal

    def scalars(self) -> dict[str, Any]:
        return {"holding": self.holding, "cash": self.cash, "decided": self.decided,
                "next_session": self.next_session, "failures": self.failures}


def journal_folder(out_dir: Path, fingerprint: str) -> Path:
    """Where the journal of a backtest writing ``out_dir`` with ``fingerprint`` lives."""
    target = Path(os.path.abspath(out_dir))
    return target.parent / f".{target.name}.backtest-journal" / fingerprint


def save(folder: Path, state: StrategyState) -> None:
    """Append ``state``'s progress since its last line to its journal, flushed to disk."""
    folder.mkdir(parents=True, exist_ok=True)
    new = {name: getattr(state, name)[state.written.get(name, 0):] for name in RECORDS}
    line = json.dumps({**state.scalars(), "append": new}, separators=(",", ":")) + "\n"
    with (folder / f"{state.name}.jsonl").open("a", encoding="utf-8") as handle:
        handle.write(line)
        handle.flush()
        os.fsync(handle.fileno())
    state.written = {name: len(getattr(state, name)) for name in RECORDS}


def load(folder: Path, fresh: StrategyState) -> StrategyState:
    """``fresh`` advanced to the last complete line of its journal in ``folder`` (itself when there is none)."""
    path = folder / f"{fresh.name}.jsonl"
    if not path.is_file():
        return fresh
    for text in path.read_text(encoding="utf-8").splitlines():
        try:
            line = json.loads(text)
        except json.JSONDecodeError:
            break  # the line the kill cut short
        for key, item in line.items():
            if key != "append":
                setattr(fresh, key, item)
        for name, rows in line["append"].items():
            getattr(fresh, name).extend(rows)
    fresh.written = {name: len(getattr(fresh, name)) for name in RECORDS}
    return fresh


def clear(folder: Path) -> None:
    """Remove the journal (its fingerprint folder, and the parent when empty)."""
    shutil.rmtree(folder, ignore_errors=True)
    with contextlib.suppress(OSError):
        folder.parent.rmdir()
