"""The text of spreadsheet cells as brokers write it: money and quantity strings, tickers.

``parse_number`` reads ``$1,234.56``, ``1,000``, ``(12.50)`` (negative), ``-$5.00``, ``+1.2%`` and ``--`` (no
value). It refuses what would be silently misread: a thousands separator in the wrong place (``1,5`` is not 15),
``NaN`` and infinities, and magnitudes no account holds. ``is_ticker`` says whether a cell can be a symbol (letters,
digits and ``. - / ^`` or a space), so a disclaimer line or a spreadsheet formula is never taken for one.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

MISSING = frozenset({"", "--", "-", "n/a", "na", "none", "null"})
LARGEST = Decimal("1e15")  # no quantity, price or amount in an account is this large

_GROUPED = re.compile(r"\d{1,3}(,\d{3})+(\.\d*)?")
_PLAIN = re.compile(r"(\d+\.?\d*|\.\d+)(e[+-]?\d+)?", re.IGNORECASE)
_TICKER = re.compile(r"[A-Z0-9^][A-Z0-9.\-/^ ]{0,31}")


def parse_number(text: str) -> Decimal | None:
    """The number in a broker's cell, or None when the cell holds no value (empty, ``--``, ``N/A``).

    Raises ``ValueError`` (with the text quoted) for anything that is not a plain or grouped decimal number.
    """
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
