"""riskfolio-lib behind one door: hierarchical risk parity, equal risk contribution, CVaR and CDaR.

riskfolio-lib takes over 3 s to import, prints its warnings and returns ``None`` when an optimization fails. This
module is the only one that imports it, on first use (``allocate --help`` and ``allocate run`` never load it), and
turns each failure into a typed error: ``None`` or non-finite weights raise ``SolverError`` with what riskfolio
printed or warned. Returns are daily simple returns (decimals), one column an asset.

riskfolio is handed frames labelled by position (0 to n-1), float64 and backed by the caller's array, and the
weights are mapped back to the symbols by position: its hierarchical risk parity selects sub-frames by label
thousands of times a date (``_recursive_bisection``, ``_naive_risk``), and with pandas' Arrow-backed string labels
each selection builds string indexes, a third of HRP's time. The numbers riskfolio computes are the same.
"""

from __future__ import annotations

import contextlib
import io
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from allocator.domain import FloatArray
from allocator.errors import SolverError

CONFIDENCE = 0.05  # the tail of CVaR 95% and CDaR 95%


def _quietly(call: Callable[[], Any], what: str) -> Any:
    """``call()`` with riskfolio's printing and warnings captured; ``SolverError`` naming ``what`` and the captured
    text when it raises or returns None."""
    printed = io.StringIO()
    with warnings.catch_warnings(record=True) as caught, contextlib.redirect_stdout(printed):
        warnings.simplefilter("always")
        try:
            result = call()
        except Exception as exc:  # riskfolio raises plain exceptions of many kinds
            raise SolverError("riskfolio-lib", f"{what} failed ({type(exc).__name__}: {exc})",
                              "check the window's returns (constant or too few?)") from None
    said = "; ".join([*(line.strip() for line in printed.getvalue().splitlines() if line.strip()),
                      *(str(w.message) for w in caught)])[:300]
    if result is None:
        raise SolverError("riskfolio-lib", f"{what} returned no solution" + (f" ({said})" if said else ""),
                          "check the window's returns, or leave this strategy out of backtest.strategies")
    return result


def _returns_frame(daily_returns: FloatArray) -> pd.DataFrame:
    """``daily_returns`` as riskfolio's returns frame: float64, columns labelled 0 to n-1."""
    return pd.DataFrame(np.asarray(daily_returns, dtype=np.float64))


def _weights(frame: Any, count: int, what: str) -> FloatArray:
    """riskfolio's weights frame (one column, rows labelled 0 to ``count`` - 1) as weights summing to 1."""
    values = np.asarray(pd.DataFrame(frame).reindex(range(count)).iloc[:, 0], dtype=np.float64)
    if not np.all(np.isfinite(values)) or values.sum() <= 0:
        raise SolverError("riskfolio-lib", f"{what} gave weights that are not finite and positive",
                          "check the window's returns")
    cleaned: FloatArray = np.where(np.abs(values) < 1e-12, 0.0, values)
    normalized: FloatArray = cleaned / cleaned.sum()  # over the sum once round-off is zeroed: they sum to 1
    return normalized


def hrp_weights(daily_returns: FloatArray, symbols: tuple[str, ...]) -> FloatArray:
    """Hierarchical risk parity (``HCPortfolio``, model HRP, Pearson codependence, variance, single linkage) on
    ``daily_returns`` (rows are days, one column for each of ``symbols``): weights summing to 1, in the order of
    ``symbols``."""
    import riskfolio as rp

    portfolio = rp.HCPortfolio(returns=_returns_frame(daily_returns))
    frame = _quietly(lambda: portfolio.optimization(model="HRP", codependence="pearson", rm="MV", rf=0,
                                                    linkage="single", leaf_order=True), "HRP")
    return _weights(frame, len(symbols), "HRP")


def erc_weights(daily_returns: FloatArray, symbols: tuple[str, ...]) -> FloatArray:
    """Equal risk contribution (``Portfolio.rp_optimization``, variance, sample covariance, riskfolio's solvers
    with Clarabel first) on ``daily_returns`` (one column for each of ``symbols``): weights summing to 1, in the
    order of ``symbols``."""
    import riskfolio as rp

    portfolio = rp.Portfolio(returns=_returns_frame(daily_returns))
    portfolio.assets_stats(method_mu="hist", method_cov="hist")
    frame = _quietly(lambda: portfolio.rp_optimization(model="Classic", rm="MV", rf=0, b=None, hist=True), "ERC")
    return _weights(frame, len(symbols), "ERC")


def cvar(daily_returns: FloatArray, alpha: float = CONFIDENCE) -> float:
    """Conditional value at risk at ``1 - alpha`` of daily returns (a positive loss, fraction; riskfolio-lib's
    ``CVaR_Hist``): the mean of the worst ``alpha`` share of days."""
    import riskfolio as rp

    return float(_quietly(lambda: rp.RiskFunctions.CVaR_Hist(np.asarray(daily_returns), alpha), "CVaR"))


def cdar(daily_returns: FloatArray, alpha: float = CONFIDENCE) -> float:
    """Conditional drawdown at risk at ``1 - alpha`` of the compounded value (a positive fraction; riskfolio-lib's
    ``CDaR_Rel``): the mean of the worst ``alpha`` share of daily drawdowns."""
    import riskfolio as rp

    return float(_quietly(lambda: rp.RiskFunctions.CDaR_Rel(np.asarray(daily_returns), alpha), "CDaR"))
