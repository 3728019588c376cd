"""The independent quadrature behind the engine's closed-form check (``layer_moments_by_quadrature``):
the vectorised adaptive Gauss-Legendre agrees with scipy's adaptive ``quad`` (the method it replaced,
still the fallback) and with the closed forms, for every family, caps, custody mixtures and layers."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from underwriting.losses.severity import (
    Gamma,
    Lognormal,
    Lomax,
    SplicedLognormalGPD,
    Weibull,
    exposure_severity,
)
from underwriting.losses.severity import base as sev_base

SEVERITIES = [
    Lognormal(mu=13.0, sigma=2.0),
    Lognormal(mu=15.5, sigma=2.8),
    Lomax(alpha=1.7, theta=2e6),
    Weibull(shape=0.45, scale=3e6),
    Gamma(shape=0.6, scale=5e6),
    SplicedLognormalGPD(mu=13.0, sigma=1.8, threshold=5e6, xi=0.6, beta=4e6, tail_prob=0.1),
    exposure_severity(Lognormal(mu=14.0, sigma=2.2), 5e7),
    exposure_severity(Lognormal(mu=14.0, sigma=2.2), [1.5e7, 2.85e8], [0.8, 0.2]),
]


def _quad_reference(sev, d, lim):
    pieces = sev._quadrature_pieces(d, lim)
    return sev_base._sf_moments_quad(sev, d, pieces), sev_base._sf_moments_gauss_legendre(sev, d, pieces)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(i=st.integers(0, len(SEVERITIES) - 1), d=st.sampled_from([0.0, 1e4, 6.7e5, 5e6, 3e7]),
       lim=st.sampled_from([1e5, 3.3e6, 2e7, 3.3e7, 1e9]))
def test_gauss_legendre_agrees_with_scipy_quad_and_the_closed_forms(i, d, lim):
    sev = SEVERITIES[i]
    (q1, q2), gl = _quad_reference(sev, d, lim)
    assert gl is not None
    g1, g2 = gl
    for a, b in ((g1, q1), (g2, q2)):
        assert abs(a - b) <= 1e-9 * max(abs(b), 1e-300) + 1e-12 * lim * lim
    e1, e2 = float(sev.layer_moment(d, lim, 1)), float(sev.layer_moment(d, lim, 2))
    assert math.isclose(g1, e1, rel_tol=1e-7, abs_tol=1e-9 * lim)
    assert math.isclose(g2, e2, rel_tol=1e-7, abs_tol=1e-9 * lim * lim)


@pytest.mark.parametrize("sev", SEVERITIES[:1] + SEVERITIES[-1:], ids=["lognormal", "custody-mixture"])
def test_unlimited_layers_add_the_closed_form_tail(sev):
    m1, m2 = sev.layer_moments_by_quadrature(0.0, math.inf)
    assert math.isclose(m1, float(sev.mean()), rel_tol=1e-8)
    if math.isfinite(float(sev.moment(2))):
        assert math.isclose(m2, float(sev.moment(2)), rel_tol=1e-6)


def test_when_gauss_legendre_does_not_converge_scipy_quad_answers(monkeypatch):
    sev = SEVERITIES[-1]
    fast = sev.layer_moments_by_quadrature(6.7e5, 3.3e7)
    monkeypatch.setattr(sev_base, "QUADRATURE_MAX_ROUNDS", 0)
    assert sev_base._sf_moments_gauss_legendre(sev, 6.7e5, sev._quadrature_pieces(6.7e5, 3.3e7)) is None
    slow = sev.layer_moments_by_quadrature(6.7e5, 3.3e7)
    assert np.allclose(fast, slow, rtol=1e-9, atol=0.0)
