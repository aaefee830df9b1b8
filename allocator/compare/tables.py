"""A ``Comparison`` as three tables, scenarios as columns: metrics, weights and trades.

Plain data (fractions of NAV, annualized returns, share counts as ``Decimal``); the terminal report, the files
and the chart all render these same tables. A failed scenario keeps its column: its values are ``None`` and its
status and reason say why.

- **metrics**: per scenario, the target portfolio's expected excess return (under the scenario's own view),
  volatility, Sharpe, tracking error, active share, one-way turnover and cash; the estimated trading cost; the
  weight in small caps and in each size bucket; the number of trades; the RSI rules fired and the limits the
  solution sits on.
- **weights**: one row per asset (then CASH): current, benchmark and each scenario's target weight.
- **trades**: one row per asset traded in at least one scenario: the trade of each scenario (side, shares,
  notional, weight change), with ``disagree`` set where one scenario buys and another sells.
- **views**: every portfolio (each scenario's target, the robust one, current, benchmark) under every scenario's
  view, with each portfolio's worst case (``allocator.compare.views``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from allocator.compare.scenarios import Comparison, ScenarioOutcome
from allocator.compare.views import ViewMatrix, view_matrix
from allocator.outputs.summary import RunSummary, summarize
from allocator.pipeline import RunResult
from allocator.terms import CASH_SYMBOL as CASH
from allocator.terms import SIZE_BUCKETS


@dataclass(frozen=True)
class MetricRow:
    """One metric across scenarios. ``kind`` is ``fraction``, ``ratio``, ``count``, ``money``, ``text`` or
    ``list``; values are ``None`` for failed scenarios."""

    key: str
    label: str
    kind: str
    values: tuple[Any, ...]


@dataclass(frozen=True)
class WeightRow:
    """An asset's current, benchmark and target weights (fractions of NAV); a target is ``None`` when its
    scenario failed. ``benchmarks`` holds each scenario's benchmark weight (they differ only if the configs do)."""

    symbol: str
    size_bucket: str
    current: float
    benchmark: float
    targets: tuple[float | None, ...]
    benchmarks: tuple[float | None, ...]


@dataclass(frozen=True)
class TradeCell:
    """One scenario's trade in one asset (``side`` empty when it does not trade it); ``weight_change`` is the
    optimizer's target weight minus the current weight."""

    side: str
    quantity: Decimal
    notional_value: Decimal
    weight_change: float
    reason: str

    @property
    def signed_quantity(self) -> Decimal:
        return -self.quantity if self.side == "SELL" else self.quantity


@dataclass(frozen=True)
class TradeComparisonRow:
    symbol: str
    current_quantity: Decimal
    cells: tuple[TradeCell | None, ...]
    disagree: bool


@dataclass(frozen=True)
class ComparisonTables:
    """The tables of a comparison, with the scenario names as columns (in the order given), and the
    portfolio x view matrix."""

    scenarios: tuple[str, ...]
    failed: tuple[str, ...]
    as_of: str
    nav_value: float
    metrics: tuple[MetricRow, ...]
    weights: tuple[WeightRow, ...]
    trades: tuple[TradeComparisonRow, ...]
    views: ViewMatrix

    @property
    def ok(self) -> tuple[bool, ...]:
        return tuple(name not in self.failed for name in self.scenarios)

    @property
    def disagreements(self) -> tuple[str, ...]:
        return tuple(row.symbol for row in self.trades if row.disagree)

    def metric(self, key: str) -> MetricRow:
        return next(row for row in self.metrics if row.key == key)

    def weight(self, symbol: str) -> WeightRow:
        return next(row for row in self.weights if row.symbol == symbol)


METRICS: tuple[tuple[str, str, str, Callable[[RunSummary], Any]], ...] = (
    ("regime", "regime", "text", lambda m: m.regime),
    ("expected_return", "expected excess return", "fraction", lambda m: m.target.expected_return),
    ("volatility", "volatility", "fraction", lambda m: m.target.volatility),
    ("sharpe", "Sharpe", "ratio", lambda m: m.target.sharpe),
    ("tracking_error", "tracking error", "fraction", lambda m: m.target.tracking_error),
    ("active_share", "active share", "fraction", lambda m: m.target.active_share),
    ("turnover", "turnover (one-way)", "fraction", lambda m: m.target.turnover),
    ("estimated_cost", "estimated cost (of NAV)", "fraction", lambda m: m.estimated_cost),
    ("estimated_cost_value", "estimated cost", "money", lambda m: m.estimated_cost_value),
    ("cash_weight", "cash", "fraction", lambda m: m.target.cash_weight),
    ("small_cap_weight", "small caps", "fraction", lambda m: m.exposures.size_bucket.get("small", 0.0)),
)
TAIL_METRICS: tuple[tuple[str, str, str, Callable[[RunSummary], Any]], ...] = (
    ("trades", "trades", "count", lambda m: m.trades.count),
    ("buys", "buys", "count", lambda m: m.trades.buys),
    ("sells", "sells", "count", lambda m: m.trades.sells),
    ("rsi_rules_fired", "RSI rules fired", "count", lambda m: len(m.rsi_rules)),
    ("binding_constraints_count", "binding limits", "count", lambda m: len(m.binding_constraints)),
    ("rsi_rules", "RSI rules", "list", lambda m: list(m.rsi_rules)),
    ("binding_constraints", "binding limit list", "list", lambda m: list(m.binding_constraints)),
)


def _metric_rows(outcomes: tuple[ScenarioOutcome, ...], metrics: list[RunSummary | None]) -> list[MetricRow]:
    rows = [MetricRow("status", "status", "text", tuple("ok" if o.ok else f"failed (exit {o.exit_code})"
                                                        for o in outcomes))]

    def row(key: str, label: str, kind: str, get: Callable[[RunSummary], Any]) -> MetricRow:
        return MetricRow(key, label, kind, tuple(None if m is None else get(m) for m in metrics))

    rows.extend(row(*spec) for spec in METRICS)
    buckets = sorted({b for m in metrics if m for b in m.exposures.size_bucket},
                     key=lambda b: (SIZE_BUCKETS.index(b) if b in SIZE_BUCKETS else len(SIZE_BUCKETS), b))
    for bucket in buckets:
        def weight(m: RunSummary, b: str = bucket) -> float:
            return m.exposures.size_bucket.get(b, 0.0)

        rows.append(row(f"size_bucket_{bucket}", f"size bucket: {bucket}", "fraction", weight))
    rows.extend(row(*spec) for spec in TAIL_METRICS)
    if any(not o.ok for o in outcomes):
        rows.append(MetricRow("reason", "reason", "text", tuple(o.reason or None for o in outcomes)))
    return rows


def _scenario_weight(result: RunResult, symbol: str) -> float:
    """A scenario's target weight of ``symbol``: the optimizer's inside the universe; outside it, the holding
    kept fixed (or 0 when outside holdings are sold, or the symbol is neither modelled nor held)."""
    universe = result.universe
    if symbol in universe.symbols:
        return float(result.allocation.weight[universe.symbols.index(symbol)])
    if symbol in universe.outside_symbols and not universe.outside_sold:
        return float(universe.outside_weight[universe.outside_symbols.index(symbol)])
    return 0.0


def _current(results: list[RunResult], symbol: str) -> tuple[float, str]:
    for result in results:
        u = result.universe
        if symbol in u.symbols:
            i = u.symbols.index(symbol)
            return float(u.weight[i]), u.size_bucket[i]
        if symbol in u.outside_symbols:
            return float(u.outside_weight[u.outside_symbols.index(symbol)]), "outside"
    return 0.0, ""


def _benchmark(result: RunResult, symbol: str) -> float:
    u = result.universe
    return float(u.benchmark_weight[u.symbols.index(symbol)]) if symbol in u.symbols else 0.0


def _weight_rows(outcomes: tuple[ScenarioOutcome, ...]) -> list[WeightRow]:
    results = [o.result for o in outcomes if o.result is not None]
    symbols: list[str] = []
    for result in results:
        u = result.universe
        symbols.extend(s for s in (*u.symbols, *u.outside_symbols) if s not in symbols)
    first = _first_result(outcomes)
    rows = []
    for symbol in symbols:
        current, bucket = _current(results, symbol)
        rows.append(WeightRow(
            symbol=symbol, size_bucket=bucket, current=current, benchmark=_benchmark(first, symbol),
            targets=tuple(None if o.result is None else _scenario_weight(o.result, symbol) for o in outcomes),
            benchmarks=tuple(None if o.result is None else _benchmark(o.result, symbol) for o in outcomes)))
    u = first.universe
    rows.append(WeightRow(
        symbol=CASH, size_bucket="cash", current=u.cash_weight, benchmark=1.0 - float(u.benchmark_weight.sum()),
        targets=tuple(None if o.result is None else o.result.allocation.cash_weight for o in outcomes),
        benchmarks=tuple(None if o.result is None else 1.0 - float(o.result.universe.benchmark_weight.sum())
                         for o in outcomes)))
    return rows


def _trade_cell(result: RunResult, symbol: str) -> TradeCell:
    trade = next((t for t in result.trades.trades if t.symbol == symbol), None)
    u = result.universe
    if symbol in u.symbols:
        i = u.symbols.index(symbol)
        change = float(result.allocation.weight[i] - u.weight[i])
    elif symbol in u.outside_symbols and u.outside_sold:
        change = -float(u.outside_weight[u.outside_symbols.index(symbol)])
    else:
        change = 0.0
    if trade is None:
        return TradeCell("", Decimal(0), Decimal(0), change, "")
    return TradeCell(trade.side, trade.quantity, trade.notional_value, change, trade.reason)


def _trade_rows(outcomes: tuple[ScenarioOutcome, ...], order: list[str]) -> list[TradeComparisonRow]:
    traded = {t.symbol: t.current_quantity for o in outcomes if o.result is not None for t in o.result.trades.trades}
    rows = []
    for symbol in [s for s in order if s in traded]:
        cells = tuple(None if o.result is None else _trade_cell(o.result, symbol) for o in outcomes)
        sides = {c.side for c in cells if c is not None}
        rows.append(TradeComparisonRow(symbol=symbol, current_quantity=traded[symbol], cells=cells,
                             disagree={"BUY", "SELL"} <= sides))
    return rows


def _first_result(outcomes: tuple[ScenarioOutcome, ...]) -> RunResult:
    for outcome in outcomes:
        if outcome.result is not None:
            return outcome.result
    raise ValueError("a comparison needs at least one successful scenario")


def comparison_tables(comparison: Comparison) -> ComparisonTables:
    """The metrics, weights and trades tables of ``comparison`` (which has at least one successful scenario)."""
    outcomes = comparison.outcomes
    metrics = [None if o.result is None else summarize(o.result) for o in outcomes]
    first = _first_result(outcomes)
    weights = _weight_rows(outcomes)
    return ComparisonTables(
        scenarios=comparison.names, failed=tuple(o.name for o in comparison.failed),
        as_of=first.as_of.isoformat(), nav_value=float(first.universe.nav_value),
        metrics=tuple(_metric_rows(outcomes, metrics)), weights=tuple(weights),
        trades=tuple(_trade_rows(outcomes, [w.symbol for w in weights])), views=view_matrix(comparison))


def benchmarks_differ(tables: ComparisonTables) -> bool:
    """Whether the scenarios' benchmarks differ (then each scenario's benchmark is shown beside its target)."""
    return any(b is not None and abs(b - row.benchmark) > 1e-12 for row in tables.weights for b in row.benchmarks)


def size_bucket_weights(tables: ComparisonTables) -> dict[str, dict[str, float]]:
    """Weight by size bucket (cash as its own bucket) for current, benchmark and each successful scenario."""
    columns: dict[str, dict[str, float]] = {"current": {}, "benchmark": {}}
    for name, ok in zip(tables.scenarios, tables.ok, strict=True):
        if ok:
            columns[name] = {}
    for row in tables.weights:
        values = {"current": row.current, "benchmark": row.benchmark,
                  **{n: t for n, t in zip(tables.scenarios, row.targets, strict=True) if t is not None}}
        for column, value in values.items():
            columns[column][row.size_bucket] = columns[column].get(row.size_bucket, 0.0) + float(value)
    return columns
