"""Order formats end to end: ``allocate run --format`` and ``allocate export`` write the same bytes; every FIX line
is a complete NewOrderSingle that an independent parser and QuickFIX's FIX 4.4 dictionary accept; every JSON file
validates against the shipped schema; formula-like symbols are neutralized in CSV files."""

from __future__ import annotations

import csv
import io
import json
import math
import shutil
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from allocator.cli import main
from allocator.config.schema import OrdersConfig, OrderType, OutputFormat
from allocator.files.manifest import read_manifest
from allocator.orders.export import render, trades_csv
from allocator.orders.fix_message import PIPE, SOH, decode, field_map
from allocator.orders.trade_sheet import TradeRow, TradeSheet
from tests.conftest import BASE_CONFIG, EVERY_FORMAT, EXAMPLE_HOLDINGS
from tests.helpers import read_csv, write_config
from tests.orders.test_fix_message import independent_check

FORMATS = ("csv", "json", "fix", "basket")
FILES = {"csv": "trades.csv", "json": "trades.json", "fix": "orders.fix", "basket": "basket.csv"}


def schema_validator() -> Draft202012Validator:
    schema = json.loads((resources.files("allocator") / "schemas" / "trades.schema.json").read_text())
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def invoke(*args: str | Path) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture
def run_dir(example_run_every_format: Path) -> Path:
    """The example run with every format (tests/conftest.py, shared by the session: read it, never write in it)."""
    assert FORMATS == EVERY_FORMAT
    return example_run_every_format


def fix_lines(data: bytes) -> list[str]:
    text = data.decode("utf-8")
    assert text.endswith("\n")
    return text[:-1].split("\n")


def test_run_writes_every_format_and_the_manifest_names_the_run(run_dir: Path) -> None:
    assert sorted(p.name for p in run_dir.iterdir()) == ["basket.csv", "manifest.json", "orders.fix",
                                                        "summary.json", "trades.csv", "trades.json", "weights.csv"]
    manifest = read_manifest(run_dir / "manifest.json")
    assert json.loads((run_dir / "trades.json").read_text())["run_id"] == manifest.run_id
    assert manifest.as_of == date(2026, 1, 16)


@pytest.mark.parametrize("fmt", FORMATS)
def test_export_of_trades_csv_reproduces_the_run_files_byte_for_byte(run_dir: Path, fmt: str) -> None:
    result = invoke("export", run_dir / "trades.csv", "--format", fmt)
    assert result.exit_code == 0, result.output
    expected = (run_dir / FILES[fmt]).read_bytes()
    if fmt == "json":  # a CSV trade list does not carry cash, so the JSON made from it has no cash fields
        document = json.loads(expected)
        del document["cash_before"], document["cash_after"]
        assert json.loads(result.stdout_bytes) == document
    else:
        assert result.stdout_bytes == expected
    from_json = invoke("export", run_dir / "trades.json", "--format", fmt)
    assert from_json.exit_code == 0 and from_json.stdout_bytes == expected


def test_trades_csv_is_the_one_outputs_wrote_before_order_formats(run_dir: Path) -> None:
    from allocator.orders.trade_sheet import read_trade_sheet

    sheet = read_trade_sheet(run_dir / "trades.csv", read_manifest(run_dir / "manifest.json"))
    assert trades_csv(sheet) == (run_dir / "trades.csv").read_bytes()
    sides = [r.side for r in sheet.rows]
    assert len(sheet.rows) == 10 and sides == sorted(sides, reverse=True)  # sells listed before buys


def test_every_fix_line_is_a_complete_new_order_single(run_dir: Path) -> None:
    manifest = read_manifest(run_dir / "manifest.json")
    trades = read_csv(run_dir / "trades.csv")
    lines = fix_lines((run_dir / "orders.fix").read_bytes())
    assert len(lines) == len(trades)
    for number, (line, trade) in enumerate(zip(lines, trades, strict=True), start=1):
        fields = independent_check(line.encode())
        assert fields[35] == b"D" and fields[49] == b"ALLOCATE" and fields[56] == b"BROKER"
        assert fields[34] == str(number).encode()
        assert fields[52] == fields[60] == b"20260116-21:00:00"  # the as-of date at 16:00 New York, in UTC
        assert fields[11] == f"AL{manifest.run_id[:12]}-{trade['symbol']}".encode()
        assert fields[1] == b"U1234567" and fields[21] == b"1" and fields[55] == trade["symbol"].encode()
        assert fields[54] == (b"1" if trade["side"] == "BUY" else b"2")
        assert fields[38] == trade["quantity"].encode() and fields[40] == b"1" and fields[59] == b"0"
        assert 44 not in fields


def test_the_fix_44_data_dictionary_accepts_every_line(run_dir: Path) -> None:
    fix = pytest.importorskip("quickfix", reason="the quickfix package (allocate[fix]) is not installed")
    from allocator.orders.fix_session import fix44_dictionary

    dictionary = fix.DataDictionary(str(fix44_dictionary()))
    pipe = invoke("export", run_dir / "trades.csv", "--format", "fix", "--fix-delimiter", "pipe")
    assert pipe.exit_code == 0
    soh_lines, pipe_lines = fix_lines((run_dir / "orders.fix").read_bytes()), fix_lines(pipe.stdout_bytes)
    assert all(SOH not in line for line in pipe_lines)
    assert [line.replace(PIPE, SOH) for line in pipe_lines] == soh_lines
    for line in soh_lines:
        dictionary.validate(fix.Message(line, dictionary, True))  # also checks BodyLength and CheckSum


def test_every_json_file_validates_against_the_shipped_schema(run_dir: Path, tmp_path: Path) -> None:
    validator = schema_validator()
    documents = [json.loads((run_dir / "trades.json").read_bytes()),
                 json.loads(invoke("export", run_dir / "trades.csv", "--format", "json").stdout_bytes)]
    limit_config = tmp_path / "limit.yaml"
    limit_config.write_text(f"extends: {BASE_CONFIG}\norders: {{order_type: limit, time_in_force: CLS, "
                            "destination: ARCA, id_scheme: hashed}\n")
    documents.append(json.loads(invoke("export", run_dir / "trades.csv", "--format", "json", "-c",
                                       limit_config).stdout_bytes))
    for document in documents:
        assert not list(validator.iter_errors(document))
    assert documents[2]["trades"][0]["order"]["limit_price"] == "693.48"


def test_the_schema_is_not_vacuous(run_dir: Path) -> None:
    validator = schema_validator()
    good = json.loads((run_dir / "trades.json").read_bytes())

    def broken(change: Callable[[dict[str, Any]], None]) -> bool:
        document = json.loads(json.dumps(good))
        change(document)
        return bool(list(validator.iter_errors(document)))

    assert broken(lambda d: d["trades"][0].update(quantity="-5"))
    assert broken(lambda d: d["trades"][0].update(side="SHORT"))
    assert broken(lambda d: d["trades"][0].pop("order"))
    assert broken(lambda d: d["trades"][0]["order"].update(limit_price="10.00"))  # a market order with a limit
    assert broken(lambda d: d["trades"][0]["order"].update(order_type="limit"))   # a limit order without one
    assert broken(lambda d: d.update(run_id="xyz"))
    assert broken(lambda d: d.update(extra=1))
    assert broken(lambda d: d.update(as_of="2026-13-45"))


decimals = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("1e6"), places=4)


@pytest.mark.slow
@settings(max_examples=100, deadline=None, derandomize=True)
@given(st.lists(st.tuples(st.text(min_size=1, max_size=12).filter(lambda s: s.isprintable()),
                          st.sampled_from(["BUY", "SELL"]), decimals, decimals), min_size=0, max_size=8,
                unique_by=lambda t: t[0]),
       st.sampled_from(list(OrderType)), st.floats(-100, 100, allow_nan=False))
def test_any_trade_list_writes_schema_valid_json(trades: list[tuple[str, str, Decimal, Decimal]],
                                                 kind: OrderType, bps: float) -> None:
    rows = tuple(TradeRow(symbol=s, side=side, quantity=q, price=p, notional=(q * p).quantize(Decimal("0.01")),
                          current_quantity=Decimal(0), target_quantity=q, current_weight=Decimal("0.0000000000"),
                          target_weight=Decimal("0.0100000000"), estimated_cost=Decimal("0.01"), reason="rebalance")
                 for s, side, q, p in trades)
    sheet = TradeSheet(run_id="c" * 64, as_of=date(2026, 1, 16), rows=rows, cash_before=Decimal("100.00"))
    document = json.loads(render(sheet, OutputFormat.JSON, OrdersConfig(order_type=kind, limit_offset_bps=bps)))
    assert not list(schema_validator().iter_errors(document))


def test_basket_follows_the_interactive_brokers_layout(run_dir: Path, tmp_path: Path) -> None:
    rows = read_csv(run_dir / "basket.csv")
    assert list(rows[0]) == ["Action", "Quantity", "Symbol", "SecType", "Exchange", "Currency", "TimeInForce",
                             "OrderType", "LmtPrice", "Account"]
    trades = read_csv(run_dir / "trades.csv")
    assert [(r["Action"], r["Quantity"], r["Symbol"]) for r in rows] == [(t["side"], t["quantity"], t["symbol"])
                                                                         for t in trades]
    assert {(r["SecType"], r["Exchange"], r["Currency"], r["TimeInForce"], r["OrderType"], r["LmtPrice"],
             r["Account"]) for r in rows} == {("STK", "SMART", "USD", "DAY", "MKT", "", "U1234567")}
    config = tmp_path / "close.yaml"
    config.write_text(f"extends: {BASE_CONFIG}\norders: {{order_type: limit, time_in_force: CLS, "
                      "destination: ARCA}\n")
    close = read_csv_bytes(invoke("export", run_dir / "trades.csv", "--format", "basket", "-c", config).stdout_bytes)
    assert {(r["TimeInForce"], r["OrderType"], r["Exchange"]) for r in close} == {("DAY", "LOC", "ARCA")}
    assert close[0]["LmtPrice"] == "693.48"  # SPY sell: 694.17 less 10 bp, rounded up to the cent


def read_csv_bytes(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8"))))


def test_limit_orders_at_the_close_in_fix(run_dir: Path, tmp_path: Path) -> None:
    config = tmp_path / "limit.yaml"
    config.write_text(f"extends: {BASE_CONFIG}\norders: {{order_type: limit, limit_offset_bps: 10, "
                      "time_in_force: CLS, sender_comp_id: DESK, target_comp_id: GS}\n")
    result = invoke("export", run_dir / "trades.csv", "--format", "fix", "-c", config)
    assert result.exit_code == 0, result.output
    by_symbol = {}
    for line in fix_lines(result.stdout_bytes):
        fields = field_map(decode(line))
        by_symbol[fields[55]] = fields
    assert (by_symbol["SPY"][40], by_symbol["SPY"][44], by_symbol["SPY"][59]) == ("2", "693.48", "7")
    assert by_symbol["QQQ"][44] == "622.61" and by_symbol["XLK"][44] == "143.92"  # sells round up, buys down
    assert (by_symbol["SPY"][49], by_symbol["SPY"][56]) == ("DESK", "GS")


def test_the_same_run_gives_the_same_ids_and_another_run_different_ones(run_dir: Path, tmp_path: Path) -> None:
    again = tmp_path / "again"
    assert invoke("run", EXAMPLE_HOLDINGS, "-c", BASE_CONFIG, "-o", again, "-q", "--format", "fix").exit_code == 0
    assert (again / "orders.fix").read_bytes() == (run_dir / "orders.fix").read_bytes()
    other = tmp_path / "other"
    assert invoke("run", EXAMPLE_HOLDINGS, "-c", BASE_CONFIG, "-o", other, "-q", "--format", "json",
                  "--cash", "1000").exit_code == 0
    ids = {t["symbol"]: t["order"]["client_order_id"] for t in json.loads((run_dir / "trades.json").read_text())[
        "trades"]}
    other_ids = {t["symbol"]: t["order"]["client_order_id"] for t in json.loads((other / "trades.json").read_text())[
        "trades"]}
    assert set(ids) & set(other_ids)
    assert all(ids[s] != other_ids[s] for s in set(ids) & set(other_ids))


def test_a_formula_symbol_is_neutralized_in_every_csv(example_copy: Path) -> None:
    holdings = example_copy / "examples" / "holdings.csv"
    rows = holdings.read_text().splitlines()
    evil = '=HYPERLINK("http://evil.example/x","click")'
    holdings.write_text("symbol,quantity,price\n" + "\n".join(f"{r}," for r in rows[1:]) +
                        '\n"' + evil.replace('"', '""') + '",10,25.00\n')
    config = write_config(example_copy, "extends: base.yaml\nuniverse: {outside_holdings: sell}\n")
    out = example_copy / "out"
    result = invoke("run", holdings, "-c", config, "-o", out, "-q", *[x for f in FORMATS for x in ("--format", f)])
    assert result.exit_code == 0, result.output
    symbol = evil.upper()
    for name, column in (("trades.csv", "symbol"), ("basket.csv", "Symbol")):
        cells = [row[column] for row in read_csv(out / name)]
        assert "'" + symbol in cells
        assert not [c for c in cells if c.startswith(("=", "+", "-", "@"))]
        raw = (out / name).read_text()
        assert not [line for line in raw.splitlines() for cell in next(csv.reader([line]))
                    if cell.startswith(("=", "+", "-", "@"))]
    document = json.loads((out / "trades.json").read_text())
    assert symbol in [t["symbol"] for t in document["trades"]]
    assert not list(schema_validator().iter_errors(document))
    fix_symbols = [field_map(decode(line))[55] for line in fix_lines((out / "orders.fix").read_bytes())]
    assert symbol in fix_symbols
    exported = invoke("export", out / "trades.csv", "--format", "fix")  # the quote is removed when read back
    assert exported.stdout_bytes == (out / "orders.fix").read_bytes()


def test_export_errors(run_dir: Path, tmp_path: Path) -> None:
    lonely = tmp_path / "trades.csv"
    shutil.copy(run_dir / "trades.csv", lonely)
    result = CliRunner().invoke(main, ["export", str(lonely), "--format", "fix"])
    assert result.exit_code == 4
    assert result.stderr == (f"Error: {lonely}: a CSV trade list does not carry its run id and as-of date; keep the "
                             "run's manifest.json beside it, or name it with --manifest\n")
    assert invoke("export", lonely, "--format", "fix", "--manifest", run_dir / "manifest.json").exit_code == 0

    no_account = tmp_path / "no_account.yaml"
    no_account.write_text(f"extends: {BASE_CONFIG}\norders: {{account: null}}\n")
    result = CliRunner().invoke(main, ["export", str(run_dir / "trades.csv"), "--format", "fix", "-c",
                                       str(no_account)])
    assert result.exit_code == 3
    assert "orders.account: the fix format writes tag 1 Account, and no account is set" in result.stderr

    edited = tmp_path / "edited" / "trades.csv"
    edited.parent.mkdir()
    shutil.copy(run_dir / "manifest.json", edited.parent / "manifest.json")
    edited.write_text((run_dir / "trades.csv").read_text().replace(",SELL,", ",SHORT,", 1))
    result = CliRunner().invoke(main, ["export", str(edited), "--format", "fix"])
    assert result.exit_code == 4
    assert f"{edited}: row 2: side: expected BUY or SELL, got 'SHORT'" in result.stderr
    renamed = edited.parent / "my_trades.csv"  # under any name: read, and its rows checked
    edited.rename(renamed)
    result = CliRunner().invoke(main, ["export", str(renamed), "--format", "fix"])
    assert result.exit_code == 4 and f"{renamed}: row 2: side: expected BUY or SELL, got 'SHORT'" in result.stderr
    for change in (lambda t: t.replace(",SELL,", ",BUY,", 1),            # a side flipped
                   lambda t: t.replace(",152,", ",15200,", 1),             # a quantity x100
                   lambda t: t + t.splitlines()[1].replace("SPY,", "ZZZ,", 1) + "\n"):  # a row added
        for name in ("trades.csv", "trades (2).csv"):  # whatever the file is called
            (edited.parent / name).write_text(change((run_dir / "trades.csv").read_text()))
            result = CliRunner().invoke(main, ["export", str(edited.parent / name), "--format", "fix"])
            assert result.exit_code == 4 and "edited after the run, or not its trade list" in result.stderr
    lines = (run_dir / "trades.csv").read_text().splitlines()
    renamed.write_text("\n".join([*lines, lines[1]]) + "\n")  # its rows are checked first
    result = CliRunner().invoke(main, ["export", str(renamed), "--format", "fix"])
    assert result.exit_code == 4 and "symbol SPY appears twice" in result.stderr

    target = tmp_path / "orders.fix"
    assert invoke("export", run_dir / "trades.csv", "--format", "fix", "-o", target).exit_code == 0
    assert target.read_bytes() == (run_dir / "orders.fix").read_bytes()
    result = CliRunner().invoke(main, ["export", str(run_dir / "trades.csv"), "--format", "fix", "-o", str(target)])
    assert result.exit_code == 2 and "the file already exists; pass --force" in result.stderr


def test_pipe_delimiter_refuses_a_symbol_holding_a_pipe(tmp_path: Path) -> None:
    rows = (TradeRow(symbol="A|B", side="BUY", quantity=Decimal(1), price=Decimal(10), notional=Decimal("10.00"),
                     current_quantity=Decimal(0), target_quantity=Decimal(1), current_weight=Decimal(0),
                     target_weight=Decimal("0.1"), estimated_cost=Decimal(0), reason="rebalance"),)
    sheet = TradeSheet(run_id="d" * 64, as_of=date(2026, 1, 16), rows=rows)
    from allocator.config.schema import FixDelimiter
    from allocator.errors import DataError

    with pytest.raises(DataError, match=r"A\|B.*holds the field delimiter.*set orders.fix_delimiter: soh"):
        render(sheet, OutputFormat.FIX, OrdersConfig(account="U1", fix_delimiter=FixDelimiter.PIPE))
    assert render(sheet, OutputFormat.FIX, OrdersConfig(account="U1")).count(b"55=A|B\x01") == 1


def test_export_has_help_with_examples() -> None:
    result = invoke("export", "--help")
    assert result.exit_code == 0 and "allocate export out/trades.csv --format fix" in result.output


def test_export_and_send_start_without_the_heavy_libraries(run_dir: Path, tmp_path: Path) -> None:
    from tests.test_imports import _modules_loaded

    heavy = {"pandas", "numpy", "cvxpy", "scipy", "matplotlib", "quickfix"}
    assert not _modules_loaded("export", str(run_dir / "trades.csv"), "--format", "fix", "-o",
                               str(tmp_path / "light.fix")) & heavy
    assert not _modules_loaded("--help") & {"quickfix"}
    assert not _modules_loaded("send", "--help") & heavy


def test_only_a_trade_list_its_manifest_records_keeps_the_runs_order_ids(run_dir: Path, tmp_path: Path) -> None:
    run = tmp_path / "r1"
    shutil.copytree(run_dir, run)
    manifest = read_manifest(run / "manifest.json")
    own_id = f"11=AL{manifest.run_id[:12]}-SPY"
    original = (run / "trades.csv").read_text()
    sold = next(r["quantity"] for r in read_csv(run / "trades.csv") if r["symbol"] == "SPY")
    edited = original.replace(f"SPY,SELL,{sold},", f"SPY,BUY,{sold}00,", 1)
    assert edited != original
    refusal = ("edited after the run, or not its trade list: no SHA-256 of it is among the outputs {manifest} "
               "records (its orders would go out under the run's order IDs); use the trade list the run wrote, "
               "rerun allocate run for a new list, or export it under new order IDs with allocate export --new-ids")
    beside = run / "trades (2).csv"  # an edited copy saved beside the manifest
    beside.write_text(edited)
    result = CliRunner().invoke(main, ["export", str(beside), "--format", "fix", "--fix-delimiter", "pipe"])
    assert result.exit_code == 4 and result.stdout == ""
    assert result.stderr == f"Error: {beside}: {refusal.format(manifest=run / 'manifest.json')}\n"
    elsewhere = tmp_path / "k2.csv"  # the same edit elsewhere, with the manifest named
    elsewhere.write_text(edited)
    result = CliRunner().invoke(main, ["export", str(elsewhere), "--manifest", str(run / "manifest.json"),
                                       "--format", "fix"])
    assert result.exit_code == 4
    assert result.stderr == f"Error: {elsewhere}: {refusal.format(manifest=run / 'manifest.json')}\n"

    moved = tmp_path / "moved" / "trades.json"  # a trades.json moved away from its manifest, then edited
    moved.parent.mkdir()
    document = json.loads((run / "trades.json").read_text())
    spy = next(t for t in document["trades"] if t["symbol"] == "SPY")
    spy["quantity"], spy["side"] = spy["quantity"] + "00", "BUY"
    moved.write_text(json.dumps(document, indent=2))
    result = CliRunner().invoke(main, ["export", str(moved), "--format", "fix"])
    assert result.exit_code == 4
    assert result.stderr == (f"Error: {moved}: carries a run id, but no manifest.json of its run is beside it to "
                             "check that the run wrote this list (its orders would go out under that run's order "
                             "IDs); keep the run's manifest.json beside it, or name it with --manifest; or export it "
                             "under new order IDs with allocate export --new-ids\n")
    result = CliRunner().invoke(main, ["export", str(moved), "--manifest", str(run / "manifest.json"), "--format",
                                       "fix"])
    assert result.exit_code == 4 and "edited after the run, or not its trade list" in result.stderr
    shutil.copy(run / "trades.json", moved)  # unedited, and its manifest named: the run's own IDs
    result = invoke("export", moved, "--manifest", run / "manifest.json", "--format", "fix", "--fix-delimiter", "pipe")
    assert result.exit_code == 0 and own_id in result.stdout

    other = tmp_path / "other.json"  # a manifest of another run does not vouch for this one's list
    other_manifest = json.loads((run / "manifest.json").read_text())
    other_manifest["run_id"] = "0" * 64
    (tmp_path / "other_manifest.json").write_text(json.dumps(other_manifest))
    shutil.copy(run / "trades.json", other)
    result = CliRunner().invoke(main, ["export", str(other), "--manifest", str(tmp_path / "other_manifest.json"),
                                       "--format", "fix"])
    assert result.exit_code == 4
    assert (f"carries run id {manifest.run_id[:12]}, but {tmp_path / 'other_manifest.json'} is the manifest of run "
            "000000000000") in result.stderr


def test_new_ids_export_an_edited_list_under_ids_that_are_not_the_runs(run_dir: Path, tmp_path: Path) -> None:
    run = tmp_path / "r1"
    shutil.copytree(run_dir, run)
    manifest = read_manifest(run / "manifest.json")
    sold = next(r["quantity"] for r in read_csv(run / "trades.csv") if r["symbol"] == "SPY")
    edited = run / "trades (2).csv"
    edited.write_text((run / "trades.csv").read_text().replace(f"SPY,SELL,{sold},", f"SPY,BUY,{sold}00,", 1))
    fix = invoke("export", edited, "--format", "fix", "--fix-delimiter", "pipe", "--new-ids")
    assert fix.exit_code == 0
    fields = [field_map(decode(line, PIPE)) for line in fix_lines(fix.stdout_bytes)]
    spy = next(f for f in fields if f[55] == "SPY")
    assert spy[38] == f"{sold}00" and spy[54] == "1"
    assert not any(f[11].startswith(f"AL{manifest.run_id[:12]}") for f in fields)  # none of the run's IDs
    derived = spy[11].removeprefix("AL").split("-")[0]
    assert fix.stderr == (f"Warning: {edited}: not a trade list run {manifest.run_id[:12]} wrote; its orders carry "
                          f"new order IDs (run id {derived}), not that run's\n")
    again = invoke("export", edited, "--format", "fix", "--fix-delimiter", "pipe", "--new-ids")
    assert again.stdout_bytes == fix.stdout_bytes  # the same edited list, the same new IDs

    as_json = tmp_path / "new.json"  # the JSON says so, and is read back under its own new IDs
    assert invoke("export", edited, "--format", "json", "--new-ids", "-o", as_json).exit_code == 0
    document = json.loads(as_json.read_text())
    assert document["derived_from"] == manifest.run_id and document["run_id"].startswith(derived)
    assert not list(schema_validator().iter_errors(document))
    back = invoke("export", as_json, "--format", "fix", "--fix-delimiter", "pipe", "--manifest",
                  run / "manifest.json")
    assert back.exit_code == 0 and back.stdout_bytes == fix.stdout_bytes
    document["trades"][0]["quantity"] = "1"  # edited again: its trades no longer give its run id
    as_json.write_text(json.dumps(document))
    result = CliRunner().invoke(main, ["export", str(as_json), "--format", "fix"])
    assert result.exit_code == 4
    assert (f"Error: {as_json}: edited after it was given new order IDs: its run id {derived} is not the one its "
            "trades give") in result.stderr

    pristine = invoke("export", run / "trades.csv", "--format", "fix", "--new-ids")  # the run's own list: its IDs
    assert pristine.exit_code == 0 and pristine.stdout_bytes == (run / "orders.fix").read_bytes()
    assert pristine.stderr == ""
    exported = tmp_path / "exported.json"  # a JSON exported from the run's trades.csv gives the run's orders
    assert invoke("export", run / "trades.csv", "--format", "json", "-o", exported).exit_code == 0
    shutil.copy(exported, run / "exported.json")
    assert invoke("export", run / "exported.json", "--format", "fix").stdout_bytes == (run / "orders.fix").read_bytes()


def test_send_takes_an_orders_fix_only_as_the_run_recorded_it(run_dir: Path, tmp_path: Path) -> None:
    """An orders.fix is sent only when its manifest records it byte for byte: an edited one (a quantity x100 with
    its length and checksum recomputed) or one moved away from its manifest is refused before any session opens."""
    from allocator.errors import DataError
    from allocator.orders.fix_message import encode
    from allocator.orders.send import load_batch

    folder = tmp_path / "run"
    shutil.copytree(run_dir, folder)
    assert load_batch(folder / "orders.fix").orders  # as the run wrote it
    lines = (folder / "orders.fix").read_bytes().decode().splitlines()
    fields = decode(lines[0])
    kind = str(dict(fields)[35])
    header = [(t, v) for t, v in fields if t in (49, 56, 34, 52)]
    body = [(t, str(int(v) * 100) if t == 38 else v) for t, v in fields if t not in (8, 9, 10, 35, 49, 56, 34, 52)]
    lines[0] = encode(kind, header, body)
    assert decode(lines[0])  # a well-formed message: length and checksum recomputed
    (folder / "orders.fix").write_bytes(("\n".join(lines) + "\n").encode())
    with pytest.raises(DataError, match=r"an orders\.fix file that no run.s manifest records"):
        load_batch(folder / "orders.fix")
    alone = tmp_path / "alone"
    alone.mkdir()
    shutil.copy(run_dir / "orders.fix", alone / "orders.fix")
    with pytest.raises(DataError, match="send the run's trade list"):
        load_batch(alone / "orders.fix")


def test_a_trusted_row_is_the_row_the_dataclass_makes() -> None:
    """``trusted_row`` skips the frozen dataclass's ``__init__`` (for speed), not any of its behaviour."""
    from allocator.orders.trade_sheet import trusted_row, trusted_rows

    fields: dict[str, Any] = {"symbol": "A", "side": "BUY", "quantity": Decimal(3), "price": Decimal("10.5"),
                              "notional": Decimal("31.50"), "current_quantity": Decimal(0),
                              "target_quantity": Decimal(3), "current_weight": Decimal("0.0000000000"),
                              "target_weight": Decimal("0.0315000000"), "estimated_cost": Decimal("0.01"),
                              "reason": "rebalance", "break_even_alpha": Decimal("0.0001000000")}
    made, trusted = TradeRow(**fields), trusted_row(dict(fields))
    (of_columns,) = trusted_rows([[value] for value in fields.values()])
    for row in (trusted, of_columns):
        assert type(row) is TradeRow and row == made and hash(row) == hash(made)
        assert repr(row) == repr(made) and vars(row) == vars(made)
        with pytest.raises(AttributeError):
            row.symbol = "B"  # type: ignore[misc]


def test_a_run_trade_sheet_is_its_trade_records_read_back() -> None:
    """``trade_sheet`` makes the rows without the text round trip, and gives what reading the text gives."""
    from allocator.orders.trade_sheet import sheet_from_records
    from allocator.outputs.trade_rows import trade_rows, trade_sheet
    from allocator.pipeline import run

    result = run(EXAMPLE_HOLDINGS, BASE_CONFIG)
    sheet = trade_sheet(result, "0" * 64)
    assert len(sheet.rows) > 3
    read = sheet_from_records(trade_rows(result.trades), "0" * 64, result.as_of, result.trades.cash_before_value,
                              result.trades.cash_after_value)
    assert sheet == read and trades_csv(sheet) == trades_csv(read)


def csv_of_cells(sheet: TradeSheet) -> bytes:
    """``trades.csv`` by its definition: the cells of each row's ``trade_record``, through ``csv.writer``."""
    from allocator.files.cells import safe_text
    from allocator.orders.trade_sheet import TRADE_COLUMNS, trade_record

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(TRADE_COLUMNS)
    for row in sheet.rows:
        record = {**trade_record(row), "symbol": safe_text(row.symbol), "reason": safe_text(row.reason)}
        writer.writerow([record.get(c, "") for c in TRADE_COLUMNS])
    return buffer.getvalue().encode("utf-8")


texts = st.one_of(st.text(max_size=8), st.sampled_from(["tilt(size -1.2, value -0.5)", '=HYPERLINK("x")', "a\nb",
                                                        "a\rb", '"', ",", "-1"]))


@settings(max_examples=100, deadline=None, derandomize=True)
@given(st.lists(st.tuples(texts, texts, decimals, st.booleans()), max_size=5))
def test_trades_csv_is_the_csv_writer_s_file_of_the_records(rows: list[tuple[str, str, Decimal, bool]]) -> None:
    sheet = TradeSheet(run_id="c" * 64, as_of=date(2026, 1, 16), rows=tuple(
        TradeRow(symbol=symbol, side="SELL", quantity=q, price=q, notional=q * 2, current_quantity=q * 3,
                 target_quantity=Decimal("0.0"), current_weight=Decimal("0.0000000000"),
                 target_weight=Decimal("-0.0100000000"), estimated_cost=Decimal("0.01"), reason=reason,
                 break_even_alpha=Decimal("1E-7") if alpha else None)  # type: ignore[arg-type]
        for symbol, reason, q, alpha in rows))
    assert trades_csv(sheet) == csv_of_cells(sheet)


printable = st.text(st.characters(blacklist_categories=("Cc", "Cs")), max_size=8)
names = st.one_of(printable.filter(str.strip), st.sampled_from(['=HYPERLINK("x")', "a,b", "-1", "BRK.B"]))
quantities = st.one_of(st.decimals(min_value=Decimal("0.1"), max_value=10**6, places=1),
                       st.sampled_from([Decimal(x) for x in ("10.0", "12.50", "1E+2", "0.0001", "3")]))
holdings = st.one_of(quantities, st.just(Decimal("0.0")))
money = st.decimals(min_value=Decimal("0.01"), max_value=10**6, places=2)
weights = st.one_of(st.floats(0.0, 2.0), st.sampled_from([-0.0, -4e-11, 1e-12]))
SPOILED = {0: ["", "A\x00"], 2: [Decimal(0), Decimal("-1.0"), Decimal("NaN")], 3: [Decimal(0)], 4: [Decimal("-0.01")],
           5: [Decimal("-1.0"), Decimal("NaN")], 6: [Decimal("Infinity"), Decimal("-1.0")], 7: [math.nan],
           8: [math.inf], 9: [Decimal("-0.01")], 10: ["a\nb"], 11: [-1e-9, math.nan]}  # by field: refused values


@settings(max_examples=150, deadline=None, derandomize=True)
@given(st.lists(st.tuples(names, st.sampled_from(["BUY", "SELL"]), quantities, money, money, holdings, holdings,
                          weights, st.floats(-1.0, 1.0), money, names, weights), max_size=4),
       st.one_of(st.none(), st.none(), st.tuples(st.integers(0, 3), st.sampled_from(
           [(field, value) for field, values in SPOILED.items() for value in values]))))
def test_a_trade_list_is_checked_and_written_as_its_records_read_back(
        trades: list[tuple[Any, ...]], spoil: tuple[int, tuple[int, Any]] | None) -> None:
    """``trade_sheet`` and ``trade_files_of`` check a list a column at a time, and the latter writes ``trades.csv``
    from the texts it reads the rows from: the rows and files of its records read back, or refused when reading
    refuses them."""
    from types import SimpleNamespace

    from allocator.errors import DataError
    from allocator.orders.export import trade_files
    from allocator.orders.trade_sheet import sheet_from_records
    from allocator.outputs.trade_rows import trade_files_of, trade_rows, trade_sheet
    from allocator.terms import Side
    from allocator.trading.trades import Trade

    if spoil is not None and spoil[0] < len(trades):
        row, (field, value) = spoil
        trades[row] = (*trades[row][:field], value, *trades[row][field + 1:])
    listed = tuple(Trade(symbol, Side(side), *numbers, reason=reason, break_even_alpha=alpha)  # type: ignore[arg-type]
                   for symbol, side, *numbers, reason, alpha in trades)
    result: Any = SimpleNamespace(trades=SimpleNamespace(trades=listed, cash_before_value=Decimal("5.00"),
                                                         cash_after_value=Decimal("1.00")), as_of=date(2026, 1, 16),
                                  config=SimpleNamespace(orders=OrdersConfig()))
    formats = [OutputFormat.CSV, OutputFormat.JSON]
    try:
        read = sheet_from_records(trade_rows(result.trades), "0" * 64, result.as_of, Decimal("5.00"), Decimal("1.00"))
    except DataError:
        for refused in (lambda: trade_sheet(result, "0" * 64), lambda: trade_files_of(result, "0" * 64, formats)):
            with pytest.raises(DataError):
                refused()
        return
    assert trade_sheet(result, "0" * 64) == read
    assert trade_files_of(result, "0" * 64, formats) == trade_files(read, formats, OrdersConfig())
    assert trade_files_of(result, "0" * 64, formats[:1]) == {"trades.csv": trades_csv(read)}
