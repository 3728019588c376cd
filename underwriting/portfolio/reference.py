"""A straightforward per-exchange, per-year Python loop over the same model (reference only).

It draws each exchange's own breaches year by year with scalar numpy calls (gamma-mixed Poisson
counts, one severity per breach), each vendor's compromises and their hits, and applies the terms
exchange by exchange. It is the "obvious" implementation the vectorised engine is benchmarked
against and checked with (same distribution, different random streams).
"""

from __future__ import annotations

import numpy as np

from underwriting.losses.aggregate import PERILS
from underwriting.portfolio.book import PERIL_INDEX, VENDOR_PERIL, Book

__all__ = ["simulate_naive"]


def _draw_loss(book: Book, rng: np.random.Generator, i: int, j: int) -> float:
    cum = book.sev_cum[i, j]
    c = min(int(np.searchsorted(cum, rng.random(), side="right")), cum.size - 1)
    x = float(book.bases[book.sev_base[i, j, c]].ppf(rng.random()))
    return min(x, float(book.sev_cap[i, j, c]))


def simulate_naive(book: Book, years: int, seed: int = 0) -> np.ndarray:
    """Annual book losses (USD) for ``years`` years, by explicit loops."""
    rng = np.random.default_rng(seed)
    dep = book.dependence
    v = dep.market_variance
    P = len(PERILS)
    jv = PERIL_INDEX[VENDOR_PERIL]
    totals = np.zeros(years)
    for y in range(years):
        g = rng.gamma(1.0 / v, v) if v > 0 else 1.0
        occ: list[list[float]] = [[] for _ in range(book.n)]
        for i in range(book.n):
            for j in range(P):
                m = book.mean[i, j]
                if m <= 0:
                    continue
                vl = book.var_lambda[i, j]
                lam = rng.gamma(m * m / vl, vl / m) if vl > 0 else m
                for _ in range(rng.poisson(lam * g)):
                    x = _draw_loss(book, rng, i, j)
                    occ[i].append(min(max(x - book.deductible[i], 0.0), book.limit[i, j]))
        for k in range(book.n_vendors):
            r = book.vendor_rate[k] * (g if dep.market_on_vendors else 1.0)
            for _ in range(rng.poisson(r)):
                for p in range(book.pair_ptr[k], book.pair_ptr[k + 1]):
                    if rng.random() < book.pair_q[p]:
                        i = int(book.pair_client[p])
                        x = _draw_loss(book, rng, i, jv)
                        occ[i].append(min(max(x - book.deductible[i], 0.0), book.limit[i, jv]))
        t = 0.0
        for i in range(book.n):
            if occ[i]:
                s = sum(occ[i])
                t += book.share[i] * min(max(s - book.agg_deductible[i], 0.0), book.agg_limit[i])
        totals[y] = t
    return totals
