"""Aggregate engine: DOMAIN.md oracles, FFT vs Panjer vs Monte Carlo, batch, frequency."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from underwriting.errors import InputError
from underwriting.losses.aggregate import (
    Peril,
    PricingRefused,
    compound,
    compound_batch,
    discretize_layer,
)
from underwriting.losses.counts import NegativeBinomial, Poisson, geometric, make_frequency
from underwriting.losses.severity import Lognormal, Lomax, Weibull

LN = Lognormal(math.log(1e5), 2.0)
LAYER = {"deductible": 1e6, "limit": 9e6}
PERIL = Peril("all", Poisson(0.3), LN)


@pytest.fixture(scope="module")
def fft():
    return compound(PERIL, **LAYER)


@pytest.fixture(scope="module")
def panjer():
    return compound(PERIL, method="panjer", n_buckets=2**14, **LAYER)


@pytest.fixture(scope="module")
def mc():
    return compound(PERIL, method="mc", n_sims=400_000, random_state=20240601, **LAYER)


def test_fft_layer_mean_and_sd_oracles(fft):
    assert fft.mean == pytest.approx(87_807.56, rel=1e-6)
    assert fft.std == pytest.approx(698_262.16, rel=1e-6)
    assert fft.moment_check.ok and bool(fft.moment_check)
    assert fft.moment_check.mean_rel_err < 1e-8
    assert fft.moment_check.var_rel_err < 1e-6


def test_fft_tvar_matches_peer_value(fft):
    # DOMAIN.md: aggregate (the PyPI package) gets TVaR_0.995 ~ 8.474m on this layer
    assert fft.tvar(0.995) == pytest.approx(8.474e6, rel=1e-3)


def test_panjer_agrees_with_fft(fft, panjer):
    assert panjer.mean == pytest.approx(fft.mean, rel=1e-6)
    assert panjer.std == pytest.approx(fft.std, rel=1e-6)
    assert panjer.tvar(0.995) == pytest.approx(fft.tvar(0.995), rel=1e-4)
    assert panjer.moment_check.ok


def test_mc_within_three_standard_errors(fft, mc):
    assert abs(mc.mean - fft.mean) <= 3 * mc.se_mean
    assert abs(mc.tvar(0.995) - fft.tvar(0.995)) <= 3 * mc.se_tvar(0.995)
    assert abs(mc.prob_attach - fft.prob_attach) <= 3 * math.sqrt(fft.prob_attach * (1 - fft.prob_attach) / mc.n_sims)
    assert mc.moment_check.ok


def test_attach_and_exhaust_probabilities(fft):
    assert fft.prob_attach == pytest.approx(1 - math.exp(-0.3 * LN.sf(1e6)), rel=1e-12)
    assert fft.prob_exhaust == pytest.approx(1 - math.exp(-0.3 * LN.sf(1e7)), rel=1e-12)
    pts = fft.ep_curve([100, 1000])
    assert pts[0]["loss"] <= pts[1]["loss"] <= 9e6 * 3


@pytest.mark.parametrize("method,n", [("fft", 2**16), ("panjer", 2**15)])
def test_geometric_exponential_exact(method, n):
    beta, theta = 3.0, 1e6
    res = compound(Peril("all", geometric(beta), Weibull(1.0, theta)), method=method, n_buckets=n)
    xs = np.array([1e5, 1e6, 3e6, 1e7])
    exact = beta / (1 + beta) * np.exp(-xs / (theta * (1 + beta)))
    np.testing.assert_allclose(res.sf(xs, smooth=True), exact, rtol=5e-6)
    # the unsmoothed (step) survival function is within one bucket's worth
    np.testing.assert_allclose(res.sf(xs), exact, rtol=2e-3)
    assert res.mean == pytest.approx(beta * theta, rel=1e-6)
    assert res.moment_check.ok


def test_geometric_exponential_monte_carlo():
    beta, theta = 3.0, 1e6
    res = compound(Peril("all", geometric(beta), Weibull(1.0, theta)), method="mc", n_sims=200_000, random_state=5)
    x = 5e6
    exact = beta / (1 + beta) * math.exp(-x / (theta * (1 + beta)))
    assert abs(res.sf(x) - exact) <= 3 * math.sqrt(exact * (1 - exact) / res.n_sims)


def test_aggregate_terms_and_share():
    full = compound(PERIL, **LAYER)
    cut = compound(PERIL, agg_deductible=2e6, agg_limit=5e6, share=0.4, **LAYER)
    s = full.values
    expected = float(np.dot(0.4 * np.clip(s - 2e6, 0, 5e6), full.probs))
    assert cut.mean == pytest.approx(expected, rel=1e-12)
    assert cut.values.max() == pytest.approx(0.4 * 5e6)
    # P(S >= 7e6) of the model: 7e6 falls between grid points and no atom sits there, so it is the
    # smoothed survival of the layer without aggregate terms (#31), between the grid's two steps
    assert cut.prob_exhaust == pytest.approx(full.sf(7e6, smooth=True), rel=1e-12)
    k = int(np.searchsorted(s, 7e6))
    assert float(full.probs[k:].sum()) <= cut.prob_exhaust <= float(full.probs[k - 1:].sum())


def test_two_perils_sum_of_compounds():
    own = Peril("hot_wallet_theft", Poisson(0.2), LN)
    vendor = Peril("third_party_vendor", NegativeBinomial(0.1, 0.02), Lognormal(13.0, 1.5))
    res = compound([own, vendor], **LAYER)
    m = 0.2 * LN.layer_mean(1e6, 9e6) + 0.1 * Lognormal(13.0, 1.5).layer_mean(1e6, 9e6)
    assert res.mean == pytest.approx(m, rel=1e-6)
    assert res.moment_check.ok
    pan = compound([own, vendor], method="panjer", n_buckets=2**13, **LAYER)
    assert pan.mean == pytest.approx(m, rel=1e-6)
    assert pan.tvar(0.995) == pytest.approx(res.tvar(0.995), rel=2e-3)
    # sub-limit on the vendor peril lowers the expected loss by the right amount
    sub = compound([own, vendor], sublimits={"third_party_vendor": 2e6}, **LAYER)
    m_sub = 0.2 * LN.layer_mean(1e6, 9e6) + 0.1 * Lognormal(13.0, 1.5).layer_mean(1e6, 2e6)
    assert sub.mean == pytest.approx(m_sub, rel=1e-6)


def test_moment_check_flags_a_too_coarse_grid_and_the_engine_refuses_it():
    model = Peril("all", Poisson(5.0), Lomax(1.2, 1e6))
    # by default: finer grid, then Monte Carlo (impossible to check: infinite variance), then refusal
    with pytest.raises(PricingRefused, match="refused") as e:
        compound(model, n_buckets=256, eps=1e-3)
    assert isinstance(e.value, InputError) and e.value.field == "n_buckets"
    assert "1,024 buckets" in str(e.value) and "Monte Carlo" in str(e.value)
    res = compound(model, n_buckets=256, eps=1e-3, escalate=False)  # diagnostics only
    assert not res.moment_check.ok
    # the grid is checked against the closed forms of the model it represents (occurrences
    # truncated at the 1 - 1e-12 quantile); Lomax(1.2) itself has no variance
    assert math.isinf(res.exact_moments[1]) and math.isfinite(res.moment_check.var_analytic)
    mc = res.moment_check
    assert mc.mean_rel_err > mc.mean_rtol or mc.var_rel_err > mc.var_rtol
    assert "disagree" in mc.note


def test_discretisation_keeps_the_mean_exactly():
    h = 9e6 / 1000
    f = discretize_layer(LN, 1e6, 9e6, h, 4096)
    assert f.sum() == pytest.approx(1.0, abs=1e-12)
    assert np.dot(h * np.arange(f.size), f) == pytest.approx(LN.layer_mean(1e6, 9e6), rel=1e-10)
    r = discretize_layer(LN, 1e6, 9e6, h, 4096, method="round")
    assert r.sum() == pytest.approx(1.0, abs=1e-12)


def test_batch_matches_single():
    lams = [0.3, 0.1, 1.5]
    sevs = [LN, Lognormal(12.0, 1.5), Lomax(2.5, 1e6)]
    ded = [1e6, 5e5, 2e6]
    lim = [9e6, 4.5e6, 1e7]
    b = compound_batch([Poisson(v) for v in lams], sevs, deductibles=ded, limits=lim, level=0.995,
                       shares=[1.0, 0.5, 1.0], agg_limits=[math.inf, math.inf, 2e7])
    for i in range(3):
        s = compound(Peril("all", Poisson(lams[i]), sevs[i]), deductible=ded[i], limit=lim[i],
                     share=[1.0, 0.5, 1.0][i], agg_limit=[math.inf, math.inf, 2e7][i])
        assert b.mean[i] == pytest.approx(s.mean, rel=1e-9)
        assert b.std[i] == pytest.approx(s.std, rel=1e-9)
        assert b.tvar[i] == pytest.approx(s.tvar(0.995), rel=1e-9)
        assert b.var[i] == pytest.approx(s.value_at_risk(0.995), rel=1e-9)
        assert b.prob_attach[i] == pytest.approx(s.prob_attach, rel=1e-9)
        assert b.moment_check[i]
    assert b.mean[0] == pytest.approx(87_807.56, rel=1e-6)
    assert len(b.to_records()) == 3


def test_frequencies():
    nb = NegativeBinomial(0.3, 0.05)
    assert nb.var() == pytest.approx(0.35)
    a, b = nb.panjer_ab()
    k = np.arange(1, 8)
    np.testing.assert_allclose(nb.pmf(k), (a + b / k) * nb.pmf(k - 1), rtol=1e-10)
    assert complex(nb.pgf(0.5 + 0j)).real == pytest.approx(float(np.sum(nb.pmf(np.arange(200)) * 0.5 ** np.arange(200))))
    assert Poisson.from_probability(1 - math.exp(-0.3)).lam == pytest.approx(0.3)
    assert Poisson.from_rate(0.15, 2.0).lam == pytest.approx(0.3)
    assert make_frequency("geometric", beta=2.0).pmf(0) == pytest.approx(1 / 3)
    draws = nb.rvs(200_000, random_state=3)
    assert draws.mean() == pytest.approx(0.3, rel=0.02)
    assert draws.var() == pytest.approx(0.35, rel=0.03)
    assert stats.poisson(0.3).pmf(2) == pytest.approx(Poisson(0.3).pmf(2))
    with pytest.raises(InputError):
        make_frequency("binomial", n=3)
    with pytest.raises(InputError):
        Poisson(-1)


def test_input_errors():
    with pytest.raises(InputError, match="share"):
        compound(PERIL, share=-0.1)
    with pytest.raises(InputError, match="unknown method"):
        compound(PERIL, method="magic")
    with pytest.raises(InputError, match="unknown peril"):
        compound(PERIL, sublimits={"hot_wallet": 1e6})
    with pytest.raises(InputError):
        compound(PERIL, limit=0)
