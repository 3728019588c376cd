"""Results of the aggregate engines: :class:`Peril`, :class:`MomentCheck`, :class:`AggregateResult`."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from underwriting.domain.vocabulary import PERILS
from underwriting.errors import InputError
from underwriting.losses._dot import fixed_order_dot as _fixed_order_dot
from underwriting.losses.counts import Frequency
from underwriting.losses.severity import Severity

__all__ = ["PERILS", "DEFAULT_RETURN_PERIODS", "METHODS", "Peril", "MomentCheck", "AggregateResult",
           "PricingRefused", "DiscretisationError"]


class PricingRefused(InputError):
    """The engine cannot produce a distribution its own checks accept, so it gives none.

    Raised after escalation (a finer grid, then Monte Carlo with its standard error) when the
    computed moments still disagree with the analytic ones, or when a request exceeds the
    engine's documented limits. A subclass of :class:`~underwriting.errors.InputError`: the CLI
    exits 2 with the reason.
    """


class DiscretisationError(ArithmeticError):
    """A discretised severity is not a probability distribution (internal; triggers escalation)."""

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
    upper = float(_fixed_order_dot(values[k + 1:], probs[k + 1:]))
    return (upper + v * (cdf[k] - p)) / (1.0 - p)


def _mass_from_above(probs: np.ndarray, atoms: np.ndarray | None) -> np.ndarray:
    """The part of each grid point's continuous mass that stands for losses above the point.

    Mass dispersal puts on a grid point ``x_k`` its atom (if any) and continuous mass from the two
    intervals around it, about ``h f(x_k-)/2`` from below and ``h f(x_k+)/2`` from above. Where the
    density is continuous that is half the continuous mass each way. At an atom (an exhausted
    limit) the density jumps (just above ``l`` it is that of ``l`` plus a small loss, just below it
    that of one loss near the limit), so the continuous mass is split in proportion to the
    one-sided densities, each extrapolated from the two neighbours on its side,
    ``h f(x_k±) / 2 + h^2 f'/6 ≈ 5/6 g_{k±1} - 1/3 g_{k±2}`` (the nearest neighbours alone when that
    is not positive). At 0 all of it lies above.
    """
    if atoms is None:
        return 0.5 * probs
    a = np.minimum(atoms, probs)
    cont = probs - a
    out = 0.5 * cont
    if cont.size:
        out[0] = cont[0]
    n = probs.size
    for k in np.flatnonzero(a[1:] > 0) + 1:
        if k + 1 >= n:
            continue
        up1, dn1 = cont[k + 1], cont[k - 1]
        up2 = cont[k + 2] if k + 2 < n else up1
        dn2 = cont[k - 2] if k >= 2 else dn1
        ea, eb = 5 / 6 * up1 - 1 / 3 * up2, 5 / 6 * dn1 - 1 / 3 * dn2
        if not (ea > 0 and eb > 0):
            ea, eb = up1, dn1
        if ea + eb > 0:
            out[k] = cont[k] * ea / (ea + eb)
    return out


def _refined_var(values: np.ndarray, probs: np.ndarray, cdf: np.ndarray, p: float,
                 atoms: np.ndarray | None = None, above: np.ndarray | None = None) -> float:
    """VaR of a mass-dispersal grid distribution, interpolated between the continuous model's CDF at
    neighbouring grid points (see :meth:`AggregateResult.value_at_risk`).

    ``atoms`` (optional, aligned with ``values``) holds the exact point masses of the model at grid
    points (no loss, exhausted limits), and ``above`` the part of each point's continuous mass that
    lies above it (:func:`_mass_from_above`). The model's CDF at a grid point is then
    ``cdf - above`` and just below it ``cdf - above - atom``; a level between the two is the atom's
    own quantile, kept exactly. Without atoms both are the mid-CDF ``cdf - probs/2``.
    """
    k = _var_index(cdf, p)
    v = values
    if v.size < 4:
        return float(v[k])
    if atoms is None:
        right = left = cdf - 0.5 * probs
    else:
        a = np.minimum(atoms, probs)
        right = cdf - (_mass_from_above(probs, atoms) if above is None else above)
        left = right - a
    j = int(np.searchsorted(right, p, side="right")) - 1
    if atoms is not None and j + 1 < v.size and atoms[j + 1] > 0 and left[j + 1] < p:
        return float(v[j + 1])  # F(x-) < p <= F(x): the quantile is the atom itself
    if 1 <= j < v.size - 2 and v[j + 1] > v[j] > v[j - 1] and v[j + 2] > v[j + 1]:
        lo, hi = right[j], left[j + 1]
        if hi > lo and lo <= p <= hi:
            return float(v[j] + (p - lo) / (hi - lo) * (v[j + 1] - v[j]))
    return float(v[k])


def _prob_at_least(x: np.ndarray, g: np.ndarray, atoms: np.ndarray, a: float, tol: float,
                   strict: bool = False) -> float:
    """:math:`P(S \\ge a)` (``strict``: :math:`P(S > a)`) of the model from its mass-dispersal grid
    ``(x, g)`` and exact atoms.

    The grid's mass at or above ``a`` overstates it by the continuous mass dispersed onto the grid
    point ``a`` from below: the model's probability is the mass above the point, plus the point's
    atom, plus the part of its continuous mass that lies above it (:func:`_mass_from_above`).
    Between grid points the model's survival is interpolated linearly (as
    :meth:`AggregateResult.sf`). Tested to lie between the bounds from rounding every loss down
    and up to a grid.
    """
    k = int(np.searchsorted(x, a - tol, side="left"))
    if k >= x.size:
        return 0.0
    if k == 0:
        return 1.0
    above_mass = _mass_from_above(g, atoms)
    at = min(float(atoms[k]), float(g[k]))
    beyond = float(g[k + 1:].sum())
    s_below_k = beyond + at + float(above_mass[k])  # P(S >= x_k)
    if abs(x[k] - a) <= tol:
        return s_below_k - at if strict else s_below_k
    # a strictly between x_{k-1} and x_k: from P(S > x_{k-1}) to P(S >= x_k)
    s_at_prev = beyond + float(g[k]) + float(above_mass[k - 1])
    w = (a - float(x[k - 1])) / float(x[k] - x[k - 1])
    return (1 - w) * s_at_prev + w * s_below_k


def _tvar_at(values: np.ndarray, probs: np.ndarray, v: float, p: float) -> float:
    """:math:`v + E[(L - v)_+]/(1-p)`: TVaR at level ``p`` given its VaR ``v`` (never below ``v``)."""
    k = int(np.searchsorted(values, v, side="right"))  # values are non-decreasing
    # einsum rather than np.dot: no BLAS threads (whose start-up dominates on a busy machine)
    excess = float(np.einsum("i,i->", values[k:], probs[k:])) - v * float(probs[k:].sum())
    return v + max(excess, 0.0) / (1.0 - p)


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
    atoms : numpy.ndarray or None
        Grid methods: the model's exact point masses at the grid points (aligned with ``probs``; 0
        where the model has none): no loss, and sums of exhausted occurrence limits (see
        :func:`~underwriting.losses.aggregate.terms._grid_atoms`). ``None`` for Monte Carlo.
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
    exact_moments: tuple[float, float] | None = field(default=None, repr=False)
    atoms: np.ndarray | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        for a in (self.values, self.probs):
            a.setflags(write=False)
        if self.atoms is not None:
            if self.atoms.shape != self.probs.shape:
                raise ValueError("atoms must be aligned with probs")
            self.atoms.setflags(write=False)
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
        """Expected loss over the term (currency units).

        The closed form when the engine has one (no aggregate deductible or limit) and the grid
        passed its check against it; otherwise the mean of the computed distribution.
        """
        if self.exact_moments is not None:
            return float(self.exact_moments[0])
        return self._grid_moments()[0]

    @property
    def variance(self) -> float:
        """Variance of the loss (currency^2): closed form when available and finite (see :attr:`mean`)."""
        if self.exact_moments is not None and math.isfinite(self.exact_moments[1]):
            return float(self.exact_moments[1])
        return self._grid_moments()[1]

    def _grid_moments(self) -> tuple[float, float]:
        """Mean and variance of the computed distribution, computed once (the arrays are read-only;
        two dot products over the grid are most of a warm quote's pricing otherwise)."""
        def compute() -> tuple[float, float]:
            m = float(_fixed_order_dot(self.values, self.probs))
            return m, float(_fixed_order_dot((self.values - m) ** 2, self.probs))

        return self.memo(("grid_moments",), compute)

    def memo(self, key: Any, compute: Any) -> Any:
        """``compute()``, computed once per result and ``key``: for statistics that depend only on the
        (read-only) grid, such as moments or a distortion premium. ``key`` must name everything else
        the value depends on."""
        d = self.__dict__.get("_memo")
        if d is None:
            d = {}
            object.__setattr__(self, "_memo", d)
        if key not in d:
            d[key] = compute()
        return d[key]

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
        """VaR: the loss ``x`` with :math:`P(L \\le x) = p` (currency units).

        Monte Carlo: the smallest sample ``x`` with empirical :math:`P(L \\le x) \\ge p`. Grid
        methods: each grid point's mass stands for the interval around it (mass dispersal
        spreads an interval over its two end points), so the continuous CDF at a grid point is
        the cumulative mass less half the point's own mass; VaR interpolates linearly between
        those points, an error of order ``h^2`` instead of one bucket ``h``. Atoms (no loss,
        exhausted limits) and the ends of the grid keep the discrete quantile.
        """
        p = _level(p)
        if self.method == "mc" or not self.bucket:
            return float(self.values[_var_index(self._cdf, p)])
        return self.memo(("var", p), lambda: _refined_var(self.values, self.probs, self._cdf, p, self.atoms,
                                                          self._above()))

    quantile = value_at_risk

    def _above(self) -> np.ndarray | None:
        """Continuous mass of each grid point that lies above it (see :func:`_mass_from_above`)."""
        if self.atoms is None:
            return None
        return self.memo(("above",), lambda: _mass_from_above(self.probs, self.atoms))

    def tvar(self, p: float) -> float:
        """TVaR (expected shortfall): :math:`VaR_p + E[(L - VaR_p)_+]/(1-p)` (currency units).

        For a discrete distribution and its discrete quantile this is the mean of the worst
        ``1 - p`` of outcomes; with the refined VaR of the grid methods the stop-loss term is
        the distribution's own (piecewise linear between grid points). Never below VaR.
        """
        p = _level(p)
        return _tvar_at(self.values, self.probs, self.value_at_risk(p), p)

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
            instead of ``h``. Of a grid point that holds an exact atom (:attr:`atoms`) only the
            continuous part is halved: ``P(L > x)`` at the point excludes the atom, and just
            below it includes it in full. An amount within round-off (1e-12 of the grid's top)
            of a grid point is read as that point.
        """
        xa = np.asarray(x, dtype=float)
        if not (smooth and self.method != "mc" and self.bucket):
            idx = np.searchsorted(self.values, xa, side="right")  # number of support points <= x
            out = np.where(idx > 0, self._sf[np.maximum(idx - 1, 0)], 1.0)
        else:
            # an amount within round-off of a grid point is that grid point (an atom sits there)
            tol = 1e-12 * max(abs(float(self.values[-1])), float(self.bucket))
            idx = np.searchsorted(self.values, xa + tol, side="right")
            out = np.where(idx > 0, self._sf[np.maximum(idx - 1, 0)], 1.0)
            v = self.values
            # the model's survival at a grid point counts the continuous mass above it (half of it,
            # except at an atom); just below an atom it also counts the atom
            if self.atoms is None:
                s_at = s_below = self._sf + 0.5 * self.probs
            else:
                s_at = self._sf + self._above()
                s_below = s_at + np.minimum(self.atoms, self.probs)
            k = np.clip(idx - 1, 1, v.size - 2)
            interior = (idx - 1 >= 1) & (idx - 1 <= v.size - 2) & (v[k + 1] > v[k]) & (v[k] > v[k - 1])
            w = np.where(interior, (xa - v[k]) / np.where(interior, v[k + 1] - v[k], 1.0), 0.0)
            w = np.clip(w, 0.0, 1.0)
            out = np.where(interior, np.where(w > 0, (1 - w) * s_at[k] + w * s_below[k + 1], s_at[k]), out)
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

