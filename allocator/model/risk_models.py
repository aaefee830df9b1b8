"""Daily returns -> annualized covariance, held as ``Sigma = B F B' + diag(d)``.

Conventions: inputs are simple daily returns (rows = days, columns = assets); outputs are annualized with 252
trading days a year. The dense estimators keep a square root of Sigma as ``B`` (with ``F = I``, ``d = 0``) so
the optimizer has one formulation for every model.

- ``ledoit_wolf_covariance``: Ledoit and Wolf (2004) shrinkage towards a scaled identity, the closed form that
  scikit-learn's ``LedoitWolf`` computes (same result to 1e-10), without its blockwise loop: the sums it needs
  are taken over the smaller of the n-by-n and T-by-T Gram matrices.
- ``sample_covariance``: the sample covariance, dividing by ``T - ddof``: ``ddof=1`` (the default) is the unbiased
  estimate of pandas' ``DataFrame.cov`` and PyPortfolioOpt's ``sample_cov``, ``ddof=0`` the maximum-likelihood one
  of scikit-learn's ``EmpiricalCovariance``. Ledoit-Wolf keeps the maximum-likelihood covariance its closed form is
  derived on (as scikit-learn and PyPortfolioOpt's ``CovarianceShrinkage`` do), EWMA its weights summing to 1.
- ``ewma_covariance``: exponentially weighted, with a half-life in trading days.

Each of these is a weighted sum of the T observations' outer products (plus, for Ledoit-Wolf, a multiple of the
identity), so with ``factor_form=True`` it is returned exactly as a T-factor model: the loadings are the (weighted,
centered) observations themselves, ``F = I`` and ``d`` the shrinkage target, and no n-by-n matrix is formed. That
form is smaller than the dense one when there are more assets than observations; the factor models of
``allocator.model.factor_models`` (PCA, fundamental) have a handful of factors at any size. ``dense_form`` turns any
model into the dense one (for the dense formulation, and to check one formulation against the other).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from allocator.domain import FloatArray, RiskModel

TRADING_DAYS = 252


def centered_returns(returns: FloatArray) -> FloatArray:
    if returns.ndim != 2 or returns.shape[0] < 2:
        raise ValueError("returns must be a 2-D array with at least two rows")
    centered: FloatArray = returns - returns.mean(axis=0)
    return centered


def ledoit_wolf_shrinkage(centered: FloatArray) -> float:
    """Optimal shrinkage intensity (between 0 and 1) for centered daily returns ``centered`` (T-by-n)."""
    t, n = centered.shape
    squared = centered**2
    emp_cov_trace = squared.sum(axis=0) / t
    mu = emp_cov_trace.sum() / n
    beta_ = float(np.sum(squared.sum(axis=1) ** 2))  # = sum of (X^2)' X^2
    gram = centered @ centered.T if t < n else centered.T @ centered
    delta_ = float(np.sum(gram**2)) / t**2  # ||X'X||_F^2 = ||XX'||_F^2
    beta = (beta_ / t - delta_) / (n * t)
    delta = (delta_ - 2.0 * mu * emp_cov_trace.sum() + n * mu**2) / n
    beta = min(beta, delta)
    return 0.0 if beta == 0 else float(beta / delta)


def square_root(covariance: FloatArray) -> FloatArray:
    """A matrix ``B`` with ``B @ B.T == covariance``: Cholesky, or clipped eigenvalues when not definite."""
    try:
        return np.asarray(np.linalg.cholesky(covariance), dtype=np.float64)
    except np.linalg.LinAlgError:
        values, vectors = np.linalg.eigh(covariance)
        clipped: FloatArray = vectors * np.sqrt(np.clip(values, 0.0, None))
        return clipped


def _dense(symbols: tuple[str, ...], covariance: FloatArray, method: str, observations: int,
           shrinkage: float | None = None) -> RiskModel:
    covariance = (covariance + covariance.T) / 2.0
    n = covariance.shape[0]
    return RiskModel(
        symbols=symbols,
        loadings=square_root(covariance),
        factor_sqrt=np.eye(n),
        specific_variance=np.zeros(n),
        covariance=covariance,
        method=method,
        shrinkage=shrinkage,
        observations=observations,
    )


def _observation_factors(symbols: tuple[str, ...], weighted: FloatArray, specific: float, method: str,
                         shrinkage: float | None = None) -> RiskModel:
    """``Sigma = 252 * (weighted' weighted) + specific * I`` as a factor model with one factor per observation.

    ``weighted`` is T-by-n (each centered observation times the square root of its weight); the loadings are its
    transpose scaled to annual units, ``F = I``. Nothing n-by-n is formed.
    """
    t, n = weighted.shape
    return RiskModel(
        symbols=symbols,
        loadings=np.ascontiguousarray(weighted.T) * np.sqrt(TRADING_DAYS),
        factor_sqrt=np.eye(t),
        specific_variance=np.full(n, specific * TRADING_DAYS),
        covariance=None,
        method=method,
        shrinkage=shrinkage,
        observations=t,
    )


def ledoit_wolf_covariance(returns: FloatArray, symbols: tuple[str, ...], factor_form: bool = False) -> RiskModel:
    """Ledoit-Wolf shrunk covariance of daily ``returns``, annualized.

    ``Sigma = (1 - s) X'X / T + s * m * I`` with ``X`` the centered returns, ``s`` the shrinkage and ``m`` the
    average sample variance; ``factor_form`` returns exactly that as a T-factor model (no n-by-n matrix).
    """
    centered = centered_returns(returns)
    t, n = centered.shape
    shrinkage = ledoit_wolf_shrinkage(centered)
    target = float(np.einsum("ij,ij->", centered, centered)) / (t * n)
    if factor_form:
        return _observation_factors(symbols, centered * np.sqrt((1.0 - shrinkage) / t), shrinkage * target,
                                    "ledoit_wolf", shrinkage)
    empirical: FloatArray = centered.T @ centered / t
    shrunk: FloatArray = (1.0 - shrinkage) * empirical
    shrunk.flat[:: n + 1] += shrinkage * target
    return _dense(symbols, shrunk * TRADING_DAYS, "ledoit_wolf", t, shrinkage)


def sample_covariance(returns: FloatArray, symbols: tuple[str, ...], factor_form: bool = False,
                      ddof: int = 1) -> RiskModel:
    """Sample covariance of daily ``returns`` dividing by ``T - ddof``, annualized (a T-factor model with
    ``factor_form``)."""
    centered = centered_returns(returns)
    t = centered.shape[0]
    if factor_form:
        return _observation_factors(symbols, centered / np.sqrt(t - ddof), 0.0, "sample")
    return _dense(symbols, centered.T @ centered / (t - ddof) * TRADING_DAYS, "sample", t)


def ewma_covariance(returns: FloatArray, symbols: tuple[str, ...], halflife_days: float,
                    factor_form: bool = False) -> RiskModel:
    """Exponentially weighted covariance (weights halve every ``halflife_days`` rows back), annualized (a T-factor
    model with ``factor_form``)."""
    t = returns.shape[0]
    decay = 0.5 ** (1.0 / halflife_days)
    weights = decay ** np.arange(t - 1, -1, -1, dtype=np.float64)
    weights /= weights.sum()
    mean = weights @ returns
    centered = returns - mean
    if factor_form:
        return _observation_factors(symbols, centered * np.sqrt(weights)[:, None], 0.0, "ewma")
    covariance = (centered * weights[:, None]).T @ centered
    return _dense(symbols, covariance * TRADING_DAYS, "ewma", t)


def dense_form(risk: RiskModel) -> RiskModel:
    """The same covariance held densely, with a Cholesky factor as ``B`` (the dense formulation)."""
    if risk.covariance is not None:
        return risk
    return replace(_dense(risk.symbols, risk.dense(), risk.method, risk.observations, risk.shrinkage),
                   source=risk.source)


def given_covariance(symbols: tuple[str, ...], covariance: FloatArray, source: str) -> RiskModel:
    """A covariance the user gave (annualized, symmetric, PSD), held densely; ``source`` names where it came from."""
    return replace(_dense(symbols, covariance, "covariance_file", 0), source=source)
