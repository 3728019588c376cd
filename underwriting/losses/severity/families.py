"""Parametric severity families: lognormal, Lomax (Pareto II), Weibull (currency units)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property
from typing import Any, ClassVar

import numpy as np
from scipy import special, stats

from underwriting.losses.severity.base import (
    FitSpec,
    Severity,
    _check_finite,
    _check_level,
    _check_positive,
    _rng,
    _ScipyBacked,
)
from underwriting.losses.severity.registry import register_family


def log_start(x: np.ndarray) -> tuple[float, float]:
    """Mean and standard deviation (at least 1e-3) of ``log(x)``: a starting point of the fits."""
    lx = np.log(x)
    return float(lx.mean()), float(max(lx.std(), 1e-3))


# --------------------------------------------------------------------------------------------
# Lognormal
# --------------------------------------------------------------------------------------------
@register_family
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

    @classmethod
    def fit_spec(cls, amounts: np.ndarray, threshold: float, **options: Any) -> FitSpec:
        """Fitted on (mu, log sigma)."""
        return FitSpec(
            ("mu", "sigma"),
            lambda z: np.array([z[0], math.exp(z[1])]),
            lambda z: np.array([1.0, math.exp(z[1])]),
            lambda z: Lognormal(z[0], math.exp(z[1])),
            lambda x, t: [np.array([m, math.log(s)]) for m, s in
                          [log_start(x), (log_start(x)[0] - 1.0, log_start(x)[1] * 1.5)]],
        )

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
@register_family(aliases=("pareto2",))
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

    @classmethod
    def fit_spec(cls, amounts: np.ndarray, threshold: float, **options: Any) -> FitSpec:
        """Fitted on (log alpha, log theta)."""
        def start(x, t):
            med = float(np.median(x))
            return [np.log([a, max(med - t, med * 0.1) * s]) for a in (0.8, 1.5, 3.0) for s in (0.5, 2.0)]
        return FitSpec(("alpha", "theta"), np.exp, np.exp, lambda z: Lomax(math.exp(z[0]), math.exp(z[1])), start)

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


class _UpperMomentStopLoss:
    """Stop-loss moments from a family's upper partial moments :math:`E[X^k; X > a]` (``_upper_moment``):
    :math:`E[(X-a)_+] = E[X; X>a] - a S(a)` and :math:`E[(X-a)_+^2] = E[X^2; X>a] - 2aE[X; X>a] + a^2 S(a)`."""

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


# --------------------------------------------------------------------------------------------
# Weibull
# --------------------------------------------------------------------------------------------
@register_family
@dataclass(frozen=True, repr=False)
class Weibull(_UpperMomentStopLoss, _ScipyBacked, Severity):
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

    @classmethod
    def fit_spec(cls, amounts: np.ndarray, threshold: float, **options: Any) -> FitSpec:
        """Fitted on (log shape, log scale)."""
        def start(x, t):
            m = float(np.mean(x))
            return [np.log([k, m * s]) for k in (0.3, 0.7, 1.5) for s in (0.3, 1.0)]
        return FitSpec(("shape", "scale"), np.exp, np.exp, lambda z: Weibull(math.exp(z[0]), math.exp(z[1])), start)

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
# Gamma
# --------------------------------------------------------------------------------------------
@register_family
@dataclass(frozen=True, repr=False)
class Gamma(_UpperMomentStopLoss, _ScipyBacked, Severity):
    """Gamma severity: density :math:`x^{k-1}e^{-x/\\theta}/(\\Gamma(k)\\theta^k)`.

    Closed forms (with :math:`P` and :math:`Q = 1 - P` the regularised incomplete gamma
    functions): :math:`E[X^m] = \\theta^m\\Gamma(k+m)/\\Gamma(k)`,
    :math:`E[(X\\wedge u)^m] = E[X^m]P(k+m, u/\\theta) + u^m Q(k, u/\\theta)` and
    :math:`E[X^m; X > a] = E[X^m]Q(k+m, a/\\theta)`.

    Parameters
    ----------
    shape : float
        Shape :math:`k` (> 0); ``shape=1`` is the exponential distribution.
    scale : float
        Scale :math:`\\theta` in currency units (> 0); the mean is :math:`k\\theta`.
    """

    shape: float
    scale: float
    family: ClassVar[str] = "gamma"

    @classmethod
    def fit_spec(cls, amounts: np.ndarray, threshold: float, **options: Any) -> FitSpec:
        """Fitted on (log shape, log scale)."""
        def start(x, t):
            m, v = float(np.mean(x)), float(np.var(x))
            k0 = max(m * m / max(v, 1e-300), 1e-3)
            return [np.log([k * k0, m / (k * k0)]) for k in (0.3, 1.0, 3.0)] + [np.log([0.5, 2 * m])]
        return FitSpec(("shape", "scale"), np.exp, np.exp, lambda z: Gamma(math.exp(z[0]), math.exp(z[1])), start)

    def __post_init__(self) -> None:
        object.__setattr__(self, "shape", _check_positive("shape", self.shape))
        object.__setattr__(self, "scale", _check_positive("scale", self.scale))

    @property
    def params(self) -> dict[str, float]:
        return {"shape": self.shape, "scale": self.scale}

    @cached_property
    def _dist(self):
        return stats.gamma(a=self.shape, scale=self.scale)

    def logpdf(self, x):
        out = np.asarray(self._dist.logpdf(x), dtype=float)
        return out if out.ndim else float(out)

    def logsf(self, x):
        out = np.asarray(self._dist.logsf(x), dtype=float)
        return out if out.ndim else float(out)

    def moment(self, k: int = 1) -> float:
        return float(math.exp(k * math.log(self.scale) + special.gammaln(self.shape + k) - special.gammaln(self.shape)))

    def _upper_moment(self, a, k: int):
        y = np.maximum(np.asarray(a, dtype=float), 0.0) / self.scale
        return self.moment(k) * special.gammaincc(self.shape + k, y)

    def limited_moment(self, u, k: int = 1):
        """Closed form :math:`E[X^k]P(\\alpha+k, u/\\theta) + u^k Q(\\alpha, u/\\theta)`."""
        u_arr = np.maximum(np.asarray(u, dtype=float), 0.0)
        with np.errstate(over="ignore", invalid="ignore"):
            y = u_arr / self.scale
            tail = np.where(np.isinf(u_arr), 0.0, np.where(np.isinf(u_arr), 0.0, u_arr) ** k
                            * special.gammaincc(self.shape, y))
            out = self.moment(k) * special.gammainc(self.shape + k, y) + tail
        return out if out.ndim else float(out)
