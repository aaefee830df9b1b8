"""FIX messages: BodyLength and CheckSum checked by an independent parser (simplefix) and by QuickFIX's FIX 4.4
data dictionary; round trips between orders and NewOrderSingle fields; ExecutionReport parsing."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
import simplefix
from hypothesis import given, settings
from hypothesis import strategies as st

from allocator.config.schema import OrderType, TimeInForce
from allocator.orders.fix_message import (
    PIPE,
    SOH,
    FixFormatError,
    decode,
    encode,
    execution_report_reply,
    new_order_single_body,
    order_from_fields,
    order_status_request_body,
)
from allocator.orders.ids import Order
from allocator.terms import BUY, SELL

STAMP = datetime(2026, 1, 16, 21, 0, tzinfo=UTC)
HEADER = [(49, "ALLOCATE"), (56, "BROKER"), (34, "1"), (52, "20260116-21:00:00")]


def order(**changes: object) -> Order:
    values: dict[str, object] = dict(client_order_id="ALaaaaaaaaaaaa-SPY", symbol="SPY", side=SELL,
                                     quantity=Decimal("153"), order_type=OrderType.MARKET, limit_price=None,
                                     time_in_force=TimeInForce.DAY, account="U1234567", destination=None,
                                     currency="USD", transact_time=STAMP)
    values.update(changes)
    return Order(**values)  # type: ignore[arg-type]


def independent_check(wire: bytes) -> dict[int, bytes]:
    """BodyLength and CheckSum recomputed from the bytes, and the fields as simplefix parses them."""
    assert wire.startswith(b"8=FIX.4.4\x019=") and wire.endswith(b"\x01")
    trailer = wire.rindex(b"\x0110=") + 1
    body_start = wire.index(b"\x01", wire.index(b"\x019=") + 1) + 1
    length = int(wire[wire.index(b"\x019=") + 3: body_start - 1])
    assert length == trailer - body_start
    assert int(wire[trailer + 3:-1]) == sum(wire[:trailer]) % 256
    parser = simplefix.FixParser()
    parser.append_buffer(wire)
    message = parser.get_message()
    assert message is not None and parser.get_message() is None
    assert message.get(9) == str(length).encode() and message.get(10) == wire[trailer + 3:-1]
    return {int(tag): value for tag, value in message.pairs}


def test_a_new_order_single_is_complete_and_checks_out() -> None:
    text = encode("D", HEADER, new_order_single_body(order()))
    fields = independent_check(text.encode())
    assert fields[35] == b"D" and fields[11] == b"ALaaaaaaaaaaaa-SPY" and fields[1] == b"U1234567"
    assert (fields[21], fields[55], fields[54], fields[38], fields[40], fields[59]) == (b"1", b"SPY", b"2", b"153",
                                                                                       b"1", b"0")
    assert fields[60] == b"20260116-21:00:00" and 44 not in fields and 100 not in fields


def test_limit_and_time_in_force_codes() -> None:
    codes = {TimeInForce.DAY: b"0", TimeInForce.GTC: b"1", TimeInForce.OPG: b"2", TimeInForce.CLS: b"7"}
    for tif, code in codes.items():
        body = new_order_single_body(order(order_type=OrderType.LIMIT, limit_price=Decimal("693.48"),
                                           time_in_force=tif, side=BUY, destination="ARCA"))
        fields = independent_check(encode("D", HEADER, body).encode())
        assert (fields[40], fields[44], fields[59], fields[54], fields[100]) == (b"2", b"693.48", code, b"1",
                                                                                 b"ARCA")


def test_pipe_form_carries_the_checksum_of_the_wire_form() -> None:
    soh = encode("D", HEADER, new_order_single_body(order()))
    pipe = encode("D", HEADER, new_order_single_body(order()), PIPE)
    assert SOH not in pipe and pipe.replace(PIPE, SOH) == soh
    assert decode(pipe, PIPE) == decode(soh)


def test_decode_refuses_a_wrong_length_or_checksum() -> None:
    good = encode("D", HEADER, new_order_single_body(order()))
    with pytest.raises(FixFormatError, match="CheckSum"):
        decode(good.replace("38=153", "38=154"))
    with pytest.raises(FixFormatError, match="BodyLength"):
        decode(good.replace("38=153", "38=1530"))
    with pytest.raises(FixFormatError, match="must start with 8, 9, 35"):
        decode(good[good.index("35="):])


def test_a_value_holding_the_delimiter_is_refused() -> None:
    with pytest.raises(FixFormatError, match="holds the field delimiter"):
        encode("D", HEADER, new_order_single_body(order(symbol="A|B")), PIPE)
    with pytest.raises(FixFormatError, match="holds the field delimiter"):
        encode("D", HEADER, new_order_single_body(order(symbol="A\x01B")))
    encode("D", HEADER, new_order_single_body(order(symbol="A|B")))  # fine on the wire form


texts = st.text(st.characters(codec="ascii", min_codepoint=33, max_codepoint=126, exclude_characters="|"),
                min_size=1, max_size=20)


@settings(max_examples=200, deadline=None, derandomize=True)
@given(texts, texts, st.sampled_from([BUY, SELL]), st.decimals(min_value=Decimal("0.0001"), max_value=Decimal("1e7"),
                                                                places=4),
       st.sampled_from(list(OrderType)), st.sampled_from(list(TimeInForce)), st.sampled_from([SOH, PIPE]))
def test_orders_round_trip_through_checked_messages(symbol: str, account: str, side: str, quantity: Decimal,
                                                    kind: OrderType, tif: TimeInForce, delimiter: str) -> None:
    original = order(symbol=symbol, account=account, side=side, quantity=quantity, order_type=kind,
                     limit_price=Decimal("12.34") if kind is OrderType.LIMIT else None, time_in_force=tif)
    text = encode("D", HEADER, new_order_single_body(original), delimiter)
    independent_check(text.replace(PIPE, SOH).encode())
    back = order_from_fields(decode(text, delimiter), "test")
    assert back == original.__class__(**{**original.__dict__, "quantity": back.quantity})
    assert back.quantity == quantity


def test_the_fix_44_data_dictionary_accepts_orders_and_status_requests() -> None:
    fix = pytest.importorskip("quickfix", reason="the quickfix package (allocate[fix]) is not installed")
    from allocator.orders.fix_session import fix44_dictionary

    dictionary = fix.DataDictionary(str(fix44_dictionary()))
    for body in (new_order_single_body(order()),
                 new_order_single_body(order(order_type=OrderType.LIMIT, limit_price=Decimal("1.5"),
                                             time_in_force=TimeInForce.CLS, destination="ARCA"))):
        dictionary.validate(fix.Message(encode("D", HEADER, body), dictionary, True))
    dictionary.validate(fix.Message(encode("H", HEADER, order_status_request_body(order())), dictionary, True))
    with pytest.raises(fix.IncorrectTagValue):
        bad = [(tag, "9" if tag == 59 else value) for tag, value in new_order_single_body(order())]
        dictionary.validate(fix.Message(encode("D", HEADER, bad), dictionary, True))


def test_execution_reports_become_replies() -> None:
    fill = [(8, "FIX.4.4"), (35, "8"), (37, "B7"), (11, "X-1"), (17, "E9"), (150, "F"), (39, "1"), (55, "EFA"),
            (54, "2"), (151, "182"), (14, "121"), (6, "95.9"), (31, "95.9"), (32, "121")]
    reply = execution_report_reply(fill)
    assert reply is not None
    assert (reply.client_order_id, reply.exec_id, reply.status, reply.cum_quantity, reply.average_price,
            reply.leaves_quantity, reply.broker_order_id, reply.unknown_order) == (
        "X-1", "E9", "PARTIALLY_FILLED", Decimal(121), Decimal("95.9"), Decimal(182), "B7", False)
    unknown = execution_report_reply([(35, "8"), (37, "NONE"), (11, "X-2"), (17, "E10"), (150, "I"), (39, "8"),
                                       (103, "5"), (58, "unknown order")])
    assert unknown is not None and unknown.unknown_order and unknown.broker_order_id is None
    rejected = execution_report_reply([(35, "8"), (11, "X-3"), (17, "E11"), (150, "8"), (39, "8"), (103, "1")])
    assert rejected is not None and rejected.status == "REJECTED" and not rejected.unknown_order
    assert execution_report_reply([(35, "8"), (17, "E12"), (39, "0")]) is None
