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
from allocator.terms import BUY, SELL

EXIT_UNIVERSE = "exit_universe"


def trade_reason(i: int, side: str, universe: Universe, returns: ReturnModel, scores: Scores,
                 rsi_rules: dict[str, RsiRule], cash_rising: bool) -> str:
    """Why asset ``i`` of the universe is bought or sold (``side``); ``cash_rising`` says whether the trades
    raise cash overall. ``rsi_rules`` maps a symbol to the RSI rule that holds it (``RsiLimits.by_symbol``)."""
    rule = rsi_rules.get(universe.symbols[i])
    if rule is not None and side == SELL:
        if rule.rule == "rsi_trim":
            return rule.tag
        if rule.rule == "rsi_no_sell":  # sold only to keep cash from going negative
            return "cash_raise"
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
    if side == SELL and cash_rising:
        return "cash_raise"
    return "rebalance"
