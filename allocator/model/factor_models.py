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

from collections.abc import Iterator

import numpy as np

from allocator.domain import FloatArray, RiskModel
from allocator.model.daily_returns import DailyReturns, as_matrix
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


BLOCK_BYTES = 16 << 20  # centered returns made a block of assets at a time: 2,774 assets at 756 days


def _centered_blocks(returns: FloatArray | DailyReturns, mean: FloatArray, known: bool = True
                     ) -> Iterator[tuple[slice, FloatArray]]:
    """``returns - mean`` a block of columns at a time (the columns, and the block as a new array): a centered
    copy of 20,000 assets' 756 daily returns was 116 MB, the run's peak memory over the returns themselves.
    ``DailyReturns`` are computed from their closes a block at a time as well. Unless ``known``, each block's
    column means are taken from the block and written into ``mean`` (a column's mean needs its own returns only,
    so no pass over the returns is made for them first)."""
    t, n = returns.shape
    width = max(1, BLOCK_BYTES // (8 * t))
    for start in range(0, n, width):
        columns = slice(start, min(start + width, n))
        block = returns.block(columns) if isinstance(returns, DailyReturns) else returns[:, columns]
        if not known:
            mean[columns] = block.mean(axis=0)
        if isinstance(returns, DailyReturns):
            block -= mean[columns]  # a new array already
            yield columns, block
        else:
            yield columns, block - mean[columns]


def principal_components(returns: FloatArray | DailyReturns, factors: int, ddof: int = 1,
                         mean: FloatArray | None = None) -> tuple[FloatArray, FloatArray]:
    """Loadings ``V_k sqrt(Lambda_k)`` (n-by-k, largest first) of the sample covariance ``X'X / (T - ddof)`` of
    ``X = returns - mean`` (T-by-n; ``mean`` the columns' means unless given), and its diagonal (each asset's
    sample variance).

    With T < n the eigenvectors come from the T-by-T Gram matrix ``X X' / (T - ddof)`` (same non-zero eigenvalues;
    the loadings are ``X' u / sqrt(T - ddof)``), summed a block of assets at a time so that ``X`` is never held
    whole (as fast as the whole product: 0.24 against 0.29 CPU s at 756 days and 20,000 assets). Each column's
    sign is fixed so that its entries sum to a non-negative number.
    """
    t, n = returns.shape
    divisor = t - ddof
    variance = np.empty(n)
    if t < n:
        known = mean is not None
        means = np.empty(n) if mean is None else mean
        gram = np.zeros((t, t))
        for columns, block in _centered_blocks(returns, means, known):
            gram += block @ block.T  # numpy computes a product with its own transpose by BLAS syrk
            variance[columns] = np.einsum("ij,ij->j", block, block)
        _, vectors = _top_eigenvectors(gram / divisor, factors)
        loadings: FloatArray = np.empty((n, factors))
        for columns, block in _centered_blocks(returns, means):
            loadings[columns] = block.T @ vectors
        loadings /= np.sqrt(divisor)
    else:  # no more assets than days: the centered returns are at most T-by-T
        matrix = as_matrix(returns)
        centered = matrix - (matrix.mean(axis=0) if mean is None else mean)
        values, vectors = _top_eigenvectors(centered.T @ centered / divisor, factors)
        loadings = vectors * np.sqrt(np.clip(values, 0.0, None))
        variance[:] = np.einsum("ij,ij->j", centered, centered)
    signs = np.where(loadings.sum(axis=0) < 0, -1.0, 1.0)
    return loadings * signs, variance / divisor


def statistical_factor_model(returns: FloatArray | DailyReturns, symbols: tuple[str, ...], factors: int, ddof: int = 1
                             ) -> RiskModel:
    """PCA factor model with ``factors`` components of daily ``returns`` (covariance divided by ``T - ddof``),
    annualized. No centered copy of ``returns`` is made (``principal_components``); ``DailyReturns`` are never
    held whole.

    Raises ``ValueError`` unless ``1 <= factors < min(days, assets)``.
    """
    if (isinstance(returns, np.ndarray) and returns.ndim != 2) or returns.shape[0] < 2:
        raise ValueError("returns must be a 2-D array with at least two rows")
    t, n = returns.shape
    if not 1 <= factors < min(t, n):
        raise ValueError(f"factors must be at least 1 and below both the assets ({n}) and the days ({t}), "
                         f"got {factors}")
    loadings, total = principal_components(returns, factors, ddof)
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
