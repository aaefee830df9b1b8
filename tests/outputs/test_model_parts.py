"""The parts of the files written once per model (``allocator.outputs.model_parts``): the same JSON as the values
written in place, kept by the identity of the objects they come from."""

from __future__ import annotations

import dataclasses
import json

from allocator.model.signals import reported_signals
from allocator.outputs.model_parts import model_summary_parts, resolved_config
from allocator.pipeline import prepare
from tests.conftest import BASE_CONFIG, EXAMPLE_HOLDINGS


def test_each_model_gets_its_own_parts_and_the_same_model_the_same_ones() -> None:
    prepared = prepare(EXAMPLE_HOLDINGS, BASE_CONFIG)
    returns, scores, symbols = prepared.returns, prepared.scores, prepared.universe.symbols
    parts = model_summary_parts(returns, scores, symbols)
    assert list(parts) == ["signal_multipliers", "conviction", "views", "attribution", "scores"]
    assert model_summary_parts(returns, scores, symbols) is parts
    attribution, z = parts["attribution"], parts["scores"]
    shown = json.loads("{\"a\": " + attribution.text + "}")["a"]
    assert list(shown) == list(symbols)
    assert [row["expected_return"] for row in shown.values()] == [round(float(m), 10) for m in returns.mu]
    moved = dataclasses.replace(returns, mu=returns.mu + 0.01)  # another model with the same symbols
    again = json.loads("{\"a\": " + model_summary_parts(moved, scores, symbols)["attribution"].text + "}")["a"]
    assert [row["expected_return"] for row in again.values()] == [round(float(m) + 0.01, 10) for m in returns.mu]
    assert list(json.loads("{\"z\": " + z.text + "}")["z"]) == list(reported_signals(scores.signal_weights))


def test_the_resolved_config_is_kept_per_loaded_config() -> None:
    loaded = prepare(EXAMPLE_HOLDINGS, BASE_CONFIG).loaded
    data, text = resolved_config(loaded)
    assert data == loaded.resolved() and json.loads("{\"c\": " + text.text + "}")["c"] == json.loads(
        json.dumps(data))
    risk = loaded.config.risk.model_copy(update={"risk_aversion": 7.5})
    other = dataclasses.replace(loaded, config=loaded.config.model_copy(update={"risk": risk}))
    assert resolved_config(other)[0]["risk"]["risk_aversion"] == 7.5
    assert resolved_config(loaded)[0] is data


def test_the_benchmark_exposures_are_kept_with_their_text_and_used_only_for_themselves() -> None:
    from allocator.files.json_text import rounded
    from allocator.outputs.metrics import exposures
    from allocator.outputs.model_parts import benchmark_exposures
    from allocator.outputs.summary import summarize, summary_json
    from allocator.pipeline import run

    result = run(EXAMPLE_HOLDINGS, BASE_CONFIG)
    universe = result.universe
    found, text = benchmark_exposures(universe)
    assert found == exposures(universe, universe.benchmark_weight) and benchmark_exposures(universe)[0] is found
    assert json.loads("{\"b\": " + text.text + "}")["b"] == json.loads(json.dumps(rounded(found.to_json_dict())))
    summary = summarize(result)
    assert summary.benchmark_exposures is found
    other = dataclasses.replace(summary, benchmark_exposures=summary.exposures)  # a summary made otherwise
    assert json.loads(summary_json(result, other))["benchmark_exposures"] == json.loads(
        summary_json(result, summary))["exposures"]
