"""The benchmark problem: seeded, factor-structured synthetic returns and one long-only allocation problem.

Returns: 3 years (756 days) of daily returns for n assets from 15 factors (market, 11 sectors, size, value,
momentum) plus specific noise, both Student-t with 5 degrees of freedom; market caps are lognormal.

Problem (the same for every method):

    maximize    mu'w - (gamma/2) w' Sigma w                 gamma = 2.5, mu and Sigma annualized
    subject to  sum(w) = 1,  0 <= w_i <= max_weight          long only, fully invested, max weight 5%
                sum of each sector's weights <= its cap       11 sector caps: benchmark weight + 5 points
                0.5 * sum |w - w0| <= 0.20                    one-way turnover from the current weights w0

``w0`` is the benchmark (market-cap weights capped at ``max_weight``). At 20 assets a 5% cap would force equal
weights, so the cap is ``max(5%, 2.5 / n)`` (12.5% at 20 assets, 5% from 50 up). ``mu`` is a CAPM-like prior
plus a standardized signal: ``0.06 beta + 0.04 z`` (annualized). ``Sigma`` is whatever risk model the caller
estimates from the returns; every method is given the same one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from allocator.domain import FloatArray
from allocator.model.rsi import RsiLimits
from allocator.optimize.constraints import GroupBound, Limits

DAYS = 756
GAMMA = 2.5
TURNOVER_MAX = 0.20
SECTORS = ("communication", "consumer_discretionary", "consumer_staples", "energy", "financials", "health_care",
           "industrials", "materials", "real_estate", "technology", "utilities")
SECTOR_SHARE = np.array([0.09, 0.10, 0.06, 0.04, 0.13, 0.12, 0.13, 0.05, 0.03, 0.20, 0.05])
SECTOR_HEADROOM = 0.05


@dataclass(frozen=True)
class Case:
    """One benchmark problem: daily returns in, and everything the optimizer needs besides Sigma."""

    returns: FloatArray  # days x assets, simple daily returns
    symbols: tuple[str, ...]
    sector: tuple[str, ...]
    market_cap: FloatArray
    mu: FloatArray  # annualized
    benchmark: FloatArray
    current: FloatArray  # w0
    max_weight: float
    sector_caps: dict[str, float]
    gamma: float = GAMMA
    turnover_max: float | None = TURNOVER_MAX

    @property
    def assets(self) -> int:
        return len(self.symbols)

    def sector_members(self) -> tuple[tuple[str, ...], FloatArray]:
        """Sector names (those present) and their membership matrix (sectors x assets, 0/1)."""
        names = tuple(s for s in SECTORS if s in set(self.sector))
        labels = np.array(self.sector)
        return names, np.array([labels == name for name in names], dtype=np.float64)

    def without_turnover(self) -> Case:
        return Case(self.returns, self.symbols, self.sector, self.market_cap, self.mu, self.benchmark,
                    self.current, self.max_weight, self.sector_caps, self.gamma, None)


def _student_t(rng: np.random.Generator, size: tuple[int, ...], dof: float = 5.0) -> FloatArray:
    """Unit-variance Student-t draws."""
    return np.asarray(rng.standard_t(dof, size=size) / np.sqrt(dof / (dof - 2.0)), dtype=np.float64)


def capped_weights(raw: FloatArray, cap: float) -> FloatArray:
    """Proportional weights summing to 1 with none above ``cap`` (the excess is spread over the others)."""
    weights = raw / raw.sum()
    for _ in range(len(raw)):
        over = weights > cap
        if not over.any():
            break
        free = ~over & (weights < cap)
        excess = float((weights[over] - cap).sum())
        weights[over] = cap
        weights[free] += excess * weights[free] / weights[free].sum()
    return weights


def synthetic_case(assets: int, days: int = DAYS, seed: int = 42) -> Case:
    """The benchmark problem at ``assets`` assets (deterministic for a given seed and size)."""
    rng = np.random.default_rng([seed, assets])
    sector_index = np.concatenate([np.arange(min(assets, len(SECTORS))),
                                   rng.choice(len(SECTORS), size=max(assets - len(SECTORS), 0), p=SECTOR_SHARE)])
    log_cap = rng.normal(np.log(10e9), 1.4, size=assets)
    size = (log_cap - log_cap.mean()) / log_cap.std()
    beta = 1.0 + 0.25 * rng.standard_normal(assets)
    loadings = np.zeros((assets, 15))
    loadings[:, 0] = beta
    loadings[np.arange(assets), 1 + sector_index] = 1.0 + 0.2 * rng.standard_normal(assets)
    loadings[:, 12] = -size
    loadings[:, 13:] = rng.standard_normal((assets, 2))
    factor_vol = np.array([0.010, *([0.006] * 11), 0.003, 0.003, 0.004])
    factor_returns = _student_t(rng, (days, 15)) * factor_vol + 0.0003 * (np.arange(15) == 0)
    specific_vol = rng.uniform(0.010, 0.025, size=assets)
    returns = factor_returns @ loadings.T + _student_t(rng, (days, assets)) * specific_vol
    signal = rng.standard_normal(assets)
    mu = 0.06 * beta + 0.04 * (signal - signal.mean()) / signal.std()
    max_weight = max(0.05, 2.5 / assets)
    benchmark = capped_weights(np.exp(log_cap), max_weight)
    sector = tuple(SECTORS[i] for i in sector_index)
    labels = np.array(sector)
    caps = {name: min(1.0, float(benchmark[labels == name].sum()) + SECTOR_HEADROOM)
            for name in SECTORS if (labels == name).any()}
    symbols = tuple(f"S{i:04d}" for i in range(assets))
    return Case(returns=returns, symbols=symbols, sector=sector, market_cap=np.exp(log_cap), mu=mu,
                benchmark=benchmark, current=benchmark.copy(), max_weight=max_weight, sector_caps=caps)


def allocate_limits(case: Case, max_weight: float | None = None, sector_caps: dict[str, float] | None = None,
                    turnover_max: float | None = None) -> Limits:
    """The case's limits in allocate's terms (fully invested: cash fixed at 0; no costs, no RSI rules)."""
    n = case.assets
    cap = case.max_weight if max_weight is None else max_weight
    caps = case.sector_caps if sector_caps is None else sector_caps
    names, members = case.sector_members()
    groups = tuple(GroupBound(key=f"sector[{name}]", label=f"sector {name}", members=members[i].astype(bool),
                              lower=-np.inf, upper=caps[name], relative=False) for i, name in enumerate(names))
    free = np.full(n, np.inf)
    return Limits(
        symbols=case.symbols, current=case.current, current_cash=0.0, benchmark=case.benchmark, cost=np.zeros(n),
        position_lower=np.zeros(n), position_upper=np.full(n, cap),
        active_lower=-free, active_upper=free, rsi=RsiLimits(np.full(n, 50.0), -free, free, ()), groups=groups,
        budget=1.0, cash_lower=0.0, cash_upper=0.0, tracking_error_max=None,
        turnover_max=case.turnover_max if turnover_max is None else turnover_max, turnover_forced=0.0)


def objective(case: Case, sigma_times: FloatArray, weights: FloatArray) -> float:
    """``mu'w - (gamma/2) w'Sigma w`` given ``sigma_times = Sigma @ w``."""
    return float(case.mu @ weights - 0.5 * case.gamma * weights @ sigma_times)


def violation(case: Case, weights: FloatArray) -> float:
    """The largest violation of the case's constraints by ``weights`` (0 when every one holds)."""
    names, members = case.sector_members()
    caps = np.array([case.sector_caps[name] for name in names])
    checks = [abs(float(weights.sum()) - 1.0), float(-weights.min()), float(weights.max() - case.max_weight),
              float(np.max(members @ weights - caps))]
    if case.turnover_max is not None:
        checks.append(0.5 * float(np.abs(weights - case.current).sum()) - case.turnover_max)
    return max(0.0, *checks)
