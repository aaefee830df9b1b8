"""Text that is safe to open in a spreadsheet: a cell never begins a formula.

Spreadsheets run a cell that starts with ``=``, ``+``, ``-`` or ``@`` (and some a leading tab or carriage return)
as a formula, so a symbol such as ``=HYPERLINK(...)`` in a holdings file could act when a trade list is opened.
Text cells that start so are written with a leading ``'``, which spreadsheets show as text and hide; readers of our
own files remove it again with ``unquote``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from decimal import Decimal

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def safe_text(value: str) -> str:
    """Text that a spreadsheet will not run as a formula (a leading ``=``, ``+``, ``-``, ``@`` gets a quote)."""
    return "'" + value if value.startswith(FORMULA_PREFIXES) else value


def unquote(value: str) -> str:
    """The text ``safe_text`` was given: a ``'`` that guards a formula character is removed."""
    return value[1:] if value.startswith("'") and value[1:].startswith(FORMULA_PREFIXES) else value


def csv_bytes(header: Sequence[str], rows: Iterable[Sequence[str]]) -> bytes:
    """A CSV file (UTF-8, ``\\n`` line ends) of already formatted cells."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


def fixed(value: float, digits: int = 10) -> str:
    """A number with ``digits`` decimals and no negative zero, so files compare byte for byte."""
    text = f"{value:.{digits}f}"
    return "0." + "0" * digits if text.startswith("-") and float(text) == 0 else text


def quantity_text(value: Decimal) -> str:
    """Shares as plain text without exponent or trailing zeros (``100``, ``12.5``)."""
    text = format(value.normalize(), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text
