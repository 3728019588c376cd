"""Aggregate (compound) loss distributions: FFT, Panjer recursion and Monte Carlo.

The insurer's loss over the term is

.. math:: L = s \\cdot \\min\\big((S - D_a)_+,\\ L_a\\big), \\qquad
          S = \\sum_j \\sum_{i=1}^{N_j} \\min\\big((X_{ij} - d)_+,\\ l_j\\big)

for perils ``j`` with counts :math:`N_j` and severities :math:`X_{ij}`, a per-occurrence
deductible ``d`` and limit ``l_j`` (the policy limit, or the peril's sub-limit when lower),
an aggregate deductible :math:`D_a`, an aggregate limit :math:`L_a` and the insurer's share
``s``.

Three methods compute the distribution of ``S`` (and so of ``L``):

``fft``
    The per-occurrence layer payment is discretised on a grid of bucket size ``h`` by mass
    dispersal (each interval's probability is split between its two end points so the mean is
    kept exactly), transformed with a real FFT, the count's generating function applied, and
    transformed back. The bucket is chosen automatically from a Chernoff bound on the
    aggregate's upper quantile and is snapped so the occurrence limit is a grid point.
``panjer``
    The (a, b, 0) recursion on the same discretised severity: an independent cross-check.
``mc``
    Monte Carlo with a seeded numpy Generator, with standard errors.

After every build the computed mean and variance of ``S`` are compared with their analytic
values (:class:`MomentCheck`). :func:`compound_batch` prices many single-peril models in
one vectorised pass (a stacked 2-D FFT).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import fft as sfft
from scipy import special

from underwriting.errors import InputError
from underwriting.losses.frequency import Frequency, Poisson
from underwriting.losses.severity import Severity

__all__ = [
    "PERILS",
    "Peril",
    "MomentCheck",
    "AggregateResult",
    "BatchResult",
    "compound",
    "compound_batch",
    "discretize_layer",
    "DEFAULT_RETURN_PERIODS",
]

#: Named perils of an exchange policy (sub-limits are keyed by these names).
PERILS: tuple[str, ...] = ("hot_wallet_theft", "cold_wallet_theft", "third_party_vendor", "insider",
                           "social_engineering")

#: Return periods (years) reported on EP curves.
DEFAULT_RETURN_PERIODS: tuple[float, ...] = (2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000)

METHODS = ("fft", "panjer", "mc")


@dataclass(frozen=True)
class Peril:
    """One source of losses: its own count and severity.

    Parameters
    ----------
    name : str
        Peril name (see :data:`PERILS`; ``"all"`` for a model that does not split perils).
    frequency : Frequency
        Number of events over the policy term.
    severity : Severity
        Size of one event's loss (currency units), already mapped to the exchange's exposure.
    """

    name: str
    frequency: Frequency
    severity: Severity

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise InputError("peril name must be a non-empty string", field="peril")
        if not isinstance(self.frequency, Frequency):
            raise InputError(f"frequency must be a Frequency, got {type(self.frequency).__name__}",
                             field=f"{self.name}.frequency")
        if not isinstance(self.severity, Severity):
            raise InputError(f"severity must be a Severity, got {type(self.severity).__name__}",
                             field=f"{self.name}.severity")


@dataclass(frozen=True)
class MomentCheck:
    """Computed vs analytic moments of the occurrence-layer aggregate ``S``.

    ``bool(check)`` is ``check.ok``. The variance check is skipped (``var_rel_err = nan``) when
    the analytic variance is infinite.
    """

    mean_analytic: float
    mean_computed: float
    var_analytic: float
    var_computed: float
    mean_rtol: float
    var_rtol: float
    ok: bool
    note: str = ""

    @property
    def mean_rel_err(self) -> float:
        """Relative error of the computed mean."""
        return _rel(self.mean_computed, self.mean_analytic)

    @property
    def var_rel_err(self) -> float:
        """Relative error of the computed variance (nan if the analytic one is infinite)."""
        if not math.isfinite(self.var_analytic):
            return math.nan
        return _rel(self.var_computed, self.var_analytic)

    def __bool__(self) -> bool:
        return bool(self.ok)

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form (JSON-ready; infinities become None)."""
        d = {k: _finite_or_none(getattr(self, k)) for k in
             ("mean_analytic", "mean_computed", "var_analytic", "var_computed", "mean_rtol", "var_rtol")}
        d.update(mean_rel_err=_finite_or_none(self.mean_rel_err), var_rel_err=_finite_or_none(self.var_rel_err),
                 ok=bool(self.ok), note=self.note)
        return d


def _rel(a: float, b: float) -> float:
    if b == 0:
        return abs(a)
    return abs(a - b) / abs(b)


def _finite_or_none(v: Any) -> Any:
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


# --------------------------------------------------------------------------------------------
# Discrete distribution statistics (shared by all methods)
# --------------------------------------------------------------------------------------------
def _var_index(cdf: np.ndarray, p: float) -> int:
    # first index with F >= p (tolerant to rounding in the cumulative sum)
    idx = int(np.searchsorted(cdf, p - 1e-13, side="left"))
    return min(idx, cdf.size - 1)


def _tvar(values: np.ndarray, probs: np.ndarray, cdf: np.ndarray, p: float) -> float:
    k = _var_index(cdf, p)
    v = values[k]
    upper = float(np.dot(values[k + 1:], probs[k + 1:]))
    return (upper + v * (cdf[k] - p)) / (1.0 - p)


@dataclass(frozen=True)
class AggregateResult:
    """Distribution of the insurer's loss over the term, with diagnostics (immutable).

    Attributes
    ----------
    method : {"fft", "panjer", "mc"}
        How the distribution was computed.
    values, probs : numpy.ndarray
        Support points (currency units, non-decreasing) and their probabilities.
    moment_check : MomentCheck
        Computed vs analytic mean and variance of the occurrence-layer aggregate ``S``
        (truthy when they agree within tolerance).
    prob_attach : float
        Probability that the policy pays anything over the term.
    prob_exhaust : float
        Probability that the aggregate limit is used up (without an aggregate limit: that at
        least one occurrence uses up its occurrence limit).
    occurrence_mean : float
        Analytic expected ``S`` (before aggregate terms and share).
    bucket : float or None
        Bucket size ``h`` in currency units (``None`` for Monte Carlo).
    n_sims : int or None
        Number of simulated terms (Monte Carlo only).
    seed : int or None
        Seed of the Monte Carlo Generator.
    diagnostics : dict
        Grid length, range, Chernoff bound on aliasing, truncated severity mass, etc.
    """

    method: str
    values: np.ndarray = field(repr=False)
    probs: np.ndarray = field(repr=False)
    moment_check: MomentCheck
    prob_attach: float
    prob_exhaust: float
    occurrence_mean: float
    bucket: float | None = None
    n_sims: int | None = None
    seed: int | None = None
    diagnostics: Mapping[str, Any] = field(default_factory=dict, repr=False)
    _oep: tuple[np.ndarray, np.ndarray] | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        for a in (self.values, self.probs):
            a.setflags(write=False)
        cdf = np.cumsum(self.probs)
        # survival from the right (accurate far in the tail, unlike 1 - cdf)
        tail = np.concatenate((np.cumsum(self.probs[::-1])[::-1][1:], [0.0]))
        for a in (cdf, tail):
            a.setflags(write=False)
        object.__setattr__(self, "_cdf", cdf)
        object.__setattr__(self, "_sf", tail)

    # --- moments -----------------------------------------------------------------------------
    @property
    def mean(self) -> float:
        """Expected loss over the term (currency units)."""
        return float(np.dot(self.values, self.probs))

    @property
    def variance(self) -> float:
        """Variance of the loss (currency^2)."""
        m = self.mean
        return float(np.dot((self.values - m) ** 2, self.probs))

    @property
    def std(self) -> float:
        """Standard deviation of the loss (currency units)."""
        return math.sqrt(self.variance)

    @property
    def se_mean(self) -> float:
        """Standard error of :attr:`mean` (Monte Carlo only; 0 for FFT/Panjer)."""
        if self.method != "mc":
            return 0.0
        return self.std / math.sqrt(self.n_sims)

    # --- tail measures -----------------------------------------------------------------------
    def value_at_risk(self, p: float) -> float:
        """VaR: smallest loss ``x`` with :math:`P(L \\le x) \\ge p` (currency units)."""
        p = _level(p)
        return float(self.values[_var_index(self._cdf, p)])

    quantile = value_at_risk

    def tvar(self, p: float) -> float:
        """TVaR (expected shortfall): mean of the worst ``1 - p`` of outcomes (currency units)."""
        p = _level(p)
        return float(_tvar(self.values, self.probs, self._cdf, p))

    def se_tvar(self, p: float, n_batches: int = 20) -> float:
        """Batch-means standard error of :meth:`tvar` (Monte Carlo only; 0 otherwise)."""
        if self.method != "mc":
            return 0.0
        samples = np.asarray(self.diagnostics["samples_in_order"])
        parts = np.array_split(samples, n_batches)
        ests = []
        for part in parts:
            v = np.sort(part)
            pr = np.full(v.size, 1.0 / v.size)
            ests.append(_tvar(v, pr, np.cumsum(pr), p))
        return float(np.std(ests, ddof=1) / math.sqrt(n_batches))

    def cdf(self, x: Any) -> Any:
        """:math:`P(L \\le x)` of the computed (discrete) distribution."""
        out = 1.0 - np.asarray(self.sf(x))
        return out if out.ndim else float(out)

    def sf(self, x: Any, smooth: bool = False) -> Any:
        """Survival function :math:`P(L > x)`.

        Parameters
        ----------
        x : float or array
            Loss amounts (currency units).
        smooth : bool
            FFT/Panjer only. ``False`` gives the survival function of the discrete
            distribution (a step function). ``True`` estimates the continuous model's survival
            function: at each grid point above zero half of the point's own mass is counted
            (the mass-dispersal grid spreads each interval over its two end points), with
            linear interpolation between grid points; the error is then of order ``h^2``
            instead of ``h``.
        """
        xa = np.asarray(x, dtype=float)
        idx = np.searchsorted(self.values, xa, side="right")  # number of support points <= x
        out = np.where(idx > 0, self._sf[np.maximum(idx - 1, 0)], 1.0)
        if smooth and self.method != "mc" and self.bucket:
            v = self.values
            s_mid = self._sf + 0.5 * self.probs
            k = np.clip(idx - 1, 1, v.size - 2)
            interior = (idx - 1 >= 1) & (idx - 1 <= v.size - 2) & (v[k + 1] > v[k]) & (v[k] > v[k - 1])
            w = np.where(interior, (xa - v[k]) / np.where(interior, v[k + 1] - v[k], 1.0), 0.0)
            out = np.where(interior, (1 - w) * s_mid[k] + w * s_mid[k + 1], out)
        out = np.clip(out, 0.0, 1.0)
        return out if out.ndim else float(out)

    def ep_curve(self, return_periods: Sequence[float] = DEFAULT_RETURN_PERIODS) -> list[dict[str, float]]:
        """Aggregate exceedance-probability (AEP) points: loss exceeded once per ``T`` terms.

        Each point has ``return_period`` (terms), ``probability`` = 1/T and ``loss``
        (currency units, the VaR at 1 - 1/T), plus ``oep_loss`` (largest single occurrence
        payment, before aggregate terms) when available.
        """
        pts = []
        for t in return_periods:
            t = float(t)
            if not t > 1:
                raise InputError(f"return periods must be > 1, got {t!r}", field="return_periods")
            row = {"return_period": t, "probability": 1.0 / t, "loss": self.value_at_risk(1.0 - 1.0 / t)}
            if self._oep is not None:
                grid, sf = self._oep
                k = int(np.searchsorted(-sf, -1.0 / t, side="right"))  # first grid point with sf <= 1/T
                row["oep_loss"] = float(grid[min(k, grid.size - 1)])
            pts.append(row)
        return pts

    def summary(self, level: float = 0.995) -> dict[str, Any]:
        """Plain-data summary at ``level``."""
        return {"method": self.method, "mean": self.mean, "std": self.std,
                "var": self.value_at_risk(level), "tvar": self.tvar(level), "level": level,
                "prob_attach": self.prob_attach, "prob_exhaust": self.prob_exhaust,
                "moment_check": bool(self.moment_check), "moment_detail": self.moment_check.to_dict(),
                "bucket": self.bucket, "n_sims": self.n_sims, "seed": self.seed,
                "se_mean": self.se_mean}


def _level(p: float) -> float:
    p = float(p)
    if not (0.0 < p < 1.0):
        raise InputError(f"level must be strictly between 0 and 1, got {p!r}", field="level")
    return p


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
# Discretisation
# --------------------------------------------------------------------------------------------
#: Ground-up probability beyond which an unlimited severity is truncated for discretisation.
TAIL_EPS = 1e-12


def _occurrence_cap(sev: Severity, d: float, limit: float) -> tuple[float, float]:
    """Largest per-occurrence payment to discretise and the probability mass truncated."""
    top = float(sev.ppf(1.0))
    cap = min(limit, top - d)
    truncated = 0.0
    if not math.isfinite(cap):
        cap = float(sev.ppf(1.0 - TAIL_EPS)) - d
        truncated = float(sev.sf(d + cap))
    return max(cap, 0.0), truncated


def discretize_layer(severity: Severity, deductible: float, limit: float, h: float, n: int,
                     method: str = "dispersal") -> np.ndarray:
    """Probabilities of the per-occurrence layer payment on the grid ``0, h, 2h, ...``.

    The payment is :math:`Y = \\min((X - d)_+, l)` (``limit = inf`` means unlimited; it is
    then truncated at the :math:`1 - 10^{-12}` quantile with the excess mass at the cut).

    Parameters
    ----------
    severity : Severity
    deductible, limit : float
        Per-occurrence deductible and limit (currency units).
    h : float
        Bucket size (currency units).
    n : int
        Length of the returned array.
    method : {"dispersal", "round"}
        ``dispersal`` (default) splits the probability of each interval ``(kh, (k+1)h]``
        between its end points so that the local mean is kept; the discrete mean equals
        :math:`E[Y]` exactly, using only limited expected values. ``round`` puts the mass of
        ``((k-1/2)h, (k+1/2)h]`` at ``kh``.
    """
    d = float(deductible)
    cap, _ = _occurrence_cap(severity, d, limit)
    out = np.zeros(n)
    if cap <= 0:
        out[0] = 1.0
        return out
    kmax = min(n - 1, int(math.ceil(cap / h - 1e-9)))
    if method == "dispersal":
        y = d + np.minimum(h * np.arange(kmax + 2), cap)
        if math.isfinite(severity.mean()):
            # D_k = ∫_{kh}^{(k+1)h} S_Y = π(d + kh) - π(d + (k+1)h): differences of the
            # stop-loss transform keep their relative accuracy for remote layers
            D = -np.diff(np.asarray(severity.stop_loss(y), dtype=float))
        else:
            D = np.diff(np.asarray(severity.lev(y), dtype=float))
        f = np.empty(kmax + 1)
        f[0] = 1.0 - D[0] / h
        f[1:] = (D[:-1] - D[1:]) / h
    elif method == "round":
        y = h * (np.arange(kmax + 1) + 0.5)
        F = np.where(y < cap, np.asarray(severity.cdf(d + np.minimum(y, cap)), dtype=float), 1.0)
        f = np.diff(np.concatenate(([0.0], F)))
        f[0] = F[0]
        f[-1] += 1.0 - F[-1]
    else:
        raise InputError(f"unknown discretisation {method!r}; use 'dispersal' or 'round'", field="discretization")
    np.maximum(f, 0.0, out=f)
    out[: f.size] = f
    return out


def _log_mgf_disc(f: np.ndarray, h: float, t: np.ndarray) -> np.ndarray:
    """log E[exp(t Y)] for a discrete Y on grid h (vectorised over t)."""
    nz = np.flatnonzero(f > 0)
    logf = np.log(f[nz])
    x = nz * h
    return special.logsumexp(logf[None, :] + t[:, None] * x[None, :], axis=1)


def _chernoff_range(perils: Sequence[Peril], caps: Sequence[float], d: float, eps: float,
                    n_prov: int = 256) -> float:
    """Upper bound R with P(S > R) <= eps by Chernoff, on a coarse discretisation."""
    cmax = max(caps)
    if cmax <= 0:
        return 0.0
    h0 = cmax / n_prov
    s = np.logspace(-4, 3, 40)
    t = s / cmax
    total = np.zeros_like(t)
    for peril, c in zip(perils, caps, strict=True):
        if c <= 0:
            continue
        f = discretize_layer(peril.severity, d, c, h0, n_prov + 2)
        lm = _log_mgf_disc(f, h0, t)
        with np.errstate(over="ignore", invalid="ignore"):
            total = total + peril.frequency.log_pgf_real(np.exp(lm))
    with np.errstate(invalid="ignore"):
        x = (total - math.log(eps)) / t
    x = x[np.isfinite(x)]
    if x.size == 0:  # pragma: no cover - pgf diverges everywhere: fall back on a wide range
        return cmax * 1000
    return float(max(x.min(), cmax))


def _choose_bucket(R: float, caps: Sequence[float], n: int, padding: int) -> float:
    usable = n / (2 ** padding)
    h = R / usable
    finite = [c for c in caps if c > 0]
    if not finite or h <= 0:
        return 1.0
    cref = max(finite)
    m = math.floor(cref / h)
    if m >= 1:
        h = cref / m  # the largest occurrence limit sits on the grid; h >= R/usable
    return h


# --------------------------------------------------------------------------------------------
# Analytic moments
# --------------------------------------------------------------------------------------------
def _analytic_moments(perils, terms: _Terms) -> tuple[float, float]:
    mean = var = 0.0
    for p in perils:
        lim = terms.peril_limit(p.name)
        e1 = p.severity.layer_moment(terms.deductible, lim, 1)
        e2 = p.severity.layer_moment(terms.deductible, lim, 2) if math.isfinite(lim) or math.isfinite(p.severity.moment(2)) else math.inf
        en, vn = p.frequency.mean(), p.frequency.var()
        mean += en * e1
        var += en * e2 + (vn - en) * e1 * e1 if math.isfinite(e2) else math.inf
    return mean, var


def _moment_check(perils, terms, m_comp, v_comp, mean_rtol, var_rtol, *, mc_n: int | None = None,
                  mc_m4: float | None = None) -> MomentCheck:
    m_an, v_an = _analytic_moments(perils, terms)
    note = ""
    if mc_n is not None:  # Monte Carlo: compare within 4 standard errors
        se_m = math.sqrt(v_comp / mc_n) if v_comp > 0 else 0.0
        ok = abs(m_comp - m_an) <= 4 * se_m + 1e-12 * abs(m_an)
        if math.isfinite(v_an) and mc_m4 is not None:
            se_v = math.sqrt(max(mc_m4 - v_comp**2, 0.0) / mc_n)
            ok = ok and abs(v_comp - v_an) <= 4 * se_v + 1e-12 * v_an
        note = "Monte Carlo: agreement within 4 standard errors"
        return MomentCheck(m_an, m_comp, v_an, v_comp, mean_rtol, var_rtol, bool(ok), note)
    ok = _rel(m_comp, m_an) <= mean_rtol
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
    p_none = 1.0
    p_no_exhaust = 1.0
    for p in perils:
        lim = terms.peril_limit(p.name)
        p_none *= float(np.real(p.frequency.pgf(float(p.severity.cdf(terms.deductible)))))
        if math.isfinite(lim):
            p_no_exhaust *= float(np.real(p.frequency.pgf(float(p.severity.cdf(terms.deductible + lim) if
                                                                 terms.deductible + lim < float(p.severity.ppf(1.0)) else 1.0))))
    return 1.0 - p_none, 1.0 - p_no_exhaust


def _oep_curve(perils, terms: _Terms, grid: np.ndarray) -> np.ndarray:
    """P(largest single occurrence payment > y) on a grid, before aggregate terms and share."""
    prod = np.ones_like(grid)
    for p in perils:
        lim = terms.peril_limit(p.name)
        F = np.where(grid < lim, np.asarray(p.severity.cdf(terms.deductible + np.minimum(grid, lim)), dtype=float), 1.0)
        prod *= np.real(p.frequency.pgf(F))
    return 1.0 - prod


def _apply_aggregate_terms(x: np.ndarray, terms: _Terms) -> np.ndarray:
    return terms.share * np.clip(x - terms.agg_deductible, 0.0, terms.agg_limit)


def compound(perils: Peril | Sequence[Peril], *, deductible: float = 0.0, limit: float = math.inf,
             sublimits: Mapping[str, float] | None = None, agg_deductible: float = 0.0,
             agg_limit: float = math.inf, share: float = 1.0, method: str = "fft",
             n_buckets: int = 2**16, padding: int = 1, discretization: str = "dispersal",
             n_sims: int = 200_000, random_state: int | np.random.Generator | None = None,
             eps: float = 1e-9, mean_rtol: float = 1e-6, var_rtol: float = 1e-3) -> AggregateResult:
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

    Returns
    -------
    AggregateResult
    """
    perils = _as_perils(perils)
    terms = _terms(deductible, limit, sublimits, agg_deductible, agg_limit, share)
    if method not in METHODS:
        raise InputError(f"unknown method {method!r}; choose from {list(METHODS)}", field="method")
    n = int(n_buckets)
    if n < 64:
        raise InputError(f"n_buckets must be at least 64, got {n_buckets!r}", field="n_buckets")
    if method == "mc":
        return _compound_mc(perils, terms, int(n_sims), random_state, mean_rtol, var_rtol)

    d = terms.deductible
    caps_trunc = [_occurrence_cap(p.severity, d, terms.peril_limit(p.name)) for p in perils]
    caps = [c for c, _ in caps_trunc]
    truncated = max(t for _, t in caps_trunc)
    pad = padding if method == "fft" else 0
    R = _chernoff_range(perils, caps, d, eps)
    h = _choose_bucket(R, caps, n, pad) if R > 0 else 1.0
    fs = [discretize_layer(p.severity, d, c, h, n, discretization) for p, c in zip(perils, caps, strict=True)]

    if method == "fft":
        g = _fft_aggregate(perils, fs)
    else:
        g = _panjer_aggregate(perils, fs)
    x = h * np.arange(n)
    m_s = float(np.dot(x, g))
    v_s = float(np.dot((x - m_s) ** 2, g))
    check = _moment_check(perils, terms, m_s, v_s, mean_rtol, var_rtol)

    values = _apply_aggregate_terms(x, terms)
    p_occ_attach, p_occ_exhaust = _exact_attach_exhaust(perils, terms)
    if terms.agg_deductible == 0:
        p_attach = p_occ_attach
    else:
        p_attach = float(g[x > terms.agg_deductible + 1e-9 * h].sum())
    if math.isfinite(terms.agg_limit):
        p_exhaust = float(g[x >= terms.agg_deductible + terms.agg_limit - 1e-9 * h].sum())
    else:
        p_exhaust = p_occ_exhaust
    oep_grid = x[: min(n, int(math.ceil(max(caps) / h)) + 2)] if max(caps) > 0 else x[:2]
    oep = (terms.share * oep_grid, _oep_curve(perils, terms, oep_grid))
    diag = {"n_buckets": n, "padding": pad, "range": R, "eps": eps, "truncated_severity_mass": truncated,
            "discretization": discretization, "occurrence_caps": caps,
            "mass_beyond_range": float(g[x > R].sum())}
    return AggregateResult(method, values, g.copy(), check, float(p_attach), float(p_exhaust),
                           check.mean_analytic, bucket=h, diagnostics=diag, _oep=oep)


def _fft_aggregate(perils, fs) -> np.ndarray:
    n = fs[0].size
    acc = None
    for p, f in zip(perils, fs, strict=True):
        phi = sfft.rfft(f, workers=-1)
        z = p.frequency.pgf(phi)
        acc = z if acc is None else acc * z
    g = sfft.irfft(acc, n=n, workers=-1)
    return _clean(g)


def _clean(g: np.ndarray) -> np.ndarray:
    # FFT round-off leaves ~1e-17 noise, sometimes negative; zero it and keep the total mass
    g = np.where(np.abs(g) < 1e-16 * max(1.0, float(np.max(np.abs(g)))), 0.0, g)
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
        g[k] = (a * np.dot(f1[:K], rev) + (b / k) * np.dot(jf1[:K], rev)) / denom
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


def _compound_mc(perils, terms: _Terms, n_sims: int, random_state, mean_rtol, var_rtol) -> AggregateResult:
    if n_sims < 100:
        raise InputError(f"n_sims must be at least 100, got {n_sims}", field="n_sims")
    rng = np.random.default_rng(random_state)
    seed = random_state if isinstance(random_state, int) else None
    S = np.zeros(n_sims)
    max_occ = np.zeros(n_sims)
    exhausted = np.zeros(n_sims, dtype=bool)
    d = terms.deductible
    for p in perils:
        lim = terms.peril_limit(p.name)
        N = p.frequency.rvs(n_sims, rng)
        total = int(N.sum())
        if total == 0:
            continue
        X = p.severity.rvs(total, rng)
        Y = np.clip(X - d, 0.0, lim)
        owner = np.repeat(np.arange(n_sims), N)
        S += np.bincount(owner, weights=Y, minlength=n_sims)
        np.maximum.at(max_occ, owner, Y)
        if math.isfinite(lim):
            exhausted |= np.bincount(owner, weights=(Y >= lim).astype(float), minlength=n_sims) > 0
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

    def __len__(self) -> int:
        return int(self.mean.size)

    def to_records(self) -> list[dict[str, Any]]:
        """One plain-data dict per model."""
        keys = ("mean", "std", "var", "tvar", "prob_attach", "prob_exhaust", "bucket", "mean_analytic",
                "mean_rel_err", "var_rel_err", "moment_check")
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
                   n_buckets: int = 2**16, padding: int = 1, eps: float = 1e-9, chunk: int = 32,
                   mean_rtol: float = 1e-6, var_rtol: float = 1e-3) -> BatchResult:
    """Price many single-peril models/layers with one stacked FFT per chunk of rows.

    Row ``i`` is the compound of ``frequencies[i]`` and ``severities[i]`` through the layer
    ``limits[i]`` xs ``deductibles[i]`` with aggregate terms and share; each row gets its own
    bucket size. Term arrays broadcast from scalars.

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
    k = np.arange(n, dtype=float)
    out = {key: np.empty(B) for key in ("mean", "std", "var", "tvar", "prob_attach", "prob_exhaust", "bucket",
                                          "mean_analytic", "mean_rel_err", "var_rel_err")}
    ok = np.empty(B, dtype=bool)
    for start in range(0, B, chunk):
        rows = range(start, min(B, start + chunk))
        F = np.empty((len(rows), n))
        H = np.empty(len(rows))
        infos = []
        for r, i in enumerate(rows):
            terms = _terms(ded[i], lim[i], None, ad[i], al[i], sh[i])
            peril = Peril("all", frequencies[i], severities[i])
            cap, _ = _occurrence_cap(peril.severity, terms.deductible, terms.limit)
            R = _chernoff_range([peril], [cap], terms.deductible, eps)
            h = _choose_bucket(R, [cap], n, padding) if R > 0 else 1.0
            F[r] = discretize_layer(peril.severity, terms.deductible, cap, h, n)
            H[r] = h
            infos.append((peril, terms))
        phi = sfft.rfft(F, axis=1, workers=-1)
        Z = np.empty_like(phi)
        for r, (peril, _) in enumerate(infos):
            Z[r] = peril.frequency.pgf(phi[r])
        G = sfft.irfft(Z, n=n, axis=1, workers=-1)
        np.maximum(G, 0.0, out=G)  # round-off noise (~1e-17) can be slightly negative
        idx = np.fromiter(rows, dtype=int)
        # moments of S on the grid via matrix-vector products (k and k^2 weights)
        s1 = G @ k
        s2 = G @ (k * k)
        m_s = H * s1
        v_s = np.maximum(H * H * (s2 - s1 * s1), 0.0)
        # the automatic range holds all but eps of the mass in the first n / 2**padding buckets,
        # so the level-quantile lies there (level < 1 - eps); the rest enters through the mean
        usable = n if level > 1 - 100 * eps else min(n, (n >> padding) + 2)
        C = np.cumsum(G[:, :usable], axis=1)
        kstar = np.minimum(np.argmax(C >= level - 1e-13, axis=1), usable - 1)
        mean = np.empty(len(rows))
        std = np.empty(len(rows))
        var = np.empty(len(rows))
        tvar = np.empty(len(rows))
        for r in range(len(rows)):
            terms = infos[r][1]
            ks = int(kstar[r])
            if terms.share == 1.0 and terms.agg_deductible == 0.0 and math.isinf(terms.agg_limit):
                mean[r], std[r] = m_s[r], math.sqrt(v_s[r])
                v = H[r] * ks
                below = H[r] * float(np.dot(k[: ks + 1], G[r, : ks + 1]))
            else:
                Lr = terms.share * np.clip(H[r] * k - terms.agg_deductible, 0.0, terms.agg_limit)
                mean[r] = float(np.dot(Lr, G[r]))
                std[r] = math.sqrt(max(float(np.dot((Lr - mean[r]) ** 2, G[r])), 0.0))
                v = Lr[ks]
                below = float(np.dot(Lr[: ks + 1], G[r, : ks + 1]))
            var[r] = v
            tvar[r] = (mean[r] - below + v * (C[r, ks] - level)) / (1.0 - level)
        X = None
        for r, i in enumerate(rows):
            peril, terms = infos[r]
            chk = _moment_check([peril], terms, float(m_s[r]), float(v_s[r]), mean_rtol, var_rtol)
            pa, pe = _exact_attach_exhaust([peril], terms)
            x = H[r] * k if (terms.agg_deductible > 0 or math.isfinite(terms.agg_limit)) else X
            if terms.agg_deductible > 0:
                pa = float(G[r, x > terms.agg_deductible + 1e-9 * H[r]].sum())
            if math.isfinite(terms.agg_limit):
                pe = float(G[r, x >= terms.agg_deductible + terms.agg_limit - 1e-9 * H[r]].sum())
            out["prob_attach"][i], out["prob_exhaust"][i] = pa, pe
            out["mean_analytic"][i] = chk.mean_analytic
            out["mean_rel_err"][i] = chk.mean_rel_err
            out["var_rel_err"][i] = chk.var_rel_err
            ok[i] = chk.ok
        out["mean"][idx], out["std"][idx], out["var"][idx], out["tvar"][idx] = mean, std, var, tvar
        out["bucket"][idx] = H
    for a in out.values():
        a.setflags(write=False)
    ok.setflags(write=False)
    return BatchResult(out["mean"], out["std"], out["var"], out["tvar"], level, out["prob_attach"],
                       out["prob_exhaust"], out["bucket"], out["mean_analytic"], out["mean_rel_err"],
                       out["var_rel_err"], ok)
