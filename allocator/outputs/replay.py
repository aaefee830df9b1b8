"""Repeat a recorded run from its ``manifest.json``: the same inputs, the same command, the same bytes.

``read_replay`` reads the manifest (``allocator.outputs.manifest``) and checks, before anything is solved, that
every input it lists (holdings, prices, fundamentals and each config of the ``extends`` chain) still has the
SHA-256 it had, that the config resolves to the same values, and notes package versions that differ.
``differing_outputs`` compares the data files of the new run with the digests the manifest recorded, so a repeated
run can say that it wrote the same bytes.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from allocator.config.loader import LoadedConfig, load_config
from allocator.errors import ConfigError, DataError
from allocator.files.manifest import FIX, Manifest, read_manifest
from allocator.files.reading import sha256_of
from allocator.outputs.manifest import versions

DATA_FILES = ("weights.csv", "trades.csv", "trades.json", "summary.json")


@dataclass(frozen=True)
class Replay:
    """A recorded run, verified against the files on disk and ready to run again."""

    holdings: Path
    config: LoadedConfig
    as_of: str | None
    cash: Decimal | None
    relax: bool
    trade_format: tuple[str, ...]
    command: dict[str, Any]
    outputs: dict[str, str]
    warnings: tuple[str, ...]
    mode: str | None = None
    raise_value: Decimal | None = None


def differences(recorded: Any, current: Any, key: str = "") -> tuple[list[str], list[str]]:
    """Key paths whose values differ, and key paths that only ``current`` has (fields added since)."""
    if isinstance(recorded, dict) and isinstance(current, dict):
        changed: list[str] = []
        added = [f"{key}.{k}".lstrip(".") for k in current if k not in recorded]
        for k, value in recorded.items():
            sub = f"{key}.{k}".lstrip(".")
            if k not in current:
                changed.append(f"{sub}: recorded {value!r}, no longer a key")
                continue
            more_changed, more_added = differences(value, current[k], sub)
            changed += more_changed
            added += more_added
        return changed, added
    if recorded != current:
        return [f"{key}: recorded {recorded!r}, now {current!r}"], []
    return [], []


def verify_inputs(manifest: Manifest) -> None:
    """Raise ``DataError`` for a recorded input that is gone or whose SHA-256 changed."""
    for name, entry in manifest.inputs.items():
        path = Path(entry.path)
        if not path.is_file():
            raise DataError(str(path), f"the recorded input {name} is gone",
                            "restore it where it was, or run without --from-manifest")
        actual = sha256_of(path)
        if actual != entry.sha256:
            raise DataError(str(path), f"the {name} input changed since the recorded run (sha256 {actual[:16]}..., "
                            f"recorded {entry.sha256[:16]}...)",
                            "restore the file as it was, or run without --from-manifest")


def read_replay(manifest_path: str | Path) -> Replay:
    """Read and verify the manifest at ``manifest_path``; raise ``DataError`` for an input that changed."""
    path = Path(manifest_path)
    where = str(path)
    manifest = read_manifest(path)
    verify_inputs(manifest)
    command = manifest.command
    holdings = manifest.inputs.get("holdings")
    config = manifest.inputs.get("config[0]")
    if holdings is None or config is None:
        raise DataError(f"{where}: inputs", "no holdings or config recorded", FIX)
    config_path = config.path
    loaded = load_config(config_path)
    chain = [str(p) for p in loaded.chain]
    if chain != list(manifest.config_chain):
        raise ConfigError(config_path, f"the extends chain is now {chain}, recorded {list(manifest.config_chain)}",
                          "restore the configs as they were")
    changed, added = differences(manifest.resolved_config, loaded.resolved())
    if changed:
        raise ConfigError(config_path, "the config resolves to other values under this version of allocate",
                          "run with the recorded version (see the manifest's versions)", details=changed)
    warnings = [f"config keys added since the recorded run, at their defaults: {', '.join(added)}"] if added else []
    now = versions()
    warnings += [f"recorded with {name} {then}, now {now.get(name, 'not installed')}; numbers may differ in the "
                 "last digits" for name, then in manifest.versions.items() if now.get(name) != then]
    cash_amount = _amount(command, "cash", where)
    raise_amount = _amount(command, "raise", where)
    mode = command.get("mode")
    if mode not in (None, "rebalance", "invest", "raise"):
        raise DataError(f"{where}: command.mode", f"not a trading mode: {mode!r}", FIX)
    return Replay(holdings=Path(holdings.path), config=loaded, as_of=command.get("as_of"), cash=cash_amount,
                  relax=bool(command.get("relax", False)), trade_format=_formats(command.get("format")),
                  command=command, outputs={k: v for k, v in manifest.outputs.items() if k in DATA_FILES},
                  warnings=tuple(warnings), mode=mode, raise_value=raise_amount)


def _amount(command: dict[str, Any], key: str, where: str) -> Decimal | None:
    """An amount the command recorded (``cash``, ``raise``), None when it recorded none."""
    value = command.get(key)
    try:
        return Decimal(value) if value is not None else None
    except (InvalidOperation, TypeError):
        raise DataError(f"{where}: command.{key}", f"not an amount: {value!r}", FIX) from None


def _formats(recorded: Any) -> tuple[str, ...]:
    """The trade-list formats a manifest recorded (one name, or a list of names)."""
    if isinstance(recorded, list | tuple):
        return tuple(str(x) for x in recorded) or ("csv",)
    return (str(recorded or "csv"),)


def differing_outputs(files: dict[str, bytes], recorded: dict[str, str]) -> list[str]:
    """The data files whose bytes differ from the recorded digests (or that the recorded run did not write)."""
    return [name for name, data in files.items() if name in DATA_FILES and
            recorded.get(name) != hashlib.sha256(data).hexdigest()]


def reproduction_report(files: dict[str, bytes], recorded: dict[str, str]) -> str:
    """One line saying whether ``files`` are the recorded bytes (``reproduced: ...``) or which are not."""
    if not recorded:
        return "Warning: the manifest records no digests of its data files; nothing to compare"
    differing = differing_outputs(files, recorded)
    if differing:
        return f"Warning: not the recorded bytes: {', '.join(differing)} differ from the recorded run"
    return "reproduced: the data files are byte-identical to the recorded run"
