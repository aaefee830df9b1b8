"""Helpers shared by the tests (fixtures live in conftest.py)."""

from __future__ import annotations

import csv
from decimal import Decimal
from pathlib import Path


def write_config(folder: Path, text: str, name: str = "test.yaml") -> Path:
    """Write a config next to the example configs (``extends: base.yaml`` works from there)."""
    path = folder / "configs" / name
    path.write_text(text)
    return path


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def backtest_rows(path: Path) -> list[dict[str, str]]:
    """A backtest CSV's rows, past the ``# look-ahead: ...`` lines it may start with."""
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(line for line in handle if not line.startswith("# ")))


def decimal(text: str) -> Decimal:
    return Decimal(text) if text else Decimal(0)
