"""Layer algebra and expected layer loss properties (hypothesis)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from underwriting.errors import InputError
from underwriting.losses.aggregate import Peril
from underwriting.losses.counts import Poisson
from underwriting.losses.severity import Lognormal, Lomax
from underwriting.pricing.layers import Layer, split_gross, tower

LN = Lognormal(math.log(1e5), 2.0)
amount = st.floats(min_value=0.0, max_value=1e10, allow_nan=False, allow_infinity=False)
width = st.floats(min_value=1.0, max_value=1e9, allow_nan=False, allow_infinity=False)
share = st.floats(min_value=1e-3, max_value=1.0)


@given(x=st.lists(amount, min_size=1, max_size=20), d=amount, lim=width, s=share)
def test_gross_is_retained_plus_ceded(x, d, lim, s):
    layer = Layer(deductible=d, limit=lim, share=s)
    xa = np.array(x)
    np.testing.assert_allclose(layer.retained(xa) + layer.ceded(xa), xa, rtol=1e-12, atol=1e-6)
    c = layer.ceded(xa)
    assert np.all(c >= 0) and np.all(c <= s * lim * (1 + 1e-12))
    assert np.all(layer.retained(xa) >= -1e-6)


@given(x=st.lists(amount, min_size=1, max_size=20), base=amount,
       widths=st.lists(width, min_size=1, max_size=6))
def test_stacked_layers_add_up_to_the_tower(x, base, widths):
    layers = tower(widths, attachment=base)
    top = base + sum(widths)
    xa = np.array(x)
    retained, ceded = split_gross(xa, layers)
    expected = np.clip(xa - base, 0, top - base)
    np.testing.assert_allclose(ceded, expected, rtol=1e-9, atol=1e-6 * max(1.0, top))
    np.testing.assert_allclose(retained + ceded, xa, rtol=1e-12, atol=1e-6)
    # and the tower's expected per-occurrence loss is the sum of its layers'
    total = sum(layer.expected_occurrence_loss(LN) for layer in layers)
    assert total == pytest.approx(float(LN.layer_mean(base, top - base)), rel=1e-9, abs=1e-9)


@settings(max_examples=60)
@given(d1=st.floats(0, 5e7), d2=st.floats(0, 5e7), lim=st.floats(1e3, 1e8),
       sev=st.sampled_from([LN, Lomax(1.5, 1e6), Lomax(3.0, 2e5)]))
def test_expected_layer_loss_non_increasing_in_deductible(d1, d2, lim, sev):
    lo, hi = sorted((d1, d2))
    e_lo = Layer(lo, lim).expected_occurrence_loss(sev)
    e_hi = Layer(hi, lim).expected_occurrence_loss(sev)
    assert e_hi <= e_lo * (1 + 1e-10) + 1e-9
    assert 0 <= e_lo <= lim * (1 + 1e-12)


@settings(max_examples=60)
@given(d=st.floats(0, 5e7), l1=st.floats(1e3, 1e8), l2=st.floats(1e3, 1e8),
       sev=st.sampled_from([LN, Lomax(1.5, 1e6)]))
def test_expected_layer_loss_non_decreasing_in_limit_and_bounded(d, l1, l2, sev):
    lo, hi = sorted((l1, l2))
    e_lo = Layer(d, lo).expected_occurrence_loss(sev)
    e_hi = Layer(d, hi).expected_occurrence_loss(sev)
    assert e_lo <= e_hi * (1 + 1e-10) + 1e-9
    assert e_hi <= hi * (1 + 1e-12)


@settings(max_examples=15, deadline=None)
@given(d=st.floats(0, 2e7), lim=st.floats(1e5, 5e7), lam=st.floats(0.01, 2.0))
def test_annual_expected_loss_bounded_and_consistent(d, lim, lam):
    layer = Layer(d, lim, agg_limit=2 * lim)
    res = layer.loss_distribution(Peril("all", Poisson(lam), LN), n_buckets=2**12)
    assert 0 <= res.mean <= 2 * lim * (1 + 1e-9)
    assert res.mean <= lam * float(LN.layer_mean(d, lim)) * (1 + 1e-6) + 1e-6
    assert res.values.max() <= 2 * lim * (1 + 1e-9)


def test_reinstatements_define_aggregate_limit_and_premium_factor():
    layer = Layer(1e6, 9e6, reinstatements=2, reinstatement_premium=(1.0, 0.5))
    assert layer.agg_limit == 27e6
    res = layer.loss_distribution(Peril("all", Poisson(0.3), LN))
    s = res.values
    f = (np.dot(np.clip(s, 0, 9e6), res.probs) + 0.5 * np.dot(np.clip(s - 9e6, 0, 9e6), res.probs)) / 9e6
    assert layer.reinstatement_factor(res) == pytest.approx(f, rel=1e-12)
    full = Layer(1e6, 9e6, reinstatements=1, pro_rata_amount=False)
    # charged in full: the exact P(attach) = 1 - P_N(F_X(d)), not the grid's P(S > 0)
    exact = 1 - math.exp(-0.3 * float(LN.sf(1e6)))
    assert full.reinstatement_factor(res) == pytest.approx(exact, rel=1e-12)
    assert res.sf(0.0) == pytest.approx(exact, rel=1e-3)  # the grid's figure is close, not exact


def test_sublimits_and_labels():
    layer = Layer(1e6, 9e6, sublimits={"third_party_vendor": 2e6})
    assert layer.peril_limit("third_party_vendor") == 2e6
    assert layer.peril_limit("insider") == 9e6
    assert layer.label == "9M xs 1M"
    assert float(layer.ceded(5e6, "third_party_vendor")) == 2e6
    assert layer.annual_ceded([5e6, 2e7], ["third_party_vendor", "insider"]) == 2e6 + 9e6
    with pytest.raises(TypeError):
        layer.sublimits["insider"] = 1.0
    assert hash(layer) == hash(Layer(1e6, 9e6, sublimits={"third_party_vendor": 2e6}))
    assert layer.with_(share=0.5).share == 0.5


def test_with_rederives_a_derived_aggregate_limit_and_keeps_an_explicit_one():
    # derived: unlimited without reinstatements, (n + 1) x limit with them
    assert Layer(0, 1e6).with_(reinstatements=2).agg_limit == 3e6
    assert Layer(0, 1e6).with_(reinstatements=2).reinstatement_premium == (1.0, 1.0)
    assert Layer(0, 1e6, reinstatements=2).with_(reinstatements=0).agg_limit == math.inf
    assert Layer(0, 1e6, reinstatements=1).with_(limit=2e6).agg_limit == 4e6
    assert Layer(0, 1e6, reinstatements=1, reinstatement_premium=0.5).with_(
        reinstatements=3).reinstatement_premium == (0.5, 0.5, 0.5)
    # explicit: kept whatever else changes
    assert Layer(0, 1e6, reinstatements=1, agg_limit=5e6).with_(limit=2e6).agg_limit == 5e6
    assert Layer(0, 1e6, agg_limit=3e6).with_(share=0.5).agg_limit == 3e6
    # distinct premiums per reinstatement cannot be guessed for a new count: the field is named
    with pytest.raises(InputError) as exc:
        Layer(0, 1e6, reinstatements=2, reinstatement_premium=(1.0, 0.5)).with_(reinstatements=3)
    assert exc.value.field == "reinstatement_premium"


@pytest.mark.parametrize("kwargs,field", [
    ({"deductible": -1}, "deductible"), ({"limit": 0}, "limit"), ({"share": 1.5}, "share"),
    ({"share": -0.2}, "share"), ({"reinstatements": -1}, "reinstatements"),
    ({"sublimits": {"hot": 1e6}}, "sublimits"), ({"term_years": 0}, "term_years"),
    ({"limit": 1e6, "reinstatements": 2, "reinstatement_premium": (1.0,)}, "reinstatement_premium"),
])
def test_layer_validation(kwargs, field):
    with pytest.raises(InputError) as exc:
        Layer(**kwargs)
    assert exc.value.field == field


def test_first_reinstatement_charged_in_full_uses_the_exact_probability_of_attaching():
    # geometric(beta) x exponential: P(S > 0) = beta / (1 + beta) exactly (Sundt's closed form
    # of the compound geometric-exponential); the grid's own P(S > 0) is lowered by dispersal
    from underwriting.losses.counts import geometric
    from underwriting.losses.severity import Gamma
    from underwriting.pricing.premium import price_layer

    beta = 0.4
    layer = Layer(0.0, 2e6, reinstatements=1, reinstatement_premium=1.0, pro_rata_amount=False)
    r = price_layer(geometric(beta), Gamma(1.0, 1e6), layer, principle="pure")
    assert r.expected_reinstatement_premium / r.premium == pytest.approx(beta / (1 + beta), rel=1e-12)
    grid_p = float(r.distribution.probs[r.distribution.values > 0].sum())
    assert abs(grid_p - beta / (1 + beta)) > 1e-9  # the discretised figure differs
