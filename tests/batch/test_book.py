"""A generated book (``bench/batch_book.py``: three models, overrides, bands) through ``allocate batch`` on a local
Dask cluster, checked against its book as a desk would (``bench/book_check.py``); the 10,000-account book is
``python bench/batch.py --book 10000`` (docs/batch.md)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

from bench.batch_book import write_book
from bench.book_check import check_book

ACCOUNTS = 300  # the first 300 of the seeded book: in-band accounts, and A000091 infeasible (invest, bond floor)


@pytest.fixture(scope="module")
def book_batch(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Result]:
    from click.testing import CliRunner

    from allocator.cli import main

    folder = tmp_path_factory.mktemp("book")
    book = write_book(folder / "book", ACCOUNTS)
    out = folder / "out"
    result = CliRunner().invoke(main, ["batch", str(book / "holdings.csv"), "--accounts", str(book / "accounts.csv"),
                                       "-o", str(out), "--workers", "2", "-q"], catch_exceptions=False)
    return book, out, result


@pytest.mark.slow
def test_a_generated_book_over_three_models_reconciles_and_leaves_in_band_accounts_untouched(
        book_batch: tuple[Path, Path, Result]) -> None:
    book, out, result = book_batch
    found = check_book(book, out)
    assert found.failures == []
    assert sum(found.statuses.values()) == ACCOUNTS
    assert found.statuses["in_band"] > 0 and found.statuses["traded"] > 0.9 * ACCOUNTS
    assert found.statuses["error"] == 0 and found.statuses["infeasible"] >= 1
    assert result.exit_code == 5  # an infeasible account: the batch completes and says so
    assert "Error: account A000091 (infeasible)" in result.stderr
    assert found.trades > 0 and found.blocks > 0


@pytest.mark.slow
@pytest.mark.parametrize(("file", "edit", "failure"), [
    ("blocks.csv", lambda text: text.replace("\nF000,SELL,", "\nF000,SELL,1", 1), "blocks.csv ('F000', 'SELL')"),
    ("allocations.csv", lambda text: text.replace(",SELL,A000002,", ",SELL,A000003,", 1), "allocations.csv"),
    ("accounts/A000002/trades.csv", lambda text: text.replace(",SELL,", ",BUY,", 1), "A000002 "),
])
def test_the_check_finds_an_output_that_does_not_reconcile(book_batch: tuple[Path, Path, Result], tmp_path: Path,
                                                           file: str, edit: Callable[[str], str], failure: str
                                                           ) -> None:
    import shutil

    book, out, _ = book_batch
    copy = tmp_path / "out"
    shutil.copytree(out, copy)
    text = (copy / file).read_text()
    assert edit(text) != text
    (copy / file).write_text(edit(text))
    assert any(f.startswith(failure) for f in check_book(book, copy).failures)


@pytest.mark.slow
def test_two_worker_processes_write_the_bytes_of_one_process(tmp_path: Path) -> None:
    """60 accounts of the book on a LocalCluster of two processes and in this process: every account's files are
    the same bytes. Each account's solve sets up its own solver: a warm one, updated from whichever account the
    worker had solved before, ended A000033's target weights differently in the 10th decimal."""
    from click.testing import CliRunner

    from allocator.cli import main

    book = write_book(tmp_path / "book", 60)
    outs = {}
    for workers in ("2", "0"):
        outs[workers] = tmp_path / f"out{workers}"
        result = CliRunner().invoke(main, ["batch", str(book / "holdings.csv"), "--accounts",
                                           str(book / "accounts.csv"), "-o", str(outs[workers]), "--workers",
                                           workers, "-q"], catch_exceptions=False)
        assert result.exit_code == 0, result.stderr
    files = sorted(p.relative_to(outs["0"]) for p in (outs["0"] / "accounts").rglob("*")
                   if p.is_file() and p.name != "manifest.json")
    assert len(files) > 100
    different = [str(f) for f in files if (outs["2"] / f).read_bytes() != (outs["0"] / f).read_bytes()]
    assert different == []
