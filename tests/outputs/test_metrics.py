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
