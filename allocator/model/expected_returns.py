"""Prior plus signal tilt -> annualized expected excess returns, with a per-asset attribution.

``mu = prior + alpha`` (``docs/method.md``, "Expected returns"), all annualized decimals:
- prior ``equilibrium``: ``pi = delta * Sigma @ b``, the return that makes the benchmark ``b`` optimal for a
  market with risk aversion ``delta`` (reverse optimization, as in Black-Litterman);
- prior ``historical``: the sample mean of daily returns times 252, less the risk-free rate, shrunk towards the
  cross-sectional grand mean by ``historical_shrinkage``;
- prior ``none``: zero;
- alpha (Grinold-Kahn, residual): ``alpha_i = IC * omega_i * s_i`` with ``s`` the composite score and ``omega_i``
  the annualized residual volatility of asset i against the benchmark, ``omega_i^2 = Sigma_ii - (Sigma b)_i^2 /
  (b' Sigma b)`` (``returns.alpha_risk: total`` uses the total volatility instead);
- made benchmark-neutral (``returns.benchmark_neutral``): ``alpha <- alpha - beta * (b' alpha)`` with
  ``beta = Sigma b / (b' Sigma b)``, so ``b' alpha = 0`` and the tilt adds no hidden benchmark exposure.
Signal k's part of alpha is ``IC * omega_i * c_k * m_k * z_ik / scale_ref``, neutralized the same way (the map is
linear), so the parts add up to alpha.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from allocator.config.schema import ALL_SIGNALS, AlphaRisk, PriorKind, ReturnsConfig, ReturnsMethod
from allocator.domain import FloatArray, ReturnModel, RiskModel, Scores, Universe
from allocator.model.daily_returns import DailyReturns, column_means
from allocator.model.risk_models import TRADING_DAYS


def equilibrium_returns(risk: RiskModel, benchmark_weight: FloatArray, market_risk_aversion: float) -> FloatArray:
    """``delta * Sigma @ b``, annualized."""
    return market_risk_aversion * risk.covariance_times(benchmark_weight)


def historical_returns(daily_returns: FloatArray | DailyReturns, risk_free_rate: float, shrinkage: float) -> FloatArray:
    """Annualized mean excess return, shrunk towards the grand mean by ``shrinkage`` (0 = sample mean)."""
    sample = column_means(daily_returns) * TRADING_DAYS - risk_free_rate
    result: FloatArray = (1.0 - shrinkage) * sample + shrinkage * sample.mean()
    return result


def benchmark_beta(risk: RiskModel, benchmark_weight: FloatArray) -> FloatArray | None:
    """``beta = Sigma b / (b' Sigma b)`` of every asset against the benchmark; None without a benchmark risk."""
    sigma_b = risk.covariance_times(benchmark_weight)
    variance = float(benchmark_weight @ sigma_b)
    if not variance > 1e-16:
        return None
    beta: FloatArray = sigma_b / variance
    return beta


def residual_volatility(risk: RiskModel, benchmark_weight: FloatArray) -> FloatArray:
    """Annualized volatility of each asset's return net of its beta times the benchmark's (total without one)."""
    beta = benchmark_beta(risk, benchmark_weight)
    total = risk.volatility
    if beta is None:
        return total
    benchmark_variance = float(benchmark_weight @ risk.covariance_times(benchmark_weight))
    residual: FloatArray = np.sqrt(np.maximum(total ** 2 - beta ** 2 * benchmark_variance, 0.0))
    return residual


def signal_contributions(scores: Scores, volatility: FloatArray, information_coefficient: float,
                         equity: np.ndarray) -> dict[str, FloatArray]:
    """Each signal's part of alpha before neutralization, annualized; they sum to ``IC * vol * composite``."""
    parts: dict[str, FloatArray] = {}
    for k in ALL_SIGNALS:
        if scores.composite_scale <= 0:
            parts[k] = np.zeros(len(volatility))
            continue
        z = scores.z[k]
        centered = np.where(equity, z - z[equity].mean(), 0.0) if equity.any() else np.zeros_like(z)
        weight = scores.signal_weights[k] * scores.multipliers[k] / scores.composite_scale
        parts[k] = information_coefficient * volatility * weight * centered
    return parts


def benchmark_neutral(alpha: FloatArray, beta: FloatArray | None, benchmark_weight: FloatArray) -> FloatArray:
    """``alpha - beta * (b' alpha)``: unchanged without a beta."""
    if beta is None:
        return alpha
    neutral: FloatArray = alpha - beta * float(benchmark_weight @ alpha)
    return neutral


def expected_returns(
    config: ReturnsConfig,
    risk: RiskModel,
    benchmark_weight: FloatArray,
    scores: Scores,
    daily_returns: FloatArray | DailyReturns,
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
    beta = benchmark_beta(risk, benchmark_weight)
    scale = residual_volatility(risk, benchmark_weight) if config.alpha_risk is AlphaRisk.RESIDUAL else (
        risk.volatility)
    if config.tilt:
        raw = signal_contributions(scores, scale, config.information_coefficient, equity)
        parts = {k: benchmark_neutral(v, beta, benchmark_weight) if config.benchmark_neutral else v
                 for k, v in raw.items()}
    else:
        parts = {k: np.zeros(len(prior)) for k in ALL_SIGNALS}
    mu = prior + sum(parts.values(), np.zeros(len(prior)))
    return ReturnModel(symbols=risk.symbols, prior=prior, contributions=parts, mu=mu, alpha_volatility=scale,
                       beta=beta)


def with_views(config: ReturnsConfig, returns: ReturnModel, risk: RiskModel, universe: Universe) -> ReturnModel:
    """``returns`` with the Black-Litterman posterior of ``prior + alpha`` given the regime's and the user's views
    (``returns.method: black_litterman``); unchanged with ``returns.method: tilt``."""
    if config.method is not ReturnsMethod.BLACK_LITTERMAN:
        return returns
    from allocator.model.views import blend_views, config_views, regime_views

    pi = returns.prior
    views = regime_views(config, universe, pi) + config_views(config, universe)
    mu, applied = blend_views(returns.mu, risk, views, config.tau)
    return replace(returns, mu=mu, view_adjustment=mu - returns.mu, views=applied)


def given_returns(mu: FloatArray, symbols: tuple[str, ...], source: str) -> ReturnModel:
    """Expected returns the user gave (annualized excess returns), used as given: held as the prior, with no
    signal tilt and no views, so the attribution still adds up (``mu = prior``)."""
    return ReturnModel(symbols=symbols, prior=mu, contributions={k: np.zeros(len(mu)) for k in ALL_SIGNALS}, mu=mu,
                       source=source)
