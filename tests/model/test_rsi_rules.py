"""RSI rules on exposure: hysteresis, the ceiling-only trim and its opt-in sale floor, overweight trims, and the
correlated and group scopes, on constructed series, on the example account and on real ETF closes.

The real closes are read from the shared data folder beside the project (``shared_data`` skips when it is absent)
and written, cut to a few funds and to the as-of date, into the test's own temporary folder.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from allocator.config.schema import RsiConfig
from allocator.model.rsi import correlations_with, latest_rsi, overbought_with_release, rsi_limits, wilder_rsi
from allocator.optimize.problem import ProblemCache
from allocator.pipeline import RunResult, prepare, run
from tests.helpers import write_config

# --- hysteresis ---------------------------------------------------------------------------------------------


def test_hysteresis_keeps_the_rule_at_67_after_crossing_70_and_releases_it_at_64() -> None:
    crossed = np.array([55.0, 68.0, 71.0, 69.0, 67.0])
    assert overbought_with_release(crossed, 70.0, 65.0)[0]
    assert not overbought_with_release(np.r_[crossed, 64.0], 70.0, 65.0)[0]
    assert not overbought_with_release(np.r_[crossed, 64.0, 67.0], 70.0, 65.0)[0], "released, not re-armed at 67"
    assert overbought_with_release(np.r_[crossed, 64.0, 67.0, 70.0], 70.0, 65.0)[0]
    assert not overbought_with_release(np.array([60.0, 67.0, 69.9]), 70.0, 65.0)[0], "never crossed 70"
    assert not overbought_with_release(crossed, 70.0, 70.0)[0], "release at overbought: no hysteresis"
    assert not overbought_with_release(np.array([np.nan, 71.0, np.nan, 67.0]), 70.0, 65.0)[0]


@pytest.mark.parametrize(("overbought", "release"), [(70.0, 65.0), (70.0, 70.0), (60.0, 75.0), (55.0, 40.0)])
def test_latest_rsi_is_the_last_row_of_the_series_and_its_hysteresis(overbought: float, release: float) -> None:
    """One pass keeping one row of state gives the last RSI bit for bit and the overbought state that reading the
    whole series back gives, for 400 random walks (some flat for a while, some trending)."""
    rng = np.random.default_rng(7)
    steps = rng.normal(0.001, 0.02, size=(300, 400)) + np.linspace(-0.004, 0.004, 400)
    steps[100:140, ::7] = 0.0
    closes = 100 * np.exp(np.cumsum(steps, axis=0))
    series = wilder_rsi(closes, 14)
    reading = latest_rsi(closes, 14, overbought, release)
    np.testing.assert_array_equal(reading.rsi, series[-1])
    hot = overbought_with_release(series, overbought, release)
    np.testing.assert_array_equal(reading.overbought, hot)
    assert 0 < hot.sum() < 400
    short = latest_rsi(closes[:14], 14, overbought, release)  # no RSI yet: NaN, never overbought
    assert np.isnan(short.rsi).all() and not short.overbought.any()


def test_latest_rsi_is_the_same_in_small_blocks_and_either_memory_order(monkeypatch: pytest.MonkeyPatch) -> None:
    """A wide universe is read a few days a block (``BLOCK_CELLS``) and a price frame's closes come column-major:
    neither changes a bit of the reading."""
    from allocator.model import rsi

    rng = np.random.default_rng(11)
    closes = 100 * np.exp(np.cumsum(rng.normal(0.0005, 0.02, size=(260, 50)), axis=0))
    whole = latest_rsi(closes, 14, 70.0, 65.0)
    monkeypatch.setattr(rsi, "BLOCK_CELLS", 50 * 9)  # 9 days a block
    blocked = latest_rsi(np.asfortranarray(closes), 14, 70.0, 65.0)
    np.testing.assert_array_equal(blocked.rsi, whole.rsi)
    np.testing.assert_array_equal(blocked.overbought, whole.overbought)
    assert 0 < whole.overbought.sum() < 50


def test_hysteresis_on_a_constructed_price_series() -> None:
    rally = list(100.0 * np.cumprod(np.r_[1.0, np.tile([1.02, 0.995], 10)]))  # RSI well above 70
    closes = np.array([*rally, rally[-1] * 0.97])  # one down day of 3%: RSI falls to 66
    rsi = wilder_rsi(closes, 14)
    assert rsi[-2] >= 70 and 65 <= rsi[-1] < 70, rsi[-3:]
    assert wilder_rsi(np.array([*rally, rally[-1] * 0.965]), 14)[-1] < 65  # 3.5% would release it
    limits = rsi_limits(RsiConfig(min_trim=0.1), ("X",), rsi[-1:], np.array([0.1]), history=rsi[:, None])
    assert [r.rule for r in limits.rules] == ["rsi_trim"] and limits.upper[0] == pytest.approx(0.09)
    without = rsi_limits(RsiConfig(min_trim=0.1, release=70), ("X",), rsi[-1:], np.array([0.1]), history=rsi[:, None])
    assert not without.rules


# --- the rule on the fund -------------------------------------------------------------------------------------


def test_the_rule_is_a_ceiling_and_the_sale_floor_is_opt_in() -> None:
    w0 = np.array([0.07])
    ceiling = rsi_limits(RsiConfig(min_trim=0.1, max_trim=0.5), ("IWM",), np.array([72.0]), w0)
    assert ceiling.upper[0] == pytest.approx(0.063) and ceiling.lower[0] == -np.inf
    floor = rsi_limits(RsiConfig(min_trim=0.1, max_trim=0.5, sale_floor=True), ("IWM",), np.array([72.0]), w0)
    assert floor.upper[0] == pytest.approx(0.063) and floor.lower[0] == pytest.approx(0.035)


def test_overweight_trim_cuts_the_overweight_only_and_leaves_an_at_benchmark_position_free() -> None:
    config = RsiConfig(min_trim=0.5, trim="overweight", sale_floor=True, max_trim=1.0)
    limits = rsi_limits(config, ("A", "B", "C"), np.array([75.0, 75.0, 75.0]), np.array([0.08, 0.05, 0.03]),
                        benchmark=np.array([0.05, 0.05, 0.05]))
    assert limits.upper[0] == pytest.approx(0.065) and limits.lower[0] == pytest.approx(0.05)
    assert np.isinf(limits.upper[1:]).all() and np.isinf(limits.lower[1:]).all()
    assert [r.symbol for r in limits.rules] == ["A"]


# --- the example account (synthetic prices; IWM overbought at RSI 71.3) ---------------------------------------


def _example_run(example_copy: Path, rsi: str) -> RunResult:
    config = write_config(example_copy, f"extends: base.yaml\nrsi: {rsi}\n", "rsi.yaml")
    return run(example_copy / "examples" / "holdings.csv", config, cache=ProblemCache())


def _binding(result: RunResult) -> list[str]:
    from allocator.optimize.families import binding_constraints

    return binding_constraints(result.limits, result.risk, result.allocation.weight, result.allocation.cash_weight)


def test_the_sale_floor_binds_only_when_configured(example_copy: Path) -> None:
    # growth_scare's view sells small caps: without a floor IWM goes below (1 - max_trim) w0
    scare = "returns: {macro: {rate_path: hold, growth: contracting}}\n"
    free = write_config(example_copy, "extends: base.yaml\n" + scare, "free.yaml")
    floored = write_config(example_copy, "extends: base.yaml\n" + scare + "rsi: {sale_floor: true}\n", "floor.yaml")
    holdings = example_copy / "examples" / "holdings.csv"
    free_run, floor_run = run(holdings, free, cache=ProblemCache()), run(holdings, floored, cache=ProblemCache())
    i = free_run.universe.symbols.index("IWM")
    w0 = free_run.universe.weight[i]
    assert free_run.allocation.weight[i] < 0.5 * w0 - 1e-4, "the model sells below the old floor"
    assert not any(b.startswith("rsi min") for b in _binding(free_run))
    assert floor_run.allocation.weight[i] == pytest.approx(0.5 * w0, abs=1e-6)
    assert any(b.startswith("rsi min IWM") for b in _binding(floor_run))


def test_group_scope_freezes_the_small_bucket_while_its_proxy_is_overbought(example_copy: Path) -> None:
    grouped = _example_run(example_copy, "{scope: group, groups: [{by: size_bucket, name: small, proxy: IWM}]}")
    asset = _example_run(example_copy, "{scope: asset}")
    small = np.array(grouped.universe.size_bucket) == "small"
    current = float(grouped.universe.weight[small].sum())
    assert float(grouped.allocation.weight[small].sum()) <= current + 1e-7
    # IWM's trim leaves the group: it is not bought back through IJR, IWN, IWO or VB
    trims = float(np.clip(grouped.universe.weight - grouped.rsi.upper, 0.0, None)[small].sum())
    assert trims > 0.005
    assert float(grouped.allocation.weight[small].sum()) <= current - trims + 1e-7
    assert float(grouped.trades.achieved_weight[small].sum()) <= current + 1e-4
    assert float(asset.allocation.weight[small].sum()) > current + 0.05, "without the group rule the bucket grows"
    rule = next(r for r in grouped.rsi.rules if r.rule == "rsi_group")
    assert rule.tag == "rsi_group(size_bucket small via IWM)" and "IJR" in rule.members
    assert any(b.startswith("rsi_group max size_bucket small via IWM") for b in _binding(grouped))


def test_correlated_scope_on_the_example_names_its_rules(example_copy: Path) -> None:
    result = _example_run(example_copy, "{scope: correlated, correlation: 0.9}")
    correlated = {r.symbol: r for r in result.rsi.rules if r.rule == "rsi_correlated"}
    overbought = {r.symbol for r in result.rsi.rules if r.rule in ("rsi_trim", "rsi_no_add")}
    # the small-cap block rallied together: IWN, IWO and VB are overbought on their own (RSI 69.6-69.7 after
    # crossing 70, held by hysteresis), IJR (66.3) and the mid caps are held as IWM's correlates
    assert {"IWM", "IWN", "IWO", "VB"} <= overbought and {"IJR", "IJH"} <= set(correlated)
    assert correlated["IJR"].tag.startswith("rsi_correlated(")
    i = result.universe.symbols.index("IWM")
    for symbol in correlated:
        j = result.universe.symbols.index(symbol)
        dense = result.risk.dense()
        assert dense[i, j] / np.sqrt(dense[i, i] * dense[j, j]) > 0.9
        assert result.allocation.weight[j] <= result.universe.weight[j] + 1e-9


def test_correlations_from_the_factor_form_match_the_dense_matrix(example_copy: Path) -> None:
    config = write_config(example_copy, "extends: base.yaml\nrisk: {model: pca, formulation: factor}\n", "pca.yaml")
    prepared = prepare(example_copy / "examples" / "holdings.csv", config)
    dense = prepared.risk.dense()
    vol = np.sqrt(np.diag(dense))
    for j in range(len(vol)):
        np.testing.assert_allclose(correlations_with(prepared.risk, j), dense[:, j] / (vol * vol[j]), atol=1e-12)


# --- real closes ------------------------------------------------------------------------------------------------

AS_OF = "2026-01-16"
FUNDS = {  # symbol: (size bucket, asset class, benchmark weight, forward P/E, EPS growth)
    "SPY": ("large", "equity", 0.45, 22.5, 0.12), "IWM": ("small", "equity", 0.05, 17.0, 0.20),
    "IJR": ("small", "equity", 0.00, 15.0, 0.20), "IWO": ("small", "equity", 0.00, 18.0, 0.22),
    "EFA": ("large", "equity", 0.10, 14.5, 0.08), "AGG": ("none", "bond", 0.25, None, None),
    "IEF": ("none", "bond", 0.10, None, None),
}
HELD = {"SPY": 0.42, "IWM": 0.08, "EFA": 0.10, "AGG": 0.25, "IEF": 0.13}  # IWM 3% over its benchmark


@pytest.fixture(scope="module")
def real_account(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tests.conftest import SHARED_DATA

    if not SHARED_DATA.is_dir():
        pytest.skip(f"real market data not found at {SHARED_DATA} (a fresh clone without ../shared)")
    folder = tmp_path_factory.mktemp("real")
    closes = pd.read_csv(SHARED_DATA / "etf_prices_adjclose.csv", index_col="Date", parse_dates=True)
    closes = closes.loc["2022-01-01":AS_OF, list(FUNDS)].dropna()
    closes.index.name = "date"
    closes.round(4).to_csv(folder / "prices.csv")
    rows = ["symbol,name,market_cap,forward_pe,eps_growth,revenue_growth,sector,size_bucket,asset_class,"
            "benchmark_weight,region,style"]
    for symbol, (size, kind, weight, pe, growth) in FUNDS.items():
        cap = {"large": 5e11, "small": 3e9, "none": ""}[size]
        fields = [str(cap), str(pe or ""), str(growth or ""), "0.05" if pe else "", "broad_market", size, kind,
                  str(weight), "us", "broad"]
        rows.append(f"{symbol},{symbol}," + ",".join(fields))
    (folder / "fundamentals.csv").write_text("\n".join(rows) + "\n")
    nav, last = 1_000_000.0, closes.iloc[-1]
    lines = ["symbol,quantity"] + [f"{s},{int(w * nav / float(last[s]))}" for s, w in HELD.items()]
    (folder / "holdings.csv").write_text("\n".join(lines) + f"\nCASH,{nav * 0.02:.2f}\n")
    return folder


def _real_run(folder: Path, rsi: str) -> RunResult:
    config = folder / "config.yaml"
    config.write_text(f"""data: {{prices: prices.csv, fundamentals: fundamentals.csv}}
returns: {{information_coefficient: 0.1, signal_weights: {{size: 0.5, value: 0.25, growth: 0.25}}}}
risk: {{lookback_days: 756}}
constraints: {{max_weight: 0.5, active_max: 0.08, active_min: -0.15, cash_min: 0.01, cash_max: 0.05}}
rsi: {rsi}
""")
    return run(folder / "holdings.csv", config, AS_OF, cache=ProblemCache())


def test_real_closes_iwm_is_overbought_and_ijr_stays_overbought_only_by_hysteresis(shared_data: Path) -> None:
    closes = pd.read_csv(shared_data / "etf_prices_adjclose.csv", index_col="Date", parse_dates=True)
    closes = closes.loc["2022-01-01":"2026-01-31", ["IWM", "IJR"]].dropna()
    rsi = pd.DataFrame(wilder_rsi(closes.to_numpy(), 14), index=closes.index, columns=closes.columns)
    assert rsi.loc[AS_OF, "IWM"] == pytest.approx(72.1, abs=0.1)
    assert rsi.loc[AS_OF, "IJR"] == pytest.approx(69.7, abs=0.1)
    assert rsi.loc["2026-01-15", "IJR"] >= 70  # crossed the day before
    ijr = rsi["IJR"].loc[:AS_OF].to_numpy()
    assert overbought_with_release(ijr, 70.0, 65.0)[0] and not overbought_with_release(ijr, 70.0, 70.0)[0]
    iwm = rsi["IWM"].loc[:"2026-01-21"].to_numpy()  # 63.8 on the 20th released it; 69.9 on the 21st does not re-arm
    assert iwm[-1] == pytest.approx(69.9, abs=0.1) and not overbought_with_release(iwm, 70.0, 65.0)[0]


def test_real_closes_scope_asset_lets_the_substitute_be_bought_and_correlated_does_not(real_account: Path) -> None:
    # release 70 (no hysteresis), so IJR at 69.7 is not overbought: it is the substitute the PM saw bought
    asset = _real_run(real_account, "{min_trim: 0.1, release: 70, scope: asset}")
    correlated = _real_run(real_account, "{min_trim: 0.1, release: 70, scope: correlated, correlation: 0.9}")
    u = asset.universe
    iwm, ijr = u.symbols.index("IWM"), u.symbols.index("IJR")
    assert "IWM" in {r.symbol for r in asset.rsi.rules} and "IJR" not in {r.symbol for r in asset.rsi.rules}
    assert asset.rsi.rsi[iwm] == pytest.approx(72.1, abs=0.1) and asset.rsi.rsi[ijr] == pytest.approx(69.7, abs=0.1)
    assert asset.allocation.weight[iwm] <= 0.9 * u.weight[iwm] + 1e-9
    assert asset.allocation.weight[ijr] > 0.01, "the dodge: the overbought exposure is bought through IJR"
    assert any(t.symbol == "IJR" and t.side == "BUY" for t in asset.trades.trades)
    corr = correlations_with(correlated.risk, iwm)
    substitutes = [i for i in range(len(u.symbols)) if i != iwm and corr[i] > 0.9]
    assert ijr in substitutes
    for i in substitutes:
        assert correlated.allocation.weight[i] <= u.weight[i] + 1e-9, u.symbols[i]
        assert not any(t.symbol == u.symbols[i] and t.side == "BUY" for t in correlated.trades.trades)
    tags = {r.symbol: r.tag for r in correlated.rsi.rules}
    assert tags["IJR"] == f"rsi_correlated(IWM, corr {corr[ijr]:.2f})"
