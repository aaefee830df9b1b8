"""Constraint families are objects: a limit family made up here, outside the library, is solved, checked with
numpy and diagnosed like the built-in ones, added through ``Limits(extra=...)`` alone.

The made-up rule: at most ``maximum`` of NAV in the assets whose symbol starts with a vowel.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from allocator.config.schema import Config
from allocator.domain import FloatArray, RiskModel
from allocator.optimize.constraints import Limits
from allocator.optimize.diagnosis import presolve_checks
from allocator.optimize.families import (
    FAMILIES,
    Family,
    FixedBounds,
    LimitEntry,
    Model,
    Side,
    Slack,
    asset_bounds,
    binding_constraints,
    families_of,
    violations,
)
from allocator.optimize.problem import ProblemCache, ProblemInfeasible, solve_allocation
from allocator.optimize.relaxation import diagnose_infeasible, relaxed_limits, solve_relaxed
from allocator.pipeline import Prepared, prepare
from tests.helpers import write_config

FOCUSED = "extends: base.yaml\nconstraints:\n  turnover_max: null\n  tracking_error_max: null\n"


@dataclass(frozen=True)
class VowelLimit(Family):
    """At most ``maximum`` (fraction of NAV) in assets whose symbol starts with a vowel."""

    maximum: float
    relaxation_cost: float = 0.1
    name = "vowel"

    @staticmethod
    def members(limits: Limits) -> np.ndarray:
        return np.array([s[0] in "AEIOU" for s in limits.symbols])

    def held(self, limits: Limits, weight: FloatArray) -> float:
        return float(weight[self.members(limits)].sum())

    def structure(self, limits: Limits) -> bytes:
        return self.members(limits).tobytes()

    def sides(self, limits: Limits) -> tuple[Side, ...]:
        return (Side("vowel"),)

    def build(self, model: Model, limits: Limits) -> dict[str, Any]:
        cap = model.parameter("vowel_max")
        return {"vowel": self.members(limits).astype(np.float64) @ model.w <= cap + model.slack("vowel")}

    def fill(self, model: Model, limits: Limits) -> None:
        model.params["vowel_max"].value = self.maximum

    def violation(self, limits: Limits, risk: RiskModel, weight: FloatArray, cash: float) -> float:
        return max(self.held(limits, weight) - self.maximum, 0.0)

    def binding(self, limits: Limits, risk: RiskModel, weight: FloatArray, cash: float,
                tolerance: float) -> list[str]:
        return [f"vowel max ({self.maximum:.4f})"] if self.held(limits, weight) >= self.maximum - tolerance else []

    def entry(self, limits: Limits, config: Config, side: str, index: int | None) -> LimitEntry:
        return LimitEntry(side, None, "vowel_max", self.maximum, "symbols starting with a vowel", lowering=False)

    def slack_cost(self, limits: Limits, config: Config, side: Side) -> float:
        return self.relaxation_cost

    def presolve(self, limits: Limits, config: Config) -> list[str]:
        floor = float(np.maximum(asset_bounds(limits)[0][self.members(limits)], 0.0).sum())
        if floor <= self.maximum + 1e-9:
            return []
        return [f"vowel_max {self.maximum:.4g} is below the {floor:.4f} the vowels' minimum weights add up to"]

    def relaxed(self, limits: Limits, slack: Slack) -> Limits:
        moved = replace(self, maximum=self.maximum + float(slack("vowel", 1)[0]))
        return replace(limits, extra=tuple(moved if f is self else f for f in limits.extra))


def _prepared(example_copy: Path, text: str = FOCUSED) -> Prepared:
    return prepare(example_copy / "examples/holdings.csv", write_config(example_copy, text))


def _solve(prepared: Prepared, limits: Limits, cache: ProblemCache) -> Any:
    cfg = prepared.config
    return solve_allocation(limits, prepared.returns.mu, prepared.risk, cfg.risk.risk_aversion, cfg.solver, cache)


def test_the_made_up_family_binds_in_the_solve_and_reuses_the_compiled_problem(example_copy: Path) -> None:
    prepared = _prepared(example_copy)
    free = _solve(prepared, prepared.limits, ProblemCache())
    vowels = VowelLimit.members(prepared.limits)
    assert vowels.sum() >= 3 and free.weight[vowels].sum() > 0.1, "the rule has something to cap"
    cache = ProblemCache()
    caps = (0.8 * float(free.weight[vowels].sum()), 0.6 * float(free.weight[vowels].sum()))
    for index, cap in enumerate(caps):
        limits = replace(prepared.limits, extra=(VowelLimit(cap),))
        capped = _solve(prepared, limits, cache)
        assert capped.reused_problem is (index > 0), "a new maximum refills the parameter of the same problem"
        assert capped.weight[vowels].sum() == pytest.approx(cap, abs=1e-7)  # it binds
        assert capped.violations["vowel"] <= 1e-9
        assert max(capped.violations.values()) <= prepared.config.solver.feasibility_tolerance
        assert f"vowel max ({cap:.4f})" in binding_constraints(limits, prepared.risk, capped.weight,
                                                                capped.cash_weight)
        assert capped.objective < free.objective
    assert (cache.misses, cache.hits) == (1, 1)


def test_the_made_up_family_is_checked_with_numpy(example_copy: Path) -> None:
    prepared = _prepared(example_copy)
    free = _solve(prepared, prepared.limits, ProblemCache())
    held = float(free.weight[VowelLimit.members(prepared.limits)].sum())
    limits = replace(prepared.limits, extra=(VowelLimit(held - 0.05),))
    found = violations(limits, prepared.risk, free.weight, free.cash_weight)
    assert found["vowel"] == pytest.approx(0.05, abs=1e-12)
    without = violations(prepared.limits, prepared.risk, free.weight, free.cash_weight)
    assert found == {**without, "vowel": found["vowel"]}
    assert [type(f) for f in families_of(limits)] == [*(type(f) for f in FAMILIES if f.present(limits)), VowelLimit]


def test_a_conflict_with_the_made_up_family_is_named_in_its_words_with_its_smallest_relaxation(
        example_copy: Path) -> None:
    prepared = _prepared(example_copy, FOCUSED + "  position_limits: {EFA: {min: 0.12}}\n")
    config = prepared.config
    limits = replace(prepared.limits, extra=(VowelLimit(0.05),))
    floor = float(np.maximum(asset_bounds(limits)[0][VowelLimit.members(limits)], 0.0).sum())
    assert floor >= 0.12
    checks = presolve_checks(limits, config)
    assert checks == [f"vowel_max 0.05 is below the {floor:.4f} the vowels' minimum weights add up to"]
    cache = ProblemCache()
    with pytest.raises(ProblemInfeasible):
        _solve(prepared, limits, cache)
    diagnosis = diagnose_infeasible(limits, prepared.risk, config, cache, tuple(checks))
    assert [(r.family, r.key, r.subject) for r in diagnosis.relaxations] == [
        ("vowel", "vowel_max", "symbols starting with a vowel")]
    needed = diagnosis.relaxations[0].needed
    assert needed >= floor - 1e-9  # the floors are a lower bound; the group limits force more into the vowels
    assert f"vowel_max 0.05 is too tight for symbols starting with a vowel: needs at least {needed:.4f}" in (
        diagnosis.lines()[1])
    # the smallest relaxation: a little less stays infeasible, a little more solves
    with pytest.raises(ProblemInfeasible):
        _solve(prepared, replace(limits, extra=(VowelLimit(needed - 1e-4),)), cache)
    assert _solve(prepared, replace(limits, extra=(VowelLimit(needed + 1e-4),)), cache).status == "optimal"
    assert any(c.startswith("constraints.position_limits.EFA.min 0.12") for c in diagnosis.conflicts_with)
    # --relax trades on the relaxed maximum, and the relaxed limits carry the moved family
    relaxed = solve_relaxed(limits, prepared.returns.mu, prepared.risk, config, diagnosis, cache)
    moved = relaxed_limits(limits, diagnosis.slacks)
    assert isinstance(moved.extra[0], VowelLimit) and moved.extra[0].maximum == pytest.approx(needed, abs=1e-5)
    assert relaxed.weight[VowelLimit.members(limits)].sum() <= moved.extra[0].maximum + 1e-7
    assert violations(moved, prepared.risk, relaxed.weight, relaxed.cash_weight)["vowel"] <= 1e-7


def test_the_built_in_families_have_distinct_names_and_sides(example_copy: Path) -> None:
    limits = _prepared(example_copy, "extends: base.yaml\n").limits
    names = [f.name for f in FAMILIES]
    sides = [s.name for f in families_of(limits) for s in f.sides(limits)]
    assert len(set(names)) == len(names) and len(set(sides)) == len(sides)
    assert {"position_min", "active_max", "rsi_max", "cash_min", "turnover"} <= set(sides)


def test_the_tightest_bounds_are_computed_once_per_limits_and_read_only(example_copy: Path) -> None:
    """An account's checks, program and rounding share one computation of its tightest bounds (kept for the last
    ``Limits``, by identity): read-only, and limits replaced by others get their own."""
    limits = _prepared(example_copy, "extends: base.yaml\n").limits
    lower, upper = asset_bounds(limits)
    assert asset_bounds(limits)[0] is lower and asset_bounds(limits)[1] is upper
    assert not lower.flags.writeable and not upper.flags.writeable
    halved = replace(limits, position_upper=limits.position_upper * 0.5)
    assert np.array_equal(asset_bounds(halved)[1], np.minimum(upper, halved.position_upper))
    assert families_of(halved) == families_of(limits)
    assert asset_bounds(limits)[1] is not upper and np.array_equal(asset_bounds(limits)[1], upper)


def test_binding_limits_name_the_config_keys_and_values_of_the_binding_constraints(example_run: Path) -> None:
    """summary.json's ``binding_limits`` says the same as ``binding_constraints``, one entry each, in the config's
    words: the key of base.yaml and its value there."""
    import json

    import yaml

    from tests.conftest import BASE_CONFIG

    summary = json.loads((example_run / "summary.json").read_text())
    config = yaml.safe_load(BASE_CONFIG.read_text())
    entries = summary["binding_limits"]
    assert len(entries) == len(summary["binding_constraints"])
    by_key = {(e["key"], e["subject"]): e["value"] for e in entries}
    assert by_key[("constraints.turnover_max", "")] == config["constraints"]["turnover_max"]
    assert by_key[("constraints.cash_min", "")] == config["constraints"]["cash_min"]
    assert by_key[("constraints.active_max", "XLK")] == config["constraints"]["active_max"]
    assert by_key[("constraints.active_min", "SPY")] == config["constraints"]["active_min"]
    assert by_key[("rsi.min_trim", "IWM, RSI 71.3")] == pytest.approx(config["rsi"]["min_trim"])


class HalfCap(FixedBounds):
    """A per-asset cap whose check allows twice the cap (its own ``violation``), to be checked on its own."""

    def violation(self, limits: Limits, risk: RiskModel, weight: FloatArray, cash: float) -> float:
        return max(float((weight - 2.0 * self.upper).max(initial=0.0)), 0.0)


def test_the_per_asset_checks_made_at_once_are_each_familys_own(example_copy: Path) -> None:
    """``violations`` checks the per-asset families a row each, at once: what each family's ``violation`` gives
    (the RSI no-add's 1% allowance included), and a family with a check of its own is asked for it."""
    prepared = _prepared(example_copy, "extends: base.yaml\n")
    n = len(prepared.limits.symbols)
    cap = np.full(n, 0.02)
    limits = replace(prepared.limits, extra=(FixedBounds("fixed", np.full(n, -np.inf), cap), HalfCap("half", cap, cap)))
    rng = np.random.default_rng(7)
    for weight in (limits.current, limits.current * 1.004, rng.uniform(0.0, 0.2, n), np.zeros(n)):
        found = violations(limits, prepared.risk, weight, 0.01)
        each = {family.name: family.violation(limits, prepared.risk, weight, 0.01) for family in families_of(limits)}
        assert list(found) == ["budget", *each] and {k: found[k] for k in each} == each
    assert found["half"] == 0.0 and found["fixed"] == 0.0 and found["position"] == pytest.approx(
        max(float(limits.position_lower.max()), 0.0))


def test_binding_limits_read_what_binding_constraints_found_of_the_same_solution(example_copy: Path) -> None:
    """``binding_limits`` after ``binding_constraints`` of the same solution reuses its sides; the same array
    changed in place, other cash or another tolerance is another solution."""
    from allocator.optimize.families import binding_limits

    prepared = _prepared(example_copy, "extends: base.yaml\n")
    limits, risk, config = prepared.limits, prepared.risk, prepared.config
    weight = np.array(limits.position_upper, dtype=np.float64)
    weight[1::2] = limits.current[1::2]

    def alone(w: FloatArray, cash: float, tolerance: float = 1e-6) -> list[LimitEntry]:
        binding_constraints(replace(limits), risk, w, cash, tolerance)  # other limits: nothing kept for these
        return binding_limits(limits, config, risk, w, cash, tolerance)

    expected = alone(weight, 0.01)
    each = [line for family in families_of(limits) for line in family.binding(limits, risk, weight, 0.01, 1e-6)]
    assert binding_constraints(limits, risk, weight, 0.01) == each and len(each) > 3  # the per-asset rows at once
    assert binding_limits(limits, config, risk, weight, 0.01) == expected
    weight[0] = -1.0  # in place: the same object, other values
    assert binding_limits(limits, config, risk, weight, 0.01) == alone(weight.copy(), 0.01) != expected
    binding_constraints(limits, risk, weight, 0.01)
    assert binding_limits(limits, config, risk, weight, 0.5) == alone(weight, 0.5)
    assert binding_limits(limits, config, risk, weight, 0.01, 0.1) == alone(weight, 0.01, 0.1)
