"""``allocate batch`` in this process on the shipped example book: reconciliation, blocks, bands, isolation of a
failing account, the journal's resumption, and the same files as ``allocate run`` for one account."""

from __future__ import annotations

import json
import shutil
from collections import defaultdict
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import Result

from allocator.batch.account_run import AccountOutcome, RunOptions
from allocator.batch.bands import DriftBand
from allocator.batch.engine import InProcess, Work
from allocator.batch.runner import BatchRequest, run_batch
from tests.conftest import BASE_CONFIG, ROOT
from tests.helpers import decimal, read_csv

BOOK = ROOT / "examples" / "batch" / "holdings"
TABLE = ROOT / "examples" / "batch" / "accounts.csv"


def batch_files(folder: Path) -> dict[str, bytes]:
    """Every file of a batch's output but the accounts' manifests (which hold the run's timings), by path."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and not (p.name == "manifest.json" and p.parent.parent.name == "accounts")}


@pytest.fixture(scope="module")
def example_batch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("batch") / "out"
    result = run_batch(BatchRequest(book=BOOK, out_dir=out, config=BASE_CONFIG, accounts_table=TABLE, workers=0))
    assert result.exit_code == 0
    return out


def test_every_account_reconciles_to_the_share_and_the_cent(example_batch: Path) -> None:
    rows = read_csv(example_batch / "batch.csv")
    assert [(r["account"], r["status"]) for r in rows] == [(f"ACC-00{i}", "traded") for i in range(1, 5)]
    for row in rows:
        folder = example_batch / "accounts" / row["account"]
        for trade in read_csv(folder / "trades.csv"):
            sign = 1 if trade["side"] == "BUY" else -1
            assert decimal(trade["current_quantity"]) + sign * decimal(trade["quantity"]) == \
                decimal(trade["target_quantity"])
            assert decimal(trade["notional"]) == (decimal(trade["quantity"]) * decimal(trade["price"])).quantize(
                Decimal("0.01"))
        trades = json.loads((folder / "summary.json").read_text())["trades"]
        costs = sum((decimal(t["estimated_cost"]) for t in read_csv(folder / "trades.csv")), Decimal(0))
        cash_after = (Decimal(str(trades["cash_before_value"])) - Decimal(str(trades["bought_value"]))
                      + Decimal(str(trades["sold_value"])) - costs)
        assert cash_after == Decimal(str(trades["cash_after_value"])).quantize(Decimal("0.01"))
        assert decimal(row["cost"]) == costs


def test_block_quantities_are_the_sum_of_the_accounts_trades_and_allocations_sum_to_them(example_batch: Path
                                                                                        ) -> None:
    summed: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for folder in (example_batch / "accounts").iterdir():
        for trade in read_csv(folder / "trades.csv"):
            summed[trade["symbol"], trade["side"]] += decimal(trade["quantity"])
    blocks = {(b["symbol"], b["side"]): decimal(b["quantity"]) for b in read_csv(example_batch / "blocks.csv")}
    assert blocks == summed
    allocated: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for row in read_csv(example_batch / "allocations.csv"):
        allocated[row["symbol"], row["side"]] += decimal(row["quantity"])
    assert allocated == blocks
    for side, folder in (("SELL", "sells"), ("BUY", "buys")):
        listed = {r["symbol"]: decimal(r["quantity"]) for r in read_csv(example_batch / "blocks" / folder /
                                                                        "trades.csv")}
        assert listed == {s: q for (s, d), q in blocks.items() if d == side}


def test_the_block_lists_go_through_export_with_distinct_order_ids(example_batch: Path,
                                                                   cli: Callable[..., Result]) -> None:
    ids = []
    for folder in ("sells", "buys"):
        result = cli("export", example_batch / "blocks" / folder / "trades.csv", "--format", "json")
        assert result.exit_code == 0, result.output
        ids += [trade["order"]["client_order_id"] for trade in json.loads(result.stdout)["trades"]]
    assert len(ids) == len(set(ids)) == len(read_csv(example_batch / "blocks.csv"))


def test_an_account_gets_the_files_of_allocate_run(example_batch: Path, cli: Callable[..., Result],
                                                   tmp_path: Path) -> None:
    result = cli("run", BOOK / "ACC-001.csv", "-c", BASE_CONFIG, "-o", tmp_path / "run", "-q")
    assert result.exit_code == 0
    for name in ("weights.csv", "trades.csv", "summary.json"):
        assert (tmp_path / "run" / name).read_bytes() == (example_batch / "accounts" / "ACC-001" / name).read_bytes()


def test_accounts_inside_their_band_are_untouched(tmp_path: Path) -> None:
    result = run_batch(BatchRequest(book=BOOK, out_dir=tmp_path / "out", config=BASE_CONFIG, workers=0,
                                    band=DriftBand(5.0)))
    assert {o.status.value for o in result.outcomes} == {"in_band"}
    assert all(o.drift_before == o.drift_after and o.drift_before > 0 and not o.legs for o in result.outcomes)
    assert not (tmp_path / "out" / "accounts").exists() or not any((tmp_path / "out" / "accounts").iterdir())
    assert read_csv(tmp_path / "out" / "blocks.csv") == []


def test_a_failing_account_is_reported_and_the_others_complete(tmp_path: Path, cli: Callable[..., Result]) -> None:
    book = tmp_path / "book"
    shutil.copytree(BOOK, book)
    (book / "ACC-005.csv").write_text("symbol,quantity\nSPY,-5\nCASH,100\n")
    result = cli("batch", book, "-c", BASE_CONFIG, "-o", tmp_path / "out", "--workers", "0", "-q")
    assert result.exit_code == 4
    assert (f"Error: account ACC-005 (error): {book / 'ACC-005.csv'}: row 2: quantity: negative quantity -5 for "
            "SPY in a long-only account") in result.stderr
    assert "Error: 1 of 5 accounts failed (see batch.csv); exit 4 is the first failure's" in result.stderr
    statuses = {r["account"]: r["status"] for r in read_csv(tmp_path / "out" / "batch.csv")}
    assert statuses == {"ACC-001": "traded", "ACC-002": "traded", "ACC-003": "traded", "ACC-004": "traded",
                        "ACC-005": "error"}


class Killed(Exception):
    """Stands for the driver being killed between two chunks."""


class CountingEngine(InProcess):
    """In process, one account per chunk; counts the accounts it rebalances and dies after ``die_after`` chunks
    (the chunk it dies at is rebalanced, but the driver never takes it). ``shared_files``: whether the chunk writes
    its files and journal rows itself (this process, a LocalCluster) or leaves them to the driver (a cluster)."""

    def __init__(self, die_after: int | None = None, shared_files: bool = True) -> None:
        self.die_after = die_after
        self.shared_files = shared_files
        self.accounts: list[str] = []

    def run(self, models: dict[str, object], work: Work, options: RunOptions) -> Iterator[list[AccountOutcome]]:
        single = [(name, [task]) for name, tasks in work for task in tasks]
        for number, chunk in enumerate(super().run(models, single, options)):  # type: ignore[arg-type]
            self.accounts += [o.account for o in chunk]
            if self.die_after is not None and number == self.die_after:
                raise Killed
            yield chunk


@pytest.mark.parametrize(("shared_files", "redone"), [(True, ["ACC-003"]), (False, ["ACC-003", "ACC-004"])])
def test_a_killed_batch_resumes_without_redoing_or_duplicating_an_account(tmp_path: Path, example_batch: Path,
                                                                          shared_files: bool, redone: list[str]
                                                                          ) -> None:
    """Killed while the third chunk's result is on its way: where the worker records its own chunk (shared files)
    that chunk is done and only the last account is left; where the driver records them it is redone. (Chunks go
    model by model: ACC-003 has a model of its own.)"""
    request = BatchRequest(book=BOOK, out_dir=tmp_path / "out", config=BASE_CONFIG, accounts_table=TABLE)
    first = CountingEngine(die_after=2, shared_files=shared_files)
    with pytest.raises(Killed):
        run_batch(request, engine=first)
    assert not (tmp_path / "out").exists()  # nothing published
    second = CountingEngine(shared_files=shared_files)
    result = run_batch(request, engine=second)
    assert first.accounts == ["ACC-001", "ACC-002", "ACC-004"] and sorted(second.accounts) == redone
    assert (result.resumed, result.rebalanced) == (4 - len(redone), len(redone))
    assert batch_files(tmp_path / "out") == batch_files(example_batch)
    assert not list(tmp_path.glob(".out.batch-*"))  # the work folder and its journal are gone


def test_a_book_in_one_file_is_read_account_by_account_where_each_is_rebalanced(example_batch: Path,
                                                                                 tmp_path: Path) -> None:
    """The accounts of one file are split on the driver and read where they are rebalanced: the same files as the
    book in a folder, and a bad row fails its own account only, named by file, row and field."""
    lines = ["account,symbol,quantity"]
    for file in sorted(BOOK.glob("*.csv")):
        lines += [f"{file.stem},{row}" for row in file.read_text().splitlines()[1:]]
    lines += ["ACC-005,SPY,-5", "ACC-005,CASH,100"]
    book = tmp_path / "book.csv"
    book.write_text("\n".join(lines) + "\n")
    result = run_batch(BatchRequest(book=book, out_dir=tmp_path / "out", config=BASE_CONFIG, accounts_table=TABLE,
                                    workers=0))
    statuses = {o.account: (o.status.value, o.reason) for o in result.outcomes}
    assert statuses["ACC-005"] == ("error", f"{book.absolute()}: row {len(lines) - 1}: quantity: negative quantity "
                                   "-5 for SPY in a long-only account; short positions are not supported; check "
                                   "the export")
    assert [statuses[f"ACC-00{i}"][0] for i in range(1, 5)] == ["traded"] * 4
    for account in ("ACC-001", "ACC-002", "ACC-003", "ACC-004"):
        for name in ("weights.csv", "trades.csv", "summary.json"):
            assert (tmp_path / "out" / "accounts" / account / name).read_bytes() == \
                (example_batch / "accounts" / account / name).read_bytes()


def test_force_replaces_a_batch_output_but_not_a_file_a_user_left_in_an_account_folder(
        example_batch: Path, tmp_path: Path, cli: Callable[..., Result]) -> None:
    """The accounts' files are listed by their own manifests: ``--force`` takes them as allocate's outputs (a batch
    run again on its own output), and still refuses a file of the user's among them."""
    out = tmp_path / "out"
    shutil.copytree(example_batch, out)
    args = ("batch", BOOK, "-c", BASE_CONFIG, "--accounts", TABLE, "-o", out, "--workers", "0", "-q")
    (out / "accounts" / "ACC-002" / "notes.txt").write_text("call the client")
    refused = cli(*args, "--force")
    assert refused.exit_code != 0 and "accounts/ACC-002/notes.txt" in refused.stderr
    assert (out / "accounts" / "ACC-002" / "notes.txt").exists()
    (out / "accounts" / "ACC-002" / "notes.txt").unlink()
    result = cli(*args, "--force")
    assert result.exit_code == 0, result.stderr
    assert batch_files(out) == batch_files(example_batch)


def raise_book(tmp_path: Path, rows: str) -> tuple[Path, Path]:
    """Two example accounts, a model with ``trading.raise_value: 60000`` (mode left at rebalance) and an accounts
    table with ``rows`` after its header."""
    book = tmp_path / "book"
    book.mkdir()
    for account in ("ACC-001", "ACC-004"):
        shutil.copy(BOOK / f"{account}.csv", book)
    (tmp_path / "raise.yaml").write_text(f"extends: {BASE_CONFIG}\ntrading:\n  raise_value: 60000\n")
    table = tmp_path / "accounts.csv"
    table.write_text("account,model,cash_target,restricted,lot_size,mode,band\n" + rows)
    return book, table


def test_an_account_in_raise_mode_raises_the_cash_of_its_model(tmp_path: Path) -> None:
    book, table = raise_book(tmp_path, "ACC-001,raise.yaml,,,,raise,\nACC-004,raise.yaml,,,,,\n")
    result = run_batch(BatchRequest(book=book, out_dir=tmp_path / "out", config=BASE_CONFIG, accounts_table=table,
                                    workers=0))
    outcomes = {o.account: o for o in result.outcomes}
    assert outcomes["ACC-001"].status.value == "traded", outcomes["ACC-001"].reason
    assert {leg.side for leg in outcomes["ACC-001"].legs} == {"SELL"}
    cash = json.loads((tmp_path / "out" / "accounts" / "ACC-001" / "summary.json").read_text())["trades"]
    assert cash["cash_after_value"] - cash["cash_before_value"] >= 60000
    # the model's raise_value with the account left in the model's mode (rebalance): that account's error only
    assert outcomes["ACC-004"].status.value == "error"
    assert outcomes["ACC-004"].exit_code == 3
    assert outcomes["ACC-004"].reason.startswith(
        f"{tmp_path / 'raise.yaml'}: trading.raise_value: account ACC-004 ({table}: row 3) trades in mode rebalance, "
        "but the model sets cash to raise; give the account mode raise in the accounts table")


def test_an_account_raising_more_than_it_holds_names_its_model_key(tmp_path: Path) -> None:
    """The amount to raise is the model's ``trading.raise_value``: beyond what the account holds, that account's
    error names the model file and key (exit 3), not the ``--raise`` option of ``allocate run``."""
    book, table = raise_book(tmp_path, "ACC-001,huge.yaml,,,,raise,\nACC-004,raise.yaml,,,,raise,\n")
    (tmp_path / "huge.yaml").write_text(f"extends: {BASE_CONFIG}\ntrading:\n  raise_value: 50000000\n")
    result = run_batch(BatchRequest(book=book, out_dir=tmp_path / "out", config=BASE_CONFIG, accounts_table=table,
                                    workers=0))
    outcomes = {o.account: o for o in result.outcomes}
    assert (outcomes["ACC-001"].status.value, outcomes["ACC-001"].exit_code) == ("error", 3)
    assert "huge.yaml: trading.raise_value: 50,000,000.00 is more than the account holds outside cash" in \
        outcomes["ACC-001"].reason, outcomes["ACC-001"].reason
    assert "--raise" not in outcomes["ACC-001"].reason
    assert outcomes["ACC-004"].status.value == "traded", outcomes["ACC-004"].reason


def test_an_account_in_raise_mode_on_a_model_without_raise_value_names_the_row(tmp_path: Path,
                                                                              cli: Callable[..., Result]) -> None:
    book, table = raise_book(tmp_path, "ACC-001,raise.yaml,,,,raise,\nACC-004,,,,,raise,\n")
    result = cli("batch", book, "-c", BASE_CONFIG, "--accounts", table, "-o", tmp_path / "out", "--workers", "0",
                 "-q")
    assert result.exit_code == 3
    assert (f"Error: account ACC-004 (error): {table}: row 3: mode: account ACC-004 is in mode raise but its model "
            f"{BASE_CONFIG} sets no trading.raise_value") in result.stderr
    statuses = {r["account"]: r["status"] for r in read_csv(tmp_path / "out" / "batch.csv")}
    assert statuses == {"ACC-001": "traded", "ACC-004": "error"}


def test_the_keys_and_limits_named_below_follow_the_failed_accounts_on_stderr(tmp_path: Path,
                                                                               cli: Callable[..., Result]) -> None:
    book, table = raise_book(tmp_path, "ACC-001,bad.yaml,,,,,\nACC-004,tight.yaml,,,,,\n")
    (tmp_path / "bad.yaml").write_text(f"extends: {BASE_CONFIG}\ntrading:\n  lot_size: -1\n  cost_bps: -2\n")
    (tmp_path / "tight.yaml").write_text(f"extends: {BASE_CONFIG}\nconstraints:\n  max_weight: 0.02\n"
                                         "  cash_max: 0.05\n  turnover_max: 0.01\n")
    out = tmp_path / "out"
    result = cli("batch", book, "-c", BASE_CONFIG, "--accounts", table, "-o", out, "--workers", "0", "-q")
    assert result.exit_code == 3
    lines = result.stderr.splitlines()
    config = lines.index(f"Error: account ACC-001 (error): {tmp_path / 'bad.yaml'}: invalid configuration "
                         "(2 problems); fix the keys listed below")
    assert lines[config + 1].startswith("  - trading.") and lines[config + 2].startswith("  - trading.")
    infeasible = next(i for i, line in enumerate(lines) if line.startswith("Error: account ACC-004 (infeasible)"))
    assert "relax the limits named below in the model or the account's row" in lines[infeasible]
    assert "allocate run --relax" in lines[infeasible] and "or run with --relax" not in lines[infeasible]
    named = lines[infeasible + 1:infeasible + 4]
    assert all(line.startswith("  - ") for line in named), named
    assert lines[infeasible + 4] == (f"  and {len(read_csv(out / 'batch.csv')[1]['reason'].split(' | ')) - 4} "
                                     f"more; see {out / 'batch.csv'} and {out / 'accounts' / 'ACC-004'}"
                                     "/diagnosis.json")
