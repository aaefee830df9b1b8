"""The library call: what prepare reports about its inputs."""

from __future__ import annotations

import pytest

from allocator.pipeline import prepare
from tests.conftest import BASE_CONFIG, EXAMPLE_HOLDINGS, ROOT


def test_an_as_of_date_after_the_last_close_is_a_warning_not_a_silent_stale_run() -> None:
    prepared = prepare(EXAMPLE_HOLDINGS, BASE_CONFIG, as_of="2030-01-02")
    assert str(prepared.window.as_of.date()) == "2026-01-16"
    assert ("the prices end on 2026-01-16, before the as-of date 2030-01-02; the run uses the closes of 2026-01-16"
            in prepared.warnings)
    assert not any("as-of" in w for w in prepare(EXAMPLE_HOLDINGS, BASE_CONFIG, as_of="2026-01-16").warnings)


def test_inputs_are_recorded_by_absolute_path_with_their_digests(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    prepared = prepare("examples/holdings.csv", BASE_CONFIG)
    assert prepared.inputs["holdings"]["path"] == str(EXAMPLE_HOLDINGS)
    assert all(len(entry["sha256"]) == 64 for entry in prepared.inputs.values())
