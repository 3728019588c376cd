"""BreachFrequency: base × experience × schedule with a real fitted base (a Poisson GLM on seeded
synthetic cohort data), checked against the blocks recomputed independently."""

from __future__ import annotations

import datetime as dt
import json
import math

import numpy as np
import pandas as pd
import pytest

from tests.conftest import EXAMPLES
from tests.frequency._schedule_base import (
    TRUE_INTERCEPT,
    TRUE_SLOPE,
    PoissonGLMBase,
    covariates,
    fitted_base,
    synthetic_cohort,
)
from underwriting.domain.submission import Submission, load_submission
from underwriting.errors import InputError
from underwriting.frequency.model import BreachFrequency
from underwriting.frequency.schedule import DEFAULT_SCHEDULE, load_schedule

NAMES = ["jp_small_exchange.json", "global_large_exchange.json", "hk_exchange_with_incident.json"]


@pytest.fixture(scope="module")
def base():
    return fitted_base()


@pytest.fixture(scope="module")
def subs():
    return [load_submission(str(EXAMPLES / n)) for n in NAMES]


def test_helper_base_recovers_its_truth(base):
    se = np.sqrt(np.diag(base.cov_))
    assert abs(base.coef_[0] - TRUE_INTERCEPT) < 3 * se[0]
    assert abs(base.coef_[1] - TRUE_SLOPE) < 3 * se[1]


def _weighted_by_hand(sub, start, years):
    """Weighted breaches and decayed exposure written out from experience.toml's [weights] (half-life 5 y;
    size 0.5 at <= USD 1m, 1.5 at >= USD 100m, log-linear between)."""
    from underwriting.domain.currency import FxTable

    fx = FxTable.bundled()
    nw = 0.0
    for i in sub.incidents:
        if i.vector == "exit_scam_or_fraud" or not start <= i.date <= sub.as_of:
            continue
        loss = fx.convert(i.amount, i.currency, "USD", sub.as_of.year)
        x = min(max(math.log10(loss / 1e6) / 2.0, 0.0), 1.0)
        nw += (0.5 + x) * 2 ** (-((sub.as_of - i.date).days / 365.25) / 5.0)
    return nw, 5.0 / math.log(2) * (1 - 2 ** (-years / 5.0))


def test_rate_is_base_times_experience_times_schedule(base, subs):
    alpha = 0.8
    model = BreachFrequency(base, prior_strength=alpha).fit()
    X = covariates(subs)
    res = model.explain(X, subs, start=dt.date(2026, 10, 1), end=dt.date(2027, 10, 1))
    m = base.annual_rate(X).to_numpy()
    table = load_schedule()
    for r, sub, mj in zip(res, subs, m, strict=True):
        assert r.base_rate == mj
        # experience by hand: breaches in the last 10 years, exposure since max(launch, as_of - 10y)
        start = max(sub.exchange.launch_date, sub.as_of - dt.timedelta(days=round(10 * 365.25)))
        e = (sub.as_of - start).days / 365.25
        n = sum(1 for i in sub.incidents if i.vector != "exit_scam_or_fraud" and start <= i.date <= sub.as_of)
        nw, ew = _weighted_by_hand(sub, start, e)
        post = max((alpha + nw) / (alpha / mj + ew), mj if n else 0.7 * mj)
        assert r.experience.breaches == n and r.experience.exposure_years == pytest.approx(e)
        assert r.experience.posterior_rate == pytest.approx(post, rel=1e-14)
        assert r.schedule.factor == table.rate(sub).factor
        assert r.annual_rate == pytest.approx(post * r.schedule.factor, rel=1e-14)
        assert r.term_years == pytest.approx(365 / 365.25)
        assert r.expected_breaches == pytest.approx(r.annual_rate * 365 / 365.25, rel=1e-14)
        assert r.p_breach == pytest.approx(1 - math.exp(-r.expected_breaches), rel=1e-14)
        lo, hi = r.annual_rate_interval
        assert lo < r.annual_rate < hi
        assert r.p_breach_interval[0] < r.p_breach < r.p_breach_interval[1]
        # reasons: largest absolute log contributions first, all of them relative to the base
        mags = [abs(x.log_contribution) for x in r.reasons]
        assert mags == sorted(mags, reverse=True) and len(r.reasons) <= 5
        rows = r.factor_table()
        assert math.fsum(x["log_contribution"] for x in rows[:-1]) == pytest.approx(math.log(r.annual_rate))
    assert res[2].experience.breaches == 1  # the HK sample's 2023 vendor hack counts


def test_interval_is_the_base_interval_carried_through(base, subs):
    model = BreachFrequency(base, prior_strength=0.8, level=0.9).fit()
    X = covariates(subs)
    iv = base.predict_interval(X, 0.9)
    for j, r in enumerate(model.explain(X, subs, years=1.0)):
        for bound, got in ((iv["lo"].iloc[j], r.annual_rate_interval[0]), (iv["hi"].iloc[j], r.annual_rate_interval[1])):
            n = r.experience.breaches
            start = max(subs[j].exchange.launch_date, subs[j].as_of - dt.timedelta(days=round(10 * 365.25)))
            nw, ew = _weighted_by_hand(subs[j], start, r.experience.exposure_years)
            post = max((0.8 + nw) / (0.8 / bound + ew), bound if n else 0.7 * bound)
            assert got == pytest.approx(post * r.schedule.factor, rel=1e-13)
    wide = BreachFrequency(base, prior_strength=0.8, level=0.99).fit().explain(X, subs, years=1.0)
    narrow = model.explain(X, subs, years=1.0)
    for w, n_ in zip(wide, narrow, strict=True):
        assert w.annual_rate_interval[0] < n_.annual_rate_interval[0] and w.annual_rate_interval[1] > n_.annual_rate_interval[1]


def test_fit_estimates_prior_strength_from_a_cohort():
    cohort = synthetic_cohort(n=3000, seed=21, alpha=1.5)
    base = PoissonGLMBase().fit(cohort, cohort["breaches"], cohort["exposure_years"])
    model = BreachFrequency(base).fit(cohort, cohort["breaches"], exposure_years=cohort["exposure_years"])
    fit = model.prior_fit_
    assert model.prior_strength_ == fit.alpha
    assert abs(math.log(fit.alpha) - math.log(1.5)) < 3 * fit.se_log_alpha
    assert model.prior_strength is None  # constructor argument untouched


def test_more_credible_history_moves_further_from_the_base(base):
    doc = json.loads((EXAMPLES / "hk_exchange_with_incident.json").read_text())
    doc["exposure"]["trading_volume_12m"] = 1e8  # a small exchange: base rate well under 1 per 7.7 years
    sub = Submission.model_validate(doc)
    X = covariates([sub])
    weak = BreachFrequency(base, prior_strength=50.0).fit().explain(X, [sub])[0]
    strong = BreachFrequency(base, prior_strength=0.2).fit().explain(X, [sub])[0]
    assert weak.base_rate < 1 / 7.7
    assert strong.experience.credibility > weak.experience.credibility
    assert strong.experience.posterior_rate > weak.experience.posterior_rate > weak.base_rate


def test_errors(base, subs):
    X = covariates(subs)
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        BreachFrequency(base, prior_strength=1.0).explain(X, subs)
    m = BreachFrequency(base, prior_strength=1.0).fit()
    with pytest.raises(InputError) as exc:
        m.explain(X.iloc[:2], subs)
    assert exc.value.field == "X"
    with pytest.raises(InputError) as exc:
        m.explain(X, subs, start=dt.date(2027, 1, 1), end=dt.date(2026, 1, 1))
    assert exc.value.field == "term.end"
    with pytest.raises(InputError) as exc:
        BreachFrequency(base).fit()
    assert exc.value.field == "prior_strength"
    with pytest.raises(InputError):
        BreachFrequency(base, prior_strength=-1.0).fit()


def test_schedule_path_is_accepted(base, subs, tmp_path):
    p = tmp_path / "s.toml"
    p.write_text(DEFAULT_SCHEDULE.read_text(encoding="utf-8").replace("max = 2.0", "max = 1.1", 1), encoding="utf-8")
    doc = json.loads((EXAMPLES / "hk_exchange_with_incident.json").read_text())
    sub = Submission.model_validate(doc)
    r = BreachFrequency(base, schedule=str(p), prior_strength=1.0).fit().explain(covariates([sub]), [sub])[0]
    assert r.schedule.factor == 1.1 and r.schedule.raw_factor > 1.1
    assert any(x.key == "schedule.cap" for x in r.reasons)


def test_predict_table(base, subs):
    X = covariates(subs)
    df = BreachFrequency(base, prior_strength=1.0).fit().predict(X, subs, years=2.0)
    assert list(df.index) == list(X.index)
    assert np.allclose(df["annual_rate"], df["base_rate"] * df["experience_factor"] * df["schedule_factor"],
                       rtol=1e-14)
    assert np.allclose(df["p_breach"], -np.expm1(-2.0 * df["annual_rate"]), rtol=1e-14)


def test_exchange_totals_sum_the_pieces_of_a_panel(base):
    from underwriting.frequency.model import exchange_totals

    cohort = synthetic_cohort(n=50, seed=4).assign(exchange_id=[f"x{i:02d}" for i in range(50)])
    # split each exchange's follow-up in two pieces; breaches go to the first
    first = cohort.assign(exposure_years=cohort["exposure_years"] * 0.25)
    second = cohort.assign(exposure_years=cohort["exposure_years"] * 0.75, breaches=0)
    tot = exchange_totals(pd.concat([second, first], ignore_index=True), base)
    assert list(tot.index) == sorted(cohort["exchange_id"])
    c = cohort.set_index("exchange_id").loc[tot.index]
    assert np.allclose(tot["exposure_years"], c["exposure_years"], rtol=1e-14)
    assert (tot["breaches"] == c["breaches"]).all()
    assert np.allclose(tot["expected"], base.annual_rate(c.reset_index()).to_numpy() * c["exposure_years"], rtol=1e-12)
    with pytest.raises(InputError) as exc:
        exchange_totals(cohort.drop(columns="breaches"), base)
    assert exc.value.field == "panel.breaches"


def test_params_are_stored_untouched(base):
    m = BreachFrequency(base, prior_strength=2.0, level=0.8)
    assert m.get_params() == {"base_model": base, "schedule": None, "prior_strength": 2.0, "level": 0.8,
                              "n_reasons": 5}
    m.set_params(level=0.95).fit()
    assert m.level == 0.95 and m.prior_strength_ == 2.0 and m.schedule is None
    with pytest.raises(InputError):
        m.set_params(alpha=1.0)
    with pytest.raises(InputError) as exc:
        BreachFrequency(base, prior_strength=1.0, level=1.5).fit()
    assert exc.value.field == "level"


def test_result_as_plain_json(base, subs):
    r = BreachFrequency(base, prior_strength=0.8).fit().explain(covariates(subs), subs)[2]
    d = json.loads(json.dumps(r.to_dict(), allow_nan=False))
    assert d["experience"]["breaches"] == 1 and d["experience"]["credibility"] == r.experience.credibility
    assert d["annual_rate"] == r.annual_rate and d["p_breach_interval"] == list(r.p_breach_interval)
    assert len(d["schedule"]["factors"]) == len(r.schedule.factors)
    assert [x["key"] for x in d["reasons"]] == [x.key for x in r.reasons]
    inf = BreachFrequency(base, prior_strength=math.inf).fit().explain(covariates(subs), subs)[2]
    d = json.loads(json.dumps(inf.to_dict(), allow_nan=False))
    assert d["experience"]["prior_strength"] is None and d["experience"]["credibility"] == 0.0
    assert inf.experience.posterior_rate == inf.base_rate  # N = 1 but the prior has full weight


def test_issue_13_regressions(base):
    """The three misbehaviours measured in issue #13, on the Japanese sample."""
    model = BreachFrequency(base, prior_strength=0.8).fit()
    doc = json.loads((EXAMPLES / "jp_small_exchange.json").read_text())

    def p(d):
        s = Submission.model_validate(d)
        return model.explain(covariates([s]), [s], years=1.0)[0]

    quiet = p(doc)
    hack = dict(doc, incidents=[{"date": "2022-06-01", "amount": 3e6, "currency": "EUR", "custody_tier": "hot",
                                 "vector": "hot_wallet_key", "customers_reimbursed": "full"}])
    insider = dict(doc, incidents=[{"date": "2025-03-01", "amount": 50e6, "currency": "EUR", "custody_tier": "hot",
                                    "vector": "insider", "customers_reimbursed": "none"}])
    assert p(hack).p_breach > quiet.p_breach  # a 2022 hot-wallet hack raised nothing before, or lowered P
    assert p(insider).p_breach > quiet.p_breach  # a 2025 unreimbursed insider loss changed nothing before
    assert p(hack).experience.posterior_rate >= p(hack).base_rate  # a breach: never below the base
    # listing vendors cannot drive the rate down: 1,000 registered cloud vendors change nothing,
    # 1,000 unregistered wallet vendors push the schedule to its cap
    cloud = dict(doc, vendors=[{"name": f"c{i}", "role": "cloud", "registered": "yes"} for i in range(1000)])
    wallet = dict(doc, vendors=[{"name": f"w{i}", "role": "wallet_software", "registered": "no"} for i in range(1000)])
    no_vendor = p(dict(doc, vendors=[]))
    assert p(cloud).annual_rate == no_vendor.annual_rate <= quiet.annual_rate
    assert p(wallet).schedule.factor == 2.0 and p(wallet).annual_rate > quiet.annual_rate
