"""Issue #24: the shipped base model is free of data-source terms on every quote, is checked as a survival
model of time to breach (lifelines), and the quote shows its survival curve and median time to breach."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from underwriting.frequency.base_design import DATA_SOURCE_TERMS, jurisdiction_group
from underwriting.frequency.base_survival import (
    first_breach_table,
    recorded_mask,
    survival_curve,
)

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "datasets" / "examples").glob("*.json"))


@pytest.fixture(scope="module")
def shipped():
    from underwriting.frequency.base_build import register
    from underwriting.registry import Registry

    register()
    return Registry().load("frequency")


@pytest.fixture(scope="module")
def training():
    from underwriting.registry import Registry

    reg = Registry()
    return json.loads((reg.path("frequency", reg.default("frequency")) / "training.json").read_text(encoding="utf-8"))


def test_shipped_model_carries_no_data_source_term(shipped):
    assert not set(shipped.terms_) & set(DATA_SOURCE_TERMS)
    assert set(shipped.terms_) <= {"intercept", "volume_pct", "offshore", "trend"}
    assert shipped.unknown_as_offshore


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_every_quoted_base_rate_is_free_of_data_source_terms(shipped, path):
    """The quote's base rate equals the rate recomputed by hand from size and jurisdiction alone, and does
    not move with any aggregator field (grade points) a submission could be given."""
    from underwriting.domain.submission import load_submission
    from underwriting.frequency.base_design import _percentile
    from underwriting.frequency.base_panel import covariates_from_submission
    from underwriting.quote.frequency import frequency_score

    sub = load_submission(str(path))
    _, fe = frequency_score(sub)
    base = fe.detail["base"]["annual_rate"]
    X = covariates_from_submission(sub)
    b = shipped.coef_
    vp = float(_percentile(X["volume_24h_usd"].to_numpy(), shipped.reference_log_volume_)[0])
    off = float(jurisdiction_group(X["country"].iloc[0]) != "licensed")
    by_hand = math.exp(b["intercept"] + b["volume_pct"] * vp + b["offshore"] * off)
    assert base == pytest.approx(by_hand, rel=1e-12)
    graded = X.assign(security_points=9.5)
    assert shipped.predict(graded).iloc[0] == shipped.predict(X).iloc[0]


def test_unknown_jurisdiction_never_prices_below_a_known_one(shipped):
    X = pd.DataFrame({"volume_24h_usd": [1e7] * 3, "country": ["JP", "SC", None], "security_points": [np.nan] * 3})
    r = shipped.predict(X).to_numpy()
    assert r[2] == r[1] and r[2] >= r[0]


def test_survival_curve_is_exp_of_minus_rate_times_t():
    sv = survival_curve(0.05, 1.0)
    assert sv["times_years"] == [0.25, 0.5, 1.0]
    assert sv["survival"] == [pytest.approx(math.exp(-0.05 * t), rel=1e-15) for t in sv["times_years"]]
    assert math.exp(-0.05 * sv["median_years_to_breach"]) == pytest.approx(0.5, rel=1e-12)
    assert survival_curve(0.0, 2.0)["median_years_to_breach"] is None
    assert survival_curve(0.1, 0.4)["times_years"] == [0.25, 0.4]
    with pytest.raises(ValueError):
        survival_curve(-0.1, 1.0)


def test_quote_shows_the_survival_curve_over_its_term():
    from underwriting.domain.policy import load_policy
    from underwriting.domain.report import format_defence
    from underwriting.domain.submission import load_submission
    from underwriting.quote.make import make_quote

    ex = ROOT / "datasets" / "examples"
    q = make_quote(load_submission(str(ex / "jp_small_exchange.json")), load_policy(str(ex / "policy_jp_primary.toml")),
                   seed=0)
    sv = q.frequency.survival  # canonical quote: 6 significant digits
    assert sv["times_years"][-1] == pytest.approx(q.frequency.term_years, rel=1e-5)
    # S(term) = exp(-expected breaches in the term): the same Λ the premium is priced from
    assert sv["survival"][-1] == pytest.approx(math.exp(-q.frequency.expected_breaches), rel=1e-5)
    assert sv["median_years_to_breach"] == pytest.approx(math.log(2) / q.frequency.annual_rate, rel=1e-5)
    text = "\n".join(format_defence(q))
    assert "median time to breach" in text and "survival over the term" in text


def test_recorded_population_is_the_rows_with_a_country():
    df = pd.DataFrame({"country": ["JP", None, "", "  ", "SC", float("nan")]})
    assert recorded_mask(df).tolist() == [True, False, False, False, True, False]


def test_first_breach_table_counts_each_exchange_once():
    t0 = pd.Timestamp("2020-01-01")
    panel = pd.DataFrame({
        "exchange_id": ["a", "a", "b", "c"],
        "start": [t0, pd.Timestamp("2021-01-01"), t0, t0],
        "stop": [pd.Timestamp("2021-01-01"), pd.Timestamp("2022-01-01"), pd.Timestamp("2022-01-01"),
                 pd.Timestamp("2020-07-01")],
        "breaches": [0, 2, 0, 1], "exposure_years": [1.0, 1.0, 2.0, 0.5],
        "first_breach": [pd.NaT, pd.Timestamp("2021-03-02"), pd.NaT, pd.Timestamp("2020-02-01")],
        "volume_pct": [0.2, 0.4, 0.6, 0.9], "country": ["JP", "JP", "SC", None]})
    t = first_breach_table(panel).set_index("exchange_id")
    assert t["E"].tolist() == [1, 0, 1]
    assert t.loc["a", "T"] == pytest.approx((pd.Timestamp("2021-03-02") - t0).days / 365.25)
    assert t.loc["b", "T"] == pytest.approx(731 / 365.25) and t.loc["c", "T"] == pytest.approx(31 / 365.25)
    assert t["volume_pct"].tolist() == [0.2, 0.6, 0.9] and t["offshore"].tolist() == [0.0, 1.0, 1.0]


def test_lifelines_check_agrees_with_exact_exponential_oracle(training):
    """The constant hazard lifelines fits to the time to first breach is the exponential MLE
    (first breaches / time at risk), and the piecewise hazards add up to the same events and time."""
    sc = training["survival_check"]
    tol = sc["time_on_list"]
    ev = sum(p["events"] for p in tol["pieces"])
    years = sum(p["exchange_years"] for p in tol["pieces"])
    assert ev == sc["events"]
    assert tol["constant_hazard_per_year"] == pytest.approx(ev / years, rel=1e-4)
    for p in tol["pieces"]:
        if p["events"]:
            assert p["hazard_per_year"] == pytest.approx(p["events"] / p["exchange_years"], rel=1e-3)
    # same direction of the size and offshore effects in the Cox fit (first breach) and the GLM (recurrent)
    for k in ("volume_pct", "offshore"):
        assert np.sign(sc["cox"]["log_hr"][k]) == np.sign(sc["glm"][k])
    assert 0 <= tol["p"] <= 1 and sc["weibull"]["rho_interval"][0] < sc["weibull"]["rho"] < sc["weibull"]["rho_interval"][1]


def test_segment_table_rows_are_exact_poisson_intervals(training):
    from underwriting.frequency.base_validation import poisson_interval

    seg = training["segments_out_of_time"]
    assert seg["fit_window"][1] < seg["predict_window"][0]
    for r in seg["rows"]:
        lo, hi = poisson_interval(r["observed"], r["level"])
        assert r["interval"] == [pytest.approx(lo / r["expected"]), pytest.approx(hi / r["expected"])]
        assert r["inside"] == (r["interval"][0] <= 1 <= r["interval"][1])
    thirds = [r for r in seg["rows"] if r["segment"].startswith("volume third")]
    whole = seg["rows"][0]
    assert any(r["segment"].startswith("Japanese") for r in seg["rows"])
    assert sum(r["observed"] for r in thirds) == whole["observed"]
    assert sum(r["expected"] for r in thirds) == pytest.approx(whole["expected"], rel=1e-9)
    assert seg["all_inside"]
