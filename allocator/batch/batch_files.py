"""The batch's own files, beside the accounts' folders: ``batch.csv``, the block orders and the manifests.

- ``batch.csv``: one row per account, in the book's order: status (``traded | in_band | infeasible | error``), NAV,
  drift before and after (in the band's measure), the band, trades, one-way turnover, estimated cost and reason;
- ``blocks.csv`` and ``allocations.csv`` (``allocator.batch.blocks``);
- ``blocks/sells/trades.csv`` and ``blocks/buys/trades.csv``: the blocks of each side as a trade list with its
  own ``manifest.json`` (run id and order settings), so ``allocate export`` and ``allocate send`` take them as they
  take a run's trade list; the two sides have distinct run ids, so their client order IDs never collide;
- ``manifest.json``: the command, every input's SHA-256 and the SHA-256 of the files above.

No file holds a time or a worker's name: the same book gives the same bytes in this process and on a cluster.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import date
from typing import Any

from allocator.batch.account_run import AccountOutcome
from allocator.batch.blocks import Block, allocations_csv, block_trade_records, blocks_csv
from allocator.config.loader import LoadedConfig
from allocator.config.schema import OutputFormat
from allocator.files.cells import csv_bytes, fixed, safe_text
from allocator.files.json_text import json_bytes
from allocator.files.manifest import MANIFEST_FILE, InputFile, Manifest
from allocator.outputs.manifest import versions
from allocator.terms import BUY, SELL

BATCH_COLUMNS = ("account", "model", "status", "nav", "drift_before", "drift_after", "band", "trades", "turnover",
                 "cost", "reason")
SIDE_FOLDERS = {SELL: "blocks/sells", BUY: "blocks/buys"}


def batch_csv(outcomes: Sequence[AccountOutcome]) -> bytes:
    """``batch.csv``: one row per account (see the module docstring); the reason on one line."""
    rows = []
    for o in outcomes:
        rows.append([safe_text(o.account), safe_text(o.model), o.status.value, o.nav_value,
                     "" if o.drift_before is None else fixed(o.drift_before, 8),
                     "" if o.drift_after is None else fixed(o.drift_after, 8), o.band, str(o.trades),
                     fixed(o.turnover, 8), o.cost_value, safe_text(" | ".join(o.reason.splitlines()))])
    return csv_bytes(BATCH_COLUMNS, rows)


def side_run_id(batch_id: str, side: str) -> str:
    """The run id of one side's block trade list (client order IDs come from it)."""
    return hashlib.sha256(f"{batch_id}:{side}".encode()).hexdigest()


def batch_files(outcomes: Sequence[AccountOutcome], blocks: Sequence[Block], manifest: Manifest,
                orders_config: LoadedConfig, formats: Sequence[str]) -> dict[str, bytes]:
    """The batch's files, name -> bytes; ``manifest`` is completed with the SHA-256 of the others."""
    from allocator.orders.export import trade_files
    from allocator.orders.trade_sheet import sheet_from_records

    files = {"batch.csv": batch_csv(outcomes), "blocks.csv": blocks_csv(blocks),
             "allocations.csv": allocations_csv(blocks)}
    for side, folder in SIDE_FOLDERS.items():
        chosen = [b for b in blocks if b.side == side]
        if not chosen:
            continue
        run_id = side_run_id(manifest.run_id, side)
        sheet = sheet_from_records(block_trade_records(chosen), run_id, manifest.as_of)
        rendered = trade_files(sheet, [OutputFormat(f) for f in formats], orders_config.config.orders)
        side_manifest = Manifest(command={**manifest.command, "blocks": side}, as_of=manifest.as_of, run_id=run_id,
                                 config_chain=manifest.config_chain, resolved_config=manifest.resolved_config,
                                 inputs=manifest.inputs, versions=manifest.versions,
                                 outputs={name: hashlib.sha256(data).hexdigest() for name, data in rendered.items()})
        files.update({f"{folder}/{name}": data for name, data in rendered.items()})
        files[f"{folder}/{MANIFEST_FILE}"] = json_bytes(side_manifest.to_json_dict())
    record = Manifest(**{**manifest.__dict__,
                         "outputs": {name: hashlib.sha256(data).hexdigest() for name, data in files.items()}})
    files[MANIFEST_FILE] = json_bytes(record.to_json_dict())
    return files


def batch_manifest(command: dict[str, Any], batch_id: str, as_of: date, orders_config: LoadedConfig,
                   inputs: dict[str, InputFile]) -> Manifest:
    """The batch's manifest before its outputs are known: ``orders_config`` (the batch's ``-c`` model) gives the
    config chain and the order settings that ``export`` and ``send`` read."""
    return Manifest(command=command, as_of=as_of, run_id=batch_id,
                    config_chain=tuple(str(p) for p in orders_config.chain),
                    resolved_config=orders_config.resolved(), inputs=inputs, versions=versions())
