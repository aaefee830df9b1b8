"""Model: prices and fundamentals -> signal scores, expected returns, the risk model and the RSI trim limits.

- ``signals``: ``signal_scores`` -> ``Scores`` (cross-sectional z-scores within peer groups, the macro regime's
  multipliers applied);
- ``expected_returns``: ``expected_returns`` -> ``ReturnModel`` (prior plus signal tilt, annualized excess
  returns as decimals, with a per-asset attribution); ``black_litterman`` blends a prior with views;
- ``risk_estimation``: ``estimate`` -> ``RiskModel`` (annualized covariance held as ``B F B' + diag(d)``, in the
  formulation the optimizer should use), from the estimators of ``risk_models`` and ``factor_models``;
- ``rsi``: ``wilder_rsi`` (RSI on 0-100) and ``rsi_limits`` -> ``RsiLimits`` (trim and no-add bounds as
  fractions of NAV).

The names below load on first use (this package needs NumPy and pandas), so ``allocate --help`` stays instant.
The function ``expected_returns`` is not among them: its module has its name, and once imported the module would
stand in its place here. Import it from ``allocator.model.expected_returns``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from allocator.lazy import lazy_attributes

if TYPE_CHECKING:
    from allocator.model.risk_estimation import estimate
    from allocator.model.rsi import RsiLimits, rsi_limits, wilder_rsi
    from allocator.model.signals import signal_scores

MODULES = {"estimate": "risk_estimation", "RsiLimits": "rsi",
           "rsi_limits": "rsi", "wilder_rsi": "rsi", "signal_scores": "signals"}
__all__ = ["RsiLimits", "estimate", "rsi_limits", "signal_scores", "wilder_rsi"]


__getattr__ = lazy_attributes(__name__, MODULES)
