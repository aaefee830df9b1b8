"""Check the numbers a report page shows against the files of its folder, to the displayed precision."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path
from typing import Any

NUMBER = re.compile(r"^-?[\d,]*\.?\d+%?$")


def file_value(folder: Path, source: str) -> float:
    """The number a cell's ``data-source`` (``summary.json#target.volatility``, ``weights.csv#SPY.rsi``,
    ``frontier.csv#3.net_return``, ``metrics.json#strategies.config.cvar_95``) names, read from the file itself."""
    name, path = source.split("#", 1)
    if name.endswith(".json"):
        found: Any = json.loads((folder / name).read_text())
        for part in path.split("."):
            found = found[int(part)] if isinstance(found, list) else found[part]
        return float(found)
    key, column = path.split(".", 1)
    with (folder / name).open(newline="") as handle:
        rows = list(csv.DictReader(line for line in handle if not line.startswith("# ")))  # a backtest's look-ahead
    row = rows[int(key)] if key.isdigit() else next(r for r in rows if r["symbol"] == key)
    return float(row[column])


def displayed_mismatches(folder: Path, cells: list[tuple[str, str]]) -> list[str]:
    """The cells (``data-source``, text shown) whose text is not the file's number at the precision shown."""
    wrong = []
    for source, shown in cells:
        text = shown.strip()
        assert NUMBER.match(text), f"{source}: {text!r} is not a number as displayed"
        scale = 100.0 if text.endswith("%") else 1.0
        digits = len(text.rstrip("%").split(".")[1]) if "." in text else 0
        value = float(text.rstrip("%").replace(",", ""))
        expected = file_value(folder, source) * scale
        if abs(value - expected) > 0.5 * 10.0 ** -digits + 1e-9:
            wrong.append(f"{source}: shows {text}, the file has {expected}")
    return wrong
