"""Properties of the readers against misreading (README "Hostile input"): a value that is not what its place
needs is refused, never converted into something plausible.

- any YAML scalar that is not a number, given where the config takes a number, is refused with its key;
- any date text that is not YYYY-MM-DD is refused, as ``--as-of`` and in a price file;
- any holdings file built from a trade list or an order basket (any of their columns, in any order) is refused;
- traded quantities are exact decimal multiples of the lot, for random lot sizes, in the trade list's text too.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from allocator.config.loader import load_config
from allocator.config.schema import Config
from allocator.errors import ConfigError, DataError, UsageError
from allocator.files.cells import quantity_text
from allocator.inputs.holdings import read_holdings
from allocator.inputs.market_data import ISO_DATE_TIME, read_prices
from allocator.orders.trade_sheet import TRADE_COLUMNS
from allocator.pipeline import prepare, run
from tests.conftest import TEST_DATA, example_scale

INPUTS = TEST_DATA / "bad" / "_inputs"
EXAMPLES = max(1, int(150 * example_scale()))


def _numeric_keys(model: type[BaseModel], prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every config key path that takes a plain number (nested sections walked; lists and maps left out)."""
    from allocator.config import schema

    found: list[tuple[str, ...]] = []
    for name, field in model.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            found += _numeric_keys(annotation, (*prefix, name))
        elif schema.numbers_only(annotation):
            found.append((*prefix, name))
    return found


NUMERIC_KEYS = _numeric_keys(Config)


def _nested(path: tuple[str, ...], value: Any) -> dict[str, Any]:
    out: Any = value
    for key in reversed(path):
        out = {key: out}
    return dict(out)


NOT_NUMBERS = st.one_of(
    st.booleans(),
    st.sampled_from(["off", "on", "yes", "no", "y", "n", "none", "null", "~", "nan", ".nan", "inf", "5%", "1,5",
                     "1_000", "0x10", "1e", "-", "", "five", "0.05 ", "$5"]),
    st.floats(allow_nan=False, allow_infinity=False).map(str),  # a number in quotes is text
    st.text(max_size=12),
)


@pytest.fixture(scope="module")
def config_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("configs")
    shutil.copytree(INPUTS, folder / "_inputs")
    return folder


UNQUOTED = st.sampled_from(["off", "on", "yes", "no", "y", "n", "Off", "YES", "true", "false", "True", "five", "5%",
                            "1,5", "$5", "0x1G", "1e", "one half", "8:24", "7_0", "0b1110", "0x10", "0o17", "0012",
                            "1_000.5"])  # as a user types them, without quotes (YAML 1.1 read some as numbers)


@settings(max_examples=EXAMPLES, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(path=st.sampled_from(NUMERIC_KEYS), value=st.one_of(NOT_NUMBERS, UNQUOTED.map(lambda word: ("raw", word))))
def test_a_scalar_that_is_not_a_number_is_refused_where_a_number_goes(config_folder: Path, path: tuple[str, ...],
                                                                      value: Any) -> None:
    if isinstance(value, tuple):  # written as typed: YAML 1.1 would read off as false, allocate reads it as text
        text = yaml.safe_dump(_nested(path, "PLACEHOLDER")).replace("PLACEHOLDER", value[1])
    else:
        text = yaml.safe_dump(_nested(path, value), default_style='"')  # quoted: text stays text
    config = config_folder / "c.yaml"
    config.write_text(f"extends: _inputs/config.yaml\n{text}")
    with pytest.raises(ConfigError) as caught:
        load_config(config)
    key = ".".join(path)
    assert any(line.startswith(f"{key}:") for line in caught.value.details), caught.value.details


NON_ISO_FORMATS = ["%m/%d/%Y", "%d/%m/%Y", "%d.%m.%Y", "%Y%m%d", "%d-%m-%Y", "%m-%d-%Y", "%b %d %Y", "%d %B %Y",
                   "%Y/%m/%d", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M:%S+00:00", "%Y-%m-%d %H:%M", "%y-%m-%d",
                   "%Y-%m-%dZ"]
NON_ISO_DATES = st.one_of(
    st.builds(lambda day, fmt: day.strftime(fmt), st.dates(dt.date(1990, 1, 1), dt.date(2040, 12, 31)),
              st.sampled_from(NON_ISO_FORMATS)),
    st.sampled_from(["today", "now", "yesterday", "latest", "2025-13-01", "2025-02-30", "2025-1-5", " 2025-01-05"]),
    st.text(max_size=12).filter(lambda text: not (len(text) == 10 and text[4] == "-" and text[7] == "-")),
)


@settings(max_examples=EXAMPLES)
@given(text=NON_ISO_DATES)
def test_an_as_of_date_that_is_not_iso_is_a_usage_error(text: str) -> None:
    with pytest.raises(UsageError) as caught:
        prepare(INPUTS / "holdings.csv", INPUTS / "config.yaml", as_of=text)
    assert caught.value.where == "--as-of"


@settings(max_examples=EXAMPLES, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=NON_ISO_DATES.filter(lambda text: not re.fullmatch(ISO_DATE_TIME, text.strip()) and text.strip() != ""
                                 and not set(text) & set(',"\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029')),
       row=st.integers(2, 80))
def test_a_price_date_that_is_not_iso_is_refused_with_its_row(tmp_path_factory: pytest.TempPathFactory, text: str,
                                                               row: int) -> None:
    lines = (INPUTS / "prices.csv").read_text().splitlines()
    lines[row - 1] = ",".join([text, *lines[row - 1].split(",")[1:]])
    path = tmp_path_factory.mktemp("prices") / "prices.csv"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(DataError) as caught:
        read_prices(path)
    assert caught.value.where.startswith(f"{path}: row {row}"), caught.value.message()


@st.composite
def trade_files(draw: st.DrawFn) -> str:
    """A trade list or a basket with random rows, any subset of its columns that still names the symbol, the
    quantity and the side, in any order, with the header in any case."""
    kind = draw(st.sampled_from(["trades", "basket"]))
    columns = list(TRADE_COLUMNS) if kind == "trades" else ["Action", "Quantity", "Symbol", "SecType", "Exchange",
                                                          "Currency", "TimeInForce", "OrderType", "LmtPrice"]
    side, quantity, symbol = ("side", "quantity", "symbol") if kind == "trades" else ("Action", "Quantity", "Symbol")
    kept = draw(st.lists(st.sampled_from(columns), unique=True).map(lambda cs: [*{side, quantity, symbol, *cs}]))
    kept = draw(st.permutations(kept))
    header = [draw(st.sampled_from([c, c.upper(), c.lower(), c.title()])) for c in kept]
    rows = []
    for _ in range(draw(st.integers(1, 8))):
        cells = {side: draw(st.sampled_from(["BUY", "SELL", "Buy", "sell"])),
                 quantity: str(draw(st.integers(1, 10_000))), symbol: draw(st.sampled_from(["AAA", "BBB", "CCC"]))}
        rows.append([cells.get(c, "1") for c in kept])
    return "\n".join(",".join(row) for row in [header, *rows]) + "\n"


@settings(max_examples=EXAMPLES, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=trade_files())
def test_a_holdings_file_built_from_a_trade_list_or_basket_is_refused(tmp_path_factory: pytest.TempPathFactory,
                                                                      text: str) -> None:
    path = tmp_path_factory.mktemp("holdings") / "holdings.csv"
    path.write_text(text)
    with pytest.raises(DataError) as caught:
        read_holdings(path)
    assert "not positions" in caught.value.what, caught.value.message()


LOTS = st.builds(lambda units, places: Decimal(units).scaleb(-places), st.integers(1, 250), st.integers(0, 4))


@pytest.mark.slow
@settings(max_examples=max(1, int(25 * example_scale())), deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lot=LOTS)
def test_traded_quantities_are_exact_multiples_of_any_lot(config_folder: Path, lot: Decimal) -> None:
    config = config_folder / "lots.yaml"
    config.write_text(f"extends: _inputs/config.yaml\ntrading: {{fractional_shares: true, lot_size: {lot}}}\n"
                      "constraints: {turnover_max: null}\n")
    result = run(INPUTS / "holdings.csv", config)
    places = max(0, -int(lot.normalize().as_tuple().exponent))
    for trade in result.trades.trades:
        assert trade.quantity % lot == 0, (trade.symbol, trade.quantity, lot)
        text = quantity_text(trade.quantity)  # as trades.csv, basket.csv and FIX tag 38 write it
        assert re.fullmatch(r"\d+(\.\d+)?", text) and len(text.partition(".")[2]) <= places, (text, lot)
        assert Decimal(text) % lot == 0
