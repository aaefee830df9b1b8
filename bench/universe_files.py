"""The bench universe as the files a user gives ``allocate run``: prices, fundamentals, holdings and configs.

``write_universe(case, folder)`` writes, for a case of bench/base_case.py:

- ``prices.csv``: ``date`` and one column per symbol, 757 business days ending 2026-01-30 (756 daily returns),
  closes from 50 compounded by the case's returns, 4 decimals;
- ``fundamentals.csv``: the columns of examples/fundamentals.csv; equities with a market cap, seeded forward P/E
  and growth, region ``us`` and style ``broad``; bonds with those left empty, as the example's bond funds are;
  benchmark weights rounded down at 1e-12 so that they sum to at most 1;
- ``holdings.csv``: whole shares of the current weights of a 1-billion NAV at the last close, and the cash;
- ``config.yaml``: configs/base.yaml with the data paths pointed at these files and ``risk.model: pca`` with 15
  factors (the risk model every method of the bench and the CLI floor use), the RSI group's proxy one of these
  symbols; ``config_no_te.yaml``: the same without ``constraints.tracking_error_max``.

Run as a script it writes a universe: ``python bench/universe_files.py 3000 /tmp/u3000``.
"""

from __future__ import annotations

import copy
import sys
from pathlib import Path

import numpy as np
import yaml
from base_case import Case, base_settings

from allocator.domain import FloatArray

NAV = 1e9
FACTORS = 15
CONFIGS = {"config.yaml": True, "config_no_te.yaml": False}


def closes(case: Case) -> FloatArray:
    """Daily closes (days + 1 rows) compounded from 50 by the case's returns."""
    start = np.full((1, case.returns.shape[1]), 50.0)
    result: FloatArray = np.vstack([start, 50.0 * np.cumprod(1.0 + case.returns, axis=0)])
    return result


def _write_prices(case: Case, path: Path) -> FloatArray:
    import pandas as pd

    prices = np.round(closes(case), 4)
    dates = pd.bdate_range(end="2026-01-30", periods=prices.shape[0]).strftime("%Y-%m-%d")
    frame = pd.DataFrame(prices, index=pd.Index(dates, name="date"), columns=list(case.problem.symbols))
    frame.to_csv(path, float_format="%.4f")
    return prices


def _write_fundamentals(case: Case, path: Path) -> None:
    import pandas as pd

    problem = case.problem
    rng = np.random.default_rng([7, problem.assets])
    bond = np.array(case.asset_class) == "bond"
    n = problem.assets

    def equity_only(values: FloatArray) -> list[float | None]:
        return [None if b else float(v) for b, v in zip(bond, values, strict=True)]

    frame = pd.DataFrame({
        "symbol": problem.symbols, "name": [f"Synthetic {s}" for s in problem.symbols],
        "market_cap": equity_only(np.round(np.nan_to_num(case.market_cap), 0)),
        "forward_pe": equity_only(np.round(np.exp(rng.normal(np.log(17.0), 0.3, n)), 2)),
        "eps_growth": equity_only(np.round(rng.normal(0.10, 0.05, n), 4)),
        "revenue_growth": equity_only(np.round(rng.normal(0.05, 0.03, n), 4)),
        "sector": case.sector, "size_bucket": case.size_bucket, "asset_class": case.asset_class,
        "benchmark_weight": np.floor(problem.benchmark * 1e12) / 1e12,
        "region": np.where(bond, "none", "us"), "style": np.where(bond, "none", "broad"),
    })
    frame.to_csv(path, index=False, float_format="%.12g")


def _write_holdings(case: Case, last: FloatArray, path: Path) -> None:
    problem = case.problem
    quantity = np.round(problem.current * NAV / last)
    cash = NAV - float(quantity @ last)
    lines = ["symbol,quantity", *(f"{s},{int(q)}" for s, q in zip(problem.symbols, quantity, strict=True) if q > 0),
             f"CASH,{cash:.2f}"]
    path.write_text("\n".join(lines) + "\n")


def _write_configs(case: Case, folder: Path) -> None:
    settings = base_settings()
    small = [s for s, b in zip(case.problem.symbols, case.size_bucket, strict=True) if b == "small"]
    for name, tracking_error in CONFIGS.items():
        config = copy.deepcopy(settings)
        # the synthetic returns have fat tails: a -25% day would be refused as an unadjusted 4-for-3 split
        config["data"].update(prices="prices.csv", fundamentals="fundamentals.csv", on_split="warn")
        config["risk"].update(model="pca", factors=FACTORS)
        for group in (config.get("rsi") or {}).get("groups") or []:
            group["proxy"] = small[0]
        if "orders" in config:
            config["orders"]["journal"] = "orders.sqlite"
        if not tracking_error:
            config["constraints"].pop("tracking_error_max", None)
        (folder / name).write_text(yaml.safe_dump(config, sort_keys=False))


def write_universe(case: Case, folder: Path) -> Path:
    """Write the case's files into ``folder`` (created) and return it."""
    folder.mkdir(parents=True, exist_ok=True)
    prices = _write_prices(case, folder / "prices.csv")
    _write_fundamentals(case, folder / "fundamentals.csv")
    _write_holdings(case, prices[-1], folder / "holdings.csv")
    _write_configs(case, folder)
    return folder


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from base_case import base_case

    write_universe(base_case(int(sys.argv[1])), Path(sys.argv[2]))
