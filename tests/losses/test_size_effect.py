"""Severity versus exchange size: exact oracles on synthetic data, and the documented real-data figures."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from underwriting.errors import InputError
from underwriting.losses.severity import fit_severity
from underwriting.losses.severity.size_effect import (
    COVARIATES,
    fit_size_effect,
    format_row,
    size_effect_on_incidents,
    truncated_lognormal_loglik,
)

DOC = Path(__file__).resolve().parents[2] / "docs" / "pricing.md"
T = 100_000.0


def _truncated_sample(rng, n, a, b, sigma, t):
    """n lognormal amounts with mu = a + b*size, kept only above t (inverse CDF, exact)."""
    s = rng.random(n)
    mu = a + b * s
    f_t = stats.norm.cdf((math.log(t) - mu) / sigma) if t > 0 else np.zeros(n)
    u = f_t + rng.random(n) * (1 - f_t)
    return np.exp(mu + sigma * stats.norm.ppf(u)), s


def test_untruncated_fit_is_least_squares_exactly():
    # without truncation the MLE is ordinary least squares on log x with sigma^2 = RSS/n, and
    # LR = n log(RSS0 / RSS1): a closed-form oracle
    rng = np.random.default_rng(7)
    x, s = _truncated_sample(rng, 60, 15.0, 1.5, 2.0, 0.0)
    res = fit_size_effect(x, s, 0.0)
    lx = np.log(x)
    slope, icept = np.polyfit(s, lx, 1)
    rss1 = float(np.sum((lx - icept - slope * s) ** 2))
    rss0 = float(np.sum((lx - lx.mean()) ** 2))
    assert res.b == pytest.approx(slope, abs=1e-6)
    assert res.a == pytest.approx(icept, abs=1e-6)
    assert res.sigma == pytest.approx(math.sqrt(rss1 / x.size), rel=1e-6)
    assert res.lr == pytest.approx(x.size * math.log(rss0 / rss1), rel=1e-6)
    # OLS slope standard error with the MLE variance: sigma / sqrt(sum (s - mean)^2)
    assert res.se_b == pytest.approx(res.sigma / math.sqrt(np.sum((s - s.mean()) ** 2)), rel=1e-3)


def test_likelihood_is_the_projects_truncated_lognormal():
    rng = np.random.default_rng(3)
    x, s = _truncated_sample(rng, 80, 15.0, 0.0, 2.0, T)
    res = fit_size_effect(x, s, T)
    fit = fit_severity(x, T, "lognormal")
    assert res.loglik0 == pytest.approx(fit.loglik, abs=1e-9)
    assert truncated_lognormal_loglik(x, res.mu0, res.sigma0, T) == pytest.approx(fit.loglik, rel=1e-12)
    assert res.loglik1 == pytest.approx(truncated_lognormal_loglik(x, res.a + res.b * s, res.sigma, T), rel=1e-12)
    assert res.loglik1 >= res.loglik0


def test_recovers_b_and_rejects_under_truncation():
    rejections = 0
    for seed in range(10):
        x, s = _truncated_sample(np.random.default_rng(seed), 400, 14.0, 2.0, 2.0, T)
        res = fit_size_effect(x, s, T)
        assert abs(res.b - 2.0) < 4 * res.se_b
        rejections += res.supported
    assert rejections == 10


def test_does_not_reject_when_b_is_zero_in_most_seeds():
    rejections, covered = 0, 0
    for seed in range(20):
        x, s = _truncated_sample(np.random.default_rng(100 + seed), 150, 14.0, 0.0, 2.0, T)
        res = fit_size_effect(x, s, T)
        rejections += res.supported
        covered += res.b_interval[0] <= 0.0 <= res.b_interval[1]
    assert rejections <= 3  # expected 1 of 20 at the 5% level
    assert covered >= 17


def test_bad_size_is_refused():
    x = np.array([2e5, 3e5, 1e6, 5e6, 2e7, 4e8])
    with pytest.raises(InputError) as e:
        fit_size_effect(x, np.ones(6), T)
    assert e.value.field == "size"
    with pytest.raises(InputError) as e:
        fit_size_effect(x, np.arange(5.0), T)
    assert e.value.field == "size"


@pytest.mark.parametrize("covariate", COVARIATES)
def test_documented_real_data_figures_match_the_code(covariate):
    res, matched = size_effect_on_incidents(covariate)
    assert res.n == len(matched) and (matched["amount_usd"] >= T).all()
    assert format_row(res) in DOC.read_text(encoding="utf-8")


def test_documented_match_counts():
    from underwriting.datasets.loaders import load_incidents
    from underwriting.domain.vocabulary import BREACH_EVENT_TYPES

    _, m = size_effect_on_incidents("volume_pct")
    inc = load_incidents()
    total = int((inc["event_type"].astype(str).isin(BREACH_EVENT_TYPES) & (inc["amount_usd"] >= T)).sum())
    counts = m["snapshot"].value_counts()
    doc = " ".join(DOC.read_text(encoding="utf-8").split())
    assert (f"n = {len(m)} of the {total} breach losses ≥ 100,000 USD in the current `incidents.csv`" in doc)
    assert f"({counts['coinpaprika']} sized by the 2019-09-07 CoinPaprika list, {counts['cryptocompare']} by" in doc
    assert f"the other {total - len(m)} are at exchanges" in doc
