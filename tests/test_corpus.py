"""The hostile-input corpus (tests/data/bad): every case exits with its documented code and message, prints no
traceback and leaves no output folder, partial or hidden."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from allocator.cli import main
from tests.conftest import TEST_DATA

CORPUS = TEST_DATA / "bad"
CASES = sorted(p.name for p in CORPUS.iterdir() if (p / "case.yaml").is_file())
MIB = 1_048_576


def _spec(name: str) -> dict[str, Any]:
    spec: dict[str, Any] = yaml.safe_load((CORPUS / name / "case.yaml").read_text())
    return spec


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the corpus, so sparse files and anything a case might write stay out of the repository."""
    copy = tmp_path_factory.mktemp("corpus") / "bad"
    shutil.copytree(CORPUS, copy)
    return copy


def _prepare(folder: Path, spec: dict[str, Any]) -> None:
    sparse = spec.get("sparse")
    if sparse:  # an enormous file that takes no disk space: refused by its size, never read
        with (folder / sparse["path"]).open("wb") as handle:
            handle.truncate(int(sparse["mib"] * MIB))


def _arguments(spec: dict[str, Any], out: Path) -> list[str]:
    args = [str(a) for a in spec["args"]]
    return [*args, "-o", str(out)] if args[0] == "run" else args


def _check(spec: dict[str, Any], code: int, stderr: str, output: str, folder: Path, outputs: Path) -> None:
    assert code == spec["exit"], stderr
    assert "Traceback" not in output
    if spec["exit"] == 0:
        manifest = json.loads((outputs / "out" / "manifest.json").read_text())
        assert any(spec["manifest_note"] in note for note in manifest["notes"]), manifest["notes"]
        return
    assert "Error: " in stderr and spec["message"] in stderr, (spec["message"], stderr)
    assert stderr.count("Error: ") == 1
    left = sorted(p.relative_to(outputs).as_posix() for p in outputs.rglob("*"))
    if "cannot all hold" in spec["message"]:  # infeasible limits: the diagnosis, and nothing else, is written
        assert left == ["out", "out/diagnosis.json"], left
    else:
        assert left == [], "a failed run left an output folder (or a hidden partial one)"
    if "absent" in spec:
        assert not (folder / spec["absent"]).exists()


def test_the_corpus_covers_every_kind_of_input() -> None:
    kinds = [name.split("_")[0] for name in CASES]
    assert len(CASES) >= 40
    for kind in ("holdings", "prices", "fundamentals", "config"):
        assert kinds.count(kind) >= 8, kind
    for name in CASES:
        spec = _spec(name)
        assert spec["about"] and isinstance(spec["exit"], int), name
        assert spec["exit"] in (0, 2, 3, 4, 5), name
        assert spec["message"] or spec["exit"] == 0, name


@pytest.mark.parametrize("name", CASES)
def test_case(name: str, corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spec = _spec(name)
    folder = corpus / name
    _prepare(folder, spec)
    monkeypatch.chdir(folder)
    result = CliRunner().invoke(main, _arguments(spec, tmp_path / "out"), catch_exceptions=False)
    _check(spec, result.exit_code, result.stderr, result.output, folder, tmp_path)


SUBPROCESS_CASES = ["holdings_duplicate_symbol", "holdings_enormous", "prices_dates_out_of_order",
                    "fundamentals_missing_column", "config_python_tag", "config_alias_bomb", "limits_infeasible",
                    "usage_bad_as_of"]


@pytest.mark.slow
@pytest.mark.parametrize("name", SUBPROCESS_CASES)
def test_case_in_a_real_process(name: str, corpus: Path, tmp_path: Path) -> None:
    """The same checks on the process's own stderr and exit status (no test runner in between)."""
    spec = _spec(name)
    folder = corpus / name
    _prepare(folder, spec)
    completed = subprocess.run([sys.executable, "-m", "allocator", *_arguments(spec, tmp_path / "out")], cwd=folder,
                               capture_output=True, text=True, timeout=300, check=False)
    assert completed.stdout == ""
    _check(spec, completed.returncode, completed.stderr, completed.stderr, folder, tmp_path)
