"""The parts of a run's files that are the same for every account of a model, computed once per model and process.

``allocate batch`` maps thousands of accounts onto one model (``pipeline.prepare_account``): every account shares
the model's return model, signal scores, symbols and (unless the account overrides its cash floor or lot size) its
loaded config, as the same objects. What the files make of them alone is therefore the same for each account:

- ``resolved_config``: the resolved config of ``manifest.json`` (a dict, read only) and its JSON text;
- ``model_summary_parts``: ``summary.json``'s last keys (the signal multipliers, conviction and views,
  ``attribution``: each asset's expected return by part, and ``scores``: each signal's z-scores), as JSON text;
- ``benchmark_exposures``: the benchmark's exposures and their JSON text;
- ``model_weight_rows``: the rows of ``weights.csv`` with the cells that come from the model (labels, benchmark,
  RSI, the return model and volatility) written, as a format string for the account's numbers.

Each is kept for the objects it was made from (``allocator.identity_cache``): ``allocate run`` computes each once,
as before; ``allocate batch`` once per model per worker process. The bytes are those ``json_bytes`` writes for the
values (``JsonText``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from allocator.files.cells import csv_cell, fixed_column, safe_text
from allocator.files.json_text import JsonText, json_float_table, json_part
from allocator.identity_cache import IdentityCache
from allocator.model.signals import reported_signals
from allocator.outputs.metrics import Exposures, exposures

if TYPE_CHECKING:
    from allocator.config.loader import LoadedConfig
    from allocator.domain import FloatArray, ReturnModel, RiskModel, Scores, Universe

RESOLVED = IdentityCache()
SUMMARY_PARTS = IdentityCache()


def resolved_config(loaded: LoadedConfig) -> tuple[dict[str, Any], JsonText]:
    """``loaded.resolved()`` (not to be changed: it is shared) and its JSON text as a value of the manifest."""
    found: tuple[dict[str, Any], JsonText] | None = RESOLVED.get((loaded,))
    if found is None:
        data = loaded.resolved()
        found = RESOLVED.put((loaded,), (data, json_part(data, 1)))
    return found


def model_summary_parts(returns: ReturnModel, scores: Scores, symbols: tuple[str, ...]) -> dict[str, JsonText]:
    """The last keys of ``summary.json`` as JSON text, in the file's order: ``signal_multipliers`` (each reported
    signal's macro multiplier), ``conviction``, ``views`` (each view's expected return, confidence, prior and
    posterior), ``attribution`` (per asset: the prior, each reported signal's part, the views' part and the expected
    return, annualized) and ``scores`` (per reported signal: each asset's z-score)."""
    found: tuple[tuple[str, ...], dict[str, JsonText]] | None = SUMMARY_PARTS.get((returns, scores))
    if found is not None and found[0] == symbols:
        return found[1]
    signals = reported_signals(scores.signal_weights)
    parts = {"prior": returns.prior, **{k: returns.contributions[k] for k in signals}, "views": returns.views_part,
             "expected_return": returns.mu}
    rows = np.column_stack([np.asarray(v, dtype=np.float64) for v in parts.values()]).tolist()  # one pass to floats
    z = [np.asarray(scores.z[k], dtype=np.float64).tolist() for k in signals]
    views = [{"name": v.name, "source": v.source, "expected": v.expected, "confidence": v.confidence,
              "prior": v.prior_value, "posterior": v.posterior_value} for v in returns.views]
    written = {"signal_multipliers": json_part({k: scores.multipliers[k] for k in signals}, 1),
               "conviction": json_part(scores.conviction, 1), "views": json_part(views, 1),
               "attribution": json_float_table(symbols, list(parts), rows, 1),
               "scores": json_float_table(signals, symbols, z, 1)}
    SUMMARY_PARTS.put((returns, scores), (symbols, written))
    return written


BENCHMARK_EXPOSURES = IdentityCache()


def benchmark_exposures(universe: Universe) -> tuple[Exposures, JsonText]:
    """The benchmark's exposures (``exposures(universe, universe.benchmark_weight)``: not to be changed, they are
    shared) and their JSON text as a value of ``summary.json``, kept for the benchmark weights and the labels."""
    key = (universe.benchmark_weight, universe.size_bucket, universe.sector, universe.asset_class)
    found: tuple[Exposures, JsonText] | None = BENCHMARK_EXPOSURES.get(key)
    if found is None:
        weights = exposures(universe, universe.benchmark_weight)
        found = BENCHMARK_EXPOSURES.put(key, (weights, json_part(weights.to_json_dict(), 1)))
    return found


WEIGHT_ROWS = IdentityCache()
ACCOUNT_CELL = "%.10f"  # in ``model_weight_rows``: a number of the account, written as ``fixed`` writes it


def model_weight_rows(universe: Universe, returns: ReturnModel, risk: RiskModel, rsi: FloatArray,
                      signals: tuple[str, ...]) -> str:
    """``weights.csv``'s rows of the modelled assets as one format string, a line per asset: the cells that come
    from the model alone written (the symbol, sector, size bucket and asset class, the benchmark weight, the RSI (4
    decimals), the prior, each signal's part of the expected return (``alpha_<signal>``), the views' part, the
    expected return, the volatility, the beta (empty where it is not finite) and the alpha volatility), as
    ``csv.writer`` writes them, and ``ACCOUNT_CELL`` in place of the account's five numbers of each row (current,
    target, achieved and active weight, then the risk contribution, in the order of the header)."""
    key = (returns, risk, rsi, universe.benchmark_weight)
    labels = (universe.symbols, universe.sector, universe.size_bucket, universe.asset_class, signals)
    found: tuple[tuple[Any, ...], str] | None = WEIGHT_ROWS.get(key)
    if found is not None and found[0] == labels:
        return found[1]
    n = universe.size
    vol = risk.volatility
    beta = returns.beta if returns.beta is not None else np.full(n, np.nan)
    alpha_vol = returns.alpha_volatility if returns.alpha_volatility is not None else vol
    numbers = {"prior": returns.prior, **{f"alpha_{k}": returns.contributions[k] for k in signals},
               "views": returns.views_part, "expected_return": returns.mu, "volatility": vol}
    beta_texts = [text if finite else "" for text, finite in zip(fixed_column(float_list(beta)), np.isfinite(beta),
                                                                  strict=True)]
    columns = [[csv_cell(safe_text(s)) for s in universe.symbols], [csv_cell(safe_text(s)) for s in universe.sector],
               [csv_cell(s) for s in universe.size_bucket], [csv_cell(safe_text(s)) for s in universe.asset_class],
               [ACCOUNT_CELL] * n, fixed_column(float_list(universe.benchmark_weight)), *[[ACCOUNT_CELL] * n] * 3,
               fixed_column(float_list(rsi), 4), *[fixed_column(float_list(values)) for values in numbers.values()],
               [ACCOUNT_CELL] * n, beta_texts, fixed_column(float_list(alpha_vol))]
    form = "".join(",".join(row) + "\n" for row in zip(*[[cell if cell is ACCOUNT_CELL else cell.replace("%", "%%")
                                                          for cell in column] for column in columns], strict=True))
    WEIGHT_ROWS.put(key, (labels, form))
    return form


def float_list(values: Any) -> list[float]:
    """A column of numbers as Python floats, for ``fixed_column``."""
    floats: list[float] = np.asarray(values, dtype=np.float64).tolist()
    return floats
