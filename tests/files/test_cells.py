"""Numbers written as text: a column formatted at once is the same text as each value formatted alone."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from allocator.files.cells import csv_bytes, csv_cell, fixed, fixed_column, parse_number, quantity_text


@pytest.mark.parametrize("digits", [10, 4, 0])
def test_a_column_is_formatted_as_each_value_alone(digits: int) -> None:
    rng = np.random.default_rng(42)
    values = [*(rng.standard_normal(20_000) * 10.0 ** rng.integers(-14, 14, 20_000)).tolist(),
              -0.0, 0.0, -4e-11, -5e-11, -6e-11, -0.4, float("nan"), float("inf"), -float("inf"), 1e300]
    assert fixed_column(values, digits) == [fixed(v, digits) for v in values]


def test_no_negative_zero_is_written() -> None:
    assert fixed_column([-1e-12, -0.0, -0.00004], 4) == ["0.0000", "0.0000", "0.0000"]
    assert fixed_column([-0.00005, -0.00006], 4) == [fixed(-0.00005, 4), "-0.0001"]
    assert fixed_column([]) == []


@given(st.from_regex(r"[0-9]{1,17}(\.[0-9]{0,12})?", fullmatch=True))
def test_a_plain_number_reads_as_the_same_number_padded(text: str) -> None:
    """A plain cell (read directly) gives the value, and the same ``Decimal`` (digits and exponent), as the same
    cell with spaces around it (read by every step)."""
    try:
        padded: Decimal | str | None = parse_number(f" {text} ")
    except ValueError as exc:
        padded = str(exc).replace(repr(f" {text} "), repr(text))
    try:
        plain: Decimal | str | None = parse_number(text)
    except ValueError as exc:
        plain = str(exc)
    assert str(plain) == str(padded)


def writer_bytes(header: list[str], rows: list[list[str]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


cell_text = st.one_of(st.text(max_size=6), st.sampled_from(["", ",", '"', "\n", "\r", " a ", "\u2028", "0.1", "a, b",
                                                            '"a", b', "a\r\nb,"]))


@given(st.lists(cell_text, min_size=0, max_size=4), st.lists(st.lists(cell_text, max_size=4), max_size=5))
def test_csv_bytes_are_the_csv_writer_s(header: list[str], rows: list[list[str]]) -> None:
    assert csv_bytes(header, rows) == writer_bytes(header, rows)
    assert csv_bytes(header, iter(rows)) == writer_bytes(header, rows)


@given(st.lists(cell_text, min_size=2, max_size=4))
def test_a_row_of_csv_cells_is_the_csv_writer_s_line(row: list[str]) -> None:
    assert ",".join(map(csv_cell, row)) + "\n" == writer_bytes(row, []).decode()


def test_csv_bytes_of_plain_numbers_and_of_cells_that_are_not_text() -> None:
    header, rows = ["a", "b"], [["1.5", "2"], ["-0.0000000001", "x y"]]
    assert csv_bytes(header, rows) == b"a,b\n1.5,2\n-0.0000000001,x y\n"
    assert csv_bytes(header, [[1, None]]) == writer_bytes(header, [[1, None]])  # type: ignore[list-item]


def normal_text(value: Decimal) -> str:
    """``quantity_text`` by its general path, which whole numbers and plain decimals skip."""
    normal = format(value.normalize(), "f")
    return normal.rstrip("0").rstrip(".") if "." in normal else normal


@given(st.decimals(allow_nan=False, allow_infinity=False) | st.integers(0, 10**40).map(Decimal)
       | st.decimals(min_value=0, max_value=10**30, places=3))
def test_quantity_text_is_that_of_the_normal_form(value: Decimal) -> None:
    assert quantity_text(value) == normal_text(value)


@pytest.mark.parametrize("text", ["10.0", "0.0", "0.50", "12.500", "100.000", "0.0001000", "1" * 27 + ".0",
                                  "1" * 28 + ".0", "1" * 20 + "." + "1" * 9, "9" * 20 + "." + "9" * 9, "-1.50",
                                  "1E+2", "1.0E+2", "1E-7", "0E-3"])
def test_quantity_text_of_decimals_with_trailing_zeros_and_of_the_longest(text: str) -> None:
    assert quantity_text(Decimal(text)) == normal_text(Decimal(text))
