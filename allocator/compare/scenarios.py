"""Scenarios side by side: one holdings snapshot, several configs, one compiled problem.

A scenario is a config file, usually ``extends: ../base.yaml`` plus the keys that encode its view (the macro
regime, the RSI rules, tighter limits). ``compare`` runs every scenario on the same holdings:

1. **load**: each config with its ``extends`` chain (a bad config fails that scenario only);
2. **prepare**: prices and fundamentals are read once per file and shared by every scenario that names them;
   holdings are read per scenario, since a scenario may map columns or lot sizes differently;
3. **solve**: every scenario goes through one ``ProblemCache``. Scenarios that share a universe, a risk model and
   the same families of limits share one compiled CVXPY problem, whose data (mu, costs, benchmark, current
   weights, every bound) are ``cp.Parameter``s (DPP): the first scenario canonicalizes it, each further scenario
   only refills the parameters and calls the solver. ``solve_prepared`` is that loop on its own, for benchmarks;
4. **trades**: each solution is rounded to lots and reconciled exactly as ``allocate run`` does.

A scenario that fails (invalid config, unreadable data, infeasible limits, solver failure) is kept with its
error and the others still complete. ``Comparison.exit_code`` is 0 when every scenario succeeded, otherwise the
exit code of the first failed scenario in the order given (3 configuration, 4 data, 5 infeasible or solver).
When every scenario fails, ``compare`` raises ``ScenariosFailed`` listing them all.

Expected returns, Sharpe ratios and the other statistics of a scenario are measured under that scenario's own
view (its own ``mu``), fractions and annualized as in ``allocator.outputs.metrics``.
"""

from __future__ import annotations

import glob
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import pandas as pd

from allocator.compare.robust import RobustOutcome, robust_outcome
from allocator.config.loader import LoadedConfig, load_config
from allocator.config.schema import FundamentalsColumns
from allocator.errors import AllocatorError, UsageError
from allocator.files.reading import FileLimits
from allocator.inputs.market_data import read_fundamentals, read_prices
from allocator.optimize.problem import ProblemCache
from allocator.pipeline import Prepared, RunResult, prepare, run

GLOB_CHARACTERS = frozenset("*?[")


@dataclass(frozen=True)
class ScenarioSpec:
    """A scenario's name (the config file's stem, made unique) and its config file."""

    name: str
    path: Path


@dataclass(frozen=True)
class ScenarioOutcome:
    """One scenario's result, or the error that stopped it (exactly one of the two is set)."""

    spec: ScenarioSpec
    result: RunResult | None = None
    error: AllocatorError | None = None
    loaded: LoadedConfig | None = None
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def ok(self) -> bool:
        return self.result is not None

    @property
    def exit_code(self) -> int:
        return 0 if self.error is None else self.error.exit_code

    @property
    def reason(self) -> str:
        """One line saying why the scenario failed (empty when it did not)."""
        if self.error is None:
            return ""
        first = f": {self.error.details[0]}" if self.error.details else ""
        return f"{self.error.what}{first}"


@dataclass(frozen=True)
class Comparison:
    """Every scenario's outcome on one holdings snapshot, and how the compiled problems were shared.

    ``compiled_problems`` counts the CVXPY problems built (canonicalized) for the comparison; ``reused_solves``
    the solves that reused one of them; ``direct_solves`` the problems handed to Clarabel directly (1,000 assets
    and more, ``optimize.conic``); ``input_files_read`` the price and fundamentals files read (once each).
    """

    holdings_path: Path
    outcomes: tuple[ScenarioOutcome, ...]
    compiled_problems: int
    reused_solves: int
    timings: dict[str, float]
    input_files_read: int = 0
    direct_solves: int = 0
    robust: RobustOutcome | None = None

    @property
    def succeeded(self) -> tuple[ScenarioOutcome, ...]:
        return tuple(o for o in self.outcomes if o.ok)

    @property
    def failed(self) -> tuple[ScenarioOutcome, ...]:
        return tuple(o for o in self.outcomes if not o.ok)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(o.name for o in self.outcomes)

    @property
    def exit_code(self) -> int:
        """0 when every scenario succeeded, else the exit code of the first one that failed."""
        return next((o.exit_code for o in self.outcomes if not o.ok), 0)


class ScenariosFailed(AllocatorError):
    """Every scenario failed; the exit code is the first failure's, and each failure is listed."""

    def __init__(self, outcomes: Sequence[ScenarioOutcome]) -> None:
        self.outcomes = tuple(outcomes)
        details = [f"{o.name} ({o.spec.path}): {o.error.message() if o.error else ''}" for o in outcomes]
        super().__init__("compare", f"every scenario failed ({len(outcomes)})", "fix the scenarios listed below",
                         details=details)
        self.exit_code = outcomes[0].exit_code if outcomes else 1


def _expand(argument: str | Path) -> list[Path]:
    text = str(argument)
    if GLOB_CHARACTERS.isdisjoint(text) or Path(text).exists():
        return [Path(text)]
    matches = sorted(Path(m) for m in glob.glob(text, recursive=True) if Path(m).is_file())
    if not matches:
        raise UsageError(text, "no config file matches this pattern", "check the pattern and the folder")
    return matches


def _unique_names(paths: Sequence[Path]) -> list[str]:
    """The file stems, with the parent folder added where two stems clash (and a counter if that still does)."""
    stems = [p.stem for p in paths]
    names = [f"{p.parent.name}/{p.stem}" if stems.count(p.stem) > 1 else p.stem for p in paths]
    seen: dict[str, int] = {}
    unique = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        unique.append(name if names.count(name) == 1 else f"{name}#{seen[name]}")
    return unique


def scenario_specs(configs: Sequence[str | Path]) -> tuple[ScenarioSpec, ...]:
    """The scenarios named by ``configs``: files or glob patterns (expanded, sorted); a file given twice counts once."""
    paths: list[Path] = []
    seen: set[str] = set()
    for argument in configs:
        for path in _expand(argument):
            key = os.path.normpath(path.absolute())
            if key not in seen:
                seen.add(key)
                paths.append(path)
    if not paths:
        raise UsageError("CONFIG", "no scenario configs given", "name one or more config files, or a glob")
    return tuple(ScenarioSpec(name, path) for name, path in zip(_unique_names(paths), paths, strict=True))


class SharedInputs:
    """Prices and fundamentals read once per file (and size limits), shared by every scenario that names them.

    A file that cannot be read fails every scenario that uses it with the same ``DataError``, read once.
    """

    def __init__(self) -> None:
        self._frames: dict[tuple[str, str, FileLimits, str], pd.DataFrame | AllocatorError] = {}
        self.reads = 0

    def _get(self, kind: str, path: Path, limits: FileLimits, columns: FundamentalsColumns | None = None
             ) -> pd.DataFrame:
        key = (kind, os.path.normpath(path.absolute()), limits, repr(columns))
        if key not in self._frames:
            self.reads += 1
            try:
                self._frames[key] = (read_prices(path, limits) if kind == "prices" else
                                     read_fundamentals(path, limits, columns))
            except AllocatorError as exc:
                self._frames[key] = exc
        found = self._frames[key]
        if isinstance(found, AllocatorError):
            raise found
        return found

    def prices(self, loaded: LoadedConfig) -> pd.DataFrame:
        data = loaded.config.data
        return self._get("prices", data.prices, FileLimits.from_megabytes(data.max_file_mb, data.max_rows))

    def fundamentals(self, loaded: LoadedConfig) -> pd.DataFrame:
        data = loaded.config.data
        return self._get("fundamentals", data.fundamentals,
                         FileLimits.from_megabytes(data.max_file_mb, data.max_rows), data.fundamentals_columns)


def _failure(spec: ScenarioSpec, exc: AllocatorError, loaded: LoadedConfig | None = None,
             timings: dict[str, float] | None = None) -> ScenarioOutcome:
    if isinstance(exc, UsageError):  # a bad --as-of or --cash is the command's problem, not the scenario's
        raise exc
    return ScenarioOutcome(spec=spec, error=exc, loaded=loaded, timings=timings or {})


def prepare_scenario(spec: ScenarioSpec, holdings_path: Path, shared: SharedInputs, as_of: str | None = None,
                     cash: Decimal | None = None) -> Prepared | ScenarioOutcome:
    """Load one scenario's config and prepare its inputs; a failed outcome when that is not possible."""
    loaded: LoadedConfig | None = None
    try:
        loaded = load_config(spec.path)
        return prepare(holdings_path, loaded, as_of, cash, prices=shared.prices(loaded),
                       fundamentals=shared.fundamentals(loaded))
    except AllocatorError as exc:
        return _failure(spec, exc, loaded)


def solve_prepared(spec: ScenarioSpec, prepared: Prepared, cache: ProblemCache) -> ScenarioOutcome:
    """Solve one prepared scenario on ``cache`` (reusing a compiled problem when one fits) and build its trades."""
    try:
        result = run(prepared.holdings.source, prepared.loaded, cache=cache, prepared=prepared)
    except AllocatorError as exc:
        return _failure(spec, exc, prepared.loaded)
    attempts = result.allocation.attempts
    timings = {**result.timings, "build_seconds": result.allocation.compile_seconds,
               "solver_seconds": sum(a.solve_seconds for a in attempts)}
    return ScenarioOutcome(spec=spec, result=result, loaded=prepared.loaded, timings=timings)


def compare(
    holdings_path: str | Path,
    configs: Sequence[str | Path],
    as_of: str | None = None,
    cash: Decimal | None = None,
    cache: ProblemCache | None = None,
    robust: bool = False,
) -> Comparison:
    """Run every scenario in ``configs`` on the account in ``holdings_path``; see the module docstring. With
    ``robust``, also solve the portfolio that maximizes the worst utility over the successful scenarios' views
    under the first one's limits (``allocator.compare.robust``)."""
    holdings_path = Path(holdings_path)
    specs = scenario_specs(configs)
    cache = cache if cache is not None else ProblemCache(max_size=max(8, 2 * len(specs)))
    hits, misses, direct = cache.hits, cache.misses, cache.direct_solves
    shared = SharedInputs()
    started = time.perf_counter()
    prepared: list[Prepared | ScenarioOutcome] = []
    prepare_seconds: list[float] = []
    for spec in specs:
        begun = time.perf_counter()
        prepared.append(prepare_scenario(spec, holdings_path, shared, as_of, cash))
        prepare_seconds.append(time.perf_counter() - begun)
    prepared_at = time.perf_counter()
    outcomes: list[ScenarioOutcome] = []
    for spec, item, seconds in zip(specs, prepared, prepare_seconds, strict=True):
        outcome = item if isinstance(item, ScenarioOutcome) else solve_prepared(spec, item, cache)
        outcomes.append(ScenarioOutcome(spec=outcome.spec, result=outcome.result, error=outcome.error,
                                        loaded=outcome.loaded,
                                        timings={**outcome.timings, "prepare_seconds": seconds}))
    finished = time.perf_counter()
    if not any(o.ok for o in outcomes):
        raise ScenariosFailed(outcomes)
    solved = [o for o in outcomes if o.ok]
    timings = {"prepare_seconds": prepared_at - started, "solve_and_trade_seconds": finished - prepared_at,
               "optimize_seconds": sum(o.timings.get("optimize_seconds", 0.0) for o in solved),
               "solver_seconds": sum(o.timings.get("solver_seconds", 0.0) for o in solved)}
    robust_found = None
    if robust:
        robust_found = robust_outcome([(o.name, o.result) for o in solved if o.result is not None])
        timings["robust_seconds"] = robust_found.solve_seconds + robust_found.trades_seconds
    return Comparison(holdings_path=holdings_path, outcomes=tuple(outcomes), compiled_problems=cache.misses - misses,
                      reused_solves=cache.hits - hits, timings=timings, input_files_read=shared.reads,
                      direct_solves=cache.direct_solves - direct,
                      robust=robust_found)

