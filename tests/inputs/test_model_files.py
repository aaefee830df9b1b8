"""Expected returns and risk models the user brings as files (``returns.mu_file``, ``risk.covariance_file``,
``risk.factor_model``), through the CLI: the optimum is PyPortfolioOpt's on the same inputs, a factor model gives
the weights of its dense covariance, a slightly indefinite matrix is repaired and said so, and bad files are refused
with the file, row and column (more cases in tests/data/bad)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import Result

from tests.helpers import write_config

# The limits of base.yaml lifted so that the problem is PyPortfolioOpt's max_quadratic_utility: fully invested, long
# only, no costs, no RSI rule; gamma = 2.5 on both sides.
PLAIN_LIMITS = """
constraints: {max_weight: 1.0, active_min: null, active_max: null, groups: [], tracking_error_max: null,
              turnover_max: null, cash_min: 0.0, cash_max: 0.0}
rsi: {enabled: false}
trading: {cost_bps: 0, min_trade_value: 0}
"""
GAMMA = 2.5


def _symbols(folder: Path) -> list[str]:
    return list(pd.read_csv(folder / "examples" / "fundamentals.csv")["symbol"])


def _write_inputs(folder: Path, mu: pd.Series, sigma: pd.DataFrame) -> None:
    mu.rename("expected_return").rename_axis("symbol").to_csv(folder / "examples" / "mu.csv")
    sigma.rename_axis("symbol").to_csv(folder / "examples" / "sigma.csv", float_format="%.17g")


def _run(cli: Callable[..., Result], folder: Path, config: Path, name: str = "out") -> Result:
    holdings = folder / "examples" / "holdings.csv"
    return cli("run", holdings, "-c", config, "-o", folder / name, "--force")


def _targets(out: Path) -> pd.Series:
    table = pd.read_csv(out / "weights.csv").set_index("symbol")
    return table["target_weight"].drop(index="CASH")


def _pyportfolioopt_weights(mu: pd.Series, sigma: pd.DataFrame, objective: str = "utility") -> pd.Series:
    """PyPortfolioOpt's optimum for ``objective`` (its names: max_quadratic_utility, min_volatility, max_sharpe
    with a zero risk-free rate, as the mu file's returns are excess returns)."""
    from pypfopt import EfficientFrontier

    frontier = EfficientFrontier(mu, sigma, weight_bounds=(0, 1), solver="CLARABEL",
                                 solver_options={"tol_gap_abs": 1e-12, "tol_gap_rel": 1e-12, "tol_feas": 1e-12})
    if objective == "min_variance":
        return pd.Series(frontier.min_volatility())
    if objective == "max_sharpe":
        return pd.Series(frontier.max_sharpe(risk_free_rate=0.0))
    return pd.Series(frontier.max_quadratic_utility(risk_aversion=GAMMA))


def _check_against_pyportfolioopt(cli: Callable[..., Result], folder: Path, mu: pd.Series,
                                  sigma: pd.DataFrame, objective: str = "utility") -> None:
    _write_inputs(folder, mu, sigma)
    config = write_config(folder, "extends: base.yaml\nreturns: {mu_file: ../examples/mu.csv}\n"
                          "risk: {covariance_file: ../examples/sigma.csv, risk_aversion: 2.5}\n"
                          f"optimizer: {{objective: {objective}}}\n" + PLAIN_LIMITS)
    result = _run(cli, folder, config)
    assert result.exit_code == 0, result.output
    ours = _targets(folder / "out")
    theirs = _pyportfolioopt_weights(mu, sigma, objective).reindex(ours.index)
    assert np.abs(ours - theirs).max() < 1e-6, pd.DataFrame({"allocate": ours, "pypfopt": theirs})
    assert (ours > 1e-4).sum() >= 2  # a real trade-off, not a corner
    summary = json.loads((folder / "out" / "summary.json").read_text())
    assert summary["expected_returns"] == "returns.mu_file (mu.csv)"
    assert summary["risk_model"] == "risk.covariance_file (sigma.csv)"
    assert summary["attribution"]["SPY"]["expected_return"] == pytest.approx(mu["SPY"], abs=1e-9)
    assert "Expected returns from returns.mu_file (mu.csv), as given (the prior, the signal tilt and the views " \
           "are not applied)" in result.stdout
    manifest = json.loads((folder / "out" / "manifest.json").read_text())
    assert {"mu_file", "covariance_file"} <= set(manifest["inputs"])


@pytest.mark.parametrize("objective", ["utility", "min_variance", "max_sharpe"])
def test_own_mu_and_sigma_reproduce_pyportfolioopt(objective: str, example_copy: Path,
                                                   cli: Callable[..., Result]) -> None:
    """mu and Sigma by PyPortfolioOpt's own estimators (CAPM returns, sample covariance) on the example's closes;
    max_quadratic_utility, min_volatility and max_sharpe against optimizer.objective utility, min_variance and
    max_sharpe."""
    from pypfopt import expected_returns, risk_models

    prices = pd.read_csv(example_copy / "examples" / "prices.csv", index_col="date", parse_dates=True)
    prices = prices[_symbols(example_copy)]
    mu = expected_returns.capm_return(prices)
    _check_against_pyportfolioopt(cli, example_copy, mu, risk_models.sample_cov(prices), objective)


def test_own_mu_and_sigma_from_real_closes_reproduce_pyportfolioopt(
        example_copy: Path, cli: Callable[..., Result], shared_data: Path) -> None:
    """The same check with mu and Sigma estimated on three years of real adjusted closes of the same ETFs."""
    from pypfopt import expected_returns, risk_models

    closes = pd.read_csv(shared_data / "etf_prices_adjclose.csv", index_col=0, parse_dates=True)
    closes = closes[_symbols(example_copy)].loc["2022-08-01":"2025-07-31"].dropna()
    mu = expected_returns.capm_return(closes)  # every asset wanted a little: an interior optimum
    _check_against_pyportfolioopt(cli, example_copy, mu, risk_models.sample_cov(closes))


def _factor_files(folder: Path, symbols: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(42)
    names = ["market", "size", "rates"]
    loadings = rng.normal(0.0, 1.0, size=(len(symbols), 3)) * [1.0, 0.4, 0.3] + [1.0, 0.0, 0.0]
    root = rng.normal(0.0, 0.05, size=(3, 3))
    factor_covariance = root @ root.T + np.diag([0.02, 0.004, 0.003])
    specific = rng.uniform(0.002, 0.02, size=len(symbols))
    examples = folder / "examples"
    pd.DataFrame(loadings, index=pd.Index(symbols, name="symbol"), columns=names).to_csv(
        examples / "loadings.csv", float_format="%.17g")
    pd.DataFrame(factor_covariance, index=pd.Index(names, name="factor"), columns=names).to_csv(
        examples / "factor_covariance.csv", float_format="%.17g")
    pd.DataFrame({"symbol": symbols, "specific_variance": specific}).to_csv(
        examples / "specific.csv", index=False, float_format="%.17g")
    return loadings, factor_covariance, specific


def test_factor_model_files_give_the_weights_of_their_dense_covariance(
        example_copy: Path, cli: Callable[..., Result]) -> None:
    symbols = _symbols(example_copy)
    loadings, factor_covariance, specific = _factor_files(example_copy, symbols)
    sigma = loadings @ factor_covariance @ loadings.T + np.diag(specific)
    pd.DataFrame(sigma, index=pd.Index(symbols, name="symbol"), columns=symbols).to_csv(
        example_copy / "examples" / "sigma.csv", float_format="%.17g")
    factor = write_config(example_copy, "extends: base.yaml\nrisk: {factor_model: {loadings: ../examples/loadings.csv,"
                          " factor_covariance: ../examples/factor_covariance.csv, specific_variance: "
                          "../examples/specific.csv}}\n", "factor.yaml")
    dense = write_config(example_copy, "extends: base.yaml\nrisk: {covariance_file: ../examples/sigma.csv}\n",
                         "dense.yaml")
    first, second = _run(cli, example_copy, factor, "factor"), _run(cli, example_copy, dense, "dense")
    assert first.exit_code == 0 and second.exit_code == 0, first.output + second.output
    by_factors, by_matrix = _targets(example_copy / "factor"), _targets(example_copy / "dense")
    assert np.abs(by_factors - by_matrix).max() < 1e-6
    volatility = pd.read_csv(example_copy / "factor" / "weights.csv").set_index("symbol")["volatility"]
    np.testing.assert_allclose(volatility.loc[symbols], np.sqrt(np.diag(sigma)), rtol=1e-9)
    summary = json.loads((example_copy / "factor" / "summary.json").read_text())
    assert summary["risk_model"] == "risk.factor_model (loadings.csv, 3 factors)"
    assert summary["expected_returns"] == "prior + signal tilt + views"  # the equilibrium prior on this Sigma


def test_a_slightly_indefinite_covariance_is_repaired_and_the_repair_named(
        example_copy: Path, cli: Callable[..., Result]) -> None:
    symbols = _symbols(example_copy)
    prices = pd.read_csv(example_copy / "examples" / "prices.csv", index_col="date")[symbols]
    sigma = prices.pct_change().dropna().cov().to_numpy() * 252
    values, vectors = np.linalg.eigh(sigma)
    values[0] = -1e-4 * values[-1]  # one eigenvalue pushed below zero by 0.01% of the largest
    broken = (vectors * values) @ vectors.T
    pd.DataFrame((broken + broken.T) / 2, index=pd.Index(symbols, name="symbol"), columns=symbols).to_csv(
        example_copy / "examples" / "sigma.csv", float_format="%.17g")
    config = write_config(example_copy, "extends: base.yaml\nrisk: {covariance_file: ../examples/sigma.csv}\n")
    result = _run(cli, example_copy, config)
    assert result.exit_code == 0, result.output
    warning = next(line for line in result.stderr.splitlines() if "not positive semidefinite" in line)
    assert "1 negative eigenvalue, the most negative" in warning
    assert "(1.00e-04 of the largest), clipped to 0; the largest change to a cell is" in warning


def _matrix_file(folder: Path, text: str) -> Path:
    path = folder / "examples" / "sigma.csv"
    path.write_text(text)
    return write_config(folder, "extends: base.yaml\nuniverse: {symbols: [SPY, AGG, GLD]}\nbenchmark: {weights: {SPY: "
                        "0.6, AGG: 0.4}}\nconstraints: {groups: []}\nrisk: {covariance_file: ../examples/sigma.csv}\n")


@pytest.mark.parametrize("text, message", [
    (",SPY,AGG,GLD\nSPY,0.04,0.001,0.002\nAGG,0.001,0.003,0.0005\nGLD,0.002,0.0005,abc\n",
     "sigma.csv: row 4: GLD: not a number: 'abc'"),
    (",SPY,AGG,GLD\nSPY,0.04,0.001,0.002\nAGG,0.001,0.003,0.0005\nGLD,0.02,0.0005,0.03\n",
     "sigma.csv: row 2: GLD: not symmetric: 0.002 here but 0.02 at row 4, column SPY"),
    (",SPY,AGG\nSPY,0.04,0.001\nAGG,0.001,0.003\n", "sigma.csv: no covariance for universe symbol GLD; add them"),
    (",SPY,AGG,GLD\nSPY,0.04,0.05,0\nAGG,0.05,0.003,0\nGLD,0,0,0.03\n", "sigma.csv: not positive semidefinite: an "
     "eigenvalue of -0.0318, 42.52% of the largest (0.0748); at most 1% is repaired"),
    (",SPY,AGG,IEF\nSPY,0.04,0.001,0\nAGG,0.001,0.003,0\nGLD,0,0,0.03\n", "sigma.csv: row 4: first column: GLD "
     "has a row but no column"),
])
def test_bad_covariance_files_are_refused_with_file_row_and_column(
        example_copy: Path, cli: Callable[..., Result], text: str, message: str) -> None:
    config = _matrix_file(example_copy, text)
    result = _run(cli, example_copy, config)
    assert result.exit_code == 4, result.output
    assert message in result.stderr
    assert not (example_copy / "out").exists()
