"""Vectorised simulation of one block of years of a book (the unit of work and of seeding).

Block ``b`` of a run with seed ``s`` draws from ``numpy.random.default_rng(SeedSequence(s,
spawn_key=(b,)))`` (the ``b``-th child of ``SeedSequence(s)``), so a block's years are the same
whatever the chunking, the number of workers or the backend.

Sampling is exact in distribution and costs in proportion to the number of *events*, not of
exchange-years:

1. Market factor ``G_y`` for each year of the block (gamma, mean 1; ones when switched off).
2. Own breaches of every covered (exchange, peril) cell. A cell's count in year ``y`` is
   ``Poisson(Lambda G_y)`` with ``Lambda ~ Gamma(r, theta)`` (negative binomial, ``theta =
   var_lambda / mean``; Poisson when ``var_lambda = 0``). Given ``G`` it is ``NB(r, theta G_y)``,
   i.e. ``Poisson(r ln(1 + theta G_y))`` clusters of ``Logarithmic(theta G_y / (1 + theta G_y))``
   breaches. Candidate clusters are drawn at the dominating rate ``m G_y`` (``m = r theta``):
   ``Poisson(m sum_y G_y)`` per cell over the whole block, each placed in year ``y`` with probability
   ``G_y / sum G`` (one shared CDF for all cells), and kept with probability ``ln(1 + x) / x``,
   ``x = theta G_y`` (thinning). Poisson cells keep every candidate, with cluster size 1.
3. Vendor compromises ``Poisson(r_k Y)`` per vendor over the block (times ``G`` if
   ``market_on_vendors``), placed uniformly in the block's years; each client hit with
   probability ``q_ik``.
4. One severity per breach: custody-tier component by its weight, ground-up amount by inversion of
   the (shared) base severity, capped at the tier's assets.
5. Terms per exchange: occurrence payment ``min((X - d)+, l_peril)``, summed per exchange-year,
   then ``share * min((S - D_a)+, L_a)``.

Per-block outputs are small: per-year book totals and largest event, per-exchange sums, per-vendor
sums, per-peril sums, and the exchange-level losses of the block's ``tail_k`` worst years (sparse).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from underwriting.losses.aggregate import PERILS
from underwriting.portfolio.book import PERIL_INDEX, VENDOR_PERIL, Book

__all__ = ["BlockResult", "simulate_block", "block_rng"]

_V = PERIL_INDEX[VENDOR_PERIL]


def block_rng(seed: int, block: int) -> np.random.Generator:
    """Generator of block ``block``: the ``block``-th child of ``SeedSequence(seed)``."""
    return np.random.default_rng(np.random.SeedSequence(int(seed), spawn_key=(int(block),)))


@dataclass
class BlockResult:
    """What one block contributes (arrays; years are global indices)."""

    block: int
    start: int
    totals: np.ndarray          # (Y,) insurer's book loss per year
    max_event: np.ndarray       # (Y,) largest single event loss per year (OEP basis)
    ex_sum: np.ndarray          # (n,) sum over the block's years of each exchange's loss
    ex_sumsq: np.ndarray        # (n,) sum of squares
    ex_years_hit: np.ndarray    # (n,) years with a payment
    peril_sum: np.ndarray       # (P,) occurrence payments x share, before aggregate terms
    v_events: np.ndarray        # (nv,) compromises
    v_years: np.ndarray         # (nv,) years with at least one compromise
    v_cond_sum: np.ndarray      # (nv,) sum of book totals over those years
    v_direct: np.ndarray        # (nv,) insured loss of the vendor's own events (event basis)
    tail_years: np.ndarray      # (k,) global year index of the block's worst years
    tail_totals: np.ndarray     # (k,)
    tail_cell_year: np.ndarray  # sparse exchange losses in those years
    tail_cell_ex: np.ndarray
    tail_cell_loss: np.ndarray
    n_events: int


def _expand_ranges(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Concatenation of ``arange(s, s + l)`` for each pair (vectorised)."""
    total = int(lengths.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    offs = np.cumsum(lengths) - lengths
    return np.arange(total, dtype=np.int64) - np.repeat(offs, lengths) + np.repeat(starts, lengths)


def simulate_block(book: Book, seed: int, block: int, block_years: int, years: int, tail_k: int,
                   want_years: np.ndarray | None = None) -> BlockResult:
    """Simulate years ``[block * block_years, min((block + 1) * block_years, years))`` of the book.

    The exchange-level losses are returned for the block's ``tail_k`` worst years, or for the global
    years ``want_years`` when given (the driver's exact re-run of a block).
    """
    y0 = block * block_years
    Y = min(block_years, years - y0)
    if Y <= 0:
        raise ValueError(f"block {block} is beyond {years} years")
    rng = block_rng(seed, block)
    dep = book.dependence
    n, P = book.n, len(PERILS)

    # 1. market factor
    v = dep.market_variance
    G = rng.gamma(1.0 / v, v, Y) if v > 0 else np.ones(Y)
    cumG = np.cumsum(G)
    totG = float(cumG[-1])

    # 2. own breaches: candidate clusters, thinning, cluster sizes
    cells = book._own_cells
    m = book.mean.reshape(-1)[cells]
    kc = rng.poisson(m * totG)
    cand = np.repeat(cells, kc)
    year = np.minimum(np.searchsorted(cumG, rng.random(cand.size) * totG, side="right"), Y - 1)
    theta_all = book.var_lambda.reshape(-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        th = theta_all[cand] / book.mean.reshape(-1)[cand]
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
    n_own = own_cell.size

    # 3. vendor compromises and their hits
    nv = book.n_vendors
    rate = book.vendor_rate
    expo = totG if dep.market_on_vendors else float(Y)
    ce = rng.poisson(rate * expo) if nv else np.zeros(0, dtype=np.int64)
    ve_vendor = np.repeat(np.arange(nv), ce)
    ne = ve_vendor.size
    uy = rng.random(ne)
    if dep.market_on_vendors:
        ve_year = np.minimum(np.searchsorted(cumG, uy * totG, side="right"), Y - 1)
    else:
        ve_year = np.minimum((uy * Y).astype(np.int64), Y - 1)
    lens = book.n_clients[ve_vendor]
    pair = _expand_ranges(book.pair_ptr[ve_vendor], lens)
    hit = rng.random(pair.size) < book.pair_q[pair]
    vh_event = np.repeat(np.arange(ne), lens)[hit]
    vh_ex = book.pair_client[pair[hit]]

    # 4. severities
    ex = np.concatenate([own_cell // P, vh_ex])
    cell = np.concatenate([own_cell, vh_ex * P + _V])
    yr = np.concatenate([own_year, ve_year[vh_event]])
    event_id = np.concatenate([np.arange(n_own), n_own + vh_event])
    ne_tot = cell.size
    uc = rng.random(ne_tot)
    ux = rng.random(ne_tot)
    K = book.sev_cum.shape[2]
    cum = book.sev_cum.reshape(-1, K)[cell]
    comp = np.minimum((uc[:, None] >= cum).sum(axis=1), K - 1)
    base = book.sev_base.reshape(-1, K)[cell, comp]
    cap = book.sev_cap.reshape(-1, K)[cell, comp]
    if len(book.bases) == 1:
        X = np.asarray(book.bases[0].ppf(ux), dtype=float)
    else:
        X = np.empty(ne_tot)
        for b in np.unique(base):
            sel = base == b
            X[sel] = book.bases[b].ppf(ux[sel])
    X = np.minimum(X, cap)

    # 5. policy terms
    pay = np.clip(X - book.deductible[ex], 0.0, book.limit.reshape(-1)[cell])
    key = yr.astype(np.int64) * n + ex
    ukey, inv = np.unique(key, return_inverse=True)
    S = np.bincount(inv, weights=pay, minlength=ukey.size)
    cex = ukey % n
    cyr = ukey // n
    L = book.share[cex] * np.clip(S - book.agg_deductible[cex], 0.0, book.agg_limit[cex])
    totals = np.bincount(cyr, weights=L, minlength=Y)

    ex_sum = np.bincount(cex, weights=L, minlength=n)
    ex_sumsq = np.bincount(cex, weights=L * L, minlength=n)
    ex_hit = np.bincount(cex[L > 0], minlength=n).astype(np.int64)
    evpay = book.share[ex] * np.minimum(pay, book.agg_limit[ex])
    peril_sum = np.bincount(cell % P, weights=evpay, minlength=P)

    # largest event of each year (a vendor compromise is one event across its clients)
    n_ev = n_own + ne
    ev_loss = np.bincount(event_id, weights=evpay, minlength=n_ev)
    ev_year = np.concatenate([own_year, ve_year])
    max_event = np.zeros(Y)
    np.maximum.at(max_event, ev_year, ev_loss)

    # vendors: conditional book loss in compromise years, direct loss of their events
    if ne:
        vy = np.unique(ve_vendor.astype(np.int64) * Y + ve_year)
        vk, vyy = vy // Y, vy % Y
        v_years = np.bincount(vk, minlength=nv).astype(np.int64)
        v_cond = np.bincount(vk, weights=totals[vyy], minlength=nv)
        v_direct = np.bincount(ve_vendor, weights=ev_loss[n_own:], minlength=nv)
    else:
        v_years = np.zeros(nv, dtype=np.int64)
        v_cond = np.zeros(nv)
        v_direct = np.zeros(nv)

    # the block's worst years (total desc, year asc) with their exchange-level losses
    if want_years is None:
        k = min(int(tail_k), Y)
        order = np.lexsort((np.arange(Y), -totals))[:k]
    else:
        order = np.asarray(want_years, dtype=np.int64) - y0
    in_tail = np.zeros(Y, dtype=bool)
    in_tail[order] = True
    sel = in_tail[cyr] & (L > 0)
    return BlockResult(
        block=block, start=y0, totals=totals, max_event=max_event, ex_sum=ex_sum, ex_sumsq=ex_sumsq,
        ex_years_hit=ex_hit, peril_sum=peril_sum, v_events=ce.astype(np.int64), v_years=v_years, v_cond_sum=v_cond,
        v_direct=v_direct, tail_years=(order + y0).astype(np.int64), tail_totals=totals[order],
        tail_cell_year=(cyr[sel] + y0).astype(np.int64), tail_cell_ex=cex[sel].astype(np.int64),
        tail_cell_loss=L[sel], n_events=int(ne_tot))
