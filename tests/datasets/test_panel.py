"""The exchange x period panel: follow-up, events at the end of the interval, covariates, time scales."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from underwriting.datasets import loaders
from underwriting.datasets.panel import PANEL_COLUMNS, build_exchange_panel
from underwriting.errors import InputError

FIX = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="module")
def fixture_tables():
    ex = loaders.load_exchanges(FIX / "exchanges_ok.csv")
    inc = loaders.load_incidents(FIX / "incidents_ok.csv", exchanges=ex)
    return ex, inc


def test_layout_and_follow_up(fixture_tables):
    ex, inc = fixture_tables
    p = loaders.load_exchange_panel("Y", incidents=inc, exchanges=ex)
    assert tuple(p.columns) == PANEL_COLUMNS
    alpha = p[p.exchange_id == "alpha"]
    assert alpha["period_start"].iloc[0] == pd.Timestamp("2015-03-15")       # launch
    assert alpha["period_end"].iloc[-1] == pd.Timestamp("2025-11-30")        # cut-off
    assert not alpha["closed"].any()
    beta = p[p.exchange_id == "beta"]
    assert beta["period_end"].iloc[-1] == pd.Timestamp("2019-06-30") and beta["closed"].iloc[-1]
    # contiguous intervals, start < stop, counting-process time = years since launch
    assert (p["stop"] > p["start"]).all()
    for _, g in p.groupby("exchange_id"):
        assert np.allclose(g["start"].to_numpy()[1:], g["stop"].to_numpy()[:-1])
        assert g["start"].iloc[0] == pytest.approx(0.0)


def test_events_counts_and_covariates(fixture_tables):
    ex, inc = fixture_tables
    p = loaders.load_exchange_panel("Y", incidents=inc, exchanges=ex).set_index(["exchange_id", "period"])
    # breaches only (hack, insider): the gamma exit scam is not counted
    assert p["n_events"].sum() == 5
    assert p.loc[("alpha", "2018"), "n_events"] == 2 and p.loc[("alpha", "2018"), "event"] == 1
    assert p.loc[("alpha", "2018"), "loss_usd"] == pytest.approx(53_250_000)
    r = p.loc[("alpha", "2019")]
    assert r["prior_breaches_1y"] == 2 and r["prior_breaches_3y"] == 3 and r["prior_breaches"] == 3
    assert r["log_prior_loss"] == pytest.approx(np.log1p(1_500_000 + 53_000_000 + 250_000))
    assert r["years_since_last_breach"] == pytest.approx((pd.Timestamp("2019-01-01") - pd.Timestamp("2018-03-05")).days / 365.25)
    assert r["calendar_year"] == 2019 and r["jurisdiction"] == "JP"
    assert np.isnan(p.loc[("delta", "2020"), "years_since_last_breach"])
    # event on the closure date is kept in the last row
    assert p.loc[("beta", "2019"), "event"] == 1
    # all event types when asked
    p_all = loaders.load_exchange_panel("Y", incidents=inc, exchanges=ex, breach_types=("exit_scam",))
    assert p_all["n_events"].sum() == 1


def test_gap_time_restarts_after_each_breach(fixture_tables):
    ex, inc = fixture_tables
    g = loaders.load_exchange_panel("Q", incidents=inc, exchanges=ex, time_scale="gap")
    a = g[g.exchange_id == "alpha"].reset_index(drop=True)
    after = a.index[a["event"] == 1] + 1
    assert (a.loc[after[after < len(a)], "start"] == 0).all()
    assert (a["start"] == a["gap_start"]).all()
    assert a["episode"].iloc[-1] == 1 + a.loc[a.index[:-1], "event"].sum()
    c = loaders.load_exchange_panel("Q", incidents=inc, exchanges=ex, time_scale="calendar")
    assert (c["start"] == c["age_start"]).all()
    assert c["n_events"].sum() == g["n_events"].sum()


def test_monthly_panel_and_cutoff_parameter(fixture_tables):
    ex, inc = fixture_tables
    m = loaders.load_exchange_panel("M", incidents=inc, exchanges=ex, cutoff="2020-12-31")
    assert m["period_end"].max() == pd.Timestamp("2020-12-31")
    assert m["n_events"].sum() == 4                       # the 2024 breach is after the cut-off
    total = (m["age_stop"] - m["age_start"]).sum()
    y = loaders.load_exchange_panel("Y", incidents=inc, exchanges=ex, cutoff="2020-12-31")
    assert total == pytest.approx((y["age_stop"] - y["age_start"]).sum())


def test_bad_arguments(fixture_tables):
    ex, inc = fixture_tables
    with pytest.raises(InputError, match="frequency"):
        loaders.load_exchange_panel("W", incidents=inc, exchanges=ex)
    with pytest.raises(InputError, match="time_scale"):
        loaders.load_exchange_panel("Q", incidents=inc, exchanges=ex, time_scale="weird")


def test_unknown_launch_adds_no_exposure():
    roster = pd.DataFrame({"exchange_id": ["a", "b"], "launch_date": [pd.Timestamp("2020-01-01"), pd.NaT],
                           "closure_date": [pd.NaT, pd.NaT]})
    events = pd.DataFrame({"exchange_id": ["a", "b"], "date": pd.to_datetime(["2021-02-01", "2021-02-01"]),
                           "amount_usd": [1.0, 2.0]})
    p = build_exchange_panel(roster, events, freq="Y", cutoff="2022-12-31")
    assert set(p["exchange_id"]) == {"a"} and p["n_events"].sum() == 1


def test_real_panel_builds():
    p = loaders.load_exchange_panel("Q")
    assert len(p) > 0 and (p["stop"] > p["start"]).all()
    assert p["period_end"].max() <= pd.Timestamp("2025-11-30")
