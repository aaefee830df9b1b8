"""The terminal's warnings: all of them when no file keeps them, else the first few and the file that has them all."""

from __future__ import annotations

import pytest

from allocator.cli import WARNINGS_SHOWN, echo_warnings


def _warnings(count: int) -> list[str]:
    return [f"split-like jump in S{i:03d} on 2026-01-0{1 + i % 9}" for i in range(count)]


def test_every_warning_is_printed_when_no_file_keeps_them(capsys: pytest.CaptureFixture[str]) -> None:
    echo_warnings(_warnings(WARNINGS_SHOWN + 5), None)
    err = capsys.readouterr().err.splitlines()
    assert err == [f"Warning: {w}" for w in _warnings(WARNINGS_SHOWN + 5)]


def test_beyond_the_limit_the_terminal_names_the_file(capsys: pytest.CaptureFixture[str]) -> None:
    echo_warnings(_warnings(WARNINGS_SHOWN + 5), "out/summary.json")
    err = capsys.readouterr().err.splitlines()
    assert err[:WARNINGS_SHOWN] == [f"Warning: {w}" for w in _warnings(WARNINGS_SHOWN)]
    assert err[WARNINGS_SHOWN:] == [f"Warning: 5 more warnings, all {WARNINGS_SHOWN + 5} in out/summary.json"]


def test_up_to_the_limit_nothing_is_cut(capsys: pytest.CaptureFixture[str]) -> None:
    echo_warnings(_warnings(WARNINGS_SHOWN), "out/summary.json")
    assert capsys.readouterr().err.splitlines() == [f"Warning: {w}" for w in _warnings(WARNINGS_SHOWN)]
