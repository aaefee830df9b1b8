"""Daily returns -> factor risk models ``Sigma = B F B' + diag(d)`` with a few factors, for large universes.

Conventions as in ``allocator.model.risk_models``: inputs are simple daily returns (rows = days, columns = assets),
outputs annualized with 252 trading days. Nothing n-by-n is formed: the cost is O(T n k) for k factors, T days.

Sample second moments divide by ``T - ddof`` (``ddof=1``, the default, as pandas; see ``risk_models``).

- ``statistical_factor_model`` (PCA): the k largest principal components of the sample covariance ``X'X / T``
  (``X`` the centered returns) are the factors, ``B = V_k sqrt(Lambda_k)`` and ``F = I``; each asset's remaining
  sample variance is its specific variance, so every asset keeps its sample volatility exactly. The components
  come from the smaller of the T-by-T and n-by-n Gram matrices.
- ``fundamental_factor_model``: exposures from the fundamentals, one column per sector (1 for its members) and
  one for size (the z-score of log market cap, 0 where the cap is missing); each day's factor returns are the
  least-squares cross-sectional regression of the assets' returns on the exposures, ``F`` their sample covariance
  and ``d`` the variance of each asset's residual.
"""

from __future__ import annotations

import numpy as np

from allocator.domain import FloatArray, RiskModel
from allocator.model.risk_models import TRADING_DAYS, centered_returns, square_root


def _top_eigenvectors(matrix: FloatArray, count: int) -> tuple[FloatArray, FloatArray]:
    """The ``count`` largest eigenvalues (descending) of a symmetric PSD matrix and their eigenvectors.

    Lanczos (ARPACK, deterministic start, to machine precision) when few are wanted, else LAPACK's subset solver.
    """
    from scipy.linalg import eigh

    size = matrix.shape[0]
    if count < size // 4:
        from scipy.sparse.linalg import ArpackError, eigsh

        try:
            values, vectors = eigsh(matrix, k=count, which="LA", v0=np.ones(size), tol=0.0)
        except ArpackError:  # pragma: no cover (no convergence: fall back to the dense solver)
            pass
        else:
            order = np.argsort(values)[::-1]
            return values[order], vectors[:, order]
    values, vectors = eigh(matrix, subset_by_index=[size - count, size - 1], driver="evr")
    return values[::-1], vectors[:, ::-1]


def principal_components(centered: FloatArray, factors: int, ddof: int = 1) -> FloatArray:
    """Loadings ``V_k sqrt(Lambda_k)`` (n-by-k, largest first) of the sample covariance ``X'X / (T - ddof)`` of
    ``centered`` (T-by-n).

    With T < n the eigenvectors come from the T-by-T Gram matrix ``X X' / (T - ddof)`` (same non-zero eigenvalues;
    the loadings are ``X' u / sqrt(T - ddof)``). Each column's sign is fixed so that its entries sum to a
    non-negative number.
    """
    t, n = centered.shape
    divisor = t - ddof
    if t < n:
        _, vectors = _top_eigenvectors(centered @ centered.T / divisor, factors)
        loadings: FloatArray = centered.T @ vectors / np.sqrt(divisor)
    else:
        values, vectors = _top_eigenvectors(centered.T @ centered / divisor, factors)
        loadings = vectors * np.sqrt(np.clip(values, 0.0, None))
    signs = np.where(loadings.sum(axis=0) < 0, -1.0, 1.0)
    return loadings * signs


def statistical_factor_model(returns: FloatArray, symbols: tuple[str, ...], factors: int, ddof: int = 1
                             ) -> RiskModel:
    """PCA factor model with ``factors`` components of daily ``returns`` (covariance divided by ``T - ddof``),
    annualized.

    Raises ``ValueError`` unless ``1 <= factors < min(days, assets)``.
    """
    centered = centered_returns(returns)
    t, n = centered.shape
    if not 1 <= factors < min(t, n):
        raise ValueError(f"factors must be at least 1 and below both the assets ({n}) and the days ({t}), "
                         f"got {factors}")
    loadings = principal_components(centered, factors, ddof)
    total = np.einsum("ij,ij->j", centered, centered) / (t - ddof)
    specific = np.clip(total - np.einsum("ij,ij->i", loadings, loadings), 0.0, None)
    return RiskModel(
        symbols=symbols,
        loadings=loadings * np.sqrt(TRADING_DAYS),
        factor_sqrt=np.eye(factors),
        specific_variance=specific * TRADING_DAYS,
        covariance=None,
        method="pca",
        observations=t,
    )


def fundamental_exposures(sector: tuple[str, ...], market_cap: FloatArray) -> tuple[FloatArray, tuple[str, ...]]:
    """Exposure matrix (n-by-k) and factor names: one column per sector (sorted), then ``size`` when at least two
    market caps are known: the z-score of log market cap, 0 where the cap is missing or not positive."""
    names = tuple(sorted(set(sector)))
    labels = np.array(sector)
    columns = [(labels == name).astype(np.float64) for name in names]
    known = np.isfinite(market_cap) & (market_cap > 0)
    if known.sum() >= 2:
        log_cap = np.log(np.where(known, market_cap, 1.0))
        spread = float(log_cap[known].std())
        if spread > 0:
            size = np.where(known, (log_cap - log_cap[known].mean()) / spread, 0.0)
            columns.append(size)
            names = (*names, "size")
    return np.column_stack(columns), names


def fundamental_factor_model(returns: FloatArray, symbols: tuple[str, ...], sector: tuple[str, ...],
                             market_cap: FloatArray, ddof: int = 1) -> RiskModel:
    """Sector and size factor model of daily ``returns`` (cross-sectional least squares each day; covariances
    divided by ``T - ddof``), annualized."""
    centered = centered_returns(returns)
    t = centered.shape[0]
    exposures, _ = fundamental_exposures(sector, market_cap)
    # f_t = argmin ||r_t - X f_t|| for every day t at once
    factor_returns = np.linalg.lstsq(exposures, centered.T, rcond=None)[0].T
    residual = centered - factor_returns @ exposures.T
    factor_covariance = factor_returns.T @ factor_returns / (t - ddof)
    values, vectors = np.linalg.eigh((factor_covariance + factor_covariance.T) / 2.0)
    factor_sqrt = vectors * np.sqrt(np.clip(values, 0.0, None))
    return RiskModel(
        symbols=symbols,
        loadings=exposures,
        factor_sqrt=factor_sqrt * np.sqrt(TRADING_DAYS),
        specific_variance=np.einsum("ij,ij->j", residual, residual) / (t - ddof) * TRADING_DAYS,
        covariance=None,
        method="fundamental",
        observations=t,
    )


def given_factor_model(symbols: tuple[str, ...], loadings: FloatArray, factor_covariance: FloatArray,
                       specific_variance: FloatArray, source: str) -> RiskModel:
    """A factor model the user gave: exposures ``B`` (n-by-k), ``F`` (k-by-k, annualized, PSD) and specific
    variances ``d`` (annualized); ``source`` names where it came from."""
    return RiskModel(
        symbols=symbols,
        loadings=loadings,
        factor_sqrt=square_root((factor_covariance + factor_covariance.T) / 2.0),
        specific_variance=specific_variance,
        covariance=None,
        method="factor_model",
        source=source,
    )
