"""Holdings files: broker exports read to the same account as the plain CSV; every unreadable row is an error."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import Result
from hypothesis import given
from hypothesis import strategies as st

from allocator.config.schema import HoldingsColumns
from allocator.domain import Holdings
from allocator.errors import DataError
from allocator.files.cells import is_ticker, parse_number
from allocator.files.reading import FileLimits
from allocator.inputs.holdings import read_holdings
from tests.conftest import BASE_CONFIG, EXAMPLE_HOLDINGS, TEST_DATA

BROKERS = TEST_DATA / "brokers"
SAMPLES = ["schwab_positions.csv", "fidelity_positions.csv", "vanguard_positions.csv", "ibkr_activity_statement.csv"]


def _account(holdings: Holdings) -> tuple[dict[str, float], Decimal]:
    return {p.symbol: p.quantity for p in holdings.positions}, holdings.cash_value


def _write(tmp_path: Path, text: str, name: str = "holdings.csv", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


# --- numbers and tickers -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "expected"), [
    ("1234.56", "1234.56"), ("$1,234.56", "1234.56"), ("1,000", "1000"), ("(12.50)", "-12.50"),
    ("($1,000.00)", "-1000.00"), ("-$5.00", "-5.00"), ("$-5.00", "-5.00"), ("+$2.62", "2.62"), ("+28.21%", "28.21"),
    (" 513.000 ", "513.000"), ("1\u00a0000", "1000"), ("1e3", "1E+3"), (".5", "0.5"), ("USD 12", "12"),
])
def test_parse_number_reads_broker_money_and_quantity_strings(text: str, expected: str) -> None:
    assert parse_number(text) == Decimal(expected)


@pytest.mark.parametrize("text", ["", "--", "-", "N/A", "na", "None", "null", "  "])
def test_parse_number_missing_values_are_none(text: str) -> None:
    assert parse_number(text) is None


@pytest.mark.parametrize(("text", "why"), [
    ("abc", "not a number: 'abc'"), ("1,5", "thousands separators must group 3 digits"),
    ("1,23,456", "thousands separators must group 3 digits"), ("NaN", "not a number: 'NaN'"),
    ("inf", "not a number: 'inf'"), ("1e400", "out of range"), ("12..5", "not a number"), ("$", "not a number"),
    ("1.234,56", "thousands separators"),
])
def test_parse_number_refuses_what_it_would_misread(text: str, why: str) -> None:
    with pytest.raises(ValueError, match=why.replace("(", r"\(").replace(")", r"\)")):
        parse_number(text)


def test_tickers() -> None:
    assert all(is_ticker(s) for s in ("SPY", "brk.b", "BRK/B", "BF-B", "^GSPC", "BRK B", "912828XX1"))
    assert not any(is_ticker(s) for s in ("", "=1+2", "@SUM(A1)", "+SPY", "-SPY", "SPY;rm", "A" * 33, "Total: $5"))


# --- broker exports -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("sample", SAMPLES)
def test_broker_export_reads_to_the_same_holdings_as_the_plain_csv(sample: str) -> None:
    plain = read_holdings(EXAMPLE_HOLDINGS, allow_fractional=False)
    export = read_holdings(BROKERS / sample, allow_fractional=False)
    assert _account(export) == _account(plain)
    assert export.cash_value == Decimal("30136.04")
    assert [p.symbol for p in export.positions] == [p.symbol for p in plain.positions]
    assert export.warnings == ()
    # the broker's price is the example's last close of each fund
    lines = (EXAMPLE_HOLDINGS.parent / "prices.csv").read_text().splitlines()
    closes = dict(zip(lines[0].split(","), lines[-1].split(","), strict=True))
    assert closes["date"] == "2026-01-16"
    assert all(p.price == pytest.approx(float(closes[p.symbol])) for p in export.positions)


def test_what_each_export_leaves_out_and_counts_as_cash_is_listed() -> None:
    schwab = read_holdings(BROKERS / "schwab_positions.csv")
    assert schwab.cash_rows == ("row 16: Cash & Cash Investments 30136.04",)
    assert schwab.skipped_rows == ("row 17: Account Total",)
    fidelity = read_holdings(BROKERS / "fidelity_positions.csv")
    assert fidelity.cash_rows == ("row 2: SPAXX** 29886.04", "row 15: Pending Activity 250.00")
    assert [s.split(":")[0] for s in fidelity.skipped_rows] == ["row 17", "row 19", "row 20"]
    vanguard = read_holdings(BROKERS / "vanguard_positions.csv")
    assert vanguard.cash_rows == ("row 2: VMFXX 30136.04",)
    assert vanguard.skipped_rows[0].startswith("row 18: a transactions table starts here")
    ibkr = read_holdings(BROKERS / "ibkr_activity_statement.csv")
    assert ibkr.cash_rows == ("row 35: CASH 30136.04",)


def test_a_run_on_each_export_gives_the_same_bytes_as_the_plain_csv(tmp_path: Path) -> None:
    from allocator.orders.export import trades_csv
    from allocator.outputs.run_files import weights_csv
    from allocator.outputs.summary import summary_json
    from allocator.outputs.trade_rows import trade_sheet
    from allocator.pipeline import run

    def files(holdings: Path) -> tuple[bytes, bytes, bytes]:
        result = run(holdings, BASE_CONFIG)
        return weights_csv(result), trades_csv(trade_sheet(result)), summary_json(result)

    plain = files(EXAMPLE_HOLDINGS)
    assert plain[1].count(b"\n") > 3
    for sample in SAMPLES:
        assert files(BROKERS / sample) == plain, sample


def test_older_schwab_layout_with_security_type_and_money_market_fund(tmp_path: Path) -> None:
    path = _write(tmp_path, '"Positions for account Individual XXXX-1234 as of 04:00 PM ET, 01/16/2026"\r\n\r\n'
                  '"Symbol","Description","Quantity","Price","Price Change %","Market Value","Security Type",\r\n'
                  '"SPY","SPDR S&P 500 ETF","1,000","$694.17","0.5%","$694,170.00","ETFs & Closed End Funds",\r\n'
                  '"SWVXX","SCHWAB VALUE ADVANTAGE MONEY","5,000","$1.00","0%","$5,000.00","Cash and Money Market",\r\n'
                  '"Cash & Cash Investments","--","--","--","--","$1,234.56","Cash and Money Market",\r\n'
                  '"Account Total","--","--","--","--","$700,404.56","--",\r\n')
    holdings = read_holdings(path)
    assert _account(holdings) == ({"SPY": 1000.0}, Decimal("6234.56"))


def test_column_map_covers_another_layout(tmp_path: Path) -> None:
    path = _write(tmp_path, "Fund;Units Held\nignored\nInstrument Code,Units Held,Unit Price\nSPY,10,694.17\n"
                  "AGG,5,99.23\n")
    columns = HoldingsColumns(symbol="Instrument Code", quantity="Units Held", price="Unit Price")
    holdings = read_holdings(path, columns)
    assert _account(holdings) == ({"SPY": 10.0, "AGG": 5.0}, Decimal(0))
    assert holdings.positions[0].price == 694.17


def test_column_map_naming_an_absent_column_says_which(tmp_path: Path) -> None:
    path = _write(tmp_path, "symbol,quantity\nSPY,10\n")
    with pytest.raises(DataError, match=r"data.holdings_columns.quantity 'Units'"):
        read_holdings(path, HoldingsColumns(quantity="Units"))


def test_an_export_of_several_accounts_needs_one_chosen(tmp_path: Path) -> None:
    text = ("Account Number,Symbol,Quantity,Current Value\nZ1,SPAXX**,,$100.00\nZ1,SPY,10,$6941.70\n"
            "Z2,SPAXX**,,$50.00\nZ2,SPY,3,$2082.51\nZ2,AGG,4,$396.92\n\n\"Date downloaded 01/16/2026\"\n")
    path = _write(tmp_path, text)
    with pytest.raises(DataError, match=r"positions of 2 accounts \(Z1, Z2\); set data.holdings_account"):
        read_holdings(path)
    assert _account(read_holdings(path, account="Z2")) == ({"SPY": 3.0, "AGG": 4.0}, Decimal("50.00"))
    with pytest.raises(DataError, match=r"no rows for account 'Z3' \(accounts in the file: Z1, Z2\)"):
        read_holdings(path, account="Z3")


def test_a_symbol_read_before_is_cash_only_where_the_call_says_so(tmp_path: Path) -> None:
    """What a symbol's patterns say is kept per symbol (a book repeats its symbols); the configured cash symbols
    are still each call's own."""
    path = _write(tmp_path, "symbol,quantity\nMMDA1,250\nSPY,3\n")
    assert _account(read_holdings(path)) == ({"MMDA1": 250.0, "SPY": 3.0}, Decimal(0))
    assert _account(read_holdings(path, cash_symbols=["mmda1"])) == ({"SPY": 3.0}, Decimal(250))
    assert _account(read_holdings(path)) == ({"MMDA1": 250.0, "SPY": 3.0}, Decimal(0))


def test_ibkr_statement_lot_rows_forex_and_refusals(tmp_path: Path) -> None:
    head = ("Statement,Header,Field Name,Field Value\nAccount Information,Header,Field Name,Field Value\n"
            "Account Information,Data,Account,U1\nAccount Information,Data,Base Currency,USD\n"
            "Open Positions,Header,DataDiscriminator,Asset Category,Currency,Symbol,Quantity,Mult,Close Price,Value\n"
            "Open Positions,Data,Summary,Stocks,USD,SPY,10,1,694.17,6941.70\n"
            "Open Positions,Data,Lot,Stocks,USD,SPY,10,1,694.17,6941.70\n"
            "Open Positions,Data,Summary,Forex,EUR,EUR,100,1,1.1,110\n")
    cash = "Cash Report,Header,Currency Summary,Currency,Total\nCash Report,Data,Ending Cash,Base Currency Summary,55\n"
    holdings = read_holdings(_write(tmp_path, head + cash))
    assert _account(holdings) == ({"SPY": 10.0}, Decimal(55))
    assert holdings.skipped_rows == ("row 8: forex balance EUR (cash is read from the Cash Report)",)
    with pytest.raises(DataError, match="is for account U1, not U2"):
        read_holdings(_write(tmp_path, head + cash), account="U2")
    option = "Open Positions,Data,Summary,Equity and Index Options,USD,SPY 260320C00700000,1,100,12.5,1250\n"
    with pytest.raises(DataError, match=r"row 9: Asset Category: SPY 260320C00700000 is Equity and Index Options"):
        read_holdings(_write(tmp_path, head + option + cash))
    euro = "Open Positions,Data,Summary,Stocks,EUR,SAP,5,1,200,1000\n"
    with pytest.raises(DataError, match=r"row 9: Currency: SAP is held in EUR, not the base currency USD"):
        read_holdings(_write(tmp_path, head + euro + cash))
    with pytest.raises(DataError, match="the statement has no cash"):
        read_holdings(_write(tmp_path, head))


@pytest.mark.parametrize(("text", "message"), [
    ("symbol,quantity\nSPY,1,000\n", "row 2: 3 filled cells but the header has 2 columns ('000' is beyond the last)"),
    ("symbol,quantity\n,100\n", "row 2: symbol: empty symbol"),
    ("symbol,quantity\nApple Inc. (common stock),100\n", "row 2: symbol: 'Apple Inc. (common stock)' is not a ticker"),
    ("symbol,quantity\nSPY,NaN\n", "row 2: quantity: not a number: 'NaN'"),
    ("symbol,quantity\nSPY,\n", "row 2: quantity: missing quantity for SPY"),
    ("symbol,quantity\nSPY,\"1,5\"\n", "row 2: quantity: not a number: '1,5' (thousands separators"),
    ("symbol,quantity\nSPY,1e400\n", "row 2: quantity: out of range: '1e400'"),
    ("symbol,quantity\nSPY,(100)\n", "negative quantity -100 for SPY in a long-only account"),
    ("symbol,quantity,price\nSPY,10,0\n", "row 2: price: price 0 for SPY is not positive"),
    ("symbol,quantity\nSPY,10\nCASH,-20\n", "cash is negative (-20)"),
    ("symbol,quantity\nSPY,10\nAGG,1\nSPY,2\n", "row 4: symbol: duplicate symbol SPY (also on row 2)"),
    ("symbol,quantity\nSPY,10\n\nAcct,Symbol,Shares\nZ,AGG,1\n", "row 4: a second positions table starts here"),
    ("Symbol,Qty\n", "no positions and no cash found"),
    ("ticker\nSPY\n", "no header with a symbol and a quantity column in the first 50 rows (first row: 'ticker')"),
])
def test_rows_the_reader_cannot_account_for_are_errors(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(DataError) as caught:
        read_holdings(_write(tmp_path, text))
    assert message in caught.value.message()


def test_notes_without_amounts_are_skipped_and_listed_but_blank_lines_end_nothing(tmp_path: Path) -> None:
    text = "\ufeffsymbol,quantity\r\nSPY,10\r\n\r\nAGG,5\r\n* prices are delayed,\r\nTotal,15\r\n"
    holdings = read_holdings(_write(tmp_path, text))
    assert _account(holdings) == ({"SPY": 10.0, "AGG": 5.0}, Decimal(0))
    assert holdings.skipped_rows == ("row 5: * prices are delayed", "row 6: Total")


def test_cp1252_export_and_a_market_value_that_disagrees(tmp_path: Path) -> None:
    text = "Symbol,Description,Quantity,Price,Market Value\nSPY,S&P 500 \u2013 ETF,10,$694.17,\"$9,000.00\"\n"
    holdings = read_holdings(_write(tmp_path, text, encoding="cp1252"))
    assert _account(holdings) == ({"SPY": 10.0}, Decimal(0))
    assert "quantity x price = 6,941.70 but the market value is 9,000.00" in holdings.warnings[0]


def test_fractional_quantities_only_when_allowed(tmp_path: Path) -> None:
    path = _write(tmp_path, "symbol,quantity\nSPY,10.5\n")
    assert read_holdings(path, allow_fractional=True).positions[0].quantity == 10.5
    with pytest.raises(DataError, match=r"fractional quantity 10\.5 for SPY; set trading\.fractional_shares: true"):
        read_holdings(path, allow_fractional=False)


def test_size_and_row_limits(tmp_path: Path) -> None:
    path = _write(tmp_path, "symbol,quantity\n" + "".join(f"S{i},1\n" for i in range(100)))
    with pytest.raises(DataError, match=r"more than 9 rows; raise data\.max_rows"):
        read_holdings(path, limits=FileLimits(max_rows=9))
    with pytest.raises(DataError, match=r"holdings file is 606 bytes, above the limit of 100 bytes"):
        read_holdings(path, limits=FileLimits(max_bytes=100))
    huge = _write(tmp_path, "symbol,quantity\nSPY,\"" + "9" * 200_000 + "\"\n", name="huge.csv")
    with pytest.raises(DataError, match=r"row 2: cannot read the row as CSV \(field larger than field limit"):
        read_holdings(huge)


@given(st.text(max_size=20))
def test_parse_number_never_fails_but_with_value_error(text: str) -> None:
    try:
        value = parse_number(text)
    except ValueError as exc:
        assert repr(text) in str(exc)
    else:
        assert value is None or (value.is_finite() and abs(value) < Decimal("1e15"))


@given(st.decimals(min_value=Decimal("-1e12"), max_value=Decimal("1e12"), places=2, allow_nan=False))
def test_parse_number_reads_back_what_a_broker_writes(value: Decimal) -> None:
    grouped = f"{abs(value):,.2f}"
    assert parse_number(f"${grouped}" if value >= 0 else f"(${grouped})") == value
    assert parse_number(f"{'-' if value < 0 else '+'}${grouped}") == value
    assert parse_number(str(value)) == value


@given(st.from_regex(r"[0-9]{1,16}(\.[0-9]{0,4})?|[0-9 .,+\-$()%]{1,8}", fullmatch=True), st.booleans())
def test_a_quantity_reads_as_its_number_twice_over(cell: str, fractional: bool) -> None:
    """A plain quantity cell is read once and its reading kept (``_plain_quantity``): the kept reading is what
    ``parse_number`` gives, with the same errors, the first time and the next."""
    from allocator.inputs.holdings import holdings_from_text

    def outcome() -> tuple[str, ...]:
        try:
            holdings = holdings_from_text(f'symbol,quantity\nSPY,"{cell}"\n', "h.csv", allow_fractional=fractional)
        except DataError as exc:
            return ("error", exc.message())
        return ("read", repr(holdings.positions[0].quantity))

    try:
        number = None if cell.strip().endswith("%") else parse_number(cell)  # a percentage is no quantity
    except ValueError:
        number = None
    first = outcome()
    assert outcome() == first
    if number is not None and number >= 0 and (fractional or number == number.to_integral_value()):
        assert first == ("read", repr(float(number)))
    elif number is not None and number >= 0:
        assert first[0] == "error" and f"fractional quantity {number} for SPY" in first[1]
    else:
        assert first[0] == "error"


def test_validate_lists_what_the_export_counted_as_cash_and_skipped(cli: Callable[..., Result]) -> None:
    result = cli("validate", BROKERS / "fidelity_positions.csv", "-c", BASE_CONFIG)
    assert result.exit_code == 0, result.output
    assert "holdings: counted as cash: row 2: SPAXX** 29886.04\n" in result.stdout
    assert "holdings: counted as cash: row 15: Pending Activity 250.00\n" in result.stdout
    assert "holdings: not a position, skipped: row 20: Date downloaded 01/16/2026 4:05 PM ET\n" in result.stdout


@pytest.mark.parametrize("text", [
    # TWS "Portfolio" export
    "Financial Instrument,Position,Currency,Market Price,Market Value,Average Price,Unrealized P&L\n"
    "SPY,513,USD,694.17,356109.21,541.45,78345.36\nAGG,2267,USD,99.23,224954.41,95.10,9362.71\n",
    # Flex Query "Open Positions" with quoted headers
    '"ClientAccountID","AssetClass","Symbol","Quantity","MarkPrice","PositionValue","CostBasisMoney"\n'
    '"U4417082","STK","SPY","513","694.17","356109.21","277763.85"\n'
    '"U4417082","STK","AGG","2267","99.23","224954.41","215591.70"\n',
])
def test_other_interactive_brokers_layouts_read_by_their_column_names(tmp_path: Path, text: str) -> None:
    holdings = read_holdings(_write(tmp_path, text))
    assert _account(holdings) == ({"SPY": 513.0, "AGG": 2267.0}, Decimal(0))
    assert [p.price for p in holdings.positions] == [694.17, 99.23]
    assert holdings.warnings == ()


@pytest.mark.parametrize("text, message", [
    ("symbol,quantity,price\nSPY,10,500\nCASH,25,000.50\n",
     "row 3: price: cash row 'CASH' has a price of 0.50; a cash or money-market row is worth its quantity"),
    ("symbol,quantity,price\nSPY,10,500\nCASH,25000.50,0\n", "row 3: price: cash row 'CASH' has a price of 0"),
    ("symbol,quantity,lot_size\nIWO,1,0.5\n", "row 2: lot_size: fractional lot size 0.5 for IWO"),
    ("symbol,quantity\nSPY,10%\n", "row 2: quantity: a percentage where quantity goes: '10%'"),
])
def test_cash_prices_fractional_lots_and_percentages_are_refused(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "holdings.csv"
    path.write_text(text)
    with pytest.raises(DataError, match=message.replace("(", r"\(").replace(")", r"\)")):
        read_holdings(path, allow_fractional=False)


def test_a_money_market_row_at_one_dollar_is_cash(tmp_path: Path) -> None:
    path = tmp_path / "holdings.csv"
    path.write_text("symbol,quantity,price\nSPY,10,500\nSPAXX**,1234.56,1.00\n")
    assert read_holdings(path).cash_value == Decimal("1234.56")


def test_a_holdings_price_far_from_the_last_close_is_named(tmp_path: Path) -> None:
    """NAV and the trades use the holdings price: 800 for SPY against a close of 694.17 is named, not absorbed."""
    from click.testing import CliRunner

    from allocator.cli import main

    path = tmp_path / "holdings.csv"
    rows = EXAMPLE_HOLDINGS.read_text().strip().splitlines()
    prices = {"SPY": "800.00", "QQQ": "625.00"}
    path.write_text("symbol,quantity,price\n" + "".join(f"{row},{prices.get(row.split(',')[0], '')}\n"
                                                        for row in rows[1:]))
    result = CliRunner().invoke(main, ["validate", str(path), "-c", str(BASE_CONFIG)])
    assert result.exit_code == 0, result.output
    assert ("SPY: the holdings price 800.00 is +15% from the last close 694.17 on 2026-01-16; NAV and the trades use "
            "the holdings price") in result.stderr
    assert "QQQ: the holdings price" not in result.stderr  # 625.00 against 623.23 is a normal difference


@pytest.mark.parametrize("spelling", ["BRK.B", "BRK/B", "BRK-B", "BRK B", "brk.b", " brk/b "])
def test_share_classes_have_one_spelling(spelling: str) -> None:
    from allocator.files.cells import canonical_symbol

    assert canonical_symbol(spelling) == "BRK.B"
    assert canonical_symbol("SPY") == "SPY" and canonical_symbol("^IRX") == "^IRX"


def test_two_spellings_of_one_security_are_refused(tmp_path: Path) -> None:
    """Holding BRK/B and BRK.B is one security held twice, not two: refused, naming both rows."""
    from allocator.inputs.holdings import read_holdings

    path = tmp_path / "holdings.csv"
    path.write_text("symbol,quantity\nBRK/B,10\nSPY,5\nBRK.B,3\n")
    with pytest.raises(DataError, match=r"duplicate symbol BRK\.B"):
        read_holdings(path)
    prices = tmp_path / "prices.csv"
    prices.write_text("date,BRK-B,BRK.B\n2026-01-02,1,1\n2026-01-05,1,1\n")
    from allocator.inputs.market_data import read_prices

    with pytest.raises(DataError, match=r"symbol BRK\.B appears in two columns \(as BRK\.B\)"):
        read_prices(prices)


@pytest.mark.parametrize(("fmt", "name", "what"), [
    ("csv", "trades.csv", "a trade list written by allocate (trades.csv)"),
    ("basket", "basket.csv", "an Interactive Brokers basket (basket.csv)"),
])
def test_the_project_s_own_outputs_are_refused_as_holdings(fmt: str, name: str, what: str, tmp_path: Path) -> None:
    """A trade list or a basket given as HOLDINGS would turn SELL quantities into positions: refused by name."""
    from click.testing import CliRunner

    from allocator.cli import main

    out = tmp_path / "out"
    ran = CliRunner().invoke(main, ["run", str(EXAMPLE_HOLDINGS), "-c", str(BASE_CONFIG), "-o", str(out), "-q",
                                    "--format", fmt])
    assert ran.exit_code == 0, ran.output
    result = CliRunner().invoke(main, ["validate", str(out / name), "-c", str(BASE_CONFIG)])
    assert result.exit_code == 4
    assert f"Error: {out / name}: row 1: this is {what}" in result.stderr


def test_each_account_of_a_book_reads_its_own_rows_as_the_file_read_for_it() -> None:
    """``account_rows`` splits a book; each account's rows read (``split``: no row looked at for another account)
    to what they read looked at row by row, errors included (an account whose own rows hold nothing has no rows),
    and to the positions and cash ``holdings_from_text(..., account=name)`` reads from the whole file."""
    import dataclasses

    from allocator.inputs.holdings import account_rows, holdings_from_text

    book = ("account,symbol,quantity,price\nA1,AAA,10,5.5\n a1 ,BBB,3,\n,CASH,100,\nA2,AAA,4,5.5\n"
            "A3,* a note,,\n,Total,117,\nA2,CCC,1.5,\n")

    def outcome(read: Callable[[], Holdings]) -> str:
        try:
            return repr(read())
        except DataError as exc:
            return exc.message()

    accounts = account_rows(book, "book.csv", allow_fractional=False)
    assert sorted(accounts) == ["A1", "A2", "A3"] and all(rows.split for rows in accounts.values())
    for name, rows in accounts.items():
        assert outcome(rows.holdings) == outcome(dataclasses.replace(rows, split=False).holdings), name
    assert "row 8: quantity: fractional quantity 1.5 for CCC" in outcome(accounts["A2"].holdings)
    assert "no rows for account 'A3'" in outcome(accounts["A3"].holdings)
    split, whole = accounts["A1"].holdings(), holdings_from_text(book, "book.csv", account="a1")
    assert (split.positions, split.cash_value, split.cash_rows) == (whole.positions, whole.cash_value, whole.cash_rows)
