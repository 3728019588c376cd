"""Severity (single-loss size) distributions, their fitting and the exposure cap.

Every distribution is a small immutable object holding its parameters, with the scipy-like
methods ``cdf``, ``sf``, ``pdf``, ``ppf`` and ``rvs`` plus the actuarial ones the pricing
engine needs: ``lev(u)`` (limited expected value :math:`E[X \\wedge u]`), ``limited_moment``,
``moment``/``moments``, ``tvar(p)`` and ``layer_mean``/``layer_moment`` for a per-occurrence
layer "``limit`` xs ``deductible``". Amounts are in currency units (USD unless stated).

Families
--------
``lognormal``  :class:`Lognormal` (mu, sigma of log-amount)
``lomax``      :class:`Lomax` (Pareto II: alpha shape, theta scale)
``weibull``    :class:`Weibull` (shape, scale)
``spliced``    :class:`SplicedLognormalGPD` (lognormal body below ``threshold``,
               generalised Pareto tail above it with probability ``tail_prob``)

Derived severities: :class:`CappedSeverity` (``min(X, cap)``, the exposure cap) and
:class:`MixtureSeverity` (e.g. a mix of custody tiers).

Fitting: :func:`fit_severity` maximises the likelihood of amounts reported only above a
threshold (left truncation), returns a :class:`SeverityFit` with AIC/BIC, observed-information
covariance, KS/Anderson-Darling statistics, QQ data and an optional parametric bootstrap;
:func:`select_severity` ranks families by AIC.
"""

from __future__ import annotations

import math
import warnings
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, ClassVar

import numpy as np
from scipy import integrate, optimize, special, stats

from underwriting.errors import InputError

ArrayLike = Any  # float or numpy array

__all__ = [
    "Severity",
    "Lognormal",
    "Lomax",
    "Weibull",
    "SplicedLognormalGPD",
    "CappedSeverity",
    "MixtureSeverity",
    "FAMILIES",
    "make_severity",
    "cap_at_exposure",
    "exposure_severity",
    "exposure_pit",
    "fit_severity",
    "select_severity",
    "SeverityFit",
    "GoodnessOfFit",
    "BootstrapResult",
    "SeveritySelection",
    "SeverityEstimator",
]


def _rng(random_state: int | np.random.Generator | None) -> np.random.Generator:
    """A numpy Generator from a seed or an existing Generator (never the global state)."""
    if isinstance(random_state, np.random.RandomState):
        raise InputError("pass an int seed or a numpy Generator, not a legacy RandomState",
                         field="random_state")
    return np.random.default_rng(random_state)


def _check_positive(name: str, value: float) -> float:
    v = float(value)
    if not math.isfinite(v) or v <= 0:
        raise InputError(f"must be a positive finite number, got {value!r}", field=name)
    return v


def _check_finite(name: str, value: float) -> float:
    v = float(value)
    if not math.isfinite(v):
        raise InputError(f"must be a finite number, got {value!r}", field=name)
    return v


def _check_level(p: float, name: str = "level") -> float:
    p = float(p)
    if not (0.0 < p < 1.0):
        raise InputError(f"must be strictly between 0 and 1, got {p!r}", field=name)
    return p


# --------------------------------------------------------------------------------------------
# Base class
# --------------------------------------------------------------------------------------------
class Severity(ABC):
    """Distribution of the size of one loss, in currency units.

    Subclasses implement ``cdf``, ``sf``, ``pdf``, ``ppf``, ``params`` and, where a closed
    form exists, ``limited_moment`` and ``moment``. Everything else is derived here.
    """

    family: ClassVar[str] = "abstract"

    # --- distribution functions ------------------------------------------------------------
    @abstractmethod
    def cdf(self, x: ArrayLike) -> ArrayLike:
        """P(X <= x)."""

    @abstractmethod
    def sf(self, x: ArrayLike) -> ArrayLike:
        """P(X > x)."""

    @abstractmethod
    def pdf(self, x: ArrayLike) -> ArrayLike:
        """Density of the continuous part at ``x`` (per currency unit)."""

    @abstractmethod
    def ppf(self, q: ArrayLike) -> ArrayLike:
        """Quantile (value at risk) at probability ``q``, in currency units."""

    @property
    @abstractmethod
    def params(self) -> dict[str, float]:
        """Parameters as a plain mapping (for JSON and the CLI)."""

    def logpdf(self, x: ArrayLike) -> ArrayLike:
        """Natural log of :meth:`pdf`."""
        with np.errstate(divide="ignore"):
            return np.log(self.pdf(x))

    def logsf(self, x: ArrayLike) -> ArrayLike:
        """Natural log of :meth:`sf`."""
        with np.errstate(divide="ignore"):
            return np.log(self.sf(x))

    def rvs(self, size: int | tuple[int, ...] = 1,
            random_state: int | np.random.Generator | None = None) -> np.ndarray:
        """Draw loss amounts (currency units) by inversion, from a seeded numpy Generator."""
        rng = _rng(random_state)
        u = rng.random(size)
        return np.asarray(self.ppf(u), dtype=float)

    # --- moments -----------------------------------------------------------------------------
    def limited_moment(self, u: ArrayLike, k: int = 1) -> ArrayLike:
        """:math:`E[(X \\wedge u)^k]` in currency^k; numerical integration unless overridden.

        Uses :math:`E[(X\\wedge u)^k] = k \\int_0^u x^{k-1} S(x)\\,dx` with adaptive quadrature
        split at quantiles of ``X``.
        """
        u_arr = np.asarray(u, dtype=float)
        out = np.empty(u_arr.shape)
        flat_u, flat_o = u_arr.reshape(-1), out.reshape(-1)
        knots = np.asarray(self.ppf(np.array([0.1, 0.5, 0.9, 0.99, 0.999, 0.9999])), dtype=float)
        for i, ui in enumerate(flat_u):
            if ui <= 0:
                flat_o[i] = 0.0
                continue
            if not math.isfinite(ui):
                flat_o[i] = self.moment(k)
                continue
            pts = [0.0] + [p for p in knots if 0 < p < ui] + [ui]
            total = 0.0
            for a, b in zip(pts[:-1], pts[1:], strict=False):
                val, _ = integrate.quad(lambda x: k * x ** (k - 1) * float(self.sf(x)), a, b,
                                        epsabs=0.0, epsrel=1e-12, limit=200)
                total += val
            flat_o[i] = total
        return out if out.ndim else float(out)

    def lev(self, u: ArrayLike) -> ArrayLike:
        """Limited expected value :math:`E[X \\wedge u]` (currency units)."""
        return self.limited_moment(u, 1)

    @abstractmethod
    def moment(self, k: int = 1) -> float:
        """Raw moment :math:`E[X^k]` (``inf`` when it does not exist)."""

    def moments(self, n: int = 2) -> tuple[float, ...]:
        """Raw moments :math:`E[X], ..., E[X^n]`."""
        return tuple(self.moment(k) for k in range(1, n + 1))

    def mean(self) -> float:
        """Expected loss size :math:`E[X]` (currency units)."""
        return self.moment(1)

    def var(self) -> float:
        """Variance (currency^2); ``inf`` when the second moment does not exist."""
        m1, m2 = self.moment(1), self.moment(2)
        return m2 - m1 * m1 if math.isfinite(m2) else math.inf

    def std(self) -> float:
        """Standard deviation (currency units)."""
        return math.sqrt(self.var())

    def tvar(self, p: float) -> float:
        """Tail value at risk :math:`E[X \\mid X > VaR_p]` (currency units).

        Uses :math:`TVaR_p = VaR_p + E[(X - VaR_p)_+]/(1-p)`, valid for any distribution.
        """
        p = _check_level(p, "p")
        v = float(self.ppf(p))
        return v + (self.mean() - float(self.lev(v))) / (1.0 - p)

    # --- stop-loss transforms -------------------------------------------------------------
    def stop_loss(self, a: ArrayLike) -> ArrayLike:
        """Stop-loss transform :math:`\\pi(a) = E[(X-a)_+]` (currency units).

        Families override this with a tail formula that keeps its relative accuracy far in
        the tail (where ``mean - lev(a)`` would be lost to cancellation).
        """
        a_arr = np.asarray(a, dtype=float)
        out = np.where(np.isinf(a_arr), 0.0, self.mean() - np.asarray(self.lev(a_arr)))
        return out if out.ndim else float(out)

    def stop_loss2(self, a: ArrayLike) -> ArrayLike:
        """Second-order stop-loss :math:`E[((X-a)_+)^2]` (currency^2)."""
        a_arr = np.asarray(a, dtype=float)
        m2 = self.moment(2)
        with np.errstate(invalid="ignore"):
            out = np.where(np.isinf(a_arr), 0.0,
                           m2 - np.asarray(self.limited_moment(a_arr, 2)) - 2 * a_arr * np.asarray(self.stop_loss(a_arr)))
        return out if out.ndim else float(out)

    # --- per-occurrence layer ------------------------------------------------------------
    def layer_mean(self, deductible: ArrayLike = 0.0, limit: ArrayLike = math.inf) -> ArrayLike:
        """Expected payment per loss of the layer ``limit`` xs ``deductible``.

        The layer pays :math:`\\min((X-d)_+, l)`; its mean is :math:`LEV(d+l) - LEV(d) =
        \\pi(d) - \\pi(d+l)`, computed from the stop-loss transform when the mean is finite
        (accurate for remote layers too).
        """
        d = np.asarray(deductible, dtype=float)
        top = d + np.asarray(limit, dtype=float)
        if math.isfinite(self.mean()):
            out = np.asarray(self.stop_loss(d)) - np.asarray(self.stop_loss(top))
        else:
            out = np.asarray(self.lev(top)) - np.asarray(self.lev(d))
        return out if out.ndim else float(out)

    def layer_moment(self, deductible: float = 0.0, limit: float = math.inf, k: int = 1) -> float:
        """:math:`E[Y^k]` for the per-loss layer payment :math:`Y = \\min((X-d)_+, l)`, k = 1, 2.

        ``k = 2`` uses :math:`\\pi_2(d) - \\pi_2(d+l) - 2l\\,\\pi(d+l)` when the second moment
        is finite, else :math:`E[(X\\wedge(d+l))^2] - E[(X\\wedge d)^2] - 2d\\,E[Y]`.
        """
        d, lim = float(deductible), float(limit)
        top = d + lim
        if k == 1:
            return float(self.layer_mean(d, lim))
        if k == 2:
            if math.isfinite(self.moment(2)):
                tail = 0.0 if math.isinf(top) else float(self.stop_loss2(top)) + 2.0 * lim * float(self.stop_loss(top))
                return float(self.stop_loss2(d)) - tail
            if math.isinf(top):
                return math.inf
            m2_top = float(self.limited_moment(top, 2))
            m2_d = float(self.limited_moment(d, 2)) if d > 0 else 0.0
            m1 = float(self.lev(top)) - (float(self.lev(d)) if d > 0 else 0.0)
            return m2_top - m2_d - 2.0 * d * m1
        raise ValueError("layer_moment supports k = 1 or 2")

    def __repr__(self) -> str:
        inner = ", ".join(f"{k}={v:.6g}" for k, v in self.params.items())
        return f"{type(self).__name__}({inner})"


class _ScipyBacked:
    """``cdf``, ``sf``, ``pdf`` and ``ppf`` from the frozen scipy distribution ``self._dist``."""

    def cdf(self, x):
        return self._dist.cdf(x)

    def sf(self, x):
        return self._dist.sf(x)

    def pdf(self, x):
        return self._dist.pdf(x)

    def ppf(self, q):
        return self._dist.ppf(q)


# --------------------------------------------------------------------------------------------
# Lognormal
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True, repr=False)
class Lognormal(Severity):
    """Lognormal severity: ``ln X ~ Normal(mu, sigma^2)``.

    Parameters
    ----------
    mu : float
        Mean of the log-amount (``exp(mu)`` is the median loss, in currency units).
    sigma : float
        Standard deviation of the log-amount (> 0).
    """

    mu: float
    sigma: float
    family: ClassVar[str] = "lognormal"

    def __post_init__(self) -> None:
        object.__setattr__(self, "mu", _check_finite("mu", self.mu))
        object.__setattr__(self, "sigma", _check_positive("sigma", self.sigma))

    @property
    def params(self) -> dict[str, float]:
        return {"mu": self.mu, "sigma": self.sigma}

    @cached_property
    def _dist(self):
        return stats.lognorm(s=self.sigma, scale=math.exp(self.mu))

    def _z(self, x):
        x = np.asarray(x, dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            return (np.log(np.maximum(x, 0.0)) - self.mu) / self.sigma

    def cdf(self, x):
        out = special.ndtr(self._z(x))
        return out if np.ndim(out) else float(out)

    def sf(self, x):
        out = special.ndtr(-self._z(x))
        return out if np.ndim(out) else float(out)

    def pdf(self, x):
        out = np.exp(self.logpdf(x))
        return out if np.ndim(out) else float(out)

    def ppf(self, q):
        q = np.asarray(q, dtype=float)
        with np.errstate(over="ignore", invalid="ignore"):
            out = np.where((q >= 0) & (q <= 1), np.exp(self.mu + self.sigma * special.ndtri(q)), np.nan)
        return out if out.ndim else float(out)

    def logpdf(self, x):
        x = np.asarray(x, dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            lx = np.log(x)
            z = (lx - self.mu) / self.sigma
            out = np.where(x > 0, -lx - math.log(self.sigma) - 0.5 * math.log(2 * math.pi) - 0.5 * z * z, -np.inf)
        return out if out.ndim else float(out)

    def logsf(self, x):
        x = np.asarray(x, dtype=float)
        with np.errstate(divide="ignore"):
            out = np.where(x > 0, special.log_ndtr(-(np.log(np.where(x > 0, x, 1.0)) - self.mu) / self.sigma), 0.0)
        return out if out.ndim else float(out)

    def rvs(self, size=1, random_state=None):
        rng = _rng(random_state)
        return np.exp(self.mu + self.sigma * rng.standard_normal(size))

    def moment(self, k: int = 1) -> float:
        return math.exp(k * self.mu + 0.5 * k * k * self.sigma**2)

    def limited_moment(self, u, k: int = 1):
        """Closed form :math:`e^{k\\mu+k^2\\sigma^2/2}\\Phi(\\frac{\\ln u-\\mu-k\\sigma^2}{\\sigma}) + u^k(1-\\Phi(\\frac{\\ln u-\\mu}{\\sigma}))`."""
        u_arr = np.asarray(u, dtype=float)
        pos = u_arr > 0
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            lu = np.where(pos, np.log(np.where(pos, u_arr, 1.0)), -np.inf)
            z = (lu - self.mu) / self.sigma
            part = self.moment(k) * special.ndtr(z - k * self.sigma)
            tail = np.where(np.isinf(u_arr), 0.0, np.where(pos, u_arr, 0.0) ** k * special.ndtr(-z))
        out = np.where(pos, part + tail, 0.0)
        return out if out.ndim else float(out)

    def _upper_moment(self, a, k: int):
        """:math:`E[X^k; X > a] = e^{k\\mu+k^2\\sigma^2/2}\\Phi(k\\sigma - z_a)`."""
        return self.moment(k) * special.ndtr(k * self.sigma - self._z(a))

    def stop_loss(self, a):
        a_arr = np.asarray(a, dtype=float)
        with np.errstate(invalid="ignore"):
            out = np.where(np.isinf(a_arr), 0.0,
                           self._upper_moment(a_arr, 1) - np.where(np.isinf(a_arr), 0.0, a_arr) * self.sf(a_arr))
        out = np.maximum(out, 0.0)
        return out if out.ndim else float(out)

    def stop_loss2(self, a):
        a_arr = np.asarray(a, dtype=float)
        af = np.where(np.isinf(a_arr), 0.0, a_arr)
        with np.errstate(invalid="ignore"):
            out = np.where(np.isinf(a_arr), 0.0, self._upper_moment(a_arr, 2) - 2 * af * self._upper_moment(a_arr, 1)
                           + af * af * self.sf(a_arr))
        out = np.maximum(out, 0.0)
        return out if out.ndim else float(out)

    def tvar(self, p: float) -> float:
        """Closed form :math:`e^{\\mu+\\sigma^2/2}\\,\\Phi(\\sigma - z_p)/(1-p)`."""
        p = _check_level(p, "p")
        return self.mean() * float(special.ndtr(self.sigma - special.ndtri(p))) / (1.0 - p)


# --------------------------------------------------------------------------------------------
# Lomax (Pareto II)
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True, repr=False)
class Lomax(_ScipyBacked, Severity):
    """Lomax (Pareto type II) severity: :math:`S(x) = (\\theta/(x+\\theta))^{\\alpha}`.

    Parameters
    ----------
    alpha : float
        Tail index (> 0); the k-th moment exists only for ``k < alpha``.
    theta : float
        Scale in currency units (> 0).
    """

    alpha: float
    theta: float
    family: ClassVar[str] = "lomax"

    def __post_init__(self) -> None:
        object.__setattr__(self, "alpha", _check_positive("alpha", self.alpha))
        object.__setattr__(self, "theta", _check_positive("theta", self.theta))

    @property
    def params(self) -> dict[str, float]:
        return {"alpha": self.alpha, "theta": self.theta}

    @cached_property
    def _dist(self):
        return stats.lomax(c=self.alpha, scale=self.theta)

    def logpdf(self, x):
        x = np.asarray(x, dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            out = np.where(x >= 0, math.log(self.alpha / self.theta) - (self.alpha + 1) * np.log1p(np.maximum(x, 0) / self.theta), -np.inf)
        return out if out.ndim else float(out)

    def logsf(self, x):
        x = np.asarray(x, dtype=float)
        out = -self.alpha * np.log1p(np.maximum(x, 0.0) / self.theta)
        return out if out.ndim else float(out)

    def moment(self, k: int = 1) -> float:
        if k >= self.alpha:
            return math.inf
        return self.theta**k * math.gamma(k + 1) * math.gamma(self.alpha - k) / math.gamma(self.alpha)

    def stop_loss(self, a):
        """Excess over ``a`` is Lomax(alpha, a + theta): :math:`\\pi(a) = S(a)(a+\\theta)/(\\alpha-1)`."""
        if self.alpha <= 1:
            return super().stop_loss(a)
        a_arr = np.maximum(np.asarray(a, dtype=float), 0.0)
        with np.errstate(invalid="ignore", over="ignore"):
            out = np.where(np.isinf(a_arr), 0.0, np.exp(self.logsf(a_arr)) * (a_arr + self.theta) / (self.alpha - 1))
        return out if out.ndim else float(out)

    def stop_loss2(self, a):
        if self.alpha <= 2:
            return super().stop_loss2(a)
        a_arr = np.maximum(np.asarray(a, dtype=float), 0.0)
        with np.errstate(invalid="ignore", over="ignore"):
            out = np.where(np.isinf(a_arr), 0.0, np.exp(self.logsf(a_arr)) * 2 * (a_arr + self.theta) ** 2
                           / ((self.alpha - 1) * (self.alpha - 2)))
        return out if out.ndim else float(out)

    def limited_moment(self, u, k: int = 1):
        if k != 1:
            return super().limited_moment(u, k)
        u_arr = np.maximum(np.asarray(u, dtype=float), 0.0)
        a, t = self.alpha, self.theta
        with np.errstate(over="ignore", invalid="ignore"):
            lg = np.log1p(u_arr / t)
            if abs(a - 1.0) < 1e-12:
                out = t * lg
            else:
                out = t / (a - 1.0) * -np.expm1(-(a - 1.0) * lg)
        return out if out.ndim else float(out)


# --------------------------------------------------------------------------------------------
# Weibull
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True, repr=False)
class Weibull(_ScipyBacked, Severity):
    """Weibull severity: :math:`S(x) = \\exp(-(x/\\lambda)^{\\tau})`.

    Parameters
    ----------
    shape : float
        Shape :math:`\\tau` (> 0); ``shape=1`` is the exponential distribution.
    scale : float
        Scale :math:`\\lambda` in currency units (> 0).
    """

    shape: float
    scale: float
    family: ClassVar[str] = "weibull"

    def __post_init__(self) -> None:
        object.__setattr__(self, "shape", _check_positive("shape", self.shape))
        object.__setattr__(self, "scale", _check_positive("scale", self.scale))

    @property
    def params(self) -> dict[str, float]:
        return {"shape": self.shape, "scale": self.scale}

    @cached_property
    def _dist(self):
        return stats.weibull_min(c=self.shape, scale=self.scale)

    def logpdf(self, x):
        x = np.asarray(x, dtype=float)
        k, lam = self.shape, self.scale
        with np.errstate(divide="ignore", invalid="ignore"):
            y = np.maximum(x, 0.0) / lam
            out = np.where(x > 0, math.log(k / lam) + (k - 1) * np.log(np.where(x > 0, y, 1.0)) - y**k, -np.inf)
        return out if out.ndim else float(out)

    def logsf(self, x):
        x = np.asarray(x, dtype=float)
        out = -((np.maximum(x, 0.0) / self.scale) ** self.shape)
        return out if out.ndim else float(out)

    def moment(self, k: int = 1) -> float:
        return self.scale**k * math.gamma(1.0 + k / self.shape)

    def _upper_moment(self, a, k: int):
        y = (np.maximum(np.asarray(a, dtype=float), 0.0) / self.scale) ** self.shape
        return self.moment(k) * special.gammaincc(1.0 + k / self.shape, y)

    def stop_loss(self, a):
        a_arr = np.maximum(np.asarray(a, dtype=float), 0.0)
        af = np.where(np.isinf(a_arr), 0.0, a_arr)
        with np.errstate(invalid="ignore", over="ignore"):
            out = np.where(np.isinf(a_arr), 0.0, self._upper_moment(a_arr, 1) - af * self.sf(a_arr))
        out = np.maximum(out, 0.0)
        return out if out.ndim else float(out)

    def stop_loss2(self, a):
        a_arr = np.maximum(np.asarray(a, dtype=float), 0.0)
        af = np.where(np.isinf(a_arr), 0.0, a_arr)
        with np.errstate(invalid="ignore", over="ignore"):
            out = np.where(np.isinf(a_arr), 0.0, self._upper_moment(a_arr, 2) - 2 * af * self._upper_moment(a_arr, 1)
                           + af * af * self.sf(a_arr))
        out = np.maximum(out, 0.0)
        return out if out.ndim else float(out)

    def limited_moment(self, u, k: int = 1):
        """Closed form :math:`\\lambda^k\\Gamma(1+k/\\tau)P(1+k/\\tau,(u/\\lambda)^\\tau) + u^k e^{-(u/\\lambda)^\\tau}`."""
        u_arr = np.maximum(np.asarray(u, dtype=float), 0.0)
        s = 1.0 + k / self.shape
        with np.errstate(over="ignore", invalid="ignore"):
            y = (u_arr / self.scale) ** self.shape
            tail = np.where(np.isinf(u_arr), 0.0, np.where(np.isinf(u_arr), 0.0, u_arr) ** k * np.exp(-y))
            out = self.moment(k) * special.gammainc(s, y) + tail
        return out if out.ndim else float(out)


# --------------------------------------------------------------------------------------------
# Spliced lognormal body + generalised Pareto tail
# --------------------------------------------------------------------------------------------
def _gpd_lev(v, xi: float, beta: float):
    """E[Z ∧ v] for Z ~ GPD(xi, beta) (v >= 0, array)."""
    v = np.maximum(np.asarray(v, dtype=float), 0.0)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        if abs(xi) < 1e-12:
            return beta * -np.expm1(-v / beta)
        if xi < 0:
            v = np.minimum(v, -beta / xi)  # bounded support
        lg = np.log1p(xi * v / beta)
        if abs(xi - 1.0) < 1e-12:
            return beta * lg
        # beta/(1-xi) * (1 - (1+xi v/beta)^(1-1/xi))
        return beta / (1.0 - xi) * -np.expm1((1.0 - 1.0 / xi) * lg)


@dataclass(frozen=True, repr=False)
class SplicedLognormalGPD(Severity):
    """Spliced severity: lognormal body below ``threshold``, generalised Pareto tail above it.

    .. math:: F(x) = (1-p)\\,F_{LN}(x)/F_{LN}(t) \\quad (x \\le t), \\qquad
              F(x) = 1 - p\\,S_{GPD}(x - t) \\quad (x > t)

    Parameters
    ----------
    mu, sigma : float
        Lognormal body parameters (log scale), truncated to ``(0, threshold]``.
    threshold : float
        Splice point :math:`t` in currency units (> 0).
    xi : float
        GPD shape (tail index; the k-th moment exists for ``xi < 1/k``).
    beta : float
        GPD scale in currency units (> 0).
    tail_prob : float
        :math:`p = P(X > t)`, in (0, 1).
    """

    mu: float
    sigma: float
    threshold: float
    xi: float
    beta: float
    tail_prob: float
    family: ClassVar[str] = "spliced"

    def __post_init__(self) -> None:
        object.__setattr__(self, "mu", _check_finite("mu", self.mu))
        object.__setattr__(self, "sigma", _check_positive("sigma", self.sigma))
        object.__setattr__(self, "threshold", _check_positive("threshold", self.threshold))
        object.__setattr__(self, "xi", _check_finite("xi", self.xi))
        object.__setattr__(self, "beta", _check_positive("beta", self.beta))
        p = float(self.tail_prob)
        if not (0.0 < p < 1.0):
            raise InputError(f"must be strictly between 0 and 1, got {self.tail_prob!r}", field="tail_prob")
        object.__setattr__(self, "tail_prob", p)

    @property
    def params(self) -> dict[str, float]:
        return {"mu": self.mu, "sigma": self.sigma, "threshold": self.threshold, "xi": self.xi,
                "beta": self.beta, "tail_prob": self.tail_prob}

    @cached_property
    def _body(self):
        return stats.lognorm(s=self.sigma, scale=math.exp(self.mu))

    @cached_property
    def _tail(self):
        return stats.genpareto(c=self.xi, scale=self.beta)

    @cached_property
    def _fb(self) -> float:
        return float(special.ndtr((math.log(self.threshold) - self.mu) / self.sigma))

    def _body_cdf(self, x):
        with np.errstate(divide="ignore"):
            return special.ndtr((np.log(np.maximum(x, 0.0)) - self.mu) / self.sigma)

    def _tail_logsf(self, y):
        y = np.maximum(y, 0.0)
        xi, b = self.xi, self.beta
        with np.errstate(divide="ignore", invalid="ignore"):
            if abs(xi) < 1e-12:
                return -y / b
            arg = 1.0 + xi * y / b
            return np.where(arg > 0, -np.log1p(np.where(arg > 0, xi * y / b, 0.0)) / xi, -np.inf)

    def _tail_logpdf(self, y):
        y = np.maximum(y, 0.0)
        xi, b = self.xi, self.beta
        with np.errstate(divide="ignore", invalid="ignore"):
            if abs(xi) < 1e-12:
                return -math.log(b) - y / b
            arg = 1.0 + xi * y / b
            return np.where(arg > 0, -math.log(b) - (1.0 + 1.0 / xi) * np.log1p(np.where(arg > 0, xi * y / b, 0.0)),
                            -np.inf)

    def cdf(self, x):
        x = np.asarray(x, dtype=float)
        t, p = self.threshold, self.tail_prob
        body = (1 - p) * self._body_cdf(np.minimum(x, t)) / self._fb
        out = np.where(x <= t, body, 1.0 - p * np.exp(self._tail_logsf(x - t)))
        return out if out.ndim else float(out)

    def sf(self, x):
        x = np.asarray(x, dtype=float)
        t, p = self.threshold, self.tail_prob
        body = 1.0 - (1 - p) * self._body_cdf(np.minimum(x, t)) / self._fb
        out = np.where(x <= t, body, p * np.exp(self._tail_logsf(x - t)))
        return out if out.ndim else float(out)

    def logsf(self, x):
        x = np.asarray(x, dtype=float)
        t, p = self.threshold, self.tail_prob
        with np.errstate(divide="ignore"):
            body = np.log1p(-(1 - p) * self._body_cdf(np.minimum(x, t)) / self._fb)
        out = np.where(x <= t, body, math.log(p) + self._tail_logsf(x - t))
        return out if out.ndim else float(out)

    def pdf(self, x):
        out = np.exp(self.logpdf(x))
        return out if np.ndim(out) else float(out)

    def logpdf(self, x):
        x = np.asarray(x, dtype=float)
        t, p = self.threshold, self.tail_prob
        body = Lognormal(self.mu, self.sigma).logpdf(np.where(x <= t, x, t))
        out = np.where(x <= t, math.log1p(-p) + body - math.log(self._fb),
                       math.log(p) + self._tail_logpdf(x - t))
        return out if out.ndim else float(out)

    def ppf(self, q):
        q = np.asarray(q, dtype=float)
        t, p = self.threshold, self.tail_prob
        qb = np.clip(q * self._fb / (1 - p), 0.0, self._fb)
        qt = np.clip((q - (1 - p)) / p, 0.0, 1.0)
        out = np.where(q <= 1 - p, self._body.ppf(qb), t + self._tail.ppf(qt))
        return out if out.ndim else float(out)

    def _gpd_moment(self, j: int) -> float:
        if j == 0:
            return 1.0
        if self.xi * j >= 1:
            return math.inf
        return self.beta**j * math.factorial(j) / math.prod(1.0 - i * self.xi for i in range(1, j + 1))

    def moment(self, k: int = 1) -> float:
        t, p = self.threshold, self.tail_prob
        ln = Lognormal(self.mu, self.sigma)
        body = (1 - p) / self._fb * ln.moment(k) * float(special.ndtr((math.log(t) - self.mu) / self.sigma - k * self.sigma))
        tail = sum(math.comb(k, j) * t ** (k - j) * self._gpd_moment(j) for j in range(k + 1))
        return body + p * tail

    def limited_moment(self, u, k: int = 1):
        if k != 1:
            return super().limited_moment(u, k)
        u_arr = np.maximum(np.asarray(u, dtype=float), 0.0)
        t, p = self.threshold, self.tail_prob
        ln = Lognormal(self.mu, self.sigma)
        # E_LN[X; X <= min(u, t)] scaled to the body weight
        um = np.minimum(u_arr, t)
        with np.errstate(divide="ignore"):
            z = (np.log(np.where(um > 0, um, 1.0)) - self.mu) / self.sigma
        partial = np.where(um > 0, ln.mean() * special.ndtr(z - self.sigma), 0.0) * (1 - p) / self._fb
        below = partial + np.where(np.isinf(u_arr), 0.0, np.where(np.isinf(u_arr), 0.0, u_arr)) * self.sf(um)
        above = partial + p * (t + _gpd_lev(u_arr - t, self.xi, self.beta))
        out = np.where(u_arr <= t, below, above)
        return out if out.ndim else float(out)


# --------------------------------------------------------------------------------------------
# Derived severities: cap at exposure, mixtures
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True, repr=False)
class CappedSeverity(Severity):
    """Severity of :math:`\\min(X, c)`: a loss cannot exceed the assets exposed.

    The distribution has an atom of probability :math:`P(X \\ge c)` at the cap; ``pdf`` is the
    density of the continuous part only.

    Parameters
    ----------
    base : Severity
        The ground-up (absolute currency) severity.
    cap : float
        Assets held in the custody tier hit, in the same currency (> 0).
    """

    base: Severity
    cap: float
    family: ClassVar[str] = "capped"

    def __post_init__(self) -> None:
        object.__setattr__(self, "cap", _check_positive("cap", self.cap))

    @property
    def params(self) -> dict[str, float]:
        return {**self.base.params, "cap": self.cap}

    def cdf(self, x):
        x = np.asarray(x, dtype=float)
        out = np.where(x >= self.cap, 1.0, self.base.cdf(np.minimum(x, self.cap)))
        return out if out.ndim else float(out)

    def sf(self, x):
        x = np.asarray(x, dtype=float)
        out = np.where(x >= self.cap, 0.0, self.base.sf(np.minimum(x, self.cap)))
        return out if out.ndim else float(out)

    def pdf(self, x):
        x = np.asarray(x, dtype=float)
        out = np.where(x >= self.cap, 0.0, self.base.pdf(np.minimum(x, self.cap)))
        return out if out.ndim else float(out)

    def ppf(self, q):
        out = np.minimum(self.base.ppf(q), self.cap)
        return out if np.ndim(out) else float(out)

    def rvs(self, size=1, random_state=None):
        return np.minimum(self.base.rvs(size, random_state), self.cap)

    def moment(self, k: int = 1) -> float:
        return float(self.base.limited_moment(self.cap, k))

    def limited_moment(self, u, k: int = 1):
        return self.base.limited_moment(np.minimum(np.asarray(u, dtype=float), self.cap), k)

    def stop_loss(self, a):
        a_arr = np.asarray(a, dtype=float)
        c = self.cap
        below = np.asarray(self.base.stop_loss(np.minimum(a_arr, c))) - float(self.base.stop_loss(c))
        out = np.where(a_arr < c, np.maximum(below, 0.0), 0.0)
        return out if out.ndim else float(out)

    def stop_loss2(self, a):
        a_arr = np.asarray(a, dtype=float)
        c = self.cap
        am = np.minimum(a_arr, c)
        val = (np.asarray(self.base.stop_loss2(am)) - float(self.base.stop_loss2(c))
               - 2 * (c - am) * float(self.base.stop_loss(c)))
        out = np.where(a_arr < c, np.maximum(val, 0.0), 0.0)
        return out if out.ndim else float(out)

    @property
    def atom(self) -> float:
        """Probability mass at the cap, :math:`P(X \\ge c)`."""
        return float(self.base.sf(self.cap))


@dataclass(frozen=True, repr=False)
class MixtureSeverity(Severity):
    """Finite mixture: with probability ``weights[j]`` the loss follows ``components[j]``.

    Used for custody tiers (hot / warm / cold, each capped at its own assets).
    """

    components: tuple[Severity, ...]
    weights: tuple[float, ...]
    family: ClassVar[str] = "mixture"

    def __post_init__(self) -> None:
        comps = tuple(self.components)
        w = np.asarray(self.weights, dtype=float)
        if len(comps) == 0 or len(comps) != w.size:
            raise InputError("need one weight per component and at least one component", field="weights")
        if np.any(~np.isfinite(w)) or np.any(w < 0) or w.sum() <= 0:
            raise InputError("weights must be non-negative and not all zero", field="weights")
        object.__setattr__(self, "components", comps)
        object.__setattr__(self, "weights", tuple(float(v) for v in w / w.sum()))

    @property
    def params(self) -> dict[str, float]:
        out: dict[str, float] = {}
        for j, (c, w) in enumerate(zip(self.components, self.weights, strict=True)):
            out[f"w{j}"] = w
            out.update({f"{k}{j}": v for k, v in c.params.items()})
        return out

    def _mix(self, name: str, x, *extra):
        return sum(w * np.asarray(getattr(c, name)(x, *extra), dtype=float)
                   for c, w in zip(self.components, self.weights, strict=True))

    def cdf(self, x):
        out = self._mix("cdf", x)
        return out if np.ndim(out) else float(out)

    def sf(self, x):
        out = self._mix("sf", x)
        return out if np.ndim(out) else float(out)

    def pdf(self, x):
        out = self._mix("pdf", x)
        return out if np.ndim(out) else float(out)

    def ppf(self, q):
        """Quantile by vectorised bisection between the components' quantiles."""
        q = np.asarray(q, dtype=float)
        qs = np.stack([np.asarray(c.ppf(q), dtype=float) for c in self.components])
        lo, hi = qs.min(axis=0), qs.max(axis=0)
        for _ in range(200):
            mid = 0.5 * (lo + hi)
            below = np.asarray(self.cdf(mid)) < q
            lo, hi = np.where(below, mid, lo), np.where(below, hi, mid)
            if np.all(hi - lo <= 1e-12 * np.maximum(np.abs(hi), 1.0)):
                break
        return hi if hi.ndim else float(hi)

    def rvs(self, size=1, random_state=None):
        rng = _rng(random_state)
        n = int(np.prod(size))
        which = rng.choice(len(self.components), size=n, p=np.asarray(self.weights))
        out = np.empty(n)
        for j, c in enumerate(self.components):
            idx = np.flatnonzero(which == j)
            if idx.size:
                out[idx] = c.rvs(idx.size, rng)
        return out.reshape(size)

    def moment(self, k: int = 1) -> float:
        return float(sum(w * c.moment(k) for c, w in zip(self.components, self.weights, strict=True)))

    def limited_moment(self, u, k: int = 1):
        out = self._mix("limited_moment", u, k)
        return out if np.ndim(out) else float(out)

    def stop_loss(self, a):
        out = self._mix("stop_loss", a)
        return out if np.ndim(out) else float(out)

    def stop_loss2(self, a):
        out = self._mix("stop_loss2", a)
        return out if np.ndim(out) else float(out)


FAMILIES: dict[str, type[Severity]] = {
    "lognormal": Lognormal,
    "lomax": Lomax,
    "pareto2": Lomax,
    "weibull": Weibull,
    "spliced": SplicedLognormalGPD,
}


#: Largest plausible single loss a user-specified severity may reach at its 99.9% quantile (currency units).
MAX_LOSS = 1e30


def make_severity(family: str, **params: float) -> Severity:
    """Build a severity from a family name and its parameters.

    Raises
    ------
    InputError
        Unknown family, unknown or missing parameter, or an invalid value.
    """
    cls = FAMILIES.get(family.strip().lower())
    if cls is None:
        raise InputError(f"unknown severity distribution {family!r}; choose from {sorted(FAMILIES)}",
                         field="severity")
    names = [f for f in cls.__dataclass_fields__ if f != "family"]
    unknown = sorted(set(params) - set(names))
    if unknown:
        raise InputError(f"unknown parameter(s) {unknown} for {cls.family}; expected {names}", field="severity")
    missing = [n for n in names if n not in params]
    if missing:
        raise InputError(f"missing parameter(s) {missing} for {cls.family}; expected {names}", field="severity")
    sev = cls(**params)
    with np.errstate(over="ignore", invalid="ignore"):
        q = float(sev.ppf(0.999))
    if not (math.isfinite(q) and q < MAX_LOSS):
        raise InputError(f"{cls.family} with {params} puts losses beyond {MAX_LOSS:.0e} currency units "
                         f"(99.9% quantile {q:.3g}); check the parameters' scale", field="severity")
    return sev


# --------------------------------------------------------------------------------------------
# Exposure mapping
# --------------------------------------------------------------------------------------------
def cap_at_exposure(severity: Severity, tier_assets: float) -> CappedSeverity:
    """Map an absolute-USD severity to one exchange: the loss is ``min(X, tier_assets)``.

    Parameters
    ----------
    severity : Severity
        Severity fitted to incident amounts across exchanges (currency units).
    tier_assets : float
        Assets held in the custody tier that the breach reaches (same currency).
    """
    return CappedSeverity(severity, tier_assets)


def exposure_severity(severity: Severity, tier_assets: Sequence[float] | float,
                      tier_weights: Sequence[float] | None = None) -> Severity:
    """The exchange's own severity when a breach hits one of several custody tiers.

    Parameters
    ----------
    severity : Severity
        Ground-up severity in absolute currency.
    tier_assets : float or sequence of float
        Assets in each custody tier (hot, warm, cold, ... ; currency units). A breach of tier
        ``j`` cannot take more than ``tier_assets[j]``.
    tier_weights : sequence of float, optional
        Probability that a breach reaches tier ``j`` (normalised). Required with more than one
        tier.

    Returns
    -------
    Severity
        :class:`CappedSeverity` for one tier, otherwise a :class:`MixtureSeverity` of capped
        severities.
    """
    assets = np.atleast_1d(np.asarray(tier_assets, dtype=float))
    if assets.ndim != 1 or assets.size == 0:
        raise InputError("give one asset amount per custody tier", field="tier_assets")
    if assets.size == 1:
        return cap_at_exposure(severity, float(assets[0]))
    if tier_weights is None:
        raise InputError("tier_weights are required with more than one custody tier", field="tier_weights")
    return MixtureSeverity(tuple(cap_at_exposure(severity, float(a)) for a in assets), tuple(tier_weights))


def exposure_pit(amounts: ArrayLike, victim_assets: ArrayLike, severity: Severity,
                 threshold: float = 0.0) -> np.ndarray:
    """Probability integral transform of observed losses under their own exposure-capped severity.

    For incidents with a known victim size, ``u_i = P(min(X, a_i) <= x_i | X > threshold)``
    should look uniform on (0, 1) when the capped severity is right (losses at the cap get the
    mid-point of the atom). Feed the result to a KS test or a histogram.

    Parameters
    ----------
    amounts : array of float
        Observed losses (currency units).
    victim_assets : array of float
        Assets of the custody tier hit, for each incident (same currency).
    severity : Severity
        Ground-up severity.
    threshold : float
        Reporting threshold of the data (left truncation).
    """
    x = np.asarray(amounts, dtype=float)
    a = np.asarray(victim_assets, dtype=float)
    if x.shape != a.shape:
        raise InputError("amounts and victim_assets must have the same length", field="victim_assets")
    if np.any(a <= 0) or np.any(~np.isfinite(a)):
        raise InputError("victim assets must be positive and finite", field="victim_assets")
    f_t = float(severity.cdf(threshold)) if threshold > 0 else 0.0
    s_t = 1.0 - f_t
    at_cap = x >= a * (1 - 1e-9)
    f_x = np.asarray(severity.cdf(np.minimum(x, a)), dtype=float)
    lower = (np.where(at_cap, np.asarray(severity.cdf(a)), f_x) - f_t) / s_t
    u = np.where(at_cap, 0.5 * (lower + 1.0), lower)
    return np.clip(u, 0.0, 1.0)


# --------------------------------------------------------------------------------------------
# Fitting with left truncation
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _FamilySpec:
    names: tuple[str, ...]
    to_natural: Callable[[np.ndarray], np.ndarray]
    jacobian: Callable[[np.ndarray], np.ndarray]  # d natural / d transformed (diagonal)
    build: Callable[[np.ndarray], Severity]
    start: Callable[[np.ndarray, float], list[np.ndarray]]


def _log_start(x: np.ndarray) -> tuple[float, float]:
    lx = np.log(x)
    return float(lx.mean()), float(max(lx.std(), 1e-3))


def _spec(family: str, splice_at: float | None) -> _FamilySpec:
    if family == "lognormal":
        return _FamilySpec(
            ("mu", "sigma"),
            lambda z: np.array([z[0], math.exp(z[1])]),
            lambda z: np.array([1.0, math.exp(z[1])]),
            lambda z: Lognormal(z[0], math.exp(z[1])),
            lambda x, t: [np.array([m, math.log(s)]) for m, s in
                          [_log_start(x), (_log_start(x)[0] - 1.0, _log_start(x)[1] * 1.5)]],
        )
    if family in ("lomax", "pareto2"):
        def lomax_start(x, t):
            med = float(np.median(x))
            return [np.log([a, max(med - t, med * 0.1) * s]) for a in (0.8, 1.5, 3.0) for s in (0.5, 2.0)]
        return _FamilySpec(
            ("alpha", "theta"),
            lambda z: np.exp(z),
            lambda z: np.exp(z),
            lambda z: Lomax(math.exp(z[0]), math.exp(z[1])),
            lomax_start,
        )
    if family == "weibull":
        def weibull_start(x, t):
            m = float(np.mean(x))
            return [np.log([k, m * s]) for k in (0.3, 0.7, 1.5) for s in (0.3, 1.0)]
        return _FamilySpec(
            ("shape", "scale"),
            lambda z: np.exp(z),
            lambda z: np.exp(z),
            lambda z: Weibull(math.exp(z[0]), math.exp(z[1])),
            weibull_start,
        )
    if family == "spliced":
        if splice_at is None:
            raise InputError("the spliced family needs a splice threshold", field="splice_at")
        u = float(splice_at)

        def build(z):
            return SplicedLognormalGPD(z[0], math.exp(z[1]), u, z[2], math.exp(z[3]), special.expit(z[4]))

        def spliced_start(x, t):
            m, s = _log_start(x)
            exc = x[x > u] - u
            p_obs = max(min(exc.size / x.size, 0.99), 1e-3)
            # translate the observed share above u into a ground-up one, via the body guess
            ln = Lognormal(m, s)
            s_t = float(ln.sf(t)) if t > 0 else 1.0
            p0 = float(np.clip(p_obs * s_t, 1e-6, 0.99))
            if exc.size >= 3:
                xi0, _, b0 = stats.genpareto.fit(exc, floc=0.0)
                xi0 = float(np.clip(xi0, -0.4, 1.5))
                b0 = max(float(b0), 1e-6 * u)
            else:
                xi0, b0 = 0.5, u
            return [np.array([m, math.log(s), xi0, math.log(b0), special.logit(p0)]),
                    np.array([m - 1.0, math.log(s * 1.3), xi0, math.log(b0), special.logit(p0)])]

        return _FamilySpec(
            ("mu", "sigma", "xi", "beta", "tail_prob"),
            lambda z: np.array([z[0], math.exp(z[1]), z[2], math.exp(z[3]), special.expit(z[4])]),
            lambda z: np.array([1.0, math.exp(z[1]), 1.0, math.exp(z[3]),
                                special.expit(z[4]) * (1 - special.expit(z[4]))]),
            build,
            spliced_start,
        )
    raise InputError(f"unknown severity family {family!r}; choose from {sorted(FAMILIES)}", field="family")


def _neg_loglik(sev: Severity, x: np.ndarray, threshold: float) -> float:
    ll = float(np.sum(sev.logpdf(x)))
    if threshold > 0:
        ll -= x.size * float(sev.logsf(threshold))
    return -ll if math.isfinite(ll) else math.inf


def _objective(spec: _FamilySpec, x: np.ndarray, threshold: float) -> Callable[[np.ndarray], float]:
    def f(z: np.ndarray) -> float:
        try:
            with np.errstate(all="ignore"), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return _neg_loglik(spec.build(z), x, threshold)
        except (InputError, ValueError, OverflowError, ZeroDivisionError):
            return math.inf
    return f


def _hessian(f: Callable[[np.ndarray], float], z: np.ndarray) -> np.ndarray:
    """Central-difference Hessian of ``f`` at ``z``."""
    k = z.size
    h = 1e-4 * np.maximum(1.0, np.abs(z))
    H = np.empty((k, k))
    f0 = f(z)
    for i in range(k):
        ei = np.zeros(k)
        ei[i] = h[i]
        H[i, i] = (f(z + ei) - 2 * f0 + f(z - ei)) / h[i] ** 2
        for j in range(i + 1, k):
            ej = np.zeros(k)
            ej[j] = h[j]
            H[i, j] = H[j, i] = (f(z + ei + ej) - f(z + ei - ej) - f(z - ei + ej) + f(z - ei - ej)) / (4 * h[i] * h[j])
    return H


def _minimise(f: Callable[[np.ndarray], float], starts: list[np.ndarray]) -> np.ndarray:
    best_z, best_v = None, math.inf
    for z0 in starts:
        if not math.isfinite(f(z0)):
            continue
        r = optimize.minimize(f, z0, method="Nelder-Mead",
                              options={"xatol": 1e-7, "fatol": 1e-9, "maxiter": 20000, "maxfev": 40000})
        z = r.x
        r2 = optimize.minimize(f, z, method="BFGS", options={"gtol": 1e-8})
        if math.isfinite(r2.fun) and r2.fun <= r.fun:
            z = r2.x
        v = f(z)
        if v < best_v:
            best_z, best_v = z, v
    if best_z is None:
        raise InputError("the likelihood is not finite at any starting point; check the data and threshold",
                         field="amounts")
    return best_z


@dataclass(frozen=True)
class GoodnessOfFit:
    """Goodness of fit of a severity to left-truncated data.

    Attributes
    ----------
    ks_statistic, ks_pvalue : float
        Kolmogorov-Smirnov distance to the truncated fitted CDF and its nominal p-value
        (optimistic: the parameters were estimated on the same data).
    ad_statistic : float
        Anderson-Darling :math:`A^2` against the truncated fitted CDF.
    qq_theoretical, qq_empirical : numpy.ndarray
        QQ-plot data: fitted truncated quantiles at plotting positions ``(i - 0.5)/n`` and the
        sorted amounts (currency units).
    """

    ks_statistic: float
    ks_pvalue: float
    ad_statistic: float
    qq_theoretical: np.ndarray = field(repr=False)
    qq_empirical: np.ndarray = field(repr=False)


def _truncated_cdf(sev: Severity, threshold: float) -> Callable[[np.ndarray], np.ndarray]:
    f_t = float(sev.cdf(threshold)) if threshold > 0 else 0.0
    s_t = 1.0 - f_t

    def cdf(x):
        return (np.asarray(sev.cdf(x), dtype=float) - f_t) / s_t
    return cdf


def goodness_of_fit(severity: Severity, amounts: ArrayLike, threshold: float = 0.0) -> GoodnessOfFit:
    """KS, Anderson-Darling and QQ data of ``severity`` (left-truncated at ``threshold``)."""
    x = np.sort(np.asarray(amounts, dtype=float))
    n = x.size
    cdf = _truncated_cdf(severity, threshold)
    ks = stats.kstest(x, cdf)
    u = np.clip(cdf(x), 1e-300, 1 - 1e-16)
    i = np.arange(1, n + 1)
    ad = -n - np.sum((2 * i - 1) * (np.log(u) + np.log1p(-u[::-1]))) / n
    f_t = float(severity.cdf(threshold)) if threshold > 0 else 0.0
    pp = (i - 0.5) / n
    qq = np.asarray(severity.ppf(f_t + pp * (1 - f_t)), dtype=float)
    for arr in (qq, x):
        arr.setflags(write=False)
    return GoodnessOfFit(float(ks.statistic), float(ks.pvalue), float(ad), qq, x)


@dataclass(frozen=True)
class BootstrapResult:
    """Parametric bootstrap of a severity fit.

    Attributes
    ----------
    names : tuple of str
        Parameter names (columns of ``samples``).
    samples : numpy.ndarray
        ``(n_boot, n_params)`` refitted parameters.
    cov : numpy.ndarray
        Bootstrap covariance of the parameters.
    seed : int or None
        The seed used.
    """

    names: tuple[str, ...]
    samples: np.ndarray = field(repr=False)
    cov: np.ndarray = field(repr=False)
    seed: int | None = None

    def interval(self, level: float = 0.95) -> dict[str, tuple[float, float]]:
        """Percentile confidence interval of each parameter."""
        a = (1 - _check_level(level)) / 2
        lo, hi = np.quantile(self.samples, [a, 1 - a], axis=0)
        return {n: (float(lo[j]), float(hi[j])) for j, n in enumerate(self.names)}

    def severities(self, family: str, fixed: Mapping[str, float] | None = None) -> list[Severity]:
        """The bootstrapped severities, e.g. to propagate parameter uncertainty to prices."""
        fixed = dict(fixed or {})
        return [make_severity(family, **fixed, **dict(zip(self.names, row, strict=True))) for row in self.samples]


@dataclass(frozen=True)
class SeverityFit:
    """Result of :func:`fit_severity` (immutable).

    Attributes
    ----------
    family : str
        Family name.
    severity : Severity
        The fitted ground-up severity (currency units).
    threshold : float
        Reporting threshold used for left truncation (currency units).
    n : int
        Number of amounts fitted.
    loglik, aic, bic : float
        Truncated log-likelihood and information criteria.
    names : tuple of str
        Names of the estimated parameters (``splice threshold`` is fixed, not estimated).
    cov : numpy.ndarray
        Observed-information covariance of the estimated parameters (natural scale, delta
        method from the optimiser's transformed scale); ``nan`` if the Hessian is singular.
    gof : GoodnessOfFit
        KS, Anderson-Darling and QQ data.
    """

    family: str
    severity: Severity
    threshold: float
    n: int
    loglik: float
    aic: float
    bic: float
    names: tuple[str, ...]
    cov: np.ndarray = field(repr=False)
    gof: GoodnessOfFit = field(repr=False)
    _amounts: np.ndarray = field(repr=False, compare=False, default=None)
    _splice_at: float | None = field(repr=False, compare=False, default=None)
    _z: np.ndarray | None = field(repr=False, compare=False, default=None)

    @property
    def params(self) -> dict[str, float]:
        """Estimated parameters."""
        return {n: self.severity.params[n] for n in self.names}

    @property
    def se(self) -> dict[str, float]:
        """Standard errors from the observed information."""
        d = np.sqrt(np.clip(np.diag(self.cov), 0, None)) if np.all(np.isfinite(self.cov)) else np.full(len(self.names), np.nan)
        return {n: float(v) for n, v in zip(self.names, d, strict=True)}

    def bootstrap(self, n_boot: int = 200, random_state: int | None = 0) -> BootstrapResult:
        """Parametric bootstrap: simulate truncated samples from the fit and refit each.

        Parameters
        ----------
        n_boot : int
            Number of bootstrap samples.
        random_state : int or None
            Seed of the numpy Generator (results are reproducible for a given seed).
        """
        if n_boot < 2:
            raise InputError("need at least 2 bootstrap samples", field="n_boot")
        rng = _rng(random_state)
        sev, t = self.severity, self.threshold
        f_t = float(sev.cdf(t)) if t > 0 else 0.0
        rows = []
        for _ in range(int(n_boot)):
            u = f_t + rng.random(self.n) * (1 - f_t)
            sample = np.asarray(sev.ppf(u), dtype=float)
            try:
                refit = fit_severity(sample, t, self.family, splice_at=self._splice_at, _gof=False,
                                     _start=self._z, _cov=False)
            except InputError:
                continue
            rows.append([refit.severity.params[n] for n in self.names])
        samples = np.asarray(rows)
        samples.setflags(write=False)
        cov = np.cov(samples, rowvar=False)
        return BootstrapResult(self.names, samples, np.atleast_2d(cov),
                               random_state if isinstance(random_state, int) else None)

    def summary(self) -> dict[str, Any]:
        """Plain-data summary (JSON-ready)."""
        return {"family": self.family, "params": self.params, "se": self.se, "threshold": self.threshold,
                "n": self.n, "loglik": self.loglik, "aic": self.aic, "bic": self.bic,
                "ks_statistic": self.gof.ks_statistic, "ks_pvalue": self.gof.ks_pvalue,
                "ad_statistic": self.gof.ad_statistic}


def _validate_amounts(amounts: ArrayLike, threshold: float) -> tuple[np.ndarray, float]:
    x = np.asarray(amounts, dtype=float).reshape(-1)
    t = float(threshold)
    if not math.isfinite(t) or t < 0:
        raise InputError(f"must be a non-negative finite amount, got {threshold!r}", field="threshold")
    if x.size < 5:
        raise InputError(f"need at least 5 loss amounts to fit, got {x.size}", field="amounts")
    if np.any(~np.isfinite(x)) or np.any(x <= 0):
        raise InputError("loss amounts must be positive and finite", field="amounts")
    if np.any(x < t):
        raise InputError(f"{int(np.sum(x < t))} amount(s) fall below the reporting threshold {t:,.0f}",
                         field="amounts")
    return x, t


def fit_severity(amounts: ArrayLike, threshold: float = 0.0, family: str = "lognormal", *,
                 splice_at: float | None = None, _gof: bool = True, _start: np.ndarray | None = None,
                 _cov: bool = True) -> SeverityFit:
    """Maximum-likelihood fit of a severity to amounts reported only above ``threshold``.

    The likelihood is the left-truncated one, :math:`\\prod_i f(x_i)/S(t)`: incidents below
    the reporting threshold were never recorded, so ignoring the truncation biases the fit
    towards large losses.

    Parameters
    ----------
    amounts : array of float
        Loss amounts (currency units), all ``>= threshold``.
    threshold : float
        Reporting threshold (currency units); 0 for no truncation.
    family : {"lognormal", "lomax", "weibull", "spliced"}
        Family to fit.
    splice_at : float, optional
        Splice point of the ``spliced`` family (currency units); default the 80th percentile of
        the amounts (so that the GPD tail sees the largest 20%).

    Returns
    -------
    SeverityFit
    """
    x, t = _validate_amounts(amounts, threshold)
    family = family.strip().lower()
    if family == "spliced" and splice_at is None:
        splice_at = float(np.quantile(x, 0.8))
    if family == "spliced" and not (splice_at > t):
        raise InputError("splice_at must be above the reporting threshold", field="splice_at")
    spec = _spec(family, splice_at)
    f = _objective(spec, x, t)
    z = _minimise(f, [np.asarray(_start)] if _start is not None else spec.start(x, t))
    sev = spec.build(z)
    nll = f(z)
    k = len(spec.names)
    try:
        if not _cov:
            raise ValueError("covariance not requested")
        H = _hessian(f, z)
        cov_z = np.linalg.inv(H)
        if not np.all(np.isfinite(cov_z)) or np.any(np.diag(cov_z) < 0):
            raise np.linalg.LinAlgError
        J = np.diag(spec.jacobian(z))
        cov = J @ cov_z @ J.T
    except (np.linalg.LinAlgError, ValueError):
        cov = np.full((k, k), np.nan)
    cov.setflags(write=False)
    gof = goodness_of_fit(sev, x, t) if _gof else GoodnessOfFit(math.nan, math.nan, math.nan, np.empty(0), np.empty(0))
    x_ro = x.copy()
    x_ro.setflags(write=False)
    return SeverityFit(family=spec.build(z).family if family != "pareto2" else "lomax", severity=sev,
                       threshold=t, n=x.size, loglik=-nll, aic=2 * k + 2 * nll,
                       bic=k * math.log(x.size) + 2 * nll, names=spec.names, cov=cov, gof=gof,
                       _amounts=x_ro, _splice_at=splice_at, _z=np.asarray(z, dtype=float))


@dataclass(frozen=True)
class SeveritySelection:
    """Fits of several families ranked by AIC (best first)."""

    fits: tuple[SeverityFit, ...]

    @property
    def best(self) -> SeverityFit:
        """The fit with the lowest AIC."""
        return self.fits[0]

    def table(self) -> list[dict[str, Any]]:
        """One plain-data row per family: AIC, BIC, delta-AIC, Akaike weight, KS, AD."""
        aics = np.array([f.aic for f in self.fits])
        d = aics - aics.min()
        w = np.exp(-d / 2)
        w /= w.sum()
        return [{**f.summary(), "delta_aic": float(di), "akaike_weight": float(wi)}
                for f, di, wi in zip(self.fits, d, w, strict=True)]


def select_severity(amounts: ArrayLike, threshold: float = 0.0,
                    families: Sequence[str] = ("lognormal", "lomax", "weibull", "spliced"),
                    **kwargs: Any) -> SeveritySelection:
    """Fit each family (left-truncated MLE) and rank by AIC; families that fail are skipped."""
    fits = []
    errors = []
    for fam in families:
        try:
            fits.append(fit_severity(amounts, threshold, fam, **kwargs))
        except InputError as exc:
            if exc.field in ("amounts", "threshold"):
                raise
            errors.append(f"{fam}: {exc}")
    if not fits:
        raise InputError("no family could be fitted: " + "; ".join(errors), field="family")
    return SeveritySelection(tuple(sorted(fits, key=lambda f: f.aic)))


class SeverityEstimator:
    """scikit-learn-style wrapper around :func:`fit_severity`.

    Parameters
    ----------
    family : str
        Severity family, or ``"auto"`` for selection by AIC.
    threshold : float
        Reporting threshold (left truncation), currency units.

    Attributes
    ----------
    fit_ : SeverityFit
        Set by :meth:`fit`.
    severity_ : Severity
        The fitted distribution.
    """

    def __init__(self, family: str = "lognormal", threshold: float = 0.0):
        self.family = family
        self.threshold = threshold

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        return {"family": self.family, "threshold": self.threshold}

    def set_params(self, **params: Any) -> SeverityEstimator:
        for k, v in params.items():
            setattr(self, k, v)
        return self

    def fit(self, X: ArrayLike, y: Any = None) -> SeverityEstimator:
        """Fit to loss amounts ``X`` (1-D, or a single-column 2-D array)."""
        x = np.asarray(X, dtype=float).reshape(-1)
        if self.family == "auto":
            self.fit_ = select_severity(x, self.threshold).best
        else:
            self.fit_ = fit_severity(x, self.threshold, self.family)
        self.severity_ = self.fit_.severity
        return self

    def score(self, X: ArrayLike, y: Any = None) -> float:
        """Mean truncated log-likelihood per amount (higher is better)."""
        x = np.asarray(X, dtype=float).reshape(-1)
        return -_neg_loglik(self.severity_, x, float(self.threshold)) / x.size
