"""The parts of a run's files that are the same for every account of a model, computed once per model and process.

``allocate batch`` maps thousands of accounts onto one model (``pipeline.prepare_account``): every account shares
the model's return model, signal scores, symbols and (unless the account overrides its cash floor or lot size) its
loaded config, as the same objects. What the files make of them alone is therefore the same for each account:

- ``resolved_config``: the resolved config of ``manifest.json`` (a dict, read only) and its JSON text;
- ``model_summary_parts``: ``summary.json``'s ``attribution`` (each asset's expected return by part) and
  ``scores`` (each signal's z-scores), as JSON text;
- ``model_weight_columns``: the columns of ``weights.csv`` that come from the model (labels, benchmark, RSI, the
  return model and volatility), as text.

Each is kept for the objects it was made from (``allocator.identity_cache``): ``allocate run`` computes each once,
as before; ``allocate batch`` once per model per worker process. The bytes are those ``json_bytes`` writes for the
values (``JsonText``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from allocator.files.cells import fixed_column, safe_text
from allocator.files.json_text import JsonText, json_float_table, json_part
from allocator.identity_cache import IdentityCache
from allocator.model.signals import reported_signals

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


def model_summary_parts(returns: ReturnModel, scores: Scores, symbols: tuple[str, ...]
                        ) -> tuple[JsonText, JsonText]:
    """``summary.json``'s ``attribution`` (per asset: the prior, each reported signal's part, the views' part and
    the expected return, annualized) and ``scores`` (per reported signal: each asset's z-score) as JSON text."""
    found: tuple[tuple[str, ...], JsonText, JsonText] | None = SUMMARY_PARTS.get((returns, scores))
    if found is not None and found[0] == symbols:
        return found[1], found[2]
    signals = reported_signals(scores.signal_weights)
    parts = {"prior": returns.prior, **{k: returns.contributions[k] for k in signals}, "views": returns.views_part,
             "expected_return": returns.mu}
    rows = np.column_stack([np.asarray(v, dtype=np.float64) for v in parts.values()]).tolist()  # one pass to floats
    z = [np.asarray(scores.z[k], dtype=np.float64).tolist() for k in signals]
    written = json_float_table(symbols, list(parts), rows, 1), json_float_table(signals, symbols, z, 1)
    SUMMARY_PARTS.put((returns, scores), (symbols, *written))
    return written


WEIGHT_COLUMNS = IdentityCache()


def model_weight_columns(universe: Universe, returns: ReturnModel, risk: RiskModel, rsi: FloatArray,
                         signals: tuple[str, ...]) -> dict[str, list[str]]:
    """``weights.csv``'s columns that come from the model alone, as text, by column name: the symbols, sectors, size
    buckets and asset classes, the benchmark weight, the RSI (4 decimals), the prior, each signal's part of the
    expected return (``alpha_<signal>``), the views' part, the expected return, the volatility, the beta (empty
    where it is not finite) and the alpha volatility."""
    key = (returns, risk, rsi, universe.benchmark_weight)
    labels = (universe.symbols, universe.sector, universe.size_bucket, universe.asset_class, signals)
    found: tuple[tuple[Any, ...], dict[str, list[str]]] | None = WEIGHT_COLUMNS.get(key)
    if found is not None and found[0] == labels:
        return found[1]
    n = universe.size
    vol = risk.volatility
    beta = returns.beta if returns.beta is not None else np.full(n, np.nan)
    alpha_vol = returns.alpha_volatility if returns.alpha_volatility is not None else vol
    numbers = {"benchmark_weight": universe.benchmark_weight, "prior": returns.prior,
               **{f"alpha_{k}": returns.contributions[k] for k in signals}, "views": returns.views_part,
               "expected_return": returns.mu, "volatility": vol, "beta": beta, "alpha_volatility": alpha_vol}
    columns = {"symbol": [safe_text(s) for s in universe.symbols], "sector": [safe_text(s) for s in universe.sector],
               "size_bucket": list(universe.size_bucket), "asset_class": [safe_text(s) for s in universe.asset_class],
               "rsi": fixed_column(float_list(rsi), 4),
               **{name: fixed_column(float_list(values)) for name, values in numbers.items()}}
    columns["beta"] = [text if finite else "" for text, finite in zip(columns["beta"], np.isfinite(beta),
                                                                      strict=True)]
    WEIGHT_COLUMNS.put(key, (labels, columns))
    return columns


def float_list(values: Any) -> list[float]:
    """A column of numbers as Python floats, for ``fixed_column``."""
    floats: list[float] = np.asarray(values, dtype=np.float64).tolist()
    return floats
