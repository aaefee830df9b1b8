"""Prior plus signal tilt -> annualized expected excess returns, with a per-asset attribution.

``mu = prior + alpha``, all annualized decimals:
- prior ``equilibrium``: ``pi = delta * Sigma @ b``, the return that makes the benchmark ``b`` optimal for a
  market with risk aversion ``delta`` (reverse optimization, as in Black-Litterman);
- prior ``historical``: the sample mean of daily returns times 252, less the risk-free rate, shrunk towards the
  cross-sectional grand mean by ``historical_shrinkage``;
- prior ``none``: zero;
- alpha (Grinold-Kahn): ``alpha_i = IC * vol_i * s_i`` with ``s`` the composite score and ``vol_i`` the annualized
  volatility; its part from signal k is ``IC * vol_i * c_k * m_k * z_ik / scale``, so the parts add up to alpha.
"""

from __future__ import annotations

import numpy as np

from allocator.config.schema import SIGNALS, PriorKind, ReturnsConfig
from allocator.domain import FloatArray, ReturnModel, RiskModel, Scores
from allocator.model.risk_models import TRADING_DAYS


def equilibrium_returns(risk: RiskModel, benchmark_weight: FloatArray, market_risk_aversion: float) -> FloatArray:
    """``delta * Sigma @ b``, annualized."""
    return market_risk_aversion * risk.covariance_times(benchmark_weight)


def historical_returns(daily_returns: FloatArray, risk_free_rate: float, shrinkage: float) -> FloatArray:
    """Annualized mean excess return, shrunk towards the grand mean by ``shrinkage`` (0 = sample mean)."""
    sample = daily_returns.mean(axis=0) * TRADING_DAYS - risk_free_rate
    result: FloatArray = (1.0 - shrinkage) * sample + shrinkage * sample.mean()
    return result


def signal_contributions(scores: Scores, volatility: FloatArray, information_coefficient: float,
                         equity: np.ndarray) -> dict[str, FloatArray]:
    """Each signal's part of alpha, annualized; they sum to ``IC * vol * composite``."""
    parts: dict[str, FloatArray] = {}
    for k in SIGNALS:
        if scores.composite_scale <= 0:
            parts[k] = np.zeros(len(volatility))
            continue
        z = scores.z[k]
        centered = np.where(equity, z - z[equity].mean(), 0.0) if equity.any() else np.zeros_like(z)
        weight = scores.signal_weights[k] * scores.multipliers[k] / scores.composite_scale
        parts[k] = information_coefficient * volatility * weight * centered
    return parts


def expected_returns(
    config: ReturnsConfig,
    risk: RiskModel,
    benchmark_weight: FloatArray,
    scores: Scores,
    daily_returns: FloatArray,
    asset_class: tuple[str, ...],
) -> ReturnModel:
    """The prior, each signal's contribution and the final ``mu`` of every asset (annualized)."""
    if config.prior is PriorKind.EQUILIBRIUM:
        prior = equilibrium_returns(risk, benchmark_weight, config.market_risk_aversion)
    elif config.prior is PriorKind.HISTORICAL:
        prior = historical_returns(daily_returns, config.risk_free_rate, config.historical_shrinkage)
    else:
        prior = np.zeros(len(benchmark_weight))
    equity = np.array([c == "equity" for c in asset_class])
    if config.tilt:
        parts = signal_contributions(scores, risk.volatility, config.information_coefficient, equity)
    else:
        parts = {k: np.zeros(len(prior)) for k in SIGNALS}
    mu = prior + sum(parts.values(), np.zeros(len(prior)))
    return ReturnModel(symbols=risk.symbols, prior=prior, contributions=parts, mu=mu)
