"""The floor of ``allocate run`` on a universe of bench/universe_files.py: the least work from files to weights.

``python bench/cli_floor.py FOLDER [CONFIG]`` (``config.yaml`` by default) does, in one fresh process: the imports
(numpy, pandas, scipy.sparse, Clarabel, PyYAML and allocate's PCA), pandas' C-engine read of the price file (and
of the small fundamentals and holdings files), daily returns and their PCA factor model (allocate's
``statistical_factor_model``, the config's factor count), the limits of the config (bench/limits.py) and one
direct Clarabel solve (bench/clarabel_direct.py). The expected returns are the annualized mean returns and no RSI
trim applies: the floor stops short of the signals, views and RSI rules ``allocate run`` computes, and of
rounding to trades and writing outputs. Prints one JSON line: the seconds of each stage.
"""

from __future__ import annotations

import time

STARTED = time.perf_counter()

import json  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))

import clarabel  # noqa: E402, F401
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import scipy.sparse  # noqa: E402, F401
import yaml  # noqa: E402
from clarabel_direct import solve_clarabel  # noqa: E402
from limits import problem_limits  # noqa: E402

from allocator.model.factor_models import statistical_factor_model  # noqa: E402


def main(folder: Path, config_name: str) -> dict[str, float]:
    imported = time.perf_counter()
    settings = yaml.safe_load((folder / config_name).read_text())
    prices = pd.read_csv(folder / settings["data"]["prices"], index_col=0, engine="c")
    fundamentals = pd.read_csv(folder / settings["data"]["fundamentals"], index_col="symbol", engine="c")
    holdings = pd.read_csv(folder / "holdings.csv", index_col="symbol", engine="c")["quantity"]
    read = time.perf_counter()
    values = prices.to_numpy(dtype=np.float64)
    returns = values[1:] / values[:-1] - 1.0
    symbols = tuple(prices.columns)
    risk = statistical_factor_model(returns, symbols, int(settings["risk"].get("factors", 10)))
    estimated = time.perf_counter()
    last = pd.Series(values[-1], index=prices.columns)
    cash = float(holdings.get("CASH", 0.0))
    held = holdings.drop("CASH", errors="ignore").reindex(prices.columns, fill_value=0.0) * last
    nav = float(held.sum()) + cash
    info = fundamentals.reindex(prices.columns)
    labels = {key: tuple(info[key].astype(str).str.lower()) for key in ("sector", "size_bucket", "asset_class")}
    problem = problem_limits(settings, symbols, labels, returns.mean(axis=0) * 252.0,
                             info["benchmark_weight"].to_numpy(dtype=np.float64), (held / nav).to_numpy(),
                             cash / nav, np.full(len(symbols), 50.0))
    result = solve_clarabel(problem, risk)
    solved = time.perf_counter()
    return {"imports": imported - STARTED, "read": read - imported, "estimation": estimated - read,
            "limits": solved - estimated - result["build"] - result["solve"], "build": result["build"],
            "solve": result["solve"], "total": solved - STARTED, "cash": 1.0 - float(result["weights"].sum())}


if __name__ == "__main__":
    print(json.dumps(main(Path(sys.argv[1]), sys.argv[2] if len(sys.argv) > 2 else "config.yaml")))
