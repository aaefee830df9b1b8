"""Black-Litterman: blend an equilibrium prior with views on symbols or groups (docs/black_litterman.md).

All returns are annualized decimals and ``Sigma`` is the annualized covariance. With the prior ``pi`` (for example
``equilibrium_returns`` in ``allocator.model.expected_returns``), k views ``P mu = Q + e``, ``e ~ N(0, Omega)``:

- posterior mean ``mu_BL = pi + tau Sigma P' A^-1 (Q - P pi)`` with ``A = P tau Sigma P' + Omega``;
- posterior covariance ``Sigma_BL = Sigma + tau Sigma - tau Sigma P' A^-1 P tau Sigma`` (He and Litterman 1999).

This form needs no inverse of ``Omega``, so a view held with certainty (``omega_k = 0``) is its limit and a view
held with no confidence (``omega_k = inf``) drops out. ``Omega`` is diagonal here unless given in full:
- proportional (He-Litterman): ``omega_k = tau p_k Sigma p_k'``;
- Idzorek (2005) confidence ``C_k`` in [0, 1]: ``omega_k = tau p_k Sigma p_k' (1 - C_k) / C_k``. Alone, view k then
  moves the unconstrained weights ``(delta Sigma)^-1 mu`` from the market weights a fraction ``C_k`` of the way to
  its 100%-confidence weights, the tilt Idzorek's one-dimensional search matches (the move is
  ``p_k tau Sigma p_k' / (p_k tau Sigma p_k' + omega_k)`` times the full one, so the search has this closed form).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from allocator.domain import FloatArray
from allocator.errors import ConfigError


class ViewLevel(StrEnum):
    """What the names in a view's legs are: symbols of the universe, or names of groups of symbols."""

    SYMBOL = "symbol"
    GROUP = "group"


class LegWeighting(StrEnum):
    """How a leg spreads over its assets: equally, or in proportion to market-cap (benchmark) weights."""

    EQUAL = "equal"
    MARKET_CAP = "market_cap"


@dataclass(frozen=True)
class View:
    """One view: the ``long`` leg returns ``expected`` (absolute), or beats the ``short`` leg by it (relative).

    ``long`` and ``short`` name symbols or groups (``level``); each leg weighs +1 (long) or -1 (short) in total,
    spread over its assets by ``weighting``. ``expected`` is an annualized decimal excess return. Uncertainty is
    either an Idzorek ``confidence`` in [0, 1] (1 = certain, 0 = ignored) or an explicit ``variance`` of the view
    (annualized, decimal squared); with neither, the proportional ``tau p Sigma p'`` applies.
    """

    long: tuple[str, ...]
    expected: float
    short: tuple[str, ...] = ()
    level: ViewLevel = ViewLevel.SYMBOL
    weighting: LegWeighting = LegWeighting.EQUAL
    confidence: float | None = None
    variance: float | None = None
    name: str = ""

    def __post_init__(self) -> None:
        for leg in ("long", "short"):
            value: str | Iterable[str] = getattr(self, leg)
            object.__setattr__(self, leg, (value,) if isinstance(value, str) else tuple(value))
        object.__setattr__(self, "level", ViewLevel(self.level))
        object.__setattr__(self, "weighting", LegWeighting(self.weighting))
        where = self.label
        if not self.long:
            raise ConfigError(where, "the view has an empty long leg", "name at least one symbol or group in `long`")
        if not math.isfinite(self.expected):
            raise ConfigError(where, f"expected return {self.expected} is not a number",
                              "give an annualized decimal, e.g. 0.02 for 2%")
        if self.confidence is not None and self.variance is not None:
            raise ConfigError(where, "both a confidence and a variance are given", "give one of them")
        if self.confidence is not None and not 0.0 <= self.confidence <= 1.0:
            raise ConfigError(where, f"confidence {self.confidence} is outside [0, 1]",
                              "give a fraction between 0 (ignore the view) and 1 (certain)")
        if self.variance is not None and not 0.0 <= self.variance < math.inf:
            raise ConfigError(where, f"variance {self.variance} is not a finite non-negative number",
                              "give the view's variance in annualized decimal squared, or a confidence instead")

    @property
    def relative(self) -> bool:
        """True when the view compares two legs (long minus short)."""
        return bool(self.short)

    @property
    def label(self) -> str:
        """The view's name, or its legs when unnamed (for messages)."""
        if self.name:
            return f"view {self.name!r}"
        legs = "+".join(self.long) + (" vs " + "+".join(self.short) if self.short else "")
        return f"view {legs}"


@dataclass(frozen=True)
class Posterior:
    """Black-Litterman posterior: expected returns (n) and covariance (n-by-n), annualized."""

    returns: FloatArray
    covariance: FloatArray


def _leg(view: View, names: tuple[str, ...], index: Mapping[str, int], groups: Mapping[str, Sequence[str]],
         weights: FloatArray | None, where: str) -> FloatArray:
    """The +1-summing weights of one leg over the n assets."""
    members: list[int] = []
    for name in names:
        if view.level is ViewLevel.GROUP:
            if name not in groups:
                raise ConfigError(where, f"unknown group {name!r}", f"use one of: {', '.join(sorted(groups)) or '-'}")
            symbols: Sequence[str] = groups[name]
        else:
            symbols = (name,)
        for symbol in symbols:
            if symbol not in index:
                raise ConfigError(where, f"unknown symbol {symbol!r}", "name a symbol of the universe")
            if index[symbol] not in members:
                members.append(index[symbol])
    leg = np.zeros(len(index))
    if not members:
        raise ConfigError(where, f"the leg {'+'.join(names)} holds no assets", "give groups with members")
    if view.weighting is LegWeighting.MARKET_CAP:
        if weights is None:
            raise ConfigError(where, "market-cap weighting needs market weights", "pass weights or use equal")
        cap = weights[members]
        total = float(cap.sum())
        if not total > 0.0 or bool(np.any(cap < 0.0)):
            raise ConfigError(where, f"the market weights of {'+'.join(names)} are not positive",
                              "use equal weighting for this leg")
        leg[members] = cap / total
    else:
        leg[members] = 1.0 / len(members)
    return leg


def pick_matrix(views: Sequence[View], symbols: Sequence[str], groups: Mapping[str, Sequence[str]] | None = None,
                weights: FloatArray | None = None) -> tuple[FloatArray, FloatArray]:
    """The pick matrix ``P`` (k-by-n) and view returns ``Q`` (k) of ``views`` over ``symbols``.

    ``groups`` maps a group name to its member symbols (views with ``level=group``); ``weights`` are the market-cap
    (benchmark) weights of ``symbols``, needed by market-cap weighted legs. Raises ``ConfigError`` for an unknown
    symbol or group and for a view whose legs cancel out.
    """
    index = {symbol: i for i, symbol in enumerate(symbols)}
    groups = groups or {}
    if weights is not None:
        weights = np.asarray(weights, dtype=np.float64)
        if weights.shape != (len(index),):
            raise ValueError(f"weights has shape {weights.shape}, expected ({len(index)},)")
    pick = np.zeros((len(views), len(index)))
    expected = np.zeros(len(views))
    for k, view in enumerate(views):
        where = f"views[{k}] ({view.label})"
        row = _leg(view, view.long, index, groups, weights, where)
        if view.short:
            row = row - _leg(view, view.short, index, groups, weights, where)
        if not np.any(np.abs(row) > 1e-12):
            raise ConfigError(where, "the long and short legs cancel out: the view picks no assets",
                              "make the legs differ")
        pick[k] = row
        expected[k] = view.expected
    return pick, expected


def proportional_omega(sigma: FloatArray, pick: FloatArray, tau: float) -> FloatArray:
    """He-Litterman view variances ``tau p_k Sigma p_k'`` (the diagonal of Omega, length k)."""
    _check_tau(tau)
    result: FloatArray = tau * np.einsum("ij,jk,ik->i", pick, sigma, pick)
    return result


def idzorek_omega(sigma: FloatArray, pick: FloatArray, confidences: Sequence[float] | FloatArray,
                  tau: float) -> FloatArray:
    """Idzorek view variances for confidences ``C_k`` in [0, 1]: ``tau p_k Sigma p_k' (1 - C_k) / C_k``.

    A confidence of 1 gives 0 (the view holds exactly), 0 gives ``inf`` (the view is ignored). This is the closed form
    of Idzorek's search for the omega whose weight tilt towards the view's 100%-confidence weights is ``C_k``.
    """
    confidence = np.asarray(confidences, dtype=np.float64)
    if confidence.shape != (pick.shape[0],):
        raise ValueError(f"{confidence.shape[0] if confidence.ndim else 0} confidences for {pick.shape[0]} views")
    for k, c in enumerate(confidence):
        if not 0.0 <= c <= 1.0:
            raise ConfigError(f"views[{k}]", f"confidence {c} is outside [0, 1]",
                              "give a fraction between 0 (ignore the view) and 1 (certain)")
    base = proportional_omega(sigma, pick, tau)
    with np.errstate(divide="ignore", invalid="ignore"):
        result: FloatArray = np.where(confidence > 0.0, base * (1.0 - confidence) / confidence, np.inf)
    return result


def view_omega(views: Sequence[View], sigma: FloatArray, pick: FloatArray, tau: float) -> FloatArray:
    """The diagonal of Omega for ``views``: each view's ``variance``, else its Idzorek ``confidence``, else
    the proportional ``tau p Sigma p'``."""
    if len(views) != pick.shape[0]:
        raise ValueError(f"{len(views)} views for a pick matrix of {pick.shape[0]} rows")
    omega = proportional_omega(sigma, pick, tau)
    for k, view in enumerate(views):
        if view.variance is not None:
            omega[k] = view.variance
        elif view.confidence is not None:
            omega[k] = idzorek_omega(sigma, pick[k : k + 1], [view.confidence], tau)[0]
    return omega


def _check_tau(tau: float) -> None:
    if not 0.0 < tau < math.inf:
        raise ConfigError("tau", f"tau {tau} is not positive", "give the prior's scaling, typically 0.01 to 0.05")


def posterior(pi: FloatArray, sigma: FloatArray, pick: FloatArray, expected: FloatArray, omega: FloatArray,
              tau: float) -> Posterior:
    """Posterior returns and covariance given the prior ``pi`` (n), ``Sigma`` (n-by-n), views ``P`` (k-by-n),
    ``Q`` (k) and ``Omega``: its diagonal (k; ``0`` = certain, ``inf`` = ignored) or the full k-by-k matrix.

    Uses linear solves with ``A = P tau Sigma P' + Omega``, so certain views are exact (``P mu = Q``). Raises
    ``ConfigError`` when the views held with certainty are linearly dependent (contradictory or redundant).
    """
    _check_tau(tau)
    pi = np.asarray(pi, dtype=np.float64)
    sigma = np.asarray(sigma, dtype=np.float64)
    pick = np.atleast_2d(np.asarray(pick, dtype=np.float64))
    expected = np.atleast_1d(np.asarray(expected, dtype=np.float64))
    omega = np.asarray(omega, dtype=np.float64)
    n = pi.shape[0]
    k = pick.shape[0] if pick.size else 0
    if sigma.shape != (n, n) or (k and pick.shape[1] != n) or expected.shape != (k,):
        raise ValueError(f"shapes do not agree: pi {pi.shape}, Sigma {sigma.shape}, P {pick.shape}, Q {expected.shape}")
    if omega.ndim == 1:
        if omega.shape != (k,) or bool(np.any(np.isnan(omega) | (omega < 0.0))):
            raise ValueError(f"Omega's diagonal must be k={k} non-negative numbers, got {omega}")
        keep = np.isfinite(omega)
        pick, expected = pick[keep], expected[keep]
        certain = omega[keep] == 0.0
        omega_matrix = np.diag(omega[keep])
    else:
        if omega.shape != (k, k) or not bool(np.all(np.isfinite(omega))):
            raise ValueError(f"Omega must be a finite {k}-by-{k} matrix, got shape {omega.shape}")
        certain = np.diagonal(omega) == 0.0
        omega_matrix = (omega + omega.T) / 2.0
    if pick.shape[0] == 0:
        return Posterior(returns=pi.copy(), covariance=(1.0 + tau) * sigma)
    if np.count_nonzero(certain) and np.linalg.matrix_rank(pick[certain]) < np.count_nonzero(certain):
        raise ConfigError("views", "views held with 100% confidence are linearly dependent",
                          "lower the confidence of one of them or drop the redundant view")
    tau_sigma_pt = tau * sigma @ pick.T
    a = pick @ tau_sigma_pt + omega_matrix
    a = (a + a.T) / 2.0
    solved = np.linalg.solve(a, np.column_stack([expected - pick @ pi, tau_sigma_pt.T]))
    returns: FloatArray = pi + tau_sigma_pt @ solved[:, 0]
    update: FloatArray = tau * sigma - tau_sigma_pt @ solved[:, 1:]
    covariance: FloatArray = sigma + (update + update.T) / 2.0
    return Posterior(returns=returns, covariance=covariance)


def posterior_returns(prior: FloatArray, sigma_pick_t: FloatArray, pick: FloatArray, expected: FloatArray,
                      omega: FloatArray, tau: float) -> FloatArray:
    """Posterior mean only, from ``Sigma P'`` (n-by-k) instead of ``Sigma``: no n-by-n matrix is formed, so a factor
    risk model of any size serves. ``omega`` is Omega's diagonal (k, finite and non-negative); equals
    ``posterior(...).returns``."""
    _check_tau(tau)
    if pick.shape[0] == 0:
        return np.asarray(prior, dtype=np.float64).copy()
    a = tau * (pick @ sigma_pick_t) + np.diag(omega)
    a = (a + a.T) / 2.0
    returns: FloatArray = prior + tau * sigma_pick_t @ np.linalg.solve(a, expected - pick @ prior)
    return returns


def unconstrained_weights(returns: FloatArray, covariance: FloatArray, risk_aversion: float) -> FloatArray:
    """The unconstrained mean-variance weights ``(delta Sigma)^-1 mu`` (no budget, no bounds)."""
    result = np.linalg.solve(risk_aversion * np.asarray(covariance, dtype=np.float64),
                             np.asarray(returns, dtype=np.float64))
    return np.asarray(result, dtype=np.float64)
