"""The grid algorithms of the aggregate engine: per-peril discretised severities convolved by FFT
or by Panjer's recursion, and the two-scale grid (a fine grid for the body of the aggregate spliced
onto the single grid's tail). Used by :func:`underwriting.losses.aggregate.engines.compound`;
amounts are in the currency of the perils' severities.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
from scipy import fft as sfft

from underwriting.errors import InputError
from underwriting.losses._dot import fixed_order_dot as _fixed_order_dot
from underwriting.losses.aggregate.discretisation import (
    _chernoff_range,
    _choose_bucket,
    discretize_layer,
)
from underwriting.losses.aggregate.results import (
    DiscretisationError,
)
from underwriting.losses.aggregate.terms import (
    _moment_check,
    _Terms,
)
from underwriting.losses.counts import Frequency, Poisson

#: Level below which the fine grid of the two-scale method must hold the aggregate quantile.
FINE_LEVEL = 1 - 1e-3
#: The fine grid is built only when it is at least this many times finer than the single grid.
FINE_GAIN = 4.0
#: A coarser level's bucket is at most this fraction of the splice point where the finer level takes over.
SPLICE_RATIO = 1e-3
#: Mean tolerance of a spliced (multi-level) distribution; a single grid keeps ``mean_rtol``.
SPLICED_MEAN_RTOL = 1e-5
#: At most this many grids are spliced (each one more FFT of the same length).
MAX_LEVELS = 5
#: The body counts as resolved when the bucket is at most this fraction of the median positive loss.
BODY_RESOLUTION = 1 / 500


def _body_resolved(x: np.ndarray, g: np.ndarray, h: float) -> bool:
    cdf = np.cumsum(g)
    p0 = float(g[0])
    if p0 >= 1.0 - 1e-12:
        return True
    k = int(np.searchsorted(cdf, p0 + 0.5 * (1.0 - p0), side="left"))
    return h <= BODY_RESOLUTION * float(x[min(k, x.size - 1)])


def _two_scale(perils, terms: _Terms, n: int, pad: int, discretization: str, eps: float, x: np.ndarray,
               g: np.ndarray, h: float, caps, mean_rtol: float, var_rtol: float):
    r"""A fine grid for the body of the aggregate, spliced onto the single grid's tail.

    With every occurrence payment truncated at ``T`` (``Y' = min(Y, T)``), the sums agree below
    ``T``: :math:`S < T \iff S' < T`, and then :math:`S = S'`. So the distribution of ``S`` on
    ``[0, T)`` is *exactly* that of ``S'``, whose grid is sized from ``T`` (a high quantile of
    ``S``) instead of from the occurrence limit or the severity's far tail. The tail ``[T, inf)``
    keeps the single grid's masses, rescaled to the fine grid's tail probability. Returns
    ``None`` when it would not be finer, or when the fine grid fails its own moment check
    against the analytic moments of ``S'``.
    """
    cdf = np.cumsum(g)
    k_hi = int(np.searchsorted(cdf, FINE_LEVEL, side="left"))
    if k_hi >= x.size - 2:
        return None
    # the splice point: far enough that this grid's buckets are small there, and above the
    # FINE_LEVEL quantile (multiples of h on this grid)
    k_T = max(int(math.ceil(1.0 / SPLICE_RATIO)), int(np.searchsorted(x, 2.0 * x[k_hi] + 4 * h)))
    k_T = int(np.searchsorted(x, h * k_T - 1e-9 * h)) if x[1] - x[0] < h * 0.999 else k_T
    if k_T >= x.size - 2:
        return None
    T = float(x[k_T])
    caps_f = [min(c, T) for c in caps]
    d = terms.deductible
    R_f = _chernoff_range(perils, caps_f, d, eps)
    if R_f <= 0:
        return None
    h_f = _choose_bucket(max(R_f, T), caps_f, n, pad)
    if h_f * FINE_GAIN > h or T >= x[-1]:
        return None
    subs = {k: min(v, T) for k, v in terms.sublimits.items()}
    terms_f = dataclasses.replace(terms, limit=min(terms.limit, T), sublimits=subs)
    try:
        fs = _discretise_perils(perils, d, [min(terms.peril_limit(p.name), T) for p in perils], h_f, n,
                                discretization)
    except DiscretisationError:
        return None
    with np.errstate(all="ignore"):
        g_f = _fft_aggregate(perils, fs)
        x_f = h_f * np.arange(n)
        m_f = float(_fixed_order_dot(x_f, g_f))
        v_f = float(_fixed_order_dot((x_f - m_f) ** 2, g_f))
    if not (np.all(np.isfinite(g_f)) and abs(float(g_f.sum()) - 1.0) <= 1e-6):
        return None
    chk = _moment_check(perils, terms_f, m_f, v_f, mean_rtol, var_rtol)
    if not chk:
        return None
    # splice: fine masses strictly below T (minus half the mass dispersed onto T's neighbour),
    # coarse masses from T on, rescaled to the remaining probability
    # S' piles every truncated occurrence at T, so its mass at T and above is not S's: keep the
    # fine masses strictly below T. The coarse grid's point T holds half of (T - h, T) and half of
    # (T, T + h) (mass dispersal): only the upper half belongs to the tail.
    below = x_f < T - 1e-9 * h_f
    p_below = float(g_f[below].sum())
    above = x > T + 1e-9 * h
    at_c = np.abs(x - T) <= 1e-9 * h
    p_tail_coarse = float(g[above].sum() + 0.5 * g[at_c].sum())
    if p_tail_coarse <= 0 or not (0 < 1 - p_below) or not at_c.any():
        return None
    scale = (1.0 - p_below) / p_tail_coarse
    xm = np.concatenate((x_f[below], [T], x[above]))
    gm = np.concatenate((g_f[below], [0.5 * float(g[at_c].sum()) * scale], g[above] * scale))
    info = {"splice_point": T, "fine_bucket": h_f, "fine_mean_rel_err": chk.mean_rel_err,
            "fine_var_rel_err": chk.var_rel_err, "tail_mass": 1.0 - p_below,
            "tail_rescale": scale}
    return xm, gm, h_f, info


def _discretise_perils(perils, d: float, limits, h: float, n: int, discretization: str) -> list[np.ndarray]:
    """One discretised occurrence payment per peril; perils with an equal (package) severity and limit
    share one array (the same numbers: e.g. vendor and insider losses on one custody mixture), which
    :func:`_fft_aggregate` transforms once. The arrays are never written to."""
    from underwriting.losses.aggregate.discretisation import cacheable_severity

    seen: dict = {}
    out = []
    for p, c in zip(perils, limits, strict=True):
        key = (p.severity, c) if cacheable_severity(p.severity) else None
        f = seen.get(key) if key is not None else None
        if f is None:
            f = discretize_layer(p.severity, d, c, h, n, discretization)
            if key is not None:
                seen[key] = f
        out.append(f)
    return out


def _fft_aggregate(perils, fs) -> np.ndarray:
    """Compound distribution on the grid by FFT.

    The atom of "no event at all" (probability :math:`\\prod_j P_j(0)`) is taken out in the
    Fourier domain and added back afterwards: the FFT's round-off floor is proportional to the
    largest value transformed, and for rare events that atom (0.98 for a mean count of 0.02)
    would otherwise set a floor 50 times higher than the distribution of actual losses needs —
    noise that the far tail's variance picks up.
    """
    n = fs[0].size
    acc = None
    p_none = 1.0
    done: list[tuple[np.ndarray, np.ndarray]] = []  # one transform per distinct array
    for p, f in zip(perils, fs, strict=True):
        phi = next((ph for g, ph in done if g is f), None)
        if phi is None:
            phi = sfft.rfft(f, workers=-1)
            done.append((f, phi))
        z = p.frequency.pgf(phi)
        acc = z if acc is None else acc * z
        p_none *= float(np.real(p.frequency.pgf(0.0)))
    rest = sfft.irfft(acc - p_none, n=n, workers=-1)
    rest = _clean(rest)
    rest[0] += p_none
    return rest


def _clean(g: np.ndarray) -> np.ndarray:
    # FFT round-off leaves noise of about 1e-16 of the largest value, sometimes negative: zero it
    g = np.where(np.abs(g) < 1e-16 * float(np.max(np.abs(g), initial=0.0)), 0.0, g)
    return np.maximum(g, 0.0)


def _panjer_one(freq: Frequency, f: np.ndarray) -> np.ndarray:
    a, b = freq.panjer_ab()
    n = f.size
    nz = np.flatnonzero(f)
    m = int(nz[-1]) if nz.size else 0
    g = np.zeros(n)
    g[0] = float(np.real(freq.pgf(f[0])))
    if g[0] == 0.0:
        raise InputError("Panjer recursion underflows (P(S = 0) is below the smallest float); use method='fft'",
                         field="method")
    f1 = f[1: m + 1]
    jf1 = np.arange(1, m + 1) * f1
    denom = 1.0 - a * f[0]
    for k in range(1, n):
        K = min(k, m)
        if K == 0:
            break
        rev = g[k - 1::-1][:K] if k - 1 >= 0 else g[:0]
        g[k] = (a * _fixed_order_dot(f1[:K], rev) + (b / k) * _fixed_order_dot(jf1[:K], rev)) / denom
    return g


def _panjer_aggregate(perils, fs) -> np.ndarray:
    if all(isinstance(p.frequency, Poisson) for p in perils):
        lam = sum(p.frequency.lam for p in perils)
        if lam == 0:
            g = np.zeros(fs[0].size)
            g[0] = 1.0
            return g
        f = sum(p.frequency.lam / lam * fj for p, fj in zip(perils, fs, strict=True))
        return _panjer_one(Poisson(lam), f)
    g = None
    for p, f in zip(perils, fs, strict=True):
        gj = _panjer_one(p.frequency, f)
        g = gj if g is None else np.convolve(g, gj)[: f.size]
    return g
