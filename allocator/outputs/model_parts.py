"""The parts of a run's files that are the same for every account of a model, computed once per model and process.

``allocate batch`` maps thousands of accounts onto one model (``pipeline.prepare_account``): every account shares
the model's return model, signal scores, symbols and (unless the account overrides its cash floor or lot size) its
loaded config, as the same objects. What the files make of them alone is therefore the same for each account:

- ``resolved_config``: the resolved config of ``manifest.json`` (a dict, read only) and its JSON text;
- ``model_summary_parts``: ``summary.json``'s ``attribution`` (each asset's expected return by part) and
  ``scores`` (each signal's z-scores), as JSON text.

Each is kept for the objects it was made from (by identity, the objects held so that an identity is never reused)
in a small cache of the last ``KEPT`` models: ``allocate run`` computes each once, as before; ``allocate batch``
once per model per worker process. The bytes are those ``json_bytes`` writes for the values (``JsonText``).
"""

from __future__ import annotations

from collections import OrderedDict
from typing import TYPE_CHECKING, Any

import numpy as np

from allocator.files.json_text import JsonText, json_part
from allocator.model.signals import reported_signals

if TYPE_CHECKING:
    from allocator.config.loader import LoadedConfig
    from allocator.domain import ReturnModel, Scores

KEPT = 16  # models kept per cache: a batch has a few models, each with a few account configs


class IdentityCache:
    """Values computed from a few objects, kept by the objects' identity (and the objects with them)."""

    def __init__(self) -> None:
        self.found: OrderedDict[tuple[int, ...], tuple[tuple[Any, ...], Any]] = OrderedDict()

    def get(self, objects: tuple[Any, ...]) -> Any | None:
        entry = self.found.get(tuple(id(o) for o in objects))
        return entry[1] if entry is not None and all(a is b for a, b in zip(entry[0], objects, strict=True)) \
            else None

    def put(self, objects: tuple[Any, ...], value: Any) -> Any:
        self.found[tuple(id(o) for o in objects)] = (objects, value)
        while len(self.found) > KEPT:
            self.found.popitem(last=False)
        return value


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
    attribution = {symbol: dict(zip(parts, row, strict=True)) for symbol, row in zip(symbols, rows, strict=True)}
    z = {k: dict(zip(symbols, np.asarray(scores.z[k], dtype=np.float64).tolist(), strict=True)) for k in signals}
    written = json_part(attribution, 1), json_part(z, 1)
    SUMMARY_PARTS.put((returns, scores), (symbols, *written))
    return written
