"""The real-data backtest of docs/backtest.md: monthly, 2006 to 2026, on the example universe's 20 ETFs, every
strategy; writes docs/backtest_equity.png and prints the metrics table (Markdown) for the page.

Usage: python scripts/backtest_real_data.py PRICES_CSV [OUT_DIR]

PRICES_CSV is a wide file of daily adjusted closes holding the example's 20 ETFs (for instance the test data's
``etf_prices_adjclose.csv``). The fundamentals are the example's snapshot, used for every date
(``backtest.static_fundamentals: true``): a look-ahead, named in every output.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CONFIG = """extends: {base}
data: {{prices: {prices}, fundamentals: {fundamentals}}}
backtest: {{static_fundamentals: true, start: 2006-01-01, every: monthly, fill: next_close, workers: 2}}
"""
SHOWN = (("cagr", "CAGR", True), ("volatility", "volatility", True), ("sharpe", "Sharpe", False),
         ("max_drawdown", "max drawdown", True), ("cvar_95", "CVaR 95%", True), ("turnover", "turnover", True),
         ("costs", "costs", True), ("excess_return", "excess vs benchmark (rebalanced)", True))


def real_data_config(folder: Path, prices: Path) -> Path:
    """A config for the real-data backtest in ``folder``: the shipped base config on ``prices``."""
    import pandas as pd

    universe = pd.read_csv(ROOT / "examples" / "fundamentals.csv")["symbol"].tolist()
    closes = pd.read_csv(prices)
    date = closes.columns[0]
    closes = closes[[date, *universe]].rename(columns={date: "date"})
    closes.to_csv(folder / "prices.csv", index=False)
    config = folder / "backtest.yaml"
    config.write_text(CONFIG.format(base=ROOT / "configs" / "base.yaml", prices=folder / "prices.csv",
                                    fundamentals=ROOT / "examples" / "fundamentals.csv"))
    return config


def markdown_table(metrics: dict[str, dict[str, float | None]]) -> str:
    head = "| strategy | " + " | ".join(label for _, label, _ in SHOWN) + " |"
    lines = [head, "|---" * (len(SHOWN) + 1) + "|"]
    for name, values in metrics.items():
        cells = []
        for key, _, percent in SHOWN:
            value = values.get(key)
            cells.append("" if value is None else f"{100 * value:.2f}%" if percent else f"{value:.2f}")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(prices: Path, out_dir: Path) -> None:
    import json

    from allocator.backtest.request import BacktestRequest
    from allocator.backtest.session import run_backtest_command

    with tempfile.TemporaryDirectory() as folder:
        config = real_data_config(Path(folder), prices)
        started = time.perf_counter()
        run_backtest_command(BacktestRequest(config=config), out_dir, force=True)
        seconds = time.perf_counter() - started
    metrics = json.loads((out_dir / "metrics.json").read_text())
    shutil.copyfile(out_dir / "equity.png", ROOT / "docs" / "backtest_equity.png")
    print(markdown_table(metrics["strategies"]))
    print(f"\n{metrics['start']} .. {metrics['end']}, {metrics['rebalances']} rebalances, {seconds:.0f} s")
    print(json.dumps(metrics["rules"], indent=1))


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]) if len(sys.argv) > 2 else ROOT / "out" / "backtest-real")
