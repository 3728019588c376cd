"""The compound engines: FFT, Panjer recursion and Monte Carlo (:func:`compound`)."""

from __future__ import annotations

import collections
import copy
import dataclasses
import math
import threading
from collections.abc import Mapping, Sequence

import numpy as np

from underwriting.caches import register_cache
from underwriting.errors import InputError
from underwriting.losses._dot import fixed_order_dot as _fixed_order_dot
from underwriting.losses.aggregate.convolution import (
    MAX_LEVELS,
    SPLICED_MEAN_RTOL,
    _body_resolved,
    _discretise_perils,
    _fft_aggregate,
    _panjer_aggregate,
    _two_scale,
)
from underwriting.losses.aggregate.discretisation import (
    _chernoff_range,
    _choose_bucket,
    _occurrence_cap,
)
from underwriting.losses.aggregate.results import (
    METHODS,
    AggregateResult,
    DiscretisationError,
    Peril,
    PricingRefused,
    _prob_at_least,
    _rel,
)
from underwriting.losses.aggregate.terms import (
    FALLBACK_MC_DRAWS,
    MAX_AUTO_BUCKETS,
    MAX_SIMS,
    MC_CHUNK_DRAWS,
    _analytic_moments,
    _apply_aggregate_terms,
    _as_perils,
    _exact_attach_exhaust,
    _grid_atoms,
    _moment_check,
    _oep_curve,
    _Terms,
    _terms,
    check_limits,
)
from underwriting.losses.counts import NegativeBinomial, Poisson


def compound(perils: Peril | Sequence[Peril], *, deductible: float = 0.0, limit: float = math.inf,
             sublimits: Mapping[str, float] | None = None, agg_deductible: float = 0.0,
             agg_limit: float = math.inf, share: float = 1.0, method: str = "fft",
             n_buckets: int = 2**16, padding: int = 1, discretization: str = "dispersal",
             n_sims: int = 200_000, random_state: int | np.random.Generator | None = None,
             eps: float = 1e-9, mean_rtol: float = 1e-6, var_rtol: float = 1e-3,
             escalate: bool = True) -> AggregateResult:
    """Distribution of the insurer's loss over the term for one or more perils.

    Parameters
    ----------
    perils : Peril or sequence of Peril
        Independent loss sources; their compound distributions are summed.
    deductible : float
        Per-occurrence deductible ``d`` (currency units).
    limit : float
        Per-occurrence limit ``l``: the width of cover above ``d`` ("9M xs 1M" pays
        ``min((X - 1M)+, 9M)``); ``inf`` for unlimited.
    sublimits : mapping of peril name to float, optional
        Per-occurrence sub-limits; a peril's effective limit is ``min(limit, sublimit)``.
    agg_deductible, agg_limit : float
        Aggregate deductible and limit over the term (currency units).
    share : float
        Insurer's share (coinsurance), in (0, 1].
    method : {"fft", "panjer", "mc"}
        Computation method.
    n_buckets : int
        FFT length (power of two recommended), or the Panjer grid length.
    padding : int
        The automatic range fits in ``n_buckets / 2**padding`` buckets; the rest is zero
        padding against wrap-around (FFT only).
    discretization : {"dispersal", "round"}
        Severity discretisation (see :func:`discretize_layer`).
    n_sims : int
        Monte Carlo sample size (number of simulated terms).
    random_state : int or numpy.random.Generator, optional
        Seed for Monte Carlo (reproducible; never the global state).
    eps : float
        Target probability beyond the automatic range (Chernoff bound).
    mean_rtol, var_rtol : float
        Tolerances of the moment check (FFT and Panjer).
    escalate : bool
        When the moment check fails: retry the FFT on a grid four times finer (up to
        :data:`MAX_AUTO_BUCKETS`), then Monte Carlo checked within four standard errors, and
        raise :class:`PricingRefused` if that fails too. ``False`` returns the failing grid
        result as it is (for diagnostics only; never print it as a price).

    Raises
    ------
    PricingRefused
        Limits exceeded (:data:`MAX_BUCKETS`, :data:`MAX_SIMS`, :data:`MAX_MC_DRAWS`,
        :data:`MAX_FREQUENCY_MEAN`), closed-form moments that fail their quadrature
        cross-check, or no method passing the moment check.

    Returns
    -------
    AggregateResult
    """
    perils = _as_perils(perils)
    key = _cache_key(perils, deductible, limit, sublimits, agg_deductible, agg_limit, share, method, n_buckets,
                     padding, discretization, n_sims, random_state, eps, mean_rtol, var_rtol, escalate)
    if key is None:
        return _compound(perils, deductible, limit, sublimits, agg_deductible, agg_limit, share, method, n_buckets,
                         padding, discretization, n_sims, random_state, eps, mean_rtol, var_rtol, escalate)
    return _private_copy(_compound_cached(key))


def _private_copy(res: AggregateResult) -> AggregateResult:
    """A copy of a cached result the caller may change (diagnostics, OEP arrays) without touching the
    cache. The read-only grid arrays and the memo of derived statistics (``_memo``: values computed
    from those arrays only) are shared with the cached result."""
    out = copy.copy(res)
    object.__setattr__(out, "diagnostics", copy.deepcopy(res.diagnostics))
    object.__setattr__(out, "_oep", copy.deepcopy(res._oep))
    return out


#: Bound on the per-process cache of :func:`compound` results: each holds a few grids of ``n_buckets``
#: (about 2.5 MB at 2^16, 10 MB at 2^18); a quote of one layer uses four (layer, two premium-range ends,
#: reserve sizing).
COMPOUND_CACHE_SIZE = 16


def _cache_key(perils, *args):
    """The value key of one :func:`compound` call, or ``None`` when it must not be cached: Monte Carlo
    (``method="mc"``), a random generator object, or any count or severity that is not one of the
    package's frozen, value-compared types (a user subclass may be mutable or compared by identity)."""
    from underwriting.losses.aggregate.discretisation import cacheable_severity

    (deductible, limit, sublimits, agg_deductible, agg_limit, share, method, n_buckets, padding, discretization,
     n_sims, random_state, eps, mean_rtol, var_rtol, escalate) = args
    if method == "mc" or not (random_state is None or type(random_state) is int):
        return None
    for p in perils:
        if type(p) is not Peril or type(p.frequency) not in (Poisson, NegativeBinomial) \
                or not cacheable_severity(p.severity):
            return None
    subs = None if sublimits is None else tuple(dict(sublimits).items())
    key = (tuple(perils), deductible, limit, subs, agg_deductible, agg_limit, share, method, n_buckets, padding,
           discretization, n_sims, random_state, eps, mean_rtol, var_rtol, escalate)
    try:
        hash(key)
    except TypeError:
        return None
    # typed: 1 and 1.0 give the same hash but may reach different code (int vs float arithmetic)
    return tuple((type(v).__name__, v) for v in key)


class _CompoundCache:
    """The per-process LRU cache of :func:`compound` results, bounded by :data:`COMPOUND_CACHE_SIZE`.

    A grid result (FFT or Panjer) does not depend on ``random_state``: the seed only reaches the
    Monte Carlo fallback taken when every grid fails its moment check. So a grid result is stored
    under its key *without* the seed, and a quote that differs only in its seed reuses it; a Monte
    Carlo fallback is stored under its full key, seed included. Thread-safe (the service quotes
    from a thread pool); two threads missing the same key both compute it, with the same numbers.
    """

    def __init__(self, maxsize: int):
        self.maxsize = maxsize
        self._data: collections.OrderedDict = collections.OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def _seedless(key):
        return tuple(("*", None) if i == _SEED_POS else kv for i, kv in enumerate(key))

    def _get(self, key):
        with self._lock:
            hit = self._data.get(key)
            if hit is not None:
                self._data.move_to_end(key)
            return hit

    def _put(self, key, value) -> None:
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self.maxsize:
                self._data.popitem(last=False)

    def __call__(self, key) -> AggregateResult:
        seedless = self._seedless(key)
        hit = self._get(seedless)
        if hit is None:
            hit = self._get(key)
        if hit is not None:
            return hit
        (_, perils), *rest = key
        (_, deductible), (_, limit), (_, subs), *tail = rest
        args = [v for _, v in tail]
        res = _compound(list(perils), deductible, limit, None if subs is None else dict(subs), *args)
        _ = res.mean, res.variance  # memoised on the result, so every copy handed out carries them
        self._put(key if res.method == "mc" else seedless, res)
        return res

    def cache_clear(self) -> None:
        with self._lock:
            self._data.clear()

    def __len__(self) -> int:
        return len(self._data)


#: Position of ``random_state`` in a :func:`_cache_key` key.
_SEED_POS = 12
_compound_cached = register_cache(_CompoundCache(COMPOUND_CACHE_SIZE), "losses.aggregate.engines._compound_cached")


def _compound(perils, deductible, limit, sublimits, agg_deductible, agg_limit, share, method, n_buckets, padding,
              discretization, n_sims, random_state, eps, mean_rtol, var_rtol, escalate) -> AggregateResult:
    terms = _terms(deductible, limit, sublimits, agg_deductible, agg_limit, share)
    if method not in METHODS:
        raise InputError(f"unknown method {method!r}; choose from {list(METHODS)}", field="method")
    n = int(n_buckets)
    if n < 64:
        raise InputError(f"n_buckets must be at least 64, got {n_buckets!r}", field="n_buckets")
    n_sims = int(n_sims)
    check_limits(perils, method, n, n_sims)
    _analytic_moments(perils, terms)  # closed forms cross-checked by quadrature, or refused
    if method == "mc":
        res = _compound_mc(perils, terms, n_sims, random_state, mean_rtol, var_rtol)
        if escalate and not res.moment_check:
            raise PricingRefused(f"refused: Monte Carlo with {n_sims:,} terms fails its own check "
                                 f"({res.moment_check.note}; mean {res.moment_check.mean_computed:.6g} vs "
                                 f"analytic {res.moment_check.mean_analytic:.6g})", field="n_sims")
        return res

    grids = [n]
    if escalate and method == "fft" and n < MAX_AUTO_BUCKETS:
        grids.append(min(4 * n, MAX_AUTO_BUCKETS))
    tried: list[str] = []
    res = None
    for n_try in grids:
        try:
            res = _compound_grid(perils, terms, method, n_try, padding, discretization, eps, mean_rtol, var_rtol)
        except DiscretisationError as exc:
            tried.append(f"{method} with {n_try:,} buckets: {exc}")
            res = None
            continue
        if res.moment_check or not escalate:
            if tried:
                res.diagnostics["escalation"] = tried + [f"{method} with {n_try:,} buckets: passed"]
            return res
        mc = res.moment_check
        tried.append(f"{method} with {n_try:,} buckets: mean error {mc.mean_rel_err:.2e}, variance error "
                     f"{mc.var_rel_err:.2e}")
    if not escalate:
        raise PricingRefused("refused: " + "; ".join(tried), field="n_buckets")
    # last resort: Monte Carlo, checked against the analytic moments with its standard error
    total_mean = sum(float(p.frequency.mean()) for p in perils)
    n_mc = int(min(n_sims, MAX_SIMS, FALLBACK_MC_DRAWS // max(total_mean, 1e-12)))
    if n_mc >= 10_000:
        mc_res = _compound_mc(perils, terms, n_mc, 0 if random_state is None else random_state, mean_rtol, var_rtol)
        if mc_res.moment_check:
            mc_res.diagnostics["escalation"] = tried + [f"Monte Carlo with {n_mc:,} terms: passed"]
            return mc_res
        tried.append(f"Monte Carlo with {n_mc:,} terms: {mc_res.moment_check.note or 'failed'}")
    raise PricingRefused("refused: no method reproduces the analytic moments of this loss model ("
                         + "; ".join(tried) + ")", field="n_buckets")


def _compound_grid(perils, terms: _Terms, method: str, n: int, padding: int, discretization: str, eps: float,
                   mean_rtol: float, var_rtol: float) -> AggregateResult:
    d = terms.deductible
    caps_trunc = [_occurrence_cap(p.severity, d, terms.peril_limit(p.name)) for p in perils]
    caps = [c for c, _ in caps_trunc]
    truncated = max(t for _, t in caps_trunc)
    pad = padding if method == "fft" else 0
    R = _chernoff_range(perils, caps, d, eps)
    h = _choose_bucket(R, caps, n, pad) if R > 0 else 1.0
    fs = _discretise_perils(perils, d, caps, h, n, discretization)
    for f in fs:
        if not (np.all(np.isfinite(f)) and abs(float(f.sum()) - 1.0) <= 1e-6):
            raise DiscretisationError(f"the discretised severity's total mass is off by {float(f.sum()) - 1.0:.2e}")

    with np.errstate(all="ignore"):
        g = _fft_aggregate(perils, fs) if method == "fft" else _panjer_aggregate(perils, fs)
        x = h * np.arange(n)
        m_s = float(_fixed_order_dot(x, g))
        v_s = float(_fixed_order_dot((x - m_s) ** 2, g))
    if not (np.all(np.isfinite(g)) and abs(float(g.sum()) - 1.0) <= 1e-6):
        raise DiscretisationError(f"the aggregate distribution's total mass is off by {float(np.sum(g)) - 1.0:.2e}")
    # the grid represents the model with each unlimited occurrence truncated at its cap (the
    # 1 - TAIL_EPS quantile): check it against that model's closed-form moments
    grid_terms = terms
    if truncated > 0:
        subs = dict(terms.sublimits)
        for p, c in zip(perils, caps, strict=True):
            subs[p.name] = max(min(terms.peril_limit(p.name), c), subs.get(p.name, 0.0) if p.name in subs and
                               subs[p.name] < terms.peril_limit(p.name) else 0.0)
        grid_terms = dataclasses.replace(terms, sublimits=subs)
    check = _moment_check(perils, grid_terms, m_s, v_s, mean_rtol, var_rtol)
    bucket = h
    info: dict = {"used": False}
    if method == "fft":  # also when the single grid fails: its body is the usual culprit
        levels = []
        cur_x, cur_g, cur_h = x, g, h
        for _ in range(MAX_LEVELS):
            fine = _two_scale(perils, terms, n, pad, discretization, eps, cur_x, cur_g, cur_h, caps,
                              mean_rtol, var_rtol)
            if fine is None:
                break
            cur_x, cur_g, cur_h, lvl = fine
            levels.append(lvl)
            if _body_resolved(cur_x, cur_g, cur_h):
                break
        if levels:
            m_m = float(_fixed_order_dot(cur_x, cur_g))
            v_m = float(_fixed_order_dot((cur_x - m_m) ** 2, cur_g))
            # each splice moves O(h_coarse) of probability by less than a coarse bucket: the
            # spliced mean is held to SPLICED_MEAN_RTOL (the variance keeps var_rtol)
            merged = _moment_check(perils, grid_terms, m_m, v_m, max(mean_rtol, SPLICED_MEAN_RTOL), var_rtol)
            info = {"levels": levels, "used": bool(merged)}
            if merged:
                x, g, bucket, check = cur_x, cur_g, cur_h, merged
            else:  # keep the single grid (the caller escalates if it failed too)
                info["reason"] = merged.note

    values = _apply_aggregate_terms(x, terms)
    p_occ_attach, p_occ_exhaust = _exact_attach_exhaust(perils, terms)
    tol = 1e-9 * bucket
    atoms = _grid_atoms(perils, terms, x)
    if terms.agg_deductible == 0:
        p_attach = p_occ_attach
    else:  # P(S > D_agg) of the model (as P(exhaust) below), not the grid's mass above
        p_attach = _prob_at_least(x, g, atoms, terms.agg_deductible, tol, strict=True)
    if math.isfinite(terms.agg_limit):
        p_exhaust = _prob_at_least(x, g, atoms, terms.agg_deductible + terms.agg_limit, tol)
    else:
        p_exhaust = p_occ_exhaust
    oep_grid = x[x <= max(caps) + 2 * h] if max(caps) > 0 else x[:2]
    oep = (terms.share * oep_grid, _oep_curve(perils, terms, oep_grid))
    diag = {"n_buckets": n, "padding": pad, "range": R, "eps": eps, "truncated_severity_mass": truncated,
            "discretization": discretization, "occurrence_caps": caps, "coarse_bucket": h,
            "mass_beyond_range": float(g[x > R].sum()), "two_scale": info}
    exact = None
    if terms.agg_deductible == 0 and math.isinf(terms.agg_limit):
        m_full, v_full = _analytic_moments(perils, terms)
        exact = (terms.share * m_full, terms.share**2 * v_full)
        diag["truncation_mean_rel"] = _rel(check.mean_analytic, m_full)
    return AggregateResult(method, values, g.copy(), check, float(p_attach), float(p_exhaust),
                           check.mean_analytic, bucket=bucket, diagnostics=diag, _oep=oep, exact_moments=exact,
                           atoms=atoms)


def _compound_mc(perils, terms: _Terms, n_sims: int, random_state, mean_rtol, var_rtol) -> AggregateResult:
    """Monte Carlo in chunks of simulated terms, so at most about :data:`MC_CHUNK_DRAWS` losses
    are held at once (the chunk layout is fixed, so a seed reproduces the result exactly)."""
    if n_sims < 100:
        raise InputError(f"n_sims must be at least 100, got {n_sims}", field="n_sims")
    rng = np.random.default_rng(random_state)
    seed = random_state if isinstance(random_state, int) else None
    S = np.zeros(n_sims)
    max_occ = np.zeros(n_sims)
    exhausted = np.zeros(n_sims, dtype=bool)
    d = terms.deductible
    total_mean = sum(float(p.frequency.mean()) for p in perils)
    rows = int(max(1, min(n_sims, MC_CHUNK_DRAWS // max(1.0, 2.0 * total_mean))))
    for start in range(0, n_sims, rows):
        stop = min(n_sims, start + rows)
        m = stop - start
        for p in perils:
            lim = terms.peril_limit(p.name)
            N = p.frequency.rvs(m, rng)
            total = int(N.sum())
            if total == 0:
                continue
            # draw the chunk's losses in pieces of at most MC_CHUNK_DRAWS
            ends = np.cumsum(N)
            lo_row = 0
            while lo_row < m:
                base = int(ends[lo_row - 1]) if lo_row else 0
                hi_row = int(np.searchsorted(ends, base + MC_CHUNK_DRAWS, side="right"))
                hi_row = max(hi_row, lo_row + 1)
                Ns = N[lo_row:hi_row]
                k = int(Ns.sum())
                if k:
                    X = p.severity.rvs(k, rng)
                    Y = np.clip(X - d, 0.0, lim)
                    owner = np.repeat(np.arange(hi_row - lo_row), Ns)
                    sl = slice(start + lo_row, start + hi_row)
                    S[sl] += np.bincount(owner, weights=Y, minlength=hi_row - lo_row)
                    mo = np.zeros(hi_row - lo_row)
                    np.maximum.at(mo, owner, Y)
                    np.maximum(max_occ[sl], mo, out=max_occ[sl])
                    if math.isfinite(lim):
                        exhausted[sl] |= np.bincount(owner, weights=(Y >= lim).astype(float),
                                                     minlength=hi_row - lo_row) > 0
                lo_row = hi_row
    m_s = float(S.mean())
    v_s = float(S.var())
    m4 = float(np.mean((S - m_s) ** 4))
    check = _moment_check(perils, terms, m_s, v_s, mean_rtol, var_rtol, mc_n=n_sims, mc_m4=m4)
    L = _apply_aggregate_terms(S, terms)
    order = np.sort(L)
    probs = np.full(n_sims, 1.0 / n_sims)
    p_attach = float(np.mean(L > 0))
    if math.isfinite(terms.agg_limit):
        p_exhaust = float(np.mean(S >= terms.agg_deductible + terms.agg_limit))
    else:
        p_exhaust = float(np.mean(exhausted))
    oep_sorted = np.sort(max_occ) * terms.share
    oep_sf = 1.0 - np.arange(1, n_sims + 1) / n_sims
    diag = {"samples_in_order": L, "se_note": "standard errors from the sample standard deviation"}
    return AggregateResult("mc", order, probs, check, p_attach, p_exhaust, check.mean_analytic,
                           n_sims=n_sims, seed=seed, diagnostics=diag, _oep=(oep_sorted, oep_sf))


