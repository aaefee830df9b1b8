"""``run_batch``: a book of accounts rebalanced to their models, written as one output folder.

1. Read the accounts table and the book's holdings (a folder of files, or one file of several accounts).
2. Estimate each model once (``pipeline.prepare_model``); a model that fails fails its accounts only.
3. Open the journal of this batch (its key is the SHA-256 of every input and setting) in the work folder
   ``.<OUT>.batch-<key>`` beside the output; accounts it records are done.
4. Rebalance the others on the engine (``allocator.batch.engine``), chunk by chunk; each chunk's account files are
   written to the work folder, then the chunk is recorded in the journal: by the worker itself when it shares this
   machine's files (a LocalCluster, or this process), by the driver from the chunk's result on a cluster.
5. Aggregate the block orders, write ``batch.csv``, the block files and the manifest, and move the work folder's
   output into place in one rename (``files.staging.move_into_place``): the output appears complete or not at all.

A killed batch, run again with the same command, resumes at step 4 without redoing or duplicating an account.
"""

from __future__ import annotations

import dataclasses
import gc
import hashlib
import json
import os
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from allocator.batch.account_run import (
    AccountOutcome,
    AccountTask,
    BatchModel,
    RunOptions,
    Status,
)
from allocator.batch.accounts import (
    AccountHoldings,
    AccountSpec,
    book_files,
    folder_name,
    read_accounts_table,
)
from allocator.batch.bands import DriftBand
from allocator.batch.blocks import Block, blocks_of
from allocator.batch.restrictions import RestrictedPolicy
from allocator.config.loader import LoadedConfig, load_config
from allocator.errors import AllocatorError, DataError, UsageError
from allocator.files.manifest import InputFile

ProgressFn = Callable[[Sequence[AccountOutcome]], None]


@dataclass(frozen=True)
class BatchRequest:
    """What ``allocate batch`` was asked: the book, the default model (``-c``), the accounts table, the output
    folder and the settings every account shares unless its row overrides them."""

    book: Path
    out_dir: Path
    config: Path | None = None
    accounts_table: Path | None = None
    as_of: str | None = None
    band: DriftBand = field(default_factory=lambda: DriftBand(0.0))
    restricted: RestrictedPolicy = RestrictedPolicy.HOLD
    formats: tuple[str, ...] = ("csv",)
    workers: int | None = None
    scheduler: str | None = None
    force: bool = False

    def command(self) -> dict[str, Any]:
        return {"batch": str(self.book), "config": None if self.config is None else str(self.config),
                "accounts": None if self.accounts_table is None else str(self.accounts_table), "as_of": self.as_of,
                "band": self.band.describe(), "restricted": self.restricted.value, "format": list(self.formats)}


@dataclass(frozen=True)
class BatchResult:
    """A finished batch: every account's outcome (book order), the blocks, where it was written, how many accounts
    the journal held already (``resumed``) and how many were rebalanced now, on which engine, in how long."""

    outcomes: tuple[AccountOutcome, ...]
    blocks: tuple[Block, ...]
    written: Path
    resumed: int
    rebalanced: int
    engine: str
    seconds: float

    @property
    def failed(self) -> tuple[AccountOutcome, ...]:
        return tuple(o for o in self.outcomes if o.status in (Status.INFEASIBLE, Status.ERROR))

    @property
    def exit_code(self) -> int:
        """0 when every account traded or was in its band, else the first failed account's exit code."""
        return next((o.exit_code or 1 for o in self.failed), 0)


@dataclass(frozen=True)
class Plan:
    """The batch before it runs: models, accounts to rebalance, outcomes already known (accounts that fail before
    they reach a model) and the key of the whole."""

    models: dict[str, BatchModel]
    tasks: dict[str, list[AccountTask]]  # by model name
    early: list[AccountOutcome]
    order: list[str]  # every account, in the book's order
    key: str
    inputs: dict[str, InputFile]
    orders_config: LoadedConfig


def run_batch(request: BatchRequest, progress: ProgressFn | None = None,
              on_start: Callable[[int, int, str], None] | None = None, engine: Any = None) -> BatchResult:
    """Rebalance the book of ``request`` and publish its output folder; see the module docstring.

    ``on_start(total, resumed, engine)`` is called once the journal is read, ``progress(outcomes)`` after each
    chunk; ``engine`` replaces the engine ``request`` asks for (tests)."""
    from allocator.batch.engine import BatchEngine
    from allocator.files.staging import replacing_existing
    from allocator.outputs.publish import check_replaceable

    started = time.perf_counter()
    target = Path(os.path.abspath(request.out_dir))
    replacing_existing(target, request.force, check_replaceable)
    with BatchEngine(request.workers, request.scheduler) as starting:
        plan = plan_batch(request, None if engine is not None else starting.on_book)
        return _publish(request, plan, target, starting, engine, progress, on_start, started)


def _publish(request: BatchRequest, plan: Plan, target: Path, starting: Any, engine: Any,
             progress: ProgressFn | None, on_start: Callable[[int, int, str], None] | None, started: float
             ) -> BatchResult:
    """Steps 3 to 5 of the module docstring for ``plan``; the engine is ``engine``, else ``starting``'s."""
    from allocator.batch.batch_files import batch_files, batch_manifest
    from allocator.batch.chunk import JOURNAL, OUTPUT, write_account_files
    from allocator.batch.engine import chunked
    from allocator.batch.journal import Journal
    from allocator.files.staging import clean_stale, move_into_place, replacing_existing, write_files
    from allocator.outputs.publish import check_replaceable

    work = target.parent / f".{target.name}.batch-{plan.key[:16]}"
    staging = work / OUTPUT
    (staging / "accounts").mkdir(parents=True, exist_ok=True)
    journal = Journal(work / JOURNAL, plan.key)
    gc.freeze()  # the book and the models stay alive to the end: no collection walks them (collector)
    try:
        done = journal.finished()
        resumed = len(done)
        early = [o for o in plan.early if o.account not in done]
        write_account_files(staging, early)
        journal.record(early)
        done.update({o.account: o for o in early})
        todo = {name: [t for t in tasks if t.holdings.account not in done] for name, tasks in plan.tasks.items()}
        todo = {name: tasks for name, tasks in todo.items() if tasks}
        count = sum(len(t) for t in todo.values())
        runner = engine if engine is not None else starting.take(count)
        description = runner.description if runner is not None else "nothing to rebalance"
        shared = runner is not None and runner.shared_files  # the workers write the files and journal rows
        options = RunOptions(restricted=request.restricted, formats=request.formats, command=request.command(),
                             work=str(work) if shared else None, batch_key=plan.key)
        try:
            if on_start is not None:
                on_start(len(plan.order), resumed, description)
            if progress is not None and early:
                progress(early)
            if runner is not None:
                for outcomes in runner.run(plan.models, chunked(todo, runner.workers), options):
                    fresh = [o for o in outcomes if o.account not in done]
                    if not shared:
                        write_account_files(staging, fresh)
                        journal.record(fresh)
                    done.update({o.account: o for o in fresh})
                    if progress is not None:
                        progress(fresh)
        finally:
            if runner is not None and engine is None:
                runner.close()
        outcomes = tuple(done[account] for account in plan.order)
        blocks = blocks_of(leg for o in outcomes for leg in o.legs)
        as_of = max(m.market.window.as_of.date() for m in plan.models.values()) if plan.models else None
        if as_of is None:
            raise DataError(str(request.book), "no account could be mapped onto a model", "see batch.csv")
        manifest = batch_manifest(request.command(), plan.key, as_of, plan.orders_config, plan.inputs)
        files = batch_files(outcomes, blocks, manifest, plan.orders_config, request.formats)
        write_files(staging, files)
        clean_stale(target)
        replacing = replacing_existing(target, request.force, check_replaceable)
        move_into_place(staging, target, replacing)
    finally:
        journal.close()
        gc.unfreeze()
    shutil.rmtree(work, ignore_errors=True)
    return BatchResult(outcomes=outcomes, blocks=blocks, written=target, resumed=resumed,
                       rebalanced=count, engine=description, seconds=time.perf_counter() - started)


def plan_batch(request: BatchRequest, on_book: Callable[[int], None] | None = None) -> Plan:
    """Read the accounts table, the book and the models; the tasks per model and the batch's key.
    ``on_book(accounts)`` is called once the book is read, before the models are estimated."""
    from allocator.batch.collector import paused
    from allocator.pipeline import prepare_model

    specs = read_accounts_table(request.accounts_table) if request.accounts_table is not None else {}
    default = load_config(request.config) if request.config is not None else None
    model_paths = {spec.model for spec in specs.values() if spec.model is not None}
    loaded: dict[Path, LoadedConfig | AllocatorError] = {}
    for path in sorted(model_paths):
        try:
            loaded[path] = load_config(path)
        except AllocatorError as exc:
            loaded[path] = exc
    reading = default or next((c for c in loaded.values() if isinstance(c, LoadedConfig)), None)
    if reading is None:
        raise UsageError("-c/--config", "no model config", "give the model with -c, or a model column in "
                         "--accounts naming configs that load")
    with paused():  # tens of thousands of rows that all stay alive (collector)
        book = read_book(request.book, reading, request.accounts_table)
    names = [h.account for h in book]
    if len(set(names)) != len(names):
        twice = sorted({n for n in names if names.count(n) > 1})
        raise DataError(str(request.book), f"accounts listed twice in the book: {', '.join(twice[:5])}",
                        "give each account one holdings file")
    folders: dict[str, str] = {}
    for name in names:
        other = folders.setdefault(folder_name(name), name)
        if other != name:
            raise DataError(str(request.book), f"accounts {other!r} and {name!r} would share the output folder "
                            f"accounts/{folder_name(name)}", "rename one of them")
    if on_book is not None:
        on_book(len(names))
    holdings = {h.account: h for h in book}
    order = [*names, *[a for a in specs if a not in holdings]]
    models: dict[str, BatchModel] = {}
    failed_models: dict[str, AllocatorError] = {}
    configs: dict[str, LoadedConfig | AllocatorError] = {}
    if default is not None and request.config is not None:
        configs[str(request.config)] = default
    configs.update({_model_name(p): c for p, c in loaded.items()})
    for name, config in configs.items():
        if isinstance(config, AllocatorError):
            failed_models[name] = config
            continue
        try:
            market = prepare_model(config, request.as_of)
        except AllocatorError as exc:
            failed_models[name] = exc
            continue
        key = hashlib.sha256(json.dumps(market.inputs, sort_keys=True).encode()).hexdigest()
        models[name] = BatchModel(name=name, key=key, market=market)
    tasks: dict[str, list[AccountTask]] = {}
    early: list[AccountOutcome] = []
    model_names = {path: _model_name(path) for path in model_paths}
    for account in order:
        spec = specs.get(account, AccountSpec(account=account))
        model = model_names[spec.model] if spec.model is not None else (
            str(request.config) if request.config is not None else "")
        band = spec.band or request.band
        base = AccountOutcome(account=account, model=model, status=Status.ERROR, band=band.describe())
        if account not in holdings:
            early.append(dataclasses.replace(base, reason=f"{request.book}: no holdings for account {account!r} of "
                                             f"{request.accounts_table}", exit_code=DataError.exit_code))
        elif not model:
            early.append(dataclasses.replace(base, reason="no model: give -c or the account's model in --accounts",
                                             exit_code=UsageError.exit_code))
        elif model in failed_models:
            error = failed_models[model]
            early.append(dataclasses.replace(base, reason=error.message(), exit_code=error.exit_code))
        else:
            tasks.setdefault(model, []).append(AccountTask(holdings=holdings[account], spec=spec, band=band))
    inputs = _inputs(request, book, models)
    identity = {"inputs": {k: v.sha256 for k, v in inputs.items()}, "command": request.command(),
                "failed_models": sorted(failed_models), "version": 1}
    key = hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()
    orders = default if default is not None else next(m.market.loaded for m in models.values()) if models else reading
    return Plan(models=models, tasks=tasks, early=early, order=order, key=key, inputs=inputs, orders_config=orders)


def _model_name(path: Path) -> str:
    return os.path.relpath(path)


def _inputs(request: BatchRequest, book: Sequence[AccountHoldings], models: dict[str, BatchModel]
            ) -> dict[str, InputFile]:
    """The manifest's inputs: the accounts table, each holdings file and each model's files, by name."""
    from allocator.files.reading import sha256_of

    found: dict[str, InputFile] = {}
    if request.accounts_table is not None:
        path = request.accounts_table.absolute()
        found["accounts"] = InputFile(str(path), sha256_of(path))
    for h in book:
        found.setdefault(f"holdings:{Path(h.source).name}", InputFile(h.source, h.sha256))
    for name, model in models.items():
        for key, entry in model.market.inputs.items():
            found[f"{name}:{key}"] = InputFile(entry["path"], entry["sha256"])
    return found


def read_book(path: Path, config: LoadedConfig, table: Path | None) -> list[AccountHoldings]:
    """The book's accounts: a folder (one account per file, named after the file, the accounts table excluded) or
    one file of several accounts (split by its account column with ``config``'s ``data`` settings). The accounts'
    positions are read into numbers where each account is rebalanced, not here."""
    from allocator.files.reading import FileLimits, read_text
    from allocator.inputs.holdings import account_rows

    cfg = config.config
    limits = FileLimits.from_megabytes(cfg.data.max_file_mb, cfg.data.max_rows)
    skip = table.resolve() if table is not None else None
    files = [f for f in book_files(path) if f.resolve() != skip]
    found: list[AccountHoldings] = []
    for file in files:
        source = str(file.absolute())
        text = read_text(file, limits.max_bytes, "holdings file", windows_1252=True)
        digest = hashlib.sha256(file.read_bytes()).hexdigest()
        if path.is_dir():
            found.append(AccountHoldings(account=file.stem, source=source, sha256=digest, text=text))
            continue
        for account, rows in account_rows(text, source, cfg.data.holdings_columns, limits,
                                          cfg.trading.fractional_shares, cfg.data.cash_symbols).items():
            found.append(AccountHoldings(account=account or file.stem, source=source, sha256=digest, rows=rows))
    return found
