"""Covariance estimators at each size: scikit-learn's ``LedoitWolf`` against allocate's closed form.

allocate's Ledoit-Wolf takes the sums the shrinkage needs over the smaller Gram matrix instead of scikit-learn's
blockwise loop, and in factor form it forms no n-by-n matrix at all. The PCA factor model (the benchmark's risk
model) is timed beside them. Differences are against scikit-learn's covariance, annualized.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
from methods import FACTORS
from synthetic import synthetic_case

from allocator.model.factor_models import statistical_factor_model
from allocator.model.risk_models import TRADING_DAYS, ledoit_wolf_covariance


def _best(function: Any, repeat: int) -> tuple[float, Any]:
    best, value = float("inf"), None
    for _ in range(repeat):
        started = time.perf_counter()
        value = function()
        best = min(best, time.perf_counter() - started)
    return best, value


def estimators(assets: int) -> dict[str, Any]:
    from sklearn.covariance import LedoitWolf

    case = synthetic_case(assets)
    returns, symbols = case.returns, case.symbols
    repeat = 3 if assets <= 500 else 1
    sklearn_seconds, reference = _best(lambda: LedoitWolf().fit(returns), repeat)
    dense_seconds, dense = _best(lambda: ledoit_wolf_covariance(returns, symbols), repeat)
    factor_seconds, factor = _best(lambda: ledoit_wolf_covariance(returns, symbols, factor_form=True), repeat)
    pca_seconds, _ = _best(lambda: statistical_factor_model(returns, symbols, FACTORS), repeat)
    expected = reference.covariance_ * TRADING_DAYS
    return {
        "assets": assets, "days": returns.shape[0],
        "sklearn_seconds": sklearn_seconds, "dense_seconds": dense_seconds, "factor_seconds": factor_seconds,
        "pca_seconds": pca_seconds,
        "dense_max_difference": float(np.max(np.abs(dense.dense() - expected))),
        "factor_max_difference": float(np.max(np.abs(factor.dense() - expected))),
        "shrinkage_difference": abs(float(dense.shrinkage or 0.0) - float(reference.shrinkage_)),
        "factor_form_megabytes": (factor.loadings.nbytes + factor.factor_sqrt.nbytes) / 2**20,
        "dense_megabytes": assets * assets * 8 / 2**20,
    }
