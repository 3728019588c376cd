"""Feature transformers: vocabulary, unknown answers, no look-ahead, column order, bad input."""

from __future__ import annotations

import pickle
import typing

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from tests.features.toy import toy_book, toy_panel
from underwriting.domain.currency import FxTable
from underwriting.domain.frames import POSTURE_COLUMNS, submission_frames
from underwriting.domain.submission import Posture, Submission
from underwriting.errors import InputError
from underwriting.features import (
    ExposureFeatures,
    IncidentHistoryFeatures,
    PostureEncoder,
    VendorFeatures,
    exchange_features,
    feature_directions,
    feature_group,
)
from underwriting.features.posture import (
    CUSTODY_LEVELS,
    CUSTODY_REFERENCE,
    ORDINAL_QUESTIONS,
    YES_NO_QUESTIONS,
)

FX = FxTable().with_user_rates({"JPY": 150.0, "HKD": 7.8})


@pytest.fixture(scope="module")
def book():
    return toy_book(120, seed=3)


@pytest.fixture(scope="module")
def panel(book):
    rows, _, _ = toy_panel(book, years=range(2017, 2021))
    return rows


def _frames(example_dict):
    return submission_frames([Submission.model_validate(example_dict)], FX)


# ------------------------------------------------------------------ vocabulary stays in sync
def test_encoder_covers_the_questionnaire_vocabulary_exactly():
    def literal(name):
        ann = Posture.model_fields[name].annotation
        return set(typing.get_args(ann))

    for q in YES_NO_QUESTIONS:
        assert literal(q) == {"yes", "no", "unknown"}
    assert literal("custody_architecture") == {*CUSTODY_LEVELS, CUSTODY_REFERENCE, "unknown"}
    for q, order in ORDINAL_QUESTIONS.items():
        assert literal(q) == {*order, "unknown"}
    covered = set(YES_NO_QUESTIONS) | {"custody_architecture", *ORDINAL_QUESTIONS, "last_penetration_test",
                                       "last_red_team", "security_staff_share"}
    assert covered == set(POSTURE_COLUMNS)


def test_every_feature_has_a_direction_and_a_group(book, panel):
    ct = exchange_features(book.incidents, book.vendors)
    out = ct.fit_transform(panel)
    assert list(out.columns) == list(feature_directions())
    assert list(ct.get_feature_names_out()) == list(out.columns)
    assert set(feature_directions().values()) <= {-1, 0, 1}
    assert all(feature_group(f) for f in out.columns)
    assert np.isfinite(out.to_numpy()).all()
    assert out.index.equals(panel.index)


# ------------------------------------------------------------------ unknown answers
def test_unknown_answer_sets_indicator_and_weakest_level(example_submission):
    ex, _, _ = _frames(example_submission)
    d = dict(example_submission)
    d["posture"] = {**d["posture"], "signing_device_verification": "unknown", "admin_mfa": "unknown",
                    "security_staff_share": "unknown", "last_penetration_test": "unknown",
                    "custody_architecture": "unknown"}
    ex_u, _, _ = _frames(d)
    enc = PostureEncoder().fit(ex)
    known, unknown = enc.transform(ex).iloc[0], enc.transform(ex_u).iloc[0]
    assert known["signing_device_verification"] == 1 and known["signing_device_verification_unknown"] == 0
    assert unknown["signing_device_verification"] == 0 and unknown["signing_device_verification_unknown"] == 1
    assert unknown["admin_mfa_strength"] == 0 and unknown["admin_mfa_unknown"] == 1
    assert unknown["security_staff_share"] == 0 and unknown["security_staff_share_unknown"] == 1
    assert unknown["last_penetration_test_freshness"] == 0 and unknown["last_penetration_test_unknown"] == 1
    assert unknown["last_penetration_test_never"] == 0
    assert unknown[["custody_mpc", "custody_multisig", "custody_hsm"]].sum() == 0
    assert unknown["custody_architecture_unknown"] == 1


def test_never_is_distinct_from_unknown(example_submission):
    ex, _, _ = _frames(example_submission)  # last_red_team is "never" in this example
    row = PostureEncoder().fit_transform(ex).iloc[0]
    assert row["last_red_team_never"] == 1 and row["last_red_team_unknown"] == 0
    assert row["last_red_team_freshness"] == 0


def test_freshness_halves_each_half_life(example_submission):
    ex, _, _ = _frames(example_submission)
    ex = ex.assign(last_penetration_test=ex["as_of"] - pd.Timedelta(days=round(365.25 * 2)))
    row = PostureEncoder(freshness_half_life_years=1.0).fit_transform(ex).iloc[0]
    assert row["last_penetration_test_freshness"] == pytest.approx(0.25, rel=1e-3)


@pytest.mark.parametrize("column,value", [("withdrawal_allowlist", "maybe"), ("admin_mfa", "yubikey"),
                                          ("custody_architecture", "paper"), ("proof_of_reserves", "weekly"),
                                          ("security_staff_share", 1.5), ("security_staff_share", "lots"),
                                          ("last_red_team_status", "soon")])
def test_unknown_vocabulary_raises_naming_column_and_value(example_submission, column, value):
    ex, _, _ = _frames(example_submission)
    bad = ex.astype({column: object})
    bad.loc[0, column] = value
    with pytest.raises(InputError) as err:
        PostureEncoder().fit_transform(bad)
    assert err.value.field == column
    assert repr(value) in str(err.value)


def test_posture_date_after_as_of_is_rejected(example_submission):
    ex, _, _ = _frames(example_submission)
    ex.loc[0, "last_penetration_test"] = ex.loc[0, "as_of"] + pd.Timedelta(days=1)
    with pytest.raises(InputError) as err:
        PostureEncoder().fit_transform(ex)
    assert err.value.field == "last_penetration_test"


def test_missing_column_is_named(example_submission):
    ex, _, _ = _frames(example_submission)
    with pytest.raises(InputError) as err:
        PostureEncoder().fit(ex.drop(columns=["key_ceremony"]))
    assert err.value.field == "key_ceremony"
    with pytest.raises(InputError, match="DataFrame"):
        ExposureFeatures().fit(np.zeros((2, 3)))


# ------------------------------------------------------------------ incident history: no look-ahead
def test_history_uses_only_incidents_strictly_before_as_of(book, panel):
    inc = book.incidents
    base = IncidentHistoryFeatures(inc).fit_transform(panel)
    last = panel.groupby("exchange_id")["as_of"].max()
    # add incidents ON and AFTER each exchange's latest as-of date: nothing changes for any row
    future = pd.concat([
        pd.DataFrame({"exchange_id": last.index, "date": last.to_numpy() + pd.Timedelta(days=d),
                      "amount_usd": 1e9, "custody_tier": "hot", "vector": "insider", "reimbursed": "none"})
        for d in (0, 1, 400)], ignore_index=True)
    later = IncidentHistoryFeatures(pd.concat([inc, future], ignore_index=True)).fit_transform(panel)
    pd.testing.assert_frame_equal(base, later)
    # ... while the same incidents one day before each row's as-of date do count
    past = panel[["exchange_id"]].assign(date=panel["as_of"] - pd.Timedelta(days=1), amount_usd=1e9,
                                         custody_tier="hot", vector="insider", reimbursed="none")
    earlier = IncidentHistoryFeatures(pd.concat([inc, past], ignore_index=True)).fit_transform(panel)
    assert (earlier["incidents_1y"] > base["incidents_1y"]).all()
    assert (earlier["months_since_last_incident"] < 1).all()


def test_vendor_compromises_after_as_of_are_ignored(book, panel):
    comp = pd.DataFrame({"vendor": book.vendors["vendor"].unique()})
    before = VendorFeatures(book.vendors, comp.assign(date=pd.Timestamp("2100-01-01"))).fit_transform(panel)
    assert (before["vendors_compromised"] == 0).all()
    after = VendorFeatures(book.vendors, comp.assign(date=pd.Timestamp("2000-01-01"))).fit_transform(panel)
    assert (after["vendors_compromised"] == after["n_vendors"]).all()


def test_history_counts_by_hand():
    ex = pd.DataFrame({"exchange_id": ["a", "b"], "as_of": pd.to_datetime(["2024-01-01", "2024-01-01"])})
    inc = pd.DataFrame({
        "exchange_id": ["a", "a", "a", "b"],
        "date": pd.to_datetime(["2023-07-01", "2021-06-01", "2015-01-01", "2024-01-01"]),
        "amount_usd": [1e6, 2e6, 5e6, 9e9], "custody_tier": ["hot"] * 4,
        "vector": ["hot_wallet_key", "third_party_vendor", "insider", "insider"],
        "reimbursed": ["full", "none", "unknown", "full"]})
    out = IncidentHistoryFeatures(inc, half_life_years=1.0).fit_transform(ex)
    a, b = out.iloc[0], out.iloc[1]
    assert (a["incidents_1y"], a["incidents_3y"], a["incidents_5y"]) == (1, 2, 2)
    assert a["months_since_last_incident"] == pytest.approx(184 / 365.25 * 12)
    assert a["vector_share_key"] == pytest.approx(1 / 3) and a["vector_share_insider"] == pytest.approx(1 / 3)
    assert a["reimbursed_share"] == pytest.approx(0.5) and a["reimbursed_share_undefined"] == 0
    decayed = 1e6 * 0.5 ** (184 / 365.25) + 2e6 * 0.5 ** (944 / 365.25) + 5e6 * 0.5 ** (3287 / 365.25)
    assert a["loss_decayed_log"] == pytest.approx(np.log10(1 + decayed))
    # b's only incident is ON the as-of date: not history yet
    assert b["incidents_5y"] == 0 and b["months_since_last_incident"] == 120 and b["reimbursed_share_undefined"] == 1


@pytest.mark.parametrize("column,value,field", [
    ("date", None, "incidents.date"), ("date", "not a date", "incidents.date"),
    ("vector", "phishing", "incidents.vector"), ("amount_usd", -5.0, "incidents.amount_usd"),
    ("amount_usd", float("nan"), "incidents.amount_usd"), ("reimbursed", "some", "incidents.reimbursed")])
def test_bad_incident_rows_raise_naming_the_field(book, panel, column, value, field):
    inc = book.incidents.astype({column: object}).copy()
    inc.loc[inc.index[0], column] = value
    with pytest.raises(InputError) as err:
        IncidentHistoryFeatures(inc).fit(panel)
    assert err.value.field == field


def test_bad_vendor_rows_raise_naming_the_field(book, panel):
    v = book.vendors.copy()
    v.loc[v.index[0], "registered"] = "pending"
    with pytest.raises(InputError) as err:
        VendorFeatures(v).fit(panel)
    assert err.value.field == "vendors.registered"


# ------------------------------------------------------------------ API contract on real frames
@pytest.mark.parametrize("make", [
    lambda b: PostureEncoder(), lambda b: ExposureFeatures(),
    lambda b: IncidentHistoryFeatures(b.incidents), lambda b: VendorFeatures(b.vendors)],
    ids=["posture", "exposure", "history", "vendors"])
def test_sklearn_contract_on_exchange_frames(book, panel, make):
    """What parametrize_with_checks cannot test on bare arrays, tested on real frames."""
    est = make(book)
    long_tables = {name: getattr(est, name).copy() for name in ("incidents", "vendors") if hasattr(est, name)}
    out = clone(est).fit(panel).transform(panel)
    # idempotent fit, pickling, column-order and row-order/subset invariance
    pd.testing.assert_frame_equal(clone(est).fit(panel).transform(panel), out)
    pd.testing.assert_frame_equal(pickle.loads(pickle.dumps(est.fit(panel))).transform(panel), out)
    shuffled = panel[panel.columns[::-1]]
    pd.testing.assert_frame_equal(est.fit(shuffled).transform(shuffled), out)
    perm = np.random.default_rng(0).permutation(len(panel))
    pd.testing.assert_frame_equal(est.transform(panel.iloc[perm]), out.iloc[perm])
    pd.testing.assert_frame_equal(est.transform(panel.iloc[:7]), out.iloc[:7])
    assert list(est.get_feature_names_out()) == list(out.columns)
    assert est.n_features_in_ == panel.shape[1]
    for name, before in long_tables.items():  # the long tables are stored untouched
        pd.testing.assert_frame_equal(getattr(est, name), before)
    est.set_output(transform="pandas")
    assert isinstance(est.transform(panel), pd.DataFrame)


def test_feature_frame_is_stable_under_column_order(book, panel):
    ct = exchange_features(book.incidents, book.vendors)
    a = ct.fit_transform(panel)
    b = exchange_features(book.incidents, book.vendors).fit_transform(panel[panel.columns[::-1]])
    pd.testing.assert_frame_equal(a, b)


def test_submission_frames_feed_the_pipeline(example_submission):
    ex, v, i = _frames(example_submission)
    out = exchange_features(i, v).fit_transform(ex)
    assert out.shape == (1, len(feature_directions()))
    assert out.loc[0, "n_vendors"] == 2 and out.loc[0, "vendors_shared"] == 0
