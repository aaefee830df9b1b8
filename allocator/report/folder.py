"""An output folder as the report reads it: its files by name, its kind, and its JSON and CSV files parsed.

The folder is a mapping of file names to bytes, so a page can be built from a folder on disk (``read_folder``)
or from the files a command is about to write (``allocate run --report`` renders the page before the folder is
published, and writes it with the others in one step). Kinds: ``run`` (``summary.json``), ``compare``
(``compare.json``), ``frontier`` (``frontier.csv``), ``backtest`` (``metrics.json`` and ``returns.csv``); another
kind plugs in with ``allocator.report.build.register``.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from allocator.errors import DataError
from allocator.files.reading import MIB

MAX_FILE_BYTES = 64 * MIB  # larger files are not read into a page (a run's largest is its trade list)
PAGE_FILE = "report.html"
FIX = "give the output folder of allocate run, compare, frontier or backtest, as written"


@dataclass(frozen=True)
class OutputFolder:
    """The files of an output folder (name -> bytes; subfolders as ``robust/summary.json``) and where it is."""

    where: str
    files: Mapping[str, bytes]

    def has(self, name: str) -> bool:
        return name in self.files

    def json(self, name: str) -> Any:
        """The parsed JSON file ``name``; ``DataError`` naming the file when it is missing or invalid."""
        try:
            return json.loads(self._bytes(name).decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise DataError(f"{self.where}/{name}", f"not valid JSON ({exc})", FIX) from None

    def mapping(self, name: str) -> dict[str, Any]:
        """The JSON file ``name``, which must hold an object."""
        data = self.json(name)
        if not isinstance(data, dict):
            raise DataError(f"{self.where}/{name}", "expected a JSON object", FIX)
        return data

    def rows(self, name: str) -> list[dict[str, str]]:
        """The CSV file ``name`` as records (text cells, a leading ``'`` of spreadsheet-safe text removed); the
        comment lines a backtest's CSV files start with (``# look-ahead: ...``) are skipped."""
        try:
            text = self._bytes(name).decode("utf-8")
        except UnicodeDecodeError:
            raise DataError(f"{self.where}/{name}", "not UTF-8 text", FIX) from None
        while text.startswith("# "):
            text = text.partition("\n")[2]
        return [{k: _unquote(v) for k, v in row.items() if k is not None}
                for row in csv.DictReader(io.StringIO(text, newline=""))]

    def _bytes(self, name: str) -> bytes:
        if name not in self.files:
            raise DataError(f"{self.where}/{name}", "missing", FIX)
        return self.files[name]


def _unquote(value: str | None) -> str:
    from allocator.files.cells import unquote

    return unquote(value or "")


class FolderFiles(Mapping[str, bytes]):
    """The files of a folder on disk (and of its subfolders, one level deep), read when first asked for; hidden
    files, the page itself (``report.html``) and files over ``MAX_FILE_BYTES`` are left out."""

    def __init__(self, path: Path) -> None:
        self.path = path
        names = []
        for item in sorted(path.iterdir()):
            if item.name.startswith("."):
                continue
            for child in sorted(item.iterdir()) if item.is_dir() else [item]:
                name = child.relative_to(path).as_posix()
                if child.is_file() and not child.name.startswith(".") and name != PAGE_FILE and \
                        child.stat().st_size <= MAX_FILE_BYTES:
                    names.append(name)
        self.names = tuple(names)
        self.read: dict[str, bytes] = {}

    def __getitem__(self, name: str) -> bytes:
        if name not in self.names:
            raise KeyError(name)
        if name not in self.read:
            self.read[name] = (self.path / name).read_bytes()
        return self.read[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self.names)

    def __len__(self) -> int:
        return len(self.names)


def read_folder(path: Path) -> OutputFolder:
    """The output folder at ``path`` (its files read on demand); ``DataError`` when it is not a folder."""
    if not path.is_dir():
        raise DataError(str(path), "not a folder" if path.exists() else "no such folder", FIX)
    return OutputFolder(where=str(path), files=FolderFiles(path))


def number(value: Any, where: str) -> float:
    """``value`` (a JSON number or CSV text) as a float; ``DataError`` at ``where`` otherwise."""
    if isinstance(value, bool):
        raise DataError(where, f"expected a number, got {value!r}", FIX)
    try:
        return float(value)
    except (TypeError, ValueError):
        raise DataError(where, f"expected a number, got {value!r}", FIX) from None


def optional_number(value: Any, where: str) -> float | None:
    """As ``number``, with None for an empty cell or a missing value."""
    return None if value is None or value == "" else number(value, where)
