"""Severity distributions: closed-form oracles (DOMAIN.md section 4) and internal consistency."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from underwriting.errors import InputError
from underwriting.losses.severity import (
    CappedSeverity,
    Lognormal,
    Lomax,
    MixtureSeverity,
    Severity,
    SplicedLognormalGPD,
    Weibull,
    cap_at_exposure,
    exposure_pit,
    exposure_severity,
    make_severity,
)

LN = Lognormal(math.log(1e5), 2.0)
REL = 1e-6


def test_lognormal_lev_oracles():
    assert LN.lev(1e6) == pytest.approx(271_125.55, rel=REL)
    assert LN.lev(1e7) == pytest.approx(563_817.43, rel=REL)


def test_lognormal_layer_oracle():
    assert LN.layer_mean(1e6, 9e6) == pytest.approx(292_691.88, rel=REL)


def test_lognormal_tvar_oracle():
    assert LN.tvar(0.99) == pytest.approx(27_493_243.19, rel=REL)
    # the generic formula (VaR + E[(X - VaR)+]/(1-p)) agrees with the closed form
    assert Severity.tvar(LN, 0.99) == pytest.approx(LN.tvar(0.99), rel=1e-10)


def test_lomax_lev_oracle():
    assert Lomax(1.5, 1e6).lev(1e6) == pytest.approx(585_786.44, rel=REL)


SEVERITIES = [
    LN,
    Lomax(2.5, 1e6),
    Weibull(0.7, 1e6),
    SplicedLognormalGPD(11.5, 2.0, 1e6, 0.3, 1e6, 0.1),
    CappedSeverity(LN, 5e6),
    MixtureSeverity((CappedSeverity(LN, 1e6), CappedSeverity(LN, 1e8)), (0.7, 0.3)),
]


@pytest.mark.parametrize("sev", SEVERITIES, ids=lambda s: type(s).__name__)
def test_closed_forms_match_numerical_integration(sev):
    for u in (3e4, 1e6, 3e6, 2e7):
        assert sev.lev(u) == pytest.approx(Severity.limited_moment(sev, u, 1), rel=1e-8)
        assert sev.limited_moment(u, 2) == pytest.approx(Severity.limited_moment(sev, u, 2), rel=1e-7)
    assert sev.lev(np.inf) == pytest.approx(sev.mean(), rel=1e-10)


@pytest.mark.parametrize("sev", SEVERITIES, ids=lambda s: type(s).__name__)
def test_cdf_ppf_roundtrip_and_sampling(sev):
    q = np.array([0.01, 0.3, 0.5, 0.9, 0.99])
    x = sev.ppf(q)
    # cdf(ppf(q)) >= q with equality off atoms
    assert np.all(np.asarray(sev.cdf(x)) >= q - 1e-9)
    a = sev.rvs(20_000, random_state=1)
    b = sev.rvs(20_000, random_state=1)
    np.testing.assert_array_equal(a, b)  # seeded, never the global state
    assert a.mean() == pytest.approx(sev.mean(), rel=0.1)


def test_spliced_is_continuous_in_probability_and_density_integrates():
    s = SplicedLognormalGPD(11.0, 1.5, 2e6, 0.4, 1.5e6, 0.05)
    assert s.cdf(2e6) == pytest.approx(0.95, rel=1e-12)
    assert s.sf(2e6 + 1e-6) == pytest.approx(0.05, rel=1e-6)
    xs = np.geomspace(1, 1e12, 200_001)
    from scipy.integrate import trapezoid
    assert trapezoid(s.pdf(xs), xs) == pytest.approx(1.0, abs=2e-4)


def test_weibull_shape_one_is_exponential():
    w = Weibull(1.0, 2e6)
    assert w.cdf(1e6) == pytest.approx(stats.expon(scale=2e6).cdf(1e6), rel=1e-12)
    assert w.lev(1e6) == pytest.approx(2e6 * (1 - math.exp(-0.5)), rel=1e-12)


def test_capped_severity_caps_losses():
    c = cap_at_exposure(LN, 2e6)
    assert c.mean() == pytest.approx(LN.lev(2e6), rel=1e-12)
    assert c.ppf(0.9999) == 2e6
    assert np.all(c.rvs(1000, random_state=0) <= 2e6)
    assert c.atom == pytest.approx(LN.sf(2e6))
    assert c.tvar(0.999) <= 2e6 + 1e-6


def test_exposure_severity_tiers():
    m = exposure_severity(LN, [1e6, 5e7], [0.9, 0.1])
    assert m.mean() == pytest.approx(0.9 * LN.lev(1e6) + 0.1 * LN.lev(5e7), rel=1e-12)
    assert float(m.cdf(m.ppf(0.5))) == pytest.approx(0.5, abs=1e-9)
    # 0.95 falls inside the atom at the hot-tier cap: P(loss = 1e6) = 0.9 * P(X >= 1e6)
    assert m.ppf(0.95) == pytest.approx(1e6)
    assert m.cdf(1e6) - m.cdf(1e6 * (1 - 1e-12)) == pytest.approx(0.9 * LN.sf(1e6), rel=1e-6)
    with pytest.raises(InputError):
        exposure_severity(LN, [1e6, 5e7])


def test_exposure_pit_is_uniform_under_the_model():
    rng = np.random.default_rng(7)
    assets = rng.uniform(1e5, 1e8, 4000)
    x = np.minimum(LN.rvs(4000, rng), assets)
    u = exposure_pit(x, assets, LN)
    assert stats.kstest(u, "uniform").pvalue > 0.01


def test_make_severity_validation():
    assert make_severity("lognormal", mu=1.0, sigma=2.0) == Lognormal(1.0, 2.0)
    with pytest.raises(InputError, match="unknown severity"):
        make_severity("gama", a=1)
    with pytest.raises(InputError, match="unknown parameter"):
        make_severity("lognormal", mu=1.0, sigma=1.0, nu=3.0)
    with pytest.raises(InputError, match="missing"):
        make_severity("lomax", alpha=1.0)
    with pytest.raises(InputError):
        Lognormal(0.0, -1.0)
