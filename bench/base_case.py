"""The benchmark problem: the limits of ``configs/base.yaml`` on a seeded synthetic universe of n assets.

Universe (``base_case``): the returns, sectors, market caps and expected returns of ``synthetic.synthetic_case``
(756 days, 15 factors). Three assets in ten are bonds (sector ``fixed_income``, asset class ``bond``: returns and
expected returns scaled by 0.3); the equities are split into size buckets by market-cap tercile. The benchmark
holds 35% in bonds (by market cap) and 65% in equities, 7% of it in technology; the account holds the benchmark
(``w0 = (1 - c0) b``) with cash ``c0`` at the file's cash floor.

Limits: those of the file (bench/limits.py), read when the bench runs. Not carried: ``rsi.scope: correlated`` (no
adds to assets whose return correlation with an overbought one is above 0.9) and everything that shapes the
expected returns: the bench gives every method the same ``mu``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from limits import Problem, problem_limits
from synthetic import capped_weights, synthetic_case

from allocator.domain import FloatArray
from allocator.model.rsi import wilder_rsi

BASE_CONFIG = Path(__file__).resolve().parents[1] / "configs" / "base.yaml"
BOND_SHARE = 0.35  # of the benchmark
TECHNOLOGY_SHARE = 0.07  # of the benchmark
BOND_SCALE = 0.3  # bonds' returns and expected returns, against the synthetic equities'


@dataclass(frozen=True)
class Case:
    """A synthetic universe (returns and labels) and its problem."""

    returns: FloatArray  # days x assets, simple daily returns
    sector: tuple[str, ...]
    size_bucket: tuple[str, ...]
    asset_class: tuple[str, ...]
    market_cap: FloatArray  # NaN for bonds
    problem: Problem


def base_settings(path: Path = BASE_CONFIG) -> dict[str, Any]:
    """The raw YAML of a config file (``configs/base.yaml`` by default)."""
    settings: dict[str, Any] = yaml.safe_load(path.read_text())
    return settings


def last_rsi(returns: FloatArray, period: int) -> FloatArray:
    """Each asset's RSI on the last day, from its daily returns."""
    closes = np.cumprod(1.0 + returns[-(4 * period + 1):], axis=0)
    result: FloatArray = wilder_rsi(closes, period)[-1]
    return result


def base_case(assets: int, seed: int = 42, settings: dict[str, Any] | None = None) -> Case:
    """The bench universe of ``assets`` assets under the limits of ``settings`` (configs/base.yaml by default);
    deterministic for a given seed and size."""
    settings = base_settings() if settings is None else settings
    synthetic = synthetic_case(assets, seed=seed)
    bond = np.arange(assets) % 10 < 3
    returns = np.where(bond, BOND_SCALE * synthetic.returns, synthetic.returns)
    mu = np.where(bond, BOND_SCALE * synthetic.mu, synthetic.mu)
    sector = tuple("fixed_income" if b else s for b, s in zip(bond, synthetic.sector, strict=True))
    cap = np.where(bond, np.nan, synthetic.market_cap)
    equity_caps = cap[~bond]
    small, large = np.quantile(equity_caps, [1 / 3, 2 / 3])
    size_bucket = tuple("none" if b else "small" if c <= small else "large" if c > large else "mid"
                        for b, c in zip(bond, cap, strict=True))
    technology = np.array(sector) == "technology"
    benchmark = np.zeros(assets)
    for mask, share in ((bond, BOND_SHARE), (~bond & technology, TECHNOLOGY_SHARE),
                        (~bond & ~technology, 1.0 - BOND_SHARE - TECHNOLOGY_SHARE)):
        if mask.any():
            benchmark[mask] = share * capped_weights(synthetic.market_cap[mask], 0.5)
    benchmark /= benchmark.sum()
    cash = float((settings.get("constraints") or {}).get("cash_min", 0.0))
    current = (1.0 - cash) * benchmark
    period = int((settings.get("rsi") or {}).get("period", 14))
    labels = {"sector": sector, "size_bucket": size_bucket,
              "asset_class": tuple("bond" if b else "equity" for b in bond)}
    problem = problem_limits(settings, synthetic.symbols, labels, mu, benchmark, current, cash,
                             last_rsi(returns, period))
    return Case(returns=returns, sector=sector, size_bucket=size_bucket, asset_class=labels["asset_class"],
                market_cap=cap, problem=problem)
