"""The example's run, comparison, frontier and backtest pages in headless Chromium (Debian's ``chromium``, driven by
Playwright's Python package; ``make browser`` installs it): no console error, no network request, every section
present, the numbers shown equal to the files', the tables sort, and a screenshot of each page kept under the test's
tmp path."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.report.helpers import displayed_mismatches

CHROMIUM = Path("/usr/bin/chromium")
# the system browser, as the project's Makefile installs it; never a browser build of Playwright's own
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SECTIONS = {
    "run": ["headline", "approval", "weights", "exposures", "risk", "attribution", "views", "rsi", "limits", "trades",
            "frontier", "warnings", "manifest"],
    "compare": ["headline", "metrics", "weights", "trades", "views", "rules", "manifest"],
    "frontier": ["headline", "frontier", "manifest"],
    "backtest": ["headline", "metrics", "differences", "risk", "equity", "drawdowns", "weights", "rules", "trades",
                 "warnings", "manifest"],
}
LEAST_NUMBERS = {"run": 400, "compare": 200, "frontier": 200, "backtest": 100}  # cells checked against the files

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("browser")]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    sync_api = pytest.importorskip("playwright.sync_api",
                                   reason="Playwright's Python package (the test extra, make test) is missing")
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is absent: make browser (run by make check and make test) installs Debian's chromium")
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield launched
        launched.close()


def _open(browser: Any, page_file: Path) -> tuple[Any, list[str], list[str]]:
    """The page at ``page_file`` loaded with every request routed: ``file://`` ones served, any other recorded and
    aborted; returns the page, the console errors and the other requests."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors: list[str] = []
    requests: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))

    def route(handle: Any) -> None:
        url = handle.request.url
        if url.startswith("file://"):
            handle.continue_()
        else:
            requests.append(url)
            handle.abort()

    page.route("**/*", route)
    page.goto(page_file.as_uri())
    page.wait_for_load_state("load")
    return page, errors, requests


def _folder(kind: str, request: pytest.FixtureRequest) -> Path:
    """The folder of ``kind``: the backtest's is built only when a test asks for it."""
    if kind == "backtest":
        folder: Path = request.getfixturevalue("backtest_folder")
        return folder
    folders: dict[str, Path] = request.getfixturevalue("report_folders")
    return folders[kind]


@pytest.mark.parametrize("kind", ["run", "compare", "frontier", "backtest"])
def test_the_page_loads_offline_with_every_section_and_the_files_numbers(
        kind: str, browser: Any, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    folder = _folder(kind, request)
    page_file = folder / "report.html"
    assert page_file.stat().st_size < 2 * 1024 * 1024, "under 2 MB"
    page, errors, requests = _open(browser, page_file)
    screenshot = tmp_path / f"report-{kind}.png"
    page.screenshot(path=str(screenshot), full_page=True)
    print(f"screenshot of the {kind} page: {screenshot}")
    assert screenshot.stat().st_size > 10_000
    assert errors == [], "no console error"
    assert requests == [], "no network request"
    ids = page.eval_on_selector_all("main > section", "sections => sections.map(s => s.id)")
    assert ids == SECTIONS[kind]
    for key in ids:
        heading = page.locator(f"#{key} h2")
        assert heading.is_visible() and heading.inner_text().strip()
    charts = page.eval_on_selector_all("svg[role=img]", "svgs => svgs.map(s => s.querySelector('title').textContent)")
    assert charts and all(charts), "every chart has a title"
    cells = page.eval_on_selector_all("[data-source]", "cells => cells.map(c => [c.dataset.source, c.textContent])")
    assert len(cells) >= LEAST_NUMBERS[kind]
    assert displayed_mismatches(folder, [(source, shown) for source, shown in cells]) == []
    page.close()


def test_a_sortable_table_sorts_by_the_clicked_column(browser: Any, report_folders: dict[str, Path]) -> None:
    page, errors, _ = _open(browser, report_folders["run"] / "report.html")
    table = page.locator("#weights table.sortable")
    target = table.locator("thead th").nth(5)  # the target weight
    assert target.inner_text().strip().startswith("target")
    target.locator("button").click()
    values = [float(v) for v in table.locator("tbody td:nth-child(6)").evaluate_all(
        "cells => cells.map(c => c.dataset.value)")]
    assert values == sorted(values) and target.get_attribute("aria-sort") == "ascending"
    target.locator("button").click()
    again = [float(v) for v in table.locator("tbody td:nth-child(6)").evaluate_all(
        "cells => cells.map(c => c.dataset.value)")]
    assert again == sorted(values, reverse=True) and target.get_attribute("aria-sort") == "descending"
    assert errors == []
    page.close()


@pytest.mark.parametrize("kind", ["run", "compare", "backtest"])
def test_the_printed_page_fits_a4_and_letter(kind: str, browser: Any, request: pytest.FixtureRequest,
                                             tmp_path: Path) -> None:
    """The print stylesheet: charts scale to the page's width, nothing is wider than A4 or Letter."""
    page, errors, _ = _open(browser, _folder(kind, request) / "report.html")
    page.emulate_media(media="print")
    for paper, width_mm in (("A4", 210.0), ("Letter", 215.9)):
        printable = (width_mm - 24.0) / 25.4 * 96.0  # CSS pixels inside the 12 mm margins
        page.set_viewport_size({"width": int(printable), "height": 1000})
        widest = page.evaluate("Math.max(...Array.from(document.querySelectorAll('main *'), e => "
                               "e.getBoundingClientRect().right))")
        assert widest <= printable + 1.0, f"{paper}: content {widest:.0f}px wide, the page {printable:.0f}px"
        pdf = tmp_path / f"report-{paper}.pdf"
        page.pdf(path=str(pdf), format=paper, print_background=False)
        assert pdf.read_bytes().startswith(b"%PDF")
    assert page.locator("nav").is_hidden(), "the contents are left off the printed page"
    assert errors == []
    page.close()
