"""A large synthetic account for timing ``allocate run`` end to end: prices, fundamentals, holdings and a config.

``write_universe(folder, assets)`` writes, seeded and deterministic for a given size:

- ``prices.csv`` (or ``prices.parquet``): 800 business days of closes (4 decimals) for ``assets`` symbols
  ``S00000``..., from a market factor, 11 sector factors and specific noise (Student-t, 5 degrees of freedom);
  about a fifth of the symbols are bonds (low volatility, nearly uncorrelated with the equities);
- ``fundamentals.csv``: lognormal market caps, P/E and growth, sector, size bucket, asset class, region, style,
  and the benchmark weight (market-cap weights, 63% equities and 35% bonds, 2% cash);
- ``holdings.csv``: the benchmark held with noise on a NAV of 50,000 USD per asset, plus 2% cash;
- ``config.yaml``: ``configs/base.yaml`` with the data paths pointing here and the risk model a 10-factor PCA
  (what the docs advise for a large universe); its limits kept, the tracking-error limit dropped unless
  ``tracking_error``.

Run as a script: ``python bench/large_universe.py FOLDER --assets 20000 [--tracking-error] [--parquet]``, then
``allocate run FOLDER/holdings.csv -c FOLDER/config.yaml -o OUT``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

ROOT = Path(__file__).resolve().parent.parent
DAYS = 800
SECTORS = ("communication", "consumer_discretionary", "consumer_staples", "energy", "financials", "health_care",
           "industrials", "materials", "real_estate", "technology", "utilities")
# technology is kept small so that the base config's cap of 8% on it leaves room to move
SECTOR_SHARE = np.array([0.10, 0.12, 0.08, 0.06, 0.14, 0.14, 0.14, 0.06, 0.06, 0.04, 0.06])
BOND_SHARE = 0.2  # of the symbols
EQUITY_WEIGHT, BOND_WEIGHT = 0.63, 0.35  # of the benchmark; the rest is cash
NAV_PER_ASSET = 50_000.0  # USD


def _student_t(rng: np.random.Generator, size: tuple[int, ...]) -> np.ndarray:
    """Unit-variance Student-t draws (5 degrees of freedom)."""
    return np.asarray(rng.standard_t(5.0, size=size) / np.sqrt(5.0 / 3.0))


def _frames(assets: int, seed: int) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Closes (days x assets), fundamentals (one row per symbol) and holdings (symbol, quantity, and CASH)."""
    rng = np.random.default_rng([seed, assets])
    symbols = [f"S{i:05d}" for i in range(assets)]
    bond = rng.random(assets) < BOND_SHARE
    sector = rng.choice(len(SECTORS), size=assets, p=SECTOR_SHARE)
    factors = _student_t(rng, (DAYS, 1 + len(SECTORS))) * np.array([0.010, *[0.005] * len(SECTORS)])
    beta = np.where(bond, 0.05, 1.0 + 0.25 * rng.standard_normal(assets))
    equity_returns = factors[:, 0:1] * beta + factors[:, 1:][:, sector] * (~bond)
    specific = _student_t(rng, (DAYS, assets)) * np.where(bond, 0.003, rng.uniform(0.008, 0.02, assets))
    returns = np.clip(equity_returns + specific + 0.0002, -0.3, 0.3)
    start = rng.uniform(20.0, 300.0, assets)
    closes = np.round(start * np.cumprod(1.0 + returns, axis=0), 4)
    dates = pd.bdate_range(end="2025-12-31", periods=DAYS)
    prices = pd.DataFrame(closes, index=pd.Index(dates.strftime("%Y-%m-%d"), name="date"), columns=symbols)

    market_cap = np.exp(rng.normal(np.log(8e9), 1.3, assets))
    weight = np.where(bond, 0.0, market_cap)
    benchmark = np.where(bond, BOND_WEIGHT / max(int(bond.sum()), 1), EQUITY_WEIGHT * weight / weight.sum())
    size = np.where(bond, "none", np.where(market_cap >= 2e10, "large", np.where(market_cap >= 5e9, "mid", "small")))
    fundamentals = pd.DataFrame({
        "symbol": symbols, "name": [f"Synthetic {s}" for s in symbols],
        "market_cap": np.where(bond, np.nan, np.round(market_cap, -3)),
        "forward_pe": np.where(bond, np.nan, np.round(rng.uniform(8.0, 40.0, assets), 2)),
        "eps_growth": np.where(bond, np.nan, np.round(rng.normal(0.10, 0.08, assets), 4)),
        "revenue_growth": np.where(bond, np.nan, np.round(rng.normal(0.05, 0.04, assets), 4)),
        "sector": np.where(bond, "fixed_income", np.array(SECTORS)[sector]),
        "size_bucket": size, "asset_class": np.where(bond, "bond", "equity"),
        "benchmark_weight": np.round(benchmark, 12),
        "region": np.where(bond, "none", np.where(rng.random(assets) < 0.7, "us", "developed")),
        "style": np.where(bond, "none", "broad")})

    nav = NAV_PER_ASSET * assets
    held = benchmark * np.exp(0.2 * rng.standard_normal(assets))
    quantity = np.floor(0.98 * nav * held / held.sum() / closes[-1])
    value = float(quantity @ closes[-1])
    holdings = pd.DataFrame({"symbol": [*symbols, "CASH"],
                             "quantity": [*(f"{q:.0f}" for q in quantity), f"{0.02 * value / 0.98:.2f}"]})
    return prices, fundamentals, holdings


def write_universe(folder: str | Path, assets: int, *, tracking_error: bool = False, parquet: bool = False,
                   seed: int = 7) -> Path:
    """Write the account's four files into ``folder`` (created) and return the path of its ``config.yaml``."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    prices, fundamentals, holdings = _frames(assets, seed)
    price_file = folder / ("prices.parquet" if parquet else "prices.csv")
    if parquet:
        prices.reset_index().to_parquet(price_file, index=False)
    else:
        prices.to_csv(price_file, float_format="%.4f")
    fundamentals.to_csv(folder / "fundamentals.csv", index=False)
    holdings.to_csv(folder / "holdings.csv", index=False)
    config = yaml.safe_load((ROOT / "configs" / "base.yaml").read_text())
    config["data"].update(prices=price_file.name, fundamentals="fundamentals.csv", on_split="warn")  # fat tails
    config["orders"]["journal"] = "orders.sqlite"
    config["risk"]["model"] = "pca"
    if not tracking_error:
        del config["constraints"]["tracking_error_max"]
    path = folder / "config.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--assets", type=int, default=3000)
    parser.add_argument("--tracking-error", action="store_true", help="keep base.yaml's tracking-error limit")
    parser.add_argument("--parquet", action="store_true", help="write the closes as prices.parquet")
    args = parser.parse_args()
    print(write_universe(args.folder, args.assets, tracking_error=args.tracking_error, parquet=args.parquet))


if __name__ == "__main__":
    main()
