"""Black-Litterman: the published tables of Idzorek (2005) and He-Litterman (1999), PyPortfolioOpt's
``BlackLittermanModel`` on the same inputs, Idzorek's confidence search, and the typed errors of bad views.

The paper inputs are read from the reference folder beside the project (``shared_data`` skips when it is absent);
nothing of it is copied here. Paper weights are unconstrained ``(delta Sigma)^-1 mu``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from pypfopt.black_litterman import BlackLittermanModel  # type: ignore[import-untyped]
from scipy.optimize import minimize_scalar

from allocator.domain import FloatArray, RiskModel
from allocator.errors import ConfigError
from allocator.model.black_litterman import (
    LegWeighting,
    View,
    ViewLevel,
    idzorek_omega,
    pick_matrix,
    posterior,
    proportional_omega,
    unconstrained_weights,
    view_omega,
)
from allocator.model.expected_returns import equilibrium_returns

PCT = 100.0
PUBLISHED_PP = 0.1  # published columns are printed to 0.01-0.1 pct from inputs printed rounded: 0.1 pct point
PYPFOPT_ATOL = 1e-8


def _risk(symbols: tuple[str, ...], sigma: FloatArray) -> RiskModel:
    """A dense risk model holding ``sigma`` (so the project's own ``equilibrium_returns`` gives the prior)."""
    n = len(symbols)
    root = np.asarray(np.linalg.cholesky(sigma), dtype=np.float64)
    return RiskModel(symbols=symbols, loadings=root, factor_sqrt=np.eye(n), specific_variance=np.zeros(n),
                     covariance=sigma, method="reference")


@dataclass(frozen=True)
class Case:
    symbols: tuple[str, ...]
    sigma: FloatArray
    w_mkt: FloatArray
    delta: float
    tau: float
    pi: FloatArray
    raw: dict[str, Any]
    folder: Path


@pytest.fixture
def idzorek(shared_data: Path) -> Case:
    folder = shared_data / "optim_reference" / "idzorek2005"
    raw = json.loads((folder / "inputs_and_checks.json").read_text())
    symbols = tuple(raw["assets"])
    sigma = pd.read_csv(folder / "sigma_table5.csv", index_col=0).loc[list(symbols), list(symbols)].to_numpy()
    w_mkt = np.array(raw["w_mkt"])
    delta = float(raw["lambda_risk_aversion"])
    pi = equilibrium_returns(_risk(symbols, sigma), w_mkt, delta)
    return Case(symbols, sigma, w_mkt, delta, float(raw["tau"]), pi, raw, folder)


@pytest.fixture
def he_litterman(shared_data: Path) -> Case:
    folder = shared_data / "optim_reference" / "he_litterman1999"
    raw = json.loads((folder / "inputs_and_checks.json").read_text())
    symbols = tuple(raw["countries"])
    corr = pd.read_csv(folder / "corr_table1.csv", index_col=0).loc[list(symbols), list(symbols)].to_numpy()
    table2 = pd.read_csv(folder / "table2_vol_weights_pi.csv", index_col=0).loc[list(symbols)]
    vol = table2["vol_pct"].to_numpy() / PCT
    w_eq = table2["w_eq_pct"].to_numpy() / PCT
    sigma = corr * np.outer(vol, vol)
    delta = float(raw["delta"])
    pi = equilibrium_returns(_risk(symbols, sigma), w_eq, delta)
    return Case(symbols, sigma, w_eq, delta, float(raw["tau"]), pi, raw, folder)


IDZOREK_GROUPS = {"Growth": ("US Large Growth", "US Small Growth"), "Value": ("US Large Value", "US Small Value")}
IDZOREK_VIEWS = (
    View(("Intl Dev Equity",), 0.0525, name="Intl Dev Equity absolute"),
    View(("Intl Bonds",), 0.0025, short=("US Bonds",), name="Intl over US bonds"),
    View(("Growth",), 0.02, short=("Value",), level=ViewLevel.GROUP, weighting=LegWeighting.MARKET_CAP,
         name="growth over value"),
)
HE_LITTERMAN_VIEWS = (
    View(("Germany",), 0.05, short=("France", "UK"), weighting=LegWeighting.MARKET_CAP, name="Germany vs Europe"),
    View(("Canada",), 0.03, short=("USA",), name="Canada vs USA"),
    View(("Canada",), 0.0412, short=("Japan",), name="Canada vs Japan"),
)
# Table -> (views used, their q, multiple of the proportional omega): Table 7 doubles view 1's uncertainty.
HE_LITTERMAN_TABLES = {
    "table4": ((0,), (0.05,), (1.0,)),
    "table5": ((0, 1), (0.05, 0.03), (1.0, 1.0)),
    "table6": ((0, 1), (0.05, 0.04), (1.0, 1.0)),
    "table7": ((0, 1), (0.05, 0.04), (2.0, 1.0)),
    "table8": ((0, 1, 2), (0.05, 0.04, 0.0412), (2.0, 1.0, 1.0)),
}


def _idzorek_published(case: Case) -> pd.DataFrame:
    return pd.read_csv(case.folder / "published_tables_1_2_6_7.csv", index_col=0).loc[list(case.symbols)]


def _idzorek_pick(case: Case) -> tuple[FloatArray, FloatArray]:
    """The paper's P (legs printed as 90/10) and Q."""
    return np.array(case.raw["P"], dtype=float), np.array(case.raw["Q"], dtype=float)


def _he_litterman_views(case: Case, table: str) -> tuple[FloatArray, FloatArray, FloatArray]:
    rows, q, multiple = HE_LITTERMAN_TABLES[table]
    pick, _ = pick_matrix(HE_LITTERMAN_VIEWS, case.symbols, weights=case.w_mkt)
    chosen = pick[list(rows)]
    return chosen, np.array(q), proportional_omega(case.sigma, chosen, case.tau) * np.array(multiple)


# ---- views -> P, Q ---------------------------------------------------------------------------------------------


def test_pick_matrix_builds_the_idzorek_views_from_groups_and_market_caps(idzorek: Case) -> None:
    pick, expected = pick_matrix(IDZOREK_VIEWS, idzorek.symbols, IDZOREK_GROUPS, idzorek.w_mkt)
    paper_pick, paper_q = _idzorek_pick(idzorek)
    np.testing.assert_allclose(pick, paper_pick, atol=5e-4)  # the paper rounds 0.9002/0.0998 to 90/10
    np.testing.assert_array_equal(expected, paper_q)
    np.testing.assert_allclose(pick[2, 2:4], [0.1209 / 0.1343, -0.1209 / 0.1343], rtol=1e-12)
    np.testing.assert_allclose(pick.sum(axis=1), [1.0, 0.0, 0.0], atol=1e-15)


def test_pick_matrix_builds_the_he_litterman_views(he_litterman: Case) -> None:
    pick, expected = pick_matrix(HE_LITTERMAN_VIEWS, he_litterman.symbols, weights=he_litterman.w_mkt)
    paper = np.array(list(he_litterman.raw["view_portfolios"].values()))
    np.testing.assert_allclose(pick, paper, atol=1e-4)
    np.testing.assert_array_equal(expected, [0.05, 0.03, 0.0412])


def test_pick_matrix_equal_weights_legs_and_groups() -> None:
    symbols = ("A", "B", "C", "D", "E")
    groups = {"small": ("A", "B", "C"), "large": ("D", "E"), "mixed": ("C", "D")}
    views = [
        View(("small",), 0.04, level=ViewLevel.GROUP),
        View(("large",), 0.01, short=("mixed",), level=ViewLevel.GROUP),  # overlapping groups net out on D
        View(["B", "E"], -0.02, short="A"),  # type: ignore[arg-type]  # lists and a bare string are accepted
    ]
    pick, expected = pick_matrix(views, symbols, groups)
    np.testing.assert_allclose(pick, [[1 / 3, 1 / 3, 1 / 3, 0, 0], [0, 0, -0.5, 0, 0.5], [-1, 0.5, 0, 0, 0.5]])
    np.testing.assert_array_equal(expected, [0.04, 0.01, -0.02])
    assert views[2].long == ("B", "E") and views[2].short == ("A",) and views[2].relative
    assert not views[0].relative


@pytest.mark.parametrize(
    "view, fragment",
    [
        (View(("ZZZ",), 0.01), "unknown symbol 'ZZZ'"),
        (View(("A",), 0.01, short=("ZZZ",)), "unknown symbol 'ZZZ'"),
        (View(("nope",), 0.01, level=ViewLevel.GROUP), "unknown group 'nope'"),
        (View(("ghosts",), 0.01, level=ViewLevel.GROUP), "unknown symbol 'ZZZ'"),
        (View(("empty",), 0.01, level=ViewLevel.GROUP), "holds no assets"),
        (View(("A", "B"), 0.01, short=("B", "A")), "cancel out"),
        (View(("g1",), 0.01, short=("g2",), level=ViewLevel.GROUP), "cancel out"),
        (View(("A", "B"), 0.01, weighting=LegWeighting.MARKET_CAP), "needs market weights"),
    ],
)
def test_bad_views_raise_config_errors(view: View, fragment: str) -> None:
    groups = {"ghosts": ("A", "ZZZ"), "empty": (), "g1": ("A", "B"), "g2": ("B", "A")}
    with pytest.raises(ConfigError, match=fragment) as caught:
        pick_matrix([View(("A",), 0.0), view], ("A", "B", "C"), groups)
    assert caught.value.where.startswith("views[1]")
    assert caught.value.exit_code == 3


@pytest.mark.parametrize(
    "make, fragment",
    [
        (lambda: View(("A",), 0.01, confidence=1.2), r"confidence 1.2 is outside \[0, 1\]"),
        (lambda: View(("A",), 0.01, confidence=-0.1), r"outside \[0, 1\]"),
        (lambda: View(("A",), 0.01, confidence=float("nan")), r"outside \[0, 1\]"),
        (lambda: View(("A",), 0.01, variance=-1e-4), "not a finite non-negative"),
        (lambda: View(("A",), 0.01, confidence=0.5, variance=1e-4), "both a confidence and a variance"),
        (lambda: View((), 0.01), "empty long leg"),
        (lambda: View(("A",), float("nan")), "not a number"),
        (lambda: idzorek_omega(np.eye(2), np.eye(2), [0.5, 1.01], 0.05), r"views\[1\]: confidence 1.01"),
        (lambda: posterior(np.zeros(2), np.eye(2), np.eye(2), np.zeros(2), np.ones(2), 0.0), "tau 0.0"),
    ],
)
def test_bad_confidences_and_parameters_raise_config_errors(make: object, fragment: str) -> None:
    with pytest.raises(ConfigError, match=fragment):
        make()  # type: ignore[operator]


def test_contradictory_certain_views_raise() -> None:
    sigma = np.diag([0.04, 0.09, 0.01])
    pick = np.array([[1.0, -1.0, 0.0], [2.0, -2.0, 0.0]])
    with pytest.raises(ConfigError, match="linearly dependent"):
        posterior(np.zeros(3), sigma, pick, np.array([0.01, 0.03]), np.zeros(2), 0.05)
    # One of them held with any doubt is fine.
    result = posterior(np.zeros(3), sigma, pick, np.array([0.01, 0.03]), np.array([0.0, 1e-4]), 0.05)
    assert result.returns[0] - result.returns[1] == pytest.approx(0.01, abs=1e-14)


# ---- published tables ------------------------------------------------------------------------------------------


def test_idzorek_table1_equilibrium_returns(idzorek: Case) -> None:
    published = _idzorek_published(idzorek)["Pi_implied_equilibrium_pct_T1"].to_numpy()
    assert np.abs(idzorek.pi * PCT - published).max() < 0.02


def test_idzorek_table6_posterior_with_proportional_omega(idzorek: Case) -> None:
    """Formula 8's Omega = diag(tau p Sigma p'), then formula 3; the weights are formula 2's, unconstrained."""
    published = _idzorek_published(idzorek)
    pick, q = _idzorek_pick(idzorek)
    omega = proportional_omega(idzorek.sigma, pick, idzorek.tau)
    np.testing.assert_allclose(omega, idzorek.raw["omega_formula8_published_diag"], atol=1e-6)
    result = posterior(idzorek.pi, idzorek.sigma, pick, q, omega, idzorek.tau)
    assert np.abs(result.returns * PCT - published["ER_posterior_pct_T6"].to_numpy()).max() < PUBLISHED_PP
    weights = unconstrained_weights(result.returns, idzorek.sigma, idzorek.delta)
    assert np.abs(weights * PCT - published["w_hat_pct_T6"].to_numpy()).max() < PUBLISHED_PP
    assert weights.sum() == pytest.approx(1.0363, abs=5e-4)  # 103.63%: no budget constraint
    # The same views built from names, groups and market caps give the same table.
    named_pick, named_q = pick_matrix(IDZOREK_VIEWS, idzorek.symbols, IDZOREK_GROUPS, idzorek.w_mkt)
    named = posterior(idzorek.pi, idzorek.sigma, named_pick, named_q,
                      view_omega(IDZOREK_VIEWS, idzorek.sigma, named_pick, idzorek.tau), idzorek.tau)
    assert np.abs(named.returns * PCT - published["ER_posterior_pct_T6"].to_numpy()).max() < PUBLISHED_PP


def test_idzorek_table7_full_confidence_weights_and_implied_confidence(idzorek: Case) -> None:
    published = _idzorek_published(idzorek)
    pick, q = _idzorek_pick(idzorek)
    certain = posterior(idzorek.pi, idzorek.sigma, pick, q, np.zeros(3), idzorek.tau)
    np.testing.assert_allclose(pick @ certain.returns, q, atol=1e-14)
    w_100 = unconstrained_weights(certain.returns, idzorek.sigma, idzorek.delta)
    assert np.abs(w_100 * PCT - published["w_100pct_conf_pct_T7"].to_numpy()).max() < PUBLISHED_PP
    proportional = posterior(idzorek.pi, idzorek.sigma, pick, q, proportional_omega(idzorek.sigma, pick, idzorek.tau),
                             idzorek.tau)
    w_hat = unconstrained_weights(proportional.returns, idzorek.sigma, idzorek.delta)
    touched = slice(0, 7)  # Intl Emerg Equity is in no view: no implied confidence
    implied = (w_hat - idzorek.w_mkt)[touched] / (w_100 - idzorek.w_mkt)[touched]
    assert np.abs(implied * PCT - published["implied_confidence_pct_T7"].to_numpy()[touched]).max() < 0.25


def test_idzorek_confidences_equal_the_papers_six_step_search(idzorek: Case) -> None:
    """For each view alone: the omega whose weights best match ``w_mkt + C (w_100 - w_mkt)`` (Idzorek's steps 1-6,
    solved numerically) is the closed form ``idzorek_omega`` uses."""
    pick, q = _idzorek_pick(idzorek)
    confidences = idzorek.raw["stated_confidence"]
    closed = idzorek_omega(idzorek.sigma, pick, confidences, idzorek.tau)
    for k, c in enumerate(confidences):
        p, qk = pick[k : k + 1], q[k : k + 1]

        def weights(omega: float, p: FloatArray = p, qk: FloatArray = qk) -> FloatArray:
            result = posterior(idzorek.pi, idzorek.sigma, p, qk, np.array([omega]), idzorek.tau)
            return unconstrained_weights(result.returns, idzorek.sigma, idzorek.delta)

        target = idzorek.w_mkt + c * (weights(0.0) - idzorek.w_mkt)
        found = minimize_scalar(lambda log_omega: float(np.sum((target - weights(np.exp(log_omega))) ** 2)),  # noqa: B023
                                bounds=(-30.0, 5.0), method="bounded", options={"xatol": 1e-12})
        assert np.exp(found.x) == pytest.approx(closed[k], rel=1e-6)
    mixed = posterior(idzorek.pi, idzorek.sigma, pick, q, closed, idzorek.tau)
    recomputed = pd.read_csv(idzorek.folder / "recomputed_numpy.csv", index_col=0).loc[list(idzorek.symbols)]
    np.testing.assert_allclose(mixed.returns * PCT, recomputed["ER_user_conf_25_50_65_pct"].to_numpy(), atol=1e-5)


@pytest.mark.parametrize("table", list(HE_LITTERMAN_TABLES))
def test_he_litterman_tables_4_to_8(he_litterman: Case, table: str) -> None:
    """Posterior returns mu_bar, unconstrained weights w* = (delta Sigma_bar)^-1 mu_bar and the view weights
    Lambda of w* = (w_eq + P' Lambda) / (1 + tau)."""
    published = he_litterman.raw["published"][table]
    pick, q, omega = _he_litterman_views(he_litterman, table)
    np.testing.assert_allclose(omega / he_litterman.tau, published["omega_over_tau"], atol=5e-4)
    result = posterior(he_litterman.pi, he_litterman.sigma, pick, q, omega, he_litterman.tau)
    assert np.abs(result.returns * PCT - np.array(published["mu_bar"])).max() < PUBLISHED_PP
    w_star = unconstrained_weights(result.returns, result.covariance, he_litterman.delta)
    assert np.abs(w_star * PCT - np.array(published["w_star"])).max() < PUBLISHED_PP
    tau = he_litterman.tau
    deviation = w_star - he_litterman.w_mkt / (1.0 + tau)
    assert np.abs(deviation * PCT - np.array(published["w_star_minus_weq_over_1ptau"])).max() < PUBLISHED_PP
    lam, *_ = np.linalg.lstsq(pick.T, deviation, rcond=None)
    np.testing.assert_allclose(pick.T @ lam, deviation, atol=1e-12)  # the tilt lies in the span of the views
    # Table 4 prints Lambda without the 1/(1 + tau) factor the later tables (and the weights column) carry.
    scale = 1.0 if table == "table4" else 1.0 + tau
    np.testing.assert_allclose(lam * scale, published["lambda"], atol=1e-3)


def test_he_litterman_table2_equilibrium_returns(he_litterman: Case) -> None:
    table2 = pd.read_csv(he_litterman.folder / "table2_vol_weights_pi.csv", index_col=0)
    assert np.abs(he_litterman.pi * PCT - table2["Pi_pct_published"].to_numpy()).max() < 0.05


# ---- PyPortfolioOpt --------------------------------------------------------------------------------------------


def _assert_matches_pypfopt(symbols: tuple[str, ...], sigma: FloatArray, pi: FloatArray, pick: FloatArray,
                            q: FloatArray, tau: float, our_omega: FloatArray, **reference_omega: object) -> None:
    cov = pd.DataFrame(sigma, index=list(symbols), columns=list(symbols))
    reference = BlackLittermanModel(cov, pi=pi, P=pick, Q=q, tau=tau, **reference_omega)  # type: ignore[arg-type]
    np.testing.assert_allclose(our_omega, np.diag(reference.omega), rtol=1e-12, atol=1e-18)
    ours = posterior(pi, sigma, pick, q, our_omega, tau)
    np.testing.assert_allclose(ours.returns, reference.bl_returns().to_numpy(), rtol=0, atol=PYPFOPT_ATOL)
    np.testing.assert_allclose(ours.covariance, reference.bl_cov().to_numpy(), rtol=0, atol=PYPFOPT_ATOL)


@pytest.mark.parametrize("confidences", [None, (0.25, 0.5, 0.65), (1.0, 0.5, 0.65), (1.0, 1.0, 1.0), (0.1, 0.9, 0.3)])
def test_matches_pyportfolioopt_on_idzoreks_inputs(idzorek: Case, confidences: tuple[float, ...] | None) -> None:
    pick, q = pick_matrix(IDZOREK_VIEWS, idzorek.symbols, IDZOREK_GROUPS, idzorek.w_mkt)
    if confidences is None:
        omega = proportional_omega(idzorek.sigma, pick, idzorek.tau)
        _assert_matches_pypfopt(idzorek.symbols, idzorek.sigma, idzorek.pi, pick, q, idzorek.tau, omega,
                                omega="default")
    else:
        omega = idzorek_omega(idzorek.sigma, pick, confidences, idzorek.tau)
        _assert_matches_pypfopt(idzorek.symbols, idzorek.sigma, idzorek.pi, pick, q, idzorek.tau, omega,
                                omega="idzorek", view_confidences=list(confidences))


@pytest.mark.parametrize("table", list(HE_LITTERMAN_TABLES))
def test_matches_pyportfolioopt_on_he_littermans_inputs(he_litterman: Case, table: str) -> None:
    pick, q, omega = _he_litterman_views(he_litterman, table)
    _assert_matches_pypfopt(he_litterman.symbols, he_litterman.sigma, he_litterman.pi, pick, q, he_litterman.tau,
                            omega, omega=np.diag(omega))


def _random_case(seed: int, n: int = 12) -> tuple[tuple[str, ...], FloatArray, FloatArray, FloatArray]:
    rng = np.random.default_rng(seed)
    symbols = tuple(f"S{i:02d}" for i in range(n))
    loadings = rng.standard_normal((n, 3)) * 0.15
    sigma = loadings @ loadings.T + np.diag(rng.uniform(0.01, 0.06, n))
    caps = rng.lognormal(0.0, 1.0, n)
    w = caps / caps.sum()
    pi = equilibrium_returns(_risk(symbols, sigma), w, 2.5)
    return symbols, sigma, w, pi


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_matches_pyportfolioopt_on_random_views(seed: int) -> None:
    symbols, sigma, w, pi = _random_case(seed)
    rng = np.random.default_rng(100 + seed)
    groups = {"first": symbols[:4], "middle": symbols[4:8], "last": symbols[8:]}
    views = [
        View((symbols[0],), 0.06),
        View(("first",), 0.01, short=("last",), level=ViewLevel.GROUP, weighting=LegWeighting.MARKET_CAP),
        View(("middle",), 0.05, level=ViewLevel.GROUP),
        View((symbols[3], symbols[9]), -0.02, short=(symbols[5],), weighting=LegWeighting.MARKET_CAP),
    ]
    pick, q = pick_matrix(views, symbols, groups, w)
    confidences = rng.uniform(0.05, 1.0, len(views))
    tau = float(rng.uniform(0.01, 0.1))
    _assert_matches_pypfopt(symbols, sigma, pi, pick, q, tau, idzorek_omega(sigma, pick, confidences, tau),
                            omega="idzorek", view_confidences=list(confidences))
    _assert_matches_pypfopt(symbols, sigma, pi, pick, q, tau, proportional_omega(sigma, pick, tau), omega="default")


# ---- Idzorek confidence: 100% exact, 0% prior, monotone --------------------------------------------------------


def test_full_confidence_satisfies_every_view_exactly(idzorek: Case) -> None:
    views = [View(v.long, v.expected, v.short, v.level, v.weighting, confidence=1.0) for v in IDZOREK_VIEWS]
    pick, q = pick_matrix(views, idzorek.symbols, IDZOREK_GROUPS, idzorek.w_mkt)
    omega = view_omega(views, idzorek.sigma, pick, idzorek.tau)
    np.testing.assert_array_equal(omega, 0.0)
    result = posterior(idzorek.pi, idzorek.sigma, pick, q, omega, idzorek.tau)
    np.testing.assert_allclose(pick @ result.returns, q, rtol=0, atol=1e-14)
    # Certain views leave no uncertainty along themselves beyond Sigma's: P Sigma_post P' = P Sigma P'.
    np.testing.assert_allclose(pick @ result.covariance @ pick.T, pick @ idzorek.sigma @ pick.T, atol=1e-14)


def test_zero_confidence_returns_the_prior(idzorek: Case) -> None:
    pick, q = pick_matrix(IDZOREK_VIEWS, idzorek.symbols, IDZOREK_GROUPS, idzorek.w_mkt)
    omega = idzorek_omega(idzorek.sigma, pick, [0.0, 0.0, 0.0], idzorek.tau)
    assert np.all(np.isinf(omega))
    result = posterior(idzorek.pi, idzorek.sigma, pick, q, omega, idzorek.tau)
    np.testing.assert_array_equal(result.returns, idzorek.pi)
    np.testing.assert_allclose(result.covariance, (1.0 + idzorek.tau) * idzorek.sigma, rtol=1e-15)
    # A 0% view is the same as no view.
    some = posterior(idzorek.pi, idzorek.sigma, pick, q, np.array([np.inf, 1e-4, 2e-4]), idzorek.tau)
    fewer = posterior(idzorek.pi, idzorek.sigma, pick[1:], q[1:], np.array([1e-4, 2e-4]), idzorek.tau)
    np.testing.assert_array_equal(some.returns, fewer.returns)


def test_single_view_tilt_equals_its_confidence_and_rises_with_it(idzorek: Case) -> None:
    """Alone, a view at confidence C moves returns and unconstrained weights exactly C of the way to 100%."""
    pick, q = _idzorek_pick(idzorek)
    grid = np.linspace(0.0, 1.0, 21)
    for k in range(3):
        p, qk = pick[k : k + 1], q[k : k + 1]
        full = posterior(idzorek.pi, idzorek.sigma, p, qk, np.zeros(1), idzorek.tau)
        w_100 = unconstrained_weights(full.returns, idzorek.sigma, idzorek.delta)
        tilts = []
        for c in grid:
            result = posterior(idzorek.pi, idzorek.sigma, p, qk, idzorek_omega(idzorek.sigma, p, [c], idzorek.tau),
                               idzorek.tau)
            np.testing.assert_allclose(result.returns - idzorek.pi, c * (full.returns - idzorek.pi), atol=1e-15)
            w = unconstrained_weights(result.returns, idzorek.sigma, idzorek.delta)
            np.testing.assert_allclose(w - idzorek.w_mkt, c * (w_100 - idzorek.w_mkt), atol=1e-12)
            tilts.append(float((p @ result.returns - p @ idzorek.pi)[0] / (qk - p @ idzorek.pi)[0]))
        assert np.all(np.diff(tilts) > 0)
        np.testing.assert_allclose(tilts, grid, atol=1e-12)


def test_each_view_approaches_its_target_as_its_confidence_rises(idzorek: Case) -> None:
    """With the other views at their stated confidences, raising one view's confidence closes its gap."""
    pick, q = _idzorek_pick(idzorek)
    stated = np.array(idzorek.raw["stated_confidence"])
    for k in range(3):
        gaps = []
        for c in np.linspace(0.0, 1.0, 21):
            confidences = stated.copy()
            confidences[k] = c
            omega = idzorek_omega(idzorek.sigma, pick, confidences, idzorek.tau)
            result = posterior(idzorek.pi, idzorek.sigma, pick, q, omega, idzorek.tau)
            gaps.append(abs(float(pick[k] @ result.returns - q[k])))
        assert np.all(np.diff(gaps) < 0), gaps
        assert gaps[-1] < 1e-14


def test_explicit_variance_and_full_omega() -> None:
    """A view's own variance goes into Omega as given; a full Omega equal to the diagonal one gives the same."""
    symbols, sigma, _, pi = _random_case(7, n=5)
    views = [View((symbols[0],), 0.05, variance=4e-4), View((symbols[1],), 0.0, short=(symbols[2],)),
             View((symbols[3],), 0.02, confidence=0.8)]
    pick, q = pick_matrix(views, symbols)
    omega = view_omega(views, sigma, pick, 0.05)
    assert omega[0] == 4e-4
    assert omega[1] == pytest.approx(0.05 * pick[1] @ sigma @ pick[1])
    assert omega[2] == pytest.approx(0.05 * sigma[3, 3] * 0.25)
    diagonal = posterior(pi, sigma, pick, q, omega, 0.05)
    full = posterior(pi, sigma, pick, q, np.diag(omega), 0.05)
    np.testing.assert_allclose(full.returns, diagonal.returns, atol=1e-15)
    np.testing.assert_allclose(full.covariance, diagonal.covariance, atol=1e-15)
