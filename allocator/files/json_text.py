"""JSON files that compare byte for byte: floats rounded to 10 decimals (no negative zero), keys in the order
given, two-space indent, UTF-8 with a final newline.

``json_bytes`` gives exactly the bytes of ``json.dumps(rounded(data), indent=2, ensure_ascii=False) + "\\n"``, in
one pass that rounds as it writes. The standard library encodes indented JSON with its pure-Python encoder (its C
encoder only writes compact JSON), which made ``summary.json`` and ``manifest.json`` the largest cost of an account
in ``allocate batch``; this writer is about twice as fast (the rounding pass, now folded in, cost as much as the
encoding) and is checked against the standard library's bytes
(``tests/files/test_json_text.py``). The floats of a file are written together at the end (``float_texts``: one
format call for all of them, rather than ``round`` and ``repr`` for each, which cost most of the writing).

``json_part`` writes a value once as ``JsonText`` for the place it will take in a file (its nesting depth); placed
in the data given to ``json_bytes`` it is copied as is. ``allocate batch`` writes the parts that are the same for
every account of a model (the resolved config, each asset's return attribution, the signal scores) once per model.
``json_float_table`` writes such a part when it is a table of floats (``{row: {column: value}}``: the attribution,
the scores) a row at a time instead of a value at a time.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import chain
from json.encoder import encode_basestring  # the C function when the accelerator is present
from typing import Any

DIGITS = 10
INDENT = "  "


def rounded(value: Any, digits: int = DIGITS) -> Any:
    """``value`` with every float rounded to ``digits`` decimals (``-0.0`` becomes ``0.0``); mappings get string
    keys and tuples become lists, as JSON writes them."""
    if isinstance(value, float):
        result = round(value, digits)
        return 0.0 if result == 0 else result
    if isinstance(value, dict):
        return {str(k): rounded(v, digits) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [rounded(v, digits) for v in value]
    return value


@dataclass(frozen=True)
class JsonText:
    """A value already written as JSON (``json_part``) for a place at ``depth`` levels of nesting."""

    text: str
    depth: int


def json_part(value: Any, depth: int) -> JsonText:
    """``value`` written as ``json_bytes`` writes it as an item of a dict or list nested ``depth`` levels deep
    (1: a value of the file's top-level dict)."""
    parts: list[Any] = []
    floats: list[int] = []
    _write(value, "\n" + INDENT * depth, parts, floats)
    return JsonText(_written(parts, floats), depth)


def json_float_table(rows: Sequence[str], columns: Sequence[str], values: Iterable[Sequence[float]], depth: int
                     ) -> JsonText:
    """``json_part({row: {column: value}}, depth)`` for a table of floats (``values``: one sequence per row, in the
    order of ``columns``), with the same bytes: a format per row instead of a call per value (a 3,000-asset
    attribution is 24,000 values)."""
    outer = "\n" + INDENT * depth
    inner = outer + INDENT
    if not rows:
        return JsonText("{}", depth)
    cells = ",".join(inner + INDENT + encode_basestring(c).replace("%", "%%") + ": %s" for c in columns)
    row_form = "{" + cells + inner + "}" if columns else "{}"
    texts = float_texts(chain.from_iterable(values))
    if len(texts) != len(rows) * len(columns):
        raise ValueError(f"{len(texts)} values for a table of {len(rows)} rows and {len(columns)} columns")
    width = len(columns)
    body = ",".join(inner + encode_basestring(row) + ": " + row_form % tuple(texts[i * width:(i + 1) * width])
                    for i, row in enumerate(rows))
    return JsonText("{" + body + outer + "}", depth)


def float_texts(values: Iterable[float]) -> list[str]:
    """``_float_text`` of each value (Python floats), in one pass.

    ``repr(round(value, 10))`` converts each float twice between binary and decimal (about 1 us a value). A float
    rounded to 10 decimals is the number ``"%.10f" % value`` writes (``round`` rounds through the same decimal
    digits), and when that number has at most 15 significant digits, the most a double always holds, no shorter
    text reads back as the same double: its ``repr`` is that text without trailing zeros. So the values are
    formatted in one call and their trailing zeros are cut from all of them at once; the few that ``repr``
    writes otherwise (below 1e-4 with an exponent, more than 15 digits, NaN and infinities) are written one by
    one (``_fixed_to_json``)."""
    column = tuple(values)
    if not column:
        return []
    block = (FIXED_LINE * len(column)) % column
    for zeros in ("00000000\n", "0000\n", "00\n", "0\n"):  # 10 decimals: each run of trailing zeros, cut once
        block = block.replace(zeros, "\n")
    block = block.replace(".\n", ".0\n").replace("-0.0\n", "0.0\n")  # a sign only starts a line: exact
    texts = block.split("\n")
    texts.pop()
    if "0.0000" in block or "n" in block or max(map(len, texts)) > MOST_DIGITS:
        texts = [_fixed_to_json(text) if text.startswith(SMALL) or text[-1] > "9" or len(text) > MOST_DIGITS + 1
                 else text for text in texts]
    return texts


FIXED_LINE = "%.10f\n"  # DIGITS decimals, a line each
MOST_DIGITS = 15  # significant decimal digits that any double holds (DBL_DIG)
SMALL = ("0.0000", "-0.0000")  # below 1e-4 (no zero after trimming): repr writes an exponent


def _fixed_to_json(text: str) -> str:
    """``_float_text`` of the float whose ``"%.10f"`` text (trailing zeros possibly cut) is ``text``."""
    if text[-1] > "9":
        return SPECIAL[text]
    whole, _, decimals = text.partition(".")
    decimals = decimals.rstrip("0")
    if whole not in ("0", "-0"):
        if len(whole.lstrip("-")) + len(decimals) > MOST_DIGITS:
            return float.__repr__(float(text))  # the float rounded to DIGITS decimals, as ``round`` gives it
        return whole + "." + (decimals or "0")
    significant = decimals.lstrip("0")
    zeros = len(decimals) - len(significant)
    if not significant:
        return "0.0"
    if zeros < 4:
        return whole + "." + decimals
    mantissa = significant[0] + "." + significant[1:] if len(significant) > 1 else significant
    return f"{whole[:-1]}{mantissa}e-{zeros + 1:02d}"  # as repr: 6.53393e-05, -1e-10


def json_bytes(data: Any) -> bytes:
    """``data`` as a JSON file's bytes (see the module docstring); ``TypeError`` for a value JSON cannot hold, as
    ``json.dumps``."""
    parts: list[Any] = []
    floats: list[int] = []
    _write(data, "\n", parts, floats)
    parts.append("\n")
    return _written(parts, floats).encode("utf-8")


SPECIAL = {"nan": "NaN", "inf": "Infinity", "-inf": "-Infinity"}  # as json.dumps writes them


def _float_text(value: float) -> str:
    """A float rounded to ``DIGITS`` decimals as ``json.dumps`` writes it."""
    number = round(value, DIGITS)
    if number == 0:
        return "0.0"
    text = float.__repr__(number)
    return SPECIAL[text] if text[-1] > "9" else text  # repr ends in a digit but for nan and inf


def _write(value: Any, newline: str, parts: list[Any], floats: list[int]) -> None:
    """Append the JSON text of ``value`` to ``parts``; ``newline`` is the line break and indent of its level.
    Text, most of the values with floats, is written inline rather than by a call of its own; a float is put in
    ``parts`` as it is, its index in ``floats``, for ``_written`` to write them all at once."""
    kind = type(value)
    if kind is dict:
        if not value:
            parts.append("{}")
            return
        inner = newline + INDENT
        separator = "{" + inner
        for key, item in value.items():
            parts.append(separator)
            parts.append(encode_basestring(key if type(key) is str else str(key)))
            kind = type(item)
            if kind is float:
                parts.append(": ")
                floats.append(len(parts))
                parts.append(item)
            elif kind is str:
                parts.append(": " + encode_basestring(item))
            else:
                parts.append(": ")
                _write(item, inner, parts, floats)
            separator = "," + inner
        parts.append(newline + "}")
    elif kind is list or kind is tuple:
        if not value:
            parts.append("[]")
            return
        inner = newline + INDENT
        separator = "[" + inner
        for item in value:
            parts.append(separator)
            kind = type(item)
            if kind is float:
                floats.append(len(parts))
                parts.append(item)
            elif kind is str:
                parts.append(encode_basestring(item))
            else:
                _write(item, inner, parts, floats)
            separator = "," + inner
        parts.append(newline + "]")
    elif isinstance(value, dict):  # a subclass: written as a plain dict, as json.dumps writes it
        _write(dict(value), newline, parts, floats)
    elif isinstance(value, list | tuple):
        _write(list(value), newline, parts, floats)
    else:
        parts.append(_scalar_text(value, newline))


def _written(parts: list[Any], floats: list[int]) -> str:
    """The text ``_write`` put in ``parts``, with the floats at the indexes ``floats`` written (``float_texts``)."""
    for index, text in zip(floats, float_texts([parts[i] for i in floats]), strict=True):
        parts[index] = text
    return "".join(parts)


def _scalar_text(value: Any, newline: str) -> str:
    """The text of a value that is not a plain dict, list, tuple, float or str: None, booleans, integers and
    subclasses (``StrEnum``, ``numpy.float64``, a dict subclass) as ``json.dumps`` writes them, and ``JsonText``
    as it was written (``ValueError`` at another depth than it was written for)."""
    if type(value) is JsonText:
        if len(newline) != 1 + len(INDENT) * value.depth:
            raise ValueError(f"JSON written for depth {value.depth} placed at depth {(len(newline) - 1) // 2}")
        return value.text
    if isinstance(value, str):
        return encode_basestring(value)
    if isinstance(value, float):
        return _float_text(value)
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return int.__repr__(value)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")
