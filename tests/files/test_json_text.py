"""``json_bytes`` writes exactly the bytes of the standard library's indented encoder on rounded data."""

from __future__ import annotations

import json
import math
from enum import IntEnum, StrEnum
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from allocator.files.json_text import float_texts, json_bytes, json_float_table, json_part, rounded


def reference(data: Any) -> bytes:
    """The definition ``json_bytes`` must match."""
    return (json.dumps(rounded(data), indent=2, sort_keys=False, ensure_ascii=False) + "\n").encode("utf-8")


class Side(StrEnum):
    BUY = "BUY"


class Level(IntEnum):
    HIGH = 3


scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True, allow_infinity=True),
                    st.floats(min_value=-1e-9, max_value=1e-9), st.text(), st.sampled_from(["é", "\u2028", "\"\\\n"]))


def distinct_key_texts(data: dict[Any, Any]) -> bool:
    """Keys JSON writes as different names (``None`` and ``"None"`` are one name in a file, two keys in a dict)."""
    return len({str(k) for k in data}) == len(data)


keys = st.one_of(st.text(), st.integers(), st.floats(allow_nan=False), st.booleans(), st.none())
values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=5),
                                                      st.lists(inner, max_size=5).map(tuple),
                                                      st.dictionaries(keys, inner, max_size=5).filter(
                                                          distinct_key_texts)), max_leaves=40)


@settings(max_examples=300)
@given(values)
def test_the_bytes_are_the_standard_library_s(data: Any) -> None:
    assert json_bytes(data) == reference(data)


def test_subclasses_numpy_floats_and_special_numbers_are_written_as_json_dumps_writes_them() -> None:
    data = {"side": Side.BUY, "level": Level.HIGH, "x": np.float64(0.1234567890123), "tiny": -1e-12,
            "small": 1.5e-05, "big": 1e22, "nan": math.nan, "inf": -math.inf, "nested": {"empty": {}, "list": [[]]},
            3: (1, 2.5), None: "é\u2028"}
    assert json_bytes(data) == reference(data)
    assert json_bytes(data).decode().splitlines()[4] == '  "tiny": 0.0,'


@pytest.mark.parametrize("value", [{1, 2}, np.int64(3), np.bool_(True), object()])
def test_a_value_json_cannot_hold_is_a_type_error(value: object) -> None:
    with pytest.raises(TypeError, match="is not JSON serializable"):
        json_bytes({"a": [value]})


@settings(max_examples=100)
@given(values, values)
def test_a_part_written_once_gives_the_bytes_of_the_value_in_its_place(part: Any, other: Any) -> None:
    from allocator.files.json_text import json_part

    data = {"a": other, "part": part, "nested": {"deeper": [part]}}
    placed = {"a": other, "part": json_part(part, 1), "nested": {"deeper": [json_part(part, 3)]}}
    assert json_bytes(placed) == json_bytes(data) == reference(data)


def test_a_part_placed_at_another_depth_is_refused() -> None:
    from allocator.files.json_text import json_part

    with pytest.raises(ValueError, match="depth 2 placed at depth 1"):
        json_bytes({"part": json_part({"x": 1.0}, 2)})


@settings(max_examples=50, deadline=None)
@given(st.lists(st.text(), unique=True, max_size=4), st.lists(st.text(), unique=True, max_size=4),
       st.data())
def test_a_float_table_gives_the_bytes_of_its_dict(rows: list[str], columns: list[str], data: st.DataObject) -> None:
    floats = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.floats(min_value=-1e-9, max_value=1e-9))
    values = [data.draw(st.lists(floats, min_size=len(columns), max_size=len(columns))) for _ in rows]
    table = {row: dict(zip(columns, row_values, strict=True)) for row, row_values in zip(rows, values, strict=True)}
    for depth in (1, 2):
        assert json_float_table(rows, columns, values, depth).text == json_part(table, depth).text


def test_a_float_table_with_keys_holding_percent_signs_and_zeros() -> None:
    rows, columns = ["A%s", "B"], ["x%d", "%", "z"]
    values = [[-0.0, 1e-11, math.nan], [math.inf, -math.inf, 0.1 + 0.2]]
    table = {row: dict(zip(columns, row_values, strict=True)) for row, row_values in zip(rows, values, strict=True)}
    assert json_float_table(rows, columns, values, 1).text == json_part(table, 1).text
    with pytest.raises(ValueError, match="5 values for a table of 2 rows and 3 columns"):
        json_float_table(rows, columns, [[1.0, 2.0, 3.0], [4.0, 5.0]], 1)


def float_text_reference(value: float) -> str:
    """A float as ``json.dumps`` writes it rounded to 10 decimals."""
    return json.dumps(rounded(value))


EDGES = [0.0, -0.0, 1e-4, -1e-4, 1e-5, 9.99999999995e-05, 9.99999999994e-05, 5e-11, -5e-11, 4.9999999e-11, 1.5e-10,
         -1e-10, 0.00012, 0.5, 5.0, 100.0, 0.1 + 0.2, 1 / 3, 99999.99999999999, 99999.9999999999, 100000.0, 123456.78,
         123456.1234567891, 999999.9999999999, 9999999999.99999, 1e15, 1e16, 1e17, 1e22, 1e300, -1e300, 5e-324,
         1.7976931348623157e308, math.nan, math.inf, -math.inf]


def test_floats_written_together_are_the_standard_library_s_rounded_floats() -> None:
    """``float_texts`` trims ``%.10f`` text instead of ``repr(round(x, 10))``: the same text, from the edges of the
    shortcut (1e-4, 15 digits, zeros, non-finite) to floats of every magnitude and random bits."""
    rng = np.random.default_rng(7)
    magnitudes = (rng.uniform(-10, 10, 3000) * 10.0 ** rng.integers(-14, 25, 3000)).tolist()
    rounded_magnitudes = [round(x, int(d)) for x, d in zip(magnitudes, rng.integers(0, 12, 3000), strict=True)]
    bits = rng.integers(0, 2**63, 3000, dtype=np.uint64).view(np.float64).tolist()
    values = EDGES + magnitudes + rounded_magnitudes + bits + [-x for x in bits]
    assert float_texts(values) == [float_text_reference(x) for x in values]
    for start in range(0, len(values), 7):  # blocks with and without the values written one by one
        assert float_texts(values[start:start + 7]) == [float_text_reference(x) for x in values[start:start + 7]]
