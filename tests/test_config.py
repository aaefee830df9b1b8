"""Config loading: validation with key paths, every error at once, inheritance, safe YAML."""

from __future__ import annotations

from pathlib import Path

import pytest

from allocator.config_loader import deep_merge, load_config
from allocator.errors import ConfigError
from tests.conftest import BASE_CONFIG
from tests.helpers import write_config


def test_base_config_loads_with_paths_relative_to_the_file() -> None:
    loaded = load_config(BASE_CONFIG)
    assert loaded.config.data.prices == (BASE_CONFIG.parent.parent / "examples" / "prices.csv").resolve()
    assert loaded.chain == (BASE_CONFIG,)
    assert loaded.config.constraints.turnover_max == 0.2


def test_unknown_keys_and_bad_values_are_all_reported(example_copy: Path) -> None:
    path = write_config(example_copy, """
extends: base.yaml
risk: {modle: sample}
constraints: {max_weight: 1.5, cash_min: 0.5, cash_max: 0.2}
rsi: {min_trim: 0.6, max_trim: 0.4}
trading: {cost_bps: fast}
""")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    details = "\n".join(caught.value.details)
    assert "risk.modle: unknown key; did you mean 'model'?" in details
    assert "constraints.max_weight: Input should be less than or equal to 1 (got 1.5)" in details
    assert "trading.cost_bps: Input should be a valid number" in details
    assert "rsi: min_trim 0.6 is above max_trim 0.4" in details
    assert len(caught.value.details) == 4  # cash_min > cash_max is checked once max_weight is valid


def test_choices_list_the_valid_values(example_copy: Path) -> None:
    path = write_config(example_copy, "extends: base.yaml\nreturns: {macro: {rate_path: cutting}}\n")
    with pytest.raises(ConfigError, match=r"returns.macro.rate_path: Input should be 'easing', 'hold' or "
                                          r"'tightening' \(got 'cutting'\)"):
        load_config(path)


def test_extends_overrides_only_what_it_names_and_lists_replace(example_copy: Path) -> None:
    path = write_config(example_copy, """
extends: base.yaml
constraints:
  turnover_max: 0.05
  groups:
    - {by: sector, name: energy, max: 0.02}
""")
    config = load_config(path).config
    base = load_config(example_copy / "configs" / "base.yaml").config
    assert config.constraints.turnover_max == 0.05
    assert config.constraints.tracking_error_max == base.constraints.tracking_error_max
    assert [g.name for g in config.constraints.groups] == ["energy"]
    assert config.data.prices == base.data.prices


def test_extends_chain_cycle_and_missing_parent(example_copy: Path) -> None:
    write_config(example_copy, "extends: b.yaml\n", "a.yaml")
    write_config(example_copy, "extends: a.yaml\n", "b.yaml")
    with pytest.raises(ConfigError, match=r"'extends' forms a cycle: .*a.yaml -> .*b.yaml -> .*a.yaml"):
        load_config(example_copy / "configs" / "a.yaml")
    missing = write_config(example_copy, "extends: nowhere.yaml\n", "c.yaml")
    with pytest.raises(ConfigError, match=r"nowhere.yaml: config file not found \(extended by .*c.yaml\)"):
        load_config(missing)


def test_safe_loader_refuses_python_objects(example_copy: Path) -> None:
    path = write_config(example_copy, "data: !!python/object/apply:os.system ['echo hacked']\n")
    with pytest.raises(ConfigError, match="YAML tag not allowed"):
        load_config(path)


def test_partial_macro_multiplier_override_keeps_the_other_defaults(example_copy: Path) -> None:
    path = write_config(example_copy, "extends: base.yaml\nreturns: {macro: {regime_multipliers: "
                                      "{hawkish: {size: -1.0}}}}\n")
    hawkish = load_config(path).config.returns.macro.regime_multipliers.hawkish
    assert (hawkish.size, hawkish.value, hawkish.growth, hawkish.quality) == (-1.0, 1.0, 0.5, 1.0)


def test_deep_merge() -> None:
    assert deep_merge({"a": {"b": 1, "c": [1, 2]}, "d": 1}, {"a": {"c": [3]}, "e": 2}) == {
        "a": {"b": 1, "c": [3]}, "d": 1, "e": 2}
