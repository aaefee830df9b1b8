"""Alpha that holds together: conviction kept, residual risk, benchmark-neutral, peer groups, quality, orthogonality."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import Result

from allocator.config.schema import ReturnsConfig
from allocator.errors import ConfigError
from allocator.inputs.market_data import read_fundamentals
from allocator.model.expected_returns import benchmark_beta, expected_returns, residual_volatility
from allocator.model.signals import signal_scores
from allocator.pipeline import Prepared, prepare
from tests.conftest import BASE_CONFIG, EXAMPLE_HOLDINGS, ROOT

FUNDAMENTALS = ROOT / "examples" / "fundamentals.csv"


@pytest.fixture(scope="module")
def example() -> Prepared:
    return prepare(EXAMPLE_HOLDINGS, BASE_CONFIG)


def _returns(example: Prepared, **changes: object) -> tuple[ReturnsConfig, np.ndarray]:
    """Scores and alpha of the example under ``returns`` changed by ``changes``."""
    config = example.config.returns.model_copy(update=changes)
    u = example.universe
    fundamentals = read_fundamentals(FUNDAMENTALS)
    scores = signal_scores(fundamentals, u.symbols, u.asset_class, config)
    model = expected_returns(config, example.risk, u.benchmark_weight, scores, np.zeros((2, u.size)), u.asset_class)
    return config, model.alpha


def test_weaker_multipliers_lower_the_alpha_spread_by_the_conviction_ratio(example: Prepared) -> None:
    u = example.universe
    fundamentals = read_fundamentals(FUNDAMENTALS)
    base = example.config.returns
    halved = base.macro.regime_multipliers.model_copy(update={"goldilocks": base.macro.regime_multipliers.goldilocks
                                                               .model_copy(update={"size": 0.25, "value": 0.5})})
    weak = base.model_copy(update={"macro": base.macro.model_copy(update={"regime_multipliers": halved})})
    strong_scores = signal_scores(fundamentals, u.symbols, u.asset_class, base)
    weak_scores = signal_scores(fundamentals, u.symbols, u.asset_class, weak)
    assert strong_scores.conviction == pytest.approx(1.0, abs=1e-12)
    assert 0 < weak_scores.conviction < 0.9
    # every multiplier scaled by the same factor: the alpha shrinks by exactly that factor (no re-standardizing)
    all_half = base.macro.regime_multipliers.model_copy(update={"goldilocks": base.macro.regime_multipliers
                                                                .goldilocks.model_copy(update={
                                                                    k: 0.5 for k in strong_scores.z})})
    half = base.model_copy(update={"macro": base.macro.model_copy(update={"regime_multipliers": all_half})})
    half_scores = signal_scores(fundamentals, u.symbols, u.asset_class, half)
    strong = expected_returns(base, example.risk, u.benchmark_weight, strong_scores, np.zeros((2, u.size)),
                              u.asset_class).alpha
    halved_alpha = expected_returns(half, example.risk, u.benchmark_weight, half_scores, np.zeros((2, u.size)),
                                    u.asset_class).alpha
    assert half_scores.conviction / strong_scores.conviction == pytest.approx(0.5, abs=1e-12)
    assert halved_alpha.std() / strong.std() == pytest.approx(half_scores.conviction / strong_scores.conviction,
                                                              abs=1e-12)
    weak_alpha = expected_returns(weak, example.risk, u.benchmark_weight, weak_scores, np.zeros((2, u.size)),
                                  u.asset_class).alpha
    assert np.abs(weak_alpha).max() < np.abs(strong).max(), "a weaker regime must not blow up any single alpha"


def test_alpha_is_benchmark_neutral(example: Prepared) -> None:
    b = example.universe.benchmark_weight
    assert abs(float(b @ example.returns.alpha)) < 1e-12
    for k, part in example.returns.contributions.items():
        assert abs(float(b @ part)) < 1e-12, k
    _, raw = _returns(example, benchmark_neutral=False)
    assert abs(float(b @ raw)) > 1e-5, "without neutralizing, the example's alpha has a benchmark exposure"


def test_residual_volatility_is_the_regression_residual_on_the_benchmark(example: Prepared) -> None:
    risk, b = example.risk, example.universe.benchmark_weight
    sigma = risk.dense()
    var_b = float(b @ sigma @ b)
    beta = sigma @ b / var_b
    residual_cov = sigma - np.outer(beta, beta) * var_b  # covariance of r - beta * r_b
    np.testing.assert_allclose(residual_volatility(risk, b), np.sqrt(np.diag(residual_cov)), rtol=1e-9, atol=1e-12)
    found = benchmark_beta(risk, b)
    assert found is not None
    np.testing.assert_allclose(found, beta, rtol=1e-12)
    assert float(b @ found) == pytest.approx(1.0, abs=1e-12)
    np.testing.assert_allclose(example.returns.beta, beta, rtol=1e-12)
    # the alpha scales with residual, not total, risk: a high-beta fund is not inflated by its market risk
    assert np.all(residual_volatility(risk, b) <= risk.volatility + 1e-15)


def test_signals_are_standardized_within_peer_groups(example: Prepared) -> None:
    scores = example.scores
    peers = scores.peer_group
    assert peers["SPY"] == peers["IWM"] == "us/broad" and peers["XLK"] == "us/sector"
    assert peers["EEM"] == "emerging/broad" and "AGG" not in peers
    symbols = list(scores.symbols)
    for group in ("us/broad", "us/sector"):
        members = [symbols.index(s) for s, g in peers.items() if g == group]
        for k in ("size", "value", "growth"):
            z = scores.z[k][members]
            if group == "us/sector" and k == "size":  # all large caps: no size score (not a small cap for being
                assert np.all(z == 0), z                # the smallest sector fund)
                continue
            assert abs(z.mean()) < 1e-9 and z.std() == pytest.approx(1.0, abs=1e-9), (group, k)
    eem = symbols.index("EEM")
    assert all(scores.z[k][eem] == 0 for k in scores.z), "a fund alone in its peer group is scored against nobody"
    assert any("peer groups with one member" in w for w in scores.warnings)


def test_without_peer_groups_emerging_markets_are_scored_against_us_funds(example: Prepared) -> None:
    _, alpha = _returns(example, peer_group="none")
    eem = list(example.universe.symbols).index("EEM")
    assert abs(alpha[eem]) > 1e-3, "one cross-section: EEM's low P/E scores against the US broad funds"
    assert abs(example.scores.composite[eem]) < 1e-12, "with peer groups EEM has no score of its own"


def test_an_unknown_peer_group_column_is_a_config_error(tmp_path: Path, cli: Callable[..., Result]) -> None:
    config = tmp_path / "peer.yaml"
    config.write_text(f"extends: {BASE_CONFIG}\nreturns: {{peer_group: continent}}\n")
    result = cli("run", EXAMPLE_HOLDINGS, "-c", config, "-o", tmp_path / "out")
    assert result.exit_code == 3
    assert "returns.peer_group: no column 'continent' in the fundamentals file" in result.stderr
    with pytest.raises(ConfigError, match="continent"):
        prepare(EXAMPLE_HOLDINGS, config)


def test_quality_uses_profitability_and_leverage_when_the_fundamentals_have_them(tmp_path: Path) -> None:
    frame = pd.read_csv(FUNDAMENTALS)
    equity = frame["asset_class"] == "equity"
    rng = np.random.default_rng(42)
    frame.loc[equity, "roe"] = rng.uniform(0.05, 0.30, int(equity.sum()))
    frame.loc[equity, "gross_profitability"] = rng.uniform(0.1, 0.5, int(equity.sum()))
    frame.loc[equity, "debt_to_equity"] = rng.uniform(0.2, 2.0, int(equity.sum()))
    frame.loc[frame["symbol"] == "SPY", ["roe", "gross_profitability"]] = [0.60, 0.90]  # best in class
    frame.loc[frame["symbol"] == "SPY", "debt_to_equity"] = 0.01
    path = tmp_path / "fundamentals.csv"
    frame.to_csv(path, index=False)
    fundamentals = read_fundamentals(path)
    symbols = tuple(frame["symbol"])
    config = ReturnsConfig.model_validate({"peer_group": "none",
                                           "signal_weights": {"quality": 1.0, "size": 0, "value": 0, "growth": 0,
                                                              "margin_expansion": 0}})
    scores = signal_scores(fundamentals, symbols, tuple(frame["asset_class"]), config)
    quality = scores.z["quality"]
    assert int(np.argmax(quality)) == symbols.index("SPY")
    assert np.all(quality[~equity.to_numpy()] == 0)
    without = signal_scores(read_fundamentals(FUNDAMENTALS), symbols, tuple(frame["asset_class"]), config)
    assert np.all(without.z["quality"] == 0) and without.composite_scale == 0
    assert ("signal quality is off (scores 0): the fundamentals have no roe or gross_profitability or "
            "debt_to_equity column") in without.warnings


def test_orthogonalized_signals_are_uncorrelated_over_the_equity_assets(example: Prepared) -> None:
    u = example.universe
    config = example.config.returns.model_copy(update={"orthogonalize": True, "peer_group": "none"})
    scores = signal_scores(read_fundamentals(FUNDAMENTALS), u.symbols, u.asset_class, config)
    equity = np.array([c == "equity" for c in u.asset_class])
    kept = [k for k in scores.z if np.any(scores.z[k] != 0)]
    assert kept[:2] == ["size", "value"]
    for i, a in enumerate(kept):
        for b in kept[i + 1:]:
            assert abs(float(scores.z[a][equity] @ scores.z[b][equity])) < 1e-9, (a, b)
    plain = signal_scores(read_fundamentals(FUNDAMENTALS), u.symbols, u.asset_class,
                          config.model_copy(update={"orthogonalize": False}))
    np.testing.assert_allclose(scores.z["size"][equity], plain.z["size"][equity] / plain.z["size"][equity].std(),
                               atol=1e-9)
    corr = np.corrcoef(plain.z["growth"][equity], plain.z["margin_expansion"][equity])[0, 1]
    assert abs(corr) > 0.3, "the raw growth and margin-expansion scores overlap; orthogonalizing removes it"
