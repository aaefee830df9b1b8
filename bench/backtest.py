"""``allocate backtest`` speed: 20 years monthly on the example's 20 ETFs, 7 strategies, end to end on the worker
processes; the pipeline strategies' time per rebalance against their estimation (``prepare``) and solve
(``optimize_prepared``) timed alone on the same dates; and a fixed mean-variance target backtested by allocate's
engine and by cvxportfolio's ``MarketSimulator`` on the same closes, side by side.

Usage: python bench/backtest.py PRICES_CSV   (a wide file of daily adjusted closes holding the example's ETFs)
Not a test: nothing here asserts a time.
"""

from __future__ import annotations

import contextlib
import dataclasses
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

SEVEN = "[config, no_tilt, no_rsi, benchmark_hold, benchmark_rebalanced, hrp, erc]"


def cpu_seconds() -> float:
    """CPU seconds (user + system) of this process and of its finished child processes (the workers)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def main(prices: Path) -> None:
    import pandas as pd
    from backtest_real_data import real_data_config

    from allocator.backtest.engine import run_backtest
    from allocator.backtest.request import BacktestRequest, resolve
    from allocator.backtest.simulation import Account
    from allocator.backtest.strategies import first_investment_config, fixed_weights
    from allocator.errors import AllocatorError
    from allocator.optimize.problem import ProblemCache
    from allocator.pipeline import optimize_prepared, prepare

    with tempfile.TemporaryDirectory() as folder:
        config = real_data_config(Path(folder), prices)
        config.write_text(config.read_text().replace("workers: 2}", f"workers: 2, strategies: {SEVEN}}}"))
        started, cpu = time.perf_counter(), cpu_seconds()
        resolved = resolve(BacktestRequest(config=config))
        run_backtest(resolved.strategies, resolved.market, resolved.schedule, resolved.account, workers=2)
        end_to_end, cpu = time.perf_counter() - started, cpu_seconds() - cpu
        rebalances = len(resolved.schedule.decisions)
        print(f"end to end: {end_to_end:.1f} s ({cpu:.1f} CPU s), {rebalances} rebalances x "
              f"{len(resolved.strategies)} strategies on 2 workers")

        # the config strategy alone, in this process, against its estimation and solve timed alone on the same inputs
        from allocator.backtest import simulation

        strategy = resolved.strategies[0]
        calls = []
        decide = simulation.decide

        def recording(*args, **kwargs):  # type: ignore[no-untyped-def]
            calls.append(args)
            return decide(*args, **kwargs)

        simulation.decide = recording  # type: ignore[assignment]
        started, cpu = time.perf_counter(), time.process_time()
        run_backtest([strategy], resolved.market, resolved.schedule, resolved.account, workers=1)
        per_rebalance = (time.perf_counter() - started) / rebalances
        per_rebalance_cpu = (time.process_time() - cpu) / rebalances
        simulation.decide = decide  # type: ignore[assignment]
        cache = ProblemCache()
        started, cpu = time.perf_counter(), time.process_time()
        for chosen, holdings, as_of, view, _ in calls:
            loaded = chosen.loaded
            if not holdings.positions:
                loaded = dataclasses.replace(loaded, config=first_investment_config(loaded.config))
            prepared = prepare(holdings, loaded, as_of=as_of, prices=view.prices, fundamentals=view.fundamentals)
            with contextlib.suppress(AllocatorError):  # a date that trades nothing in the backtest too
                optimize_prepared(prepared, cache, relax=True)
        alone = (time.perf_counter() - started) / max(len(calls), 1)
        alone_cpu = (time.process_time() - cpu) / max(len(calls), 1)
        print(f"config strategy: {per_rebalance * 1000:.0f} ms a rebalance in the backtest "
              f"({per_rebalance_cpu * 1000:.0f} ms CPU); estimation + solve alone {alone * 1000:.0f} ms "
              f"({alone_cpu * 1000:.0f} ms CPU); ratio {per_rebalance / alone:.2f} "
              f"({per_rebalance_cpu / alone_cpu:.2f} CPU)")

        # a fixed mean-variance target: allocate's engine against cvxportfolio's simulator
        import cvxportfolio as cvx

        symbols = [s for s in resolved.market.prices.columns]
        weights = {s: 1.0 / len(symbols) for s in symbols}
        fixed = fixed_weights("fixed", resolved.loaded, weights)
        started = time.perf_counter()
        run_backtest([fixed], resolved.market, resolved.schedule, Account({}, resolved.account.cash, {}), workers=1)
        ours = time.perf_counter() - started
        sessions = resolved.schedule.sessions
        closes = resolved.market.prices.reindex(sessions).ffill()
        returns = (closes.shift(-1) / closes - 1.0).iloc[:-1].fillna(0.0)
        returns["cash"] = 0.0
        returns.index = returns.index.tz_localize("UTC")
        started = time.perf_counter()
        simulator = cvx.MarketSimulator(market_data=cvx.UserProvidedMarketData(
            returns=returns, volumes=None, prices=None, cash_key="cash", min_history=pd.Timedelta(0)), costs=[])
        times = resolved.schedule.rebalance_dates.tz_localize("UTC")
        simulator.backtest(cvx.PeriodicRebalance(pd.Series({**weights, "cash": 0.0}), times),
                           start_time=returns.index[0], end_time=returns.index[-1], initial_value=1e6)
        theirs = time.perf_counter() - started
        print(f"fixed target, {len(sessions)} sessions: allocate {ours:.1f} s, cvxportfolio {theirs:.1f} s "
              f"(cvxportfolio / allocate = {theirs / ours:.2f})")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
