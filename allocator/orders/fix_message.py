"""FIX 4.4 tag=value messages: NewOrderSingle (35=D) fields for an order, encoding with BodyLength and CheckSum,
and parsing with both checked.

A message is ``8=FIX.4.4 9=<BodyLength> 35=... ... 10=<CheckSum>`` with fields ending in SOH (byte 0x01).
BodyLength counts the bytes from the field after 9 up to and including the SOH before 10; CheckSum is the sum of
every byte before ``10=`` modulo 256, three digits. Files may show ``|`` in place of SOH for reading; the
checksum is always that of the SOH form (the bytes on the wire), so ``tr '|' '\\001'`` gives wire-ready messages.

Code maps (FIX 4.4): Side 1 buy, 2 sell; OrdType 1 market, 2 limit; TimeInForce 0 DAY, 1 GTC, 2 OPG (at the
opening), 7 CLS (at the close); HandlInst 1 (automated execution, no broker intervention).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

from allocator.config.schema import OrderType, TimeInForce
from allocator.files.cells import quantity_text
from allocator.orders.ids import Order
from allocator.terms import BUY, SELL

SOH = "\x01"
PIPE = "|"
BEGIN_STRING = "FIX.4.4"
SIDE_CODES = {BUY: "1", SELL: "2"}
ORDER_TYPE_CODES = {OrderType.MARKET: "1", OrderType.LIMIT: "2"}
TIME_IN_FORCE_CODES = {TimeInForce.DAY: "0", TimeInForce.GTC: "1", TimeInForce.OPG: "2", TimeInForce.CLS: "7"}
HANDL_INST_AUTOMATED = "1"

ORD_STATUS_NAMES = {"0": "ACKNOWLEDGED", "1": "PARTIALLY_FILLED", "2": "FILLED", "3": "DONE_FOR_DAY", "4": "CANCELED",
                    "5": "REPLACED", "6": "PENDING_CANCEL", "7": "STOPPED", "8": "REJECTED", "9": "SUSPENDED",
                    "A": "PENDING_NEW", "B": "CALCULATED", "C": "EXPIRED", "D": "ACCEPTED_FOR_BIDDING",
                    "E": "PENDING_REPLACE"}
REJECTED = "REJECTED"
TERMINAL = frozenset({"FILLED", "REJECTED", "CANCELED", "EXPIRED", "DONE_FOR_DAY", "REPLACED"})
EXEC_TYPE_ORDER_STATUS = "I"
ORD_REJ_UNKNOWN_ORDER = "5"

Fields = list[tuple[int, str]]


@dataclass(frozen=True)
class Reply:
    """What the broker said about one order: an ExecutionReport, or a reject of our message.

    ``status`` is the FIX OrdStatus by name (``ACKNOWLEDGED`` for New, ``FILLED``, ``REJECTED``, ...); quantities
    in shares, prices in the account currency. ``unknown_order`` marks the answer to a status request for an
    order the broker has never seen (ExecType I, OrdStatus 8, OrdRejReason 5 unknown order).
    """

    client_order_id: str
    exec_id: str | None
    status: str
    cum_quantity: Decimal | None = None
    average_price: Decimal | None = None
    leaves_quantity: Decimal | None = None
    broker_order_id: str | None = None
    text: str | None = None
    unknown_order: bool = False


class FixFormatError(ValueError):
    """A message that cannot be encoded (a value holds the delimiter) or parsed (bad framing, length, checksum)."""


def utc_timestamp(moment: datetime) -> str:
    """FIX UTCTimestamp, whole seconds: ``YYYYMMDD-HH:MM:SS``."""
    return moment.strftime("%Y%m%d-%H:%M:%S")


def checksum(data: bytes) -> str:
    return f"{sum(data) % 256:03d}"


def new_order_single_body(order: Order) -> Fields:
    """The body of a NewOrderSingle for ``order``, without the standard header and trailer."""
    fields: Fields = [(11, order.client_order_id)]
    if order.account is not None:
        fields.append((1, order.account))
    fields.append((21, HANDL_INST_AUTOMATED))
    if order.destination is not None:
        fields.append((100, order.destination))
    fields += [(55, order.symbol), (54, SIDE_CODES[order.side]), (60, utc_timestamp(order.transact_time)),
               (38, quantity_text(order.quantity)), (40, ORDER_TYPE_CODES[order.order_type])]
    if order.limit_price is not None:
        fields.append((44, str(order.limit_price)))
    fields += [(59, TIME_IN_FORCE_CODES[order.time_in_force]), (15, order.currency)]
    return fields


def encode(msg_type: str, header: Fields, body: Fields, delimiter: str = SOH) -> str:
    """A complete message: BeginString, BodyLength, MsgType, ``header``, ``body``, CheckSum."""
    fields = [(35, msg_type), *header, *body]
    for tag, value in fields:
        if not value or SOH in value or (delimiter != SOH and delimiter in value):
            raise FixFormatError(f"tag {tag}: value {value!r} is empty or holds the field delimiter")
    payload = "".join(f"{tag}={value}{SOH}" for tag, value in fields).encode("utf-8")
    head = f"8={BEGIN_STRING}{SOH}9={len(payload)}{SOH}".encode()
    message = head + payload
    text = (message + f"10={checksum(message)}{SOH}".encode()).decode("utf-8")
    return text if delimiter == SOH else text.replace(SOH, delimiter)


def decode(text: str, delimiter: str = SOH) -> Fields:
    """The fields of one message (``8`` ... ``10``), with BodyLength and CheckSum verified."""
    wire = (text if delimiter == SOH else text.replace(delimiter, SOH)).encode("utf-8")
    if not wire.endswith(SOH.encode()):
        raise FixFormatError("the message does not end with a field delimiter")
    fields: Fields = []
    for raw in wire[:-1].split(SOH.encode()):
        tag, sep, value = raw.partition(b"=")
        if not sep or not tag.isdigit():
            raise FixFormatError(f"not a tag=value field: {raw.decode('utf-8', 'replace')!r}")
        fields.append((int(tag), value.decode("utf-8")))
    if len(fields) < 4 or [t for t, _ in fields[:3]] != [8, 9, 35] or fields[-1][0] != 10:
        raise FixFormatError("a message must start with 8, 9, 35 and end with 10")
    trailer_at = wire.rindex(f"{SOH}10=".encode()) + 1
    body_start = len(f"8={fields[0][1]}{SOH}9={fields[1][1]}{SOH}".encode())
    if fields[1][1] != str(trailer_at - body_start):
        raise FixFormatError(f"BodyLength {fields[1][1]} != {trailer_at - body_start}")
    if fields[-1][1] != checksum(wire[:trailer_at]):
        raise FixFormatError(f"CheckSum {fields[-1][1]} != {checksum(wire[:trailer_at])}")
    return fields


def field_map(fields: Sequence[tuple[int, str]]) -> dict[int, str]:
    """Tag -> value (the first occurrence; NewOrderSingle and ExecutionReport fields used here do not repeat)."""
    found: dict[int, str] = {}
    for tag, value in fields:
        found.setdefault(tag, value)
    return found


def _decimal_or_none(value: str | None) -> Decimal | None:
    if value is None:
        return None
    try:
        number = Decimal(value)
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def execution_report_reply(fields: Sequence[tuple[int, str]]) -> Reply | None:
    """The reply in an ExecutionReport (35=8); None when it names no ClOrdID."""
    found = field_map(fields)
    client_order_id = found.get(11)
    if not client_order_id:
        return None
    status = ORD_STATUS_NAMES.get(found.get(39, ""), f"ORD_STATUS_{found.get(39, '?')}")
    unknown = (found.get(150) == EXEC_TYPE_ORDER_STATUS and found.get(39) == "8"
               and found.get(103) == ORD_REJ_UNKNOWN_ORDER)
    order_id = found.get(37)
    return Reply(client_order_id=client_order_id, exec_id=found.get(17), status=status,
                 cum_quantity=_decimal_or_none(found.get(14)), average_price=_decimal_or_none(found.get(6)),
                 leaves_quantity=_decimal_or_none(found.get(151)),
                 broker_order_id=order_id if order_id and order_id != "NONE" else None, text=found.get(58),
                 unknown_order=unknown)


def order_status_request_body(order: Order) -> Fields:
    """An OrderStatusRequest (35=H) for ``order``: ClOrdID, Symbol and Side (required in FIX 4.4)."""
    return [(11, order.client_order_id), (790, f"Q-{order.client_order_id}"), (55, order.symbol),
            (54, SIDE_CODES[order.side])]


def order_from_fields(fields: Sequence[tuple[int, str]], where: str) -> Order:
    """The order in a NewOrderSingle read from a file; raises FixFormatError naming what is missing or wrong."""
    found = field_map(fields)
    if found.get(35) != "D":
        raise FixFormatError(f"{where}: MsgType {found.get(35)!r} is not a NewOrderSingle (D)")
    missing = [str(t) for t in (11, 55, 54, 38, 40, 60) if not found.get(t)]
    if missing:
        raise FixFormatError(f"{where}: missing tag(s) {', '.join(missing)}")
    sides = {code: side for side, code in SIDE_CODES.items()}
    types = {code: kind for kind, code in ORDER_TYPE_CODES.items()}
    forces = {code: tif for tif, code in TIME_IN_FORCE_CODES.items()}
    if found[54] not in sides or found[40] not in types or found.get(59, "0") not in forces:
        raise FixFormatError(f"{where}: Side {found[54]!r}, OrdType {found[40]!r} or TimeInForce "
                             f"{found.get(59)!r} is not one allocate writes (54=1/2, 40=1/2, 59=0/1/2/7)")
    quantity = _decimal_or_none(found[38])
    price = _decimal_or_none(found.get(44))
    if quantity is None or quantity <= 0 or (types[found[40]] is OrderType.LIMIT and (price is None or price <= 0)):
        raise FixFormatError(f"{where}: OrderQty {found[38]!r} or Price {found.get(44)!r} is not a positive number")
    try:
        moment = datetime.strptime(found[60].split(".")[0], "%Y%m%d-%H:%M:%S").replace(tzinfo=UTC)
    except ValueError:
        raise FixFormatError(f"{where}: TransactTime {found[60]!r} is not YYYYMMDD-HH:MM:SS") from None
    return Order(client_order_id=found[11], symbol=found[55], side=sides[found[54]], quantity=quantity,
                 order_type=types[found[40]], limit_price=price if types[found[40]] is OrderType.LIMIT else None,
                 time_in_force=forces[found.get(59, "0")], account=found.get(1), destination=found.get(100),
                 currency=found.get(15, "USD"), transact_time=moment)
