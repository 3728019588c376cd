"""Synthetic book: contract columns, reproducibility, the truth as oracle, calibration to real data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from underwriting.datasets import calibration_targets, make_exchange_portfolio
from underwriting.datasets.calibration import CalibrationTargets
from underwriting.datasets.panel import PANEL_COLUMNS
from underwriting.domain.frames import EXCHANGE_COLUMNS, INCIDENT_COLUMNS, VENDOR_COLUMNS
from underwriting.domain.submission import Posture
from underwriting.errors import InputError
from underwriting.resources import dataset_path

REAL = dataset_path("incidents.csv").exists() and dataset_path("exchanges.csv").exists()
#: Fixed targets so that the structural tests do not depend on the curated files.
TARGETS = CalibrationTargets(annual_breach_rate=0.07, n_breaches=70, exchange_years=1000.0,
                             log_loss_mean=16.0, log_loss_sd=2.5, log_losses=(), hot_share=0.9,
                             vendor_share=0.1, reimbursed_shares={"full": 0.5, "none": 0.2, "unknown": 0.3},
                             source="test")


@pytest.fixture(scope="module")
def book():
    return make_exchange_portfolio(2000, years=8, seed=11, targets=TARGETS)


def test_frames_follow_the_contract(book):
    assert tuple(book.exchanges.columns) == EXCHANGE_COLUMNS
    assert tuple(book.vendors.columns) == VENDOR_COLUMNS
    assert tuple(book.incidents.columns) == INCIDENT_COLUMNS + ("cause", "vendor")
    assert tuple(book.panel.columns) == PANEL_COLUMNS
    ex = book.exchanges
    assert ex["exchange_id"].is_unique and len(ex) == 2000
    assert np.allclose(ex["assets_hot"] + ex["assets_warm"] + ex["assets_cold"], ex["assets_total"])
    assert (ex["launch_date"] < ex["as_of"]).all()
    # posture vocabulary is the questionnaire's
    for col, info in Posture.model_fields.items():
        if col in ("last_penetration_test", "last_red_team", "security_staff_share"):
            continue
        allowed = set(info.annotation.__args__)
        assert set(ex[col]) <= allowed, col
    for col in ("last_penetration_test", "last_red_team"):
        st = ex[f"{col}_status"]
        assert set(st) <= {"date", "never", "unknown"}
        assert ex.loc[st == "date", col].notna().all() and ex.loc[st != "date", col].isna().all()
        assert (ex.loc[st == "date", col] <= ex.loc[st == "date", "as_of"]).all()
    share = ex["security_staff_share"]
    nums = share[share != "unknown"].astype(float)
    assert ((nums >= 0) & (nums <= 1)).all()
    inc = book.incidents
    assert set(inc["cause"]) <= {"own", "vendor"}
    assert inc.loc[inc.cause == "vendor", "vendor"].notna().all()
    assert (inc.loc[inc.cause == "vendor", "vector"] == "third_party_vendor").all()
    assert set(inc["custody_tier"]) <= {"hot", "cold", "unknown"}


def test_unknown_answers_at_the_documented_rate(book):
    ex = book.exchanges
    cols = ["signing_device_verification", "withdrawal_allowlist", "admin_mfa", "bug_bounty", "soc2_type2"]
    rate = float(np.mean([(ex[c] == "unknown").mean() for c in cols]))
    assert rate == pytest.approx(book.truth.unknown_rate, abs=0.015)


def test_losses_bounded_by_what_is_held(book):
    inc = book.incidents.merge(book.exchanges[["exchange_id", "assets_hot", "assets_cold"]], on="exchange_id")
    assert (inc["amount_usd"] > 0).all()
    assert (inc["amount_usd"] <= np.maximum(inc["assets_hot"], inc["assets_cold"]) * (1 + 1e-12)).all()


def test_vendor_compromises_hit_several_clients_on_the_same_day(book):
    v = book.incidents[book.incidents.cause == "vendor"]
    assert len(v) > 0  # seed 11 draws vendor compromises: an empty set would make the checks below vacuous
    per_event = v.groupby(["vendor", "date"]).size()
    assert per_event.max() >= 2
    links = set(zip(book.truth.vendor_links.exchange_id, book.truth.vendor_links.vendor, strict=True))
    assert all((e, vv) in links for e, vv in zip(v.exchange_id, v.vendor, strict=True))
    # a few vendors serve many exchanges
    counts = book.vendors.groupby("vendor").size().sort_values(ascending=False)
    assert counts.iloc[0] >= 5 * counts.median()


def test_incidents_within_follow_up_and_panel_consistent(book):
    lt = book.lifetimes.set_index("exchange_id")
    inc = book.incidents.join(lt, on="exchange_id")
    assert (inc["date"] >= inc["entry_date"]).all() and (inc["date"] <= inc["exit_date"]).all()
    assert book.panel["n_events"].sum() == len(book.incidents)
    closed = lt["closure_date"].notna()
    assert set(lt.loc[closed, "closure_reason"]) <= {"hack", "business"}
    assert book.panel.groupby("exchange_id")["closed"].any().sum() == closed.sum()


def test_same_seed_same_frames_different_seed_differs():
    a = make_exchange_portfolio(300, years=4, seed=5, targets=TARGETS)
    b = make_exchange_portfolio(300, years=4, seed=5, targets=TARGETS)
    c = make_exchange_portfolio(300, years=4, seed=6, targets=TARGETS)
    for name in ("exchanges", "vendors", "incidents", "panel", "lifetimes"):
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name))
    assert a.truth.coefficients == b.truth.coefficients
    assert not a.exchanges["assets_total"].equals(c.exchanges["assets_total"])
    assert not a.incidents.equals(c.incidents)


def test_global_numpy_state_untouched():
    np.random.seed(123)  # noqa: NPY002 - the legacy global state is what is checked
    before = np.random.get_state()[1].copy()  # noqa: NPY002
    make_exchange_portfolio(100, years=2, seed=1, targets=TARGETS)
    assert np.array_equal(np.random.get_state()[1], before)  # noqa: NPY002


def test_truth_is_the_oracle_of_breach_counts(book):
    """Observed breach counts match the truth's cumulative hazard over each exchange's follow-up."""
    t, ex, lt = book.truth, book.exchanges, book.lifetimes
    a0 = ((t.start - ex["launch_date"]).dt.days / 365.25).to_numpy()
    a1 = a0 + ((lt["exit_date"] - t.start).dt.days / 365.25).to_numpy()
    for comp in ("own", "vendor"):
        expected = t.cumulative_hazard(ex, a0, a1, component=comp).sum()
        observed = (book.incidents["cause"] == comp).sum()
        sd = np.sqrt(expected) * (1 if comp == "own" else 4)      # vendor events come in clusters
        assert abs(observed - expected) < 4 * sd + 1, (comp, observed, expected)
    # the oracle ranks exchanges: higher true risk, more breaches
    lam = t.cumulative_hazard(ex, a0, a1, component="own")
    n = book.incidents[book.incidents.cause == "own"].groupby("exchange_id").size().reindex(ex.exchange_id, fill_value=0)
    assert stats.spearmanr(lam, n.to_numpy()).statistic > 0.2


def test_truth_methods(book):
    t, ex = book.truth, book.exchanges.head(50)
    h = t.hazard(ex, age=2.0)
    assert h.shape == (50,) and (h > 0).all()
    assert np.allclose(t.hazard(ex, 2.0, component="own") + t.hazard(ex, 2.0, component="vendor"), h)
    # the derivative of the cumulative hazard is the hazard
    d = (t.cumulative_hazard(ex, 2.0, 2.0 + 1e-5) - t.cumulative_hazard(ex, 2.0, 2.0)) / 1e-5
    assert np.allclose(d, h, rtol=1e-3)
    p = t.breach_probability(ex, horizon=1.0)
    assert ((p > 0) & (p < 1)).all()
    tab = t.coefficient_table()
    assert set(tab["feature"]) == set(t.coefficients) and tab["rationale"].str.len().gt(0).all()
    X = t.design_matrix(book.exchanges)
    assert list(X.columns) == t.feature_names and np.isfinite(X.to_numpy()).all()
    assert t.coefficients["proof_of_reserves=none"] == 0.0          # placebo
    assert t.coefficients["admin_mfa=none"] > t.coefficients["admin_mfa=totp"] > 0


def test_bad_arguments():
    with pytest.raises(InputError, match="n_exchanges"):
        make_exchange_portfolio(0, targets=TARGETS)
    with pytest.raises(InputError, match="unknown_rate"):
        make_exchange_portfolio(10, unknown_rate=1.5, targets=TARGETS)
    with pytest.raises(InputError, match="start"):
        make_exchange_portfolio(10, start="not a date", targets=TARGETS)


def test_calibrated_to_the_real_tables():
    """Rate within 15% relative; ln(loss) two-sample KS does not reject at 1%; moments within 0.25."""
    real = calibration_targets()
    assert real.n_breaches > 0 and len(real.log_losses) > 10
    book = make_exchange_portfolio(5000, years=10, seed=2024, targets=real)
    rate = len(book.incidents) / book.exchange_years
    assert rate == pytest.approx(real.annual_breach_rate, rel=0.15)
    logs = np.log(book.incidents["amount_usd"].to_numpy())
    assert stats.ks_2samp(logs, np.array(real.log_losses)).pvalue > 0.01
    assert logs.mean() == pytest.approx(real.log_loss_mean, abs=0.25)
    assert logs.std(ddof=1) == pytest.approx(real.log_loss_sd, abs=0.25)
    vendor_share = (book.incidents["cause"] == "vendor").mean()
    assert vendor_share == pytest.approx(real.vendor_share, abs=0.06)


def test_shipped_tables_exist():
    assert REAL, "datasets/incidents.csv and datasets/exchanges.csv ship with the package"


def test_default_targets_come_from_the_shipped_tables():
    from underwriting.datasets.calibration import default_targets

    t = default_targets()
    assert t.source.startswith("datasets/") and t.annual_breach_rate > 0
