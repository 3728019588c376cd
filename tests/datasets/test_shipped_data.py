"""Checks of the shipped curated tables (datasets/*.csv): sources, duplicates, dates, vocabularies.

The tables ship with the package: a missing file fails these tests instead of skipping them.
"""

from __future__ import annotations

import pandas as pd

from underwriting.datasets import loaders
from underwriting.datasets.schema import (
    CLOSURE_REASON_VOCAB,
    CUSTODY_TIER_VOCAB,
    EVENT_TYPE_VOCAB,
    PRECISION_VOCAB,
    REIMBURSED_VOCAB,
    VECTOR_VOCAB,
    columns,
)
from underwriting.domain.vocabulary import DATA_CUTOFF
from underwriting.resources import dataset_path

INC = dataset_path("incidents.csv")
EX = dataset_path("exchanges.csv")
FX = dataset_path("fx_rates.csv")
CUT = pd.Timestamp(DATA_CUTOFF)


def test_incidents_header_is_the_schema_in_order():
    header = INC.read_text(encoding="utf-8").splitlines()[0].lstrip("\ufeff").split(",")
    assert tuple(h.strip() for h in header) == columns("incidents")


def test_exchanges_header_is_the_schema_in_order():
    header = EX.read_text(encoding="utf-8").splitlines()[0].lstrip("\ufeff").split(",")
    assert tuple(h.strip() for h in header) == columns("exchanges")


def test_incidents_load_and_cross_check_against_roster():
    inc = loaders.load_incidents()          # raises DatasetError with line/column on any problem
    assert len(inc) > 0


def test_every_incident_has_a_source_and_no_duplicates():
    inc = loaders.load_incidents(exchanges=None)
    assert inc["source_url"].str.match(r"^https?://").all()
    assert not inc["incident_id"].duplicated().any()
    assert not inc.duplicated(["exchange_id", "incident_date", "amount_usd"]).any()
    assert not inc.duplicated(["exchange_id", "incident_date", "vector", "event_type"]).any(), \
        "same exchange, date, vector and event type twice: probably one incident recorded twice"


def test_incident_vocabularies_and_dates():
    inc = loaders.load_incidents(exchanges=None)
    for col, vocab in (("vector", VECTOR_VOCAB), ("custody_tier", CUSTODY_TIER_VOCAB),
                       ("reimbursed", REIMBURSED_VOCAB), ("event_type", EVENT_TYPE_VOCAB)):
        assert set(inc[col].astype(str)) <= set(vocab), col
        assert inc[col].notna().all(), col
    assert inc["incident_date"].notna().all()
    assert (inc["incident_date"] <= CUT).all(), "incident after the data cut-off"
    assert (inc["amount_usd"].dropna() >= 0).all()


def test_every_exchange_has_a_source_and_consistent_life():
    ex = loaders.load_exchanges()
    assert ex["source_url"].str.match(r"^https?://").all()
    assert not ex["exchange_id"].duplicated().any()
    closed = ex["closure_date"].notna()
    both = closed & ex["launch_date"].notna()
    slack = ex["closure_date_precision"].astype(str).map({"day": 0, "month": 31, "year": 366}).fillna(0)
    latest_closure = ex["closure_date"] + pd.to_timedelta(slack, unit="D")
    assert (latest_closure[both] >= ex.loc[both, "launch_date"]).all(), "closure before launch"
    assert (ex.loc[closed, "closure_date"] <= CUT).all(), "closure after the data cut-off"
    assert ex.loc[closed, "closure_reason"].notna().all()
    assert ex.loc[~closed, "closure_reason"].isna().all()
    assert set(ex["closure_reason"].dropna().astype(str)) <= set(CLOSURE_REASON_VOCAB)
    assert set(ex["launch_date_precision"].dropna().astype(str)) <= set(PRECISION_VOCAB)


def test_every_incident_within_its_exchanges_life():
    ex = loaders.load_exchanges().set_index("exchange_id")
    inc = loaders.load_incidents(exchanges=None)
    assert set(inc["exchange_id"]) <= set(ex.index)
    j = inc.join(ex[["launch_date", "closure_date", "closure_date_precision"]], on="exchange_id")
    known = j["launch_date"].notna()
    assert (j.loc[known, "incident_date"] >= j.loc[known, "launch_date"]).all()
    closed = j["closure_date"].notna()
    slack = j["closure_date_precision"].astype(str).map({"day": 0, "month": 31, "year": 366}).fillna(0)
    latest = j["closure_date"] + pd.to_timedelta(slack, unit="D")
    assert (j.loc[closed, "incident_date"] <= latest[closed]).all()


def test_fx_rates_have_sources_and_positive_rates():
    fx = loaders.load_fx_rates()
    assert fx["source_url"].str.match(r"^https?://").all()
    assert (fx["units_per_usd"] > 0).all()
    assert not fx.duplicated(["year", "currency"]).any()
