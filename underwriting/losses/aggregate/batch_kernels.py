"""Hot-loop kernels of :func:`~underwriting.losses.aggregate.batch.compound_batch`.

The same arithmetic as the single-layer engine with fewer passes: the discretisation of one row, its
Chernoff range, the Poisson pgf of a stacked transform, VaR/TVaR of one grid row, the exact atoms of
a Poisson row and the closed-form layer moments of all lognormal rows at once.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy import special

from underwriting.losses.aggregate.discretisation import _occurrence_cap
from underwriting.losses.aggregate.results import (
    DiscretisationError,
    Peril,
    _refined_var,
    _tvar_at,
)
from underwriting.losses.counts import Frequency, Poisson
from underwriting.losses.severity import Lognormal, Severity

_LOGNORMAL_STOP_LOSS = Lognormal.stop_loss


# --------------------------------------------------------------------------------------------
# Hot-loop helpers (same arithmetic as the single-layer engine, fewer passes)
# --------------------------------------------------------------------------------------------
def _discretize_into(row: np.ndarray, severity: Severity, d: float, cap: float, h: float,
                     kf: np.ndarray) -> None:
    """Mass-dispersal discretisation of ``min((X - d)_+, cap)`` written into ``row`` (zeroed).

    Same formula and operands as :func:`discretize_layer` (``method="dispersal"``). When the
    stop-loss operand is already the smaller one at the first grid point (the usual case for an
    excess layer) every difference is a stop-loss difference, and the limited expected values
    are not evaluated on the grid at all; otherwise this falls back on the full rule.
    ``kf`` is ``0, 1, 2, ...`` as floats, at least ``row.size + 1`` long.
    """
    row[:] = 0.0
    if cap <= 0:
        row[0] = 1.0
        return
    n = row.size
    kmax = min(n - 1, int(math.ceil(cap / h - 1e-9)))
    y = d + np.minimum(h * kf[: kmax + 2], cap)
    D = None
    with np.errstate(invalid="ignore", over="ignore"):
        if math.isfinite(severity.mean()):
            sl = _stop_loss(severity, y)
            if abs(float(sl[0])) <= abs(float(severity.lev(y[1:2])[0])):  # switch at k0 = 0
                D = -np.diff(sl)
            else:
                lev = np.asarray(severity.lev(y), dtype=float)
                D = np.diff(lev)
                switch = np.abs(sl[:-1]) <= np.abs(lev[1:])
                k0 = int(np.argmax(switch)) if switch.any() else D.size
                D = np.concatenate((D[:k0], -np.diff(sl[k0:])))
        else:
            D = np.diff(np.asarray(severity.lev(y), dtype=float))
    if not np.all(np.isfinite(D)):
        raise DiscretisationError("the severity's limited expected values are not finite on the grid")
    f = row[: kmax + 1]
    f[0] = 1.0 - D[0] / h
    np.subtract(D[:-1], D[1:], out=f[1:])
    f[1:] /= h
    np.maximum(f, 0.0, out=f)


def _stop_loss(severity: Severity, y: np.ndarray) -> np.ndarray:
    """``severity.stop_loss(y)`` for finite ``y``; the lognormal's with its ``z`` computed once.

    Same operations as :meth:`Lognormal.stop_loss` (``E[X; X > y] - y S(y)``, floored at 0),
    which evaluates ``log y`` twice.
    """
    if type(severity) is not Lognormal or type(severity).stop_loss is not _LOGNORMAL_STOP_LOSS:
        return np.asarray(severity.stop_loss(y), dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (np.log(np.maximum(y, 0.0)) - severity.mu) / severity.sigma
    out = severity.moment(1) * special.ndtr(1 * severity.sigma - z)
    out -= y * special.ndtr(-z)
    return np.maximum(out, 0.0, out=out)


def _chernoff_range_one(peril: Peril, cap: float, d: float, eps: float, kf: np.ndarray,
                        s: np.ndarray, n_prov: int = 256) -> float:
    """:func:`_chernoff_range` for one peril (``s = logspace(-4, 3, 40)``), plain log-sum-exp."""
    if cap <= 0:
        return 0.0
    h0 = cap / n_prov
    t = s / cap
    f = np.empty(n_prov + 2)
    _discretize_into(f, peril.severity, d, cap, h0, kf)
    nz = np.flatnonzero(f > 0)
    a = np.log(f[nz])[None, :] + t[:, None] * (nz * h0)[None, :]
    amax = a.max(axis=1)
    lm = np.log(np.exp(a - amax[:, None]).sum(axis=1)) + amax
    with np.errstate(over="ignore", invalid="ignore"):
        total = peril.frequency.log_pgf_real(np.exp(lm))
        x = (total - math.log(eps)) / t
    x = x[np.isfinite(x)]
    if x.size == 0:  # pragma: no cover - pgf diverges everywhere: fall back on a wide range
        return cap * 1000
    return float(max(x.min(), cap))


def _grid_atoms_poisson(peril: Peril, terms: Any, h: float, n: int) -> np.ndarray:
    """:func:`_grid_atoms` of one Poisson peril on the grid ``h * (0, 1, ..., n-1)``, in closed form.

    With one peril the atoms' generating function ``exp(lam (p0 + pf t - 1))`` has the coefficients
    ``exp(lam (p0 - 1)) (lam pf)^m / m!`` (the atom at ``m`` full payments ``m c``), which
    :func:`_grid_atoms` reads off an inverse FFT (to its round-off, ~1e-17); the same payment ``c``,
    probabilities ``p0``, ``pf``, cut-off for negligible coefficients, range and grid-point tolerance.
    """
    d = terms.deductible
    sev, lam = peril.severity, peril.frequency.lam
    c, truncated = _occurrence_cap(sev, d, terms.peril_limit(peril.name))
    with np.errstate(all="ignore"):
        p0 = min(max(float(sev.cdf(d)), 0.0), 1.0)
        pf = 0.0
        if c > 0 and truncated == 0.0:
            pf = min(max(float(sev.sf(np.nextafter(d + c, -np.inf))), 0.0), 1.0 - p0)
    out = np.zeros(n)
    out[0] = float(np.real(peril.frequency.pgf(p0)))
    top = h * (n - 1.0)
    if not (pf > 0 and c <= top * (1 + 1e-12)) or n < 2:
        return out
    m_max = int(math.floor(top / c * (1 + 1e-12)))
    if 1 << int(2 * (m_max + 1) - 1).bit_length() > 2**22:  # pragma: no cover - as _grid_atoms
        return out
    ratio = lam * pf / np.arange(1, m_max + 1, dtype=float)
    coef = np.empty(m_max + 1)
    coef[0] = math.exp(lam * (p0 - 1.0))
    np.cumprod(ratio, out=coef[1:])
    coef[1:] *= coef[0]
    coef = np.where(coef > 1e-15 * max(float(np.max(coef)), 1e-300), coef, 0.0)
    pos = c * np.arange(m_max + 1, dtype=float)
    keep = (pos > 0) & (coef > 0) & (pos <= top * (1 + 1e-12))
    pos, coef = pos[keep], coef[keep]
    tol = max(1e-9 * h, 1e-12 * top)
    kk = np.minimum(np.rint(pos / h), n - 1).astype(np.int64)
    hit = np.abs(h * kk - pos) <= tol
    np.add.at(out, kk[hit], coef[hit])
    return out


def _apply_pgf(phi: np.ndarray, freqs: Sequence[Frequency]) -> None:
    """Replace each row of ``phi`` by its frequency's pgf at it, in place (Poisson rows at once)."""
    pois = np.array([type(f).pgf is Poisson.pgf for f in freqs])
    if pois.all():
        lam = np.array([f.lam for f in freqs])
        phi -= 1.0
        phi *= lam[:, None]
        np.exp(phi, out=phi)
        return
    for r, f in enumerate(freqs):
        phi[r] = f.pgf(phi[r])


def _var_tvar(g: np.ndarray, h: float, values: np.ndarray | None, L: int, p: float,
              k: np.ndarray, atoms: np.ndarray | None = None) -> tuple[float, float]:
    """Refined VaR and TVaR at ``p`` of one grid row (as :func:`_refined_var` and :func:`_tvar_at`).

    With ``values=None`` the support is ``h * (0, 1, ..., n-1)`` and the cumulative sum is taken
    over the first ``L`` buckets only, when the quantile search provably ends there (else over
    all of them); the results are those of the full-length computation.
    """
    n = g.size
    if values is None:
        if L < n:
            c = np.cumsum(g[:L])
            idx = int(np.searchsorted(c, p - 1e-13, side="left"))
            j = int(np.searchsorted(c - 0.5 * g[:L], p, side="right")) - 1
            if idx >= L - 4 or j + 6 >= L - 1:  # margin: an atom's split reads two neighbours
                L = n
        if L >= n:
            L = n
            c = np.cumsum(g)
        vals = h * k[:L]
        v = _refined_var(vals, g[:L], c, p, None if atoms is None else atoms[:L])
        kk = int(np.searchsorted(vals, v, side="right"))
        vals = h * k[kk:]
        excess = float(np.einsum("i,i->", vals, g[kk:])) - v * float(g[kk:].sum())
        return v, v + max(excess, 0.0) / (1.0 - p)
    cdf = np.cumsum(g)
    v = _refined_var(values, g, cdf, p, atoms)
    return v, _tvar_at(values, g, v, p)


# --------------------------------------------------------------------------------------------
# Closed-form layer moments of all lognormal rows at once
# --------------------------------------------------------------------------------------------
def _moment_or_inf(severity: Severity, k: int) -> float:
    try:
        return float(severity.moment(k))
    except OverflowError:
        return math.inf


def _lognormal_layer_moments(mu: np.ndarray, sigma: np.ndarray, m1: np.ndarray, m2: np.ndarray, d: np.ndarray,
                             lim: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(E[Y], E[Y^2], good)`` of ``Y = min((X - d)_+, lim)`` for lognormal ``X``, one entry per row.

    The same formulas, operand choices and operation order as :meth:`Lognormal.layer_moment`
    (``k = 1, 2``) with arrays of ``mu``, ``sigma`` and the raw moments ``m1``, ``m2`` (currency units
    for ``d``, ``lim``):
    one vectorised pass instead of a dozen scalar calls per row. ``good`` marks the rows that
    pass the bounds and finiteness checks of the engine's closed-form moments (``verify=False``);
    the others are left to the scalar path, which raises as the single-layer engine does.
    """
    with np.errstate(all="ignore"):

        def z_of(u: np.ndarray) -> np.ndarray:
            return (np.log(np.maximum(u, 0.0)) - mu) / sigma

        def limited(u: np.ndarray, k: int, m: np.ndarray) -> np.ndarray:
            pos = u > 0
            lu = np.where(pos, np.log(np.where(pos, u, 1.0)), -np.inf)
            z = (lu - mu) / sigma
            part = m * special.ndtr(z - k * sigma)
            tail = np.where(np.isinf(u), 0.0, np.where(pos, u, 0.0) ** k * special.ndtr(-z))
            return np.where(pos, part + tail, 0.0)

        def stop_loss(a: np.ndarray) -> np.ndarray:
            z = z_of(a)
            out = np.where(np.isinf(a), 0.0, m1 * special.ndtr(1 * sigma - z) - np.where(np.isinf(a), 0.0, a)
                           * special.ndtr(-z))
            return np.maximum(out, 0.0)

        def stop_loss2(a: np.ndarray) -> np.ndarray:
            af = np.where(np.isinf(a), 0.0, a)
            z = z_of(a)
            out = np.where(np.isinf(a), 0.0, m2 * special.ndtr(2 * sigma - z) - 2 * af * (m1 * special.ndtr(1 * sigma - z))
                           + af * af * special.ndtr(-z))
            return np.maximum(out, 0.0)

        top = d + lim
        # E[Y] (Severity.layer_mean): LEV or stop-loss differences, whichever has smaller operands
        lev_top = limited(top, 1, m1)
        lev_d = np.where(d > 0, limited(d, 1, m1), 0.0)
        by_lev = lev_top - lev_d
        pi_d = stop_loss(d)
        sl_top = stop_loss(top)
        by_sl = pi_d - sl_top
        use_sl = np.isinf(top) | (np.abs(pi_d) <= np.abs(lev_top))
        e1 = np.maximum(np.where(use_sl, by_sl, by_lev), 0.0)
        # E[Y^2] (Severity.layer_moment, k = 2)
        m2_top = limited(top, 2, m2)
        m2_d = np.where(d > 0, limited(d, 2, m2), 0.0)
        by_lev2 = m2_top - m2_d - 2.0 * d * e1
        pi2_d = stop_loss2(d)
        by_sl2 = pi2_d - stop_loss2(top) - 2.0 * lim * sl_top
        use_sl2 = (np.abs(pi2_d) <= np.abs(m2_top)) | ~np.isfinite(by_lev2)
        e2 = np.maximum(np.where(use_sl2, by_sl2, by_lev2), 0.0)
        e2 = np.where(np.isinf(top), pi2_d, e2)
        finite_lim = np.isfinite(lim)
        good = (np.isfinite(e1) & (e1 >= 0) & np.isfinite(e2) & np.isfinite(m1) & np.isfinite(m2)
                & (~finite_lim | ((e1 <= lim * (1 + 1e-12)) & (e2 <= lim * lim * (1 + 1e-12)))))
    return e1, e2, good
