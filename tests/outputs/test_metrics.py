"""``exposures`` sums each label's weights as a running sum in the order of the assets, sorted by label."""

from __future__ import annotations

import types

import numpy as np

from allocator.outputs.metrics import GROUPINGS, exposures


def running_sums(labels: tuple[str, ...], weight: np.ndarray) -> dict[str, float]:
    totals: dict[str, float] = {}
    for label, w in zip(labels, weight, strict=True):
        totals[label] = totals.get(label, 0.0) + float(w)
    return dict(sorted(totals.items()))


def test_exposures_are_the_running_sums_of_each_label_sorted_by_label() -> None:
    rng = np.random.default_rng(42)
    pool = ["small", "Small", "mid", "é", "", "nan", "none", "z z"]
    for _ in range(50):
        n = int(rng.integers(0, 300))
        labels = {by: tuple(str(x) for x in rng.choice(pool, n)) for by in GROUPINGS}
        universe = types.SimpleNamespace(group_labels=labels.__getitem__)
        weight = rng.standard_normal(n) * 10.0 ** rng.integers(-12, 3, n)
        weight[: n // 4] = -0.0
        found = exposures(universe, weight, outside=0.25)  # type: ignore[arg-type]
        for by in GROUPINGS:
            expected = {**running_sums(labels[by], weight), "outside_universe": 0.25}
            assert list(found.by(by).items()) == sorted(expected.items())


def test_the_trades_in_numbers_are_the_trade_list_s_own_sums() -> None:
    from allocator.outputs.summary import trades_and_cost
    from allocator.pipeline import run
    from allocator.terms import BUY, SELL
    from tests.conftest import BASE_CONFIG, EXAMPLE_HOLDINGS

    trades = run(EXAMPLE_HOLDINGS, BASE_CONFIG).trades
    summary, cost = trades_and_cost(trades)
    sides = [t.side for t in trades.trades]
    assert summary.buys and summary.sells
    assert (summary.count, summary.buys, summary.sells) == (len(sides), sides.count(BUY), sides.count(SELL))
    assert (summary.bought_value, summary.sold_value) == (float(trades.bought_value), float(trades.sold_value))
    assert cost == trades.total_cost_value and str(cost) == str(trades.total_cost_value)
    assert (summary.cash_before_value, summary.cash_after_value) == (float(trades.cash_before_value),
                                                                     float(trades.cash_after_value))
