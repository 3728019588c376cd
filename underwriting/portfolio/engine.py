"""Vectorised simulation of one block of years of a book (the unit of work and of seeding).

Block ``b`` of a run with seed ``s`` draws from ``numpy.random.default_rng(SeedSequence(s,
spawn_key=(b,)))`` (the ``b``-th child of ``SeedSequence(s)``), so a block's years are the same
whatever the chunking, the number of workers or the backend.

Sampling is exact in distribution and costs in proportion to the number of *events*, not of
exchange-years (event-count sampling: each year's number of candidate events is drawn first, then
only those events):

1. Market factor ``G_y`` for each year of the block (gamma, mean 1; ones when switched off).
2. Own breaches of every covered (exchange, peril) cell. A cell's count in year ``y`` is
   ``Poisson(Lambda G_y)`` with ``Lambda ~ Gamma(r, theta)`` (negative binomial, ``theta =
   var_lambda / mean``; Poisson when ``var_lambda = 0``). Given ``G`` it is ``NB(r, theta G_y)``,
   i.e. ``Poisson(r ln(1 + theta G_y))`` clusters of ``Logarithmic(theta G_y / (1 + theta G_y))``
   breaches. Candidate clusters are drawn at the dominating rate ``m G_y`` (``m = r theta``, the
   cell's mean): year ``y`` has ``Poisson(M G_y)`` candidates over the whole book (``M = sum m``),
   each in cell ``c`` with probability ``m_c / M`` (inversion of the cells' cumulative rates with a
   guide table: O(1) per event); a candidate is kept with probability ``ln(1 + x) / x``, ``x =
   theta G_y`` (thinning), and then has a logarithmic number of breaches. Thinning and the cluster
   size are one draw: with ``p = x / (1 + x)`` a candidate brings ``k >= 1`` breaches with
   probability ``p**k / (k x)`` and none with probability ``1 - ln(1 + x) / x``; ``k = 1`` (probability
   ``1 / (1 + x)``) is tested first, the rare rest by sequential inversion. Poisson cells (``x = 0``)
   always bring one breach.
3. Vendor compromises ``Poisson(r_k Y)`` per vendor over the block (times ``G`` if
   ``market_on_vendors``), placed uniformly in the block's years (in proportion to ``G``); each client
   hit with probability ``q_ik``.
4. One severity per breach: custody-tier component by its weight, ground-up amount by inversion of
   the (shared) base severity, capped at the tier's assets.
5. Terms per exchange: occurrence payment ``min((X - d)+, l_peril)``, summed per exchange-year (one
   sort of the paying events by year and exchange), then ``share * min((S - D_a)+, L_a)``.

Per-block outputs are small: per-year book totals and largest event, per-exchange sums, per-vendor
sums, per-peril sums, and the exchange-level losses of the block's ``tail_k`` worst years (sparse).
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

# the peril vocabulary only: a worker process imports numpy and this module, not the loss models
from underwriting.domain.vocabulary import PERILS

if TYPE_CHECKING:
    from underwriting.portfolio.book import Book

__all__ = ["BlockResult", "BlockModel", "simulate_block", "run_blocks", "block_rng", "cluster_sizes"]

VENDOR_PERIL = "third_party_vendor"  #: the peril of vendor compromises (``book.VENDOR_PERIL``)
_V = PERILS.index(VENDOR_PERIL)


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


class _Inversion:
    """Draws from the discrete distribution with weights ``w`` by inversion of their cumulative sum,
    ``i = min(#{cum <= u W}, n - 1)`` (``numpy.searchsorted(cum, u W, "right")``), in O(1) per draw
    with a guide table (Chen & Asau's method): the search starts at the first index whose cumulative
    weight passes ``floor(u n) W / n`` and steps forward (and, against rounding, back) from there."""

    def __init__(self, w: np.ndarray):
        self.cum = np.cumsum(np.asarray(w, dtype=float))
        self.n = self.cum.size
        self.total = float(self.cum[-1]) if self.n else 0.0
        self.slots = 4 * self.n  # guide entries: about one step or none per draw
        self.guide = np.minimum(np.searchsorted(self.cum, np.arange(self.slots) / self.slots * self.total,
                                                side="right"), self.n - 1)

    def draw(self, u: np.ndarray) -> np.ndarray:
        n, cum = self.n, self.cum
        t = u * self.total
        idx = np.take(self.guide, np.minimum((u * self.slots).astype(np.int64), self.slots - 1))
        act = np.flatnonzero((np.take(cum, idx) <= t) & (idx < n - 1))
        while act.size:
            idx[act] += 1
            act = act[(cum[idx[act]] <= t[act]) & (idx[act] < n - 1)]
        back = np.flatnonzero(idx > 0)
        back = back[cum[idx[back] - 1] > t[back]]
        while back.size:
            idx[back] -= 1
            back = back[(idx[back] > 0) & (cum[np.maximum(idx[back] - 1, 0)] > t[back])]
        return idx


class BlockModel:
    """What the engine needs of a :class:`~underwriting.portfolio.book.Book`: its arrays and sampling
    tables, built once in the driver (:meth:`from_book`) and sent to the workers. It holds no loss-model
    objects for lognormal bases (their ``mu``, ``sigma`` instead), so unpickling it in a worker imports
    numpy and this module only."""

    def __init__(self, book: Book):
        P = len(PERILS)
        K = book.sev_cum.shape[2]
        dep = book.dependence
        self.n, self.n_vendors, self.K = int(book.n), int(book.n_vendors), int(K)
        self.market_variance = float(dep.market_variance)
        self.market_on_vendors = bool(dep.market_on_vendors)
        self.cells = book._own_cells
        self.m = book.mean.reshape(-1)[self.cells]
        self.pick = _Inversion(self.m)
        with np.errstate(divide="ignore", invalid="ignore"):
            theta = book.var_lambda.reshape(-1)[self.cells] / self.m
        self.theta = np.where(np.isfinite(theta), theta, 0.0)
        self.any_nb = bool((self.theta > 0).any())
        cum = book.sev_cum.reshape(-1, K)
        self.cum_cols = [np.ascontiguousarray(cum[:, c]) for c in range(K - 1)]
        self.cap = np.ascontiguousarray(book.sev_cap.reshape(-1))
        self.base = np.ascontiguousarray(book.sev_base.reshape(-1))
        self.limit = np.ascontiguousarray(book.limit.reshape(-1))
        self.cell_ex = np.arange(book.n * P, dtype=np.int64) // P
        self.cell_peril = np.arange(book.n * P, dtype=np.int64) % P
        # a lognormal base is drawn as exp(mu + sigma Z) (the same law as its inversion, cheaper) and
        # kept as (mu, sigma); any other base is kept as its object, drawn by inversion (ppf)
        self.lognormal = [(float(b.mu), float(b.sigma)) if type(b).__name__ == "Lognormal" else None
                          for b in book.bases]
        self.bases: list[Any] = [None if ln is not None else b for b, ln in zip(book.bases, self.lognormal,
                                                                                 strict=True)]
        self.deductible = np.asarray(book.deductible, dtype=float)
        self.share = np.asarray(book.share, dtype=float)
        self.agg_deductible = np.asarray(book.agg_deductible, dtype=float)
        self.agg_limit = np.asarray(book.agg_limit, dtype=float)
        self.vendor_rate = np.asarray(book.vendor_rate, dtype=float)
        self.n_clients = np.asarray(book.n_clients)
        self.pair_ptr = np.asarray(book.pair_ptr)
        self.pair_client = np.asarray(book.pair_client)
        self.pair_q = np.asarray(book.pair_q, dtype=float)

    @classmethod
    def from_book(cls, book: Book | BlockModel) -> BlockModel:
        """The model of ``book`` (built once per book and process; a model is returned as it is)."""
        if isinstance(book, BlockModel):
            return book
        mdl = _MODELS.get(book)
        if mdl is None:
            mdl = _MODELS[book] = cls(book)
        return mdl


_MODELS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _ground_up(mdl: BlockModel, rng: np.random.Generator, flat: np.ndarray) -> np.ndarray:
    """One ground-up amount per event from the base severity of its component (index ``flat``)."""
    m = flat.size
    if len(mdl.bases) == 1:
        groups = [(0, None)]
    else:
        base = np.take(mdl.base, flat)
        groups = [(int(b), np.flatnonzero(base == b)) for b in np.unique(base)]
    X = np.empty(m)
    for b, sel in groups:
        size = m if sel is None else sel.size
        ln = mdl.lognormal[b]
        if ln is not None:
            x = rng.standard_normal(size)
            x *= ln[1]
            x += ln[0]
            np.exp(x, out=x)
        else:
            x = np.asarray(mdl.bases[b].ppf(rng.random(size)), dtype=float)
        if sel is None:
            X = x
        else:
            X[sel] = x
    return X


_K_SEQUENTIAL = 64  #: cluster sizes found by sequential inversion; larger ones by rejection


def cluster_sizes(x: np.ndarray, u: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Breaches brought by each candidate cluster: 0 (thinned out) or ``Logarithmic(x / (1 + x))``.

    ``P(k) = p**k / (k x)`` for ``k >= 1`` (``p = x / (1 + x)``) and ``P(0) = 1 - ln(1 + x) / x``, by
    inversion of the uniforms ``u`` in the order ``1, 0, 2, 3, ...`` up to ``k = 64``; ``x = 0`` always
    gives 1. The rare candidates beyond (only for large ``x``) are drawn from the law given ``k > 64``,
    ``P(k) ∝ p**k / k``, by rejection from ``64 + Geometric(1 - p)`` with acceptance ``65 / k``, with
    ``rng``.
    """
    p1 = 1.0 / (1.0 + x)
    size = np.ones(x.size, dtype=np.int64)
    rest = np.flatnonzero(u >= p1)
    if not rest.size:
        return size
    xr = x[rest]
    w = u[rest] - p1[rest]
    # P(0) = 1 - ln(1 + x) / x, by its series where the difference would cancel
    small = xr < 1e-4
    p0 = np.where(small, xr * (0.5 - xr * (1.0 / 3.0 - 0.25 * xr)),
                  1.0 - np.log1p(xr) / np.where(small, 1.0, xr))
    zero = w < p0
    size[rest[zero]] = 0
    keep = ~zero
    rest, xr, w = rest[keep], xr[keep], w[keep] - p0[keep]
    p = xr / (1.0 + xr)
    k = 2
    pk = p * p / (2.0 * xr)
    while rest.size and k <= _K_SEQUENTIAL:
        done = w < pk
        size[rest[done]] = k
        keep = ~done
        rest, xr, w, p, pk = rest[keep], xr[keep], w[keep] - pk[keep], p[keep], pk[keep]
        pk = pk * p * k / (k + 1.0)
        k += 1
    # what is left has k > 64 (up to the rounding of the cumulative sum, which only moves mass by ~1e-16)
    K = _K_SEQUENTIAL + 1
    while rest.size:
        prop = K - 1 + rng.geometric(1.0 - p)
        ok = rng.random(rest.size) * prop < K
        size[rest[ok]] = prop[ok]
        rest, p = rest[~ok], p[~ok]
    return size


_MALLOC_TUNED = False


def _tune_worker_malloc() -> None:
    """In a worker *process* (never the caller's own), have glibc keep freed memory for reuse.

    A block allocates and frees some hundred arrays of up to a few MB. By default glibc serves large
    ones with ``mmap`` and returns them on free, so every block pays for fresh zeroed pages (about a
    third of its CPU time, all of it system time); Dask's nanny makes this worse by setting
    ``MALLOC_TRIM_THRESHOLD_=65536`` in its workers (measured: 98 ms of CPU per 1,000-year block of
    the 10,000-exchange benchmark book by default, 164 ms with Dask's setting, 70 ms with these).
    ``mallopt(M_MMAP_THRESHOLD, 32 MiB)`` (glibc's 64-bit maximum) and ``mallopt(M_TRIM_THRESHOLD,
    1 GiB)`` keep those arrays on the heap; a worker's memory then stays at its largest block's,
    which it needed anyway. Elsewhere (no glibc) nothing is done. The figures do not depend on it.
    """
    global _MALLOC_TUNED
    if _MALLOC_TUNED:
        return
    _MALLOC_TUNED = True
    import multiprocessing

    if multiprocessing.parent_process() is None:  # the caller's process: leave its allocator alone
        return
    try:
        import ctypes

        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):  # pragma: no cover - not glibc
        return
    M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
    mallopt(M_MMAP_THRESHOLD, 32 << 20)
    mallopt(M_TRIM_THRESHOLD, 1 << 30)


def run_blocks(model: BlockModel, seed: int, blocks: Sequence[int], block_years: int, years: int,
               tail_k: int) -> list[BlockResult]:
    """Simulate some blocks (one task of a worker); results are returned unmerged."""
    _tune_worker_malloc()
    return [simulate_block(model, seed, b, block_years, years, tail_k) for b in blocks]


def simulate_block(book: Book | BlockModel, seed: int, block: int, block_years: int, years: int, tail_k: int,
                   want_years: np.ndarray | None = None) -> BlockResult:
    """Simulate years ``[block * block_years, min((block + 1) * block_years, years))`` of the book.

    ``book`` is a :class:`~underwriting.portfolio.book.Book` or its :class:`BlockModel`. The
    exchange-level losses are returned for the block's ``tail_k`` worst years, or for the global
    years ``want_years`` when given (the driver's exact re-run of a block).
    """
    y0 = block * block_years
    Y = min(block_years, years - y0)
    if Y <= 0:
        raise ValueError(f"block {block} is beyond {years} years")
    rng = block_rng(seed, block)
    tb = mdl = BlockModel.from_book(book)
    n, P = mdl.n, len(PERILS)

    # 1. market factor
    v = mdl.market_variance
    G = rng.gamma(1.0 / v, v, Y) if v > 0 else np.ones(Y)
    cumG = np.cumsum(G)
    totG = float(cumG[-1])

    # 2. own breaches: candidates per year, their cells, thinning and cluster sizes in one draw
    if tb.cells.size:
        per_year = rng.poisson(tb.pick.total * G)
        year = np.repeat(np.arange(Y, dtype=np.int64), per_year)
        oc = tb.pick.draw(rng.random(year.size))
        us = rng.random(year.size)
        if tb.any_nb:
            size = cluster_sizes(np.take(tb.theta, oc) * np.take(G, year), us, rng)
            own_cell = np.repeat(tb.cells[oc], size)
            own_year = np.repeat(year, size)
        else:
            own_cell, own_year = tb.cells[oc], year
    else:
        own_cell = own_year = np.zeros(0, dtype=np.int64)
    n_own = own_cell.size

    # 3. vendor compromises and their hits
    nv = mdl.n_vendors
    rate = mdl.vendor_rate
    expo = totG if mdl.market_on_vendors else float(Y)
    ce = rng.poisson(rate * expo) if nv else np.zeros(0, dtype=np.int64)
    ve_vendor = np.repeat(np.arange(nv), ce)
    ne = ve_vendor.size
    uy = rng.random(ne)
    if mdl.market_on_vendors:
        ve_year = np.minimum(np.searchsorted(cumG, uy * totG, side="right"), Y - 1)
    else:
        ve_year = np.minimum((uy * Y).astype(np.int64), Y - 1)
    lens = mdl.n_clients[ve_vendor]
    pair = _expand_ranges(mdl.pair_ptr[ve_vendor], lens)
    hit = rng.random(pair.size) < mdl.pair_q[pair]
    vh_event = np.repeat(np.arange(ne), lens)[hit]
    vh_ex = mdl.pair_client[pair[hit]]

    # 4. severities
    cell = np.concatenate([own_cell, vh_ex * P + _V])
    ne_tot = cell.size
    flat = cell * tb.K
    if tb.cum_cols:
        uc = rng.random(ne_tot)
        for col in tb.cum_cols:
            flat += uc >= np.take(col, cell)
    X = _ground_up(mdl, rng, flat)
    np.minimum(X, np.take(tb.cap, flat), out=X)

    # 5. policy terms, on the events that pay (the others add nothing to any figure)
    ex = np.take(tb.cell_ex, cell)
    pay = X
    pay -= np.take(mdl.deductible, ex)
    np.maximum(pay, 0.0, out=pay)
    np.minimum(pay, np.take(tb.limit, cell), out=pay)
    paid = np.flatnonzero(pay > 0)
    yr_all = np.concatenate([own_year, np.take(ve_year, vh_event)])
    p_ex, p_yr, p_pay = np.take(ex, paid), np.take(yr_all, paid), np.take(pay, paid)
    key = p_yr * n + p_ex
    bits = max(int(paid.size).bit_length(), 1)
    if paid.size and (int(Y) * n) < (1 << (62 - bits)):
        packed = (key << bits) | np.arange(paid.size, dtype=np.int64)
        packed.sort()
        order = packed & ((1 << bits) - 1)
        skey = packed >> bits
    else:
        order = np.argsort(key, kind="stable")
        skey = key[order]
    if skey.size:
        first = np.empty(skey.size, dtype=bool)
        first[0] = True
        np.not_equal(skey[1:], skey[:-1], out=first[1:])
        starts = np.flatnonzero(first)
        S = np.add.reduceat(np.take(p_pay, order), starts)
        lead = np.take(order, starts)
        cex, cyr = np.take(p_ex, lead), np.take(p_yr, lead)
    else:
        S, cex, cyr = np.zeros(0), np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    L = S
    L -= np.take(mdl.agg_deductible, cex)
    np.maximum(L, 0.0, out=L)
    np.minimum(L, np.take(mdl.agg_limit, cex), out=L)
    L *= np.take(mdl.share, cex)
    totals = np.bincount(cyr, weights=L, minlength=Y)

    ex_sum = np.bincount(cex, weights=L, minlength=n)
    ex_sumsq = np.bincount(cex, weights=L * L, minlength=n)
    ex_hit = np.bincount(cex[L > 0], minlength=n).astype(np.int64)
    evpay = np.minimum(p_pay, np.take(mdl.agg_limit, p_ex))
    evpay *= np.take(mdl.share, p_ex)
    peril_sum = np.bincount(np.take(tb.cell_peril, np.take(cell, paid)), weights=evpay, minlength=P)

    # largest event of each year (a vendor compromise is one event across its clients); own
    # breaches are single events, in year order
    max_event = np.zeros(Y)
    own_paid = paid < n_own
    if own_paid.any():
        oy = p_yr[own_paid]
        ov = evpay[own_paid]
        seg = np.flatnonzero(np.concatenate([[True], oy[1:] != oy[:-1]]))
        max_event[oy[seg]] = np.maximum.reduceat(ov, seg)
    ev_loss = np.bincount(vh_event[paid[~own_paid] - n_own], weights=evpay[~own_paid], minlength=ne)
    if ne:
        np.maximum.at(max_event, ve_year, ev_loss)

    # vendors: conditional book loss in compromise years, direct loss of their events
    if ne:
        vy = np.unique(ve_vendor.astype(np.int64) * Y + ve_year)
        vk, vyy = vy // Y, vy % Y
        v_years = np.bincount(vk, minlength=nv).astype(np.int64)
        v_cond = np.bincount(vk, weights=totals[vyy], minlength=nv)
        v_direct = np.bincount(ve_vendor, weights=ev_loss, minlength=nv)
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
