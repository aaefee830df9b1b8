"""The run's report page is written without CVXPY: from 1,000 assets ``allocate run`` solves with Clarabel called
directly (``optimize.conic``), and ``allocate run --report`` then imported CVXPY (with scipy.stats, 0.85 s of CPU)
only because the page's charts import ``optimize.robust`` for ``View``."""

from __future__ import annotations

import subprocess
import sys


def test_the_run_page_and_its_charts_import_no_cvxpy() -> None:
    code = ("import sys\nimport allocator.report.run_page, allocator.report.charts, allocator.report.build\n"
            "print('cvxpy' in sys.modules)")
    found = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert found.stdout.strip() == "False"
