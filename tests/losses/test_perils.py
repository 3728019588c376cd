"""Peril-level exposure (issue #24, item 5): the hot-wallet severity and the state-actor split."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from underwriting.datasets import load_incidents
from underwriting.datasets.tables import DatasetError
from underwriting.errors import InputError
from underwriting.losses.perils import (
    INTERVAL_LEVEL,
    hot_wallet_assumption,
    hot_wallet_severity,
    state_actor_split,
)
from underwriting.losses.severity import Lognormal

ROOT = Path(__file__).resolve().parents[2]
CSV = ROOT / "datasets" / "incidents.csv"
GROUND = Lognormal(16.3599, 2.13021)  # the shipped fit's parameters (USD), rounded
U = np.array([1e5, 1e6, 1e7, 5e7, 1e8, 5e8, 1e9, 1e10])


def _rows():
    with CSV.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


# --- hot-wallet severity ----------------------------------------------------------------------
def test_small_hot_wallet_keeps_the_industry_fit_capped():
    h = 5e6  # half of it is below the industry median (about USD 12.7m): no scaling, only the cap
    sev = hot_wallet_severity(GROUND, h, 0.5)
    assert sev.base.mu == GROUND.mu and sev.cap == h
    assert sev.moment(1) == pytest.approx(float(GROUND.limited_moment(h, 1)), rel=1e-12)


def test_large_hot_wallet_moves_the_median_to_the_drained_share():
    h = 2e8
    sev = hot_wallet_severity(GROUND, h, 0.5)
    assert math.exp(sev.base.mu) == pytest.approx(1e8, rel=1e-12)  # median = 0.5 x hot assets
    assert sev.base.sigma == GROUND.sigma
    assert float(sev.ppf(0.5)) == pytest.approx(1e8, rel=1e-9)
    assert float(sev.ppf(0.999999)) <= h  # bounded by what is exposed


@settings(max_examples=60, deadline=None, derandomize=True)
@given(h=st.floats(1e4, 1e11), factor=st.floats(1.0, 50.0), d=st.floats(0.05, 1.0))
def test_more_hot_assets_never_lower_any_layer(h, factor, d):
    """First-order stochastic dominance: every limited expected value E[X ^ u] is non-decreasing in h."""
    a = np.asarray(hot_wallet_severity(GROUND, h, d).limited_moment(U, 1))
    b = np.asarray(hot_wallet_severity(GROUND, h * factor, d).limited_moment(U, 1))
    assert np.all(b >= a * (1 - 1e-12))
    assert np.all(a <= np.minimum(U, h) * (1 + 1e-12))


def test_hot_wallet_assumption_is_bounded_data():
    a = hot_wallet_assumption()
    assert 0 < a.median_drain_share <= 1 and a.status == "assumption" and a.source


def test_bad_assumption_file_names_the_field(tmp_path):
    p = tmp_path / "perils.toml"
    p.write_text("[hot_wallet]\nmedian_drain_share = 1.5\nmin_drain_share = 0.05\nmax_drain_share = 1.0\n"
                 "status = 'assumption'\nsource = 'x'\n")
    with pytest.raises(InputError) as e:
        hot_wallet_assumption(str(p))
    assert e.value.field == "hot_wallet.median_drain_share"


def test_hot_wallet_scaling_refuses_other_families():
    from underwriting.losses.severity import Lomax

    with pytest.raises(InputError):
        hot_wallet_severity(Lomax(1.5, 1e6), 1e8)


# --- the attribution column and the state-actor split -----------------------------------------
def test_attribution_rows_have_one_source_and_match_the_dprk_flag():
    rows = _rows()
    attributed = [r for r in rows if r["attribution"]]
    assert attributed and all(r["attribution"] == "state_dprk" for r in attributed)
    assert all(r["attribution_source_url"].startswith("https://") for r in attributed)
    assert all(not r["attribution_source_url"] for r in rows if not r["attribution"])
    assert {r["incident_id"] for r in attributed} == {r["incident_id"] for r in rows if r["dprk_attributed"] == "yes"}


def test_share_equals_an_independent_count_of_the_csv():
    """Recount from the raw CSV with the csv module: breaches (hack, insider) by vector, attributed or not."""
    rows = [r for r in _rows() if r["event_type"] in ("hack", "insider")]
    peril_of = {"hot_wallet_key": "hot_wallet_theft", "cold_wallet_key": "cold_wallet_theft",
                "multisig_signing": "cold_wallet_theft", "third_party_vendor": "third_party_vendor",
                "insider": "insider", "api_or_account_takeover": "social_engineering"}
    n, s = {}, {}
    n_u = s_u = 0
    for r in rows:
        st_ = r["attribution"] == "state_dprk"
        p = peril_of.get(r["vector"])
        if p is None:
            n_u, s_u = n_u + 1, s_u + st_
        else:
            n[p], s[p] = n.get(p, 0) + 1, s.get(p, 0) + st_
    # the incident table's headline: 35 of 99 breaches attributed; about 55% of their stated USD losses
    assert (sum(s.values()) + s_u, sum(n.values()) + n_u) == (35, 99)
    amt = [(float(r["amount_usd"]), r["attribution"] == "state_dprk") for r in rows if r["amount_usd"]]
    assert sum(a for a, x in amt if x) / sum(a for a, _ in amt) == pytest.approx(0.546, abs=0.001)
    known = sum(n.values())
    split = state_actor_split()
    for p, v in split.items():
        w = n.get(p, 0) / known
        nn, ss = n.get(p, 0) + n_u * w, s.get(p, 0) + s_u * w
        assert v.breaches == pytest.approx(nn, rel=1e-12) and v.attributed == pytest.approx(ss, rel=1e-12)
        assert v.share == pytest.approx(ss / nn, rel=1e-12)
        lo, hi = stats.beta.ppf([(1 - INTERVAL_LEVEL) / 2, (1 + INTERVAL_LEVEL) / 2], ss + 0.5, nn - ss + 0.5)
        assert (v.low, v.high) == pytest.approx((lo, hi), rel=1e-9)
        assert 0 <= v.low <= v.share <= v.high <= 1
    # hot-wallet breaches: 17 of 48 attributed, plus 14 of 28 unknown-vector breaches spread at 48/71
    assert split["hot_wallet_theft"].share == pytest.approx((17 + 14 * 48 / 71) / (48 + 28 * 48 / 71), rel=1e-12)


def test_a_table_without_the_column_attributes_nothing():
    inc = load_incidents().drop(columns=["attribution"])
    assert all(v.share == 0 for v in state_actor_split(inc).values())


def test_attribution_without_its_source_is_refused_with_line_and_column(tmp_path):
    with CSV.open(newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    j = rows[0].index("attribution_source_url")
    k = next(i for i, r in enumerate(rows) if i and r[j])  # first attributed row; file line k + 1
    rows[k][j] = ""
    p = tmp_path / "incidents.csv"
    with p.open("w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows(rows)
    with pytest.raises(DatasetError) as e:
        load_incidents(p, exchanges=None)
    msg = str(e.value)
    assert f"line {k + 1}" in msg and "attribution_source_url" in msg
