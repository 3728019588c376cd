"""Breach weights of experience rating (features/history.py) and the weighted rule (experience.py):
hypothesis property tests of monotonicity and bounds, exact values, and the referral warning."""

from __future__ import annotations

import copy
import datetime as dt
import json
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import EXAMPLES
from underwriting.domain.submission import Submission
from underwriting.errors import InputError
from underwriting.features.history import (
    breach_age_weight,
    breach_size_weight,
    breach_weights,
    decayed_exposure,
)
from underwriting.frequency.experience import experience_rating, recent_breaches
from underwriting.frequency.experience_prior import load_settings

S = load_settings()
W = S.weight_params()
SIZE = {k: v for k, v in W.items() if k != "half_life_years"}
FAST = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
DOC = json.loads((EXAMPLES / "jp_small_exchange.json").read_text())
AS_OF = dt.date.fromisoformat(DOC["as_of"])
LAUNCH = dt.date.fromisoformat(DOC["exchange"]["launch_date"])
ASSETS = DOC["exposure"]["customer_assets"]["total"]
shares = st.floats(0.0, 1e10, allow_nan=False)
ages = st.floats(0.0, 40.0, allow_nan=False)


def test_weights_at_documented_points():
    """experience.toml: 0.5 at <= USD 1m, 1 at USD 10m, 1.5 at >= USD 100m; half weight after 5 years."""
    got = breach_size_weight([0.0, 1e5, 1e6, 1e7, 1e8, 5e8, np.nan], **SIZE)
    assert got == pytest.approx([0.5, 0.5, 0.5, 1.0, 1.5, 1.5, 1.5], rel=1e-12)
    assert breach_age_weight([0.0, 5.0, 10.0], 5.0) == pytest.approx([1.0, 0.5, 0.25])
    # the three breaches: USD 300m, USD 1m, JPY 2bn (about USD 13.3m at 150 JPY per USD)
    w = breach_size_weight([300e6, 1e6, 2e9 / 150], **SIZE)
    assert w[0] == 1.5 and w[1] == 0.5 and w[2] == pytest.approx(0.5 + math.log10(2e9 / 150 / 1e6) / 2)
    # decayed exposure is the integral of the age weight (trapezoid check on a fine grid)
    t = np.linspace(0, 7.3, 200001)
    assert decayed_exposure(7.3, 5.0) == pytest.approx(np.trapezoid(0.5 ** (t / 5.0), t), rel=1e-9)
    assert decayed_exposure(0.0, 5.0) == 0.0


@FAST
@given(a=shares, b=shares, x=ages, y=ages)
def test_bigger_or_more_recent_never_weighs_less_and_every_weight_is_bounded(a, b, x, y):
    (s_lo, s_hi), (a_young, a_old) = sorted((a, b)), sorted((x, y))
    w = breach_weights([s_lo, s_hi, s_hi, s_hi], [a_young, a_young, a_young, a_old], **W)
    assert w[1] >= w[0]  # bigger, same age
    assert w[2] >= w[3]  # same size, more recent
    assert np.all(w > 0) and np.all(w <= S.weight_max)
    sw = breach_size_weight([a, b], **SIZE)
    assert np.all((sw >= S.weight_min) & (sw <= S.weight_max))


@FAST
@given(h=st.floats(0.1, 50), t1=st.floats(0, 30), t2=st.floats(0, 30))
def test_decayed_exposure_is_monotone_and_bounded(h, t1, t2):
    lo, hi = sorted((t1, t2))
    assert decayed_exposure(lo, h) <= decayed_exposure(hi, h) + 1e-12
    assert decayed_exposure(hi, h) <= min(hi, h / math.log(2)) + 1e-12


def test_bad_weight_parameters_are_refused():
    with pytest.raises(InputError):
        breach_size_weight([0.1], loss_low=1e8, loss_high=1e6, weight_min=0.5, weight_max=1.5)
    with pytest.raises(InputError):
        breach_size_weight([0.1], loss_low=1e6, loss_high=1e8, weight_min=2.0, weight_max=1.5)
    with pytest.raises(InputError):
        breach_age_weight([-1.0], 5.0)
    with pytest.raises(InputError):
        breach_size_weight([-0.1], **SIZE)


def _incident(date, amount, vector="hot_wallet_key"):
    return {"date": date.isoformat(), "amount": amount, "currency": DOC["exposure"]["currency"],
            "custody_tier": "hot", "vector": vector, "customers_reimbursed": "none"}


def _rate(incidents, m=0.01, alpha=S.alpha_max):
    doc = copy.deepcopy(DOC)
    doc["incidents"] = incidents
    return experience_rating(Submission.model_validate(doc), m, alpha, look_back_years=10, quiet_floor=0.7)


days = st.integers(0, (AS_OF - LAUNCH).days)
amounts = st.floats(0.0, 2 * ASSETS, allow_nan=False)
alphas = st.floats(S.alpha_min, S.alpha_max)


@FAST
@given(d=days, amt=amounts, others=st.lists(st.tuples(days, amounts), max_size=4), alpha=alphas)
def test_a_breach_never_lowers_the_rate(d, amt, others, alpha):
    base = [_incident(AS_OF - dt.timedelta(days=k), a) for k, a in others]
    before = _rate(base, alpha=alpha)
    after = _rate(base + [_incident(AS_OF - dt.timedelta(days=d), amt)], alpha=alpha)
    assert after.posterior_rate >= before.posterior_rate
    assert after.posterior_rate >= after.prior_rate  # a breach on record: never below the base rate


@FAST
@given(d1=days, d2=days, a1=amounts, a2=amounts, alpha=alphas)
def test_a_bigger_or_more_recent_breach_never_rates_lower(d1, d2, a1, a2, alpha):
    (recent, old), (small, big) = sorted((d1, d2)), sorted((a1, a2))
    by_size = [_rate([_incident(AS_OF - dt.timedelta(days=recent), a)], alpha=alpha).posterior_rate
               for a in (small, big)]
    by_age = [_rate([_incident(AS_OF - dt.timedelta(days=k), big)], alpha=alpha).posterior_rate
              for k in (old, recent)]
    assert by_size[1] >= by_size[0] and by_age[1] >= by_age[0]


def test_three_breaches_no_longer_add_the_same():
    """The issue's complaint: a large hack, a small hack and an old theft each added exactly +26%."""
    big = _rate([_incident(AS_OF - dt.timedelta(days=400), 30e9)])  # JPY 30bn: above USD 100m
    small = _rate([_incident(AS_OF - dt.timedelta(days=400), 1e6)])  # JPY 1m: below USD 1m
    old = _rate([_incident(LAUNCH + dt.timedelta(days=10), 30e9)])
    assert big.factor > old.factor > 1.0 and big.factor > small.factor >= 1.0
    assert big.breach_weights[0] == pytest.approx(1.5 * 0.5 ** (400 / 365.25 / 5))
    assert small.breach_weights[0] == pytest.approx(0.5 * 0.5 ** (400 / 365.25 / 5))


def test_recent_breaches_for_the_referral_rule():
    doc = copy.deepcopy(DOC)
    inception = AS_OF + dt.timedelta(days=1)
    doc["incidents"] = [_incident(inception - dt.timedelta(days=365), 1e6),
                        _incident(inception - dt.timedelta(days=366), 1e6),
                        _incident(inception - dt.timedelta(days=30), 1e6, vector="exit_scam_or_fraud")]
    sub = Submission.model_validate(doc)
    got = recent_breaches(sub, inception, 12)
    assert [i.date for i in got] == [inception - dt.timedelta(days=365)]


def test_declared_assets_do_not_move_the_experience():
    """The size weight is absolute: raising the declared customer assets cannot lower a breach's weight."""
    doc = copy.deepcopy(DOC)
    doc["incidents"] = [_incident(AS_OF - dt.timedelta(days=400), 3e9)]
    rates = []
    for k in (1, 10, 100):
        d = copy.deepcopy(doc)
        d["exposure"]["customer_assets"] = {t: v * k for t, v in DOC["exposure"]["customer_assets"].items()}
        rates.append(experience_rating(Submission.model_validate(d), 0.01, 4.0, look_back_years=10,
                                       quiet_floor=0.7).posterior_rate)
    assert rates[0] == rates[1] == rates[2]


def test_quote_warns_of_a_breach_in_the_last_12_months():
    import underwriting.api as uw

    doc = copy.deepcopy(DOC)
    doc["incidents"] = [_incident(AS_OF - dt.timedelta(days=100), 5e8)]
    q = uw.quote(Submission.model_validate(doc))
    refer = [w for w in q.warnings if w.startswith("REFER")]
    assert len(refer) == 1 and str(AS_OF - dt.timedelta(days=100)) in refer[0]
    from underwriting.domain.report import format_quote

    assert "! REFER: a breach on" in format_quote(q)  # the text output's Warnings block
    quiet = uw.quote(Submission.model_validate(DOC))
    assert not any(w.startswith("REFER") for w in quiet.warnings)
