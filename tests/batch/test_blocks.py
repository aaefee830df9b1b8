"""Block orders and the allocation of a fill back to the accounts (``allocator.batch.blocks``)."""

from __future__ import annotations

import pickle
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from allocator.batch.blocks import Leg, allocate_fill, blocks_of
from allocator.errors import UsageError


def leg(account: str, symbol: str, side: str, quantity: int, lot: int = 1) -> Leg:
    price = Decimal("10.00")
    return Leg(account=account, symbol=symbol, side=side, quantity=Decimal(quantity), price=price,
               notional=Decimal(quantity) * price, cost=Decimal("0.01"), current_quantity=Decimal(500),
               target_quantity=Decimal(500 + (quantity if side == "BUY" else -quantity)), lot=Decimal(lot),
               nav_value=Decimal(100000), break_even_alpha=0.001)


def test_blocks_sum_their_accounts_by_symbol_and_side_sells_first() -> None:
    legs = [leg("A", "SPY", "BUY", 10), leg("B", "SPY", "BUY", 5), leg("C", "SPY", "SELL", 7),
            leg("A", "AGG", "SELL", 3)]
    blocks = blocks_of(legs)
    assert [(b.side, b.symbol, b.quantity, len(b.legs)) for b in blocks] == [
        ("SELL", "AGG", 3, 1), ("SELL", "SPY", 7, 1), ("BUY", "SPY", 15, 2)]


def test_a_partial_fill_is_split_pro_rata_in_whole_lots_with_the_remainder_to_the_furthest_behind() -> None:
    # 70 of 100 shares: pro rata 35, 21, 14; in lots of 10, 5 and 1: 30, 20, 14 = 64. The 6 left go a lot at a
    # time to the account furthest below its share whose lot fits: A's lot of 10 does not, B (-1) gets 5, then
    # C gets the last share (its lot of 1 fits)
    assert allocate_fill(Decimal(70), [("A", Decimal(50), Decimal(10)), ("B", Decimal(30), Decimal(5)),
                                       ("C", Decimal(20), Decimal(1))]) == {"A": Decimal(30), "B": Decimal(25),
                                                                            "C": Decimal(15)}


def test_a_complete_fill_gives_each_account_its_order_and_a_fill_beyond_the_block_is_refused() -> None:
    orders = [("A", Decimal(300), Decimal(100)), ("B", Decimal(7), Decimal(1))]
    assert allocate_fill(Decimal(307), orders) == {"A": Decimal(300), "B": Decimal(7)}
    with pytest.raises(UsageError, match=r"fill: 308 shares filled of a block of 307; give a fill between 0"):
        allocate_fill(Decimal(308), orders)


def test_an_account_named_twice_in_a_fill_is_refused() -> None:
    orders = [("A", Decimal(30), Decimal(1)), ("B", Decimal(20), Decimal(1)), ("A", Decimal(10), Decimal(1))]
    with pytest.raises(UsageError, match=r"fill: account 'A' has 2 orders in the block; give each account one "
                                         r"order \(add up its quantities\)"):
        allocate_fill(Decimal(45), orders)


@given(st.lists(st.tuples(st.integers(1, 40), st.sampled_from([1, 5, 10, 100])), min_size=1, max_size=12),
       st.floats(0.0, 1.0))
def test_allocations_of_any_fill_sum_to_the_fill_and_never_exceed_an_order(orders: list[tuple[int, int]],
                                                                          fraction: float) -> None:
    wanted = [(f"A{i:02d}", Decimal(lots * lot), Decimal(lot)) for i, (lots, lot) in enumerate(orders)]
    total = sum(q for _, q, _ in wanted)
    filled = Decimal(int(fraction * int(total)))
    given_out = allocate_fill(filled, wanted)
    assert sum(given_out.values()) == filled
    assert all(Decimal(0) <= given_out[a] <= q for a, q, _ in wanted)
    odd = [a for a, _, lot in wanted if given_out[a] % lot]
    assert len(odd) <= 1  # at most one odd lot: the shares that make no whole lot of anyone with room


def test_a_leg_pickled_comes_back_with_the_same_numbers_and_exponents() -> None:
    original = Leg(account="ACC 1", symbol="BRK.B", side="SELL", quantity=Decimal("12.50"), price=Decimal("1E+2"),
                   notional=Decimal("-0.00"), cost=Decimal("0.0100"), current_quantity=Decimal("1234567890.123456789"),
                   target_quantity=Decimal("0"), lot=Decimal("0.001"), nav_value=Decimal("98765.43"),
                   break_even_alpha=-1.2345678901234567e-05)
    back = pickle.loads(pickle.dumps([original, original], protocol=pickle.HIGHEST_PROTOCOL))
    assert back == [original, original]
    for name in ("quantity", "price", "notional", "cost", "current_quantity", "target_quantity", "lot", "nav_value"):
        assert str(getattr(back[0], name)) == str(getattr(original, name))  # the files print them with str()
    assert back[0].break_even_alpha == original.break_even_alpha
