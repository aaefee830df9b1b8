"""Build the shipped example account data: synthetic prices, illustrative fundamentals and a sample account.

Two steps:

* ``--calibrate [--source PATH]`` reads real daily adjusted closes (not shipped; by default
  ``../shared/data/etf_prices_adjclose.csv`` relative to the repository root), takes daily log returns of the
  20 ETFs over the last 10 years in which all of them trade, and writes only summary statistics to
  ``calibration.json``: annualized drift (mean log return x 252), annualized volatility (x sqrt 252) and the
  correlation matrix, rounded to 6 decimals.
* default (generate) reads ``calibration.json`` only and writes ``prices.csv``, ``fundamentals.csv`` and
  ``holdings.csv``. Shocks are multivariate normal (Cholesky factor of the calibrated covariance) drawn from
  ``numpy.random.default_rng(SEED)``; fat tails are not modelled. Each path is scaled so its last close lands
  within 1% of a realistic January-2026 level, and closes are rounded to cents.

End-of-series adjustment (deterministic, on the rounded closes as written): Wilder RSI(14) on the last date is
steered by adding one constant to a fund's last few log returns, the constant found by bisection.
The small-cap rally moves the whole small-cap block together, as real markets do: the shift that brings IWM's RSI
to 71.25 over its last 42 returns (about two months) is added to the last 42 returns of IWM, IJR, IWN, IWO and VB
alike (each keeps its own daily noise, so their RSIs differ, as IJR at 69.7 and IWM at 72.1 did in January 2026);
a block member that still ends outside [62, 78] is steered to the nearest edge. Any other fund whose RSI falls
outside [40, 60] gets a shift on its last 20 returns with the nearest edge of that band as target.
SEED was picked once by scanning seeds 20260000-20262999 for paths where, before any adjustment, every other
fund already ends with RSI in [40, 60] and IWM above 60, so that only IWM is adjusted.
Re-running gives byte-identical files.
"""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
CALIBRATION = HERE / "calibration.json"
DEFAULT_SOURCE = HERE.parent.parent / "shared" / "data" / "etf_prices_adjclose.csv"
SEED = 20261762  # see the module docstring for how it was picked
START, END = "2022-07-01", "2026-01-16"
WINDOW_YEARS = 10
RSI_PERIOD = 14
RALLY_SYMBOL, RALLY_DAYS, RALLY_RSI = "IWM", 42, 71.25
RALLY_BLOCK, BLOCK_BAND = ("IWM", "IJR", "IWN", "IWO", "VB"), (62.0, 78.0)
ADJUST_DAYS, RSI_BAND = 20, (40.0, 60.0)
NAV = 1_250_000.0

# Fundamentals are illustrative as of January 2026 (an empty cell stays empty); market_cap is the
# weighted-average constituent market cap in USD; close is the January-2026 level a simulated path ends near.
FUND_TABLE = """
symbol|name|close|market_cap|forward_pe|eps_growth|revenue_growth|sector|size_bucket|asset_class|benchmark_weight|region|style
SPY|SPDR S&P 500 ETF Trust|690|1.0e12|22.5|0.14|0.06|broad_market|large|equity|0.30|us|broad
QQQ|Invesco QQQ Trust|620|1.6e12|27.0|0.17|0.10|broad_market|large|equity|0.05|us|broad
IJH|iShares Core S&P Mid-Cap ETF|66|1.0e10|16.5|0.12|0.05|broad_market|mid|equity|0.05|us|broad
VO|Vanguard Mid-Cap ETF|290|3.0e10|18.5|0.11|0.05|broad_market|mid|equity|0.00|us|broad
IWM|iShares Russell 2000 ETF|255|3.5e9|19.1|0.20|0.04|broad_market|small|equity|0.05|us|broad
IJR|iShares Core S&P Small-Cap ETF|120|2.5e9|16.0|0.18|0.04|broad_market|small|equity|0.00|us|broad
IWN|iShares Russell 2000 Value ETF|180|2.3e9|14.0|0.16|0.035|broad_market|small|equity|0.00|us|broad
IWO|iShares Russell 2000 Growth ETF|320|4.5e9|24.0|0.24|0.045|broad_market|small|equity|0.00|us|broad
VB|Vanguard Small-Cap ETF|260|7.0e9|17.5|0.17|0.04|broad_market|small|equity|0.00|us|broad
XLK|Technology Select Sector SPDR Fund|145|1.5e12|29.0|0.18|0.11|technology|large|equity|0.00|us|sector
XLF|Financial Select Sector SPDR Fund|55|2.5e11|16.0|0.10|0.05|financials|large|equity|0.00|us|sector
XLE|Energy Select Sector SPDR Fund|46|1.5e11|14.5|0.03|0.01|energy|large|equity|0.00|us|sector
XLV|Health Care Select Sector SPDR Fund|155|2.0e11|17.5|0.09|0.06|health_care|large|equity|0.00|us|sector
XLI|Industrial Select Sector SPDR Fund|155|9.0e10|22.5|0.11|0.05|industrials|large|equity|0.00|us|sector
EFA|iShares MSCI EAFE ETF|95|7.0e10|14.5|0.08|0.04|international|large|equity|0.10|developed|broad
EEM|iShares MSCI Emerging Markets ETF|55|9.0e10|12.5|0.13|0.07|international|large|equity|0.05|emerging|broad
AGG|iShares Core U.S. Aggregate Bond ETF|100|||||fixed_income|none|bond|0.20|none|none
TLT|iShares 20+ Year Treasury Bond ETF|88|||||fixed_income|none|bond|0.05|none|none
IEF|iShares 7-10 Year Treasury Bond ETF|96|||||fixed_income|none|bond|0.10|none|none
GLD|SPDR Gold Shares|410|||||commodities|none|commodity|0.05|none|none
"""
HEADER, *ROWS = (line.split("|") for line in FUND_TABLE.strip().splitlines())
FUNDS = {row[0]: dict(zip(HEADER, row, strict=True)) for row in ROWS}
SYMBOLS = list(FUNDS)
# Account weights of NAV: near the benchmark but drifted (IWM up after its rally, no XLE or VO, sector bets).
ACCOUNT = {"SPY": 0.285, "QQQ": 0.05, "IJH": 0.045, "IWM": 0.07, "EFA": 0.085, "EEM": 0.046, "AGG": 0.18,
           "TLT": 0.04, "IEF": 0.09, "GLD": 0.05, "XLK": 0.02, "XLV": 0.015}


def wilder_rsi(closes: np.ndarray, period: int = RSI_PERIOD) -> float:
    """Wilder RSI on the last close: seeded with the simple mean of the first ``period`` changes."""
    change = np.diff(closes)
    gain, loss = np.clip(change, 0, None), np.clip(-change, 0, None)
    avg_gain, avg_loss = gain[:period].mean(), loss[:period].mean()
    for g, lo in zip(gain[period:], loss[period:], strict=True):
        avg_gain = (avg_gain * (period - 1) + g) / period
        avg_loss = (avg_loss * (period - 1) + lo) / period
    return 100.0 if avg_loss == 0 else float(100 - 100 / (1 + avg_gain / avg_loss))


def calibrate(source: Path) -> None:
    """Write drift, volatility and correlation of the 20 ETFs' daily log returns to ``calibration.json``."""
    prices = pd.read_csv(source, index_col="Date", parse_dates=True)[SYMBOLS].dropna()
    end = prices.index[-1]
    window = prices.loc[prices.index >= end - pd.DateOffset(years=WINDOW_YEARS)]
    returns = np.log(window).diff().dropna()
    result = {
        "source": f"{source.name} (daily adjusted closes; statistics only, the prices are not shipped)",
        "window": {"start": window.index[0].date().isoformat(), "end": end.date().isoformat(),
                   "returns": len(returns)},
        "method": "daily log returns; drift = mean x 252, volatility = std x sqrt(252); shocks are normal",
        "symbols": SYMBOLS,
        "drift": {s: round(float(returns[s].mean() * 252), 6) for s in SYMBOLS},
        "volatility": {s: round(float(returns[s].std() * np.sqrt(252)), 6) for s in SYMBOLS},
    }
    correlation = [[round(float(x), 6) for x in row] for row in returns.corr().to_numpy()]
    lines = [f" {json.dumps(key)}: {json.dumps(value)}" for key, value in result.items()]
    lines.append(' "correlation": [\n  ' + ",\n  ".join(json.dumps(row) for row in correlation) + "\n ]")
    CALIBRATION.write_text("{\n" + ",\n".join(lines) + "\n}\n", newline="\n")
    print(f"wrote {CALIBRATION.name}: window {result['window']}")


def path_closes(log_returns: np.ndarray, final: float, shift: float, days: int) -> np.ndarray:
    """Cent-rounded closes of one fund: ``shift`` added to its last ``days`` log returns, last ``final``."""
    adjusted = log_returns.copy()
    adjusted[-days:] += shift
    level = np.concatenate([[0.0], np.cumsum(adjusted)])
    closes: np.ndarray = np.round(final * np.exp(level - level[-1]), 2)
    return closes


def steer(log_returns: np.ndarray, final: float, days: int, target: float) -> float:
    """Bisect the shift of the last ``days`` log returns that brings the final RSI to ``target``."""
    low, high = -0.03, 0.03
    for _ in range(60):
        mid = (low + high) / 2
        if wilder_rsi(path_closes(log_returns, final, mid, days)) < target:
            low = mid
        else:
            high = mid
    return (low + high) / 2


def generate() -> None:
    """Simulate the prices from ``calibration.json`` and write prices, fundamentals and holdings."""
    cal = json.loads(CALIBRATION.read_text())
    if cal["symbols"] != SYMBOLS:
        raise SystemExit("calibration.json lists other symbols; re-run with --calibrate")
    drift = np.array([cal["drift"][s] for s in SYMBOLS]) / 252
    vol = np.array([cal["volatility"][s] for s in SYMBOLS]) / np.sqrt(252)
    cov = np.outer(vol, vol) * np.array(cal["correlation"])
    dates = pd.bdate_range(START, END)
    rng = np.random.default_rng(SEED)
    shocks = rng.standard_normal((len(dates) - 1, len(SYMBOLS))) @ np.linalg.cholesky(cov).T
    levels = np.array([float(FUNDS[s]["close"]) for s in SYMBOLS])
    finals = levels * (1 + rng.uniform(-0.01, 0.01, len(SYMBOLS)))
    log_returns = drift + shocks  # the calibrated drift is already a mean log return

    closes: dict[str, np.ndarray] = {}
    lead = SYMBOLS.index(RALLY_SYMBOL)
    rally = steer(log_returns[:, lead], float(finals[lead]), RALLY_DAYS, RALLY_RSI)
    for j, symbol in enumerate(SYMBOLS):
        r, final = log_returns[:, j], float(finals[j])
        if symbol in RALLY_BLOCK:
            days, shift = RALLY_DAYS, rally
            raw = wilder_rsi(path_closes(r, final, rally, days))
            target = min(max(raw, BLOCK_BAND[0]), BLOCK_BAND[1])
            shift = rally if target == raw or symbol == RALLY_SYMBOL else steer(r, final, days, target)
        else:
            days, raw = ADJUST_DAYS, wilder_rsi(path_closes(r, final, 0.0, ADJUST_DAYS))
            target = min(max(raw, RSI_BAND[0]), RSI_BAND[1])
            shift = 0.0 if target == raw else steer(r, final, days, target)
        closes[symbol] = path_closes(r, final, shift, days)
        rsi = wilder_rsi(closes[symbol])
        ok = (70.5 <= rsi <= 72.0 if symbol == RALLY_SYMBOL else BLOCK_BAND[0] - 0.5 <= rsi <= BLOCK_BAND[1] + 0.5
              if symbol in RALLY_BLOCK else 35 < rsi < 65)
        if not ok:
            raise SystemExit(f"{symbol}: final RSI {rsi:.2f} outside its range")
        print(f"{symbol:4s} close {closes[symbol][-1]:8.2f}  RSI(14) {rsi:6.2f}  shift {shift:+.5f} x {days}")

    with (HERE / "prices.csv").open("w", newline="") as f:
        f.write("date," + ",".join(SYMBOLS) + "\n")
        for i, day in enumerate(dates):
            f.write(day.date().isoformat() + "," + ",".join(f"{closes[s][i]:.2f}" for s in SYMBOLS) + "\n")

    with (HERE / "fundamentals.csv").open("w", newline="") as f:
        out = csv.writer(f, lineterminator="\n")
        columns = [c for c in HEADER if c != "close"]
        out.writerow(columns)
        for fund in FUNDS.values():
            cap = fund["market_cap"]
            out.writerow([f"{float(cap):.0f}" if c == "market_cap" and cap else fund[c] for c in columns])

    shares = {s: round(w * NAV / closes[s][-1]) for s, w in ACCOUNT.items()}
    cash = NAV - sum(q * closes[s][-1] for s, q in shares.items())
    with (HERE / "holdings.csv").open("w", newline="") as f:
        f.write("symbol,quantity\n" + "".join(f"{s},{q}\n" for s, q in shares.items()) + f"CASH,{cash:.2f}\n")
    print(f"wrote prices.csv ({len(dates)} rows), fundamentals.csv, holdings.csv (cash {cash:.2f})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calibrate", action="store_true", help="compute calibration.json from real prices")
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE, help="wide CSV of daily adj. closes")
    args = parser.parse_args()
    if args.calibrate:
        calibrate(args.source)
    else:
        generate()


if __name__ == "__main__":
    main()
