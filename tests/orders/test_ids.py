"""Orders: deterministic unique client order IDs, limit prices on the tick, file times from the as-of date."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from allocator.config.schema import IdScheme, OrdersConfig, OrderType, TimeInForce
from allocator.errors import ConfigError
from allocator.orders.ids import (
    OrderRequest,
    build_orders,
    client_order_id,
    file_time,
    limit_price,
    quantity_text,
    run_fingerprint,
)
from allocator.terms import BUY, SELL

RUN_A = "a" * 64
RUN_B = "b" * 63 + "a"
INPUTS = {"holdings": {"path": "h.csv", "sha256": "1" * 64}, "prices": {"path": "p.csv", "sha256": "2" * 64}}

symbols = st.text(st.characters(codec="utf-8", exclude_categories=("Cc", "Cs")), min_size=1, max_size=24)


def test_readable_ids_name_the_run_and_the_symbol() -> None:
    settings_ = OrdersConfig()
    assert client_order_id(RUN_A, "SPY", settings_) == "AL" + "a" * 12 + "-SPY"
    assert client_order_id(RUN_A, "BRK.B", settings_) == "AL" + "a" * 12 + "-BRK.B"


def test_ids_repeat_for_the_same_run_and_differ_for_another_run() -> None:
    for scheme in IdScheme:
        settings_ = OrdersConfig(id_scheme=scheme)
        assert client_order_id(RUN_A, "IWM", settings_) == client_order_id(RUN_A, "IWM", settings_)
        assert client_order_id(RUN_A, "IWM", settings_) != client_order_id(RUN_B, "IWM", settings_)


def test_a_symbol_that_is_not_plain_gets_a_hash_and_only_safe_characters() -> None:
    clordid = client_order_id(RUN_A, '=HYPERLINK("http://x","y")', OrdersConfig())
    assert re.fullmatch(r"ALa{12}-_HYPERLINK__-[0-9a-f]{6}", clordid), clordid
    # two symbols that clean to the same text still get different IDs
    assert client_order_id(RUN_A, "AB/C", OrdersConfig()) != client_order_id(RUN_A, "AB_C", OrdersConfig())
    assert client_order_id(RUN_A, "AB/C", OrdersConfig()) != client_order_id(RUN_A, "AB:C", OrdersConfig())


def test_hashed_ids_have_a_fixed_short_length() -> None:
    clordid = client_order_id(RUN_A, "A VERY LONG SYMBOL NAME 123", OrdersConfig(id_scheme=IdScheme.HASHED,
                                                                                 id_prefix="DESK1"))
    assert re.fullmatch(r"DESK1[A-Z2-7]{16}", clordid)


@settings(max_examples=200, deadline=None, derandomize=True)
@given(st.lists(symbols, min_size=2, max_size=40, unique=True), st.sampled_from(list(IdScheme)))
def test_ids_are_unique_within_a_run_and_use_safe_characters(names: list[str], scheme: IdScheme) -> None:
    settings_ = OrdersConfig(id_scheme=scheme)
    ids = [client_order_id(RUN_A, name, settings_) for name in names]
    assert len(set(ids)) == len(ids)
    assert all(re.fullmatch(r"[A-Za-z0-9._-]+", i) for i in ids)


def test_limit_prices_round_towards_the_passive_side_on_the_tick() -> None:
    cfg = OrdersConfig(order_type=OrderType.LIMIT, limit_offset_bps=10)
    # 95.90 * 1.001 = 95.9959 -> buys round down to 95.99; 95.90 * 0.999 = 95.8041 -> sells round up to 95.81
    assert limit_price("EFA", BUY, Decimal("95.9"), cfg) == Decimal("95.99")
    assert limit_price("EFA", SELL, Decimal("95.9"), cfg) == Decimal("95.81")
    assert str(limit_price("EFA", BUY, Decimal("100"), OrdersConfig(order_type=OrderType.LIMIT))) == "100.00"


def test_sub_dollar_prices_use_the_sub_penny_tick_and_overrides_win() -> None:
    cfg = OrdersConfig(order_type=OrderType.LIMIT, limit_offset_bps=25)
    assert limit_price("XYZ", BUY, Decimal("0.5"), cfg) == Decimal("0.5012")   # 0.50125 floored to 0.0001
    assert limit_price("XYZ", SELL, Decimal("0.5"), cfg) == Decimal("0.4988")  # 0.49875 ceiled
    wide = OrdersConfig(order_type=OrderType.LIMIT, limit_offset_bps=25, tick_size=0.05,
                        tick_size_by_symbol={"SPY": 0.25})
    assert limit_price("QQQ", BUY, Decimal("623.23"), wide) == Decimal("624.75")
    assert limit_price("SPY", BUY, Decimal("694.17"), wide) == Decimal("695.75")


@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.decimals(min_value=Decimal("0.01"), max_value=Decimal("5000"), places=4),
       st.floats(-500, 500, allow_nan=False), st.sampled_from([BUY, SELL]))
def test_limit_never_passes_the_offset_and_lies_on_the_tick(last: Decimal, bps: float, side: str) -> None:
    cfg = OrdersConfig(order_type=OrderType.LIMIT, limit_offset_bps=bps)
    price = limit_price("S", side, last, cfg)
    offset = Decimal(repr(bps)) / 10_000
    bound = last * (1 + offset) if side == BUY else last * (1 - offset)
    tick = Decimal("0.01") if bound >= 1 else Decimal("0.0001")
    assert price % tick == 0
    if side == BUY:
        assert bound - tick < price <= bound
    else:
        assert bound <= price < bound + tick


def test_a_limit_that_rounds_to_zero_is_refused() -> None:
    cfg = OrdersConfig(order_type=OrderType.LIMIT, limit_offset_bps=-1)
    with pytest.raises(ConfigError, match=r"^PENNY: limit price: 0.0001 \+ -1 bp rounds to zero on the 0.0001 tick; "
                                        r"give the symbol a finer orders.tick_size_by_symbol"):
        limit_price("PENNY", BUY, Decimal("0.0001"), cfg)
    assert limit_price("PENNY", BUY, Decimal("0.0001"), OrdersConfig(order_type=OrderType.LIMIT, limit_offset_bps=-1,
                                                                     tick_size_by_symbol={"PENNY": 0.00001})) == \
        Decimal("0.00009")


def test_file_time_is_the_as_of_date_at_the_configured_local_time_in_utc() -> None:
    cfg = OrdersConfig()  # 16:00 America/New_York
    assert file_time(date(2026, 1, 16), cfg) == datetime(2026, 1, 16, 21, 0, tzinfo=UTC)  # EST, UTC-5
    assert file_time(date(2026, 7, 16), cfg) == datetime(2026, 7, 16, 20, 0, tzinfo=UTC)  # EDT, UTC-4
    tokyo = OrdersConfig(time_of_day="09:15:30", timezone="Asia/Tokyo")
    assert file_time(date(2026, 1, 16), tokyo) == datetime(2026, 1, 16, 0, 15, 30, tzinfo=UTC)


def test_run_fingerprint_changes_with_every_input_and_not_with_order() -> None:
    base = run_fingerprint(INPUTS, "2026-01-16", "30136.04", [])
    assert base == run_fingerprint(dict(reversed(INPUTS.items())), "2026-01-16", "30136.04", [])
    assert re.fullmatch(r"[0-9a-f]{64}", base)
    changed = {**INPUTS, "prices": {"path": "p.csv", "sha256": "3" * 64}}
    others = [run_fingerprint(changed, "2026-01-16", "30136.04", []),
              run_fingerprint(INPUTS, "2026-01-15", "30136.04", []),
              run_fingerprint(INPUTS, "2026-01-16", "31136.04", []),
              run_fingerprint(INPUTS, "2026-01-16", "30136.04", ["turnover_max relaxed"]),
              run_fingerprint({**INPUTS, "holdings": {"path": "elsewhere.csv", "sha256": "1" * 64}}, "2026-01-16",
                              "30136.04", [])]
    assert len({base, *others}) == 5  # a moved file with the same bytes is the same run
    assert others[-1] == base


def test_build_orders_applies_the_settings_in_trade_order() -> None:
    cfg = OrdersConfig(order_type=OrderType.LIMIT, limit_offset_bps=10, time_in_force=TimeInForce.CLS,
                       account="U1", destination="ARCA")
    requests = [OrderRequest("SPY", SELL, Decimal("153"), Decimal("694.17")),
                OrderRequest("IWO", BUY, Decimal("237"), Decimal("316.86"))]
    orders = build_orders(requests, RUN_A, date(2026, 1, 16), cfg)
    assert [o.symbol for o in orders] == ["SPY", "IWO"]
    assert orders[0].limit_price == Decimal("693.48") and orders[1].limit_price == Decimal("317.17")
    assert {o.time_in_force for o in orders} == {TimeInForce.CLS}
    assert {(o.account, o.destination, o.currency) for o in orders} == {("U1", "ARCA", "USD")}
    assert orders[0].describe() == "SELL 153 SPY limit 693.48 CLS"


def test_quantity_text_is_plain() -> None:
    assert [quantity_text(Decimal(x)) for x in ("100", "1E+2", "12.500", "0.25")] == ["100", "100", "12.5", "0.25"]


@pytest.mark.parametrize(("values", "message"), [
    ({"time_of_day": 960}, "YAML reads an unquoted 16:00 as a number; quote it"),
    ({"time_of_day": "25:00"}, "expected HH:MM or HH:MM:SS"),
    ({"timezone": "Mars/Olympus"}, "unknown time zone 'Mars/Olympus'"),
    ({"account": "U1|X"}, "String should match pattern"),
    ({"sender_comp_id": "A\x01B"}, "String should match pattern"),
    ({"currency": "usd"}, "String should match pattern"),
    ({"id_prefix": "AL-"}, "String should match pattern"),
    ({"order_type": "stop"}, "Input should be 'market' or 'limit'"),
    ({"time_in_force": "IOC"}, "Input should be 'DAY', 'GTC', 'OPG' or 'CLS'"),
])
def test_order_settings_are_validated(values: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=re.escape(message)):
        OrdersConfig.model_validate(values)
