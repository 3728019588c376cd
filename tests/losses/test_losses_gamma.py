"""Gamma severity: closed-form moments, LEV and stop-loss against scipy numerics; fitting."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate, stats

from underwriting.errors import InputError
from underwriting.losses.severity import (
    FAMILIES,
    Gamma,
    fit_severity,
    make_severity,
    select_severity,
)

G = Gamma(0.6, 4e5)


def test_gamma_moments_match_scipy():
    ref = stats.gamma(0.6, scale=4e5)
    for k in (1, 2, 3):
        assert G.moment(k) == pytest.approx(ref.moment(k), rel=1e-12)
    assert G.ppf(0.99) == pytest.approx(ref.ppf(0.99), rel=1e-12)


@pytest.mark.parametrize("u", [1e3, 1e5, 7e5, 5e6, 3e7])
def test_gamma_lev_and_second_limited_moment_match_quadrature(u):
    lev_q = integrate.quad(lambda x: float(G.sf(x)), 0, u, epsabs=0, epsrel=1e-12, limit=400, points=[4e5])[0]
    m2_q = integrate.quad(lambda x: 2 * x * float(G.sf(x)), 0, u, epsabs=0, epsrel=1e-12, limit=400, points=[4e5])[0]
    assert G.lev(u) == pytest.approx(lev_q, rel=1e-9)
    assert G.limited_moment(u, 2) == pytest.approx(m2_q, rel=1e-9)
    assert G.stop_loss(u) == pytest.approx(G.mean() - lev_q, rel=1e-7)


def test_gamma_layer_moments_agree_with_the_independent_quadrature():
    for d, lim in [(1e5, 1e6), (5e6, 1e7), (0.0, math.inf)]:
        q1, q2 = G.layer_moments_by_quadrature(d, lim)
        assert G.layer_moment(d, lim, 1) == pytest.approx(q1, rel=1e-8)
        assert G.layer_moment(d, lim, 2) == pytest.approx(q2, rel=1e-7)


def test_gamma_is_a_family_and_is_fitted_with_truncation():
    assert FAMILIES["gamma"] is Gamma
    assert make_severity("gamma", shape=2.0, scale=3.0) == Gamma(2.0, 3.0)
    with pytest.raises(InputError):
        make_severity("gamma", shape=-1.0, scale=3.0)
    rng = np.random.default_rng(3)
    x = rng.gamma(0.8, 5e5, 6000)
    x = x[x >= 1e5]
    fit = fit_severity(x, 1e5, "gamma")
    assert fit.params["shape"] == pytest.approx(0.8, rel=0.15)
    assert fit.params["scale"] == pytest.approx(5e5, rel=0.15)
    sel = select_severity(x, 1e5, families=("gamma", "lognormal", "weibull"))
    assert sel.best.family in ("gamma", "weibull")  # weibull(1)≈gamma(1) near-ties are fine
    assert any(r["family"] == "gamma" for r in sel.table())
