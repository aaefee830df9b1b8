"""The documentation stays true to the code: the generated reference pages (configuration, CLI) are current,
every config key and command is documented, the README's library example runs, and the site builds."""

from __future__ import annotations

import importlib.util
import inspect
import re
import subprocess
import sys
import types
import typing
from pathlib import Path
from types import ModuleType
from typing import Any

import click
import pytest
from click.testing import CliRunner
from pydantic import BaseModel

from allocator.cli import main
from allocator.config.schema import Config

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
README = ROOT / "README.md"
WIDTH = 100  # the terminal width docs/cli.md is rendered at


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("docs_generate", DOCS / "generate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclass looks itself up there
    spec.loader.exec_module(module)
    return module


# --- configuration.md --------------------------------------------------------------------------------------


def _models_in(annotation: Any) -> list[tuple[type[BaseModel], str]]:
    """Models held by a field, with how a child's path continues (``.``, ``.<SYMBOL>.`` for maps, ``[i].``)."""
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType):
        return [found for arg in args for found in _models_in(arg)]
    if inspect.isclass(annotation) and issubclass(annotation, BaseModel):
        return [(annotation, ".")]
    if origin is dict and inspect.isclass(args[1]) and issubclass(args[1], BaseModel):
        return [(args[1], ".<SYMBOL>.")]
    if origin is list and inspect.isclass(args[0]) and issubclass(args[0], BaseModel):
        return [(args[0], "[i].")]
    return []


def _config_keys(model: type[BaseModel] = Config, prefix: str = "") -> list[str]:
    keys = []
    for name, info in model.model_fields.items():
        keys.append(prefix + name)
        for child, joint in _models_in(info.annotation):
            keys.extend(_config_keys(child, prefix + name + joint))
    return keys


def test_every_config_key_is_documented() -> None:
    page = (DOCS / "configuration.md").read_text(encoding="utf-8")
    keys = _config_keys()
    assert len(keys) > 100  # the walk reached the nested sections
    missing = [key for key in keys if f"| `{key}` |" not in page and f"\n## `{key}`\n" not in page]
    assert not missing, f"config keys missing from docs/configuration.md (run python docs/generate.py): {missing}"


def test_every_config_field_has_a_description() -> None:
    def undescribed(model: type[BaseModel], prefix: str = "") -> list[str]:
        out = []
        for name, info in model.model_fields.items():
            if not info.description:
                out.append(prefix + name)
            for child, joint in _models_in(info.annotation):
                out.extend(undescribed(child, prefix + name + joint))
        return out

    assert undescribed(Config) == []


def test_configuration_page_is_generated_from_the_models() -> None:
    committed = (DOCS / "configuration.md").read_text(encoding="utf-8")
    assert committed == _generator().configuration_md(), "docs/configuration.md is stale: run python docs/generate.py"


# --- cli.md ------------------------------------------------------------------------------------------------


def _commands(command: click.Command = main, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    paths = [path]
    if isinstance(command, click.Group):
        for name in sorted(command.commands):
            paths.extend(_commands(command.commands[name], (*path, name)))
    return paths


COMMANDS = _commands()


def test_the_command_walk_finds_every_command() -> None:
    assert {p[0] for p in COMMANDS if p} >= {"run", "validate", "compare", "export", "send"}


@pytest.mark.parametrize("path", COMMANDS, ids=lambda p: " ".join(("allocate", *p)))
def test_cli_reference_matches_help(path: tuple[str, ...]) -> None:
    result = CliRunner().invoke(main, [*path, "--help"], prog_name="allocate", terminal_width=WIDTH,
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    page = (DOCS / "cli.md").read_text(encoding="utf-8")
    title = " ".join(("allocate", *path))
    section = re.search(rf"^## `{re.escape(title)}`\n\n```text\n(.*?)\n```$", page, re.M | re.S)
    assert section is not None, f"docs/cli.md has no section for {title}: run python docs/generate.py"
    assert section.group(1) == result.output.rstrip("\n"), f"docs/cli.md is stale for {title}"


def test_the_help_examples_name_shipped_files() -> None:
    """Every ``configs/...`` and ``examples/...`` path in the help's examples is in the repository."""
    named = set()
    for path in COMMANDS:
        text = CliRunner().invoke(main, [*path, "--help"], terminal_width=WIDTH, catch_exceptions=False).output
        for line in text.splitlines():
            if line.strip().startswith("allocate "):
                named |= set(re.findall(r"\b(?:configs|examples)/[\w./*-]+", line))
    assert named >= {"configs/base.yaml", "configs/backtest.yaml"}
    assert [p for p in sorted(named) if not any(ROOT.glob(p))] == []


def test_cli_page_is_generated_from_the_commands() -> None:
    committed = (DOCS / "cli.md").read_text(encoding="utf-8")
    assert committed == _generator().cli_md(), "docs/cli.md is stale: run python docs/generate.py"


def test_generate_check_passes() -> None:
    assert _generator().main(["--check"]) == 0


# --- README ------------------------------------------------------------------------------------------------


def test_readme_is_short_and_keeps_the_quick_start() -> None:
    text = README.read_text(encoding="utf-8")
    assert len(text.encode()) < 12_288
    assert "make example   #" in text and "make test      #" in text
    assert "Set-up times: see below" in text
    for code in range(7):
        assert f"| {code} |" in text


def test_readme_lists_every_class_of_misreading_the_corpus_covers() -> None:
    text = README.read_text(encoding="utf-8")
    section = text[text.index("## Hostile input"):text.index("## Library")]
    from tests.test_misread import CLASSES

    for klass in CLASSES:
        assert f"| {klass}. " in section, klass


@pytest.mark.parametrize("page", ["README.md", "docs/index.md"])
def test_library_example_runs(page: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    text = (ROOT / page).read_text(encoding="utf-8")
    library = text[text.index("## Library"):]
    block = re.search(r"```python\n(.*?)```", library, re.S)
    assert block is not None
    monkeypatch.chdir(ROOT)
    namespace: dict[str, Any] = {}
    exec(compile(block.group(1), page, "exec"), namespace)
    result, prepared = namespace["result"], namespace["prepared"]
    assert abs(float(result.allocation.weight.sum()) + result.allocation.cash_weight - 1.0) < 1e-6
    assert result.trades.trades
    printed = capsys.readouterr().out
    assert "rsi_trim(RSI 71.3)" in printed and "rsi_trim on IWM (RSI 71.3)" in printed
    assert any(rule.symbol == "IWM" for rule in prepared.rsi.rules)


def test_docstrings_cite_nothing_outside_the_repo() -> None:
    offenders = [f"{path.relative_to(ROOT)}:{number}"
                 for path in sorted((ROOT / "allocator").rglob("*.py"))
                 for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
                 if "DESIGN" in line or "../shared" in line]
    assert offenders == []


# --- the site ----------------------------------------------------------------------------------------------


def test_mkdocs_build_strict(tmp_path: Path) -> None:
    if importlib.util.find_spec("mkdocs") is None:
        pytest.skip("mkdocs is not installed (pip install -e '.[test]' installs it)")
    done = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet",
                           "--config-file", str(ROOT / "mkdocs.yml"), "--site-dir", str(tmp_path / "site")],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert (tmp_path / "site" / "method" / "index.html").exists()
