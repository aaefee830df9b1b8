"""Text that is safe to open in a spreadsheet: a cell never begins a formula.

Spreadsheets run a cell that starts with ``=``, ``+``, ``-`` or ``@`` (and some a leading tab or carriage return)
as a formula, so a symbol such as ``=HYPERLINK(...)`` in a holdings file could act when a trade list is opened.
Text cells that start so are written with a leading ``'``, which spreadsheets show as text and hide; readers of our
own files remove it again with ``unquote``.
"""

from __future__ import annotations

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def safe_text(value: str) -> str:
    """Text that a spreadsheet will not run as a formula (a leading ``=``, ``+``, ``-``, ``@`` gets a quote)."""
    return "'" + value if value.startswith(FORMULA_PREFIXES) else value


def unquote(value: str) -> str:
    """The text ``safe_text`` was given: a ``'`` that guards a formula character is removed."""
    return value[1:] if value.startswith("'") and value[1:].startswith(FORMULA_PREFIXES) else value
