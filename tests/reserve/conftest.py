"""Fixtures for the reserve engine tests."""

from __future__ import annotations

import pytest

from tests.reserve.helpers import load_example, with_exposure
from underwriting.domain.currency import FxTable
from underwriting.domain.submission import Submission


@pytest.fixture
def fx() -> FxTable:
    return FxTable().with_user_rates({"JPY": 150.0, "EUR": 0.92, "HKD": 7.8})


@pytest.fixture
def jp_sub() -> Submission:
    return load_example("jp_small_exchange.json")


@pytest.fixture
def hk_sub() -> Submission:
    return load_example("hk_exchange_with_incident.json")


@pytest.fixture
def global_sub() -> Submission:
    return load_example("global_large_exchange.json")


@pytest.fixture
def global_sub_gi(global_sub) -> Submission:
    """The global sample with a gross income (Basel's indicator): USD 1.5bn."""
    return with_exposure(global_sub, gross_income=1.5e9)


@pytest.fixture
def reserve_cli(cli, monkeypatch):
    """The in-process CLI runner with the reserve commands registered (until the lead adds them)."""
    from underwriting.cli import main as m

    monkeypatch.setitem(m.COMMANDS, "reserve", ("underwriting.cli.reserve", ""))
    monkeypatch.setitem(m.COMMANDS, "compare-reserve", ("underwriting.cli.compare_reserve", ""))
    return cli
