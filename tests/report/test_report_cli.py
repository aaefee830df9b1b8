"""``allocate report`` and ``run --report``: one self-contained page per folder, written atomically, and the errors."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result

from allocator.errors import DataError
from allocator.report.build import PageKind, kind_of, register, report_html
from allocator.report.folder import OutputFolder
from allocator.report.page import Page, Section, Text
from tests.conftest import BASE_CONFIG, EXAMPLE_HOLDINGS
from tests.report.helpers import displayed_mismatches

SOURCE = re.compile(r'data-source="([^"]+)"[^>]*>([^<]*)<')


def test_the_pages_are_self_contained_and_small(report_folders: dict[str, Path]) -> None:
    for kind, folder in report_folders.items():
        html = (folder / "report.html").read_text()
        assert len(html.encode()) < 2 * 1024 * 1024, kind
        assert f'data-kind="{kind}"' in html
        assert not re.search(r"""(src|href)=["'](?!#|data:)""", html), f"{kind}: nothing is loaded from elsewhere"
        assert "http://" not in html.replace("http://www.w3.org", "") and "https://" not in html, kind
        assert "default-src 'none'" in html  # the Content-Security-Policy forbids any fetch
        assert html.count("<svg") >= 1 and html.count("<title id=") == html.count("<svg")


def test_the_numbers_of_every_page_are_the_files_numbers(report_folders: dict[str, Path]) -> None:
    """The same check as in the browser, on the HTML text (the browser test reads what Chromium shows)."""
    for folder in report_folders.values():
        cells = SOURCE.findall((folder / "report.html").read_text())
        assert len(cells) > 100
        assert displayed_mismatches(folder, cells) == []


def test_run_report_writes_the_page_with_the_other_files(tmp_path: Path, cli: Callable[..., Result]) -> None:
    out = tmp_path / "out"
    result = cli("run", EXAMPLE_HOLDINGS, "-c", BASE_CONFIG, "-o", out, "-q", "--report")
    assert result.exit_code == 0, result.stderr
    assert sorted(p.name for p in out.iterdir()) == ["manifest.json", "report.html", "summary.json", "trades.csv",
                                                     "weights.csv"]
    html = (out / "report.html").read_text()
    # a one-off run: its solve and the frontier's are handed to Clarabel directly, nothing is compiled
    assert 'id="frontier"' in html and re.search(r"\d+ solves by Clarabel called directly;", html)
    missing = cli("run", EXAMPLE_HOLDINGS, "-c", BASE_CONFIG, "--report")
    assert missing.exit_code == 2 and "--report writes report.html into the output folder" in missing.stderr


def test_only_run_report_keeps_the_compiled_problem(tmp_path: Path, cli: Callable[..., Result],
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """The frontier of ``--report`` is solved through the run's ``ProblemCache``, so only then is it kept past the
    solve (a problem CVXPY compiled at 20,000 assets held 100 MB while the outputs were rendered)."""
    import allocator.cli
    from allocator.optimize.problem import ProblemCache

    kept: list[object] = []
    original = allocator.cli.run_in_memory

    def spy(*args: Any, **kwargs: Any) -> Any:
        kept.append(args[9])  # ``cache``
        return original(*args, **kwargs)

    monkeypatch.setattr(allocator.cli, "run_in_memory", spy)
    assert cli("run", EXAMPLE_HOLDINGS, "-c", BASE_CONFIG, "-o", tmp_path / "plain", "-q").exit_code == 0
    assert cli("run", EXAMPLE_HOLDINGS, "-c", BASE_CONFIG, "-o", tmp_path / "page", "-q", "--report").exit_code == 0
    assert cli("validate", EXAMPLE_HOLDINGS, "-c", BASE_CONFIG).exit_code == 0
    assert kept[0] is None and isinstance(kept[1], ProblemCache) and kept[2] is None
    assert (tmp_path / "page" / "report.html").exists()


def test_the_page_shows_the_trade_lists_digest_and_its_approval(example_run: Path, tmp_path: Path,
                                                               cli: Callable[..., Result]) -> None:
    import hashlib

    run = tmp_path / "run"
    shutil.copytree(example_run, run)
    digest = hashlib.sha256((run / "trades.csv").read_bytes()).hexdigest()
    assert cli("report", run, "--no-frontier").exit_code == 0
    html = (run / "report.html").read_text()
    assert digest in html and "not approved" in html and f"--digest {digest[:16]}" in html
    assert "Not computed (--no-frontier)." in html
    assert cli("approve", run, "--by", "Jane Doe").exit_code == 0
    assert cli("report", run, "--no-frontier").exit_code == 0
    assert "approved by Jane Doe at 20" in (run / "report.html").read_text()


def test_a_run_whose_inputs_moved_still_gets_its_page_without_the_frontier(
        example_copy: Path, tmp_path: Path, cli: Callable[..., Result]) -> None:
    out = tmp_path / "out"
    assert cli("run", example_copy / "examples/holdings.csv", "-c", example_copy / "configs/base.yaml", "-o", out,
               "-q").exit_code == 0
    (example_copy / "examples/prices.csv").unlink()
    result = cli("report", out)
    assert result.exit_code == 0, result.stderr
    assert "Warning: the efficient frontier is left off the page: " in result.stderr
    assert "the recorded input prices is gone" in (out / "report.html").read_text()


def test_report_errors_name_the_folder_and_keep_an_existing_file(tmp_path: Path, report_folders: dict[str, Path],
                                                                 cli: Callable[..., Result]) -> None:
    missing = cli("report", tmp_path / "nowhere")
    assert missing.exit_code == 4 and f"Error: {tmp_path / 'nowhere'}: no such folder" in missing.stderr
    (tmp_path / "notes.txt").write_text("hello")
    other = cli("report", tmp_path)
    assert other.exit_code == 4 and "not an output folder of" in other.stderr
    page = tmp_path / "page.html"
    page.write_text("mine")
    kept = cli("report", report_folders["compare"], "-o", page)
    assert kept.exit_code == 2 and "the file already exists" in kept.stderr and page.read_text() == "mine"
    assert cli("report", report_folders["compare"], "-o", page, "--force").exit_code == 0
    assert page.read_text().startswith("<!DOCTYPE html>")


def test_another_kind_of_folder_plugs_in_with_register() -> None:
    """How another command's page plugs in: a test on the folder's files and a builder of sections."""
    def sweep_page(folder: OutputFolder, *_: object) -> Page:
        return Page("sweep", "Sweep", "", (Section("curves", "Curves", (Text(("...",)),)),))

    from allocator.report import build

    kinds = list(build.KINDS)
    try:
        register(PageKind("sweep", lambda folder: folder.has("sweep.json"), sweep_page))
        folder = OutputFolder("memory", {"sweep.json": b"{}"})
        assert kind_of(folder).name == "sweep"
        assert b'<section id="curves"' in report_html(folder)
    finally:
        build.KINDS[:] = kinds
    with pytest.raises(DataError, match="not an output folder"):
        kind_of(OutputFolder("memory", {"sweep.json": b"{}"}))
