"""``manifest.json`` as a record: the ``Manifest`` model and its one reader.

``Manifest.to_json_dict`` gives the file's keys in their fixed order; ``read_manifest`` reads one back
(``allocate run --from-manifest``, ``export`` and ``send``), raising ``DataError`` naming the file and the field for
anything that is not a manifest of ``allocate run``. The writer (``allocator.outputs.manifest.manifest_of``) builds
one from a finished run. This module imports nothing heavy, so ``export`` and ``send`` start instantly.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from allocator.errors import DataError
from allocator.files.reading import MIB, read_text

MANIFEST_FILE = "manifest.json"
MAX_MANIFEST_BYTES = 16 * MIB
REQUIRED = ("command", "inputs", "config_chain", "resolved_config")  # what makes a file a manifest of a run
FIX = "give the manifest.json of a previous run's output folder"
RUN_ID_PATTERN = re.compile(r"[0-9a-f]{64}")  # a run id: the SHA-256 hex digest of its inputs


@dataclass(frozen=True)
class InputFile:
    """One input of the run (holdings, prices, fundamentals, each config of the chain) and its SHA-256."""

    path: str
    sha256: str


@dataclass(frozen=True)
class Manifest:
    """A run's ``manifest.json``. ``inputs`` and ``command`` make the run repeatable; ``run_id`` and ``as_of``
    give its orders their IDs; ``outputs`` holds the SHA-256 of each data file written. ``solver``,
    ``risk_model``, ``holdings_rows`` and ``timings_seconds`` are records for audit, kept as written.
    ``path`` is the file a manifest was read from (None for one just built)."""

    command: dict[str, Any]
    as_of: date
    run_id: str
    config_chain: tuple[str, ...]
    resolved_config: dict[str, Any]
    inputs: dict[str, InputFile]
    versions: dict[str, str] = field(default_factory=dict)
    solver: dict[str, Any] = field(default_factory=dict)
    relaxations: tuple[str, ...] = ()
    risk_model: dict[str, Any] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    holdings_rows: dict[str, list[str]] = field(default_factory=dict)
    timings_seconds: dict[str, float] = field(default_factory=dict)
    outputs: dict[str, str] = field(default_factory=dict)
    path: Path | None = None

    @property
    def orders(self) -> dict[str, Any] | None:
        """The resolved ``orders:`` settings of the run, when recorded."""
        orders = self.resolved_config.get("orders")
        return orders if isinstance(orders, dict) else None

    def to_json_dict(self) -> dict[str, Any]:
        """The manifest as written to ``manifest.json`` (keys in this order; ``outputs`` last, once known)."""
        data: dict[str, Any] = {
            "command": self.command,
            "as_of": self.as_of.isoformat(),
            "run_id": self.run_id,
            "config_chain": list(self.config_chain),
            "resolved_config": self.resolved_config,
            "inputs": {name: {"path": f.path, "sha256": f.sha256} for name, f in self.inputs.items()},
            "versions": self.versions,
            "solver": self.solver,
            "relaxations": list(self.relaxations),
            "risk_model": self.risk_model,
            "notes": list(self.notes),
            "holdings_rows": self.holdings_rows,
            "timings_seconds": self.timings_seconds,
        }
        if self.outputs:
            data["outputs"] = self.outputs
        return data


def output_digests(files: Mapping[str, bytes]) -> dict[str, str]:
    """A manifest's ``outputs``: file name (``robust/trades.csv`` in a subfolder) -> SHA-256 (hex) of its bytes.
    Every command that writes an output folder records it, so ``--force`` can tell its files from others."""
    return {name: hashlib.sha256(data).hexdigest() for name, data in files.items()}


def read_manifest(path: Path) -> Manifest:
    """Read the ``manifest.json`` at ``path``; ``DataError`` naming the file and field when it is not one."""
    where = str(path)
    text = read_text(path, MAX_MANIFEST_BYTES, "manifest", expected="JSON", too_large_fix=FIX)
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        raise DataError(where, f"not a JSON manifest ({str(exc).splitlines()[0][:120]})", FIX) from None
    missing = [k for k in REQUIRED if not isinstance(data, dict) or k not in data]
    if missing:
        raise DataError(where, f"not a manifest of allocate run (no {', '.join(missing)})", FIX)
    run = data.get("run_id")
    if not isinstance(run, str) or not RUN_ID_PATTERN.fullmatch(run):
        raise DataError(f"{where}: run_id", "missing or not a SHA-256 hex digest",
                        "the manifest predates order IDs or was edited; rerun allocate run")
    return Manifest(
        command=_mapping(data, "command", where),
        as_of=as_of_date(data.get("as_of"), f"{where}: as_of"),
        run_id=run,
        config_chain=_texts(data, "config_chain", where),
        resolved_config=_mapping(data, "resolved_config", where),
        inputs=_inputs(data["inputs"], where),
        versions={str(k): str(v) for k, v in _mapping(data, "versions", where, required=False).items()},
        solver=_mapping(data, "solver", where, required=False),
        relaxations=_texts(data, "relaxations", where, required=False),
        risk_model=_mapping(data, "risk_model", where, required=False),
        notes=_texts(data, "notes", where, required=False),
        holdings_rows=_mapping(data, "holdings_rows", where, required=False),
        timings_seconds=_mapping(data, "timings_seconds", where, required=False),
        outputs={str(k): str(v) for k, v in _mapping(data, "outputs", where, required=False).items()},
        path=path,
    )


def _mapping(data: dict[str, Any], key: str, where: str, required: bool = True) -> dict[str, Any]:
    value = data.get(key)
    if value is None and not required:
        return {}
    if not isinstance(value, dict):
        raise DataError(f"{where}: {key}", f"expected a mapping, got {value!r}"[:200], FIX)
    return value


def _texts(data: dict[str, Any], key: str, where: str, required: bool = True) -> tuple[str, ...]:
    value = data.get(key)
    if value is None and not required:
        return ()
    if not isinstance(value, list) or not all(isinstance(x, str) for x in value):
        raise DataError(f"{where}: {key}", f"expected a list of text, got {value!r}"[:200], FIX)
    return tuple(value)


def _inputs(inputs: Any, where: str) -> dict[str, InputFile]:
    if not isinstance(inputs, dict) or not inputs:
        raise DataError(f"{where}: inputs", "no inputs recorded", FIX)
    found = {}
    for name, entry in inputs.items():
        if not isinstance(entry, dict) or not isinstance(entry.get("path"), str) or \
                not isinstance(entry.get("sha256"), str):
            raise DataError(f"{where}: inputs.{name}", "expected a path and a sha256", FIX)
        found[str(name)] = InputFile(path=entry["path"], sha256=entry["sha256"])
    return found


def as_of_date(value: Any, where: str) -> date:
    """The date ``YYYY-MM-DD`` in ``value``; ``DataError`` at ``where`` otherwise."""
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise DataError(where, f"expected a date YYYY-MM-DD, got {value!r}", "give the run's as-of date")
