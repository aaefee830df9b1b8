"""JSON files that compare byte for byte: floats rounded to 10 decimals (no negative zero), keys in the order
given, two-space indent, UTF-8 with a final newline."""

from __future__ import annotations

import json
from typing import Any


def rounded(value: Any, digits: int = 10) -> Any:
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


def json_bytes(data: Any) -> bytes:
    """``data`` as a JSON file's bytes (see the module docstring)."""
    return (json.dumps(rounded(data), indent=2, sort_keys=False, ensure_ascii=False) + "\n").encode("utf-8")
