"""The misread corpus (tests/data/misread): inputs that could be read into a plausible, wrong trade list.

Each case is refused with its exact message, or accepted with its exact warning, or (``same_trades``) read to the
very trades of the plain inputs it re-spells; and ``validate`` says the same as ``run`` on it: exit code, Error line
and every warning. The same agreement is checked on every ``run`` case of the hostile corpus (tests/data/bad).
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from allocator.cli import main
from tests.conftest import TEST_DATA

CORPUS = TEST_DATA / "misread"
BAD = TEST_DATA / "bad"
CASES = sorted(p.name for p in CORPUS.iterdir() if (p / "case.yaml").is_file())
BAD_RUN_CASES = sorted(p.name for p in BAD.iterdir() if (p / "case.yaml").is_file()
                       and yaml.safe_load((p / "case.yaml").read_text())["args"][0] == "run")
CLASSES = range(1, 13)  # the twelve classes of misreading the README's "Hostile input" section lists


@dataclass(frozen=True)
class Outcome:
    code: int
    stderr: str
    output: str


def spec_of(corpus: Path, name: str) -> dict[str, Any]:
    spec: dict[str, Any] = yaml.safe_load((corpus / name / "case.yaml").read_text())
    return spec


def invoke(args: list[str]) -> Outcome:
    result = CliRunner().invoke(main, args, catch_exceptions=False)
    return Outcome(result.exit_code, result.stderr, result.output)


def prepare(folder: Path, spec: dict[str, Any]) -> None:
    """What a case needs beyond its files: a previous run's output, an edit of it, a named pipe."""
    if "setup_run" in spec:  # a previous run's output; the case's own files in that folder are copied in after it
        target = folder / spec["setup_run"]
        stash = folder.parent / f".{folder.name}-stash"
        if target.exists():
            target.rename(stash)
        done = invoke(["run", "../_inputs/holdings.csv", "-c", "../_inputs/config.yaml", "-o", str(target), "-q",
                       *spec.get("setup_args", [])])
        assert done.code == 0, done.stderr
        if stash.exists():
            shutil.copytree(stash, target, dirs_exist_ok=True)
            shutil.rmtree(stash)
    if "copy" in spec:  # a copy of a file of the previous run, saved elsewhere or under another name
        source, copy = spec["copy"]
        (folder / copy).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(folder / source, folder / copy)
    if "edit" in spec:
        path, *replacements = spec["edit"]
        text = (folder / path).read_text()
        for old, new in zip(replacements[::2], replacements[1::2], strict=True):
            assert old in text
            text = text.replace(old, new)
        if spec.get("add_row"):
            text += text.splitlines()[-1].replace("AAA,BUY,5,", "DDD,BUY,7,") + "\n"  # a new symbol
        (folder / path).write_text(text)
    if "fifo" in spec:
        os.mkfifo(folder / spec["fifo"])


def run_args(spec: dict[str, Any], out: Path) -> list[str]:
    args = [str(a) for a in spec["args"]]
    return [*args, "-o", str(out)] if args[0] == "run" and "-o" not in args else args


def validate_args(spec: dict[str, Any]) -> list[str]:
    """The ``run`` arguments of a case as ``validate`` takes them (no output folder, no --force)."""
    args, kept = [str(a) for a in spec["args"]][1:], []
    skip = False
    for arg in args:
        if skip:
            skip = False
        elif arg in ("-o", "--out"):
            skip = True
        elif arg not in ("--force", "-q"):
            kept.append(arg)
    return ["validate", *kept]


def warning_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("Warning: ")]


def assert_validate_says_what_run_said(checked: Outcome, ran: Outcome) -> None:
    """The same exit code, the same Error line and every warning, in the same order."""
    assert checked.code == ran.code, (ran.stderr, checked.stderr)
    if ran.code != 0:
        assert error_line(checked.stderr) == error_line(ran.stderr)
    assert warning_lines(checked.stderr) == warning_lines(ran.stderr), (ran.stderr, checked.stderr)


def error_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.startswith("Error: ")]
    assert len(lines) == 1, stderr
    return lines[0]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the corpus beside the hostile corpus's small valid account (``_inputs``), which its cases
    re-spell or start from."""
    root = tmp_path_factory.mktemp("misread")
    shutil.copytree(CORPUS, root / "misread")
    shutil.copytree(BAD / "_inputs", root / "misread" / "_inputs")
    return root / "misread"


@pytest.fixture(scope="module")
def plain_trades(corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The trade list of the plain inputs, which every ``same_trades`` case must reproduce exactly."""
    out = tmp_path_factory.mktemp("plain") / "out"
    os.chdir(corpus / "_inputs")
    done = invoke(["run", "holdings.csv", "-c", "config.yaml", "-o", str(out), "-q"])
    assert done.code == 0, done.stderr
    return (out / "trades.csv").read_text()


def test_the_corpus_covers_every_class() -> None:
    specs = [spec_of(CORPUS, name) for name in CASES]
    for klass in CLASSES:
        assert sum(spec["class"] == klass for spec in specs) >= 1, klass
    for name, spec in zip(CASES, specs, strict=True):
        assert spec["about"] and isinstance(spec["exit"], int), name
        assert ("message" in spec) == (spec["exit"] != 0), name  # a refusal says why; an acceptance does not
        assert spec["exit"] == 0 or not spec.get("same_trades"), name


@pytest.mark.parametrize("name", CASES)
def test_case(name: str, corpus: Path, plain_trades: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spec = spec_of(corpus, name)
    folder = corpus / name
    monkeypatch.chdir(folder)
    prepare(folder, spec)
    out = tmp_path / "out"
    done = invoke(run_args(spec, out))
    assert "Traceback" not in done.output
    assert done.code == spec["exit"], done.stderr
    if spec["exit"] != 0:
        assert error_line(done.stderr) == f"Error: {spec['message']}".replace("{case}", str(folder))
        assert not out.exists() and list(tmp_path.iterdir()) == []  # nothing written, not even hidden
    for detail in spec.get("details", []):
        assert f"\n  - {detail}\n" in done.stderr, done.stderr
    for fragment in spec.get("warnings", []):
        assert f"Warning: {fragment}" in done.stderr, done.stderr
    for kept in spec.get("kept", []):
        assert (folder / kept).is_file(), f"{kept} was deleted"
    target = folder / spec["args"][spec["args"].index("-o") + 1] if "-o" in spec["args"] else out
    if spec.get("same_trades"):
        assert (target / "trades.csv").read_text() == plain_trades
    if "lot_multiple" in spec:
        lot = Decimal(spec["lot_multiple"])
        rows = (target / "trades.csv").read_text().splitlines()[1:]
        assert rows
        for row in rows:
            quantity = Decimal(row.split(",")[2])
            assert quantity % lot == 0 and quantity == quantity.quantize(lot), row
    if spec["args"][0] == "run" and "setup_run" not in spec:
        checked = invoke(validate_args(spec))
        assert_validate_says_what_run_said(checked, done)


@pytest.fixture(scope="module")
def bad_corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    copy = tmp_path_factory.mktemp("bad") / "bad"
    shutil.copytree(BAD, copy)
    return copy


@pytest.mark.parametrize("name", BAD_RUN_CASES)
def test_validate_agrees_with_run_on_the_hostile_corpus(name: str, bad_corpus: Path, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    spec = spec_of(bad_corpus, name)
    if "sparse" in spec:  # an enormous sparse file: test_corpus makes and checks it; the agreement is below
        with (bad_corpus / name / spec["sparse"]["path"]).open("wb") as handle:
            handle.truncate(int(spec["sparse"]["mib"] * 1_048_576))
    monkeypatch.chdir(bad_corpus / name)
    ran = invoke(run_args(spec, tmp_path / "out"))
    assert ran.code == spec["exit"], ran.stderr
    assert_validate_says_what_run_said(invoke(validate_args(spec)), ran)
