"""The riskfolio-lib adapter turns riskfolio's ways of failing into ``SolverError`` (exit 5) with what riskfolio
said: a ``None`` result (riskfolio prints a warning and returns None when its solver fails), an exception, and
weights that are not finite and positive. riskfolio's calls are replaced, so each failure happens for certain."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd
import pytest

from allocator.backtest import riskfolio_adapter
from allocator.errors import SolverError

rp = pytest.importorskip("riskfolio")

SYMBOLS = ("AAA", "BBB", "CCC")


def _returns() -> np.ndarray:
    return np.random.default_rng(42).normal(0.0004, 0.01, size=(120, len(SYMBOLS)))


def _printing_none(*_: Any, **__: Any) -> None:
    """What riskfolio does when its solver fails: print the reason, warn, return None."""
    print("The problem doesn't have a solution with actual input parameters")
    warnings.warn("Solution may be inaccurate. Try another solver", UserWarning, stacklevel=1)


@pytest.mark.parametrize(("target", "weights", "what"), [
    ((rp.HCPortfolio, "optimization"), riskfolio_adapter.hrp_weights, "HRP"),
    ((rp.Portfolio, "rp_optimization"), riskfolio_adapter.erc_weights, "ERC"),
])
def test_a_none_result_is_a_solver_error_with_what_riskfolio_printed_and_warned(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], target: tuple[type, str],
        weights: Any, what: str) -> None:
    monkeypatch.setattr(*target, _printing_none)
    with pytest.raises(SolverError) as raised:
        weights(_returns(), SYMBOLS)
    error = raised.value
    assert error.exit_code == 5
    assert error.where == "riskfolio-lib"
    assert error.what == (f"{what} returned no solution (The problem doesn't have a solution with actual input "
                          "parameters; Solution may be inaccurate. Try another solver)")
    assert "leave this strategy out of backtest.strategies" in error.fix
    assert capsys.readouterr().out == ""  # the print was captured, not shown


def test_a_silent_none_names_no_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rp.HCPortfolio, "optimization", lambda *_, **__: None)
    with pytest.raises(SolverError, match=r"^riskfolio-lib: HRP returned no solution; check"):
        riskfolio_adapter.hrp_weights(_returns(), SYMBOLS)


def test_an_exception_inside_riskfolio_is_a_solver_error_naming_it(monkeypatch: pytest.MonkeyPatch) -> None:
    def failing(*_: Any, **__: Any) -> None:
        raise ValueError("array must not contain infs or NaNs")

    monkeypatch.setattr(rp.RiskFunctions, "CVaR_Hist", failing)
    with pytest.raises(SolverError, match=r"CVaR failed \(ValueError: array must not contain infs or NaNs\)"):
        riskfolio_adapter.cvar(_returns()[:, 0])


@pytest.mark.parametrize("column", [[0.5, np.nan, 0.5], [0.0, 0.0, 0.0], [np.inf, 0.2, 0.3]])
def test_weights_not_finite_and_positive_are_a_solver_error(monkeypatch: pytest.MonkeyPatch,
                                                           column: list[float]) -> None:
    monkeypatch.setattr(rp.HCPortfolio, "optimization", lambda *_, **__: pd.DataFrame({"weights": column}))
    with pytest.raises(SolverError, match="HRP gave weights that are not finite and positive"):
        riskfolio_adapter.hrp_weights(_returns(), SYMBOLS)


def test_weights_come_back_in_the_symbols_order_and_sum_to_1(monkeypatch: pytest.MonkeyPatch) -> None:
    """Rows labelled by position in any order, unnormalized, a round-off negative: mapped back by position."""
    frame = pd.DataFrame({"weights": [3.0, 1.0, -1e-14]}, index=[2, 0, 1])
    monkeypatch.setattr(rp.Portfolio, "rp_optimization", lambda *_, **__: frame)
    weights = riskfolio_adapter.erc_weights(_returns(), SYMBOLS)
    np.testing.assert_array_equal(weights, [0.25, 0.0, 0.75])
