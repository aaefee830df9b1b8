"""Write a run's ``manifest.json``: ``manifest_of`` builds the ``Manifest`` (``allocator.files.manifest``) of a
finished run, with the package versions (``versions``) and the run's identity for client order IDs (``run_id``, see
``allocator.orders.ids``).
"""

from __future__ import annotations

import functools
import platform
from importlib import metadata
from typing import TYPE_CHECKING, Any

from allocator.files.manifest import InputFile, Manifest
from allocator.orders.ids import run_fingerprint
from allocator.outputs.model_parts import resolved_config

if TYPE_CHECKING:
    from allocator.pipeline import RunResult

VERSIONED = ("allocate", "numpy", "pandas", "cvxpy", "clarabel", "osqp", "scs", "pydantic", "click")


def versions() -> dict[str, str]:
    """The versions of Python and of the packages that can change a run's numbers."""
    return dict(installed_versions())


@functools.cache
def installed_versions() -> tuple[tuple[str, str], ...]:
    """``versions`` looked up once per process (reading the packages' metadata costs 16 ms, once per account in
    ``allocate batch``)."""
    found = {"python": platform.python_version()}
    for name in VERSIONED:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "not installed"
    return tuple(found.items())


def run_id(result: RunResult) -> str:
    """The run's identity for client order IDs: SHA-256 of its inputs' hashes, as-of date, cash and relaxations."""
    limits = result.limits
    trading = {}
    if limits.no_sells or limits.no_buys or limits.cash_raise is not None:
        trading["mode"] = "invest" if limits.no_sells else "raise"
    if limits.cash_raise is not None:
        trading["cash_raise"] = repr(limits.cash_raise)
    return run_fingerprint(result.prepared.inputs, result.as_of.isoformat(), str(result.universe.cash_value),
                           result.relaxations, trading)


def manifest_of(result: RunResult, command: dict[str, Any]) -> Manifest:
    """Everything needed to repeat and audit the run (this file alone holds timings); ``outputs`` is filled in
    once the data files are rendered."""
    p = result.prepared
    alloc = result.allocation
    return Manifest(
        command=command,
        as_of=result.as_of,
        run_id=run_id(result),
        config_chain=tuple(str(x) for x in p.loaded.chain),
        resolved_config=resolved_config(p.loaded)[0],
        inputs={name: InputFile(path=entry["path"], sha256=entry["sha256"]) for name, entry in p.inputs.items()},
        versions=versions(),
        solver={"status": alloc.status, "solver": alloc.solver, "attempts": [a.__dict__ for a in alloc.attempts],
                "reused_compiled_problem": alloc.reused_problem},
        relaxations=tuple(result.relaxations),
        risk_model={"model": result.risk.method, "factors": result.risk.factors,
                    "formulation": "dense" if result.risk.covariance is not None else "factor",
                    "observations": result.risk.observations},
        notes=tuple(p.loaded.notes),
        holdings_rows={"skipped": list(p.holdings.skipped_rows), "cash": list(p.holdings.cash_rows)},
        timings_seconds={**result.timings, "build_seconds": alloc.compile_seconds},
    )
