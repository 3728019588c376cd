"""The portfolio engine's event-count sampler: exact pieces, equality in distribution with the previous
sampler (``engine_v1``), and the exact mean and variance of the annual total where they are known.

Every test is seeded (deterministic) and compares against an independent oracle, so each can fail."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from underwriting.losses.aggregate import PERILS, Peril
from underwriting.losses.frequency import NegativeBinomial, Poisson
from underwriting.losses.severity import Lognormal, exposure_severity
from underwriting.portfolio import Book, Dependence, Insured, simulate_book, synthetic_book
from underwriting.portfolio.book import PERIL_INDEX, VENDOR_PERIL
from underwriting.portfolio.engine import _Inversion, cluster_sizes
from underwriting.pricing.layers import Layer

from .engine_v1 import block_totals_v1


def test_guide_table_inversion_is_searchsorted():
    rng = np.random.default_rng(3)
    w = np.concatenate([rng.lognormal(0, 3, 5_000), np.zeros(50), [1e-12, 1e6], rng.random(300)])
    rng.shuffle(w)
    w[0] = 0.0
    inv = _Inversion(w)
    u = np.concatenate([rng.random(400_000), [0.0, 0.5, np.nextafter(1.0, 0.0)],
                        np.arange(inv.slots) / inv.slots])
    want = np.minimum(np.searchsorted(inv.cum, u * inv.total, side="right"), w.size - 1)
    got = inv.draw(u)
    assert np.array_equal(got, want)
    assert not np.any(w[got] == 0)


@pytest.mark.parametrize("x", [1e-4, 1e-2, 0.3, 2.0, 40.0, 1e3])
def test_cluster_size_law(x):
    """P(0) = 1 - ln(1+x)/x, P(k) = p^k/(k x): thinning and a logarithmic cluster size in one draw."""
    rng = np.random.default_rng(11)
    n = 400_000
    k = cluster_sizes(np.full(n, x), rng.random(n), rng)
    p = x / (1 + x)
    kmax = 12
    pmf = [1 - math.log1p(x) / x] + [p ** j / (j * x) for j in range(1, kmax)]
    pmf.append(1 - sum(pmf))
    obs = np.bincount(np.minimum(k, kmax), minlength=kmax + 1).astype(float)
    exp_ = np.array(pmf) * n
    big = exp_ >= 5  # chi-square cells with enough mass; the rest pooled into the last of them
    obs_c, exp_c = obs[big], exp_[big]
    obs_c[-1] += obs[~big].sum()
    exp_c[-1] += exp_[~big].sum()
    assert stats.chisquare(obs_c, exp_c).pvalue > 1e-3
    # the tail beyond the sequential inversion (k > 64, drawn by rejection) has its exact mass
    tail = 1.0 - pmf[0] - sum(p ** j / (j * x) for j in range(1, 65))
    got = float(np.mean(k > 64))
    assert abs(got - tail) < 5 * math.sqrt(max(tail * (1 - tail), 1e-12) / n) + 1e-12, (got, tail)
    if tail > 1e-3:
        big = k[k > 64]
        kk = np.arange(65, 20_000)
        w = p ** kk / kk
        assert abs(big.mean() - (kk @ w) / w.sum()) < 5 * big.std() / math.sqrt(big.size)
    # E[size] = 1 and Var[size] = x: the negative binomial's mean and extra variance
    assert abs(k.mean() - 1) < 5 * math.sqrt((1 + x) / n)
    assert abs(k.var() - x) < 6 * math.sqrt(max(x, 1e-12) * (1 + 3 * x) / n) + 1e-9


def test_poisson_cells_bring_one_breach_each():
    u = np.random.default_rng(1).random(1000)
    assert np.array_equal(cluster_sizes(np.zeros(1000), u, np.random.default_rng(2)), np.ones(1000, dtype=np.int64))


def test_new_sampler_matches_the_previous_one_in_distribution():
    book = synthetic_book(40, seed=5, n_vendors=5, dependence=Dependence(market_variance=0.3, market_on_vendors=True),
                          rate_multiplier=15)
    years = 40_000
    new = simulate_book(book, years, seed=1, block_years=1000).totals
    old = np.concatenate([block_totals_v1(book, 2, b, 1000) for b in range(years // 1000)])
    assert stats.ks_2samp(new, old).pvalue > 1e-3
    se = math.hypot(new.std(ddof=1), old.std(ddof=1)) / math.sqrt(years)
    assert abs(new.mean() - old.mean()) < 4 * se
    p0n, p0o = np.mean(new == 0), np.mean(old == 0)
    assert abs(p0n - p0o) < 4 * math.sqrt(2 * p0o * (1 - p0o) / years)
    for q in (0.9, 0.99):
        a, b = np.quantile(new, q), np.quantile(old, q)
        assert abs(a / b - 1) < 0.08, (q, a, b)


def _no_aggregate_book() -> Book:
    """Several perils (negative binomial and Poisson), two custody tiers, shared vendors, shares and
    sub-limits, no aggregate terms: the annual total is a sum of occurrence payments."""
    sev = Lognormal(math.log(3e6), 1.8)
    ins = []
    for i in range(12):
        hot, cold = 2e7 * (1 + i), 2e8 * (1 + i % 3)
        lam = 0.05 + 0.01 * i
        perils = (Peril("hot_wallet_theft", NegativeBinomial(lam, 3 * lam), exposure_severity(sev, hot)),
                  Peril("cold_wallet_theft", Poisson(lam / 3), exposure_severity(sev, cold)),
                  Peril("social_engineering", NegativeBinomial(lam / 2, lam / 2),
                        exposure_severity(sev, [hot, cold], [0.7, 0.3])),
                  Peril(VENDOR_PERIL, Poisson(lam / 2), exposure_severity(sev, hot)))
        lim = 5e7
        ins.append(Insured(f"x{i:02d}", perils,
                           Layer(deductible=2e5 * (1 + i % 4), limit=lim, share=(1.0, 0.5, 0.25)[i % 3],
                                 sublimits={"social_engineering": 0.2 * lim}),
                           vendors=("Vendor A",) if i % 2 else ("Vendor A", f"Vendor {i % 3}")))
    return Book.from_insureds(ins, Dependence(market_variance=0.4, vendor_loss_prob=0.6, market_on_vendors=True))


def _exact_moments(book: Book) -> tuple[float, float]:
    v = book.dependence.market_variance
    mom = {}
    for i in range(book.n):
        for j, p in enumerate(PERILS):
            sev = book.severity(i, p)
            if sev is None:
                continue
            d, lim, s = float(book.deductible[i]), float(book.limit[i, j]), float(book.share[i])
            mom[i, j] = (s * sev.layer_moment(d, lim, 1), s * s * sev.layer_moment(d, lim, 2))
    own_mean = own_var = 0.0
    for (i, j), (m1, m2) in mom.items():
        if j == PERIL_INDEX[VENDOR_PERIL]:
            continue
        m, vl = float(book.mean[i, j]), float(book.var_lambda[i, j])
        own_mean += m * m1
        own_var += m * m2 + (1 + v) * vl * m1 * m1
    jv = PERIL_INDEX[VENDOR_PERIL]
    ven_mean = ven_var = 0.0
    for k in range(book.n_vendors):
        lo, hi = int(book.pair_ptr[k]), int(book.pair_ptr[k + 1])
        q = book.pair_q[lo:hi]
        m1 = np.array([mom[int(c), jv][0] for c in book.pair_client[lo:hi]])
        m2 = np.array([mom[int(c), jv][1] for c in book.pair_client[lo:hi]])
        ez = float(q @ m1)
        ez2 = float(q @ m2) + ez * ez - float((q * q) @ (m1 * m1))
        r = float(book.vendor_rate[k])
        ven_mean += r * ez
        ven_var += r * ez2
    assert book.dependence.market_on_vendors
    mean = own_mean + ven_mean
    return mean, own_var + ven_var + v * mean * mean


def test_annual_total_has_the_exact_mean_and_variance():
    book = _no_aggregate_book()
    assert np.all(np.isinf(book.agg_limit)) and np.all(book.agg_deductible == 0)
    mean, var = _exact_moments(book)
    t = simulate_book(book, 300_000, seed=17).totals
    n = t.size
    assert abs(t.mean() - mean) < 4 * math.sqrt(var / n), (t.mean(), mean)
    c = t - t.mean()
    m4 = float(np.mean(c ** 4))
    se_var = math.sqrt(max(m4 - var * var, 0.0) / n)
    assert abs(t.var(ddof=1) - var) < 4 * se_var, (t.var(ddof=1), var, se_var)
