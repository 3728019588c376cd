"""Validated policy terms of the engines, analytic moments and the moment check."""

from __future__ import annotations

import functools
import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from underwriting.caches import register_cache
from underwriting.errors import InputError
from underwriting.losses.aggregate.results import (
    PERILS,
    MomentCheck,
    Peril,
    PricingRefused,
    _rel,
)


# --------------------------------------------------------------------------------------------
# Terms and validation
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Terms:
    deductible: float
    limit: float
    sublimits: Mapping[str, float]
    agg_deductible: float
    agg_limit: float
    share: float

    def peril_limit(self, name: str) -> float:
        return min(self.limit, self.sublimits.get(name, math.inf))


def check_amount(name: str, v: float, *, allow_inf: bool = False, positive: bool = False) -> float:
    """A validated amount (currency units): a number, finite (or +inf when allowed), >= 0 (or > 0)."""
    try:
        v = float(v)
    except (TypeError, ValueError):
        raise InputError(f"must be a number, got {v!r}", field=name) from None
    if math.isnan(v) or (math.isinf(v) and not (allow_inf and v > 0)):
        raise InputError(f"must be a finite number{' or inf' if allow_inf else ''}, got {v!r}", field=name)
    if v < 0 or (positive and v == 0):
        raise InputError(f"must be {'positive' if positive else 'non-negative'}, got {v!r}", field=name)
    return v


def _terms(deductible, limit, sublimits, agg_deductible, agg_limit, share) -> _Terms:
    subs = dict(sublimits or {})
    for k in subs:
        if k not in PERILS:
            raise InputError(f"unknown peril {k!r} in sub-limits; choose from {list(PERILS)}", field="sublimits")
        subs[k] = check_amount(f"sublimits.{k}", subs[k], allow_inf=True, positive=True)
    share = float(share)
    if not (0.0 < share <= 1.0):
        raise InputError(f"insurer's share must be in (0, 1], got {share!r}", field="share")
    return _Terms(check_amount("deductible", deductible), check_amount("limit", limit, allow_inf=True, positive=True),
                  subs, check_amount("agg_deductible", agg_deductible),
                  check_amount("agg_limit", agg_limit, allow_inf=True, positive=True), share)


def _as_perils(perils: Peril | Sequence[Peril]) -> tuple[Peril, ...]:
    if isinstance(perils, Peril):
        return (perils,)
    out = tuple(perils)
    if not out or not all(isinstance(p, Peril) for p in out):
        raise InputError("give one or more Peril objects", field="perils")
    return out


# --------------------------------------------------------------------------------------------
# Analytic moments
# --------------------------------------------------------------------------------------------
#: Largest grid the engine accepts (FFT or Panjer length; memory about 50 bytes per bucket and peril).
MAX_BUCKETS = 2**24
#: Largest grid the engine escalates to on its own when the moment check fails.
MAX_AUTO_BUCKETS = 2**20
#: Largest Monte Carlo sample (simulated terms): its results hold about 24 bytes per term.
MAX_SIMS = 10_000_000
#: Largest expected number of simulated occurrences (terms x mean count over all perils); bounds time.
MAX_MC_DRAWS = 20_000_000
#: Simulated losses the engine spends on its own Monte Carlo fallback (about a second).
FALLBACK_MC_DRAWS = 10_000_000
#: Largest expected count per peril over the term accepted by the engine.
MAX_FREQUENCY_MEAN = 1e5
#: Monte Carlo draws held in memory at once (a fixed memory budget of about 32 bytes a draw).
MC_CHUNK_DRAWS = 2**21
#: Relative agreement required between closed-form and quadrature layer moments.
CLOSED_FORM_RTOL = 1e-6


def check_limits(perils, method: str, n_buckets: int, n_sims: int) -> None:
    """Refuse, before any work, requests beyond the engine's documented limits.

    Raises
    ------
    PricingRefused
        Naming ``n_buckets``, ``n_sims`` or ``frequency``.
    """
    if n_buckets > MAX_BUCKETS:
        raise PricingRefused(f"at most {MAX_BUCKETS:,} (2^{MAX_BUCKETS.bit_length() - 1}) buckets, got {n_buckets:,}",
                             field="n_buckets")
    total_mean = 0.0
    for p in perils:
        m = float(p.frequency.mean())
        if not math.isfinite(m) or m > MAX_FREQUENCY_MEAN:
            raise PricingRefused(f"mean count {m:.4g} of peril {p.name!r} exceeds the engine's limit "
                                 f"{MAX_FREQUENCY_MEAN:.0e} per term", field="frequency")
        total_mean += m
    if method == "mc":
        if n_sims > MAX_SIMS:
            raise PricingRefused(f"at most {MAX_SIMS:,} simulated terms, got {n_sims:,}", field="n_sims")
        if n_sims * total_mean > MAX_MC_DRAWS:
            raise PricingRefused(
                f"{n_sims:,} terms x {total_mean:.4g} expected occurrences exceeds the Monte Carlo budget of "
                f"{MAX_MC_DRAWS:.0e} simulated losses; lower the number of simulations or use the FFT",
                field="n_sims")


def _layer_moments(severity, d: float, lim: float, verify: bool = True) -> tuple[float, float]:
    """Closed-form layer moments, cross-checked by quadrature (cached for hashable severities)."""
    try:
        return _layer_moments_cached(severity, d, lim, verify)
    except TypeError:  # an unhashable severity
        return _layer_moments_cached.__wrapped__(severity, d, lim, verify)


@register_cache
@functools.lru_cache(maxsize=4096)
def _layer_moments_cached(severity, d: float, lim: float, verify: bool = True) -> tuple[float, float]:
    """Closed-form ``(E[Y], E[Y^2])`` of one layer, cross-checked by quadrature.

    Raises
    ------
    PricingRefused
        When the closed forms and the quadrature disagree (the severity's formulas lose their
        precision for this layer), or the moments are not finite numbers.
    """
    # quadrature warnings are moot here: the two methods are compared just below
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        e1 = float(severity.layer_moment(d, lim, 1))
        finite2 = math.isfinite(lim) or math.isfinite(severity.moment(2))
        e2 = float(severity.layer_moment(d, lim, 2)) if finite2 else math.inf
        if verify:
            try:
                q1, q2 = severity.layer_moments_by_quadrature(d, lim)
            except (ArithmeticError, ValueError):
                q1 = q2 = math.nan
        else:  # bounds and finiteness only (compound_batch, for speed)
            q1, q2 = e1, e2
    bad = (not math.isfinite(e1)) or e1 < 0 or (finite2 and not math.isfinite(e2))
    if math.isfinite(lim):
        bad = bad or e1 > lim * (1 + 1e-12) or (finite2 and e2 > lim * lim * (1 + 1e-12))
    if not bad and math.isfinite(q1):
        bad = _rel(e1, q1) > CLOSED_FORM_RTOL and abs(e1 - q1) > 1e-12 * max(lim if math.isfinite(lim) else 0.0, 1.0)
        if finite2 and math.isfinite(q2) and e2 > 0:
            bad = bad or (_rel(e2, q2) > CLOSED_FORM_RTOL and abs(e2 - q2) > 1e-12 * max(e2, 1.0))
    if bad or not math.isfinite(q1):
        raise PricingRefused(
            f"the layer moments of {severity!r} for {lim:.6g} xs {d:.6g} cannot be computed reliably "
            f"(closed form E[Y] = {e1:.6g}, quadrature {q1:.6g}); check the severity's scale",
            field="severity")
    return e1, e2


def _analytic_moments(perils, terms: _Terms, verify: bool = True) -> tuple[float, float]:
    mean = var = 0.0
    for p in perils:
        lim = terms.peril_limit(p.name)
        e1, e2 = _layer_moments(p.severity, float(terms.deductible), float(lim), verify)
        en, vn = p.frequency.mean(), p.frequency.var()
        mean += en * e1
        var += en * e2 + (vn - en) * e1 * e1 if math.isfinite(e2) else math.inf
    return mean, var


def _moment_check(perils, terms, m_comp, v_comp, mean_rtol, var_rtol, *, mc_n: int | None = None,
                  mc_m4: float | None = None, verify: bool = True,
                  analytic: tuple[float, float] | None = None) -> MomentCheck:
    # ``analytic``: the closed-form (mean, variance) when the caller already has them (compound_batch)
    m_an, v_an = _analytic_moments(perils, terms, verify) if analytic is None else analytic
    note = ""
    finite = math.isfinite(m_comp) and math.isfinite(v_comp) and m_comp >= 0 and v_comp >= 0
    if mc_n is not None:  # Monte Carlo: compare within 4 standard errors
        if not math.isfinite(v_an):
            return MomentCheck(m_an, m_comp, v_an, v_comp, mean_rtol, var_rtol, False,
                               "Monte Carlo cannot be checked: the analytic variance is infinite, so the "
                               "standard error of the mean is undefined")
        se_m = math.sqrt(v_an / mc_n)
        ok = finite and abs(m_comp - m_an) <= 4 * se_m + 1e-12 * abs(m_an)
        if mc_m4 is not None and finite:
            se_v = math.sqrt(max(mc_m4 - v_comp**2, 0.0) / mc_n)
            ok = ok and abs(v_comp - v_an) <= 4 * se_v + 1e-12 * v_an
        note = ("Monte Carlo: agreement within 4 standard errors" if ok else
                "Monte Carlo: the simulated moments are more than 4 standard errors from the analytic ones")
        return MomentCheck(m_an, m_comp, v_an, v_comp, mean_rtol, var_rtol, bool(ok), note)
    ok = finite and _rel(m_comp, m_an) <= mean_rtol
    if math.isfinite(v_an):
        ok = ok and _rel(v_comp, v_an) <= var_rtol
    else:
        note = "analytic variance is infinite: only the mean is checked"
    if not ok:
        note = (note + "; " if note else "") + (
            "computed moments disagree with the analytic ones: increase n_buckets, or the severity "
            "tail is too heavy for the grid")
    return MomentCheck(m_an, m_comp, v_an, v_comp, mean_rtol, var_rtol, bool(ok), note)


# --------------------------------------------------------------------------------------------
# Engine
# --------------------------------------------------------------------------------------------
def _exact_attach_exhaust(perils, terms: _Terms) -> tuple[float | None, float | None]:
    """P(at least one occurrence exceeds the deductible) and P(one uses up its limit)."""
    from underwriting.losses.aggregate.discretisation import severity_top

    p_none = 1.0
    p_no_exhaust = 1.0
    for p in perils:
        lim = terms.peril_limit(p.name)
        p_none *= float(np.real(p.frequency.pgf(float(p.severity.cdf(terms.deductible)))))
        if math.isfinite(lim):
            p_no_exhaust *= float(np.real(p.frequency.pgf(float(p.severity.cdf(terms.deductible + lim) if
                                                                 terms.deductible + lim < severity_top(p.severity) else 1.0))))
    return 1.0 - p_none, 1.0 - p_no_exhaust


def _oep_curve(perils, terms: _Terms, grid: np.ndarray) -> np.ndarray:
    """P(largest single occurrence payment > y) on a grid, before aggregate terms and share."""
    from underwriting.losses.aggregate.discretisation import cacheable_severity

    prod = np.ones_like(grid)
    seen: dict = {}  # perils with one (package) severity and limit share one evaluation of its CDF
    for p in perils:
        lim = terms.peril_limit(p.name)
        key = (p.severity, lim) if cacheable_severity(p.severity) else None
        F = seen.get(key) if key is not None else None
        if F is None:
            F = np.where(grid < lim, np.asarray(p.severity.cdf(terms.deductible + np.minimum(grid, lim)), dtype=float),
                         1.0)
            if key is not None:
                seen[key] = F
        prod *= np.real(p.frequency.pgf(F))
    return 1.0 - prod


def _apply_aggregate_terms(x: np.ndarray, terms: _Terms) -> np.ndarray:
    return terms.share * np.clip(x - terms.agg_deductible, 0.0, terms.agg_limit)




def _grid_atoms(perils, terms: _Terms, x: np.ndarray) -> np.ndarray:
    """Exact point masses of the occurrence aggregate ``S`` at the grid points ``x`` (0 elsewhere).

    ``S`` has an atom where every occurrence pays nothing or exactly its full occurrence payment
    ``c_j`` (the limit or sub-limit, or the largest possible loss above the deductible when that is
    lower, e.g. an exposure cap). With ``p0_j = P(X_j <= d)`` and ``pf_j = P(X_j >= d + c_j)``, the
    measure of "every occurrence of every peril pays 0 or its ``c_j``" is the compound of the
    defective two-point measures ``p0_j δ_0 + pf_j δ_{c_j}``: ``prod_j P_j(p0_j + pf_j t_i)``, a power
    series in one variable ``t_i`` per distinct full payment ``c_i``. Its coefficient of
    ``t_1^{m_1} t_2^{m_2} ...`` is the atom at ``sum_i m_i c_i``; the coefficients are read off by a
    multi-dimensional real FFT of twice the needed length in each variable (no wrap-around within
    the grid), and coefficients of equal sums add up. A sum that is not a grid point is left out (its
    mass stays in the grid's continuous part), as are atoms a severity has strictly inside the layer
    (a custody-tier cap below the limit). The atom at 0 is the exact ``prod_j P_j(p0_j)``.

    Returns
    -------
    numpy.ndarray
        Probabilities aligned with ``x``.
    """
    from scipy import fft as sfft

    from underwriting.losses.aggregate.discretisation import _occurrence_cap

    d = terms.deductible
    parts = []
    for p in perils:
        c, truncated = _occurrence_cap(p.severity, d, terms.peril_limit(p.name))
        with np.errstate(all="ignore"):
            p0 = min(max(float(p.severity.cdf(d)), 0.0), 1.0)
            pf = 0.0
            if c > 0 and truncated == 0.0:  # a real full payment (not the grid's cut of an unlimited tail)
                pf = min(max(float(p.severity.sf(np.nextafter(d + c, -np.inf))), 0.0), 1.0 - p0)
        parts.append((p.frequency, p0, pf, c))
    out = np.zeros(x.size)
    p_zero = 1.0
    for freq, p0, _, _ in parts:
        p_zero *= float(np.real(freq.pgf(p0)))
    out[0] = p_zero if x[0] == 0 else 0.0
    top = float(x[-1]) if x.size else 0.0
    distinct: list[float] = []
    for _, _, pf, c in parts:
        if pf > 0 and c <= top * (1 + 1e-12) and not any(abs(c - u) <= 1e-12 * u for u in distinct):
            distinct.append(c)
    if not distinct or x.size < 2:
        return out
    m_max = [int(math.floor(top / u * (1 + 1e-12))) for u in distinct]
    shape = [1 << int(2 * (m + 1) - 1).bit_length() for m in m_max]
    if math.prod(shape) > 2**22:  # pragma: no cover - more atoms than any grid holds: only the zero atom
        return out
    # the transform of a two-point measure p0 δ_0 + pf δ_(unit step of axis i) is p0 + pf ω_i^k along that axis
    # (ω_i = exp(-2πi/N_i); the last axis halved as in rfftn) and constant along the others: each peril's log-pgf
    # is taken on that one axis and broadcast, so only the sum, one exp and one inverse transform are full-size
    axes = [np.exp(-2j * np.pi * np.arange(m if j < len(shape) - 1 else m // 2 + 1) / m)
            for j, m in enumerate(shape)]
    acc = np.zeros([m if j < len(shape) - 1 else m // 2 + 1 for j, m in enumerate(shape)], dtype=complex)
    for freq, p0, pf, c in parts:
        i = next((i for i, u in enumerate(distinct) if abs(c - u) <= 1e-12 * u), None) if pf > 0 else None
        if i is None:  # no full payment on the grid: the constant p0 (a full payment beyond the grid never shows)
            acc += freq.log_pgf(complex(p0))
            continue
        z = freq.log_pgf(p0 + pf * axes[i])
        acc += z.reshape([-1 if j == i else 1 for j in range(len(shape))])
    coef = sfft.irfftn(np.exp(acc), s=shape)[tuple(slice(0, m + 1) for m in m_max)]
    coef = np.where(coef > 1e-15 * max(float(np.max(coef)), 1e-300), coef, 0.0)
    # the amount sum_i m_i c_i of every coefficient
    pos = sum(u * np.arange(m + 1).reshape([-1 if j == i else 1 for j in range(len(m_max))])
              for i, (u, m) in enumerate(zip(distinct, m_max, strict=True)))
    pos, coef = np.broadcast_to(pos, coef.shape).ravel(), coef.ravel()
    keep = (pos > 0) & (coef > 0) & (pos <= top * (1 + 1e-12))
    pos, coef = pos[keep], coef[keep]
    tol = max(1e-9 * float(np.min(np.diff(x[: min(x.size, 3)]))), 1e-12 * top)
    k = np.minimum(np.searchsorted(x, pos - tol), x.size - 1)
    hit = np.abs(x[k] - pos) <= tol
    np.add.at(out, k[hit], coef[hit])
    return out
