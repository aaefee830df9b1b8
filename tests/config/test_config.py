"""Config loading: validation with key paths, every error at once, inheritance, safe YAML."""

from __future__ import annotations

from pathlib import Path

import pytest

from allocator.config.loader import deep_merge, load_config
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
    assert "trading.cost_bps: got the text 'fast' where a number goes" in details
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


# --- inheritance (issue 5): chains of any depth, relative paths, merge rules, cycles, missing parents ----------


def _scenario(example_copy: Path, relative: str, text: str) -> Path:
    path = example_copy / "configs" / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_a_chain_of_three_across_folders_merges_key_by_key(example_copy: Path) -> None:
    _scenario(example_copy, "scenarios/mid.yaml", """
extends: ../base.yaml
constraints:
  turnover_max: 0.10
  position_limits: {IWM: {max: 0.05}}
""")
    (example_copy / "configs" / "scenarios" / "deep").mkdir()
    (example_copy / "configs" / "scenarios" / "deep" / "fundamentals.csv").write_bytes(
        (example_copy / "examples" / "fundamentals.csv").read_bytes())
    leaf = _scenario(example_copy, "scenarios/deep/leaf.yaml", """
extends: ../mid.yaml
data: {fundamentals: fundamentals.csv}
rsi: {min_trim: 0.3}
constraints:
  position_limits: {SPY: {max: 0.30}}
  groups:
    - {by: sector, name: energy, max: 0.02}
""")
    loaded = load_config(leaf)
    configs = example_copy / "configs"
    assert loaded.chain == (leaf, configs / "scenarios" / "mid.yaml", configs / "base.yaml")
    config = loaded.config
    base = load_config(configs / "base.yaml").config
    assert config.constraints.turnover_max == 0.10  # from the middle
    assert config.rsi.min_trim == 0.3 and config.rsi.max_trim == base.rsi.max_trim  # leaf, then base
    assert {s: (v.min, v.max) for s, v in config.constraints.position_limits.items()} == {
        "IWM": (None, 0.05), "SPY": (None, 0.30)}  # mappings merge key by key through the chain
    assert [(g.by.value, g.name) for g in config.constraints.groups] == [("sector", "energy")]  # lists replace
    assert config.constraints.tracking_error_max == base.constraints.tracking_error_max
    assert config.data.prices == (example_copy / "examples" / "prices.csv")  # relative to base.yaml
    assert config.data.fundamentals == configs / "scenarios" / "deep" / "fundamentals.csv"  # relative to leaf


def test_a_child_can_clear_a_limit_with_null(example_copy: Path) -> None:
    path = write_config(example_copy, "extends: base.yaml\nconstraints: {turnover_max: null}\n")
    assert load_config(path).config.constraints.turnover_max is None


def test_cycles_name_the_whole_chain(example_copy: Path) -> None:
    own = write_config(example_copy, "extends: self.yaml\n", "self.yaml")
    with pytest.raises(ConfigError, match=r"'extends' forms a cycle: .*self.yaml -> .*self.yaml; remove the loop"):
        load_config(own)
    write_config(example_copy, "extends: y.yaml\nrsi: {min_trim: 0.2}\n", "x.yaml")
    write_config(example_copy, "extends: z.yaml\n", "y.yaml")
    write_config(example_copy, "extends: x.yaml\n", "z.yaml")
    with pytest.raises(ConfigError) as caught:
        load_config(example_copy / "configs" / "x.yaml")
    loop = caught.value.what.split(": ", 1)[1]
    assert [Path(p).name for p in loop.split(" -> ")] == ["x.yaml", "y.yaml", "z.yaml", "x.yaml"]


def test_a_missing_parent_names_the_chain_that_led_to_it(example_copy: Path) -> None:
    write_config(example_copy, "extends: gone.yaml\n", "middle.yaml")
    leaf = write_config(example_copy, "extends: middle.yaml\n", "leaf.yaml")
    with pytest.raises(ConfigError) as caught:
        load_config(leaf)
    assert caught.value.exit_code == 3
    assert caught.value.where == str(example_copy / "configs" / "gone.yaml")
    assert caught.value.what == (f"config file not found (extended by {example_copy / 'configs' / 'middle.yaml'} "
                                 f"<- {leaf})")


def test_extends_must_be_a_path(example_copy: Path) -> None:
    path = write_config(example_copy, "extends: [base.yaml]\n")
    with pytest.raises(ConfigError, match=r"test.yaml: extends: expected a file path, got \['base.yaml'\]"):
        load_config(path)


def test_run_manifest_records_the_chain_and_the_resolved_config(example_copy: Path, tmp_path: Path) -> None:
    import json

    from click.testing import CliRunner

    from allocator.cli import main

    mid = _scenario(example_copy, "scenarios/mid.yaml", "extends: ../base.yaml\nconstraints: {turnover_max: 0.1}\n")
    leaf = _scenario(example_copy, "scenarios/leaf.yaml", "extends: mid.yaml\nrsi: {min_trim: 0.2}\n")
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["run", str(example_copy / "examples/holdings.csv"), "-c", str(leaf), "-o",
                                       str(out), "-q"])
    assert result.exit_code == 0, result.output
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["config_chain"] == [str(leaf), str(mid), str(example_copy / "configs" / "base.yaml")]
    resolved = manifest["resolved_config"]
    assert resolved["constraints"]["turnover_max"] == 0.1 and resolved["rsi"]["min_trim"] == 0.2
    assert resolved["constraints"]["tracking_error_max"] == 0.03  # from the base
    assert "extends" not in resolved
    assert [manifest["inputs"][f"config[{i}]"]["path"] for i in range(3)] == manifest["config_chain"]


@pytest.mark.parametrize(("text", "message"), [
    ("constraints: {turnover_max: off}", "constraints.turnover_max: got the text 'off' where a number goes; give a "
                                         "plain decimal number (0.05, 5, 1e6)"),
    ("constraints: {max_weight: on}", "constraints.max_weight: got the text 'on' where a number goes"),
    ("constraints: {max_weight: true}",
     "constraints.max_weight: got the boolean true, which is not a value of this key"),
    ("rsi: {overbought: yes}", "rsi.overbought: got the text 'yes' where a number goes"),
    ("trading: {cost_bps: '5'}", "trading.cost_bps: got the text '5' where a number goes; write the number without "
                                 "quotes"),
    ("trading: {cost_bps_by_symbol: {SPY: '5'}}", "trading.cost_bps_by_symbol: SPY: got the text '5' where a number"),
])
def test_yaml_1_1_booleans_are_never_numbers(text: str, message: str, tmp_path: Path) -> None:
    """YAML 1.1 reads off/on/yes/no as booleans and pydantic reads a boolean as 0 or 1: turnover_max: off would
    have meant 'no trades'. Only true and false are booleans, and a boolean is never a number."""
    config = tmp_path / "c.yaml"
    config.write_text(f"extends: {BASE_CONFIG}\n{text}\n")
    with pytest.raises(ConfigError) as caught:
        load_config(config)
    assert message in "\n".join(caught.value.details), caught.value.details


def test_tickers_that_spell_yaml_1_1_booleans_stay_text(tmp_path: Path) -> None:
    config = tmp_path / "c.yaml"
    config.write_text(f"extends: {BASE_CONFIG}\ntrading: {{cost_bps_by_symbol: {{ON: 5, NO: 4, Y: 3}}}}\n"
                      "rsi: {enabled: false}\n")
    loaded = load_config(config)
    assert set(loaded.config.trading.cost_bps_by_symbol) == {"ON", "NO", "Y"}
    assert loaded.config.rsi.enabled is False
