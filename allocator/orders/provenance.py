"""Whose order IDs a trade list may carry: a run's own only for a trade list that the run's manifest records.

Client order IDs derive from a run id (``allocator.orders.ids``), so the orders built from a trade list go out as
that run's orders. A trade list (``trades.csv`` or ``trades.json``, under any file name) is the run's when the
run's ``manifest.json`` records it among its ``outputs``: the SHA-256 of the file's bytes is one the manifest lists,
or the SHA-256 of its CSV form is (the bytes of the ``trades.csv`` it renders, the digest that approval names: a
``trades.json`` exported from the run's ``trades.csv`` gives the very same orders), and a JSON list's run id and
as-of date are the manifest's. Anything else is refused (``DataError``, naming the file): a list edited after the
run (a quantity, a side, a row), a list of another run, and a JSON list whose manifest is neither beside it nor
named, since nothing could then tell an edited list from the run's.

With ``new_ids`` (``allocate export --new-ids``) such a list is given new order IDs instead: its run id is derived
from the original run id, the list's CSV digest and its as-of date (``derived_run_id``), so the same edited list
gets the same IDs every time and never the run's. A ``trades.json`` written so records the original run id as
``derived_from`` and is read back under its derived id after checking that its trades still give that id.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date

from allocator.errors import DataError
from allocator.files.manifest import Manifest

NEW_IDS = "export it under new order IDs with allocate export --new-ids"


@dataclass(frozen=True)
class Carried:
    """What a JSON trade list says of its run: run id, as-of date and, for new IDs, the run id it came from."""

    run_id: str
    as_of: date
    derived_from: str | None = None


@dataclass(frozen=True)
class Identity:
    """The run id a trade list's orders take, and the original run id when it is a derived one."""

    run_id: str
    derived_from: str | None = None


def derived_run_id(original_run_id: str, csv_sha256: str, as_of: date) -> str:
    """The run id of a trade list given new order IDs: SHA-256 of the original run id, the list's CSV digest and
    its as-of date (a different list, or the same list under another run, gets different IDs)."""
    data = {"as_of": as_of.isoformat(), "derived_from": original_run_id, "trade_list_sha256": csv_sha256}
    return hashlib.sha256(json.dumps(data, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def unidentified(where: str) -> DataError:
    """The error for a CSV trade list read without its manifest: it has no run id or as-of date at all."""
    return DataError(where, "a CSV trade list does not carry its run id and as-of date",
                     "keep the run's manifest.json beside it, or name it with --manifest")


def trade_list_identity(where: str, file_sha256: str, csv_sha256: str, as_of: date, carried: Carried | None,
                        manifest: Manifest | None, new_ids: bool = False) -> Identity:
    """The run id under which the trade list at ``where`` may be turned into orders.

    ``file_sha256`` is the digest of the file's bytes, ``csv_sha256`` that of its CSV form, ``as_of`` its as-of
    date; ``carried`` is what a JSON list says of its run (None for a CSV list, which takes both from
    ``manifest``). Raises ``DataError`` for a list that is not the run's, unless ``new_ids``.
    """
    fix = f"use the trade list the run wrote, rerun allocate run for a new list, or {NEW_IDS}"
    if carried is not None and carried.derived_from is not None:
        if carried.run_id == derived_run_id(carried.derived_from, csv_sha256, as_of):
            return Identity(carried.run_id, carried.derived_from)
        original = carried.derived_from
        problem = (f"edited after it was given new order IDs: its run id {carried.run_id[:12]} is not the one its "
                   "trades give")
    elif manifest is None:
        if carried is None:
            raise unidentified(where)
        original = carried.run_id
        problem = ("carries a run id, but no manifest.json of its run is beside it to check that the run wrote this "
                   "list (its orders would go out under that run's order IDs)")
        fix = f"keep the run's manifest.json beside it, or name it with --manifest; or {NEW_IDS}"
    else:
        original = manifest.run_id
        source = manifest.path or "the run's manifest"
        recorded = set(manifest.outputs.values())
        if carried is not None and carried.run_id != manifest.run_id:
            problem = f"carries run id {carried.run_id[:12]}, but {source} is the manifest of run {original[:12]}"
            fix = f"name the manifest of run {carried.run_id[:12]} with --manifest; or {NEW_IDS}"
        elif carried is not None and carried.as_of != manifest.as_of:
            problem = f"its as-of date {carried.as_of} is not the run's ({manifest.as_of}, in {source})"
        elif file_sha256 in recorded or csv_sha256 in recorded:
            return Identity(manifest.run_id)
        else:
            problem = (f"edited after the run, or not its trade list: no SHA-256 of it is among the outputs {source} "
                       "records (its orders would go out under the run's order IDs)")
    if new_ids:
        return Identity(derived_run_id(original, csv_sha256, as_of), original)
    raise DataError(where, problem, fix)
