"""The library call: what prepare reports about its inputs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from allocator.inputs.market_data import last_closes, read_prices
from allocator.pipeline import prepare
from tests.conftest import BASE_CONFIG, EXAMPLE_HOLDINGS, ROOT


def test_an_as_of_date_after_the_last_close_is_a_warning_not_a_silent_stale_run() -> None:
    prepared = prepare(EXAMPLE_HOLDINGS, BASE_CONFIG, as_of="2030-01-02")
    assert str(prepared.window.as_of.date()) == "2026-01-16"
    assert ("the prices end on 2026-01-16, before the as-of date 2030-01-02; the run uses the closes of 2026-01-16"
            in prepared.warnings)
    assert not any("as-of" in w for w in prepare(EXAMPLE_HOLDINGS, BASE_CONFIG, as_of="2026-01-16").warnings)


def test_inputs_are_recorded_by_absolute_path_with_their_digests(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    prepared = prepare("examples/holdings.csv", BASE_CONFIG)
    assert prepared.inputs["holdings"]["path"] == str(EXAMPLE_HOLDINGS)
    assert all(len(entry["sha256"]) == 64 for entry in prepared.inputs.values())


def test_a_holding_outside_the_universe_priced_from_an_old_close_is_named(example_copy: Path) -> None:
    prices = pd.read_csv(example_copy / "examples" / "prices.csv")
    prices["OLDF"] = prices["SPY"] / 10
    prices.loc[len(prices) - 8:, "OLDF"] = np.nan  # its last close 8 sessions before the as-of date
    prices["NEWF"] = prices["SPY"] / 5
    prices.loc[len(prices) - 3:, "NEWF"] = np.nan  # 3 sessions: recent enough
    prices.to_csv(example_copy / "examples" / "prices.csv", index=False)
    holdings = example_copy / "examples" / "holdings.csv"
    holdings.write_text(holdings.read_text() + "OLDF,10\nNEWF,10\n")
    prepared = prepare(holdings, example_copy / "configs" / "base.yaml")
    day = prices["date"].iloc[-9]
    assert (f"OLDF: priced from its close of {day}, 8 sessions before the as-of date; give its price in the "
            "holdings file") in prepared.warnings
    assert not any(w.startswith("NEWF: priced") for w in prepared.warnings)
    assert prepared.universe.outside_symbols == ("OLDF", "NEWF")


def test_last_closes_are_the_forward_filled_last_row(shared_data: Path) -> None:
    prices = read_prices(shared_data / "etf_prices_adjclose.csv").iloc[:-50]
    prices.iloc[-30:, 3] = np.nan
    prices["EMPTY"] = np.nan
    last = last_closes(prices)
    pd.testing.assert_series_equal(last["close"], prices.ffill().iloc[-1], check_names=False)
    valid = prices.notna().to_numpy()
    expected = [len(valid) - 1 - int(np.flatnonzero(column)[-1]) if column.any() else -1 for column in valid.T]
    assert last["sessions_old"].tolist() == expected and expected[3] == 30 and expected[-1] == -1


def test_run_holds_no_closes_through_the_solve_unless_given_the_prepared_inputs() -> None:
    """``run`` cuts the window it prepared to its last row once the model is computed (a large universe's closes
    were the largest array held through the solve); a caller's own ``Prepared`` is left as given."""
    from allocator.pipeline import run

    prepared = prepare(EXAMPLE_HOLDINGS, BASE_CONFIG)
    result = run(EXAMPLE_HOLDINGS, BASE_CONFIG)
    assert len(result.prepared.window.closes) == 1 and result.prepared.window.sessions == len(prepared.window.closes)
    assert result.as_of == prepared.window.as_of.date()
    given = run(EXAMPLE_HOLDINGS, BASE_CONFIG, prepared=prepared)
    assert given.prepared.window is prepared.window
    assert np.array_equal(given.allocation.weight, result.allocation.weight)


def test_accounts_of_one_model_share_its_asset_limits_and_get_the_limits_of_a_run_alone() -> None:
    """``prepare_account`` computes each asset's bounds and costs once per model and config
    (``constraints.asset_limits``); every account's limits are still those ``build_limits`` gives it alone."""
    import dataclasses
    from decimal import Decimal

    from allocator.optimize.constraints import build_limits
    from allocator.pipeline import prepare_account, prepare_model

    holdings = prepare(EXAMPLE_HOLDINGS, BASE_CONFIG).holdings
    model = prepare_model(BASE_CONFIG)
    first = prepare_account(model, holdings, {})
    richer = prepare_account(model, dataclasses.replace(holdings, cash_value=holdings.cash_value + Decimal(5000)), {})
    assert richer.limits.position_upper is first.limits.position_upper
    alone = build_limits(richer.config, richer.universe, richer.rsi, str(richer.loaded.path), model.risk.volatility)
    assert richer.limits.groups and len(richer.limits.groups) == len(alone.groups)
    for ours, theirs in [*((getattr(richer.limits, f.name), getattr(alone, f.name)) for f in dataclasses.fields(alone)
                           if f.name != "groups"),
                         *((getattr(g, f.name), getattr(h, f.name)) for g, h in zip(richer.limits.groups, alone.groups,
                                                                                   strict=True)
                           for f in dataclasses.fields(g))]:
        assert np.array_equal(ours, theirs) if isinstance(ours, np.ndarray) else ours == theirs


def test_trusted_records_are_the_records_the_dataclasses_make() -> None:
    """``trusted`` and ``trusted_replace`` skip a frozen dataclass's ``__init__`` (for speed), not any of its
    behaviour; they hold only for records of plain fields, as those made so are, each with every field set."""
    import dataclasses
    from functools import cached_property

    from allocator.domain import Position, Universe, trusted, trusted_replace
    from allocator.optimize.constraints import Limits
    from allocator.pipeline import Prepared

    fields = {"symbol": "SPY", "quantity": 3.0, "price": None, "lot_size": 1.0, "cost_basis_value": None,
              "account": "A", "row": 2}
    made, made_trusted = Position(**fields), trusted(Position, dict(fields))
    assert type(made_trusted) is Position and made_trusted == made and hash(made_trusted) == hash(made)
    assert repr(made_trusted) == repr(made) and vars(made_trusted) == vars(made)
    with pytest.raises(dataclasses.FrozenInstanceError):
        made_trusted.symbol = "AGG"  # type: ignore[misc]
    prepared = prepare(EXAMPLE_HOLDINGS, BASE_CONFIG)
    for record in (prepared, prepared.limits, prepared.universe, prepared.holdings.positions[0]):
        kind = type(record)
        assert kind in (Prepared, Limits, Universe, Position)
        assert not hasattr(kind, "__post_init__") and all(f.init for f in dataclasses.fields(kind))
        assert not [name for name, value in vars(kind).items() if isinstance(value, cached_property)]
        assert list(vars(record)) == [f.name for f in dataclasses.fields(kind)]  # every field, in order
        assert repr(dataclasses.replace(record)) == repr(record)
    universe = prepared.universe
    changes = {"nav_value": 2.0, "outside_symbols": ("X",), "weight": np.ones(universe.size)}
    copy, replaced = trusted_replace(universe, changes), dataclasses.replace(universe, **changes)
    assert type(copy) is Universe and repr(copy) == repr(replaced) and list(vars(copy)) == list(vars(replaced))
    assert all(vars(copy)[k] is vars(replaced)[k] for k in vars(copy))
    assert universe.nav_value != 2.0 and universe.outside_symbols == ()  # the record copied is left as it was
