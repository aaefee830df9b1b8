"""The ``risk`` config section -> the risk model, in the formulation the optimizer should use.

Formulations (``risk.formulation``):
- ``factor``: ``Sigma = B F B' + diag(d)`` with ``y = B'w`` in the problem. PCA and fundamental models have a
  handful of factors, so the problem grows linearly with the assets and no n-by-n matrix is formed. Ledoit-Wolf,
  sample and EWMA are held exactly with one factor per daily return (T of them).
- ``dense``: the n-by-n matrix with its Cholesky factor as ``B`` (n "factors").
- ``auto`` (default): PCA and fundamental models in factor form; Ledoit-Wolf, sample and EWMA dense unless the
  assets number at least ``risk.factor_threshold`` (3) times the daily returns. That threshold is measured
  (``bench/formulations.py``, the benchmark problem): with 252 daily returns the exact factor form solves faster
  than the dense one from about 700 assets (2.8 T); with 756 the two take the same time (42 s) at 2,500 assets
  (3.3 T). Either is slow at that size; a factor model with a few factors takes a fraction of a second, so large
  universes should use ``risk.model: pca`` or ``fundamental``.
"""

from __future__ import annotations

import numpy as np

from allocator.config.schema import RiskConfig, RiskFormulation, RiskModelKind
from allocator.domain import FloatArray, RiskModel, Universe
from allocator.errors import ConfigError
from allocator.model.daily_returns import DailyReturns, as_matrix
from allocator.model.factor_models import fundamental_factor_model, statistical_factor_model
from allocator.model.risk_models import dense_form, ewma_covariance, ledoit_wolf_covariance, sample_covariance

FACTOR_MODELS = (RiskModelKind.PCA, RiskModelKind.FUNDAMENTAL)


def uses_factor_form(config: RiskConfig, assets: int, observations: int) -> bool:
    """Whether the optimizer should hold Sigma in factor form for this model and size."""
    if config.formulation is RiskFormulation.FACTOR:
        return True
    if config.formulation is RiskFormulation.DENSE:
        return False
    return config.model in FACTOR_MODELS or assets >= config.factor_threshold * observations


def estimate(config: RiskConfig, daily_returns: FloatArray | DailyReturns, symbols: tuple[str, ...],
             universe: Universe | None = None, market_cap: FloatArray | None = None,
             config_path: str = "config") -> RiskModel:
    """The configured model of ``daily_returns`` (T-by-n, simple daily returns), annualized. ``DailyReturns`` are
    held whole only by the estimators that need every return at once (all but PCA)."""
    t, n = daily_returns.shape
    factor_form = uses_factor_form(config, n, t)
    kind = config.model
    if kind is RiskModelKind.PCA:
        if not config.factors < min(t, n):
            raise ConfigError(f"{config_path}: risk.factors",
                              f"{config.factors} principal components for {n} assets and {t} daily returns",
                              f"use fewer than {min(t, n)}, or another risk.model for a small universe")
        model = statistical_factor_model(daily_returns, symbols, config.factors, config.ddof)
    elif kind is RiskModelKind.FUNDAMENTAL:
        if universe is None:
            raise ValueError("the fundamental risk model needs the universe's sectors")
        caps = market_cap if market_cap is not None else np.full(n, np.nan)
        model = fundamental_factor_model(as_matrix(daily_returns), symbols, universe.sector, caps, config.ddof)
    elif kind is RiskModelKind.SAMPLE:
        model = sample_covariance(as_matrix(daily_returns), symbols, factor_form, config.ddof)
    elif kind is RiskModelKind.EWMA:
        model = ewma_covariance(as_matrix(daily_returns), symbols, config.ewma_halflife_days, factor_form)
    else:
        model = ledoit_wolf_covariance(as_matrix(daily_returns), symbols, factor_form)
    return model if factor_form else dense_form(model)
