"""Frequency hand-off: Poisson mean over the policy window and its gamma-mixing variance."""

from __future__ import annotations

import datetime as dt
import math

import pytest

from underwriting.domain.policy import PolicyTerms
from underwriting.errors import InputError
from underwriting.survival import (
    TimeToBreachModel,
    frequency_for_term,
    policy_window,
    survival_target,
)

from ._sim import panel, weibull_ph


@pytest.fixture(scope="module")
def pwe():
    df, *_ = panel(800, 36, seed=2)
    m = TimeToBreachModel(family="piecewise_exponential", breakpoints=(1.0, 3.0))
    return m.fit(df[["posture", "recent"]], survival_target(df["stop"], df["n_events"], entry=df["start"])), df


def _terms(inception, expiry):
    return PolicyTerms(insurer="X", insurer_rating="A", insurer_authorised=True, inception=inception,
                       expiry=expiry, cancellation_notice_days=90, currency="USD", limit=1e6,
                       perils=["hot_wallet_theft"])


def test_expected_breaches_is_window_hazard(pwe):
    m, df = pwe
    x = df[["posture", "recent"]].iloc[[10]]
    fe = frequency_for_term(m, x, (2.0, 3.0))
    assert fe.expected_breaches == m.predict_cumulative_hazard(x, 2.0, 3.0)[0]
    assert fe.p_at_least_one == pytest.approx(1 - math.exp(-fe.expected_breaches), rel=1e-15)
    assert fe.start_years == 2.0 and fe.end_years == 3.0
    assert fe.variance_of_lambda > 0 and "delta" in fe.method
    assert fe.count_variance == fe.expected_breaches + fe.variance_of_lambda
    nb = fe.count_distribution()
    assert nb.mean() == pytest.approx(fe.expected_breaches, rel=1e-12)
    assert nb.var() == pytest.approx(fe.count_variance, rel=1e-12)
    assert fe.p_at_least_one_mixed == pytest.approx(1 - nb.pmf(0), rel=1e-12)
    assert fe.p_at_least_one_mixed < fe.p_at_least_one  # mixing spreads mass to 0 and to many


@pytest.mark.parametrize("family", ["piecewise_exponential", "coxph", "weibull_aft", "lognormal_aft"])
def test_delta_agrees_with_parametric_draws(family):
    X, y, _ = weibull_ph(500, seed=4)
    m = TimeToBreachModel(family=family, horizon=2.0).fit(X, y)
    x = X.iloc[[3]]
    d = frequency_for_term(m, x, (1.0, 2.0), method="delta")
    s1 = frequency_for_term(m, x, (1.0, 2.0), method="draws", n_draws=3000, seed=1)
    s2 = frequency_for_term(m, x, (1.0, 2.0), method="draws", n_draws=3000, seed=1)
    assert s1 == s2  # seeded
    assert s1.expected_breaches == d.expected_breaches
    assert s1.variance_of_lambda == pytest.approx(d.variance_of_lambda, rel=0.15)
    if family == "coxph":
        assert "baseline treated as known" in d.method


def test_policy_terms_need_origin(pwe):
    m, df = pwe
    x = df[["posture", "recent"]].iloc[[0]]
    terms = _terms(dt.date(2026, 1, 1), dt.date(2027, 1, 1))
    with pytest.raises(InputError, match="origin"):
        frequency_for_term(m, x, terms)
    fe = frequency_for_term(m, x, terms, origin=dt.date(2024, 1, 1))
    s, e = policy_window(terms, dt.date(2024, 1, 1))
    assert (fe.start_years, fe.end_years) == (s, e)
    assert s == pytest.approx(731 / 365.25) and e - s == pytest.approx(terms.term_years)
    assert fe.expected_breaches == m.predict_cumulative_hazard(x, s, e)[0]
    with pytest.raises(InputError, match="before the exchange's launch"):
        frequency_for_term(m, x, terms, origin=dt.date(2027, 1, 1))


def test_beyond_follow_up_is_refused(pwe):
    m, df = pwe
    x = df[["posture", "recent"]].iloc[[0]]
    with pytest.raises(InputError, match="beyond the training data's maximum follow-up"):
        frequency_for_term(m, x, (4.0, 40.0))
    with pytest.raises(InputError, match="one exchange"):
        frequency_for_term(m, df[["posture", "recent"]].iloc[:2], (1.0, 2.0))
