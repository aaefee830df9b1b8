"""Property tests over random valid accounts, universes and configs, calling the library in-process.

When a run succeeds: weights and cash sum to one, every limit of the config holds within 1e-6 recomputed here from
the config (not from the optimizer's own limits), RSI rules hold with RSI recomputed here, and the trades reconcile
exactly (current + trade = final to the share; cash to the cent, never negative; no sell larger than the
position). When it fails, it fails with a typed error carrying a documented exit code (2-5), never anything else.

Example counts: ``ci`` profile (default, derandomized) runs 300 whole rebalances plus fuzzing of the readers; set
``ALLOCATE_HYPOTHESIS_PROFILE=thorough`` for ten times as many (docs/development.md, "Tests").
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml
from hypothesis import assume, event, given, note, settings
from hypothesis import strategies as st

from allocator.config.loader import load_config
from allocator.errors import AllocatorError
from allocator.inputs.holdings import read_holdings
from allocator.inputs.market_data import read_fundamentals, read_prices
from allocator.optimize.problem import ProblemCache
from allocator.pipeline import RunResult, prepare, run
from tests.conftest import example_scale

TOL = 1e-6
CENT = Decimal("0.01")
DOCUMENTED = {2, 3, 4, 5}
RUNS = max(1, int(400 * example_scale()))
CACHE = ProblemCache(max_size=256)


# --- universes: built once, seeded ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Universe:
    folder: Path
    symbols: tuple[str, ...]
    lookback: int
    prices: pd.DataFrame
    fundamentals: pd.DataFrame


SPECS = [  # symbols, asset class, size bucket, sector, benchmark weight; the end of each path is shaped
    {"seed": 1, "lookback": 60, "assets": [
        ("EQA", "equity", "large", "technology", 0.40), ("EQB", "equity", "small", "financials", 0.15),
        ("EQC", "equity", "mid", "industrials", 0.15), ("BND", "bond", "none", "fixed_income", 0.30)],
     "rally": ["EQB"], "slump": []},
    {"seed": 2, "lookback": 90, "assets": [
        ("AAA", "equity", "large", "technology", 0.25), ("BBB", "equity", "large", "health_care", 0.15),
        ("CCC", "equity", "mid", "industrials", 0.10), ("DDD", "equity", "small", "financials", 0.10),
        ("EEE", "equity", "small", "technology", 0.05), ("TSY", "bond", "none", "fixed_income", 0.25),
        ("GLD", "commodity", "none", "commodities", 0.05)],
     "rally": ["DDD"], "slump": ["BBB"], "missing_fundamentals": ["EEE"]},
    {"seed": 3, "lookback": 120, "assets": [
        (f"S{i:02d}", "equity", ("large", "mid", "small")[i % 3], ("technology", "energy", "utilities")[i % 3],
         0.06) for i in range(10)] + [("AGG", "bond", "none", "fixed_income", 0.25),
                                      ("TIP", "bond", "none", "fixed_income", 0.10)],
     "rally": ["S01", "S04"], "slump": ["S02"]},
]


def _build(spec: dict[str, Any], root: Path) -> Universe:
    rng = np.random.default_rng(spec["seed"])
    assets = spec["assets"]
    symbols = tuple(a[0] for a in assets)
    days = spec["lookback"] + 40
    vol = np.array([0.004 if a[1] == "bond" else 0.012 + 0.004 * (i % 4) for i, a in enumerate(assets)])
    common = rng.normal(0.0, 0.008, size=(days, 1))
    returns = 0.0002 + rng.normal(0.0, 1.0, size=(days, len(symbols))) * vol + common * (vol > 0.005)
    for i, s in enumerate(symbols):
        if s in spec.get("rally", []):
            returns[-20:, i] = np.abs(returns[-20:, i]) + 0.004
        if s in spec.get("slump", []):
            returns[-20:, i] = -np.abs(returns[-20:, i]) - 0.004
    closes = np.round(np.linspace(20, 300, len(symbols)) * np.exp(np.cumsum(returns, axis=0)), 2)
    folder = root / f"u{spec['seed']}"
    folder.mkdir()
    frame = pd.DataFrame(closes, index=pd.bdate_range("2024-01-01", periods=days), columns=list(symbols))
    frame.index.name = "date"
    frame.to_csv(folder / "prices.csv", date_format="%Y-%m-%d")
    rows = ["symbol,market_cap,forward_pe,eps_growth,revenue_growth,sector,size_bucket,asset_class,benchmark_weight"]
    for i, (s, cls, bucket, sector, weight) in enumerate(assets):
        if cls != "equity" or s in spec.get("missing_fundamentals", []):
            rows.append(f"{s},,,,,{sector},{bucket},{cls},{weight}")
        else:
            cap = {"large": 4e11, "mid": 1e10, "small": 2e9}[bucket] * (1 + 0.3 * (i % 3))
            rows.append(f"{s},{cap:.0f},{12 + 2 * (i % 6)},{0.05 + 0.03 * (i % 5)},{0.03 + 0.01 * (i % 4)},"
                        f"{sector},{bucket},{cls},{weight}")
    (folder / "fundamentals.csv").write_text("\n".join(rows) + "\n")
    return Universe(folder, symbols, spec["lookback"], read_prices(folder / "prices.csv"),
                    read_fundamentals(folder / "fundamentals.csv"))


@pytest.fixture(scope="module")
def universes(tmp_path_factory: pytest.TempPathFactory) -> list[Universe]:
    root = tmp_path_factory.mktemp("universes")
    return [_build(spec, root) for spec in SPECS]


# --- accounts and configs -----------------------------------------------------------------------------------


@st.composite
def accounts(draw: st.DrawFn, universe: Universe) -> str:
    """A holdings CSV: whole-share positions (maybe one outside the universe) and some cash. Half the accounts
    are random, half have drifted from the benchmark by up to a factor of two either way."""
    lines = ["symbol,quantity,price"]
    near = draw(st.booleans())
    nav = draw(st.sampled_from([20_000, 250_000, 3_000_000]))
    last = universe.prices.iloc[-1]
    for symbol in universe.symbols:
        if near:
            drift = draw(st.floats(0.5, 2.0))
            weight = float(universe.fundamentals.loc[symbol, "benchmark_weight"])
            quantity = int(weight * drift * nav / float(last[symbol]))
            if quantity:
                lines.append(f"{symbol},{quantity},")
        elif draw(st.booleans()):
            lines.append(f"{symbol},{draw(st.integers(1, 4000))},")
    if draw(st.integers(0, 9)) == 0:
        lines.append(f"OUTSIDE,{draw(st.integers(1, 500))},{draw(st.decimals('1', '500', places=2))}")
    cash = draw(st.one_of(st.just(Decimal(0)), st.decimals("0", "250000", places=2)))
    lines.append(f"CASH,{cash}")
    return "\n".join(lines) + "\n"


@st.composite
def configs(draw: st.DrawFn, universe: Universe) -> dict[str, Any]:
    """A valid config: random limits, RSI rules, costs, lots, priors and regimes over ``universe``."""
    fraction = st.floats(0.0, 1.0, allow_nan=False)
    cash_min = draw(st.sampled_from([0.0, 0.0, 0.01, 0.05]))
    constraints: dict[str, Any] = {
        "max_weight": draw(st.sampled_from([1.0, 0.6, 0.4, 0.25])),
        "cash_min": cash_min,
        "cash_max": draw(st.sampled_from([1.0, 0.2, 0.1])) if cash_min < 0.1 else 1.0,
    }
    sometimes = st.integers(0, 2).map(lambda k: k == 0)  # each optional limit in a third of the configs
    if draw(sometimes):
        constraints["active_min"] = -draw(st.sampled_from([0.05, 0.2, 0.5]))
        constraints["active_max"] = draw(st.sampled_from([0.05, 0.2, 0.5]))
    if draw(sometimes):
        constraints["turnover_max"] = draw(st.sampled_from([0.02, 0.2, 0.5, 1.0]))
    if draw(sometimes):
        constraints["tracking_error_max"] = draw(st.sampled_from([0.01, 0.04, 0.1]))
    groups = draw(st.sampled_from([[], [{"by": "size_bucket", "name": "small", "max": 0.3}],
                                   [{"by": "asset_class", "name": "bond", "min": 0.1, "max": 0.6}],
                                   [{"by": "size_bucket", "name": "small", "min": -0.05, "max": 0.1,
                                     "relative_to": "benchmark"}]]))
    if groups:
        constraints["groups"] = groups
    if draw(st.booleans()):
        symbol = draw(st.sampled_from(universe.symbols))
        low = draw(st.sampled_from([0.0, 0.02, 0.05]))
        constraints["position_limits"] = {symbol: {"min": low, "max": max(low, draw(fraction))}}
    overbought = draw(st.sampled_from([55.0, 65.0, 70.0, 80.0]))
    min_trim = draw(st.sampled_from([0.0, 0.1, 0.3]))
    rsi = {"enabled": draw(st.sampled_from([True, True, True, False])), "period": draw(st.sampled_from([2, 5, 14, 30])),
           "overbought": overbought, "oversold": draw(st.sampled_from([20.0, 35.0, 45.0])),
           "min_trim": min_trim, "max_trim": draw(st.sampled_from([min_trim, 0.5, 1.0, 1.0])),
           "graded": draw(st.booleans()), "extreme": overbought + 10,
           "no_sell_when_oversold": draw(st.booleans()),
           "release": overbought - draw(st.sampled_from([0.0, 5.0, 15.0])),
           "sale_floor": draw(st.booleans()), "trim": draw(st.sampled_from(["position", "overweight"])),
           "scope": draw(st.sampled_from(["asset", "correlated"])), "correlation": draw(st.sampled_from([0.5, 0.9]))}
    trading = {"cost_bps": draw(st.sampled_from([0.0, 3.0, 25.0])), "lot_size": draw(st.sampled_from([1, 1, 10])),
               "min_trade_value": draw(st.sampled_from([0.0, 0.0, 500.0, 5000.0]))}
    returns = {"prior": draw(st.sampled_from(["equilibrium", "historical", "none"])), "tilt": draw(st.booleans()),
               "macro": {"rate_path": draw(st.sampled_from(["easing", "hold", "tightening"])),
                         "growth": draw(st.sampled_from(["expanding", "steady", "slowing", "contracting"]))}}
    return {"data": {"prices": "prices.csv", "fundamentals": "fundamentals.csv"},
            "universe": {"outside_holdings": draw(st.sampled_from(["hold", "sell"]))},
            "risk": {"lookback_days": universe.lookback, "model": draw(st.sampled_from(["ledoit_wolf", "sample"])),
                     "risk_aversion": draw(st.sampled_from([1.0, 2.5, 10.0]))},
            "returns": returns, "constraints": constraints, "rsi": rsi, "trading": trading}


# --- independent recomputation ------------------------------------------------------------------------------


def wilder_rsi_series(closes: list[float], period: int) -> list[float]:
    """Wilder RSI of one series after each close from the ``period``-th change on, computed plainly (not with the
    library's vectorized code)."""
    changes = [b - a for a, b in itertools.pairwise(closes)]
    gain = sum(max(c, 0.0) for c in changes[:period]) / period
    loss = sum(max(-c, 0.0) for c in changes[:period]) / period
    values = [_rsi(gain, loss)]
    for c in changes[period:]:
        gain = (gain * (period - 1) + max(c, 0.0)) / period
        loss = (loss * (period - 1) + max(-c, 0.0)) / period
        values.append(_rsi(gain, loss))
    return values


def _rsi(gain: float, loss: float) -> float:
    if loss == 0:
        return 50.0 if gain == 0 else 100.0
    return 100.0 - 100.0 / (1.0 + gain / loss)


def wilder_rsi_last(closes: list[float], period: int) -> float:
    """The last Wilder RSI of one series."""
    return wilder_rsi_series(closes, period)[-1]


def still_overbought(series: list[float], overbought: float, release: float) -> bool:
    """Walk the RSI back from the last day: overbought if it reached ``overbought`` before falling under
    ``release``."""
    for value in reversed(series):
        if value >= overbought:
            return True
        if value < release:
            return False
    return False


def check_limits(result: RunResult, config: dict[str, Any], universe: Universe) -> None:
    """Every limit of ``config`` holds for the target weights, recomputed from the config and the inputs."""
    u = result.universe
    w, cash = result.allocation.weight, result.allocation.cash_weight
    c = config["constraints"]
    info = universe.fundamentals.loc[list(u.symbols)]
    b = info["benchmark_weight"].to_numpy(dtype=float)
    w0 = u.weight
    held_outside = 0.0 if config["universe"]["outside_holdings"] == "sell" else float(u.outside_weight.sum())
    assert abs(w.sum() + cash + held_outside - 1.0) <= TOL
    assert c["cash_min"] - TOL <= cash <= c["cash_max"] + TOL
    lower = np.zeros(len(w))
    upper = np.full(len(w), c["max_weight"])
    for symbol, limit in c.get("position_limits", {}).items():
        i = u.symbols.index(symbol)
        lower[i], upper[i] = limit["min"], limit["max"]
    assert np.all(w >= lower - TOL) and np.all(w <= upper + TOL)
    if "active_min" in c:
        assert np.all(w - b >= c["active_min"] - TOL) and np.all(w - b <= c["active_max"] + TOL)
    for g in c.get("groups", []):
        members = (info[g["by"]] == g["name"]).to_numpy()
        base = b[members].sum() if g.get("relative_to") == "benchmark" else 0.0
        assert base + g.get("min", -9) - TOL <= w[members].sum() <= base + g["max"] + TOL, g
    if "tracking_error_max" in c:
        active = w - b
        assert np.sqrt(active @ result.risk.dense() @ active) <= c["tracking_error_max"] + TOL
    if "turnover_max" in c:
        sold_outside = float(u.outside_weight.sum()) if config["universe"]["outside_holdings"] == "sell" else 0.0
        # one-way turnover net of flows: cash above the floor is invested, cash below it raised, without counting
        inflow = max(u.cash_weight - c["cash_min"], 0.0)
        outflow = max(c["cash_min"] - u.cash_weight, 0.0)
        bought, sold = np.maximum(w - w0, 0).sum(), np.maximum(w0 - w, 0).sum() + sold_outside
        assert max(bought - inflow, sold - outflow, 0.0) <= c["turnover_max"] + TOL


def check_rsi(result: RunResult, config: dict[str, Any], universe: Universe) -> None:
    """RSI rules, with RSI recomputed here on the same window of closes."""
    rsi_config = config["rsi"]
    u = result.universe
    w = result.allocation.weight
    trades = {t.symbol: t for t in result.trades.trades}
    closes = universe.prices.loc[:, list(u.symbols)].iloc[-(universe.lookback + 1):]
    b = universe.fundamentals.loc[list(u.symbols), "benchmark_weight"].to_numpy(dtype=float)
    hot: list[int] = []
    sources: list[int] = []
    for i, symbol in enumerate(u.symbols):
        rsi = wilder_rsi_last(closes[symbol].tolist(), rsi_config["period"])
        assert abs(rsi - float(result.rsi.rsi[i])) < 1e-8
        if not rsi_config["enabled"]:
            assert not result.rsi.rules
            continue
        w0 = u.weight[i]
        series = wilder_rsi_series(closes[symbol].tolist(), rsi_config["period"])
        if still_overbought(series, rsi_config["overbought"], rsi_config["release"]):
            hot.append(i)
            anchor = b[i] if rsi_config["trim"] == "overweight" else 0.0
            if rsi_config["trim"] == "overweight" and w0 <= anchor + 1e-12:
                continue  # at or under the benchmark: no rule
            sources.append(i)
            min_trim = rsi_config["min_trim"]
            if rsi_config["graded"]:
                ramp = (rsi - rsi_config["overbought"]) / (rsi_config["extreme"] - rsi_config["overbought"])
                min_trim *= min(max(ramp, 0.0), 1.0)
            assert w[i] <= anchor + (1 - min_trim) * (w0 - anchor) + TOL, symbol
            if rsi_config["sale_floor"]:
                assert w[i] >= anchor + (1 - rsi_config["max_trim"]) * (w0 - anchor) - TOL, symbol
            assert symbol not in trades or trades[symbol].side == "SELL", f"{symbol} is overbought but bought"
        elif rsi <= rsi_config["oversold"] and rsi_config["no_sell_when_oversold"]:
            assert w[i] >= w0 - TOL
            assert symbol not in trades or trades[symbol].side == "BUY", f"{symbol} is oversold but sold"
    if rsi_config["enabled"] and rsi_config["scope"] == "correlated":
        sigma = result.risk.dense()
        vol = np.sqrt(np.diag(sigma))
        for j in sources:
            for i, symbol in enumerate(u.symbols):
                if i != j and i not in hot and sigma[i, j] / (vol[i] * vol[j]) > rsi_config["correlation"]:
                    assert w[i] <= u.weight[i] + TOL, f"{symbol} moves with overbought {u.symbols[j]} but gained"
                    assert symbol not in trades or trades[symbol].side == "SELL", f"{symbol} bought"


def check_trades(result: RunResult, holdings_text: str) -> None:
    """Reconcile the trade list against the holdings file, to the share and the cent."""
    current: dict[str, Decimal] = {}
    for line in holdings_text.splitlines()[1:]:
        symbol, quantity = line.split(",")[:2]
        if symbol != "CASH":
            current[symbol] = Decimal(quantity)
    cash = result.trades.cash_before_value
    assert cash == Decimal(holdings_text.splitlines()[-1].split(",")[1])
    final = dict(current)
    for t in result.trades.trades:
        assert t.quantity > 0 and t.notional_value == (t.quantity * t.price).quantize(CENT)
        assert t.current_quantity == current.get(t.symbol, Decimal(0))
        assert t.estimated_cost_value >= 0
        if t.side == "SELL":
            assert t.quantity <= current.get(t.symbol, Decimal(0)), "a sell larger than the position"
            final[t.symbol] = final.get(t.symbol, Decimal(0)) - t.quantity
            cash += t.notional_value
        else:
            final[t.symbol] = final.get(t.symbol, Decimal(0)) + t.quantity
            cash -= t.notional_value
        cash -= t.estimated_cost_value
        assert t.target_quantity == final[t.symbol]
    assert cash == result.trades.cash_after_value
    assert cash >= 0
    recorded = dict(zip(result.trades.symbols, result.trades.final_quantity, strict=True))
    for symbol, quantity in final.items():
        assert recorded.get(symbol, Decimal(0)) == quantity, symbol
        assert quantity >= 0


# --- the properties ------------------------------------------------------------------------------------------


def _attempt(universe: Universe, holdings_text: str, config: dict[str, Any], relax: bool = False
             ) -> RunResult | None:
    (universe.folder / "holdings.csv").write_text(holdings_text)
    (universe.folder / "config.yaml").write_text(yaml.safe_dump(config))
    note(holdings_text)
    note(yaml.safe_dump(config))
    try:
        loaded = load_config(universe.folder / "config.yaml")
        prepared = prepare(universe.folder / "holdings.csv", loaded, prices=universe.prices,
                           fundamentals=universe.fundamentals)
        result = run(universe.folder / "holdings.csv", loaded, prepared=prepared, cache=CACHE, relax=relax)
        event("solved")
        return result
    except AllocatorError as exc:
        assert type(exc) is not AllocatorError, f"an untyped failure: {exc.message()}"
        assert exc.exit_code in DOCUMENTED
        assert exc.message() and "Traceback" not in exc.message()
        note(f"failed as documented: exit {exc.exit_code}: {exc.message()}")
        event(f"refused with exit {exc.exit_code}")
        return None


@pytest.mark.slow
@settings(max_examples=RUNS)
@given(data=st.data())
def test_a_successful_run_keeps_every_promise(universes: list[Universe], data: st.DataObject) -> None:
    universe = data.draw(st.sampled_from(universes), label="universe")
    holdings_text = data.draw(accounts(universe), label="holdings")
    config = data.draw(configs(universe), label="config")
    result = _attempt(universe, holdings_text, config)
    if result is None:
        return
    check_limits(result, config, universe)
    check_rsi(result, config, universe)
    check_trades(result, holdings_text)


@pytest.mark.slow
@settings(max_examples=max(1, int(40 * example_scale())))
@given(data=st.data())
def test_a_relaxed_run_still_reconciles_and_reports_what_it_bent(universes: list[Universe],
                                                                 data: st.DataObject) -> None:
    universe = data.draw(st.sampled_from(universes), label="universe")
    holdings_text = data.draw(accounts(universe), label="holdings")
    config = data.draw(configs(universe), label="config")
    config["constraints"]["max_weight"] = 0.05  # too tight for any universe here: something must bend
    config["constraints"]["cash_max"] = 0.2
    config["constraints"].pop("position_limits", None)
    config["universe"]["outside_holdings"] = "sell"  # (held fixed, a large outside holding could fill the gap)
    result = _attempt(universe, holdings_text, config, relax=True)
    assume(result is not None)
    assert result is not None
    assert result.relaxations
    w, cash = result.allocation.weight, result.allocation.cash_weight
    held_outside = result.universe.held_outside_weight
    assert abs(w.sum() + cash + held_outside - 1.0) <= TOL
    check_trades(result, holdings_text)


# --- fuzzing the readers -------------------------------------------------------------------------------------

CELLS = st.one_of(st.sampled_from(["SPY", "AAA", "CASH", "Account Total", "--", "", "$1,234.56", "(12.50)", "1,000",
                                   "NaN", "inf", "-5", "0", "1e400", "=1+2", "Symbol", "Quantity", "Price",
                                   "SPAXX**", "Trade Date", "\u00a0", "\"", "Settlement Date"]),
                  st.text(max_size=8), st.decimals(allow_nan=True, allow_infinity=True).map(str))


@pytest.mark.slow
@settings(max_examples=max(1, int(500 * example_scale())))
@given(rows=st.lists(st.lists(CELLS, max_size=6), max_size=12), header=st.booleans(),
       newline=st.sampled_from(["\n", "\r\n"]), bom=st.booleans())
def test_any_holdings_file_reads_or_is_refused_with_a_data_error(tmp_path_factory: pytest.TempPathFactory,
                                                                 rows: list[list[str]], header: bool, newline: str,
                                                                 bom: bool) -> None:
    import csv
    import io

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator=newline)
    if header:
        writer.writerow(["Symbol", "Quantity", "Price", "Market Value"])
    writer.writerows(rows)
    path = tmp_path_factory.getbasetemp() / "fuzz-holdings.csv"
    path.write_text(("\ufeff" if bom else "") + buffer.getvalue(), encoding="utf-8")
    try:
        holdings = read_holdings(path)
    except AllocatorError as exc:
        assert exc.exit_code == 4 and type(exc).__name__ == "DataError"
        return
    assert holdings.cash_value >= 0
    assert len({p.symbol for p in holdings.positions}) == len(holdings.positions)
    assert all(p.quantity >= 0 and np.isfinite(p.quantity) for p in holdings.positions)
    assert all(p.price is None or (p.price > 0 and np.isfinite(p.price)) for p in holdings.positions)


YAML_VALUES = st.recursive(st.one_of(st.none(), st.booleans(), st.integers(-10, 10), st.floats(allow_nan=True),
                                     st.text(max_size=6)),
                           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner,
                                                                                       max_size=3), max_leaves=10)
SECTIONS = st.sampled_from(["data", "universe", "benchmark", "returns", "risk", "constraints", "rsi", "trading",
                            "solver", "output", "extends", "max_weight", "rsi.period"])


@pytest.mark.slow
@settings(max_examples=max(1, int(300 * example_scale())))
@given(document=st.dictionaries(SECTIONS, YAML_VALUES, max_size=5))
def test_any_config_loads_or_is_refused_with_a_config_error(tmp_path_factory: pytest.TempPathFactory,
                                                            document: dict[str, Any]) -> None:
    path = tmp_path_factory.getbasetemp() / "fuzz-config.yaml"
    path.write_text(yaml.safe_dump(document))
    try:
        load_config(path)
    except AllocatorError as exc:
        assert exc.exit_code == 3 and type(exc).__name__ == "ConfigError", exc.message()


@pytest.mark.slow
@settings(max_examples=max(1, int(60 * example_scale())))
@given(data=st.data())
def test_through_the_cli_every_outcome_is_a_documented_exit_and_outputs_are_all_or_nothing(
        universes: list[Universe], data: st.DataObject, tmp_path_factory: pytest.TempPathFactory) -> None:
    from click.testing import CliRunner

    from allocator.cli import main

    universe = data.draw(st.sampled_from(universes), label="universe")
    (universe.folder / "holdings.csv").write_text(data.draw(accounts(universe), label="holdings"))
    (universe.folder / "config.yaml").write_text(yaml.safe_dump(data.draw(configs(universe), label="config")))
    out = tmp_path_factory.mktemp("cli") / "out"
    result = CliRunner().invoke(main, ["run", str(universe.folder / "holdings.csv"), "-c",
                                       str(universe.folder / "config.yaml"), "-o", str(out), "-q"])
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert result.exit_code in {0} | DOCUMENTED, result.output
    if result.exit_code == 0:
        assert sorted(p.name for p in out.iterdir()) == ["manifest.json", "summary.json", "trades.csv", "weights.csv"]
    else:
        assert result.stderr.startswith("Error: ")
        left = sorted(p.relative_to(out.parent).as_posix() for p in out.parent.rglob("*"))
        if "the limits cannot all hold" in result.stderr:  # only the diagnosis is written
            assert left == ["out", "out/diagnosis.json"], left
        else:
            assert left == [], left
