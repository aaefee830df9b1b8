"""Risk models: the factor forms equal the dense ones, Ledoit-Wolf equals scikit-learn, PCA and the fundamental
model against numpy oracles, and the formulation the optimizer is handed."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.covariance import LedoitWolf

from allocator.config.schema import RiskConfig
from allocator.domain import RiskModel
from allocator.errors import ConfigError
from allocator.model.factor_models import fundamental_exposures, fundamental_factor_model, statistical_factor_model
from allocator.model.risk_estimation import estimate, uses_factor_form
from allocator.model.risk_models import (
    TRADING_DAYS,
    dense_form,
    ewma_covariance,
    ledoit_wolf_covariance,
    sample_covariance,
)
from allocator.outputs.manifest import manifest_of
from allocator.pipeline import run
from tests.helpers import write_config


def _returns(t: int, n: int, seed: int = 42) -> np.ndarray:
    rng = np.random.default_rng(seed)
    factors = rng.standard_normal((t, 3)) * 0.01
    return factors @ rng.standard_normal((3, n)) + rng.standard_t(5, size=(t, n)) * 0.01


def _symbols(n: int) -> tuple[str, ...]:
    return tuple(f"A{i}" for i in range(n))


@pytest.mark.parametrize("t, n", [(40, 90), (120, 30)])
def test_ledoit_wolf_factor_form_equals_scikit_learn(t: int, n: int) -> None:
    """Both sides of T = n: the exact T-factor form holds the very matrix scikit-learn estimates."""
    returns = _returns(t, n)
    factor = ledoit_wolf_covariance(returns, _symbols(n), factor_form=True)
    reference = LedoitWolf().fit(returns)
    assert factor.covariance is None
    assert factor.loadings.shape == (n, t)
    assert factor.shrinkage == pytest.approx(reference.shrinkage_, abs=1e-12)
    np.testing.assert_allclose(factor.dense(), reference.covariance_ * TRADING_DAYS, rtol=0, atol=1e-10)


@pytest.mark.parametrize("estimator", [
    lambda r, s, f: ledoit_wolf_covariance(r, s, factor_form=f),
    lambda r, s, f: sample_covariance(r, s, factor_form=f),
    lambda r, s, f: ewma_covariance(r, s, 20.0, factor_form=f),
], ids=["ledoit_wolf", "sample", "ewma"])
def test_factor_form_equals_dense_form(estimator: object) -> None:
    returns = _returns(60, 80)
    dense = estimator(returns, _symbols(80), False)  # type: ignore[operator]
    factor = estimator(returns, _symbols(80), True)  # type: ignore[operator]
    np.testing.assert_allclose(factor.dense(), dense.dense(), rtol=0, atol=1e-14)
    np.testing.assert_allclose(factor.volatility, dense.volatility, rtol=1e-13)
    weights = np.random.default_rng(1).dirichlet(np.ones(80))
    assert factor.variance(weights) == pytest.approx(float(weights @ dense.dense() @ weights), rel=1e-12)
    np.testing.assert_allclose(factor.covariance_times(weights), dense.dense() @ weights, rtol=1e-12)


@pytest.mark.parametrize("factor_form", [False, True])
def test_sample_covariance_divides_by_t_minus_ddof_as_pandas_pyportfolioopt_and_scikit_learn(factor_form: bool
                                                                                           ) -> None:
    """ddof=1 (the default) is pandas' DataFrame.cov and PyPortfolioOpt's sample_cov; ddof=0 scikit-learn's
    EmpiricalCovariance (maximum likelihood)."""
    from pypfopt.risk_models import sample_cov
    from sklearn.covariance import EmpiricalCovariance

    returns = _returns(60, 8)
    frame = pd.DataFrame(returns, columns=list(_symbols(8)))
    unbiased = sample_covariance(returns, _symbols(8), factor_form=factor_form)
    np.testing.assert_allclose(unbiased.dense(), frame.cov().to_numpy() * TRADING_DAYS, rtol=1e-12)
    np.testing.assert_allclose(unbiased.dense(), sample_cov(frame, returns_data=True, frequency=TRADING_DAYS),
                               rtol=1e-12)
    biased = sample_covariance(returns, _symbols(8), factor_form=factor_form, ddof=0)
    np.testing.assert_allclose(biased.dense(), EmpiricalCovariance().fit(returns).covariance_ * TRADING_DAYS,
                               rtol=1e-12)
    np.testing.assert_allclose(biased.dense() * 60 / 59, unbiased.dense(), rtol=1e-12)


@pytest.mark.parametrize("ddof", [0, 1])
def test_factor_models_divide_by_t_minus_ddof(ddof: int) -> None:
    """PCA keeps each asset's sample variance with the same divisor; the fundamental model's F and d scale by it."""
    returns = _returns(80, 12)
    centered = returns - returns.mean(axis=0)
    pca = statistical_factor_model(returns, _symbols(12), 3, ddof=ddof)
    np.testing.assert_allclose(pca.volatility**2, np.diag(centered.T @ centered) / (80 - ddof) * TRADING_DAYS,
                               rtol=1e-12)
    sector = tuple("ab"[i % 2] for i in range(12))
    base = fundamental_factor_model(returns, _symbols(12), sector, np.full(12, np.nan), ddof=0)
    scaled = fundamental_factor_model(returns, _symbols(12), sector, np.full(12, np.nan), ddof=ddof)
    np.testing.assert_allclose(scaled.dense(), base.dense() * 80 / (80 - ddof), rtol=1e-12)


def test_sample_factor_form_is_the_scaled_centered_returns() -> None:
    returns = _returns(50, 20)
    model = sample_covariance(returns, _symbols(20), factor_form=True)
    centered = returns - returns.mean(axis=0)
    np.testing.assert_allclose(model.loadings, centered.T * np.sqrt(TRADING_DAYS / 49), rtol=1e-14)  # T - ddof
    assert np.all(model.specific_variance == 0)


@pytest.mark.parametrize("t, n", [(50, 200), (300, 40)])
def test_pca_factors_are_the_top_eigenpairs_of_the_sample_covariance(t: int, n: int) -> None:
    """Oracle: numpy's full eigendecomposition of X'X/(T - 1) (both the Gram and the covariance routes)."""
    returns = _returns(t, n)
    k = 4
    model = statistical_factor_model(returns, _symbols(n), k)
    centered = returns - returns.mean(axis=0)
    sample = centered.T @ centered / (t - 1) * TRADING_DAYS
    values, vectors = np.linalg.eigh(sample)
    top = vectors[:, ::-1][:, :k] * np.sqrt(values[::-1][:k])
    np.testing.assert_allclose(model.loadings @ model.loadings.T, top @ top.T, atol=1e-12)
    np.testing.assert_allclose(np.sum(model.loadings**2, axis=0), values[::-1][:k], rtol=1e-10)
    # each asset keeps its sample variance: the rest of it is specific
    np.testing.assert_allclose(model.volatility**2, np.diag(sample), rtol=1e-12)
    assert np.all(model.specific_variance >= 0)
    assert np.all(model.loadings.sum(axis=0) >= 0)  # deterministic signs
    assert model.covariance is None and model.factors == k


def test_pca_summed_a_block_of_assets_at_a_time_is_the_whole_centered_product(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """No centered copy of the returns is held: the Gram matrix, the variances and the loadings are summed over
    blocks of assets (here of 7, the last one short), and equal the SVD of the whole centered matrix."""
    import allocator.model.factor_models as factor_models

    t, n, k = 40, 100, 5
    returns = _returns(t, n) + 0.01  # a mean that matters: centering is not a no-op
    monkeypatch.setattr(factor_models, "BLOCK_BYTES", 8 * t * 7)
    model = statistical_factor_model(returns, _symbols(n), k)
    centered = returns - returns.mean(axis=0)
    _, singular, vt = np.linalg.svd(centered, full_matrices=False)
    top = vt[:k].T * singular[:k] * np.sqrt(TRADING_DAYS / (t - 1))
    top *= np.where(top.sum(axis=0) < 0, -1.0, 1.0)  # the model's sign convention
    np.testing.assert_allclose(model.loadings, top, rtol=1e-9, atol=1e-14)
    np.testing.assert_allclose(model.volatility**2, np.sum(centered**2, axis=0) / (t - 1) * TRADING_DAYS,
                               rtol=1e-12)
    monkeypatch.setattr(factor_models, "BLOCK_BYTES", 16 << 20)  # one block
    whole = statistical_factor_model(returns, _symbols(n), k)
    np.testing.assert_allclose(model.loadings, whole.loadings, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(model.specific_variance, whole.specific_variance, rtol=1e-12)


def test_pca_refuses_as_many_factors_as_assets() -> None:
    with pytest.raises(ValueError, match="below both the assets"):
        statistical_factor_model(_returns(100, 5), _symbols(5), 5)


def test_fundamental_model_recovers_a_pure_sector_and_size_structure() -> None:
    """Returns made exactly of sector and size factors: no specific risk, and F is the factors' covariance."""
    rng = np.random.default_rng(3)
    n, t = 30, 400
    sector = tuple(["tech", "energy", "health"][i % 3] for i in range(n))
    market_cap = np.exp(rng.normal(23, 1.5, size=n))
    market_cap[4] = np.nan  # unknown cap: zero size exposure
    exposures, names = fundamental_exposures(sector, market_cap)
    assert names == ("energy", "health", "tech", "size")
    assert exposures[4, 3] == 0.0
    factor_returns = rng.standard_normal((t, 4)) * 0.01
    returns = factor_returns @ exposures.T
    model = fundamental_factor_model(returns, _symbols(n), sector, market_cap)
    np.testing.assert_allclose(model.specific_variance, 0.0, atol=1e-20)
    centered = factor_returns - factor_returns.mean(axis=0)
    expected = exposures @ (centered.T @ centered / (t - 1)) @ exposures.T * TRADING_DAYS
    np.testing.assert_allclose(model.dense(), expected, atol=1e-14)
    sample = (returns - returns.mean(axis=0)).T @ (returns - returns.mean(axis=0)) / (t - 1) * TRADING_DAYS
    np.testing.assert_allclose(model.dense(), sample, atol=1e-14)


def test_fundamental_model_puts_what_the_factors_miss_in_specific_risk() -> None:
    rng = np.random.default_rng(4)
    n, t = 40, 500
    sector = tuple(["a", "b"][i % 2] for i in range(n))
    noise = rng.uniform(0.01, 0.03, size=n)
    returns = rng.standard_normal((t, 1)) * 0.01 + rng.standard_normal((t, n)) * noise
    model = fundamental_factor_model(returns, _symbols(n), sector, np.full(n, np.nan))
    assert model.factors == 2  # no size factor without market caps
    assert np.corrcoef(model.specific_variance, noise**2)[0, 1] > 0.95


def test_dense_form_keeps_the_covariance() -> None:
    model = statistical_factor_model(_returns(100, 30), _symbols(30), 3)
    dense = dense_form(model)
    assert dense.covariance is not None and dense.factors == 30
    np.testing.assert_allclose(dense.loadings @ dense.loadings.T, model.dense(), atol=1e-14)
    assert dense_form(dense) is dense


def _config(**values: object) -> RiskConfig:
    return RiskConfig.model_validate(values)


def test_auto_formulation_uses_the_measured_threshold() -> None:
    auto = _config()
    assert not uses_factor_form(auto, assets=20, observations=756)
    assert not uses_factor_form(auto, assets=2267, observations=756)
    assert uses_factor_form(auto, assets=2268, observations=756)  # 3 x 756
    assert uses_factor_form(_config(model="pca"), assets=20, observations=756)
    assert uses_factor_form(_config(model="fundamental"), assets=20, observations=756)
    assert not uses_factor_form(_config(model="pca", formulation="dense"), assets=5000, observations=756)
    assert uses_factor_form(_config(formulation="factor"), assets=20, observations=756)
    assert uses_factor_form(_config(factor_threshold=0.5), assets=400, observations=756)


def test_estimate_hands_the_optimizer_the_chosen_form() -> None:
    returns, symbols = _returns(60, 200), _symbols(200)
    factor = estimate(_config(), returns, symbols)  # 200 >= 3 x 60: exact factor form
    assert factor.covariance is None and factor.factors == 60
    dense = estimate(_config(formulation="dense"), returns, symbols)
    assert dense.covariance is not None
    np.testing.assert_allclose(factor.dense(), dense.covariance, atol=1e-14)
    pca = estimate(_config(model="pca", factors=5), returns, symbols)
    assert isinstance(pca, RiskModel) and pca.covariance is None and pca.factors == 5
    pca_dense = estimate(_config(model="pca", factors=5, formulation="dense"), returns, symbols)
    np.testing.assert_allclose(pca_dense.covariance, pca.dense(), atol=1e-14)


def test_too_many_principal_components_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match=r"risk.factors: 20 principal components for 20 assets"):
        estimate(_config(model="pca", factors=20), _returns(100, 20), _symbols(20), config_path="c.yaml")


@pytest.mark.parametrize("model", ["pca", "fundamental"])
def test_the_example_runs_on_a_factor_model_in_either_formulation(example_copy: Path, model: str) -> None:
    """End to end on the example (tracking error, turnover, groups and RSI trims bind): the factor and the dense
    formulation of the same model reach the same weights."""
    weights = {}
    for formulation in ("factor", "dense"):
        config = write_config(example_copy, f"extends: base.yaml\nrisk: {{model: {model}, factors: 4, "
                                            f"formulation: {formulation}}}\n", name=f"{formulation}.yaml")
        result = run(example_copy / "examples" / "holdings.csv", config)
        assert (result.risk.covariance is None) is (formulation == "factor")
        assert result.risk.method == model
        recorded = manifest_of(result, {}).risk_model
        assert recorded["model"] == model and recorded["formulation"] == formulation
        assert recorded["factors"] == (20 if formulation == "dense" else result.risk.factors)
        weights[formulation] = result.allocation.weight
    np.testing.assert_allclose(weights["factor"], weights["dense"], rtol=0, atol=1e-6)
