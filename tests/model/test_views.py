"""Views through Black-Litterman: the regime moves every asset class, the user's views hold, the posterior is exact."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from click.testing import Result

from allocator.config.schema import MacroConfig, RatePath, RegimeShifts
from allocator.errors import ConfigError
from allocator.model.black_litterman import posterior
from allocator.model.views import regime_shift
from allocator.pipeline import Prepared, prepare
from tests.conftest import BASE_CONFIG, EXAMPLE_HOLDINGS

SCENARIOS = BASE_CONFIG.parent / "scenarios"


def _prepared(tmp_path: Path, text: str, name: str = "views.yaml") -> Prepared:
    config = tmp_path / name
    config.write_text(f"extends: {BASE_CONFIG}\n" + text)
    return prepare(EXAMPLE_HOLDINGS, config)


@pytest.fixture(scope="module")
def base() -> Prepared:
    return prepare(EXAMPLE_HOLDINGS, BASE_CONFIG)


def test_the_posterior_equals_the_dense_black_litterman_formula(base: Prepared) -> None:
    returns = base.returns
    assert [v.name for v in returns.views] == ["equity_premium", "small_minus_large", "duration", "gold"]
    pick = np.vstack([v.pick for v in returns.views])
    expected = np.array([v.expected for v in returns.views])
    confidence = np.array([v.confidence for v in returns.views])
    sigma, tau = base.risk.dense(), base.config.returns.tau
    omega = tau * np.einsum("ij,jk,ik->i", pick, sigma, pick) * (1 - confidence) / confidence
    prior_mean = returns.prior + returns.alpha
    dense = posterior(prior_mean, sigma, pick, expected, omega, tau).returns
    np.testing.assert_allclose(returns.mu, dense, atol=1e-14)
    np.testing.assert_allclose(returns.prior + returns.alpha + returns.views_part, returns.mu, atol=1e-15)


def test_the_tilt_method_takes_no_views(tmp_path: Path, base: Prepared) -> None:
    tilt = _prepared(tmp_path, "returns: {method: tilt}\n")
    assert tilt.returns.views == () and np.all(tilt.returns.views_part == 0)
    np.testing.assert_allclose(tilt.returns.mu, tilt.returns.prior + tilt.returns.alpha, atol=1e-15)
    np.testing.assert_allclose(tilt.returns.alpha, base.returns.alpha, atol=1e-15)


def test_hawkish_lowers_the_benchmark_duration_and_small_caps(base: Prepared) -> None:
    hawkish = prepare(EXAMPLE_HOLDINGS, SCENARIOS / "hawkish_pivot.yaml")
    b = base.universe.benchmark_weight
    assert float(b @ hawkish.returns.mu) < float(b @ base.returns.mu) - 0.01
    symbols = list(base.universe.symbols)
    for bond in ("AGG", "TLT", "IEF"):
        i = symbols.index(bond)
        assert hawkish.returns.mu[i] < base.returns.mu[i], bond
    small = [symbols.index(s) for s in ("IWM", "IJR", "IWN", "IWO", "VB")]
    large = [symbols.index(s) for s in ("SPY", "QQQ")]
    spread = lambda p: p.returns.mu[small].mean() - p.returns.mu[large].mean()  # noqa: E731
    assert spread(hawkish) < spread(base)


def test_a_neutral_regime_takes_no_regime_view(tmp_path: Path) -> None:
    hold = _prepared(tmp_path, "returns:\n  macro: {rate_path: hold, growth: steady}\n")
    assert hold.returns.views == ()
    macro = MacroConfig(rate_path=RatePath.TIGHTENING, inflation_mom=0.004, growth="contracting")
    shifts = RegimeShifts(tightening=-0.02, hot_inflation=-0.01, contracting=-0.03, easing=0.5)
    assert regime_shift(shifts, macro) == pytest.approx(-0.06)


def test_a_certain_user_view_holds_exactly(tmp_path: Path) -> None:
    prepared = _prepared(tmp_path, "returns:\n  regime_views: {enabled: false}\n  views:\n"
                                   "    - {name: small beats large, by: size_bucket, long: [small], short: [large],"
                                   " expected: 0.03, confidence: 1.0}\n"
                                   "    - {long: [GLD], expected: -0.01, confidence: 0.4}\n")
    first, second = prepared.returns.views
    assert first.name == "small beats large" and second.name == "GLD"
    assert first.posterior_value == pytest.approx(0.03, abs=1e-12)
    assert first.pick @ prepared.returns.mu == pytest.approx(0.03, abs=1e-12)
    assert second.prior_value > second.posterior_value > -0.01


@pytest.mark.parametrize(("view", "message"), [
    ("{long: [ZZZ], expected: 0.01}", "returns.views[0]: unknown symbol 'ZZZ'"),
    ("{by: sector, long: [tech], expected: 0.01}", "returns.views[0]: unknown sector 'tech'"),
    ("{long: [SPY], short: [SPY], expected: 0.01}", "returns.views[0]: the long and short legs cancel out"),
])
def test_a_bad_view_is_a_config_error(view: str, message: str, tmp_path: Path, cli: Callable[..., Result]) -> None:
    config = tmp_path / "bad.yaml"
    config.write_text(f"extends: {BASE_CONFIG}\nreturns:\n  views:\n    - {view}\n")
    result = cli("run", EXAMPLE_HOLDINGS, "-c", config, "-o", tmp_path / "out")
    assert result.exit_code == 3, result.output
    assert message in result.stderr and "Traceback" not in result.output
    assert not (tmp_path / "out").exists()
    with pytest.raises(ConfigError):
        prepare(EXAMPLE_HOLDINGS, config)


def test_views_without_black_litterman_are_a_config_error(tmp_path: Path, cli: Callable[..., Result]) -> None:
    config = tmp_path / "tilt.yaml"
    config.write_text(f"extends: {BASE_CONFIG}\nreturns:\n  method: tilt\n  views:\n"
                      "    - {long: [GLD], expected: 0.02}\n")
    result = cli("run", EXAMPLE_HOLDINGS, "-c", config, "-o", tmp_path / "out")
    assert result.exit_code == 3
    assert "1 view(s) given but method is tilt, which takes none; set method: black_litterman" in result.stderr


def test_the_run_reports_the_views_and_the_conviction(cli: Callable[..., Result], tmp_path: Path) -> None:
    result = cli("run", EXAMPLE_HOLDINGS, "-c", BASE_CONFIG, "-o", tmp_path / "out")
    assert result.exit_code == 0, result.output
    assert "Views (prior -> posterior, target, confidence): equity_premium" in result.stdout
    assert "Signal conviction 1.00" in result.stdout
    import json

    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert [v["name"] for v in summary["views"]] == ["equity_premium", "small_minus_large", "duration", "gold"]
    assert summary["conviction"] == pytest.approx(1.0)
    spy = summary["attribution"]["SPY"]
    parts = spy["prior"] + spy["views"] + sum(spy[k] for k in ("size", "value", "growth", "margin_expansion",
                                                                "quality"))
    assert parts == pytest.approx(spy["expected_return"], abs=1e-9)


def test_the_summary_shows_the_utility_the_trades_buy(base: Prepared, cli: Callable[..., Result],
                                                      tmp_path: Path) -> None:
    import json

    from allocator.pipeline import run

    result = run(EXAMPLE_HOLDINGS, BASE_CONFIG)
    out = tmp_path / "out"
    assert cli("run", EXAMPLE_HOLDINGS, "-c", BASE_CONFIG, "-o", out).exit_code == 0
    utility = json.loads((out / "summary.json").read_text())["utility"]
    assert utility["target"] == pytest.approx(result.allocation.objective, abs=1e-9)
    assert utility["gain"] == pytest.approx(utility["target"] - utility["current"], abs=1e-9)
    gamma = result.config.risk.risk_aversion
    w0 = result.universe.weight
    expected = float(result.returns.mu @ w0 - 0.5 * gamma * w0 @ result.risk.dense() @ w0)
    assert utility["current"] == pytest.approx(expected, abs=1e-9)
