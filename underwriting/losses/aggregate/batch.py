"""Many single-peril layers in one stacked FFT (:func:`compound_batch`)."""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import fft as sfft
from scipy import special

from underwriting.errors import InputError
from underwriting.losses._dot import fixed_order_dot as _fixed_order_dot
from underwriting.losses.aggregate.discretisation import (
    _choose_bucket,
    _occurrence_cap,
)
from underwriting.losses.aggregate.results import (
    DiscretisationError,
    Peril,
    _level,
    _prob_at_least,
    _refined_var,
    _tvar_at,
)
from underwriting.losses.aggregate.terms import (
    _exact_attach_exhaust,
    _grid_atoms,
    _moment_check,
    _terms,
)
from underwriting.losses.counts import Frequency, Poisson
from underwriting.losses.severity import Lognormal, Severity


# --------------------------------------------------------------------------------------------
# Batch
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class BatchResult:
    """Results of :func:`compound_batch`: one entry per model (arrays, currency units).

    Attributes
    ----------
    mean, std, var, tvar : numpy.ndarray
        Expected loss, standard deviation, VaR and TVaR at ``level`` of the insurer's loss.
    level : float
    prob_attach, prob_exhaust : numpy.ndarray
    bucket : numpy.ndarray
        Bucket size used for each model.
    mean_analytic, mean_rel_err, var_rel_err : numpy.ndarray
        Moment check of the occurrence-layer aggregate for each model.
    moment_check : numpy.ndarray of bool
        Whether each model's moments agree within tolerance.
    mean_grid : numpy.ndarray
        Expected insurer's loss read off the discretised distribution itself (``mean`` is the
        closed form where one exists and the check passed); its error against the closed form
        measures the grid, not the formula.
    """

    mean: np.ndarray
    std: np.ndarray
    var: np.ndarray
    tvar: np.ndarray
    level: float
    prob_attach: np.ndarray
    prob_exhaust: np.ndarray
    bucket: np.ndarray
    mean_analytic: np.ndarray
    mean_rel_err: np.ndarray
    var_rel_err: np.ndarray
    moment_check: np.ndarray
    mean_grid: np.ndarray

    def __len__(self) -> int:
        return int(self.mean.size)

    def to_records(self) -> list[dict[str, Any]]:
        """One plain-data dict per model."""
        keys = ("mean", "std", "var", "tvar", "prob_attach", "prob_exhaust", "bucket", "mean_analytic",
                "mean_rel_err", "var_rel_err", "moment_check", "mean_grid")
        return [{k: (bool(getattr(self, k)[i]) if k == "moment_check" else float(getattr(self, k)[i]))
                 for k in keys} | {"level": self.level} for i in range(len(self))]


def _broadcast(name: str, v: Any, B: int) -> np.ndarray:
    a = np.asarray(v, dtype=float)
    if a.ndim == 0:
        return np.full(B, float(a))
    if a.shape != (B,):
        raise InputError(f"must be a scalar or have one value per model ({B}), got shape {a.shape}", field=name)
    return a


def compound_batch(frequencies: Sequence[Frequency], severities: Sequence[Severity], *,
                   deductibles: Any = 0.0, limits: Any = math.inf, agg_deductibles: Any = 0.0,
                   agg_limits: Any = math.inf, shares: Any = 1.0, level: float = 0.995,
                   n_buckets: int = 2**16, padding: int = 1, eps: float = 1e-9, chunk: int = 4,
                   mean_rtol: float = 1e-6, var_rtol: float = 1e-3, workers: int | None = None) -> BatchResult:
    """Price many single-peril models/layers with one stacked FFT per chunk of rows.

    Row ``i`` is the compound of ``frequencies[i]`` and ``severities[i]`` through the layer
    ``limits[i]`` xs ``deductibles[i]`` with aggregate terms and share; each row gets its own
    bucket size. Term arrays broadcast from scalars.

    Unlike :func:`~underwriting.losses.aggregate.engines.compound` the batch does not escalate:
    each row's ``moment_check`` says whether it passed, and a failed row must not be used as a
    price. For speed the closed-form layer moments are checked against their bounds and for
    finiteness, not re-derived by quadrature; VaR and TVaR use the same refined estimators.

    ``chunk`` rows are transformed together; the default 4 keeps a chunk's real and complex
    arrays (2 MB each at 2**16 buckets) in cache: on the shared 2-core test machine 8 or more
    rows per chunk ran about twice as slow per layer (memory-bound), with identical results.

    ``workers`` threads (default: the CPUs this process may use) price chunks side by side, each
    chunk's FFTs on one thread; with ``workers=1`` the chunks run in turn and each FFT uses every
    CPU. Results do not depend on ``workers``.

    Returns
    -------
    BatchResult
    """
    B = len(frequencies)
    if B == 0 or len(severities) != B:
        raise InputError("need the same, non-zero number of frequencies and severities", field="severities")
    level = _level(level)
    ded = _broadcast("deductibles", deductibles, B)
    lim = _broadcast("limits", limits, B)
    ad = _broadcast("agg_deductibles", agg_deductibles, B)
    al = _broadcast("agg_limits", agg_limits, B)
    sh = _broadcast("shares", shares, B)
    n = int(n_buckets)
    kf = np.arange(max(n, 258) + 2, dtype=float)
    k = kf[:n]
    k2 = k * k
    t_chernoff = np.logspace(-4, 3, 40)
    # Cantelli: P(S >= m + a) <= v / (v + a^2), so F(m + sd * sqrt(p / (1 - p))) >= p for any S;
    # the cumulative sum is taken only up to there (plus margin), never over the whole grid
    cantelli = math.sqrt(level / (1.0 - level))
    out = {key: np.empty(B) for key in ("mean", "std", "var", "tvar", "prob_attach", "prob_exhaust", "bucket",
                                          "mean_analytic", "mean_rel_err", "var_rel_err", "mean_grid")}
    ok = np.empty(B, dtype=bool)
    # closed-form layer moments of the lognormal rows in one vectorised pass (the moment check's operands)
    logn = np.array([type(s) is Lognormal for s in severities])
    lm = np.full((3, B), np.nan)
    if logn.any():
        idx = np.flatnonzero(logn)
        mu = np.array([severities[i].mu for i in idx], dtype=float)
        sg = np.array([severities[i].sigma for i in idx], dtype=float)
        m12 = np.array([[_moment_or_inf(severities[i], 1), _moment_or_inf(severities[i], 2)] for i in idx])
        e1, e2, good = _lognormal_layer_moments(mu, sg, m12[:, 0], m12[:, 1], ded[idx], lim[idx])
        lm[0, idx], lm[1, idx], lm[2, idx] = e1, e2, good
    ctx = _Ctx(frequencies, severities, ded, lim, ad, al, sh, level, n, padding, eps, mean_rtol, var_rtol,
               kf, k, k2, t_chernoff, cantelli, out, ok, lm)
    starts = range(0, B, chunk)
    n_threads = max(1, min(_threads(workers), len(starts)))
    if n_threads == 1:
        for start in starts:
            _run_chunk(ctx, start, min(B, start + chunk), -1)
    else:
        # chunks are independent and write disjoint rows of ``out``: the FFTs, the exponentials and
        # the severity's special functions release the GIL, so two chunks overlap on two cores
        with ThreadPoolExecutor(n_threads) as pool:
            for _ in pool.map(lambda st: _run_chunk(ctx, st, min(B, st + chunk), 1), starts):
                pass
    for a in out.values():
        a.setflags(write=False)
    ok.setflags(write=False)
    return BatchResult(out["mean"], out["std"], out["var"], out["tvar"], level, out["prob_attach"],
                       out["prob_exhaust"], out["bucket"], out["mean_analytic"], out["mean_rel_err"],
                       out["var_rel_err"], ok, out["mean_grid"])


@dataclass(frozen=True)
class _Ctx:
    """Inputs and outputs shared by the chunks of one :func:`compound_batch` call."""

    frequencies: Sequence[Frequency]
    severities: Sequence[Severity]
    ded: np.ndarray
    lim: np.ndarray
    ad: np.ndarray
    al: np.ndarray
    sh: np.ndarray
    level: float
    n: int
    padding: int
    eps: float
    mean_rtol: float
    var_rtol: float
    kf: np.ndarray
    k: np.ndarray
    k2: np.ndarray
    t_chernoff: np.ndarray
    cantelli: float
    out: dict[str, np.ndarray]
    ok: np.ndarray
    layer_moments: np.ndarray  # (E[Y], E[Y^2], good) per row; nan where not computed in bulk


def _threads(workers: int | None) -> int:
    """Number of threads for ``workers`` (``None``: the CPUs this process may use)."""
    if workers is None:
        try:
            return len(os.sched_getaffinity(0))
        except AttributeError:  # pragma: no cover - not on Linux
            return os.cpu_count() or 1
    return int(workers)


def _run_chunk(ctx: _Ctx, start: int, stop: int, fft_workers: int) -> None:
    """Price rows ``start:stop`` into ``ctx.out`` and ``ctx.ok`` (one stacked FFT)."""
    frequencies, severities = ctx.frequencies, ctx.severities
    ded, lim, ad, al, sh = ctx.ded, ctx.lim, ctx.ad, ctx.al, ctx.sh
    level, n, padding, eps, mean_rtol, var_rtol = ctx.level, ctx.n, ctx.padding, ctx.eps, ctx.mean_rtol, ctx.var_rtol
    kf, k, k2, t_chernoff, cantelli, out, ok = ctx.kf, ctx.k, ctx.k2, ctx.t_chernoff, ctx.cantelli, ctx.out, ctx.ok
    m = stop - start
    F = np.empty((m, n))
    H = np.empty(m)
    infos = []
    for r in range(m):
        i = start + r
        terms = _terms(ded[i], lim[i], None, ad[i], al[i], sh[i])
        peril = Peril("all", frequencies[i], severities[i])
        cap, _ = _occurrence_cap(peril.severity, terms.deductible, terms.limit)
        R = _chernoff_range_one(peril, cap, terms.deductible, eps, kf, t_chernoff)
        h = _choose_bucket(R, [cap], n, padding) if R > 0 else 1.0
        _discretize_into(F[r], peril.severity, terms.deductible, cap, h, kf)
        H[r] = h
        infos.append((peril, terms))
    phi = sfft.rfft(F, axis=1, workers=fft_workers, overwrite_x=True)
    del F
    _apply_pgf(phi, [p.frequency for p, _ in infos])
    G = sfft.irfft(phi, n=n, axis=1, workers=fft_workers, overwrite_x=True)
    del phi
    # FFT round-off (~1e-17, sometimes negative) is zeroed as compound does; this also keeps
    # subnormal numbers, which slow every later dot product a hundredfold, out of G.
    # One pass: |g| < 1e-16 -> 0 and then max(g, 0) is exactly "g < 1e-16 -> 0".
    np.copyto(G, 0.0, where=G < 1e-16)
    # moments of S on the grid via matrix-vector products (k and k^2 weights)
    s1 = np.einsum("ij,j->i", G, k)
    s2 = np.einsum("ij,j->i", G, k2)
    m_s = H * s1
    v_s = np.maximum(H * H * (s2 - s1 * s1), 0.0)
    for r in range(m):
        i = start + r
        peril, terms = infos[r]
        g = G[r]
        h = H[r]
        plain = terms.share == 1.0 and terms.agg_deductible == 0.0 and math.isinf(terms.agg_limit)
        if plain:
            mean_r, std_r = float(m_s[r]), math.sqrt(v_s[r])
            # prefix long enough for the VaR search: Cantelli bound in buckets, plus margin
            L = min(n, int(math.ceil(s1[r] + cantelli * math.sqrt(max(s2[r] - s1[r] * s1[r], 0.0)) * 1.01)) + 16)
            Lr = None
        else:
            Lr = terms.share * np.clip(h * k - terms.agg_deductible, 0.0, terms.agg_limit)
            mean_r = float(_fixed_order_dot(Lr, g))
            std_r = math.sqrt(max(float(_fixed_order_dot((Lr - mean_r) ** 2, g)), 0.0))
            L = n
        # the exact atoms (no loss, sums of exhausted limits) on the grid, as compound does
        if type(peril.frequency) is Poisson:
            atoms = _grid_atoms_poisson(peril, terms, h, n)
        else:
            atoms = _grid_atoms([peril], terms, h * k)
        var_r, tvar_r = _var_tvar(g, h, Lr, L, level, k, atoms)
        analytic = None
        if ctx.layer_moments[2, i] == 1.0:
            e1, e2 = float(ctx.layer_moments[0, i]), float(ctx.layer_moments[1, i])
            en, vn = peril.frequency.mean(), peril.frequency.var()
            analytic = (0.0 + en * e1, 0.0 + (en * e2 + (vn - en) * e1 * e1))
        chk = _moment_check([peril], terms, float(m_s[r]), float(v_s[r]), mean_rtol, var_rtol, verify=False,
                            analytic=analytic)
        pa, pe = _exact_attach_exhaust([peril], terms)
        if terms.agg_deductible > 0 or math.isfinite(terms.agg_limit):
            x = h * k
            if terms.agg_deductible > 0:
                pa = _prob_at_least(x, g, atoms, terms.agg_deductible, 1e-9 * h, strict=True)
            if math.isfinite(terms.agg_limit):
                pe = _prob_at_least(x, g, atoms, terms.agg_deductible + terms.agg_limit, 1e-9 * h)
        out["mean_grid"][i] = mean_r
        if terms.agg_deductible == 0.0 and math.isinf(terms.agg_limit) and chk.ok:
            # closed-form mean and SD where they exist (as compound does)
            mean_r = terms.share * chk.mean_analytic
            if math.isfinite(chk.var_analytic):
                std_r = terms.share * math.sqrt(chk.var_analytic)
        out["mean"][i], out["std"][i], out["var"][i], out["tvar"][i] = mean_r, std_r, var_r, tvar_r
        out["prob_attach"][i], out["prob_exhaust"][i] = pa, pe
        out["mean_analytic"][i] = chk.mean_analytic
        out["mean_rel_err"][i] = chk.mean_rel_err
        out["var_rel_err"][i] = chk.var_rel_err
        out["bucket"][i] = h
        ok[i] = chk.ok


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
