"""The book of accounts: each account's holdings and its row of the accounts table.

Holdings come as a folder of holdings files (one account per file, named after the file) or as one file with an
``account`` column (any layout ``read_holdings`` takes, broker exports of several accounts included). The accounts
table (``accounts.csv``) maps each account to its model and overrides:

    account, model, cash_target, restricted, lot_size, mode, band

Only ``account`` is required. ``model`` is a config file (relative to the table; empty: the batch's ``-c``),
``cash_target`` the account's cash floor (fraction of NAV), ``restricted`` symbols never bought (separated by
spaces or ``;``), ``lot_size`` the default lot (shares), ``mode`` ``rebalance | invest | raise`` and ``band`` the
drift band (``allocator.batch.bands``). An empty cell keeps the model's setting.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from dataclasses import dataclass
from pathlib import Path

from allocator.batch.bands import DriftBand, parse_band
from allocator.config.schema import TradingMode
from allocator.domain import Holdings
from allocator.errors import DataError
from allocator.files.cells import canonical_symbol, is_ticker, parse_number
from allocator.files.reading import FileLimits, read_text
from allocator.inputs.holdings import AccountRows

TABLE_COLUMNS = ("account", "model", "cash_target", "restricted", "lot_size", "mode", "band")
HOLDINGS_SUFFIXES = (".csv", ".txt", ".tsv")
UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


@dataclass(frozen=True)
class AccountSpec:
    """An account's row of the accounts table; None (or empty) keeps the model's setting."""

    account: str
    model: Path | None = None
    cash_target: float | None = None
    restricted: tuple[str, ...] = ()
    lot_size: float | None = None
    mode: TradingMode | None = None
    band: DriftBand | None = None
    row: str = ""  # where the row is, "accounts.csv: row 3", for messages; empty for an account the table omits


@dataclass(frozen=True)
class AccountHoldings:
    """One account of the book: the text of its own file, or its rows split from a file of several accounts (both
    read where the account is rebalanced), or its holdings already read. ``source`` is the file (absolute) and
    ``sha256`` its digest; ``inputs`` the manifest's entries for the holdings."""

    account: str
    source: str
    sha256: str
    text: str | None = None
    rows: AccountRows | None = None
    holdings: Holdings | None = None

    @property
    def inputs(self) -> dict[str, dict[str, str]]:
        entry = {"holdings": {"path": self.source, "sha256": self.sha256}}
        if self.text is None:  # one file of several accounts: the account names which rows
            digest = hashlib.sha256(self.account.encode()).hexdigest()
            entry["account"] = {"path": self.account, "sha256": digest}
        return entry


def folder_name(account: str) -> str:
    """The account's folder in the output: its name with anything but letters, digits, ``.``, ``_`` and ``-``
    replaced by ``_`` (and never hidden)."""
    name = UNSAFE.sub("_", account)
    return "_" + name if name.startswith(".") else name


def read_accounts_table(path: Path) -> dict[str, AccountSpec]:
    """The accounts table at ``path``, by account; ``DataError`` naming the file, row and column on a bad cell."""
    where = str(path)
    text = read_text(path, FileLimits().max_bytes, "accounts table")
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff"), newline=""))
    header = [h.strip().lower() for h in reader.fieldnames or []]
    if "account" not in header:
        raise DataError(where, "no account column", f"give a header row with the columns {', '.join(TABLE_COLUMNS)}")
    unknown = [h for h in header if h not in TABLE_COLUMNS]
    if unknown:
        raise DataError(where, f"unknown columns {', '.join(unknown)}", f"use only {', '.join(TABLE_COLUMNS)}")
    reader.fieldnames = header
    specs: dict[str, AccountSpec] = {}
    models: dict[str, Path] = {}  # one path per model, shared by its accounts (pickled once per chunk)
    for number, row in enumerate(reader, start=2):
        cells = {k: (v or "").strip() for k, v in row.items() if k is not None}
        account = cells.get("account", "")
        if not account:
            raise DataError(f"{where}: row {number}: account", "empty account", "name the account")
        if account in specs:
            raise DataError(f"{where}: row {number}: account", f"account {account!r} listed twice",
                            "give each account one row")
        specs[account] = _spec(cells, f"{where}: row {number}", path.parent, models)
    return specs


def _spec(cells: dict[str, str], where: str, folder: Path, models: dict[str, Path]) -> AccountSpec:
    model = cells.get("model", "")
    if model and model not in models:
        models[model] = (folder / model).absolute()
    mode = cells.get("mode", "").lower()
    if mode and mode not in {m.value for m in TradingMode}:
        raise DataError(f"{where}: mode", f"unknown mode {mode!r}", "use rebalance, invest or raise")
    restricted = tuple(canonical_symbol(s) for s in re.split(r"[\s;|]+", cells.get("restricted", "")) if s)
    bad = [s for s in restricted if not is_ticker(s)]
    if bad:
        raise DataError(f"{where}: restricted", f"not a ticker: {bad[0]!r}",
                        "list tickers separated by spaces or semicolons")
    cash = _number(cells, "cash_target", where)
    if cash is not None and not 0.0 <= cash < 1.0:
        raise DataError(f"{where}: cash_target", f"expected a fraction of NAV in [0, 1), got {cash}",
                        "write 2% as 0.02")
    lot = _number(cells, "lot_size", where)
    if lot is not None and lot <= 0:
        raise DataError(f"{where}: lot_size", f"expected a positive number of shares, got {lot}", "fix the lot size")
    band = cells.get("band", "")
    return AccountSpec(account=cells["account"], model=models[model] if model else None,
                       cash_target=cash, restricted=restricted, lot_size=lot,
                       mode=TradingMode(mode) if mode else None,
                       band=parse_band(band, f"{where}: band") if band else None, row=where)


def _number(cells: dict[str, str], column: str, where: str) -> float | None:
    try:
        value = parse_number(cells.get(column, ""))
    except ValueError as exc:
        raise DataError(f"{where}: {column}", str(exc), "give a plain decimal number") from None
    return None if value is None else float(value)


def book_files(path: Path) -> list[Path]:
    """The holdings files of a book: ``path`` itself, or the holdings files of the folder ``path`` (sorted)."""
    if not path.exists():
        raise DataError(str(path), "no such file or folder", "give a folder of holdings files or one holdings file")
    if path.is_file():
        return [path]
    files = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in HOLDINGS_SUFFIXES
                   and not p.name.startswith("."))
    if not files:
        raise DataError(str(path), "no holdings files (.csv, .txt, .tsv) in the folder",
                        "give a folder of holdings files, one per account")
    return files
