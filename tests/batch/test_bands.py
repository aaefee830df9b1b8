"""Drift bands (``allocator.batch.bands``)."""

from __future__ import annotations

import numpy as np
import pytest

from allocator.batch.bands import BandMeasure, DriftBand, parse_band
from allocator.errors import DataError


def test_each_measure_against_a_hand_computed_drift() -> None:
    weight, target = np.array([0.30, 0.10, 0.05]), np.array([0.25, 0.20, 0.0])
    assert DriftBand(0.05).drift(weight, target) == pytest.approx(0.10)
    assert DriftBand(0.05, BandMeasure.RELATIVE).drift(weight, target) == pytest.approx(0.5)  # 0.10 / 0.20
    assert DriftBand(0.05, BandMeasure.TOTAL).drift(weight, target) == pytest.approx(0.20)
    assert DriftBand(0.10).holds(0.10) and not DriftBand(0.10).holds(0.1001)


@pytest.mark.parametrize(("text", "band"), [("0.03", DriftBand(0.03)), ("5%", DriftBand(0.05)),
                                            ("0.25 relative", DriftBand(0.25, BandMeasure.RELATIVE)),
                                            ("0.1 TOTAL", DriftBand(0.1, BandMeasure.TOTAL))])
def test_bands_are_read_as_written(text: str, band: DriftBand) -> None:
    assert parse_band(text, "band") == band


@pytest.mark.parametrize(("text", "message"), [("wide", "not a band width: 'wide'"),
                                               ("-0.1", "the band width must be a non-negative number"),
                                               ("0.1 sideways", "unknown band measure 'sideways'")])
def test_a_bad_band_names_where(text: str, message: str) -> None:
    with pytest.raises(DataError, match=f"accounts.csv: row 2: band: {message}"):
        parse_band(text, "accounts.csv: row 2: band")
