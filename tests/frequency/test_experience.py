"""Experience rating: the Poisson-gamma posterior against numerical integration, the dispersion
estimator against seeded negative binomial data, and the monotone rule."""

from __future__ import annotations

import datetime as dt
import json
import math

import numpy as np
import pandas as pd
import pytest
from scipy import integrate, stats

from tests.conftest import EXAMPLES
from underwriting.domain.submission import Submission
from underwriting.domain.vocabulary import BREACH_EVENT_TYPES, VECTORS
from underwriting.errors import InputError
from underwriting.frequency.experience import (
    VECTOR_EVENT_TYPE,
    breach_counts,
    credibility_posterior,
    estimate_prior_strength,
    experience_rating,
    rate_with_experience,
    window,
)


def _posterior_by_quadrature(m, alpha, n, e):
    """E[λ | N = n] with λ ~ Gamma(α, rate α/m), N | λ ~ Poisson(λ e), by numerical integration."""
    prior = stats.gamma(alpha, scale=m / alpha)
    lik = lambda lam: stats.poisson.pmf(n, lam * e)  # noqa: E731
    hi = prior.ppf(1 - 1e-13) + (50 * (n + 1) / e if e > 0 else 0.0)
    pts = [prior.mean(), (n + alpha) / (alpha / m + e)]
    num = integrate.quad(lambda lam: lam * lik(lam) * prior.pdf(lam), 0, hi, points=pts, limit=400,
                         epsabs=0, epsrel=1e-12)[0]
    den = integrate.quad(lambda lam: lik(lam) * prior.pdf(lam), 0, hi, points=pts, limit=400,
                         epsabs=0, epsrel=1e-12)[0]
    return num / den


@pytest.mark.parametrize("m, alpha, n, e", [
    (0.02, 0.5, 0, 3.0), (0.02, 0.5, 1, 3.0), (0.05, 2.0, 3, 10.0), (0.2, 1.3, 0, 0.0), (0.01, 4.0, 2, 7.5),
])
def test_posterior_matches_numerical_integration(m, alpha, n, e):
    rate, z = credibility_posterior(m, alpha, n, e)
    assert rate == pytest.approx(_posterior_by_quadrature(m, alpha, n, e), rel=1e-7)
    assert rate == pytest.approx((alpha + n) / (alpha / m + e), rel=1e-15)
    # the credibility form: Z * N/E + (1 - Z) * m
    if e > 0:
        assert rate == pytest.approx(z * n / e + (1 - z) * m, rel=1e-12)
    assert z == pytest.approx(e / (e + alpha / m), rel=1e-15)


def test_infinite_prior_strength_gives_the_prior():
    assert credibility_posterior(0.03, math.inf, 5, 10.0) == (0.03, 0.0)


def _nb_cohort(alpha, n=3000, seed=0):
    rng = np.random.default_rng(seed)
    m = np.exp(rng.normal(math.log(0.2), 0.5, n))
    e = rng.uniform(1.0, 10.0, n)
    counts = rng.poisson(m * rng.gamma(alpha, 1.0 / alpha, n) * e)
    return counts, e, m * e


@pytest.mark.parametrize("alpha, seed", [(0.5, 11), (2.0, 12)])
def test_dispersion_estimator_recovers_alpha(alpha, seed):
    counts, e, mu = _nb_cohort(alpha, seed=seed)
    fit = estimate_prior_strength(counts, e, mu)
    # within 3 standard errors on the log scale (the SE was checked for 90% coverage over 300 seeds)
    assert abs(math.log(fit.alpha) - math.log(alpha)) < 3 * fit.se_log_alpha
    assert 0.02 < fit.se_log_alpha < 0.2
    assert fit.interval[0] < fit.alpha < fit.interval[1]
    # method of moments: a second, cruder estimator of the same quantity
    assert fit.alpha_moments == pytest.approx(alpha, rel=0.3)
    assert fit.breaches == counts.sum() and fit.expected == pytest.approx(mu.sum())


def test_dispersion_estimator_maximises_the_nb_likelihood():
    counts, e, mu = _nb_cohort(1.0, n=800, seed=3)
    fit = estimate_prior_strength(counts, e, mu)

    def ll(a):  # scipy's NB: n = a, p = a / (a + mu)
        return stats.nbinom.logpmf(counts, a, a / (a + mu)).sum()

    assert fit.log_likelihood == pytest.approx(ll(fit.alpha), rel=1e-10)
    assert ll(fit.alpha) >= max(ll(fit.alpha * 1.01), ll(fit.alpha / 1.01))


def test_no_overdispersion_gives_weak_or_no_spread():
    rng = np.random.default_rng(5)
    e = rng.uniform(1.0, 10.0, 3000)
    mu = 0.2 * e
    fit = estimate_prior_strength(rng.poisson(mu), e, mu)
    # Poisson data: alpha is either infinite or large (cv of the rate 1/sqrt(alpha) small)
    assert fit.alpha > 5


def test_underdispersed_counts_give_infinite_alpha():
    e = np.full(50, 5.0)
    mu = np.full(50, 1.0)
    counts = np.ones(50)  # exactly the mean every time: less spread than Poisson
    fit = estimate_prior_strength(counts, e, mu)
    assert math.isinf(fit.alpha) and math.isinf(fit.alpha_moments)
    assert fit.log_likelihood == pytest.approx(stats.poisson.logpmf(counts, mu).sum(), rel=1e-12)
    # one-sided 90% profile bound: the log-likelihood there is chi2_1(0.8)/2 below the Poisson limit
    lo, hi = fit.interval
    assert math.isinf(hi)
    ll_lo = stats.nbinom.logpmf(counts, lo, lo / (lo + mu)).sum()
    assert ll_lo - fit.log_likelihood == pytest.approx(-stats.chi2.ppf(0.8, 1) / 2, abs=1e-6)


@pytest.mark.parametrize("kw, field", [
    ({"counts": [1, -1]}, "counts"), ({"counts": [1, 0.5]}, "counts"), ({"exposures": [1.0, 0.0]}, "exposures"),
    ({"expected": [0.1, 0.0]}, "expected"), ({"counts": [0, 0]}, "counts"), ({"counts": [1, 2, 3]}, "counts"),
    ({"expected": [0.1, float("nan")]}, "expected"),
])
def test_dispersion_estimator_input_errors(kw, field):
    args = {"counts": [1, 2], "exposures": [1.0, 2.0], "expected": [0.1, 0.2]} | kw
    with pytest.raises(InputError) as exc:
        estimate_prior_strength(**args)
    assert exc.value.field == field


# ---------------------------------------------------------------- the monotone rule


@pytest.mark.parametrize("m, alpha", [(0.01, 0.3), (0.05, 1.0), (0.3, 8.0)])
def test_rule_is_monotone(m, alpha):
    for e in (0.0, 0.5, 3.0, 10.0, 40.0):
        res = [rate_with_experience(m, alpha, n, e, quiet_floor=0.7) for n in range(6)]
        rates = [r.posterior_rate for r in res]
        assert all(b >= a for a, b in zip(rates, rates[1:], strict=False)), "a breach must never lower the rate"
        # strictly higher whenever the credibility formula, not the floor, sets the rate
        assert all(b.posterior_rate > a.posterior_rate for a, b in zip(res, res[1:], strict=False)
                   if b.credibility_rate > b.floor_rate)
        assert all(r >= m for r in rates[1:]), "with a breach, never below the prior"
        assert rates[0] >= 0.7 * m
    quiet = [rate_with_experience(m, alpha, 0, e, quiet_floor=0.7).posterior_rate for e in (0, 1, 2, 5, 10, 50)]
    assert all(b <= a for a, b in zip(quiet, quiet[1:], strict=False)), "quiet years never raise the rate"
    assert quiet[0] == m and quiet[-1] == pytest.approx(max(alpha / (alpha / m + 50), 0.7 * m))


def test_floor_and_credibility_reported():
    r = rate_with_experience(0.05, 1.0, 0, 30.0, quiet_floor=0.7)
    assert r.credibility_rate == pytest.approx(1.0 / (20.0 + 30.0))  # 0.02, below the floor
    assert r.floor_applied and r.posterior_rate == pytest.approx(0.035) and r.factor == pytest.approx(0.7)
    assert r.prior_years == pytest.approx(20.0) and r.credibility == pytest.approx(30 / 50)
    r1 = rate_with_experience(0.05, 1.0, 1, 30.0, quiet_floor=0.7)  # 2/50 = 0.04 < prior: floored at m
    assert r1.posterior_rate == 0.05 and r1.floor_applied
    with pytest.raises(InputError):
        rate_with_experience(0.05, 1.0, 0, 1.0, quiet_floor=1.5)


def _submission(**changes):
    doc = json.loads((EXAMPLES / "jp_small_exchange.json").read_text())
    doc.update(changes)
    return Submission.model_validate(doc)


def _incident(date, vector="insider", amount=50e6, reimbursed="none"):
    return {"date": date, "amount": amount, "currency": "EUR", "custody_tier": "hot", "vector": vector,
            "customers_reimbursed": reimbursed}


def test_big_unreimbursed_insider_loss_raises_the_rate():
    quiet = experience_rating(_submission(), 0.02, 0.8, look_back_years=10, quiet_floor=0.7)
    hit = experience_rating(_submission(incidents=[_incident("2025-06-01")]), 0.02, 0.8,
                            look_back_years=10, quiet_floor=0.7)
    assert hit.breaches == 1 and quiet.breaches == 0
    assert hit.posterior_rate > 0.02 > quiet.posterior_rate
    assert quiet.exposure_years == pytest.approx((dt.date(2026, 9, 30) - dt.date(2018, 4, 1)).days / 365.25)


def test_fraud_is_not_a_breach_and_old_incidents_fall_out_of_the_window():
    fraud = _submission(incidents=[_incident("2025-06-01", vector="exit_scam_or_fraud")])
    assert experience_rating(fraud, 0.02, 0.8, look_back_years=10, quiet_floor=0.7).breaches == 0
    old = _submission(incidents=[_incident("2018-05-01", vector="hot_wallet_key")])
    assert experience_rating(old, 0.02, 0.8, look_back_years=10, quiet_floor=0.7).breaches == 1
    assert experience_rating(old, 0.02, 0.8, look_back_years=5, quiet_floor=0.7).breaches == 0


def test_vector_event_types_cover_the_vocabulary():
    assert set(VECTOR_EVENT_TYPE) == set(VECTORS)
    assert {v for v, t in VECTOR_EVENT_TYPE.items() if t not in BREACH_EVENT_TYPES} == {"exit_scam_or_fraud"}


def test_window_is_cut_at_launch():
    start, years = window(dt.date(2026, 1, 1), dt.date(2024, 1, 1), 10)
    assert start == dt.date(2024, 1, 1) and years == pytest.approx(731 / 365.25)
    with pytest.raises(InputError):
        window(dt.date(2026, 1, 1), dt.date(2024, 1, 1), 0)


def test_breach_counts_from_the_incident_table():
    inc = pd.DataFrame({"exchange_id": ["a", "a", "a", "b"],
                        "incident_date": pd.to_datetime(["2020-01-01", "2021-01-01", "2022-01-01", "2021-06-01"]),
                        "event_type": ["hack", "fraud", "insider", "hack"]})
    got = breach_counts(inc, ["a", "b", "c"], ["2019-01-01", "2021-07-01", "2019-01-01"],
                        ["2021-12-31", "2025-01-01", "2025-01-01"])
    assert got.tolist() == [1, 0, 0]
    got = breach_counts(inc, ["a"], ["2019-01-01"], ["2022-01-01"])
    assert got.tolist() == [2]


def test_worked_example_of_docs():
    """The numbers of docs/schedule.md, section 1 (m = 0.012, alpha = 0.5, shipped tables)."""
    from underwriting.domain.submission import load_submission
    from underwriting.frequency.schedule import load_schedule

    hk = load_submission(str(EXAMPLES / "hk_exchange_with_incident.json"))
    e = experience_rating(hk, 0.012, 0.5, look_back_years=10, quiet_floor=0.7)
    assert e.prior_years == pytest.approx(41.667, abs=5e-4)
    assert e.exposure_years == pytest.approx(2798 / 365.25) and e.breaches == 1
    # HKD 42m at 7.796 HKD per USD (2026) = USD 5.387m: size weight 0.5 + log10(5.387) / 2 = 0.8657; age 1235 days
    usd = 42e6 / 7.796
    assert round(e.breach_weights[0], 4) == round((0.5 + math.log10(usd / 1e6) / 2) * 0.5 ** (1235 / 365.25 / 5), 4) \
        == 0.5417
    assert round(e.weighted_exposure_years, 4) == round(5 / math.log(2) * (1 - 0.5 ** (2798 / 365.25 / 5)), 4) == 4.7192
    assert round(e.credibility, 4) == 0.1017 and round(e.posterior_rate, 6) == 0.022458
    s = load_schedule().rate(hk)
    assert round(s.factor, 4) == 1.4482
    rate = e.posterior_rate * s.factor
    assert round(rate, 6) == 0.032525 and round(100 * -math.expm1(-rate), 2) == 3.20
    jp = load_submission(str(EXAMPLES / "jp_small_exchange.json"))
    e = experience_rating(jp, 0.012, 0.5, look_back_years=10, quiet_floor=0.7)
    assert round(e.exposure_years, 4) == 8.4983 and round(e.weighted_exposure_years, 4) == 4.9927
    assert round(e.credibility, 4) == 0.1070
    assert round(e.posterior_rate, 6) == 0.010716 and not e.floor_applied
    s = load_schedule().rate(jp)
    assert round(s.factor, 4) == 0.7142
    rate = e.posterior_rate * s.factor
    assert round(rate, 6) == 0.007653 and round(100 * -math.expm1(-rate), 2) == 0.76
