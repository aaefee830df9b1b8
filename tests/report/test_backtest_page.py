"""The backtest's page (``allocate backtest --report``, ``allocate report``): self-contained, every section, every
metric of ``metrics.json`` shown to the displayed precision (CVaR, CDaR and the bootstrap intervals as the backtest
measured them), and the numbers the page derives (equity, trades) equal to the files'."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from click.testing import Result

from allocator.report.build import kind_of
from allocator.report.folder import OutputFolder, read_folder
from tests.helpers import backtest_rows
from tests.report.helpers import displayed_mismatches

SOURCE = re.compile(r'data-source="([^"]+)"[^>]*>([^<]*)<')
SECTIONS = ["headline", "metrics", "differences", "risk", "equity", "drawdowns", "weights", "rules", "trades",
            "warnings", "manifest"]
SHOWN = ("cagr", "volatility", "sharpe", "sortino", "max_drawdown", "cvar_95", "cdar_95", "turnover", "costs",
         "rebalances", "failed_rebalances", "relaxed_rebalances")
RELATIVE = ("tracking_error", "information_ratio", "excess_return", "excess_return_ci_low", "excess_return_ci_high",
            "sharpe_difference", "sharpe_difference_ci_low", "sharpe_difference_ci_high")


def _section(html: str, key: str) -> str:
    start = html.index(f'<section id="{key}"')
    return html[start:html.index("</section>", start)]


def test_a_backtest_folder_is_a_backtest_page() -> None:
    assert kind_of(OutputFolder("memory", {"metrics.json": b"{}", "returns.csv": b"date\n"})).name == "backtest"
    assert kind_of(OutputFolder("memory", {"metrics.json": b"{}", "returns.csv": b"", "summary.json": b"{}",
                                           "weights.csv": b""})).name == "backtest"


def test_backtest_report_needs_an_output_folder(cli: Callable[..., Result]) -> None:
    result = cli("backtest", "-c", "configs/base.yaml", "--report")
    assert result.exit_code == 2
    assert "--report writes report.html into the output folder; give it with -o" in result.stderr


@pytest.mark.slow
def test_the_page_is_self_contained_with_every_section(backtest_folder: Path) -> None:
    html = (backtest_folder / "report.html").read_text()
    assert 'data-kind="backtest"' in html and len(html.encode()) < 2 * 1024 * 1024
    assert not re.search(r"""(src|href)=["'](?!#|data:)""", html), "nothing is loaded from elsewhere"
    assert "https://" not in html and "http://" not in html.replace("http://www.w3.org", "")
    assert "default-src 'none'" in html
    assert re.findall(r'<section id="([^"]+)"', html) == SECTIONS
    for key in ("equity", "drawdowns", "weights"):
        assert _section(html, key).count("<svg") == 1, f"{key}: one chart"
    assert html.count("<title id=") == html.count("<svg") == 3
    assert "Value of 1 invested (log scale)" in html
    headline = _section(html, "headline")
    assert "2025-11-03 .. 2026-01-16" in headline and "every 15 sessions" in headline
    assert "config, no_rsi, benchmark_hold" in headline
    assert 'class="emphasis"' in headline and "Look-ahead: static fundamentals" in headline
    assert "Weights of config after each rebalance" in _section(html, "weights")
    assert "riskfolio-lib" in _section(html, "risk")


@pytest.mark.slow
def test_every_metric_is_shown_as_the_files_number(backtest_folder: Path) -> None:
    cells = SOURCE.findall((backtest_folder / "report.html").read_text())
    assert displayed_mismatches(backtest_folder, cells) == []
    sources = {source for source, _ in cells}
    metrics = json.loads((backtest_folder / "metrics.json").read_text())
    for name, values in metrics["strategies"].items():
        for key in (*SHOWN, *(RELATIVE if name != metrics["benchmark"] else ())):
            assert values[key] is not None and f"metrics.json#strategies.{name}.{key}" in sources, (name, key)
    for signal in metrics["rules"]["signal_ic"]:
        assert f"metrics.json#rules.signal_ic.{signal}.mean_ic" in sources
    assert "metrics.json#rules.rsi_trims.config.hit_rate_21" in sources
    assert any(source.startswith("weights.csv#") for source in sources)


@pytest.mark.slow
def test_the_derived_numbers_equal_the_files(backtest_folder: Path) -> None:
    """The equity curve compounds returns.csv; the trade totals add up trades.csv; the CVaR shown is metrics.json's
    (nothing recomputed)."""
    html = (backtest_folder / "report.html").read_text()
    returns = backtest_rows(backtest_folder / "returns.csv")
    equity = _section(html, "equity")
    for name in ("config", "no_rsi", "benchmark_hold"):
        value = float(np.prod([1.0 + float(row[name]) for row in returns]))
        assert re.search(rf">{name}</th><td[^>]*>{value:.4f}</td><td[^>]*>{100 * (value - 1):.2f}%<", equity), name
    trades = _section(html, "trades")
    for name in ("config", "no_rsi", "benchmark_hold"):
        own = [row for row in backtest_rows(backtest_folder / "trades.csv") if row["strategy"] == name]
        assert own, name
        notional = sum(float(row["notional"]) for row in own)
        cost = sum(float(row["cost"]) for row in own)
        assert re.search(rf">{name}</th><td[^>]*>{len(own)}</td>.*?>{notional:,.2f}</td><td[^>]*>{cost:,.2f}<",
                         trades), name
    cvar = json.loads((backtest_folder / "metrics.json").read_text())["strategies"]["config"]["cvar_95"]
    assert f'data-source="metrics.json#strategies.config.cvar_95">{100 * cvar:.2f}%<' in _section(html, "risk")


@pytest.mark.slow
def test_allocate_report_rebuilds_the_same_page_from_the_folder(backtest_folder: Path, tmp_path: Path,
                                                                cli: Callable[..., Result]) -> None:
    """The page from the files on disk (``allocate report``) is the page ``--report`` made from the files in
    memory, byte for byte."""
    page = tmp_path / "page.html"
    result = cli("report", backtest_folder, "-o", page)
    assert result.exit_code == 0, result.stderr
    assert page.read_bytes() == (backtest_folder / "report.html").read_bytes()
    assert kind_of(read_folder(backtest_folder)).name == "backtest"
