"""The objectives the optimizer can seek, every one under the same limits (docs/method.md, "Objectives").

With ``mu`` the expected excess returns over cash (annualized), ``Sigma`` the covariance (annualized), ``b`` the
benchmark, ``gamma`` the risk aversion (``risk.risk_aversion``) and ``cost`` the one-time trading cost
(``kappa'|w - w0|``, fractions of NAV) spread over the horizon ``H`` (``trading.horizon_years``):

- ``utility``: maximize ``mu'w - (gamma/2) w'Sigma w - cost / H``;
- ``min_variance``: minimize ``(gamma/2) w'Sigma w + cost / H``, the utility with ``mu = 0``;
- ``min_tracking_error``: minimize ``(gamma/2) (w - b)'Sigma (w - b) + cost / H``, the utility with
  ``mu = gamma Sigma b`` (the two differ by the constant ``(gamma/2) b'Sigma b``);
- ``max_sharpe``: maximize ``(mu'w - cost / H) / sqrt(w'Sigma w)``; cash earns the risk-free rate, so its excess
  return is 0. Solved as the homogenized problem of Cornuejols and Tutuncu (``problem.CompiledProblem`` with
  ``homogeneous``): with ``y = k w`` and ``k >= 0``, minimize ``y'Sigma y`` subject to ``mu'y - cost(y, k) = 1``
  and every limit multiplied through by ``k`` (a bound ``w <= u`` becomes ``y <= k u``, the tracking error
  ``||Sigma^(1/2)(w - b)|| <= te`` becomes ``||Sigma^(1/2)(y - k b)|| <= k te``, the turnover and the costs
  ``|w - w0|`` become ``|y - k w0|``); all are homogeneous of degree one, so the optimum is exact and
  ``w = y / k``. Market impact (``|w - w0|^1.5``) is not, and is refused with this objective.

In the first three only the expected returns change, so they share the utility problem, its diagnosis and
``--relax``; the weights in min_variance and min_tracking_error do not depend on ``gamma`` unless there are costs.
"""

from __future__ import annotations

import numpy as np

from allocator.config.schema import Objective
from allocator.domain import FloatArray, RiskModel
from allocator.optimize.constraints import Limits, impact_cost


def utility_returns(objective: Objective, mu: FloatArray, risk: RiskModel, benchmark: FloatArray,
                    gamma: float) -> FloatArray:
    """The expected returns (annualized) under which maximizing the utility solves ``objective`` (any objective
    but max_sharpe, which has its own problem)."""
    if objective is Objective.UTILITY:
        return mu
    if objective is Objective.MIN_VARIANCE:
        return np.zeros_like(mu)
    if objective is Objective.MIN_TRACKING_ERROR:
        return gamma * risk.covariance_times(benchmark)
    raise ValueError(f"{objective.value} is not a utility objective")


def trading_cost(limits: Limits, weight: FloatArray) -> float:
    """The one-time cost of trading from the current weights to ``weight``, spread over the horizon (annualized,
    fraction of NAV): ``(kappa'|w - w0| + impact) / H``."""
    cost = float(limits.cost @ np.abs(weight - limits.current) + impact_cost(limits, weight).sum())
    return cost / limits.horizon


def objective_value(objective: Objective, mu: FloatArray, risk: RiskModel, limits: Limits, weight: FloatArray,
                    gamma: float) -> float:
    """The value of ``objective`` at ``weight``, recomputed with numpy, in its own terms: the utility (annualized,
    fraction of NAV, maximized), ``(gamma/2)`` times the variance or squared tracking error plus the cost
    (minimized), or the Sharpe ratio net of the cost (maximized)."""
    cost = trading_cost(limits, weight)
    if objective is Objective.UTILITY:
        return float(mu @ weight - 0.5 * gamma * risk.variance(weight) - cost)
    if objective is Objective.MIN_VARIANCE:
        return 0.5 * gamma * risk.variance(weight) + cost
    if objective is Objective.MIN_TRACKING_ERROR:
        return 0.5 * gamma * risk.variance(weight - limits.benchmark) + cost
    volatility = float(np.sqrt(max(risk.variance(weight), 0.0)))
    return float(mu @ weight - cost) / volatility if volatility > 0 else 0.0
