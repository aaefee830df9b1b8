"""The backtest's ``manifest.json``, and repeating a backtest from it byte for byte.

The manifest has the keys of ``allocate run``'s (``allocator.files.manifest``): the command (``command:
backtest`` and its options), the last session as ``as_of``, a ``run_id`` (SHA-256 of the inputs' digests and the
span), the config chain and resolved config, every input with its SHA-256, the package versions, the look-ahead
of the inputs under ``notes``, the timings, and the SHA-256 of every output file. ``read_backtest_replay`` checks
that each input still has its recorded digest and the config resolves as it did, and gives back the request;
``differing_files`` names the outputs of the repeat whose bytes differ from the recorded ones.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from allocator.backtest.request import BacktestRequest, ResolvedBacktest
from allocator.config.loader import load_config
from allocator.errors import ConfigError, DataError
from allocator.files.manifest import FIX, InputFile, Manifest, read_manifest
from allocator.orders.ids import run_fingerprint
from allocator.outputs.manifest import versions
from allocator.outputs.replay import differences, verify_inputs


def backtest_manifest(command: dict[str, Any], resolved: ResolvedBacktest, files: dict[str, bytes],
                      timings: dict[str, float], look_ahead: tuple[str, ...]) -> Manifest:
    """The manifest of a finished backtest run by ``command`` (``BacktestRequest.command``, and the manifest it
    repeated, if any) whose output files are ``files``."""
    sessions = resolved.schedule.sessions
    loaded = resolved.loaded
    return Manifest(
        command=command,
        as_of=sessions[-1].date(),
        run_id=run_fingerprint(resolved.inputs, sessions[-1].date().isoformat(), str(resolved.account.cash),
                               (), {"start": sessions[0].date().isoformat()}),
        config_chain=tuple(str(p) for p in loaded.chain),
        resolved_config=loaded.resolved(),
        inputs={name: InputFile(path=entry["path"], sha256=entry["sha256"]) for name, entry in resolved.inputs.items()},
        versions=versions(),
        notes=(*look_ahead, *loaded.notes),
        timings_seconds=timings,
        outputs={name: hashlib.sha256(data).hexdigest() for name, data in sorted(files.items())},
    )


@dataclass(frozen=True)
class BacktestReplay:
    """A recorded backtest, verified against the files on disk: its request and its outputs' digests."""

    request: BacktestRequest
    outputs: dict[str, str]
    warnings: tuple[str, ...]


def read_backtest_replay(path: Path) -> BacktestReplay:
    """Read and verify the backtest manifest at ``path`` (``DataError`` for a changed input or a manifest of
    another command, ``ConfigError`` for a config that now resolves otherwise)."""
    manifest = read_manifest(path)
    command = manifest.command
    if command.get("command") != "backtest":
        raise DataError(f"{path}: command", "not the manifest of allocate backtest",
                        "give the manifest.json of a backtest's output folder")
    verify_inputs(manifest)
    config = manifest.inputs.get("config[0]")
    if config is None:
        raise DataError(f"{path}: inputs", "no config recorded", FIX)
    loaded = load_config(config.path)
    recorded = dict(manifest.resolved_config)
    current = loaded.resolved()
    for key in ("backtest",):  # the options were applied over these keys when it was recorded
        recorded.pop(key, None)
        current.pop(key, None)
    changed, added = differences(recorded, current)
    if changed:
        raise ConfigError(config.path, "the config resolves to other values under this version of allocate",
                          "run with the recorded version (see the manifest's versions)", details=changed)
    cash = command.get("initial_cash")
    try:
        initial_cash = Decimal(cash) if cash is not None else None
    except (InvalidOperation, TypeError):
        raise DataError(f"{path}: command.initial_cash", f"not an amount: {cash!r}", FIX) from None
    holdings = command.get("holdings")
    request = BacktestRequest(config=Path(config.path), start=command.get("start"), end=command.get("end"),
                              every=command.get("every"), holdings=Path(holdings) if holdings else None,
                              initial_cash=initial_cash)
    warnings = [f"config keys added since the recorded run, at their defaults: {', '.join(added)}"] if added else []
    return BacktestReplay(request=request, outputs=dict(manifest.outputs), warnings=tuple(warnings))


def differing_files(files: dict[str, bytes], recorded: dict[str, str]) -> list[str]:
    """The output files whose bytes differ from the recorded digests, or that were not recorded."""
    return sorted(name for name, data in files.items() if recorded.get(name) != hashlib.sha256(data).hexdigest())

