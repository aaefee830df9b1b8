"""``allocate batch`` throughput: accounts per minute on 1 and 2 Dask worker processes, per-account time against
one solve of the model measured alone: a re-solve of its compiled problem, warm (the solver updated in place) and
fresh (a solver set up for the solve), and the solve handed to Clarabel directly, as the batch solves each account
(docs/batch.md).

A seeded book (``bench/batch_book.py``: 50 assets, three models) is rebalanced end to end (reading, solving,
rounding, writing every account's four files, the blocks and the manifest) on a LocalCluster of 1 and of 2
processes. ``rebalance`` is the time from the engine's start to the published folder (the cluster's start-up is
reported apart); per-account time is ``rebalance * workers / accounts``. On a shared machine the wall times depend
on the other jobs, so the CPU seconds of the driver and of every worker process over the same span are reported
too: ``worker_cpu_per_account`` and ``driver_cpu_per_account`` are what the accounts cost whatever the load, and
``worker_kernel_per_account`` the kernel's part of the workers' (mostly creating the accounts' folders and files).

    python bench/batch.py --accounts 2000 [--rounds 3]

Each round runs 1 worker and 2 workers (alternating which goes first); the best run of each configuration counts
(accounts per minute, its CPU per account), and the ratio of every round is printed beside.

``--book N`` instead runs the seeded book of N accounts over the three models end to end through the command
(``allocate batch holdings.csv --accounts accounts.csv``, a LocalCluster of one process per core) and prints the
accounts by status, the wall and CPU seconds (the command and its worker processes), the load average, and the
desk's check of the output against the book (``bench/book_check.py``):

    python bench/batch.py --book 10000
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.batch_book import write_book
from bench.book_check import check_book


def measure(book: Path, out: Path, workers: int) -> dict[str, float]:
    """One batch of ``book`` on ``workers`` processes: the load average (1 minute) at the start, total, cluster
    start-up and rebalancing seconds."""
    from allocator.batch.engine import DaskEngine
    from allocator.batch.runner import BatchRequest, run_batch

    load = os.getloadavg()[0]
    started = time.perf_counter()
    engine = DaskEngine(workers)
    ready = time.perf_counter()
    worker_cpu, worker_kernel = _worker_times(engine)
    driver_cpu = time.process_time()
    marks: dict[str, float] = {}
    try:
        result = run_batch(BatchRequest(book=book / "holdings.csv", accounts_table=book / "accounts.csv",
                                        out_dir=out, force=True),
                           on_start=lambda total, resumed, engine: marks.setdefault("start", time.perf_counter()),
                           engine=engine)
        done = time.perf_counter()
        driver_cpu = time.process_time() - driver_cpu
        cpu_after, kernel_after = _worker_times(engine)
        worker_cpu, worker_kernel = cpu_after - worker_cpu, kernel_after - worker_kernel
    finally:
        engine.close()
    accounts = len(result.outcomes)
    return {"workers": workers, "accounts": accounts, "load_at_start": load, "cluster_seconds": ready - started,
            "total_seconds": done - started, "rebalance_seconds": done - marks["start"],
            "accounts_per_minute": 60.0 * accounts / (done - marks["start"]),
            "per_account_seconds": (done - marks["start"]) * workers / accounts,
            "worker_cpu_per_account": worker_cpu / accounts, "worker_kernel_per_account": worker_kernel / accounts,
            "driver_cpu_per_account": driver_cpu / accounts}


def _worker_times(engine: object) -> tuple[float, float]:
    """The CPU seconds of every worker process so far, and the kernel's part of them (``os.times``: on this
    machine's disk, creating each account's folder and files is most of it, docs/batch.md)."""
    found = engine.client.run(os.times).values()  # type: ignore[attr-defined]
    return sum(t.user + t.system for t in found), sum(t.system for t in found)


def resolve_times(book: Path) -> dict[str, tuple[float, float]]:
    """Median seconds of one solve of the balanced model for one account, alone, wall and CPU: through its compiled
    problem (parameters refilled), ``warm`` (the solver of the previous solve updated with the new data,
    ``cvxpy_solve``) and ``fresh`` (a solver set up for each solve, ``fresh_cvxpy_solve``); and ``direct``, handed to
    Clarabel directly with a solver of its own, as the batch solves each account (docs/batch.md)."""
    from allocator.batch.accounts import AccountHoldings
    from allocator.inputs.holdings import account_rows
    from allocator.optimize.problem import ProblemCache, cvxpy_solve, fresh_cvxpy_solve, solve_allocation
    from allocator.pipeline import prepare_account, prepare_model

    model = prepare_model(book / "models" / "balanced.yaml")
    text = (book / "holdings.csv").read_text()
    holdings = account_rows(text, "book")["A000001"].holdings()
    source = AccountHoldings(account="A000001", source="book", sha256="0" * 64, holdings=holdings)
    prepared = prepare_account(model, holdings, source.inputs)
    cfg = prepared.config
    found = {}
    for name, cache in (("warm", ProblemCache(solve=cvxpy_solve, direct=False)),
                        ("fresh", ProblemCache(solve=fresh_cvxpy_solve, direct=False)),
                        ("direct", ProblemCache(direct_from=0))):
        times, cpu = [], []
        for _ in range(21):
            started, started_cpu = time.perf_counter(), time.process_time()
            solve_allocation(prepared.limits, prepared.returns.mu, prepared.risk, cfg.risk.risk_aversion, cfg.solver,
                             cache)
            times.append(time.perf_counter() - started)
            cpu.append(time.process_time() - started_cpu)
        found[name] = statistics.median(times[1:]), statistics.median(cpu[1:])
    return found


def run_book(accounts: int) -> None:
    """The seeded book of ``accounts`` through ``allocate batch`` in a child process, timed and checked."""
    with tempfile.TemporaryDirectory() as folder:
        book = write_book(Path(folder) / "book", accounts)
        out = Path(folder) / "out"
        command = [sys.executable, "-m", "allocator", "batch", str(book / "holdings.csv"), "--accounts",
                   str(book / "accounts.csv"), "-o", str(out), "-q"]
        load = os.getloadavg()
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        finished = subprocess.run(command, capture_output=True, text=True, check=False)
        wall = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)  # the command and its workers, once reaped
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        found = check_book(book, out)
    print(f"allocate batch: {accounts:,} accounts, exit {finished.returncode}, {wall:.1f} s wall "
          f"({60.0 * accounts / wall:,.0f} accounts per minute), {cpu:.1f} s CPU ({1000.0 * cpu / accounts:.1f} ms "
          f"per account); load average before {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}, after "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"check: {found.summary()}")
    for failure in found.failures[:20]:
        print(f"  {failure}")
    expected = 5 if found.statuses["infeasible"] else 0  # an infeasible account's exit code, after the others
    if found.failures or found.statuses["error"] or finished.returncode != expected:
        print(finished.stderr[-2000:])
        raise SystemExit(1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--accounts", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3, help="rounds of 1 and 2 workers, alternately; the best "
                        "run of each counts (default 3)")
    parser.add_argument("--book", type=int, help="run the seeded book of this many accounts through the command "
                        "and check its output instead")
    args = parser.parse_args()
    if args.book:
        run_book(args.book)
        return
    from allocator.optimize.cvxpy_import import import_cvxpy

    import_cvxpy()
    with tempfile.TemporaryDirectory() as folder:
        book = write_book(Path(folder) / "book", args.accounts)
        solves = resolve_times(book)
        # 1 and 2 workers alternately, round after round; each configuration's best run counts, as the best of N
        # does for the other sections: the machine's other jobs only ever slow a run down
        rounds = [[measure(book, Path(folder) / f"out{r}-{w}", w) for w in ((1, 2) if r % 2 == 0 else (2, 1))]
                  for r in range(args.rounds)]
    for found in rounds:
        for run in found:
            print(" ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in run.items()))
    runs = [max((run for found in rounds for run in found if run["workers"] == w),
                key=lambda run: run["accounts_per_minute"]) for w in (1, 2)]
    for name, (solve, solve_cpu) in solves.items():
        print(f"{name} re-solve alone: {solve * 1000:.2f} ms ({solve_cpu * 1000:.2f} ms CPU)")
    each = [next(r for r in found if r["workers"] == 2)["accounts_per_minute"]
            / next(r for r in found if r["workers"] == 1)["accounts_per_minute"] for found in rounds]
    print(f"2 workers / 1 worker, best runs of {args.rounds} rounds: "
          f"{runs[1]['accounts_per_minute'] / runs[0]['accounts_per_minute']:.2f}x "
          f"(round by round: {', '.join(f'{x:.2f}x' for x in each)})")
    cpu = runs[1]["worker_cpu_per_account"] + runs[1]["driver_cpu_per_account"]
    for name, (solve, solve_cpu) in solves.items():
        print(f"per-account time (2 workers) / {name} re-solve: {runs[1]['per_account_seconds'] / solve:.1f}x; "
              f"CPU per account (workers and driver, 2 workers) / {name} re-solve CPU: {cpu / solve_cpu:.1f}x; "
              f"worker CPU per account / {name} re-solve CPU: {runs[1]['worker_cpu_per_account'] / solve_cpu:.1f}x")
    print(f"CPU-bound throughput on 2 idle cores (120 s / CPU per account): {120.0 / cpu:,.0f} accounts per minute")


if __name__ == "__main__":
    main()
