"""``allocate batch`` on Dask: a real scheduler and two workers started here on loopback, and a LocalCluster; the
files are those of the in-process batch, byte for byte, even when a worker is killed mid-batch."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from allocator.batch.account_run import AccountOutcome
from allocator.batch.runner import BatchRequest, run_batch
from tests.batch.test_batch_run import BOOK, TABLE, batch_files
from tests.conftest import BASE_CONFIG, ROOT

pytest.importorskip("distributed", reason="Dask is the optional extra allocate[batch]")
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("dask")]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def cluster() -> Iterator[tuple[str, list[subprocess.Popen[bytes]]]]:
    """A ``dask scheduler`` and two single-threaded ``dask worker`` processes (no nanny: a killed worker stays
    dead), torn down at the end."""
    from distributed import Client

    address = f"tcp://127.0.0.1:{free_port()}"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "env": env}
    scheduler = subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1",
                                  "--port", address.rsplit(":", 1)[1], "--no-dashboard"], **quiet)  # type: ignore[call-overload]
    workers = [subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_worker", address, "--nthreads", "1",
                                 "--no-nanny", "--no-dashboard", "--host", "127.0.0.1"], **quiet)  # type: ignore[call-overload]
               for _ in range(2)]
    try:
        with Client(address, timeout="60s") as client:
            client.wait_for_workers(2, timeout=120)
        yield address, workers
    finally:
        for process in [*workers, scheduler]:
            process.terminate()
        for process in [*workers, scheduler]:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()


@pytest.fixture(scope="module")
def in_process(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    out = tmp_path_factory.mktemp("in-process") / "out"
    run_batch(BatchRequest(book=BOOK, out_dir=out, config=BASE_CONFIG, accounts_table=TABLE, workers=0))
    return batch_files(out)


def test_a_batch_on_a_scheduler_and_two_workers_writes_the_in_process_files(
        cluster: tuple[str, list[subprocess.Popen[bytes]]], in_process: dict[str, bytes], tmp_path: Path) -> None:
    address, _ = cluster
    result = run_batch(BatchRequest(book=BOOK, out_dir=tmp_path / "out", config=BASE_CONFIG, accounts_table=TABLE,
                                    scheduler=address))
    assert result.engine == f"Dask cluster at {address}"
    assert batch_files(tmp_path / "out") == in_process


def test_a_worker_killed_mid_batch_loses_no_account_and_duplicates_none(
        cluster: tuple[str, list[subprocess.Popen[bytes]]], in_process: dict[str, bytes], tmp_path: Path) -> None:
    address, workers = cluster
    seen: list[str] = []

    def kill_a_worker(outcomes: Sequence[AccountOutcome]) -> None:
        seen.extend(o.account for o in outcomes)
        if workers[0].poll() is None:  # after the first chunk comes back, one worker dies
            workers[0].send_signal(signal.SIGKILL)
            workers[0].wait()
            time.sleep(0.2)

    result = run_batch(BatchRequest(book=BOOK, out_dir=tmp_path / "out", config=BASE_CONFIG, accounts_table=TABLE,
                                    scheduler=address), progress=kill_a_worker)
    assert workers[0].poll() is not None
    assert sorted(seen) == ["ACC-001", "ACC-002", "ACC-003", "ACC-004"]  # each account once
    assert [o.account for o in result.outcomes] == ["ACC-001", "ACC-002", "ACC-003", "ACC-004"]
    assert batch_files(tmp_path / "out") == in_process


def test_a_local_cluster_writes_the_in_process_files(in_process: dict[str, bytes], tmp_path: Path) -> None:
    result = run_batch(BatchRequest(book=BOOK, out_dir=tmp_path / "out", config=BASE_CONFIG, accounts_table=TABLE,
                                    workers=2))
    assert result.engine == "local Dask cluster of 2 processes"
    assert batch_files(tmp_path / "out") == in_process
