"""Approval of a run's trade list: who approved which list, and when; ``send`` refuses what nobody approved.

The trade list is named by its digest: the SHA-256 of its CSV form (``trades.csv`` exactly as the run wrote it, so
``sha256sum trades.csv`` gives the same digest; a run that wrote only ``trades.json`` is digested as the CSV it
would have written). The report page shows it; ``allocate approve OUT_DIR --by NAME`` records it, with the
approver's name and the time (UTC), in ``approval.json`` beside the run's ``manifest.json``, written atomically. The
file keeps every approval, the latest last; the latest one is the one that counts.

With ``orders.require_approval: true``, ``allocate send`` sends a trade list only when the latest approval of its
run names that list's digest: an unapproved list, and a list whose digest differs from the approved one, are
refused (``OrderError``, exit 6) before any session is opened. An ``orders.fix`` file carries no trade list to
digest, so it is refused too: send the approved ``trades.csv`` or ``trades.json`` (the same orders).
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from allocator.errors import DataError, OrderError
from allocator.files.atomic import write_file_atomically
from allocator.files.json_text import json_bytes
from allocator.files.manifest import MANIFEST_FILE, Manifest, read_manifest
from allocator.files.reading import MIB, read_text
from allocator.orders.trade_sheet import TradeSheet, read_trade_sheet, trades_csv

APPROVAL_FILE = "approval.json"
TRADE_LISTS = ("trades.csv", "trades.json")  # the files a trade list is read from, in this order
SHORTEST_PREFIX = 12  # the fewest hex digits of the digest ``approve --digest`` accepts (the page shows more)
DIGEST = re.compile(r"[0-9a-f]{64}")
NAME = re.compile(r"[^\x00-\x1f\x7f]{1,200}")
FIX = f"run allocate approve on the run's folder, or remove the edited {APPROVAL_FILE}"


@dataclass(frozen=True)
class Approval:
    """One approval: the trade list's file and SHA-256 digest, how many trades it holds, who and when (UTC)."""

    trade_list_sha256: str
    trade_list: str
    trades: int
    approved_by: str
    approved_at: str

    def to_json_dict(self) -> dict[str, Any]:
        return {"trade_list_sha256": self.trade_list_sha256, "trade_list": self.trade_list, "trades": self.trades,
                "approved_by": self.approved_by, "approved_at": self.approved_at}


@dataclass(frozen=True)
class Approvals:
    """``approval.json``: the run's id and its approvals, oldest first."""

    run_id: str
    approvals: tuple[Approval, ...]

    @property
    def latest(self) -> Approval | None:
        return self.approvals[-1] if self.approvals else None

    def to_json_dict(self) -> dict[str, Any]:
        return {"run_id": self.run_id, "approvals": [a.to_json_dict() for a in self.approvals]}


def trade_list_digest(sheet: TradeSheet) -> str:
    """The SHA-256 (hex) of the trade list's CSV form, the bytes of the run's ``trades.csv``."""
    return hashlib.sha256(trades_csv(sheet)).hexdigest()


def trade_list_path(folder: Path) -> Path:
    """The run's trade list in ``folder``: ``trades.csv``, else ``trades.json``; ``DataError`` when neither."""
    for name in TRADE_LISTS:
        if (folder / name).is_file():
            return folder / name
    raise DataError(str(folder), f"no trade list ({' or '.join(TRADE_LISTS)})",
                    "give the output folder of allocate run")


def read_approvals(folder: Path) -> Approvals | None:
    """``folder``'s ``approval.json``, or None when there is none; ``DataError`` naming the field when invalid."""
    path = folder / APPROVAL_FILE
    if not path.is_file():
        return None
    return approvals_from_text(read_text(path, MIB, "approval file", expected="JSON", too_large_fix=FIX), str(path))


def approvals_from_text(content: str, where: str) -> Approvals:
    """The approvals of an ``approval.json`` read as ``content`` from ``where``."""
    try:
        data = json.loads(content)
    except json.JSONDecodeError as exc:
        raise DataError(f"{where}:{exc.lineno}:{exc.colno}", f"invalid JSON: {exc.msg}", FIX) from None
    if not isinstance(data, dict) or not isinstance(data.get("run_id"), str) or \
            not isinstance(data.get("approvals"), list):
        raise DataError(where, "not an approval file (expected run_id and approvals)", FIX)
    approvals = []
    for i, entry in enumerate(data["approvals"]):
        at = f"{where}: approvals[{i}]"
        if not isinstance(entry, dict):
            raise DataError(at, "expected an object", FIX)
        texts = {k: entry.get(k) for k in ("trade_list_sha256", "trade_list", "approved_by", "approved_at")}
        for key, value in texts.items():
            if not isinstance(value, str) or not value:
                raise DataError(f"{at}.{key}", f"expected text, got {value!r}", FIX)
        if not DIGEST.fullmatch(str(texts["trade_list_sha256"])):
            raise DataError(f"{at}.trade_list_sha256", "not a SHA-256 hex digest", FIX)
        trades = entry.get("trades")
        if not isinstance(trades, int) or isinstance(trades, bool) or trades < 0:
            raise DataError(f"{at}.trades", f"expected a count, got {trades!r}", FIX)
        approvals.append(Approval(trade_list_sha256=str(texts["trade_list_sha256"]),
                                  trade_list=str(texts["trade_list"]), trades=trades,
                                  approved_by=str(texts["approved_by"]), approved_at=str(texts["approved_at"])))
    return Approvals(run_id=data["run_id"], approvals=tuple(approvals))


def run_trade_list(folder: Path) -> tuple[Manifest, Path, TradeSheet]:
    """The run's manifest, trade list file and sheet in ``folder`` (the list checked unedited against the
    manifest's digests)."""
    manifest_path = folder / MANIFEST_FILE
    if not manifest_path.is_file():
        raise DataError(str(folder), f"no {MANIFEST_FILE}", "give the output folder of allocate run")
    manifest = read_manifest(manifest_path)
    path = trade_list_path(folder)
    return manifest, path, read_trade_sheet(path, manifest)


def approve(folder: Path, by: str, now: datetime, expected: str | None = None) -> tuple[Approval, Path]:
    """Record that ``by`` approved the trade list of the run in ``folder`` at ``now`` (written as UTC; a naive time
    is taken as local).

    ``expected`` is the digest the approver reviewed (the page shows it; at least ``SHORTEST_PREFIX`` leading hex
    digits): the approval is refused unless the list's digest starts with it. Returns the approval and the file
    written (``approval.json``, the earlier approvals kept).
    """
    name = by.strip()
    if not NAME.fullmatch(name):
        raise DataError("--by", f"expected a name of 1 to 200 printable characters, got {by!r}",
                        "give the approver's name")
    manifest, path, sheet = run_trade_list(folder)
    digest = trade_list_digest(sheet)
    if expected is not None:
        given = expected.strip().lower()
        if len(given) < SHORTEST_PREFIX or not DIGEST.fullmatch(given.ljust(64, "0")):
            raise DataError("--digest", f"expected at least {SHORTEST_PREFIX} hex digits of a SHA-256, got "
                            f"{expected!r}", "copy the trade list's digest from the report page")
        if not digest.startswith(given):
            raise DataError(str(path), f"the trade list's SHA-256 is {digest}, not the {given} reviewed",
                            "review the report of this trade list (allocate report) before approving it")
    earlier = read_approvals(folder)
    kept = earlier.approvals if earlier is not None and earlier.run_id == manifest.run_id else ()
    approval = Approval(trade_list_sha256=digest, trade_list=path.name, trades=len(sheet.rows), approved_by=name,
                        approved_at=now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))
    record = Approvals(run_id=manifest.run_id, approvals=(*kept, approval))
    return approval, write_file_atomically(folder / APPROVAL_FILE, json_bytes(record.to_json_dict()), force=True)


def check_approved(trades_path: Path, manifest: Manifest | None, sheet: TradeSheet | None) -> Approval:
    """The approval that lets ``send`` send this trade list (``orders.require_approval``); ``OrderError`` when the
    list is an order file, or its run has no approval, or the latest approval names another digest."""
    where = str(trades_path)
    fix = "review the run's report page and run allocate approve OUT_DIR --by NAME, then send again"
    if sheet is None:
        raise OrderError(where, "orders.require_approval: an order file carries no trade list to check against "
                         "the approval", "send the approved trades.csv or trades.json instead (the same orders)")
    folder = manifest.path.parent if manifest is not None and manifest.path is not None else trades_path.parent
    record = read_approvals(folder)
    latest = record.latest if record is not None and record.run_id == sheet.run_id else None
    if latest is None:
        raise OrderError(where, f"orders.require_approval: this trade list is not approved (no approval of run "
                         f"{sheet.run_id[:12]} in {folder / APPROVAL_FILE})", fix)
    digest = trade_list_digest(sheet)
    if digest != latest.trade_list_sha256:
        raise OrderError(where, f"orders.require_approval: the trade list's SHA-256 {digest} differs from the one "
                         f"{latest.approved_by} approved at {latest.approved_at} ({latest.trade_list_sha256})", fix)
    return latest
