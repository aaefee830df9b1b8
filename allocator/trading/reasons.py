"""Why each trade is made, as a short tag in the trade list's ``reason`` column.

- ``exit_universe``: a holding outside the universe, sold whole (``universe.outside_holdings: sell``);
- ``rsi_trim(RSI 71.2)``: an overbought asset trimmed by the RSI rule;
- ``tilt(size +0.8, value +0.4)``: the signals that moved the expected return the way of the trade (at most three,
  each its share of the composite score, signed);
- the other RSI rules (``rsi_no_add``, ``rsi_correlated``, ``rsi_group``) only cap a weight at its current level:
  they forbid buys and never cause a sale, so a sale of an asset they hold gets the reason that explains the sale;
- ``views(+0.61%, alpha +0.31%)``: a trade no signal of the asset's own explains, the way its expected return
  moved off equilibrium: the Black-Litterman views' part and the rest of alpha (the benchmark-neutral shift),
  annualized, when together they move it by at least 0.05%;
- ``cash_raise``: a sell that raises cash (or an oversold asset sold only to keep cash from going negative);
- ``rebalance``: anything else (back toward the benchmark, risk, limits).
"""

from __future__ import annotations

from allocator.config.schema import ALL_SIGNALS
from allocator.domain import ReturnModel, RsiRule, Scores, Universe
from allocator.identity_cache import IdentityCache
from allocator.terms import BUY, SELL

EXIT_UNIVERSE = "exit_universe"


class SignalReasons:
    """The reasons the model alone gives a trade: for each asset and side, the ``tilt(...)`` or ``views(...)`` tag
    of its signals and views, or None where they explain no trade that way. They are the same for every account of
    the model, so each is computed when first asked and kept (``signal_reasons``: once per model and process in
    ``allocate batch``)."""

    def __init__(self, returns: ReturnModel, scores: Scores) -> None:
        self.returns = returns
        self.scores = scores
        self.found: dict[tuple[int, str], str | None] = {}

    def of(self, i: int, side: str) -> str | None:
        """The model's reason to trade asset ``i`` on ``side``, or None."""
        key = (i, side)
        if key not in self.found:
            self.found[key] = self._reason(i, side)
        return self.found[key]

    def _reason(self, i: int, side: str) -> str | None:
        returns, scores = self.returns, self.scores
        alpha = returns.alpha[i]
        if abs(alpha) > 1e-4 and (alpha > 0) == (side == BUY):
            parts = {k: scores.signal_weights[k] * scores.multipliers[k] * scores.z[k][i] / scores.composite_scale
                     for k in ALL_SIGNALS} if scores.composite_scale > 0 else {}
            top = sorted(((k, v) for k, v in parts.items() if abs(v) >= 0.05 and (v > 0) == (alpha > 0)),
                         key=lambda kv: -abs(kv[1]))[:3]
            if top:
                return "tilt(" + ", ".join(f"{k} {v:+.1f}" for k, v in top) + ")"
        views = float(returns.views_part[i])
        excess = views + float(alpha)
        if abs(excess) >= 5e-4 and (excess > 0) == (side == BUY):
            return f"views({views:+.2%}, alpha {float(alpha):+.2%})"
        return None


SIGNAL_REASONS = IdentityCache()


def signal_reasons(returns: ReturnModel, scores: Scores) -> SignalReasons:
    """The model's reasons for ``returns`` and ``scores``, kept for those objects (``allocator.identity_cache``)."""
    return SIGNAL_REASONS.value((returns, scores), lambda: SignalReasons(returns, scores))


def trade_reason(i: int, side: str, universe: Universe, signals: SignalReasons, rsi_rules: dict[str, RsiRule],
                 cash_rising: bool) -> str:
    """Why asset ``i`` of the universe is bought or sold (``side``): its RSI rule, else the model's reason
    (``signals``), else ``cash_raise`` or ``rebalance``; ``cash_rising`` says whether the trades raise cash overall.
    ``rsi_rules`` maps a symbol to the RSI rule that holds it (``RsiLimits.by_symbol``)."""
    rule = rsi_rules.get(universe.symbols[i])
    if rule is not None and side == SELL:
        if rule.rule == "rsi_trim":
            return rule.tag
        if rule.rule == "rsi_no_sell":  # sold only to keep cash from going negative
            return "cash_raise"
    found = signals.of(i, side)
    if found is not None:
        return found
    if side == SELL and cash_rising:
        return "cash_raise"
    return "rebalance"
