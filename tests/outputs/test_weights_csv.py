"""``weights.csv`` written into the model's rows (``model_weight_rows``) is the file of its cells (``csv_bytes`` of
``fixed`` texts), whatever the labels and however small the weights."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np
import pytest

from allocator.files.cells import csv_bytes, fixed, fixed_column, safe_text
from allocator.model.signals import reported_signals
from allocator.outputs.metrics import risk_contributions
from allocator.outputs.model_parts import float_list
from allocator.outputs.run_files import OUTSIDE, unsigned_zeros, weights_csv
from allocator.pipeline import RunResult, run
from tests.conftest import BASE_CONFIG, EXAMPLE_HOLDINGS


def cells_csv(result: RunResult) -> bytes:
    """``weights.csv`` by its definition: each cell written, then the file of the cells."""
    u, alloc, trades = result.universe, result.allocation, result.trades
    returns, risk = result.returns, result.risk
    signals = tuple(reported_signals(result.scores.signal_weights))
    header = ["symbol", "sector", "size_bucket", "asset_class", "current_weight", "benchmark_weight",
              "target_weight", "achieved_weight", "active_weight", "rsi", "prior", *[f"alpha_{k}" for k in signals],
              "views", "expected_return", "volatility", "risk_contribution", "beta", "alpha_volatility"]
    beta = returns.beta if returns.beta is not None else np.full(u.size, np.nan)
    numbers = {"current_weight": u.weight, "benchmark_weight": u.benchmark_weight, "target_weight": alloc.weight,
               "achieved_weight": trades.achieved_weight, "active_weight": alloc.weight - u.benchmark_weight,
               "prior": returns.prior, **{f"alpha_{k}": returns.contributions[k] for k in signals},
               "views": returns.views_part, "expected_return": returns.mu, "volatility": risk.volatility,
               "risk_contribution": risk_contributions(risk, alloc.weight), "beta": beta,
               "alpha_volatility": returns.alpha_volatility if returns.alpha_volatility is not None
               else risk.volatility}
    columns = {"symbol": [safe_text(s) for s in u.symbols], "sector": [safe_text(s) for s in u.sector],
               "size_bucket": list(u.size_bucket), "asset_class": [safe_text(s) for s in u.asset_class],
               "rsi": fixed_column(float_list(result.rsi.rsi), 4),
               **{name: fixed_column(float_list(values)) for name, values in numbers.items()}}
    columns["beta"] = [t if finite else "" for t, finite in zip(columns["beta"], np.isfinite(beta), strict=True)]
    rows: list[Sequence[str]] = list(zip(*[columns[name] for name in header], strict=True))
    for j, symbol in enumerate(u.outside_symbols):
        nav_after = float(trades.cash_after_value) + sum(float(q * p) for q, p in zip(
            trades.final_quantity, trades.prices, strict=True))
        target = 0.0 if u.outside_sold else float(u.outside_weight[j])
        rows.append([safe_text(symbol), OUTSIDE, "none", OUTSIDE, fixed(u.outside_weight[j]), fixed(0.0),
                     fixed(target), fixed(float(trades.final_quantity[u.size + j] * trades.prices[u.size + j])
                                          / nav_after), fixed(target), *[""] * (len(header) - 9)])
    benchmark_cash = 1.0 - float(u.benchmark_weight.sum())
    rows.append(["CASH", "cash", "none", "cash", fixed(u.cash_weight), fixed(benchmark_cash), fixed(alloc.cash_weight),
                 fixed(trades.achieved_cash_weight), fixed(alloc.cash_weight - benchmark_cash),
                 *[""] * (len(header) - 9)])
    return csv_bytes(header, rows)


@pytest.fixture(scope="module")
def result() -> RunResult:
    return run(EXAMPLE_HOLDINGS, BASE_CONFIG)


def test_weights_csv_is_the_file_of_its_cells(result: RunResult) -> None:
    assert weights_csv(result) == cells_csv(result)


def test_odd_labels_and_weights_that_round_to_a_negative_zero(result: RunResult) -> None:
    u = result.universe
    odd = ("=1+1", "a,b", 'say "x"', "100%", "%s", "-0.0000000000", "line\nbreak", "@x")
    relabel = {name: tuple(odd[(i + k) % len(odd)] for i in range(u.size))
               for k, name in enumerate(("symbols", "sector", "size_bucket", "asset_class"))}
    tiny = np.array([-0.0, -4e-11, -5e-11, -6e-11, -1e-10, 4e-11, 0.0, -0.3])
    weight = np.resize(tiny, u.size)
    prepared = dataclasses.replace(result.prepared, universe=dataclasses.replace(u, weight=weight, **relabel))
    odd_result = dataclasses.replace(result, prepared=prepared,
                                     allocation=dataclasses.replace(result.allocation, weight=weight[::-1].copy()))
    assert weights_csv(odd_result) == cells_csv(odd_result)
    assert weights_csv(result) == cells_csv(result)  # the model's rows kept for the first labels are not reused


def test_unsigned_zeros_are_written_as_fixed_writes_them() -> None:
    rng = np.random.default_rng(3)
    values = np.concatenate([[-0.0, 0.0, -4e-11, -5e-11, -5.000000000000001e-11, -6e-11, -1e-10, np.nan, -np.inf],
                             -rng.uniform(0, 2e-10, 2000), rng.standard_normal(100)])
    for digits in (4, 10):
        assert [f"%.{digits}f" % v for v in unsigned_zeros(values, digits).tolist()] == [
            fixed(v, digits) for v in values.tolist()]
