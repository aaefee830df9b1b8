"""Optimal weights -> whole-lot target quantities that keep the account's limits.

The optimizer's weights are fractions of NAV; orders are whole lots. Rounding each position to its nearest lot can
break what the optimizer kept: an RSI trim rounded back up, a turnover or cash limit overshot by half a lot per
asset. So quantities are built in steps, money in ``Decimal`` (cash to the cent):

1. **Base.** Each trade is cut toward the current holding to whole lots (``current + k * lot``; closing a position
   sells it whole). Per-asset limits come first: a target above the asset's upper bound (position cap, active cap,
   RSI trim or no-add) moves down to the lot below it, one under its lower bound (floor, RSI max trim, no-sell when
   oversold) up to the lot above it.
   The trading mode's rows are kept exactly in shares: no lot is ever sold in invest mode (``no_sells``) or bought
   in raise mode (``no_buys``).
2. **Minimum trade value.** Trades worth less than ``trading.min_trade_value`` are dropped unless they close a
   position or a per-asset limit requires them (an RSI trim is never dropped).
3. **Cash floor.** While cash after trading (cash + sells - buys - costs) is under ``cash_min`` of NAV, the largest
   buy is cut by lots; cash never goes below zero.
4. **Nearest lot where the limits allow.** Trades whose remainder is at least half a lot get that lot, closest to
   a full lot first, if the per-asset bounds, the cash floor and the turnover limit still hold.
5. **Cash cap.** While cash is above ``cash_max`` of NAV, one more lot goes to the asset furthest below its target
   weight, again only where every limit still holds and the trade is worth at least the minimum.
6. **Cash to raise** (raise mode). While cash after trading is under cash before + ``--raise``, one more lot of the
   asset furthest above its target weight is sold, within its lower bound.

What rounding could not keep is reported afterwards (``rounding_breaches``), never hidden.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

import numpy as np

from allocator.domain import FloatArray
from allocator.optimize.constraints import Limits
from allocator.optimize.families import asset_bounds

CENT = Decimal("0.01")
ZERO = Decimal(0)


def money(value: Decimal) -> Decimal:
    """``value`` to the cent, halves up. The rounding is passed by position: by keyword, ``quantize`` took 0.37 us
    instead of 0.15 (about 140 calls an account in ``allocate batch``)."""
    return value.quantize(CENT, ROUND_HALF_UP)


# ``to_decimal``'s results by value: an account's prices, lots and cost rates are its model's, and most quantities
# are whole numbers, so in ``allocate batch`` nearly every conversion has been made before. ``repr`` and ``Decimal``
# of a float cost 0.4 to 2 us, a look-up 0.1 us. Zero is never kept: 0.0 and -0.0 are one key but two decimals.
_DECIMALS: dict[float, Decimal] = {}
DECIMALS_KEPT = 1 << 14  # values; the memo is emptied when full


def to_decimal(value: float) -> Decimal:
    """The shortest decimal that reads back as ``value`` (so 101.37 stays 101.37)."""
    number = float(value)
    found = _DECIMALS.get(number)
    if found is None or not number:
        found = Decimal(repr(number))
        if number:
            if len(_DECIMALS) >= DECIMALS_KEPT:
                _DECIMALS.clear()
            _DECIMALS[number] = found
    return found


@dataclass
class TargetLedger:
    """The target quantity of every asset (shares, ``Decimal``; inside the universe first, then holdings outside
    it) with running totals, so each change costs O(1): cash after trading, the market value of the targets, the
    traded notional and the costs (money in the account currency, ``Decimal``, to the cent per trade).

    ``price`` is per share, ``lot`` in shares, ``cost_rate`` a fraction of notional, ``impact`` the square-root
    impact coefficient (a trade of value V costs ``impact * V ** 1.5`` on top; empty: none); ``current`` is the
    holding. ``bought`` and ``sold`` are the notionals bought and sold."""

    symbols: list[str]
    price: list[Decimal]
    lot: list[Decimal]
    cost_rate: list[Decimal]
    current: list[Decimal]
    cash_before: Decimal
    target: list[Decimal] = field(default_factory=list)
    cash: Decimal = Decimal(0)
    value: Decimal = Decimal(0)
    traded: Decimal = Decimal(0)
    costs: Decimal = Decimal(0)
    impact: list[float] = field(default_factory=list)
    bought: Decimal = Decimal(0)
    sold: Decimal = Decimal(0)

    # per asset, ``_trade`` of its target and the target's market value, kept by ``set`` (not recomputed)
    _traded: list[tuple[Decimal, Decimal, Decimal]] = field(default_factory=list, init=False, repr=False,
                                                             compare=False)
    _values: list[Decimal] = field(default_factory=list, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.target = list(self.current)
        self.cash = self.cash_before
        # ``money(q * p)`` written out: 50 calls an account saved
        self._values = [(q * p).quantize(CENT, ROUND_HALF_UP) for q, p in zip(self.current, self.price, strict=True)]
        self.value = sum(self._values, Decimal(0))
        none = (Decimal(0), Decimal(0), Decimal(0))  # ``_trade`` of the holding itself
        self._traded = [none] * len(self.current)

    def cost_of(self, i: int, notional: Decimal) -> Decimal:
        """The estimated cost of trading ``notional`` of asset ``i``: linear (cost and half spread) plus impact."""
        cost = notional * self.cost_rate[i]
        if self.impact and self.impact[i] > 0:
            cost += to_decimal(self.impact[i] * float(notional) ** 1.5)
        return money(cost)

    def _trade(self, i: int, quantity: Decimal) -> tuple[Decimal, Decimal, Decimal]:
        """(cash change, notional, cost) of moving asset ``i`` from its current holding to ``quantity``."""
        change = quantity - self.current[i]
        if not change:
            return Decimal(0), Decimal(0), Decimal(0)
        notional = money(abs(change) * self.price[i])
        cost = self.cost_of(i, notional)
        return (notional if change < 0 else -notional) - cost, notional, cost

    def on_grid(self, i: int, quantity: float) -> Decimal:
        """``quantity`` (shares, computed in floating point) as the exact lot multiple it stands for: the current
        holding plus a whole number of lots, in ``Decimal`` (no 62.47900000000004 reaches an order)."""
        exact, current, lot = to_decimal(quantity), self.current[i], self.lot[i]
        lots = 0 if exact == current else round((exact - current) / lot)  # most assets of an account stay put
        grid = current + lots * lot
        return ZERO if grid < 0 else grid  # ``max(grid, Decimal(0))`` without the call

    def set(self, i: int, quantity: Decimal) -> None:
        """Make ``quantity`` (shares) the target of asset ``i`` and update the running totals."""
        if quantity == self.target[i]:
            # the same number, perhaps written with another exponent (most assets of an account do not trade:
            # 0.4 us here, 4 us through ``_move``). ``_trade`` and the market value depend on the number alone, so
            # every total moves by zero; of those zeros only the cash's can show (the exponent and sign of
            # ``cash`` reach the trade list; the other totals are read as floats or quantized)
            change = self._traded[i][0]
            self.cash += change - change
            self.target[i] = quantity
        else:
            self._move(i, quantity, self._trade(i, quantity), money(quantity * self.price[i]))

    def _move(self, i: int, quantity: Decimal, trade: tuple[Decimal, Decimal, Decimal], value: Decimal) -> None:
        """``set`` with ``_trade(i, quantity)`` and the market value ``money(quantity * price)`` already known."""
        old_cash, old_notional, old_cost = self._traded[i]
        self._traded[i] = new_cash, new_notional, new_cost = trade
        self.cash += new_cash - old_cash
        self.traded += new_notional - old_notional
        self.costs += new_cost - old_cost
        if self.target[i] > self.current[i]:
            self.bought -= old_notional
        elif self.target[i] < self.current[i]:
            self.sold -= old_notional
        if quantity > self.current[i]:
            self.bought += new_notional
        elif quantity < self.current[i]:
            self.sold += new_notional
        self.value += value - self._values[i]
        self._values[i] = value
        self.target[i] = quantity

    def trade_of(self, i: int) -> tuple[Decimal, Decimal, Decimal]:
        """(cash change, notional, cost) of moving asset ``i`` from its holding to its target (as ``_trade``)."""
        return self._traded[i]

    def cash_if(self, i: int, quantity: Decimal) -> Decimal:
        return self.cash + self._trade(i, quantity)[0] - self._traded[i][0]

    @property
    def nav(self) -> Decimal:
        return self.cash + self.value

    def turnover_bound(self, nav_before: float, inflow: float, outflow: float) -> float:
        """An upper bound on the one-way turnover net of flows of the targets (``constraints.turnover``), in
        O(1): ``max(bought - inflow, sold - outflow, 0)`` with the notionals over NAV before trading (holdings
        outside the universe sold are in ``sold``), plus the costs' share of NAV, which bounds the difference that
        measuring weights against NAV after costs makes."""
        bought, sold = float(self.bought) / nav_before, float(self.sold) / nav_before
        return max(bought - inflow, sold - outflow, 0.0) + float(self.costs) / nav_before + 1e-12


@dataclass(frozen=True)
class ShareBounds:
    """Per-asset bounds in shares (float) derived from the weight bounds at the NAV expected after costs."""

    lower: FloatArray
    upper: FloatArray


def share_bounds(limits: Limits, prices: FloatArray, current: FloatArray, nav: float) -> ShareBounds:
    """Shares each asset may hold: the tightest per-asset weight bounds, with RSI no-add (``<= current``) and
    no-sell (``>= current``) and the trading mode's no sells (invest) and no buys (raise) kept exactly in
    shares."""
    weight_lower, weight_upper = asset_bounds(limits)
    floor = np.maximum(weight_lower, 0.0)
    lower = floor * nav / prices
    upper = np.where(np.isfinite(weight_upper), weight_upper * nav / prices, np.inf)
    no_add = np.isfinite(limits.rsi.upper)
    no_sell = np.isfinite(limits.rsi.lower) & (limits.rsi.lower >= limits.current)
    below = limits.current - 1e-12
    # a bare no-add (``w <= w0``, e.g. a substitute of an overbought fund) that is the tightest cap holds the
    # current shares, not ``w0`` at the lower NAV after costs (which would force a sale of a fraction of a share)
    bare = no_add & (limits.rsi.upper >= below) & (limits.rsi.upper <= weight_upper + 1e-12)
    # likewise any weight cap at or above the current weight (raise mode's w <= w0 among them) lets the current
    # shares stand, and any floor at or below it asks for no purchase: costs lower the NAV by a few basis points,
    # which is no reason to trade a share (both raisings of the cap in one: the second raised to the same maximum)
    upper = np.where(bare | (weight_upper >= below), np.maximum(upper, current), upper)
    lower = np.where(floor <= limits.current + 1e-12, np.minimum(lower, current), lower)
    upper = np.where(no_add, np.minimum(upper, current), upper)
    lower = np.where(no_sell, np.maximum(lower, current), lower)
    # the mode's rows in shares win over weight bounds at w0 that NAV after costs would put a fraction of a share
    # on the other side of the holding
    if limits.no_sells:
        lower = np.maximum(lower, current)
        upper = np.maximum(upper, lower)
    if limits.no_buys:
        upper = np.minimum(upper, current)
        lower = np.minimum(lower, upper)
    return ShareBounds(lower=lower, upper=upper)


def _grid_below(current: float, lot: float, limit: float) -> float:
    """The largest ``current + k * lot`` at or under ``limit`` (0 when even selling everything is needed)."""
    k = math.floor((limit - current) / lot + 1e-9)
    return max(current + k * lot, 0.0) if current + k * lot >= 0 else 0.0


def _grid_above(current: float, lot: float, limit: float) -> float:
    k = math.ceil((limit - current) / lot - 1e-9)
    return current + k * lot


@dataclass(frozen=True)
class RoundingChoices:
    """Step 1's result per asset, in shares: the base quantity (cut toward the holding to whole lots), the
    nearest-lot alternative where rounding up is allowed (``up``, None where not), the fraction of a lot the base
    left out (``remainder``) and whether the per-asset limits require the trade (``required``)."""

    base: list[float]
    up: list[float | None]
    remainder: list[float]
    required: list[bool]


def rounding_choices(wanted: FloatArray, current: FloatArray, lots: FloatArray, bounds: ShareBounds
                     ) -> RoundingChoices:
    """Step 1: whole-lot base quantities within the per-asset bounds, and each one's round-up alternative."""
    base: list[float] = []
    up: list[float | None] = []
    remainder: list[float] = []
    required: list[bool] = []
    # Python floats, not NumPy scalars: the same IEEE arithmetic at a third of the cost per operation
    columns = (np.asarray(column).tolist() for column in (wanted, current, lots, bounds.lower, bounds.upper))
    # each bound with its tolerance and each gap computed once; comparisons for ``max`` (a function call costs more)
    for want, have, lot, low, high in zip(*columns, strict=True):
        tolerance = 1e-9 * (have if have > 1.0 else 1.0)  # 1e-9 * max(1.0, have)
        top, bottom = high + tolerance, low - tolerance
        required.append(have > top or have < bottom)
        if want <= tolerance and low <= tolerance:  # the optimizer exits the position: sell it whole
            base.append(0.0)
            up.append(None)
            remainder.append(0.0)
            continue
        steps = (want - have) / lot
        whole = math.trunc(steps + math.copysign(1e-9, steps))
        quantity = have + whole * lot
        if quantity > top:
            quantity = _grid_below(have, lot, high)
        if quantity < bottom:
            above = _grid_above(have, lot, low)
            quantity = above if above <= top else quantity
        if quantity < 0.0:  # max(quantity, 0.0)
            quantity = 0.0
        base.append(quantity)
        gap = want - quantity
        distance = abs(gap)
        step = math.copysign(lot, gap) if distance > tolerance else 0.0
        candidate = quantity + step
        fraction = distance / lot
        allowed = step != 0 and candidate >= 0 and bottom <= candidate <= top
        up.append(candidate if allowed and fraction >= 0.5 else None)
        remainder.append(fraction)
    return RoundingChoices(base=base, up=up, remainder=remainder, required=required)


def drop_small(ledger: TargetLedger, choices: RoundingChoices, minimum: Decimal, n: int) -> None:
    """Step 2: cancel trades under the minimum value unless they close a position or a limit requires them."""
    if minimum <= 0:
        return
    # compared before subtracting: most assets of an account do not trade (the lists copied: ``set`` changes one)
    for i, (target, current) in enumerate(zip(ledger.target[:n], ledger.current[:n], strict=True)):
        if (target != current and target != 0 and not choices.required[i]
                and abs(target - current) * ledger.price[i] < minimum):
            ledger.set(i, current)


def fund_buys(ledger: TargetLedger, cash_min: float, lower: FloatArray, warnings: list[str]) -> None:
    """Step 3: cut the largest buys, lot by lot, until cash after trading meets its floor; never below zero."""
    rate = to_decimal(cash_min)

    def deficit() -> Decimal:
        return max(Decimal(0), money(ledger.nav * rate)) - ledger.cash

    cut: dict[str, Decimal] = {}
    while deficit() > 0:
        buys = [i for i in range(len(ledger.symbols)) if ledger.target[i] > ledger.current[i]]
        keeps_floor = [i for i in buys if float(ledger.target[i] - ledger.lot[i]) >= lower[i] - 1e-9]
        buys = keeps_floor or buys
        if not buys:
            break
        i = max(buys, key=lambda k: ((ledger.target[k] - ledger.current[k]) * ledger.price[k], ledger.symbols[k]))
        lot_value = ledger.lot[i] * ledger.price[i] * (1 + ledger.cost_rate[i])
        lots = min(max(1, math.ceil(deficit() / lot_value)), max(1, int((ledger.target[i] - ledger.current[i])
                                                                         / ledger.lot[i])))
        step = lots * ledger.lot[i]
        ledger.set(i, max(ledger.current[i], ledger.target[i] - step))
        cut[ledger.symbols[i]] = cut.get(ledger.symbols[i], Decimal(0)) + step
    if cut:
        warnings.append("buys cut to keep cash at its floor: " +
                        ", ".join(f"{s} -{q.normalize():f}" for s, q in sorted(cut.items())))
    while ledger.cash < 0:  # costs alone overdraw cash: sell single lots of the largest positions
        held = [i for i in range(len(ledger.symbols)) if ledger.target[i] >= ledger.lot[i]]
        free = [i for i in held if float(ledger.target[i] - ledger.lot[i]) >= lower[i] - 1e-9]
        held = free or held
        if not held:
            break
        i = max(held, key=lambda k: (ledger.target[k] * ledger.price[k], ledger.symbols[k]))
        ledger.set(i, ledger.target[i] - ledger.lot[i])
        warnings.append(f"sold one more lot of {ledger.symbols[i]} to keep cash from going negative")


@dataclass(frozen=True)
class LotLimits:
    """What any further lot must respect: the cash floor and cap (``cash_min``, ``cash_max``: fractions of NAV),
    the one-way turnover limit (fraction of NAV, None when unset) net of the flows (``inflow``, ``outflow``:
    fractions of NAV, ``Limits.inflow``), the NAV before trading (account currency), the minimum trade value
    (account currency), the bounds in shares and the cash to reach in raise mode (account currency)."""

    cash_min: Decimal
    cash_max: Decimal
    turnover_max: float | None
    inflow: float
    outflow: float
    nav_before: float
    minimum: Decimal
    upper: FloatArray
    lower: FloatArray | None = None
    raise_to: Decimal | None = None

    def take(self, ledger: TargetLedger, i: int, quantity: Decimal) -> bool:
        """Make ``quantity`` (shares) the target of asset ``i`` if it keeps every limit; whether it did."""
        shares = float(quantity)
        if shares > self.upper[i] + 1e-9 * max(1.0, shares):
            return False
        change = quantity - ledger.current[i]
        if change and quantity != 0 and abs(change) * ledger.price[i] < self.minimum:
            return False
        # ``cash_if`` and the market values, each computed once: ``_trade`` and ``money`` of the target are kept
        # by the ledger, and the ``set`` below (or the trial one and its undoing) reuse them (``_move``)
        trade, value = ledger._trade(i, quantity), money(quantity * ledger.price[i])
        old, old_trade, old_value = ledger.target[i], ledger._traded[i], ledger._values[i]
        cash = ledger.cash + trade[0] - old_trade[0]
        nav = cash + ledger.value + value - old_value
        if cash < max(Decimal(0), money(nav * self.cash_min)):
            return False
        # ``set`` as its ``_move``, also for a number equal to the target (a lot lost in floating point): ``_trade``
        # and the market value then equal the kept ones, to the exponent, and every total moves by an exact zero
        ledger._move(i, quantity, trade, value)
        if self.turnover_max is not None and not (
                ledger.turnover_bound(self.nav_before, self.inflow, self.outflow) <= self.turnover_max):
            ledger._move(i, old, old_trade, old_value)
            return False
        return True


def round_up(ledger: TargetLedger, choices: RoundingChoices, base: list[Decimal], lot_limits: LotLimits, n: int
             ) -> None:
    """Step 4: give each trade its nearest lot where that lot keeps every limit, closest to a full lot first.
    ``base`` is step 1's targets (``on_grid`` of ``choices.base``)."""
    order = sorted((i for i in range(n) if choices.up[i] is not None), key=lambda i: (-choices.remainder[i], i))
    for i in order:
        if ledger.target[i] != base[i]:
            continue  # a later step already moved it
        candidate = ledger.on_grid(i, float(choices.up[i] or 0.0))
        lot_limits.take(ledger, i, candidate)


def spend_excess(ledger: TargetLedger, lot_limits: LotLimits, target_weight: FloatArray, n: int) -> None:
    """Step 5: while cash is above its cap, add single lots where the target weight is furthest ahead."""
    if lot_limits.cash_max >= 1 or ledger.cash <= money(ledger.nav * lot_limits.cash_max):
        return  # the cash within its cap already (most accounts): no prices and lots converted to floats
    prices = np.array([float(p) for p in ledger.price[:n]])
    lots = np.array([float(x) for x in ledger.lot[:n]])
    for _ in range(4 * n + 100):
        nav = ledger.nav
        if ledger.cash <= money(nav * lot_limits.cash_max):
            return
        held = np.array([float(q) for q in ledger.target[:n]])
        gap = target_weight - held * prices / float(nav)
        gap = np.where(held + lots <= lot_limits.upper + 1e-9, gap, -np.inf)
        for i in np.argsort(-gap, kind="stable"):
            if gap[i] <= 0:
                return
            candidate = ledger.target[i] + ledger.lot[i]
            if lot_limits.take(ledger, int(i), candidate):
                break
        else:
            return


def raise_cash(ledger: TargetLedger, lot_limits: LotLimits, target_weight: FloatArray, n: int,
               warnings: list[str]) -> None:
    """Step 6 (raise mode): sell single lots, where the target weight is furthest below the holding, until cash
    after trading reaches ``raise_to``; never below an asset's lower bound or to a buy."""
    if lot_limits.raise_to is None:
        return
    prices = np.array([float(p) for p in ledger.price[:n]])
    lower = lot_limits.lower if lot_limits.lower is not None else np.zeros(n)
    for _ in range(100 * n + 100):
        if ledger.cash >= lot_limits.raise_to:
            return
        held = np.array([float(q) for q in ledger.target[:n]])
        lots = np.array([float(x) for x in ledger.lot[:n]])
        allowed = (held - lots >= lower - 1e-9) & (held - lots >= -1e-9)
        if not allowed.any():
            break
        gap = np.where(allowed, held * prices / float(ledger.nav) - target_weight, -np.inf)
        i = int(np.argmax(gap))
        ledger.set(i, ledger.target[i] - ledger.lot[i])
    warnings.append(f"cash after trading {ledger.cash} is short of the {lot_limits.raise_to} to raise: the limits "
                    "leave nothing more to sell")
