"""Atomic outputs: a killed run leaves no output folder, a failed one nothing at all, and --force swaps in one step."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

import allocator.files.staging as staging
from allocator.errors import OutputError
from allocator.files.staging import clean_stale, staging_folders
from allocator.outputs.publish import write_atomically
from tests.conftest import ROOT

Cli = Callable[..., Result]
FILES = {"weights.csv": b"symbol\nSPY\n", "manifest.json": b"{}\n"}

# Runs `allocate run` with the writer slowed down after its first file, so the test can signal it mid-write.
MID_WRITE = """
import sys, time
import allocator.files.staging as staging

def first_file_then_wait(folder, files):
    name, data = next(iter(files.items()))
    (folder / name).write_bytes(data)
    print("writing", flush=True)
    time.sleep(120)

staging.write_files = first_file_then_wait
from allocator.cli import main
main(sys.argv[1:])
"""


def _dead_pid() -> int:
    child = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True,
                           check=True)
    return int(child.stdout)


def _visible(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if not p.name.startswith("."))


def _run_until_writing(example_copy: Path, out: Path) -> subprocess.Popen[str]:
    args = ["run", str(example_copy / "examples/holdings.csv"), "-c", str(example_copy / "configs/base.yaml"),
            "-o", str(out), "-q"]
    process = subprocess.Popen([sys.executable, "-c", MID_WRITE, *args], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, cwd=ROOT)
    assert process.stdout is not None
    line = process.stdout.readline()
    assert line.strip() == "writing", process.communicate(timeout=60)
    return process


@pytest.mark.slow
def test_a_run_killed_mid_write_leaves_no_output_and_the_next_run_cleans_up(example_copy: Path, tmp_path: Path,
                                                                           cli: Cli) -> None:
    out = tmp_path / "runs" / "out"
    process = _run_until_writing(example_copy, out)
    (left,) = staging_folders(out)  # the run was killed with a staging folder half written
    assert sorted(p.name for p in left.iterdir()) == ["weights.csv"]
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=60)
    assert process.returncode == -signal.SIGKILL
    assert not out.exists()
    assert _visible(out.parent) == []  # nothing that looks like an output, partial or not
    assert left.name.startswith(f".{out.name}.partial-")

    result = cli("run", example_copy / "examples/holdings.csv", "-c", example_copy / "configs/base.yaml", "-o", out,
                 "-q")
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == ["manifest.json", "summary.json", "trades.csv", "weights.csv"]
    assert staging_folders(out) == []  # the dead run's staging folder is gone
    assert _visible(out.parent) == ["out"]


@pytest.mark.slow
def test_a_run_terminated_mid_write_removes_its_staging_folder(example_copy: Path, tmp_path: Path) -> None:
    out = tmp_path / "runs" / "out"
    process = _run_until_writing(example_copy, out)
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 128 + signal.SIGTERM
    assert "Traceback" not in stderr
    assert stderr.splitlines()[-1] == "Error: stopped by SIGTERM; nothing was written"
    assert list(out.parent.iterdir()) == []


@pytest.mark.slow
def test_a_run_killed_while_replacing_keeps_the_previous_output(example_copy: Path, tmp_path: Path) -> None:
    out = tmp_path / "runs" / "out"
    out.mkdir(parents=True)
    (out / "manifest.json").write_text('{"previous": true}')
    args = ["run", str(example_copy / "examples/holdings.csv"), "-c", str(example_copy / "configs/base.yaml"),
            "-o", str(out), "-q", "--force"]
    process = subprocess.Popen([sys.executable, "-c", MID_WRITE, *args], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, cwd=ROOT)
    assert process.stdout is not None and process.stdout.readline().strip() == "writing"
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=60)
    assert (out / "manifest.json").read_text() == '{"previous": true}'
    assert _visible(out.parent) == ["out"]


def test_a_previous_output_moved_aside_by_a_killed_run_is_restored(tmp_path: Path) -> None:
    out = tmp_path / "out"
    aside = tmp_path / f".out.old-{_dead_pid()}-abc123"
    (aside / "out").mkdir(parents=True)
    (aside / "out" / "manifest.json").write_text("previous")
    partial = tmp_path / f".out.partial-{_dead_pid()}-def456"
    partial.mkdir()
    done = clean_stale(out)
    assert (out / "manifest.json").read_text() == "previous"
    assert not aside.exists() and not partial.exists()
    assert any("restored" in line for line in done)


def test_staging_folders_of_a_live_run_are_left_alone(tmp_path: Path) -> None:
    live = tmp_path / f".out.partial-{os.getppid()}-abc"
    live.mkdir()
    other = tmp_path / f".other.partial-{_dead_pid()}-abc"
    other.mkdir()
    assert clean_stale(tmp_path / "out") == []
    assert live.exists() and other.exists()


def test_force_swaps_the_folder_and_without_it_nothing_is_touched(tmp_path: Path) -> None:
    out = tmp_path / "out"
    one = b'{"outputs": {"extra.txt": "2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881"}}'
    write_atomically(out, {"manifest.json": one, "extra.txt": b"x"})
    with pytest.raises(OutputError, match="the output folder already exists; pass --force"):
        write_atomically(out, {"manifest.json": b"two"})
    assert (out / "manifest.json").read_bytes() == one
    write_atomically(out, {"manifest.json": b"two"}, force=True)
    assert sorted(p.name for p in out.iterdir()) == ["manifest.json"]
    assert (out / "manifest.json").read_bytes() == b"two"
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_force_never_replaces_a_folder_that_is_not_a_previous_output(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "thesis.tex").write_text("years of work")
    with pytest.raises(OutputError, match=r"holds files that are not outputs of allocate: thesis.tex; --force "
                                          "replaces only a folder of allocate's own outputs, and nothing was touched"):
        write_atomically(home, FILES, force=True)
    assert (home / "thesis.tex").read_text() == "years of work"
    assert _visible(tmp_path) == ["home"] and staging_folders(home) == []
    empty = tmp_path / "empty"
    empty.mkdir()
    write_atomically(empty, FILES, force=True)
    assert sorted(p.name for p in empty.iterdir()) == sorted(FILES)


def test_a_folder_that_appears_while_writing_is_never_overwritten(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "out"
    real = staging.write_files

    def racing(folder: Path, files: dict[str, bytes]) -> None:
        real(folder, files)
        out.mkdir()
        (out / "theirs.txt").write_text("another process")

    monkeypatch.setattr(staging, "write_files", racing)
    with pytest.raises(OutputError, match="the output folder appeared while this run was writing"):
        write_atomically(out, FILES)
    assert _visible(out) == ["theirs.txt"]
    assert staging_folders(out) == []


@pytest.mark.parametrize("force", [False, True])
def test_without_renameat2_the_portable_path_gives_the_same_result(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                   force: bool) -> None:
    monkeypatch.setattr(staging, "renameat2", lambda *_: False)
    out = tmp_path / "out"
    if force:
        write_atomically(out, {"manifest.json": b'{"outputs": {"old.txt": ""}}', "old.txt": b""})
    write_atomically(out, FILES, force=force)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == FILES
    assert _visible(tmp_path) == ["out"] and staging_folders(out) == []


def test_a_failure_while_writing_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def full_disk(folder: Path, files: dict[str, bytes]) -> None:
        (folder / "weights.csv").write_bytes(b"half")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(staging, "write_files", full_disk)
    with pytest.raises(OutputError, match=r"cannot write the output folder \(No space left on device\)"):
        write_atomically(tmp_path / "out", FILES)
    assert list(tmp_path.iterdir()) == []


def test_files_are_readable_as_the_umask_allows(tmp_path: Path) -> None:
    out = write_atomically(tmp_path / "out", FILES)
    umask = os.umask(0)
    os.umask(umask)
    assert out.stat().st_mode & 0o777 == 0o777 & ~umask


def test_an_output_path_that_is_a_link_is_replaced_by_a_folder_and_the_old_output_kept(tmp_path: Path) -> None:
    real = tmp_path / "real"
    write_atomically(real, {"manifest.json": b"old"})
    link = tmp_path / "out"
    link.symlink_to(real)
    write_atomically(link, FILES, force=True)
    assert not link.is_symlink() and {p.name: p.read_bytes() for p in link.iterdir()} == FILES
    assert (real / "manifest.json").read_bytes() == b"old"  # what the link pointed to is left alone
    assert _visible(tmp_path) == ["out", "real"] and staging_folders(link) == []
