"""Goodness of fit at the truncation point and parametric-bootstrap p-values."""

from __future__ import annotations

import numpy as np
import pytest

from underwriting.losses.severity import ad_ks_statistics, fit_severity, gof_bootstrap

T = 1e5


@pytest.fixture(scope="module")
def sample():
    rng = np.random.default_rng(11)
    x = rng.lognormal(12.5, 1.8, 400)
    return x[x >= T][:80]


def test_a_loss_exactly_at_the_threshold_adds_a_bounded_amount_to_a2(sample):
    fit = fit_severity(sample, T, "lognormal")
    a_without, _ = ad_ks_statistics(fit.severity, sample, T)
    with_point = np.concatenate(([T], sample))
    a_with, _ = ad_ks_statistics(fit.severity, with_point, T)
    n = with_point.size
    # bounded by the clipped log term (about ln(2n)/n) plus the shift of everyone's rank
    assert a_with - a_without < np.log(2 * n) / n + 1.0
    assert np.isfinite(fit_severity(with_point, T, "lognormal").gof.ad_statistic)


def test_bootstrap_pvalues_are_seeded_and_calibrated_under_the_true_family(sample):
    fit = fit_severity(sample, T, "lognormal")
    a = gof_bootstrap(fit, n_boot=30, random_state=5)
    b = gof_bootstrap(fit, n_boot=30, random_state=5)
    assert a == b
    assert a.n_boot >= 25 and 0 < a.ad_pvalue <= 1 and 0 < a.ks_pvalue <= 1
    assert a.ad_pvalue > 0.05  # the sample is lognormal


def test_bootstrap_rejects_a_clearly_wrong_family():
    rng = np.random.default_rng(2)
    x = rng.weibull(3.0, 300) * 1e6
    x = x[x >= T]
    fit = fit_severity(x, T, "lomax")
    assert gof_bootstrap(fit, n_boot=30, random_state=0).ad_pvalue < 0.05
