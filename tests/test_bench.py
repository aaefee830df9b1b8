"""The benchmark (bench/): its floor solves the bench problem to allocate's optimum, and ``run.py --quick`` runs
end to end with every method agreeing on the weights. Timings are printed by the bench, never asserted here."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"


@pytest.fixture()
def bench_path() -> Iterator[None]:
    sys.path.insert(0, str(BENCH))
    try:
        yield
    finally:
        sys.path.remove(str(BENCH))


@pytest.mark.parametrize("tracking_error", [True, False])
def test_clarabel_called_directly_reaches_allocates_optimum(bench_path: None, tracking_error: bool) -> None:
    from base_case import base_case
    from limits import utility, violation
    from methods import solve_allocate, solve_clarabel_direct

    from allocator.model.factor_models import statistical_factor_model

    case = base_case(150)
    if not tracking_error:
        case = dataclasses.replace(case, problem=case.problem.without_tracking_error())
    risk = statistical_factor_model(case.returns, case.problem.symbols, 15)
    ours, floor = solve_allocate(case)["weights"], solve_clarabel_direct(case)["weights"]
    assert violation(case.problem, risk, floor) < 1e-7
    assert abs(utility(case.problem, risk, floor) - utility(case.problem, risk, ours)) < 1e-8
    np.testing.assert_allclose(floor, ours, atol=1e-5)
    te = np.sqrt(risk.variance(ours - case.problem.benchmark))
    # the limit binds when it is there (so the cone is exercised) and is exceeded without it
    assert te == pytest.approx(0.03, abs=1e-6) if tracking_error else te > 0.031


@pytest.mark.slow
def test_quick_bench_runs_and_every_method_agrees(tmp_path: Path) -> None:
    pytest.importorskip("pypfopt")
    pytest.importorskip("skfolio")
    completed = subprocess.run(
        [sys.executable, str(BENCH / "run.py"), "--quick", "--sizes", "30", "--cli-sizes", "60", "--sections",
         "problem", "dense", "cli", "--out", str(tmp_path / "results")],
        capture_output=True, text=True, check=False, timeout=600)
    assert completed.returncode == 0, completed.stderr[-2000:]
    results = json.loads((tmp_path / "results.json").read_text())
    rows = [*results["problem"]["base"]["30"], *results["dense"]["30"]]
    assert {r["method"] for r in rows} == {"allocate", "cvxpy", "pyportfolioopt", "skfolio", "clarabel",
                                           "pyportfolioopt_dense", "skfolio_dense"}
    for row in rows:
        assert "error" not in row, row
        assert row["violation"] < 1e-6, row["method"]
        assert row.get("max_weight_difference", 0.0) < 1e-4, row["method"]
        assert row["memory"]["peak_rss_mb"] > row["memory"]["peak_before_solve_mb"] > 20, row["method"]
    cli = results["cli"]["60"]
    for variant in ("te", "no_te"):
        for process in ("floor", "run"):
            assert "error" not in cli[variant][process], cli[variant][process]
    text = (tmp_path / "results.md").read_text()
    for heading in ("## Goals", "## 30 assets, factor form", "## 30 assets, the peers given the dense covariance",
                    "## allocate run through the CLI at 60 assets"):
        assert heading in text


def test_the_batch_bench_runs_on_a_small_book() -> None:
    """``bench/batch.py`` (1 and 2 workers on a seeded book, the model's solves alone) on 60 accounts, one round."""
    completed = subprocess.run([sys.executable, str(BENCH / "batch.py"), "--accounts", "60", "--rounds", "1"],
                               capture_output=True, text=True, cwd=ROOT, timeout=600, check=False,
                               env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert completed.returncode == 0, completed.stderr[-3000:]
    runs = [line for line in completed.stdout.splitlines() if line.startswith("workers=")]
    assert sorted(line.split()[0] for line in runs) == ["workers=1", "workers=2"]
    assert all("accounts=60 " in line and "worker_kernel_per_account=" in line for line in runs)
    assert "2 workers / 1 worker, best runs of 1 rounds" in completed.stdout
