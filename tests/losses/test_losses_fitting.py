"""Left-truncated maximum likelihood, goodness of fit, AIC selection, uncertainty."""

from __future__ import annotations

import math

import numpy as np
import pytest

from underwriting.errors import InputError
from underwriting.losses.severity import (
    Lognormal,
    Lomax,
    SeverityEstimator,
    fit_severity,
    select_severity,
)

TRUTH = Lognormal(math.log(1e5), 2.0)
THRESHOLD = 2e5


def truncated_sample(sev, threshold, n, seed):
    rng = np.random.default_rng(seed)
    out = np.empty(0)
    while out.size < n:
        x = sev.rvs(4 * n, rng)
        out = np.concatenate([out, x[x >= threshold]])
    return out[:n]


@pytest.fixture(scope="module")
def data():
    return truncated_sample(TRUTH, THRESHOLD, 3000, seed=11)


@pytest.fixture(scope="module")
def fit(data):
    return fit_severity(data, THRESHOLD, "lognormal")


def test_truncated_mle_recovers_truth_and_naive_fit_does_not(data, fit):
    mu, sigma = fit.params["mu"], fit.params["sigma"]
    se = fit.se
    assert abs(mu - TRUTH.mu) < 3 * se["mu"]
    assert abs(sigma - TRUTH.sigma) < 3 * se["sigma"]
    naive = fit_severity(data, 0.0, "lognormal")
    assert abs(naive.params["mu"] - TRUTH.mu) > 5 * se["mu"]  # biased upwards by ~2 (e^2 ~ 7x median)
    assert abs(naive.params["sigma"] - TRUTH.sigma) > 5 * se["sigma"]


def test_observed_information_matches_bootstrap(data, fit):
    boot = fit.bootstrap(n_boot=60, random_state=1)
    assert boot.samples.shape == (60, 2)
    se_boot = np.sqrt(np.diag(boot.cov))
    np.testing.assert_allclose(se_boot, [fit.se["mu"], fit.se["sigma"]], rtol=0.35)
    lo, hi = boot.interval(0.95)["sigma"]
    assert lo < fit.params["sigma"] < hi
    again = fit.bootstrap(n_boot=60, random_state=1)
    np.testing.assert_array_equal(again.samples, boot.samples)


def test_goodness_of_fit(fit):
    assert fit.gof.ks_pvalue > 0.01
    assert fit.gof.ad_statistic < 2.5
    assert fit.gof.qq_theoretical.shape == fit.gof.qq_empirical.shape == (3000,)
    assert np.corrcoef(np.log(fit.gof.qq_theoretical), np.log(fit.gof.qq_empirical))[0, 1] > 0.995


def test_aic_selects_the_true_family():
    x = truncated_sample(Lomax(1.3, 5e5), 1e5, 1500, seed=3)
    sel = select_severity(x, 1e5, families=("lognormal", "lomax", "weibull"))
    assert sel.best.family == "lomax"
    assert sel.best.params["alpha"] == pytest.approx(1.3, rel=0.15)
    table = sel.table()
    assert table[0]["delta_aic"] == 0 and sum(r["akaike_weight"] for r in table) == pytest.approx(1.0)


def test_spliced_fit_runs_and_is_sensible(data):
    f = fit_severity(data, THRESHOLD, "spliced")
    assert f.severity.threshold == pytest.approx(np.quantile(data, 0.8))
    assert f.aic > 0 and math.isfinite(f.loglik)
    assert f.gof.ks_pvalue > 0.01
    # the GPD tail of a lognormal is heavy but finite-variance-ish: xi well below 1
    assert -0.5 < f.params["xi"] < 0.9


def test_estimator_api(data):
    est = SeverityEstimator("lognormal", threshold=THRESHOLD).fit(data.reshape(-1, 1))
    assert est.severity_.sigma == pytest.approx(est.fit_.params["sigma"])
    assert est.score(data.reshape(-1, 1)) == pytest.approx(est.fit_.loglik / data.size)
    assert est.get_params() == {"family": "lognormal", "threshold": THRESHOLD}


def test_fitting_input_errors():
    with pytest.raises(InputError, match="below the reporting threshold"):
        fit_severity([1.0, 2.0, 3.0, 4.0, 5.0], 3.0)
    with pytest.raises(InputError, match="at least 5"):
        fit_severity([1.0, 2.0], 0.0)
    with pytest.raises(InputError, match="unknown"):
        fit_severity([1.0, 2.0, 3.0, 4.0, 5.0], 0.0, "pareto9")
