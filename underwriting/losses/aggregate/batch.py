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

from underwriting.errors import InputError
from underwriting.losses._dot import fixed_order_dot as _fixed_order_dot
from underwriting.losses.aggregate.batch_kernels import (
    _apply_pgf,
    _chernoff_range_one,
    _discretize_into,
    _grid_atoms_poisson,
    _lognormal_layer_moments,
    _moment_or_inf,
    _var_tvar,
)
from underwriting.losses.aggregate.discretisation import (
    _choose_bucket,
    _occurrence_cap,
)
from underwriting.losses.aggregate.results import (
    Peril,
    _level,
    _prob_at_least,
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
    n_threads_wanted = _threads(workers)
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
    n_threads = max(1, min(n_threads_wanted, len(starts)))
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
    if isinstance(workers, bool) or not isinstance(workers, (int, np.integer)) or workers < 1:
        raise InputError(f"must be a positive whole number of threads or None, got {workers!r}", field="workers")
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
