"""The portfolio engine's previous sampler (per-cell candidate counts over the block, each placed in a
year by searching the cumulative market factor; numpy's logarithmic sampler; severities by
inversion), kept only as the oracle the current one is compared with in distribution
(``test_portfolio_sampler.py``). It returns the annual book totals of one block."""

from __future__ import annotations

import numpy as np

from underwriting.losses.aggregate import PERILS
from underwriting.portfolio.book import PERIL_INDEX, VENDOR_PERIL, Book
from underwriting.portfolio.engine import _expand_ranges, block_rng

_V = PERIL_INDEX[VENDOR_PERIL]


def block_totals_v1(book: Book, seed: int, block: int, block_years: int) -> np.ndarray:
    Y = block_years
    rng = block_rng(seed, block)
    dep = book.dependence
    n, P = book.n, len(PERILS)
    v = dep.market_variance
    G = rng.gamma(1.0 / v, v, Y) if v > 0 else np.ones(Y)
    cumG = np.cumsum(G)
    totG = float(cumG[-1])
    cells = book._own_cells
    m = book.mean.reshape(-1)[cells]
    kc = rng.poisson(m * totG)
    cand = np.repeat(cells, kc)
    year = np.minimum(np.searchsorted(cumG, rng.random(cand.size) * totG, side="right"), Y - 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        th = book.var_lambda.reshape(-1)[cand] / book.mean.reshape(-1)[cand]
    x = th * G[year]
    nb = x > 0
    ratio = np.ones(cand.size)
    ratio[nb] = np.log1p(x[nb]) / x[nb]
    keep = rng.random(cand.size) < ratio
    cand, year, x, nb = cand[keep], year[keep], x[keep], nb[keep]
    size = np.ones(cand.size, dtype=np.int64)
    if nb.any():
        size[nb] = rng.logseries(x[nb] / (1.0 + x[nb]))
    own_cell = np.repeat(cand, size)
    own_year = np.repeat(year, size)
    nv = book.n_vendors
    expo = totG if dep.market_on_vendors else float(Y)
    ce = rng.poisson(book.vendor_rate * expo) if nv else np.zeros(0, dtype=np.int64)
    ve_vendor = np.repeat(np.arange(nv), ce)
    uy = rng.random(ve_vendor.size)
    if dep.market_on_vendors:
        ve_year = np.minimum(np.searchsorted(cumG, uy * totG, side="right"), Y - 1)
    else:
        ve_year = np.minimum((uy * Y).astype(np.int64), Y - 1)
    lens = book.n_clients[ve_vendor]
    pair = _expand_ranges(book.pair_ptr[ve_vendor], lens)
    hit = rng.random(pair.size) < book.pair_q[pair]
    vh_event = np.repeat(np.arange(ve_vendor.size), lens)[hit]
    vh_ex = book.pair_client[pair[hit]]
    ex = np.concatenate([own_cell // P, vh_ex])
    cell = np.concatenate([own_cell, vh_ex * P + _V])
    yr = np.concatenate([own_year, ve_year[vh_event]])
    uc = rng.random(cell.size)
    ux = rng.random(cell.size)
    K = book.sev_cum.shape[2]
    comp = np.minimum((uc[:, None] >= book.sev_cum.reshape(-1, K)[cell]).sum(axis=1), K - 1)
    base = book.sev_base.reshape(-1, K)[cell, comp]
    X = np.empty(cell.size)
    for b in np.unique(base):
        sel = base == b
        X[sel] = book.bases[b].ppf(ux[sel])
    X = np.minimum(X, book.sev_cap.reshape(-1, K)[cell, comp])
    pay = np.clip(X - book.deductible[ex], 0.0, book.limit.reshape(-1)[cell])
    ukey, inv = np.unique(yr.astype(np.int64) * n + ex, return_inverse=True)
    S = np.bincount(inv, weights=pay, minlength=ukey.size)
    cex, cyr = ukey % n, ukey // n
    L = book.share[cex] * np.clip(S - book.agg_deductible[cex], 0.0, book.agg_limit[cex])
    return np.bincount(cyr, weights=L, minlength=Y)
