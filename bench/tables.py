"""Formatting of the benchmark results: terminal tables, the pass marks of issue 6, and bench/results.md."""

from __future__ import annotations

from typing import Any

from methods import FACTORS, LABELS

PROBLEM_HEADER = ("method", "total s", "estimation", "build", "compile", "solve", "x allocate", "CPU s",
                  "CPU x allocate", "objective", "rel. gap", "max abs dw", "violation", "peak RSS MB")


def _seconds(value: float) -> str:
    return f"{value:.3f}" if value < 10 else f"{value:.1f}"


def problem_rows(rows: list[dict[str, Any]]) -> list[tuple[str, ...]]:
    out = []
    for row in rows:
        label = LABELS[row["method"]]
        if "error" in row:
            out.append((label, row["error"], *[""] * (len(PROBLEM_HEADER) - 2)))
            continue
        s = row["stages"]
        is_reference = row["method"] == "allocate"
        out.append((
            label, _seconds(s["total"]), _seconds(s["estimation"]), _seconds(s["build"]), _seconds(s["compile"]),
            _seconds(s["solve"]), "1" if is_reference else f"{row.get('ratio', float('nan')):.1f}",
            _seconds(row["cpu_seconds"]), "1" if is_reference else f"{row.get('cpu_ratio', float('nan')):.1f}",
            f"{row.get('objective', float('nan')):.10f}",
            "-" if is_reference else f"{row.get('objective_gap', float('nan')):.1e}",
            "-" if is_reference else f"{row.get('max_weight_difference', float('nan')):.1e}",
            f"{row.get('violation', float('nan')):.0e}", f"{row['peak_rss_mb']:.0f}"))
    return out


def _table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> str:
    widths = [max(len(str(x)) for x in column) for column in zip(header, *rows, strict=True)]
    lines = ["  ".join(str(x).ljust(w) for x, w in zip(header, widths, strict=True))]
    lines += ["  ".join(str(x).ljust(w) for x, w in zip(row, widths, strict=True)) for row in rows]
    return "\n".join(lines)


def _markdown_table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(x) for x in row) + " |" for row in rows]
    return "\n".join(lines)


def scenario_rows(s: dict[str, Any]) -> list[tuple[str, ...]]:
    return [
        ("one compiled problem", _seconds(s["compiled_wall_seconds"]), _seconds(s["compiled_solver_seconds"]),
         _seconds(s["compiled_in_solver_seconds"]), f"{s['compiled_ratio']:.2f}",
         f"{s['compiled_ratio_measured']:.2f}"),
        ("built afresh each time", _seconds(s["fresh_wall_seconds"]), _seconds(s["fresh_solver_seconds"]),
         _seconds(s["fresh_in_solver_seconds"]), f"{s['fresh_ratio']:.2f}", f"{s['fresh_ratio_measured']:.2f}"),
    ]


SCENARIO_HEADER = ("20 scenarios, 500 assets", "wall s", "solver-reported s", "in solver s", "wall / reported",
                   "wall / in solver")
STARTUP_HEADER = ("command", "wall min s", "wall median s", "CPU min s", "CPU median s")
ESTIMATOR_HEADER = ("assets", "scikit-learn LedoitWolf s", "allocate LW dense s", "allocate LW factor form s",
                    f"PCA ({FACTORS}) s", "max |diff| dense", "max |diff| factor", "factor form MB", "dense MB")
FORMULATION_HEADER = ("days", "assets", "dense s", "factor form s", "faster")


def startup_rows(s: dict[str, Any]) -> list[tuple[str, ...]]:
    rows = []
    for name, label in (("import", 'python -c "import cvxpy, pandas"'), ("run", "allocate run (example)")):
        v = s[name]
        rows.append((label, f"{v['wall_min']:.2f}", f"{v['wall_median']:.2f}", f"{v['cpu_min']:.2f}",
                     f"{v['cpu_median']:.2f}"))
    rows.append(("ratio", f"{s['ratio_wall_min']:.2f}", f"{s['ratio_wall_median']:.2f}", f"{s['ratio_cpu_min']:.2f}",
                 f"{s['ratio_cpu_median']:.2f}"))
    return rows


def estimator_rows(items: list[dict[str, Any]]) -> list[tuple[str, ...]]:
    return [(f"{e['assets']:,}", _seconds(e["sklearn_seconds"]), _seconds(e["dense_seconds"]),
             _seconds(e["factor_seconds"]), _seconds(e["pca_seconds"]), f"{e['dense_max_difference']:.0e}",
             f"{e['factor_max_difference']:.0e}", f"{e['factor_form_megabytes']:.1f}", f"{e['dense_megabytes']:.1f}")
            for e in items if "error" not in e]


def formulation_rows(items: list[dict[str, Any]]) -> list[tuple[str, ...]]:
    table: dict[tuple[int, int], dict[str, Any]] = {}
    for item in items:
        table.setdefault((item["days"], item["assets"]), {})[item["form"]] = item
    rows = []
    for (days, assets), forms in table.items():
        dense, factor = forms.get("dense", {}), forms.get("factor", {})
        if "seconds" not in dense or "seconds" not in factor:
            rows.append((str(days), f"{assets:,}", dense.get("error", ""), factor.get("error", ""), ""))
            continue
        faster = "factor" if factor["seconds"] < dense["seconds"] else "dense"
        rows.append((str(days), f"{assets:,}", _seconds(dense["seconds"]), _seconds(factor["seconds"]), faster))
    return rows


def _find(rows: list[dict[str, Any]], method: str) -> dict[str, Any] | None:
    return next((r for r in rows if r.get("method") == method and "stages" in r), None)


def checks(results: dict[str, Any]) -> list[dict[str, Any]]:
    """The pass marks of issue 6 that these results can speak to."""
    out: list[dict[str, Any]] = []

    def add(name: str, value: float, target: str, passed: bool) -> None:
        out.append({"check": name, "value": value, "target": target, "passed": bool(passed)})

    problem = results.get("problem", {})
    for assets, speedup in (("2000", 25.0), ("3000", 40.0)):
        rows = problem.get(assets, [])
        ours, theirs = _find(rows, "allocate"), _find(rows, "pyportfolioopt")
        if ours is None or theirs is None:
            continue
        # wall time is what the issue asks for; CPU time is shown too because the machine is shared
        add(f"{int(assets):,} assets: PyPortfolioOpt time / allocate time, end to end (wall)", theirs["ratio"],
            f">= {speedup:.0f}", theirs["ratio"] >= speedup)
        add(f"{int(assets):,} assets: the same in CPU time", theirs["cpu_ratio"], f">= {speedup:.0f}",
            theirs["cpu_ratio"] >= speedup)
        if assets == "2000":
            add("2,000 assets: objective gap to PyPortfolioOpt (relative)", theirs["objective_gap"], "<= 1e-5",
                theirs["objective_gap"] <= 1e-5)
        if assets == "3000":
            add("3,000 assets: allocate end to end, wall (s)", ours["stages"]["total"], "< 1",
                ours["stages"]["total"] < 1)
            add("3,000 assets: allocate end to end, CPU (s)", ours["cpu_seconds"], "< 1", ours["cpu_seconds"] < 1)
            add("3,000 assets: traced peak memory of the factor path / one dense n-by-n matrix",
                ours["traced_peak_mb"] / ours["dense_matrix_mb"], "< 1",
                ours["traced_peak_mb"] < ours["dense_matrix_mb"])
    scenarios = results.get("scenarios")
    if scenarios and "error" not in scenarios:
        worst = max(scenarios["compiled_ratio"], scenarios["compiled_ratio_measured"])
        add("20 scenario solves at 500 assets: wall / solver time (the larger of reported and measured)", worst,
            "<= 1.3", worst <= 1.3)
    startup = results.get("startup")
    if startup:
        add('allocate run on the example / python -c "import cvxpy, pandas" (best wall times)',
            startup["ratio_wall_min"], "<= 1.3", startup["ratio_wall_min"] <= 1.3)
        add("the same in CPU time (best of each)", startup["ratio_cpu_min"], "<= 1.3", startup["ratio_cpu_min"] <= 1.3)
    return out


def check_rows(items: list[dict[str, Any]]) -> list[tuple[str, ...]]:
    return [(c["check"], f"{c['value']:.3g}", c["target"], "PASS" if c["passed"] else "FAIL") for c in items]


def _section_rows(kind: str, data: Any) -> tuple[tuple[str, ...], list[tuple[str, ...]]]:
    if kind in ("problem", "no_turnover"):
        return PROBLEM_HEADER, problem_rows(data)
    if kind == "scenarios":
        return SCENARIO_HEADER, scenario_rows(data)
    if kind == "startup":
        return STARTUP_HEADER, startup_rows(data)
    if kind == "estimators":
        return ESTIMATOR_HEADER, estimator_rows(data)
    if kind == "formulations":
        return FORMULATION_HEADER, formulation_rows(data)
    return ("check", "value", "target", "result"), check_rows(data)


TITLES = {
    "problem": "{assets:,} assets: long only, max weight, 11 sector caps, one-way turnover <= 0.20",
    "no_turnover": "{assets:,} assets, the same problem without the turnover limit (Riskfolio-Lib cannot express "
                   "a total turnover limit)",
    "scenarios": "Scenarios: 20 solves at 500 assets on one compiled problem",
    "startup": "Start-up: allocate run on the example",
    "estimators": "Covariance estimators (756 daily returns)",
    "formulations": "Ledoit-Wolf held dense (Cholesky) or in exact factor form (one factor per day): build, "
                    "compile and solve",
    "checks": "Pass marks (issue 6)",
}


def print_section(kind: str, assets: int, data: Any) -> None:
    if isinstance(data, dict) and "error" in data:
        print(f"\n== {TITLES[kind].format(assets=assets)} ==\nerror: {data['error']}", flush=True)
        return
    header, rows = _section_rows(kind, data)
    print(f"\n== {TITLES[kind].format(assets=assets)} ==\n{_table(header, rows)}", flush=True)


def markdown(results: dict[str, Any]) -> str:
    m = results["machine"]
    versions = ", ".join(f"{k} {v}" for k, v in m["versions"].items())
    parts = [
        "# Benchmark results\n",
        f"Written by `make bench` (`python bench/run.py`) in {results['seconds'] / 60:.1f} minutes on "
        f"{m['cpu']} ({m['cores']} cores), Python {m['python']}, BLAS threads {results['threads']}; load average "
        f"{m['load_average_at_start'][0]:.1f} at the start, {m['load_average_at_end'][0]:.1f} at the end "
        "(a shared machine: other jobs ran alongside). Versions: " + versions + ".\n",
        "Every method gets the same daily returns (756 days, seeded, 15 factors) and the same covariance, allocate's "
        f"PCA factor model with {FACTORS} factors; allocate keeps it in factor form, the peers take it as a dense "
        "matrix (their estimation time is the same PCA plus forming that matrix). Times are seconds, end to end "
        "from returns to weights, the best of 3 runs up to 500 assets, of 2 at 2,000 and 1 run at 3,000, for every "
        "method; `CPU s` is the process's CPU time in that run (the machine is shared); `x allocate` is the "
        "method's total time over allocate's in the same run; objective gaps and weight differences are against "
        "allocate, recomputed with numpy; `violation` is the largest constraint violation.\n",
    ]
    if "checks" in results:
        header, rows = _section_rows("checks", results["checks"])
        parts.append(f"## {TITLES['checks']}\n\n{_markdown_table(header, rows)}\n")
    for kind in ("problem", "no_turnover"):
        for assets, rows in results.get(kind, {}).items():
            header, table = _section_rows(kind, rows)
            parts.append(f"## {TITLES[kind].format(assets=int(assets))}\n\n{_markdown_table(header, table)}\n")
    for kind in ("scenarios", "startup", "estimators", "formulations"):
        data = results.get(kind)
        if not data:
            continue
        if isinstance(data, dict) and "error" in data:
            parts.append(f"## {TITLES[kind]}\n\nerror: {data['error']}\n")
            continue
        header, table = _section_rows(kind, data)
        parts.append(f"## {TITLES[kind]}\n\n{_markdown_table(header, table)}\n")
    return "\n".join(parts)
