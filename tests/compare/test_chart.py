"""The comparison chart: every successful scenario in the legend, bars of its target weights, a readable PNG."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest

from allocator.compare.chart import weights_figure
from allocator.compare.scenarios import compare
from allocator.compare.tables import ComparisonTables, comparison_tables
from allocator.optimize.problem import ProblemCache
from allocator.outputs.png import chart_png
from tests.helpers import write_config


@pytest.fixture
def tables(scenario_tables: ComparisonTables) -> ComparisonTables:
    """The tables of the scenario pack (tests/conftest.py, shared by the session)."""
    return scenario_tables


def test_legend_names_every_scenario(tables: ComparisonTables) -> None:
    figure = weights_figure(tables)
    assets = figure.axes[0]
    labels = [t.get_text() for t in assets.get_legend().get_texts()]
    assert labels == ["current", "benchmark", *tables.scenarios]
    assert "as of 2026-01-16" in figure.get_suptitle()


def test_bars_are_the_target_weights(tables: ComparisonTables) -> None:
    figure = weights_figure(tables)
    assets = figure.axes[0]
    shown = [t.get_text() for t in assets.get_yticklabels()]
    assert shown[-1] == "CASH" and "IWM" in shown and "VB" not in shown  # nobody holds VB
    for container, name in zip(assets.containers, tables.scenarios, strict=True):
        column = tables.scenarios.index(name)
        widths = [bar.get_width() for bar in container]
        expected = [tables.weight(symbol).targets[column] for symbol in shown]
        np.testing.assert_allclose(widths, expected, atol=1e-12)
    buckets = figure.axes[1]
    assert [t.get_text() for t in buckets.get_xticklabels()] == ["current", "benchmark", *tables.scenarios]
    small_labels = [t.get_text() for t in buckets.texts]
    assert small_labels[2] == "6.3%"  # goldilocks' small-cap weight (IWM trimmed by 10%), labelled on its bar


@pytest.mark.slow
def test_png_reads_back_with_matplotlib(tables: ComparisonTables) -> None:
    from matplotlib import image

    data = chart_png(weights_figure(tables))
    pixels = image.imread(io.BytesIO(data), format="png")
    assert pixels.shape[0] >= 600 and pixels.shape[1] >= 1000
    sample = pixels[::5, ::5].reshape(-1, pixels.shape[2])
    assert len(np.unique(sample, axis=0)) > 20, "a drawn chart, not a flat image"
    assert chart_png(weights_figure(tables)) == data, "the same tables give the same bytes"


def test_failed_scenarios_are_named_in_the_title_not_the_legend(example_copy: Path) -> None:
    typo = write_config(example_copy, "extends: base.yaml\nrsi: {overbougth: 60}\n", "typo.yaml")
    comparison = compare(example_copy / "examples/holdings.csv", [example_copy / "configs/base.yaml", typo],
                         cache=ProblemCache())
    figure = weights_figure(comparison_tables(comparison))
    labels = [t.get_text() for t in figure.axes[0].get_legend().get_texts()]
    assert labels == ["current", "benchmark", "base"]
    assert "failed, not shown: typo" in figure.get_suptitle()
