"""What a chunk carries and leaves behind: accounts' rows pickled as a table of cells, each outcome pickled once
for the journal and the driver, each account's folder written (and replaced) with one system call per file, and the
cycle collector paused and settled (``allocator.batch.chunk``, ``journal``, ``collector``)."""

from __future__ import annotations

import gc
import pickle
from decimal import Decimal
from pathlib import Path

import pytest

from allocator.batch import collector
from allocator.batch.account_run import AccountOutcome, Status
from allocator.batch.blocks import LEG_NUMBERS, Leg, pack_legs
from allocator.batch.chunk import unpack_outcomes, write_account_files
from allocator.batch.journal import Journal, outcome_bytes
from allocator.inputs.holdings import account_rows
from allocator.inputs.holdings_table import Record, Table

BOOK = "account,symbol,quantity,price\nA1,AAA,10,5.5\nA1,BBB,3,\n,CASH,100,\nA2,AAA,4,5.5\n"


def test_an_account_s_rows_pickle_as_cells_and_read_back_the_same() -> None:
    accounts = account_rows(BOOK, "book.csv")
    for rows in accounts.values():
        back = pickle.loads(pickle.dumps(rows.table))
        assert back == rows.table
        assert [dict(r.cells) for r in back.records] == [dict(r.cells) for r in rows.table.records]
        assert pickle.loads(pickle.dumps(rows)).holdings() == rows.holdings()
    odd = Table(records=(Record(2, {"symbol": "AAA"}), Record(3, {"symbol": "CASH", "quantity": "1"})), columns={})
    assert pickle.loads(pickle.dumps(odd)) == odd  # records of different fields: pickled record by record
    for cell in ("A\x1fB", "A\x1eB", ""):  # a cell holding a separator of the packed text: record by record
        records = (Record(2, {"symbol": cell, "quantity": "1"}), Record(5, {"symbol": "B", "quantity": ""}))
        table = Table(records=records,
                      columns={"symbol": "Symbol"})
        assert pickle.loads(pickle.dumps(table)) == table
    assert pickle.loads(pickle.dumps(Table(records=(), columns={}))) == Table(records=(), columns={})


def outcome(account: str, files: dict[str, bytes]) -> AccountOutcome:
    leg = Leg(account=account, symbol="AAA", side="BUY", quantity=Decimal("10"), price=Decimal("5.50"),
              notional=Decimal("55.00"), cost=Decimal("0.02"), current_quantity=Decimal("0"),
              target_quantity=Decimal("10"), lot=Decimal("1"), nav_value=Decimal("1000.00"), break_even_alpha=0.01)
    return AccountOutcome(account=account, model="m.yaml", status=Status.TRADED, nav_value="1000.00", trades=1,
                          legs=(leg,), files=files)


def test_the_journal_keeps_each_outcome_without_its_files_and_once(tmp_path: Path) -> None:
    done = outcome("A1", {"weights.csv": b"x"})
    journal = Journal(tmp_path / "journal.sqlite", "key")
    try:
        assert journal.record([done]) == 1
        assert journal.record([done], [outcome_bytes(done)]) == 0  # recorded once
        kept = journal.finished()["A1"]
    finally:
        journal.close()
    assert kept == done and kept.files == {} and kept.legs == done.legs
    assert unpack_outcomes(pickle.dumps([outcome_bytes(done)])) == [done]


def test_an_account_s_folder_is_written_and_replaced_whole(tmp_path: Path) -> None:
    write_account_files(tmp_path, [outcome("A/1", {"weights.csv": b"old", "stale.csv": b"x"}), outcome("A2", {})])
    write_account_files(tmp_path, [outcome("A/1", {"weights.csv": b"new" * 50_000, "trades.csv": b""})])
    folder = tmp_path / "accounts" / "A_1"
    assert sorted(p.name for p in folder.iterdir()) == ["trades.csv", "weights.csv"]
    assert (folder / "weights.csv").read_bytes() == b"new" * 50_000
    assert not (tmp_path / "accounts" / "A2").exists()  # no files, no folder


def test_the_collector_is_paused_in_its_block_only_and_a_model_settled_once(monkeypatch: pytest.MonkeyPatch) -> None:
    assert gc.isenabled()
    with collector.paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    calls: list[int] = []
    monkeypatch.setattr(collector.gc, "freeze", lambda: calls.append(1))
    collector.settle("a model of this test")
    collector.settle("a model of this test")
    assert calls == [1]


def test_an_outcome_s_legs_pickle_packed_and_come_back_the_same() -> None:
    done = outcome("A1", {"weights.csv": b"x"})
    second = done.legs[0]._replace(symbol="BRK.B", side="SELL", quantity=Decimal("12.50"), price=Decimal("1E+2"),
                                   notional=Decimal("-0.00"), current_quantity=Decimal("1234567890.123456789"),
                                   lot=Decimal("0.001"), break_even_alpha=-1.2345678901234567e-05)
    many = AccountOutcome(**{**done.__dict__, "legs": (done.legs[0], second)})
    assert Leg._fields[3:11] == LEG_NUMBERS  # pack_legs reads the numbers as this slice
    assert isinstance(pack_legs("A1", many.legs), str)
    odd = AccountOutcome(**{**done.__dict__, "legs": (second._replace(symbol="X\x1fY"),)})  # a separator: unpacked
    assert pack_legs("A1", odd.legs) == odd.legs
    for original in (many, odd, AccountOutcome(account="A3", model="m.yaml", status=Status.IN_BAND)):
        back = pickle.loads(pickle.dumps(original, protocol=pickle.HIGHEST_PROTOCOL))
        assert back == original and back.files == original.files
        for old, new in zip(original.legs, back.legs, strict=True):
            assert [str(x) for x in new] == [str(x) for x in old]  # the files print the numbers with str()
