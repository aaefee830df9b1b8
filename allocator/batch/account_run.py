"""Rebalance one account of a batch on its model: the work a worker does, account by account.

``allocator.batch.chunk`` runs a chunk of accounts on a model (estimated once, broadcast) through
``rebalance_account``, account by account. Each account is mapped onto the model (``pipeline.prepare_account``)
with its overrides, solved on the worker's compiled problem for that model and universe (``WorkerState``: one
``ProblemCache`` per model per worker process, so only the parameters change from one account to the next), checked
against its drift band, rounded to whole lots and reconciled (``pipeline.run``), and rendered to the four files of
``allocate run``. A failure is the
account's own outcome (``infeasible`` with the diagnosis of ``run``, or ``error`` with the message): it never stops
the other accounts.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from operator import attrgetter
from typing import TYPE_CHECKING, Any

from allocator.batch.accounts import AccountHoldings, AccountSpec
from allocator.batch.bands import DriftBand
from allocator.batch.blocks import Leg, pack_legs, unpack_legs
from allocator.batch.restrictions import RestrictedPolicy, with_restrictions
from allocator.config.loader import LoadedConfig
from allocator.config.schema import Config, TradingMode
from allocator.errors import AllocatorError, ConfigError, DataError, InfeasibleError
from allocator.pipeline import MarketModel, prepare_account

if TYPE_CHECKING:
    from allocator.domain import Universe
    from allocator.optimize.problem import ProblemCache
    from allocator.trading.trades import TradeList


class Status(StrEnum):
    TRADED = "traded"
    IN_BAND = "in_band"
    INFEASIBLE = "infeasible"
    ERROR = "error"


BATCH_INFEASIBLE_FIX = ("relax the limits named below in the model or the account's row of the accounts table, "
                        "or run the account alone with allocate run --relax to see the smallest relaxation")


@dataclass(frozen=True)
class BatchModel:
    """A model of the batch: its name (the config file as given), a key for its inputs (SHA-256) and the market
    model computed once from it."""

    name: str
    key: str
    market: MarketModel


@dataclass(frozen=True)
class AccountTask:
    """One account to rebalance: its holdings, its row of the accounts table and its drift band."""

    holdings: AccountHoldings
    spec: AccountSpec
    band: DriftBand


@dataclass(frozen=True)
class RunOptions:
    """Settings of every account of a batch: the restricted-symbol policy, the trade file formats and the command
    recorded in each account's manifest; ``work``, the batch's work folder when the workers share the driver's
    files (``allocator.batch.chunk``: each chunk's files and journal rows are written there where it runs), and
    ``batch_key``, the journal's key."""

    restricted: RestrictedPolicy = RestrictedPolicy.HOLD
    formats: tuple[str, ...] = ("csv",)
    command: dict[str, Any] = field(default_factory=dict)
    work: str | None = None
    batch_key: str = ""


@dataclass(frozen=True)
class AccountOutcome:
    """What became of one account: its ``batch.csv`` row, its trades (``legs``), the exit code of ``run`` for a
    failure (0 otherwise) and its output files (name -> bytes; none for an account in its band)."""

    account: str
    model: str
    status: Status
    nav_value: str = ""
    drift_before: float | None = None
    drift_after: float | None = None
    band: str = ""
    trades: int = 0
    turnover: float = 0.0
    cost_value: str = "0"
    reason: str = ""
    exit_code: int = 0
    legs: tuple[Leg, ...] = ()
    files: dict[str, bytes] = field(default_factory=dict, compare=False)

    def to_json(self) -> dict[str, Any]:
        """The outcome without its files (they are on disk), for the journal."""
        data = {k: v for k, v in self.__dict__.items() if k not in ("files", "legs")}
        return {**data, "legs": [leg.to_json() for leg in self.legs]}

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickled with its legs packed in one string (``blocks.pack_legs``): the outcomes travel from the workers
        to the driver, and are kept in the journal, pickled."""
        values = OUTCOME_VALUES(self)
        return _unpickle_outcome, (values, pack_legs(self.account, self.legs), self.files)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> AccountOutcome:
        legs = tuple(Leg.from_json(leg) for leg in data["legs"])
        return cls(**{**data, "status": Status(data["status"]), "legs": legs})


OUTCOME_FIELDS = tuple(f for f in dataclasses.fields(AccountOutcome) if f.name not in ("legs", "files"))
OUTCOME_VALUES = attrgetter(*(f.name for f in OUTCOME_FIELDS))  # an outcome's values of them, as a tuple


def _unpickle_outcome(values: tuple[Any, ...], legs: str | tuple[Leg, ...], files: dict[str, bytes]
                      ) -> AccountOutcome:
    make: Any = AccountOutcome  # the fields before ``legs`` and ``files``, in order (``OUTCOME_FIELDS``)
    found: AccountOutcome = make(*values, legs=unpack_legs(values[0], legs), files=files)  # values[0]: the account
    return found


class WorkerState:
    """What a worker process keeps between accounts: one ``ProblemCache`` per model and the per-account configs
    already derived (cash floor and lot size). Each account is a one-off solve, as ``allocate run``'s: handed to
    Clarabel directly (``optimize.conic``, a solver set up for the account, so that its files do not depend on
    which accounts its worker solved before); what that path has no rows for (market impact, ``max_sharpe``, the
    diagnosis of an infeasible account) is compiled through CVXPY once per model and universe in the cache and
    re-solved with a fresh solver (``fresh_cvxpy_solve``)."""

    def __init__(self) -> None:
        self.caches: dict[str, ProblemCache] = {}
        self.configs: dict[tuple[str, float | None, float | None], LoadedConfig] = {}

    def cache(self, model: BatchModel) -> ProblemCache:
        if model.key not in self.caches:
            from allocator.optimize.problem import ProblemCache, fresh_cvxpy_solve

            self.caches[model.key] = ProblemCache(solve=fresh_cvxpy_solve, direct_from=0)
        return self.caches[model.key]

    def config(self, model: BatchModel, spec: AccountSpec) -> LoadedConfig | None:
        """The model's config with the account's cash floor and lot size; None when the account overrides
        neither."""
        if spec.cash_target is None and spec.lot_size is None:
            return None
        key = (model.key, spec.cash_target, spec.lot_size)
        if key not in self.configs:
            self.configs[key] = account_config(model.market.loaded, spec)
        return self.configs[key]


STATE = WorkerState()  # one per process: the engine's workers are processes


def account_config(loaded: LoadedConfig, spec: AccountSpec) -> LoadedConfig:
    """``loaded`` with the account's cash floor (``constraints.cash_min``, and ``cash_max`` raised to it) and lot
    size (``trading.lot_size``)."""
    cfg = loaded.config
    update: dict[str, Any] = {}
    if spec.cash_target is not None:
        cash = spec.cash_target
        update["constraints"] = cfg.constraints.model_copy(
            update={"cash_min": cash, "cash_max": max(cfg.constraints.cash_max, cash)})
    if spec.lot_size is not None:
        if not cfg.trading.fractional_shares and spec.lot_size != int(spec.lot_size):
            raise DataError(f"account {spec.account}: lot_size", f"fractional lot size {spec.lot_size:g}",
                            "set trading.fractional_shares: true in the model to allow it")
        update["trading"] = cfg.trading.model_copy(update={"lot_size": spec.lot_size})
    return dataclasses.replace(loaded, config=cfg.model_copy(update=update))


def check_mode(config: Config, spec: AccountSpec, model_path: str) -> None:
    """``ConfigError`` unless the account's mode (its row's, else the model's ``trading.mode``) and the model's
    ``trading.raise_value`` agree: raise mode needs an amount to raise, and an amount to raise needs raise mode."""
    mode = spec.mode or config.trading.mode
    raised = config.trading.raise_value > 0
    if mode is TradingMode.RAISE and not raised:
        where = f"{spec.row}: mode" if spec.mode is not None else f"{model_path}: trading.mode"
        raise ConfigError(where, f"account {spec.account} is in mode raise but its model {model_path} sets no "
                          "trading.raise_value", "set trading.raise_value (cash to raise, account currency) in the "
                          "model, or give the account another mode")
    if raised and mode is not TradingMode.RAISE:
        row = f" ({spec.row})" if spec.row else ""
        raise ConfigError(f"{model_path}: trading.raise_value", f"account {spec.account}{row} trades in mode "
                          f"{mode.value}, but the model sets cash to raise", "give the account mode raise in the "
                          "accounts table (or trading.mode: raise in the model), or remove trading.raise_value")


def rebalance_account(model: BatchModel, task: AccountTask, options: RunOptions, state: WorkerState
                      ) -> AccountOutcome:
    """One account's outcome; every failure is caught and reported as the account's own."""
    account = task.holdings.account
    base = AccountOutcome(account=account, model=model.name, status=Status.ERROR, band=task.band.describe())
    try:
        return _rebalance(model, task, options, state, base)
    except InfeasibleError as exc:
        from allocator.files.json_text import json_bytes

        exc.fix = BATCH_INFEASIBLE_FIX  # run's own fix offers --relax, which a batch does not have
        return dataclasses.replace(base, status=Status.INFEASIBLE, reason=exc.message(), exit_code=exc.exit_code,
                                   files={"diagnosis.json": json_bytes(exc.diagnosis)})
    except AllocatorError as exc:
        return dataclasses.replace(base, reason=exc.message(), exit_code=exc.exit_code)
    except Exception as exc:  # a bug in one account must not stop the book; reported as the account's error
        return dataclasses.replace(base, reason=f"unexpected {type(exc).__name__}: {exc}", exit_code=1)


def _rebalance(model: BatchModel, task: AccountTask, options: RunOptions, state: WorkerState,
               base: AccountOutcome) -> AccountOutcome:
    from allocator.outputs.run_files import run_files
    from allocator.outputs.summary import summarize
    from allocator.pipeline import run

    market, spec, source = model.market, task.spec, task.holdings
    loaded = state.config(model, spec)
    cfg = (loaded or market.loaded).config
    check_mode(cfg, spec, str(market.loaded.path))
    holdings = source.holdings
    if source.rows is not None:
        holdings = source.rows.holdings()
    elif holdings is None:
        from allocator.files.reading import FileLimits
        from allocator.inputs.holdings import holdings_from_text

        holdings = holdings_from_text(source.text or "", source.source, cfg.data.holdings_columns,
                                      FileLimits.from_megabytes(cfg.data.max_file_mb, cfg.data.max_rows),
                                      cfg.trading.fractional_shares, cfg.data.cash_symbols)
    prepared = prepare_account(market, holdings, source.inputs, spec.mode, config=loaded)
    prepared = with_restrictions(prepared, spec.restricted, options.restricted)
    result = run(source.source, prepared.loaded, prepared=prepared, cache=state.cache(model))
    universe, trades = result.universe, result.trades
    n = universe.size
    before = task.band.drift(universe.weight, result.allocation.weight)
    nav = Decimal(repr(round(universe.nav_value, 2))).quantize(Decimal("0.01"))
    if task.band.holds(before):
        return dataclasses.replace(base, status=Status.IN_BAND, nav_value=str(nav), drift_before=before,
                                   drift_after=before, reason=f"drift {before:.6f} within the band")
    after = task.band.drift(trades.achieved_weight[:n], result.allocation.weight)
    command = {**options.command, "account": source.account, "config": str(market.loaded.path),
               **({"mode": spec.mode.value} if spec.mode is not None else {})}
    summary = summarize(result)
    files = run_files(result, command, list(options.formats), summary)
    legs = trade_legs(source.account, trades, universe, float(cfg.trading.lot_size), nav)
    return dataclasses.replace(
        base, status=Status.TRADED, nav_value=str(nav), drift_before=before, drift_after=after,
        trades=len(trades.trades), turnover=summary.achieved.turnover or 0.0,
        cost_value=str(trades.total_cost_value), reason="; ".join(result.relaxations), legs=legs, files=files)


def trade_legs(account: str, trades: TradeList, universe: Universe, default_lot: float, nav: Decimal
               ) -> tuple[Leg, ...]:
    """The account's trades as legs of the book's blocks: ``lot`` is the account's lot in the symbol (``default_lot``
    for a holding outside the universe), ``nav`` its NAV before trading (account currency)."""
    lots = dict(zip(universe.symbols, universe.lot_size.tolist(), strict=True))
    # positional: a named tuple made by keyword took 2.5 times as long
    return tuple(Leg(account, t.symbol, t.side, t.quantity, t.price, t.notional_value, t.estimated_cost_value,
                     t.current_quantity, t.target_quantity, lot_decimal(lots.get(t.symbol, default_lot)), nav,
                     float(t.break_even_alpha)) for t in trades.trades)


_LOTS: dict[float, Decimal] = {}  # ``lot_decimal``'s results: an account's lots are its model's, mostly one or two
LOTS_KEPT = 1 << 10  # values; the memo is emptied when full


def lot_decimal(lot: float) -> Decimal:
    """A lot size (shares) as ``Decimal``, normalized (``1.0`` -> ``1``): the shortest decimal that reads back as
    ``lot``. Zero is never kept: 0.0 and -0.0 are one key but two decimals."""
    found = _LOTS.get(lot)
    if found is None or not lot:
        found = Decimal(repr(float(lot))).normalize()
        if lot:
            if len(_LOTS) >= LOTS_KEPT:
                _LOTS.clear()
            _LOTS[lot] = found
    return found
