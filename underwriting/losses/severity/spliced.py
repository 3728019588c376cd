"""Spliced severity: lognormal body and generalised Pareto tail (currency units)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property
from typing import Any, ClassVar

import numpy as np
from scipy import special, stats

from underwriting.errors import InputError
from underwriting.losses.severity.base import (
    FitSpec,
    Severity,
    _check_finite,
    _check_positive,
)
from underwriting.losses.severity.families import Lognormal, log_start
from underwriting.losses.severity.registry import register_family


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


@register_family
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

    @classmethod
    def fit_spec(cls, amounts: np.ndarray, threshold: float, *, splice_at: float | None = None,
                 **options: Any) -> FitSpec:
        """Fitted on (mu, log sigma, xi, log beta, logit tail_prob) with the splice point fixed at
        ``splice_at`` (currency units; default the 80th percentile of the amounts, so that the GPD
        tail sees the largest 20%), which must lie above the reporting threshold."""
        x, t = np.asarray(amounts, dtype=float), float(threshold)
        u = float(np.quantile(x, 0.8)) if splice_at is None else float(splice_at)
        if not u > t:
            raise InputError("splice_at must be above the reporting threshold", field="splice_at")

        def build(z):
            return SplicedLognormalGPD(z[0], math.exp(z[1]), u, z[2], math.exp(z[3]), special.expit(z[4]))

        def start(x, t):
            m, s = log_start(x)
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

        return FitSpec(
            ("mu", "sigma", "xi", "beta", "tail_prob"),
            lambda z: np.array([z[0], math.exp(z[1]), z[2], math.exp(z[3]), special.expit(z[4])]),
            lambda z: np.array([1.0, math.exp(z[1]), 1.0, math.exp(z[3]),
                                special.expit(z[4]) * (1 - special.expit(z[4]))]),
            build,
            start,
            {"splice_at": u},
        )

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
