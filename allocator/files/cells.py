"""The text of spreadsheet cells: read as brokers write it, written so a spreadsheet shows it safely.

Reading: ``parse_number`` reads ``$1,234.56``, ``1,000``, ``(12.50)`` (negative), ``-$5.00``, ``+1.2%`` and ``--``
(no value). It refuses what would be silently misread: a thousands separator in the wrong place (``1,5`` is not
15), ``NaN`` and infinities, and magnitudes no account holds. ``is_ticker`` says whether a cell can be a symbol
(letters, digits and ``. - / ^`` or a space), so a disclaimer line or a spreadsheet formula is never taken for one.

Writing: spreadsheets run a cell that starts with ``=``, ``+``, ``-`` or ``@`` (and some a leading tab or carriage
return) as a formula, so a symbol such as ``=HYPERLINK(...)`` in a holdings file could act when a trade list is
opened. Text cells that start so are written with a leading ``'`` (``safe_text``), which spreadsheets show as text
and hide; readers of our own files remove it again with ``unquote``. Numbers are written with fixed precision
(``fixed``, ``quantity_text``) so files compare byte for byte.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from decimal import Decimal, InvalidOperation

MISSING = frozenset({"", "--", "-", "n/a", "na", "none", "null"})
LARGEST = Decimal("1e15")  # no quantity, price or amount in an account is this large

_GROUPED = re.compile(r"\d{1,3}(,\d{3})+(\.\d*)?")
SIMPLE_NUMBER = re.compile(r"[0-9]{1,15}(\.[0-9]*)?")  # unsigned, ASCII, under LARGEST: a Decimal as written
_PLAIN = re.compile(r"(\d+\.?\d*|\.\d+)(e[+-]?\d+)?", re.IGNORECASE)
_TICKER = re.compile(r"[A-Z0-9^][A-Z0-9.\-/^ ]{0,31}")


def parse_number(text: str) -> Decimal | None:
    """The number in a broker's cell, or None when the cell holds no value (empty, ``--``, ``N/A``).

    Raises ``ValueError`` (with the text quoted) for anything that is not a plain or grouped decimal number.
    """
    if not text:
        return None
    if SIMPLE_NUMBER.fullmatch(text):  # most cells: what the steps below would read as it is, without them
        return Decimal(text)
    raw = text.strip().replace("\u00a0", "").replace(" ", "")
    if raw.lower() in MISSING:
        return None
    negative = raw.startswith("(") and raw.endswith(")")
    if negative:
        raw = raw[1:-1]
    raw = raw.replace("$", "").removeprefix("USD").removesuffix("USD").removesuffix("%")
    if raw and raw[0] in "+-":
        negative = negative != (raw[0] == "-")
        raw = raw[1:]
    if "," in raw:
        if not _GROUPED.fullmatch(raw):
            raise ValueError(f"not a number: {text!r} (thousands separators must group 3 digits)")
        raw = raw.replace(",", "")
    if not _PLAIN.fullmatch(raw):
        raise ValueError(f"not a number: {text!r}")
    try:
        value = Decimal(raw)
    except InvalidOperation:  # pragma: no cover - the pattern admits only valid decimals
        raise ValueError(f"not a number: {text!r}") from None
    if abs(value) >= LARGEST:
        raise ValueError(f"out of range: {text!r}")
    return -value if negative else value


def is_ticker(text: str) -> bool:
    """Whether ``text`` (trimmed, upper-cased) can be a symbol: 1-32 letters, digits, ``. - / ^`` or spaces."""
    return bool(_TICKER.fullmatch(text.strip().upper()))


FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def safe_text(value: str) -> str:
    """Text that a spreadsheet will not run as a formula (a leading ``=``, ``+``, ``-``, ``@`` gets a quote)."""
    return "'" + value if value.startswith(FORMULA_PREFIXES) else value


def unquote(value: str) -> str:
    """The text ``safe_text`` was given: a ``'`` that guards a formula character is removed."""
    return value[1:] if value.startswith("'") and value[1:].startswith(FORMULA_PREFIXES) else value


def csv_bytes(header: Sequence[str], rows: Iterable[Sequence[str]]) -> bytes:
    """A CSV file (UTF-8, ``\\n`` line ends) of already formatted cells: the bytes of ``csv.writer``, which quotes
    a cell holding a comma, a quote or a line break (and a row of one empty cell). Cells that need no quoting, as
    numbers never do, are joined directly (the writer looks at every character of every cell)."""
    lines = [header, *rows]
    try:
        text = "\n".join([",".join(line) for line in lines])
    except TypeError:  # a cell that is not text: the writer says which
        text = None
    if (text is not None and all(len(line) > 1 for line in lines) and '"' not in text and "\r" not in text
            and text.count("\n") == len(lines) - 1 and text.count(",") == sum(len(line) - 1 for line in lines)):
        return (text + "\n").encode("utf-8")
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerows(lines)
    return buffer.getvalue().encode("utf-8")


def csv_cell(text: str) -> str:
    """A text cell as ``csv.writer`` writes it in a row of two cells or more: quoted when it holds a comma, a quote
    or a line break (the quotes doubled), as it is otherwise. A row of such cells, joined with commas, is the
    writer's line, without the writer (whose cost is a row's, when a single cell of a file needs quotes)."""
    if '"' in text or "\n" in text or "\r" in text:  # the writer's own rules for these (rare: text cells are names)
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\n").writerow([text, ""])
        return buffer.getvalue()[:-2]  # without the empty cell's comma and the line end
    return '"' + text + '"' if "," in text else text


def fixed(value: float, digits: int = 10) -> str:
    """A number with ``digits`` decimals and no negative zero, so files compare byte for byte."""
    text = f"{value:.{digits}f}"
    return "0." + "0" * digits if text.startswith("-") and float(text) == 0 else text


def fixed_column(values: Iterable[float], digits: int = 10) -> list[str]:
    """``fixed`` of each value, a whole column in one pass (the same text, without a call per value)."""
    column = tuple(values)
    if not column:
        return []
    form, negative_zero, zero = f"%.{digits}f\n", f"{-0.0:.{digits}f}", "0." + "0" * digits
    texts = ((form * len(column)) % column).split("\n")[:-1]  # one format call for the column
    if negative_zero in texts:
        texts = [zero if text == negative_zero else text for text in texts]
    return texts


def quantity_text(value: Decimal) -> str:
    """Shares as plain text without exponent or trailing zeros (``100``, ``12.5``)."""
    text = str(value)
    if text.isdigit() and len(text) <= 28:  # whole, no exponent, within the context's precision that ``normalize``
        return text  # rounds to: already its own text (most quantities), in a third of the time
    whole, point, decimals = text.partition(".")
    if point and whole.isdigit() and decimals.isdigit() and len(whole) + len(decimals) <= 28:  # 10.0, 12.50: the
        decimals = decimals.rstrip("0")  # same digits as the general path, in a third of its time
        return whole + "." + decimals if decimals else whole
    text = format(value.normalize(), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


_SHARE_CLASS = re.compile(r"([A-Z0-9]+)[./\- ]([A-Z])")


def canonical_symbol(text: str) -> str:
    """A symbol in one spelling: trimmed, upper case, and a share class written with a dot whichever separator a
    source used (``BRK/B``, ``BRK-B``, ``BRK B`` and ``brk.b`` are all ``BRK.B``)."""
    symbol = text.strip().upper()
    match = _SHARE_CLASS.fullmatch(symbol)
    return f"{match.group(1)}.{match.group(2)}" if match else symbol
