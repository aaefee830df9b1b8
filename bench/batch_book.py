"""A seeded book of accounts over three models, for ``allocate batch`` (``bench/batch.py``, docs/batch.md).

Writes to a folder: ``prices.csv`` (synthetic daily closes of ``assets`` funds, correlated log-normal returns from
``numpy.random.default_rng(seed)``), ``fundamentals.csv``, three model configs in ``models/`` (conservative,
balanced, growth: risk aversion and bond range differ), ``holdings.csv`` (every account, an ``account`` column)
and ``accounts.csv`` (each account's model, and for some a cash target, a restricted symbol, a mode or a band).
Each account holds its model's benchmark with noise, so some sit inside their band and are left untouched.

    python bench/batch_book.py --accounts 10000 --out /tmp/book
    allocate batch /tmp/book/holdings.csv --accounts /tmp/book/accounts.csv -o /tmp/book-out
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

MODELS = {"conservative": (6.0, 0.40, 0.70), "balanced": (3.0, 0.20, 0.50), "growth": (1.5, 0.05, 0.30)}
DAYS = 300


def write_book(out: Path, accounts: int, assets: int = 50, seed: int = 42) -> Path:
    """Write the book (see the module docstring) into ``out``; returns ``out``."""
    rng = np.random.default_rng(seed)
    out.mkdir(parents=True, exist_ok=True)
    (out / "models").mkdir(exist_ok=True)
    symbols = [f"F{i:03d}" for i in range(assets)]
    bonds = max(assets // 4, 1)
    kind = ["bond" if i < bonds else "equity" for i in range(assets)]
    factor = rng.normal(0.0, 0.01, size=(DAYS, 1))
    beta = np.where(np.array(kind) == "bond", 0.1, 1.0)
    daily = factor * beta + rng.normal(0.0003, 0.008, size=(DAYS, assets)) * np.where(beta < 1, 0.4, 1.0)
    start = rng.uniform(20.0, 400.0, size=assets)
    closes = start * np.exp(np.cumsum(daily, axis=0))
    dates = np.busday_offset("2024-01-01", np.arange(DAYS), roll="forward")
    lines = ["date," + ",".join(symbols)]
    lines += [f"{d}," + ",".join(f"{p:.2f}" for p in row) for d, row in zip(dates, closes, strict=True)]
    (out / "prices.csv").write_text("\n".join(lines) + "\n")
    caps = rng.lognormal(23.0, 1.5, size=assets)
    weight = caps / caps.sum()
    sectors = ["technology", "health", "financials", "energy", "industrials"]
    rows = ["symbol,market_cap,forward_pe,eps_growth,revenue_growth,sector,size_bucket,asset_class,benchmark_weight"]
    for i, s in enumerate(symbols):
        bucket = "small" if caps[i] < np.quantile(caps, 0.3) else "large"
        sector = "bonds" if kind[i] == "bond" else sectors[i % len(sectors)]
        rows.append(f"{s},{caps[i]:.0f},{rng.uniform(10, 30):.1f},{rng.normal(0.08, 0.05):.3f},"
                    f"{rng.normal(0.05, 0.03):.3f},{sector},{bucket},{kind[i]},{weight[i]:.8f}")
    (out / "fundamentals.csv").write_text("\n".join(rows) + "\n")
    for name, (gamma, bond_min, bond_max) in MODELS.items():
        (out / "models" / f"{name}.yaml").write_text(
            "data: {prices: ../prices.csv, fundamentals: ../fundamentals.csv}\n"
            "returns: {prior: equilibrium}\n"
            f"risk: {{model: ledoit_wolf, lookback_days: 250, risk_aversion: {gamma}}}\n"
            "constraints:\n  max_weight: 0.15\n  cash_min: 0.01\n  cash_max: 0.05\n  turnover_max: 0.30\n"
            f"  groups: [{{by: asset_class, name: bond, min: {bond_min}, max: {bond_max}}}]\n"
            "trading: {cost_bps: 3, lot_size: 1, min_trade_value: 100}\n")
    names = list(MODELS)
    holdings = ["account,symbol,quantity"]
    table = ["account,model,cash_target,restricted,lot_size,mode,band"]
    last = closes[-1]
    for a in range(accounts):
        account = f"A{a:06d}"
        model = names[a % len(names)]
        nav = float(rng.lognormal(12.0, 0.8))
        noise = rng.dirichlet(np.full(assets, 2.0))
        mix = 0.9 if a % 2 else 0.6  # half the book close to the benchmark, half further away
        held = (mix * weight + (1 - mix) * noise) * nav * 0.97
        quantity = np.floor(held / last)
        for s, q in zip(symbols, quantity, strict=True):
            if q > 0:
                holdings.append(f"{account},{s},{q:.0f}")
        holdings.append(f"{account},CASH,{nav - float(quantity @ last):.2f}")
        cash = "0.03" if a % 7 == 0 else ""
        restricted = symbols[bonds + a % (assets - bonds)] if a % 11 == 0 else ""
        mode = "invest" if a % 13 == 0 and model != "conservative" else ""
        band = ("0.02" if a % 3 == 0 else "0.25 relative") if a % 2 else "0.10 total"
        table.append(f"{account},models/{model}.yaml,{cash},{restricted},,{mode},{band}")
    (out / "holdings.csv").write_text("\n".join(holdings) + "\n")
    (out / "accounts.csv").write_text("\n".join(table) + "\n")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--accounts", type=int, default=10_000)
    parser.add_argument("--assets", type=int, default=50)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    print(write_book(args.out, args.accounts, args.assets, args.seed))


if __name__ == "__main__":
    main()
