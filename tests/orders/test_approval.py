"""``allocate approve`` and the approval gate of ``allocate send`` (``orders.require_approval``).

The gate is tested end to end against the simulated FIX broker of ``test_send.py``: an unapproved trade list, an
order file and a list whose digest differs from the approved one are refused before any order leaves; the approved
list is sent, each order once."""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import Result

from allocator.errors import DataError, OrderError
from allocator.files.manifest import read_manifest
from allocator.orders.approval import APPROVAL_FILE, approve, check_approved, read_approvals, trade_list_digest
from allocator.orders.trade_sheet import read_trade_sheet
from tests.helpers import read_csv, write_config

NOON = datetime(2026, 1, 19, 12, 0, tzinfo=UTC)


@pytest.fixture
def run_copy(example_run_every_format: Path, tmp_path: Path) -> Path:
    folder = tmp_path / "run"
    shutil.copytree(example_run_every_format, folder)
    return folder


def test_approve_records_who_approved_which_digest_and_when(run_copy: Path, cli: Callable[..., Result]) -> None:
    digest = hashlib.sha256((run_copy / "trades.csv").read_bytes()).hexdigest()  # sha256sum trades.csv
    result = cli("approve", run_copy, "--by", "Jane Doe", "--digest", digest[:16])
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith(f"approved: trades.csv (10 trades, SHA-256 {digest}) by Jane Doe at 20")
    record = json.loads((run_copy / APPROVAL_FILE).read_text())
    manifest = json.loads((run_copy / "manifest.json").read_text())
    assert record["run_id"] == manifest["run_id"]
    (entry,) = record["approvals"]
    assert (entry["trade_list_sha256"], entry["trade_list"], entry["trades"], entry["approved_by"]) == (
        digest, "trades.csv", 10, "Jane Doe")
    assert datetime.strptime(entry["approved_at"], "%Y-%m-%dT%H:%M:%SZ")
    second = approve(run_copy, "John Roe", NOON)[0]
    found = read_approvals(run_copy)
    assert found is not None and [a.approved_by for a in found.approvals] == ["Jane Doe", "John Roe"]
    assert found.latest == second and second.approved_at == "2026-01-19T12:00:00Z"


def test_the_digest_of_a_json_only_list_is_that_of_its_csv_form(run_copy: Path) -> None:
    manifest = read_manifest(run_copy / "manifest.json")
    from_json = read_trade_sheet(run_copy / "trades.json", manifest)
    assert trade_list_digest(from_json) == hashlib.sha256((run_copy / "trades.csv").read_bytes()).hexdigest()


def test_approve_refuses_another_digest_a_bad_name_and_a_folder_without_a_run(
        run_copy: Path, tmp_path: Path, cli: Callable[..., Result]) -> None:
    result = cli("approve", run_copy, "--by", "Jane Doe", "--digest", "0" * 16)
    assert result.exit_code == 4
    assert "the trade list's SHA-256 is" in result.stderr and f"not the {'0' * 16} reviewed" in result.stderr
    short = cli("approve", run_copy, "--by", "Jane Doe", "--digest", "abc")
    assert short.exit_code == 4 and "--digest: expected at least 12 hex digits" in short.stderr
    with pytest.raises(DataError, match="--by: expected a name"):
        approve(run_copy, "  ", NOON)
    empty = tmp_path / "empty"
    empty.mkdir()
    nothing = cli("approve", empty, "--by", "Jane Doe")
    assert nothing.exit_code == 4 and f"Error: {empty}: no manifest.json" in nothing.stderr
    assert not (run_copy / APPROVAL_FILE).exists(), "nothing is recorded when the approval is refused"


def test_an_edited_approval_file_is_an_error_naming_the_field(run_copy: Path) -> None:
    approve(run_copy, "Jane Doe", NOON)
    record = json.loads((run_copy / APPROVAL_FILE).read_text())
    record["approvals"][0]["trade_list_sha256"] = "not a digest"
    (run_copy / APPROVAL_FILE).write_text(json.dumps(record))
    with pytest.raises(DataError, match=r"approvals\[0\]\.trade_list_sha256: not a SHA-256"):
        read_approvals(run_copy)


def test_the_gate_refuses_unapproved_lists_order_files_and_other_digests(run_copy: Path) -> None:
    manifest = read_manifest(run_copy / "manifest.json")
    sheet = read_trade_sheet(run_copy / "trades.csv", manifest)
    with pytest.raises(OrderError, match="this trade list is not approved"):
        check_approved(run_copy / "trades.csv", manifest, sheet)
    with pytest.raises(OrderError, match="an order file carries no trade list"):
        check_approved(run_copy / "orders.fix", manifest, None)
    approve(run_copy, "Jane Doe", NOON)
    assert check_approved(run_copy / "trades.csv", manifest, sheet).approved_by == "Jane Doe"
    fewer = type(sheet)(run_id=sheet.run_id, as_of=sheet.as_of, rows=sheet.rows[:-1])
    with pytest.raises(OrderError, match="differs from the one Jane Doe approved at 2026-01-19T12:00:00Z"):
        check_approved(run_copy / "trades.csv", manifest, fewer)


# --- end to end against the simulated broker (slow: a broker and allocate send in processes of their own) ---

@pytest.fixture
def gated_run(example_copy: Path, cli: Callable[..., Result]) -> Path:
    """The example run under a config with ``orders.require_approval: true``, with trades.csv and orders.fix."""
    config = write_config(example_copy, "extends: base.yaml\norders:\n  require_approval: true\n")
    out = example_copy / "out"
    result = cli("run", example_copy / "examples/holdings.csv", "-c", config, "-o", out, "-q", "--format", "csv",
                 "--format", "fix")
    assert result.exit_code == 0, result.stderr
    return out


@pytest.fixture
def brokers() -> Iterator[list[object]]:
    started: list[object] = []
    yield started
    for broker in started:
        broker.stop()  # type: ignore[attr-defined]


@pytest.mark.slow
@pytest.mark.xdist_group("fix")
def test_send_refuses_what_was_not_approved_and_sends_the_approved_list_once(
        gated_run: Path, brokers: list[object], tmp_path: Path, cli: Callable[..., Result]) -> None:
    pytest.importorskip("quickfix", reason="the quickfix package (allocate[fix], installed by make test) is missing")
    from tests.orders.test_send import send, start_broker

    trades = read_csv(gated_run / "trades.csv")
    broker = start_broker(brokers, trades, tmp_path)  # type: ignore[arg-type]
    unapproved = send(gated_run, broker)
    assert unapproved.returncode == 6, unapproved.stderr
    assert "orders.require_approval: this trade list is not approved" in unapproved.stderr
    order_file = send(gated_run, broker, trades_file="orders.fix")
    assert order_file.returncode == 6 and "an order file carries no trade list" in order_file.stderr
    assert broker.arrivals() == {} and not (gated_run / "executions.csv").exists()

    assert cli("approve", gated_run, "--by", "Jane Doe").exit_code == 0
    # a list regenerated after the approval (its manifest updated too, so only the approval can catch it)
    original = (gated_run / "trades.csv").read_bytes(), (gated_run / "manifest.json").read_bytes()
    edited = b"".join(original[0].splitlines(keepends=True)[:-1])
    manifest = json.loads(original[1])
    manifest["outputs"]["trades.csv"] = hashlib.sha256(edited).hexdigest()
    (gated_run / "trades.csv").write_bytes(edited)
    (gated_run / "manifest.json").write_text(json.dumps(manifest))
    differs = send(gated_run, broker)
    assert differs.returncode == 6 and "differs from the one Jane Doe approved" in differs.stderr
    assert broker.arrivals() == {}

    (gated_run / "trades.csv").write_bytes(original[0])
    (gated_run / "manifest.json").write_bytes(original[1])
    approved = send(gated_run, broker)
    assert approved.returncode == 0, approved.stderr
    assert sorted(broker.arrivals().values()) == [1] * len(trades)
    assert {row["status"] for row in read_csv(gated_run / "executions.csv")} == {"FILLED"}


def test_a_config_given_with_c_cannot_lift_the_runs_approval_requirement(gated_run: Path, example_copy: Path) -> None:
    """A run recorded under ``orders.require_approval: true`` keeps needing approval when ``send`` or ``export`` is
    given another config with ``-c`` (the independent review sent an unapproved list that way)."""
    from allocator.orders.export import order_settings

    manifest = read_manifest(gated_run / "manifest.json")
    lenient = example_copy / "configs" / "base.yaml"
    assert order_settings(lenient, manifest).require_approval
    assert not order_settings(lenient, None).require_approval  # no run recorded: the config given decides
    from allocator.orders.send import load_batch

    with pytest.raises(OrderError, match="this trade list is not approved"):
        load_batch(gated_run / "trades.csv", lenient)
